"""The controls the dashboard offers: the levers a class can move while the model runs, grouped
as the page shows them, the partners' presence, and the events a button injects now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.core.parameters import BY_NAME
from sim.core.registry import Param


@dataclass(frozen=True)
class Lever:
    """A parameter the class can move while the model runs, and the slider range shown."""

    name: str
    label: str
    high: float | None = None  # None: the registry's upper bound
    about: str | None = None  # None: the registry's meaning

    @property
    def param(self) -> Param:
        """The registry entry of the lever (unit, meaning, bounds)."""
        return BY_NAME[self.name]

    @property
    def meaning(self) -> str:
        """What the lever is, as the page says it under the slider."""
        return self.about or self.param.meaning

    @property
    def low(self) -> float:
        """The lowest value the slider offers."""
        return float(self.param.low or 0.0)

    @property
    def top(self) -> float:
        """The highest value the slider offers."""
        return float(self.high if self.high is not None else self.param.high)

    @property
    def is_switch(self) -> bool:
        """True for yes/no parameters (a switch, not a slider)."""
        return self.param.type is bool


# The group of levers that are not a regime's to choose: how well each force can aim (its
# skill) and how much the press finds are behaviour parameters, kept for "what if" questions
# and shown apart, so that no one mistakes them for an institution.
ASSUMPTIONS = "Assumptions (not a regime's choice)"
# The levers, grouped as the page shows them: the institutions first.
LEVERS: tuple[tuple[str, tuple[Lever, ...]], ...] = (
    ("Oversight", (
        Lever("oversight.independent", "detection: independent commission"),
        Lever("partner.monitoring", "detection: the partner's monitors"),
        Lever("un.monitoring", "detection: the UN mission"),
        Lever("oversight.investigation", "investigation"),
        Lever("oversight.punishment", "punishment"),
        Lever("contractor.in_chain_of_command", "contractor inside the chain of command"),
        Lever("contractor.oversight_reach", "oversight reach outside the chain"),
    )),
    ("Sanctions", (
        Lever("sanctions.level", "sanctions in force",
              about="targeted sanctions in force now (0 none, 1 full)"),
        Lever("sanctions.propensity", "sanctions per documented abuse"),
    )),
    ("Engagement", (
        Lever("levers.services", "basic services"),
        Lever("levers.reconciliation", "reconciliation"),
        Lever("levers.justice", "justice mechanisms"),
        Lever("levers.training", "human-rights training"),
        Lever("levers.humanitarian_access", "humanitarian access"),
        Lever("levers.arms_tracking", "arms tracking"),
        Lever("levers.financial_enforcement", "financial enforcement"),
    )),
    ("Contractor contract", (
        Lever("contractor.cost", "price (MUSD a week)", high=10.0),
        Lever("contractor.concessions", "share paid in mining concessions"),
        Lever("contractor.pay_per_result", "share of pay tied to results"),
        Lever("contractor.transparent", "transparent, audited contract"),
    )),
    (ASSUMPTIONS, (
        Lever("state.discrimination", "state forces' skill",
              about="share of force that reaches combatants at full restraint; sets the "
                    "skill of every state unit, training gained included"),
        Lever("contractor.discrimination", "contractor's skill",
              about="share of force that reaches combatants at full restraint"),
        Lever("partner.discrimination", "partner's skill",
              about="share of force that reaches combatants at full restraint"),
        Lever("oversight.press", "detection: press and NGOs"),
    )),
)
LEVER_BY_NAME: dict[str, Lever] = {lv.name: lv for _, group in LEVERS for lv in group}

# Presence of the partners is a lever too, but it changes by an arrival or a departure.
PRESENCE: dict[str, str] = {"partner": "foreign partner present", "un": "UN mission present"}

# The buttons that inject an event now: label, event type, fields.  The atrocity names no
# perpetrator: each run books it to a force it has deployed (see ``perpetrator``).
INJECTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "contractor arrives": ("contractor_arrives", {}),
    "contractor leaves": ("contractor_leaves", {}),
    "partner leaves": ("partner_leaves", {"partner": "partner"}),
    "UN leaves": ("partner_leaves", {"partner": "un"}),
    "mass-atrocity operation": ("mass_atrocity", {"near": "Mopti"}),
    "sanctions": ("sanctions", {"level": 0.5}),
    "coup in a neighbour": ("coup", {"country": "Burkina Faso"}),
}
