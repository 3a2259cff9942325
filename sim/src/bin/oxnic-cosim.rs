//! oxnic-cosim — the main job: the driver library against the Verilated NIC core
//! under traffic, with every frame accounted for. `./scripts/cosim` runs it.
//!
//! Exit codes: 0 every frame accounted for and every forwarded frame returned
//! intact; 1 a traffic failure (loss, corruption, misrouting) or a driver error;
//! 2 a bad option.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use oxnic_sim::cosim::{self, CosimError, Mode, Options};
use oxnic_sim::traffic::SizeSpec;
use oxnic_sim::{Clock, MemoryTiming};

#[derive(Parser, Debug)]
#[command(
    about = "Co-simulate the oxnic RTL (Verilator) with the oxnic driver under traffic",
    long_about = "Co-simulates the oxnic NIC core (the generated Verilog, compiled by Verilator) \
with the unchanged oxnic driver library: the driver opens the device, a traffic generator \
sends frames into the MAC side, every received frame is forwarded out of the same channel's TX \
queue and checked byte for byte when it leaves the NIC. At the end: a per-queue table and totals."
)]
struct Args {
    /// Channels (RX/TX queue pairs) to open.
    #[arg(long, default_value_t = 8)]
    queues: u16,
    /// Frames to send (ignored with --pcap-in).
    #[arg(long, default_value_t = 100_000)]
    packets: u64,
    /// Frame size: bytes without FCS (60..=9216), `imix` (7×60, 4×590, 1×1514) or `random`.
    #[arg(long, default_value = "imix")]
    size: SizeSpec,
    /// Number of flows (distinct 5-tuples; RSS spreads them over the queues).
    #[arg(long, default_value_t = 64)]
    flows: u32,
    /// NAPI mode: interrupt, busy-poll or threaded.
    #[arg(long, default_value = "interrupt")]
    mode: Mode,
    /// Device clock: threaded (free-running, races the driver) or lockstep
    /// (advances when the driver waits; reproducible from --seed).
    #[arg(long, default_value = "threaded", value_parser = parse_clock)]
    clock: Clock,
    /// NAPI weight (per-poll budget of each context).
    #[arg(long, default_value_t = 64)]
    weight: usize,
    /// Global budget of one net_rx_action run.
    #[arg(long, default_value_t = 300)]
    budget: usize,
    /// Interrupt moderation: minimum µs (device time) between interrupts of a queue.
    #[arg(long, default_value_t = 0)]
    rx_usecs: u16,
    /// Interrupt moderation: frames that end the interval early (0: off).
    #[arg(long, default_value_t = 0)]
    rx_frames: u16,
    /// Use at most this many MSI-X vectors, error vector included (fewer than
    /// queues + 1 makes queues share vectors and NAPI contexts).
    #[arg(long)]
    vectors: Option<u16>,
    /// Offered load, percent of the 64-bit MAC's line rate.
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// log2 of the RX and TX ring sizes.
    #[arg(long, default_value_t = 9)]
    ring: u32,
    /// Seed of traffic, memory stalls and the lockstep interleaving (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// Out of 256: probability that host memory stalls a handshake in a cycle.
    #[arg(long, default_value_t = 0)]
    mem_stalls: u32,
    /// Send the frames of this pcap file instead of generated ones.
    #[arg(long)]
    pcap_in: Option<PathBuf>,
    /// Write every frame the NIC transmits to this pcap file.
    #[arg(long)]
    pcap_out: Option<PathBuf>,
    /// Write an FST waveform of the run (open with GTKWave or Surfer).
    #[arg(long)]
    waves: Option<PathBuf>,
    /// Only cycles FROM:TO in the waveform.
    #[arg(long, value_parser = parse_window)]
    waves_window: Option<(u64, u64)>,
    /// Write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Give up when nothing moved for this many seconds.
    #[arg(long, default_value_t = 20)]
    stall_timeout: u64,
}

fn parse_clock(s: &str) -> Result<Clock, String> {
    match s {
        "threaded" => Ok(Clock::Threaded),
        "lockstep" => Ok(Clock::Lockstep),
        _ => Err(format!("{s:?}: expected threaded or lockstep")),
    }
}

fn parse_window(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?}: expected FROM:TO (cycles)"))?;
    let a: u64 = a
        .parse()
        .map_err(|_| format!("{a:?}: not a cycle number"))?;
    let b: u64 = b
        .parse()
        .map_err(|_| format!("{b:?}: not a cycle number"))?;
    Ok((a, b))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    if args.mem_stalls > 255 {
        eprintln!("oxnic-cosim: --mem-stalls {}: 0..=255", args.mem_stalls);
        return ExitCode::from(2);
    }
    let o = Options {
        queues: args.queues,
        packets: args.packets,
        size: args.size,
        flows: args.flows,
        mode: args.mode,
        clock: args.clock,
        weight: args.weight,
        budget: args.budget,
        rx_usecs: args.rx_usecs,
        rx_frames: args.rx_frames,
        max_vectors: args.vectors,
        seed,
        pcap_in: args.pcap_in.clone(),
        pcap_out: args.pcap_out.clone(),
        waves: args.waves.clone(),
        waves_window: args.waves_window,
        rate: args.rate,
        ring_log2: args.ring,
        timing: MemoryTiming {
            stall_per_256: args.mem_stalls,
            ..MemoryTiming::default()
        },
        progress: true,
        stall_timeout: Duration::from_secs(args.stall_timeout.max(1)),
        ..Options::default()
    };
    let clock = match o.clock {
        Clock::Threaded => "threaded",
        Clock::Lockstep => "lockstep",
    };
    eprintln!(
        "oxnic-cosim: {} queues (model: {} queues), {} frames, {:?} sizes, {} flows, {:?} mode, {clock} clock, seed {seed}",
        o.queues,
        cosim::model_of(&o),
        o.packets,
        o.size,
        o.flows,
        o.mode
    );
    let report = match cosim::run(&o) {
        Ok(r) => r,
        Err(e @ CosimError::BadOption(_)) => {
            eprintln!("oxnic-cosim: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("oxnic-cosim: {e}");
            return ExitCode::from(if matches!(e, CosimError::Pcap(_)) {
                2
            } else {
                1
            });
        }
    };
    print!("{}", report.table());
    if let Some(p) = &o.waves {
        println!("waveform: {}", p.display());
    }
    if let Some(p) = &o.pcap_out {
        println!(
            "transmitted frames: {} (open with wireshark or tshark -r)",
            p.display()
        );
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report.to_json()).expect("JSON of plain data");
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("oxnic-cosim: cannot write {}: {e}", path.display());
            return ExitCode::from(1);
        }
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "oxnic-cosim: FAILED — rerun with the same seed and a waveform: \
             ./scripts/cosim --seed {seed} --clock {clock} --waves /tmp/oxnic.fst [same options]"
        );
        ExitCode::from(1)
    }
}
