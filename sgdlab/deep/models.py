"""The paper's four small networks (Section IV; ../shared/SPEC.md, "Networks").

=================  ==================  ===========  =======================
name               input               classes      parameters
=================  ==================  ===========  =======================
``small-lenet``    MNIST 1x28x28       10           13,338
``small-fc``       MNIST 1x7x7         10           3,978
``tiny-fc``        MNIST 1x7x7, 0-4    5            917
``small-allcnn``   CIFAR 3x32x32       10 or 100    26,982 or 29,412
=================  ==================  ===========  =======================

Parameter counts include the BatchNorm weights and biases, not their running
statistics.  :func:`spec` tells what a network expects (input shape, data
sets and their numbers of classes, the paper's weight decay) and where each of
its parameter tensors lies in the flat parameter vector x
(:meth:`ModelSpec.layout`); :func:`build` makes a network by name;
:func:`from_checkpoint` rebuilds a trained one from a file.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from sgdlab import _validation as check
from sgdlab._typing import PathLike

__all__ = ["CHECKPOINT_KEYS", "NAMES", "SPECS", "ModelSpec", "ParameterSlice", "build",
           "count_parameters", "flat_parameters", "from_checkpoint", "spec"]


@dataclass(frozen=True)
class ParameterSlice:
    """Where one parameter tensor of a network lies in its flat parameter vector x.

    Attributes
    ----------
    name : str
        The tensor's name in ``model.named_parameters()`` and the state dict,
        e.g. ``"1.weight"``.
    shape : tuple of int
        The tensor's shape.
    start : int
        Index in x of its first entry; its entries follow in row-major order.
    """

    name: str
    shape: tuple[int, ...]
    start: int

    @property
    def stop(self) -> int:
        """Index in x one past the tensor's last entry."""
        return self.start + math.prod(self.shape)

    @property
    def slice(self) -> slice:
        """Where the tensor lies in the flat vector x, as ``x[s.slice].reshape(s.shape)``."""
        return slice(self.start, self.stop)

    def indices(self) -> NDArray[np.intp]:
        """The index in x of each entry of the tensor, an integer array of its shape."""
        return np.arange(self.start, self.stop).reshape(self.shape)


@dataclass(frozen=True)
class ModelSpec:
    """What a network of the paper expects, and how the paper trains it.

    Attributes
    ----------
    name : str
        The name :func:`build` takes.
    input_shape : tuple of int
        Shape of one input, channels first.
    dataset : str
        The data set of the paper's experiment (``"mnist"``, ``"mnist7"``,
        ``"mnist7-04"`` or ``"cifar10"``), a name :func:`~sgdlab.deep.data.registry.load` takes.
    classes : mapping of str to int
        Every data set the paper trains the network on, ``dataset`` first,
        with its number of classes: the network's number of outputs there.
    weight_decay : float
        The L2 penalty coefficient the paper trains it with (Section IV):
        1e-4 for small-allcnn, 0 for the MNIST networks.
    """

    name: str
    input_shape: tuple[int, ...]
    dataset: str
    classes: Mapping[str, int] = field(hash=False)
    weight_decay: float = 0.0

    @property
    def num_classes(self) -> int:
        """Number of classes of the spec's ``dataset``, the network's default number of outputs."""
        return self.classes[self.dataset]

    def num_classes_on(self, dataset: str) -> int:
        """Number of classes, and of the network's outputs, on ``dataset``.

        Raises
        ------
        ValueError
            If the paper does not train the network on ``dataset``.

        Examples
        --------
        >>> spec("small-allcnn").num_classes_on("cifar100")
        100
        """
        if dataset not in self.classes:
            raise ValueError(f"dataset {dataset!r} is not one {self.name} is trained on; "
                             f"known: {', '.join(self.classes)}")
        return self.classes[dataset]

    def layout(self, num_classes: int | None = None) -> dict[str, ParameterSlice]:
        """Where each parameter tensor of the network lies in its flat parameter vector x.

        x is the vector :func:`flat_parameters` returns, the tensors of
        ``model.parameters()`` one after another.

        Parameters
        ----------
        num_classes : int, optional
            Outputs of the network, as in :func:`build`; :attr:`num_classes`
            if omitted.

        Returns
        -------
        dict of str to ParameterSlice
            One entry per tensor, keyed by its name, in parameter order; the
            slices tile ``range(d)``.

        Raises
        ------
        ValueError
            If ``num_classes`` is not a positive integer.

        Examples
        --------
        >>> first = spec("tiny-fc").layout()["1.weight"]     # linear 49 -> 16
        >>> first.shape, first.slice, first.indices()[0, :3]
        ((16, 49), slice(0, 784, None), array([0, 1, 2]))
        >>> spec("tiny-fc").layout()["1.bias"].slice         # right after its weights
        slice(784, 800, None)
        """
        with torch.device("meta"):               # shapes only: no memory, no random draws
            net = build(self.name, num_classes)
        slices: dict[str, ParameterSlice] = {}
        start = 0
        for name, p in net.named_parameters():
            slices[name] = ParameterSlice(name, tuple(p.shape), start)
            start += p.numel()
        return slices


def _small_lenet(num_classes: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 8, 5), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(3, 3), nn.Dropout(0.1),
        nn.Conv2d(8, 16, 5), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.1),
        nn.Flatten(),
        nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.1),
        nn.Linear(128, num_classes),
    )


def _fc(hidden: int) -> Callable[[int], nn.Sequential]:
    def make(num_classes: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(49, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )
    return make


def _conv_bn_relu(c_in: int, c_out: int, kernel: int = 3, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2),
            nn.BatchNorm2d(c_out), nn.ReLU()]


def _small_allcnn(num_classes: int) -> nn.Sequential:
    widths = [(3, 12, 1), (12, 12, 1), (12, 12, 2), (12, 24, 1), (24, 24, 1), (24, 24, 2),
              (24, 24, 1), (24, 24, 1)]
    layers = [m for c_in, c_out, stride in widths for m in _conv_bn_relu(c_in, c_out, 3, stride)]
    layers += _conv_bn_relu(24, num_classes, kernel=1)
    return nn.Sequential(*layers, nn.AvgPool2d(8), nn.Flatten())


#: The spec of each network, by name.
SPECS: dict[str, ModelSpec] = {
    "small-lenet": ModelSpec("small-lenet", (1, 28, 28), "mnist", {"mnist": 10}),
    "small-fc": ModelSpec("small-fc", (1, 7, 7), "mnist7", {"mnist7": 10}),
    "tiny-fc": ModelSpec("tiny-fc", (1, 7, 7), "mnist7-04", {"mnist7-04": 5}),
    "small-allcnn": ModelSpec("small-allcnn", (3, 32, 32), "cifar10",
                              {"cifar10": 10, "cifar100": 100}, weight_decay=1e-4),
}
_BUILDERS: dict[str, Callable[[int], nn.Sequential]] = {
    "small-lenet": _small_lenet,
    "small-fc": _fc(64),
    "tiny-fc": _fc(16),
    "small-allcnn": _small_allcnn,
}
#: The names :func:`build` and :func:`spec` take.
NAMES: tuple[str, ...] = tuple(SPECS)


def spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of the network called ``name``.

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`NAMES`.
    """
    if name not in SPECS:
        raise ValueError(f"unknown model name {name!r}; known models: {', '.join(NAMES)}")
    return SPECS[name]


def build(name: str, num_classes: int | None = None) -> nn.Sequential:
    """Build one of the paper's networks (Section IV), freshly initialised.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`: ``"small-lenet"``, ``"small-fc"``, ``"tiny-fc"``,
        ``"small-allcnn"``.
    num_classes : int, optional
        Number of outputs; the network's default (``num_classes`` of its :class:`ModelSpec`)
        if omitted; 100 for small-allcnn on CIFAR-100 (:meth:`ModelSpec.num_classes_on`).

    Returns
    -------
    torch.nn.Sequential
        The network, on the CPU, in training mode; it takes a batch of inputs of
        shape ``(n, *spec(name).input_shape)`` and returns ``(n, num_classes)``
        logits.

    Raises
    ------
    ValueError
        If ``name`` is unknown or ``num_classes`` is not a positive integer.

    Examples
    --------
    >>> [count_parameters(build(n)) for n in NAMES]
    [13338, 3978, 917, 26982]
    >>> count_parameters(build("small-allcnn", num_classes=100))
    29412
    """
    model_spec = spec(name)
    classes = model_spec.num_classes if num_classes is None else num_classes
    classes = check.positive_int("num_classes", classes)
    return _BUILDERS[name](classes)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (BatchNorm running statistics excluded)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def flat_parameters(model: nn.Module) -> torch.Tensor:
    """All trainable parameters of ``model`` as one detached vector x (length d)."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters() if p.requires_grad])


#: Keys :func:`from_checkpoint` needs in a checkpoint (``sgdlab.deep.train`` writes more).
CHECKPOINT_KEYS: tuple[str, ...] = ("model", "num_classes", "state_dict")


def from_checkpoint(path: PathLike, device: str | torch.device | None = None
                    ) -> tuple[nn.Sequential, dict[str, Any]]:
    """Rebuild a network from a checkpoint written with :func:`torch.save`.

    Parameters
    ----------
    path : path
        A file holding a dict with at least the keys ``"model"`` (a name of
        :data:`NAMES`), ``"num_classes"`` and ``"state_dict"``, as
        ``sgdlab.deep.train`` writes them.  Read with ``weights_only=True``: tensors,
        numbers, strings and containers of them.
    device : str or torch.device, optional
        Where the network goes (:func:`sgdlab.deep.device.pick`).

    Returns
    -------
    model : torch.nn.Sequential
        The network with the saved weights and BatchNorm statistics, in
        evaluation mode.
    checkpoint : dict
        The whole checkpoint, for the other keys it holds.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a checkpoint dict, lacks a key of
        :data:`CHECKPOINT_KEYS`, names an unknown model, or its weights do not
        fit that model.
    """
    from .device import pick

    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"checkpoint {file} does not exist")
    dev = pick(device)
    try:
        checkpoint = torch.load(file, map_location=dev, weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError) as err:
        raise ValueError(f"path {file} is not a readable torch checkpoint ({err})") from None
    if not isinstance(checkpoint, dict):
        raise ValueError(f"path {file} holds a {type(checkpoint).__name__}, not a "
                         "checkpoint dict")
    missing = [key for key in CHECKPOINT_KEYS if key not in checkpoint]
    if missing:
        raise ValueError(f"checkpoint {file} lacks the keys {', '.join(missing)} (it has "
                         f"{', '.join(map(str, checkpoint)) or 'none'})")
    model = build(checkpoint["model"], checkpoint["num_classes"])
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as err:
        raise ValueError(f"checkpoint {file}: its state_dict does not fit "
                         f"{checkpoint['model']!r} ({err})") from None
    return model.to(dev).eval(), checkpoint
