import numpy as np
import pytest

from sgdlab.core.anomalous import log_lags, msd, ou_msd


def test_log_lags_are_distinct_increasing_and_in_range():
    lags = log_lags(500, 40)
    assert lags[0] == 1 and lags[-1] == 499 and np.all(np.diff(lags) > 0)
    with pytest.raises(ValueError, match="first"):
        log_lags(10, 5, first=10)


def test_msd_of_a_ballistic_path_is_k_squared():
    path = np.arange(20.0)[None, None, :] * np.array([1.0, 2.0])[None, :, None]   # (1, 2, 20)
    lags = np.array([1, 3, 10])
    out = msd(path, lags, start=4)
    np.testing.assert_array_equal(out[0], [[1, 9, 100], [4, 36, 400]])
    with pytest.raises(ValueError, match="lags must lie"):
        msd(path, np.array([16]), start=4)
    with pytest.raises(ValueError, match="integers"):
        msd(path, np.array([1.5]))
    with pytest.raises(ValueError, match="NaN"):
        msd(np.array([0.0, np.nan, 1.0]), np.array([1]))


def test_ou_msd_saturates_at_twice_the_variance_and_matches_simulation():
    phi, sigma = np.array([0.9, 0.5]), np.array([1.0, 2.0])
    s2 = sigma**2 / (1 - phi**2)
    k = np.array([1, 5, 1000])
    np.testing.assert_allclose(ou_msd(k, phi, sigma), 2 * (s2 * (1 - phi[None] ** k[:, None]))
                               .sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(ou_msd([1000], phi, sigma), [2 * s2.sum()], rtol=1e-12)
    # phi = 1 is a random walk: sigma^2 k, whatever the offset
    np.testing.assert_allclose(ou_msd(k, [1.0], [0.5], offset=[3.0]), 0.25 * k, rtol=1e-12)
    # from a fixed start: simulation within 4 standard errors
    rng = np.random.default_rng(1)
    n, steps, start = 20000, 30, 4.0
    x = np.full(n, start)
    path = [x]
    for _ in range(steps):
        x = 0.8 * x + 0.5 * rng.standard_normal(n)
        path.append(x)
    sq = msd(np.stack(path, axis=1), np.array([1, 10, 30]))
    expected = ou_msd([1, 10, 30], [0.8], [0.5], offset=[start])
    assert np.all(np.abs(sq.mean(axis=0) - expected) < 4 * sq.std(axis=0) / np.sqrt(n))
    with pytest.raises(ValueError, match="stationary"):
        ou_msd(k, [1.0], [1.0])
