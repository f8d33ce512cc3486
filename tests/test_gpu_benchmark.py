"""benchmarks/gpu.py, the paper's scale in one GPU command, at tiny sizes on the CPU."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_gpu_script_runs_dry_and_reports_every_figure(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--dry-run",
                          "--root", str(tmp_path)], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert report["device"] == "cpu" and report["scale"] == "dry-run"
    spectrum = report["spectrum"]
    assert spectrum["images"] == spectrum["n"] == 200 and spectrum["d"] > 10_000
    # the participation ratio lies between 1 and the rank (equal non-zero eigenvalues)
    assert 1 <= spectrum["participation_ratio"] <= spectrum["rank"] <= spectrum["n"] - 1
    assert report["chains"]["chain_epochs_per_s"] > 0 and report["chains"]["full_run_hours"] > 0
    assert set(report["training"]) == {"small-lenet", "small-fc"}
    for panel in report["training"].values():
        assert set(panel["rank_fraction"]) == {"0.2", "0.4", "1"}
        assert 0 <= panel["test_accuracy"] <= 1
    assert (tmp_path / report["training"]["small-fc"]["experiment"]).is_dir()   # resumable
