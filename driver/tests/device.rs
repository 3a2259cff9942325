//! Layer 4: the device (probe, open, close, statistics, settings, recovery)
//! against the software NIC of `common/`. Expected register values are computed
//! here from `oxnic_regs`, not taken from the driver.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use common::{qreg, Dir, DropReason, MacMeta, NicParams, Rng, RxOutcome, TestNic, IOVA_BASE};
use oxnic_driver::napi::state;
use oxnic_driver::{
    BufferPool, ChannelInfo, Coalesce, Device, DeviceConfig, DeviceInfo, DeviceTimeouts, DmaMemory,
    Error, InterruptVectors, NapiMode, QueueFault, RingSize, RxHandler, RxPacket, Transport,
    Worker,
};
use oxnic_regs::{global, queue, rss_type, RSS_KEY_BYTES, RSS_RETA_ENTRIES};

const TIMEOUT: Duration = Duration::from_secs(20);

fn nic(p: NicParams) -> Arc<TestNic> {
    Arc::new(TestNic::with(p))
}

fn params(queues: u32, vectors: u32) -> NicParams {
    NicParams {
        queues,
        vectors,
        arena_bytes: 16 << 20,
        ..NicParams::default()
    }
}

fn transport(n: &Arc<TestNic>) -> Arc<dyn Transport> {
    n.clone()
}

fn ring(log2: u32) -> RingSize {
    RingSize::new(log2).unwrap()
}

/// Small rings so that tests wrap them.
fn config(channels: u16) -> DeviceConfig {
    DeviceConfig {
        channels,
        rx_ring: ring(5),
        tx_ring: ring(4),
        ..DeviceConfig::default()
    }
}

fn frame(seq: u32, len: usize) -> Vec<u8> {
    let mut f = vec![(seq % 251) as u8; len.max(8)];
    f[..4].copy_from_slice(&seq.to_le_bytes());
    f
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < TIMEOUT, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The queue RSS picks for `hash` with the default indirection table.
fn default_queue(hash: u32, channels: u16) -> u16 {
    ((hash % RSS_RETA_ENTRIES) % u32::from(channels)) as u16
}

/// A frame to RX queue `q` with the default table (hash = q).
fn to_queue(n: &TestNic, q: u16, seq: u32) -> RxOutcome {
    n.mac_rx(
        &frame(seq, 64 + (seq as usize % 64)),
        MacMeta {
            hash: q.into(),
            rss_type: rss_type::UDP4,
            ..Default::default()
        },
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Got {
    /// The channel whose handler got it.
    channel: u16,
    /// The queue the packet says it came from.
    queue: u16,
    seq: u32,
    len: usize,
    hash: u32,
}

/// Records every frame delivered to the application.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<Got>>>);

impl Sink {
    fn factory(&self) -> impl FnMut(ChannelInfo) -> RxHandler + Send + 'static {
        let s = self.clone();
        move |ch: ChannelInfo| -> RxHandler {
            let s = s.clone();
            Box::new(move |p: RxPacket| s.push(ch.queue, &p))
        }
    }

    fn push(&self, channel: u16, p: &RxPacket) {
        let mut b = [0u8; 4];
        p.buf.read(0, &mut b);
        self.0.lock().unwrap().push(Got {
            channel,
            queue: p.queue,
            seq: u32::from_le_bytes(b),
            len: p.len(),
            hash: p.rss_hash,
        });
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    fn all(&self) -> Vec<Got> {
        self.0.lock().unwrap().clone()
    }
}

fn queue_writes(n: &TestNic, dir: Dir, q: u16) -> usize {
    let base = qreg(dir, q, 0);
    n.writes()
        .iter()
        .filter(|(o, _)| (base..base + oxnic_regs::QUEUE_STRIDE).contains(o))
        .count()
}

// ---------------------------------------------------------------------------
// Probe.

#[test]
fn probe_identifies_reads_caps_and_resets() {
    let n = nic(NicParams {
        queues: 6,
        vectors: 4,
        clock_mhz: 200,
        ..NicParams::default()
    });
    let dev = Device::probe(transport(&n)).unwrap();
    assert_eq!(
        dev.info(),
        DeviceInfo {
            version_major: oxnic_regs::VERSION_MAJOR as u16,
            version_minor: oxnic_regs::VERSION_MINOR as u16,
            queues: 6,
            vectors: 4,
            clock_mhz: 200,
        }
    );
    // One soft reset: CTRL written with SOFT_RESET (and ENABLE 0), and waited for.
    assert_eq!(n.resets(), 1);
    assert_eq!(
        n.writes(),
        vec![(global::CTRL, global::CTRL_SOFT_RESET.set(0, 1))]
    );
    assert_eq!(global::CTRL_SOFT_RESET.get(n.reg(global::CTRL)), 0);
    assert_eq!(global::STATUS_RESET_BUSY.get(n.reg(global::STATUS)), 0);
    assert_eq!(n.writes_during_reset(), 0);
    assert!(!dev.is_open());
    assert!(dev.napi_list().is_empty());

    // A newer minor version is compatible.
    let n = nic(NicParams {
        version_minor: oxnic_regs::VERSION_MINOR + 5,
        ..NicParams::default()
    });
    assert!(Device::probe(transport(&n)).is_ok());
}

#[test]
fn probe_rejects_a_wrong_id_without_writing() {
    for id in [0x8086_10d3, u32::MAX, 0] {
        let n = nic(NicParams {
            id,
            ..NicParams::default()
        });
        let e = Device::probe(transport(&n)).unwrap_err();
        match &e {
            Error::NotOxnic { found, expected } => {
                assert_eq!((*found, *expected), (id, oxnic_regs::ID_MAGIC));
            }
            other => panic!("expected NotOxnic, got {other:?}"),
        }
        let msg = e.to_string();
        assert!(msg.contains("OXNC") && msg.contains("bitstream"), "{msg}");
        assert_eq!(msg.contains("all ones"), id == u32::MAX, "{msg}");
        assert!(n.writes().is_empty(), "nothing written to a foreign device");
    }
}

#[test]
fn probe_rejects_an_incompatible_major_version() {
    let n = nic(NicParams {
        version_major: oxnic_regs::VERSION_MAJOR + 1,
        version_minor: 3,
        ..NicParams::default()
    });
    let e = Device::probe(transport(&n)).unwrap_err();
    match &e {
        Error::IncompatibleVersion {
            found_major,
            found_minor,
            supported_major,
        } => {
            assert_eq!(
                (*found_major, *found_minor, *supported_major),
                (
                    oxnic_regs::VERSION_MAJOR as u16 + 1,
                    3,
                    oxnic_regs::VERSION_MAJOR as u16
                )
            );
        }
        other => panic!("expected IncompatibleVersion, got {other:?}"),
    }
    assert!(e.to_string().contains("driver"), "{e}");
    assert!(n.writes().is_empty());
}

#[test]
fn probe_reset_timeout_is_an_error() {
    let n = nic(NicParams {
        reset_polls: u32::MAX,
        ..NicParams::default()
    });
    let timeouts = DeviceTimeouts {
        reset: Duration::from_millis(50),
        ..DeviceTimeouts::default()
    };
    match Device::probe_with(transport(&n), timeouts) {
        Err(Error::ResetTimeout { timeout }) => assert_eq!(timeout, timeouts.reset),
        other => panic!("expected ResetTimeout, got {other:?}"),
    }
    // A slow reset that does finish is fine.
    let n = nic(NicParams {
        reset_polls: 500,
        ..NicParams::default()
    });
    assert!(Device::probe(transport(&n)).is_ok());
}

// ---------------------------------------------------------------------------
// Open.

#[test]
fn open_programs_exactly_the_expected_registers() {
    let mut rng = Rng::new(common::seed("open_programs_exactly_the_expected_registers"));
    let n = nic(params(8, 8));
    let mut dev = Device::probe(transport(&n)).unwrap();
    n.clear_writes();
    let mut key = [0u8; RSS_KEY_BYTES as usize];
    key.iter_mut().for_each(|b| *b = rng.next() as u8);
    let coalesce = Coalesce {
        rx_usecs: 12,
        rx_frames: 7,
        tx_usecs: 3,
        tx_frames: 2,
    };
    let cfg = DeviceConfig {
        channels: 4,
        rx_ring: ring(5),
        tx_ring: ring(4),
        coalesce,
        mtu: 1500,
        rss: oxnic_driver::RssConfig {
            key,
            ..Default::default()
        },
        ..DeviceConfig::default()
    };
    dev.open(cfg, Sink::default().factory()).unwrap();
    assert!(dev.is_open());

    // Vectors: error vector + one per channel, bound in one call.
    assert_eq!(n.bind_calls(), vec![5]);
    assert_eq!(n.bound_vectors(), 5);
    let layout = dev.layout().unwrap();
    assert_eq!(layout.vectors, 5);
    assert_eq!(layout.channel_vector, vec![1, 2, 3, 4]);

    // Global registers.
    assert_eq!(n.reg(global::MTU), global::MTU_BYTES.set(0, 1500));
    for i in 0..10u32 {
        let k = &key[4 * i as usize..4 * i as usize + 4];
        let word = (u32::from(k[0]) << 24)
            | (u32::from(k[1]) << 16)
            | (u32::from(k[2]) << 8)
            | u32::from(k[3]);
        assert_eq!(n.reg(global::RSS_KEY + 4 * i), word, "key word {i}");
    }
    for i in 0..RSS_RETA_ENTRIES {
        assert_eq!(
            global::RSS_RETA_QUEUE.get(n.reg(global::RSS_RETA + 4 * i)),
            i % 4,
            "RETA {i}"
        );
    }
    let rss_all = [
        global::RSS_CTRL_ENABLE,
        global::RSS_CTRL_IPV4,
        global::RSS_CTRL_TCP4,
        global::RSS_CTRL_UDP4,
        global::RSS_CTRL_IPV6,
        global::RSS_CTRL_TCP6,
        global::RSS_CTRL_UDP6,
    ]
    .iter()
    .fold(0, |v, f| v | f.mask());
    assert_eq!(n.reg(global::RSS_CTRL), rss_all);
    assert_eq!(global::ERR_VECTOR_F.get(n.reg(global::ERR_VECTOR)), 0);
    assert_eq!(
        n.reg(global::ERR_IRQ_ENABLE),
        global::ERR_IRQ_ENABLE_F.mask()
    );
    assert_eq!(n.reg(global::ERR_STATUS), 0, "no write was refused");
    assert_eq!(n.reg(global::CTRL), global::CTRL_ENABLE.mask());

    // Queues 0..4, both directions.
    let arena = IOVA_BASE..IOVA_BASE + n.dma_arena().len() as u64;
    let mut bases = Vec::new();
    for q in 0..4u16 {
        for (dir, log2, mod_) in [
            (Dir::Rx, 5, (coalesce.rx_usecs, coalesce.rx_frames)),
            (Dir::Tx, 4, (coalesce.tx_usecs, coalesce.tx_frames)),
        ] {
            let r = |reg| n.reg(qreg(dir, q, reg));
            assert_eq!(
                r(queue::CONFIG),
                queue::CONFIG_LOG2_SIZE.set(0, log2)
                    | queue::CONFIG_VECTOR.set(0, 1 + u32::from(q)),
                "{dir:?} {q} CONFIG"
            );
            for (lo, hi) in [
                (queue::DESC_BASE_LO, queue::DESC_BASE_HI),
                (queue::CPL_BASE_LO, queue::CPL_BASE_HI),
            ] {
                let b = u64::from(r(lo)) | (u64::from(r(hi)) << 32);
                assert!(arena.contains(&b) && b % 16 == 0, "{dir:?} {q} base {b:#x}");
                bases.push(b);
            }
            assert_eq!(
                r(queue::IRQ_MODERATION),
                queue::IRQ_MODERATION_USECS.set(0, mod_.0.into())
                    | queue::IRQ_MODERATION_FRAMES.set(0, mod_.1.into())
            );
            assert_eq!(r(queue::CTRL), queue::CTRL_ENABLE.mask());
            assert_eq!(r(queue::STATUS), queue::STATUS_ENABLED.mask());
            assert!(n.armed(dir, q) && !n.masked(dir, q), "{dir:?} {q} armed");
            let posted = if dir == Dir::Rx { 32 } else { 0 };
            assert_eq!(r(queue::DB_DESC_PROD), posted, "{dir:?} {q} ring filled");
        }
    }
    bases.sort();
    bases.dedup();
    assert_eq!(bases.len(), 16, "every ring has its own memory");
    for q in 4..8 {
        assert_eq!(
            queue_writes(&n, Dir::Rx, q) + queue_writes(&n, Dir::Tx, q),
            0
        );
    }

    // Order: every queue armed before the receive path is enabled, last.
    let w = n.writes();
    let enable_at = w
        .iter()
        .rposition(|&(o, v)| o == global::CTRL && global::CTRL_ENABLE.get(v) == 1)
        .unwrap();
    assert_eq!(enable_at, w.len() - 1, "CTRL.ENABLE is the last write");
    let arms = w
        .iter()
        .filter(|&&(o, v)| {
            (0..4).any(|q| {
                o == qreg(Dir::Rx, q, queue::IRQ_CTRL) || o == qreg(Dir::Tx, q, queue::IRQ_CTRL)
            }) && queue::IRQ_CTRL_ARM.get(v) == 1
        })
        .count();
    assert_eq!(arms, 8);
    // The NAPI contexts: one per queue vector plus the error context, enabled.
    let ctxs = dev.napi_list().snapshot();
    assert_eq!(ctxs.len(), 5);
    assert!(ctxs
        .iter()
        .all(|c| c.napi().state() & (state::DISABLE | state::SCHED) == 0));
    assert_eq!(n.writes_during_reset(), 0);

    assert!(matches!(
        dev.open(config(1), Sink::default().factory()),
        Err(Error::DeviceAlreadyOpen)
    ));
    dev.close().unwrap();
}

#[test]
fn bad_configs_are_refused_before_touching_the_device() {
    let n = nic(params(8, 8));
    let mut dev = Device::probe(transport(&n)).unwrap();
    n.clear_writes();
    let with = |f: &dyn Fn(&mut DeviceConfig)| {
        let mut c = config(4);
        f(&mut c);
        c
    };
    let cases: Vec<(DeviceConfig, &str)> = vec![
        (with(&|c| c.channels = 0), "channels"),
        (with(&|c| c.channels = 9), "channels"),
        (with(&|c| c.weight = 0), "weight"),
        (with(&|c| c.mtu = 20), "mtu"),
        (with(&|c| c.mtu = 9300), "mtu"),
        (with(&|c| c.mtu = 4000), "mtu"),
        (with(&|c| c.buf_size = 100), "buf_size"),
        (with(&|c| c.rss.reta = Some(vec![0; 100])), "rss.reta"),
        (
            with(&|c| c.rss.reta = Some(vec![4; RSS_RETA_ENTRIES as usize])),
            "rss.reta",
        ),
        (with(&|c| c.max_vectors = Some(0)), "max_vectors"),
        (
            with(&|c| c.mode = NapiMode::Interrupt { workers: 0 }),
            "mode",
        ),
    ];
    for (c, what) in cases {
        let channels = c.channels;
        let e = dev.open(c, Sink::default().factory()).unwrap_err();
        match (&e, what) {
            (
                Error::InvalidChannels {
                    requested,
                    available,
                },
                "channels",
            ) => assert_eq!((*requested, *available), (channels, 8)),
            (Error::InvalidDeviceConfig { field, why }, _) => {
                assert_eq!(*field, what);
                assert!(!why.is_empty());
            }
            _ => panic!("{what}: unexpected {e:?}"),
        }
        assert!(e
            .to_string()
            .contains(if what == "channels" { "channel" } else { what }));
        assert!(n.writes().is_empty(), "{what}: registers touched");
        assert!(n.bind_calls().is_empty(), "{what}: vectors touched");
        assert!(!dev.is_open());
    }
}

// ---------------------------------------------------------------------------
// Traffic.

/// Injects `count` frames to each of `queues` (in rounds that fit the rings the
/// driver has refilled, so none is dropped) and waits until all arrived.
fn traffic(n: &TestNic, sink: &Sink, queues: &[u16], count: u32, seq0: u32) -> u32 {
    let before = sink.len();
    let mut seq = seq0;
    let mut left = count;
    while left > 0 {
        let k = left.min(16);
        for &q in queues {
            wait_until("descriptors posted", || {
                let (prod, cons, _) = n.indices(Dir::Rx, q);
                u32::from(prod.wrapping_sub(cons)) >= k
            });
        }
        for _ in 0..k {
            for &q in queues {
                assert_eq!(to_queue(n, q, seq), RxOutcome::Queued(q));
                seq += 1;
            }
        }
        let want = before + (seq - seq0) as usize;
        wait_until("frames delivered", || sink.len() >= want);
        left -= k;
    }
    seq
}

#[test]
fn shared_vectors_when_fewer_vectors_than_queues() {
    // 3 vectors for 5 channels: errors on 0, channels round-robin on 1 and 2.
    let n = nic(params(8, 3));
    let mut dev = Device::probe(transport(&n)).unwrap();
    let sink = Sink::default();
    dev.open(config(5), sink.factory()).unwrap();
    assert_eq!(n.bind_calls(), vec![3]);
    for q in 0..5u16 {
        let expect = 1 + u32::from(q) % 2;
        for dir in [Dir::Rx, Dir::Tx] {
            assert_eq!(
                queue::CONFIG_VECTOR.get(n.reg(qreg(dir, q, queue::CONFIG))),
                expect
            );
        }
    }
    assert_eq!(dev.napi_list().len(), 3, "two queue contexts + errors");
    assert!(dev.layout().unwrap().is_shared());
    traffic(&n, &sink, &[0, 1, 2, 3, 4], 40, 0);
    let got = sink.all();
    assert_eq!(got.len(), 200);
    assert!(got.iter().all(|g| g.channel == g.queue));
    let napi = dev.stats().napi;
    assert_eq!(napi.len(), 2);
    assert_eq!(napi.iter().map(|s| s.work).sum::<u64>(), 200);
    assert_eq!(napi[0].work, 120, "vector 1 serves channels 0, 2, 4");
    dev.close().unwrap();

    // One vector: everything shares vector 0 with the error context.
    let n = nic(params(8, 1));
    let mut dev = Device::probe(transport(&n)).unwrap();
    let sink = Sink::default();
    dev.open(config(3), sink.factory()).unwrap();
    assert_eq!(n.bind_calls(), vec![1]);
    for q in 0..3 {
        assert_eq!(
            queue::CONFIG_VECTOR.get(n.reg(qreg(Dir::Rx, q, queue::CONFIG))),
            0
        );
    }
    assert_eq!(dev.napi_list().len(), 2);
    traffic(&n, &sink, &[0, 1, 2], 30, 0);
    assert_eq!(sink.len(), 90);
    dev.close().unwrap();
}

#[test]
fn random_traffic_is_delivered_exactly_once_and_counted() {
    let mut rng = Rng::new(common::seed(
        "random_traffic_is_delivered_exactly_once_and_counted",
    ));
    let n = nic(params(8, 8));
    let mut dev = Device::probe(transport(&n)).unwrap();
    let sink = Sink::default();
    let channels = 4;
    dev.open(config(channels), sink.factory()).unwrap();
    const FRAMES: u32 = 3000;
    let mut expected: HashMap<u32, (u16, usize, u32)> = HashMap::new();
    let mut drops: HashMap<DropReason, u64> = HashMap::new();
    let mut queued = 0usize;
    let mut seq = 0;
    while seq < FRAMES {
        let burst = 1 + rng.below(40) as u32;
        for _ in 0..burst.min(FRAMES - seq) {
            let hash = rng.next() as u32;
            let (len, mac_error) = match rng.below(40) {
                0 => (20, false),   // runt
                1 => (1600, false), // above the MTU
                2 => (100, true),   // MAC error
                _ => (60 + rng.below(1455) as usize, false),
            };
            let meta = MacMeta {
                hash,
                rss_type: rss_type::TCP4,
                mac_error,
            };
            match n.mac_rx(&frame(seq, len), meta) {
                RxOutcome::Queued(q) => {
                    assert_eq!(q, default_queue(hash, channels));
                    expected.insert(seq, (q, len, hash));
                    queued += 1;
                }
                RxOutcome::Dropped(r) => *drops.entry(r).or_default() += 1,
            }
            seq += 1;
        }
        if rng.below(2) == 0 {
            wait_until("burst delivered", || sink.len() >= queued);
        }
    }
    wait_until("all delivered", || sink.len() >= queued);
    // Nothing more arrives.
    std::thread::sleep(Duration::from_millis(20));
    let got = sink.all();
    assert_eq!(got.len(), queued);
    let mut last: HashMap<u16, u32> = HashMap::new();
    for g in &got {
        let (q, len, hash) = expected
            .remove(&g.seq)
            .expect("delivered once, and only if queued");
        assert_eq!((g.channel, g.queue, g.len, g.hash), (q, q, len, hash));
        if let Some(prev) = last.insert(q, g.seq) {
            assert!(prev < g.seq, "queue {q} out of order");
        }
    }
    assert!(expected.is_empty());
    assert!(drops[&DropReason::Runt] > 0 && drops[&DropReason::MacError] > 0);

    let s = dev.stats();
    let g = s.global;
    let d = |r| drops.get(&r).copied().unwrap_or(0);
    assert_eq!(g.rx_frames, u64::from(FRAMES));
    assert_eq!(g.rx_drop_runt, d(DropReason::Runt));
    assert_eq!(g.rx_drop_oversize, d(DropReason::Oversize));
    assert_eq!(g.rx_drop_mac_error, d(DropReason::MacError));
    assert_eq!(g.rx_drop_no_desc, d(DropReason::NoDesc));
    assert_eq!(g.rx_drop_queue_disabled + g.rx_drop_dma_error, 0);
    assert_eq!(g.rx_dropped() + queued as u64, u64::from(FRAMES));
    assert_eq!(s.channels.len(), usize::from(channels));
    for c in &s.channels {
        let mine: Vec<&Got> = got.iter().filter(|x| x.queue == c.queue).collect();
        let bytes: u64 = mine.iter().map(|x| x.len as u64).sum();
        assert_eq!(c.rx.packets, mine.len() as u64);
        assert_eq!(c.rx.bytes, bytes);
        assert_eq!(c.rx.errors.total(), 0);
        assert_eq!(c.rx_device.packets, mine.len() as u64);
        assert_eq!(c.rx_device.bytes, bytes);
        assert_eq!(c.vector, c.queue + 1);
    }
    assert!(s.irq.unwrap().interrupts > 0);
    dev.close().unwrap();
    // Counters survive close (cumulative since probe).
    assert_eq!(dev.stats().global.rx_frames, u64::from(FRAMES));
}

#[test]
fn transmit_through_the_device() {
    let n = nic(params(4, 8));
    let mut dev = Device::probe(transport(&n)).unwrap();
    dev.open(config(2), Sink::default().factory()).unwrap();
    let pool = BufferPool::new(&*n, 64, 2048).unwrap();
    let tx = dev.tx_queue(1).unwrap();
    for s in 0..30u32 {
        let mut b = pool.alloc().unwrap();
        b.copy_from_slice(&frame(s, 100));
        // The ring holds 16: send, then let the device take them.
        while let Err(back) = tx.lock().tx_one(b) {
            b = back;
            n.tx(1, 8);
        }
    }
    let mut sent = 0;
    wait_until("all sent and reclaimed", || {
        sent += n.tx(1, 100).len();
        pool.is_full()
    });
    let s = dev.stats();
    assert_eq!(s.global.tx_frames, 30);
    assert_eq!(s.channels[1].tx.queued, 30);
    assert_eq!(s.channels[1].tx.completed, 30);
    assert_eq!(s.channels[1].tx_device.packets, 30);
    assert_eq!(s.channels[1].tx_device.bytes, 3000);
    assert!(matches!(
        dev.tx_queue(2),
        Err(Error::NoSuchQueue {
            queue: 2,
            channels: 2
        })
    ));
    dev.close().unwrap();
}

#[test]
fn threaded_and_external_modes_deliver() {
    let n = nic(params(4, 8));
    let mut dev = Device::probe(transport(&n)).unwrap();
    let sink = Sink::default();
    let mut c = config(3);
    c.mode = NapiMode::Threaded;
    dev.open(c, sink.factory()).unwrap();
    traffic(&n, &sink, &[0, 1, 2], 50, 0);
    dev.close().unwrap();

    let worker = Worker::default();
    let running = worker.spawn();
    let mut c = config(3);
    c.mode = NapiMode::External(worker.clone());
    dev.open(c, sink.factory()).unwrap();
    traffic(&n, &sink, &[0, 1, 2], 50, 1000);
    dev.close().unwrap();
    assert!(worker.stats().packets >= 150);
    running.stop();
    assert_eq!(sink.len(), 300);
}

// ---------------------------------------------------------------------------
// Close.

#[test]
fn close_waits_for_an_in_flight_poll_and_leaves_everything_quiet() {
    let n = nic(params(4, 8));
    let mut dev = Device::probe(transport(&n)).unwrap();
    let entered = Arc::new(AtomicBool::new(false));
    let release = Arc::new(AtomicBool::new(false));
    let closed = Arc::new(AtomicBool::new(false));
    let closed_during_poll = Arc::new(AtomicBool::new(false));
    let sink = Sink::default();
    let (e, r, c, cd, s) = (
        entered.clone(),
        release.clone(),
        closed.clone(),
        closed_during_poll.clone(),
        sink.clone(),
    );
    dev.open(config(2), move |ch: ChannelInfo| -> RxHandler {
        let (e, r, c, cd, s) = (e.clone(), r.clone(), c.clone(), cd.clone(), s.clone());
        Box::new(move |p: RxPacket| {
            if ch.queue == 0 {
                e.store(true, Ordering::SeqCst);
                while !r.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                cd.store(c.load(Ordering::SeqCst), Ordering::SeqCst);
            }
            s.push(ch.queue, &p);
        })
    })
    .unwrap();
    let writes_before = n.writes().len();
    assert_eq!(to_queue(&n, 0, 7), RxOutcome::Queued(0));
    wait_until("poll entered", || entered.load(Ordering::SeqCst));
    // DMA still busy for a while when close gets there.
    n.set_dma_busy(25);
    let ctxs = dev.napi_list().snapshot();
    let closer = {
        let closed = closed.clone();
        std::thread::spawn(move || {
            let r = dev.close();
            closed.store(true, Ordering::SeqCst);
            (dev, r)
        })
    };
    // close has asked every context to stop (DISABLE) and waits for the poll.
    wait_until("close started", || {
        ctxs.iter()
            .any(|c| c.napi().state() & state::DISABLE != 0 && c.napi().is_scheduled())
    });
    assert!(!closed.load(Ordering::SeqCst));
    assert!(
        n.writes()[writes_before..]
            .iter()
            .all(|&(o, _)| o != global::CTRL && o != qreg(Dir::Rx, 0, queue::IRQ_CTRL)),
        "nothing masked or disabled while the poll runs"
    );
    release.store(true, Ordering::SeqCst);
    let (dev, r) = closer.join().unwrap();
    r.unwrap();
    assert!(
        !closed_during_poll.load(Ordering::SeqCst),
        "close returned during the poll"
    );
    assert_eq!(
        sink.all().iter().map(|g| g.seq).collect::<Vec<_>>(),
        vec![7]
    );

    // The poll's re-arm came before close masked the queue.
    let w = &n.writes()[writes_before..];
    let rearm = w
        .iter()
        .position(|&(o, v)| {
            o == qreg(Dir::Rx, 0, queue::DB_CPL_CONS) && queue::DB_CPL_CONS_REARM.get(v) == 1
        })
        .expect("the poll re-armed");
    let mask = w
        .iter()
        .position(|&(o, v)| {
            o == qreg(Dir::Rx, 0, queue::IRQ_CTRL) && queue::IRQ_CTRL_MASK.get(v) == 1
        })
        .expect("close masked");
    assert!(rearm < mask);
    // Everything masked and disabled, DMA waited for, vectors released.
    for q in 0..2 {
        for dir in [Dir::Rx, Dir::Tx] {
            assert!(n.masked(dir, q), "{dir:?} {q} masked");
            assert_eq!(n.reg(qreg(dir, q, queue::CTRL)), 0);
            assert_eq!(n.reg(qreg(dir, q, queue::STATUS)), 0);
        }
    }
    assert_eq!(global::CTRL_ENABLE.get(n.reg(global::CTRL)), 0);
    assert_eq!(n.dma_busy_left(), 0, "close polled STATUS until QUIESCENT");
    assert_eq!(n.bound_vectors(), 0);
    assert_eq!(n.unbind_calls(), 1);
    assert!(dev.napi_list().is_empty());
    assert!(ctxs.iter().all(|c| c.napi().is_disabled()));
    assert!(!dev.is_open());
    // Rings and buffers are back in the arena.
    drop(ctxs);
    assert_eq!(n.dma_arena().free_bytes(), n.dma_arena().len());
}

#[test]
fn quiescence_timeout_is_an_error() {
    let n = nic(params(4, 8));
    let timeouts = DeviceTimeouts {
        quiesce: Duration::from_millis(50),
        ..DeviceTimeouts::default()
    };
    let mut dev = Device::probe_with(transport(&n), timeouts).unwrap();
    let free = n.dma_arena().free_bytes();

    // DMA never stops, but the soft reset does stop it.
    dev.open(config(2), Sink::default().factory()).unwrap();
    n.set_dma_busy(u32::MAX);
    match dev.close() {
        Err(Error::QuiescenceTimeout {
            timeout,
            reset_recovered: true,
        }) => assert_eq!(timeout, timeouts.quiesce),
        other => panic!("expected QuiescenceTimeout, got {other:?}"),
    }
    assert!(!dev.is_open());
    assert_eq!(n.resets(), 2, "probe, then the fallback reset");
    assert_eq!(n.bound_vectors(), 0);
    assert_eq!(
        n.dma_arena().free_bytes(),
        free,
        "memory released after the reset"
    );

    // Neither DMA nor the reset stops: the memory is leaked, not reused.
    dev.open(config(2), Sink::default().factory()).unwrap();
    n.set_dma_busy(u32::MAX);
    n.set_reset_polls(u32::MAX);
    let timeouts_hit = dev.close().unwrap_err();
    assert!(matches!(
        timeouts_hit,
        Error::QuiescenceTimeout {
            reset_recovered: false,
            ..
        }
    ));
    assert!(
        timeouts_hit.to_string().contains("leaked"),
        "{timeouts_hit}"
    );
    assert!(!dev.is_open());
    assert!(n.dma_arena().free_bytes() < free);
}

#[test]
fn drop_closes_the_device() {
    let n = nic(params(4, 8));
    let mut dev = Device::probe(transport(&n)).unwrap();
    dev.open(config(3), Sink::default().factory()).unwrap();
    drop(dev);
    assert_eq!(global::CTRL_ENABLE.get(n.reg(global::CTRL)), 0);
    for q in 0..3 {
        assert!(n.masked(Dir::Rx, q) && n.masked(Dir::Tx, q));
        assert_eq!(n.reg(qreg(Dir::Rx, q, queue::CTRL)), 0);
    }
    assert_eq!(n.unbind_calls(), 1);
    assert_eq!(n.dma_arena().free_bytes(), n.dma_arena().len());
}

// ---------------------------------------------------------------------------
// Settings.

#[test]
fn set_coalesce_writes_every_queue() {
    let n = nic(params(8, 8));
    let mut dev = Device::probe(transport(&n)).unwrap();
    dev.open(config(3), Sink::default().factory()).unwrap();
    n.clear_writes();
    let c = Coalesce {
        rx_usecs: 50,
        rx_frames: 32,
        tx_usecs: 100,
        tx_frames: 64,
    };
    dev.set_coalesce(c).unwrap();
    let value = |usecs: u16, frames: u16| {
        queue::IRQ_MODERATION_USECS.set(0, usecs.into())
            | queue::IRQ_MODERATION_FRAMES.set(0, frames.into())
    };
    let mut expect = Vec::new();
    for q in 0..3 {
        expect.push((qreg(Dir::Rx, q, queue::IRQ_MODERATION), value(50, 32)));
        expect.push((qreg(Dir::Tx, q, queue::IRQ_MODERATION), value(100, 64)));
    }
    let mut w = n.writes();
    w.sort();
    expect.sort();
    assert_eq!(w, expect, "exactly the six moderation registers");
    for &(o, v) in &expect {
        assert_eq!(n.reg(o), v);
    }
    assert_eq!(dev.coalesce(), c);
    // Closed: kept, and applied by the next open.
    dev.close().unwrap();
    n.clear_writes();
    let c2 = Coalesce {
        rx_usecs: 7,
        ..Coalesce::default()
    };
    dev.set_coalesce(c2).unwrap();
    assert!(n.writes().is_empty());
    let cfg = dev.config().clone();
    dev.open(cfg, Sink::default().factory()).unwrap();
    for q in 0..3 {
        assert_eq!(n.reg(qreg(Dir::Rx, q, queue::IRQ_MODERATION)), value(7, 0));
        assert_eq!(n.reg(qreg(Dir::Tx, q, queue::IRQ_MODERATION)), 0);
    }
}

#[test]
fn set_channels_and_set_rings_reopen() {
    let n = nic(params(8, 8));
    let mut dev = Device::probe(transport(&n)).unwrap();
    let sink = Sink::default();
    dev.open(config(2), sink.factory()).unwrap();
    let mut seq = traffic(&n, &sink, &[0, 1], 10, 0);

    dev.set_channels(4).unwrap();
    assert!(dev.is_open());
    assert_eq!(n.bind_calls(), vec![3, 5]);
    assert_eq!(n.unbind_calls(), 1);
    assert_eq!(dev.layout().unwrap().channel_vector, vec![1, 2, 3, 4]);
    for i in 0..RSS_RETA_ENTRIES {
        assert_eq!(n.reg(global::RSS_RETA + 4 * i), i % 4);
    }
    seq = traffic(&n, &sink, &[0, 1, 2, 3], 10, seq);
    assert!(sink.all().iter().any(|g| g.channel == 3 && g.queue == 3));

    // A bad count is refused and the device stays as it was.
    assert!(matches!(
        dev.set_channels(9),
        Err(Error::InvalidChannels {
            requested: 9,
            available: 8
        })
    ));
    assert!(dev.is_open());
    assert_eq!(n.bind_calls().len(), 2);

    dev.set_rings(ring(6), ring(5)).unwrap();
    assert_eq!(n.bind_calls(), vec![3, 5, 5]);
    for q in 0..4 {
        assert_eq!(
            queue::CONFIG_LOG2_SIZE.get(n.reg(qreg(Dir::Rx, q, queue::CONFIG))),
            6
        );
        assert_eq!(
            queue::CONFIG_LOG2_SIZE.get(n.reg(qreg(Dir::Tx, q, queue::CONFIG))),
            5
        );
        assert_eq!(n.reg(qreg(Dir::Rx, q, queue::DB_DESC_PROD)), 64);
    }
    traffic(&n, &sink, &[0, 1, 2, 3], 20, seq);
    assert_eq!(sink.len(), 20 + 40 + 80);

    // A configured indirection table that names queue 3 forbids going to 2.
    let mut c = dev.config().clone();
    c.rss.reta = Some((0..RSS_RETA_ENTRIES).map(|i| (i % 4) as u16).collect());
    dev.reconfigure(c).unwrap();
    assert!(matches!(
        dev.set_channels(2),
        Err(Error::InvalidDeviceConfig {
            field: "rss.reta",
            ..
        })
    ));
    assert_eq!(dev.config().channels, 4);
    dev.close().unwrap();
}

// ---------------------------------------------------------------------------
// Errors and recovery.

#[test]
fn recovery_after_an_rx_queue_error_resumes_traffic() {
    let n = nic(params(4, 8));
    let mut dev = Device::probe(transport(&n)).unwrap();
    let (reports_tx, reports) = mpsc::channel();
    let reports_tx = Mutex::new(reports_tx);
    dev.on_error(move |r| {
        let _ = reports_tx.lock().unwrap().send(r.clone());
    });
    let sink = Sink::default();
    dev.open(config(2), sink.factory()).unwrap();
    let mut seq = traffic(&n, &sink, &[0, 1], 20, 0);

    n.inject_dma_error(Dir::Rx, 1, true, 0xdead_b000);
    let r = reports
        .recv_timeout(TIMEOUT)
        .expect("error interrupt reported");
    let fault = QueueFault {
        queue: 1,
        tx: false,
        error: true,
        config_error: false,
    };
    assert!(r.dma_write && !r.dma_read && !r.config && !r.desc);
    assert_eq!(r.status, global::ERR_STATUS_DMA_WRITE.mask());
    assert_eq!((r.queue, r.tx, r.addr), (1, false, 0xdead_b000));
    assert_eq!(r.faulty_queues, vec![fault]);
    assert_eq!(dev.error_report(), r);
    assert_eq!(dev.last_error(), Some(r));
    assert_eq!(n.err_fired(), 1);

    // Queue 1 drops, queue 0 still works.
    for _ in 0..5 {
        assert_eq!(
            to_queue(&n, 1, seq),
            RxOutcome::Dropped(DropReason::DmaError)
        );
        seq += 1;
    }
    seq = traffic(&n, &sink, &[0], 5, seq);

    let rec = dev.recover_queue(1).unwrap();
    assert!(rec.rx_reset && !rec.tx_reset);
    assert_eq!(rec.cleared, global::ERR_STATUS_DMA_WRITE.mask());
    assert_eq!(rec.rx_discarded, 32, "the ring's empty buffers");
    assert_eq!(n.reg(global::ERR_STATUS), 0);
    assert_eq!(
        n.reg(qreg(Dir::Rx, 1, queue::STATUS)),
        queue::STATUS_ENABLED.mask()
    );
    assert!(dev.error_report().is_clear());
    assert!(n.armed(Dir::Rx, 1), "recovery armed the queue");
    assert_eq!(n.reg(qreg(Dir::Rx, 1, queue::DB_DESC_PROD)), 32, "refilled");
    let before = sink.len();
    traffic(&n, &sink, &[1, 0], 40, seq);
    assert_eq!(sink.len(), before + 80);

    let s = dev.stats();
    assert_eq!(s.global.rx_drop_dma_error, 5);
    assert_eq!(s.error_events, 1);
    assert_eq!(s.channels[1].rx.packets, 20 + 40);
    assert!(s.channels.iter().all(|c| c.rx.errors.total() == 0));
    assert!(matches!(
        dev.recover_queue(2),
        Err(Error::NoSuchQueue { queue: 2, .. })
    ));
    dev.close().unwrap();
    assert!(matches!(dev.recover_queue(0), Err(Error::DeviceNotOpen)));
    assert_eq!(n.dma_arena().free_bytes(), n.dma_arena().len());
}

#[test]
fn recovery_after_a_tx_queue_error_resumes_sending() {
    let n = nic(params(4, 8));
    let mut dev = Device::probe(transport(&n)).unwrap();
    dev.open(config(2), Sink::default().factory()).unwrap();
    let pool = BufferPool::new(&*n, 32, 2048).unwrap();
    let tx = dev.tx_queue(0).unwrap();
    let send = |from: u32, k: u32| {
        for s in from..from + k {
            let mut b = pool.alloc().unwrap();
            b.copy_from_slice(&frame(s, 80));
            assert!(tx.lock().tx_one(b).unwrap());
        }
    };
    send(0, 10);
    assert_eq!(n.tx(0, 4).len(), 4);
    n.inject_dma_error(Dir::Tx, 0, false, 0x1234_5000);
    assert!(n.tx(0, 100).is_empty(), "a queue in error sends nothing");
    let r = dev.error_report();
    assert!(r.dma_read && r.tx && r.queue == 0);
    let rec = dev.recover_queue(0).unwrap();
    assert!(rec.tx_reset && !rec.rx_reset);
    // 4 were sent (reclaimed by the poll or by recovery), 6 never will be.
    assert_eq!(rec.tx_discarded, 6);
    assert!(rec.tx_completed <= 4);
    assert_eq!(tx.lock().in_flight(), 0);
    assert_eq!(n.reg(global::ERR_STATUS), 0);
    send(100, 12);
    let out = n.tx(0, 100);
    assert_eq!(out, (100..112).map(|s| frame(s, 80)).collect::<Vec<_>>());
    wait_until("reclaimed", || pool.is_full());
    let s = dev.stats();
    assert_eq!(s.global.tx_frames, 16);
    assert_eq!(s.channels[0].tx.discarded, 6);
    assert_eq!(s.channels[0].tx.completed, 16);
    dev.close().unwrap();
}

// ---------------------------------------------------------------------------
// Failed opens are undone.

/// The test NIC behind a transport that corrupts one queue's CONFIG write (ring
/// size below the minimum), so the device refuses to enable that queue.
struct CorruptConfig {
    nic: Arc<TestNic>,
    offset: u32,
}

impl oxnic_driver::RegisterAccess for CorruptConfig {
    fn bar0_size(&self) -> u32 {
        self.nic.bar0_size()
    }
    fn read32(&self, offset: u32) -> u32 {
        self.nic.read32(offset)
    }
    fn write32(&self, offset: u32, value: u32) {
        let v = if offset == self.offset {
            queue::CONFIG_LOG2_SIZE.set(value, oxnic_regs::RING_LOG2_MIN - 1)
        } else {
            value
        };
        self.nic.write32(offset, v);
    }
}

impl DmaMemory for CorruptConfig {
    fn dma_arena(&self) -> &oxnic_driver::DmaArena {
        self.nic.dma_arena()
    }
}

impl InterruptVectors for CorruptConfig {
    fn max_vectors(&self) -> u32 {
        self.nic.max_vectors()
    }
    fn bound_vectors(&self) -> u32 {
        self.nic.bound_vectors()
    }
    fn bind_vectors(&self, fds: &[&oxnic_driver::EventFd]) -> oxnic_driver::Result<()> {
        self.nic.bind_vectors(fds)
    }
    fn trigger_vector(&self, vector: u32) -> oxnic_driver::Result<()> {
        self.nic.trigger_vector(vector)
    }
    fn unbind_vectors(&self) -> oxnic_driver::Result<()> {
        self.nic.unbind_vectors()
    }
}

#[test]
fn a_failed_open_is_undone() {
    // The arena is too small: refused before the device is touched.
    let n = nic(NicParams {
        arena_bytes: 256 << 10,
        ..NicParams::default()
    });
    let mut dev = Device::probe(transport(&n)).unwrap();
    n.clear_writes();
    let e = dev.open(config(4), Sink::default().factory()).unwrap_err();
    assert!(matches!(e, Error::ArenaExhausted { .. }), "{e:?}");
    assert!(n.writes().is_empty() && n.bind_calls().is_empty());
    assert_eq!(n.dma_arena().free_bytes(), n.dma_arena().len());

    // Vectors already bound by somebody else: refused at the bind, no register
    // written.
    let n = nic(params(4, 8));
    let mut dev = Device::probe(transport(&n)).unwrap();
    n.clear_writes();
    let fd = oxnic_driver::EventFd::new(0).unwrap();
    n.bind_vectors(&[&fd]).unwrap();
    let e = dev.open(config(2), Sink::default().factory()).unwrap_err();
    assert!(
        matches!(e, Error::VectorsAlreadyBound { bound: 1 }),
        "{e:?}"
    );
    assert!(n.writes().is_empty());
    n.unbind_vectors().unwrap();
    dev.open(config(2), Sink::default().factory()).unwrap();
    dev.close().unwrap();

    // The device refuses to enable TX queue 1: everything done is undone.
    let n = nic(params(4, 8));
    let t: Arc<dyn Transport> = Arc::new(CorruptConfig {
        nic: n.clone(),
        offset: qreg(Dir::Tx, 1, queue::CONFIG),
    });
    let mut dev = Device::probe(t).unwrap();
    let e = dev.open(config(3), Sink::default().factory()).unwrap_err();
    match e {
        Error::QueueConfigRefused {
            queue: 1,
            tx: true,
            log2: 4,
            vector: 2,
            status,
        } => assert_eq!(status, queue::STATUS_CONFIG_ERROR.mask()),
        other => panic!("expected QueueConfigRefused, got {other:?}"),
    }
    assert!(!dev.is_open());
    assert_eq!(n.bind_calls(), vec![4]);
    assert_eq!(n.unbind_calls(), 1);
    assert_eq!(global::CTRL_ENABLE.get(n.reg(global::CTRL)), 0);
    for q in 0..3 {
        for dir in [Dir::Rx, Dir::Tx] {
            assert!(n.masked(dir, q));
            assert_eq!(n.reg(qreg(dir, q, queue::CTRL)), 0);
        }
    }
    assert!(dev.napi_list().is_empty());
    assert_eq!(n.dma_arena().free_bytes(), n.dma_arena().len());
}
