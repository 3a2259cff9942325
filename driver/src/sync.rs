//! Synchronization primitives, swapped for [loom]'s under `--cfg loom`.
//!
//! The NAPI state machine and the scheduler use only what this module exports, so
//! the very same code is model-checked by `tests/loom_napi.rs`
//! (`RUSTFLAGS="--cfg loom" cargo test -p oxnic-driver --release --test loom_napi`).
//!
//! Statistics counters deliberately do *not* go through this module: they are not
//! part of the synchronization protocol, and routing them through loom would only
//! multiply the interleavings the model checker has to explore.
//!
//! [loom]: https://docs.rs/loom

#[cfg(loom)]
pub use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
#[cfg(loom)]
pub use loom::sync::{Condvar, Mutex, MutexGuard};
#[cfg(loom)]
pub use loom::thread;

#[cfg(not(loom))]
pub use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub use std::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
pub use std::thread;

/// Locks `m`, ignoring poisoning.
///
/// A panic inside a NAPI poll must not wedge every other context that shares the
/// scheduler's list: the protected data (a queue of context handles) stays
/// consistent even if a holder panicked, so the poison flag carries no information.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits on `cv`, ignoring poisoning (see [`lock`]).
pub fn wait<'a, T>(cv: &Condvar, g: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(g).unwrap_or_else(|e| e.into_inner())
}

/// One step of a wait loop on an atomic (used by `Napi::disable`).
///
/// Under loom this is `yield_now`, which tells the model checker that the thread
/// cannot progress until another one runs. Otherwise it spins briefly, then yields,
/// then sleeps like the kernel's `usleep_range(20, 200)` in `napi_disable`: the
/// owner may be in the middle of a poll, which takes microseconds to milliseconds.
pub fn backoff(step: u32) {
    #[cfg(loom)]
    {
        let _ = step;
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    {
        if step < 16 {
            std::hint::spin_loop();
        } else if step < 64 {
            std::thread::yield_now();
        } else {
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
    }
}

/// An `UnsafeCell` with loom's closure-based API.
///
/// Under loom this is `loom::cell::UnsafeCell`, which records every access and
/// fails the model if two threads could touch the value without a happens-before
/// edge between them: exactly the "never two polls at once" property of NAPI.
#[cfg(loom)]
pub use loom::cell::UnsafeCell;

/// An `UnsafeCell` with loom's closure-based API (the std build: zero cost).
#[cfg(not(loom))]
#[derive(Debug, Default)]
pub struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    /// Wraps `data`.
    pub const fn new(data: T) -> Self {
        Self(std::cell::UnsafeCell::new(data))
    }

    /// Calls `f` with a mutable raw pointer to the contents.
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }

    /// Returns the contents.
    pub fn into_inner(self) -> T {
        self.0.into_inner()
    }
}
