"""The week, declared once: the model's mechanisms and the ordered steps of one week.

:data:`MECHANISMS` lists every module whose declarations (parameters, outcomes, state) make up
the model; :data:`WEEK` lists the steps a week runs, in order.  To add a mechanism, write its
module (see CONTRIBUTING.md) and add it here: to ``MECHANISMS``, and its steps to ``WEEK`` where
they belong.  ``blowback scenario --steps`` prints the week; ``blowback bench --only profile``
times each step.
"""

from __future__ import annotations

from sim.core import observation
from sim.core.registry import Mechanism, Step
from sim.mechanisms import (
    armed_violence,
    attitudes,
    conduct,
    m01_power_projection,
    m02_attrition,
    m03_intelligence,
    m04_harm_and_news,
    m05_recruitment,
    m06_oversight,
    m07_rent,
    m08_legitimacy,
    m09_partner_exit,
    m10_sanctions,
    m11_regional_diffusion,
    m12_displacement,
    m13_engagement_levers,
    m14_regional_levers,
    m15_militias,
    territorial_control,
)
from sim.world import deployment, events, geography

MECHANISMS: tuple[Mechanism, ...] = (
    geography.MECHANISM,
    deployment.MECHANISM,
    events.MECHANISM,
    observation.MECHANISM,
    conduct.MECHANISM,
    m01_power_projection.MECHANISM,
    m02_attrition.MECHANISM,
    m03_intelligence.MECHANISM,
    m04_harm_and_news.MECHANISM,
    m05_recruitment.MECHANISM,
    attitudes.MECHANISM,
    armed_violence.MECHANISM,
    m06_oversight.MECHANISM,
    m07_rent.MECHANISM,
    m08_legitimacy.MECHANISM,
    m09_partner_exit.MECHANISM,
    m10_sanctions.MECHANISM,
    m11_regional_diffusion.MECHANISM,
    m12_displacement.MECHANISM,
    m13_engagement_levers.MECHANISM,
    m14_regional_levers.MECHANISM,
    m15_militias.MECHANISM,
    territorial_control.MECHANISM,
)

WEEK: tuple[Step, ...] = (
    observation.START,
    events.EVENTS,
    observation.AGGREGATE,
    m03_intelligence.INTELLIGENCE,
    conduct.CHOOSE,
    m01_power_projection.DEPLOY,
    m05_recruitment.MOVE,
    observation.LOCATE,
    m02_attrition.OPERATIONS,
    armed_violence.ATTACKS,
    m02_attrition.LOSSES,
    # Militias act on where the state is this week (units located) and what communities
    # remembered last week, and kill before the news spreads, so that M4 carries their
    # killings to the victims' group in the same week as everyone else's.
    m15_militias.MOBILISATION,
    m15_militias.RAIDS,
    m04_harm_and_news.NEWS,
    attitudes.ATTITUDES,
    observation.AGGREGATE,
    m05_recruitment.RECRUITMENT,
    m12_displacement.DISPLACEMENT,
    observation.LOCATE,
    territorial_control.CONTROL,
    observation.TALLY,
    territorial_control.TERRITORY,
    m06_oversight.REVIEW,
    conduct.LEARN,
    m08_legitimacy.LEGITIMACY,
    m07_rent.RENT,
    m09_partner_exit.PARTNERS_WEIGH,
    m10_sanctions.SANCTIONS,
    m13_engagement_levers.TRAINING,
    m11_regional_diffusion.REGION,
)


# The steps that make the cells' view of the communities when a model is built, so that the
# first week starts from the same kind of state as every later one.
AT_BUILD: tuple[Step, ...] = (observation.AGGREGATE, m03_intelligence.INTELLIGENCE,
                              observation.TALLY)


def kernels() -> dict[str, str]:
    """Every numba kernel the week's steps call, by name, with the module that owns it."""
    return {k.__name__: k.__module__ for m in MECHANISMS for k in m.kernels}


def describe() -> str:
    """The week as a numbered list, one step a line."""
    return "\n".join(f"{i:2d}. {step.label}" for i, step in enumerate(WEEK, 1))
