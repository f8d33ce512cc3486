r"""Where the directions of D(x) come from: blocks, BatchNorm, classes, eigenspaces (eq. 2).

This module's one job is to take the diffusion matrix
:math:`D = \frac1N G_c^\top G_c` of eq. (2) apart, from the ``(N, d)``
per-example gradients :math:`G` (:mod:`sgdlab.deep.gradients`):

- :func:`block_stats`: the diagonal block of D of each parameter tensor
  (:meth:`~sgdlab.deep.models.ModelSpec.layout`), its trace and rank;
- :func:`training_mode_gradients`: the gradients with BatchNorm normalising by
  the statistics of the whole data set, as in the snapshots of
  :class:`~sgdlab.deep.chains.Chains`, differentiated through those
  statistics; the loss is then invariant to the bias of a layer followed by
  BatchNorm, so those directions of the evaluation-mode D are absent;
- :func:`rescale_batchnorm`: a change of weights that leaves the network's
  function unchanged and scales the gradients of one layer by ``1 / alpha``;
- :func:`class_split`: the between-class part of D (Papyan, 2020), of rank at
  most ``C - 1``;
- :func:`random_overlap_edge`: how close two random ``k``-dimensional
  subspaces of :math:`\mathbb R^d` are, the control of principal angles
  between eigenspaces of D (Remark 13).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torch.func import functional_call, jacrev

from sgdlab import _validation as check

from .device import pick
from .diffusion import gram_eigenvalues
from .eigenspectrum import numerical_rank
from .gradients import per_example_gradients
from .models import ParameterSlice

__all__ = ["BlockStat", "ClassSplit", "biases_before_batchnorm", "block_stats", "class_split",
           "random_overlap_edge", "rescale_batchnorm", "training_mode_gradients"]


@dataclass(frozen=True)
class BlockStat:
    """The diagonal block of D(x) of one parameter tensor (:func:`block_stats`).

    Attributes
    ----------
    name : str
        The tensor's name in ``model.named_parameters()``.
    size : int
        Its number of entries, the block's size.
    trace : float
        The trace of the block, its share of :math:`\\operatorname{tr} D`.
    rank : int
        The block's rank by the paper's rule (footnote 1) at the block's size.
    """

    name: str
    size: int
    trace: float
    rank: int


def _gradients(grads: torch.Tensor | NDArray[np.floating]) -> torch.Tensor:
    g = torch.as_tensor(grads)
    if g.ndim != 2 or g.shape[0] < 2 or not g.is_floating_point():
        raise ValueError(f"grads must be a floating (N, d) array with N >= 2, got "
                         f"{g.dtype} {tuple(g.shape)}")
    return g


def block_stats(grads: torch.Tensor | NDArray[np.floating],
                layout: dict[str, ParameterSlice], *,
                device: str | torch.device | None = None) -> list[BlockStat]:
    r"""Trace and rank of each diagonal block :math:`D_{bb}` of D(x), one per parameter tensor.

    :math:`D_{bb}` is the covariance of the gradients' columns of tensor ``b``;
    the traces add up to :math:`\operatorname{tr} D`. The rank is that of
    :func:`~sgdlab.deep.eigenspectrum.numerical_rank` at the block's size, from
    its ``min(N, size)`` eigenvalues (:func:`~sgdlab.deep.diffusion.gram_eigenvalues`).

    Parameters
    ----------
    grads : torch.Tensor or ndarray, shape (N, d)
    layout : dict of str to ParameterSlice
        :meth:`sgdlab.deep.models.ModelSpec.layout`, tiling ``range(d)``.
    device : str or torch.device, optional

    Returns
    -------
    list of BlockStat
        In the order of ``layout``.

    Raises
    ------
    ValueError
        If the layout does not tile the gradients' ``d`` columns.
    """
    g = _gradients(grads)
    slices = list(layout.values())
    if [s.start for s in slices[1:]] != [s.stop for s in slices[:-1]] or \
            not slices or slices[0].start != 0 or slices[-1].stop != g.shape[1]:
        raise ValueError(f"layout must tile the {g.shape[1]} columns of grads")
    out = []
    for s in slices:
        block = g[:, s.slice]
        eigenvalues = gram_eigenvalues(block, device=device)
        rank = numerical_rank(eigenvalues, block.shape[1]) if eigenvalues[0] > 0 else 0
        out.append(BlockStat(s.name, block.shape[1], float(eigenvalues.sum()), rank))
    return out


def _batchnorms(model: nn.Module) -> dict[str, nn.modules.batchnorm._BatchNorm]:
    return {name: m for name, m in model.named_modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm)}


def training_mode_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
                            chunk_size: int = 256,
                            device: str | torch.device | None = None) -> torch.Tensor:
    r"""Per-example gradients with BatchNorm normalising by the statistics of all of ``x``.

    The loss of example ``k`` is :math:`\ell_k(w) = L_k(w, s(w))`, with
    :math:`s(w)` the mean and (biased) variance of every BatchNorm layer's
    input over the ``N`` examples, as BatchNorm computes them in training mode
    on one batch of all ``N`` (the normalisation of the snapshots of
    :class:`~sgdlab.deep.chains.Chains`; dropout off), so that their mean is
    the gradient of that full-batch loss.  The chain rule through the
    statistics gives :math:`g_k = \partial_w L_k + (\partial_s L_k)\,J_s`: the
    first two factors per example (:func:`torch.func.vmap`, BatchNorm in
    evaluation mode with :math:`s(w)` as its running statistics), the Jacobian
    :math:`J_s` of the statistics once (:func:`torch.func.jacrev`, one
    backward pass over the ``N`` examples per statistic).  The first factor is
    :func:`~sgdlab.deep.gradients.per_example_gradients` with :math:`s(w)` as
    BatchNorm's running statistics, the second follows from its gradients
    with respect to BatchNorm's own weight and bias.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier, every parameter trainable.
    x : torch.Tensor, shape (N, ...)
    y : torch.Tensor, shape (N,), int64
    chunk_size : int, default 256
        Examples per :func:`~torch.func.vmap` call, and statistics per
        backward pass of :func:`~torch.func.jacrev`.
    device : str or torch.device, optional

    Returns
    -------
    torch.Tensor, shape (N, d), float32
        Rows in the order of ``model.parameters()``, as
        :func:`~sgdlab.deep.gradients.per_example_gradients`.

    Raises
    ------
    ValueError
        If the model has no BatchNorm layer, a frozen parameter, or bad data.
    """
    dev = pick(device)
    check.labelled_examples(x, y, None)
    chunk_size = check.positive_int("chunk_size", chunk_size)
    if not _batchnorms(model) or not all(p.requires_grad for p in model.parameters()):
        raise ValueError("model must have BatchNorm layers and only trainable parameters")
    net = copy.deepcopy(model).to(dev).eval()
    norms = _batchnorms(net)
    params = {k: p.detach() for k, p in net.named_parameters()}
    buffers = {k: b.detach() for k, b in net.named_buffers()}
    x, y = x.to(dev), y.to(dev)
    keys = [f"{name}.running_{stat}" for name in norms for stat in ("mean", "var")]

    def statistics(p: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        seen: dict[str, torch.Tensor] = {}

        def record(name: str) -> Callable[[nn.Module, tuple[torch.Tensor, ...]], None]:
            def hook(_module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
                dims = [0, *range(2, args[0].ndim)]
                seen[f"{name}.running_mean"] = args[0].mean(dims)
                seen[f"{name}.running_var"] = args[0].var(dims, unbiased=False)
            return hook

        handles = [m.register_forward_pre_hook(record(name)) for name, m in norms.items()]
        try:
            for m in norms.values():
                m.train()
            scratch = {k: b.clone() for k, b in buffers.items()}   # running statistics left alone
            functional_call(net, (p, scratch), (x,))
        finally:
            for h in handles:
                h.remove()
            net.eval()
        return seen

    def flat_statistics(p: dict[str, torch.Tensor]) -> torch.Tensor:
        seen = statistics(p)
        return torch.cat([seen[k] for k in keys])

    stats = statistics(params)
    with torch.no_grad():
        for key, value in stats.items():
            net.get_buffer(key).copy_(value)
    direct = per_example_gradients(net, x, y, chunk_size=chunk_size, device=dev)
    jac = jacrev(flat_statistics, chunk_size=chunk_size)(params)
    jacobian = torch.cat([jac[k].reshape(jac[k].shape[0], -1) for k in params], dim=1)
    offsets: dict[str, slice] = {}
    for name, p in params.items():
        start = max((o.stop for o in offsets.values()), default=0)
        offsets[name] = slice(start, start + p.numel())
    through = []
    for name, m in norms.items():
        gamma, var = params[f"{name}.weight"], stats[f"{name}.running_var"] + m.eps
        through.append(-gamma / torch.sqrt(var) * direct[:, offsets[f"{name}.bias"]])
        through.append(-gamma / (2 * var) * direct[:, offsets[f"{name}.weight"]])
    return direct + torch.cat(through, dim=1) @ jacobian


def _before_batchnorm(model: nn.Sequential) -> list[str]:
    """Names of the linear and convolutional children of ``model`` followed by BatchNorm."""
    children = list(model.named_children())
    return [name for (name, m), (_, after) in pairwise(children)
            if isinstance(m, nn.Linear | nn.modules.conv._ConvNd)
            and isinstance(after, nn.modules.batchnorm._BatchNorm)]


def biases_before_batchnorm(model: nn.Sequential) -> list[str]:
    """The biases of the layers of ``model`` that BatchNorm follows, by parameter name.

    BatchNorm subtracts the mean of its input, so in training mode the loss does
    not depend on these biases and their gradients vanish
    (:func:`training_mode_gradients`); in evaluation mode they do not.

    Examples
    --------
    >>> from sgdlab.deep.models import build
    >>> biases_before_batchnorm(build("small-lenet"))
    ['0.bias', '5.bias', '11.bias']
    """
    return [f"{name}.bias" for name in _before_batchnorm(model)
            if getattr(model.get_submodule(name), "bias", None) is not None]


def rescale_batchnorm(model: nn.Sequential, layer: str, alpha: float) -> nn.Sequential:
    r"""A copy of ``model`` with the same function, layer ``layer`` scaled by ``alpha``.

    The weight and bias of the linear or convolutional layer ``layer`` are
    multiplied by :math:`\alpha`, and the BatchNorm that follows it gets its
    running mean times :math:`\alpha`, its running variance and its
    :math:`\epsilon` times :math:`\alpha^2`; in evaluation mode
    :math:`(\alpha h - \alpha m)/\sqrt{\alpha^2 (v + \epsilon)} = (h - m)/\sqrt{v + \epsilon}`,
    so the outputs are those of ``model`` up to round-off.  The gradients of the
    loss with respect to the scaled weights and bias are then those of
    ``model`` divided by :math:`\alpha`, and all others unchanged.

    Parameters
    ----------
    model : torch.nn.Sequential
    layer : str
        The name of a :class:`~torch.nn.Linear` or convolution in ``model``
        directly followed by a BatchNorm layer.
    alpha : float
        Positive.

    Raises
    ------
    ValueError
        If ``alpha`` is not positive or ``layer`` is not followed by BatchNorm.
    """
    alpha = check.positive_scalar("alpha", alpha)
    names = [name for name, _ in model.named_children()]
    if layer not in _before_batchnorm(model):
        raise ValueError(f"layer {layer!r} is not a linear or convolutional layer of the "
                         "model followed by BatchNorm")
    out = copy.deepcopy(model)
    lin, norm = out[names.index(layer)], out[names.index(layer) + 1]
    assert isinstance(norm, nn.modules.batchnorm._BatchNorm)      # by _before_batchnorm
    with torch.no_grad():
        for param in lin.parameters(recurse=False):                # weight and bias
            param.mul_(alpha)
        for stat, power in (("running_mean", 1), ("running_var", 2)):
            norm.get_buffer(stat).mul_(alpha**power)
    norm.eps = norm.eps * alpha**2
    return out


@dataclass(frozen=True)
class ClassSplit:
    r"""D(x) split into its between-class part and the within-class rest (Papyan, 2020).

    :math:`D = B + W` with :math:`B = \sum_c \pi_c (\mu_c - \mu)(\mu_c - \mu)^\top`,
    :math:`\mu_c` the mean gradient of class ``c``, :math:`\pi_c` its share of
    the examples and :math:`\mu` the mean gradient, and
    :math:`W = \sum_c \pi_c \Sigma_c` the mean within-class covariance.  Made by
    :func:`class_split`.

    Attributes
    ----------
    means : ndarray, shape (C, d)
        Row ``c`` is :math:`M_c = \sqrt{\pi_c}(\mu_c - \mu)`, so that
        :math:`B = M^\top M`; :math:`\sum_c \sqrt{\pi_c}\, M_c = 0`, hence
        rank :math:`\le C - 1`.
    trace_total : float
        :math:`\operatorname{tr} D`.
    """

    means: NDArray[np.float64]
    trace_total: float

    @property
    def trace_between(self) -> float:
        r""":math:`\operatorname{tr} B = \sum_c \pi_c \|\mu_c - \mu\|^2`."""
        return float(np.square(self.means).sum())

    @property
    def eigenvalues(self) -> NDArray[np.float64]:
        """The ``C`` eigenvalues of B that can be non-zero, descending (from :math:`M M^\\top`)."""
        return np.asarray(np.linalg.eigvalsh(self.means @ self.means.T)[::-1], dtype=np.float64)

    @property
    def rank(self) -> int:
        """The rank of B by the paper's rule (footnote 1), at most ``C - 1``."""
        return numerical_rank(self.eigenvalues, self.means.shape[1])

    def captured(self, vectors: NDArray[np.floating]) -> float:
        r""":math:`\operatorname{tr}(U^\top B U) = \|M U\|_F^2` for orthonormal columns ``U``.

        With ``U`` the top eigenvectors of D, the part of their eigenvalues'
        sum that B carries.
        """
        u = np.asarray(vectors, dtype=float)
        if u.ndim != 2 or u.shape[0] != self.means.shape[1]:
            raise ValueError(f"vectors must be (d, k) with d = {self.means.shape[1]}, got "
                             f"{u.shape}")
        return float(np.square(self.means @ u).sum())


def class_split(grads: torch.Tensor | NDArray[np.floating], labels: torch.Tensor |
                NDArray[np.integer], num_classes: int) -> ClassSplit:
    """The between-class part of D(x) (eq. 2) from per-example gradients and their labels.

    Parameters
    ----------
    grads : torch.Tensor or ndarray, shape (N, d)
    labels : torch.Tensor or ndarray, shape (N,)
        Integers in ``[0, num_classes)``.
    num_classes : int

    Raises
    ------
    ValueError
        On shapes that disagree or labels out of range.

    Examples
    --------
    >>> g = np.array([[1.0, 0.0], [3.0, 0.0], [-1.0, 1.0], [-3.0, -1.0]])
    >>> split = class_split(g, np.array([0, 0, 1, 1]), 2)
    >>> round(split.trace_between, 12), split.trace_total, split.rank
    (4.0, 5.5, 1)
    """
    g = _gradients(grads).to(torch.float64).cpu()
    c = check.positive_int("num_classes", num_classes)
    lab = torch.as_tensor(labels).cpu()
    if lab.shape != (g.shape[0],) or lab.is_floating_point() or \
            bool((lab < 0).any() | (lab >= c).any()):
        raise ValueError(f"labels must be {g.shape[0]} integers in [0, {c})")
    mean = g.mean(0)
    counts = torch.bincount(lab, minlength=c).to(torch.float64)
    sums = torch.zeros(c, g.shape[1], dtype=torch.float64).index_add_(0, lab, g)
    present = counts > 0
    centred = sums[present] / counts[present, None] - mean
    means = torch.sqrt(counts[present, None] / g.shape[0]) * centred
    trace = float(((g - mean) ** 2).sum() / g.shape[0])
    return ClassSplit(means.numpy(), trace)


def random_overlap_edge(d: int, k: int) -> float:
    r"""The largest squared cosine of the principal angles of two random ``k``-planes in R^d.

    For two independent uniformly random ``k``-dimensional subspaces, the
    squared cosines of their principal angles follow the Jacobi (MANOVA)
    ensemble, whose largest value tends, as :math:`k, d \to \infty` at fixed
    :math:`p = k/d \le 1/2`, to Wachter's edge
    :math:`\left(\sqrt{p(1-p)} + \sqrt{p(1-p)}\right)^2 = 4p(1-p)`; their mean is
    exactly :math:`k/d`.  For :math:`k \ll d` all angles are near 90 degrees.

    Examples
    --------
    >>> round(random_overlap_edge(1000, 10), 4)
    0.0396
    """
    d, k = check.positive_int("d", d), check.positive_int("k", k)
    if 2 * k > d:
        raise ValueError(f"k must be at most d / 2, got k = {k}, d = {d}")
    p = k / d
    return 4 * p * (1 - p)
