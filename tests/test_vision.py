import importlib.metadata
import importlib.util
import re
from pathlib import Path

import torch

from sgdlab.deep import _vision


def test_wrapper_imports_and_reports():
    module, reason = _vision.torchvision_or_none(), _vision.unavailable_reason()
    assert (module is None) == (reason is not None)
    pypi_cuda_build = (importlib.util.find_spec("torchvision") is not None
                       and "+cpu" not in importlib.metadata.version("torchvision"))
    if torch.version.cuda is None and pypi_cuda_build:  # this machine: CPU torch
        assert module is None and "torchvision" in reason


def test_no_other_module_imports_torchvision():
    root = Path(__file__).resolve().parents[1]
    offenders = [p for folder in ("sgdlab", "widgets") for p in (root / folder).rglob("*.py")
                 if p.name != "_vision.py"
                 and re.search(r"^\s*(import|from)\s+torchvision", p.read_text(), re.M)]
    assert offenders == []
