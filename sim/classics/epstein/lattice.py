"""The lattice: finding cells, placing and moving agents, keeping the count field current.

Every function here runs inside the step for many agents, so each takes just the arrays it
touches: numba reference-counts every array handed to a call.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim import kernel_cache
from sim.classics.epstein.layout import (
    ACTIVE,
    ACTIVE_NEAR,
    BLUE_NEAR,
    COP,
    COPS_NEAR,
    DEAD,
    GROUP,
    JAILED,
    KIND,
    STATE,
    X,
    Y,
)
from sim.classics.neighbourhood import add_footprint
from sim.core import rng

_TRIES = 32
# Stream positions an entity may use in one search: _TRIES / 2 draws of two tries, then one.
_STREAM_STRIDE = 32


@njit(cache=kernel_cache.CACHE, inline="always")
def near(y: int, x: int, off: np.ndarray, j: int, height: int, width: int) -> tuple[int, int]:
    """The cell at offset j of ``off`` from (y, x) on the torus.  Offsets are wrapped (within
    the grid), so one subtraction brings a coordinate back."""
    yy = y + off[0, j]
    xx = x + off[1, j]
    return yy - height if yy >= height else yy, xx - width if xx >= width else xx


@njit(cache=kernel_cache.CACHE, inline="always")
def free_near(stream: np.uint64, entity: int, occ: np.ndarray, y: int, x: int,
              off: np.ndarray) -> tuple[int, int]:
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
            yy, xx = near(y, x, off, rng.below(bits, half, n), height, width)
            # Unsigned indices spare numba's test for negative indices (this is the hot loop).
            if occ[np.uint64(yy), np.uint64(xx)] < 0:
                return yy, xx
    empty = 0
    for j in range(n):
        yy, xx = near(y, x, off, j, height, width)
        if occ[yy, xx] < 0:
            empty += 1
    if empty == 0:
        return -1, -1
    m = rng.below(rng.stream_bits(stream, first + np.uint64(_TRIES // 2)), 0, empty)
    for j in range(n):
        yy, xx = near(y, x, off, j, height, width)
        if occ[yy, xx] < 0:
            if m == 0:
                return yy, xx
            m -= 1
    return -1, -1


@njit(cache=kernel_cache.CACHE)
def free_anywhere(key: np.uint64, entity: int, purpose: int, occ: np.ndarray) -> int:
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


@njit(cache=kernel_cache.CACHE)
def footprints(i: int, delta: int, ag: np.ndarray, field: np.ndarray, rows: np.ndarray,
               ethnic: bool) -> None:
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


@njit(cache=kernel_cache.CACHE)
def place(i: int, y: int, x: int, occ: np.ndarray, ag: np.ndarray) -> None:
    """Put agent i on cell (y, x), which the caller has found empty (the field is not
    touched)."""
    ag[i, Y] = y
    ag[i, X] = x
    occ[y, x] = i


@njit(cache=kernel_cache.CACHE)
def move(i: int, y: int, x: int, occ: np.ndarray, ag: np.ndarray, field: np.ndarray,
         rows: np.ndarray, ethnic: bool) -> None:
    """Move agent i to the empty cell (y, x), keeping the field current."""
    footprints(i, -1, ag, field, rows, ethnic)
    occ[ag[i, Y], ag[i, X]] = -1
    place(i, y, x, occ, ag)
    footprints(i, 1, ag, field, rows, ethnic)


@njit(cache=kernel_cache.CACHE)
def remove(i: int, leave: bool, occ: np.ndarray, ag: np.ndarray, field: np.ndarray,
           rows: np.ndarray, ethnic: bool) -> None:
    """Take agent i out of the model for good (killed, died of age, cop withdrawn)."""
    if ag[i, KIND] == COP or ag[i, STATE] != JAILED or not leave:
        footprints(i, -1, ag, field, rows, ethnic)
        occ[ag[i, Y], ag[i, X]] = -1
    ag[i, STATE] = DEAD
