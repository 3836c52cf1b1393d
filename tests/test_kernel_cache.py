"""Compiled kernels are cached per version of the whole source, so editing a term that a kernel
of another module inlines (numba's own cache checks only the kernel's file) starts afresh."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

import numba
import pytest
from conftest import ROOT

from sim import kernel_cache
from sim.experiments import runs


def test_editing_any_module_changes_the_cache_folder(tmp_path, monkeypatch):
    copy = tmp_path / "sim"
    shutil.copytree(ROOT / "sim", copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(kernel_cache, "PACKAGE", copy)
    before = kernel_cache.source_digest()
    term = copy / "mechanisms" / "m05_recruitment.py"
    term.write_text(term.read_text().replace("FEAR_KEEP = 0.85", "FEAR_KEEP = 0.8"))
    assert kernel_cache.source_digest() != before


def test_the_folder_is_keyed_once_under_the_chosen_one(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    kernel_cache.configure()
    keyed = tmp_path / kernel_cache.source_digest()
    assert os.environ["NUMBA_CACHE_DIR"] == str(keyed)
    kernel_cache.configure()  # a worker process inherits the keyed folder: it stays
    assert os.environ["NUMBA_CACHE_DIR"] == str(keyed)


def test_without_a_choice_the_users_cache_holds_it(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    kernel_cache.configure()
    expected = tmp_path / "blowback" / "numba" / kernel_cache.source_digest()
    assert os.environ["NUMBA_CACHE_DIR"] == str(expected)


@pytest.fixture
def blocked(tmp_path, monkeypatch) -> str:
    """A folder no one can make (under a regular file, so even root cannot); the test's
    changes to the cache's choice are undone after it."""
    (tmp_path / "file").write_text("")
    monkeypatch.setattr(kernel_cache, "CACHE", kernel_cache.CACHE)
    monkeypatch.delenv("HOME", raising=False)
    return str(tmp_path / "file" / "x")


def test_an_unwritable_choice_falls_back_to_the_temporary_folder(tmp_path, monkeypatch,
                                                                  blocked):
    monkeypatch.setenv("NUMBA_CACHE_DIR", blocked)
    monkeypatch.setenv("XDG_CACHE_HOME", blocked)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "t"))
    (tmp_path / "t").mkdir()
    assert kernel_cache.configure()
    expected = tmp_path / "t" / "blowback-numba" / kernel_cache.source_digest()
    assert os.environ["NUMBA_CACHE_DIR"] == str(expected) and expected.is_dir()


def test_with_nowhere_to_write_the_cache_is_off(monkeypatch, blocked):
    monkeypatch.setenv("NUMBA_CACHE_DIR", blocked)
    monkeypatch.setenv("XDG_CACHE_HOME", blocked)
    monkeypatch.setattr(tempfile, "tempdir", blocked)
    assert not kernel_cache.configure() and not kernel_cache.CACHE
    assert "NUMBA_CACHE_DIR" not in os.environ


def test_with_nowhere_to_write_the_package_imports_and_runs(blocked):
    """A read-only install without a home: the kernels compile at each start, uncached."""
    env = {k: v for k, v in os.environ.items() if k != "HOME"}
    env |= {"NUMBA_CACHE_DIR": blocked, "XDG_CACHE_HOME": blocked, "TMPDIR": blocked}
    # As root the usual /tmp is always writable: the temporary folder is blocked in the process.
    code = (f"import tempfile; tempfile.tempdir = {blocked!r}\n"
            "import os, numpy as np, sim\n"
            "from sim.core.rng import mix64\n"
            "assert not sim.kernel_cache.CACHE and 'NUMBA_CACHE_DIR' not in os.environ\n"
            "print(mix64(np.uint64(1)) == mix64.py_func(np.uint64(1)))\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout == "True\n", done.stderr


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="nothing is compiled without the JIT")
def test_a_pool_into_an_empty_cache_compiles_the_kernels_first_and_once(tmp_path, monkeypatch):
    """The process that starts the workers compiles the kernels and marks the folder, so that
    the workers, and the pools after them, load what it compiled."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(kernel_cache, "CACHE", True)
    compiles = []
    compile_kernels = runs.compile_kernels
    monkeypatch.setattr(runs, "compile_kernels",
                        lambda scenario: compiles.append(compile_kernels(scenario)))
    assert not kernel_cache.compiled()
    runs.worker_pool(1).shutdown()
    runs.compile_once()
    assert len(compiles) == 1 and kernel_cache.compiled()
    assert (tmp_path / kernel_cache.COMPILED_MARK).is_file()


def test_without_a_cache_nothing_is_compiled_ahead(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(kernel_cache, "CACHE", False)
    monkeypatch.setattr(runs, "compile_kernels", lambda scenario: pytest.fail("compiled"))
    runs.compile_once()
    kernel_cache.mark_compiled()
    assert not kernel_cache.compiled() and not any(tmp_path.iterdir())
