"""M10 Sanctions: documented abuses and illicit financing bring targeted sanctions."""

from __future__ import annotations

from sim.core import rng


def escalate(model, documented_contractor: float) -> float:
    """The sanctions level after this week's documented contractor abuses.

    Each documented abuse is a chance that sanctions go up a step; opaque contracts paid in
    concessions (illicit financing) double that chance, financial enforcement raises it.
    """
    p = model.p
    level = model.sanctions
    chance = p["sanctions.propensity"] * (1.0 + p["levers.financial_enforcement"])
    if not p["contractor.transparent"] and p["contractor.concessions"] > 0:
        chance *= 2.0
    for k in range(int(documented_contractor)):
        if rng.uniform(model.seed, model.t, k, rng.SANCTION, 0) < min(1.0, chance):
            level = min(1.0, level + 0.25)
    return level
