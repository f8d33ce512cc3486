"""Binary logistic regression with analytic per-example gradients.

A small real model for the diffusion matrix of Definition 1: the loss of
example ``k`` is :math:`f_k(w) = \\log(1 + e^{z_k}) - y_k z_k +
\\tfrac\\lambda2|w|^2` with :math:`z_k = w^\\top a_k`, so that
:math:`\\nabla f_k(w) = (\\sigma(z_k) - y_k)\\,a_k + \\lambda w`.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize
import scipy.special
from numpy.typing import ArrayLike

from sgdlab import _validation as check
from sgdlab._typing import Array

__all__ = ["design", "fit", "hessian", "loss", "per_example_grads"]


def design(features: ArrayLike, labels: ArrayLike) -> tuple[Array, Array]:
    """Checked features ``(N, d)`` and 0/1 labels ``(N,)``, as float arrays.

    Raises
    ------
    ValueError
        On wrong shapes, non-finite features or labels other than 0 and 1.
    """
    a = np.asarray(features, dtype=float)
    y = np.asarray(labels, dtype=float)
    if a.ndim != 2 or y.shape != a.shape[:1]:
        raise ValueError(f"features must be (N, d) and labels (N,), got {np.shape(features)} "
                         f"and {np.shape(labels)}")
    if not np.all(np.isfinite(a)):
        raise ValueError("features contains NaN or infinite entries")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 or 1")
    return a, y


def per_example_grads(w: ArrayLike, features: ArrayLike, labels: ArrayLike,
                      weight_decay: float = 0.0) -> Array:
    r"""Per-example gradients :math:`\nabla f_k(w)`, shape ``(N, d)`` (the :math:`g_k` of eq. 2).

    Parameters
    ----------
    w : array_like, shape (d,)
        Weights (a constant feature gives the bias).
    features : array_like, shape (N, d)
    labels : array_like of 0/1, shape (N,)
    weight_decay : float, default 0
        :math:`\lambda \geq 0`; it shifts every gradient equally, so it does
        not change :math:`D`.
    """
    a, y = design(features, labels)
    w = check.field_points("w", w, a.shape[1])
    if w.ndim != 1:
        raise ValueError(f"w must have shape ({a.shape[1]},), got {w.shape}")
    lam = check.positive_scalar("weight_decay", weight_decay, allow_zero=True)
    return (scipy.special.expit(a @ w) - y)[:, None] * a + lam * w


def loss(w: ArrayLike, features: ArrayLike, labels: ArrayLike,
         weight_decay: float = 0.0) -> float:
    """The full loss :math:`f(w) = \\frac1N\\sum_k f_k(w)`."""
    a, y = design(features, labels)
    w = check.field_points("w", w, a.shape[1])
    z = a @ w
    lam = check.positive_scalar("weight_decay", weight_decay, allow_zero=True)
    return float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * w @ w)


def hessian(w: ArrayLike, features: ArrayLike, labels: ArrayLike,
            weight_decay: float = 0.0) -> Array:
    r"""Hessian of :func:`loss`: :math:`\frac1N\sum_k \sigma_k(1-\sigma_k)a_ka_k^\top+\lambda I`."""
    a, _ = design(features, labels)
    w = check.field_points("w", w, a.shape[1])
    lam = check.positive_scalar("weight_decay", weight_decay, allow_zero=True)
    s = scipy.special.expit(a @ w)
    return (a * (s * (1.0 - s))[:, None]).T @ a / len(a) + lam * np.eye(a.shape[1])


def fit(features: ArrayLike, labels: ArrayLike, weight_decay: float = 1e-3) -> Array:
    """Minimise :func:`loss` by Newton's method (SciPy's ``trust-exact``); returns the weights."""
    a, y = design(features, labels)
    result = scipy.optimize.minimize(
        loss, np.zeros(a.shape[1]), args=(a, y, weight_decay), jac=_mean_grad, hess=hessian,
        method="trust-exact", options={"gtol": 1e-12})
    return result.x


def _mean_grad(w: ArrayLike, features: ArrayLike, labels: ArrayLike,
               weight_decay: float) -> Array:
    """The gradient of :func:`loss`, the mean of :func:`per_example_grads`."""
    return per_example_grads(w, features, labels, weight_decay).mean(axis=0)
