"""Speed and memory of the eigenspectrum of D(x): the fast path against a plain baseline.

Run with ``python benchmarks/spectrum.py`` (several minutes: the baseline is slow).
The case is the paper's small-lenet (d = 13,338), freshly initialised with seed
0, on the first N real MNIST training images.  Timed end to end, from the
network and the data in memory to the eigenvalues:

- fast path: :func:`sgdlab.deep.diffusion.spectrum` (per-example gradients with
  ``torch.func``, then Rayleigh-Ritz on a block Krylov subspace of D);
- baseline, measured in the same run: a Python loop with one ``backward()``
  per example, D by :func:`sgdlab.core.minibatch.diffusion_matrix` (NumPy, float64)
  and all eigenvalues and eigenvectors by ``numpy.linalg.eigh``.

Targets: at N = 5,000 the fast path at least 30x faster than the baseline; at
N = 17,000 (every training image shipped) under 30 s and under 4 GB of peak
memory.  The N = 17,000 run is ``python -m sgdlab spectrum`` in a child process,
so that its peak resident set size (``getrusage(RUSAGE_CHILDREN).ru_maxrss``,
everything the process touched: interpreter, PyTorch, data, gradients, basis)
is its own and not the baseline's.  The spectra of the two paths at N = 5,000
are compared: ranks and the largest relative difference of the eigenvalues
above the rank threshold.

Like the command line, this sets ``OMP_WAIT_POLICY=PASSIVE`` (unless set)
before PyTorch starts: on a CPU shared with other processes, spinning OpenMP
threads make PyTorch many times slower.  The load average is printed, since
other processes on a shared machine move every number here.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from sgdlab.core import minibatch
from sgdlab.deep import data, diffusion, models
from sgdlab.deep.eigenspectrum import Spectrum, numerical_rank

MODEL = "small-lenet"
N_SMALL, N_BIG = 5_000, 17_000
ROOT = Path(__file__).resolve().parents[1]


def network() -> torch.nn.Module:
    torch.manual_seed(0)
    return models.build(MODEL).eval()


def baseline(n: int) -> tuple[np.ndarray, dict[str, float]]:
    """Per-example backward loop, NumPy D (eq. 2), dense ``numpy.linalg.eigh``."""
    net = network()
    x, y = data.load(models.spec(MODEL).dataset, n=n, device="cpu")
    times = {}
    start = time.perf_counter()
    grads = np.empty((n, models.count_parameters(net)), dtype=np.float32)
    for k in range(n):
        net.zero_grad()
        torch.nn.functional.cross_entropy(net(x[k:k + 1]), y[k:k + 1]).backward()
        grads[k] = torch.cat([p.grad.reshape(-1) for p in net.parameters()]).numpy()
    times["loop"] = time.perf_counter() - start
    start = time.perf_counter()
    dense = minibatch.diffusion_matrix(grads)
    del grads
    times["D"] = time.perf_counter() - start
    start = time.perf_counter()
    eigenvalues = np.linalg.eigh(dense)[0][::-1]
    times["eigh"] = time.perf_counter() - start
    return eigenvalues, times


def fast(n: int) -> Spectrum:
    x, y = data.load(models.spec(MODEL).dataset, n=n, device="cpu")
    return diffusion.spectrum(network(), x, y, method="fast", device="cpu")


def child(n: int) -> tuple[dict[str, object], float, float]:
    """``python -m sgdlab spectrum`` in a fresh process: its JSON, wall time, peak RSS (GB)."""
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "sgdlab", "spectrum", "--model", MODEL,
                          "--n", str(n), "--device", "cpu", "--seed", "0"],
                         capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return json.loads(run.stdout), wall, peak_kb * 1024 / 1e9


def main() -> None:
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; "
          f"torch threads: {torch.get_num_threads()}")
    big, wall, peak_gb = child(N_BIG)
    ok_time, ok_mem = big["seconds"] < 30, peak_gb < 4
    print(f"fast, N = {N_BIG}: {big['seconds']:.1f} s for gradients and eigenvalues "
          f"(target < 30 s: {'met' if ok_time else 'MISSED'}); {wall:.1f} s for the whole "
          f"command with imports and data; peak RSS {peak_gb:.2f} GB "
          f"(target < 4 GB: {'met' if ok_mem else 'MISSED'}); rank {big['rank']} / {big['d']}")
    small = fast(N_SMALL)
    print(f"fast, N = {N_SMALL}: {small.seconds:.2f} s; rank {small.rank} / {small.d}, "
          f"{len(small.eigenvalues)} Ritz values")
    eigenvalues, times = baseline(N_SMALL)
    total = sum(times.values())
    print(f"baseline, N = {N_SMALL}: {total:.1f} s (backward loop {times['loop']:.1f} s, "
          f"NumPy D {times['D']:.1f} s, numpy.linalg.eigh {times['eigh']:.1f} s)")
    ratio = total / small.seconds
    print(f"ratio baseline / fast at N = {N_SMALL}: {ratio:.1f} "
          f"(target >= 30: {'met' if ratio >= 30 else 'MISSED'})")
    rank = numerical_rank(eigenvalues, small.d)
    m = min(rank, small.rank)
    gap = np.max(np.abs(small.eigenvalues[:m] - eigenvalues[:m]) / eigenvalues[:m])
    print(f"ranks: fast {small.rank}, baseline {rank}; largest relative difference of the "
          f"eigenvalues above the threshold: {gap:.1e}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
