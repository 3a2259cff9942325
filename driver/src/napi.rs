//! NAPI contexts with the Linux contract (see `/work/shared/notes/semantics.md`).
//!
//! A [`NapiContext<H>`] is the per-queue (or per-interrupt) polling context: an
//! atomic state word ([`Napi`]) plus the driver's queue structure `H` (the
//! *handler*, implementing [`Poll`]). The context owns the handler, so a poll
//! reaches its queues through that ownership — Rust's answer to `container_of`.
//! One context may serve several queues: the handler simply holds all of them.
//!
//! # State bits
//!
//! | bit | meaning |
//! |---|---|
//! | [`state::SCHED`] | somebody owns the context: it is scheduled, being polled, busy-polled, net-polled, or held by `disable` |
//! | [`state::MISSED`] | `schedule_prep` ran while SCHED was set: poll once more before releasing |
//! | [`state::DISABLE`] | `disable` is pending or in effect: `schedule_prep` refuses |
//! | [`state::DISABLED`] | `disable` completed and holds SCHED (only `enable` clears it) |
//! | [`state::NPSVC`] | netpoll owns the context |
//! | [`state::IN_BUSY_POLL`] | an application busy-polls the context |
//! | [`state::THREADED`] | scheduled onto its own thread (threaded NAPI) |
//! | [`state::LISTED`] | registered on a device's [`NapiList`] |
//! | [`state::HELD`] | a disabled context's handler is borrowed by [`NapiContext::disable_with`]: `enable` refuses |
//!
//! # Ownership and why the `UnsafeCell` is sound
//!
//! The handler lives in an `UnsafeCell` that only the *owner* may touch. Ownership
//! is the SCHED bit, taken by a compare-and-swap that moves it from 0 to 1 —
//! [`Napi::schedule_prep`] (IRQ path), busy-poll or netpoll. The winner may mask the
//! queue (through the handler) and then hands ownership on with
//! [`Napi::__schedule`], which moves a [`NapiHandle`] through the scheduler's
//! mutex-protected poll list (or a threaded context's slot): the mutex gives the
//! happens-before edge to the thread that pops it. Ownership ends with a release
//! CAS on the state word that runs *after* the poll has returned, so the `&mut H`
//! given to [`Poll::poll`] never outlives it; the next owner's acquiring CAS
//! orders its accesses after ours.
//!
//! That is why [`NapiRef::complete_done`] does not clear SCHED itself, unlike the
//! kernel: it decides (and tells the driver whether to re-arm), and the caller
//! applies the decision once `poll` has returned. Releasing inside `poll` would let
//! another thread start polling while the first `&mut H` is still alive. The
//! window this adds (re-armed but still SCHED) is closed by MISSED: an interrupt
//! in it sets MISSED, and the deferred release then keeps SCHED and polls again.
//!
//! No safe public function can release SCHED held by a poller: `schedule_prep`
//! only sets bits, `complete_done` is reachable only through the [`NapiRef`] a
//! poll receives, `enable` clears SCHED only when DISABLED says that `disable`
//! holds it (and `disable` never touches the handler), and `__schedule` is
//! `unsafe`. The functions that run a poll are sealed inside this crate.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicBool as StdAtomicBool, AtomicU64, Ordering as StdOrdering};
use std::sync::{Arc, OnceLock, Weak};

use crate::sync::{self, AtomicU32, Mutex, Ordering, UnsafeCell};

/// The default NAPI weight (`NAPI_POLL_WEIGHT`): the budget a context gets per poll.
pub const DEFAULT_WEIGHT: usize = 64;

/// Bits of the NAPI state word (see the [module documentation](self)).
pub mod state {
    /// Owned: scheduled, being polled, or held by `disable`.
    pub const SCHED: u32 = 1 << 0;
    /// A schedule attempt found the context owned: poll once more.
    pub const MISSED: u32 = 1 << 1;
    /// Disable pending or in effect: `schedule_prep` refuses.
    pub const DISABLE: u32 = 1 << 2;
    /// `disable` completed and holds SCHED; only `enable` clears it.
    pub const DISABLED: u32 = 1 << 3;
    /// Netpoll owns the context.
    pub const NPSVC: u32 = 1 << 4;
    /// An application busy-polls the context.
    pub const IN_BUSY_POLL: u32 = 1 << 5;
    /// Bound to its own thread (threaded NAPI).
    pub const THREADED: u32 = 1 << 6;
    /// Registered on a device's `NapiList`.
    pub const LISTED: u32 = 1 << 7;
    /// Disabled, and the handler is borrowed by `NapiContext::disable_with`:
    /// `enable` refuses until the borrow ends.
    pub const HELD: u32 = 1 << 8;
}
use state::*;

/// Errors of the NAPI layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NapiError {
    /// The context is already bound to a scheduler, a thread or a test target.
    #[error("NAPI context {0} is already bound to a scheduler")]
    AlreadyBound(u64),
}

/// The driver's poll callback: implemented by the queue structure a context owns.
pub trait Poll: Send {
    /// Processes at most `budget` received packets and all pending transmit
    /// completions; returns the number of packets received (`work_done`).
    ///
    /// - `budget == 0`: transmit completion only, receive nothing, return 0.
    /// - Returning exactly `budget` means "not finished, poll me again": then do
    ///   not call [`NapiRef::complete_done`] and do not re-arm.
    /// - Otherwise call `napi.complete_done(work)` and re-arm the queue interrupt
    ///   **only if it returned true**; then re-check the ring if the hardware does
    ///   not latch events while masked.
    ///
    /// The caller does the quota accounting; the handler never touches lists.
    fn poll(&mut self, napi: &NapiRef<'_>, budget: usize) -> usize;

    /// Masks (disarms) the queue interrupt(s); called by the IRQ path after it won
    /// [`Napi::schedule_prep`], before handing the context to the scheduler.
    ///
    /// The default does nothing, for hardware that auto-masks on firing (oxnic).
    fn mask_irq(&mut self) {}
}

/// Where a scheduled context goes: a worker's poll list, its own thread, or a
/// test's queue (the `____napi_schedule` role).
pub trait ScheduleTarget: Send + Sync {
    /// Takes over a context whose SCHED bit the caller owned. The target must
    /// eventually poll it (or release it if it shuts down), otherwise the context
    /// stays owned forever and `disable` hangs.
    fn enqueue(&self, ctx: NapiHandle);
}

/// A type-erased, shareable context: what schedulers, vector tables and device
/// lists hold.
pub type NapiHandle = Arc<dyn AnyNapi>;

/// A NAPI context with its handler type erased.
///
/// Sealed: the functions that run a poll are private to this crate.
pub trait AnyNapi: Send + Sync + sealed::Owned {
    /// The state word and contract methods.
    fn napi(&self) -> &Napi;

    /// The interrupt handler: `if schedule_prep() { mask; __schedule }`. Returns
    /// whether this call scheduled the context. This is the hook the transport's
    /// interrupt thread calls when the vector's eventfd fires.
    fn irq(&self) -> bool;
}

pub(crate) mod sealed {
    /// Who runs a poll; decides who releases SCHED afterwards.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Owner {
        /// A scheduler (worker or context thread): the poll's outcome releases.
        Scheduler,
        /// Busy poll or netpoll: the loop releases when it stops.
        Loop,
    }

    /// What the owner must do after a poll.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Outcome {
        /// SCHED was released: the context is no longer ours.
        Released,
        /// Still owned: poll again (re-queue at the tail).
        Repoll,
    }

    /// Result of one poll.
    #[derive(Debug, Clone, Copy)]
    pub struct Polled {
        /// Packets received.
        pub work: usize,
        /// What to do next.
        pub outcome: Outcome,
    }

    /// Crate-private poll entry points.
    pub trait Owned {
        /// Runs the handler's poll with `budget`, then applies its completion.
        ///
        /// # Safety
        /// The caller must own the context (hold SCHED obtained by a 0→1 CAS or
        /// handed over through [`super::ScheduleTarget::enqueue`]) and must not
        /// have handed it on.
        unsafe fn poll_owned(&self, budget: usize, owner: Owner) -> Polled;
    }
}
use sealed::{Outcome, Owner, Polled};

/// What the handler said through [`NapiRef::complete_done`] during one poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Completion {
    NotCalled,
    /// Returned true: release after the poll (unless MISSED arrives meanwhile).
    Done,
    /// MISSED was set and consumed: poll again.
    Missed,
    /// Busy poll or netpoll owns the context.
    Loop,
}

/// Per-context statistics (relaxed counters, not part of the protocol).
#[derive(Debug, Default)]
struct Stats {
    polls: AtomicU64,
    work: AtomicU64,
    full_budget_polls: AtomicU64,
    missed: AtomicU64,
    completed: AtomicU64,
}

/// A snapshot of a context's statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NapiStats {
    /// Calls of the poll callback.
    pub polls: u64,
    /// Packets received over all polls.
    pub work: u64,
    /// Polls that used their whole budget (work == budget, budget > 0).
    pub full_budget_polls: u64,
    /// Polls repeated because MISSED was set (a schedule raced the poll).
    pub missed: u64,
    /// Polls whose `complete_done` returned true: the context went idle and the
    /// driver re-armed its interrupts (the re-arm count).
    pub completed: u64,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The NAPI state word and the Linux contract on it.
///
/// Embedded in a [`NapiContext`]; reached by `Deref` or [`AnyNapi::napi`].
pub struct Napi {
    state: AtomicU32,
    weight: usize,
    id: u64,
    /// The containing context, to hand to the scheduler when scheduled.
    this: Weak<dyn AnyNapi>,
    target: OnceLock<Arc<dyn ScheduleTarget>>,
    stats: Stats,
    warned: StdAtomicBool,
}

impl fmt::Debug for Napi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Napi")
            .field("id", &self.id)
            .field("state", &format_args!("{:#x}", self.state()))
            .field("weight", &self.weight)
            .finish()
    }
}

impl Napi {
    fn new(weight: usize, this: Weak<dyn AnyNapi>) -> Self {
        let id = NEXT_ID.fetch_add(1, StdOrdering::Relaxed);
        let weight = if weight == 0 {
            tracing::warn!(napi = id, "NAPI weight 0 is invalid, using 1");
            1
        } else {
            if weight > DEFAULT_WEIGHT {
                // Same advice as netif_napi_add: a larger weight only lets one
                // queue starve the others sharing the scheduler.
                tracing::warn!(
                    napi = id,
                    weight,
                    "NAPI weight above {DEFAULT_WEIGHT} is discouraged"
                );
            }
            weight
        };
        Self {
            // Contexts start disabled (owned by nobody's poll), like netif_napi_add.
            state: AtomicU32::new(SCHED | DISABLE | DISABLED),
            weight,
            id,
            this,
            target: OnceLock::new(),
            stats: Stats::default(),
            warned: StdAtomicBool::new(false),
        }
    }

    /// A process-unique id, for logs.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The context's weight: its budget per poll.
    pub fn weight(&self) -> usize {
        self.weight
    }

    /// A snapshot of the state word (bits in [`state`]).
    pub fn state(&self) -> u32 {
        self.state.load(Ordering::Acquire)
    }

    /// True while somebody owns the context (SCHED).
    pub fn is_scheduled(&self) -> bool {
        self.state() & SCHED != 0
    }

    /// True once `disable` has completed and until `enable`.
    pub fn is_disabled(&self) -> bool {
        self.state() & DISABLED != 0
    }

    /// Statistics snapshot.
    pub fn stats(&self) -> NapiStats {
        NapiStats {
            polls: self.stats.polls.load(StdOrdering::Relaxed),
            work: self.stats.work.load(StdOrdering::Relaxed),
            full_budget_polls: self.stats.full_budget_polls.load(StdOrdering::Relaxed),
            missed: self.stats.missed.load(StdOrdering::Relaxed),
            completed: self.stats.completed.load(StdOrdering::Relaxed),
        }
    }

    /// Binds the context to the target its schedules go to (once).
    pub fn bind(&self, target: Arc<dyn ScheduleTarget>) -> Result<(), NapiError> {
        self.target
            .set(target)
            .map_err(|_| NapiError::AlreadyBound(self.id))
    }

    /// True once [`bind`](Self::bind) succeeded.
    pub fn is_bound(&self) -> bool {
        self.target.get().is_some()
    }

    pub(crate) fn set_flag(&self, flag: u32) -> bool {
        self.state.fetch_or(flag, Ordering::AcqRel) & flag == 0
    }

    pub(crate) fn clear_flag(&self, flag: u32) {
        self.state.fetch_and(!flag, Ordering::AcqRel);
    }

    /// `napi_schedule_prep`: atomically takes ownership (SCHED) and returns true;
    /// returns false if `disable` is pending, or — after setting MISSED, so the
    /// owner polls once more — if the context is already owned.
    pub fn schedule_prep(&self) -> bool {
        let mut val = self.state.load(Ordering::Acquire);
        loop {
            if val & DISABLE != 0 {
                return false;
            }
            let missed = if val & SCHED != 0 { MISSED } else { 0 };
            let new = val | SCHED | missed;
            match self
                .state
                .compare_exchange_weak(val, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return val & SCHED == 0,
                Err(v) => val = v,
            }
        }
    }

    /// `__napi_schedule`: hands the owned context to its target (poll list or
    /// thread). Without a target (or if the context is being dropped) it logs and
    /// releases ownership, so that `disable` cannot hang.
    ///
    /// # Safety
    /// The caller must own the context — it won [`schedule_prep`](Self::schedule_prep)
    /// (or otherwise took SCHED from 0) — and gives that ownership up here: it
    /// must not touch the handler afterwards, nor schedule it again.
    pub unsafe fn __schedule(&self) {
        match (self.target.get(), self.this.upgrade()) {
            (Some(target), Some(me)) => target.enqueue(me),
            _ => {
                tracing::warn!(napi = self.id, "scheduled a NAPI context with no scheduler");
                self.abandon();
            }
        }
    }

    /// `napi_schedule`: `if schedule_prep() { __schedule() }`; returns whether
    /// this call scheduled the context.
    pub fn schedule(&self) -> bool {
        if self.schedule_prep() {
            // SAFETY: schedule_prep just made us the owner; we hand it on at once.
            unsafe { self.__schedule() };
            true
        } else {
            false
        }
    }

    /// The IRQ-handler pattern with a caller-supplied mask:
    /// `if schedule_prep() { mask(); __schedule() }`. Returns whether it scheduled.
    pub fn irq_with(&self, mask: impl FnOnce()) -> bool {
        if self.schedule_prep() {
            mask();
            // SAFETY: schedule_prep made us the owner; mask() ran while we owned it.
            unsafe { self.__schedule() };
            true
        } else {
            false
        }
    }

    /// `napi_disable`: sets DISABLE (so nobody new can schedule), waits until the
    /// current owner *releases* SCHED — not merely until its poll returns: a
    /// context that is re-queued stays owned — and then holds SCHED itself.
    ///
    /// Blocks while another `disable` holds the context, until its `enable`.
    /// Never call it from the context's own poll (it would wait for itself).
    pub fn disable(&self) {
        self.state.fetch_or(DISABLE, Ordering::AcqRel);
        let mut val = self.state.load(Ordering::Acquire);
        let mut step = 0u32;
        loop {
            if val & SCHED != 0 {
                sync::backoff(step);
                step = step.saturating_add(1);
                val = self.state.load(Ordering::Acquire);
                if val & DISABLE == 0 {
                    // A previous disabler's enable() cleared DISABLE while we
                    // waited: assert ours again, or a flood could starve us.
                    val = self.state.fetch_or(DISABLE, Ordering::AcqRel) | DISABLE;
                }
                continue;
            }
            let new = val | SCHED | DISABLE | DISABLED;
            match self
                .state
                .compare_exchange_weak(val, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(v) => val = v,
            }
        }
    }

    /// `napi_enable`: releases a context held by `disable` (or a new one). Logs
    /// and does nothing if the context is not disabled: releasing SCHED held by
    /// a poller would let two polls run at once.
    pub fn enable(&self) {
        let mut val = self.state.load(Ordering::Acquire);
        loop {
            if val & DISABLED == 0 {
                tracing::warn!(
                    napi = self.id,
                    "enable of a NAPI context that is not disabled"
                );
                return;
            }
            if val & HELD != 0 {
                // disable_with is using the handler: releasing SCHED now would
                // let a poll run beside it.
                tracing::warn!(
                    napi = self.id,
                    "enable of a NAPI context whose handler is borrowed (disable_with): ignored"
                );
                return;
            }
            let new = val & !(SCHED | MISSED | DISABLE | DISABLED | NPSVC | IN_BUSY_POLL);
            match self
                .state
                .compare_exchange_weak(val, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(v) => val = v,
            }
        }
    }

    /// Takes ownership for a polling loop (busy poll: `IN_BUSY_POLL`, netpoll:
    /// `NPSVC`) if nobody owns the context and no disable is pending.
    pub(crate) fn try_own(&self, flag: u32) -> bool {
        let val = self.state.load(Ordering::Acquire);
        if val & (SCHED | DISABLE | NPSVC | IN_BUSY_POLL) != 0 {
            return false;
        }
        self.state
            .compare_exchange(val, val | SCHED | flag, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Ends a polling loop's ownership (`busy_poll_stop`). If an interrupt was
    /// missed meanwhile, or `more` work is left, the context stays owned and goes
    /// to its scheduler — the interrupt that set MISSED left the queue masked, so
    /// only a poll re-arms it. A pending disable gets the context released.
    pub(crate) fn release_loop(&self, flag: u32, more: bool) {
        let mut val = self.state.load(Ordering::Acquire);
        loop {
            let resched = (val & MISSED != 0 || more) && val & DISABLE == 0;
            let new = if resched {
                (val & !(flag | MISSED)) | SCHED
            } else {
                val & !(flag | MISSED | SCHED)
            };
            match self
                .state
                .compare_exchange_weak(val, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(v) => val = v,
            }
        }
        if (val & MISSED != 0 || more) && val & DISABLE == 0 {
            // SAFETY: the CAS above kept SCHED for us; we hand it on.
            unsafe { self.__schedule() };
        }
    }

    /// Gives up ownership without polling (a scheduler shutting down, or no
    /// target). The queue stays masked: whoever enables it again must re-arm.
    pub(crate) fn abandon(&self) {
        self.state
            .fetch_and(!(SCHED | MISSED | NPSVC | IN_BUSY_POLL), Ordering::AcqRel);
    }

    /// Applies a poll's result; runs after `poll` returned (see module docs).
    fn finish_poll(&self, work: usize, budget: usize, done: Completion, owner: Owner) -> Outcome {
        self.stats.polls.fetch_add(1, StdOrdering::Relaxed);
        self.stats.work.fetch_add(work as u64, StdOrdering::Relaxed);
        if budget > 0 && work >= budget {
            self.stats
                .full_budget_polls
                .fetch_add(1, StdOrdering::Relaxed);
        }
        if work > budget {
            self.warn_once("poll returned more work than its budget");
        }
        if done == Completion::Missed {
            self.stats.missed.fetch_add(1, StdOrdering::Relaxed);
        }
        if done == Completion::Done {
            self.stats.completed.fetch_add(1, StdOrdering::Relaxed);
        }
        if owner == Owner::Loop {
            return Outcome::Repoll;
        }
        if work >= budget {
            if done != Completion::NotCalled {
                self.warn_once("complete_done called by a poll that used its whole budget");
            }
            // Still owned by us. Under a flood a context might never complete;
            // let a pending disable win (net_rx_action's napi_disable_pending).
            if self.state() & DISABLE != 0 {
                self.abandon();
                return Outcome::Released;
            }
            return Outcome::Repoll;
        }
        match done {
            Completion::Missed => return Outcome::Repoll,
            Completion::NotCalled => {
                // The kernel would leave the context owned forever. Release it
                // so disable cannot hang; the queue stays unarmed (driver bug).
                self.warn_once("poll returned less than budget without complete_done");
            }
            Completion::Done | Completion::Loop => {}
        }
        let mut val = self.state.load(Ordering::Acquire);
        loop {
            debug_assert!(val & SCHED != 0, "finish_poll without ownership");
            // MISSED here means an interrupt came after complete_done decided
            // (typically the re-arm fired at once): keep SCHED, poll again.
            let (new, outcome) = if val & MISSED != 0 {
                (val & !MISSED, Outcome::Repoll)
            } else {
                (val & !SCHED, Outcome::Released)
            };
            match self
                .state
                .compare_exchange_weak(val, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if outcome == Outcome::Repoll {
                        self.stats.missed.fetch_add(1, StdOrdering::Relaxed);
                    }
                    return outcome;
                }
                Err(v) => val = v,
            }
        }
    }

    fn warn_once(&self, what: &str) {
        if !self.warned.swap(true, StdOrdering::Relaxed) {
            tracing::warn!(napi = self.id, "NAPI contract violation: {what}");
        }
    }
}

/// The poll's view of its context: proof of ownership, valid during one poll.
pub struct NapiRef<'a> {
    napi: &'a Napi,
    budget: usize,
    done: Cell<Completion>,
}

impl NapiRef<'_> {
    /// The state word (for `id`, `weight`, `state`, statistics).
    pub fn napi(&self) -> &Napi {
        self.napi
    }

    /// The budget of this poll.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// `napi_complete_done`: call when `work_done < budget`. Returns true if the
    /// driver may re-arm the queue interrupt; false if the context must stay
    /// scheduled — MISSED was set (it is cleared and the context is polled once
    /// more) or busy poll / netpoll owns it — and then the driver must not re-arm.
    ///
    /// SCHED is released when `poll` returns, not here (see the module docs);
    /// an interrupt between the re-arm and that release sets MISSED and is not lost.
    pub fn complete_done(&self, work_done: usize) -> bool {
        let _ = work_done; // for interrupt deferral (gro_flush_timeout) later
        let mut val = self.napi.state.load(Ordering::Acquire);
        if val & (NPSVC | IN_BUSY_POLL) != 0 {
            self.done.set(Completion::Loop);
            return false;
        }
        loop {
            if val & MISSED == 0 {
                self.done.set(Completion::Done);
                return true;
            }
            match self.napi.state.compare_exchange_weak(
                val,
                val & !MISSED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    self.done.set(Completion::Missed);
                    return false;
                }
                Err(v) => val = v,
            }
        }
    }

    /// `napi_complete`: `complete_done(0)`.
    pub fn complete(&self) -> bool {
        self.complete_done(0)
    }
}

/// A NAPI context: the state word plus the driver's handler it owns.
pub struct NapiContext<H: Poll> {
    napi: Napi,
    /// Touched only by the owner of SCHED; see the module docs.
    handler: UnsafeCell<H>,
}

// SAFETY: `&NapiContext` is shared between threads, but the handler is reached
// only by `poll_owned` and `irq`, i.e. by the single thread that owns SCHED (taken
// by a 0→1 CAS, moved through a mutex-protected list, released by an AcqRel CAS
// after the `&mut H` ended), so it is never accessed from two threads at once and
// every access happens-after the previous one. `H: Send` because successive owners
// are different threads; `H: Sync` is not needed since `&H` is never shared.
unsafe impl<H: Poll> Sync for NapiContext<H> {}

impl<H: Poll + 'static> NapiContext<H> {
    /// `netif_napi_add`: wraps `handler` in a new, disabled context. Weights above
    /// [`DEFAULT_WEIGHT`] are logged as discouraged.
    pub fn new(handler: H, weight: usize) -> Arc<Self> {
        Arc::new_cyclic(|weak: &Weak<Self>| {
            let this: Weak<dyn AnyNapi> = weak.clone();
            Self {
                napi: Napi::new(weight, this),
                handler: UnsafeCell::new(handler),
            }
        })
    }

    /// [`new`](Self::new) with [`DEFAULT_WEIGHT`].
    pub fn with_default_weight(handler: H) -> Arc<Self> {
        Self::new(handler, DEFAULT_WEIGHT)
    }

    /// The type-erased handle schedulers and lists keep.
    pub fn handle(self: &Arc<Self>) -> NapiHandle {
        self.clone()
    }

    /// The handler, when the context is not shared (e.g. `Arc::get_mut`).
    pub fn get_mut(&mut self) -> &mut H {
        // SAFETY: `&mut self` excludes every other access, including polls.
        self.handler.with_mut(|h| unsafe { &mut *h })
    }

    /// Runs `f` on the handler of a disabled context — the device's slow paths
    /// (queue recovery) reach their queues this way — and returns its result.
    ///
    /// If the context is not disabled, it is disabled first ([`Napi::disable`]:
    /// waits until the current owner releases it). While `f` runs the context is
    /// marked [`state::HELD`], so nobody else can touch the handler: interrupts
    /// and polling loops are refused as for any disabled context, and
    /// [`Napi::enable`] refuses too. The context is left **disabled**: call
    /// `enable` afterwards. If another `disable_with` holds the handler, this one
    /// waits for it. Never call it from the context's own poll.
    pub fn disable_with<R>(&self, f: impl FnOnce(&mut H) -> R) -> R {
        let state = &self.napi.state;
        let mut step = 0u32;
        loop {
            let val = state.load(Ordering::Acquire);
            if val & DISABLED == 0 {
                self.napi.disable();
                continue;
            }
            if val & HELD != 0 {
                sync::backoff(step);
                step = step.saturating_add(1);
                continue;
            }
            // DISABLED: a disable holds SCHED, and disable never touches the
            // handler; HELD (set atomically with that observation) keeps enable
            // from releasing SCHED while we use it.
            if state
                .compare_exchange_weak(val, val | HELD, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                break;
            }
        }
        struct Unhold<'a>(&'a AtomicU32);
        impl Drop for Unhold<'_> {
            fn drop(&mut self) {
                self.0.fetch_and(!HELD, Ordering::AcqRel);
            }
        }
        let _unhold = Unhold(state);
        // SAFETY: SCHED is held by a disable (DISABLED) and HELD is ours, so no
        // poll, IRQ handler, enable or other disable_with can reach the handler
        // until `_unhold` clears HELD, after this `&mut H` has ended.
        self.handler.with_mut(|h| f(unsafe { &mut *h }))
    }

    /// Consumes the context and returns its handler.
    pub fn into_inner(self) -> H {
        self.handler.into_inner()
    }
}

impl<H: Poll> std::ops::Deref for NapiContext<H> {
    type Target = Napi;
    fn deref(&self) -> &Napi {
        &self.napi
    }
}

impl<H: Poll> fmt::Debug for NapiContext<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NapiContext")
            .field("napi", &self.napi)
            .finish_non_exhaustive()
    }
}

impl<H: Poll> sealed::Owned for NapiContext<H> {
    unsafe fn poll_owned(&self, budget: usize, owner: Owner) -> Polled {
        let napi_ref = NapiRef {
            napi: &self.napi,
            budget,
            done: Cell::new(Completion::NotCalled),
        };
        // SAFETY: the caller owns SCHED (this function's contract), so nobody
        // else accesses the handler; the `&mut H` ends with this closure,
        // before finish_poll may release ownership.
        let work = self
            .handler
            .with_mut(|h| unsafe { (*h).poll(&napi_ref, budget) });
        let outcome = self
            .napi
            .finish_poll(work, budget, napi_ref.done.get(), owner);
        Polled { work, outcome }
    }
}

impl<H: Poll> AnyNapi for NapiContext<H> {
    fn napi(&self) -> &Napi {
        &self.napi
    }

    fn irq(&self) -> bool {
        if self.napi.schedule_prep() {
            // SAFETY: schedule_prep made us the owner; the borrow ends before
            // __schedule hands ownership on.
            self.handler.with_mut(|h| unsafe { (*h).mask_irq() });
            // SAFETY: we own the context and give it up here.
            unsafe { self.napi.__schedule() };
            true
        } else {
            false
        }
    }
}

/// A device's list of its contexts (`dev->napi_list`): for netpoll, and to
/// enable/disable them all on open/close. Contexts are owned by the queue
/// structures; the list only keeps handles.
#[derive(Default)]
pub struct NapiList {
    ctxs: Mutex<Vec<NapiHandle>>,
}

impl fmt::Debug for NapiList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NapiList")
            .field("len", &self.len())
            .finish()
    }
}

impl NapiList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a context (sets LISTED). A context already listed somewhere is
    /// logged and not added twice.
    pub fn register(&self, ctx: NapiHandle) {
        if !ctx.napi().set_flag(LISTED) {
            tracing::warn!(napi = ctx.napi().id(), "NAPI context registered twice");
            return;
        }
        sync::lock(&self.ctxs).push(ctx);
    }

    /// Removes a context (`netif_napi_del`); returns whether it was listed here.
    pub fn unregister(&self, ctx: &NapiHandle) -> bool {
        let mut v = sync::lock(&self.ctxs);
        let before = v.len();
        v.retain(|c| !Arc::ptr_eq(c, ctx));
        let removed = v.len() != before;
        if removed {
            ctx.napi().clear_flag(LISTED);
        }
        removed
    }

    /// The registered contexts, in registration order.
    pub fn snapshot(&self) -> Vec<NapiHandle> {
        sync::lock(&self.ctxs).clone()
    }

    /// Number of registered contexts.
    pub fn len(&self) -> usize {
        sync::lock(&self.ctxs).len()
    }

    /// True if no context is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Enables every context (device open).
    pub fn enable_all(&self) {
        for c in self.snapshot() {
            c.napi().enable();
        }
    }

    /// Disables every context (device close), each waiting for its owner.
    pub fn disable_all(&self) {
        for c in self.snapshot() {
            c.napi().disable();
        }
    }
}
