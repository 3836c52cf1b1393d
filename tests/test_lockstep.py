"""ABC tasks in lockstep (sim.experiments.lockstep): the same particles as tasks run one by one,
their runs advanced in batches."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pytest

from sim.experiments.lockstep import sample_alone, sample_in_lockstep, simulated


@dataclass
class Particle:
    proposal: float
    run_seed: int
    result: float
    coin: float
    accepted: bool


class Toy:
    """A simulate function shaped like pyabc's: a proposal from numpy's global stream, a run
    seed from it too, the run, then an acceptance that draws from Python's stream."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def run(self, requests: list) -> list:
        self.batches.append(len(requests))
        return [np.random.default_rng(seed).normal(loc=proposal) for proposal, seed in requests]

    def __call__(self) -> Particle:
        proposal = float(np.random.uniform(-1.0, 1.0))
        seed = int(np.random.randint(2**31 - 1))
        result = simulated((proposal, seed), self.run)
        coin = random.random()
        return Particle(proposal, seed, result, coin, abs(result) < 0.4 and coin < 0.8)


def alone(seeds):
    toy = Toy()
    out = []
    for seed in seeds:
        np.random.seed(seed)
        random.seed(seed)
        sample = []
        while True:
            sample.append(toy())
            if sample[-1].accepted:
                break
        out.append((sample, len(sample)))
    assert set(toy.batches) == {1}
    return out


def test_a_task_alone_makes_each_run_at_once():
    seeds = [11, 5, 2024]
    toy = Toy()
    assert [sample_alone(toy, seed, list) for seed in seeds] == alone(seeds)
    assert set(toy.batches) == {1}


@pytest.mark.parametrize("width", [1, 2, 3, 7])
def test_tasks_in_lockstep_draw_what_they_draw_alone(width):
    seeds = [11, 5, 2024, 7, 3, 99, 1000, 42]
    toy = Toy()
    together = sample_in_lockstep(toy, seeds, width, list)
    assert together == alone(seeds)
    assert sum(n for _, n in together) == sum(toy.batches)
    # the ensemble is kept full while tasks wait
    assert max(toy.batches) == min(width, len(seeds))
    if width > 1:
        assert toy.batches[0] == width


def test_a_task_that_draws_differently_the_second_time_is_refused():
    calls = iter(range(10**6))

    def fickle():
        return simulated(next(calls), lambda requests: requests)

    with pytest.raises(RuntimeError, match="proposed another run"):
        sample_in_lockstep(fickle, [1, 2], 2, list)


def test_outside_a_round_a_request_is_made_at_once():
    assert simulated(3, lambda requests: [r * 2 for r in requests]) == 6
