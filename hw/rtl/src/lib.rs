//! oxnic RTL, written in rust-hdl and generated to Verilog by `oxnic-gen`.
//!
//! One block per module, named as its testbench (`tb/<block>/`) and its driver
//! counterpart. Every block has a synchronous, active-high `rst` and a `clk`;
//! ports are flat and prefixed (`s_*` slave/sink, `m_*` master/source) so that
//! cocotbext-axi and the co-simulation bind them by name.
//!
//! Register offsets and field positions come from `oxnic-regs`, never from here.
#![warn(missing_docs)]

pub mod axil_reg_if;
pub mod csr;
pub mod dma_arb;
pub mod gen;
pub mod irq_latch;
pub mod irq_moderation;
pub mod irq_unit;
pub mod msix;
pub mod oxnic_top;
pub mod queue_state;
pub mod rss_hash;
pub mod rx_engine;
pub mod rx_parse;
pub mod tx_engine;

pub use axil_reg_if::AxilRegIf;
pub use csr::Csr;
pub use dma_arb::DmaArb;
pub use irq_latch::IrqLatch;
pub use irq_moderation::IrqModeration;
pub use irq_unit::IrqUnit;
pub use msix::Msix;
pub use oxnic_top::OxnicTop;
pub use queue_state::QueueState;
pub use rss_hash::RssHash;
pub use rx_engine::RxEngine;
pub use rx_parse::RxParse;
pub use tx_engine::TxEngine;
