import numpy as np
import pytest

from sgdlab.deep import spectra
from sgdlab.deep.eigenspectrum import Spectrum
from widgets import SpectrumExplorer, spectrum_explorer

TINY = spectra.Experiment("tiny-fc", "mnist7-04", n_train=400, epochs=2, lr=0.05)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return root, spectra.measure(TINY, root=root, device="cpu", progress=False)


def test_measure_gives_three_instants_and_is_cached(tiny_run):
    root, first = tiny_run
    assert sorted(first.spectra) == [0.2, 0.4, 1.0] and first.augmented == {}
    for s in first.spectra.values():
        assert s.d == 917 and s.n == 400 and 0 < s.rank < 400
    assert 0.2 < first.test_accuracy <= 1.0
    files = sorted(p.name for p in (root / TINY.key).glob("spectrum-*.npz"))
    assert files == ["spectrum-0.20.npz", "spectrum-0.40.npz", "spectrum-1.00.npz"]
    again = spectra.measure(TINY, root=root, device="cpu", progress=False)
    for fraction, s in first.spectra.items():
        np.testing.assert_array_equal(again.spectra[fraction].eigenvalues, s.eigenvalues)
    assert again.test_accuracy == first.test_accuracy


def test_experiments_and_paper_table():
    assert spectra.experiment("small-lenet", "cpu").n_train == 5_000
    assert spectra.experiment("small-lenet", "full").n_train is None
    assert TINY.key != spectra.Experiment("tiny-fc", "mnist7-04", 400, 3, 0.05).key
    with pytest.raises(ValueError, match="unknown panel 'lenet'"):
        spectra.experiment("lenet", "cpu")
    with pytest.raises(ValueError, match="profile must be one of"):
        spectra.experiment("small-fc", "gpu")
    assert set(spectra.PAPER) >= set(spectra.EXPERIMENTS["cpu"])


def _fake(scale: float) -> Spectrum:
    ev = np.concatenate([scale * np.geomspace(1.0, 1e-3, 60), np.zeros(940)])
    return Spectrum(ev, d=1000, n=500, method="exact", seconds=0.0)


def test_explorer_moves_and_has_a_static_fallback(building_book):
    explorer = spectrum_explorer({"a": {0.2: _fake(2.0), 0.4: _fake(1.5), 1.0: _fake(1.0)},
                                  "b": {0.2: _fake(3.0), 0.4: _fake(3.0), 1.0: _fake(3.0)}})
    assert isinstance(explorer, SpectrumExplorer)
    before, rank = explorer.image.value, explorer.frame.rank
    explorer.log_threshold.value = -2.0
    assert explorer.image.value != before and explorer.frame.rank < rank
    assert explorer.frame.rank == int(np.sum(np.geomspace(1.0, 1e-3, 60) > 1e-2))
    explorer.network.value = "b"
    explorer.instant.value = 0.2
    assert explorer.frame.network == "b" and explorer.frame.instant == 0.2
    html = explorer._repr_mimebundle_()["text/html"]
    assert html.count("data:image/png;base64,") >= 9 and "https://" not in html


def test_explorer_rejects_missing_instants():
    with pytest.raises(ValueError, match="instants"):
        SpectrumExplorer({"a": {1.0: _fake(1.0)}})
    with pytest.raises(ValueError, match="at least one network"):
        SpectrumExplorer({})
