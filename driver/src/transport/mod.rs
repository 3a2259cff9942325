//! Layer 1, the transport: how the driver reaches the device.
//!
//! Three small traits, one per resource, and [`Transport`], which is all three:
//!
//! - [`RegisterAccess`] — 32-bit reads and writes at a BAR0 offset;
//! - [`DmaMemory`] — one [`DmaArena`] of host memory the device reaches by IOVA,
//!   and coherent aligned [`DmaRegion`]s carved from it;
//! - [`InterruptVectors`] — one eventfd per MSI-X vector, all bound in one call.
//!
//! Implementations: [`crate::vfio::VfioTransport`] (kernel vfio-pci) and the
//! co-simulation (crate `sim`). A new implementation needs only these traits and the
//! helpers of this module ([`check_bar0_access`], [`hot_path_access`],
//! [`DmaArena`]); every rule a transport must enforce is stated on the trait.
//!
//! # Refused register accesses
//!
//! An oxnic's BAR0 holds the MSI-X table, PBA and MSI-X control in their own pages
//! ([`MSIX_PAGES`]); vfio-pci owns them (reads give all ones, writes are dropped),
//! and the co-simulation must behave the same. A transport for another device
//! passes the ranges it found in the device's MSI-X capability to
//! [`classify_access`] / [`check_access`] / [`hot_path_access_in`]. An offset outside BAR0 or not 32-bit
//! aligned is a bug. Two ways to access a register:
//!
//! - [`RegisterAccess::try_read32`] / [`RegisterAccess::try_write32`] check first
//!   and return [`Error::MsixPageAccess`], [`Error::OutOfBar0`] or
//!   [`Error::MisalignedRegister`];
//! - [`RegisterAccess::read32`] / [`RegisterAccess::write32`], the hot path, are
//!   infallible: an offset outside BAR0 or misaligned **panics** (as slice indexing
//!   does — it would be an out-of-bounds access to the mapping); an MSI-X page
//!   access **panics in debug builds** (`debug_assert!`) and in release builds
//!   behaves as vfio-pci does: the read returns `0xFFFF_FFFF`, the write is dropped,
//!   and the device is never touched. [`hot_path_access`] implements this policy
//!   for implementations.

mod dma;

pub use dma::{dma_mb, dma_rmb, dma_wmb, DmaArena, DmaRegion, HugePages};

use std::ops::Range;

use oxnic_regs::msix;
use vmm_sys_util::eventfd::EventFd;

use crate::error::{Error, Result};

/// BAR0 offsets owned by the platform: MSI-X table, PBA and MSI-X control pages.
pub const MSIX_PAGES: Range<u32> = msix::TABLE_OFFSET..msix::CTRL_OFFSET + 0x1000;

// The platform pages end before the first queue block and lie inside BAR0.
const _: () = assert!(MSIX_PAGES.end <= oxnic_regs::RX_QUEUE_BASE);
const _: () = assert!(MSIX_PAGES.end <= oxnic_regs::BAR0_SIZE);

/// Why a BAR0 access is refused (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Offset plus 4 is beyond BAR0.
    OutOfBar0,
    /// Offset not a multiple of 4.
    Misaligned,
    /// Offset inside a platform-owned MSI-X range ([`MSIX_PAGES`] on an oxnic).
    MsixPage,
}

impl Refusal {
    /// The typed error for this refusal at `offset` in a BAR0 of `bar0_size` bytes.
    pub fn into_error(self, offset: u32, bar0_size: u32) -> Error {
        match self {
            Refusal::OutOfBar0 => Error::OutOfBar0 {
                offset,
                size: bar0_size,
            },
            Refusal::Misaligned => Error::MisalignedRegister { offset },
            Refusal::MsixPage => Error::MsixPageAccess { bar: 0, offset },
        }
    }
}

/// oxnic's platform-owned BAR0 ranges: [`MSIX_PAGES`].
pub const OXNIC_REFUSED: &[Range<u32>] = &[MSIX_PAGES];

/// Classifies a 32-bit access at `offset` in an oxnic BAR0 of `bar0_size` bytes
/// (refused ranges: [`OXNIC_REFUSED`]).
#[inline]
pub const fn classify_bar0_access(offset: u32, bar0_size: u32) -> Option<Refusal> {
    classify_access(offset, bar0_size, OXNIC_REFUSED)
}

/// Classifies a 32-bit access at `offset` in a BAR0 of `bar0_size` bytes whose
/// platform-owned (MSI-X table/PBA) ranges are `refused`. A transport for a device
/// other than an oxnic takes `refused` from the device's MSI-X capability.
#[inline]
pub const fn classify_access(
    offset: u32,
    bar0_size: u32,
    refused: &[Range<u32>],
) -> Option<Refusal> {
    if offset % 4 != 0 {
        return Some(Refusal::Misaligned);
    }
    if offset as u64 + 4 > bar0_size as u64 {
        return Some(Refusal::OutOfBar0);
    }
    let mut i = 0;
    while i < refused.len() {
        if offset >= refused[i].start && offset < refused[i].end {
            return Some(Refusal::MsixPage);
        }
        i += 1;
    }
    None
}

/// The checked form: `Ok(())` if a 32-bit access at `offset` is allowed in an
/// oxnic BAR0.
pub fn check_bar0_access(offset: u32, bar0_size: u32) -> Result<()> {
    check_access(offset, bar0_size, OXNIC_REFUSED)
}

/// The checked form of [`classify_access`].
pub fn check_access(offset: u32, bar0_size: u32, refused: &[Range<u32>]) -> Result<()> {
    match classify_access(offset, bar0_size, refused) {
        None => Ok(()),
        Some(r) => Err(r.into_error(offset, bar0_size)),
    }
}

/// The hot-path policy for implementations of [`RegisterAccess::read32`] /
/// [`RegisterAccess::write32`] on an oxnic BAR0: [`hot_path_access_in`] with
/// [`OXNIC_REFUSED`].
#[inline]
#[track_caller]
pub fn hot_path_access(offset: u32, bar0_size: u32) -> bool {
    hot_path_access_in(offset, bar0_size, OXNIC_REFUSED)
}

/// The hot-path policy: returns `true` when the access may go to the device,
/// `false` when it must be dropped (refused MSI-X range, release build: read
/// returns all ones), and panics when it is out of BAR0 or misaligned (always) or
/// in a refused range (debug builds).
#[inline]
#[track_caller]
pub fn hot_path_access_in(offset: u32, bar0_size: u32, refused: &[Range<u32>]) -> bool {
    match classify_access(offset, bar0_size, refused) {
        None => true,
        Some(Refusal::MsixPage) => {
            debug_assert!(false, "{}", Refusal::MsixPage.into_error(offset, bar0_size));
            false
        }
        Some(r) => panic!("{}", r.into_error(offset, bar0_size)),
    }
}

/// 32-bit little-endian register access at BAR0 offsets.
///
/// All methods take `&self`: doorbells are written from several threads (one per
/// NAPI context) at once. Implementations use volatile accesses and never create
/// Rust references into device memory.
pub trait RegisterAccess: Send + Sync {
    /// BAR0's size in bytes.
    fn bar0_size(&self) -> u32;

    /// Reads the register at `offset` (hot path). Must follow [`hot_path_access`]:
    /// panics if `offset` is outside BAR0 or misaligned; an MSI-X page read panics
    /// in debug builds and returns `0xFFFF_FFFF` without touching the device in
    /// release builds.
    fn read32(&self, offset: u32) -> u32;

    /// Writes the register at `offset` (hot path). Must follow [`hot_path_access`]:
    /// panics if `offset` is outside BAR0 or misaligned; an MSI-X page write panics
    /// in debug builds and is dropped in release builds.
    fn write32(&self, offset: u32, value: u32);

    /// Checked read: refuses MSI-X pages, out-of-BAR0 and misaligned offsets with a
    /// typed error.
    fn try_read32(&self, offset: u32) -> Result<u32> {
        check_bar0_access(offset, self.bar0_size())?;
        Ok(self.read32(offset))
    }

    /// Checked write: refuses MSI-X pages, out-of-BAR0 and misaligned offsets with a
    /// typed error.
    fn try_write32(&self, offset: u32, value: u32) -> Result<()> {
        check_bar0_access(offset, self.bar0_size())?;
        self.write32(offset, value);
        Ok(())
    }
}

/// Host memory the device reaches by DMA: one arena, mapped once.
///
/// The type1 IOMMU allows at most 65,535 mappings per container, so a transport
/// maps one large [`DmaArena`] once, and every ring and buffer is carved from it.
/// Only [`DmaMemory::dma_arena`] is required; the rest forwards to the arena.
pub trait DmaMemory: Send + Sync {
    /// The arena (mapped for the device at [`DmaArena::iova_base`]).
    fn dma_arena(&self) -> &DmaArena;

    /// Allocates `size` bytes aligned to `align` (a power of two) in the arena,
    /// zeroed. The region returns to the arena when dropped.
    fn alloc_dma(&self, size: usize, align: usize) -> Result<DmaRegion> {
        self.dma_arena().alloc(size, align)
    }

    /// Host address of `len` bytes at `iova`, if they lie inside the arena.
    fn iova_to_host(&self, iova: u64, len: usize) -> Option<*mut u8> {
        self.dma_arena().iova_to_host(iova, len)
    }

    /// IOVA of the host address `host`, if it lies inside the arena.
    fn host_to_iova(&self, host: *const u8) -> Option<u64> {
        self.dma_arena().host_to_iova(host)
    }
}

/// MSI-X vectors, each signalling one eventfd.
///
/// Rules (vfio-pci, see `notes/semantics.md`): all vectors are bound in **one**
/// call, starting at vector 0; that call fixes the vector count, so binding again
/// requires [`InterruptVectors::unbind_vectors`] first. The platform (kernel or
/// co-simulation) programs the MSI-X table; the driver never touches it. Masking
/// per queue is a BAR0 register of the device, not an MSI-X operation.
pub trait InterruptVectors: Send + Sync {
    /// The device's number of MSI-X vectors.
    fn max_vectors(&self) -> u32;

    /// The number of vectors bound now (0 when unbound).
    fn bound_vectors(&self) -> u32;

    /// Binds `fds[v]` to vector `v` for every `v` in `0..fds.len()`, in one call.
    /// Fails with [`Error::VectorsAlreadyBound`] if vectors are bound, and with
    /// [`Error::TooManyVectors`] if `fds` is longer than [`Self::max_vectors`].
    /// The caller keeps its eventfds; the transport holds its own reference.
    fn bind_vectors(&self, fds: &[&EventFd]) -> Result<()>;

    /// Fires bound vector `vector` from software (as if the device had sent its
    /// message): its eventfd is signalled. For tests.
    fn trigger_vector(&self, vector: u32) -> Result<()>;

    /// Unbinds every vector (disables MSI-X). Does nothing when none are bound.
    fn unbind_vectors(&self) -> Result<()>;
}

/// A whole transport: registers, DMA memory and interrupt vectors.
///
/// Implemented for every type that implements the three parts; object safe, so the
/// layers above hold an `Arc<dyn Transport>`.
pub trait Transport: RegisterAccess + DmaMemory + InterruptVectors {}

impl<T: RegisterAccess + DmaMemory + InterruptVectors + ?Sized> Transport for T {}

#[cfg(test)]
mod tests {
    use super::*;
    use oxnic_regs::{global, BAR0_SIZE};

    #[test]
    fn msix_pages_cover_table_pba_and_ctrl() {
        assert_eq!(MSIX_PAGES.start, msix::TABLE_OFFSET);
        assert!(MSIX_PAGES.contains(&msix::PBA_OFFSET));
        assert!(MSIX_PAGES.contains(&msix::CTRL_OFFSET));
        assert!(!MSIX_PAGES.contains(&oxnic_regs::RX_QUEUE_BASE));
    }

    #[test]
    fn classify() {
        assert_eq!(classify_bar0_access(global::ID, BAR0_SIZE), None);
        assert_eq!(classify_bar0_access(BAR0_SIZE - 4, BAR0_SIZE), None);
        assert_eq!(
            classify_bar0_access(BAR0_SIZE, BAR0_SIZE),
            Some(Refusal::OutOfBar0)
        );
        assert_eq!(
            classify_bar0_access(u32::MAX - 3, BAR0_SIZE),
            Some(Refusal::OutOfBar0)
        );
        assert_eq!(
            classify_bar0_access(2, BAR0_SIZE),
            Some(Refusal::Misaligned)
        );
        for off in [
            msix::TABLE_OFFSET,
            msix::entry(3) + msix::ENTRY_CTRL,
            msix::PBA_OFFSET,
            msix::CTRL_OFFSET,
            MSIX_PAGES.end - 4,
        ] {
            assert_eq!(
                classify_bar0_access(off, BAR0_SIZE),
                Some(Refusal::MsixPage),
                "{off:#x}"
            );
        }
        assert_eq!(classify_bar0_access(MSIX_PAGES.end, BAR0_SIZE), None);
        assert_eq!(classify_bar0_access(MSIX_PAGES.start - 4, BAR0_SIZE), None);
    }

    #[test]
    #[should_panic(expected = "outside BAR0")]
    fn hot_path_out_of_bar_panics() {
        hot_path_access(BAR0_SIZE, BAR0_SIZE);
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "MSI-X"))]
    fn hot_path_msix_refused() {
        assert!(!hot_path_access(msix::TABLE_OFFSET, BAR0_SIZE));
    }
}
