"""Benchmarks of the conflict model: kernels compiled vs plain, scale, build, start-up."""

from __future__ import annotations

import contextlib
import copy
import importlib
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _kernel(name: str):
    from sim.core.week import kernels

    return getattr(importlib.import_module(kernels()[name]), name)


def _scenario(communities: int, steps: int = 520, bands: int | None = None):
    from sim.core.scenario import load_scenario

    changes = {"map.communities": communities, "run.steps": steps}
    if bands is not None:
        # A larger conflict: as many armed bands as asked, and a unit for every four of them.
        changes |= {"insurgents.bands": bands, "state.units": bands // 4}
    return load_scenario(ROOT / "scenarios" / "contractor_unchecked.toml").with_overrides(
        **changes)


def capture_kernel_calls(communities: int, bands: int | None = None) -> dict[str, tuple]:
    """The arguments each kernel received in one week of a warmed-up model (deep copies)."""
    from sim.core.model import BlowbackModel

    model = BlowbackModel(_scenario(communities, bands=bands), agents=False)
    model.run(4)
    calls: dict[str, tuple] = {}

    def spy(name, kernel):
        def call(*args):
            calls.setdefault(name, (kernel, copy.deepcopy(args)))
            return kernel(*args)
        return call

    with _spies(spy):
        model.step()
    return calls


@contextlib.contextmanager
def _spies(spy):
    """Every kernel of the week replaced, where the steps look it up, by ``spy(name, kernel)``."""
    from sim.core.week import kernels

    owners = kernels()
    originals = {name: _kernel(name) for name in owners}
    try:
        for name, kernel in originals.items():
            setattr(importlib.import_module(owners[name]), name, spy(name, kernel))
        yield
    finally:
        for name, kernel in originals.items():
            setattr(importlib.import_module(owners[name]), name, kernel)


# A kernel's first call in plain Python pays for warming the interpreter's caches
# (``update_region`` took 417 us, then 84 us a call), and the plain side used to be timed on two
# calls: the median of the two counted the first, and cheap kernels read up to three times faster
# compiled than they are.  The first call is not counted now, and a cheap kernel is called until
# its calls take about these seconds, at most MOST_CALLS times.
PLAIN_SECONDS = 0.2
COMPILED_SECONDS = 0.02
MOST_CALLS = 2_000


def _time_call(fn, args, repeats: int, least_seconds: float = 0.0) -> float:
    """Median seconds per call, each call on its own copy of the inputs, made just before it,
    after one call that is not counted: ``repeats`` calls, or as many more as take about
    ``least_seconds`` (at most :data:`MOST_CALLS`).

    The inputs are then in the caches, as in a model's step, where the kernels before have just
    touched them.  Copies made all at once before the first call (as until 2026-12) left each
    call to read its inputs from memory: ``force_operations`` then took 60-91 us compiled in
    three runs (75-210x), against 37-52 us (132-276x) in two runs this way.
    """
    from sim.core.compiled import quiet

    def timed() -> float:
        fresh = copy.deepcopy(args)
        start = time.perf_counter()
        fn(*fresh)
        return time.perf_counter() - start

    with quiet():
        first = timed()
        calls = repeats
        if first > 0.0:
            calls = min(MOST_CALLS, max(repeats, int(least_seconds / first)))
        times = [timed() for _ in range(calls)]
    return statistics.median(times)


_PLAIN = """
import json, pickle, sys
from benchmarks.conflict import PLAIN_SECONDS, _kernel, _time_call
calls = pickle.load(open(sys.argv[1], "rb"))
print(json.dumps({name: _time_call(_kernel(name), args, int(sys.argv[2]), PLAIN_SECONDS)
                  for name, args in calls.items()}))
"""


def _plain_times(calls: dict[str, tuple], repeats: int) -> dict[str, float]:
    """Seconds per call of each kernel as plain Python, everything it calls plain too: a fresh
    process with NUMBA_DISABLE_JIT=1 (it must be set before numba loads)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "calls.pickle"
        with open(path, "wb") as f:
            pickle.dump({name: args for name, (_, args) in calls.items()}, f)
        env = dict(os.environ, NUMBA_DISABLE_JIT="1")
        done = subprocess.run([sys.executable, "-c", _PLAIN, str(path), str(repeats)], env=env,
                              cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def kernels(communities: int, repeats: int, bands: int | None = None) -> list[dict]:
    """Each kernel compiled against the same kernel as plain Python on the same inputs.

    The compiled kernels run on the threads a model of ``communities`` gives them
    (:func:`sim.core.compiled.threads_for`): below ``PARALLEL_FROM`` one thread, as the plain
    side.  On numba's two threads the parallel kernels of a 10,000-community week paid for
    waking the second one: ``update_attitudes`` took 313 us against 184 on one thread.
    """
    from sim.core.compiled import threads_for

    calls = capture_kernel_calls(communities, bands)
    plain_times = _plain_times(calls, max(1, repeats // 10))
    with threads_for(communities):
        compiled_times = {name: _time_call(kernel, args, repeats, COMPILED_SECONDS)
                          for name, (kernel, args) in calls.items()}
    rows = []
    for name in calls:
        compiled = compiled_times[name]
        plain = plain_times[name]
        rows.append({"kernel": name, "communities": communities, "bands": bands,
                     "compiled_s": compiled,
                     "plain_s": plain, "speedup": plain / compiled if compiled else float("nan")})
    return rows


def scale(sizes: list[int], steps: int) -> list[dict]:
    """Whole-model weekly step at each size: ms per step and community-steps per second."""
    from sim.core.model import BlowbackModel

    rows = []
    for n in sizes:
        model = BlowbackModel(_scenario(n), agents=False)
        model.run(2)
        start = time.perf_counter()
        model.run(steps)
        per_step = (time.perf_counter() - start) / steps
        rows.append({"communities": n, "ms_per_step": per_step * 1e3,
                     "community_steps_per_s": n / per_step,
                     "ns_per_community_step": per_step / n * 1e9})
    return rows


_BUILD = """
import json, resource, sys, time
from sim.core.model import BlowbackModel
from sim.core.scenario import load_scenario
s = load_scenario(sys.argv[1]).with_overrides(**{"map.communities": int(sys.argv[2])})
BlowbackModel(s.with_overrides(**{"map.communities": 1000}), agents=False)  # compile, warm
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
model = BlowbackModel(s, agents=False)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
per_mb = 1024 * 1024 if sys.platform == "darwin" else 1024  # ru_maxrss: kB, bytes on macOS
print(json.dumps({"seconds": seconds, "peak_mb": peak / per_mb, "before_mb": before / per_mb}))
"""


def build(communities: int) -> dict:
    """Time and peak memory (whole process, in a fresh one) to build a model of that size."""
    done = subprocess.run(
        [sys.executable, "-c", _BUILD, str(ROOT / "scenarios" / "contractor_unchecked.toml"),
         str(communities)], capture_output=True, text=True, check=True, cwd=ROOT)
    result = json.loads(done.stdout)
    return {"communities": communities, **result}


def startup() -> dict:
    """``blowback run`` on the default scenario as a whole process: cold then warm cache."""
    timings = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=str(Path(tmp) / "numba"))
        for label in ("cold", "warm"):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sim", "run",
                            str(ROOT / "scenarios" / "base.toml"), "--out",
                            str(Path(tmp) / label)], check=True, env=env, cwd=ROOT,
                           capture_output=True)
            timings[label] = time.perf_counter() - start
    return timings


def mechanism_totals(clock: dict[str, float], scale: float = 1.0) -> dict[str, float]:
    """A clock's times by step, added up by mechanism (the label's part before its colon) and
    multiplied by ``scale``."""
    out: dict[str, float] = {}
    for label, seconds in clock.items():
        mechanism = label.split(":")[0]
        out[mechanism] = out.get(mechanism, 0.0) + seconds * scale
    return out


def profile(communities: int, repeats: int) -> dict:
    """Where a weekly step's time goes at one size: each step of the week (by mechanism), each
    kernel alone on its captured inputs, and what no step accounts for.

    ``in_kernels_ms`` is the time spent in kernel calls (calling them included) during the
    profiled weeks themselves, whose inputs grow as the run goes on (militias, bands, units);
    the rest of the step, ``between_kernels_ms``, is Python and numpy between the kernels, which
    no kernel speed-up removes.  ``mechanisms_in_kernels_ms`` splits the first by the mechanism
    that owns each kernel, so that a mechanism's time less its kernels' is its Python.
    """
    from sim.core.compiled import threads_for
    from sim.core.model import BlowbackModel
    from sim.core.week import WEEK

    with threads_for(communities):
        kernel_ms = {name: _time_call(kernel, args, repeats) * 1e3
                     for name, (kernel, args) in capture_kernel_calls(communities).items()}
    model = BlowbackModel(_scenario(communities), agents=False)
    model.run(2)
    model.clock = {}
    # Each kernel's time under the label of a step of the mechanism that owns it, so that
    # mechanism_totals adds them up by mechanism as it does the steps.
    owner = {kernel.__name__: step.label for step in WEEK for kernel in step.mechanism.kernels}
    in_kernels: dict[str, float] = {}

    def timed(name, kernel):
        label = owner[name]

        def call(*args):
            begin = time.perf_counter()
            out = kernel(*args)
            in_kernels[label] = in_kernels.get(label, 0.0) + time.perf_counter() - begin
            return out
        return call

    with _spies(timed):
        start = time.perf_counter()
        model.run(repeats)
        step_ms = (time.perf_counter() - start) / repeats * 1e3
    steps_ms = {label: s / repeats * 1e3 for label, s in model.clock.items()}
    in_kernels_ms = sum(in_kernels.values()) / repeats * 1e3
    return {"communities": communities, "step_ms": step_ms, "steps_ms": steps_ms,
            "mechanisms_ms": mechanism_totals(steps_ms), "kernels_ms": kernel_ms,
            "in_kernels_ms": in_kernels_ms, "between_kernels_ms": step_ms - in_kernels_ms,
            "mechanisms_in_kernels_ms": mechanism_totals(in_kernels, 1e3 / repeats),
            "rest_ms": step_ms - sum(steps_ms.values())}


def bandwidth(megabytes: int = 800) -> float:
    """Memory bandwidth this process gets, GB/s, from a large array copy (read + write)."""
    import numpy as np

    src = np.ones(megabytes * 2**20 // 8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return 2 * src.nbytes / best / 1e9
