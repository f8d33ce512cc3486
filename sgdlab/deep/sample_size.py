r"""The spectrum of D(x) against the number N of examples it is computed from (eq. 2).

:math:`D = \frac1N G_c^\top G_c`, with :math:`G_c` the ``(N, d)`` centred
per-example gradients, has rank at most :math:`\min(d, N - 1)`, so a rank
measured on ``N`` examples may depend on ``N``.  This module measures that
dependence: :func:`draw_subsets` draws nested random subsets of the examples
for several sizes and seeds, :func:`subset_spectrum` decomposes D of one subset
exactly, and :func:`sample_size_point`, one point of a sweep
(:func:`sgdlab.sweep.sweep`), does both for one trained network: the gradients
of every example its subsets use are computed once, and each subset's spectrum
is read from rows of them.

The exact route is the cheaper of two matrices with the same non-zero
eigenvalues (:func:`~sgdlab.deep.diffusion.compact_diffusion`): the ``N x N``
Gram matrix :math:`K = \frac1N G_c G_c^\top` when ``N < d``, the ``d x d`` D
itself otherwise, in float64; :math:`\operatorname{tr} K = \operatorname{tr} D` and
:math:`\|K\|_F = \|D\|_F` give the participation ratio
(:class:`~sgdlab.deep.eigenspectrum.Moments`) without a threshold.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from sgdlab import _validation as check

from . import data
from .device import num_threads, pick
from .diffusion import compact_diffusion
from .eigensolvers import dense_eigenvalues
from .eigenspectrum import Moments, Spectrum
from .gradients import per_example_gradients
from .models import from_checkpoint

__all__ = ["TOP", "as_array", "consistent_size", "draw_subsets", "sample_size_point",
           "subset_spectrum"]

#: The k of the fractions of tr D in the top k eigenvalues that a sweep point reports.
TOP: tuple[int, ...] = (1, 10, 100)


def as_array(result: Mapping[str, Any], key: str, k: int | None = None
             ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The sizes of a :func:`sample_size_point` result and one statistic, size by seed.

    Parameters
    ----------
    result : mapping
        What :func:`sample_size_point` returned.
    key : str
        A statistic of its points: ``"rank"``, ``"participation_ratio"``,
        ``"trace"``, ``"frobenius_sq"`` or ``"top_fraction"`` (then ``k``, one of
        :data:`TOP`).

    Returns
    -------
    sizes : ndarray, shape (S,)
    values : ndarray, shape (S, seeds)

    Raises
    ------
    ValueError
        On an unknown key or k.

    Examples
    --------
    >>> r = {"points": [{"n": 5, "seed": 0, "rank": 3}, {"n": 5, "seed": 1, "rank": 2},
    ...                 {"n": 9, "seed": 0, "rank": 6}, {"n": 9, "seed": 1, "rank": 7}]}
    >>> as_array(r, "rank")
    (array([5, 9]), array([[3., 2.],
           [6., 7.]]))
    """
    points = result["points"]
    if key not in points[0]:
        raise ValueError(f"unknown statistic {key!r}; known: {', '.join(points[0])}")
    if key == "top_fraction" and str(k) not in points[0][key]:
        raise ValueError(f"k must be one of {TOP}, got {k!r}")
    sizes = np.array(sorted({int(p["n"]) for p in points}))
    values = [[float(p[key][str(k)] if key == "top_fraction" else p[key]) for p in points
               if p["n"] == n] for n in sizes]
    return sizes, np.array(values)


def consistent_size(target: float, sizes: Sequence[float], values: Sequence[float]) -> float:
    r"""The sample size at which a measured curve first reaches ``target``.

    The curve is ``values`` against ``sizes`` (increasing), linear in
    :math:`\log N` between the measured points; NaN when ``target`` is below
    the first value or above every value (no measured size is consistent).

    Raises
    ------
    ValueError
        If the sizes are not increasing and positive, or the lengths differ.

    Examples
    --------
    >>> round(consistent_size(2.0, [100, 10_000], [1.0, 3.0]), 6)
    1000.0
    >>> consistent_size(0.5, [100, 10_000], [1.0, 3.0])
    nan
    """
    n = np.asarray(sizes, dtype=float)
    v = np.asarray(values, dtype=float)
    if n.ndim != 1 or n.shape != v.shape or n.size < 2 or np.any(n <= 0) or np.any(
            np.diff(n) <= 0):
        raise ValueError("sizes must be increasing and positive, with one value each")
    if not v[0] <= target <= v.max():
        return float("nan")
    i = int(np.argmax(v >= target))
    if i == 0:
        return float(n[0])
    t = (target - v[i - 1]) / (v[i] - v[i - 1])
    return float(np.exp(np.log(n[i - 1]) + t * (np.log(n[i]) - np.log(n[i - 1]))))


def draw_subsets(n_total: int, sizes: Sequence[int], seeds: Sequence[int]
                 ) -> dict[tuple[int, int], NDArray[np.int64]]:
    """Rows of random subsets of ``n_total`` examples, one per (size, seed).

    The subset of size ``n`` and seed ``s`` is the first ``n`` entries of a
    permutation drawn by ``torch.randperm`` with seed ``s``, so that a seed's
    subsets are nested, and different seeds give independent ones.

    Raises
    ------
    ValueError
        If a size is not in ``[2, n_total]`` or a seed is not a valid seed.

    Examples
    --------
    >>> rows = draw_subsets(10, [3, 5], [0])
    >>> sorted(rows), bool(np.all(rows[3, 0] == rows[5, 0][:3]))
    ([(3, 0), (5, 0)], True)
    """
    n_total = check.positive_int("n_total", n_total)
    for n in sizes:
        if not 2 <= check.positive_int("size", n) <= n_total:
            raise ValueError(f"each size must be in [2, {n_total}] (the examples), got {n}")
    out = {}
    for s in seeds:
        perm = torch.randperm(n_total, generator=torch.Generator().manual_seed(
            check.seed("seed", s))).numpy()
        out.update({(int(n), int(s)): perm[:n] for n in sizes})
    return out


def subset_spectrum(grads: torch.Tensor, rows: NDArray[np.int64] | None = None
                    ) -> tuple[Spectrum, Moments]:
    r"""The exact spectrum and moments of D (eq. 2) of some rows of the gradients.

    With ``N`` rows and ``N < d``: the eigenvalues of the ``N x N`` Gram matrix
    :math:`\frac1N G_cG_c^\top` (the other ``d - N`` eigenvalues of D are zero,
    and the returned :class:`~sgdlab.deep.eigenspectrum.Spectrum` holds ``N``
    eigenvalues); otherwise all ``d`` of the dense D.  Float64 throughout,
    :math:`O(N^2 d)` or :math:`O(N d^2)` work, then a dense eigensolver.

    Parameters
    ----------
    grads : torch.Tensor, shape (M, d)
        Per-example gradients (:func:`~sgdlab.deep.gradients.per_example_gradients`).
    rows : int array, optional
        The examples; all ``M`` when omitted.

    Returns
    -------
    spectrum : Spectrum
        ``method="exact"``.
    moments : Moments
        tr D and :math:`\|D\|_F^2` from the same matrix.

    Raises
    ------
    ValueError
        If fewer than two rows are chosen or ``grads`` is not a finite ``(M, d)``
        floating tensor.

    Examples
    --------
    >>> g = torch.tensor([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> s, m = subset_spectrum(g, np.array([0, 1]))
    >>> s.rank, float(s.eigenvalues[0]), m.participation_ratio
    (1, 1.0, 1.0)
    """
    if not (isinstance(grads, torch.Tensor) and grads.ndim == 2 and grads.is_floating_point()
            and bool(torch.isfinite(grads).all())):
        raise ValueError("grads must be a finite floating (M, d) tensor")
    start = time.perf_counter()
    chosen = grads if rows is None else grads[torch.as_tensor(rows, device=grads.device)]
    n, d = chosen.shape
    if n < 2:
        raise ValueError(f"D of eq. (2) needs at least 2 examples, got {n}")
    matrix = compact_diffusion(chosen, device=chosen.device)
    ev = dense_eigenvalues(matrix)
    moments = Moments(float(matrix.trace()), float((matrix**2).sum()), d, n)
    return Spectrum(ev, d, n, "exact", time.perf_counter() - start), moments


_KEYS = {"checkpoint", "dataset", "sizes", "seeds", "n_train", "device", "threads"}


def sample_size_point(config: Mapping[str, Any]) -> dict[str, Any]:
    """One network at one instant: rank, participation ratio and top fractions over subsets.

    A point function of :func:`sgdlab.sweep.sweep` (JSON in, JSON out).  The
    network of ``config["checkpoint"]`` on the first ``n_train`` training examples
    of ``config["dataset"]`` (all present when omitted): the per-example
    gradients (evaluation mode, as the paper) of every example in the subsets of
    :func:`draw_subsets` are computed once, then :func:`subset_spectrum` of each.

    Parameters
    ----------
    config : mapping
        ``checkpoint`` (a path), ``dataset``, ``sizes`` and ``seeds`` (lists of
        ints); optional ``n_train``, ``device`` and ``threads`` (torch CPU threads
        during the point, :func:`~sgdlab.deep.device.num_threads`; 1 on a shared CPU).

    Returns
    -------
    dict
        ``d``, ``n_total``, ``points`` (one per size and seed, in that order:
        ``n``, ``seed``, ``rank``, ``trace``, ``frobenius_sq``,
        ``participation_ratio``, ``top_fraction`` for each k of :data:`TOP`),
        and ``eigenvalues``: for each size (a string key), the spectrum of the
        first seed's subset, descending.

    Raises
    ------
    ValueError
        On an unknown or missing key, or sizes that do not fit the examples.
    """
    if set(config) - _KEYS or not {"checkpoint", "dataset", "sizes", "seeds"} <= set(config):
        raise ValueError(f"a configuration names checkpoint, dataset, sizes and seeds (and "
                         f"optionally n_train, device, threads), got {sorted(config)}")
    with num_threads(config.get("threads")):
        return _point(config)


def _point(config: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`sample_size_point` of a checked configuration."""
    dev = pick(config.get("device"))
    model, _ = from_checkpoint(config["checkpoint"], device=dev)
    x, y = data.load(config["dataset"], "train", n=config.get("n_train"), device=dev)
    sizes, seeds = [int(n) for n in config["sizes"]], [int(s) for s in config["seeds"]]
    if not sizes or not seeds:
        raise ValueError("sizes and seeds must be non-empty")
    subsets = draw_subsets(len(y), sizes, seeds)
    used = np.unique(np.concatenate(list(subsets.values())))
    grads = per_example_gradients(model, x[torch.as_tensor(used, device=dev)],
                                  y[torch.as_tensor(used, device=dev)], device=dev)
    points: list[dict[str, Any]] = []
    eigenvalues: dict[str, list[float]] = {}
    for n in sizes:
        for seed in seeds:
            spectrum, moments = subset_spectrum(grads, np.searchsorted(used, subsets[n, seed]))
            points.append({"n": n, "seed": seed, "rank": spectrum.rank, **moments.to_dict(),
                           "top_fraction": {str(k): moments.top_fraction(
                               spectrum, min(k, spectrum.eigenvalues.size)) for k in TOP}})
            if seed == seeds[0]:
                eigenvalues[str(n)] = [float(v) for v in spectrum.eigenvalues]
    return {"d": int(grads.shape[1]), "n_total": len(y), "points": points,
            "eigenvalues": eigenvalues}
