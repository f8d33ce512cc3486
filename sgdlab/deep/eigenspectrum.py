r"""The eigenspectrum of D(x) and the statistics the paper reports of it (Figs. 1-2).

This module's one job is the result of :func:`sgdlab.deep.diffusion.spectrum`:
the eigenvalues of the diffusion matrix :math:`D(x)` of eq. (2), held by
:class:`Spectrum`, and what Section IV reads off them.  It imports NumPy only,
so that the spectrum explorer (:mod:`widgets.spectrum`) works without torch.

The rank is numpy's ``matrix_rank`` rule with float32 precision, the paper's
footnote 1: eigenvalues above :math:`\lambda_{\max}\,d\,\varepsilon_{32}`
(:func:`rank_threshold`).  The eigenspectrum the paper histograms and
summarises (Figs. 1-2) is this thresholded one: the eigenvalues above the
threshold and zeros for the rest.  Its mean is
:math:`\frac1d\sum_{k=1}^d \lambda_k` over all ``d`` of them, as eq. (14)
writes it, and its standard deviation is over the same ``d`` values
(:func:`moments`); with about 1.8 % of eigenvalues non-zero this makes the
standard deviation several times the mean, as the captions of Fig. 1 read.
:func:`architecture_score` is the score of Remark 16.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sgdlab import _validation as check

__all__ = ["EPS32", "IsotropicControl", "Moments", "Spectrum", "architecture_score",
           "cv_lower_bound", "isotropic_control", "moments", "numerical_rank", "rank_threshold"]

#: float32 machine epsilon of the rank rule (the paper's footnote 1).
EPS32 = float(np.finfo(np.float32).eps)


def rank_threshold(lambda_max: float, d: int) -> float:
    r"""numpy's ``matrix_rank`` tolerance in float32, :math:`\lambda_{\max}\,d\,\varepsilon_{32}`.

    Footnote 1 of the paper: the eigenspectrum is thresholded at
    :math:`\lambda_{\max} \times d \times` machine precision.  numpy uses the
    precision of the matrix's dtype; the paper's D was float32.

    Examples
    --------
    >>> rank_threshold(1.0, 1000) == 1000 * float(np.finfo(np.float32).eps)
    True
    """
    lam = check.positive_scalar("lambda_max", lambda_max, allow_zero=True)
    return lam * check.positive_int("d", d) * EPS32


def numerical_rank(eigenvalues: NDArray[np.float64], d: int) -> int:
    """Number of eigenvalues above :func:`rank_threshold` of the largest one.

    Equals ``numpy.linalg.matrix_rank`` of a symmetric positive semi-definite
    float32 matrix of size ``d`` whose eigenvalues these are (its singular
    values are its eigenvalues).  The smallest eigenvalues may be missing, as
    the fast path leaves them out, as long as they are below the threshold.

    Examples
    --------
    >>> numerical_rank(np.array([2.0, 1.0, 1e-9]), 3)
    2
    """
    ev = np.asarray(eigenvalues, dtype=float)
    if ev.ndim != 1 or ev.size == 0 or not np.all(np.isfinite(ev)):
        raise ValueError("eigenvalues must be a non-empty finite 1-D array")
    threshold = rank_threshold(max(float(ev.max()), 0.0), d)
    return int(np.count_nonzero(ev > threshold))


def moments(kept: NDArray[np.float64], d: int) -> tuple[float, float]:
    """Mean and variance of a thresholded spectrum over all ``d`` eigenvalues (eq. 14).

    ``kept`` are the eigenvalues above the threshold; the other ``d - len(kept)``
    count as zeros, as in the summaries under Figs. 1-2.

    Examples
    --------
    >>> moments(np.array([3.0, 1.0]), 4)
    (1.0, 1.5)
    """
    mean = float(np.sum(kept) / d)
    return mean, max(float(np.square(kept).sum() / d) - mean**2, 0.0)


def cv_lower_bound(rank_fraction: float) -> float:
    r"""The least standard deviation over mean of a spectrum of rank fraction :math:`r/d`.

    Over all :math:`d` eigenvalues, the zeros counted (:func:`moments`, eq. 14's
    mean), :math:`r` of them non-zero with sum :math:`S`: Cauchy-Schwarz gives
    :math:`\sum\lambda^2 \ge S^2/r`, so the variance is at least
    :math:`S^2/(rd) - S^2/d^2`, and
    :math:`\mathrm{std}/\mathrm{mean} \ge \sqrt{d/r - 1}`, with equality when
    the non-zero eigenvalues are equal.

    Examples
    --------
    >>> s = Spectrum(np.array([2.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]), d=8, n=9,
    ...              method="exact", seconds=0.0)
    >>> s.std / s.mean == cv_lower_bound(s.rank_fraction) == 3 ** 0.5
    True
    """
    fraction = check.positive_scalar("rank_fraction", rank_fraction)
    if fraction > 1:
        raise ValueError(f"rank_fraction must be in (0, 1], got {fraction}")
    return math.sqrt(1 / fraction - 1)


@dataclass(frozen=True)
class Moments:
    r"""The trace and the Frobenius norm of D(x) (eq. 2): its size without a rank rule.

    Made by :func:`sgdlab.deep.diffusion.trace_moments` (from the gradients,
    with no eigenvalue computed).

    Attributes
    ----------
    trace : float
        :math:`\operatorname{tr} D = \sum_k \lambda_k`.
    frobenius_sq : float
        :math:`\|D\|_F^2 = \sum_k \lambda_k^2`.
    d, n : int
        Weights and examples.
    """

    trace: float
    frobenius_sq: float
    d: int
    n: int

    @property
    def participation_ratio(self) -> float:
        r"""The effective number of directions, :math:`(\operatorname{tr} D)^2 / \|D\|_F^2`.

        Between 1 (one direction carries all the noise) and the rank, which it
        equals when the non-zero eigenvalues are all equal; no threshold is
        involved.

        Examples
        --------
        >>> Moments(trace=4.0, frobenius_sq=8.0, d=3, n=5).participation_ratio
        2.0
        """
        return self.trace**2 / self.frobenius_sq if self.frobenius_sq > 0 else 0.0

    def top_fraction(self, spectrum: Spectrum, k: int) -> float:
        r"""The fraction of :math:`\operatorname{tr} D` carried by the ``k`` largest eigenvalues.

        Examples
        --------
        >>> s = Spectrum(np.array([3.0, 1.0, 0.0]), d=3, n=5, method="exact", seconds=0.0)
        >>> Moments(trace=4.0, frobenius_sq=10.0, d=3, n=5).top_fraction(s, 1)
        0.75
        """
        k = check.positive_int("k", k)
        if (spectrum.d, spectrum.n) != (self.d, self.n):
            raise ValueError(f"spectrum is of d, n = {spectrum.d}, {spectrum.n}, "
                             f"these moments of {self.d}, {self.n}")
        if k > spectrum.eigenvalues.size:
            raise ValueError(f"k = {k} exceeds the {spectrum.eigenvalues.size} eigenvalues "
                             "the spectrum holds")
        return float(spectrum.eigenvalues[:k].sum() / self.trace) if self.trace > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary: trace, squared Frobenius norm, participation ratio."""
        return {"trace": self.trace, "frobenius_sq": self.frobenius_sq,
                "participation_ratio": self.participation_ratio}


@dataclass(frozen=True)
class Spectrum:
    """Eigenvalues of D(x) and what the paper reports of them (Figs. 1-2).

    Attributes
    ----------
    eigenvalues : ndarray
        Descending.  The exact path gives all ``d``; the fast path the ``K``
        Ritz values it computed, accurate above :attr:`threshold` (below it
        they are lower bounds, and the remaining ``d - K`` are not computed).
    d : int
        Number of weights.
    n : int
        Number of examples ``N`` in eq. (2).
    method : {"fast", "exact"}
    seconds : float
        Wall-clock time of the computation (gradients included when
        :func:`~sgdlab.deep.diffusion.spectrum` computed them).
    """

    eigenvalues: NDArray[np.float64]
    d: int
    n: int
    method: str
    seconds: float

    @property
    def threshold(self) -> float:
        """Rank threshold :math:`\\lambda_{\\max}\\,d\\,\\varepsilon_{32}` (footnote 1)."""
        return rank_threshold(max(float(self.eigenvalues[0]), 0.0), self.d)

    @property
    def rank(self) -> int:
        """numpy's ``matrix_rank`` of D in float32 (:func:`numerical_rank`)."""
        return numerical_rank(self.eigenvalues, self.d)

    @property
    def nonzero(self) -> NDArray[np.float64]:
        """The eigenvalues above the threshold, descending (the histogram of Fig. 1)."""
        return self.eigenvalues[: self.rank]

    @property
    def rank_fraction(self) -> float:
        """rank(D) / d, the percentage the captions of Figs. 1-2 quote."""
        return self.rank / self.d

    @property
    def mean(self) -> float:
        r"""Mean of the thresholded spectrum over all ``d`` eigenvalues, eq. (14)."""
        return moments(self.nonzero, self.d)[0]

    @property
    def variance(self) -> float:
        """Variance of the thresholded spectrum over all ``d`` eigenvalues."""
        return moments(self.nonzero, self.d)[1]

    @property
    def std(self) -> float:
        """Standard deviation quoted after the mean in Figs. 1-2 (``mean ± std``)."""
        return math.sqrt(self.variance)

    def to_dict(self, top: int = 10) -> dict[str, Any]:
        """A JSON-able summary: sizes, rank, mean, std and the ``top`` largest eigenvalues."""
        top = check.positive_int("top", top)
        return {"d": self.d, "n": self.n, "method": self.method, "rank": self.rank,
                "rank_fraction": self.rank_fraction, "mean": self.mean, "std": self.std,
                "threshold": self.threshold,
                "top_eigenvalues": [float(v) for v in self.eigenvalues[:top]],
                "seconds": self.seconds}


def architecture_score(spectrum: Spectrum, *, normalised: bool = False) -> float:
    r"""The architecture score of Remark 16, :math:`\mathrm{rank}(D)/d + \mathrm{var}(\lambda(D))`.

    Parameters
    ----------
    spectrum : Spectrum
    normalised : bool, default False
        False: the remark's quantity as printed, the variance in the units of
        D (for MNIST networks it is of order 1e-5 and the rank term decides).
        True: the variance of the spectrum divided by the square of its mean,
        :math:`\mathrm{var}(\lambda/\bar\lambda)`, which is free of the scale
        of D that eq. (14) lets the learning rate and batch size set (Remark
        15); this term is then large (about ``d / rank`` for a flat nonzero
        part), and it falls as the rank grows.

    Examples
    --------
    >>> s = Spectrum(np.array([6.0, 2.0, 0.0, 0.0]), d=4, n=10, method="exact", seconds=0.0)
    >>> s.rank_fraction, s.mean, s.variance
    (0.5, 2.0, 6.0)
    >>> architecture_score(s), architecture_score(s, normalised=True)
    (6.5, 2.0)
    """
    if not isinstance(spectrum, Spectrum):
        raise ValueError(f"spectrum must be a Spectrum, got {type(spectrum).__name__}")
    variance = spectrum.variance
    if normalised:
        variance = variance / spectrum.mean**2 if spectrum.mean > 0 else 0.0
    return spectrum.rank_fraction + variance


@dataclass(frozen=True)
class IsotropicControl:
    r"""What the spectrum of D would be for isotropic gradient noise (:func:`isotropic_control`).

    Attributes
    ----------
    rank : int
        :math:`\min(N - 1, d)`, the largest rank eq. (2) allows (Exercise 1 of
        the spectrum chapter), which isotropic noise attains.
    edge_ratio : float
        Largest over smallest non-zero eigenvalue, from the edges of the
        Marchenko-Pastur law.
    cv : float
        Standard deviation over mean of the non-zero eigenvalues,
        :math:`\sqrt c`.
    """

    rank: int
    edge_ratio: float
    cv: float


def isotropic_control(d: int, n: int) -> IsotropicControl:
    r"""The spectrum of D (eq. 2) for :math:`N` gradients of i.i.d. isotropic noise in
    :math:`\mathbb R^d`: the null of "no structure" for a measured spectrum.

    :math:`D = \frac1N G_c^\top G_c` with :math:`G_c` the centred :math:`N\times d`
    gradients has :math:`\min(N - 1, d)` non-zero eigenvalues.  For i.i.d.
    entries they follow, as :math:`N, d \to \infty`, the Marchenko-Pastur law of
    ratio :math:`c = \min(N-1, d)/\max(N-1, d)`: supported on
    :math:`[(1-\sqrt c)^2, (1+\sqrt c)^2]` up to scale, with variance
    :math:`c` times the squared mean.  Finite samples of a few hundred reach
    these edges to within about ten per cent.

    Parameters
    ----------
    d : int
        Number of weights.
    n : int
        Number of examples N, >= 2, with ``min(n - 1, d) < max(n - 1, d)``
        (at ``c = 1`` the smallest edge is zero).

    Examples
    --------
    >>> control = isotropic_control(100, 401)
    >>> control.rank, round(control.edge_ratio, 3), round(control.cv, 3)
    (100, 9.0, 0.5)
    """
    d = check.positive_int("d", d)
    n = check.positive_int("n", n)
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    small, large = sorted((n - 1, d))
    if small == large:
        raise ValueError("n - 1 == d: the smallest Marchenko-Pastur edge is zero")
    root = math.sqrt(small / large)
    return IsotropicControl(rank=small, edge_ratio=((1 + root) / (1 - root)) ** 2, cv=root)
