r"""Eigenvalues of a symmetric positive semi-definite operator, all or the leading ones.

This module's one job is the two eigensolvers behind
:func:`sgdlab.deep.diffusion.spectrum`, for the diffusion matrix :math:`D(x)`
of eq. (2); they know nothing of gradients or networks.

:func:`dense_eigenvalues` (the ``"exact"`` path)
    All eigenvalues of a dense symmetric matrix by :func:`torch.linalg.eigvalsh`.
:func:`krylov_eigenvalues` (the ``"fast"`` path)
    The leading eigenvalues only, by Rayleigh-Ritz on a block Krylov subspace
    of an operator given by its action on a block of vectors, grown until the
    Ritz values above the rank threshold
    (:func:`~sgdlab.deep.eigenspectrum.rank_threshold`) have settled.  The
    matrix is never formed.

Memory: the Krylov path holds a float64 basis of ``K x d`` with ``K`` at most
:data:`BASIS_BYTES` / ``8 d`` (5,030 for small-lenet) and its ``K x K``
projection.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from numpy.typing import NDArray

from sgdlab import _validation as check

from .eigenspectrum import numerical_rank

__all__ = ["BASIS_BYTES", "BLOCK", "TOL", "dense_eigenvalues", "krylov_eigenvalues"]

#: Largest Krylov basis of the fast path.
BASIS_BYTES = 2**29
#: Block size and tolerance of the fast path (:func:`krylov_eigenvalues`).
BLOCK, TOL = 64, 1e-4


def dense_eigenvalues(matrix: torch.Tensor) -> NDArray[np.float64]:
    """All eigenvalues of a symmetric matrix, descending (the exact path).

    :func:`torch.linalg.eigvalsh`: LAPACK's ``syevd`` through MKL on a CPU,
    cuSOLVER on a GPU.
    """
    return torch.linalg.eigvalsh(matrix).flip(0).cpu().numpy()


def _orthonormal(block: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """Orthonormal columns spanning ``block`` with ``basis`` projected out (twice)."""
    for _ in range(2):
        block = block - basis @ (basis.T @ block)
    return torch.linalg.qr(block).Q


def krylov_eigenvalues(apply: Callable[[torch.Tensor], torch.Tensor], d: int, *,
                       device: torch.device, block: int = BLOCK, tol: float = TOL,
                       seed: int = 0) -> NDArray[np.float64]:
    r"""The leading eigenvalues of a PSD operator, descending, from its products (fast path).

    Rayleigh-Ritz on the block Krylov subspace
    :math:`\mathrm{span}\{X, AX, A^2X, \dots\}` of a random ``d x block``
    start ``X``, each new block orthonormalised against all earlier ones
    (projected out twice, then :func:`torch.linalg.qr`).  The subspace grows
    by one block at a time until it holds a block of Ritz values below the
    rank threshold and the Ritz values above it moved by less than ``tol``
    (relative) since they were last computed; Ritz values only grow with the
    subspace, converging from the top down, so the ones above the threshold
    are then accurate to well within ``tol`` (measured against the exact path
    on D of eq. (2): 2e-6 or better for small-lenet at N = 3,000 and 5,000
    and for small-fc).

    Parameters
    ----------
    apply : callable
        Maps a float64 ``(d, b)`` block X to the float64 ``(d, b)`` product A X.
    d : int
        Size of the operator.
    device : torch.device
        Where the basis lives, the device ``apply`` works on.
    block : int, default 64
        Vectors added to the subspace per product.
    tol : float, default 1e-4
    seed : int, default 0
        Seed of the random start.

    Returns
    -------
    ndarray, shape (K,)
        The Ritz values, ``rank(A) < K <= d``; those above the threshold
        approximate the largest eigenvalues of A, the others are lower bounds.
    """
    d, block = check.positive_int("d", d), check.positive_int("block", block)
    tol, seed = check.positive_scalar("tol", tol), check.seed("seed", seed)
    k_max = min(d, max(block, BASIS_BYTES // (8 * d)))
    gen = torch.Generator(device=device).manual_seed(seed)
    basis = torch.empty(d, 0, dtype=torch.float64, device=device)
    gram = torch.empty(0, 0, dtype=torch.float64, device=device)
    new = _orthonormal(torch.randn(d, min(block, k_max), generator=gen, dtype=torch.float64,
                                   device=device), basis)
    previous: NDArray[np.float64] | None = None
    due = 0                                           # size at which to solve T again
    while True:
        image = apply(new)
        k = basis.shape[1]
        basis = torch.cat([basis, new], dim=1)
        cross = basis.T @ image                       # Q^T A Q_new, rows of all blocks
        gram = torch.cat([torch.cat([gram, cross[:k].T], dim=0), cross], dim=1)
        gram = 0.5 * (gram + gram.T)
        k += new.shape[1]
        if k >= due or k == k_max:
            ritz = dense_eigenvalues(gram)
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
