"""M6 Oversight and command responsibility: abuses documented, investigated, punished.

Larger abuses are more likely documented (each victim is a further chance).  A contractor
outside the chain of command is reached by justice only through ``contractor.oversight_reach``.
Punishment raises the discipline and discrimination of the unit punished and, less, of its whole
force (deterrence); an abuse left unpunished, documented or not, lowers the discipline of its
unit a little (impunity emboldens).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.core import rng
from sim.core.registry import TOTAL, Mechanism, Outcome, Param, Step
from sim.core.state import CONTRACTOR, Abuse
from sim.mechanisms.m07_rent import lever

PARAMETERS = (
    Param("oversight.press", 0.1, 0.0, 1.0, "probability",
          "chance the press or local NGOs document an abuse"),
    Param("oversight.independent", 0.0, 0.0, 1.0, "probability",
          "chance an independent national commission documents an abuse"),
    Param("oversight.investigation", 0.4, 0.0, 1.0, "probability",
          "chance a documented abuse is investigated"),
    Param("oversight.punishment", 0.4, 0.0, 1.0, "probability",
          "chance an investigated abuse is punished"),
    Param("oversight.deterrence", 0.05, 0.0, 1.0, "per punishment",
          "discipline gained by a unit's force per punishment"),
    Param("partner.monitoring", 0.5, 0.0, 1.0, "probability",
          "chance the partner documents an abuse"),
    Param("un.monitoring", 0.4, 0.0, 1.0, "probability", "chance the UN documents an abuse"),
    Param("contractor.in_chain_of_command", False, None, None, "-",
          "contractor answers to the host's military command and its justice"),
    Param("contractor.oversight_reach", 0.25, 0.0, 1.0, "factor",
          "how much oversight reaches a contractor outside the chain of command"),
)

# The model's assumptions (docs/ODD.md, "Oversight").
JUSTICE_LIFT = 0.6  # share of the gap to certainty that full justice mechanisms close (M13)
FORCE_WIDE = 0.2  # deterrence felt by the rest of a punished unit's force, per unit's own
DISCRIMINATION_LEARNED = 0.5  # discrimination gained per discipline gained on punishment
EMBOLDEN = 0.25  # discipline lost per unpunished abuse, per unit of deterrence
# Purposes of the draws of each step of oversight, by the source of the abuse.
SOURCES = ("operation", "atrocity", "event")
DOCUMENT = {s: rng.purpose(f"m06.document.{s}") for s in SOURCES}
INVESTIGATE = {s: rng.purpose(f"m06.investigate.{s}") for s in SOURCES}
PUNISH = {s: rng.purpose(f"m06.punish.{s}") for s in SOURCES}


@dataclass
class Review:
    """What oversight made of one week's abuses, by kind of force."""

    documented: np.ndarray = field(default_factory=lambda: np.zeros(3))
    punished: np.ndarray = field(default_factory=lambda: np.zeros(3))
    unpunished: np.ndarray = field(default_factory=lambda: np.zeros(3))


def documentation_chance(p: dict, partner_present: bool, un_present: bool) -> float:
    """Chance that one abuse with one victim is documented by someone (press, commission,
    partner, UN): the monitors that leave with the partners take their share with them."""
    missed = (1.0 - p["oversight.press"]) * (1.0 - p["oversight.independent"])
    if partner_present:
        missed *= 1.0 - p["partner.monitoring"]
    if un_present:
        missed *= 1.0 - p["un.monitoring"]
    return 1.0 - missed


def review_abuses(model, abuses: list[Abuse]) -> Review:
    """Pass each abuse of this week through oversight, in order."""
    p = model.p
    review = Review()
    base = documentation_chance(p, model.partner_present, model.un_present)
    justice = lever(model, "justice")
    investigate = p["oversight.investigation"] + (
        1 - p["oversight.investigation"]) * JUSTICE_LIFT * justice
    punish = p["oversight.punishment"] + (1 - p["oversight.punishment"]) * JUSTICE_LIFT * justice
    forces = model.forces
    for abuse in abuses:
        if abuse.deaths <= 0:
            continue
        seen = 1.0 - (1.0 - base) ** math.sqrt(abuse.deaths)
        if _draw(model, abuse, DOCUMENT) >= seen:
            _embolden(forces, abuse.unit, p["oversight.deterrence"])
            continue
        review.documented[abuse.kind] += 1
        reach = 1.0
        if abuse.kind == CONTRACTOR and not p["contractor.in_chain_of_command"]:
            reach = p["contractor.oversight_reach"]
        if (_draw(model, abuse, INVESTIGATE) < investigate
                and _draw(model, abuse, PUNISH) < punish * reach):
            review.punished[abuse.kind] += 1
            _deter(forces, abuse.unit, abuse.kind, p["oversight.deterrence"])
        else:
            review.unpunished[abuse.kind] += 1
            _embolden(forces, abuse.unit, p["oversight.deterrence"])
    return review


def _draw(model, abuse: Abuse, purposes: dict[str, int]) -> float:
    return rng.uniform(model.seed, model.t, abuse.entity, purposes[abuse.source], 0)


def _deter(forces, unit: int, kind: int, gain: float) -> None:
    same = forces.kind == kind
    for rows, g in ((same, FORCE_WIDE * gain), (np.arange(len(forces)) == unit, gain)):
        forces.discipline[rows] += g * (1.0 - forces.discipline[rows])
        forces.discrimination[rows] += DISCRIMINATION_LEARNED * g * (
            1.0 - forces.discrimination[rows])


def _embolden(forces, unit: int, gain: float) -> None:
    if unit >= 0:
        forces.discipline[unit] -= EMBOLDEN * gain * forces.discipline[unit]


def review(model, week) -> None:
    """The week's abuses, operations' and dated events', pass through oversight."""
    week.review = review_abuses(model, week.all_abuses())


def record(model, week) -> None:
    """Abuses of the week, documented and punished."""
    week.row["abuses"] = float(len(week.all_abuses()))
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
