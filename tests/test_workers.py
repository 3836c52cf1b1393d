"""The project's worker processes (sim.experiments.runs.worker_pool): what they do with memory."""

from __future__ import annotations

import gc

from conftest import small

from sim.experiments.runs import run_many, worker_pool


def _collector() -> tuple[int, int]:
    """In a worker: the objects frozen out of the garbage collector's reach, and those it
    tracks."""
    return gc.get_freeze_count(), len(gc.get_objects())


def test_a_worker_freezes_what_its_first_task_loaded_and_only_then():
    pool = worker_pool(1)
    try:
        frozen, loaded = pool.submit(_collector).result()
        assert frozen == 0 and loaded > 50_000
        # Frozen, the loaded objects no longer hold back the collector's full passes, which
        # wait for the objects it tracks to grow by a quarter.
        frozen, tracked = pool.submit(_collector).result()
        assert frozen > 50_000 and tracked < loaded / 10
    finally:
        pool.shutdown()


def test_the_process_that_starts_the_workers_freezes_nothing():
    scenario = small(**{"map.communities": 50, "run.steps": 4})
    run_many([(scenario, seed, None) for seed in (1, 2)], jobs=2)
    assert gc.get_freeze_count() == 0
