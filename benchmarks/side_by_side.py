"""The conflict model's weekly step, this checkout against another, measured in one run.

    git worktree add /tmp/before <commit>
    python benchmarks/side_by_side.py /tmp/before --sizes 10000 1000000 --repeats 3

With ``--python``, the other checkout runs under another interpreter (with its own packages);
given this checkout as the other, that compares interpreters on the same code:

    python benchmarks/side_by_side.py . --python .venv-mesa35/bin/python --sizes 4000

Each measurement is a fresh process of one checkout (alternating, so that both see the same
load) that builds the unchecked-contractor scenario at a size, warms up for 3 weeks, and times
more weeks in CPU time on one numba thread: on a shared machine CPU time moves less with the
load than wall time.  Each checkout compiles into its own numba cache.  Prints the best and the
median of each, and their ratio (this checkout / the other).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = {4_000: 300, 10_000: 200, 100_000: 40}
_STEP = r"""
import json, sys, time
root, n, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, root)
import sim
assert sim.__file__.startswith(root), sim.__file__
try:
    from sim.core.model import BlowbackModel
    from sim.core.scenario import load_scenario
except ImportError:  # checkouts from before the layout by layer
    from sim.model import BlowbackModel
    from sim.scenario import load_scenario
spec = load_scenario(root + "/scenarios/contractor_unchecked.toml").with_overrides(
    **{"map.communities": n, "run.steps": steps + 3})
model = BlowbackModel(spec, agents=False)
model.run(3)
start = time.process_time()
model.run(steps)
print(json.dumps((time.process_time() - start) / steps * 1e3))
"""


def step_ms(root: Path, communities: int, cache: Path, python: str = sys.executable) -> float:
    """CPU milliseconds per weekly step of ``root``'s model at ``communities``, run by the
    interpreter ``python``."""
    steps = STEPS.get(communities, 8)
    env = os.environ | {"NUMBA_CACHE_DIR": str(cache), "NUMBA_NUM_THREADS": "1"}
    done = subprocess.run([python, "-c", _STEP, str(root), str(communities), str(steps)],
                          env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        raise SystemExit(f"side_by_side: {root}: {lines[-1]}")
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("other", type=Path, help="another checkout of the project")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter that runs the other checkout (default: this one)")
    args = parser.parse_args(argv)
    # Absolute, since each step runs elsewhere; not resolved, which would leave a venv.
    roots = {"this": (ROOT, sys.executable),
             "other": (args.other.resolve(), os.path.abspath(args.python))}
    times: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            for label, (root, python) in roots.items():
                for n in args.sizes:
                    ms = step_ms(root, n, Path(tmp) / label, python)
                    times.setdefault((label, n), []).append(ms)
    for n in args.sizes:
        this, other = times[("this", n)], times[("other", n)]
        print(json.dumps({"communities": n, "this_best_ms": min(this), "other_best_ms": min(other),
                          "ratio_best": min(this) / min(other),
                          "this_median_ms": statistics.median(this),
                          "other_median_ms": statistics.median(other)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
