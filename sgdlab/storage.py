"""Where sgdlab reads its data and keeps its runs, and how it writes them.

One module for the plumbing that the deep-network half shares:

- :func:`data_root`: ``root``, else ``$SGDLAB_DATA``, else the ``data/`` folder of the
  checkout sgdlab runs from (which ships the real MNIST), else the user data folder
  (:func:`platformdirs.user_data_dir`);
- :func:`runs_root`: ``root``, else ``$SGDLAB_RUNS``, else the checkout's
  ``_build/runs``, else the user cache folder (:func:`platformdirs.user_cache_dir`);
- :func:`config_key`: a short, stable digest of a configuration, for folder names;
- :func:`atomic_write`: a file written whole or not at all.

An installed package never writes into its own folder: outside a checkout both roots are
the user's folders.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import platformdirs

from sgdlab._typing import PathLike

__all__ = ["atomic_write", "checkout", "config_key", "data_root", "digest", "runs_root"]

_APP = "sgdlab"


def checkout() -> Path | None:
    """The repository sgdlab is imported from, or None for an installed package.

    A checkout is the folder above the package holding ``pyproject.toml`` and ``data/``.
    """
    top = Path(__file__).resolve().parents[1]
    if (top / "pyproject.toml").is_file() and (top / "data").is_dir():
        return top
    return None


def data_root(root: PathLike | None = None) -> Path:
    """The folder every data set is looked up under (see the module's docstring)."""
    if root is None:
        root = os.environ.get("SGDLAB_DATA") or None
    if root is None:
        top = checkout()
        root = top / "data" if top is not None else platformdirs.user_data_dir(_APP)
    return Path(root)


def runs_root(root: PathLike | None = None) -> Path:
    """The folder holding training runs and spectra (see the module's docstring)."""
    if root is None:
        root = os.environ.get("SGDLAB_RUNS") or None
    if root is None:
        top = checkout()
        root = (top / "_build" / "runs" if top is not None
                else Path(platformdirs.user_cache_dir(_APP)) / "runs")
    return Path(root)


def digest(data: bytes, length: int = 10) -> str:
    """The first ``length`` hexadecimal digits of the SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()[:length]


def config_key(fields: Mapping[str, Any]) -> str:
    """A digest of a configuration, independent of the order of its fields."""
    return digest(json.dumps(dict(fields), sort_keys=True).encode())


@contextlib.contextmanager
def atomic_write(path: PathLike) -> Iterator[IO[bytes]]:
    """Open ``path`` for writing so that it appears whole or not at all.

    The content goes to a temporary ``<path>.<random>.partial`` in the same folder, of
    its own for each writer, renamed over ``path`` when the block ends; an exception or
    an interruption leaves ``path`` as it was and removes the partial file.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> path = Path(tempfile.mkdtemp()) / "a.npz"
    >>> with atomic_write(path) as fh:
    ...     np.savez(fh, x=np.arange(3))
    >>> np.load(path)["x"].tolist()
    [0, 1, 2]
    """
    path = Path(path)
    handle, name = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".partial", dir=path.parent)
    partial = Path(name)
    try:
        with os.fdopen(handle, "wb") as fh:
            yield fh
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
