"""Blowback: an agent-based simulation of outsourced counterinsurgency.

The three-line start::

    import sim
    s = sim.Sim("scenarios/contractor_unchecked.toml").run()
    s.plot(); df = s.results

Everything loads on first use (:mod:`sim.lazy`): ``import sim`` reads no model code, and
``sim.Sim``, ``sim.experiments.sweep`` or its short name ``sim.sweep``, and ``sim.results`` (the
module :mod:`sim.experiments.store`) import what they need.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from sim import kernel_cache
from sim.lazy import submodules
from sim.version import __version__

# Before numba is first imported (by the model's modules, on first use).
kernel_cache.configure()

# The names of the three-line start, and the module each lives in.
_NAMES = {"BlowbackModel": "sim.core.model", "Scenario": "sim.core.scenario",
          "ScenarioError": "sim.core.scenario", "default_scenario": "sim.core.scenario",
          "load_scenario": "sim.core.scenario", "Sim": "sim.interfaces.simulation"}
# Short names of the modules a session reaches for: sim.results.load(folder) after a sweep.
_SHORT = {"sweep": "sim.experiments.sweep", "analysis": "sim.experiments.analysis",
          "results": "sim.experiments.store"}

__all__ = ["__version__", *_NAMES]

_submodule = submodules(__name__)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    if name in _SHORT:
        return importlib.import_module(_SHORT[name])
    return _submodule(name)


def __dir__() -> list[str]:
    # What a session can reach from here (tab completion, dir(sim)): the three-line start's
    # names, the short names and the subpackages, not the imports this file works with.
    packages = {path.name for path in Path(__file__).parent.iterdir()
                if (path / "__init__.py").is_file()}
    return sorted({"__version__", *_NAMES, *_SHORT, *packages})
