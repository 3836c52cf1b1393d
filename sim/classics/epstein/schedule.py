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

# What a schedule may change: Model I, and Model II, whose two groups may see legitimacy apart.
MODEL_I_SCHEDULED = ("legitimacy", "cop_density")
MODEL_II_SCHEDULED = MODEL_I_SCHEDULED + ("blue_legitimacy", "green_legitimacy")


def check_schedule(schedule: Sequence[Mapping[str, Any]] | None,
                   allowed: tuple[str, ...]) -> list[dict[str, Any]]:
    """The changes of ``schedule`` as plain dicts, each checked: a parameter of ``allowed``,
    the keys of a jump or of a ramp, whole step numbers.  ``ValueError`` names the first wrong
    change and what was expected."""
    out = []
    for n, change in enumerate(schedule or ()):
        change = dict(change)
        where = f"schedule[{n}]"
        name = change.get("parameter")
        if name not in allowed:
            raise ValueError(f"{where}.parameter {name!r}: expected one of {', '.join(allowed)}")
        keys = {"parameter", "at", "value"} if "value" in change else {
            "parameter", "at", "every", "change", "until"}
        if set(change) != keys:
            raise ValueError(f"{where}: keys {sorted(change)}; expected {sorted(keys)} "
                             "(a jump: parameter, at, value; a ramp: parameter, at, every, "
                             "change, until)")
        if not isinstance(change["at"], int) or change["at"] < 1:
            raise ValueError(f"{where}.at {change['at']!r}: expected a step number >= 1")
        if "every" in change and (not isinstance(change["every"], int) or change["every"] < 1):
            raise ValueError(f"{where}.every {change['every']!r}: expected an integer >= 1")
        out.append(change)
    return out
