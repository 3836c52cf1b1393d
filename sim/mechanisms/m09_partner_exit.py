"""M9 Partner exit: documented abuses and the contractor deal wear the relationship down; below
a threshold a partner withdraws, and with it its intelligence, training and monitors."""

from __future__ import annotations

from sim.core.registry import Mechanism, Outcome, Param, Step

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
    Param("relations.abuse_penalty", 0.001, 0.0, 1.0, "per abuse",
          "relationship lost per documented abuse by host-side forces", kind="behaviour"),
    Param("relations.contractor_penalty", 0.006, 0.0, 1.0, "1/week",
          "relationship lost per week while a contractor is deployed", kind="behaviour"),
    Param("relations.recovery", 0.01, 0.0, 1.0, "1/week",
          "relationship regained towards its start", kind="behaviour"),
)

# Share of the contractor's strain that a contract inside the chain of command, or a
# transparent one, takes away: the model's assumption (docs/ODD.md, "Partners").
SOFTENING = 0.35


def contractor_strain(p: dict, contractor_present: bool) -> float:
    """Relationship lost per week to the contractor deal: less for a contractor inside the chain
    of command and under a transparent contract."""
    if not contractor_present:
        return 0.0
    softened = (1.0 - SOFTENING * p["contractor.in_chain_of_command"]
                - SOFTENING * p["contractor.transparent"])
    return p["relations.contractor_penalty"] * softened


def update_relationship(relationship: float, start: float, p: dict, documented_host: float,
                        contractor_present: bool) -> float:
    """One week of a partner's relationship with the host (both partners share the rule)."""
    relationship += p["relations.recovery"] * (start - relationship)
    relationship -= p["relations.abuse_penalty"] * documented_host
    relationship -= contractor_strain(p, contractor_present)
    return min(1.0, max(0.0, relationship))


def setup(model) -> None:
    """Each partner's relationship with the host at the start."""
    model.relationship = {name: float(model.p[f"{name}.relationship"]) for name in PARTNERS}


def update(model, week) -> None:
    """Each partner present weighs the week; one that falls below its threshold leaves."""
    p = model.p
    documented = week.review.documented[0] + week.review.documented[1]
    for name, present in (("partner", model.partner_present), ("un", model.un_present)):
        if not present:
            continue
        r = update_relationship(model.relationship[name], p[f"{name}.relationship"], p,
                                documented, model.contractor_present)
        model.relationship[name] = r
        if r < p[f"{name}.exit_threshold"]:
            model.withdraw(name)
            model.event_log.append((model.date.isoformat(), f"{name} withdraws"))


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
