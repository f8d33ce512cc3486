"""sgdlab: the library behind the course on Chaudhari & Soatto (ICLR 2018).

Two halves, each a subpackage:

- :mod:`sgdlab.core` needs NumPy, SciPy and POT only: loss landscapes, SDEs,
  grids, the Fokker-Planck solver, JKO steps, critical points, flows, Lemma 20's
  linearisation, modes, mini-batch covariances, SGD on small models, logistic
  regression and plotting (Parts I, II and IV of the book).
- :mod:`sgdlab.deep` needs PyTorch: the paper's networks, their data, training,
  per-example gradients, the spectrum of D(x) and the runs of Figs. 1-3 (Part III).

Beside them, :mod:`sgdlab.storage` says where data and runs live and writes files
whole, :mod:`sgdlab.sweep` runs one function over a grid of configurations (in
process or on Ray, resumable), and :mod:`sgdlab.book` is what the chapters need
from the book's build.

``import sgdlab`` imports neither half; each module is imported where it is used,
``from sgdlab.core import landscapes`` or ``from sgdlab.deep import models``.
"""

import importlib
from types import ModuleType

__version__ = "0.1.0"
__all__ = ["__version__", "core", "deep"]


def __getattr__(name: str) -> ModuleType:
    if name in ("core", "deep"):
        return importlib.import_module(f"sgdlab.{name}")
    raise AttributeError(f"module 'sgdlab' has no attribute {name!r}")
