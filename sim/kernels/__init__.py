"""The interaction kernels: one numba function per mechanism, plain loops over contiguous arrays.

Every kernel also runs as plain Python (``NUMBA_DISABLE_JIT=1``, or ``kernel.py_func``) and gives
the same numbers: draws come from :mod:`sim.rng`, reductions are serial, no ``fastmath``.
"""

from __future__ import annotations

import contextlib

import numpy as np


@contextlib.contextmanager
def quiet():
    """Let uint64 hashing wrap silently when the kernels run as plain Python."""
    with np.errstate(over="ignore"):
        yield
