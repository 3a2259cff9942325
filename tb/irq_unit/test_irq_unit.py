"""cocotb bench for ``irq_unit`` (hw/rtl/src/irq_unit.rs): the interrupt path
from the engines' completion events through ``irq_moderation``, ``irq_latch``,
the vector RAM and ``msix`` to the MSI-X message write on ``m_axi``.

Reference: a Python model written from the specs, not from the RTL —
``LatchModel`` (irq_latch's rules: EVENT sets PENDING, ARM sets ARMED,
MASK/UNMASK set/clear MASKED; ARMED & PENDING & !MASKED fires once and clears
ARMED and PENDING) per *interrupt queue* (RX queue q is q, TX queue q is
``q | 1 << QW``), the last vector an event of the queue carried, and
``MsixModel`` (the PCIe MSI-X rules of ../shared/notes/semantics.md: a request
for a masked vector sets its PBA bit, unmasking sends it once; the message is
the table's address/data at send time). The only place the block's schedule
enters the model is *when* things happen: the model applies a latch command in
the cycle ``irq_latch`` takes it and an ``msix`` request in the cycle ``msix``
takes it (both observed on the internal handshakes ``latch$s_cmd_*`` and
``msix$s_irq_*``), and register writes / error requests when the ports take
them. Everything else is cross-checked against the ports:

* every latch command that is not an EVENT is the RX or TX register command
  taken at the port in that same cycle (queue number with the direction bit);
* every latch EVENT for an interrupt queue covers at least one event taken at
  the port for it and not yet covered (exactly one when its moderation is 0);
  at the end no port event is left uncovered (nothing lost in moderation);
* every queue request ``msix`` takes carries the vector of the queue the model
  fired (in firing order), and the error request has priority;
* the AXI writes on ``m_axi`` are exactly the model's messages, in order: one
  beat, AWLEN 0, AWSIZE 2, INCR, ID 0, WLAST, the 4-byte data in the lane of
  address bit 2 with WSTRB 0x0F / 0xF0; none is retried after SLVERR;
* ``halt``: no AXI write starts in a cycle after ``halt`` was high; ``idle``
  is high exactly when no write is outstanding (AW/W offered or B awaited);
* ``rd_state`` (one cycle after ``rd_queue``) equals the model's state word.

The AXI slave is a cocotbext-axi ``AxiSlaveWrite`` (recording, not storing)
with random pause generators on AW, W and B in every test (held off completely
where a test needs a stalled write).

Tests: bring-up (program the table, enable; armed / unarmed / masked queues,
RX and TX); shared vectors and the direction bit; error interrupt and its
priority; per-vector table mask and PBA; rd_state for RX and TX queues;
moderation timing (cycle gaps printed); halt / idle; a random run mixing all
of it for a few thousand cycles, with a final quiescent check of every queue
state, the PBA and the message count.

Run: ``.venv/bin/pytest -q -p no:cacheprovider tb/irq_unit`` (queue counts 1
and 8; ``SEED=n`` replays, ``WAVES=1`` records FST). Set
``CARGO_TARGET_DIR`` to a private target dir if other builds hold the lock.
"""

import logging
import os
import random
from collections import deque
from pathlib import Path

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge
from cocotbext.axi import AxiWriteBus
from cocotbext.axi.axi_slave import AxiSlaveWrite

import oxnic_tb
from oxnic_tb import regs

QUEUES = int(os.environ.get("QUEUES", "8"))
QW = max(1, (QUEUES - 1).bit_length())
DIR = 1 << QW
IQS = 2 * DIR  # interrupt queue numbers (latch entries)
VECTORS = QUEUES + 1  # oxnic-gen default
CLOCK_MHZ = 156  # oxnic-gen default

EVENT, ARM, MASK, UNMASK = 0, 1, 2, 3
ARMED, MASKED, PENDING = 1, 2, 4

ADDR_LO = regs.MSIX_ENTRY_ADDR.word_offset
ADDR_HI = regs.MSIX_ENTRY_ADDR.word_offset + 4
DATA = regs.MSIX_ENTRY_DATA.word_offset
VCTRL = regs.MSIX_ENTRY_MASK.word_offset
MASK_BIT = regs.MSIX_ENTRY_CTRL_MASK


def entry(v, word):
    """BAR0 offset of word ``word`` of MSI-X table entry ``v``."""
    return regs.MSIX_TABLE_OFFSET + v * regs.MSIX_ENTRY_SIZE + word


def pba(w):
    return regs.MSIX_PBA + 4 * w


def ctrl_value(enable, function_mask=0):
    return regs.MSIX_CTRL_FUNCTION_MASK.set(regs.MSIX_CTRL_ENABLE.set(0, int(enable)), int(function_mask))


def rxq(q):
    return q


def txq(q):
    return q | DIR


def qname(iq):
    return f"{'TX' if iq & DIR else 'RX'}{iq & (DIR - 1)}"


# ---------------------------------------------------------------------------
# Reference model


class LatchModel:
    """One interrupt queue: arm / mask / latch."""

    def __init__(self):
        self.armed = self.masked = self.pending = False

    def apply(self, op):
        if op == EVENT:
            self.pending = True
        elif op == ARM:
            self.armed = True
        elif op == MASK:
            self.masked = True
        else:
            self.masked = False
        if self.armed and self.pending and not self.masked:
            self.armed = self.pending = False
            return True
        return False

    def bits(self):
        return ARMED * self.armed | MASKED * self.masked | PENDING * self.pending


class MsixModel:
    """PCIe MSI-X rules, ``n`` vectors (requests at or above ``n`` dropped)."""

    def __init__(self, n):
        self.n = n
        self.addr = [0] * n
        self.data = [0] * n
        self.masked = [bool(MASK_BIT.reset)] * n
        self.pending = [False] * n
        self.enable = bool(regs.MSIX_CTRL_ENABLE.reset)
        self.function_mask = bool(regs.MSIX_CTRL_FUNCTION_MASK.reset)
        self.sent = []  # (address, data, vector)
        self.held = 0

    def allows(self):
        return self.enable and not self.function_mask

    def irq(self, v):
        if v >= self.n:
            return
        if self.allows() and not self.masked[v]:
            self.sent.append((self.addr[v], self.data[v], v))
        else:
            self.pending[v] = True
            self.held += 1

    def write(self, offset, value):
        if offset == regs.MSIX_CTRL:
            before = self.allows()
            self.enable = bool(regs.MSIX_CTRL_ENABLE.get(value))
            self.function_mask = bool(regs.MSIX_CTRL_FUNCTION_MASK.get(value))
            if self.allows() and not before:
                for v in range(self.n):
                    if self.pending[v] and not self.masked[v]:
                        self.pending[v] = False
                        self.sent.append((self.addr[v], self.data[v], v))
            return
        rel = offset - regs.MSIX_TABLE_OFFSET
        if not 0 <= rel < self.n * regs.MSIX_ENTRY_SIZE:
            return
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
                self.pending[v] = False
                self.sent.append((self.addr[v], self.data[v], v))

    def read(self, offset):
        if offset == regs.MSIX_CTRL:
            return ctrl_value(self.enable, self.function_mask)
        if regs.MSIX_PBA <= offset < pba((self.n + 31) // 32):
            w = (offset - regs.MSIX_PBA) // 4
            return sum(1 << b for b in range(32) if w * 32 + b < self.n and self.pending[w * 32 + b])
        rel = offset - regs.MSIX_TABLE_OFFSET
        if 0 <= rel < self.n * regs.MSIX_ENTRY_SIZE:
            v, word = divmod(rel, regs.MSIX_ENTRY_SIZE)
            return {ADDR_LO: self.addr[v] & 0xFFFF_FFFF, ADDR_HI: self.addr[v] >> 32,
                    DATA: self.data[v], VCTRL: MASK_BIT.set(0, int(self.masked[v]))}[word]
        return 0


# ---------------------------------------------------------------------------
# Bench


class RecordingSlave(AxiSlaveWrite):
    """AXI write slave that stores nothing; writes into ``error_addrs`` fail (SLVERR)."""

    def __init__(self, *args, **kwargs):
        self.error_addrs = set()
        self.writes = []
        super().__init__(*args, **kwargs)

    async def _write(self, address, data):
        self.writes.append((address, bytes(data)))
        if address in self.error_addrs:
            raise ValueError("error address")


class Port:
    """A valid/ready request port ``s_<name>_*`` fed from a queue of dicts."""

    def __init__(self, dut, name, fields):
        self.name = name
        self.valid = getattr(dut, f"s_{name}_valid")
        self.ready = getattr(dut, f"s_{name}_ready")
        self.sigs = {f: getattr(dut, f"s_{name}_{f}") for f in fields}
        self.q = deque()
        self.cur = None
        self.prob = 1.0
        self.valid.value = 0
        for s in self.sigs.values():
            s.value = 0

    def drive(self, rng):
        if self.cur is None and self.q and (self.prob >= 1.0 or rng.random() < self.prob):
            self.cur = self.q.popleft()
            for f, s in self.sigs.items():
                s.value = self.cur[f]
        self.valid.value = int(self.cur is not None)

    def taken(self):
        if self.cur is not None and int(self.ready.value):
            t, self.cur = self.cur, None
            return t
        return None

    def empty(self):
        return self.cur is None and not self.q


def pauses(rng, tb, chan):
    while True:
        yield tb.hold[chan] or rng.random() < tb.bp


class TB:
    def __init__(self, dut, seed=None):
        self.dut = dut
        self.rng = random.Random(oxnic_tb.seed() if seed is None else seed)
        cocotb.start_soon(Clock(dut.clk, 4, units="ns").start())
        dut.rst.value = 0
        dut.halt.value = 0
        dut.rd_queue.value = 0
        self.ports = {
            "rx_event": Port(dut, "rx_event", ("queue", "vector", "moderation")),
            "tx_event": Port(dut, "tx_event", ("queue", "vector", "moderation")),
            "rx_cmd": Port(dut, "rx_cmd", ("queue", "op")),
            "tx_cmd": Port(dut, "tx_cmd", ("queue", "op")),
            "err_irq": Port(dut, "err_irq", ("vector",)),
            "wr": Port(dut, "wr", ("addr", "data")),
            "rd": Port(dut, "rd", ("addr",)),
        }
        # Internal handshakes (ordering points of the model only).
        i = lambda n: dut._id(n, extended=False)  # noqa: E731
        self.latch_valid, self.latch_ready = i("latch$s_cmd_valid"), i("latch$s_cmd_ready")
        self.latch_queue, self.latch_op = i("latch$s_cmd_queue"), i("latch$s_cmd_op")
        self.msix_valid, self.msix_ready = i("msix$s_irq_valid"), i("msix$s_irq_ready")
        self.msix_vector = i("msix$s_irq_vector")
        self.fwd_valid, self.fwd_queue = i("moderation$m_event_valid"), i("moderation$m_event_queue")
        self.bp = 0.3
        self.hold = {"aw": False, "w": False, "b": False}
        self.axi = RecordingSlave(AxiWriteBus.from_prefix(dut, "m_axi"), dut.clk, dut.rst)
        self.axi.log.setLevel(logging.ERROR)
        self.axi.aw_channel.set_pause_generator(pauses(self.rng, self, "aw"))
        self.axi.w_channel.set_pause_generator(pauses(self.rng, self, "w"))
        self.axi.b_channel.set_pause_generator(pauses(self.rng, self, "b"))
        self.new_model()
        self.errors = []
        self.cycle = 0
        self.in_reset = True
        cocotb.start_soon(self._loop())

    def new_model(self):
        self.latch = [LatchModel() for _ in range(IQS)]
        self.msix = MsixModel(VECTORS)
        self.vec = [None] * IQS
        self.mod = [0] * IQS
        self.uncovered = [deque() for _ in range(IQS)]  # port events not yet at the latch
        self.fired = deque()  # vectors of queue fires not yet taken by msix
        self.fires = []  # (cycle, iq, vector)
        self.forwards = []  # (cycle, iq): moderation -> latch
        self.port_events = []  # (cycle, iq)
        self.reads = deque()
        self.reads_checked = 0
        self.aw = deque()
        self.w = deque()
        self.msgs = []  # (cycle of AW, address, data)
        self.b_count = 0
        self.err_taken = 0
        self.outstanding = False
        self.prev_idle = 1
        self.prev_halt = 0
        self.prev_fwd = 0
        self.last_activity = 0

    def err(self, text):
        msg = f"cycle {self.cycle}: {text}"
        if len(self.errors) < 20:
            self.dut._log.error(msg)
        self.errors.append(msg)

    def check(self):
        assert not self.errors, f"{len(self.errors)} errors, first: {self.errors[0]}"

    async def reset(self):
        self.in_reset = True
        self.dut.rst.value = 1
        await RisingEdge(self.dut.clk)
        await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)
        while int(self.dut.busy.value):
            await RisingEdge(self.dut.clk)
        self.new_model()
        self.in_reset = False

    # -- the per-cycle driver / monitor -----------------------------------

    async def _loop(self):
        dut = self.dut
        while True:
            await RisingEdge(dut.clk)
            for p in self.ports.values():
                p.drive(self.rng)
            await FallingEdge(dut.clk)
            if self.in_reset:
                for p in self.ports.values():
                    p.cur = None
                self.cycle += 1
                continue
            try:
                self._sample()
            except Exception as e:  # noqa: BLE001 - collected, reported by check()
                self.err(f"monitor: {e!r}")
            self.cycle += 1

    def _sample(self):
        dut, c = self.dut, self.cycle
        taken = {n: p.taken() for n, p in self.ports.items()}
        if any(t is not None for t in taken.values()):
            self.last_activity = c
        # Register read answers (requested two cycles earlier).
        if self.reads and int(dut.m_rd_valid.value):
            if not self.reads:
                self.err("m_rd_valid without a read")
            else:
                addr, want = self.reads.popleft()
                got = int(dut.m_rd_data.value)
                self.reads_checked += 1
                if got != want:
                    self.err(f"read 0x{addr:05X}: got 0x{got:08X}, model 0x{want:08X}")
        # msix: one operation per cycle (register write, read, error, queue request).
        if taken["wr"] is not None:
            self.msix.write(taken["wr"]["addr"], taken["wr"]["data"])
        if taken["rd"] is not None:
            self.reads.append((taken["rd"]["addr"], self.msix.read(taken["rd"]["addr"])))
        m_take = int(self.msix_valid.value) and int(self.msix_ready.value)  # (no read without valid)
        if taken["err_irq"] is not None:
            self.err_taken += 1
            if not m_take or int(self.msix_vector.value) != taken["err_irq"]["vector"] % (1 << len(self.msix_vector)):
                self.err("error request taken at the port but not passed to msix")
            self.msix.irq(taken["err_irq"]["vector"])
        elif m_take:
            v = int(self.msix_vector.value)
            if not self.fired:
                self.err(f"msix took a queue request for vector {v} that no fire explains")
            else:
                want = self.fired.popleft()
                if v != want:
                    self.err(f"msix request for vector {v}, the fired queue's vector is {want}")
            self.msix.irq(v)
        if m_take:
            self.last_activity = c
        # irq_latch commands.
        if int(self.latch_valid.value) and int(self.latch_ready.value):
            self.last_activity = c
            iq, op = int(self.latch_queue.value), int(self.latch_op.value)
            cmd = taken["rx_cmd"] or taken["tx_cmd"]
            if op != EVENT or cmd is not None:
                if cmd is None:
                    self.err(f"latch took op {op} for {qname(iq)} without a port command")
                else:
                    want_iq = cmd["queue"] | (DIR if taken["rx_cmd"] is None else 0)
                    if (iq, op) != (want_iq, cmd["op"]):
                        self.err(f"latch took ({qname(iq)}, op {op}), port command was ({qname(want_iq)}, op {cmd['op']})")
            else:
                n = len(self.uncovered[iq])
                if n == 0:
                    self.err(f"latch EVENT for {qname(iq)} with no port event outstanding (duplicate)")
                elif self.mod[iq] & 0xFFFF == 0 and n != 1:
                    self.err(f"latch EVENT for {qname(iq)} (moderation 0) covers {n} port events (lost)")
                self.uncovered[iq].clear()
            if self.latch[iq].apply(op):
                self.fired.append(self.vec[iq])
                self.fires.append((c, iq, self.vec[iq]))
        elif taken["rx_cmd"] is not None or taken["tx_cmd"] is not None:
            self.err("a port command was taken but the latch took nothing")
        # Events entering: the vector of the queue, its moderation, outstanding.
        for name, d in (("rx_event", 0), ("tx_event", DIR)):
            t = taken[name]
            if t is not None:
                iq = t["queue"] | d
                self.vec[iq] = t["vector"]
                self.mod[iq] = t["moderation"]
                self.uncovered[iq].append(c)
                self.port_events.append((c, iq))
        if taken["rx_event"] is not None and taken["tx_event"] is not None:
            self.err("RX and TX events taken in one cycle")
        # Moderation forwards (rising valid: a new one).
        fv = int(self.fwd_valid.value)
        if fv and not self.prev_fwd:
            self.forwards.append((c, int(self.fwd_queue.value)))
        self.prev_fwd = fv
        # AXI write channel.
        awv, wv, br = int(dut.m_axi_awvalid.value), int(dut.m_axi_wvalid.value), int(dut.m_axi_bready.value)
        idle = int(dut.idle.value)
        if (awv or wv) and self.prev_idle and not idle and self.prev_halt:
            self.err("a message write started after halt was high")
        if idle != int(not (awv or wv or br)):
            self.err(f"idle={idle} with awvalid={awv} wvalid={wv} bready={br}")
        if idle and self.outstanding:
            self.err("idle high with a write outstanding")
        if awv or wv or br:
            self.last_activity = c
        if awv and int(dut.m_axi_awready.value):
            self.outstanding = True
            a = (int(dut.m_axi_awaddr.value), int(dut.m_axi_awlen.value), int(dut.m_axi_awsize.value),
                 int(dut.m_axi_awburst.value), int(dut.m_axi_awid.value))
            if a[1:] != (0, 2, 1, 0):
                self.err(f"AW len/size/burst/id {a[1:]}, want (0, 2, 1, 0)")
            self.aw.append((c, a[0]))
        if wv and int(dut.m_axi_wready.value):
            self.outstanding = True
            self.w.append((int(dut.m_axi_wdata.value), int(dut.m_axi_wstrb.value), int(dut.m_axi_wlast.value)))
        while self.aw and self.w:
            (ac, addr), (wd, strb, last) = self.aw.popleft(), self.w.popleft()
            lane = (addr >> 2) & 1
            if strb != (0xF0 if lane else 0x0F) or not last:
                self.err(f"message to 0x{addr:X}: wstrb 0x{strb:02X} wlast {last}")
            data = (wd >> (32 * lane)) & 0xFFFF_FFFF
            i = len(self.msgs)
            self.msgs.append((ac, addr, data))
            if i >= len(self.msix.sent):
                self.err(f"message {i} (0x{addr:X}, 0x{data:08X}) that the model did not send")
            elif self.msix.sent[i][:2] != (addr, data):
                self.err(f"message {i}: (0x{addr:X}, 0x{data:08X}), model (0x{self.msix.sent[i][0]:X}, "
                         f"0x{self.msix.sent[i][1]:08X}) of vector {self.msix.sent[i][2]}")
        if br and int(dut.m_axi_bvalid.value):  # noqa
            self.b_count += 1
            if self.aw or self.w or len(self.msgs) != self.b_count:
                self.err("B before the write's AW and W")
            self.outstanding = False
        self.prev_idle = idle
        self.prev_halt = int(dut.halt.value)

    # -- helpers for directed tests ---------------------------------------

    def put(self, port, **fields):
        self.ports[port].q.append(fields)

    def event(self, iq, vector, moderation=0):
        port = "tx_event" if iq & DIR else "rx_event"
        self.put(port, queue=iq & (DIR - 1), vector=vector, moderation=moderation)

    def cmd(self, iq, op):
        port = "tx_cmd" if iq & DIR else "rx_cmd"
        self.put(port, queue=iq & (DIR - 1), op=op)

    def wr(self, addr, data):
        self.put("wr", addr=addr, data=data)

    def program(self, v, addr, data, unmask=True):
        self.wr(entry(v, ADDR_LO), addr & 0xFFFF_FFFF)
        self.wr(entry(v, ADDR_HI), addr >> 32)
        self.wr(entry(v, DATA), data)
        if unmask:
            self.wr(entry(v, VCTRL), 0)

    def random_table(self):
        """Programs every vector with a random address (both lanes) and data, unmasked, and enables."""
        table = {}
        for v in range(VECTORS):
            addr = (self.rng.getrandbits(62) << 2) | 0
            table[v] = (addr, self.rng.getrandbits(32))
            self.program(v, *table[v])
        self.wr(regs.MSIX_CTRL, ctrl_value(1))
        return table

    def ports_empty(self):
        return all(p.empty() for p in self.ports.values())

    async def settle(self, quiet=40, limit=200000):
        """Waits until the ports are drained and nothing happened for ``quiet`` cycles."""
        start = self.cycle
        while True:
            await RisingEdge(self.dut.clk)
            if self.ports_empty() and not self.reads and self.cycle - max(start, self.last_activity) > quiet:
                break
            assert self.cycle - start < limit, "settle: the unit does not go quiet"
        self.check()

    def new_msgs(self, since):
        return [(a, d) for _, a, d in self.msgs[since:]]

    async def read_state(self, iq):
        self.dut.rd_queue.value = iq
        await RisingEdge(self.dut.clk)
        await FallingEdge(self.dut.clk)
        return int(self.dut.rd_state.value)

    async def check_states(self):
        for iq in range(IQS):
            got = await self.read_state(iq)
            if got != self.latch[iq].bits():
                self.err(f"rd_state {qname(iq)}: {got:03b}, model {self.latch[iq].bits():03b}")
        self.check()

    async def read_reg(self, addr):
        n = self.reads_checked
        self.put("rd", addr=addr)
        await self.settle(quiet=4)
        assert self.reads_checked == n + 1
        return self.msix.read(addr)

    def final_checks(self):
        assert len(self.msgs) == len(self.msix.sent), \
            f"{len(self.msgs)} messages written, model sent {len(self.msix.sent)} (lost or duplicated)"
        assert not self.fired, f"fires that never reached msix: {list(self.fired)}"
        left = {qname(iq): len(u) for iq, u in enumerate(self.uncovered) if u}
        assert not left, f"port events never forwarded to the latch: {left}"
        assert self.b_count == len(self.msgs)
        self.check()


async def setup(dut, bp=0.3):
    tb = TB(dut)
    tb.bp = bp
    await tb.reset()
    return tb


# ---------------------------------------------------------------------------
# Directed tests


@cocotb.test()
async def bring_up(dut):
    """Program the table and enable; armed / unarmed / masked queues, RX and TX."""
    tb = await setup(dut)
    table = tb.random_table()
    await tb.settle()
    assert tb.msgs == [], "table programming sent messages"
    rq, tq = QUEUES - 1, 0
    vr, vt = 0, QUEUES - 1 if QUEUES > 1 else 1
    exp = lambda v: [table[v]]  # noqa: E731

    # Armed queues: one message each, to the table entry of the event's vector.
    for iq, v in ((rxq(rq), vr), (txq(tq), vt)):
        tb.cmd(iq, ARM)
        await tb.settle()
        assert await tb.read_state(iq) == ARMED
        n = len(tb.msgs)
        tb.event(iq, v)
        await tb.settle()
        assert tb.new_msgs(n) == exp(v), f"{qname(iq)} armed: {tb.new_msgs(n)}, want {exp(v)}"
        assert await tb.read_state(iq) == 0, "fired queue is not auto-masked (ARMED cleared)"
        # Not re-armed: the next two events latch, nothing is sent.
        n = len(tb.msgs)
        tb.event(iq, v)
        tb.event(iq, v)
        await tb.settle()
        assert tb.new_msgs(n) == [], f"{qname(iq)} unarmed: sent {tb.new_msgs(n)}"
        assert await tb.read_state(iq) == PENDING
        tb.cmd(iq, ARM)
        await tb.settle()
        assert tb.new_msgs(n) == exp(v), f"{qname(iq)} re-armed with a latched event: {tb.new_msgs(n)}"
        assert await tb.read_state(iq) == 0

    # Masked queue: nothing until UNMASK with ARM; arm-then-unmask and unmask-then-arm.
    for iq, v, order in ((rxq(rq), vr, (UNMASK, ARM)), (txq(tq), vt, (ARM, UNMASK))):
        n = len(tb.msgs)
        tb.cmd(iq, MASK)
        tb.cmd(iq, ARM)
        tb.event(iq, v)
        await tb.settle()
        assert tb.new_msgs(n) == [], f"{qname(iq)} masked: sent {tb.new_msgs(n)}"
        assert await tb.read_state(iq) == ARMED | MASKED | PENDING
        tb.cmd(iq, UNMASK if order[0] == ARM else MASK)  # (mask again: no change)
        await tb.settle()
        assert tb.new_msgs(n) == ([] if order[0] != ARM else exp(v)), f"{qname(iq)}: {tb.new_msgs(n)}"
        if order[0] != ARM:
            tb.cmd(iq, UNMASK)
            await tb.settle()
            assert tb.new_msgs(n) == exp(v), f"{qname(iq)} unmask with ARM set: {tb.new_msgs(n)}"
        assert await tb.read_state(iq) == 0
        # Masked, not armed, event: UNMASK alone sends nothing, ARM then sends it.
        n = len(tb.msgs)
        tb.cmd(iq, MASK)
        tb.event(iq, v)
        tb.cmd(iq, UNMASK)
        await tb.settle()
        assert tb.new_msgs(n) == []
        assert await tb.read_state(iq) == PENDING
        tb.cmd(iq, ARM)
        await tb.settle()
        assert tb.new_msgs(n) == exp(v)
    tb.final_checks()
    dut._log.info("bring-up: %d messages, all as expected", len(tb.msgs))


@cocotb.test()
async def shared_vectors_and_direction(dut):
    """Queues sharing a vector; RX and TX queues with one number on different vectors."""
    tb = await setup(dut)
    table = tb.random_table()
    await tb.settle()
    shared = 0
    group = [rxq(q) for q in range(QUEUES)] + [txq(q) for q in range(0, QUEUES, 2)]
    for iq in group:
        tb.cmd(iq, ARM)
    await tb.settle()
    n = len(tb.msgs)
    for iq in tb.rng.sample(group, len(group)):
        tb.event(iq, shared)
    await tb.settle()
    assert tb.new_msgs(n) == [table[shared]] * len(group), \
        f"{len(group)} queues on vector {shared}: {len(tb.new_msgs(n))} messages {tb.new_msgs(n)[:4]}"
    # RX q and TX q: same queue number, different vectors (the direction bit).
    for q in range(QUEUES):
        vr, vt = q % VECTORS, (q + 1) % VECTORS
        tb.cmd(rxq(q), ARM)
        tb.cmd(txq(q), ARM)
        await tb.settle()
        n = len(tb.msgs)
        tb.event(txq(q), vt)
        await tb.settle()
        assert tb.new_msgs(n) == [table[vt]], f"TX{q} on vector {vt}: {tb.new_msgs(n)}"
        assert await tb.read_state(rxq(q)) == ARMED, f"TX{q} event touched RX{q}"
        tb.event(rxq(q), vr)
        await tb.settle()
        assert tb.new_msgs(n) == [table[vt], table[vr]], f"RX{q} on vector {vr}: {tb.new_msgs(n)}"
    # RX and TX events offered together on the same queue number: both go out once.
    for q in range(QUEUES):
        tb.cmd(rxq(q), ARM)
        tb.cmd(txq(q), ARM)
    await tb.settle()
    n = len(tb.msgs)
    for q in range(QUEUES):
        tb.event(rxq(q), 0)
        tb.event(txq(q), 1)
    await tb.settle()
    got = tb.new_msgs(n)
    assert sorted(got) == sorted([table[0]] * QUEUES + [table[1]] * QUEUES), got
    await tb.check_states()
    tb.final_checks()


@cocotb.test()
async def error_interrupt(dut):
    """The error interrupt sends on its vector, and goes to msix before waiting queue requests."""
    tb = await setup(dut)
    table = tb.random_table()
    await tb.settle()
    ev = QUEUES  # ERR_VECTOR: the extra vector
    n = len(tb.msgs)
    tb.put("err_irq", vector=ev)
    await tb.settle()
    assert tb.new_msgs(n) == [table[ev]]
    # Stall B: the first message waits for its response, the second waits in msix,
    # a third queue request waits at msix's input; then the error is raised.
    iqs = [rxq(0), txq(0), rxq(QUEUES - 1) if QUEUES > 1 else txq(0)]
    vs = [0, 1 % VECTORS, 0]
    for iq in iqs[:2]:
        tb.cmd(iq, ARM)
    await tb.settle()
    tb.hold["b"] = True
    n = len(tb.msgs)
    tb.event(iqs[0], vs[0])
    tb.event(iqs[1], vs[1])
    for _ in range(60):
        await RisingEdge(dut.clk)
    tb.cmd(iqs[2], ARM)
    tb.event(iqs[2], vs[2])
    for _ in range(40):
        await RisingEdge(dut.clk)
    assert len(tb.msgs) == n + 1, f"{len(tb.msgs) - n} messages written with B stalled"
    tb.put("err_irq", vector=ev)
    for _ in range(10):
        await RisingEdge(dut.clk)
    assert tb.ports["err_irq"].cur is not None, "error taken while msix was busy"
    tb.hold["b"] = False
    await tb.settle()
    got = tb.new_msgs(n)
    want = [table[vs[0]], table[vs[1]], table[ev], table[vs[2]]]
    assert got == want, f"order {got}, want {want} (error before the waiting queue request)"
    # Error on a masked vector: pending, sent once on unmask.
    n = len(tb.msgs)
    tb.wr(entry(ev, VCTRL), 1)
    tb.put("err_irq", vector=ev)
    tb.put("err_irq", vector=ev)
    await tb.settle()
    assert tb.new_msgs(n) == []
    assert await tb.read_reg(pba(ev // 32)) == 1 << (ev % 32)
    tb.wr(entry(ev, VCTRL), 0)
    await tb.settle()
    assert tb.new_msgs(n) == [table[ev]]
    tb.final_checks()


@cocotb.test()
async def vector_mask_pba(dut):
    """A masked table entry sets its PBA bit; unmasking sends exactly one message."""
    tb = await setup(dut)
    table = tb.random_table()
    await tb.settle()
    for v in range(VECTORS):
        iqs = [rxq(v % QUEUES), txq((v + 1) % QUEUES)]
        tb.wr(entry(v, VCTRL), 1)
        for iq in iqs:
            tb.cmd(iq, ARM)
        await tb.settle()
        n = len(tb.msgs)
        for iq in iqs:
            tb.event(iq, v)
        await tb.settle()
        assert tb.new_msgs(n) == [], f"masked vector {v} sent {tb.new_msgs(n)}"
        assert await tb.read_reg(pba(v // 32)) == 1 << (v % 32), f"PBA after requests on masked vector {v}"
        for iq in iqs:
            assert await tb.read_state(iq) == 0, f"{qname(iq)} fired, so auto-masked"
        # The table rewritten while pending: the message carries the value at send time.
        addr, data = tb.rng.getrandbits(61) << 3 | 4, tb.rng.getrandbits(32)
        tb.program(v, addr, data, unmask=False)
        table[v] = (addr, data)
        tb.wr(entry(v, VCTRL), 0)
        await tb.settle()
        assert tb.new_msgs(n) == [table[v]], f"unmask of vector {v}: {tb.new_msgs(n)}"
        assert await tb.read_reg(pba(v // 32)) == 0
        tb.wr(entry(v, VCTRL), 0)
        await tb.settle()
        assert tb.new_msgs(n) == [table[v]], "second unmask sent again"
    tb.final_checks()


@cocotb.test()
async def read_state(dut):
    """rd_queue -> rd_state one cycle later, RX and TX interrupt queue numbers."""
    tb = await setup(dut)
    tb.random_table()
    await tb.settle()
    await tb.check_states()
    assert all(tb.latch[iq].bits() == 0 for iq in range(IQS))
    # Build distinct states: RX q: ARMED / MASKED / PENDING ..., TX q different.
    for iq in range(IQS):
        if (iq & (DIR - 1)) >= QUEUES:
            continue
        # kind bits: 2 MASK, 4 event, 1 ARM (in that order); TX0 and RX0 fixed.
        kind = {txq(0): 7, rxq(0): 3}.get(iq, tb.rng.randrange(8))
        if kind & 2:
            tb.cmd(iq, MASK)
        if kind & 4:
            tb.event(iq, iq % VECTORS)
        if kind & 1:
            tb.cmd(iq, ARM)
    await tb.settle()
    want = [tb.latch[iq].bits() for iq in range(IQS)]
    assert any(w & DIR and w for w in range(IQS) if want[w]), "no TX queue with state"
    await tb.check_states()
    # Back to back: a different queue every cycle, each answer one cycle later.
    order = [tb.rng.randrange(IQS) for _ in range(64)]
    got = []
    for iq in order:
        dut.rd_queue.value = iq
        await FallingEdge(dut.clk)
        got.append(int(dut.rd_state.value))
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    got.append(int(dut.rd_state.value))
    await RisingEdge(dut.clk)
    assert got[1:] == [want[iq] for iq in order], f"rd_state stream {got[1:]}, want {[want[iq] for iq in order]}"
    dut._log.info("states: %s", {qname(iq): want[iq] for iq in range(IQS) if (iq & (DIR - 1)) < QUEUES})
    tb.final_checks()


@cocotb.test()
async def moderation_timing(dut):
    """USECS u, FRAMES 0: a queue's two messages at least u us apart, at most u us + a tick + a scan round."""
    tb = await setup(dut, bp=0.0)
    table = tb.random_table()
    await tb.settle()
    tick = CLOCK_MHZ
    scan_round = 4 * IQS
    slack = 16  # pipeline: moderation -> latch -> lookup -> msix -> AXI, both messages alike
    report, short = [], []
    cases = [(rxq(0), 1), (txq(QUEUES - 1), 3), (rxq(QUEUES - 1), 2), (txq(0), 2)]
    for _ in range(2):
        for iq, u in cases:
            v = tb.rng.randrange(VECTORS)
            # A random phase of the microsecond timer.
            for _ in range(tb.rng.randrange(tick)):
                await RisingEdge(dut.clk)
            tb.cmd(iq, ARM)
            n, f = len(tb.msgs), len(tb.forwards)
            tb.event(iq, v, moderation=u)
            # Re-armed at once; the second event follows the first message.
            while len(tb.msgs) == n:
                await RisingEdge(dut.clk)
            tb.cmd(iq, ARM)
            tb.event(iq, v, moderation=u)
            await tb.settle(quiet=(u + 1) * tick + scan_round + slack)
            assert tb.new_msgs(n) == [table[v]] * 2, f"{qname(iq)} u={u}: {tb.new_msgs(n)}"
            gap = tb.msgs[n + 1][0] - tb.msgs[n][0]
            fwd = [c for c, q in tb.forwards[f:] if q == iq]
            assert len(fwd) == 2, f"{qname(iq)}: {len(fwd)} forwards"
            fgap = fwd[1] - fwd[0]
            report.append((qname(iq), u, gap, fgap))
            dut._log.info("moderation %s u=%d us (%d cycles): message gap %d cycles, forward gap %d cycles",
                          qname(iq), u, u * tick, gap, fgap)
            assert gap <= u * tick + tick + scan_round + slack, \
                f"{qname(iq)} u={u}: messages {gap} cycles apart, more than {u * tick + tick + scan_round + slack}"
            assert fgap <= u * tick + tick + scan_round, f"{qname(iq)} u={u}: forwards {fgap} cycles apart"
            # Whatever the timer phase, never less than u - 1 whole microseconds.
            assert fgap > (u - 1) * tick, f"{qname(iq)} u={u}: forwards only {fgap} cycles apart"
            if gap < u * tick:
                short.append((qname(iq), u, gap))
    print("moderation gaps (queue, u, message gap, forward gap):", report)
    # The documented rule (block doc, ethtool rx-usecs): at least u us apart.
    assert not short, (f"messages closer than u us = u * {tick} cycles: {short} (the microsecond timer's "
                       f"tick between the two events counts as a whole microsecond)")
    tb.final_checks()


@cocotb.test()
async def halt_idle(dut):
    """halt: no new write starts; the requests wait and go out when halt drops; idle."""
    tb = await setup(dut)
    table = tb.random_table()
    await tb.settle()
    assert int(dut.idle.value) == 1
    iqs = [rxq(q) for q in range(QUEUES)] + [txq(q) for q in range(QUEUES)]
    vs = {iq: tb.rng.randrange(VECTORS) for iq in iqs}
    # halt raised with a write outstanding (B held): that write completes, then nothing.
    tb.cmd(iqs[0], ARM)
    await tb.settle()
    tb.hold["b"] = True
    n = len(tb.msgs)
    tb.event(iqs[0], vs[iqs[0]])
    while tb.b_count == n and not (len(tb.msgs) > n):
        await RisingEdge(dut.clk)
    for _ in range(5):
        await RisingEdge(dut.clk)
    assert int(dut.idle.value) == 0, "idle with a write awaiting B"
    dut.halt.value = 1
    for iq in iqs:
        tb.cmd(iq, ARM)
        tb.event(iq, vs[iq])
    tb.put("err_irq", vector=QUEUES)
    for _ in range(30):
        await RisingEdge(dut.clk)
    tb.hold["b"] = False
    for _ in range(400):
        await RisingEdge(dut.clk)
    assert len(tb.msgs) == n + 1 and tb.b_count == n + 1, f"{len(tb.msgs) - n} writes during halt"
    assert int(dut.idle.value) == 1, "not idle with halt and nothing outstanding"
    assert len(tb.msix.sent) > n + 1, "model: nothing waiting"
    dut.halt.value = 0
    dut._log.info("halt dropped at cycle %d; model sent %d, written %d", tb.cycle, len(tb.msix.sent), len(tb.msgs))
    await tb.settle()
    dut._log.info("settled at cycle %d; model sent %d, written %d", tb.cycle, len(tb.msix.sent), len(tb.msgs))
    want = [table[vs[iqs[0]]]] + [tb.msix.sent[i][:2] for i in range(n + 1, len(tb.msix.sent))]
    assert tb.new_msgs(n) == want
    assert len(tb.new_msgs(n)) == 1 + len(iqs) + 1, f"{len(tb.new_msgs(n))} messages after halt"
    # halt toggled at random while traffic flows.
    for _ in range(20):
        for iq in tb.rng.sample(iqs, min(3, len(iqs))):
            tb.cmd(iq, ARM)
            tb.event(iq, vs[iq])
        for _ in range(tb.rng.randrange(1, 40)):
            await RisingEdge(dut.clk)
        dut.halt.value = tb.rng.randrange(2)
    dut.halt.value = 0
    await tb.settle()
    assert int(dut.idle.value) == 1
    tb.final_checks()


# ---------------------------------------------------------------------------
# Random mixed run


@cocotb.test()
async def random_mixed(dut):
    """A few thousand cycles of events, commands, errors, table masks, PBA reads,
    halt and AXI backpressure (with SLVERR on one vector); nothing lost or duplicated."""
    tb = await setup(dut, bp=0.35)
    rng = tb.rng
    table = tb.random_table()
    await tb.settle()
    err_vector = QUEUES  # the spare (error) vector; queues use it too, now and then
    tb.axi.error_addrs.add(table[err_vector][0] + 0)  # its writes get SLVERR (not retried)
    nq = min(QUEUES, 8)
    iqs = [rxq(q) for q in range(nq)] + [txq(q) for q in range(nq)]
    vec = {iq: rng.randrange(VECTORS) for iq in iqs}
    mod = {iq: (rng.choice((1, 2)) if rng.random() < 0.25 else 0) for iq in iqs}
    for p in tb.ports.values():
        p.prob = 0.7
    cycles = 5000 if QUEUES > 1 else 3000
    start = tb.cycle
    seen_msgs = len(tb.msgs)
    while tb.cycle - start < cycles:
        await RisingEdge(dut.clk)
        # Driver: re-arm the queues of vectors whose message just arrived.
        for _, addr, data in tb.msgs[seen_msgs:]:
            for iq in iqs:
                if table[vec[iq]] == (addr, data) and rng.random() < 0.8:
                    tb.cmd(iq, ARM)
        seen_msgs = len(tb.msgs)
        r = rng.random()
        if r < 0.10:
            iq = rng.choice(iqs)
            tb.event(iq, vec[iq], mod[iq])
        elif r < 0.13:
            tb.cmd(rng.choice(iqs), ARM)
        elif r < 0.145:
            tb.cmd(rng.choice(iqs), rng.choice((MASK, UNMASK, UNMASK)))
        elif r < 0.150:
            tb.put("err_irq", vector=rng.randrange(VECTORS))
        elif r < 0.160:
            tb.wr(entry(rng.randrange(VECTORS), VCTRL), int(rng.random() < 0.3))
        elif r < 0.165:
            tb.put("rd", addr=pba(0))
        elif r < 0.167:
            tb.put("rd", addr=entry(rng.randrange(VECTORS), rng.choice((ADDR_LO, ADDR_HI, DATA, VCTRL))))
        elif r < 0.170:
            dut.halt.value = int(rng.random() < 0.5)
        if tb.errors:
            break
    tb.check()
    # Quiesce: halt off, every vector unmasked, every queue unmasked and armed.
    dut.halt.value = 0
    for p in tb.ports.values():
        p.prob = 1.0
    for v in range(VECTORS):
        tb.wr(entry(v, VCTRL), 0)
    for iq in iqs:
        tb.cmd(iq, UNMASK)
        tb.cmd(iq, ARM)
    await tb.settle(quiet=3 * CLOCK_MHZ + 4 * IQS)
    # Held moderated events may have been forwarded after that ARM fired: arm again.
    for iq in iqs:
        tb.cmd(iq, ARM)
    await tb.settle()
    await tb.check_states()
    assert await tb.read_reg(pba(0)) == 0, "PBA bits left after unmasking every vector"
    for iq in iqs:
        s = tb.latch[iq]
        assert not (s.pending and s.armed and not s.masked)
        assert not s.pending, f"{qname(iq)} left pending although armed and unmasked"
    tb.final_checks()
    vectors_hit = len({v for _, _, v in tb.msix.sent})
    dut._log.info("random: %d port events, %d latch fires, %d messages on %d vectors (%d via PBA holds, "
                  "%d errors taken, %d SLVERR writes), %d register reads checked",
                  len(tb.port_events), len(tb.fires), len(tb.msgs), vectors_hit, tb.msix.held,
                  tb.err_taken, sum(1 for _, a, _ in tb.msgs if a == table[err_vector][0]), tb.reads_checked)
    assert len(tb.msgs) > 25 and tb.msix.held > 3 and len(tb.fires) > 25, "random run proves little"


@pytest.mark.parametrize("queues", [1, 8])
def test_irq_unit(queues):
    try:
        oxnic_tb.run("irq_unit", "irq_unit", "test_irq_unit", queues, Path(__file__).parent)
    finally:
        for f in Path(__file__).parent.glob("*.None"):
            f.unlink()
