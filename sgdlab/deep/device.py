"""Where heavy work runs, and at which scale: the one place that decides.

Every heavy function of sgdlab takes ``device=``; :func:`pick` resolves it.
Chapters run at two scales (:func:`profile`): ``"cpu"``, which fits a 2-core
CPU and keeps the whole book's execution within minutes, and ``"full"``, the
paper's scale, chosen when a GPU is present or when asked for with the
environment variable ``SGDLAB_PROFILE=full``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import torch

__all__ = ["PROFILES", "num_threads", "pick", "profile"]

Profile = Literal["cpu", "full"]
#: The scales :func:`profile` knows.
PROFILES: tuple[Profile, ...] = ("cpu", "full")


def pick(device: str | torch.device | None = None) -> torch.device:
    """The device to compute on: CUDA when present, else the CPU.

    Parameters
    ----------
    device : str or torch.device, optional
        An explicit choice (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...); when
        omitted, ``$SGDLAB_DEVICE`` if set, else ``"cuda"`` if available, else
        ``"cpu"``.

    Raises
    ------
    ValueError
        If the device string is not one torch knows, or asks for CUDA on a
        machine without it.

    Examples
    --------
    >>> pick("cpu")
    device(type='cpu')
    """
    if device is None:
        device = os.environ.get("SGDLAB_DEVICE") or (
            "cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device {device!r} is not a torch device ({err})") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but torch sees no CUDA GPU here "
                         f"(torch {torch.__version__}); use device='cpu'")
    return resolved


def profile(name: str | None = None) -> Profile:
    """The scale a chapter runs at: ``"cpu"`` (default) or ``"full"`` (the paper's).

    Parameters
    ----------
    name : {"cpu", "full"}, optional
        An explicit choice; when omitted, ``$SGDLAB_PROFILE`` if set, else
        ``"full"`` when :func:`pick` finds a GPU and ``"cpu"`` otherwise.

    Raises
    ------
    ValueError
        If the profile is not one of :data:`PROFILES`.
    """
    if name is None:
        name = os.environ.get("SGDLAB_PROFILE") or (
            "full" if pick().type == "cuda" else "cpu")
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {name!r}")
    return name


@contextmanager
def num_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch CPU threads (unchanged when None), then restore.

    On a shared CPU, extra threads of small operations spin rather than work.
    """
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
