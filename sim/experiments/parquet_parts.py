"""Checksums of a Parquet file's parts, so that a filtered read checks only the bytes it reads.

A sweep's log records, beside each file's size and sha256, the span and sha256 of each of its
row groups and of its footer (everything after the last row group: the metadata that says where
the row groups are, with their statistics).  A load that keeps some runs reads the footer and
the row groups whose statistics can match, and checks exactly those: a merged file of a whole
design is not read through to its end to serve one scenario.  Files whose line has no parts
(written before parts were recorded) are checked whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from sim.experiments.output import OutputError, unreadable


def spans(path: Path) -> list[tuple[int, int]]:
    """``(start, stop)`` of each row group's bytes, in order, then of the footer."""
    meta = pq.ParquetFile(path).metadata
    out = []
    for r in range(meta.num_row_groups):
        group = meta.row_group(r)
        starts, stops = [], []
        for c in range(group.num_columns):
            column = group.column(c)
            start = (column.dictionary_page_offset if column.has_dictionary_page
                     else column.data_page_offset)
            starts.append(start)
            stops.append(start + column.total_compressed_size)
        out.append((min(starts), max(stops)))
    end = out[-1][1] if out else 4  # after the leading magic bytes
    return [*out, (end, path.stat().st_size)]


def _sha256(f, start: int, stop: int, *more) -> str:
    """The sha256 of bytes ``start`` to ``stop`` of ``f``, fed to the hashes ``more`` too."""
    sha = hashlib.sha256()
    f.seek(start)
    left = stop - start
    while left > 0:
        block = f.read(min(left, 1 << 20))
        if not block:
            break
        for each in (sha, *more):
            each.update(block)
        left -= len(block)
    return sha.hexdigest()


def parquet_digest(path: Path) -> dict[str, Any]:
    """A Parquet file's size and sha256, and its ``parts``: ``[start, stop, sha256]`` of each
    row group, then of the footer; the file is read once."""
    whole = hashlib.sha256()
    parts, done = [], 0
    with path.open("rb") as f:
        for start, stop in spans(path):
            # Bytes between parts (the leading magic bytes) count in the whole file's sha256.
            _sha256(f, done, start, whole)
            parts.append([start, stop, _sha256(f, start, stop, whole)])
            done = stop
    return {"size": path.stat().st_size, "sha256": whole.hexdigest(), "parts": parts}


def valid_parts(recorded: Mapping[str, Any]) -> bool:
    """Whether a log entry's ``parts``, if it has them, are spans with checksums (the footer's
    at least)."""
    parts = recorded.get("parts")
    return parts is None or (isinstance(parts, list) and len(parts) > 0 and all(
        isinstance(p, list) and len(p) == 3 and type(p[0]) is int and type(p[1]) is int
        and isinstance(p[2], str) for p in parts))


def check_footer(path: Path, recorded: Mapping[str, Any], redo: str) -> None:
    """Refuse, in one line naming it, ``path`` if its size or its footer differs from
    ``recorded``'s: what must hold before its metadata says where its row groups are."""
    footer = len(recorded["parts"]) - 1
    _compare(path, recorded, [("footer", footer)], redo)


def check_row_groups(path: Path, recorded: Mapping[str, Any], row_groups: Sequence[int],
                     redo: str) -> None:
    """Refuse, in one line naming it, ``path`` if one of its ``row_groups`` differs from its
    recorded checksum or has none (its footer checked before)."""
    footer = len(recorded["parts"]) - 1
    for group in row_groups:
        if not 0 <= group < footer:
            raise OutputError(f"{path}: damaged (its row group {group} has no checksum in the "
                              f"folder's log); {redo}")
    _compare(path, recorded, [(f"row group {group}", group) for group in row_groups], redo)


def _compare(path: Path, recorded: Mapping[str, Any], named: list[tuple[str, int]],
             redo: str) -> None:
    """Refuse ``path`` if its size, or one of the ``(what, index)`` parts, differs."""
    try:
        size = path.stat().st_size
        if size != recorded["size"]:
            raise OutputError(f"{path}: damaged ({size} bytes, {recorded['size']} recorded "
                              f"when it was written); {redo}")
        with path.open("rb") as f:
            for what, index in named:
                start, stop, sha256 = recorded["parts"][index]
                if _sha256(f, start, stop) != sha256:
                    raise OutputError(f"{path}: damaged (its {what} differs from the one "
                                      f"recorded when it was written); {redo}")
    except FileNotFoundError as err:
        raise OutputError(f"{path}: unreadable ({err.strerror or err}); {redo}") from None
    except OSError as err:
        raise unreadable(path, err) from None
