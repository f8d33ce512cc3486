r"""Yaida's FDR1 measured on the paper's networks, tensor by tensor, as a test of stationarity.

:func:`measure` trains the chains of a :class:`~sgdlab.deep.runs.RunConfig` (the
configuration of Fig. 3's runs, or a constant learning rate with
``burn_in_lr = lr``) and records at every step, for every chain and every
parameter tensor, the terms of FDR1 (:mod:`sgdlab.core.fdr`): :math:`x\cdot g`,
:math:`|g|^2`, :math:`v\cdot g`, :math:`|v|^2`, with :math:`g` the mini-batch
gradient the step uses and :math:`v` PyTorch's momentum buffer before it.  Their
epoch means give both sides of eq. (FDR1) for every tensor: the relation holds
coordinate by coordinate, so for every block of the weights at stationarity.

A network whose first layer feeds BatchNorm (tiny-fc, small-fc) has a training
loss invariant to the scale of each row of that layer's weights, so
:math:`x\cdot g = 0` there at every step while the right side is positive: FDR1
cannot hold for that block, whose norm grows for ever without weight decay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from sgdlab.core.fdr import batch_means, fdr1_rhs
from sgdlab.sweep import sweep

from .chains import Chains
from .data import load
from .models import spec
from .runs import RunConfig

__all__ = ["TERMS", "FDR1Run", "measure", "measure_all", "step_terms"]

#: The per-step terms :func:`step_terms` returns, in order.
TERMS: tuple[str, ...] = ("x_dot_g", "g_sq", "v_dot_g", "v_sq")


def step_terms(chains: Chains) -> torch.Tensor:
    r""":math:`x\cdot g, |g|^2, v\cdot g, |v|^2` of every chain and parameter tensor, now.

    Called between the gradients and the update (``Chains.train_epoch(lr, observe=...)``);
    :math:`v` is the momentum buffer before the update, 0 at the first step.

    Returns
    -------
    torch.Tensor, shape (C, n_tensors, 4), float64
    """
    rows = []
    for p in chains.params.values():
        if p.grad is None:
            raise ValueError("step_terms needs the gradients: call it after backward")
        x, g = p.detach().flatten(1), p.grad.flatten(1)
        buf = chains.optimizer.state.get(p, {}).get("momentum_buffer")
        v = torch.zeros_like(x) if buf is None else buf.flatten(1)
        # products in the training precision, sums in float64
        rows.append(torch.stack([(a * b).sum(1, dtype=torch.float64)
                                 for a, b in ((x, g), (g, g), (v, g), (v, v))], 1))
    return torch.stack(rows, 1)


@dataclass(frozen=True)
class FDR1Run:
    """Both sides of FDR1 per epoch, chain and parameter tensor (:func:`measure`).

    Attributes
    ----------
    config : RunConfig
    tensors : tuple of str
        The parameter tensors, in order (:meth:`~sgdlab.deep.models.ModelSpec.layout`).
    lhs, rhs : ndarray, shape (epochs, C, n_tensors)
        Epoch means of :math:`x\\cdot g` and of :func:`~sgdlab.core.fdr.fdr1_rhs`.
    sq_norm : ndarray, shape (epochs + 1, C, n_tensors)
        :math:`|x|^2` of each tensor at the start and after every epoch.
    """

    config: RunConfig
    tensors: tuple[str, ...]
    lhs: np.ndarray
    rhs: np.ndarray
    sq_norm: np.ndarray

    def sides(self, tensors: Sequence[str] | None = None, start: int | None = None
              ) -> tuple[tuple[float, float], ...]:
        """Both sides of FDR1 and their residual over the epochs from ``start`` on.

        Each as (mean, standard error) by :func:`~sgdlab.core.fdr.batch_means` with the
        epochs of every chain as batches, summed over ``tensors`` (all when None);
        ``start`` defaults to half-way.

        Returns
        -------
        (lhs, rhs, residual) : three (mean, standard error) pairs
        """
        cols = (slice(None) if tensors is None else
                [self.tensors.index(t) for t in tensors])
        first = len(self.lhs) // 2 if start is None else start
        lhs, rhs = (a[first:][..., cols].sum(-1) for a in (self.lhs, self.rhs))
        return tuple(batch_means(x, len(x)) for x in (lhs, rhs, lhs - rhs))

    def to_json(self) -> dict[str, Any]:
        """The run as a JSON object (:func:`sgdlab.sweep.sweep`'s results)."""
        return {"config": asdict(self.config), "tensors": list(self.tensors),
                "lhs": self.lhs.tolist(), "rhs": self.rhs.tolist(),
                "sq_norm": self.sq_norm.tolist()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FDR1Run:
        """The inverse of :meth:`to_json`."""
        return cls(config=RunConfig(**data["config"]), tensors=tuple(data["tensors"]),
                   lhs=np.asarray(data["lhs"]), rhs=np.asarray(data["rhs"]),
                   sq_norm=np.asarray(data["sq_norm"]))


def measure(config: RunConfig, *, device: str | torch.device | None = None) -> FDR1Run:
    """Train the chains of ``config`` (burn-in included) and record FDR1 at every step.

    Same chains as :func:`sgdlab.deep.runs.record` makes for ``config`` (seeds,
    data, learning rates), without the snapshots.

    Parameters
    ----------
    config : RunConfig
    device : str or torch.device, optional
    """
    if not isinstance(config, RunConfig):
        raise ValueError(f"config must be a RunConfig, got {type(config).__name__}")
    x, y = load(spec(config.model).dataset, "train", n=config.n, device=device)
    chains = Chains(config.model, config.seeds, x, y, batch_size=config.batch_size,
                    momentum=config.momentum, nesterov=config.nesterov, device=device)

    def norms() -> np.ndarray:
        return np.stack([p.detach().double().flatten(1).square().sum(1).cpu().numpy()
                         for p in chains.params.values()], 1)

    lhs, rhs, sq_norm = [], [], [norms()]
    steps: list[torch.Tensor] = []
    for epoch in range(config.total):
        steps.clear()
        lr = config.lr_at(epoch)
        chains.train_epoch(lr, observe=lambda c: steps.append(step_terms(c)))
        terms = torch.stack(steps).cpu().numpy()            # (steps, C, tensors, 4)
        lhs.append(terms[..., 0].mean(axis=0))
        rhs.append(fdr1_rhs(terms[..., 1], terms[..., 2], terms[..., 3], lr, config.momentum,
                            config.nesterov).mean(axis=0))
        sq_norm.append(norms())
    return FDR1Run(config=config, tensors=tuple(spec(config.model).layout()),
                   lhs=np.array(lhs), rhs=np.array(rhs), sq_norm=np.array(sq_norm))


def _point(config: Mapping[str, Any]) -> dict[str, Any]:
    """One configuration of :func:`measure_all`'s sweep."""
    return measure(RunConfig(**config)).to_json()


def measure_all(configs: Sequence[RunConfig], **kwargs: Any) -> list[FDR1Run]:
    """:func:`measure` over ``configs`` through :func:`sgdlab.sweep.sweep` (name ``"fdr1"``).

    Each run is kept in the runs folder by its configuration and not made again;
    ``kwargs`` go to :func:`~sgdlab.sweep.sweep` (``backend="ray"`` on a cluster).
    """
    grid = [asdict(c) for c in configs]
    return [FDR1Run.from_json(r) for r in sweep(_point, grid, name="fdr1", **kwargs)]
