//! The interrupt thread: waits on every vector's eventfd and runs the interrupt
//! handler of the contexts on that vector (the hard-IRQ role of interrupt mode).
//!
//! One thread, one epoll set: the vector eventfds (epoll data = vector number)
//! plus a stop eventfd. When a vector fires, the thread reads its eventfd — the
//! read returns and clears the number of messages since the last read, so a
//! burst of interrupts is one dispatch — and calls [`VectorTable::dispatch`]:
//! for each context, `schedule_prep` → `mask_irq` → `__schedule`. The poll itself
//! runs on the scheduler's thread ([`crate::Worker`] or [`crate::ThreadedNapi`]).
//!
//! epoll is `vmm_sys_util::epoll` (already a dependency for `EventFd`): a safe,
//! thin wrapper over `epoll_create1`/`epoll_ctl`/`epoll_wait`, so this module has
//! no `unsafe`. Level-triggered: an eventfd that is not read stays ready, so a
//! read that fails transiently is retried on the next wait rather than lost.

use std::fmt;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use vmm_sys_util::epoll::{ControlOperation, Epoll, EpollEvent, EventSet};
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use crate::sched::VectorTable;

/// Epoll data of the stop eventfd (vector numbers are below 2^32).
const STOP: u64 = u64::MAX;

/// A snapshot of the interrupt thread's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IrqStats {
    /// `epoll_wait` returns with at least one event.
    pub wakeups: u64,
    /// Interrupt messages (sum of the eventfd counters read).
    pub interrupts: u64,
    /// Vector dispatches (one per eventfd read that returned a count).
    pub dispatches: u64,
    /// Contexts scheduled by those dispatches.
    pub scheduled: u64,
}

#[derive(Debug, Default)]
struct Counters {
    wakeups: AtomicU64,
    interrupts: AtomicU64,
    dispatches: AtomicU64,
    scheduled: AtomicU64,
}

/// The running interrupt thread. Stop it with [`IrqThread::stop`] (dropping it
/// stops it too).
pub struct IrqThread {
    stop: EventFd,
    join: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl fmt::Debug for IrqThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IrqThread")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl IrqThread {
    /// Starts the thread for vectors `0..fds.len()`: `fds[v]` is vector `v`'s
    /// eventfd (the same ones given to [`crate::InterruptVectors::bind_vectors`];
    /// the thread keeps its own duplicates). Fired vectors are dispatched through
    /// `table`. Fails only if the epoll set, the stop eventfd or the thread
    /// cannot be created (an `io::Error` from the kernel: fd or thread limits).
    pub fn spawn(fds: &[&EventFd], table: Arc<VectorTable>) -> io::Result<Self> {
        let epoll = Epoll::new()?;
        let stop = EventFd::new(EFD_NONBLOCK)?;
        let mut vectors = Vec::with_capacity(fds.len());
        for (v, fd) in fds.iter().enumerate() {
            let fd = fd.try_clone()?;
            epoll.ctl(
                ControlOperation::Add,
                fd.as_raw_fd(),
                EpollEvent::new(EventSet::IN, v as u64),
            )?;
            vectors.push(fd);
        }
        let stop_fd = stop.try_clone()?;
        epoll.ctl(
            ControlOperation::Add,
            stop_fd.as_raw_fd(),
            EpollEvent::new(EventSet::IN, STOP),
        )?;
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        let join = std::thread::Builder::new()
            .name("oxnic-irq".into())
            .spawn(move || thread_main(&epoll, &vectors, &table, &c))?;
        Ok(Self {
            stop: stop_fd,
            join: Some(join),
            counters,
        })
    }

    /// Counters snapshot.
    pub fn stats(&self) -> IrqStats {
        let c = &*self.counters;
        IrqStats {
            wakeups: c.wakeups.load(Ordering::Relaxed),
            interrupts: c.interrupts.load(Ordering::Acquire),
            dispatches: c.dispatches.load(Ordering::Relaxed),
            scheduled: c.scheduled.load(Ordering::Relaxed),
        }
    }

    /// Signals the stop eventfd and joins the thread. Interrupts arriving later
    /// are not handled (their eventfds keep the count).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(join) = self.join.take() {
            if let Err(e) = self.stop.write(1) {
                // Cannot happen short of an eventfd counter overflow.
                tracing::error!(%e, "cannot signal the interrupt thread to stop");
            }
            if join.join().is_err() {
                tracing::error!("interrupt thread panicked");
            }
        }
    }
}

impl Drop for IrqThread {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn thread_main(epoll: &Epoll, vectors: &[EventFd], table: &VectorTable, c: &Counters) {
    let mut events = vec![EpollEvent::default(); vectors.len() + 1];
    loop {
        let n = match epoll.wait(-1, &mut events) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::error!(%e, "epoll_wait failed: interrupt thread stops");
                return;
            }
        };
        if n > 0 {
            c.wakeups.fetch_add(1, Ordering::Relaxed);
        }
        for ev in &events[..n] {
            let data = ev.data();
            if data == STOP {
                return;
            }
            let v = data as usize;
            let Some(fd) = vectors.get(v) else { continue };
            match fd.read() {
                Ok(count) => {
                    let s = table.dispatch(v);
                    // Counted after the dispatch (Release), so an observer that
                    // sees `interrupts` reach N knows the handlers of those N
                    // messages have run: a lockstep co-simulation waits on it.
                    c.scheduled.fetch_add(s as u64, Ordering::Relaxed);
                    c.dispatches.fetch_add(1, Ordering::Relaxed);
                    c.interrupts.fetch_add(count, Ordering::Release);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => tracing::warn!(vector = v, %e, "reading a vector eventfd failed"),
            }
        }
    }
}
