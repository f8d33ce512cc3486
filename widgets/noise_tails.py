"""Explorer of the tail index of mini-batch noise (Part V): sliders for b and the estimator.

Left: the estimate :math:`\\hat\\alpha` against the batch size for one of the
three estimators of :mod:`sgdlab.core.tail_index`, on the noise of tiny-fc and on
its Gaussian stand-ins :math:`N(0, D/b)` and :math:`N(0, \\mathrm{diag}(D)/b)`, with
two standard errors; for the pooled estimator also the closed-form value it
takes on each stand-in (:func:`sgdlab.core.tail_index.pooled_gaussian_inverse`).
Right: at the chosen ``b``, the histogram of the per-column estimates (one per
coordinate or projection) of the noise and of :math:`N(0, D/b)`.  The results
are those of :func:`sgdlab.deep.noise_tails.run`; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from sgdlab.deep.noise_tails import BATCH_SIZES, ESTIMATORS, INSTANTS, SOURCES, curve
from sgdlab.sweep import Result
from widgets._explorer import Explorer, StaticSweep
from widgets._static import BlitCanvas

__all__ = ["Frame", "NoiseTailsExplorer", "compute_frame", "noise_tails_explorer"]

Results = Mapping[tuple[str, int, int, str], Result]
_STYLE = {"noise": ("tab:red", "-", "noise"), "gaussian": ("k", "--", "N(0, D/b)"),
          "diagonal": ("tab:blue", ":", "N(0, diag D/b)")}
_BINS = np.linspace(0.0, 3.5, 36)


@dataclass(frozen=True)
class Frame:
    """What the explorer shows for one instant, estimator and batch size."""

    instant: str
    estimator: str
    b: int
    alpha: dict[str, NDArray[np.float64]]
    band: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]
    columns: dict[str, NDArray[np.float64]]
    prediction: dict[str, float]


def compute_frame(results: Results, instant: str, estimator: str, b: int) -> Frame:
    """The frame of ``results`` (keyed as :func:`sgdlab.deep.noise_tails.run`) at one point."""
    if b not in BATCH_SIZES:
        raise ValueError(f"b must be one of {BATCH_SIZES}, got {b!r}")
    alpha, band = {}, {}
    for source in SOURCES:
        inv, se = curve(results, instant, estimator, source)
        alpha[source] = 1.0 / inv
        band[source] = (1.0 / (inv + 2 * se), 1.0 / np.maximum(inv - 2 * se, 1e-9))
    point = results[(instant, 0, b, estimator)]
    columns = {s: np.asarray(point[s]["alpha"]) for s in ("noise", "gaussian")}
    prediction = ({s: 1.0 / v for s, v in point["prediction"].items()}
                  if estimator == "pooled" else {})
    return Frame(instant, estimator, b, alpha, band, columns, prediction)


class _Scene:
    def __init__(self, dpi: float) -> None:
        self.fig = Figure(figsize=(10.0, 4.0), dpi=dpi)
        self.fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.9, wspace=0.25)
        self.ax, self.hist = self.fig.subplots(1, 2)
        ax, hist = self.ax, self.hist
        nan = np.full(len(BATCH_SIZES), np.nan)
        self.lines, self.edges, self.levels, self.bars = {}, {}, {}, {}
        for source, (colour, style, label) in _STYLE.items():
            (self.lines[source],) = ax.plot(BATCH_SIZES, nan, style, color=colour, marker="o",
                                            ms=3, label=label)
            self.edges[source] = [ax.plot(BATCH_SIZES, nan, "-", color=colour, lw=0.5,
                                          alpha=0.5)[0] for _ in range(2)]
            self.levels[source] = ax.axhline(np.nan, color=colour, lw=0.8, alpha=0.6)
        ax.axhline(2.0, color="0.5", lw=0.8)
        self.marker = ax.axvline(1.0, color="0.3", lw=0.8)
        ax.set(xlabel="batch size b", ylabel="estimated α", ylim=(0.5, 2.4))
        ax.set_xscale("log", base=2)
        ax.legend(fontsize=8, loc="lower right")
        for source in ("noise", "gaussian"):
            colour, _, label = _STYLE[source]
            self.bars[source] = hist.stairs(np.zeros(len(_BINS) - 1), _BINS, fill=True,
                                            color=colour, alpha=0.5, label=label)
        hist.axvline(2.0, color="0.5", lw=0.8)
        hist.set(xlabel="α̂ of each column", ylabel="fraction of columns", ylim=(0.0, 1.0))
        hist.legend(fontsize=8)
        dynamic = [*self.lines.values(), *(e for pair in self.edges.values() for e in pair),
                   *self.levels.values(), self.marker, *self.bars.values(), ax.title,
                   hist.title]
        self.canvas = BlitCanvas(self.fig, dynamic)

    def update(self, frame: Frame) -> None:
        for source in SOURCES:
            self.lines[source].set_ydata(frame.alpha[source])
            for edge, values in zip(self.edges[source], frame.band[source], strict=True):
                edge.set_ydata(values)
            level = frame.prediction.get(source, np.nan)
            self.levels[source].set_ydata([level, level])
        self.marker.set_xdata([frame.b, frame.b])
        for source, bars in self.bars.items():
            counts, _ = np.histogram(np.clip(frame.columns[source], _BINS[0], _BINS[-1]),
                                     bins=_BINS)
            bars.set_data(counts / counts.sum())
        self.ax.set_title(f"{frame.instant}: {frame.estimator} (α of the mean of 1/α̂)",
                          fontsize=9)
        self.hist.set_title(f"b = {frame.b}: {frame.columns['noise'].size} column(s)",
                            fontsize=9)


class NoiseTailsExplorer(Explorer):
    """Live explorer of the tail-index estimates over b and the estimator (an ipywidgets ``VBox``).

    Parameters
    ----------
    results : mapping
        :func:`sgdlab.deep.noise_tails.run`'s results (seed 0 is shown).
    instant : {"init", "trained"}, default "trained"
    estimator : {"pooled", "coordinates", "projections"}, default "coordinates"
    b : int, default 1
        One of :data:`~sgdlab.deep.noise_tails.BATCH_SIZES`.
    dpi : float, default 72

    Notes
    -----
    In the built book its display carries an HTML fallback with a frame for every
    batch size and estimator at the current instant.
    """

    def __init__(self, results: Results, instant: str = "trained",
                 estimator: str = "coordinates", b: int = 1, *, dpi: float = 72) -> None:
        if instant not in INSTANTS or estimator not in ESTIMATORS:
            raise ValueError(f"instant must be one of {INSTANTS} and estimator one of "
                             f"{ESTIMATORS}, got {instant!r}, {estimator!r}")
        self._results = results
        style = {"description_width": "initial"}
        self.b = W.SelectionSlider(options=list(BATCH_SIZES), value=b, description="batch size b",
                                   style=style)
        self.estimator = W.SelectionSlider(options=[(e, i) for i, e in enumerate(ESTIMATORS)],
                                           value=ESTIMATORS.index(estimator),
                                           description="estimator", style=style)
        self.instant = W.ToggleButtons(options=list(INSTANTS), value=instant)
        super().__init__([["b", "estimator"], ["instant"]], _Scene(dpi),
                         (StaticSweep("b", BATCH_SIZES, "batch size b", fmt="{:.0f}"),
                          StaticSweep("estimator", tuple(range(len(ESTIMATORS))), "estimator",
                                      names=ESTIMATORS)))

    def compute(self, values: Mapping[str, Any]) -> Frame:
        """The frame for slider values ``b``, ``estimator`` (an index) and ``instant``."""
        return compute_frame(self._results, values["instant"], ESTIMATORS[values["estimator"]],
                             values["b"])

    def caption(self) -> str:
        """Caption of the static fallback."""
        return (f"Tail-index estimates of tiny-fc's mini-batch noise, {self.instant.value} "
                "weights. Run the notebook to switch the instant.")


def noise_tails_explorer(results: Results, **kwargs: Any) -> NoiseTailsExplorer:
    """Return the tail-index explorer; arguments as in :class:`NoiseTailsExplorer`."""
    return NoiseTailsExplorer(results, **kwargs)
