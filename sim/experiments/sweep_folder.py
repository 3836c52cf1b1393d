"""The folder of a sweep: its lock, its manifest, and the files of its finished runs.

A sweep folder holds::

    manifest.json            the experiment (hash, text, design, seeds), each scenario's resolved
                             parameters, versions and git commit; written before the first run
    runs/<run_id>.parquet    one row a finished run: ids, varied values and summary outcomes
    series/<run_id>.parquet  its weekly series (only with keep = "series")
    checksums.jsonl          one line a written file: its path, size and sha256
    .lock                    locked (filelock) by the sweep writing the folder: a second is refused
    .lock.pid                the process id of that sweep, to name it in the refusal

Each file is written whole (:func:`sim.experiments.output.write_atomic`), and a run's row is
written last, so a row file exists only for a run whose outputs are complete: ``--resume``
skips exactly those.

Checksums: the sweep's own process (the only writer, by the lock) appends a file's line to the
append-only ``checksums.jsonl``, flushed to disk, after the file is complete and before it is
renamed into place; a reader therefore never sees a finished file whose line is missing, and a
crash in between leaves a line without a file, which is harmless (the run is redone and a new
line, which wins, appended).  A checksum inside the Parquet file itself would not do: a file cut
short loses it, and a copied file carries a valid one.  Readers (:func:`check_files`) refuse a
file whose size or sha256 differs from its last line, or that has no line (copied in);
``--resume`` redoes those runs instead.  Folders of the first format, written before checksums,
are refused with a line saying to redo them.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import BaseFileLock, FileLock, Timeout

from sim.core.paths import check_output_folder
from sim.experiments.experiment import Experiment, Run
from sim.experiments.output import (
    OutputError,
    check_digest,
    check_outside_cwd,
    digest,
    write_atomic,
)
from sim.experiments.results import git_commit, model_code, versions

MANIFEST = "manifest.json"
LOCK = ".lock"
PID = ".lock.pid"
CHECKSUMS = "checksums.jsonl"
RUNS = "runs"
SERIES = "series"
FORMAT = "blowback-sweep/2"
# The first format had no checksums: its files cannot be checked.
OLD_FORMAT = "blowback-sweep/1"
SWEEP_FORMATS = (OLD_FORMAT, FORMAT)
# What the code reads from a manifest, by type: anything else is refused in one line.
_MANIFEST_KEYS = {"experiment_hash": str, "varied": list, "scenarios": list, "seeds": list,
                  "runs": int, "versions": dict, "model_code": str}
# Written by resumptions only, so absent from a sweep never resumed.
_OPTIONAL_KEYS = {"resumptions": list}


def hold(out: Path) -> BaseFileLock:
    """Create ``out`` if needed and lock it for this sweep; return the lock, whose release
    frees it.  The system drops the lock of a process that dies, so a killed sweep never
    blocks its ``--resume``."""
    check_output_folder(out)
    check_outside_cwd(out)
    if out.is_dir() and not (out / MANIFEST).exists() and any(
            p.name not in (LOCK, PID) for p in out.iterdir()):
        # Refused before the lock file is made: nothing is left in a folder that is not ours.
        raise OutputError(f"{out}: not empty and not a sweep folder; choose a new folder for "
                          "--out")
    created = not out.exists()
    lock = FileLock(out / LOCK, thread_local=False, blocking=False)
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:  # before OSError, of which it is a kind
        try:
            holder = (out / PID).read_text(encoding="ascii", errors="replace").strip() or "?"
        except OSError:
            holder = "?"
        raise OutputError(f"{out}: another sweep (process {holder}) is writing to this folder; "
                          "wait for it to end, or choose another --out") from None
    except OSError as err:
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only while empty: never another sweep's folder
        raise OutputError(f"{out}: cannot write there ({err.strerror or err}); choose "
                          "another --out") from None
    # Beside the lock, which filelock may empty: it only names the holder in another sweep's
    # refusal, so a full disk may keep it.
    with contextlib.suppress(OSError):
        (out / PID).write_text(str(os.getpid()), encoding="ascii")
    return lock


def prepare(out: Path, experiment: Experiment, resume: bool,
            mixed_versions: bool) -> tuple[set[str], int]:
    """Check ``out`` and return the ids of the runs already written there, whole, and how many
    runs are to be redone because their files were damaged or not recorded."""
    try:
        return _check_or_start(out, experiment, resume, mixed_versions)
    except OSError as err:
        raise OutputError(f"{out}: cannot write there ({err.strerror or err}); choose "
                          "another --out") from None


def _check_or_start(out: Path, experiment: Experiment, resume: bool,
                    mixed_versions: bool) -> tuple[set[str], int]:
    if not any(p.name not in (LOCK, PID) for p in out.iterdir()):
        (out / RUNS).mkdir(parents=True, exist_ok=True)
        if experiment.keep == "series":
            (out / SERIES).mkdir(exist_ok=True)
        _write_manifest(out, _manifest(experiment))
        return set(), 0
    if not (out / MANIFEST).is_file():
        raise OutputError(f"{out}: not empty and not a sweep folder; choose a new folder "
                          "for --out")
    manifest = read_manifest(out)
    theirs, ours = manifest["experiment_hash"], experiment.content_hash
    if theirs != ours:
        if resume:
            raise OutputError(
                f"{out}: holds a sweep of another experiment or other scenario files "
                f"({theirs[:10]}, not {ours[:10]}); resume it with the experiment it was "
                "started with, or choose a new --out")
        raise OutputError(f"{out}: holds another sweep; choose a new folder for --out")
    done = set(finished_files(out / RUNS))
    if not resume:
        raise OutputError(
            f"{out}: already holds {len(done)} of {len(experiment.runs)} runs of this "
            "experiment; add --resume to finish it, or choose a new --out")
    damaged = damaged_runs(out)
    if {run.run_id for run in experiment.runs} <= done and not damaged:
        # Finished: resuming adds no run, so no versions can mix (its analysis may be redone).
        return done, 0
    # Before anything in the folder is touched: a refusal leaves it as it was.
    now = _code_and_versions()
    _check_same_code(out, manifest, now, mixed_versions)
    _clear(out, damaged)
    done = set(finished_files(out / RUNS))
    manifest.setdefault("resumptions", []).append({
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "runs_done": len(done), "runs_redone": len(damaged), **now})
    _write_manifest(out, manifest)
    return done, len(damaged)


def _clear(out: Path, damaged: set[str]) -> None:
    """Remove what a killed sweep left half-written and the files of the ``damaged`` runs, so
    that they are run again; end the checksums on a whole line."""
    for folder in (out / RUNS, out / SERIES):
        if folder.is_symlink():
            # Followed, it would write outside the folder the user named.
            raise OutputError(f"{folder}: is a link, not a folder of this sweep; a sweep "
                              "writes only inside its --out")
        # Left by a sweep killed while writing; a finished file never has a dot-name.
        for stale in folder.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        for run_id in damaged:
            (folder / f"{run_id}.parquet").unlink(missing_ok=True)
    checksums = out / CHECKSUMS
    if checksums.exists() and not checksums.read_bytes().endswith(b"\n"):
        with checksums.open("ab") as f:  # a line cut short by a crash stays apart from the next
            f.write(b"\n")


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    write_atomic(out / MANIFEST,
                  lambda tmp: tmp.write_text(json.dumps(manifest, indent=2, default=str) + "\n"))


def _code_and_versions() -> dict[str, Any]:
    """What a run's numbers depend on besides its scenario and seed, and the commit."""
    return {"model_code": model_code(), "versions": versions(), "git_commit": git_commit()}


def _manifest(experiment: Experiment) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "experiment_hash": experiment.content_hash,
        "experiment_file": str(experiment.path),
        "experiment_text": experiment.text,
        "name": experiment.name,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "seeds": experiment.seeds,
        "steps": experiment.steps,
        "keep": experiment.keep,
        "sampler": experiment.sampler,
        "varied": experiment.varied,
        "points": experiment.points,
        "runs": len(experiment.runs),
        "scenarios": [
            {"name": name, "file": experiment.scenario_files[name],
             "scenario_hash": s.content_hash, "parameters": s.params,
             "events": [{"date": e.date, "step": e.step, "type": e.type, **e.fields}
                        for e in s.events]}
            for name, s in experiment.scenarios.items()
        ],
        **_code_and_versions(),
    }


def _check_same_code(out: Path, manifest: dict[str, Any], now: dict[str, Any],
                     mixed_versions: bool) -> None:
    """Refuse to add runs made by other model code or libraries (``now``, as
    :func:`_code_and_versions` gives them) than the finished ones, whose numbers could differ
    for the same run, unless the user says the mix is wanted."""
    then = dict(manifest.get("versions") or {})
    if "model_code" in manifest:
        then["model code"] = str(manifest["model_code"])[:12]
    current = now["versions"] | {"model code": now["model_code"][:12]}
    changed = [f"{k} {then[k]} -> {current[k]}" for k in sorted(then)
               if k in current and then[k] != current[k]]
    if changed and not mixed_versions:
        raise OutputError(
            f"{out}: was started with other versions ({'; '.join(changed)}), so its runs and new "
            "ones could differ; resume with the versions it was started with, choose a new "
            "--out, or add --mixed-versions to finish it anyway (recorded in the manifest)")


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest of the sweep folder ``out``, checked; one line if it is missing, not a
    sweep's, of a sweep written before checksums, or lacks what a sweep reads from it."""
    try:
        doc = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(f"{out}: not a sweep folder (no {MANIFEST})") from None
    except (OSError, ValueError) as err:
        raise OutputError(f"{out / MANIFEST}: unreadable ({err})") from None
    if isinstance(doc, dict) and doc.get("format") == OLD_FORMAT:
        raise OutputError(f"{out}: a sweep written before Blowback recorded checksums, so its "
                          "run files cannot be checked; redo it: blowback sweep EXPERIMENT "
                          "--out NEW-FOLDER")
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise OutputError(f"{out / MANIFEST}: not a Blowback sweep manifest ({FORMAT})")
    optional = {k: kind for k, kind in _OPTIONAL_KEYS.items() if k in doc}
    for key, kind in (_MANIFEST_KEYS | optional).items():
        if not isinstance(doc.get(key), kind) or isinstance(doc.get(key), bool):
            raise OutputError(f"{out / MANIFEST}: {key} is missing or not a {kind.__name__}; "
                              "a sweep's manifest is written by blowback sweep, not by hand")
    if not all(isinstance(s, dict) and isinstance(s.get("name"), str) for s in doc["scenarios"]
               ) or not all(isinstance(v, str) for v in doc["varied"]):
        raise OutputError(f"{out / MANIFEST}: scenarios or varied are not as blowback sweep "
                          "writes them (named scenarios, parameter names)")
    return doc


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


def check_files(out: Path, folder: str) -> dict[str, Path]:
    """``run_id -> file`` of the finished files of ``out/folder``, each checked against the
    checksums; one line naming the first that is damaged or was not written by the sweep."""
    recorded = checksums(out)
    files = finished_files(out / folder)
    for file in files.values():
        check_digest(file, recorded.get(f"{folder}/{file.name}"),
                     "rerun the sweep with --resume to redo its run")
    return files


def damaged_runs(out: Path) -> set[str]:
    """The runs whose row or series file is damaged, cut short, edited or not recorded."""
    recorded = checksums(out)
    damaged = set()
    for folder in (RUNS, SERIES):
        for run_id, file in finished_files(out / folder).items():
            if recorded.get(f"{folder}/{file.name}") != digest(file):
                damaged.add(run_id)
    return damaged


def finished_files(folder: Path) -> dict[str, Path]:
    """``run_id -> file`` of the completed Parquet files in ``folder``."""
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.parquet")) if not p.name.startswith(".")}


def write_run(out: Path, run: Run, row: dict[str, Any], series: pd.DataFrame | None) -> None:
    """Write a finished run's row (and its weekly series, if kept) into the sweep folder, each
    file's checksum recorded before it is renamed into place."""
    if series is not None:
        table = pa.Table.from_pandas(series, preserve_index=False)
        write_atomic(out / SERIES / f"{run.run_id}.parquet",
                     lambda tmp: pq.write_table(table, tmp), _recorder(out, SERIES, run))
    # The row last: its file is the mark that the run is complete.
    write_atomic(out / RUNS / f"{run.run_id}.parquet",
                 lambda tmp: pq.write_table(pa.Table.from_pylist([row]), tmp),
                 _recorder(out, RUNS, run))


def _recorder(out: Path, folder: str, run: Run):
    """Append the checksum of a finished temporary file, under its final name, to the
    sweep's checksums, on disk before the file is renamed into place."""
    def record(tmp: Path) -> None:
        line = json.dumps({"file": f"{folder}/{run.run_id}.parquet", **digest(tmp)}) + "\n"
        fd = os.open(out / CHECKSUMS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    return record
