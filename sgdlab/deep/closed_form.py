r"""The gradient of ``C`` stacked BatchNorm two-layer networks, written out (tiny-fc, small-fc).

:class:`sgdlab.deep.chains.Chains` computes each chain's gradient with
:mod:`torch.func` (a vmapped ``functional_call`` differentiated by
autograd).  For the networks ``Flatten -> Linear -> BatchNorm1d -> ReLU ->
Linear`` (tiny-fc and small-fc of :mod:`sgdlab.deep.models`) this module
does the same with no autograd at all: the weights of the ``C`` chains are
stacked into ``(C, ...)`` tensors, the forward pass is two batched matrix
products (:func:`torch.baddbmm`) around BatchNorm and ReLU, and the backward
pass is its closed form, for a batch :math:`X` of ``B`` examples
(rows), one-hot labels :math:`Y` and :math:`\epsilon` BatchNorm's ``eps``:

.. math::

   H = X W_1^\top + b_1, \quad
   \mu = \tfrac1B \textstyle\sum_k H_k, \quad
   \sigma^2 = \tfrac1B \textstyle\sum_k (H_k - \mu)^2, \quad
   \hat H = (H - \mu) / \sqrt{\sigma^2 + \epsilon},

   Z = \gamma \hat H + \beta, \quad A = \max(Z, 0), \quad
   L = A W_2^\top + b_2, \quad
   f = \tfrac1B \textstyle\sum_k \bigl(\log \sum_j e^{L_{kj}} - L_{k y_k}\bigr);

   \partial L = (\operatorname{softmax}(L) - Y) / B, \quad
   \nabla W_2 = \partial L^\top A, \quad \nabla b_2 = \textstyle\sum_k \partial L_k, \quad
   \partial Z = (\partial L\, W_2) \odot [Z > 0],

   \nabla\gamma = \textstyle\sum_k \partial Z_k \odot \hat H_k, \quad
   \nabla\beta = \textstyle\sum_k \partial Z_k, \quad
   \partial H = \frac{\gamma}{\sqrt{\sigma^2 + \epsilon}} \odot
       \bigl(\partial Z - \tfrac1B \nabla\beta - \tfrac1B \hat H \odot \nabla\gamma\bigr),

   \nabla W_1 = \partial H^\top X, \quad \nabla b_1 = \textstyle\sum_k \partial H_k.

The line for :math:`\partial H` is the standard backward pass of batch
normalisation (Ioffe and Szegedy 2015, Section 3) with
:math:`\sum_k \partial\hat H_k = \gamma \nabla\beta` and
:math:`\sum_k \partial\hat H_k \odot \hat H_k = \gamma \nabla\gamma`
substituted; :math:`\nabla b_1` vanishes up to round-off, since BatchNorm
removes any shift of :math:`H`.  In evaluation mode :math:`\mu` and
:math:`\sigma^2` are the running statistics, constants, and
:math:`\partial H = \gamma \partial Z / \sqrt{\sigma^2 + \epsilon}`.  A
training-mode pass may update the running statistics as
:class:`torch.nn.BatchNorm1d` does, with its momentum :math:`m`:
:math:`\bar\mu \leftarrow (1 - m)\bar\mu + m\mu`,
:math:`\bar\sigma^2 \leftarrow (1 - m)\bar\sigma^2 + m \frac{B}{B - 1}\sigma^2`
(the unbiased variance) and one more batch counted.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["BatchNormFC"]

_LAYERS = (nn.Flatten, nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear)


@dataclass(frozen=True)
class BatchNormFC:
    """The closed-form loss and gradient of stacked ``Flatten-Linear-BatchNorm1d-ReLU-Linear`` nets.

    Build it with :meth:`of`; the keys it reads are those of
    :func:`torch.func.stack_module_state` on the module.

    Attributes
    ----------
    eps : float
        BatchNorm's ``eps``, added to the variance.
    momentum : float
        BatchNorm's momentum of the running statistics.
    """

    eps: float
    momentum: float

    @classmethod
    def of(cls, model: nn.Module, name: str) -> BatchNormFC:
        """The closed form of ``model`` (called ``name`` in messages).

        Raises
        ------
        ValueError
            If ``model`` is not ``nn.Sequential(Flatten(), Linear, BatchNorm1d,
            ReLU(), Linear)`` with biases and an affine BatchNorm that tracks
            running statistics with a momentum.
        """
        layers = list(model) if isinstance(model, nn.Sequential) else []
        norm = layers[2] if len(layers) == len(_LAYERS) else None
        if (tuple(type(m) for m in layers) != _LAYERS or not isinstance(norm, nn.BatchNorm1d)
                or layers[0].start_dim != 1 or layers[1].bias is None or layers[4].bias is None
                or not norm.affine or not norm.track_running_stats or norm.momentum is None):
            raise ValueError(f"model {name!r} is not Flatten-Linear-BatchNorm1d-ReLU-Linear "
                             "(tiny-fc, small-fc), the only architecture with closed-form "
                             "gradients; use gradients='torch.func'")
        return cls(eps=float(norm.eps), momentum=float(norm.momentum))

    def loss_and_grad(self, params: Mapping[str, torch.Tensor],
                      buffers: MutableMapping[str, torch.Tensor], x: torch.Tensor,
                      onehot: torch.Tensor, *, training: bool, update: bool = False
                      ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Mean cross-entropy of each chain on its batch, and its gradient (the module's formulas).

        Parameters
        ----------
        params : mapping of str to Tensor
            The stacked parameters, ``"1.weight"`` of shape ``(C, h, p)`` and
            so on, as :func:`torch.func.stack_module_state` names them.
        buffers : mutable mapping of str to Tensor
            The stacked BatchNorm buffers ``"2.running_mean"``,
            ``"2.running_var"`` (``(C, h)``) and ``"2.num_batches_tracked"``
            (``(C,)``).
        x : Tensor, shape (C, B, ...)
            Each chain's batch of inputs, ``p`` numbers per example.
        onehot : Tensor, shape (C, B, classes)
            Their one-hot labels.
        training : bool
            BatchNorm normalises by the batch statistics (training mode) or by
            the running ones (evaluation mode).
        update : bool, default False
            In training mode, update the running statistics in ``buffers`` in
            place, as a training-mode forward of the module does.

        Returns
        -------
        loss : Tensor, shape (C,)
        grads : dict of str to Tensor
            The gradient of each chain's loss, keyed and shaped as ``params``.

        Raises
        ------
        ValueError
            If a batch has one example in training mode (no variance to normalise by).
        """
        w1, b1, gamma, beta, w2, b2 = (params[k] for k in (
            "1.weight", "1.bias", "2.weight", "2.bias", "4.weight", "4.bias"))
        chains, batch = x.shape[:2]
        x = x.reshape(chains, batch, -1)
        with torch.no_grad():
            h = torch.baddbmm(b1.unsqueeze(1), x, w1.transpose(1, 2))
            if training:
                if batch < 2:
                    raise ValueError("BatchNorm in training mode needs batches of at least "
                                     "2 examples, got 1")
                mean = h.mean(1, keepdim=True)
                h_centred = h - mean
                var = h_centred.square().mean(1, keepdim=True)  # var_mean: several times slower
            else:
                mean = buffers["2.running_mean"].unsqueeze(1)
                var = buffers["2.running_var"].unsqueeze(1)
                h_centred = h - mean
            rstd = (var + self.eps).rsqrt()
            h_hat = h_centred * rstd
            z = torch.addcmul(beta.unsqueeze(1), h_hat, gamma.unsqueeze(1))
            a = z.relu()
            logits = torch.baddbmm(b2.unsqueeze(1), a, w2.transpose(1, 2))
            lse = logits.logsumexp(dim=2, keepdim=True)
            loss = (lse.sum((1, 2)) - (logits * onehot).sum((1, 2))) / batch
            d_logits = ((logits - lse).exp() - onehot) / batch
            d_z = torch.bmm(d_logits, w2).mul_(z > 0)
            g_gamma = (d_z * h_hat).sum(1)
            g_beta = d_z.sum(1)
            if training:
                d_z = d_z.sub_(g_beta.unsqueeze(1) / batch).sub_(h_hat * (g_gamma.unsqueeze(1)
                                                                          / batch))
            d_h = d_z.mul_(gamma.unsqueeze(1) * rstd)
            grads = {"1.weight": torch.bmm(d_h.transpose(1, 2), x), "1.bias": d_h.sum(1),
                     "2.weight": g_gamma, "2.bias": g_beta,
                     "4.weight": torch.bmm(d_logits.transpose(1, 2), a),
                     "4.bias": d_logits.sum(1)}
            if training and update:
                m = self.momentum
                buffers["2.running_mean"].mul_(1 - m).add_(mean.squeeze(1), alpha=m)
                buffers["2.running_var"].mul_(1 - m).add_(var.squeeze(1),
                                                          alpha=m * batch / (batch - 1))
                buffers["2.num_batches_tracked"].add_(1)
        return loss, grads
