"""Throughput of the cocotb bench itself, for ``./scripts/bench`` (issue 8):
the same RTL (``oxnic_top``, 8 queues) and the same frames (a pcap written by
``oxnic-bench``) that the co-simulation is timed on, driven from Python.

One queue receives every frame (RSS is off after reset, so RETA entry 0 = queue
0 takes them); the Python driver model posts a descriptor per frame and reads the
completions. Wall time from the first frame sent to the last completion seen
gives ``packets_per_s``, written as JSON to ``$BENCH_OUT``.

Not a pytest module (the file name does not start with ``test_``): run by
``python tb/core/bench_core.py FRAMES.pcap OUT.json``.
"""

import json
import os
import struct
import sys
import time
from pathlib import Path

import cocotb
from cocotb.triggers import RisingEdge
from cocotbext.axi import AxiStreamFrame

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import oxnic_tb  # noqa: E402
from oxnic_tb import regs  # noqa: E402


def read_pcap(path):
    """Frames of a classic pcap file (little- or big-endian, µs or ns)."""
    data = Path(path).read_bytes()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise ValueError(f"{path}: not a pcap file")
    frames, off = [], 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


@cocotb.test()
async def rx_pcap_throughput(dut):
    from core_tb import Ring, start  # the core bench's TB and bring-up

    frames = read_pcap(os.environ["BENCH_PCAP"])
    n = len(frames)
    tb = await start(dut)
    # A 256-entry ring, refilled chunk by chunk (as a driver would), so that any
    # number of frames fits the host RAM model.
    log2 = 8
    chunk = 1 << log2
    ring = await tb.queue_up(0, 0, log2, 0, base=tb.alloc(Ring.footprint(log2, 2048)))
    await tb.wr(regs.GLOBAL_CTRL, regs.GLOBAL_CTRL_ENABLE.set(0, 1))
    t0 = time.perf_counter()
    c0 = tb.cycle
    got = 0
    for first in range(0, n, chunk):
        batch = frames[first:first + chunk]
        await tb.post_rx(ring, len(batch))
        for f in batch:
            await tb.mac_rx.send(AxiStreamFrame(f, tuser=0))
        while got < first + len(batch):
            c = tb.take_completion(ring)
            if c is None:
                await RisingEdge(dut.clk)
                continue
            assert c["len"] == len(frames[got]) and c["status"] == regs.CPL_STATUS_OK, (got, c)
            got += 1
        # Return the completion slots before the next chunk.
        await tb.wr(ring.reg(regs.QUEUE_DB_CPL_CONS), ring.cons & 0xFFFF)
    wall = time.perf_counter() - t0
    result = {"packets": n, "wall_s": wall, "packets_per_s": n / wall, "cycles": tb.cycle - c0}
    dut._log.info(f"cocotb bench: {result}")
    Path(os.environ["BENCH_OUT"]).write_text(json.dumps(result) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: bench_core.py FRAMES.pcap OUT.json")
    pcap, out = (str(Path(p).resolve()) for p in sys.argv[1:])
    oxnic_tb.run("oxnic_top", "oxnic_top", "bench_core", 8, Path(__file__).parent,
                 extra_env={"BENCH_PCAP": pcap, "BENCH_OUT": out})
    for f in Path(__file__).parent.glob("*.None"):
        f.unlink()
