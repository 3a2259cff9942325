"""cocotb bench for ``dma_arb`` (hw/rtl/src/dma_arb.rs): the AXI4 interconnect of
the NIC's DMA clients (``rx``, ``tx`` read+write, ``msix`` write) onto ``m_axi``.

Clients are cocotbext-axi ``AxiMaster``/``AxiMasterWrite`` models (they cycle
through their 16 IDs, so several bursts per client are in flight with different
IDs); ``m_axi`` is served by an ``AxiRam`` (or, for the error test, a RAM that
answers SLVERR in one window). Random pauses on every channel of both sides.

Checks:
* every byte written through any client lands in the RAM exactly as an
  independent model (a bytearray updated by every write) says, and every read
  through ``rx`` and ``tx`` returns the model's bytes;
* every write and read completes OKAY (except where the error test wants SLVERR,
  and then only on the client that addressed the error window);
* per client, the IDs of the B responses (and of the last R beats) are exactly
  the IDs of its AW (AR) requests, and on ``m_axi`` the IDs are the client
  index in 5:4 over the client's ID;
* on ``m_axi`` W bursts never interleave: the W beats, cut at ``wlast``, are in
  AW order with the AW's length;
* throughput: one W beat per cycle within a burst, at most one idle cycle when
  the grant switches, with no pauses anywhere.

Run: ``.venv/bin/pytest tb/dma_arb`` (``SEED=n`` replays, ``WAVES=1`` records FST).
"""

import random
from collections import Counter
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import Combine, RisingEdge
from cocotbext.axi import (AxiBus, AxiMaster, AxiMasterWrite, AxiRam, AxiRamRead,
                           AxiRamWrite, AxiResp, AxiWriteBus)
from cocotbext.axi.memory import Memory

import oxnic_tb

RAM_SIZE = 1 << 16
CHUNK = 1024
CLIENTS = ("rx", "tx", "msix")
READERS = ("rx", "tx")


def pauses(rng, p):
    while True:
        yield rng.random() < p


class ErrorWindowWrite(AxiRamWrite):
    """AxiRamWrite whose writes into [lo, hi) fail (the slave answers SLVERR)."""

    def __init__(self, *args, window, **kwargs):
        self.window = window
        super().__init__(*args, **kwargs)

    async def _write(self, address, data):
        lo, hi = self.window
        if address < hi and address + len(data) > lo:
            raise ValueError("error window")
        await super()._write(address, data)


class ErrorWindowRead(AxiRamRead):
    """AxiRamRead whose reads from [lo, hi) fail (the slave answers SLVERR)."""

    def __init__(self, *args, window, **kwargs):
        self.window = window
        super().__init__(*args, **kwargs)

    async def _read(self, address, length):
        lo, hi = self.window
        if address < hi and address + length > lo:
            raise ValueError("error window")
        return await super()._read(address, length)


class ErrorWindowRam(Memory):
    """AxiRam built from the two error-window halves (same shape as AxiRam)."""

    def __init__(self, bus, clock, reset, size, window):
        self.write_if = None
        self.read_if = None
        super().__init__(size)
        self.write_if = ErrorWindowWrite(bus.write, clock, reset, mem=self.mem, window=window)
        self.read_if = ErrorWindowRead(bus.read, clock, reset, mem=self.mem, window=window)


class Monitor:
    """Records handshakes of the client ports and of m_axi, sampled at each edge."""

    def __init__(self, dut):
        self.dut = dut
        self.aw = {c: [] for c in CLIENTS}   # client: [awid]
        self.b = {c: [] for c in CLIENTS}    # client: [(bid, bresp)]
        self.ar = {c: [] for c in READERS}   # client: [arid]
        self.r = {c: [] for c in READERS}    # client: [(rid, rresp)] of last beats
        self.m_aw = []                       # (awid, awlen)
        self.m_w_bursts = []                 # beats per burst, in wlast order
        self.m_w_cycles = []                 # cycle numbers of W beats
        self.m_b = []
        self.m_ar = []
        self.cycle = 0
        self._beats = 0
        cocotb.start_soon(self.run())

    @staticmethod
    def fire(dut, prefix, ch):
        return int(getattr(dut, f"{prefix}_{ch}valid").value) and \
            int(getattr(dut, f"{prefix}_{ch}ready").value)

    async def run(self):
        dut = self.dut
        while True:
            await RisingEdge(dut.clk)
            self.cycle += 1
            if int(dut.rst.value):
                continue
            for c in CLIENTS:
                p = f"s_axi_{c}"
                if self.fire(dut, p, "aw"):
                    self.aw[c].append(int(getattr(dut, f"{p}_awid").value))
                if self.fire(dut, p, "b"):
                    self.b[c].append((int(getattr(dut, f"{p}_bid").value),
                                      int(getattr(dut, f"{p}_bresp").value)))
            for c in READERS:
                p = f"s_axi_{c}"
                if self.fire(dut, p, "ar"):
                    self.ar[c].append(int(getattr(dut, f"{p}_arid").value))
                if self.fire(dut, p, "r") and int(getattr(dut, f"{p}_rlast").value):
                    self.r[c].append((int(getattr(dut, f"{p}_rid").value),
                                      int(getattr(dut, f"{p}_rresp").value)))
            if self.fire(dut, "m_axi", "aw"):
                self.m_aw.append((int(dut.m_axi_awid.value), int(dut.m_axi_awlen.value)))
            if self.fire(dut, "m_axi", "w"):
                self._beats += 1
                self.m_w_cycles.append(self.cycle)
                if int(dut.m_axi_wlast.value):
                    self.m_w_bursts.append(self._beats)
                    self._beats = 0
            if self.fire(dut, "m_axi", "b"):
                self.m_b.append((int(dut.m_axi_bid.value), int(dut.m_axi_bresp.value)))
            if self.fire(dut, "m_axi", "ar"):
                self.m_ar.append(int(dut.m_axi_arid.value))

    def check(self, error_clients=()):
        """Routing and ordering checks over everything recorded."""
        for c in CLIENTS:
            assert Counter(self.aw[c]) == Counter(bid for bid, _ in self.b[c]), \
                f"{c}: B IDs {sorted(b for b, _ in self.b[c])} != AW IDs {sorted(self.aw[c])}"
            if c not in error_clients:
                assert all(r == AxiResp.OKAY for _, r in self.b[c]), f"{c}: error B response"
        for c in READERS:
            assert Counter(self.ar[c]) == Counter(rid for rid, _ in self.r[c]), \
                f"{c}: R IDs != AR IDs"
            if c not in error_clients:
                assert all(r == AxiResp.OKAY for _, r in self.r[c]), f"{c}: error R response"
        expected_m_aw = Counter((i << 4) | a for i, c in enumerate(CLIENTS) for a in self.aw[c])
        assert Counter(a for a, _ in self.m_aw) == expected_m_aw, "m_axi AWIDs do not encode the clients"
        expected_m_ar = Counter((i << 4) | a for i, c in enumerate(READERS) for a in self.ar[c])
        assert Counter(self.m_ar) == expected_m_ar, "m_axi ARIDs do not encode the clients"
        assert self.m_w_bursts == [n + 1 for _, n in self.m_aw], \
            "W bursts on m_axi are not in AW order with AW lengths (interleaved or split)"
        assert self._beats == 0, "a W burst was left open"
        assert len(self.m_b) == len(self.m_aw)


class TB:
    def __init__(self, dut, pause=0.3, error_window=None):
        self.dut = dut
        self.rng = random.Random(oxnic_tb.seed())
        cocotb.start_soon(Clock(dut.clk, 4, units="ns").start())
        self.m = {
            "rx": AxiMaster(AxiBus.from_prefix(dut, "s_axi_rx"), dut.clk, dut.rst),
            "tx": AxiMaster(AxiBus.from_prefix(dut, "s_axi_tx"), dut.clk, dut.rst),
            "msix": AxiMasterWrite(AxiWriteBus.from_prefix(dut, "s_axi_msix"), dut.clk, dut.rst),
        }
        bus = AxiBus.from_prefix(dut, "m_axi")
        if error_window is None:
            self.ram = AxiRam(bus, dut.clk, dut.rst, size=RAM_SIZE)
        else:
            self.ram = ErrorWindowRam(bus, dut.clk, dut.rst, RAM_SIZE, error_window)
        self.model = bytearray(RAM_SIZE)
        self.mon = Monitor(dut)
        if pause:
            self.set_pauses(pause)

    def channels(self):
        for c in ("rx", "tx"):
            m = self.m[c]
            yield from (m.write_if.aw_channel, m.write_if.w_channel, m.write_if.b_channel,
                        m.read_if.ar_channel, m.read_if.r_channel)
        m = self.m["msix"]
        yield from (m.aw_channel, m.w_channel, m.b_channel)
        r = self.ram
        yield from (r.write_if.aw_channel, r.write_if.w_channel, r.write_if.b_channel,
                    r.read_if.ar_channel, r.read_if.r_channel)

    def set_pauses(self, p):
        for ch in self.channels():
            ch.set_pause_generator(pauses(random.Random(self.rng.randrange(1 << 32)), p))

    async def reset(self):
        self.dut.rst.value = 1
        for _ in range(3):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
        for _ in range(2):
            await RisingEdge(self.dut.clk)

    def random_write(self, client, chunk):
        """A random (address, data) inside ``chunk`` for ``client``."""
        base = chunk * CHUNK
        if client == "msix":  # a message: one aligned dword
            return base + 4 * self.rng.randrange(CHUNK // 4), self.rng.randbytes(4)
        off = self.rng.randrange(CHUNK)
        length = self.rng.randint(1, CHUNK - off)
        return base + off, self.rng.randbytes(length)

    async def write_round(self, per_client, clients=CLIENTS):
        """Concurrent writes from ``clients`` into disjoint chunks; returns resps."""
        chunks = list(range(RAM_SIZE // CHUNK))
        self.rng.shuffle(chunks)
        ops = []
        for c in clients:
            for _ in range(per_client):
                addr, data = self.random_write(c, chunks.pop())
                self.model[addr:addr + len(data)] = data
                ops.append((c, addr, data, cocotb.start_soon(self.m[c].write(addr, data))))
        results = []
        for c, addr, data, task in ops:
            results.append((c, addr, len(data), (await task).resp))
        return results

    async def read_round(self, per_client, lo=0, hi=RAM_SIZE):
        """Concurrent random reads through rx and tx; returns (client, addr, data, resp)."""
        ops = []
        for c in READERS:
            for _ in range(per_client):
                addr = self.rng.randrange(lo, hi)
                length = self.rng.randint(1, min(2 * CHUNK, hi - addr))
                ops.append((c, addr, cocotb.start_soon(self.m[c].read(addr, length))))
        out = []
        for c, addr, task in ops:
            r = await task
            out.append((c, addr, r.data, r.resp))
        return out

    async def settle(self, cycles=20):
        for _ in range(cycles):
            await RisingEdge(self.dut.clk)


@cocotb.test(timeout_time=2, timeout_unit="ms")
async def concurrent_writes_then_reads(dut):
    """All clients write concurrently (rounds over disjoint chunks), then rx and tx
    read back; RAM, reads and routing must match the model."""
    tb = TB(dut)
    await tb.reset()
    for _ in range(4):
        for c, addr, n, resp in await tb.write_round(per_client=6):
            assert resp == AxiResp.OKAY, f"{c} write 0x{addr:X}+{n}: {resp}"
    assert tb.ram.read(0, RAM_SIZE) == bytes(tb.model), "RAM differs from the model"
    for c, addr, data, resp in await tb.read_round(per_client=24):
        assert resp == AxiResp.OKAY, f"{c} read 0x{addr:X}: {resp}"
        assert data == tb.model[addr:addr + len(data)], f"{c} read 0x{addr:X}+{len(data)} differs"
    await tb.settle()
    tb.mon.check()
    dut._log.info("bursts: %d AW, %d AR; clients AW %s", len(tb.mon.m_aw), len(tb.mon.m_ar),
                  {c: len(v) for c, v in tb.mon.aw.items()})


@cocotb.test(timeout_time=2, timeout_unit="ms")
async def writes_and_reads_mixed(dut):
    """Writes and reads at the same time (reads of a region no one writes)."""
    tb = TB(dut, pause=0.2)
    await tb.reset()
    # Preload the upper half through the clients, then read it while writing the lower half.
    half = RAM_SIZE // 2
    for c, addr, n, resp in await tb.write_round(per_client=4, clients=("rx", "tx")):
        assert resp == AxiResp.OKAY
    snapshot = bytes(tb.model)

    async def writers():
        chunks = list(range(half // CHUNK))
        tb.rng.shuffle(chunks)
        tasks = []
        for c in CLIENTS:
            for _ in range(5):
                addr, data = tb.random_write(c, chunks.pop())
                tb.model[addr:addr + len(data)] = data
                tasks.append(cocotb.start_soon(tb.m[c].write(addr, data)))
        for t in tasks:
            assert (await t).resp == AxiResp.OKAY

    w = cocotb.start_soon(writers())
    for c, addr, data, resp in await tb.read_round(per_client=16, lo=half, hi=RAM_SIZE):
        assert resp == AxiResp.OKAY
        assert data == snapshot[addr:addr + len(data)], f"{c} read 0x{addr:X} differs"
    await w
    assert tb.ram.read(0, RAM_SIZE) == bytes(tb.model)
    await tb.settle()
    tb.mon.check()


@cocotb.test(timeout_time=2, timeout_unit="ms")
async def error_reaches_only_its_client(dut):
    """The RAM answers SLVERR in one window: rx writes and tx reads there get it,
    every other transfer (concurrent) stays OKAY."""
    lo, hi = 0x8000, 0x9000
    tb = TB(dut, error_window=(lo, hi))
    await tb.reset()
    bad_w = [cocotb.start_soon(tb.m["rx"].write(lo + 64 * i, tb.rng.randbytes(32)))
             for i in range(8)]
    bad_r = [cocotb.start_soon(tb.m["tx"].read(lo + 128 * i, 64)) for i in range(8)]
    good = []
    for c in CLIENTS:
        for i in range(6):
            addr, data = tb.random_write(c, i + 8 * CLIENTS.index(c))  # chunks below lo
            tb.model[addr:addr + len(data)] = data
            good.append(cocotb.start_soon(tb.m[c].write(addr, data)))
    good_r = [cocotb.start_soon(tb.m["rx"].read(tb.rng.randrange(hi, RAM_SIZE - 64), 64))
              for _ in range(8)]
    for t in bad_w:
        assert (await t).resp == AxiResp.SLVERR, "rx write into the error window not SLVERR"
    for t in bad_r:
        assert (await t).resp == AxiResp.SLVERR, "tx read from the error window not SLVERR"
    for t in good:
        assert (await t).resp == AxiResp.OKAY
    for t in good_r:
        assert (await t).resp == AxiResp.OKAY
    assert tb.ram.read(0, lo) == bytes(tb.model[:lo])
    await tb.settle()
    tb.mon.check(error_clients=("rx", "tx"))
    # The errors went only to the clients that caused them, and to those transfers.
    assert sum(r == AxiResp.SLVERR for _, r in tb.mon.b["rx"]) == 8
    assert all(r == AxiResp.OKAY for _, r in tb.mon.b["tx"] + tb.mon.b["msix"])
    assert sum(r == AxiResp.SLVERR for _, r in tb.mon.r["tx"]) == 8
    assert all(r == AxiResp.OKAY for _, r in tb.mon.r["rx"])


@cocotb.test(timeout_time=2, timeout_unit="ms")
async def full_throughput(dut):
    """No pauses: a 256-beat burst moves one beat per cycle, and bursts queued by
    several clients follow each other with at most one idle cycle."""
    tb = TB(dut, pause=0)
    await tb.reset()
    await tb.m["rx"].write(0, tb.rng.randbytes(2048))
    cycles = tb.mon.m_w_cycles
    assert len(cycles) == 256 and cycles[-1] - cycles[0] == 255, \
        f"256 beats took {cycles[-1] - cycles[0] + 1} cycles"
    tb.mon.m_w_cycles = []
    # Three clients, four 16-beat bursts each, all queued at once.
    tasks = []
    for i, c in enumerate(("rx", "tx")):
        for k in range(4):
            addr = 0x4000 + (4 * i + k) * 128
            tasks.append(cocotb.start_soon(tb.m[c].write(addr, tb.rng.randbytes(128))))
    for k in range(4):
        tasks.append(cocotb.start_soon(tb.m["msix"].write(0x6000 + 4 * k, b"\x01\x02\x03\x04")))
    await Combine(*tasks)
    cycles = tb.mon.m_w_cycles
    gaps = [b - a - 1 for a, b in zip(cycles, cycles[1:])]
    assert len(cycles) == 8 * 16 + 4
    dut._log.info(f"W gaps between beats: {Counter(gaps)}")
    # Idle cycles appear only at grant switches (one per burst at most).
    assert max(gaps) <= 1 and sum(gaps) <= len(tb.mon.m_aw), f"W gaps {gaps}"
    await tb.settle()
    tb.mon.check()


def test_dma_arb():
    oxnic_tb.run("dma_arb", "dma_arb", "test_dma_arb", 8, Path(__file__).parent)
