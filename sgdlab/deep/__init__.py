"""The PyTorch half of sgdlab: the paper's networks and the experiments of Part III.

Modules, one idea each:

- :mod:`~sgdlab.deep.models`: the paper's four small networks (Section IV) and their specs.
- :mod:`~sgdlab.deep.device`: where heavy work runs (CPU or CUDA) and at which scale.
- :mod:`~sgdlab.deep.data`: real MNIST, read offline; CIFAR-10/100 with contrast
  normalisation and ZCA whitening; the augmented view of Fig. 2c (a package, one
  module per job).
- :mod:`~sgdlab.deep.train`: SGD with momentum on the paper's networks, resident data,
  resumable checkpoints at fractions of training.
- :mod:`~sgdlab.deep.gradients`: per-example gradients of a network (eq. 2), held or
  recomputed per pass.
- :mod:`~sgdlab.deep.eigensolvers`: all eigenvalues of a dense matrix, or the leading
  ones of an operator by block Krylov.
- :mod:`~sgdlab.deep.eigenspectrum`: the eigenspectrum of D(x) and the paper's
  statistics of it (footnote 1, eq. 14, Remark 16); NumPy only.
- :mod:`~sgdlab.deep.diffusion`: the diffusion matrix D(x) of a network (eq. 2) and its
  eigenspectrum, exact and fast.
- :mod:`~sgdlab.deep.anatomy`: D(x) taken apart: its blocks, BatchNorm's directions in
  evaluation and training mode, its between-class part, its eigenspaces.
- :mod:`~sgdlab.deep.spectra`: the experiment of Figs. 1-2, the spectrum of D along
  training, kept on disk.
- :mod:`~sgdlab.deep.sample_size`: the spectrum of D against the number of examples it
  is computed from (a sweep point: subsets of one network's gradients).
- :mod:`~sgdlab.deep.chains`: independent SGD chains of one network, trained at once
  with :mod:`torch.func`.
- :mod:`~sgdlab.deep.closed_form`: the gradient of stacked two-layer BatchNorm networks
  (tiny-fc, small-fc) written out, for the chains without autograd.
- :mod:`~sgdlab.deep.runs`: long SGD runs on disk, one snapshot per epoch, resumable (Fig. 3).
- :mod:`~sgdlab.deep.brownian`: is a trajectory Brownian? Spectra and autocorrelations
  against white-noise and Brownian baselines (Remarks 17-18).
- :mod:`~sgdlab.deep.noise_tails`: the tail index of tiny-fc's mini-batch noise over
  the batch size, against Gaussian stand-ins (Part V).

- :mod:`~sgdlab.deep.displacement`: how far a long run moves, its mean squared
  displacement against Brownian and Ornstein-Uhlenbeck controls (Kunin et al., Part V).
- :mod:`~sgdlab.deep.fdr`: both sides of Yaida's FDR1 measured at every step of chains of a
  network, tensor by tensor, as a test of stationarity.
- :mod:`~sgdlab.deep.curvature`: the exact Hessian and Gauss-Newton matrix of a small
  network (Part V).
- :mod:`~sgdlab.deep.noise_curvature`: D against H and G during training (Part V).

Modules are imported on first use: ``import sgdlab.deep`` does not import torch.
"""

import importlib
from types import ModuleType

__all__ = ["anatomy", "brownian", "chains", "closed_form", "curvature", "data", "device",
           "diffusion", "displacement", "eigensolvers", "eigenspectrum", "fdr", "gradients",
           "models", "noise_curvature", "noise_tails", "runs", "sample_size", "spectra", "train"]


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
