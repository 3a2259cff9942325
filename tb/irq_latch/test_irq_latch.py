"""cocotb bench for ``irq_latch`` (hw/rtl/src/irq_latch.rs): per-queue interrupt
arm / mask / latch.

Reference: a Python model of DESIGN.md §1 ("an event on an armed, unmasked queue
fires the vector once and leaves the queue auto-masked; events while masked are
latched, so re-arming with work pending fires again at once: no event is ever
lost"). Random command sequences with random backpressure must produce exactly the
model's interrupts, in order; the final per-queue state must match.

Run: ``.venv/bin/pytest tb/irq_latch`` (``SEED=n`` replays, ``WAVES=1`` records FST).
"""

import os
import random
from pathlib import Path

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge

import oxnic_tb

# Port encoding of irq_latch (s_cmd_op) and of its state word (rd_state).
EVENT, ARM, MASK, UNMASK = 0, 1, 2, 3
ARMED, MASKED, PENDING = 1, 2, 4


class QueueModel:
    """One queue's interrupt state as DESIGN.md describes it."""

    def __init__(self):
        self.armed = self.masked = self.pending = False

    def apply(self, op):
        """Applies a command; returns True when the interrupt fires."""
        if op == EVENT:
            self.pending = True
        elif op == ARM:
            self.armed = True
        elif op == MASK:
            self.masked = True
        elif op == UNMASK:
            self.masked = False
        if self.armed and self.pending and not self.masked:
            self.armed = self.pending = False
            return True
        return False

    def bits(self):
        return ARMED * self.armed + MASKED * self.masked + PENDING * self.pending


class TB:
    """Clock, reset, command driver and interrupt monitor for irq_latch."""

    def __init__(self, dut):
        self.dut = dut
        self.queues = int(os.environ["QUEUES"])
        self.qmax = 1 << len(dut.s_cmd_queue)
        cocotb.start_soon(Clock(dut.clk, 4, units="ns").start())
        dut.rst.value = 0
        dut.s_cmd_valid.value = 0
        dut.s_cmd_queue.value = 0
        dut.s_cmd_op.value = 0
        dut.m_irq_ready.value = 1
        dut.rd_queue.value = 0

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

    async def read_state(self, q):
        self.dut.rd_queue.value = q
        await RisingEdge(self.dut.clk)
        await FallingEdge(self.dut.clk)
        return int(self.dut.rd_state.value)

    async def run_sequence(self, rng, commands, hot, ready_prob):
        """Drives ``commands`` random commands; returns (expected, fired, model)."""
        dut = self.dut
        model = [QueueModel() for _ in range(self.qmax)]
        expected, fired = [], []
        pending = None
        sent = 0
        idle = 0
        while idle < 8:
            if pending is None and sent < commands and rng.random() < 0.8:
                pending = (rng.randrange(hot), rng.randrange(4))
            dut.s_cmd_valid.value = int(pending is not None)
            if pending is not None:
                dut.s_cmd_queue.value, dut.s_cmd_op.value = pending
            dut.m_irq_ready.value = int(rng.random() < ready_prob)
            # Handshakes are decided by the values settled before the next edge.
            await FallingEdge(dut.clk)
            if int(dut.m_irq_valid.value) and int(dut.m_irq_ready.value):
                fired.append(int(dut.m_irq_queue.value))
            if pending is not None and int(dut.s_cmd_ready.value):
                q, op = pending
                if model[q].apply(op):
                    expected.append(q)
                sent += 1
                pending = None
            await RisingEdge(dut.clk)
            drained = sent >= commands and pending is None and not int(dut.m_irq_valid.value)
            idle = idle + 1 if drained else 0
        dut.s_cmd_valid.value = 0
        dut.m_irq_ready.value = 1
        return expected, fired, model


@cocotb.test()
async def reset_sweeps_every_queue(dut):
    """After reset, busy lasts one cycle per queue slot and every state reads 0."""
    tb = TB(dut)
    cycles = await tb.reset()
    assert tb.qmax - 2 <= cycles <= tb.qmax + 1, f"reset sweep took {cycles} cycles for {tb.qmax} slots"
    for q in range(tb.queues):
        assert await tb.read_state(q) == 0


@cocotb.test()
async def directed_rules(dut):
    """The rules one by one, on one queue."""
    tb = TB(dut)
    await tb.reset()
    rng = random.Random(0)
    q = tb.queues - 1
    steps = [
        (EVENT, False),   # disarmed: latches
        (ARM, True),      # arming with a latched event fires at once
        (EVENT, False),   # auto-masked after firing: latches
        (EVENT, False),   # still one pending event, not two
        (MASK, False),
        (ARM, False),     # masked: no fire
        (UNMASK, True),   # unmask with armed + pending fires
        (ARM, False),     # nothing pending
        (EVENT, True),    # armed, unmasked: fires
        (EVENT, False),
    ]
    model = QueueModel()
    for op, fires in steps:
        assert model.apply(op) == fires, "model disagrees with the directed table"
    for op, fires in steps:
        dut.s_cmd_valid.value = 1
        dut.s_cmd_queue.value = q
        dut.s_cmd_op.value = op
        await RisingEdge(dut.clk)
        dut.s_cmd_valid.value = 0
        seen = 0
        for _ in range(4):
            await FallingEdge(dut.clk)
            seen += int(dut.m_irq_valid.value) and int(dut.m_irq_ready.value)
            await RisingEdge(dut.clk)
        assert seen == int(fires), f"op {op}: {seen} interrupts, want {int(fires)}"
    assert await tb.read_state(q) == PENDING
    del rng


async def random_run(dut, commands, hot_fraction, ready_prob):
    tb = TB(dut)
    await tb.reset()
    rng = random.Random(oxnic_tb.seed())
    hot = max(1, min(tb.queues, int(tb.queues * hot_fraction) or 2))
    expected, fired, model = await tb.run_sequence(rng, commands, hot, ready_prob)
    assert expected, "no interrupt expected: the sequence proves nothing"
    assert len(fired) == len(expected), f"{len(fired)} interrupts, model fired {len(expected)} (lost or duplicated)"
    assert fired == expected, "interrupt order differs from the model"
    for q in range(tb.queues):
        got = await tb.read_state(q)
        assert got == model[q].bits(), f"queue {q}: state {got:03b}, model {model[q].bits():03b}"
    dut._log.info("%d commands, %d interrupts, all matched", commands, len(fired))


@cocotb.test()
async def random_all_queues(dut):
    """Random commands over every queue, mild backpressure."""
    await random_run(dut, 4000, 1.0, 0.8)


@cocotb.test()
async def random_hot_queue_backpressure(dut):
    """Random commands on one or two queues (read/modify/write hazards), heavy backpressure."""
    await random_run(dut, 3000, 0.0, 0.3)


@pytest.mark.parametrize("queues", [1, 8, 64])
def test_irq_latch(queues):
    oxnic_tb.run("irq_latch", "irq_latch", "test_irq_latch", queues, Path(__file__).parent)
