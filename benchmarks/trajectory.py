"""Speed of the long runs of Fig. 3: a plain loop against vectorised chains.

Run with ``python benchmarks/trajectory.py``.  The work is SGD epochs of
tiny-fc on the 8,676 images of digits 0-4 (batch 128, Nesterov momentum 0.9).
The baseline, measured in the same run, is one chain the plain way
(:func:`sgdlab.deep.chains.plain_chain`: a module, a ``DataLoader`` over a
``TensorDataset`` and ``torch.optim.SGD``); against it, the vectorised chains
of :class:`sgdlab.deep.chains.Chains` (the data resident, no DataLoader) with
1, 16 and 64 chains, their gradients computed two ways: ``torch.func`` (a
vmapped ``functional_call`` differentiated by autograd) and the closed form
(:mod:`sgdlab.deep.closed_form`: ``bmm`` and the backward pass written out),
each with and without the per-epoch snapshot (weights and two full
gradients) of a long run.  Every path uses one torch thread (on a shared
two-core CPU more threads only stall them).  The timings are interleaved and
repeated, the best kept; each is taken on two clocks, the process's CPU time
(the work done, little changed by other programs on a shared machine) and
the wall clock, and every ratio is against the plain loop on the same clock.
Target: vectorised chains reach at least 20 times the plain loop's
chain-epochs per second at 16 chains.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import torch

from sgdlab.deep.chains import GRADIENTS, Chains, plain_chain
from sgdlab.deep.data import load

LR = 1e-3
EPOCHS = 3
REPEATS = 3
TARGET = 20.0
CHAINS = (1, 16, 64)
PLAIN = "plain loop, DataLoader, 1 chain"


def rates(work: Callable[[], None], chain_epochs: int) -> tuple[float, float]:
    """Chain-epochs per second of ``work``, by the process's CPU time and by the wall clock."""
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    return chain_epochs / (time.process_time() - cpu), chain_epochs / (time.perf_counter() - wall)


def plain(x: torch.Tensor, y: torch.Tensor) -> None:
    """``EPOCHS`` epochs of one chain the plain way."""
    plain_chain("tiny-fc", 0, x, y, [LR] * EPOCHS)


def vectorised(chains: Chains, snapshot: bool) -> None:
    """``EPOCHS`` epochs of :class:`Chains`, optionally with a snapshot after each."""
    for _ in range(EPOCHS):
        chains.train_epoch(LR)
        if snapshot:
            chains.snapshot()


def label(gradients: str, c: int, snapshot: bool) -> str:
    """The row of a vectorised path in the table."""
    return (f"{gradients}, {c} chain{'s' if c > 1 else ''}"
            + (" + snapshots" if snapshot else ""))


def main() -> None:
    torch.set_num_threads(1)
    x, y = load("mnist7-04")
    ensembles = {(g, c): Chains("tiny-fc", range(c), x, y, gradients=g)
                 for g in GRADIENTS for c in CHAINS}
    for chains in ensembles.values():            # warm-up: first-call costs of vmap
        chains.train_epoch(LR)
        chains.snapshot()
    measured: dict[str, list[tuple[float, float]]] = {}
    for _ in range(REPEATS):
        measured.setdefault(PLAIN, []).append(rates(partial(plain, x, y), EPOCHS))
        for (g, c), chains in ensembles.items():
            for snapshot in (False, True):
                measured.setdefault(label(g, c, snapshot), []).append(
                    rates(partial(vectorised, chains, snapshot), EPOCHS * c))
    best = {key: (max(r[0] for r in values), max(r[1] for r in values))
            for key, values in measured.items()}
    base_cpu, base_wall = best[PLAIN]
    print(f"tiny-fc, N = {len(y)}, batch 128, {EPOCHS} epochs per timing, best of {REPEATS}")
    print(f"{'path':38s} {'chain-epochs/s':>15s} {'x plain loop':>13s} {'x plain (wall)':>15s}")
    for key, (cpu, wall) in best.items():
        print(f"{key:38s} {cpu:15.2f} {cpu / base_cpu:13.1f} {wall / base_wall:15.1f}")
    for g in GRADIENTS:
        rate = best[label(g, 16, True)][0]
        print(f"{g}: epochs per second of the 16 chains with snapshots: {rate / 16:.2f} "
              f"(10^5 epochs in {1e5 / rate * 16 / 3600:.1f} h of CPU)")
    for c in CHAINS:
        gain = best[label("closed-form", c, True)][0] / best[label("torch.func", c, True)][0]
        print(f"closed form / torch.func at {c} chains, with snapshots: {gain:.2f}x")
    print()
    for g in GRADIENTS:
        ratio = best[label(g, 16, False)][0] / base_cpu
        print(f"target: {g}, 16 chains >= {TARGET:.0f}x the plain loop: "
              f"{'met' if ratio >= TARGET else 'MISSED'} ({ratio:.1f}x; wall clock "
              f"{best[label(g, 16, False)][1] / base_wall:.1f}x)")


if __name__ == "__main__":
    main()
