"""Shared fixtures; the numba cache of the tests lives in its own folder, set before numba loads."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache" / "tests"))

import pytest  # noqa: E402

from sim.core.scenario import load_scenario  # noqa: E402

SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="session")
def scenarios_dir() -> Path:
    """The shipped scenario files."""
    return SCENARIOS


def small(name: str = "base", **changes):
    """A shipped scenario on a small map, short run: for tests that need many runs."""
    overrides = {"map.communities": 1500, "run.steps": 104} | changes
    return load_scenario(SCENARIOS / f"{name}.toml").with_overrides(**overrides)
