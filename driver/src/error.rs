//! The crate's one error type.
//!
//! Every layer (transport, NAPI, rings, device) reports through [`Error`]. Messages
//! say what went wrong *and what to do about it*: the reader is usually someone
//! setting up a board or a VM, not the author of the code. The enum is
//! `#[non_exhaustive]` so that later layers add variants without breaking callers.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// A PCI vendor/device ID pair, as in `/sys/bus/pci/devices/<BDF>/{vendor,device}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PciId {
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
}

impl std::fmt::Display for PciId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04x}:{:04x}", self.vendor, self.device)
    }
}

/// Shorthand for `std::result::Result<T, oxnic_driver::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the driver library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- set-up: finding the device and its VFIO group -------------------------
    /// The PCI address is not of the form `DDDD:BB:DD.F` (or `BB:DD.F`).
    #[error(
        "{bdf:?} is not a PCI address: write it as DDDD:BB:DD.F, e.g. 0000:00:03.0 (see lspci -D)"
    )]
    InvalidBdf {
        /// What was given.
        bdf: String,
    },

    /// No PCI function with that address exists.
    #[error("no such PCI device {bdf} (/sys/bus/pci/devices/{bdf} is missing): check the address with lspci -D")]
    NoSuchDevice {
        /// The PCI address.
        bdf: String,
    },

    /// The function's vendor/device ID is not the expected one.
    #[error("wrong device ID: {bdf} is {found}, expected {expected}: check the PCI address (lspci -nn -s {bdf})")]
    WrongPciId {
        /// The PCI address.
        bdf: String,
        /// The ID that was asked for.
        expected: PciId,
        /// The ID the function has.
        found: PciId,
    },

    /// BAR0's identification register does not read the oxnic magic.
    #[error("wrong device ID: BAR0 ID register of {bdf} reads {found:#010x}, expected {expected:#010x} (\"OXNC\"): not an oxnic function, or the FPGA bitstream is not loaded")]
    WrongDeviceId {
        /// The PCI address.
        bdf: String,
        /// The value read.
        found: u32,
        /// [`oxnic_regs::ID_MAGIC`].
        expected: u32,
    },

    /// The function is bound to another kernel driver, or to none.
    #[error("device {bdf} is bound to driver {}, not vfio-pci: {}", .driver.as_deref().unwrap_or("(none)"), rebind_hint(.bdf, .driver.as_deref()))]
    NotBoundToVfio {
        /// The PCI address.
        bdf: String,
        /// The driver it is bound to, if any.
        driver: Option<String>,
    },

    /// The function has no IOMMU group: the IOMMU is off.
    #[error("device {bdf} has no IOMMU group (/sys/bus/pci/devices/{bdf}/iommu_group is missing): enable the IOMMU (intel_iommu=on or amd_iommu=on on the kernel command line; in QEMU add -device intel-iommu)")]
    NoIommuGroup {
        /// The PCI address.
        bdf: String,
    },

    /// `/dev/vfio/vfio` does not exist.
    #[error("vfio module not loaded ({} missing): modprobe vfio-pci", .path.display())]
    VfioModuleMissing {
        /// The path that was opened.
        path: PathBuf,
    },

    /// The group's character device does not exist although the device is bound.
    #[error("{} is missing although {bdf} is in IOMMU group {group}: is vfio-pci bound (ls -l /sys/bus/pci/devices/{bdf}/driver)?", .path.display())]
    GroupDeviceMissing {
        /// The PCI address.
        bdf: String,
        /// The IOMMU group.
        group: u32,
        /// `/dev/vfio/<group>`.
        path: PathBuf,
    },

    /// Opening a VFIO character device was refused.
    #[error("permission denied opening {}: run as root, or give your user the device (chown $USER {})", .path.display(), .path.display())]
    PermissionDenied {
        /// The path that was opened.
        path: PathBuf,
    },

    /// The group is open in another process (VFIO allows one opener).
    #[error("IOMMU group {group} ({}) is in use by another process (e.g. QEMU or another driver instance): stop it first", .path.display())]
    GroupBusy {
        /// The IOMMU group.
        group: u32,
        /// `/dev/vfio/<group>`.
        path: PathBuf,
    },

    /// Some device in the group is not bound to vfio-pci (or a stub driver).
    #[error("IOMMU group {group} is not viable: bind every device in it to vfio-pci ({})", group_members(.members))]
    GroupNotViable {
        /// The IOMMU group.
        group: u32,
        /// Every device of the group with its driver, as far as sysfs tells.
        members: Vec<(String, Option<String>)>,
    },

    /// The container speaks another VFIO API version.
    #[error("VFIO API version {found} is not the supported {expected}: this kernel's VFIO is incompatible")]
    WrongApiVersion {
        /// What `VFIO_GET_API_VERSION` returned.
        found: i32,
        /// `VFIO_API_VERSION`.
        expected: u32,
    },

    /// The container offers no type1 IOMMU backend.
    #[error("the VFIO container has no type1 IOMMU backend: modprobe vfio_iommu_type1")]
    NoType1Iommu,

    /// Pinned DMA memory would exceed the locked-memory limit.
    #[error("RLIMIT_MEMLOCK ({}) is below the arena size ({needed} bytes): raise it with ulimit -l (e.g. ulimit -l unlimited, or memlock in /etc/security/limits.conf), or shrink the arena", fmt_kib(*.limit))]
    MemlockTooLow {
        /// The soft limit in bytes.
        limit: u64,
        /// The arena size in bytes.
        needed: u64,
    },

    /// A VFIO ioctl failed.
    #[error("ioctl {name} on {on} failed: {source} (errno {})", .source.raw_os_error().unwrap_or(0))]
    Ioctl {
        /// The ioctl's name, e.g. `VFIO_DEVICE_SET_IRQS`.
        name: &'static str,
        /// What it was issued on (container, group N, device BDF).
        on: String,
        /// The error the kernel returned.
        source: io::Error,
    },

    /// A file or sysfs access failed in an unexpected way.
    #[error("{what} ({}): {source}", .path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },

    /// The device is not what the VFIO transport needs (not PCI, BAR0 too small or
    /// not mappable, no MSI-X).
    #[error("device {bdf} is unsuitable: {why}")]
    UnsuitableDevice {
        /// The PCI address.
        bdf: String,
        /// What is missing.
        why: String,
    },

    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),

    // ---- register access --------------------------------------------------------
    /// A register access hit the device's MSI-X table or PBA (on an oxnic: the
    /// platform-owned pages [`crate::transport::MSIX_PAGES`] of BAR0).
    #[error("BAR{bar} offset {offset:#x} is in the device's MSI-X table/PBA, which the platform owns (vfio-pci refuses it: reads give all ones, writes are dropped): bind eventfds with bind_vectors instead")]
    MsixPageAccess {
        /// The BAR.
        bar: u32,
        /// The offset in that BAR.
        offset: u32,
    },

    /// An access to a BAR other than BAR0 lies outside it, or the BAR is not an
    /// accessible region.
    #[error("BAR{bar} offset {offset:#x} is outside the BAR ({size:#x} bytes, 0 = not an accessible region)")]
    OutOfBar {
        /// The BAR.
        bar: u32,
        /// The offset.
        offset: u64,
        /// The BAR's size.
        size: u64,
    },

    /// A BAR0 access lies outside BAR0.
    #[error("BAR0 offset {offset:#x} is outside BAR0 ({size:#x} bytes)")]
    OutOfBar0 {
        /// The offset.
        offset: u32,
        /// BAR0's size.
        size: u32,
    },

    /// A BAR0 access is not 32-bit aligned.
    #[error("BAR0 offset {offset:#x} is not 4-byte aligned: registers are 32-bit")]
    MisalignedRegister {
        /// The offset.
        offset: u32,
    },

    // ---- DMA memory -------------------------------------------------------------
    /// The DMA arena could not be allocated.
    #[error("cannot allocate the DMA arena ({size} bytes): {source}")]
    ArenaAlloc {
        /// Requested size.
        size: usize,
        /// The mmap error.
        source: io::Error,
    },

    /// The arena has no free run for a request.
    #[error("DMA arena exhausted: no free run of {size} bytes aligned to {align} ({free} bytes free in total): give the transport a larger arena")]
    ArenaExhausted {
        /// Requested size.
        size: usize,
        /// Requested alignment.
        align: usize,
        /// Bytes free (possibly fragmented).
        free: usize,
    },

    /// A DMA allocation asked for a zero size or a non-power-of-two alignment.
    #[error("invalid DMA allocation: size {size}, alignment {align} (size must be > 0, alignment a power of two)")]
    InvalidDmaRequest {
        /// Requested size.
        size: usize,
        /// Requested alignment.
        align: usize,
    },

    // ---- interrupt vectors ------------------------------------------------------
    /// More vectors were asked for than the device has.
    #[error("{requested} interrupt vectors requested, the device has {available}")]
    TooManyVectors {
        /// Requested count.
        requested: u32,
        /// The device's MSI-X vector count.
        available: u32,
    },

    /// A vector number is not bound.
    #[error("interrupt vector {vector} is not bound ({bound} vectors are bound)")]
    VectorNotBound {
        /// The vector.
        vector: u32,
        /// How many are bound.
        bound: u32,
    },

    /// Vectors are already bound: the first bind fixes the count (vfio-pci).
    #[error("{bound} interrupt vectors are already bound: unbind_vectors first (vfio-pci fixes the vector count at the first bind)")]
    VectorsAlreadyBound {
        /// How many are bound.
        bound: u32,
    },

    // ---- device (layer 4) -------------------------------------------------------
    /// BAR0's ID register does not read [`oxnic_regs::ID_MAGIC`]: the transport
    /// does not reach an oxnic (found by [`crate::Device::probe`]).
    #[error("not an oxnic: the BAR0 ID register reads {found:#010x}, expected {expected:#010x} (\"OXNC\"){}: check the PCI address, that the FPGA bitstream is loaded, or that the co-simulation runs the oxnic top level", all_ones_hint(*.found))]
    NotOxnic {
        /// The value read.
        found: u32,
        /// [`oxnic_regs::ID_MAGIC`].
        expected: u32,
    },

    /// The device's register-map major version is not the one this driver was
    /// built for.
    #[error("register map version {found_major}.{found_minor} is incompatible with this driver (built for major version {supported_major}): use a driver built against the device's oxnic-regs, or load a bitstream generated from register map {supported_major}.x")]
    IncompatibleVersion {
        /// `VERSION.MAJOR` of the device.
        found_major: u16,
        /// `VERSION.MINOR` of the device.
        found_minor: u16,
        /// [`oxnic_regs::VERSION_MAJOR`].
        supported_major: u16,
    },

    /// `CAPS` reports a queue or vector count the driver cannot use.
    #[error("the device reports {queues} queues and {vectors} MSI-X vectors (CAPS), outside 1..={max_queues} and 1..={max_vectors}: the bitstream was generated with bad parameters or does not answer properly; regenerate it or check the link")]
    BadCapabilities {
        /// `CAPS.QUEUES`.
        queues: u32,
        /// `CAPS.VECTORS`.
        vectors: u32,
        /// [`oxnic_regs::MAX_QUEUES`].
        max_queues: u32,
        /// [`oxnic_regs::MAX_VECTORS`].
        max_vectors: u32,
    },

    /// A soft reset did not finish in time.
    #[error("soft reset did not finish within {timeout:?} (CTRL.SOFT_RESET / STATUS.RESET_BUSY still set): the device is wedged; reset the PCI function (echo 1 > /sys/bus/pci/devices/<BDF>/reset) or reload the bitstream, or raise DeviceTimeouts::reset for a slow co-simulation")]
    ResetTimeout {
        /// How long the driver waited.
        timeout: Duration,
    },

    /// DMA did not stop in time after the queues were disabled.
    #[error("DMA did not quiesce within {timeout:?} after every queue was disabled (STATUS.QUIESCENT stayed 0); {}", if *.reset_recovered { "a soft reset stopped it and the device was closed cleanly, but reads and writes the device had in flight may be lost: check ERR_STATUS, or raise DeviceTimeouts::quiesce for a slow co-simulation" } else { "a soft reset did not help either, so the rings and buffers were leaked rather than reused while the device may still write them: reset the PCI function before using the device again" })]
    QuiescenceTimeout {
        /// How long the driver waited.
        timeout: Duration,
        /// Whether the soft reset that followed finished (DMA stopped).
        reset_recovered: bool,
    },

    /// A queue did not report stopped (STATUS.ENABLED 0) after CTRL.ENABLE was
    /// cleared.
    #[error("{} queue {queue} did not stop within {timeout:?} after CTRL.ENABLE was cleared: the device is stuck on it; close the device (the soft-reset fallback stops DMA) and reopen", dir_name(*.tx))]
    QueueStopTimeout {
        /// The queue.
        queue: u16,
        /// True for a TX queue.
        tx: bool,
        /// How long the driver waited.
        timeout: Duration,
    },

    /// The device refused to enable a queue (STATUS.CONFIG_ERROR).
    #[error("the device refused to enable {} queue {queue} (STATUS {status:#x}: CONFIG_ERROR): ring log2 size {log2} or vector {vector} is outside what this device was generated for (CAPS)", dir_name(*.tx))]
    QueueConfigRefused {
        /// The queue.
        queue: u16,
        /// True for a TX queue.
        tx: bool,
        /// The ring size written (log2).
        log2: u32,
        /// The vector written.
        vector: u16,
        /// The queue's STATUS register.
        status: u32,
    },

    /// A global configuration write was refused (ERR_STATUS.CONFIG).
    #[error("the device refused a configuration write while opening ({what}; ERR_STATUS.CONFIG set): a value is outside what this device was generated for (CAPS)")]
    ConfigRefused {
        /// Which registers were being written.
        what: &'static str,
    },

    /// The requested channel count is 0 or above the device's queue count.
    #[error(
        "invalid channel count {requested}: this device has 1..={available} channels (CAPS.QUEUES)"
    )]
    InvalidChannels {
        /// What was asked for.
        requested: u16,
        /// The device's queue count.
        available: u16,
    },

    /// A device configuration value is out of range.
    #[error("invalid device configuration: {field}: {why}")]
    InvalidDeviceConfig {
        /// The [`crate::DeviceConfig`] field.
        field: &'static str,
        /// What is wrong and what is allowed.
        why: String,
    },

    /// An operation that needs an open device was called on a closed one.
    #[error("the device is not open: call Device::open first")]
    DeviceNotOpen,

    /// `open` was called on an open device.
    #[error("the device is already open: close it first (set_channels and set_rings close and reopen it for you)")]
    DeviceAlreadyOpen,

    /// A queue number is not one of the open device's channels.
    #[error("no queue {queue}: the device is open with {channels} channels (0..{channels})")]
    NoSuchQueue {
        /// The queue asked for.
        queue: u16,
        /// The open channel count.
        channels: u16,
    },

    /// The operating system refused a resource the device needs (eventfd,
    /// epoll, thread).
    #[error("cannot create {what}: {source} (check the process's file descriptor and thread limits: ulimit -n, ulimit -u)")]
    Os {
        /// What was being created.
        what: &'static str,
        /// The error.
        source: io::Error,
    },

    /// A NAPI context could not be bound to its scheduler.
    #[error(transparent)]
    Napi(#[from] crate::napi::NapiError),
}

fn all_ones_hint(found: u32) -> &'static str {
    if found == u32::MAX {
        " (all ones: the device does not answer — link down, function reset, or memory decoding off)"
    } else {
        ""
    }
}

fn dir_name(tx: bool) -> &'static str {
    if tx {
        "TX"
    } else {
        "RX"
    }
}

fn rebind_hint(bdf: &str, driver: Option<&str>) -> String {
    let unbind = match driver {
        Some(_) => format!("echo {bdf} > /sys/bus/pci/devices/{bdf}/driver/unbind; "),
        None => String::new(),
    };
    format!(
        "modprobe vfio-pci; {unbind}echo vfio-pci > /sys/bus/pci/devices/{bdf}/driver_override; \
         echo {bdf} > /sys/bus/pci/drivers_probe"
    )
}

fn group_members(members: &[(String, Option<String>)]) -> String {
    if members.is_empty() {
        return "members unknown: ls /sys/kernel/iommu_groups/<group>/devices".into();
    }
    members
        .iter()
        .map(|(bdf, drv)| format!("{bdf}: {}", drv.as_deref().unwrap_or("no driver")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn fmt_kib(bytes: u64) -> String {
    if bytes == u64::MAX {
        "unlimited".into()
    } else {
        format!("{} KiB", bytes / 1024)
    }
}
