r"""Constant SGD as approximate Bayesian inference, and the weak accuracy of its SDEs.

Mandt, Hoffman and Blei (2017) read the stationary law of constant-rate SGD
as an approximate posterior.  With the course's conventions (eq. 1,
:math:`f = \frac1N\sum_k f_k` the negative log-likelihood per example, so that
the posterior is :math:`\propto e^{-Nf}`), Bayesian linear regression with a
flat prior has the Gaussian posterior :math:`\mathcal N(\hat x, (NH)^{-1})`
exactly (:func:`bayesian_linear_regression`).  SGD with the mini-batch noise
frozen at :math:`\hat x` (covariance :math:`C`, constant, as Mandt et al.
assume) is a linear recursion whose stationary covariance solves a discrete
Lyapunov equation; its continuous-time limit (Lemma 2, temperature
:math:`\eta/2b`) a continuous one; Li, Tai and E's (2017) second-order
modified equation another (:func:`stationary_covariance`).
:func:`posterior_kl` measures each against the posterior;
:func:`optimal_learning_rate` and :func:`optimal_preconditioner` minimise it.
:func:`sgd_moments` and :func:`sde_moments` give the means and covariances of
the iterates and of the SDEs at finite times exactly, for the weak error
(:func:`weak_error`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.linalg
import scipy.optimize
from numpy.typing import ArrayLike

from sgdlab import _validation as check
from sgdlab._typing import Array
from sgdlab.core.sgd import (
    CentredQuadratic,
    LinearLeastSquares,
    lyapunov_covariance,
    sgd_covariance,
)

__all__ = ["Kind", "bayesian_linear_regression", "frozen_noise", "modified_drift",
           "optimal_learning_rate", "optimal_preconditioner", "posterior_kl",
           "principal_components", "sde_moments", "sgd_moments", "stationary_covariance",
           "weak_error"]

#: The equation that gives the stationary covariance, the exact recursion of SGD,
#: the first-order SDE (Lemma 2) or Li, Tai and E's second-order modified equation.
Kind = Literal["discrete", "continuous", "modified"]
_KINDS = ("discrete", "continuous", "modified")


def principal_components(images: ArrayLike, n_components: int) -> Array:
    """Scores ``(n, n_components)`` of centred, flattened ``images`` on their top principal axes.

    Parameters
    ----------
    images : array_like, shape (n, ...)
    n_components : int
        At most ``min(n, pixels)``.
    """
    x = np.asarray(images, dtype=float)
    if x.ndim < 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"images must be a finite array (n, ...), got shape {x.shape}")
    x = x.reshape(len(x), -1)
    k = check.positive_int("n_components", n_components)
    if k > min(x.shape):
        raise ValueError(f"n_components must be <= {min(x.shape)}, got {k}")
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return x @ vt[:k].T


def bayesian_linear_regression(features: ArrayLike, targets: ArrayLike) -> LinearLeastSquares:
    r"""Bayesian linear regression as a :class:`~sgdlab.core.sgd.LinearLeastSquares` loss.

    With Gaussian noise of variance :math:`\sigma^2` and a flat prior, the
    negative log-likelihood of example :math:`k` is
    :math:`f_k(x) = (a_k^\top x - y_k)^2/2\sigma^2`, and the posterior
    :math:`\propto e^{-Nf}` is :math:`\mathcal N(\hat x, (NH)^{-1})` exactly, with
    :math:`H = \frac1{N\sigma^2}\sum_ka_ka_k^\top`.  :math:`\sigma^2` is the
    unbiased residual variance of least squares (an empirical-Bayes plug-in), and
    the loss is the least squares of :math:`a_k/\sigma` on :math:`y_k/\sigma`.

    Parameters
    ----------
    features : array_like, shape (N, d), N > d
    targets : array_like, shape (N,)
    """
    a = np.asarray(features, dtype=float)
    y = np.asarray(targets, dtype=float)
    if a.ndim != 2 or y.shape != a.shape[:1] or a.shape[0] <= a.shape[1]:
        raise ValueError(f"features must be (N, d) with N > d and targets (N,), got "
                         f"{a.shape} and {y.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(y))):
        raise ValueError("features and targets must be finite")
    residual = y - a @ scipy.linalg.lstsq(a, y)[0]
    sigma = float(np.sqrt(residual @ residual / (a.shape[0] - a.shape[1])))
    if sigma == 0.0:
        raise ValueError("the targets are fitted exactly: the noise variance is 0")
    return LinearLeastSquares(features=a / sigma, targets=y / sigma)


def frozen_noise(model: LinearLeastSquares) -> CentredQuadratic:
    r"""SGD on ``model`` with its gradient noise frozen at the minimum (Mandt et al.'s model).

    A :class:`~sgdlab.core.sgd.CentredQuadratic` with the Hessian of ``model``
    and targets :math:`c_k = \hat x - H^{-1}g_k(\hat x)`, so that its per-example
    gradients :math:`H(x - c_k) = H(x - \hat x) + g_k(\hat x)` carry the
    mini-batch noise of ``model`` at :math:`\hat x`, at every ``x``: SGD on it is
    the linear recursion of :func:`~sgdlab.core.sgd.sgd_covariance`.
    """
    if not isinstance(model, LinearLeastSquares):
        raise ValueError(f"model must be a LinearLeastSquares, got {type(model).__name__}")
    h, x_hat = model.hessian, model.minimum
    centres = x_hat - np.linalg.solve(h, model.grads(x_hat).T).T
    return CentredQuadratic(hessian=h, centres=centres)


def modified_drift(hessian: ArrayLike, eta: float) -> Array:
    r"""Drift matrix of Li, Tai and E's second-order modified equation on a quadratic.

    For :math:`f(x) = \frac12x^\top Fx` the modified equation's drift
    :math:`-\nabla(f + \frac\eta4|\nabla f|^2)` (their second-order weak approximation) is
    :math:`-(F + \frac\eta2F^2)x` for symmetric :math:`F`; for a preconditioned
    :math:`F = PH` it is the same expansion of :math:`-\log(I - \eta F)/\eta`.
    """
    f = check.square_matrix("hessian", hessian)
    return f + 0.5 * check.positive_scalar("eta", eta) * f @ f


def _preconditioned(hessian: ArrayLike, noise_cov: ArrayLike,
                    preconditioner: ArrayLike | None) -> tuple[Array, Array]:
    """:math:`PH` and :math:`PCP`, checked."""
    h = check.psd_matrix("hessian", hessian, definite=True)
    c = check.psd_matrix("noise_cov", noise_cov, h.shape[0])
    if preconditioner is None:
        return h, c
    p = check.psd_matrix("preconditioner", preconditioner, h.shape[0], definite=True)
    return p @ h, p @ c @ p


def _vector(name: str, value: ArrayLike, d: int) -> Array:
    """``value`` as a finite vector of shape ``(d,)``."""
    v = check.points(name, value, d)
    if v.ndim != 1:
        raise ValueError(f"{name} must have shape ({d},), got {v.shape}")
    return v


def _continuous_or_discrete(kind: str) -> str:
    if kind not in ("continuous", "discrete"):
        raise ValueError(f"kind must be 'continuous' or 'discrete', got {kind!r}")
    return kind


def _kind(kind: str) -> str:
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    return kind


def stationary_covariance(hessian: ArrayLike, noise_cov: ArrayLike, eta: float,
                          kind: Kind = "discrete", *,
                          preconditioner: ArrayLike | None = None) -> Array:
    r"""Stationary covariance of preconditioned constant SGD with frozen noise, or of an SDE.

    The iteration :math:`x_{k+1} = x_k - \eta P(H(x_k - \hat x) + \xi_k)`,
    :math:`\mathrm{cov}\,\xi = C`:

    * ``"discrete"``: the exact solution of
      :math:`\Sigma = (I - \eta PH)\Sigma(I - \eta PH)^\top + \eta^2PCP`
      (:func:`~sgdlab.core.sgd.sgd_covariance`);
    * ``"continuous"``: its SDE, :math:`dX = -PHX\,dt + \sqrt{\eta PCP}\,dW`
      (Lemma 2 with :math:`2\beta^{-1}D = \eta C` and :math:`\beta^{-1} = \eta/2b`
      when :math:`C = D/b`; Mandt et al.'s Ornstein-Uhlenbeck process):
      :math:`PH\Sigma + \Sigma HP = \eta PCP`;
    * ``"modified"``: the same with the drift of :func:`modified_drift`.

    Parameters
    ----------
    hessian : array_like, shape (d, d)
        Symmetric positive definite :math:`H`.
    noise_cov : array_like, shape (d, d)
        :math:`C`, e.g. :func:`sgdlab.core.minibatch.covariance` at :math:`\hat x`.
    eta : float
        Learning rate.
    kind : {"discrete", "continuous", "modified"}
    preconditioner : array_like, shape (d, d), optional
        Symmetric positive definite :math:`P`; the identity when omitted.

    Raises
    ------
    ValueError
        If :math:`H` or :math:`P` is not symmetric positive definite, :math:`C` not
        positive semi-definite, the shapes differ, ``eta`` <= 0, or (``"discrete"``)
        :math:`I - \eta PH` is not a contraction.
    """
    f, q = _preconditioned(hessian, noise_cov, preconditioner)
    eta = check.positive_scalar("eta", eta)
    if _kind(kind) == "discrete":
        return sgd_covariance(f, q, eta)
    return lyapunov_covariance(modified_drift(f, eta) if kind == "modified" else f, q, eta / 2)


def posterior_kl(cov: ArrayLike, hessian: ArrayLike, n_examples: int) -> float:
    r"""KL divergence from :math:`\mathcal N(\hat x, \Sigma)` to the posterior.

    The posterior is :math:`\mathcal N(\hat x, (NH)^{-1})`, and
    :math:`\mathrm{KL}(q\,\|\,p) = \frac12[N\operatorname{tr}(H\Sigma) - d
    - \log\det(NH\Sigma)]` (equal means).

    Parameters
    ----------
    cov : array_like, shape (d, d)
        Symmetric positive definite :math:`\Sigma`.
    hessian : array_like, shape (d, d)
        Symmetric positive definite :math:`H`.
    n_examples : int
        :math:`N`.
    """
    s = check.psd_matrix("cov", cov, definite=True)
    h = check.psd_matrix("hessian", hessian, s.shape[0], definite=True)
    n = check.positive_int("n_examples", n_examples)
    # tr and log det of N H Sigma through its similar, symmetric form L^T Sigma L (H = L L^T)
    low = np.linalg.cholesky(n * h)
    w = np.linalg.eigvalsh(low.T @ s @ low)
    return float(0.5 * np.sum(w - 1.0 - np.log(w)))


def optimal_learning_rate(hessian: ArrayLike, noise_cov: ArrayLike, n_examples: int,
                          kind: Kind = "continuous") -> float:
    r"""The learning rate minimising :func:`posterior_kl` of :func:`stationary_covariance`.

    For ``"continuous"`` it is Mandt et al.'s optimal constant learning rate
    :math:`2SD/(N\operatorname{tr}BB^\top)` (their dimension :math:`D`, batch size
    :math:`S`, one example's gradient covariance :math:`BB^\top`) in closed form: the
    Lyapunov equation gives :math:`\operatorname{tr}(H\Sigma) = \frac\eta2\operatorname{tr}C`
    and :math:`\Sigma\propto\eta`, so
    :math:`\mathrm{KL} = \frac{N\eta}4\operatorname{tr}C - \frac d2\log\eta + \text{const}`
    and :math:`\eta^* = 2d/(N\operatorname{tr}C)`; with replacement
    :math:`C = D/b` and :math:`\eta^* = 2bd/(N\operatorname{tr}D)`, the temperature
    :math:`\eta^*/2b = d/(N\operatorname{tr}D)`.  For ``"discrete"`` it is found
    numerically (bounded Brent in :math:`\log\eta`, below the stability limit
    :math:`2/\lambda_{\max}`, where the KL diverges).

    Parameters
    ----------
    hessian, noise_cov : array_like, shape (d, d)
        As in :func:`stationary_covariance`; ``noise_cov`` positive definite.
    n_examples : int
    kind : {"continuous", "discrete"}
    """
    h = check.psd_matrix("hessian", hessian, definite=True)
    c = check.psd_matrix("noise_cov", noise_cov, h.shape[0], definite=True)
    n = check.positive_int("n_examples", n_examples)
    closed = 2.0 * h.shape[0] / (n * np.trace(c))
    if _continuous_or_discrete(kind) == "continuous":
        return float(closed)
    log_upper = np.log(2.0 / np.linalg.eigvalsh(h)[-1]) + np.log1p(-1e-9)

    def kl(log_eta: float) -> float:
        return posterior_kl(stationary_covariance(h, c, float(np.exp(log_eta)), kind), h, n)

    found = scipy.optimize.minimize_scalar(kl, bounds=(np.log(closed) - 10.0, log_upper),
                                           method="bounded", options={"xatol": 1e-10})
    return float(np.exp(found.x))


def optimal_preconditioner(hessian: ArrayLike, noise_cov: ArrayLike, n_examples: int,
                           eta: float, kind: Kind = "continuous") -> Array:
    r"""The preconditioner :math:`P` whose stationary covariance is the posterior's.

    That is, :math:`(NH)^{-1}`.

    ``"continuous"``: :math:`P\cdot 2/N = \eta PCP` gives Mandt et al.'s optimal preconditioner,
    :math:`P^* = \frac2{\eta N}C^{-1}` (their :math:`\frac{2S}{\epsilon N}(BB^\top)^{-1}`).
    ``"discrete"``: putting :math:`\Sigma = (NH)^{-1}` in the discrete equation of
    :func:`stationary_covariance` gives :math:`\frac\eta N(2P - \eta PHP) = \eta^2PCP`,
    so :math:`P^* = \frac2\eta(NC + H)^{-1}`: the exact correction adds :math:`H` to
    :math:`NC`, and :math:`\eta P^*H` has eigenvalues in (0, 2), so the iteration is
    stable at every :math:`\eta`.

    Parameters
    ----------
    hessian, noise_cov : array_like, shape (d, d)
        As in :func:`stationary_covariance`; ``noise_cov`` positive definite.
    n_examples : int
    eta : float
    kind : {"continuous", "discrete"}
    """
    h = check.psd_matrix("hessian", hessian, definite=True)
    c = check.psd_matrix("noise_cov", noise_cov, h.shape[0], definite=True)
    n = check.positive_int("n_examples", n_examples)
    eta = check.positive_scalar("eta", eta)
    discrete = _continuous_or_discrete(kind) == "discrete"
    p = np.linalg.inv(n * c + (h if discrete else 0.0)) * (2.0 / eta)
    return 0.5 * (p + p.T)


def sgd_moments(hessian: ArrayLike, noise_cov: ArrayLike, eta: float, mean0: ArrayLike,
                n_steps: int) -> tuple[Array, Array]:
    r"""Exact mean and covariance of :math:`x_k - \hat x` after ``n_steps`` of frozen-noise SGD.

    With :math:`A = I - \eta H`, started at the point :math:`\hat x +` ``mean0``:
    :math:`m_k = A^km_0` and :math:`\Sigma_k = \Sigma_\infty - A^k\Sigma_\infty A^{k\top}`
    (:math:`\Sigma_k - \Sigma_\infty` obeys the recursion without noise),
    :math:`\Sigma_\infty` the ``"discrete"`` :func:`stationary_covariance`.

    Parameters
    ----------
    hessian, noise_cov : array_like, shape (d, d)
        As in :func:`stationary_covariance`.
    eta : float
        Learning rate, below the stability limit :math:`2/\lambda_{\max}`.
    mean0 : array_like, shape (d,)
        :math:`m_0 = x_0 - \hat x`.
    n_steps : int
        :math:`k \ge 1`.
    """
    h = check.psd_matrix("hessian", hessian, definite=True)
    m0 = _vector("mean0", mean0, h.shape[0])
    eta = check.positive_scalar("eta", eta)
    a_k = np.linalg.matrix_power(np.eye(h.shape[0]) - eta * h, check.positive_int(
        "n_steps", n_steps))
    s_inf = stationary_covariance(h, noise_cov, eta, "discrete")
    return a_k @ m0, s_inf - a_k @ s_inf @ a_k.T


def sde_moments(drift: ArrayLike, noise_cov: ArrayLike, eta: float, mean0: ArrayLike,
                t: float) -> tuple[Array, Array]:
    r"""Exact mean and covariance at time ``t`` of :math:`dX = -GX\,dt + \sqrt{\eta C}\,dW`.

    Started at :math:`X_0` = ``mean0``:

    :math:`m(t) = e^{-Gt}m_0` and :math:`\Sigma(t) = \Sigma_\infty - e^{-Gt}\Sigma_\infty
    e^{-G^\top t}` with :math:`G\Sigma_\infty + \Sigma_\infty G^\top = \eta C`.  With
    :math:`G = H` this is the continuous-time limit of Lemma 2 (time :math:`t = k\eta`);
    with :func:`modified_drift` Li, Tai and E's second-order modified equation.

    Parameters
    ----------
    drift : array_like, shape (d, d)
        :math:`G`, with eigenvalues of positive real part.
    noise_cov : array_like, shape (d, d)
        :math:`C`, positive semi-definite.
    eta : float
        Learning rate, > 0.
    mean0 : array_like, shape (d,)
    t : float
        Time, >= 0.
    """
    g = check.square_matrix("drift", drift)
    c = check.psd_matrix("noise_cov", noise_cov, g.shape[0])
    m0 = _vector("mean0", mean0, g.shape[0])
    t = check.positive_scalar("t", t, allow_zero=True)
    e = scipy.linalg.expm(-t * g)
    s_inf = lyapunov_covariance(g, c, check.positive_scalar("eta", eta) / 2)
    return e @ m0, s_inf - e @ s_inf @ e.T


def weak_error(hessian: ArrayLike, noise_cov: ArrayLike, eta: float, mean0: ArrayLike,
               t: float, order: int) -> float:
    r"""Weak error :math:`|\mathbb E\varphi(x_k) - \mathbb E\varphi(X(k\eta))|` at ``t`` = k eta.

    For :math:`\varphi(x) = |x - \hat x|^2`,
    :math:`\mathbb E\varphi = |m|^2 + \operatorname{tr}\Sigma`, exact from
    :func:`sgd_moments` and :func:`sde_moments`; ``order`` 1 is the SDE of
    Lemma 2 (drift :math:`-H`), 2 Li, Tai and E's modified equation
    (:func:`modified_drift`).

    Parameters
    ----------
    hessian, noise_cov : array_like, shape (d, d)
        As in :func:`stationary_covariance`.
    eta : float
        Learning rate; ``t / eta`` must be a whole number of steps.
    mean0 : array_like, shape (d,)
        :math:`x_0 - \hat x`, the same for SGD and the SDE.
    t : float
        The time :math:`k\eta > 0`.
    order : {1, 2}
    """
    eta = check.positive_scalar("eta", eta)
    t = check.positive_scalar("t", t)
    steps = t / eta
    if abs(steps - round(steps)) > 1e-9 * steps:
        raise ValueError(f"t / eta must be a whole number of steps, got {steps}")
    if isinstance(order, bool) or order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    h = check.psd_matrix("hessian", hessian, definite=True)
    m_sgd, s_sgd = sgd_moments(h, noise_cov, eta, mean0, round(steps))
    m_sde, s_sde = sde_moments(h if order == 1 else modified_drift(h, eta), noise_cov, eta,
                               mean0, t)
    return float(abs(m_sgd @ m_sgd + np.trace(s_sgd) - m_sde @ m_sde - np.trace(s_sde)))
