r"""How a diffusion matrix lines up with the curvature: cosines, traces, subspaces.

Measures of the follow-ups that compare the gradient noise D of eq. (2) with
the Hessian H (or the Gauss-Newton matrix G) of the loss:

- :func:`frobenius_cosine`, :math:`\langle A, B\rangle_F/(\|A\|_F\|B\|_F)`;
- :func:`trace_alignment`, Zhu et al.'s (2019) :math:`\mathrm{Tr}(HD)` against
  its value :math:`\mathrm{Tr}(H)\mathrm{Tr}(D)/d` for an isotropic noise of the
  same trace, which is also its mean over Haar-random rotations of H, with the
  standard deviation of that null;
- :func:`top_eigenspace`, :func:`subspace_fraction` (the share of the gradient
  in the top-k eigenspace of H, Gur-Ari et al. 2018) and
  :func:`subspace_overlap` (the mean squared cosine of the principal angles
  between two subspaces), with their values for random subspaces,
  :func:`random_fraction` (Beta distributed with mean k/d).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg, stats

from sgdlab import _validation as check
from sgdlab._typing import Array

__all__ = ["TraceAlignment", "frobenius_cosine", "random_fraction", "subspace_fraction",
           "subspace_overlap", "top_eigenspace", "trace_alignment"]


def _pair(a: ArrayLike, b: ArrayLike) -> tuple[Array, Array]:
    a = check.square_matrix("a", a)
    return a, check.square_matrix("b", b, a.shape[0])


def frobenius_cosine(a: ArrayLike, b: ArrayLike) -> float:
    r"""Cosine of the angle between two matrices, :math:`\langle A, B\rangle_F/(\|A\|_F\|B\|_F)`.

    Raises
    ------
    ValueError
        If ``a`` and ``b`` are not finite square matrices of one size, or one is zero.
    """
    a, b = _pair(a, b)
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norms == 0.0:
        raise ValueError("the cosine of a zero matrix is undefined")
    return float(np.sum(a * b)) / norms


@dataclass(frozen=True)
class TraceAlignment:
    r"""Zhu et al.'s alignment of a noise covariance D with a Hessian H.

    Attributes
    ----------
    tr_hd : float
        :math:`\mathrm{Tr}(HD)`, by which D drives the loss up
        (:math:`\frac12\mathrm{Tr}(H\,\mathrm{Cov})` for a step of covariance D).
    isotropic : float
        :math:`\mathrm{Tr}(H)\mathrm{Tr}(D)/d`, the same for the isotropic
        noise :math:`\frac{\mathrm{Tr} D}{d} I`, and the mean of
        :math:`\mathrm{Tr}(Q H Q^\top D)` over Haar-random rotations Q.
    rotation_sd : float
        Standard deviation of :math:`\mathrm{Tr}(Q H Q^\top D)` over those Q,
        :math:`\sqrt{2\|\mathring H\|_F^2\|\mathring D\|_F^2/((d-1)(d+2))}` with
        :math:`\mathring A = A - \frac{\mathrm{Tr} A}{d}I` the traceless parts
        (the second moment of the Haar measure on O(d)).
    """

    tr_hd: float
    isotropic: float
    rotation_sd: float

    @property
    def ratio(self) -> float:
        """``tr_hd / isotropic``: 1 for isotropic noise, above 1 when D favours sharp directions."""
        return self.tr_hd / self.isotropic

    @property
    def z(self) -> float:
        """``(tr_hd - isotropic) / rotation_sd``: standard deviations above random eigenvectors."""
        return (self.tr_hd - self.isotropic) / self.rotation_sd


def trace_alignment(h: ArrayLike, d: ArrayLike) -> TraceAlignment:
    r""":math:`\mathrm{Tr}(HD)` and its isotropic value (Zhu et al. 2019, Sec. 3).

    Parameters
    ----------
    h : array_like, shape (d, d)
        The Hessian (symmetric).
    d : array_like, shape (d, d)
        The noise covariance (symmetric positive semi-definite).

    Raises
    ------
    ValueError
        If the matrices are not symmetric of one size, or :math:`\mathrm{Tr}(H)\mathrm{Tr}(D) = 0`.
    """
    h = check.symmetric_matrix("h", h)
    dm = check.symmetric_matrix("d", d, h.shape[0])
    iso = float(np.trace(h) * np.trace(dm)) / h.shape[0]
    if iso == 0.0:
        raise ValueError("Tr(H) Tr(D) is zero: the isotropic value is undefined")
    n = h.shape[0]
    if n < 2:
        raise ValueError("trace_alignment needs d >= 2")
    spread = [float(np.sum(m * m)) - float(np.trace(m)) ** 2 / n for m in (h, dm)]
    sd = math.sqrt(max(2.0 * spread[0] * spread[1] / ((n - 1) * (n + 2)), 0.0))
    return TraceAlignment(float(np.sum(h * dm)), iso, sd)


def top_eigenspace(m: ArrayLike, k: int) -> tuple[Array, Array]:
    """The ``k`` largest eigenvalues of a symmetric matrix, descending, and their eigenvectors.

    By :func:`scipy.linalg.eigh` for that subset only.

    Returns
    -------
    values : ndarray, shape (k,)
    vectors : ndarray, shape (d, k)
        Orthonormal columns, in the order of ``values``.

    Raises
    ------
    ValueError
        If ``m`` is not symmetric, or ``k`` not in ``1..d``.
    """
    m = check.symmetric_matrix("m", m)
    k = check.positive_int("k", k)
    n = m.shape[0]
    if k > n:
        raise ValueError(f"k = {k} exceeds the dimension {n}")
    vals, vecs = linalg.eigh(m, subset_by_index=(n - k, n - 1))
    return np.asarray(vals[::-1]), np.asarray(vecs[:, ::-1])


def _basis(name: str, u: ArrayLike, d: int | None = None) -> Array:
    u = np.asarray(u, dtype=float)
    if u.ndim != 2 or u.shape[1] < 1 or u.shape[1] > u.shape[0] or (d is not None
                                                                    and u.shape[0] != d):
        raise ValueError(f"{name} must be a (d, k) basis with 1 <= k <= d, got {u.shape}")
    if not np.all(np.isfinite(u)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return u


def subspace_fraction(v: ArrayLike, basis: ArrayLike) -> float:
    r"""Share :math:`\|U^\top v\|^2/\|v\|^2` of a vector in the span of an orthonormal basis U.

    Gur-Ari et al.'s (2018) measure with v the gradient and U the top-k
    eigenvectors of the Hessian (k the number of classes).

    Raises
    ------
    ValueError
        If ``v`` is not a finite non-zero vector matching the ``(d, k)`` ``basis``.
    """
    vec = np.asarray(v, dtype=float)
    if vec.ndim != 1 or not np.all(np.isfinite(vec)) or not np.any(vec):
        raise ValueError("v must be a finite non-zero vector")
    u = _basis("basis", basis, vec.size)
    return float(np.sum((u.T @ vec) ** 2) / np.sum(vec**2))


def subspace_overlap(u: ArrayLike, v: ArrayLike) -> float:
    r"""Mean :math:`\cos^2` of the principal angles between two subspaces of one dimension k.

    By :func:`scipy.linalg.subspace_angles`; 1 for the same subspace, 0 for
    orthogonal ones, k/d on average for two random ones.

    Raises
    ------
    ValueError
        If ``u`` and ``v`` are not ``(d, k)`` bases of one shape.
    """
    a = _basis("u", u)
    b = _basis("v", v, a.shape[0])
    if a.shape != b.shape:
        raise ValueError(f"u and v must have one shape, got {a.shape} and {b.shape}")
    return float(np.mean(np.cos(linalg.subspace_angles(a, b)) ** 2))


def random_fraction(k: int, d: int) -> Any:
    r"""Distribution of the share of a fixed vector in a random k-dimensional subspace of R^d.

    :math:`\mathrm{Beta}(k/2, (d-k)/2)`, mean k/d: the squared norm of the
    first k coordinates of a uniform unit vector (a ratio of
    :math:`\chi^2_k` to :math:`\chi^2_k + \chi^2_{d-k}`).  The control of
    :func:`subspace_fraction`.

    Raises
    ------
    ValueError
        If not ``1 <= k < d``.
    """
    k, d = check.positive_int("k", k), check.positive_int("d", d)
    if k >= d:
        raise ValueError(f"need k < d, got k = {k}, d = {d}")
    return stats.beta(k / 2, (d - k) / 2)
