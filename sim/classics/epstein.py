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
with footprints (:mod:`sim.kernels.neighbourhood`) rather than from per-step prefix sums.

Every draw is ``sim.rng.uniform(seed, step, entity, purpose, k)`` with this module's purposes
(100 and up): results do not depend on thread count or on ``NUMBA_DISABLE_JIT``.
"""

from __future__ import annotations

import inspect
import math
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd
from numba import njit

from sim import rng
from sim.kernels import quiet
from sim.kernels.neighbourhood import SHAPES, add_footprint, count_field, offsets

# Purposes of draws: this module's own, kept apart from sim.rng's (1-20).
PLACE = 100
HARDSHIP = 101
RISK_AVERSION = 102
ORDER = 103
ARREST_PICK = 104
JAIL_TERM = 105
MOVE = 106
RELEASE = 107
KILL_PICK = 108
GROUP = 109
AGE = 110
FISSION = 111
BIRTH_CELL = 112
COP_ADJUST = 113

CITIZEN = 0
COP = 1
QUIET = 0
ACTIVE = 1
JAILED = 2
DEAD = 3
BLUE = 0
GREEN = 1

RATIOS = {"continuous": 0, "floor": 1, "round": 2}
JAIL_MODES = ("stay", "leave")
# An unbounded jail term (the paper's J_max = infinity) as a count that never runs out.
FOREVER = 1 << 62

# Slots of the integer and float parameter vectors handed to the kernel.
I_MOVEMENT, I_LEAVE, I_ETHNIC, I_JAIL_MAX, I_DEATH_AGE, I_RATIO = range(6)
F_LEGIT_BLUE, F_LEGIT_GREEN, F_THRESHOLD, F_K, F_FISSION = range(5)
# Slots of the per-step counters the kernel returns.
(O_ACTIVE, O_QUIET, O_JAILED, O_COPS, O_ACTIVATIONS, O_ARRESTS, O_BLUE, O_GREEN, O_BLUE_ACTIVE,
 O_GREEN_ACTIVE, O_BLUE_KILLED, O_GREEN_KILLED, O_BIRTHS, O_DEATHS) = range(14)
N_OUT = 14

_TRIES = 16


@njit(cache=True)
def round_half_even(v):
    """Python's ``round`` of a non-negative float: halves go to the even integer."""
    f = math.floor(v)
    d = v - f
    if d > 0.5 or (d == 0.5 and f % 2.0 == 1.0):
        return f + 1.0
    return f


@njit(cache=True)
def _free_near(seed, t, entity, purpose, occ, y, x, dy, dx):
    """A uniformly chosen empty cell among (y, x) + offsets, as a flat index; -1 if none.

    A few keyed tries first (the grid is mostly a quarter empty), then a full enumeration: each
    branch picks uniformly among the empty cells, so the mix does too.
    """
    height, width = occ.shape
    n = len(dy)
    if n == 0:
        return -1
    for k in range(_TRIES):
        j = int(rng.uniform(seed, t, entity, purpose, k) * n)
        yy = y + dy[j]
        if yy >= height:
            yy -= height
        xx = x + dx[j]
        if xx >= width:
            xx -= width
        if occ[yy, xx] < 0:
            return yy * width + xx
    empty = 0
    for j in range(n):
        yy = y + dy[j]
        if yy >= height:
            yy -= height
        xx = x + dx[j]
        if xx >= width:
            xx -= width
        if occ[yy, xx] < 0:
            empty += 1
    if empty == 0:
        return -1
    m = int(rng.uniform(seed, t, entity, purpose, _TRIES) * empty)
    for j in range(n):
        yy = y + dy[j]
        if yy >= height:
            yy -= height
        xx = x + dx[j]
        if xx >= width:
            xx -= width
        if occ[yy, xx] < 0:
            if m == 0:
                return yy * width + xx
            m -= 1
    return -1


@njit(cache=True)
def _free_anywhere(seed, t, entity, purpose, occ):
    """A uniformly chosen empty cell of the whole grid, as a flat index; -1 if the grid is full."""
    height, width = occ.shape
    flat = occ.ravel()
    n = height * width
    for k in range(4 * _TRIES):
        c = int(rng.uniform(seed, t, entity, purpose, k) * n)
        if flat[c] < 0:
            return c
    empty = 0
    for c in range(n):
        if flat[c] < 0:
            empty += 1
    if empty == 0:
        return -1
    m = int(rng.uniform(seed, t, entity, purpose, 4 * _TRIES) * empty)
    for c in range(n):
        if flat[c] < 0:
            if m == 0:
                return c
            m -= 1
    return -1


@njit(cache=True)
def _footprints(i, delta, kind, group, state, ys, xs, cops_near, act_near, grp_near, vdy, vdx,
                ethnic):
    """Add or remove what agent i contributes to the count fields at its cell."""
    y = ys[i]
    x = xs[i]
    if kind[i] == COP:
        add_footprint(cops_near, y, x, vdy, vdx, delta)
        return
    if state[i] == ACTIVE:
        add_footprint(act_near, y, x, vdy, vdx, delta)
    if ethnic and state[i] != JAILED:
        add_footprint(grp_near[group[i]], y, x, vdy, vdx, delta)


@njit(cache=True)
def _move(i, cell, occ, kind, group, state, ys, xs, cops_near, act_near, grp_near, vdy, vdx,
          ethnic):
    """Move agent i to the empty flat cell ``cell``, keeping the fields current."""
    width = occ.shape[1]
    _footprints(i, -1, kind, group, state, ys, xs, cops_near, act_near, grp_near, vdy, vdx,
                ethnic)
    occ[ys[i], xs[i]] = -1
    ys[i] = cell // width
    xs[i] = cell % width
    occ[ys[i], xs[i]] = i
    _footprints(i, 1, kind, group, state, ys, xs, cops_near, act_near, grp_near, vdy, vdx,
                ethnic)


@njit(cache=True)
def _jail_term(seed, t, i, jail_max):
    if jail_max < 0:
        return FOREVER
    return int(rng.uniform(seed, t, i, JAIL_TERM, 0) * (jail_max + 1))


@njit(cache=True)
def _remove(i, leave, occ, kind, group, state, ys, xs, cops_near, act_near, grp_near, vdy, vdx,
            ethnic):
    """Take agent i out of the model for good (killed, died of age, cop withdrawn)."""
    on_grid = kind[i] == COP or state[i] != JAILED or not leave
    if on_grid:
        _footprints(i, -1, kind, group, state, ys, xs, cops_near, act_near, grp_near, vdy, vdx,
                    ethnic)
        occ[ys[i], xs[i]] = -1
    state[i] = DEAD


@njit(cache=True)
def _cop_turn(seed, t, i, ipar, occ, kind, group, state, ys, xs, jail, cops_near, act_near,
              grp_near, vdy, vdx, cdy, cdx, buf, out):
    """Cop rule C: arrest one random active citizen within vision; then rule M."""
    height, width = occ.shape
    ethnic = ipar[I_ETHNIC] != 0
    leave = ipar[I_LEAVE] != 0
    n = 0
    for j in range(len(cdy)):
        yy = ys[i] + cdy[j]
        if yy >= height:
            yy -= height
        xx = xs[i] + cdx[j]
        if xx >= width:
            xx -= width
        a = occ[yy, xx]
        if a >= 0 and kind[a] == CITIZEN and state[a] == ACTIVE:
            buf[n] = a
            n += 1
    if n > 0:
        a = buf[int(rng.uniform(seed, t, i, ARREST_PICK, 0) * n)]
        _footprints(a, -1, kind, group, state, ys, xs, cops_near, act_near, grp_near, vdy, vdx,
                    ethnic)
        state[a] = JAILED
        jail[a] = _jail_term(seed, t, a, ipar[I_JAIL_MAX])
        if leave:
            occ[ys[a], xs[a]] = -1
        out[O_ARRESTS] += 1
    if ipar[I_MOVEMENT] != 0:
        cell = _free_near(seed, t, i, MOVE, occ, ys[i], xs[i], cdy, cdx)
        if cell >= 0:
            _move(i, cell, occ, kind, group, state, ys, xs, cops_near, act_near, grp_near, vdy,
                  vdx, ethnic)


@njit(cache=True)
def _arrest_probability(c, a, k, ratio):
    if ratio == 0:
        r = c / a
    elif ratio == 1:
        r = float(c // a)
    else:
        r = round_half_even(c / a)
    return 1.0 - math.exp(-k * r)


@njit(cache=True)
def _citizen_turn(seed, t, i, ipar, fpar, n_used, occ, kind, group, state, ys, xs, jail,
                  hardship, risk, age, arrest_p, cops_near, act_near, grp_near, vdy, vdx, bdy,
                  bdx, buf, out):
    """Agent rule A (plus Model II's killing and demography); then rule M.  Returns n_used."""
    height, width = occ.shape
    ethnic = ipar[I_ETHNIC] != 0
    leave = ipar[I_LEAVE] != 0
    if ethnic:
        age[i] += 1
        if age[i] > ipar[I_DEATH_AGE]:
            _remove(i, leave, occ, kind, group, state, ys, xs, cops_near, act_near, grp_near,
                    vdy, vdx, ethnic)
            out[O_DEATHS] += 1
            return n_used
    if state[i] == JAILED:
        if jail[i] > 0:
            jail[i] -= 1
            return n_used
        if leave:
            # Back where it was taken if that cell is free, else near it, else anywhere.
            cell = -1
            if occ[ys[i], xs[i]] < 0:
                cell = ys[i] * width + xs[i]
            if cell < 0:
                cell = _free_near(seed, t, i, RELEASE, occ, ys[i], xs[i], vdy, vdx)
            if cell < 0:
                cell = _free_anywhere(seed, t, i, RELEASE, occ)
            if cell < 0:
                return n_used
            ys[i] = cell // width
            xs[i] = cell % width
            occ[ys[i], xs[i]] = i
        state[i] = QUIET
        if ethnic:
            add_footprint(grp_near[group[i]], ys[i], xs[i], vdy, vdx, 1)
    y = ys[i]
    x = xs[i]
    g = group[i]
    p = _arrest_probability(cops_near[y, x], 1 + act_near[y, x], fpar[F_K], ipar[I_RATIO])
    arrest_p[i] = p
    legit = fpar[F_LEGIT_BLUE] if g == BLUE else fpar[F_LEGIT_GREEN]
    rebel = hardship[i] * (1.0 - legit) - risk[i] * p > fpar[F_THRESHOLD]
    if ethnic and rebel and grp_near[1 - g, y, x] == 0:
        rebel = False  # nobody of the other group in sight: nothing to act on
    if rebel and state[i] != ACTIVE:
        state[i] = ACTIVE
        add_footprint(act_near, y, x, vdy, vdx, 1)
        out[O_ACTIVATIONS] += 1
    elif not rebel and state[i] == ACTIVE:
        state[i] = QUIET
        add_footprint(act_near, y, x, vdy, vdx, -1)
    moved = False
    if ethnic and state[i] == ACTIVE:
        n = 0
        for j in range(len(vdy)):
            yy = y + vdy[j]
            if yy >= height:
                yy -= height
            xx = x + vdx[j]
            if xx >= width:
                xx -= width
            v = occ[yy, xx]
            if v >= 0 and kind[v] == CITIZEN and group[v] != g and state[v] != JAILED:
                buf[n] = v
                n += 1
        if n > 0:
            v = buf[int(rng.uniform(seed, t, i, KILL_PICK, 0) * n)]
            cell = ys[v] * width + xs[v]
            _remove(v, leave, occ, kind, group, state, ys, xs, cops_near, act_near, grp_near,
                    vdy, vdx, ethnic)
            out[O_BLUE_KILLED if group[v] == BLUE else O_GREEN_KILLED] += 1
            # The killer takes the victim's place, as in the Ascape code.
            _move(i, cell, occ, kind, group, state, ys, xs, cops_near, act_near, grp_near, vdy,
                  vdx, ethnic)
            moved = True
    if not moved and ipar[I_MOVEMENT] != 0:
        cell = _free_near(seed, t, i, MOVE, occ, ys[i], xs[i], vdy, vdx)
        if cell >= 0:
            _move(i, cell, occ, kind, group, state, ys, xs, cops_near, act_near, grp_near, vdy,
                  vdx, ethnic)
    if ethnic and rng.uniform(seed, t, i, FISSION, 0) < fpar[F_FISSION]:
        cell = _free_near(seed, t, i, BIRTH_CELL, occ, ys[i], xs[i], bdy, bdx)
        if cell >= 0:
            c = n_used
            kind[c] = CITIZEN
            group[c] = g
            state[c] = QUIET
            hardship[c] = hardship[i]
            risk[c] = risk[i]
            age[c] = 0
            jail[c] = 0
            arrest_p[c] = 0.0
            ys[c] = cell // width
            xs[c] = cell % width
            occ[ys[c], xs[c]] = c
            add_footprint(grp_near[g], ys[c], xs[c], vdy, vdx, 1)
            out[O_BIRTHS] += 1
            n_used += 1
    return n_used


@njit(cache=True)
def step_kernel(seed, t, ipar, fpar, n_used, occ, kind, group, state, ys, xs, jail, hardship,
                risk, age, arrest_p, cops_near, act_near, grp_near, vdy, vdx, cdy, cdx, bdy, bdx,
                order, buf, out):
    """One step: every agent alive at its start acts once, in a keyed random order.

    Arrays are updated in place; ``out`` receives the step's counters.  Slots from ``n_used`` on
    are free for newborns (the caller guarantees room for one per citizen).  Returns the new
    ``n_used``.
    """
    for j in range(N_OUT):
        out[j] = 0
    m = 0
    for i in range(n_used):
        if state[i] != DEAD:
            order[m] = i
            m += 1
    for j in range(m - 1, 0, -1):
        r = int(rng.uniform(seed, t, j, ORDER, 0) * (j + 1))
        tmp = order[j]
        order[j] = order[r]
        order[r] = tmp
    for j in range(m):
        i = order[j]
        if state[i] == DEAD:
            continue  # killed earlier in this step
        if kind[i] == COP:
            _cop_turn(seed, t, i, ipar, occ, kind, group, state, ys, xs, jail, cops_near,
                      act_near, grp_near, vdy, vdx, cdy, cdx, buf, out)
        else:
            n_used = _citizen_turn(seed, t, i, ipar, fpar, n_used, occ, kind, group, state, ys,
                                   xs, jail, hardship, risk, age, arrest_p, cops_near, act_near,
                                   grp_near, vdy, vdx, bdy, bdx, buf, out)
    _tally(n_used, kind, group, state, out)
    return n_used


@njit(cache=True)
def _tally(n_used, kind, group, state, out):
    for i in range(n_used):
        s = state[i]
        if s == DEAD:
            continue
        if kind[i] == COP:
            out[O_COPS] += 1
            continue
        if s == ACTIVE:
            out[O_ACTIVE] += 1
            out[O_BLUE_ACTIVE if group[i] == BLUE else O_GREEN_ACTIVE] += 1
        elif s == QUIET:
            out[O_QUIET] += 1
        else:
            out[O_JAILED] += 1
        out[O_BLUE if group[i] == BLUE else O_GREEN] += 1


@njit(cache=True)
def populate(seed, citizen_density, cop_density, two_groups, death_age, occ, kind, group, state,
             ys, xs, hardship, risk, age):
    """Fill the grid cell by cell as Mesa's example does: citizen, cop or empty.

    Returns the number of agents placed (slots 0 .. n-1, in cell order).
    """
    height, width = occ.shape
    n = 0
    for c in range(height * width):
        u = rng.uniform(seed, 0, c, PLACE, 0)
        if u >= citizen_density + cop_density:
            continue
        y = c // width
        x = c % width
        occ[y, x] = n
        ys[n] = y
        xs[n] = x
        state[n] = QUIET
        if u < citizen_density:
            kind[n] = CITIZEN
            hardship[n] = rng.uniform(seed, 0, n, HARDSHIP, 0)
            risk[n] = rng.uniform(seed, 0, n, RISK_AVERSION, 0)
            if two_groups:
                group[n] = BLUE if rng.uniform(seed, 0, n, GROUP, 0) < 0.5 else GREEN
                age[n] = int(rng.uniform(seed, 0, n, AGE, 0) * (death_age + 1))
        else:
            kind[n] = COP
        n += 1
    return n


@njit(cache=True)
def adjust_cops(seed, t, target, n_used, occ, kind, group, state, ys, xs, cops_near, act_near,
                grp_near, vdy, vdx, ethnic):
    """Withdraw random cops or post new ones on random empty cells until ``target`` serve.

    Returns the new ``n_used`` (posted cops take fresh slots; the caller leaves room).
    """
    width = occ.shape[1]
    n_cops = 0
    for i in range(n_used):
        if kind[i] == COP and state[i] != DEAD:
            n_cops += 1
    k = 0
    while n_cops > target:
        m = int(rng.uniform(seed, t, k, COP_ADJUST, 0) * n_cops)
        for i in range(n_used):
            if kind[i] == COP and state[i] != DEAD:
                if m == 0:
                    _remove(i, False, occ, kind, group, state, ys, xs, cops_near, act_near,
                            grp_near, vdy, vdx, ethnic)
                    break
                m -= 1
        n_cops -= 1
        k += 1
    while n_cops < target:
        cell = _free_anywhere(seed, t, n_used, COP_ADJUST, occ)
        if cell < 0:
            break
        kind[n_used] = COP
        state[n_used] = QUIET
        ys[n_used] = cell // width
        xs[n_used] = cell % width
        occ[ys[n_used], xs[n_used]] = n_used
        add_footprint(cops_near, ys[n_used], xs[n_used], vdy, vdx, 1)
        n_used += 1
        n_cops += 1
    return n_used


# --- the models ------------------------------------------------------------------------------

_ARRAYS = {"kind": np.int8, "group": np.int8, "state": np.int8, "ys": np.int64, "xs": np.int64,
           "jail": np.int64, "hardship": np.float64, "risk": np.float64, "age": np.int64,
           "arrest_p": np.float64, "order": np.int64}
_SCHEDULED = ("legitimacy", "cop_density", "blue_legitimacy", "green_legitimacy")


class _Epstein(mesa.Model):
    """What Model I and Model II share: arrays, fields, the step, schedules, counters."""

    _reporters: dict[str, str] = {}
    _ethnic = False

    def _build(self, *, width: int, height: int, citizen_density: float, cop_density: float,
               citizen_vision: float, cop_vision: float, max_jail_term: float,
               active_threshold: float, arrest_prob_constant: float, movement: bool,
               max_iters: int, seed: int | None, ratio: str, neighbourhood: str, jail: str,
               schedule: Sequence[Mapping[str, Any]] | None, legitimacies: tuple[float, float],
               fission_probability: float = 0.0, death_age: int = 0) -> None:
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
        self.width, self.height = int(width), int(height)
        self.movement = movement
        self.max_iters = max_iters
        self.ratio, self.neighbourhood, self.jail = ratio, neighbourhood, jail
        self.seed_key = int(seed) if seed is not None else int(self.rng.integers(2**62))
        self.cop_density = float(cop_density)
        self.legitimacies = [float(v) for v in legitimacies]
        self.active_threshold = float(active_threshold)
        self.arrest_prob_constant = float(arrest_prob_constant)
        self._schedule = _check_schedule(schedule, self._scheduled)
        self.t = 0
        jail_max = -1 if math.isinf(max_jail_term) else int(max_jail_term)
        self._ipar = np.array([int(bool(movement)), int(jail == "leave"), int(self._ethnic),
                               jail_max, int(death_age), RATIOS[ratio]], dtype=np.int64)
        self._fission = float(fission_probability)
        w, h = self.width, self.height
        self._vdy, self._vdx = offsets(citizen_vision, neighbourhood, w, h)
        self._cdy, self._cdx = offsets(cop_vision, neighbourhood, w, h)
        # Offspring go to an adjacent cell (Ascape's findRandomAvailableNeighbor).
        self._bdy, self._bdx = offsets(1, "moore", w, h)
        self._buf = np.zeros(max(len(self._vdy), len(self._cdy), 1), dtype=np.int64)
        self._out = np.zeros(N_OUT, dtype=np.int64)
        self.occ = np.full((h, w), -1, dtype=np.int64)
        self._a = {k: np.zeros(2 * w * h, dtype=d) for k, d in _ARRAYS.items()}
        a = self._a
        with quiet():
            self._n = populate(self.seed_key, citizen_density, cop_density, self._ethnic,
                               int(death_age), self.occ, a["kind"], a["group"], a["state"],
                               a["ys"], a["xs"], a["hardship"], a["risk"], a["age"])
        self._build_fields()
        self.series: dict[str, list[float]] = {}
        self._count()
        self.running = True
        self.datacollector = mesa.DataCollector(model_reporters=dict(self._reporters))
        self.datacollector.collect(self)

    _scheduled: tuple[str, ...] = ("legitimacy", "cop_density")

    def _build_fields(self) -> None:
        """Count fields from scratch: cops, actives, free citizens of each group, around each cell."""
        a = self._a
        cats = np.full(self.occ.shape, -1, dtype=np.int64)
        on = (self.occ >= 0)
        who = self.occ[on]
        live = a["state"][who]
        cop = a["kind"][who] == COP
        cats[on] = np.where(cop, 0, np.where(live == ACTIVE, 1, -1))
        with quiet():
            f = count_field(cats, 2, self._vdy, self._vdx)
        self.cops_near = np.ascontiguousarray(f[0])
        self.act_near = np.ascontiguousarray(f[1])
        cats[:] = -1
        free = on.copy()
        free[on] = (~cop) & (live != JAILED)
        cats[free] = a["group"][self.occ[free]]
        if self._ethnic:
            with quiet():
                self.grp_near = count_field(cats, 2, self._vdy, self._vdx)
        else:
            self.grp_near = np.zeros((2, self.height, self.width), dtype=np.int32)

    def fields_from_scratch(self) -> dict[str, np.ndarray]:
        """The count fields recomputed from the grid (to check those kept current by footprints)."""
        kept = (self.cops_near, self.act_near, self.grp_near)
        self._build_fields()
        fresh = {"cops_near": self.cops_near, "act_near": self.act_near,
                 "grp_near": self.grp_near}
        self.cops_near, self.act_near, self.grp_near = kept
        return fresh

    def _room(self, extra: int) -> None:
        """Make the agent arrays long enough for ``extra`` newcomers this step."""
        need = self._n + extra
        size = len(self._a["kind"])
        if need <= size:
            return
        grow = max(need, 2 * size)
        for k, v in self._a.items():
            self._a[k] = np.concatenate([v, np.zeros(grow - size, dtype=v.dtype)])

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
            a = self._a
            with quiet():
                self._n = adjust_cops(self.seed_key, self.t, target, self._n, self.occ,
                                      a["kind"], a["group"], a["state"], a["ys"], a["xs"],
                                      self.cops_near, self.act_near, self.grp_near, self._vdy,
                                      self._vdx, self._ethnic)
            return
        if name in ("legitimacy", "blue_legitimacy"):
            self.legitimacies[BLUE] = float(value)
        if name in ("legitimacy", "green_legitimacy"):
            self.legitimacies[GREEN] = float(value)

    @property
    def legitimacy(self) -> float:
        """Regime legitimacy L (Model II: the blue group's view of the green group)."""
        return self.legitimacies[BLUE]

    @legitimacy.setter
    def legitimacy(self, value: float) -> None:
        self.legitimacies[BLUE] = self.legitimacies[GREEN] = float(value)

    def step(self) -> None:
        """Advance the model by one step and collect data."""
        self.t += 1
        self._apply_schedule()
        self._room(self._n if self._ethnic else 0)
        a = self._a
        fpar = np.array([self.legitimacies[BLUE], self.legitimacies[GREEN],
                         self.active_threshold, self.arrest_prob_constant, self._fission])
        with quiet():
            self._n = step_kernel(self.seed_key, self.t, self._ipar, fpar, self._n, self.occ,
                                  a["kind"], a["group"], a["state"], a["ys"], a["xs"], a["jail"],
                                  a["hardship"], a["risk"], a["age"], a["arrest_p"],
                                  self.cops_near, self.act_near, self.grp_near, self._vdy,
                                  self._vdx, self._cdy, self._cdx, self._bdy, self._bdx,
                                  a["order"], self._buf, self._out)
        self._count(self._out)
        self.datacollector.collect(self)
        if self.t > self.max_iters:
            self.running = False

    def _count(self, out: np.ndarray | None = None) -> None:
        if out is None:
            out = np.zeros(N_OUT, dtype=np.int64)
            a = self._a
            _tally(self._n, a["kind"], a["group"], a["state"], out)
        self.ACTIVE, self.QUIET, self.ARRESTED = (int(out[O_ACTIVE]), int(out[O_QUIET]),
                                                  int(out[O_JAILED]))
        row = {"active": self.ACTIVE, "quiet": self.QUIET, "arrested": self.ARRESTED,
               "cops": int(out[O_COPS]), "activations": int(out[O_ACTIVATIONS]),
               "arrests": int(out[O_ARRESTS]), "legitimacy": self.legitimacy}
        if self._ethnic:
            self.BLUE, self.GREEN = int(out[O_BLUE]), int(out[O_GREEN])
            self.BLUE_ACTIVE = int(out[O_BLUE_ACTIVE])
            self.GREEN_ACTIVE = int(out[O_GREEN_ACTIVE])
            self.BLUE_KILLED = int(out[O_BLUE_KILLED])
            self.GREEN_KILLED = int(out[O_GREEN_KILLED])
            row |= {"blue": self.BLUE, "green": self.GREEN, "blue_active": self.BLUE_ACTIVE,
                    "green_active": self.GREEN_ACTIVE, "blue_killed": self.BLUE_KILLED,
                    "green_killed": self.GREEN_KILLED, "births": int(out[O_BIRTHS]),
                    "deaths": int(out[O_DEATHS])}
        for k, v in row.items():
            self.series.setdefault(k, []).append(v)

    def series_frame(self) -> pd.DataFrame:
        """Every per-step counter (a superset of the DataCollector's columns), one row a step."""
        return pd.DataFrame(self.series)

    def agent_frame(self) -> pd.DataFrame:
        """The agents as they are now, one row each (what Mesa's agent reporters would show)."""
        a, n = self._a, self._n
        live = a["state"][:n] != DEAD
        ids = np.flatnonzero(live)
        kind = np.where(a["kind"][ids] == COP, "cop", "citizen")
        names = np.array(["quiet", "active", "arrested", "dead"])[a["state"][ids]]
        frame = pd.DataFrame({
            "agent": ids, "type": kind, "x": a["xs"][ids], "y": a["ys"][ids],
            "state": np.where(kind == "cop", "", names),
            "jail_sentence": np.where(a["state"][ids] == JAILED, a["jail"][ids], 0),
            "arrest_probability": a["arrest_p"][ids],
            "hardship": a["hardship"][ids], "risk_aversion": a["risk"][ids]})
        if self._ethnic:
            frame["group"] = np.where(a["group"][ids] == BLUE, "blue", "green")
            frame["age"] = a["age"][ids]
        return frame.set_index("agent")


class EpsteinCivilViolence(_Epstein):
    """Epstein's Model I (citizens and cops), a drop-in replacement of Mesa's example.

    The first thirteen arguments are those of ``mesa.examples.advanced.epstein_civil_violence``
    with the same defaults; see that class for their meaning.  Visions are radii (integers for
    the von Neumann and Moore shapes; Euclidean radii may be fractional, e.g. 1.7).  A
    ``max_jail_term`` of ``math.inf`` jails for good.

    Keyword-only switches:
        ratio: how C/A enters P = 1 - exp(-k * ratio(C/A)): "round" (Python's ``round``, as
            Mesa's example), "floor" (NetLogo's Rebellion and the Ascape code's integer
            division) or "continuous" (the formula as printed in the paper).
        neighbourhood: "von_neumann" (Mesa's example), "moore" or "euclidean" (Ascape, NetLogo).
        jail: "stay" (Mesa's example: a jailed citizen keeps blocking its cell) or "leave" (the
            paper and Ascape: jailed citizens leave the lattice and come back to a free cell at
            or near where they were taken).
        schedule: changes during the run, each a mapping with ``parameter`` ("legitimacy" or
            "cop_density"), ``at`` (first step it applies to) and either ``value`` (a jump) or
            ``every``, ``change`` and ``until`` (a ramp: add ``change`` at steps at, at+every,
            ..., never past ``until``).
    """

    _reporters = {"active": "ACTIVE", "quiet": "QUIET", "arrested": "ARRESTED"}

    def __init__(self, width=40, height=40, citizen_density=0.7, cop_density=0.074,
                 citizen_vision=7, cop_vision=7, legitimacy=0.8, max_jail_term=1000,
                 active_threshold=0.1, arrest_prob_constant=2.3, movement=True, max_iters=1000,
                 seed=None, *, ratio: str = "round", neighbourhood: str = "von_neumann",
                 jail: str = "stay", schedule: Sequence[Mapping[str, Any]] | None = None):
        self._build(width=width, height=height, citizen_density=citizen_density,
                    cop_density=cop_density, citizen_vision=citizen_vision,
                    cop_vision=cop_vision, max_jail_term=max_jail_term,
                    active_threshold=active_threshold, arrest_prob_constant=arrest_prob_constant,
                    movement=movement, max_iters=max_iters, seed=seed, ratio=ratio,
                    neighbourhood=neighbourhood, jail=jail, schedule=schedule,
                    legitimacies=(legitimacy, legitimacy))


class EpsteinEthnicViolence(_Epstein):
    """Epstein's Model II: two ethnic groups (blue, green), inter-group killing, peacekeepers.

    Defaults are the paper's Model II runs 2 and 3 (legitimacy 0.8, no peacekeepers, vision 1.7
    on the Euclidean neighbourhood, jail terms up to 15, lifetimes of 200 steps, fission
    probability 0.05).  ``legitimacy`` is the legitimacy each group grants the other;
    ``blue_legitimacy`` / ``green_legitimacy`` set one group's view apart.  Other arguments and
    switches are those of :class:`EpsteinCivilViolence`; the schedule also takes
    "blue_legitimacy" and "green_legitimacy".
    """

    _reporters = {"active": "ACTIVE", "quiet": "QUIET", "arrested": "ARRESTED", "blue": "BLUE",
                  "green": "GREEN", "blue_active": "BLUE_ACTIVE",
                  "green_active": "GREEN_ACTIVE", "blue_killed": "BLUE_KILLED",
                  "green_killed": "GREEN_KILLED"}
    _ethnic = True
    _scheduled = _SCHEDULED

    def __init__(self, width=40, height=40, citizen_density=0.7, cop_density=0.0,
                 citizen_vision=1.7, cop_vision=1.7, legitimacy=0.8, max_jail_term=15,
                 active_threshold=0.1, arrest_prob_constant=2.3, movement=True, max_iters=1000,
                 seed=None, *, blue_legitimacy: float | None = None,
                 green_legitimacy: float | None = None, death_age: int = 200,
                 fission_probability: float = 0.05, ratio: str = "round",
                 neighbourhood: str = "euclidean", jail: str = "leave",
                 schedule: Sequence[Mapping[str, Any]] | None = None):
        blue = legitimacy if blue_legitimacy is None else blue_legitimacy
        green = legitimacy if green_legitimacy is None else green_legitimacy
        self._build(width=width, height=height, citizen_density=citizen_density,
                    cop_density=cop_density, citizen_vision=citizen_vision,
                    cop_vision=cop_vision, max_jail_term=max_jail_term,
                    active_threshold=active_threshold, arrest_prob_constant=arrest_prob_constant,
                    movement=movement, max_iters=max_iters, seed=seed, ratio=ratio,
                    neighbourhood=neighbourhood, jail=jail, schedule=schedule,
                    legitimacies=(blue, green), fission_probability=fission_probability,
                    death_age=death_age)


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
