"""M1 Power projection and M7 rent extraction: where units and bands go each week."""

from __future__ import annotations

from numba import njit

from sim.core import rng


@njit(cache=True)
def deploy_forces(seed, step, width, height, cell_country, unit_kind, unit_cell, unit_reach,
                  unit_strength, unit_active, kind_protect, kind_revenue, cell_insurgents,
                  cell_intelligence, cell_population, cell_control, cell_mine, cell_forces):
    """Move each active unit to the best host cell within its reach.

    M1: reach is per unit, so contractor teams with air mobility project power into areas that
    ground units no longer reach.  A unit weighs the insurgents it knows of (known in proportion to
    intelligence), the people it should protect (``kind_protect``) and, M7, mining sites
    (``kind_revenue``: "security becomes a revenue stream rather than a public good").  Units
    spread out because a cell already held scores lower; ``cell_forces`` is updated as they move.
    """
    for u in range(len(unit_cell)):
        if not unit_active[u]:
            continue
        kind = unit_kind[u]
        here = unit_cell[u]
        r = unit_reach[u]
        x0 = here % width
        y0 = here // width
        cell_forces[here] -= unit_strength[u]
        best = here
        best_score = -1e300
        for y in range(max(0, y0 - r), min(height, y0 + r + 1)):
            for x in range(max(0, x0 - r), min(width, x0 + r + 1)):
                c = y * width + x
                if cell_country[c] != 0:
                    continue
                ins = cell_insurgents[c, 0] + cell_insurgents[c, 1]
                known = ins * (0.3 + 0.7 * cell_intelligence[c])
                pop = cell_population[c]
                score = known / (known + 150.0)
                score += kind_protect[kind] * (pop / (pop + 1e5)) * (1.0 - cell_control[c])
                score += kind_revenue[kind] * cell_mine[c] / (1.0 + cell_mine[c])
                score -= 0.6 * cell_forces[c] / (cell_forces[c] + 500.0)
                dist = max(abs(x - x0), abs(y - y0))
                score -= 0.01 * dist
                score += 0.05 * rng.uniform(seed, step, u, rng.MOVE, c)
                if score > best_score:
                    best_score = score
                    best = c
        unit_cell[u] = best
        cell_forces[best] += unit_strength[u]


@njit(cache=True)
def move_bands(seed, step, width, height, cell_country, band_cell, band_strength, band_active,
               reach, cross_border, cell_population, cell_support, cell_grievance,
               cell_concealment, cell_forces):
    """Move bands towards supportive, aggrieved populations and away from exposed force.

    Bands may slip across a border into a neighbour's territory (sanctuary) with a chance set by
    their cross-border reach (M11); there they recruit nobody but cannot be attacked.
    """
    for b in range(len(band_cell)):
        if not band_active[b]:
            continue
        if rng.uniform(seed, step, b, rng.BAND_MOVE, 0) < 0.5:
            continue
        here = band_cell[b]
        x0 = here % width
        y0 = here // width
        pressure_here = cell_forces[here] * (1.0 - cell_concealment[here])
        best = here
        best_score = -1e300
        for y in range(max(0, y0 - reach), min(height, y0 + reach + 1)):
            for x in range(max(0, x0 - reach), min(width, x0 + reach + 1)):
                c = y * width + x
                noise = 0.05 * rng.uniform(seed, step, b, rng.BAND_MOVE, c + 1)
                if cell_country[c] != 0:
                    if cross_border <= 0.0:
                        continue
                    score = cross_border * pressure_here / (pressure_here + 300.0) + noise
                else:
                    pop = cell_population[c]
                    appeal = pop * cell_support[c] * cell_grievance[c]
                    score = appeal / (appeal + 2000.0)
                    exposed = cell_forces[c] * (1.0 - cell_concealment[c])
                    score -= exposed / (exposed + 300.0)
                    score += noise
                if score > best_score:
                    best_score = score
                    best = c
        band_cell[b] = best
