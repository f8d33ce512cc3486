import matplotlib.pyplot as plt
import numpy as np
import pytest

from sgdlab.core.plotting import draw_trajectories, markdown_table
from sgdlab.deep.brownian import compare


def test_draw_trajectories_draws_the_three_panels_of_fig3():
    rng = np.random.default_rng(0)
    cmp = compare(rng.standard_normal((4, 200)).cumsum(axis=1), nlags=20, n_bins=8)
    grad, grad_eval = rng.uniform(1, 2, (3, 50)), rng.uniform(2, 4, (3, 50))
    fig, axes = plt.subplots(1, 3)
    draw_trajectories(axes, cmp, grad, grad_eval, burn_in=10)
    ax_a, ax_b, ax_c = axes
    assert [t.get_text() for t in ax_a.get_legend().get_texts()] == ["white noise", "SGD"]
    np.testing.assert_array_equal(ax_a.lines[1].get_ydata(), cmp.power.mean(axis=0))
    assert ax_a.get_xscale() == ax_a.get_yscale() == "log"
    assert len(ax_b.get_legend().get_texts()) == 3
    np.testing.assert_array_equal(ax_b.lines[2].get_ydata(), cmp.acf.mean(axis=0))
    assert sorted({line.get_ydata()[0] for line in ax_b.lines[3:]}) == [-cmp.band, cmp.band]
    # one line per chain and mode, two legend proxies and the end of the burn-in
    assert len(ax_c.lines) == 2 * 3 + 2 + 1 and ax_c.get_yscale() == "log"
    np.testing.assert_array_equal(ax_c.lines[0].get_xdata(), np.arange(1, 51))
    assert ax_c.lines[-1].get_xdata()[0] == 10
    plt.close(fig)


def test_markdown_table_is_exact():
    table = markdown_table([("small-fc", "0.60 %", ""), ("a|b", 1.5, None)], ("net", "rank", "x"))
    assert table == ("| net | rank | x |\n| --- | --- | --- |\n| small-fc | 0.60 % |  |\n"
                     "| a\\|b | 1.5 | None |")
    assert markdown_table([], ["only"]) == "| only |\n| --- |"
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        markdown_table([("a",)], ("x", "y"))
    with pytest.raises(ValueError, match="header"):
        markdown_table([], ())
