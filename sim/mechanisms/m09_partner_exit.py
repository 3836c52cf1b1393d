"""M9 Partner exit: partners weigh what they see of the host; below a threshold they withdraw,
and with them their intelligence, training and monitors.

A partner sees three things: the abuses by the host's forces and by its contractor that
oversight documents and leaves unpunished (M6: impunity, since a punished abuse shows the
host's justice at work), read through what it can see of the contractor deal, and its own dead.
A transparent contract is visible as what it is, so a contractor's abuse counts as one abuse;
under an opaque contract the partner knows the deal only through what gets documented, and
each such abuse weighs more: it is read as what the deal buys.  The deal itself costs nothing
while nothing is documented, so when a partner leaves, and whether it does, emerges from the
abuses, the justice and the losses of the run.
"""

from __future__ import annotations

import numpy as np

from sim.core.registry import Mechanism, Outcome, Param, Step
from sim.core.state import CONTRACTOR, PARTNER, STATE
from sim.world import deployment

PARTNERS = ("partner", "un")
PARAMETERS = (
    # Kind world: the state of relations a regime starts from.
    Param("partner.relationship", 0.8, 0.0, 1.0, "0-1", "initial relationship with the host",
          kind="world"),
    Param("partner.exit_threshold", 0.3, 0.0, 1.0, "0-1",
          "relationship below which it withdraws", kind="behaviour"),
    # Kind world: the state of relations a regime starts from.
    Param("un.relationship", 0.7, 0.0, 1.0, "0-1", "initial relationship with the host",
          kind="world"),
    Param("un.exit_threshold", 0.2, 0.0, 1.0, "0-1",
          "relationship below which it is asked to leave", kind="behaviour"),
    Param("relations.abuse_penalty", 0.0025, 0.0, 1.0, "per abuse",
          "relationship lost per documented, unpunished abuse by a contractor on a visible deal",
          kind="behaviour"),
    Param("relations.host_weight", 0.25, 0.0, 1.0, "factor",
          "weight of an abuse by the host's own forces, which partners train and work through",
          kind="behaviour"),
    Param("relations.opacity_weight", 2.0, 0.0, 10.0, "factor",
          "extra weight of a documented contractor abuse while the contract's terms are hidden",
          kind="behaviour"),
    Param("relations.casualty_penalty", 0.002, 0.0, 1.0, "per person",
          "relationship lost per soldier of the partner killed by armed groups",
          kind="behaviour"),
    Param("relations.recovery", 0.01, 0.0, 1.0, "1/week",
          "relationship regained towards its start", kind="behaviour"),
)


def abuses_seen(p: dict, unpunished: np.ndarray) -> float:
    """The week's documented, unpunished abuses by the host's forces and its contractor (by
    kind of force), as a partner weighs them: the host army's less, since partners are there to
    train it; a contractor's more while its contract is opaque."""
    opacity = 0.0 if p["contractor.transparent"] else 1.0
    contractor_weight = 1.0 + p["relations.opacity_weight"] * opacity
    return float(p["relations.host_weight"] * unpunished[STATE]
                 + contractor_weight * unpunished[CONTRACTOR])


def update_relationship(relationship: float, start: float, p: dict, seen: float,
                        own_dead: float) -> float:
    """One week of a partner's relationship with the host (both partners share the rule):
    recovery towards its start, less what it saw abused and what it lost."""
    relationship += p["relations.recovery"] * (start - relationship)
    relationship -= p["relations.abuse_penalty"] * seen
    relationship -= p["relations.casualty_penalty"] * own_dead
    return min(1.0, max(0.0, relationship))


def setup(model) -> None:
    """Each partner's relationship with the host at the start."""
    model.relationship = {name: float(model.p[f"{name}.relationship"]) for name in PARTNERS}


def update(model, week) -> None:
    """Each partner present weighs the week; one that falls below its threshold leaves.  The UN
    has no units in the model, so it loses no one."""
    p = model.p
    seen = abuses_seen(p, week.review.unpunished)
    own_dead = {"partner": float(week.force_killed_by_kind[PARTNER]), "un": 0.0}
    for name, present in (("partner", model.partner_present), ("un", model.un_present)):
        if not present:
            continue
        r = update_relationship(model.relationship[name], p[f"{name}.relationship"], p, seen,
                                own_dead[name])
        model.relationship[name] = r
        if r < p[f"{name}.exit_threshold"]:
            deployment.withdraw(model, name)
            who = "partner forces withdraw" if name == "partner" else "UN mission asked to leave"
            threshold = p[f"{name}.exit_threshold"]
            model.event_log.append((model.date.isoformat(), f"{who}: relationship "
                                    f"{shown_below(r, threshold)}, below the threshold "
                                    f"{threshold:g}"))


def shown_below(value: float, threshold: float) -> str:
    """``value`` with the fewest decimals, two at least, that still read below ``threshold``:
    0.2996 as "0.2996", not "0.30", which the log would call below a threshold of 0.3."""
    for decimals in range(2, 7):
        text = f"{value:.{decimals}f}"
        if float(text) < threshold:
            return text
    return f"{value:.6g}"


def record(model, week) -> None:
    """Who stays, and how each partner stands with the host."""
    week.row["partner_present"] = float(model.partner_present)
    week.row["un_present"] = float(model.un_present)
    week.row["partner_relationship"] = model.relationship["partner"]
    week.row["un_relationship"] = model.relationship["un"]


OUTCOMES = (
    Outcome("partner_present", "partner stays", "yes/no", summary="partner_present_final",
            kind=bool, shown=frozenset({"table"})),
    Outcome("un_present", "UN stays", "yes/no", summary="un_present_final", kind=bool),
    Outcome("partner_relationship", "partner relationship", "0-1", share=True,
            shown=frozenset({"chart"}), title="partner relationship with the host"),
    Outcome("un_relationship", "UN relationship", "0-1", share=True),
)
MECHANISM = Mechanism("M09", "partner exit", PARAMETERS, OUTCOMES, setup=setup, record=record)
PARTNERS_WEIGH = Step(MECHANISM, "partners weigh the relationship", update)
