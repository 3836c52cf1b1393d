"""Schedules: changes of a parameter during a run, a jump or a ramp, as a model or a run file
gives them.

A jump is ``{parameter, at, value}``; a ramp ``{parameter, at, every, change, until}`` adds
``change`` at steps at, at + every, ... and never goes past ``until``.  The models apply them
(:meth:`sim.classics.epstein.base.EpsteinBase.step`); this module checks them, so that a run
file's mistake is named when it is read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sim.classics.epstein.settings import number

# What a schedule may change: Model I, and Model II, whose two groups may see legitimacy apart.
MODEL_I_SCHEDULED = ("legitimacy", "cop_density")
MODEL_II_SCHEDULED = MODEL_I_SCHEDULED + ("blue_legitimacy", "green_legitimacy")


def check_schedule(schedule: Sequence[Mapping[str, Any]] | None,
                   allowed: tuple[str, ...]) -> list[dict[str, Any]]:
    """The changes of ``schedule`` as plain dicts, each checked: a parameter of ``allowed``,
    the keys of a jump or of a ramp, whole step numbers, values (``value``, ``until``) from 0 to
    1 and a numeric ``change``.  ``ValueError`` names the first wrong change and what was
    expected."""
    if schedule is None:
        return []
    if isinstance(schedule, (str, bytes, Mapping)) or not isinstance(schedule, Sequence):
        raise ValueError(f"schedule: expected a list of changes (mappings), got {schedule!r}")
    return [_check_change(f"schedule[{n}]", change, allowed)
            for n, change in enumerate(schedule)]


def _check_change(where: str, change: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    """One change of a schedule, checked (:func:`check_schedule`), as a plain dict."""
    if not isinstance(change, Mapping):
        raise ValueError(f"{where} {change!r}: expected a mapping (a jump: parameter, at, "
                         "value; a ramp: parameter, at, every, change, until)")
    change = dict(change)
    name = change.get("parameter")
    if not isinstance(name, str) or name not in allowed:
        raise ValueError(f"{where}.parameter {name!r}: expected one of {', '.join(allowed)}")
    keys = {"parameter", "at", "value"} if "value" in change else {
        "parameter", "at", "every", "change", "until"}
    if set(change) != keys:
        raise ValueError(f"{where}: keys {sorted(change)}; expected {sorted(keys)} "
                         "(a jump: parameter, at, value; a ramp: parameter, at, every, "
                         "change, until)")
    for key, what in (("at", "a step number"), ("every", "an integer")):
        value = change.get(key)
        if key in change and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{where}.{key} {value!r}: expected {what} >= 1")
    try:
        for key in ("value", "until"):
            if key in change:
                number(f"{where}.{key}", change[key], 0.0, 1.0)
        if "change" in change:
            number(f"{where}.change", change["change"])
    except TypeError as err:  # a run file's mistakes are ValueErrors (sim.classics.epstein.runs)
        raise ValueError(str(err)) from None
    return change
