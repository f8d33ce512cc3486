r"""Per-example gradients of a network, and passes over them (eq. 2).

This module's one job is the gradients :math:`g_k = \nabla f_k(x)` of the
cross-entropy loss of each example ``k`` that the diffusion matrix
:math:`D(x) = \frac1N\sum_k g_k g_k^\top - g g^\top` of eq. (2) is made of,
evaluated with the network in evaluation mode (BatchNorm running statistics,
no dropout) as the paper does.  :func:`per_example_gradients` computes them
with :mod:`torch.func` as one ``(N, d)`` tensor; :class:`Gradients` is what
:mod:`sgdlab.deep.diffusion` reads them through, one pass at a time.

Memory: the gradients of ``N`` examples are held as one float32 ``(N, d)``
tensor when ``4 N d`` bytes fit :data:`HOLD_BYTES` (3 GiB; small-lenet on all
60,000 MNIST images just fits), and are otherwise recomputed chunk by chunk
on every pass over them (:func:`from_model`).  :mod:`torch.func` works on
chunks of about :data:`CHUNK_BYTES` (256 MiB), counting ``3 d`` floats of
gradient and three times the network's activations per example.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torch.func import functional_call, grad, vmap

from sgdlab import _validation as check

from .device import pick

__all__ = ["BLOCK_ROWS", "CHUNK_BYTES", "HOLD_BYTES", "Gradients", "check_labelled_data",
           "check_model", "eval_mode", "from_array", "from_model", "per_example_gradients"]

#: Largest (N, d) float32 gradient tensor held at once; beyond it, passes recompute.
HOLD_BYTES = 3 * 2**30
#: Working memory of one chunk of per-example gradients or of one row chunk.
CHUNK_BYTES = 2**28
#: Rows of G read at once by a pass (:meth:`Gradients.blocks`; 27 MB for small-lenet).
BLOCK_ROWS = 512

_Chunks: TypeAlias = Callable[[], Iterator[torch.Tensor]]


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Context manager: ``model`` in evaluation mode, each module's mode restored afterwards.

    The paper's gradients are taken in evaluation mode (BatchNorm with its running
    statistics); a caller's training or evaluation mode, module by module, survives.
    """
    modes = [m.training for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, mode in zip(model.modules(), modes, strict=True):
            module.training = mode


def check_model(model: nn.Module) -> None:
    """Raise ``ValueError`` unless ``model`` is a ``torch.nn.Module`` with trainable parameters."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("model has no trainable parameters")


def check_labelled_data(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    """Raise ``ValueError`` unless x holds N >= 2 finite examples with labels y in model's classes.

    The number of classes is that of ``model``'s outputs on the first example.
    """
    if check.labelled_examples(x, y, None) < 2:
        raise ValueError(f"x must hold N >= 2 examples (D of eq. 2 is a covariance), got {len(x)}")
    param = next(model.parameters())
    with torch.no_grad(), eval_mode(model):
        out = model(x[:1].to(device=param.device, dtype=param.dtype))
    classes = out.shape[-1]
    check.labelled_examples(x, y, classes)


def _activation_floats(model: nn.Module, x0: torch.Tensor) -> int:
    """Floats of all leaf-module outputs on one example (sizes the gradient chunks)."""
    sizes: list[int] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: sizes.append(out.numel()))
             for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad(), eval_mode(model):
            model(x0)
    finally:
        for hook in hooks:
            hook.remove()
    return sum(sizes)


def _gradient_chunks(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                     chunk_size: int | None, device: torch.device) -> tuple[int, _Chunks]:
    """``d`` and a function yielding the per-example gradients chunk by chunk."""
    check_model(model)
    check_labelled_data(model, x, y)
    named = dict(model.named_parameters())
    trainable = {k: p.detach().to(device) for k, p in named.items() if p.requires_grad}
    frozen = {k: p.detach().to(device) for k, p in named.items() if not p.requires_grad}
    frozen |= {k: b.detach().to(device) for k, b in model.named_buffers()}
    d = sum(p.numel() for p in trainable.values())
    if chunk_size is None:
        x0 = x[:1].to(next(model.parameters()).device)
        chunk_size = max(1, CHUNK_BYTES // (4 * 3 * (d + _activation_floats(model, x0))))
    chunk_size = check.positive_int("chunk_size", chunk_size)

    def loss(params: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor
             ) -> torch.Tensor:
        out = functional_call(model, (params, frozen), (xi.unsqueeze(0),))
        return nn.functional.cross_entropy(out, yi.unsqueeze(0))

    per_example_grad = vmap(grad(loss), in_dims=(None, 0, 0))

    def chunks() -> Iterator[torch.Tensor]:
        with eval_mode(model):
            for start in range(0, x.shape[0], chunk_size):
                stop = min(start + chunk_size, x.shape[0])
                grads = per_example_grad(trainable, x[start:stop].to(device),
                                         y[start:stop].to(device))
                yield torch.cat([g.reshape(stop - start, -1) for g in grads.values()], dim=1)

    return d, chunks


def _collect(n: int, d: int, chunks: _Chunks, device: torch.device) -> torch.Tensor:
    """All the chunks of one pass as one float32 ``(n, d)`` tensor on ``device``."""
    out = torch.empty(n, d, dtype=torch.float32, device=device)
    start = 0
    for chunk in chunks():
        out[start:start + chunk.shape[0]] = chunk
        start += chunk.shape[0]
    return out


def per_example_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
                          chunk_size: int | None = None,
                          device: str | torch.device | None = None) -> torch.Tensor:
    r"""Gradients :math:`g_k = \nabla f_k(x)` of the cross-entropy of each example (eq. 2).

    Computed with :func:`torch.func.vmap` over :func:`torch.func.grad` of a
    :func:`torch.func.functional_call` of ``model`` in evaluation mode, as the
    paper evaluates D; the model's own mode and weights are left as they were.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier returning logits.
    x : torch.Tensor, shape (N, ...)
        Inputs.
    y : torch.Tensor, shape (N,), int64
        Labels in ``[0, classes)``.
    chunk_size : int, optional
        Examples per :func:`~torch.func.vmap` call; by default as many as fit
        :data:`CHUNK_BYTES`.
    device : str or torch.device, optional
        Where to compute (:func:`sgdlab.deep.device.pick`).

    Returns
    -------
    torch.Tensor, shape (N, d), float32
        Row ``k`` is :math:`g_k`, its entries in the order of
        ``model.parameters()`` (trainable ones), as
        :func:`sgdlab.deep.models.flat_parameters` orders the weights.

    Raises
    ------
    ValueError
        If ``x`` is not a finite floating ``(N, ...)`` tensor with ``N >= 2``
        (D of one example is zero), ``y`` not int64
        labels of shape ``(N,)`` within the model's classes, or ``chunk_size``
        not a positive integer.
    """
    dev = pick(device)
    d, chunks = _gradient_chunks(model, x, y, chunk_size, dev)
    return _collect(x.shape[0], d, chunks, dev)


@dataclass(frozen=True)
class Gradients:
    """Per-example gradients, held in memory or recomputed on each pass over them.

    Made by :func:`from_array` or :func:`from_model`, never directly.

    Attributes
    ----------
    n, d : int
        Examples and weights: G is ``(n, d)``.
    chunks : callable
        Each call starts a pass: it yields float32 ``(rows, d)`` blocks of
        consecutive examples, the whole held tensor at once or the chunks
        :mod:`torch.func` computes.
    mean : torch.Tensor, shape (d,), float64
        The full gradient g, on the device of the chunks.
    """

    n: int
    d: int
    chunks: _Chunks
    mean: torch.Tensor

    def blocks(self, rows: int = BLOCK_ROWS) -> Iterator[torch.Tensor]:
        """One pass over G in blocks of at most ``rows`` consecutive examples."""
        for chunk in self.chunks():
            yield from chunk.split(rows)


def _gradients(n: int, d: int, chunks: _Chunks, name: str) -> Gradients:
    """Wrap ``chunks`` with their mean, which is finite exactly when every entry is."""
    total = sum(part.sum(dim=0).to(torch.float64)      # float32 partial sums are fast
                for chunk in chunks() for part in chunk.split(BLOCK_ROWS))
    mean = total / n
    if not bool(torch.isfinite(mean).all()):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return Gradients(n, d, chunks, mean)


def from_array(grads: torch.Tensor | NDArray[np.floating], device: torch.device,
               name: str = "grads") -> Gradients:
    """Validate per-example gradients ``(N, d)`` and hold them on ``device``.

    Raises
    ------
    ValueError
        If ``grads`` is not a finite floating ``(N, d)`` array with ``N >= 2``
        and ``d >= 1``; the message names it ``name``.
    """
    g = torch.as_tensor(grads)
    if g.ndim != 2 or g.shape[0] < 2 or g.shape[1] < 1 or not g.is_floating_point():
        raise ValueError(f"{name} must be a floating (N, d) array with N >= 2, d >= 1, got "
                         f"{g.dtype} {tuple(g.shape)}")
    g = g.to(device)
    return _gradients(g.shape[0], g.shape[1], lambda: iter((g,)), name)


def from_model(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
               chunk_size: int | None, device: torch.device) -> Gradients:
    """The per-example gradients of ``model`` on ``(x, y)``, held when they fit :data:`HOLD_BYTES`.

    Otherwise each pass recomputes them chunk by chunk.  Arguments and errors
    as in :func:`per_example_gradients`.
    """
    d, chunks = _gradient_chunks(model, x, y, chunk_size, device)
    name = "the per-example gradients (check the model's weights)"
    if 4 * x.shape[0] * d <= HOLD_BYTES:
        return from_array(_collect(x.shape[0], d, chunks, device), device, name)
    return _gradients(x.shape[0], d, chunks, name)
