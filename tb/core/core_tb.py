"""Models shared by the ``oxnic_top`` benches in this folder (test_core*.py).

Not a test module (pytest collects only ``test_*.py``). Everything here is written
from docs/registers.md and hw/rtl/DESIGN.md, never from the RTL:

* ``HostMemory``: an ``AxiRam`` behind an IOMMU model — only mapped IOVA windows
  are reachable, any other access answers SLVERR — plus the MSI window at
  ``MSI_BASE``: a write there is an interrupt message, recorded with the cycle it
  arrived and a snapshot of how many completions of each queue were in memory;
* ``Ring`` / ``TB``: the bus models and a small Python driver (queue bring-up,
  descriptor posting, completions read by phase bit);
* ``random_pauses``: pause generators for cocotbext-axi channels;
* ``parse_cpl``: the completion layout from ``regs.CPL_*`` (the export).
"""

import itertools
import logging
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import (AxiBus, AxiLiteBus, AxiLiteMaster, AxiRam, AxiStreamBus,
                           AxiStreamSink, AxiStreamSource)

import oxnic_tb
from oxnic_tb import regs

RAM_SIZE = 1 << 20
MSI_BASE = 0xFEE0_0000  # the platform's MSI window (outside host RAM)
CLOCK_NS = 6.4          # 156.25 MHz
CLOCK_MHZ = 156         # oxnic-gen's default --clock-mhz


def field(word, mf):
    return (word >> mf.lsb) & ((1 << mf.width) - 1)


def parse_cpl(raw):
    """A 16-byte completion as a dict, every field placed by the export's CPL format."""
    def get(mf):
        word = int.from_bytes(raw[mf.word_offset:mf.word_offset + mf.word_bits // 8], "little")
        return field(word, mf)
    return {
        "len": get(regs.CPL_LEN), "status": get(regs.CPL_STATUS),
        "rss_type": get(regs.CPL_RSS_TYPE), "hash": get(regs.CPL_RSS_HASH),
        "index": get(regs.CPL_DESC_INDEX), "queue": get(regs.CPL_QUEUE),
        "phase": get(regs.CPL_PHASE),
    }


def random_pauses(rng, p):
    """A pause generator: each cycle paused with probability ``p``, in short runs."""
    def gen():
        while True:
            if rng.random() < p:
                for _ in range(rng.randint(1, 6)):
                    yield 1
            else:
                yield 0
    return gen()


class HostMemory(AxiRam):
    """AxiRam behind an IOMMU model, with the MSI window on top.

    ``map(lo, size)`` opens an IOVA window; any access outside every window answers
    SLVERR. Writes into the MSI window are interrupt messages (recorded, not stored).
    """

    def __init__(self, tb, bus, clock, reset, size=RAM_SIZE):
        self.tb = tb
        self.windows = []
        self.faults = []
        super().__init__(bus, clock, reset, size=size)
        mem = self

        async def write(address, data, orig=self.write_if._write):
            if MSI_BASE <= address < MSI_BASE + 0x10000:
                tb.on_msi(address, bytes(data))
                return
            mem.check(address, len(data), "write")
            await orig(address, data)

        async def read(address, length, orig=self.read_if._read):
            mem.check(address, length, "read")
            return await orig(address, length)

        self.write_if._write = write
        self.read_if._read = read

    def map(self, lo, size):
        self.windows.append((lo, lo + size))

    def check(self, address, length, kind):
        for lo, hi in self.windows:
            if lo <= address and address + length <= hi:
                return
        self.faults.append((kind, address, length))
        raise ValueError(f"IOMMU fault: {kind} of {length} bytes at {address:#x}")

    def set_pauses(self, rng, p):
        """Random pauses on all five AXI channels (``p`` = 0: none)."""
        channels = (self.write_if.aw_channel, self.write_if.w_channel, self.write_if.b_channel,
                    self.read_if.ar_channel, self.read_if.r_channel)
        for ch in channels:
            ch.set_pause_generator(random_pauses(rng, p) if p else None)


class Ring:
    """One queue's rings in host memory, as the driver model sees them."""

    def __init__(self, mem, q, tx, log2, base, buf_size):
        self.q, self.tx, self.log2, self.size = q, tx, log2, 1 << log2
        self.desc_base = base
        self.cpl_base = base + 16 * self.size
        self.buf_base = base + 32 * self.size
        self.buf_size = buf_size
        self.prod = 0        # descriptors posted (free-running)
        self.cons = 0        # completions consumed (free-running)
        self.phase = 1
        mem.map(base, 32 * self.size + buf_size * self.size)

    @staticmethod
    def footprint(log2, buf_size):
        return (32 + buf_size) << log2

    def buf(self, index):
        return self.buf_base + (index % self.size) * self.buf_size

    def reg(self, r):
        return (regs.tx_queue_reg if self.tx else regs.rx_queue_reg)(self.q, r)

    def restart(self, mem):
        """The driver's side of a re-enable: indices back to 0, completions zeroed."""
        self.prod = self.cons = 0
        self.phase = 1
        mem.write(self.cpl_base, bytes(16 * self.size))


class TB:
    def __init__(self, dut, seed, ram_size=RAM_SIZE):
        self.dut = dut
        self.seed = seed
        # The bus models log every transfer at INFO: keep the output readable.
        logging.getLogger(f"cocotb.{dut._name}").setLevel(logging.WARNING)
        self.rng = random.Random(seed)
        self.queues = int(os.environ["QUEUES"])
        self.vectors = self.queues + 1   # oxnic-gen's default --vectors
        self.params = {"queues": self.queues, "vectors": self.vectors, "clock_mhz": CLOCK_MHZ}
        self.ram_size = ram_size
        self.next_free = 0x1000          # bump allocator for alloc()
        self.cycle = 0
        self.msis = []       # (cycle, vector, data, completions seen per (tx, q))
        self.rings = {}
        cocotb.start_soon(Clock(dut.clk, CLOCK_NS, units="ns").start())
        cocotb.start_soon(self._count())
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
        self.mem = HostMemory(self, AxiBus.from_prefix(dut, "m_axi"), dut.clk, dut.rst, ram_size)
        self.mac_rx = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis_rx"), dut.clk, dut.rst)
        self.mac_tx = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis_tx"), dut.clk, dut.rst)

    async def _count(self):
        while True:
            await RisingEdge(self.dut.clk)
            self.cycle += 1

    async def reset(self):
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 4)
        self.dut.rst.value = 0
        # Wait for the RAM sweeps (STATUS.RESET_BUSY).
        for _ in range(100):
            if not regs.GLOBAL_STATUS_RESET_BUSY.get(await self.rd(regs.GLOBAL_STATUS)):
                return
        raise AssertionError("STATUS.RESET_BUSY stays set after reset")

    async def rd(self, off):
        return await self.axil.read_dword(off)

    async def wr(self, off, value):
        await self.axil.write_dword(off, value & 0xFFFF_FFFF)

    def alloc(self, size, align=0x1000):
        """Host memory for rings (never mapped twice, never overlapping)."""
        base = (self.next_free + align - 1) // align * align
        self.next_free = base + size
        assert self.next_free <= self.ram_size, "host RAM model too small"
        return base

    # --- the platform's part (vfio-pci programs MSI-X) ---
    async def msix_setup(self):
        for v in range(self.vectors):
            e = regs.MSIX_TABLE_OFFSET + v * regs.MSIX_ENTRY_SIZE
            await self.wr(e + 0, MSI_BASE + 4 * v)
            await self.wr(e + 4, 0)
            await self.wr(e + 8, 0x100 + v)
            await self.wr(e + 12, 0)  # unmask
        await self.wr(regs.MSIX_CTRL, regs.MSIX_CTRL_ENABLE.set(0, 1))

    def on_msi(self, address, data):
        seen = {k: self.completions_in_memory(r) for k, r in self.rings.items()}
        vector = (address - MSI_BASE) // 4
        self.msis.append((self.cycle, vector, int.from_bytes(data[:4], "little"), seen))

    def completions_in_memory(self, ring):
        """Completions the device has written that the model has not consumed yet,
        counted by phase bit from the model's consumer index."""
        n, cons, phase = 0, ring.cons, ring.phase
        while n < ring.size:
            addr = ring.cpl_base + 16 * (cons % ring.size)
            w3 = int.from_bytes(self.mem.read(addr + 12, 4), "little")
            if field(w3, regs.CPL_PHASE) != phase:
                break
            n += 1
            cons += 1
            if cons % ring.size == 0:
                phase ^= 1
        return ring.cons + n

    # --- the driver model ---
    async def queue_up(self, q, tx, log2, vector, buf_size=2048, base=None, arm=True):
        """Brings a queue up. ``base`` None: the original fixed placement (fine for
        two queues); benches with many queues pass ``tb.alloc(Ring.footprint(...))``."""
        if base is None:
            base = 0x1000 + (0x4_0000 * (2 * q + tx)) % (RAM_SIZE - 0x4_0000)
        ring = Ring(self.mem, q, tx, log2, base, buf_size)
        self.mem.write(ring.cpl_base, bytes(16 * ring.size))  # zeroed: phase 0
        await self.wr(ring.reg(regs.QUEUE_DESC_BASE_LO), ring.desc_base)
        await self.wr(ring.reg(regs.QUEUE_DESC_BASE_HI), 0)
        await self.wr(ring.reg(regs.QUEUE_CPL_BASE_LO), ring.cpl_base)
        await self.wr(ring.reg(regs.QUEUE_CPL_BASE_HI), 0)
        cfg = regs.QUEUE_CONFIG_VECTOR.set(regs.QUEUE_CONFIG_LOG2_SIZE.set(0, log2), vector)
        await self.wr(ring.reg(regs.QUEUE_CONFIG), cfg)
        await self.wr(ring.reg(regs.QUEUE_CTRL), regs.QUEUE_CTRL_ENABLE.set(0, 1))
        status = await self.rd(ring.reg(regs.QUEUE_STATUS))
        assert regs.QUEUE_STATUS_ENABLED.get(status), f"queue {q} tx={tx} not enabled: {status:#x}"
        if arm:
            await self.wr(ring.reg(regs.QUEUE_IRQ_CTRL), regs.QUEUE_IRQ_CTRL_ARM.set(0, 1))
        self.rings[(tx, q)] = ring
        return ring

    def write_desc(self, ring, index, addr, length):
        d = ring.desc_base + 16 * (index % ring.size)
        self.mem.write(d, addr.to_bytes(8, "little") + length.to_bytes(4, "little") + bytes(4))

    async def post_rx(self, ring, n, buf_len=None):
        for _ in range(n):
            self.write_desc(ring, ring.prod, ring.buf(ring.prod), buf_len or ring.buf_size)
            ring.prod += 1
        await self.wr(ring.reg(regs.QUEUE_DB_DESC_PROD), ring.prod & 0xFFFF)

    async def post_tx(self, ring, frames):
        for f in frames:
            assert len(f) <= ring.buf_size
            self.mem.write(ring.buf(ring.prod), f)
            self.write_desc(ring, ring.prod, ring.buf(ring.prod), len(f))
            ring.prod += 1
        await self.wr(ring.reg(regs.QUEUE_DB_DESC_PROD), ring.prod & 0xFFFF)

    def take_completion(self, ring):
        """The next completion if the device has written it (phase), else None."""
        raw = self.mem.read(ring.cpl_base + 16 * (ring.cons % ring.size), 16)
        cpl = parse_cpl(raw)
        if cpl["phase"] != ring.phase:
            return None
        cpl["slot"] = ring.cons
        ring.cons += 1
        if ring.cons % ring.size == 0:
            ring.phase ^= 1
        return cpl

    async def wait_completions(self, ring, n, timeout=200_000):
        got = []
        for _ in range(timeout // 16):
            c = self.take_completion(ring)
            if c is None:
                await ClockCycles(self.dut.clk, 16)
                continue
            got.append(c)
            if len(got) == n:
                await self.wr(ring.reg(regs.QUEUE_DB_CPL_CONS), ring.cons & 0xFFFF)
                return got
        raise AssertionError(f"queue {ring.q} tx={ring.tx}: {len(got)} of {n} completions")

    async def wait_counter(self, off, value, timeout=20_000):
        for _ in range(timeout // 32):
            if await self.rd(off) >= value:
                return
            await ClockCycles(self.dut.clk, 32)
        raise AssertionError(f"counter {off:#x} did not reach {value}")

    async def set_reta(self, table):
        for i, q in enumerate(table):
            await self.wr(regs.GLOBAL_RSS_RETA + 4 * i, q)

    async def set_key(self, key):
        for i in range(regs.RSS_KEY_BYTES // 4):
            await self.wr(regs.GLOBAL_RSS_KEY + 4 * i, int.from_bytes(key[4 * i:4 * i + 4], "big"))


def frame_bytes(rng, length):
    # A non-IP Ethernet frame (ethertype 0x88B5, local experimental): RSS type NONE.
    hdr = bytes([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x88, 0xB5])
    return hdr + bytes(rng.randrange(256) for _ in range(length - len(hdr)))


async def start(dut, **kw):
    seed = oxnic_tb.seed()
    tb = TB(dut, seed, **kw)
    await tb.reset()
    return tb
