//! NAPI contract tests (no hardware): every state transition, the scheduler's
//! accounting, the modes, and a stress test against a latching device model.
#![cfg(not(loom))]

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use oxnic_driver::napi::state::{DISABLE, DISABLED, LISTED, MISSED, SCHED};
use oxnic_driver::{
    busy_poll, netpoll, AnyNapi, NapiContext, NapiList, NapiRef, Poll, SchedConfig, ThreadedNapi,
    VectorTable, Worker, BUSY_POLL_BUDGET,
};

/// Generous bound for "eventually": only a failure waits this long.
const DEADLINE: Duration = Duration::from_secs(20);

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for: {what}");
        thread::sleep(Duration::from_micros(100));
    }
}

/// A scripted handler: each poll pops one action from `script` (default: receive
/// nothing and complete). Records what `complete_done` returned.
#[derive(Default)]
struct Scripted {
    script: Vec<Action>,
    completes: Vec<bool>,
    budgets: Vec<usize>,
}

#[derive(Clone, Copy)]
enum Action {
    /// Receive `n` packets and complete if `n < budget`.
    Work(usize),
    /// Schedule ourselves (an interrupt racing the poll), then complete.
    IrqThenComplete,
    /// Complete; if it returned true, "re-arm" and let the interrupt fire at once.
    CompleteThenIrq,
}

impl Poll for Scripted {
    fn poll(&mut self, napi: &NapiRef<'_>, budget: usize) -> usize {
        self.budgets.push(budget);
        let action = if self.script.is_empty() {
            Action::Work(0)
        } else {
            self.script.remove(0)
        };
        match action {
            Action::Work(n) => {
                let n = n.min(budget);
                if n < budget {
                    self.completes.push(napi.complete_done(n));
                }
                n
            }
            Action::IrqThenComplete => {
                assert!(!napi.napi().schedule_prep(), "we own it: prep must fail");
                assert_ne!(napi.napi().state() & MISSED, 0);
                self.completes.push(napi.complete_done(0));
                0
            }
            Action::CompleteThenIrq => {
                let ok = napi.complete_done(0);
                self.completes.push(ok);
                if ok {
                    napi.napi().schedule();
                }
                0
            }
        }
    }
}

fn scripted(script: Vec<Action>, weight: usize) -> (Arc<NapiContext<Scripted>>, Worker) {
    let ctx = NapiContext::new(
        Scripted {
            script,
            ..Default::default()
        },
        weight,
    );
    let worker = Worker::default();
    worker.attach(&*ctx).unwrap();
    (ctx, worker)
}

fn into_handler(ctx: Arc<NapiContext<Scripted>>, worker: Worker) -> Scripted {
    drop(worker);
    Arc::try_unwrap(ctx)
        .map_err(|_| "context still shared")
        .unwrap()
        .into_inner()
}

#[test]
fn starts_disabled_and_enable_releases() {
    let (ctx, _w) = scripted(vec![], 64);
    assert_eq!(
        ctx.state() & (SCHED | DISABLE | DISABLED),
        SCHED | DISABLE | DISABLED
    );
    assert!(!ctx.schedule_prep(), "a new context refuses scheduling");
    assert_eq!(
        ctx.state() & MISSED,
        0,
        "refusal by DISABLE does not set MISSED"
    );
    ctx.enable();
    assert_eq!(ctx.state(), 0);
    assert!(ctx.schedule_prep());
}

#[test]
fn schedule_prep_while_scheduled_sets_missed() {
    let (ctx, _w) = scripted(vec![], 64);
    ctx.enable();
    assert!(ctx.schedule_prep());
    assert_eq!(ctx.state(), SCHED);
    assert!(!ctx.schedule_prep());
    assert_eq!(ctx.state(), SCHED | MISSED);
    assert!(!ctx.schedule_prep());
    assert_eq!(ctx.state(), SCHED | MISSED);
}

#[test]
fn complete_done_true_releases_sched() {
    let (ctx, w) = scripted(vec![Action::Work(3)], 64);
    ctx.enable();
    assert!(ctx.schedule());
    assert_eq!(w.pending(), 1);
    let r = w.net_rx_action();
    assert_eq!(
        (r.polls, r.packets, r.pending, r.squeezed),
        (1, 3, 0, false)
    );
    assert_eq!(ctx.state(), 0);
    let h = into_handler(ctx, w);
    assert_eq!(h.completes, vec![true]);
    assert_eq!(h.budgets, vec![64]);
}

#[test]
fn missed_gives_exactly_one_more_poll() {
    let (ctx, w) = scripted(vec![Action::IrqThenComplete], 64);
    ctx.enable();
    assert!(ctx.schedule());
    let r = w.net_rx_action();
    assert_eq!(r.polls, 2, "MISSED → exactly one more poll");
    assert_eq!(ctx.state(), 0);
    let s = ctx.stats();
    assert_eq!((s.polls, s.missed), (2, 1));
    let h = into_handler(ctx, w);
    assert_eq!(
        h.completes,
        vec![false, true],
        "complete_done is false when MISSED"
    );
}

#[test]
fn interrupt_after_complete_done_is_not_lost() {
    // complete_done said "re-arm", the re-arm fired at once while the poll had not
    // returned yet: the deferred release sees MISSED and polls once more.
    let (ctx, w) = scripted(vec![Action::CompleteThenIrq], 64);
    ctx.enable();
    assert!(ctx.schedule());
    let r = w.net_rx_action();
    assert_eq!(r.polls, 2);
    assert_eq!(ctx.state(), 0);
    let h = into_handler(ctx, w);
    assert_eq!(h.completes, vec![true, true]);
}

#[test]
fn full_budget_stays_scheduled_and_is_requeued_at_the_tail() {
    let a = NapiContext::new(
        Scripted {
            script: vec![Action::Work(8), Action::Work(8), Action::Work(1)],
            ..Default::default()
        },
        8,
    );
    let b = NapiContext::new(Scripted::default(), 8);
    let w = Worker::default();
    w.attach(&*a).unwrap();
    w.attach(&*b).unwrap();
    a.enable();
    b.enable();
    a.schedule();
    b.schedule();
    let r = w.net_rx_action();
    assert_eq!((r.polls, r.packets, r.pending), (4, 17, 0));
    let s = a.stats();
    assert_eq!((s.polls, s.work, s.full_budget_polls), (3, 17, 2));
    assert_eq!(b.stats().polls, 1);
    assert_eq!(a.state() | b.state(), 0);
    let st = w.stats();
    assert_eq!(
        (st.runs, st.polls, st.packets, st.time_squeeze),
        (1, 4, 17, 0)
    );
}

/// Always has work: returns its whole budget.
struct Flood(Arc<AtomicU64>);
impl Poll for Flood {
    fn poll(&mut self, _napi: &NapiRef<'_>, budget: usize) -> usize {
        self.0.fetch_add(1, SeqCst);
        budget
    }
}

#[test]
fn global_budget_counts_time_squeeze_and_leaves_the_rest() {
    let w = Worker::new(SchedConfig {
        budget: 100,
        time_limit: Duration::from_secs(3600),
    });
    let polls = Arc::new(AtomicU64::new(0));
    let ctxs: Vec<_> = (0..3)
        .map(|_| NapiContext::new(Flood(polls.clone()), 64))
        .collect();
    for c in &ctxs {
        w.attach(&**c).unwrap();
        c.enable();
        c.schedule();
    }
    let r = w.net_rx_action();
    // 64 + 64 >= 100: two polls, then squeeze.
    assert_eq!(
        (r.polls, r.packets, r.squeezed, r.pending),
        (2, 128, true, 3)
    );
    assert_eq!(w.stats().time_squeeze, 1);
    // Next run starts with the context that was not polled yet.
    let r = w.net_rx_action();
    assert_eq!(r.polls, 2);
    assert_eq!(ctxs[2].stats().polls, 1);
    assert_eq!(w.stats().time_squeeze, 2);
    // A flood must not keep disable from completing.
    let c0 = ctxs[0].clone();
    let t = thread::spawn(move || c0.disable());
    wait_until("DISABLE set", || ctxs[0].state() & DISABLE != 0);
    while !t.is_finished() {
        w.net_rx_action();
    }
    t.join().unwrap();
    assert!(ctxs[0].is_disabled());
}

#[test]
fn time_limit_counts_time_squeeze() {
    let w = Worker::new(SchedConfig {
        budget: usize::MAX / 2,
        time_limit: Duration::ZERO,
    });
    let c = NapiContext::new(Flood(Arc::new(AtomicU64::new(0))), 64);
    w.attach(&*c).unwrap();
    c.enable();
    c.schedule();
    let r = w.net_rx_action();
    assert_eq!((r.polls, r.squeezed, r.pending), (1, true, 1));
    assert_eq!(w.stats().time_squeeze, 1);
}

/// Counts what it is asked to do: `rx_avail` packets wait, `tx` completions.
struct Counting {
    rx_avail: usize,
    received: usize,
    tx_cleaned: usize,
}
impl Poll for Counting {
    fn poll(&mut self, napi: &NapiRef<'_>, budget: usize) -> usize {
        self.tx_cleaned += 1;
        let n = self.rx_avail.min(budget);
        self.rx_avail -= n;
        self.received += n;
        if n < budget {
            napi.complete_done(n);
        }
        n
    }
}

#[test]
fn budget_zero_receives_nothing() {
    let list = NapiList::new();
    let ctx = NapiContext::new(
        Counting {
            rx_avail: 10,
            received: 0,
            tx_cleaned: 0,
        },
        64,
    );
    list.register(ctx.handle());
    ctx.enable();
    let r = netpoll(&list, 0);
    assert_eq!((r.polled, r.skipped, r.work), (1, 0, 0));
    assert_eq!(ctx.state(), LISTED, "netpoll released the context");
    drop(list);
    let h = Arc::try_unwrap(ctx).map_err(|_| ()).unwrap().into_inner();
    assert_eq!((h.received, h.tx_cleaned, h.rx_avail), (0, 1, 10));
}

#[test]
fn netpoll_polls_every_context_and_skips_owned_ones() {
    let list = NapiList::new();
    let w = Worker::default();
    let ctxs: Vec<_> = (0..3)
        .map(|_| {
            NapiContext::new(
                Counting {
                    rx_avail: 5,
                    received: 0,
                    tx_cleaned: 0,
                },
                64,
            )
        })
        .collect();
    for c in &ctxs {
        w.attach(&**c).unwrap();
        list.register(c.handle());
    }
    assert_eq!(list.len(), 3);
    list.enable_all();
    assert!(ctxs[1].schedule(), "owned by the worker's list");
    let r = netpoll(&list, 64);
    assert_eq!((r.polled, r.skipped, r.work), (2, 1, 10));
    assert_eq!(ctxs[0].state() | ctxs[2].state(), LISTED);
    assert_eq!(w.net_rx_action().packets, 5);
    list.disable_all();
    assert!(ctxs.iter().all(|c| c.is_disabled()));
    assert_eq!(
        netpoll(&list, 64).skipped,
        3,
        "disabled contexts are skipped"
    );
    assert!(list.unregister(&ctxs[0].handle()));
    assert_eq!(list.len(), 2);
}

/// Blocks inside poll until told to return; records overlap.
struct Gate {
    entered: Arc<Barrier>,
    release: mpsc::Receiver<()>,
    in_poll: Arc<AtomicBool>,
}
impl Poll for Gate {
    fn poll(&mut self, napi: &NapiRef<'_>, _budget: usize) -> usize {
        assert!(!self.in_poll.swap(true, SeqCst));
        self.entered.wait();
        self.release.recv_timeout(DEADLINE).expect("never released");
        self.in_poll.store(false, SeqCst);
        napi.complete_done(0);
        0
    }
}

#[test]
fn disable_waits_for_a_running_poll() {
    let entered = Arc::new(Barrier::new(2));
    let (tx, rx) = mpsc::channel();
    let in_poll = Arc::new(AtomicBool::new(false));
    let ctx = NapiContext::new(
        Gate {
            entered: entered.clone(),
            release: rx,
            in_poll: in_poll.clone(),
        },
        64,
    );
    let w = Worker::default();
    w.attach(&*ctx).unwrap();
    ctx.enable();
    ctx.schedule();
    let wt = w.clone();
    let poller = thread::spawn(move || wt.net_rx_action());
    entered.wait(); // the poll is running now
    let returned = Arc::new(AtomicBool::new(false));
    let (c, r, p) = (ctx.clone(), returned.clone(), in_poll.clone());
    let disabler = thread::spawn(move || {
        c.disable();
        r.store(true, SeqCst);
        assert!(!p.load(SeqCst), "disable returned while a poll runs");
    });
    // Deterministic ordering, no sleep: DISABLE is set first thing in disable().
    wait_until("DISABLE set", || ctx.state() & DISABLE != 0);
    assert!(!returned.load(SeqCst), "disable must wait for the owner");
    assert!(!ctx.schedule_prep(), "disable pending refuses schedules");
    tx.send(()).unwrap();
    poller.join().unwrap();
    disabler.join().unwrap();
    assert!(returned.load(SeqCst));
    assert!(ctx.is_disabled() && ctx.is_scheduled());
    // enable after disable works: schedulable and polled again.
    ctx.enable();
    assert_eq!(ctx.state(), 0);
    assert!(ctx.schedule());
    let wt = w.clone();
    let poller = thread::spawn(move || wt.net_rx_action());
    entered.wait();
    tx.send(()).unwrap();
    assert_eq!(poller.join().unwrap().polls, 1);
    assert_eq!(ctx.state(), 0);
}

#[test]
fn disable_waits_for_release_not_for_poll_return() {
    // Scheduled (owned, on the list) but not polled yet: no poll is running, yet
    // disable must wait until the owner lets go.
    let (ctx, w) = scripted(vec![Action::Work(64), Action::Work(64)], 64);
    ctx.enable();
    ctx.schedule();
    let c = ctx.clone();
    let t = thread::spawn(move || c.disable());
    wait_until("DISABLE set", || ctx.state() & DISABLE != 0);
    assert!(!t.is_finished());
    // The full-budget poll would normally stay scheduled; a pending disable
    // makes the scheduler release it instead.
    let r = w.net_rx_action();
    assert_eq!(r.polls, 1);
    t.join().unwrap();
    assert!(ctx.is_disabled());
    assert_eq!(w.pending(), 0);
}

#[test]
fn enable_of_an_enabled_context_does_not_release_the_owner() {
    let (ctx, _w) = scripted(vec![], 64);
    ctx.enable();
    assert!(ctx.schedule_prep());
    ctx.enable(); // logged, ignored
    assert_eq!(ctx.state(), SCHED);
    assert!(!ctx.schedule_prep());
}

#[test]
fn weight_default_and_zero() {
    let c = NapiContext::with_default_weight(Scripted::default());
    assert_eq!(c.weight(), 64);
    assert_eq!(NapiContext::new(Scripted::default(), 0).weight(), 1);
    assert_eq!(NapiContext::new(Scripted::default(), 128).weight(), 128);
}

#[test]
fn unbound_schedule_releases() {
    let c = NapiContext::new(Scripted::default(), 64);
    c.enable();
    assert!(c.schedule());
    assert_eq!(c.state(), 0, "no target: ownership released, not leaked");
}

/// Busy-poll handler: records complete_done results, fires an IRQ in round 2.
struct Busy {
    avail: usize,
    round: usize,
    completes: Vec<bool>,
}
impl Poll for Busy {
    fn poll(&mut self, napi: &NapiRef<'_>, budget: usize) -> usize {
        self.round += 1;
        if self.round == 2 {
            assert!(!napi.napi().schedule_prep(), "busy poll owns it");
        }
        let n = self.avail.min(budget);
        self.avail -= n;
        if n < budget {
            self.completes.push(napi.complete_done(n));
        }
        n
    }
}

#[test]
fn busy_poll_owns_the_context() {
    let ctx = NapiContext::new(
        Busy {
            avail: 20,
            round: 0,
            completes: vec![],
        },
        64,
    );
    let w = Worker::default();
    w.attach(&*ctx).unwrap();
    ctx.enable();
    let mut rounds = 0;
    let r = busy_poll(&*ctx, BUSY_POLL_BUDGET, |_| {
        rounds += 1;
        rounds == 4
    })
    .unwrap();
    assert_eq!((r.rounds, r.work), (4, 20)); // 8 + 8 + 4 + 0
                                             // The IRQ in round 2 was missed: the context went to the worker.
    assert_eq!(ctx.state(), SCHED);
    assert_eq!(w.pending(), 1);
    assert!(busy_poll(&*ctx, 8, |_| true).is_none(), "owned: refused");
    assert_eq!(w.net_rx_action().polls, 1);
    assert_eq!(ctx.state(), 0);
    drop(w);
    let h = Arc::try_unwrap(ctx).map_err(|_| ()).unwrap().into_inner();
    assert_eq!(
        h.completes,
        vec![false, false, true],
        "false while busy-polled, true from the scheduler"
    );
}

#[test]
fn busy_poll_without_interrupt_just_releases() {
    let (ctx, w) = scripted(vec![], 64);
    ctx.enable();
    let r = busy_poll(&*ctx, 8, |_| true).unwrap();
    assert_eq!(r.rounds, 1);
    assert_eq!(ctx.state(), 0);
    assert_eq!(w.pending(), 0);
    ctx.disable();
    assert!(busy_poll(&*ctx, 8, |_| true).is_none(), "disabled: refused");
    assert_eq!(into_handler(ctx, w).completes, vec![false]);
}

// ---------------------------------------------------------------------------
// A device model: a queue whose events latch while it is masked (as oxnic's
// hardware does), used by the threaded, interrupt-mode and stress tests.

#[derive(Default)]
struct SimQueue {
    /// Packets waiting in the ring.
    pending: AtomicUsize,
    produced: AtomicUsize,
    consumed: AtomicUsize,
    armed: AtomicBool,
    in_poll: AtomicBool,
    overlaps: AtomicUsize,
    irqs: AtomicUsize,
}

impl SimQueue {
    /// A packet arrives; an armed queue fires once and auto-masks.
    fn event(&self, ctx: &dyn AnyNapi) {
        self.produced.fetch_add(1, SeqCst);
        self.pending.fetch_add(1, SeqCst);
        if self.armed.swap(false, SeqCst) {
            self.irqs.fetch_add(1, SeqCst);
            ctx.irq();
        }
    }

    /// Re-arm; the latch fires at once if packets are waiting.
    fn arm(&self, napi: &oxnic_driver::Napi) {
        self.armed.store(true, SeqCst);
        if self.pending.load(SeqCst) > 0 && self.armed.swap(false, SeqCst) {
            self.irqs.fetch_add(1, SeqCst);
            napi.schedule();
        }
    }
}

struct SimHandler(Arc<SimQueue>);
impl Poll for SimHandler {
    fn poll(&mut self, napi: &NapiRef<'_>, budget: usize) -> usize {
        let q = &*self.0;
        if q.in_poll.swap(true, SeqCst) {
            q.overlaps.fetch_add(1, SeqCst);
        }
        let mut n = 0;
        while n < budget
            && q.pending
                .fetch_update(SeqCst, SeqCst, |p| p.checked_sub(1))
                .is_ok()
        {
            n += 1;
        }
        q.consumed.fetch_add(n, SeqCst);
        q.in_poll.store(false, SeqCst);
        if n < budget && napi.complete_done(n) {
            q.arm(napi.napi());
        }
        n
    }
}

fn sim_ctx(weight: usize) -> (Arc<SimQueue>, Arc<NapiContext<SimHandler>>) {
    let q = Arc::new(SimQueue::default());
    (q.clone(), NapiContext::new(SimHandler(q), weight))
}

/// Device open: enable, then arm (the latch fires for packets that waited).
fn open(q: &SimQueue, ctx: &dyn AnyNapi) {
    ctx.napi().enable();
    q.arm(ctx.napi());
}

#[test]
fn threaded_napi_polls_until_done() {
    let (q, ctx) = sim_ctx(4);
    let t = ThreadedNapi::spawn(&*ctx).unwrap();
    assert!(ThreadedNapi::spawn(&*ctx).is_err(), "bound once");
    open(&q, &*ctx);
    for _ in 0..50 {
        q.event(&*ctx);
    }
    wait_until("threaded poll drained the queue", || {
        q.consumed.load(SeqCst) == 50 && !ctx.is_scheduled()
    });
    assert_eq!(q.overlaps.load(SeqCst), 0);
    assert!(ctx.stats().full_budget_polls > 0, "polled past one budget");
    ctx.disable();
    t.stop();
    assert!(ctx.is_disabled());
}

#[test]
fn interrupt_mode_through_a_vector_table() {
    let (q, ctx) = sim_ctx(64);
    let worker = Worker::default();
    worker.attach(&*ctx).unwrap();
    let table = VectorTable::new();
    table.add(3, ctx.handle());
    let wt = worker.spawn();
    open(&q, &*ctx);
    // The transport's interrupt thread: an eventfd fired for vector 3.
    q.produced.fetch_add(5, SeqCst);
    q.pending.fetch_add(5, SeqCst);
    assert!(q.armed.swap(false, SeqCst));
    assert_eq!(table.dispatch(3), 1);
    assert_eq!(table.dispatch(7), 0, "unknown vector");
    wait_until("worker polled", || {
        q.consumed.load(SeqCst) == 5 && !ctx.is_scheduled()
    });
    assert!(q.armed.load(SeqCst), "re-armed after complete_done");
    ctx.disable();
    wt.stop();
    assert!(worker.stats().runs >= 1);
}

#[test]
fn stress_irq_threads_poller_and_disabler() {
    const IRQ_THREADS: usize = 3;
    const EVENTS: usize = 20_000;
    let (q, ctx) = sim_ctx(16);
    let worker = Worker::new(SchedConfig {
        budget: 64,
        time_limit: Duration::from_millis(2),
    });
    worker.attach(&*ctx).unwrap();
    let wt = worker.spawn();
    open(&q, &*ctx);
    let stop = Arc::new(AtomicBool::new(false));
    let toggles = Arc::new(AtomicUsize::new(0));
    let disabler = {
        let (q, ctx, stop, toggles) = (q.clone(), ctx.clone(), stop.clone(), toggles.clone());
        thread::spawn(move || {
            while !stop.load(SeqCst) {
                ctx.disable();
                assert!(!q.in_poll.load(SeqCst), "disable returned during a poll");
                open(&q, &*ctx);
                toggles.fetch_add(1, SeqCst);
                thread::yield_now();
            }
        })
    };
    let irqs: Vec<_> = (0..IRQ_THREADS)
        .map(|_| {
            let (q, ctx) = (q.clone(), ctx.clone());
            thread::spawn(move || {
                for i in 0..EVENTS {
                    q.event(&*ctx);
                    // Vary the spacing so events land in every phase of a poll.
                    for _ in 0..(i * 7919) % 97 {
                        std::hint::spin_loop();
                    }
                    if i % 4 == 0 {
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    for t in irqs {
        t.join().unwrap();
    }
    stop.store(true, SeqCst);
    disabler.join().unwrap();
    let total = IRQ_THREADS * EVENTS;
    // No lost wakeup: every event is eventually followed by a poll that takes it,
    // with no help from outside (no extra schedule, no extra arm).
    wait_until("all events consumed", || {
        q.consumed.load(SeqCst) == total && !ctx.is_scheduled()
    });
    assert_eq!(q.produced.load(SeqCst), total);
    assert_eq!(q.overlaps.load(SeqCst), 0, "two polls at once");
    assert!(q.armed.load(SeqCst), "left armed when idle");
    ctx.disable();
    wt.stop();
    eprintln!(
        "stress: {} irqs, {} disable/enable cycles, {:?}, {:?}",
        q.irqs.load(SeqCst),
        toggles.load(SeqCst),
        ctx.stats(),
        worker.stats()
    );
}

#[test]
fn worker_stop_releases_queued_contexts() {
    let (ctx, w) = scripted(vec![], 64);
    let wt = w.spawn();
    wt.stop();
    ctx.enable();
    assert!(ctx.schedule());
    assert_eq!(ctx.state(), 0, "a stopped worker releases what it is given");
}

#[test]
fn disable_with_borrows_the_handler_of_a_disabled_context() {
    use oxnic_driver::napi::state::HELD;
    let (ctx, worker) = scripted(vec![Action::Work(3)], 64);
    // A new context is disabled already: no wait.
    assert_eq!(
        ctx.disable_with(|h| {
            h.budgets.push(999);
            1
        }),
        1
    );
    ctx.enable();
    assert_eq!(ctx.state(), 0);
    // Scheduled: disable_with waits until the poll has released the context.
    assert!(ctx.schedule());
    let c = ctx.clone();
    let t = thread::spawn(move || c.disable_with(|h| h.budgets.clone()));
    wait_until("disable pending", || ctx.state() & DISABLE != 0);
    assert_eq!(worker.net_rx_action().packets, 3);
    assert_eq!(t.join().unwrap(), vec![999, 64]);
    assert!(ctx.is_disabled(), "left disabled");
    // While the handler is borrowed, enable is refused.
    ctx.disable_with(|_| {
        assert_ne!(ctx.state() & HELD, 0);
        ctx.enable();
        assert!(ctx.is_disabled());
        assert!(!ctx.schedule_prep());
    });
    assert_eq!(ctx.state() & (HELD | DISABLED), DISABLED);
    ctx.enable();
    assert_eq!(ctx.state(), 0);
}
