"""Linearisation near a critical point: F = (D + Q) U (Lemma 20).

Near a critical point, :math:`\\nabla f(x) \\approx F x` and the dynamics are
the Ornstein-Uhlenbeck process :math:`dx = -F x\\,dt + \\sqrt{2\\beta^{-1}D}\\,dW`
(eq. 15).  Lemma 20 writes :math:`F = (D + Q) U` with :math:`U` symmetric, so
that the potential is :math:`\\Phi(x) = \\tfrac12 x^\\top U x`, and :math:`Q`
antisymmetric, the rotation that the non-isotropic noise adds (Remark 21).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg

from sgdlab import _validation as check
from sgdlab._typing import Array

__all__ = ["Decomposition", "RoundOff", "decompose", "roundoff", "sylvester_residual",
           "sylvester_separation"]


@dataclass(frozen=True)
class Decomposition:
    """:math:`F = (D + Q) U` of Lemma 20.

    Attributes
    ----------
    U : ndarray, shape (d, d)
        Symmetric; :math:`\\Phi(x) = \\tfrac12 x^\\top U x`.
    Q : ndarray, shape (d, d)
        Antisymmetric.
    residual : float
        :math:`\\|F - (D + Q)U\\| / \\|F\\|` (Frobenius norms).
    Q_raw : ndarray, shape (d, d)
        The Sylvester solver's output before it is made exactly antisymmetric
        (``Q`` is its antisymmetric part); its symmetric part is round-off
        that theory bounds (see :func:`sylvester_separation`).
    U_raw : ndarray, shape (d, d)
        :math:`(D + Q_{raw})^{-1} F`, before it is made exactly symmetric
        (``U`` is the symmetric part of :math:`(D + Q)^{-1}F`).
    """

    U: Array
    Q: Array
    residual: float
    Q_raw: Array
    U_raw: Array


def decompose(F: ArrayLike, D: ArrayLike, *, rtol: float = 1e-10) -> Decomposition:
    r"""Decompose :math:`F = (D + Q) U` (Lemma 20, eq. 16).

    :math:`U = (D + Q)^{-1} F` is symmetric exactly when
    :math:`(D + Q) F^\top = F (D - Q)`, that is, when :math:`Q` solves the
    Sylvester equation

    .. math:: F Q + Q F^\top = F D - D F^\top,

    whose right-hand side is antisymmetric.  It has a unique solution, which
    is then antisymmetric, when no two eigenvalues of :math:`F` sum to zero;
    it is solved with :func:`scipy.linalg.solve_sylvester`.  This works at
    minima, saddles and maxima alike.

    Parameters
    ----------
    F : array_like, shape (d, d)
        Jacobian of :math:`\nabla f` at the critical point (the Hessian when
        the drift is a gradient).
    D : array_like, shape (d, d)
        Diffusion matrix at the critical point, symmetric positive
        semi-definite.
    rtol : float, default 1e-10
        Relative tolerance of the uniqueness and invertibility checks.

    Returns
    -------
    Decomposition

    Raises
    ------
    ValueError
        If the shapes are wrong, the entries not finite, ``D`` not symmetric
        positive semi-definite, two eigenvalues of ``F`` sum to zero (no
        unique ``Q``), or :math:`D + Q` is singular (no ``U``).

    Examples
    --------
    >>> dec = decompose([[2.0, 0.0], [0.0, 1.0]], [[1.0, 0.5], [0.5, 1.0]])
    >>> bool(np.allclose(dec.Q, -dec.Q.T) and np.allclose(dec.U, dec.U.T))
    True
    """
    F = check.square_matrix("F", F)
    D = check.psd_matrix("D", D)
    if F.shape != D.shape:
        raise ValueError(f"F and D must have the same shape, got {F.shape} and {D.shape}")
    ev = np.linalg.eigvals(F)
    sums = np.abs(ev[:, None] + ev[None, :])
    if sums.min() <= rtol * max(np.abs(ev).max(), np.finfo(float).tiny):
        raise ValueError(
            "F has two eigenvalues that sum to zero (eigenvalues "
            f"{np.round(ev, 6).tolist()}): Q is not unique"
        )
    # scipy-stubs type the solution as floating of any precision; it is float64 here
    Q_raw: Array = linalg.solve_sylvester(F, F.T, F @ D - D @ F.T)  # type: ignore[assignment]
    Q = 0.5 * (Q_raw - Q_raw.T)  # exact antisymmetry; Q_raw is antisymmetric up to round-off
    G = D + Q
    if 1.0 / np.linalg.cond(G) <= rtol:
        raise ValueError("D + Q is singular: U = (D + Q)^-1 F does not exist")
    U_raw: Array = np.linalg.solve(D + Q_raw, F)  # type: ignore[assignment]
    U = np.linalg.solve(G, F)
    U = 0.5 * (U + U.T)
    residual = np.linalg.norm(F - G @ U) / max(np.linalg.norm(F), np.finfo(float).tiny)
    return Decomposition(U=U, Q=Q, residual=float(residual), Q_raw=Q_raw, U_raw=U_raw)


def sylvester_residual(F: ArrayLike, D: ArrayLike, Q: ArrayLike) -> Array:
    r"""The residual :math:`R = FQ + QF^\top - (FD - DF^\top)` of the Sylvester equation.

    The defining equation of :math:`Q` in Lemma 20 (see :func:`decompose`);
    :math:`R = 0` for the exact solution.  Evaluate it on
    ``Decomposition.Q_raw`` to test the solver before any symmetrisation.

    Parameters
    ----------
    F, D, Q : array_like, shape (d, d)

    Returns
    -------
    ndarray, shape (d, d)
    """
    F = check.square_matrix("F", F)
    D = check.square_matrix("D", D)
    Q = check.square_matrix("Q", Q)
    if not F.shape == D.shape == Q.shape:
        raise ValueError(f"F, D and Q must have one shape, got {F.shape}, {D.shape}, {Q.shape}")
    return F @ Q + Q @ F.T - (F @ D - D @ F.T)


def sylvester_separation(F: ArrayLike) -> float:
    r"""Smallest singular value of the Sylvester operator :math:`X \mapsto FX + XF^\top`.

    :math:`\operatorname{sep} = \sigma_{\min}(I \otimes F + F \otimes I)`, in the
    Frobenius norm; it is :math:`\min_{i,j}|\lambda_i + \lambda_j|` for a normal
    :math:`F`.  It bounds how far a computed :math:`Q` can be from antisymmetric:
    transposing the equation shows that :math:`S = Q + Q^\top` solves
    :math:`FS + SF^\top = R + R^\top` with :math:`R` the
    :func:`sylvester_residual`, so :math:`\|S\|_F \le \|R + R^\top\|_F/\operatorname{sep}`.

    Parameters
    ----------
    F : array_like, shape (d, d)

    Returns
    -------
    float
    """
    F = check.square_matrix("F", F)
    eye = np.eye(F.shape[0])
    return float(np.linalg.svd(np.kron(eye, F) + np.kron(F, eye), compute_uv=False).min())


@dataclass(frozen=True)
class RoundOff:
    r"""How far the unsymmetrised solution of :func:`decompose` is from exact, with bounds.

    Each defect is measured on ``Decomposition.Q_raw`` and
    ``Decomposition.U_raw``, before any symmetrisation, next to the bound
    that theory gives it (see :func:`roundoff`).

    Attributes
    ----------
    residual, residual_bound : float
        :math:`\|R\|_F` for the Sylvester residual :math:`R` of ``Q_raw``, and
        :math:`c_d\epsilon(2\|F\|_F\|Q\|_F + \|FD - DF^\top\|_F)`.
    q_symmetric, q_bound : float
        :math:`\|Q_{raw} + Q_{raw}^\top\|_F`, and
        :math:`(\|R + R^\top\|_F + c_d\epsilon s)/\operatorname{sep}` with :math:`s`
        the scale above.
    u_asymmetric, u_bound : float
        :math:`\|U_{raw} - U_{raw}^\top\|_2`, and
        :math:`\|G^{-1}\|_2^2(\|F\|_2\|S\|_2 + \|R\|_2) + c_d\epsilon\,\kappa(G)\|U\|_2`,
        :math:`G = D + Q_{raw}`, :math:`S = Q_{raw} + Q_{raw}^\top`.
    """

    residual: float
    residual_bound: float
    q_symmetric: float
    q_bound: float
    u_asymmetric: float
    u_bound: float

    @property
    def ok(self) -> bool:
        """Whether every defect is within its bound."""
        return (self.residual <= self.residual_bound and self.q_symmetric <= self.q_bound
                and self.u_asymmetric <= self.u_bound)


def roundoff(F: ArrayLike, D: ArrayLike, dec: Decomposition) -> RoundOff:
    r"""Test the unsymmetrised solution of Lemma 20 against round-off bounds.

    :func:`decompose` makes :math:`Q` exactly antisymmetric and :math:`U`
    exactly symmetric, so those properties of its output cannot fail.  What
    can is the solver's output before that step.  With
    :math:`\epsilon` the machine epsilon and :math:`c_d = 10d`:

    * Bartels-Stewart is backward stable, so the residual :math:`R` of the
      Sylvester equation (:func:`sylvester_residual`) is
      :math:`\le c_d\epsilon` times the size of its terms;
    * :math:`S = Q_{raw} + Q_{raw}^\top` solves :math:`FS + SF^\top = R + R^\top`
      (the transposed equation), so
      :math:`\|S\|_F \le \|R + R^\top\|_F/\operatorname{sep}(F)`
      (:func:`sylvester_separation`), plus the round-off of forming :math:`S`;
    * with :math:`G = D + Q_{raw}`,
      :math:`U_{raw} - U_{raw}^\top = G^{-1}(FS - R)G^{-\top}` exactly, plus the
      round-off of the solve, :math:`\le c_d\epsilon\,\kappa(G)\|U\|`.

    Parameters
    ----------
    F, D : array_like, shape (d, d)
        The matrices given to :func:`decompose`.
    dec : Decomposition
        Its result.

    Returns
    -------
    RoundOff
    """
    if not isinstance(dec, Decomposition):
        raise ValueError(f"dec must be a Decomposition, got {type(dec).__name__}")
    F = check.square_matrix("F", F)
    D = check.square_matrix("D", D)
    if F.shape != D.shape or F.shape != dec.Q_raw.shape:
        raise ValueError(f"F and D must have the shape of dec.Q_raw {dec.Q_raw.shape}")
    eps = np.finfo(float).eps
    c_d = 10.0 * F.shape[0]
    R = sylvester_residual(F, D, dec.Q_raw)
    S = dec.Q_raw + dec.Q_raw.T
    scale = 2 * np.linalg.norm(F) * np.linalg.norm(dec.Q_raw) + np.linalg.norm(F @ D - D @ F.T)
    G = D + dec.Q_raw
    g_inv = float(np.linalg.norm(np.linalg.inv(G), 2))
    u_bound = (g_inv**2 * (np.linalg.norm(F, 2) * np.linalg.norm(S, 2) + np.linalg.norm(R, 2))
               + c_d * eps * np.linalg.cond(G) * np.linalg.norm(dec.U_raw, 2))
    return RoundOff(
        residual=float(np.linalg.norm(R)), residual_bound=float(c_d * eps * scale),
        q_symmetric=float(np.linalg.norm(S)),
        q_bound=float((np.linalg.norm(R + R.T) + c_d * eps * scale) / sylvester_separation(F)),
        u_asymmetric=float(np.linalg.norm(dec.U_raw - dec.U_raw.T, 2)), u_bound=float(u_bound))
