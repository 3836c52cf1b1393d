"""M5 Recruitment and concealment: bands grow and hide where grievance, people and presence meet.

Insurgents "recruit and hide among vulnerable communities": a cell's recruitment pool counts
residents who are aggrieved and supportive; bands hide better among communities that do not
cooperate; they move towards supportive, aggrieved people and away from exposed force.  Fear of
force may suppress support and recruitment for a while (Lyall's deterrence), with a sign set by
``insurgents.deterrence``, not hard-wired.  Every part of M5 lives here; the fused attitude loop
(:mod:`sim.mechanisms.attitudes`) and the cell aggregates call its inlined terms.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim import kernel_cache
from sim.core import rng
from sim.core.registry import TOTAL, Mechanism, Outcome, Param, Step
from sim.core.state import SUPPORT, BandsView, CellsView
from sim.mechanisms.m07_rent import lever
from sim.world.geography import WorldView

PARAMETERS = (
    Param("insurgents.recruitment", 0.0004, 0.0, 0.1, "1/week",
          "recruits per week per aggrieved, supportive resident in a band's area",
          kind="behaviour"),
    Param("insurgents.concealment", 0.4, 0.0, 1.0, "0-1",
          "base ability of bands to hide among communities", kind="behaviour"),
    Param("insurgents.reach", 2, 0, 256, "cells/week", "mobility of bands", kind="behaviour"),
    Param("insurgents.deterrence", 0.0, 0.0, 1.0, "0-1",
          "how much fear of force suppresses recruitment and attacks for a while (Lyall)",
          kind="behaviour"),
    Param("insurgents.attrition", 0.005, 0.0, 0.5, "1/week",
          "desertion and losses outside combat", kind="behaviour"),
)

# The shapes below are the model's assumptions (docs/ODD.md 7.5, "M5 Recruitment and concealment").
PRESENCE_HALF = 200.0  # fighters in a cell at which recruiting is half as effective as it gets
FEAR_KEEP = 0.85  # share of last week's fear kept
FEAR_NEW = 0.15  # weight of this week's news in it
FEAR_GAIN = 200.0  # fear per unit of state-side deaths heard of (per resident)
SUPPORT_GRIEVANCE = 6.0  # weights of the support target's logit
SUPPORT_HARM = 6.0
SUPPORT_COOPERATION = 2.0
SUPPORT_FEAR = 4.0
MOVE_CHANCE = 0.5  # chance a band moves in a week
SANCTUARY_HALF = 300.0  # exposed force at which a border's pull is half its most
APPEAL_HALF = 2000.0  # aggrieved supporters at which a cell's pull is half its most
EXPOSED_HALF = 300.0  # exposed force at which a cell's push is half its most
NOISE = 0.05  # spread of the random tie-breaker
SPLIT_FACTOR = 2.0  # a band splits at this many times its starting strength
DISSOLVE_SIZE = 3.0  # fighters below which a band dissolves
DEFAULT_BAND = 100.0  # split size when bands start empty
BAND_MOVE = rng.purpose("m05.band_move")
RECRUIT = rng.purpose("m05.recruit")
SPLIT = rng.purpose("m05.split")


@njit(cache=kernel_cache.CACHE, inline="always")
def pool_term(population, grievance, support, deterrence, fear):
    """A community's residents in the recruitment pool: aggrieved and supportive, less those
    held back by fear."""
    return population * grievance * support * (1.0 - deterrence * fear)


@njit(cache=kernel_cache.CACHE, inline="always")
def concealment(base, cooperation, support):
    """How well bands hide in a cell: better among people who do not cooperate and who
    support them."""
    return base + (1.0 - base) * (1.0 - cooperation) * support


@njit(cache=kernel_cache.CACHE, inline="always")
def fear_after(fear, heard_state):
    """A community's fear of force after a week in which it heard of ``heard_state``."""
    return FEAR_KEEP * fear + FEAR_NEW * min(1.0, FEAR_GAIN * heard_state)


@njit(cache=kernel_cache.CACHE, inline="always")
def support_logit(grievance, insurgent_harm, cooperation, deterrence, fear):
    """Where support for the armed groups heads, as the logit of its target: up with grievance,
    down with their own abuses and with cooperation, and down with fear when deterrence
    works."""
    return (SUPPORT_GRIEVANCE * (grievance - 0.5) - SUPPORT_HARM * insurgent_harm
            - SUPPORT_COOPERATION * (cooperation - 0.5) - SUPPORT_FEAR * deterrence * fear)


@njit(cache=kernel_cache.CACHE)
def _band_score(seed, step, b, c, world, cells, cross_border, pressure_here):
    noise = NOISE * rng.uniform(seed, step, b, BAND_MOVE, c + 1)
    if world.cell_country[c] != 0:
        return cross_border * pressure_here / (pressure_here + SANCTUARY_HALF) + noise
    pop = cells.population[c]
    appeal = pop * cells.support[c] * cells.grievance[c]
    score = appeal / (appeal + APPEAL_HALF)
    exposed = cells.forces[c] * (1.0 - cells.concealment[c])
    score -= exposed / (exposed + EXPOSED_HALF)
    return score + noise


@njit(cache=kernel_cache.CACHE)
def move_bands(seed, step, world, bands, reach, cross_border, cells):
    """Move bands towards supportive, aggrieved populations and away from exposed force.

    Bands may slip across a border into a neighbour's territory (sanctuary) with a chance set by
    their cross-border reach (M11); there they recruit nobody but cannot be attacked.
    """
    world, bands, cells = WorldView(*world), BandsView(*bands), CellsView(*cells)
    width, height = world.width, world.height
    for b in range(len(bands.cell)):
        if not bands.active[b]:
            continue
        if rng.uniform(seed, step, b, BAND_MOVE, 0) < MOVE_CHANCE:
            continue
        here = bands.cell[b]
        x0 = here % width
        y0 = here // width
        pressure_here = cells.forces[here] * (1.0 - cells.concealment[here])
        best = here
        best_score = -1e300
        for y in range(max(0, y0 - reach), min(height, y0 + reach + 1)):
            for x in range(max(0, x0 - reach), min(width, x0 + reach + 1)):
                c = y * width + x
                if world.cell_country[c] != 0 and cross_border <= 0.0:
                    continue
                score = _band_score(seed, step, b, c, world, cells, cross_border, pressure_here)
                if score > best_score:
                    best_score = score
                    best = c
        bands.cell[b] = best


@njit(cache=kernel_cache.CACHE)
def recruit(seed, step, world, bands, cells, neighbour_instability, rates):
    """Recruits, cross-border inflow and attrition of every band, for one week.

    Returns the fighters who crossed a border into the bands this week (counted in
    ``bands.recruits`` too).  Recruits of a cell are shared among its bands by strength and grow
    with the armed groups' presence there.  Bands on a border receive fighters and arms from an
    unstable neighbour (M11), less what arms tracking stops (M14).  ``rates`` is (recruitment,
    inflow, cross_border, arms_tracking, attrition).
    """
    world, bands, cells = WorldView(*world), BandsView(*bands), CellsView(*cells)
    recruitment, inflow, cross_border, arms_tracking, attrition = rates
    crossed = 0.0
    for b in range(len(bands.cell)):
        bands.recruits[b] = 0.0
        if not bands.active[b]:
            continue
        c = bands.cell[b]
        s = bands.strength[b]
        gained = 0.0
        if world.cell_country[c] == 0:
            present = cells.insurgents[c, 0] + cells.insurgents[c, 1]
            if present > 0.0:
                lam = recruitment * cells.recruit_pool[c] * s / (present + PRESENCE_HALF)
                gained += rng.poisson(seed, step, b, RECRUIT, lam)
            k = world.cell_border[c]
        else:
            k = world.cell_country[c] - 1
        if k >= 0:
            flow = inflow * neighbour_instability[k] * cross_border * (1.0 - arms_tracking)
            gained += flow
            crossed += flow
        bands.recruits[b] = gained
        bands.strength[b] = s * (1.0 - attrition) + gained
    return crossed


@njit(cache=kernel_cache.CACHE)
def split_bands(seed, step, width, height, cell_country, cross_border, bands, split_size,
                dissolve_size):
    """Large bands split (a new band in a neighbouring cell); remnants below a size dissolve.
    Bands that cannot cross borders (``cross_border`` of 0, as :func:`move_bands` reads it)
    keep a new band drawn abroad in its parent's cell."""
    bands = BandsView(*bands)
    n = len(bands.cell)
    for b in range(n):
        if not bands.active[b]:
            continue
        if bands.strength[b] < dissolve_size:
            bands.active[b] = False
            bands.strength[b] = 0.0
            continue
        if bands.strength[b] < SPLIT_FACTOR * split_size:
            continue
        free = -1
        for j in range(n):
            if not bands.active[j]:
                free = j
                break
        if free < 0:
            continue
        c = bands.cell[b]
        dx = int(rng.uniform(seed, step, b, SPLIT, 0) * 3.0) - 1
        dy = int(rng.uniform(seed, step, b, SPLIT, 1) * 3.0) - 1
        x = min(width - 1, max(0, c % width + dx))
        y = min(height - 1, max(0, c // width + dy))
        half = 0.5 * bands.strength[b]
        bands.strength[b] = half
        bands.strength[free] = half
        bands.faction[free] = bands.faction[b]
        new = y * width + x
        if cell_country[new] != 0 and cross_border <= 0.0:
            new = c
        bands.cell[free] = new
        bands.active[free] = True


def move(model, week) -> None:
    """Bands seek cover and recruits (and sanctuary across borders)."""
    p = model.p
    move_bands(model.seed, model.t, model.world.view(), model.bands.view(),
               p["insurgents.reach"], p["insurgents.cross_border"], model.cells.view())


def grow(model, week) -> None:
    """Recruitment, inflow and attrition of the week; large bands split, small ones dissolve."""
    p, w = model.p, model.world
    rates = (p["insurgents.recruitment"], p["region.inflow"], p["insurgents.cross_border"],
             lever(model, "arms_tracking"), p["insurgents.attrition"])
    week.crossed = recruit(model.seed, model.t, w.view(), model.bands.view(), model.cells.view(),
                           model.neighbour_instability, rates)
    week.recruits = float(model.bands.recruits.sum())
    split = p["insurgents.strength"] if p["insurgents.strength"] > 0 else DEFAULT_BAND
    make_room(model, SPLIT_FACTOR * split)
    bands, views = model.bands, getattr(model, "agent_views", None)
    # The rows whose band outlasts the pass (a band below the size dissolves when visited);
    # any other row active after it holds a new band.  Worked out only for a model with agents.
    kept = None if views is None else bands.active & (bands.strength >= DISSOLVE_SIZE)
    split_bands(model.seed, model.t, w.width, w.height, w.cell_country,
                p["insurgents.cross_border"], bands.view(), split, DISSOLVE_SIZE)
    if views is not None:
        views.renew_bands(np.flatnonzero(bands.active & ~kept))


def make_room(model, threshold: float) -> None:
    """Add free rows to the bands' table where fewer are free than the splits of this week may
    take, so that no band stays whole for want of a row.  A band of ``s`` fighters at or above
    ``threshold`` splits, and the half in its new row, visited later in the same pass, splits
    again while it is still at or above it: at most ``1 + log2(s / threshold)`` rows a band.
    The table at least doubles, so it grows a few times in a run."""
    bands = model.bands
    splitting = bands.strength[bands.active & (bands.strength >= threshold)]
    needed = int(np.sum(1.0 + np.floor(np.log2(splitting / threshold))))
    short = needed - int(np.count_nonzero(~bands.active))
    if short <= 0:
        return
    rows = bands.add_rows(max(short, len(bands)))
    if getattr(model, "agent_views", None) is not None:
        model.agent_views.add_bands(rows)


def record(model, week) -> None:
    """Fighters at the end of the week, in all and of armed group A, recruits, and support for
    the armed groups."""
    b = model.bands
    week.row["insurgent_strength"] = float(b.strength[b.active].sum())
    week.row["insurgent_strength_a"] = float(b.strength[b.active & (b.faction == 0)].sum())
    week.row["recruits"] = week.recruits
    week.row["support_mean"] = week.mean(SUPPORT)


OUTCOMES = (
    Outcome("insurgent_strength", "insurgents at end", "fighters",
            summary="insurgent_strength_final", shown=frozenset({"table", "ranking", "plot",
                                                                  "chart"}),
            title="insurgent fighters", better="lower"),
    # The record counts one group's fighters (JNIM's, sim.experiments.reference), not both.
    Outcome("insurgent_strength_a", "fighters of armed group A", "fighters"),
    Outcome("recruits", "recruits", "fighters/week", summary="recruits_total", reduce=TOTAL,
            flow=True, shown=frozenset({"table"})),
    Outcome("support_mean", "support for armed groups", "0-1", share=True),
)
MECHANISM = Mechanism("M05", "recruitment and concealment", PARAMETERS, OUTCOMES,
                      kernels=(move_bands, recruit, split_bands), record=record)
MOVE = Step(MECHANISM, "bands move", move)
RECRUITMENT = Step(MECHANISM, "recruitment", grow)
