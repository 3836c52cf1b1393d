"""Counter-based random numbers: every draw is a pure function of (seed, step, entity, purpose, k).

A stateful generator hands out numbers in the order they are asked for, so a change anywhere
(another scenario's decision, a thread finishing first) shifts every later draw.  Here a draw is
a hash of its key (splitmix64's finaliser applied along the key), so:

* results are bit-identical for any thread count and with ``NUMBA_DISABLE_JIT=1``;
* two scenarios on one seed see the same draw for the same (step, entity, purpose): common
  random numbers, which make paired comparisons of regimes precise with few seeds.

Draws made for every entity of a step, several each (a shuffle, searches for an empty cell),
can instead read a stream: :func:`stream_key` hashes (seed, step, purpose) once, and
:func:`stream_bits` gives position ``i`` (the caller's function of entity and k) with one round
of mixing.  Still a pure function of the key, with the same guarantees.

In plain Python the uint64 arithmetic wraps with ``RuntimeWarning``; callers run kernels under
``np.errstate(over="ignore")`` (see :func:`sim.core.compiled.quiet`).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
from numba import njit

from sim import kernel_cache

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0
_S32 = np.uint64(32)
# :func:`poisson` inverts one uniform up to this mean, and uses a normal approximation above.
POISSON_EXACT = 40.0
_LOW32 = np.uint64(0xFFFFFFFF)


def purpose(name: str) -> np.int64:
    """The purpose of a draw, from its name: 63 bits of the name's BLAKE2b hash.

    Each use of randomness names its purpose after its mechanism (``"m05.recruit"``), as
    Starsim seeds its distributions by name, so adding a draw for one purpose never moves
    another and no table of numbers has to be kept.  Names must be unique; the chance that two
    names share 63 bits is negligible.

    A numpy integer, not a Python one: numba types a Python integer constant of a kernel as
    that very value, and compiled the draws again for each purpose, 76 times in all.
    """
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return np.int64(int.from_bytes(digest, "little") >> 1)


@njit(cache=kernel_cache.CACHE)
def mix64(z):
    """splitmix64's finaliser: a bijective avalanche of a 64-bit word."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=kernel_cache.CACHE)
def step_key(seed, step):
    """The part of a draw's hash that (seed, step) fixes.  A kernel that draws for many
    entities in one step hashes it once and draws with :func:`uniform_keyed`."""
    h = mix64(np.uint64(seed) + _GOLDEN)
    return mix64(h ^ (np.uint64(step) + _GOLDEN))


@njit(cache=kernel_cache.CACHE)
def stream_key(key, purpose):
    """The start of the stream of (seed, step, purpose), for ``key = step_key(seed, step)``.

    A kernel that draws for many entities of one purpose in a step (a shuffle, a search for an
    empty cell tried again and again) hashes this once and reads position i of the stream with
    :func:`stream_bits`: one round of mixing a draw, and no draw waits on another.
    """
    return mix64(key ^ (np.uint64(purpose) + _GOLDEN))


@njit(cache=kernel_cache.CACHE, inline="always")
def stream_bits(stream, i):
    """The 64 random bits at position ``i`` of a stream: splitmix64's output, a Weyl sequence
    (steps of the golden ratio) through the finaliser, started where :func:`stream_key` says.
    Streams of other steps or purposes start at unrelated points of the 2^64 cycle, so they
    share a position only with negligible probability."""
    return mix64(stream + np.uint64(i) * _GOLDEN)


@njit(cache=kernel_cache.CACHE, inline="always")
def below(bits, half, n):
    """An index on 0 .. n-1 (n below 2^32) from one 32-bit half (0 high, 1 low) of 64 random
    ``bits``: Lemire's multiply-shift, whose bias is below n / 2^32, with no division."""
    b = bits >> _S32 if half == 0 else bits & _LOW32
    return int((b * np.uint64(n)) >> _S32)


@njit(cache=kernel_cache.CACHE)
def uniform_keyed(key, entity, purpose, k):
    """:func:`uniform` of (seed, step, entity, purpose, k) for ``key = step_key(seed, step)``:
    the same number, with two fewer rounds of mixing."""
    h = mix64(key ^ (np.uint64(entity) + _GOLDEN))
    h = mix64(h ^ (np.uint64(purpose) + _GOLDEN))
    h = mix64(h ^ (np.uint64(k) + _GOLDEN))
    return float(h >> _S11) * _INV53


@njit(cache=kernel_cache.CACHE)
def uniform(seed, step, entity, purpose, k):
    """A float in [0, 1) determined by its key alone."""
    return uniform_keyed(step_key(seed, step), entity, purpose, k)


@njit(cache=kernel_cache.CACHE)
def normal(seed, step, entity, purpose, k):
    """A standard normal draw (Box-Muller on two keyed uniforms, sub-keys 2k and 2k+1)."""
    u1 = uniform(seed, step, entity, purpose, 2 * k)
    u2 = uniform(seed, step, entity, purpose, 2 * k + 1)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=kernel_cache.CACHE)
def poisson(seed, step, entity, purpose, lam):
    """A Poisson count with mean ``lam``: exact inversion below 40, normal approximation above."""
    if lam <= 0.0:
        return 0.0
    if lam > POISSON_EXACT:
        x = lam + math.sqrt(lam) * normal(seed, step, entity, purpose, 1)
        return max(0.0, math.floor(x + 0.5))
    u = uniform(seed, step, entity, purpose, 0)
    p = math.exp(-lam)
    cdf = p
    n = 0
    while u > cdf and n < 1000:
        n += 1
        p *= lam / n
        cdf += p
    return float(n)


@njit(cache=kernel_cache.CACHE)
def pareto(seed, step, entity, purpose, xmin, alpha):
    """A Pareto draw (fat tail, P(X > x) = (xmin/x)^alpha) by inversion."""
    u = uniform(seed, step, entity, purpose, 0)
    return xmin * (1.0 - u) ** (-1.0 / alpha)
