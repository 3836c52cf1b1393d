"""M13 Engagement levers: justice, human-rights training, reconciliation and basic services,
each with a cost (paid in M7).

Training acts here, on state units; the other levers act where their mechanism lives: justice
in oversight (M6) and legitimacy (M8), services and reconciliation in attitudes and legitimacy,
UN mediation with reconciliation.
"""

from __future__ import annotations

from sim.core.registry import Mechanism, Param, Step
from sim.core.state import STATE
from sim.mechanisms.m07_rent import lever

PARAMETERS = (
    Param("levers.justice", 0.0, 0.0, 1.0, "0-1", "justice mechanisms: raise punishment",
          kind="institution"),
    Param("levers.training", 0.0, 0.0, 1.0, "0-1",
          "human-rights training: raises the skill of state units", kind="institution"),
    Param("levers.reconciliation", 0.0, 0.0, 1.0, "0-1",
          "reconciliation: lowers grievance between groups", kind="institution"),
    Param("levers.services", 0.0, 0.0, 1.0, "0-1",
          "basic services: raise legitimacy and cooperation", kind="institution"),
    # Kind behaviour: how much state units learn per week of training.
    Param("partner.training", 0.002, 0.0, 0.1, "1/week",
          "gain in state units' skill per week of partner training", kind="behaviour"),
    # Kind behaviour: the effect of a present mission's mediation on grievance.
    Param("un.mediation", 0.3, 0.0, 1.0, "0-1", "mediation between groups: lowers grievance",
          kind="behaviour"),
)

# Skill gained a week by the host's own programme at full level: the model's
# assumption, twice the partner's default rate (docs/ODD.md 7.13, "M13 Engagement levers").
HOST_TRAINING_RATE = 0.004


def train_state_forces(forces, p: dict, partner_present: bool, training: float) -> None:
    """Raise the skill of state units (the discrimination they reach at full restraint): the
    host's own training programme (at the level the budget funds, ``training``) plus, while it
    stays, the partner's ("training that emphasizes human-rights compliant tactics")."""
    rate = HOST_TRAINING_RATE * training + (
        p["partner.training"] if partner_present else 0.0)
    if rate <= 0:
        return
    rows = forces.kind == STATE
    forces.skill[rows] += rate * (1.0 - forces.skill[rows])


def train(model, week) -> None:
    """A week of training for state units."""
    train_state_forces(model.forces, model.p, model.partner_present, lever(model, "training"))


MECHANISM = Mechanism("M13", "engagement levers", PARAMETERS)
TRAINING = Step(MECHANISM, "training", train)
