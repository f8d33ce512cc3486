"""The NumPy/SciPy half of sgdlab: nothing here imports torch.

Modules, one idea each:

- :mod:`~sgdlab.core.landscapes`: loss landscapes (Example 19's double well, wells
  for local entropy, a tilted well), diffusion fields, rotations of the plane, local
  entropy (Section V-C).
- :mod:`~sgdlab.core.sde`: Euler-Maruyama simulation of continuous-time SGD (eq. 3).
- :mod:`~sgdlab.core.critical`: zeros of vector fields and their types.
- :mod:`~sgdlab.core.dynamics`: noise-free flows and their long-time behaviour.
- :mod:`~sgdlab.core.grid`: grids and finite-difference operators in the plane.
- :mod:`~sgdlab.core.density`: Gibbs densities on cells, histograms of samples against
  exact densities.
- :mod:`~sgdlab.core.fokker_planck`: a conservative finite-volume solver of eq. (FP)
  in 1-D and 2-D, its steady state, free energy and current; Assumption 4 on a grid.
- :mod:`~sgdlab.core.jko`: JKO steps (Corollary 8), exact in 1-D, entropic in 2-D.
- :mod:`~sgdlab.core.linear`: the decomposition F = (D + Q) U of Lemma 20.
- :mod:`~sgdlab.core.modes`: the most likely point of a steady state and its shift
  from the minimum of the loss (Theorem 22, Remarks 23-26).
- :mod:`~sgdlab.core.stream`: the stream function of the steady current, Theorem 22's
  antisymmetric Q and eq. (19) on a grid, the entropy production of a steady state.
- :mod:`~sgdlab.core.state_dependent`: a two-weight logistic regression whose D(x) is
  evaluated on a grid, for Lemma 2 with a state-dependent diffusion; SGD-vs-FP yardsticks.
- :mod:`~sgdlab.core.minibatch`: the diffusion matrix (eq. 2) and the covariance of
  a mini-batch gradient, with and without replacement (Appendix A).
- :mod:`~sgdlab.core.gradient_noise`: mini-batch noise, its Gaussian stand-ins, the
  Berry-Esseen bound and the Kolmogorov distance from a Gaussian (Part V).
- :mod:`~sgdlab.core.tail_index`: the alpha-stable tail-index estimator of Mohammadi et
  al., pooled, per coordinate and along projections (Part V).
- :mod:`~sgdlab.core.sgd`: discrete SGD chains and their stationary covariances
  (discrete and continuous Lyapunov equations, Lemma 2).
- :mod:`~sgdlab.core.inference`: constant SGD on Bayesian linear regression against its
  posterior (Mandt et al. 2017), and the weak error of its SDEs (Li, Tai and E 2017).
- :mod:`~sgdlab.core.logistic`: logistic regression with per-example gradients.
- :mod:`~sgdlab.core.timeseries`: states recorded at a sequence of times, the result of
  every simulation above.
- :mod:`~sgdlab.core.anomalous`: the mean squared displacement of a run, its exponent and
  the Ornstein-Uhlenbeck closed form (Kunin et al., Part V).
- :mod:`~sgdlab.core.fdr`: Yaida's fluctuation-dissipation relation FDR1 for SGD with
  momentum, exact on a quadratic, and its terms along simulated chains.
- :mod:`~sgdlab.core.alignment`: how a diffusion matrix lines up with a Hessian (cosines,
  Tr(HD), top eigenspaces) and the values of random directions (Part V).
- :mod:`~sgdlab.core.escape`: escape from a well under noise aligned with the Hessian:
  exact passage times, Kramers' formula, simulation (Part V).
- :mod:`~sgdlab.core.plotting`: drawing helpers (Figs. 1-4) and Markdown tables shared by
  chapters and explorers.

Modules are imported on first use: ``import sgdlab.core`` is cheap.
"""

import importlib
from types import ModuleType

__all__ = ["alignment", "anomalous", "critical", "density", "dynamics", "escape", "fdr",
           "fokker_planck", "gradient_noise", "grid", "inference", "jko", "landscapes", "linear",
           "logistic", "minibatch", "modes", "plotting", "sde", "sgd", "state_dependent", "stream",
           "tail_index", "timeseries"]


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
