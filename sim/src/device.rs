//! [`SimDevice`]: the Verilated core with its surroundings — the PCIe side (an
//! AXI4-Lite master for BAR0, host memory behind an IOMMU model on the AXI4
//! master, the MSI window) and the MAC side (AXI-Stream in and out, fed by a
//! [`Mac`]). One [`SimDevice::cycle`] is one clock of everything.
//!
//! These are bus-functional models in the style of cocotbext-axi's `AxiLiteMaster`,
//! `AxiRam` and `AxiStreamSource/Sink`, written here because they must run inside
//! the same Rust process as the driver at Verilator speed (no Python, no second
//! process). Each follows the AXI handshake rule: a transfer happens on a rising
//! edge where `valid` and `ready` were both high, as sampled before the edge.

use std::collections::VecDeque;
use std::sync::atomic::{fence, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, RwLock};

use oxnic_driver::{DmaArena, EventFd};

use crate::ffi::TopPorts;
use crate::model::TopModel;

/// Base of the MSI message window: the platform programs every MSI-X table
/// entry with this address (x86's interrupt window; outside any DMA arena).
pub const MSI_BASE: u64 = 0xFEE0_0000;
/// Size of the MSI window.
pub const MSI_SIZE: u64 = 0x10_0000;

/// AXI response codes.
const OKAY: u8 = 0;
const SLVERR: u8 = 2;

/// A frame on the MAC side: its bytes and the error flag (`tuser` on the last
/// beat: a bad FCS or a MAC error).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MacFrame {
    /// The frame, without FCS.
    pub data: Vec<u8>,
    /// `tuser` on the last beat.
    pub error: bool,
}

/// The wire side of the NIC: where received frames come from and transmitted
/// frames go. It runs in the device's thread, once per cycle at most. (`Any`, so
/// that a MAC taken back with [`SimDevice::set_mac`] can be downcast to read its
/// results.)
pub trait Mac: Send + std::any::Any {
    /// The next frame to receive, when the receive stream is idle at `cycle`
    /// (`None`: nothing to send now).
    fn rx_frame(&mut self, cycle: u64) -> Option<MacFrame>;
    /// A frame the NIC transmitted, complete at `cycle`.
    fn tx_frame(&mut self, frame: MacFrame, cycle: u64);
}

/// A MAC with nothing attached: receives nothing, drops what is sent.
#[derive(Debug, Default)]
pub struct NoMac {
    /// Frames transmitted so far.
    pub tx_frames: u64,
}

impl Mac for NoMac {
    fn rx_frame(&mut self, _cycle: u64) -> Option<MacFrame> {
        None
    }
    fn tx_frame(&mut self, _frame: MacFrame, _cycle: u64) {
        self.tx_frames += 1;
    }
}

/// One BAR0 access for the AXI4-Lite master.
#[derive(Debug)]
pub enum RegOp {
    /// Read; the value (or `0xFFFF_FFFF` with an error response) goes to the
    /// reply channel.
    Read {
        /// BAR0 offset.
        offset: u32,
        /// Where the value goes.
        reply: SyncSender<u32>,
    },
    /// Posted write (PCIe memory writes are posted: the caller does not wait).
    Write {
        /// BAR0 offset.
        offset: u32,
        /// Value.
        value: u32,
    },
}

/// The MSI-X targets: eventfd per vector, set by the platform when the driver
/// binds vectors. Shared between the transport and the device thread.
pub type MsiTargets = Arc<RwLock<Vec<EventFd>>>;

/// Wall-clock time of the last MSI message per vector, for interrupt-latency
/// measurements: nanoseconds since `base` (0: none since the last `take`).
#[derive(Debug)]
pub struct MsiStamps {
    base: std::time::Instant,
    slots: Vec<std::sync::atomic::AtomicU64>,
}

impl MsiStamps {
    /// Slots for `vectors` vectors.
    pub fn new(vectors: usize) -> Self {
        Self {
            base: std::time::Instant::now(),
            slots: (0..vectors).map(|_| Default::default()).collect(),
        }
    }

    fn stamp(&self, vector: u32) {
        if let Some(s) = self.slots.get(vector as usize) {
            let ns = self.base.elapsed().as_nanos() as u64;
            s.store(ns.max(1), Ordering::Release);
        }
    }

    /// Wall time since `vector`'s last message if one came since the last call
    /// (the first packet handled after an interrupt asks this).
    pub fn take(&self, vector: u32) -> Option<std::time::Duration> {
        let t = self.slots.get(vector as usize)?.swap(0, Ordering::AcqRel);
        (t != 0).then(|| {
            std::time::Duration::from_nanos(
                (self.base.elapsed().as_nanos() as u64).saturating_sub(t),
            )
        })
    }
}

/// Host-memory timing and fault knobs of the AXI slave.
#[derive(Clone, Copy, Debug)]
pub struct MemoryTiming {
    /// Cycles from the last W beat to its B response.
    pub b_latency: u32,
    /// Cycles from an AR to its first R beat.
    pub r_latency: u32,
    /// Out of 256: probability that a `ready` / `valid` the memory drives is
    /// withheld in a cycle (0: the memory never stalls).
    pub stall_per_256: u32,
}

impl Default for MemoryTiming {
    /// A PCIe-like round trip at 156 MHz is far longer, but the driver only sees
    /// ordering, not latency; short latencies keep the co-simulation fast.
    fn default() -> Self {
        Self {
            b_latency: 4,
            r_latency: 16,
            stall_per_256: 0,
        }
    }
}

/// Counters of the surroundings (the RTL's own counters are in BAR0).
#[derive(Clone, Debug, Default)]
pub struct SimCounters {
    /// Clock cycles.
    pub cycles: u64,
    /// MSI messages per vector (data = vector number).
    pub msi: Vec<u64>,
    /// Messages whose data is not a bound vector.
    pub msi_unbound: u64,
    /// Cycle of the last MSI message.
    pub last_msi_cycle: u64,
    /// DMA beats to unmapped addresses (answered SLVERR).
    pub iommu_faults: u64,
    /// Last faulting address.
    pub last_fault: Option<u64>,
    /// DMA bytes written / read in host memory.
    pub dma_write_bytes: u64,
    /// DMA bytes read.
    pub dma_read_bytes: u64,
    /// BAR0 reads and writes done.
    pub reg_reads: u64,
    /// BAR0 writes done.
    pub reg_writes: u64,
    /// BAR0 accesses answered with an error response.
    pub reg_errors: u64,
    /// BAR0 accesses that got no response within [`REG_TIMEOUT_CYCLES`].
    pub reg_timeouts: u64,
    /// The first such access: (offset, is_write, cycle it started).
    pub first_reg_timeout: Option<(u32, bool, u64)>,
    /// Frames put on s_axis_rx.
    pub mac_rx_frames: u64,
    /// Frames taken from m_axis_tx.
    pub mac_tx_frames: u64,
    /// Cycles s_axis_rx had a beat but the NIC was not ready.
    pub mac_rx_stall_cycles: u64,
}

/// The IOMMU model: only the DMA arena is mapped, at its IOVA, minus the ranges
/// a test has unmapped to inject faults.
struct Iommu {
    arena: DmaArena,
    unmapped: Vec<std::ops::Range<u64>>,
}

impl Iommu {
    /// Host pointer of the 8-byte-aligned word holding `iova`, if mapped.
    #[inline]
    fn word(&self, iova: u64) -> Option<*mut u8> {
        if !self.unmapped.is_empty() && self.unmapped.iter().any(|r| r.contains(&iova)) {
            return None;
        }
        self.arena.iova_to_host(iova & !7, 8)
    }
}

#[derive(Debug)]
struct Burst {
    id: u8,
    addr: u64,
    beats_left: u32,
    size: u8,
    resp: u8,
    ready_at: u64,
}

struct AxiLiteMaster {
    ops: VecDeque<RegOp>,
    /// The op on the bus: (aw sent, w sent) for writes, ar sent for reads.
    active: Option<RegOp>,
    aw_done: bool,
    w_done: bool,
    ar_done: bool,
    /// Cycle the active op went on the bus.
    started: u64,
}

/// Cycles a BAR0 access may wait for its response before the AXI-Lite master
/// gives up — the PCIe completion timeout: a read then returns all ones, as a
/// root complex returns for a timed-out read, and the timeout is counted and
/// logged (a hung register interface must not hang the co-simulation).
pub const REG_TIMEOUT_CYCLES: u64 = 200_000;

/// The device: model plus bus models. Not `Sync`: one thread clocks it.
pub struct SimDevice {
    model: TopModel,
    p: TopPorts,
    axil: AxiLiteMaster,
    iommu: Iommu,
    timing: MemoryTiming,
    aw: VecDeque<Burst>,
    b: VecDeque<(u8, u8, u64)>,
    ar: VecDeque<Burst>,
    msi: MsiTargets,
    mac: Box<dyn Mac>,
    rx_frame: Option<(MacFrame, usize)>,
    tx_frame: Vec<u8>,
    rng: u64,
    counters: SimCounters,
    wave_window: Option<(u64, u64)>,
    /// Lockstep: MSI messages wait here until [`SimDevice::deliver_msi`].
    defer_msi: bool,
    pending_msi: Vec<u32>,
    msi_stamps: Option<Arc<MsiStamps>>,
}

impl SimDevice {
    /// A device around `model` whose DMA reaches `arena` (through the IOMMU
    /// model) and whose MSI messages signal `msi`'s eventfds; `seed` drives the
    /// memory's random stalls. The model is held in reset for 4 cycles.
    pub fn new(
        model: TopModel,
        arena: DmaArena,
        msi: MsiTargets,
        mac: Box<dyn Mac>,
        timing: MemoryTiming,
        seed: u64,
    ) -> Self {
        let mut d = Self {
            model,
            p: TopPorts::default(),
            axil: AxiLiteMaster {
                ops: VecDeque::new(),
                active: None,
                aw_done: false,
                w_done: false,
                ar_done: false,
                started: 0,
            },
            iommu: Iommu {
                arena,
                unmapped: Vec::new(),
            },
            timing,
            aw: VecDeque::new(),
            b: VecDeque::new(),
            ar: VecDeque::new(),
            msi,
            mac,
            rx_frame: None,
            tx_frame: Vec::with_capacity(2048),
            rng: seed | 1,
            counters: SimCounters::default(),
            wave_window: None,
            defer_msi: false,
            pending_msi: Vec::new(),
            msi_stamps: None,
        };
        d.p.rst = 1;
        for _ in 0..4 {
            d.cycle();
        }
        d.p.rst = 0;
        d
    }

    /// Replaces the MAC (e.g. between tests); the frame in progress is finished
    /// by the old one's data.
    pub fn set_mac(&mut self, mac: Box<dyn Mac>) -> Box<dyn Mac> {
        std::mem::replace(&mut self.mac, mac)
    }

    /// The MAC, to read its state.
    pub fn mac_mut(&mut self) -> &mut dyn Mac {
        &mut *self.mac
    }

    /// Unmaps `range` of IOVAs in the IOMMU model (fault injection): DMA there
    /// gets SLVERR until [`SimDevice::iommu_remap_all`].
    pub fn iommu_unmap(&mut self, range: std::ops::Range<u64>) {
        self.iommu.unmapped.push(range);
    }

    /// Undoes every [`SimDevice::iommu_unmap`].
    pub fn iommu_remap_all(&mut self) {
        self.iommu.unmapped.clear();
    }

    /// Holds MSI messages back (`true`) until [`SimDevice::deliver_msi`] instead
    /// of signalling their eventfds at once: the lockstep clock delivers them at
    /// points of its choosing, so that the driver's interrupt thread never runs
    /// concurrently with its poll loop.
    pub fn set_defer_msi(&mut self, on: bool) {
        self.defer_msi = on;
    }

    /// Records the wall time of every MSI message in `stamps` (latency
    /// measurements); `None` stops.
    pub fn set_msi_stamps(&mut self, stamps: Option<Arc<MsiStamps>>) {
        self.msi_stamps = stamps;
    }

    /// Signals the eventfd of the oldest held-back message; returns how many
    /// were signalled (0 or 1). One at a time, so that the interrupt thread
    /// handles them in the order they were sent, whatever epoll would batch.
    pub fn deliver_msi(&mut self) -> u64 {
        if self.pending_msi.is_empty() {
            return 0;
        }
        let v = self.pending_msi.remove(0);
        let fds = self.msi.read().expect("MSI targets lock");
        if let Some(fd) = fds.get(v as usize) {
            // Fails only on counter overflow: not reachable.
            let _ = fd.write(1);
        }
        1
    }

    /// The model (queue count, vectors).
    pub fn model(&self) -> &TopModel {
        &self.model
    }

    /// Queues a BAR0 access for the AXI4-Lite master.
    pub fn push_op(&mut self, op: RegOp) {
        self.axil.ops.push_back(op);
    }

    /// True when no BAR0 access is queued or on the bus.
    pub fn regs_idle(&self) -> bool {
        self.axil.ops.is_empty() && self.axil.active.is_none()
    }

    /// Surroundings' counters.
    pub fn counters(&self) -> &SimCounters {
        &self.counters
    }

    /// Clock cycles so far.
    pub fn cycles(&self) -> u64 {
        self.counters.cycles
    }

    /// Opens an FST waveform; `window` = (from, to) cycles to dump, `None` for
    /// the whole run.
    pub fn open_waves(
        &mut self,
        path: &std::path::Path,
        window: Option<(u64, u64)>,
    ) -> Result<(), crate::WaveError> {
        self.model.trace_open(path)?;
        let w = window.unwrap_or((0, u64::MAX));
        self.wave_window = Some(w);
        self.model
            .dump(self.counters.cycles >= w.0 && self.counters.cycles < w.1);
        Ok(())
    }

    /// Flushes and closes the waveform.
    pub fn close_waves(&mut self) {
        self.model.trace_close();
        self.wave_window = None;
    }

    #[inline]
    fn chance(&mut self, per_256: u32) -> bool {
        if per_256 == 0 {
            return false;
        }
        // xorshift64*: the stall pattern is a pure function of the seed.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        ((self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u32) < per_256
    }

    /// Runs `n` clock cycles.
    pub fn run(&mut self, n: u64) {
        for _ in 0..n {
            self.cycle();
        }
    }

    /// One clock cycle of the core and every bus model.
    pub fn cycle(&mut self) {
        let now = self.counters.cycles;
        if let Some((from, to)) = self.wave_window {
            if now == from {
                self.model.dump(true);
            } else if now == to {
                self.model.dump(false);
            }
        }
        self.drive_axil(now);
        self.drive_memory(now);
        self.drive_mac_rx(now);
        self.p.m_axis_tx_tready = 1;

        self.model.cycle(&mut self.p);
        self.counters.cycles = now + 1;

        self.update_axil();
        self.update_memory(now);
        self.update_mac(now);
    }

    // ---- AXI4-Lite master (BAR0) -------------------------------------------------

    fn drive_axil(&mut self, now: u64) {
        let a = &mut self.axil;
        if a.active.is_some() && now - a.started > REG_TIMEOUT_CYCLES {
            let (offset, write) = match a.active.take() {
                Some(RegOp::Write { offset, .. }) => (offset, true),
                Some(RegOp::Read { offset, reply }) => {
                    let _ = reply.try_send(0xFFFF_FFFF);
                    (offset, false)
                }
                None => unreachable!(),
            };
            self.counters.reg_timeouts += 1;
            if self.counters.first_reg_timeout.is_none() {
                self.counters.first_reg_timeout = Some((offset, write, a.started));
            }
            eprintln!(
                "oxnic-sim: BAR0 {} at {offset:#x} got no response in {REG_TIMEOUT_CYCLES} cycles \
                 (started at cycle {}): completion timeout, reads return all ones",
                if write { "write" } else { "read" },
                a.started
            );
        }
        if a.active.is_none() {
            a.active = a.ops.pop_front();
            a.aw_done = false;
            a.w_done = false;
            a.ar_done = false;
            a.started = now;
        }
        let p = &mut self.p;
        p.s_axil_awvalid = 0;
        p.s_axil_wvalid = 0;
        p.s_axil_arvalid = 0;
        p.s_axil_bready = 1;
        p.s_axil_rready = 1;
        match &a.active {
            Some(RegOp::Write { offset, value }) => {
                p.s_axil_awaddr = *offset;
                p.s_axil_awvalid = (!a.aw_done) as u8;
                p.s_axil_wdata = *value;
                p.s_axil_wstrb = 0xF;
                p.s_axil_wvalid = (!a.w_done) as u8;
            }
            Some(RegOp::Read { offset, .. }) => {
                p.s_axil_araddr = *offset;
                p.s_axil_arvalid = (!a.ar_done) as u8;
            }
            None => {}
        }
    }

    fn update_axil(&mut self) {
        let p = &self.p;
        let a = &mut self.axil;
        match &a.active {
            Some(RegOp::Write { .. }) => {
                a.aw_done |= p.s_axil_awvalid & p.s_axil_awready != 0;
                a.w_done |= p.s_axil_wvalid & p.s_axil_wready != 0;
                if p.s_axil_bvalid != 0 && a.aw_done && a.w_done {
                    if p.s_axil_bresp != OKAY {
                        self.counters.reg_errors += 1;
                    }
                    self.counters.reg_writes += 1;
                    a.active = None;
                }
            }
            Some(RegOp::Read { .. }) => {
                a.ar_done |= p.s_axil_arvalid & p.s_axil_arready != 0;
                if p.s_axil_rvalid != 0 && a.ar_done {
                    let value = if p.s_axil_rresp == OKAY {
                        p.s_axil_rdata
                    } else {
                        self.counters.reg_errors += 1;
                        0xFFFF_FFFF
                    };
                    self.counters.reg_reads += 1;
                    if let Some(RegOp::Read { reply, .. }) = a.active.take() {
                        // The reader may have given up (its thread ended): fine.
                        let _ = reply.try_send(value);
                    }
                }
            }
            None => {}
        }
    }

    // ---- AXI4 slave: host memory behind the IOMMU, and the MSI window -------------

    fn drive_memory(&mut self, now: u64) {
        let stall_aw = self.chance(self.timing.stall_per_256);
        let stall_w = self.chance(self.timing.stall_per_256);
        let stall_ar = self.chance(self.timing.stall_per_256);
        let stall_r = self.chance(self.timing.stall_per_256);
        let p = &mut self.p;
        // Bounded queues, as a real interconnect's: 32 outstanding bursts each
        // way (a PCIe endpoint has at least 32 read tags).
        p.m_axi_awready = (self.aw.len() < 32 && !stall_aw) as u8;
        p.m_axi_wready = (!self.aw.is_empty() && !stall_w) as u8;
        p.m_axi_arready = (self.ar.len() < 32 && !stall_ar) as u8;
        match self.b.front() {
            Some(&(id, resp, at)) if at <= now => {
                p.m_axi_bvalid = 1;
                p.m_axi_bid = id;
                p.m_axi_bresp = resp;
            }
            _ => p.m_axi_bvalid = 0,
        }
        p.m_axi_rvalid = 0;
        if let Some(r) = self.ar.front() {
            if r.ready_at <= now && !stall_r {
                p.m_axi_rvalid = 1;
                p.m_axi_rid = r.id;
                p.m_axi_rlast = (r.beats_left == 1) as u8;
                let (data, resp) = match self.iommu.word(r.addr) {
                    // SAFETY: `word` returned a pointer to 8 mapped, aligned
                    // bytes of the arena (which `iommu` keeps alive); the
                    // driver may write them concurrently, as a CPU may while a
                    // device reads: a volatile read gives some value, never UB
                    // in practice for plain integers in shared memory.
                    Some(ptr) => (unsafe { std::ptr::read_volatile(ptr as *const u64) }, OKAY),
                    None => (0, if r.resp == OKAY { SLVERR } else { r.resp }),
                };
                p.m_axi_rdata = u64::from_le(data);
                p.m_axi_rresp = resp;
            }
        }
    }

    fn update_memory(&mut self, now: u64) {
        let p = self.p;
        if p.m_axi_awvalid & p.m_axi_awready != 0 {
            self.aw.push_back(Burst {
                id: p.m_axi_awid,
                addr: p.m_axi_awaddr,
                beats_left: p.m_axi_awlen as u32 + 1,
                size: p.m_axi_awsize,
                resp: OKAY,
                ready_at: now,
            });
        }
        if p.m_axi_wvalid & p.m_axi_wready != 0 {
            let mut burst = self.aw.pop_front().expect("wready only with an AW queued");
            let resp = self.write_beat(burst.addr, p.m_axi_wdata, p.m_axi_wstrb, now);
            if burst.resp == OKAY {
                burst.resp = resp;
            }
            burst.addr = (burst.addr & !((1u64 << burst.size) - 1)) + (1u64 << burst.size);
            burst.beats_left -= 1;
            if p.m_axi_wlast != 0 || burst.beats_left == 0 {
                // A WLAST that disagrees with AWLEN is a protocol error of the
                // core: answer it with SLVERR so a test sees it.
                let resp = if (p.m_axi_wlast != 0) != (burst.beats_left == 0) {
                    SLVERR
                } else {
                    burst.resp
                };
                self.b
                    .push_back((burst.id, resp, now + self.timing.b_latency as u64));
            } else {
                self.aw.push_front(burst);
            }
        }
        if p.m_axi_bvalid & p.m_axi_bready != 0 {
            self.b.pop_front();
        }
        if p.m_axi_arvalid & p.m_axi_arready != 0 {
            self.ar.push_back(Burst {
                id: p.m_axi_arid,
                addr: p.m_axi_araddr,
                beats_left: p.m_axi_arlen as u32 + 1,
                size: p.m_axi_arsize,
                resp: OKAY,
                ready_at: now + self.timing.r_latency as u64,
            });
        }
        if p.m_axi_rvalid & p.m_axi_rready != 0 {
            let r = self.ar.front_mut().expect("rvalid only with an AR queued");
            if p.m_axi_rresp != OKAY {
                r.resp = p.m_axi_rresp;
                self.counters.iommu_faults += 1;
                self.counters.last_fault = Some(r.addr);
            } else {
                self.counters.dma_read_bytes += 8;
            }
            r.addr = (r.addr & !((1u64 << r.size) - 1)) + (1u64 << r.size);
            r.beats_left -= 1;
            if r.beats_left == 0 {
                self.ar.pop_front();
            }
        }
    }

    /// One W beat at `addr` (lane = address bits 2:0 of each strobed byte).
    fn write_beat(&mut self, addr: u64, data: u64, strb: u8, now: u64) -> u8 {
        if (MSI_BASE..MSI_BASE + MSI_SIZE).contains(&addr) {
            // An MSI-X message: a DWORD write; its data names the vector (the
            // platform programmed data = vector number).
            let lane = (addr & 4) as u32 * 8;
            let vector = (data >> lane) as u32;
            self.counters.last_msi_cycle = now;
            let fds = self.msi.read().expect("MSI targets lock");
            match fds.get(vector as usize) {
                Some(fd) => {
                    if self.counters.msi.len() <= vector as usize {
                        self.counters.msi.resize(vector as usize + 1, 0);
                    }
                    self.counters.msi[vector as usize] += 1;
                    if let Some(s) = &self.msi_stamps {
                        s.stamp(vector);
                    }
                    if self.defer_msi {
                        self.pending_msi.push(vector);
                    } else {
                        // An eventfd write fails only on counter overflow
                        // (2^64-2 unread messages): not reachable.
                        let _ = fd.write(1);
                    }
                }
                None => self.counters.msi_unbound += 1,
            }
            return OKAY;
        }
        let Some(ptr) = self.iommu.word(addr) else {
            self.counters.iommu_faults += 1;
            self.counters.last_fault = Some(addr);
            return SLVERR;
        };
        if strb == 0xFF {
            // SAFETY: `ptr` points to 8 mapped, 8-byte-aligned bytes of the arena,
            // which `iommu` keeps alive. The driver reads them concurrently with
            // volatile reads after a phase-bit check, exactly as a CPU reads
            // device-written memory; one 8-byte store is single-copy atomic on
            // the targets we run on.
            unsafe { std::ptr::write_volatile(ptr as *mut u64, data.to_le()) };
        } else {
            for lane in 0..8 {
                if strb >> lane & 1 != 0 {
                    // SAFETY: as above, byte `lane` of the same mapped word.
                    unsafe { std::ptr::write_volatile(ptr.add(lane), (data >> (8 * lane)) as u8) };
                }
            }
        }
        // Later beats (the completion's phase bit) must not become visible before
        // this one: the order the RTL wrote them is the order the driver sees.
        fence(Ordering::Release);
        self.counters.dma_write_bytes += strb.count_ones() as u64;
        OKAY
    }

    // ---- MAC side ------------------------------------------------------------------

    fn drive_mac_rx(&mut self, now: u64) {
        if self.rx_frame.is_none() {
            if let Some(f) = self.mac.rx_frame(now) {
                self.rx_frame = Some((f, 0));
            }
        }
        let p = &mut self.p;
        match &self.rx_frame {
            Some((f, off)) => {
                let rest = &f.data[*off..];
                let n = rest.len().min(8);
                let mut word = [0u8; 8];
                word[..n].copy_from_slice(&rest[..n]);
                p.s_axis_rx_tdata = u64::from_le_bytes(word);
                p.s_axis_rx_tkeep = if n == 8 { 0xFF } else { (1u8 << n) - 1 };
                p.s_axis_rx_tlast = (rest.len() <= 8) as u8;
                p.s_axis_rx_tuser = (f.error && rest.len() <= 8) as u8;
                p.s_axis_rx_tvalid = 1;
            }
            None => p.s_axis_rx_tvalid = 0,
        }
    }

    fn update_mac(&mut self, now: u64) {
        let p = self.p;
        if p.s_axis_rx_tvalid != 0 {
            if p.s_axis_rx_tready != 0 {
                let (f, off) = self.rx_frame.as_mut().expect("tvalid only with a frame");
                *off += 8;
                if *off >= f.data.len() {
                    self.rx_frame = None;
                    self.counters.mac_rx_frames += 1;
                }
            } else {
                self.counters.mac_rx_stall_cycles += 1;
            }
        }
        if p.m_axis_tx_tvalid & p.m_axis_tx_tready != 0 {
            let n = p.m_axis_tx_tkeep.count_ones() as usize;
            let bytes = p.m_axis_tx_tdata.to_le_bytes();
            // tkeep is contiguous from lane 0 (the core packs frames).
            self.tx_frame.extend_from_slice(&bytes[..n.min(8)]);
            if p.m_axis_tx_tlast != 0 {
                let data = std::mem::replace(&mut self.tx_frame, Vec::with_capacity(2048));
                self.counters.mac_tx_frames += 1;
                self.mac.tx_frame(
                    MacFrame {
                        data,
                        error: p.m_axis_tx_tuser != 0,
                    },
                    now,
                );
            }
        }
    }
}
