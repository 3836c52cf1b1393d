"""What a release has: licence, citation, changelog, a container recipe that runs the README's
first command, and a documentation site that builds without a broken link."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

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
