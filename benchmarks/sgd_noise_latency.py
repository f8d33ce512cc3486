"""Latency of the SGD-noise explorer: one control move to a new picture.

Run with ``python benchmarks/sgd_noise_latency.py``.  For each control, the
explorer's value is moved through a sweep and each move is timed until the
new PNG is in the widget.  The baseline, measured in the same run, computes
the same frames the straightforward way: :func:`sgdlab.sgd.sgd` stepping
with a per-step batch gradient, then a fresh figure and a full ``savefig``.
Target: a median under 100 ms on a two-core CPU.
"""

from __future__ import annotations

import io
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sgdlab.sgd import covariance_ellipse, sgd
from widgets.sgd_noise import N_CHAINS, PROBLEM, burn_in, sgd_noise_explorer

SWEEPS = {
    "eta": np.round(np.geomspace(0.05, 1.0, 15), 3),
    "b": np.arange(1, 17),
    "replacement": [False, True] * 4,
}


def time_moves(explorer, control: str, values) -> np.ndarray:
    out = []
    for value in values:
        start = time.perf_counter()
        getattr(explorer, control).value = value
        out.append(time.perf_counter() - start)
    return np.array(out)


def baseline(eta: float, b: int, replacement: bool) -> float:
    """The same frame computed naively: generic SGD loop, fresh figure, full savefig."""
    start = time.perf_counter()
    x0 = np.tile(PROBLEM.minimum, (N_CHAINS, 1))
    n_steps = burn_in(eta)
    chains = sgd(PROBLEM.batch_grad, len(PROBLEM.centres), x0, eta, b, n_steps,
                 replacement=replacement, record_every=n_steps, seed=0)[-1]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.0, 4.2), dpi=80, layout="constrained")
    ax1.scatter(*chains.T, s=4)
    for cov in (PROBLEM.sde_covariance(eta, b, replacement),
                PROBLEM.sgd_covariance(eta, b, replacement)):
        ax1.plot(*covariance_ellipse(PROBLEM.minimum, cov).T)
    ax2.loglog([eta / b], [np.trace(np.cov(chains.T))], "o")
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)
    return time.perf_counter() - start


def main() -> None:
    explorer = sgd_noise_explorer()
    defaults = {name: getattr(explorer, name).value for name in SWEEPS}
    print(f"{'control':12s} {'moves':>5s} {'median ms':>10s} {'p90 ms':>8s} {'max ms':>8s}")
    medians = {}
    for control, values in SWEEPS.items():
        times = 1e3 * time_moves(explorer, control, values)
        medians[control] = np.median(times)
        print(f"{control:12s} {len(times):5d} {medians[control]:10.1f} "
              f"{np.percentile(times, 90):8.1f} {times.max():8.1f}")
        getattr(explorer, control).value = defaults[control]
    naive = 1e3 * np.median([baseline(eta, defaults["b"], defaults["replacement"])
                             for eta in SWEEPS["eta"][::3]])
    print(f"\nbaseline (generic SGD loop + savefig of a fresh figure): median {naive:.1f} ms")
    worst = max(medians.values())
    print(f"slowest control: {worst:.1f} ms median, {naive / worst:.1f}x faster than the "
          f"baseline; target < 100 ms: {'met' if worst < 100 else 'NOT met'}")


if __name__ == "__main__":
    main()
