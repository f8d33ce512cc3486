"""Explorer of Section III-C: the stationary spread of SGD against the theory.

Sliders: the learning rate :math:`\\eta`, the batch size :math:`b` and the
sampler (with or without replacement).  SGD with real mini-batches runs on
the 2-D least-squares problem :func:`sgdlab.core.sgd.anisotropic_quadratic`, whose
gradient noise is anisotropic.  Left: the chains at stationarity with the
two-standard-deviation ellipses of the continuous-time theory (Lyapunov
solution, Lemma 2) and of the exact discrete recursion.  Right: the spread
:math:`\\mathrm{tr}\\,\\Sigma` against :math:`\\eta/b`, with the linear-scaling
line of the theory.
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

from sgdlab.core.sgd import CentredQuadratic, anisotropic_quadratic, covariance_ellipse
from widgets._explorer import Explorer, StaticSweep
from widgets._static import BlitCanvas

__all__ = ["ETA_RANGE", "N_CHAINS", "N_EXAMPLES", "PROBLEM", "RELAXATION_TIMES", "STATIC_ETAS",
           "Frame", "SGDNoiseExplorer", "burn_in", "compute_frame", "sgd_noise_explorer"]

#: Examples of the quadratic problem (the largest batch size).
N_EXAMPLES = 16
#: SGD chains run for each frame.
N_CHAINS = 400
#: Range of the learning-rate slider.
ETA_RANGE = (0.05, 1.0)
#: The learning rates precomputed for the static fallback of the built book.
STATIC_ETAS = tuple(np.round(np.geomspace(*ETA_RANGE, 13), 3))
#: Burn-in of the chains, in relaxation times of the slowest direction.
RELAXATION_TIMES = 3.0
#: The quadratic problem SGD runs on.
PROBLEM = anisotropic_quadratic(N_EXAMPLES)


@dataclass(frozen=True)
class Frame:
    """Everything the explorer shows for one setting of its sliders."""

    eta: float
    b: int
    replacement: bool
    chains: NDArray[np.float64]
    sde_cov: NDArray[np.float64]
    sgd_cov: NDArray[np.float64]

    @property
    def measured_spread(self) -> float:
        """:math:`\\mathrm{tr}` of the sample covariance of the chains."""
        return float(np.trace(np.cov(self.chains.T)))


def burn_in(eta: float, problem: CentredQuadratic = PROBLEM) -> int:
    """Steps for :data:`RELAXATION_TIMES` relaxation times of the slowest direction."""
    return math.ceil(RELAXATION_TIMES / (eta * np.linalg.eigvalsh(problem.hessian).min()))


def compute_frame(eta: float, b: int, replacement: bool, seed: int = 0,
                  n_chains: int = N_CHAINS) -> Frame:
    """Run :data:`N_CHAINS` SGD chains from the minimum past the burn-in, and the theory."""
    chains = PROBLEM.run(eta, b, n_chains, burn_in(eta), replacement=replacement,
                         rng=seed).x[-1]
    return Frame(eta=float(eta), b=int(b), replacement=bool(replacement), chains=chains,
                 sde_cov=PROBLEM.sde_covariance(eta, b, replacement),
                 sgd_cov=PROBLEM.sgd_covariance(eta, b, replacement))


class _Scene:
    """The matplotlib figure, built once; each frame updates its artists' data."""

    def __init__(self, dpi: float) -> None:
        self.fig = Figure(figsize=(9.0, 4.2), dpi=dpi, layout="constrained")
        self.ax_cloud, self.ax_spread = self.fig.subplots(1, 2)
        centre = PROBLEM.minimum
        widest = PROBLEM.sde_covariance(ETA_RANGE[1], 1)
        half = 2.6 * math.sqrt(np.linalg.eigvalsh(widest).max())
        self.ax_cloud.set(xlim=(centre[0] - half, centre[0] + half),
                          ylim=(centre[1] - half, centre[1] + half), aspect="equal",
                          xlabel="$x_1$", ylabel="$x_2$")
        self.dots = self.ax_cloud.scatter([], [], s=4, color="tab:blue", alpha=0.5)
        (self.sde_line,) = self.ax_cloud.plot([], [], color="k", lw=1.5,
                                              label="SDE (Lyapunov), 2 s.d.")
        (self.sgd_line,) = self.ax_cloud.plot([], [], "--", color="tab:red", lw=1.2,
                                              label="exact discrete SGD, 2 s.d.")
        self.ax_cloud.legend(loc="upper left", fontsize=7)
        ratios = np.geomspace(ETA_RANGE[0] / N_EXAMPLES, ETA_RANGE[1], 50)
        unit = np.trace(PROBLEM.sde_covariance(1.0, 1))
        self.ax_spread.loglog(ratios, unit * ratios, color="k", lw=1,
                              label="theory with replacement: tr Σ ∝ η/b")
        self.ax_spread.set(xlabel="$\\eta / b$", ylabel="spread tr Σ")
        (self.theory_dot,) = self.ax_spread.plot([], [], "o", mfc="none", mec="k", ms=10,
                                                 label="theory at this (η, b, sampler)")
        (self.measured_dot,) = self.ax_spread.plot([], [], "o", color="tab:blue", ms=5,
                                                   label=f"SGD, {N_CHAINS} chains")
        self.ax_spread.legend(loc="upper left", fontsize=7)
        self.canvas = BlitCanvas(self.fig, [self.dots, self.sde_line, self.sgd_line,
                                            self.theory_dot, self.measured_dot,
                                            self.ax_cloud.title, self.ax_spread.title])

    def update(self, frame: Frame) -> None:
        self.dots.set_offsets(frame.chains)
        for line, cov in ((self.sde_line, frame.sde_cov), (self.sgd_line, frame.sgd_cov)):
            line.set_data(*covariance_ellipse(PROBLEM.minimum, cov).T)
        ratio = frame.eta / frame.b
        self.theory_dot.set_data([ratio], [np.trace(frame.sde_cov)])
        self.measured_dot.set_data([ratio], [frame.measured_spread])
        sampler = "with" if frame.replacement else "without"
        self.ax_cloud.set_title(f"η = {frame.eta:.3g}, b = {frame.b}, {sampler} replacement "
                                f"(N = {N_EXAMPLES})", fontsize=8)
        self.ax_spread.set_title(
            f"tr Σ: SGD {frame.measured_spread:.3g}, exact {np.trace(frame.sgd_cov):.3g}, "
            f"SDE {np.trace(frame.sde_cov):.3g}", fontsize=8)


class SGDNoiseExplorer(Explorer):
    """Live explorer of the stationary spread of SGD (an ipywidgets ``VBox``).

    Parameters
    ----------
    eta : float
        Initial learning rate, in :data:`ETA_RANGE`.
    b : int
        Initial batch size, 1 to :data:`N_EXAMPLES`.
    replacement : bool
        Initial sampler.
    seed : int, default 0
        Seed of the mini-batches.
    dpi : float, default 80
        Resolution of the picture.

    Notes
    -----
    Displayed in Jupyter, the sliders redraw live.  Its display also carries
    an HTML fallback with :data:`STATIC_ETAS` frames precomputed at the
    current ``b`` and sampler, which the built book shows.
    """

    def __init__(self, eta: float = 0.2, b: int = 4, replacement: bool = True, *,
                 seed: int = 0, dpi: float = 80) -> None:
        style = {"description_width": "initial"}
        self.eta = W.FloatLogSlider(value=eta, base=10, min=math.log10(ETA_RANGE[0]),
                                    max=math.log10(ETA_RANGE[1]), step=0.05, style=style,
                                    description="η (learning rate)")
        self.b = W.IntSlider(value=b, min=1, max=N_EXAMPLES, step=1, style=style,
                             description="b (batch size)")
        self.replacement = W.ToggleButtons(options=[("with replacement", True),
                                                    ("without replacement", False)],
                                           value=replacement, style=style)
        self.seed = seed
        super().__init__([["eta", "b"], ["replacement"]], _Scene(dpi),
                         (StaticSweep("eta", STATIC_ETAS, "&eta;", fmt="{:.3g}"),))

    def compute(self, values: Mapping[str, Any]) -> Frame:
        """The frame for control values ``eta``, ``b`` and ``replacement``."""
        return compute_frame(values["eta"], values["b"], values["replacement"], self.seed)

    def caption(self) -> str:
        """Caption of the static fallback."""
        sampler = "with" if self.replacement.value else "without"
        return (f"SGD's stationary spread, precomputed for b = {self.b.value}, {sampler} "
                "replacement. Run the notebook to move every control.")


def sgd_noise_explorer(**kwargs: Any) -> SGDNoiseExplorer:
    """Return the SGD-noise explorer; keyword arguments as in :class:`SGDNoiseExplorer`."""
    return SGDNoiseExplorer(**kwargs)
