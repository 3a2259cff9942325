//! Loom model check of the NAPI state machine and the poll list.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p oxnic-driver --release --test loom_napi`
//! (preemption bound 3 unless `LOOM_MAX_PREEMPTIONS` says otherwise).
//!
//! The device is modelled like oxnic's queues: an event on an armed queue fires
//! once and masks it; events while masked latch, and re-arming with packets
//! waiting fires at once. Properties checked in every explored interleaving:
//! - never two polls at once (an `in_poll` flag, and loom's own `UnsafeCell`
//!   tracking of the handler inside the context);
//! - no lost wakeup: after all threads finish, draining the poll list consumes
//!   every event — nothing is left waiting with the queue masked and nobody
//!   owning the context;
//! - `disable` returns only when nobody polls.
#![cfg(loom)]

use std::sync::Arc;

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::thread;

use oxnic_driver::{busy_poll, AnyNapi, Napi, NapiContext, NapiRef, Poll, SchedConfig, Worker};

/// The queue's device-side state in one word, so that every transition is one
/// atomic step like in the RTL: bit 0 = armed, the rest = packets waiting.
/// (Loom treats SeqCst like AcqRel, so a model split over two atomics would show
/// store-buffering races that one hardware state machine cannot have.)
struct Dev {
    word: AtomicUsize,
    consumed: AtomicUsize,
    in_poll: AtomicBool,
}

const ARMED: usize = 1;
const PKT: usize = 2;

impl Dev {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            word: AtomicUsize::new(0),
            consumed: AtomicUsize::new(0),
            in_poll: AtomicBool::new(false),
        })
    }

    /// IRQ thread: a packet lands ("work available"); an armed queue fires once
    /// and masks itself; a masked one latches the event.
    fn event(&self, ctx: &dyn AnyNapi) {
        let old = self.word.fetch_add(PKT, SeqCst);
        if old & ARMED != 0 && self.word.fetch_and(!ARMED, SeqCst) & ARMED != 0 {
            ctx.irq(); // schedule_prep → mask → __schedule
        }
    }

    /// Re-arm; the latch fires at once (and stays masked) if packets wait.
    fn arm(&self, napi: &Napi) {
        let old = self
            .word
            .fetch_update(SeqCst, SeqCst, |w| {
                Some(if w >= PKT { w & !ARMED } else { w | ARMED })
            })
            .unwrap();
        if old >= PKT {
            napi.schedule();
        }
    }

    /// The poll takes every waiting packet (the ring check).
    fn take(&self) -> usize {
        let old = self
            .word
            .fetch_update(SeqCst, SeqCst, |w| Some(w & ARMED))
            .unwrap();
        old / PKT
    }

    fn armed(&self) -> bool {
        self.word.load(SeqCst) & ARMED != 0
    }
}

struct Handler(Arc<Dev>);

impl Poll for Handler {
    fn poll(&mut self, napi: &NapiRef<'_>, budget: usize) -> usize {
        let d = &*self.0;
        assert!(!d.in_poll.swap(true, SeqCst), "two polls at once");
        let n = d.take().min(budget); // budget ≥ events here
        d.consumed.fetch_add(n, SeqCst);
        d.in_poll.store(false, SeqCst);
        // Re-arm only if complete_done allows it; arm() re-checks the ring.
        if n < budget && napi.complete_done(n) {
            d.arm(napi.napi());
        }
        n
    }
}

fn builder() -> loom::model::Builder {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(3);
    }
    b
}

fn setup() -> (Arc<Dev>, Arc<NapiContext<Handler>>, Worker) {
    let dev = Dev::new();
    let ctx = NapiContext::new(Handler(dev.clone()), 4);
    let worker = Worker::new(SchedConfig {
        budget: 300,
        // Time is not modelled: a limit that never triggers keeps runs deterministic.
        time_limit: std::time::Duration::from_secs(3600),
    });
    worker.attach(&*ctx).unwrap();
    // Device open: enable, then arm.
    ctx.enable();
    dev.arm(ctx.napi());
    (dev, ctx, worker)
}

/// After every thread finished: run the list until empty and check that every
/// event was consumed and the context is idle and armed.
fn drain_and_check(dev: &Dev, ctx: &NapiContext<Handler>, worker: &Worker, events: usize) {
    for _ in 0..8 {
        if worker.pending() == 0 {
            break;
        }
        worker.net_rx_action();
    }
    assert_eq!(worker.pending(), 0, "poll list does not drain");
    assert_eq!(
        dev.consumed.load(SeqCst),
        events,
        "lost wakeup: an event was never polled (state {:#x})",
        ctx.state()
    );
    assert!(!ctx.is_scheduled(), "left owned: state {:#x}", ctx.state());
    assert!(dev.armed(), "idle but not re-armed");
}

/// IRQ thread vs. poll thread vs. a disable/enable thread.
#[test]
fn irq_poll_disable() {
    builder().check(|| {
        let (dev, ctx, worker) = setup();
        let irq = {
            let (dev, ctx) = (dev.clone(), ctx.clone());
            thread::spawn(move || dev.event(&*ctx))
        };
        // The poller is the worker thread itself: it sleeps on its condvar until
        // the list is not empty (a spinning poller would make loom's model
        // unbounded next to disable's own wait loop).
        let poller = worker.spawn();
        let disabler = {
            let (dev, ctx) = (dev.clone(), ctx.clone());
            thread::spawn(move || {
                ctx.disable();
                assert!(!dev.in_poll.load(SeqCst), "disable returned during a poll");
                assert!(ctx.is_disabled());
                // Device open again: enable, re-arm (fires if packets wait).
                ctx.enable();
                dev.arm(ctx.napi());
            })
        };
        irq.join().unwrap();
        disabler.join().unwrap();
        // Only the worker acts now: wait until it is idle (it stays busy as
        // long as the context is owned), then stop it.
        while worker.pending() != 0 || ctx.is_scheduled() {
            thread::yield_now();
        }
        poller.stop();
        drain_and_check(&dev, &ctx, &worker, 1);
    });
}

/// Two events racing one poller: exercises MISSED in both of its windows
/// (while the poll runs, and between complete_done and the release).
#[test]
fn two_events_one_poller() {
    builder().check(|| {
        let (dev, ctx, worker) = setup();
        let irq = {
            let (dev, ctx) = (dev.clone(), ctx.clone());
            thread::spawn(move || {
                dev.event(&*ctx);
                dev.event(&*ctx);
            })
        };
        let poller = {
            let worker = worker.clone();
            thread::spawn(move || {
                worker.net_rx_action();
                worker.net_rx_action();
            })
        };
        irq.join().unwrap();
        poller.join().unwrap();
        drain_and_check(&dev, &ctx, &worker, 2);
    });
}

/// IRQ thread vs. the scheduler vs. an application busy-polling the context.
#[test]
fn irq_poll_busy_poll() {
    builder().check(|| {
        let (dev, ctx, worker) = setup();
        let irq = {
            let (dev, ctx) = (dev.clone(), ctx.clone());
            thread::spawn(move || dev.event(&*ctx))
        };
        let poller = {
            let worker = worker.clone();
            thread::spawn(move || {
                worker.net_rx_action();
            })
        };
        let busy = {
            let ctx = ctx.clone();
            thread::spawn(move || {
                busy_poll(&*ctx, 8, |_| true);
            })
        };
        irq.join().unwrap();
        poller.join().unwrap();
        busy.join().unwrap();
        drain_and_check(&dev, &ctx, &worker, 1);
    });
}
