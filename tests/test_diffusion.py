import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from sgdlab.__main__ import main
from sgdlab.core import minibatch
from sgdlab.deep import data, diffusion, eigenspectrum, gradients, models

ROOT = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("one_thread")


def net_and_data(name, n, seed=0):
    torch.manual_seed(seed)
    x, y = data.load(models.spec(name).dataset, n=n)
    return models.build(name), x, y


@pytest.mark.parametrize("name", ["tiny-fc", "small-lenet"])
def test_per_example_gradients_match_a_backward_loop(name):
    net, x, y = net_and_data(name, 6)
    net.train()                                  # evaluation mode must be used, then restored
    grads = gradients.per_example_gradients(net, x, y, chunk_size=4, device="cpu")
    assert net.training and grads.shape == (6, models.count_parameters(net))
    assert grads.dtype == torch.float32
    net.eval()
    for k in range(6):
        net.zero_grad()
        torch.nn.functional.cross_entropy(net(x[k:k + 1]), y[k:k + 1]).backward()
        loop = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
        assert (loop - grads[k]).abs().max() <= 1e-6


def test_dense_diffusion_is_eq2_symmetric_psd_with_the_right_trace():
    net, x, y = net_and_data("tiny-fc", 300)
    g = gradients.per_example_gradients(net, x, y, device="cpu")
    dense = diffusion.dense_diffusion(g, device="cpu")
    assert dense.dtype == torch.float64 and torch.equal(dense, dense.T)
    ev = torch.linalg.eigvalsh(dense)
    assert ev.min() >= -1e-12 * ev.max()
    g64 = g.double()
    deviation = ((g64 - g64.mean(0)) ** 2).sum(1).mean()
    assert torch.trace(dense).item() == pytest.approx(deviation.item(), rel=1e-12)
    reference = minibatch.diffusion_matrix(g64.numpy())
    np.testing.assert_allclose(dense.numpy(), reference, rtol=0,
                               atol=1e-12 * np.abs(reference).max())
    raw = g64.T @ g64 / len(g64) - torch.outer(g64.mean(0), g64.mean(0))   # eq. (2) as printed
    np.testing.assert_allclose(dense.numpy(), raw.numpy(), rtol=0, atol=1e-10 * raw.abs().max())


@pytest.mark.parametrize(("name", "n"), [("tiny-fc", 1500), ("small-fc", 400)])
def test_fast_and_exact_spectra_agree(name, n):
    net, x, y = net_and_data(name, n)
    g = gradients.per_example_gradients(net, x, y, device="cpu")
    exact = diffusion.spectrum_of(g, method="exact", device="cpu")
    fast = diffusion.spectrum_of(g, method="fast", device="cpu")
    assert exact.eigenvalues.shape == (exact.d,) and fast.eigenvalues.size > fast.rank
    assert abs(fast.rank - exact.rank) <= 1 and 0 < exact.rank < exact.d
    m = min(fast.rank, exact.rank)
    rel = np.abs(fast.eigenvalues[:m] - exact.eigenvalues[:m]) / exact.eigenvalues[:m]
    assert rel.max() < 1e-3
    assert fast.mean == pytest.approx(exact.mean, rel=1e-3)
    assert fast.std == pytest.approx(exact.std, rel=1e-3)
    assert np.all(np.diff(exact.eigenvalues) <= 0) and np.all(np.diff(fast.eigenvalues) <= 0)


def test_gradients_recomputed_per_pass_give_the_held_spectrum(monkeypatch):
    net, x, y = net_and_data("tiny-fc", 700)
    held = diffusion.spectrum(net, x, y, device="cpu", chunk_size=256)
    monkeypatch.setattr(gradients, "HOLD_BYTES", 0)
    streamed = diffusion.spectrum(net, x, y, device="cpu", chunk_size=256)
    assert streamed.rank == held.rank and streamed.n == 700
    np.testing.assert_allclose(streamed.nonzero, held.nonzero, rtol=1e-5)


def test_rank_rule_is_numpys_matrix_rank():
    rng = np.random.default_rng(1)
    d = 60
    basis, _ = np.linalg.qr(rng.standard_normal((d, d)))
    spectra = [np.r_[rng.uniform(0.5, 2.0, 7), np.zeros(d - 7)],                 # rank 7
               np.r_[1.0, 1e-2, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6, np.zeros(d - 7)]]  # straddles
    for lam in spectra:
        m32 = ((basis * lam) @ basis.T).astype(np.float32)
        ev = np.linalg.eigvalsh(m32.astype(np.float64))
        assert eigenspectrum.numerical_rank(ev, d) == np.linalg.matrix_rank(m32)
    assert eigenspectrum.numerical_rank(ev, d) == 5
    assert eigenspectrum.rank_threshold(2.0, d) == 2.0 * d * np.finfo(np.float32).eps


def test_spectrum_summary_is_over_all_d_eigenvalues():
    s = eigenspectrum.Spectrum(np.array([4.0, 1.0, 1e-9, -1e-10]), d=10, n=5, method="fast",
                               seconds=0.5)
    assert s.rank == 2 and s.rank_fraction == 0.2
    assert s.mean == pytest.approx(0.5) and s.std == pytest.approx(np.sqrt(1.7 - 0.25))
    out = json.loads(json.dumps(s.to_dict(top=3)))
    assert out["top_eigenvalues"] == [4.0, 1.0, 1e-9] and out["d"] == 10


def test_cli_prints_json():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "sgdlab", "spectrum", "--model", "tiny-fc",
                          "--n", "300", "--device", "cpu", "--top", "4"],
                         capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    out = json.loads(run.stdout)
    assert out["d"] == 917 and out["n"] == 300 and len(out["top_eigenvalues"]) == 4
    assert 0 < out["rank"] < 300 and out["rank_fraction"] == out["rank"] / 917
    assert {"mean", "std", "seconds"} <= out.keys()
    # the participation ratio lies between 1 and the rank (equal non-zero eigenvalues)
    assert 1 <= out["participation_ratio"] <= out["rank"]
    assert out["participation_ratio"] == pytest.approx(out["trace"] ** 2 / out["frobenius_sq"])


@pytest.mark.parametrize(("n", "d"), [(40, 120), (120, 40)])
def test_trace_moments_without_eigenvalues_match_the_exact_spectrum(n, d):
    """tr D and ||D||_F^2 from the Gram matrix (N < d) or the dense D (d <= N) against
    the sums of all d eigenvalues of the exact path: round-off of float32 products."""
    rng = np.random.default_rng(3)
    grads = rng.normal(size=(n, d)) * np.geomspace(0.01, 3.0, d) + rng.normal(size=d)
    m = diffusion.trace_moments_of(grads, device="cpu")
    ev = diffusion.spectrum_of(grads, method="exact", device="cpu").eigenvalues
    assert (m.d, m.n) == (d, n)
    assert m.trace == pytest.approx(ev.sum(), rel=1e-12)
    assert m.frobenius_sq == pytest.approx(np.square(ev).sum(), rel=1e-5)
    assert m.participation_ratio == pytest.approx(ev.sum() ** 2 / np.square(ev).sum(), rel=1e-5)


def test_participation_ratio_counts_equal_directions_and_top_fraction_checks_its_input():
    g = np.vstack([np.eye(3), -np.eye(3)])                  # D = I/3 on three directions
    m = diffusion.trace_moments_of(g, device="cpu")
    assert m.participation_ratio == pytest.approx(3.0)
    s = diffusion.spectrum_of(g, method="exact", device="cpu")
    assert m.top_fraction(s, 1) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="exceeds the 3 eigenvalues"):
        m.top_fraction(s, 4)
    with pytest.raises(ValueError, match="these moments of 3, 6"):
        m.top_fraction(eigenspectrum.Spectrum(s.eigenvalues, 3, 7, "exact", 0.0), 1)


def test_cli_errors(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["spectrum", "--model", "lenet"])
    assert exc.value.code == 2 and "small-lenet" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["spectrum", "--model", "tiny-fc", "--n", "100000", "--device", "cpu"])
    assert exc.value.code == 2 and "n = 100000" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["spectrum", "--model", "tiny-fc", "--checkpoint", str(tmp_path / "none.pt")])
    assert exc.value.code == 2 and "does not exist" in capsys.readouterr().err


def test_from_checkpoint_round_trips(tmp_path):
    torch.manual_seed(3)
    net = models.build("tiny-fc")
    net(torch.randn(8, 1, 7, 7))                 # move the BatchNorm running statistics
    path = tmp_path / "ck.pt"
    torch.save({"model": "tiny-fc", "num_classes": 5, "state_dict": net.state_dict(),
                "epoch": 4}, path)
    back, checkpoint = models.from_checkpoint(path, device="cpu")
    assert not back.training and checkpoint["epoch"] == 4
    for key, value in net.state_dict().items():
        assert torch.equal(back.state_dict()[key], value)
    torch.save({"model": "tiny-fc", "state_dict": net.state_dict()}, path)
    with pytest.raises(ValueError, match="num_classes"):
        models.from_checkpoint(path)
    torch.save({"model": "small-fc", "num_classes": 10, "state_dict": net.state_dict()}, path)
    with pytest.raises(ValueError, match="does not fit 'small-fc'"):
        models.from_checkpoint(path)
    with pytest.raises(FileNotFoundError, match=r"none\.pt"):
        models.from_checkpoint(tmp_path / "none.pt")


def test_bad_inputs_raise():
    net, x, y = net_and_data("tiny-fc", 10)
    with pytest.raises(ValueError, match="x contains NaN"):
        gradients.per_example_gradients(net, torch.where(x > 1, torch.nan, x), y)
    with pytest.raises(ValueError, match=r"y must hold classes 0\.\.4"):
        gradients.per_example_gradients(net, x, y + 5)
    with pytest.raises(ValueError, match="y must be an int64 tensor of shape"):
        gradients.per_example_gradients(net, x, y[:5])
    with pytest.raises(ValueError, match="x must be a float tensor"):
        gradients.per_example_gradients(net, x.long(), y)
    with pytest.raises(ValueError, match="N >= 2 examples"):
        gradients.per_example_gradients(net, x[:1], y[:1])
    with pytest.raises(ValueError, match="chunk_size"):
        gradients.per_example_gradients(net, x, y, chunk_size=0)
    with pytest.raises(ValueError, match="method"):
        diffusion.spectrum(net, x, y, method="dense")
    with pytest.raises(ValueError, match="seed"):
        diffusion.spectrum(net, x, y, seed=-1)
    with pytest.raises(ValueError, match="grads must be a floating"):
        diffusion.spectrum_of(np.ones(5))
    with pytest.raises(ValueError, match="N >= 2"):
        diffusion.spectrum_of(np.ones((1, 5)))
    with pytest.raises(ValueError, match="grads contains NaN"):
        diffusion.exact_eigenvalues(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="block"):
        diffusion.top_eigenvalues(np.eye(3), block=0)
    with pytest.raises(ValueError, match="eigenvalues"):
        eigenspectrum.numerical_rank(np.array([]), 3)



@pytest.mark.parametrize("n", [40, 400])       # N < d: the N x N Gram; N > d: D itself
def test_gram_eigenvalues_and_top_eigenvectors_are_those_of_d(n):
    rng = np.random.default_rng(3)
    g = rng.normal(size=(n, 6)) @ rng.normal(size=(6, 120)) + 0.01 * rng.normal(size=(n, 120))
    dense = diffusion.dense_diffusion(g, device="cpu").numpy()
    exact = np.linalg.eigvalsh(dense)[::-1]
    gram = diffusion.gram_eigenvalues(g, device="cpu")
    m = min(n, 120)
    assert gram.shape == (m,)
    np.testing.assert_allclose(gram, exact[:m], rtol=0, atol=1e-10 * exact[0])
    compact = diffusion.compact_diffusion(g, device="cpu").numpy()
    assert compact.shape == (m, m)
    # K and D: the same trace and Frobenius norm (the participation ratio's moments)
    assert np.trace(compact) == pytest.approx(np.trace(dense), rel=1e-12)
    assert np.sum(compact**2) == pytest.approx(np.sum(dense**2), rel=1e-10)
    values, vectors = diffusion.top_eigenvectors(g, 5, device="cpu")
    np.testing.assert_allclose(values, exact[:5], rtol=1e-10)
    np.testing.assert_allclose(dense @ vectors, vectors * values, atol=1e-10 * exact[0])
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(5), atol=1e-10)
    with pytest.raises(ValueError, match="positive eigenvalues"):
        diffusion.top_eigenvectors(np.ones((4, 3)), 1, device="cpu")
