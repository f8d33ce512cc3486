"""Loss landscapes used by the chapters.

Every landscape evaluates vectorised over points of shape ``(..., d)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import integrate, special

from sgdlab import _validation as check
from sgdlab._typing import Array
from sgdlab.core.grid import Grid2D

__all__ = ["DoubleWell", "GaussianWells", "TiltedWell", "anisotropic_diffusion", "double_well",
           "local_entropy", "local_entropy_quad", "quarter_turn", "rotation", "swirling_diffusion",
           "wide_and_sharp"]


@dataclass(frozen=True)
class DoubleWell:
    r"""The double well with a circulating force of Example 19.

    The potential is :math:`\Phi(x) = (x_1^2 - 1)^2/4 + x_2^2/2` and the
    stationary probability current is
    :math:`J_{ss}(x) = e^{-(x_1^2 + x_2^2)^2/4} (-x_2, x_1)`.  The force
    :math:`j = \lambda e^{\Phi} J_{ss}` is added to the gradient so that
    :math:`\nabla f = \nabla\Phi - j` and the dynamics are
    :math:`dx = -\nabla f\,dt + \sqrt{2}\,dW` (:math:`\beta = 1`, :math:`D = I`).
    Because :math:`\nabla\cdot J_{ss} = 0`, the steady state is
    :math:`\rho_{ss} \propto e^{-\Phi}` for every :math:`\lambda`.

    Parameters
    ----------
    lam : float
        Strength :math:`\lambda` of the force :math:`j`; its sign sets the
        sense of rotation (counter-clockwise for :math:`\lambda > 0`).
    """

    lam: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "lam", check.finite_scalar("lam", self.lam))

    def phi(self, x: ArrayLike) -> Array:
        r"""Potential :math:`\Phi(x)`, shape ``(...)``."""
        x = check.field_points("x", x, 2)
        return (x[..., 0] ** 2 - 1.0) ** 2 / 4.0 + x[..., 1] ** 2 / 2.0

    def grad_phi(self, x: ArrayLike) -> Array:
        r""":math:`\nabla\Phi(x) = (x_1 (x_1^2 - 1), x_2)`, shape ``(..., 2)``."""
        return _grad_phi(check.field_points("x", x, 2))

    def j_ss(self, x: ArrayLike) -> Array:
        r"""Stationary current :math:`J_{ss}` of Example 19, for :math:`\rho_{ss} = e^{-\Phi}`."""
        x = check.field_points("x", x, 2)
        r2 = x[..., 0] ** 2 + x[..., 1] ** 2
        return np.exp(-(r2**2) / 4.0)[..., None] * quarter_turn(x)

    def j(self, x: ArrayLike) -> Array:
        r"""Force :math:`j(x) = \lambda e^{\Phi(x)} J_{ss}(x)`, shape ``(..., 2)``.

        The two exponentials are combined before evaluation, so that
        :math:`j` stays finite far from the origin.
        """
        return self._j(check.field_points("x", x, 2))

    def grad_f(self, x: ArrayLike) -> Array:
        r"""Drift field :math:`\nabla f = \nabla\Phi - j`, shape ``(..., 2)``.

        For :math:`\lambda \neq 0` this field has a non-zero curl, so it is not
        the gradient of any function; the name follows the paper.
        """
        x = check.field_points("x", x, 2)
        return _grad_phi(x) - self._j(x)

    def div_j(self, x: ArrayLike) -> Array:
        r""":math:`\nabla\cdot j = \lambda e^{\Phi - |x|^4/4}\, x_1 x_2 (2 - x_1^2)`.

        Since :math:`\nabla\cdot J_{ss} = 0`, the divergence equals
        :math:`j\cdot\nabla\Phi`; Assumption 4 asks for it to vanish.
        """
        x = check.field_points("x", x, 2)
        return self.lam * np.exp(self._log_j_gain(x)) * x[..., 0] * x[..., 1] * (
            2.0 - x[..., 0] ** 2
        )

    @cached_property
    def normalizer(self) -> float:
        r""":math:`Z = \int e^{-\Phi}\,dx = \sqrt{2\pi}\int e^{-(x_1^2 - 1)^2/4}\,dx_1`."""
        z1, _ = integrate.quad(
            lambda s: math.exp(-((s * s - 1.0) ** 2) / 4.0), -np.inf, np.inf,
            epsabs=0.0, epsrel=1e-13,
        )
        return math.sqrt(2.0 * math.pi) * z1

    def log_density(self, x: ArrayLike) -> Array:
        r"""Normalised :math:`\log\rho_{ss}(x) = -\Phi(x) - \log Z`."""
        return -self.phi(x) - math.log(self.normalizer)

    def mean_angular_velocity(self) -> float:
        r"""Stationary mean of :math:`d\theta/dt`, :math:`\lambda\pi^{3/2}/Z`.

        Only :math:`j` turns the particles on average: the radial part of
        :math:`x \times \nabla\Phi / |x|^2` is odd in :math:`x_2`, and
        :math:`(x \times j)/|x|^2 = \lambda e^{\Phi - |x|^4/4}`, whose
        :math:`\rho_{ss}`-average is
        :math:`\lambda Z^{-1}\int e^{-|x|^4/4}dx = \lambda\pi^{3/2}/Z`.
        """
        return self.lam * math.pi**1.5 / self.normalizer

    def side_zeros(self) -> Array:
        r"""The zeros of :math:`\nabla f` off the origin, from a scalar equation.

        With :math:`e = \lambda e^{g(x)}`, :math:`g = \Phi - |x|^4/4`, the two
        components of :math:`\nabla f = 0` read
        :math:`x_1(x_1^2 - 1) + e x_2 = 0` and :math:`x_2 = e x_1`, so away from
        the origin :math:`x_1^2 = 1 - e^2`, :math:`|x|^2 = 1 - e^4`, and
        :math:`e` solves the scalar equation

        .. math:: \log|e| = \log|\lambda| + \frac{e^4}{4} + \frac{e^2(1 - e^2)}{2}
            - \frac{(1 - e^4)^2}{4},\qquad 0 < |e| < 1,

        whose right-hand side minus the left is decreasing in :math:`|e|`; it has
        a root exactly when :math:`|\lambda| < e^{-1/4}`, the transition at which
        the two zeros merge into the origin.  The root is found by
        :func:`scipy.optimize.brentq` to :math:`10^{-15}`.

        Returns
        -------
        ndarray, shape (2, 2) or (0, 2)
            :math:`\pm(\sqrt{1 - e^2},\ e\sqrt{1 - e^2})`, the zero with
            :math:`x_1 > 0` first; empty when :math:`|\lambda| \ge e^{-1/4}`.
        """
        from scipy import optimize

        lam = abs(self.lam)
        if lam >= math.exp(-0.25):
            return np.empty((0, 2))
        if lam == 0.0:
            e = 0.0
        else:
            def h(a: float) -> float:
                return (math.log(a) - math.log(lam) - a**4 / 4 - a**2 * (1 - a**2) / 2
                        + (1 - a**4) ** 2 / 4)

            e = math.copysign(optimize.brentq(h, 1e-300, 1.0, xtol=1e-15),
                              self.lam)
        x1 = math.sqrt(1.0 - e * e)
        return np.array([[x1, e * x1], [-x1, -e * x1]])

    def _j(self, x: Array) -> Array:
        return (self.lam * np.exp(self._log_j_gain(x)))[..., None] * quarter_turn(x)

    @staticmethod
    def _log_j_gain(x: Array) -> Array:
        r2 = x[..., 0] ** 2 + x[..., 1] ** 2
        return (x[..., 0] ** 2 - 1.0) ** 2 / 4.0 + x[..., 1] ** 2 / 2.0 - r2**2 / 4.0


def _grad_phi(x: Array) -> Array:
    return np.stack([x[..., 0] * (x[..., 0] ** 2 - 1.0), x[..., 1]], axis=-1)


def quarter_turn(v: ArrayLike) -> Array:
    r"""Vectors turned by +90 degrees, :math:`R v = (-v_2, v_1)`, shape ``(..., 2)``.

    The :func:`rotation` by :math:`\pi/2` without its round-off
    (:math:`\cos(\pi/2) \ne 0` in floating point): Example 19's current
    :math:`J_{ss}` is a radial profile times :math:`R x`, and :math:`R\nabla\Phi`
    is orthogonal to :math:`\nabla\Phi` exactly.

    Examples
    --------
    >>> quarter_turn([[1.0, 2.0], [0.0, -3.0]])
    array([[-2.,  1.],
           [ 3.,  0.]])
    """
    v = np.asarray(v, dtype=float)
    if v.shape[-1:] != (2,):
        raise ValueError(f"v must have shape (..., 2), got {v.shape}")
    return np.stack([-v[..., 1], v[..., 0]], axis=-1)


def double_well(lam: float) -> DoubleWell:
    r"""Return the double well of Example 19 with force strength ``lam``.

    Parameters
    ----------
    lam : float
        :math:`\lambda` in :math:`j = \lambda e^{\Phi} J_{ss}`; must be finite.

    Returns
    -------
    DoubleWell
        Vectorised ``phi``, ``grad_phi``, ``j``, ``grad_f`` and ``div_j``.

    Examples
    --------
    >>> well = double_well(0.0)
    >>> well.grad_f([1.0, 0.0])
    array([0., 0.])
    """
    return DoubleWell(lam)


@dataclass(frozen=True)
class GaussianWells:
    r"""A bowl with Gaussian wells.

    :math:`f(x) = \tfrac{c}{2}|x|^2 - \sum_i a_i e^{-|x - m_i|^2 / 2 w_i^2}`.

    With a wide shallow well and a narrow deeper one, it is the landscape on
    which local entropy (Section V-C) prefers the wide minimum.

    Parameters
    ----------
    centres : array_like, shape (k, d)
        Well centres :math:`m_i`.
    depths : array_like, shape (k,)
        Depths :math:`a_i > 0`.
    widths : array_like, shape (k,)
        Widths :math:`w_i > 0`.
    curvature : float, default 0.1
        :math:`c \geq 0`, which keeps :math:`e^{-f}` integrable.
    """

    centres: NDArray[np.float64]
    depths: NDArray[np.float64]
    widths: NDArray[np.float64]
    curvature: float = 0.1

    def __post_init__(self) -> None:
        centres = np.atleast_2d(np.asarray(self.centres, dtype=float))
        depths = np.asarray(self.depths, dtype=float).ravel()
        widths = np.asarray(self.widths, dtype=float).ravel()
        if not (len(centres) == depths.size == widths.size) or not np.all(np.isfinite(centres)):
            raise ValueError("centres, depths and widths must describe the same finite wells")
        if np.any(~(depths > 0)) or np.any(~(widths > 0)):
            raise ValueError("depths and widths must be positive")
        object.__setattr__(self, "centres", centres)
        object.__setattr__(self, "depths", depths)
        object.__setattr__(self, "widths", widths)
        object.__setattr__(self, "curvature",
                           check.positive_scalar("curvature", self.curvature, allow_zero=True))

    @property
    def dim(self) -> int:
        """Dimension :math:`d` of the weights."""
        return self.centres.shape[1]

    def f(self, x: ArrayLike) -> Array:
        """Loss at points of shape ``(..., d)`` (or ``(...)`` when ``d = 1``)."""
        x = self._points(x)
        sq = ((x[..., None, :] - self.centres) ** 2).sum(axis=-1)
        wells = self.depths * np.exp(-sq / (2 * self.widths**2))
        return 0.5 * self.curvature * (x**2).sum(axis=-1) - wells.sum(axis=-1)

    def _points(self, x: ArrayLike) -> Array:
        arr = np.asarray(x, dtype=float)
        if self.dim == 1 and (arr.ndim == 0 or arr.shape[-1] != 1):
            arr = arr[..., None]
        return check.field_points("x", arr, self.dim)


def wide_and_sharp(dim: int = 1) -> GaussianWells:
    """A wide shallow minimum near ``-1.5 e_1`` and a narrow deeper one near ``+1.5 e_1``.

    The wells have depths 1.0 and 1.6 and widths 0.7 and 0.12 in a bowl of
    curvature 0.1; in 2-D the narrow well sits at ``(1.5, 0.5)``.  Used by
    the local-entropy chapter and its explorer.
    """
    if dim == 1:
        centres = [[-1.5], [1.5]]
    elif dim == 2:
        centres = [[-1.5, 0.0], [1.5, 0.5]]
    else:
        raise ValueError(f"dim must be 1 or 2, got {dim!r}")
    return GaussianWells(centres=np.array(centres), depths=np.array([1.0, 1.6]),
                         widths=np.array([0.7, 0.12]), curvature=0.1)


def local_entropy(f: Callable[[Array], ArrayLike] | ArrayLike, gamma: float,
                  grid: ArrayLike | Grid2D) -> Array:
    r"""Local entropy :math:`f_\gamma = -\log(G_\gamma * e^{-f})` on a grid (Section V-C).

    :math:`G_\gamma` is the Gaussian kernel of variance :math:`\gamma` per
    coordinate.  The convolution is a quadrature over the grid's nodes, one
    axis at a time (the kernel factorises): a matrix product on
    :math:`e^{-f}` shifted by its maximum along the axis, so that a large
    :math:`f` does not underflow, and ``logsumexp`` for any node where the
    product still underflows.  The grid must extend a few :math:`\sqrt\gamma`
    beyond the region of interest: mass outside it is not counted.

    Parameters
    ----------
    f : callable or array_like
        The loss, vectorised over points ``(..., d)`` (``(...,)`` arrays of
        scalars for a 1-D grid), or its values at the grid's nodes.
    gamma : float
        Variance of the kernel, > 0.
    grid : array_like of shape (n,), or Grid2D
        Uniformly spaced nodes in 1-D, or a 2-D grid from
        :func:`sgdlab.core.grid.grid2d`.

    Returns
    -------
    ndarray
        :math:`f_\gamma` at the nodes, shape ``(n,)`` or ``(nx, ny)``.
    """
    gamma = check.positive_scalar("gamma", gamma)
    if isinstance(grid, Grid2D):
        axes, points = [grid.x, grid.y], grid.points
    else:
        points = np.asarray(grid, dtype=float)
        if points.ndim != 1 or points.size < 3 or not np.all(np.isfinite(points)):
            raise ValueError("grid must be a 1-D array of at least 3 finite nodes or a Grid2D")
        axes = [points]
    log_p = -np.asarray(f(points) if callable(f) else f, dtype=float)
    if log_p.shape != tuple(a.size for a in axes) or np.any(np.isnan(log_p)):
        raise ValueError("f must return finite values of the grid's shape")
    for axis, nodes in enumerate(axes):
        h = np.diff(nodes)
        if np.any(h <= 0) or np.ptp(h) > 1e-9 * h.mean():
            raise ValueError("grid nodes must be increasing and uniformly spaced")
        diff = nodes[:, None] - nodes[None, :]
        log_kernel = (-(diff**2) / (2 * gamma) - 0.5 * math.log(2 * math.pi * gamma)
                      + math.log(h[0]))
        moved = np.moveaxis(log_p, axis, -1)
        shift = moved.max(axis=-1, keepdims=True)
        with np.errstate(divide="ignore"):
            out = np.log(np.exp(moved - shift) @ np.exp(log_kernel).T) + shift
        lost = ~np.isfinite(out)
        if lost.any():
            out[lost] = special.logsumexp(moved[..., None, :] + log_kernel, axis=-1)[lost]
        log_p = np.moveaxis(out, -1, axis)
    return -log_p


def local_entropy_quad(f: Callable[[float], float], gamma: float, x: float, *,
                       width: float = 12.0, points: ArrayLike = ()) -> float:
    r"""Local entropy :math:`f_\gamma(x)` at one point of the line, by adaptive quadrature.

    :math:`f_\gamma(x) = -\log\int \frac{e^{-z^2/2}}{\sqrt{2\pi}}\,e^{-f(x + \sqrt\gamma z)}dz`
    (eq. of Section V-C with :math:`y = x + \sqrt\gamma z`), integrated by
    :func:`scipy.integrate.quad` over :math:`|z| \le` ``width`` (the kernel's
    tail beyond is :math:`< e^{-\text{width}^2/2}` of the mass), with
    :math:`e^{-f}` scaled by its value at :math:`x` against underflow.  An
    independent check of the grid computation of :func:`local_entropy`.

    Parameters
    ----------
    f : callable
        The loss at one point, float to float.
    gamma : float
        Kernel variance, > 0.
    x : float
        Where to evaluate.
    width : float, default 12
        Half-width of the integration range in kernel standard deviations.
    points : array_like, optional
        Abscissae :math:`y` where the integrand changes quickly (the centres of
        narrow wells); passed on to ``quad`` as break points.

    Returns
    -------
    float
    """
    gamma = check.positive_scalar("gamma", gamma)
    x = check.finite_scalar("x", x)
    width = check.positive_scalar("width", width)
    sd = math.sqrt(gamma)
    f0 = float(f(x))
    breaks = [(p - x) / sd for p in np.atleast_1d(np.asarray(points, dtype=float))
              if abs(p - x) < width * sd]

    def integrand(z: float) -> float:
        return math.exp(-0.5 * z * z - (float(f(x + sd * z)) - f0)) / math.sqrt(2 * math.pi)

    value, _ = integrate.quad(integrand, -width, width, points=breaks or None, epsabs=0.0,
                              epsrel=1e-13, limit=200)
    return f0 - math.log(value)


@dataclass(frozen=True)
class TiltedWell:
    r"""A non-quadratic loss in the plane with two minima of unequal depth.

    :math:`f(x) = (x_1^2 - 1)^2/4 + x_2^2/2 + c\,x_1 x_2 + t\,x_1`: a double
    well along :math:`x_1`, coupled to :math:`x_2` by ``c`` and tilted by
    ``t`` so that the two minima differ.

    Parameters
    ----------
    coupling : float
        :math:`c`, with :math:`|c| < 1/\sqrt2` so that :math:`f` grows at infinity.
    tilt : float
        :math:`t`.
    """

    coupling: float
    tilt: float

    def __post_init__(self) -> None:
        c = check.finite_scalar("coupling", self.coupling)
        if abs(c) >= math.sqrt(0.5):
            raise ValueError(f"coupling must satisfy |c| < 1/sqrt(2), got {c}")
        object.__setattr__(self, "coupling", c)
        object.__setattr__(self, "tilt", check.finite_scalar("tilt", self.tilt))

    def f(self, x: ArrayLike) -> Array:
        """The loss :math:`f(x)`, shape ``(...)``."""
        x = check.field_points("x", x, 2)
        return ((x[..., 0] ** 2 - 1.0) ** 2 / 4.0 + x[..., 1] ** 2 / 2.0
                + self.coupling * x[..., 0] * x[..., 1] + self.tilt * x[..., 0])

    def grad_f(self, x: ArrayLike) -> Array:
        r""":math:`\nabla f(x)`, shape ``(..., 2)``."""
        x = check.field_points("x", x, 2)
        return np.stack([x[..., 0] * (x[..., 0] ** 2 - 1.0) + self.coupling * x[..., 1]
                         + self.tilt, x[..., 1] + self.coupling * x[..., 0]], axis=-1)


def swirling_diffusion(x: ArrayLike, strength: float = 0.3) -> Array:
    r"""An anisotropic, state-dependent diffusion matrix field :math:`D(x)`.

    .. math::
        D(x) = \begin{pmatrix} 1 & s\,\sigma(x) \\
        s\,\sigma(x) & 0.4 + 0.3\,e^{-x_1^2} \end{pmatrix},\qquad
        \sigma(x) = \tfrac12\big(1 + \tanh(x_1 x_2)\big),

    symmetric and diagonally dominant (hence positive definite) for
    :math:`|s| < 0.4`; its eigenvectors turn with :math:`x`, so it is not a
    multiple of the identity anywhere.  The off-diagonal entry keeps the sign
    of :math:`s`, so the finite-volume scheme of
    :mod:`sgdlab.core.fokker_planck` stays second-order for it.

    Parameters
    ----------
    x : array_like, shape (..., 2)
    strength : float, default 0.3
        :math:`s`, with :math:`|s| < 0.4`.

    Returns
    -------
    ndarray, shape (..., 2, 2)
    """
    x = check.field_points("x", x, 2)
    s = check.finite_scalar("strength", strength)
    if abs(s) >= 0.4:
        raise ValueError(f"strength must satisfy |s| < 0.4, got {s}")
    off = s * 0.5 * (1.0 + np.tanh(x[..., 0] * x[..., 1]))
    d22 = 0.4 + 0.3 * np.exp(-x[..., 0] ** 2)
    return np.stack([np.stack([np.ones_like(off), off], -1), np.stack([off, d22], -1)], -2)


def rotation(angle: float) -> Array:
    r"""The rotation :math:`R_\theta` of the plane by ``angle``, counter-clockwise.

    .. math::
        R_\theta = \begin{pmatrix}\cos\theta & -\sin\theta\\
                                  \sin\theta & \cos\theta\end{pmatrix},

    so that :math:`R_\theta\,\mathrm{diag}(a, b)\,R_\theta^\top` has the
    eigenvalue :math:`a` along :math:`(\cos\theta, \sin\theta)`: how the
    course turns a Hessian or a diffusion matrix off the axes (Remark 25).

    Parameters
    ----------
    angle : float
        :math:`\theta` in radians.

    Returns
    -------
    ndarray, shape (2, 2)

    Examples
    --------
    >>> rotation(np.pi / 2).round(12) + 0.0
    array([[ 0., -1.],
           [ 1.,  0.]])
    """
    theta = check.finite_scalar("angle", angle)
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


def anisotropic_diffusion(ratio: float, angle: float) -> Array:
    r"""A constant diffusion matrix with eigenvalues 1 and ``ratio``, turned by ``angle``.

    :math:`D = R_\theta\,\mathrm{diag}(1, r)\,R_\theta^\top`, with
    :math:`R_\theta` the rotation by :math:`\theta`: isotropic for :math:`r = 1`
    (Lemma 6), and non-isotropic but constant otherwise, the setting of
    Remark 25.  On square cells the finite-volume scheme of
    :mod:`sgdlab.core.fokker_planck` needs :math:`D` diagonally dominant, which holds
    at every angle when :math:`r > 3 - 2\sqrt2 \approx 0.172`.

    Parameters
    ----------
    ratio : float
        :math:`r > 0`, the second eigenvalue (the first is 1).
    angle : float
        :math:`\theta` in radians, the direction of the eigenvector of eigenvalue 1.

    Returns
    -------
    ndarray, shape (2, 2)
    """
    r = check.positive_scalar("ratio", ratio)
    rot = rotation(angle)
    return rot @ np.diag([1.0, r]) @ rot.T
