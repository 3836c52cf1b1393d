"""Compiled kernels: what every numba kernel of the package shares.

Every kernel also runs as plain Python (``NUMBA_DISABLE_JIT=1``, or ``kernel.py_func``) and gives
the same numbers: draws come from :mod:`sim.core.rng`, reductions are serial, no ``fastmath``.
"""

from __future__ import annotations

import contextlib
import os

import numba
import numpy as np
from numba.core.cpu import ParallelOptions

# OpenMP's default is to spin between parallel regions; on a busy 2-core machine that made a
# 10k-community step 35 times slower (72 ms against 2 ms, measured).  Idle threads sleep instead,
# unless the user asked otherwise.  Read by the OpenMP runtime when the first parallel kernel
# runs, so setting it at import is early enough.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Below this many communities a week's parallel loops cost more to start than they save: each
# wakes the sleeping threads (see above) for a loop of a few dozen microseconds.  Measured on 2
# cores by benchmarks/threads.py, two threads against one paid x0.69 a week at 4,000
# communities, x0.94 at 20,000, x1.04 at 35,000 and x1.31 at 100,000 (docs/PERFORMANCE.md,
# "Small maps run on one thread").
PARALLEL_FROM = 30_000

# What a parallel kernel runs in parallel: its ``prange`` loops, nothing else.  Numba's default
# (``parallel=True``) also makes a parallel loop of each array it fills (``np.zeros``) and fuses
# neighbouring loops; at the default size each parallel loop costs a start of the threads even
# on one thread, and fusing put the attitudes' loops of ``exp`` back inside the loops around
# them, which is what they stand alone to avoid.  A default week's ``spread_news`` took 37 us a
# call with the default and 31 us with these options, ``update_attitudes`` 85 and 80 us, with
# the same numbers.  An options object, not a dict: numba pops a dict's keys as it reads them,
# so the kernel's next signature would be compiled with every option back on.
PRANGE_ONLY = ParallelOptions({
    "prange": True, "fusion": False, "numpy": False, "comprehension": False, "reduction": False,
    "inplace_binop": False, "setitem": False, "stencil": False})


@contextlib.contextmanager
def threads_for(communities: int):
    """Run the kernels inside on one thread where the map is too small for parallel loops to
    pay (fewer than :data:`PARALLEL_FROM` communities), on numba's threads otherwise.  The
    results are the same either way; the caller's thread count is restored on the way out."""
    before = numba.get_num_threads()
    if communities >= PARALLEL_FROM or before == 1:
        yield
        return
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


@contextlib.contextmanager
def quiet():
    """Let uint64 hashing wrap silently when the kernels run as plain Python."""
    with np.errstate(over="ignore"):
        yield
