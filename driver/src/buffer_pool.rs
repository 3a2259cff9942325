//! Packet buffers: a pool of fixed-size buffers carved from one [`DmaRegion`],
//! and [`PacketBuf`], the handle that owns one buffer and returns it when dropped.
//!
//! One region for the whole pool (not one allocation per buffer): the arena's
//! allocator is for few, long-lived regions, and the IOMMU mapping is the arena's.
//! Buffers are `buf_size` bytes apart, each aligned to 64 bytes in IOVA space
//! (`buf_size` is a multiple of 64), so the device's bursts start on a cache line.
//!
//! The free list is a mutex-protected stack of buffer indices: a NAPI poll takes
//! buffers on one thread while the application may drop packets on others. Batch
//! allocation ([`BufferPool::alloc_batch`]) takes the lock once per refill.
//!
//! Buffer bytes are device-shared memory: they are only reached through the
//! region's volatile accessors ([`PacketBuf::read`], [`PacketBuf::write`], ...),
//! never through a Rust reference.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{Error, Result};
use crate::transport::{DmaMemory, DmaRegion};

/// Default buffer size: a 1514-byte frame fits, with room for the device's bursts.
pub const DEFAULT_BUF_SIZE: usize = 2048;
/// Buffer alignment (and `buf_size` granularity), in bytes.
pub const BUF_ALIGN: usize = 64;
/// Largest buffer size: the descriptors' LEN field is 16 bits wide.
pub const MAX_BUF_SIZE: usize = 0x1_0000 - BUF_ALIGN;

struct PoolInner {
    region: DmaRegion,
    buf_size: usize,
    count: usize,
    free: Mutex<Vec<u32>>,
    alloc_failures: AtomicU64,
}

impl PoolInner {
    fn free_list(&self) -> MutexGuard<'_, Vec<u32>> {
        self.free.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn offset(&self, index: u32) -> usize {
        index as usize * self.buf_size
    }
}

/// A snapshot of a pool's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Buffers in the pool.
    pub capacity: usize,
    /// Buffers free now.
    pub free: usize,
    /// Allocations that found the pool empty.
    pub alloc_failures: u64,
}

/// A pool of fixed-size DMA buffers. Cheap to clone (a shared handle); the memory
/// lives until the pool and every [`PacketBuf`] from it are dropped.
#[derive(Clone)]
pub struct BufferPool {
    inner: Arc<PoolInner>,
}

impl fmt::Debug for BufferPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferPool")
            .field("iova", &format_args!("{:#x}", self.inner.region.iova()))
            .field("buf_size", &self.inner.buf_size)
            .field("count", &self.inner.count)
            .field("free", &self.free_count())
            .finish()
    }
}

impl BufferPool {
    /// Carves `count` buffers of `buf_size` bytes from one region of `dma`'s arena.
    ///
    /// `buf_size` must be a non-zero multiple of [`BUF_ALIGN`] no larger than
    /// [`MAX_BUF_SIZE`]; `count` must be in `1..=u32::MAX`. Fails with
    /// [`Error::InvalidConfig`] otherwise, or with the arena's error when it has
    /// no room.
    pub fn new(dma: &dyn DmaMemory, count: usize, buf_size: usize) -> Result<Self> {
        if buf_size == 0 || buf_size % BUF_ALIGN != 0 || buf_size > MAX_BUF_SIZE {
            return Err(Error::InvalidConfig(format!(
                "buffer size {buf_size} must be a non-zero multiple of {BUF_ALIGN} \
                 no larger than {MAX_BUF_SIZE}"
            )));
        }
        if count == 0 || count > u32::MAX as usize {
            return Err(Error::InvalidConfig(format!(
                "buffer count {count} must be between 1 and {}",
                u32::MAX
            )));
        }
        let size = count.checked_mul(buf_size).ok_or_else(|| {
            Error::InvalidConfig(format!("{count} buffers of {buf_size} bytes overflow"))
        })?;
        let region = dma.alloc_dma(size, BUF_ALIGN)?;
        // Stack order: index 0 is handed out first (easier to read in traces).
        let free = (0..count as u32).rev().collect();
        Ok(Self {
            inner: Arc::new(PoolInner {
                region,
                buf_size,
                count,
                free: Mutex::new(free),
                alloc_failures: AtomicU64::new(0),
            }),
        })
    }

    /// Size of every buffer in bytes.
    pub fn buf_size(&self) -> usize {
        self.inner.buf_size
    }

    /// Number of buffers in the pool.
    pub fn capacity(&self) -> usize {
        self.inner.count
    }

    /// Number of buffers free now.
    pub fn free_count(&self) -> usize {
        self.inner.free_list().len()
    }

    /// True when every buffer is back in the pool (nothing leaked or in flight).
    pub fn is_full(&self) -> bool {
        self.free_count() == self.inner.count
    }

    /// Counters snapshot.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            capacity: self.inner.count,
            free: self.free_count(),
            alloc_failures: self.inner.alloc_failures.load(Ordering::Relaxed),
        }
    }

    /// IOVA of the pool's first byte (buffer `i` is at `iova + i * buf_size`).
    pub fn iova(&self) -> u64 {
        self.inner.region.iova()
    }

    /// Takes one buffer (length 0), or `None` when the pool is empty.
    pub fn alloc(&self) -> Option<PacketBuf> {
        let index = self.inner.free_list().pop();
        match index {
            Some(index) => Some(self.handle(index)),
            None => {
                self.inner.alloc_failures.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Takes up to `n` buffers with one lock, appending them to `out`; returns how
    /// many were taken (fewer than `n` when the pool runs out).
    pub fn alloc_batch(&self, n: usize, out: &mut Vec<PacketBuf>) -> usize {
        let indices: Vec<u32> = {
            let mut free = self.inner.free_list();
            let take = n.min(free.len());
            let at = free.len() - take;
            free.split_off(at)
        };
        if indices.len() < n {
            self.inner.alloc_failures.fetch_add(1, Ordering::Relaxed);
        }
        let taken = indices.len();
        out.extend(indices.into_iter().rev().map(|i| self.handle(i)));
        taken
    }

    fn handle(&self, index: u32) -> PacketBuf {
        PacketBuf {
            pool: self.inner.clone(),
            index,
            len: 0,
        }
    }
}

/// One buffer of a [`BufferPool`] with the length of the data in it; returns the
/// buffer to its pool when dropped (on any thread).
///
/// The bytes are device-shared memory and are reached only through volatile
/// copies. A `PacketBuf` posted to a ring is owned by the ring until the device
/// completes it, so the application never holds a buffer the device may write.
pub struct PacketBuf {
    pool: Arc<PoolInner>,
    index: u32,
    len: usize,
}

impl fmt::Debug for PacketBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketBuf")
            .field("iova", &format_args!("{:#x}", self.iova()))
            .field("len", &self.len)
            .finish()
    }
}

impl Drop for PacketBuf {
    fn drop(&mut self) {
        self.pool.free_list().push(self.index);
    }
}

impl PacketBuf {
    /// IOVA of the buffer's first byte: what a descriptor carries.
    pub fn iova(&self) -> u64 {
        self.pool.region.iova() + self.pool.offset(self.index) as u64
    }

    /// The buffer's size in bytes.
    pub fn capacity(&self) -> usize {
        self.pool.buf_size
    }

    /// Length of the data (a received frame's length, or what was written).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the length is 0.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sets the data length. Panics if `len` exceeds [`capacity`](Self::capacity).
    #[track_caller]
    pub fn set_len(&mut self, len: usize) {
        assert!(
            len <= self.capacity(),
            "packet length {len} exceeds the buffer size {}",
            self.capacity()
        );
        self.len = len;
    }

    /// Volatile copy of `buf.len()` bytes at `offset` of the buffer into `buf`.
    /// Panics if the range is outside the buffer (not merely outside `len`).
    #[track_caller]
    pub fn read(&self, offset: usize, buf: &mut [u8]) {
        self.check(offset, buf.len());
        self.pool
            .region
            .read_bytes(self.pool.offset(self.index) + offset, buf);
    }

    /// Volatile copy of `data` to `offset` of the buffer (the length is not
    /// changed). Panics if the range is outside the buffer.
    #[track_caller]
    pub fn write(&mut self, offset: usize, data: &[u8]) {
        self.check(offset, data.len());
        self.pool
            .region
            .write_bytes(self.pool.offset(self.index) + offset, data);
    }

    /// Replaces the contents with `data` and sets the length. Panics if `data` is
    /// larger than the buffer.
    #[track_caller]
    pub fn copy_from_slice(&mut self, data: &[u8]) {
        self.write(0, data);
        self.len = data.len();
    }

    /// Copies the first `len` bytes out into `out` (which must be at least that
    /// long); returns `len`.
    #[track_caller]
    pub fn copy_to_slice(&self, out: &mut [u8]) -> usize {
        self.read(0, &mut out[..self.len]);
        self.len
    }

    /// The data (`len` bytes) as a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0; self.len];
        self.read(0, &mut v);
        v
    }

    #[track_caller]
    fn check(&self, offset: usize, len: usize) {
        assert!(
            offset
                .checked_add(len)
                .is_some_and(|e| e <= self.capacity()),
            "access {offset}+{len} outside the {}-byte packet buffer",
            self.capacity()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{DmaArena, HugePages};

    struct Mem(DmaArena);
    impl DmaMemory for Mem {
        fn dma_arena(&self) -> &DmaArena {
            &self.0
        }
    }

    fn mem() -> Mem {
        Mem(DmaArena::new(1 << 20, 0x1_0000_0000, HugePages::Never).unwrap())
    }

    #[test]
    fn alloc_and_drop_return_buffers() {
        let m = mem();
        let pool = BufferPool::new(&m, 8, 2048).unwrap();
        let a = pool.alloc().unwrap();
        let b = pool.alloc().unwrap();
        assert_eq!(a.iova(), pool.iova());
        assert_eq!(b.iova(), pool.iova() + 2048);
        assert_eq!(pool.free_count(), 6);
        let mut v = Vec::new();
        assert_eq!(pool.alloc_batch(10, &mut v), 6);
        assert!(pool.alloc().is_none());
        assert_eq!(pool.stats().alloc_failures, 2);
        drop((a, b, v));
        assert!(pool.is_full());
    }

    #[test]
    fn copy_in_and_out() {
        let m = mem();
        let pool = BufferPool::new(&m, 2, 128).unwrap();
        let mut p = pool.alloc().unwrap();
        p.copy_from_slice(b"hello");
        assert_eq!(p.len(), 5);
        assert_eq!(p.to_vec(), b"hello");
        let mut out = [0u8; 8];
        assert_eq!(p.copy_to_slice(&mut out), 5);
        assert_eq!(&out[..5], b"hello");
    }

    #[test]
    fn rejects_bad_sizes() {
        let m = mem();
        assert!(BufferPool::new(&m, 1, 100).is_err());
        assert!(BufferPool::new(&m, 0, 64).is_err());
        assert!(BufferPool::new(&m, 1, 0x1_0000).is_err());
        assert!(
            BufferPool::new(&m, 1 << 20, 2048).is_err(),
            "arena too small"
        );
    }

    #[test]
    #[should_panic(expected = "outside")]
    fn write_outside_panics() {
        let m = mem();
        let pool = BufferPool::new(&m, 1, 64).unwrap();
        pool.alloc().unwrap().write(60, &[0; 8]);
    }
}
