import math

import numpy as np
import pytest
import torch

from sgdlab.deep import diffusion, models, sample_size
from sgdlab.sweep import sweep

pytestmark = pytest.mark.usefixtures("one_thread")


def low_rank_gradients(n, d, r, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, r, generator=g, dtype=torch.float64) @ torch.randn(
        r, d, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("n", [12, 80])            # the Gram route (N < d) and the dense D
def test_subset_spectrum_matches_the_dense_matrix(n):
    grads = low_rank_gradients(100, 40, 9).float()
    rows = np.arange(0, 100, 100 // n)[:n]
    spectrum, moments = sample_size.subset_spectrum(grads, rows)
    exact = diffusion.exact_eigenvalues(grads[rows], device="cpu")
    k = min(n, 40)
    np.testing.assert_allclose(spectrum.eigenvalues[:k], exact[:k], rtol=1e-9,
                               atol=1e-9 * exact[0])
    assert spectrum.d == 40 and spectrum.n == n and spectrum.rank == min(9, n - 1)
    assert moments.trace == pytest.approx(exact.sum(), rel=1e-9)
    assert moments.frobenius_sq == pytest.approx(np.square(exact).sum(), rel=1e-9)


def test_subset_spectrum_checks_its_input():
    with pytest.raises(ValueError, match="finite floating"):
        sample_size.subset_spectrum(torch.full((3, 2), float("nan")))
    with pytest.raises(ValueError, match="at least 2"):
        sample_size.subset_spectrum(torch.ones(3, 2), np.array([1]))


def test_draw_subsets_are_nested_within_a_seed_and_differ_across_seeds():
    rows = sample_size.draw_subsets(50, [5, 20], [0, 1])
    assert np.array_equal(rows[5, 0], rows[20, 0][:5])
    assert not np.array_equal(rows[20, 0], rows[20, 1])
    assert all(len(set(r)) == len(r) for r in rows.values())
    with pytest.raises(ValueError, match=r"in \[2, 50\]"):
        sample_size.draw_subsets(50, [51], [0])


def test_consistent_size_interpolates_in_log_n_and_says_when_no_size_fits():
    sizes, values = [10, 100, 1000], [1.0, 2.0, 4.0]
    assert sample_size.consistent_size(3.0, sizes, values) == pytest.approx(math.sqrt(1e5))
    assert sample_size.consistent_size(1.0, sizes, values) == 10
    assert math.isnan(sample_size.consistent_size(0.5, sizes, values))
    assert math.isnan(sample_size.consistent_size(5.0, sizes, values))
    with pytest.raises(ValueError, match="increasing"):
        sample_size.consistent_size(1.0, [10, 5], [1.0, 2.0])


def test_a_sweep_point_reads_a_checkpoint_and_reports_each_size_and_seed(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "net.pt"
    torch.save({"model": "tiny-fc", "num_classes": 5,
                "state_dict": models.build("tiny-fc").state_dict()}, path)
    config = {"checkpoint": str(path), "dataset": "mnist7-04", "n_train": 200,
              "sizes": [20, 60], "seeds": [0, 1], "threads": 1}
    [out] = sweep(sample_size.sample_size_point, [config], name="sizes", root=tmp_path,
                  progress=False)
    assert out["d"] == 917 and out["n_total"] == 200 and sorted(out["eigenvalues"]) == ["20", "60"]
    assert [(p["n"], p["seed"]) for p in out["points"]] == [(20, 0), (20, 1), (60, 0), (60, 1)]
    for p in out["points"]:
        # rank(D) <= N - 1 (eq. 2 centres N gradients); 1 <= PR <= rank
        assert 1 <= p["participation_ratio"] <= p["rank"] <= p["n"] - 1
        assert 0 < p["top_fraction"]["1"] <= p["top_fraction"]["10"] <= 1 + 1e-12
    with pytest.raises(ValueError, match="names checkpoint, dataset"):
        sample_size.sample_size_point({"checkpoint": str(path)})
