r"""Escape from a well under anisotropic noise: Kramers' time, exact passage times, simulation.

For :math:`dx = -\nabla f\,dt + \sqrt{2\beta^{-1}D}\,dW` (eq. 3 with a
constant D) on :class:`EscapeWell`, a double well along :math:`x_1` times a
parabola along :math:`x_2`, with D diagonal in those axes, :math:`x_1` is the
one-dimensional diffusion :math:`dx_1 = -V'(x_1)dt + \sqrt{2\varepsilon}\,dW`
of temperature :math:`\varepsilon = \beta^{-1}D_{11}`, whatever :math:`x_2`
does.  Its mean passage time from one minimum to the other is

- :func:`mean_first_passage`: exact, by the double quadrature of the backward
  equation;
- :func:`kramers_time`: Kramers' small-noise limit
  :math:`2\pi e^{\Delta V/\varepsilon}/\sqrt{V''(a)|V''(b)|}`, in which the
  curvatures enter the prefactor only;

:func:`passage_times` gives both over a range of widths, and
:func:`escape_times` simulates the passage with many paths at once.
:func:`aligned_noise` makes the D's to compare: isotropic, proportional to the
Hessian at the minimum (the approximation :math:`D \approx H` near a minimum of
Zhu et al. 2019 and Xie et al. 2021), and mixtures, all of the same trace.
With :math:`D = \frac{\mathrm{Tr} D}{\mathrm{Tr} H}H`, :math:`\varepsilon`
grows with :math:`V''(a)`, and the exponent :math:`\Delta V/\varepsilon`
depends on the curvature at the minimum, as in Xie et al.'s Theorem 3.2 with
its path parameter :math:`s = 1`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate

from sgdlab import _validation as check
from sgdlab._typing import Array

__all__ = ["EscapeWell", "aligned_noise", "escape_point", "escape_times", "kramers_time",
           "mean_first_passage", "passage_times"]


@dataclass(frozen=True)
class EscapeWell:
    r"""A double well times a parabola, :math:`f = \Delta V((x_1/w)^2 - 1)^2 + \tfrac k2 x_2^2`.

    Its minima are at :math:`(\pm w, 0)`.

    The barrier :math:`\Delta V` at the saddle :math:`(0, 0)` is the same for
    every width w; the curvatures along :math:`x_1` are
    :math:`V''(\pm w) = 8\Delta V/w^2` at the minima and
    :math:`V''(0) = -4\Delta V/w^2` at the saddle.

    Parameters
    ----------
    width : float
        :math:`w > 0`.
    barrier : float, default 1
        :math:`\Delta V > 0`.
    stiffness : float, default 8
        :math:`k > 0`, the curvature along :math:`x_2`.
    """

    width: float
    barrier: float = 1.0
    stiffness: float = 8.0

    def __post_init__(self) -> None:
        for name in ("width", "barrier", "stiffness"):
            object.__setattr__(self, name, check.positive_scalar(name, getattr(self, name)))

    def potential(self, s: ArrayLike) -> Array:
        r"""The profile :math:`V(s) = \Delta V((s/w)^2 - 1)^2` along :math:`x_1`."""
        s = np.asarray(s, dtype=float)
        return self.barrier * ((s / self.width) ** 2 - 1.0) ** 2

    def f(self, x: ArrayLike) -> Array:
        """The loss at points ``(..., 2)``."""
        x = check.field_points("x", x, 2)
        return self.potential(x[..., 0]) + 0.5 * self.stiffness * x[..., 1] ** 2

    def grad_f(self, x: ArrayLike) -> Array:
        r""":math:`\nabla f = (4\Delta V x_1(x_1^2/w^2 - 1)/w^2,\ k x_2)`, shape ``(..., 2)``."""
        x = check.field_points("x", x, 2)
        w2 = self.width**2
        return np.stack([4.0 * self.barrier * x[..., 0] * (x[..., 0] ** 2 / w2 - 1.0) / w2,
                         self.stiffness * x[..., 1]], axis=-1)

    @property
    def curvature_min(self) -> float:
        r""":math:`V''(\pm w) = 8\Delta V/w^2`."""
        return 8.0 * self.barrier / self.width**2

    @property
    def curvature_saddle(self) -> float:
        r""":math:`V''(0) = -4\Delta V/w^2`."""
        return -4.0 * self.barrier / self.width**2

    def hessian_min(self) -> Array:
        r"""The Hessian at the minima, :math:`\mathrm{diag}(8\Delta V/w^2, k)`."""
        return np.diag([self.curvature_min, self.stiffness])


def aligned_noise(hessian: ArrayLike, alignment: float, trace: float | None = None) -> Array:
    r"""Noise :math:`D_\alpha = (1-\alpha)\frac{T}{d}I + \alpha\frac{T}{\mathrm{Tr} H}H` of trace T.

    Parameters
    ----------
    hessian : array_like, shape (d, d)
        Symmetric positive definite H.
    alignment : float
        :math:`\alpha \in [0, 1]`: 0 is isotropic, 1 is :math:`D \propto H`.
    trace : float, optional
        :math:`T > 0`; d when omitted (the identity at :math:`\alpha = 0`).

    Raises
    ------
    ValueError
        If H is not positive definite or α is outside [0, 1].
    """
    h = check.psd_matrix("hessian", hessian, definite=True)
    a = check.finite_scalar("alignment", alignment)
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"alignment must be in [0, 1], got {a}")
    d = h.shape[0]
    t = float(d) if trace is None else check.positive_scalar("trace", trace)
    return (1.0 - a) * (t / d) * np.eye(d) + a * (t / np.trace(h)) * h


def kramers_time(curvature_min: float, curvature_saddle: float, barrier: float,
                 eps: float) -> float:
    r"""Kramers' mean transition time, :math:`2\pi e^{\Delta V/\varepsilon}/\sqrt{V''(a)|V''(b)|}`.

    The overdamped Kramers (1940) rate's reciprocal for
    :math:`dx = -V'dt + \sqrt{2\varepsilon}dW`, exact as
    :math:`\varepsilon/\Delta V \to 0` (relative error :math:`O(\varepsilon/\Delta V)`).

    Raises
    ------
    ValueError
        If the curvature at the minimum is not positive, at the saddle not
        negative, or the barrier or ε not positive.
    """
    h_a = check.positive_scalar("curvature_min", curvature_min)
    h_b = check.finite_scalar("curvature_saddle", curvature_saddle)
    if not h_b < 0:
        raise ValueError(f"curvature_saddle must be negative, got {h_b}")
    dv = check.positive_scalar("barrier", barrier)
    eps = check.positive_scalar("eps", eps)
    return 2.0 * math.pi / math.sqrt(h_a * -h_b) * math.exp(dv / eps)


def mean_first_passage(potential: Callable[[Array], ArrayLike], start: float, target: float,
                       eps: float, lower: float, n: int = 40_001) -> float:
    r"""Exact mean time for :math:`dx = -V'dt + \sqrt{2\varepsilon}dW` to go from start to target.

    The solution of the backward equation :math:`\varepsilon\tau'' - V'\tau' = -1`
    with :math:`\tau(\text{target}) = 0` and a reflecting end far to the left,

    .. math:: \tau = \frac1\varepsilon\int_{\text{start}}^{\text{target}} e^{V(y)/\varepsilon}
        \int_{\text{lower}}^{y} e^{-V(z)/\varepsilon}\,dz\,dy,

    by the trapezoidal rule on ``n`` nodes (error :math:`O(n^{-2})`), the
    exponentials shifted by the smallest V against overflow.

    Parameters
    ----------
    potential : callable
        V, vectorised.
    start, target : float
        ``lower < start < target``.
    eps : float
        :math:`\varepsilon > 0`.
    lower : float
        Where the inner integral starts: far enough left that
        :math:`e^{-V/\varepsilon}` is negligible there.
    n : int, default 40,001
        Nodes, >= 3.

    Raises
    ------
    ValueError
        If the ends are not ordered, ε is not positive, n < 3 or V is not finite.
    """
    eps = check.positive_scalar("eps", eps)
    a, b, lo = (check.finite_scalar(k, v) for k, v in
                (("start", start), ("target", target), ("lower", lower)))
    n = check.positive_int("n", n)
    if not lo < a < b or n < 3:
        raise ValueError(f"need lower < start < target and n >= 3, got {lo}, {a}, {b}, {n}")
    z = np.linspace(lo, b, n)
    v = np.asarray(potential(z), dtype=float)
    if v.shape != z.shape or not np.all(np.isfinite(v)):
        raise ValueError("potential must return finite values of its input's shape")
    v = (v - v.min()) / eps
    inner = integrate.cumulative_trapezoid(np.exp(-v), z, initial=0)
    with np.errstate(divide="ignore"):                  # log 0 = -inf: a zero term
        outer = np.exp(v + np.log(inner))
    keep = z >= a
    y = np.concatenate([[a], z[keep]])
    values = np.concatenate([[np.interp(a, z, outer)], outer[keep]])
    return float(integrate.trapezoid(values, y)) / eps


def escape_times(grad_f: Callable[[Array], ArrayLike], x0: ArrayLike,
                 absorbed: Callable[[Array], ArrayLike], dt: float, n_paths: int, *,
                 beta_inv: float = 1.0, diffusion: ArrayLike | None = None,
                 max_steps: int = 10_000_000,
                 rng: int | np.random.Generator | None = None) -> Array:
    r"""First times at which paths of :math:`dx = -\nabla f dt + \sqrt{2\beta^{-1}D}dW` stop.

    Euler-Maruyama as :func:`sgdlab.core.sde.euler_maruyama` steps (symmetric
    square root of a constant D), on the paths not yet absorbed only; each
    path's time is that of the first step after which ``absorbed`` holds.
    Discrete monitoring and the Euler drift bias the times by :math:`O(\sqrt{dt})`
    near the target and :math:`O(dt)` overall.

    Parameters
    ----------
    grad_f : callable
        :math:`\nabla f`, ``(n, d) -> (n, d)``.
    x0 : array_like, shape (d,)
        Start of every path.
    absorbed : callable
        ``(n, d) -> (n,)`` booleans.
    dt : float
        Step, > 0.
    n_paths : int
    beta_inv : float, default 1
        :math:`\beta^{-1} > 0`.
    diffusion : array_like, shape (d, d), optional
        Constant PSD D; the identity when omitted.
    max_steps : int, default 10^7
    rng : int or numpy.random.Generator, optional

    Returns
    -------
    ndarray, shape (n_paths,)

    Raises
    ------
    ValueError
        On bad arguments, or if some path is not absorbed within ``max_steps``.
    """
    start = np.asarray(x0, dtype=float)
    if start.ndim != 1 or not np.all(np.isfinite(start)):
        raise ValueError(f"x0 must be a finite vector, got shape {start.shape}")
    d = start.size
    dt = check.positive_scalar("dt", dt)
    n_paths = check.positive_int("n_paths", n_paths)
    max_steps = check.positive_int("max_steps", max_steps)
    scale = math.sqrt(2.0 * check.positive_scalar("beta_inv", beta_inv) * dt)
    if diffusion is None:
        root = np.eye(d)
    else:
        w, v = check.psd_eigh("diffusion", diffusion, d)
        root = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    gen = np.random.default_rng(rng)
    x = np.tile(start, (n_paths, 1))
    alive = np.arange(n_paths)
    times = np.full(n_paths, np.nan)
    for step in range(1, max_steps + 1):
        x = x - np.asarray(grad_f(x)) * dt + scale * (gen.standard_normal(x.shape) @ root)
        done = np.asarray(absorbed(x), dtype=bool)
        if done.any():
            times[alive[done]] = step * dt
            alive, x = alive[~done], x[~done]
            if alive.size == 0:
                return times
    raise ValueError(f"{alive.size} of {n_paths} paths were not absorbed within {max_steps} "
                     "steps; raise max_steps")


def passage_times(widths: ArrayLike, alignment: float, beta_inv: float, *,
                  n: int = 40_001) -> dict[str, Array]:
    r"""Exact and Kramers mean escape times from the left minimum of :class:`EscapeWell`'s.

    For each width w, the well ``EscapeWell(w)`` with the noise
    :func:`aligned_noise` of its Hessian at the minimum, of trace 2: the
    temperature :math:`\varepsilon = \beta^{-1}D_{11}` along :math:`x_1`
    (eq. 3), the mean passage time from :math:`-w` to :math:`w` by
    :func:`mean_first_passage` (reflecting at :math:`-3w`, ``n`` nodes) and
    Kramers' :func:`kramers_time`.

    Parameters
    ----------
    widths : array_like, shape (m,)
        Positive widths.
    alignment : float
        :math:`\alpha \in [0, 1]` of :func:`aligned_noise`.
    beta_inv : float
        :math:`\beta^{-1} > 0`.
    n : int, default 40,001
        Quadrature nodes of :func:`mean_first_passage`.

    Returns
    -------
    dict
        Arrays of shape (m,): ``eps``, ``curvature`` (:math:`V''(-w)`),
        ``exact`` and ``kramers``.

    Raises
    ------
    ValueError
        On a width, α or β^{-1} out of range.
    """
    ws = np.asarray(widths, dtype=float)
    if ws.ndim != 1 or ws.size == 0:
        raise ValueError(f"widths must be a non-empty vector, got shape {ws.shape}")
    beta_inv = check.positive_scalar("beta_inv", beta_inv)
    wells = [EscapeWell(float(w)) for w in ws]
    eps = np.array([beta_inv * aligned_noise(well.hessian_min(), alignment)[0, 0]
                    for well in wells])
    return {"eps": eps, "curvature": np.array([well.curvature_min for well in wells]),
            "exact": np.array([mean_first_passage(well.potential, -well.width, well.width, e,
                                                  -3.0 * well.width, n)
                               for well, e in zip(wells, eps, strict=True)]),
            "kramers": np.array([kramers_time(well.curvature_min, well.curvature_saddle,
                                              well.barrier, e)
                                 for well, e in zip(wells, eps, strict=True)])}


def escape_point(config: Mapping[str, Any]) -> dict[str, float]:
    r"""Mean escape time from the left minimum of an :class:`EscapeWell`: simulated, exact, Kramers.

    For :func:`sgdlab.sweep.sweep`.  The noise is :func:`aligned_noise` of the
    Hessian at the minimum with trace 2, so :math:`\varepsilon = \beta^{-1}D_{11}`;
    the paths start at :math:`(-w, 0)` and are absorbed at :math:`x_1 \ge w`,
    with the step :math:`dt = c/V''(-w)`.

    Parameters
    ----------
    config : mapping
        ``width``, ``alignment``, ``beta_inv``, ``n_paths``, ``seed`` and
        ``step`` (c, the step in units of the well's relaxation time).

    Returns
    -------
    dict
        ``eps``, ``curvature`` (:math:`V''(-w)`), ``mean`` and ``se`` (the
        simulated mean and its standard error), ``exact``
        (:func:`mean_first_passage`) and ``kramers`` (:func:`kramers_time`), as
        :func:`passage_times` gives them.
    """
    well = EscapeWell(float(config["width"]))
    alignment, beta_inv = float(config["alignment"]), float(config["beta_inv"])
    w = well.width
    times = escape_times(well.grad_f, [-w, 0.0], lambda x: x[:, 0] >= w,
                         float(config["step"]) / well.curvature_min, int(config["n_paths"]),
                         beta_inv=beta_inv, diffusion=aligned_noise(well.hessian_min(), alignment),
                         rng=int(config["seed"]))
    exact = {key: float(value[0]) for key, value in passage_times([w], alignment, beta_inv).items()}
    return exact | {"mean": float(times.mean()),
                    "se": float(times.std(ddof=1) / math.sqrt(times.size))}
