"""The documents agree with the repository.

Every command that README.md and docs/*.md quote either runs (the cheap ones: ``scenario``,
``--help``) or is read by the real parser with every file it names present and every scenario,
``--set`` and experiment it names accepted (the expensive ones: ``compare``, ``sweep``,
``calibrate``…); a script or module of the repository quoted with its arguments answers
``--help`` when started the way the document starts it; the extras of ``pip install`` lines
exist; Python snippets compile and import what exists.  And no document points outside the
repository, at one machine's folders, or at the working sessions it was written in, which a
reader cannot see.
"""

from __future__ import annotations

import argparse
import ast
import functools
import importlib
import importlib.util
import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sim.interfaces import cli

ROOT = Path(__file__).resolve().parents[1]
COMMAND_DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PROSE_DOCS = [*COMMAND_DOCS, *sorted((ROOT / "notebooks").glob("*.md"))]

# Paths of one machine or outside the repository, the design brief that is not shipped, and
# words that only make sense to whoever wrote the text on that day.
ELSEWHERE = re.compile(
    r"shared/|/work/|/tmp/|/home/|MODEL-BRIEF|seeds/|uncommitted|work in progress"
    r"|\bthis (?:stop|session|morning|afternoon|evening)\b|\blast (?:stop|session)\b"
    r"|\b(?:commit|worktree add \S+) `?[0-9a-f]{7,40}\b", re.IGNORECASE)
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`((?:\.venv/bin/)?blowback\s[^`]+)`")
SHELL = {"bash", "sh", "console", "shell"}
# Commands that finish in a second or two: they are really run.
CHEAP = {"scenario"}
# Arguments that name what a command writes (or another interpreter), not a repository file.
WRITTEN = {"--out", "--scenario-out", "--mesa-python"}
REPO_PATH = re.compile(r"^(?:scenarios|docs|sim|notebooks|benchmarks|tests)/\S*$"
                       r"|^[\w./-]+\.(?:toml|csv|py|ipynb|md|json)$")


def _prose(path: Path) -> str:
    """The text of a document; for a notebook, its markdown cells."""
    if path.suffix != ".ipynb":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def _blocks(text: str) -> list[tuple[str, str]]:
    """The fenced code blocks of a document: (language, body)."""
    return [(m.group(1).lower(), m.group(2)) for m in FENCE.finditer(text)]


def _shell_commands(body: str, language: str) -> list[list[str]]:
    """The commands of a shell block: lines joined at backslashes, split at ``&&``, ``;`` and
    ``|`` (the reading end of a pipe is not ours), comments and ``$`` prompts dropped."""
    commands = []
    for line in body.replace("\\\n", " ").splitlines():
        if language == "console":
            if not line.startswith("$ "):
                continue
            line = line[2:]
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command: list[str] = []
        after_pipe = False
        for token in [*lexer, ";"]:
            if token in {"&&", ";", "|", "||"}:
                if command and not after_pipe:
                    commands.append(command)
                command, after_pipe = [], token == "|"
            else:
                command.append(token)
    return commands


def _inline_commands(text: str) -> list[list[str]]:
    """The ``blowback …`` commands quoted inline in the prose (outside code blocks)."""
    prose = FENCE.sub("", text).replace("\\|", "|")
    return [_shell_commands(" ".join(m.group(1).split()), "bash")[0]
            for m in INLINE.finditer(prose)]


def _quoted() -> list[tuple[str, str, list[str]]]:
    """Every command quoted: (document, "block" or "inline", tokens)."""
    found = []
    for doc in COMMAND_DOCS:
        text = doc.read_text(encoding="utf-8")
        for language, body in _blocks(text):
            if language in SHELL:
                found += [(doc.name, "block", c) for c in _shell_commands(body, language)]
        found += [(doc.name, "inline", c) for c in _inline_commands(text)]
    return found


QUOTED = _quoted()


def _blowback_argv(tokens: list[str]) -> list[str] | None:
    """The arguments after ``blowback`` (or ``python -m sim``); None for another program."""
    if Path(tokens[0]).name == "blowback":
        return tokens[1:]
    if Path(tokens[0]).name.startswith("python") and tokens[1:3] == ["-m", "sim"]:
        return tokens[3:]
    return None


def _subparser(name: str) -> argparse.ArgumentParser:
    choices = next(a for a in cli.argument_parser()._actions
                   if isinstance(a, argparse._SubParsersAction)).choices
    assert name in choices, f"no subcommand {name!r}; there are {sorted(choices)}"
    return choices[name]


def _has_version() -> bool:
    return any("--version" in a.option_strings for a in cli.argument_parser()._actions)


def _check_paths(tokens: list[str]) -> None:
    """Every repository file a command names is there (what it writes need not be)."""
    for before, token in zip(["", *tokens], tokens, strict=False):
        if before in WRITTEN or "://" in token:
            continue
        for part in token.split("=")[-1:]:
            if REPO_PATH.match(part):
                assert (ROOT / part).exists(), f"{part} is not in the repository"


def _run_cheap(argv: list[str], capsys) -> None:
    """Run a cheap command in this process, from the repository root."""
    try:
        status = cli.main(argv)
    except SystemExit as stop:  # --help ends in argparse's exit
        status = stop.code
    err = capsys.readouterr().err
    assert status == 0, f"blowback {shlex.join(argv)} exited {status}: {err}"


def _check_parsed(args: argparse.Namespace) -> None:
    """What an expensive command reads is accepted, without running it: its scenarios with the
    ``--set`` options, its experiment, its calibration file, its posterior."""
    from sim.core.scenario import load_scenario
    from sim.interfaces.commands import settings

    files = [getattr(args, "scenario", None), *(getattr(args, "scenarios", None) or [])]
    for file in filter(None, files):
        scenario = load_scenario(file)
        if getattr(args, "set", None):
            scenario.with_values(settings(args), "--set")
    if getattr(args, "experiment", None):
        from sim.experiments.experiment import load_experiment
        load_experiment(args.experiment)
    if getattr(args, "calibration", None):
        from sim.experiments.calibration import load_calibration
        load_calibration(args.calibration)
    if getattr(args, "posterior", None):
        from sim.experiments.posterior import load_posterior
        load_posterior(args.posterior)


def _check_blowback(argv: list[str], where: str, capsys) -> None:
    if argv == ["--version"] and not _has_version():
        pytest.skip("this blowback has no --version yet")
    _check_paths(argv)
    cheap = argv[0] in CHEAP or "--help" in argv or "-h" in argv or argv == ["--version"]
    if where == "inline" and len(argv) == 1:
        _subparser(argv[0])  # the command named in passing: `blowback scenario`
    elif where == "inline" and not cheap:
        # A command named in passing (`blowback compare --posterior`): its options must exist.
        known = _subparser(argv[0])._option_string_actions
        unknown = [t for t in argv[1:] if t.startswith("-") and t.split("=")[0] not in known]
        assert not unknown, f"blowback {argv[0]} has no option {unknown}"
    elif cheap:
        _run_cheap(argv, capsys)
    else:
        try:
            args = cli.argument_parser().parse_args(argv)
        except SystemExit:
            pytest.fail(f"blowback {shlex.join(argv)}: {capsys.readouterr().err}")
        _check_parsed(args)


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _started(tokens: list[str]) -> tuple[str, ...] | None:
    """How a command starts a script of the repository (``benchmarks/x.py``) or one of its
    modules (``-m benchmarks.x``, ``-m sim.classics.epstein``), if it starts one."""
    if not Path(tokens[0]).name.startswith("python") or len(tokens) < 2:
        return None
    if tokens[1].endswith(".py") and (ROOT / tokens[1]).is_file():
        return (tokens[1],)
    if tokens[1] == "-m" and len(tokens) > 2 and tokens[2].startswith(("benchmarks.", "sim.")):
        return tuple(tokens[1:3])
    return None


@functools.cache
def _help_of(started: tuple[str, ...]) -> tuple[int, str]:
    """Exit status and standard error of ``python STARTED --help``, from the repository root,
    as a reader would type it: the script's own imports must work when it is started that way."""
    done = subprocess.run([sys.executable, *started, "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    return done.returncode, done.stderr


def _check_other(tokens: list[str]) -> None:
    """pip's extras exist, pytest's markers are declared, python's modules and scripts exist,
    and a script or module of the repository starts."""
    _check_paths(tokens)
    started = _started(tokens)
    if started is not None:
        status, err = _help_of(started)
        last = err.strip().splitlines()[-1:] or [""]
        assert status == 0, f"python {' '.join(started)} --help exited {status}: {last[0]}"
    if "pip" in Path(tokens[0]).name and "install" in tokens:
        extras = set(_pyproject()["project"]["optional-dependencies"])
        for token in tokens:
            for named in re.findall(r"^\.\[([\w,-]+)\]$", token):
                missing = set(named.split(",")) - extras
                assert not missing, f"no extra {missing} in pyproject.toml; there are {extras}"
    if Path(tokens[0]).name.startswith("python") and "-m" in tokens:
        module = tokens[tokens.index("-m") + 1]
        if module == "pytest" and "-m" in tokens[tokens.index("-m") + 2:]:
            marker = tokens[len(tokens) - tokens[::-1].index("-m")]
            declared = [m.split(":")[0] for m in _pyproject()["tool"]["pytest"]["ini_options"]
                        ["markers"]]
            assert marker.replace("not ", "") in declared, f"no pytest marker {marker!r}"
        elif module not in {"venv", "pip"}:
            assert importlib.util.find_spec(module), f"no module {module}"


@pytest.mark.parametrize(("doc", "where", "tokens"), QUOTED,
                         ids=[f"{d}:{w}:{' '.join(t)[:60]}" for d, w, t in QUOTED])
def test_every_quoted_command_runs_or_parses(doc, where, tokens, capsys, monkeypatch):
    """Each quoted command: cheap ones run, the others parse with everything they name there."""
    monkeypatch.chdir(ROOT)
    argv = _blowback_argv(tokens)
    if argv is not None:
        _check_blowback(argv, where, capsys)
    else:
        _check_other(tokens)


def test_the_quoted_commands_were_found():
    """The extraction itself works: the README's main job and the explain are among them."""
    joined = [" ".join(t) for _, _, t in QUOTED]
    assert any(j.startswith(".venv/bin/blowback compare scenarios/partner_led.toml")
               for j in joined)
    assert "blowback scenario --explain" in joined
    assert len(QUOTED) > 40


def _python_blocks() -> list[tuple[str, str]]:
    return [(doc.name, body) for doc in COMMAND_DOCS
            for language, body in _blocks(doc.read_text(encoding="utf-8"))
            if language == "python"]


@pytest.mark.parametrize(("doc", "body"), _python_blocks())
def test_python_snippets_compile_and_import_what_exists(doc, body, monkeypatch):
    """Each Python snippet compiles, its ``sim`` imports resolve, and the repository files it
    names as strings exist."""
    monkeypatch.chdir(ROOT)
    tree = ast.parse(body, filename=doc)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module.split(".")[0] == "sim":
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"{doc}: {node.module} has no {alias.name}"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            _check_paths([node.value])


def test_toml_snippets_parse():
    """The TOML examples are TOML."""
    for doc in COMMAND_DOCS:
        for language, body in _blocks(doc.read_text(encoding="utf-8")):
            if language == "toml":
                tomllib.loads(body)


@pytest.mark.parametrize("doc", [*PROSE_DOCS, *sorted((ROOT / "notebooks").glob("*.ipynb"))],
                         ids=lambda p: p.name)
def test_no_document_points_outside_the_repository_or_at_a_session(doc):
    """No paths of one machine, files that are not shipped, commits, or diary words."""
    lines = _prose(doc).splitlines()
    found = [f"{doc.name}:{n}: {line.strip()[:100]}" for n, line in enumerate(lines, 1)
             if ELSEWHERE.search(line)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("doc", PROSE_DOCS, ids=lambda p: p.name)
def test_links_to_files_of_the_repository_resolve(doc):
    """A Markdown link to a file of the repository names a file that is there."""
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
        if "://" not in target and not target.startswith("mailto:"):
            assert (doc.parent / target).exists(), f"{doc.name}: link to {target}: no such file"


def test_the_readme_speed_up_is_the_benchmark_report():
    """The README's Epstein speed-up is the range that ``blowback bench --report`` last wrote
    (docs/performance.json): a new report with other ratios fails here until the README says
    them."""
    ratios = [row["ratio"] for row in
              json.loads((ROOT / "docs" / "performance.json").read_text())["epstein"]]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for ratio in (min(ratios), max(ratios)):
        assert f"{round(ratio):,}×" in readme, f"README.md does not give the ratio {ratio:.0f}×"


@pytest.mark.parametrize(("where", "tokens"), [
    ("block", ["blowback", "compare", "scenarios/no_such_regime.toml"]),
    ("block", ["blowback", "run", "scenarios/pressure.toml", "--set", "oversight.punishmnt=1"]),
    ("block", ["blowback", "sweep", "scenarios/experiments/regimes.toml", "--no-such-flag"]),
    ("inline", ["blowback", "compare", "--no-such-flag"]),
    ("block", [".venv/bin/pip", "install", "-e", ".[no_such_extra]"]),
    ("block", ["python", "-m", "pytest", "-m", "no_such_marker"]),
], ids=["missing file", "bad --set", "unknown flag", "unknown inline flag", "extra", "marker"])
def test_the_checks_refuse_a_wrong_command(where, tokens, capsys, monkeypatch):
    """The checks above are not vacuous: a command naming what does not exist fails them."""
    from sim.core.scenario import ScenarioError

    monkeypatch.chdir(ROOT)
    with pytest.raises((AssertionError, ScenarioError, pytest.fail.Exception)):
        argv = _blowback_argv(tokens)
        if argv is None:
            _check_other(tokens)
        else:
            _check_blowback(argv, where, capsys)


def test_a_session_word_or_machine_path_is_caught():
    """The pattern of the hygiene test finds what it is meant to."""
    for text in ("see /work/main/x", "shared/MODEL-BRIEF.md", "This stop's changes",
                 "commit `653fb6f`", "plus uncommitted changes", "as in the last session"):
        assert ELSEWHERE.search(text), text
    assert not ELSEWHERE.search("a shared virtual machine; the git commit of a run")


def test_the_readme_names_every_file_a_results_folder_holds():
    """Each file `run`, `compare` and `analyse` write is named in README.md (a figure by its name
    without the extension where it comes in PNG and SVG), and so are the columns of a
    comparison's tables."""
    from sim.experiments.analysis import ANALYSIS_FILES
    from sim.experiments.compare import COMPARISON_FILES
    from sim.experiments.results import RUN_FILES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = set(re.findall(r"`([^`\s]+)`", readme))
    missing = [name for name in sorted(RUN_FILES | COMPARISON_FILES | ANALYSIS_FILES)
               if name not in quoted and Path(name).stem not in quoted]
    assert not missing, f"README.md does not name {missing}"
    columns = ["scenario", "outcome", "label", "unit", "mean", "low", "high", "n", "seed"]
    assert not [c for c in columns if c not in quoted], "comparison.csv's columns"
