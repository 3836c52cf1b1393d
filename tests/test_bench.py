"""The benchmark command runs end to end on tiny sizes (figures belong to benchmarks, not here)."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_bench_runs_on_tiny_sizes():
    done = subprocess.run([sys.executable, "-m", "sim", "bench", "--tiny"], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    for heading in ("Epstein's civil violence", "Kernels, compiled vs plain Python",
                    "Whole model, one weekly step", "Building"):
        assert heading in done.stdout
    kernel_lines = [line for line in done.stdout.splitlines() if line.rstrip().endswith("x")]
    assert len(kernel_lines) >= 14


def test_bench_rejects_unknown_sections():
    done = subprocess.run([sys.executable, "-m", "sim", "bench", "--only", "warp"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "warp" in done.stderr and "Traceback" not in done.stderr
