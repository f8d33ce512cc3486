import numpy as np
import pytest

from sgdlab.core.minibatch import covariance
from sgdlab.core.sgd import LinearLeastSquares, lyapunov_covariance, simulate, variance_z_scores


def _model(seed=6, n=30):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 2)) * np.array([1.0, 0.4])
    return LinearLeastSquares(a, a @ np.array([1.0, -1.0]) + 0.5 * rng.normal(size=n))


def test_preconditioned_exact_covariance_matches_simulation():
    model = _model()
    p = np.array([[1.5, 0.3], [0.3, 0.8]])
    eta, b = 0.2, 2
    exact = model.sgd_covariance(eta, b, p)
    assert not np.allclose(exact, model.sgd_covariance(eta, b))
    np.testing.assert_allclose(model.sgd_covariance(eta, b, np.eye(2)),
                               model.sgd_covariance(eta, b), rtol=1e-12)
    chains = simulate(lambda x, idx: model.batch_grad(x, idx) @ p.T, 30,
                      np.tile(model.minimum, (20_000, 1)), eta, b, 400, record_every=400,
                      rng=3).x[-1]
    assert np.all(np.abs(variance_z_scores(chains, exact)) < 4)
    with pytest.raises(ValueError, match="preconditioner"):
        model.sgd_covariance(eta, b, np.eye(3))


def test_lyapunov_gap_bounds_hold_and_the_lower_one_is_first_order():
    model = _model()
    for eta, b in ((0.01, 1), (0.05, 3), (0.2, 2)):
        exact = model.sgd_covariance(eta, b)
        lyap = lyapunov_covariance(model.hessian, covariance(model.grads(model.minimum), b),
                                   eta / 2)
        assert np.all(np.linalg.eigvalsh(exact - lyap) > -1e-15)      # Sigma >= Sigma_L
        gap = np.trace(exact - lyap) / np.trace(lyap)
        lower, upper = model.lyapunov_gap_bounds(eta, b)
        assert lower <= gap <= upper
    # the lower bound is the first-order term: gap - lower = O(eta^2)
    small = [model.lyapunov_gap_bounds(eta, 2)[0] for eta in (1e-3, 2e-3)]
    assert abs(small[1] / small[0] - 2) < 1e-9
    assert model.lyapunov_gap_bounds(1.5, 1)[1] == np.inf


def test_momentum_raises_the_temperature_by_one_over_one_minus_mu():
    """Heavy-ball SGD's exact stationary covariance against the Lyapunov one at
    eta / (2b(1 - mu)): equal at mu = 0 to plain SGD's, and the gap O(eta) (halving eta
    halves it: order 1 up to the next term, O((eta / (1 - mu))^2))."""
    from sgdlab.core import sgd

    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    h = q @ np.diag([0.5, 1.0, 2.0]) @ q.T
    d_mat = np.diag([1.0, 0.3, 0.1])
    b = 4
    np.testing.assert_allclose(sgd.heavy_ball_covariance(h, d_mat / b, 0.05, 0.0),
                               sgd.sgd_covariance(h, d_mat / b, 0.05), rtol=1e-10)
    for mu in (0.5, 0.9):
        gaps = []
        for eta in (0.002, 0.001, 0.0005):      # eta / (1 - mu) small: the asymptotic regime
            exact = sgd.heavy_ball_covariance(h, d_mat / b, eta, mu)
            limit = sgd.lyapunov_covariance(h, d_mat, sgd.temperature(eta, b, mu))
            gaps.append(np.abs(exact - limit).max() / np.abs(limit).max())
        orders = np.log2(np.array(gaps[:-1]) / np.array(gaps[1:]))
        np.testing.assert_allclose(orders, 1.0, atol=0.05)
        assert gaps[-1] < 0.01


@pytest.mark.parametrize("momentum", [-0.1, 1.0, float("nan")])
def test_momentum_outside_zero_one_is_refused(momentum):
    from sgdlab.core import sgd

    with pytest.raises(ValueError, match="momentum"):
        sgd.temperature(0.1, 4, momentum)
    with pytest.raises(ValueError, match="momentum"):
        sgd.heavy_ball_covariance(np.eye(2), np.eye(2), 0.1, momentum)


def test_heavy_ball_that_diverges_is_refused():
    from sgdlab.core import sgd

    with pytest.raises(ValueError, match="does not converge"):
        sgd.heavy_ball_covariance(np.eye(2) * 50, np.eye(2), 0.1, 0.9)


def test_heavy_ball_phase_covariance_is_the_ar2_closed_form_in_one_dimension():
    """x_{k+1} = (1 + mu - a) x_k - mu x_{k-1} - eta xi (a = eta lambda) is an AR(2):
    Var x = eta^2 c (1 + mu) / ((1 - mu) a (2(1 + mu) - a)), E v^2 = 2 Var x a / (1 + mu),
    E[x_k v_k] = E v^2 / 2 (stationarity of x_k = x_{k-1} + v_k)."""
    from sgdlab.core.sgd import heavy_ball_covariance, heavy_ball_phase_covariance

    for lam, c, eta, mu in [(1.0, 0.3, 0.1, 0.9), (0.25, 2.0, 0.5, 0.5), (3.0, 1.0, 0.2, 0.0)]:
        a = eta * lam
        var_x = eta**2 * c * (1 + mu) / ((1 - mu) * a * (2 * (1 + mu) - a))
        var_v = 2 * var_x * a / (1 + mu)
        s = heavy_ball_phase_covariance([[lam]], [[c]], eta, mu)
        np.testing.assert_allclose(s, [[var_x, var_v / 2], [var_v / 2, var_v]], rtol=1e-12)
        assert heavy_ball_covariance([[lam]], [[c]], eta, mu)[0, 0] == pytest.approx(var_x,
                                                                                      rel=1e-12)


def test_phase_rotation_is_the_commutator_and_vanishes_when_h_and_c_commute():
    """R = eta / (2(1 - mu)) [H, Sigma_x] exactly; zero when H and C commute."""
    from sgdlab.core.sgd import heavy_ball_phase_covariance, phase_rotation

    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    h = q @ np.diag([0.5, 1.0, 2.0]) @ q.T
    c = np.diag([1.0, 0.3, 0.1])
    for mu in (0.0, 0.9):
        s = heavy_ball_phase_covariance(h, c, 0.05, mu)
        r = phase_rotation(s)
        sx = s[:3, :3]
        predicted = 0.05 / (2 * (1 - mu)) * (h @ sx - sx @ h)
        scale = np.abs(s).max()
        assert np.abs(r - predicted).max() < 1e3 * np.finfo(float).eps * scale
        assert np.abs(r).max() > 1e-3 * scale                      # not commuting: a rotation
        commuting = phase_rotation(heavy_ball_phase_covariance(np.diag([0.5, 1.0, 2.0]), c,
                                                               0.05, mu))
        assert np.abs(commuting).max() < 1e3 * np.finfo(float).eps * scale
    with pytest.raises(ValueError, match="2d"):
        phase_rotation(np.eye(3))


def test_heavy_ball_chains_reach_the_exact_phase_covariance():
    """Real mini-batches (non-Gaussian noise): every entry of the sample covariance of
    (x, v) within 4 standard errors of the discrete Lyapunov solution; with momentum 0 the
    chains are run()'s, batch for batch."""
    from sgdlab.core.sgd import (
        heavy_ball_phase_covariance,
        phase_rotation,
        phase_sample,
        tilted_quadratic,
    )

    quad = tilted_quadratic(np.pi / 6, n=16)
    eta, b, mu = 0.05, 2, 0.8
    x, v = quad.heavy_ball(eta, b, mu, 4000, 400, rng=3)
    sample = phase_sample(x - quad.minimum, v)
    exact = heavy_ball_phase_covariance(quad.hessian, quad.noise_cov(b), eta, mu)
    assert np.all(np.abs(sample.moments - exact) < 4 * sample.stderr)
    off = ~np.eye(2, dtype=bool)
    gap = np.abs(sample.rotation - phase_rotation(exact))[off]
    assert np.all(gap < 4 * sample.rotation_stderr[off])
    plain_x, plain_v = quad.heavy_ball(eta, b, 0.0, 5, 30, rng=4)
    path = quad.run(eta, b, 5, 30, record_every=1, rng=4).x
    np.testing.assert_allclose(plain_x, path[-1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(plain_v, path[-1] - path[-2], rtol=1e-9, atol=1e-15)
    with pytest.raises(ValueError, match="does not converge"):
        quad.heavy_ball(5.0, b, 0.9, 4, 10)


def test_tilted_quadratic_commutes_only_at_zero_and_a_right_angle():
    from sgdlab.core.sgd import tilted_quadratic

    for angle, commutes in [(0.0, True), (np.pi / 2, True), (np.pi / 6, False)]:
        quad = tilted_quadratic(angle)
        c = quad.centres - quad.centres.mean(axis=0)
        np.testing.assert_allclose(c.T @ c / len(c), np.diag([1.0, 0.35**2]), atol=1e-13)
        noise = quad.noise_cov(1)
        gap = np.abs(quad.hessian @ noise - noise @ quad.hessian).max()
        assert (gap < 1e-13) == commutes
    with pytest.raises(ValueError, match="n must be >= 3"):
        tilted_quadratic(0.0, n=2)
