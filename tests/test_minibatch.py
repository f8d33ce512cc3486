import numpy as np
import pytest

from sgdlab.core.minibatch import (
    covariance,
    diffusion_matrix,
    enumerate_covariance,
    paper_covariance_error,
    paper_covariance_without_replacement,
    sample_batch_means,
    sample_batches,
    variance_factor,
)
from sgdlab.core.sgd import lyapunov_covariance, sgd_covariance, simulate


@pytest.fixture(scope="module")
def grads():
    return np.random.default_rng(0).normal(size=(6, 3)) + np.array([1.0, -2.0, 0.5])


def rel(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


def test_diffusion_matrix_is_eq_2(grads):
    g = grads.mean(axis=0)
    expected = grads.T @ grads / len(grads) - np.outer(g, g)
    d = diffusion_matrix(grads)
    assert rel(d, expected) < 1e-12
    assert np.array_equal(d, d.T) and np.linalg.eigvalsh(d).min() > -1e-12
    assert np.trace(d) == pytest.approx(np.mean(np.sum((grads - g) ** 2, axis=1)), rel=1e-12)


@pytest.mark.parametrize("replacement", [True, False])
def test_closed_forms_match_enumeration_for_every_b(grads, replacement):
    for b in range(1, 7 if replacement else 6):           # b = N: see the next test
        exact = enumerate_covariance(grads, b, replacement)
        assert rel(covariance(grads, b, replacement), exact) < 1e-10, b


def test_without_replacement_full_batch_has_no_noise(grads):
    assert np.abs(covariance(grads, 6, replacement=False)).max() == 0.0
    assert np.abs(enumerate_covariance(grads, 6, replacement=False)).max() < 1e-14
    assert variance_factor(1, 1, replacement=False) == 0.0


def test_paper_a2_is_exact_only_at_zero_mean_gradient(grads):
    b = 2
    assert rel(paper_covariance_without_replacement(grads, b),
               covariance(grads, b, False)) > 0.05
    centred = grads - grads.mean(axis=0)
    assert rel(paper_covariance_without_replacement(centred, b),
               covariance(centred, b, False)) < 1e-12


def test_paper_a2_error_closed_form(grads):
    for b in range(1, 7):
        error = (paper_covariance_without_replacement(grads, b)
                 - enumerate_covariance(grads, b, replacement=False))
        closed = paper_covariance_error(grads, b)
        assert np.abs(error - closed).max() < 1e-12 * np.abs(grads).max() ** 2, b
    assert np.abs(paper_covariance_error(grads, 6)).max() == 0.0
    with pytest.raises(ValueError, match="N >= 2"):
        paper_covariance_error(grads[:1], 1)


@pytest.mark.parametrize("replacement", [True, False])
def test_monte_carlo_agrees(grads, replacement):
    draws = sample_batch_means(grads, 3, 200_000, replacement, rng=1)
    exact = covariance(grads, 3, replacement)
    assert np.allclose(draws.mean(axis=0), grads.mean(axis=0), atol=0.02)
    assert rel(np.cov(draws.T), exact) < 0.03


def test_batches_without_replacement_are_distinct():
    idx = sample_batches(10, 10, 50, replacement=False, rng=np.random.default_rng(2))
    assert idx.shape == (50, 10)
    assert all(sorted(row) == list(range(10)) for row in idx)


def test_bad_input(grads):
    with pytest.raises(ValueError, match="b must be <= N"):
        covariance(grads, 7, replacement=False)
    for bad_b in (0, -1, 1.5):
        with pytest.raises(ValueError, match="b must be a positive integer"):
            covariance(grads, bad_b)
    with pytest.raises(ValueError, match="grads"):
        covariance(grads[0], 1)
    nan = grads.copy()
    nan[0, 0] = np.nan
    for fn in (diffusion_matrix, lambda g: enumerate_covariance(g, 2)):
        with pytest.raises(ValueError, match="grads contains NaN"):
            fn(nan)
    with pytest.raises(ValueError, match="max_batches"):
        enumerate_covariance(grads, 6, max_batches=100)
    assert covariance(grads, 7).shape == (3, 3)          # b > N is fine with replacement


def test_sgd_matches_its_discrete_lyapunov_covariance():
    rng = np.random.default_rng(3)
    h = np.array([[2.0, 0.5], [0.5, 0.5]])
    centres = rng.normal(size=(8, 2)) * [1.0, 0.3]
    grads = (h @ (-centres).T).T                           # gradients at x = 0

    def batch_grad(x, idx):
        return (x - centres[idx].mean(axis=1)) @ h.T

    eta, b = 0.1, 2
    run = simulate(batch_grad, 8, np.tile(centres.mean(axis=0), (4000, 1)), eta, b, 200,
                   record_every=200, rng=4)
    exact = sgd_covariance(h, covariance(grads, b), eta)
    assert rel(np.cov(run.x[-1].T), exact) < 0.1
    continuous = lyapunov_covariance(h, diffusion_matrix(grads), eta / (2 * b))
    assert 0 < rel(exact, continuous) < eta * np.linalg.norm(h, 2)


def test_lyapunov_checks():
    with pytest.raises(ValueError, match="diffusion must be symmetric"):
        lyapunov_covariance(np.eye(2), [[1.0, 1.0], [0.0, 1.0]], 1.0)
    with pytest.raises(ValueError, match="hessian"):
        lyapunov_covariance(-np.eye(2), np.eye(2), 1.0)
    with pytest.raises(ValueError, match="eta"):
        sgd_covariance(np.eye(2), np.eye(2), 3.0)


@pytest.mark.parametrize("replacement", [True, False])
def test_fast_quadratic_run_matches_simulate(replacement):
    from sgdlab.core.sgd import anisotropic_quadratic

    q = anisotropic_quadratic(n=10)
    fast = q.run(0.3, 4, 50, 30, replacement=replacement, record_every=10, rng=5)
    slow = simulate(q.batch_grad, 10, np.tile(q.minimum, (50, 1)), 0.3, 4, 30,
                    replacement=replacement, record_every=10, rng=5)
    assert fast.x.shape == (4, 50, 2)
    np.testing.assert_array_equal(fast.t, slow.t)
    assert np.abs(fast.x - slow.x).max() < 1e-12


def test_linear_least_squares_exact_sgd_covariance():
    from sgdlab.core.sgd import LinearLeastSquares

    rng = np.random.default_rng(6)
    a = rng.normal(size=(30, 2)) * np.array([1.0, 0.4])
    model = LinearLeastSquares(a, a @ np.array([1.0, -1.0]) + 0.5 * rng.normal(size=30))
    assert np.abs(model.grads(model.minimum).mean(axis=0)).max() < 1e-12
    eta, b = 0.3, 2
    exact = model.sgd_covariance(eta, b)
    chains = simulate(model.batch_grad, 30, np.tile(model.minimum, (20_000, 1)), eta, b, 300,
                      record_every=300, rng=7).x[-1]
    assert rel(np.cov(chains.T), exact) < 0.05
    # without the multiplicative part of the noise the prediction is measurably lower
    additive = sgd_covariance(model.hessian, covariance(model.grads(model.minimum), b), eta)
    assert np.trace(exact) > 1.02 * np.trace(additive)
    with pytest.raises(ValueError, match="eta"):
        model.sgd_covariance(5.0, b)


def test_variance_z_scores():
    from sgdlab.core.sgd import variance_z_scores

    rng = np.random.default_rng(3)
    cov = np.array([[2.0, 0.6], [0.6, 0.5]])
    x = rng.multivariate_normal([1.0, -1.0], cov, size=4000)
    _, vecs = np.linalg.eigh(cov)
    expected = [(np.var((x - x.mean(0)) @ v) - v @ cov @ v) / (np.sqrt(2 / 4000) * v @ cov @ v)
                for v in vecs.T]
    np.testing.assert_allclose(variance_z_scores(x, cov), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="cov"):
        variance_z_scores(x, np.eye(3))
