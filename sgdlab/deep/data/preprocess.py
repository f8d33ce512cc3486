"""The pre-processing of CIFAR in Section IV: global contrast normalisation, ZCA whitening.

This module's one job is the two steps of the All-CNN paper's pre-processing
(Springenberg et al., 2015, after Goodfellow et al., 2013) that Section IV
applies to CIFAR: :func:`global_contrast_normalize` centres each image and
scales it to norm :data:`GCN_SCALE`, and :func:`zca_fit` fits the ZCA
:class:`Whitening` of the normalised training images, regularised by
:data:`ZCA_BIAS`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray

from sgdlab import _validation as check

__all__ = ["GCN_SCALE", "ZCA_BIAS", "Whitening", "global_contrast_normalize", "zca_fit"]

#: Global contrast normalisation scales each image to this Euclidean norm
#: (Goodfellow et al., 2013, the pre-processing of the All-CNN paper the
#: small-allcnn network comes from); 55 makes the mean squared pixel about 1.
GCN_SCALE = 55.0
#: The regulariser ("filter bias") added to the covariance's eigenvalues by ZCA
#: whitening, in the same pre-processing.
ZCA_BIAS = 0.1


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
    scale = check.positive_scalar("scale", scale)
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
    bias = check.positive_scalar("bias", bias)
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
