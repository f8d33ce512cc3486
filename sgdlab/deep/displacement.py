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

Each MSD goes through the same fit, :func:`sgdlab.core.anomalous.fit_exponent`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sgdlab._typing import Array
from sgdlab.core.anomalous import ExponentFit, fit_exponent, msd, ou_msd

from .brownian import brownian_like, fit_ar1, simulate_ar1

__all__ = ["Displacement", "displacement"]

Curve = Literal["sgd", "brownian", "drifting", "ou", "ou_expected"]


@dataclass(frozen=True)
class Displacement:
    """MSDs of a run and of its controls at the same lags, chain by chain.

    Each MSD is a chain's sum over its weights in ``rows`` (a control's too: the control
    of a weight counts for the weight's chain); the chains are independent runs, which
    is what :func:`sgdlab.core.anomalous.fit_exponent`'s interval rests on.

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
        """The exponent of :meth:`curve` ``name`` (:func:`sgdlab.core.anomalous.fit_exponent`)."""
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
