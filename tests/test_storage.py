"""Where data and runs live, and writes that are whole or absent."""

from pathlib import Path

import numpy as np
import pytest

from sgdlab import storage


@pytest.mark.parametrize(("fn", "var"), [(storage.data_root, "SGDLAB_DATA"),
                                         (storage.runs_root, "SGDLAB_RUNS")])
def test_roots_take_the_argument_then_the_variable_then_the_checkout(fn, var, monkeypatch,
                                                                     tmp_path):
    monkeypatch.setenv(var, str(tmp_path / "env"))
    assert fn(tmp_path / "arg") == tmp_path / "arg"
    assert fn() == tmp_path / "env"
    monkeypatch.delenv(var)
    top = Path(__file__).resolve().parents[1]
    assert storage.checkout() == top
    assert fn() in (top / "data", top / "_build" / "runs")


def test_outside_a_checkout_the_roots_are_the_users_folders(monkeypatch, tmp_path):
    monkeypatch.delenv("SGDLAB_DATA", raising=False)
    monkeypatch.delenv("SGDLAB_RUNS", raising=False)
    monkeypatch.setattr(storage, "checkout", lambda: None)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert storage.data_root() == tmp_path / "share" / "sgdlab"
    assert storage.runs_root() == tmp_path / "cache" / "sgdlab" / "runs"


def test_config_key_ignores_the_order_of_fields():
    assert storage.config_key({"a": 1, "b": 2.5}) == storage.config_key({"b": 2.5, "a": 1})
    assert storage.config_key({"a": 1}) != storage.config_key({"a": 2})
    assert len(storage.config_key({"a": 1})) == 10


def test_an_interrupted_write_leaves_the_old_file_and_no_partial(tmp_path):
    path = tmp_path / "x.npz"
    with storage.atomic_write(path) as fh:
        np.savez(fh, x=np.zeros(2))
    with pytest.raises(KeyboardInterrupt), storage.atomic_write(path) as fh:
        fh.write(b"half")
        raise KeyboardInterrupt
    assert np.load(path)["x"].tolist() == [0.0, 0.0]
    assert [p.name for p in tmp_path.iterdir()] == ["x.npz"]
