"""FDR1 on networks: the per-step terms, the per-epoch record, the sweep's cache."""

import dataclasses

import numpy as np
import pytest
import torch

from sgdlab.deep.chains import Chains
from sgdlab.deep.data import load
from sgdlab.deep.fdr import FDR1Run, measure, measure_all, step_terms
from sgdlab.deep.runs import RunConfig

pytestmark = pytest.mark.usefixtures("one_thread")
CONFIG = RunConfig(model="tiny-fc", chains=2, burn_in=1, epochs=1, lr=0.1, burn_in_lr=0.1, n=300)


def test_step_terms_match_a_direct_computation():
    chains = Chains("tiny-fc", (0, 1), *load("mnist7-04", n=300))
    seen = []

    def observe(c):
        p = c.params["4.weight"]
        buf = c.optimizer.state.get(p, {}).get("momentum_buffer")
        seen.append((step_terms(c), p.detach().clone(), p.grad.clone(),
                     torch.zeros_like(p) if buf is None else buf.clone()))

    chains.train_epoch(0.1, observe=observe)
    terms, x, g, v = seen[-1]
    pairs = ((x, g), (g, g), (v, g), (v, v))
    direct = [(a.double() * b.double()).sum(dim=(1, 2)) for a, b in pairs]
    np.testing.assert_allclose(terms[:, 4].numpy(), torch.stack(direct, 1).numpy(), rtol=1e-5)
    assert seen[0][0][..., 2:].abs().max() == 0          # no momentum before the first step


def test_plain_sgd_residual_is_the_drift_of_the_norm():
    config = dataclasses.replace(CONFIG, momentum=0.0, nesterov=False)
    run = measure(config)
    steps = 3                                            # 300 examples, batches of 128
    drift = (run.sq_norm[:-1] - run.sq_norm[1:]) / (2 * config.lr)
    # exact up to float32 rounding of the updates: eps |x|^2 / eta per step at most
    bound = steps * 2 * np.finfo(np.float32).eps * run.sq_norm.max() / config.lr
    np.testing.assert_allclose(steps * (run.lhs - run.rhs), drift, atol=bound)


def test_batchnorm_makes_the_first_layer_orthogonal_to_its_gradient():
    run = measure(CONFIG)
    first = run.tensors.index("1.weight")
    assert np.all(np.abs(run.lhs[..., first]) < 1e-4 * run.rhs[..., first])
    assert run.lhs.shape == (2, 2, 6) and run.sq_norm.shape == (3, 2, 6)


def test_sweep_caches_and_round_trips(tmp_path, monkeypatch):
    monkeypatch.setenv("SGDLAB_RUNS", str(tmp_path))
    first, = measure_all([CONFIG], progress=False)
    again, = measure_all([CONFIG], progress=False)
    np.testing.assert_array_equal(first.rhs, again.rhs)
    assert isinstance(again, FDR1Run) and again.config == CONFIG


def test_bad_config():
    with pytest.raises(ValueError, match="RunConfig"):
        measure({"model": "tiny-fc"})


def test_sides_sum_the_tensors_and_keep_the_residual():
    run = measure(CONFIG)
    (lm, _), (rm, _), (em, es) = run.sides(start=0)
    assert em == pytest.approx(lm - rm) and es > 0
    parts = [run.sides([t], start=0)[0][0] for t in run.tensors]
    assert sum(parts) == pytest.approx(lm)
