"""Armed-group violence: against forces in the cell, against rivals, and against civilians.

Attacks on forces need local information (Condra & Shapiro 2012): civilians' information flows
to the side they cooperate with, and a band finds the forces of its cell as well as the
residents who support it tell it where they are.  Fear of force keeps informants quiet, and
with ``insurgents.deterrence`` > 0 also suppresses attacks for a while (Lyall, M5).  With ``s``
the band's strength, ``F`` the forces' personnel in its cell, ``sup`` and ``fear`` the cell's
mean support for the armed groups and fear, and ``d = insurgents.deterrence``::

    informed = sup · (1 − d · fear)
    located  = BLIND_REACH + (1 − BLIND_REACH) · informed
    killed   ~ Poisson(insurgents.lethality · s · F/(F + FORCES_HALF) · (1 − d·fear) · located)

so state-side harm, which turns communities towards the armed groups (M4, M5), makes their
later attacks on forces deadlier, and harm by the armed groups, which turns communities against
them, makes them less so.  Bands punish communities that cooperate with the state (harm by
insurgents, the other side of the Condra-Shapiro asymmetry, M4).  A UN presence protects towns.
"""

from __future__ import annotations

import math
from collections import namedtuple

from numba import njit

from sim import kernel_cache
from sim.core import rng
from sim.core.registry import Mechanism, Param, Step
from sim.core.state import INSURGENT, BandsView, CellsView, CommunitiesView
from sim.mechanisms.m02_attrition import kill_civilians, pick_community
from sim.world.geography import WorldView

PARAMETERS = (
    Param("insurgents.coercion", 0.002, 0.0, 1.0, "deaths/fighter-week",
          "violence of bands against communities that cooperate with the state", kind="behaviour"),
    Param("insurgents.lethality", 0.004, 0.0, 1.0, "deaths/fighter-week",
          "combat power of a fighter against forces and rivals", kind="behaviour"),
    # Kind behaviour: the effect of a present mission on insurgent violence, like deterrence.
    Param("un.protection", 0.3, 0.0, 1.0, "0-1", "protection of towns against insurgent violence",
          kind="behaviour"),
)

# The model's assumptions (docs/ODD.md 7.5, "M5 Recruitment and concealment").
FORCES_HALF = 200.0  # personnel in a cell at which attacks on them are half as deadly as can be
RIVAL_LETHALITY = 0.5  # lethality against rival fighters, per unit against forces
# Share of its full effect an attack on forces reaches where no resident informs the band:
# garrisons and the roads between towns are known without informants.
BLIND_REACH = 0.25
FORCE_LOSSES = rng.purpose("violence.force_losses")
RIVALRY = rng.purpose("violence.rivalry")
COERCION = rng.purpose("violence.coercion")
COERCION_TARGET = rng.purpose("violence.coercion_target")

Violence = namedtuple("Violence", "coercion lethality deterrence town_protection")


@njit(cache=kernel_cache.CACHE)
def _coerce(seed, step, b, c, deaths, world, communities):
    """``deaths`` residents of cell ``c`` killed by band ``b``, in a community it picks by its
    cooperation with the state."""
    i = pick_community(seed, step, b, COERCION_TARGET, world.cell_start[c],
                       world.cell_start[c + 1], communities.population, communities.cooperation)
    if i >= 0:
        kill_civilians(communities, i, INSURGENT,
                       min(deaths, math.floor(communities.population[i])))


@njit(cache=kernel_cache.CACHE, inline="always")
def located_forces(support, fear, deterrence):
    """How well a band locates the forces of its cell, 0-1: what its informants tell it (the
    residents who support it, less those fear keeps quiet), over what it finds without them."""
    informed = support * (1.0 - deterrence * fear)
    return BLIND_REACH + (1.0 - BLIND_REACH) * informed


@njit(cache=kernel_cache.CACHE)
def insurgent_violence(seed, step, bands, world, communities, cells, cell_town, k):
    """One week of every band's attacks; losses of forces and rivals go to ``cells``."""
    bands = BandsView(*bands)
    world = WorldView(*world)
    communities = CommunitiesView(*communities)
    cells = CellsView(*cells)
    for b in range(len(bands.cell)):
        if not bands.active[b] or bands.strength[b] <= 0.0:
            continue
        c = bands.cell[b]
        if world.cell_country[c] != 0:
            continue
        s = bands.strength[b]
        restraint = 1.0 - k.deterrence * cells.fear[c]
        f = cells.forces[c]
        if f > 0.0:
            lam = k.lethality * s * f / (f + FORCES_HALF) * restraint * located_forces(
                cells.support[c], cells.fear[c], k.deterrence)
            # Capped at what the cell's forces have left after the bands before this one.
            left = max(f - cells.force_losses[c], 0.0)
            cells.force_losses[c] += min(rng.poisson(seed, step, b, FORCE_LOSSES, lam), left)
        other = 1 - bands.faction[b]
        rival = cells.insurgents[c, other]
        if rival > 0.0:
            lam = RIVAL_LETHALITY * k.lethality * min(s, rival)
            left = max(rival - cells.rival_losses[c, other], 0.0)
            cells.rival_losses[c, other] += min(rng.poisson(seed, step, b, RIVALRY, lam),
                                                left)
        if cells.population[c] <= 0.0:
            continue
        protect = 1.0 - k.town_protection * cell_town[c]
        lam = k.coercion * s * cells.cooperation[c] * restraint * protect
        deaths = rng.poisson(seed, step, b, COERCION, lam)
        # Called only when someone dies: a call that takes the state's tables costs more than
        # the draw (numba counts a reference to each of their arrays in and out).
        if deaths > 0.0:
            _coerce(seed, step, b, c, deaths, world, communities)


def attack(model, week) -> None:
    """The armed groups' attacks of the week (towns protected while the UN stays)."""
    p = model.p
    k = Violence(p["insurgents.coercion"], p["insurgents.lethality"], p["insurgents.deterrence"],
                 p["un.protection"] if model.un_present else 0.0)
    insurgent_violence(model.seed, model.t, model.bands.view(), model.world.view(),
                       model.communities.view(), model.cells.view(), model.cell_town, k)


MECHANISM = Mechanism("armed violence", "armed-group violence", PARAMETERS,
                      kernels=(insurgent_violence,))
ATTACKS = Step(MECHANISM, "armed groups attack", attack)
