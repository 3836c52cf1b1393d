"""Blowback: an agent-based simulation of outsourced counterinsurgency."""

from sim.model import BlowbackModel
from sim.scenario import Scenario, ScenarioError, default_scenario, load_scenario

__version__ = "0.1.0"
__all__ = ["BlowbackModel", "Scenario", "ScenarioError", "default_scenario", "load_scenario"]
