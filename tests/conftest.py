"""Shared fixtures; the numba cache of the tests lives in its own folder, set before numba loads."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache" / "tests"))

import pytest  # noqa: E402
from hypothesis import HealthCheck  # noqa: E402

from sim.core.scenario import load_scenario  # noqa: E402

SCENARIOS = ROOT / "scenarios"
# The least a map may be drawn at, in pixels a map unit (the browser test checks every screen,
# one run and side by side): its town names (11 units) are then 8 pixels high or more, and the
# symbols' casing is sized for it.  Side by side at 1024x768 the maps are drawn at 0.759, at
# 1280x800 at 1.12.
MAP_SCALE = 0.75


@pytest.fixture(autouse=True)
def _figures_closed_after_each_test():
    """Close the pyplot figures a test leaves open (the API returns its figures to the caller,
    as a notebook wants): past 20 open in one worker, pyplot warns, and warnings are errors, so
    a test would fail for what other tests on its worker drew before it."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


@pytest.fixture(scope="session")
def scenarios_dir() -> Path:
    """The shipped scenario files."""
    return SCENARIOS


def small(name: str = "base", **changes):
    """A shipped scenario on a small map, short run: for tests that need many runs."""
    overrides = {"map.communities": 1500, "run.steps": 104} | changes
    return load_scenario(SCENARIOS / f"{name}.toml").with_overrides(**overrides)


def shrunk(folder: Path, name: str, communities: int = 300) -> Path:
    """A scenario file ``folder/NAME.toml`` that extends the shipped ``name`` on a map of
    ``communities``: runs of a regime that take a fraction of a second."""
    path = folder / f"{name}.toml"
    path.write_text(f'extends = "{SCENARIOS / (name + ".toml")}"\n[map]\ncommunities = '
                    f"{communities}\n")
    return path


PREFIX = "blowback: error: "
# Hypothesis settings of the generated inputs: the same examples on every machine and run.
REPRODUCIBLE = dict(derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


def blowback(capsys, *args: str) -> tuple[int, str, str]:
    """The exit status, stdout and stderr of ``blowback ARGS``, run in this process."""
    from sim.interfaces.cli import main

    try:
        status = main(list(args))
    except SystemExit as stop:  # argparse's own errors
        status = stop.code
    out, err = capsys.readouterr()
    return status, out, err


def assert_refused(status: int, err: str, expected: str | None = None) -> None:
    """A refusal as the command line promises it: exit 2, one line on stderr, no traceback."""
    assert status == 2, err
    assert err.startswith(PREFIX) and err.endswith("\n"), err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    if expected is not None:
        assert expected in err, err


def dashboard_address(server: subprocess.Popen, log: Path, seconds: float = 120) -> str:
    """The address ``blowback dashboard --port 0`` printed to ``log`` once it is serving: the
    port is the one its sockets were given, so no other program can have taken it between a
    test's choice and the server's start."""
    deadline = time.monotonic() + seconds
    while True:
        found = re.search(r"Blowback dashboard: (http://\S+)", log.read_text())
        if found:
            return found.group(1) + "/"
        if server.poll() is not None:
            pytest.fail(f"the dashboard exited ({server.returncode}): {log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"the dashboard printed no address within {seconds:.0f} s")
        time.sleep(0.3)


def without_jit(code: str) -> object:
    """What ``code`` prints as JSON when run as plain Python: ``NUMBA_DISABLE_JIT=1`` must be
    set before numba loads, so the code runs in a subprocess (from the repository's root, with
    ``tests/`` importable), where a RuntimeWarning is an error."""
    import json

    env = dict(os.environ, NUMBA_DISABLE_JIT="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "tests"),
                                                        os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code],
                          capture_output=True, text=True, env=env, timeout=600, check=True,
                          cwd=ROOT)
    return json.loads(done.stdout)


# Under pytest-xdist each worker, and each worker process of a sweep under test, would compile
# the same kernels at the same time into an empty cache: on 2 cores, three or four compiles of a
# minute each at once.  Two processes fill the cache first, side by side: one compiles the
# model's kernels and their ``together`` forms, the other runs Epstein's Models I and II.
COMPILE_KERNELS = (
    """
from sim.core.scenario import load_scenario
from sim.experiments.runs import compile_kernels
compile_kernels(load_scenario("scenarios/mali_2013_2024.toml").with_overrides(
    **{"map.communities": 300}))
""",
    """
from sim.classics.epstein import EpsteinCivilViolence, EpsteinEthnicViolence
for model in (EpsteinCivilViolence(width=12, height=12),
              EpsteinEthnicViolence(width=12, height=12)):
    for _ in range(3):
        model.step()
""")


# The longest the compiling may take before the tests start without it (seconds).
COMPILE_SECONDS = 900


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the kernels into the tests' cache before the workers of ``-n`` start (the
    controller's hook runs before pytest-xdist's, which starts them).  A failure here is only
    reported: the tests that run the same code fail with the whole error."""
    config = session.config
    if (hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", 0)
            or os.environ.get("NUMBA_DISABLE_JIT") == "1"):
        return
    compiling = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, text=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for code in COMPILE_KERNELS]
    for process in compiling:
        try:
            _, err = process.communicate(timeout=COMPILE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            err = f"no end after {COMPILE_SECONDS} s"
        if process.returncode != 0:
            last = (err.strip().splitlines() or [f"exit status {process.returncode}"])[-1]
            config.get_terminal_writer().line(f"compiling the kernels before the tests failed: "
                                              f"{last}")
