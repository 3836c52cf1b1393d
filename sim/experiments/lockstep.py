"""ABC tasks in lockstep: the tasks of a worker each sample until one particle is accepted, and
the runs they propose are advanced together as ensembles, with the particles of tasks run one
after another.

pyabc's simulate function draws a proposal from numpy's global stream, the simulator draws its
run's seed from the same stream and runs it, and the particle is weighed and accepted or not.
A round takes each task in flight twice.  The first time only to learn the run it proposes:
the simulator asks :func:`simulated` for its run, which raises :class:`Proposed` instead of
running it.  Once the round's runs are advanced together, each task is taken again from the
same state of its random streams: it draws the same proposal and seed, and :func:`simulated`
answers with the run already made.  A task's streams are its own and kept from round to round,
so it draws exactly what it would alone, and the particles, their order and the count of
simulations are those of the tasks run one by one.
"""

from __future__ import annotations

import contextlib
import random
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np


class Proposed(Exception):  # noqa: N818 (not an error: the first pass of a round ends here)
    """Raised by :func:`simulated` in the first pass of a round, once the task's run is known."""


class Round:
    """The runs the tasks in flight propose, then their results."""

    def __init__(self) -> None:
        self.requests: list = []
        self.results: list | None = None
        self.run: Callable[[list], list] | None = None
        self.answered = 0

    def answer(self, request: Any, run: Callable[[list], list]) -> Any:
        """Collect ``request`` (first pass) or give its result (second pass)."""
        if self.results is None:
            self.requests.append(request)
            self.run = run
            raise Proposed
        expected, result = self.requests[self.answered], self.results[self.answered]
        self.answered += 1
        if request != expected:
            raise RuntimeError("a task proposed another run when taken again: its draws do not "
                               "come from its own random streams alone")
        return result

    def advance(self) -> None:
        """Make every run proposed, all in one call of the simulator's ``run``."""
        self.results = self.run(self.requests) if self.requests else []


# The round in progress in this process, while a worker advances tasks in lockstep.
_current: Round | None = None


def simulated(request: Any, run: Callable[[list], list]) -> Any:
    """What a simulator calls for the result of its ``request``: ``run([request])[0]``,
    computed at once outside a round; inside one, collected for the round's ensemble, then
    taken from it.  ``run`` makes a list of requests together, each as it would be alone."""
    if _current is None:
        return run([request])[0]
    return _current.answer(request, run)


class Task:
    """A task's own random streams (numpy's global one and Python's), its sample so far and
    the simulations it took."""

    def __init__(self, seed: int, sample: Any) -> None:
        np.random.seed(seed)
        random.seed(seed)
        self.streams = (np.random.get_state(), random.getstate())
        self.sample = sample
        self.simulations = 0
        self.accepted = False

    @contextlib.contextmanager
    def drawing(self, keep: bool) -> Iterator[None]:
        """The global streams set to the task's within the block; with ``keep``, what the block
        drew stays drawn."""
        np.random.set_state(self.streams[0])
        random.setstate(self.streams[1])
        yield
        if keep:
            self.streams = (np.random.get_state(), random.getstate())

    def add(self, particle: Any) -> None:
        """One more simulation; the task ends with its first accepted particle."""
        self.sample.append(particle)
        self.simulations += 1
        self.accepted = particle.accepted


def sample_alone(simulate_one: Callable[[], Any], seed: int,
                 empty_sample: Callable[[], Any]) -> tuple[Any, int]:
    """Sample until one particle is accepted, drawing from ``seed``, the run made at once:
    ``(sample, simulations)``."""
    task = Task(seed, empty_sample())
    while not task.accepted:
        task.add(simulate_one())
    return task.sample, task.simulations


def sample_in_lockstep(simulate_one: Callable[[], Any], seeds: list[int], width: int,
                       empty_sample: Callable[[], Any]) -> list[tuple[Any, int]]:
    """Sample until one particle is accepted for each task seed in ``seeds``, up to ``width``
    tasks in flight at a time, their runs advanced together: ``(sample, simulations)`` of each
    task, in order."""
    global _current
    tasks = [Task(seed, empty_sample()) for seed in seeds]
    queue, flight = deque(tasks), []
    while queue or flight:
        while queue and len(flight) < width:
            flight.append(queue.popleft())
        _current = Round()
        try:
            for task in flight:
                with task.drawing(keep=False), contextlib.suppress(Proposed):
                    simulate_one()
            _current.advance()
            for task in flight:
                with task.drawing(keep=True):
                    particle = simulate_one()
                task.add(particle)
        finally:
            _current = None
        flight = [task for task in flight if not task.accepted]
    return [(task.sample, task.simulations) for task in tasks]
