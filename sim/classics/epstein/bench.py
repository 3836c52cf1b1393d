"""Speed against Mesa's own example: the same model, the same settings, timed side by side.

``python -m sim.classics.epstein bench`` prints :func:`benchmark` for a few grid sizes;
``blowback bench --only epstein`` runs it under other Mesa versions too (benchmarks/epstein.py).
"""

from __future__ import annotations

import importlib
import inspect
import sys
import time
import types
import warnings
from pathlib import Path

import mesa
import numpy as np

from sim.classics.epstein.models import EpsteinCivilViolence


def mesa_example() -> type:
    """Mesa's own ``EpsteinCivilViolence`` class, for comparisons.

    ``import mesa.examples`` imports every example and so needs all their dependencies
    (networkx among them); when that fails, the two parent packages are registered bare so that
    just this example's modules load.
    """
    name = "mesa.examples.advanced.epstein_civil_violence.model"
    try:
        return importlib.import_module(name).EpsteinCivilViolence
    except ImportError:
        root = Path(mesa.__file__).parent / "examples"
        for package, folder in (("mesa.examples", root), ("mesa.examples.advanced",
                                                         root / "advanced")):
            module = types.ModuleType(package)
            module.__path__ = [str(folder)]
            sys.modules.setdefault(package, module)
        return importlib.import_module(name).EpsteinCivilViolence


def _mesa_model(size: int, seed: int) -> mesa.Model:
    """Mesa's example on a size x size torus with its defaults: built from arguments up to Mesa
    3.3, from an ``EpsteinScenario`` from Mesa 3.4."""
    cls = mesa_example()
    if "scenario" in inspect.signature(cls).parameters:
        return cls(size, size, sys.modules[cls.__module__].EpsteinScenario(rng=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the example passes the deprecated seed= to Mesa
        return cls(width=size, height=size, seed=seed)


def _timed(model: mesa.Model, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        model.step()
    return time.perf_counter() - start


def benchmark(size: int, mesa_steps: int = 20, steps: int = 2000, batches: int = 5,
              seed: int = 1) -> dict[str, float]:
    """Agent-steps per second of Mesa's example and of :class:`EpsteinCivilViolence`.

    Both on a ``size`` x ``size`` torus with the example's defaults (vision 7, citizen density
    0.7, cop density 0.074); agents are citizens (jailed included) and cops, as Mesa steps them.
    After one warm-up step each (compiled code, Mesa's neighbourhood caches) the two run in
    alternating batches (``mesa_steps`` and ``steps`` steps in all), so that a busy neighbour on
    a shared machine slows both alike.  Reported: the best batch of each (as ``timeit`` does)
    and their ratio, and the median of the batch-by-batch ratios.
    """
    theirs = _mesa_model(size, seed)
    ours = EpsteinCivilViolence(width=size, height=size, seed=seed)
    n_theirs, n_ours = len(theirs.agents), len(ours.agent_frame())
    theirs.step()
    ours.step()
    k_theirs, k_ours = max(1, mesa_steps // batches), max(1, steps // batches)
    mesa_rates, our_rates = [], []
    for _ in range(batches):
        mesa_rates.append(n_theirs * k_theirs / _timed(theirs, k_theirs))
        our_rates.append(n_ours * k_ours / _timed(ours, k_ours))
    ratios = [o / m for o, m in zip(our_rates, mesa_rates, strict=True)]
    return {"size": size, "agents": n_theirs, "mesa_agent_steps_per_s": max(mesa_rates),
            "numba_agent_steps_per_s": max(our_rates),
            "ratio": max(our_rates) / max(mesa_rates), "median_ratio": float(np.median(ratios))}
