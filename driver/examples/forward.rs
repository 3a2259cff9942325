//! Forward every frame received on RX queue `i` out of TX queue `i` (a reflector),
//! in interrupt mode, with the Device layer: probe, open with N channels (one
//! vector and one NAPI context per channel, RSS spreading the flows), statistics
//! every second, close.
//!
//! Uses only the public API of `oxnic-driver`. It needs a real board bound to
//! vfio-pci — or the co-simulation once it provides a transport — to run:
//!
//! ```text
//! cargo run -p oxnic-driver --example forward -- 0000:03:00.0 [seconds] [channels]
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use oxnic_driver::{
    ChannelInfo, Device, DeviceConfig, RingSize, RxHandler, Transport, VfioConfig, VfioTransport,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let Some(bdf) = args.next() else {
        eprintln!("usage: forward <PCI address, e.g. 0000:03:00.0> [seconds] [channels]");
        std::process::exit(2);
    };
    let seconds: u64 = args.next().map_or(Ok(10), |s| s.parse())?;
    let channels: u16 = args.next().map_or(Ok(1), |s| s.parse())?;

    let transport: Arc<dyn Transport> = Arc::new(VfioTransport::open(&VfioConfig::new(bdf))?);
    let mut dev = Device::probe(transport)?;
    println!("{:?}", dev.info());

    // Received frames go straight back out of the same channel's TX queue; the
    // buffer travels with them and returns to the pool when TX completes.
    let forwarded = Arc::new(AtomicU64::new(0));
    let dropped = Arc::new(AtomicU64::new(0));
    let (f, d) = (forwarded.clone(), dropped.clone());
    let config = DeviceConfig {
        rx_ring: RingSize::new(10)?, // 1024 entries
        tx_ring: RingSize::new(10)?,
        ..DeviceConfig::new(channels)
    };
    dev.open(config, move |ch: ChannelInfo| -> RxHandler {
        let (tx, f, d) = (ch.tx, f.clone(), d.clone());
        Box::new(move |pkt| match tx.lock().tx_one(pkt.buf) {
            Ok(true) => {
                f.fetch_add(1, Ordering::Relaxed);
            }
            // Ring full (the buffer is dropped back to the pool) or invalid.
            Ok(false) | Err(_) => {
                d.fetch_add(1, Ordering::Relaxed);
            }
        })
    })?;

    for _ in 0..seconds {
        std::thread::sleep(Duration::from_secs(1));
        let s = dev.stats();
        println!(
            "forwarded {} dropped {} | device: rx {} dropped {} tx {}",
            forwarded.load(Ordering::Relaxed),
            dropped.load(Ordering::Relaxed),
            s.global.rx_frames,
            s.global.rx_dropped(),
            s.global.tx_frames,
        );
        let report = dev.error_report();
        for fault in &report.faulty_queues {
            println!("queue error {fault:?}: recovering");
            dev.recover_queue(fault.queue)?;
        }
    }

    // Close: every context disabled (waits for its poll), queues masked and
    // disabled, DMA quiesced, vectors unbound.
    dev.close()?;
    Ok(())
}
