"""M6 Oversight and command responsibility: abuses documented, investigated, punished."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim import rng
from sim.state import CONTRACTOR, PARTNER


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
    outside the chain of command is reached by investigation and punishment only through
    ``contractor.oversight_reach``.  Punishment raises the discipline and discrimination of the
    unit punished and, less, of its whole force (deterrence); a documented abuse left unpunished
    lowers them as much (impunity emboldens) and costs legitimacy (M8).
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
            continue
        review.documented[kind] += 1
        reach = 1.0
        if kind == CONTRACTOR and not p["contractor.in_chain_of_command"]:
            reach = p["contractor.oversight_reach"]
        if kind == PARTNER:
            reach = 1.0
        if (rng.uniform(model.seed, model.t, entity, rng.INVESTIGATE, 0) < investigate * reach
                and rng.uniform(model.seed, model.t, entity, rng.PUNISH, 0) < punish * reach):
            review.punished[kind] += 1
            _deter(forces, entity // 2, kind, p["oversight.deterrence"])
        else:
            review.unpunished[kind] += 1
            _deter(forces, entity // 2, kind, -p["oversight.deterrence"])
    return review


def _deter(forces, unit: int, kind: int, gain: float) -> None:
    """Move discipline and discrimination towards 1 (gain > 0) or towards 0 (gain < 0)."""
    same = forces.kind == kind
    for rows, g in ((same, 0.2 * gain), (np.arange(len(forces)) == unit, gain)):
        for values, rate in ((forces.discipline, g), (forces.discrimination, 0.5 * g)):
            room = 1.0 - values[rows] if rate > 0 else values[rows]
            values[rows] += rate * room
