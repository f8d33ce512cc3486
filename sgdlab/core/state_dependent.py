r"""Lemma 2 with a state-dependent :math:`D(x)`: a two-weight logistic regression on real data.

With two weights the loss :math:`f`, its gradient and the diffusion matrix
:math:`D(w)` of eq. (2) can be evaluated on every cell of a grid, in closed
form and vectorised over the cells, so that the Fokker-Planck steady state of
Lemma 2's SDE (drift :math:`-\nabla f`, diffusion :math:`\beta^{-1}D(w)`,
:math:`\beta^{-1} = \eta/2b`) can be solved by
:func:`sgdlab.core.fokker_planck.fokker_planck` and set against long runs of
SGD (:func:`sgdlab.core.sgd.simulate`) histogrammed on the same cells.
:class:`PlaneLogistic` is the model; :func:`pca_plane` the fixed projection of
the images onto two features; :func:`cell_histogram`,
:func:`coarsen` and :func:`effective_sample_size` the comparison;
:func:`gaussian_tv_bound` the size of the :math:`O(\eta)` gap between SGD and
the SDE expected from the linearised dynamics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.special
from numpy.typing import ArrayLike, NDArray

from sgdlab import _validation as check
from sgdlab._typing import Array
from sgdlab.core import logistic
from sgdlab.core.grid import CellGrid

__all__ = [
    "PlaneLogistic",
    "cell_histogram",
    "coarsen",
    "edgeworth_tv",
    "effective_sample_size",
    "gaussian_tv_bound",
    "pca_plane",
    "sgd_third_cumulant",
    "tabulated",
    "third_cumulant",
]

_CHUNK = 4_000_000  # entries of a (points, examples) block evaluated at once


def pca_plane(images: ArrayLike) -> Array:
    r"""Project flattened images onto their two leading principal axes, scaled to unit variance.

    The projection is fixed by the data it is given (centred, then the top
    two eigenvectors of its scatter matrix, each signed so that its largest
    entry is positive); the two features are uncorrelated with unit
    variance, so the weights of a model on them are on a common scale.

    Parameters
    ----------
    images : array_like, shape (N, ...)
        At least three images.

    Returns
    -------
    ndarray, shape (N, 2)
    """
    x = np.asarray(images, dtype=float)
    if x.ndim < 2 or x.shape[0] < 3 or not np.all(np.isfinite(x)):
        raise ValueError(f"images must be finite, shape (N >= 3, ...), got {x.shape}")
    x = x.reshape(x.shape[0], -1)
    if x.shape[1] < 2:
        raise ValueError("images must have at least two pixels")
    centred = x - x.mean(axis=0)
    m = x.shape[1]
    lam, vec = scipy.linalg.eigh(centred.T @ centred, subset_by_index=[m - 2, m - 1])
    if lam[0] <= 1e-12 * lam[1]:
        raise ValueError("the images span fewer than two directions")
    vec = vec[:, ::-1]
    # an eigenvector's sign is arbitrary (LAPACK's choice): fix it, so that the features do not
    # depend on the BLAS, by making each axis's largest entry positive
    vec = vec * np.sign(vec[np.argmax(np.abs(vec), axis=0), [0, 1]])
    out = centred @ vec
    return np.asarray(out / out.std(axis=0))


@dataclass(frozen=True, eq=False)
class PlaneLogistic:
    r"""Logistic regression with two weights and no bias, vectorised over many weight vectors.

    :math:`f_k(w) = \log(1 + e^{z_k}) - y_kz_k + \tfrac\lambda2|w|^2`,
    :math:`z_k = w^\top a_k`, so :math:`\nabla f_k(w) = (\sigma(z_k) - y_k)a_k + \lambda w`
    (as in :mod:`sgdlab.core.logistic`), and the diffusion matrix of eq. (2) is

    .. math:: D(w) = \frac1N\sum_k r_k^2a_ka_k^\top - \bar g\bar g^\top,\quad
        r_k = \sigma(z_k) - y_k,\quad \bar g = \frac1N\sum_k r_ka_k,

    the weight decay cancelling.  Every method takes weights of shape
    ``(..., 2)``: a grid of cells, or the states of many chains.

    Parameters
    ----------
    features : array_like, shape (N, 2)
    labels : array_like of 0/1, shape (N,)
    weight_decay : float, default 0
        :math:`\lambda \ge 0`.
    """

    features: Array
    labels: Array
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        a, y = logistic.design(self.features, self.labels)
        if a.shape[1] != 2 or a.shape[0] < 2:
            raise ValueError(f"features must be (N, 2) with N >= 2, got {a.shape}")
        lam = check.positive_scalar("weight_decay", self.weight_decay, allow_zero=True)
        object.__setattr__(self, "features", a)
        object.__setattr__(self, "labels", y)
        object.__setattr__(self, "weight_decay", lam)

    @property
    def n_examples(self) -> int:
        """Number of examples :math:`N`."""
        return int(self.features.shape[0])

    def _blocks(self, w: ArrayLike) -> tuple[Array, int]:
        pts = check.field_points("w", w, 2)
        return pts.reshape(-1, 2), max(1, _CHUNK // self.n_examples)

    def f(self, w: ArrayLike) -> Array:
        """The loss :math:`f(w) = \\frac1N\\sum_k f_k(w)`, shape ``w.shape[:-1]``."""
        flat, step = self._blocks(w)
        out = np.empty(len(flat))
        for i in range(0, len(flat), step):
            z = flat[i:i + step] @ self.features.T
            out[i:i + step] = np.mean(np.logaddexp(0.0, z) - self.labels * z, axis=1)
        out += 0.5 * self.weight_decay * np.sum(flat**2, axis=1)
        return out.reshape(np.shape(w)[:-1])

    def _moments(self, w: ArrayLike) -> tuple[Array, Array]:
        flat, step = self._blocks(w)
        g = np.empty((len(flat), 2))
        second = np.empty((len(flat), 2, 2))
        a = self.features
        products = np.stack([a[:, 0] ** 2, a[:, 0] * a[:, 1], a[:, 1] ** 2], axis=1)
        for i in range(0, len(flat), step):
            r = scipy.special.expit(flat[i:i + step] @ a.T) - self.labels
            g[i:i + step] = r @ a / self.n_examples
            m = (r**2) @ products / self.n_examples                 # (points, 3)
            second[i:i + step] = m[:, [[0, 1], [1, 2]]]
        return g, second

    def grad_f(self, w: ArrayLike) -> Array:
        r""":math:`\nabla f(w)`, shape ``w.shape``."""
        flat, _ = self._blocks(w)
        g, _ = self._moments(w)
        return (g + self.weight_decay * flat).reshape(np.shape(w))

    def diffusion(self, w: ArrayLike) -> Array:
        r""":math:`D(w)` of eq. (2), shape ``w.shape + (2,)``."""
        g, second = self._moments(w)
        return (second - g[:, :, None] * g[:, None, :]).reshape(*np.shape(w), 2)

    def hessian(self, w: ArrayLike) -> Array:
        r"""The Hessian at one ``w``.

        :math:`\nabla^2 f(w) = \frac1N\sum_k\sigma_k(1 - \sigma_k)a_ka_k^\top + \lambda I`.
        """
        w = check.field_points("w", w, 2)
        if w.shape != (2,):
            raise ValueError(f"w must have shape (2,), got {w.shape}")
        return logistic.hessian(w, self.features, self.labels, self.weight_decay)

    def batch_grad(self, w: Array, idx: NDArray[np.intp]) -> Array:
        r"""Mini-batch gradients of eq. (1), chains ``w`` ``(C, 2)``, batches ``idx`` ``(C, b)``.

        The ``batch_grad`` of :func:`sgdlab.core.sgd.simulate`.
        """
        a = self.features[idx]                                   # (C, b, 2)
        r = scipy.special.expit(np.einsum("cbi,ci->cb", a, w)) - self.labels[idx]
        return np.asarray(np.einsum("cb,cbi->ci", r, a) / idx.shape[1] + self.weight_decay * w)


def tabulated(field: Callable[[Array], ArrayLike]) -> Callable[[Array], Array]:
    """Wrap a field of points so that each set of points it has seen is evaluated only once.

    :func:`~sgdlab.core.fokker_planck.fokker_planck` evaluates ``f`` and
    :math:`D` on the cells and faces of its grid; neither depends on
    :math:`\beta`, so a sweep of temperatures on one grid can share them.
    Values are keyed by the bytes of the point array (exact matches only).
    """
    cache: dict[tuple[tuple[int, ...], bytes], Array] = {}

    def wrapped(x: Array) -> Array:
        pts = np.ascontiguousarray(x, dtype=float)
        key = (pts.shape, pts.tobytes())
        if key not in cache:
            value = np.array(field(pts), dtype=float)
            value.setflags(write=False)
            cache[key] = value
        return cache[key]

    return wrapped


def cell_histogram(samples: ArrayLike, grid: CellGrid) -> Array:
    """Counts of 2-D ``samples`` in the cells of ``grid``, and the count outside it.

    Returns
    -------
    counts : ndarray, shape grid.shape
    """
    if not isinstance(grid, CellGrid) or grid.dim != 2:
        raise ValueError("grid must be a 2-D CellGrid")
    pts = check.points("samples", samples, 2).reshape(-1, 2)
    counts, _, _ = np.histogram2d(pts[:, 0], pts[:, 1], bins=list(grid.edges))
    return np.asarray(counts)


def coarsen(cells: ArrayLike, factor: int) -> Array:
    """Sum a 2-D cell array over blocks of ``factor x factor`` cells (masses on coarser cells)."""
    arr = np.asarray(cells, dtype=float)
    k = check.positive_int("factor", factor)
    if arr.ndim != 2 or arr.shape[0] % k or arr.shape[1] % k:
        raise ValueError(f"cells must be 2-D with sides divisible by {k}, got {arr.shape}")
    return np.asarray(arr.reshape(arr.shape[0] // k, k, arr.shape[1] // k, k).sum(axis=(1, 3)))


def effective_sample_size(records: ArrayLike) -> float:
    r"""Effective number of independent samples in chains recorded at regular intervals.

    ``records`` has shape ``(n_records, n_chains, d)``; per coordinate, the
    lag-one autocorrelation :math:`r` of the records, pooled over chains, gives
    the AR(1) integrated autocorrelation time :math:`\tau = (1 + r)/(1 - r)`
    (:math:`\tau = 1` when :math:`r \le 0`), and the result is
    :math:`n_{records}n_{chains}/\max\tau`.
    """
    x = np.asarray(records, dtype=float)
    if x.ndim != 3 or x.shape[0] < 3 or not np.all(np.isfinite(x)):
        raise ValueError(f"records must be finite, shape (n_records >= 3, n_chains, d), "
                         f"got {x.shape}")
    c = x - x.mean(axis=(0, 1))
    r = np.sum(c[1:] * c[:-1], axis=(0, 1)) / np.sum(c * c, axis=(0, 1))
    r = np.clip(r, 0.0, 0.999)
    tau = float(np.max((1 + r) / (1 - r)))
    return x.shape[0] * x.shape[1] / tau


def gaussian_tv_bound(cov_a: ArrayLike, cov_b: ArrayLike) -> float:
    r"""Pinsker's bound :math:`\sqrt{\mathrm{KL}/2}` on the TV between two centred Gaussians.

    :math:`\mathrm{KL}(N(0, A)\,\|\,N(0, B)) = \tfrac12\big(\operatorname{tr}(B^{-1}A) - d
    - \log\det(B^{-1}A)\big)`; used with the stationary covariances of discrete
    SGD and of its SDE near a minimum (:func:`sgdlab.core.sgd.sgd_covariance`,
    :func:`sgdlab.core.sgd.lyapunov_covariance`), whose gap is :math:`O(\eta)`.
    """
    a = np.asarray(check.psd_matrix("cov_a", cov_a, definite=True), dtype=float)
    b = np.asarray(check.psd_matrix("cov_b", cov_b, a.shape[0], definite=True), dtype=float)
    m = np.linalg.solve(b, a)
    kl = 0.5 * (np.trace(m) - a.shape[0] - np.linalg.slogdet(m)[1])
    return float(np.sqrt(max(kl, 0.0) / 2))


def third_cumulant(samples: ArrayLike) -> Array:
    r"""Third cumulant :math:`\kappa_{ijk} = \mathbb{E}[c_ic_jc_k]`, :math:`c = g - \bar g`.

    Of the empirical law of ``samples`` ``(N, d)``: with the per-example
    gradients of eq. (2), the skewness of one drawn gradient, as :math:`D`
    is its covariance.  The mean of ``b`` draws with replacement has
    :math:`\kappa/b^2`.

    Returns
    -------
    ndarray, shape (d, d, d)
    """
    g = check.particles("samples", samples)
    c = g - g.mean(axis=0)
    return np.asarray(np.einsum("ni,nj,nk->ijk", c, c, c) / len(c))


def sgd_third_cumulant(hessian: ArrayLike, noise_kappa3: ArrayLike, eta: float) -> Array:
    r"""Stationary third cumulant of linear SGD with skewed noise.

    For :math:`x_{k+1} = Ax_k + \eta\xi_k`, :math:`A = I - \eta H`, with i.i.d.
    :math:`\xi_k` of third cumulant :math:`\kappa_\xi`, the stationary
    :math:`K = \sum_{j\ge0}A^{\otimes3 j}\,\eta^3\kappa_\xi` solves
    :math:`K = A^{\otimes 3}K + \eta^3\kappa_\xi`, a linear system of size
    :math:`d^3`.  The SDE of Lemma 2 has Gaussian noise and no such term:
    :math:`K` is what real mini-batches add to the stationary law, at fixed
    :math:`\beta^{-1} = \eta/2b` of relative size
    :math:`O(\sqrt{\beta^{-1}H})` times the noise's skewness, whatever
    :math:`\eta`.

    Parameters
    ----------
    hessian : array_like, shape (d, d)
    noise_kappa3 : array_like, shape (d, d, d)
        E.g. :func:`third_cumulant` of the per-example gradients over ``b**2``.
    eta : float

    Returns
    -------
    ndarray, shape (d, d, d)
    """
    h = check.square_matrix("hessian", hessian)
    d = h.shape[0]
    k3 = np.asarray(noise_kappa3, dtype=float)
    if k3.shape != (d, d, d) or not np.all(np.isfinite(k3)):
        raise ValueError(f"noise_kappa3 must be finite of shape {(d, d, d)}, got {k3.shape}")
    eta = check.positive_scalar("eta", eta)
    a = np.eye(d) - eta * h
    if np.abs(np.linalg.eigvals(a)).max() >= 1:
        raise ValueError(f"eta = {eta:g} is too large: SGD does not converge on this Hessian")
    a3 = np.einsum("il,jm,kn->ijklmn", a, a, a).reshape(d**3, d**3)
    out = np.linalg.solve(np.eye(d**3) - a3, eta**3 * k3.ravel())
    return np.asarray(out.reshape(d, d, d))


def edgeworth_tv(cov: ArrayLike, kappa3: ArrayLike, n: int = 400) -> float:
    r"""Total variation between :math:`N(0, \Sigma)` and its first Edgeworth correction.

    :math:`p = \varphi_\Sigma\,\big(1 + \tfrac16\kappa_{ijk}h_{ijk}\big)`, with the
    Hermite tensor :math:`h_{ijk} = y_iy_jy_k - y_iS_{jk} - y_jS_{ik} - y_kS_{ij}`,
    :math:`y = S x`, :math:`S = \Sigma^{-1}`; the result is
    :math:`\tfrac12\,\mathbb{E}_{\varphi_\Sigma}\big|\tfrac16\kappa_{ijk}h_{ijk}\big|`,
    the leading-order TV that a third cumulant :math:`\kappa` adds.  The
    expectation is a midpoint sum over ``n x n`` cells of
    :math:`[-8, 8]^2` in whitened coordinates (deterministic; the absolute
    value has kinks, where Gauss-Hermite quadrature would converge slowly).
    In two dimensions only.
    """
    s = np.asarray(check.psd_matrix("cov", cov, 2, definite=True), dtype=float)
    k3 = np.asarray(kappa3, dtype=float)
    if k3.shape != (2, 2, 2) or not np.all(np.isfinite(k3)):
        raise ValueError(f"kappa3 must be finite of shape (2, 2, 2), got {k3.shape}")
    n = check.positive_int("n", n)
    edges = np.linspace(-8.0, 8.0, n + 1)
    z = (edges[1:] + edges[:-1]) / 2
    zz = np.stack(np.meshgrid(z, z, indexing="ij"), axis=-1).reshape(-1, 2)
    ww = np.exp(-0.5 * np.sum(zz**2, axis=1))
    ww /= ww.sum()
    x = zz @ np.linalg.cholesky(s).T
    prec = np.linalg.inv(s)
    y = x @ prec
    # kappa_ijk h_ijk, contracted term by term (k3 is symmetric in a cumulant, not assumed)
    cubic = np.einsum("ijk,pi,pj,pk->p", k3, y, y, y)
    linear = (np.einsum("ijk,pi,jk->p", k3, y, prec) + np.einsum("ijk,pj,ik->p", k3, y, prec)
              + np.einsum("ijk,pk,ij->p", k3, y, prec))
    return float(0.5 * np.sum(ww * np.abs(cubic - linear) / 6))
