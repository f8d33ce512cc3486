"""The shared matrix checks of sgdlab._validation."""

import numpy as np
import pytest

from sgdlab import _validation as check


def rotated(eigenvalues, seed=0):
    """``R diag(eigenvalues) R^T`` for a random rotation R: symmetric up to round-off."""
    rot, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(len(eigenvalues),) * 2))
    return rot @ np.diag(eigenvalues) @ rot.T


@pytest.mark.parametrize(
    ("value", "kwargs", "match"),
    [
        (np.ones(3), {}, "a square matrix, got shape"),
        (np.ones((2, 3)), {}, "square matrix"),
        (np.ones((0, 0)), {}, "square matrix"),
        (np.eye(3), {"dim": 2}, r"a square matrix \(2, 2\), got shape \(3, 3\)"),
        (np.ones((4, 2, 2)), {}, "square matrix"),
        ([[1.0, np.inf], [0.0, 1.0]], {}, "A contains NaN or infinite entries"),
    ],
)
def test_square_matrix_raises_naming_the_argument(value, kwargs, match):
    with pytest.raises(ValueError, match=match):
        check.square_matrix("A", value, **kwargs)


def test_square_matrix_stack():
    stack = np.ones((4, 3, 2, 2))
    np.testing.assert_array_equal(check.square_matrix("A", stack, 2, stack=True), stack)
    with pytest.raises(ValueError, match=r"A must be square matrices \(\.\.\., d, d\)"):
        check.square_matrix("A", np.ones((4, 2, 3)), stack=True)


def test_round_off_is_accepted_and_errors_are_not():
    for scale in (1e-8, 1.0, 1e8):  # relative to the matrix's norm: units do not matter
        d = scale * rotated([3.0, 1.0, 0.5, 0.0])  # singular, asymmetric by round-off
        assert np.any(d != d.T)
        np.testing.assert_array_equal(check.psd_matrix("D", d), d)
        with pytest.raises(ValueError, match="D must be symmetric"):
            check.psd_matrix("D", d + 1e-10 * scale * np.triu(np.ones((4, 4)), 1))
        with pytest.raises(ValueError, match="D must be positive semi-definite"):
            check.psd_matrix("D", scale * rotated([3.0, 1.0, 0.5, -1e-10]))
        with pytest.raises(ValueError, match="D must be positive definite"):
            check.psd_matrix("D", d, definite=True)
    assert check.psd_matrix("D", np.zeros((2, 2))).shape == (2, 2)


def test_each_matrix_of_a_stack_is_checked_against_its_own_norm():
    stack = np.stack([1e8 * np.eye(2), [[1.0, 1e-6], [0.0, 1.0]]])
    with pytest.raises(ValueError, match="symmetric"):
        check.psd_matrix("D", stack, stack=True)


def test_psd_eigh_returns_the_decomposition():
    cov = rotated([2.0, 0.5])
    w, v = check.psd_eigh("cov", cov, 2)
    np.testing.assert_allclose(v @ np.diag(w) @ v.T, cov, atol=1e-14)
    with pytest.raises(ValueError, match="cov must be positive semi-definite"):
        check.psd_eigh("cov", rotated([2.0, -0.5]))
