"""M1 Power projection: units go where their reach, what they know and what they want take them.

Reach is per unit, so contractor teams with air mobility "project power into areas where state
presence had been diminished" that ground units no longer reach.  A unit weighs the insurgents
it knows of, the people it should protect and mining sites, each by the share of effort it chose
to give it (:mod:`sim.mechanisms.conduct`): a contractor with a stake in the mines is drawn to
them.
"""

from __future__ import annotations

from numba import njit

from sim import kernel_cache
from sim.core import rng
from sim.core.registry import Mechanism, Param, Step
from sim.core.state import CellsView, ForcesView
from sim.world.geography import WorldView

PARAMETERS = (
    # Kind behaviour: a force's mobility, held equal across regimes (who is hired is *.present).
    Param("state.reach", 2, 0, 256, "cells/week", "ground mobility", kind="behaviour"),
    # Kind behaviour: the hired force's mobility, held equal across regimes (hiring is .present).
    Param("contractor.reach", 12, 0, 256, "cells/week",
          "air mobility: reach into areas the state lost", kind="behaviour"),
    # Kind behaviour: the partner's mobility, held equal across regimes (presence is .present).
    Param("partner.reach", 8, 0, 256, "cells/week", "mobility (helicopters)", kind="behaviour"),
)

# The weights of a unit's choice of cell are the model's assumptions (docs/ODD.md 7.1, "M1 Power
# projection"), not figures from a source.
KNOWN_WITHOUT_INTELLIGENCE = 0.3  # share of a cell's fighters known with no intelligence
KNOWN_HALF = 150.0  # known fighters at which their pull is half its most
PEOPLE_HALF = 1e5  # residents at which their pull is half its most
MINES_HALF = 1.0  # mining sites at which their pull is half its most
CROWDING = 0.6  # push away from cells other units already hold
CROWDING_HALF = 500.0  # personnel at which that push is half its most
DISTANCE_COST = 0.01  # per cell moved
NOISE = 0.05  # spread of the random tie-breaker
MOVE = rng.purpose("m01.move")


@njit(cache=kernel_cache.CACHE)
def deploy_forces(seed, step, world, units, cells):
    """Move each active unit to the best host cell within its reach.

    Each pull is weighted by the unit's share of effort on it, relative to its main use.  Units
    spread out because a cell already held scores lower; ``cells.forces`` is updated as they
    move.
    """
    world, units, cells = WorldView(*world), ForcesView(*units), CellsView(*cells)
    width, height = world.width, world.height
    for u in range(len(units.cell)):
        if not units.active[u]:
            continue
        main = max(units.offensive[u], units.protect[u], units.guard[u])
        w_known = units.offensive[u] / main
        w_people = units.protect[u] / main
        w_mines = units.guard[u] / main
        here = units.cell[u]
        r = units.reach[u]
        x0 = here % width
        y0 = here // width
        cells.forces[here] -= units.strength[u]
        best = here
        best_score = -1e300
        for y in range(max(0, y0 - r), min(height, y0 + r + 1)):
            for x in range(max(0, x0 - r), min(width, x0 + r + 1)):
                c = y * width + x
                if world.cell_country[c] != 0:
                    continue
                ins = cells.insurgents[c, 0] + cells.insurgents[c, 1]
                known = ins * (KNOWN_WITHOUT_INTELLIGENCE
                               + (1.0 - KNOWN_WITHOUT_INTELLIGENCE) * cells.intelligence[c])
                pop = cells.population[c]
                score = w_known * known / (known + KNOWN_HALF)
                score += w_people * (pop / (pop + PEOPLE_HALF)) * (1.0 - cells.control[c])
                score += w_mines * world.cell_mine[c] / (MINES_HALF + world.cell_mine[c])
                score -= CROWDING * cells.forces[c] / (cells.forces[c] + CROWDING_HALF)
                dist = max(abs(x - x0), abs(y - y0))
                score -= DISTANCE_COST * dist
                score += NOISE * rng.uniform(seed, step, u, MOVE, c)
                if score > best_score:
                    best_score = score
                    best = c
        units.cell[u] = best
        cells.forces[best] += units.strength[u]


def deploy(model, week) -> None:
    """Every unit moves for the week, where its chosen effort draws it."""
    deploy_forces(model.seed, model.t, model.world.view(), model.forces.view(), model.cells.view())


MECHANISM = Mechanism("M01", "power projection", PARAMETERS, kernels=(deploy_forces,))
DEPLOY = Step(MECHANISM, "units deploy", deploy)
