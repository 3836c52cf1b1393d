"""The mechanisms of the model, one module each: ``mNN_subject.py`` for the mechanisms M1-M15
of the model's design, and a few unnumbered ones for what the design takes as given (armed-group
violence, territorial control, the fused update of attitudes, the conduct armed units choose).

Each module declares a :class:`~sim.core.registry.Mechanism` named ``MECHANISM`` (its
parameters, the outcomes it records), owns its numba kernels, and defines the
:class:`~sim.core.registry.Step` functions that :mod:`sim.core.week` runs in order.
"""

from sim.lazy import submodules

__getattr__ = submodules(__name__)
