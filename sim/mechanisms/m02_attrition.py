"""M2 Attrition over discrimination: operations trade combatant kills against civilian harm.

A unit's discrimination d is the share of its force that reaches combatants; the rest falls on
civilians.  For a unit of strength s, firepower f and effort e (its kind's, from its pay: M7's
``pay_share``), giving the share guard of its effort to mines (conduct), in a cell with ins
fighters, pop residents and support sup, where the bands are located (M3: intelligence x
(1 - concealment)):

    op       = s * f * e * (1 - guard)
    contact  = ins / (ins + 50)
    kills    = Poisson(kill_rate * op * d * (located + 0.1 * (1 - located)) * contact)
               capped at 0.3 * ins
    harm     = Poisson(harm_rate * op * (1 - d) * (1 - located) * suspicion * density
                       * (0.3 + 0.7 * contact))
    suspicion = 0.2 + sup,   density = pop / (pop + 2e4)

Kills grow with d (the force aimed at combatants, op * d, finds the bands located and a tenth
of the others); harm grows with 1 - d and with 1 - located (poor intelligence makes force
indiscriminate): forces that "prioritized rapid attrition over discrimination" trade fighters
reached for civilians killed.  Rarely, and far more often for low-discipline units, an operation
becomes a mass atrocity whose toll is Pareto-tailed (a Moura: hundreds killed in one operation):
P = atrocity_rate * (1 - discipline)^2 * (1 - d) * suspicion.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

from sim import kernel_cache
from sim.core import rng
from sim.core.registry import LARGEST, TOTAL, Mechanism, Outcome, Param, Step
from sim.core.state import (
    CONTRACTOR,
    FORCE_KINDS,
    STATE,
    Abuse,
    BandsView,
    CellsView,
    CommunitiesView,
    ForcesView,
)
from sim.core.summation import numpy_sum

PARAMETERS = (
    # Kind behaviour (firepower, skill of each force): what units can do with force; a regime
    # decides who is present and how they are overseen, and their restraint is chosen (conduct).
    Param("state.firepower", 1.0, 0.0, 10.0, "relative", "force applied per person",
          kind="behaviour"),
    Param("state.discrimination", 0.75, 0.0, 1.0, "share",
          "skill: share of force that reaches combatants at full restraint (training)",
          kind="behaviour"),
    Param("contractor.firepower", 4.0, 0.0, 10.0, "relative",
          "force per person (air assets, heavy weapons)", kind="behaviour"),
    Param("contractor.discrimination", 0.5, 0.0, 1.0, "share",
          "skill: share of force that reaches combatants at full restraint", kind="behaviour"),
    Param("partner.firepower", 1.5, 0.0, 10.0, "relative", "force per person", kind="behaviour"),
    Param("partner.discrimination", 0.9, 0.0, 1.0, "share",
          "skill: share of force that reaches combatants at full restraint", kind="behaviour"),
    # 0.005 per unit of a unit's whole force before discrimination split it, rescaled by 1/0.6 so
    # that a state unit at discrimination 0.6 kills as many fighters as it did.
    Param("engagement.kill_rate", 0.0083, 0.0, 1.0, "per force-week",
          "combatants killed per unit of force aimed at located bands", kind="behaviour"),
    Param("engagement.harm_rate", 0.003, 0.0, 1.0, "per force-week",
          "civilians killed per unit of indiscriminate force in a populated cell",
          kind="behaviour"),
    Param("engagement.atrocity_rate", 0.08, 0.0, 1.0, "per unit-week",
          "chance scale of a mass-atrocity operation by a unit without discipline",
          kind="behaviour"),
    Param("engagement.atrocity_min", 10.0, 1.0, 1e4, "deaths",
          "smallest toll counted as a mass-atrocity event (Pareto x_min)", kind="behaviour"),
    Param("engagement.atrocity_max", 1500.0, 1.0, 1e5, "deaths",
          "largest toll of one mass-atrocity event (and at most half the community)",
          kind="behaviour"),
    Param("engagement.atrocity_alpha", 1.2, 0.5, 5.0, "-",
          "tail exponent of mass-atrocity tolls: lower is fatter", kind="behaviour"),
)
OUTCOMES = (
    Outcome("largest_event", "largest abuse", "people", summary="largest_event",
            reduce=LARGEST),
    Outcome("combatant_deaths", "combatant deaths", "people/week", summary="combatant_deaths",
            reduce=TOTAL, flow=True),
    Outcome("state_discrimination", "state discrimination", "share", share=True),
    Outcome("contractor_discrimination", "contractor discrimination", "share", share=True),
)

# The shapes of an engagement are the model's assumptions (docs/ODD.md 7.2, "M2 Attrition over
# discrimination").
CONTACT_HALF = 50.0  # fighters in a cell at which contact is half its most
KILL_CAP = 0.3  # most of a cell's fighters one unit can kill in a week
BLIND_SHARE = 0.1  # share of the force aimed at combatants that finds bands not located
DENSITY_HALF = 2e4  # residents of a cell at which the exposure of civilians is half its most
SUSPICION_BASE = 0.2  # suspicion of a community that gives the armed groups no support
HARM_WITHOUT_CONTACT = 0.3  # share of the harm done where no band is met
HALF_COMMUNITY = 0.5  # the most of one community a single atrocity kills
KILLS = rng.purpose("m02.kills")
HARM = rng.purpose("m02.harm")
HARM_TARGET = rng.purpose("m02.harm_target")
ATROCITY = rng.purpose("m02.atrocity")
ATROCITY_TARGET = rng.purpose("m02.atrocity_target")
ATROCITY_SIZE = rng.purpose("m02.atrocity_size")
SCHEDULED_TARGET = rng.purpose("m02.scheduled_target")

Rates = namedtuple("Rates", "kill harm atrocity atrocity_min atrocity_max atrocity_alpha")
# Civilians killed by each unit this week: in its operation, and in an atrocity.
Tolls = namedtuple("Tolls", "operation atrocity")


def engagement_rates(p: dict) -> Rates:
    """The engagement rates of a parameter set, as the kernel takes them."""
    return Rates(p["engagement.kill_rate"], p["engagement.harm_rate"],
                 p["engagement.atrocity_rate"], p["engagement.atrocity_min"],
                 p["engagement.atrocity_max"], p["engagement.atrocity_alpha"])


@njit(cache=kernel_cache.CACHE)
def pick_community(seed, step, entity, purpose, start, stop, population, weight):
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


@njit(cache=kernel_cache.CACHE)
def kill_civilians(communities, i, kind, deaths):
    """``deaths`` residents of community ``i`` killed by ``kind`` (a column of PERPETRATORS)."""
    communities.population[i] -= deaths
    communities.dead[i, kind] += deaths
    communities.dead_step[i, kind] += deaths


@njit(cache=kernel_cache.CACHE)
def _harm(seed, step, u, kind, deaths, start, stop, communities, tolls):
    """``deaths`` civilians killed by one unit's operation, recorded for oversight (M6)."""
    population = communities.population
    i = pick_community(seed, step, u, HARM_TARGET, start, stop, population,
                       communities.support)
    if i < 0:
        i = pick_community(seed, step, u, HARM_TARGET, start, stop, population, population)
    deaths = min(deaths, math.floor(population[i]))
    kill_civilians(communities, i, kind, deaths)
    tolls.operation[u] = deaths


@njit(cache=kernel_cache.CACHE)
def force_operations(seed, step, units, kind_effort, cell_start, communities, cells, rates,
                     tolls):
    """One week of operations by every active unit against the bands of its cell."""
    units = ForcesView(*units)
    communities = CommunitiesView(*communities)
    cells = CellsView(*cells)
    for u in range(len(units.cell)):
        tolls.operation[u] = 0.0
        tolls.atrocity[u] = 0.0
        if not units.active[u] or units.strength[u] <= 0.0:
            continue
        kind = units.kind[u]
        c = units.cell[u]
        ins = cells.insurgents[c, 0] + cells.insurgents[c, 1]
        located = cells.intelligence[c] * (1.0 - cells.concealment[c])
        d = units.discrimination[u]
        # Effort spent guarding mines is not spent fighting (conduct).
        op = units.strength[u] * units.firepower[u] * kind_effort[kind] * (1.0 - units.guard[u])
        contact = ins / (ins + CONTACT_HALF)
        # The force aimed at combatants, op * d, reaches the located bands, and a few others.
        kills = rates.kill * op * d * (located + BLIND_SHARE * (1.0 - located)) * contact
        kills = min(rng.poisson(seed, step, u, KILLS, kills), KILL_CAP * ins)
        cells.kills[c] += kills

        pop_c = cells.population[c]
        if pop_c <= 0.0:
            continue
        density = pop_c / (pop_c + DENSITY_HALF)
        suspicion = SUSPICION_BASE + cells.support[c]
        harm = rates.harm * op * (1.0 - d) * (1.0 - located) * suspicion * density
        harm *= HARM_WITHOUT_CONTACT + (1.0 - HARM_WITHOUT_CONTACT) * contact
        deaths = rng.poisson(seed, step, u, HARM, harm)
        # Called only when someone dies: a call that takes the state's tables costs more than
        # the draw (numba counts a reference to each of their arrays in and out).
        if deaths > 0.0:
            _harm(seed, step, u, kind, deaths, cell_start[c], cell_start[c + 1], communities,
                  tolls)
        p_atrocity = rates.atrocity * (1.0 - units.discipline[u]) ** 2 * (1.0 - d) * suspicion
        if rng.uniform(seed, step, u, ATROCITY, 0) < p_atrocity:
            _atrocity(seed, step, u, kind, cell_start[c], cell_start[c + 1], communities, rates,
                      tolls)


@njit(cache=kernel_cache.CACHE)
def _atrocity(seed, step, u, kind, start, stop, communities, rates, tolls):
    i = pick_community(seed, step, u, ATROCITY_TARGET, start, stop, communities.population,
                       communities.support)
    if i < 0:
        return
    size = rng.pareto(seed, step, u, ATROCITY_SIZE, rates.atrocity_min, rates.atrocity_alpha)
    size = min(math.floor(min(size, rates.atrocity_max)),
               math.floor(HALF_COMMUNITY * communities.population[i]))
    if size > 0.0:
        kill_civilians(communities, i, kind, size)
        tolls.atrocity[u] = size


@njit(cache=kernel_cache.CACHE)
def forced_atrocity(seed, step, entity, kind, cell_start, cell, communities, size):
    """A scheduled mass-atrocity operation in one cell (an event of the scenario).

    Returns the community hit (-1 if the cell is empty) and the toll: ``size`` civilians,
    capped at half the community.  Large villages are the likeliest targets (weight
    population^2).
    """
    communities = CommunitiesView(*communities)
    population = communities.population
    i = pick_community(seed, step, entity, SCHEDULED_TARGET, cell_start[cell], cell_start[cell + 1],
                       population, population)
    if i < 0:
        return -1, 0.0
    size = min(math.floor(size), math.floor(HALF_COMMUNITY * population[i]))
    kill_civilians(communities, i, kind, size)
    return i, size


@njit(cache=kernel_cache.CACHE)
def band_losses(bands, cells):
    """Share the combatants killed in each cell among its bands, by strength. Returns the total."""
    bands, cells = BandsView(*bands), CellsView(*cells)
    total = 0.0
    for b in range(len(bands.cell)):
        if not bands.active[b]:
            continue
        c = bands.cell[b]
        present = cells.insurgents[c, 0] + cells.insurgents[c, 1]
        if present <= 0.0:
            continue
        share = bands.strength[b] / present
        loss = cells.kills[c] * share
        own = cells.insurgents[c, bands.faction[b]]
        if own > 0.0:
            loss += cells.rival_losses[c, bands.faction[b]] * bands.strength[b] / own
        loss = min(loss, bands.strength[b])
        bands.strength[b] -= loss
        total += loss
    return total


def operate(model, week) -> None:
    """Every unit's operation of the week; each operation or atrocity that kills civilians is
    an abuse for oversight."""
    f, c = model.forces, model.communities
    kind_effort = model.pay_share  # effort of each kind, from what it is paid (M7)
    tolls = Tolls(np.zeros(len(f)), np.zeros(len(f)))
    force_operations(model.seed, model.t, f.view(), kind_effort, model.world.cell_start,
                     c.view(), model.cells.view(), engagement_rates(model.p), tolls)
    for u in np.flatnonzero((tolls.operation > 0) | (tolls.atrocity > 0)):
        for source, deaths in (("operation", tolls.operation[u]), ("atrocity", tolls.atrocity[u])):
            if deaths > 0:
                week.abuses.append(Abuse(source, int(u), int(f.kind[u]), float(deaths)))


@njit(cache=kernel_cache.CACHE)
def unit_losses(units, held, killed, by_kind):
    """Share the personnel killed in each cell (``killed``) among its active units, by
    strength (``held`` per cell); a unit left with one person or none is out.  Adds each kind's
    losses to ``by_kind`` and returns the total, summed as numpy sums."""
    units = ForcesView(*units)
    loss = np.zeros(len(units.kind))
    for u in range(len(units.kind)):
        if not units.active[u]:
            continue
        c = units.cell[u]
        share = units.strength[u] / held[c] if held[c] > 0.0 else 0.0
        # min: the shares of a cell's losses can round a hair above a unit's strength.
        loss[u] = min(killed[c] * share, units.strength[u])
        units.strength[u] -= loss[u]
        units.active[u] = units.strength[u] > 1.0
    for u in range(len(units.kind)):
        by_kind[units.kind[u]] += loss[u]
    return numpy_sum(loss, len(loss))


def losses(model, week) -> None:
    """Fighters killed by forces and rivals leave their bands; personnel killed by armed groups
    leave their units, shared by strength."""
    cells = model.cells
    week.insurgents_killed = band_losses(model.bands.view(), cells.view())
    week.force_killed_by_kind = np.zeros(len(FORCE_KINDS))
    week.force_killed = unit_losses(model.forces.view(), cells.forces, cells.force_losses,
                                    week.force_killed_by_kind)


def record(model, week) -> None:
    """The week's combatant deaths and the mean discrimination of each force."""
    f = model.forces
    week.row["largest_event"] = float(max([a.deaths for a in week.all_abuses()], default=0.0))
    week.row["combatant_deaths"] = float(week.insurgents_killed + week.force_killed)
    week.row["state_discrimination"] = f.active_mean(f.discrimination, STATE)
    week.row["contractor_discrimination"] = f.active_mean(f.discrimination, CONTRACTOR)


MECHANISM = Mechanism("M02", "attrition over discrimination", PARAMETERS, OUTCOMES,
                      kernels=(force_operations, band_losses, unit_losses), record=record)
OPERATIONS = Step(MECHANISM, "operations", operate)
LOSSES = Step(MECHANISM, "combat losses", losses)
