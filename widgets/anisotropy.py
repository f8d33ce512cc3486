"""Explorer of the A-type picture (Theorem 22, Remarks 23-26): sliders for D and beta^-1.

Left: contours of :math:`f` (grey) and of the potential
:math:`\\Phi = -\\beta^{-1}\\log\\rho_{ss}` (colour) from the Fokker-Planck
steady state with a constant diffusion :math:`D` of eigenvalues 1 and
``ratio`` turned by ``angle``, and the force :math:`j` (eq. 8), the
non-gradient part of the drift, as arrows where :math:`\\Phi` is below its
highest contour.  Right: a zoom on the deeper
minimum of :math:`f` with the most likely point of :math:`\\rho_{ss}` and the
minimum of :math:`f`; their distance is the shift of Theorem 22.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from sgdlab.core.fokker_planck import fokker_planck
from sgdlab.core.grid import cell_grid
from sgdlab.core.landscapes import TiltedWell, anisotropic_diffusion
from sgdlab.core.modes import ModeShift, mode_shift
from widgets._explorer import Explorer, StaticSweep
from widgets._static import BlitCanvas

__all__ = ["BOX", "GRID", "STATIC_ANGLES", "STATIC_RATIOS", "WELL", "AnisotropyExplorer", "Frame",
           "anisotropy_explorer", "compute_frame"]

#: The loss landscape of the explorer.
WELL = TiltedWell(coupling=0.3, tilt=0.3)
#: The box the steady state is computed on, one row per axis.
BOX = [[-2.5, 2.5], [-2.5, 2.5]]
#: The explorer's 48x48 cell grid on :data:`BOX`.
GRID = cell_grid(BOX, 48)
_X, _Y = GRID.centres
_F = WELL.f(GRID.points)
_LEVELS = np.linspace(0.05, 1.6, 9)
_ZOOM_LEVELS = np.linspace(0.002, 0.06, 8)
_ARROWS = (slice(2, None, 4), slice(2, None, 4))
#: The eigenvalue ratios of D precomputed for the static fallback of the built book.
STATIC_RATIOS = (0.2, 0.4, 0.6, 0.8, 1.0)
#: The angles of D (degrees) precomputed for the static fallback of the built book.
STATIC_ANGLES = (0.0, 30.0, 60.0, 90.0, 120.0, 150.0)


@dataclass(frozen=True)
class Frame:
    """What the explorer shows for one diffusion matrix and temperature."""

    ratio: float
    angle: float
    temperature: float
    phi: NDArray[np.float64]
    force: NDArray[np.float64]
    shift: ModeShift


def compute_frame(ratio: float, angle_deg: float, temperature: float) -> Frame:
    """Steady state on the explorer's 48x48 grid, its potential, force and mode shift."""
    fp = fokker_planck(GRID, 1.0 / temperature, f=WELL.f,
                       diffusion=anisotropic_diffusion(ratio, np.radians(angle_deg)))
    phi = fp.potential()
    return Frame(ratio=ratio, angle=angle_deg, temperature=temperature, phi=phi - phi.min(),
                 force=fp.force(), shift=mode_shift(fp, WELL.f, WELL.grad_f))


class _Scene:
    def __init__(self, dpi: float) -> None:
        self.fig = Figure(figsize=(10.0, 4.6), dpi=dpi, layout="constrained")
        self.ax, self.zoom = self.fig.subplots(1, 2)
        f0 = _F - _F.min()
        self.ax.contour(_X, _Y, f0.T, levels=_LEVELS, colors="0.6", linewidths=0.8)
        centre = compute_frame(1.0, 0.0, 0.1).shift.minimum
        self.zoom.contour(_X, _Y, f0.T, levels=_ZOOM_LEVELS + f0.min(), colors="0.6",
                          linewidths=0.8)
        self.ax.set(xlim=BOX[0], ylim=BOX[1], xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
        self.zoom.set(xlim=(centre[0] - 0.3, centre[0] + 0.3),
                      ylim=(centre[1] - 0.3, centre[1] + 0.3), xlabel="$x_1$", aspect="equal")
        gx, gy = np.meshgrid(_X[_ARROWS[0]], _Y[_ARROWS[1]], indexing="ij")
        self.arrows = self.ax.quiver(gx, gy, np.zeros_like(gx), np.zeros_like(gy),
                                     color="tab:red", scale=6.0, width=0.004)
        (self.minimum,) = self.zoom.plot([centre[0]], [centre[1]], "x", color="k", ms=9,
                                         label="min $f$")
        (self.mode,) = self.zoom.plot([], [], "o", color="tab:red",
                                      label="most likely point")
        self.zoom.legend(loc="upper right", fontsize=8)
        self.phi_lines = self.ax.contour(_X, _Y, f0.T, levels=_LEVELS)
        self.phi_zoom = self.zoom.contour(_X, _Y, f0.T, levels=_ZOOM_LEVELS)
        self.canvas = BlitCanvas(self.fig, [self.arrows, self.mode, self.phi_lines,
                                            self.phi_zoom, self.ax.title, self.zoom.title])

    def _replace(self, old: Any, ax: Any, phi: NDArray[np.float64], levels: Any) -> Any:
        new = ax.contour(_X, _Y, phi.T, levels=levels, cmap="viridis", linewidths=1.2)
        new.set_animated(True)
        self.canvas.dynamic[self.canvas.dynamic.index(old)] = new
        old.remove()
        return new

    def update(self, frame: Frame) -> None:
        self.phi_lines = self._replace(self.phi_lines, self.ax, frame.phi, _LEVELS)
        self.phi_zoom = self._replace(self.phi_zoom, self.zoom, frame.phi, _ZOOM_LEVELS)
        j = np.where((frame.phi[_ARROWS] <= _LEVELS[-1])[..., None], frame.force[_ARROWS], 0.0)
        self.arrows.set_UVC(j[..., 0], j[..., 1])
        s = frame.shift
        self.mode.set_data([s.mode[0]], [s.mode[1]])
        self.minimum.set_data([s.minimum[0]], [s.minimum[1]])
        self.ax.set_title(f"D: ratio {frame.ratio:.2f}, angle {frame.angle:.0f}°; "
                          "Φ (colour), f (grey), j (arrows)", fontsize=9)
        self.zoom.set_title(f"β⁻¹ = {frame.temperature:.3f}: shift {s.gap:.4f}", fontsize=9)


class AnisotropyExplorer(Explorer):
    """Live explorer of the mode shift under anisotropic noise (an ipywidgets ``VBox``).

    Parameters
    ----------
    ratio : float, default 0.25
        Eigenvalue ratio of :math:`D`, in [0.2, 1] (the scheme needs more than 0.172).
    angle : float, default 45
        Direction of :math:`D`'s leading eigenvector, degrees in [0, 180].
    temperature : float, default 0.2
        :math:`\\beta^{-1}` in [0.02, 0.5].
    dpi : float, default 72
        Resolution of the picture.

    Notes
    -----
    In the built book its display carries an HTML fallback with frames
    precomputed over :data:`STATIC_RATIOS` and :data:`STATIC_ANGLES` at the
    current temperature.
    """

    def __init__(self, ratio: float = 0.25, angle: float = 45.0, temperature: float = 0.2,
                 *, dpi: float = 72) -> None:
        style = {"description_width": "initial"}
        self.ratio = W.FloatSlider(value=ratio, min=0.2, max=1.0, step=0.05, style=style,
                                   description="eigenvalue ratio of D")
        self.angle = W.FloatSlider(value=angle, min=0.0, max=180.0, step=5.0, style=style,
                                   description="angle of D (°)")
        self.temperature = W.FloatSlider(value=temperature, min=0.02, max=0.5, step=0.02,
                                         style=style, description="β⁻¹ = η/2b",
                                         readout_format=".2f")
        super().__init__([["ratio", "angle"], ["temperature"]], _Scene(dpi),
                         (StaticSweep("ratio", STATIC_RATIOS, "eigenvalue ratio of D"),
                          StaticSweep("angle", STATIC_ANGLES, "angle of D (&deg;)",
                                      fmt="{:.0f}")))

    def compute(self, values: Mapping[str, Any]) -> Frame:
        """The frame for slider values ``ratio``, ``angle`` (degrees) and ``temperature``."""
        return compute_frame(values["ratio"], values["angle"], values["temperature"])

    def caption(self) -> str:
        """Caption of the static fallback."""
        return (f"Mode shift under anisotropic noise, precomputed at β⁻¹ = "
                f"{self.temperature.value:.2f}. "
                "Run the notebook to move every slider.")


def anisotropy_explorer(**kwargs: Any) -> AnisotropyExplorer:
    """Return the anisotropy explorer; keyword arguments as in :class:`AnisotropyExplorer`."""
    return AnisotropyExplorer(**kwargs)
