"""The folder of a sweep: its lock, its manifest, and what a resumed sweep finds there.

A sweep folder holds::

    manifest.json            the experiment (hash, text, design, seeds), each scenario's resolved
                             parameters, versions and git commit, and what made it (made_by:
                             the command, its input files; each resumption's too); written
                             before the first run, with a sha256 of the design points, which
                             readers check
    runs/, series/, shards.jsonl
                             the finished runs, in Parquet shards, and the log of which run
                             lives where (:mod:`sim.experiments.shards`)
    .lock                    locked (filelock) by the sweep writing the folder: a second is refused
    .lock.pid                the process id of that sweep, to name it in the refusal

``--resume`` (:func:`prepare`) skips exactly the runs of closed shards whose files match their
line; it removes what a killed sweep or merge left (a shard left open, files superseded by a
merge, a log half rewritten by one) and the files of damaged shards, whose runs are run again.
A folder that a sweep killed before its manifest was in place left (its lock, the empty folders
of its shards, the manifest's temporary file) holds no run and starts afresh, with or without
``--resume``.  A file no line names is not the sweep's: it is refused, never removed, and so is
a file that cannot be read (its permissions), which is not damaged.  Folders of the second
format (one file a run) load as they are; a finished one may be resumed (nothing to add), an
unfinished one is finished into a new folder.  Folders of the first format, written before
checksums, are refused with a line saying to redo them.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import re
from pathlib import Path
from typing import Any, NamedTuple

from filelock import BaseFileLock, FileLock, Timeout

from sim.core.inputs import content_hash
from sim.core.paths import check_output_folder
from sim.experiments import run_files
from sim.experiments.experiment import Experiment, run_id_of
from sim.experiments.made_by import code_and_versions, command_and_inputs, made_by
from sim.experiments.output import (
    FOLDER_FORMAT,
    OutputError,
    check_outside_cwd,
    described,
    write_atomic,
)
from sim.experiments.results import SUMMARY_FILE
from sim.experiments.shards import (
    LOG,
    RUNS,
    SERIES,
    Survey,
    check_written,
    damaged_lines,
    remove,
    survey,
)

MANIFEST = "manifest.json"
LOCK = ".lock"
PID = ".lock.pid"
FORMAT = "blowback-sweep/3"
# The first format had no checksums: its files cannot be checked.
OLD_FORMAT = "blowback-sweep/1"
SWEEP_FORMATS = (OLD_FORMAT, run_files.FORMAT, FORMAT)
# The temporary file of a manifest being written (sim.experiments.output.write_atomic).
_MANIFEST_TMP = re.compile(r"\.manifest\.json\.\w+\.tmp")
# What the code reads from a manifest, by type: anything else is refused in one line.
_MANIFEST_KEYS = {"experiment_hash": str, "varied": list, "scenarios": list, "seeds": list,
                  "runs": int, "versions": dict, "model_code": str}
# The checksum of the design points, checked whenever a manifest is read (read_manifest).
POINTS_SHA256 = "points_sha256"
# Written by resumptions only, so absent from a sweep never resumed; the points' checksum is
# absent from the manifests of sweeps started before it was recorded.
_OPTIONAL_KEYS = {"resumptions": list, POINTS_SHA256: str}
MIXED_WITHOUT_RESUME = ("--mixed-versions goes with --resume (a new sweep has one set of "
                        "versions)")


def _unstarted(out: Path) -> bool:
    """Whether the folder ``out`` holds no more than a sweep killed before its first manifest
    was in place leaves: its lock, the empty folders of its shards, the manifest's temporary
    file.  Such a sweep wrote no run, so the folder starts afresh, with or without --resume."""
    for path in out.iterdir():
        if path.name in (LOCK, PID) or (_MANIFEST_TMP.fullmatch(path.name) and path.is_file()):
            continue
        if (path.name not in (RUNS, SERIES) or path.is_symlink() or not path.is_dir()
                or any(path.iterdir())):
            return False
    return True


def check_folder(out: Path) -> dict[str, Any] | None:
    """Refuse, in one line (:class:`OutputError`), an ``out`` no sweep may write into: a path
    that cannot be a folder, or a folder that holds something and no sweep's manifest (another
    command's output), or a manifest that cannot be read.  Nothing is written.  Returns the
    manifest of the sweep ``out`` holds, or None where it holds none yet."""
    check_output_folder(out)
    check_outside_cwd(out)
    return _held_manifest(out)


def _held_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest of the sweep ``out`` holds, or None where it holds none yet (no folder, or
    what a sweep killed before its manifest left); a folder of something else is refused."""
    if not out.is_dir() or _unstarted(out):
        return None
    if not (out / MANIFEST).exists():
        raise OutputError(f"{out}: not empty and not a sweep folder; choose a new folder "
                          "for --out")
    return read_manifest(out)


def hold(out: Path, instead: str = "choose another --out") -> BaseFileLock:
    """Create ``out`` if needed and lock it for this sweep; return the lock, whose release
    frees it.  The system drops the lock of a process that dies, so a killed sweep never
    blocks its ``--resume``.  ``instead``: what the user can do rather than wait, if a sweep
    holds it."""
    # Before the lock file is made: nothing is left in a folder that is not ours.
    check_folder(out)
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
                          f"wait for it to end, or {instead}") from None
    except OSError as err:
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only while empty: never another sweep's folder
        raise _unwritable(out, err) from None
    # Beside the lock, which filelock may empty: it only names the holder in another sweep's
    # refusal, so a full disk may keep it.
    with contextlib.suppress(OSError):
        (out / PID).write_text(str(os.getpid()), encoding="ascii")
    return lock


def prepare(out: Path, experiment: Experiment, resume: bool,
            mixed_versions: bool) -> tuple[set[str], int]:
    """Check ``out`` and return the ids of the runs already written there, whole, and how many
    runs are to be redone because their shards were damaged."""
    try:
        found = _examine(out, experiment, resume, mixed_versions, _held_manifest(out))
        return _start(out, experiment, found)
    except OSError as err:
        raise _unwritable(out, err) from None


def check(out: Path, experiment: Experiment, resume: bool, mixed_versions: bool = False) -> None:
    """Refuse, in one line (:class:`OutputError`), whatever a sweep of ``experiment`` into
    ``out`` would refuse before its first run, with the sweep's own words; nothing is written.
    A resumable folder is read as ``--resume`` reads it, its checksums included."""
    if mixed_versions and not resume:
        raise OutputError(MIXED_WITHOUT_RESUME)
    manifest = check_folder(out)
    if manifest is None:
        return
    try:
        _examine(out, experiment, resume, mixed_versions, manifest)
    except OSError as err:
        raise _unwritable(out, err) from None


def _unwritable(out: Path, err: OSError) -> OutputError:
    return OutputError(f"{out}: cannot write there ({err.strerror or err}); choose another --out")


class _Found(NamedTuple):
    """What a sweep found in its folder, every refusal made and nothing touched yet."""

    manifest: dict[str, Any] | None  # None: the folder starts afresh
    done: set[str]  # the runs it holds, whole
    # Where runs are to be added: the shards' survey, the damaged shards' lines, and the code
    # and versions of this resumption; None where nothing is to be added.
    resumed: tuple[Survey, set[int], dict[str, Any]] | None = None


def _examine(out: Path, experiment: Experiment, resume: bool, mixed_versions: bool,
             manifest: dict[str, Any] | None) -> _Found:
    """Every refusal of a sweep of ``experiment`` into ``out``, whose ``manifest`` is
    :func:`_held_manifest`'s, made before anything in the folder is touched, so that a refusal
    leaves it as it was."""
    if manifest is None:
        return _Found(None, set())
    theirs, ours = manifest["experiment_hash"], experiment.content_hash
    if theirs != ours:
        if resume:
            raise OutputError(
                f"{out}: holds a sweep of another experiment or other scenario files "
                f"({theirs[:10]}, not {ours[:10]}); resume it with the experiment it was "
                "started with, or choose a new --out")
        raise OutputError(f"{out}: holds another sweep; choose a new folder for --out")
    if manifest["format"] == run_files.FORMAT:
        return _Found(manifest, _finished_second_format(out, experiment, resume))
    for folder in (out / RUNS, out / SERIES):
        if folder.is_symlink():
            # Followed, it would write outside the folder the user named.
            raise OutputError(f"{folder}: is a link, not a folder of this sweep; a sweep "
                              "writes only inside its --out")
    found = survey(out)
    if not resume:
        raise OutputError(
            f"{out}: already holds {len(found.homes)} of {len(experiment.runs)} runs of this "
            "experiment; add --resume to finish it, or choose a new --out")
    check_written(found, ", then rerun with --resume")
    check_runs(out, manifest, found)
    damaged = damaged_lines(out, found)
    if {run.run_id for run in experiment.runs} <= set(found.homes) and not damaged:
        # Finished: resuming adds no run, so no versions can mix (its analysis may be redone).
        return _Found(manifest, set(found.homes))
    now = code_and_versions()
    _check_same_code(out, manifest, now, mixed_versions)
    return _Found(manifest, set(found.homes), (found, damaged, now))


def _start(out: Path, experiment: Experiment, found: _Found) -> tuple[set[str], int]:
    """Act on what :func:`_examine` found: start the folder afresh, or make room for the runs a
    resumption adds; return the runs held and how many are redone."""
    if found.manifest is None:
        remove([p for p in out.iterdir() if _MANIFEST_TMP.fullmatch(p.name)])
        _make_folders(out, experiment)
        _write_manifest(out, _manifest(experiment))
        return set(), 0
    if found.resumed is None:
        return found.done, 0
    shards, damaged, now = found.resumed
    redone = sum(1 for home in shards.homes.values() if home in damaged)
    # A damaged shard's rows file goes first: a rows file left without its series is what
    # survey takes for a series taken away by hand (shards.check_written).
    remove([*shards.partial, *shards.stale,
            *(out / name for index in damaged
              for name in sorted(shards.lines[index]["files"],
                                 key=lambda name: not name.startswith(f"{RUNS}/")))])
    # A folder of shards taken away with every file in it is made again for the runs redone.
    _make_folders(out, experiment)
    done = set(survey(out).homes)
    manifest = found.manifest
    manifest.setdefault("resumptions", []).append({
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "runs_done": len(done), "runs_redone": redone, **command_and_inputs(), **now})
    _write_manifest(out, manifest)
    return done, redone


def check_runs(out: Path, manifest: dict[str, Any], found: Survey) -> None:
    """Refuse, in one line naming its rows file, a shard in force holding a run that is not
    one of this sweep's: copied in, with its line of the log, from a sweep of another
    experiment, its rows would be read as this sweep's."""
    for index in found.live:
        for run in found.lines[index]["runs"]:
            if run["run_id"] != run_id_of(manifest["experiment_hash"], run.get("scenario"),
                                          run.get("point"), run.get("seed")):
                file = out / found.files(index, RUNS)[0]
                raise OutputError(f"{file}: holds run {run['run_id']}, which is not a run of this "
                                  f"sweep (its line in {LOG} came from another sweep); move it, "
                                  "and its series file, out of the folder")


def _make_folders(out: Path, experiment: Experiment) -> None:
    """The folders a sweep's shards go into."""
    (out / RUNS).mkdir(parents=True, exist_ok=True)
    if experiment.keep == "series":
        (out / SERIES).mkdir(exist_ok=True)


def _finished_second_format(out: Path, experiment: Experiment, resume: bool) -> set[str]:
    """A folder of one file a run: resumed only if finished (nothing to add), as
    ``blowback sensitivity`` does to read a sweep it ran before."""
    done = set(run_files.finished_files(out / RUNS))
    if not resume:
        raise OutputError(
            f"{out}: already holds {len(done)} of {len(experiment.runs)} runs of this "
            "experiment; add --resume to finish it, or choose a new --out")
    if {run.run_id for run in experiment.runs} <= done and not run_files.damaged_runs(out):
        return done
    raise OutputError(f"{out}: a sweep of an earlier Blowback (one file a run, "
                      f"{run_files.FORMAT}), which loads as it is but is not added to; finish "
                      "it into a new folder: blowback sweep EXPERIMENT --out NEW-FOLDER")


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    write_atomic(out / MANIFEST,
                  lambda tmp: tmp.write_text(json.dumps(manifest, indent=2, default=str) + "\n"))


def _manifest(experiment: Experiment) -> dict[str, Any]:
    # Hashing the model's code and asking git for the commit take a while: done once, for the
    # manifest's own record and its made_by.
    code = code_and_versions()
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
        POINTS_SHA256: content_hash(experiment.points),
        "runs": len(experiment.runs),
        "scenarios": [
            {"name": name, "file": experiment.scenario_files[name],
             "scenario_hash": s.content_hash, "parameters": s.params,
             "events": [{"date": e.date, "step": e.step, "type": e.type, **e.fields}
                        for e in s.events]}
            for name, s in experiment.scenarios.items()
        ],
        **code,
        "made_by": made_by(code),
    }


def _check_same_code(out: Path, manifest: dict[str, Any], now: dict[str, Any],
                     mixed_versions: bool) -> None:
    """Refuse to add runs made by other model code or libraries (``now``, as
    :func:`~sim.experiments.made_by.code_and_versions` gives them) than the finished ones,
    whose numbers could differ for the same run, unless the user says the mix is wanted."""
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
    if isinstance(doc, dict) and doc.get("format") == FOLDER_FORMAT:
        # Another command's results: say what they are, and for a comparison or a run what
        # reads them.
        reader = ""
        if (out / "runs.csv").exists():
            reader = "; its runs: sim.analysis.load(folder)"
        elif (out / SUMMARY_FILE).exists():
            reader = "; its series and summary: sim.results.load_run(folder)"
        raise OutputError(f"{out}: holds {described(out)}, not a sweep{reader}")
    if not isinstance(doc, dict) or doc.get("format") not in (run_files.FORMAT, FORMAT):
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
    if POINTS_SHA256 in doc and content_hash(doc.get("points")) != doc[POINTS_SHA256]:
        # A run is stored under its point's number: points reordered or edited would have
        # where choose other runs than the values asked for.
        raise OutputError(f"{out / MANIFEST}: points differ from those the sweep recorded "
                          "(points_sha256), so its runs' design points cannot be told; a sweep's "
                          "manifest is written by blowback sweep, not by hand: put them back")
    return doc
