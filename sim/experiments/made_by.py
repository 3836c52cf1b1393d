"""What made a results folder: the command as run, the files it named, the versions and commit.

Every folder written through :func:`sim.experiments.output.atomic_folder` (a run, a comparison,
an analysis, a validation, a calibration, a sensitivity analysis) and every sweep's manifest
records :func:`made_by`::

    "made_by": {"command": ["blowback", "compare", "a.toml", "b.toml", "--seeds", "10"],
                "cwd": "/home/me/study",
                "inputs": [{"path": "a.toml", "sha256": "..."}, ...],
                "versions": {"blowback": ..., "mesa": ..., "numba": ..., ...},
                "git_commit": "<commit>[+dirty]" or null, "model_code": "<sha256>"}

The ``blowback`` command (:func:`sim.interfaces.cli.main`) names itself and its input files for
the time it runs (:func:`command`); a folder written from Python outside it has ``command`` null
and no inputs.  An input is a file named on the command line, as given, with its sha256 read when
the command starts; a folder named there (``analyse``'s) is recorded by its ``manifest.json``,
whose checksums cover its files.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sim.version import __version__

# The file by which a folder named as an input is recorded (sim.experiments.output.MANIFEST).
_FOLDER_RECORD = "manifest.json"
# The command being run, while it runs (set by `command`); None in plain Python.
_RUNNING: dict[str, Any] | None = None

# Parts of the package that present or orchestrate runs and never change their numbers: a
# change there leaves a half-done sweep resumable.  Anything not named counts.
_PRESENTATION = frozenset({"interfaces", "classics", "__main__.py", "experiments/sweep.py",
                           "experiments/sweep_folder.py", "experiments/sweep_workers.py",
                           "experiments/shards.py", "experiments/shard_log.py",
                           "experiments/store.py",
                           "experiments/compaction.py", "experiments/run_files.py",
                           "experiments/analysis.py", "experiments/sensitivity.py",
                           "experiments/claims.py", "experiments/claims_report.py",
                           "experiments/calibration.py", "core/shipped.py",
                           "experiments/calibration_report.py", "experiments/predictive.py",
                           "experiments/posterior.py", "experiments/smc.py",
                           "experiments/detection.py", "experiments/made_by.py"})


def versions() -> dict[str, str]:
    """Versions of the package and of what its numbers depend on."""
    # Imported here: the command line reads this module before its heavy imports.
    import mesa
    import numba
    import numpy as np
    import pandas as pd

    return {"blowback": __version__, "mesa": mesa.__version__, "numba": numba.__version__,
            "numpy": np.__version__, "pandas": pd.__version__,
            "python": platform.python_version()}


def git_commit() -> str | None:
    """The commit of the package's checkout, with ``+dirty`` if it has changes; None outside git
    and where the package is not the work tree's own ``sim/`` (an install inside another
    repository's work tree, such as the ``.venv`` of a project under git)."""
    here = Path(__file__).resolve().parent
    try:
        top, commit = subprocess.run(["git", "rev-parse", "--show-toplevel", "HEAD"], cwd=here,
                                     capture_output=True, text=True, timeout=5,
                                     check=True).stdout.splitlines()
        if Path(top).resolve() != here.parents[1]:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=here, capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return commit + ("+dirty" if dirty.strip() else "")


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


def input_file(path: Path) -> dict[str, str | None]:
    """A file named on the command line: its path as given and its sha256 (None where it is not
    a plain file that can be read: a pipe is left for the command to read); a folder by its
    manifest."""
    path, sha = Path(path), None
    # A name the system refuses (too long, a loop of links) is left for the command to tell.
    with contextlib.suppress(OSError, ValueError):
        if path.is_dir():
            path = path / _FOLDER_RECORD
        if path.is_file():
            with path.open("rb") as f:
                sha = hashlib.file_digest(f, "sha256").hexdigest()
    return {"path": str(path), "sha256": sha}


@contextlib.contextmanager
def command(argv: Sequence[str], inputs: Iterable[Path]) -> Iterator[None]:
    """Within the block, the folders written record that ``blowback ARGV`` made them, from
    ``inputs`` (each read now, as the command starts)."""
    global _RUNNING
    before = _RUNNING
    _RUNNING = {"command": ["blowback", *map(str, argv)], "cwd": os.getcwd(),
                "inputs": [input_file(path) for path in inputs]}
    try:
        yield
    finally:
        _RUNNING = before


def command_and_inputs() -> dict[str, Any]:
    """The command being run, where it ran and its input files (null and none in Python)."""
    return dict(_RUNNING) if _RUNNING is not None else {"command": None, "cwd": os.getcwd(),
                                                        "inputs": []}


def code_and_versions() -> dict[str, Any]:
    """What a run's numbers depend on besides its scenario and seed (the model's code, the
    versions), and the commit."""
    return {"model_code": model_code(), "versions": versions(), "git_commit": git_commit()}


def made_by(code: dict[str, Any] | None = None) -> dict[str, Any]:
    """What is making a folder now: the command and its inputs, and :func:`code_and_versions`
    (``code``, where the caller has it already)."""
    return {**command_and_inputs(), **(code_and_versions() if code is None else code)}
