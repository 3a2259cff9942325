//! Layer 3: RX/TX queues, the buffer pool, the queue-vector NAPI glue and the
//! interrupt thread, against the test device of `common/` (no hardware).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{qreg, CplSpec, Dir, Rng, TestNic};
use oxnic_driver::{
    BufferPool, DmaMemory, EventFd, InterruptVectors, IrqThread, PacketBuf, QueueVector, RingSize,
    RxPacket, RxQueue, SharedTxQueue, Transport, TxQueue, VectorTable, Worker,
};
use oxnic_regs::{cpl_status, queue, rss_type};
use proptest::prelude::*;
use vmm_sys_util::eventfd::EFD_NONBLOCK;

const REARM: u32 = 1 << 31;

fn nic() -> Arc<TestNic> {
    Arc::new(TestNic::new(4 << 20))
}

fn transport(n: &Arc<TestNic>) -> Arc<dyn Transport> {
    n.clone()
}

/// An RX queue `q` of 2^log2 entries over a pool of `bufs` buffers, configured
/// (vector 0), enabled and refilled.
fn rx_queue(n: &Arc<TestNic>, q: u16, log2: u32, bufs: usize) -> RxQueue {
    let pool = BufferPool::new(&**n, bufs, 2048).unwrap();
    let mut rx = RxQueue::new(transport(n), q, RingSize::new(log2).unwrap(), pool).unwrap();
    rx.configure(0);
    rx.set_enabled(true);
    rx.refill();
    rx
}

fn tx_queue(n: &Arc<TestNic>, q: u16, log2: u32) -> TxQueue {
    let tx = TxQueue::new(transport(n), q, RingSize::new(log2).unwrap()).unwrap();
    tx.configure(0);
    tx.set_enabled(true);
    tx
}

fn frame(seq: u32, len: usize) -> Vec<u8> {
    let mut f = vec![(seq % 251) as u8; len.max(8)];
    f[..4].copy_from_slice(&seq.to_le_bytes());
    f
}

fn seq_of(p: &RxPacket) -> u32 {
    let mut b = [0u8; 4];
    p.buf.read(0, &mut b);
    u32::from_le_bytes(b)
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < Duration::from_secs(10), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn refill_fills_the_ring_exactly() {
    let n = nic();
    let mut rx = rx_queue(&n, 2, 4, 64);
    // Exactly `size` descriptors, one doorbell with the producer index 16.
    let db = qreg(Dir::Rx, 2, queue::DB_DESC_PROD);
    assert_eq!(n.writes_to(db), vec![16]);
    assert_eq!(rx.posted(), 16);
    assert_eq!(rx.pool().free_count(), 64 - 16);
    // Full ring: refill posts nothing and rings no doorbell.
    assert_eq!(rx.refill(), 0);
    assert_eq!(n.writes_to(db), vec![16]);
    // Every descriptor points at a distinct buffer of the pool, full length.
    let base = rx.desc_iova();
    let mut addrs: Vec<u64> = (0..16).map(|i| n.mem_read64(base + i * 16)).collect();
    for i in 0..16 {
        assert_eq!(n.mem_read32(base + i * 16 + 8), 2048);
    }
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), 16);
    assert!(addrs
        .iter()
        .all(|a| (rx.pool().iova()..rx.pool().iova() + 64 * 2048).contains(a)));
    // The device has every slot; after 5 completions refill posts exactly 5.
    for s in 0..5 {
        assert!(n.rx(2, &frame(s, 64)));
    }
    assert_eq!(rx.rx_batch(64).len(), 5);
    assert_eq!(n.writes_to(db), vec![16, 21]);
    assert_eq!(rx.posted(), 16);
    // The pool short of buffers: the ring is left partly empty, counted.
    let small = BufferPool::new(&*n, 10, 2048).unwrap();
    let mut rx3 = RxQueue::new(transport(&n), 3, RingSize::new(4).unwrap(), small).unwrap();
    assert_eq!(rx3.refill(), 10);
    assert_eq!(rx3.stats().refill_short, 1);
}

#[test]
fn completions_across_several_wraps_arrive_in_order() {
    let n = nic();
    let mut rx = rx_queue(&n, 0, 4, 32);
    let mut next = 0u32;
    let mut got = Vec::new();
    // 5 wraps of a 16-entry ring, in uneven batches; cross the 2^16 index wrap too
    // would take 4096 wraps: covered by the proptest's long runs below.
    for round in 0..40u32 {
        let k = 1 + round % 7;
        for _ in 0..k {
            assert!(n.rx(0, &frame(next, 60 + next as usize % 100)));
            next += 1;
        }
        for p in rx.rx_batch(64) {
            assert_eq!(p.len(), 60 + seq_of(&p) as usize % 100);
            got.push(seq_of(&p));
        }
    }
    assert!(next > 5 * 16);
    assert_eq!(got, (0..next).collect::<Vec<_>>());
    assert_eq!(rx.stats().packets, u64::from(next));
    assert_eq!(rx.stats().errors.total(), 0);
}

#[test]
fn metadata_is_delivered() {
    let n = nic();
    let mut rx = rx_queue(&n, 1, 4, 16);
    let spec = CplSpec {
        rss_hash: 0xdead_beef,
        rss_type: rss_type::TCP4,
        ..Default::default()
    };
    n.complete(Dir::Rx, 1, &frame(7, 100), spec).unwrap();
    let p = rx.rx_batch(8).pop().unwrap();
    assert_eq!(
        (p.len(), p.rss_hash, p.rss_type, p.queue),
        (100, 0xdead_beef, 2, 1)
    );
    assert_eq!(p.buf.to_vec(), frame(7, 100));
}

#[test]
fn stale_phase_is_not_consumed() {
    let n = nic();
    let mut rx = rx_queue(&n, 0, 4, 16);
    // First pass expects phase 1: an entry written with phase 0 is not new.
    let stale = CplSpec {
        phase: Some(0),
        ..Default::default()
    };
    n.complete(Dir::Rx, 0, &frame(0, 64), stale).unwrap();
    assert!(rx.rx_batch(16).is_empty());
    assert_eq!(rx.cpl_cons(), 0);
    assert!(n.writes_to(qreg(Dir::Rx, 0, queue::DB_CPL_CONS)).is_empty());
    // The phase bit written last and right: now it is consumed.
    let c = rx.cpl_iova();
    n.mem_write32(c + 12, 1 << 31);
    assert_eq!(rx.rx_batch(16).len(), 1);
    // After a whole pass the old phase-1 entries are stale for the second pass.
    for s in 1..16 {
        assert!(n.rx(0, &frame(s, 64)));
    }
    assert_eq!(rx.rx_batch(64).len(), 15);
    assert_eq!(rx.cpl_cons(), 16);
    assert!(rx.rx_batch(64).is_empty(), "slot 0 still has phase 1");
}

#[test]
fn bad_completions_are_counted_and_recycled() {
    let n = nic();
    let mut rx = rx_queue(&n, 4, 4, 16);
    let bad = [
        CplSpec {
            status: cpl_status::DESC_ERROR,
            ..Default::default()
        },
        CplSpec {
            status: cpl_status::DMA_ERROR,
            ..Default::default()
        },
        CplSpec {
            status: 9,
            ..Default::default()
        },
        CplSpec {
            desc_index: Some(1234),
            ..Default::default()
        },
        CplSpec {
            queue: Some(5),
            ..Default::default()
        },
        CplSpec {
            len: Some(4000),
            ..Default::default()
        },
    ];
    for (i, spec) in bad.iter().enumerate() {
        n.complete(Dir::Rx, 4, &frame(i as u32, 64), *spec).unwrap();
        assert!(n.rx(4, &frame(100 + i as u32, 64)));
    }
    let good = rx.rx_batch(64);
    let got: Vec<u32> = good.iter().map(seq_of).collect();
    assert_eq!(got, (100..106).collect::<Vec<_>>(), "only the good frames");
    // The bad frames' buffers were recycled at once: the refill inside rx_batch
    // re-posted them while the 6 good frames are still held.
    assert_eq!(rx.posted(), 16 - 6);
    drop(good);
    let e = rx.stats().errors;
    assert_eq!(
        (e.desc_error, e.dma_error, e.unknown_status),
        (1, 1, 1),
        "{e:?}"
    );
    assert_eq!(
        (e.desc_index_mismatch, e.queue_mismatch, e.too_long),
        (1, 1, 1)
    );
    // The good frames dropped: the ring is full again and the pool lost nothing.
    assert_eq!(rx.refill(), 6);
    assert_eq!(rx.posted(), 16);
    assert_eq!(rx.pool().free_count(), 0);
    drop(rx);
}

#[test]
fn budget_is_respected_exactly() {
    let n = nic();
    let mut rx = rx_queue(&n, 0, 5, 64);
    for s in 0..20 {
        assert!(n.rx(0, &frame(s, 64)));
    }
    let mut got = Vec::new();
    assert_eq!(rx.rx_batch_with(0, &mut |p| got.push(p)), 0);
    assert!(got.is_empty(), "budget 0 receives nothing");
    assert_eq!(rx.cpl_cons(), 0);
    assert_eq!(rx.rx_batch_with(7, &mut |p| got.push(p)), 7);
    assert_eq!(got.len(), 7);
    assert_eq!(rx.rx_batch_with(1, &mut |p| got.push(p)), 1);
    assert_eq!(rx.rx_batch_with(100, &mut |p| got.push(p)), 12);
    assert_eq!(
        got.iter().map(seq_of).collect::<Vec<_>>(),
        (0..20).collect::<Vec<_>>()
    );
}

#[test]
fn tx_full_ring_returns_the_unqueued_packets() {
    let n = nic();
    let pool = BufferPool::new(&*n, 40, 2048).unwrap();
    let mut tx = tx_queue(&n, 3, 4);
    let mut pkts: Vec<PacketBuf> = (0..20)
        .map(|s| {
            let mut b = pool.alloc().unwrap();
            b.copy_from_slice(&frame(s, 80));
            b
        })
        .collect();
    assert_eq!(tx.tx_batch(&mut pkts), 16);
    assert_eq!(pkts.len(), 4, "the rest stays with the caller");
    let mut b = [0; 4];
    pkts[0].read(0, &mut b);
    assert_eq!(u32::from_le_bytes(b), 16, "in order");
    assert_eq!(n.writes_to(qreg(Dir::Tx, 3, queue::DB_DESC_PROD)), vec![16]);
    assert_eq!(tx.stats().ring_full, 1);
    // Full: nothing queued, no doorbell.
    assert_eq!(tx.tx_batch(&mut pkts), 0);
    assert_eq!(n.writes_to(qreg(Dir::Tx, 3, queue::DB_DESC_PROD)).len(), 1);
    // The device sends 5; reclaim frees them; the 4 left fit now.
    let sent = n.tx(3, 5);
    assert_eq!(sent, (0..5).map(|s| frame(s, 80)).collect::<Vec<_>>());
    assert_eq!(tx.reclaim(), 5);
    tx.ack(false);
    assert_eq!(pool.free_count(), 40 - 20 + 5);
    assert_eq!(tx.tx_batch(&mut pkts), 4);
    assert!(pkts.is_empty());
    let rest = n.tx(3, 100);
    assert_eq!(rest, (5..20).map(|s| frame(s, 80)).collect::<Vec<_>>());
    assert_eq!(tx.reclaim(), 15);
    assert_eq!(tx.stats().completed, 20);
    assert!(pool.is_full());
    // Invalid lengths are dropped and counted, not sent and not returned.
    let mut bad = vec![pool.alloc().unwrap()];
    assert_eq!(tx.tx_batch(&mut bad), 0);
    assert!(bad.is_empty());
    assert_eq!(tx.stats().invalid, 1);
    assert!(pool.is_full());
}

#[test]
fn pool_returns_to_full_after_drop() {
    let n = nic();
    let pool = BufferPool::new(&*n, 48, 2048).unwrap();
    let mut rx = RxQueue::new(transport(&n), 0, RingSize::new(4).unwrap(), pool.clone()).unwrap();
    rx.configure(0);
    rx.set_enabled(true);
    rx.refill();
    let mut tx = tx_queue(&n, 0, 4);
    for s in 0..10 {
        n.rx(0, &frame(s, 64));
    }
    let mut held: Vec<PacketBuf> = rx.rx_batch(64).into_iter().map(|p| p.buf).collect();
    assert_eq!(held.len(), 10);
    assert_eq!(pool.free_count(), 48 - 16 - 10);
    // Forward half of them: the TX ring holds those buffers until reclaim.
    let mut fwd = held.split_off(5);
    assert_eq!(tx.tx_batch(&mut fwd), 5);
    // Buffers dropped on another thread go back too.
    std::thread::spawn(move || drop(held)).join().unwrap();
    assert_eq!(pool.free_count(), 48 - 16 - 5);
    // Close: the queues (and the buffers they hold) go away.
    drop(rx);
    drop(tx);
    assert!(pool.is_full(), "{:?}", pool.stats());
    assert_eq!(n.dma_arena().free_bytes(), n.dma_arena().len() - 48 * 2048);
}

// ---------------------------------------------------------------------------
// NAPI glue and the interrupt thread.

struct Setup {
    n: Arc<TestNic>,
    fd: EventFd,
    ctx: Arc<oxnic_driver::NapiContext<QueueVector>>,
    got: Arc<Mutex<Vec<u32>>>,
    tx: SharedTxQueue,
    pool: BufferPool,
}

fn setup(weight: usize) -> Setup {
    let n = nic();
    let fd = EventFd::new(EFD_NONBLOCK).unwrap();
    n.bind_vectors(&[&fd]).unwrap();
    let rx = rx_queue(&n, 0, 5, 64);
    let pool = BufferPool::new(&*n, 32, 2048).unwrap();
    let tx = SharedTxQueue::new(tx_queue(&n, 0, 4));
    let got = Arc::new(Mutex::new(Vec::new()));
    let mut qv = QueueVector::new(0);
    let g = got.clone();
    qv.add_rx(rx, move |p| g.lock().unwrap().push(seq_of(&p)));
    qv.add_tx(tx.clone());
    let armer = qv.armer();
    let ctx = qv.into_context(weight);
    ctx.enable();
    armer.arm();
    Setup {
        n,
        fd,
        ctx,
        got,
        tx,
        pool,
    }
}

#[test]
fn poll_budget_zero_reclaims_tx_only_and_done_rearms() {
    let s = setup(64);
    let worker = Worker::default();
    worker.attach(&*s.ctx).unwrap();
    for i in 0..3 {
        s.n.rx(0, &frame(i, 64));
    }
    let mut b = s.pool.alloc().unwrap();
    b.copy_from_slice(&frame(99, 64));
    s.tx.lock().tx_one(b).unwrap();
    assert_eq!(s.n.tx(0, 1).len(), 1);
    assert_eq!(
        s.n.fired(Dir::Rx, 0),
        1,
        "armed queue fired once, then masked"
    );
    // netpoll with budget 0: TX reclaimed, nothing received, no re-arm.
    let list = oxnic_driver::NapiList::new();
    list.register(s.ctx.handle());
    let r = oxnic_driver::netpoll(&list, 0);
    assert_eq!((r.polled, r.work), (1, 0));
    assert!(s.got.lock().unwrap().is_empty());
    assert!(s.pool.is_full(), "TX buffer reclaimed");
    assert!(!s.n.armed(Dir::Rx, 0));
    // The interrupt path: one poll receives the three and re-arms with cons 3.
    assert!(s.ctx.schedule());
    let run = worker.net_rx_action();
    assert_eq!((run.polls, run.packets), (1, 3));
    assert_eq!(*s.got.lock().unwrap(), vec![0, 1, 2]);
    let db = s.n.writes_to(qreg(Dir::Rx, 0, queue::DB_CPL_CONS));
    assert_eq!(db.last(), Some(&(3 | REARM)));
    assert!(s.n.armed(Dir::Rx, 0));
    assert!(s.n.armed(Dir::Tx, 0));
}

#[test]
fn busy_poll_receives_without_rearming() {
    let s = setup(64);
    let worker = Worker::default();
    worker.attach(&*s.ctx).unwrap();
    for i in 0..3 {
        s.n.rx(0, &frame(i, 64));
    }
    // The application owns the context: complete_done returns false, so the
    // poll returns the slots but must not re-arm.
    let r = oxnic_driver::busy_poll(&*s.ctx, oxnic_driver::BUSY_POLL_BUDGET, |_| true).unwrap();
    assert_eq!((r.rounds, r.work), (1, 3));
    assert_eq!(*s.got.lock().unwrap(), vec![0, 1, 2]);
    let db = s.n.writes_to(qreg(Dir::Rx, 0, queue::DB_CPL_CONS));
    assert_eq!(db, vec![3], "slots returned without REARM");
    assert!(!s.n.armed(Dir::Rx, 0));
}

#[test]
fn full_budget_poll_does_not_rearm() {
    let s = setup(4);
    let worker = Worker::default();
    worker.attach(&*s.ctx).unwrap();
    for i in 0..10 {
        s.n.rx(0, &frame(i, 64));
    }
    assert!(s.ctx.schedule());
    // First poll uses its whole weight: slots returned without REARM.
    let napi_polls = |ctx: &oxnic_driver::NapiContext<QueueVector>| ctx.stats().polls;
    let run = worker.net_rx_action();
    assert_eq!(run.packets, 10);
    assert_eq!(napi_polls(&s.ctx), 3);
    let db = s.n.writes_to(qreg(Dir::Rx, 0, queue::DB_CPL_CONS));
    assert_eq!(db, vec![4, 8, 10 | REARM]);
}

#[test]
fn irq_thread_one_poll_per_burst_then_rearm() {
    let s = setup(64);
    let worker = Worker::default();
    worker.attach(&*s.ctx).unwrap();
    let table = Arc::new(VectorTable::new());
    table.add(0, s.ctx.handle());
    // A burst before the thread runs: 5 frames (the first fires, the queue is
    // then masked) and 3 software triggers: eventfd count 4, one dispatch.
    for i in 0..5 {
        s.n.rx(0, &frame(i, 64));
    }
    for _ in 0..3 {
        s.n.trigger_vector(0).unwrap();
    }
    let wt = worker.spawn();
    let irq = IrqThread::spawn(&[&s.fd], table.clone()).unwrap();
    wait_until("burst received", || {
        s.got.lock().unwrap().len() == 5 && !s.ctx.is_scheduled()
    });
    let st = irq.stats();
    assert_eq!(
        (st.interrupts, st.dispatches, st.scheduled),
        (4, 1, 1),
        "{st:?}"
    );
    assert_eq!(s.ctx.stats().polls, 1, "exactly one poll");
    let db = s.n.writes_to(qreg(Dir::Rx, 0, queue::DB_CPL_CONS));
    assert_eq!(db, vec![5 | REARM]);
    assert!(s.n.armed(Dir::Rx, 0));
    // Second burst with the thread running.
    for i in 5..8 {
        s.n.rx(0, &frame(i, 64));
    }
    wait_until("second burst", || {
        s.got.lock().unwrap().len() == 8 && !s.ctx.is_scheduled() && s.n.armed(Dir::Rx, 0)
    });
    assert_eq!(*s.got.lock().unwrap(), (0..8).collect::<Vec<_>>());
    irq.stop();
    s.ctx.disable();
    wt.stop();
}

// ---------------------------------------------------------------------------
// Random interleavings.

#[derive(Clone, Debug)]
enum Op {
    /// The device receives n frames (dropped if no descriptor).
    Deliver(u8),
    /// A poll with this budget.
    Poll(u8),
    /// The device writes a bad completion.
    Bad,
    /// The application drops the packets it holds.
    Release,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u8..40).prop_map(Op::Deliver),
        4 => (0u8..40).prop_map(Op::Poll),
        1 => Just(Op::Bad),
        2 => Just(Op::Release),
    ]
}

fn proptest_config() -> ProptestConfig {
    let seed = common::seed("every_frame_received_exactly_once");
    ProptestConfig {
        cases: 64,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(proptest_config())]

    /// Whatever the interleaving of deliveries, polls, bad completions and
    /// application drops: every frame the device accepted is received exactly
    /// once, in order; every bad one is counted; nothing leaks.
    #[test]
    fn every_frame_received_exactly_once(
        log2 in 4u32..6,
        extra in 0usize..24,
        ops in proptest::collection::vec(op(), 1..200),
    ) {
        let n = nic();
        let size = 1usize << log2;
        let pool = BufferPool::new(&*n, size + extra, 2048).unwrap();
        let mut rx = RxQueue::new(transport(&n), 0, RingSize::new(log2).unwrap(), pool.clone()).unwrap();
        rx.configure(0);
        rx.set_enabled(true);
        rx.refill();
        let (mut next, mut accepted, mut bad) = (0u32, Vec::new(), 0u64);
        let mut got = Vec::new();
        let mut held: Vec<RxPacket> = Vec::new();
        for op in ops {
            match op {
                Op::Deliver(k) => for _ in 0..k {
                    if n.rx(0, &frame(next, 64)) { accepted.push(next); }
                    next += 1;
                },
                Op::Bad => {
                    let spec = CplSpec { status: cpl_status::DMA_ERROR, ..Default::default() };
                    if n.complete(Dir::Rx, 0, &frame(u32::MAX, 64), spec).is_some() { bad += 1; }
                }
                Op::Poll(b) => {
                    let before = got.len();
                    let done = rx.rx_batch_with(b as usize, &mut |p| { got.push(seq_of(&p)); held.push(p); });
                    prop_assert!(done <= b as usize);
                    prop_assert!(got.len() - before <= done);
                    rx.ack(false);
                    rx.refill();
                    // Full-ring rule, seen from the device side.
                    let (prod, cons, _) = n.indices(Dir::Rx, 0);
                    prop_assert!(usize::from(prod.wrapping_sub(cons)) <= size);
                }
                Op::Release => held.clear(),
            }
        }
        held.clear();
        loop {
            let d = rx.rx_batch_with(64, &mut |p| got.push(seq_of(&p)));
            rx.ack(false);
            rx.refill();
            if d == 0 { break; }
        }
        prop_assert_eq!(&got, &accepted);
        prop_assert_eq!(rx.stats().errors.dma_error, bad);
        drop(rx);
        prop_assert!(pool.is_full());
    }
}

/// A long seeded run over both directions, crossing the 2^16 index wrap: frames
/// received on RX are forwarded on TX through a shared queue; every frame comes
/// out of TX exactly once, in order, and both pools return to full.
#[test]
fn random_forwarding_crosses_the_index_wrap() {
    let mut rng = Rng::new(common::seed("random_forwarding_crosses_the_index_wrap"));
    let n = nic();
    let mut rx = rx_queue(&n, 0, 4, 24);
    let rx_pool = rx.pool().clone();
    let mut tx = tx_queue(&n, 0, 4);
    let mut pending: Vec<PacketBuf> = Vec::new();
    const TARGET: usize = 70_000;
    let (mut next, mut accepted, mut sent) = (0u32, Vec::new(), Vec::new());
    let mut steps = 0u64;
    while accepted.len() < TARGET || rx.posted() < 16 || !pending.is_empty() || tx.in_flight() > 0 {
        steps += 1;
        assert!(
            steps < 2_000_000,
            "no progress: a lost frame or a stuck ring"
        );
        match rng.below(4) {
            0 if accepted.len() < TARGET => {
                for _ in 0..rng.below(20) {
                    if n.rx(0, &frame(next, 64)) {
                        accepted.push(next);
                    }
                    next += 1;
                }
            }
            1 => {
                let b = rng.below(33) as usize;
                rx.rx_batch_with(b, &mut |p| pending.push(p.buf));
                rx.ack(false);
                rx.refill();
            }
            2 => {
                tx.tx_batch(&mut pending);
            }
            _ => {
                for f in n.tx(0, rng.below(20) as usize) {
                    sent.push(u32::from_le_bytes(f[..4].try_into().unwrap()));
                }
                tx.reclaim();
                tx.ack(rng.below(2) == 0);
            }
        }
        if accepted.len() >= TARGET {
            // Drain what is left.
            rx.rx_batch_with(64, &mut |p| pending.push(p.buf));
            rx.ack(false);
        }
    }
    // Both queues' 16-bit indices wrapped (70,000 > 2^16).
    assert!(accepted.len() >= TARGET);
    assert_eq!(sent.len(), accepted.len());
    assert!(sent == accepted, "TX order differs from RX order");
    drop(rx);
    drop(tx);
    assert!(rx_pool.is_full());
}
