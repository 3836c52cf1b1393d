"""M15 Community militias: self-defence groups form where the state is absent and grievance runs
along group lines, and attack communities of other groups.

"Where the state is absent and grievance runs along group lines, self-defence militias form (in
central Mali: Dan Na Ambassagou, Dozo hunters; Fulani groups), tolerated or armed by the state,
and attack communities of other groups."  A militia is a strength per (cell, social group): it
grows from the residents of its group who were harmed by the armed groups, which they blame on
neighbours of another group who support them, or by another group's militia; it fades where
the state holds the cell.  The state's stance, ``militias.arming`` (0 tolerated, 1 armed),
makes them stronger and deadlier and shields them from the state's action against their
abuses.  Their killings are a perpetrator of their own (``MILITIA`` in the death arrays), so
that M4 spreads them as news among the victims' group, which holds the state that tolerates or
arms the militias responsible: its grievance rises and the armed groups recruit from it (M5).
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

from sim import kernel_cache
from sim.core import rng
from sim.core.registry import Mechanism, Outcome, Param, Step
from sim.core.state import MILITIA, CellsView, CommunitiesView
from sim.mechanisms.m02_attrition import kill_civilians
from sim.world import geography
from sim.world.geography import WorldView

PARAMETERS = (
    Param("militias.formation", 0.0005, 0.0, 0.1, "1/week",
          "residents of a threatened group who take up arms a week, where the state is absent",
          kind="behaviour"),
    Param("militias.threat", 100.0, 0.0, 1000.0, "per memory-share",
          "how strongly a group's memory of armed-group abuses, blamed on neighbours of another "
          "group who support the armed groups, makes it feel threatened", kind="behaviour"),
    Param("militias.decay", 0.02, 0.0, 1.0, "1/week",
          "share of a militia that disbands a week where the state holds the cell and no "
          "threat remains", kind="behaviour"),
    Param("militias.violence", 0.004, 0.0, 1.0, "deaths/fighter-week",
          "civilians of other groups a militia member kills a week, among neighbours who are "
          "all of other groups", kind="behaviour"),
    Param("militias.arms", 1.0, 0.0, 10.0, "multiplier",
          "how much arming by the state adds to a militia's recruitment and firepower",
          kind="behaviour"),
    Param("militias.arming", 0.0, 0.0, 1.0, "0-1",
          "the state's stance towards community militias: 0 tolerated, 1 armed",
          kind="institution"),
    Param("militias.crackdown", 0.1, 0.0, 1.0, "1/week",
          "chance a week that a state holding the cell acts against a militia that killed "
          "civilians, if it does not arm them", kind="institution"),
)

# The model's assumptions (docs/ODD.md 7.15, "M15 Community militias").
FORCES_HALF = 200.0  # personnel in a cell at which the state's absence is halved (as M1's posts)
MOBILISABLE = 0.01  # most of a group's residents in its militia: Dan Na Ambassagou was reported
#                     to claim a few thousand fighters among about a million Dogon
CRACKDOWN_SHARE = 0.5  # share of a militia disarmed or arrested when the state acts
SUSPICION_FLOOR = 0.1  # weight of a victim community that does not support the armed groups,
#                        beside 1 for one that does: militias strike those they suspect most
RADIUS = 1  # cells around its own that a militia raids (a cell is about 45 km)

MOBILISE = rng.purpose("m15.mobilise")
RAID = rng.purpose("m15.raid")
RAID_TARGET = rng.purpose("m15.raid_target")
CRACKDOWN = rng.purpose("m15.crackdown")

Mobilisation = namedtuple("Mobilisation",
                          "formation threat decay arms arming harm_sensitivity memory_decay")
Raids = namedtuple("Raids", "violence arms arming crackdown")


@njit(cache=kernel_cache.CACHE, inline="always")
def absence(control, forces):
    """How absent the state is from a cell: no control and few of its forces there."""
    return (1.0 - control) * FORCES_HALF / (FORCES_HALF + forces)


@njit(cache=kernel_cache.CACHE, inline="always")
def threat(sensitivity, insurgent_harm, suspected, militia_harm):
    """How threatened a group feels along group lines (0-1): its memory of the armed groups'
    abuses times the share of the cell's residents who are of another group and support them,
    weighted by ``sensitivity``, plus its memory of killings by other groups' militias."""
    return min(1.0, sensitivity * insurgent_harm * suspected + militia_harm)


@njit(cache=kernel_cache.CACHE)
def _group_sums(start, stop, communities, residents, harmed, supporters):
    for g in range(len(residents)):
        residents[g] = 0.0
        harmed[g] = 0.0
        supporters[g] = 0.0
    for i in range(start, stop):
        g = communities.group[i]
        p = communities.population[i]
        residents[g] += p
        harmed[g] += p * communities.insurgent_memory[i]
        supporters[g] += p * communities.support[i]


@njit(cache=kernel_cache.CACHE)
def mobilise_militias(seed, step, world, communities, cells, militias, militia_memory, victims,
                      k):
    """One week of every militia's recruitment and disbanding, per (cell, group).

    Recruits ~ Poisson(formation x residents x threat x absence x (1 + arms x arming) x room),
    room = 1 - strength / (MOBILISABLE x residents); disbanding = strength x decay x (1 - threat x
    absence).  First the memory of last week's militia killings (``victims``) is updated.
    """
    world, communities, cells = WorldView(*world), CommunitiesView(*communities), CellsView(*cells)
    n_groups = militias.shape[1]
    residents = np.zeros(n_groups)
    harmed = np.zeros(n_groups)
    supporters = np.zeros(n_groups)
    armed = 1.0 + k.arms * k.arming
    # An empty cell has nothing to remember, no militia to decay and no one to recruit: all its
    # values stay exactly zero, so only the settled cells are visited.
    for c in world.settled:
        if world.cell_country[c] != 0:
            continue
        _group_sums(world.cell_start[c], world.cell_start[c + 1], communities, residents,
                    harmed, supporters)
        total = residents.sum()
        all_supporters = supporters.sum()
        gap = absence(cells.control[c], cells.forces[c])
        for g in range(n_groups):
            pop = residents[g]
            lost = victims[c, g]
            victims[c, g] = 0.0
            heard = lost / (pop + lost) if pop + lost > 0.0 else 0.0
            militia_memory[c, g] = (militia_memory[c, g] * (1.0 - k.memory_decay)
                                    + k.harm_sensitivity * heard)
            s = militias[c, g]
            if pop <= 0.0:
                militias[c, g] = s * (1.0 - k.decay)
                continue
            suspected = (all_supporters - supporters[g]) / total
            drive = threat(k.threat, harmed[g] / pop, suspected, militia_memory[c, g]) * gap
            room = max(0.0, 1.0 - s / (MOBILISABLE * pop))
            lam = k.formation * pop * drive * armed * room
            recruits = rng.poisson(seed, step, c * n_groups + g, MOBILISE, lam)
            militias[c, g] = max(0.0, s - s * k.decay * (1.0 - drive) + recruits)


@njit(cache=kernel_cache.CACHE, inline="always")
def _neighbourhood(world, c):
    x0 = c % world.width
    y0 = c // world.width
    return (max(0, x0 - RADIUS), min(world.width, x0 + RADIUS + 1), max(0, y0 - RADIUS),
            min(world.height, y0 + RADIUS + 1))


@njit(cache=kernel_cache.CACHE, inline="always")
def _others_around(world, communities, c, g, suspicion):
    """Residents around cell ``c`` (all, and of groups other than ``g``), or, with
    ``suspicion``, the weight of those others as targets."""
    x_lo, x_hi, y_lo, y_hi = _neighbourhood(world, c)
    everyone = 0.0
    others = 0.0
    for y in range(y_lo, y_hi):
        for x in range(x_lo, x_hi):
            cell = y * world.width + x
            for i in range(world.cell_start[cell], world.cell_start[cell + 1]):
                p = communities.population[i]
                everyone += p
                if communities.group[i] != g:
                    others += p * (SUSPICION_FLOOR + communities.support[i]) if suspicion else p
    return everyone, others


@njit(cache=kernel_cache.CACHE, inline="always")
def _pick_victims(seed, step, e, world, communities, c, g):
    """A community of another group around cell ``c``, drawn by residents x suspicion."""
    _, total = _others_around(world, communities, c, g, True)
    if total <= 0.0:
        return -1
    target = rng.uniform(seed, step, e, RAID_TARGET, 0) * total
    acc = 0.0
    x_lo, x_hi, y_lo, y_hi = _neighbourhood(world, c)
    last = -1
    for y in range(y_lo, y_hi):
        for x in range(x_lo, x_hi):
            cell = y * world.width + x
            for i in range(world.cell_start[cell], world.cell_start[cell + 1]):
                if communities.group[i] == g:
                    continue
                w = communities.population[i] * (SUSPICION_FLOOR + communities.support[i])
                if w <= 0.0:
                    continue
                last = i
                acc += w
                if acc >= target:
                    return i
    return last


@njit(cache=kernel_cache.CACHE, inline="always")
def _surely_no_raid(seed, step, e, most):
    """Whether militia ``e``'s raid draw kills nobody whatever the residents around it.

    The raid's Poisson mean is at most ``most`` (all around being of other groups), and the
    draw is zero when its uniform is at most exp(-mean): a uniform at most exp(-most), with a
    margin for rounding, decides it without looking at the neighbourhood.  Most militias are
    small remnants, so most weeks most of them are settled here.
    """
    if most > rng.POISSON_EXACT:
        return False
    return rng.uniform(seed, step, e, RAID, 0) <= math.exp(-most * (1.0 + 1e-9))


@njit(cache=kernel_cache.CACHE)
def militia_raids(seed, step, world, communities, cells, militias, victims, k):
    """One week of every militia's raids on communities of other groups around its cell.

    Deaths ~ Poisson(violence x strength x (1 + arms x arming) x others / everyone around); the
    victims are counted in ``victims`` per (cell, group) for next week's memory.  After a raid
    that killed, the state acts against the militia with chance crackdown x (1 - arming) x
    (1 - absence), disarming ``CRACKDOWN_SHARE`` of it.
    """
    world, communities, cells = WorldView(*world), CommunitiesView(*communities), CellsView(*cells)
    n_groups = militias.shape[1]
    firepower = 1.0 + k.arms * k.arming
    # Militias form only where people live (see mobilise_militias).
    for c in world.settled:
        for g in range(n_groups):
            s = militias[c, g]
            if s <= 0.0:
                continue
            e = c * n_groups + g
            if _surely_no_raid(seed, step, e, k.violence * s * firepower):
                continue
            everyone, others = _others_around(world, communities, c, g, False)
            if others <= 0.0:
                continue
            lam = k.violence * s * firepower * others / everyone
            deaths = rng.poisson(seed, step, e, RAID, lam)
            if deaths <= 0.0:
                continue
            i = _pick_victims(seed, step, e, world, communities, c, g)
            if i < 0:
                continue
            deaths = min(deaths, math.floor(communities.population[i]))
            kill_civilians(communities, i, MILITIA, deaths)
            victims[communities.cell[i], communities.group[i]] += deaths
            chance = k.crackdown * (1.0 - k.arming) * (
                1.0 - absence(cells.control[c], cells.forces[c]))
            if rng.uniform(seed, step, e, CRACKDOWN, 0) < chance:
                militias[c, g] = s * (1.0 - CRACKDOWN_SHARE)


def setup(model) -> None:
    """No militias at the start; their strength, the memory of their killings and last week's
    victims, per (cell, social group)."""
    shape = (model.world.cells, len(geography.GROUPS))
    model.militias = np.zeros(shape)
    model.militia_memory = np.zeros(shape)
    model.militia_victims = np.zeros(shape)


def mobilise(model, week) -> None:
    """Militias grow where the state is absent and a group feels threatened, and disband where
    it holds the cell."""
    p = model.p
    k = Mobilisation(p["militias.formation"], p["militias.threat"], p["militias.decay"],
                     p["militias.arms"], p["militias.arming"], p["community.harm_sensitivity"],
                     p["community.memory_decay"])
    mobilise_militias(model.seed, model.t, model.world.view(), model.communities.view(),
                      model.cells.view(), model.militias, model.militia_memory,
                      model.militia_victims, k)


def raid(model, week) -> None:
    """Militias raid communities of other groups nearby; the state may act against them."""
    p = model.p
    k = Raids(p["militias.violence"], p["militias.arms"], p["militias.arming"],
              p["militias.crackdown"])
    militia_raids(model.seed, model.t, model.world.view(), model.communities.view(),
                  model.cells.view(), model.militias, model.militia_victims, k)


def record(model, week) -> None:
    """Militia fighters at the end of the week."""
    week.row["militia_strength"] = float(model.militias.sum())


OUTCOMES = (
    Outcome("militia_strength", "militia fighters", "fighters",
            summary="militia_strength_final", shown=frozenset({"table"}),
            title="community militia fighters"),
)
MECHANISM = Mechanism("M15", "community militias", PARAMETERS, OUTCOMES,
                      kernels=(mobilise_militias, militia_raids), setup=setup, record=record)
MOBILISATION = Step(MECHANISM, "militias form and disband", mobilise)
RAIDS = Step(MECHANISM, "militias raid other groups", raid)
