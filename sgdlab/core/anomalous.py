"""Mean squared displacement and its exponent: is a late SGD trajectory anomalous diffusion?

Kunin et al. (2021) measure how far a network moves after a time :math:`k_0` in the late
phase of training, :math:`\\mathrm{MSD}(k) = \\langle|x_{k_0+k} - x_{k_0}|^2\\rangle`, and
find a power law :math:`k^c` with :math:`c \\neq 1`.  Brownian motion has :math:`c = 1`; an
Ornstein-Uhlenbeck process saturates, :math:`\\mathrm{MSD}(k) = 2\\sum_i s_i^2(1 - \\phi_i^k)`
(:func:`ou_msd`), so that its local exponent falls from 1 to 0; a drift gives :math:`c = 2`.

- :func:`log_lags`: integer lags spaced evenly on a log scale;
- :func:`msd`: the squared displacements of every series of a block ``(..., n)``, time
  last, as :class:`sgdlab.deep.runs.Trajectory` stores its weights;
- :func:`ou_msd`: the closed form for independent stationary AR(1) coordinates
  :math:`x_{k+1} = c + \\phi x_k + \\sigma\\xi_k` (an OU process sampled once a step).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sgdlab import _validation as check
from sgdlab._typing import Array

__all__ = ["log_lags", "msd", "ou_msd"]


def log_lags(n: int, n_lags: int = 30, first: int = 1) -> NDArray[np.intp]:
    """Distinct integer lags from ``first`` to ``n - 1``, about evenly spaced in log.

    Examples
    --------
    >>> log_lags(1000, 4).tolist()
    [1, 10, 100, 999]
    """
    n = check.positive_int("n", n)
    first = check.positive_int("first", first)
    if first >= n:
        raise ValueError(f"first = {first} must be below n = {n}")
    grid = np.geomspace(first, n - 1, check.positive_int("n_lags", n_lags))
    return np.unique(np.round(grid).astype(np.intp))


def msd(paths: ArrayLike, lags: ArrayLike, start: int = 0) -> Array:
    r"""Squared displacements :math:`(x_{k_0+k} - x_{k_0})^2` of every series after ``start``.

    Summed over a chain's coordinates and averaged over chains, they give the
    :math:`\mathrm{MSD}(k) = \langle|x_{k_0+k} - x_{k_0}|^2\rangle` of Kunin et al.

    Parameters
    ----------
    paths : array_like, shape (..., n)
        Series with time last, e.g. ``(chains, d, n)`` as
        :class:`sgdlab.deep.runs.Trajectory` stores its weights (a memory map is read
        one lag at a time).
    lags : array_like of int, shape (m,)
        Lags :math:`k \ge 1` with ``start + k < n``.
    start : int, default 0
        :math:`k_0`.

    Returns
    -------
    ndarray, shape (..., m)
    """
    x = paths if isinstance(paths, np.ndarray) else np.asarray(paths)
    if x.ndim < 1:
        raise ValueError("paths must have a time axis (the last)")
    k = np.asarray(lags)
    if k.ndim != 1 or k.size == 0 or not np.issubdtype(k.dtype, np.integer):
        raise ValueError(f"lags must be a 1-D array of integers, got {lags!r}")
    if not isinstance(start, (int, np.integer)) or start < 0:
        raise ValueError(f"start must be an integer >= 0, got {start!r}")
    n = x.shape[-1]
    if k.min() < 1 or start + k.max() >= n:
        raise ValueError(f"lags must lie in [1, {n - 1 - start}] for start = {start} and n = {n}")
    origin = np.asarray(x[..., start], dtype=float)
    out = np.empty((*x.shape[:-1], k.size))
    for j, lag in enumerate(k):
        out[..., j] = (np.asarray(x[..., start + lag], dtype=float) - origin) ** 2
    if not np.all(np.isfinite(out)):
        raise ValueError("paths contain NaN or infinite entries")
    return out


def ou_msd(lags: ArrayLike, phi: ArrayLike, sigma: ArrayLike,
           offset: ArrayLike | None = None) -> Array:
    r"""Expected MSD of independent AR(1) coordinates :math:`x_{k+1} = c + \phi x_k + \sigma\xi_k`.

    With :math:`m = c/(1-\phi)` the mean, :math:`x_k - m = \phi^k(x_0 - m)` plus Gaussian
    noise of variance :math:`\sigma^2\sum_{j<k}\phi^{2j}`, so

    .. math:: \mathbb E|x_k - x_0|^2 = \sum_i (1 - \phi_i^k)^2 (x_{0,i} - m_i)^2
              + \sigma_i^2\,\frac{1 - \phi_i^{2k}}{1 - \phi_i^2}.

    Started from the stationary law (``offset`` None: :math:`(x_0 - m)^2` averaged to
    :math:`s^2 = \sigma^2/(1-\phi^2)`), it is the Ornstein-Uhlenbeck saturation
    :math:`2\sum_i s_i^2(1 - \phi_i^k)`, i.e. :math:`2\operatorname{tr}\Sigma\,(1 - e^{-k/\tau})`
    with :math:`\tau = -1/\log\phi`: linear, :math:`2s^2(1-\phi)k`, for :math:`k \ll \tau`,
    flat beyond.

    Parameters
    ----------
    lags : array_like, shape (m,)
    phi, sigma : array_like, shape (d,)
        Each coordinate's :math:`\phi_i` and :math:`\sigma_i \ge 0`; :math:`|\phi_i| < 1`
        when ``offset`` is None.
    offset : array_like, shape (d,), optional
        :math:`x_{0,i} - m_i`, for a chain started there.

    Returns
    -------
    ndarray, shape (m,)
    """
    k = np.asarray(lags, dtype=float)[:, None]
    p = np.atleast_1d(np.asarray(phi, dtype=float))
    s = np.atleast_1d(np.asarray(sigma, dtype=float))
    if k.shape[1:] != (1,) or k.ndim != 2 or p.ndim != 1 or p.shape != s.shape:
        raise ValueError(f"lags must be 1-D and phi, sigma 1-D of one length, got "
                         f"{np.shape(lags)}, {p.shape}, {s.shape}")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(s))) or np.any(s < 0):
        raise ValueError("phi must be finite and sigma finite and >= 0")
    p2 = p * p
    with np.errstate(divide="ignore", invalid="ignore"):
        noise = np.where(p2 == 1.0, k, (1.0 - p2 ** k) / (1.0 - p2))   # sum_{j<k} phi^2j
    if offset is None:
        if np.any(np.abs(p) >= 1):
            raise ValueError("a stationary start needs |phi| < 1")
        start = s * s / (1.0 - p2)
    else:
        off = np.asarray(offset, dtype=float)
        if off.shape != p.shape:
            raise ValueError(f"offset must have shape {p.shape}, got {off.shape}")
        start = off * off
    return ((1.0 - p ** k) ** 2 * start + s * s * noise).sum(axis=1)
