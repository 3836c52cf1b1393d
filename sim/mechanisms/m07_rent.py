"""M7 Rent extraction: what the contractor costs the state and earns from its mines.

Concessions hand mining sites to the contractor: their revenue leaves the state budget
("security becomes a revenue stream rather than a public good").  Sanctions cut the contractor's
revenue network (pressure, M10) and the host's revenue (blowback); financial enforcement (M14)
cuts the contractor's rents further.  A contractor paid less than its price puts in
proportionally less effort.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.registry import TOTAL, Mechanism, Outcome, Param, Step
from sim.core.state import CONTRACTOR, STATE

PARAMETERS = (
    Param("contractor.cost", 2.3, 0.0, 1000.0, "MUSD/week",
          "price of the contract (~10 MUSD a month in Mali)", kind="institution"),
    Param("contractor.concessions", 0.6, 0.0, 1.0, "share",
          "share of the price paid in mining concessions rather than cash", kind="institution"),
    # Kind institution: the pay and upkeep the government sets for its own forces.
    Param("state.cost", 0.0012, 0.0, 1.0, "MUSD/person-week", "pay and upkeep of state forces",
          kind="institution"),
    # Kind institution: the security budget and allotted revenue are the government's choice.
    Param("government.budget", 300.0, -1e6, 1e6, "MUSD", "security budget at the start",
          kind="institution"),
    Param("government.revenue", 12.0, 0.0, 1e4, "MUSD/week", "revenue allotted to security",
          kind="institution"),
    # Kind world: what a mine yields the state, a fact of the economy.
    Param("government.mining_revenue", 1.0, 0.0, 1e3, "MUSD/week per mine",
          "state revenue from each mining site not under concession", kind="world"),
    # Kind institution: the price of a lever, as contractor.cost is the contract's.
    Param("levers.cost", 3.0, 0.0, 1e3, "MUSD/week",
          "cost of one lever at full level (shared by the donors and the host)",
          kind="institution"),
)

LEVERS = ("justice", "training", "reconciliation", "services", "arms_tracking",
          "financial_enforcement", "humanitarian_access")
# The model's assumptions (docs/ODD.md, "Rent").
SKIM = 0.5  # share of a guarded mine's output that contractor teams skim
ENFORCEMENT_SQUEEZE = 0.5  # share of contractor revenue full financial enforcement cuts


@dataclass
class Ledger:
    """One week of public money and contractor income, in million USD."""

    state_income: float
    state_spending: float
    contractor_revenue: float
    contractor_effort: float  # 0-1: share of its contract the contractor is actually paid


def settle_week(p: dict, contractor_present: bool, mines: float, mines_at_contractor: float,
                state_personnel: float, sanctions: float) -> Ledger:
    """Income and spending of the week."""
    cost = p["contractor.cost"]
    mining = p["government.mining_revenue"]
    concession = p["contractor.concessions"] if contractor_present else 0.0
    # The concession part of the price is settled in mining sites worth that much a week.
    conceded_mines = min(mines, concession * cost / mining) if mining > 0 else 0.0
    blowback = 1.0 - p["sanctions.blowback"] * sanctions
    income = (p["government.revenue"] + mining * (mines - conceded_mines)) * blowback
    levers = sum(p[f"levers.{k}"] for k in LEVERS)
    spending = state_personnel * p["state.cost"] + p["levers.cost"] * levers
    revenue = 0.0
    effort = 0.0
    if contractor_present:
        cash = cost * (1.0 - concession)
        spending += cash
        squeeze = (1.0 - p["sanctions.pressure"] * sanctions) * (
            1.0 - ENFORCEMENT_SQUEEZE * p["levers.financial_enforcement"])
        revenue = (cash + mining * (conceded_mines + SKIM * mines_at_contractor)) * squeeze
        effort = min(1.0, revenue / cost) if cost > 0 else 1.0
    return Ledger(income, spending, revenue, effort)


def setup(model) -> None:
    """The state's budget at the start; a contractor starts at full effort."""
    model.budget = float(model.p["government.budget"])
    model.contractor_effort = 1.0


def settle(model, week) -> None:
    """The week's money: the budget moves, and the contractor's effort follows its pay."""
    f, w = model.forces, model.world
    at_contractor = float(w.cell_mine[f.cell[(f.kind == CONTRACTOR) & f.active]].sum())
    week.ledger = settle_week(model.p, model.contractor_present, float(w.cell_mine.sum()),
                              at_contractor, float(f.strength[(f.kind == STATE) & f.active].sum()),
                              model.sanctions)
    model.budget += week.ledger.state_income - week.ledger.state_spending
    model.contractor_effort = week.ledger.contractor_effort if model.contractor_present else 1.0


def record(model, week) -> None:
    """The budget at the end of the week and the contractor's revenue."""
    week.row["state_budget"] = model.budget
    week.row["contractor_revenue"] = week.ledger.contractor_revenue


OUTCOMES = (
    Outcome("state_budget", "state budget", "MUSD", summary="state_budget_final"),
    Outcome("contractor_revenue", "contractor revenue", "MUSD/week",
            summary="contractor_revenue_total", reduce=TOTAL, flow=True),
)
MECHANISM = Mechanism("M07", "rent extraction", PARAMETERS, OUTCOMES, setup=setup, record=record)
RENT = Step(MECHANISM, "money settled", settle)
