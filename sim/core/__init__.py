"""The model core: state arrays, random streams, the parameter registry, scenarios and the
model whose week runs the mechanisms."""

from sim.lazy import submodules

__getattr__ = submodules(__name__)
