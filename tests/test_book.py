"""The book's configuration: offline assets, failing builds, every chapter in the TOC."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
SPHINX = CONFIG["sphinx"]["config"]


def test_cell_errors_fail_the_build():
    assert SPHINX["nb_execution_raise_on_error"] is True
    assert CONFIG["execute"]["allow_errors"] is False


def test_javascript_is_served_from_the_book():
    static = ROOT / SPHINX["html_static_path"][0]
    assert (static / SPHINX["mathjax_path"]).is_file()
    assert (static / "vendor/mathjax/output/chtml/fonts/woff-v2").is_dir()
    for path in SPHINX["nb_ipywidgets_js"]:
        assert not path.startswith("http") and (static / path).is_file()


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for page in (ROOT / "book").glob("*.md"):
        assert f"book/{page.stem}" in toc, page.name
