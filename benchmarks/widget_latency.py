"""Latency of the double-well explorer: one slider move to a new picture.

Run with ``make bench`` (or ``python benchmarks/widget_latency.py``).  For
each slider, the explorer's value is moved through a sweep and each move is
timed until the new PNG is in the widget.  The baseline, measured in the same
run, redraws the same frames the straightforward way: matplotlib's
``streamplot`` and a full ``savefig`` of a fresh figure.  Target: a median
under 100 ms on a two-core CPU.
"""

from __future__ import annotations

import io
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sgdlab.landscapes import double_well
from sgdlab.plotting import draw_flow
from widgets.double_well import BOX, compute_frame, double_well_explorer

SWEEPS = {
    "lam": np.round(np.arange(0.0, 2.001, 0.05), 2),
    "noise": np.round(np.geomspace(0.1, 3.0, 15), 3),
    "particles": np.arange(100, 3001, 200),
    "horizon": np.arange(0.5, 20.01, 1.5),
}


def time_moves(explorer, slider: str, values) -> np.ndarray:
    out = []
    for value in values:
        start = time.perf_counter()
        getattr(explorer, slider).value = value
        out.append(time.perf_counter() - start)
    return np.array(out)


def baseline(lam: float, explorer) -> float:
    """The same frame drawn naively: streamplot on a fresh figure, full savefig."""
    start = time.perf_counter()
    frame = compute_frame(lam, explorer.noise.value, explorer.particles.value,
                          explorer.horizon.value)
    well = double_well(lam)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.0, 4.3), dpi=80, layout="constrained")
    draw_flow(ax1, well.grad_f, well.phi, BOX, zeros=frame.zeros, n=60, density=1.0)
    ax1.plot(*frame.path.T, color="tab:red")
    ax2.scatter(*frame.particles.T, s=3)
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)
    return time.perf_counter() - start


def main() -> None:
    explorer = double_well_explorer()
    defaults = {name: getattr(explorer, name).value for name in SWEEPS}
    print(f"{'slider':10s} {'moves':>5s} {'median ms':>10s} {'p90 ms':>8s} {'max ms':>8s}")
    medians = {}
    for slider, values in SWEEPS.items():
        times = 1e3 * time_moves(explorer, slider, values)
        medians[slider] = np.median(times)
        print(f"{slider:10s} {len(times):5d} {medians[slider]:10.1f} "
              f"{np.percentile(times, 90):8.1f} {times.max():8.1f}")
        getattr(explorer, slider).value = defaults[slider]
    naive = 1e3 * np.median([baseline(lam, explorer) for lam in SWEEPS["lam"][::4]])
    print(f"\nbaseline (streamplot + savefig of a fresh figure): median {naive:.1f} ms")
    print(f"lambda slider: {medians['lam']:.1f} ms median, {naive / medians['lam']:.1f}x "
          f"faster than the baseline; target < 100 ms: "
          f"{'met' if medians['lam'] < 100 else 'NOT met'}")


if __name__ == "__main__":
    main()
