"""Is a long SGD trajectory Brownian?  Spectra and autocorrelations (Fig. 3, Remarks 17-18).

Each function takes a block of series, ``(k, n)``: row ``r`` is one weight's
values over ``n`` epochs.  The tests the paper reads off Fig. 3:

- Fig. 3a: the periodogram of the increments :math:`x_{k+1} - x_k`
  (:func:`periodogram`, normalised by their variance so that white noise is
  flat at 1), averaged in log-spaced frequency bins (:func:`binned`), and its
  slope on log-log axes (:func:`spectral_slope`; white noise: 0).
- Fig. 3b: the sample autocorrelation of :math:`x_k` (statsmodels'
  ``acf``, :func:`autocorrelation`) against the 99 % band
  :math:`\\pm z_{0.995}/\\sqrt n` (:func:`confidence_band`), summarised by the
  fraction of lags outside it (:func:`outside_band`).
- Fig. 3c: :math:`\\|\\nabla f(x_k)\\|/\\sqrt d` (:func:`normalised_gradient`).

Baselines of the same length: white noise with each series' mean and variance
(:func:`white_noise_like`); Brownian motion with the increments' mean and
variance (:func:`brownian_like`); the Ornstein-Uhlenbeck process sampled once
per epoch, i.e. the AR(1) process :math:`x_{k+1} = c + \\phi x_k + \\sigma\\xi_k`
fitted to each series (:func:`fit_ar1`, :func:`simulate_ar1`).
:func:`compare` computes all of it for a block, :func:`analyse` for a whole
run, reading its memory maps a block of weights at a time, and
:func:`summarise` condenses it into the numbers the chapter asserts.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import signal, stats
from statsmodels.tsa.stattools import acf
from tqdm.auto import tqdm

from sgdlab._typing import Array
from sgdlab._validation import positive_int

__all__ = ["HIGH", "LOW_CYCLES", "MIDDLE", "AR1Fit", "Comparison", "Summary", "analyse",
           "autocorrelation", "binned", "brownian_like", "chain_means", "chain_t_test", "compare",
           "confidence_band", "fit_ar1", "normalised_gradient", "outside_band",
           "outside_null_bound", "periodogram", "simulate_ar1", "spectral_slope", "summarise",
           "white_lags_quantile", "white_noise_like"]


def _series(name: str, x: ArrayLike, min_length: int = 4) -> Array:
    """``x`` as a finite float array ``(k, n)`` of non-constant rows (one row if 1-D)."""
    arr = np.array(x, dtype=float, ndmin=2)
    if arr.ndim != 2 or arr.shape[1] < min_length:
        raise ValueError(f"{name} must have shape (n,) or (k, n) with n >= {min_length}, "
                         f"got shape {np.shape(x)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    flat = np.flatnonzero(arr.std(axis=1) == 0)
    if flat.size:
        raise ValueError(f"{name}: row {flat[0]} is constant; its spectrum and "
                         "autocorrelation are undefined")
    return arr


def periodogram(x: ArrayLike) -> tuple[Array, Array]:
    """Periodogram of each row, normalised by its variance, at frequencies > 0.

    :math:`P_r(f_j) = |\\hat x_r(f_j)|^2 / (n\\,\\mathrm{var}\\,x_r)` with
    :math:`\\hat x` the FFT of the row minus its mean and
    :math:`f_j = j/n` cycles per epoch, :math:`j = 1..\\lfloor n/2\\rfloor`.
    Over all n frequencies (both signs, zero included) P averages to exactly
    1 (Parseval), so white noise of any variance is flat at 1.

    Returns
    -------
    freqs : ndarray, shape (n // 2,)
    power : ndarray, shape (k, n // 2)
    """
    arr = _series("x", x, min_length=2)
    n = arr.shape[1]
    centred = arr - arr.mean(axis=1, keepdims=True)
    power = np.abs(np.fft.rfft(centred, axis=1)) ** 2 / (n * centred.var(axis=1, keepdims=True))
    # numpy's stubs type the frequencies as floating of any precision; they are float64
    freqs: Array = np.fft.rfftfreq(n)[1:]  # type: ignore[assignment]
    return freqs, power[:, 1:]


def binned(freqs: ArrayLike, power: ArrayLike, n_bins: int = 30) -> tuple[Array, Array]:
    """Average a spectrum in ``n_bins`` log-spaced frequency bins (empty bins dropped).

    Returns
    -------
    centres : ndarray, shape (m,)
        Geometric mean of the frequencies in each non-empty bin, m <= n_bins.
    power : ndarray, shape (k, m)
        Mean power of each row in each bin.
    """
    n_bins = positive_int("n_bins", n_bins)
    f = np.asarray(freqs, dtype=float)
    p = np.array(power, dtype=float, ndmin=2)
    if f.ndim != 1 or f.size < 2 or np.any(f <= 0) or np.any(np.diff(f) <= 0):
        raise ValueError("freqs must be increasing positive frequencies")
    if p.shape[-1] != f.size:
        raise ValueError(f"power must have {f.size} columns, got shape {p.shape}")
    edges = np.geomspace(f[0], f[-1], n_bins + 1)
    which = np.clip(np.searchsorted(edges, f, side="right") - 1, 0, n_bins - 1)
    kept = np.unique(which)
    centres = np.array([np.exp(np.log(f[which == b]).mean()) for b in kept])
    means = np.stack([p[:, which == b].mean(axis=1) for b in kept], axis=1)
    return centres, means


def spectral_slope(freqs: ArrayLike, power: ArrayLike) -> Array:
    """Least-squares slope of :math:`\\log_{10} P` against :math:`\\log_{10} f`, per row.

    0 for a flat (white) spectrum, -2 for a random walk's, > 0 when power
    grows with frequency.
    """
    logf = np.log10(np.asarray(freqs, dtype=float))
    logp = np.log10(np.array(power, dtype=float, ndmin=2))
    if logp.shape[-1] != logf.size or logf.size < 2:
        raise ValueError(f"power must have {logf.size} >= 2 columns, got shape {logp.shape}")
    centred = logf - logf.mean()
    return (logp - logp.mean(axis=1, keepdims=True)) @ centred / (centred @ centred)


def autocorrelation(x: ArrayLike, nlags: int) -> Array:
    """Sample autocorrelation of each row at lags 0..nlags (statsmodels ``acf``, FFT)."""
    arr = _series("x", x)
    nlags = positive_int("nlags", nlags)
    if nlags >= arr.shape[1]:
        raise ValueError(f"nlags = {nlags} must be smaller than the length {arr.shape[1]}")
    return np.stack([acf(row, nlags=nlags, fft=True) for row in arr])


def confidence_band(n: int, level: float = 0.99) -> float:
    """Half-width :math:`z_{(1+\\mathrm{level})/2}/\\sqrt n` of the band around 0 for white noise.

    At level 0.99, :math:`2.576/\\sqrt n`: the red dotted lines of Fig. 3b.
    """
    n = positive_int("n", n)
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    return float(stats.norm.ppf((1 + level) / 2) / math.sqrt(n))


def outside_band(acfs: ArrayLike, n: int, level: float = 0.99) -> Array:
    """Fraction of lags 1..nlags whose autocorrelation leaves the band, per row."""
    a = np.array(acfs, dtype=float, ndmin=2)
    if a.shape[1] < 2:
        raise ValueError(f"acfs must have lags 0..nlags with nlags >= 1, got shape {a.shape}")
    return (np.abs(a[:, 1:]) > confidence_band(n, level)).mean(axis=1)


def white_lags_quantile(nlags: int, level: float = 0.99, quantile: float = 0.99) -> float:
    """Fraction of lags outside the ``level`` band that white noise exceeds with probability
    ``1 - quantile``.

    For white noise the sample autocorrelations at lags 1..nlags are nearly
    independent, each outside the band with probability ``1 - level``, so the
    number of lags outside is Binomial(nlags, 1 - level); this is its
    ``quantile`` over ``nlags``.

    Examples
    --------
    >>> white_lags_quantile(200)
    0.03
    """
    nlags = positive_int("nlags", nlags)
    for name, value in (("level", level), ("quantile", quantile)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must lie in (0, 1), got {value!r}")
    return float(stats.binom.ppf(quantile, nlags, 1 - level) / nlags)


def outside_null_bound(n_series: int, p_null: float, n_se: float = 4.0) -> float:
    """Upper bound on a fraction of ``n_series`` independent series that each pass a test
    with probability ``1 - p_null`` under the null: ``p_null`` plus ``n_se`` binomial
    standard errors.

    Examples
    --------
    >>> round(outside_null_bound(10_000, 0.01), 4)
    0.014
    """
    k = positive_int("n_series", n_series)
    if not 0 <= p_null < 1 or not n_se > 0:
        raise ValueError(f"need 0 <= p_null < 1 and n_se > 0, got {p_null!r}, {n_se!r}")
    return float(p_null + n_se * math.sqrt(p_null * (1 - p_null) / k))


def chain_means(rows: ArrayLike, values: ArrayLike, d: int) -> Array:
    """Mean of a per-series quantity over the series of each chain.

    ``rows`` are the series' labels ``c * d + i`` (``Comparison.rows``);
    the chains are independent runs, so their means are independent samples
    for :func:`chain_t_test`.

    Examples
    --------
    >>> chain_means([0, 1, 3, 5], [1.0, 3.0, 10.0, 20.0], d=3)
    array([ 2., 15.])
    """
    r = np.asarray(rows, dtype=np.intp)
    v = np.asarray(values, dtype=float)
    d = positive_int("d", d)
    if r.ndim != 1 or v.shape != r.shape or np.any(r < 0):
        raise ValueError("rows and values must be 1-D of the same length, rows >= 0")
    chain = r // d
    present = np.unique(chain)
    return np.array([v[chain == c].mean() for c in present])


def chain_t_test(per_chain: ArrayLike, null: float,
                 alternative: Literal["two-sided", "less", "greater"] = "two-sided") -> float:
    """p-value of Student's one-sample t test of the chains' values against ``null``.

    ``alternative`` as in ``scipy.stats.ttest_1samp``: ``"greater"`` tests that
    the chains' mean exceeds ``null``.  Needs at least two chains.

    Examples
    --------
    >>> chain_t_test([5.1, 5.3, 4.9, 5.2], 1.0, "greater") < 1e-4
    True
    """
    x = np.asarray(per_chain, dtype=float)
    if x.ndim != 1 or x.size < 2 or not np.all(np.isfinite(x)):
        raise ValueError("per_chain must hold finite values of at least two chains")
    if alternative not in {"two-sided", "greater", "less"}:
        raise ValueError(f"alternative must be two-sided, greater or less, got {alternative!r}")
    return float(stats.ttest_1samp(x, null, alternative=alternative).pvalue)


def white_noise_like(x: ArrayLike, rng: np.random.Generator) -> Array:
    """Gaussian white noise with each row's length, mean and variance."""
    arr = _series("x", x, min_length=2)
    noise = rng.standard_normal(arr.shape)
    return arr.mean(axis=1, keepdims=True) + arr.std(axis=1, keepdims=True) * noise


def brownian_like(x: ArrayLike, rng: np.random.Generator, *, drift: bool = True) -> Array:
    """Brownian motion sampled once per epoch, from each row's start, with its increments' law.

    A random walk whose Gaussian steps have the mean and variance of the
    row's increments (a drift, if the row has one, is kept unless ``drift`` is False).
    """
    arr = _series("x", x)
    increments = np.diff(arr, axis=1)
    if not drift:
        increments = increments - increments.mean(axis=1, keepdims=True)
    steps = white_noise_like(increments, rng)
    return np.concatenate([arr[:, :1], arr[:, :1] + np.cumsum(steps, axis=1)], axis=1)


@dataclass(frozen=True)
class AR1Fit:
    """AR(1) fits :math:`x_{k+1} = c + \\phi x_k + \\sigma \\xi_k`, one per row.

    Attributes
    ----------
    intercept, phi, sigma : ndarray, shape (k,)
    residuals : ndarray, shape (k, n - 1)
    """

    intercept: Array
    phi: Array
    sigma: Array
    residuals: Array

    @property
    def stationary(self) -> NDArray[np.bool_]:
        """Rows with :math:`|\\phi| < 1`: an Ornstein-Uhlenbeck process sampled every epoch."""
        return np.abs(self.phi) < 1

    @property
    def relaxation(self) -> Array:
        """Relaxation time :math:`-1/\\ln\\phi` in epochs (inf where :math:`\\phi \\ge 1`)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((self.phi > 0) & (self.phi < 1), -1 / np.log(self.phi), np.inf)


def fit_ar1(x: ArrayLike) -> AR1Fit:
    """Conditional least-squares AR(1) fit with intercept of each row.

    The estimate statsmodels' ``AutoReg(row, lags=1, trend="c").fit()``
    computes (``params`` = (c, phi), ``sigma2`` = mean squared residual),
    vectorised over rows.
    """
    arr = _series("x", x)
    past, future = arr[:, :-1], arr[:, 1:]
    dp = past - past.mean(axis=1, keepdims=True)
    phi = (dp * (future - future.mean(axis=1, keepdims=True))).sum(axis=1) / (dp * dp).sum(axis=1)
    intercept = future.mean(axis=1) - phi * past.mean(axis=1)
    residuals = future - intercept[:, None] - phi[:, None] * past
    return AR1Fit(intercept=intercept, phi=phi, sigma=np.sqrt((residuals ** 2).mean(axis=1)),
                  residuals=residuals)


def simulate_ar1(fit: AR1Fit, start: ArrayLike, n: int, rng: np.random.Generator) -> Array:
    """One path of length ``n`` of each fitted AR(1) process, from ``start`` (one per row)."""
    n = positive_int("n", n)
    x0 = np.asarray(start, dtype=float)
    if x0.shape != fit.phi.shape:
        raise ValueError(f"start must have shape {fit.phi.shape}, got {x0.shape}")
    drive = fit.intercept[:, None] + fit.sigma[:, None] * rng.standard_normal((x0.size, n - 1))
    out = np.empty((x0.size, n))
    out[:, 0] = x0
    for row, (phi, u) in enumerate(zip(fit.phi, drive, strict=True)):
        # y_k = phi y_{k-1} + u_k from y_0 = x0: the filter's state starts at phi x0
        out[row, 1:] = signal.lfilter([1.0], [1.0, -phi], u, zi=[phi * x0[row]])[0]
    return out


def normalised_gradient(grad_norm: ArrayLike, d: int) -> Array:
    """:math:`\\|\\nabla f(x_k)\\|/\\sqrt d`, the quantity of Fig. 3c."""
    g = np.asarray(grad_norm, dtype=float)
    if np.any(g < 0) or not np.all(np.isfinite(g)):
        raise ValueError("grad_norm must hold finite non-negative norms")
    return g / math.sqrt(positive_int("d", d))


@dataclass(frozen=True)
class Comparison:
    """The tests of Fig. 3a-b for a block of series against their baselines (rows as given).

    Attributes
    ----------
    n : int
        Length of each series (epochs).
    rows : ndarray of int, shape (k,)
        Which series each row is: its row in the block given to
        :func:`compare`, or ``c * d + i`` for weight i of chain c in
        :func:`analyse`.
    freqs : ndarray, shape (m,)
        Centres of the frequency bins (cycles per epoch).
    power, white_power : ndarray, shape (k, m)
        Binned normalised periodogram of the increments, and of white noise
        of the same length and variance.
    slope, white_slope : ndarray, shape (k,)
        Their :func:`spectral_slope`.
    acf, brownian_acf, ou_acf : ndarray, shape (k, nlags + 1)
        Autocorrelation of the series, of :func:`brownian_like` and of the
        fitted AR(1) (:func:`simulate_ar1`).
    increment_acf, residual_acf : ndarray, shape (k, nlags + 1)
        Autocorrelation of the increments, and of the AR(1) residuals (white
        if the fit explains the series).
    ar1 : AR1Fit
        Without residuals, to keep a whole run small.
    """

    n: int
    rows: NDArray[np.intp]
    freqs: Array
    power: Array
    white_power: Array
    slope: Array
    white_slope: Array
    acf: Array
    brownian_acf: Array
    ou_acf: Array
    increment_acf: Array
    residual_acf: Array
    ar1: AR1Fit

    @property
    def band(self) -> float:
        """The 99 % band of an autocorrelation of length n."""
        return confidence_band(self.n)

    def outside(self, name: str) -> Array:
        """:func:`outside_band` of the autocorrelation called ``name`` (e.g. ``"ou_acf"``)."""
        if name not in {"acf", "brownian_acf", "ou_acf", "increment_acf", "residual_acf"}:
            raise ValueError(f"name must name an autocorrelation field, got {name!r}")
        n = self.n - 1 if name in {"increment_acf", "residual_acf"} else self.n
        return outside_band(getattr(self, name), n)

    @staticmethod
    def concat(parts: list[Comparison]) -> Comparison:
        """Stack the rows of comparisons made with the same n, bins and lags."""
        if not parts:
            raise ValueError("parts must not be empty")
        first = parts[0]
        if any(p.n != first.n or not np.array_equal(p.freqs, first.freqs) for p in parts):
            raise ValueError("parts must share n and frequency bins")
        rows = {f.name: np.concatenate([getattr(p, f.name) for p in parts])
                for f in fields(Comparison) if f.name not in {"n", "freqs", "ar1"}}
        ar1 = AR1Fit(*(np.concatenate([getattr(p.ar1, f.name) for p in parts])
                       for f in fields(AR1Fit)))
        return Comparison(n=first.n, freqs=first.freqs, ar1=ar1, **rows)


def compare(x: ArrayLike, nlags: int, n_bins: int = 30, seed: int = 0) -> Comparison:
    """Every test of Fig. 3a-b for the rows of ``x`` and for their baselines.

    Parameters
    ----------
    x : array_like, shape (n,) or (k, n)
        Series, one per row (a weight over epochs).
    nlags : int
        Largest lag of the autocorrelations, < n - 1.
    n_bins : int, default 30
        Log-spaced frequency bins of the spectra.
    seed : int, default 0
        Seed of the baselines' noise.
    """
    arr = _series("x", x)
    rng = np.random.default_rng(seed)
    steps = np.diff(arr, axis=1)
    freqs, raw = periodogram(steps)
    centres, power = binned(freqs, raw, n_bins)
    white = binned(freqs, periodogram(white_noise_like(steps, rng))[1], n_bins)[1]
    fit = fit_ar1(arr)
    n = arr.shape[1]
    return Comparison(
        n=n, rows=np.arange(arr.shape[0]), freqs=centres, power=power, white_power=white,
        slope=spectral_slope(centres, power), white_slope=spectral_slope(centres, white),
        acf=autocorrelation(arr, nlags),
        brownian_acf=autocorrelation(brownian_like(arr, rng), nlags),
        ou_acf=autocorrelation(simulate_ar1(fit, arr[:, 0], n, rng), nlags),
        increment_acf=autocorrelation(steps, nlags),
        residual_acf=autocorrelation(fit.residuals, nlags),
        ar1=AR1Fit(fit.intercept, fit.phi, fit.sigma, np.empty((arr.shape[0], 0))))


def analyse(weights: NDArray[np.floating], nlags: int, n_bins: int = 30, seed: int = 0,
            block: int = 256, progress: bool = True) -> Comparison:
    """:func:`compare` for every moving weight of every chain of a run, a block at a time.

    Weights that never change (their increments all zero: e.g. a bias that
    BatchNorm cancels) have no spectrum; they are left out, and
    the ``rows`` of the :class:`Comparison` say which series were kept.

    Parameters
    ----------
    weights : ndarray, shape (C, d, n)
        A run's snapshots (``weights`` of a :class:`sgdlab.deep.runs.Trajectory`, a
        memory map).
    nlags, n_bins, seed
        As in :func:`compare`; block ``j`` uses seed ``seed + j``.
    block : int, default 256
        Weights read into memory at once.
    progress : bool, default True

    Returns
    -------
    Comparison
        Rows in the order (chain, weight), moving weights only.
    """
    if np.ndim(weights) != 3:
        raise ValueError(f"weights must have shape (C, d, n), got {np.shape(weights)}")
    block = positive_int("block", block)
    chains, d, _ = weights.shape
    starts = [(c, i) for c in range(chains) for i in range(0, d, block)]
    parts = []
    for j, (c, i) in enumerate(tqdm(starts, disable=not progress, desc="weights")):
        x = np.asarray(weights[c, i:i + block], dtype=float)
        moving = np.flatnonzero(np.any(np.diff(x, axis=1) != 0, axis=1))
        if moving.size:
            part = compare(x[moving], nlags, n_bins, seed + j)
            parts.append(dataclasses.replace(part, rows=c * d + i + moving))
    if not parts:
        raise ValueError("weights: no weight moves; nothing to analyse")
    return Comparison.concat(parts)


# Frequency bands of summarise, for a run of n epochs.
#: Top of the lowest band of :func:`summarise`, in cycles per run of n epochs (the
#: band's periods are longer than n/3).
LOW_CYCLES = 3
#: The middle band of :func:`summarise`, from ``MIDDLE[0]`` cycles per run to
#: ``MIDDLE[1]`` cycles per epoch (periods from n/10 down to 20 epochs).
MIDDLE = (10, 0.05)
#: Bottom of the highest band of :func:`summarise`, in cycles per epoch (periods
#: shorter than 5 epochs).
HIGH = 0.2


@dataclass(frozen=True)
class Summary:
    """The numbers of Fig. 3a-b for a whole run (:func:`summarise`).

    Attributes
    ----------
    low_excess : float
        Mean power of the increments at frequencies <= LOW_CYCLES / n, over
        white noise's.
    middle_min : float
        Lowest mean power in the middle band, MIDDLE[0] / n < f < MIDDLE[1].
    white_middle : tuple of float
        White noise's lowest and highest mean power in that band.
    high_level : float
        Mean power at f > HIGH.
    low_spread : float
        Standard deviation over weights of the power at the lowest
        frequencies, over white noise's.
    off_slope : float
        Fraction of weights whose spectral slope lies outside the central
        99 % of white noise's slopes.
    outside : dict of str to float
        Mean fraction of lags outside the 99 % band, per autocorrelation field.
    increments_median, increments_many : float
        Median fraction of lags at which the increments' autocorrelation
        leaves the band, and fraction of weights for which it exceeds 10 %.
    acf_gap : float
        Largest gap between the mean autocorrelations of the weights and of
        Brownian motion.
    phi_median, long_relaxation, residual_median : float
        Median AR(1) coefficient, fraction of weights whose relaxation time
        exceeds n, median fraction of lags outside the band of the AR(1)
        residuals.
    """

    low_excess: float
    middle_min: float
    white_middle: tuple[float, float]
    high_level: float
    low_spread: float
    off_slope: float
    outside: dict[str, float]
    increments_median: float
    increments_many: float
    acf_gap: float
    phi_median: float
    long_relaxation: float
    residual_median: float


def summarise(cmp: Comparison) -> Summary:
    """Condense a :class:`Comparison` of a run into the numbers of Fig. 3a-b (:class:`Summary`)."""
    if not isinstance(cmp, Comparison):
        raise ValueError(f"cmp must be a Comparison, got {type(cmp).__name__}")
    n, f = cmp.n, cmp.freqs
    low, high = f <= LOW_CYCLES / n, f > HIGH
    middle = (f > MIDDLE[0] / n) & (f < MIDDLE[1])
    if not (low.any() and middle.any() and high.any()):
        raise ValueError(f"cmp: a run of {n} epochs is too short for the frequency bands")
    sgd, white = cmp.power.mean(axis=0), cmp.white_power.mean(axis=0)
    lo, hi = np.quantile(cmp.white_slope, [0.005, 0.995])
    names = ("acf", "brownian_acf", "ou_acf", "increment_acf", "residual_acf")
    increments = cmp.outside("increment_acf")
    return Summary(
        low_excess=float(sgd[low].mean() / white[low].mean()),
        middle_min=float(sgd[middle].min()),
        white_middle=(float(white[middle].min()), float(white[middle].max())),
        high_level=float(sgd[high].mean()),
        low_spread=float(cmp.power[:, low].std(axis=0).mean()
                         / cmp.white_power[:, low].std(axis=0).mean()),
        off_slope=float(np.mean((cmp.slope < lo) | (cmp.slope > hi))),
        outside={name: float(cmp.outside(name).mean()) for name in names},
        increments_median=float(np.median(increments)),
        increments_many=float(np.mean(increments > 0.1)),
        acf_gap=float(np.abs(cmp.acf.mean(axis=0) - cmp.brownian_acf.mean(axis=0)).max()),
        phi_median=float(np.median(cmp.ar1.phi)),
        long_relaxation=float(np.mean(cmp.ar1.relaxation > n)),
        residual_median=float(np.median(cmp.outside("residual_acf"))))
