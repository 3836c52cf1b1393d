"""M4 Harm erodes cooperation and raises grievance; M8 grievance follows hardship x (1 - L)."""

from __future__ import annotations

import math

from numba import njit, prange


@njit(cache=True)
def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


@njit(cache=True, parallel=True)
def update_attitudes(cell, group, population, initial_population, displaced, dead_step,
                     cooperation, support, grievance, memory, insurgent_memory, fear,
                     news_state, news_insurgent, cell_control, legitimacy, hardship, adaptation,
                     harm_sensitivity, news_weight, memory_decay, deterrence, services,
                     reconciliation, humanitarian):
    """Move each community's memory, cooperation, grievance and support one week.

    * Memory of abuses (decaying) grows with the community's own civilian deaths by state-side
      forces and, through ``news_weight``, with those of its social group nearby (M4).
    * Cooperation with the state falls with that memory and with displacement, rises with
      legitimacy, services and protection, and rises when armed groups are the ones who kill
      (the Condra-Shapiro asymmetry).
    * Grievance follows Epstein's hardship x (1 - legitimacy), where hardship grows with abuses
      and displacement (M8, M12); reconciliation lowers it (M13), humanitarian access softens the
      hardship of displacement (M14).
    * Support for the armed groups follows grievance and falls with their own abuses; fear of
      force suppresses it for a while when ``deterrence`` > 0 (Lyall, M5): the sign of the
      effect of force is not hard-wired.
    """
    for i in prange(len(cell)):
        pop = population[i]
        at_risk = pop + dead_step[i, 0] + dead_step[i, 1] + dead_step[i, 2] + dead_step[i, 3]
        if at_risk <= 0.0:
            continue
        own_state = (dead_step[i, 0] + dead_step[i, 1] + dead_step[i, 2]) / at_risk
        own_ins = dead_step[i, 3] / at_risk
        c = cell[i]
        g = group[i]
        heard_state = harm_sensitivity * (own_state + news_weight * news_state[c, g])
        heard_ins = harm_sensitivity * (own_ins + news_weight * news_insurgent[c, g])
        memory[i] = memory[i] * (1.0 - memory_decay) + heard_state
        insurgent_memory[i] = insurgent_memory[i] * (1.0 - memory_decay) + heard_ins
        fear[i] = 0.85 * fear[i] + 0.15 * min(1.0, 200.0 * heard_state)
        m = min(1.0, memory[i])
        mi = min(1.0, insurgent_memory[i])
        gone = displaced[i] / initial_population[i] if initial_population[i] > 0.0 else 0.0

        coop_target = _sigmoid(
            3.0 * (legitimacy - 0.5) + 1.5 * services + 1.5 * (cell_control[c] - 0.5)
            - 4.0 * m + 3.0 * mi - 3.0 * gone
        )
        cooperation[i] += adaptation * (coop_target - cooperation[i])

        local_legitimacy = legitimacy * (1.0 - 0.5 * m)
        hard = hardship + (1.0 - hardship) * min(
            1.0, 0.5 * m + gone * (1.0 - 0.6 * humanitarian))
        grv_target = hard * (1.0 - local_legitimacy) * (1.0 - 0.4 * reconciliation)
        grievance[i] += adaptation * (grv_target - grievance[i])

        sup_target = _sigmoid(
            6.0 * (grievance[i] - 0.5) - 6.0 * mi - 2.0 * (cooperation[i] - 0.5)
            - 4.0 * deterrence * fear[i]
        )
        support[i] += adaptation * (sup_target - support[i])
