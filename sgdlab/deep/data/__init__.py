"""The data sets of the paper's experiments, read offline where possible.

The repository carries real MNIST under ``data/MNIST/raw/`` (see ``data/README.md``: the
full test split and the first 17,000 training images). Every data set is looked up under
one root (:func:`~sgdlab.storage.data_root`): the ``root`` argument, else the
environment variable ``SGDLAB_DATA``, else the checkout's ``data/`` folder, else the
user data folder. MNIST lives in ``MNIST/raw/`` there, CIFAR-10 and CIFAR-100 in
``cifar-10-batches-py/`` and ``cifar-100-python/`` (the python-pickle batches, the
layout torchvision's ``CIFAR10``/``CIFAR100`` use); missing files of any of them are
downloaded there through torchvision where it imports and a network answers, and
otherwise an error says what to fetch and where to put it. In a checkout, with no root
and no network, MNIST comes from the shipped copy, so a fresh clone builds offline; to train on all
60,000 MNIST images (the full scale), point ``SGDLAB_DATA`` at a folder holding them or
an empty folder to download them into.

:func:`~sgdlab.deep.data.registry.load` returns a data set by the name a network's
:class:`~sgdlab.deep.models.ModelSpec` gives, as resident tensors: MNIST
standardised with the statistics of its training split, CIFAR with global
contrast normalisation and ZCA whitening fitted on its training split
(Section IV).  :func:`~sgdlab.deep.data.augmentation.augment` gives the flipped and
cropped view of Fig. 2c.

Modules, one job each (their public names are re-exported here, each imported on first
use, so that the NumPy-only modules load without torch):

- :mod:`~sgdlab.deep.data.mnist`: the idx files of MNIST and its variants.
- :mod:`~sgdlab.deep.data.cifar`: the python-pickle batches of CIFAR-10/100.
- :mod:`~sgdlab.deep.data.preprocess`: global contrast normalisation and ZCA whitening.
- :mod:`~sgdlab.deep.data.registry`: ``load``, every data set by name.
- :mod:`~sgdlab.deep.data.augmentation`: the augmented view of Fig. 2c.
"""

import importlib
from typing import TYPE_CHECKING, Any

_MODULE = {
    "augment": "augmentation",
    **dict.fromkeys(("CIFAR", "CifarFiles", "cifar_dir", "read_cifar"), "cifar"),
    **dict.fromkeys(("FILES", "MNIST_URL", "MNIST_VARIANTS", "load_mnist", "load_variant",
                     "mnist_dir", "pool", "read_idx"), "mnist"),
    **dict.fromkeys(("GCN_SCALE", "ZCA_BIAS", "Whitening", "global_contrast_normalize",
                     "zca_fit"), "preprocess"),
    **dict.fromkeys(("DATASETS", "load"), "registry"),
}
__all__ = ["CIFAR", "DATASETS", "FILES", "GCN_SCALE", "MNIST_URL", "MNIST_VARIANTS", "ZCA_BIAS",
           "CifarFiles", "Whitening", "augment", "cifar_dir", "global_contrast_normalize",
           "load", "load_mnist", "load_variant", "mnist_dir", "pool", "read_cifar", "read_idx",
           "zca_fit"]

if TYPE_CHECKING:
    from .augmentation import augment
    from .cifar import CIFAR, CifarFiles, cifar_dir, read_cifar
    from .mnist import (
        FILES,
        MNIST_URL,
        MNIST_VARIANTS,
        load_mnist,
        load_variant,
        mnist_dir,
        pool,
        read_idx,
    )
    from .preprocess import GCN_SCALE, ZCA_BIAS, Whitening, global_contrast_normalize, zca_fit
    from .registry import DATASETS, load


def __getattr__(name: str) -> Any:
    if name in _MODULE:
        return getattr(importlib.import_module(f"{__name__}.{_MODULE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return [*__all__, "augmentation", "cifar", "mnist", "preprocess", "registry"]
