//! oxnic-bench — how fast the RTL, the co-simulation and the driver are
//! (`./scripts/bench` runs it). Every figure is a measurement of this run;
//! comparisons are ratios within the run (the machines are shared and noisy).
//!
//! - `bare_cycles_per_s`: the Verilated 8-queue core alone, clocked with IMIX
//!   frames on its receive stream from a Rust loop that does no driver work (the
//!   frames are dropped: no queue is enabled) — the limit for co-simulation;
//! - `cosim_cycles_per_s`: the full co-simulation (driver + transport + RTL,
//!   threaded clock) on IMIX frames of the same generator, same build;
//! - `rtl_frames_per_cycle_64b`: 64-byte frames over 64 flows into 8 queues whose
//!   rings the driver filled beforehand, no driver running (lockstep clock):
//!   received frames per device cycle in the steady state (RX_FRAMES counter);
//! - `driver_ns_per_packet`: CPU time of the driver's threads per delivered
//!   frame in the co-simulation at weight 64 (process CPU time minus the device
//!   thread's, thread CPU clocks — not wall time);
//! - `irq_latency_us_p50/p99`: wall time from a vector's MSI-X write (device
//!   thread) to the first frame handled after it (the poll it caused);
//! - `cosim_packets_per_s` on the frames of `--pcap` (written here, the cocotb
//!   bench times the same file: `cocotb_packets_per_s` is passed in);
//! - `queues_scaling`: cosim cycles/s with models of 1, 8 and 64 queues (as many
//!   channels as queues).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use oxnic_driver::{
    ChannelInfo, Device, DeviceConfig, DmaArena, HugePages, NapiMode, RegisterAccess, RingSize,
    RxHandler, Worker,
};
use oxnic_sim::cosim::{self, percentile, Options};
use oxnic_sim::traffic::{SizeSpec, TrafficSpec};
use oxnic_sim::{Clock, Mac, MacFrame, SimConfig, SimDevice, SimTransport, TopModel};

#[derive(Parser, Debug)]
#[command(about = "Benchmark the oxnic RTL, co-simulation and driver (see ./scripts/bench)")]
struct Args {
    /// Shorter runs (under two minutes in all).
    #[arg(long)]
    quick: bool,
    /// Write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the frames of the cocotb comparison here (pcap) and exit.
    #[arg(long)]
    write_pcap: Option<PathBuf>,
    /// The cocotb bench's result (JSON from tb/core/bench_core.py) on those frames.
    #[arg(long)]
    cocotb_json: Option<PathBuf>,
    /// Seed of the traffic.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Run only the RTL receive-rate measurement and write its waveform (FST)
    /// here: 2,000 cycles of the measured steady state.
    #[arg(long)]
    rtl_waves: Option<PathBuf>,
    /// Host-memory read latency (cycles from AR to the first R beat) of the RTL
    /// receive-rate measurement; the default is the co-simulation's (16). A
    /// PCIe round trip at 156 MHz is ~80-160 cycles.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    read_latency: u32,
}

/// An endless stream of frames from a generator, no flow control: the bare
/// model's stimulus.
struct Blast {
    spec: TrafficSpec,
    next: u64,
    limit: u64,
    sent: Arc<AtomicU64>,
}

impl Mac for Blast {
    fn rx_frame(&mut self, _cycle: u64) -> Option<MacFrame> {
        if self.next >= self.limit {
            return None;
        }
        self.next += 1;
        self.sent.fetch_add(1, Ordering::Relaxed);
        Some(MacFrame {
            data: self.spec.frame(self.next),
            error: false,
        })
    }
    fn tx_frame(&mut self, _frame: MacFrame, _cycle: u64) {}
}

fn bare_cycles_per_s(cycles: u64, seed: u64) -> f64 {
    let arena = DmaArena::new(1 << 20, 0x1_0000_0000, HugePages::Never).expect("arena");
    let mac = Blast {
        spec: TrafficSpec {
            size: SizeSpec::Imix,
            flows: 64,
            seed,
        },
        next: 0,
        limit: u64::MAX,
        sent: Arc::default(),
    };
    let mut d = SimDevice::new(
        TopModel::new(8).expect("8-queue model"),
        arena,
        Default::default(),
        Box::new(mac),
        Default::default(),
        seed,
    );
    d.run(10_000);
    let t0 = Instant::now();
    d.run(cycles);
    cycles as f64 / t0.elapsed().as_secs_f64()
}

/// 64-byte frames into 8 queues with full rings, no driver running: frames per
/// cycle, measured over the second half of the stream.
fn rtl_frames_per_cycle_64b(
    frames: u64,
    seed: u64,
    read_latency: u32,
    waves: Option<&std::path::Path>,
) -> Result<(f64, u64), String> {
    let sent = Arc::new(AtomicU64::new(0));
    let mut cfg = SimConfig::new(Box::new(oxnic_sim::NoMac::default()));
    cfg.clock = Clock::Lockstep;
    cfg.timing.r_latency = read_latency;
    if let Some(p) = waves {
        // Every frame takes ~10-20 cycles, so the middle of the stream is well
        // inside the measured window.
        let mid = frames * 7 / 10 * 12;
        cfg.waves = Some((p.to_path_buf(), Some((mid, mid + 2000))));
    }
    cfg.arena_bytes = 64 << 20;
    let t = Arc::new(SimTransport::new(cfg).map_err(|e| e.to_string())?);
    let mut dev = Device::probe(t.clone()).map_err(|e| e.to_string())?;
    let worker = Worker::default();
    let log2 = 12; // 4096 descriptors per queue: 32768 frames without a refill
    let config = DeviceConfig {
        rx_ring: RingSize::new(log2).map_err(|e| e.to_string())?,
        tx_ring: RingSize::new(4).map_err(|e| e.to_string())?,
        buf_size: 128,
        mtu: 128,
        rx_buffers: 8 << log2,
        mode: NapiMode::External(worker.clone()),
        ..DeviceConfig::new(8)
    };
    dev.open(config, |_ch: ChannelInfo| -> RxHandler {
        Box::new(|_pkt| {})
    })
    .map_err(|e| e.to_string())?;
    let _ = t.try_read32(0);
    let frames = frames.min(7 << log2);
    let blast = Blast {
        spec: TrafficSpec {
            size: SizeSpec::Fixed(64),
            flows: 64,
            seed,
        },
        next: 0,
        limit: frames,
        sent: sent.clone(),
    };
    t.with_device(move |d| drop(d.set_mac(Box::new(blast))));
    let rx = || u64::from(t.read32(oxnic_regs::global::RX_FRAMES));
    // Warm up to half the stream, then measure.
    while rx() < frames / 2 {
        t.advance(2000);
    }
    let (f0, c0) = (rx(), t.cycles());
    while rx() < frames * 9 / 10 {
        t.advance(2000);
    }
    let (f1, c1) = (rx(), t.cycles());
    let drops = dev.global_counters().rx_dropped();
    // Close waits for the owner of every context: let the worker run now.
    let w = worker.spawn();
    dev.close().map_err(|e| e.to_string())?;
    w.stop();
    t.stop();
    Ok(((f1 - f0) as f64 / (c1 - c0) as f64, drops))
}

/// Frames 0..n of `spec` as a pcap file (the cocotb comparison's input).
fn write_frames(path: &std::path::Path, spec: &TrafficSpec, n: u64) -> Result<(), String> {
    let f = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut w =
        pcap_file::pcap::PcapWriter::new(std::io::BufWriter::new(f)).map_err(|e| e.to_string())?;
    for i in 0..n {
        let d = spec.frame(i);
        let pkt = pcap_file::pcap::PcapPacket::new(
            std::time::Duration::from_micros(i),
            d.len() as u32,
            &d,
        );
        w.write_packet(&pkt).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let a = Args::parse();
    let spec = TrafficSpec {
        size: SizeSpec::Imix,
        flows: 64,
        seed: a.seed,
    };
    let cmp_frames: u64 = if a.quick { 300 } else { 2000 };
    if let Some(p) = &a.write_pcap {
        return match write_frames(p, &spec, cmp_frames) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench: {}: {e}", p.display());
                ExitCode::from(1)
            }
        };
    }
    if let Some(p) = &a.rtl_waves {
        return match rtl_frames_per_cycle_64b(20_000, a.seed, a.read_latency, Some(p)) {
            Ok((fpc, drops)) => {
                println!(
                    "rtl_frames_per_cycle_64b {fpc:.4} (drops {drops}, read latency {} cycles); waveform {}",
                    a.read_latency,
                    p.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("bench: {e}");
                ExitCode::from(1)
            }
        };
    }
    let (bare_n, cosim_n, rtl_n, scale_n) = if a.quick {
        (1_500_000, 20_000, 20_000, 4_000)
    } else {
        (6_000_000, 100_000, 28_000, 20_000)
    };

    eprintln!("bench: bare model ({bare_n} cycles)");
    let bare = bare_cycles_per_s(bare_n, a.seed);

    eprintln!("bench: co-simulation, {cosim_n} IMIX frames, 8 queues, weight 64");
    let o = Options {
        packets: cosim_n,
        seed: a.seed,
        irq_latency: true,
        ..Options::default()
    };
    let r = match cosim::run(&o) {
        Ok(r) if r.ok() => r,
        Ok(r) => {
            eprintln!("bench: the co-simulation run failed:\n{}", r.table());
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::from(1);
        }
    };

    eprintln!("bench: RTL receive rate, 64-byte frames, 8 queues, no driver");
    let (rtl_fpc, rtl_drops) = match rtl_frames_per_cycle_64b(rtl_n, a.seed, a.read_latency, None) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::from(1);
        }
    };

    let mut scaling = serde_json::Map::new();
    for q in [1u32, 8, 64] {
        eprintln!("bench: scaling, model and channels = {q}");
        let o = Options {
            queues: q as u16,
            model_queues: Some(q),
            packets: scale_n,
            flows: 4 * q,
            ring_log2: if q == 64 { 7 } else { 9 },
            seed: a.seed,
            ..Options::default()
        };
        match cosim::run(&o) {
            Ok(r) if r.ok() => {
                scaling.insert(q.to_string(), r.cycles_per_s.into());
            }
            Ok(r) => {
                eprintln!("bench: scaling run at {q} failed:\n{}", r.table());
                return ExitCode::from(1);
            }
            Err(e) => {
                eprintln!("bench: {e}");
                return ExitCode::from(1);
            }
        }
    }

    // The cocotb comparison: the same frames through the co-simulation.
    let dir = std::env::temp_dir().join(format!("oxnic-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let pcap = dir.join("frames.pcap");
    if let Err(e) = write_frames(&pcap, &spec, cmp_frames) {
        eprintln!("bench: {}: {e}", pcap.display());
        return ExitCode::from(1);
    }
    let cmp = cosim::run(&Options {
        pcap_in: Some(pcap),
        seed: a.seed,
        ..Options::default()
    });
    let cosim_pps = match cmp {
        Ok(r) if r.ok() => r.delivered as f64 / r.wall_s,
        _ => {
            eprintln!("bench: the comparison run failed");
            return ExitCode::from(1);
        }
    };
    let cocotb_pps = a.cocotb_json.as_ref().and_then(|p| {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
        v["packets_per_s"].as_f64()
    });

    let lat = &r.irq_latency_us;
    let mut out = serde_json::json!({
        "bare_cycles_per_s": bare,
        "cosim_cycles_per_s": r.cycles_per_s,
        "cosim_over_bare": r.cycles_per_s / bare,
        "rtl_frames_per_cycle_64b": rtl_fpc,
        "rtl_64b_drops": rtl_drops,
        "driver_ns_per_packet": r.driver_cpu_ns_per_packet,
        "irq_latency_us_p50": percentile(lat, 50.0),
        "irq_latency_us_p99": percentile(lat, 99.0),
        "irq_latency_samples": lat.len(),
        "cosim_packets_per_s": cosim_pps,
        "queues_scaling": scaling,
        "quick": a.quick,
        "seed": a.seed,
    });
    if let Some(c) = cocotb_pps {
        out["cocotb_packets_per_s"] = c.into();
        out["cosim_over_cocotb"] = (cosim_pps / c).into();
    }
    println!("{:<28} {:>14}  target", "key", "value");
    let targets = [
        ("bare_cycles_per_s", ""),
        ("cosim_cycles_per_s", ""),
        ("cosim_over_bare", ">= 0.5"),
        ("rtl_frames_per_cycle_64b", ">= 0.095"),
        ("driver_ns_per_packet", "<= 50"),
        ("irq_latency_us_p50", ""),
        ("irq_latency_us_p99", ""),
        ("cocotb_packets_per_s", ""),
        ("cosim_packets_per_s", ""),
        ("cosim_over_cocotb", ">= 100"),
    ];
    for (k, t) in targets {
        match out[k].as_f64() {
            Some(v) => println!("{k:<28} {v:>14.3}  {t}"),
            None => println!("{k:<28} {:>14}  {t}", "n/a"),
        }
    }
    for (q, v) in &scaling {
        println!(
            "{:<28} {:>14.0}",
            format!("queues_scaling[{q}]"),
            v.as_f64().unwrap_or(0.0)
        );
    }
    if let Some(p) = &a.json {
        let text = serde_json::to_string_pretty(&out).expect("JSON") + "\n";
        if let Err(e) = std::fs::write(p, text) {
            eprintln!("bench: cannot write {}: {e}", p.display());
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
