//! Test traffic and its independent expectations: frame construction (IPv4/IPv6,
//! UDP/TCP, N flows, fixed/IMIX/random sizes), a Toeplitz RSS reference written
//! from the Microsoft RSS specification (not from the RTL), and the scoreboard
//! that accounts for every injected frame.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use oxnic_regs::rss_type;

/// Frame sizes of a generated stream (bytes without FCS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeSpec {
    /// Every frame this long (60..=9216; raised to fit the headers).
    Fixed(usize),
    /// Simple IMIX: 7 × 60, 4 × 590, 1 × 1514 bytes (64/594/1518 with FCS).
    Imix,
    /// Uniform in 60..=1514.
    Random,
}

impl FromStr for SizeSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "imix" => Ok(SizeSpec::Imix),
            "random" => Ok(SizeSpec::Random),
            n => match n.parse::<usize>() {
                Ok(v)
                    if (oxnic_regs::MIN_FRAME_LEN as usize..=oxnic_regs::MAX_MTU as usize)
                        .contains(&v) =>
                {
                    Ok(SizeSpec::Fixed(v))
                }
                Ok(v) => Err(format!(
                    "frame size {v} out of range {}..={}",
                    oxnic_regs::MIN_FRAME_LEN,
                    oxnic_regs::MAX_MTU
                )),
                Err(_) => Err(format!(
                    "{s:?}: expected a frame size in bytes, `imix` or `random`"
                )),
            },
        }
    }
}

/// splitmix64: a stateless mix, so frame `seq` is a pure function of (seed, seq).
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A generated stream: `flows` flows, sizes by `size`, everything derived from
/// `seed`.
#[derive(Clone, Copy, Debug)]
pub struct TrafficSpec {
    /// Frame sizes.
    pub size: SizeSpec,
    /// Number of flows (distinct 5-tuples), ≥ 1.
    pub flows: u32,
    /// Seed.
    pub seed: u64,
}

impl TrafficSpec {
    /// The flow of frame `seq`.
    pub fn flow(&self, seq: u64) -> u32 {
        (mix(self.seed ^ seq.wrapping_mul(3)) % self.flows as u64) as u32
    }

    /// The length of frame `seq` before raising it to fit its headers.
    pub fn size(&self, seq: u64) -> usize {
        let r = mix(self.seed.wrapping_add(seq) ^ 0xA5A5);
        match self.size {
            SizeSpec::Fixed(n) => n,
            SizeSpec::Imix => match r % 12 {
                0..=6 => 60,
                7..=10 => 590,
                _ => 1514,
            },
            SizeSpec::Random => 60 + (r % (1514 - 60 + 1)) as usize,
        }
    }

    /// Frame `seq`: Ethernet + IPv4/UDP (flows ≡ 0, 2 mod 4), IPv4/TCP (≡ 1) or
    /// IPv6/UDP (≡ 3); the payload starts with `seq` so that every frame is
    /// distinct, then a pattern.
    pub fn frame(&self, seq: u64) -> Vec<u8> {
        let flow = self.flow(seq);
        let kind = flow % 4;
        let l3 = if kind == 3 { 40 } else { 20 };
        let l4 = if kind == 1 { 20 } else { 8 };
        let hdr = 14 + l3 + l4;
        let len = self.size(seq).max(hdr + 8);
        let mut f = Vec::with_capacity(len);
        // Ethernet: locally administered unicast addresses.
        f.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
        f.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, (flow >> 8) as u8, flow as u8]);
        let sport = 1024 + (flow as u16 & 0x7FFF);
        let dport = 4791u16;
        let l4_len = (len - 14 - l3) as u16;
        if kind == 3 {
            f.extend_from_slice(&0x86DDu16.to_be_bytes());
            f.extend_from_slice(&[0x60, 0, 0, 0]);
            f.extend_from_slice(&l4_len.to_be_bytes());
            f.extend_from_slice(&[17, 64]);
            let mut src = [0u8; 16];
            src[..4].copy_from_slice(&[0xfd, 0, 0, 0]);
            src[12..].copy_from_slice(&flow.to_be_bytes());
            let mut dst = [0u8; 16];
            dst[..4].copy_from_slice(&[0xfd, 0, 0, 1]);
            dst[15] = 1;
            f.extend_from_slice(&src);
            f.extend_from_slice(&dst);
        } else {
            f.extend_from_slice(&0x0800u16.to_be_bytes());
            let total = (len - 14) as u16;
            let proto = if kind == 1 { 6 } else { 17 };
            let mut ip = [
                0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 0, 10, 1, 0, 1,
            ];
            ip[2..4].copy_from_slice(&total.to_be_bytes());
            ip[4..6].copy_from_slice(&(seq as u16).to_be_bytes());
            ip[13..16].copy_from_slice(&flow.to_be_bytes()[1..]);
            let csum = ipv4_checksum(&ip);
            ip[10..12].copy_from_slice(&csum.to_be_bytes());
            f.extend_from_slice(&ip);
        }
        f.extend_from_slice(&sport.to_be_bytes());
        f.extend_from_slice(&dport.to_be_bytes());
        if kind == 1 {
            // TCP: seq = frame seq, data offset 5, ACK|PSH; checksum left 0.
            f.extend_from_slice(&(seq as u32).to_be_bytes());
            f.extend_from_slice(&[0, 0, 0, 0, 0x50, 0x18, 0xFF, 0xFF, 0, 0, 0, 0]);
        } else {
            // UDP: length; checksum 0 (allowed for IPv4; tools accept it for v6 in
            // a capture).
            f.extend_from_slice(&l4_len.to_be_bytes());
            f.extend_from_slice(&[0, 0]);
        }
        f.extend_from_slice(&seq.to_le_bytes());
        let mut x = mix(seq ^ self.seed);
        while f.len() < len {
            x = x.rotate_left(8);
            f.push(x as u8);
        }
        f
    }
}

fn ipv4_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// The Toeplitz hash of `input` with `key` (Microsoft RSS: for each input bit set,
/// MSB first, XOR in the 32 key bits starting at that bit position).
pub fn toeplitz(key: &[u8; 40], input: &[u8]) -> u32 {
    let mut result = 0u32;
    let mut window = u32::from_be_bytes([key[0], key[1], key[2], key[3]]);
    let mut next = 4 * 8; // index of the next key bit to shift in
    for &byte in input {
        for b in (0..8).rev() {
            if byte >> b & 1 != 0 {
                result ^= window;
            }
            let kbit = if next < 320 {
                key[next / 8] >> (7 - next % 8) & 1
            } else {
                0
            };
            window = window << 1 | u32::from(kbit);
            next += 1;
        }
    }
    result
}

/// What RSS should compute for `frame` with every hash type on: (hash, type).
/// Non-IP frames and fragments are not hashed: (0, NONE).
pub fn rss_expect(key: &[u8; 40], frame: &[u8]) -> (u32, u32) {
    if frame.len() < 14 {
        return (0, rss_type::NONE);
    }
    let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    let ip = &frame[14..];
    let mut input = Vec::with_capacity(36);
    match ethertype {
        0x0800 if ip.len() >= 20 => {
            let ihl = (ip[0] & 0xF) as usize * 4;
            let frag = u16::from_be_bytes([ip[6], ip[7]]) & 0x3FFF != 0;
            input.extend_from_slice(&ip[12..20]);
            let proto = ip[9];
            let ports = (!frag && (proto == 6 || proto == 17) && ip.len() >= ihl + 4)
                .then(|| &ip[ihl..ihl + 4]);
            match (proto, ports) {
                (6, Some(p)) => {
                    input.extend_from_slice(p);
                    (toeplitz(key, &input), rss_type::TCP4)
                }
                (17, Some(p)) => {
                    input.extend_from_slice(p);
                    (toeplitz(key, &input), rss_type::UDP4)
                }
                _ => (toeplitz(key, &input), rss_type::IPV4),
            }
        }
        0x86DD if ip.len() >= 40 => {
            input.extend_from_slice(&ip[8..40]);
            let next = ip[6];
            let ports = ((next == 6 || next == 17) && ip.len() >= 44).then(|| &ip[40..44]);
            match (next, ports) {
                (6, Some(p)) => {
                    input.extend_from_slice(p);
                    (toeplitz(key, &input), rss_type::TCP6)
                }
                (17, Some(p)) => {
                    input.extend_from_slice(p);
                    (toeplitz(key, &input), rss_type::UDP6)
                }
                _ => (toeplitz(key, &input), rss_type::IPV6),
            }
        }
        _ => (0, rss_type::NONE),
    }
}

/// Counters of one run, shared by the MAC (device thread), the frame handlers
/// (driver threads) and the reporter. Relaxed atomics: each is a tally.
#[derive(Debug, Default)]
pub struct Scoreboard {
    /// Frames handed to the NIC's receive stream.
    pub injected: AtomicU64,
    /// Frames the driver delivered to a handler.
    pub delivered: AtomicU64,
    /// Delivered on a queue other than RETA[hash] says.
    pub wrong_queue: AtomicU64,
    /// Delivered with a hash or hash type other than the reference's.
    pub bad_hash: AtomicU64,
    /// Frames the handler put on a TX ring.
    pub forwarded: AtomicU64,
    /// Frames the handler could not put on a TX ring (ring full): dropped by
    /// the forwarding program, counted.
    pub forward_dropped: AtomicU64,
    /// Transmitted frames equal to a frame injected and not yet returned.
    pub returned: AtomicU64,
    /// Transmitted frames equal to no injected frame in flight (corruption or a
    /// duplicate).
    pub returned_bad: AtomicU64,
    /// Transmitted frames with `tuser` (TX DMA error) set.
    pub tx_error_frames: AtomicU64,
    /// Device drops by reason, as last read from the counters (published by the
    /// reporter; the generator uses them for its window).
    pub device_dropped: AtomicU64,
}

impl Scoreboard {
    /// Frames injected but not yet delivered or known dropped.
    pub fn in_flight(&self) -> u64 {
        let i = self.injected.load(Ordering::Relaxed);
        let done =
            self.delivered.load(Ordering::Relaxed) + self.device_dropped.load(Ordering::Relaxed);
        i.saturating_sub(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Microsoft RSS verification suite's key and two of its IPv4 vectors.
    const MS_KEY: [u8; 40] = [
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f,
        0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
        0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    ];

    #[test]
    fn toeplitz_matches_the_microsoft_vectors() {
        // 66.9.149.187:2794 → 161.142.100.80:1766
        let v4 = [66, 9, 149, 187, 161, 142, 100, 80];
        assert_eq!(toeplitz(&MS_KEY, &v4), 0x323e_8fc2);
        let mut t4 = v4.to_vec();
        t4.extend_from_slice(&[0x0a, 0xea, 0x06, 0xe6]);
        assert_eq!(toeplitz(&MS_KEY, &t4), 0x51cc_c178);
        // 199.92.111.2:14230 → 65.69.140.83:4739
        let v4b = [199, 92, 111, 2, 65, 69, 140, 83];
        assert_eq!(toeplitz(&MS_KEY, &v4b), 0xd718_262a);
    }

    #[test]
    fn frames_are_deterministic_distinct_and_parse() {
        let spec = TrafficSpec {
            size: SizeSpec::Imix,
            flows: 64,
            seed: 7,
        };
        let a = spec.frame(5);
        assert_eq!(a, spec.frame(5));
        assert_ne!(a, spec.frame(6));
        for seq in 0..200 {
            let f = spec.frame(seq);
            assert!(f.len() >= 60 && f.len() <= 1514);
            let (_, t) = rss_expect(&MS_KEY, &f);
            let want = match spec.flow(seq) % 4 {
                1 => rss_type::TCP4,
                3 => rss_type::UDP6,
                _ => rss_type::UDP4,
            };
            assert_eq!(t, want, "frame {seq}");
        }
    }

    #[test]
    fn size_spec_parses_and_refuses() {
        assert_eq!("imix".parse::<SizeSpec>(), Ok(SizeSpec::Imix));
        assert_eq!("64".parse::<SizeSpec>(), Ok(SizeSpec::Fixed(64)));
        assert!("59".parse::<SizeSpec>().is_err());
        assert!("big".parse::<SizeSpec>().is_err());
    }
}
