import copy

import numpy as np
import pytest
import scipy.linalg
import torch

from sgdlab.deep import anatomy, data, models
from sgdlab.deep.gradients import per_example_gradients

pytestmark = pytest.mark.usefixtures("one_thread")


def trained_like(name, n, seed=0):
    """A freshly built network whose BatchNorm running statistics are not the identity."""
    torch.manual_seed(seed)
    x, y = data.load(models.spec(name).dataset, n=n)
    net = models.build(name)
    with torch.no_grad():
        net.train()
        net(x)
    return net.eval(), x, y


def backward_loop(net, x, y):
    """Each example's gradient from one forward over all of x, BatchNorm in training mode."""
    rows = []
    for k in range(len(y)):
        m = copy.deepcopy(net)
        for module in m.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.train()
        torch.nn.functional.cross_entropy(m(x)[k:k + 1], y[k:k + 1]).backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in m.parameters()]))
    return torch.stack(rows)


@pytest.mark.parametrize("name", ["tiny-fc", "small-fc"])
def test_training_mode_gradients_match_a_backward_loop(name):
    net, x, y = trained_like(name, 10)
    before = copy.deepcopy(net.state_dict())
    grads = anatomy.training_mode_gradients(net, x, y, chunk_size=4, device="cpu")
    loop = backward_loop(net, x, y)
    assert grads.shape == loop.shape == (10, models.count_parameters(net))
    # float32 round-off of a forward through up to three BatchNorm layers on 10 examples
    assert (grads - loop).abs().max() <= 1e-4 * loop.abs().max()
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in before.items())
    # the bias of a layer followed by BatchNorm: the loss is invariant, its gradient zero
    layout = models.spec(name).layout()
    assert anatomy.biases_before_batchnorm(net) == ["1.bias"]
    bias = grads[:, layout["1.bias"].slice]
    assert bias.abs().max() <= 1e-6 * grads.abs().max()
    # ... which in evaluation mode it is not
    eval_bias = per_example_gradients(net, x, y, device="cpu")[:, layout["1.bias"].slice]
    assert eval_bias.abs().max() > 1e-2 * grads.abs().max()


def test_training_mode_gradients_reject_a_network_without_batchnorm():
    with pytest.raises(ValueError, match="BatchNorm"):
        anatomy.training_mode_gradients(torch.nn.Sequential(torch.nn.Flatten(),
                                                            torch.nn.Linear(49, 5)),
                                        torch.zeros(4, 1, 7, 7), torch.zeros(4, dtype=torch.long))


@pytest.mark.parametrize(("name", "layer"), [("small-fc", "1"), ("small-lenet", "0")])
@pytest.mark.parametrize("alpha", [0.1, 7.0])
def test_rescale_batchnorm_keeps_the_function_and_divides_the_layer_gradients(name, layer, alpha):
    net, x, y = trained_like(name, 8)
    before = copy.deepcopy(net.state_dict())
    scaled = anatomy.rescale_batchnorm(net, layer, alpha)
    with torch.no_grad():
        out, out_scaled = net(x), scaled(x)
    assert (out - out_scaled).abs().max() <= 1e-5 * out.abs().max()          # round-off
    g = per_example_gradients(net, x, y, device="cpu")
    g_scaled = per_example_gradients(scaled, x, y, device="cpu")
    layout = models.spec(name).layout()
    expected = g.clone()
    for key in (f"{layer}.weight", f"{layer}.bias"):
        expected[:, layout[key].slice] /= alpha
    assert (g_scaled - expected).abs().max() <= 1e-4 * g.abs().max()
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in before.items())  # kept


def test_rescale_batchnorm_rejects_bad_layers_and_scales():
    net = models.build("small-fc")
    with pytest.raises(ValueError, match="followed by BatchNorm"):
        anatomy.rescale_batchnorm(net, "4", 2.0)
    with pytest.raises(ValueError, match="alpha"):
        anatomy.rescale_batchnorm(net, "1", -1.0)


def test_block_stats_on_gradients_of_known_block_ranks():
    rng = np.random.default_rng(0)
    n = 200
    g = np.concatenate([rng.normal(size=(n, 2)) @ rng.normal(size=(2, 30)),     # rank 2
                        rng.normal(size=(n, 3)) @ rng.normal(size=(3, 300)),    # rank 3, d > N
                        np.zeros((n, 4))], axis=1)
    layout = {name: models.ParameterSlice(name, (size,), start) for name, size, start in
              [("a", 30, 0), ("b", 300, 30), ("c", 4, 330)]}
    stats = anatomy.block_stats(g, layout, device="cpu")
    assert [(s.name, s.size, s.rank) for s in stats] == [("a", 30, 2), ("b", 300, 3), ("c", 4, 0)]
    total = np.trace(np.cov(g.T, bias=True))
    blocks = [np.trace(np.cov(g[:, s.slice].T, bias=True)) for s in layout.values()]
    np.testing.assert_allclose([s.trace for s in stats], blocks, rtol=1e-10, atol=1e-12)
    assert sum(s.trace for s in stats) == pytest.approx(total, rel=1e-10)
    with pytest.raises(ValueError, match="tile"):
        anatomy.block_stats(g[:, :40], layout, device="cpu")


def test_class_split_is_the_law_of_total_covariance():
    rng = np.random.default_rng(1)
    c, n, d = 4, 400, 50
    labels = rng.integers(0, c, size=n)
    g = rng.normal(size=(n, d)) + 3 * rng.normal(size=(c, d))[labels]
    split = anatomy.class_split(g, labels, c)
    cov = np.cov(g.T, bias=True)
    within = sum(np.mean(labels == k) * np.cov(g[labels == k].T, bias=True) for k in range(c))
    between = split.means.T @ split.means
    np.testing.assert_allclose(between + within, cov, atol=1e-10 * np.abs(cov).max())
    assert split.trace_total == pytest.approx(np.trace(cov), rel=1e-12)
    assert split.trace_between == pytest.approx(np.trace(cov - within), rel=1e-10)
    assert split.rank == c - 1                                   # C - 1 means in general position
    basis = scipy.linalg.orth(split.means.T)
    assert split.captured(basis) == pytest.approx(split.trace_between, rel=1e-10)
    with pytest.raises(ValueError, match="labels"):
        anatomy.class_split(g, labels + 1, c)
    with pytest.raises(ValueError, match="vectors"):
        split.captured(np.ones((d + 1, 2)))


def test_random_subspaces_meet_the_wachter_edge_and_the_mean_k_over_d():
    gen = torch.Generator().manual_seed(2)
    d, k, trials = 2000, 40, 30
    largest, mean = [], []
    for _ in range(trials):
        a, b = (torch.linalg.qr(torch.randn(d, k, generator=gen, dtype=torch.float64))[0]
                for _ in range(2))
        cos2 = torch.linalg.svdvals(a.T @ b) ** 2         # the principal angles' cosines
        largest.append(float(cos2.max()))
        mean.append(float(cos2.mean()))
    edge = anatomy.random_overlap_edge(d, k)
    # finite-size fluctuations of the largest eigenvalue are O(k^(-2/3)) of the edge
    assert abs(np.mean(largest) / edge - 1) < 0.25
    # E mean cos^2 = k / d exactly; 5 standard errors of the mean over the trials
    assert abs(np.mean(mean) - k / d) < 5 * np.std(mean) / np.sqrt(trials)
    with pytest.raises(ValueError, match="d / 2"):
        anatomy.random_overlap_edge(10, 6)
