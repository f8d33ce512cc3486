r"""Mini-batch gradient noise, its Gaussian stand-ins, and how far it is from them.

The noise of a mini-batch of ``b`` examples drawn with replacement is
:math:`\xi_b = \frac1b\sum_{k\in B} g_k - g`, a mean of ``b`` i.i.d. rows of the
centred per-example gradients (:func:`minibatch_noise`); its covariance is
:math:`D/b` with :math:`D` the diffusion matrix of eq. (2).  The Gaussian SDE of
the paper (eq. 3) replaces it by :math:`N(0, D/b)` (:func:`gaussian_noise`,
``"full"``); a cruder stand-in keeps only the variances of the coordinates
(``"diagonal"``).

How Gaussian :math:`\xi_b` is along one direction ``u`` is bounded by the
Berry-Esseen theorem: with :math:`z_k = u^\top(g_k - g)`,
:math:`\sigma^2 = E z^2` and :math:`\rho = E|z|^3`, the Kolmogorov distance
between the law of :math:`u^\top\xi_b/(\sigma/\sqrt b)` and :math:`N(0, 1)` is at
most :math:`C\rho/(\sigma^3\sqrt b)` with :math:`C = 0.4748` (Shevtsova 2011)
(:func:`berry_esseen_bound`); :func:`kolmogorov_distance` measures it on
samples, within :func:`dkw_radius` of the truth (Massart 1990).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

from sgdlab import _validation as check
from sgdlab._typing import Array

from .minibatch import sample_batch_means

__all__ = ["BERRY_ESSEEN", "COVARIANCES", "berry_esseen_bound", "dkw_radius", "gaussian_noise",
           "kolmogorov_distance", "minibatch_noise", "nested_minibatch_noise"]

#: Shevtsova's (2011) constant of the Berry-Esseen inequality for i.i.d. summands.
BERRY_ESSEEN = 0.4748
#: The Gaussian stand-ins :func:`gaussian_noise` draws from.
COVARIANCES = ("full", "diagonal")


def minibatch_noise(grads: ArrayLike, b: int, n_batches: int,
                    rng: int | np.random.Generator | None = None) -> Array:
    r"""Draws of :math:`\xi_b = \nabla f_B - \nabla f`, batches of ``b`` drawn with replacement.

    Parameters
    ----------
    grads : array_like, shape (N, d)
        Per-example gradients :math:`g_k` at one point.
    b : int
        Batch size.
    n_batches : int
        Independent batches ``M``.
    rng : int or numpy.random.Generator, optional

    Returns
    -------
    ndarray, shape (M, d)
        Each row the mean of ``b`` rows of ``grads`` minus the mean of all.
    """
    g = np.asarray(grads, dtype=float)
    return sample_batch_means(g, b, n_batches, True, rng) - g.mean(axis=0)


def nested_minibatch_noise(grads: ArrayLike, sizes: Sequence[int], n_batches: int,
                           rng: int | np.random.Generator | None = None) -> dict[int, Array]:
    r""":func:`minibatch_noise` at several batch sizes, the batches of each the first ``b``
    of ``M`` sequences of draws with replacement.

    At each ``b`` the ``M`` batches are independent and the law is that of
    :func:`minibatch_noise`; across sizes they share draws, and the gradients of the
    largest are gathered once.

    Parameters
    ----------
    grads : array_like, shape (N, d)
    sizes : sequence of int
        Batch sizes, each >= 1.
    n_batches : int
    rng : int or numpy.random.Generator, optional

    Returns
    -------
    dict
        ``b`` to the ``(M, d)`` noise at batch size ``b``.
    """
    g = np.asarray(grads, dtype=float)
    if g.ndim != 2 or g.shape[0] < 1 or not np.all(np.isfinite(g)):
        raise ValueError(f"grads must be a finite (N, d) array, got shape {g.shape}")
    wanted = sorted({check.positive_int("b", b) for b in sizes})
    if not wanted:
        raise ValueError("sizes must name at least one batch size")
    n_batches = check.positive_int("n_batches", n_batches)
    idx = np.random.default_rng(rng).integers(0, g.shape[0], size=(n_batches, wanted[-1]))
    centred = g - g.mean(axis=0)
    out, total, done = {}, np.zeros((n_batches, g.shape[1])), 0
    for b in wanted:
        for start in range(done, b):
            total += centred[idx[:, start]]
        done = b
        out[b] = total / b
    return out


def gaussian_noise(diffusion: ArrayLike, b: int, n_batches: int, covariance: str = "full",
                   rng: int | np.random.Generator | None = None) -> Array:
    r"""Draws of the Gaussian stand-in of :func:`minibatch_noise`.

    Parameters
    ----------
    diffusion : array_like, shape (d, d)
        The diffusion matrix :math:`D` of eq. (2)
        (:func:`sgdlab.core.minibatch.diffusion_matrix` of the per-example gradients).
    b, n_batches : int
    covariance : {"full", "diagonal"}
        :math:`N(0, D/b)`, the paper's noise, or :math:`N(0, \mathrm{diag}(D)/b)`.
    rng : int or numpy.random.Generator, optional

    Returns
    -------
    ndarray, shape (M, d)
    """
    if covariance not in COVARIANCES:
        raise ValueError(f"covariance must be one of {COVARIANCES}, got {covariance!r}")
    b = check.positive_int("b", b)
    n_batches = check.positive_int("n_batches", n_batches)
    rng = np.random.default_rng(rng)
    if covariance == "diagonal":
        var = np.diag(check.symmetric_matrix("diffusion", diffusion))
        if np.any(var < 0):
            raise ValueError("diffusion must have a non-negative diagonal")
        return rng.standard_normal((n_batches, var.size)) * np.sqrt(var / b)
    lam, vec = check.psd_eigh("diffusion", diffusion)
    z = rng.standard_normal((n_batches, lam.size))
    return (z * np.sqrt(np.clip(lam, 0.0, None) / b)) @ vec.T


def berry_esseen_bound(projected: ArrayLike, b: int) -> Array:
    r"""The Berry-Esseen bound :math:`C\rho/(\sigma^3\sqrt b)` for each column of ``projected``.

    Parameters
    ----------
    projected : array_like, shape (N,) or (N, K)
        Per-example values :math:`z_k = u^\top g_k` along ``K`` directions
        (centred here).
    b : int
        Batch size (draws with replacement).

    Returns
    -------
    ndarray, shape (K,)
        Bounds on the Kolmogorov distance of the standardised batch mean from N(0, 1).
    """
    z = np.asarray(projected, dtype=float)
    z = (z.reshape(z.shape[0], -1) if z.ndim else z)
    if z.ndim != 2 or z.shape[0] < 2 or not np.all(np.isfinite(z)):
        raise ValueError(f"projected must be a finite (N, K) array with N >= 2, got {z.shape}")
    b = check.positive_int("b", b)
    z = z - z.mean(axis=0)
    sigma = np.sqrt((z**2).mean(axis=0))
    rho = (np.abs(z) ** 3).mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return BERRY_ESSEEN * rho / (sigma**3 * math.sqrt(b))


def kolmogorov_distance(samples: ArrayLike, scale: ArrayLike = 1.0) -> Array:
    r""":math:`\sup_x|F_M(x) - \Phi(x/s)|` of the empirical CDF of each column.

    Parameters
    ----------
    samples : array_like, shape (M,) or (M, K)
    scale : float or array_like, shape (K,)
        The standard deviation ``s`` of the Gaussian each column is compared with.

    Returns
    -------
    ndarray, shape (K,)
    """
    x = np.asarray(samples, dtype=float)
    x = x.reshape(x.shape[0], -1) if x.ndim else x
    if x.ndim != 2 or x.shape[0] < 1 or not np.all(np.isfinite(x)):
        raise ValueError(f"samples must be a finite (M, K) array, got {np.shape(samples)}")
    s = np.broadcast_to(np.asarray(scale, dtype=float), (x.shape[1],))
    if not np.all(s > 0):
        raise ValueError("scale must be positive")
    cdf = ndtr(np.sort(x, axis=0) / s)
    m = x.shape[0]
    i = np.arange(1, m + 1)[:, None]
    return np.maximum((i / m - cdf).max(axis=0), (cdf - (i - 1) / m).max(axis=0))


def dkw_radius(m: int, delta: float) -> float:
    r"""Radius :math:`\sqrt{\log(2/\delta)/(2M)}` within which the empirical CDF of ``M``
    draws lies of the true one, uniformly, with probability :math:`\geq 1 - \delta`
    (the Dvoretzky-Kiefer-Wolfowitz inequality with Massart's constant)."""
    m = check.positive_int("m", m)
    delta = check.positive_scalar("delta", delta)
    if delta >= 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    return math.sqrt(math.log(2.0 / delta) / (2.0 * m))
