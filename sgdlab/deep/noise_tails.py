"""Is the mini-batch noise of a course network Gaussian? The grid of Part V's tail-index chapter.

tiny-fc on the shipped 7x7 MNIST digits 0-4 (:func:`sgdlab.deep.data.registry.load`
``"mnist7-04"``), at initialisation and after a short training
(:func:`sgdlab.deep.train.fit`, kept under :func:`sgdlab.storage.runs_root`).  At each
instant the per-example gradients of every training example
(:func:`sgdlab.deep.gradients.per_example_gradients`) define the noise exactly: a
mini-batch gradient is a mean of ``b`` of their rows
(:func:`sgdlab.core.gradient_noise.minibatch_noise`).  The noise and its two
Gaussian stand-ins, :math:`N(0, D/b)` and :math:`N(0, \\mathrm{diag}(D)/b)`
(:func:`sgdlab.core.gradient_noise.gaussian_noise`), go through the same three
estimators of :mod:`sgdlab.core.tail_index`.

:func:`measure` computes one point of the grid ``instant x b x estimator x seed``
(:func:`grid`); :func:`run` sweeps it with :func:`sgdlab.sweep.sweep`, so the
book's second execution reads the results from disk, and a cluster can run the
``"full"`` grid (``backend="ray"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch import nn

from sgdlab.core import gradient_noise, minibatch, tail_index
from sgdlab.storage import runs_root
from sgdlab.sweep import Backend, Config, Result, sweep

from . import data, train
from .device import Profile, pick
from .gradients import per_example_gradients
from .models import build

__all__ = ["BATCH_SIZES", "DATA", "ESTIMATORS", "INSTANTS", "MODEL", "SCALES", "SOURCES",
           "Scale", "curve", "diffusion", "grid", "measure", "network", "per_example", "run",
           "samples"]

#: The network and its data set.
MODEL, DATA = "tiny-fc", "mnist7-04"
#: Where the noise is measured, at the initial weights and after training.
INSTANTS = ("init", "trained")
#: The batch sizes of the grid.
BATCH_SIZES = tuple(2**k for k in range(10))
#: The three ways of feeding the estimator (:mod:`sgdlab.core.tail_index`).
ESTIMATORS = ("pooled", "coordinates", "projections")
#: What goes through the estimators, the noise, N(0, D/b) or N(0, diag(D)/b).
SOURCES = ("noise", "gaussian", "diagonal")


@dataclass(frozen=True)
class Scale:
    """The size of the grid at one profile.

    Attributes
    ----------
    epochs : int
        Training epochs before the ``"trained"`` instant (lr 0.1, step schedule).
    n_batches : int
        Mini-batches ``M`` per point.
    n_projections : int
        Random unit vectors of the ``"projections"`` estimator.
    seeds : tuple of int
    """

    epochs: int
    n_batches: int
    n_projections: int
    seeds: tuple[int, ...]


#: ``"cpu"`` fits the book's budget; ``"full"`` is the real grid.
SCALES: dict[Profile, Scale] = {"cpu": Scale(3, 1024, 64, (0,)),
                                "full": Scale(30, 16384, 512, (0, 1, 2))}


def _instant(instant: str) -> str:
    if instant not in INSTANTS:
        raise ValueError(f"instant must be one of {INSTANTS}, got {instant!r}")
    return instant


def network(instant: str, profile: Profile, device: str | torch.device | None = None
            ) -> nn.Module:
    """tiny-fc at ``instant``: initial (as :func:`~sgdlab.deep.train.fit`, seed 0) or trained.

    Training (``SCALES[profile].epochs`` epochs on all of ``"mnist7-04"``) is kept in
    ``<runs>/noise-tails/``, so it happens once.
    """
    dev = pick(device)
    if _instant(instant) == "init":
        with torch.random.fork_rng():
            torch.manual_seed(0)                  # as fit(seed=0) initialises
            return build(MODEL).to(dev).eval()
    epochs = SCALES[profile].epochs
    x, y = data.load(DATA, device=dev)
    return train.fit(MODEL, x, y, epochs=epochs, lr=0.1, seed=0, progress=False, device=dev,
                     run_dir=runs_root() / "noise-tails" / f"{MODEL}-e{epochs}").model


@lru_cache(maxsize=2)
def per_example(instant: str, profile: Profile) -> np.ndarray:
    """Per-example gradients ``(N, d)``, float64, of every training example at ``instant``."""
    dev = pick()
    x, y = data.load(DATA, device=dev)
    grads = per_example_gradients(network(instant, profile, dev), x, y, device=dev)
    return grads.double().cpu().numpy()


@lru_cache(maxsize=2)
def diffusion(instant: str, profile: Profile) -> np.ndarray:
    """The diffusion matrix D of eq. (2) at ``instant``, ``(d, d)``."""
    return minibatch.diffusion_matrix(per_example(instant, profile))


def _rng(instant: str, b: int, seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, INSTANTS.index(instant), b, stream])


@lru_cache(maxsize=2)
def _gaussian(instant: str, profile: Profile, seed: int) -> dict[str, np.ndarray]:
    m = SCALES[profile].n_batches
    return {kind: gradient_noise.gaussian_noise(diffusion(instant, profile), 1, m, cov,
                                                _rng(instant, 1, seed, k + 1))
            for k, (kind, cov) in enumerate((("gaussian", "full"), ("diagonal", "diagonal")))}


@lru_cache(maxsize=1)
def _noise(instant: str, profile: Profile, seed: int) -> dict[int, np.ndarray]:
    return gradient_noise.nested_minibatch_noise(per_example(instant, profile), BATCH_SIZES,
                                                 SCALES[profile].n_batches,
                                                 _rng(instant, 0, seed, 0))


def samples(instant: str, profile: Profile, b: int, seed: int) -> dict[str, np.ndarray]:
    """``M`` draws of each of :data:`SOURCES` at batch size ``b``, shape ``(M, d)`` each.

    The noise at every ``b`` of :data:`BATCH_SIZES` comes from one
    :func:`~sgdlab.core.gradient_noise.nested_minibatch_noise`.  The Gaussian
    stand-ins at ``b`` are those at ``b = 1`` divided by :math:`\\sqrt b`, drawn once
    per instant and seed: every estimator of :mod:`sgdlab.core.tail_index` is unchanged
    by a common scale, so their estimates are the same at every ``b``.
    """
    if b not in BATCH_SIZES:
        raise ValueError(f"b must be one of {BATCH_SIZES}, got {b!r}")
    return {"noise": _noise(instant, profile, seed)[b]} | {
        k: v / np.sqrt(b) for k, v in _gaussian(instant, profile, seed).items()}


@lru_cache(maxsize=2)
def _prediction(instant: str, profile: Profile) -> dict[str, float]:
    d_mat, m = diffusion(instant, profile), SCALES[profile].n_batches
    return {"gaussian": tail_index.pooled_gaussian_inverse(d_mat, m),
            "diagonal": tail_index.pooled_gaussian_inverse(np.diag(np.diag(d_mat)), m)}


def _summary(est: tail_index.TailIndex) -> dict[str, Any]:
    return {"alpha": est.alpha.tolist(), "inverse": est.inverse.tolist(),
            "se_inverse": est.se_inverse.tolist(), "m": est.m, "blocks": est.blocks}


def measure(config: Config) -> Result:
    """One point of the grid: the estimator on the noise and both Gaussian stand-ins.

    Parameters
    ----------
    config : mapping
        ``instant`` (:data:`INSTANTS`), ``b``, ``estimator`` (:data:`ESTIMATORS`),
        ``seed`` and ``profile`` (a key of :data:`SCALES`).

    Returns
    -------
    dict
        Per source of :data:`SOURCES`, its :class:`~sgdlab.core.tail_index.TailIndex`
        as lists (``alpha``, ``inverse``, ``se_inverse``, ``m``, ``blocks``).  For
        ``"pooled"`` also ``prediction``: :func:`~sgdlab.core.tail_index.pooled_gaussian_inverse`
        for the covariances of ``"gaussian"`` and ``"diagonal"`` (the same at every
        ``b``: a common scale cancels).  For
        ``"projections"`` also, per projection, the Kolmogorov distance of each
        source from its Gaussian (``ks``), the Berry-Esseen bound
        (``berry_esseen``), and the DKW radius at 1 % over all projections (``dkw``).
    """
    instant, b, estimator = _instant(config["instant"]), int(config["b"]), config["estimator"]
    profile, seed = config["profile"], int(config["seed"])
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    if profile not in SCALES:
        raise ValueError(f"profile must be one of {tuple(SCALES)}, got {profile!r}")
    draws = samples(instant, profile, b, seed)
    scale = SCALES[profile]
    if estimator == "coordinates":
        return {s: _summary(tail_index.per_coordinate(draws[s])) for s in SOURCES}
    grads = per_example(instant, profile)
    if estimator == "pooled":
        out: Result = {s: _summary(tail_index.pooled(draws[s])) for s in SOURCES}
        return out | {"prediction": _prediction(instant, profile)}
    u = tail_index.random_directions(grads.shape[1], scale.n_projections, seed)
    out = {s: _summary(tail_index.along_projections(draws[s], u)) for s in SOURCES}
    z = (grads - grads.mean(axis=0)) @ u.T
    sd = {"noise": np.sqrt((z**2).mean(axis=0) / b),
          "diagonal": np.sqrt((u**2 * grads.var(axis=0)).sum(axis=1) / b)}
    sd["gaussian"] = sd["noise"]
    out["ks"] = {s: gradient_noise.kolmogorov_distance(draws[s] @ u.T, sd[s]).tolist()
                 for s in SOURCES}
    out["berry_esseen"] = gradient_noise.berry_esseen_bound(z, b).tolist()
    out["dkw"] = gradient_noise.dkw_radius(scale.n_batches, 0.01 / scale.n_projections)
    return out


def grid(profile: Profile) -> list[dict[str, Any]]:
    """The configurations of :func:`measure` at ``profile``, those sharing samples adjacent.

    Each carries its :class:`Scale` as ``scale``, so that results kept on disk are
    those of the scale asked for.
    """
    scale = asdict(SCALES[profile]) | {"seeds": list(SCALES[profile].seeds)}
    return [{"instant": instant, "seed": seed, "b": b, "estimator": estimator,
             "profile": profile, "scale": scale}
            for instant in INSTANTS for seed in SCALES[profile].seeds
            for b in BATCH_SIZES for estimator in ESTIMATORS]


def run(profile: Profile, backend: Backend = "process", progress: bool = False
        ) -> dict[tuple[str, int, int, str], Result]:
    """Sweep :func:`grid` through :func:`sgdlab.sweep.sweep` (sweep ``"noise-tails"``).

    Returns
    -------
    dict
        The results keyed by ``(instant, seed, b, estimator)``.
    """
    configs = grid(profile)
    results = sweep(measure, configs, name="noise-tails", backend=backend, progress=progress)
    return {(c["instant"], c["seed"], c["b"], c["estimator"]): r
            for c, r in zip(configs, results, strict=True)}


def curve(results: Mapping[tuple[str, int, int, str], Result], instant: str, estimator: str,
          source: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""The estimate of :math:`1/\alpha` over :data:`BATCH_SIZES`, and its standard error.

    For ``"coordinates"`` and ``"projections"``, the mean over the columns of
    :math:`\widehat{1/\alpha}` and the mean of their standard errors, which
    bounds the standard deviation of that mean whatever the columns' correlations.

    Returns
    -------
    inverse, se : ndarray, shape (len(BATCH_SIZES),)
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    rows = [results[(instant, seed, b, estimator)][source] for b in BATCH_SIZES]
    return (np.array([np.mean(r["inverse"]) for r in rows]),
            np.array([np.mean(r["se_inverse"]) for r in rows]))
