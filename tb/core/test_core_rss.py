"""RSS through the whole ``oxnic_top``: frame → parse → Toeplitz → RETA → queue.

The expectation is a Python model written from the documentation, not from the
RTL: the RSS-type rules of docs/registers.md (RSS_CTRL) and hw/rtl/DESIGN.md
(``rx_parse``: IPv4/IPv6, TCP/UDP, one VLAN tag, IPv4 options, fragments →
addresses only, no IPv6 extension-header walk, truncation → NONE), the Toeplitz
reference ``oxnic_tb.toeplitz`` with the key as programmed (RSS_KEY: first byte
in bits 31:24), and "the queue is RETA[hash & 127]; type NONE: entry 0, hash 0".
Completions are decoded with the export's CPL format (``regs.CPL_*``).

Parameterised by queue count (1, 8 and 64). ``SEED=n`` replays.
"""

import struct
from pathlib import Path

import cocotb
import pytest
from cocotb.triggers import ClockCycles
from cocotbext.axi import AxiStreamFrame

import oxnic_tb
from oxnic_tb import regs
from oxnic_tb.toeplitz import toeplitz

from core_tb import Ring, start

ETH_IPV4, ETH_IPV6, TPID, QINQ = 0x0800, 0x86DD, 0x8100, 0x88A8
TCP, UDP = 6, 17
BUF = 512
RSS_ALL = 0x7F  # ENABLE and the six type bits


# --- frame builder (the stimulus) -------------------------------------------

def eth(rng, ethertype, vlan=None):
    h = bytes([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2])
    for tpid in vlan or ():
        h += struct.pack(">HH", tpid, rng.randrange(1 << 12))
    return h + struct.pack(">H", ethertype)


def ipv4(rng, proto, frag=0, ihl=5, version=4):
    src, dst = rng.getrandbits(32).to_bytes(4, "big"), rng.getrandbits(32).to_bytes(4, "big")
    hdr = struct.pack(">BBHHHBBH", version << 4 | ihl, 0, 0, rng.getrandbits(16), frag, 64, proto, 0)
    return hdr + src + dst + bytes(rng.getrandbits(8) for _ in range(4 * max(ihl - 5, 0)))


def ipv6(rng, nh):
    return (struct.pack(">IHBB", 6 << 28, 0, nh, 64)
            + rng.getrandbits(128).to_bytes(16, "big") + rng.getrandbits(128).to_bytes(16, "big"))


def l4(rng):
    return struct.pack(">HH", rng.getrandbits(16), rng.getrandbits(16)) + bytes(16)


def random_frame(rng):
    """A random frame of one of the kinds the docs distinguish (and a name)."""
    vlan = [TPID] if rng.random() < 0.25 else None
    kind = rng.choice(["tcp4", "udp4", "ip4", "frag4", "opt4", "tcp6", "udp6", "ip6",
                       "nonip", "qinq", "vlan2", "badver", "ihl4", "trunc6", "trunc4"])
    if kind in ("tcp4", "udp4"):
        f = eth(rng, ETH_IPV4, vlan) + ipv4(rng, TCP if kind == "tcp4" else UDP) + l4(rng)
    elif kind == "ip4":
        f = eth(rng, ETH_IPV4, vlan) + ipv4(rng, rng.choice([1, 2, 47, 50])) + l4(rng)
    elif kind == "frag4":
        # MF set, or a nonzero offset (with or without MF).
        frag = rng.choice([0x2000, rng.randint(1, 0x1FFF), 0x2000 | rng.randint(1, 0x1FFF)])
        f = eth(rng, ETH_IPV4, vlan) + ipv4(rng, rng.choice([TCP, UDP]), frag=frag) + l4(rng)
    elif kind == "opt4":
        f = eth(rng, ETH_IPV4, vlan) + ipv4(rng, rng.choice([TCP, UDP]), ihl=rng.randint(6, 15)) + l4(rng)
    elif kind in ("tcp6", "udp6"):
        f = eth(rng, ETH_IPV6, vlan) + ipv6(rng, TCP if kind == "tcp6" else UDP) + l4(rng)
    elif kind == "ip6":
        # Extension headers are not walked: hop-by-hop, routing, fragment, ICMPv6.
        f = eth(rng, ETH_IPV6, vlan) + ipv6(rng, rng.choice([0, 43, 44, 58, 59])) + l4(rng)
    elif kind == "nonip":
        f = eth(rng, rng.choice([0x88B5, 0x0806, 0x8847]), vlan) + bytes(46)
    elif kind == "qinq":
        f = eth(rng, ETH_IPV4, [QINQ, TPID]) + ipv4(rng, TCP) + l4(rng)
    elif kind == "vlan2":
        f = eth(rng, ETH_IPV4, [TPID, TPID]) + ipv4(rng, TCP) + l4(rng)
    elif kind == "badver":
        f = (eth(rng, ETH_IPV4, vlan) + ipv4(rng, TCP, version=6) + l4(rng)) if rng.random() < 0.5 \
            else (eth(rng, ETH_IPV6, vlan) + ipv4(rng, TCP) + bytes(40))
    elif kind == "ihl4":
        f = eth(rng, ETH_IPV4, vlan) + ipv4(rng, TCP, ihl=rng.randint(0, 4)) + l4(rng)
    elif kind == "trunc6":
        # VLAN + IPv6 + TCP in 60 bytes: the destination port is cut off.
        return (eth(rng, ETH_IPV6, [TPID]) + ipv6(rng, rng.choice([TCP, UDP])) + bytes(2))[:60], kind
    else:  # trunc4: IHL 15 puts the ports at byte 74; the frame ends before.
        f = eth(rng, ETH_IPV4, vlan) + ipv4(rng, rng.choice([TCP, UDP]), ihl=15)
        return f[:rng.randint(60, 14 + 4 * (vlan is not None) + 60 + 3)], kind
    length = max(len(f), 60) + rng.choice([0, 0, rng.randrange(200)])
    return f + bytes(rng.getrandbits(8) for _ in range(length - len(f))), kind


# --- the reference model (from the docs) --------------------------------------

def rss_model(frame, ctrl, key):
    """(rss_type, hash) the docs promise for ``frame`` under RSS_CTRL ``ctrl``."""
    if not regs.GLOBAL_RSS_CTRL_ENABLE.get(ctrl):
        return regs.RSS_TYPE_NONE, 0
    on = {f: f.get(ctrl) for f in (regs.GLOBAL_RSS_CTRL_IPV4, regs.GLOBAL_RSS_CTRL_TCP4,
                                   regs.GLOBAL_RSS_CTRL_UDP4, regs.GLOBAL_RSS_CTRL_IPV6,
                                   regs.GLOBAL_RSS_CTRL_TCP6, regs.GLOBAL_RSS_CTRL_UDP6)}
    et = int.from_bytes(frame[12:14], "big")
    ip = 14
    if et == TPID:  # one tag is skipped; a second one (or QinQ) is not understood
        et = int.from_bytes(frame[16:18], "big")
        ip = 18
        if et in (TPID, QINQ):
            return regs.RSS_TYPE_NONE, 0
    typ, addr, ports = regs.RSS_TYPE_NONE, None, None
    if et == ETH_IPV4 and len(frame) > ip and frame[ip] >> 4 == 4 and frame[ip] & 15 >= 5:
        ihl = frame[ip] & 15
        proto = frame[ip + 9] if len(frame) > ip + 9 else None
        fragw = int.from_bytes(frame[ip + 6:ip + 8], "big")
        frag = bool(fragw & 0x2000) or (fragw & 0x1FFF) != 0
        addr = (ip + 12, ip + 20)
        ports = (ip + 4 * ihl, ip + 4 * ihl + 4)
        if proto == TCP and not frag and on[regs.GLOBAL_RSS_CTRL_TCP4]:
            typ = regs.RSS_TYPE_TCP4
        elif proto == UDP and not frag and on[regs.GLOBAL_RSS_CTRL_UDP4]:
            typ = regs.RSS_TYPE_UDP4
        elif on[regs.GLOBAL_RSS_CTRL_IPV4]:
            typ = regs.RSS_TYPE_IPV4
    elif et == ETH_IPV6 and len(frame) > ip and frame[ip] >> 4 == 6:
        nh = frame[ip + 6] if len(frame) > ip + 6 else None
        addr = (ip + 8, ip + 40)
        ports = (ip + 40, ip + 44)
        if nh == TCP and on[regs.GLOBAL_RSS_CTRL_TCP6]:
            typ = regs.RSS_TYPE_TCP6
        elif nh == UDP and on[regs.GLOBAL_RSS_CTRL_UDP6]:
            typ = regs.RSS_TYPE_UDP6
        elif on[regs.GLOBAL_RSS_CTRL_IPV6]:
            typ = regs.RSS_TYPE_IPV6
    if typ == regs.RSS_TYPE_NONE:
        return typ, 0
    with_ports = typ not in (regs.RSS_TYPE_IPV4, regs.RSS_TYPE_IPV6)
    need = ports[1] if with_ports else addr[1]
    if len(frame) < need:  # truncated: NONE, never a fallback to the addresses
        return regs.RSS_TYPE_NONE, 0
    data = frame[addr[0]:addr[1]] + (frame[ports[0]:ports[1]] if with_ports else b"")
    return typ, toeplitz(key, data)


def check_model_against_ms_vectors():
    """The model's tuple extraction, on Microsoft's published vectors (built into
    frames), must give the published hashes: guards the model itself."""
    import ipaddress
    from oxnic_tb.toeplitz import MS_KEY, MS_VECTORS
    for src, dst, sp, dp, h2, h4 in MS_VECTORS:
        a, b = ipaddress.ip_address(src), ipaddress.ip_address(dst)
        if a.version == 4:
            ip = struct.pack(">BBHHHBBH", 0x45, 0, 0, 0, 0, 64, TCP, 0) + a.packed + b.packed
            et = ETH_IPV4
        else:
            ip = struct.pack(">IHBB", 6 << 28, 0, TCP, 64) + a.packed + b.packed
            et = ETH_IPV6
        f = bytes(12) + struct.pack(">H", et) + ip + struct.pack(">HH", sp, dp) + bytes(16)
        assert rss_model(f, RSS_ALL, MS_KEY)[1] == h4
        assert rss_model(f, RSS_ALL & ~(regs.GLOBAL_RSS_CTRL_TCP4.mask | regs.GLOBAL_RSS_CTRL_TCP6.mask),
                         MS_KEY)[1] == h2


# --- the test ------------------------------------------------------------------

async def collect(tb, expect, timeout=100_000):
    """Waits for every queue's expected completions; returns {q: [cpl, ...]}."""
    got = {q: [] for q in expect}
    waited = 0
    while any(len(got[q]) < len(expect[q]) for q in expect):
        progress = False
        for q in expect:
            while len(got[q]) < len(expect[q]):
                c = tb.take_completion(tb.rings[(0, q)])
                if c is None:
                    break
                got[q].append(c)
                progress = True
        if not progress:
            await ClockCycles(tb.dut.clk, 32)
            waited += 32
            if waited > timeout:
                missing = {q: [(k, hex(h), t) for (f, k, t, h) in expect[q][len(got[q]):]]
                           for q in expect if len(got[q]) < len(expect[q])}
                no_desc = await tb.rd(regs.GLOBAL_RX_DROP_NO_DESC)
                raise AssertionError(f"completions missing (RX_DROP_NO_DESC={no_desc}): {missing}")
    for q in expect:
        ring = tb.rings[(0, q)]
        await tb.wr(ring.reg(regs.QUEUE_DB_CPL_CONS), ring.cons & 0xFFFF)
    return got


@cocotb.test()
async def rss_spreads_by_toeplitz_and_reta(dut):
    """Random IPv4/IPv6 TCP/UDP tuples, IPv4 with options and fragments, IPv6 with
    extension headers, VLAN-tagged, double-tagged, non-IP, malformed and truncated
    frames, in batches; between batches the key, the RSS_CTRL type bits (including
    ENABLE = 0) and RETA entries are rewritten. Each frame must complete on queue
    RETA[hash & 127] (NONE: entry 0), byte-exact, with the completion's RSS_TYPE
    and RSS_HASH equal to the docs' classification and the Toeplitz reference with
    the programmed key; no other completion appears; no frame is dropped."""
    check_model_against_ms_vectors()
    tb = await start(dut, ram_size=8 << 20)
    rng = tb.rng
    log2 = 6
    for q in range(tb.queues):
        await tb.queue_up(q, 0, log2, q % tb.vectors, buf_size=BUF,
                          base=tb.alloc(Ring.footprint(log2, BUF)), arm=False)
    key = bytes(rng.getrandbits(8) for _ in range(regs.RSS_KEY_BYTES))
    reta = [rng.randrange(tb.queues) for _ in range(regs.RSS_RETA_ENTRIES)]
    await tb.set_key(key)
    await tb.set_reta(reta)
    await tb.wr(regs.GLOBAL_CTRL, regs.GLOBAL_CTRL_ENABLE.set(0, 1))
    batches = [RSS_ALL, RSS_ALL, "random", 0, "random", RSS_ALL, "random", RSS_ALL]
    kinds = {}
    types_seen = set()
    total = 0
    for b, ctrl in enumerate(batches):
        if ctrl == "random":
            ctrl = regs.GLOBAL_RSS_CTRL_ENABLE.mask | (rng.getrandbits(6) << 1)
        if b:  # mid-test rewrites: a new key every other batch, some RETA entries
            if b % 2 == 0:
                key = bytes(rng.getrandbits(8) for _ in range(regs.RSS_KEY_BYTES))
                await tb.set_key(key)
            for i in rng.sample(range(regs.RSS_RETA_ENTRIES), rng.randint(1, 64)):
                reta[i] = rng.randrange(tb.queues)
                await tb.wr(regs.GLOBAL_RSS_RETA + 4 * i, reta[i])
        await tb.wr(regs.GLOBAL_RSS_CTRL, ctrl)
        assert await tb.rd(regs.GLOBAL_RSS_CTRL) == ctrl
        frames = [random_frame(rng) for _ in range(48)]
        expect = {q: [] for q in range(tb.queues)}
        for f, kind in frames:
            typ, h = rss_model(f, ctrl, key)
            expect[reta[h & (regs.RSS_RETA_ENTRIES - 1)]].append((f, kind, typ, h))
            kinds[kind] = kinds.get(kind, 0) + 1
            types_seen.add(typ)
        # Exactly as many descriptors as the model sends to each queue.
        for q, items in expect.items():
            if items:
                await tb.post_rx(tb.rings[(0, q)], len(items))
        for f, _ in frames:
            await tb.mac_rx.send(AxiStreamFrame(f, tuser=0))
        got = await collect(tb, expect)
        for q in expect:
            ring = tb.rings[(0, q)]
            for (f, kind, typ, h), c in zip(expect[q], got[q]):
                what = f"batch {b} RSS_CTRL={ctrl:#x} queue {q} slot {c['slot']} ({kind}, len {len(f)})"
                assert c["queue"] == q and c["index"] == c["slot"] & 0xFFFF, f"{what}: {c}"
                assert (c["status"], c["len"]) == (regs.CPL_STATUS_OK, len(f)), f"{what}: {c}"
                assert (c["rss_type"], c["hash"]) == (typ, h), \
                    f"{what}: type/hash {c['rss_type']}/{c['hash']:#x}, expected {typ}/{h:#x}"
                assert tb.mem.read(ring.buf(c["slot"]), len(f)) == f, f"{what}: buffer differs"
        total += len(frames)
        # Nothing beyond the expected completions (a misrouted frame would show here
        # or as a NO_DESC drop).
        await ClockCycles(dut.clk, 100)
        for q in range(tb.queues):
            extra = tb.take_completion(tb.rings[(0, q)])
            assert extra is None, f"batch {b}: unexpected completion on queue {q}: {extra}"
    counters = [await tb.rd(o) for o in (regs.GLOBAL_RX_FRAMES, regs.GLOBAL_RX_DROP_NO_DESC,
                                         regs.GLOBAL_RX_DROP_QUEUE_DISABLED, regs.GLOBAL_RX_DROP_RUNT)]
    assert counters == [total, 0, 0, 0], counters
    dut._log.warning(f"{total} frames; kinds {sorted(kinds.items())}; RSS types seen {sorted(types_seen)}")
    assert not tb.mem.faults, tb.mem.faults


@pytest.mark.parametrize("queues", [1, 8, 64])
def test_core_rss(queues):
    try:
        oxnic_tb.run("oxnic_top", "oxnic_top", "test_core_rss", queues, Path(__file__).parent)
    finally:
        for f in Path(__file__).parent.glob("*.None"):
            f.unlink()
