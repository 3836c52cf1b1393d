"""The project's worker processes (sim.experiments.runs.worker_pool): what they do with memory."""

from __future__ import annotations

import gc
import subprocess
import sys

from conftest import small

from sim.experiments.runs import run_many, worker_pool

# What the interpreter itself starts with frozen: none up to Python 3.11, a few hundred of its
# own objects from 3.12 on.
AT_START = int(subprocess.run([sys.executable, "-c", "import gc; print(gc.get_freeze_count())"],
                              capture_output=True, text=True, check=True).stdout)


def _collector() -> tuple[int, int]:
    """In a worker: the objects frozen out of the garbage collector's reach, and those it
    tracks."""
    return gc.get_freeze_count(), len(gc.get_objects())


def test_a_worker_freezes_what_its_first_task_loaded_and_only_then():
    pool = worker_pool(1)
    try:
        frozen, loaded = pool.submit(_collector).result()
        assert frozen == AT_START and loaded > 50_000
        # Frozen, the loaded objects no longer hold back the collector's full passes, which
        # wait for the objects it tracks to grow by a quarter.
        frozen, tracked = pool.submit(_collector).result()
        assert frozen > AT_START + 50_000 and tracked < loaded / 10
    finally:
        pool.shutdown()


def test_the_process_that_starts_the_workers_freezes_nothing():
    scenario = small(**{"map.communities": 50, "run.steps": 4})
    run_many([(scenario, seed, None) for seed in (1, 2)], jobs=2)
    assert gc.get_freeze_count() == AT_START
