"""How much a command may start: worker processes, seeds, and hours of runs.

A mistyped number should cost one line, not a machine: ``--jobs 1000`` would start a thousand
interpreters, ``--seeds 1000000000`` would fill the memory with tasks before the first run, and
an experiment of millions of runs would start without saying it needs days.  Each limit here
raises :class:`WorkloadError`, which the command line prints as one line (exit status 2).

Standard library only: the command line checks ``--jobs`` and ``--seeds`` before any command
imports the model.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from typing import Any

# At most this many worker processes a core, and at most MAX_JOBS in all: more only adds
# processes that wait for a core (and their memory).
JOBS_PER_CORE = 4
MAX_JOBS = 256
# Seeds of one compare or validate: tens of thousands of runs of each setting, far more than an
# interval needs; beyond it the tasks alone would take the memory.
MAX_SEEDS = 10_000
# A run costs about SECONDS_PER_WEEK for the map's cells and the forces, whatever the number of
# communities, plus SECONDS_PER_COMMUNITY_WEEK for each community.  Measured on the 2-core
# development machine, one numba thread, warm numba cache, CPU time of two seeds each: run_one
# on base and contractor_unchecked for 260 weeks at 1,000 / 4,000 / 16,000 communities took
# 0.47-0.50 / 0.63-0.69 / 1.23-1.32 ms a week, i.e. about 0.45 ms a week plus 0.05 us a
# community-week.  Both constants are about twice that, so that the estimate errs long.
SECONDS_PER_WEEK = 1e-3
SECONDS_PER_COMMUNITY_WEEK = 1e-7
# Beyond this a command asks for --yes.
CONFIRM_SECONDS = 3600.0
# Runs per seed and their weeks of each claim of `blowback validate`, as
# sim.experiments.claims runs them (all on the default map).
CLAIM_RUNS = {"bennett": (21, 1040), "condra_shapiro": (1, 520), "kalyvas": (2, 260),
              "lyall": (4, 156), "kress_szechtman": (3, 1040)}


class WorkloadError(ValueError):
    """A request too large to start; the message is one line for the command line."""


def cores() -> int:
    """The cores this process may run on (its affinity where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def jobs_limit() -> int:
    """The most worker processes ``--jobs`` may ask for on this machine."""
    return min(MAX_JOBS, JOBS_PER_CORE * cores())


def check_jobs(jobs: int) -> str | None:
    """Refuse ``--jobs`` above :func:`jobs_limit`; above the cores, the warning to print."""
    if jobs > jobs_limit():
        raise WorkloadError(f"--jobs: {jobs} worker processes is too many for {cores()} cores; "
                            f"allowed: 1 to {jobs_limit()} ({JOBS_PER_CORE} a core, at most "
                            f"{MAX_JOBS}); the default is one a core")
    if jobs > cores():
        return (f"--jobs {jobs} is more than the {cores()} cores; the workers will share them "
                "(going on)")
    return None


def check_seeds(seeds: int) -> None:
    """Refuse ``--seeds`` above :data:`MAX_SEEDS`, before any task is made."""
    if seeds > MAX_SEEDS:
        raise WorkloadError(f"--seeds: {seeds:,} seeds is too many; allowed: 1 to "
                            f"{MAX_SEEDS:,}")


def run_seconds(weeks: int, communities: int) -> float:
    """The estimated seconds of one run of ``weeks`` weeks on a map of ``communities``."""
    return weeks * (SECONDS_PER_WEEK + communities * SECONDS_PER_COMMUNITY_WEEK)


def check_duration(runs: Iterable[tuple[int, int, int]], jobs: int, confirmed: bool) -> None:
    """Refuse, unless ``confirmed`` (``--yes``), work estimated beyond an hour.

    ``runs``: (how many runs, weeks, communities) of each kind of run.  The runs share
    ``jobs`` workers, but never more workers than cores or runs.
    """
    kinds = [kind for kind in runs if kind[0] > 0]
    count = sum(n for n, _, _ in kinds)
    if confirmed or not count:
        return
    workers = max(1, min(jobs, cores(), count))
    hours = sum(n * run_seconds(weeks, size) for n, weeks, size in kinds) / workers / 3600
    if hours * 3600 <= CONFIRM_SECONDS:
        return
    lengths = {weeks for _, weeks, _ in kinds}
    weeks = f"{'up to ' if len(lengths) > 1 else ''}{max(lengths):,} weeks"
    about = f"{hours:,.0f}" if hours >= 10 else f"{hours:.1f}"
    raise WorkloadError(f"this would take about {about} hours on {workers} "
                        f"worker{'s' if workers > 1 else ''} ({count:,} runs of {weeks}); add "
                        "--yes to start it, or fewer seeds/steps")


def scenario_runs(count: int, scenario: Any) -> tuple[int, int, int]:
    """(``count``, weeks, communities): ``count`` runs of a scenario, for :func:`check_duration`."""
    return count, scenario.params["run.steps"], scenario.params["map.communities"]


def experiment_runs(experiment: Any, done: Collection[str] = frozenset()
                    ) -> list[tuple[int, int, int]]:
    """An experiment's runs of each scenario (every point on every seed) but those whose ids
    are ``done`` (a resumed sweep's), for :func:`check_duration`."""
    left = Counter(run.scenario for run in experiment.runs if run.run_id not in done)
    return [scenario_runs(left[name], scenario)
            for name, scenario in experiment.scenarios.items()]


def claim_runs(names: Sequence[str], seeds: int, communities: int) -> list[tuple[int, int, int]]:
    """The runs of the claims ``names`` on ``seeds`` seeds, for :func:`check_duration`."""
    return [(seeds * CLAIM_RUNS[name][0], CLAIM_RUNS[name][1], communities) for name in names]
