"""The chapters as downloadable notebooks (book/_ext/sgdlab_run.py): the set-up cell, the
metadata, the repository read from the environment."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import sgdlab_run  # noqa: E402 (the book's extension, on the path the build gives it)

REPOSITORY = sgdlab_run.Repository.from_environment(
    {"SGDLAB_REPOSITORY_URL": "https://github.com/owner/sgdlab/"})
PACKAGES = sgdlab_run.runtime_packages(ROOT / "binder" / "requirements.txt")


def test_the_repository_comes_from_the_environment():
    assert sgdlab_run.Repository.from_environment({}) is None
    assert REPOSITORY == sgdlab_run.Repository(
        url="https://github.com/owner/sgdlab", branch="main",
        binderhub="https://mybinder.org", jupyterhub="", notebooks_branch="notebooks")
    assert REPOSITORY.colab("elbo.ipynb") == (
        "https://colab.research.google.com/github/owner/sgdlab/blob/notebooks/elbo.ipynb")
    with pytest.raises(ValueError, match=re.escape("https://github.com/<owner>/<name>")):
        sgdlab_run.Repository.from_environment({"SGDLAB_REPOSITORY_URL": "https://gitlab.com/a/b"})


def test_the_set_up_installs_what_a_chapter_imports_but_never_torch():
    modules = dict(PACKAGES)
    assert modules["ot"].startswith("pot==") and modules["PIL"].startswith("pillow==")
    assert not {"torch", "ipykernel", "jupyterlab", "jupytext"} & set(modules)


def _run_setup(monkeypatch, source: str, missing: set[str]) -> list[list[str]]:
    """Execute a set-up cell where the modules in ``missing`` are not installed."""
    calls: list[list[str]] = []
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in missing else real(name, *a))
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(list(cmd)))
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(compile(source, "setup-cell", "exec"), {})
    return calls


def test_the_set_up_cell_does_nothing_where_sgdlab_is_installed(monkeypatch):
    assert _run_setup(monkeypatch, sgdlab_run.setup_source(REPOSITORY, PACKAGES), set()) == []
    assert _run_setup(monkeypatch, sgdlab_run.setup_source(None, PACKAGES), set()) == []


def test_elsewhere_it_clones_installs_without_deps_and_adds_what_is_missing(monkeypatch,
                                                                         tmp_path):
    monkeypatch.chdir(tmp_path)
    calls = _run_setup(monkeypatch, sgdlab_run.setup_source(REPOSITORY, PACKAGES),
                       {"sgdlab", "ot"})
    clone, install, extra = calls
    assert clone == ["git", "clone", "--quiet", "--depth", "1", "--branch", "main",
                     "https://github.com/owner/sgdlab.git", "sgdlab"]
    assert install[1:] == ["-m", "pip", "install", "--quiet", "--no-deps", "--editable",
                           "sgdlab"]
    assert extra[-1] == dict(PACKAGES)["ot"] and len(extra) == 6


def test_built_offline_it_says_how_to_install(monkeypatch):
    with pytest.raises(ModuleNotFoundError, match="pip install --no-deps"):
        _run_setup(monkeypatch, sgdlab_run.setup_source(None, PACKAGES), {"sgdlab"})


def test_a_chapter_notebook_has_no_outputs_and_asks_for_a_gpu_where_its_front_matter_does():
    setup = sgdlab_run.setup_source(REPOSITORY, PACKAGES)
    spectrum = sgdlab_run.chapter_notebook(ROOT / "book" / "spectrum.md", setup)
    elbo = sgdlab_run.chapter_notebook(ROOT / "book" / "elbo.md", setup)
    for notebook in (spectrum, elbo):
        nbformat.validate(notebook)
        assert notebook.cells[1].source == setup and "jupytext" not in notebook.metadata
        assert [c.id for c in notebook.cells] == [f"cell-{k}" for k in range(len(notebook.cells))]
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")
    assert spectrum.metadata["accelerator"] == "GPU" and "accelerator" not in elbo.metadata


def test_an_unknown_accelerator_is_refused(tmp_path):
    chapter = tmp_path / "x.md"
    header = (ROOT / "book" / "spectrum.md").read_text().split("---")[1]
    chapter.write_text(f"---{header.replace('GPU', 'TPU')}---\n# x\n")
    with pytest.raises(ValueError, match=re.escape("accelerator must be 'GPU', got 'TPU'")):
        sgdlab_run.chapter_notebook(chapter, "")
