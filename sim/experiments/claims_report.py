"""The claims of :mod:`sim.experiments.claims` measured, as ``blowback validate`` reports them: the
printed lines, the Markdown table of docs/VALIDATION.md, and the folder that holds them with each
claim's scenarios as they ran."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.claims import ClaimResult, short_number
from sim.experiments.output import folded, write_report
from sim.experiments.results import resolved

FILES = frozenset({"claims.csv", "claims.md", "scenarios.json"})
INTERVAL = ("each estimate is a mean, its Student's t 95% interval over the seeds in brackets "
            "(Bennett's over its cases with a transition; a ratio's cut at 0, a change's at -1)")


def table_of(results: Sequence[ClaimResult]) -> pd.DataFrame:
    """The claims measured as a table, one row a claim."""
    return pd.DataFrame([r.row() for r in results])


def _estimate(row: Any) -> str:
    return (f"{short_number(row.estimate)} [{short_number(row.low)}, "
            f"{short_number(row.high)}]")


def text(table: pd.DataFrame, wide: bool = False) -> str:
    """One line a claim: whether it holds, the estimate and its interval; long lines folded
    to 100 characters (kept whole with ``wide``)."""
    seeds = " or ".join(str(n) for n in dict.fromkeys(table["seeds"]))
    lines = [f"{sum(table['holds'])} of {len(table)} claims hold, over {seeds} seeds: {INTERVAL}"]
    for r in table.itertuples():
        verdict = "holds" if r.holds else "FAILS"
        lines.append(f"  {verdict:<6} {r.key:<16} {_estimate(r)}  {r.statistic}")
        lines.append(f"         {'':<16} need: {r.threshold}")
        if r.failed:
            lines.append(f"         {'':<16} failed: {r.failed}")
        if r.detail:
            lines.append(f"         {'':<16} {r.detail}")
    return "\n".join(lines) if wide else folded("\n".join(lines))


def markdown(table: pd.DataFrame) -> str:
    """The claims as a Markdown table, for docs/VALIDATION.md."""
    lines = [f"In the table, {INTERVAL}.", "",
             "| claim | source | statistic | estimate [95% interval] | threshold | holds | "
             "seeds | detail |", "|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        verdict = "yes" if r.holds else f"**no**: {r.failed}"
        lines.append(f"| {r.pattern} | {r.source} | {r.statistic} | {_estimate(r)} | "
                     f"{r.threshold} | {verdict} | {r.seeds} | {r.detail} |")
    return "\n".join(lines)


def write(results: Sequence[ClaimResult], out: str | Path) -> Path:
    """Write claims.csv, claims.md and scenarios.json (each claim's scenarios as they ran, every
    parameter's value) into ``out`` atomically."""
    table = table_of(results)
    ran = {r.key: [resolved(spec) for spec in r.scenarios] for r in results}
    return write_report(out, FILES, what=f"a validation of {', '.join(table['key'])}",
                        tables={"claims.csv": table},
                        texts={"claims.md": markdown(table) + "\n",
                               "scenarios.json": json.dumps(ran, indent=2) + "\n"})
