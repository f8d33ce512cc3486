"""The declared public surface: what each public module exports, and that it is documented.

Every module of ``sgdlab`` and ``widgets`` whose dotted name has no part with a
leading underscore lists its public names in ``__all__``; the API reference of
the book (``book/api.md``) documents exactly those names.  Modules are found
with :func:`pkgutil.walk_packages`, so a new module is covered without editing
this file.
"""

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import sgdlab
import widgets


def _public_modules() -> list[str]:
    names = set()
    for package in (sgdlab, widgets):
        names.add(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if not any(part.startswith("_") for part in info.name.split(".")):
                names.add(info.name)
    return sorted(names)


MODULES = _public_modules()


def _exported(module: ModuleType) -> list[tuple[str, object]]:
    return [(name, getattr(module, name)) for name in module.__all__]


def _has_own_docstring(obj: object) -> bool:
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__")
        # A dataclass without a docstring gets its signature as one.
        return bool(doc and doc.strip()) and not doc.startswith(f"{obj.__name__}(")
    return bool(obj.__doc__ and obj.__doc__.strip())


def test_modules_are_found():
    assert {"sgdlab.core.fokker_planck", "sgdlab.deep.models", "sgdlab.storage",
            "widgets.double_well"} <= set(MODULES)
    assert not any(part.startswith("_") for name in MODULES for part in name.split("."))


@pytest.mark.parametrize("name", MODULES)
def test_module_declares_its_public_names(name):
    module = importlib.import_module(name)
    assert module.__doc__ and module.__doc__.strip(), f"{name} has no docstring"
    exported = vars(module).get("__all__")
    assert isinstance(exported, list | tuple), f"{name} defines no __all__"
    assert all(isinstance(n, str) for n in exported), name
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"


@pytest.mark.parametrize("name", MODULES)
def test_every_exported_name_exists(name):
    module = importlib.import_module(name)
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"


@pytest.mark.parametrize("name", MODULES)
def test_exported_functions_and_classes_have_docstrings(name):
    module = importlib.import_module(name)
    undocumented = [n for n, obj in _exported(module)
                    if (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismodule(obj))
                    and not _has_own_docstring(obj)]
    assert not undocumented, f"{name}: no docstring for {undocumented}"


def test_the_lazy_data_package_exports_exactly_its_modules_names():
    """sgdlab.deep.data re-exports each submodule's public names, imported on first use."""
    from sgdlab.deep import data

    assert sorted(data.__all__) == sorted(data._MODULE)
    for name, module in data._MODULE.items():
        assert name in importlib.import_module(f"sgdlab.deep.data.{module}").__all__
