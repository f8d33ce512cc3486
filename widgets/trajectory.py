"""Explorer of Fig. 3: one weight of a long SGD run against Brownian baselines.

Sliders: the weight index, the largest lag and the chain.  Left: the
periodogram of that weight's increments :math:`x_{k+1} - x_k` (normalised,
log-binned; :func:`sgdlab.deep.brownian.compare`) against white noise of the
same length and variance, flat at 1.  Right: the autocorrelation of the
weight against Brownian motion with the same increments' law and the AR(1)
(Ornstein-Uhlenbeck) process fitted to it, with the 99 % band; the titles
give the spectral slopes and the fractions of lags 1..max outside the band.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from sgdlab.deep.brownian import Comparison, compare
from widgets._explorer import Explorer, StaticSweep
from widgets._static import BlitCanvas

__all__ = ["N_BINS", "STATIC_FRAMES", "Frame", "TrajectoryExplorer", "compute_frame",
           "trajectory_explorer"]

#: Logarithmic frequency bins of the periodograms.
N_BINS = 30
#: Frames precomputed for the static fallback of the built book.
STATIC_FRAMES = 12
_POWER_RANGE = (1e-2, 1e2)


@dataclass(frozen=True)
class Frame:
    """What the explorer shows for one weight of one chain.

    ``comparison`` is None for a weight that never moves (no spectrum).
    """

    weight: int
    chain: int
    max_lag: int
    comparison: Comparison | None


def compute_frame(weights: NDArray[np.floating], weight: int, max_lag: int, chain: int,
                  seed: int = 0) -> Frame:
    """:func:`sgdlab.deep.brownian.compare` for weight ``weight`` of chain ``chain``."""
    series = np.asarray(weights[chain, weight], dtype=float)
    moving = bool(np.any(np.diff(series) != 0))
    return Frame(weight=int(weight), chain=int(chain), max_lag=int(max_lag),
                 comparison=compare(series, max_lag, N_BINS, seed) if moving else None)


def _check_index(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")


class _Scene:
    """Two panels drawn once; each frame updates the curves and titles."""

    def __init__(self, n: int, lag_limit: int, dpi: float) -> None:
        self.fig = Figure(figsize=(9.0, 3.8), dpi=dpi, layout="constrained")
        self.ax_fft, self.ax_acf = self.fig.subplots(1, 2)
        self.ax_fft.set(xscale="log", yscale="log", xlim=(0.8 / n, 0.55), ylim=_POWER_RANGE,
                        xlabel="frequency (cycles per epoch)",
                        ylabel="power of $x_{k+1} - x_k$ / variance")
        self.ax_fft.axhline(1.0, color="k", lw=0.8)
        (self.white,) = self.ax_fft.plot([], [], color="0.6", lw=1.2,
                                         label="white noise, same length and variance")
        (self.fft,) = self.ax_fft.plot([], [], ".-", color="tab:blue", lw=1.2, label="SGD")
        self.ax_fft.legend(loc="upper right", fontsize=7)
        self.ax_acf.set(xlim=(0, lag_limit), ylim=(-0.6, 1.02), xlabel="lag (epochs)",
                        ylabel="autocorrelation of $x_k$")
        self.ax_acf.axhline(0.0, color="k", lw=0.6)
        (self.band_hi,) = self.ax_acf.plot([], [], ":", color="tab:red", lw=1,
                                           label="99 % band")
        (self.band_lo,) = self.ax_acf.plot([], [], ":", color="tab:red", lw=1)
        (self.bm,) = self.ax_acf.plot([], [], color="tab:orange", lw=1.2,
                                      label="Brownian motion, same increments")
        (self.ou,) = self.ax_acf.plot([], [], color="tab:green", lw=1.2,
                                      label="AR(1) / OU fitted")
        (self.acf,) = self.ax_acf.plot([], [], color="tab:blue", lw=1.5, label="SGD")
        self.ax_acf.legend(loc="upper right", fontsize=7)
        dynamic = [self.white, self.fft, self.band_hi, self.band_lo, self.bm, self.ou,
                   self.acf, self.ax_fft.title, self.ax_acf.title]
        self.canvas = BlitCanvas(self.fig, dynamic)

    def update(self, frame: Frame) -> None:
        cmp = frame.comparison
        name = f"weight {frame.weight}, chain {frame.chain}"
        if cmp is None:
            for line in (self.white, self.fft, self.band_hi, self.band_lo, self.bm, self.ou,
                         self.acf):
                line.set_data([], [])
            self.ax_fft.set_title(f"{name} never moves: no spectrum", fontsize=8)
            self.ax_acf.set_title("", fontsize=8)
            return
        self.white.set_data(cmp.freqs, np.clip(cmp.white_power[0], *_POWER_RANGE))
        self.fft.set_data(cmp.freqs, np.clip(cmp.power[0], *_POWER_RANGE))
        lags = np.arange(frame.max_lag + 1)
        for line, values in ((self.acf, cmp.acf), (self.bm, cmp.brownian_acf),
                             (self.ou, cmp.ou_acf)):
            line.set_data(lags, values[0])
        ends = [0, frame.max_lag]
        self.band_hi.set_data(ends, [cmp.band, cmp.band])
        self.band_lo.set_data(ends, [-cmp.band, -cmp.band])
        self.ax_fft.set_title(f"{name}: slope {cmp.slope[0]:+.2f}, "
                              f"white {cmp.white_slope[0]:+.2f}", fontsize=8)
        out = [100 * cmp.outside(key)[0] for key in ("acf", "brownian_acf", "ou_acf")]
        self.ax_acf.set_title("outside the band: SGD {:.0f} %, BM {:.0f} %, OU {:.0f} %"
                              .format(*out), fontsize=8)


class TrajectoryExplorer(Explorer):
    """Live explorer of one weight of a long SGD run (an ipywidgets ``VBox``).

    Parameters
    ----------
    weights : ndarray, shape (C, d, n)
        A run's snapshots (``weights`` of a :class:`sgdlab.deep.runs.Trajectory`; a memory map
        is read one series at a time).
    weight : int, default 0
        Initial weight index.
    max_lag : int, optional
        Initial largest lag; n // 4 if omitted.
    chain : int, default 0
        Initial chain.
    seed : int, default 0
        Seed of the baselines' noise.
    dpi : float, default 80

    Notes
    -----
    The built book shows :data:`STATIC_FRAMES` frames precomputed over moving
    weights of the current chain, at the current largest lag.
    """

    def __init__(self, weights: NDArray[np.floating], weight: int = 0,
                 max_lag: int | None = None, chain: int = 0, *, seed: int = 0,
                 dpi: float = 80) -> None:
        if np.ndim(weights) != 3 or weights.shape[2] < 16:
            raise ValueError(f"weights must have shape (C, d, n) with n >= 16, got "
                             f"{np.shape(weights)}")
        self.weights = weights
        self.seed = seed
        chains, d, n = weights.shape
        lag_limit = n // 2
        max_lag = n // 4 if max_lag is None else max_lag
        _check_index("weight", weight, 0, d - 1)
        _check_index("max_lag", max_lag, 2, lag_limit)
        _check_index("chain", chain, 0, chains - 1)
        style = {"description_width": "initial"}
        self.weight = W.IntSlider(value=weight, min=0, max=d - 1, style=style,
                                  description="weight index i")
        self.max_lag = W.IntSlider(value=max_lag, min=2, max=lag_limit, style=style,
                                   description="largest lag", continuous_update=False)
        self.chain = W.IntSlider(value=chain, min=0, max=chains - 1, style=style,
                                 description="chain (seed)")
        moving = np.flatnonzero(np.any(np.diff(np.asarray(weights[chain]), axis=1) != 0, axis=1))
        static = moving[np.linspace(0, moving.size - 1, STATIC_FRAMES).round().astype(int)]
        super().__init__([["weight", "chain"], ["max_lag"]], _Scene(n, lag_limit, dpi),
                         (StaticSweep("weight", tuple(int(i) for i in static),
                                      "weight index", fmt="{:.0f}"),))

    def compute(self, values: Mapping[str, Any]) -> Frame:
        """The frame for slider values ``weight``, ``max_lag`` and ``chain``."""
        return compute_frame(self.weights, values["weight"], values["max_lag"],
                             values["chain"], self.seed)

    def caption(self) -> str:
        """Caption of the static fallback."""
        return (f"Increment spectrum and autocorrelation of weights of chain {self.chain.value}"
                f", lags up to {self.max_lag.value}. Run the notebook to move every control.")


def trajectory_explorer(weights: NDArray[np.floating], **kwargs: Any) -> TrajectoryExplorer:
    """Return the trajectory explorer; arguments as in :class:`TrajectoryExplorer`."""
    return TrajectoryExplorer(weights, **kwargs)
