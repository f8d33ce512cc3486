r"""The diffusion matrix D(x) of a network and its eigenspectrum (eq. 2, Section IV).

This module's one job is D itself and the entry points to its spectrum:
:math:`D(x) = \frac1N\sum_k g_k g_k^\top - g g^\top` with :math:`g_k` the
gradient of the cross-entropy loss of example ``k`` and :math:`g` their mean
(eq. 2), the gradients taken by :mod:`sgdlab.deep.gradients` with the network
in evaluation mode, as the paper does.  :func:`spectrum` (from a network) and
:func:`spectrum_of` (from the gradients) return a
:class:`~sgdlab.deep.eigenspectrum.Spectrum` by one of two paths:

``"exact"``
    D as a dense float64 matrix (:func:`dense_diffusion`) and all its ``d``
    eigenvalues (:func:`exact_eigenvalues`, by
    :func:`~sgdlab.deep.eigensolvers.dense_eigenvalues`).
``"fast"``
    The leading eigenvalues only (:func:`top_eigenvalues`, by
    :func:`~sgdlab.deep.eigensolvers.krylov_eigenvalues`).  D is never
    formed: it is applied to a block of vectors as
    :math:`\frac1N G_c^\top (G_c X)` with :math:`G_c` the centred ``(N, d)``
    gradients, so each block costs one pass over them.

The statistics of the result, its rank by the paper's footnote 1 among them,
are those of :mod:`sgdlab.deep.eigenspectrum`.

Memory (the whole computation stays within about 4 GB): the gradients are
held or recomputed per pass as :mod:`sgdlab.deep.gradients` describes; the
fast path centres them without copying them and adds the Krylov basis of
:mod:`sgdlab.deep.eigensolvers`; the exact path adds the ``d x d`` float64
matrix (1.4 GB for small-lenet), filled from float64 row chunks of at most
:data:`~sgdlab.deep.gradients.CHUNK_BYTES`, and refuses ``d`` beyond
:data:`EXACT_MAX_D`.
"""

from __future__ import annotations

import functools
import time
from typing import Literal

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from sgdlab import _validation as check

from .device import pick
from .eigensolvers import BLOCK, TOL, dense_eigenvalues, krylov_eigenvalues
from .eigenspectrum import Moments, Spectrum
from .gradients import BLOCK_ROWS, CHUNK_BYTES, Gradients, from_array, from_model

__all__ = ["EXACT_MAX_D", "METHODS", "Method", "compact_diffusion", "dense_diffusion",
           "exact_eigenvalues", "gram_eigenvalues", "spectrum", "spectrum_of", "top_eigenvalues",
           "top_eigenvectors", "trace_moments", "trace_moments_of"]

Method = Literal["fast", "exact"]
METHODS: tuple[Method, ...] = ("fast", "exact")

#: Largest d the exact path accepts (its d x d float64 matrix is 8 d^2 bytes).
EXACT_MAX_D = 20_000


def _dense(grads: Gradients) -> torch.Tensor:
    """D of eq. (2) as a float64 ``d x d`` matrix, accumulated over chunks of examples."""
    if grads.d > EXACT_MAX_D:
        raise ValueError(f"d = {grads.d} is too large for the exact path (a dense d x d "
                         f"matrix, at most d = {EXACT_MAX_D}); use method='fast'")
    mean = grads.mean
    out = torch.zeros(grads.d, grads.d, dtype=torch.float64, device=mean.device)
    for part in grads.blocks(max(1, CHUNK_BYTES // (8 * grads.d))):
        dev = part.to(torch.float64) - mean
        out.addmm_(dev.T, dev)
    out /= grads.n
    return 0.5 * (out + out.T)


def _small_gram(grads: Gradients) -> tuple[torch.Tensor, torch.Tensor | None]:
    r"""The smaller of D and :math:`K = \frac1N G_c G_c^\top`, dense float64, and :math:`G_c`.

    D (``d x d``, :func:`_dense`) when ``d <= N``, with ``None``; else K (``N x N``)
    and the float64 centred gradients :math:`G_c` that map K's eigenvectors to D's.
    The two have the same non-zero eigenvalues.
    """
    if grads.d <= grads.n:
        return _dense(grads), None
    centred = torch.cat([part.to(torch.float64) for part in grads.blocks()]) - grads.mean
    gram = centred @ centred.T / grads.n
    return 0.5 * (gram + gram.T), centred


def _apply(grads: Gradients, block: torch.Tensor) -> torch.Tensor:
    r"""D X for a float64 ``(d, b)`` block X, with float32 products.

    :math:`Y = G X - 1\,(g^\top X)` is the centred product :math:`G_c X`, and
    :math:`D X = \frac1N G^\top Y`, since :math:`G^\top Y = G_c^\top Y +
    g\,1^\top Y` and the columns of Y sum to zero.  ``G`` is read in blocks of
    :data:`~sgdlab.deep.gradients.BLOCK_ROWS` rows, so that each comes from
    memory once for both products.
    """
    x32 = block.to(torch.float32)
    shift = grads.mean.to(torch.float32) @ x32
    out = torch.zeros_like(x32)
    for part in grads.blocks():
        out.addmm_(part.T, part @ x32 - shift)
    return out.to(torch.float64) / grads.n


def _moments(grads: Gradients) -> Moments:
    r"""tr D and :math:`\|D\|_F^2`, from the smaller of the two Gram matrices.

    :math:`D = \frac1N G_c^\top G_c` and :math:`K = \frac1N G_c G_c^\top` have the
    same non-zero eigenvalues, so :math:`\|D\|_F = \|K\|_F`: with ``d <= N`` the
    dense float64 D is formed (:func:`_dense`); otherwise the ``N x N`` products of
    blocks of centred gradients, in float32 as the fast path's (relative error
    about 1e-6), are squared and summed in float64, one pass over G per block of
    rows: :math:`O(N^2 d)` work.
    """
    mean = grads.mean
    trace = sum(float(((part.to(torch.float64) - mean) ** 2).sum()) for part in grads.blocks())
    if grads.d <= grads.n:
        frobenius_sq = float((_dense(grads) ** 2).sum())
    else:
        mean32, total = mean.to(torch.float32), 0.0
        for rows in grads.blocks(BLOCK_ROWS):
            left = rows - mean32
            for part in grads.blocks(BLOCK_ROWS):
                total += float(((left @ (part - mean32).T).to(torch.float64) ** 2).sum())
        frobenius_sq = total / grads.n**2
    return Moments(trace / grads.n, frobenius_sq, grads.d, grads.n)


def trace_moments_of(grads: torch.Tensor | NDArray[np.floating], *,
                     device: str | torch.device | None = None) -> Moments:
    r"""tr D, :math:`\|D\|_F^2` and the participation ratio of D(x) (eq. 2), without eigenvalues.

    No eigenvalue and no rank rule: :math:`\operatorname{tr} D` is the mean
    squared deviation of the gradients, and :math:`\|D\|_F^2` the squared
    Frobenius norm of the ``N x N`` Gram matrix :math:`\frac1N G_cG_c^\top`
    (of the ``d x d`` D itself when ``d <= N``): the dense D in float64, the Gram
    products in float32 as the fast path's (relative error about 1e-6), summed in
    float64; :math:`O(\min(N, d)^2 \max(N, d))` work.

    Parameters
    ----------
    grads : torch.Tensor or ndarray, shape (N, d)
    device : str or torch.device, optional

    Examples
    --------
    >>> g = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 3.0], [0.0, -3.0]])
    >>> m = trace_moments_of(g, device="cpu")
    >>> m.trace, m.frobenius_sq, round(m.participation_ratio, 3)
    (5.0, 20.5, 1.22)
    """
    return _moments(from_array(grads, pick(device)))


def _exact(grads: Gradients) -> NDArray[np.float64]:
    return dense_eigenvalues(_dense(grads))


def _fast(grads: Gradients, block: int = BLOCK, tol: float = TOL, seed: int = 0
          ) -> NDArray[np.float64]:
    return krylov_eigenvalues(functools.partial(_apply, grads), grads.d,
                              device=grads.mean.device, block=block, tol=tol, seed=seed)


def dense_diffusion(grads: torch.Tensor | NDArray[np.floating], *,
                    device: str | torch.device | None = None) -> torch.Tensor:
    r"""D(x) of eq. (2) as a dense float64 tensor, from per-example gradients.

    The matrix :func:`sgdlab.core.minibatch.diffusion_matrix` computes with
    NumPy, :math:`\frac1N\sum_k (g_k - g)(g_k - g)^\top`, here accumulated in
    float64 over chunks of examples on ``device`` so that large ``(N, d)``
    float32 gradients need no float64 copy.

    Parameters
    ----------
    grads : torch.Tensor or ndarray, shape (N, d)
        Per-example gradients, e.g. from
        :func:`~sgdlab.deep.gradients.per_example_gradients`.
    device : str or torch.device, optional

    Returns
    -------
    torch.Tensor, shape (d, d), float64
        Symmetric positive semi-definite.

    Raises
    ------
    ValueError
        If ``grads`` is not a finite floating ``(N, d)`` array with ``N >= 2``,
        or ``d`` exceeds :data:`EXACT_MAX_D`.
    """
    return _dense(from_array(grads, pick(device)))


def compact_diffusion(grads: torch.Tensor | NDArray[np.floating], *,
                      device: str | torch.device | None = None) -> torch.Tensor:
    r"""The smaller of D(x) (eq. 2) and :math:`K = \frac1N G_c G_c^\top`, dense in float64.

    D (:func:`dense_diffusion`) when ``d <= N``; else the ``N x N`` Gram matrix
    of the centred gradients :math:`G_c`, which has the same non-zero
    eigenvalues, trace and Frobenius norm as D: :math:`O(N d \min(N, d))` work.

    Parameters
    ----------
    grads : torch.Tensor or ndarray, shape (N, d)
    device : str or torch.device, optional

    Returns
    -------
    torch.Tensor, shape (min(N, d), min(N, d)), float64
        Symmetric positive semi-definite.
    """
    return _small_gram(from_array(grads, pick(device)))[0]


def exact_eigenvalues(grads: torch.Tensor | NDArray[np.floating], *,
                      device: str | torch.device | None = None) -> NDArray[np.float64]:
    """All ``d`` eigenvalues of D(x), descending, from the dense matrix (exact path).

    :func:`dense_diffusion` then
    :func:`~sgdlab.deep.eigensolvers.dense_eigenvalues`.

    Parameters
    ----------
    grads : torch.Tensor or ndarray, shape (N, d)
    device : str or torch.device, optional
    """
    return _exact(from_array(grads, pick(device)))


def top_eigenvalues(grads: torch.Tensor | NDArray[np.floating], *, block: int = BLOCK,
                    tol: float = TOL, seed: int = 0,
                    device: str | torch.device | None = None) -> NDArray[np.float64]:
    r"""The leading eigenvalues of D(x), descending, without forming D (fast path).

    :func:`~sgdlab.deep.eigensolvers.krylov_eigenvalues` with D applied as
    :math:`\frac1N G_c^\top(G_c X)` with float32 products, one pass over the
    gradients per block.

    Parameters
    ----------
    grads : torch.Tensor or ndarray, shape (N, d)
    block : int, default 64
        Vectors added to the subspace per pass over the gradients.
    tol : float, default 1e-4
    seed : int, default 0
        Seed of the random start.
    device : str or torch.device, optional

    Returns
    -------
    ndarray, shape (K,)
        The Ritz values, ``rank(D) < K <= d``; those above the threshold
        approximate the largest eigenvalues of D, the others are lower bounds.
    """
    return _fast(from_array(grads, pick(device)), block, tol, seed)


def gram_eigenvalues(grads: torch.Tensor | NDArray[np.floating], *,
                     device: str | torch.device | None = None) -> NDArray[np.float64]:
    r"""The ``min(N, d)`` largest eigenvalues of D(x) (eq. 2), descending, dense in float64.

    From :func:`compact_diffusion`, the smaller of D and the Gram matrix of the
    centred gradients: the cheap exact path for a wide block of D's columns
    (the other ``d - N`` eigenvalues are zero).

    Parameters
    ----------
    grads : torch.Tensor or ndarray, shape (N, d)
    device : str or torch.device, optional

    Examples
    --------
    >>> g = np.array([[1.0, 0.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    >>> [round(float(v), 6) + 0.0 for v in gram_eigenvalues(g, device="cpu")]
    [0.666667, 0.0, 0.0]
    """
    return dense_eigenvalues(compact_diffusion(grads, device=device))


def top_eigenvectors(grads: torch.Tensor | NDArray[np.floating], k: int, *,
                     device: str | torch.device | None = None
                     ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""The ``k`` largest eigenvalues of D(x) (eq. 2) and orthonormal eigenvectors.

    :func:`torch.linalg.eigh` of the smaller of D and
    :math:`K = \frac1N G_c G_c^\top` (:func:`gram_eigenvalues`); an eigenvector
    :math:`v` of K with eigenvalue :math:`\lambda > 0` gives the unit
    eigenvector :math:`G_c^\top v / \sqrt{N\lambda}` of D.

    Parameters
    ----------
    grads : torch.Tensor or ndarray, shape (N, d)
    k : int
        Number of eigenpairs, at most the number of positive eigenvalues.
    device : str or torch.device, optional

    Returns
    -------
    eigenvalues : ndarray, shape (k,)
        Descending.
    vectors : ndarray, shape (d, k)
        Column ``i`` is the eigenvector of ``eigenvalues[i]``.

    Raises
    ------
    ValueError
        If ``k`` is not a positive integer or exceeds the positive eigenvalues.

    Examples
    --------
    >>> g = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> values, vectors = top_eigenvectors(g, 1, device="cpu")
    >>> float(values[0]), np.abs(vectors[:, 0]).tolist()
    (2.0, [1.0, 0.0])
    """
    k = check.positive_int("k", k)
    matrix, centred = _small_gram(from_array(grads, pick(device)))
    values, vectors = torch.linalg.eigh(matrix)
    values, vectors = values.flip(0)[:k], vectors.flip(1)[:, :k]
    if k > values.numel() or not bool((values > 0).all()):
        raise ValueError(f"k = {k} exceeds the positive eigenvalues of D")
    if centred is not None:
        vectors = centred.T @ vectors / torch.sqrt(centred.shape[0] * values)
    return values.cpu().numpy(), vectors.cpu().numpy()


def _method(method: str) -> Method:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


def _eigenvalues(grads: Gradients, method: Method, seed: int) -> NDArray[np.float64]:
    return _exact(grads) if method == "exact" else _fast(grads, seed=seed)


def spectrum_of(grads: torch.Tensor | NDArray[np.floating], *, method: Method = "fast",
                seed: int = 0, device: str | torch.device | None = None) -> Spectrum:
    """The :class:`~sgdlab.deep.eigenspectrum.Spectrum` of D(x) from per-example gradients.

    Parameters
    ----------
    grads : torch.Tensor or ndarray, shape (N, d)
    method : {"fast", "exact"}, default "fast"
        :func:`top_eigenvalues` or :func:`exact_eigenvalues`.
    seed : int, default 0
        Seed of the fast path's random start.
    device : str or torch.device, optional

    Examples
    --------
    >>> g = np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> s = spectrum_of(g, method="exact", device="cpu")
    >>> s.rank, round(float(s.eigenvalues[0]), 6)
    (1, 0.666667)
    """
    start = time.perf_counter()
    method, seed = _method(method), check.seed("seed", seed)
    held = from_array(grads, pick(device))
    ev = _eigenvalues(held, method, seed)
    return Spectrum(ev, held.d, held.n, method, time.perf_counter() - start)


def spectrum(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
             method: Method = "fast", seed: int = 0, chunk_size: int | None = None,
             device: str | torch.device | None = None) -> Spectrum:
    """The eigenspectrum of D(x) of ``model`` at its current weights (Figs. 1-2).

    Per-example gradients of the cross-entropy on ``(x, y)`` in evaluation
    mode (:func:`~sgdlab.deep.gradients.per_example_gradients`), then the
    eigenvalues by ``method``;
    the ``seconds`` of the :class:`~sgdlab.deep.eigenspectrum.Spectrum` cover both.  The
    gradients are held when they fit
    :data:`~sgdlab.deep.gradients.HOLD_BYTES` and recomputed on each pass
    otherwise (see the module's notes on memory).

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor, shape (N, ...)
    y : torch.Tensor, shape (N,), int64
    method : {"fast", "exact"}, default "fast"
    seed : int, default 0
        Seed of the fast path's random start.
    chunk_size : int, optional
        Examples per :func:`~torch.func.vmap` call.
    device : str or torch.device, optional

    Raises
    ------
    ValueError
        On bad ``x``, ``y``, ``method``, ``seed`` or ``chunk_size`` (see
        :func:`~sgdlab.deep.gradients.per_example_gradients`).
    """
    start = time.perf_counter()
    method, seed = _method(method), check.seed("seed", seed)
    grads = from_model(model, x, y, chunk_size, pick(device))
    ev = _eigenvalues(grads, method, seed)
    return Spectrum(ev, grads.d, grads.n, method, time.perf_counter() - start)


def trace_moments(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
                  chunk_size: int | None = None,
                  device: str | torch.device | None = None) -> Moments:
    """:func:`trace_moments_of` the per-example gradients of ``model`` on ``(x, y)``.

    The gradients are those of :func:`spectrum` (evaluation mode), held or
    recomputed on each pass in the same way.

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor, shape (N, ...)
    y : torch.Tensor, shape (N,), int64
    chunk_size : int, optional
        Examples per :func:`~torch.func.vmap` call.
    device : str or torch.device, optional
    """
    return _moments(from_model(model, x, y, chunk_size, pick(device)))
