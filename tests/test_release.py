"""What a release has: licence, citation, changelog, a container recipe that runs the README's
first command, a documentation site that builds without a broken link, and a wheel that carries
the shipped scenarios."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, SCENARIOS

from sim.core.scenario import load_scenario
from sim.version import __version__


def _readme_first_command() -> list[str]:
    """The blowback invocation of the README's first command."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    return ["blowback", *shlex.split(block.split(".venv/bin/blowback ", 1)[1].strip())]


def test_container_runs_the_readme_first_command():
    recipe = (ROOT / "Containerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", recipe, re.M)
    assert re.search(r"^RUN pip install --no-cache-dir \.$", recipe, re.M)
    cmd = re.search(r"^CMD (\[.*\])$", recipe, re.M)
    assert cmd, "the recipe has no CMD in exec form"
    assert json.loads(cmd.group(1)) == _readme_first_command()
    # Everything the command reads is copied in.
    for path in _readme_first_command()[2:]:
        if path.endswith(".toml"):
            assert (ROOT / path).is_file() and "COPY scenarios ./scenarios" in recipe


def test_citation_is_cff_1_2_of_this_version():
    text = (ROOT / "CITATION.cff").read_text()
    fields = dict(re.findall(r"^([a-z-]+): (.+)$", text, re.M))
    assert fields["cff-version"] == "1.2.0"
    assert json.loads(fields["version"]) == __version__
    assert fields["license"] == "MIT"
    assert {"message", "title", "authors"} <= set(re.findall(r"^([a-z-]+):", text, re.M))
    assert '  - name: "The Blowback authors"' in text.splitlines()


def test_licence_and_changelog():
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "2026 The Blowback authors" in licence
    assert 'license = { text = "MIT" }' in (ROOT / "pyproject.toml").read_text()
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "keepachangelog.com" in changelog and "## [Unreleased]" in changelog
    assert re.search(rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog,
                     re.M)


def test_documentation_site_builds_strictly(tmp_path: Path):
    pytest.importorskip("material", reason="mkdocs-material (the test extra) is missing")
    nav = re.findall(r"^  - [^:]+: (\S+\.md)$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert sorted(nav) == sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                           "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                          capture_output=True, text=True, timeout=120,
                          env={"NO_MKDOCS_2_WARNING": "1", "PATH": ""})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "ODD" / "index.html").is_file()


def test_wheel_carries_the_shipped_scenarios(tmp_path: Path):
    """A regular install (a wheel, as ``pip install .`` or ``pip install git+URL`` makes) holds
    every module and every shipped scenario, and finds the scenarios in itself, not in a
    checkout."""
    pytest.importorskip("setuptools", minversion="70.1",
                        reason="setuptools 70.1+ (the test extra) builds the wheel")
    # Built from a copy: setuptools' build/ in the checkout could hold files since removed.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("sim", "scenarios"):
        shutil.copytree(ROOT / folder, source / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w",
                    str(tmp_path / "dist"), str(source)], check=True, timeout=120)
    wheel = next((tmp_path / "dist").glob("blowback-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "sim").rglob("*.py")}
    shipped = {"sim/" + p.relative_to(ROOT).as_posix() for p in SCENARIOS.rglob("*")
               if p.is_file()}
    assert not modules - names, f"modules missing from the wheel: {sorted(modules - names)}"
    assert not shipped - names, f"scenarios missing from the wheel: {sorted(shipped - names)}"

    installed = tmp_path / "installed"
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(installed),
                    str(wheel)], check=True, timeout=120)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    found = subprocess.run(
        [sys.executable, "-c", "import sim; from sim.core.shipped import scenarios_folder; "
         "from sim.experiments.claims import scenario; "
         "print(sim.__file__, scenarios_folder(), scenario('contractor_unchecked').name, "
         "sep='\\n')"],
        cwd=elsewhere, env={**os.environ, "PYTHONPATH": str(installed)}, capture_output=True,
        text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    module, folder, name = found.stdout.splitlines()
    assert Path(module) == installed / "sim" / "__init__.py"
    assert Path(folder) == installed / "sim" / "scenarios"
    assert name == load_scenario(SCENARIOS / "contractor_unchecked.toml").name
