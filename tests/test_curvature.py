import pytest
import torch

from sgdlab.deep import curvature, data, models

pytestmark = pytest.mark.usefixtures("one_thread")


def test_gauss_newton_is_the_hessian_of_a_linear_model():
    torch.manual_seed(0)
    x, y = data.load("mnist7-04", n=64)
    lin = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(49, 5))
    h = curvature.loss_hessian(lin, x, y, device="cpu")
    g = curvature.gauss_newton(lin, x, y, device="cpu")
    # softmax regression: H = G exactly; round-off of float64 sums of 64 terms
    assert h.shape == (250, 250) and h.dtype == torch.float64
    assert float((h - g).abs().max()) <= 1e3 * torch.finfo(torch.float64).eps * float(h.abs().max())


def test_hessian_matches_autograd_and_gauss_newton_is_psd_on_tiny_fc():
    torch.manual_seed(1)
    x, y = data.load("mnist7-04", n=40)
    net = models.build("tiny-fc").eval()
    h = curvature.loss_hessian(net, x, y, device="cpu")
    assert h.shape == (917, 917)
    params = [p for p in net.parameters()]
    v = torch.randn(917, dtype=torch.float64)
    # H v by double backward through the torch module itself (float64 copy)
    net64 = models.build("tiny-fc").double().eval()
    net64.load_state_dict(net.state_dict())
    loss = torch.nn.functional.cross_entropy(net64(x.double()), y)
    grads = torch.autograd.grad(loss, list(net64.parameters()), create_graph=True)
    flat = torch.cat([g.reshape(-1) for g in grads])
    hv = torch.cat([g.reshape(-1) for g in torch.autograd.grad(flat @ v, list(net64.parameters()))])
    assert float((h @ v - hv).abs().max()) <= 1e-10 * float(hv.abs().max())
    assert len(params) == 6
    g = curvature.gauss_newton(net, x, y, device="cpu")
    assert float(torch.linalg.eigvalsh(g).min()) >= -1e-12 * float(g.abs().max())
    with pytest.raises(ValueError):
        curvature.loss_hessian(net, x[:1], y[:1])
