import re

import ipywidgets
import numpy as np
import pytest

from widgets import FDRExplorer, fdr_explorer
from widgets.fdr import MOMENTA, N_STEPS, PROBLEM, STATIC_ETAS, WINDOW


@pytest.fixture(scope="module")
def explorer():
    return fdr_explorer(eta=0.1, momentum=0.9)


def test_is_an_ipywidget(explorer):
    assert isinstance(explorer, ipywidgets.VBox)
    assert isinstance(explorer, FDRExplorer)


def test_both_sides_meet_at_the_exact_value(explorer):
    frame = explorer.frame
    late = slice(len(frame.steps) // 2, None)
    # 20 chains x 500 steps: s.e. of the late means ~ 2 %; the bound is 5 of them
    assert frame.lhs[late].mean() == pytest.approx(frame.exact, rel=0.1)
    assert frame.rhs[late].mean() == pytest.approx(frame.exact, rel=0.1)
    assert frame.lhs[0] > 10 * frame.exact           # the transient: far from it
    assert len(frame.steps) == N_STEPS // WINDOW and frame.y_sq.shape == (N_STEPS + 1,)


@pytest.mark.parametrize(("control", "value"), [("eta", 0.03), ("momentum", 0.5),
                                                ("nesterov", False)])
def test_controls_change_the_picture(explorer, control, value):
    before_png, before = explorer.image.value, explorer.frame.exact
    getattr(explorer, control).value = value
    assert explorer.image.value != before_png
    assert explorer.frame.exact != before
    np.testing.assert_allclose(explorer._scene.rhs.get_ydata(), explorer.frame.rhs)


def test_static_fallback_is_self_contained(explorer, building_book):
    html = explorer._repr_mimebundle_()["text/html"]
    assert html.count("data:image/png;base64,") == len(STATIC_ETAS) * len(MOMENTA) + 1
    assert '<input type="range"' in html and "<script>" in html
    assert not re.search(r"(src|href)=\"https?://", html)
    assert PROBLEM.hessian.shape == (2, 2)
