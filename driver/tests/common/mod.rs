//! A test "device": a transport whose BAR0 is a software model of an oxnic and
//! whose traffic is played by the test, over a real [`DmaArena`].
//!
//! Written from the register map and the format definitions of `oxnic_regs`,
//! independently of the driver's code:
//!
//! - **Registers** are table-driven: every offset is looked up in
//!   `oxnic_regs::global::REGISTERS` / `queue::REGISTERS`; RW fields read back
//!   what was written (reset values from the map, generation parameters from
//!   [`NicParams`]), RO fields are the model's state, W1C fields clear on 1, W1S
//!   and WO fields are actions, reserved bits read 0, unmapped offsets (and
//!   queue blocks at or beyond `CAPS.QUEUES`) read 0 and ignore writes.
//! - **Global**: ID, VERSION, CAPS, CLOCK_MHZ from [`NicParams`]; CTRL.ENABLE;
//!   CTRL.SOFT_RESET returns everything (not the bound eventfds: MSI-X is the
//!   platform's) to reset values and reads 1, with STATUS.RESET_BUSY, for
//!   `reset_polls` reads of CTRL/STATUS (`u32::MAX`: never finishes);
//!   STATUS.QUIESCENT reads 0 for the next [`TestNic::set_dma_busy`] reads of
//!   STATUS; MTU / ERR_VECTOR / RETA writes out of range set ERR_STATUS.CONFIG and
//!   are ignored; ERR_STATUS is W1C; an enabled cause going 0→1 fires ERR_VECTOR.
//! - **Queues**: CTRL.ENABLE=1 checks CONFIG (log2 size, vector below
//!   CAPS.VECTORS: else STATUS.CONFIG_ERROR and ERR_STATUS.CONFIG), clears the
//!   error state and zeroes DESC_CONS/CPL_PROD; CTRL.ENABLE=0 stops the queue at
//!   once; STAT_* count completions.
//! - **Traffic**: [`TestNic::mac_rx`] plays a frame from the MAC through the
//!   receive path (global enable, MAC error, runt, MTU, RSS → RETA, queue state,
//!   descriptor) and counts it in the global counters;
//!   [`TestNic::complete`] / [`TestNic::rx`] / [`TestNic::tx`] complete on one
//!   queue directly (the queue must be enabled and not in error).
//!   Completions are written the way the RTL does (phase bit last).
//!
//! Interrupt model: an event (completion) on an armed, unmasked queue fires its
//! vector once and disarms it (auto-mask). Arming (`IRQ_CTRL.ARM`, or
//! `DB_CPL_CONS.REARM`) or unmasking while completions are unconsumed
//! (`CPL_PROD != DB_CPL_CONS`) fires at once. (The RTL's `irq_latch` latches an
//! *event* instead, so it may fire once more after a re-arm that found nothing;
//! the model is the stricter one for lost wake-ups and never fires spuriously.)
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Mutex;

use oxnic_driver::{DmaArena, DmaMemory, EventFd, HugePages, InterruptVectors, RegisterAccess};
use oxnic_regs::{
    cpl, cpl_status, global, queue, rx_desc, Access, Register, MAX_MTU, MIN_FRAME_LEN,
    PARAM_CLOCK_MHZ, PARAM_QUEUES, PARAM_VECTORS, QUEUE_STRIDE, RING_LOG2_MAX, RING_LOG2_MIN,
    RSS_RETA_ENTRIES, RX_QUEUE_BASE, TX_QUEUE_BASE,
};

pub const IOVA_BASE: u64 = 0x1_0000_0000;

/// Seed for randomised tests: `OXNIC_SEED` (or the older `OXNIC_TEST_SEED`),
/// else the clock; printed so that a failing run can be replayed.
pub fn seed(test: &str) -> u64 {
    let s = ["OXNIC_SEED", "OXNIC_TEST_SEED"]
        .iter()
        .find_map(|v| std::env::var(v).ok().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("{test}: seed {s} (rerun with OXNIC_SEED={s})");
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

/// Generation parameters and identity of the modelled device.
#[derive(Clone, Copy, Debug)]
pub struct NicParams {
    pub queues: u32,
    pub vectors: u32,
    pub clock_mhz: u32,
    /// What the ID register reads.
    pub id: u32,
    pub version_major: u32,
    pub version_minor: u32,
    /// Reads of CTRL/STATUS a soft reset stays busy for (`u32::MAX`: forever).
    pub reset_polls: u32,
    pub arena_bytes: usize,
}

impl Default for NicParams {
    fn default() -> Self {
        Self {
            queues: 8,
            vectors: 8,
            clock_mhz: 250,
            id: oxnic_regs::ID_MAGIC,
            version_major: oxnic_regs::VERSION_MAJOR,
            version_minor: oxnic_regs::VERSION_MINOR,
            reset_polls: 3,
            arena_bytes: 4 << 20,
        }
    }
}

#[derive(Default, Debug)]
struct QState {
    desc_cons: u16,
    cpl_prod: u16,
    armed: bool,
    masked: bool,
    fired: u64,
    enabled: bool,
    error: bool,
    config_error: bool,
    stat_packets: u32,
    stat_bytes: u64,
}

#[derive(Default)]
struct State {
    /// Last written value per offset (RW bits are what reads return).
    stored: HashMap<u32, u32>,
    writes: Vec<(u32, u32)>,
    queues: HashMap<(Dir, u16), QState>,
    fds: Vec<EventFd>,
    bind_calls: Vec<usize>,
    unbind_calls: usize,
    counters: HashMap<u32, u32>,
    err_status: u32,
    err_info: u32,
    err_addr: u64,
    err_fired: u64,
    reset_left: u32,
    reset_polls: u32,
    resets: u32,
    writes_during_reset: u32,
    dma_busy: u32,
    status_reads: u64,
}

/// What a descriptor completion looks like; `None` fields take the right value.
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

/// Side information of a frame from the MAC.
#[derive(Clone, Copy, Debug, Default)]
pub struct MacMeta {
    /// The Toeplitz hash the parser would compute (the model does not parse).
    pub hash: u32,
    /// The RSS type of that hash.
    pub rss_type: u32,
    /// tuser on the last beat: the MAC flagged the frame.
    pub mac_error: bool,
}

/// Why the receive path dropped a frame (one per `RX_DROP_*` counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    QueueDisabled,
    NoDesc,
    Runt,
    Oversize,
    MacError,
    DmaError,
}

impl DropReason {
    pub fn counter(self) -> u32 {
        match self {
            DropReason::QueueDisabled => global::RX_DROP_QUEUE_DISABLED,
            DropReason::NoDesc => global::RX_DROP_NO_DESC,
            DropReason::Runt => global::RX_DROP_RUNT,
            DropReason::Oversize => global::RX_DROP_OVERSIZE,
            DropReason::MacError => global::RX_DROP_MAC_ERROR,
            DropReason::DmaError => global::RX_DROP_DMA_ERROR,
        }
    }
}

/// What happened to a frame from the MAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxOutcome {
    Queued(u16),
    Dropped(DropReason),
}

pub struct TestNic {
    params: NicParams,
    arena: DmaArena,
    state: Mutex<State>,
}

enum Loc {
    Global,
    Queue(Dir, u16),
}

pub fn qreg(dir: Dir, q: u16, reg: u32) -> u32 {
    match dir {
        Dir::Rx => oxnic_regs::rx_queue_reg(q.into(), reg),
        Dir::Tx => oxnic_regs::tx_queue_reg(q.into(), reg),
    }
}

fn find(regs: &'static [Register], rel: u32) -> Option<&'static Register> {
    regs.iter()
        .find(|r| rel >= r.offset && rel < r.offset + 4 * r.count && (rel - r.offset) % 4 == 0)
}

/// Mask of the fields of `r` with access `a`.
fn access_mask(r: &Register, a: Access) -> u32 {
    r.fields
        .iter()
        .filter(|f| f.access == a)
        .fold(0, |m, f| m | f.mask())
}

impl TestNic {
    /// The default device (8 queues, 8 vectors) with an arena of `arena_bytes`.
    pub fn new(arena_bytes: usize) -> Self {
        Self::with(NicParams {
            arena_bytes,
            ..NicParams::default()
        })
    }

    pub fn with(params: NicParams) -> Self {
        Self {
            params,
            arena: DmaArena::new(params.arena_bytes, IOVA_BASE, HugePages::Never).unwrap(),
            state: Mutex::new(State {
                reset_polls: params.reset_polls,
                ..State::default()
            }),
        }
    }

    /// Reads of CTRL/STATUS the next soft resets stay busy for
    /// (`u32::MAX`: they never finish).
    pub fn set_reset_polls(&self, polls: u32) {
        self.st().reset_polls = polls;
    }

    pub fn params(&self) -> NicParams {
        self.params
    }

    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn param(&self, p: &str) -> u32 {
        match p {
            PARAM_QUEUES => self.params.queues,
            PARAM_VECTORS => self.params.vectors,
            PARAM_CLOCK_MHZ => self.params.clock_mhz,
            _ => panic!("unknown generation parameter {p}"),
        }
    }

    fn locate(&self, offset: u32) -> Option<(Loc, &'static Register)> {
        if offset < RX_QUEUE_BASE {
            return find(global::REGISTERS, offset - global::BASE).map(|r| (Loc::Global, r));
        }
        let (dir, base) = if offset < TX_QUEUE_BASE {
            (Dir::Rx, RX_QUEUE_BASE)
        } else {
            (Dir::Tx, TX_QUEUE_BASE)
        };
        let rel = offset - base;
        let q = rel / QUEUE_STRIDE;
        if q >= self.params.queues {
            return None;
        }
        find(queue::REGISTERS, rel % QUEUE_STRIDE).map(|r| (Loc::Queue(dir, q as u16), r))
    }

    /// The RW bits of `offset` (last written, or the reset value).
    fn rw(&self, st: &State, offset: u32, r: &Register) -> u32 {
        st.stored
            .get(&offset)
            .copied()
            .unwrap_or_else(|| r.reset_value(|p| self.param(p)))
            & r.rw_mask()
    }

    fn rw_at(&self, st: &State, offset: u32) -> u32 {
        match self.locate(offset) {
            Some((_, r)) => self.rw(st, offset, r),
            None => 0,
        }
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

    // ---- register view for the tests (no side effects) -------------------------

    /// What a read of `offset` returns, without a read's side effects.
    pub fn reg(&self, offset: u32) -> u32 {
        let mut st = self.st();
        self.read_locked(&mut st, offset, false)
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

    pub fn masked(&self, dir: Dir, q: u16) -> bool {
        self.st().queues.get(&(dir, q)).is_some_and(|s| s.masked)
    }

    /// Lengths of the `bind_vectors` calls, in order.
    pub fn bind_calls(&self) -> Vec<usize> {
        self.st().bind_calls.clone()
    }

    pub fn unbind_calls(&self) -> usize {
        self.st().unbind_calls
    }

    /// Soft resets started.
    pub fn resets(&self) -> u32 {
        self.st().resets
    }

    /// Register writes that arrived while a soft reset was busy (a driver bug).
    pub fn writes_during_reset(&self) -> u32 {
        self.st().writes_during_reset
    }

    /// STATUS.QUIESCENT reads 0 for the next `reads` reads of STATUS
    /// (`u32::MAX`: until a soft reset).
    pub fn set_dma_busy(&self, reads: u32) {
        self.st().dma_busy = reads;
    }

    pub fn dma_busy_left(&self) -> u32 {
        self.st().dma_busy
    }

    /// Reads of the global STATUS register so far.
    pub fn status_reads(&self) -> u64 {
        self.st().status_reads
    }

    /// Messages sent on ERR_VECTOR.
    pub fn err_fired(&self) -> u64 {
        self.st().err_fired
    }

    pub fn counter(&self, offset: u32) -> u32 {
        self.st().counters.get(&offset).copied().unwrap_or(0)
    }

    // ---- interrupts ---------------------------------------------------------------

    fn signal(st: &State, vector: u32) {
        if let Some(fd) = st.fds.get(vector as usize) {
            fd.write(1).unwrap();
        }
    }

    fn fire(&self, st: &mut State, dir: Dir, q: u16) {
        let cfg = self.rw_at(st, qreg(dir, q, queue::CONFIG));
        let qs = st.queues.entry((dir, q)).or_default();
        qs.armed = false;
        qs.fired += 1;
        Self::signal(st, queue::CONFIG_VECTOR.get(cfg));
    }

    fn unconsumed(&self, st: &State, dir: Dir, q: u16) -> bool {
        let cons = queue::DB_CPL_CONS_INDEX.get(self.rw_at(st, qreg(dir, q, queue::DB_CPL_CONS)));
        st.queues
            .get(&(dir, q))
            .is_some_and(|s| u32::from(s.cpl_prod) != cons)
    }

    /// Fires if armed, unmasked and completions are unconsumed.
    fn try_fire(&self, st: &mut State, dir: Dir, q: u16) {
        let ready = st
            .queues
            .get(&(dir, q))
            .is_some_and(|s| s.armed && !s.masked);
        if ready && self.unconsumed(st, dir, q) {
            self.fire(st, dir, q);
        }
    }

    /// Latches error causes; fires ERR_VECTOR for newly set enabled causes.
    fn raise_error(&self, st: &mut State, bits: u32) {
        let new = bits & !st.err_status;
        st.err_status |= bits;
        let enabled = self.rw_at(st, global::ERR_IRQ_ENABLE);
        if new & enabled != 0 {
            st.err_fired += 1;
            let v = global::ERR_VECTOR_F.get(self.rw_at(st, global::ERR_VECTOR));
            Self::signal(st, v);
        }
    }

    fn soft_reset(&self, st: &mut State) {
        st.stored.clear();
        st.queues.clear();
        st.counters.clear();
        st.err_status = 0;
        st.err_info = 0;
        st.err_addr = 0;
        st.dma_busy = 0;
        st.reset_left = st.reset_polls;
        st.resets += 1;
    }

    fn reset_busy(st: &mut State, consume: bool) -> bool {
        if st.reset_left == 0 {
            return false;
        }
        if consume && st.reset_left != u32::MAX {
            st.reset_left -= 1;
        }
        true
    }

    // ---- register reads and writes --------------------------------------------------

    fn read_locked(&self, st: &mut State, offset: u32, effects: bool) -> u32 {
        let Some((loc, r)) = self.locate(offset) else {
            return 0;
        };
        let rw = self.rw(st, offset, r);
        match loc {
            Loc::Global => match offset {
                global::ID => self.params.id,
                global::VERSION => {
                    let v = global::VERSION_MAJOR_F.set(0, self.params.version_major);
                    global::VERSION_MINOR_F.set(v, self.params.version_minor)
                }
                global::CAPS | global::CLOCK_MHZ => r.reset_value(|p| self.param(p)),
                global::CTRL => {
                    let busy = Self::reset_busy(st, effects);
                    global::CTRL_SOFT_RESET.set(rw, busy.into())
                }
                global::STATUS => {
                    if effects {
                        st.status_reads += 1;
                    }
                    let busy = Self::reset_busy(st, effects);
                    let quiet = st.dma_busy == 0;
                    if effects && st.dma_busy > 0 && st.dma_busy != u32::MAX {
                        st.dma_busy -= 1;
                    }
                    global::STATUS_RESET_BUSY.set(0, busy.into())
                        | global::STATUS_QUIESCENT.set(0, quiet.into())
                }
                global::ERR_STATUS => st.err_status,
                global::ERR_INFO => st.err_info,
                global::ERR_ADDR_LO => st.err_addr as u32,
                global::ERR_ADDR_HI => (st.err_addr >> 32) as u32,
                _ if r.fields.len() == 1 && r.fields[0].name == "COUNT" => {
                    st.counters.get(&offset).copied().unwrap_or(0)
                }
                _ => rw,
            },
            Loc::Queue(dir, q) => {
                let qs = st.queues.get(&(dir, q));
                let rel = (offset - RX_QUEUE_BASE) % QUEUE_STRIDE;
                match rel {
                    queue::STATUS => qs.map_or(0, |s| {
                        queue::STATUS_ENABLED.set(0, s.enabled.into())
                            | queue::STATUS_ERROR.set(0, s.error.into())
                            | queue::STATUS_CONFIG_ERROR.set(0, s.config_error.into())
                    }),
                    queue::IRQ_CTRL => {
                        let pending = self.unconsumed(st, dir, q);
                        qs.map_or(0, |s| {
                            queue::IRQ_CTRL_ARM.set(0, s.armed.into())
                                | queue::IRQ_CTRL_MASK.set(0, s.masked.into())
                                | queue::IRQ_CTRL_PENDING
                                    .set(0, (pending && (s.masked || !s.armed)).into())
                        })
                    }
                    queue::DESC_CONS => qs.map_or(0, |s| u32::from(s.desc_cons)),
                    queue::CPL_PROD => qs.map_or(0, |s| u32::from(s.cpl_prod)),
                    queue::STAT_PACKETS => qs.map_or(0, |s| s.stat_packets),
                    queue::STAT_BYTES_LO => qs.map_or(0, |s| s.stat_bytes as u32),
                    queue::STAT_BYTES_HI => qs.map_or(0, |s| (s.stat_bytes >> 32) as u32),
                    _ => rw,
                }
            }
        }
    }

    fn write_locked(&self, st: &mut State, offset: u32, value: u32) {
        st.writes.push((offset, value));
        if st.reset_left != 0 {
            // The RTL holds register writes until its reset sweep is done; a
            // driver must not write meanwhile.
            st.writes_during_reset += 1;
            return;
        }
        let Some((loc, r)) = self.locate(offset) else {
            return;
        };
        let store = |st: &mut State, v: u32| {
            st.stored.insert(offset, v & r.rw_mask());
        };
        match loc {
            Loc::Global => match offset {
                global::CTRL => {
                    store(st, value);
                    if global::CTRL_SOFT_RESET.get(value) == 1 {
                        self.soft_reset(st);
                    }
                }
                global::MTU => {
                    if global::MTU_BYTES.get(value) > MAX_MTU {
                        self.raise_error(st, global::ERR_STATUS_CONFIG.mask());
                    } else {
                        store(st, value);
                    }
                }
                global::ERR_VECTOR => {
                    if global::ERR_VECTOR_F.get(value) >= self.params.vectors {
                        self.raise_error(st, global::ERR_STATUS_CONFIG.mask());
                    } else {
                        store(st, value);
                    }
                }
                global::ERR_STATUS => {
                    st.err_status &= !(value & access_mask(r, Access::W1C));
                }
                o if (global::RSS_RETA..global::RSS_RETA + 4 * RSS_RETA_ENTRIES).contains(&o) => {
                    if global::RSS_RETA_QUEUE.get(value) >= self.params.queues {
                        self.raise_error(st, global::ERR_STATUS_CONFIG.mask());
                    } else {
                        store(st, value);
                    }
                }
                _ => store(st, value),
            },
            Loc::Queue(dir, q) => {
                let rel = (offset - RX_QUEUE_BASE) % QUEUE_STRIDE;
                match rel {
                    queue::CTRL => {
                        store(st, value);
                        if queue::CTRL_ENABLE.get(value) == 1 {
                            let cfg = self.rw_at(st, qreg(dir, q, queue::CONFIG));
                            let log2 = queue::CONFIG_LOG2_SIZE.get(cfg);
                            let ok = (RING_LOG2_MIN..=RING_LOG2_MAX).contains(&log2)
                                && queue::CONFIG_VECTOR.get(cfg) < self.params.vectors;
                            let qs = st.queues.entry((dir, q)).or_default();
                            qs.error = false;
                            qs.config_error = !ok;
                            qs.enabled = ok;
                            if ok {
                                qs.desc_cons = 0;
                                qs.cpl_prod = 0;
                            } else {
                                self.raise_error(st, global::ERR_STATUS_CONFIG.mask());
                            }
                        } else {
                            st.queues.entry((dir, q)).or_default().enabled = false;
                        }
                    }
                    queue::DB_CPL_CONS => {
                        store(st, value);
                        if queue::DB_CPL_CONS_REARM.get(value) == 1 {
                            st.queues.entry((dir, q)).or_default().armed = true;
                            self.try_fire(st, dir, q);
                        }
                    }
                    queue::IRQ_CTRL => {
                        store(st, value);
                        let qs = st.queues.entry((dir, q)).or_default();
                        qs.masked = queue::IRQ_CTRL_MASK.get(value) == 1;
                        if queue::IRQ_CTRL_ARM.get(value) == 1 {
                            qs.armed = true;
                        }
                        self.try_fire(st, dir, q);
                    }
                    _ => store(st, value),
                }
            }
        }
    }

    // ---- traffic ------------------------------------------------------------------------

    /// The device's descriptor state: (DB_DESC_PROD, desc_cons, cpl_prod).
    pub fn indices(&self, dir: Dir, q: u16) -> (u16, u16, u16) {
        let st = self.st();
        let prod = self.rw_at(&st, qreg(dir, q, queue::DB_DESC_PROD)) as u16;
        let qs = st.queues.get(&(dir, q));
        (
            prod,
            qs.map_or(0, |s| s.desc_cons),
            qs.map_or(0, |s| s.cpl_prod),
        )
    }

    /// True if queue `q` is enabled and not in its error state.
    pub fn queue_running(&self, dir: Dir, q: u16) -> bool {
        self.st()
            .queues
            .get(&(dir, q))
            .is_some_and(|s| s.enabled && !s.error)
    }

    /// Takes the next posted descriptor of a running queue, writes `frame` into
    /// its buffer (RX) and a completion per `spec`. Returns `None` (nothing
    /// written) when the queue is not running, no descriptor is posted or the
    /// completion ring has no free slot. For TX, returns the frame the
    /// descriptor points at; a TX descriptor of length 0 or above `MAX_MTU` is
    /// completed with `DESC_ERROR` (counted in `TX_ERRORS`, `ERR_STATUS.DESC`).
    pub fn complete(&self, dir: Dir, q: u16, frame: &[u8], spec: CplSpec) -> Option<Vec<u8>> {
        let mut st = self.st();
        self.complete_locked(&mut st, dir, q, frame, spec)
    }

    fn complete_locked(
        &self,
        st: &mut State,
        dir: Dir,
        q: u16,
        frame: &[u8],
        spec: CplSpec,
    ) -> Option<Vec<u8>> {
        if !st
            .queues
            .get(&(dir, q))
            .is_some_and(|s| s.enabled && !s.error)
        {
            return None;
        }
        let cfg = self.rw_at(st, qreg(dir, q, queue::CONFIG));
        let size = 1u32 << queue::CONFIG_LOG2_SIZE.get(cfg);
        let prod = self.rw_at(st, qreg(dir, q, queue::DB_DESC_PROD)) as u16;
        let cpl_cons = self.rw_at(st, qreg(dir, q, queue::DB_CPL_CONS)) as u16;
        let (desc_cons, cpl_prod) = {
            let qs = &st.queues[&(dir, q)];
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
        let base = |lo, hi| {
            u64::from(self.rw_at(st, qreg(dir, q, lo)))
                | (u64::from(self.rw_at(st, qreg(dir, q, hi))) << 32)
        };
        let desc = base(queue::DESC_BASE_LO, queue::DESC_BASE_HI)
            + u64::from(u32::from(desc_cons) % size) * u64::from(rx_desc::SIZE);
        let cpl_base = base(queue::CPL_BASE_LO, queue::CPL_BASE_HI);
        let addr = self.mem_read64(desc);
        let dlen = self.mem_read32(desc + 8) & 0xffff;
        let mut sent = None;
        let mut status = spec.status;
        let len = match dir {
            Dir::Rx => {
                let n = frame.len().min(dlen as usize);
                self.mem_write_bytes(addr, &frame[..n]);
                spec.len.unwrap_or(frame.len() as u32)
            }
            Dir::Tx => {
                if dlen == 0 || dlen > MAX_MTU {
                    status = cpl_status::DESC_ERROR;
                    sent = Some(Vec::new());
                } else {
                    sent = Some(self.mem_read_bytes(addr, dlen as usize));
                }
                spec.len.unwrap_or(dlen)
            }
        };
        let c = cpl_base + u64::from(u32::from(cpl_prod) % size) * u64::from(cpl::SIZE);
        let w0 = cpl::LEN.set(0, len.into()) as u32
            | cpl::STATUS.set(0, status.into()) as u32
            | cpl::RSS_TYPE.set(0, spec.rss_type.into()) as u32;
        let w2 = cpl::DESC_INDEX.set(0, spec.desc_index.unwrap_or(desc_cons).into()) as u32
            | cpl::QUEUE.set(0, spec.queue.unwrap_or(q).into()) as u32;
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
        self.mem_write32(c + 12, cpl::PHASE.set(0, phase.into()) as u32); // last
        let qs = st.queues.get_mut(&(dir, q)).unwrap();
        qs.desc_cons = desc_cons.wrapping_add(1);
        qs.cpl_prod = cpl_prod.wrapping_add(1);
        if status == cpl_status::OK {
            qs.stat_packets = qs.stat_packets.wrapping_add(1);
            qs.stat_bytes += u64::from(len);
            if dir == Dir::Tx {
                *st.counters.entry(global::TX_FRAMES).or_default() += 1;
            }
        } else if dir == Dir::Tx {
            *st.counters.entry(global::TX_ERRORS).or_default() += 1;
            st.err_info = global::ERR_INFO_QUEUE.set(0, q.into()) | global::ERR_INFO_TX.set(0, 1);
            self.raise_error(st, global::ERR_STATUS_DESC.mask());
        }
        // The completion is in memory: the event.
        self.try_fire(st, dir, q);
        Some(sent.unwrap_or_default())
    }

    /// Completes `frame` on RX queue `q` directly with default metadata.
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

    /// A frame from the MAC through the receive path: counted in `RX_FRAMES`,
    /// then dropped (counted by reason) or written to the queue that RSS picks:
    /// `RSS_RETA[hash % 128]` with `RSS_CTRL.ENABLE`, else `RSS_RETA[0]`.
    pub fn mac_rx(&self, frame: &[u8], meta: MacMeta) -> RxOutcome {
        let mut st = self.st();
        *st.counters.entry(global::RX_FRAMES).or_default() += 1;
        let out = self.receive(&mut st, frame, meta);
        if let RxOutcome::Dropped(d) = out {
            *st.counters.entry(d.counter()).or_default() += 1;
        }
        out
    }

    fn receive(&self, st: &mut State, frame: &[u8], meta: MacMeta) -> RxOutcome {
        use RxOutcome::Dropped;
        if global::CTRL_ENABLE.get(self.rw_at(st, global::CTRL)) == 0 {
            return Dropped(DropReason::QueueDisabled);
        }
        if meta.mac_error {
            return Dropped(DropReason::MacError);
        }
        let len = frame.len() as u32;
        if len < MIN_FRAME_LEN {
            return Dropped(DropReason::Runt);
        }
        if len > global::MTU_BYTES.get(self.rw_at(st, global::MTU)) {
            return Dropped(DropReason::Oversize);
        }
        let rss = global::RSS_CTRL_ENABLE.get(self.rw_at(st, global::RSS_CTRL)) == 1;
        let entry = if rss { meta.hash % RSS_RETA_ENTRIES } else { 0 };
        let q = global::RSS_RETA_QUEUE.get(self.rw_at(st, global::RSS_RETA + 4 * entry)) as u16;
        match st.queues.get(&(Dir::Rx, q)) {
            Some(s) if s.error => return Dropped(DropReason::DmaError),
            Some(s) if s.enabled => {}
            _ => return Dropped(DropReason::QueueDisabled),
        }
        // Descriptor buffer too small: the frame does not fit.
        let (prod, cons) = {
            let prod = self.rw_at(st, qreg(Dir::Rx, q, queue::DB_DESC_PROD)) as u16;
            (prod, st.queues[&(Dir::Rx, q)].desc_cons)
        };
        if prod != cons {
            let cfg = self.rw_at(st, qreg(Dir::Rx, q, queue::CONFIG));
            let size = 1u32 << queue::CONFIG_LOG2_SIZE.get(cfg);
            let desc = (u64::from(self.rw_at(st, qreg(Dir::Rx, q, queue::DESC_BASE_LO)))
                | (u64::from(self.rw_at(st, qreg(Dir::Rx, q, queue::DESC_BASE_HI))) << 32))
                + u64::from(u32::from(cons) % size) * u64::from(rx_desc::SIZE);
            if self.mem_read32(desc + 8) & 0xffff < len {
                return Dropped(DropReason::Oversize);
            }
        }
        let spec = CplSpec {
            rss_hash: if rss { meta.hash } else { 0 },
            rss_type: if rss { meta.rss_type } else { 0 },
            ..CplSpec::default()
        };
        match self.complete_locked(st, Dir::Rx, q, frame, spec) {
            Some(_) => RxOutcome::Queued(q),
            // No descriptor (or, in the model, no completion slot: the RTL would
            // wait for one instead).
            None => Dropped(DropReason::NoDesc),
        }
    }

    /// A DMA error on queue `q` (as the RTL reports a SLVERR/DECERR): the queue
    /// stops in its error state, `ERR_STATUS.DMA_WRITE` (or `DMA_READ`),
    /// `ERR_INFO` and `ERR_ADDR_*` are set, and ERR_VECTOR fires if enabled.
    pub fn inject_dma_error(&self, dir: Dir, q: u16, write: bool, addr: u64) {
        let mut st = self.st();
        let qs = st.queues.entry((dir, q)).or_default();
        qs.error = true;
        qs.enabled = false;
        st.err_info = global::ERR_INFO_QUEUE.set(0, q.into())
            | global::ERR_INFO_TX.set(0, (dir == Dir::Tx).into());
        st.err_addr = addr;
        let bit = if write {
            global::ERR_STATUS_DMA_WRITE
        } else {
            global::ERR_STATUS_DMA_READ
        };
        self.raise_error(&mut st, bit.mask());
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
        let mut st = self.st();
        self.read_locked(&mut st, offset, true)
    }

    fn write32(&self, offset: u32, value: u32) {
        assert!(oxnic_driver::transport::hot_path_access(
            offset,
            self.bar0_size()
        ));
        let mut st = self.st();
        self.write_locked(&mut st, offset, value);
    }
}

impl DmaMemory for TestNic {
    fn dma_arena(&self) -> &DmaArena {
        &self.arena
    }
}

impl InterruptVectors for TestNic {
    fn max_vectors(&self) -> u32 {
        self.params.vectors
    }
    fn bound_vectors(&self) -> u32 {
        self.st().fds.len() as u32
    }
    fn bind_vectors(&self, fds: &[&EventFd]) -> oxnic_driver::Result<()> {
        let mut st = self.st();
        st.bind_calls.push(fds.len());
        if !st.fds.is_empty() {
            return Err(oxnic_driver::Error::VectorsAlreadyBound {
                bound: st.fds.len() as u32,
            });
        }
        if fds.len() as u32 > self.params.vectors {
            return Err(oxnic_driver::Error::TooManyVectors {
                requested: fds.len() as u32,
                available: self.params.vectors,
            });
        }
        st.fds = fds.iter().map(|f| f.try_clone().unwrap()).collect();
        Ok(())
    }
    fn trigger_vector(&self, vector: u32) -> oxnic_driver::Result<()> {
        let st = self.st();
        match st.fds.get(vector as usize) {
            Some(fd) => {
                fd.write(1).unwrap();
                Ok(())
            }
            None => Err(oxnic_driver::Error::VectorNotBound {
                vector,
                bound: st.fds.len() as u32,
            }),
        }
    }
    fn unbind_vectors(&self) -> oxnic_driver::Result<()> {
        let mut st = self.st();
        st.unbind_calls += 1;
        st.fds.clear();
        Ok(())
    }
}
