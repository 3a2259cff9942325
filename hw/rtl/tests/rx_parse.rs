//! `rx_parse` in rust-hdl's simulator against a reference parser written
//! separately here, byte by byte over the frame as a slice (no word alignment, no
//! beat bookkeeping). Random frames — IPv4/IPv6 × TCP/UDP/other, IPv4 options and
//! fragments, IPv6 extension headers, one VLAN tag, non-IP, wrong version nibbles,
//! truncated headers, runts, oversize, MAC errors — with random `rss_ctrl` and
//! `mtu` per frame and random backpressure on `m_axis` and `m_meta`. Every output
//! beat must equal its input beat (the stream is a pass-through: both handshakes
//! in the same cycle), and every metadata record must equal the reference.
//!
//! Seed: `OXNIC_SEED=<n>` replays a run; the seed is printed.

use oxnic_hw::rx_parse::*;
use oxnic_regs::{global, rss_type, Field, MIN_FRAME_LEN};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_hdl::prelude::*;

// ---------------------------------------------------------------------------
// Reference parser.

#[derive(Clone, Debug, PartialEq)]
struct Meta {
    len: u16,
    status: u64,
    rss_type: u32,
    /// The tuple bytes (network order), without padding.
    tuple: Vec<u8>,
    chunks: u8,
}

fn ctrl_bit(ctrl: u8, f: Field) -> bool {
    ctrl >> f.lsb & 1 == 1
}

/// The RSS type and tuple of a frame, as the block's documentation states it.
fn reference_rss(f: &[u8], ctrl: u8) -> (u32, Vec<u8>) {
    let none = (rss_type::NONE, Vec::new());
    if !ctrl_bit(ctrl, global::RSS_CTRL_ENABLE) {
        return none;
    }
    let be16 = |o: usize| f.get(o..o + 2).map(|s| u16::from_be_bytes([s[0], s[1]]));
    let Some(mut ethertype) = be16(12) else {
        return none;
    };
    let mut ip = 14;
    if ethertype == 0x8100 {
        let Some(inner) = be16(16) else {
            return none;
        };
        ethertype = inner;
        ip = 18;
    }
    // (type, addresses, offset of the ports if the type uses them)
    let (t, addrs, l4) = match ethertype {
        0x0800 => {
            if f.len() < ip + 20 {
                return none;
            }
            let version = f[ip] >> 4;
            let ihl = (f[ip] & 15) as usize;
            if version != 4 || ihl < 5 {
                return none;
            }
            let fragment = be16(ip + 6).unwrap() & 0x3fff != 0;
            let proto = f[ip + 9];
            let addrs = f[ip + 12..ip + 20].to_vec();
            if !fragment && proto == 6 && ctrl_bit(ctrl, global::RSS_CTRL_TCP4) {
                (rss_type::TCP4, addrs, Some(ip + 4 * ihl))
            } else if !fragment && proto == 17 && ctrl_bit(ctrl, global::RSS_CTRL_UDP4) {
                (rss_type::UDP4, addrs, Some(ip + 4 * ihl))
            } else if ctrl_bit(ctrl, global::RSS_CTRL_IPV4) {
                (rss_type::IPV4, addrs, None)
            } else {
                return none;
            }
        }
        0x86dd => {
            if f.len() < ip + 40 {
                return none;
            }
            if f[ip] >> 4 != 6 {
                return none;
            }
            let next_header = f[ip + 6];
            let addrs = f[ip + 8..ip + 40].to_vec();
            if next_header == 6 && ctrl_bit(ctrl, global::RSS_CTRL_TCP6) {
                (rss_type::TCP6, addrs, Some(ip + 40))
            } else if next_header == 17 && ctrl_bit(ctrl, global::RSS_CTRL_UDP6) {
                (rss_type::UDP6, addrs, Some(ip + 40))
            } else if ctrl_bit(ctrl, global::RSS_CTRL_IPV6) {
                (rss_type::IPV6, addrs, None)
            } else {
                return none;
            }
        }
        _ => return none,
    };
    let mut tuple = addrs;
    if let Some(l4) = l4 {
        let Some(ports) = f.get(l4..l4 + 4) else {
            return none;
        };
        tuple.extend_from_slice(ports);
    }
    (t, tuple)
}

fn reference(frame: &TestFrame) -> Meta {
    let len = frame.bytes.len().min(0xffff) as u16;
    let status = if frame.tuser {
        STATUS_MAC_ERROR
    } else if (len as u32) < MIN_FRAME_LEN {
        STATUS_RUNT
    } else if len > frame.mtu {
        STATUS_OVERSIZE
    } else {
        STATUS_OK
    };
    let (rss_type, tuple) = reference_rss(&frame.bytes, frame.ctrl);
    Meta {
        len,
        status,
        rss_type,
        chunks: tuple.len().div_ceil(8) as u8,
        tuple,
    }
}

// ---------------------------------------------------------------------------
// Frames.

#[derive(Clone, Debug)]
struct TestFrame {
    bytes: Vec<u8>,
    /// MAC error (tuser on the last beat).
    tuser: bool,
    mtu: u16,
    ctrl: u8,
    /// tuser on the beats before the last (must be ignored).
    early_tuser: bool,
}

/// One beat as (tdata, tkeep, tlast, tuser).
type Beat = (u64, u8, bool, bool);

fn beats(f: &TestFrame) -> Vec<Beat> {
    let n = f.bytes.len().div_ceil(8);
    f.bytes
        .chunks(8)
        .enumerate()
        .map(|(i, c)| {
            let mut b = [0u8; 8];
            b[..c.len()].copy_from_slice(c);
            let last = i + 1 == n;
            (
                u64::from_le_bytes(b),
                ((1u16 << c.len()) - 1) as u8,
                last,
                if last { f.tuser } else { f.early_tuser },
            )
        })
        .collect()
}

fn rand_bytes(rng: &mut StdRng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.gen()).collect()
}

/// Transport header: TCP (20 bytes) or UDP (8), random ports, or random bytes.
fn l4_header(rng: &mut StdRng, proto: u8) -> Vec<u8> {
    let n = match proto {
        6 => 20,
        17 => 8,
        _ => rng.gen_range(0..24),
    };
    rand_bytes(rng, n)
}

/// An IPv4 packet's headers, and the offsets (from the IP header) where the
/// address part and the ports of the tuple end.
fn ipv4(rng: &mut StdRng) -> (Vec<u8>, Vec<usize>) {
    let ihl: u8 = if rng.gen_bool(0.35) {
        rng.gen_range(6..=15)
    } else if rng.gen_bool(0.03) {
        rng.gen_range(0..5)
    } else {
        5
    };
    let version: u8 = if rng.gen_bool(0.04) { 6 } else { 4 };
    let proto = *[6u8, 17, 6, 17, 1, 47, rng.gen()]
        .get(rng.gen_range(0..7))
        .unwrap();
    let flags_frag: u16 = match rng.gen_range(0..10) {
        0 => 0x2000,                            // MF, offset 0
        1 => rng.gen_range(1..0x2000),          // offset, last fragment
        2 => 0x2000 | rng.gen_range(1..0x2000), // middle fragment
        3 => 0x4000,                            // DF: not a fragment
        4 => 0x8000,                            // reserved bit: not a fragment
        _ => 0,
    };
    let mut h = vec![(version << 4) | ihl, rng.gen(), 0, 0];
    h.extend(rand_bytes(rng, 2)); // identification
    h.extend(flags_frag.to_be_bytes());
    h.push(rng.gen()); // TTL
    h.push(proto);
    h.extend(rand_bytes(rng, 2)); // checksum (not checked)
    h.extend(rand_bytes(rng, 8)); // addresses
    h.extend(rand_bytes(rng, 4 * (ihl.max(5) as usize - 5))); // options
    h.extend(l4_header(rng, proto));
    let total = (h.len() + rng.gen_range(0..40)) as u16;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    (h, vec![20, 4 * ihl as usize + 4])
}

/// An IPv6 packet's headers, and where the tuple's parts end (see `ipv4`).
fn ipv6(rng: &mut StdRng) -> (Vec<u8>, Vec<usize>) {
    let version: u8 = if rng.gen_bool(0.04) { 4 } else { 6 };
    // TCP, UDP, or an extension header / other protocol (hop-by-hop, routing,
    // fragment, ICMPv6, no next header).
    let nh = *[6u8, 17, 6, 17, 0, 43, 44, 58, 59, rng.gen()]
        .get(rng.gen_range(0..10))
        .unwrap();
    let mut h = vec![
        (version << 4) | rng.gen_range(0..16),
        rng.gen(),
        rng.gen(),
        rng.gen(),
    ];
    h.extend([0, 0, nh, rng.gen()]);
    h.extend(rand_bytes(rng, 32));
    h.extend(l4_header(rng, nh));
    (h, vec![40, 44])
}

/// A random frame; `mtu`/`ctrl` random too. Frames stay short (rust-hdl's
/// simulator is slow): up to a few hundred bytes.
fn random_frame(rng: &mut StdRng) -> TestFrame {
    let mut f = rand_bytes(rng, 12); // MAC addresses
    let tagged = rng.gen_bool(0.25);
    if tagged {
        f.extend([0x81, 0x00]);
        f.extend(rand_bytes(rng, 2)); // TCI
    }
    let kind = rng.gen_range(0..20);
    let (ethertype, (l3, ends)): (u16, (Vec<u8>, Vec<usize>)) = match kind {
        0..=7 => (0x0800, ipv4(rng)),
        8..=14 => (0x86dd, ipv6(rng)),
        15 => (0x0806, (rand_bytes(rng, 28), vec![])), // ARP
        16 => (0x8100, ipv4(rng)),                     // second tag: not understood
        17 => (0x88a8, ipv4(rng)),                     // 802.1ad: not understood
        18 => (rng.gen(), (rand_bytes(rng, 40), vec![])),
        _ => {
            // header cut short
            let n = rng.gen_range(0..8);
            (0x0800, (rand_bytes(rng, n), vec![]))
        }
    };
    f.extend(ethertype.to_be_bytes());
    let ip = f.len();
    f.extend(l3);
    let payload = match rng.gen_range(0..10) {
        0 => rng.gen_range(100..300),
        _ => rng.gen_range(0..40),
    };
    f.extend(rand_bytes(rng, payload));
    match rng.gen_range(0..10) {
        // Truncated anywhere (headers cut, runts).
        0 => {
            let n = rng.gen_range(1..=f.len());
            f.truncate(n);
        }
        // Cut within 3 bytes of where the addresses or the ports end.
        1 | 2 if !ends.is_empty() => {
            let end = ip + ends[rng.gen_range(0..ends.len())];
            f.truncate((end + rng.gen_range(0..7)).saturating_sub(3).max(1));
        }
        // Left unpadded: may be a runt.
        3 => {}
        // Ethernet padding to the minimum.
        _ => {
            if f.len() < MIN_FRAME_LEN as usize {
                f.resize(MIN_FRAME_LEN as usize, 0);
            }
        }
    }
    let mtu = if rng.gen_bool(0.05) {
        rng.gen_range(0..MIN_FRAME_LEN as u16 + 4)
    } else {
        rng.gen_range(60..400)
    };
    let mut ctrl: u8 = rng.gen::<u8>() & 0x7f;
    if rng.gen_bool(0.5) {
        ctrl |= 0x7f; // everything on, the common case
    }
    if rng.gen_bool(0.1) {
        ctrl &= !(1 << global::RSS_CTRL_ENABLE.lsb);
    }
    TestFrame {
        bytes: f,
        tuser: rng.gen_bool(0.08),
        mtu,
        ctrl,
        early_tuser: rng.gen_bool(0.2),
    }
}

// ---------------------------------------------------------------------------
// Harness.

fn seed(name: &str) -> u64 {
    let s = std::env::var("OXNIC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("rx_parse {name} seed: OXNIC_SEED={s}");
    s
}

#[derive(Clone, Copy)]
enum Ready {
    /// Ready with this probability every cycle.
    Random(f64),
    /// Low for the first `low` cycles of every `period`.
    Bursts { period: u64, low: u64 },
}

impl Ready {
    fn sample(self, cycle: u64, rng: &mut StdRng) -> bool {
        match self {
            Ready::Random(p) => rng.gen_bool(p),
            Ready::Bursts { period, low } => cycle % period >= low,
        }
    }
}

#[derive(Default)]
struct Outcome {
    out_beats: Vec<Beat>,
    metas: Vec<Meta>,
    cycles: u64,
    /// Cycles in which a beat was offered, downstream was ready, and the block
    /// did not take it (metadata FIFO full).
    stalls: u64,
    /// Handshake/protocol violations seen cycle by cycle.
    violations: Vec<String>,
}

fn to_bits64(v: u64) -> Bits<64> {
    v.to_bits()
}

fn from_bits64(b: Bits<64>) -> u64 {
    (b.get_bits::<32>(0).index() as u64) | ((b.get_bits::<32>(32).index() as u64) << 32)
}

fn run(
    frames: Vec<TestFrame>,
    seed: u64,
    src_gap: f64,
    axis_ready: Ready,
    meta_ready: Ready,
) -> Outcome {
    let mut uut = RxParse::default();
    uut.connect_all();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<RxParse>| x.clk.next = !x.clk.val());
    let result = std::sync::Arc::new(std::sync::Mutex::new(None));
    let out = result.clone();
    let total_beats: usize = frames.iter().map(|f| beats(f).len()).sum();
    let limit = 40 * total_beats as u64 + 2000;
    sim.add_testbench(move |mut sim: Sim<RxParse>| {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
        let mut o = Outcome::default();
        let mut x = sim.init()?;
        x.rst.next = true;
        wait_clock_cycle!(sim, clk, x);
        x.rst.next = false;
        wait_clock_true!(sim, clk, x);
        let all: Vec<(usize, Beat)> = frames
            .iter()
            .enumerate()
            .flat_map(|(i, f)| beats(f).into_iter().map(move |b| (i, b)))
            .collect();
        let mut next = 0;
        let mut offering = false;
        let mut prev_m_stuck = false;
        while o.metas.len() < frames.len() || next < all.len() {
            o.cycles += 1;
            if o.cycles > limit {
                o.violations
                    .push(format!("timeout after {} cycles", o.cycles));
                break;
            }
            // Inputs for this cycle.
            if !offering && next < all.len() && !rng.gen_bool(src_gap) {
                offering = true;
            }
            x.s_axis_rx_tvalid.next = offering;
            if next < all.len() {
                let (fi, (data, keep, last, user)) = all[next];
                x.s_axis_rx_tdata.next = to_bits64(data);
                x.s_axis_rx_tkeep.next = (keep as u64).to_bits();
                x.s_axis_rx_tlast.next = last;
                x.s_axis_rx_tuser.next = user;
                x.mtu.next = (frames[fi].mtu as u64).to_bits();
                x.rss_ctrl.next = (frames[fi].ctrl as u64).to_bits();
            }
            x.m_axis_tready.next = axis_ready.sample(o.cycles, &mut rng);
            x.m_meta_ready.next = meta_ready.sample(o.cycles, &mut rng);
            wait_clock_false!(sim, clk, x);
            let s_hs = x.s_axis_rx_tvalid.val() && x.s_axis_rx_tready.val();
            let m_hs = x.m_axis_tvalid.val() && x.m_axis_tready.val();
            if s_hs != m_hs {
                o.violations.push(format!(
                    "cycle {}: input handshake {s_hs}, output {m_hs}",
                    o.cycles
                ));
            }
            if prev_m_stuck && !x.m_axis_tvalid.val() {
                o.violations.push(format!(
                    "cycle {}: m_axis_tvalid withdrawn before the handshake",
                    o.cycles
                ));
            }
            prev_m_stuck = x.m_axis_tvalid.val() && !x.m_axis_tready.val();
            if x.s_axis_rx_tvalid.val() && x.m_axis_tready.val() && !x.s_axis_rx_tready.val() {
                o.stalls += 1;
            }
            if m_hs {
                o.out_beats.push((
                    from_bits64(x.m_axis_tdata.val()),
                    x.m_axis_tkeep.val().index() as u8,
                    x.m_axis_tlast.val(),
                    x.m_axis_tuser.val(),
                ));
            }
            if s_hs {
                next += 1;
                offering = false;
            }
            if x.m_meta_valid.val() && x.m_meta_ready.val() {
                let t = x.m_meta_tuple.val();
                let chunks = x.m_meta_chunks.val().index() as u8;
                let tuple_all: Vec<u8> = (0..40)
                    .map(|i| t.get_bits::<8>(312 - 8 * i).index() as u8)
                    .collect();
                // The record's tuple is the bytes before the zero padding; keep
                // all 40 so that nonzero padding shows as a mismatch.
                o.metas.push(Meta {
                    len: x.m_meta_len.val().index() as u16,
                    status: x.m_meta_status.val().index() as u64,
                    rss_type: x.m_meta_rss_type.val().index() as u32,
                    tuple: tuple_all,
                    chunks,
                });
            }
            wait_clock_true!(sim, clk, x);
        }
        *out.lock().unwrap() = Some(o);
        sim.done(x)
    });
    sim.run(Box::new(uut), 10 * (limit + 100)).unwrap();
    let r = result.lock().unwrap().take().unwrap();
    r
}

/// Checks the outcome against the reference; returns the expected records.
fn check(frames: &[TestFrame], o: &Outcome) -> Vec<Meta> {
    assert!(
        o.violations.is_empty(),
        "protocol violations: {:#?}",
        o.violations
    );
    let want_beats: Vec<Beat> = frames.iter().flat_map(beats).collect();
    assert_eq!(o.out_beats.len(), want_beats.len(), "beat count differs");
    for (i, (got, want)) in o.out_beats.iter().zip(&want_beats).enumerate() {
        assert_eq!(got, want, "output beat {i} differs from the input");
    }
    assert_eq!(o.metas.len(), frames.len(), "metadata record count differs");
    let mut want_all = Vec::new();
    for (i, (f, got)) in frames.iter().zip(&o.metas).enumerate() {
        let mut want = reference(f);
        want.tuple.resize(40, 0);
        assert_eq!(
            got,
            &want,
            "frame {i} metadata differs\nframe ({} bytes, mtu {}, ctrl {:#04x}, tuser {}): {:02x?}",
            f.bytes.len(),
            f.mtu,
            f.ctrl,
            f.tuser,
            f.bytes
        );
        want_all.push(want);
    }
    want_all
}

/// Counts records by (status, rss type) so that a run can show it covered them.
fn coverage(metas: &[Meta]) -> (Vec<usize>, Vec<usize>) {
    let mut status = vec![0; 4];
    let mut types = vec![0; 7];
    for m in metas {
        status[m.status as usize] += 1;
        types[m.rss_type as usize] += 1;
    }
    (status, types)
}

/// Runs `n` random frames; with `cover`, fails unless every status and RSS type
/// occurred (keep `n` large enough that this cannot fail by chance).
fn random_run(
    name: &str,
    n: usize,
    cover: bool,
    src_gap: f64,
    axis: Ready,
    meta: Ready,
) -> Outcome {
    let seed = seed(name);
    let mut rng = StdRng::seed_from_u64(seed);
    let frames: Vec<TestFrame> = (0..n).map(|_| random_frame(&mut rng)).collect();
    let o = run(frames.clone(), seed, src_gap, axis, meta);
    let want = check(&frames, &o);
    let (status, types) = coverage(&want);
    println!(
        "{name}: {n} frames, {} beats in {} cycles, {} stall cycles; status ok/runt/oversize/mac {status:?}; rss types none/ipv4/tcp4/udp4/ipv6/tcp6/udp6 {types:?}",
        o.out_beats.len(),
        o.cycles,
        o.stalls
    );
    if cover {
        assert!(
            types.iter().all(|&c| c > 0),
            "the run missed an RSS type: {types:?}"
        );
        assert!(
            status.iter().all(|&c| c > 0),
            "the run missed a status: {status:?}"
        );
    }
    o
}

// ---------------------------------------------------------------------------
// Hand-built frames.

fn eth(tag: bool, ethertype: u16) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    if tag {
        f.extend([0x81, 0x00, 0x00, 0x05]);
    }
    f.extend(ethertype.to_be_bytes());
    f
}

fn v4_header(ihl: u8, proto: u8, flags_frag: u16, src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
    let mut h = vec![0x40 | ihl, 0, 0, 0, 0x12, 0x34];
    h.extend(flags_frag.to_be_bytes());
    h.extend([64, proto, 0, 0]);
    h.extend(src);
    h.extend(dst);
    h.extend((0..4 * (ihl as usize - 5)).map(|i| 0xa0 + i as u8));
    h
}

fn pad(mut f: Vec<u8>) -> Vec<u8> {
    if f.len() < 60 {
        f.resize(60, 0);
    }
    f
}

const SRC4: [u8; 4] = [66, 9, 149, 187];
const DST4: [u8; 4] = [161, 142, 100, 80];

/// Hand-built frames and their expected records, written out (not from the
/// reference), to pin the reference itself.
fn known() -> Vec<(TestFrame, Meta)> {
    let all = 0x7f;
    let frame = |bytes: Vec<u8>, ctrl: u8| TestFrame {
        bytes,
        tuser: false,
        mtu: 1514,
        ctrl,
        early_tuser: false,
    };
    let meta = |len: usize, status: u64, rss_type: u32, tuple: Vec<u8>| Meta {
        len: len as u16,
        status,
        rss_type,
        chunks: tuple.len().div_ceil(8) as u8,
        tuple,
    };
    let ports = [0x0a, 0xea, 0x06, 0xe6]; // 2794 -> 1766
    let v4_tuple = |p: bool| {
        let mut t = [SRC4, DST4].concat();
        if p {
            t.extend(ports);
        }
        t
    };
    let mut cases = Vec::new();
    // IPv4/TCP, IHL 5.
    let mut f = eth(false, 0x0800);
    f.extend(v4_header(5, 6, 0x4000, SRC4, DST4));
    f.extend(ports);
    cases.push((
        frame(pad(f), all),
        meta(60, STATUS_OK, rss_type::TCP4, v4_tuple(true)),
    ));
    // IPv4/UDP with 40 bytes of options (IHL 15), behind a VLAN tag: ports at 18 + 60.
    let mut f = eth(true, 0x0800);
    f.extend(v4_header(15, 17, 0, SRC4, DST4));
    f.extend(ports);
    f.extend([0u8; 4]);
    cases.push((
        frame(pad(f.clone()), all),
        meta(86, STATUS_OK, rss_type::UDP4, v4_tuple(true)),
    ));
    // The same cut right after the destination port (82 bytes): still hashable.
    f.truncate(82);
    cases.push((
        frame(f.clone(), all),
        meta(82, STATUS_OK, rss_type::UDP4, v4_tuple(true)),
    ));
    // ... and one byte earlier: the ports are incomplete, NONE.
    f.truncate(81);
    cases.push((frame(f, all), meta(81, STATUS_OK, rss_type::NONE, vec![])));
    // IPv4/TCP, first fragment (MF): addresses only.
    let mut f = eth(false, 0x0800);
    f.extend(v4_header(5, 6, 0x2000, SRC4, DST4));
    f.extend(ports);
    cases.push((
        frame(pad(f), all),
        meta(60, STATUS_OK, rss_type::IPV4, v4_tuple(false)),
    ));
    // IPv4/UDP with UDP4 disabled: addresses only; with IPV4 disabled too: NONE.
    let mut f = eth(false, 0x0800);
    f.extend(v4_header(5, 17, 0, SRC4, DST4));
    f.extend(ports);
    let no_udp4 = all & !(1 << global::RSS_CTRL_UDP4.lsb);
    let no_v4 = no_udp4 & !(1 << global::RSS_CTRL_IPV4.lsb);
    cases.push((
        frame(pad(f.clone()), no_udp4),
        meta(60, STATUS_OK, rss_type::IPV4, v4_tuple(false)),
    ));
    cases.push((
        frame(pad(f.clone()), no_v4),
        meta(60, STATUS_OK, rss_type::NONE, vec![]),
    ));
    // RSS disabled.
    cases.push((
        frame(pad(f), all & !1),
        meta(60, STATUS_OK, rss_type::NONE, vec![]),
    ));
    // IPv6/TCP.
    let src6: Vec<u8> = (0..16).map(|i| 0x30 + i).collect();
    let dst6: Vec<u8> = (0..16).map(|i| 0x50 + i).collect();
    let mut f = eth(false, 0x86dd);
    f.extend([0x60, 0, 0, 0, 0, 20, 6, 64]);
    f.extend(&src6);
    f.extend(&dst6);
    f.extend(ports);
    f.extend([0u8; 16]);
    let t6 = |p: bool| {
        let mut t = [src6.clone(), dst6.clone()].concat();
        if p {
            t.extend(ports);
        }
        t
    };
    cases.push((
        frame(f.clone(), all),
        meta(74, STATUS_OK, rss_type::TCP6, t6(true)),
    ));
    // IPv6 with a hop-by-hop header: addresses only.
    f[20] = 0;
    cases.push((
        frame(f.clone(), all),
        meta(74, STATUS_OK, rss_type::IPV6, t6(false)),
    ));
    // IPv6/UDP behind a VLAN tag.
    let mut g = eth(true, 0x86dd);
    g.extend(&f[14..]);
    g[24] = 17;
    cases.push((frame(g, all), meta(78, STATUS_OK, rss_type::UDP6, t6(true))));
    // ARP: NONE.
    let mut f = eth(false, 0x0806);
    f.extend([0u8; 28]);
    cases.push((
        frame(pad(f), all),
        meta(60, STATUS_OK, rss_type::NONE, vec![]),
    ));
    // A runt (59 bytes), an oversize frame (mtu 64, 65 bytes), a MAC error that
    // is also a runt (MAC error wins), a one-byte frame.
    let mut f = eth(false, 0x0800);
    f.extend(v4_header(5, 6, 0, SRC4, DST4));
    f.extend(ports);
    f.resize(59, 0);
    cases.push((
        frame(f.clone(), all),
        meta(59, STATUS_RUNT, rss_type::TCP4, v4_tuple(true)),
    ));
    let mut big = frame(vec![0x55; 65], all);
    big.mtu = 64;
    cases.push((big, meta(65, STATUS_OVERSIZE, rss_type::NONE, vec![])));
    let mut bad = frame(f, all);
    bad.tuser = true;
    cases.push((
        bad,
        meta(59, STATUS_MAC_ERROR, rss_type::TCP4, v4_tuple(true)),
    ));
    cases.push((
        frame(vec![0xff], all),
        meta(1, STATUS_RUNT, rss_type::NONE, vec![]),
    ));
    cases
}

// ---------------------------------------------------------------------------
// Tests.

#[test]
fn reference_parser_matches_hand_built_frames() {
    for (i, (f, want)) in known().into_iter().enumerate() {
        assert_eq!(reference(&f), want, "hand-built case {i}");
    }
}

#[test]
fn rtl_hand_built_frames() {
    let cases = known();
    let frames: Vec<TestFrame> = cases.iter().map(|c| c.0.clone()).collect();
    let o = run(
        frames.clone(),
        1,
        0.0,
        Ready::Random(1.0),
        Ready::Random(1.0),
    );
    check(&frames, &o);
    for (i, ((_, mut expected), got)) in cases.into_iter().zip(&o.metas).enumerate() {
        expected.tuple.resize(40, 0);
        assert_eq!(got, &expected, "hand-built case {i}");
    }
}

#[test]
fn rtl_random_frames_random_backpressure() {
    random_run(
        "random_backpressure",
        1000,
        true,
        0.2,
        Ready::Random(0.7),
        Ready::Random(0.6),
    );
}

#[test]
fn rtl_random_frames_no_backpressure() {
    random_run(
        "no_backpressure",
        500,
        false,
        0.0,
        Ready::Random(1.0),
        Ready::Random(1.0),
    );
}

#[test]
fn rtl_meta_fifo_full_holds_the_stream() {
    // Metadata taken rarely: the FIFO fills, the stream must wait (never drop).
    let seed = seed("meta_fifo_full");
    let mut rng = StdRng::seed_from_u64(seed);
    let frames: Vec<TestFrame> = (0..60)
        .map(|_| {
            let mut f = random_frame(&mut rng);
            f.bytes.truncate(rng.gen_range(1..24)); // short frames: records pile up
            f
        })
        .collect();
    let o = run(
        frames.clone(),
        seed,
        0.0,
        Ready::Random(1.0),
        Ready::Random(0.05),
    );
    check(&frames, &o);
    assert!(o.stalls > 0, "the metadata FIFO never filled");
}

#[test]
fn rtl_back_to_back_minimum_frames_do_not_stall() {
    // 60-byte frames back to back, downstream always ready, metadata not taken for
    // 30 of every 60 cycles: the FIFO absorbs it, one beat every cycle.
    let seed = seed("back_to_back");
    let mut rng = StdRng::seed_from_u64(seed);
    let frames: Vec<TestFrame> = (0..60)
        .map(|_| {
            let mut f = random_frame(&mut rng);
            f.bytes.resize(60, 0);
            f
        })
        .collect();
    let o = run(
        frames.clone(),
        seed,
        0.0,
        Ready::Random(1.0),
        Ready::Bursts {
            period: 60,
            low: 30,
        },
    );
    check(&frames, &o);
    assert_eq!(o.stalls, 0, "the stream stalled");
    assert_eq!(o.out_beats.len(), 60 * 8, "60-byte frames are 8 beats each");
}
