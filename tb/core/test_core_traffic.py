"""Random RX/TX traffic across every queue of ``oxnic_top``, with a scoreboard.

The scoreboard is a Python model of the documented per-frame fate
(docs/registers.md counters and descriptor formats, hw/rtl/DESIGN.md "RX per
frame"), not of the RTL:

* RX, in order: MAC error (tuser) → RX_DROP_MAC_ERROR; shorter than 60 bytes →
  RUNT; longer than MTU → OVERSIZE (that priority); CTRL.ENABLE = 0 → QUEUE_DISABLED;
  otherwise the queue is RETA[Toeplitz hash & 127] (test_core_rss's model):
  queue disabled → QUEUE_DISABLED; no descriptor left → NO_DESC; a descriptor whose
  buffer is shorter than the frame → completion DESC_ERROR with LEN 0, counted
  OVERSIZE; else delivered byte-exact with an OK completion. RX_FRAMES counts
  every frame. Per queue, STAT_PACKETS counts completions and STAT_BYTES their LEN.
* TX: frames posted on enabled queues leave on ``m_axis_tx`` byte-exact, in order
  per queue (queues interleave freely); a zero-length descriptor sends nothing and
  completes DESC_ERROR with LEN 0 (TX_ERRORS); frames posted on a disabled TX queue
  are never taken (DESC_CONS stays 0) and never sent.

Random backpressure on the TX AxiStreamSink, random gaps on the RX AxiStreamSource
and random pauses on all five AxiRam channels. Queues are enabled/disabled, MTU
changed and the receive path switched off between phases (never mid-frame).

Parameterised by queue count (1, 8 and 64). ``SEED=n`` replays.
"""

from pathlib import Path

import cocotb
import pytest
from cocotb.result import SimTimeoutError
from cocotb.triggers import ClockCycles, with_timeout
from cocotbext.axi import AxiStreamFrame

import oxnic_tb
from oxnic_tb import regs

from core_tb import MSI_BASE, Ring, random_pauses, start
from test_core_rss import RSS_ALL, random_frame, rss_model

LOG2 = 4
BUF = 2048
PHASES = 7

RX_COUNTERS = {
    "frames": regs.GLOBAL_RX_FRAMES,
    "disabled": regs.GLOBAL_RX_DROP_QUEUE_DISABLED,
    "no_desc": regs.GLOBAL_RX_DROP_NO_DESC,
    "runt": regs.GLOBAL_RX_DROP_RUNT,
    "oversize": regs.GLOBAL_RX_DROP_OVERSIZE,
    "mac_error": regs.GLOBAL_RX_DROP_MAC_ERROR,
    "dma_error": regs.GLOBAL_RX_DROP_DMA_ERROR,
    "tx_frames": regs.GLOBAL_TX_FRAMES,
    "tx_errors": regs.GLOBAL_TX_ERRORS,
}


class Scoreboard:
    def __init__(self, queues):
        self.count = {k: 0 for k in RX_COUNTERS}
        self.stat = {(tx, q): [0, 0] for tx in (0, 1) for q in range(queues)}  # packets, bytes


def rx_frame(rng, mtu):
    """(bytes, tuser, what): mostly hashable good frames, some bad ones."""
    r = rng.random()
    if r < 0.06:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(14, 59))), 0, "runt"
    f, kind = random_frame(rng)
    if r < 0.12:
        n = rng.randint(mtu + 1, mtu + 300)
        return f + bytes(rng.getrandbits(8) for _ in range(max(0, n - len(f)))), 0, "oversize"
    if r < 0.17:
        return f, 1, "mac_error"
    if len(f) < mtu and rng.random() < 0.3:  # a longer good frame (still within MTU)
        n = rng.randint(len(f), mtu)
        f += bytes(rng.getrandbits(8) for _ in range(n - len(f)))
    return f, 0, kind


def tx_frame(rng, q, seq):
    n = rng.choice([60, 64, rng.randint(60, 300), rng.randint(60, 1514)])
    tag = bytes([0x02, 0, 0, 0, 0, 3, 0x02, 0, 0, 0, 0, 4, 0x88, 0xB5]) + q.to_bytes(2, "little") \
        + seq.to_bytes(4, "little")
    return tag + bytes(rng.getrandbits(8) for _ in range(n - len(tag)))


async def wait_counters(tb, sb, when, timeout=50_000):
    for _ in range(timeout // 64):
        got = {k: await tb.rd(off) for k, off in RX_COUNTERS.items()}
        if got == sb.count:
            return
        await ClockCycles(tb.dut.clk, 64)
    raise AssertionError(f"{when}: global counters {got}, scoreboard {sb.count}")


@cocotb.test()
async def random_traffic_scoreboard(dut):
    """Seven phases of random RX frames (good, runt, oversize, MAC error; RSS-spread
    over every queue) and random TX frames (some zero-length descriptors) on every
    queue at once, with some RX/TX queues disabled, RX rings starved (0..16
    descriptors per phase, some with a short buffer), MTU changes and one phase
    with CTRL.ENABLE = 0; random pauses on every AXI channel, the RX stream and the
    TX sink. Every RX frame must be delivered intact to its queue or counted as
    dropped for its reason; every TX frame must leave intact and in order per
    queue; at the end the global RX_*/TX_* counters and every queue's STAT_PACKETS
    and STAT_BYTES equal the scoreboard. Every MSI-X message carries its vector's
    data."""
    tb = await start(dut, ram_size=16 << 20)
    rng = tb.rng
    Q = tb.queues
    sb = Scoreboard(Q)
    tb.mem.set_pauses(rng, 0.2)
    tb.mac_tx.set_pause_generator(random_pauses(rng, 0.3))
    tb.mac_rx.set_pause_generator(random_pauses(rng, 0.1))
    await tb.msix_setup()

    rx_on, tx_on, avail = {}, {}, {}
    for q in range(Q):
        for tx in (0, 1):
            ring = await tb.queue_up(q, tx, LOG2, q % tb.vectors, buf_size=BUF,
                                     base=tb.alloc(Ring.footprint(LOG2, BUF)))
        rx_on[q], tx_on[q], avail[q] = True, True, []   # avail: buffer lengths posted
    key = bytes(rng.getrandbits(8) for _ in range(regs.RSS_KEY_BYTES))
    reta = [rng.randrange(Q) for _ in range(regs.RSS_RETA_ENTRIES)]
    await tb.set_key(key)
    await tb.set_reta(reta)
    await tb.wr(regs.GLOBAL_RSS_CTRL, RSS_ALL)
    rx_sent = 0
    tx_seq = 0
    tx_expect = {q: [] for q in range(Q)}        # frames still to come out, per queue
    disabled_phase = rng.randrange(1, PHASES)

    async def set_queue(tx, q, on):
        ring = tb.rings[(tx, q)]
        await tb.wr(ring.reg(regs.QUEUE_CTRL), 0)
        if on:
            # The driver's restart: its doorbells back to 0 before the enable (which
            # zeroes the device's indices), completions zeroed.
            ring.restart(tb.mem)
            await tb.wr(ring.reg(regs.QUEUE_DB_DESC_PROD), 0)
            await tb.wr(ring.reg(regs.QUEUE_DB_CPL_CONS), 0)
            await tb.wr(ring.reg(regs.QUEUE_CTRL), 1)
            await tb.wr(ring.reg(regs.QUEUE_IRQ_CTRL), regs.QUEUE_IRQ_CTRL_ARM.mask)
        (tx_on if tx else rx_on)[q] = on

    for phase in range(PHASES):
        # --- between phases: queue enables, MTU, receive path ---
        for q in range(Q):
            if rng.random() < 0.2:
                await set_queue(0, q, not rx_on[q])
                avail[q] = []
            if rng.random() < 0.15:
                await set_queue(1, q, not tx_on[q])
        if Q > 1 and all(rx_on.values()):
            q = rng.randrange(Q)
            await set_queue(0, q, False)
            avail[q] = []
        mtu = rng.choice([regs.DEFAULT_MTU, rng.randint(200, regs.DEFAULT_MTU)])
        await tb.wr(regs.GLOBAL_MTU, mtu)
        enable = phase != disabled_phase
        await tb.wr(regs.GLOBAL_CTRL, regs.GLOBAL_CTRL_ENABLE.set(0, int(enable)))
        # --- RX descriptors: 0..16 outstanding per running queue, some short buffers ---
        for q in range(Q):
            ring = tb.rings[(0, q)]
            if not rx_on[q]:
                continue
            k = rng.choice([0, 2, rng.randint(0, ring.size), ring.size, ring.size]) - len(avail[q])
            for _ in range(max(0, k)):
                blen = rng.choice([BUF] * 9 + [rng.randint(64, 256) & ~7])
                tb.write_desc(ring, ring.prod, ring.buf(ring.prod), blen)
                ring.prod += 1
                avail[q].append(blen)
            if k > 0:
                await tb.wr(ring.reg(regs.QUEUE_DB_DESC_PROD), ring.prod & 0xFFFF)
        # --- the frames and their model fate ---
        n = rng.randint(20, 60)
        frames = [rx_frame(rng, mtu) for _ in range(n)]
        rx_expect = {q: [] for q in range(Q)}
        for f, tuser, what in frames:
            sb.count["frames"] += 1
            if tuser:
                sb.count["mac_error"] += 1
            elif len(f) < regs.MIN_FRAME_LEN:
                sb.count["runt"] += 1
            elif len(f) > mtu:
                sb.count["oversize"] += 1
            elif not enable:
                sb.count["disabled"] += 1
            else:
                typ, h = rss_model(f, RSS_ALL, key)
                q = reta[h & (regs.RSS_RETA_ENTRIES - 1)]
                if not rx_on[q]:
                    sb.count["disabled"] += 1
                elif not avail[q]:
                    sb.count["no_desc"] += 1
                else:
                    blen = avail[q].pop(0)
                    ok = blen >= len(f)
                    if not ok:
                        sb.count["oversize"] += 1
                    rx_expect[q].append((f, typ, h, ok, what))
                    sb.stat[(0, q)][0] += 1
                    sb.stat[(0, q)][1] += len(f) if ok else 0
        # --- TX: up to 16 per queue per phase, on every queue (disabled ones too) ---
        tx_posted = {}
        for q in range(Q):
            if rng.random() < 0.5:
                continue
            ring = tb.rings[(1, q)]
            batch = []
            for _ in range(rng.randint(1, ring.size)):
                tx_seq += 1
                batch.append(tx_frame(rng, q, tx_seq) if rng.random() > 0.05 else b"")
            tx_posted[q] = batch
        # --- run: TX doorbells and RX frames at once ---
        cons_before = {}
        for q, batch in tx_posted.items():
            ring = tb.rings[(1, q)]
            if not tx_on[q]:
                cons_before[q] = await tb.rd(ring.reg(regs.QUEUE_DESC_CONS))
            for f in batch:
                tb.mem.write(ring.buf(ring.prod), f)
                tb.write_desc(ring, ring.prod, ring.buf(ring.prod), len(f))
                ring.prod += 1
            await tb.wr(ring.reg(regs.QUEUE_DB_DESC_PROD), ring.prod & 0xFFFF)
            if tx_on[q]:
                for f in batch:
                    if f:
                        tx_expect[q].append(f)
                        sb.count["tx_frames"] += 1
                        sb.stat[(1, q)][1] += len(f)
                    else:
                        sb.count["tx_errors"] += 1
                    sb.stat[(1, q)][0] += 1
        for f, tuser, _ in frames:
            await tb.mac_rx.send(AxiStreamFrame(f, tuser=tuser))
        rx_sent += n
        # --- check RX ---
        await tb.mac_rx.wait()
        await tb.wait_counter(regs.GLOBAL_RX_FRAMES, rx_sent, timeout=400_000)
        for q in range(Q):
            ring = tb.rings[(0, q)]
            want = rx_expect[q]
            if not want:
                continue
            got = await tb.wait_completions(ring, len(want), timeout=400_000)
            for (f, typ, h, ok, what), c in zip(want, got):
                where = f"phase {phase} RX queue {q} slot {c['slot']} ({what}, len {len(f)})"
                assert (c["queue"], c["index"]) == (q, c["slot"] & 0xFFFF), f"{where}: {c}"
                if ok:
                    assert (c["status"], c["len"], c["rss_type"], c["hash"]) == \
                        (regs.CPL_STATUS_OK, len(f), typ, h), f"{where}: {c}"
                    assert tb.mem.read(ring.buf(c["slot"]), len(f)) == f, f"{where}: data differs"
                else:
                    assert (c["status"], c["len"]) == (regs.CPL_STATUS_DESC_ERROR, 0), \
                        f"{where}: short buffer, expected DESC_ERROR/0: {c}"
            await tb.wr(ring.reg(regs.QUEUE_DB_CPL_CONS),
                        regs.QUEUE_DB_CPL_CONS_REARM.mask | (ring.cons & 0xFFFF))
        # --- check TX ---
        want_out = sum(map(len, tx_expect.values()))
        for _ in range(want_out):
            try:
                out = bytes((await with_timeout(tb.mac_tx.recv(), 5, "ms")).tdata)
            except SimTimeoutError:
                left = {q: len(v) for q, v in tx_expect.items() if v}
                raise AssertionError(f"phase {phase}: TX frames missing per queue: {left}") from None
            q = int.from_bytes(out[14:16], "little") if len(out) >= 16 else -1
            assert q in tx_expect and tx_expect[q], f"phase {phase}: unexpected TX frame {out[:24].hex()}"
            head = tx_expect[q].pop(0)
            assert out == head, (f"phase {phase}: TX queue {q} frame differs or out of order "
                                 f"(got seq {int.from_bytes(out[16:20], 'little')}, "
                                 f"expected {int.from_bytes(head[16:20], 'little')})")
        for q, batch in tx_posted.items():
            ring = tb.rings[(1, q)]
            if not tx_on[q]:
                continue
            got = await tb.wait_completions(ring, len(batch), timeout=400_000)
            for f, c in zip(batch, got):
                want = (regs.CPL_STATUS_OK, len(f)) if f else (regs.CPL_STATUS_DESC_ERROR, 0)
                assert (c["status"], c["len"], c["queue"], c["rss_type"], c["hash"]) == (*want, q, 0, 0), \
                    f"phase {phase} TX queue {q} slot {c['slot']}: {c}"
        # Disabled TX queues: nothing taken.
        for q, before in cons_before.items():
            cons = await tb.rd(tb.rings[(1, q)].reg(regs.QUEUE_DESC_CONS))
            assert cons == before, f"disabled TX queue {q} took descriptors: DESC_CONS {before} -> {cons}"
        # Disabled TX queues keep their posted frames; on re-enable the indices
        # restart, so the driver model forgets them (restart()).
        # Phase end: RX_FRAMES counts a frame when it is classified, the drop
        # counters when it reaches the data stage, so a dropped frame may still be
        # in flight here. Every counter must reach the scoreboard before the next
        # phase changes descriptors or enables (else the next phase's setup would
        # race this phase's last frames).
        await wait_counters(tb, sb, f"end of phase {phase}")

    # --- end: nothing extra, counters equal the scoreboard ---
    await ClockCycles(dut.clk, 500)
    assert tb.mac_tx.empty(), "extra TX frames"
    for q in range(Q):
        for tx in (0, 1):
            extra = tb.take_completion(tb.rings[(tx, q)])
            assert extra is None, f"extra completion on tx={tx} queue {q}: {extra}"
    got = {k: await tb.rd(off) for k, off in RX_COUNTERS.items()}
    assert got == sb.count, f"global counters {got}, scoreboard {sb.count}"
    for (tx, q), (packets, nbytes) in sb.stat.items():
        ring = tb.rings[(tx, q)]
        dev = [await tb.rd(ring.reg(r)) for r in (regs.QUEUE_STAT_PACKETS, regs.QUEUE_STAT_BYTES_LO,
                                                  regs.QUEUE_STAT_BYTES_HI)]
        assert dev == [packets, nbytes & 0xFFFF_FFFF, nbytes >> 32], \
            f"tx={tx} queue {q}: STAT packets/bytes lo/hi {dev}, scoreboard {packets}/{nbytes}"
    for cycle, v, data, _ in tb.msis:
        assert v < tb.vectors and data == 0x100 + v, (cycle, v, hex(data))
    assert not tb.mem.faults, tb.mem.faults
    dut._log.warning(f"scoreboard: {sb.count}; {len(tb.msis)} MSI-X messages; "
                     f"{sum(1 for k, s in sb.stat.items() if k[0] == 0 and s[0])} RX queues delivered")


@pytest.mark.parametrize("queues", [1, 8, 64])
def test_core_traffic(queues):
    try:
        oxnic_tb.run("oxnic_top", "oxnic_top", "test_core_traffic", queues, Path(__file__).parent)
    finally:
        for f in Path(__file__).parent.glob("*.None"):
            f.unlink()
