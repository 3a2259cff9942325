//! `rss_hash` — Toeplitz hash engine for receive-side scaling.
//!
//! The Microsoft RSS hash: for every input bit `i` (most significant bit of the
//! first byte first) that is set, XOR the 32 key bits starting at key bit `i` into
//! the result. The input is the tuple in network byte order: source address,
//! destination address, then (for TCP/UDP) source port, destination port — 8, 12,
//! 32 or 36 bytes. The key is 40 bytes (`RSS_KEY`, byte 0 first).
//!
//! The engine consumes 64 tuple bits per cycle: a tuple of `s_chunks` 64-bit chunks
//! (1..=5; IPv4 4-tuple 2, IPv6 4-tuple 5) takes `s_chunks` cycles, and a new tuple
//! is accepted in the cycle the previous one finishes, so IPv6 TCP hashes sustain
//! one per 5 cycles — inside the 8 beats of a minimum 64-byte frame on a 64-bit bus.
//!
//! Ports: `s_tuple` carries tuple byte 0 in bits 319:312 (zero-padded at the low
//! end), `key` key byte 0 in bits 319:312. `m_valid` pulses for one cycle with
//! `m_hash`.

use rust_hdl::prelude::*;

/// Toeplitz hash engine.
#[derive(LogicBlock, Default)]
pub struct RssHash {
    /// Clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset, active high: abandons a hash in progress.
    pub rst: Signal<In, Bit>,
    /// A tuple is offered.
    pub s_valid: Signal<In, Bit>,
    /// The engine takes the tuple this cycle when valid and ready.
    pub s_ready: Signal<Out, Bit>,
    /// The tuple, byte 0 in bits 319:312.
    pub s_tuple: Signal<In, Bits<320>>,
    /// Number of 64-bit chunks of the tuple to hash (1..=5).
    pub s_chunks: Signal<In, Bits<3>>,
    /// The 40-byte key, byte 0 in bits 319:312; sampled when a tuple is accepted.
    pub key: Signal<In, Bits<320>>,
    /// The hash is ready (one cycle).
    pub m_valid: Signal<Out, Bit>,
    /// The hash.
    pub m_hash: Signal<Out, Bits<32>>,
    tuple: DFF<Bits<320>>,
    key_window: DFF<Bits<320>>,
    remaining: DFF<Bits<3>>,
    acc: DFF<Bits<32>>,
    valid_out: DFF<Bit>,
    hash_out: DFF<Bits<32>>,
    step: Signal<Local, Bits<32>>,
    last: Signal<Local, Bit>,
}

impl Logic for RssHash {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clk, tuple, key_window, remaining, acc, valid_out, hash_out);
        // One 64-bit chunk: input bit j (from the top) selects the 32 key bits
        // that start j bits below the top of the key window.
        self.step.next = self.acc.q.val();
        for j in 0..64 {
            if self.tuple.q.val().get_bit(319 - j) {
                self.step.next = self.step.val() ^ self.key_window.q.val().get_bits::<32>(288 - j);
            }
        }
        self.last.next = self.remaining.q.val() == 1;
        self.valid_out.d.next = false;
        if self.remaining.q.val().any() {
            self.acc.d.next = self.step.val();
            self.tuple.d.next = self.tuple.q.val() << 64;
            self.key_window.d.next = self.key_window.q.val() << 64;
            self.remaining.d.next = self.remaining.q.val() - 1;
            if self.last.val() {
                self.valid_out.d.next = true;
                self.hash_out.d.next = self.step.val();
            }
        }
        self.s_ready.next = (!self.remaining.q.val().any()) | self.last.val();
        if self.s_valid.val() & self.s_ready.val() {
            self.tuple.d.next = self.s_tuple.val();
            self.key_window.d.next = self.key.val();
            self.remaining.d.next = self.s_chunks.val();
            self.acc.d.next = 0.into();
        }
        if self.rst.val() {
            self.remaining.d.next = 0.into();
            self.valid_out.d.next = false;
        }
        self.m_valid.next = self.valid_out.q.val();
        self.m_hash.next = self.hash_out.q.val();
    }
}
