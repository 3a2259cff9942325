//! oxnic-gen — generates the Verilog of an oxnic block.
//!
//! `oxnic-gen --block irq-latch --queues 8 -o irq_latch.v`

use clap::{Parser, ValueEnum};
use oxnic_hw::gen::{vector_bits, verilog};
use oxnic_hw::{
    with_queue_widths, with_vector_widths, AxilRegIf, Csr, IrqLatch, IrqModeration, IrqUnit, Msix,
    QueueState, RssHash,
};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum BlockName {
    /// The whole NIC core (DESIGN.md §2 ports): every block below, wired.
    OxnicTop,
    /// AXI4-Lite slave to register interface (BAR0 width).
    AxilRegIf,
    /// Global registers and BAR0 decoder.
    Csr,
    /// Per-queue interrupt arm/mask/latch.
    IrqLatch,
    /// Per-queue interrupt moderation (rx-usecs / rx-frames).
    IrqModeration,
    /// MSI-X table, PBA and function control.
    Msix,
    /// Interrupt path: moderation, arm/mask/latch, vector lookup, MSI-X, message write.
    IrqUnit,
    /// RX queue state and register window (`queue_state` at RX_QUEUE_BASE).
    RxQueue,
    /// TX queue state and register window (`queue_state` at TX_QUEUE_BASE).
    TxQueue,
    /// Toeplitz RSS hash engine (independent of the queue count).
    RssHash,
    /// Receive DMA engine: frame FIFO, RETA, descriptor, DMA write, completion, event.
    RxEngine,
    /// Receive parser: length checks, RSS tuple (independent of the queue count).
    RxParse,
    /// AXI4 DMA interconnect: rx, tx, msix clients to m_axi (independent of the queue count).
    DmaArb,
    /// Transmit engine: work list, descriptor fetch, frame DMA read, AXIS out, completion.
    TxEngine,
}

#[derive(Parser, Debug)]
#[command(about = "Generate oxnic Verilog from the rust-hdl sources")]
struct Args {
    /// Print the names of all blocks, one per line, and exit (scripts/lint-rtl
    /// and scripts/synth take their block list from here).
    #[arg(long)]
    list_blocks: bool,
    /// Which block to generate.
    #[arg(long, value_enum, default_value = "oxnic-top")]
    block: BlockName,
    /// Number of queues (per direction), 1..=1024.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=oxnic_regs::MAX_QUEUES as i64))]
    queues: u32,
    /// Number of MSI-X vectors (default: queues + 1, the extra one for errors).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=oxnic_regs::MAX_VECTORS as i64))]
    vectors: Option<u32>,
    /// Device clock in MHz (CLOCK_MHZ; moderation counts microseconds of it).
    #[arg(long, default_value_t = 156, value_parser = clap::value_parser!(u32).range(1..=1000))]
    clock_mhz: u32,
    /// Output file ("-" for standard output).
    #[arg(short = 'o', long, default_value = "-")]
    output: PathBuf,
}

// Every block with a queue-width generic is generated through the one width
// table, `oxnic_hw::with_queue_widths!`.

fn irq_latch(queues: u32) -> String {
    with_queue_widths!(queues, |QW, _QW1, _VW, _WW| verilog(
        &mut IrqLatch::<QW>::default(),
        "irq_latch"
    ))
}

fn msix(vectors: u32) -> String {
    with_vector_widths!(vectors, |VW, WW| verilog(
        &mut Msix::<VW, WW>::new(vectors),
        "msix"
    ))
}

fn irq_unit(queues: u32, vectors: u32, clock_mhz: u32) -> Result<String, String> {
    if u64::from(vectors) > 1u64 << vector_bits(queues) {
        return Err(format!(
            "--vectors {vectors}: at most {} with {queues} queues",
            1u64 << vector_bits(queues)
        ));
    }
    Ok(with_queue_widths!(queues, |QW, QW1, VW, WW| verilog(
        &mut IrqUnit::<QW, QW1, VW, WW>::new(vectors, clock_mhz),
        "irq_unit"
    )))
}

fn csr(queues: u32, vectors: u32, clock_mhz: u32) -> String {
    with_queue_widths!(queues, |QW, _QW1, _VW, _WW| verilog(
        &mut Csr::<QW>::new(queues, vectors, clock_mhz),
        "csr"
    ))
}

fn irq_moderation(queues: u32, clock_mhz: u32) -> String {
    with_queue_widths!(queues, |QW, _QW1, _VW, _WW| verilog(
        &mut IrqModeration::<QW>::new(clock_mhz),
        "irq_moderation"
    ))
}

fn queue_state(base: u32, name: &str, queues: u32, vectors: u32) -> String {
    with_queue_widths!(queues, |QW, _QW1, _VW, _WW| verilog(
        &mut QueueState::<QW>::new(base, queues, vectors),
        name
    ))
}

fn tx_engine(queues: u32) -> String {
    with_queue_widths!(queues, |QW, _QW1, _VW, _WW| verilog(
        &mut oxnic_hw::TxEngine::<QW>::new(),
        "tx_engine"
    ))
}

fn rx_engine(queues: u32) -> String {
    with_queue_widths!(queues, |QW, _QW1, _VW, _WW| verilog(
        &mut oxnic_hw::RxEngine::<QW>::new(),
        "rx_engine"
    ))
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.list_blocks {
        for b in BlockName::value_variants() {
            println!(
                "{}",
                b.to_possible_value()
                    .expect("no skipped variants")
                    .get_name()
            );
        }
        return ExitCode::SUCCESS;
    }
    let text = match args.block {
        BlockName::Csr => csr(
            args.queues,
            args.vectors.unwrap_or(args.queues + 1),
            args.clock_mhz,
        ),
        BlockName::IrqLatch => irq_latch(args.queues),
        BlockName::IrqModeration => irq_moderation(args.queues, args.clock_mhz),
        BlockName::AxilRegIf => verilog(
            &mut AxilRegIf::<{ oxnic_hw::msix::ADDR_BITS }>::default(),
            "axil_reg_if",
        ),
        BlockName::Msix => msix(args.vectors.unwrap_or(args.queues + 1)),
        BlockName::OxnicTop => match oxnic_hw::gen::oxnic_top(
            args.queues,
            args.vectors.unwrap_or(args.queues + 1),
            args.clock_mhz,
        ) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("oxnic-gen: {e}");
                return ExitCode::FAILURE;
            }
        },
        BlockName::IrqUnit => match irq_unit(
            args.queues,
            args.vectors.unwrap_or(args.queues + 1),
            args.clock_mhz,
        ) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("oxnic-gen: {e}");
                return ExitCode::FAILURE;
            }
        },
        BlockName::RxQueue => queue_state(
            oxnic_regs::RX_QUEUE_BASE,
            "rx_queue",
            args.queues,
            args.vectors.unwrap_or(args.queues + 1),
        ),
        BlockName::TxQueue => queue_state(
            oxnic_regs::TX_QUEUE_BASE,
            "tx_queue",
            args.queues,
            args.vectors.unwrap_or(args.queues + 1),
        ),
        BlockName::RssHash => verilog(&mut RssHash::default(), "rss_hash"),
        BlockName::RxEngine => rx_engine(args.queues),
        BlockName::RxParse => verilog(&mut oxnic_hw::RxParse::default(), "rx_parse"),
        BlockName::DmaArb => verilog(&mut oxnic_hw::DmaArb::default(), "dma_arb"),
        BlockName::TxEngine => tx_engine(args.queues),
    };
    if args.output.as_os_str() == "-" {
        print!("{text}");
    } else if let Err(e) = std::fs::write(&args.output, text) {
        eprintln!("oxnic-gen: cannot write {}: {e}", args.output.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
