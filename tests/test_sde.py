import math

import numpy as np
import pytest
from scipy import linalg

from sgdlab.core.sde import closest_return, euler_maruyama, linear_flow, stratonovich_correction

A = np.array([[1.0, 0.4], [-0.3, 2.0]])         # non-symmetric: the OU process is not reversible
D = np.array([[1.0, 0.6], [0.6, 0.5]])
BETA_INV = 0.7


def ou_covariance(a, d, beta_inv):
    """Stationary covariance S of dx = -A x dt + sqrt(2 beta^-1 D) dW: A S + S A^T = 2 beta^-1 D."""
    return linalg.solve_continuous_lyapunov(a, 2 * beta_inv * d)


def test_ornstein_uhlenbeck_stationary_covariance():
    n, dt = 20_000, 0.002
    path = euler_maruyama(lambda x: -x @ A.T, np.zeros((n, 2)), dt, 4000, beta_inv=BETA_INV,
                          diffusion=D, record_every=4000, rng=0)
    x = path.x[-1]
    exact = ou_covariance(A, D, BETA_INV)
    # Euler-Maruyama's own stationary covariance is exact up to O(dt); the
    # sampling error of each entry is about sqrt((S_ii S_jj + S_ij^2) / n).
    stderr = np.sqrt((np.outer(np.diag(exact), np.diag(exact)) + exact**2) / n)
    assert np.all(np.abs(np.cov(x.T) - exact) < 4 * stderr + 2 * dt * np.abs(exact).max())
    assert np.all(np.abs(x.mean(axis=0)) < 4 * np.sqrt(np.diag(exact) / n))


def test_state_dependent_diffusion_matches_constant_one():
    kwargs = dict(beta_inv=BETA_INV, record_every=10, rng=5)
    x0 = np.ones((7, 2))
    const = euler_maruyama(lambda x: -x @ A.T, x0, 0.01, 50, diffusion=D, **kwargs)
    state = euler_maruyama(lambda x: -x @ A.T, x0, 0.01, 50,
                           diffusion=lambda x: np.broadcast_to(D, (len(x), 2, 2)), **kwargs)
    np.testing.assert_allclose(state.x, const.x, rtol=1e-12, atol=1e-12)


def test_singular_diffusion_moves_only_along_its_range():
    d = np.array([[1.0, 0.0], [0.0, 0.0]])
    path = euler_maruyama(lambda x: np.zeros_like(x), np.zeros((100, 2)), 0.1, 20,
                          diffusion=d, rng=1)
    assert np.all(path.x[..., 1] == 0.0) and np.any(path.x[..., 0] != 0.0)


def test_seed_and_recording():
    run = lambda seed: euler_maruyama(lambda x: -x, [1.0, -1.0], 0.1, 25, record_every=10,  # noqa: E731
                                      rng=seed)
    a, b, c = run(3), run(3), run(4)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    assert a.x.shape == (3, 1, 2)
    np.testing.assert_allclose(a.t, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(a.x[0], [[1.0, -1.0]])


def test_zero_temperature_is_explicit_euler():
    path = euler_maruyama(lambda x: -x, [[1.0, 2.0]], 0.1, 3, beta_inv=0.0, rng=0)
    np.testing.assert_allclose(path.x[:, 0, 0], 0.9 ** np.arange(4))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"dt": 0.0}, "dt"),
        ({"dt": -0.1}, "dt"),
        ({"dt": float("nan")}, "dt"),
        ({"n_steps": 0}, "n_steps"),
        ({"beta_inv": -1.0}, "beta_inv"),
        ({"record_every": 0}, "record_every"),
        ({"x0": [[np.nan, 0.0]]}, "x0"),
        ({"x0": np.zeros((2, 2, 2))}, "x0"),
        ({"diffusion": np.eye(3)}, "diffusion"),
        ({"diffusion": [[1.0, 0.5], [0.0, 1.0]]}, "symmetric"),
        ({"diffusion": [[1.0, 0.0], [0.0, -1.0]]}, "positive semi-definite"),
        ({"drift": lambda x: x[:, :1]}, "drift"),
        ({"drift": lambda x: 10 * x**3, "dt": 1.0}, "diverged"),
    ],
)
def test_bad_input_raises(kwargs, name):
    args = {"drift": lambda x: -x, "x0": np.ones((3, 2)), "dt": 0.1, "n_steps": 10}
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        euler_maruyama(args.pop("drift"), args.pop("x0"), args.pop("dt"), args.pop("n_steps"),
                       **args)


def _tori(w1, w2):
    j = np.array([[0.0, 1.0], [-1.0, 0.0]])
    return linalg.block_diag(w1 * j, w2 * j)


def test_linear_flow_is_the_matrix_exponential():
    a = np.array([[0.1, 1.0, 0.0], [-1.0, -0.2, 0.3], [0.0, -0.5, 0.0]])
    x0 = np.array([1.0, -0.5, 2.0])
    times = np.array([0.0, 0.3, 2.0, 7.5])
    path = linear_flow(a, x0, times)
    assert path.shape == (4, 3)
    for t, x in zip(times, path, strict=True):
        np.testing.assert_allclose(x, linalg.expm(a * t) @ x0, rtol=1e-12, atol=1e-12)


def test_closest_return_closes_for_commensurate_and_not_for_incommensurate_frequencies():
    x0 = np.array([1.0, 0.0, 1.0, 0.0])
    t, dist = closest_return(_tori(1.0, 2.0), x0, math.pi, 3 * math.pi, 2000)
    assert abs(t - 2 * math.pi) < 1e-6 and dist < 1e-6
    np.testing.assert_allclose(linear_flow(_tori(1.0, 2.0), x0, 2 * math.pi), x0, atol=1e-14)
    # |x(t) - x0|^2 = 4 sin^2(t/2) + 4 sin^2(t/sqrt 2) and |m^2 - 2k^2| >= 1 give, for
    # t in [pi, 2 pi K], |x(t) - x0| >= 4 / ((1 + sqrt 2)(sqrt 2 K + M)), M = ceil(sqrt 2 K)
    k_max = 50
    t, dist = closest_return(_tori(1.0, math.sqrt(2)), x0, math.pi, 2 * math.pi * k_max, 50_000)
    bound = 4 / ((1 + math.sqrt(2)) * (math.sqrt(2) * k_max + math.ceil(math.sqrt(2) * k_max)))
    assert dist >= bound
    dense = np.linspace(math.pi, 2 * math.pi * k_max, 2_000_001)
    closed = 2 * np.sqrt(np.sin(dense / 2) ** 2 + np.sin(dense / math.sqrt(2)) ** 2)
    assert dist <= closed.min() + 1e-9             # the refinement finds the true minimum
    assert abs(t - 2 * math.pi * 29) < 0.1         # near 2 pi q for a Pell denominator q = 29


def test_linear_flow_bad_input():
    with pytest.raises(ValueError, match="diagonalisable"):
        linear_flow([[0.0, 1.0], [0.0, 0.0]], [1.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="x0"):
        linear_flow(np.eye(2), [1.0, 2.0, 3.0], [1.0])
    with pytest.raises(ValueError, match="t_min < t_max"):
        closest_return(np.eye(2), [1.0, 0.0], 2.0, 1.0)


def test_stratonovich_correction_is_half_the_derivative_in_1d_and_depends_on_the_root():
    x = np.linspace(-2, 2, 9)[:, None]

    def sigma_1d(p):
        return np.sqrt(1 + p**2 / 2)[..., None]

    # c = sigma sigma' / 2 = (sigma^2)' / 4 = x / 4
    np.testing.assert_allclose(stratonovich_correction(sigma_1d, x)[:, 0], x[:, 0] / 4,
                               atol=1e-8)
    pts = np.random.default_rng(0).uniform(-1, 1, (20, 2))

    def sym(p):
        return linalg.sqrtm(D)[None] * (1 + p[:, 0] ** 2)[:, None, None]

    def turned(p):
        c, s = np.cos(p[:, 0]), np.sin(p[:, 0])
        rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
        return sym(p) @ rot

    # the same sigma sigma^T, different corrections
    np.testing.assert_allclose(sym(pts) @ sym(pts).transpose(0, 2, 1),
                               turned(pts) @ turned(pts).transpose(0, 2, 1), atol=1e-12)
    gap = np.abs(stratonovich_correction(sym, pts) - stratonovich_correction(turned, pts)).max()
    assert gap > 0.1
    with pytest.raises(ValueError, match="sigma must return"):
        stratonovich_correction(lambda p: p, pts)
