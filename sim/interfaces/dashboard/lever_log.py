"""The event log's lines for the levers moved on the page: what each lever was left at.

A class reads the log (and the marks it puts on every chart) as what was done to the run, so a
lever gets one line a week, the value it was left at when the week was run, however often it
was moved: a slider dragged through many values leaves the last, and a switch flipped and
flipped back, or a slider returned to where it was, leaves none, since the run goes on exactly
as if it had not been touched.  "As if" is checked, not assumed: a lever that sets a force's
skill gives every unit the value, undoing what training had added, so moving it back leaves a
line where the units' skill is not what it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.model import BlowbackModel
from sim.world import events


@dataclass
class Moved:
    """A lever moved in a week: the week, what it had written in the model before the week's
    first move (:func:`written`), and the log line of its value now, if any."""

    step: int
    before: tuple
    line: tuple[str, str] | None = None


def written(model: BlowbackModel, name: str) -> tuple:
    """What a move of lever ``name`` writes in the model: its parameter, the sanctions in force
    and the units' column it sets (:func:`events.unit_values`)."""
    units = events.unit_values(model, name)
    return (model.p[name], model.sanctions, None if units is None else units.tobytes())


def record(model: BlowbackModel, moves: dict[str, Moved], name: str, shown: object,
           before: tuple) -> None:
    """Log that lever ``name`` is now ``shown`` (``before``: :func:`written` before this move),
    in place of its line of this week; no line when the week's moves have left the model as
    the week found it."""
    moved = moves.get(name)
    if moved is None or moved.step != model.t:
        moved = moves[name] = Moved(model.t, before)
    log = model.event_log
    if moved.line is not None:
        at = next((k for k in range(len(log) - 1, -1, -1) if log[k] is moved.line), None)
        if at is not None:
            del log[at]
    moved.line = None
    if written(model, name) != moved.before:
        moved.line = (model.date.isoformat(), f"set {name} = {shown}")
        log.append(moved.line)
