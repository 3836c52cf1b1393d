"""Throughput of `blowback sweep` against the same runs in a plain loop."""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_LOOP = """
import sys, numba
from sim.experiments.runs import run_one
from sim.core.scenario import load_scenario
numba.set_num_threads(1)
s = load_scenario(sys.argv[1])
if sys.argv[4]:
    s = s.with_values({"run.steps": int(sys.argv[4])})
for seed in range(int(sys.argv[2]), int(sys.argv[3]) + 1):
    run_one(s, seed, None)
"""


def loops(runs: int, jobs: int, steps: int | None = None) -> float:
    """Wall time of ``runs`` runs of the default scenario (``steps`` weeks, default its own)
    split over ``jobs`` plain loops running side by side (one process each, one numba thread):
    the same work with no sweep machinery, and the same competition for the cores and the
    memory."""
    base = ROOT / "scenarios" / "base.toml"
    bounds = [round(k * runs / jobs) for k in range(jobs + 1)]
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", _LOOP, str(base), str(bounds[k] + 1),
                               str(bounds[k + 1]), str(steps or "")], cwd=ROOT,
                              stdout=subprocess.DEVNULL)
             for k in range(jobs)]
    for proc in procs:
        if proc.wait() != 0:
            raise RuntimeError("a benchmark loop failed")
    return time.perf_counter() - start


def throughput(runs: int, jobs: int, steps: int | None = None) -> dict:
    """Wall time of ``runs`` runs of the default scenario (``steps`` weeks, default its own): a
    sweep on ``jobs`` workers, one plain loop, and ``jobs`` plain loops side by side; the
    overhead of the sweep machinery is the sweep against the loops side by side."""
    base = ROOT / "scenarios" / "base.toml"
    with tempfile.TemporaryDirectory() as tmp:
        experiment = Path(tmp) / "throughput.toml"
        experiment.write_text(f'name = "throughput"\nscenarios = ["{base}"]\nseeds = {runs}\n'
                              + (f"steps = {steps}\n" if steps else ""))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", "sweep", str(experiment), "--out",
                        str(Path(tmp) / "sweep"), "--jobs", str(jobs)], check=True, cwd=ROOT,
                       capture_output=True)
        sweep = time.perf_counter() - start
    # The largest of the sweep's processes (its own or a worker's), which it waited for: what
    # one core's share of the memory must hold.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    loop = loops(runs, 1, steps)
    side_by_side = loops(runs, jobs, steps)
    return {"runs": runs, "jobs": jobs, "steps": steps, "sweep_s": sweep, "peak_mb": peak,
            "loop_s": loop, "loops_s": side_by_side, "sweep_runs_per_min": runs / sweep * 60,
            "loop_runs_per_min": runs / loop * 60, "overhead": sweep / side_by_side - 1.0}
