"""Every outcome a run records, declared once: the one list that summaries, tables, rankings,
plots and the dashboard read.

Each mechanism declares the outcomes it records (:class:`sim.core.registry.Outcome`); this
module gathers them in the order of :data:`sim.core.week.MECHANISMS`.  Reports pick theirs
with :func:`shown`.
"""

from __future__ import annotations

from typing import Any

from sim.core.registry import LARGEST, TOTAL, Outcome
from sim.core.week import MECHANISMS

OUTCOMES: tuple[Outcome, ...] = tuple(o for m in MECHANISMS for o in m.outcomes)

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
        # Week by week in order: the same float sum on every Python (3.12's sum() compensates).
        for v in values:
            total += v
        return o.kind(total)
    if o.reduce == LARGEST:
        return o.kind(max(values))
    return o.kind(values[-1])


def totals(records: dict[str, list]) -> dict[str, float]:
    """Each weekly flow that a summary adds up, summed over the weeks so far, by its name."""
    return {o.name: float(_reduce(o, records[o.name]) or 0.0) for o in OUTCOMES
            if o.reduce == TOTAL}


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
