"""The kernels' sums are numpy's, to the last bit, compiled and in plain Python."""

from __future__ import annotations

import numpy as np
from conftest import without_jit

from sim.core.summation import numpy_sum, sum_of_kind

# Every length up to three blocks, then lengths around the splits into halves.
LENGTHS = [*range(0, 400), 1023, 1024, 1025, 4099, 100_003]


def _values(n: int, seed: int) -> np.ndarray:
    """Values over ten orders of magnitude and both signs, so that the order of the additions
    shows in the last bits."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n) * 10.0 ** rng.uniform(-5.0, 5.0, n)


def mismatches() -> list[int]:
    """The lengths at which :func:`numpy_sum` differs from ``np.add.reduce``."""
    return [n for n in LENGTHS if numpy_sum(_values(n, n), n) != np.add.reduce(_values(n, n))]


def test_a_sum_adds_in_numpys_order_at_every_length():
    assert mismatches() == []


def test_a_plain_loop_would_not():
    values = _values(1000, 7)
    plain = 0.0
    for v in values:
        plain += v
    assert plain != np.add.reduce(values)


def test_only_the_first_n_values_are_summed():
    values = _values(300, 3)
    assert numpy_sum(values, 200) == np.add.reduce(values[:200])


def test_the_sum_of_a_kind_is_the_masked_sum_and_count():
    rng = np.random.default_rng(5)
    for n in (0, 1, 9, 130, 700):
        kind, active, column = rng.integers(0, 3, n), rng.random(n) < 0.7, _values(n, n)
        rows = active & (kind == 1)
        total, count = sum_of_kind(kind, active, column, 1)
        assert (total, count) == (np.add.reduce(column[rows]), np.count_nonzero(rows))


def test_the_sums_in_plain_python_are_numpys_too():
    assert without_jit("import json\nfrom test_summation import mismatches\n"
                       "print(json.dumps(mismatches()))") == []


def test_the_sums_are_compiled_for_any_count_not_for_a_count_of_zero():
    """A count started at a literal 0 is typed as that value while numba infers its loop, and
    had ``numpy_sum`` and its blocks compiled for it, two compilations more at a cold start."""
    from numba import njit
    from numba.core import types

    from sim.core.summation import _block
    from sim.mechanisms.territorial_control import held_share

    # Fresh copies of the callers, typed here even where the kernels' cache holds them.
    rng = np.random.default_rng(2)
    njit(held_share.py_func)(rng.random((6, 4)), rng.random(6))
    njit(sum_of_kind.py_func)(rng.integers(0, 3, 9), rng.random(9) < 0.7, _values(9, 9), 1)
    for dispatcher in (numpy_sum, _block):
        literal = [s for s in dispatcher.signatures
                   if any(isinstance(t, types.Literal) for t in s)]
        assert literal == [], dispatcher.__name__
