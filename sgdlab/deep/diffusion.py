r"""The diffusion matrix D(x) of a network and its eigenspectrum (eq. 2, Section IV).

:math:`D(x) = \frac1N\sum_k g_k g_k^\top - g g^\top` with :math:`g_k` the
gradient of the cross-entropy loss of example ``k`` and :math:`g` their mean
(eq. 2), evaluated with the network in evaluation mode (BatchNorm running
statistics, no dropout) as the paper does.  :func:`per_example_gradients`
computes the :math:`g_k` with :mod:`torch.func`; :func:`spectrum` returns the
eigenvalues of D by one of two paths:

``"exact"``
    D as a dense float64 matrix (:func:`diffusion_matrix`) and all its ``d``
    eigenvalues by :func:`torch.linalg.eigvalsh`.
``"fast"``
    The leading eigenvalues only (:func:`top_eigenvalues`), by Rayleigh-Ritz on
    a block Krylov subspace of D that grows until the Ritz values above the
    rank threshold have settled.  D is never formed: it is applied to a block
    of vectors as :math:`\frac1N G_c^\top (G_c X)` with :math:`G_c` the centred
    ``(N, d)`` gradients, so each block costs one pass over them.

The rank is numpy's ``matrix_rank`` rule with float32 precision, the paper's
footnote 1: eigenvalues above :math:`\lambda_{\max}\,d\,\varepsilon_{32}`
(:func:`rank_threshold`).  The eigenspectrum the paper histograms and
summarises (Figs. 1-2) is this thresholded one: the eigenvalues above the
threshold and zeros for the rest.  Its mean is
:math:`\frac1d\sum_{k=1}^d \lambda_k` over all ``d`` of them, as eq. (14)
writes it, and its standard deviation is over the same ``d`` values; with
about 1.8 % of eigenvalues non-zero this makes the standard deviation several
times the mean, as the captions of Fig. 1 read.

Memory (the whole computation stays within about 4 GB): the gradients of
``N`` examples are held as one float32 ``(N, d)`` tensor when ``4 N d`` bytes
fit :data:`HOLD_BYTES` (3 GiB; small-lenet on all 60,000 MNIST images just
fits), and are otherwise recomputed chunk by chunk on every pass over them.
:mod:`torch.func` works on chunks of about :data:`CHUNK_BYTES` (256 MiB),
counting ``3 d`` floats of gradient and three times the network's activations
per example.  The fast path centres the gradients without copying them and
adds a float64 Krylov basis of ``K x d`` with ``K`` at most
:data:`BASIS_BYTES` / ``8 d`` (5,030 for small-lenet); the exact path adds
the ``d x d`` float64 matrix (1.4 GB for small-lenet), filled from float64
row chunks of at most :data:`CHUNK_BYTES`, and refuses ``d`` beyond
:data:`EXACT_MAX_D`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torch.func import functional_call, grad, vmap

from sgdlab import _validation as check

from .device import pick

Method = Literal["fast", "exact"]
METHODS: tuple[Method, ...] = ("fast", "exact")

#: float32 machine epsilon of the rank rule (the paper's footnote 1).
EPS32 = float(np.finfo(np.float32).eps)
#: Largest (N, d) float32 gradient tensor held at once; beyond it, passes recompute.
HOLD_BYTES = 3 * 2**30
#: Working memory of one chunk of per-example gradients or of one row chunk.
CHUNK_BYTES = 2**28
#: Rows of G read at once when D is applied, for both products (27 MB for small-lenet).
APPLY_ROWS = 512
#: Largest Krylov basis of the fast path.
BASIS_BYTES = 2**29
#: Block size and tolerance of the fast path (:func:`top_eigenvalues`).
BLOCK, TOL = 64, 1e-4
#: Largest d the exact path accepts (its d x d float64 matrix is 8 d^2 bytes).
EXACT_MAX_D = 20_000


def rank_threshold(lambda_max: float, d: int) -> float:
    r"""numpy's ``matrix_rank`` tolerance in float32, :math:`\lambda_{\max}\,d\,\varepsilon_{32}`.

    Footnote 1 of the paper: the eigenspectrum is thresholded at
    :math:`\lambda_{\max} \times d \times` machine precision.  numpy uses the
    precision of the matrix's dtype; the paper's D was float32.

    Examples
    --------
    >>> rank_threshold(1.0, 1000) == 1000 * float(np.finfo(np.float32).eps)
    True
    """
    lam = check.positive_scalar("lambda_max", lambda_max, allow_zero=True)
    return lam * check.positive_int("d", d) * EPS32


def numerical_rank(eigenvalues: NDArray[np.float64], d: int) -> int:
    """Number of eigenvalues above :func:`rank_threshold` of the largest one.

    Equals ``numpy.linalg.matrix_rank`` of a symmetric positive semi-definite
    float32 matrix of size ``d`` whose eigenvalues these are (its singular
    values are its eigenvalues).  The smallest eigenvalues may be missing, as
    the fast path leaves them out, as long as they are below the threshold.

    Examples
    --------
    >>> numerical_rank(np.array([2.0, 1.0, 1e-9]), 3)
    2
    """
    ev = np.asarray(eigenvalues, dtype=float)
    if ev.ndim != 1 or ev.size == 0 or not np.all(np.isfinite(ev)):
        raise ValueError("eigenvalues must be a non-empty finite 1-D array")
    threshold = rank_threshold(max(float(ev.max()), 0.0), d)
    return int(np.count_nonzero(ev > threshold))


def moments(kept: NDArray[np.float64], d: int) -> tuple[float, float]:
    """Mean and variance of a thresholded spectrum over all ``d`` eigenvalues (eq. 14).

    ``kept`` are the eigenvalues above the threshold; the other ``d - len(kept)``
    count as zeros, as in the summaries under Figs. 1-2.

    Examples
    --------
    >>> moments(np.array([3.0, 1.0]), 4)
    (1.0, 1.5)
    """
    mean = float(np.sum(kept) / d)
    return mean, max(float(np.square(kept).sum() / d) - mean**2, 0.0)


@dataclass(frozen=True)
class Spectrum:
    """Eigenvalues of D(x) and what the paper reports of them (Figs. 1-2).

    Attributes
    ----------
    eigenvalues : ndarray
        Descending.  The exact path gives all ``d``; the fast path the ``K``
        Ritz values it computed, accurate above :attr:`threshold` (below it
        they are lower bounds, and the remaining ``d - K`` are not computed).
    d : int
        Number of weights.
    n : int
        Number of examples ``N`` in eq. (2).
    method : {"fast", "exact"}
    seconds : float
        Wall-clock time of the computation (gradients included when
        :func:`spectrum` computed them).
    """

    eigenvalues: NDArray[np.float64]
    d: int
    n: int
    method: str
    seconds: float

    @property
    def threshold(self) -> float:
        """Rank threshold :math:`\\lambda_{\\max}\\,d\\,\\varepsilon_{32}` (footnote 1)."""
        return rank_threshold(max(float(self.eigenvalues[0]), 0.0), self.d)

    @property
    def rank(self) -> int:
        """numpy's ``matrix_rank`` of D in float32 (:func:`numerical_rank`)."""
        return numerical_rank(self.eigenvalues, self.d)

    @property
    def nonzero(self) -> NDArray[np.float64]:
        """The eigenvalues above the threshold, descending (the histogram of Fig. 1)."""
        return self.eigenvalues[: self.rank]

    @property
    def rank_fraction(self) -> float:
        """rank(D) / d, the percentage the captions of Figs. 1-2 quote."""
        return self.rank / self.d

    @property
    def mean(self) -> float:
        r"""Mean of the thresholded spectrum over all ``d`` eigenvalues, eq. (14)."""
        return moments(self.nonzero, self.d)[0]

    @property
    def variance(self) -> float:
        """Variance of the thresholded spectrum over all ``d`` eigenvalues."""
        return moments(self.nonzero, self.d)[1]

    @property
    def std(self) -> float:
        """Standard deviation quoted after the mean in Figs. 1-2 (``mean ± std``)."""
        return math.sqrt(self.variance)

    def to_dict(self, top: int = 10) -> dict[str, Any]:
        """A JSON-able summary: sizes, rank, mean, std and the ``top`` largest eigenvalues."""
        top = check.positive_int("top", top)
        return {"d": self.d, "n": self.n, "method": self.method, "rank": self.rank,
                "rank_fraction": self.rank_fraction, "mean": self.mean, "std": self.std,
                "threshold": self.threshold,
                "top_eigenvalues": [float(v) for v in self.eigenvalues[:top]],
                "seconds": self.seconds}


def architecture_score(spectrum: Spectrum, *, normalised: bool = False) -> float:
    r"""The architecture score of Remark 16, :math:`\mathrm{rank}(D)/d + \mathrm{var}(\lambda(D))`.

    Parameters
    ----------
    spectrum : Spectrum
    normalised : bool, default False
        False: the remark's quantity as printed, the variance in the units of
        D (for MNIST networks it is of order 1e-5 and the rank term decides).
        True: the variance of the spectrum divided by the square of its mean,
        :math:`\mathrm{var}(\lambda/\bar\lambda)`, which is free of the scale
        of D that eq. (14) lets the learning rate and batch size set (Remark
        15); this term is then large (about ``d / rank`` for a flat nonzero
        part), and it falls as the rank grows.

    Examples
    --------
    >>> s = Spectrum(np.array([6.0, 2.0, 0.0, 0.0]), d=4, n=10, method="exact", seconds=0.0)
    >>> s.rank_fraction, s.mean, s.variance
    (0.5, 2.0, 6.0)
    >>> architecture_score(s), architecture_score(s, normalised=True)
    (6.5, 2.0)
    """
    if not isinstance(spectrum, Spectrum):
        raise ValueError(f"spectrum must be a Spectrum, got {type(spectrum).__name__}")
    variance = spectrum.variance
    if normalised:
        variance = variance / spectrum.mean**2 if spectrum.mean > 0 else 0.0
    return spectrum.rank_fraction + variance


# --- per-example gradients --------------------------------------------------------------


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Put ``model`` in evaluation mode, restoring each module's mode afterwards."""
    modes = [m.training for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, mode in zip(model.modules(), modes, strict=True):
            module.training = mode


def _check_model(model: nn.Module) -> None:
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("model has no trainable parameters")


def _check_data(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    """Validate inputs, and labels against the number of ``model``'s outputs."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim < 2 \
            or x.shape[0] < 2:
        raise ValueError("x must be a floating-point tensor of shape (N, ...) with N >= 2, "
                         f"got {getattr(x, 'dtype', type(x).__name__)} "
                         f"{tuple(getattr(x, 'shape', ()))}")
    if not isinstance(y, torch.Tensor) or y.dtype != torch.int64 or y.shape != x.shape[:1]:
        raise ValueError(f"y must be an int64 tensor of shape ({x.shape[0]},), got "
                         f"{getattr(y, 'dtype', type(y).__name__)} "
                         f"{tuple(getattr(y, 'shape', ()))}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x contains NaN or infinite entries")
    param = next(model.parameters())
    with torch.no_grad(), _eval_mode(model):
        out = model(x[:1].to(device=param.device, dtype=param.dtype))
    classes = out.shape[-1]
    if int(y.min()) < 0 or int(y.max()) >= classes:
        raise ValueError(f"y must hold labels in [0, {classes}) for this model's {classes} "
                         f"outputs, got labels from {int(y.min())} to {int(y.max())}")


def _activation_floats(model: nn.Module, x0: torch.Tensor) -> int:
    """Floats of all leaf-module outputs on one example (sizes the gradient chunks)."""
    sizes: list[int] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: sizes.append(out.numel()))
             for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad(), _eval_mode(model):
            model(x0)
    finally:
        for hook in hooks:
            hook.remove()
    return sum(sizes)


def _gradient_chunks(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                     chunk_size: int | None, device: torch.device
                     ) -> tuple[int, Callable[[], Iterator[torch.Tensor]]]:
    """``d`` and a function yielding the per-example gradients chunk by chunk."""
    _check_model(model)
    _check_data(model, x, y)
    named = dict(model.named_parameters())
    trainable = {k: p.detach().to(device) for k, p in named.items() if p.requires_grad}
    frozen = {k: p.detach().to(device) for k, p in named.items() if not p.requires_grad}
    frozen |= {k: b.detach().to(device) for k, b in model.named_buffers()}
    d = sum(p.numel() for p in trainable.values())
    if chunk_size is None:
        x0 = x[:1].to(next(model.parameters()).device)
        chunk_size = max(1, CHUNK_BYTES // (4 * 3 * (d + _activation_floats(model, x0))))
    chunk_size = check.positive_int("chunk_size", chunk_size)

    def loss(params: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor
             ) -> torch.Tensor:
        out = functional_call(model, (params, frozen), (xi.unsqueeze(0),))
        return nn.functional.cross_entropy(out, yi.unsqueeze(0))

    per_example_grad = vmap(grad(loss), in_dims=(None, 0, 0))

    def chunks() -> Iterator[torch.Tensor]:
        with _eval_mode(model):
            for start in range(0, x.shape[0], chunk_size):
                stop = min(start + chunk_size, x.shape[0])
                grads = per_example_grad(trainable, x[start:stop].to(device),
                                         y[start:stop].to(device))
                yield torch.cat([g.reshape(stop - start, -1) for g in grads.values()], dim=1)

    return d, chunks


def _collect(n: int, d: int, chunks: Callable[[], Iterator[torch.Tensor]],
             device: torch.device) -> torch.Tensor:
    out = torch.empty(n, d, dtype=torch.float32, device=device)
    start = 0
    for chunk in chunks():
        out[start:start + chunk.shape[0]] = chunk
        start += chunk.shape[0]
    return out


def per_example_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
                          chunk_size: int | None = None,
                          device: str | torch.device | None = None) -> torch.Tensor:
    r"""Gradients :math:`g_k = \nabla f_k(x)` of the cross-entropy of each example (eq. 2).

    Computed with :func:`torch.func.vmap` over :func:`torch.func.grad` of a
    :func:`torch.func.functional_call` of ``model`` in evaluation mode, as the
    paper evaluates D; the model's own mode and weights are left as they were.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier returning logits.
    x : torch.Tensor, shape (N, ...)
        Inputs.
    y : torch.Tensor, shape (N,), int64
        Labels in ``[0, classes)``.
    chunk_size : int, optional
        Examples per :func:`~torch.func.vmap` call; by default as many as fit
        :data:`CHUNK_BYTES`.
    device : str or torch.device, optional
        Where to compute (:func:`sgdlab.deep.device.pick`).

    Returns
    -------
    torch.Tensor, shape (N, d), float32
        Row ``k`` is :math:`g_k`, its entries in the order of
        ``model.parameters()`` (trainable ones), as
        :func:`sgdlab.deep.models.flat_parameters` orders the weights.

    Raises
    ------
    ValueError
        If ``x`` is not a finite floating ``(N, ...)`` tensor with ``N >= 2``
        (D of one example is zero), ``y`` not int64
        labels of shape ``(N,)`` within the model's classes, or ``chunk_size``
        not a positive integer.
    """
    dev = pick(device)
    d, chunks = _gradient_chunks(model, x, y, chunk_size, dev)
    return _collect(x.shape[0], d, chunks, dev)


# --- gradients held or recomputed, and D applied to vectors -----------------------------


@dataclass(frozen=True)
class _Gradients:
    """Per-example gradients, held in memory or recomputed on each pass over them.

    ``chunks()`` yields float32 ``(rows, d)`` blocks of consecutive examples:
    the whole held tensor at once, or the chunks :mod:`torch.func` computes.
    ``mean`` is the full gradient g in float64.
    """

    n: int
    d: int
    chunks: Callable[[], Iterator[torch.Tensor]]
    mean: torch.Tensor


def _gradients(n: int, d: int, chunks: Callable[[], Iterator[torch.Tensor]], name: str
               ) -> _Gradients:
    """Wrap ``chunks`` with their mean, which is finite exactly when every entry is."""
    total = sum(part.sum(dim=0).to(torch.float64)      # float32 partial sums are fast
                for chunk in chunks() for part in chunk.split(APPLY_ROWS))
    mean = total / n
    if not bool(torch.isfinite(mean).all()):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return _Gradients(n, d, chunks, mean)


def _held(grads: torch.Tensor | NDArray[np.floating], device: torch.device,
          name: str = "grads") -> _Gradients:
    """Validate ``grads`` and hold them on ``device``."""
    g = torch.as_tensor(grads)
    if g.ndim != 2 or g.shape[0] < 2 or g.shape[1] < 1 or not g.is_floating_point():
        raise ValueError(f"{name} must be a floating (N, d) array with N >= 2, d >= 1, got "
                         f"{g.dtype} {tuple(g.shape)}")
    g = g.to(device)
    return _gradients(g.shape[0], g.shape[1], lambda: iter((g,)), name)


def _from_model(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                chunk_size: int | None, device: torch.device) -> _Gradients:
    """Hold the gradients when they fit :data:`HOLD_BYTES`, else recompute per pass."""
    d, chunks = _gradient_chunks(model, x, y, chunk_size, device)
    name = "the per-example gradients (check the model's weights)"
    if 4 * x.shape[0] * d <= HOLD_BYTES:
        return _held(_collect(x.shape[0], d, chunks, device), device, name)
    return _gradients(x.shape[0], d, chunks, name)


def _dense(grads: _Gradients) -> torch.Tensor:
    """D of eq. (2) as a float64 ``d x d`` matrix, accumulated over chunks of examples."""
    if grads.d > EXACT_MAX_D:
        raise ValueError(f"d = {grads.d} is too large for the exact path (a dense d x d "
                         f"matrix, at most d = {EXACT_MAX_D}); use method='fast'")
    mean = grads.mean
    out = torch.zeros(grads.d, grads.d, dtype=torch.float64, device=mean.device)
    rows = max(1, CHUNK_BYTES // (8 * grads.d))
    for chunk in grads.chunks():
        for part in chunk.split(rows):
            dev = part.to(torch.float64) - mean
            out.addmm_(dev.T, dev)
    out /= grads.n
    return 0.5 * (out + out.T)


def _apply(grads: _Gradients, block: torch.Tensor) -> torch.Tensor:
    r"""D X for a float64 ``(d, b)`` block X, with float32 products.

    :math:`Y = G X - 1\,(g^\top X)` is the centred product :math:`G_c X`, and
    :math:`D X = \frac1N G^\top Y`, since :math:`G^\top Y = G_c^\top Y +
    g\,1^\top Y` and the columns of Y sum to zero.  ``G`` is read in row chunks
    of :data:`APPLY_ROWS`, so that each comes from memory once for both products.
    """
    x32 = block.to(torch.float32)
    shift = grads.mean.to(torch.float32) @ x32
    out = torch.zeros_like(x32)
    for chunk in grads.chunks():
        for part in chunk.split(APPLY_ROWS):
            out.addmm_(part.T, part @ x32 - shift)
    return out.to(torch.float64) / grads.n


def _orthonormal(block: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """Orthonormal columns spanning ``block`` with ``basis`` projected out (twice)."""
    for _ in range(2):
        block = block - basis @ (basis.T @ block)
    return torch.linalg.qr(block).Q


def _krylov(grads: _Gradients, block: int, tol: float, seed: int) -> NDArray[np.float64]:
    """Ritz values of D on a growing block Krylov subspace (descending)."""
    d, device = grads.d, grads.mean.device
    k_max = min(d, max(block, BASIS_BYTES // (8 * d)))
    gen = torch.Generator(device=device).manual_seed(seed)
    basis = torch.empty(d, 0, dtype=torch.float64, device=device)
    gram = torch.empty(0, 0, dtype=torch.float64, device=device)
    new = _orthonormal(torch.randn(d, min(block, k_max), generator=gen, dtype=torch.float64,
                                   device=device), basis)
    previous: NDArray[np.float64] | None = None
    due = 0                                           # size at which to solve T again
    while True:
        image = _apply(grads, new)
        k = basis.shape[1]
        basis = torch.cat([basis, new], dim=1)
        cross = basis.T @ image                       # Q^T D Q_new, rows of all blocks
        gram = torch.cat([torch.cat([gram, cross[:k].T], dim=0), cross], dim=1)
        gram = 0.5 * (gram + gram.T)
        k += new.shape[1]
        if k >= due or k == k_max:
            ritz = torch.linalg.eigvalsh(gram).flip(0).cpu().numpy()
            rank = numerical_rank(ritz, d)
            if k == k_max:
                return ritz
            if previous is not None and rank + block <= k:
                change = np.abs(ritz[:rank] - previous[:rank]) / ritz[:rank]
                if rank == 0 or change.max() < tol:
                    return ritz
            # no room below the threshold yet: grow by blocks without solving until there is
            previous, due = ritz, rank + block
        new = _orthonormal(image[:, : min(block, k_max - k)], basis)


# --- public eigenvalue paths ------------------------------------------------------------


def diffusion_matrix(grads: torch.Tensor | NDArray[np.floating], *,
                     device: str | torch.device | None = None) -> torch.Tensor:
    r"""D(x) of eq. (2) as a dense float64 matrix, from per-example gradients.

    The same matrix as :func:`sgdlab.core.minibatch.diffusion_matrix`,
    :math:`\frac1N\sum_k (g_k - g)(g_k - g)^\top`, accumulated in float64 over
    chunks of examples on ``device`` so that large ``(N, d)`` float32 gradients
    need no float64 copy.

    Parameters
    ----------
    grads : torch.Tensor or ndarray, shape (N, d)
        Per-example gradients, e.g. from :func:`per_example_gradients`.
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
    return _dense(_held(grads, pick(device)))


def _exact(grads: _Gradients) -> NDArray[np.float64]:
    return torch.linalg.eigvalsh(_dense(grads)).flip(0).cpu().numpy()


def exact_eigenvalues(grads: torch.Tensor | NDArray[np.floating], *,
                      device: str | torch.device | None = None) -> NDArray[np.float64]:
    """All ``d`` eigenvalues of D(x), descending, from the dense matrix (exact path).

    :func:`diffusion_matrix` then :func:`torch.linalg.eigvalsh` (LAPACK's
    ``syevd`` through MKL on a CPU, cuSOLVER on a GPU).

    Parameters
    ----------
    grads : torch.Tensor or ndarray, shape (N, d)
    device : str or torch.device, optional
    """
    return _exact(_held(grads, pick(device)))


def top_eigenvalues(grads: torch.Tensor | NDArray[np.floating], *, block: int = BLOCK,
                    tol: float = TOL, seed: int = 0,
                    device: str | torch.device | None = None) -> NDArray[np.float64]:
    r"""The leading eigenvalues of D(x), descending, without forming D (fast path).

    Rayleigh-Ritz on the block Krylov subspace
    :math:`\mathrm{span}\{X, DX, D^2X, \dots\}` of a random ``d x block``
    start ``X``, each new block orthonormalised against all earlier ones
    (projected out twice, then :func:`torch.linalg.qr`), and D applied as
    :math:`\frac1N G_c^\top(G_c X)` with float32 products.  The subspace
    grows by one block at a time until it holds a block of Ritz values below
    the rank threshold and the Ritz values above it moved by less than ``tol``
    (relative) since they were last computed; Ritz values only grow with the
    subspace, converging from the top down, so the ones above the threshold
    are then accurate to well within ``tol`` (measured against the exact path:
    2e-6 or better for small-lenet at N = 3,000 and 5,000 and for small-fc).

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
    return _krylov(_held(grads, pick(device)), check.positive_int("block", block),
                   check.positive_scalar("tol", tol), check.seed("seed", seed))


def _method(method: str) -> Method:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method  # type: ignore[return-value]


def _eigenvalues(grads: _Gradients, method: Method, seed: int) -> NDArray[np.float64]:
    return _exact(grads) if method == "exact" else _krylov(grads, BLOCK, TOL, seed)


def spectrum_of(grads: torch.Tensor | NDArray[np.floating], *, method: Method = "fast",
                seed: int = 0, device: str | torch.device | None = None) -> Spectrum:
    """The :class:`Spectrum` of D(x) from per-example gradients ``(N, d)``.

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
    held = _held(grads, pick(device))
    ev = _eigenvalues(held, method, seed)
    return Spectrum(ev, held.d, held.n, method, time.perf_counter() - start)


def spectrum(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
             method: Method = "fast", seed: int = 0, chunk_size: int | None = None,
             device: str | torch.device | None = None) -> Spectrum:
    """The eigenspectrum of D(x) of ``model`` at its current weights (Figs. 1-2).

    Per-example gradients of the cross-entropy on ``(x, y)`` in evaluation
    mode (:func:`per_example_gradients`), then the eigenvalues by ``method``;
    :attr:`Spectrum.seconds` covers both.  The gradients are held when they
    fit :data:`HOLD_BYTES` and recomputed on each pass otherwise (see the
    module's notes on memory).

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
        :func:`per_example_gradients`).
    """
    start = time.perf_counter()
    method, seed = _method(method), check.seed("seed", seed)
    grads = _from_model(model, x, y, chunk_size, pick(device))
    ev = _eigenvalues(grads, method, seed)
    return Spectrum(ev, grads.d, grads.n, method, time.perf_counter() - start)
