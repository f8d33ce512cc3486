import numpy as np
import pytest
from scipy import stats

from sgdlab.core.density import cell_masses, gibbs, total_variation, total_variation_null
from sgdlab.core.grid import curl, divergence, gradient, grid2d


def test_second_order_differences_are_exact_on_quadratics():
    grid = grid2d([[-1.0, 2.0], [0.0, 1.0]], (31, 17))
    x, y = grid.points[..., 0], grid.points[..., 1]
    u = x**2 - 3 * x * y + 2 * y**2
    np.testing.assert_allclose(gradient(u, grid)[..., 0], 2 * x - 3 * y, atol=1e-11)
    np.testing.assert_allclose(gradient(u, grid)[..., 1], -3 * x + 4 * y, atol=1e-11)
    v = np.stack([x * y, x**2 + y**2], axis=-1)
    np.testing.assert_allclose(divergence(v, grid), y + 2 * y, atol=1e-11)
    np.testing.assert_allclose(curl(v, grid), 2 * x - x, atol=1e-11)


def test_grid_checks():
    with pytest.raises(ValueError, match="at least 3"):
        grid2d([[0, 1], [0, 1]], 2)
    with pytest.raises(ValueError, match="shape"):
        divergence(np.zeros((3, 3)), grid2d([[0, 1], [0, 1]], 3))


def test_cell_masses_of_a_gaussian_are_exact():
    ex, ey = np.linspace(-3, 1, 9), np.linspace(-2, 4, 7)
    masses = cell_masses(lambda p: stats.norm.logpdf(p).sum(axis=-1), ex, ey)
    expected = np.outer(np.diff(stats.norm.cdf(ex)), np.diff(stats.norm.cdf(ey)))
    np.testing.assert_allclose(masses, expected, rtol=1e-12, atol=1e-16)


def test_total_variation():
    edges = np.array([0.0, 1.0, 2.0])
    masses = np.array([[0.25, 0.25], [0.25, 0.0]])          # 0.25 outside the box
    samples = np.array([[0.5, 0.5], [0.5, 1.5], [1.5, 0.5], [5.0, 5.0]])
    assert total_variation(samples, masses, edges, edges) == pytest.approx(0.0, abs=1e-15)
    assert total_variation(samples[:3], masses, edges, edges) == pytest.approx(0.25, rel=1e-14)


def test_total_variation_null_shrinks_like_root_n():
    masses = np.full((10, 10), 0.01)
    small, large = (np.median(total_variation_null(masses, n, rng=0)) for n in (400, 40_000))
    assert small / large == pytest.approx(10.0, rel=0.1)


def test_gibbs_is_exp_minus_beta_u_over_z():
    np.testing.assert_allclose(gibbs([0.0, np.log(2.0)], 0.5), [4 / 3, 2 / 3], rtol=1e-15)
    # beta scales the values; a shift of the values changes nothing, even far from zero
    u = np.array([[0.0, 0.5], [1.0, 2.0]])
    np.testing.assert_allclose(gibbs(u, 0.1, beta=3.0), gibbs(3.0 * u + 1e3, 0.1), rtol=1e-13)
    cold = gibbs([1000.0, 1001.0], 1.0, beta=600.0)       # exp(-600 u) underflows unshifted
    assert cold[0] == 1.0 and cold[1] == pytest.approx(np.exp(-600.0), rel=1e-12)
    assert gibbs(u, 0.1).sum() * 0.1 == pytest.approx(1.0, abs=1e-15)
    for bad in ({"values": []}, {"values": [0.0, np.nan]}, {"volume": 0.0}, {"beta": -1.0}):
        with pytest.raises(ValueError):
            gibbs(**{"values": [0.0, 1.0], "volume": 1.0, **bad})
