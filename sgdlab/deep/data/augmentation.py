"""The data augmentation of Fig. 2c: random horizontal flips and padded random crops.

This module's one job is :func:`augment`, the augmented view of a batch of
images on which the spectrum of D(x) (eq. 2) is evaluated in Fig. 2c.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["augment"]


def augment(x: torch.Tensor, *, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """The augmented view of Fig. 2c: random horizontal flips and padded random crops.

    Each image is flipped left-right with probability 1/2, zero-padded by
    ``pad`` pixels on every side and cropped back to its size at an offset
    drawn uniformly from the ``(2 pad + 1)^2`` possible ones, all at once on
    the device of ``x``.

    Parameters
    ----------
    x : torch.Tensor, shape (n, channels, height, width)
    generator : torch.Generator
        The source of the random flips and offsets; the same seed gives the
        same view on any device of ``x``.
    pad : int
        Padding in pixels (4 in the paper's augmentation); 0 flips only.

    Returns
    -------
    torch.Tensor
        Same shape, dtype and device as ``x``.

    Raises
    ------
    ValueError
        If ``x`` is not a 4-D tensor, ``generator`` not a torch.Generator or
        ``pad`` not a non-negative integer.
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"x must be a tensor of shape (n, channels, height, width), got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {generator!r}")
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)) or pad < 0:
        raise ValueError(f"pad must be a non-negative integer, got {pad!r}")
    n, channels, height, width = x.shape
    flip = torch.rand(n, generator=generator, device=generator.device) < 0.5
    offset = torch.randint(0, 2 * pad + 1, (2, n), generator=generator, device=generator.device)
    flip, offset = flip.to(x.device), offset.to(x.device)
    padded = F.pad(torch.where(flip[:, None, None, None], x.flip(-1), x), (pad,) * 4)
    rows = offset[0, :, None] + torch.arange(height, device=x.device)
    cols = offset[1, :, None] + torch.arange(width, device=x.device)
    return padded[torch.arange(n, device=x.device)[:, None, None, None],
                  torch.arange(channels, device=x.device)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]
