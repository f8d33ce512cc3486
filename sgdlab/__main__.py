"""Command line: ``python -m sgdlab spectrum|sweep ...``.

``spectrum`` prints, as JSON, the eigenspectrum of the diffusion matrix D(x)
(eq. 2) of one of the paper's networks on the first ``n`` training images of
its data set: d, n, rank, rank fraction, mean and standard deviation, the top
eigenvalues and the seconds it took (:func:`sgdlab.deep.diffusion.spectrum`), and
the trace, squared Frobenius norm and participation ratio of D, which need no
rank threshold (:func:`sgdlab.deep.diffusion.trace_moments`).  The
network is freshly initialised with ``--seed``, or read from ``--checkpoint``.

``sweep spectrum`` computes the same for every sample size ``--n`` and seed
``--seeds`` (random subsets of the training images, :func:`sgdlab.sweep.sweep`
of :func:`sgdlab.deep.spectra.subsample_spectrum`), in process or on Ray
(``--backend ray``, ``--address`` or ``RAY_ADDRESS`` for a cluster), keeping each
result in the runs folder, and prints the configurations with their results.

OpenMP threads that spin while waiting slow PyTorch down many times over on a
CPU shared with other processes; unless ``OMP_WAIT_POLICY`` is set, this
command sets it to ``PASSIVE`` before PyTorch starts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence


def _parser(names: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sgdlab", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    spec = commands.add_parser(
        "spectrum", help="eigenspectrum of D(x) of a network, as JSON",
        description="Eigenspectrum of the diffusion matrix D(x) (eq. 2) of a network on "
                    "its training data, printed as JSON.")
    spec.add_argument("--model", required=True, choices=names, help="network (Section IV)")
    spec.add_argument("--n", type=int, default=None,
                      help="number of training examples (default: all present)")
    spec.add_argument("--device", default=None, help="cpu, cuda, cuda:1, ... (default: "
                      "$SGDLAB_DEVICE, else cuda when present, else cpu)")
    spec.add_argument("--checkpoint", default=None,
                      help="checkpoint of sgdlab.deep.train to read the weights from")
    spec.add_argument("--method", choices=("fast", "exact"), default="fast",
                      help="low-rank Krylov path or dense eigvalsh (default: fast)")
    spec.add_argument("--seed", type=int, default=0,
                      help="seed of the initial weights and of the fast path (default: 0)")
    spec.add_argument("--top", type=int, default=10, help="eigenvalues to print (default: 10)")
    spec.set_defaults(run=_spectrum, error=spec.error)
    sweep = commands.add_parser(
        "sweep", help="a sweep of spectra over sample sizes and seeds, as JSON",
        description="The spectrum of D(x) of a network on random subsets of its training "
                    "images, for every size and seed, in process or on Ray.")
    sweep.add_argument("what", choices=("spectrum",), help="what is swept")
    sweep.add_argument("--model", required=True, choices=names, help="network (Section IV)")
    sweep.add_argument("--n", required=True, type=_ints, help="sample sizes, e.g. 100,1000")
    sweep.add_argument("--seeds", type=_ints, default=[0], help="seeds, e.g. 0,1,2 (default 0)")
    sweep.add_argument("--checkpoint", default=None, help="weights to read (default: fresh)")
    sweep.add_argument("--backend", choices=("process", "ray"), default="process",
                       help="in this process, or one Ray task per point (default: process)")
    sweep.add_argument("--address", default=None, help="Ray cluster (default: $RAY_ADDRESS, "
                       "else a local Ray)")
    sweep.add_argument("--root", default=None, help="runs folder (default: runs_root())")
    sweep.set_defaults(run=_sweep, error=sweep.error)
    return parser


def _ints(text: str) -> list[int]:
    """Comma-separated integers of an option, e.g. ``100,1000``."""
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}") from None


def _sweep(args: argparse.Namespace) -> list[dict[str, object]]:
    from sgdlab.deep.spectra import subsample_spectrum
    from sgdlab.sweep import sweep

    grid = [{"model": args.model, "n": n, "seed": seed,
             **({"checkpoint": str(args.checkpoint)} if args.checkpoint else {})}
            for n in args.n for seed in args.seeds]
    results = sweep(subsample_spectrum, grid, name=f"spectrum-{args.model}",
                    backend=args.backend, address=args.address, root=args.root)
    return [{"config": c, "result": r} for c, r in zip(grid, results, strict=True)]


def _spectrum(args: argparse.Namespace) -> dict[str, object]:
    import torch

    from sgdlab._validation import seed as check_seed
    from sgdlab.deep import data, diffusion, models
    from sgdlab.deep.device import pick

    device = pick(args.device)
    check_seed("--seed", args.seed)
    if args.checkpoint is None:
        torch.manual_seed(args.seed)
        model = models.build(args.model).to(device)
    else:
        model, checkpoint = models.from_checkpoint(args.checkpoint, device)
        if checkpoint["model"] != args.model:
            raise ValueError(f"--checkpoint {args.checkpoint} holds {checkpoint['model']!r}, "
                             f"not --model {args.model!r}")
    x, y = data.load(models.spec(args.model).dataset, n=args.n, device=device)
    result = diffusion.spectrum(model, x, y, method=args.method, seed=args.seed, device=device)
    # tr D, ||D||_F^2 and the participation ratio need no threshold (a second pass of
    # gradients; the Gram products cost O(min(N, d)^2 max(N, d)))
    moments = diffusion.trace_moments(model, x, y, device=device)
    return {"model": args.model, "device": str(device), **result.to_dict(top=args.top),
            **moments.to_dict()}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for bad arguments)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from sgdlab.deep.models import NAMES

    args = _parser(NAMES).parse_args(argv)
    try:
        out = args.run(args)
    except (ValueError, FileNotFoundError) as err:
        args.error(str(err))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
