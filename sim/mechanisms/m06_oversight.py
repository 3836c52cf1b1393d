"""M6 Oversight and command responsibility: abuses documented, investigated, punished.

Larger abuses are more likely documented (each victim is a further chance).  A contractor
outside the chain of command is reached by justice only through ``contractor.oversight_reach``;
a partner's abuses are judged by its own military justice (``partner.accountability``).
What oversight does to conduct is not set here: units see which abuses are punished and choose
their restraint by what they expect an abuse to cost them (:mod:`sim.mechanisms.conduct`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.core import rng
from sim.core.registry import TOTAL, Mechanism, Outcome, Param, Step
from sim.core.state import Abuse
from sim.mechanisms.m07_rent import lever

PARAMETERS = (
    # Kind behaviour: the press and NGOs are not set by the regime (independent is).
    Param("oversight.press", 0.1, 0.0, 1.0, "probability",
          "chance the press or local NGOs document an abuse", kind="behaviour"),
    Param("oversight.independent", 0.0, 0.0, 1.0, "probability",
          "chance an independent national commission documents an abuse", kind="institution"),
    Param("oversight.investigation", 0.4, 0.0, 1.0, "probability",
          "chance a documented abuse is investigated", kind="institution"),
    Param("oversight.punishment", 0.4, 0.0, 1.0, "probability",
          "chance an investigated abuse is punished", kind="institution"),
    Param("partner.monitoring", 0.5, 0.0, 1.0, "probability",
          "chance the partner documents an abuse", kind="institution"),
    Param("un.monitoring", 0.4, 0.0, 1.0, "probability", "chance the UN documents an abuse",
          kind="institution"),
    Param("contractor.in_chain_of_command", False, None, None, "-",
          "contractor answers to the host's military command and its justice", kind="institution"),
    Param("contractor.oversight_reach", 0.25, 0.0, 1.0, "factor",
          "how much oversight reaches a contractor outside the chain of command",
          kind="institution"),
    Param("partner.accountability", 0.5, 0.0, 1.0, "probability",
          "chance the partner's own military justice punishes an abuse by its units",
          kind="institution"),
)

# The model's assumption (docs/ODD.md 7.6, "M6 Oversight and command responsibility"): share of
# the gap to certainty that full justice mechanisms (M13) close.
JUSTICE_LIFT = 0.6
# Purposes of the draws of each step of oversight, by the source of the abuse.
SOURCES = ("operation", "atrocity", "event")
DOCUMENT = {s: rng.purpose(f"m06.document.{s}") for s in SOURCES}
PUNISH = {s: rng.purpose(f"m06.punish.{s}") for s in SOURCES}


@dataclass
class Review:
    """What oversight made of one week's abuses, by kind of force and by unit."""

    documented: np.ndarray = field(default_factory=lambda: np.zeros(3))
    punished: np.ndarray = field(default_factory=lambda: np.zeros(3))
    unpunished: np.ndarray = field(default_factory=lambda: np.zeros(3))
    # Abuses by each unit this week, and those punished (rows of the forces table).
    unit_abuses: np.ndarray = field(default_factory=lambda: np.zeros(0))
    unit_punished: np.ndarray = field(default_factory=lambda: np.zeros(0))


def documentation_chance(p: dict, partner_present: bool, un_present: bool) -> float:
    """Chance that one abuse with one victim is documented by someone (press, commission,
    partner, UN): the monitors that leave with the partners take their share with them."""
    missed = (1.0 - p["oversight.press"]) * (1.0 - p["oversight.independent"])
    if partner_present:
        missed *= 1.0 - p["partner.monitoring"]
    if un_present:
        missed *= 1.0 - p["un.monitoring"]
    return 1.0 - missed


def judgement_chances(model) -> np.ndarray:
    """Chance that a documented abuse is punished, by kind of force (state, contractor,
    partner): investigated, then punished, with justice mechanisms (M13, at the level the budget
    funds) closing part of the gap; a contractor outside the chain of command only through its
    reach, a partner by its own military justice."""
    p = model.p
    justice = lever(model, "justice")
    investigate = p["oversight.investigation"] + (
        1 - p["oversight.investigation"]) * JUSTICE_LIFT * justice
    punish = p["oversight.punishment"] + (1 - p["oversight.punishment"]) * JUSTICE_LIFT * justice
    reach = 1.0 if p["contractor.in_chain_of_command"] else p["contractor.oversight_reach"]
    return np.array([investigate * punish, investigate * punish * reach,
                     p["partner.accountability"]])


def announced_chances(model) -> np.ndarray:
    """Chance that an abuse with one victim is punished, by kind of force, as the rules in
    force announce it: documented, then judged."""
    seen = documentation_chance(model.p, model.partner_present, model.un_present)
    return seen * judgement_chances(model)


def review_abuses(model, abuses: list[Abuse]) -> Review:
    """Pass each abuse of this week through oversight, in order."""
    p = model.p
    n = len(model.forces)
    review = Review(unit_abuses=np.zeros(n), unit_punished=np.zeros(n))
    base = documentation_chance(p, model.partner_present, model.un_present)
    judged = judgement_chances(model)
    for abuse in abuses:
        if abuse.deaths <= 0:
            continue
        if abuse.unit >= 0:
            review.unit_abuses[abuse.unit] += 1
        seen = 1.0 - (1.0 - base) ** math.sqrt(abuse.deaths)
        if _draw(model, abuse, DOCUMENT) >= seen:
            continue
        review.documented[abuse.kind] += 1
        if _draw(model, abuse, PUNISH) < judged[abuse.kind]:
            review.punished[abuse.kind] += 1
            if abuse.unit >= 0:
                review.unit_punished[abuse.unit] += 1
        else:
            review.unpunished[abuse.kind] += 1
    return review


def _draw(model, abuse: Abuse, purposes: dict[str, int]) -> float:
    return rng.uniform(model.seed, model.t, abuse.entity, purposes[abuse.source], 0)


def review(model, week) -> None:
    """The week's abuses, operations' and dated events', pass through oversight."""
    week.review = review_abuses(model, week.all_abuses())


def record(model, week) -> None:
    """Abuses of the week, documented and punished."""
    # An atrocity that found no one to kill (a community of one) is no abuse, as review says.
    week.row["abuses"] = float(sum(abuse.deaths > 0 for abuse in week.all_abuses()))
    week.row["abuses_detected"] = float(week.review.documented.sum())
    week.row["abuses_punished"] = float(week.review.punished.sum())


OUTCOMES = (
    Outcome("abuses", "abuses", "events/week", summary="abuses_total", reduce=TOTAL, flow=True),
    Outcome("abuses_detected", "abuses documented", "events/week", summary="abuses_detected",
            reduce=TOTAL, flow=True),
    Outcome("abuses_punished", "abuses punished", "events/week", summary="abuses_punished",
            reduce=TOTAL, flow=True),
)
MECHANISM = Mechanism("M06", "oversight and command responsibility", PARAMETERS, OUTCOMES,
                      record=record)
REVIEW = Step(MECHANISM, "abuses reviewed", review)
