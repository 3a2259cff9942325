//! Receive queue (RTL block `rx_queue`): a descriptor ring the driver fills with
//! free buffers, a completion ring the device fills with received frames.
//!
//! # Protocol
//!
//! - **Refill** ([`RxQueue::refill`]): for every free descriptor slot (at most
//!   `size` descriptors outstanding — the full-ring rule), take a buffer from the
//!   [`BufferPool`], write the descriptor (IOVA, buffer length) with volatile
//!   writes; then one write barrier and one `DB_DESC_PROD` doorbell.
//! - **Receive** ([`RxQueue::rx_batch_with`]): the completion at the consumer index
//!   is new when its phase bit (bit 31 of the last dword, which the device writes
//!   last) equals the ring phase of that index — 1 on the first pass, flipping at
//!   every wrap. The driver reads that dword first, then an acquire barrier, then
//!   the rest. Completions come in descriptor order: completion `i` returns the
//!   buffer of descriptor `i`.
//! - **Bad completions** (status not OK, wrong descriptor index, wrong queue,
//!   length above the buffer) are counted by reason ([`RxErrors`]) and their buffer
//!   goes back to the pool; they never panic and never reach the application.
//! - **Return** ([`RxQueue::ack`]): `DB_CPL_CONS` = consumer index, with the
//!   `REARM` bit when the NAPI poll completed.
//!
//! The queue is owned by one NAPI context (see [`crate::queue_vector`]); counters
//! are shared ([`RxQueue::counters`]) so other threads can read them.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use oxnic_regs::{cpl_status, queue};

use crate::buffer_pool::{BufferPool, PacketBuf};
use crate::dma_ring::{Dir, QueueRegs, Rings};
use crate::error::{Error, Result};
use crate::ring::RingSize;
use crate::transport::Transport;

/// A received frame: its buffer (with the frame's length) and the device's
/// metadata. Dropping it returns the buffer to the pool.
#[derive(Debug)]
pub struct RxPacket {
    /// The frame (`buf.len()` is the frame length).
    pub buf: PacketBuf,
    /// Toeplitz hash of the frame's tuple (0 if not hashed).
    pub rss_hash: u32,
    /// Which tuple the hash covers (`oxnic_regs::rss_type`).
    pub rss_type: u32,
    /// The queue it arrived on.
    pub queue: u16,
}

impl RxPacket {
    /// Frame length in bytes.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True for a zero-length frame (never sent by a correct device).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Why a completion was refused (see [`RxErrors`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxError {
    /// Status `DESC_ERROR`.
    DescError,
    /// Status `DMA_ERROR`.
    DmaError,
    /// A status code this driver does not know.
    UnknownStatus,
    /// The completion's descriptor index is not the next one outstanding.
    DescIndexMismatch,
    /// The completion names another queue.
    QueueMismatch,
    /// The length exceeds the buffer.
    TooLong,
}

/// Counts of bad completions, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RxErrors {
    /// Status `DESC_ERROR`.
    pub desc_error: u64,
    /// Status `DMA_ERROR`.
    pub dma_error: u64,
    /// Unknown status code.
    pub unknown_status: u64,
    /// Descriptor index mismatch.
    pub desc_index_mismatch: u64,
    /// Queue number mismatch.
    pub queue_mismatch: u64,
    /// Length above the buffer size.
    pub too_long: u64,
}

impl RxErrors {
    /// All bad completions.
    pub fn total(&self) -> u64 {
        self.desc_error
            + self.dma_error
            + self.unknown_status
            + self.desc_index_mismatch
            + self.queue_mismatch
            + self.too_long
    }
}

/// A snapshot of an RX queue's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RxStats {
    /// Frames delivered to the application.
    pub packets: u64,
    /// Bytes delivered.
    pub bytes: u64,
    /// Bad completions by reason (buffers recycled).
    pub errors: RxErrors,
    /// Refills that found the pool short of buffers (the ring was left partly
    /// empty; the device drops frames as `RX_DROP_NO_DESC` when it runs dry).
    pub refill_short: u64,
    /// Descriptors posted.
    pub posted: u64,
}

/// An RX queue's counters, shareable with other threads (relaxed atomics).
#[derive(Debug, Default)]
pub struct RxCounters {
    packets: AtomicU64,
    bytes: AtomicU64,
    errors: [AtomicU64; 6],
    refill_short: AtomicU64,
    posted: AtomicU64,
}

impl RxCounters {
    /// A snapshot.
    pub fn snapshot(&self) -> RxStats {
        let e = |i: usize| self.errors[i].load(Ordering::Relaxed);
        RxStats {
            packets: self.packets.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            errors: RxErrors {
                desc_error: e(0),
                dma_error: e(1),
                unknown_status: e(2),
                desc_index_mismatch: e(3),
                queue_mismatch: e(4),
                too_long: e(5),
            },
            refill_short: self.refill_short.load(Ordering::Relaxed),
            posted: self.posted.load(Ordering::Relaxed),
        }
    }

    fn error(&self, e: RxError) {
        let i = match e {
            RxError::DescError => 0,
            RxError::DmaError => 1,
            RxError::UnknownStatus => 2,
            RxError::DescIndexMismatch => 3,
            RxError::QueueMismatch => 4,
            RxError::TooLong => 5,
        };
        self.errors[i].fetch_add(1, Ordering::Relaxed);
    }
}

/// One receive queue: its rings, the buffers posted to them, and its pool.
pub struct RxQueue {
    regs: QueueRegs,
    rings: Rings,
    pool: BufferPool,
    /// `slots[i]` holds the buffer of the outstanding descriptor in slot `i`.
    slots: Vec<Option<PacketBuf>>,
    scratch: Vec<PacketBuf>,
    counters: Arc<RxCounters>,
}

impl fmt::Debug for RxQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RxQueue")
            .field("queue", &self.regs.queue())
            .field("size", &self.rings.size.entries())
            .field("prod", &self.rings.prod)
            .field("cons", &self.rings.cons)
            .finish()
    }
}

impl RxQueue {
    /// Allocates the rings of RX queue `queue` (`size` entries each) in the
    /// transport's arena; buffers come from `pool` (which should be from the same
    /// arena, and hold at least `size` buffers to keep the ring full). Nothing is
    /// written to the device: see [`configure`](Self::configure).
    pub fn new(
        transport: Arc<dyn Transport>,
        queue: u16,
        size: RingSize,
        pool: BufferPool,
    ) -> Result<Self> {
        if pool.buf_size() > usize::from(u16::MAX) {
            return Err(Error::InvalidConfig(format!(
                "RX buffers of {} bytes do not fit the descriptor's 16-bit length",
                pool.buf_size()
            )));
        }
        let rings = Rings::new(&*transport, size)?;
        let regs = QueueRegs::new(transport, Dir::Rx, queue)?;
        Ok(Self {
            regs,
            rings,
            pool,
            slots: (0..size.entries()).map(|_| None).collect(),
            scratch: Vec::with_capacity(usize::from(size.entries())),
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

    /// The buffer pool.
    pub fn pool(&self) -> &BufferPool {
        &self.pool
    }

    /// Descriptors posted and not yet completed.
    pub fn posted(&self) -> usize {
        usize::from(self.rings.in_flight())
    }

    /// The driver's descriptor producer index (free-running).
    pub fn desc_prod(&self) -> u16 {
        self.rings.prod
    }

    /// The driver's completion consumer index (free-running).
    pub fn cpl_cons(&self) -> u16 {
        self.rings.cons
    }

    /// Counters snapshot.
    pub fn stats(&self) -> RxStats {
        self.counters.snapshot()
    }

    /// The shared counters (readable while a NAPI context owns the queue).
    pub fn counters(&self) -> Arc<RxCounters> {
        self.counters.clone()
    }

    /// Writes the ring addresses, ring size and MSI-X `vector` to the queue's
    /// registers. Device open calls it while the queue is disabled, then
    /// [`set_enabled`](Self::set_enabled), then [`refill`](Self::refill), then arms.
    pub fn configure(&self, vector: u16) {
        self.rings.configure(&self.regs, vector);
    }

    /// Writes `CTRL.ENABLE`. Enabling zeroes the device's indices, so it must come
    /// before the first refill (a fresh queue's indices are 0).
    pub fn set_enabled(&self, on: bool) {
        self.regs.write(queue::CTRL, u32::from(on));
    }

    /// Arms the queue interrupt (`IRQ_CTRL.ARM`).
    pub fn arm(&self) {
        self.regs
            .write(queue::IRQ_CTRL, queue::IRQ_CTRL_ARM.set(0, 1));
    }

    /// Posts free buffers on every free descriptor slot (never more than the ring
    /// holds), then one barrier and one `DB_DESC_PROD` doorbell. Returns how many
    /// were posted; if the pool ran short, counts `refill_short`.
    pub fn refill(&mut self) -> usize {
        let want = usize::from(self.rings.free());
        if want == 0 {
            return 0;
        }
        let got = self.pool.alloc_batch(want, &mut self.scratch);
        if got < want {
            self.counters.refill_short.fetch_add(1, Ordering::Relaxed);
        }
        for buf in self.scratch.drain(..) {
            let len = buf.capacity() as u16; // checked in new()
            let slot = self.rings.push_desc(buf.iova(), len);
            debug_assert!(self.slots[slot].is_none());
            self.slots[slot] = Some(buf);
        }
        if got > 0 {
            self.rings.ring_desc_doorbell(&self.regs);
            self.counters
                .posted
                .fetch_add(got as u64, Ordering::Relaxed);
        }
        got
    }

    /// Processes at most `budget` completions (good and bad alike), handing each
    /// good frame to `deliver`; returns the number processed. Does not write any
    /// register: follow with [`ack`](Self::ack) and [`refill`](Self::refill).
    pub fn rx_batch_with(&mut self, budget: usize, deliver: &mut dyn FnMut(RxPacket)) -> usize {
        let mut done = 0;
        while done < budget && self.rings.in_flight() > 0 {
            let Some(c) = self.rings.peek_cpl() else {
                break;
            };
            let expected = self.rings.cons;
            let slot = self.rings.pop_cpl();
            let Some(mut buf) = self.slots[slot].take() else {
                // Unreachable while in_flight > 0 (slots in cons..prod are full).
                debug_assert!(false, "no buffer in an outstanding RX slot");
                continue;
            };
            done += 1;
            let bad = match c.status {
                cpl_status::OK => None,
                cpl_status::DESC_ERROR => Some(RxError::DescError),
                cpl_status::DMA_ERROR => Some(RxError::DmaError),
                _ => Some(RxError::UnknownStatus),
            }
            .or_else(|| (c.desc_index != expected).then_some(RxError::DescIndexMismatch))
            .or_else(|| (c.queue != self.queue()).then_some(RxError::QueueMismatch))
            .or_else(|| (c.len as usize > buf.capacity()).then_some(RxError::TooLong));
            if let Some(e) = bad {
                tracing::debug!(queue = self.queue(), ?e, ?c, "bad RX completion");
                self.counters.error(e);
                drop(buf); // back to the pool; refill reuses it
                continue;
            }
            buf.set_len(c.len as usize);
            self.counters.packets.fetch_add(1, Ordering::Relaxed);
            self.counters
                .bytes
                .fetch_add(u64::from(c.len), Ordering::Relaxed);
            deliver(RxPacket {
                buf,
                rss_hash: c.rss_hash,
                rss_type: c.rss_type,
                queue: self.queue(),
            });
        }
        done
    }

    /// Returns processed completion slots to the device (`DB_CPL_CONS`), with
    /// `REARM` when `rearm` (the NAPI poll completed). Without `rearm` the write
    /// is skipped when nothing was processed since the last one.
    pub fn ack(&mut self, rearm: bool) {
        self.rings.ack(&self.regs, rearm);
    }

    /// The standalone batch call (busy polling without NAPI): receives up to
    /// `budget` frames, returns the slots (no re-arm), refills, and returns the
    /// good frames. Bad completions count against `budget`.
    pub fn rx_batch(&mut self, budget: usize) -> Vec<RxPacket> {
        let mut out = Vec::new();
        self.rx_batch_with(budget, &mut |p| out.push(p));
        self.ack(false);
        self.refill();
        out
    }

    /// Forgets every outstanding descriptor — their buffers go back to the pool —
    /// zeroes the completion ring and the indices, and writes 0 to both
    /// doorbells; returns how many descriptors were outstanding. Only while the
    /// queue is stopped (`CTRL.ENABLE` 0 and `STATUS.ENABLED` read 0): device
    /// open uses it on a fresh queue (a queue block keeps the doorbell values of
    /// an earlier session), queue recovery before re-enabling. Completions not
    /// yet received are lost: receive them first.
    pub fn reset_rings(&mut self) -> usize {
        let mut n = 0;
        for s in &mut self.slots {
            if s.take().is_some() {
                n += 1;
            }
        }
        self.rings.reset(&self.regs);
        n
    }

    /// Reads the device's view of the queue: `(DESC_CONS, CPL_PROD, STATUS)`.
    pub fn device_indices(&self) -> (u16, u16, u32) {
        (
            self.regs.read(queue::DESC_CONS) as u16,
            self.regs.read(queue::CPL_PROD) as u16,
            self.regs.read(queue::STATUS),
        )
    }

    /// The transport this queue writes its doorbells through.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        self.regs.transport()
    }
}
