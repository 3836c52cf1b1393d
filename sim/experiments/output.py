"""Output folders and files, written whole or not at all.

Everything Blowback writes (a run's folder, a comparison's, an analysis, a sweep's files, the
benchmark report) is first written under a temporary dot-name beside its place, flushed to disk
and renamed into place: an interruption, a full disk or a power cut leaves the previous output
or none, never half of one.  An existing folder is replaced only if it holds nothing but
Blowback's own files of that kind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

# Resolution of every figure of a report.
DPI = 120


class OutputError(RuntimeError):
    """An output folder cannot be written as asked (one line, for the CLI)."""


def check_replaceable(out: Path, own: frozenset[str]) -> None:
    """Refuse to replace ``out`` unless it is missing, empty, or holds only our own files."""
    if not out.exists():
        return
    if not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; choose another --out")
    names = {p.name for p in out.iterdir()}
    if not names <= own:
        raise OutputError(f"{out}: holds files that are not Blowback's output; "
                          "choose an empty or new folder for --out")


@contextlib.contextmanager
def atomic_folder(out: str | Path, own: frozenset[str]) -> Iterator[Path]:
    """A temporary folder beside ``out`` to write into; when the block ends well it replaces
    ``out`` whole, and when it fails it is removed, so ``out`` is never half-written.  An
    existing ``out`` is replaced only if it holds nothing but files named in ``own``."""
    out = Path(out)
    check_replaceable(out, own)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    except OSError as err:
        raise OutputError(f"{out}: cannot write there ({err.strerror or err}); choose another "
                          "--out") from None
    try:
        yield tmp
        # Files and entries on disk before the rename, so a power cut cannot leave them empty.
        for path in (*tmp.iterdir(), tmp):
            sync(path)
        swap_into_place(tmp, out)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        # A full disk or a folder gone read-only: one line, and nothing half-written left.
        raise OutputError(f"{out}: cannot write ({err.strerror or err}); nothing was written "
                          "there") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def swap_into_place(tmp: Path, out: Path) -> None:
    """Rename a finished temporary folder to ``out``, replacing a previous output whole."""
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
        os.replace(out, old / "run")
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def write_atomic(path: Path, write: Callable[[Path], Any]) -> None:
    """Write one file whole: ``write`` fills a temporary file beside ``path``, which is flushed
    to disk and renamed into place; on failure it is removed and the error raised."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        # On disk before the rename, so that a power cut leaves the file whole or absent.
        sync(tmp)
        os.replace(tmp, path)
    except BaseException:
        # A folder gone read-only refuses this too; a sweep's --resume removes what is left.
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    sync(path.parent)


def sync(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_report(out: str | Path, own: frozenset[str], *,
                 tables: Mapping[str, pd.DataFrame] | None = None,
                 texts: Mapping[str, str] | None = None,
                 figures: Mapping[str, Callable[[], Any]] | None = None,
                 formats: tuple[str, ...] = ("png", "svg")) -> Path:
    """Write a report folder ``out`` whole (:func:`atomic_folder`): each table as CSV under its
    file name, each text as it is, and each figure, drawn by its function inside the folder's
    block (so a failed drawing leaves nothing), as ``name.<format>`` for each of ``formats``."""
    with atomic_folder(out, own) as tmp:
        for name, table in (tables or {}).items():
            table.to_csv(tmp / name, index=False)
        for name, text in (texts or {}).items():
            (tmp / name).write_text(text)
        for name, draw in (figures or {}).items():
            save_figure(draw(), tmp, name, formats)
    return Path(out)


def save_figure(fig: Any, folder: Path, name: str,
                formats: tuple[str, ...] = ("png", "svg")) -> None:
    """Save a matplotlib figure as ``name.<format>`` in ``folder`` for each of ``formats``, and
    close it."""
    import matplotlib.pyplot as plt

    for ext in formats:
        fig.savefig(folder / f"{name}.{ext}", dpi=DPI)
    plt.close(fig)
