"""Argument checks shared by the public functions of :mod:`sgdlab`.

Each helper raises :class:`ValueError` naming the offending argument (or
:class:`TypeError`, for points that are not numbers), so that bad input fails at
the call site rather than deep inside NumPy, SciPy or torch.
torch is imported only by the check of torch tensors
(:func:`labelled_examples`), so that the NumPy half runs without it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import torch

__all__ = ["MATRIX_ROUNDOFF", "box", "field_points", "finite_scalar", "labelled_examples",
           "particles", "points", "positive_int", "positive_scalar", "psd_eigh", "psd_matrix",
           "seed", "square_matrix", "symmetric_matrix"]

#: Round-off allowance of :func:`symmetric_matrix` and :func:`psd_matrix`, in units of
#: ``d * eps * |A|_F`` for a ``d x d`` matrix ``A``.
MATRIX_ROUNDOFF = 100


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


def positive_int(name: str, value: object) -> int:
    """Return ``value`` as an int, or raise if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def seed(name: str, value: object) -> int:
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


def labelled_examples(x: torch.Tensor, y: torch.Tensor, num_classes: int | None, *,
                      shape: tuple[int, ...] | None = None, xname: str = "x",
                      yname: str = "y") -> int:
    """Check a labelled data set of torch tensors and return its number of examples n.

    Parameters
    ----------
    x : torch.Tensor
        Inputs: a float tensor of shape ``(n, *shape)``, n >= 1, with finite
        entries.
    y : torch.Tensor
        Labels: an int64 tensor of shape ``(n,)`` holding classes
        ``0, ..., num_classes - 1``.
    num_classes : int or None
        The number of classes; None leaves the range of the labels to the caller.
    shape : tuple of int, optional
        The shape of one input; any, of at least one dimension, if omitted.
    xname, yname : str
        The arguments' names in the messages.

    Returns
    -------
    int
        n.

    Raises
    ------
    ValueError
        Naming ``xname`` or ``yname``, if a condition above fails.
    """
    import torch

    classes = None if num_classes is None else positive_int("num_classes", num_classes)
    want = "..." if shape is None else ", ".join(map(str, shape))
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim == 0 \
            or len(x) == 0 or (x.ndim < 2 if shape is None else x.shape[1:] != tuple(shape)):
        raise ValueError(f"{xname} must be a float tensor of shape (n, {want}) with n >= 1, got "
                         f"{getattr(x, 'dtype', type(x).__name__)} "
                         f"{tuple(getattr(x, 'shape', ()))}")
    n = len(x)
    if not isinstance(y, torch.Tensor) or y.dtype != torch.int64 or tuple(y.shape) != (n,):
        raise ValueError(f"{yname} must be an int64 tensor of shape ({n},) matching {xname}, "
                         f"got {getattr(y, 'dtype', type(y).__name__)} "
                         f"{tuple(getattr(y, 'shape', ()))}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{xname} contains NaN or infinite entries")
    low, high = int(y.min()), int(y.max())
    if classes is not None and (low < 0 or high >= classes):
        raise ValueError(f"{yname} must hold classes 0..{classes - 1}, got values in "
                         f"[{low}, {high}]")
    return n


def square_matrix(name: str, value: ArrayLike, dim: int | None = None, *,
                  stack: bool = False) -> NDArray[np.float64]:
    """Return ``value`` as a finite float matrix ``(d, d)``, ``d >= 1`` (``d = dim`` if given).

    With ``stack``, ``value`` may also be a stack of such matrices, ``(..., d, d)``.
    """
    arr = np.asarray(value, dtype=float)
    if (arr.ndim < 2 or (arr.ndim > 2 and not stack) or arr.shape[-1] != arr.shape[-2]
            or arr.shape[-1] == 0 or (dim is not None and arr.shape[-1] != dim)):
        what = "square matrices (..., d, d)" if stack else "a square matrix"
        size = "" if dim is None else f" ({dim}, {dim})"
        raise ValueError(f"{name} must be {what}{size}, got shape {np.shape(value)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr


def _roundoff(mats: NDArray[np.float64]) -> NDArray[np.float64]:
    """The tolerance of the matrix checks, one per matrix, shape ``mats.shape[:-2] + (1, 1)``."""
    norm = np.linalg.norm(mats, axis=(-2, -1), keepdims=True)
    return MATRIX_ROUNDOFF * mats.shape[-1] * np.finfo(float).eps * norm


def symmetric_matrix(name: str, value: ArrayLike, dim: int | None = None, *,
                     stack: bool = False) -> NDArray[np.float64]:
    r"""Return ``value`` as a :func:`square_matrix` that is symmetric up to round-off.

    :math:`|A_{ij} - A_{ji}| \le 100\,d\,\varepsilon\,\|A\|_F` is accepted
    (:data:`MATRIX_ROUNDOFF`, :math:`\varepsilon` the float64 machine
    epsilon): a matrix formed in floating point, as :math:`R\Lambda R^\top`
    or a sum of outer products, is symmetric to within a few :math:`d\varepsilon`
    of its norm, while an asymmetric matrix entered by mistake is far outside.
    The tolerance is relative, so that the check does not depend on units.
    Each matrix of a stack is checked against its own norm.
    """
    arr = square_matrix(name, value, dim, stack=stack)
    if np.any(np.abs(arr - np.swapaxes(arr, -1, -2)) > _roundoff(arr)):
        raise ValueError(f"{name} must be symmetric")
    return arr


def _check_spectrum(name: str, eigenvalues: NDArray[np.floating], mats: NDArray[np.float64],
                    definite: bool) -> None:
    tol = _roundoff(mats)[..., 0]
    if np.any(eigenvalues <= tol if definite else eigenvalues < -tol):
        kind = "positive definite" if definite else "positive semi-definite"
        raise ValueError(f"{name} must be {kind} (smallest eigenvalue {eigenvalues.min():g})")


def psd_matrix(name: str, value: ArrayLike, dim: int | None = None, *, definite: bool = False,
               stack: bool = False) -> NDArray[np.float64]:
    r"""Return ``value`` as a :func:`symmetric_matrix` that is positive semi-definite.

    Eigenvalues down to :math:`-100\,d\,\varepsilon\,\|A\|_F`, the
    tolerance of :func:`symmetric_matrix`, count as zero: a symmetric
    eigensolver returns the eigenvalues to within a small multiple of
    :math:`d\varepsilon\|A\|_2 \le d\varepsilon\|A\|_F`, so that a singular
    PSD matrix (a rank-deficient covariance) passes.  With ``definite``, every
    eigenvalue must exceed that tolerance instead.
    """
    arr = symmetric_matrix(name, value, dim, stack=stack)
    _check_spectrum(name, np.linalg.eigvalsh(arr), arr, definite)
    return arr


def psd_eigh(name: str, value: ArrayLike, dim: int | None = None, *,
             stack: bool = False) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Check ``value`` as :func:`psd_matrix` does; return its ``numpy.linalg.eigh``, ``(w, v)``.

    For a caller that needs the eigenvectors too, so that the matrix is decomposed once.
    """
    arr = symmetric_matrix(name, value, dim, stack=stack)
    w, v = np.linalg.eigh(arr)
    _check_spectrum(name, w, arr, definite=False)
    return w, v
