"""M6 Oversight and command responsibility: abuses documented, investigated, punished."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.core import rng
from sim.core.state import CONTRACTOR


@dataclass
class Review:
    """What oversight made of one week's abuses."""

    documented: np.ndarray = field(default_factory=lambda: np.zeros(3))  # by force kind
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


def review_abuses(model, abuses: list[tuple[int, int, float]]) -> Review:
    """Pass each abuse ``(entity, kind, deaths)`` of this week through oversight.

    Larger abuses are more likely documented (each victim is a further chance).  A contractor
    outside the chain of command is reached by justice only through
    ``contractor.oversight_reach`` (one factor on the chance that an investigated abuse is
    punished).  Punishment raises the discipline and discrimination of the unit punished and,
    less, of its whole force (deterrence).  Any abuse left unpunished, documented or not,
    lowers the discipline of its unit a little (impunity emboldens); the documented ones also
    cost legitimacy (M8).
    """
    p = model.p
    review = Review()
    base = documentation_chance(p, model.partner_present, model.un_present)
    justice = p["levers.justice"]
    investigate = p["oversight.investigation"] + (1 - p["oversight.investigation"]) * 0.6 * justice
    punish = p["oversight.punishment"] + (1 - p["oversight.punishment"]) * 0.6 * justice
    forces = model.forces
    for entity, kind, deaths in abuses:
        if deaths <= 0:
            continue
        seen = 1.0 - (1.0 - base) ** math.sqrt(deaths)
        if rng.uniform(model.seed, model.t, entity, rng.DOCUMENT, 0) >= seen:
            _embolden(forces, entity // 2, p["oversight.deterrence"])
            continue
        review.documented[kind] += 1
        reach = 1.0
        if kind == CONTRACTOR and not p["contractor.in_chain_of_command"]:
            reach = p["contractor.oversight_reach"]
        if (rng.uniform(model.seed, model.t, entity, rng.INVESTIGATE, 0) < investigate
                and rng.uniform(model.seed, model.t, entity, rng.PUNISH, 0) < punish * reach):
            review.punished[kind] += 1
            _deter(forces, entity // 2, kind, p["oversight.deterrence"])
        else:
            review.unpunished[kind] += 1
            _embolden(forces, entity // 2, p["oversight.deterrence"])
    return review


def _deter(forces, unit: int, kind: int, gain: float) -> None:
    same = forces.kind == kind
    for rows, g in ((same, 0.2 * gain), (np.arange(len(forces)) == unit, gain)):
        forces.discipline[rows] += g * (1.0 - forces.discipline[rows])
        forces.discrimination[rows] += 0.5 * g * (1.0 - forces.discrimination[rows])


def _embolden(forces, unit: int, gain: float) -> None:
    if unit < len(forces):
        forces.discipline[unit] -= 0.25 * gain * forces.discipline[unit]
