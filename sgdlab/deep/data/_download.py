"""Downloading a missing split of a data set through torchvision, where it can.

This module's one job is the download of the files a reader of
:mod:`sgdlab.deep.data` finds missing: torchvision's dataset classes fetch
them (``download=True``) where torchvision imports
(:func:`~sgdlab.deep._vision.torchvision_or_none`) and the data set's server
answers; otherwise :func:`download` says why not, for the reader's error.
"""

from __future__ import annotations

import socket
from pathlib import Path

from sgdlab.deep._vision import torchvision_or_none, unavailable_reason

__all__ = ["download"]


def _online(url: str, timeout: float = 3.0) -> bool:
    """Whether the host of ``url`` accepts a connection on port 443 within ``timeout`` s."""
    host = url.split("/")[2]
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def download(torchvision_class: str, url: str, base: Path, split: str) -> str | None:
    """Download a split through torchvision into ``base``; None on success, else why not."""
    torchvision = torchvision_or_none()
    if torchvision is None:
        return f"sgdlab downloads through torchvision, and here {unavailable_reason()}"
    if not _online(url):
        return f"torchvision could not download it: {url.split('/')[2]} does not answer"
    base.mkdir(parents=True, exist_ok=True)
    try:
        getattr(torchvision.datasets, torchvision_class)(str(base), train=split == "train",
                                                         download=True)
    except (OSError, RuntimeError) as err:
        return f"torchvision's download failed ({err})"
    return None
