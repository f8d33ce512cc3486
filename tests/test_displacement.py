import numpy as np
import pytest
from scipy import stats

from sgdlab.core.anomalous import log_lags, msd
from sgdlab.deep.displacement import displacement, fit_exponent


def test_displacement_of_random_walks_is_brownian_and_its_controls_behave():
    rng = np.random.default_rng(0)
    n_chains, d, n = 4, 200, 400
    walks = rng.standard_normal((n_chains, d, n)).cumsum(axis=2)
    walks[0, 0] = 1.0                                    # a weight that never moves
    lags = log_lags(n, 15)
    out = displacement(walks, lags, replicates=16)
    assert out.rows.size == n_chains * d - 1 and 0 not in out.rows
    assert out.sgd.shape == (n_chains, lags.size) and out.ou.shape == (16, n_chains, lags.size)
    # a random walk and its Brownian control: c = 1 inside the interval over chains
    assert out.fit("sgd").contains(1.0) and out.fit("brownian").contains(1.0)
    # the simulated AR(1) control against its closed form: Student's t over replicates at
    # 1 %, Bonferroni over the lags
    sims = out.ou.sum(axis=1)
    se = sims.std(axis=0, ddof=1) / np.sqrt(len(sims))
    bound = stats.t.ppf(1 - 0.005 / lags.size, len(sims) - 1)
    assert np.all(np.abs(sims.mean(axis=0) - out.ou_expected.sum(axis=0)) < bound * se)
    sub = displacement(walks, lags, rows=[1, 2, d + 5], replicates=1)
    assert sub.rows.tolist() == [1, 2, d + 5]
    with pytest.raises(ValueError, match="unknown curve"):
        out.curve("levy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chains, d, n"):
        displacement(walks[0], lags)


def test_fit_exponent_recovers_a_power_law_and_brownian_motion():
    k = log_lags(1000, 25)
    exact = fit_exponent(k, 3.0 * np.stack([k**0.6, k**0.6]))
    assert exact.exponent == pytest.approx(0.6, abs=1e-12)
    assert exact.prefactor == pytest.approx(3.0, rel=1e-12)
    # chains of 500 independent walks each: the interval over chains holds c = 1
    walks = np.random.default_rng(0).standard_normal((4, 500, 1000)).cumsum(axis=2)
    fit = fit_exponent(k, msd(walks, k).sum(axis=1))
    assert fit.contains(1.0) and fit.low < fit.exponent < fit.high
    with pytest.raises(ValueError, match="positive"):
        fit_exponent(k, np.zeros((2, k.size)))
    with pytest.raises(ValueError, match="chains >= 2"):
        fit_exponent(k, np.ones(k.size))
