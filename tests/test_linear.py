import numpy as np
import pytest
from scipy import linalg

from sgdlab.core.linear import decompose

rng = np.random.default_rng(7)


def random_psd(d, rank=None):
    a = rng.normal(size=(d, rank or d))
    return a @ a.T


@pytest.mark.parametrize("d", [2, 3, 6, 12])
def test_decomposition_of_random_matrices(d):
    for _ in range(20):
        F, D = rng.normal(size=(d, d)), random_psd(d)
        dec = decompose(F, D)
        assert dec.residual < 1e-11
        np.testing.assert_allclose((D + dec.Q) @ dec.U, F, atol=1e-10 * np.abs(F).max())
        np.testing.assert_array_equal(dec.U, dec.U.T)
        np.testing.assert_array_equal(dec.Q, -dec.Q.T)


@pytest.mark.parametrize("kind", ["minimum", "saddle", "maximum"])
def test_minimum_saddle_and_maximum(kind):
    signs = {"minimum": [1, 2, 3], "saddle": [1, -2, 3], "maximum": [-1, -2, -3]}[kind]
    v = linalg.qr(rng.normal(size=(3, 3)))[0]
    F = v @ np.diag(signs) @ v.T
    dec = decompose(F, random_psd(3))
    assert dec.residual < 1e-12
    np.testing.assert_array_equal(np.sign(np.linalg.eigvalsh(dec.U)), np.sign(sorted(signs)))


def test_q_vanishes_when_d_commutes_with_f():
    v = linalg.qr(rng.normal(size=(4, 4)))[0]
    F = v @ np.diag([1.0, 2.0, -0.5, 3.0]) @ v.T
    D = v @ np.diag([0.3, 1.0, 2.0, 0.1]) @ v.T
    dec = decompose(F, D)
    assert np.abs(dec.Q).max() < 1e-12
    np.testing.assert_allclose(dec.U, np.linalg.solve(D, F), atol=1e-12)


def test_isotropic_noise_gives_phi_equal_f():
    F = random_psd(3) + np.eye(3)
    dec = decompose(F, 2.0 * np.eye(3))
    np.testing.assert_allclose(dec.U, F / 2.0, atol=1e-13)
    assert np.abs(dec.Q).max() < 1e-13


def test_ou_stationary_covariance_is_inverse_u():
    """At a minimum, dx = -F x dt + sqrt(2 beta^-1 D) dW has covariance beta^-1 U^-1."""
    beta_inv = 0.37
    F = random_psd(4) + 0.5 * np.eye(4) + 0.4 * rng.normal(size=(4, 4))
    assert np.all(np.linalg.eigvals(F).real > 0)
    D = random_psd(4)
    dec = decompose(F, D)
    sigma = linalg.solve_continuous_lyapunov(F, 2 * beta_inv * D)
    np.testing.assert_allclose(sigma, beta_inv * np.linalg.inv(dec.U), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(
    ("F", "D", "match"),
    [
        ([[1.0, 0.0], [0.0, -1.0]], np.eye(2), "sum to zero"),
        ([[0.0, 1.0], [-1.0, 0.0]], np.eye(2), "sum to zero"),
        ([[1.0, 0.0], [0.0, 2.0]], np.zeros((2, 2)), "singular"),
        ([[1.0, 0.0], [0.0, 2.0]], [[1.0, 2.0], [0.0, 1.0]], "symmetric"),
        ([[1.0, 0.0], [0.0, 2.0]], [[1.0, 0.0], [0.0, -1.0]], "semi-definite"),
        ([[1.0, 0.0]], np.eye(2), "square"),
        ([[np.nan, 0.0], [0.0, 1.0]], np.eye(2), "NaN"),
        (np.eye(3), np.eye(2), "same shape"),
    ],
)
def test_bad_input_raises(F, D, match):
    with pytest.raises(ValueError, match=match):
        decompose(F, D)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_unsymmetrised_solution_is_within_roundoff_bounds(d):
    from sgdlab.core.linear import roundoff, sylvester_residual, sylvester_separation

    for _ in range(50):
        F, D = rng.normal(size=(d, d)), random_psd(d)
        dec = decompose(F, D)
        check = roundoff(F, D, dec)
        assert check.ok, check
        np.testing.assert_allclose(dec.Q, 0.5 * (dec.Q_raw - dec.Q_raw.T), atol=0)
        assert np.abs(sylvester_residual(F, D, dec.Q)).max() < 1e-10 * (1 + np.abs(F).max()) ** 2
    F = np.diag([1.0, 3.0])
    assert sylvester_separation(F) == pytest.approx(2.0)            # min |l_i + l_j| for normal F


def test_roundoff_catches_a_wrong_q():
    from dataclasses import replace

    from sgdlab.core.linear import roundoff

    F, D = np.diag([1.0, 4.0]), np.array([[1.0, 0.3], [0.3, 0.5]])
    dec = decompose(F, D)
    bad = replace(dec, Q_raw=dec.Q_raw + 1e-6)
    assert not roundoff(F, D, bad).ok
    with pytest.raises(ValueError, match="Decomposition"):
        roundoff(F, D, "not a decomposition")
    with pytest.raises(ValueError, match="shape"):
        roundoff(np.eye(3), np.eye(3), dec)
