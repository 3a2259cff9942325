//! oxnic co-simulation: the generated RTL, compiled by Verilator 5.006, driven
//! from Rust.
//!
//! Layers, bottom up:
//! - `build.rs`: rust-hdl → Verilog → Verilator model (cached under `target/`,
//!   rebuilt only when the RTL changes) → C ABI shim in `csrc/` → static link;
//! - [`TopModel`]: the Verilated `oxnic_top`, one call per clock (`ffi` is the
//!   only unsafe surface besides host-memory access);
//! - [`SimDevice`]: the model with its bus models — BAR0 AXI4-Lite master, host
//!   memory behind an IOMMU model, the MSI window, the MAC streams ([`Mac`]);
//! - [`SimTransport`]: the driver's transport traits over a [`SimDevice`],
//!   behaving like vfio-pci, with a threaded or a lockstep clock;
//! - [`mac`]: MAC-side traffic — loopback, generator, pcap in/out;
//! - [`traffic`]: frames, the Toeplitz reference and the scoreboard.
//!
//! Also [`RssHashModel`], the Verilated `rss_hash` block on its own, used to check
//! the RSS engine at Verilator speed.
#![warn(missing_docs)]

pub mod cosim;
pub mod device;
mod ffi;
pub mod mac;
mod model;
pub mod traffic;
pub mod transport;

pub use device::{
    Mac, MacFrame, MemoryTiming, MsiStamps, NoMac, RegOp, SimCounters, SimDevice, MSI_BASE,
};
pub use ffi::{RssHashPorts, TopPorts};
pub use model::{
    model_for, model_queue_counts, model_vectors, TopModel, WaveError, DEFAULT_MODEL_QUEUES,
    MODEL_CLOCK_MHZ,
};
pub use transport::{Clock, SimConfig, SimTransport};

/// The Verilated `rss_hash` block; one [`RssHashModel::cycle`] call per clock.
pub struct RssHashModel {
    raw: std::ptr::NonNull<ffi::RawRssHash>,
}

// SAFETY: the model is a plain C++ object with no thread affinity; `&mut self`
// on every call keeps accesses exclusive.
unsafe impl Send for RssHashModel {}

impl RssHashModel {
    /// A new model, clock low, registers at their initial values.
    pub fn new() -> Self {
        // SAFETY: the shim allocates and returns a valid, owned model.
        let raw = unsafe { ffi::oxnic_rss_hash_new() };
        Self {
            raw: std::ptr::NonNull::new(raw).expect("oxnic_rss_hash_new returned null"),
        }
    }

    /// One clock cycle: `ports`' inputs are applied, its outputs are filled with
    /// the values sampled before the rising edge, then the edge happens.
    pub fn cycle(&mut self, ports: &mut RssHashPorts) {
        // SAFETY: `raw` is live (freed only in Drop) and `ports` is a valid,
        // exclusive `#[repr(C)]` struct matching the shim's layout.
        unsafe { ffi::oxnic_rss_hash_cycle(self.raw.as_ptr(), ports) }
    }

    /// Clock cycles run so far.
    pub fn cycles(&self) -> u64 {
        // SAFETY: `raw` is live.
        unsafe { ffi::oxnic_rss_hash_cycles(self.raw.as_ptr()) }
    }
}

impl Default for RssHashModel {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for RssHashModel {
    fn drop(&mut self) {
        // SAFETY: `raw` came from `oxnic_rss_hash_new` and is freed once, here.
        unsafe { ffi::oxnic_rss_hash_free(self.raw.as_ptr()) }
    }
}

/// Packs bytes (byte 0 first) into the model's 320-bit word layout: word 0 holds
/// bits 31:0, byte 0 lands in bits 319:312; missing bytes are zero.
pub fn pack320(bytes: &[u8]) -> [u32; 10] {
    assert!(bytes.len() <= 40);
    let mut padded = [0u8; 40];
    padded[..bytes.len()].copy_from_slice(bytes);
    let mut w = [0u32; 10];
    for (i, word) in w.iter_mut().enumerate() {
        // Bits 32i+31..32i hold bytes 39-4i-3 .. 39-4i, most significant first.
        let b = 40 - 4 * (i + 1);
        *word = u32::from_be_bytes([padded[b], padded[b + 1], padded[b + 2], padded[b + 3]]);
    }
    w
}
