"""sgdlab.sweep: one function over a grid, in process or on a local two-worker Ray, kept in
the runs folder and resumed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sgdlab import sweep as sw

ROOT = Path(__file__).resolve().parents[1]
GRID = [{"a": a, "b": b} for a in (1, 2, 3) for b in (10, 20)]


def power(config):
    return {"value": config["a"] ** 2 + config["b"], "pid": os.getpid()}


def test_in_process_results_in_grid_order_each_kept_in_the_runs_folder(tmp_path):
    out = sw.sweep(power, GRID, name="t", root=tmp_path, progress=False)
    assert [r["value"] for r in out] == [c["a"] ** 2 + c["b"] for c in GRID]
    saved = json.loads(sw.result_path("t", GRID[3], tmp_path).read_text())
    assert saved == {"config": GRID[3], "result": out[3]}


def test_an_interrupted_sweep_keeps_what_it_made_and_resumes(tmp_path):
    calls = []

    def fails_at_the_fourth(config):
        calls.append(config)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return power(config)

    with pytest.raises(KeyboardInterrupt):
        sw.sweep(fails_at_the_fourth, GRID, name="t", root=tmp_path, progress=False)
    assert [sw.result_path("t", c, tmp_path).is_file() for c in GRID] == [True] * 3 + [False] * 3
    calls.clear()

    def counted(config):
        calls.append(config)
        return power(config)

    out = sw.sweep(counted, GRID, name="t", root=tmp_path, progress=False)
    assert calls == GRID[3:] and [r["value"] for r in out] == [c["a"] ** 2 + c["b"] for c in GRID]


def test_bad_input_is_named(tmp_path):
    with pytest.raises(ValueError, match="backend must be one of"):
        sw.sweep(power, GRID, name="t", backend="dask", root=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="plain folder name"):
        sw.sweep(power, GRID, name="../t", root=tmp_path)
    with pytest.raises(ValueError, match="is not a JSON object"):
        sw.sweep(power, [{"a": float("nan")}], name="t", root=tmp_path)


def test_without_ray_the_ray_backend_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ModuleNotFoundError, match="pip install ray"):
        sw.sweep(power, GRID, name="t", backend="ray", root=tmp_path, progress=False)


def test_on_a_local_two_worker_ray_the_results_are_those_of_the_process(tmp_path, monkeypatch):
    if os.environ.get("CI") is None:
        pytest.importorskip("ray")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)

    def task(config):          # a local function: Ray pickles it by value for the workers
        return {"value": config["a"] ** 2 + config["b"], "pid": os.getpid()}

    out = sw.sweep(task, GRID, name="ray", backend="ray", num_cpus=2, root=tmp_path,
                   progress=False)
    assert [r["value"] for r in out] == [c["a"] ** 2 + c["b"] for c in GRID]
    assert os.getpid() not in {r["pid"] for r in out}            # ran in Ray's workers
    assert all(sw.result_path("ray", c, tmp_path).is_file() for c in GRID)


def test_the_command_line_sweeps_spectra_over_sizes_and_seeds_and_resumes(tmp_path):
    command = [sys.executable, "-m", "sgdlab", "sweep", "spectrum", "--model", "tiny-fc",
               "--n", "40,120", "--seeds", "0,1", "--root", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = json.loads(subprocess.run(command, capture_output=True, text=True, env=env,
                                      cwd=ROOT, check=True).stdout)
    assert [(p["config"]["n"], p["config"]["seed"]) for p in first] == [
        (40, 0), (40, 1), (120, 0), (120, 1)]
    for point in first:
        r = point["result"]
        # rank(D) <= N - 1 exactly (eq. 2 centres N gradients); 1 <= PR <= rank
        assert r["n"] == point["config"]["n"] and r["rank"] <= r["n"] - 1
        assert 1 <= r["participation_ratio"] <= r["rank"]
    assert first[0]["result"] != first[1]["result"]             # another subset
    again = json.loads(subprocess.run(command, capture_output=True, text=True, env=env,
                                      cwd=ROOT, check=True).stdout)
    assert again == first                                        # read back, not recomputed
