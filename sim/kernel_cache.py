"""Where numba keeps the compiled kernels: one folder per version of the package's source.

Numba's own cache checks only the file of the function it compiles, so a kernel that calls a
term of another module (the attitude loop calls M4's, M5's and M8's terms; every kernel calls
:mod:`sim.core.rng`) would keep running the old term after that module is edited.  Keying the
folder by a digest of every source file of the package makes any edit start a fresh cache.

The folder is ``$NUMBA_CACHE_DIR/<digest>`` if the variable is set, else the user's cache
(``$XDG_CACHE_HOME`` or ``~/.cache``) ``/blowback/numba/<digest>``, or the temporary folder when
neither can be written.  It must be chosen before numba is imported: ``sim/__init__.py`` calls
:func:`configure` first.
"""

from __future__ import annotations

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
    for parent in (folder, *folder.parents):
        if parent.exists():
            return os.access(parent, os.W_OK)
    return False


def configure() -> None:
    """Set ``NUMBA_CACHE_DIR`` to this source's folder (once per process tree)."""
    key = source_digest()
    chosen = os.environ.get("NUMBA_CACHE_DIR")
    if chosen:
        if Path(chosen).name != key:
            os.environ["NUMBA_CACHE_DIR"] = str(Path(chosen) / key)
        return
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    base = Path(home) / "blowback" / "numba"
    if not _writable(base):
        base = Path(tempfile.gettempdir()) / "blowback-numba"
    os.environ["NUMBA_CACHE_DIR"] = str(base / key)
