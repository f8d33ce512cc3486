"""FDR1 on a quadratic: exact stationary moments, the pathwise identity, batch means."""

import numpy as np
import pytest

from sgdlab.core.fdr import (
    batch_means,
    exact_fdr1,
    fdr1_boundary,
    fdr1_rhs,
    momentum_covariance,
    simulate_fdr1,
)
from sgdlab.core.sgd import anisotropic_quadratic, heavy_ball_covariance, sgd_covariance

Q = anisotropic_quadratic()
C = Q.noise_cov(4)
CASES = [(0.0, False), (0.5, False), (0.9, False), (0.5, True), (0.9, True)]


@pytest.mark.parametrize(("momentum", "nesterov"), CASES)
def test_exact_sides_agree_to_round_off(momentum, nesterov):
    for eta in (0.01, 0.1, 0.3):
        lhs, rhs = exact_fdr1(Q.hessian, C, eta, momentum, nesterov)
        assert rhs == pytest.approx(lhs, rel=1e-12)


def test_covariance_matches_the_existing_forms():
    sigma = momentum_covariance(Q.hessian, C, 0.1, 0.9)
    np.testing.assert_allclose(sigma[:2, :2], heavy_ball_covariance(Q.hessian, C, 0.1, 0.9),
                               rtol=1e-10)
    np.testing.assert_allclose(momentum_covariance(Q.hessian, C, 0.1)[:2, :2],
                               sgd_covariance(Q.hessian, C, 0.1), rtol=1e-10)
    # Yaida's heavy-ball form <x.g> = eta (1 + mu) <|v|^2> / 2, an independent equation
    lhs, _ = exact_fdr1(Q.hessian, C, 0.1, 0.9)
    assert lhs == pytest.approx(0.05 * 1.9 * np.trace(sigma[2:, 2:]), rel=1e-12)


def test_plain_sgd_relation_fails_with_momentum():
    lhs, _ = exact_fdr1(Q.hessian, C, 0.1, 0.9, True)
    sigma = momentum_covariance(Q.hessian, C, 0.1, 0.9, True)
    plain = fdr1_rhs(np.trace(Q.hessian @ sigma[:2, :2] @ Q.hessian) + np.trace(C), 0.0, 0.0, 0.1)
    assert abs(plain - lhs) > 0.1 * lhs


@pytest.mark.parametrize(("momentum", "nesterov"), CASES)
def test_pathwise_identity(momentum, nesterov):
    s = simulate_fdr1(Q, 0.2, 2, 300, 3, momentum=momentum, nesterov=nesterov, x0=[3.0, -2.0],
                      rng=1)
    q = fdr1_boundary(s.y_sq, 0.2, momentum)
    np.testing.assert_allclose(np.cumsum(s.x_dot_g - s.rhs, axis=0), q[0] - q[1:],
                               atol=1e-12 * np.abs(q).max() * 300)


def test_simulation_is_stationary_at_the_exact_value():
    s = simulate_fdr1(Q, 0.1, 4, 4000, 40, momentum=0.9, nesterov=True, rng=2)
    lhs, _ = exact_fdr1(Q.hessian, C, 0.1, 0.9, True)
    mean, se = batch_means(s.x_dot_g[1000:], 5)
    assert abs(mean - lhs) < 4 * se                    # 4 standard errors


def test_batch_means_of_white_noise():
    x = np.random.default_rng(0).normal(size=(1000, 4))
    mean, se = batch_means(x, 10)
    assert se == pytest.approx(1 / np.sqrt(4000), rel=0.3)   # 40 batches: s.e. of s.d. ~ 11 %
    assert abs(mean) < 4 * se


def test_nan_propagates_and_bad_input():
    assert np.isnan(fdr1_rhs([np.nan, 1.0], 0.0, 0.0, 0.1)[0])
    with pytest.raises(ValueError, match="momentum"):
        fdr1_rhs(1.0, 0.0, 0.0, 0.1, momentum=1.0)
    with pytest.raises(ValueError, match="eta"):
        exact_fdr1(Q.hessian, C, -0.1)
    with pytest.raises(ValueError, match="too large"):
        momentum_covariance(Q.hessian, C, 5.0, 0.9)
    with pytest.raises(ValueError, match="n_batches"):
        batch_means(np.ones(3), 10)
    with pytest.raises(ValueError, match="two steps"):
        fdr1_boundary([1.0], 0.1)
