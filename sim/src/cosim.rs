//! One co-simulation run: the unchanged driver library ([`oxnic_driver::Device`])
//! opens the Verilated core through a [`SimTransport`], receives a stream of
//! frames from a [`TrafficMac`], forwards every received frame out of the same
//! channel's TX queue, and the MAC checks each transmitted frame against what it
//! injected. [`run`] returns a [`Report`]; `oxnic-cosim` prints it and the tests
//! assert on it.
//!
//! Accounting (nothing is lost silently): every injected frame is either
//! *delivered* to a frame handler or *dropped* by the device, counted by reason
//! in its `RX_DROP_*` registers; `lost = injected − delivered − dropped` must be
//! 0. Every delivered frame is either forwarded or refused by a full TX ring
//! (`forward_dropped`); every forwarded frame must come back on the wire exactly
//! once, byte for byte (`returned`), never as a frame nobody sent
//! (`returned_bad`). Each delivered frame's queue and RSS hash are checked
//! against the Toeplitz reference in [`crate::traffic`] and RETA entry i → queue
//! i mod channels.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use oxnic_driver::{
    busy_poll, ChannelInfo, Coalesce, Device, DeviceConfig, GlobalCounters, InterruptVectors,
    NapiMode, RegisterAccess, RingSize, RxHandler, SchedConfig, Worker, BUSY_POLL_BUDGET,
};
use oxnic_regs::RSS_RETA_ENTRIES;

use crate::device::{MemoryTiming, NoMac};
use crate::mac::{read_pcap, Source, TrafficMac};
use crate::model::{model_for, model_queue_counts};
use crate::traffic::{rss_expect, Scoreboard, SizeSpec, TrafficSpec};
use crate::transport::{Clock, SimConfig, SimTransport};

/// How the NAPI contexts run (the driver's [`NapiMode`]s as the co-simulation
/// sets them up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Interrupts schedule contexts on one worker thread (`net_rx_action`).
    Interrupt,
    /// As `Interrupt`, plus an application thread busy-polling every context
    /// (`napi_busy_loop`, budget 8).
    BusyPoll,
    /// One thread per context (threaded NAPI).
    Threaded,
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "interrupt" => Ok(Mode::Interrupt),
            "busy-poll" => Ok(Mode::BusyPoll),
            "threaded" => Ok(Mode::Threaded),
            _ => Err(format!("{s:?}: expected interrupt, busy-poll or threaded")),
        }
    }
}

/// Everything one run is made of. [`Options::default`] is the documented
/// default of `./scripts/cosim`.
#[derive(Clone, Debug)]
pub struct Options {
    /// Channels (RX/TX queue pairs) the driver opens.
    pub queues: u16,
    /// The model (its generated queue count); `None`: [`model_for`]`(queues)`.
    pub model_queues: Option<u32>,
    /// Frames to inject (ignored with `pcap_in`).
    pub packets: u64,
    /// Frame sizes.
    pub size: SizeSpec,
    /// Flows.
    pub flows: u32,
    /// NAPI mode.
    pub mode: Mode,
    /// Device clock.
    pub clock: Clock,
    /// NAPI weight.
    pub weight: usize,
    /// Global budget per `net_rx_action` run.
    pub budget: usize,
    /// Moderation: minimum µs between interrupts of a queue.
    pub rx_usecs: u16,
    /// Moderation: frames that fire an interrupt before `rx_usecs` ran out.
    pub rx_frames: u16,
    /// Interrupt vectors to use at most (error vector included); `None`: one per
    /// channel. Fewer makes channels share vectors (and NAPI contexts).
    pub max_vectors: Option<u16>,
    /// Seed of the traffic, the memory stalls and the lockstep interleaving.
    pub seed: u64,
    /// Frames from this pcap file instead of the generator.
    pub pcap_in: Option<PathBuf>,
    /// Transmitted frames to this pcap file.
    pub pcap_out: Option<PathBuf>,
    /// FST waveform of the run.
    pub waves: Option<PathBuf>,
    /// Only cycles `from..to` in the waveform.
    pub waves_window: Option<(u64, u64)>,
    /// Offered load, percent of line rate.
    pub rate: u32,
    /// log2 of the RX and TX ring sizes.
    pub ring_log2: u32,
    /// Host memory timing (random stalls for lockstep tests).
    pub timing: MemoryTiming,
    /// Lockstep: at most this many device cycles between two driver steps (the
    /// step length is drawn from the seed).
    pub max_step: u64,
    /// Show a progress bar (only drawn on a terminal).
    pub progress: bool,
    /// Measure interrupt latency: wall time from a vector's MSI message to the
    /// first frame handled after it (threaded clock).
    pub irq_latency: bool,
    /// Give up when nothing moved for this long (wall time; lockstep counts
    /// 50 M cycles).
    pub stall_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            queues: 8,
            model_queues: None,
            packets: 100_000,
            size: SizeSpec::Imix,
            flows: 64,
            mode: Mode::Interrupt,
            clock: Clock::Threaded,
            weight: 64,
            budget: 300,
            rx_usecs: 0,
            rx_frames: 0,
            max_vectors: None,
            seed: 1,
            pcap_in: None,
            pcap_out: None,
            waves: None,
            waves_window: None,
            rate: 100,
            ring_log2: 9,
            timing: MemoryTiming::default(),
            max_step: 64,
            progress: false,
            irq_latency: false,
            stall_timeout: Duration::from_secs(20),
        }
    }
}

/// Why a run could not start or finish. (Traffic errors — loss, corruption — are
/// not errors: they are in the [`Report`].)
#[derive(Debug, thiserror::Error)]
pub enum CosimError {
    /// An option is out of range or options contradict each other.
    #[error("{0}")]
    BadOption(String),
    /// The pcap input could not be read or the output created.
    #[error(transparent)]
    Pcap(#[from] crate::mac::PcapError),
    /// The driver failed.
    #[error("driver: {0}")]
    Driver(#[from] oxnic_driver::Error),
}

/// One queue's line in the report.
#[derive(Clone, Debug, Default)]
pub struct QueueReport {
    /// Channel number.
    pub queue: u16,
    /// Its interrupt vector.
    pub vector: u16,
    /// Frames the driver received on it.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Frames the device counted transmitted on its TX queue.
    pub tx_packets: u64,
    /// MSI-X messages of its vector (shared vectors: the vector's total).
    pub interrupts: u64,
    /// Polls of its NAPI context.
    pub polls: u64,
    /// Packets per poll.
    pub work_per_poll: f64,
    /// Polls that used the whole budget.
    pub full_budget_polls: u64,
    /// Polls that ended in `complete_done` → re-arm.
    pub rearms: u64,
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// Frames handed to the NIC.
    pub injected: u64,
    /// Frames delivered to the driver's handlers.
    pub delivered: u64,
    /// Device drops by reason (`RX_DROP_*`).
    pub dropped: BTreeMap<&'static str, u64>,
    /// injected − delivered − dropped.
    pub lost: i64,
    /// Frames put on a TX ring.
    pub forwarded: u64,
    /// Frames the forwarding program dropped (TX ring full).
    pub forward_dropped: u64,
    /// Forwarded frames that came back intact.
    pub returned: u64,
    /// Transmitted frames that match no injected frame in flight.
    pub returned_bad: u64,
    /// Frames on the wrong queue.
    pub wrong_queue: u64,
    /// Frames with a wrong RSS hash or type.
    pub bad_hash: u64,
    /// DMA faults the IOMMU model answered.
    pub iommu_faults: u64,
    /// BAR0 accesses that timed out (the register interface did not answer).
    pub reg_timeouts: u64,
    /// Device TX_ERRORS.
    pub tx_errors: u64,
    /// Clock cycles simulated.
    pub sim_cycles: u64,
    /// Wall seconds of the traffic phase.
    pub wall_s: f64,
    /// sim_cycles / wall_s.
    pub cycles_per_s: f64,
    /// delivered / wall_s.
    pub packets_per_s: f64,
    /// CPU time of the driver's threads per delivered frame (threaded clock;
    /// process CPU time minus the device thread's).
    pub driver_cpu_ns_per_packet: Option<f64>,
    /// Per queue.
    pub queues: Vec<QueueReport>,
    /// The first bad frames, described.
    pub problems: Vec<String>,
    /// With [`Options::irq_latency`]: MSI message → first frame handled, µs,
    /// sorted.
    pub irq_latency_us: Vec<f64>,
}

/// The `p`-th percentile (0..=100) of sorted `v` (nearest rank); 0 when empty.
pub fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

impl Report {
    /// Total device drops.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }

    /// True when nothing was lost, corrupted, misrouted or duplicated.
    pub fn ok(&self) -> bool {
        self.lost == 0
            && self.reg_timeouts == 0
            && self.returned_bad == 0
            && self.returned == self.forwarded
            && self.wrong_queue == 0
            && self.bad_hash == 0
    }

    /// The JSON document of `--json` (keys documented in the README).
    pub fn to_json(&self) -> serde_json::Value {
        let queues: Vec<_> = self
            .queues
            .iter()
            .map(|q| {
                serde_json::json!({
                    "queue": q.queue, "vector": q.vector,
                    "rx_packets": q.rx_packets, "rx_bytes": q.rx_bytes,
                    "tx_packets": q.tx_packets, "interrupts": q.interrupts,
                    "polls": q.polls, "work_per_poll": q.work_per_poll,
                    "full_budget_polls": q.full_budget_polls, "rearms": q.rearms,
                })
            })
            .collect();
        serde_json::json!({
            "ok": self.ok(),
            "seed": self.seed,
            "injected": self.injected,
            "delivered": self.delivered,
            "dropped": self.dropped,
            "lost": self.lost,
            "forwarded": self.forwarded,
            "forward_dropped": self.forward_dropped,
            "returned": self.returned,
            "returned_bad": self.returned_bad,
            "wrong_queue": self.wrong_queue,
            "bad_hash": self.bad_hash,
            "iommu_faults": self.iommu_faults,
            "reg_timeouts": self.reg_timeouts,
            "tx_errors": self.tx_errors,
            "sim_cycles": self.sim_cycles,
            "wall_s": self.wall_s,
            "cycles_per_s": self.cycles_per_s,
            "packets_per_s": self.packets_per_s,
            "driver_cpu_ns_per_packet": self.driver_cpu_ns_per_packet,
            "queues": queues,
            "problems": self.problems,
        })
    }

    /// The human-readable report: a per-queue table, then totals.
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:>5} {:>6} {:>10} {:>12} {:>10} {:>10} {:>9} {:>9} {:>9} {:>8}",
            "queue",
            "vector",
            "rx_pkts",
            "rx_bytes",
            "tx_pkts",
            "irqs",
            "polls",
            "work/poll",
            "full_bud",
            "rearms"
        );
        for q in &self.queues {
            let _ = writeln!(
                s,
                "{:>5} {:>6} {:>10} {:>12} {:>10} {:>10} {:>9} {:>9.2} {:>9} {:>8}",
                q.queue,
                q.vector,
                q.rx_packets,
                q.rx_bytes,
                q.tx_packets,
                q.interrupts,
                q.polls,
                q.work_per_poll,
                q.full_budget_polls,
                q.rearms
            );
        }
        let drops: Vec<String> = self
            .dropped
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(
            s,
            "injected {}  delivered {}  dropped {} ({})  lost {}",
            self.injected,
            self.delivered,
            self.dropped_total(),
            drops.join(", "),
            self.lost
        );
        let _ = writeln!(
            s,
            "forwarded {}  returned intact {}  bad {}  forward ring full {}  wrong queue {}  bad hash {}",
            self.forwarded,
            self.returned,
            self.returned_bad,
            self.forward_dropped,
            self.wrong_queue,
            self.bad_hash
        );
        let cpu = self
            .driver_cpu_ns_per_packet
            .map_or("n/a".to_string(), |v| format!("{v:.0}"));
        let _ = writeln!(
            s,
            "simulated {} cycles in {:.2} s: {:.0} cycles/s, {:.0} packets/s, driver CPU {} ns/packet",
            self.sim_cycles, self.wall_s, self.cycles_per_s, self.packets_per_s, cpu
        );
        for p in &self.problems {
            let _ = writeln!(s, "problem: {p}");
        }
        let _ = writeln!(
            s,
            "{}",
            if self.ok() {
                "result: OK (every frame accounted for, every forwarded frame returned intact)"
            } else {
                "result: FAILED"
            }
        );
        s
    }
}

/// Process CPU time (all threads), ns.
fn process_cpu_ns() -> u64 {
    crate::transport::cpu_ns(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn drops_of(g: &GlobalCounters) -> BTreeMap<&'static str, u64> {
    BTreeMap::from([
        ("queue_disabled", g.rx_drop_queue_disabled),
        ("no_desc", g.rx_drop_no_desc),
        ("runt", g.rx_drop_runt),
        ("oversize", g.rx_drop_oversize),
        ("mac_error", g.rx_drop_mac_error),
        ("dma_error", g.rx_drop_dma_error),
    ])
}

/// Checks options that clap cannot (ranges that depend on the model).
pub fn validate(o: &Options) -> Result<(), CosimError> {
    let bad = |m: String| Err(CosimError::BadOption(m));
    let counts = model_queue_counts();
    let largest = counts.last().copied().unwrap_or(0);
    if o.queues == 0 || u32::from(o.queues) > largest {
        return bad(format!(
            "--queues {}: models are built for {counts:?} queues (1..={largest}); \
             ./scripts/cosim builds a larger one when asked for more (OXNIC_SIM_QUEUES)",
            o.queues
        ));
    }
    if let Some(m) = o.model_queues {
        if !counts.contains(&m) || u32::from(o.queues) > m {
            return bad(format!(
                "model with {m} queues: built models {counts:?}, and it must have at least --queues {}",
                o.queues
            ));
        }
    }
    if o.flows == 0 {
        return bad("--flows must be at least 1".into());
    }
    if o.weight == 0 || o.budget == 0 {
        return bad("--weight and --budget must be at least 1".into());
    }
    if o.rate == 0 || o.rate > 100 {
        return bad(format!("--rate {}: 1..=100 (percent of line rate)", o.rate));
    }
    if o.clock == Clock::Lockstep && o.mode != Mode::Interrupt {
        return bad("--clock lockstep runs the driver in one thread: use --mode interrupt".into());
    }
    if let Some((a, b)) = o.waves_window {
        if a >= b {
            return bad(format!("--waves-window {a}:{b}: FROM must be below TO"));
        }
        if o.waves.is_none() {
            return bad("--waves-window needs --waves FILE".into());
        }
    }
    if o.pcap_in.is_none() && o.packets == 0 {
        return bad("--packets must be at least 1".into());
    }
    RingSize::new(o.ring_log2).map_err(|e| CosimError::BadOption(format!("--ring: {e}")))?;
    Ok(())
}

/// The model a run uses.
pub fn model_of(o: &Options) -> u32 {
    o.model_queues
        .or_else(|| model_for(u32::from(o.queues)))
        .unwrap_or(crate::DEFAULT_MODEL_QUEUES)
}

/// Runs one co-simulation.
pub fn run(o: &Options) -> Result<Report, CosimError> {
    validate(o)?;
    let source = match &o.pcap_in {
        Some(p) => Source::Frames(read_pcap(p, oxnic_regs::DEFAULT_MTU as usize)?),
        None => Source::Generate {
            spec: TrafficSpec {
                size: o.size,
                flows: o.flows,
                seed: o.seed,
            },
            packets: o.packets,
        },
    };
    let total = source.len();
    let sb = Arc::new(Scoreboard::default());
    // In flight at most what the RX rings hold (less than the buffers), so a
    // driver that keeps up never sees NO_DESC drops; drops still happen and are
    // counted when it does not.
    let window = (u64::from(o.queues) << o.ring_log2) / 2;
    let mut mac = TrafficMac::new(source, sb.clone(), window, o.rate);
    if let Some(p) = &o.pcap_out {
        mac = mac.pcap_out(p)?;
    }
    let mut cfg = SimConfig::new(Box::new(NoMac::default()));
    cfg.model_queues = model_of(o);
    cfg.clock = o.clock;
    cfg.seed = o.seed;
    cfg.timing = o.timing;
    cfg.arena_bytes = 256 << 20;
    cfg.waves = o.waves.clone().map(|p| (p, o.waves_window));
    let transport = Arc::new(SimTransport::new(cfg)?);

    let mut dev = Device::probe(transport.clone())?;
    let worker = Worker::new(SchedConfig {
        budget: o.budget,
        // Lockstep: no wall-clock squeeze, so a run depends on its seed only.
        time_limit: match o.clock {
            Clock::Threaded => SchedConfig::default().time_limit,
            Clock::Lockstep => Duration::from_secs(3600),
        },
    });
    let ring = RingSize::new(o.ring_log2).expect("validated");
    let config = DeviceConfig {
        rx_ring: ring,
        tx_ring: ring,
        weight: o.weight,
        coalesce: Coalesce {
            rx_usecs: o.rx_usecs,
            rx_frames: o.rx_frames,
            tx_usecs: o.rx_usecs,
            tx_frames: o.rx_frames,
        },
        max_vectors: o.max_vectors,
        mode: match o.mode {
            Mode::Threaded => NapiMode::Threaded,
            Mode::Interrupt | Mode::BusyPoll => NapiMode::External(worker.clone()),
        },
        ..DeviceConfig::new(o.queues)
    };
    let key = config.rss.key;
    let channels = o.queues;
    let sbh = sb.clone();
    let stamps = (o.irq_latency && o.clock == Clock::Threaded).then(|| {
        let s = Arc::new(crate::device::MsiStamps::new(
            transport.max_vectors() as usize
        ));
        let s2 = s.clone();
        transport.with_device(move |d| d.set_msi_stamps(Some(s2)));
        s
    });
    let latencies = Arc::new(std::sync::Mutex::new(Vec::<f64>::new()));
    let (stamps_h, lat_h) = (stamps.clone(), latencies.clone());
    dev.open(config, move |ch: ChannelInfo| -> RxHandler {
        let (tx, sb) = (ch.tx, sbh.clone());
        let queue = ch.queue;
        let (stamps, lat, vector) = (stamps_h.clone(), lat_h.clone(), u32::from(ch.vector));
        Box::new(move |pkt| {
            if let Some(d) = stamps.as_ref().and_then(|s| s.take(vector)) {
                lat.lock()
                    .expect("latency lock")
                    .push(d.as_secs_f64() * 1e6);
            }
            sb.delivered.fetch_add(1, Ordering::Relaxed);
            // Checked against the reference: the frame's tuple hashed with the
            // key the driver programmed, RETA entry i → queue i mod channels.
            let mut hdr = [0u8; 96];
            let n = pkt.buf.len().min(hdr.len());
            pkt.buf.read(0, &mut hdr[..n]);
            let (hash, kind) = rss_expect(&key, &hdr[..n]);
            if pkt.rss_hash != hash || pkt.rss_type != kind {
                sb.bad_hash.fetch_add(1, Ordering::Relaxed);
            }
            let want = (hash % RSS_RETA_ENTRIES) as u16 % channels;
            if queue != want || pkt.queue != want {
                sb.wrong_queue.fetch_add(1, Ordering::Relaxed);
            }
            match tx.lock().tx_one(pkt.buf) {
                Ok(true) => sb.forwarded.fetch_add(1, Ordering::Relaxed),
                Ok(false) | Err(_) => sb.forward_dropped.fetch_add(1, Ordering::Relaxed),
            };
        })
    })?;

    // Attach the traffic only now: frames before open would be dropped as
    // "queue disabled" for no reason of interest. The driver's last writes are
    // posted; a read flushes them (PCIe ordering: a read does not pass writes).
    let _ = transport.try_read32(oxnic_regs::global::ID)?;
    let old = transport.with_device(move |d| d.set_mac(Box::new(mac)));
    drop(old);

    let stop = Arc::new(AtomicBool::new(false));
    let worker_thread = match (o.mode, o.clock) {
        (Mode::Interrupt | Mode::BusyPoll, Clock::Threaded) => Some(worker.spawn()),
        _ => None,
    };
    let contexts = dev.napi_list().snapshot();
    let busy = (o.mode == Mode::BusyPoll).then(|| {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for ctx in &contexts {
                    // A few rounds each, as an application's recvmsg would.
                    let mut rounds = 0;
                    let _ = busy_poll(&**ctx, BUSY_POLL_BUDGET, |_| {
                        rounds += 1;
                        rounds >= 4
                    });
                }
                std::thread::yield_now();
            }
        })
    });

    let progress = (o.progress && std::io::stderr().is_terminal()).then(|| {
        let pb = indicatif::ProgressBar::new(total);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} frames ({per_sec}) {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        pb
    });

    let t0 = Instant::now();
    let cpu0 = process_cpu_ns();
    let dev_cpu0 = transport.device_cpu_ns();
    let cycles0 = transport.cycles();
    let mut rng = o.seed | 1;
    let mut last_progress = (0u64, t0, cycles0);
    let mut steps: u64 = 0;
    // Messages delivered to the interrupt thread so far (lockstep).
    let mut delivered_msi = dev.irq_stats().map_or(0, |s| s.interrupts);
    let mut device_drops;
    loop {
        match o.clock {
            Clock::Threaded => std::thread::sleep(Duration::from_millis(5)),
            Clock::Lockstep => {
                // xorshift: the interleaving is a function of the seed.
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                transport.advance(1 + rng % o.max_step);
                // Deliver the messages sent so far and let the interrupt thread
                // handle them (it counts a message after dispatching it); its
                // dispatch may send more (a re-armed queue): repeat until none.
                // Only then poll, so the interrupt thread and the poll loop
                // never touch the device at the same time.
                loop {
                    let n = transport.deliver_msi();
                    if n == 0 {
                        break;
                    }
                    delivered_msi += n;
                    while dev.irq_stats().map_or(delivered_msi, |s| s.interrupts) < delivered_msi {
                        std::thread::yield_now();
                    }
                }
                worker.net_rx_action();
            }
        }
        steps += 1;
        if o.clock == Clock::Threaded || steps % 64 == 0 {
            device_drops = drops_of(&dev.global_counters());
            sb.device_dropped
                .store(device_drops.values().sum(), Ordering::Relaxed);
        }
        let injected = sb.injected.load(Ordering::Relaxed);
        let delivered = sb.delivered.load(Ordering::Relaxed);
        let dropped = sb.device_dropped.load(Ordering::Relaxed);
        let returned =
            sb.returned.load(Ordering::Relaxed) + sb.returned_bad.load(Ordering::Relaxed);
        let forwarded = sb.forwarded.load(Ordering::Relaxed);
        if let Some(pb) = &progress {
            pb.set_position(delivered + dropped);
        }
        if injected == total && delivered + dropped >= injected && returned >= forwarded {
            break;
        }
        let moved = delivered + dropped + returned;
        let cycles = transport.cycles();
        if moved != last_progress.0 {
            last_progress = (moved, Instant::now(), cycles);
        } else {
            let stalled = match o.clock {
                Clock::Threaded => last_progress.1.elapsed() > o.stall_timeout,
                Clock::Lockstep => cycles - last_progress.2 > 50_000_000,
            };
            if stalled {
                break;
            }
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let sim_cycles = transport.cycles() - cycles0;
    let driver_cpu = match o.clock {
        Clock::Threaded => {
            Some((process_cpu_ns() - cpu0).saturating_sub(transport.device_cpu_ns() - dev_cpu0))
        }
        Clock::Lockstep => None,
    };
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }

    // Counters before close (close disables the queues).
    let stats = dev.stats();
    let layout = dev.layout().cloned();
    stop.store(true, Ordering::Relaxed);
    if let Some(b) = busy {
        let _ = b.join();
    }
    let counters = transport.counters();
    // Close disables every context, waiting for the owner of each: a context
    // scheduled on the lockstep worker needs that worker to run (the traffic
    // phase is over, so its thread no longer costs reproducibility).
    let worker_thread =
        worker_thread.or_else(|| (o.clock == Clock::Lockstep).then(|| worker.spawn()));
    dev.close()?;
    if let Some(w) = worker_thread {
        w.stop();
    }
    let mut mac_back = transport.with_device(|d| d.set_mac(Box::new(NoMac::default())));
    let mut problems = Vec::new();
    let any: &mut dyn std::any::Any = &mut *mac_back;
    if let Some(m) = any.downcast_mut::<TrafficMac>() {
        m.finish();
        problems.extend(m.bad_examples.iter().cloned());
        if let Some(e) = m.pcap_error() {
            problems.push(format!("pcap output: {e}"));
        }
    }
    transport.stop();

    device_drops = drops_of(&stats.global);
    let injected = sb.injected.load(Ordering::Relaxed);
    let delivered = sb.delivered.load(Ordering::Relaxed);
    let dropped_total: u64 = device_drops.values().sum();
    let mut queues = Vec::new();
    for ch in &stats.channels {
        let vector = ch.vector;
        let napi_index = layout
            .as_ref()
            .and_then(|l| {
                let mut vs: Vec<u16> = l.channel_vector.clone();
                vs.sort_unstable();
                vs.dedup();
                vs.iter().position(|&v| v == vector)
            })
            .unwrap_or(ch.queue as usize);
        let napi = stats.napi.get(napi_index).copied().unwrap_or_default();
        queues.push(QueueReport {
            queue: ch.queue,
            vector,
            rx_packets: ch.rx.packets,
            rx_bytes: ch.rx.bytes,
            tx_packets: ch.tx_device.packets,
            interrupts: counters.msi.get(vector as usize).copied().unwrap_or(0),
            polls: napi.polls,
            work_per_poll: if napi.polls > 0 {
                napi.work as f64 / napi.polls as f64
            } else {
                0.0
            },
            full_budget_polls: napi.full_budget_polls,
            rearms: napi.completed,
        });
    }
    if let Some((off, write, cycle)) = counters.first_reg_timeout {
        problems.push(format!(
            "BAR0 {} at {off:#x} (cycle {cycle}) never answered: {} register timeouts",
            if write { "write" } else { "read" },
            counters.reg_timeouts
        ));
    }
    if injected < total {
        problems.push(format!(
            "stalled: injected only {injected} of {total} frames (nothing moved for {:?})",
            o.stall_timeout
        ));
    }
    let mut irq_latency_us = std::mem::take(&mut *latencies.lock().expect("latency lock"));
    irq_latency_us.sort_by(f64::total_cmp);
    Ok(Report {
        irq_latency_us,
        seed: o.seed,
        injected,
        delivered,
        dropped: device_drops,
        lost: injected as i64 - delivered as i64 - dropped_total as i64,
        forwarded: sb.forwarded.load(Ordering::Relaxed),
        forward_dropped: sb.forward_dropped.load(Ordering::Relaxed),
        returned: sb.returned.load(Ordering::Relaxed),
        returned_bad: sb.returned_bad.load(Ordering::Relaxed),
        wrong_queue: sb.wrong_queue.load(Ordering::Relaxed),
        bad_hash: sb.bad_hash.load(Ordering::Relaxed),
        iommu_faults: counters.iommu_faults,
        reg_timeouts: counters.reg_timeouts,
        tx_errors: stats.global.tx_errors,
        sim_cycles,
        wall_s: wall,
        cycles_per_s: sim_cycles as f64 / wall,
        packets_per_s: delivered as f64 / wall,
        driver_cpu_ns_per_packet: driver_cpu.map(|ns| ns as f64 / delivered.max(1) as f64),
        queues,
        problems,
    })
}
