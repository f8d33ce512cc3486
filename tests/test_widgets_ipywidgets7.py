"""The explorers with Colab's ipywidgets (7.7), and a plain message with an older one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import ipywidgets
import pytest

import widgets

ROOT = Path(__file__).resolve().parents[1]
#: Every explorer that needs no training run, each with its first slider moved to its end.
SCRIPT = """
import ipywidgets, widgets
assert ipywidgets.__version__ == "7.7.1", ipywidgets.__version__
for name in ["double_well_explorer", "anisotropy_explorer", "sgd_noise_explorer",
             "local_entropy_explorer"]:
    explorer = getattr(widgets, name)()
    before = explorer.image.value
    slider = explorer.sliders[0]
    slider.value = slider.max if slider.value != slider.max else slider.min
    assert explorer.image.value != before, name
    print(name, "moves")
"""


def test_the_explorers_move_with_colabs_ipywidgets(tmp_path):
    """ipywidgets 7.7.1 (with ipython_genutils, which it imports) from the package index,
    put before this environment's 8.x on the path."""
    target = tmp_path / "ipywidgets7"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                          "--target", str(target), "ipywidgets==7.7.1",
                          "ipython_genutils==0.2.0"], capture_output=True, text=True)
    if pip.returncode and os.environ.get("CI") is None:
        pytest.skip(f"ipywidgets 7.7.1 not installable here: {pip.stderr[-300:]}")
    assert pip.returncode == 0, pip.stderr
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), str(ROOT)]))
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.count("moves") == 4


@pytest.mark.parametrize("version", ["7.5.2", "6.0.0"])
def test_an_older_ipywidgets_is_named(monkeypatch, version):
    monkeypatch.setattr(ipywidgets, "__version__", version)
    with pytest.raises(ImportError, match=f"ipywidgets 7.6 or later, found {version}"):
        widgets.double_well_explorer  # noqa: B018 (the attribute access imports it)


def test_a_missing_ipywidgets_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with pytest.raises(ImportError, match="the explorers need ipywidgets"):
        widgets.anisotropy_explorer  # noqa: B018
