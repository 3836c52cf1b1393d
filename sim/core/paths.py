"""The one check of every path a user gives, before anything is read from it or written to it.

Paths come on the command line (a scenario, an experiment, a calibration file, ``--posterior``,
``--diff``'s OTHER, ``analyse``'s folder, ``--out``) and inside files (``extends``, an
experiment's ``scenarios``, a calibration's ``scenario`` and ``record``).  Each goes through
:func:`input_file` (or :func:`read_input`, which also reads it), :func:`input_folder`,
:func:`check_output_folder` or :func:`check_output_file`, which refuse in one line, as a
:class:`PathError` (a ``ScenarioError``, which ``cli.main`` prints with exit status 2)::

    loop.toml: a loop of symbolic links; allowed: a file of at most 16 MiB
    e.toml: scenarios[0]: /dev/zero: a character device; allowed: a file of at most 16 MiB

A path written inside a file is named with that file and key first.  What is refused: a NUL
byte, a name the system finds too long, a loop of links, nothing there, a FIFO, a socket, a
device, a folder where a file is wanted (and the reverse), a file over the size limit.  Reads
are bounded and do not block, so a FIFO put in place after the check cannot hang the command,
nor a device fill its memory.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from sim.core.messages import ScenarioError

TOML_LIMIT = 16 * 2**20
CSV_LIMIT = 256 * 2**20
# Paths on clusters and in macOS's temporary folders often run past 100 characters, and must
# stay whole to be copied; only a name far beyond any real one is shortened.
_SHOWN_LENGTH = 240
_KINDS = {stat.S_IFREG: "a file", stat.S_IFDIR: "a folder", stat.S_IFIFO: "a FIFO (named pipe)",
          stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFLNK: "a symbolic link"}
_ERRORS = {errno.ENOENT: "nothing there", errno.ENAMETOOLONG: "a name too long for the system",
           errno.ELOOP: "a loop of symbolic links",
           errno.ENOTDIR: "a part of the path is not a folder"}
_OUTPUT = "a new folder, or a folder of Blowback's output (--out)"
_OUTPUT_FILE = "a new file, or a file Blowback wrote"

Where = tuple[str, str]  # the file a path is written in, and its key there


class PathError(ScenarioError):
    """A path that cannot be used as given; one line, ``[<file>: <key>: ]<path>: <what is
    wrong>; allowed: <what is allowed>``."""


def refuse(path: str | os.PathLike, wrong: str, allowed: str,
           where: Where | None = None) -> PathError:
    """The one-line error for ``path``, named after the file and key it is written in."""
    text = str(path)
    if len(text) > _SHOWN_LENGTH:
        # A 5,000-character name would bury the message: its start and end are enough.
        text = f"{text[:50]}...{text[-25:]} ({len(text):,} characters)"
    if where is None:
        return PathError(text, None, f"{wrong}; allowed: {allowed}")
    return PathError(where[0], where[1], f"{text}: {wrong}; allowed: {allowed}")


def _allowed_file(limit: int) -> str:
    return f"a file of at most {limit // 2**20} MiB"


def _looked_up(path: str | os.PathLike, allowed: str, where: Where | None,
               missing: str | None) -> os.stat_result | None:
    """``os.stat`` of ``path``, links followed; if nothing is there, the error ``missing`` or,
    when that is None, None."""
    try:
        return os.stat(path)
    except ValueError:
        raise refuse(path, "holds a NUL byte", allowed, where) from None
    except FileNotFoundError:
        if missing is None:
            return None
        raise refuse(path, missing, allowed, where) from None
    except OSError as err:
        wrong = _ERRORS.get(err.errno, f"cannot be looked up ({err.strerror or err})")
        raise refuse(path, wrong, allowed, where) from None


def _kind(info: os.stat_result) -> str:
    return _KINDS.get(stat.S_IFMT(info.st_mode), "not a file or folder")


def _check_file(path: str | os.PathLike, info: os.stat_result, limit: int,
                where: Where | None) -> None:
    allowed = _allowed_file(limit)
    if not stat.S_ISREG(info.st_mode):
        raise refuse(path, _kind(info), allowed, where)
    if info.st_size > limit:
        raise refuse(path, f"too large ({info.st_size / 2**20:.1f} MiB)", allowed, where)


def _resolved(path: str | os.PathLike, allowed: str, where: Where | None) -> Path:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        # Python 3.11 raises RuntimeError for a loop; a link changed since the stat.
        raise refuse(path, "a loop of symbolic links", allowed, where) from None


def input_file(path: str | os.PathLike, limit: int = TOML_LIMIT,
               where: Where | None = None) -> Path:
    """``path``, resolved, if it is a file of at most ``limit`` bytes (links followed); else a
    one-line :class:`PathError`.  ``where`` is the file and key it is written in, if any."""
    info = _looked_up(path, _allowed_file(limit), where, "no such file")
    _check_file(path, info, limit, where)
    return _resolved(path, _allowed_file(limit), where)


def read_input(path: str | os.PathLike, limit: int = TOML_LIMIT,
               where: Where | None = None) -> bytes:
    """The bytes of the file ``path``, checked as by :func:`input_file` and read at most
    ``limit`` bytes far, without blocking."""
    _check_file(path, _looked_up(path, _allowed_file(limit), where, "no such file"), limit, where)
    # O_NONBLOCK: a FIFO swapped in since the check opens at once instead of waiting for a
    # writer, and the fstat below refuses it.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    chunks: list[bytes] = []
    try:
        fd = os.open(path, flags)
        try:
            _check_file(path, os.fstat(fd), limit, where)
            size = 0
            while size <= limit:
                chunk = os.read(fd, min(2**20, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
    except OSError as err:
        wrong = _ERRORS.get(err.errno, f"cannot be read ({err.strerror or err})")
        raise refuse(path, wrong, _allowed_file(limit), where) from None
    data = b"".join(chunks)
    if len(data) > limit:
        raise refuse(path, "grew over the limit while read", _allowed_file(limit), where)
    return data


def input_folder(path: str | os.PathLike, where: Where | None = None) -> Path:
    """``path`` if it is a folder (links followed); else a one-line :class:`PathError`."""
    info = _looked_up(path, "a folder", where, "no such folder")
    if not stat.S_ISDIR(info.st_mode):
        raise refuse(path, _kind(info), "a folder", where)
    return Path(path)


def check_output_folder(path: str | os.PathLike) -> Path:
    """``path`` if an output folder can go there: nothing there yet, or a folder (whether its
    content may be replaced is :mod:`sim.experiments.output`'s to say); else a one-line
    :class:`PathError` (a NUL byte, a name too long, a loop of links, a file in the way)."""
    _check_utf8(path, _OUTPUT)
    info = _looked_up(path, _OUTPUT, None, missing=None)
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise refuse(path, f"exists and is {_kind(info)}", _OUTPUT)
    return Path(path)


def check_output_file(path: str | os.PathLike) -> Path:
    """``path`` if an output file can go there: nothing there yet, or a file (whether it may be
    replaced is the command's to say); else a one-line :class:`PathError`, as for
    :func:`check_output_folder`."""
    _check_utf8(path, _OUTPUT_FILE)
    info = _looked_up(path, _OUTPUT_FILE, None, missing=None)
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise refuse(path, f"exists and is {_kind(info)}", _OUTPUT_FILE)
    return Path(path)


def _check_utf8(path: str | os.PathLike, allowed: str) -> None:
    # The manifests and Parquet files record the paths they are written to, in UTF-8: a name
    # of other bytes would fail there, once the work is done.
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        raise refuse(ascii(os.fspath(path)), "a name that is not UTF-8",
                     f"{allowed}, named in UTF-8") from None
