"""Latency of the explorers: one slider move to a new picture.

Run with ``make bench`` (or ``python benchmarks/widget_latency.py``).  For
each explorer and each of its controls, the value is moved through a sweep
and each move is timed until the new PNG is in the widget.  Baselines,
measured in the same run, draw the same frames the straightforward way
(fresh figure, full ``savefig``, and for the double well matplotlib's
``streamplot``; for SGD a generic per-step loop).  Target: a median under
100 ms per control on a two-core CPU.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sgdlab.core.inference import bayesian_linear_regression
from sgdlab.core.landscapes import double_well
from sgdlab.core.plotting import draw_flow
from sgdlab.core.sgd import covariance_ellipse, simulate
from sgdlab.deep import noise_tails, spectra
from sgdlab.deep.runs import CONFIGS, RunConfig, record
from widgets import (
    anisotropy_explorer,
    double_well_explorer,
    escape_explorer,
    fdr_explorer,
    local_entropy_explorer,
    noise_tails_explorer,
    posterior_explorer,
    rotation_explorer,
    sgd_noise_explorer,
    spectrum_explorer,
    trajectory_explorer,
)
from widgets import double_well as dw
from widgets import sgd_noise as sn
from widgets.fdr import ETA_RANGE


def double_well_baseline(lam: float) -> None:
    """A double-well frame drawn naively: streamplot on a fresh figure, full savefig."""
    frame = dw.compute_frame(lam, 1.0, 600, 4.0)
    well = double_well(lam)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.0, 4.3), dpi=80, layout="constrained")
    draw_flow(ax1, well.grad_f, well.phi, dw.BOX, zeros=frame.zeros, n=60, density=1.0)
    ax1.plot(*frame.path.T, color="tab:red")
    ax2.scatter(*frame.particles.T, s=3)
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


def sgd_noise_baseline(eta: float) -> None:
    """An SGD-noise frame computed naively: generic SGD loop, fresh figure, full savefig."""
    problem, b = sn.PROBLEM, 4
    n_steps = sn.burn_in(eta)
    chains = simulate(problem.batch_grad, len(problem.centres),
                      np.tile(problem.minimum, (sn.N_CHAINS, 1)), eta, b, n_steps,
                      replacement=True, record_every=n_steps, rng=0).x[-1]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.0, 4.2), dpi=80, layout="constrained")
    ax1.scatter(*chains.T, s=4)
    for cov in (problem.sde_covariance(eta, b, True), problem.sgd_covariance(eta, b, True)):
        ax1.plot(*covariance_ellipse(problem.minimum, cov).T)
    ax2.loglog([eta / b], [np.trace(np.cov(chains.T))], "o")
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


def trajectory_weights() -> np.ndarray:
    """Snapshots as long as the chapter's (made once, then found in the runs folder)."""
    cpu = CONFIGS["cpu"]
    config = RunConfig(chains=2, burn_in=10, epochs=cpu.epochs, n=1024, chunk=cpu.chunk)
    return record(config).weights


def chapter_spectra() -> dict:
    """The spectra of the chapter's runs (found in the runs folder once the chapter ran)."""
    return {p: spectra.measure(spectra.experiment(p, "cpu"), progress=False).spectra
            for p in ("small-lenet", "small-fc")}


def regression():
    """A 2-D Bayesian linear regression of 60 examples, as the posterior explorer's tests use."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(60, 2)) * np.array([1.0, 0.6])
    return bayesian_linear_regression(a, a @ [1.0, 0.5] + rng.normal(size=60))


REGRESSION = regression()
#: The posterior explorer's stability limit 2 / lambda_max.
ETA_LIMIT = 2.0 / np.linalg.eigvalsh(REGRESSION.hessian)[-1]


# explorer: (factory, sweeps of its controls, (baseline, the control it redraws for))
EXPLORERS: dict[str, tuple[Callable, dict, tuple[Callable, str] | None]] = {
    "double well": (double_well_explorer, {
        "lam": np.round(np.arange(0.0, 2.001, 0.05), 2),
        "noise": np.round(np.geomspace(0.1, 3.0, 15), 3),
        "particles": np.arange(100, 3001, 200),
        "horizon": np.arange(0.5, 10.01, 0.75),
    }, (double_well_baseline, "lam")),
    "sgd noise": (sgd_noise_explorer, {
        "eta": np.round(np.geomspace(0.05, 1.0, 15), 3),
        "b": np.arange(1, 17),
        "replacement": [False, True] * 4,
    }, (sgd_noise_baseline, "eta")),
    "local entropy": (local_entropy_explorer, {
        "gamma": np.geomspace(1e-3, 1.0, 25),
        "beta": np.arange(1.0, 50.1, 4.0),
    }, None),
    "anisotropy": (anisotropy_explorer, {
        "ratio": np.round(np.arange(0.2, 1.001, 0.05), 2),
        "angle": np.arange(0.0, 180.1, 10.0),
        "temperature": np.round(np.arange(0.02, 0.501, 0.04), 2),
    }, None),
    "spectrum": (lambda: spectrum_explorer(chapter_spectra()), {
        "log_threshold": np.round(np.arange(-3.5, -0.5, 0.2), 2),
        "instant": [0.2, 0.4, 1.0] * 3,
        "network": ["small-fc", "small-lenet"] * 3,
    }, None),
    "trajectory": (lambda: trajectory_explorer(trajectory_weights()), {
        "weight": np.arange(0, 900, 60),
        "max_lag": np.arange(20, 500, 40),
        "chain": [1, 0] * 4,
    }, None),
    "fdr": (fdr_explorer, {
        "eta": np.geomspace(*ETA_RANGE, 15),
        "momentum": np.round(np.arange(0.0, 0.91, 0.1), 2),
        "nesterov": [False, True] * 4,
    }, None),
    "noise tails": (lambda: noise_tails_explorer(noise_tails.run("cpu")), {
        "b": list(noise_tails.BATCH_SIZES),
        "estimator": [1, 2, 0] * 3,
        "instant": ["init", "trained"] * 3,
    }, None),
    "rotation": (rotation_explorer, {
        "angle": np.arange(0.0, 90.1, 5.0),
        "momentum": np.round(np.arange(0.0, 0.951, 0.05), 2),
    }, None),
    "posterior": (lambda: posterior_explorer(REGRESSION), {
        "eta": ETA_LIMIT * np.geomspace(1e-3, 0.99, 15),
        "b": np.arange(1, 61, 4),
    }, None),
    "escape": (escape_explorer, {
        "alignment": np.round(np.arange(0.0, 1.001, 0.05), 2),
        "beta_inv": np.geomspace(0.25, 2.0, 15),
        "width": np.round(np.arange(0.5, 2.001, 0.1), 2),
    }, None),
}


def time_calls(fn: Callable, values) -> np.ndarray:
    out = []
    for value in values:
        start = time.perf_counter()
        fn(value)
        out.append(time.perf_counter() - start)
    return 1e3 * np.array(out)


def main() -> None:
    print(f"{'explorer':14s} {'control':12s} {'moves':>5s} {'median ms':>10s} {'p90 ms':>8s}")
    medians = {}
    for name, (factory, sweeps, reference) in EXPLORERS.items():
        explorer = factory()
        for control, values in sweeps.items():
            widget = getattr(explorer, control)
            default = widget.value
            times = time_calls(lambda v, w=widget: setattr(w, "value", v), values)
            medians[name, control] = np.median(times)
            print(f"{name:14s} {control:12s} {len(times):5d} {medians[name, control]:10.1f} "
                  f"{np.percentile(times, 90):8.1f}")
            widget.value = default
        if reference is not None:
            fn, control = reference
            naive = np.median(time_calls(fn, sweeps[control][::3]))
            print(f"{name:14s} {'baseline':12s} {'':5s} {naive:10.1f}   "
                  f"({naive / medians[name, control]:.1f}x slower than the {control} slider)")
    slow = [f"{n}/{c}" for (n, c), m in medians.items() if m >= 100]
    print("\ntarget < 100 ms median per control:", "met" if not slow else f"NOT met for {slow}")


if __name__ == "__main__":
    main()
