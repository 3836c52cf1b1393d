"""Runs of a scenario: one on one seed, and many in worker processes.

Comparisons, sweeps, calibration and the claims all run the model through here, so that a run
means the same thing in each: a scenario with its seed (and optionally its length) set, built
without Mesa agents, and read off as its summary and weekly series.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Any

import numba
import pandas as pd

from sim import kernel_cache
from sim.core.ensemble import Ensemble, shape
from sim.core.model import BlowbackModel
from sim.core.scenario import Scenario, default_scenario
from sim.experiments import results
from sim.experiments.stopping import completed, follow_parent, outcome, stop_now, stops_held

# Tasks queued per worker: enough to keep every worker busy, few enough that the parent holds
# little and waits on few futures at a time.
IN_FLIGHT_PER_WORKER = 4
# The map :func:`compile_once` compiles on: the kernels are the same for every map size, and a
# small one keeps the two weeks short.
COMPILE_COMMUNITIES = 300


def run_one(scenario: Scenario, seed: int, steps: int | None) -> tuple[dict, pd.DataFrame]:
    """Run one scenario on one seed; return its summary and weekly series."""
    return run_together([(scenario, seed, steps)])[0]


def run_together(tasks: Sequence[tuple[Scenario, int, int | None]]) -> list[tuple[dict,
                                                                              pd.DataFrame]]:
    """:func:`run_one` of each ``(scenario, seed, steps)`` task, the runs advanced together as
    one ensemble (:func:`advance`) when they can be."""
    scenarios = []
    for scenario, seed, steps in tasks:
        changes: dict[str, Any] = {"run.seed": seed}
        if steps is not None:
            changes["run.steps"] = steps
        scenarios.append(scenario.with_overrides(**changes))
    return [(results.summary(m), results.series(m)) for m in advance(scenarios)]


def advance(scenarios: Sequence[Scenario], steps: int | None = None) -> list[BlowbackModel]:
    """A model of each scenario, without Mesa agents, run ``steps`` weeks (default: to its
    end): advanced together as one ensemble (:class:`~sim.core.ensemble.Ensemble`) when they
    share a map size and a length, else one after the other; the numbers are the same either
    way."""
    if len(scenarios) > 1 and len({shape(s.params) for s in scenarios}) == 1:
        return Ensemble(scenarios).run(steps).models
    return [BlowbackModel(s, agents=False).run(steps) for s in scenarios]


def compile_kernels(scenario: Scenario) -> None:
    """Compile into numba's cache the kernels that runs of ``scenario`` call, made alone and
    advanced together: two weeks of one run alone and of two runs as an ensemble, in this
    process.  Worker processes started afterwards load them instead of each compiling them; the
    same kernels serve every map size and every later week."""
    advance([scenario], 2)
    advance([scenario, scenario.with_values({"run.seed": scenario.params["run.seed"] + 1})], 2)
    kernel_cache.mark_compiled()


def compile_once() -> None:
    """Compile the kernels into numba's cache in this process (:func:`compile_kernels`, two
    weeks of the default scenario on a small map), unless this version of the source already
    compiled them there (:func:`sim.kernel_cache.compiled`) or nothing is compiled (no cache,
    or ``NUMBA_DISABLE_JIT``).  Worker processes started into an empty cache would each compile
    them at once: a minute each, and slower still when there are more workers than cores."""
    if not kernel_cache.CACHE or numba.config.DISABLE_JIT or kernel_cache.compiled():
        return
    compile_kernels(default_scenario().with_values({"map.communities": COMPILE_COMMUNITIES}))


def run_many(tasks: Sequence[tuple], jobs: int = 1,
             progress: Callable[[int], None] | None = None,
             work: Callable[..., Any] = run_one,
             together: Callable[[list[tuple]], list] | None = None, ensemble: int = 1) -> list:
    """Run ``(scenario, seed, steps)`` tasks, in worker processes when ``jobs`` > 1.

    ``work`` is what a task does (default :func:`run_one`), called with the task's items;
    another must be a module-level function, so that spawned workers can import it.  With
    ``ensemble`` > 1, up to ``ensemble`` tasks in a row go to ``together`` as a list (a
    module-level function that returns what ``work`` returns for each, such as
    :func:`run_together`), which can advance their runs as one ensemble.  ``progress(n)`` is
    called with the number of tasks each time some are done.

    Results come back in task order whatever the scheduling, and each run's numbers depend only
    on its scenario and seed, so neither the number of workers nor ``ensemble`` changes them.
    Workers are not recycled, since ``max_tasks_per_child`` deadlocks the pool on Python 3.11;
    runs build no Mesa agents, and a worker lets its finished models go within a few hundred
    runs (:func:`in_worker`), so its memory stays flat across runs.
    A worker is handed :data:`IN_FLIGHT_PER_WORKER` tasks at a time.  On any exception (Ctrl-C
    included) the queued runs are cancelled and the workers terminated at once.  ``ensemble``
    > 1 without ``together`` is refused (ValueError): ``work`` makes one run at a time, and
    advancing nothing together would only look as if it did.
    """
    if ensemble > 1 and together is None:
        raise ValueError(f"run_many: ensemble={ensemble} needs a `together` function that "
                         "advances a list of tasks together; without one, use ensemble=1")
    if ensemble > 1:
        batches = [(list(tasks[i:i + ensemble]),) for i in range(0, len(tasks), ensemble)]
        done = _run_tasks(batches, jobs, progress, together, len)
        return [result for batch in done for result in batch]
    return _run_tasks(tasks, jobs, progress, work, lambda _: 1)


def _run_tasks(tasks: Sequence[tuple], jobs: int, progress: Callable[[int], None] | None,
               work: Callable[..., Any], size: Callable[[Any], int]) -> list:
    out: list = [None] * len(tasks)
    if jobs <= 1:
        for i, task in enumerate(tasks):
            out[i] = work(*task)
            if progress:
                progress(size(out[i]))
        return out
    todo = iter(enumerate(tasks))
    in_flight: dict[Future, int] = {}
    pool = worker_pool(jobs)
    try:
        while True:
            with stops_held():
                for i, task in islice(todo, IN_FLIGHT_PER_WORKER * jobs - len(in_flight)):
                    in_flight[pool.submit(work, *task)] = i
            if not in_flight:
                break
            for future in completed(in_flight):
                i = in_flight.pop(future)
                out[i] = outcome(future)
                if progress:
                    progress(size(out[i]))
        with stops_held():
            pool.shutdown()
    except BaseException:
        stop_now(pool)
        raise
    return out


# In a worker process: whether :func:`in_worker` has frozen what the first task loaded.
_WORKER = {"settled": False}


class WorkerPool(ProcessPoolExecutor):
    """A pool of the project's worker processes: each task runs through :func:`in_worker`."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` in a worker, which settles after its first task."""
        return super().submit(in_worker, fn, *args, **kwargs)


def worker_pool(jobs: int) -> WorkerPool:
    """``jobs`` worker processes, each started by :func:`start_worker`: by "spawn", since a
    fork of a parent with numba's threads running can deadlock.  The kernels are compiled first
    where they are not yet in numba's cache (:func:`compile_once`), so that the workers load
    them.  Made with the stops held (:func:`~sim.experiments.stopping.stops_held`), as every
    call into a pool is."""
    compile_once()
    with stops_held():
        return WorkerPool(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                          initializer=start_worker, initargs=(os.getpid(),))


def in_worker(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in a worker process; after the worker's first task, what it has
    loaded by then (the model's modules, numba's kernels, pandas) is frozen out of the garbage
    collector's reach (``gc.freeze``), once the garbage is collected.

    A finished model is freed by the collector, not when its last reference goes: Mesa's
    ``Model`` keeps its step as a method bound to itself (and Mesa 3.5 its schedule of events
    too).  The collector passes over its oldest objects only once they have grown by a quarter,
    and in a worker those were about 180,000 objects loaded for the first run, so the models
    that grew old waited for tens of thousands of runs: a sweep of 20,000 runs of 4 weeks on 50
    communities grew each of its 2 workers from 308 to 499 MB, still growing.  With the loaded
    objects frozen, the oldest ones are the models themselves and a pass comes every few hundred
    runs: the same sweep peaked at 316 MB a process, for the same CPU time (383 against 378 s).
    Frozen objects are never collected, so only a worker process freezes: a notebook or the
    command's own process keeps its collector as it is."""
    result = fn(*args, **kwargs)
    # A flag, not ``gc.get_freeze_count()``, which walks every frozen object (11 ms a call).
    if not _WORKER["settled"]:
        _WORKER["settled"] = True
        gc.collect()
        gc.freeze()
        # The collector counts its oldest objects at each full pass: one more pass over what is
        # left, next to nothing, so that the frozen ones no longer count.
        gc.collect()
    return result


def start_worker(parent: int) -> None:
    """The initialiser of a worker process started by ``parent``: it ignores Ctrl-C, exits
    with its parent and gives numba one thread."""
    follow_parent(parent)
    one_thread()


def one_thread() -> None:
    """Give numba one thread in this process: workers already fill the cores, and numba
    threads inside them would only oversubscribe."""
    numba.set_num_threads(1)


def flat_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """A run's summary as one row of a table of runs: its numbers and yes/no values, nested
    entries under ``key_leaf`` (``civilian_deaths_total``, each outcome's ``column``), a missing
    value as NaN; text (the dates) is left out."""
    row: dict[str, Any] = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            row.update({f"{key}_{k}": v for k, v in value.items() if _is_number(v)})
        elif _is_number(value):
            row[key] = value
        elif value is None:
            row[key] = float("nan")
    return row


def _is_number(value: Any) -> bool:
    return isinstance(value, bool | int | float)
