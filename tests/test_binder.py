"""The Binder environment (binder/): runtime packages only, requirements.txt's versions,
and a chapter that runs in a fresh environment made from it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
#: Packages of the book's build, the tests and the linters, which Binder does not need.
NOT_AT_RUN_TIME = {"jupyter-book", "myst-nb", "sphinx-proof", "sphinxcontrib-bibtex",
                   "sphinx-exercise", "otter-grader", "pytest", "nbval", "selenium", "ruff",
                   "mypy", "scipy-stubs", "types-tqdm", "torchvision"}


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_binder_pins_the_books_versions_and_no_build_tools():
    binder, book = _pins(BINDER / "requirements.txt"), _pins(ROOT / "requirements.txt")
    assert not binder.keys() & NOT_AT_RUN_TIME
    assert binder.pop("torch") == book["torch"] + "+cpu"     # the CPU build of the same torch
    assert {name: book.get(name) for name in binder} == binder
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    assert os.access(BINDER / "postBuild", os.X_OK)


def test_a_chapter_runs_in_a_fresh_binder_environment(tmp_path):
    """As repo2docker builds it, less PyTorch's CPU index, unreachable here.

    This machine serves torch 2.13.0+cpu from its own wheel folder; the other pins come
    from PyPI. The chapter is converted by jupytext and executed by nbconvert, the tools
    Binder's JupyterLab uses, with no myst-nb installed.
    """
    start = time.perf_counter()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(line for line in (BINDER / "requirements.txt")
                                      .read_text().splitlines()
                                      if not line.startswith("--extra-index-url")))
    subprocess.run([python, "-m", "pip", "install", "--quiet", "-r", str(requirements)],
                   check=True)
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(
        ".git", ".venv", "_build", "__pycache__", "*.egg-info", ".mypy_cache", ".ruff_cache"))
    subprocess.run(["bash", "binder/postBuild"], cwd=repo, check=True,
                   env={**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
                        "NB_PYTHON_PREFIX": str(venv)})
    installed = time.perf_counter() - start
    assert (venv / "share/jupyter/lab/settings/overrides.json").is_file()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SGDLAB_", "PYTHON"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", MPLBACKEND="Agg")
    notebook = tmp_path / "continuous_time.ipynb"
    subprocess.run([venv / "bin" / "jupytext", "--to", "ipynb", "-o", str(notebook),
                    str(repo / "book" / "continuous_time.md")], check=True, env=env)
    run = time.perf_counter()
    subprocess.run([venv / "bin" / "jupyter", "nbconvert", "--to", "notebook", "--execute",
                    "--ExecutePreprocessor.timeout=600", "--output", "executed.ipynb",
                    str(notebook)], check=True, env=env, cwd=repo / "book",
                   capture_output=True)
    assert (tmp_path / "executed.ipynb").is_file()
    print(f"\nBinder environment: installed in {installed:.0f} s, "
          f"continuous_time ran in {time.perf_counter() - run:.0f} s")
