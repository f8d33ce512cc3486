import math

import numpy as np
import pytest

from sgdlab.core import escape


def test_well_gradient_and_curvatures():
    well = escape.EscapeWell(1.3, barrier=0.7, stiffness=3.0)
    x = np.array([[0.4, -0.2], [1.3, 0.0]])
    h = 1e-6
    num = np.stack([(well.f(x + h * e) - well.f(x - h * e)) / (2 * h) for e in np.eye(2)], -1)
    np.testing.assert_allclose(well.grad_f(x), num, rtol=1e-8, atol=1e-9)
    second = (well.potential(1.3 + 1e-4) - 2 * well.potential(1.3) + well.potential(1.3 - 1e-4))
    assert second / 1e-8 == pytest.approx(well.curvature_min, rel=1e-6)
    assert well.potential(0.0) - well.potential(1.3) == pytest.approx(0.7)
    with pytest.raises(ValueError, match="width"):
        escape.EscapeWell(-1.0)


def test_aligned_noise_keeps_the_trace():
    hess = np.diag([8.0, 2.0])
    for a in (0.0, 0.4, 1.0):
        assert np.trace(escape.aligned_noise(hess, a)) == pytest.approx(2.0, rel=1e-14)
    np.testing.assert_allclose(escape.aligned_noise(hess, 1.0), np.diag([1.6, 0.4]), rtol=1e-14)
    with pytest.raises(ValueError, match="alignment"):
        escape.aligned_noise(hess, 1.5)


def test_mean_first_passage_of_free_diffusion_and_kramers_limit():
    # V = 0 with a reflecting wall at 0: tau(0 -> L) = L^2 / (2 eps), exactly
    tau = escape.mean_first_passage(lambda z: 0.0 * z, 1e-12, 2.0, 0.5, 0.0)
    assert tau == pytest.approx(4.0, rel=1e-6)
    well = escape.EscapeWell(1.0)
    ratios = [escape.kramers_time(well.curvature_min, well.curvature_saddle, 1.0, eps)
              / escape.mean_first_passage(well.potential, -1.0, 1.0, eps, -3.0)
              for eps in (0.2, 0.1, 0.05)]
    # Kramers is exact as eps -> 0, with an O(eps) relative error: the gap shrinks ~ linearly
    gaps = [abs(1 - r) for r in ratios]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 0.6 * gaps[1]
    with pytest.raises(ValueError, match="negative"):
        escape.kramers_time(1.0, 1.0, 1.0, 0.1)


def test_escape_times_of_a_shallow_well_match_the_exact_mean():
    well = escape.EscapeWell(1.0, barrier=0.5)
    eps = 0.5
    exact = escape.mean_first_passage(well.potential, -1.0, 1.0, eps, -3.0)
    times = escape.escape_times(well.grad_f, [-1.0, 0.0], lambda x: x[:, 0] >= 1.0, 2e-3, 400,
                                beta_inv=eps, rng=3)
    se = times.std() / math.sqrt(len(times))
    # 4 standard errors; Euler's O(dt) bias (h dt = 8e-3) is far below one
    assert abs(times.mean() - exact) < 4 * se
    with pytest.raises(ValueError, match="not absorbed"):
        escape.escape_times(well.grad_f, [-1.0, 0.0], lambda x: x[:, 0] >= 1.0, 1e-3, 10,
                            max_steps=5, rng=0)


def test_passage_times_temperatures_and_bad_input():
    out = escape.passage_times([0.8, 1.4], 1.0, 0.5, n=4_001)
    curv = 8.0 / np.array([0.8, 1.4]) ** 2
    # eq. (eq-nc-kramers) of the chapter: eps = beta^-1 2 V''(a) / (V''(a) + k) for D ∝ H
    np.testing.assert_allclose(out["curvature"], curv, rtol=1e-14)
    np.testing.assert_allclose(out["eps"], 0.5 * 2 * curv / (curv + 8.0), rtol=1e-14)
    well = escape.EscapeWell(1.4)
    assert out["exact"][1] == pytest.approx(
        escape.mean_first_passage(well.potential, -1.4, 1.4, out["eps"][1], -4.2), rel=1e-10)
    with pytest.raises(ValueError, match="widths"):
        escape.passage_times([], 0.0, 1.0)
    with pytest.raises(ValueError, match="width"):
        escape.passage_times([-1.0], 0.0, 1.0)
    with pytest.raises(ValueError, match="beta_inv"):
        escape.passage_times([1.0], 0.0, -1.0)
