"""Interactive explorers of the course, one module per explorer.

Each explorer is an ipywidgets object that redraws live in Jupyter and,
displayed in the built HTML book, falls back to precomputed frames driven by
a slider in plain JavaScript (no kernel, nothing from a CDN).

``import widgets`` is cheap: an explorer's module, and what it needs (torch
for none of them), is imported when the explorer is first named, so
``from widgets.double_well import double_well_explorer`` and
``widgets.double_well_explorer`` load the same, and only that.

The explorers need ipywidgets 7.6 or later: Colab's 7.7 and the 8.x of
``requirements.txt`` both work; an older or missing one is named when an
explorer is first asked for.
"""

import importlib
import re
from typing import Any

#: The oldest ipywidgets the explorers run with (``Image`` and ``FloatLogSlider``
#: as they use them).
_MIN_IPYWIDGETS = (7, 6)

_MODULE = {
    "AnisotropyExplorer": "anisotropy", "anisotropy_explorer": "anisotropy",
    "DoubleWellExplorer": "double_well", "double_well_explorer": "double_well",
    "EscapeExplorer": "escape", "escape_explorer": "escape",
    "FDRExplorer": "fdr", "fdr_explorer": "fdr",
    "LocalEntropyExplorer": "local_entropy", "local_entropy_explorer": "local_entropy",
    "NoiseTailsExplorer": "noise_tails", "noise_tails_explorer": "noise_tails",
    "PosteriorExplorer": "posterior", "posterior_explorer": "posterior",
    "RotationExplorer": "rotation", "rotation_explorer": "rotation",
    "SGDNoiseExplorer": "sgd_noise", "sgd_noise_explorer": "sgd_noise",
    "SpectrumExplorer": "spectrum", "spectrum_explorer": "spectrum",
    "TrajectoryExplorer": "trajectory", "trajectory_explorer": "trajectory",
}
__all__ = sorted(_MODULE)


def _check_ipywidgets() -> None:
    try:
        import ipywidgets
    except ImportError as error:
        raise ImportError("the explorers need ipywidgets (7.6 or later): "
                          "pip install ipywidgets") from error
    found = tuple(int(part) for part in re.findall(r"\d+", ipywidgets.__version__)[:2])
    if found < _MIN_IPYWIDGETS:
        raise ImportError(f"the explorers need ipywidgets 7.6 or later, found "
                          f"{ipywidgets.__version__}: pip install --upgrade ipywidgets")


def __getattr__(name: str) -> Any:
    if name in _MODULE:
        _check_ipywidgets()
        return getattr(importlib.import_module(f"{__name__}.{_MODULE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
