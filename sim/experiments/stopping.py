"""How the commands of many runs stop: at once and cleanly, on Ctrl-C, SIGTERM or a killed parent.

The parent alone decides to stop: Ctrl-C and SIGTERM become exceptions in it
(:func:`stop_signals`), its pools cancel the queued runs and terminate the running ones
(:func:`stop_now`), and the cleanup on the way out (temporary folders, the runs a sweep keeps) is
the ordinary ``finally`` and ``except`` of the code in between.  Those exceptions are held out of
the pools' own code (:func:`stops_held`, :func:`completed`), whose locks they could leave taken.
A worker ignores Ctrl-C, which a terminal sends to the whole process group, from its start, and
exits by itself once its parent is gone, even one killed by SIGKILL (:func:`follow_parent`).

Standard library only: the command line imports this before any command runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

# How often a worker looks whether its parent is still there (seconds).
PARENT_CHECK = 0.5
# How long a swallowed stop waits before it is sent again (seconds): past the callback it landed in.
SIGNAL_AGAIN = 0.05
# The longest a stop waits, held, while the parent waits on its workers (seconds).
STOP_HELD = 0.1
# The main thread's holds (:func:`stops_held`) under way, and the stop that came meanwhile.
_HELD: dict[str, Any] = {"depth": 0, "stop": None}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same cleanup runs (exit status 143, not 130)."""


def _again(number: int) -> None:
    """Send signal ``number`` to the main thread a moment from now."""
    time.sleep(SIGNAL_AGAIN)
    signal.pthread_kill(threading.main_thread().ident, number)


def exit_status(stop: BaseException) -> int:
    """The exit status of a command stopped by ``stop``: 128 + the signal's number."""
    return 128 + (signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Within the block, SIGINT raises :class:`KeyboardInterrupt` and SIGTERM
    :class:`Terminated` in the main thread.

    After the first of them both are ignored, for the rest of the process: a second Ctrl-C must
    not cut short the cleanup (terminating workers, removing temporary folders).  A stop within
    :func:`stops_held` is raised as that block ends; one the garbage collector swallowed (raised
    in a weakref callback) is raised again.  Without a signal, the handlers there before are put
    back.  Outside the main thread (where Python cannot set handlers) the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stopped = False
    raised: list[KeyboardInterrupt] = []
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    printing = sys.unraisablehook
    hooking = False

    def stop(number: int, frame: object) -> None:
        nonlocal stopped
        if hooking:
            threading.Thread(target=_again, args=(number,), daemon=True).start()
            return
        stopped = True
        for each in before:
            signal.signal(each, signal.SIG_IGN)
        raised.append(Terminated() if number == signal.SIGTERM else KeyboardInterrupt())
        if not _HELD["depth"]:
            raise raised[-1]
        _HELD["stop"] = raised[-1]

    def swallowed(unraisable: Any) -> None:
        # The garbage collector runs weakref callbacks and finalisers wherever the main thread
        # is; a signal that lands in one raises there, and Python only prints the exception and
        # goes on, so the command would never stop.  The same signal is sent again, once this
        # hook is over (and again, should it land in another callback).
        nonlocal hooking
        if not (raised and unraisable.exc_value is raised[-1]):
            printing(unraisable)
            return
        hooking = True
        try:
            number = exit_status(raised[-1]) - 128
            signal.signal(number, stop)
            threading.Thread(target=_again, args=(number,), daemon=True).start()
        finally:
            hooking = False

    for number in before:
        signal.signal(number, stop)
    sys.unraisablehook = swallowed
    try:
        yield
    finally:
        sys.unraisablehook = printing
        if not stopped:
            for number, handler in before.items():
                # None: a handler set outside Python, which cannot be put back from here.
                signal.signal(number, signal.SIG_DFL if handler is None else handler)


@contextlib.contextmanager
def unmasked_stops() -> Iterator[None]:
    """Within the block, an error raised while a Ctrl-C or SIGTERM was on its way out is replaced
    by that stop, so that the command stops as stopped commands do (one line, 130 or 143).

    A library's cleanup can fail because the stop cut its work short, and its error then takes
    the stop's place: pyabc closes its database in a ``finally``, and SQLAlchemy refuses a session
    whose transaction the stop interrupted (``PendingRollbackError``).
    """
    try:
        yield
    except Exception as error:
        stop = _stop_behind(error)
        if stop is None:
            raise
        raise stop from None


def _stop_behind(error: BaseException) -> KeyboardInterrupt | None:
    """The stop that ``error`` was raised in the handling of, however far back, or None."""
    seen: set[int] = set()
    behind: BaseException | None = error
    while behind is not None and id(behind) not in seen:
        if isinstance(behind, KeyboardInterrupt):
            return behind
        seen.add(id(behind))
        behind = behind.__cause__ or behind.__context__
    return None


def stop_now(executor: ProcessPoolExecutor) -> None:
    """Cancel the runs queued in ``executor`` and terminate its workers without waiting for the
    runs they hold: waiting (what ``shutdown(wait=True)`` and a ``with`` block do) would spend
    minutes on results that are thrown away, and the interpreter would wait for them at exit."""
    with stops_held():
        # shutdown forgets the processes and the pool's manager thread, so they are taken first.
        processes = list((getattr(executor, "_processes", None) or {}).values())
        manager = getattr(executor, "_executor_manager_thread", None)
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=5)
        # The manager closes its wake-up pipe once it sees the workers gone; the interpreter's exit
        # writes to that pipe, and (Python 3.11) fails with a traceback if both happen at once.
        if manager is not None:
            manager.join(timeout=5)


@contextlib.contextmanager
def stops_held() -> Iterator[None]:
    """Within the block, a Ctrl-C or SIGTERM that comes is held back, and raised as the block
    ends, outside whatever was called in it.

    Every call the parent makes into a pool (creating it, ``submit``, waiting on its futures,
    reading their results, shutting it down) is made within this block.  A stop raised where it
    lands can land in a lock's ``__exit__`` before the lock is released: one that landed in
    ``submit`` left the pool's queue of work locked, and the pool's manager thread, and with it
    the interpreter's exit, waited on that lock forever (SIGTERM on a loaded machine, once in 32
    tries).  The hold is kept by :func:`stop_signals`'s handler, whichever thread the signal
    reached.  Ctrl-C is also blocked in this thread meanwhile (its signal mask): a worker started
    within the block starts with it blocked (the mask survives fork and exec), for a Ctrl-C
    would otherwise print the traceback of a worker still importing the model, until
    :func:`follow_parent` ignores it.
    """
    main = threading.current_thread() is threading.main_thread()
    masked = hasattr(signal, "pthread_sigmask")
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if masked else None
    _HELD["depth"] += main
    try:
        yield
    finally:
        if masked:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
        _HELD["depth"] -= main
        if main and not _HELD["depth"] and _HELD["stop"] is not None:
            stop, _HELD["stop"] = _HELD["stop"], None
            raise stop


def completed(futures: set[Future] | dict[Future, Any],
             return_when: str = FIRST_COMPLETED) -> set[Future]:
    """The futures of ``futures`` done, waited for as ``concurrent.futures.wait`` does (the
    first done, or all of them with ``ALL_COMPLETED``), in spells of :data:`STOP_HELD` with the
    stops held (:func:`stops_held`), so that a stop lands between the spells."""
    while True:
        with stops_held():
            done, pending = wait(futures, timeout=STOP_HELD, return_when=return_when)
        if (done and return_when == FIRST_COMPLETED) or not pending:
            return done


def outcome(future: Future) -> Any:
    """``future.result()``, waited for with the stops held out of the future's locks."""
    completed({future}, ALL_COMPLETED)
    with stops_held():
        return future.result()


def follow_parent(parent: int) -> None:
    """In a worker process: ignore Ctrl-C and exit once ``parent`` is gone.

    Ctrl-C reaches the whole process group; the parent alone stops the runs and the workers, so
    a worker that took it too would only print a traceback.  A worker whose parent was killed
    would wait for work forever, holding the pool's resource tracker with it; a thread watches
    the parent instead.  (Linux's PR_SET_PDEATHSIG is not used: it fires when the *thread* that
    started the worker ends, and a pool starts its workers from whichever thread submits.)
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # blocked by stops_held, now ignored
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK)
    os._exit(1)
