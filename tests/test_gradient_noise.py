import math

import numpy as np
import pytest
from scipy import stats

from sgdlab.core import gradient_noise as gn
from sgdlab.core.minibatch import diffusion_matrix


@pytest.fixture(scope="module")
def grads():
    rng = np.random.default_rng(0)
    return rng.exponential(size=(200, 4)) * np.array([1.0, 2.0, 0.5, 3.0]) + rng.normal(
        size=(200, 4))


def test_minibatch_noise_has_mean_zero_and_covariance_d_over_b(grads):
    b, m = 5, 40_000
    xi = gn.minibatch_noise(grads, b, m, rng=1)
    cov = diffusion_matrix(grads) / b
    # sample mean within 4 standard errors of 0; sample variance within 4 standard errors,
    # sd(s^2) / sigma^2 = sqrt((kurtosis - 1) / M)
    assert np.all(np.abs(xi.mean(axis=0)) < 4 * np.sqrt(np.diag(cov) / m))
    kurtosis = stats.kurtosis(xi, fisher=False)
    assert np.all(np.abs(xi.var(axis=0) / np.diag(cov) - 1) < 4 * np.sqrt((kurtosis - 1) / m))


@pytest.mark.parametrize("kind", gn.COVARIANCES)
def test_gaussian_noise_covariance(grads, kind):
    b, m = 3, 50_000
    z = gn.gaussian_noise(diffusion_matrix(grads), b, m, kind, rng=2)
    cov = diffusion_matrix(grads) / b
    target = cov if kind == "full" else np.diag(np.diag(cov))
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / m)   # Wishart entries
    assert np.all(np.abs(np.cov(z.T, bias=True) - target) < 5 * se)


def test_kolmogorov_distance_matches_scipy():
    x = np.random.default_rng(3).normal(0.0, 2.0, size=(500, 3))
    ours = gn.kolmogorov_distance(x, 2.0)
    for k in range(3):
        assert ours[k] == pytest.approx(stats.kstest(x[:, k] / 2.0, "norm").statistic,
                                        rel=1e-12)


def test_berry_esseen_bounds_the_distance_of_batch_means():
    # exponential per-example values: skewed; batch means of b = 4
    z = np.random.default_rng(4).exponential(size=(5000, 1))
    b, m = 4, 20_000
    means = gn.minibatch_noise(z, b, m, rng=5)
    sd = z.std() / math.sqrt(b)
    bound = gn.berry_esseen_bound(z, b)[0]
    assert gn.kolmogorov_distance(means, sd)[0] <= bound + gn.dkw_radius(m, 0.01)
    # the bound is C rho / (sigma^3 sqrt(b)), exact for this sample
    c = z - z.mean()
    assert bound == pytest.approx(0.4748 * np.mean(np.abs(c) ** 3) / (c.std() ** 3 * 2),
                                  rel=1e-12)


def test_dkw_radius():
    assert gn.dkw_radius(200, 0.05) == pytest.approx(math.sqrt(math.log(40) / 400))
    with pytest.raises(ValueError, match="delta"):
        gn.dkw_radius(10, 1.5)


@pytest.mark.parametrize(("call", "match"), [
    (lambda g: gn.gaussian_noise(np.eye(2), 2, 10, "spherical"), "covariance"),
    (lambda g: gn.gaussian_noise(-np.eye(2), 2, 10), "diffusion"),
    (lambda g: gn.minibatch_noise(g, 0, 10), "b must"),
    (lambda g: gn.berry_esseen_bound(np.ones(1), 2), "N >= 2"),
    (lambda g: gn.kolmogorov_distance(np.ones((4, 2)), -1.0), "scale"),
])
def test_bad_input(grads, call, match):
    with pytest.raises(ValueError, match=match):
        call(grads)


def test_nested_noise_has_the_law_of_minibatch_noise(grads):
    m = 20_000
    nested = gn.nested_minibatch_noise(grads, [1, 4, 16], m, rng=6)
    d_mat = diffusion_matrix(grads)
    for b, xi in nested.items():
        # variance D_ii / b within 4 standard errors, sd(s^2)/sigma^2 = sqrt((kurt - 1)/M)
        kurtosis = stats.kurtosis(xi, fisher=False)
        assert np.all(np.abs(xi.var(axis=0) / (np.diag(d_mat) / b) - 1)
                      < 4 * np.sqrt((kurtosis - 1) / m)), b
    # the first draw of each sequence is the batch of one
    xi1 = gn.nested_minibatch_noise(grads, [1], 5, rng=7)[1]
    rows = np.random.default_rng(7).integers(0, len(grads), size=(5, 1))[:, 0]
    np.testing.assert_allclose(xi1, grads[rows] - grads.mean(axis=0), rtol=1e-12, atol=1e-12)
