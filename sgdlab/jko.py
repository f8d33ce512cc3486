r"""The JKO scheme (Corollary 8) in one dimension, through quantile functions.

For :math:`D = I` the Fokker-Planck equation is the gradient flow, in the
Wasserstein metric :math:`W_2`, of
:math:`F(\rho) = \mathbb{E}_\rho[f] - \beta^{-1}H(\rho)` (Corollary 8).  Its
time discretisation by Jordan, Kinderlehrer and Otto is the minimising
movement

.. math::
    \rho_{k+1} = \arg\min_\rho \frac{1}{2\tau} W_2^2(\rho, \rho_k) + F(\rho).

In one dimension a law is its quantile function :math:`X(u)`,
:math:`u\in(0,1)`, and :math:`W_2^2(\rho, \sigma) = \int_0^1 (X - Y)^2 du`, so
one step is an unconstrained minimisation over increasing functions: with
:math:`X` sampled at the levels :math:`u_m = (m - 1/2)/M`,

.. math::
    \frac{1}{2\tau M}\sum_m (X_m - Y_m)^2 + \frac1M\sum_m f(X_m)
    - \frac{\beta^{-1}}{M}\sum_{m<M}\log\big(M\,(X_{m+1} - X_m)\big),

the last sum being :math:`\int\rho\log\rho = -\int_0^1\log X'(u)\,du`.
Monotonicity is built in by writing :math:`X_{m+1} - X_m = e^{s_m}`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from sgdlab import _validation as check
from sgdlab.grid import CellGrid

Array = NDArray[np.float64]
Scalar1D = Callable[[Array], ArrayLike]


def levels(m: int) -> Array:
    """The quantile levels :math:`u_m = (m - 1/2)/M`, ``m = 1..M``."""
    m = check.positive_int("m", m)
    return (np.arange(m) + 0.5) / m


def w2_quantiles(x: ArrayLike, y: ArrayLike) -> float:
    r""":math:`W_2` between two 1-D laws given by their quantiles at the same levels.

    :math:`W_2^2 = \int_0^1 (X(u) - Y(u))^2 du`, by the midpoint rule on the
    levels of :func:`levels`; for two sets of :math:`M` equally weighted
    particles it is the exact :math:`W_2` between their empirical laws.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"y must be 1-D with the shape of x {x.shape}, got {y.shape}")
    return float(np.sqrt(np.mean((x - y) ** 2)))


def density_quantiles(rho: ArrayLike, grid: CellGrid, u: ArrayLike) -> Array:
    r"""Quantiles :math:`X(u)` of a piecewise-constant cell density on a 1-D grid.

    The distribution function of a piecewise-constant density is piecewise
    linear between the cell edges, so linear interpolation inverts it exactly.
    """
    if not isinstance(grid, CellGrid) or grid.dim != 1:
        raise ValueError("grid must be a 1-D CellGrid")
    rho = np.asarray(rho, dtype=float)
    if rho.shape != grid.shape or rho.min() < 0 or not np.all(np.isfinite(rho)):
        raise ValueError(f"rho must be a non-negative density of shape {grid.shape}")
    cdf = np.concatenate([[0.0], np.cumsum(rho)]) * grid.volume
    cdf /= cdf[-1]
    return np.interp(np.asarray(u, dtype=float), cdf, grid.edges[0])


def jko_step(y: ArrayLike, tau: float, beta: float, f: Scalar1D, grad_f: Scalar1D) -> Array:
    r"""One JKO step (Corollary 8) from the law with quantiles ``y``.

    Parameters
    ----------
    y : array_like, shape (M,)
        Increasing quantiles of :math:`\rho_k` at the levels of :func:`levels`.
    tau : float
        Time step :math:`\tau > 0`.
    beta : float
        Inverse temperature :math:`\beta > 0`.
    f, grad_f : callable
        The loss and its derivative, vectorised over 1-D arrays.

    Returns
    -------
    ndarray, shape (M,)
        Quantiles of :math:`\rho_{k+1}`, the minimiser of the JKO functional.
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 1 or y.size < 3 or not np.all(np.diff(y) > 0):
        raise ValueError("y must be a strictly increasing 1-D array of at least 3 quantiles")
    tau = check.positive_scalar("tau", tau)
    beta = check.positive_scalar("beta", beta)
    m = y.size

    def unpack(p: Array) -> Array:
        return p[0] + np.concatenate([[0.0], np.cumsum(np.exp(p[1:]))])

    def objective(p: Array) -> tuple[float, Array]:
        x = unpack(p)
        gaps = np.exp(p[1:])
        value = (np.sum((x - y) ** 2) / (2 * tau) + np.sum(f(x))
                 - np.sum(np.log(m * gaps)) / beta) / m
        dx = ((x - y) / tau + np.asarray(grad_f(x), dtype=float)) / m
        # x_k = p_0 + sum_{i<k} e^{p_i}: d/dp_0 = sum_k dx_k, d/dp_i = e^{p_i} sum_{k>i} dx_k
        tail = np.cumsum(dx[::-1])[::-1]
        grad = np.concatenate([[tail[0]], gaps * tail[1:] - 1.0 / (beta * m)])
        return float(value), grad

    p0 = np.concatenate([[y[0]], np.log(np.diff(y))])
    res = optimize.minimize(objective, p0, jac=True, method="L-BFGS-B",
                            options={"maxiter": 10_000, "ftol": 1e-15, "gtol": 1e-11})
    if not np.all(np.isfinite(res.x)):
        raise ValueError("the JKO minimisation diverged; reduce tau")
    return unpack(res.x)


def jko_flow(y0: ArrayLike, tau: float, n_steps: int, beta: float, f: Scalar1D,
             grad_f: Scalar1D) -> Array:
    r"""``n_steps`` JKO steps from quantiles ``y0`` (see :func:`jko_step`).

    Returns
    -------
    ndarray, shape (n_steps + 1, M)
        The quantiles of :math:`\rho_0, \rho_1, \dots`.
    """
    n_steps = check.positive_int("n_steps", n_steps)
    out = [np.asarray(y0, dtype=float)]
    for _ in range(n_steps):
        out.append(jko_step(out[-1], tau, beta, f, grad_f))
    return np.stack(out)
