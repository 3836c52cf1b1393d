"""What the calibration plugs into pyabc's ABC-SMC: a sampler seeded task by task, so that a
fit is reproducible whatever the number of workers, the map over worker processes it samples
with, a proposal that keeps the importance weights even when twenty quantities are fitted at
once, and a quiet pyabc."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import scipy.stats as st
from pyabc import Parameter
from pyabc.sampler import MappingSampler
from pyabc.transition import NotEnoughParticles, Transition
from pyabc.transition.util import smart_cov

from sim.experiments.lockstep import sample_alone, sample_in_lockstep
from sim.experiments.runs import worker_pool
from sim.experiments.stopping import outcome, stop_now, stops_held

# The logger all of pyabc's modules log under ("ABC.Sampler", "ABC.History", ...): it sets it
# to INFO, with a handler of its own on stderr, when it is imported (above).
PYABC_LOGGER = "ABC"


@contextlib.contextmanager
def pyabc_warnings_only() -> Iterator[None]:
    """pyabc's loggers at WARNING within the block, their level restored after it: its INFO
    lines (each generation's epsilon, acceptance rate, ...) are not for the command's user.
    Loggers above pyabc's, the root logger included, are left as the user set them."""
    logger = logging.getLogger(PYABC_LOGGER)
    before = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(before)


class SeededSampler(MappingSampler):
    """pyabc's mapping sampler whose every task draws from its own seed, taken in order from a
    stream of ``seed``: which worker runs a task never changes what it draws.  ``pool_map`` is
    a map function (a pool's, or the plain one).

    With ``ensemble`` > 1 the tasks go to the ``workers`` in batches, as many for each, and a
    worker keeps up to ``ensemble`` tasks of a batch in flight, their runs advanced together
    (:mod:`sim.experiments.lockstep`): the same particles, fewer passes of Python through the
    week."""

    def __init__(self, pool_map: Callable, seed: int, ensemble: int = 1,
                 workers: int = 1, sampled: Callable[[int], None] | None = None) -> None:
        super().__init__(map_=self._map)
        self._pool_map = pool_map
        self._seeds = np.random.default_rng(seed)
        self.ensemble = ensemble
        self.workers = workers
        # Told the simulations of each sample once it is complete (a generation, or the prior's
        # sample); kept in this process, as the workers are sent only pyabc's state.
        self.sampled = sampled

    def __getstate__(self):
        return super().__getstate__(), self.ensemble

    def __setstate__(self, state) -> None:
        base, self.ensemble = state
        super().__setstate__(base)

    def _map(self, function: Callable, items: list) -> list:
        seeds = [int(s) for s in self._seeds.integers(2**32 - 1, size=len(list(items)))]
        if self.ensemble == 1:
            batches = [[seed] for seed in seeds]
        else:
            # About two widths of tasks a batch, so that the ensemble stays full while the
            # first tasks accepted make way for the next; as many batches for each worker,
            # of sizes differing by one at most, so that none waits long for the last.
            rounds = -(-len(seeds) // (self.workers * 2 * self.ensemble))
            parts = np.array_split(np.arange(len(seeds)), rounds * self.workers)
            batches = [[seeds[i] for i in part] for part in parts if len(part)]
        done = [task for batch in self._pool_map(function, batches) for task in batch]
        if self.sampled is not None:
            self.sampled(sum(simulations for _, simulations in done))
        return done

    def map_function(self, simulate_one, task_seeds):
        """Sample until one particle is accepted for each of ``task_seeds``, each task drawing
        from its own seed: ``(sample, simulations)`` a task."""
        simulate_one = self.unpickle(simulate_one)
        if self.ensemble > 1:
            return sample_in_lockstep(simulate_one, task_seeds, self.ensemble,
                                      self._create_empty_sample)
        return [sample_alone(simulate_one, seed, self._create_empty_sample)
                for seed in task_seeds]


@contextlib.contextmanager
def worker_map(jobs: int) -> Iterator[Callable]:
    """A map function over ``jobs`` worker processes (:func:`worker_pool`), in task
    order; the plain ``map`` for 1 job.  However the block ends short (Ctrl-C, an error), the
    workers are terminated at once (:func:`stop_now`): ``multiprocessing.Pool.terminate`` can
    wait forever for a worker killed while it was sending back its result."""
    if jobs <= 1:
        yield lambda function, items: list(map(function, items))
        return
    pool = worker_pool(jobs)

    def mapped(function: Callable, items: list) -> list:
        with stops_held():
            futures = [pool.submit(function, item) for item in items]
        return [outcome(future) for future in futures]

    try:
        yield mapped
    except BaseException:
        stop_now(pool)
        raise
    with stops_held():
        pool.shutdown()


class GaussianProposal(Transition):
    """A defensive proposal: one Gaussian over the last population (its weighted mean and
    covariance, widened by ``scaling``) mixed with the prior, a uniform box ``bounds``, at
    weight ``defensive``, where pyabc's default puts a kernel on each particle.

    With twenty dimensions and a few hundred particles a kernel per particle makes the
    proposal's density swing by orders of magnitude between particles, and the importance
    weights (prior over proposal) with it: one particle took 80% of the weight.  A single
    Gaussian is smoother but, fitted to a population that has already thinned, can collapse
    onto a few directions.  The share drawn from the prior bounds every weight by
    1 / ``defensive`` times the mean (Hesterberg's defensive importance sampling)."""

    def __init__(self, bounds: dict[str, tuple[float, float]], scaling: float = 2.0,
                 defensive: float = 0.1) -> None:
        self.bounds = bounds
        self.scaling = scaling
        self.defensive = defensive
        self.mean: np.ndarray | None = None
        self.cov: np.ndarray | None = None
        self.low: np.ndarray | None = None
        self.high: np.ndarray | None = None
        self.normal = None

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        """Fit the Gaussian to the population ``X`` with weights ``w``."""
        if len(X) == 0:
            raise NotEnoughParticles("no particles to fit the proposal to")
        values = X.to_numpy()
        self.mean = np.average(values, axis=0, weights=w)
        self.cov = smart_cov(values, w) * self.scaling
        self.normal = st.multivariate_normal(mean=self.mean, cov=self.cov, allow_singular=True)
        box = np.array([self.bounds[c] for c in X.columns], dtype=float)
        self.low, self.high = box[:, 0], box[:, 1]
        self._box_density = 1.0 / float(np.prod(self.high - self.low))

    def rvs_single(self) -> Parameter:
        """One proposal, drawn from numpy's global stream (seeded by the sampler's task)."""
        if np.random.uniform() < self.defensive:
            draw = np.random.uniform(self.low, self.high)
        else:
            draw = np.random.multivariate_normal(self.mean, self.cov)
        return Parameter(dict(zip(self.X.columns, draw, strict=True)))

    def pdf(self, x: Parameter | pd.Series | pd.DataFrame) -> float | np.ndarray:
        """The mixture's density at one point or at each row of a table."""
        single = isinstance(x, Parameter | pd.Series)
        points = (np.array([[x[key] for key in self.X.columns]]) if single
                  else x[self.X.columns].to_numpy())
        inside = np.all((points >= self.low) & (points <= self.high), axis=1)
        density = ((1.0 - self.defensive) * np.atleast_1d(self.normal.pdf(points))
                   + self.defensive * self._box_density * inside)
        return float(density[0]) if single else density
