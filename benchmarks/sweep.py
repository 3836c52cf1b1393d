"""Throughput of `blowback sweep`, one run a task and runs advanced together, against the same
runs in a plain loop."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
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


_MEASURED = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
if done.returncode:
    sys.exit(done.returncode)
# ru_maxrss is in kB on Linux and in bytes on macOS.
per_mb = 1024 * 1024 if sys.platform == "darwin" else 1024
print(time.perf_counter() - start,
      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / per_mb)
"""


def measured(command: list[str]) -> tuple[float, float]:
    """Wall time of a command, and the peak memory in MB of its largest process (its own or a
    worker's), measured from a process of its own so that each command's peak is its own."""
    done = subprocess.run([sys.executable, "-c", _MEASURED, *command], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        said = done.stderr.strip().splitlines()
        raise RuntimeError(f"{' '.join(command[1:])} failed: {said[-1] if said else ''}")
    seconds, peak_mb = done.stdout.split()
    return float(seconds), float(peak_mb)


def _sweep(experiment: Path, out: Path, jobs: int, ensemble: int) -> tuple[float, float]:
    """Wall time and peak memory (:func:`measured`) of a sweep."""
    return measured([sys.executable, "-m", "sim", "sweep", str(experiment), "--out", str(out),
                     "--jobs", str(jobs), "--ensemble", str(ensemble)])


def throughput(runs: int, jobs: int, steps: int | None = None,
               ensembles: Sequence[int] = (4, 8)) -> dict:
    """Wall time of ``runs`` runs of the default scenario (``steps`` weeks, default its own): a
    sweep on ``jobs`` workers with one run a task, the same sweep with each task advancing
    ``R`` runs together for each R of ``ensembles``, one plain loop, and ``jobs`` plain loops
    side by side; the overhead of the sweep machinery is the sweep against the loops side by
    side."""
    base = ROOT / "scenarios" / "base.toml"
    with tempfile.TemporaryDirectory() as tmp:
        experiment = Path(tmp) / "throughput.toml"
        experiment.write_text(f'name = "throughput"\nscenarios = ["{base}"]\nseeds = {runs}\n'
                              + (f"steps = {steps}\n" if steps else ""))
        # Every kernel, the ensemble's included, compiled and cached before any sweep is timed.
        warm = Path(tmp) / "warm.toml"
        warm.write_text(f'name = "warm"\nscenarios = ["{base}"]\nseeds = 2\nsteps = 2\n')
        _sweep(warm, Path(tmp) / "warm", 1, 2)
        sweep, peak = _sweep(experiment, Path(tmp) / "sweep", jobs, 1)
        together = []
        for r in ensembles:
            seconds, r_peak = _sweep(experiment, Path(tmp) / f"sweep-{r}", jobs, r)
            together.append({"ensemble": r, "sweep_s": seconds, "peak_mb": r_peak,
                             "runs_per_min": runs / seconds * 60, "ratio": sweep / seconds})
    loop = loops(runs, 1, steps)
    side_by_side = loops(runs, jobs, steps)
    return {"runs": runs, "jobs": jobs, "steps": steps, "sweep_s": sweep, "peak_mb": peak,
            "loop_s": loop, "loops_s": side_by_side, "sweep_runs_per_min": runs / sweep * 60,
            "loop_runs_per_min": runs / loop * 60, "overhead": sweep / side_by_side - 1.0,
            "ensembles": together}
