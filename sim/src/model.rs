//! [`TopModel`]: the Verilated `oxnic_top`, one [`TopModel::cycle`] per clock.

use std::ffi::CString;
use std::path::Path;
use std::ptr::NonNull;

use crate::ffi::{self, TopPorts};

/// Device clock of every linked model in MHz (what `CLOCK_MHZ` reads).
pub const MODEL_CLOCK_MHZ: u32 = parse_u32(env!("OXNIC_SIM_CLOCK_MHZ"));

/// The model the co-simulation uses unless told otherwise (8 queues).
pub const DEFAULT_MODEL_QUEUES: u32 = 8;

/// Queue counts of the linked `oxnic_top` models (1, 8, 64, and
/// `OXNIC_SIM_QUEUES` at build time if set), ascending.
pub fn model_queue_counts() -> Vec<u32> {
    let mut v: Vec<u32> = ffi::MODELS.iter().map(|m| m.queues).collect();
    v.sort_unstable();
    v
}

/// The model to open `channels` channels on: the default (8 queues) when it is
/// large enough, else the smallest linked model that is.
pub fn model_for(channels: u32) -> Option<u32> {
    if channels <= DEFAULT_MODEL_QUEUES {
        return Some(DEFAULT_MODEL_QUEUES);
    }
    model_queue_counts().into_iter().find(|&q| q >= channels)
}

/// MSI-X vectors of the linked model with `queues` queues (queues + 1).
pub fn model_vectors(queues: u32) -> Option<u32> {
    ffi::MODELS
        .iter()
        .find(|m| m.queues == queues)
        .map(|m| m.vectors)
}

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

/// The Verilated `oxnic_top` (DESIGN.md §2 ports), at one of the linked queue
/// counts.
pub struct TopModel {
    raw: NonNull<ffi::RawTop>,
    fns: &'static ffi::ModelFns,
    queues: u32,
    vectors: u32,
}

// SAFETY: the model is a plain C++ object with no thread affinity (Verilator is
// built without --threads); every method takes `&mut self` or only reads a
// counter, so accesses are never concurrent.
unsafe impl Send for TopModel {}

impl TopModel {
    /// A new model of the core generated for `queues` queues (one of
    /// [`model_queue_counts`]): clock low, registers at their initial values
    /// (assert `rst` for a cycle to get the documented reset state).
    pub fn new(queues: u32) -> Option<Self> {
        let m = ffi::MODELS.iter().find(|m| m.queues == queues)?;
        let fns = &m.fns;
        // SAFETY: a pure function of the shim's struct definition.
        let size = unsafe { (fns.ports_size)() };
        assert_eq!(
            size,
            std::mem::size_of::<TopPorts>(),
            "sim/src/ffi.rs TopPorts and csrc/oxnic_top_shim.cpp disagree"
        );
        // SAFETY: the shim allocates and returns a valid, owned model.
        let raw = unsafe { (fns.new)() };
        Some(Self {
            raw: NonNull::new(raw).expect("oxnic_top_new returned null"),
            fns,
            queues: m.queues,
            vectors: m.vectors,
        })
    }

    /// Queues per direction the model was generated with.
    pub fn queues(&self) -> u32 {
        self.queues
    }

    /// Its MSI-X vectors.
    pub fn vectors(&self) -> u32 {
        self.vectors
    }

    /// One clock cycle: `ports`' inputs are applied, its outputs are set to the
    /// values sampled just before the rising edge, then the edge happens.
    #[inline]
    pub fn cycle(&mut self, ports: &mut TopPorts) {
        // SAFETY: `raw` is live (freed only in Drop) and `ports` is a valid,
        // exclusive `#[repr(C)]` struct whose layout the constructor checked.
        unsafe { (self.fns.cycle)(self.raw.as_ptr(), ports) }
    }

    /// Clock cycles run so far.
    pub fn cycles(&self) -> u64 {
        // SAFETY: `raw` is live.
        unsafe { (self.fns.cycles)(self.raw.as_ptr()) }
    }

    /// Opens an FST waveform at `path`; nothing is written until
    /// [`TopModel::dump`] turns dumping on.
    pub fn trace_open(&mut self, path: &Path) -> Result<(), WaveError> {
        let s = path.to_string_lossy().into_owned();
        let c = CString::new(s.clone()).map_err(|_| WaveError::BadPath(s.clone()))?;
        // SAFETY: `raw` is live, `c` is a NUL-terminated string that outlives
        // the call (the writer copies the name).
        match unsafe { (self.fns.trace_open)(self.raw.as_ptr(), c.as_ptr()) } {
            0 => Ok(()),
            -1 => Err(WaveError::AlreadyOpen),
            _ => Err(WaveError::Create(s)),
        }
    }

    /// Starts or stops writing value changes to the open waveform (a no-op
    /// without one).
    pub fn dump(&mut self, on: bool) {
        // SAFETY: `raw` is live.
        unsafe { (self.fns.dump)(self.raw.as_ptr(), on as i32) }
    }

    /// Flushes and closes the waveform, if one is open.
    pub fn trace_close(&mut self) {
        // SAFETY: `raw` is live.
        unsafe { (self.fns.trace_close)(self.raw.as_ptr()) }
    }
}

impl Drop for TopModel {
    fn drop(&mut self) {
        // SAFETY: `raw` came from `oxnic_top_new` and is freed once, here.
        unsafe { (self.fns.free)(self.raw.as_ptr()) }
    }
}
