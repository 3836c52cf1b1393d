"""The store of a sweep at tens of thousands of runs: time, CPU and peak memory of each stage.

A Sobol design over the twenty ranges of ``scenarios/experiments/sensitivity.toml``, on the two
regimes shrunk to 50 communities and 2 weeks, so that a run costs milliseconds and the stages
of the store and of the analysis are what is measured: the sweep, its ``--resume`` once
finished, each load (whole, one scenario, a parameter range, one column), ``analyse``,
``sensitivity``, ``--compact`` and the files of the folder before and after.  ``--samples 256
--seeds 4`` gives 45,056 runs (256 x 22 points x 2 regimes x 4 seeds).  ``--steps 104 --series``
runs each for 104 weeks and keeps its weekly series, which ``analyse`` draws as its ``series``
figure.

    .venv/bin/python benchmarks/store.py --samples 256 --seeds 4 --jobs 2
    .venv/bin/python benchmarks/store.py --samples 64 --seeds 1 --steps 104 --series
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGIMES = ("contractor_unchecked", "contractor_accountable")

_MEASURED = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
if done.returncode:
    sys.exit(done.returncode)
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(time.perf_counter() - start, used.ru_utime + used.ru_stime, used.ru_maxrss / 1024)
"""

_LOAD = """
import json, sys
import sim
out, kind = sys.argv[1], sys.argv[2]
points = json.loads((__import__("pathlib").Path(out) / "manifest.json").read_text())["points"]
low = sorted(p["conduct.penalty"] for p in points)[: len(points) // 16]
filters = {"whole": {}, "scenario": {"scenario": "Contractor, unchecked"},
           "parameter": {"where": {"conduct.penalty": low}},
           "column": {"columns": ["civilian_deaths_total"]}}
sim.results.load(out, **filters[kind])
"""


def experiment(folder: Path, samples: int, seeds: int, steps: int = 2,
               keep: str = "summary") -> Path:
    """The experiment file, beside its two shrunk regimes, in ``folder``: runs of ``steps``
    weeks, keeping ``keep`` ("summary" or "series")."""
    for regime in REGIMES:
        (folder / f"{regime}.toml").write_text(
            f'extends = "{ROOT / "scenarios" / (regime + ".toml")}"\n[map]\ncommunities = 50\n')
    text = (ROOT / "scenarios" / "experiments" / "sensitivity.toml").read_text()
    ranges = [line for line in text.split("[vary]")[1].splitlines() if line.startswith('"')]
    path = folder / "store.toml"
    path.write_text(f'name = "Store at scale"\nscenarios = {[r + ".toml" for r in REGIMES]}\n'
                    .replace("'", '"')
                    + f'seeds = {seeds}\nsteps = {steps}\nkeep = "{keep}"\n[vary]\n'
                    f'sampler = "sobol"\nsamples = {samples}\nsecond_order = false\n'
                    + "\n".join(ranges) + "\n")
    return path


def measured(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (its processes' together) and peak MB of its largest process."""
    done = subprocess.run([sys.executable, "-c", _MEASURED, *command], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    wall, cpu, peak = map(float, done.stdout.split())
    return wall, cpu, peak


def files(out: Path) -> int:
    return sum(1 for path in out.rglob("*") if path.is_file())


def main(argv: list[str] | None = None) -> None:
    """Print one line a stage: runs, wall s, CPU s, peak MB, files of the folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=32, help="Sobol base samples")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2, help="weeks a run")
    parser.add_argument("--series", action="store_true", help="keep each run's weekly series")
    args = parser.parse_args(argv)
    blowback = [sys.executable, "-m", "sim"]
    with tempfile.TemporaryDirectory() as tmp:
        path = experiment(Path(tmp), args.samples, args.seeds, args.steps,
                          "series" if args.series else "summary")
        out = Path(tmp) / "out"
        runs = args.samples * 22 * len(REGIMES) * args.seeds
        sweep = [*blowback, "sweep", str(path), "--out", str(out), "--jobs", str(args.jobs),
                 "--yes"]
        stages = [("sweep", sweep), ("--resume, finished", [*sweep, "--resume"]),
                  *((f"load, {kind}", [sys.executable, "-c", _LOAD, str(out), kind])
                    for kind in ("whole", "scenario", "parameter", "column")),
                  ("analyse", [*blowback, "analyse", str(out), "--out", f"{tmp}/analysis"]),
                  ("sensitivity", [*blowback, "sensitivity", str(path), "--out", str(out),
                                   "--jobs", str(args.jobs), "--yes"]),
                  ("--compact", [*blowback, "sweep", "--compact", str(out)]),
                  ("load, whole, compacted", [sys.executable, "-c", _LOAD, str(out), "whole"]),
                  ("--resume, compacted", [*sweep, "--resume"])]
        print(f"{'stage':<24} {'runs':>7} {'wall s':>7} {'CPU s':>7} {'peak MB':>8} {'files':>6}")
        for name, command in stages:
            wall, cpu, peak = measured(command)
            print(f"{name:<24} {runs:>7} {wall:>7.1f} {cpu:>7.1f} {peak:>8.0f} "
                  f"{files(out):>6}", flush=True)


if __name__ == "__main__":
    main()
