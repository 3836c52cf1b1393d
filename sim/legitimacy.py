"""M8 Legitimacy: falls with impunity and unprotected harm, rises with services and justice."""

from __future__ import annotations


def anchor(p: dict, un_present: bool, budget_ok: bool) -> float:
    """The legitimacy the state drifts back to: its starting level plus what its engagement
    levers buy (services only while the budget can pay for them)."""
    services = p["levers.services"] if budget_ok else 0.0
    value = (p["government.legitimacy"] + 0.25 * services + 0.1 * p["levers.reconciliation"]
             + 0.1 * p["levers.justice"])
    if un_present:
        value += 0.1 * p["un.mediation"]
    return min(1.0, value)


def update_legitimacy(legitimacy: float, p: dict, review, insurgent_deaths: float,
                      population: float, un_present: bool, budget_ok: bool) -> float:
    """One week of legitimacy.

    Each documented but unpunished abuse by host-side forces costs legitimacy (impunity), each
    punished one restores some (justice); civilians killed by armed groups that the state failed
    to protect cost it too, per million people.
    """
    impunity = review.unpunished[0] + review.unpunished[1]
    justice = review.punished[0] + review.punished[1]
    per_million = insurgent_deaths / max(population / 1e6, 1e-9)
    unprotected = p["government.protection_weight"] * min(1.0, per_million / 5.0) * 0.02
    legitimacy += p["government.legitimacy_speed"] * (anchor(p, un_present, budget_ok) - legitimacy)
    legitimacy += p["oversight.justice_gain"] * justice - p["oversight.impunity_cost"] * impunity
    legitimacy -= unprotected
    return min(1.0, max(0.0, legitimacy))
