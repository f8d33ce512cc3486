import math

import pytest
import torch

from sgdlab.deep.data import load
from sgdlab.deep.train import FRACTIONS, checkpoint_path, evaluate, fit, lr_factor

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def mnist7():
    return load("mnist7-04", n=300, device="cpu") + load("mnist7-04", "test", n=200, device="cpu")


@pytest.fixture(scope="module")
def mnist28():
    return load("mnist", n=300, device="cpu")


def same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_short_run_decreases_the_loss_and_leaves_the_callers_rng(mnist7):
    x, y, xt, yt = mnist7
    before = torch.get_rng_state()
    result = fit("tiny-fc", x, y, epochs=4, x_test=xt, y_test=yt, progress=False)
    assert torch.equal(torch.get_rng_state(), before)
    assert len(result.train_loss) == len(result.test_accuracy) == 4
    assert result.train_loss[-1] < 0.7 * result.train_loss[0]
    loss, accuracy = evaluate(result.model, xt, yt, batch_size=64)
    assert accuracy == result.test_accuracy[-1]
    assert math.isclose(loss, result.test_loss[-1], rel_tol=1e-6)
    assert accuracy > 0.5 and not result.model.training  # chance is 0.2
    assert result.checkpoints == {} and result.epochs_trained == 4


def test_resume_after_interruption_is_bitwise_identical(mnist28, tmp_path):
    x, y = mnist28  # small-lenet: dropout, so the random state must be restored too
    settings = dict(epochs=3, lr=0.05, progress=False)
    whole = fit("small-lenet", x, y, run_dir=tmp_path / "whole", **settings)

    class Interrupt(Exception):
        pass

    def stop_after_one(epoch, metrics):
        if epoch == 1:
            raise Interrupt

    with pytest.raises(Interrupt):
        fit("small-lenet", x, y, run_dir=tmp_path / "cut", callback=stop_after_one, **settings)
    resumed = fit("small-lenet", x, y, run_dir=tmp_path / "cut", **settings)
    assert resumed.epochs_trained == 2
    assert same_weights(whole.model, resumed.model)
    assert resumed.train_loss == whole.train_loss
    for fraction in FRACTIONS:
        a, b = (torch.load(checkpoint_path(tmp_path / run, fraction), weights_only=True)
                for run in ("whole", "cut"))
        assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
    in_memory = fit("small-lenet", x, y, **settings)
    assert same_weights(whole.model, in_memory.model)


def test_finished_run_is_loaded_not_retrained(mnist7, tmp_path):
    x, y, _, _ = mnist7
    first = fit("tiny-fc", x, y, epochs=2, run_dir=tmp_path, progress=False)

    def fail(epoch, metrics):
        raise AssertionError("trained again")

    again = fit("tiny-fc", x, y, epochs=2, run_dir=tmp_path, progress=False, callback=fail)
    assert again.epochs_trained == 0 and same_weights(first.model, again.model)
    assert again.train_loss == first.train_loss and again.seconds == first.seconds
    assert set(again.checkpoints) == {0.2, 0.4, 1.0}
    saved = torch.load(again.checkpoints[0.2], weights_only=True)
    assert {"model", "num_classes", "state_dict", "optimizer", "scheduler", "rng", "epoch",
            "fraction", "config", "metrics"} <= saved.keys()
    assert saved["model"] == "tiny-fc" and saved["num_classes"] == 5
    assert saved["fraction"] == 0.2 and saved["step"] == 1 and saved["epoch"] == 0  # of 4 steps
    final = torch.load(again.checkpoints[1.0], weights_only=True)
    assert all(torch.equal(v, again.model.state_dict()[k]) for k, v in final["state_dict"].items())
    assert final["metrics"]["train_loss"] == first.train_loss
    with pytest.raises(ValueError, match=r"another configuration \(lr: 0\.1 there, 0\.2 here\)"):
        fit("tiny-fc", x, y, epochs=2, lr=0.2, run_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="data"):
        fit("tiny-fc", x[:200], y[:200], epochs=2, run_dir=tmp_path, progress=False)


def test_schedules():
    assert [lr_factor("step", k, 100) for k in (0, 49, 50, 74, 75, 99)] == \
        [1.0, 1.0, 0.1, 0.1, 0.1 ** 2, 0.1 ** 2]
    assert lr_factor("cosine", 0, 10) == 1.0 and math.isclose(lr_factor("cosine", 5, 10), 0.5)
    assert lr_factor("constant", 7, 10) == 1.0
    with pytest.raises(ValueError, match="schedule"):
        lr_factor("linear", 0, 10)
    with pytest.raises(ValueError, match="total"):
        lr_factor("cosine", 0, 0)


@pytest.mark.parametrize(("change", "message"), [
    (dict(model="resnet"), "unknown model name 'resnet'"),
    (dict(lr=-0.1), "lr must be > 0"),
    (dict(lr=float("nan")), "lr must be finite"),
    (dict(batch_size=0), "batch_size must be a positive integer"),
    (dict(batch_size=301), "batch_size = 301 exceeds the 300"),
    (dict(y=torch.zeros(299, dtype=torch.int64)), r"y must be an int64 tensor of shape \(300,\)"),
    (dict(y=torch.zeros(300)), "y must be an int64"),
    (dict(y=torch.full((300,), 5)), r"y must hold classes 0..4"),
    (dict(x=torch.zeros(300, 1, 28, 28)), r"x must be a float tensor of shape \(n, 1, 7, 7\)"),
    (dict(x=torch.full((300, 1, 7, 7), float("nan"))), "x contains NaN"),
    (dict(momentum=1.0), "momentum must be in"),
    (dict(momentum=0.0), "nesterov=True needs momentum"),
    (dict(weight_decay=-1e-4), "weight_decay must be >= 0"),
    (dict(schedule="exp"), "schedule must be one of"),
    (dict(seed=-1), "seed must be a non-negative integer"),
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(fractions=(0.5, 1.5)), r"fractions must be numbers in \(0, 1\]"),
    (dict(fractions=(0.201, 0.204)), "first two decimals"),
    (dict(x_test=torch.zeros(5, 1, 7, 7)), "x_test and y_test must be given together"),
])
def test_bad_input(mnist7, change, message):
    x, y, _, _ = mnist7
    args = dict(model="tiny-fc", x=x, y=y, epochs=1, progress=False) | change
    with pytest.raises(ValueError, match=message):
        fit(args.pop("model"), args.pop("x"), args.pop("y"), **args)


def test_evaluate_bad_input(mnist7):
    x, y, _, _ = mnist7
    model = fit("tiny-fc", x, y, epochs=1, progress=False).model
    with pytest.raises(ValueError, match="y must be an int64 tensor of shape"):
        evaluate(model, x, y[:-1])
    with pytest.raises(ValueError, match="x contains NaN"):
        evaluate(model, torch.full_like(x, float("nan")), y)
    with pytest.raises(ValueError, match="batch_size"):
        evaluate(model, x, y, batch_size=0)
