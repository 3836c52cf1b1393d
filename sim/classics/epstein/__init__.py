"""Epstein's civil-violence model (PNAS 99 suppl. 3, 2002) in numba: Model I and Model II.

Model I (:class:`EpsteinCivilViolence`) is a drop-in replacement of Mesa's example
``mesa.examples.advanced.epstein_civil_violence``; Model II (:class:`EpsteinEthnicViolence`)
adds two ethnic groups that kill each other, peacekeepers, births and deaths.  docs/EPSTEIN.md
gives the rules, the switches and where they depart from the paper.

Every draw is a function of (seed, step, entity, purpose, k), with purposes of its own, named
``epstein.*``, so results do not depend on thread count or on ``NUMBA_DISABLE_JIT``.

The package, one idea a module, each importing only those listed before it:

* :mod:`~sim.classics.epstein.layout`: purposes of draws, codes, slots, the arrays' tuples;
* :mod:`~sim.classics.epstein.lattice`: cell searches, placing, footprints in the count field;
* :mod:`~sim.classics.epstein.rules`: the ratio C / A, arrest, release, killing, fission;
* :mod:`~sim.classics.epstein.kernels`: the step of every agent, filling the grid, counts;
* :mod:`~sim.classics.epstein.settings`: the models' arguments, checked;
* :mod:`~sim.classics.epstein.schedule`: changes of a parameter during a run, checked;
* :mod:`~sim.classics.epstein.base`: the Mesa model that Model I and Model II share;
* :mod:`~sim.classics.epstein.models`: Model I and Model II;
* :mod:`~sim.classics.epstein.runs`: the paper's runs as files (``scenarios/epstein/*.toml``);
* :mod:`~sim.classics.epstein.bursts`: waiting times and sizes of outbursts;
* :mod:`~sim.classics.epstein.bench`: speed against Mesa's example;
* :mod:`~sim.classics.epstein.cli`: ``python -m sim.classics.epstein outbursts RUN.toml``
  measures outbursts, ``python -m sim.classics.epstein bench`` times the model.
"""

from __future__ import annotations

from sim.classics.epstein.bench import benchmark, mesa_example
from sim.classics.epstein.bursts import outburst_stats, outbursts
from sim.classics.epstein.cli import main
from sim.classics.epstein.models import EpsteinCivilViolence, EpsteinEthnicViolence
from sim.classics.epstein.rules import cop_ratio, round_half_even
from sim.classics.epstein.runs import load_run, open_run

__all__ = ["EpsteinCivilViolence", "EpsteinEthnicViolence", "benchmark", "cop_ratio", "load_run",
           "main", "mesa_example", "open_run", "outburst_stats", "outbursts", "round_half_even"]
