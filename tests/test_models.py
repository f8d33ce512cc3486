import pytest
import torch

from sgdlab.deep import device, models

COUNTS = {"small-lenet": 13_338, "small-fc": 3_978, "tiny-fc": 917, "small-allcnn": 26_982}


@pytest.mark.parametrize("name", models.NAMES)
def test_parameter_counts_and_output_shape(name):
    net = models.build(name).eval()
    assert models.count_parameters(net) == COUNTS[name]
    assert models.flat_parameters(net).shape == (COUNTS[name],)
    spec = models.spec(name)
    out = net(torch.zeros(3, *spec.input_shape))
    assert out.shape == (3, spec.num_classes)


def test_cifar100_head():
    assert models.count_parameters(models.build("small-allcnn", num_classes=100)) == 29_412


@pytest.mark.parametrize(("name", "num_classes"), [("tiny-fc", None), ("small-allcnn", 100)])
def test_layout_tiles_the_flat_parameters(name, num_classes):
    net = models.build(name, num_classes)
    x = models.flat_parameters(net)
    layout = models.spec(name).layout(num_classes)
    assert list(layout) == [k for k, _ in net.named_parameters()]
    assert [s.start for s in layout.values()] == [0, *[s.stop for s in layout.values()][:-1]]
    assert list(layout.values())[-1].stop == len(x)
    for key, p in net.named_parameters():
        entry = layout[key]
        assert torch.equal(x[entry.slice].reshape(entry.shape), p.detach())
        assert torch.equal(x[entry.indices()], p.detach())


def test_classes_per_data_set_and_weight_decay():
    allcnn = models.spec("small-allcnn")
    assert allcnn.num_classes == allcnn.num_classes_on("cifar10") == 10
    assert allcnn.num_classes_on("cifar100") == 100
    assert models.spec("tiny-fc").num_classes_on("mnist7-04") == 5
    with pytest.raises(ValueError, match=r"dataset 'cifar100' is not one small-fc.*mnist7"):
        models.spec("small-fc").num_classes_on("cifar100")
    assert {n: models.spec(n).weight_decay for n in models.NAMES} == {
        "small-lenet": 0.0, "small-fc": 0.0, "tiny-fc": 0.0, "small-allcnn": 1e-4}


def test_unknown_name_lists_known_ones():
    with pytest.raises(ValueError, match=r"unknown model name 'lenet'.*small-lenet"):
        models.build("lenet")


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_num_classes(bad):
    with pytest.raises(ValueError, match="num_classes"):
        models.build("tiny-fc", num_classes=bad)


def test_pick(monkeypatch):
    monkeypatch.delenv("SGDLAB_DEVICE", raising=False)
    assert device.pick("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert device.pick().type == expected
    with pytest.raises(ValueError, match="not a torch device"):
        device.pick("tpu-please")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            device.pick("cuda")


def test_profile(monkeypatch):
    monkeypatch.setenv("SGDLAB_PROFILE", "full")
    assert device.profile() == "full"
    monkeypatch.delenv("SGDLAB_PROFILE")
    assert device.profile() == ("full" if torch.cuda.is_available() else "cpu")
    assert device.profile("cpu") == "cpu"
    with pytest.raises(ValueError, match="profile must be one of"):
        device.profile("huge")
