"""Classic models from the literature, rebuilt on the project's numba kernels and keyed draws.

They stand beside Blowback as references: a published model whose behaviour is known checks the
machinery (kernels, counter-based randomness, benchmarks) before it carries a new model.

Names load on first use, so that importing :mod:`sim.classics.neighbourhood` does not load
the Epstein models (:mod:`sim.classics.epstein`) as well.
"""

from __future__ import annotations

import importlib
from typing import Any

from sim.lazy import submodules

__all__ = ["EpsteinCivilViolence", "EpsteinEthnicViolence", "load_run", "open_run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("sim.classics.epstein"), name)
    return _submodule(name)


_submodule = submodules(__name__)
