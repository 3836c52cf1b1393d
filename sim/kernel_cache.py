"""Where numba keeps the compiled kernels: one folder per version of the package's source.

Numba's own cache checks only the file of the function it compiles, so a kernel that calls a
term of another module (the attitude loop calls M4's, M5's and M8's terms; every kernel calls
:mod:`sim.core.rng`) would keep running the old term after that module is edited.  Keying the
folder by a digest of every source file of the package makes any edit start a fresh cache.

The folder is ``$NUMBA_CACHE_DIR/<digest>`` if the variable is set, else the user's cache
(``$XDG_CACHE_HOME`` or ``~/.cache``) ``/blowback/numba/<digest>``, else the temporary folder's
``blowback-numba/<digest>``: the first of them that can be written.  When none can (a read-only
install, no home, no temporary folder), :data:`CACHE` is False, the kernels are compiled
without a cache at every start, and the package still runs.  It must be chosen before numba
is imported: ``sim/__init__.py`` calls :func:`configure` first, and every kernel is decorated
``@njit(cache=kernel_cache.CACHE)``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def source_digest() -> str:
    """A digest of every Python source file of the package, by path and content."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _writable(folder: Path) -> bool:
    """Whether files can be made in ``folder`` (made if missing): tried, not asked of
    ``os.access``, which answers yes to root even where no folder can be made."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except (OSError, ValueError):
        return False


def _candidates(key: str) -> list[Path]:
    """The folders to try, in order of preference."""
    folders = []
    chosen = os.environ.get("NUMBA_CACHE_DIR")
    if chosen:
        # A worker process inherits the folder already keyed.
        folders.append(Path(chosen) if Path(chosen).name == key else Path(chosen) / key)
    home = os.environ.get("XDG_CACHE_HOME")
    if not home:
        # No HOME and no entry in the password database: there is no user cache.
        with contextlib.suppress(RuntimeError, KeyError):
            home = str(Path.home() / ".cache")
    if home:
        folders.append(Path(home) / "blowback" / "numba" / key)
    with contextlib.suppress(OSError):
        # gettempdir raises when none of TMPDIR, /tmp, /var/tmp or the current folder works.
        folders.append(Path(tempfile.gettempdir()) / "blowback-numba" / key)
    return folders


CACHE = True


def configure() -> bool:
    """Set ``NUMBA_CACHE_DIR`` to this source's folder (once per process tree), the first one
    that can be written; with none, unset it and turn :data:`CACHE` off.  Returns CACHE."""
    global CACHE
    folder = next((f for f in _candidates(source_digest()) if _writable(f)), None)
    CACHE = folder is not None
    if folder is None:
        os.environ.pop("NUMBA_CACHE_DIR", None)
    else:
        os.environ["NUMBA_CACHE_DIR"] = str(folder)
    return CACHE


# Written into the folder once the model's kernels are compiled into it (as
# ``sim.experiments.runs.compile_kernels`` does), so that a process about to start workers can
# tell whether they would each compile them.
COMPILED_MARK = "kernels-compiled"


def _compiled_mark() -> Path | None:
    folder = os.environ.get("NUMBA_CACHE_DIR")
    return Path(folder) / COMPILED_MARK if CACHE and folder else None


def compiled() -> bool:
    """Whether the kernels of this version of the source were compiled into the cache; False
    where there is no cache."""
    mark = _compiled_mark()
    return mark is not None and mark.is_file()


def mark_compiled() -> None:
    """Record in the cache's folder that the kernels are compiled into it (nothing where there
    is no cache, or it cannot be written)."""
    mark = _compiled_mark()
    if mark is not None:
        with contextlib.suppress(OSError):
            mark.touch()
