"""Explorer of constant SGD as approximate inference (Mandt, Hoffman and Blei 2017).

Sliders: the learning rate :math:`\\eta` and the batch size :math:`b`, for
SGD with its noise frozen at the minimum of a 2-D Bayesian linear regression
(:mod:`sgdlab.core.inference`).  Left: in coordinates where the posterior
:math:`\\mathcal N(\\hat x, (NH)^{-1})` is the unit normal, its 2-s.d. circle
and the 2-s.d. ellipses (clipped at 5 posterior s.d.) of SGD's stationary law
from the exact discrete Lyapunov equation and from the continuous one (Lemma 2).  Right: the KL
divergence of each to the posterior against :math:`\\eta` at this :math:`b`,
with the current :math:`\\eta` and Mandt et al.'s optimum :math:`\\eta^*`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from sgdlab.core import inference as inf
from sgdlab.core.minibatch import covariance
from sgdlab.core.sgd import LinearLeastSquares, covariance_ellipse
from widgets._explorer import Explorer, StaticSweep
from widgets._static import BlitCanvas

__all__ = ["KINDS", "STATIC_FRACTIONS", "Frame", "PosteriorExplorer", "compute_frame",
           "posterior_explorer"]

#: The two stationary covariances the explorer compares.
KINDS: tuple[inf.Kind, ...] = ("discrete", "continuous")
#: Learning rates of the static fallback, as fractions of the stability limit 2/lambda_max.
STATIC_FRACTIONS = tuple(float(f) for f in np.geomspace(1e-3, 0.99, 9))
_N_CURVE = 60
#: Half-width of the whitened picture: the posterior's 2-s.d. circle has radius 2.
_HALF = 5.0


@dataclass(frozen=True)
class Frame:
    """What the explorer shows for one learning rate and batch size."""

    eta: float
    b: int
    eta_star: float
    whitened: dict[str, NDArray[np.float64]]
    kl: dict[str, float]
    etas: NDArray[np.float64]
    curves: dict[str, NDArray[np.float64]]


def compute_frame(model: LinearLeastSquares, eta: float, b: int) -> Frame:
    """Stationary covariances (whitened by the posterior), their KL, and KL curves over eta."""
    h, n = model.hessian, len(model.targets)
    c = covariance(model.grads(model.minimum), b)
    low = np.linalg.cholesky(n * h)                 # posterior precision N H = L L^T
    eta_max = 0.999 * 2.0 / np.linalg.eigvalsh(h)[-1]
    etas = np.geomspace(1e-3 * eta_max, eta_max, _N_CURVE)
    covs = {kind: inf.stationary_covariance(h, c, eta, kind) for kind in KINDS}
    return Frame(
        eta=float(eta), b=int(b), eta_star=inf.optimal_learning_rate(h, c, n),
        whitened={kind: low.T @ s @ low for kind, s in covs.items()},
        kl={kind: inf.posterior_kl(s, h, n) for kind, s in covs.items()},
        etas=etas,
        curves={kind: np.array([inf.posterior_kl(inf.stationary_covariance(h, c, e, kind), h, n)
                                for e in etas]) for kind in KINDS})


class _Scene:
    def __init__(self, etas: NDArray[np.float64], dpi: float) -> None:
        self.fig = Figure(figsize=(9.0, 4.0), dpi=dpi, layout="constrained")
        self.ax, self.ax_kl = self.fig.subplots(1, 2)
        self.ax.plot(*covariance_ellipse(np.zeros(2), np.eye(2)).T, color="k", lw=1.5,
                     label="posterior, 2 s.d.")
        self.ax.set(aspect="equal", xlabel="whitened $z_1$", ylabel="whitened $z_2$",
                    xlim=(-_HALF, _HALF), ylim=(-_HALF, _HALF))
        styles = {"discrete": ("-", "tab:red"), "continuous": ("--", "tab:blue")}
        self.ellipses = {kind: self.ax.plot([], [], ls, color=col, lw=1.3,
                                            label=f"SGD, {kind} Lyapunov")[0]
                         for kind, (ls, col) in styles.items()}
        self.ax.legend(loc="upper left", fontsize=7)
        self.curves = {kind: self.ax_kl.loglog([], [], ls, color=col, label=kind)[0]
                       for kind, (ls, col) in styles.items()}
        self.dots = {kind: self.ax_kl.plot([], [], "o", color=col, ms=5)[0]
                     for kind, (_, col) in styles.items()}
        (self.star,) = self.ax_kl.plot([], [], "v", color="k", ms=7, label="η* (Mandt et al.)")
        self.ax_kl.set(xlim=(etas[0], etas[-1]), ylim=(1e-2, 1e5), xlabel="η",
                       ylabel="KL(SGD || posterior)")
        self.ax_kl.legend(loc="upper left", fontsize=7)
        self.canvas = BlitCanvas(self.fig, [*self.ellipses.values(), *self.curves.values(),
                                            *self.dots.values(), self.star, self.ax.title,
                                            self.ax_kl.title])

    def update(self, frame: Frame) -> None:
        for kind in KINDS:
            self.ellipses[kind].set_data(*covariance_ellipse(np.zeros(2),
                                                             frame.whitened[kind]).T)
            self.curves[kind].set_data(frame.etas, frame.curves[kind])
            self.dots[kind].set_data([frame.eta], [frame.kl[kind]])
        star = float(np.interp(np.log(frame.eta_star), np.log(frame.etas),
                               frame.curves["continuous"]))
        self.star.set_data([frame.eta_star], [star])
        self.ax.set_title(f"η = {frame.eta:.3g}, b = {frame.b}", fontsize=9)
        self.ax_kl.set_title(f"KL: discrete {frame.kl['discrete']:.3g}, continuous "
                             f"{frame.kl['continuous']:.3g}; η* = {frame.eta_star:.3g}",
                             fontsize=9)


class PosteriorExplorer(Explorer):
    """Live explorer of SGD's stationary law against the posterior (an ipywidgets ``VBox``).

    Parameters
    ----------
    model : LinearLeastSquares
        A 2-D Bayesian linear regression
        (:func:`sgdlab.core.inference.bayesian_linear_regression`).
    eta : float, optional
        Initial learning rate, below the stability limit :math:`2/\\lambda_{\\max}`;
        Mandt et al.'s :math:`\\eta^*` at ``b`` by default.
    b : int, default 10
        Initial batch size, 1 to ``N``.
    dpi : float, default 72
        Resolution of the picture.

    Notes
    -----
    In the built book its display carries an HTML fallback with frames
    precomputed at :data:`STATIC_FRACTIONS` of the stability limit, at the current ``b``.
    """

    def __init__(self, model: LinearLeastSquares, eta: float | None = None, b: int = 10, *,
                 dpi: float = 72) -> None:
        if not isinstance(model, LinearLeastSquares) or model.features.shape[1] != 2:
            raise ValueError("model must be a LinearLeastSquares with 2 features")
        self.model = model
        n = len(model.targets)
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or not 1 <= b <= n:
            raise ValueError(f"b must be in 1..{n}, got {b}")
        self.eta_max = 0.999 * 2.0 / float(np.linalg.eigvalsh(model.hessian)[-1])
        if eta is None:
            eta = min(inf.optimal_learning_rate(model.hessian, covariance(
                model.grads(model.minimum), b), n), 0.9 * self.eta_max)
        if not 0 < eta <= self.eta_max:
            raise ValueError(f"eta must be in (0, {self.eta_max:.4g}], got {eta}")
        style = {"description_width": "initial"}
        self.eta = W.FloatLogSlider(value=eta, base=10, min=np.log10(1e-3 * self.eta_max),
                                    max=np.log10(self.eta_max), step=0.02,
                                    description="learning rate η", style=style,
                                    readout_format=".3g")
        self.b = W.IntSlider(value=b, min=1, max=n, description="batch size b", style=style)
        static = StaticSweep("eta", tuple(f * 2.0 / float(np.linalg.eigvalsh(
            model.hessian)[-1]) for f in STATIC_FRACTIONS), "learning rate &eta;", "{:.3g}")
        super().__init__([["eta", "b"]], _Scene(compute_frame(model, eta, b).etas, dpi),
                         (static,))

    def compute(self, values: Mapping[str, Any]) -> Frame:
        """The frame for slider values ``eta`` and ``b``."""
        return compute_frame(self.model, values["eta"], values["b"])

    def caption(self) -> str:
        """Caption of the static fallback."""
        return (f"SGD's stationary law against the posterior, precomputed at b = "
                f"{self.b.value}. Run the notebook to move every slider.")


def posterior_explorer(model: LinearLeastSquares, **kwargs: Any) -> PosteriorExplorer:
    """Return the posterior explorer; arguments as in :class:`PosteriorExplorer`."""
    return PosteriorExplorer(model, **kwargs)
