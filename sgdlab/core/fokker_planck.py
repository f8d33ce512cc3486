r"""Conservative finite-volume solver of the Fokker-Planck equation (FP).

The equation, in Itô form, is

.. math::
    \partial_t\rho = \nabla\cdot\big(\nabla f\,\rho + \beta^{-1}\nabla\cdot(D\rho)\big)
    = -\nabla\cdot J,\qquad
    J = -\nabla f\,\rho - \beta^{-1}\nabla\cdot(D\rho),

on a box with no flux through its boundary.  The unknowns are cell values of
:math:`\rho`; mass moves between neighbouring cells along links.  Axis links
carry the drift and the axis part of :math:`D` by the Scharfetter-Gummel
(exponential fitting) formula, an M-matrix for any cell Péclet number.  In 2-D
the cross-diffusion is written as :math:`D = \sum_v a_v v v^\top` over the
lattice vectors :math:`v = (h_1, 0), (0, h_2), (h_1, \pm h_2)` with
:math:`a_v \ge 0` (possible when :math:`D` is diagonally dominant in grid
units), so that :math:`\nabla\cdot\nabla\cdot(D\rho) = \sum_v (v\cdot\nabla)^2(a_v\rho)`
is carried by the diagonal links with non-negative weights.  Every link rate
leaves one cell and enters another, so the columns of the generator sum to
zero and mass is conserved to round-off; with non-negative off-diagonal
entries, implicit Euler keeps densities non-negative.

The scheme is second-order accurate in space for smooth :math:`f` and
:math:`D`; where :math:`D_{12}` changes sign the split of :math:`D` between
the two diagonal directions has a kink, and the accuracy drops to first order
there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.sparse import linalg as splinalg

from sgdlab import _validation as check
from sgdlab._typing import Array
from sgdlab.core.grid import CellGrid, Grid2D, divergence, gradient
from sgdlab.core.timeseries import TimeSeries

__all__ = ["MAX_CELL_MASS", "Assumption4", "FokkerPlanck", "FreeEnergyRates", "assumption4",
           "fokker_planck", "kl_divergence"]

Field = Callable[[Array], ArrayLike]

#: Largest share of the steady state's mass one cell may hold; beyond it the
#: grid cannot resolve the density, and :meth:`FokkerPlanck.steady_state` refuses.
MAX_CELL_MASS = 0.25


@dataclass(frozen=True)
class FreeEnergyRates:
    r"""The terms of :math:`dF/dt` at one density (:meth:`FokkerPlanck.free_energy_rates`).

    With :math:`\psi = \delta F/\delta\rho = \beta^{-1}(\log(\rho/\rho_{ss}) + 1)`,
    (FP) reads :math:`\partial_t\rho = \nabla\cdot(-j\rho + \rho D\nabla\psi)`
    (eq. A3), and

    .. math::
        \frac{dF}{dt} = -\int\rho\,\nabla\psi^\top D\nabla\psi
        + \int\rho\,j\cdot\nabla\Phi + \beta^{-1}\int j\cdot\nabla\rho .

    Attributes
    ----------
    dissipation : float
        :math:`-\int\rho\,\nabla\psi^\top D\nabla\psi \le 0`, Theorem 5's
        :math:`dF/dt` (Appendix B).
    force_energy : float
        :math:`\int\rho\,j\cdot\nabla\Phi`, the rate at which the flow
        :math:`\dot x = j` changes :math:`\mathbb E_\rho[\Phi]`.
    force_entropy : float
        :math:`\beta^{-1}\int j\cdot\nabla\rho`, the rate at which it changes
        :math:`-\beta^{-1}H(\rho)`.  In the continuum the two force terms cancel
        for every :math:`\rho` (Lemma 7: :math:`j` does not change :math:`F`),
        since :math:`\nabla\cdot(j\rho_{ss}) = 0`.
    generator : float
        :math:`\beta^{-1}\sum_c |c|\,(A\rho)_c\log(\rho_c/\rho_{ss,c})`, the exact
        derivative of the discrete :math:`F` along :math:`d\rho/dt = A\rho`.
    """

    dissipation: float
    force_energy: float
    force_entropy: float
    generator: float


@dataclass(frozen=True, eq=False)
class FokkerPlanck:
    r"""Finite-volume discretisation of (FP) on a :class:`~sgdlab.core.grid.CellGrid`.

    Build it with :func:`fokker_planck`.

    Attributes
    ----------
    grid : CellGrid
    beta : float
    generator : scipy.sparse.csc_matrix
        :math:`A` with :math:`d\rho/dt = A\rho` on the flattened cell values
        (C order); its columns sum to zero.
    links : tuple
        One entry ``(v, src, dst, rates)`` per link family: the lattice vector
        ``v``, the flat indices of the cells ``c`` and ``c + v``, and the sparse
        map from cell values to the rate carried from ``c`` to ``c + v``.
    grad_f : ndarray, shape grid.shape + (d,)
        :math:`\nabla f` at the cell centres.
    diffusion : ndarray, shape grid.shape + (d, d)
        :math:`D` at the cell centres.
    """

    grid: CellGrid
    beta: float
    generator: sparse.csc_matrix
    links: tuple[tuple[Array, NDArray[np.int_], NDArray[np.int_], sparse.csr_matrix], ...]
    grad_f: Array
    diffusion: Array

    @cached_property
    def _steady(self) -> Array:
        n = self.grid.volume
        a = self.generator.tolil(copy=True)
        a[0, :] = np.full(a.shape[1], n)             # replace one equation by the normalisation
        rhs = np.zeros(a.shape[0])
        rhs[0] = 1.0
        rho = splinalg.spsolve(a.tocsc(), rhs)
        if rho.min() < -1e-9 * rho.max():
            raise ValueError(f"the steady state has negative cells ({rho.min():.3g}); refine n")
        # the LU solve fixes values only down to eps * max(rho): in the far tails, where
        # the exact null vector is smaller, it returns round-off of either sign
        rho = np.maximum(rho, np.finfo(float).eps * rho.max())
        rho /= rho.sum() * n
        if rho.max() * n > MAX_CELL_MASS:
            raise ValueError(
                f"grid too coarse for the box: one cell holds {rho.max() * n:.0%} of the "
                f"steady state's mass; use more cells or a smaller box"
            )
        rho.setflags(write=False)
        return rho.reshape(self.grid.shape)

    def steady_state(self) -> Array:
        r"""The steady state :math:`\rho_{ss}` of eq. (4), normalised, shape ``grid.shape``.

        The null vector of the generator, by one sparse LU solve with the first
        equation replaced by :math:`\sum_c \rho_c |c| = 1` (Assumption 3: the
        null space is one-dimensional).  The generator is an M-matrix, so the
        exact solution is positive; where it falls below the accuracy of the
        solve, :math:`\epsilon\max\rho` (:math:`\epsilon` the machine
        epsilon), the value is set to :math:`\epsilon\max\rho`, so that
        :math:`\rho_{ss} > 0` and :math:`\log\rho_{ss}` is finite.

        Raises
        ------
        ValueError
            If the grid is too coarse for the box: one cell holds more than
            :data:`MAX_CELL_MASS` of the mass.
        """
        return self._steady

    def evolve(self, rho0: ArrayLike, t: float, n_steps: int, record_every: int = 1) -> TimeSeries:
        r"""Integrate (FP) from ``rho0`` to time ``t`` by implicit Euler.

        One step solves :math:`(I - \Delta t\,A)\rho_{k+1} = \rho_k` with one
        LU factorisation for all steps.  Columns of :math:`A` sum to zero, so
        mass is conserved to round-off; off-diagonal entries of :math:`A` are
        non-negative (:func:`fokker_planck` ensures it), so
        :math:`(I - \Delta t A)^{-1} \ge 0` entrywise and every step keeps
        :math:`\rho \ge 0`, for any :math:`\Delta t`.

        Parameters
        ----------
        rho0 : array_like, shape grid.shape
            Initial density, >= 0 with positive mass (it is normalised).
        t : float
            Final time, > 0.
        n_steps : int
            Number of steps, :math:`\Delta t = t / n`.
        record_every : int, default 1
            Record every ``record_every``-th step (and the initial density).

        Returns
        -------
        TimeSeries
            Times ``t = k * dt`` of the recorded steps ``k``, shape ``(n_records,)``, and
            cell densities ``x`` at those times, shape ``(n_records,) + grid.shape``
            (each integrates to one with the cell volume).

        Raises
        ------
        ValueError
            If ``rho0`` is not a density on the grid, or round-off makes a step
            negative beyond :math:`10^{-12}\max\rho` (a safeguard; the scheme
            is positive).
        """
        rho = self._density("rho0", rho0)
        t = check.positive_scalar("t", t)
        n_steps = check.positive_int("n_steps", n_steps)
        record_every = check.positive_int("record_every", record_every)
        dt = t / n_steps
        n = rho.size
        lu = splinalg.splu((sparse.identity(n, format="csc") - dt * self.generator).tocsc())
        out = [rho]
        x = rho.ravel()
        for k in range(1, n_steps + 1):
            x = lu.solve(x)
            if x.min() < -1e-12 * x.max():
                raise ValueError(
                    f"round-off made step {k} negative ({x.min():.3g}); try fewer, larger steps"
                )
            if k % record_every == 0:
                out.append(x.reshape(self.grid.shape))
        times = np.arange(len(out), dtype=float) * record_every * dt
        return TimeSeries(t=times, x=np.stack(out))

    def current(self, rho: ArrayLike) -> Array:
        r"""Probability current :math:`J = -\nabla f\rho - \beta^{-1}\nabla\cdot(D\rho)`.

        Each link from cell :math:`c` to :math:`c + v` carries a rate
        :math:`F`; the current at a cell centre is
        :math:`\sum_v v\,(F_{c-v\to c} + F_{c\to c+v})/2`, a second-order
        average of the links through it (a boundary cell sees one link
        only, the other carries zero).  Shape ``grid.shape + (d,)``.
        """
        x = self._density("rho", rho, normalise=False).ravel()
        out = np.zeros((x.size, self.grid.dim))
        for vec, src, dst, op in self.links:
            rate = op @ x
            np.add.at(out, src, 0.5 * rate[:, None] * vec)
            np.add.at(out, dst, 0.5 * rate[:, None] * vec)
        return out.reshape(*self.grid.shape, self.grid.dim)

    def potential(self) -> Array:
        r""":math:`\Phi = -\beta^{-1}\log\rho_{ss}` (eq. 5), with :math:`\rho_{ss}` normalised.

        Far in the tails, where :math:`\rho_{ss}` is below the accuracy of the
        solve (see :meth:`steady_state`), :math:`\Phi` saturates.
        """
        return -np.log(self.steady_state()) / self.beta

    def force(self) -> Array:
        r"""The force :math:`j = -\nabla f + D\nabla\Phi - \beta^{-1}\nabla\cdot D` (eq. 8).

        Evaluated at the cell centres from :math:`\Phi` of eq. (5), with
        :math:`\nabla\Phi` and :math:`\nabla\cdot D` by second-order
        differences; shape ``grid.shape + (d,)``.
        """
        grad_phi = gradient(self.potential(), self.grid)
        return (-self.grad_f + np.einsum("...ij,...j->...i", self.diffusion, grad_phi)
                - self.div_diffusion() / self.beta)

    def div_diffusion(self) -> Array:
        r""":math:`(\nabla\cdot D)_i = \sum_j \partial_j D_{ij}` at the cell centres.

        By second-order differences; shape ``grid.shape + (d,)``.
        """
        d = self.grid.dim
        return sum(np.take(gradient(self.diffusion[..., :, b], self.grid), b, axis=d)
                   for b in range(d))

    def entropy(self, rho: ArrayLike) -> float:
        r"""Differential entropy :math:`H(\rho) = -\int\rho\log\rho` of the cell density."""
        return _entropy(self._density("rho", rho), self.grid.volume)

    def kl(self, rho: ArrayLike) -> float:
        r""":math:`\mathrm{KL}(\rho\,\|\,\rho_{ss}) = \int\rho\log(\rho/\rho_{ss})`."""
        return kl_divergence(rho, self.steady_state(), self.grid.volume)

    def free_energy(self, rho: ArrayLike) -> float:
        r""":math:`F(\rho) = \beta^{-1}\mathrm{KL}(\rho\,\|\,\rho_{ss})` (eq. 10)."""
        return self.kl(rho) / self.beta

    def energetic_entropic(self, rho: ArrayLike, phi: ArrayLike | None = None) -> float:
        r""":math:`\mathbb{E}_\rho[\Phi] - \beta^{-1}H(\rho)`, the split of eq. (11).

        With ``phi`` the potential of eq. (5) (the default) this equals
        :math:`F(\rho)`; with :math:`\Phi` shifted by a constant it differs
        from :math:`F` by that constant.
        """
        rho = self._density("rho", rho)
        phi = self.potential() if phi is None else np.asarray(phi, dtype=float)
        if phi.shape != self.grid.shape:
            raise ValueError(f"phi must have shape {self.grid.shape}, got {phi.shape}")
        pos = rho > 0
        energy = float(np.sum(rho[pos] * phi[pos]) * self.grid.volume)
        return energy - self.entropy(rho) / self.beta

    def free_energy_rates(self, rho: ArrayLike) -> FreeEnergyRates:
        r"""The terms of :math:`dF/dt` at ``rho`` (Theorem 5, Appendix B, Lemma 7).

        The integrands use :math:`\nabla\log(\rho/\rho_{ss})`,
        :math:`\nabla\Phi` and :math:`\nabla\rho` by second-order differences
        and the force of :meth:`force`, so the three continuum terms are
        second-order approximations; ``FreeEnergyRates.generator`` is the
        discrete rate, from the generator.  See :class:`FreeEnergyRates`.

        Parameters
        ----------
        rho : array_like, shape grid.shape
            A positive density (normalised here).

        Raises
        ------
        ValueError
            If ``rho`` has the wrong shape or is not positive everywhere.
        """
        rho = self._density("rho", rho)
        if rho.min() <= 0:
            raise ValueError("rho must be positive in every cell")
        g, vol = self.grid, self.grid.volume
        log_ratio = np.log(rho) - np.log(self.steady_state())
        grad_psi = gradient(log_ratio, g) / self.beta
        dissipation = -float(np.sum(rho * np.einsum("...i,...ij,...j->...", grad_psi,
                                                    self.diffusion, grad_psi)) * vol)
        j = self.force()
        energy = float(np.sum(rho * np.einsum("...i,...i->...", j,
                                              gradient(self.potential(), g))) * vol)
        entropy = float(np.sum(np.einsum("...i,...i->...", j, gradient(rho, g))) * vol
                        / self.beta)
        rate = self.generator @ rho.ravel()
        return FreeEnergyRates(dissipation=dissipation, force_energy=energy,
                               force_entropy=entropy,
                               generator=float(rate @ log_ratio.ravel() * vol / self.beta))

    def _density(self, name: str, rho: ArrayLike, normalise: bool = True) -> Array:
        arr = np.asarray(rho, dtype=float)
        if arr.shape != self.grid.shape:
            raise ValueError(f"{name} must have shape {self.grid.shape}, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite entries")
        if not normalise:
            return arr
        if arr.min() < 0 or arr.sum() <= 0:
            raise ValueError(f"{name} must be >= 0 with positive mass")
        return arr / (arr.sum() * self.grid.volume)


def kl_divergence(rho: ArrayLike, sigma: ArrayLike, volume: float) -> float:
    r""":math:`\mathrm{KL}(\rho\,\|\,\sigma) = \sum_c |c|\,\rho_c\log(\rho_c/\sigma_c)`.

    Parameters
    ----------
    rho, sigma : array_like
        Cell densities of the same shape, each integrating to one.
    volume : float
        Cell volume :math:`|c|`.
    """
    rho, sigma = np.asarray(rho, dtype=float), np.asarray(sigma, dtype=float)
    if rho.shape != sigma.shape:
        raise ValueError(f"sigma must have the shape of rho {rho.shape}, got {sigma.shape}")
    volume = check.positive_scalar("volume", volume)
    pos = rho > 0
    if np.any(sigma[pos] <= 0):
        raise ValueError("sigma must be positive wherever rho is")
    return float(np.sum(rho[pos] * np.log(rho[pos] / sigma[pos])) * volume)


@dataclass(frozen=True)
class Assumption4:
    r"""The two sides of Assumption 4 for a force :math:`j` on a grid (:func:`assumption4`).

    Attributes
    ----------
    div_j : ndarray, shape grid.shape
        :math:`\nabla\cdot j`, zero under Assumption 4.
    j_dot_grad_phi : ndarray, shape grid.shape
        :math:`j\cdot\nabla\Phi`, zero under Assumption 4 (eq. A5).
    """

    div_j: Array
    j_dot_grad_phi: Array

    def stationarity(self, beta: float) -> Array:
        r""":math:`\nabla\cdot j - \beta\,j\cdot\nabla\Phi`, which is
        :math:`e^{\beta\Phi}\,\nabla\cdot(j e^{-\beta\Phi})`.

        Zero wherever :math:`e^{-\beta\Phi}` is steady, :math:`J_{ss} = j\rho_{ss}`
        (eq. A4) being divergence-free, whether Assumption 4 holds or not.
        """
        return self.div_j - check.positive_scalar("beta", beta) * self.j_dot_grad_phi


def assumption4(j: ArrayLike, grad_phi: ArrayLike, grid: Grid2D | CellGrid) -> Assumption4:
    r"""Assumption 4's :math:`\nabla\cdot j` and :math:`j\cdot\nabla\Phi` on a grid.

    The assumption asks for :math:`\nabla\cdot j = 0`; with eq. (A4) it gives
    :math:`j\cdot\nabla\Phi = 0` (eq. A5).  The divergence is taken by
    second-order differences (:func:`sgdlab.core.grid.divergence`).

    Parameters
    ----------
    j : array_like, shape grid.shape + (d,)
        The force of eq. (8), e.g. :meth:`FokkerPlanck.force` or a closed form.
    grad_phi : array_like, shape grid.shape + (d,)
        :math:`\nabla\Phi` at the same points.
    grid : Grid2D or CellGrid

    Returns
    -------
    Assumption4
    """
    j = np.asarray(j, dtype=float)
    grad_phi = np.asarray(grad_phi, dtype=float)
    if grad_phi.shape != j.shape:
        raise ValueError(f"grad_phi must have the shape of j {j.shape}, got {grad_phi.shape}")
    return Assumption4(div_j=divergence(j, grid),
                       j_dot_grad_phi=np.einsum("...i,...i->...", j, grad_phi))


def _entropy(rho: Array, volume: float) -> float:
    pos = rho > 0
    return float(-np.sum(rho[pos] * np.log(rho[pos])) * volume)


def _bernoulli(z: Array) -> Array:
    """:math:`B(z) = z / (e^z - 1)`, with :math:`B(0) = 1`."""
    small = np.abs(z) < 1e-8
    safe = np.where(small, 1.0, z)
    with np.errstate(over="ignore"):
        return np.where(small, 1.0 - z / 2.0, safe / np.expm1(safe))


def fokker_planck(
    grid: CellGrid,
    beta: float,
    *,
    grad_f: Field | None = None,
    f: Field | None = None,
    diffusion: float | ArrayLike | Field | None = None,
) -> FokkerPlanck:
    r"""Assemble the finite-volume generator of (FP) on ``grid``.

    Parameters
    ----------
    grid : CellGrid
        Cells of a box in 1-D or 2-D (:func:`sgdlab.core.grid.cell_grid`); no
        flux leaves the box.
    beta : float
        Inverse temperature :math:`\beta > 0` (:math:`\beta^{-1} = \eta/2b`).
    grad_f : callable, optional
        :math:`\nabla f` on points ``(..., d)``, evaluated on the faces.  It
        need not be a gradient (a non-conservative drift is allowed).
    f : callable, optional
        The loss :math:`f` on points ``(..., d)``; the face drift is then the
        difference quotient of ``f`` between the two cells, and for
        :math:`D = I` the discrete steady state is exactly
        :math:`e^{-\beta f}/Z` at the cell centres.  Give exactly one of
        ``grad_f`` and ``f``.
    diffusion : float, array_like of shape (d, d), or callable, optional
        :math:`D`: a positive scalar (:math:`D = cI`), a constant symmetric
        positive definite matrix, or a function mapping points ``(..., d)``
        to ``(..., d, d)``.  Defaults to the identity.

    Returns
    -------
    FokkerPlanck

    Raises
    ------
    ValueError
        If ``beta`` is not positive, ``D`` is not symmetric positive definite
        at every cell and face, or not diagonally dominant in grid units
        (:math:`D_{aa} > \sum_{b\ne a}|D_{ab}|\,h_a/h_b`, needed for a positive
        scheme), or the drift is not finite.
    """
    if not isinstance(grid, CellGrid):
        raise ValueError(f"grid must be a CellGrid, got {type(grid).__name__}")
    beta = check.positive_scalar("beta", beta)
    if (grad_f is None) == (f is None):
        raise ValueError("give exactly one of grad_f and f")
    d, shape, h = grid.dim, grid.shape, np.array(grid.spacing)
    kappa = 1.0 / beta
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    pts = grid.points
    d_cells = _diffusion(diffusion, pts, d)
    f_cells = None if f is None else _field("f", f, pts, scalar=True)
    offsets, ops = [], []
    for a in range(d):
        # axis links (i, i + e_a): drift and the axis part of D, Scharfetter-Gummel
        offset = tuple(int(b == a) for b in range(d))
        src, dst = _link_cells(idx, offset)
        centres = list(grid.centres)
        centres[a] = grid.edges[a][1:-1]
        faces = np.stack(np.meshgrid(*centres, indexing="ij"), axis=-1)
        if f_cells is None:
            assert grad_f is not None  # exactly one of grad_f and f, checked above
            drift = _field("grad_f", grad_f, faces)[..., a]
        else:
            drift = np.diff(f_cells, axis=a) / h[a]
        d_src, d_dst = (_axis_part(_take(d_cells, cells, d), a, h) for cells in (src, dst))
        d_face = _axis_part(_diffusion(diffusion, faces, d), a, h).ravel()
        pe = drift.ravel() * h[a] / (kappa * d_face)
        coef = kappa / h[a] ** 2
        offsets.append(offset)
        ops.append((src, dst, coef * _bernoulli(pe) * d_src, -coef * _bernoulli(-pe) * d_dst))
    if d == 2:
        # diagonal links carry the cross-diffusion, D = sum_v a_v v v^T over lattice vectors v
        for sign in (1, -1):
            offset = (1, sign)
            src, dst = _link_cells(idx, offset)
            weight = np.maximum(sign * d_cells[..., 0, 1], 0.0) / (h[0] * h[1])
            offsets.append(offset)
            ops.append((src, dst, kappa * _take(weight, src, d), -kappa * _take(weight, dst, d)))
    n = idx.size
    links = []
    for src, dst, c_src, c_dst in ops:
        m = src.size
        links.append(sparse.csr_matrix(
            (np.concatenate([c_src, c_dst]),
             (np.tile(np.arange(m), 2), np.concatenate([src, dst]))), shape=(m, n)))
    gen = sum(sparse.csr_matrix(
        (np.concatenate([-np.ones(src.size), np.ones(src.size)]),
         (np.concatenate([src, dst]), np.tile(np.arange(src.size), 2))),
        shape=(n, src.size)) @ op for (src, dst, _, _), op in zip(ops, links, strict=True))
    if f_cells is None:
        assert grad_f is not None
        gf = _field("grad_f", grad_f, pts)
    else:
        gf = gradient(f_cells, grid)
    return FokkerPlanck(grid=grid, beta=beta, generator=sparse.csc_matrix(gen),
                        links=tuple((np.array(o) * h, s, t, op) for o, (s, t, _, _), op
                                    in zip(offsets, ops, links, strict=True)),
                        grad_f=gf, diffusion=d_cells)


def _link_cells(idx: NDArray[np.int_], offset: tuple[int, ...]) -> tuple[NDArray[np.int_], ...]:
    """Flat indices of the cell pairs ``(c, c + offset)`` that lie in the grid."""
    src = idx[tuple(slice(max(0, -o), s - max(0, o)) for o, s in zip(offset, idx.shape,
                                                                      strict=True))]
    dst = idx[tuple(slice(max(0, o), s - max(0, -o)) for o, s in zip(offset, idx.shape,
                                                                     strict=True))]
    return src.ravel(), dst.ravel()


def _take(field: Array, cells: NDArray[np.int_], d: int) -> Array:
    """Values at flat cell indices of a field of shape ``grid.shape + tail`` (``d`` grid axes)."""
    return field.reshape(-1, *field.shape[d:])[cells]


def _axis_part(mats: Array, a: int, h: Array) -> Array:
    r""":math:`D_{aa} - \sum_{b\ne a}|D_{ab}|\,h_a/h_b`, the part of D left on the axis links."""
    out = mats[..., a, a].copy()
    for b in range(mats.shape[-1]):
        if b != a:
            out -= np.abs(mats[..., a, b]) * h[a] / h[b]
    if np.any(out <= 0):
        raise ValueError(
            "diffusion must be diagonally dominant on this grid, D_aa > sum_b |D_ab| h_a / h_b "
            "(the condition for a positive scheme); change the cell aspect ratio n or the axes")
    return out.ravel()


def _field(name: str, fn: Field, pts: Array, scalar: bool = False) -> Array:
    out = np.asarray(fn(pts), dtype=float)
    want = pts.shape[:-1] if scalar else pts.shape
    if out.shape != want:
        raise ValueError(f"{name} must return shape {want} on points {pts.shape}, got {out.shape}")
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} returned NaN or infinite values on the grid")
    return out


def _diffusion(diffusion: float | ArrayLike | Field | None, pts: Array, d: int) -> Array:
    """D at the points, shape ``pts.shape[:-1] + (d, d)``, checked symmetric positive definite."""
    if diffusion is None:
        mats = np.broadcast_to(np.eye(d), (*pts.shape[:-1], d, d))
    elif callable(diffusion):
        mats = np.asarray(diffusion(pts), dtype=float)
    elif np.ndim(diffusion) == 0:
        c = check.positive_scalar("diffusion", np.asarray(diffusion).item())
        mats = np.broadcast_to(c * np.eye(d), (*pts.shape[:-1], d, d))
    else:
        mats = np.broadcast_to(np.asarray(diffusion, dtype=float), (*pts.shape[:-1], d, d)) \
            if np.shape(diffusion) == (d, d) else np.asarray(diffusion, dtype=float)
    want = (*pts.shape[:-1], d, d)
    if mats.shape != want:
        raise ValueError(f"diffusion must have shape ({d}, {d}) or return {want}, "
                         f"got {mats.shape}")
    return np.array(check.psd_matrix("diffusion", mats, d, definite=True, stack=True))
