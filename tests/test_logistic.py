import numpy as np
import pytest
import scipy.optimize

from sgdlab.core.logistic import fit, loss, per_example_grads


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    a = np.hstack([rng.normal(size=(40, 3)), np.ones((40, 1))])
    y = (a[:, 0] + 0.5 * rng.normal(size=40) > 0).astype(float)
    return a, y


def test_gradients_are_the_derivative_of_the_loss(problem):
    a, y = problem
    w = np.array([0.3, -0.2, 0.1, 0.05])
    for k in range(3):
        err = scipy.optimize.check_grad(lambda v, k=k: loss(v, a[k:k + 1], y[k:k + 1], 0.1),
                                        lambda v, k=k: per_example_grads(v, a[k:k + 1],
                                                                         y[k:k + 1], 0.1)[0], w)
        assert err < 1e-6


def test_fit_zeroes_the_full_gradient(problem):
    a, y = problem
    w = fit(a, y, weight_decay=1e-2)
    assert np.abs(per_example_grads(w, a, y, 1e-2).mean(axis=0)).max() < 1e-8


def test_bad_input(problem):
    a, y = problem
    with pytest.raises(ValueError, match="labels"):
        per_example_grads(np.zeros(4), a, y + 2)
    with pytest.raises(ValueError, match="w must have shape"):
        per_example_grads(np.zeros((2, 4)), a, y)
