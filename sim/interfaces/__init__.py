"""How people use the model: the command line, the notebook class ``Sim``, plots and the
seminar dashboard."""

from sim.lazy import submodules

__getattr__ = submodules(__name__)
