"""sgdlab.book: glue with myst-nb while the book is built, a plain display elsewhere."""

import sys

import pytest

from sgdlab import book


def test_outside_the_build_glue_displays_plainly_without_myst_nb(monkeypatch, capsys):
    monkeypatch.delenv(book.BUILD_ENV, raising=False)
    monkeypatch.setitem(sys.modules, "myst_nb", None)    # as where myst-nb is not installed
    book.glue("x", 1.25)
    book.glue("y", "hidden", display=False)
    assert capsys.readouterr().out == "1.25\n"


def test_while_building_glue_is_myst_nbs(monkeypatch):
    calls = []
    monkeypatch.setenv(book.BUILD_ENV, "1")
    monkeypatch.setattr("myst_nb.glue", lambda *args, **kw: calls.append((args, kw)))
    book.glue("x", 1.25, display=False)
    assert calls == [(("x", 1.25), {"display": False})]


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("0", False), ("", False)])
def test_building_reads_the_variable(monkeypatch, value, expected):
    monkeypatch.setenv(book.BUILD_ENV, value)
    assert book.building() is expected


def test_numpy_scalars_are_glued_as_python_numbers(monkeypatch):
    """NumPy 2's repr of a scalar (np.float64(0.5)) is not a number myst-nb can format."""
    import numpy as np

    calls = []
    monkeypatch.setenv(book.BUILD_ENV, "1")
    monkeypatch.setattr("myst_nb.glue", lambda name, value, display: calls.append(value))
    book.glue("x", np.float64(0.5), display=False)
    book.glue("n", np.int64(3), display=False)
    assert calls == [0.5, 3] and [type(v) for v in calls] == [float, int]
