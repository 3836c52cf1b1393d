"""Territorial control: who holds each cell, from the presence of forces and armed groups.

Presence is remembered, so a raid leaves less than a garrison; the state's administration counts
as presence in proportion to legitimacy (M8).  The share of residents living under state control
is what neighbours read as the host's short-term success (M11).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim import kernel_cache
from sim.core.registry import Mechanism, Outcome, Step
from sim.core.state import POPULATION, CellsView
from sim.core.summation import ZERO, numpy_sum
from sim.world import geography

# Administrative presence of the state per cell, in force-equivalents, by region (north,
# centre, south) and in towns: what holds a cell when no unit is there.  Control at the start by
# region.  Both are the model's assumptions, set so that the state holds the south and the
# towns and contests the north (docs/ODD.md 7.8, "M8 Legitimacy").
ADMIN = np.array([30.0, 400.0, 2000.0])
ADMIN_TOWN = 3000.0
CONTROL_AT_START = np.array([0.3, 0.7, 0.95])
PRESENCE_KEEP = 0.9  # share of last week's presence remembered
INSURGENT_WEIGHT = 3.0  # a fighter's presence against a soldier's
CONTROL_SPEED = 0.1  # speed at which control moves towards the balance of presences
# Presence (force-equivalents) at which the state alone, unopposed, holds a cell half: a cell
# where no one is present heads to no control.  The model's assumption.
PRESENCE_HALF = 1.0
HELD = 0.5  # control above which a cell counts as the state's


@njit(cache=kernel_cache.CACHE)
def update_control(cells, cell_admin, legitimacy):
    """Move state control of each cell towards the balance of presences."""
    cells = CellsView(*cells)
    for c in range(len(cells.control)):
        cells.force_presence[c] = PRESENCE_KEEP * cells.force_presence[c] + cells.forces[c]
        cells.insurgent_presence[c] = PRESENCE_KEEP * cells.insurgent_presence[c] \
            + cells.insurgents[c, 0] + cells.insurgents[c, 1]
        state = cells.force_presence[c] + cell_admin[c] * legitimacy
        target = state / (state + INSURGENT_WEIGHT * cells.insurgent_presence[c] + PRESENCE_HALF)
        cells.control[c] += CONTROL_SPEED * (target - cells.control[c])


def setup(model) -> None:
    """The state's administration per cell and the control it starts with."""
    w = model.world
    region_of = np.clip(w.cell_region, 0, 2)
    model.cell_admin = np.where(w.cell_country == geography.HOST, ADMIN[region_of], 0.0)
    model.cell_admin += ADMIN_TOWN * model.cell_town
    model.cells.control[:] = np.where(w.cell_country == geography.HOST,
                                      CONTROL_AT_START[region_of], 0.0)


@njit(cache=kernel_cache.CACHE)
def held_share(cell_totals, control):
    """Share of the residents (per cell in ``cell_totals``) living in cells whose ``control``
    is the state's, each sum in numpy's order."""
    cells = len(control)
    # Copied out of the table, so that the sums take a contiguous array, as every other does:
    # numba compiles a sum again for each layout of array it is given.
    population = np.empty(cells)
    held = np.empty(cells)
    n = ZERO
    for c in range(cells):
        population[c] = cell_totals[c, POPULATION]
        if control[c] > HELD:
            held[n] = population[c]
            n += 1
    total = numpy_sum(population, cells)
    if total <= 0.0:
        return 0.0
    # The two sums add in different orders: a share of all cells came out as 1.0000000000000004.
    return min(1.0, numpy_sum(held, n) / total)


def territory_share(model) -> float:
    """Share of the resident population living in cells the state controls, as of the last
    tally."""
    return held_share(model.cell_totals, model.cells.control)


def update(model, week) -> None:
    """Control after the week's presences."""
    update_control(model.cells.view(), model.cell_admin, model.legitimacy)


def measure(model, week) -> None:
    """The share of residents under state control this week."""
    week.row["territory_state_share"] = territory_share(model)


OUTCOMES = (
    Outcome("territory_state_share", "state territory", "share",
            summary="territory_state_share_final", share=True,
            shown=frozenset({"table", "plot", "chart"}), title="population under state control"),
)
MECHANISM = Mechanism("territorial control", "who holds each cell", (), OUTCOMES,
                      kernels=(update_control, held_share), setup=setup)
CONTROL = Step(MECHANISM, "control moves", update)
TERRITORY = Step(MECHANISM, "territory measured", measure)
