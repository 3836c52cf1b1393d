"""Neighbourhoods on a torus: offsets, row spans, and count fields kept up to date.

A grid model asks one question over and over: how many agents of each kind lie within radius r
of this cell?  The answers here are plain loops over contiguous arrays:

* :func:`count_field` counts around every cell at once (to check a field), and
  :func:`kept_field` builds the same counts in the form :func:`add_footprint` keeps;
* :func:`add_footprint` keeps such a field current when one agent arrives or leaves, so that a
  model whose agents act one after another (random sequential activation) reads a count in O(1)
  and pays only when something countable changes.  Per-step prefix sums cannot serve such
  models: the counts change between two agents' turns within a step.

Two descriptions of one neighbourhood:

* :func:`offsets` lists its cells (centre excluded) as int64 ``[2, n]`` (dy, dx), wrapped into
  ``[0, height) x [0, width)``: a neighbour is found with one addition and one conditional
  subtraction, and a random neighbour with one draw;
* :func:`spans` gives it row by row (centre included) as int64 ``[rows, 4]``: every shape here
  is convex along rows, so a footprint is a few contiguous runs of additions instead of one
  scattered addition per cell.

Count fields therefore count the closed neighbourhood, the cell itself included: an agent
reading the field at its own cell subtracts itself where it counts.

A field kept with footprints is stored with every row twice over, ``[kinds, H, 2W]`` (see
:func:`kept_field`): the count at (y, x) is the sum of columns x and x + W (:func:`count_at`).
A footprint's row then always lies in one contiguous run, never split at the torus's seam:
the split's branch and second loop cost more, over the many footprints of a step, than the
second load of each read.  :func:`fold` turns a kept field into plain counts.

Shapes:

* ``"von_neumann"``: |dx| + |dy| <= r (Mesa's ``OrthogonalVonNeumannGrid.get_neighborhood``);
* ``"moore"``: max(|dx|, |dy|) <= r (Mesa's ``OrthogonalMooreGrid``);
* ``"euclidean"``: dx^2 + dy^2 <= r^2, r may be fractional (NetLogo's ``in-radius``; the
  Brookings Ascape code of Epstein's model counts this way, with vision 1.7 or 7.0).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim import kernel_cache

SHAPES = ("von_neumann", "moore", "euclidean")


def _cells(radius: float, shape: str, width: int, height: int) -> set[tuple[int, int]]:
    """The wrapped (dy, dx) cells of the closed neighbourhood, each once."""
    if shape not in SHAPES:
        raise ValueError(f"neighbourhood shape {shape!r}: expected one of {', '.join(SHAPES)}")
    if radius < 0:
        raise ValueError(f"neighbourhood radius {radius}: must be >= 0")
    r = int(math.floor(radius))
    cells = set()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if shape == "von_neumann" and abs(dx) + abs(dy) > r:
                continue
            if shape == "euclidean" and dx * dx + dy * dy > radius * radius:
                continue
            cells.add((dy % height, dx % width))
    return cells


def offsets(radius: float, shape: str, width: int, height: int) -> np.ndarray:
    """The cells of a neighbourhood, centre excluded, as int64 ``[2, n]`` (dy; dx), wrapped.

    On a small torus a wide neighbourhood wraps onto itself; each cell is then listed once, as
    Mesa's cell collections do.
    """
    cells = sorted(_cells(radius, shape, width, height) - {(0, 0)})
    return np.array(cells, dtype=np.int64).reshape(len(cells), 2).T.copy()


def spans(radius: float, shape: str, width: int, height: int) -> np.ndarray:
    """The closed neighbourhood (centre included) row by row: int64 ``[rows, 4]``.

    Each row is (dy, first dx, length, back): the cells dx = first, first + 1, ..., wrapped;
    ``back`` = -(last dx) mod width, where a footprint's run starts relative to the agent.
    """
    rows: dict[int, set[int]] = {}
    for dy, dx in _cells(radius, shape, width, height):
        rows.setdefault(dy, set()).add(dx)
    out = []
    for dy in sorted(rows):
        dxs = rows[dy]
        starts = [d for d in dxs if (d - 1) % width not in dxs] or [0]
        if len(starts) != 1:
            raise ValueError(f"neighbourhood {shape!r} of radius {radius}: row {dy} is not "
                             "one run of cells")
        first, n = starts[0], len(dxs)
        out.append((dy, first, n, -(first + n - 1) % width))
    return np.array(out, dtype=np.int64).reshape(len(out), 4)


@njit(cache=kernel_cache.CACHE)
def add_footprint(field, k, y, x, rows, delta):
    """Add ``delta`` to layer ``k`` of the kept ``field`` at every cell whose closed
    neighbourhood holds (y, x).

    Those are the cells (y, x) minus an offset; for the symmetric shapes here that is the same
    set as (y, x) plus an offset, but subtracting keeps the rule right for any spans.  Fields
    are 3-D (``[kinds, H, 2W]``) so that one array carries every layer: numba pays reference
    counting per array argument, which adds up for calls made for every agent.
    """
    height, width = field.shape[1], field.shape[2] // 2
    # Unsigned indices spare numba's test for negative (from-the-end) indices on every access.
    layer = np.uint64(k)
    for r in range(rows.shape[0]):
        yy = y - rows[r, 0]
        if yy < 0:
            yy += height
        row = np.uint64(yy)
        start = x + rows[r, 3]
        if start >= width:
            start -= width
        # A run is at most W long, so from a start below W it ends within the doubled row.
        for xx in range(np.uint64(start), np.uint64(start + rows[r, 2])):
            field[layer, row, xx] += delta


@njit(cache=kernel_cache.CACHE, inline="always")
def count_at(field, k, y, x):
    """The count of layer ``k`` of a kept field at cell (y, x)."""
    return field[np.uint64(k), np.uint64(y), np.uint64(x)] + field[
        np.uint64(k), np.uint64(y), np.uint64(x + field.shape[2] // 2)]


@njit(cache=kernel_cache.CACHE)
def kept_field(kind_grid, n_kinds, rows):
    """The field that :func:`add_footprint` keeps, built from a grid of kind codes
    (``kind_grid`` >= 0; negative is empty): int32 ``[n_kinds, H, 2W]``, each row twice over."""
    height, width = kind_grid.shape
    field = np.zeros((n_kinds, height, 2 * width), dtype=np.int32)
    for y in range(height):
        for x in range(width):
            k = kind_grid[y, x]
            if 0 <= k < n_kinds:
                add_footprint(field, k, y, x, rows, 1)
    return field


def fold(field: np.ndarray) -> np.ndarray:
    """The counts of a kept field, int32 ``[kinds, H, W]``: its two copies of each row added."""
    width = field.shape[2] // 2
    return field[:, :, :width] + field[:, :, width:]


def count_field(kind_grid: np.ndarray, n_kinds: int, rows: np.ndarray) -> np.ndarray:
    """For every cell, the number of cells of each kind (``kind_grid`` >= 0; negative is empty)
    in its closed neighbourhood: int32 ``[n_kinds, H, W]``."""
    return fold(kept_field(kind_grid, n_kinds, rows))
