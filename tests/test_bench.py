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


def test_bench_compares_under_another_interpreter_and_names_a_bad_one(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sim", "bench", "--tiny", "--only", "epstein",
                           "--mesa-python", sys.executable], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len([line for line in done.stdout.splitlines() if "12x12" in line]) == 2
    missing = subprocess.run([sys.executable, "-m", "sim", "bench", "--only", "epstein",
                              "--mesa-python", str(tmp_path / "python")], capture_output=True,
                             text=True, cwd=ROOT, timeout=60)
    assert missing.returncode == 2 and "--mesa-python" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and "Traceback" not in missing.stderr
    # An interpreter that runs but cannot import the model: one line naming it, no figures.
    broken = tmp_path / "broken-python"
    broken.write_text("#!/bin/sh\necho 'ModuleNotFoundError: no mesa here' >&2\nexit 1\n")
    broken.chmod(0o755)
    failed = subprocess.run([sys.executable, "-m", "sim", "bench", "--tiny", "--only", "epstein",
                             "--mesa-python", str(broken)], capture_output=True, text=True,
                            cwd=ROOT, timeout=300)
    assert failed.returncode == 1 and str(broken) in failed.stderr
    assert "no mesa here" in failed.stderr and "Traceback" not in failed.stderr
