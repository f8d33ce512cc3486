"""What the chapters need from the book's build, and nothing when they run elsewhere.

The chapters are notebooks that run in three places: the book's build (jupyter-book
executes them, myst-nb glues their numbers into the text), a live kernel (JupyterLab,
Binder, Colab: no myst-nb needed) and the tests (nbval). The book's Sphinx extension
sets :data:`BUILD_ENV` for the kernels it starts; :func:`building` reads it.

- :func:`glue`: myst-nb's ``glue`` while the book is built, a plain display elsewhere;
- the explorers give their displays a static fallback only while the book is built
  (:mod:`widgets`).
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["BUILD_ENV", "building", "glue"]

#: The environment variable the book's Sphinx extension sets to ``"1"`` for the kernels
#: that execute the chapters.
BUILD_ENV = "SGDLAB_BOOK_BUILD"


def building() -> bool:
    """Whether this kernel executes a chapter for the built book (:data:`BUILD_ENV`)."""
    return os.environ.get(BUILD_ENV) == "1"


def glue(name: str, value: Any, display: bool = True) -> None:
    """Glue ``value`` under ``name`` into the built page, or display it plainly.

    While the book is built this is :func:`myst_nb.glue`, whose ``{glue}`` roles put
    the value in the chapter's text; elsewhere (a live kernel, Colab, the tests) myst-nb
    need not be installed, and ``value`` is displayed as any cell result is, when
    ``display`` is true.

    Parameters
    ----------
    name : str
        The key the chapter's text refers to.
    value : object
        What is glued: a number, a string, a figure.
    display : bool, default True
        Also show the value where the call is.
    """
    if building():
        from myst_nb import glue as myst_glue

        myst_glue(name, value, display=display)
    elif display:
        from IPython.display import display as show

        show(value)
