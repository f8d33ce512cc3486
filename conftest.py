"""Collect the book's chapters for nbval.

Chapters are MyST markdown notebooks (``book/*.md`` with a ``kernelspec``);
nbval reads ``.ipynb`` only, so each one is converted with jupytext into
``_build/nbval/`` and run from there, every cell, failing on any error or
failed assertion (``--nbval-lax``: outputs are not compared).

The kernels nbval starts cannot import myst-nb, as in Colab or a plain Jupyter:
a ``sitecustomize`` written into ``_build/nbval/site/``, first on their
``PYTHONPATH``, blocks it, so every chapter is shown to run without it
(:func:`sgdlab.book.glue` displays plainly there).
"""

from __future__ import annotations

import os
from pathlib import Path

import jupytext
import pytest
from nbval.plugin import IPyNbCell, IPyNbFile

ROOT = Path(__file__).parent
BOOK = ROOT / "book"
OUT = ROOT / "_build" / "nbval"
BLOCK_MYST_NB = '''"""Written by the root conftest.py: the chapters' kernels run without myst-nb."""
import sys


class _WithoutMystNb:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "myst_nb":
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the tests)",
                                      name=name)
        return None


sys.meta_path.insert(0, _WithoutMystNb())
'''


#: Seconds nbval waits for each output message once a cell has finished (its own default is
#: 5): after a long cell on a busy 2-core machine the kernel can take longer to deliver the
#: last messages, and nbval then fails the cell though it ran. A hung kernel still fails.
OUTPUT_TIMEOUT = 60


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if isinstance(item, IPyNbCell):
            item.output_timeout = OUTPUT_TIMEOUT


def pytest_configure(config: pytest.Config) -> None:
    if not (config.option.nbval or config.option.nbval_lax):
        return
    site = OUT / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCK_MYST_NB)
    path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(site), *([path] if path else [])])


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
