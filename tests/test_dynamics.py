import numpy as np
import pytest
from scipy import linalg

from sgdlab.core.dynamics import descent_flow, radial_decay, winding_rate


def test_descent_flow_of_a_linear_field_is_a_matrix_exponential():
    a = np.array([[1.0, -2.0], [2.0, 0.5]])
    flow = descent_flow(lambda x: a @ x, [1.0, 0.5], 3.0, n_eval=7)
    for ti, xi in zip(flow.t, flow.x, strict=True):
        np.testing.assert_allclose(xi, linalg.expm(-a * ti) @ [1.0, 0.5], rtol=1e-8, atol=1e-12)


def test_radial_decay_recovers_a_power_law_on_an_elongated_orbit():
    t = np.geomspace(1.0, 1e4, 200_000)
    r = 3.0 * t**-0.5
    x = np.stack([r * np.cos(t), 0.5 * r * np.sin(t)], axis=1)
    fit = radial_decay(t, x, centre=[0.0, 0.0], t_min=100.0)
    assert fit.exponent == pytest.approx(-0.5, abs=1e-3)
    assert fit.prefactor == pytest.approx(3.0, rel=1e-2)


def test_radial_decay_of_a_limit_cycle_is_flat():
    t = np.linspace(0, 500, 100_000)
    x = np.stack([np.cos(t), np.sin(t)], axis=1)
    assert abs(radial_decay(t, x, [0.0, 0.0], t_min=10.0).exponent) < 1e-6


def test_winding_rate_of_uniform_rotation():
    t = np.linspace(0.0, 10.0, 1001)
    omega = np.array([0.5, -2.0])[None, :]
    angle = omega * t[:, None]
    x = np.stack([np.cos(angle), np.sin(angle)], axis=-1)
    mean, stderr = winding_rate(t, x)
    assert mean == pytest.approx(-0.75, rel=1e-12)
    assert stderr == pytest.approx(np.std([0.5, -2.0], ddof=1) / np.sqrt(2), rel=1e-12)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="t_max"):
        descent_flow(lambda x: x, [1.0, 0.0], -1.0)
    with pytest.raises(ValueError, match="t_min"):
        radial_decay(np.arange(1.0, 5.0), np.ones((4, 2)), [0, 0], t_min=10.0)
    with pytest.raises(ValueError, match="n_records"):
        winding_rate(np.arange(3.0), np.ones((4, 5, 2)))
