"""Explorer of the phase-space rotation of heavy-ball SGD (Kunin et al.; Lemma 20's Q).

Heavy-ball SGD on :func:`sgdlab.core.sgd.tilted_quadratic`, with sliders for the angle
between the Hessian's axes and the noise's and for the momentum :math:`\\mu`: the
stationary ellipse of :math:`x` (two standard deviations, from the discrete Lyapunov
equation, :func:`sgdlab.core.sgd.heavy_ball_phase_covariance`), the Hessian's axes, and
the mean velocity :math:`u(x) = -R\\,\\Sigma_x^{-1}x` that the rotation
:math:`R` (:func:`sgdlab.core.sgd.phase_rotation`) gives at each point, the discrete
analogue of :math:`-QUx`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from sgdlab.core.sgd import (
    covariance_ellipse,
    heavy_ball_phase_covariance,
    phase_rotation,
    tilted_quadratic,
)
from widgets._explorer import Explorer, StaticSweep
from widgets._static import BlitCanvas

__all__ = ["ETA", "STATIC_ANGLES", "STATIC_MOMENTA", "Frame", "RotationExplorer",
           "compute_frame", "rotation_explorer"]

#: The learning rate of the explorer; batches of one example.
ETA = 0.05
#: The angles (degrees) precomputed for the static fallback of the built book.
STATIC_ANGLES = (0.0, 15.0, 30.0, 45.0, 60.0, 75.0, 90.0)
#: The momenta precomputed for the static fallback.
STATIC_MOMENTA = (0.0, 0.5, 0.9)
_GRID = np.linspace(-1.2, 1.2, 9)


@dataclass(frozen=True)
class Frame:
    """What the explorer shows for one angle and momentum.

    ``rotation`` is :math:`R_{12}`; ``velocity`` the field :math:`u` on the arrow grid,
    shape (9, 9, 2); ``ellipse`` points (100, 2) on the stationary ellipse of :math:`x`.
    """

    angle: float
    momentum: float
    rotation: float
    ellipse: NDArray[np.float64]
    velocity: NDArray[np.float64]
    axis: NDArray[np.float64]


def compute_frame(angle_deg: float, momentum: float) -> Frame:
    """The stationary ellipse, rotation and mean-velocity field at one angle and momentum."""
    quad = tilted_quadratic(np.radians(angle_deg))
    cov = heavy_ball_phase_covariance(quad.hessian, quad.noise_cov(1), ETA, momentum)
    sx = 0.5 * (cov[:2, :2] + cov[:2, :2].T)
    r = phase_rotation(cov)
    scale = np.sqrt(np.trace(sx))
    gx, gy = np.meshgrid(_GRID * 2 * scale, _GRID * 2 * scale, indexing="ij")
    pts = np.stack([gx, gy], axis=-1)
    u = -pts @ np.linalg.solve(sx, r.T)             # u(x) = -R Sigma_x^-1 x, row-wise
    return Frame(angle=angle_deg, momentum=momentum, rotation=float(r[0, 1]),
                 ellipse=covariance_ellipse(np.zeros(2), sx),
                 velocity=np.concatenate([pts, u], axis=-1),
                 axis=np.linalg.eigh(quad.hessian)[1][:, -1] * 2 * scale)


class _Scene:
    def __init__(self, dpi: float) -> None:
        self.fig = Figure(figsize=(5.2, 4.6), dpi=dpi)
        self.fig.subplots_adjust(left=0.14, right=0.96, bottom=0.12, top=0.9)
        self.ax = self.fig.add_subplot()
        self.ax.set(xlabel="x1 - x1*", ylabel="x2 - x2*", aspect="equal")
        (self.ellipse,) = self.ax.plot([], [], color="k", lw=1.5)
        (self.axis,) = self.ax.plot([], [], color="0.6", lw=1, ls="--")
        g = np.zeros((_GRID.size, _GRID.size))
        self.arrows = self.ax.quiver(g, g, g, g, color="tab:red", angles="xy")
        self.canvas = BlitCanvas(self.fig, [self.ellipse, self.axis, self.arrows, self.ax.title])

    def update(self, frame: Frame) -> None:
        e = frame.ellipse
        self.ellipse.set_data(e[:, 0], e[:, 1])
        a = frame.axis
        self.axis.set_data([-a[0], a[0]], [-a[1], a[1]])
        f = frame.velocity
        self.arrows.set_offsets(f[..., :2].reshape(-1, 2))
        norm = np.abs(f[..., 2:]).max()
        scale = 0.15 * np.abs(f[..., :2]).max() / norm if norm > 0 else 1.0
        self.arrows.set_UVC(scale * f[..., 2].ravel(), scale * f[..., 3].ravel())
        self.arrows.scale = 1.0
        self.arrows.scale_units = "xy"
        lim = 1.35 * np.abs(f[..., :2]).max()
        self.ax.set(xlim=(-lim, lim), ylim=(-lim, lim))
        self.canvas.invalidate()
        self.ax.set_title(f"angle {frame.angle:.0f}°, μ = {frame.momentum:.2f}: "
                          f"R12 = {frame.rotation:+.2e}", fontsize=9)


class RotationExplorer(Explorer):
    """Live explorer of the rotation of heavy-ball SGD (an ipywidgets ``VBox``).

    Parameters
    ----------
    angle : float, default 30
        Angle between the Hessian's axes and the noise's, degrees in [0, 90].
    momentum : float, default 0.9
        :math:`\\mu` in [0, 0.95].
    dpi : float, default 72

    Notes
    -----
    In the built book its display carries an HTML fallback with frames precomputed over
    :data:`STATIC_ANGLES` and :data:`STATIC_MOMENTA`.
    """

    def __init__(self, angle: float = 30.0, momentum: float = 0.9, *, dpi: float = 72) -> None:
        style = {"description_width": "initial"}
        self.angle = W.FloatSlider(value=angle, min=0.0, max=90.0, step=5.0, style=style,
                                   description="angle H vs noise (°)")
        self.momentum = W.FloatSlider(value=momentum, min=0.0, max=0.95, step=0.05,
                                      style=style, description="momentum μ")
        super().__init__([["angle", "momentum"]], _Scene(dpi),
                         (StaticSweep("angle", STATIC_ANGLES, "angle (&deg;)", fmt="{:.0f}"),
                          StaticSweep("momentum", STATIC_MOMENTA, "momentum")))

    def compute(self, values: Mapping[str, Any]) -> Frame:
        """The frame for slider values ``angle`` (degrees) and ``momentum``."""
        return compute_frame(values["angle"], values["momentum"])

    def caption(self) -> str:
        """Caption of the static fallback."""
        return (f"Heavy-ball SGD at η = {ETA} on the tilted quadratic: stationary ellipse, "
                "the Hessian's leading axis (dashed) and the rotation's mean velocity "
                "(arrows). Run the notebook to move the sliders freely.")


def rotation_explorer(**kwargs: Any) -> RotationExplorer:
    """Return the rotation explorer; keyword arguments as in :class:`RotationExplorer`."""
    return RotationExplorer(**kwargs)
