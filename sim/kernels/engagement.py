"""M2 Attrition over discrimination: operations trade combatant kills against civilian harm."""

from __future__ import annotations

import math

from numba import njit

from sim.core import rng


@njit(cache=True)
def _pick_community(seed, step, entity, purpose, start, stop, population, weight):
    """A community of one cell drawn in proportion to population x weight (-1 if none)."""
    total = 0.0
    for i in range(start, stop):
        total += population[i] * weight[i]
    if total <= 0.0:
        return -1
    target = rng.uniform(seed, step, entity, purpose, 0) * total
    acc = 0.0
    for i in range(start, stop):
        acc += population[i] * weight[i]
        if acc >= target:
            return i
    return stop - 1


@njit(cache=True)
def force_operations(seed, step, unit_kind, unit_cell, unit_strength, unit_firepower,
                     unit_discrimination, unit_discipline, unit_active, kind_effort,
                     cell_start, population, support, dead, dead_step, cell_population,
                     cell_support, cell_intelligence, cell_concealment, cell_insurgents,
                     kill_rate, harm_rate, atrocity_rate, atrocity_min, atrocity_max,
                     atrocity_alpha,
                     out_cell_kills, out_event_community, out_event_deaths):
    """One week of operations by every active unit against the bands of its cell.

    Combatants are reached in proportion to how well the bands are located (M3: intelligence
    x (1 - concealment)); civilian harm grows with firepower, (1 - discrimination) and
    (1 - located) ("prioritized rapid attrition over discrimination").  Rarely, and far more often
    for low-discipline units, an operation becomes a mass atrocity whose toll is Pareto-tailed
    (a Moura: hundreds killed in one operation).  Event rows ``2u`` (the operation) and ``2u+1``
    (an atrocity) record the community hit and the civilian deaths, for oversight (M6).
    """
    for u in range(len(unit_cell)):
        out_event_community[2 * u] = -1
        out_event_community[2 * u + 1] = -1
        out_event_deaths[2 * u] = 0.0
        out_event_deaths[2 * u + 1] = 0.0
        if not unit_active[u] or unit_strength[u] <= 0.0:
            continue
        kind = unit_kind[u]
        c = unit_cell[u]
        ins = cell_insurgents[c, 0] + cell_insurgents[c, 1]
        located = cell_intelligence[c] * (1.0 - cell_concealment[c])
        d = unit_discrimination[u]
        op = unit_strength[u] * unit_firepower[u] * kind_effort[kind]
        contact = ins / (ins + 50.0)
        kills = kill_rate * op * (located + 0.1 * (1.0 - located) * d) * contact
        kills = min(rng.poisson(seed, step, u, rng.ENGAGE_KILLS, kills), 0.3 * ins)
        out_cell_kills[c] += kills

        pop_c = cell_population[c]
        if pop_c <= 0.0:
            continue
        density = pop_c / (pop_c + 2e4)
        suspicion = 0.2 + cell_support[c]
        harm = harm_rate * op * (1.0 - d) * (1.0 - located) * suspicion * density
        harm *= 0.3 + 0.7 * contact
        deaths = rng.poisson(seed, step, u, rng.ENGAGE_HARM, harm)
        start = cell_start[c]
        stop = cell_start[c + 1]
        if deaths > 0.0:
            i = _pick_community(seed, step, u, rng.ENGAGE_TARGET, start, stop, population,
                                support)
            if i < 0:
                i = _pick_community(seed, step, u, rng.ENGAGE_TARGET, start, stop, population,
                                    population)
            deaths = min(deaths, math.floor(population[i]))
            population[i] -= deaths
            dead[i, kind] += deaths
            dead_step[i, kind] += deaths
            out_event_community[2 * u] = i
            out_event_deaths[2 * u] = deaths

        p_atrocity = atrocity_rate * (1.0 - unit_discipline[u]) ** 2 * (1.0 - d) * suspicion
        if rng.uniform(seed, step, u, rng.ATROCITY_CHANCE, 0) < p_atrocity:
            i = _pick_community(seed, step, u, rng.ATROCITY_TARGET, start, stop, population,
                                support)
            if i >= 0:
                size = rng.pareto(seed, step, u, rng.ATROCITY_SIZE, atrocity_min, atrocity_alpha)
                size = min(math.floor(min(size, atrocity_max)), math.floor(0.5 * population[i]))
                if size > 0.0:
                    population[i] -= size
                    dead[i, kind] += size
                    dead_step[i, kind] += size
                    out_event_community[2 * u + 1] = i
                    out_event_deaths[2 * u + 1] = size


@njit(cache=True)
def forced_atrocity(seed, step, entity, kind, cell_start, cell, population, dead, dead_step,
                    size):
    """A scheduled mass-atrocity operation in one cell (an event of the scenario).

    Returns the community hit (-1 if the cell is empty); ``size`` civilians are killed, capped
    at half the community.  Large villages are the likeliest targets (weight population^2).
    """
    i = _pick_community(seed, step, entity, rng.EVENT, cell_start[cell], cell_start[cell + 1],
                        population, population)
    if i < 0:
        return -1, 0.0
    size = min(math.floor(size), math.floor(0.5 * population[i]))
    population[i] -= size
    dead[i, kind] += size
    dead_step[i, kind] += size
    return i, size


@njit(cache=True)
def insurgent_violence(seed, step, band_cell, band_faction, band_strength, band_active,
                       cell_country, cell_start, population, cooperation, dead, dead_step,
                       cell_population, cell_cooperation, cell_fear, cell_forces, cell_insurgents,
                       town_protection, cell_town, coercion, lethality, deterrence,
                       out_force_losses, out_rival_losses):
    """Armed-group violence: against forces in the cell, against rivals, and against civilians.

    Bands punish communities that cooperate with the state (harm by insurgents, the other side of
    the Condra-Shapiro asymmetry, M4).  Fear of force suppresses attacks for a while when
    ``deterrence`` > 0 (Lyall, M5).  A UN presence protects towns.
    """
    for b in range(len(band_cell)):
        if not band_active[b] or band_strength[b] <= 0.0:
            continue
        c = band_cell[b]
        if cell_country[c] != 0:
            continue
        s = band_strength[b]
        restraint = 1.0 - deterrence * cell_fear[c]
        f = cell_forces[c]
        if f > 0.0:
            lam = lethality * s * f / (f + 200.0) * restraint
            # Capped at what the cell's forces have left after the bands before this one.
            left = max(f - out_force_losses[c], 0.0)
            out_force_losses[c] += min(rng.poisson(seed, step, b, rng.FORCE_LOSSES, lam), left)
        rival = cell_insurgents[c, 1 - band_faction[b]]
        if rival > 0.0:
            lam = 0.5 * lethality * min(s, rival)
            left = max(rival - out_rival_losses[c, 1 - band_faction[b]], 0.0)
            out_rival_losses[c, 1 - band_faction[b]] += min(
                rng.poisson(seed, step, b, rng.RIVALRY, lam), left)
        pop_c = cell_population[c]
        if pop_c <= 0.0:
            continue
        protect = 1.0 - town_protection * cell_town[c]
        lam = coercion * s * cell_cooperation[c] * restraint * protect
        deaths = rng.poisson(seed, step, b, rng.COERCION, lam)
        if deaths > 0.0:
            i = _pick_community(seed, step, b, rng.COERCION_TARGET, cell_start[c],
                                cell_start[c + 1], population, cooperation)
            if i >= 0:
                deaths = min(deaths, math.floor(population[i]))
                population[i] -= deaths
                dead[i, 3] += deaths
                dead_step[i, 3] += deaths
