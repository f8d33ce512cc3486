import re

import ipywidgets
import numpy as np
import pytest

from sgdlab.core import inference as inf
from sgdlab.core.minibatch import covariance
from widgets import PosteriorExplorer, posterior_explorer
from widgets.posterior import STATIC_FRACTIONS


def _model():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(60, 2)) * np.array([1.0, 0.6])
    return inf.bayesian_linear_regression(a, a @ np.array([1.0, 0.5]) + rng.normal(size=60))


@pytest.fixture(scope="module")
def explorer():
    return posterior_explorer(_model(), b=5)


def test_is_an_ipywidget_at_the_optimum(explorer):
    assert isinstance(explorer, ipywidgets.VBox)
    assert isinstance(explorer, PosteriorExplorer)
    m = explorer.model
    c = covariance(m.grads(m.minimum), 5)
    assert explorer.frame.eta_star == pytest.approx(
        inf.optimal_learning_rate(m.hessian, c, 60), rel=1e-12)


def test_kl_readout_is_the_library_kl(explorer):
    m, f = explorer.model, explorer.frame
    c = covariance(m.grads(m.minimum), f.b)
    for kind in ("discrete", "continuous"):
        s = inf.stationary_covariance(m.hessian, c, f.eta, kind)
        assert f.kl[kind] == pytest.approx(inf.posterior_kl(s, m.hessian, 60), rel=1e-12)
        # whitened covariance: its eigenvalues are those of N H Sigma
        np.testing.assert_allclose(np.linalg.eigvalsh(f.whitened[kind]),
                                   np.sort(np.linalg.eigvals(60 * m.hessian @ s).real),
                                   rtol=1e-10)


@pytest.mark.parametrize(("control", "value"), [("eta", 0.5), ("b", 20)])
def test_controls_change_the_picture(explorer, control, value):
    before_png, before_kl = explorer.image.value, explorer.frame.kl["discrete"]
    getattr(explorer, control).value = value
    assert explorer.image.value != before_png
    assert explorer.frame.kl["discrete"] != before_kl


def test_bad_input():
    with pytest.raises(ValueError, match="2 features"):
        posterior_explorer(inf.bayesian_linear_regression(np.eye(5)[:, :3], np.arange(5.0)))
    with pytest.raises(ValueError, match="eta"):
        posterior_explorer(_model(), eta=100.0)
    with pytest.raises(ValueError, match="b must"):
        posterior_explorer(_model(), b=0)
    with pytest.raises(ValueError, match="b must"):
        posterior_explorer(_model(), b=2.5)


def test_static_fallback_is_self_contained(explorer, building_book):
    html = explorer._repr_mimebundle_()["text/html"]
    assert html.count("data:image/png;base64,") == len(STATIC_FRACTIONS) + 1
    assert '<input type="range"' in html and "<script>" in html
    assert not re.search(r"(src|href)=\"https?://", html)
