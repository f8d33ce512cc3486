"""The paper's scale on one GPU: every figure still unmeasured, in one command, as JSON.

Run with ``python benchmarks/gpu.py`` on a machine with a GPU (within about 8
minutes on one); ``--dry-run`` runs the same code at tiny sizes on the CPU in a
minute (``make test`` does, so that the script cannot rot). It prints one JSON
object:

``device``
    What ran it (:func:`sgdlab.deep.device.pick`, the GPU's name).
``spectrum``
    The small-lenet spectrum of D (eq. 2) at initialisation on every MNIST
    training image it finds: the full 60,000 where torchvision can download
    them into ``--data`` (default: a folder in the runs folder), else the
    17,000 the repository ships (``"images"`` and ``"data"`` say which), with
    its rank, the participation ratio and the seconds it took.
``chains``
    The tiny-fc chains of Fig. 3 (:class:`sgdlab.deep.chains.Chains`, digits
    0-4, with a snapshot per epoch as the long run takes): chain-epochs per
    second, and the hours that the full profile's run
    (:data:`sgdlab.deep.runs.CONFIGS`) implies at that rate.
``training``
    The full-profile training of the Part III chapters' networks
    (:data:`sgdlab.deep.spectra.EXPERIMENTS`), with their spectra at 20, 40
    and 100 % of training: per panel the seconds, the test accuracy and the
    rank fractions. Runs are kept in the runs folder (``--root``), so an
    interrupted run resumes.
``seconds``
    The whole run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch

from sgdlab.deep import data, diffusion, models, spectra
from sgdlab.deep.chains import Chains
from sgdlab.deep.device import pick
from sgdlab.deep.runs import CONFIGS
from sgdlab.storage import runs_root

#: The sizes of a run: the paper's, and a dry run's on a CPU.
SIZES: dict[str, dict[str, Any]] = {
    "full": {"spectrum_n": None, "chains": 16, "chain_epochs": 20, "training": "full"},
    "dry-run": {"spectrum_n": 200, "chains": 2, "chain_epochs": 1, "training": "dry-run"},
}
#: The networks the Part III chapters train (the MNIST panels of Figs. 1-2).
PANELS = ("small-lenet", "small-fc")


def device_name(device: torch.device) -> str:
    """The device, and the GPU's name when it is one."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return str(device)


def mnist_images(folder: Path, n: int | None, device: torch.device
                 ) -> tuple[torch.Tensor, torch.Tensor, str]:
    """The MNIST training images: downloaded into ``folder`` where a server answers, else
    the shipped ones; with which they are."""
    if n is None:
        try:
            x, y = data.load("mnist", n=None, root=folder, device=device)
            return x, y, f"full MNIST in {folder}"
        except FileNotFoundError as error:
            reason = str(error).splitlines()[0]
            print(f"[gpu] full MNIST unavailable ({reason}); the shipped images instead",
                  file=sys.stderr)
    x, y = data.load("mnist", n=n, device=device)
    return x, y, "the repository's data/"


def measure_spectrum(folder: Path, n: int | None, device: torch.device) -> dict[str, Any]:
    """The small-lenet spectrum of D at initialisation (seed 0) on the MNIST images."""
    x, y, source = mnist_images(folder, n, device)
    torch.manual_seed(0)
    model = models.build("small-lenet").to(device)
    result = diffusion.spectrum(model, x, y, device=device)
    moments = diffusion.trace_moments(model, x, y, device=device)
    return {"images": int(y.numel()), "data": source, **result.to_dict(top=5),
            "participation_ratio": moments.participation_ratio}


def measure_chains(n_chains: int, epochs: int, device: torch.device) -> dict[str, Any]:
    """Chain-epochs per second of tiny-fc's vectorised chains with a snapshot per epoch."""
    x, y = data.load("mnist7-04", device=device)
    chains = Chains("tiny-fc", range(n_chains), x, y, device=device, threads=None)
    chains.train_epoch(1e-3)                       # first-call costs of vmap
    chains.snapshot()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(epochs):
        chains.train_epoch(1e-3)
        chains.snapshot()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    rate = epochs * n_chains / (time.perf_counter() - start)
    full = CONFIGS["full"]
    work = full.chains * (full.burn_in + full.epochs)
    return {"chains": n_chains, "chain_epochs_per_s": rate,
            "full_run_chain_epochs": work, "full_run_hours": work / rate / 3600}


def train_panels(scale: str, root: Path, device: torch.device) -> dict[str, Any]:
    """The full-profile training of the MNIST panels, with their spectra."""
    out = {}
    for panel in PANELS:
        exp = spectra.experiment(panel, "full")
        if scale == "dry-run":
            exp = replace(exp, n_train=256, epochs=1)
        start = time.perf_counter()
        run = spectra.measure(exp, root=root, device=device, progress=False)
        out[panel] = {"experiment": exp.key, "seconds": time.perf_counter() - start,
                      "test_accuracy": run.test_accuracy,
                      "rank_fraction": {f"{k:g}": s.rank_fraction
                                        for k, s in sorted(run.spectra.items())}}
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run every stage; print and return the JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="tiny sizes on the CPU (the test of this script)")
    parser.add_argument("--root", default=None, help="runs folder (default: runs_root())")
    parser.add_argument("--data", default=None,
                        help="where to download full MNIST (default: <runs>/mnist-full)")
    args = parser.parse_args(argv)
    scale = "dry-run" if args.dry_run else "full"
    sizes = SIZES[scale]
    device = pick("cpu" if args.dry_run else None)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(args.root) if args.root else (Path(scratch) if args.dry_run
                                                  else runs_root())
        folder = Path(args.data) if args.data else root / "mnist-full"
        report = {
            "device": device_name(device),
            "scale": scale,
            "spectrum": measure_spectrum(folder, sizes["spectrum_n"], device),
            "chains": measure_chains(sizes["chains"], sizes["chain_epochs"], device),
            "training": train_panels(sizes["training"], root, device),
        }
    report["seconds"] = time.perf_counter() - start
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
