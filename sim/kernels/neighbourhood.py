"""Neighbourhoods on a torus: offsets, counts of agents by kind, and count fields kept up to date.

A grid model asks one question over and over: how many agents of each kind lie within radius r
of this cell?  Three answers are offered here, all plain loops over contiguous arrays:

* :func:`count_at` counts around one cell (cost: the size of the neighbourhood);
* :func:`count_field` counts around every cell at once (to build or check a field);
* :func:`add_footprint` keeps such a field current when one agent arrives or leaves, so that a
  model whose agents act one after another (random sequential activation) reads a count in O(1)
  and pays only when something countable changes.  Per-step prefix sums cannot serve such models:
  the counts change between two agents' turns within a step.

Offsets come wrapped into ``[0, height) x [0, width)`` so that a neighbour is found with one
addition and one conditional subtraction, never a modulo.  Shapes:

* ``"von_neumann"``: |dx| + |dy| <= r (Mesa's ``OrthogonalVonNeumannGrid.get_neighborhood``);
* ``"moore"``: max(|dx|, |dy|) <= r (Mesa's ``OrthogonalMooreGrid``);
* ``"euclidean"``: dx^2 + dy^2 <= r^2, r may be fractional (NetLogo's ``in-radius``; the
  Brookings Ascape code of Epstein's model counts this way, with vision 1.7 or 7.0).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

SHAPES = ("von_neumann", "moore", "euclidean")


def offsets(radius: float, shape: str, width: int, height: int,
            include_centre: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The (dy, dx) offsets of a neighbourhood, wrapped into the grid, each cell once.

    On a small torus a wide neighbourhood wraps onto itself; each cell is then listed once, as
    Mesa's cell collections do.  The centre is left out unless ``include_centre``.
    """
    if shape not in SHAPES:
        raise ValueError(f"neighbourhood shape {shape!r}: expected one of {', '.join(SHAPES)}")
    if radius < 0:
        raise ValueError(f"neighbourhood radius {radius}: must be >= 0")
    r = int(math.floor(radius))
    seen = set()
    dys, dxs = [], []
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if shape == "von_neumann" and abs(dx) + abs(dy) > r:
                continue
            if shape == "euclidean" and dx * dx + dy * dy > radius * radius:
                continue
            cell = (dy % height, dx % width)
            if cell in seen or (cell == (0, 0) and not include_centre):
                continue
            seen.add(cell)
            dys.append(cell[0])
            dxs.append(cell[1])
    return np.array(dys, dtype=np.int64), np.array(dxs, dtype=np.int64)


@njit(cache=True)
def count_at(kind_grid, n_kinds, y, x, dy, dx, out):
    """Count the cells of each kind (``kind_grid`` >= 0; negative is empty) around (y, x).

    ``out`` (length ``n_kinds``) is overwritten with the counts.
    """
    height, width = kind_grid.shape
    for k in range(n_kinds):
        out[k] = 0
    for j in range(len(dy)):
        yy = y + dy[j]
        if yy >= height:
            yy -= height
        xx = x + dx[j]
        if xx >= width:
            xx -= width
        k = kind_grid[yy, xx]
        if 0 <= k < n_kinds:
            out[k] += 1


@njit(cache=True)
def count_field(kind_grid, n_kinds, dy, dx):
    """For every cell, the number of cells of each kind around it: int32 ``[n_kinds, H, W]``."""
    height, width = kind_grid.shape
    field = np.zeros((n_kinds, height, width), dtype=np.int32)
    for y in range(height):
        for x in range(width):
            k = kind_grid[y, x]
            if 0 <= k < n_kinds:
                add_footprint(field[k], y, x, dy, dx, 1)
    return field


@njit(cache=True)
def add_footprint(field, y, x, dy, dx, delta):
    """Add ``delta`` to ``field`` at every cell whose neighbourhood contains (y, x).

    Those are the cells (y, x) minus an offset; for the symmetric shapes here that is the same
    set as (y, x) plus an offset, but subtracting keeps the rule right for any offsets.
    """
    height, width = field.shape
    for j in range(len(dy)):
        yy = y - dy[j]
        if yy < 0:
            yy += height
        xx = x - dx[j]
        if xx < 0:
            xx += width
        field[yy, xx] += delta
