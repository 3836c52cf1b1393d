"""M7 Rent extraction: what the contractor costs the state and earns from its mines."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Ledger:
    """One week of public money and contractor income, in million USD."""

    state_income: float
    state_spending: float
    contractor_revenue: float
    contractor_effort: float  # 0-1: share of its contract the contractor is actually paid


def settle_week(p: dict, contractor_present: bool, mines: float, mines_at_contractor: float,
                state_personnel: float, sanctions: float) -> Ledger:
    """Income and spending of the week.

    Concessions hand mining sites to the contractor: their revenue leaves the state budget
    ("security becomes a revenue stream rather than a public good").  Sanctions cut the
    contractor's revenue network (pressure, M10) and the host's revenue (blowback); financial
    enforcement (M14) cuts the contractor's rents further.  A contractor paid less than its
    price puts in proportionally less effort.
    """
    cost = p["contractor.cost"]
    mining = p["government.mining_revenue"]
    concession = p["contractor.concessions"] if contractor_present else 0.0
    # The concession part of the price is settled in mining sites worth that much a week.
    conceded_mines = min(mines, concession * cost / mining) if mining > 0 else 0.0
    blowback = 1.0 - p["sanctions.blowback"] * sanctions
    income = (p["government.revenue"] + mining * (mines - conceded_mines)) * blowback
    levers = sum(p[f"levers.{k}"] for k in ("justice", "training", "reconciliation", "services",
                                              "arms_tracking", "financial_enforcement",
                                              "humanitarian_access"))
    spending = state_personnel * p["state.cost"] + p["levers.cost"] * levers
    revenue = 0.0
    effort = 0.0
    if contractor_present:
        cash = cost * (1.0 - concession)
        spending += cash
        squeeze = (1.0 - p["sanctions.pressure"] * sanctions) * (
            1.0 - 0.5 * p["levers.financial_enforcement"])
        # Teams guarding mines skim a share of their output on top of the contract.
        revenue = (cash + mining * (conceded_mines + 0.5 * mines_at_contractor)) * squeeze
        effort = min(1.0, revenue / cost) if cost > 0 else 1.0
    return Ledger(income, spending, revenue, effort)
