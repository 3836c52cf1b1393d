"""Compiled kernels are cached per version of the whole source, so editing a term that a kernel
of another module inlines (numba's own cache checks only the kernel's file) starts afresh."""

from __future__ import annotations

import os
import shutil

from conftest import ROOT

from sim import kernel_cache


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
