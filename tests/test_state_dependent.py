"""Tests of sgdlab.core.state_dependent: a two-weight logistic model, SGD-vs-FP yardsticks."""

import numpy as np
import pytest
from scipy import integrate, stats

from sgdlab.core import logistic
from sgdlab.core.grid import cell_grid
from sgdlab.core.minibatch import diffusion_matrix
from sgdlab.core.state_dependent import (
    PlaneLogistic,
    cell_histogram,
    coarsen,
    edgeworth_tv,
    effective_sample_size,
    gaussian_tv_bound,
    pca_plane,
    sgd_third_cumulant,
    tabulated,
    third_cumulant,
)

RNG = np.random.default_rng(0)
A = RNG.normal(size=(300, 2)) * [1.0, 0.7]
Y = (A @ [1.0, -0.5] + RNG.normal(size=300) > 0).astype(float)
MODEL = PlaneLogistic(A, Y, weight_decay=0.01)


def test_plane_logistic_matches_the_logistic_module():
    for w in (np.zeros(2), np.array([0.7, -1.3])):
        g = logistic.per_example_grads(w, A, Y, 0.01)
        assert MODEL.f(w) == pytest.approx(logistic.loss(w, A, Y, 0.01), rel=1e-12)
        assert np.allclose(MODEL.grad_f(w), g.mean(axis=0), rtol=0, atol=1e-14)
        assert np.allclose(MODEL.diffusion(w), diffusion_matrix(g), rtol=0, atol=1e-14)
        assert np.allclose(MODEL.hessian(w), logistic.hessian(w, A, Y, 0.01), atol=1e-14)


def test_plane_logistic_is_vectorised():
    grid = cell_grid([[-1.0, 1.0], [-2.0, 2.0]], (3, 4))
    pts = grid.points
    assert MODEL.f(pts).shape == (3, 4)
    assert MODEL.grad_f(pts).shape == (3, 4, 2)
    d = MODEL.diffusion(pts)
    assert d.shape == (3, 4, 2, 2)
    assert np.allclose(d[1, 2], MODEL.diffusion(pts[1, 2]))
    assert np.allclose(MODEL.grad_f(pts)[2, 3], MODEL.grad_f(pts[2, 3]))


def test_batch_grad_is_the_mean_over_the_batch():
    w = np.array([[0.3, 0.1], [-0.2, 0.5]])
    idx = np.array([[0, 5, 5], [7, 8, 9]])
    out = MODEL.batch_grad(w, idx)
    for c in range(2):
        g = logistic.per_example_grads(w[c], A, Y, 0.01)[idx[c]].mean(axis=0)
        assert np.allclose(out[c], g)


def test_plane_logistic_rejects_bad_input():
    with pytest.raises(ValueError):
        PlaneLogistic(np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError):
        PlaneLogistic(A, Y + 0.5)
    with pytest.raises(ValueError):
        PlaneLogistic(A, Y, weight_decay=-1.0)
    with pytest.raises(ValueError):
        MODEL.hessian(np.zeros((2, 2)))


def test_pca_plane():
    images = RNG.normal(size=(200, 4, 4)) * np.linspace(3.0, 0.1, 16).reshape(4, 4)
    feats = pca_plane(images)
    assert feats.shape == (200, 2)
    assert np.allclose(np.cov(feats.T, bias=True), np.eye(2), atol=1e-10)
    # the sign is fixed by the data, not by LAPACK: flipping the images flips nothing
    assert np.allclose(pca_plane(images[::-1]), feats[::-1])
    with pytest.raises(ValueError):
        pca_plane(np.ones((10, 3)))
    with pytest.raises(ValueError):
        pca_plane(np.zeros((2, 5)))


def test_tabulated_evaluates_each_point_set_once():
    calls = []

    def field(x):
        calls.append(1)
        return x.sum(axis=-1)

    cached = tabulated(field)
    x = np.arange(6.0).reshape(3, 2)
    assert np.array_equal(cached(x), [1.0, 5.0, 9.0])
    cached(x.copy())
    cached(x + 1)
    assert len(calls) == 2


def test_cell_histogram_and_coarsen():
    grid = cell_grid([[0.0, 1.0], [0.0, 1.0]], 4)
    samples = np.array([[0.1, 0.1], [0.9, 0.9], [0.9, 0.8], [2.0, 0.5]])
    counts = cell_histogram(samples, grid)
    assert counts.sum() == 3 and counts[0, 0] == 1 and counts[3, 3] == 2
    coarse = coarsen(counts, 2)
    assert coarse.shape == (2, 2) and coarse[1, 1] == 2
    with pytest.raises(ValueError):
        coarsen(counts, 3)
    with pytest.raises(ValueError):
        cell_histogram(samples, cell_grid([[0.0, 1.0]], 4))


def test_effective_sample_size_of_an_ar1_process():
    phi, n, chains = 0.6, 400, 200
    x = np.zeros((n, chains, 2))
    noise = RNG.normal(size=(n, chains, 2))
    x[0] = noise[0] / np.sqrt(1 - phi**2)
    for k in range(1, n):
        x[k] = phi * x[k - 1] + noise[k]
    expected = n * chains * (1 - phi) / (1 + phi)
    assert effective_sample_size(x) == pytest.approx(expected, rel=0.05)
    iid = RNG.normal(size=(50, 100, 2))
    assert effective_sample_size(iid) == pytest.approx(5000, rel=0.1)
    with pytest.raises(ValueError):
        effective_sample_size(np.zeros((2, 3, 2)))


def test_gaussian_tv_bound():
    s = np.array([[1.0, 0.2], [0.2, 0.5]])
    assert gaussian_tv_bound(s, s) == pytest.approx(0.0, abs=1e-12)
    # one dimension in closed form: KL(N(0, a) || N(0, 1)) = (a - 1 - log a) / 2
    a = 1.3
    assert gaussian_tv_bound([[a]], [[1.0]]) == pytest.approx(np.sqrt((a - 1 - np.log(a)) / 4))


def test_third_cumulant():
    sym = np.vstack([A, -A])
    assert np.abs(third_cumulant(sym)).max() < 1e-12
    x = RNG.exponential(size=(200_000, 1))
    assert third_cumulant(x)[0, 0, 0] == pytest.approx(2.0, rel=0.05)     # exponential: 2


def test_sgd_third_cumulant_in_one_dimension():
    h, eta, kappa = 0.5, 0.2, 0.7
    a = 1 - eta * h
    out = sgd_third_cumulant([[h]], np.full((1, 1, 1), kappa), eta)
    assert out[0, 0, 0] == pytest.approx(eta**3 * kappa / (1 - a**3))
    with pytest.raises(ValueError):
        sgd_third_cumulant([[h]], np.full((1, 1, 1), kappa), 5.0)
    with pytest.raises(ValueError):
        sgd_third_cumulant([[h]], np.zeros((2, 2, 2)), eta)


def test_edgeworth_tv():
    s = np.eye(2)
    assert edgeworth_tv(s, np.zeros((2, 2, 2))) == pytest.approx(0.0, abs=1e-15)
    k = np.zeros((2, 2, 2))
    k[0, 0, 0] = 0.3
    mean_abs_he3 = integrate.quad(lambda z: abs(z**3 - 3 * z) * stats.norm.pdf(z),
                                  -np.inf, np.inf)[0]
    assert edgeworth_tv(s, k) == pytest.approx(0.3 / 12 * mean_abs_he3, rel=1e-3)
    with pytest.raises(ValueError):
        edgeworth_tv(s, np.zeros((2, 2)))
