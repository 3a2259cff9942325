"""cocotb bench for ``rx_parse`` (hw/rtl/src/rx_parse.rs): receive parser.

Frames (built with ``struct``: Ethernet II, optional VLAN tag, IPv4 with options
and fragments, IPv6 with and without extension headers, TCP/UDP/other, non-IP,
truncated, runts, oversize, MAC errors) go in through cocotbext-axi's
``AxiStreamSource`` and come out of ``AxiStreamSink``, both with random pauses;
``m_meta_ready`` is random too. Checks:

* every output beat equals its input beat (data, keep, last, tuser), and each
  cycle's input and output handshakes coincide (pass-through);
* every metadata record equals the Python reference parser below (written from
  the block's documented rules, byte by byte over the frame);
* the tuple, hashed with the shared Toeplitz reference (``oxnic_tb.toeplitz``),
  gives the reference tuple's hash — and, for frames built from Microsoft's RSS
  verification suite, the published hash;
* a full metadata FIFO holds the stream (nothing lost), and back-to-back
  minimum-size frames pass one beat per cycle while ``m_meta_ready`` is low for
  stretches the FIFO absorbs.

Run: ``.venv/bin/pytest tb/rx_parse`` (``SEED=n`` replays, ``WAVES=1`` records FST).
"""

import ipaddress
import random
import struct
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

import oxnic_tb
from oxnic_tb import regs
from oxnic_tb.toeplitz import MS_KEY, MS_VECTORS, toeplitz

# m_meta_status codes (rx_parse.rs STATUS_*).
STATUS_OK, STATUS_RUNT, STATUS_OVERSIZE, STATUS_MAC_ERROR = 0, 1, 2, 3

CTRL = {
    name: getattr(regs, f"GLOBAL_RSS_CTRL_{name}")
    for name in ("ENABLE", "IPV4", "TCP4", "UDP4", "IPV6", "TCP6", "UDP6")
}
CTRL_ALL = sum(f.mask for f in CTRL.values())


def ctrl_without(*names):
    return CTRL_ALL & ~sum(CTRL[n].mask for n in names)


# ---------------------------------------------------------------------------
# Reference parser.


def reference_rss(f: bytes, ctrl: int):
    """(rss_type, tuple bytes) of frame ``f`` under RSS_CTRL ``ctrl``."""
    none = (regs.RSS_TYPE_NONE, b"")
    on = lambda name: CTRL[name].get(ctrl) == 1  # noqa: E731
    if not on("ENABLE") or len(f) < 14:
        return none
    ethertype = struct.unpack_from("!H", f, 12)[0]
    ip = 14
    if ethertype == 0x8100:
        if len(f) < 18:
            return none
        ethertype = struct.unpack_from("!H", f, 16)[0]
        ip = 18
    if ethertype == 0x0800:
        if len(f) < ip + 20:
            return none
        ver_ihl, _tos, _total, _ident, flags_frag, _ttl, proto, _csum = struct.unpack_from("!BBHHHBBH", f, ip)
        version, ihl = ver_ihl >> 4, ver_ihl & 15
        if version != 4 or ihl < 5:
            return none
        fragment = flags_frag & 0x3FFF != 0
        addrs = f[ip + 12 : ip + 20]
        l4 = ip + 4 * ihl
        if not fragment and proto == 6 and on("TCP4"):
            t = regs.RSS_TYPE_TCP4
        elif not fragment and proto == 17 and on("UDP4"):
            t = regs.RSS_TYPE_UDP4
        elif on("IPV4"):
            return regs.RSS_TYPE_IPV4, addrs
        else:
            return none
    elif ethertype == 0x86DD:
        if len(f) < ip + 40:
            return none
        if f[ip] >> 4 != 6:
            return none
        next_header = f[ip + 6]
        addrs = f[ip + 8 : ip + 40]
        l4 = ip + 40
        if next_header == 6 and on("TCP6"):
            t = regs.RSS_TYPE_TCP6
        elif next_header == 17 and on("UDP6"):
            t = regs.RSS_TYPE_UDP6
        elif on("IPV6"):
            return regs.RSS_TYPE_IPV6, addrs
        else:
            return none
    else:
        return none
    if len(f) < l4 + 4:
        return none
    return t, addrs + f[l4 : l4 + 4]


def reference(fr):
    """The expected record: (len, status, rss_type, 40-byte tuple, chunks)."""
    n = min(len(fr.data), 0xFFFF)
    if fr.tuser:
        status = STATUS_MAC_ERROR
    elif n < regs.MIN_FRAME_LEN:
        status = STATUS_RUNT
    elif n > fr.mtu:
        status = STATUS_OVERSIZE
    else:
        status = STATUS_OK
    t, tup = reference_rss(fr.data, fr.ctrl)
    return (n, status, t, tup.ljust(40, b"\0"), (len(tup) + 7) // 8)


# ---------------------------------------------------------------------------
# Frames.


class Frame:
    def __init__(self, data, ctrl=CTRL_ALL, mtu=1514, tuser=0, early_tuser=0):
        self.data, self.ctrl, self.mtu = bytes(data), ctrl, mtu
        self.tuser, self.early_tuser = tuser, early_tuser

    def beats(self):
        return (len(self.data) + 7) // 8

    def axis(self):
        """The AxiStreamFrame: tuser per byte, so the last beat carries ``tuser``
        and the others ``early_tuser`` (which the block must ignore)."""
        n = len(self.data)
        last = (self.beats() - 1) * 8
        user = [self.early_tuser if i < last else self.tuser for i in range(n)]
        return AxiStreamFrame(self.data, tuser=user)


MAC = bytes.fromhex("020000000001020000000002")


def eth(ethertype, tag=None):
    h = MAC
    if tag is not None:
        h += struct.pack("!HH", 0x8100, tag)
    return h + struct.pack("!H", ethertype)


def ipv4(src, dst, proto, payload=b"", ihl=5, flags_frag=0, version=4, ident=0x1234):
    options = bytes(range(0xA0, 0xA0 + 4 * max(ihl - 5, 0)))
    total = 4 * max(ihl, 5) + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", version << 4 | ihl, 0, total & 0xFFFF, ident, flags_frag, 64, proto, 0,
                    ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    return h + options + payload


def ipv6(src, dst, next_header, payload=b"", version=6):
    h = struct.pack("!IHBB16s16s", version << 28, len(payload), next_header, 64,
                    ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed)
    return h + payload


def tcp(sport, dport, rng=None):
    seq = rng.randrange(1 << 32) if rng else 1
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x18, 8192, 0, 0)


def udp(sport, dport, n=0):
    return struct.pack("!HHHH", sport, dport, 8 + n, 0) + bytes(n)


def pad(b):
    return b.ljust(regs.MIN_FRAME_LEN, b"\0")


def rand_addr(rng, v6):
    if v6:
        return str(ipaddress.IPv6Address(rng.randrange(1 << 128)))
    return str(ipaddress.IPv4Address(rng.randrange(1 << 32)))


def l4(rng, proto):
    if proto == 6:
        return tcp(rng.randrange(65536), rng.randrange(65536), rng)
    if proto == 17:
        return udp(rng.randrange(65536), rng.randrange(65536), rng.randrange(16))
    return rng.randbytes(rng.randrange(24))


def random_frame(rng):
    """A random frame, with its random mtu and RSS_CTRL; ``ends`` lists where the
    tuple's address part and ports end, to cut frames right around them."""
    tag = rng.randrange(4096) if rng.random() < 0.25 else None
    kind = rng.randrange(20)
    ends = []
    if kind < 8 or kind in (16, 17):
        proto = rng.choice([6, 17, 6, 17, 1, 47, rng.randrange(256)])
        ihl = rng.randrange(6, 16) if rng.random() < 0.35 else (rng.randrange(5) if rng.random() < 0.03 else 5)
        flags_frag = rng.choice([0, 0, 0, 0, 0, 0x4000, 0x8000, 0x2000, rng.randrange(1, 0x2000),
                                 0x2000 | rng.randrange(1, 0x2000)])
        version = 6 if rng.random() < 0.04 else 4
        l3 = ipv4(rand_addr(rng, False), rand_addr(rng, False), proto, l4(rng, proto), ihl, flags_frag, version,
                  rng.randrange(65536))
        ends = [20, 4 * ihl + 4]
        ethertype = {16: 0x8100, 17: 0x88A8}.get(kind, 0x0800)  # 16/17: tags not understood
    elif kind < 15:
        nh = rng.choice([6, 17, 6, 17, 0, 43, 44, 58, 59, rng.randrange(256)])
        version = 4 if rng.random() < 0.04 else 6
        l3 = ipv6(rand_addr(rng, True), rand_addr(rng, True), nh, l4(rng, nh), version)
        ends = [40, 44]
        ethertype = 0x86DD
    elif kind == 15:
        l3, ethertype = rng.randbytes(28), 0x0806  # ARP
    elif kind == 18:
        l3, ethertype = rng.randbytes(40), rng.randrange(65536)
    else:
        l3, ethertype = rng.randbytes(rng.randrange(8)), 0x0800  # header cut short
    head = eth(ethertype, tag)
    data = head + l3 + rng.randbytes(rng.randrange(100, 300) if rng.random() < 0.1 else rng.randrange(40))
    mode = rng.randrange(10)
    if mode == 0:
        data = data[: rng.randrange(1, len(data) + 1)]
    elif mode in (1, 2) and ends:
        end = len(head) + rng.choice(ends) + rng.randrange(-3, 4)
        data = data[: max(end, 1)]
    elif mode == 3:
        pass  # unpadded: may be a runt
    else:
        data = pad(data)
    mtu = rng.randrange(regs.MIN_FRAME_LEN + 4) if rng.random() < 0.05 else rng.randrange(60, 400)
    ctrl = rng.randrange(128)
    if rng.random() < 0.5:
        ctrl = CTRL_ALL
    if rng.random() < 0.1:
        ctrl &= ~CTRL["ENABLE"].mask
    return Frame(data, ctrl, mtu, int(rng.random() < 0.08), int(rng.random() < 0.2))


# ---------------------------------------------------------------------------
# Bench.


class TB:
    def __init__(self, dut):
        self.dut = dut
        cocotb.start_soon(Clock(dut.clk, 4, units="ns").start())
        dut.rst.value = 0
        dut.mtu.value = 1514
        dut.rss_ctrl.value = CTRL_ALL
        dut.m_meta_ready.value = 0
        self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis_rx"), dut.clk, dut.rst)
        self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst)

    async def reset(self):
        self.dut.rst.value = 1
        for _ in range(2):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    async def run(self, frames, rng, src_idle=0.0, sink_idle=0.0, meta_ready=lambda cycle: True):
        """Sends ``frames``; returns (records, output frames, cycles, stall cycles).

        ``mtu``/``rss_ctrl`` follow the frame being sent: the block samples them
        with the last beat, so frame k's values are applied after the clock edge
        that took frame k-1's last beat.
        """
        dut = self.dut
        if src_idle:
            self.source.set_pause_generator(iter(lambda: rng.random() < src_idle, None))
        else:
            self.source.clear_pause_generator()
        if sink_idle:
            self.sink.set_pause_generator(iter(lambda: rng.random() < sink_idle, None))
        else:
            self.sink.clear_pause_generator()
        for fr in frames:
            self.source.send_nowait(fr.axis())
        records, sent, cycles, stalls = [], 0, 0, 0
        limit = 40 * sum(fr.beats() for fr in frames) + 1000
        if frames:
            dut.mtu.value, dut.rss_ctrl.value = frames[0].mtu, frames[0].ctrl
        while len(records) < len(frames) or self.sink.count() < len(frames):
            cycles += 1
            assert cycles < limit, f"stalled: {len(records)} records, {self.sink.count()} frames out of {len(frames)}"
            dut.m_meta_ready.value = int(meta_ready(cycles))
            await FallingEdge(dut.clk)
            s_hs = int(dut.s_axis_rx_tvalid.value) and int(dut.s_axis_rx_tready.value)
            m_hs = int(dut.m_axis_tvalid.value) and int(dut.m_axis_tready.value)
            assert s_hs == m_hs, f"cycle {cycles}: input handshake {s_hs}, output handshake {m_hs}"
            if int(dut.s_axis_rx_tvalid.value) and int(dut.m_axis_tready.value) and not s_hs:
                stalls += 1
            last_in = s_hs and int(dut.s_axis_rx_tlast.value)
            if int(dut.m_meta_valid.value) and int(dut.m_meta_ready.value):
                records.append((
                    int(dut.m_meta_len.value),
                    int(dut.m_meta_status.value),
                    int(dut.m_meta_rss_type.value),
                    int(dut.m_meta_tuple.value).to_bytes(40, "big"),
                    int(dut.m_meta_chunks.value),
                ))
            await RisingEdge(dut.clk)
            if last_in:
                sent += 1
                if sent < len(frames):
                    dut.mtu.value, dut.rss_ctrl.value = frames[sent].mtu, frames[sent].ctrl
        dut.m_meta_ready.value = 0
        out = [self.sink.recv_nowait(compact=False) for _ in range(len(frames))]
        return records, out, cycles, stalls


def check(frames, records, out, keys):
    """Output beats equal input beats; records equal the reference; tuple hashes
    equal the reference tuple's hashes under every key in ``keys``."""
    assert len(out) == len(frames) and len(records) == len(frames)
    for i, (fr, got, rec) in enumerate(zip(frames, out, records)):
        nb = fr.beats()
        data = fr.data.ljust(8 * nb, b"\0")
        keep = [1] * len(fr.data) + [0] * (8 * nb - len(fr.data))
        user = [fr.early_tuser] * (8 * (nb - 1)) + [fr.tuser] * 8
        assert bytes(got.tdata) == data, f"frame {i}: output data differs"
        assert list(got.tkeep) == keep, f"frame {i}: output tkeep differs"
        assert list(got.tuser) == user, f"frame {i}: output tuser differs"
        want = reference(fr)
        assert rec == want, (
            f"frame {i} ({len(fr.data)} bytes, mtu {fr.mtu}, ctrl {fr.ctrl:#04x}, tuser {fr.tuser}): "
            f"record {rec} != reference {want}\nframe {fr.data.hex()}"
        )
        _, _, _, tup, chunks = rec
        ref_tuple = reference_rss(fr.data, fr.ctrl)[1]
        for key in keys:
            assert toeplitz(key, tup[: 8 * chunks]) == toeplitz(key, ref_tuple), f"frame {i}: hash differs"


def summary(frames, records):
    status = [0] * 4
    types = [0] * 7
    for r in records:
        status[r[1]] += 1
        types[r[2]] += 1
    return status, types


@cocotb.test()
async def microsoft_vectors_end_to_end(dut):
    """Frames carrying the Microsoft suite's addresses and ports: the parsed tuple
    hashes to the published 4-tuple value (TCP, UDP; with options and a VLAN tag)
    and 2-tuple value (TCP4/TCP6 off, or an IPv4 fragment)."""
    tb = TB(dut)
    await tb.reset()
    frames, want = [], []
    for n, (src, dst, sp, dp, h2, h4) in enumerate(MS_VECTORS):
        v6 = ":" in src
        for proto in (6, 17):
            ports = tcp(sp, dp) if proto == 6 else udp(sp, dp, 4)
            tag = 100 + n if proto == 17 else None
            if v6:
                l3 = ipv6(src, dst, proto, ports)
            else:
                l3 = ipv4(src, dst, proto, ports, ihl=5 + (n % 3) * 3)
            frames.append(Frame(pad(eth(0x86DD if v6 else 0x0800, tag) + l3)))
            want.append(h4)
        # 2-tuple: TCP hashing disabled.
        l3 = ipv6(src, dst, 6, tcp(sp, dp)) if v6 else ipv4(src, dst, 6, tcp(sp, dp))
        frames.append(Frame(pad(eth(0x86DD if v6 else 0x0800) + l3), ctrl_without("TCP4", "TCP6")))
        want.append(h2)
        if not v6:
            # 2-tuple: a later fragment of a TCP datagram.
            frames.append(Frame(pad(eth(0x0800) + ipv4(src, dst, 6, tcp(sp, dp), flags_frag=185))))
            want.append(h2)
    records, out, _, _ = await tb.run(frames, random.Random(1))
    check(frames, records, out, [MS_KEY])
    got = [toeplitz(MS_KEY, r[3][: 8 * r[4]]) for r in records]
    assert got == want, "hash of the parsed tuple differs from the published value"


@cocotb.test()
async def random_frames_random_backpressure(dut):
    """Random frames, configurations and pauses on every interface."""
    rng = random.Random(oxnic_tb.seed())
    tb = TB(dut)
    await tb.reset()
    frames = [random_frame(rng) for _ in range(1500)]
    key = rng.randbytes(40)
    records, out, cycles, stalls = await tb.run(
        frames, rng, src_idle=0.2, sink_idle=0.3, meta_ready=lambda c: rng.random() < 0.6
    )
    check(frames, records, out, [key])
    status, types = summary(frames, records)
    dut._log.info("%d frames in %d cycles, %d stalls; status %s; rss types %s", len(frames), cycles, stalls, status,
                  types)
    assert all(status) and all(types), f"coverage: status {status}, types {types}"


@cocotb.test()
async def meta_fifo_full_holds_the_stream(dut):
    """Short frames, records taken rarely: the FIFO fills and the stream waits."""
    rng = random.Random(oxnic_tb.seed())
    tb = TB(dut)
    await tb.reset()
    frames = []
    for _ in range(150):
        fr = random_frame(rng)
        fr.data = fr.data[: rng.randrange(1, 24)]
        frames.append(fr)
    records, out, _, stalls = await tb.run(frames, rng, meta_ready=lambda c: rng.random() < 0.05)
    check(frames, records, out, [])
    assert stalls > 0, "the metadata FIFO never filled"


@cocotb.test()
async def back_to_back_minimum_frames(dut):
    """60-byte frames back to back, downstream always ready, records not taken for
    30 of every 60 cycles: one beat per cycle, no stall."""
    rng = random.Random(oxnic_tb.seed())
    tb = TB(dut)
    await tb.reset()
    frames = []
    for _ in range(200):
        fr = random_frame(rng)
        fr.data = pad(fr.data[:60])
        frames.append(fr)
    records, out, cycles, stalls = await tb.run(frames, rng, meta_ready=lambda c: c % 60 >= 30)
    check(frames, records, out, [])
    assert stalls == 0, f"{stalls} stall cycles"
    # 8 beats per frame; a few cycles of start-up and of draining the last record.
    assert cycles <= 8 * len(frames) + 40, f"{cycles} cycles for {8 * len(frames)} beats"


def test_rx_parse():
    # The parser does not depend on the queue count: one build.
    oxnic_tb.run("rx_parse", "rx_parse", "test_rx_parse", 8, Path(__file__).parent)
