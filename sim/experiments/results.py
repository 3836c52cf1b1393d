"""What a run leaves behind: the per-step series, the summary, and the provenance to redo it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.core.outcomes import summarise
from sim.experiments.made_by import git_commit, versions
from sim.experiments.output import atomic_folder

if TYPE_CHECKING:
    from sim.core.model import BlowbackModel
    from sim.core.scenario import Scenario

SERIES_FILE = "timeseries.parquet"
SUMMARY_FILE = "summary.json"
RUN_FILES = frozenset({SERIES_FILE, SUMMARY_FILE})


def series(model) -> pd.DataFrame:
    """The run's tidy time series: one row a week, with its calendar date."""
    df = pd.DataFrame(model.records)
    df["date"] = pd.to_datetime(df["date"])
    return df


def summary(model) -> dict[str, Any]:
    """The headline outcomes of a run, as plain JSON-ready numbers: its length and dates, and
    every outcome the registry gives a summary key (:func:`sim.core.outcomes.summarise`).

    ``end_date`` is the first day of the last week run: the series' last date, and for a run to
    its end the scenario's :meth:`~sim.core.scenario.Scenario.end_date`."""
    steps = len(model.records["step"])
    return {
        "steps": steps,
        "start_date": model.scenario_spec.date_of(0).isoformat(),
        "end_date": model.scenario_spec.date_of(max(steps - 1, 0)).isoformat(),
    } | summarise(model.records)


def resolved(scenario: Scenario) -> dict[str, Any]:
    """``scenario`` as it runs, whatever files it was read from: its name, file, hash, every
    parameter's value and its events in order."""
    return {
        "scenario": scenario.name,
        "scenario_file": str(scenario.path) if scenario.path else None,
        "scenario_hash": scenario.content_hash,
        "parameters": dict(scenario.params),
        "events": [{"date": e.date, "step": e.step, "type": e.type, **e.fields}
                   for e in scenario.events],
    }


def provenance(scenario: Scenario) -> dict[str, Any]:
    """Everything needed to reproduce a run of ``scenario``."""
    return {**resolved(scenario), "seed": int(scenario.params["run.seed"]),
            "versions": versions(), "git_commit": git_commit()}


def default_out(scenario: Scenario, stem: str) -> Path:
    """The folder of a run named by its file's ``stem``, its seed and a short hash of the
    scenario as run (after --set, --seed and --steps): a different run never lands in it."""
    return Path("results") / (f"{stem}-seed{scenario.params['run.seed']}-"
                               f"{scenario.content_hash[:8]}")


def run_document(model: BlowbackModel) -> dict[str, Any]:
    """The content of a run's ``summary.json``: its summary and its provenance, with the
    changes made by hand, week by week, where there were any."""
    made = provenance(model.scenario_spec)
    if model.changed_by_hand:
        made["changed_by_hand"] = [f"week {t}: {change}" for t, change in model.changed_by_hand]
    return {"summary": summary(model), "provenance": made}


def write_run(model: BlowbackModel, out: Path) -> Path:
    """Write the series and summary of a finished run into ``out``, atomically.

    Everything is written into a temporary folder beside ``out`` and renamed into place, so an
    interrupted write never leaves a half-written folder.  An existing ``out`` is replaced only
    if it is a previous run's output (it holds ``summary.json`` and nothing foreign).  Its
    manifest records each file's checksum (:func:`sim.experiments.output.atomic_folder`).
    """
    spec = model.scenario_spec
    what = f"a run of {spec.name} seed {spec.params['run.seed']}"
    with atomic_folder(out, RUN_FILES, what) as tmp:
        series(model).to_parquet(tmp / SERIES_FILE, index=False)
        doc = run_document(model)
        (tmp / SUMMARY_FILE).write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return Path(out)
