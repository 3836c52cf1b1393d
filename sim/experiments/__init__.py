"""Experiments built from runs: comparisons, sweeps, their analysis, sensitivity, calibration
and the literature's claims, and the results they write."""

from sim.lazy import submodules

__getattr__ = submodules(__name__)
