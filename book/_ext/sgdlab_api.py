"""Sphinx extension of the sgdlab book's API reference (``book/api.md``).

- autosummary's tables show the first sentence of each docstring, cut at the
  first period followed by a space unless the text there ends with one of a few
  abbreviations (``e.g.``, ``i.e.``, ``et al.``).  sgdlab's docstrings cite the
  paper as "Fig. 3", "Figs. 1-2" or "eq. (2)": these abbreviations join that
  list, so that a summary is not cut at them.
- autosummary writes a page per module into ``book/_api/`` and never deletes
  one; the glob of ``_toc.yml`` would still build the page of a module since
  removed or renamed, and fail on importing it.  Such pages are deleted first.
- An explorer is an ipywidgets widget, whose ``__new__(*args, **kwargs)``
  (from traitlets) autodoc takes for its signature; it gets the signature of
  its own ``__init__`` instead.
"""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.ext import autosummary
from sphinx.util import logging

logger = logging.getLogger(__name__)

_PAPER_ABBREVIATIONS = ("Fig.", "Figs.", " eq.", "(eq.", " eqs.", "(eqs.", "Eq.", "Eqs.",
                        "Sec.", "Def.", "cf.")
# Where book/api.md's autosummary writes the pages (its :toctree: option).
_PAGES = Path("book") / "_api"


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package is gone
        return False


def _drop_stale_pages(app: Sphinx) -> None:
    """Delete the pages of modules that no longer exist."""
    for page in sorted((Path(app.srcdir) / _PAGES).glob("*.rst")):
        if not _module_exists(page.stem):
            logger.info(f"[sgdlab] {page.stem} is gone: deleting its API page")
            page.unlink()


def _init_signature(app: Sphinx, what: str, name: str, obj: Any, options: Any,
                    signature: str | None, return_annotation: str | None
                    ) -> tuple[str, None] | None:
    """The signature of a class's own ``__init__`` where autodoc found only ``*args, **kwargs``."""
    if what != "class" or signature != "(*args, **kwargs)" or "__init__" not in vars(obj):
        return None
    init = inspect.signature(obj.__init__)
    params = [p.replace(annotation=inspect.Parameter.empty)
              for p in list(init.parameters.values())[1:]]
    return str(init.replace(parameters=params, return_annotation=inspect.Signature.empty)), None


def setup(app: Sphinx) -> dict[str, Any]:
    known = autosummary.WELL_KNOWN_ABBREVIATIONS
    autosummary.WELL_KNOWN_ABBREVIATIONS = known + tuple(
        a for a in _PAPER_ABBREVIATIONS if a not in known)
    # Before autosummary writes the pages (priority 500).
    app.connect("builder-inited", _drop_stale_pages, priority=400)
    app.connect("autodoc-process-signature", _init_signature)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
