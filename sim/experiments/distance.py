"""What a calibration's distance weighs: the scale each statistic is divided by, and how much
of the distance each figure takes in a sample of the prior.

pyabc's adaptive weighted L1 distance divides each statistic by a scale fitted on every
generation's simulations.  Its default scale, the statistic's median absolute deviation over the
simulations (MAD), lets a statistic the model barely moves take over the distance when the
record is far from it: a share the model keeps near zero where the record has a few deaths.  The
calibration adds the simulations' median absolute deviation from the record (MADO; pyabc's
``cmad``, Schälte et al. 2022, Bioinformatics 38(4)), so that such a figure weighs as much as one
the model can reach.  :func:`weights` shows what each scale does to a calibration's figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from sim.experiments.design import Range
from sim.experiments.reference import Figure
from sim.experiments.runs import run_many

if TYPE_CHECKING:
    from pyabc import AdaptivePNormDistance

# pyabc's model: a particle's logarithms of the fitted quantities -> the target statistics.
Model = Callable[[Mapping[str, float]], dict[str, float]]


class Calibration(Protocol):
    """What is read here of a calibration (:class:`sim.experiments.calibration.Calibration`):
    its targets, the prior range of every fitted quantity, and its simulator."""

    targets: list[Figure]

    @property
    def priors(self) -> dict[str, Range]: ...

    def simulator(self) -> Model: ...


def robust_distance() -> AdaptivePNormDistance:
    """pyabc's adaptive weighted L1 distance with each statistic divided, generation by
    generation, by its MAD over the simulations plus their MADO from the record.  A statistic on
    which every simulation agrees with the record still weighs nothing: it cannot tell one
    particle from another."""
    from pyabc import AdaptivePNormDistance
    from pyabc.distance import cmad

    return AdaptivePNormDistance(p=1, scale_function=cmad)


def record_statistics(cal: Calibration) -> pd.Series:
    """The record's value of each target statistic of ``cal``, what the distance measures from."""
    return pd.Series({f.key: f.statistic(f.value) for f in cal.targets})


def weights(samples: pd.DataFrame, observed: pd.Series) -> pd.DataFrame:
    """Per statistic (a column of ``samples``, one row a simulation; ``observed`` the record's):
    its MAD and MADO, and its mean share of each simulation's distance from the record with the
    MAD alone as the scale (``share_by_spread``) and with MAD + MADO (``share``).  A statistic
    whose scale is zero weighs nothing, as in pyabc."""
    observed = observed[samples.columns]
    median = samples.median()
    off = (samples - observed).abs()
    mad, mado = (samples - median).abs().median(), off.median()
    table = pd.DataFrame({"record": observed, "median": median, "mad": mad, "mado": mado})
    for column, scale in (("share_by_spread", mad), ("share", mad + mado)):
        parts = off * (1.0 / scale).where(~np.isclose(scale, 0.0), 0.0)
        table[column] = parts.div(parts.sum(axis=1), axis=0).mean()
    return table.sort_values("share", ascending=False)


def effective_figures(shares: pd.Series) -> float:
    """How many figures a distance weighs as: 1 / the sum of the squared shares (each figure
    with an equal share of the distance would make it the number of figures)."""
    return float(1.0 / (shares**2).sum())


def prior_sample(cal: Calibration, draws: int, seed: int = 1, jobs: int = 1) -> pd.DataFrame:
    """The target statistics of ``draws`` simulations of ``cal`` from its prior, one row a
    simulation, each on a seed drawn from ``seed``: what pyabc fits the first scales on."""
    rng = np.random.default_rng([seed, 3])
    simulator = cal.simulator()
    tasks = [(simulator, {n: float(rng.uniform(math.log(r.low), math.log(r.high)))
                          for n, r in cal.priors.items()}, int(rng.integers(2**31 - 1)))
             for _ in range(draws)]
    return pd.DataFrame(run_many(tasks, jobs=jobs, work=_simulate))


def _simulate(simulator: Model, logs: dict[str, float], seed: int) -> dict[str, float]:
    # The simulator draws its run's seed from numpy's global stream, as under pyabc's sampler.
    np.random.seed(seed)
    return simulator(logs)
