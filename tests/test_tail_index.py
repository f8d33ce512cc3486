import math

import numpy as np
import pytest
from scipy.stats import levy_stable

from sgdlab.core import tail_index as ti


@pytest.mark.parametrize("alpha", [1.1, 1.5, 1.8, 2.0])
def test_recovers_alpha_of_exact_stable_samples(alpha):
    # 30 independent columns of 4096 symmetric alpha-stable draws (alpha = 2: a Gaussian)
    x = levy_stable.rvs(alpha, 0.0, size=(4096, 30), random_state=7)
    est = ti.stable_tail_index(x)
    assert est.m == 64 and est.blocks == 64          # 4096 = 64 * 64
    z = (est.inverse - 1 / alpha) / est.se_inverse
    # the estimate of 1/alpha is unbiased with the standard error it reports:
    # each column within 4 se, and the mean of 30 z-scores within 4 / sqrt(30)
    assert np.all(np.abs(z) < 4)
    assert abs(z.mean()) < 4 / math.sqrt(30)
    # the delta-method se of alpha is alpha^2 times that of 1/alpha
    np.testing.assert_allclose(est.se, est.alpha**2 * est.se_inverse, rtol=1e-12)


def test_standard_error_matches_the_spread_over_repetitions():
    x = np.random.default_rng(0).standard_normal((1024, 400))
    est = ti.stable_tail_index(x, m=16)
    # 400 independent estimates: their sd estimates the true se within ~4 % (chi^2, 399 dof)
    assert est.inverse.std(ddof=1) == pytest.approx(est.se_inverse.mean(), rel=0.15)


def test_block_size_is_the_released_codes_rule():
    assert ti.block_size(4096) == 64
    assert ti.block_size(2048 * 917) == max(i for i in range(1, 1371) if 2048 * 917 % i == 0)
    with pytest.raises(ValueError, match="no block size"):
        ti.block_size(97)


def test_pooled_flattens_rows_as_the_released_code():
    x = np.random.default_rng(1).standard_normal((64, 16))
    a, b = ti.pooled(x), ti.stable_tail_index(x.reshape(-1))
    np.testing.assert_array_equal(a.inverse, b.inverse)


def test_pooled_gaussian_prediction_matches_pooled_estimates():
    rng = np.random.default_rng(2)
    d, rows = 40, 256
    scales = np.exp(rng.normal(0.0, 1.0, d))
    a = rng.standard_normal((d, d)) / math.sqrt(d)
    for cov in (np.diag(scales**2), scales[:, None] * (0.5 * np.eye(d) + 0.5 * a @ a.T)
                * scales[None, :]):
        chol = np.linalg.cholesky(cov)
        est = np.array([ti.pooled(rng.standard_normal((rows, d)) @ chol.T).inverse[0]
                        for _ in range(30)])
        pred = ti.pooled_gaussian_inverse(cov, rows)
        # mean of 30 estimates within 4 standard errors of the exact expectation
        assert abs(est.mean() - pred) < 4 * est.std(ddof=1) / math.sqrt(30)
        assert pred > 0.5 + 5 * est.std(ddof=1)       # pooling different scales: alpha < 2


def test_pooled_gaussian_prediction_is_one_half_for_equal_scales():
    assert ti.pooled_gaussian_inverse(np.eye(30), 100) == pytest.approx(0.5, abs=1e-12)


def test_projections_and_coordinates_see_gaussian_alpha_2():
    rng = np.random.default_rng(3)
    d = 50
    scales = np.exp(rng.normal(0.0, 1.5, d))
    x = rng.standard_normal((4096, d)) * scales
    coord = ti.per_coordinate(x)
    proj = ti.along_projections(x, ti.random_directions(d, 40, 0))
    for est in (coord, proj):
        # 1/alpha-hat is unbiased for 1/2; sd of a mean <= mean of the sds
        assert abs(est.inverse.mean() - 0.5) < 4 * est.se_inverse.mean()


def test_random_directions_are_unit_vectors():
    u = ti.random_directions(7, 5, 0)
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: ti.stable_tail_index(np.ones((3,))), "N >= 4"),
    (lambda: ti.stable_tail_index([1.0, np.nan, 2.0, 3.0], m=2), "NaN"),
    (lambda: ti.stable_tail_index(np.ones(10), m=6), "2 blocks"),
    (lambda: ti.along_projections(np.ones((8, 3)), np.ones((2, 4))), "directions"),
    (lambda: ti.along_projections(np.ones((8, 3)), np.ones((2, 3))), "unit"),
    (lambda: ti.pooled_gaussian_inverse(np.diag([1.0, 0.0]), 8), "positive diagonal"),
    (lambda: ti.pooled(np.ones(8)), "shape"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
