"""The one module of sgdlab that imports torchvision.

PyPI's torchvision wheel is built against a CUDA build of torch; beside the
CPU wheel of torch pinned for this course its import fails (``RuntimeError:
operator torchvision::nms does not exist``).  sgdlab therefore never imports
torchvision anywhere else: it asks :func:`torchvision_or_none`, which tries
the import once per process, and works without torchvision where it is
missing (:mod:`sgdlab.deep.data` then reads the data files itself and cannot
download them).
"""

from __future__ import annotations

import functools
from types import ModuleType


@functools.cache
def _attempt() -> tuple[ModuleType | None, str | None]:
    try:
        import torchvision
    except (ImportError, RuntimeError, OSError) as err:
        return None, f"import torchvision failed ({type(err).__name__}: {err})"
    return torchvision, None


def torchvision_or_none() -> ModuleType | None:
    """The ``torchvision`` module, or ``None`` where it does not import.

    The import is tried once per process; :func:`unavailable_reason` says why
    it failed.
    """
    return _attempt()[0]


def unavailable_reason() -> str | None:
    """Why torchvision is unavailable (the import's error), or ``None`` where it imports."""
    return _attempt()[1]
