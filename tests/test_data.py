import gzip
import hashlib
import pickle
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from sgdlab.deep.data import (
    CIFAR,
    FILES,
    _download,
    augment,
    cifar_dir,
    global_contrast_normalize,
    load,
    load_mnist,
    mnist_dir,
    read_cifar,
    read_idx,
    registry,
    zca_fit,
)

MD5 = {
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    "train-images-idx3-ubyte.gz": "225163ce69a4a77430094f054cfc32da",
    "train-labels-idx1-ubyte.gz": "c03e87f34db2cf3d981dc1880706ffae",
}


def test_repository_copy_has_the_documented_md5s(monkeypatch):
    monkeypatch.delenv("SGDLAB_DATA", raising=False)
    for name, md5 in MD5.items():
        assert hashlib.md5((mnist_dir() / name).read_bytes()).hexdigest() == md5


@pytest.mark.parametrize(("split", "n"), [("train", 17_000), ("test", 10_000)])
def test_shapes_and_ranges(split, n, monkeypatch):
    monkeypatch.delenv("SGDLAB_DATA", raising=False)
    images, labels = load_mnist(split)
    assert images.shape == (n, 28, 28) and labels.shape == (n,)
    assert images.dtype == np.float64 and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(np.unique(labels)) == set(range(10))


def test_first_training_labels(monkeypatch):
    monkeypatch.delenv("SGDLAB_DATA", raising=False)
    _, labels = load_mnist("train")
    assert labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_root_and_environment_are_searched_first(tmp_path, monkeypatch):
    monkeypatch.delenv("SGDLAB_DATA", raising=False)
    source = mnist_dir()
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in FILES["test"]:
        (raw / name).write_bytes((source / name).read_bytes())
    assert mnist_dir(tmp_path) == raw
    monkeypatch.setenv("SGDLAB_DATA", str(tmp_path))
    assert mnist_dir() == raw
    images, _ = load_mnist("test")
    assert images.shape == (10_000, 28, 28)
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\.gz"):
        load_mnist("train")


def test_missing_data_says_what_and_where(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_mnist("test", root=tmp_path)
    message = str(err.value)
    assert "t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert str(tmp_path / "MNIST" / "raw") in message and "SGDLAB_DATA" in message


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")
    bad = tmp_path / "bad.gz"
    bad.write_bytes(gzip.compress(b"\x01\x02\x03\x04"))
    with pytest.raises(ValueError, match="path"):
        read_idx(bad)


def test_pool():
    from sgdlab.deep.data import pool

    images = np.arange(2 * 4 * 4, dtype=float).reshape(2, 4, 4)
    out = pool(images, 2)
    assert out.shape == (2, 2, 2) and out[0, 0, 0] == np.mean([0, 1, 4, 5])
    with pytest.raises(ValueError, match="factor"):
        pool(images, 3)


def test_load_variants(monkeypatch):
    monkeypatch.delenv("SGDLAB_DATA", raising=False)
    x, y = load("mnist7-04", n=500)
    assert x.shape == (500, 1, 7, 7) and x.dtype == torch.float32
    assert set(y.tolist()) <= {0, 1, 2, 3, 4}
    full, _ = load("mnist7-04")
    assert abs(float(full.mean())) < 1e-5 and abs(float(full.std()) - 1) < 1e-5
    xt, yt = load("mnist", "test", n=10)
    assert xt.shape == (10, 1, 28, 28) and yt.dtype == torch.int64


def test_load_bad_input():
    with pytest.raises(ValueError, match="unknown data set 'svhn'"):
        load("svhn")
    with pytest.raises(ValueError, match="n = 99999 asked for"):
        load("mnist7", n=99_999)
    with pytest.raises(ValueError, match="split"):
        load("mnist7", "valid")


# --- CIFAR, pre-processing and augmentation -------------------------------------------


def fake_cifar(root, name, per_file=12, seed=0):
    """Write a tiny CIFAR in the python-pickle format; return its raw images and labels."""
    files = CIFAR[name]
    folder = root / files.folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = {}
    for split, names in (("train", files.train), ("test", files.test)):
        images, labels = [], []
        for f in names:
            pixels = rng.integers(0, 256, (per_file, 3072), dtype=np.uint8)
            classes = rng.integers(0, 10 if name == "cifar10" else 100, per_file).tolist()
            with open(folder / f, "wb") as fh:
                pickle.dump({"data": pixels, files.label_key: classes, "batch_label": f}, fh)
            images.append(pixels)
            labels += classes
        written[split] = (np.concatenate(images).reshape(-1, 3, 32, 32), np.array(labels))
    return written


def test_read_cifar_gives_the_written_pixels(tmp_path):
    written = fake_cifar(tmp_path, "cifar10")
    assert cifar_dir("cifar10", tmp_path) == tmp_path / "cifar-10-batches-py"
    for split, n in (("train", 60), ("test", 12)):
        images, labels = read_cifar("cifar10", split, tmp_path)
        assert images.shape == (n, 3, 32, 32) and images.dtype == np.uint8
        assert np.array_equal(images, written[split][0])
        assert np.array_equal(labels, written[split][1])


def test_load_cifar_shapes_labels_and_whitening(tmp_path):
    written = fake_cifar(tmp_path, "cifar100", per_file=40)
    registry._cifar_whitening.cache_clear()
    x, y = load("cifar100", root=tmp_path, device="cpu")
    xt, yt = load("cifar100", "test", n=7, root=tmp_path, device="cpu")
    assert registry._cifar_whitening.cache_info().misses == 1  # one fit for both splits
    assert x.shape == (40, 3, 32, 32) and xt.shape == (7, 3, 32, 32) and x.dtype == torch.float32
    assert y.tolist() == written["train"][1].tolist()
    assert yt.tolist() == written["test"][1][:7].tolist()
    # independent reference: contrast normalisation by hand, whitening by an SVD
    def gcn(images):
        z = images.reshape(len(images), -1).astype(float)
        z -= z.mean(axis=1, keepdims=True)
        return 55 * z / np.linalg.norm(z, axis=1, keepdims=True)
    train = gcn(written["train"][0])
    mean = train.mean(axis=0)
    _, s, vt = np.linalg.svd(train - mean, full_matrices=False)
    keep = s > s[0] * 1e-10
    lam, axes = s[keep] ** 2 / len(train), vt[keep].T
    def whiten(z):
        z = z - mean
        return (z / np.sqrt(0.1) + (z @ axes) * (1 / np.sqrt(lam + 0.1) - 1 / np.sqrt(0.1))
                @ axes.T)
    flat = x.reshape(40, -1).double().numpy()
    np.testing.assert_allclose(flat, whiten(train), atol=1e-5)
    np.testing.assert_allclose(xt.reshape(7, -1).double().numpy(),
                               whiten(gcn(written["test"][0][:7])), atol=1e-4)
    # on the directions the training data span, the covariance is ~identity:
    # lambda / (lambda + 0.1) with every lambda here far above 0.1
    # (its non-zero eigenvalues are the squared singular values of the centred data / n;
    # 40 centred images span 39 directions)
    spectrum = np.linalg.svd(flat - flat.mean(axis=0), compute_uv=False) ** 2 / len(flat)
    assert np.all(spectrum[:39] > 0.99) and np.all(spectrum[:39] < 1 + 1e-5)
    assert spectrum[39] < 1e-6


def test_zca_whitens_to_identity():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5000, 6)) @ rng.standard_normal((6, 6)) + 3.0
    cov = np.cov(zca_fit(x, bias=1e-12)(x), rowvar=False, bias=True)
    np.testing.assert_allclose(cov, np.eye(6), atol=1e-6)
    fit = zca_fit(x)  # the default filter bias shrinks each direction to lambda/(lambda+bias)
    lam, u = np.linalg.eigh(np.cov(x, rowvar=False, bias=True))
    np.testing.assert_allclose(np.cov(fit(x), rowvar=False, bias=True),
                               (u * (lam / (lam + 0.1))) @ u.T, atol=1e-6)


def test_zca_with_fewer_examples_than_dimensions_matches_the_dense_formula():
    rng = np.random.default_rng(2)
    x, other = rng.standard_normal((10, 30)), rng.standard_normal((4, 30))
    lam, u = np.linalg.eigh(np.cov(x, rowvar=False, bias=True))
    w = (u / np.sqrt(np.clip(lam, 0, None) + 0.1)) @ u.T
    np.testing.assert_allclose(zca_fit(x)(other), (other - x.mean(axis=0)) @ w, atol=1e-5)


def test_global_contrast_normalize():
    out = global_contrast_normalize([[0, 1, 2, 3], [5, 5, 5, 5]], scale=2.0)
    assert np.allclose(out[0].sum(), 0) and np.isclose(np.linalg.norm(out[0]), 2.0)
    assert np.array_equal(out[1], np.zeros(4))
    with pytest.raises(ValueError, match="scale"):
        global_contrast_normalize([[0, 1]], scale=-1)
    with pytest.raises(ValueError, match="bias"):
        zca_fit(np.ones((3, 2)), bias=0)


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_missing_cifar_says_what_to_fetch_and_where(name, tmp_path, monkeypatch):
    monkeypatch.setattr(_download, "_online", lambda url: False)  # no download, torchvision or not
    with pytest.raises(FileNotFoundError) as err:
        load(name, root=tmp_path)
    message = str(err.value)
    archive = "cifar-10-python.tar.gz" if name == "cifar10" else "cifar-100-python.tar.gz"
    assert f"https://www.cs.toronto.edu/~kriz/{archive}" in message
    assert str(cifar_dir(name, tmp_path)) in message and str(tmp_path) in message
    assert "root=" in message and "SGDLAB_DATA" in message


def test_bad_cifar_batch(tmp_path):
    fake_cifar(tmp_path, "cifar10")
    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "wb") as fh:
        pickle.dump({"pixels": []}, fh)
    with pytest.raises(ValueError, match="not a CIFAR batch"):
        read_cifar("cifar10", "test", tmp_path)
    with pytest.raises(ValueError, match=r"unknown data set 'cifar'; known: .*cifar10, cifar100"):
        load("cifar")


def test_augment_is_a_flip_and_a_padded_crop():
    x = torch.randn(6, 3, 8, 8)
    out = augment(x, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == x.dtype
    flips = []
    for image, view in zip(x, out, strict=True):
        candidates = [(flip, dy, dx) for flip in (False, True) for dy in range(9)
                      for dx in range(9)
                      if torch.equal(torch.nn.functional.pad(
                          image.flip(-1) if flip else image, (4, 4, 4, 4))[:, dy:dy + 8, dx:dx + 8],
                          view)]
        assert candidates, "the view is no flip-and-crop of its image"
        flips.append(candidates[0][0])
    assert len(set(flips)) == 2  # with this seed both kinds occur
    again = augment(x, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    assert not torch.equal(out, augment(x, generator=torch.Generator().manual_seed(1)))
    flipped_only = augment(x, generator=torch.Generator().manual_seed(0), pad=0)
    assert all(torch.equal(v, i) or torch.equal(v, i.flip(-1)) for i, v in zip(x, flipped_only,
                                                                               strict=True))


def test_augment_bad_input():
    g = torch.Generator()
    with pytest.raises(ValueError, match="x must"):
        augment(torch.zeros(3, 8, 8), generator=g)
    with pytest.raises(ValueError, match="generator"):
        augment(torch.zeros(1, 3, 8, 8), generator=0)
    with pytest.raises(ValueError, match="pad"):
        augment(torch.zeros(1, 3, 8, 8), generator=g, pad=-1)


def test_missing_mnist_is_downloaded_through_torchvision(tmp_path, monkeypatch):
    monkeypatch.delenv("SGDLAB_DATA", raising=False)
    source = mnist_dir()

    class FakeMNIST:
        def __init__(self, root, train, download):
            raw = Path(root) / "MNIST" / "raw"
            raw.mkdir(parents=True, exist_ok=True)
            for name in FILES["train" if train else "test"]:
                (raw / name).write_bytes((source / name).read_bytes())

    fake = SimpleNamespace(datasets=SimpleNamespace(MNIST=FakeMNIST))
    monkeypatch.setattr(_download, "torchvision_or_none", lambda: fake)
    monkeypatch.setattr(_download, "_online", lambda url, timeout=3.0: True)
    images, _ = load_mnist("test", root=tmp_path)
    assert images.shape == (10_000, 28, 28) and (tmp_path / "MNIST" / "raw").is_dir()
    monkeypatch.setattr(_download, "_online", lambda url, timeout=3.0: False)
    with pytest.raises(FileNotFoundError, match="does not answer"):
        load_mnist("train", root=tmp_path / "elsewhere")
