"""Wall time and peak memory of ``blowback calibrate --ensemble R`` against one run at a time,
on the shipped Mali calibration made smaller (fewer particles, generations and draws, and with
``--communities`` a smaller map).

    python -m benchmarks.calibration --population 40 --generations 2 --draws 10 --ensemble 4

Both fits run as the command, each in a process of its own so that its peak memory (its own or
a worker's) is its own, alternated ``--repeats`` times (1 by default) once the kernels that
runs alone and together call are compiled, on ``--jobs`` workers (2 by default).  Prints
each fit's seconds and peak, the ratio of the times (above 1: advancing runs together is
faster) and whether the two fits wrote the same posterior, generations and predictions, as
they must.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import pandas as pd

from benchmarks.sweep import measured

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "scenarios" / "calibration" / "mali.toml"
COMPARED = ("posterior.csv", "generations.csv", "figures.csv", "years.csv")


def smaller(folder: Path, population: int, generations: int, draws: int,
            communities: int | None = None) -> Path:
    """A copy of the shipped calibration file with these sizes, written in ``folder``; with
    ``communities``, its scenario is extended onto a map of that many communities."""
    text = SHIPPED.read_text()
    scenario = (SHIPPED.parent / re.search(r'^scenario = "(.+)"$', text, re.M)[1]).resolve()
    if communities is not None:
        extended = folder / f"scenario-{communities}.toml"
        extended.write_text(f'extends = "{scenario.as_posix()}"\n[map]\ncommunities = '
                            f"{communities}\n")
        scenario = extended
    for key, value in (("scenario", f'"{scenario.as_posix()}"'), ("population", population),
                       ("generations", generations), ("predictive_draws", draws)):
        text = re.sub(rf"^{key} = .*$", f"{key} = {value}", text, count=1, flags=re.M)
    path = folder / f"mali-{population}-{generations}-{draws}.toml"
    path.write_text(text)
    return path


def fit(calibration: Path, out: Path, jobs: int, ensemble: int) -> tuple[float, float]:
    """Seconds and peak MB of one ``blowback calibrate``."""
    return measured([sys.executable, "-m", "sim", "calibrate", str(calibration), "--out",
                     str(out), "--jobs", str(jobs), "--ensemble", str(ensemble), "--yes"])


def same(one: Path, other: Path) -> bool:
    """Whether two fits wrote the same tables."""
    return all((one / name).read_bytes() == (other / name).read_bytes() for name in COMPARED)


def main(argv: list[str] | None = None) -> int:
    """Time the two ways and print the comparison."""
    from sim.experiments.calibration import load_calibration
    from sim.experiments.runs import compile_kernels

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=40)
    parser.add_argument("--generations", type=int, default=2)
    parser.add_argument("--draws", type=int, default=10, help="predictive draws")
    parser.add_argument("--ensemble", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--communities", type=int, default=None,
                        help="map size of the fitted scenario (default: the shipped one's)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="blowback-bench-calibrate-") as tmp:
        work = Path(tmp)
        calibration = smaller(work, args.population, args.generations, args.draws,
                              args.communities)
        compile_kernels(load_calibration(calibration).scenario)
        for k in range(args.repeats):
            alone, alone_mb = fit(calibration, work / f"alone-{k}", args.jobs, 1)
            together, together_mb = fit(calibration, work / f"together-{k}", args.jobs,
                                        args.ensemble)
            agree = same(work / f"alone-{k}", work / f"together-{k}")
            print(f"one run at a time {alone:7.1f} s ({alone_mb:.0f} MB)   --ensemble "
                  f"{args.ensemble} {together:7.1f} s ({together_mb:.0f} MB)   ratio "
                  f"{alone / together:.2f}   same fit: {'yes' if agree else 'NO'}")
        simulations = int(pd.read_csv(work / "alone-0" / "generations.csv")["simulations"].sum())
    print(f"{args.population} particles, {args.generations} generations: {simulations} "
          f"simulations, then {2 * args.draws} predictive runs ({args.jobs} workers)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
