"""The spectrum of D(x) along training: the experiment of Figs. 1-2 (Section IV-A).

:func:`measure` trains one of the paper's networks (:func:`sgdlab.deep.train.fit`)
and computes the eigenspectrum of its diffusion matrix
(:func:`sgdlab.deep.diffusion.spectrum`, eq. 2, evaluation mode) at 20 %, 40 % and
100 % of training, on all the training images it used, as the paper does.
Training checkpoints and spectra are kept in a folder per configuration under
:func:`sgdlab.storage.runs_root`, so a chapter executed twice (under nbval, then by the book
build) trains and decomposes once, and an interrupted run resumes.

Each network has two scales (:func:`sgdlab.deep.device.profile`): ``"cpu"``, which
fits a 2-core CPU within minutes, and ``"full"``, the paper's, for a GPU.
:data:`PAPER` holds the figures the paper quotes under Figs. 1-2, for the
chapter to set its own numbers beside.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sgdlab._typing import PathLike
from sgdlab.storage import atomic_write, config_key, runs_root

from . import data, diffusion, train
from .device import Profile, pick, profile
from .eigenspectrum import Spectrum
from .models import build, from_checkpoint, spec

__all__ = ["EXPERIMENTS", "PAPER", "Experiment", "SpectraRun", "experiment", "measure",
           "subsample_spectrum"]

#: The figures printed under Figs. 1-2, per panel (network, data set); the mean
#: and standard deviation of the eigenvalues of D and rank(D) / d.
PAPER: dict[str, dict[str, float]] = {
    "small-lenet": {"mean": 0.3e-3, "std": 2.11e-3, "rank_fraction": 0.018},
    "small-fc": {"mean": 0.9e-3, "std": 18.5e-3, "rank_fraction": 0.006},
    "small-allcnn/cifar10": {"mean": 0.27, "std": 0.84, "rank_fraction": 0.0034},
    "small-allcnn/cifar100": {"mean": 0.98, "std": 2.16, "rank_fraction": 0.0047},
    "small-allcnn/cifar10-augmented": {"mean": 0.43, "std": 1.32, "rank_fraction": 0.0032},
}


@dataclass(frozen=True)
class Experiment:
    """One panel of Figs. 1-2: a network, its data and how long it trains.

    Attributes
    ----------
    model : str
        A name of :data:`sgdlab.deep.models.NAMES`.
    dataset : str
        A name :func:`~sgdlab.deep.data.registry.load` takes.
    n_train : int or None
        Training images (the first ones); None for all that are present.
    epochs : int
    lr : float
        Initial learning rate of the step schedule (:func:`sgdlab.deep.train.lr_factor`).
    seed : int
    """

    model: str
    dataset: str
    n_train: int | None
    epochs: int
    lr: float
    seed: int = 0

    @property
    def key(self) -> str:
        """A folder name unique to this configuration."""
        return f"spectra-{self.model}-{self.dataset}-{config_key(dataclasses.asdict(self))}"


#: The experiments of Figs. 1-2 at each scale.
EXPERIMENTS: dict[Profile, dict[str, Experiment]] = {
    "cpu": {
        "small-lenet": Experiment("small-lenet", "mnist", 5_000, 8, 0.1),
        "small-fc": Experiment("small-fc", "mnist7", 17_000, 20, 0.1),
        "small-allcnn/cifar10": Experiment("small-allcnn", "cifar10", 5_000, 10, 0.1),
        "small-allcnn/cifar100": Experiment("small-allcnn", "cifar100", 5_000, 10, 0.1),
    },
    "full": {
        "small-lenet": Experiment("small-lenet", "mnist", None, 40, 0.1),
        "small-fc": Experiment("small-fc", "mnist7", None, 40, 0.1),
        "small-allcnn/cifar10": Experiment("small-allcnn", "cifar10", None, 100, 0.1),
        "small-allcnn/cifar100": Experiment("small-allcnn", "cifar100", None, 100, 0.1),
    },
}


def experiment(panel: str, scale: str | None = None) -> Experiment:
    """The :class:`Experiment` of a panel (a key of :data:`EXPERIMENTS`) at a scale.

    Raises
    ------
    ValueError
        If the panel or the scale is unknown.
    """
    experiments = EXPERIMENTS[profile(scale)]
    if panel not in experiments:
        raise ValueError(f"unknown panel {panel!r}; known: {', '.join(experiments)}")
    return experiments[panel]


@dataclass(frozen=True)
class SpectraRun:
    """What :func:`measure` returns for one panel.

    Attributes
    ----------
    experiment : Experiment
    spectra : dict of float to Spectrum
        The spectrum of D at each fraction of training (0.2, 0.4, 1.0).
    augmented : dict of float to Spectrum
        For CIFAR panels, the spectrum of the same network's D on the
        augmented view of its training images (flip, pad-4 crop; Fig. 2c) at
        each fraction; empty for MNIST.
    test_accuracy : float
        Accuracy of the trained network on the test split.
    """

    experiment: Experiment
    spectra: dict[float, Spectrum]
    augmented: dict[float, Spectrum]
    test_accuracy: float


def _cached_spectrum(path: Path, compute: Callable[[], Spectrum]) -> Spectrum:
    """The spectrum saved at ``path``, or ``compute()`` saved there atomically."""
    if path.is_file():
        with np.load(path) as saved:
            return Spectrum(saved["eigenvalues"], int(saved["d"]), int(saved["n"]),
                            str(saved["method"]), float(saved["seconds"]))
    s = compute()
    with atomic_write(path) as fh:
        np.savez(fh, eigenvalues=s.eigenvalues, d=s.d, n=s.n, method=s.method,
                 seconds=s.seconds)
    return s


def measure(exp: Experiment, *, root: PathLike | None = None,
            device: str | torch.device | None = None, progress: bool = True) -> SpectraRun:
    """Train a network and compute the spectrum of D(x) at 20 %, 40 % and 100 % (Fig. 1).

    Parameters
    ----------
    exp : Experiment
    root : path, optional
        Folder of runs; :func:`sgdlab.storage.runs_root` when omitted.
    device : str or torch.device, optional
        :func:`sgdlab.deep.device.pick`.
    progress : bool, default True
        Show tqdm progress bars while training.

    Returns
    -------
    SpectraRun

    Raises
    ------
    FileNotFoundError
        If the data set is missing (the message says what to fetch).
    ValueError
        If the network is not one trained on the data set
        (:meth:`sgdlab.deep.models.ModelSpec.num_classes_on`).
    """
    dev = pick(device)
    run_dir = runs_root(root) / exp.key
    num_classes = spec(exp.model).num_classes_on(exp.dataset)
    x, y = data.load(exp.dataset, "train", n=exp.n_train, device=dev)
    x_test, y_test = data.load(exp.dataset, "test", device=dev)
    result = train.fit(exp.model, x, y, epochs=exp.epochs, x_test=x_test, y_test=y_test,
                       lr=exp.lr, seed=exp.seed, num_classes=num_classes, run_dir=run_dir,
                       device=dev, progress=progress)
    views = {"": x}
    if exp.dataset.startswith("cifar"):
        generator = torch.Generator(device=dev).manual_seed(exp.seed)
        views["augmented-"] = data.augment(x, generator=generator)
    spectra: dict[str, dict[float, Spectrum]] = {name: {} for name in views}
    for fraction, path in sorted(result.checkpoints.items()):
        model, _ = from_checkpoint(path, device=dev)
        for name, inputs in views.items():
            spectra[name][fraction] = _cached_spectrum(
                run_dir / f"spectrum-{name}{fraction:.2f}.npz",
                partial(diffusion.spectrum, model, inputs, y, device=dev))
    return SpectraRun(exp, spectra[""], spectra.get("augmented-", {}),
                      result.test_accuracy[-1])


def subsample_spectrum(config: Mapping[str, Any]) -> dict[str, Any]:
    """One point of a sweep of the spectrum of D (eq. 2) over sample sizes and seeds.

    The network ``config["model"]``, freshly initialised with seed 0 or read from
    ``config["checkpoint"]``, on ``config["n"]`` of its training examples drawn
    without replacement by ``config["seed"]``; a task of :func:`sgdlab.sweep.sweep`.

    Parameters
    ----------
    config : mapping
        ``model``, ``n``, ``seed``; optional ``checkpoint`` (a path), ``method``
        (``"fast"``) and ``device``.

    Returns
    -------
    dict
        :meth:`~sgdlab.deep.eigenspectrum.Spectrum.to_dict` and
        :meth:`~sgdlab.deep.eigenspectrum.Moments.to_dict` of D.
    """
    unknown = set(config) - {"model", "n", "seed", "checkpoint", "method", "device"}
    if unknown or not {"model", "n", "seed"} <= set(config):
        raise ValueError(f"a configuration names model, n and seed (and optionally "
                         f"checkpoint, method, device), got {sorted(config)}")
    dev = pick(config.get("device"))
    if config.get("checkpoint"):
        model, _ = from_checkpoint(config["checkpoint"], device=dev)
    else:
        torch.manual_seed(0)
        model = build(config["model"]).to(dev)
    x, y = data.load(spec(config["model"]).dataset, device=dev)
    n = int(config["n"])
    if not 2 <= n <= len(y):
        raise ValueError(f"n must be in [2, {len(y)}] (the examples present), got {n}")
    generator = torch.Generator().manual_seed(int(config["seed"]))
    keep = torch.randperm(len(y), generator=generator)[:n].to(dev)
    result = diffusion.spectrum(model, x[keep], y[keep], method=config.get("method", "fast"),
                                device=dev)
    moments = diffusion.trace_moments(model, x[keep], y[keep], device=dev)
    return {**result.to_dict(), **moments.to_dict()}
