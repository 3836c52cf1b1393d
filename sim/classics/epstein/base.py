"""What Model I and Model II share: a Mesa model over the kernels' arrays.

State lives in numpy arrays (one slot per agent) and one occupancy grid; no Mesa agent objects
exist.  The counts a citizen reads come from fields kept current with footprints
(:mod:`sim.classics.neighbourhood`), since agents act one after another within a step.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import mesa
import numba
import numpy as np
import pandas as pd

from sim.classics.epstein.kernels import adjust_cops, populate, step_kernel, tally
from sim.classics.epstein.layout import (
    ACTIVE,
    AGE,
    ARREST_P,
    BLUE,
    COP,
    DEAD,
    F_TABLE,
    GREEN,
    GROUP,
    HARDSHIP_COL,
    JAIL,
    JAILED,
    KIND,
    N_OUT,
    O_ACTIVATIONS,
    O_ACTIVE,
    O_ARRESTS,
    O_BIRTHS,
    O_BLUE,
    O_BLUE_ACTIVE,
    O_BLUE_KILLED,
    O_COPS,
    O_DEATHS,
    O_GREEN,
    O_GREEN_ACTIVE,
    O_GREEN_KILLED,
    O_JAILED,
    O_QUIET,
    RATIOS,
    RISK_COL,
    STATE,
    Reach,
    State,
    X,
    Y,
)
from sim.classics.epstein.schedule import MODEL_I_SCHEDULED, check_schedule
from sim.classics.epstein.settings import check_settings, number
from sim.classics.neighbourhood import count_field, fold, kept_field, offsets, spans
from sim.core.compiled import quiet

# np.errstate costs 2 us a step; only plain Python (NUMBA_DISABLE_JIT) wraps uint64 with warnings.
_GUARD = quiet if numba.config.DISABLE_JIT else contextlib.nullcontext

_SERIES = (("active", O_ACTIVE), ("quiet", O_QUIET), ("arrested", O_JAILED), ("cops", O_COPS),
           ("activations", O_ACTIVATIONS), ("arrests", O_ARRESTS))
_ETHNIC_SERIES = (("blue", O_BLUE), ("green", O_GREEN), ("blue_active", O_BLUE_ACTIVE),
                  ("green_active", O_GREEN_ACTIVE), ("blue_killed", O_BLUE_KILLED),
                  ("green_killed", O_GREEN_KILLED), ("births", O_BIRTHS), ("deaths", O_DEATHS))


class EpsteinBase(mesa.Model):
    """What Model I and Model II share: agent tables, the count field, the step, schedules."""

    _reporters: dict[str, str] = {}
    _ethnic = False
    _scheduled: tuple[str, ...] = MODEL_I_SCHEDULED

    def _build(self, *, width: int, height: int, citizen_density: float, cop_density: float,
               citizen_vision: float, cop_vision: float, max_jail_term: float,
               active_threshold: float, arrest_prob_constant: float, movement: bool,
               cop_movement: bool | None, max_iters: int, seed: int | None, ratio: str,
               neighbourhood: str, jail: str,
               schedule: Sequence[Mapping[str, Any]] | None, legitimacies: tuple[float, float],
               fission_probability: float = 0.0, death_age: int = 0,
               activation_order: str = "Random") -> None:
        """Set the model up: what the subclasses' constructors share."""
        check_settings({k: v for k, v in locals().items() if k != "self"})
        # A Python int: Mesa 3.4+ seeds its ``random.Random`` with it, which on Python 3.12+
        # refuses a numpy integer.
        super().__init__(rng=None if seed is None else int(seed))
        self.width, self.height = int(width), int(height)
        self.movement = movement
        self.cop_movement = movement if cop_movement is None else cop_movement
        self.max_iters = max_iters
        self.ratio, self.neighbourhood, self.jail = ratio, neighbourhood, jail
        self.activation_order = activation_order
        self.seed_key = int(seed) if seed is not None else int(self.rng.integers(2**62))
        self._cop_density = float(cop_density)
        self.legitimacies = [float(v) for v in legitimacies]
        self.active_threshold = float(active_threshold)
        self.arrest_prob_constant = float(arrest_prob_constant)
        self._schedule = check_schedule(schedule, self._scheduled)
        self.t = 0
        self._fission = float(fission_probability)
        self._allocate(citizen_vision, cop_vision, max_jail_term, int(death_age))
        with quiet():
            self._n = populate(self.seed_key, citizen_density, cop_density, self._ethnic,
                               int(death_age), self.occ, self._ag, self._af)
        self._field = self._recount(kept_field)
        self._pack()
        self._history = np.zeros((64, N_OUT), dtype=np.int64)
        self._legitimacy_history: list[float] = []
        self._count()
        self.running = True
        self.datacollector = mesa.DataCollector(model_reporters=dict(self._reporters))
        self.datacollector.collect(self)

    def _allocate(self, citizen_vision: float, cop_vision: float, max_jail_term: float,
                  death_age: int) -> None:
        """The kernels' inputs: neighbourhoods, parameter vectors, empty grid and tables."""
        jail_max = -1 if math.isinf(max_jail_term) else int(max_jail_term)
        w, h = self.width, self.height
        self._vis = offsets(citizen_vision, self.neighbourhood, w, h)
        self._rows = spans(citizen_vision, self.neighbourhood, w, h)
        self._cvis = offsets(cop_vision, self.neighbourhood, w, h)
        same_vision = np.array_equal(self._vis, self._cvis)
        whole = np.arange(self._vis.shape[1] + 1)
        self._fpar = np.concatenate([np.zeros(F_TABLE),
                                     [1.0 - math.exp(-self.arrest_prob_constant * r)
                                      for r in whole]])
        self._ipar = np.array([int(bool(self.movement)), int(bool(self.cop_movement)),
                               int(self.jail == "leave"), int(self._ethnic), jail_max, death_age,
                               RATIOS[self.ratio], int(same_vision),
                               int(self.activation_order == "Sequential")], dtype=np.int64)
        # Offspring go to an adjacent cell (Ascape's findRandomAvailableNeighbor).
        self._adj = offsets(1, "moore", w, h)
        self._reach = tuple(Reach(self._rows, self._vis, self._cvis, self._adj))
        self._buf = np.zeros(max(self._vis.shape[1], self._cvis.shape[1], 1), dtype=np.int64)
        self._out = np.zeros(N_OUT, dtype=np.int64)
        self.occ = np.full((h, w), -1, dtype=np.int64)
        self._ag = np.zeros((2 * w * h, 7), dtype=np.int64)
        self._af = np.zeros((2 * w * h, 3), dtype=np.float64)
        self._order = np.zeros(2 * w * h, dtype=np.int64)

    @property
    def field(self) -> np.ndarray:
        """The count field the model keeps current with footprints, as counts: int32
        ``[4, H, W]``, layers cops, actives, free blue citizens, free green citizens within a
        citizen's vision of each cell (the cell itself included)."""
        return fold(self._field)

    def fields_from_scratch(self) -> np.ndarray:
        """The count field recomputed from the grid, the same layers as :attr:`field` (a check
        of the footprints)."""
        return self._recount(count_field)

    def _recount(self, build: Callable[..., np.ndarray]) -> np.ndarray:
        """The four layers counted from the grid by ``build`` (:func:`count_field` or
        :func:`kept_field`), two at a time: a citizen of Model II counts both as active and
        as free of its group, so one grid of codes cannot hold all four."""
        ag = self._ag
        on = self.occ >= 0
        who = self.occ[on]
        cop = ag[who, KIND] == COP
        state = ag[who, STATE]
        layers = []
        for kind_of in (np.where(cop, 0, np.where(state == ACTIVE, 1, -1)),
                        np.where(cop | (state == JAILED) | (not self._ethnic), -1,
                                 ag[who, GROUP])):
            cats = np.full(self.occ.shape, -1, dtype=np.int64)
            cats[on] = kind_of
            with quiet():
                layers.append(build(cats, 2, self._rows))
        return np.ascontiguousarray(np.concatenate(layers))

    def _compact(self) -> None:
        """Drop the slots of the dead once they outnumber the living (Model II keeps killing and
        breeding), so that a step's cost follows the population, not its history."""
        live = np.flatnonzero(self._ag[:self._n, STATE] != DEAD)
        if 2 * len(live) >= self._n:
            return
        slot = np.full(self._n, -1, dtype=np.int64)
        slot[live] = np.arange(len(live))
        self._ag[:len(live)] = self._ag[live]
        self._af[:len(live)] = self._af[live]
        on = self.occ >= 0
        self.occ[on] = slot[self.occ[on]]
        self._n = len(live)

    def _room(self, extra: int) -> None:
        """Make the agent tables long enough for ``extra`` newcomers this step."""
        need = self._n + extra
        size = self._ag.shape[0]
        if need <= size:
            return
        grow = max(need, 2 * size) - size
        self._ag = np.ascontiguousarray(np.pad(self._ag, ((0, grow), (0, 0))))
        self._af = np.ascontiguousarray(np.pad(self._af, ((0, grow), (0, 0))))
        self._order = np.zeros(size + grow, dtype=np.int64)
        self._pack()

    def _pack(self) -> None:
        """Bundle the state for the kernels again, after the agent tables were replaced: as a
        plain tuple, which numba types faster than a named one (docs/PERFORMANCE.md)."""
        self._state = tuple(State(self.occ, self._ag, self._af, self._field))

    def _apply_schedule(self) -> None:
        """Make the changes of the schedule that fall on this step, in the schedule's order."""
        for change in self._schedule:
            name, at = change["parameter"], change["at"]
            if self.t < at:
                continue
            if "value" in change:
                if self.t == at:
                    self._set(name, change["value"])
            elif (self.t - at) % change["every"] == 0:
                now, step, bound = self._get(name), change["change"], change["until"]
                # Never past until, nor against the change (a value already past it stays).
                value = (max(now + step, min(bound, now)) if step < 0 else
                         min(now + step, max(bound, now)))
                self._set(name, value)

    def _get(self, name: str) -> float:
        """The current value of a schedulable parameter ("legitimacy" reads the blues')."""
        if name == "cop_density":
            return self._cop_density
        if name == "green_legitimacy":
            return self.legitimacies[GREEN]
        return self.legitimacies[BLUE]

    def _set(self, name: str, value: float) -> None:
        """Set a schedulable parameter; a new cop density posts or withdraws cops now."""
        if name == "cop_density":
            self._cop_density = float(value)
            target = int(round(self._cop_density * self.width * self.height))
            self._room(target)
            with quiet():
                self._n = adjust_cops(self.seed_key, self.t, target, self._n, self._state,
                                      self._rows, self._ethnic)
            return
        if name in ("legitimacy", "blue_legitimacy"):
            self.legitimacies[BLUE] = float(value)
        if name in ("legitimacy", "green_legitimacy"):
            self.legitimacies[GREEN] = float(value)

    @property
    def cop_density(self) -> float:
        """Cops per cell of the grid.  Set between steps, it posts or withdraws cops at once, at
        random, as a schedule's jump does at the start of a step (Mesa's example reads it only
        when the model is built)."""
        return self._cop_density

    @cop_density.setter
    def cop_density(self, value: float) -> None:
        self._set("cop_density", number("cop_density", value, 0.0, 1.0))

    @property
    def legitimacy(self) -> float:
        """Regime legitimacy L (Model II: the legitimacy blues grant greens)."""
        return self.legitimacies[BLUE]

    @legitimacy.setter
    def legitimacy(self, value: float) -> None:
        value = number("legitimacy", value, 0.0, 1.0)
        self.legitimacies[BLUE] = self.legitimacies[GREEN] = value

    def step(self) -> None:
        """Advance the model by one step and collect data."""
        self.t += 1
        self._apply_schedule()
        if self._ethnic:
            self._compact()
            self._room(self._n)
        self._fpar[:F_TABLE] = (self.legitimacies[BLUE], self.legitimacies[GREEN],
                                self.active_threshold, self.arrest_prob_constant, self._fission)
        with _GUARD():
            self._n = step_kernel(self.seed_key, self.t, self._ipar, self._fpar, self._n,
                                  self._state, self._reach, self._order, self._buf,
                                  self._out)
        self._count(self._out)
        self.datacollector.collect(self)
        if self.t > self.max_iters:
            self.running = False

    def _count(self, out: np.ndarray | None = None) -> None:
        """Set the model's counts and keep them; into a preallocated table, because a Python
        object or two per step wakes the garbage collector, which costs more than the step."""
        if out is None:
            out = np.zeros(N_OUT, dtype=np.int64)
            tally(self._n, self._ag, out)
        row = len(self._legitimacy_history)
        if row == len(self._history):
            self._history = np.concatenate([self._history, np.zeros_like(self._history)])
        self._history[row] = out
        self._legitimacy_history.append(self.legitimacy)
        self.ACTIVE, self.QUIET, self.ARRESTED = (int(out[O_ACTIVE]), int(out[O_QUIET]),
                                                  int(out[O_JAILED]))
        if self._ethnic:
            self.BLUE, self.GREEN = int(out[O_BLUE]), int(out[O_GREEN])
            self.BLUE_ACTIVE = int(out[O_BLUE_ACTIVE])
            self.GREEN_ACTIVE = int(out[O_GREEN_ACTIVE])
            self.BLUE_KILLED = int(out[O_BLUE_KILLED])
            self.GREEN_KILLED = int(out[O_GREEN_KILLED])

    def series_frame(self) -> pd.DataFrame:
        """Every per-step counter (a superset of the DataCollector's columns), one row a step."""
        rows = self._history[:len(self._legitimacy_history)]
        columns = _SERIES + (_ETHNIC_SERIES if self._ethnic else ())
        frame = pd.DataFrame({name: rows[:, slot] for name, slot in columns})
        frame.insert(len(_SERIES), "legitimacy", self._legitimacy_history)
        return frame

    def agent_frame(self) -> pd.DataFrame:
        """The agents as they are now, one row each (what Mesa's agent reporters would show)."""
        ag, af = self._ag[:self._n], self._af[:self._n]
        ids = np.flatnonzero(ag[:, STATE] != DEAD)
        cop = ag[ids, KIND] == COP
        names = np.array(["quiet", "active", "arrested", "dead"])[ag[ids, STATE]]
        frame = pd.DataFrame({
            "agent": ids, "type": np.where(cop, "cop", "citizen"), "x": ag[ids, X],
            "y": ag[ids, Y], "state": np.where(cop, "", names),
            "jail_sentence": np.where(ag[ids, STATE] == JAILED, ag[ids, JAIL], 0),
            "arrest_probability": af[ids, ARREST_P], "hardship": af[ids, HARDSHIP_COL],
            "risk_aversion": af[ids, RISK_COL]})
        if self._ethnic:
            frame["group"] = np.where(ag[ids, GROUP] == BLUE, "blue", "green")
            frame["age"] = ag[ids, AGE]
        return frame.set_index("agent")
