"""cocotb bench for ``axil_reg_if`` (hw/rtl/src/axil_reg_if.rs): AXI4-Lite slave to
the register request interface.

The AXI side is cocotbext-axi's ``AxiLiteMaster`` (the same model the core bench
uses for BAR0); the register side is a Python responder here: a dictionary of
32-bit words, answering after a random delay, that logs every request. Checks:
every full-word write arrives once with its word address and data, every read
returns what the register side holds, partial-strobe writes never reach the
register side and are answered SLVERR, and concurrent readers and writers both
make progress.

Run: ``.venv/bin/pytest tb/axil_reg_if`` (``SEED=n`` replays, ``WAVES=1`` records FST).
"""

import random
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge, FallingEdge
from cocotbext.axi import AxiLiteBus, AxiLiteMaster, AxiResp

import oxnic_tb


class RegisterSide:
    """Answers m_reg_* requests from a dict after a random delay; logs them."""

    def __init__(self, dut, rng, max_delay):
        self.dut, self.rng, self.max_delay = dut, rng, max_delay
        self.words = {}
        self.writes = []  # (address, data) in arrival order
        self.reads = []
        dut.m_reg_wr_ack.value = 0
        dut.m_reg_rd_ack.value = 0
        dut.m_reg_rd_data.value = 0
        cocotb.start_soon(self.run())

    async def run(self):
        dut = self.dut
        while True:
            await FallingEdge(dut.clk)
            dut.m_reg_wr_ack.value = 0
            dut.m_reg_rd_ack.value = 0
            wr, rd = int(dut.m_reg_wr_en.value), int(dut.m_reg_rd_en.value)
            assert not (wr and rd), "write and read requested at once"
            if not (wr or rd):
                continue
            for _ in range(self.rng.randrange(self.max_delay + 1)):
                await FallingEdge(dut.clk)
                assert int(dut.m_reg_wr_en.value) == wr and int(dut.m_reg_rd_en.value) == rd, \
                    "request dropped before it was acknowledged"
            if wr:
                addr, data = int(dut.m_reg_wr_addr.value), int(dut.m_reg_wr_data.value)
                self.writes.append((addr, data))
                self.words[addr] = data
                dut.m_reg_wr_ack.value = 1
            else:
                addr = int(dut.m_reg_rd_addr.value)
                self.reads.append(addr)
                dut.m_reg_rd_data.value = self.words.get(addr, 0)
                dut.m_reg_rd_ack.value = 1
            await RisingEdge(dut.clk)


class TB:
    def __init__(self, dut, max_delay=3):
        self.dut = dut
        self.rng = random.Random(oxnic_tb.seed())
        cocotb.start_soon(Clock(dut.clk, 4, units="ns").start())
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
        self.regs = RegisterSide(dut, self.rng, max_delay)

    async def reset(self):
        self.dut.rst.value = 1
        for _ in range(3):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    def random_word_address(self):
        return self.rng.randrange(1 << (len(self.dut.s_axil_awaddr) - 2)) * 4


@cocotb.test()
async def writes_then_reads_round_trip(dut):
    tb = TB(dut)
    await tb.reset()
    model = {}
    for _ in range(200):
        addr, data = tb.random_word_address(), tb.rng.randrange(1 << 32)
        resp = await tb.axil.write(addr, data.to_bytes(4, "little"))
        assert resp.resp == AxiResp.OKAY
        model[addr] = data
    assert len(tb.regs.writes) == 200, "every write reaches the register side once"
    for addr, data in model.items():
        got = await tb.axil.read_dword(addr)
        assert got == data, f"0x{addr:X}: read 0x{got:X}, wrote 0x{data:X}"
    unknown = tb.random_word_address()
    while unknown in model:
        unknown = tb.random_word_address()
    assert await tb.axil.read_dword(unknown) == 0


@cocotb.test()
async def partial_strobes_are_refused(dut):
    """A write with wstrb != 0xF answers SLVERR and never reaches the registers."""
    tb = TB(dut)
    await tb.reset()
    await tb.axil.write_dword(0x100, 0x11223344)
    for offset, length in ((0, 2), (2, 2), (1, 1), (3, 1)):
        resp = await tb.axil.write(0x100 + offset, b"\xAA" * length)
        assert resp.resp == AxiResp.SLVERR, f"strobe at +{offset}/{length}: {resp.resp}"
    assert tb.regs.writes == [(0x100, 0x11223344)]
    assert await tb.axil.read_dword(0x100) == 0x11223344


@cocotb.test()
async def concurrent_readers_and_writers(dut):
    """Writers and readers racing on disjoint addresses: all complete, all correct."""
    tb = TB(dut, max_delay=5)
    await tb.reset()
    addrs = list({tb.random_word_address() for _ in range(64)})
    half = len(addrs) // 2
    written = {a: tb.rng.randrange(1 << 32) for a in addrs[:half]}
    for a in addrs[half:]:
        tb.regs.words[a] = tb.rng.randrange(1 << 32)
    preset = {a: tb.regs.words[a] for a in addrs[half:]}

    async def writer():
        for a, d in written.items():
            await tb.axil.write_dword(a, d)

    async def reader(out):
        for a in addrs[half:]:
            out[a] = await tb.axil.read_dword(a)

    got = {}
    w = cocotb.start_soon(writer())
    r = cocotb.start_soon(reader(got))
    await w
    await r
    assert got == preset
    assert dict(tb.regs.writes) == written and len(tb.regs.writes) == len(written)


def test_axil_reg_if():
    oxnic_tb.run("axil_reg_if", "axil_reg_if", "test_axil_reg_if", 8, Path(__file__).parent)
