"""sgdlab as users install it: a wheel, every import declared, nothing written beside it."""

from __future__ import annotations

import ast
import importlib.metadata
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sgdlab", "widgets")


def _declared() -> set[str]:
    """Distribution names in pyproject's dependencies and extras, normalised as PEP 503 does."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = [*project["dependencies"], *itertools.chain(*project["optional-dependencies"].values())]
    return {re.sub(r"[-_.]+", "-", re.split(r"[<>=!~ ;\[]", d)[0]).lower() for d in deps}


def _imported() -> dict[str, set[str]]:
    """Top-level names each module of the packages imports, absolute imports only."""
    found: dict[str, set[str]] = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_a_declared_dependency():
    dists = importlib.metadata.packages_distributions()
    declared = _declared()
    missing = {}
    for top, where in _imported().items():
        if top in sys.stdlib_module_names or top in PACKAGES:
            continue
        names = {re.sub(r"[-_.]+", "-", d).lower() for d in dists.get(top, [top])}
        if not names & declared:
            missing[top] = sorted(where)
    assert not missing, f"imported but not in pyproject's dependencies: {missing}"


def _build_wheel(tmp: Path) -> Path:
    """Build the wheel from a copy of the sources, so the checkout gets no build folders."""
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(tmp / "dist"), str(src)],
                   check=True)
    (wheel,) = (tmp / "dist").glob("sgdlab-*.whl")
    return wheel


def _tree(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_wheel_installs_and_computes_a_spectrum_from_another_folder(tmp_path):
    wheel = _build_wheel(tmp_path)
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(site), str(wheel)], check=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGDLAB_")}
    env.update(PYTHONPATH=str(site), HOME=str(tmp_path / "home"),
               XDG_DATA_HOME=str(tmp_path / "share"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               OMP_NUM_THREADS="1")
    before = _tree(site)

    where = subprocess.run(
        [sys.executable, "-c", "import json, sgdlab, widgets; from sgdlab import storage; "
         "print(json.dumps([sgdlab.__file__, widgets.__file__, str(storage.checkout()), "
         "str(storage.data_root()), str(storage.runs_root())]))"],
        cwd=work, env=env, check=True, capture_output=True, text=True)
    sgdlab_file, widgets_file, checkout, data, runs = json.loads(where.stdout)
    assert Path(sgdlab_file).is_relative_to(site) and Path(widgets_file).is_relative_to(site)
    assert checkout == "None"
    assert Path(data) == tmp_path / "share" / "sgdlab"
    assert Path(runs) == tmp_path / "cache" / "sgdlab" / "runs"

    # The wheel ships no MNIST: the documented variable points at the checkout's copy.
    env["SGDLAB_DATA"] = str(ROOT / "data")
    out = subprocess.run([sys.executable, "-m", "sgdlab", "spectrum", "--model", "tiny-fc",
                          "--n", "200", "--method", "exact"],
                         cwd=work, env=env, check=True, capture_output=True, text=True)
    result = json.loads(out.stdout)
    assert result["model"] == "tiny-fc" and result["n"] == 200 and result["d"] == 917
    # rank(D) <= n - 1: D is the covariance of n centred gradients (eq. 2)
    assert 0 < result["rank"] <= 199
    assert _tree(site) == before, "running sgdlab wrote into its install folder"
    assert not any(work.iterdir()), "running sgdlab wrote into the working folder"
