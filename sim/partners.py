"""M9 Partner exit: documented abuses and the contractor deal wear the relationship down."""

from __future__ import annotations


def contractor_strain(p: dict, contractor_present: bool) -> float:
    """Relationship lost per week to the contractor deal: less for a contractor inside the chain
    of command and under a transparent contract."""
    if not contractor_present:
        return 0.0
    softened = 1.0 - 0.35 * p["contractor.in_chain_of_command"] - 0.35 * p["contractor.transparent"]
    return p["relations.contractor_penalty"] * softened


def update_relationship(relationship: float, start: float, p: dict, documented_host: float,
                        contractor_present: bool) -> float:
    """One week of a partner's relationship with the host (both partners share the rule)."""
    relationship += p["relations.recovery"] * (start - relationship)
    relationship -= p["relations.abuse_penalty"] * documented_host
    relationship -= contractor_strain(p, contractor_present)
    return min(1.0, max(0.0, relationship))
