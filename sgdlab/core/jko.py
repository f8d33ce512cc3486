r"""The JKO scheme (Corollary 8): exact in 1-D by quantiles, entropic in 2-D.

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

In 2-D, on a cell grid, :func:`entropic_jko_step` replaces :math:`W_2^2` by
its entropic regularisation (Peyré 2015) and solves each step by log-domain
scaling iterations; :func:`w2_grid` is the exact :math:`W_2` between cell
densities.  With :math:`\epsilon = \alpha\tau` the entropic scheme converges
to (FP) with an added linear diffusion (Baradat, Hraivoronska and
Santambrogio 2025), here the raised temperature :math:`\beta^{-1} + \alpha/4`;
to (FP) itself when
:math:`\epsilon/\tau \to 0`, e.g. :math:`\epsilon \propto \tau^2` with the
cell width :math:`h \propto \tau`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import ot
from numpy.typing import ArrayLike
from scipy import optimize, stats

from sgdlab import _validation as check
from sgdlab._typing import Array
from sgdlab.core.grid import CellGrid
from sgdlab.core.timeseries import TimeSeries

__all__ = ["convergence_order", "density_quantiles", "entropic_jko_flow", "entropic_jko_step",
           "jko_flow", "jko_step", "levels", "w2_grid", "w2_quantiles"]

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
             grad_f: Scalar1D) -> TimeSeries:
    r"""``n_steps`` JKO steps from quantiles ``y0`` (see :func:`jko_step`).

    Returns
    -------
    TimeSeries
        Times ``t = k * tau``, ``k = 0..n_steps``, and the quantiles ``x`` of
        :math:`\rho_0, \rho_1, \dots` at the levels of :func:`levels`, shape
        ``(n_steps + 1, M)``.
    """
    n_steps = check.positive_int("n_steps", n_steps)
    out = [np.asarray(y0, dtype=float)]
    for _ in range(n_steps):
        out.append(jko_step(out[-1], tau, beta, f, grad_f))
    return TimeSeries(t=np.arange(n_steps + 1, dtype=float) * tau, x=np.stack(out))


def entropic_jko_step(rho: ArrayLike, grid: CellGrid, tau: float, beta: float,
                      f_cells: ArrayLike, eps: float, tol: float = 1e-9,
                      max_iter: int = 20_000) -> Array:
    r"""One entropic JKO step (Corollary 8) on a 2-D cell grid, after Peyré (2015).

    The transport term of (JKO) is replaced by its entropic regularisation
    :math:`W_\epsilon^2(\rho_k, \rho) = \min_\pi \langle C, \pi\rangle
    + \epsilon\sum\pi(\log\pi - 1)` over couplings of the cell masses, with
    :math:`C` the squared Euclidean cost between cell centres (``ot.dist``).
    With :math:`K = e^{-C/\epsilon}` and :math:`\lambda = 2\tau/\epsilon` a step
    is :math:`\min_\pi KL(\pi|K) + \lambda F(\pi^\top 1)` with
    :math:`\pi 1 = \rho_k`, solved by the scaling iterations
    :math:`a = \rho_k / Kb`, :math:`b = \mathrm{prox}^{KL}_{\lambda F}(K^\top a)
    / K^\top a`, where for :math:`F(q) = \sum_j q_j f_j + \beta^{-1}\sum_j q_j\log q_j`
    the proximal map is :math:`(z e^{-\lambda f})^{1/(1 + \lambda/\beta)}`
    (up to a constant factor, which the mass constraint absorbs).  The kernel
    of a product grid factorises, :math:`K = K_1\otimes K_2`, so one
    iteration costs a few small matrix products.  The iterations run on
    :math:`\log a, \log b` (log-domain stabilisation): each factor of
    :math:`K` is applied to :math:`e^{\log b - m}` with :math:`m` the maximum
    along the summed axis, so that neither the scalings nor
    :math:`e^{-C/\epsilon}` overflow for small :math:`\epsilon`.

    The regularisation blurs each step: a conditional spread of variance
    :math:`\epsilon/2` per axis, roughly an extra temperature
    :math:`\epsilon/(4\tau)` added to :math:`\beta^{-1}`.  The scheme therefore
    converges to (FP) when :math:`\epsilon/\tau\to 0`, e.g.
    :math:`\epsilon\propto\tau^2`, with :math:`\epsilon \gtrsim h^2` (:math:`h`
    the cell width) so that the grid resolves the blur; with
    :math:`\epsilon \ll h^2` mass cannot move less than a cell and the steps
    stall.

    Parameters
    ----------
    rho : array_like, shape grid.shape
        Density :math:`\rho_k` on the cells (>= 0, positive mass; normalised).
    grid : CellGrid
        A 2-D cell grid.
    tau, beta, eps : float
        Time step, inverse temperature and entropic regularisation, all > 0.
    f_cells : array_like, shape grid.shape
        The loss :math:`f` at the cell centres.
    tol : float, default 1e-9
        Stop when the first marginal of :math:`\pi` matches the cell masses of
        :math:`\rho_k` to ``tol`` in :math:`\ell^1`.
    max_iter : int, default 20000

    Returns
    -------
    ndarray, shape grid.shape
        The density :math:`\rho_{k+1}`, of unit mass; positive wherever
        :math:`e^{-C/\epsilon}` connects the cell to the support of
        :math:`\rho_k` in floating point.

    Raises
    ------
    ValueError
        On bad input, or if the iterations do not reach ``tol`` (increase
        ``eps`` or ``max_iter``) or lose all precision.

    Notes
    -----
    One step is the semi-relaxed unbalanced problem that
    ``ot.unbalanced.sinkhorn_unbalanced(rho_k, exp(-beta f), C, eps,
    (inf, 2 tau / beta), reg_type="entropy")`` solves with the dense kernel
    (:math:`F(q) = \beta^{-1}KL(q|e^{-\beta f})` + const at unit mass); the
    tests check that the two agree to round-off.
    """
    if not isinstance(grid, CellGrid) or grid.dim != 2:
        raise ValueError("grid must be a 2-D CellGrid")
    rho = np.asarray(rho, dtype=float)
    if (rho.shape != grid.shape or not np.all(np.isfinite(rho)) or rho.min() < 0
            or rho.sum() <= 0):
        raise ValueError(f"rho must be a non-negative density of shape {grid.shape}")
    f_cells = np.asarray(f_cells, dtype=float)
    if f_cells.shape != grid.shape or not np.all(np.isfinite(f_cells)):
        raise ValueError(f"f_cells must be finite of shape {grid.shape}")
    tau = check.positive_scalar("tau", tau)
    beta = check.positive_scalar("beta", beta)
    eps = check.positive_scalar("eps", eps)
    tol = check.positive_scalar("tol", tol)
    max_iter = check.positive_int("max_iter", max_iter)
    p = rho / rho.sum()
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
    k1, k2 = (np.exp(-ot.dist(c[:, None], c[:, None]) / eps) for c in grid.centres)
    lam = 2.0 * tau / eps
    power = 1.0 / (1.0 + lam / beta)
    log_gibbs = -lam * (f_cells - f_cells.min())
    log_kb = _log_apply(k1, k2, np.zeros_like(p))                  # b = 1
    for _ in range(max_iter):
        log_a = np.where(p > 0, log_p - log_kb, -np.inf)
        log_z = _log_apply(k1, k2, log_a)
        log_q = power * (log_z + log_gibbs)
        with np.errstate(invalid="ignore"):
            log_b = np.where(np.isneginf(log_z), -np.inf, log_q - log_z)   # q = 0 where z = 0
        if np.isnan(log_b).any() or np.isposinf(log_b).any():
            raise ValueError("the scaling iterations lost all precision; increase eps")
        log_kb = _log_apply(k1, k2, log_b)
        if np.abs(np.exp(log_a + log_kb) - p).sum() < tol:        # first marginal of pi
            q = np.exp(log_q - log_q.max())
            return q / (q.sum() * grid.volume)
    raise ValueError(f"the scaling iterations did not reach tol in {max_iter} steps; "
                     "increase eps or max_iter")


def _log_apply(k1: Array, k2: Array, log_v: Array) -> Array:
    r""":math:`\log(K_1 e^{v} K_2)` for symmetric factors, stabilised along each summed axis."""
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.max(log_v, axis=1, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        t = m + np.log(np.exp(log_v - m) @ k2)
        m = np.max(t, axis=0, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        return m + np.log(k1 @ np.exp(t - m))


def entropic_jko_flow(rho0: ArrayLike, grid: CellGrid, tau: float, n_steps: int, beta: float,
                      f_cells: ArrayLike, eps: float, tol: float = 1e-9) -> TimeSeries:
    r"""``n_steps`` entropic JKO steps from ``rho0`` (see :func:`entropic_jko_step`).

    Returns
    -------
    TimeSeries
        Times ``t = k * tau``, ``k = 0..n_steps``, and the densities ``x`` of
        :math:`\rho_0, \rho_1, \dots` (unit mass), shape ``(n_steps + 1,) + grid.shape``.
    """
    n_steps = check.positive_int("n_steps", n_steps)
    rho0 = np.asarray(rho0, dtype=float)
    out = [rho0 / (rho0.sum() * grid.volume)]
    for _ in range(n_steps):
        out.append(entropic_jko_step(out[-1], grid, tau, beta, f_cells, eps, tol))
    return TimeSeries(t=np.arange(n_steps + 1, dtype=float) * tau, x=np.stack(out))


def w2_grid(rho: ArrayLike, sigma: ArrayLike, grid: CellGrid) -> float:
    r"""Exact :math:`W_2` between two cell densities (masses at the centres), by ``ot.emd2``."""
    x = grid.points.reshape(-1, grid.dim)
    a, b = (np.asarray(r, dtype=float).ravel() for r in (rho, sigma))
    if a.size != x.shape[0] or b.size != x.shape[0]:
        raise ValueError(f"rho and sigma must have shape {grid.shape}")
    return float(np.sqrt(max(ot.emd2(a / a.sum(), b / b.sum(), ot.dist(x, x)), 0.0)))


def convergence_order(steps: ArrayLike, errors: ArrayLike, confidence: float = 0.99
                      ) -> tuple[float, float, float]:
    r"""Order of convergence fitted on log-log axes, with its confidence interval.

    The ordinary least-squares slope :math:`p` of :math:`\log e` against
    :math:`\log\tau` (``scipy.stats.linregress``), and the interval
    :math:`p \pm t_{(1+c)/2,\,n-2}\,\mathrm{se}(p)` of the Student law with
    :math:`n - 2` degrees of freedom.  The scatter of the points about the
    line (the higher-order terms of the error) plays the part of the noise;
    with few step sizes the interval is wide (with three, :math:`t` has one
    degree of freedom, :math:`t_{0.995,1} = 63.7`).

    Parameters
    ----------
    steps : array_like, shape (n,)
        Step sizes :math:`\tau`, positive, n >= 3.
    errors : array_like, shape (n,)
        Errors at those steps, positive.
    confidence : float, default 0.99
        Level of the interval, in (0, 1).

    Returns
    -------
    order, low, high : float

    Examples
    --------
    >>> tau = np.array([0.2, 0.1, 0.05])
    >>> order, low, high = convergence_order(tau, tau * (1 + tau))
    >>> round(order, 3), bool(low < 1 < high)
    (1.096, True)
    """
    tau = np.asarray(steps, dtype=float)
    err = np.asarray(errors, dtype=float)
    if tau.ndim != 1 or tau.size < 3 or err.shape != tau.shape:
        raise ValueError("steps and errors must be 1-D arrays of the same length >= 3")
    if not (np.all(np.isfinite(tau)) and np.all(np.isfinite(err))
            and np.all(tau > 0) and np.all(err > 0)):
        raise ValueError("steps and errors must be finite and positive")
    if np.unique(tau).size < 2:
        raise ValueError("steps must not all be equal")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    fit = stats.linregress(np.log(tau), np.log(err))
    half = float(stats.t.ppf((1 + confidence) / 2, tau.size - 2)) * float(fit.stderr)
    return float(fit.slope), float(fit.slope) - half, float(fit.slope) + half
