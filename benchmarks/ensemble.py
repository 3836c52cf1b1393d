"""CPU time of R default runs advanced as one ensemble against the same runs made one by one.

    python benchmarks/ensemble.py --runs 1 4 16 --weeks 150

One numba thread, as in a sweep's worker; each size is measured twice, alternating the two
ways, after a first round that compiles and warms the caches. Prints the ratio of the times
(above 1: the ensemble is faster), measured in the same run.
"""

from __future__ import annotations

import argparse
import time

import numba

from sim.core.ensemble import Ensemble
from sim.core.model import BlowbackModel
from sim.core.scenario import Scenario, default_scenario


def _seconds(advance, scenarios: list[Scenario], weeks: int) -> float:
    start = time.process_time()
    advance(scenarios, weeks)
    return time.process_time() - start


def together(scenarios: list[Scenario], weeks: int) -> None:
    """The runs as one ensemble."""
    Ensemble(scenarios).run(weeks)


def one_by_one(scenarios: list[Scenario], weeks: int) -> None:
    """The runs made alone, one after the other."""
    for scenario in scenarios:
        BlowbackModel(scenario, agents=False).run(weeks)


def main() -> None:
    """Print, for each number of runs, both CPU times and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--weeks", type=int, default=150)
    args = parser.parse_args()
    numba.set_num_threads(1)
    base = default_scenario()
    together([base], 2)
    one_by_one([base], 2)
    for runs in args.runs:
        scenarios = [base.with_values({"run.seed": seed}) for seed in range(1, runs + 1)]
        ensemble = alone = 0.0
        for _ in range(2):
            ensemble += _seconds(together, scenarios, args.weeks)
            alone += _seconds(one_by_one, scenarios, args.weeks)
        print(f"{runs:3d} runs x {args.weeks} weeks: ensemble {ensemble / 2:.2f} s, one by one "
              f"{alone / 2:.2f} s of CPU; ratio {alone / ensemble:.3f}")


if __name__ == "__main__":
    main()
