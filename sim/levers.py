"""M13 Engagement levers that act on forces directly: human-rights training.

The other levers act where their mechanism lives: justice in :mod:`sim.oversight`, services
and reconciliation in the attitudes kernel and :mod:`sim.legitimacy`, humanitarian access in
the displacement kernel, arms tracking in recruitment and :mod:`sim.region`, financial
enforcement in :mod:`sim.rent` and :mod:`sim.sanctions`; their cost in :mod:`sim.rent`.
"""

from __future__ import annotations

from sim.core.state import STATE


def train_state_forces(forces, p: dict, partner_present: bool) -> None:
    """Raise the discrimination of state units: the host's own training programme plus, while
    it stays, the partner's ("training that emphasizes human-rights compliant tactics")."""
    rate = 0.004 * p["levers.training"] + (p["partner.training"] if partner_present else 0.0)
    if rate <= 0:
        return
    rows = forces.kind == STATE
    forces.discrimination[rows] += rate * (1.0 - forces.discrimination[rows])
