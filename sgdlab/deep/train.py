"""Training the paper's networks (Section IV) on resident tensors, resumably.

"We train the above networks with SGD with appropriate learning rate
annealing and Nesterov's momentum set to 0.9" (Section IV): :func:`fit`
does this with mini-batches of 128 drawn without replacement by a seeded
permutation per epoch from a data set held whole on the device, no
DataLoader.  The paper names no schedule; :data:`SCHEDULES` offers step
decay (the default), cosine annealing and a constant rate, stepped every
iteration through :class:`torch.optim.lr_scheduler.LambdaLR`.

Given a ``run_dir``, :func:`fit` writes a checkpoint at each of the given
fractions of training (``frac-0.20.pt``, ...; 20 %, 40 % and 100 % are the
instants of Fig. 1) and a rolling ``last.pt`` at the end of every epoch.
Called again with the same configuration it resumes an interrupted run where
``last.pt`` left it, with weights bitwise equal on the CPU to those of an
uninterrupted run, and returns a finished run from disk without training.
Every checkpoint is a dict loadable with ``torch.load(path, weights_only=True)``
holding at least ``"model"`` (the name), ``"num_classes"`` and
``"state_dict"``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from sgdlab import _validation as check
from sgdlab._typing import PathLike
from sgdlab.storage import atomic_write, digest

from .device import pick
from .models import build, spec

__all__ = ["FRACTIONS", "METRICS", "SCHEDULES", "TrainConfig", "TrainResult", "checkpoint_path",
           "evaluate", "fit", "lr_factor"]

#: The learning-rate schedules :func:`fit` takes (see :func:`lr_factor`).
SCHEDULES: tuple[str, ...] = ("step", "cosine", "constant")
#: The instants of Fig. 1, at 20 %, 40 % and 100 % of training.
FRACTIONS: tuple[float, ...] = (0.2, 0.4, 1.0)
#: The per-epoch metrics :func:`fit` records.
METRICS: tuple[str, ...] = ("train_loss", "train_accuracy", "test_loss", "test_accuracy",
                            "seconds")


def lr_factor(schedule: str, step: int, total: int) -> float:
    """The learning rate at iteration ``step`` of ``total``, relative to the initial one.

    ``"step"``: 1, then 0.1 from half-way, 0.01 from three quarters of the way;
    ``"cosine"``: (1 + cos(pi step / total)) / 2; ``"constant"``: 1.

    Raises
    ------
    ValueError
        If ``schedule`` is not one of :data:`SCHEDULES` or ``total`` is not a
        positive integer.
    """
    total = check.positive_int("total", total)
    if schedule == "step":
        return 0.1 ** ((step >= total / 2) + (step >= 3 * total / 4))
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
    if schedule == "constant":
        return 1.0
    raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a run of :func:`fit`; a ``run_dir`` holds one.

    ``data`` identifies the data by shapes, labels and the root mean square of
    the inputs (to 5 digits), so that a run made on another machine, whose
    pre-processing differs in round-off, is still recognised.
    """

    model: str
    num_classes: int
    epochs: int
    lr: float
    momentum: float
    nesterov: bool
    weight_decay: float
    batch_size: int
    schedule: str
    seed: int
    fractions: tuple[float, ...]
    data: str

    def as_dict(self) -> dict[str, Any]:
        """The configuration as stored in ``config.json`` and in every checkpoint."""
        return json.loads(json.dumps(asdict(self)))


@dataclass
class TrainResult:
    """What :func:`fit` returns.

    Attributes
    ----------
    model : torch.nn.Module
        The trained network, on the training device, in evaluation mode.
    config : TrainConfig
    train_loss, train_accuracy : list of float
        Per epoch: mean cross-entropy and accuracy over the epoch's mini-batches
        (training mode, as they were computed during the epoch).
    test_loss, test_accuracy : list of float
        Per epoch, by :func:`evaluate` on the test data; empty without them.
    seconds : list of float
        Per epoch: wall time of its SGD steps.
    checkpoints : dict of float to Path
        The checkpoint at each fraction of training; empty without ``run_dir``.
    run_dir : Path or None
    epochs_trained : int
        Epochs trained by this call: 0 for a finished run loaded from disk.
    """

    model: nn.Module
    config: TrainConfig
    train_loss: list[float]
    train_accuracy: list[float]
    test_loss: list[float]
    test_accuracy: list[float]
    seconds: list[float]
    checkpoints: dict[float, Path]
    run_dir: Path | None
    epochs_trained: int


def _fraction_list(fractions: Iterable[float]) -> tuple[float, ...]:
    values = sorted({check.finite_scalar("fractions", f) for f in fractions})
    if not values or values[0] <= 0 or values[-1] > 1:
        raise ValueError(f"fractions must be numbers in (0, 1], got {fractions!r}")
    if len({f"{f:.2f}" for f in values}) < len(values):
        raise ValueError(f"fractions must differ in their first two decimals (the checkpoint "
                         f"file names), got {fractions!r}")
    return tuple(values)


def _fingerprint(x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor | None,
                 y_test: torch.Tensor | None) -> str:
    parts = []
    for split, xs, ys in (("train", x, y), ("test", x_test, y_test)):
        if xs is None or ys is None:
            continue
        rms = float(torch.linalg.vector_norm(xs.flatten(), dtype=torch.float64)) / math.sqrt(
            xs.numel())
        labels = digest(ys.cpu().numpy().tobytes(), 16)
        parts.append(f"{split} {'x'.join(map(str, xs.shape))}, rms {rms:.5g}, labels {labels}")
    return "; ".join(parts)


def _open_run_dir(run_dir: PathLike | None, config: TrainConfig) -> Path | None:
    if run_dir is None:
        return None
    path = Path(run_dir)
    path.mkdir(parents=True, exist_ok=True)
    wanted = config.as_dict()
    file = path / "config.json"
    if file.is_file():
        stored = json.loads(file.read_text())
        differ = [f"{k}: {stored.get(k)!r} there, {wanted.get(k)!r} here"
                  for k in wanted.keys() | stored.keys() if stored.get(k) != wanted.get(k)]
        if differ:
            raise ValueError(f"run_dir {path} holds a run of another configuration ("
                             + "; ".join(sorted(differ)) + "); use another run_dir or delete it")
    else:
        file.write_text(json.dumps(wanted, indent=2) + "\n")
    return path


def _cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _cpu(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_cpu(v) for v in obj)
    return obj


def _save(obj: dict[str, Any], path: Path) -> None:
    with atomic_write(path) as fh:
        torch.save(_cpu(obj), fh)


def checkpoint_path(run_dir: PathLike, fraction: float) -> Path:
    """The file of the checkpoint at ``fraction`` of training: ``run_dir/frac-0.20.pt``."""
    return Path(run_dir) / f"frac-{fraction:.2f}.pt"


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 1024
             ) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on ``(x, y)``, in evaluation mode.

    The inputs are moved to the model's device ``batch_size`` at a time; the
    model's training mode is restored afterwards.

    Returns
    -------
    loss : float
    accuracy : float
        Fraction of examples whose largest logit is their label.

    Raises
    ------
    ValueError
        If ``x`` is not a non-empty float tensor with finite entries, ``y`` not an int64
        tensor of one label per input, or ``batch_size`` not a positive integer.
    """
    batch_size = check.positive_int("batch_size", batch_size)
    check.labelled_examples(x, y, None)
    dev = next(model.parameters()).device
    was_training = model.training
    model.eval()
    loss = torch.zeros((), dtype=torch.float64, device=dev)
    correct = torch.zeros((), dtype=torch.int64, device=dev)
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size].to(dev), y[start:start + batch_size].to(dev)
            out = model(xb)
            loss += F.cross_entropy(out, yb, reduction="sum")
            correct += (out.argmax(dim=1) == yb).sum()
    model.train(was_training)
    return float(loss) / len(x), int(correct) / len(x)


def fit(model: str, x: torch.Tensor, y: torch.Tensor, *, epochs: int,
        x_test: torch.Tensor | None = None, y_test: torch.Tensor | None = None,
        lr: float = 0.1, momentum: float = 0.9, nesterov: bool = True,
        weight_decay: float | None = None, batch_size: int = 128, schedule: str = "step",
        seed: int = 0, num_classes: int | None = None,
        run_dir: PathLike | None = None,
        fractions: Iterable[float] = FRACTIONS, device: str | torch.device | None = None,
        progress: bool = True,
        callback: Callable[[int, dict[str, list[float]]], None] | None = None
        ) -> TrainResult:
    """Train one of the paper's networks with SGD as in Section IV.

    SGD with momentum 0.9, Nesterov's by default as in the paper, mini-batches
    of 128 without replacement within an epoch (the last incomplete batch of
    an epoch is dropped), cross-entropy loss, the learning rate annealed per
    iteration by ``schedule``.  The network's initial weights, its dropout
    masks and the order of the examples are determined by ``seed``, in a
    forked random state that leaves the caller's untouched.

    Parameters
    ----------
    model : str
        A name of :data:`sgdlab.deep.models.NAMES`.
    x, y : torch.Tensor
        Training inputs, shape ``(n, *spec(model).input_shape)``, and int64
        labels ``(n,)``, e.g. from :func:`~sgdlab.deep.data.registry.load`; moved to ``device``
        once and kept there.
    epochs : int
        Passes over the training data.
    x_test, y_test : torch.Tensor, optional
        Test data, evaluated after every epoch (:func:`evaluate`).
    lr : float
        Initial learning rate.
    momentum : float
        In [0, 1); the paper's 0.9.
    nesterov : bool
        Nesterov's momentum (the paper's) or heavy-ball.
    weight_decay : float, optional
        L2 penalty coefficient; by default the paper's
        (the ``weight_decay`` of its :class:`~sgdlab.deep.models.ModelSpec`): 1e-4 for
        small-allcnn, 0 for the MNIST networks.
    batch_size : int
        The paper's 128; at most ``n``.
    schedule : str
        One of :data:`SCHEDULES` (:func:`lr_factor`).
    seed : int
        Non-negative.
    num_classes : int, optional
        Outputs of the network; its default (:func:`sgdlab.deep.models.spec`) if
        omitted, e.g. ``spec("small-allcnn").num_classes_on("cifar100")`` for
        CIFAR-100.
    run_dir : path, optional
        Folder of the run's ``config.json`` and checkpoints; nothing is
        written without it.
    fractions : iterable of float
        Fractions of the training iterations in (0, 1] after which a
        checkpoint is written to :func:`checkpoint_path`.
    device : str or torch.device, optional
        See :func:`sgdlab.deep.device.pick`.
    progress : bool
        Show a tqdm progress bar over the iterations.
    callback : callable, optional
        Called as ``callback(epochs_done, metrics)`` after each epoch and its
        checkpoints; an exception it raises stops training, which a later call
        resumes.

    Returns
    -------
    TrainResult

    Raises
    ------
    ValueError
        On an unknown model, data of the wrong shape, dtype, labels or with
        NaNs, a learning rate, momentum, weight decay, batch size, seed,
        schedule or fractions out of range, or a ``run_dir`` holding a run of
        another configuration.

    Notes
    -----
    A checkpoint is a dict with the keys ``"model"``, ``"num_classes"``,
    ``"state_dict"``, ``"optimizer"``, ``"scheduler"``, ``"rng"``, ``"epoch"``
    (epochs completed), ``"step"`` (iterations completed), ``"fraction"``
    (``None`` in ``last.pt``), ``"config"`` (:meth:`TrainConfig.as_dict`),
    ``"metrics"`` (the per-epoch lists of :data:`METRICS` so far) and
    ``"device"``, every tensor on the CPU.
    """
    model_spec = spec(model)
    classes = check.positive_int("num_classes",
                                 model_spec.num_classes if num_classes is None else num_classes)
    dev = pick(device)
    n = check.labelled_examples(x, y, classes, shape=model_spec.input_shape)
    x, y = x.to(dev, torch.float32), y.to(dev)
    if (x_test is None) != (y_test is None):
        raise ValueError("x_test and y_test must be given together")
    if x_test is not None and y_test is not None:
        check.labelled_examples(x_test, y_test, classes, shape=model_spec.input_shape,
                                xname="x_test", yname="y_test")
        x_test, y_test = x_test.to(dev, torch.float32), y_test.to(dev)
    momentum = check.finite_scalar("momentum", momentum)
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if nesterov and momentum == 0:
        raise ValueError("nesterov=True needs momentum > 0")
    seed = check.seed("seed", seed)
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable, got {callback!r}")
    batch_size = check.positive_int("batch_size", batch_size)
    if batch_size > n:
        raise ValueError(f"batch_size = {batch_size} exceeds the {n} training examples")
    if weight_decay is None:
        weight_decay = model_spec.weight_decay
    config = TrainConfig(
        model=model, num_classes=classes, epochs=check.positive_int("epochs", epochs),
        lr=check.positive_scalar("lr", lr), momentum=momentum, nesterov=bool(nesterov),
        weight_decay=check.positive_scalar("weight_decay", weight_decay, allow_zero=True),
        batch_size=batch_size, schedule=schedule, seed=seed,
        fractions=_fraction_list(fractions), data=_fingerprint(x, y, x_test, y_test))
    path = _open_run_dir(run_dir, config)
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        return _fit(config, x, y, x_test, y_test, path, dev, progress, callback)


def _fit(config: TrainConfig, x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor | None,
         y_test: torch.Tensor | None, path: Path | None, dev: torch.device, progress: bool,
         callback: Callable[[int, dict[str, list[float]]], None] | None) -> TrainResult:
    torch.manual_seed(config.seed)
    net = build(config.model, config.num_classes).to(dev)
    order_rng = torch.Generator().manual_seed(int(torch.randint(2**62, ())))
    optimizer = torch.optim.SGD(net.parameters(), lr=config.lr, momentum=config.momentum,
                                nesterov=config.nesterov, weight_decay=config.weight_decay)
    steps = len(x) // config.batch_size
    total = config.epochs * steps
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda k: lr_factor(config.schedule, k, total))
    due = {f: max(1, round(f * total)) for f in config.fractions}
    metrics: dict[str, list[float]] = {k: [] for k in METRICS}
    start = 0
    last = path / "last.pt" if path is not None else None
    if last is not None and last.is_file():
        saved = torch.load(last, map_location="cpu", weights_only=True)
        net.load_state_dict(saved["state_dict"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["rng"]["cpu"])
        order_rng.set_state(saved["rng"]["order"])
        if dev.type == "cuda" and "cuda" in saved["rng"]:
            torch.cuda.set_rng_state(saved["rng"]["cuda"], dev)
        start, metrics = saved["epoch"], saved["metrics"]

    def state(epoch: int, step: int, fraction: float | None) -> dict[str, Any]:
        rng = {"cpu": torch.get_rng_state(), "order": order_rng.get_state()}
        if dev.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(dev)
        return {"model": config.model, "num_classes": config.num_classes,
                "state_dict": net.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "rng": rng, "epoch": epoch, "step": step,
                "fraction": fraction, "config": config.as_dict(),
                "metrics": {k: list(v) for k, v in metrics.items()}, "device": str(dev)}

    def save_fractions(epoch: int, step: int) -> None:
        for fraction, at in due.items():
            if path is not None and at == step:
                _save(state(epoch, step, fraction), checkpoint_path(path, fraction))

    with tqdm(total=total, initial=start * steps, unit="step", desc=f"train {config.model}",
              disable=not progress or start == config.epochs) as bar:
        for epoch in range(start, config.epochs):
            net.train()
            order = torch.randperm(len(x), generator=order_rng).to(dev)
            loss_sum = torch.zeros((), device=dev)
            correct = torch.zeros((), dtype=torch.int64, device=dev)
            began = time.perf_counter()
            for i in range(steps):
                batch = order[i * config.batch_size:(i + 1) * config.batch_size]
                out = net(x[batch])
                loss = F.cross_entropy(out, y[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                loss_sum += loss.detach()
                correct += (out.argmax(dim=1) == y[batch]).sum()
                bar.update()
                if i < steps - 1:
                    save_fractions(epoch, epoch * steps + i + 1)
            metrics["train_loss"].append(float(loss_sum) / steps)
            metrics["train_accuracy"].append(int(correct) / (steps * config.batch_size))
            metrics["seconds"].append(time.perf_counter() - began)
            if x_test is not None and y_test is not None:
                test_loss, test_accuracy = evaluate(net, x_test, y_test)
                metrics["test_loss"].append(test_loss)
                metrics["test_accuracy"].append(test_accuracy)
            save_fractions(epoch + 1, (epoch + 1) * steps)
            if last is not None:
                _save(state(epoch + 1, (epoch + 1) * steps, None), last)
            bar.set_postfix(loss=f"{metrics['train_loss'][-1]:.3g}",
                            acc=f"{metrics['train_accuracy'][-1]:.3f}")
            if callback is not None:
                callback(epoch + 1, metrics)
    net.eval()
    checkpoints = {} if path is None else {
        f: checkpoint_path(path, f) for f in config.fractions
        if checkpoint_path(path, f).is_file()}
    return TrainResult(model=net, config=config, checkpoints=checkpoints, run_dir=path,
                       epochs_trained=config.epochs - start, **metrics)
