//! [`TopModel`]: the Verilated `oxnic_top`, one [`TopModel::cycle`] per clock.

use std::ffi::CString;
use std::path::Path;
use std::ptr::NonNull;

use crate::ffi::{self, TopPorts};

/// Queue count the linked model was generated with (`OXNIC_SIM_QUEUES` at build
/// time, default 8).
pub const MODEL_QUEUES: u32 = parse_u32(env!("OXNIC_SIM_QUEUES"));
/// MSI-X vectors of the linked model (queues + 1: the last one is free for errors).
pub const MODEL_VECTORS: u32 = parse_u32(env!("OXNIC_SIM_VECTORS"));
/// Device clock of the linked model in MHz (what `CLOCK_MHZ` reads).
pub const MODEL_CLOCK_MHZ: u32 = parse_u32(env!("OXNIC_SIM_CLOCK_MHZ"));

const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v = 0u32;
    while i < b.len() {
        assert!(b[i].is_ascii_digit());
        v = v * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    v
}

/// Why a waveform could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum WaveError {
    /// A waveform is already being written.
    #[error("a waveform is already open")]
    AlreadyOpen,
    /// The path has a NUL byte or is not UTF-8.
    #[error("waveform path {0:?} is not a valid C string")]
    BadPath(String),
    /// Verilator's FST writer could not create the file.
    #[error("cannot create waveform file {0:?}")]
    Create(String),
}

/// The Verilated `oxnic_top` (DESIGN.md §2 ports).
pub struct TopModel {
    raw: NonNull<ffi::RawTop>,
}

// SAFETY: the model is a plain C++ object with no thread affinity (Verilator is
// built without --threads); every method takes `&mut self` or only reads a
// counter, so accesses are never concurrent.
unsafe impl Send for TopModel {}

impl TopModel {
    /// A new model: clock low, registers at their initial values (assert `rst`
    /// for a cycle to get the documented reset state).
    pub fn new() -> Self {
        // SAFETY: a pure function of the shim's struct definition.
        let size = unsafe { ffi::oxnic_top_ports_size() };
        assert_eq!(
            size,
            std::mem::size_of::<TopPorts>(),
            "sim/src/ffi.rs TopPorts and csrc/oxnic_top_shim.cpp disagree"
        );
        // SAFETY: the shim allocates and returns a valid, owned model.
        let raw = unsafe { ffi::oxnic_top_new() };
        Self {
            raw: NonNull::new(raw).expect("oxnic_top_new returned null"),
        }
    }

    /// One clock cycle: `ports`' inputs are applied, its outputs are set to the
    /// values sampled just before the rising edge, then the edge happens.
    #[inline]
    pub fn cycle(&mut self, ports: &mut TopPorts) {
        // SAFETY: `raw` is live (freed only in Drop) and `ports` is a valid,
        // exclusive `#[repr(C)]` struct whose layout the constructor checked.
        unsafe { ffi::oxnic_top_cycle(self.raw.as_ptr(), ports) }
    }

    /// Clock cycles run so far.
    pub fn cycles(&self) -> u64 {
        // SAFETY: `raw` is live.
        unsafe { ffi::oxnic_top_cycles(self.raw.as_ptr()) }
    }

    /// Opens an FST waveform at `path`; nothing is written until
    /// [`TopModel::dump`] turns dumping on.
    pub fn trace_open(&mut self, path: &Path) -> Result<(), WaveError> {
        let s = path.to_string_lossy().into_owned();
        let c = CString::new(s.clone()).map_err(|_| WaveError::BadPath(s.clone()))?;
        // SAFETY: `raw` is live, `c` is a NUL-terminated string that outlives
        // the call (the writer copies the name).
        match unsafe { ffi::oxnic_top_trace_open(self.raw.as_ptr(), c.as_ptr()) } {
            0 => Ok(()),
            -1 => Err(WaveError::AlreadyOpen),
            _ => Err(WaveError::Create(s)),
        }
    }

    /// Starts or stops writing value changes to the open waveform (a no-op
    /// without one).
    pub fn dump(&mut self, on: bool) {
        // SAFETY: `raw` is live.
        unsafe { ffi::oxnic_top_dump(self.raw.as_ptr(), on as i32) }
    }

    /// Flushes and closes the waveform, if one is open.
    pub fn trace_close(&mut self) {
        // SAFETY: `raw` is live.
        unsafe { ffi::oxnic_top_trace_close(self.raw.as_ptr()) }
    }
}

impl Default for TopModel {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TopModel {
    fn drop(&mut self) {
        // SAFETY: `raw` came from `oxnic_top_new` and is freed once, here.
        unsafe { ffi::oxnic_top_free(self.raw.as_ptr()) }
    }
}
