"""The paper's runs as files: ``scenarios/epstein/*.toml`` read into a model.

A run file names its model (``model = "I"`` or ``"II"``), may carry a ``description``, sets
constructor arguments as top-level keys and lists changes as ``[[schedule]]`` tables
(:mod:`sim.classics.epstein.schedule`).
"""

from __future__ import annotations

import inspect
import tomllib
from pathlib import Path
from typing import Any

from sim.classics.epstein.models import EpsteinCivilViolence, EpsteinEthnicViolence
from sim.classics.epstein.schedule import check_schedule

_MODELS = {"I": EpsteinCivilViolence, "II": EpsteinEthnicViolence}
_METADATA = ("model", "description")


def load_run(path: str | Path) -> dict[str, Any]:
    """Read a run file (scenarios/epstein/*.toml) into constructor keyword arguments.

    The file names its model (``model = "I"`` or ``"II"``), may carry a ``description``, sets
    constructor arguments as top-level keys and lists changes as ``[[schedule]]`` tables.
    Unknown keys raise ``ValueError`` naming the file and the key.
    """
    return _read(Path(path))[1]


def _read(path: Path) -> tuple[str, dict[str, Any]]:
    """The model a run file names, and its constructor keyword arguments (:func:`load_run`)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ValueError(f"{path}: cannot read run file: {err}") from None
    model = data.get("model")
    if model not in _MODELS:
        raise ValueError(f"{path}: key 'model' is {model!r}; expected \"I\" or \"II\"")
    accepted = set(inspect.signature(_MODELS[model]).parameters)
    kwargs = {}
    for key, value in data.items():
        if key in _METADATA:
            continue
        if key not in accepted:
            raise ValueError(f"{path}: unknown key {key!r} for Model {model}")
        kwargs[key] = value
    try:
        check_schedule(kwargs.get("schedule"), _MODELS[model]._scheduled)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    return model, kwargs


def open_run(path: str | Path, seed: int | None = None,
             **changes: Any) -> EpsteinCivilViolence | EpsteinEthnicViolence:
    """Build the model a run file describes, with a seed and any arguments changed; a change
    of an argument the model does not take, or a value it refuses, raises ``ValueError`` naming
    the file and the changes."""
    model, kwargs = _read(Path(path))
    allowed = [k for k in inspect.signature(_MODELS[model]).parameters if k != "seed"]
    for key in changes:
        if key not in allowed:
            raise ValueError(f"{path}: cannot change {key!r}; allowed: an argument of Model "
                             f"{model} other than seed ({', '.join(allowed)})")
    try:
        return _MODELS[model](**(kwargs | {"seed": seed} | changes))
    except (ValueError, TypeError) as err:
        # The model's own checks know the value, not where it came from.
        changed = "".join(f", {k} = {v!r}" for k, v in changes.items())
        raise ValueError(f"{path}{changed}: {err}") from None
