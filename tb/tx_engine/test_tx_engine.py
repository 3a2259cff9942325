"""cocotb bench for ``tx_engine`` (hw/rtl/src/tx_engine.rs): doorbell → descriptor
fetch → frame DMA read → AXIS to the MAC → completion write → event.

Around the engine:
* ``QueueModel``: the ``tx_queue`` op responder (queue_state's rules: TAKE_DESC
  answers DISABLED/EMPTY/OK and advances DESC_CONS, COMPLETE answers FULL or the
  slot with its phase, ERROR stops the queue; accept, then answer one cycle later;
  random extra busy cycles), plus per-queue rings and the doorbells on ``s_db_*``
  (with random repeated doorbells);
* host memory: an ``AxiRam`` with error windows (reads and writes overlapping a
  window answer SLVERR per beat) and random pauses on every channel;
* the MAC: an ``AxiStreamSink`` with random backpressure, plus a beat monitor
  (tkeep all ones except a contiguous last beat, tuser only on last beats);
* the driver: posts frames while its ring has room, returns completions
  (DB_CPL_CONS) only after the event, with random delay.

Scoreboard (independent of the engine's structure): per queue, the descriptors
the model handed out, in order, each with what must happen — OK frame: the
frame's bytes exactly, tuser 0, completion {LEN, STATUS OK, index, queue, phase}
written before its event; bad descriptor: no frame, completion DESC_ERROR LEN 0,
err_set DESC; descriptor read error: no frame, no completion, OP_ERROR, err_set
DMA_READ; data read error: a frame with tuser 1, no completion, OP_ERROR, err_set
DMA_READ with the failing burst's address; completion write error: frame sent,
OP_ERROR, err_set DMA_WRITE, no event. Counters from ``cnt_inc``. Frames from
different queues are told apart by content (random bytes, lengths ≥ 14).

Also: AR bursts INCR, arsize 3, ≤ 256 beats, never crossing 4 KiB; fairness with
all queues busy; halt → idle → rst → clean restart; throughput (cycles per
64-byte and 1514-byte frame, printed).

Run: ``.venv/bin/pytest -q -p no:cacheprovider tb/tx_engine`` (``SEED=n`` replays).
"""

import os
import random
from collections import deque
from pathlib import Path

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge
from cocotbext.axi import (AxiBus, AxiRamRead, AxiRamWrite, AxiStreamBus,
                           AxiStreamSink)
from cocotbext.axi.memory import Memory

import oxnic_tb
from oxnic_tb import regs

OP_TAKE, OP_COMPLETE, OP_ERROR = 0, 1, 2
RSP_OK, RSP_DISABLED, RSP_EMPTY, RSP_FULL = 0, 1, 2, 3
REGION = 0x10_0000          # host memory per queue
DESC_OFF, CPL_OFF, BUF_OFF, BUF_STRIDE = 0x0, 0x800, 0x1000, 0x3000
BUDGET = 8


def pauses(rng, p):
    while True:
        yield rng.random() < p


class ErrRead(AxiRamRead):
    def __init__(self, *a, windows, **kw):
        self.windows = windows
        super().__init__(*a, **kw)

    async def _read(self, address, length):
        for lo, hi in self.windows:
            if address < hi and address + length > lo:
                raise ValueError("error window")
        return await super()._read(address, length)


class ErrWrite(AxiRamWrite):
    def __init__(self, *a, windows, **kw):
        self.windows = windows
        super().__init__(*a, **kw)

    async def _write(self, address, data):
        for lo, hi in self.windows:
            if address < hi and address + len(data) > lo:
                raise ValueError("error window")
        await super()._write(address, data)


class Ram(Memory):
    def __init__(self, bus, clock, reset, size):
        self.write_if = None
        self.read_if = None
        super().__init__(size)
        self.rd_err = []
        self.wr_err = []
        self.write_if = ErrWrite(bus.write, clock, reset, mem=self.mem, windows=self.wr_err)
        self.read_if = ErrRead(bus.read, clock, reset, mem=self.mem, windows=self.rd_err)


class Q:
    """One queue: the model of tx_queue's state plus the driver's view."""

    def __init__(self, n, log2):
        self.n = n
        self.log2 = log2
        self.size = 1 << log2
        self.base = (n + 1) * REGION
        self.vector = (n * 7 + 3) & 0xFFF
        self.moderation = (n * 0x10001 + 5) & 0xFFFFFFFF
        self.restart()

    def restart(self):
        """CTRL.ENABLE = 1: indices zeroed, error cleared; the driver zeroes its ring."""
        self.running = True
        self.prod = self.cons = self.cpl_prod = self.cpl_cons = 0
        self.posted = {}            # desc index -> dict
        self.taken = []             # desc indices handed out, in order
        self.pending_cpl = deque()  # completions expected (desc index, len, status)
        self.pending_frames = deque()  # frames expected on the wire (bytes, tuser)
        self.events = 0
        self.done = 0               # descriptors finished (completion seen / error)
        self.error = False


class TB:
    def __init__(self, dut, queues, log2=4, pause=0.3, mac_pause=0.3, op_busy=0.2):
        self.dut = dut
        self.rng = random.Random(oxnic_tb.seed())
        self.nq = queues
        self.qs = [Q(i, log2) for i in range(queues)]
        cocotb.start_soon(Clock(dut.clk, 4, units="ns").start())
        self.ram = Ram(AxiBus.from_prefix(dut, "m_axi"), dut.clk, dut.rst, (queues + 2) * REGION)
        self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis_tx"), dut.clk, dut.rst)
        self.op_busy = op_busy
        self.set_pauses(pause, mac_pause)
        self.db = deque()
        self.cycle = 0
        self.ops = []               # (cycle, queue, code)
        self.errs = []              # (bits, queue, addr)
        self.cnt = [0, 0]
        self.ar = []                # (id, addr, len)
        self.first_beats = []       # cycle of each frame's first beat
        self.out_order = []         # queue of each frame as matched
        self.frames_out = 0
        self.bad = []
        self.event_hold = 0.3
        dut.rst.value = 0
        dut.s_db_valid.value = 0
        dut.s_db_queue.value = 0
        dut.m_op_ready.value = 0
        dut.s_rsp_valid.value = 0
        dut.m_event_ready.value = 0
        dut.halt.value = 0
        cocotb.start_soon(self.queue_side())
        cocotb.start_soon(self.doorbells())
        cocotb.start_soon(self.monitor())
        cocotb.start_soon(self.events())
        cocotb.start_soon(self.frames())

    def set_pauses(self, p, mac_p):
        r = self.ram
        for ch in (r.write_if.aw_channel, r.write_if.w_channel, r.write_if.b_channel,
                   r.read_if.ar_channel, r.read_if.r_channel):
            if p:
                ch.set_pause_generator(pauses(random.Random(self.rng.randrange(1 << 32)), p))
            else:
                ch.clear_pause_generator()
        if mac_p:
            self.sink.set_pause_generator(pauses(random.Random(self.rng.randrange(1 << 32)), mac_p))
        else:
            self.sink.clear_pause_generator()

    async def reset(self):
        self.dut.rst.value = 1
        for _ in range(3):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await self.wait_idle()

    async def wait_idle(self, limit=20000):
        for _ in range(limit):
            await RisingEdge(self.dut.clk)
            if int(self.dut.idle.value):
                return
        raise AssertionError("idle never came")

    # ---------------------------------------------------------------- tx_queue
    async def queue_side(self):
        dut = self.dut
        pending = None
        while True:
            await RisingEdge(dut.clk)
            self.cycle += 1
            dut.s_rsp_valid.value = 0
            if int(dut.rst.value):
                pending = None
                dut.m_op_ready.value = 0
                continue
            if pending is not None:
                st, addr, idx, ph, q = pending
                dut.s_rsp_valid.value = 1
                dut.s_rsp_status.value = st
                dut.s_rsp_addr.value = addr
                dut.s_rsp_index.value = idx
                dut.s_rsp_phase.value = ph
                dut.s_rsp_vector.value = q.vector
                dut.s_rsp_moderation.value = q.moderation
                pending = None
                dut.m_op_ready.value = 0
                continue
            if int(dut.m_op_valid.value) and int(dut.m_op_ready.value):
                q = self.qs[int(dut.m_op_queue.value)]
                code = int(dut.m_op_code.value)
                self.ops.append((self.cycle, q.n, code))
                pending = self.op(q, code, int(dut.m_op_len.value)) + (q,)
                dut.m_op_ready.value = 0
            else:
                dut.m_op_ready.value = int(self.rng.random() >= self.op_busy)

    def op(self, q, code, length):
        if code == OP_TAKE:
            if not q.running:
                return (RSP_DISABLED, 0, q.cons & 0xFFFF, 0)
            if q.cons == q.prod:
                return (RSP_EMPTY, 0, q.cons & 0xFFFF, 0)
            idx = q.cons
            q.cons += 1
            q.taken.append(idx)
            d = q.posted[idx]
            d["taken"] = True
            # What must follow from this descriptor.
            if d["kind"] in ("ok", "wrerr"):
                q.pending_frames.append((d["data"], 0))
            elif d["kind"] == "derr":
                q.pending_frames.append((None, len(d["data"])))
            if d["kind"] in ("ok", "wrerr"):
                q.pending_cpl.append((idx, len(d["data"]), regs.CPL_STATUS_OK, d["kind"]))
            elif d["kind"] == "bad":
                q.pending_cpl.append((idx, 0, regs.CPL_STATUS_DESC_ERROR, "bad"))
            return (RSP_OK, self.desc_addr(q, idx), idx & 0xFFFF, 0)
        if code == OP_COMPLETE:
            if q.cpl_prod - q.cpl_cons >= q.size:
                return (RSP_FULL, 0, 0, 0)
            idx = q.cpl_prod
            q.cpl_prod += 1
            ph = int(((idx >> q.log2) & 1) == 0)
            exp = q.pending_cpl[0]
            assert exp[1] == length, f"q{q.n}: OP_COMPLETE len {length}, expected {exp[1]}"
            return (RSP_OK, q.base + CPL_OFF + (idx % q.size) * 16, idx & 0xFFFF, ph)
        if code == OP_ERROR:
            q.running = False
            q.error = True
            return (RSP_OK, 0, 0, 0)
        raise AssertionError(f"unexpected op code {code}")

    def desc_addr(self, q, idx):
        return q.base + DESC_OFF + (idx % q.size) * 16

    async def doorbells(self):
        dut = self.dut
        cur = None
        while True:
            await RisingEdge(dut.clk)
            if int(dut.rst.value):
                cur = None
                dut.s_db_valid.value = 0
                continue
            if cur is not None and int(dut.s_db_valid.value) and int(dut.s_db_ready.value):
                cur = None
            if cur is None and self.db and self.rng.random() < 0.7:
                cur = self.db.popleft()
            dut.s_db_valid.value = int(cur is not None)
            if cur is not None:
                dut.s_db_queue.value = cur

    # ---------------------------------------------------------------- driver
    def post(self, q, data, kind="ok", misalign=False, length=None):
        idx = q.prod
        assert idx - q.done < q.size, "ring overrun by the test"
        addr = q.base + BUF_OFF + (idx % q.size) * BUF_STRIDE + 8 * self.rng.randrange(0x100)
        if misalign:
            addr += self.rng.randrange(1, 8)
        self.ram.write(addr, data)
        ln = len(data) if length is None else length
        da = self.desc_addr(q, idx)
        self.ram.write(da, addr.to_bytes(8, "little") + ln.to_bytes(4, "little") + bytes(4))
        q.posted[idx] = {"data": data, "kind": kind, "addr": addr, "desc": da, "taken": False}
        q.prod += 1
        self.db.append(q.n)
        if self.rng.random() < 0.3:   # a repeated doorbell
            self.db.append(q.n)
        return idx, addr

    def frame(self, lo=14, hi=1514):
        if self.rng.random() < 0.03:
            return self.rng.randbytes(self.rng.randint(hi, regs.MAX_MTU))
        n = self.rng.choice([lo, hi, self.rng.randint(lo, hi), self.rng.randint(lo, 200)])
        return self.rng.randbytes(n)

    async def feed(self, q, n, make=None, depth=None):
        """Posts ``n`` frames on ``q`` as ring space allows."""
        depth = q.size if depth is None else depth
        for _ in range(n):
            while q.prod - q.done >= depth:
                await RisingEdge(self.dut.clk)
            if q.error:
                return
            if make is None:
                self.post(q, self.frame())
            else:
                make(q)
            if self.rng.random() < 0.2:
                for _ in range(self.rng.randrange(30)):
                    await RisingEdge(self.dut.clk)

    # ---------------------------------------------------------------- monitors
    async def monitor(self):
        dut = self.dut
        in_frame = False
        while True:
            await RisingEdge(dut.clk)
            if int(dut.rst.value):
                in_frame = False
                continue
            c = int(dut.cnt_inc.value)
            self.cnt[0] += c & 1
            self.cnt[1] += (c >> 1) & 1
            e = int(dut.err_set.value)
            if e:
                self.errs.append((e, int(dut.err_queue.value), int(dut.err_addr.value)))
            if int(dut.m_axi_arvalid.value) and int(dut.m_axi_arready.value):
                a, ln = int(dut.m_axi_araddr.value), int(dut.m_axi_arlen.value) + 1
                assert int(dut.m_axi_arsize.value) == 3 and int(dut.m_axi_arburst.value) == 1
                assert ln <= 256 and (a & 0xFFF) + 8 * ln <= 0x1000, f"AR {a:#x} x{ln} crosses 4K"
                assert a % 8 == 0
                self.ar.append((int(dut.m_axi_arid.value), a, ln))
            if int(dut.m_axis_tx_tvalid.value) and int(dut.m_axis_tx_tready.value):
                if not in_frame:
                    self.first_beats.append(self.cycle)
                keep = int(dut.m_axis_tx_tkeep.value)
                last = int(dut.m_axis_tx_tlast.value)
                if not last:
                    assert keep == 0xFF, f"tkeep {keep:#x} on a middle beat"
                    assert not int(dut.m_axis_tx_tuser.value), "tuser on a middle beat"
                else:
                    assert keep in (1, 3, 7, 15, 31, 63, 127, 255), f"last tkeep {keep:#x}"
                in_frame = not last

    async def frames(self):
        """Matches every frame from the MAC side to the head of some queue's list."""
        while True:
            f = await self.sink.recv()
            data = bytes(f.tdata)
            tuser = f.tuser[-1] if isinstance(f.tuser, list) and f.tuser else int(f.tuser or 0)
            match = None
            for q in self.qs:
                if not q.pending_frames:
                    continue
                exp, info = q.pending_frames[0]
                if exp is None:
                    if tuser and len(data) == info:
                        match = q
                        break
                elif not tuser and data == exp:
                    match = q
                    break
            if match is None:
                self.bad.append(f"unexpected frame len {len(data)} tuser {tuser}")
                continue
            match.pending_frames.popleft()
            self.out_order.append(match.n)
            self.frames_out += 1

    async def events(self):
        dut = self.dut
        while True:
            await RisingEdge(dut.clk)
            if int(dut.rst.value):
                continue
            if int(dut.m_event_valid.value) and int(dut.m_event_ready.value):
                q = self.qs[int(dut.m_event_queue.value)]
                if int(dut.m_event_vector.value) != q.vector or \
                        int(dut.m_event_moderation.value) != q.moderation:
                    self.bad.append(f"q{q.n}: event vector/moderation wrong")
                self.check_cpl(q)
            dut.m_event_ready.value = int(self.rng.random() >= self.event_hold)

    def check_cpl(self, q):
        """The event's completion must already be in host memory, in order."""
        if not q.pending_cpl:
            self.bad.append(f"q{q.n}: event without a pending completion")
            return
        idx, ln, st, kind = q.pending_cpl.popleft()
        if kind == "wrerr":
            self.bad.append(f"q{q.n}: event after a failed completion write")
            return
        ci = q.events
        slot = q.base + CPL_OFF + (ci % q.size) * 16
        raw = self.ram.read(slot, 16)
        w = [int.from_bytes(raw[4 * i:4 * i + 4], "little") for i in range(4)]
        ph = int(((ci >> q.log2) & 1) == 0)
        exp = [ln | (st << 16), 0, (idx & 0xFFFF) | (q.n << 16), ph << 31]
        if w != exp:
            self.bad.append(f"q{q.n} cpl {ci}: {[hex(x) for x in w]} != {[hex(x) for x in exp]}")
        q.events += 1
        q.done += 1
        cocotb.start_soon(self.return_cpl(q, ci + 1))

    async def return_cpl(self, q, cons):
        for _ in range(self.rng.randrange(40)):
            await RisingEdge(self.dut.clk)
        q.cpl_cons = max(q.cpl_cons, cons)

    async def settle(self, limit=200000):
        """Waits until every taken descriptor is accounted for and the engine idles."""
        for _ in range(limit):
            await RisingEdge(self.dut.clk)
            if all(not q.pending_frames and not q.pending_cpl and (q.error or q.cons == q.prod)
                   for q in self.qs) and int(self.dut.idle.value) and not self.db:
                break
        else:
            state = [(q.n, q.prod, q.cons, len(q.pending_frames), len(q.pending_cpl))
                     for q in self.qs]
            raise AssertionError(f"did not settle: {state}; {self.bad[:5]}")
        for _ in range(50):
            await RisingEdge(self.dut.clk)
        assert not self.bad, self.bad[:10]


def queues():
    return int(os.environ["QUEUES"])


@cocotb.test(timeout_time=40, timeout_unit="ms")
async def random_traffic(dut):
    """Random frames on every queue, backpressure everywhere, ring wraps, repeated
    doorbells: every frame byte-exact, completions and events right and in order."""
    tb = TB(dut, queues())
    await tb.reset()
    per_q = 40 if tb.nq <= 8 else 6
    tasks = [cocotb.start_soon(tb.feed(q, per_q)) for q in tb.qs]
    for t in tasks:
        await t
    await tb.settle()
    total = per_q * tb.nq
    assert tb.frames_out == total and tb.cnt == [total, 0], (tb.frames_out, tb.cnt)
    assert all(q.events == per_q for q in tb.qs)
    assert not tb.errs


@cocotb.test(timeout_time=40, timeout_unit="ms")
async def errors(dut):
    """Bad descriptors, descriptor read error, data read error mid-frame, completion
    write error; the other queues keep going."""
    tb = TB(dut, queues())
    await tb.reset()
    rng = tb.rng
    expect_errs = []
    expect_tx_err = 0
    expect_frames = 0
    for case in ("bad", "rderr", "derr", "wrerr"):
        tq = tb.qs[rng.randrange(tb.nq)]
        others = [q for q in tb.qs if q is not tq]
        tasks = [cocotb.start_soon(tb.feed(q, 10)) for q in others]
        for _ in range(3):
            tb.post(tq, tb.frame())
        if case == "bad":
            for ln, mis in ((0, False), (regs.MAX_MTU + 1, False), (0xFFFF, False), (100, True)):
                _, addr = tb.post(tq, tb.rng.randbytes(16), kind="bad", misalign=mis, length=ln)
                expect_errs.append((8, tq.n, tb.desc_addr(tq, tq.prod - 1)))
                expect_tx_err += 1
            tb.post(tq, tb.frame())
        elif case == "rderr":
            idx = tq.prod
            da = tb.desc_addr(tq, idx)
            tb.ram.rd_err.append((da + 8, da + 9))
            tb.post(tq, tb.frame(), kind="rderr")
            expect_errs.append((1, tq.n, da))
            expect_tx_err += 1
        elif case == "derr":
            data = rng.randbytes(rng.choice([3000, 5000, 9000]))
            idx, addr = tb.post(tq, data, kind="derr")
            off = 8 * rng.randrange(len(data) // 8 - 1)
            tb.ram.rd_err.append((addr + off, addr + off + 1))
            expect_tx_err += 1
        else:
            ci = tq.cpl_prod + len(tq.pending_cpl) + (tq.prod - tq.cons)
            slot = tq.base + CPL_OFF + (ci % tq.size) * 16
            tb.ram.wr_err.append((slot + 12, slot + 13))
            tb.post(tq, tb.frame(), kind="wrerr")
            expect_errs.append((2, tq.n, slot))
        for t in tasks:
            await t
        if case in ("rderr", "derr", "wrerr"):
            # The queue stops: wait for the OP_ERROR, then no more is expected of it.
            for _ in range(100000):
                await RisingEdge(dut.clk)
                if tq.error:
                    break
            assert tq.error, f"{case}: no OP_ERROR for q{tq.n}"
            if case == "wrerr":
                # The failed completion is never evented; the driver gives it up.
                while tq.pending_cpl and tq.pending_cpl[0][3] != "wrerr":
                    await RisingEdge(dut.clk)
                for _ in range(200):
                    await RisingEdge(dut.clk)
                tq.pending_cpl.popleft()
        await tb.settle()
        if case == "derr":
            # The first failing burst: the data AR that covers the window.
            lo, _ = tb.ram.rd_err[-1]
            burst = [a for i, a, n in tb.ar if i == 0 and a <= lo < a + 8 * n][-1]
            expect_errs.append((1, tq.n, burst))
        expect_frames = tb.frames_out
        # Recover the queue (the driver re-enables it: indices and ring zeroed).
        tb.ram.rd_err.clear()
        tb.ram.wr_err.clear()
        tb.ram.write(tq.base + CPL_OFF, bytes(16 * tq.size))
        tq.restart()
    assert sorted(tb.errs) == sorted(expect_errs), (tb.errs, expect_errs)
    assert tb.cnt[1] == expect_tx_err, (tb.cnt, expect_tx_err)
    derr_frames = 1
    assert tb.cnt[0] == expect_frames - derr_frames, (tb.cnt, expect_frames)


@cocotb.test(timeout_time=40, timeout_unit="ms")
async def fairness(dut):
    """All queues busy: no queue waits while another gets more than its budget."""
    tb = TB(dut, queues(), pause=0.1, mac_pause=0.1)
    await tb.reset()
    n = 12
    tasks = [cocotb.start_soon(tb.feed(q, n)) for q in tb.qs]
    for t in tasks:
        await t
    await tb.settle()
    seen = {}
    for i, qn in enumerate(tb.out_order):
        seen[qn] = seen.get(qn, 0) + 1
        if seen[qn] == BUDGET + 1:
            # Every queue was listed before this one came round again.
            starving = [q.n for q in tb.qs if q.n not in seen]
            assert not starving, f"q{qn} sent {BUDGET + 1} frames before q{starving} sent any"
    assert tb.frames_out == n * tb.nq


@cocotb.test(timeout_time=40, timeout_unit="ms")
async def halt_and_reset(dut):
    """halt: taken descriptors finish, then idle and no more takes; rst empties the
    work list (a queue listed before the reset is served after it)."""
    tb = TB(dut, queues())
    await tb.reset()
    tasks = [cocotb.start_soon(tb.feed(q, 12)) for q in tb.qs]
    for _ in range(300):
        await RisingEdge(dut.clk)
    dut.halt.value = 1
    await tb.wait_idle(limit=100000)
    takes = len(tb.ops)
    for _ in range(300):
        await RisingEdge(dut.clk)
    assert int(dut.idle.value)
    assert all(c != OP_TAKE for _, _, c in tb.ops[takes:]), "a take while halted and idle"
    # Everything taken has come out.
    for q in tb.qs:
        assert not q.pending_frames and not q.pending_cpl, f"q{q.n} unfinished at idle"
    for t in tasks:
        t.kill()
    # Soft reset: the queues' state resets too.
    tb.db.clear()
    dut.rst.value = 1
    await RisingEdge(dut.clk)
    for q in tb.qs:
        tb.ram.write(q.base + CPL_OFF, bytes(16 * q.size))
        q.restart()
    dut.rst.value = 0
    dut.halt.value = 0
    await tb.wait_idle()
    tasks = [cocotb.start_soon(tb.feed(q, 12)) for q in tb.qs]
    for t in tasks:
        await t
    await tb.settle()
    assert all(q.events == 12 for q in tb.qs)


async def measure(dut, size):
    tb = TB(dut, queues(), log2=6, pause=0, mac_pause=0, op_busy=0)
    tb.event_hold = 0
    await tb.reset()
    q = tb.qs[0]
    n = 40
    for _ in range(n):
        tb.post(q, tb.rng.randbytes(size))
    await tb.settle()
    beats = tb.first_beats[4:]
    per = (beats[-1] - beats[0]) / (len(beats) - 1)
    msg = f"throughput: {size}-byte frames back to back: {per:.1f} cycles per frame ({(size + 7) // 8} beats)"
    print(msg)
    dut._log.info(msg)
    return per


@cocotb.test(timeout_time=40, timeout_unit="ms")
async def throughput_64(dut):
    """One queue, no backpressure, 64-byte frames: cycles per frame."""
    assert await measure(dut, 64) <= 24


@cocotb.test(timeout_time=40, timeout_unit="ms")
async def throughput_1514(dut):
    """One queue, no backpressure, 1514-byte frames: cycles per frame."""
    assert await measure(dut, 1514) <= 200


# 64 queues takes long on a shared 2-core machine (the 8-queue run alone takes
# about 11 minutes there): opt in with TX_ENGINE_Q64=1.
@pytest.mark.parametrize("queues", [1, 8] + ([64] if os.environ.get("TX_ENGINE_Q64") else []))
def test_tx_engine(queues):
    oxnic_tb.run("tx_engine", "tx_engine", "test_tx_engine", queues, Path(__file__).parent)
