"""Explorer of the FDR chapter: both sides of Yaida's FDR1 along SGD on a quadratic.

Sliders: the learning rate :math:`\\eta`, the momentum :math:`\\mu` and the update
(heavy ball or Nesterov, PyTorch's conventions).  Chains of momentum SGD
(:func:`sgdlab.core.fdr.simulate_fdr1`) start far from the minimum of
:func:`sgdlab.core.sgd.anisotropic_quadratic`.  Left: the two sides of FDR1,
:math:`\\langle x\\cdot g\\rangle` and :math:`\\langle R\\rangle`, averaged over the
chains in windows of steps, with their exact stationary value
(:func:`sgdlab.core.fdr.exact_fdr1`).  Right: :math:`|y|^2`, whose drift is the
relation's residual (eq. FDR1, pathwise).
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

from sgdlab.core.fdr import exact_fdr1, simulate_fdr1
from sgdlab.core.sgd import anisotropic_quadratic
from widgets._explorer import Explorer, StaticSweep
from widgets._static import BlitCanvas

__all__ = [
    "BATCH",
    "ETA_RANGE",
    "MOMENTA",
    "N_CHAINS",
    "N_STEPS",
    "PROBLEM",
    "START",
    "STATIC_ETAS",
    "WINDOW",
    "FDRExplorer",
    "Frame",
    "compute_frame",
    "fdr_explorer",
]

#: The quadratic problem SGD runs on, and its batch size.
PROBLEM = anisotropic_quadratic()
BATCH = 4
#: Chains, steps and the window of the running means.
N_CHAINS, N_STEPS, WINDOW = 20, 1000, 20
#: Where the chains start, relative to the minimum.
START = (6.0, -4.0)
#: Range of the learning-rate slider; the momenta of the static fallback.
ETA_RANGE = (0.01, 0.3)
STATIC_ETAS = tuple(np.round(np.geomspace(*ETA_RANGE, 5), 3))
MOMENTA = (0.0, 0.5, 0.9)


@dataclass(frozen=True)
class Frame:
    """Everything the explorer shows for one setting of its sliders."""

    eta: float
    momentum: float
    nesterov: bool
    steps: NDArray[np.float64]
    lhs: NDArray[np.float64]
    rhs: NDArray[np.float64]
    y_sq: NDArray[np.float64]
    exact: float


def compute_frame(eta: float, momentum: float, nesterov: bool, seed: int = 0) -> Frame:
    """Run :data:`N_CHAINS` chains from :data:`START` and average FDR1's sides in windows."""
    sim = simulate_fdr1(PROBLEM, eta, BATCH, N_STEPS, N_CHAINS, momentum=momentum,
                        nesterov=nesterov, x0=PROBLEM.minimum + np.asarray(START), rng=seed)

    def windowed(a: NDArray[np.float64]) -> NDArray[np.float64]:
        return a.reshape(-1, WINDOW, N_CHAINS).mean(axis=(1, 2))

    noise = PROBLEM.noise_cov(BATCH)
    return Frame(eta=float(eta), momentum=float(momentum), nesterov=bool(nesterov),
                 steps=np.arange(0.0, N_STEPS, WINDOW) + WINDOW / 2.0, lhs=windowed(sim.x_dot_g),
                 rhs=windowed(sim.rhs), y_sq=sim.y_sq.mean(axis=1),
                 exact=exact_fdr1(PROBLEM.hessian, noise, eta, momentum, nesterov)[0])


class _Scene:
    """The matplotlib figure, built once; each frame updates its artists' data."""

    def __init__(self, dpi: float) -> None:
        self.fig = Figure(figsize=(9.0, 3.8), dpi=dpi, layout="constrained")
        self.ax, self.bx = self.fig.subplots(1, 2)
        (self.lhs,) = self.ax.plot([], [], label="⟨x·g⟩")
        (self.rhs,) = self.ax.plot([], [], label="right side ⟨R⟩")
        (self.exact,) = self.ax.plot([], [], "k--", lw=1, label="exact, stationary")
        self.ax.set(xscale="log", yscale="log", xlim=(WINDOW / 2, N_STEPS), ylim=(1e-3, 1e2),
                    xlabel="step", title="both sides of FDR1")
        self.ax.legend(loc="upper right", fontsize=7)
        (self.norm,) = self.bx.plot([], [], color="tab:green")
        self.bx.set(xscale="log", yscale="log", xlim=(1, N_STEPS), ylim=(1e-2, 1e2),
                    xlabel="step", ylabel="$|y|^2$, mean over chains")
        self.canvas = BlitCanvas(self.fig, [self.lhs, self.rhs, self.exact, self.norm,
                                            self.bx.title])

    def update(self, frame: Frame) -> None:
        # the windowed means can dip below 0 early on; the log axes show their size
        self.lhs.set_data(frame.steps, np.abs(frame.lhs))
        self.rhs.set_data(frame.steps, frame.rhs)
        self.exact.set_data([WINDOW / 2, N_STEPS], [frame.exact, frame.exact])
        self.norm.set_data(np.arange(1, len(frame.y_sq) + 1), frame.y_sq)
        update = "Nesterov" if frame.nesterov else "heavy ball"
        self.bx.set_title(f"η = {frame.eta:.3g}, μ = {frame.momentum:.2g}, {update}: "
                          "|y|² settles when FDR1 holds", fontsize=8)


class FDRExplorer(Explorer):
    """Live explorer of FDR1 on the quadratic (an ipywidgets ``VBox``).

    Parameters
    ----------
    eta : float
        Initial learning rate, in :data:`ETA_RANGE`.
    momentum : float
        Initial momentum, in [0, 0.9].
    nesterov : bool
        Initial update.
    seed : int, default 0
    dpi : float, default 80

    Notes
    -----
    The static fallback of the built book holds frames over ``STATIC_ETAS``
    and ``MOMENTA`` at the current update.
    """

    def __init__(self, eta: float = 0.1, momentum: float = 0.9, nesterov: bool = True, *,
                 seed: int = 0, dpi: float = 80) -> None:
        style = {"description_width": "initial"}
        self.eta = W.FloatLogSlider(value=eta, base=10, min=math.log10(ETA_RANGE[0]),
                                    max=math.log10(ETA_RANGE[1]), step=0.05, style=style,
                                    description="η (learning rate)")
        self.momentum = W.FloatSlider(value=momentum, min=0.0, max=0.9, step=0.05, style=style,
                                      description="μ (momentum)")
        self.nesterov = W.ToggleButtons(options=[("Nesterov", True), ("heavy ball", False)],
                                        value=nesterov, style=style)
        self.seed = seed
        super().__init__([["eta", "momentum"], ["nesterov"]], _Scene(dpi),
                         (StaticSweep("eta", STATIC_ETAS, "&eta;", fmt="{:.3g}"),
                          StaticSweep("momentum", MOMENTA, "&mu;", fmt="{:.1f}")))

    def compute(self, values: Mapping[str, Any]) -> Frame:
        """The frame for control values ``eta``, ``momentum`` and ``nesterov``."""
        return compute_frame(values["eta"], values["momentum"], values["nesterov"], self.seed)

    def caption(self) -> str:
        """Caption of the static fallback."""
        update = "Nesterov" if self.nesterov.value else "heavy-ball"
        return (f"FDR1 on the quadratic, precomputed for {update} momentum. Run the notebook "
                "to move every control.")


def fdr_explorer(**kwargs: Any) -> FDRExplorer:
    """Return the FDR explorer; keyword arguments as in :class:`FDRExplorer`."""
    return FDRExplorer(**kwargs)
