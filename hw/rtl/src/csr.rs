//! `csr` — the global control/status registers and the BAR0 address decoder.
//!
//! Takes the register requests of `axil_reg_if` and
//! * answers the global block itself: identification, control (enable, soft
//!   reset), MTU, error status/info/vector, RSS control and key, the RSS
//!   indirection table (RETA), the global counters;
//! * forwards the MSI-X window to `msix` (`m_msix_*`) and the RX/TX queue windows
//!   to the queue blocks (`m_q_*`), relaying their answers;
//! * answers every other offset itself: writes ignored, reads 0.
//!
//! Offsets, reset values and ranges come from `oxnic-regs`; `tests/csr.rs` walks
//! the map's register table and checks every reset value and access kind.
//!
//! Defined reactions to bad values (ERR_STATUS.CONFIG is set, the write ignored):
//! MTU above `MAX_MTU`, ERR_VECTOR at or above the vector count, a RETA entry
//! naming a queue at or above the queue count.
//!
//! Datapath side: `enable`, `mtu`, `rss_ctrl`, `rss_key` (byte 0 in bits
//! 319:312), a RETA lookup port (`reta_index` → `reta_queue`, one cycle), error
//! reports (`err_set` strobes with `err_queue_info`/`err_addr`), counter
//! increments (`cnt_inc`, one bit per counter in map order: RX_FRAMES,
//! RX_DROP_QUEUE_DISABLED, RX_DROP_NO_DESC, RX_DROP_RUNT, RX_DROP_OVERSIZE,
//! RX_DROP_MAC_ERROR, RX_DROP_DMA_ERROR, TX_FRAMES, TX_ERRORS), and the error
//! interrupt request (`m_err_irq_*`, raised when an enabled ERR_STATUS bit goes
//! from 0 to 1).
//!
//! Soft reset (CTRL.SOFT_RESET) pulses `soft_reset` for one cycle and returns the
//! registers here to their reset values (the RETA by a sweep, `busy` meanwhile);
//! CTRL.SOFT_RESET reads 1 while `reset_busy` (the other blocks' sweeps) is high.

use oxnic_regs::{
    global, msix, MAX_MTU, MAX_QUEUES, QUEUE_STRIDE, RSS_RETA_ENTRIES, RX_QUEUE_BASE, TX_QUEUE_BASE,
};
use rust_hdl::prelude::*;

/// Width of BAR0 byte offsets.
pub const ADDR_BITS: usize = 19;
const A: usize = ADDR_BITS;

fn addr(v: u32) -> Constant<Bits<A>> {
    Constant::new((v as u64).to_bits())
}

/// Global registers and BAR0 decoder for `2^QW` queues at most.
#[derive(LogicBlock)]
pub struct Csr<const QW: usize> {
    /// Clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset, active high.
    pub rst: Signal<In, Bit>,
    /// Register write request (from axil_reg_if).
    pub s_reg_wr_en: Signal<In, Bit>,
    /// Register write byte address.
    pub s_reg_wr_addr: Signal<In, Bits<A>>,
    /// Register write data.
    pub s_reg_wr_data: Signal<In, Bits<32>>,
    /// Register write done.
    pub s_reg_wr_ack: Signal<Out, Bit>,
    /// Register read request.
    pub s_reg_rd_en: Signal<In, Bit>,
    /// Register read byte address.
    pub s_reg_rd_addr: Signal<In, Bits<A>>,
    /// Register read data (with the acknowledge).
    pub s_reg_rd_data: Signal<Out, Bits<32>>,
    /// Register read done.
    pub s_reg_rd_ack: Signal<Out, Bit>,
    /// MSI-X window: write offered (to msix s_wr_*).
    pub m_msix_wr_valid: Signal<Out, Bit>,
    /// MSI-X write taken.
    pub m_msix_wr_ready: Signal<In, Bit>,
    /// MSI-X window: read offered (to msix s_rd_*).
    pub m_msix_rd_valid: Signal<Out, Bit>,
    /// MSI-X read taken.
    pub m_msix_rd_ready: Signal<In, Bit>,
    /// MSI-X read answer valid (from msix m_rd_valid).
    pub s_msix_rd_valid: Signal<In, Bit>,
    /// MSI-X read answer.
    pub s_msix_rd_data: Signal<In, Bits<32>>,
    /// Queue windows: write request (held until acknowledged).
    pub m_q_wr_en: Signal<Out, Bit>,
    /// Queue windows: write done.
    pub m_q_wr_ack: Signal<In, Bit>,
    /// Queue windows: read request (held until acknowledged).
    pub m_q_rd_en: Signal<Out, Bit>,
    /// Queue windows: read done.
    pub m_q_rd_ack: Signal<In, Bit>,
    /// Queue windows: read data.
    pub m_q_rd_data: Signal<In, Bits<32>>,
    /// Receive path enabled (CTRL.ENABLE).
    pub enable: Signal<Out, Bit>,
    /// Soft reset requested (one cycle).
    pub soft_reset: Signal<Out, Bit>,
    /// Another block is still sweeping after a reset.
    pub reset_busy: Signal<In, Bit>,
    /// No DMA outstanding (STATUS.QUIESCENT).
    pub quiescent: Signal<In, Bit>,
    /// MTU in bytes.
    pub mtu: Signal<Out, Bits<16>>,
    /// RSS_CTRL bits 6:0.
    pub rss_ctrl: Signal<Out, Bits<7>>,
    /// RSS key, byte 0 in bits 319:312.
    pub rss_key: Signal<Out, Bits<320>>,
    /// RETA lookup index (low 7 bits of the hash).
    pub reta_index: Signal<In, Bits<7>>,
    /// Queue of `reta_index`, one cycle later.
    pub reta_queue: Signal<Out, Bits<QW>>,
    /// Error report strobes, one per ERR_STATUS bit.
    pub err_set: Signal<In, Bits<4>>,
    /// ERR_INFO value reported with the error (queue in 15:0, TX in 16).
    pub err_queue_info: Signal<In, Bits<17>>,
    /// Failing DMA address reported with the error.
    pub err_addr: Signal<In, Bits<64>>,
    /// Counter increment strobes (see the module doc for the order).
    pub cnt_inc: Signal<In, Bits<9>>,
    /// Error interrupt request.
    pub m_err_irq_valid: Signal<Out, Bit>,
    /// Error interrupt taken.
    pub m_err_irq_ready: Signal<In, Bit>,
    /// Vector of the error interrupt (ERR_VECTOR).
    pub m_err_irq_vector: Signal<Out, Bits<12>>,
    /// Reset sweep of the RETA in progress.
    pub busy: Signal<Out, Bit>,
    reta: RAM<Bits<QW>, 7>,
    reta_shadow: RAM<Bits<QW>, 7>,
    initialized: DFF<Bit>,
    sweep: DFF<Bits<7>>,
    enable_reg: DFF<Bit>,
    soft_reset_pulse: DFF<Bit>,
    mtu_reg: DFF<Bits<16>>,
    err_vector: DFF<Bits<12>>,
    err_status: DFF<Bits<4>>,
    err_info: DFF<Bits<17>>,
    err_addr_lo: DFF<Bits<32>>,
    err_addr_hi: DFF<Bits<32>>,
    err_irq_enable: DFF<Bits<4>>,
    err_irq_pending: DFF<Bit>,
    rss_ctrl_reg: DFF<Bits<7>>,
    rd_wait: DFF<Bit>,
    msix_rd_sent: DFF<Bit>,
    key0: DFF<Bits<32>>,
    key1: DFF<Bits<32>>,
    key2: DFF<Bits<32>>,
    key3: DFF<Bits<32>>,
    key4: DFF<Bits<32>>,
    key5: DFF<Bits<32>>,
    key6: DFF<Bits<32>>,
    key7: DFF<Bits<32>>,
    key8: DFF<Bits<32>>,
    key9: DFF<Bits<32>>,
    cnt0: DFF<Bits<32>>,
    cnt1: DFF<Bits<32>>,
    cnt2: DFF<Bits<32>>,
    cnt3: DFF<Bits<32>>,
    cnt4: DFF<Bits<32>>,
    cnt5: DFF<Bits<32>>,
    cnt6: DFF<Bits<32>>,
    cnt7: DFF<Bits<32>>,
    cnt8: DFF<Bits<32>>,
    id_value: Constant<Bits<32>>,
    version_value: Constant<Bits<32>>,
    caps_value: Constant<Bits<32>>,
    clock_value: Constant<Bits<32>>,
    mtu_reset: Constant<Bits<16>>,
    mtu_max: Constant<Bits<16>>,
    rss_ctrl_reset: Constant<Bits<7>>,
    last_vector: Constant<Bits<12>>,
    last_queue: Constant<Bits<16>>,
    a_id: Constant<Bits<A>>,
    a_version: Constant<Bits<A>>,
    a_caps: Constant<Bits<A>>,
    a_clock_mhz: Constant<Bits<A>>,
    a_ctrl: Constant<Bits<A>>,
    a_status: Constant<Bits<A>>,
    a_mtu: Constant<Bits<A>>,
    a_err_vector: Constant<Bits<A>>,
    a_err_status: Constant<Bits<A>>,
    a_err_info: Constant<Bits<A>>,
    a_err_addr_lo: Constant<Bits<A>>,
    a_err_addr_hi: Constant<Bits<A>>,
    a_err_irq_enable: Constant<Bits<A>>,
    a_rss_ctrl: Constant<Bits<A>>,
    a_reta: Constant<Bits<A>>,
    a_reta_end: Constant<Bits<A>>,
    a_global_end: Constant<Bits<A>>,
    a_msix: Constant<Bits<A>>,
    a_msix_end: Constant<Bits<A>>,
    a_queues: Constant<Bits<A>>,
    a_queues_end: Constant<Bits<A>>,
    a_key0: Constant<Bits<A>>,
    a_key1: Constant<Bits<A>>,
    a_key2: Constant<Bits<A>>,
    a_key3: Constant<Bits<A>>,
    a_key4: Constant<Bits<A>>,
    a_key5: Constant<Bits<A>>,
    a_key6: Constant<Bits<A>>,
    a_key7: Constant<Bits<A>>,
    a_key8: Constant<Bits<A>>,
    a_key9: Constant<Bits<A>>,
    a_cnt0: Constant<Bits<A>>,
    a_cnt1: Constant<Bits<A>>,
    a_cnt2: Constant<Bits<A>>,
    a_cnt3: Constant<Bits<A>>,
    a_cnt4: Constant<Bits<A>>,
    a_cnt5: Constant<Bits<A>>,
    a_cnt6: Constant<Bits<A>>,
    a_cnt7: Constant<Bits<A>>,
    a_cnt8: Constant<Bits<A>>,
    wr_global: Signal<Local, Bit>,
    wr_reta: Signal<Local, Bit>,
    wr_msix: Signal<Local, Bit>,
    wr_queue: Signal<Local, Bit>,
    rd_global: Signal<Local, Bit>,
    rd_reta: Signal<Local, Bit>,
    rd_msix: Signal<Local, Bit>,
    rd_queue: Signal<Local, Bit>,
    wr_rel: Signal<Local, Bits<A>>,
    rd_rel: Signal<Local, Bits<A>>,
    wr_local: Signal<Local, Bit>,
    config_error: Signal<Local, Bit>,
    new_errors: Signal<Local, Bits<4>>,
    local_rd_data: Signal<Local, Bits<32>>,
    do_reset: Signal<Local, Bit>,
}

impl<const QW: usize> Csr<QW> {
    /// A register file for `queues` queues, `vectors` MSI-X vectors, `clock_mhz`.
    pub fn new(queues: u32, vectors: u32, clock_mhz: u32) -> Self {
        assert!(queues >= 1 && queues as u64 <= 1 << QW && queues <= MAX_QUEUES);
        let reg = |name: &str| global::REGISTERS.iter().find(|r| r.name == name).unwrap();
        let params = |p: &str| match p {
            oxnic_regs::PARAM_QUEUES => queues,
            oxnic_regs::PARAM_VECTORS => vectors,
            oxnic_regs::PARAM_CLOCK_MHZ => clock_mhz,
            _ => panic!("unknown generation parameter {p}"),
        };
        let c32 = |v: u32| Constant::new((v as u64).to_bits());
        Self {
            clk: Default::default(),
            rst: Default::default(),
            s_reg_wr_en: Default::default(),
            s_reg_wr_addr: Default::default(),
            s_reg_wr_data: Default::default(),
            s_reg_wr_ack: Default::default(),
            s_reg_rd_en: Default::default(),
            s_reg_rd_addr: Default::default(),
            s_reg_rd_data: Default::default(),
            s_reg_rd_ack: Default::default(),
            m_msix_wr_valid: Default::default(),
            m_msix_wr_ready: Default::default(),
            m_msix_rd_valid: Default::default(),
            m_msix_rd_ready: Default::default(),
            s_msix_rd_valid: Default::default(),
            s_msix_rd_data: Default::default(),
            m_q_wr_en: Default::default(),
            m_q_wr_ack: Default::default(),
            m_q_rd_en: Default::default(),
            m_q_rd_ack: Default::default(),
            m_q_rd_data: Default::default(),
            enable: Default::default(),
            soft_reset: Default::default(),
            reset_busy: Default::default(),
            quiescent: Default::default(),
            mtu: Default::default(),
            rss_ctrl: Default::default(),
            rss_key: Default::default(),
            reta_index: Default::default(),
            reta_queue: Default::default(),
            err_set: Default::default(),
            err_queue_info: Default::default(),
            err_addr: Default::default(),
            cnt_inc: Default::default(),
            m_err_irq_valid: Default::default(),
            m_err_irq_ready: Default::default(),
            m_err_irq_vector: Default::default(),
            busy: Default::default(),
            reta: Default::default(),
            reta_shadow: Default::default(),
            initialized: Default::default(),
            sweep: Default::default(),
            enable_reg: Default::default(),
            soft_reset_pulse: Default::default(),
            mtu_reg: Default::default(),
            err_vector: Default::default(),
            err_status: Default::default(),
            err_info: Default::default(),
            err_addr_lo: Default::default(),
            err_addr_hi: Default::default(),
            err_irq_enable: Default::default(),
            err_irq_pending: Default::default(),
            rss_ctrl_reg: Default::default(),
            rd_wait: Default::default(),
            msix_rd_sent: Default::default(),
            key0: Default::default(),
            key1: Default::default(),
            key2: Default::default(),
            key3: Default::default(),
            key4: Default::default(),
            key5: Default::default(),
            key6: Default::default(),
            key7: Default::default(),
            key8: Default::default(),
            key9: Default::default(),
            cnt0: Default::default(),
            cnt1: Default::default(),
            cnt2: Default::default(),
            cnt3: Default::default(),
            cnt4: Default::default(),
            cnt5: Default::default(),
            cnt6: Default::default(),
            cnt7: Default::default(),
            cnt8: Default::default(),
            id_value: c32(reg("ID").reset_value(params)),
            version_value: c32(reg("VERSION").reset_value(params)),
            caps_value: c32(reg("CAPS").reset_value(params)),
            clock_value: c32(reg("CLOCK_MHZ").reset_value(params)),
            mtu_reset: Constant::new((reg("MTU").reset_value(params) as u64).to_bits()),
            mtu_max: Constant::new((MAX_MTU as u64).to_bits()),
            rss_ctrl_reset: Constant::new((reg("RSS_CTRL").reset_value(params) as u64).to_bits()),
            last_vector: Constant::new(((vectors - 1) as u64).to_bits()),
            last_queue: Constant::new(((queues - 1) as u64).to_bits()),
            a_id: addr(global::ID),
            a_version: addr(global::VERSION),
            a_caps: addr(global::CAPS),
            a_clock_mhz: addr(global::CLOCK_MHZ),
            a_ctrl: addr(global::CTRL),
            a_status: addr(global::STATUS),
            a_mtu: addr(global::MTU),
            a_err_vector: addr(global::ERR_VECTOR),
            a_err_status: addr(global::ERR_STATUS),
            a_err_info: addr(global::ERR_INFO),
            a_err_addr_lo: addr(global::ERR_ADDR_LO),
            a_err_addr_hi: addr(global::ERR_ADDR_HI),
            a_err_irq_enable: addr(global::ERR_IRQ_ENABLE),
            a_rss_ctrl: addr(global::RSS_CTRL),
            a_reta: addr(global::RSS_RETA),
            a_reta_end: addr(global::RSS_RETA + 4 * RSS_RETA_ENTRIES),
            a_global_end: addr(global::RSS_RETA + 4 * RSS_RETA_ENTRIES),
            a_msix: addr(msix::TABLE_OFFSET),
            a_msix_end: addr(msix::CTRL_OFFSET + 4),
            a_queues: addr(RX_QUEUE_BASE),
            a_queues_end: addr(TX_QUEUE_BASE + MAX_QUEUES * QUEUE_STRIDE),
            a_key0: addr(global::RSS_KEY),
            a_key1: addr(global::RSS_KEY + 4),
            a_key2: addr(global::RSS_KEY + 8),
            a_key3: addr(global::RSS_KEY + 12),
            a_key4: addr(global::RSS_KEY + 16),
            a_key5: addr(global::RSS_KEY + 20),
            a_key6: addr(global::RSS_KEY + 24),
            a_key7: addr(global::RSS_KEY + 28),
            a_key8: addr(global::RSS_KEY + 32),
            a_key9: addr(global::RSS_KEY + 36),
            a_cnt0: addr(global::RX_FRAMES),
            a_cnt1: addr(global::RX_DROP_QUEUE_DISABLED),
            a_cnt2: addr(global::RX_DROP_NO_DESC),
            a_cnt3: addr(global::RX_DROP_RUNT),
            a_cnt4: addr(global::RX_DROP_OVERSIZE),
            a_cnt5: addr(global::RX_DROP_MAC_ERROR),
            a_cnt6: addr(global::RX_DROP_DMA_ERROR),
            a_cnt7: addr(global::TX_FRAMES),
            a_cnt8: addr(global::TX_ERRORS),
            wr_global: Default::default(),
            wr_reta: Default::default(),
            wr_msix: Default::default(),
            wr_queue: Default::default(),
            rd_global: Default::default(),
            rd_reta: Default::default(),
            rd_msix: Default::default(),
            rd_queue: Default::default(),
            wr_rel: Default::default(),
            rd_rel: Default::default(),
            wr_local: Default::default(),
            config_error: Default::default(),
            new_errors: Default::default(),
            local_rd_data: Default::default(),
            do_reset: Default::default(),
        }
    }
}

impl<const QW: usize> Logic for Csr<QW> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clk,
            initialized,
            sweep,
            enable_reg,
            soft_reset_pulse,
            mtu_reg,
            err_vector,
            err_status,
            err_info,
            err_addr_lo,
            err_addr_hi,
            err_irq_enable,
            err_irq_pending,
            rss_ctrl_reg,
            rd_wait,
            msix_rd_sent,
            key0,
            key1,
            key2,
            key3,
            key4,
            key5,
            key6,
            key7,
            key8,
            key9,
            cnt0,
            cnt1,
            cnt2,
            cnt3,
            cnt4,
            cnt5,
            cnt6,
            cnt7,
            cnt8
        );
        self.reta.read_clock.next = self.clk.val();
        self.reta.write_clock.next = self.clk.val();
        self.reta_shadow.read_clock.next = self.clk.val();
        self.reta_shadow.write_clock.next = self.clk.val();

        // Decode. The global block and the RETA are answered here.
        self.wr_global.next = self.s_reg_wr_addr.val() < self.a_reta.val();
        self.wr_reta.next = (self.s_reg_wr_addr.val() >= self.a_reta.val())
            & (self.s_reg_wr_addr.val() < self.a_reta_end.val());
        self.wr_msix.next = (self.s_reg_wr_addr.val() >= self.a_msix.val())
            & (self.s_reg_wr_addr.val() < self.a_msix_end.val());
        self.wr_queue.next = (self.s_reg_wr_addr.val() >= self.a_queues.val())
            & (self.s_reg_wr_addr.val() < self.a_queues_end.val());
        self.rd_global.next = self.s_reg_rd_addr.val() < self.a_reta.val();
        self.rd_reta.next = (self.s_reg_rd_addr.val() >= self.a_reta.val())
            & (self.s_reg_rd_addr.val() < self.a_reta_end.val());
        self.rd_msix.next = (self.s_reg_rd_addr.val() >= self.a_msix.val())
            & (self.s_reg_rd_addr.val() < self.a_msix_end.val());
        self.rd_queue.next = (self.s_reg_rd_addr.val() >= self.a_queues.val())
            & (self.s_reg_rd_addr.val() < self.a_queues_end.val());
        self.wr_rel.next = self.s_reg_wr_addr.val() - self.a_reta.val();
        self.rd_rel.next = self.s_reg_rd_addr.val() - self.a_reta.val();

        // Outputs to the datapath.
        self.enable.next = self.enable_reg.q.val();
        self.soft_reset.next = self.soft_reset_pulse.q.val();
        self.mtu.next = self.mtu_reg.q.val();
        self.rss_ctrl.next = self.rss_ctrl_reg.q.val();
        self.rss_key.next = (bit_cast::<320, 32>(self.key0.q.val()) << 288)
            | (bit_cast::<320, 32>(self.key1.q.val()) << 256)
            | (bit_cast::<320, 32>(self.key2.q.val()) << 224)
            | (bit_cast::<320, 32>(self.key3.q.val()) << 192)
            | (bit_cast::<320, 32>(self.key4.q.val()) << 160)
            | (bit_cast::<320, 32>(self.key5.q.val()) << 128)
            | (bit_cast::<320, 32>(self.key6.q.val()) << 96)
            | (bit_cast::<320, 32>(self.key7.q.val()) << 64)
            | (bit_cast::<320, 32>(self.key8.q.val()) << 32)
            | (bit_cast::<320, 32>(self.key9.q.val()) << 0);
        self.reta.read_address.next = self.reta_index.val();
        self.reta_queue.next = self.reta.read_data.val();
        self.reta_shadow.read_address.next = self.rd_rel.val().get_bits::<7>(2);
        self.m_err_irq_valid.next = self.err_irq_pending.q.val();
        self.m_err_irq_vector.next = self.err_vector.q.val();
        self.busy.next = !self.initialized.q.val();

        // Writes. Local targets (global registers, RETA, unmapped offsets) are
        // done in the cycle they are requested; windows wait for their block.
        self.wr_local.next = !(self.wr_msix.val() | self.wr_queue.val());
        self.s_reg_wr_ack.next = false;
        self.m_msix_wr_valid.next = false;
        self.m_q_wr_en.next = false;
        self.soft_reset_pulse.d.next = false;
        self.config_error.next = false;
        self.reta.write_enable.next = false;
        self.reta.write_address.next = self.wr_rel.val().get_bits::<7>(2);
        self.reta.write_data.next = self.s_reg_wr_data.val().get_bits::<QW>(0);
        if self.s_reg_wr_en.val() & self.initialized.q.val() {
            if self.wr_msix.val() {
                self.m_msix_wr_valid.next = true;
                self.s_reg_wr_ack.next = self.m_msix_wr_ready.val();
            } else if self.wr_queue.val() {
                self.m_q_wr_en.next = true;
                self.s_reg_wr_ack.next = self.m_q_wr_ack.val();
            } else {
                self.s_reg_wr_ack.next = true;
            }
        }
        if self.s_reg_wr_en.val() & self.initialized.q.val() & self.wr_local.val() {
            if self.wr_reta.val() {
                if self.s_reg_wr_data.val().get_bits::<16>(0) <= self.last_queue.val() {
                    self.reta.write_enable.next = true;
                } else {
                    self.config_error.next = true;
                }
            }
            if self.s_reg_wr_addr.val() == self.a_ctrl.val() {
                self.enable_reg.d.next = self.s_reg_wr_data.val().get_bit(0);
                if self.s_reg_wr_data.val().get_bit(1) {
                    self.soft_reset_pulse.d.next = true;
                }
            }
            if self.s_reg_wr_addr.val() == self.a_mtu.val() {
                if self.s_reg_wr_data.val().get_bits::<16>(0) <= self.mtu_max.val() {
                    self.mtu_reg.d.next = self.s_reg_wr_data.val().get_bits::<16>(0);
                } else {
                    self.config_error.next = true;
                }
            }
            if self.s_reg_wr_addr.val() == self.a_err_vector.val() {
                if self.s_reg_wr_data.val().get_bits::<12>(0) <= self.last_vector.val() {
                    self.err_vector.d.next = self.s_reg_wr_data.val().get_bits::<12>(0);
                } else {
                    self.config_error.next = true;
                }
            }
            if self.s_reg_wr_addr.val() == self.a_err_irq_enable.val() {
                self.err_irq_enable.d.next = self.s_reg_wr_data.val().get_bits::<4>(0);
            }
            if self.s_reg_wr_addr.val() == self.a_rss_ctrl.val() {
                self.rss_ctrl_reg.d.next = self.s_reg_wr_data.val().get_bits::<7>(0);
            }
            if self.s_reg_wr_addr.val() == self.a_key0.val() {
                self.key0.d.next = self.s_reg_wr_data.val();
            }
            if self.s_reg_wr_addr.val() == self.a_key1.val() {
                self.key1.d.next = self.s_reg_wr_data.val();
            }
            if self.s_reg_wr_addr.val() == self.a_key2.val() {
                self.key2.d.next = self.s_reg_wr_data.val();
            }
            if self.s_reg_wr_addr.val() == self.a_key3.val() {
                self.key3.d.next = self.s_reg_wr_data.val();
            }
            if self.s_reg_wr_addr.val() == self.a_key4.val() {
                self.key4.d.next = self.s_reg_wr_data.val();
            }
            if self.s_reg_wr_addr.val() == self.a_key5.val() {
                self.key5.d.next = self.s_reg_wr_data.val();
            }
            if self.s_reg_wr_addr.val() == self.a_key6.val() {
                self.key6.d.next = self.s_reg_wr_data.val();
            }
            if self.s_reg_wr_addr.val() == self.a_key7.val() {
                self.key7.d.next = self.s_reg_wr_data.val();
            }
            if self.s_reg_wr_addr.val() == self.a_key8.val() {
                self.key8.d.next = self.s_reg_wr_data.val();
            }
            if self.s_reg_wr_addr.val() == self.a_key9.val() {
                self.key9.d.next = self.s_reg_wr_data.val();
            }
        }
        self.reta_shadow.write_enable.next = self.reta.write_enable.val();
        self.reta_shadow.write_address.next = self.reta.write_address.val();
        self.reta_shadow.write_data.next = self.reta.write_data.val();

        // Error status: W1C by the driver, set by reports and refused writes.
        // Clearing applies first, so a report in the same cycle is not lost.
        self.new_errors.next = self.err_set.val();
        if self.config_error.val() {
            self.new_errors.next = self.err_set.val().replace_bit(2, true);
        }
        if self.s_reg_wr_en.val()
            & self.initialized.q.val()
            & (self.s_reg_wr_addr.val() == self.a_err_status.val())
        {
            self.err_status.d.next = (self.err_status.q.val()
                & (!self.s_reg_wr_data.val().get_bits::<4>(0)))
                | self.new_errors.val();
        } else {
            self.err_status.d.next = self.err_status.q.val() | self.new_errors.val();
        }
        if self.err_set.val().any() {
            self.err_info.d.next = self.err_queue_info.val();
            self.err_addr_lo.d.next = self.err_addr.val().get_bits::<32>(0);
            self.err_addr_hi.d.next = self.err_addr.val().get_bits::<32>(32);
        }
        if (self.new_errors.val() & (!self.err_status.q.val()) & self.err_irq_enable.q.val()).any()
        {
            self.err_irq_pending.d.next = true;
        } else if self.m_err_irq_ready.val() {
            self.err_irq_pending.d.next = false;
        }

        if self.cnt_inc.val().get_bit(0) {
            self.cnt0.d.next = self.cnt0.q.val() + 1;
        }
        if self.cnt_inc.val().get_bit(1) {
            self.cnt1.d.next = self.cnt1.q.val() + 1;
        }
        if self.cnt_inc.val().get_bit(2) {
            self.cnt2.d.next = self.cnt2.q.val() + 1;
        }
        if self.cnt_inc.val().get_bit(3) {
            self.cnt3.d.next = self.cnt3.q.val() + 1;
        }
        if self.cnt_inc.val().get_bit(4) {
            self.cnt4.d.next = self.cnt4.q.val() + 1;
        }
        if self.cnt_inc.val().get_bit(5) {
            self.cnt5.d.next = self.cnt5.q.val() + 1;
        }
        if self.cnt_inc.val().get_bit(6) {
            self.cnt6.d.next = self.cnt6.q.val() + 1;
        }
        if self.cnt_inc.val().get_bit(7) {
            self.cnt7.d.next = self.cnt7.q.val() + 1;
        }
        if self.cnt_inc.val().get_bit(8) {
            self.cnt8.d.next = self.cnt8.q.val() + 1;
        }

        // Reads: local answers take two cycles (the RETA is a RAM).
        self.local_rd_data.next = 0.into();
        if self.rd_reta.val() {
            self.local_rd_data.next = bit_cast::<32, QW>(self.reta_shadow.read_data.val());
        }
        if self.s_reg_rd_addr.val() == self.a_id.val() {
            self.local_rd_data.next = self.id_value.val();
        }
        if self.s_reg_rd_addr.val() == self.a_version.val() {
            self.local_rd_data.next = self.version_value.val();
        }
        if self.s_reg_rd_addr.val() == self.a_caps.val() {
            self.local_rd_data.next = self.caps_value.val();
        }
        if self.s_reg_rd_addr.val() == self.a_clock_mhz.val() {
            self.local_rd_data.next = self.clock_value.val();
        }
        if self.s_reg_rd_addr.val() == self.a_ctrl.val() {
            self.local_rd_data.next = bit_cast::<32, 1>(self.enable_reg.q.val().into())
                | (bit_cast::<32, 1>(
                    (self.reset_busy.val() | self.soft_reset_pulse.q.val()).into(),
                ) << 1);
        }
        if self.s_reg_rd_addr.val() == self.a_status.val() {
            self.local_rd_data.next = bit_cast::<32, 1>(self.reset_busy.val().into())
                | (bit_cast::<32, 1>(self.quiescent.val().into()) << 1);
        }
        if self.s_reg_rd_addr.val() == self.a_mtu.val() {
            self.local_rd_data.next = bit_cast::<32, 16>(self.mtu_reg.q.val());
        }
        if self.s_reg_rd_addr.val() == self.a_err_vector.val() {
            self.local_rd_data.next = bit_cast::<32, 12>(self.err_vector.q.val());
        }
        if self.s_reg_rd_addr.val() == self.a_err_status.val() {
            self.local_rd_data.next = bit_cast::<32, 4>(self.err_status.q.val());
        }
        if self.s_reg_rd_addr.val() == self.a_err_info.val() {
            self.local_rd_data.next = bit_cast::<32, 17>(self.err_info.q.val());
        }
        if self.s_reg_rd_addr.val() == self.a_err_addr_lo.val() {
            self.local_rd_data.next = self.err_addr_lo.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_err_addr_hi.val() {
            self.local_rd_data.next = self.err_addr_hi.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_err_irq_enable.val() {
            self.local_rd_data.next = bit_cast::<32, 4>(self.err_irq_enable.q.val());
        }
        if self.s_reg_rd_addr.val() == self.a_rss_ctrl.val() {
            self.local_rd_data.next = bit_cast::<32, 7>(self.rss_ctrl_reg.q.val());
        }
        if self.s_reg_rd_addr.val() == self.a_key0.val() {
            self.local_rd_data.next = self.key0.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_key1.val() {
            self.local_rd_data.next = self.key1.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_key2.val() {
            self.local_rd_data.next = self.key2.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_key3.val() {
            self.local_rd_data.next = self.key3.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_key4.val() {
            self.local_rd_data.next = self.key4.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_key5.val() {
            self.local_rd_data.next = self.key5.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_key6.val() {
            self.local_rd_data.next = self.key6.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_key7.val() {
            self.local_rd_data.next = self.key7.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_key8.val() {
            self.local_rd_data.next = self.key8.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_key9.val() {
            self.local_rd_data.next = self.key9.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_cnt0.val() {
            self.local_rd_data.next = self.cnt0.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_cnt1.val() {
            self.local_rd_data.next = self.cnt1.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_cnt2.val() {
            self.local_rd_data.next = self.cnt2.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_cnt3.val() {
            self.local_rd_data.next = self.cnt3.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_cnt4.val() {
            self.local_rd_data.next = self.cnt4.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_cnt5.val() {
            self.local_rd_data.next = self.cnt5.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_cnt6.val() {
            self.local_rd_data.next = self.cnt6.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_cnt7.val() {
            self.local_rd_data.next = self.cnt7.q.val();
        }
        if self.s_reg_rd_addr.val() == self.a_cnt8.val() {
            self.local_rd_data.next = self.cnt8.q.val();
        }

        self.s_reg_rd_ack.next = false;
        self.s_reg_rd_data.next = self.local_rd_data.val();
        self.m_msix_rd_valid.next = false;
        self.m_q_rd_en.next = false;
        self.rd_wait.d.next = false;
        if self.s_reg_rd_en.val() & self.initialized.q.val() {
            if self.rd_msix.val() {
                self.m_msix_rd_valid.next = !self.msix_rd_sent.q.val();
                if self.m_msix_rd_ready.val() & (!self.msix_rd_sent.q.val()) {
                    self.msix_rd_sent.d.next = true;
                }
                if self.s_msix_rd_valid.val() {
                    self.msix_rd_sent.d.next = false;
                    self.s_reg_rd_ack.next = true;
                    self.s_reg_rd_data.next = self.s_msix_rd_data.val();
                }
            } else if self.rd_queue.val() {
                self.m_q_rd_en.next = true;
                self.s_reg_rd_ack.next = self.m_q_rd_ack.val();
                self.s_reg_rd_data.next = self.m_q_rd_data.val();
            } else {
                // First cycle: the RETA shadow reads; second: answer.
                self.rd_wait.d.next = !self.rd_wait.q.val();
                self.s_reg_rd_ack.next = self.rd_wait.q.val();
            }
        }

        // Power-up, rst and soft reset: reset values; the RETA is swept to 0.
        self.do_reset.next = self.rst.val() | self.soft_reset_pulse.q.val();
        if !self.initialized.q.val() {
            self.reta.write_enable.next = true;
            self.reta.write_address.next = self.sweep.q.val();
            self.reta.write_data.next = 0.into();
            self.reta_shadow.write_enable.next = true;
            self.reta_shadow.write_address.next = self.sweep.q.val();
            self.reta_shadow.write_data.next = 0.into();
            self.sweep.d.next = self.sweep.q.val() + 1;
            if self.sweep.q.val().all() {
                self.initialized.d.next = true;
            }
        }
        if self.do_reset.val() | (!self.initialized.q.val()) {
            self.enable_reg.d.next = false;
            self.mtu_reg.d.next = self.mtu_reset.val();
            self.err_vector.d.next = 0.into();
            self.err_status.d.next = 0.into();
            self.err_info.d.next = 0.into();
            self.err_addr_lo.d.next = 0.into();
            self.err_addr_hi.d.next = 0.into();
            self.err_irq_enable.d.next = 0.into();
            self.err_irq_pending.d.next = false;
            self.rss_ctrl_reg.d.next = self.rss_ctrl_reset.val();
            self.msix_rd_sent.d.next = false;
            self.key0.d.next = 0.into();
            self.key1.d.next = 0.into();
            self.key2.d.next = 0.into();
            self.key3.d.next = 0.into();
            self.key4.d.next = 0.into();
            self.key5.d.next = 0.into();
            self.key6.d.next = 0.into();
            self.key7.d.next = 0.into();
            self.key8.d.next = 0.into();
            self.key9.d.next = 0.into();
            self.cnt0.d.next = 0.into();
            self.cnt1.d.next = 0.into();
            self.cnt2.d.next = 0.into();
            self.cnt3.d.next = 0.into();
            self.cnt4.d.next = 0.into();
            self.cnt5.d.next = 0.into();
            self.cnt6.d.next = 0.into();
            self.cnt7.d.next = 0.into();
            self.cnt8.d.next = 0.into();
        }
        if self.do_reset.val() {
            self.initialized.d.next = false;
            self.sweep.d.next = 0.into();
        }
    }
}
