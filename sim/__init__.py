"""Blowback: an agent-based simulation of outsourced counterinsurgency.

The three-line start::

    import sim
    s = sim.Sim("scenarios/contractor_unchecked.toml").run()
    s.plot(); df = s.results
"""

from sim.core.model import BlowbackModel
from sim.core.scenario import Scenario, ScenarioError, default_scenario, load_scenario
from sim.interfaces.simulation import Sim
from sim.version import __version__

__all__ = ["__version__", "BlowbackModel", "Scenario", "ScenarioError", "Sim",
           "default_scenario", "load_scenario"]
