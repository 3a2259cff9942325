//! The raw layer: every ioctl, sysfs read, open/close, mmap and rlimit query the
//! VFIO transport makes goes through [`VfioSys`] — one call per kernel operation,
//! no policy. [`super::VfioTransport`] is the safe wrapper with the policy (order of
//! steps, checks, typed errors, teardown); tests replace [`LinuxVfio`] with a
//! scripted fake (`tests/vfio_fake.rs`). This is the rust-vmm split between
//! `vfio_syscall` and `VfioContainer`/`VfioDevice`, with the raw side made a trait.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

pub use vfio_bindings::bindings::vfio::{vfio_device_info, vfio_irq_info, vfio_region_info};

/// A file descriptor handed out by a [`VfioSys`] (container, group, device).
///
/// Plain data: ownership is tracked by the transport, which returns every fd to
/// [`VfioSys::close`] exactly once. A fake may number them as it likes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SysFd(pub RawFd);

/// The arguments of one `VFIO_DEVICE_SET_IRQS` call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IrqSet {
    /// `VFIO_IRQ_SET_DATA_*` | `VFIO_IRQ_SET_ACTION_*`.
    pub flags: u32,
    /// IRQ index, e.g. `VFIO_PCI_MSIX_IRQ_INDEX`.
    pub index: u32,
    /// First vector.
    pub start: u32,
    /// Number of vectors (0 with `DATA_NONE | ACTION_TRIGGER` disables the index).
    pub count: u32,
    /// With `DATA_EVENTFD`: one eventfd per vector (-1 unbinds that vector).
    pub eventfds: Vec<RawFd>,
}

/// A mapping of a device region (BAR0) into this process.
///
/// # Safety
///
/// An implementation guarantees that `as_ptr()..as_ptr() + len()` stays valid for
/// volatile, 4-byte aligned 32-bit reads and writes from any thread until the
/// object is dropped (which unmaps it), and that `as_ptr()` is 4-byte aligned.
pub unsafe trait MappedBar: Send + Sync {
    /// First byte of the mapping.
    fn as_ptr(&self) -> *mut u8;
    /// Length in bytes.
    fn len(&self) -> usize;
    /// True when the mapping is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The raw kernel interface of the VFIO transport: one method per kernel operation.
///
/// Errors are the kernel's (`io::Error` with errno); turning them into
/// [`crate::Error`]s with advice is the caller's job.
pub trait VfioSys: Send + Sync {
    /// Reads a (sysfs) file to a string.
    fn read_to_string(&self, path: &Path) -> io::Result<String>;
    /// Reads a (sysfs) symbolic link.
    fn read_link(&self, path: &Path) -> io::Result<PathBuf>;
    /// Names of the entries of a (sysfs) directory.
    fn read_dir_names(&self, path: &Path) -> io::Result<Vec<String>>;
    /// The bytes this process may pin for DMA: the soft `RLIMIT_MEMLOCK`, or
    /// `u64::MAX` when unlimited or when the process has `CAP_IPC_LOCK` (the type1
    /// IOMMU does not enforce the limit then).
    fn memlock_limit(&self) -> io::Result<u64>;

    /// Opens a character device read/write, close-on-exec.
    fn open(&self, path: &Path) -> io::Result<SysFd>;
    /// Closes an fd returned by this object.
    fn close(&self, fd: SysFd);

    /// `VFIO_GET_API_VERSION` on the container.
    fn get_api_version(&self, container: SysFd) -> io::Result<i32>;
    /// `VFIO_CHECK_EXTENSION`: > 0 when supported.
    fn check_extension(&self, container: SysFd, extension: u32) -> io::Result<i32>;
    /// `VFIO_SET_IOMMU`.
    fn set_iommu(&self, container: SysFd, iommu_type: u32) -> io::Result<()>;
    /// `VFIO_IOMMU_MAP_DMA` (read and write) of `size` bytes at `vaddr` to `iova`.
    ///
    /// # Safety
    ///
    /// `vaddr..vaddr + size` must stay mapped memory of this process, never
    /// accessed through Rust references, until unmapped with
    /// [`VfioSys::unmap_dma`]: the device reads and writes it at any time.
    unsafe fn map_dma(
        &self,
        container: SysFd,
        vaddr: *mut u8,
        iova: u64,
        size: u64,
    ) -> io::Result<()>;
    /// `VFIO_IOMMU_UNMAP_DMA`; returns the number of bytes unmapped.
    fn unmap_dma(&self, container: SysFd, iova: u64, size: u64) -> io::Result<u64>;

    /// `VFIO_GROUP_GET_STATUS`: the flags (`VFIO_GROUP_FLAGS_*`).
    fn group_status(&self, group: SysFd) -> io::Result<u32>;
    /// `VFIO_GROUP_SET_CONTAINER`.
    fn group_set_container(&self, group: SysFd, container: SysFd) -> io::Result<()>;
    /// `VFIO_GROUP_UNSET_CONTAINER`.
    fn group_unset_container(&self, group: SysFd, container: SysFd) -> io::Result<()>;
    /// `VFIO_GROUP_GET_DEVICE_FD` for the device named `name` (its PCI address).
    fn group_device_fd(&self, group: SysFd, name: &str) -> io::Result<SysFd>;

    /// `VFIO_DEVICE_GET_INFO`.
    fn device_info(&self, device: SysFd) -> io::Result<vfio_device_info>;
    /// `VFIO_DEVICE_GET_REGION_INFO` for region `index`.
    fn region_info(&self, device: SysFd, index: u32) -> io::Result<vfio_region_info>;
    /// `VFIO_DEVICE_GET_IRQ_INFO` for IRQ index `index`.
    fn irq_info(&self, device: SysFd, index: u32) -> io::Result<vfio_irq_info>;
    /// `VFIO_DEVICE_SET_IRQS`.
    fn set_irqs(&self, device: SysFd, set: &IrqSet) -> io::Result<()>;
    /// `pread` on the device fd (region access, e.g. config space).
    fn pread(&self, device: SysFd, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    /// `pwrite` on the device fd.
    fn pwrite(&self, device: SysFd, buf: &[u8], offset: u64) -> io::Result<usize>;
    /// `mmap` of `len` bytes of the device fd at `offset` (shared, read/write);
    /// dropping the result unmaps it.
    fn mmap(&self, device: SysFd, offset: u64, len: usize) -> io::Result<Box<dyn MappedBar>>;
}

/// VFIO ioctl numbers (`linux/vfio.h`: `_IO(VFIO_TYPE, VFIO_BASE + n)`).
mod nr {
    use vfio_bindings::bindings::vfio::{VFIO_BASE, VFIO_TYPE};
    vmm_sys_util::ioctl_io_nr!(VFIO_GET_API_VERSION, VFIO_TYPE as u32, VFIO_BASE);
    vmm_sys_util::ioctl_io_nr!(VFIO_CHECK_EXTENSION, VFIO_TYPE as u32, VFIO_BASE + 1);
    vmm_sys_util::ioctl_io_nr!(VFIO_SET_IOMMU, VFIO_TYPE as u32, VFIO_BASE + 2);
    vmm_sys_util::ioctl_io_nr!(VFIO_GROUP_GET_STATUS, VFIO_TYPE as u32, VFIO_BASE + 3);
    vmm_sys_util::ioctl_io_nr!(VFIO_GROUP_SET_CONTAINER, VFIO_TYPE as u32, VFIO_BASE + 4);
    vmm_sys_util::ioctl_io_nr!(VFIO_GROUP_UNSET_CONTAINER, VFIO_TYPE as u32, VFIO_BASE + 5);
    vmm_sys_util::ioctl_io_nr!(VFIO_GROUP_GET_DEVICE_FD, VFIO_TYPE as u32, VFIO_BASE + 6);
    vmm_sys_util::ioctl_io_nr!(VFIO_DEVICE_GET_INFO, VFIO_TYPE as u32, VFIO_BASE + 7);
    vmm_sys_util::ioctl_io_nr!(VFIO_DEVICE_GET_REGION_INFO, VFIO_TYPE as u32, VFIO_BASE + 8);
    vmm_sys_util::ioctl_io_nr!(VFIO_DEVICE_GET_IRQ_INFO, VFIO_TYPE as u32, VFIO_BASE + 9);
    vmm_sys_util::ioctl_io_nr!(VFIO_DEVICE_SET_IRQS, VFIO_TYPE as u32, VFIO_BASE + 10);
    vmm_sys_util::ioctl_io_nr!(VFIO_IOMMU_MAP_DMA, VFIO_TYPE as u32, VFIO_BASE + 13);
    vmm_sys_util::ioctl_io_nr!(VFIO_IOMMU_UNMAP_DMA, VFIO_TYPE as u32, VFIO_BASE + 14);
}

/// `struct vfio_irq_set` as u32 words: five header words (argsz, flags, index,
/// start, count; 20 bytes, align 4) followed by the data array — with
/// `DATA_EVENTFD`, `count` s32 fds. A u32 buffer is aligned and sized for it
/// without unsafe layout tricks.
fn irq_set_words(set: &IrqSet) -> Vec<u32> {
    let header = std::mem::size_of::<vfio_bindings::bindings::vfio::vfio_irq_set>();
    const _: () = assert!(std::mem::size_of::<vfio_bindings::bindings::vfio::vfio_irq_set>() == 20);
    let argsz = header + 4 * set.eventfds.len();
    let mut buf: Vec<u32> = Vec::with_capacity(5 + set.eventfds.len());
    buf.extend([argsz as u32, set.flags, set.index, set.start, set.count]);
    buf.extend(set.eventfds.iter().map(|&fd| fd as u32));
    buf
}

/// The real kernel: ioctls through `vmm-sys-util`, structures from `vfio-bindings`.
///
/// Why not `vfio-ioctls` (0.10)? It builds without its default `kvm` feature, but
/// (a) its `VfioContainer`/`VfioGroup` open fixed `/dev/vfio` paths and issue their
/// ioctls through a private `vfio_syscall` module that only its *own* unit tests
/// can swap, so this crate could not test its error paths and call sequence
/// without a kernel; (b) `VfioDevice::new` insists on a `VfioContainer` behind
/// `dyn VfioOps` (it downcasts); (c) its `region_read`/`region_write` return `()`
/// and only log failures, which would hide a failed bus-master enable; (d) its
/// errors (`VfioError`) carry no advice and lose which step failed. The ioctls
/// themselves are a dozen lines each with the same `vfio-bindings` structures.
#[derive(Clone, Copy, Debug, Default)]
pub struct LinuxVfio;

/// Borrowed raw fd for the `vmm-sys-util` ioctl helpers.
struct Fd(RawFd);
impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Issues a VFIO query ioctl that fills one fixed-size, `argsz`-prefixed struct
/// (GET_STATUS, GET_INFO, GET_REGION_INFO, GET_IRQ_INFO, UNMAP_DMA's size).
///
/// # Safety
/// `request` must be a VFIO ioctl whose argument is a `T` that the kernel reads
/// and writes only within `arg.argsz` bytes, and the caller must have set
/// `argsz` to at most `size_of::<T>()` (VFIO never copies more than `argsz`;
/// longer capability chains only raise `argsz` in the answer).
unsafe fn ioctl_inout<T>(fd: SysFd, request: libc::c_ulong, arg: &mut T) -> io::Result<()> {
    // SAFETY: forwarded from this function's contract; `arg` is exclusively
    // borrowed for the duration of the call.
    check(unsafe { vmm_sys_util::ioctl::ioctl_with_mut_ref(&Fd(fd.0), request, arg) }).map(|_| ())
}

/// CAP_IPC_LOCK's bit in the capability sets.
const CAP_IPC_LOCK: u32 = 14;

/// `MappedBar` over memmap2's raw mapping.
struct Memmap2Bar(memmap2::MmapRaw);

// SAFETY: `MmapRaw` is a live shared mapping of `len()` bytes until dropped (drop
// unmaps); mmap returns page-aligned addresses, so `as_ptr` is 4-byte aligned.
// Volatile accesses through a raw pointer from several threads are what MMIO is.
unsafe impl MappedBar for Memmap2Bar {
    fn as_ptr(&self) -> *mut u8 {
        self.0.as_mut_ptr()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl VfioSys for LinuxVfio {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::read_link(path)
    }

    fn read_dir_names(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for e in std::fs::read_dir(path)? {
            names.push(e?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn memlock_limit(&self) -> io::Result<u64> {
        let status = std::fs::read_to_string("/proc/self/status")?;
        let cap_eff = status
            .lines()
            .find_map(|l| l.strip_prefix("CapEff:"))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(0);
        if cap_eff & (1 << CAP_IPC_LOCK) != 0 {
            return Ok(u64::MAX);
        }
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one `rlimit` into the valid, exclusively
        // borrowed `lim`.
        check(unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) })?;
        Ok(if lim.rlim_cur == libc::RLIM_INFINITY {
            u64::MAX
        } else {
            lim.rlim_cur
        })
    }

    fn open(&self, path: &Path) -> io::Result<SysFd> {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)?;
        Ok(SysFd(f.into_raw_fd()))
    }

    fn close(&self, fd: SysFd) {
        // SAFETY: the transport hands every fd it got from `open` or
        // `group_device_fd` to `close` exactly once, so we own it here.
        drop(unsafe { OwnedFd::from_raw_fd(fd.0) });
    }

    fn get_api_version(&self, container: SysFd) -> io::Result<i32> {
        // SAFETY: VFIO_GET_API_VERSION takes no argument and touches no memory.
        check(unsafe { vmm_sys_util::ioctl::ioctl(&Fd(container.0), nr::VFIO_GET_API_VERSION()) })
    }

    fn check_extension(&self, container: SysFd, extension: u32) -> io::Result<i32> {
        // SAFETY: VFIO_CHECK_EXTENSION takes an integer argument, no memory.
        check(unsafe {
            vmm_sys_util::ioctl::ioctl_with_val(
                &Fd(container.0),
                nr::VFIO_CHECK_EXTENSION(),
                extension.into(),
            )
        })
    }

    fn set_iommu(&self, container: SysFd, iommu_type: u32) -> io::Result<()> {
        // SAFETY: VFIO_SET_IOMMU takes an integer argument, no memory.
        check(unsafe {
            vmm_sys_util::ioctl::ioctl_with_val(
                &Fd(container.0),
                nr::VFIO_SET_IOMMU(),
                iommu_type.into(),
            )
        })
        .map(drop)
    }

    unsafe fn map_dma(
        &self,
        container: SysFd,
        vaddr: *mut u8,
        iova: u64,
        size: u64,
    ) -> io::Result<()> {
        use vfio_bindings::bindings::vfio::*;
        let map = vfio_iommu_type1_dma_map {
            argsz: std::mem::size_of::<vfio_iommu_type1_dma_map>() as u32,
            flags: VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
            vaddr: vaddr as u64,
            iova,
            size,
        };
        // SAFETY: the kernel reads `map` (valid for the call); the memory it pins
        // is the caller's contract (see the trait's `# Safety`).
        check(unsafe {
            vmm_sys_util::ioctl::ioctl_with_ref(&Fd(container.0), nr::VFIO_IOMMU_MAP_DMA(), &map)
        })
        .map(drop)
    }

    fn unmap_dma(&self, container: SysFd, iova: u64, size: u64) -> io::Result<u64> {
        use vfio_bindings::bindings::vfio::*;
        let mut unmap = vfio_iommu_type1_dma_unmap {
            argsz: std::mem::size_of::<vfio_iommu_type1_dma_unmap>() as u32,
            flags: 0,
            iova,
            size,
            ..Default::default()
        };
        // SAFETY: the kernel reads and updates `unmap.size` (valid, exclusively
        // borrowed for the call); with flags 0 it reads no data past the header.
        // `argsz` is the struct's own size (ioctl_inout's contract).
        unsafe { ioctl_inout(container, nr::VFIO_IOMMU_UNMAP_DMA(), &mut unmap) }?;
        Ok(unmap.size)
    }

    fn group_status(&self, group: SysFd) -> io::Result<u32> {
        use vfio_bindings::bindings::vfio::vfio_group_status;
        let mut st = vfio_group_status {
            argsz: std::mem::size_of::<vfio_group_status>() as u32,
            flags: 0,
        };
        // SAFETY: the kernel writes one `vfio_group_status` into `st`.
        // `argsz` is the struct's own size (ioctl_inout's contract).
        unsafe { ioctl_inout(group, nr::VFIO_GROUP_GET_STATUS(), &mut st) }?;
        Ok(st.flags)
    }

    fn group_set_container(&self, group: SysFd, container: SysFd) -> io::Result<()> {
        let fd: libc::c_int = container.0;
        // SAFETY: the kernel reads one int (the container fd) from `fd`.
        check(unsafe {
            vmm_sys_util::ioctl::ioctl_with_ref(&Fd(group.0), nr::VFIO_GROUP_SET_CONTAINER(), &fd)
        })
        .map(drop)
    }

    fn group_unset_container(&self, group: SysFd, container: SysFd) -> io::Result<()> {
        let fd: libc::c_int = container.0;
        // SAFETY: as for SET_CONTAINER (the kernel ignores the argument).
        check(unsafe {
            vmm_sys_util::ioctl::ioctl_with_ref(&Fd(group.0), nr::VFIO_GROUP_UNSET_CONTAINER(), &fd)
        })
        .map(drop)
    }

    fn group_device_fd(&self, group: SysFd, name: &str) -> io::Result<SysFd> {
        let name = std::ffi::CString::new(name)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in device name"))?;
        // SAFETY: the kernel reads the NUL-terminated string, valid for the call.
        let fd = check(unsafe {
            vmm_sys_util::ioctl::ioctl_with_ptr(
                &Fd(group.0),
                nr::VFIO_GROUP_GET_DEVICE_FD(),
                name.as_ptr(),
            )
        })?;
        Ok(SysFd(fd))
    }

    fn device_info(&self, device: SysFd) -> io::Result<vfio_device_info> {
        let mut info = vfio_device_info {
            argsz: std::mem::size_of::<vfio_device_info>() as u32,
            ..Default::default()
        };
        // SAFETY: the kernel writes at most `argsz` bytes into `info`.
        // `argsz` is the struct's own size (ioctl_inout's contract).
        unsafe { ioctl_inout(device, nr::VFIO_DEVICE_GET_INFO(), &mut info) }?;
        Ok(info)
    }

    fn region_info(&self, device: SysFd, index: u32) -> io::Result<vfio_region_info> {
        let mut info = vfio_region_info {
            argsz: std::mem::size_of::<vfio_region_info>() as u32,
            index,
            ..Default::default()
        };
        // SAFETY: the kernel writes at most `argsz` bytes into `info` (capability
        // chains beyond argsz are not copied; it only raises argsz).
        // `argsz` is the struct's own size (ioctl_inout's contract).
        unsafe { ioctl_inout(device, nr::VFIO_DEVICE_GET_REGION_INFO(), &mut info) }?;
        Ok(info)
    }

    fn irq_info(&self, device: SysFd, index: u32) -> io::Result<vfio_irq_info> {
        let mut info = vfio_irq_info {
            argsz: std::mem::size_of::<vfio_irq_info>() as u32,
            index,
            ..Default::default()
        };
        // SAFETY: the kernel writes one `vfio_irq_info` into `info`.
        // `argsz` is the struct's own size (ioctl_inout's contract).
        unsafe { ioctl_inout(device, nr::VFIO_DEVICE_GET_IRQ_INFO(), &mut info) }?;
        Ok(info)
    }

    fn set_irqs(&self, device: SysFd, set: &IrqSet) -> io::Result<()> {
        let buf = irq_set_words(set);
        // SAFETY: `buf` holds a complete `vfio_irq_set` of `argsz` bytes, 4-byte
        // aligned; the kernel only reads it during the call.
        check(unsafe {
            vmm_sys_util::ioctl::ioctl_with_ptr(
                &Fd(device.0),
                nr::VFIO_DEVICE_SET_IRQS(),
                buf.as_ptr(),
            )
        })
        .map(drop)
    }

    fn pread(&self, device: SysFd, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
        let n = unsafe {
            libc::pread(
                device.0,
                buf.as_mut_ptr().cast(),
                buf.len(),
                offset as libc::off_t,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    fn pwrite(&self, device: SysFd, buf: &[u8], offset: u64) -> io::Result<usize> {
        // SAFETY: the kernel reads at most `buf.len()` bytes from `buf`.
        let n = unsafe {
            libc::pwrite(
                device.0,
                buf.as_ptr().cast(),
                buf.len(),
                offset as libc::off_t,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    fn mmap(&self, device: SysFd, offset: u64, len: usize) -> io::Result<Box<dyn MappedBar>> {
        let raw = memmap2::MmapOptions::new()
            .offset(offset)
            .len(len)
            .map_raw(device.0)?;
        Ok(Box::new(Memmap2Bar(raw)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmm_sys_util::tempfile::TempFile;

    #[test]
    fn irq_set_layout() {
        let set = IrqSet {
            flags: 4 | 32,
            index: 2,
            start: 0,
            count: 3,
            eventfds: vec![10, 11, -1],
        };
        assert_eq!(irq_set_words(&set), vec![32, 36, 2, 0, 3, 10, 11, u32::MAX]);
        let none = IrqSet {
            flags: 1 | 32,
            index: 2,
            start: 0,
            count: 0,
            eventfds: vec![],
        };
        assert_eq!(irq_set_words(&none), vec![20, 33, 2, 0, 0]);
    }

    #[test]
    fn linux_region_io_and_mmap_on_a_file() {
        let tmp = TempFile::new().unwrap();
        tmp.as_file().set_len(8192).unwrap();
        let sys = LinuxVfio;
        let fd = sys.open(tmp.as_path()).unwrap();
        assert_eq!(
            sys.pwrite(fd, &0xA5A5_1234u32.to_le_bytes(), 4100).unwrap(),
            4
        );
        let mut b = [0u8; 4];
        assert_eq!(sys.pread(fd, &mut b, 4100).unwrap(), 4);
        assert_eq!(u32::from_le_bytes(b), 0xA5A5_1234);
        let map = sys.mmap(fd, 4096, 4096).unwrap();
        assert_eq!(map.len(), 4096);
        assert_eq!(map.as_ptr() as usize % 4096, 0);
        // SAFETY: offset 4 of a live 4096-byte mapping, 4-byte aligned.
        let v = unsafe { map.as_ptr().add(4).cast::<u32>().read_volatile() };
        assert_eq!(u32::from_le(v), 0xA5A5_1234);
        drop(map);
        sys.close(fd);
    }

    #[test]
    fn linux_ioctl_errors_carry_errno() {
        let tmp = TempFile::new().unwrap();
        let sys = LinuxVfio;
        let fd = sys.open(tmp.as_path()).unwrap();
        let e = sys.get_api_version(fd).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTTY));
        let e = sys.group_status(fd).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTTY));
        sys.close(fd);
        let e = sys.open(Path::new("/nonexistent/vfio/vfio")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn linux_memlock_limit_is_positive() {
        assert!(LinuxVfio.memlock_limit().unwrap() > 0);
    }
}
