"""Community fields summed per cell: the view that units and bands act on."""

from __future__ import annotations

from numba import njit, prange


@njit(cache=True, parallel=True)
def aggregate_cells(cell_start, population, cooperation, support, grievance, fear, deterrence,
                    out_population, out_cooperation, out_support, out_grievance, out_fear,
                    out_recruit_pool):
    """Population-weighted means per cell and the recruitment pool of each cell (M5).

    The pool counts residents who are aggrieved and supportive, less those held back by fear
    (``deterrence`` scales Lyall's suppression; zero leaves fear without effect).
    """
    n_cells = len(cell_start) - 1
    # Cells are independent and each sums its own contiguous slice in order, so the result is
    # the same for any number of threads.
    for c in prange(n_cells):
        pop = 0.0
        coop = 0.0
        sup = 0.0
        grv = 0.0
        fr = 0.0
        pool = 0.0
        for i in range(cell_start[c], cell_start[c + 1]):
            p = population[i]
            pop += p
            coop += p * cooperation[i]
            sup += p * support[i]
            grv += p * grievance[i]
            fr += p * fear[i]
            pool += p * grievance[i] * support[i] * (1.0 - deterrence * fear[i])
        out_population[c] = pop
        if pop > 0.0:
            out_cooperation[c] = coop / pop
            out_support[c] = sup / pop
            out_grievance[c] = grv / pop
            out_fear[c] = fr / pop
        else:
            out_cooperation[c] = 0.0
            out_support[c] = 0.0
            out_grievance[c] = 0.0
            out_fear[c] = 0.0
        out_recruit_pool[c] = pool


@njit(cache=True)
def locate_units(n_cells, unit_cell, unit_strength, unit_active, band_cell, band_faction,
                 band_strength, band_active, out_forces, out_insurgents):
    """Personnel of forces and fighters of each faction per cell."""
    for c in range(n_cells):
        out_forces[c] = 0.0
        out_insurgents[c, 0] = 0.0
        out_insurgents[c, 1] = 0.0
    for u in range(len(unit_cell)):
        if unit_active[u]:
            out_forces[unit_cell[u]] += unit_strength[u]
    for b in range(len(band_cell)):
        if band_active[b]:
            out_insurgents[band_cell[b], band_faction[b]] += band_strength[b]
