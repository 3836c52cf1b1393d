"""Reading a saved run back, as ``sim.results.load_run(folder)``.

``Sim.save(folder)`` and ``blowback run --out folder`` write a run's folder
(:func:`sim.experiments.results.write_run`): the weekly series (``timeseries.parquet``), the
summary and provenance (``summary.json``) and the manifest with each file's size and sha256.
:func:`load_run` checks both files against the manifest before it reads either, so that a file
cut short or edited, a folder written before manifests, a missing folder or another command's
folder (a sweep, a comparison) is refused in one line naming it, an
:class:`~sim.experiments.output.OutputError` as :func:`sim.experiments.store.load` raises, never
a pandas or pyarrow traceback.  Nothing is unpickled.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from sim.experiments.output import (
    MANIFEST,
    OutputError,
    check_digest,
    described,
    read_manifest,
    results_held,
)
from sim.experiments.results import RUN_FILES, SERIES_FILE, SUMMARY_FILE

__all__ = ["SavedRun", "load_run"]

ALLOWED = "a run's folder (s.save(folder), blowback run SCENARIO --out folder)"
REDO = "save the run again: blowback run SCENARIO --out NEW-FOLDER, or s.save(NEW-FOLDER)"


@dataclass(frozen=True, eq=False, repr=False)
class SavedRun:
    """A run read back from its ``folder``: its weekly ``series`` (one row a week, as
    ``Sim.results`` gave it, dates as pandas dates), its ``summary`` (as ``Sim.summary()`` gave
    it) and its ``provenance`` (scenario, parameters, seed, versions, commit, and the changes
    made by hand, if any, under ``changed_by_hand``)."""

    folder: Path
    series: pd.DataFrame
    summary: dict[str, Any]
    provenance: dict[str, Any]

    def __repr__(self) -> str:
        made, told = self.provenance, self.summary
        return (f"<SavedRun {made.get('scenario')!r}, seed {made.get('seed')}: "
                f"{len(self.series)} weeks, {told.get('start_date')} to {told.get('end_date')}, "
                f"from {self.folder}>")


def load_run(folder: str | Path) -> SavedRun:
    """The run saved in ``folder`` (by ``Sim.save`` or ``blowback run --out``): its series,
    summary and provenance, each file first checked against the folder's manifest; one line
    naming the path if the folder is missing, of another kind, written before manifests, or
    holds a damaged file."""
    path = Path(folder)
    files = _run_manifest(path)["files"]
    checked = {}
    for name in (SERIES_FILE, SUMMARY_FILE):
        if name not in files:
            raise OutputError(f"{path / MANIFEST}: records no {name}, which a run's folder "
                              f"holds; {REDO}")
        checked[name] = check_digest(path / name, files[name], REDO)
    document = _document(checked[SUMMARY_FILE])
    return SavedRun(path, _series(checked[SERIES_FILE]), document["summary"],
                    document["provenance"])


def _run_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the run's folder ``path``, checked; one line if ``path`` is no folder,
    not a run's, or has no manifest of Blowback's."""
    _check_folder(path)
    if results_held(path) == "a sweep":
        raise OutputError(f"{path}: holds a sweep, not a run; allowed: {ALLOWED}; a sweep's "
                          "runs: sim.results.load(folder)")
    if not (path / MANIFEST).exists() and not (path / SUMMARY_FILE).exists():
        raise OutputError(f"{path}: not a run's folder (no {MANIFEST} or {SUMMARY_FILE}); "
                          f"allowed: {ALLOWED}")
    # A run's folder without a manifest was written before checksums: said so, with the redo.
    manifest = read_manifest(path, REDO)
    other = sorted(set(manifest["files"]) - RUN_FILES)
    if other:
        reader = ("; its runs: sim.analysis.load(folder)" if "runs.csv" in manifest["files"]
                  else "")
        raise OutputError(f"{path}: holds {described(path)} ({other[0]}), not a run; allowed: "
                          f"{ALLOWED}{reader}")
    return manifest


def _check_folder(path: Path) -> None:
    """Refuse, in one line, a ``path`` that is not a folder (nothing there, a file)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        wrong = "no such folder"
    except (OSError, ValueError) as err:
        wrong = f"cannot be looked up ({getattr(err, 'strerror', None) or err})"
    else:
        if stat.S_ISDIR(info.st_mode):
            return
        wrong = "not a folder"
    raise OutputError(f"{path}: {wrong}; allowed: {ALLOWED}")


def _series(file: Path) -> pd.DataFrame:
    """The weekly series of a checked ``timeseries.parquet``, its dates as the run gave them."""
    try:
        frame = pd.read_parquet(file)
    except (OSError, ValueError, pa.ArrowException) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OutputError(f"{file}: not a run's weekly series ({first}); {REDO}") from None
    if "date" not in frame.columns or not pd.api.types.is_datetime64_dtype(frame["date"]):
        raise OutputError(f"{file}: not a run's weekly series (no column of dates); {REDO}")
    # As results.series makes them, from the weeks' calendar days: Parquet has no unit of
    # seconds, so the file holds milliseconds where pandas 3 gives seconds.
    frame["date"] = pd.to_datetime(frame["date"].dt.date)
    return frame


def _document(file: Path) -> dict[str, Any]:
    """The summary and provenance of a checked ``summary.json``."""
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise OutputError(f"{file}: unreadable ({err}); {REDO}") from None
    if not (isinstance(document, dict) and isinstance(document.get("summary"), dict)
            and isinstance(document.get("provenance"), dict)):
        raise OutputError(f"{file}: not a run's summary (a summary and a provenance table); "
                          f"{REDO}")
    return document
