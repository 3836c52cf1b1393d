"""Blowback: an agent-based simulation of outsourced counterinsurgency.

The three-line start::

    import sim
    s = sim.Sim("scenarios/contractor_unchecked.toml").run()
    s.plot(); df = s.results
"""

from sim.core.model import BlowbackModel
from sim.core.scenario import Scenario, ScenarioError, default_scenario, load_scenario
from sim.interfaces.simulation import Sim

__version__ = "0.1.0"
__all__ = ["BlowbackModel", "Scenario", "ScenarioError", "Sim", "default_scenario",
           "load_scenario"]
