import re

import ipywidgets
import numpy as np
import pytest

from widgets import TrajectoryExplorer, trajectory_explorer
from widgets.trajectory import STATIC_FRAMES


@pytest.fixture(scope="module")
def weights():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((2, 6, 400)).cumsum(axis=2)
    w[:, 3] = 0.25                                      # a weight that never moves
    w[1, 4] = np.cos(2 * np.pi * np.arange(400) / 20)   # a periodic one
    return w


@pytest.fixture(scope="module")
def explorer(weights):
    return trajectory_explorer(weights, weight=0, max_lag=50)


def test_is_an_ipywidget(explorer):
    assert isinstance(explorer, ipywidgets.VBox)
    assert isinstance(explorer, TrajectoryExplorer)


@pytest.mark.parametrize(("control", "value"), [("weight", 1), ("chain", 1), ("max_lag", 120)])
def test_controls_change_the_picture(explorer, control, value):
    before_png, before_acf = explorer.image.value, explorer.frame.comparison.acf
    getattr(explorer, control).value = value
    assert explorer.image.value != before_png
    frame = explorer.frame
    assert frame.comparison.acf.shape == (1, explorer.max_lag.value + 1)
    assert before_acf.shape != frame.comparison.acf.shape or \
        not np.allclose(before_acf, frame.comparison.acf)
    np.testing.assert_allclose(explorer._scene.acf.get_ydata(), frame.comparison.acf[0])


def test_a_periodic_weight_shows_its_line_and_its_correlation(explorer):
    explorer.chain.value, explorer.weight.value, explorer.max_lag.value = 1, 4, 40
    cmp = explorer.frame.comparison
    assert cmp.freqs[np.argmax(cmp.power[0])] == pytest.approx(1 / 20, rel=0.1)
    assert cmp.acf[0, 20] > 0.9 and cmp.acf[0, 10] < -0.9


def test_a_frozen_weight_is_said_so(explorer):
    explorer.weight.value = 3
    assert explorer.frame.comparison is None
    assert "never moves" in explorer._scene.ax_fft.get_title()


def test_static_fallback_is_self_contained(explorer, building_book):
    html = explorer._repr_mimebundle_()["text/html"]
    assert html.count("data:image/png;base64,") == STATIC_FRAMES + 1
    assert '<input type="range"' in html and "<script>" in html
    assert not re.search(r"(src|href)=\"https?://", html)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"weight": 6}, "weight"), ({"chain": 2}, "chain"), ({"max_lag": 1}, "max_lag"),
    ({"max_lag": 201}, "max_lag"),
])
def test_bad_arguments_name_themselves(weights, kwargs, name):
    with pytest.raises(ValueError, match=name):
        trajectory_explorer(weights, **kwargs)


def test_bad_weights():
    with pytest.raises(ValueError, match="weights"):
        trajectory_explorer(np.zeros((3, 100)))
