"""Shared helpers for the oxnic cocotb testbenches.

* ``patch_cocotb_bus()`` — the Verilator 5.006 workaround (see
  ../shared/notes/toolchain.md): cocotb-bus looks optional signals up with a
  case-insensitive search that calls ``dir(dut)``; on Verilator 5.006 that
  rediscovers every handle and afterwards no write to any signal takes effect.
  Replaced by an exact-name lookup. It is applied on import of this package, so
  every bench gets it before it builds a bus object. Never call ``dir(dut)``.
* ``generate(block, queues)`` — runs ``oxnic-gen`` and returns the Verilog path.
* ``run(...)`` — builds with Verilator through cocotb's runner and runs a test
  module; fails the pytest item when any cocotb test failed.
* ``seed()`` — the random seed of a test: ``SEED=`` replays, otherwise random; printed.
* register constants: ``from oxnic_tb import regs`` (generated from hw/regs).
"""

import os
import random
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# OXNIC_TB_BUILD moves the generated Verilog and the Verilator models elsewhere
# (two people, or two checkouts of the RTL, testing side by side).
BUILD_ROOT = Path(os.environ.get("OXNIC_TB_BUILD", ROOT / "target" / "cocotb"))

# Verilator warnings waived for rust-hdl output, in one place (scripts/lint-rtl
# reads the same list from hw/rtl/verilator-waivers.txt).
WAIVER_FILE = ROOT / "hw" / "rtl" / "verilator-waivers.txt"


def verilator_waivers():
    """The ``-Wno-*`` flags from hw/rtl/verilator-waivers.txt (comments skipped)."""
    flags = []
    for line in WAIVER_FILE.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            flags.append(line)
    return flags


def patch_cocotb_bus():
    import cocotb_bus.bus

    def exact_getattr(self, obj, attr):
        # Exact name only; None when absent (what the original returns then).
        try:
            return getattr(obj, attr)
        except AttributeError:
            return None

    cocotb_bus.bus.Bus._caseInsensGetattr = exact_getattr


try:
    patch_cocotb_bus()
except ImportError:  # pytest collection outside the venv: nothing to patch
    pass


def seed():
    """The seed for this test: SEED from the environment, else a fresh one."""
    s = os.environ.get("SEED")
    value = int(s) if s else random.randrange(1 << 32)
    print(f"seed: SEED={value}")
    return value


def generate(block, queues, extra=()):
    """Generates ``block`` for ``queues`` queues; returns the .v path.

    The file is rewritten only when its text changes, so Verilator's make does
    not rebuild an unchanged model.
    """
    out_dir = BUILD_ROOT / "rtl"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{block}_q{queues}.v"
    # OXNIC_GEN names a prebuilt oxnic-gen (skips cargo); default: cargo run.
    gen = os.environ.get("OXNIC_GEN")
    cmd = [gen] if gen else ["cargo", "run", "--release", "-q", "-p", "oxnic-hw",
                             "--bin", "oxnic-gen", "--"]
    text = subprocess.run(
        [*cmd, "--block", block.replace("_", "-"), "--queues", str(queues), *extra],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def run(block, toplevel, test_module, queues, test_dir, extra_env=None, testcase=None):
    """Builds ``toplevel`` (generated ``block`` at ``queues``) and runs ``test_module``.

    ``WAVES=1`` in the environment records an FST waveform, moved next to the
    model as ``<build dir>/<test module>[.<test case>].fst``; the path is printed.
    """
    from cocotb.runner import get_results, get_runner

    waves = os.environ.get("WAVES", "0") not in ("", "0")
    src = generate(block, queues)
    build_dir = BUILD_ROOT / f"{block}_q{queues}{'_waves' if waves else ''}"
    runner = get_runner("verilator")
    runner.build(
        verilog_sources=[src],
        hdl_toplevel=toplevel,
        build_dir=build_dir,
        build_args=verilator_waivers() + (["--trace-fst", "--trace-threads", "1"] if waves else []),
        waves=waves,
    )
    env = {"QUEUES": str(queues)}
    if "SEED" in os.environ:
        env["SEED"] = os.environ["SEED"]
    env.update(extra_env or {})
    results = runner.test(
        hdl_toplevel=toplevel,
        test_module=test_module,
        test_dir=test_dir,
        build_dir=build_dir,
        extra_env=env,
        waves=waves,
        testcase=testcase,
    )
    if waves:
        # cocotb's Verilator main writes dump.fst into the directory the test runs
        # in; keep one file per test module (and test case) beside the model.
        dump = Path(test_dir) / "dump.fst"
        fst = build_dir / f"{test_module}{'.' + testcase if testcase else ''}.fst"
        if dump.exists():
            shutil.move(str(dump), fst)
        print(f"waveform: {fst} (open with gtkwave or surfer)")
    total, failed = get_results(results)
    assert total > 0, f"no cocotb test ran from {test_module}"
    assert failed == 0, f"{failed} of {total} cocotb tests failed in {test_module} (queues={queues}); see {results}"
