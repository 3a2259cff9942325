//! `irq_unit` — the interrupt path of the NIC, from the engines' completion
//! events to the MSI-X message write on the DMA bus.
//!
//! ```text
//! s_rx_event ─┐                                   s_rx_cmd ─┐
//! s_tx_event ─┴► irq_moderation ─EVENT─► irq_latch ◄────────┴─ s_tx_cmd
//!    │  (queue | dir << QW)                  │ fires (queue)
//!    └─► vector RAM[queue] := vector ──read──┘
//!                                            ▼
//!                  s_err_irq (csr, ERR_VECTOR) ─► msix ─► message ─► m_axi_* (write)
//! ```
//!
//! Queues of both directions share one `irq_moderation` and one `irq_latch`,
//! generated for twice the queue count: the interrupt queue number is the queue
//! with the direction in bit `QW` (0 RX, 1 TX); the RX/TX queue blocks' register
//! commands (`IRQ_CTRL`, `DB_CPL_CONS.REARM`) and their `IRQ_CTRL` reads use the
//! same numbering (`rd_queue` carries the direction bit; `oxnic_top` selects it
//! by the register address).
//!
//! **Vector lookup.** Every event carries its queue's vector (the engines read
//! CONFIG.VECTOR from `queue_state` with the completion slot). It is written into
//! a vector RAM indexed by interrupt queue in the cycle the event is accepted,
//! before the event can reach `irq_latch`, and read back when the latch fires.
//! A queue can only fire with an event latched, and every latched event wrote the
//! RAM first, so the RAM needs no reset sweep: after a reset every queue's entry
//! is rewritten by its first event before it can be read.
//!
//! **Arbitration.** RX and TX events take turns when both wait. Register commands
//! go to `irq_latch` before moderated events (they come one per register write,
//! so events wait at most one cycle per driver write). The error interrupt of
//! `csr` (device-level causes, on ERR_VECTOR) goes to `msix` before queue
//! interrupts.
//!
//! **Message write.** `msix` produces (address, data); this block writes it as a
//! single-beat 4-byte AXI write (AWSIZE 2, the 32-bit lane picked by address bit 2)
//! and waits for its B response before taking the next message. The ordering
//! rule (an interrupt never overtakes its data) holds because the engines raise an
//! event only after the completion write's B response: the data is in host memory
//! before the event enters this unit. A message write that gets an error response
//! is not retried (the platform refused the address; PCIe drops such a message
//! too); it still ends the write.
//!
//! **Reset.** `rst` resets every sub-block (their RAM sweeps raise `busy`) and the
//! two small state machines. `soft_rst` (CTRL.SOFT_RESET) does the same except
//! in `msix`, where only the pending bits clear: the table and MSI-X control
//! are the platform's and are kept. `halt` (soft reset in progress) stops taking new
//! messages from `msix`, so that once `idle` is high no AXI write is outstanding
//! and `rst` may follow without cutting a transaction.

use crate::{IrqLatch, IrqModeration, Msix};
use rust_hdl::prelude::*;

/// Width of BAR0 byte offsets on the MSI-X register port.
pub const ADDR_BITS: usize = crate::msix::ADDR_BITS;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum LookupState {
    /// Ready for the next firing queue.
    Idle,
    /// The vector RAM is reading the queue's vector.
    Read,
    /// The vector is offered to `msix`.
    Offer,
}

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum MsgState {
    /// Ready for the next message.
    Idle,
    /// AW and W offered (each until taken).
    Send,
    /// Waiting for the B response.
    Resp,
}

/// The interrupt path for `2^QW` queues per direction (`QW1 = QW + 1`) and up to
/// `2^VW` MSI-X vectors (`WW = VW - 5`, as `Msix`).
#[derive(LogicBlock)]
pub struct IrqUnit<const QW: usize, const QW1: usize, const VW: usize, const WW: usize> {
    /// Clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset of the whole unit (sub-blocks sweep their RAMs).
    pub rst: Signal<In, Bit>,
    /// Synchronous soft reset (CTRL.SOFT_RESET): as `rst`, except that the
    /// MSI-X table and MSI-X control, which the platform programmed, are kept
    /// (only the pending bits clear).
    pub soft_rst: Signal<In, Bit>,
    /// Soft reset in progress: take no new message.
    pub halt: Signal<In, Bit>,
    /// RX completion event valid.
    pub s_rx_event_valid: Signal<In, Bit>,
    /// RX event taken.
    pub s_rx_event_ready: Signal<Out, Bit>,
    /// RX queue of the event.
    pub s_rx_event_queue: Signal<In, Bits<QW>>,
    /// The queue's CONFIG.VECTOR.
    pub s_rx_event_vector: Signal<In, Bits<12>>,
    /// The queue's IRQ_MODERATION.
    pub s_rx_event_moderation: Signal<In, Bits<32>>,
    /// TX completion event valid.
    pub s_tx_event_valid: Signal<In, Bit>,
    /// TX event taken.
    pub s_tx_event_ready: Signal<Out, Bit>,
    /// TX queue of the event.
    pub s_tx_event_queue: Signal<In, Bits<QW>>,
    /// The queue's CONFIG.VECTOR.
    pub s_tx_event_vector: Signal<In, Bits<12>>,
    /// The queue's IRQ_MODERATION.
    pub s_tx_event_moderation: Signal<In, Bits<32>>,
    /// RX queue register command (arm/mask/unmask) valid.
    pub s_rx_cmd_valid: Signal<In, Bit>,
    /// RX command taken.
    pub s_rx_cmd_ready: Signal<Out, Bit>,
    /// RX queue of the command.
    pub s_rx_cmd_queue: Signal<In, Bits<QW>>,
    /// `irq_latch` operation.
    pub s_rx_cmd_op: Signal<In, Bits<2>>,
    /// TX queue register command valid.
    pub s_tx_cmd_valid: Signal<In, Bit>,
    /// TX command taken.
    pub s_tx_cmd_ready: Signal<Out, Bit>,
    /// TX queue of the command.
    pub s_tx_cmd_queue: Signal<In, Bits<QW>>,
    /// `irq_latch` operation.
    pub s_tx_cmd_op: Signal<In, Bits<2>>,
    /// Interrupt queue (direction in bit QW) whose arm/mask/pending state to read.
    pub rd_queue: Signal<In, Bits<QW1>>,
    /// That state, one cycle later (`irq_latch::STATE_*`).
    pub rd_state: Signal<Out, Bits<3>>,
    /// Device-level (error) interrupt request from `csr`.
    pub s_err_irq_valid: Signal<In, Bit>,
    /// Error interrupt taken.
    pub s_err_irq_ready: Signal<Out, Bit>,
    /// Its vector (ERR_VECTOR).
    pub s_err_irq_vector: Signal<In, Bits<12>>,
    /// MSI-X window write offered (from `csr`).
    pub s_wr_valid: Signal<In, Bit>,
    /// MSI-X window write taken.
    pub s_wr_ready: Signal<Out, Bit>,
    /// BAR0 offset of the write.
    pub s_wr_addr: Signal<In, Bits<ADDR_BITS>>,
    /// Write data.
    pub s_wr_data: Signal<In, Bits<32>>,
    /// MSI-X window read offered.
    pub s_rd_valid: Signal<In, Bit>,
    /// MSI-X window read taken.
    pub s_rd_ready: Signal<Out, Bit>,
    /// BAR0 offset of the read.
    pub s_rd_addr: Signal<In, Bits<ADDR_BITS>>,
    /// Read answer valid (one cycle).
    pub m_rd_valid: Signal<Out, Bit>,
    /// Read answer.
    pub m_rd_data: Signal<Out, Bits<32>>,
    /// Message write: AW ID (always 0).
    pub m_axi_awid: Signal<Out, Bits<4>>,
    /// Message address.
    pub m_axi_awaddr: Signal<Out, Bits<64>>,
    /// Burst length − 1 (0: one beat).
    pub m_axi_awlen: Signal<Out, Bits<8>>,
    /// Beat size (2: 4 bytes).
    pub m_axi_awsize: Signal<Out, Bits<3>>,
    /// Burst type (INCR).
    pub m_axi_awburst: Signal<Out, Bits<2>>,
    /// AW valid.
    pub m_axi_awvalid: Signal<Out, Bit>,
    /// AW ready.
    pub m_axi_awready: Signal<In, Bit>,
    /// Message data in the lane of address bit 2.
    pub m_axi_wdata: Signal<Out, Bits<64>>,
    /// Byte strobes of that lane.
    pub m_axi_wstrb: Signal<Out, Bits<8>>,
    /// Last beat (always).
    pub m_axi_wlast: Signal<Out, Bit>,
    /// W valid.
    pub m_axi_wvalid: Signal<Out, Bit>,
    /// W ready.
    pub m_axi_wready: Signal<In, Bit>,
    /// B ID.
    pub m_axi_bid: Signal<In, Bits<4>>,
    /// B response (an error is not retried).
    pub m_axi_bresp: Signal<In, Bits<2>>,
    /// B valid.
    pub m_axi_bvalid: Signal<In, Bit>,
    /// B ready.
    pub m_axi_bready: Signal<Out, Bit>,
    /// A sub-block is sweeping its RAM after reset.
    pub busy: Signal<Out, Bit>,
    /// No message write outstanding.
    pub idle: Signal<Out, Bit>,
    moderation: IrqModeration<QW1>,
    latch: IrqLatch<QW1>,
    msix: Msix<VW, WW>,
    vectors: RAM<Bits<12>, QW1>,
    tx_turn: DFF<Bit>,
    lookup: DFF<LookupState>,
    lookup_queue: DFF<Bits<QW1>>,
    lookup_vector: DFF<Bits<12>>,
    msg: DFF<MsgState>,
    msg_addr: DFF<Bits<64>>,
    msg_data: DFF<Bits<32>>,
    aw_done: DFF<Bit>,
    w_done: DFF<Bit>,
    pick_tx: Signal<Local, Bit>,
    unit_rst: Signal<Local, Bit>,
    rx_cmd_queue: Signal<Local, Bits<QW1>>,
    tx_cmd_queue: Signal<Local, Bits<QW1>>,
    rx_event_queue: Signal<Local, Bits<QW1>>,
    tx_event_queue: Signal<Local, Bits<QW1>>,
    event_accept: Signal<Local, Bit>,
    aw_now: Signal<Local, Bit>,
    w_now: Signal<Local, Bit>,
    dir_bit: Constant<Bits<QW1>>,
    op_event: Constant<Bits<2>>,
}

impl<const QW: usize, const QW1: usize, const VW: usize, const WW: usize> IrqUnit<QW, QW1, VW, WW> {
    /// An interrupt unit for `vectors` MSI-X vectors, with a moderation timer
    /// counting microseconds of a `clock_mhz` clock.
    pub fn new(vectors: u32, clock_mhz: u32) -> Self {
        assert!(QW1 == QW + 1, "IrqUnit<QW, QW1, ..>: QW1 must be QW + 1");
        Self {
            clk: Default::default(),
            rst: Default::default(),
            soft_rst: Default::default(),
            halt: Default::default(),
            s_rx_event_valid: Default::default(),
            s_rx_event_ready: Default::default(),
            s_rx_event_queue: Default::default(),
            s_rx_event_vector: Default::default(),
            s_rx_event_moderation: Default::default(),
            s_tx_event_valid: Default::default(),
            s_tx_event_ready: Default::default(),
            s_tx_event_queue: Default::default(),
            s_tx_event_vector: Default::default(),
            s_tx_event_moderation: Default::default(),
            s_rx_cmd_valid: Default::default(),
            s_rx_cmd_ready: Default::default(),
            s_rx_cmd_queue: Default::default(),
            s_rx_cmd_op: Default::default(),
            s_tx_cmd_valid: Default::default(),
            s_tx_cmd_ready: Default::default(),
            s_tx_cmd_queue: Default::default(),
            s_tx_cmd_op: Default::default(),
            rd_queue: Default::default(),
            rd_state: Default::default(),
            s_err_irq_valid: Default::default(),
            s_err_irq_ready: Default::default(),
            s_err_irq_vector: Default::default(),
            s_wr_valid: Default::default(),
            s_wr_ready: Default::default(),
            s_wr_addr: Default::default(),
            s_wr_data: Default::default(),
            s_rd_valid: Default::default(),
            s_rd_ready: Default::default(),
            s_rd_addr: Default::default(),
            m_rd_valid: Default::default(),
            m_rd_data: Default::default(),
            m_axi_awid: Default::default(),
            m_axi_awaddr: Default::default(),
            m_axi_awlen: Default::default(),
            m_axi_awsize: Default::default(),
            m_axi_awburst: Default::default(),
            m_axi_awvalid: Default::default(),
            m_axi_awready: Default::default(),
            m_axi_wdata: Default::default(),
            m_axi_wstrb: Default::default(),
            m_axi_wlast: Default::default(),
            m_axi_wvalid: Default::default(),
            m_axi_wready: Default::default(),
            m_axi_bid: Default::default(),
            m_axi_bresp: Default::default(),
            m_axi_bvalid: Default::default(),
            m_axi_bready: Default::default(),
            busy: Default::default(),
            idle: Default::default(),
            moderation: IrqModeration::new(clock_mhz),
            latch: Default::default(),
            msix: Msix::new(vectors),
            vectors: Default::default(),
            tx_turn: Default::default(),
            lookup: Default::default(),
            lookup_queue: Default::default(),
            lookup_vector: Default::default(),
            msg: Default::default(),
            msg_addr: Default::default(),
            msg_data: Default::default(),
            aw_done: Default::default(),
            w_done: Default::default(),
            unit_rst: Default::default(),
            pick_tx: Default::default(),
            rx_cmd_queue: Default::default(),
            tx_cmd_queue: Default::default(),
            rx_event_queue: Default::default(),
            tx_event_queue: Default::default(),
            event_accept: Default::default(),
            aw_now: Default::default(),
            w_now: Default::default(),
            dir_bit: Constant::new((1u64 << QW).to_bits()),
            op_event: Constant::new(crate::irq_latch::OP_EVENT.to_bits()),
        }
    }
}

impl<const QW: usize, const QW1: usize, const VW: usize, const WW: usize> Logic
    for IrqUnit<QW, QW1, VW, WW>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clk,
            tx_turn,
            lookup,
            lookup_queue,
            lookup_vector,
            msg,
            msg_addr,
            msg_data,
            aw_done,
            w_done
        );
        self.moderation.clk.next = self.clk.val();
        self.latch.clk.next = self.clk.val();
        self.msix.clk.next = self.clk.val();
        self.unit_rst.next = self.rst.val() | self.soft_rst.val();
        self.moderation.rst.next = self.unit_rst.val();
        self.latch.rst.next = self.unit_rst.val();
        self.msix.rst.next = self.rst.val();
        self.msix.rst_pending.next = self.soft_rst.val();
        self.vectors.read_clock.next = self.clk.val();
        self.vectors.write_clock.next = self.clk.val();
        self.busy.next = self.moderation.busy.val() | self.latch.busy.val() | self.msix.busy.val();

        // Interrupt queue numbers: the direction in bit QW.
        self.rx_event_queue.next = bit_cast::<QW1, QW>(self.s_rx_event_queue.val());
        self.tx_event_queue.next =
            bit_cast::<QW1, QW>(self.s_tx_event_queue.val()) | self.dir_bit.val();
        self.rx_cmd_queue.next = bit_cast::<QW1, QW>(self.s_rx_cmd_queue.val());
        self.tx_cmd_queue.next =
            bit_cast::<QW1, QW>(self.s_tx_cmd_queue.val()) | self.dir_bit.val();

        // Events: RX and TX take turns when both wait.
        self.pick_tx.next =
            self.s_tx_event_valid.val() & ((!self.s_rx_event_valid.val()) | self.tx_turn.q.val());
        self.moderation.s_event_valid.next =
            self.s_rx_event_valid.val() | self.s_tx_event_valid.val();
        self.moderation.s_event_queue.next = self.rx_event_queue.val();
        self.moderation.s_event_moderation.next = self.s_rx_event_moderation.val();
        self.vectors.write_address.next = self.rx_event_queue.val();
        self.vectors.write_data.next = self.s_rx_event_vector.val();
        if self.pick_tx.val() {
            self.moderation.s_event_queue.next = self.tx_event_queue.val();
            self.moderation.s_event_moderation.next = self.s_tx_event_moderation.val();
            self.vectors.write_address.next = self.tx_event_queue.val();
            self.vectors.write_data.next = self.s_tx_event_vector.val();
        }
        self.event_accept.next =
            self.moderation.s_event_valid.val() & self.moderation.s_event_ready.val();
        self.s_rx_event_ready.next = self.moderation.s_event_ready.val() & (!self.pick_tx.val());
        self.s_tx_event_ready.next = self.moderation.s_event_ready.val() & self.pick_tx.val();
        // The vector is recorded as the event enters, before it can reach the latch.
        self.vectors.write_enable.next = self.event_accept.val();
        if self.event_accept.val() {
            self.tx_turn.d.next = !self.pick_tx.val();
        }

        // irq_latch commands: RX register commands, then TX, then moderated events.
        self.latch.s_cmd_valid.next = self.s_rx_cmd_valid.val()
            | self.s_tx_cmd_valid.val()
            | self.moderation.m_event_valid.val();
        self.s_rx_cmd_ready.next = false;
        self.s_tx_cmd_ready.next = false;
        self.moderation.m_event_ready.next = false;
        if self.s_rx_cmd_valid.val() {
            self.latch.s_cmd_queue.next = self.rx_cmd_queue.val();
            self.latch.s_cmd_op.next = self.s_rx_cmd_op.val();
            self.s_rx_cmd_ready.next = self.latch.s_cmd_ready.val();
        } else if self.s_tx_cmd_valid.val() {
            self.latch.s_cmd_queue.next = self.tx_cmd_queue.val();
            self.latch.s_cmd_op.next = self.s_tx_cmd_op.val();
            self.s_tx_cmd_ready.next = self.latch.s_cmd_ready.val();
        } else {
            self.latch.s_cmd_queue.next = self.moderation.m_event_queue.val();
            self.latch.s_cmd_op.next = self.op_event.val();
            self.moderation.m_event_ready.next = self.latch.s_cmd_ready.val();
        }
        self.latch.rd_queue.next = self.rd_queue.val();
        self.rd_state.next = self.latch.rd_state.val();

        // Vector lookup of a firing queue: take it, read its vector, offer it.
        self.latch.m_irq_ready.next = false;
        self.vectors.read_address.next = self.lookup_queue.q.val();
        match self.lookup.q.val() {
            LookupState::Idle => {
                self.latch.m_irq_ready.next = true;
                if self.latch.m_irq_valid.val() {
                    self.lookup_queue.d.next = self.latch.m_irq_queue.val();
                    self.vectors.read_address.next = self.latch.m_irq_queue.val();
                    self.lookup.d.next = LookupState::Read;
                }
            }
            LookupState::Read => {
                self.lookup_vector.d.next = self.vectors.read_data.val();
                self.lookup.d.next = LookupState::Offer;
            }
            LookupState::Offer => {}
        }

        // msix requests: the error interrupt first, then the looked-up queue vector.
        self.s_err_irq_ready.next = false;
        self.msix.s_irq_valid.next = false;
        self.msix.s_irq_vector.next = bit_cast::<VW, 12>(self.lookup_vector.q.val());
        if self.s_err_irq_valid.val() {
            self.msix.s_irq_valid.next = true;
            self.msix.s_irq_vector.next = bit_cast::<VW, 12>(self.s_err_irq_vector.val());
            self.s_err_irq_ready.next = self.msix.s_irq_ready.val();
        } else if self.lookup.q.val() == LookupState::Offer {
            self.msix.s_irq_valid.next = true;
            if self.msix.s_irq_ready.val() {
                self.lookup.d.next = LookupState::Idle;
            }
        }

        // MSI-X register window.
        self.msix.s_wr_valid.next = self.s_wr_valid.val();
        self.msix.s_wr_addr.next = self.s_wr_addr.val();
        self.msix.s_wr_data.next = self.s_wr_data.val();
        self.s_wr_ready.next = self.msix.s_wr_ready.val();
        self.msix.s_rd_valid.next = self.s_rd_valid.val();
        self.msix.s_rd_addr.next = self.s_rd_addr.val();
        self.s_rd_ready.next = self.msix.s_rd_ready.val();
        self.m_rd_valid.next = self.msix.m_rd_valid.val();
        self.m_rd_data.next = self.msix.m_rd_data.val();

        // Message write: one 4-byte AXI write at a time, B awaited.
        self.m_axi_awid.next = 0.into();
        self.m_axi_awaddr.next = self.msg_addr.q.val();
        self.m_axi_awlen.next = 0.into();
        self.m_axi_awsize.next = 2.into();
        self.m_axi_awburst.next = 1.into();
        self.m_axi_wlast.next = true;
        self.m_axi_wdata.next = bit_cast::<64, 32>(self.msg_data.q.val());
        self.m_axi_wstrb.next = 0x0F.into();
        if self.msg_addr.q.val().get_bit(2) {
            self.m_axi_wdata.next = bit_cast::<64, 32>(self.msg_data.q.val()) << 32;
            self.m_axi_wstrb.next = 0xF0.into();
        }
        self.m_axi_awvalid.next = false;
        self.m_axi_wvalid.next = false;
        self.m_axi_bready.next = false;
        self.msix.m_msg_ready.next = false;
        self.aw_now.next = false;
        self.w_now.next = false;
        match self.msg.q.val() {
            MsgState::Idle => {
                self.msix.m_msg_ready.next = !self.halt.val();
                if self.msix.m_msg_valid.val() & (!self.halt.val()) {
                    self.msg_addr.d.next = self.msix.m_msg_addr.val();
                    self.msg_data.d.next = self.msix.m_msg_data.val();
                    self.aw_done.d.next = false;
                    self.w_done.d.next = false;
                    self.msg.d.next = MsgState::Send;
                }
            }
            MsgState::Send => {
                self.m_axi_awvalid.next = !self.aw_done.q.val();
                self.m_axi_wvalid.next = !self.w_done.q.val();
                self.aw_now.next = self.aw_done.q.val() | self.m_axi_awready.val();
                self.w_now.next = self.w_done.q.val() | self.m_axi_wready.val();
                self.aw_done.d.next = self.aw_now.val();
                self.w_done.d.next = self.w_now.val();
                if self.aw_now.val() & self.w_now.val() {
                    self.msg.d.next = MsgState::Resp;
                }
            }
            MsgState::Resp => {
                self.m_axi_bready.next = true;
                if self.m_axi_bvalid.val() {
                    self.msg.d.next = MsgState::Idle;
                }
            }
        }
        self.idle.next = self.msg.q.val() == MsgState::Idle;

        if self.unit_rst.val() {
            self.lookup.d.next = LookupState::Idle;
            self.msg.d.next = MsgState::Idle;
            self.tx_turn.d.next = false;
        }
    }
}
