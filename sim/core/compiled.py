"""Compiled kernels: what every numba kernel of the package shares.

Every kernel also runs as plain Python (``NUMBA_DISABLE_JIT=1``, or ``kernel.py_func``) and gives
the same numbers: draws come from :mod:`sim.core.rng`, reductions are serial, no ``fastmath``.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

# OpenMP's default is to spin between parallel regions; on a busy 2-core machine that made a
# 10k-community step 35 times slower (72 ms against 2 ms, measured).  Idle threads sleep instead,
# unless the user asked otherwise.  Read by the OpenMP runtime when the first parallel kernel
# runs, so setting it at import is early enough.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@contextlib.contextmanager
def quiet():
    """Let uint64 hashing wrap silently when the kernels run as plain Python."""
    with np.errstate(over="ignore"):
        yield
