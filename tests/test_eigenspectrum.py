import numpy as np
import pytest

from sgdlab.deep.eigenspectrum import isotropic_control


@pytest.mark.parametrize(("d", "n"), [(150, 601), (600, 201)])
def test_isotropic_control_matches_random_gradients(d, n):
    grads = np.random.default_rng(0).standard_normal((n, d))
    centred = grads - grads.mean(axis=0)
    ev = np.linalg.eigvalsh(centred.T @ centred / n)[::-1]
    control = isotropic_control(d, n)
    nonzero = ev[: control.rank]
    assert control.rank == min(n - 1, d)
    assert np.all(ev[control.rank:] < 1e-10 * ev[0])        # rank min(N - 1, d) exactly
    # the Marchenko-Pastur edges and variance, to finite-size accuracy
    assert abs(nonzero[0] / nonzero[-1] / control.edge_ratio - 1) < 0.1
    assert abs(nonzero.std() / nonzero.mean() / control.cv - 1) < 0.05


def test_isotropic_control_validation():
    for d, n in ((0, 10), (10, 1), (10, 11)):
        with pytest.raises(ValueError):
            isotropic_control(d, n)


def test_the_cv_bound_holds_for_any_spectrum_and_is_attained_by_equal_eigenvalues():
    from sgdlab.deep.eigenspectrum import Spectrum, cv_lower_bound

    rng = np.random.default_rng(0)
    for r in (1, 5, 40):
        ev = np.sort(np.concatenate([rng.exponential(size=r), np.zeros(100 - r)]))[::-1]
        s = Spectrum(ev, d=100, n=200, method="exact", seconds=0.0)
        assert s.std / s.mean >= cv_lower_bound(s.rank_fraction) * (1 - 1e-12)
        flat = Spectrum(np.r_[np.ones(r), np.zeros(100 - r)], d=100, n=200, method="exact",
                        seconds=0.0)
        assert flat.std / flat.mean == pytest.approx(cv_lower_bound(r / 100), rel=1e-12)
    for bad in (0.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="rank_fraction"):
            cv_lower_bound(bad)
