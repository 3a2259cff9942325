//! Transmit queue (RTL block `tx_queue`): descriptors point at frames in
//! [`PacketBuf`]s; completions return them.
//!
//! - **Send** ([`TxQueue::tx_batch`]): as many packets as there are free
//!   descriptor slots are written (volatile), then one write barrier and one
//!   `DB_DESC_PROD` doorbell. The queue keeps each buffer until its completion. A
//!   full ring is not an error: the packets not queued stay with the caller (no
//!   loss, no blocking). Packets the device would refuse (length 0 or above
//!   `MAX_MTU`) are dropped and counted as `invalid`.
//! - **Reclaim** ([`TxQueue::reclaim`]): completions are read by phase bit, as on
//!   RX; each frees its descriptor's buffer (back to its pool). Error statuses and
//!   index mismatches are counted.
//!
//! Sending and reclaiming happen on different threads (the application and the
//! NAPI poll), so queue vectors hold a TX queue as a [`SharedTxQueue`].

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use oxnic_regs::{cpl_status, queue, MAX_MTU};

use crate::buffer_pool::PacketBuf;
use crate::dma_ring::{Dir, QueueRegs, Rings};
use crate::error::Result;
use crate::ring::RingSize;
use crate::transport::Transport;

/// A TX queue shared between the sending threads and the NAPI poll that reclaims.
#[derive(Clone, Debug)]
pub struct SharedTxQueue(Arc<Mutex<TxQueue>>);

impl SharedTxQueue {
    /// Wraps a queue.
    pub fn new(q: TxQueue) -> Self {
        Self(Arc::new(Mutex::new(q)))
    }

    /// Locks the queue (a poisoned lock is taken anyway: the queue's state is
    /// updated before anything that can panic).
    pub fn lock(&self) -> MutexGuard<'_, TxQueue> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A snapshot of a TX queue's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxStats {
    /// Frames queued to the device.
    pub queued: u64,
    /// Bytes queued.
    pub bytes: u64,
    /// Completions reclaimed.
    pub completed: u64,
    /// Completions with status `DESC_ERROR`, `DMA_ERROR` or unknown.
    pub status_errors: u64,
    /// Completions whose descriptor index or queue was not the expected one.
    pub mismatches: u64,
    /// Packets dropped before queueing: length 0 or above `MAX_MTU`.
    pub invalid: u64,
    /// `tx_batch` calls that left packets with the caller (ring full).
    pub ring_full: u64,
    /// Frames queued but never completed, dropped by [`TxQueue::reset_rings`]
    /// (queue recovery).
    pub discarded: u64,
}

#[derive(Debug, Default)]
struct Counters {
    queued: AtomicU64,
    bytes: AtomicU64,
    completed: AtomicU64,
    status_errors: AtomicU64,
    mismatches: AtomicU64,
    invalid: AtomicU64,
    ring_full: AtomicU64,
    discarded: AtomicU64,
}

/// One transmit queue.
pub struct TxQueue {
    regs: QueueRegs,
    rings: Rings,
    slots: Vec<Option<PacketBuf>>,
    counters: Arc<Counters>,
}

impl fmt::Debug for TxQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TxQueue")
            .field("queue", &self.regs.queue())
            .field("size", &self.rings.size.entries())
            .field("prod", &self.rings.prod)
            .field("cons", &self.rings.cons)
            .finish()
    }
}

fn valid_len(len: usize) -> bool {
    len > 0 && len <= MAX_MTU as usize
}

impl TxQueue {
    /// Allocates the rings of TX queue `queue` (`size` entries each) in the
    /// transport's arena. Nothing is written to the device.
    pub fn new(transport: Arc<dyn Transport>, queue: u16, size: RingSize) -> Result<Self> {
        let rings = Rings::new(&*transport, size)?;
        let regs = QueueRegs::new(transport, Dir::Tx, queue)?;
        Ok(Self {
            regs,
            rings,
            slots: (0..size.entries()).map(|_| None).collect(),
            counters: Arc::default(),
        })
    }

    /// The queue number.
    pub fn queue(&self) -> u16 {
        self.regs.queue()
    }

    /// The ring size.
    pub fn size(&self) -> RingSize {
        self.rings.size
    }

    /// IOVA of the descriptor ring.
    pub fn desc_iova(&self) -> u64 {
        self.rings.desc_iova()
    }

    /// IOVA of the completion ring.
    pub fn cpl_iova(&self) -> u64 {
        self.rings.cpl_iova()
    }

    /// Frames queued and not yet reclaimed.
    pub fn in_flight(&self) -> usize {
        usize::from(self.rings.in_flight())
    }

    /// Free descriptor slots.
    pub fn free_slots(&self) -> usize {
        usize::from(self.rings.free())
    }

    /// Counters snapshot.
    pub fn stats(&self) -> TxStats {
        let c = &*self.counters;
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        TxStats {
            queued: l(&c.queued),
            bytes: l(&c.bytes),
            completed: l(&c.completed),
            status_errors: l(&c.status_errors),
            mismatches: l(&c.mismatches),
            invalid: l(&c.invalid),
            ring_full: l(&c.ring_full),
            discarded: l(&c.discarded),
        }
    }

    /// Writes the ring addresses, size and MSI-X `vector` (queue disabled).
    pub fn configure(&self, vector: u16) {
        self.rings.configure(&self.regs, vector);
    }

    /// Writes `CTRL.ENABLE` (enabling zeroes the device's indices: do it before
    /// the first `tx_batch`).
    pub fn set_enabled(&self, on: bool) {
        self.regs.write(queue::CTRL, u32::from(on));
    }

    /// Arms the queue interrupt (`IRQ_CTRL.ARM`).
    pub fn arm(&self) {
        self.regs
            .write(queue::IRQ_CTRL, queue::IRQ_CTRL_ARM.set(0, 1));
    }

    /// Queues packets from the front of `pkts`, in order, while descriptor slots
    /// are free; removes them from `pkts` and returns how many were queued. The
    /// packets that did not fit stay in `pkts` (in order). Invalid packets (length
    /// 0 or above `MAX_MTU`) met on the way are removed, dropped and counted.
    /// One barrier and one doorbell for the whole batch.
    pub fn tx_batch(&mut self, pkts: &mut Vec<PacketBuf>) -> usize {
        let mut free = usize::from(self.rings.free());
        let mut take = 0;
        for p in pkts.iter() {
            if valid_len(p.len()) {
                if free == 0 {
                    break;
                }
                free -= 1;
            }
            take += 1;
        }
        let mut queued = 0;
        let mut bytes = 0u64;
        for p in pkts.drain(..take) {
            if !valid_len(p.len()) {
                self.counters.invalid.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            bytes += p.len() as u64;
            let slot = self.rings.push_desc(p.iova(), p.len() as u16);
            debug_assert!(self.slots[slot].is_none());
            self.slots[slot] = Some(p);
            queued += 1;
        }
        if queued > 0 {
            self.rings.ring_desc_doorbell(&self.regs);
            self.counters
                .queued
                .fetch_add(queued as u64, Ordering::Relaxed);
            self.counters.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
        if !pkts.is_empty() {
            self.counters.ring_full.fetch_add(1, Ordering::Relaxed);
        }
        queued
    }

    /// Sends one packet; gives it back if the ring is full (`Err(pkt)`). An
    /// invalid packet is dropped and counted (`Ok(false)`).
    pub fn tx_one(&mut self, pkt: PacketBuf) -> std::result::Result<bool, PacketBuf> {
        let mut v = vec![pkt];
        let n = self.tx_batch(&mut v);
        match v.pop() {
            Some(p) => Err(p),
            None => Ok(n == 1),
        }
    }

    /// Reclaims every completed descriptor (frees its buffer); returns how many.
    /// Does not write any register: follow with [`ack`](Self::ack).
    pub fn reclaim(&mut self) -> usize {
        let mut done = 0;
        while self.rings.in_flight() > 0 {
            let Some(c) = self.rings.peek_cpl() else {
                break;
            };
            let expected = self.rings.cons;
            let slot = self.rings.pop_cpl();
            let buf = self.slots[slot].take();
            debug_assert!(buf.is_some(), "no buffer in an outstanding TX slot");
            drop(buf);
            done += 1;
            if c.status != cpl_status::OK {
                tracing::debug!(queue = self.queue(), ?c, "TX completion with error");
                self.counters.status_errors.fetch_add(1, Ordering::Relaxed);
            }
            if c.desc_index != expected || c.queue != self.queue() {
                tracing::debug!(queue = self.queue(), expected, ?c, "TX completion mismatch");
                self.counters.mismatches.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.counters
            .completed
            .fetch_add(done as u64, Ordering::Relaxed);
        done
    }

    /// Drops every frame still in flight (counted as `discarded`; buffers go back
    /// to their pools), zeroes the completion ring and the indices, and writes 0
    /// to both doorbells; returns how many frames were dropped. Only while the
    /// queue is stopped (`CTRL.ENABLE` 0 and `STATUS.ENABLED` read 0): device
    /// open and queue recovery. [`reclaim`](Self::reclaim) first to count what
    /// the device did complete.
    pub fn reset_rings(&mut self) -> usize {
        let mut n = 0;
        for s in &mut self.slots {
            if s.take().is_some() {
                n += 1;
            }
        }
        self.counters
            .discarded
            .fetch_add(n as u64, Ordering::Relaxed);
        self.rings.reset(&self.regs);
        n
    }

    /// The transport this queue writes its doorbells through.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        self.regs.transport()
    }

    /// Returns completion slots (`DB_CPL_CONS`), with `REARM` when `rearm`.
    pub fn ack(&mut self, rearm: bool) {
        self.rings.ack(&self.regs, rearm);
    }
}
