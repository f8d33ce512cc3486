import re

import ipywidgets
import numpy as np
import pytest

from sgdlab.deep import noise_tails as nt


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The whole grid on synthetic per-example gradients (no network), at a tiny scale."""
    mp = pytest.MonkeyPatch()
    rng = np.random.default_rng(0)
    grads = {"init": rng.standard_normal((300, 12)),
             "trained": rng.standard_normal((300, 12)) * (1 + rng.pareto(1.0, size=(300, 1)))}
    mp.setitem(nt.SCALES, "cpu", nt.Scale(1, 1024, 8, (0,)))
    mp.setattr(nt, "per_example", lambda instant, profile: grads[instant])
    for cached in (nt.diffusion, nt._gaussian, nt._noise, nt._prediction):
        cached.cache_clear()
    mp.setenv("SGDLAB_RUNS", str(tmp_path_factory.mktemp("runs")))
    out = nt.run("cpu")
    for cached in (nt.diffusion, nt._gaussian, nt._noise, nt._prediction):
        cached.cache_clear()
    mp.undo()
    return out


def test_grid_covers_every_point(results):
    assert len(results) == 2 * len(nt.BATCH_SIZES) * len(nt.ESTIMATORS)
    assert set(results[("init", 0, 1, "projections")]) >= {*nt.SOURCES, "ks", "berry_esseen",
                                                            "dkw"}


def test_gaussian_controls_read_alpha_2_per_coordinate(results):
    for instant in nt.INSTANTS:
        for source in ("gaussian", "diagonal"):
            inv, se = nt.curve(results, instant, "coordinates", source)
            assert np.all(np.abs(inv - 0.5) < 4 * se)        # theory: unbiased, sd <= mean se


def test_controls_are_the_same_at_every_b(results):
    # the estimators are scale-free and the stand-ins are drawn once per instant
    inv, _ = nt.curve(results, "trained", "pooled", "gaussian")
    np.testing.assert_allclose(inv, inv[0], rtol=1e-9)


def test_heavy_per_example_gradients_give_heavy_noise_at_b_1(results):
    inv, se = nt.curve(results, "trained", "coordinates", "noise")
    assert inv[0] - 0.5 > 4 * se[0]            # 1/2: the value of any Gaussian (theory)


def test_berry_esseen_holds(results):
    for b in nt.BATCH_SIZES:
        p = results[("trained", 0, b, "projections")]
        assert np.all(np.array(p["ks"]["noise"]) <= np.array(p["berry_esseen"]) + p["dkw"])


def test_bad_config():
    with pytest.raises(ValueError, match="estimator"):
        nt.measure({"instant": "init", "b": 1, "estimator": "hill", "seed": 0,
                    "profile": "cpu"})
    with pytest.raises(ValueError, match="instant"):
        nt.measure({"instant": "late", "b": 1, "estimator": "pooled", "seed": 0,
                    "profile": "cpu"})
    with pytest.raises(ValueError, match="source"):
        nt.curve({}, "init", "pooled", "laplace")


def test_explorer_follows_its_sliders(results):
    from widgets import NoiseTailsExplorer, noise_tails_explorer

    explorer = noise_tails_explorer(results, estimator="projections")
    assert isinstance(explorer, ipywidgets.VBox) and isinstance(explorer, NoiseTailsExplorer)
    np.testing.assert_allclose(explorer.frame.alpha["noise"],
                               1 / nt.curve(results, "trained", "projections", "noise")[0])
    before = explorer.image.value
    explorer.b.value = 64
    assert explorer.frame.b == 64 and explorer.image.value != before
    explorer.estimator.value = nt.ESTIMATORS.index("pooled")
    assert explorer.frame.prediction and explorer.frame.columns["noise"].size == 1
    explorer.instant.value = "init"
    assert explorer.frame.instant == "init"
    with pytest.raises(ValueError, match="estimator"):
        noise_tails_explorer(results, estimator="hill")


def test_static_fallback_is_self_contained(results, building_book):
    from widgets import noise_tails_explorer

    html = noise_tails_explorer(results, dpi=40)._repr_mimebundle_()["text/html"]
    frames = len(nt.BATCH_SIZES) * len(nt.ESTIMATORS)
    assert html.count("data:image/png;base64,") == frames + 1
    assert "coordinates" in html and '<input type="range"' in html
    assert not re.search(r"(src|href)=\"https?://", html)
