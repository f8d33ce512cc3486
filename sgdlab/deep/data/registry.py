"""The data sets of the paper by name, as resident tensors ready for a network.

This module's one job is :func:`load`: a data set by the name a network's
:class:`~sgdlab.deep.models.ModelSpec` gives (:data:`DATASETS`), read by
:mod:`~sgdlab.deep.data.mnist` or :mod:`~sgdlab.deep.data.cifar`,
pre-processed as Section IV does and moved to a device.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from numpy.typing import NDArray

from sgdlab import _validation as check
from sgdlab._typing import PathLike
from sgdlab.deep.device import pick
from sgdlab.storage import data_root

from ._splits import check_split
from .cifar import CIFAR, read_cifar
from .mnist import MNIST_VARIANTS, load_variant
from .preprocess import Whitening, global_contrast_normalize, zca_fit

__all__ = ["DATASETS", "load"]

#: Every name :func:`load` takes.
DATASETS: tuple[str, ...] = (*MNIST_VARIANTS, *CIFAR)


@functools.lru_cache(maxsize=2)
def _cifar_whitening(name: str, base: str) -> Whitening:
    images, _ = read_cifar(name, "train", base)
    return zca_fit(global_contrast_normalize(images))


def _first(n: int | None, images: NDArray, labels: NDArray, name: str, split: str
           ) -> tuple[NDArray, NDArray]:
    if n is None:
        return images, labels
    if n > len(labels):
        raise ValueError(f"n = {n} asked for, but the {split} split of {name!r} holds "
                         f"{len(labels)} examples")
    return images[:n], labels[:n]


def _mnist(name: str, split: str, root: PathLike | None, n: int | None
           ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    train_images, train_labels = load_variant(name, "train", root)
    images, labels = ((train_images, train_labels) if split == "train"
                      else load_variant(name, split, root))
    images, labels = _first(n, images, labels, name, split)
    mean, std = train_images.mean(), train_images.std()
    return ((images - mean) / std)[:, None], labels


def _cifar(name: str, split: str, root: PathLike | None, n: int | None
           ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    images, labels = _first(n, *read_cifar(name, split, root), name, split)
    whiten = _cifar_whitening(name, str(data_root(root).resolve()))
    return whiten(global_contrast_normalize(images)).reshape(images.shape), labels


def load(name: str, split: str = "train", *, n: int | None = None,
         root: PathLike | None = None,
         device: str | torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A data set of the paper as resident tensors, ready for a network.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`: ``"mnist"`` (1x28x28), ``"mnist7"``
        (average-pooled to 1x7x7), ``"mnist7-04"`` (1x7x7, digits 0-4 only),
        ``"cifar10"`` or ``"cifar100"`` (3x32x32).
    split : {"train", "test"}
    n : int, optional
        Keep the first ``n`` examples; all when omitted.
    root : path, optional
        Where to look for the files (see :func:`~sgdlab.storage.data_root`).
    device : str or torch.device, optional
        Where the tensors live (:func:`sgdlab.deep.device.pick`).

    Returns
    -------
    x : torch.Tensor, shape (n, channels, side, side), float32
        MNIST: standardised with the mean and standard deviation of the pixels
        of the training split of the same variant.  CIFAR: each image
        contrast-normalised
        (:func:`~sgdlab.deep.data.preprocess.global_contrast_normalize`),
        then ZCA-whitened (:func:`~sgdlab.deep.data.preprocess.zca_fit`) with
        the fit to the whole training split, for either split (Section IV);
        the fit is computed once per process and data folder.
    y : torch.Tensor, shape (n,), int64
        Class labels.

    Raises
    ------
    ValueError
        If ``name`` or ``split`` is unknown, or ``n`` is not a positive
        integer no larger than the split.
    FileNotFoundError
        If the files are missing (and, for CIFAR, cannot be downloaded),
        saying which and where to put them.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    check_split(split)
    if n is not None:
        n = check.positive_int("n", n)
    dev = pick(device)
    images, labels = (_cifar if name in CIFAR else _mnist)(name, split, root, n)
    return (torch.as_tensor(images, dtype=torch.float32).to(dev),
            torch.as_tensor(labels).to(dev))
