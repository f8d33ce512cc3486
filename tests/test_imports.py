"""The NumPy half imports no torch, and importing the package or an explorer is cheap.

Each module under ``sgdlab`` and ``widgets`` is read for its top-level imports; a module
*needs* torch, torchvision or statsmodels when it, or a module of the project it imports at
the top, imports one of them. Every other module must import in a fresh interpreter in
which the three are blocked: a finder placed first on ``sys.meta_path`` answers
``ModuleNotFoundError`` for them, as if they were not installed.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKED = ("torch", "torchvision", "statsmodels")
BLOCKER = f"""
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
sys.meta_path.insert(0, Blocker())
"""


def _modules() -> dict[str, Path]:
    found = {}
    for pkg in ("sgdlab", "widgets"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _top_level_imports(path: Path, module: str) -> set[str]:
    """Absolute names imported by statements at module level (not inside functions)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)
    return names


def _needs_blocked() -> dict[str, bool]:
    """For each module, whether importing it reaches one of BLOCKED (its parents included)."""
    modules = _modules()
    imports = {m: _top_level_imports(p, m) for m, p in modules.items()}
    edges = {m: {n for n in imports[m] if n in modules}
             | {".".join(m.split(".")[:i]) for i in range(1, m.count(".") + 1)}
             for m in modules}
    direct = {m: any(n.split(".")[0] in BLOCKED for n in imports[m]) for m in modules}
    needs = {}
    for m in modules:
        seen, todo = {m}, [m]
        while todo:
            for n in edges[todo.pop()] - seen:
                seen.add(n)
                todo.append(n)
        needs[m] = any(direct[n] for n in seen)
    return needs


def test_every_module_that_needs_none_of_the_three_imports_without_them():
    free = sorted(m for m, need in _needs_blocked().items() if not need)
    # the whole NumPy half, the explorers of Parts I, II and IV, the spectrum explorer and
    # the NumPy parts of the deep half are among them
    assert {m for m in _modules() if m.startswith("sgdlab.core")} <= set(free)
    assert {"sgdlab", "sgdlab.storage", "widgets", "widgets.double_well",
            "widgets.anisotropy", "widgets.sgd_noise", "widgets.local_entropy", "widgets.spectrum",
            "sgdlab.deep.eigenspectrum", "sgdlab.deep.data.mnist",
            "sgdlab.deep.data.preprocess"} <= set(free)
    code = (BLOCKER + "import importlib, json\nfailed = {}\n"
            f"for m in {free!r}:\n"
            "    try:\n        importlib.import_module(m)\n"
            "    except ImportError as err:\n        failed[m] = str(err)\n"
            "print(json.dumps(failed))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                         capture_output=True, text=True)
    assert json.loads(out.stdout.splitlines()[-1]) == {}


@pytest.mark.parametrize("statement", ["import sgdlab", "import sgdlab.core", "import sgdlab.deep",
                                       "import widgets"])
def test_importing_a_package_loads_none_of_its_modules(statement):
    code = (f"import sys\n{statement}\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'scipy', 'matplotlib', 'ipywidgets', 'ot'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                         capture_output=True, text=True)
    assert out.stdout.strip() == ""
