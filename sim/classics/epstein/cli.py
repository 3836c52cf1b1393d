"""The commands of ``python -m sim.classics.epstein``: ``outbursts RUN.toml`` and ``bench``."""

from __future__ import annotations

import argparse
import json
import tomllib
from collections.abc import Sequence
from pathlib import Path

from sim.classics.epstein.bench import benchmark
from sim.classics.epstein.bursts import outburst_stats
from sim.classics.epstein.runs import open_run


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.classics.epstein outbursts RUN.toml`` or ``... bench``."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.classics.epstein",
        description="Epstein's civil-violence model (Models I and II): the outbursts of one of "
                    "the paper's runs (scenarios/epstein/*.toml), or its speed against Mesa's "
                    "example.")
    sub = parser.add_subparsers(dest="command", required=True)
    o = sub.add_parser("outbursts", help="waiting times and sizes of outbursts of a run file")
    o.add_argument("run", type=Path)
    o.add_argument("--seeds", type=int, default=10)
    o.add_argument("--steps", type=int, default=None, help="default: the file's max_iters")
    o.add_argument("--threshold", type=int, default=50)
    o.add_argument("--skip", type=int, default=100, help="transient steps left out")
    o.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="change an argument of the file (VALUE in TOML), e.g. ratio='\"round\"'")
    b = sub.add_parser("bench", help="agent-steps per second against Mesa's example")
    b.add_argument("--sizes", type=int, nargs="+", default=[40, 200])
    b.add_argument("--mesa-steps", type=int, default=20)
    b.add_argument("--steps", type=int, default=2000)
    b.add_argument("--batches", type=int, default=5)
    args = parser.parse_args(argv)
    if args.command == "outbursts":
        changes = {k: v for item in args.set for k, v in tomllib.loads(item).items()}
        frames = []
        for seed in range(args.seeds):
            model = open_run(args.run, seed=seed, **changes)
            for _ in range(args.steps or model.max_iters):
                model.step()
            frames.append(model.series_frame())
        stats = outburst_stats(frames, args.threshold, args.skip)
        print(json.dumps({"run": str(args.run), "seeds": args.seeds, "changes": changes}
                         | stats, indent=1))
    else:
        for size in args.sizes:
            print(json.dumps(benchmark(size, args.mesa_steps, args.steps, args.batches)),
                  flush=True)
    return 0
