"""Every outcome a run records, declared once: the one list that summaries, tables, rankings,
plots and the dashboard read.

Each mechanism declares the outcomes it records (:class:`sim.core.registry.Outcome`); this
module gathers them in the week's order.  Reports pick theirs with :func:`shown`.
"""

from __future__ import annotations

from typing import Any

from sim.core.registry import LARGEST, TOTAL, Outcome
from sim.core.registry import outcome as _o

OUTCOMES: tuple[Outcome, ...] = (
    _o("civilian_deaths", "civilian deaths", "people/week", "civilian_deaths.total", TOTAL,
       flow=True, shown="table ranking plot chart", title="civilian deaths per quarter",
       better="lower"),
    _o("civilian_deaths_state", "by state forces", "people/week", "civilian_deaths.state",
       TOTAL, flow=True),
    _o("civilian_deaths_contractor", "by contractor", "people/week",
       "civilian_deaths.contractor", TOTAL, flow=True, shown="table"),
    _o("civilian_deaths_partner", "by partner", "people/week", "civilian_deaths.partner", TOTAL,
       flow=True),
    _o("civilian_deaths_insurgent", "by armed groups", "people/week",
       "civilian_deaths.insurgent", TOTAL, flow=True),
    _o("largest_event", "largest abuse", "people", "largest_event", LARGEST),
    _o("combatant_deaths", "combatant deaths", "people/week", "combatant_deaths", TOTAL,
       flow=True),
    _o("insurgent_strength", "insurgents at end", "fighters", "insurgent_strength_final",
       shown="table ranking plot chart", title="insurgent fighters", better="lower"),
    _o("recruits", "recruits", "fighters/week", "recruits_total", TOTAL, flow=True,
       shown="table"),
    _o("cooperation_mean", "cooperation", "0-1", "cooperation_mean_final", share=True,
       shown="table ranking plot chart", title="cooperation with the state", better="higher"),
    _o("grievance_mean", "grievance", "0-1", "grievance_mean_final", share=True,
       shown="comparison"),
    _o("support_mean", "support for armed groups", "0-1", share=True),
    _o("legitimacy", "legitimacy", "0-1", "legitimacy_final", share=True,
       shown="table plot chart", title="state legitimacy"),
    _o("displaced", "displaced", "people", "displaced_final", shown="table plot chart",
       title="displaced persons"),
    _o("newly_displaced", "newly displaced", "people/week", flow=True),
    _o("abuses", "abuses", "events/week", "abuses_total", TOTAL, flow=True),
    _o("abuses_detected", "abuses documented", "events/week", "abuses_detected", TOTAL,
       flow=True),
    _o("abuses_punished", "abuses punished", "events/week", "abuses_punished", TOTAL,
       flow=True),
    _o("partner_present", "partner stays", "yes/no", "partner_present_final", kind=bool,
       shown="table"),
    _o("un_present", "UN stays", "yes/no", "un_present_final", kind=bool),
    _o("contractor_present", "contractor present", "yes/no", "contractor_present_final",
       kind=bool),
    _o("partner_relationship", "partner relationship", "0-1", share=True, shown="chart",
       title="partner relationship with the host"),
    _o("un_relationship", "UN relationship", "0-1", share=True),
    _o("sanctions_level", "sanctions", "0-1", "sanctions_level_final", share=True,
       shown="chart", title="sanctions in force"),
    _o("state_budget", "state budget", "MUSD", "state_budget_final"),
    _o("contractor_revenue", "contractor revenue", "MUSD/week", "contractor_revenue_total",
       TOTAL, flow=True),
    _o("neighbour_states_with_contractors", "neighbours copying", "states",
       "neighbour_states_with_contractors_final", kind=int, shown="comparison"),
    _o("territory_state_share", "state territory", "share", "territory_state_share_final",
       share=True, shown="table plot chart", title="population under state control"),
    _o("state_discrimination", "state discrimination", "share", share=True),
    _o("contractor_discrimination", "contractor discrimination", "share", share=True),
    _o("cross_border_inflow", "cross-border inflow", "fighters/week", flow=True),
)

BY_NAME: dict[str, Outcome] = {o.name: o for o in OUTCOMES}
NAMES: tuple[str, ...] = tuple(BY_NAME)


def shown(report: str) -> tuple[Outcome, ...]:
    """The outcomes a report lists, in registry order.

    ``table``: analysis tables; ``comparison``: the comparison table (the table's outcomes and
    a few more); ``ranking``: sensitivity rankings; ``plot``: a run's figure; ``chart``: the
    dashboard's charts.
    """
    if report == "comparison":
        return tuple(o for o in OUTCOMES if {"table", "comparison"} & o.shown)
    return tuple(o for o in OUTCOMES if report in o.shown)


def _reduce(o: Outcome, values: list) -> Any:
    if not values:
        return None
    if o.reduce == TOTAL:
        total = 0.0
        # Week by week in order, as the model's own running totals add them.
        for v in values:
            total += v
        return o.kind(total)
    if o.reduce == LARGEST:
        return o.kind(max(values))
    return o.kind(values[-1])


def summarise(records: dict[str, list]) -> dict[str, Any]:
    """The summary entries of a run's weekly records: one per outcome with a summary key,
    nested where the key has a dot (``civilian_deaths.total``)."""
    out: dict[str, Any] = {}
    for o in OUTCOMES:
        if not o.summary:
            continue
        head, _, leaf = o.summary.partition(".")
        value = _reduce(o, records[o.name])
        if leaf:
            out.setdefault(head, {})[leaf] = value
        else:
            out[head] = value
    return out
