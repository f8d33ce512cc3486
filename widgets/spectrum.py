"""Explorer of Figs. 1-2: the eigenspectrum of D(x) of a network during training.

Controls: the network (a panel of Figs. 1-2), the training instant (20 %,
40 %, 100 %) and the rank threshold, relative to the largest eigenvalue
(numpy's rule, the paper's footnote 1, is :math:`d\\,\\varepsilon_{32}`).
Left: the histogram of the eigenvalues above the threshold on log axes, the
chosen instant filled and the other two outlined, as in Fig. 1.  Right: the
rank fraction :math:`\\mathrm{rank}(D)/d` as a function of the threshold at
the three instants.  The explorer draws spectra computed beforehand
(:func:`sgdlab.deep.spectra.measure`); moving a control only thresholds and bins them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from sgdlab.core.plotting import INSTANT_GREYS
from sgdlab.deep.eigenspectrum import EPS32, Spectrum, moments
from widgets._explorer import Explorer, StaticSweep
from widgets._static import BlitCanvas

__all__ = ["LOG_THRESHOLD_RANGE", "STATIC_LOG_THRESHOLDS", "Frame", "SpectrumExplorer",
           "compute_frame", "spectrum_explorer", "thresholded"]

#: Range of log10(threshold / lambda_max) the threshold slider covers, from just
#: below numpy's rule (d eps32 is 10^-2.8 for small-lenet, 10^-3.3 for small-fc;
#: below the rule the fast path's eigenvalues are only lower bounds) upwards.
LOG_THRESHOLD_RANGE = (-3.5, -0.5)
#: The thresholds precomputed for the static fallback of the built book.
STATIC_LOG_THRESHOLDS = tuple(np.round(np.linspace(*LOG_THRESHOLD_RANGE, 13), 2))
_BINS = 40


@dataclass(frozen=True)
class Frame:
    """What the explorer shows for one setting of its controls."""

    network: str
    instant: float
    log_threshold: float
    counts: dict[float, NDArray[np.float64]]
    edges: NDArray[np.float64]
    rank: int
    d: int
    mean: float
    std: float


def thresholded(spectrum: Spectrum, log_threshold: float) -> NDArray[np.float64]:
    """Eigenvalues above ``10**log_threshold * lambda_max``."""
    ev = spectrum.eigenvalues
    return ev[ev > 10.0**log_threshold * ev[0]]


class _Scene:
    def __init__(self, spectra: Mapping[str, Mapping[float, Spectrum]], dpi: float) -> None:
        self.spectra = spectra
        self.grid = np.logspace(*LOG_THRESHOLD_RANGE, 200)
        self.curves = {name: {t: self._rank_curve(s) for t, s in by_instant.items()}
                       for name, by_instant in spectra.items()}
        tops = [s.eigenvalues[0] for by in spectra.values() for s in by.values()]
        positive = [c[c > 0] for by in self.curves.values() for c in by.values()]
        self.fig = Figure(figsize=(9.0, 3.8), dpi=dpi, layout="constrained")
        self.ax_hist, self.ax_rank = self.fig.subplots(1, 2)
        # Axes common to every network, so that switching network only blits.
        self.ax_hist.set(xscale="log", yscale="log", xlabel="eigenvalue λ of D", ylabel="count",
                         xlim=(10.0**LOG_THRESHOLD_RANGE[0] * min(tops), 2 * max(tops)),
                         ylim=(0.7, max(s.eigenvalues.size for by in spectra.values()
                                        for s in by.values()) / 2))
        self.ax_rank.set(xscale="log", yscale="log", ylabel="rank(D) / d",
                         xlabel="threshold / $\\lambda_{max}$",
                         xlim=(self.grid[0], self.grid[-1]),
                         ylim=(0.5 * min(c.min() for c in positive),
                               2 * max(c.max() for c in positive)))
        self.stairs = {t: self.ax_hist.stairs([1.0], [1.0, 2.0], color=grey,
                                              fill=t == 1.0, alpha=0.9,
                                              label=f"{round(100 * t)} % of training")
                       for t, grey in INSTANT_GREYS.items()}
        self.hist_line = self.ax_hist.axvline(max(tops), color="tab:red", lw=1)
        self.rank_lines = {t: self.ax_rank.plot([], [], color=grey)[0]
                           for t, grey in INSTANT_GREYS.items()}
        self.rank_line = self.ax_rank.axvline(self.grid[0], color="tab:red", lw=1)
        self.rank_dot = self.ax_rank.plot([], [], "o", color="tab:red")[0]
        self.ax_hist.legend(loc="upper right", fontsize=7)
        self.canvas = BlitCanvas(self.fig, [*self.stairs.values(), self.hist_line,
                                            *self.rank_lines.values(), self.rank_line,
                                            self.rank_dot, self.ax_hist.title,
                                            self.ax_rank.title])

    def _rank_curve(self, spectrum: Spectrum) -> NDArray[np.float64]:
        """rank(D)/d as a function of the relative threshold (on :attr:`grid`)."""
        ev = spectrum.eigenvalues
        above = np.searchsorted(-ev, -self.grid * ev[0], side="left")
        return above / spectrum.d

    def update(self, frame: Frame) -> None:
        for t, line in self.rank_lines.items():
            line.set_data(self.grid, np.maximum(self.curves[frame.network][t], 1e-12))
        for t, stairs in self.stairs.items():
            stairs.set_data(np.maximum(frame.counts[t], 1e-3), frame.edges)
        threshold = 10.0**frame.log_threshold
        top = self.spectra[frame.network][frame.instant].eigenvalues[0]
        self.hist_line.set_xdata([threshold * top] * 2)
        self.rank_line.set_xdata([threshold] * 2)
        self.rank_dot.set_data([threshold], [max(frame.rank, 1) / frame.d])
        self.ax_hist.set_title(
            f"{frame.network}, {round(100 * frame.instant)} %: λ = ({frame.mean:.2g} ± "
            f"{frame.std:.2g})", fontsize=8)
        self.ax_rank.set_title(f"rank(D) = {frame.rank} of d = {frame.d} "
                               f"({100 * frame.rank / frame.d:.2f} %)", fontsize=8)


def compute_frame(spectra: Mapping[float, Spectrum], network: str, instant: float,
                  log_threshold: float) -> Frame:
    """Threshold and bin the three spectra of a network; statistics of the chosen instant."""
    chosen = spectra[instant]
    top = max(s.eigenvalues[0] for s in spectra.values())
    edges = np.logspace(LOG_THRESHOLD_RANGE[0] + math.log10(top), math.log10(2 * top),
                        _BINS + 1)
    counts = {t: np.histogram(thresholded(s, log_threshold), edges)[0].astype(float)
              for t, s in spectra.items()}
    kept = thresholded(chosen, log_threshold)
    mean, variance = moments(kept, chosen.d)
    return Frame(network, instant, float(log_threshold), counts, edges, kept.size, chosen.d,
                 mean, math.sqrt(variance))


class SpectrumExplorer(Explorer):
    """Live explorer of the spectra of D(x) along training (an ipywidgets ``VBox``).

    Parameters
    ----------
    spectra : mapping of str to mapping of float to Spectrum
        For each network (or panel), its spectra at the fractions 0.2, 0.4 and
        1.0 of training, e.g. ``{name: run.spectra}`` of
        :func:`sgdlab.deep.spectra.measure`.
    network : str, optional
        Initial network; the first one when omitted.
    dpi : float, default 80

    Raises
    ------
    ValueError
        If ``spectra`` is empty or a network lacks one of the three instants.

    Notes
    -----
    The static fallback of the built book sweeps the threshold over
    :data:`STATIC_LOG_THRESHOLDS` at the current network and instant.
    """

    def __init__(self, spectra: Mapping[str, Mapping[float, Spectrum]],
                 network: str | None = None, *, dpi: float = 80) -> None:
        if not spectra:
            raise ValueError("spectra must hold at least one network")
        for name, by_instant in spectra.items():
            if set(by_instant) != set(INSTANT_GREYS):
                raise ValueError(f"spectra[{name!r}] must have the instants "
                                 f"{sorted(INSTANT_GREYS)}, got {sorted(by_instant)}")
        self.spectra = {name: dict(by_instant) for name, by_instant in spectra.items()}
        first = next(iter(self.spectra))
        d = self.spectra[network or first][1.0].d
        style = {"description_width": "initial"}
        self.network = W.Dropdown(options=list(self.spectra), value=network or first,
                                  description="network", style=style)
        self.instant = W.ToggleButtons(options=[("20 %", 0.2), ("40 %", 0.4), ("100 %", 1.0)],
                                       value=1.0, style=style)
        self.log_threshold = W.FloatSlider(
            value=round(math.log10(d * EPS32), 2), min=LOG_THRESHOLD_RANGE[0],
            max=LOG_THRESHOLD_RANGE[1], step=0.05, style=style,
            description="log10 threshold / λmax")
        super().__init__([["network", "instant"], ["log_threshold"]],
                         _Scene(self.spectra, dpi),
                         (StaticSweep("log_threshold", STATIC_LOG_THRESHOLDS,
                                      "log<sub>10</sub> threshold / &lambda;<sub>max</sub>"),))

    def compute(self, values: Mapping[str, Any]) -> Frame:
        """The frame for control values ``network``, ``instant`` and ``log_threshold``."""
        return compute_frame(self.spectra[values["network"]], values["network"],
                             values["instant"], values["log_threshold"])

    def caption(self) -> str:
        """Caption of the static fallback."""
        return (f"The spectrum of D for {self.network.value} at "
                f"{round(100 * self.instant.value)} % of training, thresholded at "
                "each value of the slider. Run the notebook to change the network or "
                "the instant.")


def spectrum_explorer(spectra: Mapping[str, Mapping[float, Spectrum]],
                      **kwargs: Any) -> SpectrumExplorer:
    """Return the spectrum explorer; arguments as in :class:`SpectrumExplorer`."""
    return SpectrumExplorer(spectra, **kwargs)
