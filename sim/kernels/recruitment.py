"""M5 Recruitment and concealment: bands grow where grievance, people and presence meet."""

from __future__ import annotations

from numba import njit

from sim.core import rng


@njit(cache=True)
def recruit(seed, step, band_cell, band_strength, band_active, band_recruits, cell_country,
            cell_border, cell_recruit_pool, cell_insurgents, neighbour_instability, recruitment,
            inflow, cross_border, arms_tracking, attrition):
    """Recruits, cross-border inflow and attrition of every band, for one week.

    Returns the fighters who crossed a border into the bands this week (counted in
    ``band_recruits`` too).

    Recruits of a cell are shared among its bands by strength and grow with the armed groups'
    presence there (``pool x presence/(presence + 200)``): "recruit and hide among vulnerable
    communities".  Bands on a border receive fighters and arms from an unstable neighbour
    (M11), less what arms tracking stops (M14).
    """
    crossed = 0.0
    for b in range(len(band_cell)):
        band_recruits[b] = 0.0
        if not band_active[b]:
            continue
        c = band_cell[b]
        s = band_strength[b]
        gained = 0.0
        if cell_country[c] == 0:
            present = cell_insurgents[c, 0] + cell_insurgents[c, 1]
            if present > 0.0:
                lam = recruitment * cell_recruit_pool[c] * s / (present + 200.0)
                gained += rng.poisson(seed, step, b, rng.RECRUIT, lam)
            k = cell_border[c]
        else:
            k = cell_country[c] - 1
        if k >= 0:
            flow = inflow * neighbour_instability[k] * cross_border * (1.0 - arms_tracking)
            gained += flow
            crossed += flow
        band_recruits[b] = gained
        band_strength[b] = s * (1.0 - attrition) + gained
    return crossed


@njit(cache=True)
def split_bands(seed, step, width, height, band_cell, band_faction, band_strength, band_active,
                split_size, dissolve_size):
    """Large bands split (a new cell in a neighbouring cell); remnants below a size dissolve."""
    n = len(band_cell)
    for b in range(n):
        if not band_active[b]:
            continue
        if band_strength[b] < dissolve_size:
            band_active[b] = False
            band_strength[b] = 0.0
            continue
        if band_strength[b] < 2.0 * split_size:
            continue
        free = -1
        for j in range(n):
            if not band_active[j]:
                free = j
                break
        if free < 0:
            continue
        c = band_cell[b]
        dx = int(rng.uniform(seed, step, b, rng.SPLIT, 0) * 3.0) - 1
        dy = int(rng.uniform(seed, step, b, rng.SPLIT, 1) * 3.0) - 1
        x = min(width - 1, max(0, c % width + dx))
        y = min(height - 1, max(0, c // width + dy))
        half = 0.5 * band_strength[b]
        band_strength[b] = half
        band_strength[free] = half
        band_faction[free] = band_faction[b]
        band_cell[free] = y * width + x
        band_active[free] = True


@njit(cache=True)
def band_losses(band_cell, band_faction, band_strength, band_active, cell_insurgents, cell_kills,
                cell_rival_losses):
    """Share the combatants killed in each cell among its bands, by strength. Returns the total."""
    total = 0.0
    for b in range(len(band_cell)):
        if not band_active[b]:
            continue
        c = band_cell[b]
        present = cell_insurgents[c, 0] + cell_insurgents[c, 1]
        if present <= 0.0:
            continue
        share = band_strength[b] / present
        loss = cell_kills[c] * share
        own = cell_insurgents[c, band_faction[b]]
        if own > 0.0:
            loss += cell_rival_losses[c, band_faction[b]] * band_strength[b] / own
        loss = min(loss, band_strength[b])
        band_strength[b] -= loss
        total += loss
    return total
