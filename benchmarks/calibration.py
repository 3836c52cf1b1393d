"""Wall time of a calibration with its runs advanced together (``calibrate --ensemble R``)
against one run at a time, on the shipped Mali calibration made smaller.

    python benchmarks/calibration.py --population 40 --generations 2 --draws 10 --ensemble 4

Both fits run in the same process, alternated ``--repeats`` times (1 by default) after a small
fit that compiles the kernels, on ``--jobs`` workers (2 by default).  Prints each fit's
seconds, the ratio (above 1: advancing runs together is faster) and whether the two fits gave
the same posterior, simulations and predictions, as they must.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import pandas as pd

from sim.experiments import calibration

SHIPPED = Path(__file__).resolve().parents[1] / "scenarios" / "calibration" / "mali.toml"


def timed_fit(cal: calibration.Calibration, jobs: int, ensemble: int) -> tuple[float, object]:
    """Seconds of one fit, and the fit."""
    with tempfile.TemporaryDirectory(prefix="blowback-bench-abc-") as work:
        start = time.perf_counter()
        fit = calibration.fit(cal, jobs=jobs, workdir=Path(work), ensemble=ensemble)
        return time.perf_counter() - start, fit


def same(one, other) -> bool:
    """Whether two fits agree on every table they report."""
    try:
        for name in ("posterior", "generations", "figures", "years"):
            pd.testing.assert_frame_equal(getattr(one, name), getattr(other, name))
    except AssertionError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Time the two ways and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=40)
    parser.add_argument("--generations", type=int, default=2)
    parser.add_argument("--draws", type=int, default=10, help="predictive draws")
    parser.add_argument("--ensemble", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    shipped = calibration.load_calibration(SHIPPED)
    cal = dataclasses.replace(shipped, population=args.population,
                              generations=args.generations, predictive_draws=args.draws)
    warm = dataclasses.replace(shipped, population=2, generations=1, predictive_draws=1)
    timed_fit(warm, 1, 2)
    alone, together = [], []
    for _ in range(args.repeats):
        seconds, first = timed_fit(cal, args.jobs, 1)
        alone.append(seconds)
        seconds, second = timed_fit(cal, args.jobs, args.ensemble)
        together.append(seconds)
        print(f"one run at a time {alone[-1]:7.1f} s   --ensemble {args.ensemble} "
              f"{together[-1]:7.1f} s   ratio {alone[-1] / together[-1]:.2f}   "
              f"same fit: {'yes' if same(first, second) else 'NO'}")
    simulations = int(first.generations["simulations"].sum())
    print(f"{args.population} particles, {args.generations} generations: {simulations} "
          f"simulations of {cal.fit_steps} weeks, then {2 * args.draws} predictive runs "
          f"({args.jobs} workers)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
