"""A NAPI-style driver model for ``oxnic_top`` (used by test_core_napi.py).

Not a test module. Written from ../shared/notes/semantics.md (the Linux NAPI
contract) and docs/registers.md (IRQ_CTRL, DB_CPL_CONS.REARM, the descriptor and
completion formats), independently of the Rust driver in driver/:

* one NAPI context per MSI-X vector; every queue (RX and TX) whose CONFIG.VECTOR
  is that vector is served by it (several queues may share a vector);
* the interrupt handler is ``irq``: ``napi_schedule_prep`` (already scheduled →
  MISSED; disabled → refused) and ``__napi_schedule``. The queue needs no mask
  write: the device disarms it when it fires (IRQ_CTRL.ARM, auto-mask);
* ``softirq`` is ``net_rx_action`` on one CPU: scheduled contexts are polled in
  turn with their own weight as budget under a global budget of 300; TX
  completions are cleaned first and do not count as work;
* ``poll``: completions are consumed by phase bit only; every consumed RX buffer is
  refilled at once (DB_DESC_PROD) and the slots returned (DB_CPL_CONS);
* work == budget → polled again later, interrupt state untouched; work < budget →
  ``napi_complete_done``: with MISSED set it stays scheduled (no re-arm);
  otherwise every queue of the context is re-armed (DB_CPL_CONS with REARM, or
  IRQ_CTRL.ARM while the model withholds completion slots) and THEN the rings are
  re-checked, rescheduling if something landed (the lost-wakeup rule);
* ``napi_disable`` / ``napi_enable`` as in the kernel (wait for the owner to let
  go, then hold the context).

Nothing here reads a ring unless its context is scheduled (by an interrupt, or by
the re-check right after its own re-arm), so an interrupt the device fails to send
shows up as frames that never arrive.

Recorded for the checks: every arm write (cycle it was issued and cycle of its
response), every interrupt per vector, and the cycle/sim time at which each
completion landed in host memory (``landed``, indexed by the free-running
completion number).
"""

import bisect
import collections

from cocotb.triggers import ClockCycles, Event
from cocotb.utils import get_sim_time

from oxnic_tb import regs

from core_tb import Ring, field

REARM = regs.QUEUE_DB_CPL_CONS_REARM.mask
ARM = regs.QUEUE_IRQ_CTRL_ARM.mask
GLOBAL_BUDGET = 300  # net_rx_action's netdev_budget


class Napi:
    """One NAPI context (one per vector)."""

    def __init__(self, vector, weight):
        self.vector, self.weight = vector, weight
        self.keys = []          # (tx, q) of the queues it serves
        self.sched = False      # NAPI_STATE_SCHED: owned by the poll loop
        self.missed = False     # NAPI_STATE_MISSED
        self.disable = False    # NAPI_STATE_DISABLE
        self.irqs = self.polls = self.repolls = self.missed_count = self.refused = 0
        self.resched_by_recheck = 0


class NapiDriver:
    def __init__(self, tb, rng, on_rx=None, on_tx=None, on_err=None, err_vector=None,
                 irq_latency=(0, 0), per_packet=(0, 0)):
        self.tb, self.rng = tb, rng
        # CPU time, in device cycles: from an interrupt to the softirq running, and
        # per received packet in a poll (a real stack spends ~0.2–1 µs per packet).
        self.irq_latency, self.per_packet = irq_latency, per_packet
        self.on_rx, self.on_tx, self.on_err = on_rx, on_tx, on_err
        self.err_vector = err_vector
        self.ctx = {}                       # vector -> Napi
        self.poll_list = collections.deque()
        self.wake = Event()
        self.arms = collections.defaultdict(list)   # key -> [(issue cycle, response cycle)]
        self.irq_log = collections.defaultdict(list)  # vector -> [cycle]
        self.landed = collections.defaultdict(list)   # key -> [(cycle, ns)] per completion number
        self.posted_ack = collections.Counter()       # RX key -> descriptors the device knows of
        self.stalled = set()                # keys whose completion slots are withheld
        self.returned = collections.Counter()  # key -> last DB_CPL_CONS index written
        self.tx_pending = collections.defaultdict(collections.deque)  # q -> [(index, frame|None)]
        self.errors = []                    # the model's own findings (asserted by the tests)
        self.stray = []                     # interrupts on vectors without a context
        self.work_total = 0
        self._cpl_ranges = []               # sorted (lo, hi, key) of the completion rings
        self._hooked = False

    # --- setup -------------------------------------------------------------------
    def _hook(self):
        """Wraps the host memory model: interrupts go to ``irq``, completion-slot
        writes are timestamped (``landed``)."""
        if self._hooked:
            return
        self._hooked = True
        tb = self.tb
        orig_msi = tb.on_msi

        def on_msi(address, data):
            orig_msi(address, data)          # TB records (cycle, vector, data, snapshot)
            self.irq(tb.msis[-1][1], tb.msis[-1][0])
        tb.on_msi = on_msi
        orig_write = tb.mem.write_if._write
        los = []

        async def write(address, data):
            await orig_write(address, data)
            i = bisect.bisect_right(los, address) - 1
            if i >= 0:
                lo, hi, key = self._cpl_ranges[i]
                # The completion's second beat (DESC_INDEX, QUEUE, PHASE) lands last.
                if lo <= address < hi and (address - lo) % 16 == 8:
                    self._landed(key, (address - lo) // 16)
        tb.mem.write_if._write = write
        self._los = los

    def _landed(self, key, slot):
        ring = self.tb.rings[key]
        n = len(self.landed[key])
        if slot != n % ring.size:
            self.errors.append(f"{key}: completion written to slot {slot}, expected {n % ring.size}")
        self.landed[key].append((self.tb.cycle, get_sim_time("ns")))

    async def bring_up(self, vector_of, log2, buf, weights=None, moderation=None):
        """All queues of both directions; ``vector_of[(tx, q)]``; RX rings filled."""
        tb = self.tb
        self._hook()
        for q in range(tb.queues):
            for tx in (0, 1):
                key = (tx, q)
                v = vector_of[key]
                ring = await tb.queue_up(q, tx, log2, v, buf_size=buf,
                                         base=tb.alloc(Ring.footprint(log2, buf)), arm=False)
                if moderation is not None:
                    await tb.wr(ring.reg(regs.QUEUE_IRQ_MODERATION), moderation[key])
                if v not in self.ctx:
                    w = weights[v] if weights else self.rng.randint(1, 64)
                    self.ctx[v] = Napi(v, w)
                self.ctx[v].keys.append(key)
                self._cpl_ranges.append((ring.cpl_base, ring.cpl_base + 16 * ring.size, key))
        self._cpl_ranges.sort()
        self._los[:] = [r[0] for r in self._cpl_ranges]
        for q in range(tb.queues):
            await self.refill((0, q), tb.rings[(0, q)].size)
        for ctx in self.ctx.values():
            for key in ctx.keys:
                await self.arm(key)

    def start(self):
        import cocotb
        self.task = cocotb.start_soon(self.softirq())

    # --- register helpers -----------------------------------------------------------
    async def arm(self, key):
        ring = self.tb.rings[key]
        t0 = self.tb.cycle
        if key in self.stalled:
            await self.tb.wr(ring.reg(regs.QUEUE_IRQ_CTRL), ARM)
        else:
            cons = ring.cons
            await self.tb.wr(ring.reg(regs.QUEUE_DB_CPL_CONS), REARM | (cons & 0xFFFF))
            self.returned[key] = max(self.returned[key], cons)
        self.arms[key].append((t0, self.tb.cycle))

    async def return_slots(self, key):
        if key not in self.stalled:
            ring = self.tb.rings[key]
            cons = ring.cons
            await self.tb.wr(ring.reg(regs.QUEUE_DB_CPL_CONS), cons & 0xFFFF)
            self.returned[key] = max(self.returned[key], cons)

    async def refill(self, key, n):
        """Posts ``n`` RX buffers (full-size) and rings the doorbell."""
        tb = self.tb
        ring = tb.rings[key]
        for _ in range(n):
            tb.write_desc(ring, ring.prod, ring.buf(ring.prod), ring.buf_size)
            ring.prod += 1
        await tb.wr(ring.reg(regs.QUEUE_DB_DESC_PROD), ring.prod & 0xFFFF)
        self.posted_ack[key] = ring.prod

    async def xmit(self, q, frame, addr=None, length=None, timeout=200_000):
        """Posts one TX descriptor (a frame copied into the ring's buffer, or a raw
        address/length). Waits for ring room, which only the interrupt-driven poll
        frees."""
        tb = self.tb
        ring = tb.rings[(1, q)]
        waited = 0
        while ring.prod - ring.cons >= ring.size:
            await ClockCycles(tb.dut.clk, 16)
            waited += 16
            if waited > timeout:
                raise AssertionError(f"TX queue {q}: ring full for {timeout} cycles "
                                     f"(completions never polled: lost interrupt?)")
        if addr is None:
            tb.mem.write(ring.buf(ring.prod), frame)
            addr, length = ring.buf(ring.prod), len(frame)
        tb.write_desc(ring, ring.prod, addr, length)
        self.tx_pending[q].append((ring.prod, frame))
        ring.prod += 1
        await tb.wr(ring.reg(regs.QUEUE_DB_DESC_PROD), ring.prod & 0xFFFF)

    def peek(self, key):
        """Whether the next completion of ``key`` has been written (phase bit)."""
        ring = self.tb.rings[key]
        w3 = int.from_bytes(self.tb.mem.read(ring.cpl_base + 16 * (ring.cons % ring.size) + 12, 4),
                            "little")
        return field(w3, regs.CPL_PHASE) == ring.phase

    # --- interrupt handler and NAPI state -------------------------------------------------
    def irq(self, vector, cycle):
        self.irq_log[vector].append(cycle)
        if vector == self.err_vector and self.on_err is not None:
            self.on_err(cycle)
        ctx = self.ctx.get(vector)
        if ctx is None:
            if vector != self.err_vector:
                self.stray.append((cycle, vector))
            return
        ctx.irqs += 1
        self.schedule(ctx)

    def schedule(self, ctx):
        """napi_schedule: schedule_prep, then __napi_schedule."""
        if ctx.disable:
            ctx.refused += 1
            return False
        if ctx.sched:
            ctx.missed = True
            ctx.missed_count += 1
            return False
        ctx.sched = True
        self.poll_list.append(ctx)
        self.wake.set()
        return True

    async def napi_disable(self, ctx):
        ctx.disable = True
        while ctx.sched:             # until the current owner lets go
            await ClockCycles(self.tb.dut.clk, 8)
        ctx.sched = True             # now we hold it

    async def napi_enable(self, ctx):
        """Releases the context; its queues are re-armed and re-checked (as after
        a poll that completed)."""
        ctx.disable = False
        ctx.sched = False
        ctx.missed = False
        await self.complete_rearm(ctx)

    # --- the poll loop ---------------------------------------------------------------
    async def softirq(self):
        clk = self.tb.dut.clk
        while True:
            if not self.poll_list:
                self.wake.clear()
                await self.wake.wait()
                lat = self.rng.randint(*self.irq_latency)
                if lat:
                    await ClockCycles(clk, lat)
                continue
            budget = GLOBAL_BUDGET
            while self.poll_list and budget > 0:
                ctx = self.poll_list.popleft()
                if ctx.disable and not ctx.sched:
                    continue
                # A little CPU time per poll, so that timing varies.
                await ClockCycles(clk, self.rng.randint(1, 24))
                work = await self.poll(ctx, ctx.weight)
                cpu = sum(self.rng.randint(*self.per_packet) for _ in range(work))
                if cpu:
                    await ClockCycles(clk, cpu)
                ctx.polls += 1
                budget -= work
                self.work_total += work
                if work > ctx.weight:
                    self.errors.append(f"vector {ctx.vector}: poll did {work} > budget {ctx.weight}")
                if work == ctx.weight:
                    ctx.repolls += 1
                    self.poll_list.append(ctx)   # still SCHED; interrupt state untouched
                else:
                    await self.complete_done(ctx)
            if self.poll_list:
                # time_squeeze: the rest runs later (ksoftirqd).
                await ClockCycles(clk, self.rng.randint(1, 64))

    async def complete_done(self, ctx):
        """napi_complete_done; re-arms only when it returns true."""
        if ctx.missed:
            ctx.missed = False
            self.poll_list.append(ctx)   # stays scheduled, polled again; no re-arm
            return False
        if ctx.disable:
            ctx.sched = False            # napi_disable takes it over
            return False
        ctx.sched = False
        await self.complete_rearm(ctx)
        return True

    async def complete_rearm(self, ctx):
        for key in ctx.keys:
            await self.arm(key)
        # Re-arm, THEN re-check: a completion that landed after the poll's last look
        # but before the arm took effect raised its event while the queue was
        # disarmed; the device latches it, but the driver must not rely on that.
        if any(self.peek(key) for key in ctx.keys):
            if self.schedule(ctx):
                ctx.resched_by_recheck += 1

    async def poll(self, ctx, budget):
        tb = self.tb
        work = 0
        # TX cleaning first; it does not count against the budget.
        for key in ctx.keys:
            if key[0] != 1:
                continue
            ring = tb.rings[key]
            n = 0
            while True:
                c = tb.take_completion(ring)
                if c is None:
                    break
                n += 1
                self._tx_completion(key[1], c)
            if n:
                await self.return_slots(key)
        if budget == 0:
            return 0
        # RX with the budget; start at a random queue so none is always last.
        rx = [k for k in ctx.keys if k[0] == 0]
        if rx:
            s = self.rng.randrange(len(rx))
            rx = rx[s:] + rx[:s]
        for key in rx:
            ring = tb.rings[key]
            n = 0
            while work < budget:
                c = tb.take_completion(ring)
                if c is None:
                    break
                n += 1
                work += 1
                if (c["queue"], c["index"]) != (key[1], c["slot"] & 0xFFFF):
                    self.errors.append(f"RX queue {key[1]} slot {c['slot']}: {c}")
                data = tb.mem.read(ring.buf(c["slot"]), c["len"]) if c["len"] else b""
                if self.on_rx is not None:
                    self.on_rx(key[1], c, data, self.landed[key][c["slot"]]
                               if c["slot"] < len(self.landed[key]) else None)
            if n:
                await self.return_slots(key)
                await self.refill(key, n)
        return work

    def _tx_completion(self, q, c):
        pend = self.tx_pending[q]
        # Descriptors that never complete (a TX read error) are skipped by index.
        # Matched by DESC_INDEX: a descriptor whose frame read failed gets no
        # completion, so completion slots and descriptor indices part there.
        while pend and pend[0][1] is None and (pend[0][0] & 0xFFFF) != c["index"]:
            pend.popleft()
        if not pend or (pend[0][0] & 0xFFFF) != c["index"]:
            self.errors.append(f"TX queue {q}: completion for descriptor {c['index']} not expected "
                               f"(head {pend[0][0] if pend else None}): {c}")
            return
        idx, frame = pend.popleft()
        want = (regs.CPL_STATUS_OK, len(frame) if frame else 0, q, idx & 0xFFFF, 0, 0)
        got = (c["status"], c["len"], c["queue"], c["index"], c["rss_type"], c["hash"])
        if frame is None or got != want:
            self.errors.append(f"TX queue {q} slot {c['slot']}: completion {got}, expected {want}")
        if self.on_tx is not None:
            self.on_tx(q, c, frame)

    # --- queue restart (after an error) ---------------------------------------------
    async def restart_queue(self, key):
        """Disable, forget the driver's indices, enable, as a driver's queue reset.
        The context must be held (napi_disable) by the caller."""
        tb = self.tb
        ring = tb.rings[key]
        await tb.wr(ring.reg(regs.QUEUE_CTRL), 0)
        ring.restart(tb.mem)
        self.landed[key] = []
        self.returned[key] = 0
        if key[0] == 1:
            self.tx_pending[key[1]].clear()
        await tb.wr(ring.reg(regs.QUEUE_DB_DESC_PROD), 0)
        await tb.wr(ring.reg(regs.QUEUE_DB_CPL_CONS), 0)
        await tb.wr(ring.reg(regs.QUEUE_CTRL), regs.QUEUE_CTRL_ENABLE.mask)
        if key[0] == 0:
            self.posted_ack[key] = 0
            await self.refill(key, ring.size)

    # --- diagnostics -------------------------------------------------------------------
    async def describe(self):
        """Where completions wait unconsumed, and each queue's IRQ_CTRL (for a
        failure message: which interrupt was lost)."""
        tb = self.tb
        out = []
        for v, ctx in sorted(self.ctx.items()):
            for key in ctx.keys:
                ring = tb.rings[key]
                waiting = tb.completions_in_memory(ring) - ring.cons
                if waiting:
                    irq = await tb.rd(ring.reg(regs.QUEUE_IRQ_CTRL))
                    out.append(f"{'TX' if key[0] else 'RX'} {key[1]} (vector {v}, sched={ctx.sched}, "
                               f"missed={ctx.missed}): {waiting} completions unconsumed, "
                               f"IRQ_CTRL={irq:#x}, last arm at {self.arms[key][-1:]}, "
                               f"irqs on vector {len(self.irq_log[v])}")
        for key in sorted(tb.rings):
            ring = tb.rings[key]
            dev = [await tb.rd(ring.reg(r)) for r in (regs.QUEUE_STATUS, regs.QUEUE_DESC_CONS,
                                                      regs.QUEUE_CPL_PROD, regs.QUEUE_IRQ_CTRL)]
            if dev[1] != ring.prod & 0xFFFF or dev[2] != ring.cons & 0xFFFF or dev[0] != 1:
                out.append(f"{'TX' if key[0] else 'RX'} {key[1]}: STATUS/DESC_CONS/CPL_PROD/IRQ_CTRL "
                           f"{[hex(x) for x in dev]}, model prod {ring.prod} cons {ring.cons}")
            if len(out) > 12:
                break
        names = ("RX_FRAMES", "QDIS", "NO_DESC", "RUNT", "OVERSIZE", "MAC", "DMA")
        cnt = [await tb.rd(regs.GLOBAL_RX_FRAMES + 4 * i) for i in range(7)]
        out.append(f"counters {dict(zip(names, cnt))}")
        return "; ".join(out)
