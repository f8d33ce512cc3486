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
