"""CPU time of R default runs advanced as one ensemble against the same runs made one by one.

    python benchmarks/ensemble.py --runs 1 4 16 --weeks 150
    python benchmarks/ensemble.py --runs 1 2 4 8 16 32 --weeks 300 --repeats 3 \
        --plot docs/img/ensemble.png

One numba thread, as in a sweep's worker; each size is measured ``--repeats`` times (2 by
default), alternating the two ways, after a first round that compiles and warms the caches.
Prints the ratio of the times (above 1: the ensemble is faster), measured in the same run, and
with ``--plot`` draws runs per second of CPU against R, each repeat a point.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numba

from sim.core.ensemble import Ensemble
from sim.core.model import BlowbackModel
from sim.core.scenario import Scenario, default_scenario
from sim.interfaces.figure_style import HIGHLIGHT, NEUTRAL, styled


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


def measure(sizes: list[int], weeks: int, repeats: int) -> list[dict]:
    """For each number of runs, the CPU seconds of each repeat, both ways."""
    numba.set_num_threads(1)
    base = default_scenario()
    together([base, base.with_values({"run.seed": 2})], 2)
    one_by_one([base], 2)
    rows = []
    for runs in sizes:
        scenarios = [base.with_values({"run.seed": seed}) for seed in range(1, runs + 1)]
        ensemble, alone = [], []
        for _ in range(repeats):
            ensemble.append(_seconds(together, scenarios, weeks))
            alone.append(_seconds(one_by_one, scenarios, weeks))
        rows.append({"runs": runs, "ensemble_s": ensemble, "alone_s": alone})
    return rows


def by_mechanism(runs: int, weeks: int, repeats: int = 3) -> dict:
    """Where a run-week goes, by mechanism, for ``runs`` default runs made one by one and the
    same runs advanced as one ensemble: µs a run-week of each, one numba thread, after three
    weeks that are not timed (the models' and the ensemble's own ``clock``).

    The two ways alternate ``repeats`` times, each time with new models. Each mechanism's time
    is the median of its repeats, so that a moment when the machine is busy moves one repeat,
    not the table; ``repeat_totals`` keeps each repeat's whole run-week, both ways.
    """
    # Imported here: this file also runs as a script, where ``benchmarks`` is not importable.
    from benchmarks.conflict import mechanism_totals

    numba.set_num_threads(1)
    base = default_scenario()
    scenarios = [base.with_values({"run.seed": seed}) for seed in range(1, runs + 1)]
    together(scenarios[:2], 2)
    per_run_week = 1e6 / (runs * weeks)
    alone_repeats, ensemble_repeats = [], []
    for _ in range(repeats):
        alone: dict[str, float] = {}
        for scenario in scenarios:
            model = BlowbackModel(scenario, agents=False).run(3)
            model.clock = alone
            model.run(weeks)
        alone_repeats.append(mechanism_totals(alone, per_run_week))
        ensemble = Ensemble(scenarios).run(3)
        ensemble.clock = {}
        ensemble.run(weeks)
        ensemble_repeats.append(mechanism_totals(ensemble.clock, per_run_week))
    return {"runs": runs, "weeks": weeks, "repeats": repeats,
            "communities": len(ensemble.models[0].communities),
            "alone_us": _medians(alone_repeats), "ensemble_us": _medians(ensemble_repeats),
            "repeat_totals": [[sum(a.values()), sum(e.values())]
                              for a, e in zip(alone_repeats, ensemble_repeats, strict=True)]}


def _medians(repeats: list[dict[str, float]]) -> dict[str, float]:
    return {name: statistics.median(r[name] for r in repeats) for name in repeats[0]}


@styled
def plot(rows: list[dict], weeks: int, out: Path) -> None:
    """Runs per second of CPU against the number of runs advanced together."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for key, colour, label in (("alone_s", NEUTRAL, "one by one"),
                               ("ensemble_s", HIGHLIGHT, "as one ensemble")):
        xs = [r["runs"] for r in rows for _ in r[key]]
        ys = [r["runs"] / s for r in rows for s in r[key]]
        ax.scatter(xs, ys, color=colour, s=14, alpha=0.7)
        ax.plot([r["runs"] for r in rows],
                [r["runs"] / statistics.median(r[key]) for r in rows], color=colour, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks([r["runs"] for r in rows], [str(r["runs"]) for r in rows])
    ax.minorticks_off()
    ax.set_xlabel("runs advanced together (R)")
    ax.set_ylabel(f"runs of {weeks} weeks per CPU second")
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower left")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main() -> None:
    """Print, for each number of runs, both median CPU times and their ratio; plot if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--weeks", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--plot", type=Path, help="write the figure here (PNG)")
    args = parser.parse_args()
    rows = measure(args.runs, args.weeks, args.repeats)
    for r in rows:
        ensemble, alone = statistics.median(r["ensemble_s"]), statistics.median(r["alone_s"])
        ratios = ", ".join(f"{a / e:.2f}" for a, e in zip(r["alone_s"], r["ensemble_s"],
                                                          strict=True))
        print(f"{r['runs']:3d} runs x {args.weeks} weeks: ensemble {ensemble:.2f} s, one by one "
              f"{alone:.2f} s of CPU (medians); ratio of each repeat {ratios}")
    if args.plot is not None:
        plot(rows, args.weeks, args.plot)
        print(f"figure: {args.plot}")


if __name__ == "__main__":
    main()
