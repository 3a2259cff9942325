//! Layer 4, the device: probe, open, close, statistics, ethtool-style settings and
//! error recovery, over any [`Transport`] (VFIO or the co-simulation) and nothing
//! else.
//!
//! # Life cycle
//!
//! - [`Device::probe`]: reads `ID` (must be [`oxnic_regs::ID_MAGIC`]: else
//!   [`Error::NotOxnic`]) and `VERSION` (the major must be
//!   [`oxnic_regs::VERSION_MAJOR`]: else [`Error::IncompatibleVersion`]), reads
//!   `CAPS` (queue and vector counts), then soft-resets the device and waits for
//!   the reset to finish ([`Error::ResetTimeout`]).
//! - [`Device::open`] with a [`DeviceConfig`]: the configuration is checked against
//!   the device first (a bad one is refused with a typed error before any register
//!   or vector is touched); then ring and buffer memory is allocated, one eventfd
//!   per vector is bound in **one** [`InterruptVectors::bind_vectors`](crate::InterruptVectors::bind_vectors) call, the
//!   global registers are programmed (MTU, RSS key, indirection table, RSS
//!   control, error vector), every queue is programmed masked (doorbells 0, ring
//!   addresses, size and vector, moderation) and enabled, RX rings are filled, the
//!   [`QueueVector`]s and their NAPI contexts are created and put on the device's
//!   [`NapiList`], the scheduler threads and the interrupt thread start, and
//!   finally: every context is enabled, then every queue armed (which also
//!   unmasks it), then the global `CTRL.ENABLE` set.
//! - [`Device::close`] (and `Drop`, best effort): every NAPI context is disabled
//!   (waiting for the poll that owns it), every queue interrupt masked, global and
//!   queue `CTRL.ENABLE` cleared, then the driver waits for `STATUS.QUIESCENT`
//!   before ring memory is released. If DMA does not stop in time, a soft reset
//!   stops it ([`Error::QuiescenceTimeout`] is still returned); if even that
//!   fails, the rings and buffers are leaked rather than handed out again while
//!   the device may write them.
//!
//! # Vectors
//!
//! Vector 0 carries device-level causes (`ERR_STATUS`, through `ERR_VECTOR`); a
//! small NAPI context on it reads the error registers and reports them
//! ([`Device::on_error`], [`Device::last_error`]). Channel `i` (RX queue `i` and
//! TX queue `i`) uses vector `1 + i` when the device and the transport have
//! enough vectors; with fewer, channels share the vectors `1..n` round-robin and
//! one [`QueueVector`] — one NAPI context — serves every channel of a vector; with
//! a single vector everything shares vector 0 ([`VectorLayout`]).
//!
//! # Settings
//!
//! [`Device::set_coalesce`] is applied live to every queue's `IRQ_MODERATION`.
//! [`Device::set_channels`] and [`Device::set_rings`] check the new configuration
//! and then close and reopen the device with it (the frame handler factory given
//! to `open` is called again for the new channels); traffic stops meanwhile and
//! the driver's per-queue counters start again from zero.
//!
//! # Example
//!
//! ```no_run
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::sync::Arc;
//! use oxnic_driver::{ChannelInfo, Device, DeviceConfig, RxHandler, Transport};
//! use oxnic_driver::{VfioConfig, VfioTransport};
//!
//! let transport: Arc<dyn Transport> =
//!     Arc::new(VfioTransport::open(&VfioConfig::new("0000:03:00.0"))?);
//! let mut dev = Device::probe(transport)?;
//! let received = Arc::new(AtomicU64::new(0));
//! let r = received.clone();
//! dev.open(DeviceConfig::new(4), move |_ch: ChannelInfo| -> RxHandler {
//!     let r = r.clone();
//!     Box::new(move |_pkt| {
//!         r.fetch_add(1, Ordering::Relaxed);
//!     })
//! })?;
//! std::thread::sleep(std::time::Duration::from_secs(1));
//! println!("{} frames, {:?}", received.load(Ordering::Relaxed), dev.stats().global);
//! dev.close()?;
//! # Ok::<(), oxnic_driver::Error>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use oxnic_regs::{
    global, queue, rx_queue_reg, tx_queue_reg, Field, ID_MAGIC, MAX_MTU, MAX_QUEUES, MAX_VECTORS,
    MIN_FRAME_LEN, RSS_KEY_BYTES, RSS_RETA_ENTRIES, VERSION_MAJOR, VERSION_MINOR,
};
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use crate::buffer_pool::{BufferPool, BUF_ALIGN, DEFAULT_BUF_SIZE, MAX_BUF_SIZE};
use crate::error::{Error, Result};
use crate::irq_thread::{IrqStats, IrqThread};
use crate::napi::{NapiContext, NapiList, NapiRef, NapiStats, Poll, DEFAULT_WEIGHT};
use crate::queue_vector::{QueueVector, RxHandler, VectorArmer};
use crate::ring::RingSize;
use crate::rx_queue::{RxCounters, RxQueue, RxStats};
use crate::sched::{ThreadedNapi, VectorTable, Worker, WorkerThread};
use crate::transport::Transport;
use crate::tx_queue::{SharedTxQueue, TxQueue, TxStats};

/// The vector that carries device-level causes (errors).
pub const ERROR_VECTOR: u16 = 0;

/// Default RSS key: the well-known Microsoft RSS verification key (what most NIC
/// drivers program unless told otherwise).
pub const DEFAULT_RSS_KEY: [u8; RSS_KEY_BYTES as usize] = [
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
    0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
    0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
];

/// Default ring size: 512 descriptors.
pub const DEFAULT_RING: RingSize = match RingSize::new(9) {
    Ok(r) => r,
    Err(_) => panic!("default ring size out of range"),
};

/// The global counters, in `oxnic_regs::global` order.
const GLOBAL_COUNTERS: [u32; 9] = [
    global::RX_FRAMES,
    global::RX_DROP_QUEUE_DISABLED,
    global::RX_DROP_NO_DESC,
    global::RX_DROP_RUNT,
    global::RX_DROP_OVERSIZE,
    global::RX_DROP_MAC_ERROR,
    global::RX_DROP_DMA_ERROR,
    global::TX_FRAMES,
    global::TX_ERRORS,
];

/// Every `ERR_STATUS` cause bit.
const ERR_CAUSES: [Field; 4] = [
    global::ERR_STATUS_DMA_READ,
    global::ERR_STATUS_DMA_WRITE,
    global::ERR_STATUS_CONFIG,
    global::ERR_STATUS_DESC,
];

fn err_causes_mask() -> u32 {
    ERR_CAUSES.iter().fold(0, |m, f| m | f.mask())
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What [`Device::probe`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// `VERSION.MAJOR`.
    pub version_major: u16,
    /// `VERSION.MINOR`.
    pub version_minor: u16,
    /// `CAPS.QUEUES`: RX queues, equal to TX queues (the most channels).
    pub queues: u16,
    /// `CAPS.VECTORS`: MSI-X vectors of the device.
    pub vectors: u16,
    /// `CLOCK_MHZ`: device clock (moderation counts microseconds of it).
    pub clock_mhz: u16,
}

/// How long the device's waits may take before they fail with a typed error.
/// Generous by default: a co-simulated device is orders of magnitude slower than
/// hardware.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceTimeouts {
    /// Soft reset ([`Error::ResetTimeout`]).
    pub reset: Duration,
    /// DMA quiescence at close ([`Error::QuiescenceTimeout`]).
    pub quiesce: Duration,
    /// A queue stopping during recovery ([`Error::QueueStopTimeout`]).
    pub queue_stop: Duration,
}

impl Default for DeviceTimeouts {
    fn default() -> Self {
        Self {
            reset: Duration::from_secs(2),
            quiesce: Duration::from_secs(2),
            queue_stop: Duration::from_secs(2),
        }
    }
}

/// Interrupt moderation (ethtool `rx-usecs`, `rx-frames`, `tx-usecs`,
/// `tx-frames`), written to every queue's `IRQ_MODERATION`. 0 means no
/// moderation; frames 0 or 1 fire on every completion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coalesce {
    /// RX queues: minimum interval between interrupts, microseconds of device time.
    pub rx_usecs: u16,
    /// RX queues: fire earlier once this many completions are pending.
    pub rx_frames: u16,
    /// TX queues: minimum interval between interrupts.
    pub tx_usecs: u16,
    /// TX queues: completion-count threshold.
    pub tx_frames: u16,
}

impl Coalesce {
    fn rx_value(&self) -> u32 {
        queue::IRQ_MODERATION_USECS.set(0, self.rx_usecs.into())
            | queue::IRQ_MODERATION_FRAMES.set(0, self.rx_frames.into())
    }
    fn tx_value(&self) -> u32 {
        queue::IRQ_MODERATION_USECS.set(0, self.tx_usecs.into())
            | queue::IRQ_MODERATION_FRAMES.set(0, self.tx_frames.into())
    }
}

/// Receive-side scaling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RssConfig {
    /// Hash and spread frames (`RSS_CTRL.ENABLE`, with every hash type on);
    /// when off every frame goes to the queue of indirection entry 0.
    pub enable: bool,
    /// The Toeplitz key.
    pub key: [u8; RSS_KEY_BYTES as usize],
    /// The indirection table ([`RSS_RETA_ENTRIES`] queue numbers, each below the
    /// channel count); `None` spreads the channels over it round-robin
    /// (entry `i` → queue `i % channels`).
    pub reta: Option<Vec<u16>>,
}

impl Default for RssConfig {
    fn default() -> Self {
        Self {
            enable: true,
            key: DEFAULT_RSS_KEY,
            reta: None,
        }
    }
}

/// How the device's NAPI contexts are run.
#[derive(Clone, Debug)]
pub enum NapiMode {
    /// Interrupt-driven: contexts are spread round-robin over `workers` poll-list
    /// threads ([`Worker`]s), which the interrupt thread schedules them onto.
    Interrupt {
        /// Number of worker threads (at least 1; more than the contexts is
        /// pointless).
        workers: usize,
    },
    /// Threaded NAPI: one thread per context ([`ThreadedNapi`]).
    Threaded,
    /// The contexts are attached to this worker, which the caller runs
    /// ([`Worker::net_rx_action`] or [`Worker::spawn`]). The caller must keep it
    /// running until `close` returns: `close` waits for the contexts it owns.
    External(Worker),
}

impl Default for NapiMode {
    fn default() -> Self {
        NapiMode::Interrupt { workers: 1 }
    }
}

/// Everything [`Device::open`] programs.
#[derive(Clone, Debug)]
pub struct DeviceConfig {
    /// Channels: RX queue `i` and TX queue `i` for `i` in `0..channels`
    /// (1..=`CAPS.QUEUES`).
    pub channels: u16,
    /// RX ring size (descriptors = completions).
    pub rx_ring: RingSize,
    /// TX ring size.
    pub tx_ring: RingSize,
    /// NAPI weight of every queue context (budget per poll, ≥ 1; above
    /// [`DEFAULT_WEIGHT`] is discouraged).
    pub weight: usize,
    /// Interrupt moderation.
    pub coalesce: Coalesce,
    /// Receive-side scaling.
    pub rss: RssConfig,
    /// Largest accepted frame, bytes without FCS ([`MIN_FRAME_LEN`]..=[`MAX_MTU`],
    /// and at most `buf_size`).
    pub mtu: u16,
    /// Use at most this many interrupt vectors (error vector included); `None`:
    /// as many as the device and the transport offer (and the channels need).
    pub max_vectors: Option<u16>,
    /// RX buffers in the shared pool; 0: two per RX descriptor.
    pub rx_buffers: usize,
    /// Size of every RX buffer (a multiple of 64, at most 65472).
    pub buf_size: usize,
    /// How the contexts are run.
    pub mode: NapiMode,
}

impl DeviceConfig {
    /// The defaults with `channels` channels.
    pub fn new(channels: u16) -> Self {
        Self {
            channels,
            ..Self::default()
        }
    }
}

impl Default for DeviceConfig {
    /// One channel, 512-entry rings, weight 64, no moderation, RSS on with
    /// [`DEFAULT_RSS_KEY`], MTU 1514, 2 KiB buffers, interrupt mode with one worker.
    fn default() -> Self {
        Self {
            channels: 1,
            rx_ring: DEFAULT_RING,
            tx_ring: DEFAULT_RING,
            weight: DEFAULT_WEIGHT,
            coalesce: Coalesce::default(),
            rss: RssConfig::default(),
            mtu: oxnic_regs::DEFAULT_MTU as u16,
            max_vectors: None,
            rx_buffers: 0,
            buf_size: DEFAULT_BUF_SIZE,
            mode: NapiMode::default(),
        }
    }
}

/// What the frame handler factory given to [`Device::open`] learns about the
/// channel it makes a handler for.
#[derive(Clone, Debug)]
pub struct ChannelInfo {
    /// The channel (RX queue and TX queue number).
    pub queue: u16,
    /// Its interrupt vector.
    pub vector: u16,
    /// The channel's TX queue (e.g. to forward received frames).
    pub tx: SharedTxQueue,
    /// The RX buffer pool (shared by every channel).
    pub pool: BufferPool,
}

/// Makes the frame handler of each channel at open (and again at every reopen
/// by [`Device::set_channels`] / [`Device::set_rings`]).
pub type RxHandlerFactory = Box<dyn FnMut(ChannelInfo) -> RxHandler + Send>;

/// Which vector serves which channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorLayout {
    /// Vectors bound: `0..vectors` (vector 0 = errors).
    pub vectors: u16,
    /// `channel_vector[i]`: the vector of channel `i`.
    pub channel_vector: Vec<u16>,
}

impl VectorLayout {
    /// The layout for `channels` channels with `available` (≥ 1) vectors: one
    /// vector per channel after the error vector if there are enough; otherwise
    /// the channels share vectors `1..available` round-robin; with one vector,
    /// everything is on vector 0.
    pub fn plan(channels: u16, available: u16) -> Self {
        let need = u32::from(channels) + 1;
        if u32::from(available) >= need {
            Self {
                vectors: need as u16,
                channel_vector: (0..channels).map(|i| i + 1).collect(),
            }
        } else if available >= 2 {
            let n = available - 1;
            Self {
                vectors: available,
                channel_vector: (0..channels).map(|i| 1 + i % n).collect(),
            }
        } else {
            Self {
                vectors: 1,
                channel_vector: vec![ERROR_VECTOR; usize::from(channels)],
            }
        }
    }

    /// True when some vector serves more than one channel.
    pub fn is_shared(&self) -> bool {
        self.channel_vector.len() + 1 > usize::from(self.vectors)
    }

    /// The channels on `vector`.
    pub fn channels_on(&self, vector: u16) -> Vec<u16> {
        (0..self.channel_vector.len() as u16)
            .filter(|&c| self.channel_vector[usize::from(c)] == vector)
            .collect()
    }

    /// The queue vectors (one NAPI context each), in context order.
    fn queue_vectors(&self) -> Vec<u16> {
        if self.vectors == 1 {
            vec![ERROR_VECTOR]
        } else {
            (1..self.vectors).collect()
        }
    }

    fn context_of(&self, channel: u16) -> usize {
        let v = self.channel_vector[usize::from(channel)];
        if self.vectors == 1 {
            0
        } else {
            usize::from(v) - 1
        }
    }
}

/// A queue whose `STATUS` reports an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFault {
    /// The queue.
    pub queue: u16,
    /// True for a TX queue.
    pub tx: bool,
    /// `STATUS.ERROR`: a DMA error stopped it.
    pub error: bool,
    /// `STATUS.CONFIG_ERROR`: its last enable was refused.
    pub config_error: bool,
}

/// The device's error registers, decoded ([`Device::error_report`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorReport {
    /// `ERR_STATUS`, raw.
    pub status: u32,
    /// `ERR_STATUS.DMA_READ`.
    pub dma_read: bool,
    /// `ERR_STATUS.DMA_WRITE`.
    pub dma_write: bool,
    /// `ERR_STATUS.CONFIG`.
    pub config: bool,
    /// `ERR_STATUS.DESC`.
    pub desc: bool,
    /// `ERR_INFO.QUEUE`: queue of the most recent DMA or descriptor error.
    pub queue: u16,
    /// `ERR_INFO.TX`: that queue is a TX queue.
    pub tx: bool,
    /// `ERR_ADDR_*`: IOVA of the most recent failing DMA access.
    pub addr: u64,
    /// Queues of the open channels whose `STATUS` shows an error (empty when the
    /// device is closed).
    pub faulty_queues: Vec<QueueFault>,
}

impl ErrorReport {
    /// True when no cause is latched and no queue is in error.
    pub fn is_clear(&self) -> bool {
        self.status == 0 && self.faulty_queues.is_empty()
    }
}

/// What [`Device::recover_queue`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// The RX queue was in error and has been reset and re-enabled.
    pub rx_reset: bool,
    /// The TX queue was in error and has been reset and re-enabled.
    pub tx_reset: bool,
    /// Completions still received from the RX ring before its reset (frames
    /// went to the channel's handler, on the caller's thread).
    pub rx_received: usize,
    /// RX descriptors (empty buffers) given back to the pool by the reset.
    pub rx_discarded: usize,
    /// TX completions reclaimed before the reset.
    pub tx_completed: usize,
    /// TX frames never completed, dropped by the reset.
    pub tx_discarded: usize,
    /// `ERR_STATUS` bits cleared (those set when recovery started).
    pub cleared: u32,
}

/// The device's global counters (`oxnic_regs::global`), widened to 64 bits
/// since probe (the registers wrap at 2^32: read the statistics at least once
/// per 2^32 events of a counter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GlobalCounters {
    /// `RX_FRAMES`: frames from the MAC, before any drop.
    pub rx_frames: u64,
    /// `RX_DROP_QUEUE_DISABLED`.
    pub rx_drop_queue_disabled: u64,
    /// `RX_DROP_NO_DESC`.
    pub rx_drop_no_desc: u64,
    /// `RX_DROP_RUNT`.
    pub rx_drop_runt: u64,
    /// `RX_DROP_OVERSIZE`.
    pub rx_drop_oversize: u64,
    /// `RX_DROP_MAC_ERROR`.
    pub rx_drop_mac_error: u64,
    /// `RX_DROP_DMA_ERROR`.
    pub rx_drop_dma_error: u64,
    /// `TX_FRAMES`: frames sent to the MAC.
    pub tx_frames: u64,
    /// `TX_ERRORS`: TX descriptors completed with an error status.
    pub tx_errors: u64,
}

impl GlobalCounters {
    /// All RX drops, every reason.
    pub fn rx_dropped(&self) -> u64 {
        self.rx_drop_queue_disabled
            + self.rx_drop_no_desc
            + self.rx_drop_runt
            + self.rx_drop_oversize
            + self.rx_drop_mac_error
            + self.rx_drop_dma_error
    }
}

/// A queue's device-side counters (`STAT_PACKETS`, `STAT_BYTES_*`), cumulative
/// since probe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounters {
    /// Packets completed.
    pub packets: u64,
    /// Bytes completed.
    pub bytes: u64,
}

/// One channel's statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChannelStats {
    /// The channel.
    pub queue: u16,
    /// Its vector.
    pub vector: u16,
    /// The driver's RX counters (since the last open).
    pub rx: RxStats,
    /// The driver's TX counters (since the last open).
    pub tx: TxStats,
    /// The device's RX queue counters.
    pub rx_device: QueueCounters,
    /// The device's TX queue counters.
    pub tx_device: QueueCounters,
}

/// A statistics snapshot ([`Device::stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceStats {
    /// The device's global counters.
    pub global: GlobalCounters,
    /// Per channel (empty when the device is closed).
    pub channels: Vec<ChannelStats>,
    /// Per queue context (one per queue vector), in vector order.
    pub napi: Vec<NapiStats>,
    /// The interrupt thread (`None` when closed).
    pub irq: Option<IrqStats>,
    /// Error interrupts: polls of the error context that found new
    /// `ERR_STATUS` bits.
    pub error_events: u64,
}

/// 32- and 64-bit device counters widened to 64 bits, keyed by BAR0 offset.
#[derive(Default)]
struct Widener {
    /// offset → (last raw value, running total)
    seen: HashMap<u32, (u64, u64)>,
}

impl Widener {
    fn widen32(&mut self, off: u32, raw: u32) -> u64 {
        let e = self.seen.entry(off).or_insert((0, 0));
        e.1 += u64::from(raw.wrapping_sub(e.0 as u32));
        e.0 = u64::from(raw);
        e.1
    }

    fn widen64(&mut self, off: u32, raw: u64) -> u64 {
        let e = self.seen.entry(off).or_insert((0, 0));
        e.1 = e.1.wrapping_add(raw.wrapping_sub(e.0));
        e.0 = raw;
        e.1
    }

    /// The device's counters restarted at 0 (soft reset).
    fn device_reset(&mut self) {
        for e in self.seen.values_mut() {
            e.0 = 0;
        }
    }
}

type ErrorHandler = Box<dyn Fn(&ErrorReport) + Send + Sync>;

#[derive(Default)]
struct ErrorShared {
    events: AtomicU64,
    last: Mutex<Option<ErrorReport>>,
    handler: Mutex<Option<ErrorHandler>>,
}

/// The NAPI handler on the error vector: reads the error registers.
struct ErrorMonitor {
    transport: Arc<dyn Transport>,
    channels: u16,
    shared: Arc<ErrorShared>,
    last_status: u32,
}

impl Poll for ErrorMonitor {
    fn poll(&mut self, napi: &NapiRef<'_>, budget: usize) -> usize {
        if budget == 0 {
            return 0;
        }
        // One register read when nothing is latched: with a single vector this
        // poll runs on every queue interrupt too.
        let status = self.transport.read32(global::ERR_STATUS) & err_causes_mask();
        if status == 0 {
            self.last_status = 0;
            napi.complete_done(0);
            return 0;
        }
        let report = read_error_report(&*self.transport, self.channels);
        if report.status & !self.last_status != 0 {
            self.shared.events.fetch_add(1, Ordering::Relaxed);
        }
        self.last_status = report.status;
        if !report.is_clear() {
            tracing::warn!(?report, "oxnic device error");
            *lock(&self.shared.last) = Some(report.clone());
            if let Some(h) = &*lock(&self.shared.handler) {
                h(&report);
            }
        }
        // Error interrupts are not per-queue: nothing to re-arm.
        napi.complete_done(0);
        0
    }
}

fn read_error_report(t: &dyn Transport, channels: u16) -> ErrorReport {
    let status = t.read32(global::ERR_STATUS) & err_causes_mask();
    let info = t.read32(global::ERR_INFO);
    let addr =
        u64::from(t.read32(global::ERR_ADDR_LO)) | (u64::from(t.read32(global::ERR_ADDR_HI)) << 32);
    let mut faulty_queues = Vec::new();
    for q in 0..channels {
        for tx in [false, true] {
            let off = if tx {
                tx_queue_reg(q.into(), queue::STATUS)
            } else {
                rx_queue_reg(q.into(), queue::STATUS)
            };
            let s = t.read32(off);
            let error = queue::STATUS_ERROR.get(s) != 0;
            let config_error = queue::STATUS_CONFIG_ERROR.get(s) != 0;
            if error || config_error {
                faulty_queues.push(QueueFault {
                    queue: q,
                    tx,
                    error,
                    config_error,
                });
            }
        }
    }
    let bit = |f: Field| f.get(status) != 0;
    ErrorReport {
        status,
        dma_read: bit(global::ERR_STATUS_DMA_READ),
        dma_write: bit(global::ERR_STATUS_DMA_WRITE),
        config: bit(global::ERR_STATUS_CONFIG),
        desc: bit(global::ERR_STATUS_DESC),
        queue: global::ERR_INFO_QUEUE.get(info) as u16,
        tx: global::ERR_INFO_TX.get(info) != 0,
        addr,
        faulty_queues,
    }
}

enum Runners {
    None,
    Workers(Vec<WorkerThread>),
    Threaded(Vec<ThreadedNapi>),
}

/// Everything that exists while the device is open.
struct OpenState {
    channels: u16,
    layout: VectorLayout,
    fds: Vec<EventFd>,
    bound: bool,
    pool: BufferPool,
    /// RX queues between allocation and their move into a queue vector.
    pending_rx: Vec<RxQueue>,
    tx: Vec<SharedTxQueue>,
    rx_counters: Vec<Arc<RxCounters>>,
    contexts: Vec<Arc<NapiContext<QueueVector>>>,
    armers: Vec<VectorArmer>,
    error_ctx: Option<Arc<NapiContext<ErrorMonitor>>>,
    table: Arc<VectorTable>,
    runners: Runners,
    irq: Option<IrqThread>,
    /// The contexts were enabled (close must disable them).
    enabled: bool,
}

/// How a close's wait for DMA quiescence ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quiesced {
    Yes,
    /// Timed out; a soft reset stopped DMA.
    ByReset,
    /// Timed out and the soft reset did not finish either.
    No,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    Rx,
    Tx,
}

fn qreg(dir: Dir, q: u16, reg: u32) -> u32 {
    match dir {
        Dir::Rx => rx_queue_reg(q.into(), reg),
        Dir::Tx => tx_queue_reg(q.into(), reg),
    }
}

/// An oxnic: probed, and open or closed. See the [module documentation](self).
pub struct Device {
    transport: Arc<dyn Transport>,
    info: DeviceInfo,
    timeouts: DeviceTimeouts,
    config: DeviceConfig,
    factory: Mutex<Option<RxHandlerFactory>>,
    napi_list: NapiList,
    widener: Mutex<Widener>,
    errors: Arc<ErrorShared>,
    state: Option<OpenState>,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("info", &self.info)
            .field("open", &self.is_open())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Device {
    /// Identifies the device behind `transport`, reads its capabilities and
    /// soft-resets it, with the default [`DeviceTimeouts`].
    pub fn probe(transport: Arc<dyn Transport>) -> Result<Self> {
        Self::probe_with(transport, DeviceTimeouts::default())
    }

    /// [`probe`](Self::probe) with explicit timeouts.
    ///
    /// Errors: [`Error::NotOxnic`] (wrong `ID`), [`Error::IncompatibleVersion`]
    /// (wrong major version), [`Error::BadCapabilities`], [`Error::OutOfBar0`]
    /// (BAR0 too small for the queues), [`Error::ResetTimeout`]. Nothing is
    /// written before `ID` and `VERSION` have been checked.
    pub fn probe_with(transport: Arc<dyn Transport>, timeouts: DeviceTimeouts) -> Result<Self> {
        let id = global::ID_VALUE.get(transport.try_read32(global::ID)?);
        if id != ID_MAGIC {
            return Err(Error::NotOxnic {
                found: id,
                expected: ID_MAGIC,
            });
        }
        let v = transport.try_read32(global::VERSION)?;
        let major = global::VERSION_MAJOR_F.get(v) as u16;
        let minor = global::VERSION_MINOR_F.get(v) as u16;
        if u32::from(major) != VERSION_MAJOR {
            return Err(Error::IncompatibleVersion {
                found_major: major,
                found_minor: minor,
                supported_major: VERSION_MAJOR as u16,
            });
        }
        if u32::from(minor) < VERSION_MINOR {
            tracing::warn!(
                major,
                minor,
                driver_minor = VERSION_MINOR,
                "device register map is older than the driver's: registers added since may be missing"
            );
        }
        let caps = transport.try_read32(global::CAPS)?;
        let queues = global::CAPS_QUEUES.get(caps);
        let vectors = global::CAPS_VECTORS.get(caps);
        if !(1..=MAX_QUEUES).contains(&queues) || !(1..=MAX_VECTORS).contains(&vectors) {
            return Err(Error::BadCapabilities {
                queues,
                vectors,
                max_queues: MAX_QUEUES,
                max_vectors: MAX_VECTORS,
            });
        }
        let last = tx_queue_reg(queues - 1, queue::STAT_BYTES_HI);
        if u64::from(last) + 4 > u64::from(transport.bar0_size()) {
            return Err(Error::OutOfBar0 {
                offset: last,
                size: transport.bar0_size(),
            });
        }
        let clock_mhz = global::CLOCK_MHZ_F.get(transport.try_read32(global::CLOCK_MHZ)?) as u16;
        if transport.max_vectors() < vectors {
            tracing::info!(
                device = vectors,
                transport = transport.max_vectors(),
                "the transport offers fewer interrupt vectors than the device has"
            );
        }
        let dev = Self {
            transport,
            info: DeviceInfo {
                version_major: major,
                version_minor: minor,
                queues: queues as u16,
                vectors: vectors as u16,
                clock_mhz,
            },
            timeouts,
            config: DeviceConfig::default(),
            factory: Mutex::new(None),
            napi_list: NapiList::new(),
            widener: Mutex::default(),
            errors: Arc::default(),
            state: None,
        };
        if !dev.soft_reset() {
            return Err(Error::ResetTimeout {
                timeout: timeouts.reset,
            });
        }
        Ok(dev)
    }

    /// What probe found.
    pub fn info(&self) -> DeviceInfo {
        self.info
    }

    /// The transport.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// The configuration of the open device, or the one the next open (or
    /// reopen) uses.
    pub fn config(&self) -> &DeviceConfig {
        &self.config
    }

    /// The timeouts.
    pub fn timeouts(&self) -> DeviceTimeouts {
        self.timeouts
    }

    /// True between a successful open and close.
    pub fn is_open(&self) -> bool {
        self.state.is_some()
    }

    /// The device's list of NAPI contexts (for netpoll or busy polling): the
    /// queue contexts in vector order, then the error context. Empty when closed.
    pub fn napi_list(&self) -> &NapiList {
        &self.napi_list
    }

    /// The vector layout of the open device.
    pub fn layout(&self) -> Option<&VectorLayout> {
        self.state.as_ref().map(|s| &s.layout)
    }

    /// TX queue `queue` of the open device, to send on.
    pub fn tx_queue(&self, queue: u16) -> Result<SharedTxQueue> {
        let st = self.open_state()?;
        st.tx
            .get(usize::from(queue))
            .cloned()
            .ok_or(Error::NoSuchQueue {
                queue,
                channels: st.channels,
            })
    }

    /// The RX buffer pool of the open device.
    pub fn rx_pool(&self) -> Option<&BufferPool> {
        self.state.as_ref().map(|s| &s.pool)
    }

    /// Soft-resets the closed device (as probe does) and waits for the reset.
    pub fn reset(&mut self) -> Result<()> {
        if self.is_open() {
            return Err(Error::DeviceAlreadyOpen);
        }
        if self.soft_reset() {
            Ok(())
        } else {
            Err(Error::ResetTimeout {
                timeout: self.timeouts.reset,
            })
        }
    }

    /// Calls `handler` from the error context's poll (a scheduler thread)
    /// whenever it finds an error latched. Keep it short and do not call the
    /// device from it: send yourself a message and call
    /// [`recover_queue`](Self::recover_queue) from your own thread.
    pub fn on_error(&self, handler: impl Fn(&ErrorReport) + Send + Sync + 'static) {
        *lock(&self.errors.handler) = Some(Box::new(handler));
    }

    /// The last error the error context found, if any.
    pub fn last_error(&self) -> Option<ErrorReport> {
        lock(&self.errors.last).clone()
    }

    fn open_state(&self) -> Result<&OpenState> {
        self.state.as_ref().ok_or(Error::DeviceNotOpen)
    }

    // ---- registers --------------------------------------------------------------

    fn rd(&self, off: u32) -> u32 {
        self.transport.read32(off)
    }

    fn wr(&self, off: u32, v: u32) {
        self.transport.write32(off, v);
    }

    /// Polls `done` until it holds or `timeout` passes; true if it held.
    fn wait_for(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
        let start = Instant::now();
        let mut step = 0u32;
        loop {
            if done() {
                return true;
            }
            if start.elapsed() >= timeout {
                return done();
            }
            crate::sync::backoff(step);
            step = step.saturating_add(1);
        }
    }

    /// Writes `CTRL.SOFT_RESET` and waits until `CTRL.SOFT_RESET` and
    /// `STATUS.RESET_BUSY` read 0.
    fn soft_reset(&self) -> bool {
        self.wr(global::CTRL, global::CTRL_SOFT_RESET.set(0, 1));
        let done = Self::wait_for(self.timeouts.reset, || {
            global::CTRL_SOFT_RESET.get(self.rd(global::CTRL)) == 0
                && global::STATUS_RESET_BUSY.get(self.rd(global::STATUS)) == 0
        });
        lock(&self.widener).device_reset();
        done
    }

    // ---- open -------------------------------------------------------------------

    /// Checks `config` against the device; returns the vector layout. Touches
    /// nothing.
    fn validate(&self, c: &DeviceConfig) -> Result<VectorLayout> {
        let bad = |field: &'static str, why: String| Err(Error::InvalidDeviceConfig { field, why });
        if c.channels == 0 || c.channels > self.info.queues {
            return Err(Error::InvalidChannels {
                requested: c.channels,
                available: self.info.queues,
            });
        }
        if c.weight == 0 {
            return bad("weight", "must be at least 1 (default 64)".into());
        }
        if c.buf_size == 0 || c.buf_size % BUF_ALIGN != 0 || c.buf_size > MAX_BUF_SIZE {
            return bad(
                "buf_size",
                format!(
                    "{} is not a non-zero multiple of {BUF_ALIGN} up to {MAX_BUF_SIZE}",
                    c.buf_size
                ),
            );
        }
        let mtu = u32::from(c.mtu);
        if !(MIN_FRAME_LEN..=MAX_MTU).contains(&mtu) {
            return bad(
                "mtu",
                format!("{mtu} is outside {MIN_FRAME_LEN}..={MAX_MTU}"),
            );
        }
        if usize::from(c.mtu) > c.buf_size {
            return bad(
                "mtu",
                format!(
                    "{mtu} does not fit the {}-byte RX buffers: raise buf_size",
                    c.buf_size
                ),
            );
        }
        if let Some(reta) = &c.rss.reta {
            if reta.len() != RSS_RETA_ENTRIES as usize {
                return bad(
                    "rss.reta",
                    format!(
                        "{} entries, the device has exactly {RSS_RETA_ENTRIES}",
                        reta.len()
                    ),
                );
            }
            if let Some((i, q)) = reta.iter().enumerate().find(|(_, &q)| q >= c.channels) {
                return bad(
                    "rss.reta",
                    format!(
                        "entry {i} names queue {q}, but only {} channels are configured",
                        c.channels
                    ),
                );
            }
        }
        if let NapiMode::Interrupt { workers: 0 } = c.mode {
            return bad("mode", "Interrupt mode needs at least one worker".into());
        }
        if c.max_vectors == Some(0) {
            return bad(
                "max_vectors",
                "at least one vector is needed (vector 0 carries errors)".into(),
            );
        }
        let transport_max = u16::try_from(self.transport.max_vectors()).unwrap_or(u16::MAX);
        let available = self
            .info
            .vectors
            .min(transport_max)
            .min(c.max_vectors.unwrap_or(u16::MAX));
        if available == 0 {
            return bad(
                "max_vectors",
                "the transport offers no interrupt vectors".into(),
            );
        }
        Ok(VectorLayout::plan(c.channels, available))
    }

    /// Opens the device with `config`. `rx_factory` is called once per channel
    /// (now, and again at every reopen) and returns the handler its received
    /// frames go to (it runs on the thread that polls the channel's context).
    ///
    /// A configuration the device cannot take is refused with
    /// [`Error::InvalidChannels`] or [`Error::InvalidDeviceConfig`] before the
    /// device or the transport is touched. If a later step fails, everything
    /// done so far is undone (as by [`close`](Self::close)) and the device stays
    /// closed.
    pub fn open<F>(&mut self, config: DeviceConfig, rx_factory: F) -> Result<()>
    where
        F: FnMut(ChannelInfo) -> RxHandler + Send + 'static,
    {
        if self.is_open() {
            return Err(Error::DeviceAlreadyOpen);
        }
        let layout = self.validate(&config)?;
        *lock(&self.factory) = Some(Box::new(rx_factory));
        self.config = config;
        self.open_validated(layout)
    }

    fn open_validated(&mut self, layout: VectorLayout) -> Result<()> {
        let st = {
            let mut factory = lock(&self.factory);
            let Some(factory) = factory.as_mut() else {
                return Err(Error::DeviceNotOpen);
            };
            self.open_inner(layout, factory)?
        };
        self.state = Some(st);
        Ok(())
    }

    fn open_inner(
        &self,
        layout: VectorLayout,
        factory: &mut RxHandlerFactory,
    ) -> Result<OpenState> {
        let c = &self.config;
        let t = &self.transport;
        // Memory first: nothing is written to the device if the arena is short.
        let nbufs = if c.rx_buffers == 0 {
            2 * usize::from(c.rx_ring.entries()) * usize::from(c.channels)
        } else {
            c.rx_buffers
        };
        let pool = BufferPool::new(&**t, nbufs, c.buf_size)?;
        let mut pending_rx = Vec::with_capacity(c.channels.into());
        let mut tx = Vec::with_capacity(c.channels.into());
        for q in 0..c.channels {
            pending_rx.push(RxQueue::new(t.clone(), q, c.rx_ring, pool.clone())?);
            tx.push(SharedTxQueue::new(TxQueue::new(t.clone(), q, c.tx_ring)?));
        }
        let fds = (0..layout.vectors)
            .map(|_| {
                EventFd::new(EFD_NONBLOCK).map_err(|source| Error::Os {
                    what: "an interrupt eventfd",
                    source,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // All vectors in one call (vfio-pci fixes the count at the first bind).
        {
            let refs: Vec<&EventFd> = fds.iter().collect();
            t.bind_vectors(&refs)?;
        }
        let mut st = OpenState {
            channels: c.channels,
            layout,
            fds,
            bound: true,
            pool,
            pending_rx,
            tx,
            rx_counters: Vec::new(),
            contexts: Vec::new(),
            armers: Vec::new(),
            error_ctx: None,
            table: Arc::new(VectorTable::new()),
            runners: Runners::None,
            irq: None,
            enabled: false,
        };
        if let Err(e) = self
            .program(&mut st)
            .and_then(|()| self.start(&mut st, factory))
        {
            if let Err(close_err) = self.teardown(st) {
                tracing::warn!(%close_err, "undoing a failed open");
            }
            return Err(e);
        }
        // Go: contexts first, then the queues' interrupts, then the receive path.
        self.napi_list.enable_all();
        st.enabled = true;
        for a in &st.armers {
            a.arm();
        }
        self.wr(global::CTRL, global::CTRL_ENABLE.set(0, 1));
        Ok(st)
    }

    /// Programs the global registers and every queue (masked), enables the
    /// queues and fills the RX rings.
    fn program(&self, st: &mut OpenState) -> Result<()> {
        let c = &self.config;
        self.wr(global::CTRL, 0);
        // Stale causes from before this open would hide a refused write below.
        self.wr(global::ERR_STATUS, err_causes_mask());
        self.wr(global::MTU, global::MTU_BYTES.set(0, c.mtu.into()));
        for (i, k) in c.rss.key.chunks_exact(4).enumerate() {
            let word = u32::from_be_bytes([k[0], k[1], k[2], k[3]]);
            self.wr(
                global::RSS_KEY + 4 * i as u32,
                global::RSS_KEY_F.set(0, word),
            );
        }
        let reta = c.rss.reta.clone().unwrap_or_else(|| {
            (0..RSS_RETA_ENTRIES)
                .map(|i| (i % u32::from(c.channels)) as u16)
                .collect()
        });
        for (i, &q) in reta.iter().enumerate() {
            self.wr(
                global::RSS_RETA + 4 * i as u32,
                global::RSS_RETA_QUEUE.set(0, q.into()),
            );
        }
        let rss_ctrl = [
            global::RSS_CTRL_IPV4,
            global::RSS_CTRL_TCP4,
            global::RSS_CTRL_UDP4,
            global::RSS_CTRL_IPV6,
            global::RSS_CTRL_TCP6,
            global::RSS_CTRL_UDP6,
        ]
        .iter()
        .fold(
            global::RSS_CTRL_ENABLE.set(0, c.rss.enable.into()),
            |v, f| f.set(v, 1),
        );
        self.wr(global::RSS_CTRL, rss_ctrl);
        self.wr(
            global::ERR_VECTOR,
            global::ERR_VECTOR_F.set(0, ERROR_VECTOR.into()),
        );
        self.wr(global::ERR_IRQ_ENABLE, global::ERR_IRQ_ENABLE_F.mask());
        if global::ERR_STATUS_CONFIG.get(self.rd(global::ERR_STATUS)) != 0 {
            return Err(Error::ConfigRefused {
                what: "MTU, RSS indirection table or error vector",
            });
        }
        for q in 0..c.channels {
            let vector = st.layout.channel_vector[usize::from(q)];
            let rx = &mut st.pending_rx[usize::from(q)];
            self.prepare_queue(Dir::Rx, q);
            rx.reset_rings();
            rx.configure(vector);
            self.wr(
                qreg(Dir::Rx, q, queue::IRQ_MODERATION),
                c.coalesce.rx_value(),
            );
            rx.set_enabled(true);
            self.check_enabled(Dir::Rx, q, c.rx_ring, vector)?;
            rx.refill();

            let mut tx = st.tx[usize::from(q)].lock();
            self.prepare_queue(Dir::Tx, q);
            tx.reset_rings();
            tx.configure(vector);
            self.wr(
                qreg(Dir::Tx, q, queue::IRQ_MODERATION),
                c.coalesce.tx_value(),
            );
            tx.set_enabled(true);
            self.check_enabled(Dir::Tx, q, c.tx_ring, vector)?;
        }
        Ok(())
    }

    /// Masks a queue's interrupt and makes sure it is stopped.
    fn prepare_queue(&self, dir: Dir, q: u16) {
        self.wr(
            qreg(dir, q, queue::IRQ_CTRL),
            queue::IRQ_CTRL_MASK.set(0, 1),
        );
        self.wr(qreg(dir, q, queue::CTRL), queue::CTRL_ENABLE.set(0, 0));
    }

    fn check_enabled(&self, dir: Dir, q: u16, ring: RingSize, vector: u16) -> Result<()> {
        let status = self.rd(qreg(dir, q, queue::STATUS));
        if queue::STATUS_CONFIG_ERROR.get(status) != 0 {
            return Err(Error::QueueConfigRefused {
                queue: q,
                tx: dir == Dir::Tx,
                log2: ring.log2(),
                vector,
                status,
            });
        }
        Ok(())
    }

    /// Builds the queue vectors and contexts, the error context, the scheduler
    /// and the interrupt thread. Writes no register.
    fn start(&self, st: &mut OpenState, factory: &mut RxHandlerFactory) -> Result<()> {
        let c = &self.config;
        let mut qvs: Vec<QueueVector> = st
            .layout
            .queue_vectors()
            .into_iter()
            .map(QueueVector::new)
            .collect();
        for (q, rx) in (0u16..).zip(std::mem::take(&mut st.pending_rx)) {
            let vector = st.layout.channel_vector[usize::from(q)];
            let qv = &mut qvs[st.layout.context_of(q)];
            st.rx_counters.push(rx.counters());
            let handler = factory(ChannelInfo {
                queue: q,
                vector,
                tx: st.tx[usize::from(q)].clone(),
                pool: st.pool.clone(),
            });
            qv.add_rx(rx, handler);
            qv.add_tx(st.tx[usize::from(q)].clone());
        }
        for qv in qvs {
            let vector = qv.vector();
            st.armers.push(qv.armer());
            let ctx = qv.into_context(c.weight);
            self.napi_list.register(ctx.handle());
            st.table.add(vector.into(), ctx.handle());
            st.contexts.push(ctx);
        }
        let err = NapiContext::new(
            ErrorMonitor {
                transport: self.transport.clone(),
                channels: c.channels,
                shared: self.errors.clone(),
                last_status: 0,
            },
            1,
        );
        self.napi_list.register(err.handle());
        st.table.add(ERROR_VECTOR.into(), err.handle());
        st.error_ctx = Some(err.clone());

        let mut all: Vec<crate::napi::NapiHandle> =
            st.contexts.iter().map(|c| c.handle()).collect();
        all.push(err.handle());
        st.runners = match &c.mode {
            NapiMode::Interrupt { workers } => {
                let n = (*workers).clamp(1, all.len());
                let ws: Vec<Worker> = (0..n).map(|_| Worker::default()).collect();
                for (i, ctx) in all.iter().enumerate() {
                    ws[i % n].attach(&**ctx)?;
                }
                Runners::Workers(ws.iter().map(Worker::spawn).collect())
            }
            NapiMode::Threaded => {
                let mut ts = Vec::with_capacity(all.len());
                for ctx in &all {
                    ts.push(ThreadedNapi::spawn(&**ctx)?);
                }
                Runners::Threaded(ts)
            }
            NapiMode::External(w) => {
                for ctx in &all {
                    w.attach(&**ctx)?;
                }
                Runners::None
            }
        };
        let refs: Vec<&EventFd> = st.fds.iter().collect();
        st.irq = Some(
            IrqThread::spawn(&refs, st.table.clone()).map_err(|source| Error::Os {
                what: "the interrupt thread",
                source,
            })?,
        );
        Ok(())
    }

    // ---- close ------------------------------------------------------------------

    /// Closes the device: disables every NAPI context (waiting for the poll
    /// that owns it), masks every queue interrupt, clears global and queue
    /// `CTRL.ENABLE`, waits for `STATUS.QUIESCENT`, stops the threads, unbinds
    /// the vectors and releases rings and buffers.
    ///
    /// On [`Error::QuiescenceTimeout`] the device is closed too (see the
    /// error's `reset_recovered`). Disabling a context waits as long as its
    /// poll takes: a frame handler that never returns blocks `close`.
    /// With [`NapiMode::External`] the caller's worker must keep running.
    pub fn close(&mut self) -> Result<()> {
        let st = self.state.take().ok_or(Error::DeviceNotOpen)?;
        self.teardown(st)
    }

    /// Masks and stops every queue of `channels`, clears the global enable and
    /// waits for DMA to stop (soft reset if it does not).
    fn quiesce(&self, channels: u16) -> Quiesced {
        for q in 0..channels {
            for dir in [Dir::Rx, Dir::Tx] {
                self.wr(
                    qreg(dir, q, queue::IRQ_CTRL),
                    queue::IRQ_CTRL_MASK.set(0, 1),
                );
            }
        }
        self.wr(global::CTRL, global::CTRL_ENABLE.set(0, 0));
        for q in 0..channels {
            for dir in [Dir::Rx, Dir::Tx] {
                self.wr(qreg(dir, q, queue::CTRL), queue::CTRL_ENABLE.set(0, 0));
            }
        }
        if Self::wait_for(self.timeouts.quiesce, || {
            global::STATUS_QUIESCENT.get(self.rd(global::STATUS)) != 0
        }) {
            return Quiesced::Yes;
        }
        tracing::error!(
            timeout = ?self.timeouts.quiesce,
            "DMA did not quiesce: soft reset"
        );
        if self.soft_reset() {
            Quiesced::ByReset
        } else {
            Quiesced::No
        }
    }

    fn teardown(&self, mut st: OpenState) -> Result<()> {
        if st.enabled {
            self.napi_list.disable_all();
        }
        let q = self.quiesce(st.channels);
        if let Some(irq) = st.irq.take() {
            irq.stop();
        }
        match std::mem::replace(&mut st.runners, Runners::None) {
            Runners::None => {}
            Runners::Workers(ws) => ws.into_iter().for_each(WorkerThread::stop),
            Runners::Threaded(ts) => ts.into_iter().for_each(ThreadedNapi::stop),
        }
        if st.bound {
            if let Err(e) = self.transport.unbind_vectors() {
                tracing::warn!(%e, "unbinding the interrupt vectors");
            }
            st.bound = false;
        }
        st.table.clear();
        for ctx in self.napi_list.snapshot() {
            self.napi_list.unregister(&ctx);
        }
        match q {
            Quiesced::Yes => Ok(()),
            Quiesced::ByReset => Err(Error::QuiescenceTimeout {
                timeout: self.timeouts.quiesce,
                reset_recovered: true,
            }),
            Quiesced::No => {
                // The device may still write the rings and buffers: never let
                // the arena hand that memory out again.
                tracing::error!("device DMA not stopped: leaking its rings and buffers");
                std::mem::forget(st);
                Err(Error::QuiescenceTimeout {
                    timeout: self.timeouts.quiesce,
                    reset_recovered: false,
                })
            }
        }
    }

    // ---- settings ---------------------------------------------------------------

    /// ethtool `-C`: sets interrupt moderation; applied at once to every open
    /// queue's `IRQ_MODERATION` (RX queues take the `rx_*` values, TX queues the
    /// `tx_*` values), and kept for later opens.
    pub fn set_coalesce(&mut self, coalesce: Coalesce) -> Result<()> {
        self.config.coalesce = coalesce;
        if let Some(st) = &self.state {
            for q in 0..st.channels {
                self.wr(qreg(Dir::Rx, q, queue::IRQ_MODERATION), coalesce.rx_value());
                self.wr(qreg(Dir::Tx, q, queue::IRQ_MODERATION), coalesce.tx_value());
            }
        }
        Ok(())
    }

    /// The current moderation.
    pub fn coalesce(&self) -> Coalesce {
        self.config.coalesce
    }

    /// ethtool `-L`: sets the channel count. The new configuration is checked
    /// first (an error leaves the device as it was — e.g. a configured
    /// indirection table naming a queue that would disappear); then an open
    /// device is closed and reopened with it.
    pub fn set_channels(&mut self, channels: u16) -> Result<()> {
        let mut c = self.config.clone();
        c.channels = channels;
        self.reconfigure(c)
    }

    /// ethtool `-G`: sets the ring sizes; checked, then an open device is closed
    /// and reopened with them.
    pub fn set_rings(&mut self, rx: RingSize, tx: RingSize) -> Result<()> {
        let mut c = self.config.clone();
        c.rx_ring = rx;
        c.tx_ring = tx;
        self.reconfigure(c)
    }

    /// Applies a whole new configuration: checked, then an open device is
    /// closed and reopened with it (a closed one just keeps it for `open`).
    /// If the close fails, the device stays closed with the new configuration.
    pub fn reconfigure(&mut self, config: DeviceConfig) -> Result<()> {
        let layout = self.validate(&config)?;
        if !self.is_open() {
            self.config = config;
            return Ok(());
        }
        let closed = self.close();
        self.config = config;
        closed?;
        self.open_validated(layout)
    }

    // ---- statistics ---------------------------------------------------------------

    /// The device's global counters only (9 register reads; [`Device::stats`]
    /// reads every queue's too).
    pub fn global_counters(&self) -> GlobalCounters {
        let mut w = lock(&self.widener);
        let g: Vec<u64> = GLOBAL_COUNTERS
            .iter()
            .map(|&off| w.widen32(off, self.rd(off)))
            .collect();
        GlobalCounters {
            rx_frames: g[0],
            rx_drop_queue_disabled: g[1],
            rx_drop_no_desc: g[2],
            rx_drop_runt: g[3],
            rx_drop_oversize: g[4],
            rx_drop_mac_error: g[5],
            rx_drop_dma_error: g[6],
            tx_frames: g[7],
            tx_errors: g[8],
        }
    }

    /// The interrupt thread's counters (no register access); `None` when closed.
    pub fn irq_stats(&self) -> Option<IrqStats> {
        self.state.as_ref()?.irq.as_ref().map(IrqThread::stats)
    }

    /// A snapshot of the device's global counters, each channel's driver and
    /// device counters, the NAPI contexts' and the interrupt thread's.
    pub fn stats(&self) -> DeviceStats {
        let global = self.global_counters();
        let mut w = lock(&self.widener);
        let mut out = DeviceStats {
            global,
            error_events: self.errors.events.load(Ordering::Relaxed),
            ..DeviceStats::default()
        };
        let Some(st) = &self.state else {
            return out;
        };
        let mut dev_counters = |dir: Dir, q: u16| {
            let pk = qreg(dir, q, queue::STAT_PACKETS);
            let packets = w.widen32(pk, self.rd(pk));
            let bytes = self.read64(
                qreg(dir, q, queue::STAT_BYTES_LO),
                qreg(dir, q, queue::STAT_BYTES_HI),
            );
            QueueCounters {
                packets,
                bytes: w.widen64(qreg(dir, q, queue::STAT_BYTES_LO), bytes),
            }
        };
        for q in 0..st.channels {
            let i = usize::from(q);
            let rx_device = dev_counters(Dir::Rx, q);
            let tx_device = dev_counters(Dir::Tx, q);
            out.channels.push(ChannelStats {
                queue: q,
                vector: st.layout.channel_vector[i],
                rx: st.rx_counters[i].snapshot(),
                tx: st.tx[i].lock().stats(),
                rx_device,
                tx_device,
            });
        }
        out.napi = st.contexts.iter().map(|c| c.stats()).collect();
        out.irq = st.irq.as_ref().map(IrqThread::stats);
        out
    }

    /// A 64-bit counter split over two registers, read consistently.
    fn read64(&self, lo: u32, hi: u32) -> u64 {
        let mut h = self.rd(hi);
        loop {
            let l = self.rd(lo);
            let h2 = self.rd(hi);
            if h2 == h {
                return u64::from(l) | (u64::from(h) << 32);
            }
            h = h2;
        }
    }

    // ---- errors -------------------------------------------------------------------

    /// Reads `ERR_STATUS`, `ERR_INFO`, `ERR_ADDR_*` and, when open, every
    /// channel's queue `STATUS`. Clears nothing.
    pub fn error_report(&self) -> ErrorReport {
        let channels = self.state.as_ref().map_or(0, |s| s.channels);
        read_error_report(&*self.transport, channels)
    }

    /// Recovers channel `queue` after a queue error: for each of its RX and TX
    /// queue whose `STATUS` shows `ERROR` or `CONFIG_ERROR`:
    ///
    /// 1. the channel's NAPI context is disabled (waiting for its poll), so the
    ///    queues are the caller's;
    /// 2. `CTRL.ENABLE` is cleared and the driver waits for `STATUS.ENABLED` 0
    ///    ([`Error::QueueStopTimeout`]);
    /// 3. what the device did complete is still received (RX frames go to the
    ///    channel's handler, on this thread) or reclaimed (TX); the rings are
    ///    reset (RX buffers back to the pool, TX frames in flight dropped and
    ///    counted as `discarded`) and both doorbells written 0;
    /// 4. `CTRL.ENABLE` is written 1 (the device checks the configuration, clears
    ///    the error state and zeroes its indices) and the RX ring refilled;
    ///
    /// then the context is enabled again, every queue of it armed, and the
    /// `ERR_STATUS` bits that were set when recovery started are cleared (W1C).
    /// A queue without an error is left alone. Other queues' errors stay visible
    /// in their `STATUS` ([`error_report`](Self::error_report)).
    pub fn recover_queue(&mut self, queue: u16) -> Result<Recovery> {
        let this = &*self;
        let st = this.open_state()?;
        if queue >= st.channels {
            return Err(Error::NoSuchQueue {
                queue,
                channels: st.channels,
            });
        }
        let causes = this.rd(global::ERR_STATUS) & err_causes_mask();
        let faulty = |dir| {
            let s = this.rd(qreg(dir, queue, queue::STATUS));
            queue::STATUS_ERROR.get(s) != 0 || queue::STATUS_CONFIG_ERROR.get(s) != 0
        };
        let (rx_bad, tx_bad) = (faulty(Dir::Rx), faulty(Dir::Tx));
        let ci = st.layout.context_of(queue);
        let vector = st.layout.channel_vector[usize::from(queue)];
        let ctx = &st.contexts[ci];
        let mut rec = Recovery::default();
        let res = ctx.disable_with(|qv| -> Result<()> {
            if rx_bad {
                this.stop_queue(Dir::Rx, queue)?;
                if let Some((rx, handler)) = qv.rx_queue_mut(queue) {
                    rec.rx_received = rx.rx_batch_with(usize::MAX, handler);
                    rec.rx_discarded = rx.reset_rings();
                    rx.set_enabled(true);
                    this.check_enabled(Dir::Rx, queue, this.config.rx_ring, vector)?;
                    rx.refill();
                    rec.rx_reset = true;
                }
            }
            if tx_bad {
                let mut tx = st.tx[usize::from(queue)].lock();
                this.stop_queue(Dir::Tx, queue)?;
                rec.tx_completed = tx.reclaim();
                rec.tx_discarded = tx.reset_rings();
                tx.set_enabled(true);
                this.check_enabled(Dir::Tx, queue, this.config.tx_ring, vector)?;
                rec.tx_reset = true;
            }
            Ok(())
        });
        ctx.enable();
        // The context may have been released unarmed (a full-budget poll that
        // met the disable): arm every queue it serves.
        st.armers[ci].arm();
        this.wr(global::ERR_STATUS, causes);
        rec.cleared = causes;
        res.map(|()| rec)
    }

    /// Clears a queue's `CTRL.ENABLE` and waits until `STATUS.ENABLED` reads 0.
    fn stop_queue(&self, dir: Dir, q: u16) -> Result<()> {
        self.wr(qreg(dir, q, queue::CTRL), queue::CTRL_ENABLE.set(0, 0));
        if Self::wait_for(self.timeouts.queue_stop, || {
            queue::STATUS_ENABLED.get(self.rd(qreg(dir, q, queue::STATUS))) == 0
        }) {
            Ok(())
        } else {
            Err(Error::QueueStopTimeout {
                queue: q,
                tx: dir == Dir::Tx,
                timeout: self.timeouts.queue_stop,
            })
        }
    }
}

// The device is shared with (or moved to) other threads: keep it so.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Device>();
};

impl Drop for Device {
    /// Closes an open device, best effort: errors are logged, never raised.
    fn drop(&mut self) {
        if let Some(st) = self.state.take() {
            if let Err(e) = self.teardown(st) {
                tracing::warn!(%e, "closing the device on drop");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_plan() {
        let l = VectorLayout::plan(4, 8);
        assert_eq!((l.vectors, &l.channel_vector[..]), (5, &[1, 2, 3, 4][..]));
        assert!(!l.is_shared());
        let l = VectorLayout::plan(5, 3);
        assert_eq!(
            (l.vectors, &l.channel_vector[..]),
            (3, &[1, 2, 1, 2, 1][..])
        );
        assert!(l.is_shared());
        assert_eq!(l.channels_on(1), vec![0, 2, 4]);
        assert_eq!(l.context_of(3), 1);
        let l = VectorLayout::plan(3, 1);
        assert_eq!((l.vectors, &l.channel_vector[..]), (1, &[0, 0, 0][..]));
        assert_eq!(l.queue_vectors(), vec![0]);
        assert_eq!(l.context_of(2), 0);
    }

    #[test]
    fn widener_wraps_and_survives_reset() {
        let mut w = Widener::default();
        assert_eq!(w.widen32(0, 10), 10);
        assert_eq!(w.widen32(0, u32::MAX), u64::from(u32::MAX));
        assert_eq!(w.widen32(0, 4), u64::from(u32::MAX) + 5);
        w.device_reset();
        assert_eq!(w.widen32(0, 1), u64::from(u32::MAX) + 6);
    }

    #[test]
    fn default_key_is_40_bytes_and_config_defaults() {
        assert_eq!(DEFAULT_RSS_KEY.len(), RSS_KEY_BYTES as usize);
        let c = DeviceConfig::default();
        assert_eq!(c.mtu as u32, oxnic_regs::DEFAULT_MTU);
        assert_eq!(c.rx_ring.entries(), 512);
    }
}
