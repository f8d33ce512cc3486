import numpy as np
import pytest
from scipy import stats

from sgdlab.core.dynamics import descent_flow
from sgdlab.core.fokker_planck import fokker_planck
from sgdlab.core.grid import cell_grid
from sgdlab.core.jko import entropic_jko_flow, jko_flow, levels
from sgdlab.core.sde import euler_maruyama
from sgdlab.core.sgd import anisotropic_quadratic, simulate
from sgdlab.core.timeseries import TimeSeries


def test_one_record_per_time():
    series = TimeSeries(t=np.arange(3.0), x=np.zeros((3, 4, 2)))
    assert series.x.shape == (3, 4, 2)
    with pytest.raises(ValueError, match="t must be 1-D"):
        TimeSeries(t=np.zeros((3, 1)), x=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="t must be 1-D"):
        TimeSeries(t=np.float64(0.0), x=np.zeros(1))
    with pytest.raises(ValueError, match="one record per time"):
        TimeSeries(t=np.arange(3.0), x=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="one record per time"):
        TimeSeries(t=np.arange(1.0), x=np.float64(0.0))


def _check(series, times, shape):
    assert isinstance(series, TimeSeries)
    np.testing.assert_allclose(series.t, times, rtol=1e-12, atol=0.0)
    assert series.x.shape == shape


def test_euler_maruyama_records_at_k_dt():
    run = euler_maruyama(lambda x: -x, np.zeros((5, 2)), 0.1, 25, record_every=10, rng=0)
    _check(run, 0.1 * np.array([0, 10, 20]), (3, 5, 2))


def test_fokker_planck_records_at_k_dt():
    grid = cell_grid([[-3.0, 3.0]], 30)
    fp = fokker_planck(grid, 2.0, grad_f=lambda x: x)
    run = fp.evolve(stats.norm(1.0, 0.5).pdf(grid.centres[0]), 1.0, 20, record_every=5)
    _check(run, 0.05 * np.array([0, 5, 10, 15, 20]), (5, 30))


def test_descent_flow_records_at_its_output_times():
    _check(descent_flow(lambda x: x, [1.0, 0.5], 2.0, n_eval=5), np.linspace(0.0, 2.0, 5), (5, 2))
    flow = descent_flow(lambda x: x, [[1.0, 0.5], [0.0, 1.0]], 10.0, n_eval=4, log_times=True)
    _check(flow, [0.0, 1.0, 10.0**0.5, 10.0], (4, 2, 2))


def test_sgd_records_at_the_time_eta_times_step_of_lemma_2():
    q = anisotropic_quadratic(n=10)
    eta = 0.3
    slow = simulate(q.batch_grad, 10, np.tile(q.minimum, (6, 1)), eta, 4, 25, record_every=10,
                    rng=1)
    _check(slow, eta * np.array([0, 10, 20]), (3, 6, 2))
    _check(q.run(eta, 4, 6, 25, record_every=10, rng=1), eta * np.array([0, 10, 20]), (3, 6, 2))
    _check(q.run(eta, 4, 6, 25, rng=1), eta * np.array([0, 25]), (2, 6, 2))


def test_jko_flows_record_at_k_tau():
    u = levels(20)
    flow = jko_flow(stats.norm(1.0, 0.5).ppf(u), 0.1, 3, 2.0, lambda x: x**2 / 2, lambda x: x)
    _check(flow, 0.1 * np.arange(4), (4, 20))
    grid = cell_grid([[-2.0, 2.0], [-2.0, 2.0]], 10)
    rho0 = np.exp(-((grid.points - [0.5, 0.0]) ** 2).sum(-1))
    flow = entropic_jko_flow(rho0, grid, 0.1, 2, 2.0, 0.5 * (grid.points**2).sum(-1), eps=0.1)
    _check(flow, 0.1 * np.arange(3), (3, 10, 10))
