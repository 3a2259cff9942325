//! oxnic userspace driver library.
//!
//! Layers (see `DESIGN.md` in this crate):
//! 1. transport — register access, DMA memory, interrupt vectors (VFIO, co-simulation);
//! 2. NAPI — per-queue polling contexts with the Linux contract, and their scheduler;
//! 3. queues and buffers — RX/TX rings over a DMA arena;
//! 4. device — probe, open, close, statistics, recovery.
#![warn(missing_docs)]

pub mod buffer_pool;
pub mod device;
mod dma_ring;
pub mod error;
pub mod irq_thread;
pub mod napi;
pub mod queue_vector;
pub mod ring;
pub mod rx_queue;
pub mod sched;
pub mod sync;
pub mod transport;
pub mod tx_queue;
pub mod vfio;

pub use buffer_pool::{BufferPool, PacketBuf, PoolStats, DEFAULT_BUF_SIZE};
pub use device::{
    ChannelInfo, ChannelStats, Coalesce, Device, DeviceConfig, DeviceInfo, DeviceStats,
    DeviceTimeouts, ErrorReport, GlobalCounters, NapiMode, QueueCounters, QueueFault, Recovery,
    RssConfig, RxHandlerFactory, VectorLayout, DEFAULT_RING, DEFAULT_RSS_KEY, ERROR_VECTOR,
};
pub use error::{Error, PciId, Result};
pub use irq_thread::{IrqStats, IrqThread};
pub use napi::{
    AnyNapi, Napi, NapiContext, NapiError, NapiHandle, NapiList, NapiRef, NapiStats, Poll,
    ScheduleTarget, DEFAULT_WEIGHT,
};
pub use queue_vector::{QueueVector, RxHandler, VectorArmer};
pub use ring::{InvalidRingSize, RingSize};
pub use rx_queue::{RxCounters, RxError, RxErrors, RxPacket, RxQueue, RxStats};
pub use sched::{
    busy_poll, irq, netpoll, BusyPollReport, NetpollReport, RunReport, SchedConfig, SchedStats,
    ThreadedNapi, VectorTable, Worker, WorkerThread, BUSY_POLL_BUDGET,
};
pub use transport::{
    check_bar0_access, dma_mb, dma_rmb, dma_wmb, DmaArena, DmaMemory, DmaRegion, HugePages,
    InterruptVectors, RegisterAccess, Transport, MSIX_PAGES,
};
pub use tx_queue::{SharedTxQueue, TxQueue, TxStats};
pub use vfio::{VfioConfig, VfioSys, VfioTransport};
/// Re-exported: the eventfd type [`InterruptVectors::bind_vectors`] takes.
pub use vmm_sys_util::eventfd::EventFd;
