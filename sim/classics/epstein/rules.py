"""The rules an agent's turn calls on: the ratio C / A, arrest, release, killing and fission.

Each takes just the arrays it touches, as those of :mod:`sim.classics.epstein.lattice` do.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim import kernel_cache
from sim.classics.epstein.lattice import (
    footprints,
    free_anywhere,
    free_near,
    move,
    near,
    place,
    remove,
)
from sim.classics.epstein.layout import (
    ACTIVE,
    ARREST_P,
    ARREST_PICK,
    BIRTH_CELL,
    BLUE,
    BLUE_NEAR,
    CITIZEN,
    FOREVER,
    GROUP,
    HARDSHIP_COL,
    I_ETHNIC,
    I_JAIL_MAX,
    I_LEAVE,
    JAIL,
    JAIL_TERM,
    JAILED,
    KILL_PICK,
    KIND,
    O_ARRESTS,
    O_BIRTHS,
    O_BLUE_KILLED,
    O_GREEN_KILLED,
    QUIET,
    RELEASE,
    RISK_COL,
    STATE,
    X,
    Y,
)
from sim.classics.neighbourhood import add_footprint
from sim.core import rng


@njit(cache=kernel_cache.CACHE)
def round_half_even(v: float) -> float:
    """Python's ``round`` of a non-negative float: halves go to the even integer."""
    f = math.floor(v)
    d = v - f
    if d > 0.5 or (d == 0.5 and f % 2.0 == 1.0):
        return f + 1.0
    return f


@njit(cache=kernel_cache.CACHE)
def cop_ratio(c: int, a: int, ratio: int) -> float:
    """C / A as it enters P = 1 - exp(-k * ratio(C / A)), for C cops and A actives (the agent
    included) in vision; ``ratio`` is a value of :data:`~sim.classics.epstein.layout.RATIOS`:
    0 continuous, 1 floor, 2 round (half to even)."""
    if ratio == 0:
        return c / a
    if ratio == 1:
        return math.floor(c / a)  # exact for counts: c / a is never rounded across an integer
    return round_half_even(c / a)


@njit(cache=kernel_cache.CACHE)
def arrest(key: np.uint64, i: int, ipar: np.ndarray, occ: np.ndarray, ag: np.ndarray,
           field: np.ndarray, rows: np.ndarray, cvis: np.ndarray, buf: np.ndarray,
           out: np.ndarray) -> None:
    """Cop rule C: cop i arrests one random active citizen within its vision, if any."""
    height, width = occ.shape
    ethnic = ipar[I_ETHNIC] != 0
    y = ag[i, Y]
    x = ag[i, X]
    n = 0
    for j in range(cvis.shape[1]):
        yy, xx = near(y, x, cvis, j, height, width)
        a = occ[yy, xx]
        if a >= 0 and ag[a, STATE] == ACTIVE and ag[a, KIND] == CITIZEN:
            buf[n] = a
            n += 1
    if n > 0:
        a = buf[int(rng.uniform_keyed(key, i, ARREST_PICK, 0) * n)]
        footprints(a, -1, ag, field, rows, ethnic)
        ag[a, STATE] = JAILED
        jail_max = ipar[I_JAIL_MAX]
        if jail_max < 0:
            ag[a, JAIL] = FOREVER
        else:
            ag[a, JAIL] = int(rng.uniform_keyed(key, a, JAIL_TERM, 0) * (jail_max + 1))
        if ipar[I_LEAVE] != 0:
            occ[ag[a, Y], ag[a, X]] = -1
        out[O_ARRESTS] += 1


@njit(cache=kernel_cache.CACHE)
def release(key: np.uint64, i: int, occ: np.ndarray, ag: np.ndarray, vis: np.ndarray) -> bool:
    """Put a citizen leaving jail back on the lattice: where it was taken if that cell is free,
    else near it, else anywhere.  False if the lattice is full."""
    width = occ.shape[1]
    y = ag[i, Y]
    x = ag[i, X]
    if occ[y, x] >= 0:
        y, x = free_near(rng.stream_key(key, RELEASE), i, occ, y, x, vis)
    if y < 0:
        cell = free_anywhere(key, i, RELEASE, occ)
        if cell < 0:
            return False
        y, x = cell // width, cell % width
    place(i, y, x, occ, ag)
    return True


@njit(cache=kernel_cache.CACHE)
def kill(key: np.uint64, i: int, leave: bool, occ: np.ndarray, ag: np.ndarray,
         field: np.ndarray, rows: np.ndarray, vis: np.ndarray, buf: np.ndarray,
         out: np.ndarray) -> bool:
    """Model II: an active citizen kills a random citizen of the other group within vision and
    takes its cell (the Ascape code's move).  True if it killed."""
    height, width = occ.shape
    y = ag[i, Y]
    x = ag[i, X]
    g = ag[i, GROUP]
    n = 0
    for j in range(vis.shape[1]):
        yy, xx = near(y, x, vis, j, height, width)
        v = occ[yy, xx]
        if v >= 0 and ag[v, KIND] == CITIZEN and ag[v, GROUP] != g and ag[v, STATE] != JAILED:
            buf[n] = v
            n += 1
    if n == 0:
        return False
    v = buf[int(rng.uniform_keyed(key, i, KILL_PICK, 0) * n)]
    remove(v, leave, occ, ag, field, rows, True)
    out[O_BLUE_KILLED if ag[v, GROUP] == BLUE else O_GREEN_KILLED] += 1
    move(i, ag[v, Y], ag[v, X], occ, ag, field, rows, True)
    return True


@njit(cache=kernel_cache.CACHE)
def fission(key: np.uint64, i: int, n_used: int, occ: np.ndarray, ag: np.ndarray,
            af: np.ndarray, field: np.ndarray, rows: np.ndarray, adj: np.ndarray,
            out: np.ndarray) -> int:
    """Model II: a child (same group, hardship, risk aversion) on a free adjacent cell.
    Returns the new ``n_used``."""
    y, x = free_near(rng.stream_key(key, BIRTH_CELL), i, occ, ag[i, Y], ag[i, X], adj)
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
    place(c, y, x, occ, ag)
    add_footprint(field, BLUE_NEAR + ag[c, GROUP], ag[c, Y], ag[c, X], rows, 1)
    out[O_BIRTHS] += 1
    return n_used + 1
