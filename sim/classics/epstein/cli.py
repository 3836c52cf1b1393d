"""The commands of ``python -m sim.classics.epstein``: ``outbursts RUN.toml`` and ``bench``."""

from __future__ import annotations

import argparse
import json
import math
import sys
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sim.classics.epstein.bench import benchmark
from sim.classics.epstein.bursts import outburst_stats
from sim.classics.epstein.runs import open_run


def _at_least(low: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``low`` (the classic keeps to itself, so it
    does not borrow the conflict model's command line for this)."""
    def whole(text: str) -> int:
        if not text.strip().lstrip("+-").isdigit():
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer")
        if int(text) < low:
            raise argparse.ArgumentTypeError(f"{text} must be at least {low}")
        return int(text)
    return whole


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.classics.epstein outbursts RUN.toml`` or ``... bench``."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.classics.epstein",
        description="Epstein's civil-violence model (Models I and II): the outbursts of one of "
                    "the paper's runs (scenarios/epstein/*.toml), or its speed against Mesa's "
                    "example.")
    sub = parser.add_subparsers(dest="command", required=True)
    o = sub.add_parser("outbursts", help="waiting times and sizes of outbursts of a run file")
    o.add_argument("run", type=Path, help="a run file (scenarios/epstein/*.toml)")
    o.add_argument("--seeds", type=_at_least(1), default=10, help="runs, seeds 0 to N-1")
    o.add_argument("--steps", type=_at_least(1), default=None,
                   help="default: the file's max_iters")
    o.add_argument("--threshold", type=_at_least(1), default=50,
                   help="active citizens at which an outburst starts")
    o.add_argument("--skip", type=_at_least(0), default=100, help="transient steps left out")
    o.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="change an argument of the file (VALUE in TOML), e.g. ratio='\"round\"'")
    b = sub.add_parser("bench", help="agent-steps per second against Mesa's example")
    b.add_argument("--sizes", type=_at_least(2), nargs="+", default=[40, 200],
                   help="sides of the square grid")
    b.add_argument("--mesa-steps", type=_at_least(1), default=20)
    b.add_argument("--steps", type=_at_least(1), default=2000)
    b.add_argument("--batches", type=_at_least(1), default=5)
    args = parser.parse_args(argv)
    if args.command == "outbursts":
        try:
            result = _outbursts(args)
        except ValueError as err:
            # A bad run file or --set (open_run and _outbursts say each as a ValueError): one
            # line, as the project's commands say it.
            print(f"{parser.prog}: error: {err}", file=sys.stderr)
            return 2
        print(json.dumps(result, indent=1, allow_nan=False))
    else:
        for size in args.sizes:
            print(json.dumps(benchmark(size, args.mesa_steps, args.steps, args.batches)),
                  flush=True)
    return 0


def _outbursts(args: argparse.Namespace) -> dict[str, Any]:
    """The ``outbursts`` command's result: its run, seeds and changes, and the statistics."""
    changes = {}
    for item in args.set:
        try:
            changes |= tomllib.loads(item)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"--set {item}: not KEY=VALUE with VALUE in TOML ({err})") from None
    frames = []
    for seed in range(args.seeds):
        model = open_run(args.run, seed=seed, **changes)
        for _ in range(args.steps or model.max_iters):
            model.step()
        frames.append(model.series_frame())
    stats = outburst_stats(frames, args.threshold, args.skip)
    # JSON has no NaN: a statistic that no outburst defines is null.
    stats = {k: None if math.isnan(v) else v for k, v in stats.items()}
    return {"run": str(args.run), "seeds": args.seeds, "changes": changes} | stats
