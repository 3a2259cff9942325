//! The VFIO transport: the card through the kernel's vfio-pci driver.
//!
//! [`VfioTransport::open`] goes through the VFIO set-up in order, checking each step
//! and saying what to do when one fails:
//!
//! 1. sysfs: the PCI function exists, has the expected ID, is bound to vfio-pci,
//!    and has an IOMMU group;
//! 2. the DMA arena is allocated and fits under `RLIMIT_MEMLOCK`;
//! 3. container `/dev/vfio/vfio`: API version, type1 IOMMU support;
//! 4. group `/dev/vfio/<group>`: viable, attached to the container; the IOMMU type
//!    is set (type1v2 when offered, else type1);
//! 5. device fd by PCI address; device, region (BAR0, config) and MSI-X info;
//!    the MSI-X table/PBA location from the MSI-X capability in config space
//!    (those ranges are refused to register accesses, as vfio-pci refuses them);
//! 6. bus mastering (and memory decode) enabled in the config command register;
//! 7. BAR0 mapped; optionally its ID register checked;
//! 8. the arena mapped into the IOMMU, once.
//!
//! Interrupt vectors are bound later ([`InterruptVectors::bind_vectors`]).
//! Dropping the transport undoes it all in reverse: MSI-X disabled, bus mastering
//! cleared (no DMA in flight), DMA unmapped, BAR0 unmapped, device closed, group
//! detached from the container, group and container closed. A failed `open`
//! undoes the steps it did.
//!
//! Every kernel call goes through [`VfioSys`] ([`LinuxVfio`] for the real kernel),
//! so tests replace the kernel with a scripted fake.

mod sys;

pub use sys::{
    vfio_device_info, vfio_irq_info, vfio_region_info, IrqSet, LinuxVfio, MappedBar, SysFd, VfioSys,
};

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use vfio_bindings::bindings::vfio::{
    VFIO_TYPE1v2_IOMMU, VFIO_API_VERSION, VFIO_DEVICE_FLAGS_PCI, VFIO_GROUP_FLAGS_VIABLE,
    VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE,
    VFIO_PCI_BAR0_REGION_INDEX, VFIO_PCI_CONFIG_REGION_INDEX, VFIO_PCI_MSIX_IRQ_INDEX,
    VFIO_REGION_INFO_FLAG_MMAP, VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE,
    VFIO_TYPE1_IOMMU,
};
use vmm_sys_util::eventfd::EventFd;

use crate::error::{Error, PciId, Result};
use crate::transport::{
    check_access, hot_path_access_in, DmaArena, DmaMemory, HugePages, InterruptVectors,
    RegisterAccess, MSIX_PAGES,
};

/// Root of the PCI devices in sysfs.
pub const SYSFS_PCI_DEVICES: &str = "/sys/bus/pci/devices";
/// Root of the IOMMU groups in sysfs.
pub const SYSFS_IOMMU_GROUPS: &str = "/sys/kernel/iommu_groups";
/// The VFIO container device.
pub const VFIO_CONTAINER_PATH: &str = "/dev/vfio/vfio";

/// PCI config space: command register offset.
pub const PCI_COMMAND: u64 = 0x04;
/// Command register: memory space decode enable.
pub const PCI_COMMAND_MEMORY: u16 = 1 << 1;
/// Command register: bus master enable (bit 2).
pub const PCI_COMMAND_MASTER: u16 = 1 << 2;

/// PCI config space: status register offset.
pub const PCI_STATUS: u64 = 0x06;
/// Status register: the capability list is present.
pub const PCI_STATUS_CAP_LIST: u16 = 1 << 4;
/// PCI config space: first capability pointer.
pub const PCI_CAPABILITY_LIST: u64 = 0x34;
/// Capability ID of MSI-X.
pub const PCI_CAP_ID_MSIX: u8 = 0x11;
/// sysfs directory of the vfio-pci driver (present once the module is loaded).
pub const SYSFS_VFIO_PCI_DRIVER: &str = "/sys/bus/pci/drivers/vfio-pci";

/// Where the device keeps its MSI-X table and PBA, from the MSI-X capability in
/// config space. vfio-pci owns both; the transport refuses register accesses to
/// them ([`Error::MsixPageAccess`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MsixLayout {
    /// Config-space offset of the MSI-X capability.
    pub cap_offset: u8,
    /// Table size (vectors) from Message Control.
    pub vectors: u32,
    /// BAR holding the table (BIR).
    pub table_bar: u32,
    /// Offset of the table in that BAR.
    pub table_offset: u32,
    /// BAR holding the PBA.
    pub pba_bar: u32,
    /// Offset of the PBA in that BAR.
    pub pba_offset: u32,
}

impl MsixLayout {
    /// Bytes of the table (16 per vector) in [`Self::table_bar`].
    pub fn table_range(&self) -> Range<u64> {
        let start = u64::from(self.table_offset);
        start..start + 16 * u64::from(self.vectors)
    }

    /// Bytes of the PBA (one bit per vector, in 64-bit words) in [`Self::pba_bar`].
    pub fn pba_range(&self) -> Range<u64> {
        let start = u64::from(self.pba_offset);
        start..start + 8 * u64::from(self.vectors.div_ceil(64))
    }

    /// The ranges of BAR `bar` that register accesses must not touch.
    pub fn refused_in(&self, bar: u32) -> Vec<Range<u64>> {
        let mut v = Vec::new();
        if self.table_bar == bar {
            v.push(self.table_range());
        }
        if self.pba_bar == bar {
            v.push(self.pba_range());
        }
        v
    }

    /// True when `offset..offset + len` of BAR `bar` overlaps the table or PBA.
    pub fn overlaps(&self, bar: u32, offset: u64, len: u64) -> bool {
        self.refused_in(bar)
            .iter()
            .any(|r| offset < r.end && offset + len > r.start)
    }
}

/// Default IOVA of the DMA arena: 4 GiB, clear of the x86 MSI window
/// (`0xFEE0_0000..0xFEF0_0000`) and of low reserved ranges; 2 MiB aligned.
pub const DEFAULT_IOVA_BASE: u64 = 0x1_0000_0000;
/// Default DMA arena size: 64 MiB.
pub const DEFAULT_ARENA_SIZE: usize = 64 << 20;

/// What [`VfioTransport::open`] opens, and how.
#[derive(Clone, Debug)]
pub struct VfioConfig {
    /// PCI address, `DDDD:BB:DD.F` (or `BB:DD.F`, domain 0).
    pub bdf: String,
    /// Refuse a function whose vendor/device ID differs (`None`: any).
    pub pci_id: Option<PciId>,
    /// Check that the function is an oxnic: BAR0 at least
    /// [`oxnic_regs::BAR0_SIZE`] bytes, its ID register reads
    /// [`oxnic_regs::ID_MAGIC`], and its MSI-X table and PBA sit where
    /// `oxnic_regs::msix` says (then the whole of [`MSIX_PAGES`] is refused).
    /// Turn off to exercise the transport on another device (e.g. QEMU's e1000e in
    /// a VM): the refused ranges then come from the device's MSI-X capability.
    pub check_oxnic: bool,
    /// DMA arena size in bytes (rounded up to the page size).
    pub arena_size: usize,
    /// IOVA of the arena's first byte (4 KiB aligned; 2 MiB for huge pages).
    pub iova_base: u64,
    /// Huge-page policy for the arena.
    pub huge_pages: HugePages,
}

impl VfioConfig {
    /// Defaults for an oxnic at `bdf`: ID check on, 64 MiB arena at 4 GiB,
    /// huge pages when available.
    pub fn new(bdf: impl Into<String>) -> Self {
        VfioConfig {
            bdf: bdf.into(),
            pci_id: None,
            check_oxnic: true,
            arena_size: DEFAULT_ARENA_SIZE,
            iova_base: DEFAULT_IOVA_BASE,
            huge_pages: HugePages::Try,
        }
    }
}

/// Normalises a PCI address to `dddd:bb:dd.f` (lower case, domain added).
pub fn parse_bdf(bdf: &str) -> Result<String> {
    let bad = || Error::InvalidBdf { bdf: bdf.into() };
    let s = bdf.trim().to_ascii_lowercase();
    let full = if s.matches(':').count() == 1 {
        format!("0000:{s}")
    } else {
        s
    };
    let (dom, rest) = full.split_once(':').ok_or_else(bad)?;
    let (bus, rest) = rest.split_once(':').ok_or_else(bad)?;
    let (dev, func) = rest.split_once('.').ok_or_else(bad)?;
    let hex = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_hexdigit());
    let dev_ok = hex(dev, 2) && u8::from_str_radix(dev, 16).is_ok_and(|d| d < 0x20);
    let func_ok = func.len() == 1 && matches!(func.as_bytes()[0], b'0'..=b'7');
    if !(hex(dom, 4) && hex(bus, 2) && dev_ok && func_ok) {
        return Err(bad());
    }
    Ok(full)
}

fn parse_hex_u16(s: &str) -> Option<u16> {
    let s = s.trim();
    u16::from_str_radix(s.strip_prefix("0x").unwrap_or(s), 16).ok()
}

fn link_name(p: &Path) -> Option<String> {
    p.file_name().map(|n| n.to_string_lossy().into_owned())
}

fn ioctl_err(name: &'static str, on: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let on = on.into();
    move |source| Error::Ioctl { name, on, source }
}

/// The card through vfio-pci. See the [module documentation](self).
pub struct VfioTransport {
    sys: Arc<dyn VfioSys>,
    bdf: String,
    group_id: u32,
    container: Option<SysFd>,
    group: Option<SysFd>,
    group_attached: bool,
    device: Option<SysFd>,
    config_offset: u64,
    config_size: u64,
    msix: Option<MsixLayout>,
    /// BAR0 ranges refused to register accesses (the MSI-X table/PBA).
    bar0_refused: Vec<Range<u32>>,
    bus_master_set: bool,
    bar0: Option<Box<dyn MappedBar>>,
    bar0_size: u32,
    arena: DmaArena,
    dma_mapped: bool,
    max_vectors: u32,
    /// Vectors bound now; the lock also serialises SET_IRQS calls.
    irqs: Mutex<u32>,
}

impl std::fmt::Debug for VfioTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VfioTransport")
            .field("bdf", &self.bdf)
            .field("group", &self.group_id)
            .field("bar0_size", &self.bar0_size)
            .field("arena", &self.arena)
            .field("max_vectors", &self.max_vectors)
            .finish_non_exhaustive()
    }
}

impl VfioTransport {
    /// Opens the device with the real kernel ([`LinuxVfio`]).
    pub fn open(config: &VfioConfig) -> Result<Self> {
        Self::open_with(config, Arc::new(LinuxVfio))
    }

    /// Opens the device through `sys` (a fake in tests).
    pub fn open_with(config: &VfioConfig, sys: Arc<dyn VfioSys>) -> Result<Self> {
        let bdf = parse_bdf(&config.bdf)?;
        let dev_dir = Path::new(SYSFS_PCI_DEVICES).join(&bdf);

        // 1. sysfs.
        let vendor = match sys.read_to_string(&dev_dir.join("vendor")) {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::NoSuchDevice { bdf });
            }
            Err(source) => {
                return Err(Error::Io {
                    what: "reading the PCI vendor ID",
                    path: dev_dir.join("vendor"),
                    source,
                })
            }
        };
        if let Some(expected) = config.pci_id {
            let device = sys
                .read_to_string(&dev_dir.join("device"))
                .map_err(|source| Error::Io {
                    what: "reading the PCI device ID",
                    path: dev_dir.join("device"),
                    source,
                })?;
            let found = PciId {
                vendor: parse_hex_u16(&vendor).unwrap_or(0),
                device: parse_hex_u16(&device).unwrap_or(0),
            };
            if found != expected {
                return Err(Error::WrongPciId {
                    bdf,
                    expected,
                    found,
                });
            }
        }
        let driver = driver_of(&*sys, &bdf)?;
        if driver.as_deref() != Some("vfio-pci") {
            // Without the vfio-pci module no rebinding can help: say that first.
            let drv_dir = PathBuf::from(SYSFS_VFIO_PCI_DRIVER);
            if let Err(e) = sys.read_dir_names(&drv_dir) {
                if e.kind() == io::ErrorKind::NotFound {
                    return Err(Error::VfioModuleMissing { path: drv_dir });
                }
            }
            return Err(Error::NotBoundToVfio { bdf, driver });
        }
        let group_id = match sys.read_link(&dev_dir.join("iommu_group")) {
            Ok(p) => link_name(&p)
                .and_then(|n| n.parse::<u32>().ok())
                .ok_or_else(|| Error::Io {
                    what: "parsing the IOMMU group link",
                    path: p.clone(),
                    source: io::Error::new(io::ErrorKind::InvalidData, "not a group number"),
                })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::NoIommuGroup { bdf });
            }
            Err(source) => {
                return Err(Error::Io {
                    what: "reading the IOMMU group link",
                    path: dev_dir.join("iommu_group"),
                    source,
                })
            }
        };

        // 2. DMA arena and the locked-memory limit.
        let arena = DmaArena::new(config.arena_size, config.iova_base, config.huge_pages)?;
        let limit = sys.memlock_limit().map_err(|source| Error::Io {
            what: "reading RLIMIT_MEMLOCK",
            path: PathBuf::from("/proc/self/status"),
            source,
        })?;
        if limit < arena.len() as u64 {
            return Err(Error::MemlockTooLow {
                limit,
                needed: arena.len() as u64,
            });
        }

        let mut t = VfioTransport {
            sys: sys.clone(),
            bdf: bdf.clone(),
            group_id,
            container: None,
            group: None,
            group_attached: false,
            device: None,
            config_offset: 0,
            config_size: 0,
            msix: None,
            bar0_refused: Vec::new(),
            bus_master_set: false,
            bar0: None,
            bar0_size: 0,
            arena,
            dma_mapped: false,
            max_vectors: 0,
            irqs: Mutex::new(0),
        };
        // From here on, an error drops `t`, which undoes what was done.

        // 3. Container.
        let cpath = PathBuf::from(VFIO_CONTAINER_PATH);
        let container = sys.open(&cpath).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Error::VfioModuleMissing {
                path: cpath.clone(),
            },
            io::ErrorKind::PermissionDenied => Error::PermissionDenied {
                path: cpath.clone(),
            },
            _ => Error::Io {
                what: "opening the VFIO container",
                path: cpath.clone(),
                source: e,
            },
        })?;
        t.container = Some(container);
        let version = sys
            .get_api_version(container)
            .map_err(ioctl_err("VFIO_GET_API_VERSION", "container"))?;
        if version != VFIO_API_VERSION as i32 {
            return Err(Error::WrongApiVersion {
                found: version,
                expected: VFIO_API_VERSION,
            });
        }
        let has = |ext| -> Result<bool> {
            Ok(sys
                .check_extension(container, ext)
                .map_err(ioctl_err("VFIO_CHECK_EXTENSION", "container"))?
                > 0)
        };
        let iommu_type = if has(VFIO_TYPE1v2_IOMMU)? {
            VFIO_TYPE1v2_IOMMU
        } else if has(VFIO_TYPE1_IOMMU)? {
            VFIO_TYPE1_IOMMU
        } else {
            return Err(Error::NoType1Iommu);
        };

        // 4. Group.
        let gpath = PathBuf::from(format!("/dev/vfio/{group_id}"));
        let group = sys.open(&gpath).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Error::GroupDeviceMissing {
                bdf: bdf.clone(),
                group: group_id,
                path: gpath.clone(),
            },
            io::ErrorKind::PermissionDenied => Error::PermissionDenied {
                path: gpath.clone(),
            },
            _ if e.raw_os_error() == Some(libc::EBUSY) => Error::GroupBusy {
                group: group_id,
                path: gpath.clone(),
            },
            _ => Error::Io {
                what: "opening the VFIO group",
                path: gpath.clone(),
                source: e,
            },
        })?;
        t.group = Some(group);
        let on_group = format!("group {group_id}");
        let flags = sys
            .group_status(group)
            .map_err(ioctl_err("VFIO_GROUP_GET_STATUS", on_group.clone()))?;
        if flags & VFIO_GROUP_FLAGS_VIABLE == 0 {
            return Err(Error::GroupNotViable {
                group: group_id,
                members: group_members(&*sys, group_id),
            });
        }
        sys.group_set_container(group, container)
            .map_err(ioctl_err("VFIO_GROUP_SET_CONTAINER", on_group.clone()))?;
        t.group_attached = true;
        sys.set_iommu(container, iommu_type)
            .map_err(ioctl_err("VFIO_SET_IOMMU", "container"))?;

        // 5. Device.
        let on_dev = format!("device {bdf}");
        let device = sys
            .group_device_fd(group, &bdf)
            .map_err(ioctl_err("VFIO_GROUP_GET_DEVICE_FD", on_group))?;
        t.device = Some(device);
        let unsuitable = |why: String| Error::UnsuitableDevice {
            bdf: bdf.clone(),
            why,
        };
        let info = sys
            .device_info(device)
            .map_err(ioctl_err("VFIO_DEVICE_GET_INFO", on_dev.clone()))?;
        if info.flags & VFIO_DEVICE_FLAGS_PCI == 0 {
            return Err(unsuitable("not a PCI device".into()));
        }
        if info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX
            || info.num_irqs <= VFIO_PCI_MSIX_IRQ_INDEX
        {
            return Err(unsuitable(format!(
                "only {} regions and {} IRQ indexes",
                info.num_regions, info.num_irqs
            )));
        }
        let bar0 = sys
            .region_info(device, VFIO_PCI_BAR0_REGION_INDEX)
            .map_err(ioctl_err("VFIO_DEVICE_GET_REGION_INFO", on_dev.clone()))?;
        let cfg = sys
            .region_info(device, VFIO_PCI_CONFIG_REGION_INDEX)
            .map_err(ioctl_err("VFIO_DEVICE_GET_REGION_INFO", on_dev.clone()))?;
        let msix = sys
            .irq_info(device, VFIO_PCI_MSIX_IRQ_INDEX)
            .map_err(ioctl_err("VFIO_DEVICE_GET_IRQ_INFO", on_dev.clone()))?;
        let rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
        if bar0.size == 0
            || bar0.flags & (rw | VFIO_REGION_INFO_FLAG_MMAP) != rw | VFIO_REGION_INFO_FLAG_MMAP
        {
            return Err(unsuitable(format!(
                "BAR0 ({} bytes, flags {:#x}) is not a readable, writable, mmappable memory BAR",
                bar0.size, bar0.flags
            )));
        }
        let bar0_size = u32::try_from(bar0.size)
            .map_err(|_| unsuitable(format!("BAR0 is {} bytes, more than 4 GiB", bar0.size)))?;
        if config.check_oxnic && bar0_size < oxnic_regs::BAR0_SIZE {
            return Err(unsuitable(format!(
                "BAR0 is {bar0_size:#x} bytes, an oxnic has {:#x}: is this the right function?",
                oxnic_regs::BAR0_SIZE
            )));
        }
        if cfg.flags & rw != rw || cfg.size < 0x40 {
            return Err(unsuitable("config space region is not read/write".into()));
        }
        if msix.count == 0 {
            return Err(unsuitable("no MSI-X vectors".into()));
        }
        t.config_offset = cfg.offset;
        t.config_size = cfg.size;
        t.max_vectors = msix.count;

        // The MSI-X table and PBA: where the device says they are.
        let layout = t
            .find_msix_capability()?
            .ok_or_else(|| unsuitable("no MSI-X capability in config space".into()))?;
        if config.check_oxnic {
            let expected_table = oxnic_regs::msix::TABLE_OFFSET;
            let expected_pba = oxnic_regs::msix::PBA_OFFSET;
            let table_end = layout.table_range().end;
            if layout.table_bar != 0
                || layout.pba_bar != 0
                || layout.table_offset != expected_table
                || layout.pba_offset != expected_pba
                || table_end > u64::from(expected_table + oxnic_regs::msix::TABLE_SIZE)
            {
                return Err(unsuitable(format!(
                    "MSI-X table at BAR{} {:#x} ({} vectors), PBA at BAR{} {:#x}; an oxnic has \
                     them at BAR0 {expected_table:#x} and BAR0 {expected_pba:#x}",
                    layout.table_bar,
                    layout.table_offset,
                    layout.vectors,
                    layout.pba_bar,
                    layout.pba_offset
                )));
            }
            t.bar0_refused = vec![MSIX_PAGES];
        } else {
            t.bar0_refused = layout
                .refused_in(0)
                .into_iter()
                .map(|r| {
                    let clamp = |x: u64| u32::try_from(x).unwrap_or(u32::MAX);
                    clamp(r.start)..clamp(r.end)
                })
                .collect();
        }
        t.msix = Some(layout);

        // 6. Bus mastering.
        t.update_command(|c| c | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)?;
        t.bus_master_set = true;

        // 7. BAR0.
        let map = sys
            .mmap(device, bar0.offset, bar0_size as usize)
            .map_err(|source| Error::Io {
                what: "mapping BAR0 of the VFIO device",
                path: PathBuf::from(format!("/dev/vfio/{group_id}")),
                source,
            })?;
        if map.len() < bar0_size as usize || map.as_ptr() as usize % 4 != 0 {
            return Err(unsuitable("the BAR0 mapping is shorter than BAR0".into()));
        }
        t.bar0 = Some(map);
        t.bar0_size = bar0_size;
        if config.check_oxnic {
            let id = t.read32(oxnic_regs::global::ID);
            if id != oxnic_regs::ID_MAGIC {
                return Err(Error::WrongDeviceId {
                    bdf,
                    found: id,
                    expected: oxnic_regs::ID_MAGIC,
                });
            }
        }

        // 8. The arena, mapped once.
        // SAFETY: the arena's memory stays mapped while `t` (which holds a clone
        // of the arena) lives, and `t`'s Drop unmaps the IOVA range before that
        // clone is released. The arena is only accessed through volatile
        // accessors and raw pointers (see `DmaRegion`), never references.
        unsafe {
            sys.map_dma(
                container,
                t.arena.host_base(),
                t.arena.iova_base(),
                t.arena.len() as u64,
            )
        }
        .map_err(ioctl_err("VFIO_IOMMU_MAP_DMA", "container"))?;
        t.dma_mapped = true;

        tracing::info!(
            bdf = %t.bdf, group = group_id, bar0_size, vectors = t.max_vectors,
            arena = t.arena.len(), huge = t.arena.is_huge_pages(), "VFIO transport open"
        );
        Ok(t)
    }

    /// The device's PCI address.
    pub fn bdf(&self) -> &str {
        &self.bdf
    }

    /// The device's IOMMU group.
    pub fn iommu_group(&self) -> u32 {
        self.group_id
    }

    /// Reads the PCI command register.
    pub fn pci_command(&self) -> Result<u16> {
        self.config_read16(PCI_COMMAND)
    }

    /// Reads `buf.len()` bytes of PCI config space at `offset` (through the VFIO
    /// config region, i.e. vfio-pci's virtualised view).
    pub fn config_read(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let dev = self.device.expect("open device");
        if offset + buf.len() as u64 > self.config_size {
            return Err(self.config_io_err(io::Error::from(io::ErrorKind::InvalidInput)));
        }
        let n = self
            .sys
            .pread(dev, buf, self.config_offset + offset)
            .map_err(|source| self.config_io_err(source))?;
        if n != buf.len() {
            return Err(self.config_io_err(io::Error::from(io::ErrorKind::UnexpectedEof)));
        }
        Ok(())
    }

    /// Reads a 16-bit config-space register (e.g. vendor ID at 0, device ID at 2).
    pub fn config_read16(&self, offset: u64) -> Result<u16> {
        let mut b = [0u8; 2];
        self.config_read(offset, &mut b)?;
        Ok(u16::from_le_bytes(b))
    }

    /// Reads a 32-bit config-space register.
    pub fn config_read32(&self, offset: u64) -> Result<u32> {
        let mut b = [0u8; 4];
        self.config_read(offset, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Where the device keeps its MSI-X table and PBA.
    pub fn msix_layout(&self) -> &MsixLayout {
        self.msix.as_ref().expect("found at open")
    }

    /// The BAR0 ranges [`RegisterAccess`] refuses (the MSI-X table/PBA if they are
    /// in BAR0; on an oxnic the whole of [`MSIX_PAGES`]).
    pub fn bar0_refused(&self) -> &[Range<u32>] {
        &self.bar0_refused
    }

    /// Walks the capability list for the MSI-X capability.
    fn find_msix_capability(&self) -> Result<Option<MsixLayout>> {
        if self.config_read16(PCI_STATUS)? & PCI_STATUS_CAP_LIST == 0 {
            return Ok(None);
        }
        let mut ptr = self.config_read16(PCI_CAPABILITY_LIST)? as u8 & 0xFC;
        // At most 48 capabilities fit in the 192 bytes after the header.
        for _ in 0..48 {
            if ptr < 0x40 {
                return Ok(None);
            }
            let head = self.config_read16(u64::from(ptr))?;
            if head as u8 == PCI_CAP_ID_MSIX {
                let ctrl = self.config_read16(u64::from(ptr) + 2)?;
                let table = self.config_read32(u64::from(ptr) + 4)?;
                let pba = self.config_read32(u64::from(ptr) + 8)?;
                return Ok(Some(MsixLayout {
                    cap_offset: ptr,
                    vectors: u32::from(ctrl & 0x7FF) + 1,
                    table_bar: table & 7,
                    table_offset: table & !7,
                    pba_bar: pba & 7,
                    pba_offset: pba & !7,
                }));
            }
            ptr = (head >> 8) as u8 & 0xFC;
        }
        Ok(None)
    }

    /// Reads the 32-bit register at `offset` of BAR `bar` (0..=5) through the
    /// VFIO region (`pread` on the device fd): for BARs other than BAR0, which is
    /// mapped ([`RegisterAccess`]). Refuses the MSI-X table and PBA
    /// ([`Error::MsixPageAccess`]), misaligned offsets and offsets outside the BAR.
    pub fn bar_read32(&self, bar: u32, offset: u64) -> Result<u32> {
        let at = self.bar_access(bar, offset)?;
        let mut b = [0u8; 4];
        let n = self
            .sys
            .pread(self.device.expect("open device"), &mut b, at)
            .map_err(|source| self.bar_io_err(bar, source))?;
        if n != 4 {
            return Err(self.bar_io_err(bar, io::Error::from(io::ErrorKind::UnexpectedEof)));
        }
        Ok(u32::from_le_bytes(b))
    }

    /// Writes the 32-bit register at `offset` of BAR `bar`; see [`Self::bar_read32`].
    pub fn bar_write32(&self, bar: u32, offset: u64, value: u32) -> Result<()> {
        let at = self.bar_access(bar, offset)?;
        let n = self
            .sys
            .pwrite(self.device.expect("open device"), &value.to_le_bytes(), at)
            .map_err(|source| self.bar_io_err(bar, source))?;
        if n != 4 {
            return Err(self.bar_io_err(bar, io::Error::from(io::ErrorKind::WriteZero)));
        }
        Ok(())
    }

    /// Checks a BAR access; returns the device-fd offset to use.
    fn bar_access(&self, bar: u32, offset: u64) -> Result<u64> {
        let small = u32::try_from(offset).unwrap_or(u32::MAX);
        if offset % 4 != 0 {
            return Err(Error::MisalignedRegister { offset: small });
        }
        if self.msix_layout().overlaps(bar, offset, 4) {
            return Err(Error::MsixPageAccess { bar, offset: small });
        }
        let info = if bar <= 5 {
            self.sys
                .region_info(self.device.expect("open device"), bar)
                .map_err(ioctl_err(
                    "VFIO_DEVICE_GET_REGION_INFO",
                    format!("device {}", self.bdf),
                ))?
        } else {
            vfio_region_info::default()
        };
        let rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
        let size = if info.flags & rw == rw { info.size } else { 0 };
        if offset + 4 > size {
            return Err(Error::OutOfBar { bar, offset, size });
        }
        Ok(info.offset + offset)
    }

    fn bar_io_err(&self, bar: u32, source: io::Error) -> Error {
        Error::Io {
            what: "accessing a BAR through the VFIO region",
            path: Path::new(SYSFS_PCI_DEVICES)
                .join(&self.bdf)
                .join(format!("resource{bar}")),
            source,
        }
    }

    fn config_io_err(&self, source: io::Error) -> Error {
        Error::Io {
            what: "accessing PCI config space",
            path: Path::new(SYSFS_PCI_DEVICES).join(&self.bdf).join("config"),
            source,
        }
    }

    /// Read-modify-write of the command register through the config region.
    fn update_command(&self, f: impl FnOnce(u16) -> u16) -> Result<()> {
        let dev = self.device.expect("open device");
        let old = self.pci_command()?;
        let new = f(old);
        if new != old {
            let n = self
                .sys
                .pwrite(dev, &new.to_le_bytes(), self.config_offset + PCI_COMMAND)
                .map_err(|source| self.config_io_err(source))?;
            if n != 2 {
                return Err(self.config_io_err(io::Error::from(io::ErrorKind::WriteZero)));
            }
        }
        Ok(())
    }

    fn set_irqs(&self, flags: u32, start: u32, count: u32, eventfds: Vec<i32>) -> Result<()> {
        let set = IrqSet {
            flags,
            index: VFIO_PCI_MSIX_IRQ_INDEX,
            start,
            count,
            eventfds,
        };
        self.sys
            .set_irqs(self.device.expect("open device"), &set)
            .map_err(ioctl_err(
                "VFIO_DEVICE_SET_IRQS",
                format!("device {}", self.bdf),
            ))
    }

    fn bar0_ptr(&self, offset: u32) -> *mut u32 {
        let bar = self.bar0.as_ref().expect("BAR0 mapped");
        // In bounds and aligned: checked by `hot_path_access_in` before every use.
        bar.as_ptr().wrapping_add(offset as usize).cast::<u32>()
    }
}

fn driver_of(sys: &dyn VfioSys, bdf: &str) -> Result<Option<String>> {
    let path = Path::new(SYSFS_PCI_DEVICES).join(bdf).join("driver");
    match sys.read_link(&path) {
        Ok(p) => Ok(link_name(&p)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            what: "reading the driver link",
            path,
            source,
        }),
    }
}

/// Every device of the group with its driver (best effort, for error messages).
fn group_members(sys: &dyn VfioSys, group: u32) -> Vec<(String, Option<String>)> {
    let dir = Path::new(SYSFS_IOMMU_GROUPS)
        .join(group.to_string())
        .join("devices");
    sys.read_dir_names(&dir)
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            let drv = driver_of(sys, &m).ok().flatten();
            (m, drv)
        })
        .collect()
}

impl RegisterAccess for VfioTransport {
    fn bar0_size(&self) -> u32 {
        self.bar0_size
    }

    #[inline]
    fn read32(&self, offset: u32) -> u32 {
        if !hot_path_access_in(offset, self.bar0_size, &self.bar0_refused) {
            return u32::MAX;
        }
        // SAFETY: `hot_path_access_in` checked offset + 4 <= bar0_size <= mapping
        // length and 4-byte alignment (the mapping base is page aligned); the
        // mapping lives as long as `self` (MappedBar contract).
        u32::from_le(unsafe { self.bar0_ptr(offset).read_volatile() })
    }

    #[inline]
    fn write32(&self, offset: u32, value: u32) {
        if !hot_path_access_in(offset, self.bar0_size, &self.bar0_refused) {
            return;
        }
        // SAFETY: as in `read32`.
        unsafe { self.bar0_ptr(offset).write_volatile(value.to_le()) }
    }

    fn try_read32(&self, offset: u32) -> Result<u32> {
        check_access(offset, self.bar0_size, &self.bar0_refused)?;
        Ok(self.read32(offset))
    }

    fn try_write32(&self, offset: u32, value: u32) -> Result<()> {
        check_access(offset, self.bar0_size, &self.bar0_refused)?;
        self.write32(offset, value);
        Ok(())
    }
}

impl DmaMemory for VfioTransport {
    fn dma_arena(&self) -> &DmaArena {
        &self.arena
    }
}

impl InterruptVectors for VfioTransport {
    fn max_vectors(&self) -> u32 {
        self.max_vectors
    }

    fn bound_vectors(&self) -> u32 {
        *self.irqs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bind_vectors(&self, fds: &[&EventFd]) -> Result<()> {
        use std::os::fd::AsRawFd;
        let mut bound = self.irqs.lock().unwrap_or_else(|e| e.into_inner());
        if *bound > 0 {
            return Err(Error::VectorsAlreadyBound { bound: *bound });
        }
        let requested = u32::try_from(fds.len()).unwrap_or(u32::MAX);
        if requested > self.max_vectors {
            return Err(Error::TooManyVectors {
                requested,
                available: self.max_vectors,
            });
        }
        if requested == 0 {
            return Err(Error::InvalidConfig(
                "bind_vectors needs at least one eventfd".into(),
            ));
        }
        // One call, vectors 0..N: vfio-pci fixes the vector count at the first
        // enable, so binding vector by vector would fail or rebind vector 0.
        self.set_irqs(
            VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
            0,
            requested,
            fds.iter().map(|f| f.as_raw_fd()).collect(),
        )?;
        *bound = requested;
        Ok(())
    }

    fn trigger_vector(&self, vector: u32) -> Result<()> {
        let bound = self.irqs.lock().unwrap_or_else(|e| e.into_inner());
        if vector >= *bound {
            return Err(Error::VectorNotBound {
                vector,
                bound: *bound,
            });
        }
        self.set_irqs(
            VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
            vector,
            1,
            Vec::new(),
        )
    }

    fn unbind_vectors(&self) -> Result<()> {
        let mut bound = self.irqs.lock().unwrap_or_else(|e| e.into_inner());
        if *bound == 0 {
            return Ok(());
        }
        self.set_irqs(
            VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
            0,
            0,
            Vec::new(),
        )?;
        *bound = 0;
        Ok(())
    }
}

impl Drop for VfioTransport {
    fn drop(&mut self) {
        // Reverse order of `open`; every step is best effort and logged.
        if let Err(e) = self.unbind_vectors() {
            tracing::warn!(error = %e, "disabling MSI-X at close");
        }
        if self.bus_master_set {
            // No DMA may be in flight once the IOVA range goes away.
            if let Err(e) = self.update_command(|c| c & !PCI_COMMAND_MASTER) {
                tracing::warn!(error = %e, "clearing bus master at close");
            }
        }
        if let (true, Some(c)) = (self.dma_mapped, self.container) {
            match self
                .sys
                .unmap_dma(c, self.arena.iova_base(), self.arena.len() as u64)
            {
                Ok(n) if n == self.arena.len() as u64 => {}
                Ok(n) => tracing::warn!(unmapped = n, "VFIO_IOMMU_UNMAP_DMA unmapped less"),
                Err(e) => tracing::warn!(error = %e, "VFIO_IOMMU_UNMAP_DMA at close"),
            }
        }
        self.bar0 = None;
        if let Some(d) = self.device.take() {
            self.sys.close(d);
        }
        if let (true, Some(g), Some(c)) = (self.group_attached, self.group, self.container) {
            if let Err(e) = self.sys.group_unset_container(g, c) {
                tracing::warn!(error = %e, "VFIO_GROUP_UNSET_CONTAINER at close");
            }
        }
        if let Some(g) = self.group.take() {
            self.sys.close(g);
        }
        if let Some(c) = self.container.take() {
            self.sys.close(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bdf_forms() {
        assert_eq!(parse_bdf("0000:00:03.0").unwrap(), "0000:00:03.0");
        assert_eq!(parse_bdf("00:1F.7").unwrap(), "0000:00:1f.7");
        for bad in [
            "",
            "00:03",
            "0000:00:03.8",
            "0000:00:20.0",
            "zz:00.0",
            "0:00:03.0",
        ] {
            assert!(
                matches!(parse_bdf(bad), Err(Error::InvalidBdf { .. })),
                "{bad}"
            );
        }
    }
}
