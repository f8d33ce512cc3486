"""Sphinx extension of the sgdlab book's API reference (``book/api.md``).

autosummary's tables show the first sentence of each docstring, cut at the
first period followed by a space unless the text there ends with one of a few
abbreviations (``e.g.``, ``i.e.``, ``et al.``).  sgdlab's docstrings cite the
paper as "Fig. 3", "Figs. 1-2" or "eq. (2)": these abbreviations join that list,
so that a summary is not cut at them.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.ext import autosummary

_PAPER_ABBREVIATIONS = ("Fig.", "Figs.", " eq.", "(eq.", " eqs.", "(eqs.", "Eq.", "Eqs.",
                        "Sec.", "Def.", "cf.")


def setup(app: Sphinx) -> dict[str, Any]:
    known = autosummary.WELL_KNOWN_ABBREVIATIONS
    autosummary.WELL_KNOWN_ABBREVIATIONS = known + tuple(
        a for a in _PAPER_ABBREVIATIONS if a not in known)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
