"""Interrupt-driven traffic through ``oxnic_top`` with a NAPI-style driver model.

The driver model (napi_model.py) follows ../shared/notes/semantics.md, not the
Rust driver: one NAPI context per vector (queues sharing a vector share it),
``napi_schedule_prep`` with MISSED, polls with a random weight 1..64 as budget,
work == budget → polled again with interrupt state untouched, work < budget →
``napi_complete_done`` then re-arm (DB_CPL_CONS with REARM) THEN re-check the
rings. It reads a ring only while its context is scheduled, so a lost interrupt
shows as frames that never arrive: every test ends by waiting (bounded) for all
traffic to have arrived that way, and fails otherwise; no final drain.

Expectations, each independent of the RTL:

* fate of an RX frame (as in test_core_traffic.py, from docs/registers.md):
  MAC error → RX_DROP_MAC_ERROR, < 60 bytes → RUNT, > MTU → OVERSIZE, else the
  queue RETA[Toeplitz hash & 127] of test_core_rss.rss_model (type NONE: entry 0),
  delivered once, byte-exact, with LEN/OK/RSS type/hash. The sender never lets a
  queue run out of descriptors (it counts what the model has posted), so NO_DESC
  must stay 0. At the end every global counter and every queue's STAT_PACKETS/
  STAT_BYTES equal the scoreboard;
* TX frames leave on m_axis_tx byte-exact and in order per queue, each with an
  OK completion;
* interrupt rules (docs/registers.md IRQ_CTRL, DB_CPL_CONS, IRQ_MODERATION;
  hw/rtl/src/irq_moderation.rs), from the message cycles and the snapshot of
  completions in memory that core_tb takes at each message; see
  ``check_irq_rules`` and ``check_moderation`` for exactly what and why;
* RETA rewrites under traffic: ``RetaHistory.possible`` (see there for the bound);
* full completion ring: rx_engine.rs stage D (RSP_FULL waits; the receive path,
  in order, waits behind it and s_axis_tready falls); nothing is lost;
* TX read error: tx_engine.rs "Errors": the frame goes to the MAC at full length
  with tuser = 1 on its last beat, OP_ERROR stops the queue (STATUS.ERROR),
  ERR_STATUS.DMA_READ / ERR_INFO / ERR_ADDR, TX_ERRORS, no completion, at most the
  four descriptors the stages behind it can hold are still sent and completed,
  ERR_VECTOR fires;
  other queues keep flowing; re-enable recovers.

Parameterised by queue count (1, 8 and 64). ``SEED=n`` replays, ``WAVES=1`` records.
"""

import bisect
import collections
from pathlib import Path

import cocotb
import pytest
from cocotb.triggers import ClockCycles, Event, RisingEdge
from cocotb.utils import get_sim_time, get_time_from_sim_steps
from cocotbext.axi import AxiStreamFrame

import oxnic_tb
from oxnic_tb import regs

from core_tb import CLOCK_MHZ, random_pauses, start
from napi_model import NapiDriver
from test_core_rss import RSS_ALL, random_frame, rss_model
from test_core_traffic import RX_COUNTERS, rx_frame, tx_frame

BUF = 2048
ENTRIES = regs.RSS_RETA_ENTRIES
INF = float("inf")
# Messages are recorded when their 4-byte write reaches host memory, some cycles
# after the device decided to fire. The moderation test bounds that delay: its
# memory model's write channels run without pauses and its MTU is 256 (RX data
# bursts of at most 32 beats), so one message needs at most MSG_SERVICE cycles
# from the moment the interrupt path takes it: the msix lookup (2 cycles), one
# round of dma_arb's per-burst round robin (DESIGN.md: at most one RX data burst of
# 32 beats and one 2-beat TX completion burst ahead of it), its own AW/W beat and
# the memory model's few cycles; the next message waits for its B first
# (irq_unit). A message may also queue behind messages fired before it, so its
# delay is bounded by the busy period it arrived in (``msg_delay_bounds``).
MSG_SERVICE = 64


def scale(queues, n):
    """Frame counts: the 64-queue model is slower per cycle; keep the suite short."""
    return n if queues < 64 else max(20, n * 2 // 3)


def no_pauses(obj):
    """Stops a pause generator; the pause it may have left set is cleared too."""
    obj.set_pause_generator(None)
    obj.pause = False


# --- scoreboard ----------------------------------------------------------------------

class RetaHistory:
    """Every RETA entry's values over time: [(issue, response, queue)] in sim ns,
    the first one (-inf, -inf, initial).

    ``possible(i, lo, hi)``: the queues entry i may have given to a frame looked up
    somewhere in [lo, hi]. A write lands somewhere in [issue, response]: the B
    response is sent only after csr acknowledged the write (axil_reg_if holds the
    request until the ack), and csr's RETA is read with one cycle of latency for a
    frame only after its tlast (store-and-forward, rx_engine stage K). So version v
    was possibly current from issue(v) until response(v + 1); a frame whose first
    beat was presented (AxiStreamFrame.sim_time_start, which precedes the beat's
    acceptance) after response(v + 1) must see v + 1 or later, i.e. the bound
    beyond the B response is zero. The lookup is before the completion lands, so a
    frame whose completion landed before issue(v) cannot have used v."""

    def __init__(self, reta):
        self.v = [[(-INF, -INF, q)] for q in reta]

    def current(self):
        return [h[-1][2] for h in self.v]

    def begin(self, i, q):
        self.v[i].append((get_sim_time("ns"), INF, q))
        return len(self.v[i]) - 1

    def end(self, i, n):
        issue, _, q = self.v[i][n]
        self.v[i][n] = (issue, get_sim_time("ns"), q)

    def versions(self, i, lo, hi):
        h = self.v[i]
        return [n for n in range(len(h))
                if h[n][0] <= hi and (n + 1 == len(h) or h[n + 1][1] > lo)]

    def possible(self, i, lo, hi):
        return {self.v[i][n][2] for n in self.versions(i, lo, hi)}


class RxBoard:
    """Every RX frame sent, its documented fate, and where it was delivered."""

    def __init__(self, tb, drv, key, hist):
        self.tb, self.drv, self.key, self.hist = tb, drv, key, hist
        self.frames = []                       # dicts, in MAC order
        self.pending = {}                      # id -> frame still to be delivered
        self.by_data = collections.defaultdict(list)
        self.count = {k: 0 for k in RX_COUNTERS}
        self.inflight = collections.Counter()  # q -> undelivered frames that may land on q
        self.delivered = collections.Counter()
        self.nbytes = collections.Counter()
        self.last_id = {}
        self.errors = []
        self.tag = 0

    def make(self, rng, mtu=regs.DEFAULT_MTU, want_q=None, drops=True, size=None):
        """A random frame (with a unique tag when that keeps its kind) and its fate.
        ``want_q``: redraw until the frame hashes to that queue under the current RETA."""
        for _ in range(2000):
            if drops:
                f, tuser, what = rx_frame(rng, mtu)
            else:
                f, what = random_frame(rng)
                tuser = 0
            if what in ("runt", "oversize", "mac_error"):
                if want_q is None:
                    return {"data": f, "tuser": tuser, "fate": what}
                continue
            if not what.startswith("trunc"):
                self.tag += 1
                pad = size - len(f) - 4 if size and size > len(f) + 4 else 0
                f = f + bytes(rng.getrandbits(8) for _ in range(pad)) + self.tag.to_bytes(4, "little")
                if len(f) > mtu:
                    continue
            typ, h = rss_model(f, RSS_ALL, self.key)
            idx = h & (ENTRIES - 1)
            if want_q is not None and self.hist.current()[idx] != want_q:
                continue
            return {"data": f, "tuser": 0, "fate": "deliver", "typ": typ, "hash": h, "idx": idx,
                    "what": what}
        raise AssertionError(f"no frame for queue {want_q} in 2000 draws")

    def can_send(self, fr):
        if fr["fate"] != "deliver":
            return True
        qs = self.hist.possible(fr["idx"], get_sim_time("ns"), INF)
        return all(self.inflight[q] + 1 <= self.drv.posted_ack[(0, q)] - self.delivered[q] for q in qs)

    async def send(self, fr, timeout=300_000):
        """Waits until every queue the frame may land on has a descriptor for it
        (freed only by the interrupt-driven poll), then hands it to the MAC model."""
        tb = self.tb
        waited = 0
        while not self.can_send(fr) or tb.mac_rx.queue_occupancy_frames >= 2:
            # A misrouted frame stays pending and would hold its queues' credit:
            # report it as what it is.
            errors = self.drv.errors + self.errors
            assert not errors, f"{len(errors)} errors, first ones: {errors[:8]}"
            await ClockCycles(tb.dut.clk, 8)
            waited += 8
            if waited > timeout:
                raise AssertionError(f"sender stuck {timeout} cycles (a queue never got its "
                                     f"descriptors back: lost interrupt?): {await self.drv.describe()}")
        fr["id"] = len(self.frames)
        self.frames.append(fr)
        self.count["frames"] += 1
        if fr["fate"] != "deliver":
            self.count[fr["fate"]] += 1
        else:
            fr["counted"] = self.hist.possible(fr["idx"], get_sim_time("ns"), INF)
            for q in fr["counted"]:
                self.inflight[q] += 1
            self.pending[fr["id"]] = fr
            self.by_data[fr["data"]].append(fr["id"])
        # The source sends a copy; its completion callback reports when the first
        # beat was presented (sim_time_start: the cycle it was put on the bus).
        fr["start"] = None
        fr["axis"] = AxiStreamFrame(fr["data"], tuser=fr["tuser"],
                                    tx_complete=lambda f, fr=fr: fr.update(
                                        start=get_time_from_sim_steps(f.sim_time_start, "ns")))
        await tb.mac_rx.send(fr["axis"])

    def reta_begin(self, i, q):
        """A RETA write starts: frames not yet delivered with that index may land on q."""
        n = self.hist.begin(i, q)
        for fr in self.pending.values():
            if fr["idx"] == i and q not in fr["counted"]:
                fr["counted"].add(q)
                self.inflight[q] += 1
        return n

    def on_rx(self, q, c, data, landed):
        where = f"RX queue {q} slot {c['slot']}"
        ids = [i for i in self.by_data.get(data, []) if i in self.pending]
        if c["status"] != regs.CPL_STATUS_OK or not ids:
            self.errors.append(f"{where}: unexpected completion/data (duplicate, corrupt or "
                               f"never sent): {c}, {len(data)} bytes")
            return
        t_land = landed[1] if landed else get_sim_time("ns")
        fr = None
        for i in ids:
            f = self.pending[i]
            if f["start"] is None:
                self.errors.append(f"{where}: frame {i} delivered before the MAC model finished it")
                continue
            if q in self.hist.possible(f["idx"], f["start"], t_land):
                fr = f
                break
        if fr is None:
            f = self.pending[ids[0]]
            self.errors.append(f"{where}: frame {f['id']} ({f['what']}, RETA index {f['idx']}) "
                               f"landed on queue {q}, allowed "
                               f"{sorted(self.hist.possible(f['idx'], f['start'] or -INF, t_land))}")
            return
        if self.last_id.get(q, -1) > fr["id"]:
            self.errors.append(f"{where}: frame {fr['id']} after frame {self.last_id[q]} (order)")
        self.last_id[q] = fr["id"]
        want = (len(fr["data"]), fr["typ"], fr["hash"])
        if (c["len"], c["rss_type"], c["hash"]) != want:
            self.errors.append(f"{where}: frame {fr['id']}: len/type/hash "
                               f"{(c['len'], c['rss_type'], c['hash'])}, expected {want}")
        del self.pending[fr["id"]]
        for qq in fr["counted"]:
            self.inflight[qq] -= 1
        fr["queue"], fr["cpl"], fr["landed"] = q, c["slot"], landed
        self.delivered[q] += 1
        self.nbytes[q] += c["len"]


class TxBoard:
    """TX frames expected on m_axis_tx per queue, and the MAC-side checker."""

    BAD = "bad"

    def __init__(self, tb, drv):
        self.tb, self.drv = tb, drv
        self.expect = collections.defaultdict(collections.deque)  # q -> frames / (BAD, len)
        self.seq = 0
        self.sent_ok = 0
        self.bad_seen = []                   # (cycle, q, length) of tuser=1 frames
        self.after_bad = collections.Counter()   # q -> frames sent after its bad one
        self.allow_after_bad = {}
        self.out_log = []                    # (cycle, q)
        self.errors = []
        self.count = 0

    async def post(self, q, rng):
        self.seq += 1
        f = tx_frame(rng, q, self.seq)
        self.expect[q].append(f)
        self.count += 1
        await self.drv.xmit(q, f)
        return f

    async def post_bad(self, q, addr, length):
        self.expect[q].append((self.BAD, length))
        await self.drv.xmit(q, None, addr=addr, length=length)

    async def mac(self):
        while True:
            out = await self.tb.mac_tx.recv()
            data = bytes(out.tdata)
            tuser = out.tuser if isinstance(out.tuser, list) else [out.tuser or 0]
            if tuser[-1]:
                # A discarded frame: only the one whose read failed may end like this.
                qs = [q for q, e in self.expect.items() if e and isinstance(e[0], tuple)]
                self.bad_seen.append((self.tb.cycle, qs, len(data)))
                if len(qs) != 1 or self.expect[qs[0]][0][1] != len(data):
                    self.errors.append(f"TX frame with tuser=1 ({len(data)} bytes) but queue heads "
                                       f"{ {q: e[0] if isinstance(e[0], tuple) else 'frame' for q, e in self.expect.items() if e} }")
                    continue
                self.expect[qs[0]].popleft()
                # tx_engine.rs "Errors": at most four descriptors behind it.
                self.allow_after_bad[qs[0]] = 4
                continue
            if any(tuser):
                self.errors.append(f"TX frame with tuser set before its last beat: {tuser}")
            q = int.from_bytes(data[14:16], "little") if len(data) >= 20 else -1
            e = self.expect.get(q)
            if not e or e[0] != data:
                head = e[0] if e else None
                self.errors.append(f"TX frame on queue {q} seq {int.from_bytes(data[16:20], 'little')}: "
                                   f"not the next expected ({'BAD' if isinstance(head, tuple) else head and int.from_bytes(head[16:20], 'little')})")
                continue
            if q in self.allow_after_bad:
                if self.allow_after_bad[q] == 0:
                    self.errors.append(f"TX queue {q}: more than four frames sent after its read error")
                self.allow_after_bad[q] -= 1
                self.after_bad[q] += 1
            e.popleft()
            self.sent_ok += 1
            self.out_log.append((self.tb.cycle, q))

    def outstanding(self):
        return sum(len(e) for e in self.expect.values())


# --- common harness --------------------------------------------------------------------

class Run:
    """tb + driver model + scoreboards for one test."""

    @classmethod
    async def create(cls, dut, *, shared, moderation="random", log2=5, pauses=0.1,
                     write_pauses=True, err_irq=False, mtu=regs.DEFAULT_MTU,
                     irq_latency=(0, 60), per_packet=(0, 8), reta_queues=None):
        self = cls()
        tb = await start(dut, ram_size=16 << 20)
        self.tb, self.rng, self.Q = tb, tb.rng, tb.queues
        rng, Q = self.rng, self.Q
        if pauses:
            tb.mem.set_pauses(rng, pauses)
            if not write_pauses:
                for ch in (tb.mem.write_if.aw_channel, tb.mem.write_if.w_channel,
                           tb.mem.write_if.b_channel):
                    no_pauses(ch)
            tb.mac_tx.set_pause_generator(random_pauses(rng, 0.2))
            tb.mac_rx.set_pause_generator(random_pauses(rng, 0.05))
        await tb.msix_setup()
        self.err_vector = tb.vectors - 1
        self.err_event = Event()
        self.err_cycles = []

        def on_err(cycle):
            self.err_cycles.append(cycle)
            self.err_event.set()
        # Queue vectors: 0..Q-1, the last vector is for device errors only.
        # shared: a random number of vectors (1..Q), RX q and TX q on the same one;
        # else RX q alone on vector q and every TX queue on the error vector
        # (ERR_IRQ_ENABLE stays 0 then), so each RX queue's messages are its own.
        if shared:
            nv = rng.choice(sorted({1, max(1, Q // 4), max(1, Q // 2), Q}))
            perm = [rng.randrange(nv) for _ in range(Q)]
            self.vector_of = {(tx, q): perm[q] for q in range(Q) for tx in (0, 1)}
        else:
            self.vector_of = {(0, q): q for q in range(Q)}
            self.vector_of.update({(1, q): self.err_vector for q in range(Q)})
        self.moderation = {}
        for key in self.vector_of:
            if moderation == "random":
                u = rng.choice([0, 0, rng.randint(1, 4), rng.randint(2, 12)])
                f = rng.choice([0, 0, rng.randint(1, 8)])
            else:
                u, f = 0, 0
            self.moderation[key] = (f << 16) | u
        # With moderation, at least one RX queue has an interval, so that the
        # moderation rule has something to check (at 1 queue the draw above gives
        # USECS 0 half the time: CI failed on SEED=2150272274 with nothing checked).
        # Only seeds that drew no interval at all are changed by this.
        if moderation == "random" and not any(self.moderation[(0, q)] & 0xFFFF for q in range(Q)):
            q0 = rng.randrange(Q)
            self.moderation[(0, q0)] |= rng.randint(1, 12)
        self.drv = NapiDriver(tb, rng, err_vector=self.err_vector if err_irq else None,
                              on_err=on_err if err_irq else None,
                              irq_latency=irq_latency, per_packet=per_packet)
        self.mtu = mtu
        await tb.wr(regs.GLOBAL_MTU, mtu)
        if err_irq:
            await tb.wr(regs.GLOBAL_ERR_VECTOR, self.err_vector)
            await tb.wr(regs.GLOBAL_ERR_IRQ_ENABLE, regs.GLOBAL_ERR_IRQ_ENABLE_CAUSES.mask)
        await self.drv.bring_up(self.vector_of, log2, BUF, moderation=self.moderation)
        self.key = bytes(rng.getrandbits(8) for _ in range(regs.RSS_KEY_BYTES))
        pool = rng.sample(range(Q), min(Q, reta_queues)) if reta_queues else range(Q)
        reta = [rng.choice(pool) for _ in range(ENTRIES)]
        await tb.set_key(self.key)
        await tb.set_reta(reta)
        await tb.wr(regs.GLOBAL_RSS_CTRL, RSS_ALL)
        await tb.wr(regs.GLOBAL_CTRL, regs.GLOBAL_CTRL_ENABLE.mask)
        self.hist = RetaHistory(reta)
        self.rx = RxBoard(tb, self.drv, self.key, self.hist)
        self.tx = TxBoard(tb, self.drv)
        self.drv.on_rx = self.rx.on_rx
        self.drv.start()
        self.mac_task = cocotb.start_soon(self.tx.mac())
        weights = {v: c.weight for v, c in self.drv.ctx.items()}
        tb.dut._log.warning(f"queues {Q}, vectors used {len(self.drv.ctx)}, weights {weights}")
        return self

    async def rx_traffic(self, n, gap=(0, 0), **kw):
        for _ in range(n):
            g = self.rng.randint(*gap)
            if g:
                await ClockCycles(self.tb.dut.clk, g)
            await self.rx.send(self.rx.make(self.rng, mtu=self.mtu, **kw))

    async def tx_traffic(self, n, queues=None, gap=(0, 200)):
        for _ in range(n):
            q = self.rng.choice(queues) if queues else self.rng.randrange(self.Q)
            await self.tx.post(q, self.rng)
            await ClockCycles(self.tb.dut.clk, self.rng.randint(*gap))

    async def wait_all(self, timeout=400_000):
        """Everything sent has arrived through the interrupt-driven model (no drain)."""
        await self.tb.mac_rx.wait()
        waited = 0
        while self.rx.pending or self.tx.outstanding() or any(self.drv.tx_pending.values()):
            errors = self.drv.errors + self.rx.errors + self.tx.errors
            assert not errors, f"{len(errors)} errors, first ones: {errors[:8]}"
            await ClockCycles(self.tb.dut.clk, 64)
            waited += 64
            if waited > timeout:
                lost_rx = collections.Counter(q for f in self.rx.pending.values() for q in f["counted"])
                raise AssertionError(
                    f"not everything arrived within {timeout} cycles: RX frames pending per queue "
                    f"{dict(lost_rx)}, TX frames not out {self.tx.outstanding()}, TX completions "
                    f"not polled { {q: len(p) for q, p in self.drv.tx_pending.items() if p} }; "
                    f"NO_DESC={await self.tb.rd(regs.GLOBAL_RX_DROP_NO_DESC)}; {await self.drv.describe()}")

    async def check_end(self, tx_errors=0, skip_stats=()):
        tb, rx = self.tb, self.rx
        await ClockCycles(tb.dut.clk, 400)
        errors = self.drv.errors + rx.errors + self.tx.errors
        assert not errors, f"{len(errors)} errors, first ones: {errors[:8]}"
        assert tb.mac_tx.empty(), "extra TX frames"
        want = dict(rx.count)
        want["tx_frames"] = self.tx.sent_ok
        want["tx_errors"] = tx_errors
        got = {k: await tb.rd(off) for k, off in RX_COUNTERS.items()}
        assert got == want, f"global counters {got}, scoreboard {want}"
        for q in range(self.Q):
            ring = tb.rings[(0, q)]
            dev = [await tb.rd(ring.reg(r)) for r in (regs.QUEUE_STAT_PACKETS, regs.QUEUE_STAT_BYTES_LO)]
            assert dev == [rx.delivered[q], rx.nbytes[q]], \
                f"RX queue {q}: STAT packets/bytes {dev}, scoreboard {rx.delivered[q]}/{rx.nbytes[q]}"
        for q in range(self.Q):
            if q in skip_stats:
                continue
            ring = tb.rings[(1, q)]
            n = sum(1 for _, qq in self.tx.out_log if qq == q)
            dev = await tb.rd(ring.reg(regs.QUEUE_STAT_PACKETS))
            assert dev == n, f"TX queue {q}: STAT_PACKETS {dev}, frames out {n}"
        for cycle, v, data, _ in tb.msis:
            assert v < tb.vectors and data == 0x100 + v, (cycle, v, hex(data))
        assert not self.drv.stray, f"interrupts on vectors no queue uses: {self.drv.stray[:5]}"
        stats = {v: (c.irqs, c.polls, c.repolls, c.missed_count, c.resched_by_recheck)
                 for v, c in sorted(self.drv.ctx.items())}
        tb.dut._log.warning(f"{rx.count['frames']} RX frames ({sum(rx.delivered.values())} delivered), "
                            f"{self.tx.sent_ok} TX frames, {len(tb.msis)} messages; per vector "
                            f"(irqs, polls, repolls, missed, rescheduled by re-check): {stats}")


# --- interrupt rules ----------------------------------------------------------------------

def vector_messages(tb, v):
    return [(c, seen) for c, vv, _, seen in tb.msis if vv == v]


def check_irq_rules(run):
    """For every vector with a NAPI context, from the recorded messages:

    * armed (IRQ_CTRL.ARM: "fires its vector once and disarms it"): every message
      of a queue needs an arm of that queue written after its previous message. The
      message is recorded when its write reaches host memory, some cycles after the
      device fired, and how many cycles is not bounded (it queues behind data
      bursts and other messages), so the sound form is a count: the k-th message of
      a vector needs at least k arm writes of its queues issued before it arrived
      (each arm allows one message; a second message for one arm, or a message
      with no arm, breaks the count as soon as the model has no spare arm). With
      one queue per vector this is per queue;
    * announced (DESIGN.md, the ordering argument): each message follows an event
      of a new completion, so when the k-th message of a vector arrives, at least k
      completions of its queues are in host memory (core_tb's snapshot)."""
    tb, drv = run.tb, run.drv
    bad = []
    for v, ctx in sorted(drv.ctx.items()):
        arms = sorted(t0 for key in ctx.keys for t0, _ in drv.arms[key])
        for k, (cycle, seen) in enumerate(vector_messages(tb, v), 1):
            n_arms = bisect.bisect_left(arms, cycle)
            if n_arms < k:
                bad.append(f"vector {v}: message {k} at cycle {cycle} with only {n_arms} arm writes "
                           f"before it (message while not armed, or two for one arm)")
            in_mem = sum(seen.get(key, 0) for key in ctx.keys)
            if in_mem < k:
                bad.append(f"vector {v}: message {k} at cycle {cycle} with {in_mem} completions in "
                           f"memory (message before the completion it announces)")
    return bad


def msg_delay_bounds(tb):
    """Upper bound of (arrival − fire) per message index in tb.msis, valid while
    MSG_SERVICE bounds one message's service (see there): a message that arrived
    more than MSG_SERVICE after the previous one cannot have waited behind it; one
    that arrived within it may have waited since the start of that busy period."""
    bounds = []
    start = None
    for i, (c, _, _, _) in enumerate(tb.msis):
        if i == 0 or c - tb.msis[i - 1][0] > MSG_SERVICE:
            start = c
        bounds.append(c - start + MSG_SERVICE)
    return bounds


def check_arm_strict(run):
    """IRQ_CTRL.ARM per RX queue with a vector of its own, using the delay bound:
    message k fired in [arrival_k − bound_k, arrival_k]; between the fires of
    messages k−1 and k an arm write must have landed (it lands between its issue
    and its response: queue_state acknowledges a write after its effect). So
    there must be arm writes j_1 < j_2 < ... with issue(j_k) < arrival_k and
    response(j_k) > arrival_{k−1} − bound_{k−1}; found greedily, earliest first."""
    tb, drv = run.tb, run.drv
    bounds = msg_delay_bounds(tb)
    bad = []
    for q in range(run.Q):
        key = (0, q)
        v = run.vector_of[key]
        if drv.ctx[v].keys != [key]:
            continue
        msgs = [(c, bounds[i]) for i, (c, vv, _, _) in enumerate(tb.msis) if vv == v]
        arms = drv.arms[key]
        j = 0
        prev_fire_lo = -INF
        for k, (c, b) in enumerate(msgs, 1):
            while j < len(arms) and arms[j][1] <= prev_fire_lo:
                j += 1
            if j >= len(arms) or arms[j][0] >= c:
                bad.append(f"RX queue {q}: message {k} at cycle {c} has no arm write that can have "
                           f"landed after the previous message's fire (>= {prev_fire_lo}) and before it")
                break
            j += 1
            prev_fire_lo = c - b
    return bad


def check_moderation(run):
    """IRQ_MODERATION on RX queues that have a vector of their own.

    docs/registers.md: USECS is the "minimum interval between two events of this
    queue passed on to its interrupt latch ... While the queue stays armed, that
    is the interval between its interrupts. An event latched while the queue was
    disarmed fires at the re-arm ..., which can be sooner than USECS after the
    previous interrupt"; FRAMES: "fire before the interval has passed once this
    many completions are pending". irq_moderation.rs states the rule for the
    events it forwards into irq_latch: forwarded at once when the queue has not
    forwarded one yet, or more than USECS timer ticks passed since its last
    forwarded event, or the event makes FRAMES events since then.

    So when message k may have fired at a re-arm (an arm response came at most
    its delay bound before it), its event was forwarded at some unobservable
    earlier time and the docs give no lower bound for message k+1: that pair is
    not checked. (This session's first version of the test checked every pair
    against "between two interrupts" and caught exactly that case, e.g. SEED=34
    and SEED=3290671704 at 8 queues; the docs were then made precise, and the
    RTL change that would give the stricter rule is an open item of issue 3.)

    Checked per pair of consecutive messages k, k+1 of a queue with USECS = U > 0:
    their fires are at least U µs minus one timer tick apart, i.e. the arrivals at
    least that minus message k's delay bound (msg_delay_bounds); or FRAMES = F > 0
    and the threshold can have been reached. For the latter the sound form is a
    count: message k+1 needs an event forwarded after message k's fire; with the
    threshold, F events were counted since the last forward, which came no
    earlier than the event that caused message k (completion number ≥ k−1, since
    each message needs an event of its own), so at least k + F completions are in
    memory at message k+1.

    Returns (violations, details): details give for each violation the cycles
    between the last arm response before message k and message k (small: message
    k fired on a re-arm with an event latched while the queue was disarmed)."""
    tb, drv = run.tb, run.drv
    bad, details, rearm_fires = [], [], []
    checked = 0
    tick = CLOCK_MHZ
    bounds = msg_delay_bounds(tb)
    for q in range(run.Q):
        key = (0, q)
        v = run.vector_of[key]
        if drv.ctx[v].keys != [key]:
            continue
        u = run.moderation[key] & 0xFFFF
        f = run.moderation[key] >> 16
        if not u:
            continue
        msgs = [(c, seen, bounds[i]) for i, (c, vv, _, seen) in enumerate(tb.msis) if vv == v]
        arm_b = sorted(b for _, b in drv.arms[key])
        for k in range(1, len(msgs)):
            (c1, _, b1), (c2, seen2, _) = msgs[k - 1], msgs[k]
            gap = c2 - c1
            if gap >= u * CLOCK_MHZ - tick - b1:
                checked += 1
                continue
            if f and seen2.get(key, 0) >= k + f:
                checked += 1
                continue
            i = bisect.bisect_right(arm_b, c1) - 1
            since_arm = c1 - arm_b[i] if i >= 0 else None
            if since_arm is not None and since_arm <= b1:
                rearm_fires.append(since_arm)
                continue
            bad.append(f"RX queue {q} (USECS {u}, FRAMES {f}): messages {k} and {k + 1} at cycles "
                       f"{c1} and {c2}, {gap} cycles apart (interval {u * CLOCK_MHZ} cycles, allowed "
                       f"{u * CLOCK_MHZ - tick - b1}), {seen2.get(key, 0)} completions in memory at "
                       f"the second; the first came {since_arm} cycles after an arm response")
            details.append(since_arm)
            checked += 1
    return bad, details, checked, rearm_fires


# --- the tests ------------------------------------------------------------------------------

@cocotb.test()
async def napi_random_traffic(dut):
    """Random RX (good frames over every queue by RSS, runts, oversize, MAC errors)
    and TX on every queue, served only through interrupts by the NAPI model, with
    queues mapped to a random number of shared vectors, random weights, random
    per-queue moderation and random pauses on every AXI channel. Every frame
    arrives once, byte-exact, where the docs say; counters equal the scoreboard;
    interrupts obey the arm/announce rules (check_irq_rules)."""
    run = await Run.create(dut, shared=True)
    n = scale(run.Q, 220)
    tx = cocotb.start_soon(run.tx_traffic(scale(run.Q, 60)))
    await run.rx_traffic(n, gap=(0, 40))
    await tx
    await run.wait_all()
    bad = check_irq_rules(run)
    assert not bad, f"{len(bad)} interrupt rule violations: {bad[:6]}"
    await run.check_end()


@cocotb.test()
async def napi_moderation_and_rearm(dut):
    """Each RX queue on a vector of its own (so every message is attributable),
    random IRQ_MODERATION per queue (USECS 0..12, FRAMES 0..8), random RX traffic
    (MTU 256) in bursts of 1..24 frames with idle times of up to 8 µs, some TX, a
    driver that spends realistic CPU time (0.2–2.5 µs from interrupt to poll,
    0.1–1 µs per packet); the write channels of the memory model run without
    pauses (see MSG_SERVICE). Checks the arm/announce rules (check_irq_rules,
    check_arm_strict), the moderation rule (check_moderation), and that nothing is
    lost."""
    # RSS over at most 8 queues, so that each gets enough messages to compare.
    run = await Run.create(dut, shared=False, write_pauses=False, mtu=256,
                           irq_latency=(30, 400), per_packet=(20, 160), reta_queues=8)
    n = scale(run.Q, 300)
    tx = cocotb.start_soon(run.tx_traffic(scale(run.Q, 30), gap=(0, 600)))
    # Bursts (so that polls run long) separated by idle times (so that intervals
    # expire, or not). The idle time includes the burst's mean CPU cost on one
    # queue (k frames over min(Q, 8) queues, 90 cycles each): without it the
    # 1-queue driver never caught up, never re-armed and so saw a single message
    # (SEED=615699793), leaving the moderation rule nothing to check.
    left = n
    while left:
        k = min(left, run.rng.randint(1, 24))
        await run.rx_traffic(k, gap=(0, 20))
        left -= k
        drain = k * sum(run.drv.per_packet) // 2 // min(run.Q, 8)
        await ClockCycles(dut.clk, drain + run.rng.randint(0, 8 * CLOCK_MHZ))
    await tx
    await run.wait_all()
    bad = check_irq_rules(run) + check_arm_strict(run)
    mod, since_arm, checked, rearm_fires = check_moderation(run)
    dut._log.warning(f"moderation: {checked} message pairs checked, {len(rearm_fires)} not "
                     f"checked (first message fired at a re-arm)")
    settings = {q: (run.moderation[(0, q)] & 0xFFFF, run.moderation[(0, q)] >> 16) for q in range(run.Q)}
    summary = {}
    for q, (u, f) in settings.items():
        cs = [c for c, _ in vector_messages(run.tb, q)]
        gaps = [b - a for a, b in zip(cs, cs[1:])]
        summary[q] = (u, f, len(cs), round(min(gaps) / CLOCK_MHZ, 2) if gaps else None)
    dut._log.warning(f"per RX queue (USECS, FRAMES, messages, smallest gap in µs): {summary}")
    assert checked > 0, "no message pair was checked against the moderation rule"
    if mod:
        at_rearm = sum(1 for s in since_arm if s is not None and s < 4 * CLOCK_MHZ)
        dut._log.warning(f"moderation: {len(mod)} violations, {at_rearm} of them right after a "
                         f"re-arm response (cycles since the arm's response: {since_arm[:12]}); "
                         f"settings (USECS, FRAMES) {settings}")
    assert not bad, f"{len(bad)} interrupt rule violations: {bad[:6]}"
    assert not mod, f"{len(mod)} moderation violations: {mod[:4]}"
    await run.check_end()


@cocotb.test()
async def napi_reta_rewrite_in_flight(dut):
    """RETA entries rewritten (three rounds, random entries to random queues) while
    the MAC model is still sending back-to-back frames and the NAPI model serves
    the queues. Each frame must land on a queue RETA may have held for its index
    while it was looked up (RetaHistory.possible: the new entry for frames whose
    first beat came after the write's response, the old one for frames that had
    completed before the write was issued, either in between), exactly once; and
    per entry the frames in MAC order switch from old to new at most once per
    write (no frame uses an older value after a newer one)."""
    run = await Run.create(dut, shared=True, moderation="none")
    rng, tb = run.rng, run.tb
    n = scale(run.Q, 240)
    done = Event()

    async def writer():
        for _ in range(3):
            await ClockCycles(dut.clk, rng.randint(300, 1500))
            if done.is_set():
                break
            for i in rng.sample(range(ENTRIES), rng.randint(8, 48)):
                q = rng.randrange(run.Q)
                v = run.rx.reta_begin(i, q)
                await tb.wr(regs.GLOBAL_RSS_RETA + 4 * i, q)
                run.hist.end(i, v)
    w = cocotb.start_soon(writer())
    await run.rx_traffic(n, drops=False)
    done.set()
    await w
    await run.wait_all()
    # Per entry, in MAC order: the versions a frame's queue is consistent with must
    # be reachable without going back.
    by_idx = collections.defaultdict(list)
    for fr in run.rx.frames:
        if fr["fate"] == "deliver" and "queue" in fr:
            by_idx[fr["idx"]].append(fr)
    back = []
    for i, frs in by_idx.items():
        h = run.hist.v[i]
        cur = 0
        for fr in frs:
            ok = [n_ for n_ in range(cur, len(h)) if h[n_][2] == fr["queue"]]
            if not ok:
                back.append(f"entry {i}: frame {fr['id']} on queue {fr['queue']} uses a value "
                            f"older than an earlier frame's (versions {[x[2] for x in h]}, at {cur})")
                break
            cur = ok[0]
    rewrites = sum(len(h) - 1 for h in run.hist.v)
    moved = sum(1 for fr in run.rx.frames if fr.get("queue") is not None
                and fr["queue"] != run.hist.v[fr["idx"]][0][2])
    either = sum(1 for fr in run.rx.frames if fr.get("queue") is not None and len(
        run.hist.possible(fr["idx"], fr["start"], fr["landed"][1])) > 1)
    dut._log.warning(f"{rewrites} RETA writes; {moved} frames landed on a rewritten value, "
                     f"{either} were looked up around a write (either value allowed)")
    assert not back, back[:4]
    await run.check_end()


@cocotb.test()
async def napi_full_completion_ring(dut):
    """Inside random traffic, the model stops returning completion slots of one RX
    queue (it keeps consuming and refilling, re-arms with IRQ_CTRL.ARM) while
    frames for it keep coming: once its completion ring is full the device must
    wait (rx_engine stage D, RSP_FULL), the in-order receive path behind it waits
    too and s_axis_tready falls (held low for a while with data offered). The frame
    that finds the ring full and every frame the MAC sent after it must not land
    before the model returns the slots; afterwards nothing is lost or duplicated."""
    run = await Run.create(dut, shared=True, moderation="none")
    rng, tb, Q = run.rng, run.tb, run.Q
    qs = rng.choice(run.hist.current())   # a queue RSS can reach
    key = (0, qs)
    ring = tb.rings[key]
    # No gaps from the MAC model: a held beat must mean the device holds tready low.
    no_pauses(tb.mac_rx)
    tx = cocotb.start_soon(run.tx_traffic(scale(Q, 20), gap=(0, 800)))
    await run.rx_traffic(scale(Q, 60), gap=(0, 40))
    # Stall: withhold completion slots of qs.
    run.drv.stalled.add(key)
    stalled_at = tb.cycle
    held = {"run": 0, "max": 0}
    stop = Event()

    async def watch():
        # Longest run of cycles with a beat offered and not taken.
        while not stop.is_set():
            await RisingEdge(dut.clk)
            if int(dut.s_axis_rx_tvalid.value) and not int(dut.s_axis_rx_tready.value):
                held["run"] += 1
                held["max"] = max(held["max"], held["run"])
            else:
                held["run"] = 0
    wt = cocotb.start_soon(watch())

    async def feeder():
        # Mostly large frames for qs, some for the others (the 16 KiB frame FIFO
        # must fill behind the blocked frame for tready to fall).
        n = 0
        while not stop.is_set():
            want = qs if rng.random() < 0.6 or Q == 1 else None
            fr = run.rx.make(rng, want_q=want, drops=want is None, size=rng.randint(1000, 1500))
            while not stop.is_set() and (not run.rx.can_send(fr) or tb.mac_rx.queue_occupancy_frames >= 2):
                await ClockCycles(dut.clk, 8)
            if not stop.is_set():
                await run.rx.send(fr)
                n += 1
        return n
    fd = cocotb.start_soon(feeder())
    HOLD = 1500
    while held["max"] < HOLD:
        await ClockCycles(dut.clk, 64)
        assert tb.cycle - stalled_at < 100_000, \
            f"s_axis_rx_tready never held low for {HOLD} cycles (longest {held['max']})"
    stop.set()
    await wt
    sent = await fd
    # Resume: return the slots.
    run.drv.stalled.discard(key)
    returned_before = run.drv.returned[key]
    resume = tb.cycle
    await run.drv.return_slots(key)
    dut._log.warning(f"queue {qs}: stalled for {resume - stalled_at} cycles, tready held "
                     f"low {held['max']} cycles, {sent} frames sent during the stall")
    await run.rx_traffic(scale(Q, 40), gap=(0, 40))
    await tx
    await run.wait_all()
    # The frame that found the ring full: completion number R + size, R being the
    # last index the model returned before the stall (nothing was returned during it).
    blocked_no = returned_before + ring.size
    qs_frames = {fr["cpl"]: fr for fr in run.rx.frames if fr.get("queue") == qs}
    assert blocked_no in qs_frames, \
        f"queue {qs}: completion {blocked_no} never came (returned {returned_before} before the stall)"
    blocked = qs_frames[blocked_no]
    assert blocked["landed"][0] > resume, \
        f"queue {qs}: completion {blocked_no} landed at cycle {blocked['landed'][0]}, before the " \
        f"slots were returned at {resume} (ring of {ring.size}, {returned_before} returned)"
    early = [fr for fr in run.rx.frames if fr.get("queue") is not None and fr["id"] > blocked["id"]
             and fr["landed"][0] < resume]
    assert not early, (f"frames the MAC sent after the blocked one landed before the slots were "
                       f"returned: {[(f['id'], f['queue'], f['landed'][0]) for f in early[:6]]}")
    await run.check_end()


@cocotb.test()
async def napi_tx_read_error(dut):
    """Inside random RX/TX traffic, one TX descriptor points at an unmapped address
    (HostMemory answers SLVERR), followed by more frames on that queue. Expected
    (tx_engine.rs "Errors", docs/registers.md): that frame reaches the MAC at its
    full length with tuser = 1 on the last beat; the queue stops (STATUS.ERROR, not
    ENABLED); ERR_STATUS.DMA_READ, ERR_INFO = (queue, TX), ERR_ADDR = the buffer
    address; the error vector fires; no completion for it; at most four
    descriptors behind it (what the stages behind the completion stage hold) are
    still sent and completed, nothing later — six are posted behind it; TX_ERRORS
    counts one; the other queues keep flowing meanwhile; after napi_disable, a
    queue restart and napi_enable the queue sends again."""
    run = await Run.create(dut, shared=True, moderation="none", err_irq=True)
    rng, tb, Q = run.rng, run.tb, run.Q
    qe = rng.randrange(Q)
    unmapped = tb.ram_size - 0x10_0000
    bad_len = rng.choice([64, 200, rng.randint(60, 1514)])
    others = [q for q in range(Q) if q != qe]
    tx1 = cocotb.start_soon(run.tx_traffic(scale(Q, 30) if others else 0, queues=others, gap=(0, 100)))
    rx1 = cocotb.start_soon(run.rx_traffic(scale(Q, 120), gap=(0, 60)))
    await ClockCycles(dut.clk, rng.randint(500, 3000))
    for _ in range(rng.randint(0, 3)):
        await run.tx.post(qe, rng)
    await run.tx.post_bad(qe, unmapped, bad_len)
    behind = [await run.tx.post(qe, rng) for _ in range(6)]
    # The error interrupt.
    for _ in range(200):
        if run.err_event.is_set():
            break
        await ClockCycles(dut.clk, 100)
    else:
        raise AssertionError("no error interrupt")
    err_at = tb.cycle
    err = await tb.rd(regs.GLOBAL_ERR_STATUS)
    assert err == regs.GLOBAL_ERR_STATUS_DMA_READ.mask, f"ERR_STATUS {err:#x}"
    info = await tb.rd(regs.GLOBAL_ERR_INFO)
    assert (regs.GLOBAL_ERR_INFO_QUEUE.get(info), regs.GLOBAL_ERR_INFO_TX.get(info)) == (qe, 1), hex(info)
    addr = await tb.rd(regs.GLOBAL_ERR_ADDR_LO) | (await tb.rd(regs.GLOBAL_ERR_ADDR_HI)) << 32
    assert addr == unmapped, f"ERR_ADDR {addr:#x}, expected {unmapped:#x}"
    ring = tb.rings[(1, qe)]
    status = await tb.rd(ring.reg(regs.QUEUE_STATUS))
    assert regs.QUEUE_STATUS_ERROR.get(status) and not regs.QUEUE_STATUS_ENABLED.get(status), hex(status)
    await tb.wr(regs.GLOBAL_ERR_STATUS, err)
    # The others keep going: frames posted on the other TX queues after the error
    # leave; RX keeps being delivered.
    delivered_before = sum(run.rx.delivered.values())
    tx2 = cocotb.start_soon(run.tx_traffic(8 if others else 0, queues=others, gap=(0, 100)))
    # RX frames sent after the error too (the first batch may be all delivered by
    # then): the receive path must not be affected by a TX queue's error.
    await rx1
    rx2 = cocotb.start_soon(run.rx_traffic(scale(Q, 16), gap=(0, 60), drops=False))
    await ClockCycles(dut.clk, 4000)
    await tx1
    await tx2
    await rx2
    await tb.mac_rx.wait()
    await ClockCycles(dut.clk, 2000)
    assert [b[2] for b in run.tx.bad_seen] == [bad_len], \
        f"expected one tuser=1 frame of {bad_len} bytes at the MAC, saw {run.tx.bad_seen}"
    after = run.tx.after_bad[qe]
    if after > 4:
        dev = [await tb.rd(ring.reg(r)) for r in (regs.QUEUE_DESC_CONS, regs.QUEUE_CPL_PROD)]
        raise AssertionError(
            f"TX queue {qe}: {after} frames sent after the one whose read failed (tx_engine.rs: at "
            f"most four descriptors taken behind it); DESC_CONS/CPL_PROD {dev}, model posted "
            f"{ring.prod}; bad descriptor {ring.prod - 7}; completions consumed {ring.cons}")
    # The ones sent behind it were completed (the model polls them after their
    # interrupt), the rest not sent.
    left = list(run.tx.expect[qe])
    assert left == behind[after:], "queue order after the error"
    for _ in range(500):
        pend = [i for i, f in run.drv.tx_pending[qe] if f is not None]
        if len(pend) <= len(left):
            break
        await ClockCycles(dut.clk, 100)
    assert len(pend) == len(left), (f"completions of the frames sent after the error: pending {pend}, "
                                    f"unsent {len(left)}; {await run.drv.describe()}")
    others_out = sum(1 for c, q in run.tx.out_log if c > err_at and q != qe)
    rx_progress = sum(run.rx.delivered.values()) - delivered_before
    assert rx_progress > 0, "no RX delivered after the TX error"
    assert not others or others_out >= 8, f"only {others_out} TX frames of other queues after the error"
    # Recover: hold the context, restart the queue, release it.
    ctx = run.drv.ctx[run.vector_of[(1, qe)]]
    await run.drv.napi_disable(ctx)
    run.tx.expect[qe].clear()
    run.tx.allow_after_bad.pop(qe, None)
    await run.drv.restart_queue((1, qe))
    status = await tb.rd(ring.reg(regs.QUEUE_STATUS))
    assert status == regs.QUEUE_STATUS_ENABLED.mask, hex(status)
    await run.drv.napi_enable(ctx)
    out_q_before = sum(1 for _, q in run.tx.out_log if q == qe)
    await run.tx_traffic(6, queues=[qe], gap=(0, 50))
    await run.rx_traffic(scale(Q, 30), gap=(0, 60))
    await run.wait_all()
    assert sum(1 for _, q in run.tx.out_log if q == qe) - out_q_before == 6, "queue did not recover"
    faults = [f for f in tb.mem.faults if not (f[0] == "read" and unmapped <= f[1] < unmapped + bad_len)]
    assert not faults, faults
    dut._log.warning(f"TX queue {qe}: read error at cycle {err_at}, {after} frame(s) sent behind it, "
                     f"{others_out} TX frames of other queues and {rx_progress} RX frames meanwhile")
    await run.check_end(tx_errors=1, skip_stats=(qe,))


@pytest.mark.parametrize("queues", [1, 8, 64])
def test_core_napi(queues):
    try:
        oxnic_tb.run("oxnic_top", "oxnic_top", "test_core_napi", queues, Path(__file__).parent)
    finally:
        for f in Path(__file__).parent.glob("*.None"):
            f.unlink()
