"""Sums in numpy's order, for kernels that take over a sum numpy used to make.

numpy adds up a float64 array pairwise: blocks of up to 128 values each summed in eight
interleaved partial sums, the blocks' sums then added by halves.  A plain loop adds in
another order, and its last bits differ.  A kernel that replaces Python's ``a[rows].sum()``
therefore sums with :func:`numpy_sum`, so that the run stays the run it was, to the last bit
(``tests/test_summation.py`` checks it against ``np.add.reduce`` at every length up to 400
and at lengths up to 100,003).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim import kernel_cache

# numpy's block of values summed in eight partial sums (PW_BLOCKSIZE in its loops).
BLOCK = 128
PARTIALS = 8
# Deep enough for any array: each level halves what is left to split.
DEPTH = 64
# Zero as a numpy integer, which numba types as any int64, for a count or an index that starts
# at zero and reaches numpy_sum: a literal 0 is typed as that very value, and numpy_sum and its
# blocks were compiled once more for it.
ZERO = np.int64(0)


@njit(cache=kernel_cache.CACHE)
def numpy_sum(values, n):
    """The sum of ``values[:n]``, float64, added in the order ``np.add.reduce`` adds them.

    numpy splits an array of over 128 values into halves (the first rounded down to a multiple
    of 8) and adds their sums.  The halving is walked with a stack, not by recursion: numba's
    cache has loaded a recursive kernel into a crashing process.  ``a + b`` is ``b + a`` to the
    last bit, so only which sums meet matters, not which comes first."""
    if n <= BLOCK:
        return _block(values, ZERO, n)
    starts = np.empty(2 * DEPTH, np.int64)
    lengths = np.empty(2 * DEPTH, np.int64)  # -1: add the last two sums made
    sums = np.empty(DEPTH)
    starts[0], lengths[0] = 0, n
    todo, made = 1, 0
    while todo > 0:
        todo -= 1
        lo, m = starts[todo], lengths[todo]
        if m < 0:
            made -= 1
            sums[made - 1] += sums[made]
        elif m <= BLOCK:
            sums[made] = _block(values, lo, m)
            made += 1
        else:
            half = m // 2
            half -= half % PARTIALS
            starts[todo], lengths[todo] = 0, -1
            starts[todo + 1], lengths[todo + 1] = lo + half, m - half
            starts[todo + 2], lengths[todo + 2] = lo, half
            todo += 3
    return sums[0]


@njit(cache=kernel_cache.CACHE)
def _block(a, lo, n):
    if n < PARTIALS:
        total = 0.0
        for i in range(lo, lo + n):
            total += a[i]
        return total
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    whole = n - n % PARTIALS
    for i in range(lo + PARTIALS, lo + whole, PARTIALS):
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(lo + whole, lo + n):
        total += a[i]
    return total


@njit(cache=kernel_cache.CACHE)
def sum_of_kind(kind, active, column, k):
    """``(column[rows].sum(), rows.sum())`` with ``rows = active & (kind == k)``, summed in
    numpy's order."""
    scratch = np.empty(len(column))
    n = ZERO
    for u in range(len(kind)):
        if active[u] and kind[u] == k:
            scratch[n] = column[u]
            n += 1
    return numpy_sum(scratch, n), n
