"""``blowback sweep --compact FOLDER``: merge a sweep's shards into one file of rows (and one of
series), so that a finished design of tens of thousands of runs is two files, not hundreds.

The merge holds the folder's lock (no sweep writes meanwhile) and goes in steps, each of which
a crash may cut:

1. Every shard in force is checked against its line (size and sha256); a damaged one stops the
   merge naming it (``--resume`` redoes its runs first).
2. The shards are copied one at a time, in log order, into a new shard under a hidden name
   (``.shard-000123.parquet.part``), in row groups; each run's checksum is computed again from
   the rows copied and compared with its line's, so a run is never changed by a merge.
3. The new files are closed and flushed to disk; their line, listing every run with its new
   rows and the shards it merges, is appended to the log and flushed; then they are renamed
   into place, the series first.
4. The merged shards, which no run lives in any more, are removed.
5. The log is shortened (:func:`sim.experiments.shard_log.shorten`): the lines of the merged
   shards, whose files are gone, are dropped, so that the log lists each run once however
   often the folder is compacted.  The new log is written whole beside the old one under a
   hidden name, flushed to disk, and renamed over it.

Cut during 1 or 2, the folder holds a hidden partial file beside the shards still in force;
cut in 3 before the last rename, a line whose files are not all in place, which is not in
force; cut in 4, merged shards that are stale; cut in 5, the old log, which gives every run the
home the new one gives, and a hidden partial log.  Readers ignore all of these, and
``--resume`` or another ``--compact`` removes them (another ``--compact`` shortens the log too):
the folder loads and resumes exactly at every point.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sim.experiments.output import FILE_MODE, OutputError, sync
from sim.experiments.parquet_parts import parquet_digest
from sim.experiments.shard_log import append_line, shorten
from sim.experiments.shards import (
    PART,
    ROW_GROUP_RUNS,
    RUNS,
    SERIES,
    Survey,
    check_line,
    check_written,
    remove,
    run_checksum,
    shard_name,
    survey,
)
from sim.experiments.sweep_folder import FORMAT, check_runs, hold, read_manifest


@dataclass(frozen=True)
class Compaction:
    """What a merge did: ``runs`` in ``merged`` shards now in ``into`` (None: nothing to
    merge), ``removed`` files left by earlier merges or killed sweeps, and why the log was left
    holding the merged shards' lines (``log_left``; None once shortened)."""

    out: Path
    runs: int
    merged: int
    into: Path | None
    removed: int
    log_left: str | None = None


def compact(out: str | Path) -> Compaction:
    """Merge the shards of the sweep folder ``out`` into one (see the module's steps)."""
    out = Path(out)
    manifest = read_manifest(out)
    if manifest["format"] != FORMAT:
        raise OutputError(f"{out}: a sweep of an earlier Blowback (one file a run, "
                          f"{manifest['format']}), which has no shards to merge; it loads as it is")
    lock = hold(out, "compact it once it has")
    try:
        found = survey(out)
        leftovers = [*found.partial, *found.stale]
        check_written(found, " first")
        check_runs(out, manifest, found)
        for index in found.live:
            check_line(out, found.lines[index])
        remove(leftovers)
        if len(found.live) < 2:
            # A merge cut before it shortened the log has it shortened here.
            return Compaction(out, len(found.homes), 0, None, len(leftovers), _shortened(out))
        number = found.next_number()
        folders = [f for f in (SERIES, RUNS) if any(found.files(i, f) for i in found.live)]
        into = _merge(out, found, number, folders)
        merged = [out / name for index in found.live for name in found.lines[index]["files"]]
        remove(merged)
        return Compaction(out, len(found.homes), len(found.live), into, len(leftovers),
                          _shortened(out))
    finally:
        lock.release()


def _shortened(out: Path) -> str | None:
    """Step 5; a failure of it (a full disk) leaves the longer log whole and in force, which
    every reader reads as before: why it was left, or None."""
    try:
        shorten(out)
    except OSError as err:
        return err.strerror or str(err)
    return None


def _schema(out: Path, found: Survey, folder: str) -> pa.Schema:
    """One schema for the rows of every shard in ``folder`` (a column missing from some, or
    stored as an integer in one and a float in another, unified)."""
    schemas = [pq.read_schema(out / name) for index in found.live
               for name in found.files(index, folder)]
    try:
        return pa.unify_schemas(schemas, promote_options="permissive")
    except pa.ArrowException as err:
        raise OutputError(f"{out}: its shards hold columns that cannot be merged ({err})"
                          ) from None


def _merge(out: Path, found: Survey, number: int, folders: list[str]) -> Path:
    """Steps 2 and 3: the new shard, written whole, logged and in place."""
    name = shard_name(number)
    parts = {folder: out / folder / f".{name}{PART}" for folder in folders}
    writers = {folder: pq.ParquetWriter(parts[folder], _schema(out, found, folder))
               for folder in folders}
    for part in parts.values():
        os.chmod(part, FILE_MODE)
    try:
        runs = _copy(out, found, writers)
        for writer in writers.values():
            writer.close()
    except BaseException as err:
        if isinstance(err, OSError | OutputError | pa.ArrowException):
            # An ordinary failure (a full disk, a damaged run): nothing of the merge is left.
            for writer in writers.values():
                with contextlib.suppress(OSError, pa.ArrowException):
                    writer.close()
            remove(parts.values())
        raise
    files = {}
    for folder, part in parts.items():
        sync(part)
        files[f"{folder}/{name}"] = parquet_digest(part)
    merged = [found.lines[index]["shard"] for index in found.live]
    append_line(out, {"shard": number, "files": files, "runs": runs, "merges": merged})
    for folder, part in parts.items():
        os.replace(part, out / folder / name)
        sync(out / folder)
    return out / RUNS / name


def _copy(out: Path, found: Survey, writers: dict[str, pq.ParquetWriter]) -> list[dict]:
    """Copy the runs of every shard in force, one shard in memory at a time, checking each
    against its checksum; the entries of the new shard's line."""
    runs, rows = [], dict.fromkeys(writers, 0)
    pending: dict[str, list[pa.Table]] = {folder: [] for folder in writers}

    def flush() -> None:
        for folder, tables in pending.items():
            if tables:
                writers[folder].write_table(pa.concat_tables(tables))
                tables.clear()

    for index in found.live:
        tables = {f: pq.read_table(out / found.files(index, f)[0]) for f in writers}
        for entry in found.lines[index]["runs"]:
            if found.homes[entry["run_id"]] != index:
                continue
            pieces = {RUNS: tables[RUNS].slice(entry["row"], 1)}
            if SERIES in tables:
                pieces[SERIES] = tables[SERIES].slice(*entry["series"])
            if run_checksum(pieces[RUNS], pieces.get(SERIES)) != entry["sha256"]:
                raise OutputError(f"{out / found.files(index, RUNS)[0]}: run {entry['run_id']} "
                                  "differs from its checksum; rerun the sweep with --resume to "
                                  "redo it, then compact")
            pieces = {f: piece.cast(writers[f].schema) for f, piece in pieces.items()}
            moved = {"row": rows[RUNS], "sha256": run_checksum(pieces[RUNS], pieces.get(SERIES))}
            if SERIES in pieces:
                moved["series"] = [rows[SERIES], pieces[SERIES].num_rows]
            runs.append(entry | moved)
            for folder, piece in pieces.items():
                pending[folder].append(piece)
                rows[folder] += piece.num_rows
            if len(pending[RUNS]) >= ROW_GROUP_RUNS:
                flush()
    flush()
    return runs
