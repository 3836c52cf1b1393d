"""M4 Harm erodes cooperation and raises grievance; news of it travels along group ties.

Civilian harm by a side lowers the victims' cooperation with that side; news travels to other
communities of the same social group nearby and, through ``map.ties``, across the country:
punitive operations that "blurred the line between combatants and civilians" are remembered by
the whole group.  Harm by the armed groups lowers support for them and raises cooperation with
the state (the Condra-Shapiro asymmetry).  The memory and cooperation terms here run inside the
fused attitude loop (:mod:`sim.mechanisms.attitudes`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from sim import kernel_cache
from sim.core.compiled import PRANGE_ONLY
from sim.core.registry import Mechanism, Outcome, Param, Step
from sim.core.state import (
    CONTRACTOR,
    COOPERATION,
    INSURGENT,
    MILITIA,
    PARTNER,
    STATE,
    CommunitiesView,
)
from sim.world import geography
from sim.world.geography import WorldView

PARAMETERS = (
    # Kind world: the shape of the social fabric that news travels through.
    Param("map.ties", 0.05, 0.0, 1.0, "share",
          "weight of the whole social group (not only neighbours) in the spread of news",
          kind="world"),
    Param("community.harm_sensitivity", 400.0, 0.0, 1e5, "per death-share",
          "weight of a community's own civilian deaths (per resident) on its memory of abuses",
          kind="behaviour"),
    Param("community.news", 0.5, 0.0, 1.0, "0-1",
          "how strongly news of abuses travels to communities of the same social group",
          kind="behaviour"),
    Param("community.memory_decay", 0.02, 0.0, 1.0, "1/week", "fading of the memory of abuses",
          kind="behaviour"),
)

# Weights of the cooperation target's logit: the model's assumptions (docs/ODD.md 7.4, "M4 Harm
# erodes cooperation").
COOPERATION_LEGITIMACY = 3.0
COOPERATION_SERVICES = 1.5
COOPERATION_CONTROL = 1.5
COOPERATION_STATE_HARM = 4.0
COOPERATION_INSURGENT_HARM = 3.0
COOPERATION_DISPLACEMENT = 3.0


@njit(cache=kernel_cache.CACHE, inline="always")
def heard(harm_sensitivity, own, news_weight, news):
    """How much of a week's deaths a community takes in: its own, and news of its group's."""
    return harm_sensitivity * (own + news_weight * news)


@njit(cache=kernel_cache.CACHE, inline="always")
def state_side_deaths(dead_step, i):
    """Community ``i``'s deaths of the week that its people hold against the state's side: by
    the state's forces, its contractor and partners, and by the community militias (M15) that
    the state tolerates or arms, whose victims hold it responsible for them."""
    return (dead_step[i, STATE] + dead_step[i, CONTRACTOR] + dead_step[i, PARTNER]
            + dead_step[i, MILITIA])


@njit(cache=kernel_cache.CACHE, inline="always")
def cooperation_target(legitimacy, services, control, state_harm, insurgent_harm, gone):
    """Where cooperation with the state heads: up with legitimacy, services and protection and
    with harm by the armed groups; down with memories of state-side harm and displacement."""
    x = cooperation_logit(legitimacy, services, control, state_harm, insurgent_harm, gone)
    return 1.0 / (1.0 + math.exp(-x))


@njit(cache=kernel_cache.CACHE, inline="always")
def cooperation_logit(legitimacy, services, control, state_harm, insurgent_harm, gone):
    """The logit of :func:`cooperation_target`: its terms, weighed, before the logistic."""
    return (COOPERATION_LEGITIMACY * (legitimacy - 0.5) + COOPERATION_SERVICES * services
            + COOPERATION_CONTROL * (control - 0.5) - COOPERATION_STATE_HARM * state_harm
            + COOPERATION_INSURGENT_HARM * insurgent_harm - COOPERATION_DISPLACEMENT * gone)


@njit(cache=kernel_cache.CACHE)
def spread_news(world, n_groups, communities, ties, out_state, out_insurgent):
    """Per (cell, group): deaths per resident suffered by the group nearby and across the country.

    Each community hears of the deaths its own social group suffered in its cell and the eight
    around it, and, weighted by ``ties``, anywhere in the country.  ``out_state`` counts deaths
    caused by the state's side (state, contractor, partner, and the militias it tolerates or
    arms: :func:`state_side_deaths`), ``out_insurgent`` those caused by armed groups.

    News is worked out only where someone hears it, the settled cells: the rows of empty cells
    are left as they were.  Most weeks few cells see deaths, so the near term is worked out only
    around them: elsewhere it is exactly zero and the news is the country-wide term alone.  The
    work scales with the settled cells and the cells that saw deaths, not with the map.
    """
    # Named here, not in the parallel loop's function: numba loses writes made through a
    # named tuple built inside a parallel function (numba 0.68).
    _spread_news(
        WorldView(*world), n_groups, CommunitiesView(*communities), ties, out_state, out_insurgent)


@njit(cache=kernel_cache.CACHE, parallel=PRANGE_ONLY)
def _spread_news(world, n_groups, communities, ties, out_state, out_insurgent):
    # Only settled cells are visited: most of the map is empty, and its sums of nothing add
    # exactly zero to every total below.  Rows of empty cells are never read, so they are left
    # unset rather than zeroed.
    width, height = world.width, world.height
    settled, cell_start = world.settled, world.cell_start
    n_cells = width * height
    local_pop = np.empty((n_cells, n_groups))
    local_state = np.empty((n_cells, n_groups))
    local_ins = np.empty((n_cells, n_groups))
    dead_step = communities.dead_step
    for s in prange(len(settled)):
        c = settled[s]
        for g in range(n_groups):
            local_pop[c, g] = 0.0
            local_state[c, g] = 0.0
            local_ins[c, g] = 0.0
        for i in range(cell_start[c], cell_start[c + 1]):
            g = communities.group[i]
            state_side = state_side_deaths(dead_step, i)
            local_pop[c, g] += communities.population[i] + state_side + dead_step[i, INSURGENT]
            local_state[c, g] += state_side
            local_ins[c, g] += dead_step[i, INSURGENT]
    far_state, far_ins = _country_wide(settled, local_pop, local_state, local_ins)
    for c in settled:
        for g in range(n_groups):
            out_state[c, g] = ties * far_state[g]
            out_insurgent[c, g] = ties * far_ins[g]
    done = np.zeros((n_cells, n_groups), np.bool_)
    for k in settled:
        for g in range(n_groups):
            if local_state[k, g] == 0.0 and local_ins[k, g] == 0.0:
                continue
            x_lo, x_hi, y_lo, y_hi = _around(k, width, height)
            for y in range(y_lo, y_hi):
                for x in range(x_lo, x_hi):
                    c = y * width + x
                    if done[c, g] or cell_start[c] == cell_start[c + 1]:
                        continue
                    done[c, g] = True
                    pop, st, ins = _near(cell_start, local_pop, local_state, local_ins, c, g,
                                         width, height)
                    near_state = st / pop if pop > 0.0 else 0.0
                    near_ins = ins / pop if pop > 0.0 else 0.0
                    out_state[c, g] = near_state + ties * far_state[g]
                    out_insurgent[c, g] = near_ins + ties * far_ins[g]


@njit(cache=kernel_cache.CACHE)
def _country_wide(settled, local_pop, local_state, local_ins):
    """Deaths per resident of each group across the country, summed cell by cell in order."""
    n_groups = local_pop.shape[1]
    group_pop = np.zeros(n_groups)
    group_state = np.zeros(n_groups)
    group_ins = np.zeros(n_groups)
    for c in settled:
        for g in range(n_groups):
            group_pop[g] += local_pop[c, g]
            group_state[g] += local_state[c, g]
            group_ins[g] += local_ins[c, g]
    far_state = np.zeros(n_groups)
    far_ins = np.zeros(n_groups)
    for g in range(n_groups):
        if group_pop[g] > 0.0:
            far_state[g] = group_state[g] / group_pop[g]
            far_ins[g] = group_ins[g] / group_pop[g]
    return far_state, far_ins


@njit(cache=kernel_cache.CACHE, inline="always")
def _around(k, width, height):
    """The columns and rows (each as start, stop) of cell ``k`` and the cells around it."""
    x0 = k % width
    y0 = k // width
    return max(0, x0 - 1), min(width, x0 + 2), max(0, y0 - 1), min(height, y0 + 2)


@njit(cache=kernel_cache.CACHE, inline="always")
def _near(cell_start, local_pop, local_state, local_ins, c, g, width, height):
    """Residents of group ``g`` in cell ``c`` and around it, and their deaths by each side."""
    pop = 0.0
    st = 0.0
    ins = 0.0
    x_lo, x_hi, y_lo, y_hi = _around(c, width, height)
    for y in range(y_lo, y_hi):
        for x in range(x_lo, x_hi):
            k = y * width + x
            if cell_start[k] == cell_start[k + 1]:
                continue
            pop += local_pop[k, g]
            st += local_state[k, g]
            ins += local_ins[k, g]
    return pop, st, ins


def setup(model) -> None:
    """News of the week, per (cell, group), by who caused the deaths."""
    model.news_state = np.zeros((model.world.cells, len(geography.GROUPS)))
    model.news_insurgent = np.zeros_like(model.news_state)


def spread(model, week) -> None:
    """The week's deaths become news among each social group."""
    spread_news(model.world.view(), len(geography.GROUPS), model.communities.view(),
                model.p["map.ties"], model.news_state, model.news_insurgent)


def record(model, week) -> None:
    """Mean cooperation with the state, weighted by residents."""
    week.row["cooperation_mean"] = week.mean(COOPERATION)


OUTCOMES = (
    Outcome("cooperation_mean", "cooperation", "0-1", summary="cooperation_mean_final",
            share=True, shown=frozenset({"table", "ranking", "plot", "chart"}),
            title="cooperation with the state", better="higher"),
)
MECHANISM = Mechanism("M04", "harm and news", PARAMETERS, OUTCOMES, kernels=(spread_news,),
                      setup=setup, record=record)
NEWS = Step(MECHANISM, "news spreads", spread)
