import re

import ipywidgets
import numpy as np
import pytest

from sgdlab.core import escape
from widgets import EscapeExplorer, escape_explorer
from widgets.escape import STATIC_ALIGNMENTS, STATIC_WIDTHS, WIDTH_RANGE, compute_frame


@pytest.fixture(scope="module")
def explorer():
    return escape_explorer(alignment=0.5, beta_inv=0.7, width=1.1)


def test_is_an_ipywidget_with_the_library_times(explorer):
    assert isinstance(explorer, ipywidgets.VBox)
    assert isinstance(explorer, EscapeExplorer)
    f = explorer.frame
    well = escape.EscapeWell(1.1)
    eps = 0.7 * escape.aligned_noise(well.hessian_min(), 0.5)[0, 0]
    # the curves' 4,001 nodes against the library's default 40,001: the same to round-off
    assert f.tau == pytest.approx(escape.mean_first_passage(well.potential, -1.1, 1.1, eps, -3.3),
                                  rel=1e-10)
    assert f.tau_kramers == pytest.approx(
        escape.kramers_time(well.curvature_min, well.curvature_saddle, 1.0, eps), rel=1e-12)


def test_curves_obey_the_theory():
    f = compute_frame(1.0, 0.5, 1.0)
    # self-similarity: with isotropic noise tau V''(a) is the same for every width
    scaled = f.curves["isotropic"] * f.curvatures
    np.testing.assert_allclose(scaled, scaled[0], rtol=1e-9)
    # D ∝ H equals isotropic noise where V''(a) = k (D_11 = 2 V''/(V'' + k) = 1) and escapes
    # faster from sharper wells, slower from flatter ones
    sharp, flat = f.curvatures > 8.0, f.curvatures < 8.0
    assert np.all(f.curves["aligned"][sharp] < f.curves["isotropic"][sharp])
    assert np.all(f.curves["aligned"][flat] > f.curves["isotropic"][flat])
    np.testing.assert_array_equal(f.curves["exact"], f.curves["aligned"])
    # D ∝ H makes the linearised stationary law round: Sigma = beta^-1 T / Tr H I, and in
    # (x_1 / w, x_2) its x_1 extent is sqrt(Sigma_11) / w
    radius = np.sqrt(0.5 * 2.0 / (8.0 + 8.0))
    half_widths = np.ptp(f.ellipses[0], axis=0) / 2
    np.testing.assert_allclose(half_widths, [2 * radius, 2 * radius], rtol=1e-3)


@pytest.mark.parametrize(("control", "value"), [("alignment", 0.0), ("beta_inv", 1.2),
                                                ("width", 1.7)])
def test_controls_change_the_picture(explorer, control, value):
    before_png, before_tau = explorer.image.value, explorer.frame.tau
    getattr(explorer, control).value = value
    assert explorer.image.value != before_png
    assert explorer.frame.tau != before_tau


def test_bad_input():
    for kwargs, name in (({"alignment": 1.5}, "alignment"), ({"beta_inv": 0.0}, "beta_inv"),
                         ({"width": WIDTH_RANGE[1] + 1}, "width"),
                         ({"alignment": float("nan")}, "alignment")):
        with pytest.raises(ValueError, match=name):
            escape_explorer(**kwargs)


def test_static_fallback_is_self_contained(explorer, building_book):
    html = explorer._repr_mimebundle_()["text/html"]
    assert html.count("data:image/png;base64,") == len(STATIC_ALIGNMENTS) * len(STATIC_WIDTHS) + 1
    assert html.count('<input type="range"') == 2 and "<script>" in html
    assert not re.search(r"(src|href)=\"https?://", html)
