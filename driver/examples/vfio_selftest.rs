//! Self-test of the VFIO transport against the real kernel, on QEMU's e1000e
//! (Intel 82574) bound to vfio-pci inside a VM: `scripts/vfio-vm-test` builds it,
//! packs it into an initramfs and runs it from the VM's init script.
//!
//! ```text
//! vfio_selftest no-module   <BDF>   # before the vfio modules are loaded
//! vfio_selftest bound-other <BDF>   # vfio loaded, device still bound to e1000e
//! vfio_selftest vfio        <BDF>   # device bound to vfio-pci: everything else
//! ```
//!
//! Only the driver's public transport API is used. Every check prints one line,
//! `ok <name>` or `FAIL <name>: <reason>`; a failing check does not stop the run.
//! The exit code is the number of failed checks (capped at 100).

use std::process::ExitCode;
use std::thread::sleep;
use std::time::{Duration, Instant};

use oxnic_driver::vfio::MsixLayout;
use oxnic_driver::{
    dma_wmb, DmaMemory, Error, EventFd, HugePages, InterruptVectors, RegisterAccess, VfioConfig,
    VfioTransport,
};

/// Intel 82574 (QEMU `e1000e`) registers, BAR0 offsets (82574 datasheet; Linux
/// `drivers/net/ethernet/intel/e1000e/regs.h`, `82571.h`; QEMU `hw/net/e1000_regs.h`).
mod e1000e {
    pub const VENDOR: u16 = 0x8086;
    pub const DEVICE: u16 = 0x10D3;
    pub const STATUS: u32 = 0x0008;
    pub const STATUS_FD: u32 = 1 << 0;
    pub const STATUS_SPEED_MASK: u32 = 3 << 6;
    pub const STATUS_SPEED_1000: u32 = 2 << 6;
    pub const CTRL_EXT: u32 = 0x0018;
    pub const CTRL_EXT_EIAME: u32 = 1 << 24;
    pub const CTRL_EXT_IAME: u32 = 1 << 27;
    pub const CTRL_EXT_PBA_CLR: u32 = 1 << 31;
    pub const ICR: u32 = 0x00C0;
    pub const ICS: u32 = 0x00C8;
    pub const IMS: u32 = 0x00D0;
    pub const IMC: u32 = 0x00D8;
    pub const EIAC: u32 = 0x00DC;
    pub const IVAR: u32 = 0x00E4;
    /// IVAR: one 4-bit entry per cause (RXQ0, RXQ1, TXQ0, TXQ1, OTHER): vector
    /// number in bits 0..3, valid in bit 3.
    pub const IVAR_VALID: u32 = 0x8;
    /// The five MSI-X causes, ICR bits 20..24, in IVAR entry order.
    pub const MSIX_CAUSES: [u32; 5] = [1 << 20, 1 << 21, 1 << 22, 1 << 23, 1 << 24];
    pub const TCTL: u32 = 0x0400;
    pub const TCTL_EN: u32 = 1 << 1;
    pub const TCTL_PSP: u32 = 1 << 3;
    pub const TDBAL: u32 = 0x3800;
    pub const TDBAH: u32 = 0x3804;
    pub const TDLEN: u32 = 0x3808;
    pub const TDH: u32 = 0x3810;
    pub const TDT: u32 = 0x3818;
    /// TARC0.ENABLE (bit 10): QEMU only transmits from queue 0 when it is set.
    pub const TARC0: u32 = 0x3840;
    pub const TARC_ENABLE: u32 = 1 << 10;
    /// Legacy TX descriptor: command byte (offset 11) and status byte (offset 12).
    pub const TXD_CMD_EOP: u8 = 1 << 0;
    pub const TXD_CMD_IFCS: u8 = 1 << 1;
    pub const TXD_CMD_RS: u8 = 1 << 3;
    pub const TXD_STAT_DD: u8 = 1 << 0;
}

/// Collects the results.
#[derive(Default)]
struct Report {
    passed: u32,
    failed: u32,
}

impl Report {
    fn check(&mut self, name: &str, result: Result<String, String>) -> bool {
        match result {
            Ok(detail) if detail.is_empty() => {
                println!("ok {name}");
                self.passed += 1;
                true
            }
            Ok(detail) => {
                println!("ok {name} ({detail})");
                self.passed += 1;
                true
            }
            Err(why) => {
                println!("FAIL {name}: {why}");
                self.failed += 1;
                false
            }
        }
    }
}

fn config(bdf: &str) -> VfioConfig {
    VfioConfig {
        check_oxnic: false,
        arena_size: 4 << 20,
        huge_pages: HugePages::Try,
        ..VfioConfig::new(bdf)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(phase), Some(bdf)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: vfio_selftest no-module|bound-other|vfio <BDF>");
        return ExitCode::from(100);
    };
    let mut r = Report::default();
    match phase.as_str() {
        "no-module" => no_module(&mut r, bdf),
        "bound-other" => bound_other(&mut r, bdf),
        "vfio" => vfio(&mut r, bdf),
        other => {
            eprintln!("unknown phase {other}");
            return ExitCode::from(100);
        }
    }
    println!("phase {phase}: {} passed, {} failed", r.passed, r.failed);
    ExitCode::from(r.failed.min(100) as u8)
}

fn expect_err(
    bdf: &str,
    what: &str,
    matches: impl FnOnce(&Error) -> bool,
) -> Result<String, String> {
    match VfioTransport::open(&config(bdf)) {
        Ok(_) => Err(format!("open succeeded, expected {what}")),
        Err(e) if matches(&e) => Ok(e.to_string()),
        Err(e) => Err(format!("expected {what}, got {e:?}")),
    }
}

/// Before any vfio module is loaded (device bound to e1000e).
fn no_module(r: &mut Report, bdf: &str) {
    r.check(
        "wrong_address_no_such_device",
        expect_err("0000:00:1e.7", "NoSuchDevice", |e| {
            matches!(e, Error::NoSuchDevice { .. })
        }),
    );
    r.check(
        "no_vfio_module_typed_error",
        expect_err(bdf, "VfioModuleMissing", |e| {
            matches!(e, Error::VfioModuleMissing { .. })
        }),
    );
}

/// vfio-pci loaded, the device still bound to the kernel's e1000e driver.
fn bound_other(r: &mut Report, bdf: &str) {
    r.check(
        "bound_to_e1000e_not_vfio_typed_error",
        expect_err(
            bdf,
            "NotBoundToVfio { driver: e1000e }",
            |e| matches!(e, Error::NotBoundToVfio { driver: Some(d), .. } if d == "e1000e"),
        ),
    );
}

/// The device bound to vfio-pci.
fn vfio(r: &mut Report, bdf: &str) {
    let t = match VfioTransport::open(&config(bdf)) {
        Ok(t) => {
            r.check(
                "open_by_pci_address",
                Ok(format!("group {}", t.iommu_group())),
            );
            t
        }
        Err(e) => {
            r.check("open_by_pci_address", Err(e.to_string()));
            return;
        }
    };

    r.check("config_space_ids", config_ids(&t));
    r.check("bus_master_enabled", bus_master(&t));
    r.check("bar0_status_register", status_register(&t));
    r.check("msix_layout_from_capability", msix_layout(&t));
    r.check("msix_table_and_pba_refused", msix_refused(&t));
    r.check("msix_bar_outside_table_readable", msix_bar_rest(&t));
    r.check("dma_tx_descriptor_written_back", dma_tx(&t));

    // MSI-X: one eventfd per vector, all bound in one call.
    let n = t.max_vectors();
    let fds: Result<Vec<EventFd>, String> = (0..n)
        .map(|_| EventFd::new(libc::EFD_NONBLOCK).map_err(|e| format!("eventfd: {e}")))
        .collect();
    match fds {
        Ok(fds) => msix(r, &t, &fds),
        Err(e) => {
            r.check("msix_bind_all_vectors_one_call", Err(e));
        }
    }

    // Teardown, then the same device opens again.
    let group = t.iommu_group();
    drop(t);
    r.check(
        "teardown_then_reopen",
        match VfioTransport::open(&config(bdf)) {
            Ok(t2) if t2.iommu_group() == group => config_ids(&t2).map(|_| String::new()),
            Ok(t2) => Err(format!("group {} != {group}", t2.iommu_group())),
            Err(e) => Err(e.to_string()),
        },
    );
}

fn config_ids(t: &VfioTransport) -> Result<String, String> {
    let vendor = t.config_read16(0).map_err(|e| e.to_string())?;
    let device = t.config_read16(2).map_err(|e| e.to_string())?;
    if (vendor, device) == (e1000e::VENDOR, e1000e::DEVICE) {
        Ok(format!("{vendor:04x}:{device:04x}"))
    } else {
        Err(format!(
            "config space says {vendor:04x}:{device:04x}, expected 8086:10d3"
        ))
    }
}

fn bus_master(t: &VfioTransport) -> Result<String, String> {
    let cmd = t.pci_command().map_err(|e| e.to_string())?;
    if cmd & 0b110 == 0b110 {
        Ok(format!("command {cmd:#06x}"))
    } else {
        Err(format!(
            "command register {cmd:#06x}: memory decode and bus master must be on"
        ))
    }
}

fn status_register(t: &VfioTransport) -> Result<String, String> {
    if t.bar0_size() < 0x2_0000 {
        return Err(format!(
            "BAR0 is {:#x} bytes, the 82574 has 128 KiB",
            t.bar0_size()
        ));
    }
    let s = t
        .try_read32(e1000e::STATUS)
        .map_err(|e| format!("STATUS: {e}"))?;
    if s == u32::MAX {
        return Err("STATUS reads all ones: BAR0 not reaching the device".into());
    }
    if s & e1000e::STATUS_FD == 0 || s & e1000e::STATUS_SPEED_MASK != e1000e::STATUS_SPEED_1000 {
        return Err(format!(
            "STATUS {s:#010x}: expected full duplex at 1000 Mb/s"
        ));
    }
    Ok(format!("STATUS {s:#010x}"))
}

fn msix_layout(t: &VfioTransport) -> Result<String, String> {
    let l: &MsixLayout = t.msix_layout();
    let desc = format!(
        "{} vectors, table BAR{} {:#x}, PBA BAR{} {:#x}",
        l.vectors, l.table_bar, l.table_offset, l.pba_bar, l.pba_offset
    );
    if l.vectors != t.max_vectors() || l.vectors != 5 {
        return Err(format!(
            "{desc}; VFIO reports {} vectors, the e1000e has 5",
            t.max_vectors()
        ));
    }
    if l.table_bar != 3 || l.pba_bar != 3 {
        return Err(format!("{desc}; QEMU's e1000e keeps both in BAR3"));
    }
    if !t.bar0_refused().is_empty() {
        return Err(format!(
            "{desc}; BAR0 refuses {:?} though no MSI-X structure is in BAR0",
            t.bar0_refused()
        ));
    }
    Ok(desc)
}

fn msix_refused(t: &VfioTransport) -> Result<String, String> {
    let l = t.msix_layout().clone();
    let last_ctrl = l.table_range().end - 4;
    let mut probes = vec![
        (l.table_bar, l.table_range().start, "table entry 0"),
        (l.table_bar, last_ctrl, "last vector control"),
        (l.pba_bar, l.pba_range().start, "PBA"),
    ];
    if l.table_bar == 0 {
        probes.push((0, l.table_range().start, "table via BAR0"));
    }
    for (bar, off, what) in probes {
        match t.bar_read32(bar, off) {
            Err(Error::MsixPageAccess { bar: b, offset })
                if b == bar && u64::from(offset) == off => {}
            other => return Err(format!("read of {what} (BAR{bar} {off:#x}) gave {other:?}")),
        }
        match t.bar_write32(bar, off, 0) {
            Err(Error::MsixPageAccess { .. }) => {}
            other => {
                return Err(format!(
                    "write of {what} (BAR{bar} {off:#x}) gave {other:?}"
                ))
            }
        }
    }
    Ok(String::new())
}

fn msix_bar_rest(t: &VfioTransport) -> Result<String, String> {
    // QEMU's e1000e: 16 KiB BAR3, table at 0, PBA at 0x2000; 0x1000 is neither.
    let l = t.msix_layout();
    let off = 0x1000;
    if l.overlaps(l.table_bar, off, 4) {
        return Err(format!("{off:#x} overlaps the table or PBA: {l:?}"));
    }
    t.bar_read32(l.table_bar, off)
        .map(|v| format!("BAR{} {off:#x} = {v:#x}", l.table_bar))
        .map_err(|e| e.to_string())
}

/// One legacy TX descriptor with RS, in the arena, pointing at a frame in the
/// arena: the device reads both by IOVA and writes the descriptor's DD bit back.
fn dma_tx(t: &VfioTransport) -> Result<String, String> {
    use e1000e::*;
    let ring = t.alloc_dma(4096, 4096).map_err(|e| e.to_string())?;
    let buf = t.alloc_dma(64, 64).map_err(|e| e.to_string())?;
    // Broadcast frame, local experimental EtherType 0x88B5, 60 bytes.
    let mut frame = [0u8; 60];
    frame[..6].fill(0xFF);
    frame[6..12].copy_from_slice(&[0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    frame[12..14].copy_from_slice(&[0x88, 0xB5]);
    for (i, b) in frame[14..].iter_mut().enumerate() {
        *b = i as u8;
    }
    buf.write_bytes(0, &frame);
    ring.write_le64(0, buf.iova());
    ring.write_le16(8, frame.len() as u16);
    ring.write_bytes(10, &[0, TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS, 0, 0]);
    ring.write_le16(14, 0);

    let w = |off: u32, v: u32| t.try_write32(off, v).map_err(|e| e.to_string());
    let rd = |off: u32| t.try_read32(off).map_err(|e| e.to_string());
    w(IMC, u32::MAX)?; // no interrupts from this test
    w(TCTL, 0)?;
    w(TDBAL, ring.iova() as u32)?;
    w(TDBAH, (ring.iova() >> 32) as u32)?;
    w(TDLEN, 8 * 16)?;
    w(TDH, 0)?;
    w(TDT, 0)?;
    w(TARC0, rd(TARC0)? | TARC_ENABLE)?;
    w(TCTL, TCTL_EN | TCTL_PSP)?;
    dma_wmb();
    w(TDT, 1)?; // doorbell

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = ring.read_u8(12);
        if status & TXD_STAT_DD != 0 {
            let tdh = rd(TDH)?;
            w(TCTL, 0)?;
            if tdh != 1 {
                return Err(format!("DD set but TDH = {tdh}"));
            }
            return Ok(format!(
                "descriptor at IOVA {:#x}, frame at IOVA {:#x}",
                ring.iova(),
                buf.iova()
            ));
        }
        if Instant::now() > deadline {
            let tdh = rd(TDH)?;
            let _ = w(TCTL, 0);
            return Err(format!(
                "no DD write-back within 5 s (status byte {status:#x}, TDH {tdh})"
            ));
        }
        sleep(Duration::from_millis(1));
    }
}

/// Reads every eventfd until the counts reach `want` (or 5 s pass), then waits
/// 300 ms more and reads again, so that extra signals are seen too.
fn counts(fds: &[EventFd], want: &[u64]) -> Vec<u64> {
    let mut got = vec![0u64; fds.len()];
    let drain = |got: &mut Vec<u64>| {
        for (g, fd) in got.iter_mut().zip(fds) {
            // WouldBlock: counter is zero.
            if let Ok(n) = fd.read() {
                *g += n;
            }
        }
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        drain(&mut got);
        if got.iter().zip(want).all(|(g, w)| g >= w) {
            break;
        }
        sleep(Duration::from_millis(2));
    }
    sleep(Duration::from_millis(300));
    drain(&mut got);
    got
}

fn msix(r: &mut Report, t: &VfioTransport, fds: &[EventFd]) {
    use e1000e::*;
    let refs: Vec<&EventFd> = fds.iter().collect();
    let bound = t.bind_vectors(&refs);
    let n = fds.len() as u32;
    if !r.check(
        "msix_bind_all_vectors_one_call",
        match bound {
            Ok(()) if t.bound_vectors() == n && n == 5 => Ok(format!("{n} vectors")),
            Ok(()) => Err(format!("bound {} of {n}", t.bound_vectors())),
            Err(e) => Err(e.to_string()),
        },
    ) {
        return;
    }
    r.check(
        "msix_second_bind_refused",
        match t.bind_vectors(&refs) {
            Err(Error::VectorsAlreadyBound { bound }) if bound == n => Ok(String::new()),
            other => Err(format!("expected VectorsAlreadyBound, got {other:?}")),
        },
    );

    // Software trigger: vector v fired v + 1 times.
    let want: Vec<u64> = (0..n).map(|v| u64::from(v) + 1).collect();
    let fired: Result<(), String> = (0..n).try_for_each(|v| {
        (0..=v).try_for_each(|_| t.trigger_vector(v).map_err(|e| format!("vector {v}: {e}")))
    });
    r.check(
        "msix_software_trigger_counts_exact",
        fired.and_then(|()| {
            let got = counts(fds, &want);
            if got == want {
                Ok(format!("{got:?}"))
            } else {
                Err(format!("eventfd counts {got:?}, fired {want:?}"))
            }
        }),
    );

    // The device itself: each of the five causes routed to its own vector, all
    // raised with one write to the interrupt-cause-set register.
    let device = (|| -> Result<String, String> {
        let w = |off: u32, v: u32| t.try_write32(off, v).map_err(|e| e.to_string());
        let rd = |off: u32| t.try_read32(off).map_err(|e| e.to_string());
        let all: u32 = MSIX_CAUSES.iter().sum();
        w(IMC, u32::MAX)?;
        w(ICR, u32::MAX)?;
        // Auto-clear and auto-mask each cause when its vector fires (EIAC, and
        // IAME clear), so each fires exactly once.
        let ext = rd(CTRL_EXT)? & !(CTRL_EXT_IAME | CTRL_EXT_EIAME | CTRL_EXT_PBA_CLR);
        w(CTRL_EXT, ext)?;
        let ivar = (0..5).fold(0, |acc, v| acc | ((IVAR_VALID | v) << (4 * v)));
        w(IVAR, ivar)?;
        w(EIAC, all)?;
        w(IMS, all)?;
        w(ICS, all)?;
        let want = vec![1u64; fds.len()];
        let got = counts(fds, &want);
        w(IMC, u32::MAX)?;
        if got == want {
            Ok(format!("{got:?}"))
        } else {
            Err(format!(
                "eventfd counts {got:?} after the device raised each vector once (IVAR {ivar:#x})"
            ))
        }
    })();
    r.check("msix_device_fired_counts_exact", device);

    r.check(
        "msix_unbind",
        match t.unbind_vectors() {
            Ok(()) if t.bound_vectors() == 0 => Ok(String::new()),
            Ok(()) => Err(format!("{} still bound", t.bound_vectors())),
            Err(e) => Err(e.to_string()),
        },
    );
}
