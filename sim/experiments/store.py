"""Reading a sweep's runs, as ``sim.results.load(folder, scenario=..., where=..., columns=...)``.

The shards of a sweep and the merged files of ``blowback sweep --compact``
(:mod:`sim.experiments.shards`) read alike, and lazily: the folder's log says which file holds
which run, with its scenario and design point, so a filter on the scenario or on a varied
parameter opens only the files holding matching runs (:func:`plan`), and pyarrow's dataset
scan of those reads only the row groups whose statistics can match (filter pushdown).  What
is read is first checked against its line: with a filter, the footer and those row groups
(:mod:`sim.experiments.parquet_parts`), else the whole file's size and sha256; a damaged file is
refused in one line naming it.  The manifest's design points are checked against their sha256
when it is read; a manifest written before it recorded that has its points checked against the
values of the runs a ``where`` chooses.
Nothing is unpickled.  Folders of the second format (one file a run,
:mod:`sim.experiments.run_files`) load too.  A single run's folder (``Sim.save``, ``blowback run
--out``) is read by ``sim.results.load_run(folder)`` (:mod:`sim.experiments.saved_run`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as fs
import pyarrow.parquet as pq

from sim.experiments import run_files
from sim.experiments.output import OutputError, check_digest
from sim.experiments.parquet_parts import check_footer, check_row_groups
from sim.experiments.saved_run import SavedRun, load_run
from sim.experiments.shards import RUNS, SERIES, check_written, survey
from sim.experiments.sweep_folder import MANIFEST, POINTS_SHA256, check_runs, read_manifest

__all__ = ["ID_COLUMNS", "Plan", "SavedRun", "finished_runs", "load", "load_run", "load_series",
           "plan", "series_by_file"]

ID_COLUMNS = ["run_id", "scenario", "seed", "point"]
# How many times a load plans its reading when files it chose are removed under it.
READ_TRIES = 3


@dataclass(frozen=True)
class Plan:
    """What a load reads: the ``files`` that hold the ``runs`` it selects (each checked before
    it is read), and the ``filter`` pushed down into their scan."""

    files: list[Path]
    runs: frozenset[str]
    filter: pc.Expression | None
    lines: dict[Path, dict[str, Any]]


def _as_set(value: Any) -> set[Any]:
    return set(value) if isinstance(value, list | tuple | set | frozenset) else {value}


def _selection(manifest: dict[str, Any], scenario: str | Sequence[str] | None,
               where: Mapping[str, Any] | None, path: Path) -> tuple[set[str] | None,
                                                                     dict[str, set[Any]]]:
    """The scenarios and the values of varied parameters asked for, checked against the
    sweep's manifest (one line naming what is not there)."""
    names = [s["name"] for s in manifest["scenarios"]]
    scenarios = None if scenario is None else _as_set(scenario)
    unknown = sorted(map(str, (scenarios or set()) - set(names)))
    if unknown:
        raise OutputError(f"{path}: scenario {unknown[0]!r} is not one of this sweep's; allowed: "
                          f"{', '.join(map(repr, names))}")
    if where is not None and not isinstance(where, Mapping):
        raise OutputError(f"where: {where!r} is not a mapping; allowed: a dict of varied "
                          "parameters and their values, {\"oversight.punishment\": [0.2, 0.8]}")
    values = {key: _as_set(value) for key, value in (where or {}).items()}
    for key in values:
        if key not in manifest["varied"]:
            allowed = ", ".join(manifest["varied"]) or "none (this sweep varied no parameter)"
            raise OutputError(f"{path}: where: {key} is not a parameter this sweep varied; "
                              f"allowed: {allowed}")
    return scenarios, values


def plan(path: str | Path, scenario: str | Sequence[str] | None = None,
         where: Mapping[str, Any] | None = None, folder: str = RUNS) -> Plan:
    """The files of a sweep folder (of the third format) that a load with these filters reads,
    and the filter its scan pushes down; one line if a file was not written by the sweep."""
    path = Path(path)
    manifest = read_manifest(path)
    scenarios, values = _selection(manifest, scenario, where, path)
    found = survey(path)
    check_written(found, "")
    check_runs(path, manifest, found)
    points = manifest.get("points")
    wanted = None
    if values:
        if not (isinstance(points, list) and all(isinstance(p, dict) for p in points)):
            raise OutputError(f"{path / MANIFEST}: points are missing or not as blowback sweep "
                              "writes them (one table of varied values a design point), so "
                              "where cannot be read; a sweep's manifest is not edited by hand")
        # Python's equality, as the experiment file gave the levels: 0 and -0.0 are 0.0, and
        # True is 1, whatever types the parameter's column holds.
        wanted = {i for i, point in enumerate(points)
                  if all(point.get(key) in allowed for key, allowed in values.items())}
    files, runs, mixed, lines = [], set(), False, {}
    for index in found.live:
        chosen = [run["run_id"] for run in found.lines[index]["runs"]
                  if found.homes[run["run_id"]] == index
                  and (scenarios is None or run.get("scenario") in scenarios)
                  and (wanted is None or run.get("point") in wanted)]
        mixed |= len(chosen) < len(found.lines[index]["runs"])
        if chosen:
            runs.update(chosen)
            for name in found.files(index, folder):
                files.append(path / name)
                lines[path / name] = found.lines[index]
    by_id = mixed or (folder != RUNS and (scenarios is not None or bool(values)))
    expression = pc.field("run_id").isin(sorted(runs)) if by_id else None
    if folder == RUNS:
        # By the scenario's name and the design point's number, not by the varied values: a
        # value's column may hold integers in one shard and floats in another, and pyarrow
        # skips a row group of 0.0s whose statistics read -0.0 to 0.0 when asked for 0.0.
        for column, allowed in (("scenario", scenarios), ("point", wanted)):
            if allowed is not None:
                test = pc.field(column).isin(sorted(allowed))
                expression = test if expression is None else expression & test
    return Plan(files, frozenset(runs), expression, lines)


def _scan(path: Path, chosen: Plan, folder: str, columns: list[str] | None) -> pa.Table | None:
    """The rows ``chosen`` selects, each byte read checked against the file's line first."""
    if not chosen.files:
        return None
    redo = "rerun the sweep with --resume to redo its runs"
    records = {f: chosen.lines[f]["files"][f"{folder}/{f.name}"] for f in chosen.files}
    # With a filter, a file whose line records its parts is read, and checked, only where its
    # row groups can match: its footer first, the row groups once the footer says which.
    by_parts = {f for f, recorded in records.items()
                if chosen.filter is not None and "parts" in recorded}
    for file, recorded in records.items():
        if file in by_parts:
            check_footer(file, recorded, redo)
        else:
            check_digest(file, recorded, redo)
    try:
        schema = pa.unify_schemas([pq.read_schema(f) for f in chosen.files],
                                  promote_options="permissive")
        _check_columns(path, columns, schema.names)
        parquet, local = ds.ParquetFileFormat(), fs.LocalFileSystem()
        fragments = []
        for file in chosen.files:
            whole = parquet.make_fragment(str(file), local)
            if file not in by_parts:
                fragments.append(whole)
                continue
            groups = whole.split_by_row_group(chosen.filter, schema=schema)
            check_row_groups(file, records[file], [g.row_groups[0].id for g in groups], redo)
            fragments.extend(groups)
        dataset = ds.FileSystemDataset(fragments, schema, parquet, local)
        return dataset.to_table(columns=columns, filter=chosen.filter)
    except (OSError, pa.ArrowException) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OutputError(f"{path}: a shard is damaged ({first}); rerun the sweep with "
                          "--resume") from None


def _read(path: Path, scenario: str | Sequence[str] | None, where: Mapping[str, Any] | None,
          folder: str, columns: list[str] | None) -> pa.Table | None:
    """:func:`_scan` of what :func:`plan` chooses, planned again where a file it chose was
    removed before it was read: a ``--compact`` running beside the load, which removes the
    shards it merged once the merged file is in force."""
    attempt = 1
    while True:
        chosen = plan(path, scenario, where, folder)
        try:
            return _scan(path, chosen, folder, columns)
        except OutputError as err:
            if all(f.exists() for f in chosen.files):
                raise
            if attempt == READ_TRIES:
                raise OutputError(f"{err} (its files were removed while they were read, "
                                  f"{READ_TRIES} times: is a --compact or --resume of it "
                                  "running?)") from None
        attempt += 1


def _check_columns(path: Path, columns: list[str] | None, names: list[str]) -> None:
    """Refuse, in one line, a column asked for that the sweep's runs do not have."""
    missing = [c for c in columns or [] if c not in names]
    if missing:
        raise OutputError(f"{path}: columns: {missing[0]!r} is not a column of this sweep's "
                          f"runs; allowed: {', '.join(names)}")


def _none_selected(path: Path, manifest: dict[str, Any], columns: list[str] | None
                   ) -> pd.DataFrame:
    """The empty frame of a load whose filters match no run, with the columns the sweep's runs
    have (read from their files' footers, so that a column asked for is checked as when
    runs match); a sweep with no finished run yet has only its ids and varied parameters."""
    files = [] if manifest["format"] == run_files.FORMAT else plan(path).files
    names = [*ID_COLUMNS, *manifest["varied"]]
    if files:
        names = pa.unify_schemas([pq.read_schema(f) for f in files],
                                 promote_options="permissive").names
        _check_columns(path, columns, names)
    return pd.DataFrame(columns=columns or names)


def _check_points(path: Path, points: list[dict[str, Any]], df: pd.DataFrame,
                  keys: Iterable[str]) -> None:
    """Refuse, in one line naming the manifest, a run whose varied value differs from its
    design point's there: the manifest's points chose it, so it is not what was asked for."""
    for key in keys:
        for point, value in zip(df["point"].tolist(), df[key].tolist(), strict=True):
            recorded = points[point].get(key) if 0 <= point < len(points) else None
            # Python's equality, as where's values are compared with the points'.
            if recorded != value:
                raise OutputError(f"{path / MANIFEST}: point {point} has {key} = {recorded!r}, "
                                  f"but its runs were run with {value!r}, so where cannot "
                                  "choose runs by its points; a sweep's manifest is written "
                                  "by blowback sweep, not by hand: put its points back")


def load(path: str | Path, scenario: str | Sequence[str] | None = None,
         where: Mapping[str, Any] | None = None,
         columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The finished runs of a sweep folder, one row each, in experiment order.

    Columns: ``run_id``, ``scenario``, ``seed``, ``point``, the varied parameters by their
    dotted names, then the outcomes; with ``columns``, the four ids and those.  ``scenario``
    (a name or several) and ``where`` (``{parameter: value or values}``, varied parameters
    only) keep the matching runs, and only the files and row groups that hold them are read.
    Safe while a sweep runs: only closed shards are read.
    """
    path = Path(path)
    manifest = read_manifest(path)
    scenarios, values = _selection(manifest, scenario, where, path)
    if isinstance(columns, str):
        columns = [columns]
    wanted = None if columns is None else [*ID_COLUMNS,
                                           *(c for c in columns if c not in ID_COLUMNS)]
    # Points read with their checksum are as the sweep ran them; those of a manifest written
    # before it was recorded are checked against the runs they choose.
    check = values if manifest["format"] != run_files.FORMAT and POINTS_SHA256 not in manifest \
        else {}
    if manifest["format"] == run_files.FORMAT:
        table = run_files.read(path, RUNS)
    else:
        read = wanted and [*wanted, *(key for key in check if key not in wanted)]
        table = _read(path, scenario, where, RUNS, read)
    if table is None:
        return _none_selected(path, manifest, wanted)
    df = table.to_pandas()
    missing = [c for c in ID_COLUMNS if c not in df.columns]
    if missing:
        raise OutputError(f"{path / RUNS}: holds a file that is not a run of this sweep (no "
                          f"{', '.join(missing)}); remove it")
    if check:
        _check_points(path, manifest["points"], df, check)
        df = df[wanted] if wanted else df
    if manifest["format"] == run_files.FORMAT:
        keep = pd.Series(True, index=df.index)
        for column, allowed in [("scenario", scenarios), *values.items()]:
            if allowed is not None:
                keep &= df[column].isin(allowed)
        df = df[keep][wanted] if wanted else df[keep]
    order = {s["name"]: i for i, s in enumerate(manifest["scenarios"])}
    df = df.assign(_order=df["scenario"].map(order))
    return (df.sort_values(["_order", "point", "seed"], kind="stable")
            .drop(columns="_order").reset_index(drop=True))


def load_series(path: str | Path, scenario: str | Sequence[str] | None = None,
                where: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The weekly series of the finished runs of a ``keep = "series"`` sweep, stacked: one row a
    run and week, keyed by ``run_id`` (join :func:`load` on it for the run's parameters);
    ``scenario`` and ``where`` as for :func:`load`."""
    path = Path(path)
    manifest = _kept_series(path)
    if manifest["format"] == run_files.FORMAT:
        table = run_files.read(path, SERIES)
        if table is not None and (scenario is not None or where):
            ids = load(path, scenario, where, columns=[])["run_id"]
            table = table.filter(pc.field("run_id").isin(list(ids)))
    else:
        if where and POINTS_SHA256 not in manifest:
            # The series hold no varied values: the rows of the same runs are checked instead.
            load(path, scenario, where, columns=[])
        table = _read(path, scenario, where, SERIES, None)
    if table is None:
        return pd.DataFrame(columns=["run_id", "step"])
    return _by_run(table)


def _kept_series(path: Path) -> dict[str, Any]:
    """The manifest of a sweep folder that kept its runs' series; one line if it did not."""
    manifest = read_manifest(path)
    if manifest.get("keep", "series") != "series":
        raise OutputError(f"{path}: a sweep that kept each run's summary only (keep = "
                          f"{manifest['keep']!r}); allowed: a sweep run with keep = \"series\"")
    return manifest


def _by_run(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas().sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)


def series_by_file(path: str | Path, columns: Sequence[str] | None = None
                   ) -> Iterator[pd.DataFrame]:
    """The rows of :func:`load_series` a file of the folder at a time, each run's rows in one
    frame, sorted by ``run_id`` and ``step``: a reader that folds them holds one file's rows
    at once.  ``columns``: ``run_id``, ``step`` and those only, read from the files' columns
    alone.  A folder of one file a run (the second format) comes as one frame."""
    path = Path(path)
    manifest = _kept_series(path)
    wanted = None if columns is None else [
        "run_id", "step", *(c for c in columns if c not in ("run_id", "step"))]
    if manifest["format"] == run_files.FORMAT:
        whole = load_series(path)
        yield whole if wanted is None or whole.empty else whole[wanted]
        return
    # As _read does: a file removed before it is read (a --compact beside the reader, which
    # removes the shards it merged) has the reading planned again, past the runs already given.
    given: set[str] = set()
    for attempt in range(1, READ_TRIES + 1):
        chosen = plan(path, folder=SERIES)
        for file in chosen.files:
            one = Plan([file], chosen.runs, chosen.filter, {file: chosen.lines[file]})
            try:
                frame = _by_run(_scan(path, one, SERIES, wanted))
            except OutputError as err:
                if file.exists():
                    raise
                if attempt == READ_TRIES:
                    raise OutputError(f"{err} (its files were removed while they were read, "
                                      f"{READ_TRIES} times: is a --compact or --resume of it "
                                      "running?)") from None
                break
            frame = frame[~frame["run_id"].isin(given)].reset_index(drop=True)
            given.update(frame["run_id"])
            yield frame
        else:
            return


def finished_runs(path: str | Path) -> set[str]:
    """The ids of the runs a sweep folder holds, from its log (or its files), unchecked: what a
    resumed sweep need not run again, for estimates and counts."""
    path = Path(path)
    if read_manifest(path)["format"] == run_files.FORMAT:
        return set(run_files.finished_files(path / RUNS))
    return set(survey(path).homes)
