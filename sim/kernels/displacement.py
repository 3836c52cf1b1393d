"""M12 Displacement: violence drives people out; returns are slow."""

from __future__ import annotations

from numba import njit, prange


@njit(cache=True, parallel=True)
def displace(cell, population, displaced, dead_step, cell_control, displacement,
             insecurity_flight, return_rate, humanitarian, out_fled):
    """Flight and return of one week; ``out_fled`` receives who fled from each community.

    People flee in proportion to the deaths around them and to armed-group dominance of their
    cell (1 - state control); they return only where it was quiet this week, faster with state
    control and humanitarian access (M14).  Residents + displaced + dead is conserved.
    """
    # No sum across communities here: a parallel float reduction would depend on the number of
    # threads; the caller adds ``out_fled`` up in a fixed order.
    for i in prange(len(cell)):
        pop = population[i]
        deaths = dead_step[i, 0] + dead_step[i, 1] + dead_step[i, 2] + dead_step[i, 3]
        c = cell[i]
        violence = deaths / (pop + deaths) if pop + deaths > 0.0 else 0.0
        share = min(0.5, displacement * violence + insecurity_flight * (1.0 - cell_control[c]))
        flee = pop * share
        back = 0.0
        if deaths == 0.0:
            back = displaced[i] * min(1.0, return_rate * cell_control[c] * (1.0 + humanitarian))
        population[i] += back - flee
        displaced[i] += flee - back
        out_fled[i] = flee
