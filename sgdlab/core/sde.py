"""Euler-Maruyama simulation of the continuous-time limit of SGD.

Many independent particles are advanced at once, one vectorised step at a
time, for :math:`dx = b(x)\\,dt + \\sqrt{2\\beta^{-1} D(x)}\\,dW` (Lemma 2,
eq. 3, with :math:`b = -\\nabla f`).  The noise-free, linear case
:math:`\\dot x = Ax` (the deterministic flow :math:`\\dot x = j(x)` of Lemma 7
for a linear force) is solved exactly by :func:`linear_flow`, and
:func:`closest_return` measures how close its orbit comes back to its start.
:func:`stratonovich_correction` is the drift by which a Stratonovich noise
term differs from the Itô one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize
from tqdm.auto import tqdm

from sgdlab import _validation as check
from sgdlab._typing import Array
from sgdlab.core.timeseries import TimeSeries

__all__ = ["closest_return", "euler_maruyama", "linear_flow", "stratonovich_correction"]

Drift = Callable[[Array], ArrayLike]
Diffusion = Callable[[Array], ArrayLike]


def euler_maruyama(
    drift: Drift,
    x0: ArrayLike,
    dt: float,
    n_steps: int,
    *,
    beta_inv: float = 1.0,
    diffusion: ArrayLike | Diffusion | None = None,
    record_every: int = 1,
    rng: int | np.random.Generator | None = None,
    progress: bool = False,
) -> TimeSeries:
    r"""Simulate :math:`dx = b(x)\,dt + \sqrt{2\beta^{-1}D(x)}\,dW` (eq. 3).

    One step is
    :math:`x_{k+1} = x_k + b(x_k)\,\Delta t + \sqrt{2\beta^{-1}\Delta t}\,\sigma(x_k)\,\xi_k`
    with :math:`\sigma\sigma^\top = D` (the symmetric square root, so that a
    singular :math:`D` is allowed) and :math:`\xi_k \sim N(0, I)`.

    Parameters
    ----------
    drift : callable
        :math:`b(x)`, mapping states of shape ``(n_particles, d)`` to an array
        of the same shape; for SGD, ``lambda x: -grad_f(x)``.
    x0 : array_like, shape (d,) or (n_particles, d)
        Initial states; a single state is one particle.
    dt : float
        Time step, > 0.
    n_steps : int
        Number of steps.
    beta_inv : float, default 1.0
        Temperature :math:`\beta^{-1} = \eta / 2b` (Lemma 2), >= 0.
    diffusion : array_like of shape (d, d), or callable, optional
        Diffusion matrix :math:`D`: a constant symmetric positive
        semi-definite matrix, or a function mapping states ``(n, d)`` to
        ``(n, d, d)``.  Defaults to the identity.
    record_every : int, default 1
        Record every ``record_every``-th step (the initial state is always
        recorded).
    rng : int or numpy.random.Generator, optional
        Seed of the Gaussian increments; the same seed gives the same path.
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    TimeSeries
        Times ``t = k * dt`` of the recorded steps ``k``, shape ``(n_records,)``, and
        states ``x`` of every particle at those times, shape ``(n_records, n_particles, d)``.

    Raises
    ------
    ValueError
        If an argument is out of range, ``D`` is not symmetric positive
        semi-definite, or the simulation leaves the finite numbers (then
        ``dt`` is too large for the drift).
    """
    x = check.particles("x0", x0)
    dt = check.positive_scalar("dt", dt)
    n_steps = check.positive_int("n_steps", n_steps)
    beta_inv = check.positive_scalar("beta_inv", beta_inv, allow_zero=True)
    record_every = check.positive_int("record_every", record_every)
    rng = np.random.default_rng(rng)
    n, d = x.shape
    scale = np.sqrt(2.0 * beta_inv * dt)
    field = diffusion if callable(diffusion) else None
    sqrt_d = None if diffusion is None or callable(diffusion) else _constant_sqrt(diffusion, d)

    n_records = n_steps // record_every + 1
    out = np.empty((n_records, n, d))
    out[0] = x
    for k in tqdm(range(1, n_steps + 1), disable=not progress, desc="Euler-Maruyama"):
        b = np.asarray(drift(x), dtype=float)
        if b.shape != x.shape:
            raise ValueError(f"drift must return shape {x.shape}, got {b.shape}")
        xi = rng.standard_normal((n, d))
        if field is not None:
            noise = np.einsum("nij,nj->ni", _batched_sqrt(field(x), n, d), xi)
        elif sqrt_d is not None:
            noise = xi @ sqrt_d.T
        else:
            noise = xi
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
            x = x + b * dt + scale * noise
        if k % record_every == 0 or k == n_steps:
            if not np.all(np.isfinite(x)):
                raise ValueError(
                    f"the simulation diverged by step {k} (t = {k * dt:g}); reduce dt"
                )
            if k % record_every == 0:
                out[k // record_every] = x
    return TimeSeries(t=np.arange(n_records, dtype=float) * (record_every * dt), x=out)


def _constant_sqrt(diffusion: ArrayLike, d: int) -> Array:
    """Symmetric square root of a constant diffusion matrix."""
    return _batched_sqrt(check.square_matrix("diffusion", diffusion, d)[None], 1, d)[0]


def _batched_sqrt(mats: ArrayLike, n: int, d: int) -> Array:
    """Symmetric square roots of ``n`` symmetric PSD matrices ``(n, d, d)``."""
    mats = np.asarray(mats, dtype=float)
    if mats.shape != (n, d, d):
        raise ValueError(f"diffusion must return shape {(n, d, d)}, got {mats.shape}")
    w, v = check.psd_eigh("diffusion", mats, d, stack=True)
    return (v * np.sqrt(np.clip(w, 0.0, None))[:, None, :]) @ v.transpose(0, 2, 1)


def linear_flow(a: ArrayLike, x0: ArrayLike, t: ArrayLike) -> Array:
    r"""Exact solution :math:`x(t) = e^{At}x_0` of :math:`\dot x = Ax` (eq. 13 for a linear force).

    By the eigendecomposition :math:`A = V\Lambda V^{-1}`, evaluated at all
    times at once; for an antisymmetric :math:`A` (a divergence-free linear
    force) :math:`V` is unitary and the result is accurate to round-off.

    Parameters
    ----------
    a : array_like, shape (d, d)
        A real matrix, diagonalisable to working accuracy.
    x0 : array_like, shape (d,)
        Initial state.
    t : array_like, shape (...)
        Times.

    Returns
    -------
    ndarray, shape t.shape + (d,)

    Raises
    ------
    ValueError
        If ``a`` is not a finite square matrix matching ``x0``, or its
        eigenvectors are too ill-conditioned (condition number above
        :math:`10^8`) for the decomposition to be accurate.
    """
    a = check.square_matrix("a", a)
    d = a.shape[0]
    x0 = np.asarray(x0, dtype=float)
    if x0.shape != (d,) or not np.all(np.isfinite(x0)):
        raise ValueError(f"x0 must be a finite vector of shape ({d},), got {x0.shape}")
    t = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(t)):
        raise ValueError("t contains NaN or infinite entries")
    w, v = np.linalg.eig(a)
    if np.linalg.cond(v) > 1e8:
        raise ValueError("a is not diagonalisable to working accuracy")
    coef = np.linalg.solve(v, x0.astype(complex))
    return np.real(np.einsum("ij,...j->...i", v, np.exp(t[..., None] * w) * coef))


def closest_return(a: ArrayLike, x0: ArrayLike, t_min: float, t_max: float,
                   n: int = 100_000) -> tuple[float, float]:
    r"""Time and distance of the closest approach of :math:`e^{At}x_0` to :math:`x_0`.

    The minimum of :math:`|x(t) - x_0|` over :math:`t_{min} \le t \le t_{max}`:
    :math:`|x(t) - x_0|` is evaluated at ``n`` equally spaced times, and every
    local minimum of these values that the speed bound
    :math:`|\dot x| \le \|A\|\max|x|` cannot exclude from being the global one
    is refined by a bounded scalar minimisation of :math:`|x(t) - x_0|^2` between
    its two neighbours.  The time is found to about :math:`10^{-8}` relative
    accuracy (the resolution of a smooth minimum in floating point), so a
    distance is never below the true minimum and exceeds it by at most about
    :math:`10^{-8}\,t\,|\dot x|`: an orbit that closes exactly returns a
    distance of that size, not zero.

    Parameters
    ----------
    a : array_like, shape (d, d)
    x0 : array_like, shape (d,)
    t_min, t_max : float
        The time window, ``0 <= t_min < t_max``.
    n : int, default 100,000
        Number of sample times, >= 3.

    Returns
    -------
    (float, float)
        The time of the closest approach and the distance :math:`|x(t) - x_0|` there.
    """
    t_min = check.positive_scalar("t_min", t_min, allow_zero=True)
    t_max = check.positive_scalar("t_max", t_max)
    n = check.positive_int("n", n)
    if t_max <= t_min or n < 3:
        raise ValueError(f"need t_min < t_max and n >= 3, got {t_min}, {t_max}, {n}")
    x0 = np.asarray(x0, dtype=float)
    times = np.linspace(t_min, t_max, n)
    path = linear_flow(a, x0, times)
    dist = np.linalg.norm(path - x0, axis=-1)
    step = times[1] - times[0]
    slack = step * np.linalg.norm(np.asarray(a, dtype=float), 2) * np.abs(path).max() * 2
    inner = (dist[1:-1] <= dist[:-2]) & (dist[1:-1] <= dist[2:])
    cand = np.flatnonzero(np.concatenate([[dist[0] <= dist[1]], inner,
                                          [dist[-1] <= dist[-2]]]))
    cand = cand[dist[cand] <= dist.min() + slack]
    best_t, best_d = float(times[dist.argmin()]), float(dist.min())
    for i in cand:
        lo, hi = times[max(i - 1, 0)], times[min(i + 1, n - 1)]
        res = optimize.minimize_scalar(
            lambda s: float(np.sum((linear_flow(a, x0, s) - x0) ** 2)),
            bounds=(lo, hi), method="bounded", options={"xatol": 1e-10 * max(1.0, hi)})
        if np.sqrt(res.fun) < best_d:
            best_t, best_d = float(res.x), float(np.sqrt(res.fun))
    return best_t, best_d


def stratonovich_correction(sigma: Diffusion, x: ArrayLike, h: float = 1e-4) -> Array:
    r"""The Itô drift of a Stratonovich noise term (the Stratonovich correction).

    :math:`c_i = \frac12\sum_{j,k}\sigma_{kj}\partial_k\sigma_{ij}`:
    :math:`dx = b\,dt + \sigma(x)\circ dW` is the Itô SDE
    :math:`dx = (b + c)\,dt + \sigma(x)\,dW`.  With :math:`\sigma\sigma^\top =
    2\beta^{-1}D`, :math:`c = \beta^{-1}\nabla\cdot D - \frac12\sum_{j,k}\sigma_{ij}
    \partial_k\sigma_{kj}` (row divergence): it depends on the square root
    :math:`\sigma`, not on :math:`D` alone, unlike the Hänggi-Klimontovich drift
    :math:`\beta^{-1}\nabla\cdot D`.  The derivatives are central differences
    of step ``h`` (error :math:`O(h^2)`).

    Parameters
    ----------
    sigma : callable
        :math:`\sigma(x)`, mapping points ``(n, d)`` to matrices ``(n, d, d)``.
    x : array_like, shape (n, d)
        Points.
    h : float, default 1e-4
        Difference step, > 0.

    Returns
    -------
    ndarray, shape (n, d)

    Raises
    ------
    ValueError
        If ``x`` is not a finite ``(n, d)`` array, ``h`` is not positive, or
        ``sigma`` returns the wrong shape.
    """
    x = check.particles("x", x)
    h = check.positive_scalar("h", h)
    n, d = x.shape

    def mats(pts: Array) -> Array:
        out = np.asarray(sigma(pts), dtype=float)
        if out.shape != (n, d, d):
            raise ValueError(f"sigma must return shape {(n, d, d)}, got {out.shape}")
        return out

    s0 = mats(x)
    out = np.zeros((n, d))
    for k in range(d):
        step = np.zeros(d)
        step[k] = h
        ds = (mats(x + step) - mats(x - step)) / (2 * h)      # d sigma / d x_k
        out += 0.5 * np.einsum("nj,nij->ni", s0[:, k, :], ds)
    return out
