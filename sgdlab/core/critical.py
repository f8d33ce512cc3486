"""Zeros of vector fields and their types.

Used to find where :math:`\\nabla f(x) = 0` (the critical points of the loss)
and to compare them with the most likely points of the steady state, the
critical points of :math:`\\Phi` (Example 19, Theorem 22).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from sgdlab import _validation as check
from sgdlab._typing import Array

__all__ = ["CriticalPoint", "classify", "find_zeros", "jacobian"]

Field = Callable[[Array], ArrayLike]
Kind = Literal["minimum", "maximum", "saddle", "spiral", "centre", "degenerate"]


@dataclass(frozen=True)
class CriticalPoint:
    """A zero of a vector field :math:`F` and its type for the flow :math:`\\dot x = -F(x)`.

    Attributes
    ----------
    x : ndarray, shape (d,)
        Location.
    kind : str
        ``"minimum"`` or ``"maximum"`` (real eigenvalues of the Jacobian, all
        positive or all negative), ``"saddle"`` (real parts of both signs),
        ``"spiral"`` (complex eigenvalues whose real parts share a sign),
        ``"centre"`` (purely imaginary eigenvalues: the linearisation cannot
        tell whether the point attracts) or ``"degenerate"`` (a zero
        eigenvalue).
    eigenvalues : ndarray, shape (d,)
        Eigenvalues of the Jacobian of :math:`F` at ``x``: real when all of
        them are, complex otherwise (as :func:`numpy.linalg.eigvals` gives them).
    stable : bool
        Whether :math:`\\dot x = -F(x)` attracts nearby points to ``x`` at
        linear order (every eigenvalue has a positive real part).
    """

    x: Array
    kind: Kind
    eigenvalues: NDArray[np.inexact]
    stable: bool


def classify(jacobian: ArrayLike, rtol: float = 1e-7) -> Kind:
    """Type of a zero of :math:`F` from the Jacobian of :math:`F` there.

    Parameters
    ----------
    jacobian : array_like, shape (d, d)
        :math:`\\partial F_i / \\partial x_j` at the zero.
    rtol : float, default 1e-7
        Real or imaginary parts below ``rtol`` times the largest eigenvalue
        modulus count as zero.

    Returns
    -------
    str
        One of the kinds listed in :class:`CriticalPoint`.
    """
    jac = check.square_matrix("jacobian", jacobian)
    ev = np.linalg.eigvals(jac)
    tol = rtol * max(np.abs(ev).max(), np.finfo(float).tiny)
    zero_re = np.abs(ev.real) <= tol
    rotating = bool(np.any(np.abs(ev.imag) > tol))
    if np.any(zero_re):
        return "centre" if rotating and np.all(zero_re) else "degenerate"
    if np.all(ev.real > 0) or np.all(ev.real < 0):
        if rotating:
            return "spiral"
        return "minimum" if ev.real[0] > 0 else "maximum"
    return "saddle"


def jacobian(field: Field, x: ArrayLike, step: float = 1e-6) -> Array:
    """Jacobian of ``field`` at ``x`` by central differences (error O(step^2))."""
    x = np.asarray(x, dtype=float)
    h = step * np.maximum(1.0, np.abs(x))
    pts = x + np.concatenate([np.diag(h), -np.diag(h)])
    vals = np.asarray(field(pts), dtype=float)
    d = x.size
    return ((vals[:d] - vals[d:]) / (2.0 * h[:, None])).T


def find_zeros(
    field: Field,
    box: ArrayLike,
    *,
    n_starts: int = 15,
    jac: Callable[[Array], ArrayLike] | None = None,
    tol: float = 1e-10,
    merge_tol: float = 1e-6,
    max_newton: int = 50,
) -> list[CriticalPoint]:
    """Zeros of a vector field inside a box, each with its type.

    Newton's method runs from an ``n_starts``-per-axis grid of starting
    points at once (one vectorised iteration for all of them); the distinct
    limits are then polished one by one with :func:`scipy.optimize.root` and
    kept when the field's norm there is below ``tol``.

    Parameters
    ----------
    field : callable
        Vectorised :math:`F`, mapping points ``(..., d)`` to ``(..., d)``.
    box : array_like, shape (d, 2)
        ``[[lo_1, hi_1], ...]``; zeros outside it are discarded.
    n_starts : int, default 15
        Starting points per axis.
    jac : callable, optional
        Jacobian of ``field`` at one point, ``(d,) -> (d, d)``; central
        differences by default.
    tol : float, default 1e-10
        Largest accepted :math:`|F|` at a zero.
    merge_tol : float, default 1e-6
        Zeros closer than this are the same zero.
    max_newton : int, default 50
        Iterations of the vectorised Newton phase.

    Returns
    -------
    list of CriticalPoint
        Sorted lexicographically by position.
    """
    bounds = check.box("box", box)
    n_starts = check.positive_int("n_starts", n_starts)
    tol = check.positive_scalar("tol", tol)
    d = bounds.shape[0]
    axes = [np.linspace(lo, hi, n_starts) for lo, hi in bounds]
    x = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)

    def field_at(p: Array) -> Array:
        return np.asarray(field(p), dtype=float)

    def jac_at(p: Array) -> Array:
        return np.asarray(jacobian(field, p) if jac is None else jac(p), dtype=float)

    alive = np.ones(len(x), dtype=bool)
    with np.errstate(all="ignore"):
        for _ in range(max_newton):
            idx = np.flatnonzero(alive)
            if idx.size == 0:
                break
            new = _newton_step(field, x[idx])
            ok = np.all(np.isfinite(new), axis=1) & _inside(new, bounds, margin=10.0)
            moved = np.abs(new[ok] - x[idx[ok]]).max(initial=0.0)
            x[idx[ok]] = new[ok]
            alive[idx[~ok]] = False
            if moved < 1e-13:
                break
        residual = np.linalg.norm(field_at(x[alive]), axis=1)
    found = x[alive][residual < 1e-6]
    candidates = found[_inside(found, bounds, margin=1e-3)]

    zeros: list[Array] = []
    for start in _merge(candidates, 1e-4):
        sol = optimize.root(field_at, start, jac=None if jac is None else jac_at, tol=1e-14)
        z = sol.x
        residual = np.linalg.norm(field_at(z))
        if residual <= tol and _inside(z[None], bounds, 0.0)[0]:
            if all(np.linalg.norm(z - other) > merge_tol for other in zeros):
                zeros.append(z)
    zeros.sort(key=lambda z: np.round(z, 8).tolist())

    points = []
    for z in zeros:
        jz = jac_at(z)
        kind = classify(jz)
        ev = np.linalg.eigvals(jz)
        stable = kind == "minimum" or (kind == "spiral" and bool(np.all(ev.real > 0)))
        points.append(CriticalPoint(x=z, kind=kind, eigenvalues=ev, stable=stable))
    return points


def _newton_step(field: Field, x: Array, step: float = 1e-7) -> Array:
    """One Newton step from every row of ``x`` at once (finite-difference Jacobians)."""
    _n, d = x.shape
    fx = np.asarray(field(x), dtype=float)
    h = step * np.maximum(1.0, np.abs(x))
    cols = [(np.asarray(field(x + h[:, [i]] * np.eye(d)[i]), dtype=float) - fx) / h[:, [i]]
            for i in range(d)]
    jac = np.stack(cols, axis=-1)
    singular = ~(np.abs(np.linalg.det(jac)) > 1e-300)
    jac[singular] = np.eye(d)
    out = x - np.linalg.solve(jac, fx[..., None])[..., 0]
    out[singular] = np.nan
    return out


def _inside(x: Array, bounds: Array, margin: float) -> NDArray[np.bool_]:
    width = bounds[:, 1] - bounds[:, 0]
    lo, hi = bounds[:, 0] - margin * width, bounds[:, 1] + margin * width
    return np.all((x >= lo) & (x <= hi), axis=1)


def _merge(x: Array, radius: float) -> list[Array]:
    """Representatives of the clusters of rows of ``x`` (greedy, within ``radius``)."""
    reps: list[Array] = []
    for row in x:
        if all(np.linalg.norm(row - r) > radius for r in reps):
            reps.append(row)
    return reps
