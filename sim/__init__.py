"""Blowback: an agent-based simulation of outsourced counterinsurgency.

The three-line start::

    import sim
    s = sim.Sim("scenarios/contractor_unchecked.toml").run()
    s.plot(); df = s.results
"""

from sim import kernel_cache

# Before numba is first imported (by the model's modules below).
kernel_cache.configure()

from sim.core.model import BlowbackModel  # noqa: E402
from sim.core.scenario import Scenario, ScenarioError, default_scenario, load_scenario  # noqa: E402
from sim.interfaces.simulation import Sim  # noqa: E402
from sim.version import __version__  # noqa: E402

__all__ = ["__version__", "BlowbackModel", "Scenario", "ScenarioError", "Sim",
           "default_scenario", "load_scenario"]
