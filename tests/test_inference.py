import numpy as np
import pytest

from sgdlab.core import inference as inf
from sgdlab.core.minibatch import covariance
from sgdlab.core.sgd import sgd_covariance, variance_z_scores

EPS = np.finfo(float).eps


def _model(seed=3, n=40):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 2)) * np.array([1.0, 0.5])
    return inf.bayesian_linear_regression(a, a @ np.array([0.5, -1.0]) + rng.normal(size=n))


def test_regression_is_scaled_by_the_residual_variance():
    model = _model()
    r = model.features @ model.minimum - model.targets
    np.testing.assert_allclose(r @ r / (len(r) - 2), 1.0, rtol=1e-12)   # sigma^2 = 1 after scaling
    with pytest.raises(ValueError, match="N > d"):
        inf.bayesian_linear_regression(np.ones((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="exactly"):
        inf.bayesian_linear_regression(np.eye(3)[:, :2], np.eye(3)[:, 0])


def test_principal_components_are_centred_and_uncorrelated():
    img = np.random.default_rng(0).normal(size=(50, 4, 3))
    s = inf.principal_components(img, 3)
    assert s.shape == (50, 3)
    np.testing.assert_allclose(s.mean(axis=0), 0, atol=1e-13)
    cov = s.T @ s
    np.testing.assert_allclose(cov - np.diag(np.diag(cov)), 0, atol=1e-11)
    assert np.all(np.diff(np.diag(cov)) <= 0)
    with pytest.raises(ValueError, match="n_components"):
        inf.principal_components(img, 13)


def test_frozen_noise_carries_the_gradients_at_the_minimum():
    model = _model()
    fz = inf.frozen_noise(model)
    x = np.array([0.3, -2.0])
    np.testing.assert_allclose(fz.grads(x), model.grads(model.minimum)
                               + model.hessian @ (x - model.minimum), atol=1e-12)
    np.testing.assert_allclose(fz.minimum, model.minimum, atol=1e-12)
    with pytest.raises(ValueError, match="LinearLeastSquares"):
        inf.frozen_noise(fz)   # type: ignore[arg-type]


def test_one_dimensional_closed_forms():
    h, c, n = 0.7, 0.02, 50
    H, C = np.array([[h]]), np.array([[c]])
    for eta in (0.01, 0.5, 2.5):
        s = inf.stationary_covariance(H, C, eta)[0, 0]
        assert abs(s - eta * c / (h * (2 - eta * h))) < 1e3 * EPS * s
        s = inf.stationary_covariance(H, C, eta, "continuous")[0, 0]
        assert abs(s - eta * c / (2 * h)) < 1e3 * EPS * s
        s = inf.stationary_covariance(H, C, eta, "modified")[0, 0]
        assert abs(s - eta * c / (2 * h + eta * h * h)) < 1e3 * EPS * s
    # KL = (u - 1 - log u)/2 with u = N h Sigma, zero at eta = 2/(Nc + h) for the recursion
    assert abs(inf.optimal_learning_rate(H, C, n) - 2 / (n * c)) < 1e3 * EPS / (n * c)
    eta_d = inf.optimal_learning_rate(H, C, n, "discrete")
    assert abs(eta_d - 2 / (n * c + h)) < 1e-8 * eta_d            # Brent's xatol in log eta
    assert inf.posterior_kl(inf.stationary_covariance(H, C, eta_d), H, n) < 1e-15
    u = 3.0
    assert abs(inf.posterior_kl([[u / (n * h)]], H, n) - 0.5 * (u - 1 - np.log(u))) < 1e-14


def test_optimal_learning_rate_minimises_each_kl():
    model = _model()
    h, n = model.hessian, len(model.targets)
    c = covariance(model.grads(model.minimum), 4)
    for kind in ("continuous", "discrete"):
        eta = inf.optimal_learning_rate(h, c, n, kind)
        kl = [inf.posterior_kl(inf.stationary_covariance(h, c, e, kind), h, n)
              for e in eta * np.array([0.99, 1.0, 1.01])]
        assert kl[1] < kl[0] and kl[1] < kl[2]
    with pytest.raises(ValueError, match="kind"):
        inf.optimal_learning_rate(h, c, n, "modified")


def test_optimal_preconditioners_give_the_posterior_to_roundoff():
    model = _model()
    h, n = model.hessian, len(model.targets)
    c = covariance(model.grads(model.minimum), 2)
    post = np.linalg.inv(n * h)
    for kind, eta in (("continuous", 0.3), ("discrete", 0.3), ("discrete", 5.0)):
        p = inf.optimal_preconditioner(h, c, n, eta, kind)
        s = inf.stationary_covariance(h, c, eta, kind, preconditioner=p)
        np.testing.assert_allclose(s, post, rtol=1e4 * EPS * np.linalg.cond(n * c + h))
    with pytest.raises(ValueError, match="kind"):
        inf.optimal_preconditioner(h, c, n, 0.3, "modified")


def test_moments_match_the_recursion_and_the_stationary_limit():
    model = _model()
    h = model.hessian
    c = covariance(model.grads(model.minimum), 3)
    m0, eta = np.array([1.0, -2.0]), 0.1
    m, s = m0.copy(), np.zeros((2, 2))
    a = np.eye(2) - eta * h
    for _ in range(37):
        m, s = a @ m, a @ s @ a.T + eta**2 * c
    mk, sk = inf.sgd_moments(h, c, eta, m0, 37)
    np.testing.assert_allclose(mk, m, rtol=1e-12)
    np.testing.assert_allclose(sk, s, rtol=1e-10)
    # the SDE's moments solve dm/dt = -G m, dS/dt = -G S - S G^T + eta C (finite differences)
    g = inf.modified_drift(h, eta)
    (m1, s1), (m2, s2), (mm, sm) = (inf.sde_moments(g, c, eta, m0, t)
                                    for t in (1 - 1e-4, 1 + 1e-4, 1))
    np.testing.assert_allclose((m2 - m1) / 2e-4, -g @ mm, rtol=1e-6)
    np.testing.assert_allclose((s2 - s1) / 2e-4, -g @ sm - sm @ g.T + eta * c, rtol=1e-5,
                               atol=1e-12)
    with pytest.raises(ValueError, match="mean0"):
        inf.sgd_moments(h, c, eta, np.ones((2, 2)), 3)


def test_weak_error_orders():
    model = _model()
    h = model.hessian
    c = covariance(model.grads(model.minimum), 3)
    m0 = np.array([1.0, -2.0])
    for order in (1, 2):
        e = [inf.weak_error(h, c, 2.0**-j, m0, 1.0, order) for j in (9, 10)]
        assert abs(np.log2(e[0] / e[1]) - order) < 0.01   # next term O(eta) ~ 2^-9
    with pytest.raises(ValueError, match="whole number"):
        inf.weak_error(h, c, 0.3, m0, 1.0, 1)
    with pytest.raises(ValueError, match="order"):
        inf.weak_error(h, c, 0.25, m0, 1.0, 3)


def test_frozen_noise_simulation_matches_the_discrete_equation_not_the_sde():
    model = _model()
    eta, b, steps = 1.0, 2, 30
    c = covariance(model.grads(model.minimum), b)
    chains = inf.frozen_noise(model).run(eta, b, 20_000, steps, rng=0).x[-1]
    _, exact = inf.sgd_moments(model.hessian, c, eta, np.zeros(2), steps)
    assert np.all(np.abs(variance_z_scores(chains, exact)) < 4)
    sde = inf.stationary_covariance(model.hessian, c, eta, "continuous")
    assert np.abs(variance_z_scores(chains, sde)).max() > 4


def test_bad_input():
    h = np.eye(2)
    with pytest.raises(ValueError, match="kind"):
        inf.stationary_covariance(h, h, 0.1, "euler")   # type: ignore[arg-type]
    with pytest.raises(ValueError, match="preconditioner"):
        inf.stationary_covariance(h, h, 0.1, preconditioner=-h)
    with pytest.raises(ValueError, match="eta"):
        inf.stationary_covariance(h, h, -0.1)
    with pytest.raises(ValueError, match="cov"):
        inf.posterior_kl([[1.0, np.nan], [np.nan, 1.0]], h, 3)
    with pytest.raises(ValueError, match="too large"):
        sgd_covariance(h, h, 2.5)
    indefinite = np.diag([1.0, -0.5])
    for kind in ("discrete", "continuous", "modified"):
        with pytest.raises(ValueError, match="hessian must be positive definite"):
            inf.stationary_covariance(indefinite, h, 0.1, kind)
    with pytest.raises(ValueError, match="hessian must be positive definite"):
        inf.sgd_moments(indefinite, h, 0.1, np.zeros(2), 3)
    with pytest.raises(ValueError, match="hessian must be positive definite"):
        inf.weak_error(indefinite, h, 0.25, np.zeros(2), 1.0, 1)
    with pytest.raises(ValueError, match="hessian must be symmetric"):
        inf.stationary_covariance([[1.0, 0.5], [0.0, 1.0]], h, 0.1)
    with pytest.raises(ValueError, match="noise_cov"):
        inf.stationary_covariance(h, np.eye(3), 0.1)
    with pytest.raises(ValueError, match="order"):
        inf.weak_error(h, h, 0.25, np.zeros(2), 1.0, True)   # type: ignore[arg-type]
