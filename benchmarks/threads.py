"""Whether a week's parallel loops pay at each map size: ms a week of the unchecked contractor
with the loops on one numba thread and on all of them, measured alternately in one process.

    python benchmarks/threads.py --sizes 4000 20000 100000 --weeks 60 --repeats 3

Below ``sim.core.compiled.PARALLEL_FROM`` communities a model runs its week on one thread
whatever numba's setting; this script lifts that choice for its own runs, so that both ways
are timed, and prints the ratio (above 1: the threads pay).  Wall time, since the threads' CPU
time adds up.  The threshold is worth measuring again on a machine with more cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numba

from sim.core import compiled
from sim.core.model import BlowbackModel
from sim.core.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "contractor_unchecked.toml"


def _ms_a_week(communities: int, weeks: int, threads: int) -> float:
    numba.set_num_threads(threads)
    scenario = load_scenario(SCENARIO).with_overrides(
        **{"map.communities": communities, "run.steps": weeks + 3})
    model = BlowbackModel(scenario, agents=False)
    model.run(3)
    start = time.perf_counter()
    model.run(weeks)
    return (time.perf_counter() - start) / weeks * 1e3


def measure(sizes: list[int], weeks: int, repeats: int) -> list[dict]:
    """For each size, the best ms a week of ``repeats`` runs on one thread and on all."""
    most = numba.config.NUMBA_NUM_THREADS
    before = numba.get_num_threads()
    chosen = compiled.PARALLEL_FROM
    compiled.PARALLEL_FROM = 0
    try:
        for threads in (1, most):  # compiles, and warms each way
            _ms_a_week(1000, 2, threads)
        rows = []
        for n in sizes:
            one, every = [], []
            for _ in range(repeats):
                one.append(_ms_a_week(n, weeks, 1))
                every.append(_ms_a_week(n, weeks, most))
            rows.append({"communities": n, "threads": most, "one_ms": min(one),
                         "all_ms": min(every), "ratio": min(one) / min(every)})
        return rows
    finally:
        compiled.PARALLEL_FROM = chosen
        numba.set_num_threads(before)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 20000, 100000])
    parser.add_argument("--weeks", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"model's threshold: {compiled.PARALLEL_FROM:,} communities")
    for row in measure(args.sizes, args.weeks, args.repeats):
        print(f"{row['communities']:>9,} communities: {row['one_ms']:.2f} ms a week on one "
              f"thread, {row['all_ms']:.2f} on {row['threads']}: the threads x{row['ratio']:.2f}")
