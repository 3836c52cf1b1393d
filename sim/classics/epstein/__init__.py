"""Epstein's civil-violence model (PNAS 99 suppl. 3, 2002) in numba: Model I and Model II.

Model I (:class:`EpsteinCivilViolence`) is a drop-in replacement of Mesa's example
``mesa.examples.advanced.epstein_civil_violence``: the same constructor arguments and defaults,
``step()``, ``running``, the counts ``ACTIVE``, ``QUIET``, ``ARRESTED`` and a Mesa
``DataCollector`` with the columns ``active``, ``quiet``, ``arrested``.  Model II
(:class:`EpsteinEthnicViolence`) adds two ethnic groups that kill each other, peacekeepers, births
and deaths.  docs/EPSTEIN.md gives the rules, the switches and where they depart from the paper.

State lives in numpy arrays (one slot per agent) and one occupancy grid; no Mesa agent objects
exist.  Agents act one after another in a keyed random order drawn afresh each step (random
sequential activation, as in Epstein's Ascape code and in Mesa's ``shuffle_do``), so each agent
sees the moves and arrests of those before it.  That is why counts come from fields kept current
with footprints (:mod:`sim.classics.neighbourhood`) rather than from per-step prefix sums.

Every draw is a function of (seed, step, entity, purpose, k) with this module's purposes (100
and up): ``sim.core.rng.uniform``, or for the shuffle and the searches for a cell, made for every
agent every step, a position of the purpose's ``sim.core.rng`` stream.  Results do not depend on
thread count or on ``NUMBA_DISABLE_JIT``.

``python -m sim.classics.epstein outbursts RUN.toml`` measures waiting times and sizes of
outbursts; ``python -m sim.classics.epstein bench`` times the model against Mesa's example.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import json
import math
import numbers
import sys
import time
import tomllib
import types
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import mesa
import numba
import numpy as np
import pandas as pd

from sim.classics.epstein.kernels import adjust_cops, populate, step_kernel, tally
from sim.classics.epstein.layout import (
    ACTIVATION_ORDERS,
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
    JAIL_MODES,
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
    Scratch,
    State,
    X,
    Y,
)
from sim.classics.epstein.rules import cop_ratio, round_half_even  # noqa: F401
from sim.classics.neighbourhood import (
    SHAPES,
    count_field,
    fold,
    kept_field,
    offsets,
    spans,
)
from sim.kernels import quiet

# np.errstate costs 2 us a step; only plain Python (NUMBA_DISABLE_JIT) wraps uint64 with warnings.
_GUARD = quiet if numba.config.DISABLE_JIT else contextlib.nullcontext


# --- the models ------------------------------------------------------------------------------

_SCHEDULED = ("legitimacy", "cop_density", "blue_legitimacy", "green_legitimacy")
_SERIES = (("active", O_ACTIVE), ("quiet", O_QUIET), ("arrested", O_JAILED), ("cops", O_COPS),
           ("activations", O_ACTIVATIONS), ("arrests", O_ARRESTS))
_ETHNIC_SERIES = (("blue", O_BLUE), ("green", O_GREEN), ("blue_active", O_BLUE_ACTIVE),
                  ("green_active", O_GREEN_ACTIVE), ("blue_killed", O_BLUE_KILLED),
                  ("green_killed", O_GREEN_KILLED), ("births", O_BIRTHS), ("deaths", O_DEATHS))


class _Epstein(mesa.Model):
    """What Model I and Model II share: agent tables, the count field, the step, schedules."""

    _reporters: dict[str, str] = {}
    _ethnic = False
    _scheduled: tuple[str, ...] = ("legitimacy", "cop_density")

    def _build(self, *, width: int, height: int, citizen_density: float, cop_density: float,
               citizen_vision: float, cop_vision: float, max_jail_term: float,
               active_threshold: float, arrest_prob_constant: float, movement: bool,
               cop_movement: bool | None, max_iters: int, seed: int | None, ratio: str,
               neighbourhood: str, jail: str,
               schedule: Sequence[Mapping[str, Any]] | None, legitimacies: tuple[float, float],
               fission_probability: float = 0.0, death_age: int = 0,
               activation_order: str = "Random") -> None:
        super().__init__(rng=seed)
        if cop_density + citizen_density > 1:
            raise ValueError("Cop density + citizen density must be less than 1")
        if ratio not in RATIOS:
            raise ValueError(f"ratio {ratio!r}: expected one of {', '.join(RATIOS)}")
        if jail not in JAIL_MODES:
            raise ValueError(f"jail {jail!r}: expected one of {', '.join(JAIL_MODES)}")
        if neighbourhood not in SHAPES:
            raise ValueError(f"neighbourhood {neighbourhood!r}: expected one of "
                             f"{', '.join(SHAPES)}")
        if activation_order not in ACTIVATION_ORDERS:
            raise ValueError(f"activation_order {activation_order!r}: expected one of "
                             f"{', '.join(ACTIVATION_ORDERS)}")
        self.width, self.height = int(width), int(height)
        self.movement = movement
        self.cop_movement = movement if cop_movement is None else cop_movement
        self.max_iters = max_iters
        self.ratio, self.neighbourhood, self.jail = ratio, neighbourhood, jail
        self.activation_order = activation_order
        self.seed_key = int(seed) if seed is not None else int(self.rng.integers(2**62))
        self.cop_density = float(cop_density)
        self.legitimacies = [float(v) for v in legitimacies]
        self.active_threshold = float(active_threshold)
        self.arrest_prob_constant = float(arrest_prob_constant)
        self._schedule = _check_schedule(schedule, self._scheduled)
        self.t = 0
        jail_max = -1 if math.isinf(max_jail_term) else int(max_jail_term)
        self._fission = float(fission_probability)
        w, h = self.width, self.height
        self._vis = offsets(citizen_vision, neighbourhood, w, h)
        self._rows = spans(citizen_vision, neighbourhood, w, h)
        self._cvis = offsets(cop_vision, neighbourhood, w, h)
        same_vision = np.array_equal(self._vis, self._cvis)
        whole = np.arange(self._vis.shape[1] + 1)
        self._fpar = np.concatenate([np.zeros(F_TABLE),
                                     [1.0 - math.exp(-self.arrest_prob_constant * r)
                                      for r in whole]])
        self._ipar = np.array([int(bool(movement)), int(bool(self.cop_movement)),
                               int(jail == "leave"), int(self._ethnic), jail_max, int(death_age),
                               RATIOS[ratio], int(same_vision),
                               int(activation_order == "Sequential")], dtype=np.int64)
        # Offspring go to an adjacent cell (Ascape's findRandomAvailableNeighbor).
        self._adj = offsets(1, "moore", w, h)
        self._buf = np.zeros(max(self._vis.shape[1], self._cvis.shape[1], 1), dtype=np.int64)
        self._out = np.zeros(N_OUT, dtype=np.int64)
        self.occ = np.full((h, w), -1, dtype=np.int64)
        self._ag = np.zeros((2 * w * h, 7), dtype=np.int64)
        self._af = np.zeros((2 * w * h, 3), dtype=np.float64)
        self._order = np.zeros(2 * w * h, dtype=np.int64)
        with quiet():
            self._n = populate(self.seed_key, citizen_density, cop_density, self._ethnic,
                               int(death_age), self.occ, self._ag, self._af)
        self._field = self._recount(kept_field)
        self._reach = Reach(self._rows, self._vis, self._cvis, self._adj)
        self._pack()
        self._history = np.zeros((64, N_OUT), dtype=np.int64)
        self._legitimacy_history: list[float] = []
        self._count()
        self.running = True
        self.datacollector = mesa.DataCollector(model_reporters=dict(self._reporters))
        self.datacollector.collect(self)

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
        """Bundle the arrays for the kernels again, after the agent tables were replaced."""
        self._state = State(self.occ, self._ag, self._af, self._field)
        self._scratch = Scratch(self._order, self._buf, self._out)

    def _apply_schedule(self) -> None:
        for change in self._schedule:
            name, at = change["parameter"], change["at"]
            if self.t < at:
                continue
            if "value" in change:
                if self.t == at:
                    self._set(name, change["value"])
            elif (self.t - at) % change["every"] == 0:
                value = self._get(name) + change["change"]
                bound = change["until"]
                value = max(value, bound) if change["change"] < 0 else min(value, bound)
                self._set(name, value)

    def _get(self, name: str) -> float:
        if name == "cop_density":
            return self.cop_density
        if name == "green_legitimacy":
            return self.legitimacies[GREEN]
        return self.legitimacies[BLUE]

    def _set(self, name: str, value: float) -> None:
        if name == "cop_density":
            self.cop_density = float(value)
            target = int(round(self.cop_density * self.width * self.height))
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
    def legitimacy(self) -> float:
        """Regime legitimacy L (Model II: the legitimacy blues grant greens)."""
        return self.legitimacies[BLUE]

    @legitimacy.setter
    def legitimacy(self, value: float) -> None:
        self.legitimacies[BLUE] = self.legitimacies[GREEN] = float(value)

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
                                  self._state, self._reach, self._scratch)
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


class EpsteinCivilViolence(_Epstein):
    """Epstein's Model I (citizens and cops), a drop-in replacement of Mesa's example.

    The first thirteen arguments are those of ``mesa.examples.advanced.epstein_civil_violence``
    with the same defaults; see that class for their meaning.  Visions are radii (integers for
    the von Neumann and Moore shapes; Euclidean radii may be fractional, e.g. 1.7).  A
    ``max_jail_term`` of ``math.inf`` jails for good.

    Keyword-only:
        scenario: Mesa 3.4+'s way of giving the settings, an ``EpsteinScenario`` (or any object
            with its attribute names: the settings above, ``activation_order``, ``grid_type``
            "Von Neumann" or "Moore", ``rng``).  It may also come third, where Mesa 3.4+ puts
            it, so that ``EpsteinCivilViolence(width, height, scenario)`` builds the model as
            the example of Mesa 3.4+ does, and the first thirteen arguments as Mesa 3.3's.
        rng: the seed as Mesa 3.4+ names it (an integer, or a numpy generator that gives one
            draw); ``seed`` or ``rng``, not both.
        activation_order: "Random" (Mesa's ``shuffle_do``, the default) or "Sequential"
            (Mesa's ``do``: the agents in the order they were created, cell by cell).
        ratio: how C/A enters P = 1 - exp(-k * ratio(C/A)): "round" (Python's ``round``, as
            Mesa's example), "floor" (NetLogo's Rebellion and the Ascape code's integer
            division) or "continuous" (the formula as printed in the paper).
        neighbourhood: "von_neumann" (Mesa's example), "moore" or "euclidean" (Ascape, NetLogo).
        jail: "stay" (Mesa's example: a jailed citizen keeps blocking its cell) or "leave" (the
            paper and Ascape: jailed citizens leave the lattice and come back to a free cell at
            or near where they were taken).
        cop_movement: whether cops move; None (the default) follows ``movement``.  The paper's
            run 1 keeps citizens still while cops patrol.
        schedule: changes during the run, each a mapping with ``parameter`` ("legitimacy" or
            "cop_density"), ``at`` (first step it applies to) and either ``value`` (a jump) or
            ``every``, ``change`` and ``until`` (a ramp: add ``change`` at steps at, at+every,
            ..., never past ``until``).
    """

    _reporters = {"active": "ACTIVE", "quiet": "QUIET", "arrested": "ARRESTED"}

    def __init__(self, width: int = 40, height: int = 40, citizen_density: float = 0.7,
                 cop_density: float = 0.074, citizen_vision: float = 7, cop_vision: float = 7,
                 legitimacy: float = 0.8, max_jail_term: float = 1000,
                 active_threshold: float = 0.1, arrest_prob_constant: float = 2.3,
                 movement: bool = True, max_iters: int = 1000, seed: int | None = None, *,
                 scenario: Any = None, rng: int | np.random.Generator | None = None,
                 ratio: str = "round", neighbourhood: str = "von_neumann", jail: str = "stay",
                 cop_movement: bool | None = None, activation_order: str = "Random",
                 schedule: Sequence[Mapping[str, Any]] | None = None) -> None:
        if not isinstance(citizen_density, numbers.Real) and scenario is None:
            # Mesa 3.4+'s example takes (width, height, scenario): its third argument.
            scenario = citizen_density
            citizen_density = inspect.signature(EpsteinCivilViolence).parameters[
                "citizen_density"].default
        settings = dict(citizen_density=citizen_density, cop_density=cop_density,
                        citizen_vision=citizen_vision, cop_vision=cop_vision,
                        legitimacy=legitimacy, max_jail_term=max_jail_term,
                        active_threshold=active_threshold,
                        arrest_prob_constant=arrest_prob_constant, movement=movement,
                        max_iters=max_iters, neighbourhood=neighbourhood,
                        activation_order=activation_order)
        if scenario is not None:
            settings, rng = _from_mesa_scenario(scenario, settings, rng)
        legitimacy = settings.pop("legitimacy")
        self._build(width=width, height=height, **settings, cop_movement=cop_movement,
                    seed=_seed_of(seed, rng), ratio=ratio, jail=jail, schedule=schedule,
                    legitimacies=(legitimacy, legitimacy))
        if scenario is not None:
            # Mesa 3.4+ keeps it as model.scenario (a property that ties it to the model).
            self.scenario = scenario


class EpsteinEthnicViolence(_Epstein):
    """Epstein's Model II: two ethnic groups (blue, green), inter-group killing, peacekeepers.

    A citizen's grievance is H(1 - L) with L the legitimacy its group grants the other group;
    it turns active when G - R P > T and someone of the other group is in sight, and an active
    citizen kills one of them at random and takes the victim's cell.  Cops are peacekeepers:
    they arrest actives of either group.  Citizens age one step per step, die past
    ``death_age`` and, with ``fission_probability`` a step, put a child with their group,
    hardship and risk aversion on a free adjacent cell.

    Defaults are Model II runs 2 and 3 as set in the Brookings Ascape code (legitimacy 0.8, no
    peacekeepers, vision 1.7 on the Euclidean neighbourhood, jail terms up to 15, lifetimes of
    200 steps, fission probability 0.05).  ``blue_legitimacy`` / ``green_legitimacy`` set one
    group's view apart from ``legitimacy``.  Other arguments and switches are those of
    :class:`EpsteinCivilViolence`; the schedule also takes "blue_legitimacy" and
    "green_legitimacy".
    """

    _reporters = {"active": "ACTIVE", "quiet": "QUIET", "arrested": "ARRESTED", "blue": "BLUE",
                  "green": "GREEN", "blue_active": "BLUE_ACTIVE",
                  "green_active": "GREEN_ACTIVE", "blue_killed": "BLUE_KILLED",
                  "green_killed": "GREEN_KILLED"}
    _ethnic = True
    _scheduled = _SCHEDULED

    def __init__(self, width: int = 40, height: int = 40, citizen_density: float = 0.7,
                 cop_density: float = 0.0, citizen_vision: float = 1.7,
                 cop_vision: float = 1.7, legitimacy: float = 0.8, max_jail_term: float = 15,
                 active_threshold: float = 0.1, arrest_prob_constant: float = 2.3,
                 movement: bool = True, max_iters: int = 1000, seed: int | None = None, *,
                 blue_legitimacy: float | None = None, green_legitimacy: float | None = None,
                 death_age: int = 200, fission_probability: float = 0.05,
                 ratio: str = "round", neighbourhood: str = "euclidean", jail: str = "leave",
                 cop_movement: bool | None = None,
                 schedule: Sequence[Mapping[str, Any]] | None = None) -> None:
        blue = legitimacy if blue_legitimacy is None else blue_legitimacy
        green = legitimacy if green_legitimacy is None else green_legitimacy
        self._build(width=width, height=height, citizen_density=citizen_density,
                    cop_density=cop_density, citizen_vision=citizen_vision,
                    cop_vision=cop_vision, max_jail_term=max_jail_term,
                    active_threshold=active_threshold, arrest_prob_constant=arrest_prob_constant,
                    movement=movement, cop_movement=cop_movement, max_iters=max_iters,
                    seed=seed, ratio=ratio,
                    neighbourhood=neighbourhood, jail=jail, schedule=schedule,
                    legitimacies=(blue, green), fission_probability=fission_probability,
                    death_age=death_age)


# Mesa's EpsteinScenario (Mesa 3.4 and later) names its settings as the arguments here, but
# for the neighbourhood, which it gives as a grid type.
_GRID_TYPES = {"Von Neumann": "von_neumann", "Moore": "moore"}


def _from_mesa_scenario(scenario: Any, settings: dict[str, Any],
                        rng: int | np.random.Generator | None
                        ) -> tuple[dict[str, Any], int | np.random.Generator | None]:
    """The settings and the seed that a Mesa ``EpsteinScenario`` carries, read by attribute.

    Settings given as arguments as well must keep their defaults: two sources of one value
    would leave the reader guessing which one won.
    """
    defaults = inspect.signature(EpsteinCivilViolence).parameters
    changed = [k for k, v in settings.items() if v != defaults[k].default]
    if changed:
        raise ValueError(f"{', '.join(changed)}: given as arguments and as scenario; give the "
                         "settings one way")
    out = dict(settings)
    for name in settings:
        if name != "neighbourhood" and hasattr(scenario, name):
            out[name] = getattr(scenario, name)
    grid_type = getattr(scenario, "grid_type", "Von Neumann")
    if grid_type not in _GRID_TYPES:
        raise ValueError(f"scenario.grid_type {grid_type!r}: expected one of "
                         f"{', '.join(_GRID_TYPES)}")
    out["neighbourhood"] = _GRID_TYPES[grid_type]
    theirs = getattr(scenario, "rng", None)
    if rng is not None and theirs is not None and theirs != rng:
        raise ValueError("rng and scenario.rng must be the same")  # Mesa's Model says so too
    return out, theirs if rng is None else rng


def _seed_of(seed: int | None, rng: int | np.random.Generator | None) -> int | None:
    """The one integer key of every draw, from Mesa's ``seed`` or ``rng`` (a generator gives
    one draw, so the same generator state gives the same run)."""
    if seed is not None and rng is not None:
        raise ValueError("seed and rng: give one of them")
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**62))
    return seed if rng is None else int(rng)


def _check_schedule(schedule: Sequence[Mapping[str, Any]] | None,
                    allowed: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for n, change in enumerate(schedule or ()):
        change = dict(change)
        where = f"schedule[{n}]"
        name = change.get("parameter")
        if name not in allowed:
            raise ValueError(f"{where}.parameter {name!r}: expected one of {', '.join(allowed)}")
        keys = {"parameter", "at", "value"} if "value" in change else {
            "parameter", "at", "every", "change", "until"}
        if set(change) != keys:
            raise ValueError(f"{where}: keys {sorted(change)}; expected {sorted(keys)} "
                             "(a jump: parameter, at, value; a ramp: parameter, at, every, "
                             "change, until)")
        if not isinstance(change["at"], int) or change["at"] < 1:
            raise ValueError(f"{where}.at {change['at']!r}: expected a step number >= 1")
        if "every" in change and (not isinstance(change["every"], int) or change["every"] < 1):
            raise ValueError(f"{where}.every {change['every']!r}: expected an integer >= 1")
        out.append(change)
    return out


# --- the paper's runs as files -----------------------------------------------------------------

_MODELS = {"I": EpsteinCivilViolence, "II": EpsteinEthnicViolence}
_METADATA = ("model", "description")


def load_run(path: str | Path) -> dict[str, Any]:
    """Read a run file (scenarios/epstein/*.toml) into constructor keyword arguments.

    The file names its model (``model = "I"`` or ``"II"``), may carry a ``description``, sets
    constructor arguments as top-level keys and lists changes as ``[[schedule]]`` tables.
    Unknown keys raise ``ValueError`` naming the file and the key.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ValueError(f"{path}: cannot read run file: {err}") from None
    model = data.get("model")
    if model not in _MODELS:
        raise ValueError(f"{path}: key 'model' is {model!r}; expected \"I\" or \"II\"")
    accepted = set(inspect.signature(_MODELS[model]).parameters)
    kwargs = {}
    for key, value in data.items():
        if key in _METADATA:
            continue
        if key not in accepted:
            raise ValueError(f"{path}: unknown key {key!r} for Model {model}")
        kwargs[key] = value
    try:
        _check_schedule(kwargs.get("schedule"), _MODELS[model]._scheduled)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    return kwargs


def open_run(path: str | Path, seed: int | None = None,
             **changes: Any) -> EpsteinCivilViolence | EpsteinEthnicViolence:
    """Build the model a run file describes, with a seed and any arguments changed."""
    model = tomllib.loads(Path(path).read_text(encoding="utf-8-sig")).get("model")
    kwargs = load_run(path) | {"seed": seed} | changes
    return _MODELS[model](**kwargs)


# --- measuring: outbursts, and speed against Mesa's example ------------------------------------


def outbursts(active: Sequence[int], threshold: int = 50) -> list[tuple[int, int]]:
    """The outbursts of a series of active counts: maximal runs of steps with more than
    ``threshold`` actives, as (first step, last step) index pairs."""
    out: list[tuple[int, int]] = []
    start = None
    for t, a in enumerate(active):
        if a > threshold and start is None:
            start = t
        elif a <= threshold and start is not None:
            out.append((start, t - 1))
            start = None
    if start is not None:
        out.append((start, len(active) - 1))
    return out


def outburst_stats(frames: Sequence[pd.DataFrame], threshold: int = 50,
                   skip: int = 0) -> dict[str, float]:
    """Waiting times and sizes of outbursts pooled over runs (``series_frame()`` outputs).

    Waiting time: steps from the end of one outburst to the start of the next (only between
    outbursts of one run).  Size: active agent-steps summed over the outburst's steps, and the
    citizens who turned active during it.  ``skip`` leaves out each run's first steps (the
    transient from the all-quiet start).
    """
    waits, sizes, turned, peaks = [], [], [], []
    for frame in frames:
        active = frame["active"].to_numpy()[skip:]
        activations = frame["activations"].to_numpy()[skip:]
        found = outbursts(active, threshold)
        waits += [b[0] - a[1] - 1 for a, b in zip(found, found[1:], strict=False)]
        for a, b in found:
            sizes.append(int(active[a:b + 1].sum()))
            turned.append(int(activations[a:b + 1].sum()))
            peaks.append(int(active[a:b + 1].max()))

    def mean_sd(xs: list[int]) -> tuple[float, float]:
        if not xs:
            return math.nan, math.nan
        return float(np.mean(xs)), float(np.std(xs, ddof=1)) if len(xs) > 1 else math.nan

    stats = {"outbursts": float(len(sizes)), "waits": float(len(waits))}
    for name, xs in (("wait", waits), ("size", sizes), ("activations", turned),
                     ("peak", peaks)):
        stats[f"{name}_mean"], stats[f"{name}_sd"] = mean_sd(xs)
    return stats


def mesa_example() -> type:
    """Mesa's own ``EpsteinCivilViolence`` class, for comparisons.

    ``import mesa.examples`` imports every example and so needs all their dependencies
    (networkx among them); when that fails, the two parent packages are registered bare so that
    just this example's modules load.
    """
    name = "mesa.examples.advanced.epstein_civil_violence.model"
    try:
        return importlib.import_module(name).EpsteinCivilViolence
    except ImportError:
        root = Path(mesa.__file__).parent / "examples"
        for package, folder in (("mesa.examples", root), ("mesa.examples.advanced",
                                                         root / "advanced")):
            module = types.ModuleType(package)
            module.__path__ = [str(folder)]
            sys.modules.setdefault(package, module)
        return importlib.import_module(name).EpsteinCivilViolence


def _mesa_model(size: int, seed: int) -> mesa.Model:
    """Mesa's example on a size x size torus with its defaults: built from arguments up to Mesa
    3.3, from an ``EpsteinScenario`` from Mesa 3.4."""
    cls = mesa_example()
    if "scenario" in inspect.signature(cls).parameters:
        return cls(size, size, sys.modules[cls.__module__].EpsteinScenario(rng=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the example passes the deprecated seed= to Mesa
        return cls(width=size, height=size, seed=seed)


def _timed(model: mesa.Model, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        model.step()
    return time.perf_counter() - start


def benchmark(size: int, mesa_steps: int = 20, steps: int = 2000, batches: int = 5,
              seed: int = 1) -> dict[str, float]:
    """Agent-steps per second of Mesa's example and of :class:`EpsteinCivilViolence`.

    Both on a ``size`` x ``size`` torus with the example's defaults (vision 7, citizen density
    0.7, cop density 0.074); agents are citizens (jailed included) and cops, as Mesa steps them.
    After one warm-up step each (compiled code, Mesa's neighbourhood caches) the two run in
    alternating batches (``mesa_steps`` and ``steps`` steps in all), so that a busy neighbour on
    a shared machine slows both alike.  Reported: the best batch of each (as ``timeit`` does)
    and their ratio, and the median of the batch-by-batch ratios.
    """
    theirs = _mesa_model(size, seed)
    ours = EpsteinCivilViolence(width=size, height=size, seed=seed)
    n_theirs, n_ours = len(theirs.agents), len(ours.agent_frame())
    theirs.step()
    ours.step()
    k_theirs, k_ours = max(1, mesa_steps // batches), max(1, steps // batches)
    mesa_rates, our_rates = [], []
    for _ in range(batches):
        mesa_rates.append(n_theirs * k_theirs / _timed(theirs, k_theirs))
        our_rates.append(n_ours * k_ours / _timed(ours, k_ours))
    ratios = [o / m for o, m in zip(our_rates, mesa_rates, strict=True)]
    return {"size": size, "agents": n_theirs, "mesa_agent_steps_per_s": max(mesa_rates),
            "numba_agent_steps_per_s": max(our_rates),
            "ratio": max(our_rates) / max(mesa_rates), "median_ratio": float(np.median(ratios))}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.classics.epstein outbursts RUN.toml`` or ``... bench``."""
    parser = argparse.ArgumentParser(prog="python -m sim.classics.epstein",
                                     description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    o = sub.add_parser("outbursts", help="waiting times and sizes of outbursts of a run file")
    o.add_argument("run", type=Path)
    o.add_argument("--seeds", type=int, default=10)
    o.add_argument("--steps", type=int, default=None, help="default: the file's max_iters")
    o.add_argument("--threshold", type=int, default=50)
    o.add_argument("--skip", type=int, default=100, help="transient steps left out")
    o.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="change an argument of the file (VALUE in TOML), e.g. ratio='\"round\"'")
    b = sub.add_parser("bench", help="agent-steps per second against Mesa's example")
    b.add_argument("--sizes", type=int, nargs="+", default=[40, 200])
    b.add_argument("--mesa-steps", type=int, default=20)
    b.add_argument("--steps", type=int, default=2000)
    b.add_argument("--batches", type=int, default=5)
    args = parser.parse_args(argv)
    if args.command == "outbursts":
        changes = {k: v for item in args.set for k, v in tomllib.loads(item).items()}
        frames = []
        for seed in range(args.seeds):
            model = open_run(args.run, seed=seed, **changes)
            for _ in range(args.steps or model.max_iters):
                model.step()
            frames.append(model.series_frame())
        stats = outburst_stats(frames, args.threshold, args.skip)
        print(json.dumps({"run": str(args.run), "seeds": args.seeds, "changes": changes}
                         | stats, indent=1))
    else:
        for size in args.sizes:
            print(json.dumps(benchmark(size, args.mesa_steps, args.steps, args.batches)),
                  flush=True)
    return 0

