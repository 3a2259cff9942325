//! Forward every frame received on RX queue 0 out of TX queue 0 (a reflector), in
//! interrupt mode: one vector, one NAPI context, a worker thread, the interrupt
//! thread.
//!
//! Uses only the public API of `oxnic-driver` (and register offsets from
//! `oxnic-regs`). It needs a real board bound to vfio-pci — or the co-simulation
//! once it provides a transport — to run:
//!
//! ```text
//! cargo run -p oxnic-driver --example forward -- 0000:03:00.0 [seconds]
//! ```
//!
//! Bringing the device up here is the minimum (ring registers, queue enable,
//! global enable); the Device layer (probe/open/close) will do it properly.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use oxnic_driver::{
    BufferPool, EventFd, IrqThread, QueueVector, RingSize, RxQueue, SharedTxQueue, Transport,
    TxQueue, VectorTable, VfioConfig, VfioTransport, Worker, DEFAULT_BUF_SIZE, DEFAULT_WEIGHT,
};
use vmm_sys_util::eventfd::EFD_NONBLOCK;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let Some(bdf) = args.next() else {
        eprintln!("usage: forward <PCI address, e.g. 0000:03:00.0> [seconds]");
        std::process::exit(2);
    };
    let seconds: u64 = args.next().map_or(Ok(10), |s| s.parse())?;

    let transport: Arc<dyn Transport> = Arc::new(VfioTransport::open(&VfioConfig::new(bdf))?);
    let ring = RingSize::new(10)?; // 1024 entries
    let pool = BufferPool::new(&*transport, 4096, DEFAULT_BUF_SIZE)?;

    // Queues: rings in the arena, registers programmed, enabled, RX refilled.
    let mut rx = RxQueue::new(transport.clone(), 0, ring, pool.clone())?;
    let tx = TxQueue::new(transport.clone(), 0, ring)?;
    rx.configure(0);
    tx.configure(0);
    rx.set_enabled(true);
    tx.set_enabled(true);
    rx.refill();
    let tx = SharedTxQueue::new(tx);

    // The vector structure: received frames go straight back out.
    let forwarded = Arc::new(AtomicU64::new(0));
    let dropped = Arc::new(AtomicU64::new(0));
    let mut qv = QueueVector::new(0);
    {
        let (tx, forwarded, dropped) = (tx.clone(), forwarded.clone(), dropped.clone());
        qv.add_rx(rx, move |pkt| match tx.lock().tx_one(pkt.buf) {
            Ok(true) => {
                forwarded.fetch_add(1, Ordering::Relaxed);
            }
            // Ring full (the buffer is dropped back to the pool) or invalid.
            Ok(false) | Err(_) => {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    qv.add_tx(tx.clone());
    let armer = qv.armer();
    let ctx = qv.into_context(DEFAULT_WEIGHT);

    // Interrupt mode: vector 0's eventfd → interrupt thread → worker thread.
    let fd = EventFd::new(EFD_NONBLOCK)?;
    transport.bind_vectors(&[&fd])?;
    let worker = Worker::default();
    worker.attach(&*ctx)?;
    let table = Arc::new(VectorTable::new());
    table.add(0, ctx.handle());
    let worker_thread = worker.spawn();
    let irq = IrqThread::spawn(&[&fd], table)?;

    ctx.enable();
    armer.arm();
    transport.write32(
        oxnic_regs::global::CTRL,
        oxnic_regs::global::CTRL_ENABLE.set(0, 1),
    );

    for _ in 0..seconds {
        std::thread::sleep(Duration::from_secs(1));
        println!(
            "forwarded {} dropped {} pool free {}/{}",
            forwarded.load(Ordering::Relaxed),
            dropped.load(Ordering::Relaxed),
            pool.free_count(),
            pool.capacity()
        );
    }

    // Close: stop receiving, disable the context (waits for its poll), stop the
    // threads, unbind the vectors. Dropping the transport stops DMA.
    transport.write32(oxnic_regs::global::CTRL, 0);
    ctx.disable();
    irq.stop();
    worker_thread.stop();
    transport.unbind_vectors()?;
    println!("irq {:?}, tx {:?}", ctx.stats(), tx.lock().stats());
    Ok(())
}
