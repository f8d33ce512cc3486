"""The book's configuration: offline assets, failing builds, every chapter in the TOC;
the chapters' figures captioned and named, their display equations labelled."""

import re
from pathlib import Path

import jupytext
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
SPHINX = CONFIG["sphinx"]["config"]
CHAPTERS = sorted((ROOT / "book").glob("*.md"))

#: A code cell that calls one of these draws a figure (an explorer's widget is not one).
DRAWS = re.compile(r"\bplt\.(show|subplots?|figure|plot|imshow|hist|scatter|contourf?)\(")
#: The closing line of a labelled ``$$`` display: MyST's dollarmath ``$$ (label)``.
LABELLED = re.compile(r"\$\$ \((eq-[a-z0-9-]+)\)$")
EQ_REF = re.compile(r"\{eq\}`([^`]+)`")
FIG_REF = re.compile(r"\{(?:numref|ref)\}`(?:[^`<]*<)?(fig-[^`>]+)>?`")


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


def cells(kind):
    """(chapter, index, cell) of every cell of the given type, in every chapter."""
    for page in CHAPTERS:
        for index, cell in enumerate(jupytext.read(page).cells):
            if cell.cell_type == kind:
                yield page.name, index, cell


def figure_names():
    """The name of every captioned figure, with where it is."""
    names = {}
    for chapter, index, cell in cells("code"):
        figure = cell.metadata.get("mystnb", {}).get("figure", {})
        if "name" in figure:
            assert figure["name"] not in names, (chapter, index, figure["name"])
            names[figure["name"]] = (chapter, index)
    return names


def equation_labels():
    """The label of every display equation, with where it is; None for an unlabelled one."""
    labels = []
    for chapter, index, cell in cells("markdown"):
        lines = (line.strip() for line in cell.source.splitlines())
        for text in lines:
            if text.startswith("$$"):                # a display, closed here or further on
                closing = text if "$$" in text[2:] else next(
                    (line for line in lines if line.startswith("$$")), "")
                label = LABELLED.search(closing)
                labels.append((label and label[1], chapter, index))
            elif text.startswith(("```{math}", ":::{math}")):
                option = next(lines, "")
                labels.append((option.removeprefix(":label:").strip() or None
                               if option.startswith(":label:") else None, chapter, index))
    return labels


def test_every_figure_has_a_caption_and_a_name():
    for chapter, index, cell in cells("code"):
        if DRAWS.search(cell.source):
            figure = cell.metadata.get("mystnb", {}).get("figure", {})
            assert str(figure.get("caption", "")).strip(), (chapter, index, "no caption")
            assert str(figure.get("name", "")).startswith("fig-"), (chapter, index, "no name")
    assert figure_names(), "no captioned figure found"


def test_every_display_equation_has_a_unique_label():
    labels = equation_labels()
    assert labels, "no display equation found"
    unlabelled = [(chapter, index) for label, chapter, index in labels if label is None]
    assert not unlabelled, unlabelled
    names = [label for label, _, _ in labels]
    assert len(set(names)) == len(names), sorted(n for n in names if names.count(n) > 1)


def test_references_name_existing_figures_and_equations():
    figures = figure_names()
    equations = {label for label, _, _ in equation_labels()}
    for page in CHAPTERS:
        text = page.read_text()
        for name in FIG_REF.findall(text):
            assert name in figures, (page.name, name)
        for name in EQ_REF.findall(text):
            assert name in equations, (page.name, name)
