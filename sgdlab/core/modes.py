r"""Most likely points of a steady state and their distance from the minimum of the loss.

Theorem 22 and Remarks 23-26 of the paper: the most likely location of SGD, the
maximum of :math:`\rho_{ss} \propto e^{-\beta\Phi}`, is a critical point of
:math:`\Phi`, not of :math:`f`; the gap grows with :math:`\beta^{-1} = \eta/2b`.
This module locates the maximum of a cell density below the cell size, measures
its distance from the nearby minimum of :math:`f`, fits the gap against
:math:`\beta^{-1}`, and compares potentials :math:`\Phi_\beta` across
temperatures.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from sgdlab import _validation as check
from sgdlab._typing import Array
from sgdlab.core.fokker_planck import FokkerPlanck
from sgdlab.core.grid import CellGrid

__all__ = ["LineFit", "ModeShift", "a_type_drift", "fit_line", "high_density_region",
           "matrix_divergence", "mode_shift", "potential_spread", "refine_max"]

_OFFSETS = np.array([(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)], dtype=float)


def refine_max(u: ArrayLike, grid: CellGrid) -> Array:
    r"""Location of the maximum of a cell field, below the cell size.

    Fits :math:`q(x) = c_0 + g\cdot(x - x_c) + \tfrac12 (x - x_c)^\top H (x - x_c)`
    by least squares to the :math:`3^d` cells around the largest cell
    :math:`x_c` and returns the vertex :math:`x_c - H^{-1}g`; in one
    dimension the fit is the parabola through the three cells.  Exact when
    ``u`` is a quadratic (e.g. :math:`\log\rho` of a Gaussian); for a smooth
    field the error is :math:`O(h^2)` in the cell size.

    Parameters
    ----------
    u : array_like, shape grid.shape
        Cell values, e.g. :math:`\log\rho_{ss}` (fitting the log of a density
        makes the fit exact for a Gaussian peak).
    grid : CellGrid
        A 1-D or 2-D cell grid.

    Returns
    -------
    ndarray, shape (grid.dim,)

    Raises
    ------
    ValueError
        If ``grid`` is not a CellGrid, ``u`` has the wrong shape or non-finite
        values, the largest cell touches the boundary, or the fit is not
        concave there.

    Examples
    --------
    >>> from sgdlab.core.grid import cell_grid
    >>> line = cell_grid([[0.0, 1.0]], 10)
    >>> refine_max(-(line.centres[0] - 0.33) ** 2, line).round(12)
    array([0.33])
    """
    if not isinstance(grid, CellGrid):
        raise ValueError(f"grid must be a CellGrid, got {type(grid).__name__}")
    u = np.asarray(u, dtype=float)
    if u.shape != grid.shape:
        raise ValueError(f"u must have shape {grid.shape}, got {u.shape}")
    if not np.all(np.isfinite(u)):
        raise ValueError("u contains NaN or infinite entries")
    centre = np.unravel_index(int(np.argmax(u)), u.shape)
    if not all(0 < i < n - 1 for i, n in zip(centre, u.shape, strict=True)):
        raise ValueError("u is largest on the boundary of the grid; enlarge the box")
    d = grid.dim
    steps = np.array(list(itertools.product((-1, 0, 1), repeat=d)), dtype=float)
    steps *= np.array(grid.spacing)
    pairs = list(itertools.combinations_with_replacement(range(d), 2))
    design = np.column_stack([np.ones(len(steps)), steps]
                             + [steps[:, a] * steps[:, b] / (2 if a == b else 1)
                                for a, b in pairs])
    window = u[tuple(slice(i - 1, i + 2) for i in centre)].ravel()
    coef = np.linalg.lstsq(design, window, rcond=None)[0]
    hess = np.empty((d, d))
    for (a, b), c in zip(pairs, coef[1 + d:], strict=True):
        hess[a, b] = hess[b, a] = c
    if np.linalg.eigvalsh(hess).max() >= 0:
        raise ValueError("the quadratic fit around the largest cell of u is not concave")
    return grid.points[centre] - np.linalg.solve(hess, coef[1:1 + d])


@dataclass(frozen=True)
class ModeShift:
    r"""The most likely point of :math:`\rho_{ss}` against the nearby minimum of :math:`f`.

    Attributes
    ----------
    beta : float
        Inverse temperature of the steady state.
    mode : ndarray, shape (2,)
        :math:`\arg\max\rho_{ss}`, refined below the cell size.
    minimum : ndarray, shape (2,)
        The local minimum of :math:`f` reached from ``mode`` by BFGS.
    gap : float
        :math:`|\text{mode} - \text{minimum}|`.
    """

    beta: float
    mode: Array
    minimum: Array
    gap: float


def mode_shift(fp: FokkerPlanck, f: Callable[[Array], ArrayLike],
               grad_f: Callable[[Array], ArrayLike]) -> ModeShift:
    r"""Distance between the most likely point of :math:`\rho_{ss}` and the minimum of :math:`f`.

    The mode is :func:`refine_max` of :math:`\log\rho_{ss}`; the minimum is
    found by :func:`scipy.optimize.minimize` (BFGS, gradient tolerance
    :math:`10^{-12}`) started at the mode.  Theorem 22 predicts a non-zero
    gap unless :math:`D` is isotropic (Lemma 6).

    Parameters
    ----------
    fp : FokkerPlanck
        The discretised (FP) on a 2-D grid.
    f, grad_f : callable
        The loss and its gradient on points of shape ``(2,)``.

    Returns
    -------
    ModeShift
    """
    if not isinstance(fp, FokkerPlanck):
        raise ValueError(f"fp must be a FokkerPlanck, got {type(fp).__name__}")
    mode = refine_max(np.log(fp.steady_state()), fp.grid)

    def loss(x: Array) -> float:
        return float(np.asarray(f(x)))

    def grad(x: Array) -> Array:
        return np.asarray(grad_f(x))

    res = optimize.minimize(loss, mode, jac=grad, method="BFGS", options={"gtol": 1e-12})
    if not np.all(np.isfinite(res.x)):
        raise ValueError("the minimisation of f from the mode failed")
    return ModeShift(beta=fp.beta, mode=mode, minimum=res.x,
                     gap=float(np.linalg.norm(mode - res.x)))


@dataclass(frozen=True)
class LineFit:
    r"""A least-squares line :math:`y = a + s\,x` with confidence intervals.

    Attributes
    ----------
    slope, intercept : float
    slope_ci, intercept_ci : tuple of float
        Two-sided intervals at level ``confidence`` (Student t with n - 2
        degrees of freedom).
    rvalue : float
        Pearson correlation.
    confidence : float
    """

    slope: float
    intercept: float
    slope_ci: tuple[float, float]
    intercept_ci: tuple[float, float]
    rvalue: float
    confidence: float


def fit_line(x: ArrayLike, y: ArrayLike, confidence: float = 0.95) -> LineFit:
    r"""Fit :math:`y = a + s\,x` by :func:`scipy.stats.linregress`, with confidence intervals.

    Used for Remark 26: the gap between the mode of :math:`\rho_{ss}` and the
    minimum of :math:`f` against :math:`\beta^{-1}`.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        At least three points, finite, with ``x`` not all equal.
    confidence : float, default 0.95
        Level of the intervals, in (0, 1).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 1 or x.size < 3:
        raise ValueError(f"x must be 1-D with at least 3 points, got shape {x.shape}")
    if y.shape != x.shape:
        raise ValueError(f"y must have the shape of x {x.shape}, got {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be finite")
    if np.ptp(x) == 0:
        raise ValueError("x must not be constant")
    confidence = check.finite_scalar("confidence", confidence)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    res = stats.linregress(x, y)
    t = stats.t.ppf(0.5 + confidence / 2, x.size - 2)
    return LineFit(slope=float(res.slope), intercept=float(res.intercept),
                   slope_ci=(res.slope - t * res.stderr, res.slope + t * res.stderr),
                   intercept_ci=(res.intercept - t * res.intercept_stderr,
                                 res.intercept + t * res.intercept_stderr),
                   rvalue=float(res.rvalue), confidence=confidence)


def high_density_region(rho: ArrayLike, mass: float) -> NDArray[np.bool_]:
    """The fewest cells of a density holding at least ``mass`` of it (equal cell volumes).

    Parameters
    ----------
    rho : array_like
        Non-negative cell values with positive sum.
    mass : float
        In (0, 1].
    """
    rho = np.asarray(rho, dtype=float)
    if not np.all(np.isfinite(rho)) or rho.min() < 0 or rho.sum() <= 0:
        raise ValueError("rho must be finite, >= 0 and with positive mass")
    mass = check.finite_scalar("mass", mass)
    if not 0 < mass <= 1:
        raise ValueError(f"mass must be in (0, 1], got {mass}")
    order = np.argsort(rho, axis=None)[::-1]
    cum = np.cumsum(rho.ravel()[order]) / rho.sum()
    keep = np.zeros(rho.size, dtype=bool)
    keep[order[:int(np.searchsorted(cum, mass * (1 - 1e-12))) + 1]] = True
    return keep.reshape(rho.shape)


def potential_spread(phis: Sequence[ArrayLike], region: ArrayLike) -> float:
    r"""How much potentials differ on a region, up to an additive constant each.

    Each :math:`\Phi_k` is shifted by its mean over ``region``; the result is
    :math:`\max_{x \in \text{region}} (\max_k \Phi_k(x) - \min_k \Phi_k(x))`.
    Zero when the :math:`\Phi_k` differ by constants, as Theorem 22's
    ":math:`\Phi` does not depend on :math:`\beta`" predicts for
    :math:`\Phi_\beta = -\beta^{-1}\log\rho_{ss}`.

    Parameters
    ----------
    phis : sequence of array_like
        At least two potentials of one shape.
    region : array_like of bool
        Cells to compare on, same shape, not empty.
    """
    if len(phis) < 2:
        raise ValueError("phis must hold at least two potentials")
    stack = np.stack([np.asarray(p, dtype=float) for p in phis])
    region = np.asarray(region)
    if region.dtype != bool or region.shape != stack.shape[1:]:
        raise ValueError(f"region must be a boolean array of shape {stack.shape[1:]}")
    if not region.any():
        raise ValueError("region must not be empty")
    vals = stack[:, region]
    if not np.all(np.isfinite(vals)):
        raise ValueError("phis contain NaN or infinite entries on the region")
    vals = vals - vals.mean(axis=1, keepdims=True)
    return float(np.ptp(vals, axis=0).max())


MatrixField = Callable[[Array], ArrayLike]


def matrix_divergence(field: MatrixField, x: ArrayLike, step: float = 1e-5) -> Array:
    r"""Row divergence :math:`(\nabla\cdot M)_i = \sum_j \partial_j M_{ij}` of a matrix field.

    By central differences with step ``step`` (error :math:`O(h^2)`, about
    :math:`10^{-10}` for a smooth field at the default step).

    Parameters
    ----------
    field : callable
        :math:`M`, vectorised: points ``(..., d)`` to ``(..., d, d)``.
    x : array_like, shape (..., d)
    step : float, default 1e-5

    Returns
    -------
    ndarray, shape (..., d)
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        raise ValueError("x must have shape (..., d)")
    step = check.positive_scalar("step", step)
    d = x.shape[-1]
    out = np.zeros(x.shape)
    for j in range(d):
        e = np.zeros(d)
        e[j] = step
        diff = np.asarray(field(x + e), dtype=float) - np.asarray(field(x - e), dtype=float)
        if diff.shape != (*x.shape, d):
            raise ValueError(f"field must return shape {(*x.shape, d)}, got {diff.shape}")
        out += diff[..., :, j] / (2 * step)
    return out


def a_type_drift(grad_phi: Callable[[Array], ArrayLike], diffusion: MatrixField,
                 rotation: MatrixField, beta: float, *, ito_correction: bool = True,
                 step: float = 1e-5) -> Callable[[Array], Array]:
    r"""The drift :math:`\nabla f` of the Itô SDE whose steady state is :math:`e^{-\beta\Phi}`.

    Eq. (19):

    .. math:: \nabla f = (D + Q)\nabla\Phi - \beta^{-1}\nabla\cdot(D + Q),

    so that :math:`dx = -\nabla f\,dt + \sqrt{2\beta^{-1}D}\,dW`, read in Itô's
    sense, is the A-type SDE :math:`dx = -(D + Q)\nabla\Phi\,dt + \sqrt{2\beta^{-1}D}\,dW`
    of Theorem 22 (Kwon, Ao and Thouless).  With ``ito_correction=False`` the
    divergence term is left out: the A-type SDE's drift read as an Itô drift,
    whose steady state is not :math:`e^{-\beta\Phi}` unless
    :math:`\nabla\cdot(D + Q) = 0`.  The divergence is
    :func:`matrix_divergence` of :math:`D + Q`.

    Parameters
    ----------
    grad_phi : callable
        :math:`\nabla\Phi`, points ``(..., d)`` to ``(..., d)``.
    diffusion, rotation : callable
        :math:`D(x)`, symmetric, and :math:`Q(x)`, antisymmetric: points
        ``(..., d)`` to ``(..., d, d)``.
    beta : float
        Inverse temperature, > 0.
    ito_correction : bool, default True
        Include :math:`-\beta^{-1}\nabla\cdot(D + Q)`.
    step : float, default 1e-5
        Step of the central differences.

    Returns
    -------
    callable
        :math:`\nabla f`, points ``(..., d)`` to ``(..., d)``.
    """
    beta = check.positive_scalar("beta", beta)
    step = check.positive_scalar("step", step)

    def total(x: Array) -> Array:
        q = np.asarray(rotation(x), dtype=float)
        if not np.allclose(q, -np.swapaxes(q, -1, -2), rtol=0, atol=1e-12 * (1 + np.abs(q).max())):
            raise ValueError("rotation must return antisymmetric matrices")
        return np.asarray(diffusion(x), dtype=float) + q

    def grad_f(x: Array) -> Array:
        x = np.asarray(x, dtype=float)
        drift = np.einsum("...ij,...j->...i", total(x), np.asarray(grad_phi(x), dtype=float))
        if ito_correction:
            drift = drift - matrix_divergence(total, x, step) / beta
        return drift

    return grad_f
