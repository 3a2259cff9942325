//! `queue_state` — the per-queue state of one direction, in RAM, and its register
//! window. `oxnic_top` instantiates it twice: as `rx_queue` (window
//! `RX_QUEUE_BASE`) and as `tx_queue` (window `TX_QUEUE_BASE`); the driver's
//! counterparts are `driver::rx_queue` and `driver::tx_queue`.
//!
//! State per queue (one RAM entry each, indexed by queue number, so the logic does
//! not grow with the queue count): descriptor and completion ring bases, CONFIG
//! (log2 size, vector), IRQ_MODERATION, flags (CTRL.ENABLE as written, running,
//! DMA error, config error), the four free-running 16-bit indices (descriptor
//! producer/consumer, completion producer/consumer) and the packet/byte counters.
//!
//! One operation at a time, two cycles each: the first presents the queue number
//! to every RAM, the second reads, computes and writes back. Because operations
//! never overlap there is no read/modify/write hazard to forward. Operations:
//!
//! * **Register writes/reads** from `csr` (`s_reg_*`: the queue-window requests
//!   of the BAR0 decoder, held until acknowledged; both direction blocks see every
//!   queue-window request and only the one whose window matches answers). A queue
//!   number at or above the queue count is acknowledged at once: writes ignored,
//!   reads 0. Doorbell writes to `DB_DESC_PROD` also emit the queue on `m_db_*`
//!   (the transmit engine's work list); `DB_CPL_CONS.REARM` and `IRQ_CTRL` become
//!   commands for `irq_latch` (`m_irq_cmd_*`; `IRQ_CTRL` sends MASK or UNMASK per
//!   its MASK bit, then ARM when ARM is set); `IRQ_CTRL` reads `irq_latch`'s state
//!   through `irq_rd_queue`/`irq_rd_state` (same bit positions as the register).
//!   The write is acknowledged after those handshakes, so a driver's register
//!   write has taken effect when its AXI write response arrives.
//! * **`CTRL.ENABLE` = 1** checks CONFIG: LOG2_SIZE in `RING_LOG2_MIN..=
//!   RING_LOG2_MAX` and VECTOR below the vector count. In range: the queue runs,
//!   its error flags clear and all four indices restart at 0. Out of range:
//!   `STATUS.CONFIG_ERROR` is set, the queue stays stopped and `m_err_config`
//!   pulses with the queue number (for `ERR_STATUS.CONFIG`). `CTRL.ENABLE` = 0
//!   stops the queue; a frame in flight still completes.
//! * **Engine operations** (`s_op_*` in, `m_rsp_*` one-cycle pulse out, one
//!   outstanding per engine):
//!   - `OP_TAKE_DESC`: the next descriptor if the queue runs and the ring is not
//!     empty (`DESC_CONS` ≠ `DB_DESC_PROD`): answers its host address and index
//!     and advances `DESC_CONS`; otherwise `RSP_DISABLED` or `RSP_EMPTY`.
//!   - `OP_COMPLETE` (with `s_op_len`): the next completion slot if the ring has
//!     room (`CPL_PROD − DB_CPL_CONS` below the ring size, else `RSP_FULL`):
//!     answers its host address, index and phase bit (1 on the first pass over the
//!     ring, flipping at every wrap), advances `CPL_PROD` and adds one packet and
//!     `s_op_len` bytes to the queue's counters. Not refused for a stopped queue:
//!     the frame in flight completes.
//!   - `OP_ERROR`: the queue stops with `STATUS.ERROR` (a DMA error).
//!   - `OP_PEEK`: `OP_TAKE_DESC`'s answer without taking the descriptor.
//!
//!   Every answer also carries the queue's vector and moderation setting, which
//!   the engine passes on with the queue's event.
//!
//! Register requests take precedence over engine operations (they are rare, and
//! one at a time, so an engine waits at most one register access).
//!
//! Reset (`rst`, which `oxnic_top` also drives from the soft reset) sweeps every
//! RAM entry to the map's reset values, one queue per cycle, `busy` high meanwhile.

use oxnic_regs::{queue, QUEUE_STRIDE, RING_LOG2_MAX, RING_LOG2_MIN};
use rust_hdl::prelude::*;

/// Width of BAR0 byte offsets (as `csr`).
pub const ADDR_BITS: usize = crate::csr::ADDR_BITS;
const A: usize = ADDR_BITS;

/// Take the next descriptor.
pub const OP_TAKE_DESC: u64 = 0;
/// Write a completion (advance `CPL_PROD`, count the frame).
pub const OP_COMPLETE: u64 = 1;
/// Stop the queue in its error state.
pub const OP_ERROR: u64 = 2;
/// Look at the next descriptor without taking it.
pub const OP_PEEK: u64 = 3;

/// Done.
pub const RSP_OK: u64 = 0;
/// The queue is stopped (disabled, in error, or never enabled).
pub const RSP_DISABLED: u64 = 1;
/// No descriptor posted.
pub const RSP_EMPTY: u64 = 2;
/// The completion ring has no free slot.
pub const RSP_FULL: u64 = 3;

/// `irq_latch` command codes, as that block defines them.
const IRQ_ARM: u64 = crate::irq_latch::OP_ARM;
const IRQ_MASK: u64 = crate::irq_latch::OP_MASK;
const IRQ_UNMASK: u64 = crate::irq_latch::OP_UNMASK;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum QsState {
    Idle,
    Exec,
    Doorbell,
    IrqFirst,
    IrqArm,
}

fn off(v: u32) -> Constant<Bits<6>> {
    Constant::new((v as u64).to_bits())
}

/// The per-queue state of one direction for up to `2^QW` queues.
#[derive(LogicBlock)]
pub struct QueueState<const QW: usize> {
    /// Clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset (also the soft reset): sweeps the RAMs.
    pub rst: Signal<In, Bit>,
    /// Queue-window write request (held until `s_reg_wr_ack`).
    pub s_reg_wr_en: Signal<In, Bit>,
    /// BAR0 byte offset of the write.
    pub s_reg_wr_addr: Signal<In, Bits<A>>,
    /// Write data.
    pub s_reg_wr_data: Signal<In, Bits<32>>,
    /// Write done (one cycle).
    pub s_reg_wr_ack: Signal<Out, Bit>,
    /// Queue-window read request (held until `s_reg_rd_ack`).
    pub s_reg_rd_en: Signal<In, Bit>,
    /// BAR0 byte offset of the read.
    pub s_reg_rd_addr: Signal<In, Bits<A>>,
    /// Read data (valid with `s_reg_rd_ack`, 0 otherwise).
    pub s_reg_rd_data: Signal<Out, Bits<32>>,
    /// Read done (one cycle).
    pub s_reg_rd_ack: Signal<Out, Bit>,
    /// Engine operation request.
    pub s_op_valid: Signal<In, Bit>,
    /// Engine operation accepted.
    pub s_op_ready: Signal<Out, Bit>,
    /// Queue of the operation.
    pub s_op_queue: Signal<In, Bits<QW>>,
    /// Operation (`OP_*`).
    pub s_op_code: Signal<In, Bits<2>>,
    /// Frame length in bytes (`OP_COMPLETE`).
    pub s_op_len: Signal<In, Bits<16>>,
    /// Answer to the accepted operation (one cycle, two cycles after acceptance).
    pub m_rsp_valid: Signal<Out, Bit>,
    /// `RSP_*`.
    pub m_rsp_status: Signal<Out, Bits<2>>,
    /// Host address (IOVA) of the descriptor or completion slot.
    pub m_rsp_addr: Signal<Out, Bits<64>>,
    /// Free-running index of that descriptor or completion.
    pub m_rsp_index: Signal<Out, Bits<16>>,
    /// Phase bit for the completion.
    pub m_rsp_phase: Signal<Out, Bit>,
    /// The queue's MSI-X vector (CONFIG.VECTOR).
    pub m_rsp_vector: Signal<Out, Bits<12>>,
    /// The queue's IRQ_MODERATION register.
    pub m_rsp_moderation: Signal<Out, Bits<32>>,
    /// Doorbell: `DB_DESC_PROD` of `m_db_queue` was written.
    pub m_db_valid: Signal<Out, Bit>,
    /// Doorbell taken.
    pub m_db_ready: Signal<In, Bit>,
    /// Queue of the doorbell.
    pub m_db_queue: Signal<Out, Bits<QW>>,
    /// Command for `irq_latch`.
    pub m_irq_cmd_valid: Signal<Out, Bit>,
    /// Command taken.
    pub m_irq_cmd_ready: Signal<In, Bit>,
    /// Queue of the command.
    pub m_irq_cmd_queue: Signal<Out, Bits<QW>>,
    /// `irq_latch` operation (ARM, MASK, UNMASK).
    pub m_irq_cmd_op: Signal<Out, Bits<2>>,
    /// Queue whose interrupt state `irq_rd_state` shows one cycle later.
    pub irq_rd_queue: Signal<Out, Bits<QW>>,
    /// `irq_latch`'s state of `irq_rd_queue` one cycle earlier.
    pub irq_rd_state: Signal<In, Bits<3>>,
    /// An enable was refused (CONFIG out of range): one cycle.
    pub m_err_config: Signal<Out, Bit>,
    /// The queue whose enable was refused.
    pub m_err_queue: Signal<Out, Bits<QW>>,
    /// The reset sweep runs.
    pub busy: Signal<Out, Bit>,

    // Constants.
    window: Constant<Bits<3>>,
    last_queue: Constant<Bits<10>>,
    last_vector: Constant<Bits<12>>,
    log2_min: Constant<Bits<5>>,
    log2_max: Constant<Bits<5>>,
    config_mask: Constant<Bits<32>>,
    config_reset: Constant<Bits<32>>,
    align_mask: Constant<Bits<64>>,
    o_desc_base_lo: Constant<Bits<6>>,
    o_desc_base_hi: Constant<Bits<6>>,
    o_cpl_base_lo: Constant<Bits<6>>,
    o_cpl_base_hi: Constant<Bits<6>>,
    o_config: Constant<Bits<6>>,
    o_ctrl: Constant<Bits<6>>,
    o_status: Constant<Bits<6>>,
    o_db_desc_prod: Constant<Bits<6>>,
    o_db_cpl_cons: Constant<Bits<6>>,
    o_irq_ctrl: Constant<Bits<6>>,
    o_irq_moderation: Constant<Bits<6>>,
    o_desc_cons: Constant<Bits<6>>,
    o_cpl_prod: Constant<Bits<6>>,
    o_stat_packets: Constant<Bits<6>>,
    o_stat_bytes_lo: Constant<Bits<6>>,
    o_stat_bytes_hi: Constant<Bits<6>>,
    irq_arm: Constant<Bits<2>>,
    irq_mask: Constant<Bits<2>>,
    irq_unmask: Constant<Bits<2>>,
    rsp_ok: Constant<Bits<2>>,
    rsp_disabled: Constant<Bits<2>>,
    rsp_empty: Constant<Bits<2>>,
    rsp_full: Constant<Bits<2>>,
    op_take: Constant<Bits<2>>,
    op_complete: Constant<Bits<2>>,
    op_error: Constant<Bits<2>>,
    k_write: Constant<Bits<2>>,
    k_read: Constant<Bits<2>>,
    k_op: Constant<Bits<2>>,
    keep_hi32: Constant<Bits<64>>,
    keep_lo32: Constant<Bits<64>>,
    clear_desc_prod: Constant<Bits<64>>,
    clear_cpl_cons: Constant<Bits<64>>,
    clear_desc_cons: Constant<Bits<64>>,
    cpl_prod_one: Constant<Bits<64>>,
    one17: Constant<Bits<17>>,
    zero17: Constant<Bits<17>>,
    f_started: Constant<Bits<4>>,
    f_error: Constant<Bits<4>>,
    f_ctrl_cfg: Constant<Bits<4>>,
    f_errors: Constant<Bits<4>>,

    // Per-queue state.
    desc_base: RAM<Bits<64>, QW>,
    cpl_base: RAM<Bits<64>, QW>,
    cfg: RAM<Bits<32>, QW>,
    moderation: RAM<Bits<32>, QW>,
    flags: RAM<Bits<4>, QW>,
    indices: RAM<Bits<64>, QW>,
    packets: RAM<Bits<32>, QW>,
    bytes: RAM<Bits<64>, QW>,

    // Control.
    state: DFF<QsState>,
    cleared: DFF<Bit>,
    sweep: DFF<Bits<QW>>,
    l_kind: DFF<Bits<2>>,
    l_queue: DFF<Bits<QW>>,
    l_off: DFF<Bits<6>>,
    l_data: DFF<Bits<32>>,
    l_code: DFF<Bits<2>>,
    l_len: DFF<Bits<16>>,
    l_irq_op: DFF<Bits<2>>,
    l_irq_arm: DFF<Bit>,

    // Combinational helpers.
    wr_here: Signal<Local, Bit>,
    rd_here: Signal<Local, Bit>,
    wr_slot_ok: Signal<Local, Bit>,
    rd_slot_ok: Signal<Local, Bit>,
    pick_queue: Signal<Local, Bits<QW>>,
    cur_log2: Signal<Local, Bits<5>>,
    cur_vector: Signal<Local, Bits<12>>,
    cur_flags: Signal<Local, Bits<4>>,
    desc_prod: Signal<Local, Bits<16>>,
    cpl_cons: Signal<Local, Bits<16>>,
    desc_cons: Signal<Local, Bits<16>>,
    cpl_prod: Signal<Local, Bits<16>>,
    ring_mask: Signal<Local, Bits<16>>,
    ring_size: Signal<Local, Bits<17>>,
    cpl_used: Signal<Local, Bits<16>>,
    desc_slot: Signal<Local, Bits<64>>,
    cpl_slot: Signal<Local, Bits<64>>,
    config_ok: Signal<Local, Bit>,
    new_flags: Signal<Local, Bits<4>>,
    new_indices: Signal<Local, Bits<64>>,
    not_wrapped: Signal<Local, Bit>,
    rd_value: Signal<Local, Bits<32>>,
}

impl<const QW: usize> QueueState<QW> {
    /// A queue-state block for the window at `base` (`RX_QUEUE_BASE` or
    /// `TX_QUEUE_BASE`) with `queues` queues (≤ `2^QW`) and `vectors` vectors.
    pub fn new(base: u32, queues: u32, vectors: u32) -> Self {
        assert!(
            queues >= 1 && queues <= (1 << QW),
            "queues {queues} vs QW {QW}"
        );
        assert!(base & 0xFFFF == 0, "queue window must be 64 KiB aligned");
        assert!(queues * QUEUE_STRIDE <= 0x1_0000);
        let config_mask = queue::CONFIG_LOG2_SIZE.mask() | queue::CONFIG_VECTOR.mask();
        let bits32 = |v: u32| Constant::new((v as u64).to_bits());
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
            s_op_valid: Default::default(),
            s_op_ready: Default::default(),
            s_op_queue: Default::default(),
            s_op_code: Default::default(),
            s_op_len: Default::default(),
            m_rsp_valid: Default::default(),
            m_rsp_status: Default::default(),
            m_rsp_addr: Default::default(),
            m_rsp_index: Default::default(),
            m_rsp_phase: Default::default(),
            m_rsp_vector: Default::default(),
            m_rsp_moderation: Default::default(),
            m_db_valid: Default::default(),
            m_db_ready: Default::default(),
            m_db_queue: Default::default(),
            m_irq_cmd_valid: Default::default(),
            m_irq_cmd_ready: Default::default(),
            m_irq_cmd_queue: Default::default(),
            m_irq_cmd_op: Default::default(),
            irq_rd_queue: Default::default(),
            irq_rd_state: Default::default(),
            m_err_config: Default::default(),
            m_err_queue: Default::default(),
            busy: Default::default(),
            window: Constant::new(((base >> 16) as u64 & 7).to_bits()),
            last_queue: Constant::new(((queues - 1) as u64).to_bits()),
            last_vector: Constant::new(((vectors - 1) as u64).to_bits()),
            log2_min: Constant::new((RING_LOG2_MIN as u64).to_bits()),
            log2_max: Constant::new((RING_LOG2_MAX as u64).to_bits()),
            config_mask: bits32(config_mask),
            config_reset: bits32(queue::CONFIG_LOG2_SIZE.set(0, RING_LOG2_MIN)),
            align_mask: Constant::new((!0xFu64).to_bits()),
            o_desc_base_lo: off(queue::DESC_BASE_LO),
            o_desc_base_hi: off(queue::DESC_BASE_HI),
            o_cpl_base_lo: off(queue::CPL_BASE_LO),
            o_cpl_base_hi: off(queue::CPL_BASE_HI),
            o_config: off(queue::CONFIG),
            o_ctrl: off(queue::CTRL),
            o_status: off(queue::STATUS),
            o_db_desc_prod: off(queue::DB_DESC_PROD),
            o_db_cpl_cons: off(queue::DB_CPL_CONS),
            o_irq_ctrl: off(queue::IRQ_CTRL),
            o_irq_moderation: off(queue::IRQ_MODERATION),
            o_desc_cons: off(queue::DESC_CONS),
            o_cpl_prod: off(queue::CPL_PROD),
            o_stat_packets: off(queue::STAT_PACKETS),
            o_stat_bytes_lo: off(queue::STAT_BYTES_LO),
            o_stat_bytes_hi: off(queue::STAT_BYTES_HI),
            irq_arm: Constant::new(IRQ_ARM.to_bits()),
            irq_mask: Constant::new(IRQ_MASK.to_bits()),
            irq_unmask: Constant::new(IRQ_UNMASK.to_bits()),
            rsp_ok: Constant::new(RSP_OK.to_bits()),
            rsp_disabled: Constant::new(RSP_DISABLED.to_bits()),
            rsp_empty: Constant::new(RSP_EMPTY.to_bits()),
            rsp_full: Constant::new(RSP_FULL.to_bits()),
            op_take: Constant::new(OP_TAKE_DESC.to_bits()),
            op_complete: Constant::new(OP_COMPLETE.to_bits()),
            op_error: Constant::new(OP_ERROR.to_bits()),
            k_write: Constant::new(K_WRITE.to_bits()),
            k_read: Constant::new(K_READ.to_bits()),
            k_op: Constant::new(K_OP.to_bits()),
            keep_hi32: Constant::new(0xFFFF_FFFF_0000_0000u64.to_bits()),
            keep_lo32: Constant::new(0xFFFF_FFFFu64.to_bits()),
            clear_desc_prod: Constant::new(0xFFFF_FFFF_FFFF_0000u64.to_bits()),
            clear_cpl_cons: Constant::new(0xFFFF_FFFF_0000_FFFFu64.to_bits()),
            clear_desc_cons: Constant::new(0xFFFF_0000_FFFF_FFFFu64.to_bits()),
            cpl_prod_one: Constant::new((1u64 << 48).to_bits()),
            one17: Constant::new(1u64.to_bits()),
            zero17: Constant::new(0u64.to_bits()),
            // Flags word: bit 0 CTRL.ENABLE as written, 1 running, 2 DMA error,
            // 3 config error (bits 3:1 are STATUS).
            f_started: Constant::new(0b0011u64.to_bits()),
            f_error: Constant::new(0b0100u64.to_bits()),
            f_ctrl_cfg: Constant::new(0b1001u64.to_bits()),
            f_errors: Constant::new(0b1100u64.to_bits()),
            desc_base: Default::default(),
            cpl_base: Default::default(),
            cfg: Default::default(),
            moderation: Default::default(),
            flags: Default::default(),
            indices: Default::default(),
            packets: Default::default(),
            bytes: Default::default(),
            state: Default::default(),
            cleared: Default::default(),
            sweep: Default::default(),
            l_kind: Default::default(),
            l_queue: Default::default(),
            l_off: Default::default(),
            l_data: Default::default(),
            l_code: Default::default(),
            l_len: Default::default(),
            l_irq_op: Default::default(),
            l_irq_arm: Default::default(),
            wr_here: Default::default(),
            rd_here: Default::default(),
            wr_slot_ok: Default::default(),
            rd_slot_ok: Default::default(),
            pick_queue: Default::default(),
            cur_log2: Default::default(),
            cur_vector: Default::default(),
            cur_flags: Default::default(),
            desc_prod: Default::default(),
            cpl_cons: Default::default(),
            desc_cons: Default::default(),
            cpl_prod: Default::default(),
            ring_mask: Default::default(),
            ring_size: Default::default(),
            cpl_used: Default::default(),
            desc_slot: Default::default(),
            cpl_slot: Default::default(),
            config_ok: Default::default(),
            new_flags: Default::default(),
            new_indices: Default::default(),
            not_wrapped: Default::default(),
            rd_value: Default::default(),
        }
    }
}

// Kinds of latched requests.
const K_WRITE: u64 = 0;
const K_READ: u64 = 1;
const K_OP: u64 = 2;

impl<const QW: usize> Logic for QueueState<QW> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clk, state, cleared, sweep, l_kind, l_queue, l_off, l_data, l_code, l_len,
            l_irq_op, l_irq_arm
        );
        self.desc_base.read_clock.next = self.clk.val();
        self.desc_base.write_clock.next = self.clk.val();
        self.cpl_base.read_clock.next = self.clk.val();
        self.cpl_base.write_clock.next = self.clk.val();
        self.cfg.read_clock.next = self.clk.val();
        self.cfg.write_clock.next = self.clk.val();
        self.moderation.read_clock.next = self.clk.val();
        self.moderation.write_clock.next = self.clk.val();
        self.flags.read_clock.next = self.clk.val();
        self.flags.write_clock.next = self.clk.val();
        self.indices.read_clock.next = self.clk.val();
        self.indices.write_clock.next = self.clk.val();
        self.packets.read_clock.next = self.clk.val();
        self.packets.write_clock.next = self.clk.val();
        self.bytes.read_clock.next = self.clk.val();
        self.bytes.write_clock.next = self.clk.val();

        // Outputs default to idle.
        self.s_reg_wr_ack.next = false;
        self.s_reg_rd_ack.next = false;
        self.s_reg_rd_data.next = 0.into();
        self.s_op_ready.next = false;
        self.m_rsp_valid.next = false;
        self.m_rsp_status.next = self.rsp_ok.val();
        self.m_rsp_addr.next = 0.into();
        self.m_rsp_index.next = 0.into();
        self.m_rsp_phase.next = false;
        self.m_rsp_vector.next = 0.into();
        self.m_rsp_moderation.next = 0.into();
        self.m_db_valid.next = false;
        self.m_db_queue.next = self.l_queue.q.val();
        self.m_irq_cmd_valid.next = false;
        self.m_irq_cmd_queue.next = self.l_queue.q.val();
        self.m_irq_cmd_op.next = self.l_irq_op.q.val();
        self.m_err_config.next = false;
        self.m_err_queue.next = self.l_queue.q.val();
        self.busy.next = !self.cleared.q.val();

        // Which requests are for this window, and for an existing queue.
        self.wr_here.next = self.s_reg_wr_en.val()
            & (self.s_reg_wr_addr.val().get_bits::<3>(16) == self.window.val());
        self.rd_here.next = self.s_reg_rd_en.val()
            & (self.s_reg_rd_addr.val().get_bits::<3>(16) == self.window.val());
        self.wr_slot_ok.next = self.s_reg_wr_addr.val().get_bits::<10>(6) <= self.last_queue.val();
        self.rd_slot_ok.next = self.s_reg_rd_addr.val().get_bits::<10>(6) <= self.last_queue.val();

        // The queue every RAM reads this cycle (its data arrives in `Exec`).
        self.pick_queue.next = self.s_op_queue.val();
        if self.wr_here.val() {
            self.pick_queue.next = self.s_reg_wr_addr.val().get_bits::<QW>(6);
        } else if self.rd_here.val() {
            self.pick_queue.next = self.s_reg_rd_addr.val().get_bits::<QW>(6);
        }
        self.desc_base.read_address.next = self.pick_queue.val();
        self.cpl_base.read_address.next = self.pick_queue.val();
        self.cfg.read_address.next = self.pick_queue.val();
        self.moderation.read_address.next = self.pick_queue.val();
        self.flags.read_address.next = self.pick_queue.val();
        self.indices.read_address.next = self.pick_queue.val();
        self.packets.read_address.next = self.pick_queue.val();
        self.bytes.read_address.next = self.pick_queue.val();
        self.irq_rd_queue.next = self.pick_queue.val();

        // What the RAMs show (valid in `Exec`).
        self.cur_log2.next = self.cfg.read_data.val().get_bits::<5>(0);
        self.cur_vector.next = self.cfg.read_data.val().get_bits::<12>(16);
        self.cur_flags.next = self.flags.read_data.val();
        self.desc_prod.next = self.indices.read_data.val().get_bits::<16>(0);
        self.cpl_cons.next = self.indices.read_data.val().get_bits::<16>(16);
        self.desc_cons.next = self.indices.read_data.val().get_bits::<16>(32);
        self.cpl_prod.next = self.indices.read_data.val().get_bits::<16>(48);
        self.ring_size.next = self.one17.val() << self.cur_log2.val();
        self.ring_mask.next = self.ring_size.val().get_bits::<16>(0) - 1;
        self.cpl_used.next = self.cpl_prod.val() - self.cpl_cons.val();
        self.desc_slot.next = (self.desc_base.read_data.val() & self.align_mask.val())
            + (bit_cast::<64, 16>(self.desc_cons.val() & self.ring_mask.val()) << 4);
        self.cpl_slot.next = (self.cpl_base.read_data.val() & self.align_mask.val())
            + (bit_cast::<64, 16>(self.cpl_prod.val() & self.ring_mask.val()) << 4);
        // Phase 1 on even passes: the bit just above the slot number is 0.
        // (A mask rather than a dynamic bit select: LOG2_SIZE may hold any 5-bit
        // value, and such a queue never runs, but the logic must stay defined.)
        self.not_wrapped.next =
            (bit_cast::<17, 16>(self.cpl_prod.val()) & self.ring_size.val()) == self.zero17.val();
        self.config_ok.next = (self.cur_log2.val() >= self.log2_min.val())
            & (self.cur_log2.val() <= self.log2_max.val())
            & (self.cur_vector.val() <= self.last_vector.val());

        // Writes default to the same queue, nothing enabled.
        self.desc_base.write_address.next = self.l_queue.q.val();
        self.cpl_base.write_address.next = self.l_queue.q.val();
        self.cfg.write_address.next = self.l_queue.q.val();
        self.moderation.write_address.next = self.l_queue.q.val();
        self.flags.write_address.next = self.l_queue.q.val();
        self.indices.write_address.next = self.l_queue.q.val();
        self.packets.write_address.next = self.l_queue.q.val();
        self.bytes.write_address.next = self.l_queue.q.val();
        self.desc_base.write_enable.next = false;
        self.cpl_base.write_enable.next = false;
        self.cfg.write_enable.next = false;
        self.moderation.write_enable.next = false;
        self.flags.write_enable.next = false;
        self.indices.write_enable.next = false;
        self.packets.write_enable.next = false;
        self.bytes.write_enable.next = false;
        self.desc_base.write_data.next = self.desc_base.read_data.val();
        self.cpl_base.write_data.next = self.cpl_base.read_data.val();
        self.cfg.write_data.next = self.l_data.q.val() & self.config_mask.val();
        self.moderation.write_data.next = self.l_data.q.val();
        self.packets.write_data.next = self.packets.read_data.val() + 1;
        self.bytes.write_data.next =
            self.bytes.read_data.val() + bit_cast::<64, 16>(self.l_len.q.val());
        self.new_flags.next = self.cur_flags.val();
        self.new_indices.next = self.indices.read_data.val();

        // Register read value (used in `Exec`).
        self.rd_value.next = 0.into();
        if self.l_off.q.val() == self.o_desc_base_lo.val() {
            self.rd_value.next = self.desc_base.read_data.val().get_bits::<32>(0);
        }
        if self.l_off.q.val() == self.o_desc_base_hi.val() {
            self.rd_value.next = self.desc_base.read_data.val().get_bits::<32>(32);
        }
        if self.l_off.q.val() == self.o_cpl_base_lo.val() {
            self.rd_value.next = self.cpl_base.read_data.val().get_bits::<32>(0);
        }
        if self.l_off.q.val() == self.o_cpl_base_hi.val() {
            self.rd_value.next = self.cpl_base.read_data.val().get_bits::<32>(32);
        }
        if self.l_off.q.val() == self.o_config.val() {
            self.rd_value.next = self.cfg.read_data.val();
        }
        if self.l_off.q.val() == self.o_ctrl.val() {
            self.rd_value.next = bit_cast::<32, 1>(self.cur_flags.val().get_bit(0).into());
        }
        if self.l_off.q.val() == self.o_status.val() {
            self.rd_value.next = bit_cast::<32, 3>(self.cur_flags.val().get_bits::<3>(1));
        }
        if self.l_off.q.val() == self.o_db_desc_prod.val() {
            self.rd_value.next = bit_cast::<32, 16>(self.desc_prod.val());
        }
        if self.l_off.q.val() == self.o_db_cpl_cons.val() {
            self.rd_value.next = bit_cast::<32, 16>(self.cpl_cons.val());
        }
        if self.l_off.q.val() == self.o_irq_ctrl.val() {
            self.rd_value.next = bit_cast::<32, 3>(self.irq_rd_state.val());
        }
        if self.l_off.q.val() == self.o_irq_moderation.val() {
            self.rd_value.next = self.moderation.read_data.val();
        }
        if self.l_off.q.val() == self.o_desc_cons.val() {
            self.rd_value.next = bit_cast::<32, 16>(self.desc_cons.val());
        }
        if self.l_off.q.val() == self.o_cpl_prod.val() {
            self.rd_value.next = bit_cast::<32, 16>(self.cpl_prod.val());
        }
        if self.l_off.q.val() == self.o_stat_packets.val() {
            self.rd_value.next = self.packets.read_data.val();
        }
        if self.l_off.q.val() == self.o_stat_bytes_lo.val() {
            self.rd_value.next = self.bytes.read_data.val().get_bits::<32>(0);
        }
        if self.l_off.q.val() == self.o_stat_bytes_hi.val() {
            self.rd_value.next = self.bytes.read_data.val().get_bits::<32>(32);
        }

        match self.state.q.val() {
            QsState::Idle => {
                if self.cleared.q.val() {
                    if self.wr_here.val() {
                        if self.wr_slot_ok.val() {
                            self.state.d.next = QsState::Exec;
                        } else {
                            self.s_reg_wr_ack.next = true;
                        }
                        self.l_kind.d.next = self.k_write.val();
                        self.l_queue.d.next = self.pick_queue.val();
                        self.l_off.d.next = self.s_reg_wr_addr.val().get_bits::<6>(0);
                        self.l_data.d.next = self.s_reg_wr_data.val();
                    } else if self.rd_here.val() {
                        if self.rd_slot_ok.val() {
                            self.state.d.next = QsState::Exec;
                        } else {
                            self.s_reg_rd_ack.next = true;
                        }
                        self.l_kind.d.next = self.k_read.val();
                        self.l_queue.d.next = self.pick_queue.val();
                        self.l_off.d.next = self.s_reg_rd_addr.val().get_bits::<6>(0);
                    } else if self.s_op_valid.val() {
                        self.s_op_ready.next = true;
                        self.state.d.next = QsState::Exec;
                        self.l_kind.d.next = self.k_op.val();
                        self.l_queue.d.next = self.pick_queue.val();
                        self.l_code.d.next = self.s_op_code.val();
                        self.l_len.d.next = self.s_op_len.val();
                    }
                }
            }
            QsState::Exec => {
                self.state.d.next = QsState::Idle;
                if self.l_kind.q.val() == self.k_read.val() {
                    self.s_reg_rd_ack.next = true;
                    self.s_reg_rd_data.next = self.rd_value.val();
                }
                if self.l_kind.q.val() == self.k_write.val() {
                    self.s_reg_wr_ack.next = true;
                    if self.l_off.q.val() == self.o_desc_base_lo.val() {
                        self.desc_base.write_enable.next = true;
                        self.desc_base.write_data.next = (self.desc_base.read_data.val()
                            & bit_cast::<64, 64>(self.keep_hi32.val()))
                            | bit_cast::<64, 32>(self.l_data.q.val());
                    }
                    if self.l_off.q.val() == self.o_desc_base_hi.val() {
                        self.desc_base.write_enable.next = true;
                        self.desc_base.write_data.next = (self.desc_base.read_data.val()
                            & bit_cast::<64, 64>(self.keep_lo32.val()))
                            | (bit_cast::<64, 32>(self.l_data.q.val()) << 32);
                    }
                    if self.l_off.q.val() == self.o_cpl_base_lo.val() {
                        self.cpl_base.write_enable.next = true;
                        self.cpl_base.write_data.next = (self.cpl_base.read_data.val()
                            & bit_cast::<64, 64>(self.keep_hi32.val()))
                            | bit_cast::<64, 32>(self.l_data.q.val());
                    }
                    if self.l_off.q.val() == self.o_cpl_base_hi.val() {
                        self.cpl_base.write_enable.next = true;
                        self.cpl_base.write_data.next = (self.cpl_base.read_data.val()
                            & bit_cast::<64, 64>(self.keep_lo32.val()))
                            | (bit_cast::<64, 32>(self.l_data.q.val()) << 32);
                    }
                    if self.l_off.q.val() == self.o_config.val() {
                        self.cfg.write_enable.next = true;
                    }
                    if self.l_off.q.val() == self.o_irq_moderation.val() {
                        self.moderation.write_enable.next = true;
                    }
                    if self.l_off.q.val() == self.o_ctrl.val() {
                        self.flags.write_enable.next = true;
                        if self.l_data.q.val().get_bit(0) {
                            if self.config_ok.val() {
                                self.new_flags.next = self.f_started.val();
                                self.indices.write_enable.next = true;
                                self.new_indices.next = 0.into();
                            } else {
                                // CTRL_EN as written, CONFIG_ERROR, not running;
                                // a DMA error state from before is kept.
                                self.new_flags.next = (self.cur_flags.val() & self.f_error.val())
                                    | self.f_ctrl_cfg.val();
                                self.m_err_config.next = true;
                            }
                        } else {
                            self.new_flags.next = self.cur_flags.val() & self.f_errors.val();
                        }
                    }
                    if self.l_off.q.val() == self.o_db_desc_prod.val() {
                        self.indices.write_enable.next = true;
                        self.new_indices.next = (self.indices.read_data.val()
                            & bit_cast::<64, 64>(self.clear_desc_prod.val()))
                            | bit_cast::<64, 16>(self.l_data.q.val().get_bits::<16>(0));
                        self.s_reg_wr_ack.next = false;
                        self.state.d.next = QsState::Doorbell;
                    }
                    if self.l_off.q.val() == self.o_db_cpl_cons.val() {
                        self.indices.write_enable.next = true;
                        self.new_indices.next = (self.indices.read_data.val()
                            & bit_cast::<64, 64>(self.clear_cpl_cons.val()))
                            | (bit_cast::<64, 16>(self.l_data.q.val().get_bits::<16>(0)) << 16);
                        if self.l_data.q.val().get_bit(31) {
                            self.s_reg_wr_ack.next = false;
                            self.l_irq_op.d.next = self.irq_arm.val();
                            self.l_irq_arm.d.next = false;
                            self.state.d.next = QsState::IrqFirst;
                        }
                    }
                    if self.l_off.q.val() == self.o_irq_ctrl.val() {
                        self.s_reg_wr_ack.next = false;
                        if self.l_data.q.val().get_bit(1) {
                            self.l_irq_op.d.next = self.irq_mask.val();
                        } else {
                            self.l_irq_op.d.next = self.irq_unmask.val();
                        }
                        self.l_irq_arm.d.next = self.l_data.q.val().get_bit(0);
                        self.state.d.next = QsState::IrqFirst;
                    }
                }
                if self.l_kind.q.val() == self.k_op.val() {
                    self.m_rsp_valid.next = true;
                    self.m_rsp_vector.next = self.cur_vector.val();
                    self.m_rsp_moderation.next = self.moderation.read_data.val();
                    if self.l_code.q.val() == self.op_complete.val() {
                        self.m_rsp_addr.next = self.cpl_slot.val();
                        self.m_rsp_index.next = self.cpl_prod.val();
                        self.m_rsp_phase.next = self.not_wrapped.val();
                        if bit_cast::<17, 16>(self.cpl_used.val()) >= self.ring_size.val() {
                            self.m_rsp_status.next = self.rsp_full.val();
                        } else {
                            self.indices.write_enable.next = true;
                            self.new_indices.next =
                                self.indices.read_data.val() + self.cpl_prod_one.val();
                            self.packets.write_enable.next = true;
                            self.bytes.write_enable.next = true;
                        }
                    } else if self.l_code.q.val() == self.op_error.val() {
                        self.flags.write_enable.next = true;
                        self.new_flags.next =
                            (self.cur_flags.val() & self.f_ctrl_cfg.val()) | self.f_error.val();
                    } else {
                        // TAKE_DESC or PEEK.
                        self.m_rsp_addr.next = self.desc_slot.val();
                        self.m_rsp_index.next = self.desc_cons.val();
                        if !self.cur_flags.val().get_bit(1) {
                            self.m_rsp_status.next = self.rsp_disabled.val();
                        } else if self.desc_cons.val() == self.desc_prod.val() {
                            self.m_rsp_status.next = self.rsp_empty.val();
                        } else if self.l_code.q.val() == self.op_take.val() {
                            self.indices.write_enable.next = true;
                            // DESC_CONS + 1, wrapping inside its 16 bits.
                            self.new_indices.next = (self.indices.read_data.val()
                                & bit_cast::<64, 64>(self.clear_desc_cons.val()))
                                | (bit_cast::<64, 16>(self.desc_cons.val() + 1) << 32);
                        }
                    }
                }
            }
            QsState::Doorbell => {
                self.m_db_valid.next = true;
                if self.m_db_ready.val() {
                    self.s_reg_wr_ack.next = true;
                    self.state.d.next = QsState::Idle;
                }
            }
            QsState::IrqFirst => {
                self.m_irq_cmd_valid.next = true;
                if self.m_irq_cmd_ready.val() {
                    if self.l_irq_arm.q.val() {
                        self.l_irq_op.d.next = self.irq_arm.val();
                        self.state.d.next = QsState::IrqArm;
                    } else {
                        self.s_reg_wr_ack.next = true;
                        self.state.d.next = QsState::Idle;
                    }
                }
            }
            QsState::IrqArm => {
                self.m_irq_cmd_valid.next = true;
                if self.m_irq_cmd_ready.val() {
                    self.s_reg_wr_ack.next = true;
                    self.state.d.next = QsState::Idle;
                }
            }
        }
        // Reset sweep: every queue back to the map's reset values.
        if !self.cleared.q.val() {
            self.desc_base.write_enable.next = true;
            self.cpl_base.write_enable.next = true;
            self.cfg.write_enable.next = true;
            self.moderation.write_enable.next = true;
            self.flags.write_enable.next = true;
            self.indices.write_enable.next = true;
            self.packets.write_enable.next = true;
            self.bytes.write_enable.next = true;
            self.desc_base.write_address.next = self.sweep.q.val();
            self.cpl_base.write_address.next = self.sweep.q.val();
            self.cfg.write_address.next = self.sweep.q.val();
            self.moderation.write_address.next = self.sweep.q.val();
            self.flags.write_address.next = self.sweep.q.val();
            self.indices.write_address.next = self.sweep.q.val();
            self.packets.write_address.next = self.sweep.q.val();
            self.bytes.write_address.next = self.sweep.q.val();
            self.desc_base.write_data.next = 0.into();
            self.cpl_base.write_data.next = 0.into();
            self.cfg.write_data.next = self.config_reset.val();
            self.moderation.write_data.next = 0.into();
            self.new_flags.next = 0.into();
            self.new_indices.next = 0.into();
            self.packets.write_data.next = 0.into();
            self.bytes.write_data.next = 0.into();
            self.sweep.d.next = self.sweep.q.val() + 1;
            if self.sweep.q.val().all() {
                self.cleared.d.next = true;
            }
        }
        if self.rst.val() {
            self.cleared.d.next = false;
            self.sweep.d.next = 0.into();
            self.state.d.next = QsState::Idle;
        }
        // Last: the flags and indices words as the branches above left them.
        self.flags.write_data.next = self.new_flags.val();
        self.indices.write_data.next = self.new_indices.val();
    }
}
