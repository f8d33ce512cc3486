"""Speed of the Fokker-Planck steady state: sparse LU against a dense solve.

Run with ``python benchmarks/fokker_planck.py``.  The case is the hardest the
solver meets in the book: the tilted double well with the anisotropic,
state-dependent ``swirling_diffusion`` (nine-point stencil), 2-D.  The timed
work is the whole job, assembling the generator and solving for the steady
state, on a 256 x 256 grid (65,536 unknowns).  The baseline, measured in the
same run, is a dense solve (``numpy.linalg.solve``) of the same system with the
same normalisation row on a 48 x 48 grid: the dense cost grows like N^3, so it
cannot reach 256 x 256 at all (a 65,536^2 dense matrix is 34 GB).  Target: the
256 x 256 steady state in under 2 s.
"""

from __future__ import annotations

import time

import numpy as np

from sgdlab.core.fokker_planck import fokker_planck
from sgdlab.core.grid import cell_grid
from sgdlab.core.landscapes import TiltedWell, swirling_diffusion

BETA = 2.0
BOX = [[-3.0, 3.0], [-3.0, 3.0]]
WELL = TiltedWell(coupling=0.3, tilt=0.1)
REPEATS = 3


def sparse_steady_state(n: int) -> np.ndarray:
    fp = fokker_planck(cell_grid(BOX, n), BETA, grad_f=WELL.grad_f,
                       diffusion=swirling_diffusion)
    return fp.steady_state()


def dense_steady_state(n: int) -> np.ndarray:
    grid = cell_grid(BOX, n)
    fp = fokker_planck(grid, BETA, grad_f=WELL.grad_f, diffusion=swirling_diffusion)
    a = fp.generator.toarray()
    a[0] = grid.volume
    rhs = np.zeros(a.shape[0])
    rhs[0] = 1.0
    return np.linalg.solve(a, rhs).reshape(grid.shape)


def best_time(fn, n: int) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn(n)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    n_big, n_small = 256, 48
    sparse_big = best_time(sparse_steady_state, n_big)
    sparse_small = best_time(sparse_steady_state, n_small)
    dense_small = best_time(dense_steady_state, n_small)
    gap = np.abs(sparse_steady_state(n_small) - dense_steady_state(n_small)).max()
    print(f"sparse LU, {n_big} x {n_big} ({n_big**2} unknowns): {sparse_big:.3f} s "
          f"(target < 2 s: {'met' if sparse_big < 2.0 else 'MISSED'})")
    print(f"sparse LU, {n_small} x {n_small} ({n_small**2} unknowns): {sparse_small:.4f} s")
    print(f"dense numpy.linalg.solve, {n_small} x {n_small}: {dense_small:.3f} s")
    print(f"ratio dense / sparse on {n_small} x {n_small}: {dense_small / sparse_small:.1f}")
    print(f"ratio dense {n_small}^2 / sparse {n_big}^2 ({n_big**2 / n_small**2:.0f}x more "
          f"unknowns): {dense_small / sparse_big:.2f}")
    print(f"max |sparse - dense| on {n_small} x {n_small}: {gap:.1e}")


if __name__ == "__main__":
    main()
