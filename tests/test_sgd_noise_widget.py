import re

import ipywidgets
import numpy as np
import pytest

from widgets import SGDNoiseExplorer, sgd_noise_explorer
from widgets.sgd_noise import N_EXAMPLES, PROBLEM, STATIC_ETAS


@pytest.fixture(scope="module")
def explorer():
    return sgd_noise_explorer(eta=0.2, b=4)


def test_is_an_ipywidget(explorer):
    assert isinstance(explorer, ipywidgets.VBox)
    assert isinstance(explorer, SGDNoiseExplorer)


def test_theory_in_the_frame_is_the_lyapunov_solution(explorer):
    frame = explorer.frame
    h, c = PROBLEM.hessian, PROBLEM.noise_cov(4)
    residual = h @ frame.sde_cov + frame.sde_cov @ h - 0.2 * c
    assert np.abs(residual).max() < 1e-12 * np.abs(c).max()
    assert frame.measured_spread == pytest.approx(np.trace(frame.sgd_cov), rel=0.25)


@pytest.mark.parametrize(("control", "value"), [("eta", 0.5), ("b", 8), ("replacement", False)])
def test_controls_change_the_picture(explorer, control, value):
    before_png, before_cov = explorer.image.value, explorer.frame.sde_cov
    getattr(explorer, control).value = value
    assert explorer.image.value != before_png
    assert not np.allclose(explorer.frame.sde_cov, before_cov)
    np.testing.assert_allclose(explorer._scene.dots.get_offsets(), explorer.frame.chains)


def test_without_replacement_full_batch_is_noise_free(explorer):
    explorer.replacement.value = False
    explorer.b.value = N_EXAMPLES
    assert np.abs(explorer.frame.chains - PROBLEM.minimum).max() < 1e-12
    assert np.abs(explorer.frame.sde_cov).max() == 0.0


def test_static_fallback_is_self_contained(explorer, building_book):
    html = explorer._repr_mimebundle_()["text/html"]
    assert html.count("data:image/png;base64,") == len(STATIC_ETAS) + 1
    assert '<input type="range"' in html and "<script>" in html
    assert not re.search(r"(src|href)=\"https?://", html)
