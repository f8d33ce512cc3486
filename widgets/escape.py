"""Explorer of escape from a well under noise aligned with the Hessian (Zhu et al.; Xie et al.).

Sliders: the alignment :math:`\\alpha` of the noise
:math:`D_\\alpha = (1-\\alpha)I + \\alpha\\,2H_a/\\mathrm{Tr}H_a` (trace 2,
:func:`sgdlab.core.escape.aligned_noise`), the temperature :math:`\\beta^{-1}` and the
width w of the well :class:`sgdlab.core.escape.EscapeWell`.  Left: in the coordinates
:math:`(x_1/w, x_2)`, in which the loss is the same for every width, the loss and at each
minimum the 2-s.d. ellipse of the stationary law of the dynamics linearised there
(:func:`sgdlab.core.sgd.lyapunov_covariance`).  Right: the mean escape time from the left
minimum times its curvature :math:`V''(a)`, against :math:`V''(a)` over the widths of the
slider: exact and Kramers' (:func:`sgdlab.core.escape.passage_times`) at the current
:math:`\\alpha`, the exact time for isotropic noise (:math:`\\alpha = 0`) and for
:math:`D \\propto H` (:math:`\\alpha = 1`), and the current well.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from sgdlab.core.escape import EscapeWell, aligned_noise, passage_times
from sgdlab.core.sgd import covariance_ellipse, lyapunov_covariance
from widgets._explorer import Explorer, StaticSweep
from widgets._static import BlitCanvas

__all__ = ["BETA_INV_RANGE", "STATIC_ALIGNMENTS", "STATIC_WIDTHS", "WIDTH_RANGE",
           "EscapeExplorer", "Frame", "compute_frame", "escape_explorer"]

#: The widths w of the well that the slider and the curves span.
WIDTH_RANGE = (0.5, 2.0)
#: The temperatures that the slider spans.
BETA_INV_RANGE = (0.25, 2.0)
#: The alignments precomputed for the static fallback of the built book.
STATIC_ALIGNMENTS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: The widths precomputed for the static fallback.
STATIC_WIDTHS = (0.6, 0.8, 1.1, 1.4, 2.0)
_N_CURVE = 32
#: Quadrature nodes of the curves: the trapezoid's end corrections cancel here (the
#: integrand's slope is 1/eps at both minima), so 4,001 nodes agree with 40,001 to round-off.
_NODES = 4_001
#: The picture of the loss, in (x_1 / w, x_2).
_BOX = (-2.0, 2.0, -1.2, 1.2)


@dataclass(frozen=True)
class Frame:
    """What the explorer shows for one alignment, temperature and width.

    ``curves`` maps ``"exact"`` and ``"kramers"`` (at the current alignment),
    ``"isotropic"`` and ``"aligned"`` (exact, at alignments 0 and 1) to the mean escape
    times over ``curvatures``; ``tau`` and ``tau_kramers`` are the times of the current
    well, ``tau_isotropic`` that of the same well under isotropic noise.
    """

    alignment: float
    beta_inv: float
    width: float
    eps: float
    tau: float
    tau_kramers: float
    tau_isotropic: float
    ellipses: tuple[NDArray[np.float64], NDArray[np.float64]]
    curvatures: NDArray[np.float64]
    curves: dict[str, NDArray[np.float64]]


def compute_frame(alignment: float, beta_inv: float, width: float) -> Frame:
    """Stationary ellipses (in :math:`(x_1/w, x_2)`) and escape-time curves for the sliders."""
    well = EscapeWell(width)
    point = passage_times([width], alignment, beta_inv, n=_NODES)
    isotropic = passage_times([width], 0.0, beta_inv, n=_NODES)["exact"][0]
    sigma = lyapunov_covariance(well.hessian_min(), aligned_noise(well.hessian_min(), alignment),
                                beta_inv)
    scaled = sigma / np.outer([width, 1.0], [width, 1.0])
    current = _curves(float(alignment), float(beta_inv))
    return Frame(
        alignment=float(alignment), beta_inv=float(beta_inv), width=float(width),
        eps=float(point["eps"][0]), tau=float(point["exact"][0]),
        tau_kramers=float(point["kramers"][0]), tau_isotropic=float(isotropic),
        ellipses=(covariance_ellipse([-1.0, 0.0], scaled), covariance_ellipse([1.0, 0.0], scaled)),
        curvatures=current["curvature"],
        curves={"exact": current["exact"], "kramers": current["kramers"],
                "isotropic": _curves(0.0, float(beta_inv))["exact"],
                "aligned": _curves(1.0, float(beta_inv))["exact"]})


@functools.lru_cache(maxsize=256)
def _curves(alignment: float, beta_inv: float) -> dict[str, NDArray[np.float64]]:
    """:func:`passage_times` over the slider's widths (the width slider moves none of them)."""
    return passage_times(np.geomspace(*WIDTH_RANGE, _N_CURVE), alignment, beta_inv, n=_NODES)


class _Scene:
    def __init__(self, dpi: float) -> None:
        self.fig = Figure(figsize=(9.0, 3.9), dpi=dpi, layout="constrained")
        self.ax, self.ax_tau = self.fig.subplots(1, 2, width_ratios=(1.25, 1.0))
        u, x2 = np.meshgrid(np.linspace(*_BOX[:2], 201), np.linspace(*_BOX[2:], 121))
        loss = self.ax.imshow(EscapeWell(1.0).f(np.stack([u, x2], axis=-1)), origin="lower",
                              extent=_BOX, cmap="Greys", vmin=0.0, vmax=4.0, aspect="equal")
        self.fig.colorbar(loss, ax=self.ax, shrink=0.7, label="loss f (barrier 1)")
        self.ellipses = [self.ax.plot([], [], color="tab:red", lw=1.5)[0] for _ in range(2)]
        self.ellipses[0].set_label("stationary law at a minimum, 2 s.d.")
        self.ax.plot([-1.0, 1.0], [0.0, 0.0], "+", color="tab:red", ms=9)
        self.ax.plot([0.0], [0.0], "x", color="k", ms=7, label="saddle")
        self.ax.set(xlabel="$x_1/w$ (escape direction)", ylabel="$x_2$")
        self.ax.legend(loc="lower left", fontsize=7)
        styles = {"exact": ("-", "tab:red", "exact, this α"),
                  "kramers": ("--", "tab:red", "Kramers, this α"),
                  "isotropic": ("-", "0.55", "exact, isotropic (α = 0)"),
                  "aligned": (":", "tab:blue", "exact, D ∝ H (α = 1)")}
        self.curves = {key: self.ax_tau.loglog([], [], ls, color=colour, label=label)[0]
                       for key, (ls, colour, label) in styles.items()}
        (self.dot,) = self.ax_tau.plot([], [], "o", color="tab:red", ms=6)
        curvatures = [EscapeWell(w).curvature_min for w in WIDTH_RANGE[::-1]]
        self.ax_tau.set(xlim=curvatures, ylim=(3.0, 1e6), xlabel="curvature at the minimum V''(a)",
                        ylabel="mean escape time · V''(a)")
        self.ax_tau.set_xticks([2, 4, 8, 16, 32], labels=["2", "4", "8", "16", "32"])
        self.ax_tau.minorticks_off()
        self.ax_tau.legend(loc="upper left", fontsize=7)
        self.canvas = BlitCanvas(self.fig, [*self.ellipses,
                                            *self.curves.values(), self.dot, self.ax.title,
                                            self.ax_tau.title])

    def update(self, frame: Frame) -> None:
        for line, points in zip(self.ellipses, frame.ellipses, strict=True):
            line.set_data(*points.T)
        for key, line in self.curves.items():
            line.set_data(frame.curvatures, frame.curvatures * frame.curves[key])
        curvature = EscapeWell(frame.width).curvature_min
        self.dot.set_data([curvature], [curvature * frame.tau])
        self.ax.set_title(f"α = {frame.alignment:.2f}, β⁻¹ = {frame.beta_inv:.2f}, "
                          f"w = {frame.width:.2f}: ε = {frame.eps:.3f}", fontsize=9)
        self.ax_tau.set_title(f"τ = {frame.tau:.3g} (Kramers {frame.tau_kramers:.3g}), "
                              f"{frame.tau / frame.tau_isotropic:.2f}× isotropic", fontsize=9)


class EscapeExplorer(Explorer):
    """Live explorer of escape times under aligned and isotropic noise (an ipywidgets ``VBox``).

    Parameters
    ----------
    alignment : float, default 1
        Initial :math:`\\alpha \\in [0, 1]`: 0 is isotropic noise, 1 is :math:`D \\propto H`.
    beta_inv : float, default 0.7
        Initial temperature, in :data:`BETA_INV_RANGE`.
    width : float, default 1.1
        Initial width of the well, in :data:`WIDTH_RANGE`.
    dpi : float, default 72
        Resolution of the picture.

    Notes
    -----
    In the built book its display carries an HTML fallback with frames precomputed at
    :data:`STATIC_ALIGNMENTS` and :data:`STATIC_WIDTHS`, at the current temperature.
    """

    def __init__(self, alignment: float = 1.0, beta_inv: float = 0.7, width: float = 1.1, *,
                 dpi: float = 72) -> None:
        for name, value, (low, high) in (("alignment", alignment, (0.0, 1.0)),
                                         ("beta_inv", beta_inv, BETA_INV_RANGE),
                                         ("width", width, WIDTH_RANGE)):
            if not low <= value <= high:
                raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
        style = {"description_width": "initial"}
        self.alignment = W.FloatSlider(value=alignment, min=0.0, max=1.0, step=0.05, style=style,
                                       description="alignment α")
        self.beta_inv = W.FloatLogSlider(value=beta_inv, base=10,
                                         min=np.log10(BETA_INV_RANGE[0]),
                                         max=np.log10(BETA_INV_RANGE[1]), step=0.02,
                                         description="temperature β⁻¹", style=style,
                                         readout_format=".2f")
        self.width = W.FloatSlider(value=width, min=WIDTH_RANGE[0], max=WIDTH_RANGE[1],
                                   step=0.05, description="width w", style=style)
        static = (StaticSweep("alignment", STATIC_ALIGNMENTS, "alignment &alpha;"),
                  StaticSweep("width", STATIC_WIDTHS, "width w"))
        super().__init__([["alignment", "beta_inv"], ["width"]], _Scene(dpi), static)

    def compute(self, values: Mapping[str, Any]) -> Frame:
        """The frame for slider values ``alignment``, ``beta_inv`` and ``width``."""
        return compute_frame(values["alignment"], values["beta_inv"], values["width"])

    def caption(self) -> str:
        """Caption of the static fallback."""
        return (f"Escape from the well, precomputed at β⁻¹ = {self.beta_inv.value:.2f}. "
                "Run the notebook to move every slider.")


def escape_explorer(**kwargs: Any) -> EscapeExplorer:
    """Return the escape explorer; arguments as in :class:`EscapeExplorer`."""
    return EscapeExplorer(**kwargs)
