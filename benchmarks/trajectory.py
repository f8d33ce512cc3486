"""Speed of the long runs of Fig. 3: a plain loop against vectorised chains.

Run with ``python benchmarks/trajectory.py``.  The work is SGD epochs of
tiny-fc on the 8,676 images of digits 0-4 (batch 128, Nesterov momentum 0.9).
The baseline, measured in the same run, is one chain the plain way
(:func:`sgdlab.deep.chains.plain_chain`: a module, a ``DataLoader`` over a
``TensorDataset`` and ``torch.optim.SGD``); against it, the vectorised path
(:class:`sgdlab.deep.chains.Chains`: ``torch.func`` over stacked parameters, the
data resident, no DataLoader) with 1, 16 and 64 chains, with and without the
per-epoch snapshot (weights and two full gradients) of a long run.  Both
paths use one torch thread (on a shared two-core CPU more threads only
stall them).  The timings are interleaved and repeated, the best kept.
Target: the vectorised path reaches at least 20 times the plain loop's
chain-epochs per second.
"""

from __future__ import annotations

import time

import torch

from sgdlab.deep.chains import Chains, plain_chain
from sgdlab.deep.data import load

LR = 1e-3
EPOCHS = 3
REPEATS = 3
TARGET = 20.0
CHAINS = (1, 16, 64)


def plain(x: torch.Tensor, y: torch.Tensor) -> float:
    """Chain-epochs per second of the plain loop."""
    start = time.perf_counter()
    plain_chain("tiny-fc", 0, x, y, [LR] * EPOCHS)
    return EPOCHS / (time.perf_counter() - start)


def vectorised(chains: Chains, snapshot: bool) -> float:
    """Chain-epochs per second of :class:`Chains`, optionally with a snapshot per epoch."""
    start = time.perf_counter()
    for _ in range(EPOCHS):
        chains.train_epoch(LR)
        if snapshot:
            chains.snapshot()
    return EPOCHS * len(chains.seeds) / (time.perf_counter() - start)


def main() -> None:
    torch.set_num_threads(1)
    x, y = load("mnist7-04")
    ensembles = {c: Chains("tiny-fc", range(c), x, y) for c in CHAINS}
    for chains in ensembles.values():            # warm-up: first-call costs of vmap
        chains.train_epoch(LR)
        chains.snapshot()
    rates: dict[str, list[float]] = {}
    for _ in range(REPEATS):
        rates.setdefault("plain loop, DataLoader, 1 chain", []).append(plain(x, y))
        for c, chains in ensembles.items():
            for snapshot in (False, True):
                key = f"vectorised, {c} chain{'s' if c > 1 else ''}" + (
                    " + snapshots" if snapshot else "")
                rates.setdefault(key, []).append(vectorised(chains, snapshot))
    best = {key: max(values) for key, values in rates.items()}
    baseline = best["plain loop, DataLoader, 1 chain"]
    print(f"tiny-fc, N = {len(y)}, batch 128, {EPOCHS} epochs per timing, best of {REPEATS}")
    print(f"{'path':42s} {'chain-epochs/s':>15s} {'x plain loop':>13s}")
    for key, rate in best.items():
        print(f"{key:42s} {rate:15.2f} {rate / baseline:13.1f}")
    print(f"epochs per second of the 16 chains with snapshots: "
          f"{best['vectorised, 16 chains + snapshots'] / 16:.2f} (10^5 epochs in "
          f"{1e5 / best['vectorised, 16 chains + snapshots'] * 16 / 3600:.1f} h)")
    ratio = best["vectorised, 16 chains"] / baseline
    print(f"\ntarget: vectorised 16 chains >= {TARGET:.0f}x the plain loop: "
          f"{'met' if ratio >= TARGET else 'MISSED'} ({ratio:.1f}x)")


if __name__ == "__main__":
    main()
