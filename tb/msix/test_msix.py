"""cocotb bench for ``msix`` (hw/rtl/src/msix.rs): MSI-X table, pending bit array
and function-level control.

Reference: ``MsixModel`` below, a Python model of the PCIe MSI-X rules as
../shared/notes/semantics.md states them ("MSI-X"): per-vector address, data and
mask bit (set after reset); a request for a masked vector sets its pending bit and
sends nothing; unmasking a vector with its pending bit set sends the message once
and clears the bit; the function mask holds back every vector the same way; the
message carries the table's address and data when it is sent. For MSI-X enable
off the block's doc says "masked ... because MSI-X is not enabled — sets the
vector's pending bit": the model does the same (pending, delivered on enable).
Requests for vectors at or above the generated count are dropped (block doc).

Checks: reset values; every table word written and read back (out-of-range
entries read 0 and ignore writes, the PBA ignores writes); the rules one by one;
random sequences of requests / mask / unmask / function mask / enable / table
rewrites / reads with random ``m_msg_ready`` backpressure, comparing the exact
sequence of messages (address, data) and every read with the model.

Two random drivers:

* serial — one operation at a time, the next one once ``idle`` is high again:
  the model applies a function-level unmask atomically (all pending, unmasked
  vectors sent in vector order), exactly the spec's wording.
* overlapped — operations on the three request ports offered at once, back to
  back, while messages and the re-delivery sweep are in flight. The block
  re-delivers after a function-level unmask one vector per cycle in which no
  register access is offered, ahead of interrupt requests (its doc:
  "the re-delivery sweep"); the model then keeps a sweep pointer and advances it
  on the cycles in which the block is idle and no register access is offered
  (``s_wr_ready`` high), the only place the block's schedule enters the model. A
  request for a vector the sweep has not reached yet sends one message that
  covers the pending one too (block doc), which is what the spec rule "request on
  a deliverable vector: send" gives once the pending bit is cleared with it.
  ``idle`` is checked against the model's sweep every cycle.

Run: ``.venv/bin/python -m pytest tb/msix`` (``SEED=n`` replays, ``WAVES=1``
records FST). Vector counts: 9 and 65 (generated as ``--queues V-1``, whose
default vector count is V; the bench checks the count through the table window).
"""

import os
import random
from collections import deque
from pathlib import Path

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge

import oxnic_tb
from oxnic_tb import regs

# Word offsets inside a table entry, from the generated entry format.
ADDR_LO = regs.MSIX_ENTRY_ADDR.word_offset
ADDR_HI = regs.MSIX_ENTRY_ADDR.word_offset + 4
DATA = regs.MSIX_ENTRY_DATA.word_offset
VCTRL = regs.MSIX_ENTRY_MASK.word_offset
ENTRY_WORDS = (ADDR_LO, ADDR_HI, DATA, VCTRL)
assert regs.MSIX_ENTRY_CTRL == regs.MSIX_TABLE_OFFSET + VCTRL
assert regs.MSIX_PBA == regs.MSIX_PBA_OFFSET and regs.MSIX_CTRL == regs.MSIX_CTRL_OFFSET
MASK_BIT = regs.MSIX_ENTRY_CTRL_MASK


def entry(v, word):
    """BAR0 offset of word ``word`` of table entry ``v``."""
    return regs.MSIX_TABLE_OFFSET + v * regs.MSIX_ENTRY_SIZE + word


def pba(w):
    return regs.MSIX_PBA + 4 * w


def ctrl_value(enable, function_mask):
    return regs.MSIX_CTRL_FUNCTION_MASK.set(regs.MSIX_CTRL_ENABLE.set(0, int(enable)), int(function_mask))


class MsixModel:
    """The PCIe MSI-X rules (semantics.md), one function with ``n`` vectors."""

    def __init__(self, n, atomic=True):
        self.n = n
        self.atomic = atomic
        self.addr = [0] * n
        self.data = [0] * n
        self.masked = [MASK_BIT.reset == 1] * n
        self.pending = [False] * n
        self.enable = bool(regs.MSIX_CTRL_ENABLE.reset)
        self.function_mask = bool(regs.MSIX_CTRL_FUNCTION_MASK.reset)
        self.sent = []
        self.sweep = None  # next vector to re-deliver (overlapped mode only)
        self.stats = {"direct": 0, "held": 0, "on_unmask": 0, "on_function": 0, "dropped": 0}

    def allows(self):
        return self.enable and not self.function_mask

    def _send(self, v, why):
        self.sent.append((self.addr[v], self.data[v]))
        self.pending[v] = False
        self.stats[why] += 1

    def irq(self, v):
        if v >= self.n:
            self.stats["dropped"] += 1
        elif self.allows() and not self.masked[v]:
            self._send(v, "direct")
        else:
            self.pending[v] = True
            self.stats["held"] += 1

    def redeliver(self, v):
        if self.pending[v] and not self.masked[v] and self.allows():
            self._send(v, "on_function")

    def kick(self):
        """One step of the block's re-delivery sweep (overlapped mode)."""
        if self.sweep is None:
            return
        self.redeliver(self.sweep)
        self.sweep += 1
        if self.sweep >= self.n:
            self.sweep = None

    def write(self, offset, value):
        if offset == regs.MSIX_CTRL:
            before = self.allows()
            self.enable = bool(regs.MSIX_CTRL_ENABLE.get(value))
            self.function_mask = bool(regs.MSIX_CTRL_FUNCTION_MASK.get(value))
            if self.allows() and not before:
                if self.atomic:
                    for v in range(self.n):
                        self.redeliver(v)
                else:
                    self.sweep = 0
            return
        rel = offset - regs.MSIX_TABLE_OFFSET
        if not 0 <= rel < self.n * regs.MSIX_ENTRY_SIZE:
            return  # PBA is read-only; other offsets name nothing
        v, word = divmod(rel, regs.MSIX_ENTRY_SIZE)
        if word == ADDR_LO:
            self.addr[v] = (self.addr[v] & ~0xFFFF_FFFF) | value
        elif word == ADDR_HI:
            self.addr[v] = (self.addr[v] & 0xFFFF_FFFF) | (value << 32)
        elif word == DATA:
            self.data[v] = value
        else:
            self.masked[v] = bool(MASK_BIT.get(value))
            if not self.masked[v] and self.pending[v] and self.allows():
                self._send(v, "on_unmask")

    def read(self, offset):
        if offset == regs.MSIX_CTRL:
            return ctrl_value(self.enable, self.function_mask)
        words = (self.n + 31) // 32
        if regs.MSIX_PBA <= offset < pba(words):
            w = (offset - regs.MSIX_PBA) // 4
            return sum(1 << b for b in range(32) if w * 32 + b < self.n and self.pending[w * 32 + b])
        rel = offset - regs.MSIX_TABLE_OFFSET
        if 0 <= rel < self.n * regs.MSIX_ENTRY_SIZE:
            v, word = divmod(rel, regs.MSIX_ENTRY_SIZE)
            return {
                ADDR_LO: self.addr[v] & 0xFFFF_FFFF,
                ADDR_HI: self.addr[v] >> 32,
                DATA: self.data[v],
                VCTRL: MASK_BIT.set(0, int(self.masked[v])),
            }[word]
        return 0


class TB:
    """Clock, reset, request drivers and message / read monitors for msix."""

    def __init__(self, dut):
        self.dut = dut
        self.vectors = int(os.environ["VECTORS"])
        self.vmax = 1 << len(dut.s_irq_vector)
        self.words = (self.vectors + 31) // 32
        self.sent = []
        cocotb.start_soon(Clock(dut.clk, 4, units="ns").start())
        dut.rst.value = 0
        for name in ("s_wr", "s_rd", "s_irq"):
            getattr(dut, f"{name}_valid").value = 0
        dut.s_wr_addr.value = 0
        dut.s_wr_data.value = 0
        dut.s_rd_addr.value = 0
        dut.s_irq_vector.value = 0
        dut.m_msg_ready.value = 1

    async def reset(self):
        self.dut.rst.value = 1
        await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)
        cycles = 0
        while int(self.dut.busy.value):
            await RisingEdge(self.dut.clk)
            cycles += 1
        return cycles

    async def run_ops(self, rng, ops, model, ready_prob, overlapped, offer_prob=0.8):
        """Drives ``ops`` ((kind, addr_or_vector, data) tuples), applying each to
        ``model`` when the block takes it. Returns (messages, reads checked)."""
        dut = self.dut
        ops = deque(ops)
        chans = {"wr": None, "rd": None, "irq": None}
        ports = {"wr": (dut.s_wr_valid, dut.s_wr_ready), "rd": (dut.s_rd_valid, dut.s_rd_ready),
                 "irq": (dut.s_irq_valid, dut.s_irq_ready)}
        reads = deque()
        sent = []
        checked = 0
        quiet = 0
        last_idle = 1
        busy = True
        cycles = 0
        while quiet < 6:
            cycles += 1
            assert cycles < 200 * (len(ops) + 100) + 100000, "run does not finish"
            if overlapped and rng.random() < (0.02 if busy else 0.006):
                # Bursty traffic: busy phases and quiet ones in which the sweep runs.
                busy = not busy
            if ops and rng.random() < (offer_prob if busy or not overlapped else 0.03):
                kind = ops[0][0]
                free = all(c is None for c in chans.values()) and last_idle and not reads
                if (overlapped and chans[kind] is None) or (not overlapped and free):
                    chans[kind] = ops.popleft()
            for kind, op in chans.items():
                ports[kind][0].value = int(op is not None)
                if op is None:
                    continue
                if kind == "wr":
                    dut.s_wr_addr.value, dut.s_wr_data.value = op[1], op[2]
                elif kind == "rd":
                    dut.s_rd_addr.value = op[1]
                else:
                    dut.s_irq_vector.value = op[1]
            dut.m_msg_ready.value = int(rng.random() < ready_prob)
            await FallingEdge(dut.clk)
            if int(dut.m_msg_valid.value) and int(dut.m_msg_ready.value):
                sent.append((int(dut.m_msg_addr.value), int(dut.m_msg_data.value)))
            if int(dut.m_rd_valid.value):
                assert reads, "read data without a read"
                addr, want = reads.popleft()
                got = int(dut.m_rd_data.value)
                assert got == want, f"read 0x{addr:05X}: got 0x{got:08X}, model 0x{want:08X}"
                checked += 1
            in_idle = int(dut.s_wr_ready.value)
            last_idle = int(dut.idle.value)
            if overlapped:
                want_idle = int(in_idle and model.sweep is None)
                assert last_idle == want_idle, f"idle={last_idle}, model says {want_idle} (sweep {model.sweep})"
            # Register accesses go before the sweep step, the sweep before requests.
            wr_or_rd = chans["wr"] is not None or chans["rd"] is not None
            taken = [k for k, op in chans.items() if op is not None and int(ports[k][1].value)]
            assert len(taken) <= 1, f"several requests taken in one cycle: {taken}"
            if taken:
                last_idle = 0  # serial mode: wait for an idle seen after this operation
            for kind in taken:
                op = chans[kind]
                chans[kind] = None
                if kind == "wr":
                    model.write(op[1], op[2])
                elif kind == "rd":
                    reads.append((op[1], model.read(op[1])))
                else:
                    model.irq(op[1])
            if overlapped and in_idle and not wr_or_rd:
                model.kick()  # no register access: the block spends this cycle on its sweep
            await RisingEdge(dut.clk)
            done = not ops and all(c is None for c in chans.values()) and not reads
            quiet = quiet + 1 if (done and last_idle and not int(dut.m_msg_valid.value)) else 0
        for p in ports.values():
            p[0].value = 0
        dut.m_msg_ready.value = 1
        return sent, checked

    async def do(self, model, *ops, ready_prob=1.0):
        """Runs directed operations one at a time; returns the messages they caused."""
        sent, _ = await self.run_ops(random.Random(0), list(ops), model, ready_prob, False, 1.0)
        return sent


def wr(addr, data):
    return ("wr", addr, data)


def rd(addr):
    return ("rd", addr, None)


def irq(v):
    return ("irq", v, None)


def random_op(rng, n, vmax, hot):
    v = rng.choice(hot)
    r = rng.randrange(100)
    if r < 30:
        return irq(v)
    if r < 32:
        return irq(rng.randrange(n, vmax) if vmax > n else v)  # beyond the count: dropped
    if r < 50:
        return wr(entry(v, VCTRL), (rng.getrandbits(31) << 1) | rng.randrange(2))
    if r < 58:
        return wr(entry(v, rng.choice((ADDR_LO, ADDR_HI, DATA))), rng.getrandbits(32))
    if r < 66:
        value = rng.choice((ctrl_value(1, 0),) * 3 + (ctrl_value(1, 1),) * 2 + (ctrl_value(0, 0), ctrl_value(0, 1)))
        return wr(regs.MSIX_CTRL, value | (rng.getrandbits(30) << 2 if rng.random() < 0.2 else 0))
    if r < 68:
        return wr(pba(rng.randrange((n + 31) // 32)), rng.getrandbits(32))  # read-only
    if r < 70:
        return wr(entry(n + rng.randrange(3), rng.choice(ENTRY_WORDS)), rng.getrandbits(32))  # no such vector
    if r < 78:
        return rd(pba(rng.randrange((n + 31) // 32 + 1)))
    if r < 90:
        return rd(entry(v, rng.choice(ENTRY_WORDS)))
    if r < 94:
        return rd(regs.MSIX_CTRL)
    return rd(entry(n + rng.randrange(3), rng.choice(ENTRY_WORDS)))


@cocotb.test()
async def reset_values(dut):
    """After reset every entry is zero and masked, the PBA and CTRL read their reset values."""
    tb = TB(dut)
    cycles = await tb.reset()
    assert tb.vmax - 2 <= cycles <= tb.vmax + 1, f"reset sweep took {cycles} cycles for {tb.vmax} slots"
    model = MsixModel(tb.vectors)
    ops = [rd(entry(v, w)) for v in range(tb.vectors) for w in ENTRY_WORDS]
    ops += [rd(pba(w)) for w in range(tb.words + 1)] + [rd(regs.MSIX_CTRL)]
    _, checked = await tb.run_ops(random.Random(0), ops, model, 1.0, False, 1.0)
    assert checked == len(ops)
    assert model.read(entry(0, VCTRL)) == regs.reset_value(
        next(r for b in regs.BLOCKS for r in b.registers if r.name == "ENTRY_CTRL"), {})
    assert model.read(regs.MSIX_CTRL) == 0


@cocotb.test()
async def table_write_read_back(dut):
    """Every word of every entry written with random values and read back; the
    window beyond the vector count and the PBA ignore writes and read 0 / pending."""
    tb = TB(dut)
    await tb.reset()
    rng = random.Random(oxnic_tb.seed())
    model = MsixModel(tb.vectors)
    n = tb.vectors
    ops = [wr(entry(v, w), rng.getrandbits(32)) for v in range(n) for w in ENTRY_WORDS]
    ops += [wr(entry(v, w), rng.getrandbits(32)) for v in range(n, n + 4) for w in ENTRY_WORDS]
    ops += [wr(pba(w), 0xFFFF_FFFF) for w in range(tb.words + 1)]
    rng.shuffle(ops)
    ops += [rd(entry(v, w)) for v in range(n + 4) for w in ENTRY_WORDS]
    ops += [rd(pba(w)) for w in range(tb.words + 1)]
    sent, checked = await tb.run_ops(rng, ops, model, 1.0, False, 1.0)
    assert sent == [], "table writes with MSI-X disabled sent messages"
    assert checked == sum(op[0] == "rd" for op in ops)
    assert any(model.masked) and not all(model.masked), "mask bits not both ways"


@cocotb.test()
async def directed_rules(dut):
    """The MSI-X rules one by one, each step's messages and PBA against the model."""
    tb = TB(dut)
    await tb.reset()
    n = tb.vectors
    model = MsixModel(n)
    v, w, u = n - 1, 0, n // 2
    assert len({v, w, u}) == 3

    async def step(ops, want, what):
        before = len(model.sent)
        sent = await tb.do(model, *ops, ready_prob=0.5)
        assert sent == model.sent[before:], f"{what}: block sent {sent}, model {model.sent[before:]}"
        assert len(sent) == want, f"{what}: {len(sent)} messages, want {want}"
        # PBA against the model after every step.
        await tb.do(model, *[rd(pba(i)) for i in range(tb.words)])
        return sent

    def program(x, a, d):
        return [wr(entry(x, ADDR_LO), a & 0xFFFF_FFFF), wr(entry(x, ADDR_HI), a >> 32), wr(entry(x, DATA), d)]

    en = wr(regs.MSIX_CTRL, ctrl_value(1, 0))
    await step(program(v, 0xFEE0_0000_0000_1000, 0x11) + program(w, 0xFEE0_0001_2345_6788, 0x22)
               + program(u, 0x0000_0000_FEE0_0010, 0x33) + [en], 0, "program, enable")
    await step([irq(v)], 0, "masked vector (reset value): held")
    assert model.pending[v]
    await step([irq(v)], 0, "second request while masked: still one pending")
    await step(program(v, 0xABCD_0000_0000_2000, 0x99), 0, "table rewritten while pending")
    sent = await step([wr(entry(v, VCTRL), 0)], 1, "unmask with pending: one message")
    assert sent == [(0xABCD_0000_0000_2000, 0x99)], "message does not carry the table's value at send time"
    assert not model.pending[v]
    await step([wr(entry(v, VCTRL), 0)], 0, "unmask again: nothing pending, nothing sent")
    await step([irq(v)], 1, "unmasked, enabled: sent at once")
    await step([wr(entry(w, VCTRL), 0), wr(entry(u, VCTRL), 0)], 0, "unmask w, u (nothing pending)")
    await step([wr(regs.MSIX_CTRL, ctrl_value(1, 1)), irq(v), irq(w), irq(u), irq(v)], 0, "function mask holds all")
    assert model.pending[v] and model.pending[w] and model.pending[u]
    await step([wr(entry(u, VCTRL), 1)], 0, "vector mask on a function-masked pending vector")
    await step(program(w, 0x1111_2222_3333_4444, 0x55), 0, "rewrite w while function-masked")
    sent = await step([en], 2, "function mask cleared: each pending, unmasked vector once")
    assert sent == [(0x1111_2222_3333_4444, 0x55), (0xABCD_0000_0000_2000, 0x99)], sent
    assert model.pending[u]
    await step([wr(entry(u, VCTRL), 0)], 1, "u unmasked after the function mask: sent")
    await step([en], 0, "enable written again: nothing pending")
    await step([wr(regs.MSIX_CTRL, ctrl_value(0, 0)), irq(w), irq(v)], 0, "MSI-X disabled: held")
    assert model.pending[w] and model.pending[v]
    await step([wr(entry(v, VCTRL), 1), wr(entry(v, VCTRL), 0)], 0, "mask toggled while disabled: nothing")
    await step([wr(regs.MSIX_CTRL, ctrl_value(0, 1)), wr(regs.MSIX_CTRL, ctrl_value(0, 0))], 0, "function mask toggled while disabled")
    await step([en], 2, "enabled: the held requests go out once each")
    if tb.vmax > n:
        await step([irq(n), irq(tb.vmax - 1)], 0, "request beyond the vector count: dropped")
    await step([irq(v), irq(w), irq(u)], 3, "all deliverable")
    assert not any(model.pending)


async def random_run(dut, ops, ready_prob, overlapped, hot_count=None):
    tb = TB(dut)
    await tb.reset()
    rng = random.Random(oxnic_tb.seed())
    n = tb.vectors
    model = MsixModel(n, atomic=not overlapped)
    hot = list(range(n)) if hot_count is None else rng.sample(range(n), min(hot_count, n))
    setup = [wr(entry(v, w), rng.getrandbits(32)) for v in range(n) for w in (ADDR_LO, ADDR_HI, DATA)]
    setup.append(wr(regs.MSIX_CTRL, ctrl_value(1, 0)))
    seq = setup + [random_op(rng, n, tb.vmax, hot) for _ in range(ops)]
    # Final state: every pending bit and mask bit, with the sweep finished.
    tail = [rd(pba(w)) for w in range(tb.words)] + [rd(entry(v, VCTRL)) for v in range(n)]
    # Overlapped: busy phases queue requests on all ports; quiet ones let the sweep run.
    sent, checked = await tb.run_ops(rng, seq, model, ready_prob, overlapped, 0.6 if overlapped else 0.8)
    sent2, checked2 = await tb.run_ops(rng, tail, model, 1.0, False)
    assert not sent2
    assert len(model.sent) > 20, f"only {len(model.sent)} messages expected: the sequence proves little"
    assert len(sent) == len(model.sent), f"{len(sent)} messages, model sent {len(model.sent)} (lost or duplicated)"
    for i, (got, want) in enumerate(zip(sent, model.sent)):
        assert got == want, f"message {i}: block (0x{got[0]:016X}, 0x{got[1]:08X}), model (0x{want[0]:016X}, 0x{want[1]:08X})"
    assert model.stats["on_unmask"] and model.stats["on_function"] and model.stats["held"], model.stats
    dut._log.info("%d ops, %d messages (%s), %d reads, all matched", ops, len(sent), model.stats, checked + checked2)


@cocotb.test()
async def random_serial(dut):
    """One operation at a time over all vectors, mild message backpressure."""
    await random_run(dut, 3000, 0.7, False)


@cocotb.test()
async def random_serial_hot_backpressure(dut):
    """One operation at a time on three vectors, heavy message backpressure."""
    await random_run(dut, 2000, 0.15, False, hot_count=3)


@cocotb.test()
async def random_overlapped(dut):
    """Requests on all three ports back to back, during messages and sweeps."""
    await random_run(dut, 4000, 0.5, True)


@cocotb.test()
async def random_overlapped_hot_backpressure(dut):
    """Back-to-back requests on three vectors, heavy message backpressure."""
    await random_run(dut, 3000, 0.15, True, hot_count=3)


@pytest.mark.parametrize("vectors", [9, 65])
def test_msix(vectors):
    # oxnic-gen's default vector count is queues + 1: --queues V-1 generates V vectors.
    try:
        oxnic_tb.run("msix", "msix", "test_msix", vectors - 1, Path(__file__).parent,
                     extra_env={"VECTORS": str(vectors)})
    finally:
        for f in Path(__file__).parent.glob("*.None"):
            f.unlink()
