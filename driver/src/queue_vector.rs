//! The glue between queues and NAPI: a [`QueueVector`] is the handler of one NAPI
//! context and serves every RX/TX queue that shares one interrupt vector.
//!
//! There is no RTL block of this name: it is the driver's per-interrupt structure
//! (the role of `ixgbe_q_vector` / `mlx5e_channel`), which owns its RX queues and
//! shares its TX queues with the sending threads.
//!
//! Poll ([`Poll::poll`]):
//! 1. reclaim every TX completion (also with budget 0 — netpoll's "TX only");
//! 2. budget 0: return 0 without receiving or touching NAPI state;
//! 3. receive up to `budget` frames over the RX queues (starting with a different
//!    queue each poll, so one busy queue cannot starve the others), each frame
//!    handed to its queue's handler; refill each queue;
//! 4. if `work < budget` and `complete_done(work)` returns true: return completion
//!    slots with `DB_CPL_CONS | REARM` on every queue; otherwise return them
//!    without re-arming (the context stays scheduled and will be polled again).
//!
//! oxnic latches queue events while disarmed and fires when re-armed, so the
//! lost-wakeup race (a frame after the last ring check, before the re-arm) is
//! closed in hardware; the poll does not re-check the ring.

use std::fmt;
use std::sync::Arc;

use oxnic_regs::queue;

use crate::napi::{NapiContext, NapiRef, Poll};
use crate::rx_queue::{RxPacket, RxQueue};
use crate::transport::Transport;
use crate::tx_queue::SharedTxQueue;

/// What an RX queue does with a received frame (runs on the polling thread).
pub type RxHandler = Box<dyn FnMut(RxPacket) + Send>;

/// The NAPI handler of one interrupt vector: RX queues with their frame handlers,
/// and shared TX queues to reclaim.
pub struct QueueVector {
    vector: u16,
    rx: Vec<(RxQueue, RxHandler)>,
    tx: Vec<SharedTxQueue>,
    next_rx: usize,
}

impl fmt::Debug for QueueVector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueVector")
            .field("vector", &self.vector)
            .field(
                "rx",
                &self.rx.iter().map(|(q, _)| q.queue()).collect::<Vec<_>>(),
            )
            .field("tx", &self.tx.len())
            .finish()
    }
}

impl QueueVector {
    /// An empty vector structure for MSI-X vector `vector`.
    pub fn new(vector: u16) -> Self {
        Self {
            vector,
            rx: Vec::new(),
            tx: Vec::new(),
            next_rx: 0,
        }
    }

    /// The MSI-X vector.
    pub fn vector(&self) -> u16 {
        self.vector
    }

    /// Adds an RX queue and the handler its frames go to.
    pub fn add_rx(&mut self, q: RxQueue, handler: impl FnMut(RxPacket) + Send + 'static) {
        self.rx.push((q, Box::new(handler)));
    }

    /// Adds a TX queue whose completions this vector reclaims.
    pub fn add_tx(&mut self, q: SharedTxQueue) {
        self.tx.push(q);
    }

    /// The RX queues.
    pub fn rx_queues(&self) -> impl Iterator<Item = &RxQueue> {
        self.rx.iter().map(|(q, _)| q)
    }

    /// RX queue `queue` of this vector with its frame handler (for the device's
    /// slow paths, e.g. recovery, while the context is disabled).
    pub fn rx_queue_mut(&mut self, queue: u16) -> Option<(&mut RxQueue, &mut RxHandler)> {
        self.rx
            .iter_mut()
            .find(|(q, _)| q.queue() == queue)
            .map(|(q, h)| (q, h))
    }

    /// The TX queues.
    pub fn tx_queues(&self) -> &[SharedTxQueue] {
        &self.tx
    }

    /// A handle that arms every queue of this vector (`IRQ_CTRL.ARM`) from outside
    /// the NAPI context: device open enables the context, then arms.
    pub fn armer(&self) -> VectorArmer {
        let transport = self
            .rx
            .first()
            .map(|(q, _)| q.transport().clone())
            .or_else(|| self.tx.first().map(|t| t.lock().transport().clone()));
        let mut offsets: Vec<u32> = self
            .rx
            .iter()
            .map(|(q, _)| oxnic_regs::rx_queue_reg(u32::from(q.queue()), queue::IRQ_CTRL))
            .collect();
        offsets.extend(
            self.tx
                .iter()
                .map(|t| oxnic_regs::tx_queue_reg(u32::from(t.lock().queue()), queue::IRQ_CTRL)),
        );
        VectorArmer { transport, offsets }
    }

    /// Wraps this structure in a new (disabled) NAPI context with `weight`.
    pub fn into_context(self, weight: usize) -> Arc<NapiContext<Self>> {
        NapiContext::new(self, weight)
    }
}

/// Arms every queue of one [`QueueVector`]; see [`QueueVector::armer`].
pub struct VectorArmer {
    transport: Option<Arc<dyn Transport>>,
    offsets: Vec<u32>,
}

impl fmt::Debug for VectorArmer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VectorArmer")
            .field("offsets", &self.offsets)
            .finish_non_exhaustive()
    }
}

impl VectorArmer {
    /// Writes `IRQ_CTRL.ARM` on every queue (an event latched meanwhile fires).
    pub fn arm(&self) {
        if let Some(t) = &self.transport {
            for &off in &self.offsets {
                t.write32(off, queue::IRQ_CTRL_ARM.set(0, 1));
            }
        }
    }
}

impl Poll for QueueVector {
    fn poll(&mut self, napi: &NapiRef<'_>, budget: usize) -> usize {
        for t in &self.tx {
            t.lock().reclaim();
        }
        if budget == 0 {
            for t in &self.tx {
                t.lock().ack(false);
            }
            return 0;
        }
        let mut work = 0;
        let n = self.rx.len();
        for i in 0..n {
            if work >= budget {
                break;
            }
            let (q, handler) = &mut self.rx[(self.next_rx + i) % n];
            work += q.rx_batch_with(budget - work, handler);
            q.refill();
        }
        if n > 0 {
            self.next_rx = (self.next_rx + 1) % n;
        }
        let rearm = work < budget && napi.complete_done(work);
        for (q, _) in &mut self.rx {
            q.ack(rearm);
        }
        for t in &self.tx {
            t.lock().ack(rearm);
        }
        work
    }
}
