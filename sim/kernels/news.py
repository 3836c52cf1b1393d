"""M4 News of abuses travels along social-group ties."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def spread_news(width, height, n_groups, cell_start, group, population, dead_step, ties,
                out_state, out_insurgent):
    """Per (cell, group): deaths per resident suffered by the group nearby and across the country.

    Each community hears of the deaths its own social group suffered in its cell and the eight
    around it, and, weighted by ``ties``, anywhere in the country: punitive operations that
    "blurred the line between combatants and civilians" are remembered by the whole group.
    ``out_state`` counts deaths caused by state-side forces (state, contractor, partner),
    ``out_insurgent`` those caused by armed groups.
    """
    n_cells = width * height
    local_pop = np.zeros((n_cells, n_groups))
    local_state = np.zeros((n_cells, n_groups))
    local_ins = np.zeros((n_cells, n_groups))
    group_pop = np.zeros(n_groups)
    group_state = np.zeros(n_groups)
    group_ins = np.zeros(n_groups)
    for c in prange(n_cells):
        for i in range(cell_start[c], cell_start[c + 1]):
            g = group[i]
            state_side = dead_step[i, 0] + dead_step[i, 1] + dead_step[i, 2]
            local_pop[c, g] += population[i] + state_side + dead_step[i, 3]
            local_state[c, g] += state_side
            local_ins[c, g] += dead_step[i, 3]
    for c in range(n_cells):
        for g in range(n_groups):
            group_pop[g] += local_pop[c, g]
            group_state[g] += local_state[c, g]
            group_ins[g] += local_ins[c, g]
    for c in prange(n_cells):
        x0 = c % width
        y0 = c // width
        for g in range(n_groups):
            pop = 0.0
            st = 0.0
            ins = 0.0
            for y in range(max(0, y0 - 1), min(height, y0 + 2)):
                for x in range(max(0, x0 - 1), min(width, x0 + 2)):
                    k = y * width + x
                    pop += local_pop[k, g]
                    st += local_state[k, g]
                    ins += local_ins[k, g]
            near_state = st / pop if pop > 0.0 else 0.0
            near_ins = ins / pop if pop > 0.0 else 0.0
            far_state = group_state[g] / group_pop[g] if group_pop[g] > 0.0 else 0.0
            far_ins = group_ins[g] / group_pop[g] if group_pop[g] > 0.0 else 0.0
            out_state[c, g] = near_state + ties * far_state
            out_insurgent[c, g] = near_ins + ties * far_ins
