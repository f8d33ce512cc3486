"""Sweeps over a grid of configurations, in process or on Ray, resumable.

A sweep applies one function to every configuration of a grid (the sizes,
seeds and instants of the spectrum chapter; the learning rates and batch sizes
of later ones) and keeps each result in the runs folder
(:func:`sgdlab.storage.runs_root`), under ``sweeps/<name>/<key>.json`` with
``<key>`` the digest of its configuration (:func:`sgdlab.storage.config_key`).
A configuration whose result is there is not run again, so an interrupted
sweep resumes where it stopped, and each result is written, atomically, as
soon as it arrives.

Where it runs:

- ``backend="process"``: in this process, one configuration after the other
  (a chapter's small grid at the CPU scale);
- ``backend="ray"``: one Ray task per configuration, on an embedded local Ray
  by default, on a cluster when ``address`` or ``RAY_ADDRESS`` names one; with
  one GPU per task where the cluster has GPUs.  Ray is optional
  (``pip install ray``, pinned in ``requirements.txt``).

The configurations and the results are JSON objects (mappings of names to
numbers, strings, lists).  From the shell: ``python -m sgdlab sweep spectrum
--model small-lenet --n 100,1000,5000 --seeds 0,1,2``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from tqdm.auto import tqdm

from sgdlab.storage import atomic_write, config_key, runs_root

__all__ = ["BACKENDS", "Backend", "Config", "Result", "result_path", "sweep"]

Config = Mapping[str, Any]
Result = dict[str, Any]
Backend = Literal["process", "ray"]
BACKENDS: tuple[Backend, ...] = ("process", "ray")


def result_path(name: str, config: Config, root: str | os.PathLike[str] | None = None) -> Path:
    """Where the result of ``config`` in the sweep ``name`` is kept."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"a sweep's name must be a plain folder name, got {name!r}")
    return runs_root(root) / "sweeps" / name / f"{config_key(config)}.json"


def _load(path: Path) -> Result | None:
    if not path.is_file():
        return None
    result: Result = json.loads(path.read_text())["result"]
    return result


def _save(path: Path, config: Config, result: Result) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as fh:
        fh.write(json.dumps({"config": dict(config), "result": result}, indent=1).encode())


def _checked(grid: Iterable[Config]) -> list[dict[str, Any]]:
    configs = [dict(c) for c in grid]
    for config in configs:
        try:
            json.dumps(config, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ValueError(f"configuration {config!r} is not a JSON object: {error}") from None
    return configs


def sweep(fn: Callable[[Config], Result], grid: Iterable[Config], *, name: str,
          backend: Backend = "process", address: str | None = None,
          num_cpus: int | None = None, root: str | os.PathLike[str] | None = None,
          progress: bool = True) -> list[Result]:
    """Apply ``fn`` to every configuration of ``grid``; return the results in grid order.

    Parameters
    ----------
    fn : callable
        Takes a configuration, returns a JSON-able dict.  On Ray it runs in the
        workers: a function of an importable module, or one Ray can pickle.
    grid : iterable of mappings
        The configurations, each a JSON object; equal ones are run once.
    name : str
        The sweep's folder in ``<runs>/sweeps/``.
    backend : {"process", "ray"}, default "process"
    address : str, optional
        The Ray cluster to join; ``RAY_ADDRESS`` when omitted, else an embedded
        local Ray.
    num_cpus : int, optional
        Workers of an embedded local Ray (all cores when omitted); ignored on a
        cluster.
    root : path, optional
        Runs folder (:func:`~sgdlab.storage.runs_root`).
    progress : bool, default True
        A tqdm bar over the configurations still to run.

    Raises
    ------
    ValueError
        On an unknown backend, a bad name, or a configuration that is not a JSON
        object.
    ModuleNotFoundError
        If ``backend="ray"`` and Ray is not installed.

    Examples
    --------
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> sweep(lambda c: {"square": c["x"] ** 2}, [{"x": 2}, {"x": 3}], name="demo",
    ...       root=root, progress=False)
    [{'square': 4}, {'square': 9}]
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    configs = _checked(grid)
    paths = [result_path(name, c, root) for c in configs]
    results: dict[Path, Result] = {}
    for path in paths:
        found = _load(path)
        if found is not None:
            results[path] = found
    todo = {p: c for p, c in zip(paths, configs, strict=True) if p not in results}
    bar = tqdm(total=len(todo), desc=f"sweep {name}", disable=not progress or not todo)
    if backend == "process":
        for path, config in todo.items():
            results[path] = fn(config)
            _save(path, config, results[path])     # kept as soon as it is made
            bar.update()
    elif todo:
        _on_ray(fn, todo, results, address, num_cpus, bar)
    bar.close()
    return [results[p] for p in paths]


def _on_ray(fn: Callable[[Config], Result], todo: Mapping[Path, Config],
            results: dict[Path, Result], address: str | None, num_cpus: int | None,
            bar: Any) -> None:
    """One Ray task per configuration, each result saved as it completes."""
    try:
        import ray
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError("backend='ray' needs Ray: pip install ray") from error
    address = address or os.environ.get("RAY_ADDRESS") or None
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, num_cpus=None if address else num_cpus,
                 include_dashboard=False, log_to_driver=False)
    try:
        gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        task = ray.remote(num_gpus=gpus)(fn)
        pending: dict[Any, Path] = {task.remote(dict(c)): p for p, c in todo.items()}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            path = pending.pop(done[0])
            results[path] = ray.get(done[0])
            _save(path, todo[path], results[path])
            bar.update()
    finally:
        if started:
            ray.shutdown()

