"""What the tool tells its user: the one-line :class:`ScenarioError`, and :func:`shown`, which
escapes what a terminal would act on instead of print.

Names come from files anyone can write (a scenario's ``name``, a key, a file name), so a
message or a table that shows one must not let it colour, move or reorder the terminal's text:
control characters, bidirectional controls and line separators are shown as escapes
(``\\x1b``, ``\\u202e``).  :class:`ShownStream` applies that to everything written to a stream;
``cli.main`` puts it on stdout and stderr.
"""

from __future__ import annotations

import functools
import re
from typing import Any, TextIO

# C0 controls, DEL and C1 controls; the bidirectional marks, embeddings, overrides and
# isolates; the line and paragraph separators.
_HIDDEN = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"


@functools.cache
def _hidden(keep: str) -> re.Pattern[str]:
    kept = "".join(f"\\x{ord(ch):02x}" for ch in keep)
    return re.compile(f"(?![{kept}])[{_HIDDEN}]" if keep else f"[{_HIDDEN}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def cut(text: str, limit: int = 40) -> str:
    """``text`` as a message shows a value the user gave, which may be long (a forged one, a
    whole file): whole up to ``limit`` characters, else its start and "..."."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def shown(text: str, keep: str = "\n\t") -> str:
    """``text`` with every character a terminal would act on shown as an escape (``\\x1b``,
    ``\\u202e``), except those in ``keep`` (by default newline and tab)."""
    return _hidden(keep).sub(_escape, text)


class ScenarioError(ValueError):
    """An input file that cannot be used; ``str(err)`` is one line ``<file>: <key>: <problem>``.

    ``file``, ``key`` (dotted, or None for a problem with the whole file) and ``problem`` are
    kept as attributes for callers that show them apart (the dashboard).
    """

    def __init__(self, file: str, key: str | None, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        line = ": ".join(part for part in (file, key, problem) if part)
        line = re.sub(r"\s*[\r\n]+\s*", " ", line)
        super().__init__(shown(line, keep=""))

    def __reduce__(self) -> tuple[Any, ...]:
        # The default pickling passes only the message back to __init__; sweeps pickle errors.
        return (type(self), (self.file, self.key, self.problem))


class StreamError(Exception):
    """Writing to stdout failed (``error``: the OSError; a BrokenPipeError when the reader
    closed it).  Not an OSError, so that no handler of a file's errors takes it for its own."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror or str(error))
        self.error = error


class ShownStream:
    """A text stream that writes through :func:`shown` (keeping ``keep``); every other
    attribute (``isatty``, ``encoding``, ``fileno``) is the wrapped stream's.  With
    ``failing``, an OSError of a write or flush is raised as a :class:`StreamError`."""

    def __init__(self, stream: TextIO, keep: str, failing: bool = False) -> None:
        self.stream = stream
        self.keep = keep
        self.failing = failing

    def write(self, text: str) -> int:
        """Write ``text`` shown; the count is of the characters given."""
        try:
            self.stream.write(shown(text, self.keep))
        except OSError as err:
            self._failed(err)
        return len(text)

    def writelines(self, lines: Any) -> None:
        """Write each of ``lines``."""
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Flush the wrapped stream."""
        try:
            self.stream.flush()
        except OSError as err:
            self._failed(err)

    def _failed(self, err: OSError) -> None:
        if self.failing:
            raise StreamError(err) from None
        raise err

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
