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


def test_return_map_of_a_linear_centre_and_a_linear_focus():
    from sgdlab.core.dynamics import return_map

    r = np.array([0.1, 0.5, 2.0])
    omega = 1.7
    centre = return_map(lambda x: omega * np.stack([-x[..., 1], x[..., 0]], -1), r)
    np.testing.assert_allclose(centre.image, r, rtol=1e-10)
    np.testing.assert_allclose(centre.time, 2 * np.pi / omega, rtol=1e-10)
    # x' = a x + omega R x: one turn multiplies r by exp(2 pi a / omega)
    a = -0.05
    focus = return_map(lambda x: a * x + omega * np.stack([-x[..., 1], x[..., 0]], -1), r)
    np.testing.assert_allclose(focus.image, r * np.exp(2 * np.pi * a / omega), rtol=1e-10)
    # clockwise turning is followed too
    clockwise = return_map(lambda x: -omega * np.stack([-x[..., 1], x[..., 0]], -1), r)
    np.testing.assert_allclose(clockwise.time, 2 * np.pi / omega, rtol=1e-10)


def test_return_map_cubic_coefficient_of_a_normal_form():
    from sgdlab.core.dynamics import return_map

    # r' = b r^3, theta' = 1: one turn gives r^-2 - P^-2 = 4 pi b, P - r = 2 pi b r^3 + ...
    b = -0.3

    def normal_form(x):
        r2 = np.sum(x**2, axis=-1, keepdims=True)
        return b * r2 * x + np.stack([-x[..., 1], x[..., 0]], -1)

    r = np.geomspace(0.01, 0.05, 6)
    rm = return_map(normal_form, r)
    np.testing.assert_allclose(rm.image, (r**-2 - 4 * np.pi * b) ** -0.5, rtol=1e-10)
    a3 = rm.odd_coefficients(2)[0]
    assert a3 == pytest.approx(2 * np.pi * b, rel=1e-5)


def test_return_map_bad_input():
    from sgdlab.core.dynamics import ReturnMap, return_map

    with pytest.raises(ValueError, match="positive"):
        return_map(lambda x: x, [0.0, 1.0])
    with pytest.raises(ValueError, match="turn"):
        return_map(lambda x: x, [1.0])                 # radial flow: v_2 = 0 on the axis
    with pytest.raises(RuntimeError, match="t_max"):
        return_map(lambda x: np.stack([-x[..., 1], x[..., 0]], -1), [1.0], t_max=1.0)
    rm = ReturnMap(r=np.array([1.0, 2.0]), image=np.array([1.0, 2.0]), time=np.ones(2))
    with pytest.raises(ValueError, match="n_terms"):
        rm.odd_coefficients(2)
