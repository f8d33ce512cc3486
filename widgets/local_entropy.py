"""Explorer of local entropy (Section V-C): the gamma slider.

Left: the loss :math:`f` and its local entropy :math:`f_\\gamma` in 1-D, with
the minimum of :math:`f_\\gamma`.  Middle: the steady state
:math:`\\rho_\\gamma \\propto e^{-\\beta f_\\gamma}` and the mass of each basin.
Right: :math:`f_\\gamma` on a 2-D landscape with the same two wells.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from sgdlab.core.density import gibbs
from sgdlab.core.grid import grid2d
from sgdlab.core.landscapes import local_entropy, wide_and_sharp
from widgets._explorer import Explorer, StaticSweep
from widgets._static import BlitCanvas

__all__ = ["GRID", "STATIC_GAMMAS", "Frame", "LocalEntropyExplorer", "X", "compute_frame",
           "local_entropy_explorer"]

#: The 1-D grid of the loss and its local entropy.
X = np.linspace(-6.0, 6.0, 481)
_VIEW = np.abs(X) <= 3.0
#: The 2-D grid of the local entropy in the plane.
GRID = grid2d([[-5.0, 5.0], [-5.0, 5.0]], 201)
_VIEW_2D = [-3.0, 3.0, -3.0, 3.0]
#: The values of gamma precomputed for the static fallback of the built book.
STATIC_GAMMAS = tuple(np.round(np.geomspace(1e-3, 1.0, 13), 4))
_F_1D = wide_and_sharp(1).f(X)
_F_2D = wide_and_sharp(2).f(GRID.points)


@dataclass(frozen=True)
class Frame:
    """What the explorer shows for one gamma and beta."""

    gamma: float
    beta: float
    f_gamma: NDArray[np.float64]
    density: NDArray[np.float64]
    wide_mass: float
    f_gamma_2d: NDArray[np.float64]
    argmin_2d: NDArray[np.float64]


def compute_frame(gamma: float, beta: float) -> Frame:
    """Local entropy of the 1-D and 2-D wide-and-sharp landscapes, and the 1-D steady state."""
    f_gamma = local_entropy(_F_1D, gamma, X)
    h = X[1] - X[0]
    density = gibbs(f_gamma, h, beta)
    wide_mass = float(density[X < 0].sum() * h)
    f2 = local_entropy(_F_2D, gamma, GRID)
    i, k = np.unravel_index(np.argmin(f2), f2.shape)
    return Frame(gamma=gamma, beta=beta, f_gamma=f_gamma, density=density, wide_mass=wide_mass,
                 f_gamma_2d=f2, argmin_2d=np.array([GRID.x[i], GRID.y[k]]))


class _Scene:
    def __init__(self, dpi: float) -> None:
        self.fig = Figure(figsize=(11.0, 3.6), dpi=dpi, layout="constrained")
        self.ax_f, self.ax_rho, self.ax_2d = self.fig.subplots(1, 3)
        self.ax_f.plot(X[_VIEW], _F_1D[_VIEW], color="0.6", lw=1.2, label="$f$")
        (self.f_line,) = self.ax_f.plot(X[_VIEW], _F_1D[_VIEW], color="tab:blue", lw=1.8,
                                        label="$f_\\gamma$")
        (self.f_min,) = self.ax_f.plot([], [], "o", color="tab:red", label="min $f_\\gamma$")
        self.ax_f.set(xlim=(-3, 3), ylim=(-1.8, 1.2), xlabel="$x$")
        self.ax_f.legend(loc="upper center", fontsize=8, ncols=3)
        (self.rho_line,) = self.ax_rho.plot(X[_VIEW], np.zeros(_VIEW.sum()), color="tab:blue")
        self.ax_rho.set(xlim=(-3, 3), ylim=(0, 4), xlabel="$x$",
                        ylabel="$\\rho_\\gamma \\propto e^{-\\beta f_\\gamma}$")
        self.image = self.ax_2d.imshow(np.zeros((2, 2)), extent=[-5, 5, -5, 5], origin="lower",
                                       cmap="viridis", vmin=-1.6, vmax=1.0)
        (self.min_2d,) = self.ax_2d.plot([], [], "o", color="tab:red")
        self.ax_2d.set(xlim=_VIEW_2D[:2], ylim=_VIEW_2D[2:], xlabel="$x_1$", ylabel="$x_2$")
        self.canvas = BlitCanvas(self.fig, [self.f_line, self.f_min, self.rho_line, self.image,
                                            self.min_2d, self.ax_f.title, self.ax_rho.title,
                                            self.ax_2d.title])

    def update(self, frame: Frame) -> None:
        self.f_line.set_ydata(frame.f_gamma[_VIEW])
        k = np.argmin(frame.f_gamma)
        self.f_min.set_data([X[k]], [frame.f_gamma[k]])
        self.ax_f.set_title(f"γ = {frame.gamma:.3g}: min of f_γ at x = {X[k]:+.2f}",
                            fontsize=9)
        self.rho_line.set_ydata(frame.density[_VIEW])
        self.ax_rho.set_title(f"β = {frame.beta:g}: mass of the wide basin "
                              f"{frame.wide_mass:.2f}", fontsize=9)
        self.image.set_data(frame.f_gamma_2d.T)
        self.min_2d.set_data([frame.argmin_2d[0]], [frame.argmin_2d[1]])
        self.ax_2d.set_title(f"2-D f_γ, min at ({frame.argmin_2d[0]:+.1f}, "
                             f"{frame.argmin_2d[1]:+.1f})", fontsize=9)


class LocalEntropyExplorer(Explorer):
    """Live explorer of local entropy (an ipywidgets ``VBox``).

    Parameters
    ----------
    gamma : float, default 0.01
        Initial variance of the smoothing kernel, in [1e-3, 1].
    beta : float, default 20
        Inverse temperature of the steady state, in [1, 50].
    dpi : float, default 72
        Resolution of the picture.

    Notes
    -----
    Displayed, it also carries an HTML fallback with :data:`STATIC_GAMMAS`
    frames precomputed at the current beta, which the built book shows.
    """

    def __init__(self, gamma: float = 0.01, beta: float = 20.0, *, dpi: float = 72) -> None:
        style = {"description_width": "initial"}
        self.gamma = W.FloatLogSlider(value=gamma, base=10, min=-3, max=0, step=0.05,
                                      style=style, description="γ (kernel variance)",
                                      readout_format=".3g")
        self.beta = W.FloatSlider(value=beta, min=1.0, max=50.0, step=1.0, style=style,
                                  description="β")
        super().__init__([["gamma", "beta"]], _Scene(dpi),
                         (StaticSweep("gamma", STATIC_GAMMAS, "&gamma;", fmt="{:.3g}"),))

    def compute(self, values: Mapping[str, Any]) -> Frame:
        """The frame for slider values ``gamma`` and ``beta``."""
        return compute_frame(values["gamma"], values["beta"])

    def caption(self) -> str:
        """Caption of the static fallback."""
        return (f"Local entropy, precomputed for β = {self.beta.value:g}. "
                "Run the notebook to move every slider.")


def local_entropy_explorer(**kwargs: Any) -> LocalEntropyExplorer:
    """Return the local-entropy explorer; keyword arguments as in :class:`LocalEntropyExplorer`."""
    return LocalEntropyExplorer(**kwargs)
