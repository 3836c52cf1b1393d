"""An ensemble: runs of one map size advanced week by week together, in one process.

Each run is a :class:`~sim.core.model.BlowbackModel` of its own scenario (a seed, a design
point).  The ensemble moves the runs' communities, cells, news and neighbours into tables with
the runs on the first axis, and leaves each run's arrays as rows of them:
``ensemble.models[r]`` reads and writes its row, as a model alone reads and writes its own
arrays.  A step of the week that has a ``together`` form (:class:`sim.core.registry.Step`)
then runs once for all the runs, one kernel call looping over the runs; the other steps run
once a run.  Every run comes out bit-identical to the same run made alone, and the runs keep
their own random streams, so common random numbers hold across the scenarios of an ensemble
as across runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any

import numpy as np

from sim.core.compiled import quiet, threads_for
from sim.core.model import BlowbackModel
from sim.core.scenario import Scenario
from sim.core.state import Cells, Communities, Week
from sim.core.week import WEEK

# What the runs of an ensemble must share, as their parameters set it: the size of every table
# (the map places exactly ``map.communities`` communities) and the number of weeks.
SHAPE = ("map.communities", "map.width", "map.height", "run.steps")
# The model's arrays outside its tables that the steps run together read and write.
SHARED_ARRAYS = ("news_state", "news_insurgent", "neighbour_instability",
                 "neighbour_contractor")

# What a run of an ensemble holds once run, its state and its weekly records: the resident
# memory 8 runs advanced together took, with 4,000 and 16,000 communities, 3,072 and 12,288
# cells, 520 and 2,080 weeks (3.2 MB a run at the default size; the sum errs high).
BYTES_PER_COMMUNITY = 250
BYTES_PER_CELL = 650
BYTES_PER_WEEK = 2_000
# The most a task's ensemble may hold, whatever number of runs is asked to advance together:
# beyond a few runs nothing more is saved (docs/PERFORMANCE.md), and a worker must stay small.
MOST_BYTES = 512 * 2**20


class EnsembleError(ValueError):
    """Runs that cannot be advanced together."""


class Ensemble:
    """``Ensemble(scenarios)`` builds a run of each scenario, without Mesa agents; ``step()``
    advances every run one week and ``run()`` runs them all to their end.  ``clock``, if set to
    a dict, adds up the seconds each step of the week takes for all the runs, by the step's
    label, and those of the records under ``"record"``, as a model's own ``clock`` does."""

    clock: dict[str, float] | None = None

    def __init__(self, scenarios: Sequence[Scenario]) -> None:
        if not scenarios:
            raise EnsembleError("an ensemble needs at least one scenario")
        shapes = sorted({shape(s.params) for s in scenarios})
        if len(shapes) > 1:
            raise EnsembleError(f"the runs of an ensemble must share {', '.join(SHAPE)}; "
                                f"these scenarios have {shapes}")
        self.models = [BlowbackModel(s, agents=False) for s in scenarios]
        self.communities = _stack_table(Communities, [m.communities for m in self.models])
        self.cells = _stack_table(Cells, [m.cells for m in self.models])
        for name in SHARED_ARRAYS:
            stacked = np.stack([getattr(m, name) for m in self.models])
            setattr(self, name, stacked)
            for r, model in enumerate(self.models):
                setattr(model, name, stacked[r])
        # Each run's arrays and the tables they must stay rows of, listed once.
        self._rows = [(r, owner, label, name, getattr(stacked, name))
                      for r, model in enumerate(self.models)
                      for owner, label, stacked in (
                          (model.communities, "communities.", self.communities),
                          (model.cells, "cells.", self.cells))
                      for name in (f.name for f in fields(stacked))]
        self._rows += [(r, model, "", name, getattr(self, name))
                       for r, model in enumerate(self.models) for name in SHARED_ARRAYS]

    @property
    def t(self) -> int:
        """Weeks run so far (the same for every run)."""
        return self.models[0].t

    def step(self) -> None:
        """Advance every run one week: the steps of :data:`sim.core.week.WEEK` in order, each
        once for all the runs where it can be, else once a run."""
        models = self.models
        if self.t >= models[0].steps_total:
            raise RuntimeError(f"the runs have ended after {models[0].steps_total} steps")
        self._check_rows()
        if any(model.week_steps is not WEEK for model in models):
            raise RuntimeError("a run of the ensemble has a step replaced by hand "
                               "(replace_step); allowed: replace the steps of a run made alone")
        weeks = [Week() for _ in models]
        clock = self.clock
        with quiet(), threads_for(len(models[0].communities)):
            for step in WEEK:
                start = time.perf_counter() if clock is not None else 0.0
                if step.together is not None:
                    step.together(self, weeks)
                else:
                    for model, week in zip(models, weeks, strict=True):
                        step.run(model, week)
                if clock is not None:
                    # Stopped before the label is looked up, which is no part of the step.
                    seconds = time.perf_counter() - start
                    clock[step.label] = clock.get(step.label, 0.0) + seconds
        start = time.perf_counter() if clock is not None else 0.0
        for model, week in zip(models, weeks, strict=True):
            model.close_week(week)
        if clock is not None:
            clock["record"] = clock.get("record", 0.0) + time.perf_counter() - start

    def run(self, steps: int | None = None,
            progress: Callable[[int], object] | None = None) -> Ensemble:
        """Run ``steps`` weeks (default: to the end); ``progress(n)`` after each."""
        total = self.models[0].steps_total
        end = total if steps is None else min(total, self.t + steps)
        while self.t < end:
            self.step()
            if progress is not None:
                progress(1)
        return self

    def _check_rows(self) -> None:
        # A step that replaced an array instead of writing into it would cut its run off from
        # the tables the steps run together read: say so rather than advance stale rows.
        for r, owner, label, name, stacked in self._rows:
            if getattr(owner, name).base is not stacked:
                raise RuntimeError(f"run {r}'s {label}{name} is no longer a row of the "
                                   "ensemble's tables")


def shape(params: Mapping[str, Any]) -> tuple:
    """The values of :data:`SHAPE` in ``params``: runs whose values are equal can be advanced
    together."""
    return tuple(params[name] for name in SHAPE)


def most_runs(params: Mapping[str, Any]) -> int:
    """The most runs of the map size and length of ``params`` that an ensemble advances
    together within :data:`MOST_BYTES` (at least one)."""
    communities, width, height, steps = shape(params)
    one_run = (BYTES_PER_COMMUNITY * communities + BYTES_PER_CELL * width * height
               + BYTES_PER_WEEK * steps)
    return max(1, MOST_BYTES // one_run)


def _stack_table(kind: type, tables: list) -> object:
    """One table of ``kind`` holding ``tables`` as rows, each table's arrays left as views of
    its row."""
    stacked = kind(**{f.name: np.stack([getattr(t, f.name) for t in tables])
                      for f in fields(kind)})
    for r, table in enumerate(tables):
        for f in fields(kind):
            setattr(table, f.name, getattr(stacked, f.name)[r])
    return stacked
