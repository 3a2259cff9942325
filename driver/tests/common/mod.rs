//! A test "device": a transport whose registers are a map and whose queues are
//! played by the test, over a real [`DmaArena`].
//!
//! Written from the register map and the format definitions of `oxnic_regs`,
//! independently of the driver's ring code: it reads descriptors the driver
//! posted, writes frames and completions (phase bit last) the way the RTL does,
//! auto-masks a queue's interrupt when it fires and signals the bound eventfd.
//!
//! Interrupt model (oxnic): an event on an armed queue fires its vector once and
//! disarms it; arming (`IRQ_CTRL.ARM`, or `DB_CPL_CONS.REARM`) while completions
//! are unconsumed fires at once.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Mutex;

use oxnic_driver::{DmaArena, DmaMemory, EventFd, HugePages, InterruptVectors, RegisterAccess};
use oxnic_regs::{cpl, queue, rx_desc, RX_QUEUE_BASE, TX_QUEUE_BASE};

pub const IOVA_BASE: u64 = 0x1_0000_0000;

/// Seed for randomised tests: `OXNIC_TEST_SEED` or the clock; printed.
pub fn seed(test: &str) -> u64 {
    let s = std::env::var("OXNIC_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("{test}: seed {s} (rerun with OXNIC_TEST_SEED={s})");
    s
}

/// xorshift64*: small, deterministic.
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    Rx,
    Tx,
}

#[derive(Default, Debug)]
struct QState {
    desc_cons: u16,
    cpl_prod: u16,
    armed: bool,
    fired: u64,
}

#[derive(Default)]
struct State {
    regs: HashMap<u32, u32>,
    writes: Vec<(u32, u32)>,
    queues: HashMap<(Dir, u16), QState>,
    fds: Vec<EventFd>,
}

/// What the device writes into one completion; `None` fields take the right value.
#[derive(Clone, Copy, Debug, Default)]
pub struct CplSpec {
    pub len: Option<u32>,
    pub status: u32,
    pub rss_type: u32,
    pub rss_hash: u32,
    pub desc_index: Option<u16>,
    pub queue: Option<u16>,
    /// Override the phase bit (a stale entry).
    pub phase: Option<u32>,
}

pub struct TestNic {
    arena: DmaArena,
    state: Mutex<State>,
}

fn decode(offset: u32) -> Option<(Dir, u16, u32)> {
    let (dir, base) = if (RX_QUEUE_BASE..TX_QUEUE_BASE).contains(&offset) {
        (Dir::Rx, RX_QUEUE_BASE)
    } else if (TX_QUEUE_BASE..TX_QUEUE_BASE + 0x1_0000).contains(&offset) {
        (Dir::Tx, TX_QUEUE_BASE)
    } else {
        return None;
    };
    let rel = offset - base;
    Some((
        dir,
        (rel / oxnic_regs::QUEUE_STRIDE) as u16,
        rel % oxnic_regs::QUEUE_STRIDE,
    ))
}

pub fn qreg(dir: Dir, q: u16, reg: u32) -> u32 {
    match dir {
        Dir::Rx => oxnic_regs::rx_queue_reg(q.into(), reg),
        Dir::Tx => oxnic_regs::tx_queue_reg(q.into(), reg),
    }
}

impl TestNic {
    pub fn new(arena_bytes: usize) -> Self {
        Self {
            arena: DmaArena::new(arena_bytes, IOVA_BASE, HugePages::Never).unwrap(),
            state: Mutex::new(State::default()),
        }
    }

    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ---- raw device-side memory access (volatile, through the IOVA) ---------

    fn host(&self, iova: u64, len: usize) -> *mut u8 {
        self.arena
            .iova_to_host(iova, len)
            .unwrap_or_else(|| panic!("device DMA to {iova:#x}+{len} outside the arena"))
    }

    pub fn mem_read32(&self, iova: u64) -> u32 {
        let p = self.host(iova, 4) as *const u32;
        assert_eq!(p as usize % 4, 0);
        // SAFETY: in bounds of the arena mapping (checked), aligned (asserted);
        // volatile because the driver shares this memory.
        u32::from_le(unsafe { p.read_volatile() })
    }

    pub fn mem_write32(&self, iova: u64, v: u32) {
        let p = self.host(iova, 4) as *mut u32;
        assert_eq!(p as usize % 4, 0);
        // SAFETY: as in mem_read32.
        unsafe { p.write_volatile(v.to_le()) }
    }

    pub fn mem_read64(&self, iova: u64) -> u64 {
        u64::from(self.mem_read32(iova)) | (u64::from(self.mem_read32(iova + 4)) << 32)
    }

    pub fn mem_write_bytes(&self, iova: u64, data: &[u8]) {
        let p = self.host(iova, data.len());
        for (i, b) in data.iter().enumerate() {
            // SAFETY: p..p+len is inside the arena (checked by host()).
            unsafe { p.add(i).write_volatile(*b) }
        }
    }

    pub fn mem_read_bytes(&self, iova: u64, len: usize) -> Vec<u8> {
        let p = self.host(iova, len);
        // SAFETY: p..p+len is inside the arena (checked by host()).
        (0..len)
            .map(|i| unsafe { p.add(i).read_volatile() })
            .collect()
    }

    // ---- register view --------------------------------------------------------

    pub fn reg(&self, offset: u32) -> u32 {
        self.st().regs.get(&offset).copied().unwrap_or(0)
    }

    /// Every register write so far, in order.
    pub fn writes(&self) -> Vec<(u32, u32)> {
        self.st().writes.clone()
    }

    pub fn writes_to(&self, offset: u32) -> Vec<u32> {
        self.st()
            .writes
            .iter()
            .filter(|(o, _)| *o == offset)
            .map(|(_, v)| *v)
            .collect()
    }

    pub fn clear_writes(&self) {
        self.st().writes.clear();
    }

    pub fn fired(&self, dir: Dir, q: u16) -> u64 {
        self.st().queues.get(&(dir, q)).map_or(0, |s| s.fired)
    }

    pub fn armed(&self, dir: Dir, q: u16) -> bool {
        self.st().queues.get(&(dir, q)).is_some_and(|s| s.armed)
    }

    fn log2(st: &State, dir: Dir, q: u16) -> u32 {
        queue::CONFIG_LOG2_SIZE.get(
            st.regs
                .get(&qreg(dir, q, queue::CONFIG))
                .copied()
                .unwrap_or(0),
        )
    }

    fn base(st: &State, dir: Dir, q: u16, lo: u32, hi: u32) -> u64 {
        let r = |o| u64::from(st.regs.get(&qreg(dir, q, o)).copied().unwrap_or(0));
        r(lo) | (r(hi) << 32)
    }

    fn fire(st: &mut State, dir: Dir, q: u16) {
        let vector = queue::CONFIG_VECTOR.get(
            st.regs
                .get(&qreg(dir, q, queue::CONFIG))
                .copied()
                .unwrap_or(0),
        ) as usize;
        let qs = st.queues.entry((dir, q)).or_default();
        qs.armed = false;
        qs.fired += 1;
        if let Some(fd) = st.fds.get(vector) {
            fd.write(1).unwrap();
        }
    }

    fn arm(st: &mut State, dir: Dir, q: u16) {
        let cons = st
            .regs
            .get(&qreg(dir, q, queue::DB_CPL_CONS))
            .copied()
            .unwrap_or(0) as u16;
        let qs = st.queues.entry((dir, q)).or_default();
        qs.armed = true;
        if qs.cpl_prod != cons {
            Self::fire(st, dir, q);
        }
    }

    /// The device's descriptor state: (DB_DESC_PROD, desc_cons, cpl_prod).
    pub fn indices(&self, dir: Dir, q: u16) -> (u16, u16, u16) {
        let st = self.st();
        let prod = st
            .regs
            .get(&qreg(dir, q, queue::DB_DESC_PROD))
            .copied()
            .unwrap_or(0) as u16;
        let qs = st.queues.get(&(dir, q));
        (
            prod,
            qs.map_or(0, |s| s.desc_cons),
            qs.map_or(0, |s| s.cpl_prod),
        )
    }

    /// Takes the next posted descriptor, writes `frame` into its buffer (RX) and
    /// a completion per `spec`. Returns `None` (nothing written) when no
    /// descriptor is posted or the completion ring has no free slot — the RTL
    /// would drop the frame (RX_DROP_NO_DESC) or wait.
    /// For TX, returns the frame the descriptor points at.
    pub fn complete(&self, dir: Dir, q: u16, frame: &[u8], spec: CplSpec) -> Option<Vec<u8>> {
        let mut st = self.st();
        let log2 = Self::log2(&st, dir, q);
        assert!(log2 >= 4, "queue not configured");
        let size = 1u32 << log2;
        let prod = st
            .regs
            .get(&qreg(dir, q, queue::DB_DESC_PROD))
            .copied()
            .unwrap_or(0) as u16;
        let cpl_cons = st
            .regs
            .get(&qreg(dir, q, queue::DB_CPL_CONS))
            .copied()
            .unwrap_or(0) as u16;
        let (desc_cons, cpl_prod) = {
            let qs = st.queues.entry((dir, q)).or_default();
            (qs.desc_cons, qs.cpl_prod)
        };
        let outstanding = prod.wrapping_sub(desc_cons);
        assert!(
            u32::from(outstanding) <= size,
            "driver posted {outstanding} descriptors on a ring of {size}"
        );
        if outstanding == 0 || u32::from(cpl_prod.wrapping_sub(cpl_cons)) >= size {
            return None;
        }
        let desc = Self::base(&st, dir, q, queue::DESC_BASE_LO, queue::DESC_BASE_HI)
            + u64::from(u32::from(desc_cons) % size) * u64::from(rx_desc::SIZE);
        let addr = self.mem_read64(desc);
        let dlen = self.mem_read32(desc + 8) & 0xffff;
        let mut sent = None;
        let len = match dir {
            Dir::Rx => {
                let n = frame.len().min(dlen as usize);
                self.mem_write_bytes(addr, &frame[..n]);
                spec.len.unwrap_or(frame.len() as u32)
            }
            Dir::Tx => {
                sent = Some(self.mem_read_bytes(addr, dlen as usize));
                spec.len.unwrap_or(dlen)
            }
        };
        let c = Self::base(&st, dir, q, queue::CPL_BASE_LO, queue::CPL_BASE_HI)
            + u64::from(u32::from(cpl_prod) % size) * u64::from(cpl::SIZE);
        let w0 = (len & 0xffff) | (spec.status & 0xf) << 16 | (spec.rss_type & 0xf) << 24;
        let w2 = u32::from(spec.desc_index.unwrap_or(desc_cons))
            | u32::from(spec.queue.unwrap_or(q)) << 16;
        // Phase: 1 on the first pass over the ring, flipping at every wrap.
        let phase = spec
            .phase
            .unwrap_or(if (u32::from(cpl_prod) / size) % 2 == 0 {
                1
            } else {
                0
            });
        self.mem_write32(c, w0);
        self.mem_write32(c + 4, spec.rss_hash);
        self.mem_write32(c + 8, w2);
        std::sync::atomic::fence(std::sync::atomic::Ordering::Release);
        self.mem_write32(c + 12, phase << 31); // last
        let qs = st.queues.get_mut(&(dir, q)).unwrap();
        qs.desc_cons = desc_cons.wrapping_add(1);
        qs.cpl_prod = cpl_prod.wrapping_add(1);
        if qs.armed {
            Self::fire(&mut st, dir, q);
        }
        Some(sent.unwrap_or_default())
    }

    /// Receives `frame` on RX queue `q` with default metadata.
    pub fn rx(&self, q: u16, frame: &[u8]) -> bool {
        self.complete(Dir::Rx, q, frame, CplSpec::default())
            .is_some()
    }

    /// Sends up to `max` posted TX frames of queue `q`; returns them.
    pub fn tx(&self, q: u16, max: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while out.len() < max {
            match self.complete(Dir::Tx, q, &[], CplSpec::default()) {
                Some(f) => out.push(f),
                None => break,
            }
        }
        out
    }
}

impl RegisterAccess for TestNic {
    fn bar0_size(&self) -> u32 {
        oxnic_regs::BAR0_SIZE
    }

    fn read32(&self, offset: u32) -> u32 {
        assert!(oxnic_driver::transport::hot_path_access(
            offset,
            self.bar0_size()
        ));
        let st = self.st();
        if let Some((dir, q, reg)) = decode(offset) {
            let qs = st.queues.get(&(dir, q));
            match reg {
                queue::DESC_CONS => return qs.map_or(0, |s| u32::from(s.desc_cons)),
                queue::CPL_PROD => return qs.map_or(0, |s| u32::from(s.cpl_prod)),
                _ => {}
            }
        }
        st.regs.get(&offset).copied().unwrap_or(0)
    }

    fn write32(&self, offset: u32, value: u32) {
        assert!(oxnic_driver::transport::hot_path_access(
            offset,
            self.bar0_size()
        ));
        let mut st = self.st();
        st.writes.push((offset, value));
        let Some((dir, q, reg)) = decode(offset) else {
            st.regs.insert(offset, value);
            return;
        };
        match reg {
            queue::DB_CPL_CONS => {
                st.regs.insert(offset, value & 0xffff);
                if queue::DB_CPL_CONS_REARM.get(value) == 1 {
                    Self::arm(&mut st, dir, q);
                }
            }
            queue::IRQ_CTRL => {
                if queue::IRQ_CTRL_ARM.get(value) == 1 {
                    Self::arm(&mut st, dir, q);
                }
            }
            queue::CTRL => {
                st.regs.insert(offset, value);
                if value & 1 == 1 {
                    // Enable zeroes the device's indices.
                    let qs = st.queues.entry((dir, q)).or_default();
                    qs.desc_cons = 0;
                    qs.cpl_prod = 0;
                }
            }
            _ => {
                st.regs.insert(offset, value);
            }
        }
    }
}

impl DmaMemory for TestNic {
    fn dma_arena(&self) -> &DmaArena {
        &self.arena
    }
}

impl InterruptVectors for TestNic {
    fn max_vectors(&self) -> u32 {
        8
    }
    fn bound_vectors(&self) -> u32 {
        self.st().fds.len() as u32
    }
    fn bind_vectors(&self, fds: &[&EventFd]) -> oxnic_driver::Result<()> {
        let mut st = self.st();
        assert!(st.fds.is_empty(), "bind_vectors called twice");
        st.fds = fds.iter().map(|f| f.try_clone().unwrap()).collect();
        Ok(())
    }
    fn trigger_vector(&self, vector: u32) -> oxnic_driver::Result<()> {
        self.st().fds[vector as usize].write(1).unwrap();
        Ok(())
    }
    fn unbind_vectors(&self) -> oxnic_driver::Result<()> {
        self.st().fds.clear();
        Ok(())
    }
}
