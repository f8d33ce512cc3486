"""Sphinx extension of the sgdlab book.

- The chapters know that the book is being built (:mod:`sgdlab.book`): the
  extension sets ``SGDLAB_BOOK_BUILD=1`` for the kernels that execute them, so
  that they glue with myst-nb and the explorers' displays carry their static
  fallback (frames behind an HTML slider). Those frames are written as image
  files beside the execution cache (``SGDLAB_BOOK_FRAMES``), and the ones the
  pages name are copied into ``_static/explorers/`` of the site; a page naming a
  frame that is missing fails the build.
- Page assets without duplicates: Sphinx 7 emits an inline ``<script>``
  added after the builder started once per registration path, so
  sphinx-thebe's ``const THEBE_JS_URL = ...`` appears twice on every page and
  the second copy throws a SyntaxError in the browser; repeated scripts are
  dropped from each page's context.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _drop_repeated_scripts(app: Sphinx, pagename: str, templatename: str,
                           context: dict[str, Any], doctree: Any) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    unique = []
    for script in scripts:
        # An inline script is registered once with filename None, once with "".
        attributes = getattr(script, "attributes", {})
        key = (getattr(script, "filename", None) or "", repr(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _frames_folder(app: Sphinx) -> Path:
    """The explorers' frames: beside the execution cache, so that they last as long."""
    return (Path(app.srcdir) / app.config.nb_execution_cache_path).parent / "explorer_frames"


def _announce_build(app: Sphinx, config: Any) -> None:
    # The kernels that execute the chapters inherit these (sgdlab.book.BUILD_ENV and
    # FRAMES_ENV): they glue with myst-nb and give the explorers' displays their static
    # fallback, with its frames as files.
    os.environ["SGDLAB_BOOK_BUILD"] = "1"
    os.environ["SGDLAB_BOOK_FRAMES"] = str(_frames_folder(app))


_FRAME = re.compile(r"\.\./_static/explorers/([0-9a-f]{20}\.webp)")


def _copy_frames(app: Sphinx, exception: Exception | None) -> None:
    """Copy into the site the frames its pages name; warn of any that is missing."""
    if exception is not None or app.builder.format != "html":
        return
    source, target = _frames_folder(app), Path(app.outdir) / "_static" / "explorers"
    target.mkdir(parents=True, exist_ok=True)
    for page in sorted(Path(app.outdir).rglob("*.html")):
        for name in sorted(set(_FRAME.findall(page.read_text(encoding="utf-8")))):
            if (source / name).is_file():
                shutil.copyfile(source / name, target / name)
            elif not (target / name).is_file():
                logger.warning(f"[sgdlab] {page.name} names the explorer frame {name}, "
                               f"missing from {source}: delete _build/.jupyter_cache and rebuild")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _announce_build)
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    app.connect("build-finished", _copy_frames)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
