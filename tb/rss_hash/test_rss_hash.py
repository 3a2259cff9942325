"""cocotb bench for ``rss_hash`` (hw/rtl/src/rss_hash.rs): the Toeplitz engine.

Reference: the Python Toeplitz in ``oxnic_tb.toeplitz`` (shared with rx_parse),
written from the definition (for every set input bit, XOR the 32 key bits starting
at that bit position), checked first against the Microsoft RSS verification suite.
Random IPv4/IPv6 2- and 4-tuples with random keys, offered back to back with
random gaps, must hash like the reference.

Run: ``.venv/bin/pytest tb/rss_hash`` (``SEED=n`` replays, ``WAVES=1`` records FST).
"""

import random
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge

import oxnic_tb
from oxnic_tb.toeplitz import MS_KEY, MS_VECTORS, toeplitz, tuple_bytes


def reference_cases():
    for src, dst, sp, dp, h2, h4 in MS_VECTORS:
        yield tuple_bytes(src, dst), h2
        yield tuple_bytes(src, dst, sp, dp), h4


def to320(b: bytes) -> int:
    return int.from_bytes(b.ljust(40, b"\0"), "big")


class TB:
    def __init__(self, dut):
        self.dut = dut
        cocotb.start_soon(Clock(dut.clk, 4, units="ns").start())
        dut.rst.value = 0
        dut.s_valid.value = 0
        dut.s_tuple.value = 0
        dut.s_chunks.value = 0
        dut.key.value = 0

    async def reset(self):
        self.dut.rst.value = 1
        await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    async def hash_all(self, key, tuples, rng=None, gap_prob=0.0):
        """Offers every tuple in order (random idle gaps); returns the hashes."""
        dut = self.dut
        dut.key.value = to320(key)
        got, nxt, cycles = [], 0, 0
        while len(got) < len(tuples):
            cycles += 1
            assert cycles < 20 * len(tuples) + 50, "rss_hash stalled"
            offer = nxt < len(tuples) and not (rng and rng.random() < gap_prob)
            dut.s_valid.value = int(offer)
            if offer:
                dut.s_tuple.value = to320(tuples[nxt])
                dut.s_chunks.value = (len(tuples[nxt]) + 7) // 8
            await FallingEdge(dut.clk)
            if int(dut.m_valid.value):
                got.append(int(dut.m_hash.value))
            if offer and int(dut.s_ready.value):
                nxt += 1
            await RisingEdge(dut.clk)
        dut.s_valid.value = 0
        return got


@cocotb.test()
async def microsoft_verification_suite(dut):
    """The published suite, IPv4 and IPv6, 2- and 4-tuples."""
    cases = list(reference_cases())
    for data, want in cases:
        assert toeplitz(MS_KEY, data) == want, "Python reference disagrees with the suite"
    tb = TB(dut)
    await tb.reset()
    got = await tb.hash_all(MS_KEY, [c[0] for c in cases])
    assert got == [c[1] for c in cases]


@cocotb.test()
async def random_tuples_and_keys(dut):
    """Random keys and IPv4/IPv6 tuples of every length, with random idle gaps."""
    rng = random.Random(oxnic_tb.seed())
    tb = TB(dut)
    await tb.reset()
    for _ in range(4):
        key = bytes(rng.randrange(256) for _ in range(40))
        tuples = [bytes(rng.randrange(256) for _ in range(rng.choice([8, 12, 32, 36]))) for _ in range(50)]
        got = await tb.hash_all(key, tuples, rng, gap_prob=0.3)
        want = [toeplitz(key, t) for t in tuples]
        assert got == want, "hash differs from the reference"


@cocotb.test()
async def back_to_back_throughput(dut):
    """Without gaps an IPv6 4-tuple (5 chunks) is accepted every 5 cycles."""
    tb = TB(dut)
    await tb.reset()
    tuples = [tuple_bytes("3ffe::1", "3ffe::2", i, 80) for i in range(20)]
    start = cocotb.utils.get_sim_time("ns")
    got = await tb.hash_all(MS_KEY, tuples)
    cycles = (cocotb.utils.get_sim_time("ns") - start) / 4
    assert got == [toeplitz(MS_KEY, t) for t in tuples]
    assert cycles <= 5 * len(tuples) + 4, f"{cycles} cycles for {len(tuples)} IPv6 hashes"


def test_rss_hash():
    # The engine does not depend on the queue count: one build.
    oxnic_tb.run("rss_hash", "rss_hash", "test_rss_hash", 8, Path(__file__).parent)
