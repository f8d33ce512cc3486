"""States recorded at a sequence of times: the one result of every simulation of the core.

A :class:`TimeSeries` is returned by

- :func:`sgdlab.core.sde.euler_maruyama` (particles of eq. 3 at times :math:`k\\,\\Delta t`),
- :meth:`sgdlab.core.fokker_planck.FokkerPlanck.evolve` (cell densities of eq. FP),
- :func:`sgdlab.core.dynamics.descent_flow` (the noise-free flow :math:`\\dot x = -\\nabla f`),
- :func:`sgdlab.core.sgd.simulate` and :meth:`sgdlab.core.sgd.CentredQuadratic.run`
  (SGD chains of eq. 1 after :math:`k` steps, at the time :math:`t_k = k\\eta` of the
  continuous-time limit, Lemma 2),
- :func:`sgdlab.core.jko.jko_flow` and :func:`sgdlab.core.jko.entropic_jko_flow`
  (JKO steps of Corollary 8 at times :math:`k\\tau`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sgdlab._typing import Array

__all__ = ["TimeSeries"]


@dataclass(frozen=True, eq=False)
class TimeSeries:
    """States ``x[k]`` recorded at times ``t[k]``.

    Equality is identity: arrays have no single truth value to compare by.

    Attributes
    ----------
    t : ndarray, shape (n_records,)
        The times of the records.
    x : ndarray, shape (n_records, ...)
        The recorded states, one per time: particles or chains ``(n, d)``, a
        density on a grid, quantiles of a law.

    Raises
    ------
    ValueError
        If ``t`` is not 1-D or ``x`` does not hold one record per time.
    """

    t: Array
    x: Array

    def __post_init__(self) -> None:
        t_shape, x_shape = np.shape(self.t), np.shape(self.x)
        if len(t_shape) != 1:
            raise ValueError(f"t must be 1-D, got shape {t_shape}")
        if not x_shape or x_shape[0] != t_shape[0]:
            raise ValueError(f"x must hold one record per time, shape ({t_shape[0]}, ...), "
                             f"got {x_shape}")
