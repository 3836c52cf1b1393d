"""Throughput of `blowback sweep` against the same runs in a plain loop."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_LOOP = """
import sys, numba
from sim.compare import run_one
from sim.scenario import load_scenario
numba.set_num_threads(1)
s = load_scenario(sys.argv[1])
for seed in range(1, int(sys.argv[2]) + 1):
    run_one(s, seed, None)
"""


def throughput(runs: int, jobs: int) -> dict:
    """Wall time of ``runs`` runs of the default scenario: a sweep on ``jobs`` workers, and a
    plain single-process loop (one numba thread), each a whole process."""
    base = ROOT / "scenarios" / "base.toml"
    with tempfile.TemporaryDirectory() as tmp:
        experiment = Path(tmp) / "throughput.toml"
        experiment.write_text(f'name = "throughput"\nscenarios = ["{base}"]\nseeds = {runs}\n')
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", "sweep", str(experiment), "--out",
                        str(Path(tmp) / "sweep"), "--jobs", str(jobs)], check=True, cwd=ROOT,
                       capture_output=True)
        sweep = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", _LOOP, str(base), str(runs)], check=True,
                       cwd=ROOT, capture_output=True)
        loop = time.perf_counter() - start
    return {"runs": runs, "jobs": jobs, "sweep_s": sweep, "loop_s": loop,
            "sweep_runs_per_min": runs / sweep * 60, "loop_runs_per_min": runs / loop * 60,
            "overhead": sweep * jobs / loop - 1.0}
