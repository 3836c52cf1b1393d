"""What ``blowback`` prints, wherever it goes: a reader that closes the pipe early ends the
command silently (status 141), a full device gives one line (status 1), a narrow encoding
gets escapes instead of an exception, and names holding terminal controls are shown escaped."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, SCENARIOS, assert_refused, blowback
from tqdm import tqdm

from sim.core.messages import ShownStream, shown

RED = "\x1b[31mred\u202e"
SHOWN_RED = "\\x1b[31mred\\u202e"
FULL = "blowback: error: cannot write to standard output (No space left on device)\n"


def _blowback(*args: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, timeout=120,
                          **options)


def _tiny(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(f'extends = "{SCENARIOS / "base.toml"}"\nname = "{name}"\n'
                    "[map]\ncommunities = 200\n", encoding="utf-8")
    return path


def test_a_reader_that_closes_the_pipe_ends_the_command_silently():
    """``blowback scenario --explain | head -1``, with the reader gone before the first write."""
    command = [sys.executable, "-m", "sim", "scenario", "--explain"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        process.stdout.close()
        err = process.stderr.read()
        status = process.wait(timeout=120)
    assert status == 141 and err == b""


def test_head_of_the_explanation_is_its_first_line():
    done = subprocess.run(f"{sys.executable} -m sim scenario --explain | head -1",
                          shell=True, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.split()[:2] == ["name", "default"] and done.stderr == ""


def test_a_full_device_is_one_line(tmp_path):
    with open("/dev/full", "w") as full:
        done = _blowback("scenario", "--explain", stdout=full, stderr=subprocess.PIPE,
                         text=True)
    assert done.returncode == 1 and done.stderr == FULL


def test_a_full_device_after_the_results_does_not_deny_them(tmp_path):
    out = tmp_path / "out"
    with open("/dev/full", "w") as full:
        done = _blowback("run", str(_tiny(tmp_path, "tiny")), "--steps", "3", "--out",
                         str(out), stdout=full, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 1 and done.stderr == FULL
    assert (out / "summary.json").is_file()


def test_an_ascii_terminal_gets_escapes(tmp_path):
    path = _tiny(tmp_path, "Gao–Ménaka")
    done = _blowback("scenario", str(path), capture_output=True,
                     env={**os.environ, "PYTHONIOENCODING": "ascii", "LANG": "C"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"Gao\\u2013M\\xe9naka (") and done.stderr == b""


def test_terminal_controls_in_a_name_are_shown_escaped(tmp_path, capsys):
    path = _tiny(tmp_path, "\\u001b[31mred\\u202e")
    status, out, err = blowback(capsys, "scenario", str(path))
    assert status == 0 and out.startswith(SHOWN_RED + " (") and "\x1b" not in out
    status, out, err = blowback(capsys, "run", str(path), "--steps", "3", "--out",
                                str(tmp_path / "out"))
    assert status == 0 and out.startswith(SHOWN_RED + ": ") and "\x1b" not in out + err
    assert "\u202e" not in out


def test_terminal_controls_in_an_error_line_are_shown_escaped(tmp_path, capsys):
    status, out, err = blowback(capsys, "scenario", str(tmp_path / f"{RED}.toml"))
    assert_refused(status, err, f"{SHOWN_RED}.toml: no such file")
    assert "\x1b" not in err and "\u202e" not in err


def test_shown_escapes_controls_bidi_and_separators_only():
    text = "a\tb\nc\x00\x7f\x85\u2028\u2066é–\U0001f600"
    assert shown(text) == "a\tb\nc\\x00\\x7f\\x85\\u2028\\u2066é–\U0001f600"
    assert shown("a\rb\n", keep="") == "a\\x0db\\x0a"


def test_the_progress_bar_keeps_its_carriage_returns():
    written = io.StringIO()
    stream = ShownStream(written, keep="\n\t\r")
    with tqdm(total=2, file=stream, desc="\x1bx", ascii=True) as bar:
        bar.update(2)
    assert "\r" in written.getvalue() and "\\x1bx" in written.getvalue()
    assert "\x1b" not in written.getvalue()
