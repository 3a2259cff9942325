//! [`SimTransport`]: the co-simulated device behind the driver's transport traits,
//! behaving like vfio-pci.
//!
//! - **Registers**: BAR0 accesses become AXI4-Lite transactions on the core's
//!   `s_axil_*` port. Writes are posted (the caller does not wait, as a PCIe
//!   memory write), reads wait for the data; both keep their order (a read never
//!   passes a write, as on PCIe). The MSI-X pages are refused, as vfio-pci refuses
//!   them (the driver's hot-path policy; `try_*` give `Error::MsixPageAccess`).
//! - **DMA**: one [`DmaArena`] mapped at `iova_base`; the core's AXI master
//!   reaches it through the IOMMU model of [`SimDevice`] (anything else is SLVERR).
//! - **Interrupts**: binding eventfds makes the *platform* (this transport)
//!   program the MSI-X table — address [`MSI_BASE`], data = vector number,
//!   unmasked — and set MSI-X enable, through the same AXI4-Lite port; an AXI
//!   write to the MSI window signals the vector's eventfd.
//!
//! Two clocks ([`Clock`]): **threaded** — the device runs in its own thread with
//! a free-running clock, racing the driver as hardware does; **lockstep** — no
//! device thread: the clock advances only inside register reads (until the data
//! is back) and [`SimTransport::advance`], so a single-threaded driver run is a
//! pure function of its inputs and seed.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use oxnic_driver::transport::hot_path_access;
use oxnic_driver::{
    DmaArena, DmaMemory, Error, EventFd, HugePages, InterruptVectors, RegisterAccess, Result,
};
use oxnic_regs::msix;

use crate::device::{Mac, MemoryTiming, MsiTargets, RegOp, SimCounters, SimDevice, MSI_BASE};
use crate::model::{model_queue_counts, TopModel, DEFAULT_MODEL_QUEUES};

/// How the device's clock runs (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// The device thread clocks the model as fast as it can.
    Threaded,
    /// The clock advances only when the driver waits.
    Lockstep,
}

/// Everything a [`SimTransport`] is built from.
pub struct SimConfig {
    /// Which linked model: its queue count (see [`crate::model_queue_counts`]).
    pub model_queues: u32,
    /// Clocking mode.
    pub clock: Clock,
    /// DMA arena size in bytes.
    pub arena_bytes: usize,
    /// IOVA of the arena's first byte.
    pub iova_base: u64,
    /// Host memory timing and random stalls.
    pub timing: MemoryTiming,
    /// Seed of every random choice of the platform (memory stalls).
    pub seed: u64,
    /// The wire side.
    pub mac: Box<dyn Mac>,
    /// Write an FST waveform here, optionally only for cycles `from..to`.
    pub waves: Option<(PathBuf, Option<(u64, u64)>)>,
}

impl SimConfig {
    /// The 8-queue model, threaded clock, 64 MiB arena at IOVA 4 GiB, default
    /// timing, seed 1.
    pub fn new(mac: Box<dyn Mac>) -> Self {
        Self {
            model_queues: DEFAULT_MODEL_QUEUES,
            clock: Clock::Threaded,
            arena_bytes: 64 << 20,
            iova_base: 0x1_0000_0000,
            timing: MemoryTiming::default(),
            seed: 1,
            mac,
            waves: None,
        }
    }
}

/// Work for the device thread: register accesses, or a closure run between two
/// clock cycles (inspection, MAC changes, waveforms).
enum Job {
    Op(RegOp),
    Call(Box<dyn FnOnce(&mut SimDevice) + Send>),
}

struct Shared {
    jobs: Mutex<VecDeque<Job>>,
    /// Set when `jobs` may be non-empty: the device thread tests this flag, not
    /// the lock, every cycle.
    has_jobs: AtomicBool,
    stop: AtomicBool,
    /// Cycles so far, published every 256 cycles.
    cycles: AtomicU64,
    /// The device thread's CPU time in ns, published every 65536 cycles.
    cpu_ns: AtomicU64,
}

enum Engine {
    Threaded {
        shared: Arc<Shared>,
        join: Mutex<Option<JoinHandle<SimDevice>>>,
    },
    Lockstep {
        dev: Box<Mutex<SimDevice>>,
    },
}

/// The co-simulated oxnic as a driver [`oxnic_driver::Transport`].
pub struct SimTransport {
    arena: DmaArena,
    queues: u32,
    vectors: u32,
    msi: MsiTargets,
    engine: Engine,
}

impl std::fmt::Debug for SimTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimTransport")
            .field("arena", &self.arena)
            .field("clock", &self.clock())
            .finish()
    }
}

impl SimTransport {
    /// Builds the device (model held in reset for a few cycles) and, with the
    /// threaded clock, starts its thread.
    pub fn new(cfg: SimConfig) -> Result<Self> {
        let model = TopModel::new(cfg.model_queues).ok_or_else(|| {
            Error::InvalidConfig(format!(
                "no oxnic_top model with {} queues is linked (built: {:?}; set \
                 OXNIC_SIM_QUEUES={} when building oxnic-sim)",
                cfg.model_queues,
                model_queue_counts(),
                cfg.model_queues
            ))
        })?;
        let (queues, vectors) = (model.queues(), model.vectors());
        let arena = DmaArena::new(cfg.arena_bytes, cfg.iova_base, HugePages::Never)?;
        let msi: MsiTargets = Arc::new(RwLock::new(Vec::new()));
        let mut dev = SimDevice::new(
            model,
            arena.clone(),
            msi.clone(),
            cfg.mac,
            cfg.timing,
            cfg.seed,
        );
        if let Some((path, window)) = &cfg.waves {
            dev.open_waves(path, *window)
                .map_err(|e| Error::InvalidConfig(format!("waveform: {e}")))?;
        }
        let engine = match cfg.clock {
            Clock::Lockstep => {
                dev.set_defer_msi(true);
                Engine::Lockstep {
                    dev: Box::new(Mutex::new(dev)),
                }
            }
            Clock::Threaded => {
                let shared = Arc::new(Shared {
                    jobs: Mutex::new(VecDeque::new()),
                    has_jobs: AtomicBool::new(false),
                    stop: AtomicBool::new(false),
                    cycles: AtomicU64::new(0),
                    cpu_ns: AtomicU64::new(0),
                });
                let sh = shared.clone();
                let join = std::thread::Builder::new()
                    .name("oxnic-sim-device".into())
                    .spawn(move || device_thread(dev, sh))
                    .map_err(|source| Error::Os {
                        what: "the device thread",
                        source,
                    })?;
                Engine::Threaded {
                    shared,
                    join: Mutex::new(Some(join)),
                }
            }
        };
        Ok(Self {
            arena,
            queues,
            vectors,
            msi,
            engine,
        })
    }

    /// Queues per direction of the simulated device.
    pub fn queues(&self) -> u32 {
        self.queues
    }

    /// The clocking mode.
    pub fn clock(&self) -> Clock {
        match self.engine {
            Engine::Threaded { .. } => Clock::Threaded,
            Engine::Lockstep { .. } => Clock::Lockstep,
        }
    }

    /// Runs `f` on the device between two clock cycles and returns its result
    /// (in the device thread with the threaded clock).
    pub fn with_device<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut SimDevice) -> R + Send + 'static,
    ) -> R {
        match &self.engine {
            Engine::Lockstep { dev } => f(&mut dev.lock().expect("device lock")),
            Engine::Threaded { shared, .. } => {
                let (tx, rx) = sync_channel(1);
                push(
                    shared,
                    Job::Call(Box::new(move |d| {
                        let _ = tx.send(f(d));
                    })),
                );
                rx.recv().expect("the device thread has stopped")
            }
        }
    }

    /// Clock cycles so far (with the threaded clock, up to 256 behind).
    pub fn cycles(&self) -> u64 {
        match &self.engine {
            Engine::Lockstep { dev } => dev.lock().expect("device lock").cycles(),
            Engine::Threaded { shared, .. } => shared.cycles.load(Ordering::Relaxed),
        }
    }

    /// CPU time the device thread has used, in ns (threaded clock; up to 65536
    /// cycles behind while running, exact after [`SimTransport::stop`]); 0 in
    /// lockstep.
    pub fn device_cpu_ns(&self) -> u64 {
        match &self.engine {
            Engine::Threaded { shared, .. } => shared.cpu_ns.load(Ordering::Relaxed),
            Engine::Lockstep { .. } => 0,
        }
    }

    /// Lockstep: signals the eventfd of the oldest MSI message not yet
    /// delivered and returns 1, or 0 when none is left (threaded: messages are
    /// signalled as they are sent; returns 0).
    pub fn deliver_msi(&self) -> u64 {
        match &self.engine {
            Engine::Lockstep { dev } => dev.lock().expect("device lock").deliver_msi(),
            Engine::Threaded { .. } => 0,
        }
    }

    /// MSI messages sent so far, all vectors.
    pub fn msi_total(&self) -> u64 {
        self.with_device(|d| d.counters().msi.iter().sum::<u64>() + d.counters().msi_unbound)
    }

    /// The surroundings' counters (MSI messages, IOMMU faults, DMA bytes, ...).
    pub fn counters(&self) -> SimCounters {
        self.with_device(|d| d.counters().clone())
    }

    /// Lockstep: runs `n` clock cycles now. Threaded: does nothing (the clock is
    /// free-running).
    pub fn advance(&self, n: u64) {
        if let Engine::Lockstep { dev } = &self.engine {
            dev.lock().expect("device lock").run(n);
        }
    }

    /// Stops the device thread (if any) and closes the waveform; returns the
    /// device for inspection. Called by `Drop` too.
    pub fn stop(&self) {
        if let Engine::Threaded { shared, join } = &self.engine {
            shared.stop.store(true, Ordering::Release);
            if let Some(j) = join.lock().expect("join lock").take() {
                if let Ok(mut d) = j.join() {
                    d.close_waves();
                }
            }
        } else if let Engine::Lockstep { dev } = &self.engine {
            dev.lock().expect("device lock").close_waves();
        }
    }

    /// A platform (not driver) register access: bypasses the MSI-X page refusal.
    fn platform_write(&self, offset: u32, value: u32) {
        self.op(RegOp::Write { offset, value });
    }

    fn platform_read(&self, offset: u32) -> u32 {
        let (tx, rx) = sync_channel(1);
        self.op(RegOp::Read { offset, reply: tx });
        match &self.engine {
            Engine::Lockstep { dev } => {
                let mut d = dev.lock().expect("device lock");
                loop {
                    if let Ok(v) = rx.try_recv() {
                        return v;
                    }
                    d.cycle();
                }
            }
            Engine::Threaded { .. } => rx.recv().expect("the device thread has stopped"),
        }
    }

    fn op(&self, op: RegOp) {
        match &self.engine {
            Engine::Lockstep { dev } => {
                let mut d = dev.lock().expect("device lock");
                let is_write = matches!(op, RegOp::Write { .. });
                d.push_op(op);
                if is_write {
                    // Posted, but in lockstep it completes before the driver's
                    // next step, so the order of events is a function of the
                    // driver's actions alone.
                    while !d.regs_idle() {
                        d.cycle();
                    }
                }
            }
            Engine::Threaded { shared, .. } => push(shared, Job::Op(op)),
        }
    }
}

fn push(shared: &Shared, job: Job) {
    shared.jobs.lock().expect("jobs lock").push_back(job);
    shared.has_jobs.store(true, Ordering::Release);
}

fn device_thread(mut dev: SimDevice, shared: Arc<Shared>) -> SimDevice {
    let mut n: u64 = 0;
    while !shared.stop.load(Ordering::Relaxed) {
        if shared.has_jobs.load(Ordering::Acquire) {
            let jobs: Vec<Job> = {
                let mut q = shared.jobs.lock().expect("jobs lock");
                shared.has_jobs.store(false, Ordering::Release);
                q.drain(..).collect()
            };
            for j in jobs {
                match j {
                    Job::Op(op) => dev.push_op(op),
                    Job::Call(f) => f(&mut dev),
                }
            }
        }
        dev.cycle();
        n += 1;
        if n & 255 == 0 {
            shared.cycles.store(dev.cycles(), Ordering::Relaxed);
            if n & 0xFFFF == 0 {
                shared
                    .cpu_ns
                    .store(cpu_ns(libc::CLOCK_THREAD_CPUTIME_ID), Ordering::Relaxed);
            }
        }
    }
    shared.cycles.store(dev.cycles(), Ordering::Relaxed);
    shared
        .cpu_ns
        .store(cpu_ns(libc::CLOCK_THREAD_CPUTIME_ID), Ordering::Relaxed);
    dev
}

/// CPU time of `clock` (`CLOCK_THREAD_CPUTIME_ID` for the calling thread,
/// `CLOCK_PROCESS_CPUTIME_ID` for the process) in ns.
pub(crate) fn cpu_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; both clock ids exist on Linux.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Drop for SimTransport {
    fn drop(&mut self) {
        self.stop();
    }
}

impl RegisterAccess for SimTransport {
    fn bar0_size(&self) -> u32 {
        oxnic_regs::BAR0_SIZE
    }

    fn read32(&self, offset: u32) -> u32 {
        if !hot_path_access(offset, oxnic_regs::BAR0_SIZE) {
            return 0xFFFF_FFFF;
        }
        self.platform_read(offset)
    }

    fn write32(&self, offset: u32, value: u32) {
        if hot_path_access(offset, oxnic_regs::BAR0_SIZE) {
            self.platform_write(offset, value);
        }
    }
}

impl DmaMemory for SimTransport {
    fn dma_arena(&self) -> &DmaArena {
        &self.arena
    }
}

impl InterruptVectors for SimTransport {
    fn max_vectors(&self) -> u32 {
        self.vectors
    }

    fn bound_vectors(&self) -> u32 {
        self.msi.read().expect("MSI lock").len() as u32
    }

    fn bind_vectors(&self, fds: &[&EventFd]) -> Result<()> {
        let bound = self.bound_vectors();
        if bound != 0 {
            return Err(Error::VectorsAlreadyBound { bound });
        }
        if fds.len() as u32 > self.vectors {
            return Err(Error::TooManyVectors {
                requested: fds.len() as u32,
                available: self.vectors,
            });
        }
        let mut own = Vec::with_capacity(fds.len());
        for fd in fds {
            own.push(fd.try_clone().map_err(|source| Error::Os {
                what: "eventfd clone",
                source,
            })?);
        }
        *self.msi.write().expect("MSI lock") = own;
        // What the kernel does on VFIO_DEVICE_SET_IRQS: program each entry, unmask
        // it, enable MSI-X (function mask clear); then make sure it has landed.
        for v in 0..fds.len() as u32 {
            let e = msix::entry(v);
            self.platform_write(e + msix::ENTRY_ADDR_LO, MSI_BASE as u32);
            self.platform_write(e + msix::ENTRY_ADDR_HI, (MSI_BASE >> 32) as u32);
            self.platform_write(e + msix::ENTRY_DATA, v);
            self.platform_write(e + msix::ENTRY_CTRL, 0);
        }
        self.platform_write(msix::CTRL_OFFSET, msix::CTRL_ENABLE.mask());
        self.platform_read(msix::CTRL_OFFSET);
        Ok(())
    }

    fn trigger_vector(&self, vector: u32) -> Result<()> {
        let fds = self.msi.read().expect("MSI lock");
        let fd = fds.get(vector as usize).ok_or(Error::VectorNotBound {
            vector,
            bound: fds.len() as u32,
        })?;
        fd.write(1).map_err(|source| Error::Os {
            what: "eventfd write",
            source,
        })
    }

    fn unbind_vectors(&self) -> Result<()> {
        let n = self.bound_vectors();
        if n == 0 {
            return Ok(());
        }
        // Disable MSI-X and mask every entry (the PCIe reset state), then forget
        // the eventfds.
        self.platform_write(msix::CTRL_OFFSET, 0);
        for v in 0..n {
            self.platform_write(msix::entry(v) + msix::ENTRY_CTRL, 1);
        }
        self.platform_read(msix::CTRL_OFFSET);
        self.msi.write().expect("MSI lock").clear();
        Ok(())
    }
}
