"""Deterministic flows and what long trajectories do.

The noise-free part of SGD's continuous-time limit is the flow
:math:`\\dot x = -\\nabla f(x)`; Lemma 7 and Fig. 4c concern what it does over
long times when :math:`\\nabla f` has a rotating part :math:`j`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate, optimize, stats

from sgdlab import _validation as check
from sgdlab._typing import Array
from sgdlab.core.timeseries import TimeSeries

__all__ = ["PowerLaw", "ReturnMap", "descent_flow", "radial_decay", "return_map",
           "winding_rate"]


def descent_flow(
    grad: Callable[[Array], ArrayLike],
    x0: ArrayLike,
    t_max: float,
    *,
    n_eval: int = 2000,
    log_times: bool = False,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> TimeSeries:
    r"""Integrate the noise-free flow :math:`\dot x = -\nabla f(x)`.

    An 8th-order Runge-Kutta method (:func:`scipy.integrate.solve_ivp`,
    ``DOP853``) with tight tolerances, so that slow drifts over long times are
    resolved rather than produced by the integrator.  Several starting points
    are integrated together as one system, one vectorised call of ``grad``
    per stage.

    Parameters
    ----------
    grad : callable
        :math:`\nabla f`, vectorised: points ``(..., d)`` to ``(..., d)``.
    x0 : array_like, shape (d,) or (n, d)
        Starting point, or ``n`` of them.
    t_max : float
        Final time, > 0.
    n_eval : int, default 2000
        Number of output times.
    log_times : bool, default False
        Space output times logarithmically in ``[1, t_max]`` (after ``t = 0``),
        to look at power laws.
    rtol, atol : float
        Integrator tolerances.

    Returns
    -------
    TimeSeries
        The output times ``t``, shape ``(n_eval,)``, and the points ``x`` on the flow
        at those times, shape ``(n_eval, d)`` or ``(n_eval, n, d)``, like ``x0``.
    """
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim not in (1, 2):
        raise ValueError(f"x0 must have shape (d,) or (n, d), got {x0.shape}")
    x0 = check.points("x0", x0, x0.shape[-1])
    t_max = check.positive_scalar("t_max", t_max)
    n_eval = check.positive_int("n_eval", n_eval)
    if log_times:
        if t_max <= 1.0:
            raise ValueError(f"t_max must exceed 1 with log_times, got {t_max:g}")
        t_eval = np.concatenate([[0.0], np.geomspace(1.0, t_max, n_eval - 1)])
    else:
        t_eval = np.linspace(0.0, t_max, n_eval)
    shape = x0.shape

    def rhs(_: float, y: Array) -> Array:
        return -np.asarray(grad(y.reshape(shape)), dtype=float).ravel()

    sol = integrate.solve_ivp(rhs, (0.0, t_max), x0.ravel(), method="DOP853", t_eval=t_eval,
                              rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"descent_flow failed: {sol.message}")
    return TimeSeries(t=sol.t, x=sol.y.T.reshape((len(sol.t), *shape)))


@dataclass(frozen=True)
class PowerLaw:
    """Fit of :math:`r(t) \\approx c\\,t^{p}` by least squares on log-log axes.

    Attributes
    ----------
    exponent, exponent_stderr : float
        :math:`p` and its standard error.
    prefactor : float
        :math:`c`.
    """

    exponent: float
    exponent_stderr: float
    prefactor: float


def radial_decay(t: ArrayLike, x: ArrayLike, centre: ArrayLike, t_min: float,
                 n_windows: int = 40) -> PowerLaw:
    r"""Power law of the distance of a trajectory to ``centre`` at late times.

    The trajectory may turn around the centre on an elongated orbit, so the
    distance oscillates; the fit uses its maximum over each of ``n_windows``
    logarithmically spaced windows of ``[t_min, t[-1]]``, each of which should
    span at least one turn of the orbit.  An orbit that
    settles on a limit cycle gives an exponent near 0; a focus that attracts
    at linear order, an exponential decay (a steep, curved log-log plot); a
    weakly attracting focus, :math:`p = -1/2`.

    Parameters
    ----------
    t : array_like, shape (n,)
        Times, increasing.
    x : array_like, shape (n, d)
        Trajectory.
    centre : array_like, shape (d,)
        Point whose distance is fitted.
    t_min : float
        Start of the fitted range, > 0.
    n_windows : int, default 40
        Number of windows.
    """
    t = np.asarray(t, dtype=float)
    x = check.points("x", x, np.shape(centre)[-1])
    t_min = check.positive_scalar("t_min", t_min)
    if t_min >= t[-1]:
        raise ValueError(f"t_min must be below the last time {t[-1]:g}, got {t_min:g}")
    r = np.linalg.norm(x - np.asarray(centre, dtype=float), axis=-1)
    edges = np.geomspace(t_min, t[-1], n_windows + 1)
    idx = np.searchsorted(t, edges)
    ends, peaks = [], []
    for a, b in itertools.pairwise(idx):
        if b > a:
            k = a + np.argmax(r[a:b])
            ends.append(t[k])
            peaks.append(r[k])
    fit = stats.linregress(np.log(ends), np.log(peaks))
    return PowerLaw(exponent=float(fit.slope), exponent_stderr=float(fit.stderr),
                    prefactor=float(np.exp(fit.intercept)))


def winding_rate(t: ArrayLike, x: ArrayLike) -> tuple[float, float]:
    r"""Mean angular velocity about the origin of planar trajectories.

    The angle increments between consecutive records,
    :math:`\operatorname{atan2}(x_k \times x_{k+1},\ x_k \cdot x_{k+1})`,
    are summed per particle and divided by the elapsed time.

    Parameters
    ----------
    t : array_like, shape (n_records,)
    x : array_like, shape (n_records, n_particles, 2)

    Returns
    -------
    mean, stderr : float
        Mean of the per-particle rates (radians per unit time) and its
        standard error over particles.
    """
    t = np.asarray(t, dtype=float)
    x = check.points("x", x, 2)
    if x.ndim != 3 or x.shape[0] != t.size or t.size < 2:
        raise ValueError(
            f"x must have shape (n_records, n_particles, 2) with n_records = t.size >= 2, "
            f"got {x.shape} for t of size {t.size}"
        )
    a, b = x[:-1], x[1:]
    cross = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    dot = np.einsum("...i,...i->...", a, b)
    rates = np.arctan2(cross, dot).sum(axis=0) / (t[-1] - t[0])
    return float(rates.mean()), float(rates.std(ddof=1) / np.sqrt(rates.size))


@dataclass(frozen=True)
class ReturnMap:
    r"""First-return (Poincaré) map of a planar flow on the half-axis :math:`x_2 = 0,\ x_1 > 0`.

    Attributes
    ----------
    r : ndarray, shape (n,)
        Starting points :math:`(r, 0)` on the half-axis.
    image : ndarray, shape (n,)
        :math:`P(r)`: where the orbit first comes back to the half-axis after
        winding once around the origin.
    time : ndarray, shape (n,)
        :math:`T(r)`: the time that takes.
    """

    r: Array
    image: Array
    time: Array

    @property
    def displacement(self) -> Array:
        """:math:`P(r) - r`: negative where orbits move in, positive where they move out."""
        return self.image - self.r

    def odd_coefficients(self, n_terms: int = 2) -> Array:
        r"""Least-squares :math:`a_3, a_5, \dots` in :math:`P(r) - r = a_3 r^3 + a_5 r^5 + \dots`.

        The expansion of the return map of a linear centre perturbed by smooth
        non-linear terms (the first non-zero term of :math:`P(r) - r` has odd
        order); :math:`a_3` is the first Lyapunov quantity, up to a positive
        factor.  Fitted as :math:`(P(r) - r)/r^3 = a_3 + a_5 r^2 + \dots`.

        Parameters
        ----------
        n_terms : int, default 2
            Number of coefficients, at most ``n - 1``.
        """
        n_terms = check.positive_int("n_terms", n_terms)
        if n_terms >= self.r.size:
            raise ValueError(f"n_terms must be below the number of points {self.r.size}")
        design = np.stack([self.r ** (2 * k) for k in range(n_terms)], axis=1)
        coef: Array = np.linalg.lstsq(  # type: ignore[assignment]
            design, self.displacement / self.r**3, rcond=None)[0]
        return coef


def return_map(
    velocity: Callable[[Array], ArrayLike],
    r: ArrayLike,
    *,
    t_max: float = 1e4,
    rtol: float = 1e-12,
    atol: float = 1e-14,
) -> ReturnMap:
    r"""First-return map of :math:`\dot x = v(x)` on the half-axis :math:`x_2 = 0,\ x_1 > 0`.

    All starts :math:`(r_k, 0)` are integrated together (``DOP853``, one
    vectorised call of ``velocity`` per stage) with their unwrapped polar
    angle :math:`\theta_k`, :math:`\dot\theta = (x \times v)/|x|^2`; the return is
    the first time :math:`|\theta_k| = 2\pi`, located on the integrator's dense
    output by :func:`scipy.optimize.brentq`.  The orbit is then back on the
    half-axis after one turn around the origin, in either sense.  Used for
    the focus at the origin of Example 19 (Fig. 4c), where :math:`P(r) - r`
    decides between closed orbits, a limit cycle and a spiral.

    Parameters
    ----------
    velocity : callable
        :math:`v`, vectorised: points ``(..., 2)`` to ``(..., 2)``; for the
        noise-free SGD flow, ``lambda x: -grad_f(x)``.
    r : array_like, shape (n,)
        Distances :math:`r_k > 0` of the starting points from the origin.
    t_max : float, default 1e4
        Give up if some orbit has not come back by then.
    rtol, atol : float
        Integrator tolerances.

    Returns
    -------
    ReturnMap

    Raises
    ------
    ValueError
        If ``r`` is not a 1-D array of positive numbers, or the flow does not
        turn around the origin at some start.
    RuntimeError
        If the integration fails or some orbit does not return by ``t_max``.
    """
    r = np.atleast_1d(np.asarray(r, dtype=float))
    if r.ndim != 1 or r.size == 0 or not np.all(np.isfinite(r)) or np.any(r <= 0):
        raise ValueError("r must be a non-empty 1-D array of positive numbers")
    t_max = check.positive_scalar("t_max", t_max)
    n = r.size
    x0 = np.stack([r, np.zeros(n)], axis=1)
    v0 = np.asarray(velocity(x0), dtype=float)
    sense = np.sign(v0[:, 1])                      # x x v = r v_2 on the half-axis
    if np.any(sense == 0):
        raise ValueError("the flow does not turn around the origin at some start (v_2 = 0)")

    def rhs(_: float, y: Array) -> Array:
        x = y[:2 * n].reshape(n, 2)
        v = np.asarray(velocity(x), dtype=float)
        turn = (x[:, 0] * v[:, 1] - x[:, 1] * v[:, 0]) / np.sum(x**2, axis=1)
        return np.concatenate([v.ravel(), turn])

    def all_back(_: float, y: Array) -> float:
        return float(np.min(sense * y[2 * n:]) - 2 * np.pi)

    all_back.terminal = True  # type: ignore[attr-defined]
    y0 = np.concatenate([x0.ravel(), np.zeros(n)])
    sol = integrate.solve_ivp(rhs, (0.0, t_max), y0, method="DOP853", events=all_back,
                              dense_output=True, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"return_map failed: {sol.message}")
    if sol.status != 1:
        raise RuntimeError(f"some orbit did not return to the half-axis by t_max = {t_max:g}")
    dense = sol.sol
    assert dense is not None  # dense_output=True
    t_end = float(sol.t[-1])
    grid = np.linspace(0.0, t_end, 400)
    angles = sense[:, None] * dense(grid)[2 * n:]            # (n, 400)
    times = np.empty(n)
    for k in range(n):
        def crossing(t: float, k: int = k) -> float:
            return float(sense[k] * dense(t)[2 * n + k] - 2 * np.pi)

        past = np.flatnonzero(angles[k] >= 2 * np.pi)
        i = int(past[0]) if past.size else grid.size - 1
        if crossing(grid[i]) < 0:
            # the last orbit to return: the terminal event located its return at t_end
            times[k] = t_end
        else:
            times[k] = optimize.brentq(crossing, grid[i - 1], grid[i], xtol=1e-14, rtol=1e-15)
    image = np.array([dense(t)[2 * k] for k, t in enumerate(times)])
    return ReturnMap(r=r, image=image, time=times)
