import gzip
import hashlib

import numpy as np
import pytest
import torch

from sgdlab.data import FILES, load, load_mnist, mnist_dir, read_idx

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
    from sgdlab.data import pool

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
