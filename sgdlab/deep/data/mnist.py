"""MNIST, read from its gzipped idx files, and the variants of Section IV.

This module's one job is MNIST: :func:`read_idx` reads the idx format,
:func:`load_mnist` the images and labels of a split from :func:`mnist_dir`
(downloading missing files through torchvision where it can), and
:func:`load_variant` the variants :data:`MNIST_VARIANTS` the paper's small
networks train on (Section IV): full-size, average-pooled to 7 x 7
(:func:`pool`), and pooled with digits 0-4 only.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sgdlab._typing import PathLike
from sgdlab.storage import data_root

from ._download import download
from ._splits import check_split

__all__ = ["FILES", "MNIST_URL", "MNIST_VARIANTS", "load_mnist", "load_variant", "mnist_dir",
           "pool", "read_idx"]

#: The gzipped idx files of each split (images, labels), in :func:`mnist_dir`.
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_IDX_TYPE = {0x08: np.uint8}
#: The mirror torchvision's ``MNIST`` downloads from first.
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"


def mnist_dir(root: PathLike | None = None) -> Path:
    """The ``MNIST/raw`` folder under :func:`~sgdlab.storage.data_root`, read by :func:`load_mnist`.

    The files themselves are checked by :func:`load_mnist`.
    """
    return data_root(root) / "MNIST" / "raw"


def read_idx(path: PathLike) -> NDArray[np.uint8]:
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


def load_mnist(split: str = "train", root: PathLike | None = None
               ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Load MNIST images and labels.

    Parameters
    ----------
    split : {"train", "test"}
        ``"train"``: the training images present (17,000 in the repository's
        copy); ``"test"``: the 10,000 test images.
    root : path, optional
        Folder holding ``MNIST/raw/*.gz``; defaults to
        :func:`~sgdlab.storage.data_root`: ``$SGDLAB_DATA``, else the checkout's
        ``data/`` (the shipped copy, used with no network), else the user data folder.
        Files missing there are downloaded into it through torchvision's
        ``MNIST`` where torchvision imports and its mirror answers.

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
    folder = mnist_dir(root)
    paths = [folder / name for name in FILES[check_split(split)]]
    missing = [p.name for p in paths if not p.is_file()]
    why = download("MNIST", MNIST_URL, data_root(root), split) if missing else None
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"MNIST {split} files missing from {folder}: {', '.join(missing)} ({why}). "
            f"Fetch them from the MNIST database ({MNIST_URL} or "
            f"http://yann.lecun.com/exdb/mnist/) and put them in {folder}, or pass root= / "
            "set SGDLAB_DATA to a folder containing MNIST/raw/."
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


#: The MNIST variants of Section IV, each as (side in pixels, digits kept or None for all).
MNIST_VARIANTS: dict[str, tuple[int, tuple[int, ...] | None]] = {
    "mnist": (28, None),
    "mnist7": (7, None),
    "mnist7-04": (7, (0, 1, 2, 3, 4)),
}


def load_variant(name: str, split: str = "train", root: PathLike | None = None
                 ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Load a variant of :data:`MNIST_VARIANTS`: :func:`load_mnist`, pooled and filtered.

    Parameters and returns as in :func:`load_mnist`, the images of side
    ``MNIST_VARIANTS[name][0]`` and only the digits it keeps.

    Raises
    ------
    ValueError
        If ``name`` is not a variant, or as :func:`load_mnist` does.
    """
    if name not in MNIST_VARIANTS:
        raise ValueError(f"unknown MNIST variant {name!r}; known: {', '.join(MNIST_VARIANTS)}")
    side, digits = MNIST_VARIANTS[name]
    images, labels = load_mnist(split, root)
    if side != images.shape[1]:
        images = pool(images, images.shape[1] // side)
    if digits is not None:
        keep = np.isin(labels, digits)
        images, labels = images[keep], labels[keep]
    return images, labels
