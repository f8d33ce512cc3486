"""What the chapters need from the book's build, and nothing when they run elsewhere.

The chapters are notebooks that run in three places: the book's build (jupyter-book
executes them, myst-nb glues their numbers into the text), a live kernel (JupyterLab,
Binder, Colab: no myst-nb needed) and the tests (nbval). The book's Sphinx extension
sets :data:`BUILD_ENV` for the kernels it starts; :func:`building` reads it.

- :func:`glue`: myst-nb's ``glue`` while the book is built, a plain display elsewhere;
- the explorers give their displays a static fallback only while the book is built
  (:mod:`widgets`), its frames written as image files into :func:`frames_folder`,
  which the extension copies into the site, so that a page carries no inline images.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BUILD_ENV", "FRAMES_ENV", "FRAMES_URL", "building", "frames_folder", "glue"]

#: The environment variable the book's Sphinx extension sets to ``"1"`` for the kernels
#: that execute the chapters.
BUILD_ENV = "SGDLAB_BOOK_BUILD"


#: The environment variable naming the folder the explorers write their frames into
#: while the book is built (beside the execution cache, so both last as long).
FRAMES_ENV = "SGDLAB_BOOK_FRAMES"
#: Where a chapter's page finds those frames in the built site.
FRAMES_URL = "../_static/explorers/"


def building() -> bool:
    """Whether this kernel executes a chapter for the built book (:data:`BUILD_ENV`)."""
    return os.environ.get(BUILD_ENV) == "1"


def frames_folder() -> Path | None:
    """The folder of the explorers' frames while the book is built, else None."""
    folder = os.environ.get(FRAMES_ENV)
    return Path(folder) if building() and folder else None


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
        What is glued: a number (a NumPy scalar is glued as the Python number it
        holds), a string, a figure.
    display : bool, default True
        Also show the value where the call is.
    """
    if isinstance(value, np.generic):
        value = value.item()  # NumPy 2 shows np.float64(0.5), which {glue:text} cannot format
    if building():
        from myst_nb import glue as myst_glue

        myst_glue(name, value, display=display)
    elif display:
        from IPython.display import display as show

        show(value)
