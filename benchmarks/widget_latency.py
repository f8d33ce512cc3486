"""Latency of the explorers: one slider move to a new picture.

Run with ``make bench`` (or ``python benchmarks/widget_latency.py``).  For
each explorer and each of its sliders, the value is moved through a sweep
and each move is timed until the new PNG is in the widget.  The baseline,
measured in the same run, redraws the double-well frames the straightforward
way: matplotlib's ``streamplot`` on a fresh figure and a full ``savefig``.
Target: a median under 100 ms per slider on a two-core CPU.
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
from widgets import double_well_explorer, local_entropy_explorer
from widgets.double_well import BOX, compute_frame

EXPLORERS = {
    "double well": (double_well_explorer, {
        "lam": np.round(np.arange(0.0, 2.001, 0.05), 2),
        "noise": np.round(np.geomspace(0.1, 3.0, 15), 3),
        "particles": np.arange(100, 3001, 200),
        "horizon": np.arange(0.5, 20.01, 1.5),
    }),
    "local entropy": (local_entropy_explorer, {
        "gamma": np.geomspace(1e-3, 1.0, 25),
        "beta": np.arange(1.0, 50.1, 4.0),
    }),
}


def time_moves(explorer, slider: str, values) -> np.ndarray:
    out = []
    for value in values:
        start = time.perf_counter()
        getattr(explorer, slider).value = value
        out.append(time.perf_counter() - start)
    return np.array(out)


def baseline(lam: float) -> float:
    """A double-well frame drawn naively: streamplot on a fresh figure, full savefig."""
    start = time.perf_counter()
    frame = compute_frame(lam, 1.0, 600, 4.0)
    well = double_well(lam)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.0, 4.3), dpi=80, layout="constrained")
    draw_flow(ax1, well.grad_f, well.phi, BOX, zeros=frame.zeros, n=60, density=1.0)
    ax1.plot(*frame.path.T, color="tab:red")
    ax2.scatter(*frame.particles.T, s=3)
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)
    return time.perf_counter() - start


def main() -> None:
    print(f"{'explorer':14s} {'slider':10s} {'moves':>5s} {'median ms':>10s} {'p90 ms':>8s}")
    medians = {}
    for name, (factory, sweeps) in EXPLORERS.items():
        explorer = factory()
        for slider, values in sweeps.items():
            default = getattr(explorer, slider).value
            times = 1e3 * time_moves(explorer, slider, values)
            medians[name, slider] = np.median(times)
            print(f"{name:14s} {slider:10s} {len(times):5d} {medians[name, slider]:10.1f} "
                  f"{np.percentile(times, 90):8.1f}")
            getattr(explorer, slider).value = default
    naive = 1e3 * np.median([baseline(lam) for lam in EXPLORERS["double well"][1]["lam"][::4]])
    lam = medians["double well", "lam"]
    print(f"\nbaseline (double well, streamplot + savefig of a fresh figure): {naive:.1f} ms; "
          f"the lambda slider is {naive / lam:.1f}x faster")
    slow = [f"{n}/{s}" for (n, s), m in medians.items() if m >= 100]
    print("target < 100 ms median per slider:", "met" if not slow else f"NOT met for {slow}")


if __name__ == "__main__":
    main()
