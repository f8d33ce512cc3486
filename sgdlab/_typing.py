"""Type aliases shared by the modules of :mod:`sgdlab` (one definition each)."""

from __future__ import annotations

import os
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

__all__ = ["Array", "IntArray", "PathLike"]

#: A float64 array, the type of every field, density and state in the NumPy core.
Array: TypeAlias = NDArray[np.float64]
#: An array of indices (mini-batches, labels).
IntArray: TypeAlias = NDArray[np.intp]
#: A file-system path as the standard library accepts it.
PathLike: TypeAlias = str | os.PathLike[str]
