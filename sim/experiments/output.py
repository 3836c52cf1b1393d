"""Output folders and files, written whole or not at all, with a checksum of every file.

Everything Blowback writes (a run's folder, a comparison's, an analysis, a sweep's files, the
benchmark report) is first written under a temporary dot-name beside its place, flushed to disk
and renamed into place: an interruption, a full disk or a power cut leaves the previous output
or none, never half of one.  An existing folder is replaced only if it holds nothing but
Blowback's own files of that kind, and the commands replace one only with ``--force``
(:func:`check_replaceable`).  Just before a folder is renamed into place, :func:`atomic_folder`
writes its ``manifest.json``: what the folder holds, the size and sha256 of each file, which
readers check (:func:`verified`) so that a file cut short, edited or copied in is refused, and
what made it (``made_by``: the command as run, its input files with their sha256, the versions
and the git commit; :mod:`sim.experiments.made_by`), which readers do not need.  A
folder written before manifests is refused too, with a line saying how to redo it: its files
cannot be checked, and accepting them with a warning would let a damaged one through unnoticed.

Folders and files get the modes the user's umask asks for (0777 and 0666 less the umask), as
any program's would, not the private 0700 and 0600 of temporary files: a lab group shares them.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import tempfile
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sim.core.paths import check_output_folder
from sim.experiments.made_by import made_by

# Resolution of every figure of a report.
DPI = 120
WIDTH = 100  # characters a printed table's line may take (a command's --wide lifts it)
# The file of a results folder that says what it holds and each file's size and checksum.
MANIFEST = "manifest.json"
FOLDER_FORMAT = "blowback-folder/1"


def _read_umask() -> int:
    """The process's umask, read without changing it where the system tells it (Linux), else
    set and restored at once while the package is imported (before any thread writes)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _read_umask()
FOLDER_MODE = 0o777 & ~UMASK
FILE_MODE = 0o666 & ~UMASK


class OutputError(RuntimeError):
    """An output folder cannot be written as asked (one line, for the CLI)."""


def check_outside_cwd(out: Path, flag: str = "--out") -> None:
    """Refuse an output that is the current folder or holds it (``--out .``, ``--out ..``):
    replacing it would pull the folder from under the shell, and its files are the user's."""
    here = Path.cwd().resolve()
    where = out.resolve()
    if here == where or where in here.parents:
        raise OutputError(f"{flag}: {out} is the current folder or holds it; choose a folder "
                          "outside it, e.g. results/NAME")


def check_replaceable(out: Path, own: frozenset[str], force: bool = False,
                      flag: str = "--out", force_flag: str = "--force") -> None:
    """Refuse to write ``out`` unless it is missing or empty, or holds only our own files (of
    ``own`` and a manifest) and ``force`` says to replace them; nothing else is ever replaced.
    ``flag`` and ``force_flag`` name the two settings in the message, as the caller's user
    writes them.  What ``out`` is (a folder, or nothing yet) is checked by
    :func:`check_output_folder`."""
    check_output_folder(out)
    check_outside_cwd(out, flag)
    check_writable(out, flag)
    if not out.exists():
        return
    names = {p.name for p in out.iterdir()}
    if not names <= own | {MANIFEST}:
        other = results_held(out)
        holds = (f"holds the results of another command ({other})" if other
                 else "holds files that are not Blowback's output")
        raise OutputError(f"{out}: {holds}; choose an empty or new folder for {flag}")
    if names and not force:
        raise OutputError(f"{out}: already holds a result ({described(out)}); choose another "
                          f"{flag}, or add {force_flag} to replace it")


def check_writable(out: Path, flag: str = "--out") -> None:
    """Refuse ``out`` at once where the folder it would be made in cannot be written: the
    commands write their results only when their work is done, which may be hours later."""
    beside = out.absolute().parent
    while not beside.exists() and beside != beside.parent:
        beside = beside.parent
    try:
        os.rmdir(tempfile.mkdtemp(prefix=f".{out.name}-", dir=beside))
    except OSError as err:
        raise OutputError(f"{flag}: {out}: cannot write there ({err.strerror or err}); choose "
                          f"another {flag}") from None


def results_held(out: Path) -> str | None:
    """What a Blowback command's results folder holds, from its manifest; None where ``out``
    has no manifest of Blowback's."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        doc = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        kind = str(doc.get("format", ""))
        if kind.startswith("blowback-sweep/"):
            return "a sweep"
        if kind == FOLDER_FORMAT:
            return described(out)
    return None


def described(out: Path) -> str:
    """What a results folder holds, as its manifest says (``a run of Pressure seed 1``)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        what = json.loads((out / MANIFEST).read_text(encoding="utf-8")).get("what")
        if isinstance(what, str) and what:
            return what
    return "an earlier Blowback output"


@contextlib.contextmanager
def atomic_folder(out: str | Path, own: frozenset[str], what: str = "a Blowback output"
                  ) -> Iterator[Path]:
    """A temporary folder beside ``out`` to write into; when the block ends well its manifest
    (``what`` it holds, each file's size and sha256, what made it) is written and it replaces
    ``out`` whole, and when it fails it is removed, so ``out`` is never half-written.  An
    existing ``out`` is replaced only if it holds nothing but files named in ``own`` (the
    commands ask for ``--force`` first, :func:`check_replaceable`)."""
    out = Path(out)
    check_replaceable(out, own, force=True)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    except OSError as err:
        raise OutputError(f"{out}: cannot write there ({err.strerror or err}); choose another "
                          "--out") from None
    try:
        os.chmod(tmp, FOLDER_MODE)
        yield tmp
        write_manifest(tmp, what)
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
    """Rename a finished temporary folder to ``out``, replacing a previous output whole; if a
    rename fails the previous output is put back and no temporary folder is left."""
    if not out.exists():
        os.replace(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
    try:
        os.replace(out, old / "run")
        try:
            os.replace(tmp, out)
        except BaseException:
            os.replace(old / "run", out)
            raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def write_atomic(path: Path, write: Callable[[Path], Any],
                 seal: Callable[[Path], Any] | None = None) -> None:
    """Write one file whole: ``write`` fills a temporary file beside ``path``, which is flushed
    to disk, given to ``seal`` (to record its checksum before it can be seen) and renamed into
    place; on failure it is removed and the error raised."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, FILE_MODE)
        write(tmp)
        # On disk before the rename, so that a power cut leaves the file whole or absent.
        sync(tmp)
        if seal is not None:
            seal(tmp)
        os.replace(tmp, path)
    except BaseException:
        # A folder gone read-only refuses this too; a sweep's --resume removes what is left.
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    sync(path.parent)


def digest(path: Path) -> dict[str, Any]:
    """A file's size and sha256, as a manifest records them."""
    sha = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return {"size": path.stat().st_size, "sha256": sha.hexdigest()}


def write_manifest(folder: Path, what: str) -> None:
    """Write ``folder``'s manifest: ``what`` it holds, each file's size and sha256, and what
    made it (:func:`sim.experiments.made_by.made_by`)."""
    files = {p.name: digest(p) for p in sorted(folder.iterdir())
             if p.is_file() and p.name != MANIFEST}
    doc = {"format": FOLDER_FORMAT, "what": what, "files": files, "made_by": made_by()}
    (folder / MANIFEST).write_text(json.dumps(doc, indent=2) + "\n")


def read_manifest(folder: Path, redo: str) -> dict[str, Any]:
    """The manifest of a results folder, checked; one line saying how to ``redo`` the folder
    if it is missing (a folder written before checksums) or not a manifest of this kind.  Its
    ``made_by`` is not read: folders written before it was recorded have none."""
    path = folder / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(f"{folder}: written before Blowback recorded checksums (no "
                          f"{MANIFEST}), so its files cannot be checked; {redo}") from None
    except (OSError, ValueError) as err:
        raise OutputError(f"{path}: unreadable ({err}); {redo}") from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("format") != FOLDER_FORMAT or not isinstance(
            files, dict) or not all(_is_digest(d) for d in files.values()):
        raise OutputError(f"{path}: not a Blowback manifest ({FOLDER_FORMAT} with a files map "
                          f"of size and sha256); {redo}")
    return doc


def _is_digest(entry: Any) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
            and isinstance(entry.get("size"), int) and not isinstance(entry.get("size"), bool))


def check_digest(path: Path, recorded: Mapping[str, Any] | None, redo: str) -> Path:
    """``path`` if it is the file ``recorded`` (size and sha256), else one line naming it."""
    if recorded is None:
        raise OutputError(f"{path}: not recorded in the folder's checksums, so not written "
                          f"there by Blowback; remove it, or {redo}")
    found = digest_if_there(path)
    if found is None:
        raise OutputError(f"{path}: unreadable ({os.strerror(errno.ENOENT)}); {redo}")
    if found != {"size": recorded["size"], "sha256": recorded["sha256"]}:
        raise OutputError(f"{path}: damaged ({found['size']} bytes, checksum differs from the "
                          f"one recorded when it was written); {redo}")
    return path


def digest_if_there(path: Path) -> dict[str, Any] | None:
    """``path``'s :func:`digest`, None where it is gone; a file there that cannot be read is
    refused in one line (:func:`unreadable`): it is not damaged, and nothing is to be redone."""
    try:
        return digest(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise unreadable(path, err) from None


def unreadable(path: Path, err: OSError) -> OutputError:
    """The one-line refusal of a file that is there but cannot be read (its permissions, a
    failing disk): not damaged, so nothing is to be redone, and a sweep's runs in it are kept."""
    return OutputError(f"{path}: unreadable ({err.strerror or err}); it is kept as it is: make "
                       "it readable (its permissions) and try again")


def verified(folder: Path, name: str, redo: str) -> Path:
    """The file ``name`` of a results folder, checked against its manifest; one line naming it
    if it is missing, damaged or not recorded there."""
    manifest = read_manifest(folder, redo)
    return check_digest(folder / name, manifest["files"].get(name), redo)


def sync(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_report(out: str | Path, own: frozenset[str], *, what: str = "a Blowback report",
                 tables: Mapping[str, pd.DataFrame] | None = None,
                 texts: Mapping[str, str] | None = None,
                 figures: Mapping[str, Callable[[], Any]] | None = None,
                 formats: tuple[str, ...] = ("png", "svg")) -> Path:
    """Write a report folder ``out`` whole (:func:`atomic_folder`): each table as CSV under its
    file name, each text as it is, and each figure, drawn by its function inside the folder's
    block (so a failed drawing leaves nothing), as ``name.<format>`` for each of ``formats``;
    its manifest says ``what`` it is."""
    with atomic_folder(out, own, what) as tmp:
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

    try:
        for ext in formats:
            fig.savefig(folder / f"{name}.{ext}", dpi=DPI)
            # The layout the first drawing found holds for the other formats: laying out again
            # (constrained layout) took about a third of each further file's time.
            if fig.get_layout_engine() is not None:
                fig.set_layout_engine("none")
    finally:
        plt.close(fig)


def folded(text: str, width: int = WIDTH) -> str:
    """``text`` with each line longer than ``width`` broken at spaces, its continuations
    indented four more than the line, so that a report prints in a terminal of ``width``."""
    lines = []
    for line in text.splitlines():
        indent = " " * (len(line) - len(line.lstrip()))
        lines.extend(textwrap.wrap(line, width, subsequent_indent=indent + "    ",
                                   break_long_words=True, break_on_hyphens=False)
                     if len(line) > width else [line])
    return "\n".join(lines)


def shortened(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, an ellipsis marking the cut."""
    return text if len(text) <= width else text[: width - 1] + "…"
