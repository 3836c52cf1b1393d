"""M7 Rent extraction: what the contractor costs the state, what it earns from its mines, and a
budget that binds.

Concessions (``contractor.concessions`` = c, the share of the price settled in mining
concessions rather than cash) hand the contractor that share of the host's M mining sites; their
output goes to the contractor, not to the state, whatever it is worth against the price (an
opaque contract: "security becomes a revenue stream rather than a public good").  Each week:

    conceded   = c * M                                   (c = 0 without a contractor)
    stake      = mining_revenue * conceded               (model.contractor_stake, MUSD/week)
    skim       = min(0.5 * mining_revenue * M_at * (1 - c),
                     mining_revenue * (M - conceded))  (guarded sites it does not hold)
    income     = (revenue + mining_revenue * (M - conceded) - skim) * (1 - blowback * sanctions)
    available  = budget + income + borrowing_limit

The bill is paid out of ``available`` in this order, each item in full or with what is left:
state pay (personnel * state.cost), then the contractor's cash (price * (1 - c) plus its
arrears), then the levers (levers.cost * their summed levels).  What is not paid of the cash
becomes arrears; the budget never falls below -borrowing_limit.

    contractor revenue = (cash paid + stake + skim) * (1 - pressure * sanctions)
                         * (1 - 0.5 * financial_enforcement * lever funding)
    contractor effort  = min(1, revenue / price) * max(0, 1 - arrears / (tolerance * price))
    state effort      += pay_response * (share of state pay paid - state effort)
    lever funding      = share of the lever bill paid: every lever acts at level * funding

``model.pay_share`` (STATE, CONTRACTOR, PARTNER; the partner is paid by its own government)
scales each kind's force next week (M2); :func:`lever` is the level a lever acts at.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.registry import TOTAL, Mechanism, Outcome, Param, Step
from sim.core.state import CONTRACTOR, STATE
from sim.core.summation import sum_of_kind

PARAMETERS = (
    Param("contractor.cost", 2.3, 0.0, 1000.0, "MUSD/week",
          "price of the contract (~10 MUSD a month in Mali)", kind="institution"),
    Param("contractor.concessions", 0.6, 0.0, 1.0, "share",
          "share of the price paid in mining concessions rather than cash: the same share of "
          "the host's mining sites, their output going to the contractor", kind="institution"),
    Param("contractor.arrears_tolerance", 8.0, 0.1, 520.0, "weeks",
          "weeks of unpaid cash at which the contractor stops operating", kind="behaviour"),
    # Kind institution: the pay and upkeep the government sets for its own forces.  The default
    # is the model's assumption: the pay of 18,000 personnel takes about 9 of the 21 MUSD a week
    # of security revenue (12 allotted and 9 mines), leaving the rest for contracts and levers.
    Param("state.cost", 0.0005, 0.0, 1.0, "MUSD/person-week", "pay and upkeep of state forces",
          kind="institution"),
    Param("state.pay_response", 0.25, 0.0, 1.0, "1/week",
          "speed at which state units' effort follows the share of their pay received",
          kind="behaviour"),
    # Kind institution: the security budget, what it may borrow and the revenue allotted are the
    # government's choice.
    Param("government.budget", 300.0, -1e6, 1e6, "MUSD", "security budget at the start",
          kind="institution", at_start=True),
    Param("government.borrowing_limit", 0.0, 0.0, 1e6, "MUSD",
          "most the host can borrow: the budget's floor is minus this", kind="institution"),
    Param("government.revenue", 12.0, 0.0, 1e4, "MUSD/week", "revenue allotted to security",
          kind="institution"),
    # Kind world: what a mine yields, a fact of the economy.
    Param("government.mining_revenue", 1.0, 0.0, 1e3, "MUSD/week per mine",
          "revenue of each mining site to whoever holds it (the state, or the contractor "
          "under concession)", kind="world"),
    # Kind institution: the price of a lever, as contractor.cost is the contract's.
    Param("levers.cost", 3.0, 0.0, 1e3, "MUSD/week",
          "cost of one lever at full level (shared by the donors and the host)",
          kind="institution"),
)

LEVERS = ("justice", "training", "reconciliation", "services", "arms_tracking",
          "financial_enforcement", "humanitarian_access")
# The model's assumptions (docs/ODD.md 7.7, "M7 Rent extraction").
SKIM = 0.5  # share of a guarded mine's output that contractor teams skim
ENFORCEMENT_SQUEEZE = 0.5  # share of contractor revenue full financial enforcement cuts


@dataclass
class Ledger:
    """One week of public money and contractor income, in million USD."""

    state_income: float
    state_pay: float  # paid to state forces
    contractor_cash: float  # paid to the contractor in cash, arrears included
    lever_spending: float
    contractor_revenue: float
    contractor_stake: float  # earned from the mines held under concession
    arrears: float  # cash owed to the contractor after this week
    state_paid: float  # 0-1: share of the week's state pay paid
    lever_funding: float  # 0-1: share of the week's lever bill paid


def _paid(due: float, available: float) -> tuple[float, float]:
    """What is paid of ``due`` out of ``available``, and what is left."""
    paid = min(due, max(0.0, available))
    return paid, available - paid


def settle_week(p: dict, contractor_present: bool, mines: float, mines_at_contractor: float,
                state_personnel: float, sanctions: float, budget: float,
                arrears: float) -> Ledger:
    """Income and the rationed bill of the week (state pay, contractor cash, levers)."""
    mining = p["government.mining_revenue"]
    concession = p["contractor.concessions"] if contractor_present else 0.0
    conceded = concession * mines
    stake = mining * conceded
    skim = 0.0
    if contractor_present:
        skim = min(SKIM * mining * mines_at_contractor * (1.0 - concession),
                   mining * (mines - conceded))
    income = (p["government.revenue"] + mining * (mines - conceded) - skim) * (
        1.0 - p["sanctions.blowback"] * sanctions)
    available = budget + income + p["government.borrowing_limit"]
    state_due = state_personnel * p["state.cost"]
    state_pay, available = _paid(state_due, available)
    cash_due = p["contractor.cost"] * (1.0 - concession) + arrears if contractor_present else 0.0
    cash, available = _paid(cash_due, available)
    lever_due = p["levers.cost"] * sum(p[f"levers.{k}"] for k in LEVERS)
    lever_spending, available = _paid(lever_due, available)
    funding = lever_spending / lever_due if lever_due > 0 else 1.0
    revenue = 0.0
    if contractor_present:
        squeeze = (1.0 - p["sanctions.pressure"] * sanctions) * (
            1.0 - ENFORCEMENT_SQUEEZE * p["levers.financial_enforcement"] * funding)
        revenue = (cash + stake + skim) * squeeze
    return Ledger(income, state_pay, cash, lever_spending, revenue, stake, cash_due - cash,
                  state_pay / state_due if state_due > 0 else 1.0, funding)


def contractor_effort(p: dict, revenue: float, arrears: float) -> float:
    """The contractor's effort: the share of its price it earns, cut by the arrears it is owed
    (to nothing at ``contractor.arrears_tolerance`` weeks of its price unpaid)."""
    cost = p["contractor.cost"]
    if cost <= 0:
        return 1.0
    unpaid = arrears / (p["contractor.arrears_tolerance"] * cost)
    return min(1.0, revenue / cost) * max(0.0, 1.0 - unpaid)


def lever(model, name: str) -> float:
    """The level a lever acts at: its declared level times the share of the lever bill the
    budget paid at the last settlement."""
    return model.p[f"levers.{name}"] * model.lever_funding


def setup(model) -> None:
    """The state's budget at the start; every force is paid in full and every lever funded;
    the value of all the mines, which do not move during a run."""
    model.budget = float(model.p["government.budget"])
    model.pay_share = np.ones(3)  # STATE, CONTRACTOR, PARTNER
    model.lever_funding = 1.0
    model.contractor_arrears = 0.0
    model.contractor_stake = 0.0
    model.mines_total = float(model.world.cell_mine.sum())


def settle(model, week) -> None:
    """The week's money: the budget pays what it can, in order; efforts follow pay."""
    f, w, p = model.forces, model.world, model.p
    at_contractor, _ = sum_of_kind(f.kind, f.active, w.cell_mine[f.cell], CONTRACTOR)
    state_strength, _ = sum_of_kind(f.kind, f.active, f.strength, STATE)
    ledger = settle_week(p, model.contractor_present, model.mines_total, at_contractor,
                         state_strength, model.sanctions, model.budget, model.contractor_arrears)
    week.ledger = ledger
    model.budget += (ledger.state_income - ledger.state_pay - ledger.contractor_cash
                     - ledger.lever_spending)
    model.contractor_arrears = ledger.arrears
    model.contractor_stake = ledger.contractor_stake
    model.lever_funding = ledger.lever_funding
    model.pay_share[STATE] += p["state.pay_response"] * (ledger.state_paid
                                                         - model.pay_share[STATE])
    model.pay_share[CONTRACTOR] = (contractor_effort(p, ledger.contractor_revenue, ledger.arrears)
                                   if model.contractor_present else 1.0)


def record(model, week) -> None:
    """The budget at the end of the week, the contractor's money and the levers' funding."""
    ledger = week.ledger
    week.row["state_budget"] = model.budget
    week.row["contractor_revenue"] = ledger.contractor_revenue
    week.row["contractor_cash"] = ledger.contractor_cash
    week.row["contractor_stake"] = ledger.contractor_stake
    week.row["contractor_arrears"] = ledger.arrears
    week.row["state_pay_share"] = float(model.pay_share[STATE])
    week.row["levers_funded"] = ledger.lever_funding
    week.row["levers_unfunded"] = float(ledger.lever_funding < 1.0)


OUTCOMES = (
    Outcome("state_budget", "state budget", "MUSD", summary="state_budget_final"),
    # Charted against its price: the contractor's effort falls only below it (sanctions, M10).
    Outcome("contractor_revenue", "contractor revenue", "MUSD/week",
            summary="contractor_revenue_total", reduce=TOTAL, flow=True,
            shown=frozenset({"chart"}), title="contractor revenue a quarter (MUSD)"),
    Outcome("contractor_cash", "cash paid to the contractor", "MUSD/week",
            summary="contractor_cash_total", reduce=TOTAL, flow=True),
    Outcome("contractor_stake", "contractor earnings from conceded mines", "MUSD/week"),
    Outcome("contractor_arrears", "cash owed to the contractor", "MUSD",
            summary="contractor_arrears_final"),
    Outcome("state_pay_share", "effort of state forces (share of pay received)", "share",
            share=True),
    Outcome("levers_funded", "share of the lever bill paid", "share", share=True),
    Outcome("levers_unfunded", "weeks with levers not fully funded", "weeks",
            summary="levers_unfunded_weeks", reduce=TOTAL, flow=True),
)
MECHANISM = Mechanism("M07", "rent extraction", PARAMETERS, OUTCOMES, setup=setup, record=record)
RENT = Step(MECHANISM, "money settled", settle)
