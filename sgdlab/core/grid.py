"""Rectangular grids in the plane and finite-difference operators on them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from sgdlab import _validation as check
from sgdlab._typing import Array

__all__ = ["CellGrid", "Grid2D", "cell_grid", "curl", "divergence", "gradient", "grid2d"]


@dataclass(frozen=True)
class Grid2D:
    """Nodes ``x[i], y[k]`` of a uniform grid on a box, ``points[i, k] = (x[i], y[k])``.

    Build it with :func:`grid2d`.
    """

    x: Array
    y: Array

    @property
    def spacing(self) -> tuple[float, float]:
        """Node spacings ``(hx, hy)``."""
        return float(self.x[1] - self.x[0]), float(self.y[1] - self.y[0])

    @property
    def shape(self) -> tuple[int, int]:
        """Number of nodes per axis."""
        return self.x.size, self.y.size

    @property
    def points(self) -> Array:
        """Node coordinates, shape ``(nx, ny, 2)``."""
        return np.stack(np.meshgrid(self.x, self.y, indexing="ij"), axis=-1)


def grid2d(box: ArrayLike, n: int | Sequence[int]) -> Grid2D:
    """Uniform grid of ``n`` (or ``(nx, ny)``) nodes per axis on ``box = [[x0, x1], [y0, y1]]``."""
    bounds = check.box("box", box, 2)
    nx, ny = _counts(n, 2, "nodes")
    return Grid2D(x=np.linspace(bounds[0, 0], bounds[0, 1], nx),
                  y=np.linspace(bounds[1, 0], bounds[1, 1], ny))


def _counts(n: int | Sequence[int], d: int, what: str) -> tuple[int, ...]:
    """``n`` as ``d`` counts of at least 3 ``what`` per axis; a single int counts for every axis.

    A string or a 0-d array is iterable but one value, hence the ``np.ndim`` test.
    """
    counts = tuple(n) if isinstance(n, Iterable) and np.ndim(n) > 0 else (n,) * d
    if len(counts) != d:
        raise ValueError(f"n must give one count per axis ({d}), got {n!r}")
    out = tuple(check.positive_int("n", c) for c in counts)
    if min(out) < 3:
        raise ValueError(f"n must be at least 3 {what} per axis, got {out}")
    return out


def gradient(u: ArrayLike, grid: Grid2D | CellGrid) -> Array:
    r""":math:`\nabla u` on a grid, by second-order differences.

    Parameters
    ----------
    u : array_like, shape grid.shape + tail
        Values at the nodes of a :class:`Grid2D` or the cells of a
        :class:`CellGrid`; trailing axes (``tail``) are differentiated
        component by component.
    grid : Grid2D or CellGrid

    Returns
    -------
    ndarray, shape grid.shape + (d,) + tail
    """
    u = np.asarray(u, dtype=float)
    shape = tuple(grid.shape)
    if u.shape[:len(shape)] != shape:
        raise ValueError(f"u must have shape {shape} + (...), got {u.shape}")
    return np.stack([np.gradient(u, h, axis=a, edge_order=2)
                     for a, h in enumerate(grid.spacing)], axis=len(shape))


def divergence(v: ArrayLike, grid: Grid2D | CellGrid) -> Array:
    r""":math:`\nabla\cdot v = \sum_a \partial_a v_a` by second-order differences.

    Parameters
    ----------
    v : array_like, shape grid.shape + (d,)
        Vector field at the nodes of a :class:`Grid2D` or the cells of a
        :class:`CellGrid`.
    grid : Grid2D or CellGrid

    Returns
    -------
    ndarray, shape grid.shape
    """
    v = _field(v, grid)
    return sum((np.gradient(v[..., a], h, axis=a, edge_order=2)
                for a, h in enumerate(grid.spacing)), start=np.zeros(grid.shape))


def curl(v: ArrayLike, grid: Grid2D | CellGrid) -> Array:
    r"""Scalar curl :math:`\partial_1 v_2 - \partial_2 v_1` by second-order differences."""
    v = _field(v, grid)
    hx, hy = grid.spacing
    return (np.gradient(v[..., 1], hx, axis=0, edge_order=2)
            - np.gradient(v[..., 0], hy, axis=1, edge_order=2))


def _field(v: ArrayLike, grid: Grid2D | CellGrid) -> Array:
    arr = np.asarray(v, dtype=float)
    want = (*grid.shape, len(grid.shape))
    if arr.shape != want:
        raise ValueError(f"v must have shape {want} to match the grid, got {arr.shape}")
    return arr


@dataclass(frozen=True)
class CellGrid:
    """Uniform cells of a box in one or two dimensions, for finite volumes.

    ``edges[a]`` holds the cell faces along axis ``a``; cell ``(i, k)`` is
    ``[edges[0][i], edges[0][i+1]] x [edges[1][k], edges[1][k+1]]``.
    Build it with :func:`cell_grid`.
    """

    edges: tuple[Array, ...]

    @property
    def dim(self) -> int:
        """Number of axes, 1 or 2."""
        return len(self.edges)

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of cells per axis."""
        return tuple(e.size - 1 for e in self.edges)

    @property
    def spacing(self) -> tuple[float, ...]:
        """Cell widths per axis."""
        return tuple(float(e[1] - e[0]) for e in self.edges)

    @property
    def volume(self) -> float:
        """Length (1-D) or area (2-D) of one cell."""
        return float(np.prod(self.spacing))

    @property
    def centres(self) -> tuple[Array, ...]:
        """Cell centres per axis."""
        return tuple((e[1:] + e[:-1]) / 2.0 for e in self.edges)

    @property
    def points(self) -> Array:
        """Cell centres, shape ``shape + (dim,)``."""
        return np.stack(np.meshgrid(*self.centres, indexing="ij"), axis=-1)

    def nodes(self) -> Grid2D:
        """The cell centres of a 2-D cell grid as a :class:`Grid2D`, for :func:`gradient` etc."""
        if self.dim != 2:
            raise ValueError(f"nodes() needs a 2-D cell grid, this one has dim {self.dim}")
        return Grid2D(*self.centres)


def cell_grid(box: ArrayLike, n: int | Sequence[int]) -> CellGrid:
    """Uniform cells, ``n`` (or one count per axis) per axis, on ``box = [[lo, hi], ...]``.

    Parameters
    ----------
    box : array_like, shape (d, 2)
        Bounds per axis, ``d`` = 1 or 2.
    n : int or sequence of int
        Cells per axis, at least 3.
    """
    bounds = check.box("box", box)
    d = bounds.shape[0]
    if d not in (1, 2):
        raise ValueError(f"box must have 1 or 2 axes, got {d}")
    counts = _counts(n, d, "cells")
    return CellGrid(edges=tuple(np.linspace(lo, hi, c + 1)
                                for (lo, hi), c in zip(bounds, counts, strict=True)))
