"""M8 Legitimacy: grievance follows hardship x (1 - legitimacy), in the spirit of Epstein (2002);
legitimacy falls with impunity and unprotected harm and rises with services, justice and
reconciliation."""

from __future__ import annotations

from numba import njit

from sim import kernel_cache
from sim.core.registry import Mechanism, Outcome, Param, Step
from sim.core.state import DEAD, GRIEVANCE, INSURGENT, MILITIA, POPULATION

PARAMETERS = (
    # Kind world: the legitimacy a regime starts from.
    Param("government.legitimacy", 0.5, 0.0, 1.0, "0-1", "initial legitimacy L", kind="world"),
    Param("government.legitimacy_speed", 0.01, 0.0, 1.0, "1/week",
          "speed at which legitimacy moves towards its target", kind="behaviour"),
    Param("government.protection_weight", 0.3, 0.0, 1.0, "0-1",
          "weight of unprotected harm (armed-group and militia violence) on legitimacy",
          kind="behaviour"),
    Param("oversight.impunity_cost", 0.0005, 0.0, 1.0, "per abuse",
          "legitimacy lost per documented but unpunished abuse", kind="behaviour"),
    Param("oversight.justice_gain", 0.001, 0.0, 1.0, "per abuse",
          "legitimacy regained per punished abuse", kind="behaviour"),
    # Kind world: the economic condition of the population, not a response.
    Param("community.hardship", 0.45, 0.0, 1.0, "0-1",
          "economic hardship H of Epstein's G=H(1-L)", kind="world"),
)

# The model's assumptions (docs/ODD.md 7.8, "M8 Legitimacy").
MEMORY_DISTRUST = 0.5  # share of legitimacy a community's full memory of abuses takes away
MEMORY_HARDSHIP = 0.5  # hardship added by a full memory of abuses
HUMANITARIAN_RELIEF = 0.6  # share of the hardship of displacement humanitarian access removes
RECONCILIATION_RELIEF = 0.4  # share of grievance full reconciliation removes
SERVICES_GAIN = 0.25  # legitimacy the state drifts to, per unit of each lever
RECONCILIATION_GAIN = 0.1
JUSTICE_GAIN = 0.1
MEDIATION_GAIN = 0.1
UNPROTECTED_PER_MILLION = 5.0  # killings by armed groups and militias a week per million: full cost
UNPROTECTED_COST = 0.02  # legitimacy lost in such a week, per unit of protection weight


@njit(cache=kernel_cache.CACHE, inline="always")
def grievance_target(legitimacy, hardship, memory, gone, humanitarian, reconciliation):
    """Epstein's G = H (1 - L), with hardship raised by abuses remembered and displacement, and
    legitimacy lowered locally by those memories."""
    local_legitimacy = legitimacy * (1.0 - MEMORY_DISTRUST * memory)
    hard = hardship + (1.0 - hardship) * min(
        1.0, MEMORY_HARDSHIP * memory + gone * (1.0 - HUMANITARIAN_RELIEF * humanitarian))
    return hard * (1.0 - local_legitimacy) * (1.0 - RECONCILIATION_RELIEF * reconciliation)


def anchor(p: dict, un_present: bool, lever_funding: float) -> float:
    """The legitimacy the state drifts back to: its starting level plus what its engagement
    levers buy, each at the share of its cost the budget paid (M7)."""
    levers = (SERVICES_GAIN * p["levers.services"] + RECONCILIATION_GAIN
              * p["levers.reconciliation"] + JUSTICE_GAIN * p["levers.justice"])
    value = p["government.legitimacy"] + levers * lever_funding
    if un_present:
        value += MEDIATION_GAIN * p["un.mediation"]
    return min(1.0, value)


def update_legitimacy(legitimacy: float, p: dict, review, insurgent_deaths: float,
                      population: float, un_present: bool, lever_funding: float) -> float:
    """One week of legitimacy.

    Each documented but unpunished abuse by host-side forces costs legitimacy (impunity), each
    punished one restores some (justice); civilians killed by armed groups or militias that the
    state failed to protect cost it too, per million people.
    """
    impunity = review.unpunished[0] + review.unpunished[1]
    justice = review.punished[0] + review.punished[1]
    per_million = insurgent_deaths / max(population / 1e6, 1e-9)
    unprotected = p["government.protection_weight"] * min(
        1.0, per_million / UNPROTECTED_PER_MILLION) * UNPROTECTED_COST
    legitimacy += p["government.legitimacy_speed"] * (anchor(p, un_present, lever_funding)
                                                     - legitimacy)
    legitimacy += p["oversight.justice_gain"] * justice - p["oversight.impunity_cost"] * impunity
    legitimacy -= unprotected
    return min(1.0, max(0.0, legitimacy))


def setup(model) -> None:
    """The state starts with the legitimacy of the scenario."""
    model.legitimacy = float(model.p["government.legitimacy"])


def update(model, week) -> None:
    """Legitimacy after the week's oversight and the killings the state failed to prevent: by
    the armed groups and by the community militias (M15)."""
    deaths = float(week.totals[DEAD + INSURGENT] + week.totals[DEAD + MILITIA])
    model.legitimacy = update_legitimacy(model.legitimacy, model.p, week.review, deaths,
                                         float(week.totals[POPULATION]), model.un_present,
                                         model.lever_funding)


def record(model, week) -> None:
    """Legitimacy and mean grievance at the end of the week."""
    week.row["legitimacy"] = model.legitimacy
    week.row["grievance_mean"] = week.mean(GRIEVANCE)


OUTCOMES = (
    Outcome("grievance_mean", "grievance", "0-1", summary="grievance_mean_final", share=True,
            shown=frozenset({"comparison"})),
    Outcome("legitimacy", "legitimacy", "0-1", summary="legitimacy_final", share=True,
            shown=frozenset({"table", "plot", "chart"}), title="state legitimacy"),
)
MECHANISM = Mechanism("M08", "legitimacy", PARAMETERS, OUTCOMES, setup=setup, record=record)
LEGITIMACY = Step(MECHANISM, "legitimacy", update)
