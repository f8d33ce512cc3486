"""How far a long run moves: its mean squared displacement against controls (Kunin et al.).

:func:`displacement` reads moving weights of a run (:class:`sgdlab.deep.runs.Trajectory`)
and computes :math:`\\langle|x_{k_0+k} - x_{k_0}|^2\\rangle`
(:func:`sgdlab.core.anomalous.msd`) for SGD and for three controls of the same
length, built weight by weight from the run's own increments
(:mod:`sgdlab.deep.brownian`):

- Brownian motion with the increments' variance and no drift (:math:`c = 1`);
- Brownian motion with the increments' mean too (a drift: :math:`c \\to 2`);
- the AR(1) (Ornstein-Uhlenbeck) process fitted to each weight, simulated from the
  weight's start, whose expected MSD is :func:`sgdlab.core.anomalous.ou_msd`.

Each MSD goes through the same fit, :func:`fit_exponent`: statsmodels' OLS on log-log
axes, with an interval over the run's independent chains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import statsmodels.api as sm
from numpy.typing import ArrayLike, NDArray

from sgdlab import _validation as check
from sgdlab._typing import Array
from sgdlab.core.anomalous import msd, ou_msd

from .brownian import brownian_like, fit_ar1, simulate_ar1

__all__ = ["Displacement", "ExponentFit", "displacement", "fit_exponent"]

Curve = Literal["sgd", "brownian", "drifting", "ou", "ou_expected"]


@dataclass(frozen=True)
class ExponentFit:
    r"""The fit :math:`\log\mathrm{MSD} = \log a + c\log k` (:func:`fit_exponent`).

    Attributes
    ----------
    exponent : float
        :math:`c`.
    low, high : float
        Its confidence interval at the level of the fit.
    prefactor : float
        :math:`a`.
    stderr : float
        The standard error of :math:`c`.
    """

    exponent: float
    low: float
    high: float
    prefactor: float
    stderr: float

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the confidence interval."""
        return self.low <= value <= self.high


def fit_exponent(lags: ArrayLike, values: ArrayLike, level: float = 0.99) -> ExponentFit:
    r"""The exponent :math:`c` of :math:`\mathrm{MSD}(k) \approx a k^c` over independent chains.

    statsmodels' OLS of :math:`\log\mathrm{MSD}_j(k)` on :math:`(1, \log k)`, the points of
    all chains :math:`j` pooled, so that :math:`c` is the mean of the chains' slopes.  The
    MSDs of one path at neighbouring lags are strongly correlated, so the interval is not
    the OLS one, which would treat them as independent: it is cluster-robust by chain,
    Student's with (chains - 1) degrees of freedom, i.e. it rests on the chains being
    independent runs only.

    Parameters
    ----------
    lags : array_like, shape (m,)
        Positive lags, at least three.
    values : array_like, shape (chains, m)
        Positive MSDs of at least two independent chains at those lags.
    level : float, default 0.99
        Confidence level of the interval.
    """
    k = np.asarray(lags, dtype=float)
    y = np.asarray(values, dtype=float)
    if k.ndim != 1 or k.size < 3 or y.ndim != 2 or y.shape[1] != k.size or y.shape[0] < 2:
        raise ValueError(f"lags must be 1-D of length m >= 3 and values (chains >= 2, m), got "
                         f"{k.shape} and {y.shape}")
    if not (np.all(np.isfinite(k)) and np.all(np.isfinite(y))):
        raise ValueError("lags and values must be finite")
    if k.min() <= 0 or y.min() <= 0:
        raise ValueError("lags and values must be positive (their logarithms are fitted)")
    level = check.finite_scalar("level", level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    chains = np.repeat(np.arange(y.shape[0]), k.size)
    design = sm.add_constant(np.tile(np.log(k), y.shape[0]))
    res = sm.OLS(np.log(y).ravel(), design).fit(cov_type="cluster",
                                                cov_kwds={"groups": chains}, use_t=True)
    low, high = res.conf_int(alpha=1.0 - level)[1]
    return ExponentFit(exponent=float(res.params[1]), low=float(low), high=float(high),
                       prefactor=float(np.exp(res.params[0])), stderr=float(res.bse[1]))


@dataclass(frozen=True)
class Displacement:
    """MSDs of a run and of its controls at the same lags, chain by chain.

    Each MSD is a chain's sum over its weights in ``rows`` (a control's too: the control
    of a weight counts for the weight's chain); the chains are independent runs, which
    is what :func:`fit_exponent`'s interval rests on.

    Attributes
    ----------
    lags : ndarray of int, shape (m,)
    start : int
        :math:`k_0`, the first snapshot used.
    rows : ndarray of int, shape (r,)
        The series used, ``c * d + i`` for weight ``i`` of chain ``c``.
    sgd, brownian, drifting : ndarray, shape (chains, m)
        SGD's MSD, and its Brownian controls without and with the increments' drift.
    ou : ndarray, shape (replicates, chains, m)
        The fitted AR(1) processes, simulated ``replicates`` times.
    ou_expected : ndarray, shape (chains, m)
        Their expected MSD, in closed form (:func:`sgdlab.core.anomalous.ou_msd`).
    phi : ndarray, shape (r,)
        The fitted AR(1) coefficients.
    """

    lags: NDArray[np.intp]
    start: int
    rows: NDArray[np.intp]
    sgd: Array
    brownian: Array
    drifting: Array
    ou: Array
    ou_expected: Array
    phi: Array

    def curve(self, name: Curve) -> Array:
        """The MSDs ``(chains, m)`` of ``sgd``, a control, or ``ou`` (its first replicate)."""
        curves = {"sgd": self.sgd, "brownian": self.brownian, "drifting": self.drifting,
                  "ou": self.ou[0], "ou_expected": self.ou_expected}
        if name not in curves:
            raise ValueError(f"unknown curve {name!r}; one of {sorted(curves)}")
        return curves[name]

    def fit(self, name: Curve, level: float = 0.99) -> ExponentFit:
        """The exponent of :meth:`curve` ``name`` (:func:`fit_exponent`)."""
        return fit_exponent(self.lags, self.curve(name), level)


def displacement(weights: NDArray[np.floating], lags: ArrayLike, *, start: int = 0,
                 rows: ArrayLike | None = None, replicates: int = 8,
                 seed: int = 0) -> Displacement:
    """The MSD of a run's weights after snapshot ``start``, and of its controls.

    Parameters
    ----------
    weights : ndarray, shape (chains, d, n)
        E.g. ``Trajectory.weights`` (a memory map: only ``rows`` are read when given).
    lags : array_like of int
        Lags in snapshots, e.g. :func:`sgdlab.core.anomalous.log_lags`.
    start : int, default 0
        :math:`k_0`.
    rows : array_like of int, optional
        Series ``c * d + i`` to use; default every series that moves after ``start``
        (the controls of a series that never moves are undefined).
    replicates : int, default 8
        Simulations of the AR(1) control.
    seed : int, default 0

    Returns
    -------
    Displacement
    """
    if np.ndim(weights) != 3:
        raise ValueError(f"weights must have shape (chains, d, n), got {np.shape(weights)}")
    n_chains, d, n = weights.shape
    flat = weights.reshape(n_chains * d, n)
    if rows is None:
        every = np.asarray(flat[:, start:], dtype=float)
        picked = np.flatnonzero(every.std(axis=1) > 0)
        tail = every[picked]
    else:
        picked = np.asarray(rows, dtype=np.intp)
        tail = np.asarray(flat[picked, start:], dtype=float)
    if picked.size == 0:
        raise ValueError("no series moves after start")
    k = np.asarray(lags)
    chain = picked // d

    def per_chain(paths: Array) -> Array:
        sq = msd(paths, k)
        return np.stack([sq[chain == c].sum(axis=0) for c in range(n_chains)])

    rng = np.random.default_rng(seed)
    ar = fit_ar1(tail)
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = tail[:, 0] - ar.intercept / (1.0 - ar.phi)
    expected = np.stack([ou_msd(k, ar.phi[chain == c], ar.sigma[chain == c],
                                offset=offset[chain == c]) for c in range(n_chains)])
    return Displacement(
        lags=k, start=start, rows=picked, sgd=per_chain(tail),
        brownian=per_chain(brownian_like(tail, rng, drift=False)),
        drifting=per_chain(brownian_like(tail, rng)),
        ou=np.stack([per_chain(simulate_ar1(ar, tail[:, 0], tail.shape[1], rng))
                     for _ in range(replicates)]),
        ou_expected=expected, phi=ar.phi)
