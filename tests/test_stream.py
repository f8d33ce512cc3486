"""Tests of sgdlab.core.stream: stream function, Theorem 22's Q on a grid, entropy production."""

import numpy as np
import pytest

from sgdlab.core.fokker_planck import fokker_planck
from sgdlab.core.grid import cell_grid, gradient
from sgdlab.core.landscapes import TiltedWell, anisotropic_diffusion
from sgdlab.core.linear import decompose
from sgdlab.core.stream import (
    SYMPLECTIC,
    a_type,
    entropy_production,
    interpolate_field,
    observed_order,
    stream_function,
)

BOX = [[-1.0, 1.0], [-1.0, 1.0]]
WELL = TiltedWell(coupling=0.3, tilt=0.3)


def _psi_exact(x):
    return np.cos(np.pi * x[..., 0] / 2) * np.cos(np.pi * x[..., 1] / 2)


def _current_exact(x):
    c = np.pi / 2
    d1 = -c * np.sin(c * x[..., 0]) * np.cos(c * x[..., 1])
    d2 = -c * np.cos(c * x[..., 0]) * np.sin(c * x[..., 1])
    return np.stack([d2, -d1], axis=-1)                      # S grad psi


def test_stream_function_is_second_order():
    errors, spacings = [], []
    for n in (20, 40):
        grid = cell_grid(BOX, n)
        psi = stream_function(_current_exact(grid.points), grid)
        errors.append(np.abs(psi - _psi_exact(grid.points)).max())
        spacings.append(grid.spacing[0])
    assert errors[1] < 0.01
    assert observed_order(errors, spacings) > 1.8


def test_stream_function_rejects_bad_input():
    with pytest.raises(ValueError):
        stream_function(np.zeros((4, 4, 2)), cell_grid([[0.0, 1.0]], 4))
    with pytest.raises(ValueError):
        stream_function(np.zeros((4, 4)), cell_grid(BOX, 4))


def test_symplectic_is_antisymmetric():
    assert np.array_equal(SYMPLECTIC, -SYMPLECTIC.T)


def test_isotropic_diffusion_has_no_current_and_no_q():
    grid = cell_grid([[-2.5, 2.5], [-2.5, 2.5]], 40)
    fields = a_type(fokker_planck(grid, 5.0, f=WELL.f), WELL.grad_f)
    scale = np.max(np.linalg.norm(fields.grad_f, axis=-1) * fields.rho)
    assert np.abs(fields.current).max() < 1e-12 * scale
    # Phi = f + const at the cell centres, Q = 0: the residual is grad f minus its difference
    # (away from the far tails, where rho_ss is at the solve's round-off and Phi saturates)
    bulk = fields.rho > 1e-6 * fields.rho.max()
    quotient = fields.grad_f - gradient(WELL.f(grid.points), grid)
    assert np.allclose(fields.residual[bulk], quotient[bulk], rtol=0, atol=1e-6)
    assert fields.Q.shape == (40, 40, 2, 2)


def test_eq19_residual_falls_at_second_order():
    diff = anisotropic_diffusion(0.25, np.pi / 4)
    res, spacings = [], []
    for n in (40, 80):
        grid = cell_grid([[-2.5, 2.5], [-2.5, 2.5]], n)
        fields = a_type(fokker_planck(grid, 1 / 0.2, f=WELL.f, diffusion=diff), WELL.grad_f)
        assert np.allclose(fields.Q, -np.swapaxes(fields.Q, -1, -2))
        res.append(fields.relative_residual())
        spacings.append(grid.spacing[0])
    assert observed_order(res, spacings) > 1.5


def test_entropy_production_of_the_linear_case():
    """Quadratic f, constant D: e_p = tr(Q^T D^-1 Q U) of Lemma 20 at every temperature."""
    hess = np.array([[1.0, 0.3], [0.3, 0.5]])
    diff = anisotropic_diffusion(0.3, np.pi / 4)
    dec = decompose(hess, diff)
    exact = np.trace(dec.Q.T @ np.linalg.solve(diff, dec.Q) @ dec.U)

    def f(x):
        return 0.5 * np.einsum("...i,ij,...j->...", x, hess, x)

    grid = cell_grid([[-2.0, 2.0], [-2.0, 2.0]], 80)
    values = [entropy_production(fokker_planck(grid, beta, f=f, diffusion=diff))
              for beta in (5.0, 10.0)]
    assert exact > 0.01
    assert np.allclose(values, exact, rtol=0.05)
    iso = entropy_production(fokker_planck(grid, 5.0, f=f))
    assert 0 <= iso < 1e-9 * exact


def test_entropy_production_rejects_bad_input():
    grid = cell_grid(BOX, 8)
    fp = fokker_planck(grid, 1.0, f=WELL.f)
    with pytest.raises(ValueError):
        entropy_production("not a solver")
    with pytest.raises(ValueError):
        entropy_production(fp, np.zeros((8, 8)))
    with pytest.raises(ValueError):
        a_type("not a solver")


def test_interpolate_field_is_exact_for_linear_fields():
    grid = cell_grid(BOX, 10)
    field = grid.points @ np.array([2.0, -3.0]) + 1.0
    x = np.array([[0.1234, -0.4321], [0.0, 0.0]])
    assert np.allclose(interpolate_field(field, grid, x), x @ np.array([2.0, -3.0]) + 1.0)
    vec = np.stack([field, 2 * field], axis=-1)
    assert interpolate_field(vec, grid, x[0]).shape == (2,)
    with pytest.raises(ValueError):
        interpolate_field(field, grid, [[0.99, 0.0]])          # beyond the outermost centres
    with pytest.raises(ValueError):
        interpolate_field(field[:5], grid, x)


def test_observed_order():
    assert observed_order([4.0, 1.0], [0.2, 0.1]) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        observed_order([1.0, 0.0], [0.2, 0.1])
    with pytest.raises(ValueError):
        observed_order([1.0, 2.0], [0.1, 0.1])
