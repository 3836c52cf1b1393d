"""The page's work off its own thread: preparing the model when the page opens, and advancing
the runs on Step and +1 year, with what the page says meanwhile.  While either runs, the page
shows a spinner and holds every control that would move the runs."""

from __future__ import annotations

import io
from collections.abc import Callable

import solara
from solara.lab import use_task

from sim.interfaces.dashboard.server import PREPARED, prepare
from sim.interfaces.dashboard.session import Session


def use_preparation(session: Session):
    """The task that compiles the model's kernels when the page opens in a process where
    nothing has yet (a notebook's ``Dashboard(...)``; the server does it before it serves):
    meanwhile the page says that it is preparing, and nothing may move the runs."""
    def ready() -> None:
        if not PREPARED.is_set():
            prepare(session.runs[0].scenario, out=io.StringIO())

    return use_task(ready, dependencies=[])


def use_advance(session: Session, refresh: Callable[[], None]):
    """The hook behind Step and +1 year: the task that advances the runs, the week it runs
    to, and ``start(weeks)``, which the buttons call.

    The weeks run on the task's thread, so that the page can say it is computing (the first
    week after a fresh install compiles for ~20 s) and refuse a second click meanwhile.
    """
    until = solara.use_reactive(0)

    def advance(weeks: int) -> None:
        for done in range(1, weeks + 1):
            if not stepping.is_current() or session.step() == 0:
                break
            stepping.progress = 100.0 * done / weeks
        refresh()

    stepping = use_task(advance, dependencies=None)

    def start(weeks: int) -> None:
        if stepping.pending:  # a click the disabled button should not have sent
            return
        until.set(min(session.model.t + weeks, session.model.steps_total))
        stepping(weeks)

    return stepping, until, start


def computing_text(session: Session, until: int) -> str:
    """What the page says while a Step or a year is computing: the week under way and,
    for several weeks, the week it runs to."""
    week = min(session.model.t + 1, until)
    return f"computing week {week}\u2026" if week >= until \
        else f"computing week {week} (to {until})\u2026"
