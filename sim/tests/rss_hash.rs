//! The Verilated `rss_hash` against the Toeplitz reference of
//! `oxnic_sim::traffic` (written from the Microsoft RSS specification, not from
//! the RTL, and checked against the published vectors below), at Verilator speed: tens of thousands of random
//! IPv4/IPv6 tuples (with and without ports) under random keys, offered at full
//! rate and with random gaps, plus the specification's published example.
//!
//! Seed: `OXNIC_SEED=<n>` replays a run; the seed is printed.

mod common;

use common::seed;
use oxnic_sim::traffic::toeplitz;
use oxnic_sim::{pack320, RssHashModel, RssHashPorts};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;

/// The key of Microsoft's RSS verification suite.
const MS_KEY: [u8; 40] = [
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
    0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
    0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
];

/// Runs `tuples` through the model with `key`; offers a tuple with probability
/// `rate` per cycle. Returns the hashes in order and the cycles used.
fn run(key: &[u8; 40], tuples: &[Vec<u8>], rate: f64, rng: &mut StdRng) -> (Vec<u32>, u64) {
    let mut m = RssHashModel::new();
    let mut p = RssHashPorts {
        rst: 1,
        key: pack320(key),
        ..Default::default()
    };
    m.cycle(&mut p);
    p.rst = 0;
    let mut queue: VecDeque<&Vec<u8>> = tuples.iter().collect();
    let mut offered: Option<&Vec<u8>> = None;
    let mut out = Vec::new();
    let start = m.cycles();
    let mut idle = 0;
    while out.len() < tuples.len() {
        if offered.is_none() && rng.gen_bool(rate) {
            offered = queue.pop_front();
        }
        p.s_valid = offered.is_some() as u8;
        if let Some(t) = offered {
            p.s_tuple = pack320(t);
            p.s_chunks = t.len().div_ceil(8) as u8;
        }
        m.cycle(&mut p);
        if p.m_valid == 1 {
            out.push(p.m_hash);
            idle = 0;
        } else {
            idle += 1;
            assert!(idle < 1000, "the engine stopped answering");
        }
        if p.s_valid == 1 && p.s_ready == 1 {
            offered = None;
        }
    }
    (out, m.cycles() - start)
}

#[test]
fn microsoft_verification_suite() {
    // Known values from Microsoft's "Verifying the RSS Hash Calculation"
    // (IPv4: 66.9.149.187:2794 → 161.142.100.80:1766, with and without ports).
    let with_ports = [66, 9, 149, 187, 161, 142, 100, 80, 0x0a, 0xea, 0x06, 0xe6];
    assert_eq!(toeplitz(&MS_KEY, &with_ports), 0x51cc_c178);
    assert_eq!(toeplitz(&MS_KEY, &with_ports[..8]), 0x323e_8fc2);
    let mut rng = StdRng::seed_from_u64(0);
    let (h, _) = run(
        &MS_KEY,
        &[with_ports.to_vec(), with_ports[..8].to_vec()],
        1.0,
        &mut rng,
    );
    assert_eq!(h, vec![0x51cc_c178, 0x323e_8fc2]);
}

#[test]
fn random_tuples_match_the_reference() {
    let s = seed("random_tuples_match_the_reference");
    let mut rng = StdRng::seed_from_u64(s);
    for round in 0..4 {
        let mut key = [0u8; 40];
        rng.fill(&mut key[..]);
        let tuples: Vec<Vec<u8>> = (0..20_000)
            .map(|_| {
                let len = [8usize, 12, 32, 36][rng.gen_range(0..4)];
                (0..len).map(|_| rng.gen()).collect()
            })
            .collect();
        let rate = if round % 2 == 0 { 1.0 } else { 0.3 };
        let t = std::time::Instant::now();
        let (hashes, cycles) = run(&key, &tuples, rate, &mut rng);
        let secs = t.elapsed().as_secs_f64();
        for (i, (tuple, got)) in tuples.iter().zip(&hashes).enumerate() {
            assert_eq!(
                *got,
                toeplitz(&key, tuple),
                "tuple {i} ({} bytes) round {round}, seed {s}",
                tuple.len()
            );
        }
        // Information, not an assertion (shared machines are noisy).
        println!(
            "round {round}: {} tuples in {cycles} cycles, {:.1} M cycles/s",
            tuples.len(),
            cycles as f64 / secs / 1e6
        );
    }
}
