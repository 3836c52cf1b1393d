"""Every path a user gives, on the command line or inside a file, goes through one checker
(``sim/core/paths.py``): a loop of links, a FIFO, a device, a folder, a file too large, a NUL
byte or a name too long is refused in one line, with exit status 2, before anything runs or is
written, and nothing waits on a FIFO or reads a device."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SCENARIOS, assert_refused, blowback

from sim.core import paths
from sim.core.paths import PathError, check_output_folder, read_input

BASE = SCENARIOS / "base.toml"
LONG = "n" * 5000


@pytest.fixture(autouse=True)
def deadline():
    """Fail a test that waits (on a FIFO, on a device) instead of hanging the suite."""
    def expire(*_):
        raise TimeoutError("waited on a path instead of refusing it")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _make(tmp_path: Path, kind: str) -> tuple[str, str]:
    """A path of ``kind`` (made in tmp_path if needed) and a part of the message it gets."""
    if kind == "loop":
        (tmp_path / "loop.toml").symlink_to("loop.toml")
        return str(tmp_path / "loop.toml"), "loop.toml: a loop of symbolic links; allowed: a file"
    if kind == "fifo":
        os.mkfifo(tmp_path / "fifo.toml")
        return str(tmp_path / "fifo.toml"), "fifo.toml: a FIFO (named pipe); allowed: a file"
    if kind == "folder":
        (tmp_path / "folder").mkdir()
        return str(tmp_path / "folder"), "folder: a folder; allowed: a file"
    if kind == "large":
        with open(tmp_path / "large.toml", "wb") as large:
            large.truncate(17 * 2**20)
        return str(tmp_path / "large.toml"), "large.toml: too large (17.0 MiB)"
    if kind == "long":
        long = str(tmp_path / LONG)
        return long, f"({len(long):,} characters): a name too long for the system"
    if kind == "missing":
        return str(tmp_path / "missing.toml"), "missing.toml: no such file; allowed: a file"
    return kind, f"{kind}: a character device; allowed: a file of at most "


ON_THE_COMMAND_LINE = ["loop", "fifo", "folder", "large", "long", "missing", "/dev/zero",
                       "/dev/null"]


def _command(tmp_path: Path, name: str, path: str) -> list[str]:
    out = ["--out", str(tmp_path / "out")]
    return {"scenario": ["scenario", path],
            "run": ["run", path, *out],
            "sweep": ["sweep", path, "--jobs", "1", *out],
            "calibrate": ["calibrate", path, "--jobs", "1", *out],
            "posterior": ["compare", str(BASE), "--posterior", path, "--jobs", "1", *out],
            "diff": ["scenario", str(BASE), "--diff", path]}[name]


@pytest.mark.parametrize("kind", ON_THE_COMMAND_LINE)
@pytest.mark.parametrize("command", ["scenario", "run", "sweep", "calibrate", "posterior",
                                     "diff"])
def test_a_path_on_the_command_line_is_refused_in_one_line(tmp_path, capsys, command, kind):
    path, expected = _make(tmp_path, kind)
    if kind == "large" and command == "posterior":
        expected = "large.toml: too large"  # CSV files may be larger: still within the limit
        with open(path, "wb") as large:
            large.truncate(paths.CSV_LIMIT + 1)
    before = set(tmp_path.iterdir())
    status, out, err = blowback(capsys, *_command(tmp_path, command, path))
    assert_refused(status, err, expected)
    assert out == "" and set(tmp_path.iterdir()) == before


def test_a_path_as_long_as_real_ones_is_shown_whole(tmp_path, capsys):
    """Paths on a cluster's scratch space or in macOS's temporary folders run past 100
    characters: the user must be able to copy the one named."""
    missing = tmp_path / "scratch" / "projects" / "outsourced-counterinsurgency" / "missing.toml"
    missing = Path(str(missing).ljust(200 - len("/missing.toml"), "x")) / "missing.toml"
    assert len(str(missing)) >= 200
    status, _, err = blowback(capsys, "scenario", str(missing))
    assert_refused(status, err, f"{missing}: no such file")


@pytest.mark.parametrize(("kind", "expected"), [
    ("loop", "loop.toml: a loop of symbolic links; allowed: a folder"),
    ("fifo", "fifo.toml: a FIFO (named pipe); allowed: a folder"),
    ("missing", "missing.toml: no such folder; allowed: a folder"),
    ("/dev/null", "/dev/null: a character device; allowed: a folder"),
    ("large", "large.toml: a file; allowed: a folder"),
])
def test_analyse_wants_a_folder(tmp_path, capsys, kind, expected):
    path, _ = _make(tmp_path, kind)
    status, out, err = blowback(capsys, "analyse", path, "--out", str(tmp_path / "out"))
    assert_refused(status, err, expected)
    assert not (tmp_path / "out").exists()


IN_A_FILE = ["loop", "fifo", "folder", "large", "long", "nul", "/dev/zero"]


def _written(tmp_path: Path, kind: str) -> tuple[str, str]:
    """A path of ``kind`` as a TOML string, and a part of the message it gets."""
    if kind == "nul":
        return '"a\\u0000b.toml"', "a\\x00b.toml: holds a NUL byte; allowed: a file"
    path, expected = _make(tmp_path, kind)
    return f'"{path}"', expected


@pytest.mark.parametrize("kind", IN_A_FILE)
@pytest.mark.parametrize("context", ["extends", "experiment", "calibration"])
def test_a_path_inside_a_file_is_refused_in_one_line(tmp_path, capsys, context, kind):
    written, expected = _written(tmp_path, kind)
    file = tmp_path / "input.toml"
    command, key = {"extends": ("scenario", "extends"),
                    "experiment": ("sweep", "scenarios[0]"),
                    "calibration": ("calibrate", "scenario")}[context]
    file.write_text({"extends": f"extends = {written}\n",
                     "experiment": f"scenarios = [{written}]\nseeds = 1\n",
                     "calibration": f"scenario = {written}\n"}[context])
    before = set(tmp_path.iterdir())
    status, out, err = blowback(capsys, *_command(tmp_path, command, str(file)))
    assert_refused(status, err, f"input.toml: {key}: ")
    assert expected in err and out == "" and set(tmp_path.iterdir()) == before


def test_a_loop_of_links_through_extends_is_refused(tmp_path, capsys):
    """A link to a file that extends the link: the chain's cycle, named in one line."""
    (tmp_path / "child.toml").write_text('extends = "parent.toml"\n')
    (tmp_path / "parent.toml").symlink_to("child.toml")
    status, _, err = blowback(capsys, "scenario", str(tmp_path / "child.toml"))
    assert_refused(status, err, "extends: cycle")


def test_dev_stdin_is_refused_without_waiting_for_input():
    done = subprocess.run([sys.executable, "-m", "sim", "scenario", "/dev/stdin"],
                          stdin=subprocess.PIPE, capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    assert_refused(done.returncode, done.stderr, "/dev/stdin: a FIFO (named pipe)")


def test_a_fifo_swapped_in_after_the_check_is_not_waited_on(tmp_path, monkeypatch):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    # As if the path held a file when looked up, and a FIFO when opened.
    monkeypatch.setattr(paths, "_looked_up", lambda *_: os.stat(BASE))
    with pytest.raises(PathError, match="a FIFO"):
        read_input(fifo)


def test_a_file_is_read_at_most_to_its_limit(tmp_path):
    small = tmp_path / "small.toml"
    small.write_bytes(b"x" * 2**20)
    assert len(read_input(small, limit=2**20)) == 2**20
    with pytest.raises(PathError, match=r"too large \(1.0 MiB\); allowed: a file of at most 0"):
        read_input(small, limit=2**20 - 1)


@pytest.mark.parametrize(("kind", "expected"), [
    ("file", "exists and is a file; allowed: a new folder"),
    ("under_a_file", "a part of the path is not a folder"),
    ("long", "a name too long for the system"),
    ("loop", "a loop of symbolic links"),
])
def test_an_unusable_out_is_refused_before_the_run(tmp_path, capsys, kind, expected):
    target = {"file": tmp_path / "taken", "under_a_file": tmp_path / "taken" / "out",
              "long": tmp_path / LONG, "loop": tmp_path / "loop"}[kind]
    (tmp_path / "taken").write_text("mine\n")
    (tmp_path / "loop").symlink_to("loop")
    before = set(tmp_path.iterdir())
    status, out, err = blowback(capsys, "run", str(BASE), "--out", str(target))
    assert_refused(status, err, expected)
    assert out == "" and set(tmp_path.iterdir()) == before
    assert (tmp_path / "taken").read_text() == "mine\n"


def test_the_output_check_takes_a_new_or_existing_folder(tmp_path):
    assert check_output_folder(tmp_path) == tmp_path
    assert check_output_folder(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    with pytest.raises(PathError, match=r"a\\x00b: holds a NUL byte; allowed: a new folder"):
        check_output_folder("a\0b")


@pytest.mark.parametrize(("kind", "expected"), [
    ("loop", "a loop of symbolic links; allowed: a new file"),
    ("fifo", "exists and is a FIFO (named pipe); allowed: a new file"),
    ("folder", "exists and is a folder; allowed: a new file"),
    ("/dev/null", "exists and is a character device; allowed: a new file"),
    ("long", "a name too long for the system; allowed: a new file"),
])
def test_an_unusable_scenario_out_is_refused_before_the_fit(tmp_path, capsys, kind, expected):
    """calibrate's --scenario-out, a file written after an hour of fitting, is checked first."""
    path, _ = _make(tmp_path, kind)
    before = set(tmp_path.iterdir())
    status, out, err = blowback(capsys, "calibrate", str(SCENARIOS / "calibration" / "mali.toml"),
                                "--scenario-out", path, "--out", str(tmp_path / "out"))
    assert_refused(status, err, expected)
    assert out == "" and set(tmp_path.iterdir()) == before
