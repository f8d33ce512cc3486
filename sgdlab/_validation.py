"""Argument checks shared by the public functions of :mod:`sgdlab`.

Each helper raises :class:`ValueError` naming the offending argument, so that
bad input fails at the call site rather than deep inside NumPy or SciPy.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray


def finite_scalar(name: str, value: float) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


def positive_scalar(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, or raise if it is not finite and positive."""
    out = finite_scalar(name, value)
    if out < 0 or (out == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return out


def positive_int(name: str, value: int) -> int:
    """Return ``value`` as an int, or raise if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def seed(name: str, value: int) -> int:
    """Return ``value`` as an int, or raise if it is not a non-negative integer (a seed)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def field_points(name: str, x: ArrayLike, dim: int) -> NDArray[np.float64]:
    """Return ``x`` as a float array of shape ``(..., dim)``: where a field is evaluated.

    Shape and type are checked; NaN and infinite entries are kept, so that a
    field evaluated elementwise propagates them as a NumPy ufunc does and an
    optimiser or root finder that steps to such a point can recover.
    """
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be an array of real numbers, got {type(x).__name__}"
        ) from None
    if arr.ndim == 0 or arr.shape[-1] != dim:
        raise ValueError(
            f"{name} must have shape (..., {dim}), got shape {np.shape(x)}"
        )
    return arr


def points(name: str, x: ArrayLike, dim: int) -> NDArray[np.float64]:
    """Return ``x`` as a float array of shape ``(..., dim)`` with finite entries."""
    arr = field_points(name, x, dim)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr


def particles(name: str, x: ArrayLike) -> NDArray[np.float64]:
    """Return states as a finite float array ``(n, d)``; one state ``(d,)`` is one row."""
    arr = np.array(x, dtype=float, ndmin=2)
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (d,) or (n, d), got shape {np.shape(x)}")
    return points(name, arr, arr.shape[1])


def box(name: str, value: ArrayLike, dim: int | None = None) -> NDArray[np.float64]:
    """Return a box ``[[lo_1, hi_1], ..., [lo_dim, hi_dim]]`` with lo < hi."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2 or (dim is not None and arr.shape[0] != dim):
        want = "d" if dim is None else str(dim)
        raise ValueError(
            f"{name} must have shape ({want}, 2) as [[lo, hi], ...], got {np.shape(value)}"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr[:, 0] >= arr[:, 1]):
        raise ValueError(f"{name} must hold finite bounds with lo < hi, got {arr.tolist()}")
    return arr
