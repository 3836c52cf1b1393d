"""Observation: one pass over the communities gives every per-cell total the step records."""

from __future__ import annotations

from numba import njit, prange

# Columns of the per-cell totals.
POPULATION, COOPERATION, GRIEVANCE, SUPPORT, DISPLACED, DEAD = 0, 1, 2, 3, 4, 5
COLUMNS = 9  # DEAD .. DEAD + 3: civilian deaths of the week by perpetrator


@njit(cache=True, parallel=True)
def tally_cells(cell_start, population, displaced, dead_step, cooperation, grievance, support,
                out):
    """Per cell: residents, population-weighted sums of attitudes, displaced, deaths by
    perpetrator.  Cells sum their own slices in order, so totals taken over cells afterwards
    are the same for any number of threads."""
    for c in prange(len(cell_start) - 1):
        for k in range(COLUMNS):
            out[c, k] = 0.0
        for i in range(cell_start[c], cell_start[c + 1]):
            p = population[i]
            out[c, POPULATION] += p
            out[c, COOPERATION] += p * cooperation[i]
            out[c, GRIEVANCE] += p * grievance[i]
            out[c, SUPPORT] += p * support[i]
            out[c, DISPLACED] += displaced[i]
            for k in range(4):
                out[c, DEAD + k] += dead_step[i, k]
