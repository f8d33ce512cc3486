"""The written-out gradient of stacked BatchNorm networks against torch.autograd (float64)."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch.func import stack_module_state

from sgdlab.deep.closed_form import BatchNormFC
from sgdlab.deep.models import build, spec

CHAINS, BATCH = 3, 37
EPS = torch.finfo(torch.float64).eps
# Round-off allowance, in eps times the largest entry of the gradient and of the batch's
# activations: each entry is a sum of at most B = 37 products (a few hundred eps).
ROUNDOFF = 300

pytestmark = pytest.mark.usefixtures("one_thread")


def random_networks(name, generator):
    """``CHAINS`` float64 networks with random weights, BatchNorm affine maps and statistics."""
    nets = []
    for _ in range(CHAINS):
        net = build(name).double()
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64))
            bn = net[2]
            bn.running_mean.normal_(generator=generator)
            bn.running_var.uniform_(0.5, 2.0, generator=generator)
        nets.append(net)
    return nets


def batches(name, generator):
    shape, classes = spec(name).input_shape, spec(name).num_classes
    x = torch.randn(CHAINS, BATCH, *shape, generator=generator, dtype=torch.float64)
    y = torch.randint(classes, (CHAINS, BATCH), generator=generator)
    return x, y, F.one_hot(y, classes).double()


@pytest.mark.parametrize("name", ["tiny-fc", "small-fc"])
@pytest.mark.parametrize("training", [True, False])
def test_gradients_equal_autograd(name, training):
    generator = torch.Generator().manual_seed(7)
    nets = random_networks(name, generator)
    x, y, onehot = batches(name, generator)
    params, buffers = stack_module_state(copy.deepcopy(nets))
    params = {k: v.detach() for k, v in params.items()}
    loss, grads = BatchNormFC.of(nets[0], name).loss_and_grad(
        params, buffers, x, onehot, training=training, update=training)
    for c, net in enumerate(nets):
        net.train(training)
        reference = F.cross_entropy(net(x[c]), y[c])
        reference.backward()
        scale = max(p.grad.abs().max() for p in net.parameters())
        assert loss[c].item() == pytest.approx(reference.item(), rel=ROUNDOFF * EPS)
        for key, p in net.named_parameters():
            torch.testing.assert_close(grads[key][c], p.grad, rtol=0,
                                       atol=ROUNDOFF * EPS * scale.item())
        for key, b in net.named_buffers():   # updated in training mode only, as the module's
            torch.testing.assert_close(buffers[key][c], b.to(buffers[key].dtype), rtol=0,
                                       atol=ROUNDOFF * EPS * b.abs().max().item())


def test_a_batch_of_one_has_no_batch_statistics():
    generator = torch.Generator().manual_seed(0)
    nets = random_networks("tiny-fc", generator)
    x, _, onehot = batches("tiny-fc", generator)
    params, buffers = stack_module_state(nets)
    with pytest.raises(ValueError, match="at least 2 examples"):
        BatchNormFC.of(nets[0], "tiny-fc").loss_and_grad(params, buffers, x[:, :1],
                                                          onehot[:, :1], training=True)


@pytest.mark.parametrize("net", [build("small-allcnn"), torch.nn.Linear(3, 2),
                                 torch.nn.Sequential(*build("tiny-fc")[:4])])
def test_other_architectures_are_refused(net):
    with pytest.raises(ValueError, match="'net' is not Flatten-Linear-BatchNorm1d-ReLU-Linear"):
        BatchNormFC.of(net, "net")
