"""The book built with a repository named (as the publishing workflow builds it): every
launch, repository, issue and download button of every chapter, checked without being
followed.

The build (``_build/launch/``) reuses the execution cache of ``make book``: it writes
the pages again, with the buttons, and executes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import nbformat
import pytest
import yaml
from selenium.webdriver.common.by import By

from .conftest import ROOT, SITE

ENVIRONMENT = {"SGDLAB_REPOSITORY_URL": "https://github.com/sgdlab-course/sgdlab",
               "SGDLAB_REPOSITORY_BRANCH": "stable",
               "SGDLAB_JUPYTERHUB_URL": "https://hub.example.org"}
OWNER_NAME, BRANCH = "sgdlab-course/sgdlab", "stable"
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("*.md")
                  if "kernelspec:" in p.read_text(encoding="utf-8")[:600])
#: The chapters on deep networks, whose notebooks ask Colab for a GPU.
PART_III = {Path(c["file"]).stem
            for part in yaml.safe_load((ROOT / "_toc.yml").read_text())["parts"]
            if part["caption"].startswith("Part III") for c in part["chapters"]}


@pytest.fixture(scope="module")
def launch_site() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.fail("run `make book` first: this build reuses its execution cache")
    out = ROOT / "_build" / "launch"
    env = {**os.environ, **ENVIRONMENT,
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "book" / "_ext")])}
    build = subprocess.run(
        [Path(sys.executable).with_name("jupyter-book"), "build", ".", "--warningiserror",
         "--nitpick", "--keep-going", "--path-output", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return out / "_build" / "html"


def _expected(chapter: str) -> dict[str, str]:
    md = f"book/{chapter}.md"
    return {
        "Binder": f"https://mybinder.org/v2/gh/{OWNER_NAME}/{BRANCH}?urlpath=lab/tree/{md}",
        "JupyterHub": "https://hub.example.org/hub/user-redirect/git-pull?" + "&".join([
            f"repo=https%3A//github.com/{OWNER_NAME}",
            f"urlpath=lab/tree/sgdlab/{md}", f"branch={BRANCH}"]),
        "Colab": (f"https://colab.research.google.com/github/{OWNER_NAME}/blob/notebooks/"
                  f"{chapter}.ipynb"),
        "repository": f"https://github.com/{OWNER_NAME}",
    }


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_button_of_a_chapter_names_the_right_place(browser, launch_site, chapter):
    page = launch_site / "book" / f"{chapter}.html"
    browser.get(page.as_uri())
    links = [a.get_attribute("href") for a in
             browser.find_elements(By.CSS_SELECTOR, ".article-header-buttons a[href]")]
    links += [a.get_attribute("href") for a in
              browser.find_elements(By.CSS_SELECTOR, "p.sgdlab-run a[href]")]
    expected = _expected(chapter)
    for name, url in expected.items():
        assert url in links, f"{name} button of {chapter}: {url} not among {links}"
    issues = [u for u in links if u.startswith(f"https://github.com/{OWNER_NAME}/issues/new?")]
    assert issues and f"/book/{chapter}.html" in parse_qs(urlparse(issues[0]).query)["title"][0]
    # the download links name files of the site; the source link, the chapter
    local = {urlparse(u).path for u in links if u.startswith("file://")}
    for path in local:
        assert Path(path).is_file(), f"{chapter} links to {path}, which is not in the site"
    notebook = urljoin(page.as_uri(), f"../notebooks/{chapter}.ipynb")
    assert urlparse(notebook).path in local and any(p.endswith(".zip") for p in local)
    remote = [u for u in links if not u.startswith("file://")]
    assert len(remote) == len(expected) + 1, remote          # and the issue button


def test_the_notebooks_clone_the_named_repository(launch_site):
    folder = launch_site / "notebooks"
    with zipfile.ZipFile(folder / "sgdlab-notebooks.zip") as archive:
        names = sorted(Path(n).stem for n in archive.namelist())
    assert names == CHAPTERS
    for chapter in CHAPTERS:
        notebook = nbformat.read(folder / f"{chapter}.ipynb", as_version=4)
        nbformat.validate(notebook)
        setup = notebook.cells[1].source
        assert f"'{ENVIRONMENT['SGDLAB_REPOSITORY_URL']}.git'" in setup
        assert f"'{BRANCH}'" in setup and '"--no-deps"' in setup
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")
        gpu = notebook.metadata.get("accelerator") == "GPU"
        assert gpu == (chapter in PART_III), chapter
        if gpu:
            assert json.loads((folder / f"{chapter}.ipynb").read_text())["metadata"]["colab"]
    assert PART_III and PART_III <= set(CHAPTERS)
