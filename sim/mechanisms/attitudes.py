"""Attitudes: one fused kernel moves each community's memory, fear, cooperation, grievance and
support one week.

The terms belong to their mechanisms and are inlined here: memory and cooperation to M4
(:mod:`~sim.mechanisms.m04_harm_and_news`), fear and support to M5
(:mod:`~sim.mechanisms.m05_recruitment`), grievance to M8
(:mod:`~sim.mechanisms.m08_legitimacy`).  Displacement (M12) raises hardship and lowers
cooperation; services, reconciliation (M13) and humanitarian access (M14) enter as levers.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit, prange

from sim import kernel_cache
from sim.core.compiled import PRANGE_ONLY
from sim.core.registry import Mechanism, Param, Step
from sim.core.state import INSURGENT, CommunitiesView
from sim.mechanisms.m04_harm_and_news import cooperation_logit, heard, state_side_deaths
from sim.mechanisms.m05_recruitment import fear_after, support_logit
from sim.mechanisms.m07_rent import lever
from sim.mechanisms.m08_legitimacy import grievance_target

PARAMETERS = (
    Param("community.adaptation", 0.04, 0.0, 1.0, "1/week",
          "speed at which attitudes move towards their target", kind="behaviour"),
)

# Weight of UN mediation in reconciliation: the model's assumption (docs/ODD.md, M13).
MEDIATION_WEIGHT = 0.5

Coefficients = namedtuple("Coefficients", "hardship adaptation harm_sensitivity news memory_decay "
                                          "deterrence services reconciliation humanitarian")


@njit(cache=kernel_cache.CACHE)
def update_attitudes(communities, cell_control, news_state, news_insurgent, legitimacy, k):
    """Move each community's attitudes one week towards the targets of their mechanisms."""
    # Named here, not in the parallel loop's function: numba loses writes made through a
    # named tuple built inside a parallel function (numba 0.68).
    _update_attitudes(
        CommunitiesView(*communities), cell_control, news_state, news_insurgent, legitimacy, k)


@njit(cache=kernel_cache.CACHE, parallel=PRANGE_ONLY)
def _update_attitudes(communities, cell_control, news_state, news_insurgent, legitimacy, k):
    # fused: the first pass reads each community's inputs once and moves all five attitudes
    # but the two whose targets are logistic; a kernel per mechanism would stream the whole
    # population through memory five times a week.  Those two take their exp in loops of their
    # own, over arrays of one value a community: a loop of nothing but exp keeps several in
    # flight, where the fused pass waited on each (a default week's call: 120 -> 79 us, the same
    # numbers).
    # Arrays are taken out of their tuple before the parallel loops: numba loses writes made
    # through a tuple's field inside prange (seen with numba 0.68).
    memory, insurgent_memory, fear = communities.memory, communities.insurgent_memory, \
        communities.fear
    cooperation, grievance, support = communities.cooperation, communities.grievance, \
        communities.support
    c = communities
    d = c.dead_step
    n = len(c.cell)
    lived = np.empty(n, np.bool_)
    logit = np.empty(n)
    for i in prange(n):
        pop = c.population[i]
        state_side = state_side_deaths(d, i)
        at_risk = pop + state_side + d[i, INSURGENT]
        lived[i] = at_risk > 0.0
        logit[i] = 0.0
        if at_risk <= 0.0:
            continue
        cell = c.cell[i]
        g = c.group[i]
        heard_state = heard(k.harm_sensitivity, state_side / at_risk, k.news,
                            news_state[cell, g])
        heard_ins = heard(k.harm_sensitivity, d[i, INSURGENT] / at_risk, k.news,
                          news_insurgent[cell, g])
        memory[i] = memory[i] * (1.0 - k.memory_decay) + heard_state
        insurgent_memory[i] = insurgent_memory[i] * (1.0 - k.memory_decay) + heard_ins
        fear[i] = fear_after(fear[i], heard_state)
        m = min(1.0, memory[i])
        initial = c.initial_population[i]
        gone = c.displaced[i] / initial if initial > 0.0 else 0.0
        logit[i] = cooperation_logit(legitimacy, k.services, cell_control[cell], m,
                                     min(1.0, insurgent_memory[i]), gone)
        target = grievance_target(legitimacy, k.hardship, m, gone, k.humanitarian,
                                  k.reconciliation)
        grievance[i] += k.adaptation * (target - grievance[i])
    _towards_logistic(cooperation, logit, lived, k.adaptation)
    for i in prange(n):
        logit[i] = support_logit(grievance[i], min(1.0, insurgent_memory[i]), cooperation[i],
                                 k.deterrence, fear[i]) if lived[i] else 0.0
    _towards_logistic(support, logit, lived, k.adaptation)


@njit(cache=kernel_cache.CACHE, inline="always")
def _towards_logistic(attitude, logit, lived, adaptation):
    """Move each community's ``attitude`` by ``adaptation`` towards the logistic of its
    ``logit``, where the community had residents or deaths this week."""
    for i in prange(len(logit)):
        logit[i] = math.exp(-logit[i])
    for i in prange(len(logit)):
        if lived[i]:
            attitude[i] += adaptation * (1.0 / (1.0 + logit[i]) - attitude[i])


@njit(cache=kernel_cache.CACHE)
def update_attitudes_together(communities, cell_control, news_state, news_insurgent,
                              legitimacy, k):
    """:func:`update_attitudes` for the runs of an ensemble in one call: each table has the
    runs on its first axis, and ``legitimacy`` and the fields of ``k`` one value a run."""
    communities = CommunitiesView(*communities)
    c = communities
    for r in range(len(legitimacy)):
        run = CommunitiesView(c.cell[r], c.group[r], c.population[r], c.initial_population[r],
                              c.displaced[r], c.dead[r], c.dead_step[r], c.cooperation[r],
                              c.support[r], c.grievance[r], c.memory[r], c.insurgent_memory[r],
                              c.fear[r])
        kr = Coefficients(k.hardship[r], k.adaptation[r], k.harm_sensitivity[r], k.news[r],
                          k.memory_decay[r], k.deterrence[r], k.services[r],
                          k.reconciliation[r], k.humanitarian[r])
        _update_attitudes(run, cell_control[r], news_state[r], news_insurgent[r],
                          legitimacy[r], kr)


def coefficients(model) -> Coefficients:
    """The week's coefficients of a run: the levers act as far as the budget pays for them
    (M7), reconciliation helped by UN mediation while the UN stays."""
    p = model.p
    services = lever(model, "services")
    reconciliation = min(1.0, lever(model, "reconciliation")
                         + (p["un.mediation"] if model.un_present else 0.0) * MEDIATION_WEIGHT)
    return Coefficients(p["community.hardship"], p["community.adaptation"],
                        p["community.harm_sensitivity"], p["community.news"],
                        p["community.memory_decay"], p["insurgents.deterrence"], services,
                        reconciliation, lever(model, "humanitarian_access"))


def update(model, week) -> None:
    """Attitudes after the week's harm and news."""
    update_attitudes(model.communities.view(), model.cells.control, model.news_state,
                     model.news_insurgent, model.legitimacy, coefficients(model))


def update_together(ensemble, weeks) -> None:
    """:func:`update` for every run of an ensemble, in one kernel call."""
    models = ensemble.models
    k = Coefficients(*(np.array(column)
                       for column in zip(*map(coefficients, models), strict=True)))
    update_attitudes_together(ensemble.communities.view(), ensemble.cells.control,
                              ensemble.news_state, ensemble.news_insurgent,
                              np.array([m.legitimacy for m in models]), k)


MECHANISM = Mechanism("attitudes", "attitudes of communities", PARAMETERS,
                      kernels=(update_attitudes,))
ATTITUDES = Step(MECHANISM, "memory, fear, cooperation, grievance, support", update,
                 together=update_together)
