import numpy as np
import pytest
from scipy import linalg, stats

from sgdlab.core.fokker_planck import assumption4, fokker_planck, kl_divergence
from sgdlab.core.grid import cell_grid, grid2d


def double_well_1d(x):
    return (x[..., 0] ** 2 - 1.0) ** 2 / 4.0


def grad_double_well_1d(x):
    return x * (x**2 - 1.0)


def gibbs(f, grid, beta):
    rho = np.exp(-beta * f(grid.points))
    return rho / (rho.sum() * grid.volume)


def test_steady_state_of_isotropic_noise_is_gibbs_with_order_two():
    errors = []
    for n in (50, 100, 200):
        grid = cell_grid([[-3.0, 3.0]], n)
        fp = fokker_planck(grid, 2.0, grad_f=grad_double_well_1d)
        errors.append(np.abs(fp.steady_state() - gibbs(double_well_1d, grid, 2.0)).max())
    orders = np.log2(np.array(errors[:-1]) / errors[1:])
    assert np.all(np.abs(orders - 2.0) < 0.05)


def test_potential_form_gives_the_discrete_gibbs_law_exactly():
    grid = cell_grid([[-2.0, 2.0], [-2.0, 2.0]], 30)
    def f(x):
        return (x[..., 0] ** 2 - 1) ** 2 / 4 + x[..., 1] ** 2 / 2 + 0.3 * x[..., 0] * x[..., 1]
    fp = fokker_planck(grid, 1.3, f=f, diffusion=0.7)
    np.testing.assert_allclose(fp.steady_state(), gibbs(f, grid, 1.3 / 0.7), rtol=1e-10)


def test_anisotropic_constant_diffusion_gives_the_lyapunov_gaussian():
    a = np.array([[1.0, 0.3], [-0.2, 2.0]])           # not symmetric: a non-gradient drift
    d = np.array([[1.0, 0.5], [0.5, 0.8]])
    beta = 1.5
    cov = linalg.solve_continuous_lyapunov(a, 2.0 / beta * d)
    errors = []
    for n in (40, 80):
        grid = cell_grid([[-4.0, 4.0], [-4.0, 4.0]], n)
        fp = fokker_planck(grid, beta, grad_f=lambda x: x @ a.T, diffusion=d)
        exact = stats.multivariate_normal(cov=cov).pdf(grid.points)
        errors.append(np.abs(fp.steady_state() - exact).max())
    assert errors[1] < 3e-3
    assert 1.8 < np.log2(errors[0] / errors[1]) < 2.2


def test_generator_columns_sum_to_zero_and_mass_and_positivity_are_kept():
    def diffusion(x):
        c, s = np.cos(x[..., 0]), np.sin(x[..., 1])
        return np.stack([np.stack([1.5 + 0.5 * c, 0.3 * s], -1),
                         np.stack([0.3 * s, 1.0 + 0.2 * c * c], -1)], -2)

    grid = cell_grid([[-3.0, 3.0], [-3.0, 3.0]], (40, 36))
    fp = fokker_planck(grid, 2.0, grad_f=lambda x: x**3 - x, diffusion=diffusion)
    assert np.abs(np.asarray(fp.generator.sum(axis=0))).max() < 1e-10
    rho0 = np.exp(-8.0 * ((grid.points - [1.5, -1.0]) ** 2).sum(-1))
    sol = fp.evolve(rho0, 1.0, 40)
    mass = sol.x.sum(axis=(1, 2)) * grid.volume
    assert np.abs(mass - 1.0).max() < 1e-12
    assert sol.x.min() >= -1e-15


def test_ou_time_dependence_matches_the_closed_form():
    grid = cell_grid([[-6.0, 6.0]], 600)
    beta, k, m0, s0 = 2.0, 1.0, 2.0, 0.3
    fp = fokker_planck(grid, beta, grad_f=lambda x: k * x)
    rho0 = stats.norm(m0, s0).pdf(grid.centres[0])
    t = 0.5
    sol = fp.evolve(rho0, t, 2000)
    var = 1 / (beta * k) + (s0**2 - 1 / (beta * k)) * np.exp(-2 * k * t)
    exact = stats.norm(m0 * np.exp(-k * t), np.sqrt(var)).pdf(grid.centres[0])
    assert np.abs(sol.x[-1] - exact).max() < 2e-3 * exact.max()


def test_free_energy_identities():
    grid = cell_grid([[-3.0, 3.0], [-3.0, 3.0]], 30)
    fp = fokker_planck(grid, 0.5, grad_f=lambda x: x**3 - x, diffusion=[[1.0, 0.2], [0.2, 1.5]])
    rho = np.exp(-((grid.points - 1.0) ** 2).sum(-1))
    rho /= rho.sum() * grid.volume
    assert fp.free_energy(rho) == pytest.approx(fp.kl(rho) / 0.5, rel=1e-14)
    assert fp.energetic_entropic(rho) == pytest.approx(fp.free_energy(rho), rel=1e-10)
    shifted = fp.energetic_entropic(rho, fp.potential() + 3.0)
    assert shifted - fp.free_energy(rho) == pytest.approx(3.0, rel=1e-10)
    assert fp.kl(fp.steady_state()) == pytest.approx(0.0, abs=1e-13)
    assert kl_divergence(rho, fp.steady_state(), grid.volume) > 0


def test_current_vanishes_under_detailed_balance_only():
    grid = cell_grid([[-3.0, 3.0], [-3.0, 3.0]], 40)
    grad = fokker_planck(grid, 1.0, grad_f=lambda x: x**3 - x)
    rot = fokker_planck(grid, 1.0, grad_f=lambda x: x + 0.5 * np.stack([-x[..., 1], x[..., 0]], -1))
    assert np.abs(grad.current(grad.steady_state())).max() < 1e-3
    assert np.abs(rot.current(rot.steady_state())).max() > 1e-2
    assert rot.current(rot.steady_state()).shape == (40, 40, 2)


def test_validation():
    grid = cell_grid([[-1.0, 1.0], [-1.0, 1.0]], 10)
    with pytest.raises(ValueError, match="beta"):
        fokker_planck(grid, -1.0, grad_f=lambda x: x)
    with pytest.raises(ValueError, match="symmetric"):
        fokker_planck(grid, 1.0, grad_f=lambda x: x, diffusion=[[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="positive definite"):
        fokker_planck(grid, 1.0, grad_f=lambda x: x, diffusion=[[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="diffusion"):
        fokker_planck(grid, 1.0, grad_f=lambda x: x, diffusion=-1.0)
    with pytest.raises(ValueError, match="diagonally dominant"):
        fokker_planck(grid, 1.0, grad_f=lambda x: x, diffusion=[[1.0, 0.6], [0.6, 0.5]])
    with pytest.raises(ValueError, match="grid"):
        fokker_planck(grid.nodes(), 1.0, grad_f=lambda x: x)
    with pytest.raises(ValueError, match="dim"):
        cell_grid([[-1.0, 1.0]], 5).nodes()
    with pytest.raises(ValueError, match="grad_f and f"):
        fokker_planck(grid, 1.0)
    with pytest.raises(ValueError, match="grad_f"):
        fokker_planck(grid, 1.0, grad_f=lambda x: x[..., 0])
    with pytest.raises(ValueError, match="n"):
        cell_grid([[-1.0, 1.0]], 2)
    with pytest.raises(ValueError, match="box"):
        cell_grid([[1.0, -1.0]], 10)
    fp = fokker_planck(grid, 1.0, grad_f=lambda x: x)
    with pytest.raises(ValueError, match="rho0"):
        fp.evolve(-np.ones(grid.shape), 1.0, 2)
    with pytest.raises(ValueError, match="n_steps"):
        fp.evolve(np.ones(grid.shape), 1.0, 0)


def test_force_of_an_ou_process_is_the_linear_closed_form():
    h = np.array([[1.0, 0.3], [0.3, 2.0]])
    d = np.array([[1.0, 0.5], [0.5, 0.8]])
    beta = 2.0
    cov = linalg.solve_continuous_lyapunov(h, 2.0 / beta * d)
    errors = []
    for n in (40, 80):
        grid = cell_grid([[-3.0, 3.0], [-3.0, 3.0]], n)
        fp = fokker_planck(grid, beta, grad_f=lambda x: x @ h.T, diffusion=d)
        exact = grid.points @ (-h + d @ np.linalg.inv(cov) / beta).T     # eq. (8)
        inner = fp.steady_state() > 1e-2 * fp.steady_state().max()
        errors.append(np.abs(fp.force() - exact)[inner].max() / np.abs(exact[inner]).max())
        assert np.abs(fp.div_diffusion()).max() < 1e-13
    assert errors[0] / errors[1] > 3.0          # second order: the cross-diffusion error falls


def test_grid_too_coarse_for_the_box_is_refused():
    grid = cell_grid([[-20.0, 20.0], [-20.0, 20.0]], 9)   # cells 4.4 wide, a well 0.1 wide
    fp = fokker_planck(grid, 100.0, f=lambda x: 0.5 * (x**2).sum(axis=-1))
    with pytest.raises(ValueError, match="too coarse"):
        fp.steady_state()


def test_assumption4_on_linear_forces_is_exact():
    grid = grid2d([[-1.0, 2.0], [-1.5, 1.0]], (7, 9))
    x, y = grid.points[..., 0], grid.points[..., 1]
    grad_phi = grid.points                                 # Phi = |x|^2 / 2
    turn = assumption4(np.stack([-y, x], axis=-1), grad_phi, grid)
    np.testing.assert_allclose(turn.div_j, 0.0, atol=1e-14)  # a rotation: Assumption 4 holds
    np.testing.assert_array_equal(turn.j_dot_grad_phi, 0.0)
    sides = assumption4(np.stack([2 * x + y, 3 * x - y], axis=-1), grad_phi, grid)
    np.testing.assert_allclose(sides.div_j, 1.0, atol=1e-13)
    np.testing.assert_allclose(sides.j_dot_grad_phi, 2 * x**2 + 4 * x * y - y**2, atol=1e-15)
    np.testing.assert_allclose(sides.stationarity(2.0),
                               1.0 - 2.0 * (2 * x**2 + 4 * x * y - y**2), atol=1e-13)
    with pytest.raises(ValueError, match="grad_phi"):
        assumption4(grid.points, grid.points[..., :1], grid)
    with pytest.raises(ValueError, match="beta"):
        sides.stationarity(0.0)


def test_free_energy_rates_of_a_gaussian_under_ou_are_the_closed_form():
    # rho = N(m, s^2) under dx = -k x dt + sqrt(2 / beta) dW: psi' = (beta k x - (x - m)/s^2)/beta,
    # so dF/dt = -E[psi'^2] = -((beta k m)^2 + (beta k s - 1/s)^2) / beta^2, and j = 0
    beta, k, m, s = 2.0, 1.0, 0.7, 0.4
    rates = []
    for n in (400, 800):
        grid = cell_grid([[-5.0, 5.0]], n)
        fp = fokker_planck(grid, beta, grad_f=lambda x: k * x)
        rates.append(fp.free_energy_rates(stats.norm(m, s).pdf(grid.centres[0])))
    exact = -((beta * k * m) ** 2 + (beta * k * s - 1 / s) ** 2) / beta**2
    generator_gaps = [abs(r.generator - exact) for r in rates]
    # log(rho / rho_ss) is quadratic: its second-order differences are exact
    assert all(abs(r.dissipation - exact) < 1e-10 * abs(exact) for r in rates)
    assert generator_gaps[1] < 1e-3 * abs(exact) and generator_gaps[0] / generator_gaps[1] > 3.0
    assert abs(rates[1].force_energy) + abs(rates[1].force_entropy) < 1e-3 * abs(exact)
    with pytest.raises(ValueError, match="positive"):
        fp.free_energy_rates(np.where(grid.centres[0] > 0, 1.0, 0.0))
