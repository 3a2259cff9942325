//! `msix` — the MSI-X table, pending bit array and function-level control.
//!
//! Semantics (PCIe, see ../shared/notes/semantics.md): each vector has a message
//! address, data and a per-vector mask bit (set after reset). A request for a
//! vector that is masked — by its own bit, by the function mask, or because MSI-X
//! is not enabled — sets the vector's pending bit instead of sending; when the
//! vector becomes deliverable again (its mask cleared, the function mask cleared,
//! MSI-X enabled) with its pending bit set, the message is sent once and the bit
//! cleared. Nothing is lost, nothing is sent twice. Invariant: a pending bit is
//! only ever set while its vector is undeliverable, or for the duration of the
//! re-delivery sweep that follows a function-level unmask or enable.
//!
//! The table lives in RAMs (address low/high, data: one per word, so a 32-bit
//! register write needs no read/modify/write of a wide entry); mask and pending
//! bits in RAMs of 32-bit words, the PBA's own layout, so a PBA read is one RAM
//! read. Operations — register write, register read, interrupt request, and the
//! re-delivery sweep after a function-level unmask — are serialised by a small
//! state machine: interrupts are rare next to packets, and serialising makes the
//! ordering argument trivial. An operation takes two cycles (look up, execute),
//! plus the handshake of the message it sends. The sweep goes before interrupt
//! requests (register accesses still go first): it starts only when the function
//! becomes deliverable, a rare driver action, and then ends within two cycles per
//! vector plus its messages, so neither side waits without bound. (With requests
//! first, a steady stream of them held the sweep off indefinitely — found by
//! tb/msix.)
//!
//! Addresses on the register ports are BAR0 byte offsets; decoding uses the
//! `oxnic_regs::msix` constants. Offsets inside the window that name no entry
//! (vectors at or above the generated count) read 0 and ignore writes.
//!
//! Two resets: `rst` returns everything to the reset state (entries zeroed and
//! masked, MSI-X disabled); `rst_pending`, the device's soft reset, clears only
//! the pending bits and drops a message or re-delivery sweep in progress — the
//! table and control are the platform's, and a device reset leaves them alone.
//!
//! The message leaves on `m_msg_*` (a DWORD write of `data` to `addr`); whoever
//! consumes it (the DMA write path) must order it after the completion writes it
//! announces.

use oxnic_regs::msix;
use rust_hdl::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum MsixState {
    /// Reset sweep: every entry zeroed, every mask bit set, every pending bit
    /// clear (after `rst_pending`: the pending bits only).
    Clear,
    Idle,
    /// RAM data for the accepted operation is valid: act on it.
    Exec,
    /// A message is offered on m_msg_*.
    Send,
}

/// Width of BAR0 byte offsets on the register ports.
pub const ADDR_BITS: usize = 19;

/// MSI-X unit for up to `2^VW` vectors (VW >= 6); `WW = VW - 5` is the width of
/// the mask/PBA word index.
#[derive(LogicBlock)]
pub struct Msix<const VW: usize, const WW: usize> {
    /// Clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset, active high: everything, the table included (every
    /// entry zeroed and masked, MSI-X disabled, function unmasked, PBA clear).
    pub rst: Signal<In, Bit>,
    /// Synchronous soft reset (the device's CTRL.SOFT_RESET), active high: the
    /// pending bits are cleared and a message or re-delivery sweep in progress is
    /// dropped; the table, the mask bits and the MSI-X control (enable, function
    /// mask), which the platform programmed, are kept.
    pub rst_pending: Signal<In, Bit>,
    /// Register write offered.
    pub s_wr_valid: Signal<In, Bit>,
    /// Register write taken.
    pub s_wr_ready: Signal<Out, Bit>,
    /// BAR0 byte offset of the write.
    pub s_wr_addr: Signal<In, Bits<ADDR_BITS>>,
    /// Write data.
    pub s_wr_data: Signal<In, Bits<32>>,
    /// Register read offered.
    pub s_rd_valid: Signal<In, Bit>,
    /// Register read taken.
    pub s_rd_ready: Signal<Out, Bit>,
    /// BAR0 byte offset of the read.
    pub s_rd_addr: Signal<In, Bits<ADDR_BITS>>,
    /// Read data valid (one cycle, two cycles after the read was taken).
    pub m_rd_valid: Signal<Out, Bit>,
    /// Read data.
    pub m_rd_data: Signal<Out, Bits<32>>,
    /// Interrupt request offered.
    pub s_irq_valid: Signal<In, Bit>,
    /// Interrupt request taken.
    pub s_irq_ready: Signal<Out, Bit>,
    /// Vector requested.
    pub s_irq_vector: Signal<In, Bits<VW>>,
    /// Message offered.
    pub m_msg_valid: Signal<Out, Bit>,
    /// Message taken.
    pub m_msg_ready: Signal<In, Bit>,
    /// Message address.
    pub m_msg_addr: Signal<Out, Bits<64>>,
    /// Message data.
    pub m_msg_data: Signal<Out, Bits<32>>,
    /// Reset sweep in progress.
    pub busy: Signal<Out, Bit>,
    /// Nothing in progress: no operation, no message, no re-delivery sweep.
    pub idle: Signal<Out, Bit>,
    addr_lo: RAM<Bits<32>, VW>,
    addr_hi: RAM<Bits<32>, VW>,
    data: RAM<Bits<32>, VW>,
    mask: RAM<Bits<32>, WW>,
    pba: RAM<Bits<32>, WW>,
    state: DFF<MsixState>,
    clear_index: DFF<Bits<VW>>,
    /// The sweep in `Clear` leaves the table and mask bits alone (after
    /// `rst_pending`); clear (power-up, `rst`) it rewrites them too.
    keep_table: DFF<Bit>,
    enable: DFF<Bit>,
    function_mask: DFF<Bit>,
    sweeping: DFF<Bit>,
    sweep_vector: DFF<Bits<VW>>,
    op_kind: DFF<Bits<3>>,
    op_vector: DFF<Bits<VW>>,
    op_word: DFF<Bits<2>>,
    op_data: DFF<Bits<32>>,
    op_target: DFF<Bits<2>>,
    msg_addr: DFF<Bits<64>>,
    msg_data: DFF<Bits<32>>,
    rd_valid: DFF<Bit>,
    rd_data: DFF<Bits<32>>,
    // Operation codes (op_kind) and read targets (op_target).
    op_table_write: Constant<Bits<3>>,
    op_read: Constant<Bits<3>>,
    op_irq: Constant<Bits<3>>,
    op_kick: Constant<Bits<3>>,
    rd_target_table: Constant<Bits<2>>,
    rd_target_pba: Constant<Bits<2>>,
    rd_target_ctrl: Constant<Bits<2>>,
    rd_target_zero: Constant<Bits<2>>,
    table_lo: Constant<Bits<ADDR_BITS>>,
    table_end: Constant<Bits<ADDR_BITS>>,
    pba_lo: Constant<Bits<ADDR_BITS>>,
    pba_end: Constant<Bits<ADDR_BITS>>,
    ctrl_addr: Constant<Bits<ADDR_BITS>>,
    last_vector: Constant<Bits<VW>>,
    wr_rel: Signal<Local, Bits<ADDR_BITS>>,
    rd_rel: Signal<Local, Bits<ADDR_BITS>>,
    pba_rel: Signal<Local, Bits<ADDR_BITS>>,
    wr_table: Signal<Local, Bit>,
    wr_ctrl: Signal<Local, Bit>,
    rd_table: Signal<Local, Bit>,
    rd_pba: Signal<Local, Bit>,
    rd_ctrl: Signal<Local, Bit>,
    lookup_vector: Signal<Local, Bits<VW>>,
    lookup_word: Signal<Local, Bits<WW>>,
    bit_index: Signal<Local, Bits<5>>,
    masked: Signal<Local, Bit>,
    pending: Signal<Local, Bit>,
    deliverable: Signal<Local, Bit>,
    new_mask: Signal<Local, Bit>,
    was_deliverable: Signal<Local, Bit>,
    now_deliverable: Signal<Local, Bit>,
}

impl<const VW: usize, const WW: usize> Msix<VW, WW> {
    /// An MSI-X unit for `vectors` vectors (1..=2^VW).
    pub fn new(vectors: u32) -> Self {
        assert!(
            VW >= 6 && WW == VW - 5,
            "Msix<VW, WW>: need VW >= 6 and WW = VW - 5"
        );
        assert!(
            vectors >= 1 && vectors as u64 <= 1 << VW,
            "vector count out of range"
        );
        let words = vectors.div_ceil(32);
        let c = |v: u32| Constant::new((v as u64).to_bits());
        Self {
            clk: Default::default(),
            rst: Default::default(),
            rst_pending: Default::default(),
            s_wr_valid: Default::default(),
            s_wr_ready: Default::default(),
            s_wr_addr: Default::default(),
            s_wr_data: Default::default(),
            s_rd_valid: Default::default(),
            s_rd_ready: Default::default(),
            s_rd_addr: Default::default(),
            m_rd_valid: Default::default(),
            m_rd_data: Default::default(),
            s_irq_valid: Default::default(),
            s_irq_ready: Default::default(),
            s_irq_vector: Default::default(),
            m_msg_valid: Default::default(),
            m_msg_ready: Default::default(),
            m_msg_addr: Default::default(),
            m_msg_data: Default::default(),
            busy: Default::default(),
            idle: Default::default(),
            addr_lo: Default::default(),
            addr_hi: Default::default(),
            data: Default::default(),
            mask: Default::default(),
            pba: Default::default(),
            state: Default::default(),
            clear_index: Default::default(),
            keep_table: Default::default(),
            enable: Default::default(),
            function_mask: Default::default(),
            sweeping: Default::default(),
            sweep_vector: Default::default(),
            op_kind: Default::default(),
            op_vector: Default::default(),
            op_word: Default::default(),
            op_data: Default::default(),
            op_target: Default::default(),
            msg_addr: Default::default(),
            msg_data: Default::default(),
            rd_valid: Default::default(),
            rd_data: Default::default(),
            op_table_write: Constant::new(1u64.to_bits()),
            op_read: Constant::new(2u64.to_bits()),
            op_irq: Constant::new(3u64.to_bits()),
            op_kick: Constant::new(4u64.to_bits()),
            rd_target_table: Constant::new(0u64.to_bits()),
            rd_target_pba: Constant::new(1u64.to_bits()),
            rd_target_ctrl: Constant::new(2u64.to_bits()),
            rd_target_zero: Constant::new(3u64.to_bits()),
            table_lo: c(msix::TABLE_OFFSET),
            table_end: c(msix::TABLE_OFFSET + vectors * msix::ENTRY_SIZE),
            pba_lo: c(msix::PBA_OFFSET),
            pba_end: c(msix::PBA_OFFSET + 4 * words),
            ctrl_addr: c(msix::CTRL_OFFSET),
            last_vector: Constant::new(((vectors - 1) as u64).to_bits()),
            wr_rel: Default::default(),
            rd_rel: Default::default(),
            pba_rel: Default::default(),
            wr_table: Default::default(),
            wr_ctrl: Default::default(),
            rd_table: Default::default(),
            rd_pba: Default::default(),
            rd_ctrl: Default::default(),
            lookup_vector: Default::default(),
            lookup_word: Default::default(),
            bit_index: Default::default(),
            masked: Default::default(),
            pending: Default::default(),
            deliverable: Default::default(),
            new_mask: Default::default(),
            was_deliverable: Default::default(),
            now_deliverable: Default::default(),
        }
    }
}

impl<const VW: usize, const WW: usize> Logic for Msix<VW, WW> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clk,
            state,
            clear_index,
            keep_table,
            enable,
            function_mask,
            sweeping,
            sweep_vector,
            op_kind,
            op_vector,
            op_word,
            op_data,
            op_target,
            msg_addr,
            msg_data,
            rd_valid,
            rd_data
        );
        self.addr_lo.read_clock.next = self.clk.val();
        self.addr_lo.write_clock.next = self.clk.val();
        self.addr_hi.read_clock.next = self.clk.val();
        self.addr_hi.write_clock.next = self.clk.val();
        self.data.read_clock.next = self.clk.val();
        self.data.write_clock.next = self.clk.val();
        self.mask.read_clock.next = self.clk.val();
        self.mask.write_clock.next = self.clk.val();
        self.pba.read_clock.next = self.clk.val();
        self.pba.write_clock.next = self.clk.val();

        // Address decode.
        self.wr_rel.next = self.s_wr_addr.val() - self.table_lo.val();
        self.rd_rel.next = self.s_rd_addr.val() - self.table_lo.val();
        self.pba_rel.next = self.s_rd_addr.val() - self.pba_lo.val();
        self.wr_table.next = (self.s_wr_addr.val() >= self.table_lo.val())
            & (self.s_wr_addr.val() < self.table_end.val());
        self.wr_ctrl.next = self.s_wr_addr.val() == self.ctrl_addr.val();
        self.rd_table.next = (self.s_rd_addr.val() >= self.table_lo.val())
            & (self.s_rd_addr.val() < self.table_end.val());
        self.rd_pba.next = (self.s_rd_addr.val() >= self.pba_lo.val())
            & (self.s_rd_addr.val() < self.pba_end.val());
        self.rd_ctrl.next = self.s_rd_addr.val() == self.ctrl_addr.val();

        // Defaults.
        self.s_wr_ready.next = false;
        self.s_rd_ready.next = false;
        self.s_irq_ready.next = false;
        self.m_msg_valid.next = false;
        self.busy.next = false;
        self.rd_valid.d.next = false;
        self.addr_lo.write_enable.next = false;
        self.addr_hi.write_enable.next = false;
        self.data.write_enable.next = false;
        self.mask.write_enable.next = false;
        self.pba.write_enable.next = false;
        self.addr_lo.write_address.next = self.op_vector.q.val();
        self.addr_hi.write_address.next = self.op_vector.q.val();
        self.data.write_address.next = self.op_vector.q.val();
        self.mask.write_address.next = self.op_vector.q.val().get_bits::<WW>(5);
        self.pba.write_address.next = self.op_vector.q.val().get_bits::<WW>(5);
        self.addr_lo.write_data.next = self.op_data.q.val();
        self.addr_hi.write_data.next = self.op_data.q.val();
        self.data.write_data.next = self.op_data.q.val();

        // What the accepted operation will look up: chosen in the same priority
        // order as the handshakes below.
        self.lookup_vector.next = self.sweep_vector.q.val();
        self.lookup_word.next = self.sweep_vector.q.val().get_bits::<WW>(5);
        if self.s_wr_valid.val() {
            self.lookup_vector.next = self.wr_rel.val().get_bits::<VW>(4);
            self.lookup_word.next = self.wr_rel.val().get_bits::<WW>(9);
        } else if self.s_rd_valid.val() {
            self.lookup_vector.next = self.rd_rel.val().get_bits::<VW>(4);
            self.lookup_word.next = self.rd_rel.val().get_bits::<WW>(9);
            if self.rd_pba.val() {
                self.lookup_word.next = self.pba_rel.val().get_bits::<WW>(2);
            }
        } else if self.s_irq_valid.val() & (!self.sweeping.q.val()) {
            self.lookup_vector.next = self.s_irq_vector.val();
            self.lookup_word.next = self.s_irq_vector.val().get_bits::<WW>(5);
        }
        self.addr_lo.read_address.next = self.lookup_vector.val();
        self.addr_hi.read_address.next = self.lookup_vector.val();
        self.data.read_address.next = self.lookup_vector.val();
        self.mask.read_address.next = self.lookup_word.val();
        self.pba.read_address.next = self.lookup_word.val();

        // The looked-up vector's bits, for Exec.
        self.bit_index.next = self.op_vector.q.val().get_bits::<5>(0);
        self.masked.next = self
            .mask
            .read_data
            .val()
            .get_bit(self.bit_index.val().index());
        self.pending.next = self
            .pba
            .read_data
            .val()
            .get_bit(self.bit_index.val().index());
        self.deliverable.next = self.enable.q.val() & (!self.function_mask.q.val());
        self.new_mask.next = self.op_data.q.val().get_bit(0);
        self.was_deliverable.next = self.enable.q.val() & (!self.function_mask.q.val());
        self.now_deliverable.next =
            self.s_wr_data.val().get_bit(0) & (!self.s_wr_data.val().get_bit(1));

        match self.state.q.val() {
            MsixState::Clear => {
                self.busy.next = true;
                self.addr_lo.write_enable.next = !self.keep_table.q.val();
                self.addr_hi.write_enable.next = !self.keep_table.q.val();
                self.data.write_enable.next = !self.keep_table.q.val();
                self.mask.write_enable.next = !self.keep_table.q.val();
                self.pba.write_enable.next = true;
                self.addr_lo.write_address.next = self.clear_index.q.val();
                self.addr_hi.write_address.next = self.clear_index.q.val();
                self.data.write_address.next = self.clear_index.q.val();
                self.mask.write_address.next = self.clear_index.q.val().get_bits::<WW>(5);
                self.pba.write_address.next = self.clear_index.q.val().get_bits::<WW>(5);
                self.addr_lo.write_data.next = 0.into();
                self.addr_hi.write_data.next = 0.into();
                self.data.write_data.next = 0.into();
                self.mask.write_data.next = 0xFFFF_FFFF_u64.into();
                self.pba.write_data.next = 0.into();
                self.clear_index.d.next = self.clear_index.q.val() + 1;
                if self.clear_index.q.val().all() {
                    self.state.d.next = MsixState::Idle;
                }
            }
            MsixState::Idle => {
                self.s_wr_ready.next = true;
                self.s_rd_ready.next = !self.s_wr_valid.val();
                self.s_irq_ready.next =
                    (!self.s_wr_valid.val()) & (!self.s_rd_valid.val()) & (!self.sweeping.q.val());
                self.op_vector.d.next = self.lookup_vector.val();
                if self.s_wr_valid.val() {
                    if self.wr_ctrl.val() {
                        // MSI-X enable / function mask. Becoming deliverable
                        // sends every pending, unmasked vector: sweep them.
                        self.enable.d.next = self.s_wr_data.val().get_bit(0);
                        self.function_mask.d.next = self.s_wr_data.val().get_bit(1);
                        if self.now_deliverable.val() & (!self.was_deliverable.val()) {
                            self.sweeping.d.next = true;
                            self.sweep_vector.d.next = 0.into();
                        }
                    } else if self.wr_table.val() {
                        self.op_kind.d.next = self.op_table_write.val();
                        self.op_word.d.next = self.wr_rel.val().get_bits::<2>(2);
                        self.op_data.d.next = self.s_wr_data.val();
                        self.state.d.next = MsixState::Exec;
                    }
                } else if self.s_rd_valid.val() {
                    self.op_kind.d.next = self.op_read.val();
                    self.op_word.d.next = self.rd_rel.val().get_bits::<2>(2);
                    self.op_target.d.next = self.rd_target_zero.val();
                    if self.rd_table.val() {
                        self.op_target.d.next = self.rd_target_table.val();
                    } else if self.rd_pba.val() {
                        self.op_target.d.next = self.rd_target_pba.val();
                    } else if self.rd_ctrl.val() {
                        self.op_target.d.next = self.rd_target_ctrl.val();
                    }
                    self.state.d.next = MsixState::Exec;
                } else if self.sweeping.q.val() {
                    self.op_kind.d.next = self.op_kick.val();
                    self.state.d.next = MsixState::Exec;
                    self.sweep_vector.d.next = self.sweep_vector.q.val() + 1;
                    if self.sweep_vector.q.val() == self.last_vector.val() {
                        self.sweeping.d.next = false;
                    }
                } else if self.s_irq_valid.val() {
                    // Requests for vectors beyond the generated count are
                    // impossible (queue configuration refuses them); drop them.
                    if self.s_irq_vector.val() <= self.last_vector.val() {
                        self.op_kind.d.next = self.op_irq.val();
                        self.state.d.next = MsixState::Exec;
                    }
                }
            }
            MsixState::Exec => {
                self.state.d.next = MsixState::Idle;
                self.msg_addr.d.next = (bit_cast::<64, 32>(self.addr_hi.read_data.val()) << 32)
                    | bit_cast::<64, 32>(self.addr_lo.read_data.val());
                self.msg_data.d.next = self.data.read_data.val();
                self.mask.write_data.next = self.mask.read_data.val();
                self.pba.write_data.next = self.pba.read_data.val();
                if self.op_kind.q.val() == self.op_table_write.val() {
                    if self.op_word.q.val() == 0 {
                        self.addr_lo.write_enable.next = true;
                    } else if self.op_word.q.val() == 1 {
                        self.addr_hi.write_enable.next = true;
                    } else if self.op_word.q.val() == 2 {
                        self.data.write_enable.next = true;
                    } else {
                        self.mask.write_enable.next = true;
                        self.mask.write_data.next = self
                            .mask
                            .read_data
                            .val()
                            .replace_bit(self.bit_index.val().index(), self.new_mask.val());
                        if (!self.new_mask.val()) & self.pending.val() & self.deliverable.val() {
                            self.pba.write_enable.next = true;
                            self.pba.write_data.next = self
                                .pba
                                .read_data
                                .val()
                                .replace_bit(self.bit_index.val().index(), false);
                            self.state.d.next = MsixState::Send;
                        }
                    }
                } else if self.op_kind.q.val() == self.op_read.val() {
                    self.rd_valid.d.next = true;
                    self.rd_data.d.next = 0.into();
                    if self.op_target.q.val() == self.rd_target_table.val() {
                        if self.op_word.q.val() == 0 {
                            self.rd_data.d.next = self.addr_lo.read_data.val();
                        } else if self.op_word.q.val() == 1 {
                            self.rd_data.d.next = self.addr_hi.read_data.val();
                        } else if self.op_word.q.val() == 2 {
                            self.rd_data.d.next = self.data.read_data.val();
                        } else {
                            self.rd_data.d.next = bit_cast::<32, 1>(self.masked.val().into());
                        }
                    } else if self.op_target.q.val() == self.rd_target_pba.val() {
                        self.rd_data.d.next = self.pba.read_data.val();
                    } else if self.op_target.q.val() == self.rd_target_ctrl.val() {
                        self.rd_data.d.next = bit_cast::<32, 1>(self.enable.q.val().into())
                            | (bit_cast::<32, 1>(self.function_mask.q.val().into()) << 1);
                    }
                } else if self.op_kind.q.val() == self.op_irq.val() {
                    if (!self.masked.val()) & self.deliverable.val() {
                        // Deliverable: send. (Its pending bit is clear by the
                        // invariant, unless a re-delivery sweep has not reached
                        // it yet: this message then covers both.)
                        self.pba.write_enable.next = true;
                        self.pba.write_data.next = self
                            .pba
                            .read_data
                            .val()
                            .replace_bit(self.bit_index.val().index(), false);
                        self.state.d.next = MsixState::Send;
                    } else {
                        self.pba.write_enable.next = true;
                        self.pba.write_data.next = self
                            .pba
                            .read_data
                            .val()
                            .replace_bit(self.bit_index.val().index(), true);
                    }
                } else if (self.op_kind.q.val() == self.op_kick.val())
                    & self.pending.val()
                    & (!self.masked.val())
                    & self.deliverable.val()
                {
                    // Re-delivery sweep: a pending, unmasked vector goes out now.
                    self.pba.write_enable.next = true;
                    self.pba.write_data.next = self
                        .pba
                        .read_data
                        .val()
                        .replace_bit(self.bit_index.val().index(), false);
                    self.state.d.next = MsixState::Send;
                }
            }
            MsixState::Send => {
                self.m_msg_valid.next = true;
                if self.m_msg_ready.val() {
                    self.state.d.next = MsixState::Idle;
                }
            }
            _ => {
                self.state.d.next = MsixState::Clear;
            }
        }
        self.m_msg_addr.next = self.msg_addr.q.val();
        self.m_msg_data.next = self.msg_data.q.val();
        self.idle.next = (self.state.q.val() == MsixState::Idle) & (!self.sweeping.q.val());
        self.m_rd_valid.next = self.rd_valid.q.val();
        self.m_rd_data.next = self.rd_data.q.val();

        if self.rst_pending.val() {
            self.state.d.next = MsixState::Clear;
            self.clear_index.d.next = 0.into();
            self.keep_table.d.next = true;
            self.sweeping.d.next = false;
        }
        if self.rst.val() {
            self.state.d.next = MsixState::Clear;
            self.clear_index.d.next = 0.into();
            self.keep_table.d.next = false;
            self.enable.d.next = false;
            self.function_mask.d.next = false;
            self.sweeping.d.next = false;
        }
    }
}
