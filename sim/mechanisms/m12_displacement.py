"""M12 Displacement: violence drives people out; displacement lowers cooperation and raises
grievance (in the attitude terms of M4 and M8); returns are slow."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from sim import kernel_cache
from sim.core.compiled import PRANGE_ONLY
from sim.core.registry import Mechanism, Outcome, Param, Step
from sim.core.state import DISPLACED, N_PERPETRATORS, CommunitiesView
from sim.mechanisms.m07_rent import lever

PARAMETERS = (
    Param("community.displacement", 80.0, 0.0, 1e5, "per death-share",
          "share of residents who flee per unit of local violence (deaths per resident)",
          kind="behaviour"),
    Param("community.insecurity_flight", 0.0005, 0.0, 1.0, "1/week",
          "share fleeing per week where armed groups dominate", kind="behaviour"),
    Param("community.return", 0.004, 0.0, 1.0, "1/week",
          "share of displaced who return each week", kind="behaviour"),
    Param("community.displaced_at_start", 0.0, 0.0, 0.5, "share",
          "share of every community already displaced when the run begins (a war under way)",
          kind="world", at_start=True),
)

MOST_FLEEING = 0.5  # most of a community that flees in one week: the model's assumption


@njit(cache=kernel_cache.CACHE)
def displace(communities, cell_control, rates, out_fled):
    """Flight and return of one week; ``out_fled`` receives who fled from each community.

    People flee in proportion to the deaths around them and to armed-group dominance of their
    cell (1 - state control); they return only where it was quiet this week, faster with state
    control and humanitarian access (M14).  Residents + displaced + dead is conserved.
    ``rates`` is (displacement, insecurity flight, return rate, humanitarian access).
    """
    # Named here, not in the parallel loop's function: numba loses writes made through a
    # named tuple built inside a parallel function (numba 0.68).
    _displace(CommunitiesView(*communities), cell_control, rates, out_fled)


@njit(cache=kernel_cache.CACHE, parallel=PRANGE_ONLY)
def _displace(communities, cell_control, rates, out_fled):
    displacement, insecurity_flight, return_rate, humanitarian = rates
    c = communities
    # Arrays are taken out of their tuple before the parallel loop: numba loses writes made
    # through a tuple's field inside prange (seen with numba 0.68).
    population, displaced = c.population, c.displaced
    d = c.dead_step
    # No sum across communities here: a parallel float reduction would depend on the number of
    # threads; the caller adds ``out_fled`` up in a fixed order.
    for i in prange(len(c.cell)):
        pop = population[i]
        deaths = 0.0
        for j in range(N_PERPETRATORS):
            deaths += d[i, j]
        cell = c.cell[i]
        violence = deaths / (pop + deaths) if pop + deaths > 0.0 else 0.0
        share = min(MOST_FLEEING,
                    displacement * violence + insecurity_flight * (1.0 - cell_control[cell]))
        flee = pop * share
        back = 0.0
        if deaths == 0.0:
            back = displaced[i] * min(1.0, return_rate * cell_control[cell]
                                        * (1.0 + humanitarian))
        population[i] += back - flee
        displaced[i] += flee - back
        out_fled[i] = flee


def setup(model) -> None:
    """Move the share displaced at the start out of each community's residents."""
    c = model.communities
    moved = c.population * model.p["community.displaced_at_start"]
    c.population -= moved
    c.displaced += moved


def flee(model, week) -> None:
    """The week's flight and returns."""
    p = model.p
    fled = np.empty(len(model.communities))
    rates = (p["community.displacement"], p["community.insecurity_flight"],
             p["community.return"], lever(model, "humanitarian_access"))
    displace(model.communities.view(), model.cells.control, rates, fled)
    week.newly_displaced = float(fled.sum())


def record(model, week) -> None:
    """People displaced at the end of the week, and those who fled in it."""
    week.row["displaced"] = float(week.totals[DISPLACED])
    week.row["newly_displaced"] = week.newly_displaced


OUTCOMES = (
    Outcome("displaced", "displaced", "people", summary="displaced_final",
            shown=frozenset({"table", "plot", "chart"}), title="displaced persons"),
    Outcome("newly_displaced", "newly displaced", "people/week", flow=True),
)
MECHANISM = Mechanism("M12", "displacement", PARAMETERS, OUTCOMES, kernels=(displace,),
                      setup=setup, record=record)
DISPLACEMENT = Step(MECHANISM, "flight and return", flee)
