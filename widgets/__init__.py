"""Interactive explorers of the course, one module per explorer.

Each explorer is an ipywidgets object that redraws live in Jupyter and,
displayed in the built HTML book, falls back to precomputed frames driven by
a slider in plain JavaScript (no kernel, nothing from a CDN).

``import widgets`` is cheap: an explorer's module, and what it needs (torch
for none of them), is imported when the explorer is first named, so
``from widgets.double_well import double_well_explorer`` and
``widgets.double_well_explorer`` load the same, and only that.
"""

import importlib
from typing import Any

_MODULE = {
    "AnisotropyExplorer": "anisotropy", "anisotropy_explorer": "anisotropy",
    "DoubleWellExplorer": "double_well", "double_well_explorer": "double_well",
    "LocalEntropyExplorer": "local_entropy", "local_entropy_explorer": "local_entropy",
    "SGDNoiseExplorer": "sgd_noise", "sgd_noise_explorer": "sgd_noise",
    "SpectrumExplorer": "spectrum", "spectrum_explorer": "spectrum",
    "TrajectoryExplorer": "trajectory", "trajectory_explorer": "trajectory",
}
__all__ = sorted(_MODULE)


def __getattr__(name: str) -> Any:
    if name in _MODULE:
        return getattr(importlib.import_module(f"{__name__}.{_MODULE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
