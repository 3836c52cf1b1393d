"""The world a run takes place in: the map, the Mesa agents that show its state, and the dated
events of a scenario."""

from sim.lazy import submodules

__getattr__ = submodules(__name__)
