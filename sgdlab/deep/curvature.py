r"""Exact curvature of a small network: its Hessian and its Gauss-Newton matrix.

For the follow-ups that compare the gradient noise D(x) of eq. (2) with the
curvature of the loss (Zhu et al. 2019; Xie et al. 2021; Gur-Ari et al. 2018),
on networks small enough for dense ``d x d`` matrices (tiny-fc, d = 917):

- :func:`loss_hessian`, the Hessian :math:`H = \nabla^2 f` of the mean
  cross-entropy :math:`f = \frac1N\sum_k \ell(z_k, y_k)`, by
  :func:`torch.func.hessian` over the flat weights;
- :func:`gauss_newton`, :math:`G = \frac1N\sum_k J_k^\top H^{out}_k J_k`, with
  :math:`J_k = \partial z_k/\partial x` the Jacobian of the logits and
  :math:`H^{out}_k = \mathrm{diag}(p_k) - p_k p_k^\top` the Hessian of the
  cross-entropy in the logits (:math:`p_k` the softmax).  H is G plus the
  logits' own curvature weighted by the residuals :math:`p_k - e_{y_k}`; for a
  model linear in its weights the two are equal.

Both are computed in float64 with the network in evaluation mode (BatchNorm
with its running statistics, no dropout), as :mod:`sgdlab.deep.gradients`
computes the per-example gradients that D is made of; rows and columns follow
the order of :func:`sgdlab.deep.models.flat_parameters`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, grad, jacrev, vmap

from .device import pick
from .gradients import check_labelled_data, check_model, eval_mode

__all__ = ["CHUNK", "gauss_newton", "loss_hessian"]

#: Examples per vectorised chunk of the Hessian and of the logits' Jacobians.
CHUNK = 256


def _flat_function(model: nn.Module, device: torch.device
                   ) -> tuple[torch.Tensor, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]:
    """The flat float64 weights of ``model`` and ``logits(w, x)``, the network as their function."""
    check_model(model)
    named = dict(model.named_parameters())
    train = {k: p for k, p in named.items() if p.requires_grad}
    frozen = {k: p.detach().to(device, torch.float64) for k, p in named.items()
              if not p.requires_grad}
    frozen |= {k: b.detach().to(device, torch.float64 if b.is_floating_point() else b.dtype)
               for k, b in model.named_buffers()}
    shapes = [(k, p.shape, p.numel()) for k, p in train.items()]
    flat = torch.cat([p.detach().reshape(-1) for p in train.values()]).to(device, torch.float64)

    def logits(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        params, start = {}, 0
        for k, shape, size in shapes:
            params[k] = w[start:start + size].reshape(shape)
            start += size
        out: torch.Tensor = functional_call(model, (params, frozen), (x,))
        return out

    return flat, logits


def _prepared(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: str | torch.device | None
              ) -> tuple[torch.device, torch.Tensor, torch.Tensor]:
    check_model(model)
    check_labelled_data(model, x, y)
    dev = pick(device)
    return dev, x.to(dev, torch.float64), y.to(dev)


def loss_hessian(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
                 device: str | torch.device | None = None) -> torch.Tensor:
    r"""Hessian :math:`H = \nabla^2 f(x)` of the mean cross-entropy over ``(x, y)``, dense.

    :func:`torch.func.jacrev` of :func:`torch.func.grad` (reverse over reverse
    mode, faster here than :func:`torch.func.hessian`'s forward over reverse)
    of the summed loss of each chunk of :data:`CHUNK` examples as a function
    of the flat weights; the chunks' Hessians are summed and divided by N.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier returning logits; used in evaluation mode, left as it was.
    x : torch.Tensor, shape (N, ...)
    y : torch.Tensor, shape (N,), int64
    device : str or torch.device, optional
        Where to compute (:func:`sgdlab.deep.device.pick`).

    Returns
    -------
    torch.Tensor, shape (d, d), float64

    Raises
    ------
    ValueError
        As :func:`sgdlab.deep.gradients.per_example_gradients`: a model without
        trainable weights, inputs not finite or fewer than two, labels outside
        the model's classes.
    """
    dev, x, y = _prepared(model, x, y, device)
    flat, logits = _flat_function(model, dev)

    def loss(w: torch.Tensor, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(logits(w, xb), yb, reduction="sum")

    out = torch.zeros(flat.numel(), flat.numel(), dtype=torch.float64, device=dev)
    with eval_mode(model):
        for start in range(0, len(x), CHUNK):
            out += jacrev(grad(loss))(flat, x[start:start + CHUNK], y[start:start + CHUNK])
    return out / len(x)


def gauss_newton(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
                 device: str | torch.device | None = None) -> torch.Tensor:
    r"""Gauss-Newton matrix :math:`G = \frac1N\sum_k J_k^\top(\mathrm{diag}\,p_k - p_kp_k^\top)J_k`.

    The Jacobians :math:`J_k` of the logits come from :func:`torch.func.vmap`
    of :func:`torch.func.jacrev`, a chunk of :data:`CHUNK` examples at a time;
    with :math:`A_k = \mathrm{diag}\sqrt{p_k} - \sqrt{p_k}\,p_k^\top`,
    :math:`A_k^\top A_k = \mathrm{diag}\,p_k - p_k p_k^\top`, so G is
    :math:`\frac1N B^\top B` with the rows :math:`B_k = A_k J_k`: positive
    semi-definite by construction.  Arguments, errors and the returned
    ``(d, d)`` float64 tensor as in :func:`loss_hessian`.
    """
    dev, x, y = _prepared(model, x, y, device)
    flat, logits = _flat_function(model, dev)

    def one(w: torch.Tensor, xi: torch.Tensor) -> torch.Tensor:
        return logits(w, xi.unsqueeze(0))[0]

    jac = vmap(jacrev(one), in_dims=(None, 0))
    out = torch.zeros(flat.numel(), flat.numel(), dtype=torch.float64, device=dev)
    with eval_mode(model), torch.no_grad():
        for start in range(0, len(x), CHUNK):
            xb = x[start:start + CHUNK]
            j = jac(flat, xb)                                        # (n, C, d)
            p = torch.softmax(logits(flat, xb), dim=1)               # (n, C)
            root = p.sqrt()
            a = torch.diag_embed(root) - root[:, :, None] * p[:, None, :]
            b = (a @ j).reshape(-1, flat.numel())
            out.addmm_(b.T, b)
    return out / len(x)
