//! The VFIO transport against a scripted fake of the kernel ([`VfioSys`]): every
//! typed error of the set-up, the call sequence of the happy path (one SET_IRQS for
//! all vectors from 0, bus master set, teardown order) and the register-access
//! policy, without hardware or root.
#![cfg(not(loom))]

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use oxnic_driver::vfio::{
    vfio_device_info, vfio_irq_info, vfio_region_info, IrqSet, MappedBar, SysFd,
};
use oxnic_driver::{
    DmaMemory, Error, EventFd, HugePages, InterruptVectors, PciId, RegisterAccess, Transport,
    VfioConfig, VfioSys, VfioTransport,
};
use oxnic_regs::{global, msix, BAR0_SIZE, ID_MAGIC};

const BDF: &str = "0000:00:03.0";
const GROUP: u32 = 7;
const CONFIG_OFFSET: u64 = 0x70_0000_0000;
const BAR0_OFFSET: u64 = 0;
const VECTORS: u32 = 8;
const ARENA: usize = 1 << 20;

// VFIO constants, spelled out so the test does not depend on the bindings.
const DATA_NONE: u32 = 1;
const DATA_EVENTFD: u32 = 4;
const ACTION_TRIGGER: u32 = 32;
const MSIX_INDEX: u32 = 2;
const TYPE1: u32 = 1;
const TYPE1V2: u32 = 3;

/// BAR0 backed by memory.
struct FakeBar {
    words: Box<[AtomicU32]>,
}

impl FakeBar {
    fn new(size: u32) -> Arc<Self> {
        let words = (0..size / 4).map(|_| AtomicU32::new(0)).collect();
        Arc::new(FakeBar { words })
    }
    fn get(&self, off: u32) -> u32 {
        self.words[off as usize / 4].load(Relaxed)
    }
    fn set(&self, off: u32, v: u32) {
        self.words[off as usize / 4].store(v, Relaxed)
    }
}

struct FakeMapping {
    bar: Arc<FakeBar>,
    log: Arc<Mutex<Vec<String>>>,
}

// SAFETY: the words live as long as the `Arc` held here, are 4-byte aligned, and
// AtomicU32 permits writes through a shared pointer.
unsafe impl MappedBar for FakeMapping {
    fn as_ptr(&self) -> *mut u8 {
        self.bar.words.as_ptr() as *mut u8
    }
    fn len(&self) -> usize {
        self.bar.words.len() * 4
    }
}

impl Drop for FakeMapping {
    fn drop(&mut self) {
        self.log.lock().unwrap().push("munmap BAR0".into());
    }
}

/// What the fake kernel looks like; tests change it before opening.
struct Script {
    files: HashMap<PathBuf, String>,
    links: HashMap<PathBuf, PathBuf>,
    dirs: HashMap<PathBuf, Vec<String>>,
    /// Paths whose `open` fails with this errno.
    open_errno: HashMap<PathBuf, i32>,
    memlock: u64,
    api_version: i32,
    extensions: Vec<u32>,
    group_flags: u32,
    /// ioctl name → errno it fails with.
    fail: HashMap<&'static str, i32>,
    bar0_size: u64,
    bar0_flags: u32,
    msix_count: u32,
    device_flags: u32,
    /// The MSI-X capability in config space (`None`: no capability list).
    msix_cap: Option<MsixCap>,
}

/// An MSI-X capability: table and PBA location.
#[derive(Clone, Copy)]
struct MsixCap {
    vectors: u32,
    table_bar: u32,
    table_offset: u32,
    pba_bar: u32,
    pba_offset: u32,
}

/// Where an oxnic has them (`oxnic_regs::msix`).
const OXNIC_MSIX: MsixCap = MsixCap {
    vectors: VECTORS,
    table_bar: 0,
    table_offset: msix::TABLE_OFFSET,
    pba_bar: 0,
    pba_offset: msix::PBA_OFFSET,
};

impl Default for Script {
    fn default() -> Self {
        let dev = Path::new("/sys/bus/pci/devices").join(BDF);
        let mut files = HashMap::new();
        files.insert(dev.join("vendor"), "0x1234\n".into());
        files.insert(dev.join("device"), "0x0001\n".into());
        let mut links = HashMap::new();
        links.insert(
            dev.join("driver"),
            "../../../bus/pci/drivers/vfio-pci".into(),
        );
        links.insert(
            dev.join("iommu_group"),
            format!("../../../kernel/iommu_groups/{GROUP}").into(),
        );
        let mut dirs = HashMap::new();
        // vfio-pci is loaded.
        dirs.insert(
            PathBuf::from("/sys/bus/pci/drivers/vfio-pci"),
            vec!["bind".to_string(), BDF.to_string()],
        );
        Script {
            files,
            links,
            dirs,
            open_errno: HashMap::new(),
            memlock: 8 << 20,
            api_version: 0,
            extensions: vec![TYPE1, TYPE1V2],
            group_flags: 1, // VIABLE
            fail: HashMap::new(),
            bar0_size: BAR0_SIZE as u64,
            bar0_flags: 1 | 2 | 4, // READ | WRITE | MMAP
            msix_count: VECTORS,
            device_flags: 2, // PCI
            msix_cap: Some(OXNIC_MSIX),
        }
    }
}

struct Fake {
    script: Mutex<Script>,
    log: Arc<Mutex<Vec<String>>>,
    bar: Arc<FakeBar>,
    config: Mutex<[u8; 256]>,
    open_fds: Mutex<HashSet<i32>>,
    next_fd: Mutex<i32>,
    /// Eventfds bound by the last DATA_EVENTFD SET_IRQS.
    bound: Mutex<Vec<i32>>,
}

impl Fake {
    fn new(script: Script) -> Arc<Self> {
        let bar = FakeBar::new(script.bar0_size as u32);
        bar.set(global::ID, ID_MAGIC);
        let mut config = [0u8; 256];
        // Command register: memory decode already on (as vfio-pci leaves it),
        // INTx disable (bit 10) set: must be preserved.
        config[4..6].copy_from_slice(&(0x0402u16).to_le_bytes());
        if let Some(cap) = script.msix_cap {
            // Status: capability list; one capability at 0x40, MSI-X.
            config[6] = 0x10;
            config[0x34] = 0x40;
            config[0x40] = 0x11;
            config[0x41] = 0;
            config[0x42..0x44].copy_from_slice(&((cap.vectors - 1) as u16).to_le_bytes());
            config[0x44..0x48].copy_from_slice(&(cap.table_offset | cap.table_bar).to_le_bytes());
            config[0x48..0x4C].copy_from_slice(&(cap.pba_offset | cap.pba_bar).to_le_bytes());
        }
        Arc::new(Fake {
            script: Mutex::new(script),
            log: Arc::new(Mutex::new(Vec::new())),
            bar,
            config: Mutex::new(config),
            open_fds: Mutex::new(HashSet::new()),
            next_fd: Mutex::new(100),
            bound: Mutex::new(Vec::new()),
        })
    }

    fn log(&self, s: impl Into<String>) {
        self.log.lock().unwrap().push(s.into());
    }

    fn calls(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }

    fn ioctl(&self, name: &'static str, detail: String) -> io::Result<()> {
        self.log(format!("{name}{detail}"));
        match self.script.lock().unwrap().fail.get(name) {
            Some(&errno) => Err(io::Error::from_raw_os_error(errno)),
            None => Ok(()),
        }
    }

    fn command(&self) -> u16 {
        let c = self.config.lock().unwrap();
        u16::from_le_bytes([c[4], c[5]])
    }

    fn new_fd(&self) -> SysFd {
        let mut n = self.next_fd.lock().unwrap();
        *n += 1;
        self.open_fds.lock().unwrap().insert(*n);
        SysFd(*n)
    }
}

fn not_found() -> io::Error {
    io::Error::from(io::ErrorKind::NotFound)
}

impl VfioSys for Fake {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        self.log(format!("read {}", path.display()));
        self.script
            .lock()
            .unwrap()
            .files
            .get(path)
            .cloned()
            .ok_or_else(not_found)
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        self.log(format!("readlink {}", path.display()));
        self.script
            .lock()
            .unwrap()
            .links
            .get(path)
            .cloned()
            .ok_or_else(not_found)
    }

    fn read_dir_names(&self, path: &Path) -> io::Result<Vec<String>> {
        self.script
            .lock()
            .unwrap()
            .dirs
            .get(path)
            .cloned()
            .ok_or_else(not_found)
    }

    fn memlock_limit(&self) -> io::Result<u64> {
        self.log("memlock");
        Ok(self.script.lock().unwrap().memlock)
    }

    fn open(&self, path: &Path) -> io::Result<SysFd> {
        if let Some(&e) = self.script.lock().unwrap().open_errno.get(path) {
            self.log(format!("open {} failed", path.display()));
            return Err(io::Error::from_raw_os_error(e));
        }
        let fd = self.new_fd();
        self.log(format!("open {}", path.display()));
        Ok(fd)
    }

    fn close(&self, fd: SysFd) {
        assert!(self.open_fds.lock().unwrap().remove(&fd.0), "double close");
        self.log(format!("close {}", self.describe(fd)));
    }

    fn get_api_version(&self, _c: SysFd) -> io::Result<i32> {
        self.ioctl("VFIO_GET_API_VERSION", String::new())?;
        Ok(self.script.lock().unwrap().api_version)
    }

    fn check_extension(&self, _c: SysFd, ext: u32) -> io::Result<i32> {
        self.ioctl("VFIO_CHECK_EXTENSION", format!(" {ext}"))?;
        Ok(self.script.lock().unwrap().extensions.contains(&ext) as i32)
    }

    fn set_iommu(&self, _c: SysFd, t: u32) -> io::Result<()> {
        self.ioctl("VFIO_SET_IOMMU", format!(" {t}"))
    }

    unsafe fn map_dma(&self, _c: SysFd, vaddr: *mut u8, iova: u64, size: u64) -> io::Result<()> {
        self.ioctl(
            "VFIO_IOMMU_MAP_DMA",
            format!(" vaddr={:#x} iova={iova:#x} size={size:#x}", vaddr as usize),
        )
    }

    fn unmap_dma(&self, _c: SysFd, iova: u64, size: u64) -> io::Result<u64> {
        self.ioctl(
            "VFIO_IOMMU_UNMAP_DMA",
            format!(" iova={iova:#x} size={size:#x}"),
        )?;
        Ok(size)
    }

    fn group_status(&self, _g: SysFd) -> io::Result<u32> {
        self.ioctl("VFIO_GROUP_GET_STATUS", String::new())?;
        Ok(self.script.lock().unwrap().group_flags)
    }

    fn group_set_container(&self, _g: SysFd, _c: SysFd) -> io::Result<()> {
        self.ioctl("VFIO_GROUP_SET_CONTAINER", String::new())
    }

    fn group_unset_container(&self, _g: SysFd, _c: SysFd) -> io::Result<()> {
        self.ioctl("VFIO_GROUP_UNSET_CONTAINER", String::new())
    }

    fn group_device_fd(&self, _g: SysFd, name: &str) -> io::Result<SysFd> {
        self.ioctl("VFIO_GROUP_GET_DEVICE_FD", format!(" {name}"))?;
        let fd = self.new_fd();
        Ok(fd)
    }

    fn device_info(&self, _d: SysFd) -> io::Result<vfio_device_info> {
        self.ioctl("VFIO_DEVICE_GET_INFO", String::new())?;
        Ok(vfio_device_info {
            flags: self.script.lock().unwrap().device_flags,
            num_regions: 9,
            num_irqs: 5,
            ..Default::default()
        })
    }

    fn region_info(&self, _d: SysFd, index: u32) -> io::Result<vfio_region_info> {
        self.ioctl("VFIO_DEVICE_GET_REGION_INFO", format!(" {index}"))?;
        let s = self.script.lock().unwrap();
        Ok(match index {
            0 => vfio_region_info {
                index,
                flags: s.bar0_flags,
                size: s.bar0_size,
                offset: BAR0_OFFSET,
                ..Default::default()
            },
            7 => vfio_region_info {
                index,
                flags: 1 | 2,
                size: 256,
                offset: CONFIG_OFFSET,
                ..Default::default()
            },
            _ => vfio_region_info::default(),
        })
    }

    fn irq_info(&self, _d: SysFd, index: u32) -> io::Result<vfio_irq_info> {
        self.ioctl("VFIO_DEVICE_GET_IRQ_INFO", format!(" {index}"))?;
        Ok(vfio_irq_info {
            index,
            count: if index == MSIX_INDEX {
                self.script.lock().unwrap().msix_count
            } else {
                0
            },
            ..Default::default()
        })
    }

    fn set_irqs(&self, _d: SysFd, set: &IrqSet) -> io::Result<()> {
        self.ioctl(
            "VFIO_DEVICE_SET_IRQS",
            format!(
                " flags={:#x} index={} start={} count={} fds={}",
                set.flags,
                set.index,
                set.start,
                set.count,
                set.eventfds.len()
            ),
        )?;
        if set.flags == DATA_EVENTFD | ACTION_TRIGGER {
            *self.bound.lock().unwrap() = set.eventfds.clone();
        } else if set.flags == DATA_NONE | ACTION_TRIGGER && set.count == 0 {
            self.bound.lock().unwrap().clear();
        } else if set.flags == DATA_NONE | ACTION_TRIGGER {
            // Software trigger: signal the bound eventfds, as the kernel does.
            let bound = self.bound.lock().unwrap();
            for v in set.start..set.start + set.count {
                let fd = bound[v as usize];
                let one = 1u64.to_ne_bytes();
                // SAFETY: `fd` is an eventfd the test keeps open while bound; write
                // reads 8 bytes from `one`.
                let n = unsafe { libc::write(fd, one.as_ptr().cast(), 8) };
                assert_eq!(n, 8);
            }
        }
        Ok(())
    }

    fn pread(&self, _d: SysFd, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let off = (offset - CONFIG_OFFSET) as usize;
        self.log(format!("pread config {off:#x}+{}", buf.len()));
        let c = self.config.lock().unwrap();
        buf.copy_from_slice(&c[off..off + buf.len()]);
        Ok(buf.len())
    }

    fn pwrite(&self, _d: SysFd, buf: &[u8], offset: u64) -> io::Result<usize> {
        let off = (offset - CONFIG_OFFSET) as usize;
        let mut c = self.config.lock().unwrap();
        c[off..off + buf.len()].copy_from_slice(buf);
        let v = u16::from_le_bytes([c[4], c[5]]);
        drop(c);
        self.log(format!("pwrite config {off:#x} = {v:#06x}"));
        Ok(buf.len())
    }

    fn mmap(&self, _d: SysFd, offset: u64, len: usize) -> io::Result<Box<dyn MappedBar>> {
        self.log(format!("mmap {offset:#x}+{len:#x}"));
        assert_eq!(offset, BAR0_OFFSET);
        Ok(Box::new(FakeMapping {
            bar: self.bar.clone(),
            log: self.log.clone(),
        }))
    }
}

impl Fake {
    /// fd numbers are assigned in open order: container, group, device.
    fn describe(&self, fd: SysFd) -> &'static str {
        match fd.0 {
            101 => "container",
            102 => "group",
            103 => "device",
            _ => "?",
        }
    }
}

fn config() -> VfioConfig {
    VfioConfig {
        arena_size: ARENA,
        huge_pages: HugePages::Never,
        ..VfioConfig::new(BDF)
    }
}

fn open(fake: &Arc<Fake>) -> oxnic_driver::Result<VfioTransport> {
    VfioTransport::open_with(&config(), fake.clone())
}

fn open_err(script: Script) -> (Error, Arc<Fake>) {
    let fake = Fake::new(script);
    let err = open(&fake).expect_err("open must fail");
    (err, fake)
}

/// Asserts that `needles` occur in `calls` in this order (not necessarily adjacent).
fn assert_in_order(calls: &[String], needles: &[&str]) {
    let mut it = calls.iter();
    for n in needles {
        assert!(
            it.any(|c| c.starts_with(n)),
            "{n:?} missing or out of order in:\n{}",
            calls.join("\n")
        );
    }
}

fn count(calls: &[String], prefix: &str) -> usize {
    calls.iter().filter(|c| c.starts_with(prefix)).count()
}

fn assert_all_closed(fake: &Fake) {
    assert!(
        fake.open_fds.lock().unwrap().is_empty(),
        "fds left open: {:?}\n{}",
        fake.open_fds.lock().unwrap(),
        fake.calls().join("\n")
    );
}

// ---- happy path ---------------------------------------------------------------

#[test]
fn open_issues_the_vfio_setup_sequence() {
    let fake = Fake::new(Script::default());
    let t = open(&fake).unwrap();
    let calls = fake.calls();
    assert_in_order(
        &calls,
        &[
            "read /sys/bus/pci/devices/0000:00:03.0/vendor",
            "readlink /sys/bus/pci/devices/0000:00:03.0/driver",
            "readlink /sys/bus/pci/devices/0000:00:03.0/iommu_group",
            "memlock",
            "open /dev/vfio/vfio",
            "VFIO_GET_API_VERSION",
            "VFIO_CHECK_EXTENSION 3",
            "open /dev/vfio/7",
            "VFIO_GROUP_GET_STATUS",
            "VFIO_GROUP_SET_CONTAINER",
            "VFIO_SET_IOMMU 3",
            "VFIO_GROUP_GET_DEVICE_FD 0000:00:03.0",
            "VFIO_DEVICE_GET_INFO",
            "VFIO_DEVICE_GET_REGION_INFO 0",
            "VFIO_DEVICE_GET_REGION_INFO 7",
            "VFIO_DEVICE_GET_IRQ_INFO 2",
            "pread config 0x4+2",
            "pwrite config 0x4",
            "mmap 0x0+0x80000",
            "VFIO_IOMMU_MAP_DMA",
        ],
    );
    // The arena is mapped once, whole, at its IOVA, from its host address.
    assert_eq!(count(&calls, "VFIO_IOMMU_MAP_DMA"), 1);
    let arena = t.dma_arena();
    let map = calls
        .iter()
        .find(|c| c.starts_with("VFIO_IOMMU_MAP_DMA"))
        .unwrap();
    assert_eq!(
        map,
        &format!(
            "VFIO_IOMMU_MAP_DMA vaddr={:#x} iova={:#x} size={:#x}",
            arena.host_base() as usize,
            arena.iova_base(),
            arena.len()
        )
    );
    assert_eq!(t.max_vectors(), VECTORS);
    assert_eq!(t.bound_vectors(), 0);
    assert_eq!(t.bar0_size(), BAR0_SIZE);
    assert_eq!(t.iommu_group(), GROUP);
    // No interrupt is bound by open.
    assert_eq!(count(&calls, "VFIO_DEVICE_SET_IRQS"), 0);
}

#[test]
fn bus_master_is_enabled_by_read_modify_write() {
    let fake = Fake::new(Script::default());
    let t = open(&fake).unwrap();
    let cmd = fake.command();
    assert_ne!(cmd & (1 << 2), 0, "bus master (bit 2) set: {cmd:#06x}");
    assert_ne!(cmd & (1 << 1), 0, "memory decode kept on: {cmd:#06x}");
    assert_ne!(cmd & (1 << 10), 0, "other bits preserved: {cmd:#06x}");
    assert_eq!(t.pci_command().unwrap(), cmd);
    drop(t);
    let cmd = fake.command();
    assert_eq!(cmd & (1 << 2), 0, "bus master cleared at close: {cmd:#06x}");
    assert_ne!(cmd & (1 << 10), 0);
}

#[test]
fn type1_is_used_when_type1v2_is_not_offered() {
    let fake = Fake::new(Script {
        extensions: vec![TYPE1],
        ..Script::default()
    });
    let _t = open(&fake).unwrap();
    assert_in_order(
        &fake.calls(),
        &["VFIO_CHECK_EXTENSION 1", "VFIO_SET_IOMMU 1"],
    );
}

#[test]
fn all_vectors_bound_in_one_set_irqs_call_from_zero() {
    let fake = Fake::new(Script::default());
    let t = open(&fake).unwrap();
    fake.clear_log();
    let fds: Vec<EventFd> = (0..4)
        .map(|_| EventFd::new(libc::EFD_NONBLOCK).unwrap())
        .collect();
    let refs: Vec<&EventFd> = fds.iter().collect();
    t.bind_vectors(&refs).unwrap();
    let calls = fake.calls();
    assert_eq!(
        calls,
        vec![format!(
            "VFIO_DEVICE_SET_IRQS flags={:#x} index=2 start=0 count=4 fds=4",
            DATA_EVENTFD | ACTION_TRIGGER
        )]
    );
    use std::os::fd::AsRawFd;
    let raw: Vec<i32> = fds.iter().map(|f| f.as_raw_fd()).collect();
    assert_eq!(*fake.bound.lock().unwrap(), raw, "fd v bound to vector v");
    assert_eq!(t.bound_vectors(), 4);

    // A second bind is refused without a kernel call: the count is fixed.
    fake.clear_log();
    assert!(matches!(
        t.bind_vectors(&refs[..1]),
        Err(Error::VectorsAlreadyBound { bound: 4 })
    ));
    assert!(fake.calls().is_empty());

    // Unbind, then bind all 8.
    t.unbind_vectors().unwrap();
    assert_eq!(
        fake.calls(),
        vec![format!(
            "VFIO_DEVICE_SET_IRQS flags={:#x} index=2 start=0 count=0 fds=0",
            DATA_NONE | ACTION_TRIGGER
        )]
    );
    t.unbind_vectors().unwrap(); // nothing bound: no call
    assert_eq!(count(&fake.calls(), "VFIO_DEVICE_SET_IRQS"), 1);
}

#[test]
fn too_many_or_no_vectors_are_refused() {
    let fake = Fake::new(Script::default());
    let t = open(&fake).unwrap();
    let fds: Vec<EventFd> = (0..VECTORS + 1)
        .map(|_| EventFd::new(libc::EFD_NONBLOCK).unwrap())
        .collect();
    let refs: Vec<&EventFd> = fds.iter().collect();
    let e = t.bind_vectors(&refs).unwrap_err();
    assert!(matches!(
        e,
        Error::TooManyVectors {
            requested: 9,
            available: VECTORS
        }
    ));
    assert!(t.bind_vectors(&[]).is_err());
    assert_eq!(count(&fake.calls(), "VFIO_DEVICE_SET_IRQS"), 0);
}

#[test]
fn software_trigger_signals_the_vector_eventfd() {
    let fake = Fake::new(Script::default());
    let t = open(&fake).unwrap();
    let fds: Vec<EventFd> = (0..3)
        .map(|_| EventFd::new(libc::EFD_NONBLOCK).unwrap())
        .collect();
    let refs: Vec<&EventFd> = fds.iter().collect();
    assert!(matches!(
        t.trigger_vector(0),
        Err(Error::VectorNotBound {
            vector: 0,
            bound: 0
        })
    ));
    t.bind_vectors(&refs).unwrap();
    fake.clear_log();
    t.trigger_vector(2).unwrap();
    assert_eq!(
        fake.calls(),
        vec![format!(
            "VFIO_DEVICE_SET_IRQS flags={:#x} index=2 start=2 count=1 fds=0",
            DATA_NONE | ACTION_TRIGGER
        )]
    );
    assert_eq!(fds[2].read().unwrap(), 1);
    assert!(fds[0].read().is_err(), "vector 0 not signalled");
    assert!(matches!(
        t.trigger_vector(3),
        Err(Error::VectorNotBound {
            vector: 3,
            bound: 3
        })
    ));
}

#[test]
fn drop_tears_down_in_reverse_order() {
    let fake = Fake::new(Script::default());
    let t = open(&fake).unwrap();
    let fd = EventFd::new(libc::EFD_NONBLOCK).unwrap();
    t.bind_vectors(&[&fd]).unwrap();
    fake.clear_log();
    drop(t);
    let calls = fake.calls();
    let expected = [
        format!(
            "VFIO_DEVICE_SET_IRQS flags={:#x} index=2 start=0 count=0",
            DATA_NONE | ACTION_TRIGGER
        ),
        "pwrite config 0x4".into(),
        "VFIO_IOMMU_UNMAP_DMA".into(),
        "munmap BAR0".into(),
        "close device".into(),
        "VFIO_GROUP_UNSET_CONTAINER".into(),
        "close group".into(),
        "close container".into(),
    ];
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    assert_in_order(&calls, &expected);
    assert_eq!(count(&calls, "VFIO_IOMMU_UNMAP_DMA"), 1);
    assert_all_closed(&fake);
}

#[test]
fn failure_midway_undoes_what_was_done() {
    let mut script = Script::default();
    script.fail.insert("VFIO_IOMMU_MAP_DMA", libc::ENOSPC);
    let (err, fake) = open_err(script);
    match &err {
        Error::Ioctl { name, source, .. } => {
            assert_eq!(*name, "VFIO_IOMMU_MAP_DMA");
            assert_eq!(source.raw_os_error(), Some(libc::ENOSPC));
        }
        e => panic!("unexpected {e:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("VFIO_IOMMU_MAP_DMA") && msg.contains("errno 28"),
        "{msg}"
    );
    let calls = fake.calls();
    assert_eq!(count(&calls, "VFIO_IOMMU_UNMAP_DMA"), 0, "nothing mapped");
    assert_in_order(
        &calls,
        &[
            "VFIO_IOMMU_MAP_DMA",
            "pwrite config 0x4",
            "munmap BAR0",
            "close device",
            "VFIO_GROUP_UNSET_CONTAINER",
            "close group",
            "close container",
        ],
    );
    assert_all_closed(&fake);
}

// ---- every set-up error -------------------------------------------------------

fn dev(file: &str) -> PathBuf {
    Path::new("/sys/bus/pci/devices").join(BDF).join(file)
}

#[test]
fn error_no_such_device() {
    let mut s = Script::default();
    s.files.clear();
    let (e, fake) = open_err(s);
    assert!(
        matches!(&e, Error::NoSuchDevice { bdf } if bdf == BDF),
        "{e:?}"
    );
    assert!(e.to_string().contains("lspci"), "{e}");
    assert_eq!(count(&fake.calls(), "open"), 0);
}

#[test]
fn error_invalid_bdf() {
    let fake = Fake::new(Script::default());
    let e = VfioTransport::open_with(&VfioConfig::new("00:03"), fake.clone()).unwrap_err();
    assert!(matches!(e, Error::InvalidBdf { .. }), "{e:?}");
    assert!(fake.calls().is_empty());
}

#[test]
fn error_not_bound_to_vfio_pci() {
    let mut s = Script::default();
    s.links
        .insert(dev("driver"), "../../../bus/pci/drivers/e1000e".into());
    let (e, _) = open_err(s);
    assert!(
        matches!(&e, Error::NotBoundToVfio { driver: Some(d), .. } if d == "e1000e"),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("bound to driver e1000e, not vfio-pci")
            && msg.contains("echo vfio-pci > /sys/bus/pci/devices/0000:00:03.0/driver_override")
            && msg.contains("unbind"),
        "{msg}"
    );
}

#[test]
fn error_not_bound_to_any_driver() {
    let mut s = Script::default();
    s.links.remove(&dev("driver"));
    let (e, _) = open_err(s);
    assert!(
        matches!(&e, Error::NotBoundToVfio { driver: None, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("modprobe vfio-pci"), "{e}");
}

#[test]
fn error_wrong_pci_id() {
    let fake = Fake::new(Script::default());
    let cfg = VfioConfig {
        pci_id: Some(PciId {
            vendor: 0x1234,
            device: 0x0002,
        }),
        ..config()
    };
    let e = VfioTransport::open_with(&cfg, fake).unwrap_err();
    assert!(
        matches!(
            e,
            Error::WrongPciId {
                found: PciId {
                    vendor: 0x1234,
                    device: 1
                },
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("wrong device ID"), "{e}");
    // The right ID passes.
    let fake = Fake::new(Script::default());
    let cfg = VfioConfig {
        pci_id: Some(PciId {
            vendor: 0x1234,
            device: 0x0001,
        }),
        ..config()
    };
    VfioTransport::open_with(&cfg, fake).unwrap();
}

#[test]
fn error_wrong_device_id_register() {
    let fake = Fake::new(Script::default());
    fake.bar.set(global::ID, 0xFFFF_FFFF);
    let e = open(&fake).unwrap_err();
    assert!(
        matches!(
            e,
            Error::WrongDeviceId {
                found: 0xFFFF_FFFF,
                expected: ID_MAGIC,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("bitstream"), "{e}");
    assert_all_closed(&fake);
    // With the oxnic check off, any device opens (e.g. e1000e in a VM).
    let cfg = VfioConfig {
        check_oxnic: false,
        ..config()
    };
    VfioTransport::open_with(&cfg, fake).unwrap();
}

#[test]
fn error_no_iommu_group() {
    let mut s = Script::default();
    s.links.remove(&dev("iommu_group"));
    let (e, _) = open_err(s);
    assert!(matches!(e, Error::NoIommuGroup { .. }), "{e:?}");
    assert!(e.to_string().contains("intel_iommu=on"), "{e}");
}

#[test]
fn error_memlock_too_low() {
    let (e, fake) = open_err(Script {
        memlock: 64 * 1024,
        ..Script::default()
    });
    assert!(
        matches!(e, Error::MemlockTooLow { limit: 65536, needed } if needed == ARENA as u64),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("RLIMIT_MEMLOCK (64 KiB) is below the arena size (1048576 bytes)")
            && msg.contains("ulimit -l"),
        "{msg}"
    );
    // Refused before any VFIO file is opened.
    assert_eq!(count(&fake.calls(), "open"), 0);
}

#[test]
fn error_vfio_module_missing() {
    let mut s = Script::default();
    s.open_errno.insert("/dev/vfio/vfio".into(), libc::ENOENT);
    let (e, _) = open_err(s);
    assert!(matches!(e, Error::VfioModuleMissing { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("vfio module not loaded (/dev/vfio/vfio missing): modprobe vfio-pci"),
        "{e}"
    );
}

#[test]
fn error_permission_denied() {
    let mut s = Script::default();
    s.open_errno.insert("/dev/vfio/7".into(), libc::EACCES);
    let (e, fake) = open_err(s);
    assert!(matches!(e, Error::PermissionDenied { .. }), "{e:?}");
    assert!(e.to_string().contains("chown"), "{e}");
    assert_all_closed(&fake);
}

#[test]
fn error_group_busy() {
    let mut s = Script::default();
    s.open_errno.insert("/dev/vfio/7".into(), libc::EBUSY);
    let (e, fake) = open_err(s);
    assert!(matches!(e, Error::GroupBusy { group: 7, .. }), "{e:?}");
    assert_all_closed(&fake);
}

#[test]
fn error_group_device_missing() {
    let mut s = Script::default();
    s.open_errno.insert("/dev/vfio/7".into(), libc::ENOENT);
    let (e, _) = open_err(s);
    assert!(
        matches!(e, Error::GroupDeviceMissing { group: 7, .. }),
        "{e:?}"
    );
}

#[test]
fn error_group_not_viable() {
    let mut s = Script {
        group_flags: 0,
        ..Script::default()
    };
    s.dirs.insert(
        "/sys/kernel/iommu_groups/7/devices".into(),
        vec![BDF.into(), "0000:00:03.1".into()],
    );
    s.links.insert(
        Path::new("/sys/bus/pci/devices/0000:00:03.1/driver").into(),
        "../../../bus/pci/drivers/snd_hda_intel".into(),
    );
    let (e, fake) = open_err(s);
    assert!(matches!(e, Error::GroupNotViable { group: 7, .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("IOMMU group 7 is not viable: bind every device in it to vfio-pci")
            && msg.contains("0000:00:03.1: snd_hda_intel"),
        "{msg}"
    );
    assert_eq!(count(&fake.calls(), "VFIO_GROUP_SET_CONTAINER"), 0);
    assert_all_closed(&fake);
}

#[test]
fn error_wrong_api_version() {
    let (e, fake) = open_err(Script {
        api_version: 1,
        ..Script::default()
    });
    assert!(
        matches!(
            e,
            Error::WrongApiVersion {
                found: 1,
                expected: 0
            }
        ),
        "{e:?}"
    );
    assert_all_closed(&fake);
}

#[test]
fn error_no_type1_iommu() {
    let (e, _) = open_err(Script {
        extensions: vec![],
        ..Script::default()
    });
    assert!(matches!(e, Error::NoType1Iommu), "{e:?}");
    assert!(e.to_string().contains("vfio_iommu_type1"), "{e}");
}

#[test]
fn error_ioctl_failure_names_the_ioctl_and_errno() {
    for (name, errno) in [
        ("VFIO_GET_API_VERSION", libc::EINVAL),
        ("VFIO_CHECK_EXTENSION", libc::EINVAL),
        ("VFIO_GROUP_GET_STATUS", libc::EFAULT),
        ("VFIO_GROUP_SET_CONTAINER", libc::EBUSY),
        ("VFIO_SET_IOMMU", libc::EPERM),
        ("VFIO_GROUP_GET_DEVICE_FD", libc::ENODEV),
        ("VFIO_DEVICE_GET_INFO", libc::EINVAL),
        ("VFIO_DEVICE_GET_REGION_INFO", libc::EINVAL),
        ("VFIO_DEVICE_GET_IRQ_INFO", libc::EINVAL),
        ("VFIO_IOMMU_MAP_DMA", libc::ENOMEM),
    ] {
        let mut s = Script::default();
        s.fail.insert(name, errno);
        let (e, fake) = open_err(s);
        match &e {
            Error::Ioctl {
                name: n, source, ..
            } => {
                assert_eq!(*n, name);
                assert_eq!(source.raw_os_error(), Some(errno));
            }
            other => panic!("{name}: unexpected {other:?}"),
        }
        assert!(e.to_string().contains(&format!("errno {errno}")), "{e}");
        assert_all_closed(&fake);
    }
}

#[test]
fn error_set_irqs_failure_is_typed_and_leaves_vectors_unbound() {
    let fake = Fake::new(Script::default());
    let t = open(&fake).unwrap();
    fake.script
        .lock()
        .unwrap()
        .fail
        .insert("VFIO_DEVICE_SET_IRQS", libc::EINVAL);
    let fd = EventFd::new(libc::EFD_NONBLOCK).unwrap();
    let e = t.bind_vectors(&[&fd]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Ioctl {
                name: "VFIO_DEVICE_SET_IRQS",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(t.bound_vectors(), 0);
}

#[test]
fn error_unsuitable_device() {
    for (script, what) in [
        (
            Script {
                bar0_size: 0x2_0000,
                ..Script::default()
            },
            "BAR0 is 0x20000 bytes",
        ),
        (
            Script {
                bar0_flags: 1 | 2,
                ..Script::default()
            },
            "mmappable",
        ),
        (
            Script {
                msix_count: 0,
                ..Script::default()
            },
            "no MSI-X",
        ),
        (
            Script {
                device_flags: 0,
                ..Script::default()
            },
            "not a PCI device",
        ),
    ] {
        let (e, fake) = open_err(script);
        assert!(matches!(e, Error::UnsuitableDevice { .. }), "{e:?}");
        assert!(e.to_string().contains(what), "{e}");
        assert_all_closed(&fake);
    }
}

// ---- register access -----------------------------------------------------------

#[test]
fn registers_reach_bar0() {
    let fake = Fake::new(Script::default());
    let t = open(&fake).unwrap();
    assert_eq!(t.read32(global::ID), ID_MAGIC);
    let db = oxnic_regs::rx_queue_reg(3, 0);
    t.write32(db, 0x1234_5678);
    assert_eq!(fake.bar.get(db), 0x1234_5678);
    t.try_write32(global::CTRL, 1).unwrap();
    assert_eq!(fake.bar.get(global::CTRL), 1);
    assert_eq!(t.try_read32(global::CTRL).unwrap(), 1);
}

#[test]
fn msix_page_access_is_refused() {
    let fake = Fake::new(Script::default());
    let t = open(&fake).unwrap();
    let table = msix::entry(0) + msix::ENTRY_CTRL;
    fake.bar.set(table, 0xAB);
    for off in [table, msix::PBA_OFFSET, msix::CTRL_OFFSET] {
        let e = t.try_read32(off).unwrap_err();
        assert!(
            matches!(e, Error::MsixPageAccess { bar: 0, offset } if offset == off),
            "{e:?}"
        );
        assert!(e.to_string().contains("bind_vectors"), "{e}");
        let e = t.try_write32(off, 0).unwrap_err();
        assert!(matches!(e, Error::MsixPageAccess { .. }), "{e:?}");
    }
    assert_eq!(fake.bar.get(table), 0xAB, "the table was not touched");
    assert!(matches!(
        t.try_read32(BAR0_SIZE),
        Err(Error::OutOfBar0 {
            offset: BAR0_SIZE,
            size: BAR0_SIZE
        })
    ));
    assert!(matches!(
        t.try_write32(2, 0),
        Err(Error::MisalignedRegister { offset: 2 })
    ));
}

#[test]
fn msix_layout_comes_from_the_capability() {
    let fake = Fake::new(Script::default());
    let t = open(&fake).unwrap();
    let l = t.msix_layout();
    assert_eq!((l.cap_offset, l.vectors), (0x40, VECTORS));
    assert_eq!((l.table_bar, l.table_offset), (0, msix::TABLE_OFFSET));
    assert_eq!((l.pba_bar, l.pba_offset), (0, msix::PBA_OFFSET));
    // An oxnic: the whole platform-owned window is refused.
    assert_eq!(t.bar0_refused(), &[oxnic_driver::MSIX_PAGES]);
}

/// A non-oxnic device (like QEMU's e1000e): table in BAR3, PBA in BAR3.
fn e1000e_like() -> Script {
    Script {
        msix_cap: Some(MsixCap {
            vectors: 5,
            table_bar: 3,
            table_offset: 0,
            pba_bar: 3,
            pba_offset: 0x2000,
        }),
        ..Script::default()
    }
}

#[test]
fn msix_elsewhere_is_unsuitable_for_an_oxnic() {
    let (e, fake) = open_err(e1000e_like());
    assert!(matches!(e, Error::UnsuitableDevice { .. }), "{e:?}");
    assert!(e.to_string().contains("MSI-X table at BAR3"), "{e}");
    assert_all_closed(&fake);
    let (e, _) = open_err(Script {
        msix_cap: None,
        ..Script::default()
    });
    assert!(e.to_string().contains("no MSI-X capability"), "{e}");
}

#[test]
fn msix_ranges_of_another_device_are_refused_where_they_are() {
    let fake = Fake::new(e1000e_like());
    let cfg = VfioConfig {
        check_oxnic: false,
        ..config()
    };
    let t = VfioTransport::open_with(&cfg, fake.clone()).unwrap();
    assert!(t.bar0_refused().is_empty());
    // BAR0 has no MSI-X here: oxnic's window is an ordinary register range.
    t.try_write32(msix::TABLE_OFFSET, 7).unwrap();
    assert_eq!(fake.bar.get(msix::TABLE_OFFSET), 7);
    for (bar, off) in [(3, 0), (3, 4 * 16 + 12), (3, 0x2000)] {
        let e = t.bar_read32(bar, off).unwrap_err();
        assert!(
            matches!(e, Error::MsixPageAccess { bar: 3, offset } if u64::from(offset) == off),
            "{e:?}"
        );
        let e = t.bar_write32(bar, off, 0).unwrap_err();
        assert!(matches!(e, Error::MsixPageAccess { .. }), "{e:?}");
    }
    // Just past the table: not refused (the fake's BAR3 is no region, so it is
    // out of the BAR instead).
    assert!(matches!(
        t.bar_read32(3, 5 * 16),
        Err(Error::OutOfBar { bar: 3, .. })
    ));
    assert!(matches!(
        t.bar_read32(3, 2),
        Err(Error::MisalignedRegister { offset: 2 })
    ));
}

#[test]
fn error_vfio_pci_module_missing_before_binding() {
    let mut s = Script::default();
    s.dirs.clear();
    s.links
        .insert(dev("driver"), "../../../bus/pci/drivers/e1000e".into());
    let (e, fake) = open_err(s);
    assert!(
        matches!(&e, Error::VfioModuleMissing { path } if path == Path::new("/sys/bus/pci/drivers/vfio-pci")),
        "{e:?}"
    );
    assert!(e.to_string().contains("modprobe vfio-pci"), "{e}");
    assert_eq!(count(&fake.calls(), "open"), 0);
}

#[test]
#[cfg_attr(debug_assertions, should_panic(expected = "MSI-X"))]
fn msix_page_hot_path_panics_in_debug_reads_ones_in_release() {
    let fake = Fake::new(Script::default());
    let t = open(&fake).unwrap();
    fake.bar.set(msix::TABLE_OFFSET, 0);
    assert_eq!(t.read32(msix::TABLE_OFFSET), u32::MAX);
    t.write32(msix::TABLE_OFFSET, 5);
    assert_eq!(fake.bar.get(msix::TABLE_OFFSET), 0);
}

#[test]
#[should_panic(expected = "outside BAR0")]
fn out_of_bar0_hot_path_panics() {
    let fake = Fake::new(Script::default());
    let t = open(&fake).unwrap();
    t.write32(BAR0_SIZE, 0);
}

// ---- DMA memory and the trait object -------------------------------------------

#[test]
fn dma_regions_come_from_the_mapped_arena() {
    let fake = Fake::new(Script::default());
    let t: Arc<dyn Transport> = Arc::new(open(&fake).unwrap());
    let ring = t.alloc_dma(4096, 4096).unwrap();
    let base = t.dma_arena().iova_base();
    assert!(ring.iova() >= base && ring.iova() + 4096 <= base + ARENA as u64);
    assert_eq!(ring.iova() % 4096, 0);
    ring.write_le64(0, 0xfeed);
    let host = t.iova_to_host(ring.iova(), 8).unwrap();
    assert_eq!(host, ring.as_ptr().as_ptr());
    assert_eq!(t.host_to_iova(host), Some(ring.iova()));
    // A region may outlive the transport: memory stays valid, DMA is unmapped.
    drop(t);
    assert_eq!(ring.read_le64(0), 0xfeed);
    assert_eq!(count(&fake.calls(), "VFIO_IOMMU_UNMAP_DMA"), 1);
}

// ---- the real kernel interface, where no VFIO device is needed -----------------

#[test]
fn real_kernel_reports_a_missing_device() {
    let e = VfioTransport::open(&VfioConfig::new("ffff:ff:1f.7")).unwrap_err();
    assert!(
        matches!(&e, Error::NoSuchDevice { bdf } if bdf == "ffff:ff:1f.7"),
        "{e:?}"
    );
}
