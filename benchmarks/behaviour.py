"""The behaviour record: what every shipped scenario gives on three seeds, kept as digests.

A change that only reorganises the code must leave every number where it was.  ``record``
runs each scenario of ``scenarios/*.toml`` (and each Epstein run of ``scenarios/epstein/``) on
seeds 1-3 and writes, per run, a sha256 of its summary and one of every weekly series column;
``check`` runs them again and names each run and column whose digest moved.

    python benchmarks/behaviour.py check            # exit 1 and a list if anything moved
    python benchmarks/behaviour.py record           # after a change that is meant to move them

Digests are of the exact bytes, so the record holds for one machine and library set; the
record names the versions it was made with.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RECORD = Path(__file__).resolve().parent / "behaviour-record.json"
SEEDS = (1, 2, 3)
EPSTEIN_STEPS = 100


def _digest(values: np.ndarray | bytes | str) -> str:
    if isinstance(values, str):
        values = values.encode()
    elif isinstance(values, np.ndarray):
        values = np.ascontiguousarray(values).tobytes()
    return hashlib.sha256(values).hexdigest()[:16]


def _conflict(path: str, seed: int) -> dict[str, str]:
    import sim

    s = sim.Sim(path, seed=seed, agents=False).run()
    out = {"summary": _digest(json.dumps(s.summary(), sort_keys=True))}
    for column, values in s.results.items():
        array = values.to_numpy()
        out[column] = _digest(array if array.dtype != object else repr(list(array)))
    return out


def _epstein(path: str, seed: int) -> dict[str, str]:
    from sim.classics.epstein import open_run

    model = open_run(path, seed=seed)
    for _ in range(EPSTEIN_STEPS):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    return {column: _digest(frame[column].to_numpy()) for column in frame.columns}


def _task(kind: str, path: str, seed: int) -> tuple[str, dict[str, str]]:
    run = _conflict if kind == "conflict" else _epstein
    return f"{Path(path).relative_to(ROOT)}@{seed}", run(path, seed)


def _tasks() -> list[tuple[str, str, int]]:
    conflict = sorted((ROOT / "scenarios").glob("*.toml"))
    epstein = sorted((ROOT / "scenarios" / "epstein").glob("*.toml"))
    return [(kind, str(p), s) for kind, paths in (("conflict", conflict), ("epstein", epstein))
            for p in paths for s in SEEDS]


def measure(jobs: int) -> dict[str, dict[str, str]]:
    """Digests of every run of the record, keyed ``scenarios/NAME.toml@SEED``."""
    tasks = _tasks()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        done = pool.map(_task, *zip(*tasks, strict=True))
        return dict(sorted(done))


def _versions() -> dict[str, str]:
    import mesa
    import numba
    import pandas

    return {"python": sys.version.split()[0], "numpy": np.__version__,
            "numba": numba.__version__, "pandas": pandas.__version__, "mesa": mesa.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("record", "check"))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    runs = measure(args.jobs)
    if args.action == "record":
        RECORD.write_text(json.dumps({"versions": _versions(), "runs": runs}, indent=1) + "\n")
        print(f"recorded {len(runs)} runs in {RECORD.relative_to(ROOT)}")
        return 0
    kept = json.loads(RECORD.read_text())
    if kept["versions"] != _versions():
        print(f"note: recorded with {kept['versions']}, now {_versions()}")
    moved = [f"{run}: {key}" for run, digests in kept["runs"].items()
             for key, value in digests.items() if runs.get(run, {}).get(key) != value]
    extra = sorted(set(runs) - set(kept["runs"]))
    for line in moved + [f"{run}: not in the record" for run in extra]:
        print(line)
    print(f"{len(kept['runs'])} runs recorded, {len(moved)} digests moved, {len(extra)} new runs")
    return 1 if moved or extra else 0


if __name__ == "__main__":
    sys.exit(main())
