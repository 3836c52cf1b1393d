"""M11 Regional diffusion: neighbours copy the contractor model; violence spills across borders."""

from __future__ import annotations

import numpy as np

from sim.core import rng


def update_region(model, border_violence: np.ndarray, territory_gain: float,
                  relationship_mean: float) -> None:
    """One week of the neighbours' instability and of their choice of a contractor.

    Violence near a border raises the neighbour's instability (less what arms tracking stops);
    a neighbour with a contractor of its own grows less stable.  While the host has a
    contractor, an unstable neighbour copies it with a chance that grows with the host's
    apparent short-term success (territory gained over the last year) and the anti-partner
    narrative (a poor relationship with the partners).
    """
    p = model.p
    s = model.neighbour_instability
    spill = p["region.spillover"] * (1.0 - 0.5 * p["levers.arms_tracking"])
    s += spill * np.minimum(1.0, border_violence / 10.0)
    s += 0.002 * model.neighbour_contractor
    s -= 0.002 * s
    np.clip(s, 0.0, 1.0, out=s)
    if not model.contractor_present:
        return
    apparent = 0.5 + 5.0 * max(0.0, territory_gain)
    narrative = 0.5 + (1.0 - relationship_mean)
    for k in range(len(s)):
        if model.neighbour_contractor[k]:
            continue
        chance = p["region.diffusion"] * s[k] * apparent * narrative
        if rng.uniform(model.seed, model.t, k, rng.ADOPT, 0) < chance:
            model.neighbour_contractor[k] = True
