r"""Theorem 22 on a grid: the stream function of the steady current, and the A-type :math:`Q`.

In the plane the steady current of (FP),
:math:`J_{ss} = -\nabla f\rho_{ss} - \beta^{-1}\nabla\cdot(D\rho_{ss})`, is
divergence-free, so it has a stream function :math:`\psi` with
:math:`J_{ss} = (\partial_2\psi, -\partial_1\psi)`; no flux leaves the box, so
:math:`\psi` is constant on its boundary, and we take it zero there.
:func:`stream_function` solves :math:`\Delta\psi = -\operatorname{curl} J_{ss}`
for it.  An antisymmetric :math:`2\times2` matrix field is
:math:`Q = q\,S` with :math:`S = \begin{pmatrix}0 & 1\\ -1 & 0\end{pmatrix}`,
and :math:`(\nabla\cdot Q)_i = \sum_j\partial_j Q_{ij}` is :math:`S\nabla q`.
Eq. (19) of the paper, :math:`\nabla f = (D + Q)\nabla\Phi - \beta^{-1}\nabla\cdot(D + Q)`
with :math:`\rho_{ss} = e^{-\beta\Phi}`, is equivalent to
:math:`J_{ss} = \beta^{-1}\nabla\cdot(Q\rho_{ss}) = \beta^{-1}S\nabla(q\rho_{ss})`,
so :math:`\beta^{-1}q\rho_{ss} = \psi`:

.. math:: q = \beta\,\psi/\rho_{ss}.

:func:`a_type` computes :math:`\Phi`, :math:`J_{ss}`, :math:`\psi`, :math:`q` and
the residual of eq. (19) at the cell centres from a
:class:`~sgdlab.core.fokker_planck.FokkerPlanck`; :func:`entropy_production`
the entropy production rate of the steady state, zero exactly under detailed
balance (Remark 26).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import interpolate, sparse
from scipy.sparse import linalg as splinalg

from sgdlab import _validation as check
from sgdlab._typing import Array
from sgdlab.core.fokker_planck import FokkerPlanck
from sgdlab.core.grid import CellGrid, curl, gradient

__all__ = [
    "SYMPLECTIC",
    "ATypeFields",
    "a_type",
    "entropy_production",
    "interpolate_field",
    "observed_order",
    "stream_function",
]

#: :math:`S = \begin{pmatrix}0 & 1\\ -1 & 0\end{pmatrix}`: every antisymmetric 2x2 matrix is
#: a multiple of it, and :math:`J = S\nabla\psi` rotates a gradient by a quarter turn.
SYMPLECTIC = np.array([[0.0, 1.0], [-1.0, 0.0]])


def _plane(grid: CellGrid) -> CellGrid:
    if not isinstance(grid, CellGrid) or grid.dim != 2:
        raise ValueError("grid must be a 2-D CellGrid")
    return grid


def _laplacian_1d(n: int, h: float) -> sparse.csr_matrix:
    """Second difference on ``n`` cells, zero at the two outer faces (ghost cell = -value)."""
    main = np.full(n, -2.0)
    main[[0, -1]] = -3.0
    dense = np.diag(main) + np.diag(np.ones(n - 1), 1) + np.diag(np.ones(n - 1), -1)
    return sparse.csr_matrix(dense / h**2)


def stream_function(current: ArrayLike, grid: CellGrid) -> Array:
    r"""Stream function :math:`\psi`, :math:`J = (\partial_2\psi, -\partial_1\psi)`, 0 on the box.

    Solves :math:`\Delta\psi = -(\partial_1 J_2 - \partial_2 J_1)` with the
    five-point Laplacian on the cells and :math:`\psi = 0` on the outer faces
    (the box has no flux through its boundary, so :math:`\psi` is constant
    there), by one sparse solve; second-order accurate.  For a
    divergence-free :math:`J` the rotated gradient of :math:`\psi` returns
    :math:`J`; otherwise it returns its divergence-free part.

    Parameters
    ----------
    current : array_like, shape grid.shape + (2,)
        :math:`J` at the cell centres, e.g. :meth:`~sgdlab.core.fokker_planck.FokkerPlanck.current`.
    grid : CellGrid
        A 2-D cell grid.

    Returns
    -------
    ndarray, shape grid.shape
    """
    grid = _plane(grid)
    rhs = -curl(current, grid)
    (nx, ny), (hx, hy) = grid.shape, grid.spacing
    lap = (sparse.kron(_laplacian_1d(nx, hx), sparse.identity(ny))
           + sparse.kron(sparse.identity(nx), _laplacian_1d(ny, hy)))
    return np.asarray(splinalg.spsolve(lap.tocsc(), rhs.ravel())).reshape(grid.shape)


@dataclass(frozen=True, eq=False)
class ATypeFields:
    r"""The fields of Theorem 22 at the cell centres (:func:`a_type`).

    Attributes
    ----------
    grid : CellGrid
    beta : float
    rho : ndarray, shape grid.shape
        :math:`\rho_{ss}`.
    phi : ndarray, shape grid.shape
        :math:`\Phi = -\beta^{-1}\log\rho_{ss}` (eq. 5).
    current : ndarray, shape grid.shape + (2,)
        :math:`J_{ss}`.
    psi : ndarray, shape grid.shape
        Its stream function.
    q : ndarray, shape grid.shape
        :math:`Q = q\,S`, :math:`q = \beta\psi/\rho_{ss}`.
    div_d, div_q : ndarray, shape grid.shape + (2,)
        :math:`\nabla\cdot D` and :math:`\nabla\cdot Q = S\nabla q`.
    residual : ndarray, shape grid.shape + (2,)
        :math:`\nabla f - (D + Q)\nabla\Phi + \beta^{-1}\nabla\cdot(D + Q)`, zero
        where eq. (19) holds.
    grad_f : ndarray, shape grid.shape + (2,)
        The :math:`\nabla f` the residual was taken against.
    """

    grid: CellGrid
    beta: float
    rho: Array
    phi: Array
    current: Array
    psi: Array
    q: Array
    div_d: Array
    div_q: Array
    residual: Array
    grad_f: Array

    @property
    def Q(self) -> Array:
        """The antisymmetric matrix field :math:`Q = q\\,S`, shape ``grid.shape + (2, 2)``."""
        return self.q[..., None, None] * SYMPLECTIC

    def relative_residual(self) -> float:
        r"""The mean residual of eq. (19), :math:`\int|R|\rho_{ss} / \int|\nabla f|\rho_{ss}`.

        Weighted by the steady state, so that the far tails, where
        :math:`\rho_{ss}` is at the accuracy of the solve and
        :math:`q = \beta\psi/\rho_{ss}` is not resolved, do not count.
        """
        norm_r = np.linalg.norm(self.residual, axis=-1)
        norm_g = np.linalg.norm(self.grad_f, axis=-1)
        return float(np.sum(norm_r * self.rho) / np.sum(norm_g * self.rho))


def a_type(fp: FokkerPlanck, grad_f: Callable[[Array], ArrayLike] | None = None) -> ATypeFields:
    r"""Theorem 22's :math:`\Phi` and antisymmetric :math:`Q` from a steady state, and eq. (19).

    From :math:`\rho_{ss}` of ``fp``: :math:`\Phi = -\beta^{-1}\log\rho_{ss}`,
    :math:`J_{ss}` (:meth:`~sgdlab.core.fokker_planck.FokkerPlanck.current`), :math:`\psi`
    (:func:`stream_function`), :math:`q = \beta\psi/\rho_{ss}`, and the
    residual of eq. (19) with every derivative by second-order differences.

    Parameters
    ----------
    fp : FokkerPlanck
        The discretised (FP) on a 2-D grid.
    grad_f : callable, optional
        The exact :math:`\nabla f` on points ``(..., 2)``, for the residual; by
        default the one ``fp`` holds at the cell centres (with ``f`` given to
        :func:`~sgdlab.core.fokker_planck.fokker_planck`, a difference
        quotient of ``f``).

    Returns
    -------
    ATypeFields
    """
    if not isinstance(fp, FokkerPlanck):
        raise ValueError(f"fp must be a FokkerPlanck, got {type(fp).__name__}")
    grid = _plane(fp.grid)
    rho = fp.steady_state()
    current = fp.current(rho)
    psi = stream_function(current, grid)
    q = fp.beta * psi / rho
    phi = fp.potential()
    grad_q = gradient(q, grid)
    div_q = np.einsum("ij,...j->...i", SYMPLECTIC, grad_q)
    div_d = fp.div_diffusion()
    gf = fp.grad_f if grad_f is None else np.asarray(grad_f(grid.points), dtype=float)
    if gf.shape != (*grid.shape, 2):
        raise ValueError(f"grad_f must return shape {(*grid.shape, 2)}, got {gf.shape}")
    dq = fp.diffusion + q[..., None, None] * SYMPLECTIC
    residual = (gf - np.einsum("...ij,...j->...i", dq, gradient(phi, grid))
                + (div_d + div_q) / fp.beta)
    return ATypeFields(grid=grid, beta=fp.beta, rho=rho, phi=phi, current=current, psi=psi,
                       q=q, div_d=div_d, div_q=div_q, residual=residual, grad_f=gf)


def entropy_production(fp: FokkerPlanck, rho: ArrayLike | None = None) -> float:
    r"""Entropy production rate :math:`\beta\int J^\top D^{-1}J/\rho` of a density.

    For :math:`dx = -\nabla f\,dt + \sqrt{2\beta^{-1}D}\,dW` the rate at
    which a stationary path's entropy grows, relative to its time reversal,
    is :math:`\int J^\top(\beta^{-1}D)^{-1}J/\rho\,dx \ge 0`, zero exactly when
    :math:`J = 0`, i.e. under detailed balance.  Near a minimum, where the
    process is linear with :math:`\nabla f \approx F(x - x_0) = (D + Q)U(x - x_0)`
    (Lemma 20), :math:`J = -QU(x - x_0)\rho` and the rate tends to
    :math:`\operatorname{tr}(Q^\top D^{-1}QU)` as :math:`\beta^{-1}\to 0`,
    whatever the temperature.

    Parameters
    ----------
    fp : FokkerPlanck
    rho : array_like, optional
        A positive density on ``fp.grid``; the steady state by default.

    Returns
    -------
    float
    """
    if not isinstance(fp, FokkerPlanck):
        raise ValueError(f"fp must be a FokkerPlanck, got {type(fp).__name__}")
    rho = fp.steady_state() if rho is None else np.asarray(rho, dtype=float)
    if rho.shape != fp.grid.shape or not np.all(np.isfinite(rho)) or rho.min() <= 0:
        raise ValueError(f"rho must be positive and finite, of shape {fp.grid.shape}")
    current = fp.current(rho)
    weighted = np.linalg.solve(fp.diffusion, current[..., None])[..., 0]
    return float(fp.beta * np.sum(np.sum(current * weighted, axis=-1) / rho) * fp.grid.volume)


def interpolate_field(field: ArrayLike, grid: CellGrid, x: ArrayLike) -> Array:
    r"""A cell field at points ``x`` by bilinear interpolation between the cell centres.

    Local (each value uses the four surrounding cells), so that the far tails,
    where a field such as :math:`q = \beta\psi/\rho_{ss}` is not resolved, do
    not pollute it; second-order accurate for a smooth field.

    Parameters
    ----------
    field : array_like, shape grid.shape + tail
    grid : CellGrid
        A 2-D cell grid.
    x : array_like, shape (..., 2)
        Points inside the square spanned by the outermost cell centres.

    Returns
    -------
    ndarray, shape x.shape[:-1] + tail
    """
    grid = _plane(grid)
    values = np.asarray(field, dtype=float)
    if values.shape[:2] != grid.shape:
        raise ValueError(f"field must have shape {grid.shape} + (...), got {values.shape}")
    pts = check.field_points("x", x, 2)
    lo = [c[0] for c in grid.centres]
    hi = [c[-1] for c in grid.centres]
    if np.any(pts < lo) or np.any(pts > hi):
        raise ValueError("x must lie between the outermost cell centres")
    out = interpolate.RegularGridInterpolator(grid.centres, values, method="linear")(pts)
    return np.asarray(out).reshape(*np.shape(x)[:-1], *values.shape[2:])


def observed_order(errors: ArrayLike, spacings: ArrayLike) -> float:
    r"""Order :math:`p` of convergence from errors on two grids, :math:`e \propto h^p`.

    :math:`p = \log(e_1/e_2)/\log(h_1/h_2)`.

    Parameters
    ----------
    errors, spacings : array_like, shape (2,)
        Positive errors and the cell sizes they were measured at.
    """
    e = np.asarray(errors, dtype=float)
    h = np.asarray(spacings, dtype=float)
    if e.shape != (2,) or h.shape != (2,) or np.any(e <= 0) or np.any(h <= 0) or h[0] == h[1]:
        raise ValueError("errors and spacings must be two positive numbers each, "
                         "with different spacings")
    return float(np.log(e[0] / e[1]) / np.log(h[0] / h[1]))
