"""Tests of sgdlab.core.modes: sub-cell maximum, mode shift, line fit, potential spread."""

import numpy as np
import pytest
from scipy import stats

from sgdlab.core.fokker_planck import fokker_planck
from sgdlab.core.grid import cell_grid, grid2d
from sgdlab.core.landscapes import TiltedWell, anisotropic_diffusion
from sgdlab.core.modes import (
    fit_line,
    high_density_region,
    mode_shift,
    potential_spread,
    refine_max,
)

GRID = cell_grid([[-2.0, 2.0], [-1.5, 1.5]], (40, 30))
WELL = TiltedWell(coupling=0.3, tilt=0.3)


def test_refine_max_exact_on_a_quadratic():
    centre = np.array([0.3137, -0.2718])
    hess = np.array([[3.0, 1.0], [1.0, 2.0]])
    d = GRID.points - centre
    u = -0.5 * np.einsum("...i,ij,...j->...", d, hess, d)
    assert np.allclose(refine_max(u, GRID), centre, rtol=0, atol=1e-12)


def test_refine_max_rejects_bad_input():
    with pytest.raises(ValueError, match="u must have shape"):
        refine_max(np.zeros((3, 3)), GRID)
    with pytest.raises(ValueError, match="boundary"):
        refine_max(GRID.points[..., 0], GRID)
    u = -np.sum(GRID.points ** 2, axis=-1)
    u[5, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        refine_max(u, GRID)
    with pytest.raises(ValueError, match="CellGrid"):
        refine_max(np.zeros((10, 10)), grid2d([[0.0, 1.0], [0.0, 1.0]], 10))


def test_refine_max_in_one_dimension_is_the_vertex_of_the_parabola():
    line = cell_grid([[-1.0, 3.0]], 40)
    x = line.centres[0]
    np.testing.assert_allclose(refine_max(-2.0 * (x - 1.2345) ** 2 + 7.0, line), [1.2345],
                               rtol=0, atol=1e-12)
    u = np.cos(x)                                  # largest at cell 10, x = 0.05
    lo, mid, hi = u[9:12]
    vertex = x[10] + line.spacing[0] * (lo - hi) / (2 * (lo - 2 * mid + hi))
    np.testing.assert_allclose(refine_max(u, line), [vertex], rtol=0, atol=1e-14)


def test_isotropic_gap_is_the_fit_error_at_every_beta():
    # Lemma 6: D = cI gives rho_ss = exp(-beta f / c) exactly at the cell centres,
    # so the gap is the same (the quadratic fit's error) for every beta
    grid = cell_grid([[-2.5, 2.5], [-2.5, 2.5]], 60)
    gaps = [mode_shift(fokker_planck(grid, beta, f=WELL.f, diffusion=0.5), WELL.f,
                       WELL.grad_f).gap for beta in (5.0, 20.0)]
    assert gaps[0] == pytest.approx(gaps[1], rel=1e-8)
    assert gaps[0] < 0.1 * grid.spacing[0]


def test_anisotropic_gap_grows_with_temperature():
    grid = cell_grid([[-2.5, 2.5], [-2.5, 2.5]], 60)
    d = anisotropic_diffusion(0.3, np.pi / 4)
    shifts = [mode_shift(fokker_planck(grid, beta, f=WELL.f, diffusion=d), WELL.f, WELL.grad_f)
              for beta in (20.0, 5.0)]
    assert np.allclose(shifts[0].minimum, shifts[1].minimum, atol=1e-8)
    assert np.allclose(WELL.grad_f(shifts[0].minimum), 0.0, atol=1e-9)
    assert shifts[1].gap > 3 * shifts[0].gap


def test_mode_shift_rejects_non_solver():
    with pytest.raises(ValueError, match="fp must be"):
        mode_shift(None, WELL.f, WELL.grad_f)


def test_fit_line_matches_linregress_and_exact_line():
    rng = np.random.default_rng(0)
    x = np.linspace(0.0, 1.0, 12)
    y = 0.5 + 2.0 * x + 0.01 * rng.standard_normal(x.size)
    fit = fit_line(x, y, confidence=0.9)
    ref = stats.linregress(x, y)
    assert fit.slope == pytest.approx(ref.slope, rel=1e-12)
    half = stats.t.ppf(0.95, x.size - 2) * ref.stderr
    assert fit.slope_ci == pytest.approx((ref.slope - half, ref.slope + half), rel=1e-12)
    exact = fit_line(x, 3.0 * x - 1.0)
    assert exact.slope == pytest.approx(3.0, rel=1e-12)
    assert np.ptp(exact.slope_ci) < 1e-12
    for bad in ({"x": [1.0, 2.0], "y": [1.0, 2.0]}, {"x": [1.0, 1.0, 1.0], "y": [1.0, 2.0, 3.0]},
                {"x": x, "y": y[:-1]}, {"x": x, "y": y, "confidence": 1.0}):
        with pytest.raises(ValueError):
            fit_line(**bad)


def test_high_density_region_and_potential_spread():
    rho = np.array([[0.1, 0.4], [0.2, 0.3]])
    assert high_density_region(rho, 0.7).tolist() == [[False, True], [False, True]]
    assert high_density_region(rho, 1.0).all()
    phi = np.arange(4.0).reshape(2, 2)
    region = np.ones((2, 2), dtype=bool)
    assert potential_spread([phi, phi + 7.0], region) == pytest.approx(0.0, abs=1e-14)
    assert potential_spread([phi, 2 * phi], region) == pytest.approx(1.5, rel=1e-12)  # phi - 1.5
    with pytest.raises(ValueError, match="mass"):
        high_density_region(rho, 0.0)
    with pytest.raises(ValueError, match="at least two"):
        potential_spread([phi], region)
    with pytest.raises(ValueError, match="empty"):
        potential_spread([phi, phi], ~region)


def test_anisotropic_diffusion():
    d = anisotropic_diffusion(0.25, 0.4)
    assert np.allclose(np.linalg.eigvalsh(d), [0.25, 1.0], rtol=0, atol=1e-14)
    v = np.array([np.cos(0.4), np.sin(0.4)])
    assert np.allclose(d @ v, v, rtol=0, atol=1e-14)
    assert np.allclose(anisotropic_diffusion(1.0, 1.3), np.eye(2), rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="ratio"):
        anisotropic_diffusion(-1.0, 0.0)
    with pytest.raises(ValueError, match="angle"):
        anisotropic_diffusion(0.5, np.nan)


def test_matrix_divergence_of_a_polynomial_field():
    from sgdlab.core.modes import matrix_divergence

    def field(x):
        x1, x2 = x[..., 0], x[..., 1]
        return np.stack([np.stack([x1**2, x1 * x2], -1), np.stack([x2**3, np.sin(x1)], -1)], -2)

    pts = np.random.default_rng(0).normal(size=(50, 2))
    # (d1 x1^2 + d2 x1 x2, d1 x2^3 + d2 sin x1) = (3 x1, 0)
    exact = np.stack([3 * pts[:, 0], np.zeros(len(pts))], -1)
    np.testing.assert_allclose(matrix_divergence(field, pts), exact, atol=1e-8)
    with pytest.raises(ValueError, match="shape"):
        matrix_divergence(lambda x: np.zeros(x.shape), pts)


def test_a_type_drift_has_exp_minus_beta_phi_as_steady_state_and_its_ito_reading_not():
    from sgdlab.core.density import gibbs
    from sgdlab.core.landscapes import swirling_diffusion
    from sgdlab.core.modes import a_type_drift

    J = np.array([[0.0, 1.0], [-1.0, 0.0]])

    def rot(x):
        return 0.5 * np.tanh(x[..., 0])[..., None, None] * J

    beta = 5.0
    errors = {}
    for n in (40, 80):
        g = cell_grid([[-2.5, 2.5], [-2.5, 2.5]], n)
        target = gibbs(WELL.f(g.points), g.volume, beta)
        for corr in (True, False):
            drift = a_type_drift(WELL.grad_f, swirling_diffusion, rot, beta, ito_correction=corr)
            rho = fokker_planck(g, beta, grad_f=drift, diffusion=swirling_diffusion).steady_state()
            errors[corr, n] = np.abs(rho - target).sum() * g.volume
    assert round(np.log2(errors[True, 40] / errors[True, 80])) == 2     # second-order scheme
    assert round(np.log2(errors[False, 40] / errors[False, 80])) == 0   # a different limit
    with pytest.raises(ValueError, match="antisymmetric"):
        a_type_drift(WELL.grad_f, swirling_diffusion, lambda x: swirling_diffusion(x), 1.0)(
            np.zeros((3, 2)))
