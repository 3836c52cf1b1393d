"""Reading and checking the project's input files: scenarios, experiments and calibrations.

They share one vocabulary of errors: every mistake is a one-line :class:`ScenarioError` naming
the file, the dotted key and what is allowed (``base.toml: oversight.punishment: 1.5 is out of
range; allowed: a number in [0, 1]``), with a "did you mean" for a misspelt key.  The checks
here turn a value as TOML gave it into the value the model uses, or raise.
"""

from __future__ import annotations

import datetime
import difflib
import hashlib
import json
import numbers
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from sim.core.messages import ScenarioError, cut
from sim.core.parameters import BY_NAME, SECTIONS
from sim.core.paths import TOML_LIMIT, read_input
from sim.core.registry import Param

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- reading ------------------------------------------------------------------------------


def read_text(file: str, limit: int = TOML_LIMIT) -> str:
    """The text of ``file``, which must be a file of at most ``limit`` bytes (checked by
    :mod:`sim.core.paths`) in UTF-8 (a byte-order mark is dropped)."""
    data = read_input(file, limit)
    try:
        # utf-8-sig: editors on Windows put a byte-order mark that tomllib would reject.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ScenarioError(
            file, None, f"not UTF-8 ({err.reason} at byte {err.start}); allowed: UTF-8 text"
        ) from None


def parse_toml(file: str, text: str) -> dict[str, Any]:
    """Parse TOML text, turning every way it can fail into a one-line :class:`ScenarioError`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(file, None, f"not valid TOML: {err}") from None
    except RecursionError:
        # tomllib descends once per nested array or inline table: thousands of brackets.
        raise ScenarioError(file, None, "not valid TOML: arrays or tables nested too deeply; "
                            "allowed: a few levels") from None


def read_toml(file: str) -> dict[str, Any]:
    """The table of a TOML file."""
    return parse_toml(file, read_text(file))


class FileKind(NamedTuple):
    """A kind of the project's input files: what it is called, the command that reads it and
    where such files live."""

    name: str
    command: str
    folder: str


SCENARIO_FILE = FileKind("a scenario file", "blowback run", "scenarios/*.toml")
EXPERIMENT_FILE = FileKind("an experiment file", "blowback sweep", "scenarios/experiments/*.toml")
CALIBRATION_FILE = FileKind("a calibration file", "blowback calibrate",
                            "scenarios/calibration/*.toml")
EPSTEIN_FILE = FileKind("a run of Epstein's classic", "python -m sim.classics.epstein",
                        "scenarios/epstein/*.toml")
# Top-level keys that only one kind of the project's files has: one of them in a file read as
# another kind says which file it is, not "unknown key".  A scenario's parameter sections are
# among its keys too.  Words that a hand may put at the wrong level of the right file (seed,
# steps, parameters) are left out: for those, "did you mean" helps more.
KIND_OF_KEY: dict[str, FileKind] = (
    dict.fromkeys(("extends", "events", "replace_events", *SECTIONS), SCENARIO_FILE)
    | dict.fromkeys(("scenarios", "vary", "first_seed", "keep"), EXPERIMENT_FILE)
    | dict.fromkeys(("scenario", "record", "targets", "generations", "predictive_draws",
                     "detection"), CALIBRATION_FILE)
    | {"model": EPSTEIN_FILE})


def other_kind(file: str, key: str, kind: FileKind) -> ScenarioError | None:
    """The error for ``key`` in ``file``, read as ``kind``, where the key says the file is of
    another kind; None where it does not."""
    other = KIND_OF_KEY.get(key)
    if other is None or other == kind:
        return None
    what = "section" if key in SECTIONS else "key"
    return ScenarioError(file, key, f"a {what} of {other.name}, which {other.command} reads, "
                         f"not of {kind.name}; allowed: {kind.name} ({kind.folder})")


def read_document(file: str, top_keys: tuple[str, ...],
                  kind: FileKind) -> tuple[str, dict[str, Any], str, str]:
    """Read a TOML file of the project's of ``kind`` (:data:`EXPERIMENT_FILE`,
    :data:`CALIBRATION_FILE`): its text, its table, and its ``name`` (default: the file's stem)
    and ``description``, refusing keys outside ``top_keys``; each mistake is one line naming
    file and key, and a file of another kind is named as such."""
    text = read_text(file)
    raw = parse_toml(file, text)
    for key in raw:
        if key not in top_keys:
            raise other_kind(file, str(key), kind) or ScenarioError(
                file, str(key), unknown("unknown key", str(key), top_keys))
    name = expect(file, "name", raw.get("name", Path(file).stem), str, "a string")
    description = expect(file, "description", raw.get("description", ""), str, "a string")
    return text, raw, name, description


def content_hash(doc: Any) -> str:
    """The sha256 of ``doc``'s canonical JSON: it changes exactly when the content does."""
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- checking values ----------------------------------------------------------------------


def expect(file: str, where: str, value: Any, kind: type, allowed: str) -> Any:
    """``value`` if it is a ``kind``, else an error saying what is ``allowed``."""
    # bool is an int in Python, so `true` must not pass where a number is wanted.
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ScenarioError(file, where, f"{kind_of(value)}; allowed: {allowed}")
    return value


def dotted(file: str, where: str, table: dict[str, Any],
           nested: Callable[[str, Any], bool]) -> dict[str, Any]:
    """``table`` by dotted name, each value of a key that ``nested(name, value)`` calls a
    sub-table read as its own keys under ``name.``.  TOML reads a quoted ``"a.b" = 1`` as one
    key and an unquoted ``a.b = 1`` as a table ``a``: both name ``a.b``, and a name given both
    ways is refused rather than one value silently dropped."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if nested(key, value):
            items = dotted(file, where, {f"{key}.{k}": v for k, v in value.items()}, nested)
        else:
            items = {key: value}
        for name, v in items.items():
            if name in flat:
                raise ScenarioError(file, f"{where}.{name}", "given twice, as a quoted key and "
                                    "as a table; allowed: each key once")
            flat[name] = v
    return flat


def check_param(file: str, where: str, name: str, value: Any) -> Any:
    """The value of the registry's parameter ``name``, checked (``where`` names it in
    ``file``); an unknown name is an error with the nearest known one."""
    param = BY_NAME.get(name)
    if param is None:
        raise ScenarioError(file, where, unknown_parameter(name))
    return check_value(file, where, param, value)


def unknown_parameter(name: str) -> str:
    """What is wrong with ``name``, which is not a parameter: a section's name lists the
    section's parameters (the nearest spelling would name any one of them); any other name
    gets the nearest known one."""
    members = [known for known in BY_NAME if known.startswith(f"{name}.")]
    if members:
        return ("a section, not a parameter; allowed: one of its parameters by its dotted name, "
                + ", ".join(members))
    return unknown("unknown key", name, BY_NAME)


def check_value(file: str, where: str, param: Param, value: Any) -> Any:
    """``value`` checked against ``param``'s type and range: an integer stays an integer, a
    number becomes a float, a date becomes ``YYYY-MM-DD``."""
    if param.type is bool:
        return expect(file, where, value, bool, param.allowed())
    if param.type is str:
        if param.unit == "date":
            return _iso_date(file, where, value, param.allowed())
        return expect(file, where, value, str, param.allowed())
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ScenarioError(file, where, f"{kind_of(value)}; allowed: {param.allowed()}")
    if param.type is int:
        if not isinstance(value, numbers.Integral):
            raise ScenarioError(
                file, where, f"{show(value)} is not an integer; allowed: {param.allowed()}"
            )
        value = int(value)
    else:
        value = float(value)
    # Written so that NaN fails too.
    if not param.low <= value <= param.high:
        problem = f"{show(value)} is out of range; allowed: {param.allowed()}"
        raise ScenarioError(file, where, problem)
    return value


def parse_setting(source: str, text: str) -> tuple[str, Any]:
    """A command line's ``KEY=VALUE`` (``source`` names the option, ``--set``) as the name of a
    registry parameter and its value, the VALUE read as TOML (``0.8``, ``true``,
    ``"2014-01-06"``) and checked exactly like a value in a file."""
    key, equals, written = text.partition("=")
    key = key.strip()
    if not equals or not key:
        raise ScenarioError(source, None, f"{show(text)} is not KEY=VALUE; allowed: a "
                            "parameter's name, =, and a TOML value (oversight.punishment=0.8)")
    param = BY_NAME.get(key)
    if param is None:
        raise ScenarioError(source, key, unknown_parameter(key))
    try:
        parsed = tomllib.loads(f"value = {written}")
    except (tomllib.TOMLDecodeError, RecursionError):
        parsed = {}
    # More than the one key: the VALUE held a newline and more TOML after it.
    if list(parsed) != ["value"]:
        hint = " (a string goes in quotes)" if param.type is str else ""
        raise ScenarioError(source, key, f"{show(written.strip())} is not a TOML value{hint}; "
                            f"allowed: {param.allowed()}")
    return key, check_value(source, key, param, parsed["value"])


def integer(file: str, where: str, value: Any, low: int, high: int) -> int:
    """``value`` if it is an integer in [low, high] (a setting of the file, not a parameter)."""
    allowed = f"an integer in [{low}, {high}]"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(file, where, f"{kind_of(value)}; allowed: {allowed}")
    if not low <= value <= high:
        raise ScenarioError(file, where, f"{value} is out of range; allowed: {allowed}")
    return value


def parse_date(value: Any) -> datetime.date | None:
    """A TOML date, or text ``YYYY-MM-DD``, as a date; None if it is neither."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _iso_date(file: str, where: str, value: Any, allowed: str) -> str:
    day = parse_date(value)
    if day is None:
        raise ScenarioError(file, where, f"{show(value)} is not a date; allowed: {allowed}")
    if day.weekday() != 0:
        monday = day - datetime.timedelta(days=day.weekday())
        raise ScenarioError(file, where, f"{day.isoformat()} is a {day:%A}; allowed: {allowed} "
                            f"(the Monday of that week is {monday.isoformat()})")
    return day.isoformat()


# --- words of the messages ----------------------------------------------------------------


def unknown(what: str, key: str, candidates: Any) -> str:
    """``what``, with the nearest of ``candidates`` to ``key`` as a suggestion if one is near."""
    close = difflib.get_close_matches(key, list(candidates), n=1)
    return f"{what}; did you mean {close[0]}?" if close else what


def kind_of(value: Any) -> str:
    """``value`` and what it is in TOML's words: ``"x" is a string``; None, which TOML cannot
    write, is a key left out: ``missing``."""
    if value is None:
        return "missing"
    # datetime before date: a TOML date-time is both.
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             dict: "a table", list: "an array", datetime.datetime: "a date-time",
             datetime.date: "a date", datetime.time: "a time"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return f"{show(value)} is {name}"
    return f"{show(value)} is {type(value).__name__}"


def show(value: Any) -> str:
    """``value`` as JSON, cut to 40 characters, for a message."""
    return cut(json.dumps(value, ensure_ascii=False, default=str))
