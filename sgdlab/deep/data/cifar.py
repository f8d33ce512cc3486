"""CIFAR-10 and CIFAR-100, read from their python-pickle batches.

This module's one job is the raw CIFAR images and labels: :data:`CIFAR`
describes the two data sets (A. Krizhevsky, 2009) and their files,
:func:`cifar_dir` is where their batches live and :func:`read_cifar` reads
a split, downloading missing batches through torchvision where it can.
Their pre-processing is :mod:`sgdlab.deep.data.preprocess`'s.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sgdlab._typing import PathLike
from sgdlab.storage import data_root

from ._download import download
from ._splits import check_split

__all__ = ["CIFAR", "CifarFiles", "cifar_dir", "read_cifar"]


@dataclass(frozen=True)
class CifarFiles:
    """Where a CIFAR data set comes from and how its python-pickle batches are laid out.

    Attributes
    ----------
    title : str
        Its usual name (``"CIFAR-10"``).
    folder : str
        The folder the archive extracts to, under :func:`~sgdlab.storage.data_root`.
    url : str
        The archive of the python version, from the data set's home page.
    train, test : tuple of str
        The batch files of each split, inside ``folder``.
    label_key : str
        The key of the labels in each batch.
    torchvision_class : str
        The torchvision dataset that downloads it.
    """

    title: str
    folder: str
    url: str
    train: tuple[str, ...]
    test: tuple[str, ...]
    label_key: str
    torchvision_class: str


#: The two CIFAR data sets (A. Krizhevsky, *Learning multiple layers of features
#: from tiny images*, 2009), as https://www.cs.toronto.edu/~kriz/cifar.html serves them.
CIFAR: dict[str, CifarFiles] = {
    "cifar10": CifarFiles(
        "CIFAR-10", "cifar-10-batches-py",
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        tuple(f"data_batch_{k}" for k in range(1, 6)), ("test_batch",), "labels", "CIFAR10"),
    "cifar100": CifarFiles(
        "CIFAR-100", "cifar-100-python",
        "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        ("train",), ("test",), "fine_labels", "CIFAR100"),
}


def _cifar_files(name: str) -> CifarFiles:
    if name not in CIFAR:
        raise ValueError(f"unknown CIFAR data set {name!r}; known: {', '.join(CIFAR)}")
    return CIFAR[name]


def cifar_dir(name: str, root: PathLike | None = None) -> Path:
    """The folder of the batches of ``name`` (``"cifar10"`` or ``"cifar100"``) under
    :func:`~sgdlab.storage.data_root`.

    Raises
    ------
    ValueError
        If ``name`` is not a CIFAR data set.
    """
    return data_root(root) / _cifar_files(name).folder


def _fetch(files: CifarFiles, split: str, base: Path, missing: list[str]) -> None:
    """Download through torchvision, or raise FileNotFoundError saying what to fetch."""
    why = download(files.torchvision_class, files.url, base, split)
    if why is None:
        return
    raise FileNotFoundError(
        f"{files.title} {split} files missing from {base / files.folder}: "
        f"{', '.join(missing)} ({why}). Fetch {files.url}, extract it into {base} "
        f"(tar xzf {files.url.rsplit('/', 1)[1]} -C {base}) so that {base / files.folder} "
        "holds the batches, or pass root= / set SGDLAB_DATA to a folder containing "
        f"{files.folder}/."
    )


def _read_batch(path: Path, label_key: str) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    with open(path, "rb") as fh:
        entry = pickle.load(fh, encoding="latin1")
    try:
        data = np.asarray(entry["data"], dtype=np.uint8)
        labels = np.asarray(entry[label_key], dtype=np.int64)
    except (KeyError, TypeError, IndexError):
        raise ValueError(f"path {path} is not a CIFAR batch: no 'data' and {label_key!r} "
                         "entries") from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.shape != data.shape[:1]:
        raise ValueError(f"path {path} is not a CIFAR batch: data {data.shape}, labels "
                         f"{labels.shape}")
    return data.reshape(-1, 3, 32, 32), labels


def read_cifar(name: str, split: str = "train", root: PathLike | None = None
               ) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Read the raw images and labels of CIFAR-10 or CIFAR-100.

    The python-pickle batches are read from :func:`cifar_dir`; when they are
    missing, torchvision's ``CIFAR10``/``CIFAR100`` download them there
    (``download=True``) where torchvision imports and the data set's server
    answers.

    Parameters
    ----------
    name : {"cifar10", "cifar100"}
    split : {"train", "test"}
        50,000 training or 10,000 test images.
    root : path, optional
        See :func:`~sgdlab.storage.data_root`.

    Returns
    -------
    images : ndarray of uint8, shape (n, 3, 32, 32)
        Pixels, channels (red, green, blue) first.
    labels : ndarray of int64, shape (n,)
        Classes 0-9, or the 100 fine classes 0-99.

    Raises
    ------
    ValueError
        If ``name`` or ``split`` is unknown, or a file is not a CIFAR batch.
    FileNotFoundError
        If files are missing and cannot be downloaded: it names the archive's
        URL and the folder to extract it into.
    """
    files = _cifar_files(name)
    check_split(split)
    folder = cifar_dir(name, root)
    names = files.train if split == "train" else files.test
    missing = [f for f in names if not (folder / f).is_file()]
    if missing:
        _fetch(files, split, folder.parent, missing)
    batches = [_read_batch(folder / f, files.label_key) for f in names]
    return (np.concatenate([b[0] for b in batches]),
            np.concatenate([b[1] for b in batches]))
