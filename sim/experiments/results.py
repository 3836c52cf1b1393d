"""What a run leaves behind: the per-step series, the summary, and the provenance to redo it."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mesa
import numba
import numpy as np
import pandas as pd

from sim.core.outcomes import summarise
from sim.experiments.output import atomic_folder
from sim.version import __version__

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


def git_commit() -> str | None:
    """The commit of the package's checkout, with ``+dirty`` if it has changes; None outside git."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=here, capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty.strip() else "")


# Parts of the package that present or orchestrate runs and never change their numbers: a
# change there leaves a half-done sweep resumable.  Anything not named counts.
_PRESENTATION = frozenset({"interfaces", "classics", "__main__.py", "experiments/sweep.py",
                           "experiments/sweep_folder.py", "experiments/sweep_workers.py",
                           "experiments/shards.py", "experiments/store.py",
                           "experiments/compaction.py", "experiments/run_files.py",
                           "experiments/analysis.py", "experiments/sensitivity.py",
                           "experiments/claims.py", "experiments/calibration.py",
                           "experiments/calibration_report.py", "experiments/predictive.py",
                           "experiments/posterior.py", "experiments/smc.py",
                           "experiments/detection.py"})


def model_code() -> str:
    """A hash of the package's source that a run's numbers depend on (the model, its kernels,
    scenario reading, summaries), so that a sweep can tell whether the model changed."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in _PRESENTATION or "/".join(rel.parts[:2]) in _PRESENTATION:
            continue
        digest.update(rel.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def versions() -> dict[str, str]:
    """Versions of the package and of what its numbers depend on."""
    return {"blowback": __version__, "mesa": mesa.__version__, "numba": numba.__version__,
            "numpy": np.__version__, "pandas": pd.__version__,
            "python": platform.python_version()}


def provenance(scenario: Scenario) -> dict[str, Any]:
    """Everything needed to reproduce a run of ``scenario``."""
    return {
        "scenario": scenario.name,
        "scenario_file": str(scenario.path) if scenario.path else None,
        "scenario_hash": scenario.content_hash,
        "seed": int(scenario.params["run.seed"]),
        "parameters": dict(scenario.params),
        "events": [{"date": e.date, "step": e.step, "type": e.type, **e.fields}
                   for e in scenario.events],
        "versions": versions(),
        "git_commit": git_commit(),
    }


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
