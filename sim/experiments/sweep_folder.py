"""The folder of a sweep: its lock, its manifest, and the files of its finished runs.

A sweep folder holds::

    manifest.json            the experiment (hash, text, design, seeds), each scenario's resolved
                             parameters, versions and git commit; written before the first run
    runs/<run_id>.parquet    one row a finished run: ids, varied values and summary outcomes
    series/<run_id>.parquet  its weekly series (only with keep = "series")
    .lock                    locked (flock) by the sweep writing the folder: a second is refused

Each file is written whole (:func:`sim.experiments.output.write_atomic`), and a run's row is
written last, so a row file exists only for a run whose outputs are complete: ``--resume``
skips exactly those.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.experiments.experiment import Experiment, Run
from sim.experiments.output import OutputError, write_atomic
from sim.experiments.results import git_commit, model_code, versions

MANIFEST = "manifest.json"
LOCK = ".lock"
RUNS = "runs"
SERIES = "series"
FORMAT = "blowback-sweep/1"


def hold(out: Path) -> int:
    """Create ``out`` if needed and lock it for this sweep; return the lock's descriptor, whose
    closing releases it.  The system drops the lock of a process that dies, so a killed
    sweep never blocks its ``--resume``."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; choose another --out")
    if out.is_dir() and not (out / MANIFEST).exists() and any(
            p.name != LOCK for p in out.iterdir()):
        # Refused before the lock file is made: nothing is left in a folder that is not ours.
        raise OutputError(f"{out}: not empty and not a sweep folder; choose a new folder for "
                          "--out")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only while empty: never another sweep's folder
        raise OutputError(f"{out}: cannot write there ({err.strerror or err}); choose "
                          "another --out") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 20, 0).decode("ascii", "replace").strip() or "?"
        os.close(fd)
        raise OutputError(f"{out}: another sweep (process {holder}) is writing to this folder; "
                          "wait for it to end, or choose another --out") from None
    # The process id only names the holder in another sweep's refusal: a full disk may keep it.
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def prepare(out: Path, experiment: Experiment, resume: bool, mixed_versions: bool) -> set[str]:
    """Check ``out`` and return the ids of the runs already written there."""
    try:
        return _check_or_start(out, experiment, resume, mixed_versions)
    except OSError as err:
        raise OutputError(f"{out}: cannot write there ({err.strerror or err}); choose "
                          "another --out") from None


def _check_or_start(out: Path, experiment: Experiment, resume: bool,
                    mixed_versions: bool) -> set[str]:
    if any(p.name != LOCK for p in out.iterdir()):
        if not (out / MANIFEST).is_file():
            raise OutputError(f"{out}: not empty and not a sweep folder; choose a new folder "
                              "for --out")
        manifest = read_manifest(out)
        theirs = manifest.get("experiment_hash", "")
        ours = experiment.content_hash
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
        if ({run.run_id for run in experiment.runs} <= done
                and all(_whole(file) for folder in (out / RUNS, out / SERIES)
                        for file in finished_files(folder).values())):
            # Finished: resuming adds no run, so no versions can mix (its analysis may be redone).
            return done
        # Before anything in the folder is touched: a refusal leaves it as it was.
        now = _code_and_versions()
        _check_same_code(out, manifest, now, mixed_versions)
        for folder in (out / RUNS, out / SERIES):
            if folder.is_symlink():
                # Followed, it would write outside the folder the user named.
                raise OutputError(f"{folder}: is a link, not a folder of this sweep; a sweep "
                                  "writes only inside its --out")
            # Left by a sweep killed while writing; a finished file never has a dot-name.
            for stale in folder.glob(".*.tmp"):
                stale.unlink(missing_ok=True)
            for file in finished_files(folder).values():
                if not _whole(file):
                    file.unlink()
        done = set(finished_files(out / RUNS))
        manifest.setdefault("resumptions", []).append({
            "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "runs_done": len(done), **now})
        _write_manifest(out, manifest)
        return done
    (out / RUNS).mkdir(parents=True, exist_ok=True)
    if experiment.keep == "series":
        (out / SERIES).mkdir(exist_ok=True)
    _write_manifest(out, _manifest(experiment))
    return set()


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
    """The manifest of the sweep folder ``out``; one line if it is missing or not a sweep's."""
    try:
        doc = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(f"{out}: not a sweep folder (no {MANIFEST})") from None
    except (OSError, ValueError) as err:
        raise OutputError(f"{out / MANIFEST}: unreadable ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise OutputError(f"{out / MANIFEST}: not a Blowback sweep manifest ({FORMAT})")
    return doc


def _whole(file: Path) -> bool:
    """Whether a Parquet file ends with its footer's magic bytes: one cut short (by a crash of
    the machine, or a copy) does not, and is run again on ``--resume``."""
    with file.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        if size < 8:
            return False
        f.seek(-4, os.SEEK_END)
        return f.read(4) == b"PAR1"


def finished_files(folder: Path) -> dict[str, Path]:
    """``run_id -> file`` of the completed Parquet files in ``folder``."""
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.parquet")) if not p.name.startswith(".")}


def write_run(out: Path, run: Run, row: dict[str, Any], series: pd.DataFrame | None) -> None:
    """Write a finished run's row (and its weekly series, if kept) into the sweep folder."""
    if series is not None:
        table = pa.Table.from_pandas(series, preserve_index=False)
        write_atomic(out / SERIES / f"{run.run_id}.parquet",
                      lambda tmp: pq.write_table(table, tmp))
    # The row last: its file is the mark that the run is complete.
    write_atomic(out / RUNS / f"{run.run_id}.parquet",
                  lambda tmp: pq.write_table(pa.Table.from_pylist([row]), tmp))
