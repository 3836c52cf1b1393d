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
from numba import njit

from sim.classics.neighbourhood import (
    SHAPES,
    add_footprint,
    count_at,
    count_field,
    fold,
    kept_field,
    offsets,
    spans,
)
from sim.core import rng
from sim.kernels import quiet

# Purposes of draws: this module's own, kept apart from sim.core.rng's (1-20).
PLACE = 100
HARDSHIP = 101
RISK_AVERSION = 102
ORDER = 103
ARREST_PICK = 104
JAIL_TERM = 105
MOVE = 106
RELEASE = 107
KILL_PICK = 108
GROUP_DRAW = 109
AGE_DRAW = 110
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
# Mesa's names: "Random" is its shuffle_do (and Epstein's random sequential activation),
# "Sequential" its do, in the order the agents were created (cell by cell).
ACTIVATION_ORDERS = ("Random", "Sequential")
# An unbounded jail term (the paper's J_max = infinity) as a count that never runs out.
FOREVER = 1 << 62

# Slots of the integer and float parameter vectors handed to the kernel.
(I_MOVEMENT, I_COP_MOVEMENT, I_LEAVE, I_ETHNIC, I_JAIL_MAX, I_DEATH_AGE, I_RATIO,
 I_SAME_VISION, I_SEQUENTIAL) = range(9)
# F_TABLE on: P = 1 - exp(-k r) for r = 0, 1, ... up to the cells in vision.
F_LEGIT_BLUE, F_LEGIT_GREEN, F_THRESHOLD, F_K, F_FISSION, F_TABLE = range(6)
# Slots of the per-step counters the kernel returns.
(O_ACTIVE, O_QUIET, O_JAILED, O_COPS, O_ACTIVATIONS, O_ARRESTS, O_BLUE, O_GREEN, O_BLUE_ACTIVE,
 O_GREEN_ACTIVE, O_BLUE_KILLED, O_GREEN_KILLED, O_BIRTHS, O_DEATHS) = range(14)
N_OUT = 14

_TRIES = 32
# Stream positions an entity may use in one search: _TRIES / 2 draws of two tries, then one.
_STREAM_STRIDE = 32
# np.errstate costs 2 us a step; only plain Python (NUMBA_DISABLE_JIT) wraps uint64 with warnings.
_GUARD = quiet if numba.config.DISABLE_JIT else contextlib.nullcontext

# Columns of the agent tables: one int64 table and one float64 table, one row per agent slot.
# Two tables rather than ten arrays because numba reference-counts every array argument of
# every call, and the per-agent calls below would pay that dozens of times per agent; a row per
# agent because agents act in random order and a row keeps one agent's numbers together.
KIND, GROUP, STATE, Y, X, JAIL, AGE = range(7)
HARDSHIP_COL, RISK_COL, ARREST_P = range(3)
# Layers of the count field: what a citizen standing on a cell sees within its vision.
COPS_NEAR, ACTIVE_NEAR, BLUE_NEAR, GREEN_NEAR = range(4)


@njit(cache=True)
def round_half_even(v):
    """Python's ``round`` of a non-negative float: halves go to the even integer."""
    f = math.floor(v)
    d = v - f
    if d > 0.5 or (d == 0.5 and f % 2.0 == 1.0):
        return f + 1.0
    return f


@njit(cache=True)
def cop_ratio(c, a, ratio):
    """C / A as it enters P = 1 - exp(-k * ratio(C / A)), for C cops and A actives (the agent
    included) in vision; ``ratio`` is a value of :data:`RATIOS`: 0 continuous, 1 floor, 2 round
    (half to even)."""
    if ratio == 0:
        return c / a
    if ratio == 1:
        return math.floor(c / a)  # exact for counts: c / a is never rounded across an integer
    return round_half_even(c / a)


@njit(cache=True, inline="always")
def _near(y, x, off, j, height, width):
    """The cell at offset j of ``off`` from (y, x) on the torus.  Offsets are wrapped (within
    the grid), so one subtraction brings a coordinate back."""
    yy = y + off[0, j]
    xx = x + off[1, j]
    return yy - height if yy >= height else yy, xx - width if xx >= width else xx


@njit(cache=True, inline="always")
def _free_near(stream, entity, occ, y, x, off):
    """A uniformly chosen empty cell among (y, x) + offsets, as (row, column); (-1, -1) if none
    (a pair: a flat index would cost an integer division to take apart, in the hot loop).

    A few tries first (the grid is mostly a quarter empty), then a full enumeration: each
    branch picks uniformly among the empty cells, so the mix does too.  The draws are positions
    ``entity * 32 + k`` of the purpose's ``stream`` (:func:`sim.core.rng.stream_key`), each giving
    two tries (:func:`sim.core.rng.below` on its halves, bias below n / 2^32): no try waits on
    another's draw, so the processor runs them ahead of the test that ends the search.
    """
    height, width = occ.shape
    n = off.shape[1]
    if n == 0:
        return -1, -1
    first = np.uint64(entity) * np.uint64(_STREAM_STRIDE)
    for k in range(_TRIES // 2):
        bits = rng.stream_bits(stream, first + np.uint64(k))
        for half in range(2):
            yy, xx = _near(y, x, off, rng.below(bits, half, n), height, width)
            # Unsigned indices spare numba's test for negative indices (this is the hot loop).
            if occ[np.uint64(yy), np.uint64(xx)] < 0:
                return yy, xx
    empty = 0
    for j in range(n):
        yy, xx = _near(y, x, off, j, height, width)
        if occ[yy, xx] < 0:
            empty += 1
    if empty == 0:
        return -1, -1
    m = rng.below(rng.stream_bits(stream, first + np.uint64(_TRIES // 2)), 0, empty)
    for j in range(n):
        yy, xx = _near(y, x, off, j, height, width)
        if occ[yy, xx] < 0:
            if m == 0:
                return yy, xx
            m -= 1
    return -1, -1


@njit(cache=True)
def _free_anywhere(key, entity, purpose, occ):
    """A uniformly chosen empty cell of the whole grid, as a flat index; -1 if the grid is full."""
    height, width = occ.shape
    n = height * width
    for k in range(4 * _TRIES):
        c = int(rng.uniform_keyed(key, entity, purpose, k) * n)
        if occ[c // width, c % width] < 0:
            return c
    empty = 0
    for c in range(n):
        if occ[c // width, c % width] < 0:
            empty += 1
    if empty == 0:
        return -1
    m = int(rng.uniform_keyed(key, entity, purpose, 4 * _TRIES) * empty)
    for c in range(n):
        if occ[c // width, c % width] < 0:
            if m == 0:
                return c
            m -= 1
    return -1


@njit(cache=True)
def _footprints(i, delta, ag, field, rows, ethnic):
    """Add or remove what agent i contributes to the count field at its cell."""
    y = ag[i, Y]
    x = ag[i, X]
    if ag[i, KIND] == COP:
        add_footprint(field, COPS_NEAR, y, x, rows, delta)
        return
    if ag[i, STATE] == ACTIVE:
        add_footprint(field, ACTIVE_NEAR, y, x, rows, delta)
    if ethnic and ag[i, STATE] != JAILED:
        add_footprint(field, BLUE_NEAR + ag[i, GROUP], y, x, rows, delta)


@njit(cache=True)
def _place(i, y, x, occ, ag):
    ag[i, Y] = y
    ag[i, X] = x
    occ[y, x] = i


@njit(cache=True)
def _move(i, y, x, occ, ag, field, rows, ethnic):
    """Move agent i to the empty cell (y, x), keeping the field current."""
    _footprints(i, -1, ag, field, rows, ethnic)
    occ[ag[i, Y], ag[i, X]] = -1
    _place(i, y, x, occ, ag)
    _footprints(i, 1, ag, field, rows, ethnic)


@njit(cache=True)
def _remove(i, leave, occ, ag, field, rows, ethnic):
    """Take agent i out of the model for good (killed, died of age, cop withdrawn)."""
    if ag[i, KIND] == COP or ag[i, STATE] != JAILED or not leave:
        _footprints(i, -1, ag, field, rows, ethnic)
        occ[ag[i, Y], ag[i, X]] = -1
    ag[i, STATE] = DEAD


@njit(cache=True)
def _arrest(key, i, ipar, occ, ag, field, rows, cvis, buf, out):
    """Cop rule C: cop i arrests one random active citizen within its vision, if any."""
    height, width = occ.shape
    ethnic = ipar[I_ETHNIC] != 0
    y = ag[i, Y]
    x = ag[i, X]
    n = 0
    for j in range(cvis.shape[1]):
        yy, xx = _near(y, x, cvis, j, height, width)
        a = occ[yy, xx]
        if a >= 0 and ag[a, STATE] == ACTIVE and ag[a, KIND] == CITIZEN:
            buf[n] = a
            n += 1
    if n > 0:
        a = buf[int(rng.uniform_keyed(key, i, ARREST_PICK, 0) * n)]
        _footprints(a, -1, ag, field, rows, ethnic)
        ag[a, STATE] = JAILED
        jail_max = ipar[I_JAIL_MAX]
        if jail_max < 0:
            ag[a, JAIL] = FOREVER
        else:
            ag[a, JAIL] = int(rng.uniform_keyed(key, a, JAIL_TERM, 0) * (jail_max + 1))
        if ipar[I_LEAVE] != 0:
            occ[ag[a, Y], ag[a, X]] = -1
        out[O_ARRESTS] += 1


@njit(cache=True)
def _release(key, i, occ, ag, vis):
    """Put a citizen leaving jail back on the lattice: where it was taken if that cell is free,
    else near it, else anywhere.  False if the lattice is full."""
    width = occ.shape[1]
    y = ag[i, Y]
    x = ag[i, X]
    if occ[y, x] >= 0:
        y, x = _free_near(rng.stream_key(key, RELEASE), i, occ, y, x, vis)
    if y < 0:
        cell = _free_anywhere(key, i, RELEASE, occ)
        if cell < 0:
            return False
        y, x = cell // width, cell % width
    _place(i, y, x, occ, ag)
    return True


@njit(cache=True)
def _kill(key, i, leave, occ, ag, field, rows, vis, buf, out):
    """Model II: an active citizen kills a random citizen of the other group within vision and
    takes its cell (the Ascape code's move).  True if it killed."""
    height, width = occ.shape
    y = ag[i, Y]
    x = ag[i, X]
    g = ag[i, GROUP]
    n = 0
    for j in range(vis.shape[1]):
        yy, xx = _near(y, x, vis, j, height, width)
        v = occ[yy, xx]
        if v >= 0 and ag[v, KIND] == CITIZEN and ag[v, GROUP] != g and ag[v, STATE] != JAILED:
            buf[n] = v
            n += 1
    if n == 0:
        return False
    v = buf[int(rng.uniform_keyed(key, i, KILL_PICK, 0) * n)]
    _remove(v, leave, occ, ag, field, rows, True)
    out[O_BLUE_KILLED if ag[v, GROUP] == BLUE else O_GREEN_KILLED] += 1
    _move(i, ag[v, Y], ag[v, X], occ, ag, field, rows, True)
    return True


@njit(cache=True)
def _fission(key, i, n_used, occ, ag, af, field, rows, adj, out):
    """Model II: a child (same group, hardship, risk aversion) on a free adjacent cell.
    Returns the new ``n_used``."""
    y, x = _free_near(rng.stream_key(key, BIRTH_CELL), i, occ, ag[i, Y], ag[i, X], adj)
    if y < 0:
        return n_used
    c = n_used
    for r in range(ag.shape[1]):
        ag[c, r] = 0
    ag[c, KIND] = CITIZEN
    ag[c, GROUP] = ag[i, GROUP]
    ag[c, STATE] = QUIET
    af[c, HARDSHIP_COL] = af[i, HARDSHIP_COL]
    af[c, RISK_COL] = af[i, RISK_COL]
    af[c, ARREST_P] = 0.0
    _place(c, y, x, occ, ag)
    add_footprint(field, BLUE_NEAR + ag[c, GROUP], ag[c, Y], ag[c, X], rows, 1)
    out[O_BIRTHS] += 1
    return n_used + 1


@njit(cache=True)
def step_kernel(seed, t, ipar, fpar, n_used, occ, ag, af, field, rows, vis, cvis, adj, order,
                buf, out):
    """One step: every agent alive at its start acts once, in a keyed random order.

    Cops follow rule C then M; citizens rule A (Model II: killing, ageing, fission) then M.
    Arrays are updated in place; ``out`` receives the step's counters.  Slots from ``n_used`` on
    are free for newborns (the caller guarantees room for one per citizen).  Returns the new
    ``n_used``.

    The turns are written out here rather than in helpers because they run for every agent and
    numba reference-counts every array handed to a call.
    """
    ethnic = ipar[I_ETHNIC] != 0
    leave = ipar[I_LEAVE] != 0
    movement = ipar[I_MOVEMENT] != 0
    key = rng.step_key(seed, t)
    moves = rng.stream_key(key, MOVE)
    for j in range(N_OUT):
        out[j] = 0
    m = 0
    for i in range(n_used):
        if ag[i, STATE] != DEAD:
            order[m] = i
            m += 1
    if ipar[I_SEQUENTIAL] == 0:
        shuffle = rng.stream_key(key, ORDER)
        for j in range(m - 1, 0, -1):
            r = rng.below(rng.stream_bits(shuffle, j), 0, j + 1)
            tmp = order[j]
            order[j] = order[r]
            order[r] = tmp
    for j in range(m):
        i = order[j]
        if ag[i, STATE] == DEAD:
            continue  # killed earlier in this step
        if ag[i, KIND] == COP:
            y = ag[i, Y]
            x = ag[i, X]
            # With the citizens' own vision the field already says whether anyone is active.
            if ipar[I_SAME_VISION] == 0 or count_at(field, ACTIVE_NEAR, y, x) > 0:
                _arrest(key, i, ipar, occ, ag, field, rows, cvis, buf, out)
            if ipar[I_COP_MOVEMENT] != 0:
                yy, xx = _free_near(moves, i, occ, y, x, cvis)
                if yy >= 0:
                    add_footprint(field, COPS_NEAR, y, x, rows, -1)
                    occ[y, x] = -1
                    _place(i, yy, xx, occ, ag)
                    add_footprint(field, COPS_NEAR, yy, xx, rows, 1)
            continue
        if ethnic:
            ag[i, AGE] += 1
            if ag[i, AGE] > ipar[I_DEATH_AGE]:
                _remove(i, leave, occ, ag, field, rows, ethnic)
                out[O_DEATHS] += 1
                continue
        if ag[i, STATE] == JAILED:
            if ag[i, JAIL] > 0:
                ag[i, JAIL] -= 1
                continue
            if leave and not _release(key, i, occ, ag, vis):
                continue
            ag[i, STATE] = QUIET
            if ethnic:
                add_footprint(field, BLUE_NEAR + ag[i, GROUP], ag[i, Y], ag[i, X], rows, 1)
        y = ag[i, Y]
        x = ag[i, X]
        g = ag[i, GROUP]
        was_active = ag[i, STATE] == ACTIVE
        # The field counts the closed neighbourhood: take this citizen out of the actives, then
        # count it back in as Epstein's A does.
        actives = count_at(field, ACTIVE_NEAR, y, x) - (1 if was_active else 0)
        r = cop_ratio(count_at(field, COPS_NEAR, y, x), 1 + actives, ipar[I_RATIO])
        # Whole ratios (floor, round) read P from a table: exp is a tenth of a citizen's turn.
        p = 1.0 - math.exp(-fpar[F_K] * r) if ipar[I_RATIO] == 0 else fpar[F_TABLE + int(r)]
        af[i, ARREST_P] = p
        rebel = (af[i, HARDSHIP_COL] * (1.0 - fpar[F_LEGIT_BLUE + g]) - af[i, RISK_COL] * p
                 > fpar[F_THRESHOLD])
        if ethnic and rebel and count_at(field, GREEN_NEAR - g, y, x) == 0:
            rebel = False  # nobody of the other group in sight: nothing to act on
        if rebel and not was_active:
            ag[i, STATE] = ACTIVE
            add_footprint(field, ACTIVE_NEAR, y, x, rows, 1)
            out[O_ACTIVATIONS] += 1
        elif was_active and not rebel:
            ag[i, STATE] = QUIET
            add_footprint(field, ACTIVE_NEAR, y, x, rows, -1)
        moved = False
        if ethnic and rebel:
            moved = _kill(key, i, leave, occ, ag, field, rows, vis, buf, out)
        if movement and not moved:
            yy, xx = _free_near(moves, i, occ, y, x, vis)
            if yy >= 0:
                if ethnic or rebel:
                    _move(i, yy, xx, occ, ag, field, rows, ethnic)
                else:  # a quiet citizen of Model I counts in no field
                    occ[y, x] = -1
                    _place(i, yy, xx, occ, ag)
        if ethnic and rng.uniform_keyed(key, i, FISSION, 0) < fpar[F_FISSION]:
            n_used = _fission(key, i, n_used, occ, ag, af, field, rows, adj, out)
    tally(n_used, ag, out)
    return n_used


@njit(cache=True)
def tally(n_used, ag, out):
    """Add the counts of agents by kind, state and group to ``out``."""
    for i in range(n_used):
        s = ag[i, STATE]
        if s == DEAD:
            continue
        if ag[i, KIND] == COP:
            out[O_COPS] += 1
            continue
        blue = ag[i, GROUP] == BLUE
        if s == ACTIVE:
            out[O_ACTIVE] += 1
            out[O_BLUE_ACTIVE if blue else O_GREEN_ACTIVE] += 1
        elif s == QUIET:
            out[O_QUIET] += 1
        else:
            out[O_JAILED] += 1
        out[O_BLUE if blue else O_GREEN] += 1


@njit(cache=True)
def populate(seed, citizen_density, cop_density, two_groups, death_age, occ, ag, af):
    """Fill the grid cell by cell as Mesa's example does: citizen, cop or empty.

    Returns the number of agents placed (slots 0 .. n-1, in cell order).
    """
    height, width = occ.shape
    n = 0
    for c in range(height * width):
        u = rng.uniform(seed, 0, c, PLACE, 0)
        if u >= citizen_density + cop_density:
            continue
        _place(n, c // width, c % width, occ, ag)
        ag[n, STATE] = QUIET
        if u < citizen_density:
            ag[n, KIND] = CITIZEN
            af[n, HARDSHIP_COL] = rng.uniform(seed, 0, n, HARDSHIP, 0)
            af[n, RISK_COL] = rng.uniform(seed, 0, n, RISK_AVERSION, 0)
            if two_groups:
                ag[n, GROUP] = BLUE if rng.uniform(seed, 0, n, GROUP_DRAW, 0) < 0.5 else GREEN
                ag[n, AGE] = int(rng.uniform(seed, 0, n, AGE_DRAW, 0) * (death_age + 1))
        else:
            ag[n, KIND] = COP
        n += 1
    return n


@njit(cache=True)
def adjust_cops(seed, t, target, n_used, occ, ag, field, rows, ethnic):
    """Withdraw random cops or post new ones on random empty cells until ``target`` serve.

    Returns the new ``n_used`` (posted cops take fresh slots; the caller leaves room).
    """
    key = rng.step_key(seed, t)
    width = occ.shape[1]
    n_cops = 0
    for i in range(n_used):
        if ag[i, KIND] == COP and ag[i, STATE] != DEAD:
            n_cops += 1
    k = 0
    while n_cops > target:
        m = int(rng.uniform_keyed(key, k, COP_ADJUST, 0) * n_cops)
        for i in range(n_used):
            if ag[i, KIND] == COP and ag[i, STATE] != DEAD:
                if m == 0:
                    _remove(i, False, occ, ag, field, rows, ethnic)
                    break
                m -= 1
        n_cops -= 1
        k += 1
    while n_cops < target:
        cell = _free_anywhere(key, n_used, COP_ADJUST, occ)
        if cell < 0:
            break
        for r in range(ag.shape[1]):
            ag[n_used, r] = 0
        ag[n_used, KIND] = COP
        ag[n_used, STATE] = QUIET
        _place(n_used, cell // width, cell % width, occ, ag)
        add_footprint(field, COPS_NEAR, ag[n_used, Y], ag[n_used, X], rows, 1)
        n_used += 1
        n_cops += 1
    return n_used


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
                self._n = adjust_cops(self.seed_key, self.t, target, self._n, self.occ,
                                      self._ag, self._field, self._rows, self._ethnic)
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
            self._n = step_kernel(self.seed_key, self.t, self._ipar, self._fpar, self._n, self.occ,
                                  self._ag, self._af, self._field, self._rows, self._vis,
                                  self._cvis, self._adj, self._order, self._buf, self._out)
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

