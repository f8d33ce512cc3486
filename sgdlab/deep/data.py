"""The data sets of the paper's experiments, read offline where possible.

The repository carries real MNIST under ``data/MNIST/raw/`` (see
``data/README.md``: the full test split and the first 17,000 training
images).  Every data set is looked up under one root (:func:`~sgdlab.storage.data_root`): the
``root`` argument, else the environment variable ``SGDLAB_DATA``, else the
repository's ``data/`` folder.  MNIST lives in ``MNIST/raw/`` there, CIFAR-10
and CIFAR-100 in ``cifar-10-batches-py/`` and ``cifar-100-python/`` (the
python-pickle batches, the layout torchvision's ``CIFAR10``/``CIFAR100``
use); missing files of any of them are downloaded there through torchvision
where it imports and a network answers, and otherwise an error says what to
fetch and where to put it.  With no root and no network, MNIST comes from the
shipped copy, so a fresh clone builds offline; to train on all 60,000 MNIST
images (the full scale), point ``SGDLAB_DATA`` at a folder holding them or an
empty folder to download them into.

:func:`load` returns a data set by the name a network's
:class:`~sgdlab.deep.models.ModelSpec` gives, as resident tensors: MNIST
standardised with the statistics of its training split, CIFAR with global
contrast normalisation and ZCA whitening fitted on its training split
(Section IV).  :func:`augment` gives the flipped and cropped view of Fig. 2c.
"""

from __future__ import annotations

import functools
import gzip
import pickle
import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike, NDArray

from sgdlab._typing import PathLike
from sgdlab._validation import positive_int, positive_scalar
from sgdlab.deep._vision import torchvision_or_none, unavailable_reason
from sgdlab.storage import data_root

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
        Folder holding ``MNIST/raw/*.gz``; defaults to ``$SGDLAB_DATA``, then
        the repository's ``data/`` (the shipped copy, used with no network).
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
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = mnist_dir(root)
    paths = [folder / name for name in FILES[split]]
    missing = [p.name for p in paths if not p.is_file()]
    why = _download("MNIST", MNIST_URL, data_root(root), split) if missing else None
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


#: MNIST variants of Section IV: (side in pixels, digits kept or None for all).
MNIST_VARIANTS: dict[str, tuple[int, tuple[int, ...] | None]] = {
    "mnist": (28, None),
    "mnist7": (7, None),
    "mnist7-04": (7, (0, 1, 2, 3, 4)),
}


def _mnist_variant(name: str, split: str, root: PathLike | None
                   ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    side, digits = MNIST_VARIANTS[name]
    images, labels = load_mnist(split, root)
    if side != images.shape[1]:
        images = pool(images, images.shape[1] // side)
    if digits is not None:
        keep = np.isin(labels, digits)
        images, labels = images[keep], labels[keep]
    return images, labels


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
#: Every name :func:`load` takes.
DATASETS: tuple[str, ...] = (*MNIST_VARIANTS, *CIFAR)
#: Global contrast normalisation scales each image to this Euclidean norm
#: (Goodfellow et al., 2013, the pre-processing of the All-CNN paper the
#: small-allcnn network comes from); 55 makes the mean squared pixel about 1.
GCN_SCALE = 55.0
#: The regulariser ("filter bias") added to the covariance's eigenvalues by ZCA
#: whitening, in the same pre-processing.
ZCA_BIAS = 0.1


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


def _online(url: str, timeout: float = 3.0) -> bool:
    host = url.split("/")[2]
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def _download(torchvision_class: str, url: str, base: Path, split: str) -> str | None:
    """Download a split through torchvision into ``base``; None on success, else why not."""
    torchvision = torchvision_or_none()
    if torchvision is None:
        return f"sgdlab downloads through torchvision, and here {unavailable_reason()}"
    if not _online(url):
        return f"torchvision could not download it: {url.split('/')[2]} does not answer"
    base.mkdir(parents=True, exist_ok=True)
    try:
        getattr(torchvision.datasets, torchvision_class)(str(base), train=split == "train",
                                                         download=True)
    except (OSError, RuntimeError) as err:
        return f"torchvision's download failed ({err})"
    return None


def _fetch(files: CifarFiles, split: str, base: Path, missing: list[str]) -> None:
    """Download through torchvision, or raise FileNotFoundError saying what to fetch."""
    why = _download(files.torchvision_class, files.url, base, split)
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
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = cifar_dir(name, root)
    names = files.train if split == "train" else files.test
    missing = [f for f in names if not (folder / f).is_file()]
    if missing:
        _fetch(files, split, folder.parent, missing)
    batches = [_read_batch(folder / f, files.label_key) for f in names]
    return (np.concatenate([b[0] for b in batches]),
            np.concatenate([b[1] for b in batches]))


def global_contrast_normalize(images: ArrayLike, scale: float = GCN_SCALE
                              ) -> NDArray[np.float64]:
    """Global contrast normalisation: each image centred and scaled to norm ``scale``.

    Parameters
    ----------
    images : array_like, shape (n, ...)
        One image per row; flattened.
    scale : float
        The Euclidean norm of each normalised image (:data:`GCN_SCALE`).

    Returns
    -------
    ndarray, shape (n, d)
        Each row has mean 0 and norm ``scale``; a constant image becomes 0.

    Raises
    ------
    ValueError
        If ``scale`` is not positive or an image has non-finite pixels.
    """
    scale = positive_scalar("scale", scale)
    x = np.array(images, dtype=np.float64, ndmin=2)
    x = x.reshape(len(x), -1)
    if not np.all(np.isfinite(x)):
        raise ValueError("images contain NaN or infinite pixels")
    x -= x.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(x, axis=1, keepdims=True) / scale
    norms[norms < 1e-8] = 1.0
    x /= norms
    return x


@dataclass(frozen=True)
class Whitening:
    """A ZCA whitening, fitted by :func:`zca_fit`.

    It maps ``x`` to ``W (x - mean)`` with ``W = U diag((lambda + bias)^(-1/2)) U^T``,
    ``lambda, U`` the eigenvalues and eigenvectors of the covariance of the
    fitted data; directions without variance are scaled by ``bias^(-1/2)``.

    Attributes
    ----------
    mean : ndarray, shape (d,)
    axes : ndarray, shape (d, r)
        The eigenvectors of non-zero variance.
    variances : ndarray, shape (r,)
        Their eigenvalues.
    bias : float
    """

    mean: NDArray[np.float64]
    axes: NDArray[np.float64]
    variances: NDArray[np.float64]
    bias: float

    def __call__(self, x: ArrayLike, chunk: int = 8192) -> NDArray[np.float32]:
        """Whiten rows ``x`` (shape (n, d)), ``chunk`` rows at a time, into float32."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.mean):
            raise ValueError(f"x must have shape (n, {len(self.mean)}), got {x.shape}")
        iso = 1 / np.sqrt(self.bias)
        shrink = 1 / np.sqrt(self.variances + self.bias) - iso
        out = np.empty(x.shape, dtype=np.float32)
        for start in range(0, len(x), chunk):
            xc = x[start:start + chunk] - self.mean
            out[start:start + chunk] = iso * xc + ((xc @ self.axes) * shrink) @ self.axes.T
        return out


def zca_fit(x: ArrayLike, bias: float = ZCA_BIAS) -> Whitening:
    """Fit ZCA whitening to the rows of ``x``.

    The eigen-decomposition of the covariance (1/n) sum (x_k - m)(x_k - m)^T
    comes from :func:`scipy.linalg.eigh` of the smaller of the d x d
    covariance and the n x n Gram matrix, so that a fit to fewer examples than
    dimensions is cheap; eigenvalues below the rank threshold
    (lambda_max * max(n, d) * float64 eps) count as zero.

    Parameters
    ----------
    x : array_like, shape (n, d)
    bias : float
        Added to every eigenvalue before the inverse square root
        (:data:`ZCA_BIAS`); the whitened covariance is
        U diag(lambda / (lambda + bias)) U^T, the identity as ``bias`` -> 0 on
        the directions the data span.

    Raises
    ------
    ValueError
        If ``x`` is not a finite (n, d) array with n >= 2, or ``bias`` is not positive.
    """
    bias = positive_scalar("bias", bias)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"x must be a finite (n, d) array with n >= 2, got shape {x.shape}")
    n, d = x.shape
    mean = x.mean(axis=0)
    xc = x - mean
    if n >= d:
        variances, axes = scipy.linalg.eigh(xc.T @ xc / n)
    else:
        variances, left = scipy.linalg.eigh(xc @ xc.T / n)
        axes = xc.T @ left
    keep = variances > variances.max() * max(n, d) * np.finfo(np.float64).eps
    variances, axes = variances[keep], axes[:, keep]
    axes /= np.linalg.norm(axes, axis=0)
    return Whitening(mean, axes, variances, bias)


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
    train_images, train_labels = _mnist_variant(name, "train", root)
    images, labels = ((train_images, train_labels) if split == "train"
                      else _mnist_variant(name, split, root))
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
        contrast-normalised (:func:`global_contrast_normalize`), then
        ZCA-whitened (:func:`zca_fit`) with the fit to the whole training
        split, for either split (Section IV); the fit is computed once per
        process and data folder.
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
    from .device import pick

    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if n is not None:
        n = positive_int("n", n)
    dev = pick(device)
    images, labels = (_cifar if name in CIFAR else _mnist)(name, split, root, n)
    return (torch.as_tensor(images, dtype=torch.float32).to(dev),
            torch.as_tensor(labels).to(dev))


def augment(x: torch.Tensor, *, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """The augmented view of Fig. 2c: random horizontal flips and padded random crops.

    Each image is flipped left-right with probability 1/2, zero-padded by
    ``pad`` pixels on every side and cropped back to its size at an offset
    drawn uniformly from the ``(2 pad + 1)^2`` possible ones, all at once on
    the device of ``x``.

    Parameters
    ----------
    x : torch.Tensor, shape (n, channels, height, width)
    generator : torch.Generator
        The source of the random flips and offsets; the same seed gives the
        same view on any device of ``x``.
    pad : int
        Padding in pixels (4 in the paper's augmentation); 0 flips only.

    Returns
    -------
    torch.Tensor
        Same shape, dtype and device as ``x``.

    Raises
    ------
    ValueError
        If ``x`` is not a 4-D tensor, ``generator`` not a torch.Generator or
        ``pad`` not a non-negative integer.
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"x must be a tensor of shape (n, channels, height, width), got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {generator!r}")
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)) or pad < 0:
        raise ValueError(f"pad must be a non-negative integer, got {pad!r}")
    n, channels, height, width = x.shape
    flip = torch.rand(n, generator=generator, device=generator.device) < 0.5
    offset = torch.randint(0, 2 * pad + 1, (2, n), generator=generator, device=generator.device)
    flip, offset = flip.to(x.device), offset.to(x.device)
    padded = F.pad(torch.where(flip[:, None, None, None], x.flip(-1), x), (pad,) * 4)
    rows = offset[0, :, None] + torch.arange(height, device=x.device)
    cols = offset[1, :, None] + torch.arange(width, device=x.device)
    return padded[torch.arange(n, device=x.device)[:, None, None, None],
                  torch.arange(channels, device=x.device)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]
