r"""The tail index of gradient noise: one estimator, three ways to feed it.

The estimator is Corollary 2.4 of Mohammadi, Mohammadpour and Ogata (2015),
the one Simsekli, Sagun and Gurbuzbalaban (2019) use: if :math:`X_1, \dots,
X_{nm}` are i.i.d. symmetric :math:`\alpha`-stable and :math:`Y_j` is the sum
of the ``j``-th block of ``m`` of them, then :math:`Y_j \overset{d}{=}
m^{1/\alpha} X_1`, so

.. math::
    \widehat{1/\alpha} = \frac{1}{\log m}\Big(\frac1n\sum_{j} \log|Y_j|
        - \frac1{nm}\sum_i \log|X_i|\Big)

is an unbiased estimate of :math:`1/\alpha` (:func:`stable_tail_index`).  It is
the mean over the ``n`` blocks of :math:`T_j = \log|Y_j| - \frac1m\sum_{i\in
j}\log|X_i|`, independent when the ``X_i`` are, so its standard error is the
blocks' standard deviation over :math:`\sqrt n \log m`; the delta method gives
that of :math:`\hat\alpha` (:attr:`TailIndex.se`).

Mini-batch noise is a sample of ``M`` vectors in :math:`\mathbb R^d`; the
estimator sees scalars, taken three ways:

- :func:`pooled`: all ``M d`` coordinates as one sample, flattened row by row,
  with ``m`` the largest divisor of ``M d`` not above its square root
  (:func:`block_size`), as the released code of Simsekli et al. does;
- :func:`per_coordinate`: each coordinate's ``M`` values, one estimate each;
- :func:`along_projections`: the ``M`` values of :math:`u^\top \xi` for unit
  vectors ``u`` (:func:`random_directions`).

Pooling mixes coordinates of different scales, which a stable law cannot do:
for a Gaussian vector of covariance :math:`\Sigma` the pooled estimator's
expected value is known in closed form (:func:`pooled_gaussian_inverse`), and is
below 1/2 unless every block has the same scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from sgdlab import _validation as check
from sgdlab._typing import Array

__all__ = ["EPS", "TailIndex", "along_projections", "block_size", "per_coordinate", "pooled",
           "pooled_gaussian_inverse", "random_directions", "stable_tail_index"]

#: Added to every :math:`|x|` before its logarithm, as the released code does
#: (``np.spacing(1)``).
EPS = float(np.spacing(1))


@dataclass(frozen=True)
class TailIndex:
    r"""Estimates of the tail index :math:`\alpha`, one per column of the sample.

    Attributes
    ----------
    inverse : ndarray, shape (k,)
        The estimate of :math:`1/\alpha`, unbiased for a stable law.
    se_inverse : ndarray, shape (k,)
        Its standard error, from the spread of the ``blocks`` block statistics.
    m : int
        Block size.
    blocks : int
        Number of blocks ``n``.
    """

    inverse: Array
    se_inverse: Array
    m: int
    blocks: int

    @property
    def alpha(self) -> Array:
        r""":math:`\hat\alpha = 1/\widehat{1/\alpha}`."""
        with np.errstate(divide="ignore"):
            return 1.0 / self.inverse

    @property
    def se(self) -> Array:
        r"""Standard error of :math:`\hat\alpha` by the delta method, :math:`\hat\alpha^2\,
        \mathrm{se}(\widehat{1/\alpha})`."""
        return self.alpha**2 * self.se_inverse


def block_size(n: int) -> int:
    """The largest divisor of ``n`` not above :math:`\\sqrt n` (the released code's ``m``).

    Raises
    ------
    ValueError
        If ``n`` is not an integer >= 4 or the divisor is 1 (``n`` prime).
    """
    n = check.positive_int("n", n)
    m = max(i for i in range(1, math.isqrt(n) + 1) if n % i == 0)
    if m < 2:
        raise ValueError(f"a sample of {n} values has no block size m >= 2 dividing it "
                         "(pass m, or drop a value)")
    return m


def stable_tail_index(x: ArrayLike, m: int | None = None) -> TailIndex:
    r"""Mohammadi et al.'s estimator of :math:`\alpha` (their Corollary 2.4), column by column.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, k)
        ``N`` i.i.d. draws of each of ``k`` scalars (a column each).
    m : int, optional
        Block size, >= 2; the first ``m * (N // m)`` rows are used, in blocks of
        consecutive rows.  By default :func:`block_size` ``(N)``.

    Returns
    -------
    TailIndex
        With ``k`` entries (one when ``x`` is 1-D).

    Raises
    ------
    ValueError
        If ``x`` is not a finite 1-D or 2-D array, or ``m`` leaves fewer than two
        blocks.
    """
    arr = np.asarray(x, dtype=float)
    if arr.ndim not in (1, 2) or arr.shape[0] < 4 or arr.size == 0:
        raise ValueError(f"x must have shape (N,) or (N, k) with N >= 4, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("x contains NaN or infinite entries")
    arr = arr.reshape(arr.shape[0], -1)
    m = block_size(arr.shape[0]) if m is None else check.positive_int("m", m)
    n = arr.shape[0] // m
    if m < 2 or n < 2:
        raise ValueError(f"m = {m} must be >= 2 and leave >= 2 blocks of N = {arr.shape[0]}")
    blocks = arr[: n * m].reshape(n, m, -1)
    t = (np.log(np.abs(blocks.sum(axis=1)) + EPS)
         - np.log(np.abs(blocks) + EPS).mean(axis=1)) / math.log(m)
    return TailIndex(t.mean(axis=0), t.std(axis=0, ddof=1) / math.sqrt(n), m, n)


def _noise(noise: ArrayLike) -> Array:
    arr = np.asarray(noise, dtype=float)
    if arr.ndim != 2 or arr.shape[0] < 4 or arr.shape[1] < 1:
        raise ValueError(f"noise must have shape (M, d) with M >= 4, got {arr.shape}")
    return arr


def pooled(noise: ArrayLike, m: int | None = None) -> TailIndex:
    """The tail index of all coordinates of all noise vectors as one sample.

    As the released code of Simsekli et al. (2019) computes it: the ``(M, d)``
    noise flattened row by row, blocks of ``m`` consecutive values, ``m`` by
    :func:`block_size` of ``M d`` unless given.

    Parameters
    ----------
    noise : array_like, shape (M, d)
        ``M`` noise vectors, one a row.
    m : int, optional

    Returns
    -------
    TailIndex
        One entry.
    """
    return stable_tail_index(_noise(noise).reshape(-1), m)


def per_coordinate(noise: ArrayLike, m: int | None = None) -> TailIndex:
    """The tail index of each coordinate across the ``M`` noise vectors (``d`` entries)."""
    return stable_tail_index(_noise(noise), m)


def along_projections(noise: ArrayLike, directions: ArrayLike, m: int | None = None
                      ) -> TailIndex:
    """The tail index of :math:`u^\\top\\xi` for each row ``u`` of ``directions``.

    Parameters
    ----------
    noise : array_like, shape (M, d)
    directions : array_like, shape (K, d)
        Unit vectors, one a row (:func:`random_directions`).
    m : int, optional
    """
    xi = _noise(noise)
    u = np.asarray(directions, dtype=float)
    if u.ndim != 2 or u.shape[1] != xi.shape[1]:
        raise ValueError(f"directions must have shape (K, {xi.shape[1]}), got {u.shape}")
    if not np.allclose(np.linalg.norm(u, axis=1), 1.0, rtol=1e-12, atol=0.0):
        raise ValueError("directions must be unit vectors")
    return stable_tail_index(xi @ u.T, m)


def random_directions(d: int, k: int, rng: int | np.random.Generator | None = None) -> Array:
    """``k`` independent directions, uniform on the unit sphere of :math:`\\mathbb R^d`.

    Returns
    -------
    ndarray, shape (k, d)
    """
    d, k = check.positive_int("d", d), check.positive_int("k", k)
    z = np.random.default_rng(rng).standard_normal((k, d))
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def pooled_gaussian_inverse(cov: ArrayLike, rows: int, m: int | None = None) -> float:
    r"""Expected value of :func:`pooled`'s :math:`\widehat{1/\alpha}` on Gaussian noise.

    For ``rows`` i.i.d. rows :math:`\xi \sim N(0, \Sigma)`, flattened row by
    row into blocks of ``m``, each value and each block sum is a centred
    Gaussian, and :math:`E\log|\sigma Z| = \log\sigma + E\log|Z|`, so

    .. math::
        E\,\widehat{1/\alpha} = \frac1{n\log m}\sum_j\Big(\tfrac12\log \mathrm{var}\,Y_j
            - \frac1m\sum_{i\in j}\tfrac12\log\Sigma_{c(i)c(i)}\Big),

    with :math:`c(i)` the coordinate of value ``i`` and :math:`\mathrm{var}\,Y_j`
    the sum of :math:`\mathbf 1^\top\Sigma_{[a,b)}\mathbf 1` over the pieces
    ``[a, b)`` of block ``j`` in each row (rows are independent).  It is 1/2
    when every block sum has the scale :math:`\sqrt m` times the geometric mean of
    its values' scales, and above 1/2 (:math:`\alpha < 2`) by Jensen's
    inequality when the scales differ and the coordinates are uncorrelated.
    (The :data:`EPS` the estimator adds is neglected.)

    Parameters
    ----------
    cov : array_like, shape (d, d)
        Covariance of one noise vector, with a positive diagonal (its positive
        semi-definiteness is not checked; a block sum of variance <= 0 is refused).
    rows : int
        ``M``, the number of noise vectors pooled.
    m : int, optional
        Block size; by default :func:`block_size` ``(M d)``, as :func:`pooled`.
    """
    sigma = check.symmetric_matrix("cov", cov)
    d = sigma.shape[0]
    diag = np.diag(sigma)
    if np.any(diag <= 0):
        raise ValueError("cov must have a positive diagonal (a coordinate without noise "
                         "has log|x| = -inf)")
    rows = check.positive_int("rows", rows)
    total = rows * d
    m = block_size(total) if m is None else check.positive_int("m", m)
    n = total // m
    if m < 2 or n < 2:
        raise ValueError(f"m = {m} must be >= 2 and leave >= 2 blocks of {total} values")
    # prefix sums: ones^T Sigma[a:b, a:b] ones = P[b, b] - P[a, b] - P[b, a] + P[a, a]
    prefix = np.zeros((d + 1, d + 1))
    prefix[1:, 1:] = sigma.cumsum(axis=0).cumsum(axis=1)

    def piece(a: np.ndarray, b: np.ndarray) -> Array:
        return prefix[b, b] - prefix[a, b] - prefix[b, a] + prefix[a, a]

    start = np.arange(n) * m
    stop = start + m                       # flat indices [start, stop)
    first, last = start // d, (stop - 1) // d
    same = first == last
    var = np.where(same, piece(start % d, (stop - 1) % d + 1), 0.0)
    split = ~same
    var[split] = (piece(start[split] % d, np.full(split.sum(), d))
                  + piece(np.zeros(split.sum(), dtype=int), (stop[split] - 1) % d + 1)
                  + (last[split] - first[split] - 1) * prefix[d, d])
    if np.any(var <= 0):
        raise ValueError("cov gives a block sum of variance <= 0: it is not a covariance")
    log_scale = 0.5 * np.log(np.tile(diag, rows)[: n * m]).reshape(n, m).mean(axis=1)
    return float(np.mean(0.5 * np.log(var) - log_scale) / math.log(m))
