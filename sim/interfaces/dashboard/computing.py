"""The page's work off its own thread: preparing the model when the page opens, advancing
the runs on Step and +1 year, with what the page says meanwhile, and the loop behind Play.
While the first two run, the page shows a spinner and holds every control that would move the
runs."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable

import solara
from solara.lab import use_task

from sim.interfaces.dashboard.server import PREPARED, prepare
from sim.interfaces.dashboard.session import Session

# Weeks a second while playing, at most; "fast" is as fast as the page redraws.
SPEEDS = {"slow": 2.0, "normal": 5.0, "fast": 1000.0}
MIN_PAUSE = 0.005  # seconds between weeks: room for the buttons' clicks to get through
DRAW_WAIT = 2.0  # seconds; a page that stopped drawing (closed tab) must not stall the loop
# Seconds between two showings of the progress of a Step or a year.  Each showing makes Solara
# go over the whole page, about 23 ms at the default size, five default weeks' worth: shown
# after every week, a year took 30 times as long as its weeks (benchmarks/dashboard.py).
PROGRESS_EVERY = 0.25


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
        shown = time.monotonic()
        for done in range(1, weeks + 1):
            if not stepping.is_current() or session.step() == 0:
                break
            if time.monotonic() - shown >= PROGRESS_EVERY:
                stepping.progress = 100.0 * done / weeks
                shown = time.monotonic()
        refresh()

    stepping = use_task(advance, dependencies=None)

    def start(weeks: int) -> None:
        if stepping.pending:  # a click the disabled button should not have sent
            return
        clock = session.clock
        until.set(min(clock.t + weeks, clock.steps_total))
        stepping(weeks)

    return stepping, until, start


def computing_text(session: Session, until: int) -> str:
    """What the page says while a Step or a year is computing: the week under way and,
    for several weeks, the week it runs to."""
    week = min(session.clock.t + 1, until)
    return f"computing week {week}\u2026" if week >= until \
        else f"computing week {week} (to {until})\u2026"


def use_play(session: Session, playing: solara.Reactive, speed: solara.Reactive, version: int,
             refresh: Callable[[], None]) -> solara.Reactive:
    """The hook behind Play: while ``playing``, a thread advances the runs a week at a time,
    at most ``speed`` weeks a second and never faster than the page draws ``version``.

    Returns ``looping``, true from the moment a loop starts until it has stopped.  A pause
    takes effect once the week under way has landed, so the page holds Play and the buttons
    that advance the runs until then, and the week it shows after a pause is the last.
    """
    looping = solara.use_reactive(False)
    # Set once a version is on the page: the loop waits for it before the next week, so that
    # it never changes the state faster than the page redraws (Solara refuses such loops).
    drawn = solara.use_memo(threading.Event, [])
    solara.use_effect(drawn.set, [version])
    # Play right after Pause starts a loop while the last may still be landing its week: the
    # new one waits for it to end, so that two loops never take turns at the runs and each
    # sets ``looping`` over its own span alone.
    one_loop = solara.use_memo(threading.Lock, [])

    def play(cancel: threading.Event) -> None:
        if not playing.value:
            return
        with one_loop:
            looping.set(True)
            try:
                while playing.value and not cancel.is_set():
                    due = time.monotonic() + 1.0 / SPEEDS[speed.value]
                    if session.step(wanted=lambda: playing.value) == 0:
                        playing.set(False)
                        break
                    drawn.clear()
                    refresh()
                    drawn.wait(timeout=DRAW_WAIT)
                    time.sleep(max(MIN_PAUSE, due - time.monotonic()))
            finally:
                looping.set(False)

    # Not Solara's intrusive cancel: it traces every line of the model's step.
    solara.use_thread(play, dependencies=[playing.value], intrusive_cancel=False)
    return looping
