//! The DMA arena: one block of host memory the device reaches by IOVA, and the
//! regions (rings, buffers) carved from it.
//!
//! Memory shared with a device is never accessed through Rust references (`&T`,
//! `&mut [u8]`): the device writes it at any time, which a reference would make
//! undefined behaviour. [`DmaRegion`] offers volatile, bounds-checked accessors
//! (through vm-memory's `VolatileMemory`) and the ordering fences
//! [`dma_rmb`]/[`dma_wmb`] instead.
//!
//! # Allocator
//!
//! A first-fit free list over *offsets*, with its bookkeeping outside the arena,
//! merging neighbours on free. Allocations are few and long-lived (one per ring,
//! one per buffer pool), so first fit is enough. General-purpose allocator crates
//! (`linked_list_allocator`, `buddy_system_allocator`, ...) keep their free-list
//! nodes *inside* the managed memory and hand out pointers: that would put
//! allocator metadata into device-writable memory and create references into it.

use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::atomic::{fence, Ordering};
use std::sync::{Arc, Mutex};

use vm_memory::mmap::{MmapRegion, MmapRegionBuilder};
use vm_memory::VolatileMemory;

use crate::error::{Error, Result};

/// Size of a huge page (x86-64 default, 2 MiB).
const HUGE_PAGE: usize = 2 << 20;
/// Size of a normal page.
const PAGE: usize = 4096;

/// Whether the arena is backed by huge pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HugePages {
    /// Try 2 MiB huge pages (fewer IOMMU page-table entries and TLB misses), fall
    /// back to normal pages when none are reserved (`/proc/sys/vm/nr_hugepages`).
    #[default]
    Try,
    /// Huge pages or fail.
    Require,
    /// Normal pages only.
    Never,
}

/// Orders earlier reads of DMA memory before later ones: call after seeing a
/// completion's phase bit and before reading the rest of the completion.
#[inline]
pub fn dma_rmb() {
    fence(Ordering::Acquire);
}

/// Orders earlier writes to DMA memory before later writes (to DMA memory or to a
/// doorbell register): call after filling descriptors and before the doorbell.
#[inline]
pub fn dma_wmb() {
    fence(Ordering::Release);
}

/// Full barrier between DMA memory / register accesses.
#[inline]
pub fn dma_mb() {
    fence(Ordering::SeqCst);
}

struct Inner {
    mem: MmapRegion,
    iova_base: u64,
    huge: bool,
    /// Free runs: offset → length, disjoint and non-adjacent.
    free: Mutex<BTreeMap<usize, usize>>,
}

impl Inner {
    fn release(&self, offset: usize, len: usize) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let (mut start, mut len) = (offset, len);
        if let Some((&p, &plen)) = free.range(..start).next_back() {
            if p + plen == start {
                free.remove(&p);
                start = p;
                len += plen;
            }
        }
        if let Some(&nlen) = free.get(&(start + len)) {
            free.remove(&(start + len));
            len += nlen;
        }
        free.insert(start, len);
    }
}

/// One block of host memory, mapped for the device at [`DmaArena::iova_base`].
///
/// Cheap to clone (a shared handle). The memory lives until the last clone and the
/// last [`DmaRegion`] are dropped; the transport that maps it for the device removes
/// the IOMMU mapping when *it* is dropped, so a region that outlives its transport
/// stays valid memory but is no longer reachable by the device.
#[derive(Clone)]
pub struct DmaArena {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for DmaArena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmaArena")
            .field("iova_base", &format_args!("{:#x}", self.inner.iova_base))
            .field("len", &self.len())
            .field("huge_pages", &self.inner.huge)
            .field("free", &self.free_bytes())
            .finish()
    }
}

impl DmaArena {
    /// Allocates an arena of `len` bytes (rounded up to the page size) for IOVA
    /// `iova_base` (4 KiB aligned; 2 MiB aligned is better with huge pages). The
    /// memory is anonymous, shared (so a `fork` does not turn it copy-on-write) and
    /// zeroed. It is not `mlock`ed: the IOMMU mapping pins it, and pinning already
    /// counts against `RLIMIT_MEMLOCK` (locking it too would count it twice).
    pub fn new(len: usize, iova_base: u64, huge: HugePages) -> Result<Self> {
        if len == 0 {
            return Err(Error::InvalidConfig(
                "the DMA arena size must be > 0".into(),
            ));
        }
        if iova_base % PAGE as u64 != 0 {
            return Err(Error::InvalidConfig(format!(
                "the DMA arena IOVA base {iova_base:#x} must be 4 KiB aligned"
            )));
        }
        let base_flags = libc::MAP_SHARED | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE;
        // Huge pages WITHOUT MAP_NORESERVE: with it, mmap succeeds even when the
        // hugetlb pool is empty, and the first fault (or VFIO_IOMMU_MAP_DMA's
        // pinning, which then fails with EFAULT) finds no page. Without it, mmap
        // reserves the pages up front and fails with ENOMEM, so `Try` falls back.
        let huge_flags = libc::MAP_SHARED | libc::MAP_ANONYMOUS | libc::MAP_HUGETLB;
        let build = |len: usize, flags: i32| {
            MmapRegionBuilder::new(len)
                .with_mmap_prot(libc::PROT_READ | libc::PROT_WRITE)
                .with_mmap_flags(flags)
                .with_hugetlbfs(flags & libc::MAP_HUGETLB != 0)
                .build()
        };
        let huge_len = len.div_ceil(HUGE_PAGE) * HUGE_PAGE;
        let (mem, is_huge) = match huge {
            HugePages::Never => (build(len.div_ceil(PAGE) * PAGE, base_flags), false),
            HugePages::Require => (build(huge_len, huge_flags), true),
            HugePages::Try => match build(huge_len, huge_flags) {
                Ok(m) => (Ok(m), true),
                Err(_) => (build(len.div_ceil(PAGE) * PAGE, base_flags), false),
            },
        };
        let mem = mem.map_err(|e| Error::ArenaAlloc {
            size: len,
            source: match e {
                vm_memory::mmap::MmapRegionError::Mmap(io) => io,
                other => std::io::Error::other(other.to_string()),
            },
        })?;
        let size = mem.size();
        let mut free = BTreeMap::new();
        free.insert(0, size);
        tracing::debug!(size, huge = is_huge, iova_base, "DMA arena allocated");
        Ok(DmaArena {
            inner: Arc::new(Inner {
                mem,
                iova_base,
                huge: is_huge,
                free: Mutex::new(free),
            }),
        })
    }

    /// The arena's IOVA (the address the device uses for its first byte).
    pub fn iova_base(&self) -> u64 {
        self.inner.iova_base
    }

    /// The arena's size in bytes.
    pub fn len(&self) -> usize {
        self.inner.mem.size()
    }

    /// Always false: an arena is never empty.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The host address of the arena's first byte. Only for raw, volatile use
    /// (e.g. passing it to `VFIO_IOMMU_MAP_DMA`); never make a reference from it.
    pub fn host_base(&self) -> *mut u8 {
        self.inner.mem.as_ptr()
    }

    /// True when the arena is backed by huge pages.
    pub fn is_huge_pages(&self) -> bool {
        self.inner.huge
    }

    /// Bytes not allocated (possibly fragmented).
    pub fn free_bytes(&self) -> usize {
        let free = self.inner.free.lock().unwrap_or_else(|e| e.into_inner());
        free.values().sum()
    }

    /// Allocates `size` bytes aligned to `align` (a power of two, in IOVA space —
    /// the arena base is page aligned so host alignment is the same up to 4 KiB, and
    /// up to 2 MiB with huge pages). The region is zeroed.
    pub fn alloc(&self, size: usize, align: usize) -> Result<DmaRegion> {
        if size == 0 || !align.is_power_of_two() {
            return Err(Error::InvalidDmaRequest { size, align });
        }
        let mut free = self.inner.free.lock().unwrap_or_else(|e| e.into_inner());
        let base = self.inner.iova_base;
        let mut found = None;
        for (&start, &len) in free.iter() {
            // Align the IOVA, not just the offset.
            let iova = base + start as u64;
            let aligned = iova.checked_next_multiple_of(align as u64);
            let Some(aligned) = aligned else { continue };
            let pad = (aligned - iova) as usize;
            if pad.checked_add(size).is_some_and(|need| need <= len) {
                found = Some((start, len, pad));
                break;
            }
        }
        let Some((start, len, pad)) = found else {
            let total = free.values().sum();
            return Err(Error::ArenaExhausted {
                size,
                align,
                free: total,
            });
        };
        free.remove(&start);
        if pad > 0 {
            free.insert(start, pad);
        }
        let tail = len - pad - size;
        if tail > 0 {
            free.insert(start + pad + size, tail);
        }
        drop(free);
        let region = DmaRegion {
            arena: self.inner.clone(),
            offset: start + pad,
            len: size,
        };
        region.fill(0);
        Ok(region)
    }

    /// Host address of `len` bytes at `iova`, if they lie inside the arena.
    pub fn iova_to_host(&self, iova: u64, len: usize) -> Option<*mut u8> {
        let off = iova.checked_sub(self.inner.iova_base)?;
        let end = off.checked_add(len as u64)?;
        if end > self.len() as u64 {
            return None;
        }
        // Pointer arithmetic only (wrapping_add is safe); the result is in bounds.
        Some(self.host_base().wrapping_add(off as usize))
    }

    /// IOVA of host address `host`, if it lies inside the arena.
    pub fn host_to_iova(&self, host: *const u8) -> Option<u64> {
        let base = self.host_base() as usize;
        let off = (host as usize).checked_sub(base)?;
        (off < self.len()).then(|| self.inner.iova_base + off as u64)
    }
}

/// A coherent, aligned piece of a [`DmaArena`]: a ring, a buffer pool.
///
/// Returned to the arena when dropped. All accessors are volatile and
/// bounds-checked; they panic (like slice indexing) on an offset outside the region
/// or a misaligned one. Multi-byte values are little-endian, as the device's
/// descriptor formats are.
pub struct DmaRegion {
    arena: Arc<Inner>,
    offset: usize,
    len: usize,
}

impl std::fmt::Debug for DmaRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmaRegion")
            .field("iova", &format_args!("{:#x}", self.iova()))
            .field("len", &self.len)
            .finish()
    }
}

impl Drop for DmaRegion {
    fn drop(&mut self) {
        self.arena.release(self.offset, self.len);
    }
}

impl DmaRegion {
    /// The IOVA of the region's first byte: what the device is told.
    pub fn iova(&self) -> u64 {
        self.arena.iova_base + self.offset as u64
    }

    /// The region's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: regions are never empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The host address of the region's first byte, for raw volatile use only.
    pub fn as_ptr(&self) -> NonNull<u8> {
        let p = self.arena.mem.as_ptr().wrapping_add(self.offset);
        NonNull::new(p).expect("mmap never returns null")
    }

    #[track_caller]
    fn abs(&self, off: usize, size: usize) -> usize {
        assert!(
            off.checked_add(size).is_some_and(|end| end <= self.len),
            "DMA region access at {off}+{size} is outside the region ({} bytes)",
            self.len
        );
        let abs = self.offset + off;
        // Host alignment: a volatile access to a misaligned address is UB.
        assert!(
            (self.arena.mem.as_ptr() as usize + abs) % size == 0,
            "DMA region access at {off} is not {size}-byte aligned"
        );
        abs
    }

    fn load<T: vm_memory::ByteValued>(&self, abs: usize) -> T {
        self.arena
            .mem
            .get_ref::<T>(abs)
            .expect("offset checked against the region")
            .load()
    }

    fn store<T: vm_memory::ByteValued>(&self, abs: usize, v: T) {
        self.arena
            .mem
            .get_ref::<T>(abs)
            .expect("offset checked against the region")
            .store(v)
    }

    /// Volatile read of a byte at `off`.
    #[track_caller]
    pub fn read_u8(&self, off: usize) -> u8 {
        self.load(self.abs(off, 1))
    }

    /// Volatile write of a byte at `off`.
    #[track_caller]
    pub fn write_u8(&self, off: usize, v: u8) {
        self.store(self.abs(off, 1), v)
    }

    /// Volatile little-endian 16-bit read at `off` (2-byte aligned).
    #[track_caller]
    pub fn read_le16(&self, off: usize) -> u16 {
        u16::from_le(self.load(self.abs(off, 2)))
    }

    /// Volatile little-endian 16-bit write at `off` (2-byte aligned).
    #[track_caller]
    pub fn write_le16(&self, off: usize, v: u16) {
        self.store(self.abs(off, 2), v.to_le())
    }

    /// Volatile little-endian 32-bit read at `off` (4-byte aligned).
    #[track_caller]
    pub fn read_le32(&self, off: usize) -> u32 {
        u32::from_le(self.load(self.abs(off, 4)))
    }

    /// Volatile little-endian 32-bit write at `off` (4-byte aligned).
    #[track_caller]
    pub fn write_le32(&self, off: usize, v: u32) {
        self.store(self.abs(off, 4), v.to_le())
    }

    /// Volatile little-endian 64-bit read at `off` (8-byte aligned; a single access
    /// on 64-bit hosts, so the device never sees a torn value).
    #[track_caller]
    pub fn read_le64(&self, off: usize) -> u64 {
        u64::from_le(self.load(self.abs(off, 8)))
    }

    /// Volatile little-endian 64-bit write at `off` (8-byte aligned).
    #[track_caller]
    pub fn write_le64(&self, off: usize, v: u64) {
        self.store(self.abs(off, 8), v.to_le())
    }

    /// Volatile copy of `buf.len()` bytes at `off` into `buf` (a packet's payload).
    #[track_caller]
    pub fn read_bytes(&self, off: usize, buf: &mut [u8]) {
        let abs = self.abs_range(off, buf.len());
        let slice = self.arena.mem.get_slice(abs, buf.len()).expect("checked");
        slice.copy_to(buf);
    }

    /// Volatile copy of `buf` to `off`.
    #[track_caller]
    pub fn write_bytes(&self, off: usize, buf: &[u8]) {
        let abs = self.abs_range(off, buf.len());
        let slice = self.arena.mem.get_slice(abs, buf.len()).expect("checked");
        slice.copy_from(buf);
    }

    /// Sets every byte of the region to `byte` (volatile).
    pub fn fill(&self, byte: u8) {
        let slice = self
            .arena
            .mem
            .get_slice(self.offset, self.len)
            .expect("region inside the arena");
        // VolatileSlice::write_bytes does not exist for a pattern; copy in chunks.
        let chunk = [byte; 256];
        let mut done = 0;
        while done < self.len {
            let n = (self.len - done).min(chunk.len());
            slice
                .subslice(done, n)
                .expect("inside the slice")
                .copy_from(&chunk[..n]);
            done += n;
        }
    }

    #[track_caller]
    fn abs_range(&self, off: usize, len: usize) -> usize {
        assert!(
            off.checked_add(len).is_some_and(|end| end <= self.len),
            "DMA region access at {off}+{len} is outside the region ({} bytes)",
            self.len
        );
        self.offset + off
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arena(len: usize) -> DmaArena {
        DmaArena::new(len, 0x1_0000_0000, HugePages::Never).unwrap()
    }

    #[test]
    fn alloc_aligns_iova_and_zeroes() {
        let a = arena(1 << 20);
        let r1 = a.alloc(100, 64).unwrap();
        r1.write_le32(0, 0xdead_beef);
        let r2 = a.alloc(4096, 4096).unwrap();
        assert_eq!(r2.iova() % 4096, 0);
        assert_eq!(r1.iova() % 64, 0);
        assert!(r2.iova() >= r1.iova() + 100);
        drop(r1);
        let r3 = a.alloc(100, 64).unwrap();
        assert_eq!(r3.read_le32(0), 0, "a new region is zeroed");
        assert_eq!(a.free_bytes(), a.len() - 4096 - 100);
    }

    #[test]
    fn free_merges_neighbours() {
        let a = arena(64 * 1024);
        let regions: Vec<_> = (0..16).map(|_| a.alloc(4096, 4096).unwrap()).collect();
        assert!(matches!(
            a.alloc(1, 1),
            Err(Error::ArenaExhausted { free: 0, .. })
        ));
        drop(regions);
        assert_eq!(a.free_bytes(), 64 * 1024);
        // One run again: a whole-arena allocation fits.
        let all = a.alloc(64 * 1024, 4096).unwrap();
        assert_eq!(all.iova(), a.iova_base());
    }

    #[test]
    fn translation_round_trips() {
        let a = arena(1 << 16);
        let r = a.alloc(256, 256).unwrap();
        let host = a.iova_to_host(r.iova() + 8, 8).unwrap();
        assert_eq!(host, r.as_ptr().as_ptr().wrapping_add(8));
        assert_eq!(a.host_to_iova(host), Some(r.iova() + 8));
        assert_eq!(a.iova_to_host(a.iova_base() - 1, 1), None);
        assert_eq!(a.iova_to_host(a.iova_base() + a.len() as u64 - 4, 8), None);
        assert_eq!(a.host_to_iova(std::ptr::null()), None);
    }

    #[test]
    fn volatile_accessors_are_little_endian() {
        let a = arena(1 << 16);
        let r = a.alloc(64, 8).unwrap();
        r.write_le64(8, 0x0102_0304_0506_0708);
        let mut b = [0u8; 8];
        r.read_bytes(8, &mut b);
        assert_eq!(b, [8, 7, 6, 5, 4, 3, 2, 1]);
        r.write_bytes(16, &[0xaa, 0xbb]);
        assert_eq!(r.read_le16(16), 0xbbaa);
        assert_eq!(r.read_u8(17), 0xbb);
        r.write_le32(20, 7);
        assert_eq!(r.read_le32(20), 7);
    }

    #[test]
    #[should_panic(expected = "outside the region")]
    fn access_outside_region_panics() {
        let a = arena(1 << 16);
        let r = a.alloc(16, 8).unwrap();
        r.read_le32(16);
    }

    #[test]
    fn invalid_requests() {
        let a = arena(1 << 16);
        assert!(matches!(
            a.alloc(0, 8),
            Err(Error::InvalidDmaRequest { .. })
        ));
        assert!(matches!(
            a.alloc(8, 3),
            Err(Error::InvalidDmaRequest { .. })
        ));
        assert!(DmaArena::new(4096, 0x123, HugePages::Never).is_err());
    }

    #[test]
    fn huge_pages_are_backed_or_refused_at_allocation() {
        // With an empty hugetlb pool, Require must fail at once, not succeed and
        // fault (SIGBUS) on first touch / fail to pin (EFAULT) later.
        match DmaArena::new(HUGE_PAGE, 0, HugePages::Require) {
            Ok(a) => {
                let r = a.alloc(HUGE_PAGE, PAGE).unwrap();
                r.write_le32(HUGE_PAGE - 4, 1);
                assert!(a.is_huge_pages());
            }
            Err(e) => assert!(matches!(e, Error::ArenaAlloc { .. }), "{e:?}"),
        }
        let a = DmaArena::new(HUGE_PAGE, 0, HugePages::Try).unwrap();
        let r = a.alloc(HUGE_PAGE, PAGE).unwrap();
        r.write_le32(HUGE_PAGE - 4, 1);
    }

    #[test]
    fn huge_pages_try_falls_back() {
        // Whether or not huge pages are reserved here, Try must succeed.
        let a = DmaArena::new(1 << 20, 0, HugePages::Try).unwrap();
        assert!(a.len() >= 1 << 20);
    }
}
