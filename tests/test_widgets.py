import io
import itertools
import re

import ipywidgets
import numpy as np
import pytest

from widgets import DoubleWellExplorer, double_well_explorer
from widgets._static import slider_html


@pytest.fixture(scope="module")
def explorer():
    return double_well_explorer(lam=0.0, n_particles=200, horizon=2.0)


def test_is_an_ipywidget(explorer):
    assert isinstance(explorer, ipywidgets.VBox)
    assert isinstance(explorer, DoubleWellExplorer)


def test_lambda_slider_changes_the_figure(explorer):
    before_png = explorer.image.value
    before_segments = explorer._scene.lines.get_segments()
    before_zeros = [z.x for z in explorer.frame.zeros]
    explorer.lam.value = 1.5
    assert explorer.image.value != before_png
    assert not np.allclose(np.array(explorer._scene.lines.get_segments()),
                           np.array(before_segments))
    assert len(before_zeros) == 3 and [z.kind for z in explorer.frame.zeros] == ["centre"]
    np.testing.assert_allclose(explorer._scene.zeros.get_offsets(), [[0.0, 0.0]], atol=1e-12)


@pytest.mark.parametrize(("slider", "value"), [("noise", 2.0), ("particles", 400),
                                               ("horizon", 5.0)])
def test_other_sliders_change_the_particles(explorer, slider, value):
    before = explorer.frame.particles.copy()
    getattr(explorer, slider).value = value
    after = explorer.frame.particles
    assert after.shape != before.shape or not np.allclose(after, before)
    assert explorer._scene.dots.get_offsets().shape == after.shape


def test_static_fallback_is_self_contained(explorer, building_book):
    html = explorer._repr_mimebundle_()["text/html"]
    from widgets.double_well import STATIC_LAMS, STATIC_NOISES

    # every (lambda, noise) frame + the initial <img>
    assert html.count("data:image/png;base64,") == len(STATIC_LAMS) * len(STATIC_NOISES) + 1
    assert html.count('<input type="range"') == 2 and "<script>" in html
    assert not re.search(r"(src|href)=\"https?://", html)


def test_slider_html_checks_its_input():
    with pytest.raises(ValueError, match="product of the axes' lengths"):
        slider_html([b"x"], [("n", ["a", "b"])])
    with pytest.raises(ValueError, match="product of the axes' lengths"):
        slider_html([b"x", b"y"], [("n", ["a", "b"]), ("m", ["c", "d"])])
    with pytest.raises(ValueError, match="initial"):
        slider_html([b"x"], [("n", ["a"])], initial=(3,))


def test_local_entropy_explorer_follows_gamma(building_book):
    from widgets import local_entropy_explorer

    explorer = local_entropy_explorer(gamma=0.001, beta=20.0)
    png, sharp_argmin = explorer.image.value, explorer.frame.argmin_2d
    explorer.gamma.value = 0.3
    assert explorer.image.value != png
    assert sharp_argmin[0] > 1.0 and explorer.frame.argmin_2d[0] < -1.0
    assert explorer.frame.wide_mass > 0.95
    html = explorer._repr_mimebundle_()["text/html"]
    assert html.count("data:image/png;base64,") == 13 + 1


def test_anisotropy_explorer_shows_the_shift():
    from widgets import AnisotropyExplorer, anisotropy_explorer
    from widgets.anisotropy import GRID

    explorer = anisotropy_explorer(ratio=1.0, temperature=0.1)
    assert isinstance(explorer, AnisotropyExplorer)
    iso = explorer.frame.shift.gap
    assert iso < 0.1 * GRID.spacing[0]   # Lemma 6: no shift, up to the sub-cell fit
    before = explorer.image.value
    explorer.ratio.value = 0.25
    assert explorer.image.value != before
    cold = explorer.frame.shift.gap
    explorer.temperature.value = 0.4
    assert explorer.frame.shift.gap > 2 * cold > 2 * iso
    html = explorer.static_html()
    from widgets.anisotropy import STATIC_ANGLES, STATIC_RATIOS

    assert html.count("data:image/png;base64,") == len(STATIC_RATIOS) * len(STATIC_ANGLES) + 1
    assert html.count('<input type="range"') == 2 and "http" not in html


def test_a_live_display_carries_the_widget_alone(explorer, monkeypatch):
    """Outside the book build, no frames are precomputed: the frontend gets the widget."""
    from sgdlab.book import BUILD_ENV

    monkeypatch.delenv(BUILD_ENV, raising=False)
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "text/html" not in bundle


def test_static_fallback_is_the_same_in_every_build(monkeypatch):
    """Element ids come from the frames and the rank of the display, not from a random id."""
    import widgets._static as static

    monkeypatch.setattr(static, "_COUNT", itertools.count())
    first, second = (slider_html([b"a", b"b"], [("n", ["0", "1"])]) for _ in range(2))
    monkeypatch.setattr(static, "_COUNT", itertools.count())
    assert slider_html([b"a", b"b"], [("n", ["0", "1"])]) == first
    assert re.search(r'id="([^"]+)"', first)[1] != re.search(r'id="([^"]+)"', second)[1]


def test_while_building_the_frames_are_files_named_by_their_content(monkeypatch, tmp_path,
                                                                      building_book):
    """No inline images in a built page: lossless WebP files the browser fetches."""
    from PIL import Image

    from sgdlab.book import FRAMES_ENV, FRAMES_URL

    monkeypatch.setenv(FRAMES_ENV, str(tmp_path))
    frames = []
    for colour in ((255, 0, 0), (0, 0, 255)):
        out = io.BytesIO()
        Image.new("RGB", (8, 4), colour).save(out, format="png")
        frames.append(out.getvalue())
    html = slider_html(frames, [("n", ["0", "1"])])
    names = re.findall(re.escape(FRAMES_URL) + r"([0-9a-f]{20}\.webp)", html)
    assert "base64" not in html and len(set(names)) == 2
    for name, png in zip(sorted(set(names), key=names.index), frames, strict=True):
        assert np.array_equal(np.asarray(Image.open(tmp_path / name)),     # lossless
                              np.asarray(Image.open(io.BytesIO(png))))
