"""Long SGD runs on disk: one snapshot per epoch, resumable (Section IV-D, Fig. 3).

:func:`record` trains the chains of a :class:`RunConfig` (:class:`sgdlab.deep.chains.Chains`):
a burn-in whose learning rate falls geometrically from ``burn_in_lr`` to
``lr``, then ``epochs`` epochs at the fixed ``lr``.  After each epoch it takes
a snapshot of every chain (:class:`sgdlab.deep.chains.Snapshot`: weights, full
gradient, full loss; the gradient norms and the losses during the burn-in
too, for Fig. 3c).  Snapshots go to NumPy ``.npy``
files preallocated for the whole run and written through memory maps, a chunk
of epochs at a time, time last (``weights[c, i]`` is the whole series of weight
``i`` of chain ``c``, contiguous), so neither the run nor the analysis ever
holds a trajectory in memory.  After each chunk the files are flushed, then
the chains' state (weights, momentum, BatchNorm statistics, the data-order
generators) is saved atomically: an interrupted run resumes from the last
chunk and reproduces an uninterrupted one exactly.

Runs live under :func:`~sgdlab.storage.runs_root` (``$SGDLAB_RUNS``, else the checkout's
``_build/runs/``, else the user cache folder), one folder per configuration; a finished
run found there is opened, not recomputed. The full-scale run (the paper's 10^5 epochs)
is made on a GPU with ``python -m sgdlab.deep.runs --profile full``, and its folder
copied into that root.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from sgdlab._typing import PathLike
from sgdlab._validation import positive_int, positive_scalar
from sgdlab._validation import seed as check_seed
from sgdlab.storage import atomic_write, config_key, runs_root

from .chains import Chains
from .data import load
from .device import Profile, profile
from .models import spec

__all__ = ["CONFIGS", "FILES", "RunConfig", "Trajectory", "find", "main", "record"]

#: The arrays of a run, one ``.npy`` file each in its folder (attributes of
#: :class:`Trajectory`).
FILES = ("weights", "gradients", "grad_norm", "loss", "eval_grad_norm", "eval_loss")


@dataclass(frozen=True)
class RunConfig:
    """What a long run trains; everything but ``chunk`` names the run.

    Attributes
    ----------
    model : str
        Network (:func:`sgdlab.deep.models.build`); its data set is the one of its spec.
    chains : int
        Number of independent chains, seeds ``seed, seed + 1, ...``.
    seed : int
    burn_in : int
        Epochs before the first snapshot of the weights.
    epochs : int
        Epochs after the burn-in, one snapshot each.
    lr : float
        The fixed learning rate after the burn-in (the paper: 1e-3).
    burn_in_lr : float
        Learning rate of the first burn-in epoch; it falls geometrically to ``lr``.
    n : int or None
        Training examples (the first ``n``); all when None.
    batch_size, momentum, nesterov
        As in :class:`sgdlab.deep.chains.Chains`.
    chunk : int
        Epochs per write to disk and checkpoint.
    """

    model: str = "tiny-fc"
    chains: int = 4
    seed: int = 0
    burn_in: int = 100
    epochs: int = 1000
    lr: float = 1e-3
    burn_in_lr: float = 0.1
    n: int | None = None
    batch_size: int = 128
    momentum: float = 0.9
    nesterov: bool = True
    chunk: int = 50

    def __post_init__(self) -> None:
        spec(self.model)
        for name in ("chains", "burn_in", "epochs", "batch_size", "chunk"):
            positive_int(name, getattr(self, name))
        if self.n is not None:
            positive_int("n", self.n)
        check_seed("seed", self.seed)
        positive_scalar("lr", self.lr)
        if positive_scalar("burn_in_lr", self.burn_in_lr) < self.lr:
            raise ValueError(f"burn_in_lr = {self.burn_in_lr} must be >= lr = {self.lr}")
        positive_scalar("momentum", self.momentum, allow_zero=True)

    @property
    def total(self) -> int:
        """Epochs in all, burn-in included."""
        return self.burn_in + self.epochs

    @property
    def seeds(self) -> tuple[int, ...]:
        """The chains' seeds."""
        return tuple(range(self.seed, self.seed + self.chains))

    def lr_at(self, epoch: int) -> float:
        """Learning rate of epoch ``epoch`` (0-based): geometric burn-in, then ``lr``."""
        if epoch >= self.burn_in:
            return self.lr
        return self.burn_in_lr * (self.lr / self.burn_in_lr) ** (epoch / self.burn_in)

    @property
    def name(self) -> str:
        """Folder name, readable, with a hash of every field but ``chunk``."""
        fields = dataclasses.asdict(self)
        del fields["chunk"]
        return (f"{self.model}-c{self.chains}-b{self.burn_in}-e{self.epochs}-"
                f"{config_key(fields)}")


#: The run of each scale; ``"cpu"`` fits the book's CPU budget, ``"full"`` is the paper's
#: (10^5 epochs, the first 10^3 a burn-in, then lr = 1e-3).
CONFIGS: dict[Profile, RunConfig] = {
    "cpu": RunConfig(chains=4, burn_in=50, epochs=800, chunk=100),
    "full": RunConfig(chains=4, burn_in=1000, epochs=99_000, chunk=1000),
}


@dataclass(frozen=True)
class Trajectory:
    """A run on disk, its arrays memory-mapped read-only.

    Attributes
    ----------
    folder : Path
    config : RunConfig
    weights : ndarray, shape (C, d, epochs), float32
        ``weights[c, i, k]``: weight i of chain c after epoch ``burn_in + k + 1``.
    gradients : ndarray, shape (C, d, epochs), float32
        The full gradient at the same snapshots, BatchNorm normalising by the
        statistics of all N examples (:class:`sgdlab.deep.chains.Snapshot`).
    grad_norm : ndarray, shape (C, burn_in + epochs), float32
        Its norm :math:`\\|\\nabla f(x_k)\\|` after every epoch, burn-in included.
    loss : ndarray, shape (C, burn_in + epochs), float32
        The full loss after every epoch, normalised the same way.
    eval_grad_norm, eval_loss : ndarray, shape (C, burn_in + epochs), float32
        The same in eval mode (BatchNorm's running statistics).
    """

    folder: Path
    config: RunConfig
    weights: np.ndarray
    gradients: np.ndarray
    grad_norm: np.ndarray
    loss: np.ndarray
    eval_grad_norm: np.ndarray
    eval_loss: np.ndarray

    @property
    def d(self) -> int:
        """Number of weights of one chain."""
        return self.weights.shape[1]


def _shapes(config: RunConfig, d: int) -> dict[str, tuple[int, ...]]:
    c = config.chains
    return {"weights": (c, d, config.epochs), "gradients": (c, d, config.epochs),
            **{name: (c, config.total)
               for name in ("grad_norm", "loss", "eval_grad_norm", "eval_loss")}}


def _checkpoint_epoch(folder: Path) -> int:
    path = folder / "checkpoint.pt"
    if not path.is_file():
        return 0
    return torch.load(path, map_location="cpu", weights_only=True)["epoch"]


def find(config: RunConfig, root: PathLike | None = None) -> Trajectory | None:
    """The finished run of ``config`` under :func:`~sgdlab.storage.runs_root`, or None."""
    folder = runs_root(root) / config.name
    if not (folder / "config.json").is_file() or _checkpoint_epoch(folder) < config.total:
        return None
    arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in FILES}
    return Trajectory(folder=folder, config=config, **arrays)


def record(config: RunConfig, *, root: PathLike | None = None,
           device: str | torch.device | None = None, progress: bool = True) -> Trajectory:
    """Make (or finish, or just open) the long run of ``config``.

    Parameters
    ----------
    config : RunConfig
    root : path, optional
        Where runs live (:func:`~sgdlab.storage.runs_root`).
    device : str or torch.device, optional
        Where to train (:func:`sgdlab.deep.device.pick`).
    progress : bool, default True
        Show a tqdm progress bar over epochs.

    Returns
    -------
    Trajectory
        The finished run, memory-mapped.

    Raises
    ------
    ValueError
        If the folder of ``config`` holds a run of another configuration.
    """
    if not isinstance(config, RunConfig):
        raise ValueError(f"config must be a RunConfig, got {type(config).__name__}")
    done = find(config, root)
    if done is not None:
        return done
    folder = runs_root(root) / config.name
    folder.mkdir(parents=True, exist_ok=True)
    stored = {k: v for k, v in dataclasses.asdict(config).items() if k != "chunk"}
    config_file = folder / "config.json"
    if config_file.is_file() and json.loads(config_file.read_text()) != stored:
        raise ValueError(f"config: folder {folder} holds a run of another configuration")
    x, y = load(spec(config.model).dataset, "train", n=config.n, device=device)
    chains = Chains(config.model, config.seeds, x, y, batch_size=config.batch_size,
                    momentum=config.momentum, nesterov=config.nesterov, device=device)
    epoch = _checkpoint_epoch(folder)
    mode = "r+" if epoch > 0 else "w+"
    arrays = {name: np.lib.format.open_memmap(folder / f"{name}.npy", mode=mode,
                                              dtype=np.float32, shape=shape)
              for name, shape in _shapes(config, chains.d).items()}
    if epoch > 0:
        state = torch.load(folder / "checkpoint.pt", map_location="cpu", weights_only=True)
        chains.load_state_dict(state["chains"])
    config_file.write_text(json.dumps(stored, indent=1))
    with tqdm(total=config.total, initial=epoch, disable=not progress,
              desc=f"{config.chains} chains of {config.model}", unit="epoch") as bar:
        while epoch < config.total:
            stop = min(epoch + config.chunk - epoch % config.chunk, config.total)
            _train_chunk(chains, config, arrays, epoch, stop, bar)
            for array in arrays.values():
                array.flush()
            epoch = stop
            _save_checkpoint(folder, epoch, chains)
    del arrays
    found = find(config, root)
    assert found is not None
    return found


def _train_chunk(chains: Chains, config: RunConfig, arrays: Mapping[str, np.ndarray],
                 start: int, stop: int, bar: tqdm) -> None:
    """Epochs ``start`` to ``stop`` (exclusive), their snapshots buffered then written at once."""
    snaps = []
    for epoch in range(start, stop):
        chains.train_epoch(config.lr_at(epoch))
        snaps.append(chains.snapshot())
        bar.update()
    for name in ("loss", "eval_grad_norm", "eval_loss"):
        arrays[name][:, start:stop] = np.stack([getattr(s, name) for s in snaps], axis=1)
    arrays["grad_norm"][:, start:stop] = np.stack(
        [np.linalg.norm(s.gradient.astype(np.float64), axis=1) for s in snaps], axis=1)
    first = max(start, config.burn_in)
    if first < stop:
        kept = snaps[first - start:]
        span = slice(first - config.burn_in, stop - config.burn_in)
        arrays["weights"][:, :, span] = np.stack([s.weights for s in kept], axis=2)
        arrays["gradients"][:, :, span] = np.stack([s.gradient for s in kept], axis=2)


def _save_checkpoint(folder: Path, epoch: int, chains: Chains) -> None:
    """Write the checkpoint to a temporary file, then rename it over the old one."""
    with atomic_write(folder / "checkpoint.pt") as fh:
        torch.save({"epoch": epoch, "chains": chains.state_dict()}, fh)


def main(argv: list[str] | None = None) -> None:
    """``python -m sgdlab.deep.runs [--profile full] [--device cuda] [--root DIR]``."""
    parser = argparse.ArgumentParser(description="Make the long SGD run of Fig. 3.")
    parser.add_argument("--profile", choices=list(CONFIGS), default=None,
                        help="scale (default: sgdlab.deep.device.profile())")
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: pick())")
    parser.add_argument("--root", default=None, help="runs folder (default: runs_root())")
    args = parser.parse_args(argv)
    traj = record(CONFIGS[profile(args.profile)], root=args.root, device=args.device)
    print(traj.folder)


if __name__ == "__main__":
    main()
