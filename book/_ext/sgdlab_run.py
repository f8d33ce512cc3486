"""Sphinx extension: the ways a reader runs a chapter of the sgdlab book.

- **Notebooks.** Every chapter is offered as a plain ``.ipynb`` without outputs
  (``notebooks/<chapter>.ipynb`` in the site, and all of them in
  ``notebooks/sgdlab-notebooks.zip``), opening with a set-up cell that clones the
  repository and installs it with ``--no-deps`` where sgdlab is missing (Colab, a
  plain Jupyter), so that the notebook's own torch is kept. Chapters whose front
  matter asks for a GPU (``sgdlab: {accelerator: GPU}``) carry Colab's GPU
  metadata. The theme's download menu and a line under each chapter's title link
  to them; the ``{sgdlab-notebooks}`` directive lists them all (the running page).
- **Launch and repository buttons.** The repository comes from the build's
  environment, so that the publishing workflow names the repository it runs in:

  ``SGDLAB_REPOSITORY_URL``
      ``https://github.com/<owner>/<name>``. Unset: the offline build, without
      launch, repository or issue buttons, and a set-up cell that says how to
      install sgdlab instead of cloning it.
  ``SGDLAB_REPOSITORY_BRANCH``
      The branch launched and cloned (``main``).
  ``SGDLAB_BINDERHUB_URL``
      The BinderHub (``https://mybinder.org``; empty for no Binder button).
  ``SGDLAB_JUPYTERHUB_URL``
      A JupyterHub with nbgitpuller (no button when unset).
  ``SGDLAB_NOTEBOOKS_BRANCH``
      The branch holding the notebooks above, which Colab opens from GitHub
      (``notebooks``; the publishing workflow pushes it).
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

#: Where the notebooks are in the built site.
FOLDER = "notebooks"
#: The archive of all of them, in :data:`FOLDER`.
ARCHIVE = "sgdlab-notebooks.zip"
#: Packages that the set-up cell installs where missing, with their import names
#: (torch is the notebook's own: never installed over).
IMPORT_NAMES = {"pot": "ot", "pillow": "PIL"}
#: Runtime packages the set-up cell leaves alone: the frontend's own.
FRONTEND = {"torch", "ipykernel", "jupyterlab", "jupytext"}


@dataclass(frozen=True)
class Repository:
    """Where the book's sources are published, read from the build's environment."""

    url: str
    branch: str
    binderhub: str
    jupyterhub: str
    notebooks_branch: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Repository | None:
        """The repository named by ``SGDLAB_REPOSITORY_URL`` and friends, or None."""
        url = environ.get("SGDLAB_REPOSITORY_URL", "").strip().rstrip("/")
        if not url:
            return None
        if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
            raise ValueError(f"SGDLAB_REPOSITORY_URL must be https://github.com/<owner>/<name>, "
                             f"got {url!r}")
        return cls(url=url,
                   branch=environ.get("SGDLAB_REPOSITORY_BRANCH", "") or "main",
                   binderhub=environ.get("SGDLAB_BINDERHUB_URL", "https://mybinder.org"),
                   jupyterhub=environ.get("SGDLAB_JUPYTERHUB_URL", ""),
                   notebooks_branch=environ.get("SGDLAB_NOTEBOOKS_BRANCH", "") or "notebooks")

    @property
    def slug(self) -> str:
        """``<owner>/<name>``."""
        return self.url.removeprefix("https://github.com/")

    def colab(self, notebook: str) -> str:
        """Colab's link to ``notebook`` (a file name) on :attr:`notebooks_branch`."""
        return (f"https://colab.research.google.com/github/{self.slug}/blob/"
                f"{self.notebooks_branch}/{notebook}")


def runtime_packages(requirements: Path) -> list[tuple[str, str]]:
    """(import name, pinned requirement) of the packages a chapter imports at run time.

    Read from ``binder/requirements.txt`` (the runtime environment), less
    :data:`FRONTEND`.
    """
    packages = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        name = re.split(r"[=<>!~\[; ]", line, maxsplit=1)[0].lower()
        if name not in FRONTEND:
            packages.append((IMPORT_NAMES.get(name, name.replace("-", "_")), line))
    return packages


def setup_source(repository: Repository | None, packages: list[tuple[str, str]]) -> str:
    """The code of a notebook's set-up cell."""
    head = ("# Set-up where sgdlab is not installed (Colab, a plain Jupyter); it does\n"
            "# nothing in a clone of the repository, on Binder or in the book's build.\n"
            "import importlib.util\n"
            "import os\n"
            "import subprocess\n"
            "import sys\n\n")
    if repository is None:
        return head + (
            'if importlib.util.find_spec("sgdlab") is None:\n'
            '    raise ModuleNotFoundError(\n'
            '        "sgdlab is not installed: clone its repository, run `pip install --no-deps '
            '-e <clone>`"\n'
            '        " and `pip install -r <clone>/binder/requirements.txt`, then restart '
            'the kernel")\n')
    wanted = ",\n    ".join(f"({module!r}, {requirement!r})" for module, requirement in packages)
    return head + (
        'if importlib.util.find_spec("sgdlab") is None:\n'
        '    if not os.path.isdir("sgdlab"):\n'
        '        subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch",\n'
        f'                        {repository.branch!r}, {repository.url + ".git"!r}, "sgdlab"],\n'
        '                       check=True)\n'
        '    # --no-deps: the notebook keeps its own torch, numpy and friends\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",\n'
        '                    "--editable", "sgdlab"], check=True)\n'
        '    sys.path.insert(0, os.path.abspath("sgdlab"))  # seen without a restart\n'
        f'RUNTIME = [\n    {wanted},\n]\n'
        'missing = [requirement for module, requirement in RUNTIME\n'
        '           if importlib.util.find_spec(module) is None]\n'
        'if missing:\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing],\n'
        '                   check=True)\n')


def chapter_notebook(source: Path, setup: str, *, title: str = "") -> nbformat.NotebookNode:
    """A chapter (MyST markdown) as a plain notebook without outputs, set-up cell first.

    Parameters
    ----------
    source : Path
        The chapter's ``.md`` file.
    setup : str
        The set-up cell's code (:func:`setup_source`).
    title : str
        The book's title, named in the first cell.
    """
    notebook = jupytext.read(source)
    meta = notebook.metadata
    meta.pop("jupytext", None)
    accelerator = meta.pop("sgdlab", {}).get("accelerator")
    if accelerator is not None:
        if accelerator != "GPU":
            raise ValueError(f"{source}: sgdlab.accelerator must be 'GPU', got {accelerator!r}")
        meta["accelerator"] = "GPU"
        meta["colab"] = {"gpuType": "T4", "provenance": []}
    intro = nbformat.v4.new_markdown_cell(
        f"*A chapter of {title or 'the sgdlab book'}, as a notebook.* Run the next cell first "
        "where sgdlab is not installed. The chapter's text is MyST markdown: roles such as "
        "`{glue:text}` and `{ref}` show as written here, and the built book shows what they "
        "name." + (" A GPU runtime runs this chapter at the paper's scale; it also runs on a "
                   "CPU." if accelerator else ""))
    notebook.cells = [intro, nbformat.v4.new_code_cell(setup), *notebook.cells]
    for k, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{k}"  # the same in every build
    nbformat.validate(notebook)
    return notebook


def _chapter_name(docname: str) -> str:
    return f"{posixpath.basename(docname)}.ipynb"


def _is_chapter(app: Sphinx, docname: str) -> bool:
    source = Path(app.env.doc2path(docname))
    return source.suffix == ".md" and "kernelspec:" in source.read_text(encoding="utf-8")[:600]


def _chapters(app: Sphinx) -> list[str]:
    return [d for d in app.env.found_docs if _is_chapter(app, d)]


def _write_notebooks(app: Sphinx, exception: Exception | None) -> None:
    """Write every chapter's notebook and the archive of all of them into the site."""
    if exception is not None or app.builder.format != "html":
        return
    setup = setup_source(app.config.sgdlab_repository,
                         runtime_packages(Path(app.srcdir) / "binder" / "requirements.txt"))
    folder = Path(app.outdir) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for docname in sorted(_chapters(app)):
            notebook = chapter_notebook(Path(app.env.doc2path(docname)), setup,
                                        title=app.config.project)
            text = nbformat.writes(notebook)
            (folder / _chapter_name(docname)).write_text(text, encoding="utf-8")
            bundle.writestr(f"sgdlab-notebooks/{_chapter_name(docname)}", text)
    (folder / ARCHIVE).write_bytes(archive.getvalue())


def _read_repository(app: Sphinx, config: Any) -> None:
    """Configure the theme's launch, repository and issue buttons from the environment."""
    repository = Repository.from_environment()
    config.sgdlab_repository = repository
    if repository is None:
        return
    options = config.html_theme_options
    options.update(repository_url=repository.url, repository_branch=repository.branch,
                   path_to_docs="", use_repository_button=True, use_issues_button=True)
    options["launch_buttons"] = {"notebook_interface": "jupyterlab",
                                 "binderhub_url": repository.binderhub,
                                 "jupyterhub_url": repository.jupyterhub}


def _buttons(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
             doctree: Any) -> None:
    """The download menu offers the chapter's notebook; the launch menu adds Colab."""
    if doctree is None or pagename not in app.env.all_docs or not _is_chapter(app, pagename):
        return
    buttons = {b.get("label"): b for b in context.get("header_buttons", [])}
    pathto = context["pathto"]
    if "download-buttons" in buttons:
        downloads = [b for b in buttons["download-buttons"]["buttons"]
                     if b.get("label") != "download-notebook-button"]
        notebook = {"type": "link", "url": pathto(f"{FOLDER}/{_chapter_name(pagename)}", 1),
                    "text": ".ipynb", "icon": "fas fa-code", "label": "download-notebook-button",
                    "tooltip": "This chapter as a notebook, without outputs"}
        archive = {"type": "link", "url": pathto(f"{FOLDER}/{ARCHIVE}", 1), "text": ".zip",
                   "icon": "fas fa-file-archive", "label": "download-archive-button",
                   "tooltip": "All chapters as notebooks"}
        buttons["download-buttons"]["buttons"] = [notebook, archive, *downloads]
    repository = app.config.sgdlab_repository
    if repository is not None and "launch-buttons" in buttons:
        buttons["launch-buttons"]["buttons"].append(
            {"type": "link", "text": "Colab", "tooltip": "Launch on Colab",
             "icon": "_static/images/logo_colab.png",
             "url": repository.colab(_chapter_name(pagename))})


def _run_line(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """A line under each chapter's title linking its notebook and the running page."""
    if app.builder.format != "html" or not _is_chapter(app, docname):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    up = "../" * docname.count("/")
    running = app.builder.get_relative_uri(docname, "book/running")
    html = (f'<p class="sgdlab-run">Run this chapter: '
            f'<a href="{up}{FOLDER}/{_chapter_name(docname)}" download>notebook (.ipynb)</a>'
            f' · <a href="{up}{FOLDER}/{ARCHIVE}" download>all chapters (.zip)</a>'
            f' · <a href="{running}">where and how</a></p>')
    title = next(iter(section.findall(nodes.title)))
    section.insert(section.index(title) + 1, nodes.raw("", html, format="html"))


class NotebooksDirective(SphinxDirective):
    """``{sgdlab-notebooks}``: a list of every chapter's notebook, and the archive."""

    def run(self) -> list[nodes.Node]:
        up = "../" * self.env.docname.count("/")
        items = "".join(
            f'<li><a href="{up}{FOLDER}/{_chapter_name(d)}" download>{_chapter_name(d)}</a></li>'
            for d in sorted(_chapters(self.env.app)))
        html = (f'<ul class="sgdlab-notebooks"><li><a href="{up}{FOLDER}/{ARCHIVE}" download>'
                f'{ARCHIVE}</a> (all of them)</li>{items}</ul>')
        return [nodes.raw("", html, format="html")]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("sgdlab_repository", None, "html")
    app.add_directive("sgdlab-notebooks", NotebooksDirective)
    app.connect("config-inited", _read_repository)
    app.connect("html-page-context", _buttons, priority=600)
    app.connect("doctree-resolved", _run_line)
    app.connect("build-finished", _write_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
