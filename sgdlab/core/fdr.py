r"""Yaida's first fluctuation-dissipation relation (FDR1) for SGD with momentum.

The course trains with PyTorch's momentum: :math:`v_{k+1} = \mu v_k + g_k` and
:math:`x_{k+1} = x_k - \eta v_{k+1}` (heavy ball), or
:math:`x_{k+1} = x_k - \eta(g_k + \mu v_{k+1})` (Nesterov), with :math:`g_k` the
mini-batch gradient at :math:`x_k` and :math:`v_0 = 0`.  Yaida (2018) derives
FDR1 from the stationarity of :math:`\langle|x|^2\rangle`; for these updates it
reads, with :math:`v = v_k` and :math:`g = g_k` at the same step,

.. math::
    \langle x\cdot g\rangle = \tfrac\eta2\big\langle |g|^2 + 2\mu(1-\nu)\,v\cdot g
    + \mu(1+\mu)|v|^2\big\rangle,

:math:`\nu = 1` for Nesterov and 0 for the heavy ball (:func:`fdr1_rhs`).  The
relation holds along every path up to a telescoping term,
:math:`x_k\cdot g_k - R_k = Q_k - Q_{k+1}` with
:math:`Q_k = (|y_k|^2 - \mu|y_{k-1}|^2)/2\eta`, :math:`y = x` (heavy ball) or
:math:`y = x + \eta\mu v` (Nesterov) and :math:`y_{-1} = y_0`
(:func:`fdr1_boundary`): a time average of the two sides differs by the drift
of :math:`Q \approx (1-\mu)|x|^2/2\eta` over the window, divided by its length.

On a quadratic with additive noise (:class:`~sgdlab.core.sgd.CentredQuadratic`)
the stationary law of :math:`(x - x^*, v)` solves a discrete Lyapunov equation
(:func:`momentum_covariance`), and :func:`exact_fdr1` gives both sides exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from sgdlab import _validation as check
from sgdlab._typing import Array
from sgdlab.core.minibatch import sample_batches
from sgdlab.core.sgd import CentredQuadratic, _momentum

__all__ = ["FDR1Series", "batch_means", "exact_fdr1", "fdr1_boundary", "fdr1_rhs",
           "momentum_covariance", "simulate_fdr1"]


def _transition(hessian: Array, eta: float, momentum: float, nesterov: bool
                ) -> tuple[Array, Array]:
    r""":math:`(A, B)` of :math:`s_{k+1} = As_k + B\xi_k`, :math:`s = (x - x^*, v)`."""
    eye = np.eye(hessian.shape[0])
    lead, lag = (1.0 + momentum, momentum**2) if nesterov else (1.0, momentum)
    a = np.block([[eye - eta * lead * hessian, -eta * lag * eye], [hessian, momentum * eye]])
    b = np.vstack([-eta * lead * eye, eye])
    if np.abs(np.linalg.eigvals(a)).max() >= 1:
        raise ValueError(f"eta = {eta:g} with momentum {momentum:g} is too large: SGD does not "
                         "converge on this Hessian")
    return a, b


def momentum_covariance(hessian: ArrayLike, noise_cov: ArrayLike, eta: float,
                        momentum: float = 0.0, nesterov: bool = False) -> Array:
    r"""Exact stationary covariance of :math:`(x - x^*, v)` for SGD with PyTorch's momentum.

    On a quadratic with gradient :math:`g_k = H(x_k - x^*) + \xi_k`, i.i.d. zero-mean
    :math:`\xi_k` of covariance :math:`C`, the state :math:`s = (x - x^*, v)`
    follows :math:`s_{k+1} = As_k + B\xi_k` with
    :math:`A = \begin{pmatrix} I - \eta H & -\eta\mu I\\ H & \mu I\end{pmatrix}`,
    :math:`B = (-\eta I, I)^\top` (heavy ball) or
    :math:`A = \begin{pmatrix} I - \eta(1+\mu)H & -\eta\mu^2 I\\ H & \mu I\end{pmatrix}`,
    :math:`B = (-\eta(1+\mu)I, I)^\top` (Nesterov); the covariance solves
    :math:`\Sigma = A\Sigma A^\top + BCB^\top` (SciPy's ``solve_discrete_lyapunov``).
    Its first block is :func:`sgdlab.core.sgd.heavy_ball_covariance` for the heavy ball.

    Parameters
    ----------
    hessian : array_like, shape (d, d)
    noise_cov : array_like, shape (d, d)
        :math:`C`, e.g. :meth:`~sgdlab.core.sgd.CentredQuadratic.noise_cov`.
    eta : float
        Learning rate, > 0; :math:`A` must have spectral radius < 1.
    momentum : float, default 0
        :math:`\mu` in [0, 1).
    nesterov : bool, default False

    Returns
    -------
    ndarray, shape (2d, 2d)
        Blocks :math:`\Sigma_{xx}, \Sigma_{xv}; \Sigma_{vx}, \Sigma_{vv}`.
    """
    h = check.square_matrix("hessian", hessian)
    c = check.psd_matrix("noise_cov", noise_cov, h.shape[0])
    a, b = _transition(h, check.positive_scalar("eta", eta), _momentum(momentum), bool(nesterov))
    # scipy-stubs type the solution as floating of any precision; it is float64 here
    out: Array = scipy.linalg.solve_discrete_lyapunov(a, b @ c @ b.T)  # type: ignore[assignment]
    return out


def fdr1_rhs(g_sq: ArrayLike, v_dot_g: ArrayLike, v_sq: ArrayLike, eta: float,
             momentum: float = 0.0, nesterov: bool = False) -> Array:
    r"""The right side of FDR1 at one step, :math:`\tfrac\eta2(|g|^2 + 2\mu(1-\nu)v\cdot g
    + \mu(1+\mu)|v|^2)`.

    Yaida (2018), eq. (FDR1) for plain SGD (:math:`\mu = 0`:
    :math:`\tfrac\eta2|g|^2`), derived here for PyTorch's heavy ball
    (:math:`\nu = 0`) and Nesterov (:math:`\nu = 1`) momentum; at stationarity its
    mean is :math:`\langle x\cdot g\rangle`.  Elementwise; NaN propagates.

    Parameters
    ----------
    g_sq, v_dot_g, v_sq : array_like
        :math:`|g_k|^2`, :math:`v_k\cdot g_k`, :math:`|v_k|^2`, with :math:`v_k` the
        momentum before step ``k`` and :math:`g_k` the gradient it uses.
    eta : float
    momentum : float, default 0
    nesterov : bool, default False
    """
    eta = check.positive_scalar("eta", eta)
    mu = _momentum(momentum)
    cross = 0.0 if nesterov else 2.0 * mu
    return 0.5 * eta * (np.asarray(g_sq, dtype=float) + cross * np.asarray(v_dot_g, dtype=float)
                        + mu * (1.0 + mu) * np.asarray(v_sq, dtype=float))


def fdr1_boundary(y_sq: ArrayLike, eta: float, momentum: float = 0.0) -> Array:
    r""":math:`Q_k = (|y_k|^2 - \mu|y_{k-1}|^2)/2\eta`, whose decrease is the FDR1 residual.

    :math:`x_k\cdot g_k - R_k = Q_k - Q_{k+1}` exactly at every step (module
    docstring), with :math:`R_k` = :func:`fdr1_rhs`.

    Parameters
    ----------
    y_sq : array_like, shape (n + 1, ...)
        :math:`|y_k|^2` for :math:`k = 0..n` along the first axis (:math:`y = x`
        for the heavy ball, :math:`x + \eta\mu v` for Nesterov), from the start
        (:math:`v_0 = 0`, so :math:`y_{-1} = y_0`).
    eta : float
    momentum : float, default 0

    Returns
    -------
    ndarray, shape (n + 1, ...)
    """
    y = np.asarray(y_sq, dtype=float)
    if y.ndim < 1 or len(y) < 2:
        raise ValueError(f"y_sq must hold at least two steps along its first axis, got {y.shape}")
    previous = np.concatenate([y[:1], y[:-1]])
    return (y - _momentum(momentum) * previous) / (2.0 * check.positive_scalar("eta", eta))


def exact_fdr1(hessian: ArrayLike, noise_cov: ArrayLike, eta: float, momentum: float = 0.0,
               nesterov: bool = False) -> tuple[float, float]:
    r"""Both sides of FDR1 at stationarity on a quadratic, from :func:`momentum_covariance`.

    With :math:`g = He + \xi`: :math:`\langle x\cdot g\rangle = \operatorname{tr}H\Sigma_{xx}`
    and :math:`\langle|g|^2\rangle = \operatorname{tr}H\Sigma_{xx}H + \operatorname{tr}C`,
    :math:`\langle v\cdot g\rangle = \operatorname{tr}H\Sigma_{xv}`,
    :math:`\langle|v|^2\rangle = \operatorname{tr}\Sigma_{vv}`, put into :func:`fdr1_rhs`.

    Returns
    -------
    lhs, rhs : float
        Equal to round-off when the derivation is right.
    """
    h = check.square_matrix("hessian", hessian)
    c = check.psd_matrix("noise_cov", noise_cov, h.shape[0])
    sigma = momentum_covariance(h, c, eta, momentum, nesterov)
    d = h.shape[0]
    xx, xv, vv = sigma[:d, :d], sigma[:d, d:], sigma[d:, d:]
    rhs = fdr1_rhs(np.trace(h @ xx @ h) + np.trace(c), np.trace(h @ xv), np.trace(vv), eta,
                   momentum, nesterov)
    return float(np.trace(h @ xx)), float(rhs)


@dataclass(frozen=True)
class FDR1Series:
    r"""Per-step observables of FDR1 along SGD chains (:func:`simulate_fdr1`).

    Attributes
    ----------
    x_dot_g : ndarray, shape (n_steps, n_chains)
        :math:`x_k\cdot g_k`.
    rhs : ndarray, shape (n_steps, n_chains)
        :math:`R_k`, :func:`fdr1_rhs`.
    y_sq : ndarray, shape (n_steps + 1, n_chains)
        :math:`|y_k|^2` for :func:`fdr1_boundary`.
    """

    x_dot_g: Array
    rhs: Array
    y_sq: Array


def simulate_fdr1(quadratic: CentredQuadratic, eta: float, b: int, n_steps: int,
                  n_chains: int, *, momentum: float = 0.0, nesterov: bool = False,
                  x0: ArrayLike | None = None, rng: int | np.random.Generator | None = None
                  ) -> FDR1Series:
    r"""Run momentum SGD on a :class:`~sgdlab.core.sgd.CentredQuadratic`, recording FDR1's terms.

    PyTorch's update (module docstring), batches of ``b`` drawn with replacement,
    ``v_0 = 0``.

    Parameters
    ----------
    quadratic : CentredQuadratic
    eta : float
    b : int
    n_steps, n_chains : int
    momentum : float, default 0
    nesterov : bool, default False
    x0 : array_like, shape (d,), optional
        Start of every chain; the minimum by default.
    rng : int or numpy.random.Generator, optional
    """
    eta = check.positive_scalar("eta", eta)
    mu = _momentum(momentum)
    n_steps = check.positive_int("n_steps", n_steps)
    n_chains = check.positive_int("n_chains", n_chains)
    d = quadratic.hessian.shape[0]
    start = quadratic.minimum if x0 is None else check.points("x0", x0, d)
    x = np.tile(start, (n_chains, 1)).astype(float)
    v = np.zeros_like(x)
    batches = sample_batches(len(quadratic.centres), b, (n_steps, n_chains), True,
                             np.random.default_rng(rng))
    out = np.empty((4, n_steps, n_chains))                 # x.g, |g|^2, v.g, |v|^2
    y_sq = np.empty((n_steps + 1, n_chains))
    y_sq[0] = np.sum(x * x, axis=1)
    for k, idx in enumerate(batches):
        g = quadratic.batch_grad(x, idx)
        out[:, k] = np.einsum("ncd,ncd->nc", [x, g, v, v], [g, g, g, v])
        v = mu * v + g
        x = x - eta * (g + mu * v if nesterov else v)
        y = x + eta * mu * v if nesterov else x
        y_sq[k + 1] = np.sum(y * y, axis=1)
    if not np.all(np.isfinite(x)):
        raise ValueError("SGD diverged; reduce eta")
    return FDR1Series(x_dot_g=out[0], rhs=fdr1_rhs(out[1], out[2], out[3], eta, mu, nesterov),
                      y_sq=y_sq)


def batch_means(series: ArrayLike, n_batches: int = 10) -> tuple[float, float]:
    r"""Mean of a stationary series and its standard error by batch means.

    The series (time first; further axes: independent chains) is cut into
    ``n_batches`` consecutive batches per chain; the standard error is the
    standard deviation of the :math:`m` batch means over :math:`\sqrt m`, valid
    when a batch is much longer than the correlation time (Flegal & Jones 2010).

    Parameters
    ----------
    series : array_like, shape (n,) or (n, n_chains)
    n_batches : int, default 10
        Per chain, >= 2 in all; ``n`` must be at least ``n_batches``.

    Returns
    -------
    mean, standard_error : float
    """
    x = np.asarray(series, dtype=float)
    n_batches = check.positive_int("n_batches", n_batches)
    if x.ndim not in (1, 2) or len(x) < n_batches:
        raise ValueError(f"series must be (n,) or (n, n_chains) with n >= n_batches = "
                         f"{n_batches}, got shape {x.shape}")
    x = x.reshape(len(x), -1)
    length = len(x) // n_batches
    means = x[:length * n_batches].reshape(n_batches, length, -1).mean(axis=1).ravel()
    if means.size < 2:
        raise ValueError("batch_means needs at least two batches in all")
    return float(x[:length * n_batches].mean()), float(means.std(ddof=1) / np.sqrt(means.size))
