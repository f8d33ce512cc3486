"""Interactive explorers of the course, one module per explorer.

Each explorer is an ipywidgets object that redraws live in Jupyter and,
displayed in the built HTML book, falls back to precomputed frames driven by
a slider in plain JavaScript (no kernel, nothing from a CDN).
"""

from widgets.anisotropy import AnisotropyExplorer, anisotropy_explorer
from widgets.double_well import DoubleWellExplorer, double_well_explorer
from widgets.local_entropy import LocalEntropyExplorer, local_entropy_explorer
from widgets.sgd_noise import SGDNoiseExplorer, sgd_noise_explorer
from widgets.spectrum import SpectrumExplorer, spectrum_explorer
from widgets.trajectory import TrajectoryExplorer, trajectory_explorer

__all__ = [
    "AnisotropyExplorer",
    "DoubleWellExplorer",
    "LocalEntropyExplorer",
    "SGDNoiseExplorer",
    "SpectrumExplorer",
    "TrajectoryExplorer",
    "anisotropy_explorer",
    "double_well_explorer",
    "local_entropy_explorer",
    "sgd_noise_explorer",
    "spectrum_explorer",
    "trajectory_explorer",
]
