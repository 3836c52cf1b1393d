"""The kernels a model calls: filling the grid, one step of every agent, counts, cops posted.

Agents act one after another in a keyed random order drawn afresh each step (random sequential
activation, as in Epstein's Ascape code and in Mesa's ``shuffle_do``), so each agent sees the
moves and arrests of those before it.  Every draw is a function of (seed, step, entity,
purpose, k) with the purposes of :mod:`sim.classics.epstein.layout`: ``sim.core.rng.uniform``,
or for the shuffle and the searches for a cell, made for every agent every step, a position of
the purpose's ``sim.core.rng`` stream.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim import kernel_cache
from sim.classics.epstein.lattice import free_anywhere, free_near, move, place, remove
from sim.classics.epstein.layout import (
    ACTIVE,
    ACTIVE_NEAR,
    AGE,
    AGE_DRAW,
    ARREST_P,
    BLUE,
    BLUE_NEAR,
    CITIZEN,
    COP,
    COP_ADJUST,
    COPS_NEAR,
    DEAD,
    F_FISSION,
    F_K,
    F_LEGIT_BLUE,
    F_TABLE,
    F_THRESHOLD,
    FISSION,
    GREEN,
    GREEN_NEAR,
    GROUP,
    GROUP_DRAW,
    HARDSHIP,
    HARDSHIP_COL,
    I_COP_MOVEMENT,
    I_DEATH_AGE,
    I_ETHNIC,
    I_LEAVE,
    I_MOVEMENT,
    I_RATIO,
    I_SAME_VISION,
    I_SEQUENTIAL,
    JAIL,
    JAILED,
    KIND,
    MOVE,
    N_OUT,
    O_ACTIVATIONS,
    O_ACTIVE,
    O_BLUE,
    O_BLUE_ACTIVE,
    O_COPS,
    O_DEATHS,
    O_GREEN,
    O_GREEN_ACTIVE,
    O_JAILED,
    O_QUIET,
    ORDER,
    PLACE,
    QUIET,
    RISK_AVERSION,
    RISK_COL,
    STATE,
    Reach,
    State,
    X,
    Y,
)
from sim.classics.epstein.rules import arrest, cop_ratio, fission, kill, release
from sim.classics.neighbourhood import add_footprint, count_at
from sim.core import rng


@njit(cache=kernel_cache.CACHE)
def _order_turns(key: np.uint64, sequential: bool, n_used: int, ag: np.ndarray,
                order: np.ndarray) -> int:
    """Write the slots of the living agents into ``order`` in the order they act this step:
    a keyed shuffle, or (``sequential``) slot order.  Returns their number."""
    m = 0
    for i in range(n_used):
        if ag[i, STATE] != DEAD:
            order[m] = i
            m += 1
    if not sequential:
        shuffle = rng.stream_key(key, ORDER)
        for j in range(m - 1, 0, -1):
            r = rng.below(rng.stream_bits(shuffle, j), 0, j + 1)
            tmp = order[j]
            order[j] = order[r]
            order[r] = tmp
    return m


@njit(cache=kernel_cache.CACHE)
def step_kernel(seed: int, t: int, ipar: np.ndarray, fpar: np.ndarray, n_used: int,
                state: tuple, reach: tuple, order: np.ndarray, buf: np.ndarray,
                out: np.ndarray) -> int:
    """One step: every agent alive at its start acts once, in a keyed random order.

    Cops follow rule C then M; citizens rule A (Model II: killing, ageing, fission) then M.
    Arrays are updated in place; ``order`` and ``buf`` are working space (room for every row of
    ``state.ag``, and for every cell in either vision) and ``out`` receives the step's counters.
    Slots from ``n_used`` on are free for newborns (the caller guarantees room for one per
    citizen).  Returns the new ``n_used``.

    The state and the neighbourhoods come as plain tuples in the order of their named
    tuples' fields, and the working arrays bare: numba types a named tuple field by field at
    every call, a few percent of a small model's step.
    """
    occ, ag, af, field = State(*state)
    rows, vis, cvis, adj = Reach(*reach)
    ethnic = ipar[I_ETHNIC] != 0
    leave = ipar[I_LEAVE] != 0
    movement = ipar[I_MOVEMENT] != 0
    key = rng.step_key(seed, t)
    moves = rng.stream_key(key, MOVE)
    for j in range(N_OUT):
        out[j] = 0
    m = _order_turns(key, ipar[I_SEQUENTIAL] != 0, n_used, ag, order)
    # The turns are fused into this one loop rather than split into per-agent helpers: they
    # run for every agent, and numba reference-counts every array handed to a call.
    for j in range(m):
        i = order[j]
        if ag[i, STATE] == DEAD:
            continue  # killed earlier in this step
        if ag[i, KIND] == COP:
            y = ag[i, Y]
            x = ag[i, X]
            # With the citizens' own vision the field already says whether anyone is active.
            if ipar[I_SAME_VISION] == 0 or count_at(field, ACTIVE_NEAR, y, x) > 0:
                arrest(key, i, ipar, occ, ag, field, rows, cvis, buf, out)
            if ipar[I_COP_MOVEMENT] != 0:
                yy, xx = free_near(moves, i, occ, y, x, cvis)
                if yy >= 0:
                    add_footprint(field, COPS_NEAR, y, x, rows, -1)
                    occ[y, x] = -1
                    place(i, yy, xx, occ, ag)
                    add_footprint(field, COPS_NEAR, yy, xx, rows, 1)
            continue
        if ethnic:
            ag[i, AGE] += 1
            if ag[i, AGE] > ipar[I_DEATH_AGE]:
                remove(i, leave, occ, ag, field, rows, ethnic)
                out[O_DEATHS] += 1
                continue
        if ag[i, STATE] == JAILED:
            if ag[i, JAIL] > 0:
                ag[i, JAIL] -= 1
                continue
            if leave and not release(key, i, occ, ag, vis):
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
            moved = kill(key, i, leave, occ, ag, field, rows, vis, buf, out)
        if movement and not moved:
            yy, xx = free_near(moves, i, occ, y, x, vis)
            if yy >= 0:
                if ethnic or rebel:
                    move(i, yy, xx, occ, ag, field, rows, ethnic)
                else:  # a quiet citizen of Model I counts in no field
                    occ[y, x] = -1
                    place(i, yy, xx, occ, ag)
        if ethnic and rng.uniform_keyed(key, i, FISSION, 0) < fpar[F_FISSION]:
            n_used = fission(key, i, n_used, occ, ag, af, field, rows, adj, out)
    tally(n_used, ag, out)
    return n_used


@njit(cache=kernel_cache.CACHE)
def tally(n_used: int, ag: np.ndarray, out: np.ndarray) -> None:
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


@njit(cache=kernel_cache.CACHE)
def populate(seed: int, citizen_density: float, cop_density: float, two_groups: bool,
             death_age: int, occ: np.ndarray, ag: np.ndarray, af: np.ndarray) -> int:
    """Fill the grid cell by cell as Mesa's example does: citizen, cop or empty.

    Returns the number of agents placed (slots 0 .. n-1, in cell order).
    """
    height, width = occ.shape
    n = 0
    for c in range(height * width):
        u = rng.uniform(seed, 0, c, PLACE, 0)
        if u >= citizen_density + cop_density:
            continue
        place(n, c // width, c % width, occ, ag)
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


@njit(cache=kernel_cache.CACHE)
def adjust_cops(seed: int, t: int, target: int, n_used: int, state: tuple, rows: np.ndarray,
                ethnic: bool) -> int:
    """Withdraw random cops or post new ones on random empty cells until ``target`` serve.

    Returns the new ``n_used`` (posted cops take fresh slots; the caller leaves room).
    ``state`` is a plain tuple, as for :func:`step_kernel`.
    """
    state = State(*state)
    occ, ag, field = state.occ, state.ag, state.field
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
                    remove(i, False, occ, ag, field, rows, ethnic)
                    break
                m -= 1
        n_cops -= 1
        k += 1
    while n_cops < target:
        cell = free_anywhere(key, n_used, COP_ADJUST, occ)
        if cell < 0:
            break
        for r in range(ag.shape[1]):
            ag[n_used, r] = 0
        ag[n_used, KIND] = COP
        ag[n_used, STATE] = QUIET
        place(n_used, cell // width, cell % width, occ, ag)
        add_footprint(field, COPS_NEAR, ag[n_used, Y], ag[n_used, X], rows, 1)
        n_used += 1
        n_cops += 1
    return n_used
