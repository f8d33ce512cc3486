"""The spectra, autocorrelations and baselines of Fig. 3 against hand-computed cases."""

import numpy as np
import pytest
from statsmodels.tsa.ar_model import AutoReg

from sgdlab.deep.brownian import (
    AR1Fit,
    Comparison,
    analyse,
    autocorrelation,
    binned,
    brownian_like,
    compare,
    confidence_band,
    fit_ar1,
    normalised_gradient,
    outside_band,
    periodogram,
    simulate_ar1,
    spectral_slope,
    summarise,
    white_noise_like,
)

N = 512


def test_periodogram_of_a_sinusoid_is_one_line():
    k = np.arange(N)
    freqs, power = periodogram(3.0 + 2.0 * np.cos(2 * np.pi * 8 * k / N + 0.4))
    np.testing.assert_allclose(freqs, np.arange(1, N // 2 + 1) / N, rtol=0, atol=1e-15)
    # |X_8|^2 = (2 * N / 2)^2, variance 2^2 / 2: P = N^2 / (2 N) = N / 2
    assert power[0, 7] == pytest.approx(N / 2, rel=1e-12)
    assert np.abs(np.delete(power[0], 7)).max() < 1e-10


def test_periodogram_averages_to_one_over_all_frequencies():
    x = np.random.default_rng(1).standard_normal((3, N)).cumsum(axis=1)
    _, p = periodogram(x)
    total = 2 * p[:, :-1].sum(axis=1) + p[:, -1]       # both signs; Nyquist once; f = 0 is 0
    np.testing.assert_allclose(total / N, 1.0, rtol=1e-12)


def test_white_noise_is_flat():
    x = white_noise_like(np.zeros((400, N)) + np.arange(N), np.random.default_rng(2))
    freqs, p = periodogram(x)
    centres, mean = binned(freqs, p, 12)
    counts = np.array([np.sum((freqs >= c / 2) & (freqs <= c * 2)) for c in centres])
    assert np.all(np.abs(mean.mean(axis=0) - 1) < 5 / np.sqrt(400 * np.maximum(counts, 1)) + 0.05)
    assert np.abs(spectral_slope(centres, mean).mean()) < 0.15


def test_spectral_slope_of_a_power_law():
    f = np.geomspace(1e-3, 0.5, 20)
    np.testing.assert_allclose(spectral_slope(f, [f ** -2.0, 7 * f ** 0.5]), [-2.0, 0.5],
                               atol=1e-12)


def test_binned_averages_each_bin():
    f = np.arange(1, 9) / 16
    centres, p = binned(f, np.arange(8.0), 2)      # edges 1/16, sqrt(1/16 * 8/16), 8/16
    lower = f < np.sqrt(f[0] * f[-1])
    np.testing.assert_allclose(p[0], [np.arange(8.0)[lower].mean(), np.arange(8.0)[~lower].mean()])
    np.testing.assert_allclose(centres[0], np.exp(np.log(f[lower]).mean()))


def test_autocorrelation_of_a_sinusoid_by_hand():
    k = np.arange(N)
    x = np.cos(2 * np.pi * 8 * k / N)
    r = autocorrelation(x, 70)[0]
    hand = [np.sum(x[: N - h] * x[h:]) / np.sum(x * x) for h in range(71)]   # mean is 0
    np.testing.assert_allclose(r, hand, atol=1e-12)
    # sum_k cos(a k) cos(a (k + h)) = (N - h) cos(a h) / 2 when 2a (N - h) spans whole turns
    np.testing.assert_allclose(r[[32, 64]], [-(N - 32) / N, (N - 64) / N], atol=1e-12)


def test_white_noise_stays_in_the_99_percent_band():
    assert confidence_band(10_000) == pytest.approx(2.576 / 100, rel=1e-4)
    x = np.random.default_rng(3).standard_normal((50, 2000))
    frac = outside_band(autocorrelation(x, 200), 2000)
    assert 0.003 < frac.mean() < 0.02


def test_brownian_motion_keeps_the_increments_law():
    x = np.random.default_rng(4).normal(0.01, 0.3, (2, 20_000)).cumsum(axis=1)
    b = brownian_like(x, np.random.default_rng(5))
    assert b.shape == x.shape and np.array_equal(b[:, 0], x[:, 0])
    np.testing.assert_allclose(np.diff(b).std(axis=1), np.diff(x).std(axis=1), rtol=0.03)
    np.testing.assert_allclose(np.diff(b).mean(axis=1), np.diff(x).mean(axis=1), atol=0.01)
    # without the drift: steps of mean 0 (4 standard errors, 0.3 / sqrt(20000) each)
    walk = brownian_like(x, np.random.default_rng(5), drift=False)
    assert np.all(np.abs(np.diff(walk).mean(axis=1)) < 4 * 0.3 / np.sqrt(20_000))
    np.testing.assert_allclose(np.diff(walk).std(axis=1), np.diff(x).std(axis=1), rtol=0.03)


def test_ar1_fit_is_statsmodels_autoreg_and_recovers_phi():
    rng = np.random.default_rng(6)
    truth = AR1Fit(intercept=np.array([0.5, -1.0]), phi=np.array([0.9, 0.3]),
                   sigma=np.array([1.0, 2.0]), residuals=np.empty((2, 0)))
    x = simulate_ar1(truth, [5.0, 0.0], 20_000, rng)
    for row in x[:, :300]:
        ref = AutoReg(row, lags=1, trend="c").fit()
        mine = fit_ar1(row)
        np.testing.assert_allclose([mine.intercept[0], mine.phi[0]], ref.params, rtol=1e-10)
        assert mine.sigma[0] ** 2 == pytest.approx(ref.sigma2, rel=1e-10)
    fit = fit_ar1(x)
    np.testing.assert_allclose(fit.phi, truth.phi, atol=0.02)
    np.testing.assert_allclose(fit.sigma, truth.sigma, rtol=0.03)
    np.testing.assert_allclose(fit.relaxation, -1 / np.log(fit.phi))
    assert fit.stationary.all()
    assert not fit_ar1(np.arange(50.0) ** 2).stationary[0]      # a runaway series: phi > 1


def test_normalised_gradient():
    np.testing.assert_allclose(normalised_gradient([3.0, 6.0], 9), [1.0, 2.0])


def test_analyse_skips_frozen_weights_and_labels_rows():
    rng = np.random.default_rng(7)
    w = rng.standard_normal((2, 5, 300)).cumsum(axis=2)
    w[0, 1] = 1.5                                   # a weight that never moves
    result = analyse(w, nlags=20, n_bins=10, block=3, progress=False)
    assert list(result.rows) == [0, 2, 3, 4, 5, 6, 7, 8, 9]
    assert result.acf.shape == (9, 21) and result.power.shape[0] == 9
    single = compare(w[1, 2], nlags=20, n_bins=10, seed=0)
    row = list(result.rows).index(5 + 2)
    np.testing.assert_allclose(result.acf[row], single.acf[0])
    np.testing.assert_allclose(result.power[row], single.power[0])
    assert result.outside("increment_acf").shape == (9,)


def test_summary_of_random_walks_is_brownian():
    walks = np.random.default_rng(8).standard_normal((1, 60, 1200)).cumsum(axis=2)
    summary = summarise(analyse(walks, nlags=300, progress=False))
    assert abs(summary.low_excess - 1) < 0.5 and abs(summary.high_level - 1) < 0.1
    assert summary.off_slope < 0.1 and summary.increments_many < 0.1
    assert summary.outside["acf"] > 0.7 and summary.outside["brownian_acf"] > 0.7
    assert summary.increments_median < 0.03


@pytest.mark.parametrize(("call", "name"), [
    (lambda: summarise("x"), "cmp"),
    (lambda: summarise(compare(np.arange(40.0) ** 2, 5)), "cmp"),
    (lambda: periodogram(np.ones(10)), "x"),
    (lambda: periodogram([[1.0, np.nan, 2.0]]), "x"),
    (lambda: autocorrelation(np.arange(10.0), 10), "nlags"),
    (lambda: autocorrelation(np.arange(10.0), 0), "nlags"),
    (lambda: binned([0.1, 0.2], [1.0, 2.0], 0), "n_bins"),
    (lambda: binned([0.2, 0.1], [1.0, 2.0], 2), "freqs"),
    (lambda: binned([0.1, 0.2], [1.0, 2.0, 3.0], 2), "power"),
    (lambda: confidence_band(100, level=1.5), "level"),
    (lambda: confidence_band(0), "n"),
    (lambda: outside_band([[1.0]], 10), "acfs"),
    (lambda: analyse(np.zeros((3, 100)), 5), "weights"),
    (lambda: analyse(np.zeros((1, 3, 100)), 5), "weights"),
    (lambda: simulate_ar1(fit_ar1(np.arange(10.0) ** 2), [0.0, 1.0], 5,
                          np.random.default_rng()), "start"),
    (lambda: normalised_gradient([-1.0], 4), "grad_norm"),
    (lambda: Comparison.concat([]), "parts"),
    (lambda: compare(np.arange(50.0) ** 2, 5).outside("power"), "name"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_chain_helpers_and_white_noise_nulls():
    from scipy import stats

    from sgdlab.deep.brownian import (
        chain_means,
        chain_t_test,
        outside_null_bound,
        white_lags_quantile,
    )

    np.testing.assert_allclose(chain_means([0, 1, 3, 5, 6], [1, 3, 10, 20, 7], d=3),
                               [2.0, 15.0, 7.0])
    x = [5.1, 5.3, 4.9, 5.2]
    assert chain_t_test(x, 1.0, "greater") == stats.ttest_1samp(x, 1.0,
                                                                alternative="greater").pvalue
    assert chain_t_test(x, 1.0, "less") > 0.99
    # white noise: lags outside the 99 % band of 200 lags, in 2,000 series
    rng = np.random.default_rng(2)
    out = outside_band(autocorrelation(rng.standard_normal((2000, 1000)), 200), 1000)
    assert np.mean(out > white_lags_quantile(200)) < 0.01 + 4 * np.sqrt(0.01 * 0.99 / 2000)
    assert np.mean(out) < outside_null_bound(2000 * 200, 0.01)
    for call in (lambda: chain_means([0, 1], [1.0], 3), lambda: chain_t_test([1.0], 0.0),
                 lambda: chain_t_test([1.0, 2.0], 0.0, "up"), lambda: white_lags_quantile(0),
                 lambda: white_lags_quantile(10, level=1.0), lambda: outside_null_bound(10, 1.0)):
        with pytest.raises(ValueError):
            call()
