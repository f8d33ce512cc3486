"""Discrete SGD with real mini-batches, and its stationary covariance near a minimum.

:func:`simulate` runs many independent chains of :math:`x_{k+1} = x_k - \\eta
\\nabla f_b(x_k)` (eq. 1) at once, and records them at the times :math:`t_k = k\\eta`
of the continuous-time limit (Lemma 2).  Near a minimum with Hessian :math:`H`
and gradient-noise covariance :math:`C` (:mod:`sgdlab.core.minibatch`), the
stationary covariance of the iterates solves a discrete Lyapunov equation
(:func:`sgd_covariance`), and that of the continuous-time limit (Lemma 2) a
continuous one (:func:`lyapunov_covariance`); the two agree to first order in
:math:`\\eta`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray

from sgdlab import _validation as check
from sgdlab._typing import Array
from sgdlab.core.landscapes import rotation
from sgdlab.core.minibatch import covariance, diffusion_matrix, sample_batches
from sgdlab.core.timeseries import TimeSeries

__all__ = ["CentredQuadratic", "LinearLeastSquares", "PhaseSample", "anisotropic_quadratic",
           "covariance_ellipse", "heavy_ball_covariance", "heavy_ball_phase_covariance",
           "linear_scaling_correction", "lyapunov_covariance", "phase_rotation", "phase_sample",
           "sgd_covariance", "simulate", "temperature", "tilted_quadratic", "variance_z_scores"]

BatchGradient = Callable[[Array, NDArray[np.intp]], ArrayLike]


def simulate(batch_grad: BatchGradient, n_examples: int, x0: ArrayLike, eta: float, b: int,
             n_steps: int, *, replacement: bool = True, record_every: int = 1,
             rng: int | np.random.Generator | None = None) -> TimeSeries:
    r"""Run independent chains of mini-batch SGD, :math:`x_{k+1} = x_k - \eta\nabla f_b(x_k)`.

    Parameters
    ----------
    batch_grad : callable
        ``batch_grad(x, idx)`` maps states ``(n_chains, d)`` and batch indices
        ``(n_chains, b)`` to the mini-batch gradients of eq. (1), ``(n_chains, d)``.
    n_examples : int
        Number of examples ``N``.
    x0 : array_like, shape (d,) or (n_chains, d)
        Initial states.
    eta : float
        Learning rate, > 0.
    b : int
        Batch size.
    n_steps : int
        Number of steps.
    replacement : bool, default True
        Draw each batch with replacement or as a uniform ``b``-subset.
    record_every : int, default 1
        Record every ``record_every``-th step (the initial state is recorded).
    rng : int or numpy.random.Generator, optional

    Returns
    -------
    TimeSeries
        Times ``t = k * eta`` of the recorded steps ``k`` (the time of step ``k`` in the
        continuous-time limit, Lemma 2), shape ``(n_steps // record_every + 1,)``, and
        the iterates ``x`` of every chain after those steps, shape ``(n_records, n_chains, d)``.

    Raises
    ------
    ValueError
        If an argument is out of range or the iterates leave the finite
        numbers (``eta`` too large).
    """
    x = check.particles("x0", x0)
    eta = check.positive_scalar("eta", eta)
    n_steps = check.positive_int("n_steps", n_steps)
    record_every = check.positive_int("record_every", record_every)
    rng = np.random.default_rng(rng)
    out = np.empty((n_steps // record_every + 1, *x.shape))
    out[0] = x
    for start, batches in _batch_chunks(n_examples, b, n_steps, x.shape[0], replacement, rng):
        for k, idx in enumerate(batches, start + 1):
            step = np.asarray(batch_grad(x, idx), dtype=float)
            if step.shape != x.shape:
                raise ValueError(f"batch_grad must return shape {x.shape}, got {step.shape}")
            x = x - eta * step
            if k % record_every == 0:
                if not np.all(np.isfinite(x)):
                    raise ValueError(f"SGD diverged by step {k}; reduce eta")
                out[k // record_every] = x
    return _records(out, record_every, eta)


def _records(out: Array, record_every: int, eta: float) -> TimeSeries:
    """Iterates ``out`` recorded every ``record_every`` steps, at the times ``k * eta``."""
    steps = record_every * np.arange(len(out), dtype=float)
    return TimeSeries(t=eta * steps, x=out)


def _batch_chunks(n_examples: int, b: int, n_steps: int, n_chains: int, replacement: bool,
                  rng: np.random.Generator) -> Iterator[tuple[int, NDArray[np.intp]]]:
    """Batch indices for ``n_steps`` steps of ``n_chains`` chains, drawn in chunks of steps.

    Yields the index of the chunk's first step and indices ``(steps, n_chains, b)``.
    """
    chunk = max(1, min(n_steps, 2_000_000 // (n_chains * max(b, n_examples))))
    for start in range(0, n_steps, chunk):
        yield start, sample_batches(n_examples, b, (min(chunk, n_steps - start), n_chains),
                                    replacement, rng)


def lyapunov_covariance(hessian: ArrayLike, diffusion: ArrayLike, beta_inv: float) -> Array:
    r"""Stationary covariance of :math:`dx = -Hx\,dt + \sqrt{2\beta^{-1}D}\,dW` (Lemma 2).

    The solution :math:`\Sigma` of :math:`H\Sigma + \Sigma H^\top = 2\beta^{-1}D`
    (SciPy's ``solve_continuous_lyapunov``).

    Parameters
    ----------
    hessian : array_like, shape (d, d)
        :math:`H`, with eigenvalues of positive real part.
    diffusion : array_like, shape (d, d)
        :math:`D`, symmetric positive semi-definite.
    beta_inv : float
        :math:`\beta^{-1} = \eta/2b`, >= 0.
    """
    h = check.square_matrix("hessian", hessian)
    d = check.psd_matrix("diffusion", diffusion, h.shape[0])
    beta_inv = check.positive_scalar("beta_inv", beta_inv, allow_zero=True)
    if np.linalg.eigvals(h).real.min() <= 0:
        raise ValueError("hessian must have eigenvalues of positive real part")
    # scipy-stubs type the solution as floating of any precision; it is float64 here
    out: Array = scipy.linalg.solve_continuous_lyapunov(  # type: ignore[assignment]
        -h, -2.0 * beta_inv * d)
    return 0.5 * (out + out.T)


def sgd_covariance(hessian: ArrayLike, noise_cov: ArrayLike, eta: float) -> Array:
    r"""Exact stationary covariance of SGD on a quadratic with additive noise.

    For :math:`x_{k+1} = x_k - \eta(Hx_k + \xi_k)` with i.i.d. zero-mean
    :math:`\xi_k` of covariance :math:`C`, the solution of
    :math:`\Sigma = (I - \eta H)\Sigma(I - \eta H)^\top + \eta^2 C`
    (SciPy's ``solve_discrete_lyapunov``).  It equals
    :func:`lyapunov_covariance` with :math:`2\beta^{-1}D = \eta C` up to
    :math:`O(\eta)` relative terms.

    Parameters
    ----------
    hessian : array_like, shape (d, d)
    noise_cov : array_like, shape (d, d)
        :math:`C`, e.g. :func:`sgdlab.core.minibatch.covariance`.
    eta : float
        Learning rate; :math:`I - \eta H` must have spectral radius < 1.
    """
    h = check.square_matrix("hessian", hessian)
    c = check.psd_matrix("noise_cov", noise_cov, h.shape[0])
    eta = check.positive_scalar("eta", eta)
    a = np.eye(h.shape[0]) - eta * h
    if np.abs(np.linalg.eigvals(a)).max() >= 1:
        raise ValueError(f"eta = {eta:g} is too large: SGD does not converge on this Hessian")
    # scipy-stubs type the solution as floating of any precision; it is float64 here
    out: Array = scipy.linalg.solve_discrete_lyapunov(a, eta**2 * c)  # type: ignore[assignment]
    return 0.5 * (out + out.T)


def _momentum(momentum: float) -> float:
    """A heavy-ball momentum, in [0, 1)."""
    momentum = check.finite_scalar("momentum", momentum)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    return momentum


def temperature(eta: float, b: int, momentum: float = 0.0) -> float:
    r"""The temperature :math:`\beta^{-1}` of SGD, with heavy-ball momentum :math:`\mu`.

    :math:`\beta^{-1} = \eta / 2b` for plain SGD (Lemma 2), and
    :math:`\eta / (2b(1-\mu))` with heavy-ball momentum: for a small learning
    rate, momentum acts as plain SGD with the learning rate :math:`\eta/(1-\mu)`
    (:func:`heavy_ball_covariance` gives the exact stationary covariance that this
    limit approximates).  The paper's experiments train with momentum 0.9, ten
    times the temperature of the theory's formula.

    Examples
    --------
    >>> temperature(0.1, 5), round(temperature(0.1, 5, momentum=0.9), 12)
    (0.01, 0.1)
    """
    eta = check.positive_scalar("eta", eta)
    b = check.positive_int("b", b)
    momentum = _momentum(momentum)
    return eta / (2 * b * (1.0 - momentum))


def heavy_ball_phase_covariance(hessian: ArrayLike, noise_cov: ArrayLike, eta: float,
                                momentum: float) -> Array:
    r"""Exact stationary covariance of position and velocity of heavy-ball SGD on a quadratic.

    Heavy ball with additive noise, :math:`v_{k+1} = \mu v_k - \eta(Hx_k + \xi_k)`,
    :math:`x_{k+1} = x_k + v_{k+1}` (so :math:`v_k = x_k - x_{k-1}`), is linear in the
    phase-space state :math:`s_k = (x_k, v_k)`: :math:`s_{k+1} = As_k + B\xi_k` with
    :math:`A = \begin{pmatrix}I - \eta H & \mu I\\ -\eta H & \mu I\end{pmatrix}`
    and :math:`B = -\eta(I, I)^\top`.  The stationary covariance solves the discrete
    Lyapunov equation :math:`\Sigma_s = A\Sigma_sA^\top + BCB^\top` (SciPy's
    ``solve_discrete_lyapunov``).  Its blocks are :math:`\Sigma_x`
    (:func:`heavy_ball_covariance`), :math:`\Sigma_{xv} = \mathbb E[x_kv_k^\top]` and
    :math:`\Sigma_v`; :func:`phase_rotation` reads the rotation off :math:`\Sigma_{xv}`.

    Parameters
    ----------
    hessian : array_like, shape (d, d)
    noise_cov : array_like, shape (d, d)
        :math:`C`, e.g. :func:`sgdlab.core.minibatch.covariance`.
    eta : float
        Learning rate.
    momentum : float
        :math:`\mu` in [0, 1); :math:`A` must have spectral radius < 1.

    Returns
    -------
    ndarray, shape (2d, 2d)
        The covariance of :math:`(x_k, v_k)`, unsymmetrised (SciPy's solution as it is).
    """
    h = check.square_matrix("hessian", hessian)
    c = check.psd_matrix("noise_cov", noise_cov, h.shape[0])
    eta = check.positive_scalar("eta", eta)
    momentum = _momentum(momentum)
    eye = np.eye(h.shape[0])
    a = np.block([[eye - eta * h, momentum * eye], [-eta * h, momentum * eye]])
    if np.abs(np.linalg.eigvals(a)).max() >= 1:
        raise ValueError(f"eta = {eta:g} with momentum {momentum:g} is too large: heavy-ball "
                         "SGD does not converge on this Hessian")
    out: Array = scipy.linalg.solve_discrete_lyapunov(a, eta**2 * np.block([[c, c], [c, c]]))
    return out


def heavy_ball_covariance(hessian: ArrayLike, noise_cov: ArrayLike, eta: float,
                          momentum: float) -> Array:
    r"""Exact stationary covariance of heavy-ball SGD on a quadratic with additive noise.

    :math:`x_{k+1} = x_k - \eta(Hx_k + \xi_k) + \mu(x_k - x_{k-1})`: the position block
    :math:`\Sigma_x` of :func:`heavy_ball_phase_covariance`.  With :math:`\mu = 0` this
    is :func:`sgd_covariance`; as :math:`\eta \to 0` it tends to
    :func:`lyapunov_covariance` at the :func:`temperature` with momentum.

    Parameters
    ----------
    hessian : array_like, shape (d, d)
    noise_cov : array_like, shape (d, d)
        :math:`C`, e.g. :func:`sgdlab.core.minibatch.covariance`.
    eta : float
        Learning rate.
    momentum : float
        :math:`\mu` in [0, 1); the recursion must be stable.
    """
    out = heavy_ball_phase_covariance(hessian, noise_cov, eta, momentum)
    d = out.shape[0] // 2
    return 0.5 * (out[:d, :d] + out[:d, :d].T)


def phase_rotation(phase_cov: ArrayLike) -> Array:
    r"""The rotation of a stationary chain: the antisymmetric part of :math:`E[x_kv_k^\top]`.

    For the covariance of :math:`(x_k, v_k)`, :math:`v_k = x_k - x_{k-1}`, returns
    :math:`R = \tfrac12(\Sigma_{xv} - \Sigma_{xv}^\top)`, the mean of
    :math:`\tfrac12(x_iv_j - x_jv_i)`: the area the chain sweeps per step in the
    :math:`(x_i, x_j)` plane, its probability angular momentum.  It is minus the
    antisymmetric part of the lag-one autocovariance :math:`\mathbb E[x_kx_{k-1}^\top]`,
    which vanishes for a reversible (detailed-balance) Gaussian chain.  For heavy ball on a
    quadratic, the stationarity of :math:`x_{k+1} = x_k + v_{k+1}` gives exactly
    :math:`R = \frac{\eta}{2(1-\mu)}(H\Sigma_x - \Sigma_xH)`, zero when :math:`H` and
    the noise commute; in the continuous-time limit :math:`R/\eta' \to \beta^{-1}Q`,
    Lemma 20's rotation, with :math:`\eta' = \eta/(1-\mu)` the time of one step.

    Parameters
    ----------
    phase_cov : array_like, shape (2d, 2d)
        E.g. :func:`heavy_ball_phase_covariance`, or a sample covariance of :math:`(x, v)`.

    Returns
    -------
    ndarray, shape (d, d)
        Antisymmetric.
    """
    s = check.square_matrix("phase_cov", phase_cov)
    if s.shape[0] % 2:
        raise ValueError(f"phase_cov must be (2d, 2d), got shape {s.shape}")
    d = s.shape[0] // 2
    xv = s[:d, d:]
    return 0.5 * (xv - xv.T)


@dataclass(frozen=True)
class PhaseSample:
    r"""Second moments of independent phase-space samples :math:`s = (x, v)`, with standard errors.

    Attributes
    ----------
    moments, stderr : ndarray, shape (2d, 2d)
        The sample mean of :math:`s_is_j` and its standard error, from the sample's own
        products (no Gaussian assumption).
    rotation, rotation_stderr : ndarray, shape (d, d)
        :func:`phase_rotation` of ``moments``, the mean of :math:`\tfrac12(x_iv_j - x_jv_i)`,
        and its standard error (0 on the diagonal).
    """

    moments: Array
    stderr: Array
    rotation: Array
    rotation_stderr: Array


def phase_sample(x: ArrayLike, v: ArrayLike) -> PhaseSample:
    """Second moments of ``(x, v)`` about 0, e.g. chains of :meth:`CentredQuadratic.heavy_ball`.

    Parameters
    ----------
    x, v : array_like, shape (n, d)
        Independent samples of position (centred on the minimum) and velocity.
    """
    xs = check.particles("x", x)
    vs = check.particles("v", v)
    if xs.shape != vs.shape:
        raise ValueError(f"x and v must have one shape, got {xs.shape} and {vs.shape}")
    s = np.hstack([xs, vs])
    prods = s[:, :, None] * s[:, None, :]
    turns = 0.5 * (xs[:, :, None] * vs[:, None, :] - xs[:, None, :] * vs[:, :, None])
    root_n = np.sqrt(len(s))
    return PhaseSample(moments=prods.mean(axis=0), stderr=prods.std(axis=0) / root_n,
                       rotation=phase_rotation(prods.mean(axis=0)),
                       rotation_stderr=turns.std(axis=0) / root_n)


def linear_scaling_correction(hessian: ArrayLike, diffusion: ArrayLike) -> float:
    r"""First-order correction :math:`\kappa` to the linear scaling rule (Remark 11).

    For SGD on a quadratic with additive noise of covariance :math:`D/b`,
    :math:`\operatorname{tr}\Sigma_{SGD}/\operatorname{tr}\Sigma_{SDE} = 1 + \kappa\eta
    + O(\eta^2)` at every ``b``, with
    :math:`\kappa = \operatorname{tr}\mathcal L^{-1}(H\Sigma_1H)/\operatorname{tr}\Sigma_1`,
    :math:`\mathcal L(X) = HX + XH` and :math:`\Sigma_1 = \mathcal L^{-1}(D)`: from
    :math:`\mathcal L(\Sigma_{SGD} - \Sigma_{SDE}) = \eta H\Sigma_{SGD}H` (the
    practical chapter's Exercise 2).  It lies between :math:`\lambda_{\min}/2` and
    :math:`\lambda_{\max}/2`.

    Examples
    --------
    With :math:`H = \mathrm{diag}(1, 1/4)` and :math:`D = I`,
    :math:`\Sigma_1 = \mathrm{diag}(1/2, 2)` and
    :math:`\kappa = (\tfrac12\cdot\tfrac12 + \tfrac18\cdot 2)/\tfrac52`:

    >>> round(linear_scaling_correction(np.diag([1.0, 0.25]), np.eye(2)), 12)
    0.2
    """
    h = check.square_matrix("hessian", hessian)
    d = check.psd_matrix("diffusion", diffusion, h.shape[0])
    sigma_1 = lyapunov_covariance(h, d, 0.5)
    # scipy-stubs type the solution as floating of any precision; it is float64 here
    second: Array = scipy.linalg.solve_continuous_lyapunov(  # type: ignore[assignment]
        h, h @ sigma_1 @ h)
    return float(np.trace(second) / np.trace(sigma_1))


@dataclass(frozen=True)
class CentredQuadratic:
    r"""Least squares with per-example targets, :math:`f_k(x) = \tfrac12 (x-c_k)^\top H (x-c_k)`.

    The full loss :math:`f = \frac1N\sum_k f_k` is a quadratic with Hessian
    :math:`H` and minimum at the mean target :math:`\bar c`.  The
    per-example gradients :math:`H(x - c_k)` deviate from their mean by
    :math:`H(\bar c - c_k)` at every ``x``, so the gradient noise is additive
    and its covariance does not depend on ``x``: SGD on this loss is exactly
    the linear recursion of :func:`sgd_covariance`.

    Attributes
    ----------
    hessian : ndarray, shape (d, d)
        Symmetric positive definite :math:`H`.
    centres : ndarray, shape (N, d)
        Targets :math:`c_k`.
    """

    hessian: Array
    centres: Array

    @property
    def minimum(self) -> Array:
        r"""The minimiser :math:`\bar c` of the full loss."""
        return self.centres.mean(axis=0)

    def grads(self, x: ArrayLike) -> Array:
        """Per-example gradients :math:`H(x - c_k)` at one point, shape ``(N, d)``."""
        x = check.field_points("x", x, self.centres.shape[1])
        return (x - self.centres) @ self.hessian.T

    def batch_grad(self, x: Array, idx: NDArray[np.intp]) -> Array:
        """Mini-batch gradients of eq. (1) for states ``(n, d)`` and batches ``(n, b)``."""
        return (x - self.centres[idx].mean(axis=1)) @ self.hessian.T

    def diffusion(self) -> Array:
        """The diffusion matrix :math:`D` of eq. (2), the same at every ``x``."""
        return diffusion_matrix(self.grads(self.minimum))

    def noise_cov(self, b: int, replacement: bool = True) -> Array:
        """Exact covariance of the mini-batch gradient (Appendix A.1 / A.2)."""
        return covariance(self.grads(self.minimum), b, replacement)

    def sgd_covariance(self, eta: float, b: int, replacement: bool = True) -> Array:
        """Exact stationary covariance of discrete SGD (:func:`sgd_covariance`)."""
        return sgd_covariance(self.hessian, self.noise_cov(b, replacement), eta)

    def sde_covariance(self, eta: float, b: int, replacement: bool = True) -> Array:
        r"""Stationary covariance of the continuous-time limit (Lemma 2).

        :math:`H\Sigma + \Sigma H = \eta\,C_b`, i.e. :math:`2\beta^{-1}D`
        with :math:`\beta^{-1} = \eta/2b` with replacement, and that
        temperature times :math:`\frac{N-b}{N-1}` without.
        """
        eta = check.positive_scalar("eta", eta)
        return lyapunov_covariance(self.hessian, self.noise_cov(b, replacement), eta / 2.0)

    def run(self, eta: float, b: int, n_chains: int, n_steps: int, *,
            replacement: bool = True, record_every: int | None = None,
            rng: int | np.random.Generator | None = None) -> TimeSeries:
        """SGD chains started at the minimum; records and times as :func:`simulate`.

        Same batches and iterates as :func:`simulate` with :meth:`batch_grad` and the
        same seed, computed faster: the batch means of the targets are gathered
        for a whole chunk of steps at once, since the noise does not depend on ``x``.
        ``record_every`` defaults to ``n_steps``: the initial and the last iterates.
        """
        n_chains = check.positive_int("n_chains", n_chains)
        eta = check.positive_scalar("eta", eta)
        n_steps = check.positive_int("n_steps", n_steps)
        record_every = check.positive_int("record_every", record_every or n_steps)
        sgd_covariance(self.hessian, np.zeros_like(self.hessian), eta)   # checks stability
        x = np.tile(self.minimum, (n_chains, 1))
        out = np.empty((n_steps // record_every + 1, *x.shape))
        out[0] = x
        step = eta * self.hessian.T
        for k, target in self._batch_targets(b, n_steps, n_chains, replacement, rng):
            x = x - (x - target) @ step
            if k % record_every == 0:
                out[k // record_every] = x
        return _records(out, record_every, eta)

    def heavy_ball(self, eta: float, b: int, momentum: float, n_chains: int, n_steps: int, *,
                   replacement: bool = True, rng: int | np.random.Generator | None = None
                   ) -> tuple[Array, Array]:
        r"""Heavy-ball SGD chains started at rest at the minimum; their last phase-space state.

        :math:`v_{k+1} = \mu v_k - \eta\nabla f_b(x_k)`, :math:`x_{k+1} = x_k + v_{k+1}`,
        with the batches of :meth:`run` (the same as :meth:`run`'s for ``momentum = 0``,
        with the same seed); the exact stationary law has the covariance of
        :func:`heavy_ball_phase_covariance` with :meth:`noise_cov`.

        Returns
        -------
        x, v : ndarray, shape (n_chains, d)
            :math:`x_n` and :math:`v_n = x_n - x_{n-1}` after ``n_steps`` steps.
        """
        momentum = _momentum(momentum)
        heavy_ball_phase_covariance(self.hessian, np.zeros_like(self.hessian), eta,
                                    momentum)                             # checks stability
        n_chains = check.positive_int("n_chains", n_chains)
        x = np.tile(self.minimum, (n_chains, 1))
        v = np.zeros_like(x)
        step = eta * self.hessian.T
        for _, target in self._batch_targets(b, check.positive_int("n_steps", n_steps),
                                             n_chains, replacement, rng):
            v = momentum * v - (x - target) @ step
            x = x + v
        return x, v

    def _batch_targets(self, b: int, n_steps: int, n_chains: int, replacement: bool,
                       rng: int | np.random.Generator | None) -> Iterator[tuple[int, Array]]:
        r"""Step ``k`` (from 1) and the batch means of the targets, ``(n_chains, d)``.

        The batch gradient is :math:`H(x - \bar c_b)`; the means are gathered for a whole
        chunk of steps at once, since the noise does not depend on ``x``.
        """
        for start, batches in _batch_chunks(len(self.centres), b, n_steps, n_chains,
                                            replacement, np.random.default_rng(rng)):
            targets = np.stack([np.take(col, batches).mean(axis=-1)
                                for col in self.centres.T], axis=-1)
            yield from enumerate(targets, start + 1)


def anisotropic_quadratic(n: int = 32, rng: int | np.random.Generator = 0) -> CentredQuadratic:
    r"""The 2-D example of the course: :math:`H` with eigenvalues 1 and 1/4 along axes
    rotated by 30 degrees, and ``n`` Gaussian targets elongated along the
    first axis, so that :math:`D` is anisotropic and not proportional to :math:`H`.
    """
    n = check.positive_int("n", n)
    rot = rotation(np.pi / 6)
    hessian = rot @ np.diag([1.0, 0.25]) @ rot.T
    centres = np.random.default_rng(rng).normal(size=(n, 2)) * [1.0, 0.35]
    return CentredQuadratic(hessian=0.5 * (hessian + hessian.T), centres=centres)


def tilted_quadratic(angle: float, n: int = 32,
                     rng: int | np.random.Generator = 0) -> CentredQuadratic:
    r"""The 2-D example with the angle between the Hessian's axes and the noise's as a parameter.

    ``n`` Gaussian targets, centred and whitened so that their covariance is exactly
    :math:`S = \mathrm{diag}(1, 0.35^2)` (up to round-off), and :math:`H` with eigenvalues
    1 and 1/4 along axes turned by ``angle`` (radians).  The gradient noise
    :math:`H(\bar c - c_k)` has covariance :math:`HSH` (over ``b``), which commutes with
    :math:`H` exactly when :math:`S` does: at angles :math:`0` and :math:`\pi/2`.
    """
    n = check.positive_int("n", n)
    if n < 3:
        raise ValueError(f"n must be >= 3 for a full-rank covariance of the targets, got {n}")
    rot = rotation(check.finite_scalar("angle", angle))
    hessian = rot @ np.diag([1.0, 0.25]) @ rot.T
    z = np.random.default_rng(rng).normal(size=(n, 2))
    z -= z.mean(axis=0)
    white = np.linalg.solve(np.linalg.cholesky(z.T @ z / n), z.T).T     # covariance I
    return CentredQuadratic(hessian=0.5 * (hessian + hessian.T), centres=white * [1.0, 0.35])


def covariance_ellipse(mean: ArrayLike, cov: ArrayLike, n_sigma: float = 2.0,
                       n_points: int = 100) -> Array:
    r"""Points ``(n_points, 2)`` on the ellipse :math:`(x-m)^\top\Sigma^{-1}(x-m) = n_\sigma^2`."""
    m = check.points("mean", mean, 2)
    w, v = check.psd_eigh("cov", cov, 2)
    t = np.linspace(0.0, 2.0 * np.pi, check.positive_int("n_points", n_points))
    circle = np.stack([np.cos(t), np.sin(t)], axis=1)
    return m + check.positive_scalar("n_sigma", n_sigma) * (circle * np.sqrt(
        np.clip(w, 0.0, None))) @ v.T


@dataclass(frozen=True)
class LinearLeastSquares:
    r"""Linear regression, :math:`f_k(x) = \tfrac12(a_k^\top x - y_k)^2`.

    The full loss is :math:`f = \frac1N\sum_k f_k`.

    Unlike :class:`CentredQuadratic`, the gradient noise depends on ``x``:
    :math:`g_k = a_k(a_k^\top x - y_k)`.

    Attributes
    ----------
    features : ndarray, shape (N, d)
        Rows :math:`a_k`.
    targets : ndarray, shape (N,)
        :math:`y_k`.
    """

    features: Array
    targets: Array

    @property
    def hessian(self) -> Array:
        r""":math:`H = \frac1N\sum_k a_k a_k^\top`."""
        return self.features.T @ self.features / len(self.features)

    @property
    def minimum(self) -> Array:
        """The least-squares solution (SciPy's ``lstsq``)."""
        return scipy.linalg.lstsq(self.features, self.targets)[0]

    def grads(self, x: ArrayLike) -> Array:
        """Per-example gradients at one point, shape ``(N, d)``."""
        x = check.field_points("x", x, self.features.shape[1])
        return self.features * (self.features @ x - self.targets)[:, None]

    def batch_grad(self, x: Array, idx: NDArray[np.intp]) -> Array:
        """Mini-batch gradients of eq. (1) for states ``(n, d)`` and batches ``(n, b)``."""
        a = self.features[idx]
        residual = np.einsum("nbd,nd->nb", a, x) - self.targets[idx]
        return np.einsum("nbd,nb->nd", a, residual) / idx.shape[1]

    def sgd_covariance(self, eta: float, b: int, preconditioner: ArrayLike | None = None
                       ) -> Array:
        r"""Exact stationary covariance of SGD with replacement, multiplicative noise included.

        With :math:`e = x - \hat x`, a step is :math:`e' = (I - \eta P\hat A)e - \eta P\hat g`
        with :math:`\hat A = \frac1b\sum_{i\in b}a_ia_i^\top`,
        :math:`\hat g = \frac1b\sum_{i\in b}a_ir_i` (:math:`r_i` the residuals at
        :math:`\hat x`, so :math:`\mathbb E\hat g = 0`) and :math:`P` the
        preconditioner (:math:`I` for plain SGD).  The mean of :math:`e` stays 0 and
        the second moment solves
        :math:`M = \mathbb E[(I-\eta P\hat A)M(I-\eta P\hat A)^\top] + \eta^2 PCP^\top`,
        :math:`C = D(\hat x)/b`, a linear system in :math:`\mathrm{vec}\,M` with
        :math:`\mathbb E[\hat A\otimes\hat A] = \frac1b\mathbb E[aa^\top\otimes aa^\top]
        + (1-\frac1b)H\otimes H`.

        Parameters
        ----------
        eta : float
        b : int
        preconditioner : array_like, shape (d, d), optional
            Constant :math:`P` of :math:`x_{k+1} = x_k - \eta P\nabla f_b(x_k)`.
        """
        eta = check.positive_scalar("eta", eta)
        b = check.positive_int("b", b)
        h = self.hessian
        d = h.shape[0]
        eye = np.eye(d)
        p = eye if preconditioner is None else check.square_matrix("preconditioner",
                                                                  preconditioner, d)
        ph = p @ h
        k = (np.eye(d * d) - eta * (np.kron(ph, eye) + np.kron(eye, ph))
             + eta**2 * np.kron(p, p) @ self._a_kron_a(b))
        if np.abs(np.linalg.eigvals(k)).max() >= 1:
            raise ValueError(f"eta = {eta:g} is too large: SGD's second moment diverges")
        noise = p @ covariance(self.grads(self.minimum), b) @ p.T
        out = np.linalg.solve(np.eye(d * d) - k, eta**2 * noise.reshape(-1)).reshape(d, d)
        return 0.5 * (out + out.T)

    def _a_kron_a(self, b: int) -> Array:
        r""":math:`\mathbb E[\hat A\otimes\hat A]` for batches of ``b`` drawn with replacement."""
        a, h = self.features, self.hessian
        d = h.shape[0]
        outer = np.einsum("ki,kj->kij", a, a)
        return (np.einsum("kij,klm->iljm", outer, outer).reshape(d * d, d * d) / len(a) / b
                + (1.0 - 1.0 / b) * np.kron(h, h))

    def lyapunov_gap_bounds(self, eta: float, b: int) -> tuple[float, float]:
        r"""Bounds on how far the exact covariance of SGD lies above the Lyapunov one (Lemma 2).

        Let :math:`\Sigma` be :meth:`sgd_covariance`, :math:`\Sigma_L` the solution of
        :math:`\mathcal L(\Sigma_L) = \eta C` with :math:`\mathcal L(X) = HX + XH`
        (:func:`lyapunov_covariance` with :math:`\beta^{-1} = \eta/2b`), and
        :math:`g = \operatorname{tr}(\Sigma - \Sigma_L)/\operatorname{tr}\Sigma_L`.
        Expanding the recursion gives :math:`\Sigma - \Sigma_L = T(\Sigma)` with the
        positive map :math:`T(X) = \eta\mathcal L^{-1}\big(HXH + V(X)\big)`,
        :math:`V(X) = \mathbb E[(\hat A - H)X(\hat A - H)]`.  Hence
        :math:`\Sigma \succeq \Sigma_L` and :math:`g \ge \operatorname{tr}T(\Sigma_L)
        /\operatorname{tr}\Sigma_L` (the first-order term); and since
        :math:`\operatorname{tr}T(X) \le q\operatorname{tr}X` for :math:`X \succeq 0` with
        :math:`q = \eta\big(\frac{\lambda_{\max}}2 + \frac{\|W\|}{2b\lambda_{\min}}\big)`,
        :math:`W = \mathbb E[(aa^\top)^2] - H^2`, :math:`g \le q/(1-q)` when :math:`q < 1`.

        Returns
        -------
        lower, upper : float
            ``upper`` is inf when :math:`q \ge 1`.
        """
        eta = check.positive_scalar("eta", eta)
        b = check.positive_int("b", b)
        a, h = self.features, self.hessian
        lam = np.linalg.eigvalsh(h)
        sigma_l = lyapunov_covariance(h, covariance(self.grads(self.minimum), b), eta / 2.0)
        quad = np.einsum("ki,ij,kj->k", a, sigma_l, a)           # a_k^T Sigma_L a_k
        v = (np.einsum("k,ki,kj->ij", quad, a, a) / len(a) - h @ sigma_l @ h) / b
        first = scipy.linalg.solve_continuous_lyapunov(h, eta * (h @ sigma_l @ h + v))
        lower = float(np.trace(first) / np.trace(sigma_l))
        sq = np.einsum("k,ki,kj->ij", np.sum(a * a, axis=1), a, a) / len(a) - h @ h
        q = eta * (lam[-1] / 2 + np.linalg.eigvalsh(sq)[-1] / (2 * b * lam[0]))
        return lower, float(q / (1 - q)) if q < 1 else float("inf")


def variance_z_scores(samples: ArrayLike, cov: ArrayLike) -> Array:
    r"""How far the sample variances of ``samples`` are from ``cov``, in standard errors.

    Along each eigenvector :math:`v` of ``cov`` the sample variance of
    :math:`v^\top x` is compared with :math:`v^\top \Sigma v`; for :math:`n`
    independent Gaussian samples its standard error is
    :math:`\sqrt{2/n}\, v^\top \Sigma v`.

    Parameters
    ----------
    samples : array_like, shape (n, d)
        Independent samples, e.g. SGD chains at stationarity.
    cov : array_like, shape (d, d)
        Predicted covariance.

    Returns
    -------
    ndarray, shape (d,)
        One z-score per eigenvector, in the order of increasing eigenvalue.
    """
    x = check.particles("samples", samples)
    cov = check.square_matrix("cov", cov, x.shape[1])
    _, vecs = np.linalg.eigh(cov)
    predicted = np.einsum("ia,ij,ja->a", vecs, cov, vecs)
    measured = np.var((x - x.mean(axis=0)) @ vecs, axis=0)
    return (measured - predicted) / (np.sqrt(2.0 / len(x)) * predicted)
