//! Running NAPI contexts: the `net_rx_action` role and its modes.
//!
//! - **Interrupt mode**: the transport's interrupt thread calls [`irq`] (or
//!   [`VectorTable::dispatch`]) for a vector; the winner of `schedule_prep` masks
//!   the queue and puts the context on its [`Worker`]'s poll list; the worker
//!   ([`Worker::spawn`]) sleeps on a condition variable until the list is not
//!   empty, then runs [`Worker::net_rx_action`].
//! - **Busy poll**: [`busy_poll`] lets the application poll a context directly
//!   (`napi_busy_loop`), owning it meanwhile so that the driver does not re-arm.
//! - **Threaded**: [`ThreadedNapi`] gives a context its own thread, which sleeps
//!   until the context is scheduled and then polls it until it is done.
//! - **Netpoll**: [`netpoll`] polls every context of a device's list without
//!   interrupts, skipping those somebody else owns.
//!
//! Quota accounting is done here, never by the handler: each context is polled
//! with its weight as budget, the run stops at the global budget (default 300)
//! or the time limit (default 2 ms), and stopping that way counts a
//! `time_squeeze`, exactly when Linux counts one.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering as StdOrdering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::napi::sealed::{Outcome, Owner};
use crate::napi::{state, AnyNapi, NapiError, NapiHandle, NapiList, ScheduleTarget};
use crate::sync::{self, thread, Condvar, Mutex};

/// Default global budget per run (`net.core.netdev_budget`).
pub const DEFAULT_BUDGET: usize = 300;
/// Default time limit per run (`net.core.netdev_budget_usecs` = 2000).
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_millis(2);
/// Default budget of one busy-poll round (`BUSY_POLL_BUDGET`).
pub const BUSY_POLL_BUDGET: usize = 8;

/// Limits of one [`Worker::net_rx_action`] run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedConfig {
    /// Packets per run over all contexts.
    pub budget: usize,
    /// Wall-clock time per run.
    pub time_limit: Duration,
}

impl Default for SchedConfig {
    fn default() -> Self {
        Self {
            budget: DEFAULT_BUDGET,
            time_limit: DEFAULT_TIME_LIMIT,
        }
    }
}

/// A snapshot of a worker's statistics (`/proc/net/softnet_stat` style).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedStats {
    /// `net_rx_action` runs that polled at least one context.
    pub runs: u64,
    /// Poll callbacks run.
    pub polls: u64,
    /// Packets received.
    pub packets: u64,
    /// Runs stopped by the global budget or the time limit.
    pub time_squeeze: u64,
}

#[derive(Default)]
struct Counters {
    runs: AtomicU64,
    polls: AtomicU64,
    packets: AtomicU64,
    time_squeeze: AtomicU64,
}

/// What one [`Worker::net_rx_action`] run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Poll callbacks run.
    pub polls: usize,
    /// Packets received.
    pub packets: usize,
    /// Stopped by the global budget or the time limit.
    pub squeezed: bool,
    /// Contexts left on the poll list.
    pub pending: usize,
}

struct PollList {
    queue: VecDeque<NapiHandle>,
    stopped: bool,
}

struct WorkerShared {
    list: Mutex<PollList>,
    wake: Condvar,
    config: SchedConfig,
    counters: Counters,
}

impl WorkerShared {
    /// Puts an owned context at the tail, or releases it if the worker stopped.
    fn push(&self, ctx: NapiHandle) {
        let mut l = sync::lock(&self.list);
        if l.stopped {
            drop(l);
            tracing::debug!(napi = ctx.napi().id(), "NAPI worker stopped: releasing");
            ctx.napi().abandon();
            return;
        }
        l.queue.push_back(ctx);
        drop(l);
        self.wake.notify_one();
    }

    fn pop(&self) -> Option<NapiHandle> {
        sync::lock(&self.list).queue.pop_front()
    }
}

impl ScheduleTarget for WorkerShared {
    fn enqueue(&self, ctx: NapiHandle) {
        self.push(ctx);
    }
}

/// A poll list with its budget and statistics (one per worker thread, like a
/// CPU's `softnet_data`). Cloning gives another handle to the same list.
#[derive(Clone)]
pub struct Worker {
    shared: Arc<WorkerShared>,
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("config", &self.shared.config)
            .field("pending", &self.pending())
            .finish()
    }
}

impl Default for Worker {
    fn default() -> Self {
        Self::new(SchedConfig::default())
    }
}

impl Worker {
    /// A worker with an empty poll list.
    pub fn new(config: SchedConfig) -> Self {
        Self {
            shared: Arc::new(WorkerShared {
                list: Mutex::new(PollList {
                    queue: VecDeque::new(),
                    stopped: false,
                }),
                wake: Condvar::new(),
                config,
                counters: Counters::default(),
            }),
        }
    }

    /// The limits of a run.
    pub fn config(&self) -> SchedConfig {
        self.shared.config
    }

    /// This worker as a schedule target.
    pub fn target(&self) -> Arc<dyn ScheduleTarget> {
        self.shared.clone()
    }

    /// Binds a context to this worker: its schedules go to this poll list.
    pub fn attach(&self, ctx: &dyn AnyNapi) -> Result<(), NapiError> {
        ctx.napi().bind(self.target())
    }

    /// Contexts on the poll list.
    pub fn pending(&self) -> usize {
        sync::lock(&self.shared.list).queue.len()
    }

    /// Statistics snapshot.
    pub fn stats(&self) -> SchedStats {
        let c = &self.shared.counters;
        SchedStats {
            runs: c.runs.load(StdOrdering::Relaxed),
            polls: c.polls.load(StdOrdering::Relaxed),
            packets: c.packets.load(StdOrdering::Relaxed),
            time_squeeze: c.time_squeeze.load(StdOrdering::Relaxed),
        }
    }

    /// One run of the poll list (`net_rx_action`): polls contexts from the head,
    /// each with its weight as budget; a context that used its whole weight (or
    /// must be polled again because of MISSED) stays owned and goes to the tail.
    /// Stops when the list is empty, or — counting a `time_squeeze` and leaving
    /// the rest for the next run — when the global budget is spent or the time
    /// limit is reached. Never blocks except on the list's mutex.
    pub fn net_rx_action(&self) -> RunReport {
        let shared = &*self.shared;
        let start = Instant::now();
        let mut budget = shared.config.budget as isize;
        let mut report = RunReport::default();
        while let Some(ctx) = shared.pop() {
            let weight = ctx.napi().weight();
            // SAFETY: an entry on the poll list carries the ownership (SCHED) that
            // its scheduler handed over with `enqueue`; popping it under the
            // list's mutex makes this thread the only owner.
            let polled = unsafe { ctx.poll_owned(weight, Owner::Scheduler) };
            report.polls += 1;
            report.packets += polled.work;
            budget -= polled.work as isize;
            if polled.outcome == Outcome::Repoll {
                shared.push(ctx);
            }
            if budget <= 0 || start.elapsed() >= shared.config.time_limit {
                report.squeezed = true;
                break;
            }
        }
        let c = &shared.counters;
        if report.polls > 0 {
            c.runs.fetch_add(1, StdOrdering::Relaxed);
        }
        c.polls.fetch_add(report.polls as u64, StdOrdering::Relaxed);
        c.packets
            .fetch_add(report.packets as u64, StdOrdering::Relaxed);
        if report.squeezed {
            c.time_squeeze.fetch_add(1, StdOrdering::Relaxed);
        }
        report.pending = self.pending();
        report
    }

    /// Starts a thread that sleeps until the poll list is not empty and then runs
    /// it (the softirq/ksoftirqd role). Stop it with [`WorkerThread::stop`].
    pub fn spawn(&self) -> WorkerThread {
        sync::lock(&self.shared.list).stopped = false;
        let worker = self.clone();
        let join = thread::spawn(move || worker.thread_main());
        WorkerThread {
            worker: self.clone(),
            join: Some(join),
        }
    }

    fn thread_main(&self) {
        loop {
            {
                let mut l = sync::lock(&self.shared.list);
                while l.queue.is_empty() && !l.stopped {
                    l = sync::wait(&self.shared.wake, l);
                }
                if l.stopped {
                    break;
                }
            }
            if self.net_rx_action().squeezed {
                // Like re-raising the softirq: let the rest of the system run
                // before the next round.
                thread::yield_now();
            }
        }
        self.drain();
    }

    /// Releases every context left on the list (the worker is stopping). Their
    /// queues stay masked: a later `enable` + re-arm (device open) restarts them.
    fn drain(&self) {
        let left: Vec<_> = sync::lock(&self.shared.list).queue.drain(..).collect();
        for ctx in left {
            ctx.napi().abandon();
        }
    }
}

/// A running [`Worker`] thread; stopping it (or dropping this) joins the thread.
pub struct WorkerThread {
    worker: Worker,
    join: Option<thread::JoinHandle<()>>,
}

impl fmt::Debug for WorkerThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerThread")
            .field("worker", &self.worker)
            .finish()
    }
}

impl WorkerThread {
    /// The worker this thread runs.
    pub fn worker(&self) -> &Worker {
        &self.worker
    }

    /// Stops the thread after its current run and joins it. Contexts still on
    /// the list are released (not polled); later schedules are released at once.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(join) = self.join.take() {
            sync::lock(&self.worker.shared.list).stopped = true;
            self.worker.shared.wake.notify_all();
            if join.join().is_err() {
                tracing::error!("NAPI worker thread panicked");
            }
        }
    }
}

impl Drop for WorkerThread {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The interrupt handler for one context:
/// `if schedule_prep() { handler.mask_irq(); __schedule() }`.
pub fn irq(ctx: &dyn AnyNapi) -> bool {
    ctx.irq()
}

/// Interrupt vector → contexts: the hook the transport's interrupt thread calls
/// when a vector's eventfd fires. Several queues sharing one vector normally
/// share one context; a vector may still list several.
#[derive(Default)]
pub struct VectorTable {
    vectors: RwLock<Vec<Vec<NapiHandle>>>,
}

impl fmt::Debug for VectorTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.vectors.read().map(|v| v.len()).unwrap_or(0);
        f.debug_struct("VectorTable").field("vectors", &n).finish()
    }
}

impl VectorTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `ctx` to `vector`'s contexts.
    pub fn add(&self, vector: usize, ctx: NapiHandle) {
        let mut v = self.vectors.write().unwrap_or_else(|e| e.into_inner());
        if v.len() <= vector {
            v.resize_with(vector + 1, Vec::new);
        }
        v[vector].push(ctx);
    }

    /// Removes every context of every vector.
    pub fn clear(&self) {
        self.vectors
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Runs the interrupt handler of every context on `vector`; returns how many
    /// were scheduled by this call.
    pub fn dispatch(&self, vector: usize) -> usize {
        let v = self.vectors.read().unwrap_or_else(|e| e.into_inner());
        v.get(vector)
            .map_or(0, |ctxs| ctxs.iter().filter(|c| c.irq()).count())
    }
}

/// What a [`busy_poll`] session did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BusyPollReport {
    /// Poll rounds.
    pub rounds: usize,
    /// Packets received.
    pub work: usize,
}

/// `napi_busy_loop`: polls `ctx` from the calling thread with `budget` per round
/// (normally [`BUSY_POLL_BUDGET`]) until `loop_end(work_of_this_round)` returns
/// true or a disable is pending.
///
/// Returns `None` without polling if somebody else owns the context (it is
/// scheduled, polled, disabled or busy-polled). While the session owns it,
/// `complete_done` returns false, so the driver neither re-arms nor releases it.
/// At the end ownership is released; if an interrupt was missed meanwhile or the
/// last round used its whole budget, the context goes to its scheduler instead.
pub fn busy_poll(
    ctx: &dyn AnyNapi,
    budget: usize,
    mut loop_end: impl FnMut(usize) -> bool,
) -> Option<BusyPollReport> {
    let napi = ctx.napi();
    if !napi.try_own(state::IN_BUSY_POLL) {
        return None;
    }
    let mut report = BusyPollReport::default();
    let mut more;
    loop {
        // SAFETY: try_own took SCHED from 0 for us; we keep it until release_loop.
        let polled = unsafe { ctx.poll_owned(budget, Owner::Loop) };
        report.rounds += 1;
        report.work += polled.work;
        more = budget > 0 && polled.work >= budget;
        if loop_end(polled.work) || napi.state() & state::DISABLE != 0 {
            break;
        }
    }
    napi.release_loop(state::IN_BUSY_POLL, more);
    Some(report)
}

/// What a [`netpoll`] pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetpollReport {
    /// Contexts polled.
    pub polled: usize,
    /// Contexts skipped because somebody else owned them.
    pub skipped: usize,
    /// Packets received.
    pub work: usize,
}

/// Polls every context of a device once, without interrupts (netpoll: a console,
/// a debugger). `budget` 0 (as in Linux) asks for transmit completion only.
///
/// A context owned by somebody else is skipped: its owner is polling it anyway.
/// Netpoll does not change the interrupt state (complete_done returns false to
/// the driver); an interrupt that fires meanwhile sets MISSED and the context is
/// then handed to its scheduler.
pub fn netpoll(list: &NapiList, budget: usize) -> NetpollReport {
    let mut report = NetpollReport::default();
    for ctx in list.snapshot() {
        let napi = ctx.napi();
        if !napi.try_own(state::NPSVC) {
            report.skipped += 1;
            continue;
        }
        // SAFETY: try_own took SCHED from 0 for us; we keep it until release_loop.
        let polled = unsafe { ctx.poll_owned(budget, Owner::Loop) };
        report.polled += 1;
        report.work += polled.work;
        napi.release_loop(state::NPSVC, budget > 0 && polled.work >= budget);
    }
    report
}

struct ThreadSlot {
    pending: Option<NapiHandle>,
    stopped: bool,
}

struct ThreadShared {
    slot: Mutex<ThreadSlot>,
    wake: Condvar,
}

impl ScheduleTarget for ThreadShared {
    fn enqueue(&self, ctx: NapiHandle) {
        let mut s = sync::lock(&self.slot);
        if s.stopped {
            drop(s);
            ctx.napi().abandon();
            return;
        }
        // Only the owner of SCHED schedules, so the slot is empty here.
        debug_assert!(s.pending.is_none());
        s.pending = Some(ctx);
        drop(s);
        self.wake.notify_one();
    }
}

/// Threaded NAPI: one thread for one context. The thread sleeps until the context
/// is scheduled, then polls it with its weight until it releases ownership.
pub struct ThreadedNapi {
    shared: Arc<ThreadShared>,
    join: Option<thread::JoinHandle<()>>,
}

impl fmt::Debug for ThreadedNapi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadedNapi").finish_non_exhaustive()
    }
}

impl ThreadedNapi {
    /// Binds `ctx` to a new thread (fails if the context is already bound).
    pub fn spawn(ctx: &dyn AnyNapi) -> Result<Self, NapiError> {
        let shared = Arc::new(ThreadShared {
            slot: Mutex::new(ThreadSlot {
                pending: None,
                stopped: false,
            }),
            wake: Condvar::new(),
        });
        ctx.napi().bind(shared.clone())?;
        ctx.napi().set_flag(state::THREADED);
        let s = shared.clone();
        let join = thread::spawn(move || Self::thread_main(&s));
        Ok(Self {
            shared,
            join: Some(join),
        })
    }

    fn thread_main(shared: &ThreadShared) {
        loop {
            let ctx = {
                let mut s = sync::lock(&shared.slot);
                while s.pending.is_none() && !s.stopped {
                    s = sync::wait(&shared.wake, s);
                }
                if s.stopped {
                    if let Some(ctx) = s.pending.take() {
                        ctx.napi().abandon();
                    }
                    return;
                }
                s.pending.take().expect("woken with a pending context")
            };
            let weight = ctx.napi().weight();
            loop {
                // SAFETY: the slot carried the ownership handed over by enqueue;
                // we keep it until poll_owned releases it.
                let polled = unsafe { ctx.poll_owned(weight, Owner::Scheduler) };
                if polled.outcome == Outcome::Released {
                    break;
                }
                if sync::lock(&shared.slot).stopped {
                    ctx.napi().abandon();
                    return;
                }
                // cond_resched() between polls, as napi_threaded_poll does.
                thread::yield_now();
            }
        }
    }

    /// Stops and joins the thread. A context it still owns is released (its queue
    /// stays masked until the device is re-opened).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(join) = self.join.take() {
            sync::lock(&self.shared.slot).stopped = true;
            self.shared.wake.notify_all();
            if join.join().is_err() {
                tracing::error!("threaded NAPI thread panicked");
            }
        }
    }
}

impl Drop for ThreadedNapi {
    fn drop(&mut self) {
        self.shutdown();
    }
}
