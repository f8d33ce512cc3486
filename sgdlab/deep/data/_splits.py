"""The two splits every data set of :mod:`sgdlab.deep.data` has, and their check."""

from __future__ import annotations

__all__ = ["SPLITS", "check_split"]

#: The splits of every data set.
SPLITS: tuple[str, ...] = ("train", "test")


def check_split(split: str) -> str:
    """Return ``split``, or raise ValueError if it is not one of :data:`SPLITS`."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return split
