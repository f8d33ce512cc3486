"""The data sets of the paper's experiments, read offline.

The repository carries real MNIST under ``data/MNIST/raw/`` (see
``data/README.md``: the full test split and the first 17,000 training
images).  :func:`load_mnist` looks for ``MNIST/raw/`` under, in order, its
``root`` argument, the environment variable ``SGDLAB_DATA`` and the
repository's ``data/`` folder.  :func:`load` returns a data set by the name a
network's :class:`~sgdlab.models.ModelSpec` gives, as resident tensors,
standardised with the statistics of its training split.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray

from ._validation import positive_int

REPO_DATA = Path(__file__).resolve().parents[1] / "data"
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_IDX_TYPE = {0x08: np.uint8}


def mnist_dir(root: str | os.PathLike[str] | None = None) -> Path:
    """The ``MNIST/raw`` folder :func:`load_mnist` reads.

    ``root`` if given, else ``$SGDLAB_DATA`` if set, else the repository's
    ``data/`` folder; the files themselves are checked by :func:`load_mnist`.
    """
    if root is None:
        root = os.environ.get("SGDLAB_DATA") or REPO_DATA
    return Path(root) / "MNIST" / "raw"


def read_idx(path: str | os.PathLike[str]) -> NDArray[np.uint8]:
    """Read a gzipped idx file (the MNIST format) into an array of its stored shape.

    Raises
    ------
    ValueError
        If the file is not an unsigned-byte idx file of the size its header says.
    """
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPE:
        raise ValueError(f"path {path} is not an unsigned-byte idx file")
    ndim = raw[3]
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtype=_IDX_TYPE[raw[2]], offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"path {path}: header says shape {shape}, file holds {data.size} "
                         "values")
    return data.reshape(shape)


def load_mnist(split: str = "train", root: str | os.PathLike[str] | None = None
               ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Load MNIST images and labels.

    Parameters
    ----------
    split : {"train", "test"}
        ``"train"``: the training images present (17,000 in the repository's
        copy); ``"test"``: the 10,000 test images.
    root : path, optional
        Folder holding ``MNIST/raw/*.gz``; defaults to ``$SGDLAB_DATA``, then
        the repository's ``data/``.

    Returns
    -------
    images : ndarray, shape (n, 28, 28)
        Pixels scaled to [0, 1].
    labels : ndarray, shape (n,)
        Digits 0-9.

    Raises
    ------
    ValueError
        If ``split`` is unknown.
    FileNotFoundError
        If the files are missing, saying which and where to put them.
    """
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = mnist_dir(root)
    paths = [folder / name for name in FILES[split]]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"MNIST {split} files missing from {folder}: {', '.join(missing)}. Fetch them "
            "from the MNIST database (http://yann.lecun.com/exdb/mnist/ or a mirror, "
            f"e.g. torchvision's) and put them in {folder}, or pass root= / set SGDLAB_DATA "
            "to a folder containing MNIST/raw/."
        )
    images, labels = (read_idx(p) for p in paths)
    if images.ndim != 3 or labels.shape != images.shape[:1]:
        raise ValueError(f"MNIST files in {folder} disagree: images {images.shape}, "
                         f"labels {labels.shape}")
    return images.astype(np.float64) / 255.0, labels.astype(np.int64)


def pool(images: NDArray[np.float64], factor: int) -> NDArray[np.float64]:
    """Average-pool images ``(n, h, w)`` by ``factor`` (28 x 28 -> 7 x 7 for 4).

    Raises
    ------
    ValueError
        If ``factor`` does not divide both sides.
    """
    arr = np.asarray(images, dtype=float)
    if arr.ndim != 3:
        raise ValueError(f"images must have shape (n, h, w), got {arr.shape}")
    if not isinstance(factor, (int, np.integer)) or factor < 1 or arr.shape[1] % factor \
            or arr.shape[2] % factor:
        raise ValueError(f"factor must be a positive integer dividing {arr.shape[1:]}, "
                         f"got {factor!r}")
    n, h, w = arr.shape
    return arr.reshape(n, h // factor, factor, w // factor, factor).mean(axis=(2, 4))


#: MNIST variants of Section IV: (side in pixels, digits kept or None for all).
MNIST_VARIANTS: dict[str, tuple[int, tuple[int, ...] | None]] = {
    "mnist": (28, None),
    "mnist7": (7, None),
    "mnist7-04": (7, (0, 1, 2, 3, 4)),
}


def _mnist_variant(name: str, split: str, root: str | os.PathLike[str] | None
                   ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    side, digits = MNIST_VARIANTS[name]
    images, labels = load_mnist(split, root)
    if side != images.shape[1]:
        images = pool(images, images.shape[1] // side)
    if digits is not None:
        keep = np.isin(labels, digits)
        images, labels = images[keep], labels[keep]
    return images, labels


def load(name: str, split: str = "train", *, n: int | None = None,
         root: str | os.PathLike[str] | None = None,
         device: str | torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A data set of the paper as resident tensors, ready for a network.

    Parameters
    ----------
    name : str
        ``"mnist"`` (1x28x28), ``"mnist7"`` (average-pooled to 1x7x7) or
        ``"mnist7-04"`` (1x7x7, digits 0-4 only).
    split : {"train", "test"}
    n : int, optional
        Keep the first ``n`` examples; all when omitted.
    root : path, optional
        Where to look for the files (see :func:`mnist_dir`).
    device : str or torch.device, optional
        Where the tensors live (:func:`sgdlab.device.pick`).

    Returns
    -------
    x : torch.Tensor, shape (n, channels, side, side), float32
        Inputs standardised with the mean and standard deviation of the
        pixels of the training split of the same variant.
    y : torch.Tensor, shape (n,), int64
        Class labels.

    Raises
    ------
    ValueError
        If ``name`` or ``split`` is unknown, or ``n`` is not a positive
        integer no larger than the split.
    FileNotFoundError
        If the files are missing, saying which and where to put them.
    """
    from .device import pick

    if name not in MNIST_VARIANTS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(MNIST_VARIANTS)}")
    train_images, train_labels = _mnist_variant(name, "train", root)
    images, labels = ((train_images, train_labels) if split == "train"
                      else _mnist_variant(name, split, root))
    if n is not None:
        n = positive_int("n", n)
        if n > len(labels):
            raise ValueError(f"n = {n} asked for, but the {split} split of {name!r} holds "
                             f"{len(labels)} examples")
        images, labels = images[:n], labels[:n]
    mean, std = train_images.mean(), train_images.std()
    x = torch.as_tensor((images - mean) / std, dtype=torch.float32).unsqueeze(1)
    dev = pick(device)
    return x.to(dev), torch.as_tensor(labels).to(dev)
