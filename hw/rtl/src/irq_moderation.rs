//! `irq_moderation` — per-queue interrupt moderation (ethtool rx-usecs /
//! rx-frames), between the engines' completion events and `irq_latch`.
//!
//! Every event arrives with its queue's `IRQ_MODERATION` setting (the engines
//! read it from `queue_state` together with the completion slot), so this block
//! keeps no register copy. Per queue, in RAM: whether it has forwarded an event
//! since reset, the time of its last forwarded event, the events held since then,
//! and the interval of the held ones.
//!
//! Rule, per queue, with `U` = USECS and `F` = FRAMES of the event:
//! * an event is **forwarded** to `irq_latch` at once when `U` = 0, or the queue
//!   has not forwarded one yet, or at least `U` µs have passed since its last
//!   forwarded event, or `F` ≥ 1 and this event makes `F` events since then;
//! * otherwise it is **held** (counted); a scanner visits the queues in turn
//!   and forwards a held event once `U` µs have passed since the last one.
//!   Events and the scanner take turns when both want the RAM, so neither
//!   starves: one scan step or event per two cycles, at worst alternating.
//!
//! So two forwarded events of a queue are at least `U` µs apart unless `F` events
//! came in between, and a held event is forwarded no later than `U` µs plus one
//! timer tick plus one scan round (at most `4 · 2^QW` cycles) after the previous one.
//! Nothing is lost: held events are forwarded as one (an interrupt announces
//! "completions are pending", not how many).
//!
//! Forwarding is into `irq_latch` as an EVENT; arming and masking stay there, so a
//! queue that is not armed just latches the forwarded event.
//! The interval is therefore measured between forwarded events, not between
//! interrupts: an event forwarded while the queue was disarmed fires when the
//! driver re-arms, and the next event may be forwarded `U` µs after the earlier
//! forward, i.e. sooner than `U` after that interrupt (`IRQ_MODERATION.USECS`
//! says so). Restarting the interval at the latch's fire would need the fire fed
//! back into this block's RAM; hw/rtl/DESIGN.md ("Decisions on the interrupt
//! path") says why it is not.
//!
//! Time: a free-running 32-bit microsecond counter, ticking every `clock_mhz`
//! cycles (the generation parameter `CLOCK_MHZ`), wraps after 71 minutes;
//! elapsed times are computed modulo 2^32.
//!
//! One operation at a time, two cycles each (read the queue's entry, then write
//! it back). Reset sweeps the RAM.

use rust_hdl::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum ModState {
    Idle,
    Event,
    Scan,
}

/// Per-queue interrupt moderation for up to `2^QW` queues.
#[derive(LogicBlock)]
pub struct IrqModeration<const QW: usize> {
    /// Clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset: sweeps the RAM, restarts the timer.
    pub rst: Signal<In, Bit>,
    /// A completion event.
    pub s_event_valid: Signal<In, Bit>,
    /// Event taken.
    pub s_event_ready: Signal<Out, Bit>,
    /// Its queue.
    pub s_event_queue: Signal<In, Bits<QW>>,
    /// The queue's `IRQ_MODERATION` register (USECS in 15:0, FRAMES in 31:16).
    pub s_event_moderation: Signal<In, Bits<32>>,
    /// Event for `irq_latch`.
    pub m_event_valid: Signal<Out, Bit>,
    /// Taken by `irq_latch`.
    pub m_event_ready: Signal<In, Bit>,
    /// Its queue.
    pub m_event_queue: Signal<Out, Bits<QW>>,
    /// Current time in microseconds (for tests and statistics).
    pub now_us: Signal<Out, Bits<32>>,
    /// The reset sweep runs.
    pub busy: Signal<Out, Bit>,

    tick_last: Constant<Bits<10>>,
    zero16: Constant<Bits<16>>,
    seen_bit: Constant<Bits<66>>,
    held_bits: Constant<Bits<66>>,

    // Entry: bit 0 seen, bit 1 holding, 17:2 held count, 33:18 held USECS,
    // 65:34 time of the last forwarded event.
    entry: RAM<Bits<66>, QW>,
    state: DFF<ModState>,
    cleared: DFF<Bit>,
    sweep: DFF<Bits<QW>>,
    scan: DFF<Bits<QW>>,
    scan_turn: DFF<Bit>,
    divider: DFF<Bits<10>>,
    now: DFF<Bits<32>>,
    l_queue: DFF<Bits<QW>>,
    l_usecs: DFF<Bits<16>>,
    l_frames: DFF<Bits<16>>,
    out_valid: DFF<Bit>,
    out_queue: DFF<Bits<QW>>,

    can_start: Signal<Local, Bit>,
    take_event: Signal<Local, Bit>,
    seen: Signal<Local, Bit>,
    holding: Signal<Local, Bit>,
    count: Signal<Local, Bits<16>>,
    held_usecs: Signal<Local, Bits<16>>,
    last: Signal<Local, Bits<32>>,
    elapsed: Signal<Local, Bits<32>>,
    new_count: Signal<Local, Bits<16>>,
    interval_passed: Signal<Local, Bit>,
    held_due: Signal<Local, Bit>,
    fire: Signal<Local, Bit>,
}

impl<const QW: usize> IrqModeration<QW> {
    /// Moderation for a device clocked at `clock_mhz` MHz (1..=1000).
    pub fn new(clock_mhz: u32) -> Self {
        assert!((1..=1000).contains(&clock_mhz));
        Self {
            clk: Default::default(),
            rst: Default::default(),
            s_event_valid: Default::default(),
            s_event_ready: Default::default(),
            s_event_queue: Default::default(),
            s_event_moderation: Default::default(),
            m_event_valid: Default::default(),
            m_event_ready: Default::default(),
            m_event_queue: Default::default(),
            now_us: Default::default(),
            busy: Default::default(),
            tick_last: Constant::new(((clock_mhz - 1) as u64).to_bits()),
            zero16: Constant::new(0u64.to_bits()),
            seen_bit: Constant::new(1u64.to_bits()),
            held_bits: Constant::new(3u64.to_bits()),
            entry: Default::default(),
            state: Default::default(),
            cleared: Default::default(),
            sweep: Default::default(),
            scan: Default::default(),
            scan_turn: Default::default(),
            divider: Default::default(),
            now: Default::default(),
            l_queue: Default::default(),
            l_usecs: Default::default(),
            l_frames: Default::default(),
            out_valid: Default::default(),
            out_queue: Default::default(),
            can_start: Default::default(),
            take_event: Default::default(),
            seen: Default::default(),
            holding: Default::default(),
            count: Default::default(),
            held_usecs: Default::default(),
            last: Default::default(),
            elapsed: Default::default(),
            new_count: Default::default(),
            interval_passed: Default::default(),
            held_due: Default::default(),
            fire: Default::default(),
        }
    }
}

impl<const QW: usize> Logic for IrqModeration<QW> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clk, state, cleared, sweep, scan, scan_turn, divider, now, l_queue, l_usecs,
            l_frames, out_valid, out_queue
        );
        self.entry.read_clock.next = self.clk.val();
        self.entry.write_clock.next = self.clk.val();

        // Microsecond timer.
        self.divider.d.next = self.divider.q.val() + 1;
        if self.divider.q.val() == self.tick_last.val() {
            self.divider.d.next = 0.into();
            self.now.d.next = self.now.q.val() + 1;
        }
        self.now_us.next = self.now.q.val();

        // Output register towards irq_latch.
        self.m_event_valid.next = self.out_valid.q.val();
        self.m_event_queue.next = self.out_queue.q.val();
        if self.out_valid.q.val() & self.m_event_ready.val() {
            self.out_valid.d.next = false;
        }
        self.busy.next = !self.cleared.q.val();

        // A new operation starts only when its possible output has room.
        self.can_start.next = self.cleared.q.val()
            & (self.state.q.val() == ModState::Idle)
            & (!self.out_valid.q.val())
            & (!self.rst.val());
        self.take_event.next = self.s_event_valid.val() & (!self.scan_turn.q.val());
        self.s_event_ready.next = self.can_start.val() & self.take_event.val();

        self.entry.read_address.next = self.scan.q.val();
        if self.take_event.val() {
            self.entry.read_address.next = self.s_event_queue.val();
        }

        // The entry read in the previous cycle.
        self.seen.next = self.entry.read_data.val().get_bit(0);
        self.holding.next = self.entry.read_data.val().get_bit(1);
        self.count.next = self.entry.read_data.val().get_bits::<16>(2);
        self.held_usecs.next = self.entry.read_data.val().get_bits::<16>(18);
        self.last.next = self.entry.read_data.val().get_bits::<32>(34);
        self.elapsed.next = self.now.q.val() - self.last.val();
        self.new_count.next = self.count.val() + 1;
        // Strictly more ticks than USECS: `elapsed` counts ticks of a free-running
        // microsecond counter, so USECS ticks can span as little as USECS − 1 µs
        // plus a cycle; one more guarantees the full interval (found by tb/irq_unit).
        self.interval_passed.next = self.elapsed.val() > bit_cast::<32, 16>(self.l_usecs.q.val());
        self.held_due.next =
            self.holding.val() & (self.elapsed.val() > bit_cast::<32, 16>(self.held_usecs.val()));
        self.fire.next = (self.l_usecs.q.val() == self.zero16.val())
            | (!self.seen.val())
            | self.interval_passed.val()
            | ((self.l_frames.q.val() != self.zero16.val())
                & (self.new_count.val() >= self.l_frames.q.val()));

        self.entry.write_enable.next = false;
        self.entry.write_address.next = self.l_queue.q.val();
        // Forwarded: seen, not holding, count 0, last = now.
        self.entry.write_data.next =
            (bit_cast::<66, 32>(self.now.q.val()) << 34) | self.seen_bit.val();

        match self.state.q.val() {
            ModState::Idle => {
                if self.can_start.val() {
                    self.scan_turn.d.next = self.take_event.val();
                    if self.take_event.val() {
                        self.state.d.next = ModState::Event;
                        self.l_queue.d.next = self.s_event_queue.val();
                        self.l_usecs.d.next = self.s_event_moderation.val().get_bits::<16>(0);
                        self.l_frames.d.next = self.s_event_moderation.val().get_bits::<16>(16);
                    } else {
                        self.state.d.next = ModState::Scan;
                        self.l_queue.d.next = self.scan.q.val();
                        self.scan.d.next = self.scan.q.val() + 1;
                    }
                }
            }
            ModState::Event => {
                self.state.d.next = ModState::Idle;
                self.entry.write_enable.next = true;
                if self.fire.val() {
                    self.out_valid.d.next = true;
                    self.out_queue.d.next = self.l_queue.q.val();
                } else {
                    // Held: keep seen and last, count it, remember its interval.
                    self.entry.write_data.next = (bit_cast::<66, 32>(self.last.val()) << 34)
                        | (bit_cast::<66, 16>(self.l_usecs.q.val()) << 18)
                        | (bit_cast::<66, 16>(self.new_count.val()) << 2)
                        | self.held_bits.val();
                }
            }
            ModState::Scan => {
                self.state.d.next = ModState::Idle;
                if self.held_due.val() {
                    self.entry.write_enable.next = true;
                    self.out_valid.d.next = true;
                    self.out_queue.d.next = self.l_queue.q.val();
                }
            }
        }

        // Reset sweep.
        if !self.cleared.q.val() {
            self.entry.write_enable.next = true;
            self.entry.write_address.next = self.sweep.q.val();
            self.entry.write_data.next = 0.into();
            self.sweep.d.next = self.sweep.q.val() + 1;
            if self.sweep.q.val().all() {
                self.cleared.d.next = true;
            }
        }
        if self.rst.val() {
            self.cleared.d.next = false;
            self.sweep.d.next = 0.into();
            self.scan.d.next = 0.into();
            self.scan_turn.d.next = false;
            self.state.d.next = ModState::Idle;
            self.out_valid.d.next = false;
            self.divider.d.next = 0.into();
            self.now.d.next = 0.into();
        }
    }
}
