//! The shims' C ABI (`csrc/*_shim.cpp`): the only unsafe surface of this crate.

/// Ports of the `rss_hash` model; layout shared with `csrc/rss_hash_shim.cpp`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RssHashPorts {
    /// Input: synchronous reset.
    pub rst: u8,
    /// Input: a tuple is offered.
    pub s_valid: u8,
    /// Input: the tuple's length in 64-bit chunks (1..=5).
    pub s_chunks: u8,
    /// Input: the tuple (see [`crate::pack320`]).
    pub s_tuple: [u32; 10],
    /// Input: the RSS key (see [`crate::pack320`]).
    pub key: [u32; 10],
    /// Output: the tuple is taken at this edge when `s_valid` is set.
    pub s_ready: u8,
    /// Output: `m_hash` is valid (one cycle).
    pub m_valid: u8,
    /// Output: the Toeplitz hash.
    pub m_hash: u32,
}

/// Opaque model handle.
#[repr(C)]
pub(crate) struct RawRssHash {
    _private: [u8; 0],
}

extern "C" {
    pub(crate) fn oxnic_rss_hash_new() -> *mut RawRssHash;
    pub(crate) fn oxnic_rss_hash_free(h: *mut RawRssHash);
    pub(crate) fn oxnic_rss_hash_cycle(h: *mut RawRssHash, p: *mut RssHashPorts);
    pub(crate) fn oxnic_rss_hash_cycles(h: *const RawRssHash) -> u64;
}

/// Ports of the `oxnic_top` model; field order and types match
/// `csrc/oxnic_top_shim.cpp` exactly (`#[repr(C)]`). Inputs first, then outputs;
/// the names are the RTL's port names (DESIGN.md §2).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
#[allow(missing_docs)]
pub struct TopPorts {
    // ---- inputs ----
    pub rst: u8,
    pub s_axil_awvalid: u8,
    pub s_axil_wvalid: u8,
    pub s_axil_bready: u8,
    pub s_axil_arvalid: u8,
    pub s_axil_rready: u8,
    pub s_axil_wstrb: u8,
    pub s_axil_awaddr: u32,
    pub s_axil_wdata: u32,
    pub s_axil_araddr: u32,
    pub m_axi_awready: u8,
    pub m_axi_wready: u8,
    pub m_axi_bvalid: u8,
    pub m_axi_bid: u8,
    pub m_axi_bresp: u8,
    pub m_axi_arready: u8,
    pub m_axi_rvalid: u8,
    pub m_axi_rid: u8,
    pub m_axi_rresp: u8,
    pub m_axi_rlast: u8,
    pub m_axi_rdata: u64,
    pub s_axis_rx_tdata: u64,
    pub s_axis_rx_tkeep: u8,
    pub s_axis_rx_tvalid: u8,
    pub s_axis_rx_tlast: u8,
    pub s_axis_rx_tuser: u8,
    pub m_axis_tx_tready: u8,
    // ---- outputs ----
    pub s_axil_awready: u8,
    pub s_axil_wready: u8,
    pub s_axil_bvalid: u8,
    pub s_axil_bresp: u8,
    pub s_axil_arready: u8,
    pub s_axil_rvalid: u8,
    pub s_axil_rresp: u8,
    pub s_axil_rdata: u32,
    pub m_axi_awvalid: u8,
    pub m_axi_awid: u8,
    pub m_axi_awlen: u8,
    pub m_axi_awsize: u8,
    pub m_axi_wvalid: u8,
    pub m_axi_wlast: u8,
    pub m_axi_wstrb: u8,
    pub m_axi_bready: u8,
    pub m_axi_arvalid: u8,
    pub m_axi_arid: u8,
    pub m_axi_arlen: u8,
    pub m_axi_arsize: u8,
    pub m_axi_rready: u8,
    pub m_axi_awaddr: u64,
    pub m_axi_wdata: u64,
    pub m_axi_araddr: u64,
    pub s_axis_rx_tready: u8,
    pub m_axis_tx_tdata: u64,
    pub m_axis_tx_tkeep: u8,
    pub m_axis_tx_tvalid: u8,
    pub m_axis_tx_tlast: u8,
    pub m_axis_tx_tuser: u8,
}

/// Opaque `oxnic_top` model handle.
#[repr(C)]
pub(crate) struct RawTop {
    _private: [u8; 0],
}

/// The C functions of one linked `oxnic_top` model (`csrc/oxnic_top_shim.cpp`
/// compiled with that model's suffix).
pub(crate) struct ModelFns {
    pub new: unsafe extern "C" fn() -> *mut RawTop,
    pub free: unsafe extern "C" fn(*mut RawTop),
    pub cycle: unsafe extern "C" fn(*mut RawTop, *mut TopPorts),
    pub cycles: unsafe extern "C" fn(*const RawTop) -> u64,
    pub trace_open: unsafe extern "C" fn(*mut RawTop, *const std::ffi::c_char) -> i32,
    pub dump: unsafe extern "C" fn(*mut RawTop, i32),
    pub trace_close: unsafe extern "C" fn(*mut RawTop),
    /// `sizeof(oxnic_top_ports)`, to check the layouts agree.
    pub ports_size: unsafe extern "C" fn() -> usize,
}

/// A linked model: its generation parameters and functions.
pub(crate) struct ModelEntry {
    pub queues: u32,
    pub vectors: u32,
    pub fns: ModelFns,
}

// `extern "C"` declarations of every model's functions and the MODELS table,
// written by build.rs.
include!(concat!(env!("OUT_DIR"), "/models.rs"));
