"""Gibbs densities on cells, and histograms of samples against an exact density in the plane."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from sgdlab import _validation as check
from sgdlab._typing import Array

__all__ = ["cell_masses", "gibbs", "total_variation", "total_variation_null"]


def gibbs(values: ArrayLike, volume: float, beta: float = 1.0) -> Array:
    r"""The Gibbs density :math:`e^{-\beta u}/Z` of cell values :math:`u`, normalised on the cells.

    :math:`Z = \sum_c e^{-\beta u_c}\,|c|`, so that the result integrates to
    one with the cell volume :math:`|c|`.  With :math:`u = \Phi` it is the
    steady state :math:`\rho_{ss} = e^{-\beta\Phi}/Z` of eq. (6); with
    :math:`u = f` the steady state for isotropic noise (Lemma 6), and the
    minimiser of :math:`\mathbb{E}_\rho[f] - \beta^{-1}H(\rho)`.  The values
    are shifted by their minimum first, so that a low temperature does not
    underflow.

    Parameters
    ----------
    values : array_like
        :math:`u` at the cells (any shape), finite.
    volume : float
        Cell volume :math:`|c|` (length in 1-D, area in 2-D), > 0.
    beta : float, default 1.0
        Inverse temperature, > 0.

    Returns
    -------
    ndarray, shape of ``values``

    Examples
    --------
    >>> gibbs([0.0, np.log(2.0)], volume=0.5)
    array([1.33333333, 0.66666667])
    """
    u = np.asarray(values, dtype=float)
    if u.size == 0 or not np.all(np.isfinite(u)):
        raise ValueError("values must be a non-empty array of finite numbers")
    volume = check.positive_scalar("volume", volume)
    rho = np.exp(-check.positive_scalar("beta", beta) * (u - u.min()))
    return rho / (rho.sum() * volume)


def cell_masses(log_density: Callable[[Array], ArrayLike], x_edges: ArrayLike,
                y_edges: ArrayLike, order: int = 10) -> Array:
    r"""Probability of each cell of a 2-D histogram under a density.

    Each cell integral :math:`\int_{cell} e^{\log p(x)}dx` is computed by
    tensor Gauss-Legendre quadrature of the given order, exact to round-off
    for the smooth densities of the course.

    Parameters
    ----------
    log_density : callable
        Normalised :math:`\log p`, vectorised over points ``(..., 2)``.
    x_edges, y_edges : array_like
        Increasing bin edges.
    order : int, default 10
        Quadrature nodes per axis and cell.

    Returns
    -------
    ndarray, shape (len(x_edges) - 1, len(y_edges) - 1)
    """
    ex, ey = (np.asarray(e, dtype=float) for e in (x_edges, y_edges))
    for name, e in (("x_edges", ex), ("y_edges", ey)):
        if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
            raise ValueError(f"{name} must be an increasing 1-D array of at least 2 edges")
    nodes, weights = np.polynomial.legendre.leggauss(check.positive_int("order", order))

    def scaled(e: Array) -> tuple[Array, Array]:
        half = np.diff(e)[:, None] / 2.0
        return (e[:-1, None] + half * (nodes + 1.0)), half * weights

    px, wx = scaled(ex)
    py, wy = scaled(ey)
    pts = np.stack(np.broadcast_arrays(px[:, None, :, None], py[None, :, None, :]), axis=-1)
    vals = np.exp(np.asarray(log_density(pts), dtype=float))
    return np.einsum("abij,ai,bj->ab", vals, wx, wy)


def total_variation(samples: ArrayLike, masses: ArrayLike, x_edges: ArrayLike,
                    y_edges: ArrayLike) -> float:
    r"""Total-variation distance between the empirical law of ``samples`` and ``masses``.

    :math:`\tfrac12\sum_{cells}|\hat p - p|`, with the mass outside the
    histogram's box counted as one more cell on both sides.

    Parameters
    ----------
    samples : array_like, shape (n, 2)
    masses : array_like, shape (nx, ny)
        Exact cell probabilities, e.g. from :func:`cell_masses`.
    x_edges, y_edges : array_like
        The edges that ``masses`` was computed on.
    """
    samples = check.points("samples", samples, 2).reshape(-1, 2)
    masses = np.asarray(masses, dtype=float)
    bins = [np.asarray(e, dtype=float) for e in (x_edges, y_edges)]
    counts, _, _ = np.histogram2d(samples[:, 0], samples[:, 1], bins=bins)
    if counts.shape != masses.shape:
        raise ValueError(f"masses must have shape {counts.shape}, got {masses.shape}")
    p_hat = counts / len(samples)
    outside = abs((1.0 - p_hat.sum()) - (1.0 - masses.sum()))
    return 0.5 * float(np.abs(p_hat - masses).sum() + outside)


def total_variation_null(masses: ArrayLike, n: int, n_draws: int = 1000,
                         rng: int | np.random.Generator | None = None) -> Array:
    """Total-variation distances of exact samples of size ``n`` from ``masses``.

    The law of :func:`total_variation` when the samples really are drawn
    from the density, by multinomial draws: the yardstick that a simulated
    histogram is measured against.

    Returns
    -------
    ndarray, shape (n_draws,)
    """
    masses = np.asarray(masses, dtype=float).ravel()
    p = np.append(masses, max(0.0, 1.0 - masses.sum()))
    n = check.positive_int("n", n)
    counts = np.random.default_rng(rng).multinomial(n, p / p.sum(), size=n_draws)
    return 0.5 * np.abs(counts / n - p).sum(axis=1)
