"""Explorer of Example 19: the double well with a circulating force.

Sliders: :math:`\\lambda`, the noise level :math:`\\beta^{-1}`, the number of
particles and the time horizon.  Left: :math:`\\Phi` contours, short
streamlines of :math:`-\\nabla f` with widths proportional to
:math:`|\\nabla f|`, the zeros of :math:`\\nabla f` and the noise-free path.
Right: the particles at the horizon against :math:`e^{-\\beta\\Phi}`.
"""

from __future__ import annotations

import collections
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from sgdlab.core.critical import CriticalPoint, find_zeros
from sgdlab.core.dynamics import descent_flow
from sgdlab.core.grid import grid2d
from sgdlab.core.landscapes import double_well
from sgdlab.core.plotting import KIND_STYLE, draw_streamlets, line_widths, streamlets
from sgdlab.core.sde import euler_maruyama
from widgets._explorer import Explorer, StaticSweep
from widgets._static import BlitCanvas

__all__ = ["BOX", "MAX_DT", "START", "STATIC_LAMS", "STATIC_NOISES", "DoubleWellExplorer", "Frame",
           "compute_frame", "double_well_explorer"]

#: The box drawn, one row per axis.
BOX = np.array([[-2.0, 2.0], [-2.0, 2.0]])
#: Where the noise-free path and the particles start.
START = np.array([0.0, 1.6])
#: The largest Euler-Maruyama step of the particles.
MAX_DT = 0.02
#: The values of lambda precomputed for the static fallback of the built book.
STATIC_LAMS = tuple(np.round(np.linspace(0.0, 2.0, 21), 2))
#: The noise levels precomputed for the static fallback, colder than, as and hotter than
#: the paper's.
STATIC_NOISES = (0.3, 1.0, 3.0)
#: Plurals of the kinds of critical point, for the titles.
_PLURAL = {"minimum": "minima", "maximum": "maxima", "saddle": "saddles", "spiral": "spirals",
           "centre": "centres", "degenerate": "degenerate zeros"}


@dataclass(frozen=True)
class Frame:
    """Everything the explorer shows for one setting of its sliders."""

    lam: float
    noise: float
    zeros: list[CriticalPoint]
    path: NDArray[np.float64]
    particles: NDArray[np.float64]
    streamlines: NDArray[np.float64]
    speed: NDArray[np.float64]


def compute_frame(lam: float, noise: float, n_particles: int, horizon: float,
                  seed: int = 0) -> Frame:
    """Compute one frame: zeros, noise-free path and particles from :data:`START`.

    The particles follow :math:`dx = -\\nabla f\\,dt + \\sqrt{2\\beta^{-1}}dW`
    by Euler-Maruyama with a step of at most :data:`MAX_DT`.
    """
    well = double_well(lam)
    zeros, streamlines, speed = _field(well.lam)
    path = _path(well.lam, float(horizon))
    n_steps = max(1, math.ceil(horizon / MAX_DT))
    sim = euler_maruyama(lambda x: -well.grad_f(x), np.tile(START, (n_particles, 1)),
                         horizon / n_steps, n_steps, beta_inv=noise, record_every=n_steps,
                         rng=seed)
    return Frame(lam=well.lam, noise=noise, zeros=zeros, path=path, particles=sim.x[-1],
                 streamlines=streamlines, speed=speed)


@functools.lru_cache(maxsize=128)
def _field(lam: float) -> tuple[list[CriticalPoint], NDArray[np.float64], NDArray[np.float64]]:
    """What depends on lambda alone (zeros of grad f and streamlines), computed once per value."""
    well = double_well(lam)
    streamlines, speed = streamlets(lambda x: -well.grad_f(x), BOX)
    return find_zeros(well.grad_f, BOX, n_starts=9), streamlines, speed


@functools.lru_cache(maxsize=128)
def _path(lam: float, horizon: float) -> NDArray[np.float64]:
    """The noise-free path from :data:`START` (the noise and particle sliders leave it be)."""
    path = descent_flow(double_well(lam).grad_f, START, horizon, n_eval=300, rtol=1e-6,
                        atol=1e-9).x
    path.flags.writeable = False  # shared by every frame of this lambda and horizon
    return path


class _Scene:
    """The matplotlib figure, built once; each frame updates its artists' data."""

    def __init__(self, dpi: float) -> None:
        # fixed margins, not constrained layout: measuring every tick label for it took
        # 0.4 s of the explorer's first display
        self.fig = Figure(figsize=(9.0, 4.3), dpi=dpi)
        self.fig.subplots_adjust(left=0.07, right=0.99, bottom=0.12, top=0.93, wspace=0.12)
        self.ax_field, self.ax_particles = self.fig.subplots(1, 2, sharex=True, sharey=True)
        grid = grid2d(BOX, 120)
        self._phi = double_well(0.0).phi(grid.points).T
        for ax in (self.ax_field, self.ax_particles):
            ax.set(xlim=BOX[0], ylim=BOX[1], aspect="equal", xlabel="x₁")
        self.ax_field.set_ylabel("x₂")  # plain text: mathtext costs 0.14 s at the first draw
        self.ax_field.contour(grid.x, grid.y, self._phi, levels=np.linspace(0.02, 2.0, 10),
                              cmap="viridis", linewidths=0.8)
        self.lines = draw_streamlets(self.ax_field, np.zeros((1, 2, 2)), np.ones(1))
        (self.path,) = self.ax_field.plot([], [], color="tab:red", lw=1.8,
                                          label="noise-free path")
        self.zeros = self.ax_field.scatter([], [], s=70, zorder=5, edgecolors="white")
        self.ax_field.plot(*START, "o", color="tab:red", ms=4)
        self.dots = self.ax_particles.scatter([], [], s=3, color="tab:red", alpha=0.5,
                                              zorder=3)
        self.density = self.ax_particles.imshow(
            np.exp(-self._phi), extent=BOX.ravel(), origin="lower", cmap="Blues",
            vmin=0.0, vmax=1.0, interpolation="bilinear", zorder=1)
        self.canvas = BlitCanvas(self.fig, [self.lines, self.path, self.zeros, self.density,
                                            self.dots, self.ax_field.title,
                                            self.ax_particles.title])

    def update(self, frame: Frame) -> None:
        # matplotlib's stubs ask for typing.Sequence arguments; arrays iterate as ones
        self.lines.set_segments(frame.streamlines)  # type: ignore[arg-type]
        self.lines.set_linewidth(line_widths(frame.speed))  # type: ignore[arg-type]
        self.path.set_data(frame.path[:, 0], frame.path[:, 1])
        self.zeros.set_offsets(np.array([z.x for z in frame.zeros]).reshape(-1, 2))
        self.zeros.set_color([KIND_STYLE[z.kind]["color"] for z in frame.zeros])
        counts = collections.Counter(z.kind for z in frame.zeros)
        kinds = ", ".join(f"{n} {_PLURAL[kind] if n > 1 else kind}" for kind, n in counts.items())
        # short plain-text titles: matplotlib renders text glyph by glyph at every frame
        # (a title of 90 glyphs took 7 ms), and mathtext would be parsed again each time
        # y given: the titles stay put, with no measuring of the tick labels for them
        self.ax_field.set_title(f"λ = {frame.lam:.2f}; zeros of ∇f: {kinds}", fontsize=8, y=1.0)
        self.dots.set_offsets(frame.particles)
        self.density.set_data(np.exp(-self._phi / frame.noise))
        exact = "exact steady state" if frame.lam == 0 or frame.noise == 1 else (
            "steady state only when λ = 0 or β⁻¹ = 1")
        self.ax_particles.set_title(
            f"{len(frame.particles)} particles vs exp(−βΦ) ({exact})", fontsize=8, y=1.0)


class DoubleWellExplorer(Explorer):
    """Live explorer of Example 19 (an ipywidgets ``VBox``).

    Parameters
    ----------
    lam, noise, n_particles, horizon : float, float, int, float
        Initial slider values: :math:`\\lambda` in [0, 2], :math:`\\beta^{-1}`
        in [0.1, 3], particles in [50, 3000], time horizon in [0.5, 10] (the
        well relaxes in a few time units).
    seed : int, default 0
        Seed of the particles' noise.
    dpi : float, default 80
        Resolution of the picture.

    Notes
    -----
    Displayed in Jupyter, the sliders redraw live.  In the built book its
    display carries an HTML fallback with frames precomputed over
    :data:`STATIC_LAMS` and :data:`STATIC_NOISES` at the other sliders' current
    values, so that the :math:`\\lambda` and noise sliders still move without a
    kernel.
    """

    def __init__(self, lam: float = 0.5, noise: float = 1.0, n_particles: int = 600,
                 horizon: float = 4.0, *, seed: int = 0, dpi: float = 80) -> None:
        style = {"description_width": "initial"}
        self.lam = W.FloatSlider(value=lam, min=0.0, max=2.0, step=0.05, style=style,
                                 description="λ (force j)")
        self.noise = W.FloatLogSlider(value=noise, base=10, min=-1.0, max=math.log10(3.0),
                                      step=0.05, style=style, description="β⁻¹ (noise)")
        self.particles = W.IntSlider(value=n_particles, min=50, max=3000, step=50,
                                     style=style, description="particles")
        self.horizon = W.FloatSlider(value=horizon, min=0.5, max=10.0, step=0.5, style=style,
                                     description="time horizon")
        self.seed = seed
        super().__init__([["lam", "noise"], ["particles", "horizon"]], _Scene(dpi),
                         (StaticSweep("lam", STATIC_LAMS, "&lambda;"),
                          StaticSweep("noise", STATIC_NOISES, "&beta;<sup>-1</sup>",
                                      fmt="{:g}")))

    def compute(self, values: Mapping[str, Any]) -> Frame:
        """The frame for slider values ``lam``, ``noise``, ``particles``, ``horizon``."""
        return compute_frame(values["lam"], values["noise"], values["particles"],
                             values["horizon"], self.seed)

    def caption(self) -> str:
        """Caption of the static fallback."""
        return (f"Example 19, precomputed for {self.particles.value} particles, "
                f"horizon {self.horizon.value:g}. "
                "Run the notebook to move every slider.")


def double_well_explorer(**kwargs: Any) -> DoubleWellExplorer:
    """Return the Example 19 explorer; keyword arguments as in :class:`DoubleWellExplorer`."""
    return DoubleWellExplorer(**kwargs)
