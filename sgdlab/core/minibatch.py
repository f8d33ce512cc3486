"""Mini-batch gradients: the diffusion matrix and the covariance of a batch mean.

The mini-batch gradient of eq. (1) is the mean of ``b`` per-example
gradients.  Its covariance is :math:`D/b` when the batch is drawn with
replacement (Appendix A.1), with :math:`D` the diffusion matrix of eq. (2),
and :math:`\\frac{N-b}{N-1}\\,D/b` when it is a uniform ``b``-subset
(Appendix A.2, the finite-population correction).  Both closed forms are
checked against :func:`enumerate_covariance`, which averages over every
possible batch.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sgdlab import _validation as check
from sgdlab._typing import Array

__all__ = ["covariance", "diffusion_matrix", "enumerate_covariance",
           "paper_covariance_error", "paper_covariance_without_replacement",
           "sample_batch_means", "sample_batches", "variance_factor"]


def _grads(grads: ArrayLike) -> Array:
    """Per-example gradients as a finite ``(N, d)`` float array."""
    arr = np.asarray(grads, dtype=float)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"grads must have shape (N, d) with N, d >= 1, got {np.shape(grads)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("grads contains NaN or infinite entries")
    return arr


def _batch_size(b: int, n: int, replacement: bool) -> int:
    """``b`` as an int in [1, N] (any ``b >= 1`` with replacement)."""
    b = check.positive_int("b", b)
    if not replacement and b > n:
        raise ValueError(f"b must be <= N = {n} without replacement, got {b}")
    return b


def diffusion_matrix(grads: ArrayLike) -> Array:
    r"""Diffusion matrix :math:`D(x)` of eq. (2) (Definition 1, eq. A1).

    :math:`D = \frac1N\sum_k g_k g_k^\top - g g^\top` with
    :math:`g = \frac1N\sum_k g_k`, computed as
    :math:`\frac1N\sum_k (g_k - g)(g_k - g)^\top` (the same matrix, without
    cancellation).

    Parameters
    ----------
    grads : array_like, shape (N, d)
        Per-example gradients :math:`g_k = \nabla f_k(x)` at one point ``x``.

    Returns
    -------
    ndarray, shape (d, d)
        Symmetric positive semi-definite.

    Examples
    --------
    >>> diffusion_matrix([[1.0, 0.0], [-1.0, 0.0]])
    array([[1., 0.],
           [0., 0.]])
    """
    g = _grads(grads)
    dev = g - g.mean(axis=0)
    out = dev.T @ dev / g.shape[0]
    return 0.5 * (out + out.T)


def variance_factor(n: int, b: int, replacement: bool = True) -> float:
    r"""The factor :math:`c` in :math:`\mathrm{cov}(\nabla f_b) = c\,D`.

    :math:`1/b` with replacement (A.1); :math:`\frac{N-b}{b(N-1)}` without
    (A.2, exact; the paper writes :math:`\frac1b(1 - \frac bN)`, which differs
    by the factor :math:`\frac{N}{N-1}`), and 0 when ``N = 1``.

    Parameters
    ----------
    n : int
        Number of examples ``N``.
    b : int
        Batch size, ``1 <= b`` (and ``b <= N`` without replacement).
    replacement : bool, default True
    """
    n = check.positive_int("n", n)
    b = _batch_size(b, n, replacement)
    if replacement:
        return 1.0 / b
    return 0.0 if n == 1 else (n - b) / (b * (n - 1))


def covariance(grads: ArrayLike, b: int, replacement: bool = True) -> Array:
    r"""Exact covariance of the mini-batch gradient of eq. (1) (Appendix A.1 / A.2).

    With replacement the ``b`` indices are i.i.d. uniform and the covariance
    is :math:`D/b`.  Without replacement the batch is a uniform ``b``-subset;
    the indicators :math:`1_{k\in b}` have variance
    :math:`\frac bN(1-\frac bN)` and covariance
    :math:`-\frac{b(N-b)}{N^2(N-1)}`, which sum to
    :math:`\frac{N-b}{b(N-1)}\,D`.

    Parameters
    ----------
    grads : array_like, shape (N, d)
        Per-example gradients at one point.
    b : int
        Batch size.
    replacement : bool, default True
        Sample with replacement (A.1) or without (A.2).

    Returns
    -------
    ndarray, shape (d, d)

    Raises
    ------
    ValueError
        If ``grads`` is not a finite ``(N, d)`` array, ``b < 1``, or
        ``b > N`` without replacement.
    """
    g = _grads(grads)
    return variance_factor(g.shape[0], b, replacement) * diffusion_matrix(g)


def _without_replacement(grads: ArrayLike, b: int) -> tuple[Array, int, int, Array]:
    """Checked gradients, N >= 2, a batch size for sampling without replacement, the mean."""
    g = _grads(grads)
    n = g.shape[0]
    if n < 2:
        raise ValueError(f"grads must hold N >= 2 examples, got {n}")
    return g, n, _batch_size(b, n, replacement=False), g.mean(axis=0)


def paper_covariance_without_replacement(grads: ArrayLike, b: int) -> Array:
    r"""The paper's expression for the covariance without replacement (eq. A2 and above).

    :math:`\frac1b\left(1-\frac bN\right)\left[\frac{\sum_k g_k g_k^\top}{N-1}
    - \left(1 - \frac1{N-1}\right) g g^\top\right]`, as printed.  It equals
    :func:`covariance` ``(grads, b, False)`` only where the full gradient
    :math:`g` is zero; the book measures the difference.

    Parameters
    ----------
    grads : array_like, shape (N, d), N >= 2
    b : int, 1 <= b <= N
    """
    g, n, b, mean = _without_replacement(grads, b)
    bracket = g.T @ g / (n - 1) - (1.0 - 1.0 / (n - 1)) * np.outer(mean, mean)
    return (1.0 - b / n) / b * bracket


def paper_covariance_error(grads: ArrayLike, b: int) -> Array:
    r"""Closed form of the error of the paper's eq. (A2) expression, printed minus exact.

    With :math:`S = \sum_k g_k g_k^\top` and :math:`D = S/N - gg^\top`, the
    printed expression (:func:`paper_covariance_without_replacement`) minus the
    exact :math:`\frac{N-b}{b(N-1)}D` (:func:`covariance` without replacement) is

    .. math::
        \frac{N-b}{bN}\Big[\frac{S}{N-1} - \frac{N-2}{N-1}gg^\top\Big]
        - \frac{N-b}{b(N-1)}\Big[\frac SN - gg^\top\Big]
        = \frac{2(N-b)}{bN(N-1)}\,gg^\top,

    a multiple of :math:`gg^\top`: zero at a critical point, and, relative to
    the exact covariance, the same for every ``b < N``.

    Parameters
    ----------
    grads : array_like, shape (N, d), N >= 2
    b : int, 1 <= b <= N

    Returns
    -------
    ndarray, shape (d, d)
    """
    _, n, b, mean = _without_replacement(grads, b)
    return 2.0 * (n - b) / (b * n * (n - 1)) * np.outer(mean, mean)


def enumerate_covariance(grads: ArrayLike, b: int, replacement: bool = True,
                         *, max_batches: int = 2_000_000) -> Array:
    """Covariance of the mini-batch mean by brute force over every batch.

    With replacement every ordered tuple of ``b`` draws (``N**b`` of them) is
    equally likely; without, every ``b``-subset (``C(N, b)``).  The exact
    mean and covariance over these batches is returned, for checking
    :func:`covariance` on small data sets.

    Parameters
    ----------
    grads : array_like, shape (N, d)
    b : int
    replacement : bool, default True
    max_batches : int, default 2,000,000
        Refuse to enumerate more batches than this.

    Returns
    -------
    ndarray, shape (d, d)
    """
    g = _grads(grads)
    n = g.shape[0]
    b = _batch_size(b, n, replacement)
    count = n**b if replacement else math.comb(n, b)
    if count > check.positive_int("max_batches", max_batches):
        raise ValueError(f"b = {b} gives {count} batches of N = {n}, more than max_batches")
    batches = (itertools.product(range(n), repeat=b) if replacement
               else itertools.combinations(range(n), b))
    idx = np.fromiter(itertools.chain.from_iterable(batches), dtype=np.intp,
                      count=count * b).reshape(count, b)
    means = g[idx].mean(axis=1)
    dev = means - means.mean(axis=0)
    return dev.T @ dev / count


def sample_batches(n: int, b: int, size: int | tuple[int, ...], replacement: bool = True,
                   rng: int | np.random.Generator | None = None) -> NDArray[np.intp]:
    """Indices of independent mini-batches, shape ``(*size, b)``.

    With replacement the ``b`` indices are i.i.d. uniform on ``0..N-1``;
    without, each batch is a uniform ``b``-subset (the batches are independent
    of each other, as in Appendix A.2, not the epochs of a reshuffled pass).

    Parameters
    ----------
    n : int
        Number of examples.
    b : int
        Batch size.
    size : int or tuple of int
        Number (or shape) of batches.
    replacement : bool, default True
    rng : int or numpy.random.Generator, optional
    """
    n = check.positive_int("n", n)
    b = _batch_size(b, n, replacement)
    rng = np.random.default_rng(rng)
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    if replacement:
        return rng.integers(0, n, size=(*shape, b))
    return np.argpartition(rng.random((*shape, n)), b - 1, axis=-1)[..., :b]


def sample_batch_means(grads: ArrayLike, b: int, n_samples: int, replacement: bool = True,
                       rng: int | np.random.Generator | None = None) -> Array:
    """Monte Carlo draws of the mini-batch gradient of eq. (1).

    Parameters
    ----------
    grads : array_like, shape (N, d)
    b : int
    n_samples : int
        Number of independent batches.
    replacement : bool, default True
    rng : int or numpy.random.Generator, optional

    Returns
    -------
    ndarray, shape (n_samples, d)
    """
    g = _grads(grads)
    n, d = g.shape
    b = _batch_size(b, n, replacement)
    n_samples = check.positive_int("n_samples", n_samples)
    rng = np.random.default_rng(rng)
    chunk = max(1, 4_000_000 // (max(b, n) * d))      # bounds the memory of one gather
    return np.concatenate([
        g[sample_batches(n, b, min(chunk, n_samples - start), replacement, rng)].mean(axis=1)
        for start in range(0, n_samples, chunk)])
