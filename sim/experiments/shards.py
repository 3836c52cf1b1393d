"""A sweep's store of finished runs: Parquet shards, and the log of which run lives where.

A sweep folder of the third format holds::

    runs/shard-000007.parquet    one row a run (ids, varied values, summary outcomes), the rows
                                 appended in row groups as the runs finish
    series/shard-000007.parquet  the weekly series of the same runs (keep = "series")
    shards.jsonl                 the log: one line a closed shard (:mod:`.shard_log`)

A line names the shard's files with their size and sha256 and those of their parts (each row
group and the footer: :mod:`sim.experiments.parquet_parts`), and each of its runs: its id,
scenario, design point and seed, its row in the rows file, its rows in the series file, and a
sha256 of the run itself (:func:`run_checksum`, a canonical encoding of its row and series,
which survives a shard's rows being copied into another file by ``--compact``).

Writing (:class:`ShardWriter`, in the sweep's own process, the only writer by the folder's
lock): a shard is written under a hidden name (``.shard-000007.parquet.part``) and closed after
``shard_runs`` runs or ``shard_seconds`` seconds, whichever comes first: its footer written,
the files flushed to disk, its line appended to the log and flushed to disk, then the files
renamed into place, the series first.  A shard is trusted only once closed: a sweep killed
with a shard open leaves a ``.part`` file without a footer and without a line, whose runs are
redone by ``--resume`` (which removes it).  What a SIGKILL loses is therefore the runs of the
open shard, at most ``shard_seconds`` of finished runs (and the runs in flight).

Reading (:func:`survey`): a line is *complete* when every file it names is in place; a run
lives in the last complete line that lists it (``--compact`` writes a merged shard whose line
lists the runs of the shards it replaces, then removes them and drops their lines from the
log).  The files are listed before the log is read, and listed again if the log was replaced
meanwhile (:func:`sim.experiments.shard_log.read_with_listing`).  A named file whose line no run
lives in any more is stale, ignored by readers and removed by ``--resume`` and ``--compact``;
a Parquet file that no line names was not written by the sweep and is refused, and so is one
whose line lists runs of another experiment (:func:`sim.experiments.sweep_folder.check_runs`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.experiments.output import (
    FILE_MODE,
    OutputError,
    check_digest,
    digest_if_there,
    sync,
)
from sim.experiments.parquet_parts import parquet_digest
from sim.experiments.shard_log import LOG, LOG_PART, append_line, read_with_listing

RUNS = "runs"
SERIES = "series"
PART = ".part"
# Runs a shard holds at most, and runs a row group: large enough that a 55,000-run design is a
# few hundred files, small enough that a shard's rows and series sit in memory while written.
SHARD_RUNS = 1000
ROW_GROUP_RUNS = 100
# Seconds a shard stays open at most: what a killed sweep can lose of its finished runs.
SHARD_SECONDS = 60.0
_NAME = re.compile(r"shard-(\d{6,})\.parquet")


def shard_name(number: int) -> str:
    """The file name of shard ``number`` (in ``runs/`` and ``series/``)."""
    return f"shard-{number:06d}.parquet"


def run_checksum(row: pa.Table, series: pa.Table | None) -> str:
    """The sha256 of one run as stored: each column of its row (and of its series), in name
    order, by name, type and values (times in nanoseconds); the same whichever file or row
    group holds the run."""
    sha = hashlib.sha256()
    for part in (row, series):
        if part is None:
            continue
        for name in sorted(part.column_names):
            column = part.column(name)
            if pa.types.is_timestamp(column.type):
                # Parquet keeps no seconds: a week's date written as timestamp[s] reads back
                # as timestamp[ms], the same instants.
                column = column.cast(pa.timestamp("ns", column.type.tz))
            sha.update(f"{name}\0{column.type}\0".encode())
            values = column.to_numpy()
            if values.dtype.kind in "biufmM":
                sha.update(values.tobytes())
            else:
                sha.update(json.dumps(column.to_pylist(), default=str).encode())
        sha.update(b"\1")
    return sha.hexdigest()


@dataclass
class Survey:
    """What a sweep folder's store holds: ``lines`` of the log; ``homes``, run id -> the index
    of the line it lives in; the files of ``live`` lines, ``stale`` files, ``foreign`` files
    (named by no line), ``partial`` ones (shards left open by a killed writer), and ``missing``
    ones: gone from a shard whose rows file is in place, so taken away after it was closed."""

    lines: list[dict[str, Any]]
    homes: dict[str, int]
    live: list[int]
    stale: list[Path] = field(default_factory=list)
    foreign: list[Path] = field(default_factory=list)
    partial: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)

    def files(self, index: int, folder: str) -> list[str]:
        """The files of line ``index`` in ``folder`` (relative to the sweep folder)."""
        return [name for name in self.lines[index]["files"] if name.startswith(folder + "/")]

    def next_number(self) -> int:
        """A shard number no line and no file has used."""
        used = [line["shard"] for line in self.lines]
        for path in (*self.stale, *self.foreign, *self.partial):
            match = _NAME.search(path.name)
            if match:
                used.append(int(match.group(1)))
        return max(used, default=-1) + 1


def _listing(out: Path) -> tuple[set[str], list[Path]]:
    """The shards' files in place (relative to ``out``), and the partial files: shards left
    open, and a new log left unfinished by a merge (:func:`sim.experiments.shard_log.shorten`)."""
    on_disk, partial = set(), []
    for folder in (RUNS, SERIES):
        if not (out / folder).is_dir():
            continue
        for path in sorted((out / folder).iterdir()):
            if path.name.startswith(".") and path.name.endswith((PART, ".tmp")):
                partial.append(path)
            elif path.suffix == ".parquet" and not path.name.startswith("."):
                on_disk.add(f"{folder}/{path.name}")
    if (out / LOG_PART).exists():
        partial.append(out / LOG_PART)
    return on_disk, partial


def survey(out: Path) -> Survey:
    """Where each run of ``out`` lives, and which files are stale, foreign, partial or
    missing."""
    # The log after the files: a shard's line is appended before its files are renamed into
    # place, so every file listed has its line in what is read, even while a sweep writes or a
    # merge shortens the log.
    (on_disk, partial), lines = read_with_listing(out, lambda: _listing(out))
    homes: dict[str, int] = {}
    for index, line in enumerate(lines):
        if set(line["files"]) <= on_disk:
            for run in line["runs"]:
                homes[run["run_id"]] = index
    live = sorted(set(homes.values()))
    named = {name for line in lines for name in line["files"]}
    in_force = {name for index in live for name in lines[index]["files"]}
    return Survey(lines, homes, live,
                  stale=[out / name for name in sorted(on_disk & named - in_force)],
                  foreign=[out / name for name in sorted(on_disk - named)], partial=partial,
                  missing=_missing(out, lines, homes, on_disk))


def _missing(out: Path, lines: list[dict[str, Any]], homes: dict[str, int],
             on_disk: set[str]) -> list[Path]:
    """The files gone from shards whose rows file is in place and some of whose runs live
    nowhere else.  A shard's rows file is renamed into place last, so a crash never leaves it
    without the shard's other files; a merge removes a shard only once its runs live in the
    merged one."""
    gone = set()
    for line in lines:
        names = set(line["files"])
        rows_in_place = any(name.startswith(f"{RUNS}/") for name in names & on_disk)
        if (rows_in_place and not names <= on_disk
                and any(run["run_id"] not in homes for run in line["runs"])):
            gone |= names - on_disk
    return [out / name for name in sorted(gone)]


def check_written(found: Survey, then: str) -> None:
    """Refuse, in one line naming the first, a file of the store that the sweep did not write
    (named by no line of the log), or one taken away from a shard whose rows are in place
    (without it those runs would be read as never run, and their rows removed as stale).
    ``then`` ends the advice to move the foreign file out (`` first``, ``, then rerun ...``)."""
    if found.foreign:
        raise OutputError(f"{found.foreign[0]}: not recorded in the folder's log ({LOG}), so not "
                          f"written there by the sweep; move it out of the folder{then}")
    if found.missing:
        raise OutputError(f"{found.missing[0]}: missing, though its shard's rows file is in "
                          "place; put it back, or move that rows file out of the folder and "
                          "rerun the sweep with --resume to redo its runs")


def check_line(out: Path, line: dict[str, Any]) -> None:
    """Refuse, in one line naming it, a file of ``line`` whose size or sha256 differs from the
    line's."""
    for name, recorded in line["files"].items():
        check_digest(out / name, recorded, "rerun the sweep with --resume to redo its runs")


def damaged_lines(out: Path, found: Survey) -> list[int]:
    """The live lines of which a file is damaged, cut short, edited or gone; a file there but
    unreadable is refused in one line, since its runs are not to be redone."""
    damaged = []
    for index in found.live:
        for name, recorded in found.lines[index]["files"].items():
            if digest_if_there(out / name) != {"size": recorded["size"],
                                               "sha256": recorded["sha256"]}:
                damaged.append(index)
                break
    return damaged


def remove(paths: Iterable[Path]) -> None:
    """Remove ``paths`` (already gone is fine), then flush their folders' entries to disk."""
    folders = set()
    for path in paths:
        path.unlink(missing_ok=True)
        folders.add(path.parent)
    for folder in folders:
        sync(folder)


# --- writing --------------------------------------------------------------------------------


class ShardWriter:
    """Appends finished runs to the open shard of a sweep folder and closes it after
    ``shard_runs`` runs or ``shard_seconds`` seconds; ``closed_runs`` counts the runs of the
    shards it closed."""

    def __init__(self, out: Path, number: int, keep_series: bool, *,
                 shard_runs: int = SHARD_RUNS, shard_seconds: float = SHARD_SECONDS) -> None:
        self.out = out
        self.number = number
        self.folders = (SERIES, RUNS) if keep_series else (RUNS,)
        self.shard_runs = shard_runs
        self.shard_seconds = shard_seconds
        self.closed_runs = 0
        self._open: _OpenShard | None = None

    def add(self, row: dict[str, Any], series: pd.DataFrame | None) -> None:
        """Append one finished run (its row and, if kept, its series) to the open shard."""
        tables = {RUNS: pa.Table.from_pylist([row])}
        if SERIES in self.folders:
            tables[SERIES] = pa.Table.from_pandas(series, preserve_index=False)
        if self._open is not None and not self._open.accepts(tables):
            # A run whose columns differ from the shard's (a value missing or of another
            # type) starts a shard of its own schema; readers unify them.
            self.close()
        if self._open is None:
            self._open = _OpenShard(self.out, self.number, self.folders)
            self.number += 1
        self._open.add(row, tables)
        if (len(self._open.runs) >= self.shard_runs
                or time.monotonic() - self._open.started >= self.shard_seconds):
            self.close()

    def close(self) -> None:
        """Close the open shard, if any: its files complete and on disk, its line in the log,
        then its files in place."""
        if self._open is not None:
            shard, self._open = self._open, None
            self.closed_runs += shard.close()

    def abandon(self) -> None:
        """Give up the open shard (after a write failed): its runs are redone by --resume."""
        if self._open is not None:
            shard, self._open = self._open, None
            shard.abandon()


class _OpenShard:
    """A shard being written: runs buffered, a row group written every ``ROW_GROUP_RUNS``."""

    def __init__(self, out: Path, number: int, folders: tuple[str, ...]) -> None:
        self.out = out
        self.number = number
        self.name = shard_name(number)
        self.started = time.monotonic()
        self.runs: list[dict[str, Any]] = []
        self._pending: dict[str, list[pa.Table]] = {folder: [] for folder in folders}
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._rows = dict.fromkeys(folders, 0)
        self.schemas: dict[str, pa.Schema] = {}

    def part(self, folder: str) -> Path:
        return self.out / folder / f".{self.name}{PART}"

    def accepts(self, tables: dict[str, pa.Table]) -> bool:
        """Whether a run's tables can join this shard's files: the same columns, of types that
        cast to the shard's without loss."""
        for folder, table in tables.items():
            schema = self.schemas.get(folder)
            if schema is None:
                continue
            if table.column_names != schema.names:
                return False
            try:
                tables[folder] = table.cast(schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return False
        return True

    def add(self, row: dict[str, Any], tables: dict[str, pa.Table]) -> None:
        for folder, table in tables.items():
            self.schemas.setdefault(folder, table.schema)
        entry = {"run_id": row["run_id"], "scenario": row["scenario"], "point": row["point"],
                 "seed": row["seed"], "row": self._rows[RUNS]}
        if SERIES in tables:
            entry["series"] = [self._rows[SERIES], tables[SERIES].num_rows]
        entry["sha256"] = run_checksum(tables[RUNS], tables.get(SERIES))
        for folder, table in tables.items():
            self._pending[folder].append(table)
            self._rows[folder] += table.num_rows
        self.runs.append(entry)
        if len(self._pending[RUNS]) >= ROW_GROUP_RUNS:
            self._flush()

    def _flush(self) -> None:
        """Write the buffered runs as one row group of each file."""
        for folder, tables in self._pending.items():
            if not tables:
                continue
            if folder not in self._writers:
                self._writers[folder] = pq.ParquetWriter(self.part(folder), self.schemas[folder])
                os.chmod(self.part(folder), FILE_MODE)
            self._writers[folder].write_table(pa.concat_tables(tables))
            tables.clear()

    def close(self) -> int:
        self._flush()
        for writer in self._writers.values():
            writer.close()
        files = {}
        for folder in self._writers:
            sync(self.part(folder))
            files[f"{folder}/{self.name}"] = parquet_digest(self.part(folder))
        append_line(self.out, {"shard": self.number, "files": files, "runs": self.runs})
        # The rows last: a complete line is one whose files are all in place.
        for folder in self._writers:
            os.replace(self.part(folder), self.out / folder / self.name)
            sync(self.out / folder)
        return len(self.runs)

    def abandon(self) -> None:
        for writer in self._writers.values():
            with contextlib.suppress(OSError, pa.ArrowException):
                writer.close()
        for folder in self._writers:
            with contextlib.suppress(OSError):
                self.part(folder).unlink(missing_ok=True)
