//! The driver's receive poll path on its own: completions already in host memory
//! (written by the software NIC model outside the timed part), then what one NAPI
//! poll does per batch — read completions by phase bit, hand each frame to the
//! application (which drops it, returning its buffer), refill the descriptor ring
//! with one doorbell, return completion slots with one doorbell.
//!
//! `cargo bench -p oxnic-driver --bench rx_poll` — throughput is reported per
//! packet; criterion keeps machine-readable estimates under
//! `target/criterion/rx_poll/*/new/estimates.json`.
//!
//! The model's register writes take a mutex, which a board's MMIO stores do not:
//! the figure is an upper bound of the driver's own cost (two register writes per
//! batch, amortised over the batch).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;

use common::TestNic;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use oxnic_driver::{BufferPool, RingSize, RxQueue, Transport};

fn rx_poll(c: &mut Criterion) {
    let mut g = c.benchmark_group("rx_poll");
    for &(batch, len) in &[(64usize, 64usize), (64, 1514), (8, 64)] {
        let nic = Arc::new(TestNic::new(16 << 20));
        let transport: Arc<dyn Transport> = nic.clone();
        let pool = BufferPool::new(&*nic, 2048, 2048).unwrap();
        let mut rx = RxQueue::new(transport, 0, RingSize::new(10).unwrap(), pool).unwrap();
        rx.configure(0);
        rx.set_enabled(true);
        rx.refill();
        let frame = vec![0x5Au8; len];
        let mut received = 0u64;
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_function(format!("batch{batch}_len{len}"), |b| {
            b.iter_batched(
                || {
                    for _ in 0..batch {
                        assert!(nic.rx(0, &frame), "the model had no descriptor");
                    }
                },
                |()| {
                    let n = rx.rx_batch_with(batch, &mut |p| {
                        received += p.len() as u64;
                    });
                    rx.refill();
                    rx.ack(true);
                    assert_eq!(n, batch);
                },
                BatchSize::PerIteration,
            )
        });
        assert!(received > 0);
    }
    g.finish();
}

criterion_group!(benches, rx_poll);
criterion_main!(benches);
