"""Drawing helpers shared by the chapters and the explorers (matplotlib), and their tables."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from numpy.typing import ArrayLike

from sgdlab import _validation as check
from sgdlab._typing import Array
from sgdlab.core.critical import CriticalPoint
from sgdlab.core.grid import grid2d

if TYPE_CHECKING:
    from sgdlab.deep.brownian import Comparison
    from sgdlab.deep.eigenspectrum import Spectrum

__all__ = ["INSTANT_GREYS", "KIND_STYLE", "draw_flow", "draw_spectra", "draw_streamlets",
           "draw_trajectories", "draw_zeros", "line_widths", "markdown_table", "streamlets"]

#: Grey of each instant of training in Figs. 1-2 (darker is later, as in the paper).
INSTANT_GREYS: dict[float, str] = {0.2: "0.7", 0.4: "0.4", 1.0: "0.0"}

#: Marker style of each kind of critical point.
KIND_STYLE: dict[str, dict[str, str]] = {
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


def draw_streamlets(ax: Axes, lines: Array, speed: Array, **kwargs: Any) -> LineCollection:
    """Add the output of :func:`streamlets` to ``ax`` with widths proportional to speed."""
    # matplotlib's stubs ask for a typing.Sequence of lines; an (n, m, 2) array iterates as one
    collection = LineCollection(lines,  # type: ignore[arg-type]
                                linewidths=line_widths(speed), colors="0.15", **kwargs)
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
        ax.scatter(p.x[0], p.x[1], s=size, marker=style["marker"], color=style["color"],
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
        # matplotlib's stubs ask for bins as a typing.Sequence; an array of edges works as one
        ax.hist(s.nonzero, edges,  # type: ignore[arg-type]
                histtype="step", color=grey, lw=1.5,
                label=f"{round(100 * fraction)} %: rank {100 * s.rank_fraction:.2f} %")
    final = by_instant[1.0]
    ax.set(xscale="log", yscale="log", xlabel="eigenvalue of D", ylabel="count",
           title=f"{title}\nλ = ({1e3 * final.mean:.2f} ± {1e3 * final.std:.2f})×1e-3, "
                 f"rank {100 * final.rank_fraction:.2f} %")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)


def draw_trajectories(axes: Sequence[Axes], cmp: Comparison, grad_norm: ArrayLike,
                      eval_grad_norm: ArrayLike, burn_in: int) -> None:
    r"""The three panels of Fig. 3 (Remarks 17-18), each against its baseline.

    (a) The binned periodogram of the increments :math:`x^i_{k+1} - x^i_k`
    over their variance, mean and 16-84 % quantiles over weights, against
    white noise; (b) the autocorrelation of :math:`x^i_k`, mean and one
    standard deviation over weights, against Brownian motion with the same
    increments and the fitted AR(1) (Ornstein-Uhlenbeck) process, with the
    99 % band dotted; (c) :math:`\|\nabla f(x_k)\|/\sqrt d` of every chain
    with BatchNorm on the whole data set and in eval mode, the end of the
    burn-in dashed.

    Parameters
    ----------
    axes : sequence of three Axes
    cmp : Comparison
        The tests of :func:`sgdlab.deep.brownian.analyse`.
    grad_norm, eval_grad_norm : array_like, shape (chains, epochs)
        The normalised full gradient (:func:`~sgdlab.deep.brownian.normalised_gradient`)
        with BatchNorm on all the examples and in eval mode, one row per chain.
    burn_in : int
        Epochs before the first snapshot.
    """
    ax_a, ax_b, ax_c = axes
    for power, colour, label in ((cmp.white_power, "0.5", "white noise"),
                                 (cmp.power, "tab:blue", "SGD")):
        ax_a.fill_between(cmp.freqs, *np.quantile(power, [0.16, 0.84], axis=0), color=colour,
                          alpha=0.25, lw=0)
        ax_a.plot(cmp.freqs, power.mean(axis=0), ".-", color=colour, label=label)
    ax_a.set(xscale="log", yscale="log", xlabel="frequency (cycles per epoch)",
             ylabel="power of $x_{k+1} - x_k$ / variance",
             title="(a) increments: mean, 16-84 % of weights")
    ax_a.legend(fontsize=8)
    lags = np.arange(cmp.acf.shape[1])
    for acfs, colour, label in ((cmp.brownian_acf, "tab:orange", "Brownian motion"),
                                (cmp.ou_acf, "tab:green", "AR(1) / OU fitted"),
                                (cmp.acf, "tab:blue", "SGD")):
        mean, std = acfs.mean(axis=0), acfs.std(axis=0)
        ax_b.fill_between(lags, mean - std, mean + std, color=colour, alpha=0.2, lw=0)
        ax_b.plot(lags, mean, color=colour, label=label)
    for sign in (1, -1):
        ax_b.axhline(sign * cmp.band, color="tab:red", ls=":", lw=1)
    ax_b.set(xlabel="lag (epochs)", ylabel="autocorrelation of $x_k$",
             title="(b) autocorrelation, 99 % band dotted")
    ax_b.legend(fontsize=8)
    for norms, colour, label in ((grad_norm, "tab:blue",
                                  "BatchNorm on all N (the loss SGD follows)"),
                                 (eval_grad_norm, "tab:purple", "eval mode (running statistics)")):
        norms = np.asarray(norms, dtype=float)
        ax_c.semilogy(np.arange(1, norms.shape[1] + 1), norms.T, color=colour, lw=0.6,
                      alpha=0.6)
        ax_c.plot([], [], color=colour, label=label)
    ax_c.axvline(burn_in, color="k", ls="--", lw=0.8)
    ax_c.set(xlabel="epoch", ylabel=r"$\|\nabla f(x_k)\| / \sqrt{d}$",
             title="(c) full gradient, every chain; burn-in dashed")
    ax_c.legend(fontsize=8)


def markdown_table(rows: Iterable[Sequence[object]], header: Sequence[str]) -> str:
    r"""A Markdown (GitHub-flavoured) table, for :class:`IPython.display.Markdown`.

    Cells are written with ``str``, so numbers should be formatted
    before; a ``|`` inside a cell is escaped.

    Parameters
    ----------
    rows : iterable of sequences
        One sequence of cells per row, each as long as ``header``.
    header : sequence of str
        The column titles.

    Returns
    -------
    str

    Examples
    --------
    >>> print(markdown_table([("small-fc", "0.60 %")], ("network", "rank / d")))
    | network | rank / d |
    | --- | --- |
    | small-fc | 0.60 % |
    """
    if not header:
        raise ValueError("header must name at least one column")

    def line(cells: Sequence[object]) -> str:
        return "| " + " | ".join(str(c).replace("|", r"\|") for c in cells) + " |"

    lines = [line(header), line(["---"] * len(header))]
    for k, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"row {k} has {len(row)} cells, the header {len(header)}")
        lines.append(line(row))
    return "\n".join(lines)
