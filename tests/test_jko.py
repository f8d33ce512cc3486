import warnings

import numpy as np
import ot
import pytest
from scipy import stats

from sgdlab.core.grid import cell_grid
from sgdlab.core.jko import (
    convergence_order,
    density_quantiles,
    entropic_jko_flow,
    entropic_jko_step,
    jko_flow,
    jko_step,
    levels,
    w2_grid,
    w2_quantiles,
)


def test_quantile_w2_equals_exact_transport():
    rng = np.random.default_rng(1)
    a, b = np.sort(rng.normal(size=50)), np.sort(rng.exponential(size=50))
    w = np.full(50, 1 / 50)
    exact = np.sqrt(ot.emd2(w, w, ot.dist(a[:, None], b[:, None])))
    assert w2_quantiles(a, b) == pytest.approx(exact, rel=1e-10)


def test_density_quantiles_of_a_uniform_density_are_exact():
    grid = cell_grid([[0.0, 2.0]], 8)
    u = levels(10)
    np.testing.assert_allclose(density_quantiles(np.ones(8), grid, u), 2 * u, rtol=1e-14)


def test_jko_converges_to_the_ou_flow_at_first_order():
    beta, m0, s0, t = 2.0, 1.0, 0.4, 0.5
    u = levels(100)
    var = 1 / beta + (s0**2 - 1 / beta) * np.exp(-2 * t)
    exact = stats.norm(m0 * np.exp(-t), np.sqrt(var)).ppf(u)
    errors = [w2_quantiles(jko_flow(stats.norm(m0, s0).ppf(u), t / n, n, beta,
                                    lambda x: x**2 / 2, lambda x: x).x[-1], exact)
              for n in (5, 10, 20)]
    assert errors[0] > errors[1] > errors[2]
    assert np.all(np.abs(np.log2(np.array(errors[:-1]) / errors[1:]) - 1.0) < 0.1)


def test_heat_flow_stays_centred_and_spreads():
    u = levels(60)
    y = jko_step(stats.norm(0, 1).ppf(u), 0.1, 1.0, np.zeros_like, np.zeros_like)
    np.testing.assert_allclose(y, -y[::-1], atol=1e-6)        # symmetric about 0
    assert np.std(y) > np.std(stats.norm(0, 1).ppf(u))


def test_validation():
    u = levels(10)
    with pytest.raises(ValueError, match="tau"):
        jko_step(u, -1.0, 1.0, np.zeros_like, np.zeros_like)
    with pytest.raises(ValueError, match="beta"):
        jko_step(u, 0.1, 0.0, np.zeros_like, np.zeros_like)
    with pytest.raises(ValueError, match="increasing"):
        jko_step(u[::-1], 0.1, 1.0, np.zeros_like, np.zeros_like)
    with pytest.raises(ValueError, match="m"):
        levels(0)
    with pytest.raises(ValueError, match="shape"):
        w2_quantiles(u, u[:-1])
    with pytest.raises(ValueError, match="rho"):
        density_quantiles(-np.ones(8), cell_grid([[0.0, 1.0]], 8), u)


def _ou_setup():
    grid = cell_grid([[-2.5, 2.5], [-2.5, 2.5]], 24)
    pts = grid.points
    rho0 = np.exp(-((pts - [1.0, 0.5]) ** 2).sum(-1) / (2 * 0.4**2))
    return grid, rho0, 0.5 * (pts**2).sum(-1)


def test_entropic_jko_conserves_mass_and_positivity_and_moves_towards_the_minimum():
    grid, rho0, f = _ou_setup()
    flow = entropic_jko_flow(rho0, grid, 0.1, 3, 2.0, f, eps=0.05)
    masses = flow.x.sum(axis=(1, 2)) * grid.volume
    np.testing.assert_allclose(masses, 1.0, rtol=1e-12)
    assert flow.x.min() > 0
    means = [(r[..., None] * grid.points).sum((0, 1)) * grid.volume for r in flow.x]
    assert np.all(np.diff(np.linalg.norm(means, axis=1)) < 0)   # the mean drifts to 0


def test_entropic_jko_of_the_minimiser_of_f_alone_stays_symmetric():
    grid, _, f = _ou_setup()
    rho = np.exp(-2.0 * f)
    step = entropic_jko_step(rho, grid, 0.1, 2.0, f, eps=0.05)
    np.testing.assert_allclose(step, step[::-1, ::-1], rtol=1e-8)
    np.testing.assert_allclose(step, step.T, rtol=1e-8)


def test_w2_grid_matches_a_translation():
    grid = cell_grid([[0.0, 4.0], [0.0, 4.0]], 8)
    a = np.zeros(grid.shape)
    b = np.zeros(grid.shape)
    a[2, 3], b[5, 3] = 1.0, 1.0
    assert w2_grid(a, b, grid) == pytest.approx(3 * grid.spacing[0], rel=1e-12)


def test_entropic_jko_validation():
    grid, rho0, f = _ou_setup()
    with pytest.raises(ValueError, match="eps"):
        entropic_jko_step(rho0, grid, 0.1, 2.0, f, eps=0.0)
    with pytest.raises(ValueError, match="tau"):
        entropic_jko_step(rho0, grid, -0.1, 2.0, f, eps=0.05)
    with pytest.raises(ValueError, match="rho"):
        entropic_jko_step(-rho0, grid, 0.1, 2.0, f, eps=0.05)
    with pytest.raises(ValueError, match="f_cells"):
        entropic_jko_step(rho0, grid, 0.1, 2.0, f[:-1], eps=0.05)
    with pytest.raises(ValueError, match="grid"):
        entropic_jko_step(rho0, cell_grid([[0.0, 1.0]], 8), 0.1, 2.0, f, eps=0.05)
    with pytest.raises(ValueError, match="beta"):
        entropic_jko_step(rho0, grid, 0.1, -2.0, f, eps=0.05)
    with pytest.raises(ValueError, match="tol"):
        entropic_jko_step(rho0, grid, 0.1, 2.0, f, eps=0.05, tol=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        entropic_jko_step(rho0, grid, 0.1, 2.0, f, eps=0.05, max_iter=0)
    with pytest.raises(ValueError, match="max_iter"):                  # does not converge
        entropic_jko_step(rho0, grid, 0.1, 2.0, f, eps=0.05, max_iter=2)
    with pytest.raises(ValueError, match="n_steps"):
        entropic_jko_flow(rho0, grid, 0.1, 0, 2.0, f, eps=0.05)
    with pytest.raises(ValueError, match="shape"):
        w2_grid(rho0, rho0[:-1], grid)


def _gaussian_cells(grid, mean, var):
    return np.exp(-((grid.points - mean) ** 2).sum(-1) / (2 * var))


@pytest.mark.parametrize("eps", [0.5, 0.04, 0.01])
def test_entropic_jko_step_equals_pots_semi_relaxed_unbalanced_sinkhorn(eps):
    # F(q) = KL(q | e^{-beta f}) / beta + const at unit mass: a hard first marginal and
    # weight 2 tau / beta on the second; at eps = 0.01 e^{-C/eps} underflows off the diagonal
    grid = cell_grid([[-2.5, 2.5], [-2.5, 2.5]], 12)
    rho0 = _gaussian_cells(grid, [1.0, 0.5], 0.16)
    f = 0.5 * (grid.points**2).sum(-1)
    tau, beta = 0.1, 2.0
    ours = entropic_jko_step(rho0, grid, tau, beta, f, eps, tol=1e-13)
    x = grid.points.reshape(-1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)     # reg_type="entropy" ignores c
        plan = ot.unbalanced.sinkhorn_unbalanced(
            rho0.ravel() / rho0.sum(), np.exp(-beta * f.ravel()), ot.dist(x, x), eps,
            (np.inf, 2 * tau / beta), reg_type="entropy", numItermax=100_000, stopThr=1e-14)
    pot = plan.sum(0).reshape(grid.shape) / grid.volume
    np.testing.assert_allclose(ours, pot, rtol=1e-9, atol=1e-12 * pot.max())


def test_entropic_jko_with_eps_like_tau_squared_converges_at_first_order():
    beta, t, m0, v0 = 2.0, 0.8, np.array([1.0, 0.5]), 0.16
    errors = []
    for n, tau in ((16, 0.2), (32, 0.1)):               # h and sqrt(eps) both halve with tau
        grid = cell_grid([[-3.0, 3.0], [-3.0, 3.0]], n)
        flow = entropic_jko_flow(_gaussian_cells(grid, m0, v0), grid, tau, round(t / tau), beta,
                                 0.5 * (grid.points**2).sum(-1), eps=4 * tau**2)
        var = 1 / beta + (v0 - 1 / beta) * np.exp(-2 * t)
        errors.append(w2_grid(flow.x[-1], _gaussian_cells(grid, m0 * np.exp(-t), var), grid))
    assert 1.7 < errors[0] / errors[1] < 2.3


def test_entropic_jko_at_fixed_eps_over_tau_tracks_a_hotter_fokker_planck():
    beta, t, m0, v0, alpha = 2.0, 0.5, np.array([1.0, 0.5]), 0.16, 1.0
    grid = cell_grid([[-2.5, 2.5], [-2.5, 2.5]], 32)
    flow = entropic_jko_flow(_gaussian_cells(grid, m0, v0), grid, 0.05, 10, beta,
                             0.5 * (grid.points**2).sum(-1), eps=alpha * 0.05)

    def ou_law(temp):
        var = temp + (v0 - temp) * np.exp(-2 * t)
        return _gaussian_cells(grid, m0 * np.exp(-t), var)

    assert w2_grid(flow.x[-1], ou_law(1 / beta + alpha / 4), grid) < 0.5 * w2_grid(
        flow.x[-1], ou_law(1 / beta), grid)


def test_entropic_jko_from_a_density_with_empty_cells():
    grid, rho0, f = _ou_setup()
    rho0 = np.where(rho0 > 1e-3 * rho0.max(), rho0, 0.0)
    step = entropic_jko_step(rho0, grid, 0.05, 2.0, f, eps=0.01)
    assert np.all(np.isfinite(step)) and step.min() >= 0
    assert step.sum() * grid.volume == pytest.approx(1.0, rel=1e-12)
    assert np.count_nonzero(step) > np.count_nonzero(rho0)       # the step spreads mass


def test_convergence_order_recovers_the_order_and_its_interval():
    tau = np.array([0.4, 0.2, 0.1, 0.05])
    order, low, high = convergence_order(tau, 3.0 * tau**2)
    assert abs(order - 2) < 1e-12 and abs(low - 2) < 1e-9 and abs(high - 2) < 1e-9
    # a first-order error with a second-order term: the interval holds 1, not 1/2 or 2
    order, low, high = convergence_order(tau, tau + 0.5 * tau**2)
    assert 0.5 < low < 1 < high < 2 and low < order < high
    # the interval is that of statsmodels' OLS
    import statsmodels.api as sm
    err = tau * (1 + 0.3 * np.sin(10 * tau))
    ols = sm.OLS(np.log(err), sm.add_constant(np.log(tau))).fit()
    assert np.allclose(ols.conf_int(0.05)[1], convergence_order(tau, err, 0.95)[1:], rtol=1e-10)


def test_convergence_order_validation():
    tau = np.array([0.2, 0.1, 0.05])
    for steps, errors in (([0.2, 0.1], [1.0, 0.5]), (tau, [1.0, 0.5]), (tau, [1.0, 0.0, 0.5]),
                          ([0.1, 0.1, 0.1], [1.0, 0.5, 0.2]), (tau, [1.0, np.nan, 0.2])):
        with pytest.raises(ValueError):
            convergence_order(steps, errors)
    with pytest.raises(ValueError, match="confidence"):
        convergence_order(tau, tau, confidence=1.0)
