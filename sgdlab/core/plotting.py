"""Drawing helpers shared by the chapters and the explorers (matplotlib)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from numpy.typing import ArrayLike

from sgdlab import _validation as check
from sgdlab._typing import Array
from sgdlab.core.critical import CriticalPoint
from sgdlab.core.grid import grid2d

if TYPE_CHECKING:
    from sgdlab.deep.eigenspectrum import Spectrum

#: Grey of each instant of training in Figs. 1-2 (darker is later, as in the paper).
INSTANT_GREYS: dict[float, str] = {0.2: "0.7", 0.4: "0.4", 1.0: "0.0"}

#: Marker style of each kind of critical point.
KIND_STYLE: dict[str, dict[str, object]] = {
    "minimum": {"marker": "o", "color": "tab:blue"},
    "maximum": {"marker": "^", "color": "tab:purple"},
    "saddle": {"marker": "X", "color": "tab:orange"},
    "spiral": {"marker": "D", "color": "tab:green"},
    "centre": {"marker": "P", "color": "tab:green"},
    "degenerate": {"marker": "s", "color": "tab:gray"},
}


def streamlets(
    field: Callable[[Array], ArrayLike],
    box: ArrayLike,
    *,
    n_seeds: int = 14,
    length: float = 0.35,
    n_steps: int = 8,
) -> tuple[Array, Array]:
    """Short streamlines of a planar field from an even grid of seeds.

    Each seed is followed forwards and backwards along the normalised field
    (midpoint rule, all seeds at once) over arc length ``length`` each way.
    This is the fast stand-in for :meth:`matplotlib.axes.Axes.streamplot`
    that the explorers need to redraw within their latency budget; the
    chapters' static figures use ``streamplot`` itself.

    Parameters
    ----------
    field : callable
        Vectorised field, points ``(..., 2)`` to vectors ``(..., 2)``.
    box : array_like, shape (2, 2)
        Region to seed.
    n_seeds : int, default 14
        Seeds per axis.
    length : float, default 0.35
        Arc length followed from each seed in each direction.
    n_steps : int, default 8
        Steps per direction.

    Returns
    -------
    lines : ndarray, shape (n_seeds**2, 2 * n_steps + 1, 2)
        One polyline per seed, from its backward end to its forward end,
        ready for :class:`~matplotlib.collections.LineCollection`.
    speed : ndarray, shape (n_seeds**2,)
        The field's norm at each seed.
    """
    bounds = check.box("box", box, 2)
    pad = (bounds[:, 1] - bounds[:, 0]) / (2 * n_seeds)
    axes = [np.linspace(lo + p, hi - p, n_seeds) for (lo, hi), p in zip(bounds, pad, strict=True)]
    seeds = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 2)
    h = length / n_steps

    def unit(x: Array) -> Array:
        v = np.asarray(field(x), dtype=float)
        return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)

    halves = []
    for sign in (1.0, -1.0):
        x, points = seeds, []
        for _ in range(n_steps):
            x = x + sign * h * unit(x + sign * 0.5 * h * unit(x))
            points.append(x)
        halves.append(np.stack(points, axis=1))
    lines = np.concatenate([halves[1][:, ::-1], seeds[:, None], halves[0]], axis=1)
    speed = np.linalg.norm(np.asarray(field(seeds), dtype=float), axis=-1)
    return lines, speed


def line_widths(speed: ArrayLike, *, lo: float = 0.3, hi: float = 2.5) -> Array:
    """Line widths proportional to ``speed``, scaled into ``[lo, hi]`` points."""
    speed = np.asarray(speed, dtype=float)
    return lo + (hi - lo) * speed / max(float(speed.max()), 1e-12)


def draw_streamlets(ax: Axes, lines: Array, speed: Array, **kwargs: object) -> LineCollection:
    """Add the output of :func:`streamlets` to ``ax`` with widths proportional to speed."""
    collection = LineCollection(lines, linewidths=line_widths(speed), colors="0.15", **kwargs)
    ax.add_collection(collection)
    return collection


def draw_zeros(ax: Axes, points: Sequence[CriticalPoint], *, label: str = "zero of $\\nabla f$",
               size: float = 60.0) -> None:
    """Mark critical points on ``ax``, one marker style per kind (see :data:`KIND_STYLE`).

    Each kind gets one legend entry, however many points it has.
    """
    labelled = set(ax.get_legend_handles_labels()[1])
    for p in points:
        style = KIND_STYLE[p.kind]
        text = f"{label}: {p.kind}"
        ax.scatter(*p.x, s=size, marker=style["marker"], color=style["color"],
                   edgecolors="white", linewidths=0.8, zorder=5,
                   label=text if text not in labelled else "_nolegend_")
        labelled.add(text)


def draw_flow(
    ax: Axes,
    grad_f: Callable[[Array], ArrayLike],
    phi: Callable[[Array], ArrayLike],
    box: ArrayLike,
    *,
    zeros: Sequence[CriticalPoint] = (),
    n: int = 160,
    density: float = 1.3,
) -> None:
    r"""Fig. 4's panel: :math:`\Phi` contours and the stream plot of :math:`-\nabla f`.

    Line widths are proportional to :math:`|\nabla f|`, as in the paper;
    ``zeros`` are marked with :func:`draw_zeros`.

    Parameters
    ----------
    ax : Axes
    grad_f, phi : callable
        Vectorised :math:`\nabla f` and :math:`\Phi` over points ``(..., 2)``.
    box : array_like, shape (2, 2)
    zeros : sequence of CriticalPoint
    n : int, default 160
        Grid nodes per axis.
    density : float, default 1.3
        Streamline density, as in :meth:`~matplotlib.axes.Axes.streamplot`.
    """
    grid = grid2d(box, n)
    pts = grid.points
    v = -np.asarray(grad_f(pts), dtype=float)
    speed = np.linalg.norm(v, axis=-1)
    ax.contour(grid.x, grid.y, np.asarray(phi(pts)).T, levels=np.linspace(0.02, 2.5, 12),
               cmap="viridis", linewidths=0.8)
    ax.streamplot(grid.x, grid.y, v[..., 0].T, v[..., 1].T, color="0.15",
                  linewidth=line_widths(speed).T, density=density, arrowsize=0.8)
    draw_zeros(ax, zeros)
    ax.set(xlim=grid.x[[0, -1]], ylim=grid.y[[0, -1]], aspect="equal",
           xlabel="$x_1$", ylabel="$x_2$")


def draw_spectra(ax: Axes, by_instant: Mapping[float, Spectrum], title: str) -> None:
    """One panel of Figs. 1-2: the eigenvalues of D above the rank threshold, log axes.

    A step histogram per instant of training (:data:`INSTANT_GREYS`), and a
    title with the mean and standard deviation of the final spectrum and its
    rank, as the paper's captions quote them.
    """
    top = max(s.eigenvalues[0] for s in by_instant.values())
    low = min(s.threshold for s in by_instant.values())
    edges = np.logspace(math.log10(low), math.log10(top) + 0.1, 40)
    for fraction, grey in INSTANT_GREYS.items():
        s = by_instant[fraction]
        ax.hist(s.nonzero, edges, histtype="step", color=grey, lw=1.5,
                label=f"{round(100 * fraction)} %: rank {100 * s.rank_fraction:.2f} %")
    final = by_instant[1.0]
    ax.set(xscale="log", yscale="log", xlabel="eigenvalue of D", ylabel="count",
           title=f"{title}\nλ = ({1e3 * final.mean:.2f} ± {1e3 * final.std:.2f})×1e-3, "
                 f"rank {100 * final.rank_fraction:.2f} %")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)
