"""Collect the book's chapters for nbval.

Chapters are MyST markdown notebooks (``book/*.md`` with a ``kernelspec``);
nbval reads ``.ipynb`` only, so each one is converted with jupytext into
``_build/nbval/`` and run from there, every cell, failing on any error or
failed assertion (``--nbval-lax``: outputs are not compared).
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
from nbval.plugin import IPyNbFile

ROOT = Path(__file__).parent
BOOK = ROOT / "book"
OUT = ROOT / "_build" / "nbval"


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    option = parent.config.option
    if file_path.suffix != ".md" or BOOK not in file_path.parents:
        return None
    if not (option.nbval or option.nbval_lax):
        return None
    notebook = jupytext.read(file_path)
    if "kernelspec" not in notebook.metadata:
        return None  # a plain page, not a chapter
    target = OUT / file_path.relative_to(BOOK).with_suffix(".ipynb")
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(notebook, target)
    return IPyNbFile.from_parent(parent, path=target)
