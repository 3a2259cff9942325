//! `irq_latch` — per-queue interrupt arm / mask / latch.
//!
//! Every queue has three bits of state, held in a RAM indexed by queue number (not
//! in per-queue registers, so the logic does not grow with the queue count):
//!
//! * `ARMED` (bit 0) — the driver has asked for the next interrupt;
//! * `MASKED` (bit 1) — the driver has masked the queue (IRQ_CTRL.MASK);
//! * `PENDING` (bit 2) — an event is latched and has not fired yet.
//!
//! Commands arrive one per cycle on `s_cmd_*` (`s_cmd_op`: 0 EVENT, 1 ARM, 2 MASK,
//! 3 UNMASK). Each applies its direct effect (EVENT sets PENDING, ARM sets ARMED,
//! MASK/UNMASK set/clear MASKED); then, if the queue is ARMED and PENDING and not
//! MASKED, it *fires*: one request leaves on `m_irq_*` and ARMED and PENDING clear
//! (auto-mask). So the state never rests with ARMED & PENDING & !MASKED: an event
//! is never lost (it stays PENDING until it can fire) and never fires twice (firing
//! clears it). Re-arming with an event pending fires at once.
//!
//! Pipeline: stage 0 issues the RAM read; stage 1 applies the command and writes
//! back. A command for the queue written in the previous cycle would read stale RAM
//! data, so stage 1 forwards the last written state (the queue-RAM read/modify/write
//! hazard). The output is a one-entry register; when it is full and not taken,
//! the pipeline holds and `s_cmd_ready` drops.
//!
//! Reset (`rst`, and power-up) sweeps the RAM to zero, one queue per cycle, with
//! `busy` high and `s_cmd_ready` low meanwhile. `rd_queue` → `rd_state` (one cycle)
//! reads a queue's state for IRQ_CTRL register reads, from a shadow copy of the RAM
//! (rust-hdl's RAM has one read port).

use rust_hdl::prelude::*;

/// Command: an event (completion written) for the queue.
pub const OP_EVENT: u64 = 0;
/// Command: arm the queue (IRQ_CTRL.ARM, or DB_CPL_CONS.REARM).
pub const OP_ARM: u64 = 1;
/// Command: mask the queue.
pub const OP_MASK: u64 = 2;
/// Command: unmask the queue.
pub const OP_UNMASK: u64 = 3;
/// State bit: armed.
pub const STATE_ARMED: u64 = 1;
/// State bit: masked.
pub const STATE_MASKED: u64 = 2;
/// State bit: pending.
pub const STATE_PENDING: u64 = 4;

/// Per-queue interrupt arm/mask/latch for `2^QW` queues.
#[derive(LogicBlock)]
pub struct IrqLatch<const QW: usize> {
    /// Clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset, active high: clears every queue's state.
    pub rst: Signal<In, Bit>,
    /// Command valid.
    pub s_cmd_valid: Signal<In, Bit>,
    /// Command accepted this cycle when valid and ready.
    pub s_cmd_ready: Signal<Out, Bit>,
    /// Queue the command is for.
    pub s_cmd_queue: Signal<In, Bits<QW>>,
    /// Operation (see `OP_*`).
    pub s_cmd_op: Signal<In, Bits<2>>,
    /// Interrupt request valid.
    pub m_irq_valid: Signal<Out, Bit>,
    /// Interrupt request taken when valid and ready.
    pub m_irq_ready: Signal<In, Bit>,
    /// Queue whose interrupt fires.
    pub m_irq_queue: Signal<Out, Bits<QW>>,
    /// Queue whose state to read.
    pub rd_queue: Signal<In, Bits<QW>>,
    /// State of `rd_queue` one cycle earlier (see `STATE_*`).
    pub rd_state: Signal<Out, Bits<3>>,
    /// Reset sweep in progress.
    pub busy: Signal<Out, Bit>,
    state: RAM<Bits<3>, QW>,
    shadow: RAM<Bits<3>, QW>,
    cleared: DFF<Bit>,
    sweep: DFF<Bits<QW>>,
    s1_valid: DFF<Bit>,
    s1_queue: DFF<Bits<QW>>,
    s1_op: DFF<Bits<2>>,
    fwd_valid: DFF<Bit>,
    fwd_queue: DFF<Bits<QW>>,
    fwd_state: DFF<Bits<3>>,
    out_valid: DFF<Bit>,
    out_queue: DFF<Bits<QW>>,
    advance: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    old_state: Signal<Local, Bits<3>>,
    applied: Signal<Local, Bits<3>>,
    mask_value: Signal<Local, Bit>,
    fire: Signal<Local, Bit>,
    new_state: Signal<Local, Bits<3>>,
}

impl<const QW: usize> Default for IrqLatch<QW> {
    fn default() -> Self {
        Self {
            clk: Default::default(),
            rst: Default::default(),
            s_cmd_valid: Default::default(),
            s_cmd_ready: Default::default(),
            s_cmd_queue: Default::default(),
            s_cmd_op: Default::default(),
            m_irq_valid: Default::default(),
            m_irq_ready: Default::default(),
            m_irq_queue: Default::default(),
            rd_queue: Default::default(),
            rd_state: Default::default(),
            busy: Default::default(),
            state: Default::default(),
            shadow: Default::default(),
            cleared: Default::default(),
            sweep: Default::default(),
            s1_valid: Default::default(),
            s1_queue: Default::default(),
            s1_op: Default::default(),
            fwd_valid: Default::default(),
            fwd_queue: Default::default(),
            fwd_state: Default::default(),
            out_valid: Default::default(),
            out_queue: Default::default(),
            advance: Default::default(),
            accept: Default::default(),
            old_state: Default::default(),
            applied: Default::default(),
            mask_value: Default::default(),
            fire: Default::default(),
            new_state: Default::default(),
        }
    }
}

impl<const QW: usize> Logic for IrqLatch<QW> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clk, cleared, sweep, s1_valid, s1_queue, s1_op, fwd_valid, fwd_queue, fwd_state,
            out_valid, out_queue
        );
        self.state.read_clock.next = self.clk.val();
        self.state.write_clock.next = self.clk.val();
        self.shadow.read_clock.next = self.clk.val();
        self.shadow.write_clock.next = self.clk.val();

        // Stage 1 may complete when the output register is free or being emptied.
        self.advance.next = (!self.out_valid.q.val()) | self.m_irq_ready.val();
        self.s_cmd_ready.next = self.cleared.q.val() & self.advance.val() & (!self.rst.val());
        self.accept.next = self.s_cmd_valid.val() & self.s_cmd_ready.val();
        self.busy.next = !self.cleared.q.val();
        self.m_irq_valid.next = self.out_valid.q.val();
        self.m_irq_queue.next = self.out_queue.q.val();

        // Stage 0: read the queue's state. While stage 1 holds, keep re-reading its
        // queue so that the RAM output catches up with the last write.
        if self.accept.val() {
            self.state.read_address.next = self.s_cmd_queue.val();
        } else {
            self.state.read_address.next = self.s1_queue.q.val();
        }

        // Stage 1: forward the previous cycle's write (read/modify/write hazard).
        if self.fwd_valid.q.val() & (self.fwd_queue.q.val() == self.s1_queue.q.val()) {
            self.old_state.next = self.fwd_state.q.val();
        } else {
            self.old_state.next = self.state.read_data.val();
        }
        self.mask_value.next = !self.s1_op.q.val().get_bit(0);
        self.applied.next = self.old_state.val();
        if self.s1_op.q.val().get_bit(1) {
            // MASK (2) sets MASKED, UNMASK (3) clears it.
            // (Through a 1-bit signal: an inverted bit inside `replace_bit` becomes
            // a 32-bit inversion in the generated Verilog.)
            self.applied.next = self.old_state.val().replace_bit(1, self.mask_value.val());
        } else if self.s1_op.q.val().get_bit(0) {
            // ARM
            self.applied.next = self.old_state.val().replace_bit(0, true);
        } else {
            // EVENT
            self.applied.next = self.old_state.val().replace_bit(2, true);
        }
        self.fire.next = self.applied.val().get_bit(0)
            & self.applied.val().get_bit(2)
            & (!self.applied.val().get_bit(1));
        self.new_state.next = self.applied.val();
        if self.fire.val() {
            // Firing implies ARMED & PENDING & !MASKED: clearing both leaves 0.
            self.new_state.next = 0.into();
        }

        self.state.write_enable.next = false;
        self.state.write_address.next = self.s1_queue.q.val();
        self.state.write_data.next = self.new_state.val();
        self.fwd_valid.d.next = false;
        if self.s1_valid.q.val() & self.advance.val() {
            self.state.write_enable.next = true;
            self.fwd_valid.d.next = true;
            self.fwd_queue.d.next = self.s1_queue.q.val();
            self.fwd_state.d.next = self.new_state.val();
            self.out_valid.d.next = self.fire.val();
            self.out_queue.d.next = self.s1_queue.q.val();
        } else if self.advance.val() {
            self.out_valid.d.next = false;
        }
        if self.advance.val() {
            self.s1_valid.d.next = self.accept.val();
            self.s1_queue.d.next = self.s_cmd_queue.val();
            self.s1_op.d.next = self.s_cmd_op.val();
        }

        // Reset sweep: one queue per cycle; power-up starts with `cleared` = 0.
        if !self.cleared.q.val() {
            self.state.write_enable.next = true;
            self.state.write_address.next = self.sweep.q.val();
            self.state.write_data.next = 0.into();
            self.sweep.d.next = self.sweep.q.val() + 1;
            if self.sweep.q.val().all() {
                self.cleared.d.next = true;
            }
        }
        if self.rst.val() {
            self.cleared.d.next = false;
            self.sweep.d.next = 0.into();
            self.s1_valid.d.next = false;
            self.out_valid.d.next = false;
            self.fwd_valid.d.next = false;
        }

        // The shadow copy follows every write of the state RAM.
        self.shadow.write_enable.next = self.state.write_enable.val();
        self.shadow.write_address.next = self.state.write_address.val();
        self.shadow.write_data.next = self.state.write_data.val();
        self.shadow.read_address.next = self.rd_queue.val();
        self.rd_state.next = self.shadow.read_data.val();
    }
}
