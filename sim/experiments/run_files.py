"""Sweep folders of the second format (``blowback-sweep/2``): one Parquet file a run, read only.

Such a folder holds ``runs/<run_id>.parquet`` (and ``series/<run_id>.parquet``) and
``checksums.jsonl``, one line a file with its size and sha256, the last line of a file winning.
Blowback reads these folders as it always did, each file checked against its line; a finished
one may be "resumed" (nothing is added), an unfinished one is finished into a new folder.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from sim.experiments.output import OutputError, check_digest, digest_if_there

FORMAT = "blowback-sweep/2"
CHECKSUMS = "checksums.jsonl"


def checksums(out: Path) -> dict[str, dict[str, Any]]:
    """``file -> {size, sha256}`` of the files the sweep recorded, the last line of a file
    winning; a line that is not a whole record (cut short by a crash) records nothing."""
    recorded: dict[str, dict[str, Any]] = {}
    try:
        lines = (out / CHECKSUMS).read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return recorded
    for line in lines:
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if (isinstance(entry, dict) and isinstance(entry.get("file"), str)
                    and isinstance(entry.get("sha256"), str)
                    and type(entry.get("size")) is int):
                recorded[entry["file"]] = {"size": entry["size"], "sha256": entry["sha256"]}
    return recorded


def finished_files(folder: Path) -> dict[str, Path]:
    """``run_id -> file`` of the completed Parquet files in ``folder``."""
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.parquet")) if not p.name.startswith(".")}


def check_files(out: Path, folder: str) -> dict[str, Path]:
    """``run_id -> file`` of the finished files of ``out/folder``, each checked against the
    checksums; one line naming the first that is damaged or was not written by the sweep."""
    recorded = checksums(out)
    files = finished_files(out / folder)
    for file in files.values():
        check_digest(file, recorded.get(f"{folder}/{file.name}"),
                     "finish the sweep into a new folder to redo its run")
    return files


def damaged_runs(out: Path) -> set[str]:
    """The runs whose row or series file is damaged, cut short, edited, gone or not recorded; a
    file there but unreadable is refused in one line, since its run is not to be redone."""
    recorded = checksums(out)
    damaged = set()
    for folder in ("runs", "series"):
        for run_id, file in finished_files(out / folder).items():
            if recorded.get(f"{folder}/{file.name}") != digest_if_there(file):
                damaged.add(run_id)
    return damaged


def read(out: Path, folder: str) -> pa.Table | None:
    """The rows of every checked file of ``out/folder`` as one Arrow table (None if there is
    none), or one line naming the file that is damaged."""
    files = check_files(out, folder)
    if not files:
        return None
    try:
        return ds.dataset([str(f) for f in files.values()], format="parquet").to_table()
    except (OSError, pa.ArrowException) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OutputError(f"{out}: a run file is damaged ({first}); finish the sweep into a new "
                          "folder") from None
