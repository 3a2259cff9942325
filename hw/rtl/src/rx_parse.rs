//! `rx_parse` — first stage of the receive path: frame length and checks, and the
//! RSS tuple for `rss_hash`.
//!
//! # Function
//!
//! Frames from the MAC arrive on `s_axis_rx_*` (64-bit AXI-Stream; byte 0 of the
//! frame in `tdata[7:0]` of the first beat; Ethernet II without FCS; `tkeep` all
//! ones except on the `tlast` beat, where it covers the low bytes). Every beat is
//! passed through unchanged to `m_axis_*` (towards the frame FIFO), and for every
//! frame one metadata record leaves on `m_meta_*` after the frame's last beat:
//!
//! * `m_meta_len` — the frame's byte count (saturates at 0xFFFF);
//! * `m_meta_status` — [`STATUS_OK`], [`STATUS_RUNT`] (shorter than
//!   `MIN_FRAME_LEN`), [`STATUS_OVERSIZE`] (longer than `mtu`), [`STATUS_MAC_ERROR`]
//!   (`tuser` high on the `tlast` beat). Priority when several apply: MAC error,
//!   then runt, then oversize (only one code is reported);
//! * `m_meta_rss_type` — `oxnic_regs::rss_type`, see below;
//! * `m_meta_tuple`, `m_meta_chunks` — exactly `rss_hash`'s `s_tuple`/`s_chunks`:
//!   the tuple in network byte order (source address, destination address, then
//!   for TCP/UDP source port, destination port), tuple byte 0 in bits 319:312,
//!   zero below the tuple; `chunks` = ceil(bytes / 8): IPV4 1, TCP4/UDP4 2, IPV6 4,
//!   TCP6/UDP6 5. For `NONE` the tuple is all zero and `chunks` is 0.
//!
//! The record is formed for every frame, whatever its status (the rx engine drops
//! on status; this block never drops anything).
//!
//! # RSS type
//!
//! `rss_ctrl` holds `RSS_CTRL` (ENABLE, IPV4, TCP4, UDP4, IPV6, TCP6, UDP6 at the
//! positions `oxnic_regs::global::RSS_CTRL_*` give). With ENABLE clear the type is
//! `NONE`. Otherwise:
//!
//! * Ethertype 0x0800 with IP version 4 and IHL ≥ 5: TCP4 if the protocol is TCP
//!   (6), the packet is not a fragment and TCP4 is set; UDP4 likewise for UDP (17)
//!   and UDP4; else IPV4 if IPV4 is set; else NONE. A fragment is MF set or a
//!   nonzero fragment offset (ports only exist in the first fragment, so all
//!   fragments of a datagram hash the same: addresses only). The ports are found
//!   at IHL × 4 bytes after the IP header's start, so options are skipped.
//! * Ethertype 0x86DD with IP version 6: TCP6 if the next header is directly TCP
//!   and TCP6 is set; UDP6 likewise; else IPV6 if IPV6 is set; else NONE.
//!   Extension headers are not walked: any other next header hashes the addresses
//!   only.
//! * One VLAN tag (TPID 0x8100) is skipped: the ethertype is then the one after the
//!   tag and the IP header starts 4 bytes later. A second tag (or TPID 0x88A8) is
//!   not understood: NONE.
//! * Anything else (other ethertypes, a version nibble that does not match the
//!   ethertype, IHL < 5): NONE.
//! * Truncation: if the frame ends before the last byte the chosen type needs —
//!   the destination address for IPV4/IPV6 (IPv4 options need not be complete),
//!   the destination port for TCP/UDP — the type is NONE (never a fallback to the
//!   addresses). The IP length fields are not compared with the frame length
//!   (Ethernet padding makes frames longer than their packet; a frame shorter than
//!   its packet but holding the whole tuple is hashed).
//!
//! `mtu` and `rss_ctrl` are sampled with the frame's `tlast` beat.
//!
//! # How
//!
//! The 64-bit beat is cut into 32-bit words aligned to the IP header: every field
//! used starts at a frame offset ≡ 2 (mod 4) (IP header at 14 or 18, addresses and
//! the ports at multiples of 4 after it). Word `w` holds frame bytes `4w+2 ..=
//! 4w+5`; beat `b` completes words `2b-1` (two bytes kept from the previous beat
//! and two from this one) and `2b`. Each word is compared with its index relative
//! to the IP header and captured where it is needed; a count of the complete IP
//! words seen decides truncation. The last beat's handshake sets a finish stage
//! that, in the next cycle, forms the record from the captured words and writes it
//! into the metadata FIFO. Parsing never stalls the stream.
//!
//! # Timing and flow control
//!
//! * `m_axis_*` is a combinational pass-through of `s_axis_rx_*`;
//!   `s_axis_rx_tready = m_axis_tready` while the metadata FIFO has room (and not
//!   in `rst`): one beat per cycle, no bubbles.
//! * Metadata FIFO: [`META_DEPTH`] records in RAM (`m_meta_*` come straight from
//!   the RAM's read register). With the FIFO empty, a frame's record is valid in
//!   the third cycle after its `tlast` handshake; queued records pop one per cycle.
//! * When the FIFO could not take one more record (full, or one entry left and
//!   the finish stage about to write), the stream is held — every beat, not only
//!   last ones: `m_axis_tvalid` and `s_axis_rx_tready` low — until `m_meta_ready`
//!   frees an entry. A beat offered on `m_axis` is never withdrawn by this (room is
//!   reserved one record ahead, so the hold never starts while a beat waits).
//! * `rst` (synchronous, active high): empties the FIFO, forgets a frame in progress
//!   (the next beat is taken as a frame's first) and the record being formed.
//!
//! Ports: `clk`, `rst`; `s_axis_rx_{tdata[63:0], tkeep[7:0], tvalid, tready,
//! tlast, tuser}`; `m_axis_{tdata, tkeep, tvalid, tready, tlast, tuser}`;
//! `mtu[15:0]`, `rss_ctrl[6:0]`; `m_meta_{valid, ready, len[15:0], status[2:0],
//! rss_type[2:0], tuple[319:0], chunks[2:0]}`.

use oxnic_regs::{global, rss_type, Field, MIN_FRAME_LEN};
use rust_hdl::prelude::*;

/// `m_meta_status`: frame good.
pub const STATUS_OK: u64 = 0;
/// `m_meta_status`: shorter than `MIN_FRAME_LEN`.
pub const STATUS_RUNT: u64 = 1;
/// `m_meta_status`: longer than `mtu`.
pub const STATUS_OVERSIZE: u64 = 2;
/// `m_meta_status`: the MAC flagged the frame (`tuser` on the last beat).
pub const STATUS_MAC_ERROR: u64 = 3;
/// Metadata FIFO depth (records).
pub const META_DEPTH: usize = 8;

/// Receive parser: AXI-Stream pass-through plus one metadata record per frame.
#[derive(LogicBlock)]
pub struct RxParse {
    /// Clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset, active high.
    pub rst: Signal<In, Bit>,
    /// Frame data from the MAC, byte 0 in bits 7:0.
    pub s_axis_rx_tdata: Signal<In, Bits<64>>,
    /// Byte enables (all ones except on the last beat).
    pub s_axis_rx_tkeep: Signal<In, Bits<8>>,
    /// Beat valid.
    pub s_axis_rx_tvalid: Signal<In, Bit>,
    /// Beat taken when valid and ready.
    pub s_axis_rx_tready: Signal<Out, Bit>,
    /// Last beat of the frame.
    pub s_axis_rx_tlast: Signal<In, Bit>,
    /// MAC error, sampled on the last beat.
    pub s_axis_rx_tuser: Signal<In, Bit>,
    /// Frame data to the frame FIFO (pass-through).
    pub m_axis_tdata: Signal<Out, Bits<64>>,
    /// Byte enables (pass-through).
    pub m_axis_tkeep: Signal<Out, Bits<8>>,
    /// Beat valid.
    pub m_axis_tvalid: Signal<Out, Bit>,
    /// Downstream takes the beat.
    pub m_axis_tready: Signal<In, Bit>,
    /// Last beat (pass-through).
    pub m_axis_tlast: Signal<Out, Bit>,
    /// MAC error (pass-through).
    pub m_axis_tuser: Signal<Out, Bit>,
    /// Largest accepted frame length (MTU.BYTES); sampled on the last beat.
    pub mtu: Signal<In, Bits<16>>,
    /// RSS_CTRL; sampled on the last beat.
    pub rss_ctrl: Signal<In, Bits<7>>,
    /// A metadata record is offered.
    pub m_meta_valid: Signal<Out, Bit>,
    /// The record is taken when valid and ready.
    pub m_meta_ready: Signal<In, Bit>,
    /// Frame length in bytes (saturating at 0xFFFF).
    pub m_meta_len: Signal<Out, Bits<16>>,
    /// `STATUS_*`.
    pub m_meta_status: Signal<Out, Bits<3>>,
    /// `oxnic_regs::rss_type`.
    pub m_meta_rss_type: Signal<Out, Bits<3>>,
    /// Tuple for `rss_hash` (byte 0 in bits 319:312, zero-padded).
    pub m_meta_tuple: Signal<Out, Bits<320>>,
    /// Tuple length in 64-bit chunks (0 for NONE).
    pub m_meta_chunks: Signal<Out, Bits<3>>,

    // Parser state.
    beat: DFF<Bits<4>>,
    len: DFF<Bits<16>>,
    carry: DFF<Bits<16>>,
    vlan: DFF<Bit>,
    et4: DFF<Bit>,
    et6: DFF<Bit>,
    ip_words: DFF<Bits<5>>,
    ver_ihl: DFF<Bits<8>>,
    frag: DFF<Bits<16>>,
    proto: DFF<Bits<8>>,
    h0: DFF<Bits<32>>,
    h1: DFF<Bits<32>>,
    h2: DFF<Bits<32>>,
    h3: DFF<Bits<32>>,
    h4: DFF<Bits<32>>,
    h5: DFF<Bits<32>>,
    h6: DFF<Bits<32>>,
    h7: DFF<Bits<32>>,
    ports: DFF<Bits<32>>,
    // Finish stage.
    fin: DFF<Bit>,
    fin_tuser: DFF<Bit>,
    fin_mtu: DFF<Bits<16>>,
    fin_ctrl: DFF<Bits<7>>,
    // Metadata FIFO.
    info_ram: RAM<Bits<25>, 3>,
    tuple_ram: RAM<Bits<288>, 3>,
    count: DFF<Bits<4>>,
    wp: DFF<Bits<3>>,
    rp: DFF<Bits<3>>,
    rd_ok: DFF<Bit>,
    // Constants (from oxnic-regs).
    c_min_len: Constant<Bits<16>>,
    c_en: Constant<Bits<7>>,
    c_ipv4: Constant<Bits<7>>,
    c_tcp4: Constant<Bits<7>>,
    c_udp4: Constant<Bits<7>>,
    c_ipv6: Constant<Bits<7>>,
    c_tcp6: Constant<Bits<7>>,
    c_udp6: Constant<Bits<7>>,
    c_t_none: Constant<Bits<3>>,
    c_t_ipv4: Constant<Bits<3>>,
    c_t_tcp4: Constant<Bits<3>>,
    c_t_udp4: Constant<Bits<3>>,
    c_t_ipv6: Constant<Bits<3>>,
    c_t_tcp6: Constant<Bits<3>>,
    c_t_udp6: Constant<Bits<3>>,
    c_st_ok: Constant<Bits<3>>,
    c_st_runt: Constant<Bits<3>>,
    c_st_oversize: Constant<Bits<3>>,
    c_st_mac: Constant<Bits<3>>,
    // Locals.
    blocked: Signal<Local, Bit>,
    fire: Signal<Local, Bit>,
    wa: Signal<Local, Bits<32>>,
    wb: Signal<Local, Bits<32>>,
    ra: Signal<Local, Bits<5>>,
    rb: Signal<Local, Bits<5>>,
    port_r: Signal<Local, Bits<5>>,
    nbytes: Signal<Local, Bits<4>>,
    len_sum: Signal<Local, Bits<17>>,
    ihl: Signal<Local, Bits<5>>,
    is4: Signal<Local, Bit>,
    is6: Signal<Local, Bit>,
    frag4: Signal<Local, Bit>,
    rtype: Signal<Local, Bits<3>>,
    chunks: Signal<Local, Bits<3>>,
    need: Signal<Local, Bits<5>>,
    status: Signal<Local, Bits<3>>,
    tuple: Signal<Local, Bits<288>>,
    meta_valid: Signal<Local, Bit>,
    pop: Signal<Local, Bit>,
    rd_addr: Signal<Local, Bits<3>>,
}

fn mask(f: Field) -> Constant<Bits<7>> {
    assert!(f.width == 1 && f.lsb < 7);
    Constant::new((1u64 << f.lsb).to_bits())
}

fn c3(v: u64) -> Constant<Bits<3>> {
    Constant::new(v.to_bits())
}

impl Default for RxParse {
    fn default() -> Self {
        Self {
            clk: Default::default(),
            rst: Default::default(),
            s_axis_rx_tdata: Default::default(),
            s_axis_rx_tkeep: Default::default(),
            s_axis_rx_tvalid: Default::default(),
            s_axis_rx_tready: Default::default(),
            s_axis_rx_tlast: Default::default(),
            s_axis_rx_tuser: Default::default(),
            m_axis_tdata: Default::default(),
            m_axis_tkeep: Default::default(),
            m_axis_tvalid: Default::default(),
            m_axis_tready: Default::default(),
            m_axis_tlast: Default::default(),
            m_axis_tuser: Default::default(),
            mtu: Default::default(),
            rss_ctrl: Default::default(),
            m_meta_valid: Default::default(),
            m_meta_ready: Default::default(),
            m_meta_len: Default::default(),
            m_meta_status: Default::default(),
            m_meta_rss_type: Default::default(),
            m_meta_tuple: Default::default(),
            m_meta_chunks: Default::default(),
            beat: Default::default(),
            len: Default::default(),
            carry: Default::default(),
            vlan: Default::default(),
            et4: Default::default(),
            et6: Default::default(),
            ip_words: Default::default(),
            ver_ihl: Default::default(),
            frag: Default::default(),
            proto: Default::default(),
            h0: Default::default(),
            h1: Default::default(),
            h2: Default::default(),
            h3: Default::default(),
            h4: Default::default(),
            h5: Default::default(),
            h6: Default::default(),
            h7: Default::default(),
            ports: Default::default(),
            fin: Default::default(),
            fin_tuser: Default::default(),
            fin_mtu: Default::default(),
            fin_ctrl: Default::default(),
            info_ram: Default::default(),
            tuple_ram: Default::default(),
            count: Default::default(),
            wp: Default::default(),
            rp: Default::default(),
            rd_ok: Default::default(),
            c_min_len: Constant::new((MIN_FRAME_LEN as u64).to_bits()),
            c_en: mask(global::RSS_CTRL_ENABLE),
            c_ipv4: mask(global::RSS_CTRL_IPV4),
            c_tcp4: mask(global::RSS_CTRL_TCP4),
            c_udp4: mask(global::RSS_CTRL_UDP4),
            c_ipv6: mask(global::RSS_CTRL_IPV6),
            c_tcp6: mask(global::RSS_CTRL_TCP6),
            c_udp6: mask(global::RSS_CTRL_UDP6),
            c_t_none: c3(rss_type::NONE as u64),
            c_t_ipv4: c3(rss_type::IPV4 as u64),
            c_t_tcp4: c3(rss_type::TCP4 as u64),
            c_t_udp4: c3(rss_type::UDP4 as u64),
            c_t_ipv6: c3(rss_type::IPV6 as u64),
            c_t_tcp6: c3(rss_type::TCP6 as u64),
            c_t_udp6: c3(rss_type::UDP6 as u64),
            c_st_ok: c3(STATUS_OK),
            c_st_runt: c3(STATUS_RUNT),
            c_st_oversize: c3(STATUS_OVERSIZE),
            c_st_mac: c3(STATUS_MAC_ERROR),
            blocked: Default::default(),
            fire: Default::default(),
            wa: Default::default(),
            wb: Default::default(),
            ra: Default::default(),
            rb: Default::default(),
            port_r: Default::default(),
            nbytes: Default::default(),
            len_sum: Default::default(),
            ihl: Default::default(),
            is4: Default::default(),
            is6: Default::default(),
            frag4: Default::default(),
            rtype: Default::default(),
            chunks: Default::default(),
            need: Default::default(),
            status: Default::default(),
            tuple: Default::default(),
            meta_valid: Default::default(),
            pop: Default::default(),
            rd_addr: Default::default(),
        }
    }
}

impl Logic for RxParse {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clk, beat, len, carry, vlan, et4, et6, ip_words, ver_ihl, frag, proto, h0, h1,
            h2, h3, h4, h5, h6, h7, ports, fin, fin_tuser, fin_mtu, fin_ctrl, count, wp, rp, rd_ok
        );
        self.info_ram.read_clock.next = self.clk.val();
        self.info_ram.write_clock.next = self.clk.val();
        self.tuple_ram.read_clock.next = self.clk.val();
        self.tuple_ram.write_clock.next = self.clk.val();

        // ---- Stream pass-through. Held while the FIFO could not take the record
        // of a frame ending now (the finish stage may be about to write one).
        self.blocked.next = (self.count.q.val() == 8)
            | (self.fin.q.val() & (self.count.q.val() == 7))
            | self.rst.val();
        self.m_axis_tdata.next = self.s_axis_rx_tdata.val();
        self.m_axis_tkeep.next = self.s_axis_rx_tkeep.val();
        self.m_axis_tlast.next = self.s_axis_rx_tlast.val();
        self.m_axis_tuser.next = self.s_axis_rx_tuser.val();
        self.m_axis_tvalid.next = self.s_axis_rx_tvalid.val() & (!self.blocked.val());
        self.s_axis_rx_tready.next = self.m_axis_tready.val() & (!self.blocked.val());
        self.fire.next = self.s_axis_rx_tvalid.val() & self.s_axis_rx_tready.val();

        // ---- Words of this beat, network byte order (first byte in bits 31:24).
        // wa = word 2b-1: bytes 6, 7 of the previous beat, bytes 0, 1 of this one.
        // wb = word 2b: bytes 2..=5 of this beat.
        self.wa.next = (bit_cast::<32, 16>(self.carry.q.val()) << 16)
            | (bit_cast::<32, 8>(self.s_axis_rx_tdata.val().get_bits::<8>(0)) << 8)
            | bit_cast::<32, 8>(self.s_axis_rx_tdata.val().get_bits::<8>(8));
        self.wb.next = (bit_cast::<32, 8>(self.s_axis_rx_tdata.val().get_bits::<8>(16)) << 24)
            | (bit_cast::<32, 8>(self.s_axis_rx_tdata.val().get_bits::<8>(24)) << 16)
            | (bit_cast::<32, 8>(self.s_axis_rx_tdata.val().get_bits::<8>(32)) << 8)
            | bit_cast::<32, 8>(self.s_axis_rx_tdata.val().get_bits::<8>(40));
        // Their indices relative to the IP header (word 3, or 4 behind a VLAN tag);
        // words before it, or past 15, have bit 4 set.
        self.rb.next = bit_cast::<5, 4>(self.beat.q.val()) << 1;
        if self.vlan.q.val() {
            self.rb.next = self.rb.val() - 4;
        } else {
            self.rb.next = self.rb.val() - 3;
        }
        self.ra.next = self.rb.val() - 1;
        self.ihl.next = bit_cast::<5, 4>(self.ver_ihl.q.val().get_bits::<4>(0));
        if self.et6.q.val() {
            self.port_r.next = 10.into();
        } else {
            self.port_r.next = self.ihl.val();
        }

        // ---- Length (bytes of this beat: keep is contiguous from bit 0).
        self.nbytes.next = 0.into();
        if self.s_axis_rx_tkeep.val().get_bit(0) {
            self.nbytes.next = 1.into();
        }
        if self.s_axis_rx_tkeep.val().get_bit(1) {
            self.nbytes.next = 2.into();
        }
        if self.s_axis_rx_tkeep.val().get_bit(2) {
            self.nbytes.next = 3.into();
        }
        if self.s_axis_rx_tkeep.val().get_bit(3) {
            self.nbytes.next = 4.into();
        }
        if self.s_axis_rx_tkeep.val().get_bit(4) {
            self.nbytes.next = 5.into();
        }
        if self.s_axis_rx_tkeep.val().get_bit(5) {
            self.nbytes.next = 6.into();
        }
        if self.s_axis_rx_tkeep.val().get_bit(6) {
            self.nbytes.next = 7.into();
        }
        if self.s_axis_rx_tkeep.val().get_bit(7) {
            self.nbytes.next = 8.into();
        }
        if self.beat.q.val().any() {
            self.len_sum.next =
                bit_cast::<17, 16>(self.len.q.val()) + bit_cast::<17, 4>(self.nbytes.val());
        } else {
            self.len_sum.next = bit_cast::<17, 4>(self.nbytes.val());
        }

        // ---- Per-beat parsing.
        if self.fire.val() {
            if self.len_sum.val().get_bit(16) {
                self.len.d.next = 0xFFFF.into();
            } else {
                self.len.d.next = self.len_sum.val().get_bits::<16>(0);
            }
            self.carry.d.next = (bit_cast::<16, 8>(self.s_axis_rx_tdata.val().get_bits::<8>(48))
                << 8)
                | bit_cast::<16, 8>(self.s_axis_rx_tdata.val().get_bits::<8>(56));
            if self.s_axis_rx_tlast.val() {
                self.beat.d.next = 0.into();
            } else if self.beat.q.val() != 15 {
                self.beat.d.next = self.beat.q.val() + 1;
            }
            // Ethertype: word 2 (bytes 12, 13), or word 3 (bytes 16, 17) after a tag.
            if self.beat.q.val() == 1 {
                self.vlan.d.next = self.wb.val().get_bits::<16>(0) == 0x8100;
                self.et4.d.next = self.wb.val().get_bits::<16>(0) == 0x0800;
                self.et6.d.next = self.wb.val().get_bits::<16>(0) == 0x86DD;
            }
            if (self.beat.q.val() == 2) & self.vlan.q.val() {
                self.et4.d.next = self.wa.val().get_bits::<16>(0) == 0x0800;
                self.et6.d.next = self.wa.val().get_bits::<16>(0) == 0x86DD;
            }
            // Complete IP words so far (a word is complete when its last byte is
            // kept: tkeep bit 1 for wa, bit 5 for wb).
            if !self.beat.q.val().any() {
                self.vlan.d.next = false;
                self.et4.d.next = false;
                self.et6.d.next = false;
                self.ip_words.d.next = 0.into();
            } else if self.s_axis_rx_tkeep.val().get_bit(5) & (!self.rb.val().get_bit(4)) {
                self.ip_words.d.next = self.rb.val() + 1;
            } else if self.s_axis_rx_tkeep.val().get_bit(1) & (!self.ra.val().get_bit(4)) {
                self.ip_words.d.next = self.ra.val() + 1;
            }
            // Captures, by IP-relative word index: 0 version/IHL; 1 IPv4 flags and
            // fragment offset, IPv6 next header; 2 IPv4 protocol; 2..=9 the words
            // holding the addresses (IPv4: 3, 4; IPv6: 2..=9); ports at IHL (IPv4)
            // or 10 (IPv6).
            if self.ra.val() == 0 {
                self.ver_ihl.d.next = self.wa.val().get_bits::<8>(24);
            }
            if self.rb.val() == 0 {
                self.ver_ihl.d.next = self.wb.val().get_bits::<8>(24);
            }
            if self.ra.val() == 1 {
                self.frag.d.next = self.wa.val().get_bits::<16>(0);
            }
            if self.rb.val() == 1 {
                self.frag.d.next = self.wb.val().get_bits::<16>(0);
            }
            if self.ra.val() == 2 {
                self.proto.d.next = self.wa.val().get_bits::<8>(16);
                self.h0.d.next = self.wa.val();
            }
            if self.rb.val() == 2 {
                self.proto.d.next = self.wb.val().get_bits::<8>(16);
                self.h0.d.next = self.wb.val();
            }
            if self.ra.val() == 3 {
                self.h1.d.next = self.wa.val();
            }
            if self.rb.val() == 3 {
                self.h1.d.next = self.wb.val();
            }
            if self.ra.val() == 4 {
                self.h2.d.next = self.wa.val();
            }
            if self.rb.val() == 4 {
                self.h2.d.next = self.wb.val();
            }
            if self.ra.val() == 5 {
                self.h3.d.next = self.wa.val();
            }
            if self.rb.val() == 5 {
                self.h3.d.next = self.wb.val();
            }
            if self.ra.val() == 6 {
                self.h4.d.next = self.wa.val();
            }
            if self.rb.val() == 6 {
                self.h4.d.next = self.wb.val();
            }
            if self.ra.val() == 7 {
                self.h5.d.next = self.wa.val();
            }
            if self.rb.val() == 7 {
                self.h5.d.next = self.wb.val();
            }
            if self.ra.val() == 8 {
                self.h6.d.next = self.wa.val();
            }
            if self.rb.val() == 8 {
                self.h6.d.next = self.wb.val();
            }
            if self.ra.val() == 9 {
                self.h7.d.next = self.wa.val();
            }
            if self.rb.val() == 9 {
                self.h7.d.next = self.wb.val();
            }
            if self.ra.val() == self.port_r.val() {
                self.ports.d.next = self.wa.val();
            }
            if self.rb.val() == self.port_r.val() {
                self.ports.d.next = self.wb.val();
            }
        }

        // ---- Finish stage: the cycle after the last beat, from the registers.
        self.fin.d.next = self.fire.val() & self.s_axis_rx_tlast.val();
        if self.fire.val() & self.s_axis_rx_tlast.val() {
            self.fin_tuser.d.next = self.s_axis_rx_tuser.val();
            self.fin_mtu.d.next = self.mtu.val();
            self.fin_ctrl.d.next = self.rss_ctrl.val();
        }
        self.is4.next = false;
        self.is6.next = false;
        self.frag4.next = false;
        self.rtype.next = self.c_t_none.val();
        self.chunks.next = 0.into();
        self.need.next = 0.into();
        self.status.next = self.c_st_ok.val();
        self.tuple.next = 0.into();
        if self.fin.q.val() {
            if self.len.q.val() > self.fin_mtu.q.val() {
                self.status.next = self.c_st_oversize.val();
            }
            if self.len.q.val() < self.c_min_len.val() {
                self.status.next = self.c_st_runt.val();
            }
            if self.fin_tuser.q.val() {
                self.status.next = self.c_st_mac.val();
            }
            self.is4.next = self.et4.q.val()
                & (self.ver_ihl.q.val().get_bits::<4>(4) == 4)
                & (self.ihl.val() >= 5);
            self.is6.next = self.et6.q.val() & (self.ver_ihl.q.val().get_bits::<4>(4) == 6);
            self.frag4.next =
                self.frag.q.val().get_bit(13) | self.frag.q.val().get_bits::<13>(0).any();
            if (self.fin_ctrl.q.val() & self.c_en.val()).any() {
                if self.is4.val() {
                    if (!self.frag4.val())
                        & (self.proto.q.val() == 6)
                        & (self.fin_ctrl.q.val() & self.c_tcp4.val()).any()
                    {
                        self.rtype.next = self.c_t_tcp4.val();
                        self.chunks.next = 2.into();
                        self.need.next = self.ihl.val() + 1;
                    } else if (!self.frag4.val())
                        & (self.proto.q.val() == 17)
                        & (self.fin_ctrl.q.val() & self.c_udp4.val()).any()
                    {
                        self.rtype.next = self.c_t_udp4.val();
                        self.chunks.next = 2.into();
                        self.need.next = self.ihl.val() + 1;
                    } else if (self.fin_ctrl.q.val() & self.c_ipv4.val()).any() {
                        self.rtype.next = self.c_t_ipv4.val();
                        self.chunks.next = 1.into();
                        self.need.next = 5.into();
                    }
                } else if self.is6.val() {
                    if (self.frag.q.val().get_bits::<8>(8) == 6)
                        & (self.fin_ctrl.q.val() & self.c_tcp6.val()).any()
                    {
                        self.rtype.next = self.c_t_tcp6.val();
                        self.chunks.next = 5.into();
                        self.need.next = 11.into();
                    } else if (self.frag.q.val().get_bits::<8>(8) == 17)
                        & (self.fin_ctrl.q.val() & self.c_udp6.val()).any()
                    {
                        self.rtype.next = self.c_t_udp6.val();
                        self.chunks.next = 5.into();
                        self.need.next = 11.into();
                    } else if (self.fin_ctrl.q.val() & self.c_ipv6.val()).any() {
                        self.rtype.next = self.c_t_ipv6.val();
                        self.chunks.next = 4.into();
                        self.need.next = 10.into();
                    }
                }
            }
            // Truncated before the tuple's last byte: not hashable.
            if self.ip_words.q.val() < self.need.val() {
                self.rtype.next = self.c_t_none.val();
                self.chunks.next = 0.into();
            }
            if self.chunks.val().any() {
                if self.is4.val() {
                    self.tuple.next = (bit_cast::<288, 32>(self.h1.q.val()) << 256)
                        | (bit_cast::<288, 32>(self.h2.q.val()) << 224);
                    if self.chunks.val() == 2 {
                        self.tuple.next =
                            self.tuple.val() | (bit_cast::<288, 32>(self.ports.q.val()) << 192);
                    }
                } else {
                    self.tuple.next = (bit_cast::<288, 32>(self.h0.q.val()) << 256)
                        | (bit_cast::<288, 32>(self.h1.q.val()) << 224)
                        | (bit_cast::<288, 32>(self.h2.q.val()) << 192)
                        | (bit_cast::<288, 32>(self.h3.q.val()) << 160)
                        | (bit_cast::<288, 32>(self.h4.q.val()) << 128)
                        | (bit_cast::<288, 32>(self.h5.q.val()) << 96)
                        | (bit_cast::<288, 32>(self.h6.q.val()) << 64)
                        | (bit_cast::<288, 32>(self.h7.q.val()) << 32);
                    if self.chunks.val() == 5 {
                        self.tuple.next =
                            self.tuple.val() | bit_cast::<288, 32>(self.ports.q.val());
                    }
                }
            }
        }

        // ---- Metadata FIFO: RAM with a registered read. The read address always
        // points at the head (or the next head when popping); a write to that
        // address in the same cycle leaves the read register stale for a cycle
        // (rd_ok low).
        self.info_ram.write_enable.next = self.fin.q.val();
        self.info_ram.write_address.next = self.wp.q.val();
        self.info_ram.write_data.next = bit_cast::<25, 16>(self.len.q.val())
            | (bit_cast::<25, 3>(self.status.val()) << 16)
            | (bit_cast::<25, 3>(self.rtype.val()) << 19)
            | (bit_cast::<25, 3>(self.chunks.val()) << 22);
        self.tuple_ram.write_enable.next = self.fin.q.val();
        self.tuple_ram.write_address.next = self.wp.q.val();
        self.tuple_ram.write_data.next = self.tuple.val();
        self.meta_valid.next = self.count.q.val().any() & self.rd_ok.q.val();
        self.pop.next = self.meta_valid.val() & self.m_meta_ready.val();
        self.rd_addr.next = self.rp.q.val();
        if self.pop.val() {
            self.rd_addr.next = self.rp.q.val() + 1;
            self.rp.d.next = self.rp.q.val() + 1;
        }
        self.info_ram.read_address.next = self.rd_addr.val();
        self.tuple_ram.read_address.next = self.rd_addr.val();
        self.rd_ok.d.next = !(self.fin.q.val() & (self.wp.q.val() == self.rd_addr.val()));
        if self.fin.q.val() {
            self.wp.d.next = self.wp.q.val() + 1;
        }
        if self.fin.q.val() & (!self.pop.val()) {
            self.count.d.next = self.count.q.val() + 1;
        } else if self.pop.val() & (!self.fin.q.val()) {
            self.count.d.next = self.count.q.val() - 1;
        }
        self.m_meta_valid.next = self.meta_valid.val();
        self.m_meta_len.next = self.info_ram.read_data.val().get_bits::<16>(0);
        self.m_meta_status.next = self.info_ram.read_data.val().get_bits::<3>(16);
        self.m_meta_rss_type.next = self.info_ram.read_data.val().get_bits::<3>(19);
        self.m_meta_chunks.next = self.info_ram.read_data.val().get_bits::<3>(22);
        self.m_meta_tuple.next = bit_cast::<320, 288>(self.tuple_ram.read_data.val()) << 32;

        if self.rst.val() {
            self.beat.d.next = 0.into();
            self.fin.d.next = false;
            self.count.d.next = 0.into();
            self.wp.d.next = 0.into();
            self.rp.d.next = 0.into();
            self.rd_ok.d.next = false;
        }
    }
}
