"""Classic models from the literature, rebuilt on the project's numba kernels and keyed draws.

They stand beside Blowback as references: a published model whose behaviour is known checks the
machinery (kernels, counter-based randomness, benchmarks) before it carries a new model.
"""

from sim.classics.epstein import EpsteinCivilViolence, EpsteinEthnicViolence, load_run, open_run

__all__ = ["EpsteinCivilViolence", "EpsteinEthnicViolence", "load_run", "open_run"]
