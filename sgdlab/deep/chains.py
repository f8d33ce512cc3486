"""Independent SGD chains of one network, trained at once (Section IV-D, Fig. 3).

``C`` chains, one per seed, of the same network are trained together with
:mod:`torch.func`: their parameters are stacked into leaf tensors of shape
``(C, ...)`` (:func:`torch.func.stack_module_state`) and a vmapped
:func:`torch.func.functional_call` evaluates every chain on its own
mini-batch.  :class:`torch.optim.SGD` acting on the stacked leaves is exactly
per-chain SGD, since its update (momentum, Nesterov) is elementwise.

BatchNorm runs in training mode with *batched buffers*: each chain's running
mean and variance are rows of a stacked buffer that the vmapped forward
updates in place from that chain's own batch, as a separate run would.
Snapshots evaluate the full gradient over all N examples two ways.  With
BatchNorm normalising by the statistics of the whole data set (training-mode
normalisation, running statistics left alone): the gradient of the loss
whose mini-batch estimates SGD follows; it vanishes along the directions
BatchNorm makes the loss invariant to (the bias of a layer followed by
BatchNorm, the scale of its weights).  And in eval mode, with the running
statistics: the loss :math:`f(x) = \\frac1N \\sum_k f_k(x)` of eq. (2), an
average of per-example losses, whose gradient has components along those
directions that SGD cannot reduce.

A chain with seed ``s`` starts from the network :func:`init_model` builds
for ``s`` and visits the data in the order of :func:`permutations` for
``s``, a fresh permutation each epoch, batches in that order, the last one
smaller when the batch size does not divide N.  :func:`plain_chain` trains
one chain the plain way (module, :class:`~torch.utils.data.DataLoader`,
optimizer) with the same seeds: the reference the vectorised path is checked
and timed against.

For tiny-fc and small-fc, ``gradients="closed-form"`` computes the same
gradients and BatchNorm updates without autograd, by the batched matrix
products and the written-out backward pass of
:class:`sgdlab.deep.closed_form.BatchNormFC`; the optimizer is the same.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap
from torch.utils.data import DataLoader, TensorDataset

from sgdlab import _validation as check

from .closed_form import BatchNormFC
from .device import num_threads, pick
from .models import ModelSpec, build, spec

__all__ = ["GRADIENTS", "Chains", "Snapshot", "init_model", "permutations", "plain_chain"]

#: How :class:`Chains` may compute its gradients.
GRADIENTS: tuple[str, ...] = ("torch.func", "closed-form")


def _seed_stream(seed: int, stream: int) -> int:
    """A 63-bit seed for one use (0: initial weights, 1: data order) of chain ``seed``."""
    state = np.random.SeedSequence([seed, stream]).generate_state(2, dtype=np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1


def init_model(name: str, seed: int) -> nn.Sequential:
    """The network ``name`` initialised from ``seed``, without touching torch's global RNG."""
    seed = check.seed("seed", seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_seed_stream(seed, 0))
        model = build(name)
    if any(isinstance(m, nn.Dropout) for m in model.modules()):
        raise ValueError(f"model {name!r} has dropout, which chains cannot share with a "
                         "single run; use a network without dropout")
    return model


def permutations(seed: int) -> torch.Generator:
    """The CPU generator whose successive ``randperm`` calls order each epoch of chain ``seed``."""
    return torch.Generator().manual_seed(_seed_stream(check.seed("seed", seed), 1))


def _check_data(model_spec: ModelSpec, x: torch.Tensor, y: torch.Tensor, batch_size: int
                ) -> tuple[int, int]:
    """Check the training set and batch size of a chain; return n and the batch size."""
    n = check.labelled_examples(x, y, model_spec.num_classes, shape=model_spec.input_shape)
    batch_size = check.positive_int("batch_size", batch_size)
    if batch_size > n:
        raise ValueError(f"batch_size = {batch_size} exceeds the {n} examples")
    return n, batch_size


@dataclass(frozen=True)
class Snapshot:
    """The state of every chain at the end of an epoch.

    Attributes
    ----------
    weights : ndarray, shape (C, d), float32
        The trainable parameters x of each chain, in ``model.parameters()`` order:
        tensor by tensor as :meth:`sgdlab.deep.models.ModelSpec.layout` says.
    gradient : ndarray, shape (C, d), float32
        The full gradient over all N examples, BatchNorm normalising by their
        statistics.
    loss : ndarray, shape (C,), float32
        The full loss, normalised the same way.
    eval_grad_norm : ndarray, shape (C,), float32
        Norm of the full gradient in eval mode (running statistics).
    eval_loss : ndarray, shape (C,), float32
        The full loss in eval mode, eq. (2)'s f(x).
    """

    weights: np.ndarray
    gradient: np.ndarray
    loss: np.ndarray
    eval_grad_norm: np.ndarray
    eval_loss: np.ndarray


class Chains:
    """``C`` independent SGD chains of one network, trained at once.

    Parameters
    ----------
    model : str
        A network name of :func:`sgdlab.deep.models.build` without dropout
        (``"tiny-fc"`` for Fig. 3).
    seeds : sequence of int
        One non-negative seed per chain; they must differ.
    x, y : torch.Tensor
        The whole training set, ``(N, *spec(model).input_shape)`` float inputs
        and ``(N,)`` int64 labels, kept resident (on ``device``).
    batch_size : int, default 128
    momentum : float, default 0.9
    nesterov : bool, default True
        Nesterov's momentum, as the paper trains (Section IV).
    device : str or torch.device, optional
        Where to train (:func:`sgdlab.deep.device.pick`).
    threads : int or None, default 1
        CPU threads torch uses inside :meth:`train_epoch` and :meth:`snapshot`
        (restored afterwards); None leaves torch's setting.  A small network's
        operations gain nothing from more, and on a shared CPU extra threads
        wait on each other: BatchNorm on 2 contended cores ran 50 times slower.
    gradients : {"torch.func", "closed-form"}, default "torch.func"
        Autograd through a vmapped ``functional_call``, or the written-out
        backward pass of :class:`sgdlab.deep.closed_form.BatchNormFC`
        (``Flatten-Linear-BatchNorm1d-ReLU-Linear`` networks only: tiny-fc,
        small-fc).  The same trajectory to round-off.

    Raises
    ------
    ValueError
        If an argument is out of range; the message names it.
    """

    def __init__(self, model: str, seeds: Sequence[int], x: torch.Tensor, y: torch.Tensor, *,
                 batch_size: int = 128, momentum: float = 0.9, nesterov: bool = True,
                 device: str | torch.device | None = None, threads: int | None = 1,
                 gradients: str = "torch.func") -> None:
        model_spec = spec(model)
        if gradients not in GRADIENTS:
            raise ValueError(f"gradients must be one of {', '.join(GRADIENTS)}, got {gradients!r}")
        self.threads = None if threads is None else check.positive_int("threads", threads)
        self.seeds = tuple(check.seed("seeds", s) for s in seeds)
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be a non-empty sequence of distinct seeds, got {seeds!r}")
        models = [init_model(model, s) for s in self.seeds]
        self._closed_form = (BatchNormFC.of(models[0], model) if gradients == "closed-form"
                             else None)
        self.n, self.batch_size = _check_data(model_spec, x, y, batch_size)
        self.device = pick(device)
        self.num_classes = model_spec.num_classes
        params, buffers = stack_module_state(models)
        self.params = {k: v.detach().to(self.device).requires_grad_() for k, v in params.items()}
        self.buffers = {k: v.to(self.device) for k, v in buffers.items()}
        self._base = copy.deepcopy(models[0]).to("meta")
        self._x = x.to(self.device)
        self._onehot = F.one_hot(y.to(self.device), self.num_classes).to(x.dtype)
        self._generators = [permutations(s) for s in self.seeds]
        self.optimizer = torch.optim.SGD(list(self.params.values()), lr=0.0,
                                         momentum=check.positive_scalar("momentum", momentum,
                                                                        allow_zero=True),
                                         nesterov=bool(nesterov))
        self._train_loss = vmap(self._loss)
        self._full = vmap(grad_and_value(self._loss), in_dims=(0, 0, None, None))

    @property
    def d(self) -> int:
        """Number of trainable parameters of one chain."""
        return sum(p[0].numel() for p in self.params.values())

    def _loss(self, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor],
              x: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy of one chain on a batch (labels one-hot)."""
        logits = functional_call(self._base, (params, buffers), (x,))
        # log-sum-exp minus the true class's logit: faster here than log_softmax
        return (torch.logsumexp(logits, dim=-1).sum() - (logits * onehot).sum()) / len(x)

    def train_epoch(self, lr: float, observe: Callable[[Chains], None] | None = None) -> None:
        """One epoch of SGD for every chain at learning rate ``lr``, each in its own data order.

        ``observe(self)``, when given, is called at every step between the gradients and
        the update: the mini-batch gradients are in the ``.grad`` of ``params``, the
        momentum before the update in ``optimizer``'s state (e.g.
        :func:`sgdlab.deep.fdr.step_terms`).
        """
        lr = check.positive_scalar("lr", lr)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        order = torch.stack([torch.randperm(self.n, generator=g) for g in self._generators])
        order = order.to(self.device)
        # one gather per epoch, by index_select: several times faster than x[order]
        flat = order.reshape(-1)
        xs = self._x.index_select(0, flat).reshape(*order.shape, *self._x.shape[1:])
        ys = self._onehot.index_select(0, flat).reshape(*order.shape, self.num_classes)
        self._base.train()
        with num_threads(self.threads):
            for start in range(0, self.n, self.batch_size):
                stop = start + self.batch_size
                self.optimizer.zero_grad()
                if self._closed_form is None:
                    self._train_loss(self.params, self.buffers, xs[:, start:stop],
                                     ys[:, start:stop]).sum().backward()
                else:
                    _, grads = self._closed_form.loss_and_grad(
                        self.params, self.buffers, xs[:, start:stop], ys[:, start:stop],
                        training=True, update=True)
                    for key, p in self.params.items():
                        p.grad = grads[key]
                if observe is not None:
                    observe(self)
                self.optimizer.step()

    def flat(self, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        """Stacked per-parameter tensors as one ``(C, d)`` matrix, in parameter order."""
        return torch.cat([t.detach().reshape(len(self.seeds), -1) for t in tensors.values()], 1)

    def snapshot(self) -> Snapshot:
        """Weights, full gradients and full losses of every chain (all N examples)."""
        params = {k: v.detach() for k, v in self.params.items()}
        with num_threads(self.threads):
            grads, loss = self._full_gradient(params, training=True)
            eval_grads, eval_loss = self._full_gradient(params, training=False)
        return Snapshot(weights=self.flat(params).cpu().numpy(),
                        gradient=self.flat(grads).cpu().numpy(),
                        loss=loss.detach().cpu().numpy(),
                        eval_grad_norm=self.flat(eval_grads).norm(dim=1).cpu().numpy(),
                        eval_loss=eval_loss.detach().cpu().numpy())

    def _full_gradient(self, params: dict[str, torch.Tensor], training: bool
                       ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Each chain's gradient and loss over all N examples, running statistics left alone."""
        x, onehot = self._x, self._onehot
        if self._closed_form is not None:
            c = len(self.seeds)
            loss, grads = self._closed_form.loss_and_grad(
                params, self.buffers, x.expand(c, *x.shape), onehot.expand(c, *onehot.shape),
                training=training)
            return grads, loss
        self._base.train(training)
        buffers = {k: v.clone() for k, v in self.buffers.items()} if training else self.buffers
        return self._full(params, buffers, x, onehot)

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs: parameters, buffers, momentum, data-order RNGs."""
        return {"seeds": self.seeds,
                "params": {k: v.detach().cpu() for k, v in self.params.items()},
                "buffers": {k: v.cpu() for k, v in self.buffers.items()},
                "optimizer": self.optimizer.state_dict(),
                "generators": [g.get_state() for g in self._generators]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` saved from chains with the same seeds."""
        if tuple(state["seeds"]) != self.seeds:
            raise ValueError(f"state holds seeds {tuple(state['seeds'])}, these chains have "
                             f"{self.seeds}")
        with torch.no_grad():
            for key, value in state["params"].items():
                self.params[key].copy_(value)
            for key, value in state["buffers"].items():
                self.buffers[key].copy_(value)
        self.optimizer.load_state_dict(state["optimizer"])
        for g, rng in zip(self._generators, state["generators"], strict=True):
            g.set_state(rng)


def plain_chain(model: str, seed: int, x: torch.Tensor, y: torch.Tensor, lrs: Sequence[float],
                *, batch_size: int = 128, momentum: float = 0.9,
                nesterov: bool = True) -> nn.Sequential:
    """Train one chain the plain way: a module, a DataLoader and :class:`torch.optim.SGD`.

    Same initial weights, data order and optimizer as chain ``seed`` of
    :class:`Chains`, so the two agree to round-off.  On the CPU only.

    Parameters
    ----------
    model : str
    seed : int
    x, y : torch.Tensor
        The training set.
    lrs : sequence of float
        The learning rate of each epoch (their number is the number of epochs).
    batch_size, momentum, nesterov
        As in :class:`Chains`.

    Returns
    -------
    torch.nn.Sequential
        The trained network (in training mode).
    """
    net = init_model(model, seed)
    n, batch_size = _check_data(spec(model), x, y, batch_size)
    generator = permutations(seed)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.0, momentum=momentum, nesterov=nesterov)
    data = TensorDataset(x.cpu(), y.cpu())
    net.train()
    for lr in lrs:
        for group in optimizer.param_groups:
            group["lr"] = check.positive_scalar("lrs", lr)
        order = torch.randperm(n, generator=generator).tolist()
        for xb, yb in DataLoader(data, batch_size=batch_size, sampler=order):
            optimizer.zero_grad()
            F.cross_entropy(net(xb), yb).backward()
            optimizer.step()
    return net
