//! What RX and TX queues share: a queue's registers, a descriptor ring and a
//! completion ring in DMA memory, and the decoded completion.
//!
//! Crate-private: the public types are [`crate::rx_queue`] and [`crate::tx_queue`],
//! named after the RTL blocks. Every access to ring memory goes through
//! [`DmaRegion`]'s volatile accessors, with the field positions of `oxnic_regs`.

use std::sync::Arc;

use oxnic_regs::{cpl, queue, rx_desc, tx_desc, MemField};

use crate::error::{Error, Result};
use crate::ring::RingSize;
use crate::transport::{dma_rmb, DmaRegion, Transport};

/// Alignment of ring memory (the device needs 16; a cache line is friendlier).
const RING_ALIGN: usize = 64;

// Descriptor layouts are the same for RX and TX; the code below relies on it.
const _: () = {
    assert!(rx_desc::SIZE == tx_desc::SIZE && rx_desc::SIZE == 16);
    assert!(rx_desc::ADDR.word_offset == 0 && tx_desc::ADDR.word_offset == 0);
    assert!(rx_desc::LEN.word_offset == 8 && tx_desc::LEN.word_offset == 8);
    assert!(rx_desc::LEN.lsb == 0 && tx_desc::LEN.lsb == 0);
    assert!(cpl::SIZE == 16);
    // The phase bit lives in the last dword: the device writes it last.
    assert!(cpl::PHASE.word_offset == 12 && cpl::PHASE.word_bits == 32);
};

/// Which block a queue's registers are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    Rx,
    Tx,
}

/// One queue's register block.
pub(crate) struct QueueRegs {
    regs: Arc<dyn Transport>,
    dir: Dir,
    queue: u16,
}

impl QueueRegs {
    pub(crate) fn new(regs: Arc<dyn Transport>, dir: Dir, queue: u16) -> Result<Self> {
        if u32::from(queue) >= oxnic_regs::MAX_QUEUES {
            return Err(Error::InvalidConfig(format!(
                "queue {queue} is beyond the register map's {} queues",
                oxnic_regs::MAX_QUEUES
            )));
        }
        Ok(Self { regs, dir, queue })
    }

    pub(crate) fn queue(&self) -> u16 {
        self.queue
    }

    /// BAR0 offset of register `reg` (a `queue::*` offset) of this queue.
    pub(crate) fn offset(&self, reg: u32) -> u32 {
        match self.dir {
            Dir::Rx => oxnic_regs::rx_queue_reg(u32::from(self.queue), reg),
            Dir::Tx => oxnic_regs::tx_queue_reg(u32::from(self.queue), reg),
        }
    }

    pub(crate) fn write(&self, reg: u32, value: u32) {
        self.regs.write32(self.offset(reg), value);
    }

    pub(crate) fn read(&self, reg: u32) -> u32 {
        self.regs.read32(self.offset(reg))
    }

    pub(crate) fn transport(&self) -> &Arc<dyn Transport> {
        &self.regs
    }
}

/// A decoded completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cpl {
    pub len: u32,
    pub status: u32,
    pub rss_type: u32,
    pub rss_hash: u32,
    pub desc_index: u16,
    pub queue: u16,
}

fn field(word: u32, f: MemField) -> u32 {
    f.get(u64::from(word)) as u32
}

/// The two rings of a queue, plus its free-running indices.
pub(crate) struct Rings {
    pub size: RingSize,
    desc: DmaRegion,
    cpl: DmaRegion,
    /// Next descriptor the driver writes.
    pub prod: u16,
    /// Next completion the driver reads (= next descriptor the device returns).
    pub cons: u16,
    /// Last value written to DB_CPL_CONS.
    acked: u16,
}

impl Rings {
    pub(crate) fn new(transport: &dyn Transport, size: RingSize) -> Result<Self> {
        let bytes = usize::from(size.entries()) * 16;
        Ok(Self {
            size,
            desc: transport.alloc_dma(bytes, RING_ALIGN)?,
            // Zeroed: phase 0 everywhere, so nothing is new before the device writes.
            cpl: transport.alloc_dma(bytes, RING_ALIGN)?,
            prod: 0,
            cons: 0,
            acked: 0,
        })
    }

    pub(crate) fn desc_iova(&self) -> u64 {
        self.desc.iova()
    }

    pub(crate) fn cpl_iova(&self) -> u64 {
        self.cpl.iova()
    }

    /// Descriptors the driver may still post.
    pub(crate) fn free(&self) -> u16 {
        self.size.free(self.prod, self.cons)
    }

    /// Descriptors posted and not yet completed.
    pub(crate) fn in_flight(&self) -> u16 {
        self.size.used(self.prod, self.cons)
    }

    /// Writes descriptor `prod` (volatile) and advances `prod`. No barrier, no
    /// doorbell: see [`Rings::ring_desc_doorbell`].
    pub(crate) fn push_desc(&mut self, iova: u64, len: u16) -> usize {
        debug_assert!(self.free() > 0, "descriptor ring overrun");
        let slot = usize::from(self.size.slot(self.prod));
        let off = slot * 16;
        self.desc.write_le64(off, iova);
        self.desc.write_le32(off + 8, u32::from(len));
        self.desc.write_le32(off + 12, 0);
        self.prod = self.size.advance(self.prod, 1);
        slot
    }

    /// Orders the descriptor writes before the doorbell, then writes DB_DESC_PROD.
    pub(crate) fn ring_desc_doorbell(&self, regs: &QueueRegs) {
        crate::transport::dma_wmb();
        regs.write(queue::DB_DESC_PROD, u32::from(self.prod));
    }

    /// The completion at `cons`, if the device has written it: reads the last
    /// dword (phase) first, then — after the acquire barrier — the rest.
    pub(crate) fn peek_cpl(&self) -> Option<Cpl> {
        let off = usize::from(self.size.slot(self.cons)) * 16;
        let last = self.cpl.read_le32(off + cpl::PHASE.word_offset as usize);
        if field(last, cpl::PHASE) != u32::from(self.size.phase(self.cons)) {
            return None;
        }
        dma_rmb();
        let w0 = self.cpl.read_le32(off + cpl::LEN.word_offset as usize);
        let w1 = self.cpl.read_le32(off + cpl::RSS_HASH.word_offset as usize);
        let w2 = self
            .cpl
            .read_le32(off + cpl::DESC_INDEX.word_offset as usize);
        Some(Cpl {
            len: field(w0, cpl::LEN),
            status: field(w0, cpl::STATUS),
            rss_type: field(w0, cpl::RSS_TYPE),
            rss_hash: field(w1, cpl::RSS_HASH),
            desc_index: field(w2, cpl::DESC_INDEX) as u16,
            queue: field(w2, cpl::QUEUE) as u16,
        })
    }

    /// Slot of the completion at `cons` (and of its descriptor), then advances.
    pub(crate) fn pop_cpl(&mut self) -> usize {
        let slot = usize::from(self.size.slot(self.cons));
        self.cons = self.size.advance(self.cons, 1);
        slot
    }

    /// Returns completion slots to the device (DB_CPL_CONS), re-arming the queue
    /// interrupt when `rearm`. Skips the write when there is nothing to say.
    pub(crate) fn ack(&mut self, regs: &QueueRegs, rearm: bool) {
        if rearm || self.acked != self.cons {
            let bit = if rearm {
                1 << queue::DB_CPL_CONS_REARM.lsb
            } else {
                0
            };
            regs.write(queue::DB_CPL_CONS, u32::from(self.cons) | bit);
            self.acked = self.cons;
        }
    }

    /// Forgets every entry: indices back to 0, completion ring zeroed (phase 0
    /// everywhere, as at setup), and both doorbells written 0 so the device's
    /// view of the driver's indices matches. Only for a stopped queue.
    pub(crate) fn reset(&mut self, regs: &QueueRegs) {
        self.cpl.fill(0);
        self.prod = 0;
        self.cons = 0;
        self.acked = 0;
        crate::transport::dma_wmb();
        regs.write(queue::DB_DESC_PROD, 0);
        regs.write(queue::DB_CPL_CONS, 0);
    }

    /// Programs the ring addresses, size and vector (queue disabled).
    pub(crate) fn configure(&self, regs: &QueueRegs, vector: u16) {
        let (d, c) = (self.desc_iova(), self.cpl_iova());
        regs.write(queue::DESC_BASE_LO, d as u32);
        regs.write(queue::DESC_BASE_HI, (d >> 32) as u32);
        regs.write(queue::CPL_BASE_LO, c as u32);
        regs.write(queue::CPL_BASE_HI, (c >> 32) as u32);
        let cfg = queue::CONFIG_LOG2_SIZE.set(0, self.size.log2())
            | queue::CONFIG_VECTOR.set(0, u32::from(vector));
        regs.write(queue::CONFIG, cfg);
    }
}
