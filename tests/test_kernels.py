"""Each kernel gives the same numbers compiled and as plain Python; draws depend on keys only."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from conftest import ROOT, small, without_jit

from sim.core import rng
from sim.core.compiled import PARALLEL_FROM, quiet, threads_for
from sim.core.model import BlowbackModel
from sim.core.week import kernels
from sim.mechanisms.m01_power_projection import MOVE

KERNELS = kernels()

TINY = {"map.communities": 400, "map.width": 32, "map.height": 24, "run.steps": 12,
        "insurgents.bands": 16, "state.units": 12}


def _state(model) -> dict[str, np.ndarray]:
    c, f, b, cells = model.communities, model.forces, model.bands, model.cells
    out = {f"communities.{k}": getattr(c, k) for k in (
        "population", "displaced", "dead", "cooperation", "support", "grievance", "memory",
        "insurgent_memory", "fear")}
    out |= {f"forces.{k}": getattr(f, k) for k in (
        "cell", "strength", "skill", "restraint", "discrimination", "guard", "seen_abuses",
        "seen_punished", "active")}
    out |= {f"bands.{k}": getattr(b, k) for k in ("cell", "strength", "active", "faction")}
    out |= {"cells.control": cells.control, "militias": model.militias,
            "militia_memory": model.militia_memory}
    out |= {k: np.asarray(v, dtype=float) for k, v in model.records.items() if k != "date"}
    return out


def _run(scenario) -> dict[str, np.ndarray]:
    model = BlowbackModel(scenario, agents=False)
    # Militias of the central farmers in every inhabited cell, so that M15's kernels have
    # something to do in a run too short for militias to form.
    model.militias[np.unique(model.communities.cell), 2] = 100.0
    return _state(model.run())


def test_every_kernel_of_the_week_is_declared():
    """The 24 kernels the week's steps call are declared by their mechanisms."""
    assert len(KERNELS) == 24 and "update_attitudes" in KERNELS and "tally_cells" in KERNELS


@pytest.mark.parametrize("name", KERNELS)
def test_kernel_as_plain_python_matches_compiled(monkeypatch, name):
    scenario = small("contractor_unchecked", **TINY)
    compiled = _run(scenario)
    module = importlib.import_module(KERNELS[name])
    monkeypatch.setattr(module, name, getattr(module, name).py_func)
    plain = _run(scenario)
    for key, values in compiled.items():
        np.testing.assert_array_equal(plain[key], values, err_msg=key)


def test_whole_model_without_jit_matches_compiled():
    overrides = TINY | {"run.steps": 6}
    code = (
        "import json, sys\n"
        "from sim.core.model import BlowbackModel\n"
        "from sim.core.scenario import load_scenario\n"
        f"s = load_scenario({str(ROOT / 'scenarios' / 'contractor_unchecked.toml')!r})"
        f".with_overrides(**{overrides!r})\n"
        "m = BlowbackModel(s, agents=False).run()\n"
        "rec = {k: v for k, v in m.records.items() if k != 'date'}\n"
        "rec['population'] = m.communities.population.tolist()\n"
        "rec['cooperation'] = m.communities.cooperation.tolist()\n"
        "json.dump(rec, sys.stdout)\n"
    )
    plain = without_jit(code)
    model = BlowbackModel(small("contractor_unchecked", **overrides), agents=False).run()
    compiled = {k: v for k, v in model.records.items() if k != "date"}
    compiled["population"] = model.communities.population.tolist()
    compiled["cooperation"] = model.communities.cooperation.tolist()
    for key, values in compiled.items():
        np.testing.assert_array_equal(np.asarray(plain[key], float), np.asarray(values, float),
                                      err_msg=key)


def test_uniform_is_a_pure_function_of_its_key():
    with quiet():
        a = [rng.uniform(7, 3, e, MOVE, 0) for e in range(1000)]
        b = [rng.uniform(7, 3, e, MOVE, 0) for e in range(1000)]
        plain = [rng.uniform.py_func(7, 3, e, MOVE, 0) for e in range(1000)]
        other = [rng.uniform(8, 3, e, MOVE, 0) for e in range(1000)]
    assert a == b == plain
    assert a != other
    arr = np.array(a)
    assert (arr >= 0).all() and (arr < 1).all()
    assert abs(arr.mean() - 0.5) < 0.03
    # neighbouring keys are uncorrelated
    assert abs(np.corrcoef(arr[:-1], arr[1:])[0, 1]) < 0.1


def test_poisson_and_pareto_have_the_right_shape():
    with quiet():
        small_lam = np.array([rng.poisson(1, 0, e, 1, 3.0) for e in range(4000)])
        large_lam = np.array([rng.poisson(1, 0, e, 1, 200.0) for e in range(4000)])
        tail = np.array([rng.pareto(1, 0, e, 2, 10.0, 1.2) for e in range(20000)])
    assert abs(small_lam.mean() - 3.0) < 0.15 and abs(small_lam.var() - 3.0) < 0.4
    assert abs(large_lam.mean() - 200.0) < 2.0
    assert tail.min() >= 10.0
    # P(X > 100) = (10/100)^1.2 = 0.063
    assert abs((tail > 100).mean() - 0.063) < 0.01


def test_results_do_not_depend_on_the_number_of_threads():
    """The parallel kernels write one row per iteration and reduce serially.  The map is large
    enough for the model to run its parallel loops on every thread."""
    communities = PARALLEL_FROM + 5_000
    code = (
        "import json, sys\n"
        "from sim.core.model import BlowbackModel\n"
        "from sim.core.scenario import load_scenario\n"
        f"s = load_scenario({str(ROOT / 'scenarios' / 'contractor_unchecked.toml')!r})"
        f".with_overrides(**{{'map.communities': {communities}, 'run.steps': 30}})\n"
        "m = BlowbackModel(s, agents=False).run()\n"
        "rec = {k: v for k, v in m.records.items() if k != 'date'}\n"
        "rec['cooperation'] = m.communities.cooperation.tolist()\n"
        "json.dump(rec, sys.stdout)\n"
    )
    runs = []
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, timeout=600, check=True)
        runs.append(json.loads(done.stdout))
    assert runs[0] == runs[1]


def test_a_small_map_runs_its_parallel_loops_on_one_thread_and_gives_the_threads_back():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one numba thread on this machine")
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        with threads_for(PARALLEL_FROM - 1):
            assert numba.get_num_threads() == 1
        assert numba.get_num_threads() == 2
        with threads_for(PARALLEL_FROM):
            assert numba.get_num_threads() == 2
        with pytest.raises(KeyError), threads_for(10):
            raise KeyError("a step failed")
        assert numba.get_num_threads() == 2
    finally:
        numba.set_num_threads(before)


def test_parallel_kernels_parallelise_their_prange_loops_alone():
    """Every parallel kernel takes ``PRANGE_ONLY``, and it still says prange loops alone after
    the kernels have been compiled: numba empties a dict of options as it reads it, which would
    turn fusion and parallel array filling back on for a kernel's next signature."""
    import pkgutil

    from sim.core.compiled import PRANGE_ONLY

    parallel = {}
    packages = [importlib.import_module(f"sim.{p}") for p in ("core", "world", "mechanisms",
                                                              "classics")]
    for info in (i for p in packages for i in pkgutil.walk_packages(p.__path__, f"{p.__name__}.")
                 if not i.name.endswith("__main__")):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            options = getattr(value, "targetoptions", None)
            if options and options.get("parallel") and value.__module__ == info.name:
                parallel[f"{info.name}.{name}"] = options["parallel"]
    assert len(parallel) >= 5 and "sim.mechanisms.attitudes._update_attitudes" in parallel
    assert all(options is PRANGE_ONLY for options in parallel.values()), parallel
    BlowbackModel(small(**TINY), agents=False).run(2)
    assert PRANGE_ONLY.prange and not (PRANGE_ONLY.fusion or PRANGE_ONLY.numpy
                                       or PRANGE_ONLY.reduction or PRANGE_ONLY.setitem)


def test_purposes_are_derived_from_their_names():
    """Each purpose is a hash of its name: stable across runs and processes, below 2^63, and
    different for every name the package uses."""
    import pkgutil

    import sim.mechanisms
    from sim.world import deployment, events, geography

    assert rng.purpose("m05.recruit") == rng.purpose("m05.recruit") < 2**63
    assert rng.purpose("m05.recruit") != rng.purpose("m05.recruits")
    modules = [importlib.import_module(f"sim.mechanisms.{m.name}")
               for m in pkgutil.iter_modules(sim.mechanisms.__path__)]
    used = []
    for module in (*modules, events, deployment, geography):
        for name, value in vars(module).items():
            values = value.values() if isinstance(value, dict) else [value]
            if name.isupper() and any(isinstance(v, np.int64) and v >= 2**32 for v in values):
                used += [int(v) for v in values if isinstance(v, np.int64)]
    assert len(used) >= 20 and len(set(used)) == len(used)


def test_a_draw_is_compiled_once_for_every_purpose():
    """Purposes are numpy integers, which numba types by their type: a Python integer constant
    is typed as its value, and each purpose would compile the draws again."""
    from numba import njit
    from numba.core import types

    first, second = rng.purpose("test.first"), rng.purpose("test.second")

    @njit
    def two_draws(seed):
        return rng.uniform(seed, 0, 0, first, 0) + rng.poisson(seed, 0, 0, second, 2.0)

    two_draws(1)
    for draw in (rng.uniform, rng.poisson):
        purposes = [signature[3] for signature in draw.signatures]
        assert purposes and not any(isinstance(p, types.Literal) for p in purposes), purposes
