"""The log of a sweep's shards, ``shards.jsonl``: one line a closed shard (its files with their
size and sha256 and those of their parts, and each of its runs), appended by the folder's one
writer (:mod:`sim.experiments.shards`), read by every reader, and shortened by ``--compact``.

``--compact`` writes a merged shard whose line lists every run of the shards it merges again,
then removes those shards; their lines then name files that are gone and that no writer makes
again (a new shard takes a number no line and no file has used, and the merged shard's is the
highest).  :func:`shorten` drops them, as a whole new log: written beside the old one under a
hidden name (``.shards.jsonl.part``), flushed to disk, renamed over it, the folder flushed.
A crash leaves the old log or the new one, each of which gives every run the same home, and
at most the hidden file, which readers ignore and ``--resume`` or ``--compact`` removes.

A reader lists the shards' files and then reads the log (:func:`read_with_listing`): a line is
appended before its files are renamed into place, so every file listed has its line in the log
read after.  A log shortened between the two would not have it, nor the merged shard's line
the files listed before the merge: the reader holds the log open while it lists, and lists again
if the log was replaced meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from sim.experiments.output import FILE_MODE, OutputError, sync
from sim.experiments.parquet_parts import valid_parts

LOG = "shards.jsonl"
# The new log being written by shorten: a hidden name readers skip and leftovers are removed by.
LOG_PART = f".{LOG}.part"
# How many times a reader lists the files again when the log is replaced while it lists them:
# each replacement is one --compact, so more than a few in a row is a folder being rewritten
# by something else.
LISTING_TRIES = 5

Listed = TypeVar("Listed")


def is_line(entry: Any) -> bool:
    """Whether ``entry`` is a whole line of the log, as a shard's writer writes it."""
    if not (isinstance(entry, dict) and type(entry.get("shard")) is int
            and isinstance(entry.get("files"), dict) and isinstance(entry.get("runs"), list)):
        return False
    files_ok = all(isinstance(name, str) and isinstance(d, dict)
                   and isinstance(d.get("sha256"), str) and type(d.get("size")) is int
                   and valid_parts(d) for name, d in entry["files"].items())
    return files_ok and all(isinstance(r, dict) and isinstance(r.get("run_id"), str)
                            and isinstance(r.get("sha256"), str) for r in entry["runs"])


def _parsed(data: bytes) -> list[tuple[bytes, dict[str, Any]]]:
    """Each whole line of a log's bytes, as written and parsed; a line cut short by a crash
    records nothing."""
    lines = []
    for raw in data.splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(raw.decode("utf-8", errors="replace"))
            if is_line(entry):
                lines.append((raw, entry))
    return lines


def _unreadable(out: Path, err: OSError) -> OutputError:
    return OutputError(f"{out / LOG}: unreadable ({err.strerror or err})")


def read_log(out: Path) -> list[dict[str, Any]]:
    """The whole lines of ``out``'s log, in order."""
    try:
        data = (out / LOG).read_bytes()
    except FileNotFoundError:
        return []
    except OSError as err:
        raise _unreadable(out, err) from None
    return [entry for _, entry in _parsed(data)]


def read_with_listing(out: Path, listing: Callable[[], Listed]
                      ) -> tuple[Listed, list[dict[str, Any]]]:
    """``listing()`` of the shards' files, and the lines of the log as it was when it was
    taken or later, but never a log that replaced it since (see the module)."""
    for _ in range(LISTING_TRIES):
        try:
            log = (out / LOG).open("rb")
        except FileNotFoundError:
            log = None
        except OSError as err:
            raise _unreadable(out, err) from None
        try:
            listed = listing()
            lines = _unless_replaced(out, log)
        finally:
            if log is not None:
                log.close()
        if lines is not None:
            return listed, lines
    raise OutputError(f"{out / LOG}: replaced while the shards were listed, {LISTING_TRIES} "
                      "times in a row; is a --compact of it running?")


def _unless_replaced(out: Path, log: BinaryIO | None) -> list[dict[str, Any]] | None:
    """The lines of the log held open as ``log`` (None: there was none), or None if another
    file has taken its name since it was opened."""
    try:
        # The log held open keeps its inode: no other file can take its number meanwhile.
        held = None if log is None else os.fstat(log.fileno())
        try:
            now = os.stat(out / LOG)
        except FileNotFoundError:
            now = None
        if held is None or now is None:
            return [] if held is None and now is None else None
        if (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino):
            return None
        return [entry for _, entry in _parsed(log.read())]
    except OSError as err:
        raise _unreadable(out, err) from None


def append_line(out: Path, entry: dict[str, Any]) -> None:
    """Append ``entry`` to the log, on disk before this returns."""
    data = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
    fd = os.open(out / LOG, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        end = os.lseek(fd, 0, os.SEEK_END)
        if end and os.pread(fd, 1, end - 1) != b"\n":
            # A line cut short by a crash stays apart from this one.
            data = b"\n" + data
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def shorten(out: Path) -> int:
    """Drop from the log the lines none of whose files is in place, and lines cut short, and
    return how many lines were dropped; call it only holding the folder's lock, with no
    shard left open (no ``.part`` file a writer could still rename into place)."""
    try:
        data = (out / LOG).read_bytes()
    except FileNotFoundError:
        return 0
    kept = [raw for raw, entry in _parsed(data)
            if any((out / name).exists() for name in entry["files"])]
    dropped = len(data.splitlines()) - len(kept)
    if not dropped:
        return 0
    part = out / LOG_PART
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        try:
            write_whole(fd, b"".join(raw + b"\n" for raw in kept))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(part, out / LOG)
    except OSError:
        # A full disk: the old log stays, whole and in force.
        part.unlink(missing_ok=True)
        raise
    sync(out)
    return dropped


def write_whole(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
