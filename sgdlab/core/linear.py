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

__all__ = ["Decomposition", "decompose"]


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
    """

    U: Array
    Q: Array
    residual: float


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
    Q: Array = linalg.solve_sylvester(F, F.T, F @ D - D @ F.T)  # type: ignore[assignment]
    Q = 0.5 * (Q - Q.T)  # exact antisymmetry; the solution is antisymmetric up to round-off
    G = D + Q
    if 1.0 / np.linalg.cond(G) <= rtol:
        raise ValueError("D + Q is singular: U = (D + Q)^-1 F does not exist")
    U = np.linalg.solve(G, F)
    U = 0.5 * (U + U.T)
    residual = np.linalg.norm(F - G @ U) / max(np.linalg.norm(F), np.finfo(float).tiny)
    return Decomposition(U=U, Q=Q, residual=float(residual))
