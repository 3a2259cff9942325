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
