"""Vectorised chains against single runs; long runs on disk, resumed and reused."""

import copy
import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sgdlab.deep import runs
from sgdlab.deep.chains import Chains, init_model, plain_chain
from sgdlab.deep.data import load
from sgdlab.deep.models import flat_parameters
from sgdlab.deep.runs import RunConfig, find, record

SEEDS = (3, 11, 12)
LRS = (0.2, 0.05)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data():
    return load("mnist7-04", n=300)             # 2 full batches and one of 44


@pytest.fixture(scope="module")
def chains(data):
    ch = Chains("tiny-fc", SEEDS, *data)
    for lr in LRS:
        ch.train_epoch(lr)
    return ch


def full_gradient(net, x, y):
    net.zero_grad()
    F.cross_entropy(net(x), y).backward()
    return torch.cat([p.grad.reshape(-1) for p in net.parameters()])


def test_vectorised_chains_equal_single_runs(chains, data):
    x, y = data
    weights = chains.flat(chains.params)
    snap = chains.snapshot()
    for c, seed in enumerate(SEEDS):
        net = plain_chain("tiny-fc", seed, x, y, LRS)
        torch.testing.assert_close(weights[c], flat_parameters(net), rtol=0, atol=1e-6)
        bn = net[2]
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            torch.testing.assert_close(chains.buffers[f"2.{name}"][c], getattr(bn, name),
                                       rtol=0, atol=1e-6)
        # full gradient with BatchNorm on all N examples (a copy: it updates running stats)
        np.testing.assert_allclose(snap.gradient[c], full_gradient(copy.deepcopy(net), x, y),
                                   atol=1e-6)
        g_eval = full_gradient(net.eval(), x, y)
        assert snap.eval_grad_norm[c] == pytest.approx(g_eval.norm().item(), rel=1e-5)
        assert snap.eval_loss[c] == pytest.approx(F.cross_entropy(net(x), y).item(), rel=1e-5)
    assert not np.allclose(weights[0], weights[1])          # the chains differ


@pytest.fixture(scope="module")
def closed_form_chains(data):
    ch = Chains("tiny-fc", SEEDS, *data, gradients="closed-form")
    for lr in LRS:
        ch.train_epoch(lr)
    return ch


def test_closed_form_chains_follow_the_torch_func_trajectory(chains, closed_form_chains):
    # float32 round-off: the two paths sum in different orders; after these 6 steps the
    # weights (of size about 1) and BatchNorm statistics agree to a few eps = 1.2e-7
    ch = closed_form_chains
    torch.testing.assert_close(ch.flat(ch.params), chains.flat(chains.params), rtol=0, atol=1e-6)
    for key, value in chains.buffers.items():
        torch.testing.assert_close(ch.buffers[key], value, rtol=0, atol=1e-6)
    snap, reference = ch.snapshot(), chains.snapshot()
    np.testing.assert_allclose(snap.gradient, reference.gradient, atol=1e-6)
    for name in ("loss", "eval_grad_norm", "eval_loss"):
        np.testing.assert_allclose(getattr(snap, name), getattr(reference, name), rtol=1e-5)


def test_closed_form_needs_a_two_layer_batchnorm_network(data):
    with pytest.raises(ValueError, match="'small-allcnn' is not Flatten-Linear-BatchNorm1d"):
        Chains("small-allcnn", (0,), torch.zeros(4, 3, 32, 32), torch.arange(4),
               gradients="closed-form")
    with pytest.raises(ValueError, match="gradients must be one of"):
        Chains("tiny-fc", (0,), *data, gradients="bmm")


@pytest.mark.parametrize("fixture", ["chains", "closed_form_chains"])
def test_snapshot_leaves_the_chains_alone(fixture, request):
    chains = request.getfixturevalue(fixture)
    before = {k: v.clone() for k, v in chains.buffers.items()}
    chains.snapshot()
    for key, value in chains.buffers.items():
        assert torch.equal(value, before[key])


def test_a_chain_does_not_depend_on_its_neighbours(data):
    alone = Chains("tiny-fc", SEEDS[1:2], *data)
    alone.train_epoch(LRS[0])
    crowd = Chains("tiny-fc", (*SEEDS, 40), *data)
    crowd.train_epoch(LRS[0])
    torch.testing.assert_close(crowd.flat(crowd.params)[1], alone.flat(alone.params)[0],
                               rtol=0, atol=1e-6)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"seeds": (1, 1)}, "seeds"),
    ({"seeds": ()}, "seeds"),
    ({"seeds": (-1,)}, "seeds"),
    ({"batch_size": 1000}, "batch_size"),
    ({"batch_size": 0}, "batch_size"),
    ({"momentum": -0.5}, "momentum"),
    ({"model": "small-lenet"}, "model"),
])
def test_bad_chains_name_the_argument(data, kwargs, name):
    args = {"model": "tiny-fc", "seeds": (0,), "x": data[0], "y": data[1]} | kwargs
    with pytest.raises(ValueError, match=name):
        Chains(**args)


@pytest.mark.parametrize(("change", "message"), [
    (lambda x, y: (x.clone().fill_(float("nan")), y), "x contains NaN"),
    (lambda x, y: (x, y + 5), r"y must hold classes 0\.\.4"),
    (lambda x, y: (x, y[:-1]), r"y must be an int64 tensor of shape \(300,\)"),
    (lambda x, y: (x, y.float()), "y must be an int64"),
    (lambda x, y: (x.reshape(len(x), -1), y), r"x must be a float tensor of shape \(n, 1, 7, 7\)"),
])
def test_bad_data(data, change, message):
    with pytest.raises(ValueError, match=message):
        Chains("tiny-fc", (0,), *change(*data))
    with pytest.raises(ValueError, match=message):
        plain_chain("tiny-fc", 0, *change(*data), LRS)


def test_chains_of_small_allcnn():
    x = torch.randn(6, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    ch = Chains("small-allcnn", (0, 1), x, torch.arange(6), batch_size=4)
    ch.train_epoch(0.01)
    snap = ch.snapshot()
    assert ch.num_classes == 10 and ch.d == 26_982
    assert snap.weights.shape == snap.gradient.shape == (2, 26_982)
    assert np.isfinite(snap.eval_loss).all()


def test_bad_learning_rate(chains):
    with pytest.raises(ValueError, match="lr"):
        chains.train_epoch(-1.0)


CONFIG = RunConfig(chains=2, burn_in=3, epochs=7, n=200, burn_in_lr=0.1, lr=0.01, chunk=3)


def read(traj):
    return {name: np.array(getattr(traj, name)) for name in runs.FILES}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return read(record(CONFIG, root=tmp_path_factory.mktemp("whole"), progress=False))


def test_record_keeps_every_epoch(uninterrupted):
    w, g = uninterrupted["weights"], uninterrupted["gradients"]
    assert w.shape == g.shape == (2, 917, 7)
    assert uninterrupted["grad_norm"].shape == (2, 10)
    np.testing.assert_allclose(uninterrupted["grad_norm"][:, 3:], np.linalg.norm(g, axis=1),
                               rtol=1e-5)
    assert np.all(np.diff(w, axis=2).any(axis=1))          # the weights move every epoch
    first = init_model("tiny-fc", CONFIG.seed)
    assert not np.allclose(w[0, :, 0], flat_parameters(first).numpy())


def test_resume_after_interruption_reproduces_the_run(tmp_path, monkeypatch, uninterrupted):
    calls = {"n": 0}
    original = Chains.train_epoch

    def crash_at_epoch_5(self, lr):
        calls["n"] += 1
        if calls["n"] == 5:                    # in the second chunk, after one checkpoint
            raise KeyboardInterrupt
        original(self, lr)

    monkeypatch.setattr(Chains, "train_epoch", crash_at_epoch_5)
    with pytest.raises(KeyboardInterrupt):
        record(CONFIG, root=tmp_path, progress=False)
    assert find(CONFIG, root=tmp_path) is None
    monkeypatch.setattr(Chains, "train_epoch", original)
    resumed = read(record(CONFIG, root=tmp_path, progress=False))
    for name, array in uninterrupted.items():
        assert np.array_equal(resumed[name], array), name


def test_a_finished_run_is_reused(tmp_path, monkeypatch):
    first = record(CONFIG, root=tmp_path, progress=False)
    monkeypatch.setattr(Chains, "train_epoch", lambda *a: pytest.fail("retrained"))
    again = record(dataclasses.replace(CONFIG, chunk=5), root=tmp_path, progress=False)
    assert again.folder == first.folder and np.array_equal(again.weights, first.weights)


def test_lr_schedule():
    c = RunConfig(burn_in=4, lr=1e-3, burn_in_lr=1e-1)
    assert c.lr_at(0) == pytest.approx(0.1) and c.lr_at(2) == pytest.approx(1e-2)
    assert c.lr_at(4) == c.lr_at(10_000) == 1e-3


def test_another_configuration_in_the_folder(tmp_path):
    folder = tmp_path / CONFIG.name
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="config"):
        record(CONFIG, root=tmp_path, progress=False)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"chains": 0}, "chains"), ({"epochs": -1}, "epochs"), ({"lr": 0.0}, "lr"),
    ({"burn_in_lr": 1e-4}, "burn_in_lr"), ({"model": "vgg"}, "model"), ({"seed": -2}, "seed"),
    ({"n": 0}, "n"), ({"chunk": 1.5}, "chunk"),
])
def test_bad_config_names_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        RunConfig(**kwargs)


def test_record_wants_a_config():
    with pytest.raises(ValueError, match="config"):
        record({"chains": 2})
