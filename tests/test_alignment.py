import numpy as np
import pytest
from scipy import stats

from sgdlab.core import alignment as al

RNG = np.random.default_rng(0)


def spd(d, rng=RNG):
    a = rng.standard_normal((d, d))
    return a @ a.T


def test_frobenius_cosine_is_scale_free_and_one_for_multiples():
    a, b = spd(4), spd(4)
    assert al.frobenius_cosine(a, 3.0 * a) == pytest.approx(1.0, abs=1e-14)
    assert al.frobenius_cosine(a, b) == pytest.approx(al.frobenius_cosine(2 * a, 5 * b), rel=1e-14)
    with pytest.raises(ValueError, match="zero"):
        al.frobenius_cosine(a, np.zeros((4, 4)))
    with pytest.raises(ValueError, match="square"):
        al.frobenius_cosine(a, np.ones((4, 3)))


def test_trace_alignment_is_one_for_isotropic_noise_and_its_null_matches_haar():
    h = spd(5)
    iso = al.trace_alignment(h, 2.0 * np.eye(5))
    assert iso.ratio == pytest.approx(1.0, rel=1e-14)          # closed form
    d = 6
    a, b = spd(d), spd(d)
    res = al.trace_alignment(a, b)
    q = stats.ortho_group.rvs(d, size=20_000, random_state=1)
    draws = np.einsum("nij,jk,nlk,li->n", q, a, q, b)
    n = len(draws)
    # the null's mean and sd within 5 standard errors of 20,000 Haar draws
    assert abs(draws.mean() - res.isotropic) < 5 * draws.std() / np.sqrt(n)
    assert abs(draws.std() / res.rotation_sd - 1) < 5 / np.sqrt(2 * n) * 2
    assert res.z == pytest.approx((res.tr_hd - res.isotropic) / res.rotation_sd)
    with pytest.raises(ValueError, match="symmetric"):
        al.trace_alignment(h, np.triu(np.ones((5, 5))))


def test_top_eigenspace_and_fractions():
    w = np.array([5.0, 4.0, 1.0, 0.5])
    q = np.linalg.qr(RNG.standard_normal((4, 4)))[0]
    m = (q * w) @ q.T
    vals, vecs = al.top_eigenspace(m, 2)
    np.testing.assert_allclose(vals, [5.0, 4.0], rtol=1e-13)
    v = 2.0 * q[:, 0] + q[:, 3]
    assert al.subspace_fraction(v, vecs) == pytest.approx(4.0 / 5.0, rel=1e-13)
    assert al.subspace_overlap(vecs, q[:, :2]) == pytest.approx(1.0, abs=1e-12)
    assert al.subspace_overlap(vecs, q[:, 2:]) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="exceeds"):
        al.top_eigenspace(m, 5)
    with pytest.raises(ValueError, match="non-zero"):
        al.subspace_fraction(np.zeros(4), vecs)


def test_random_fraction_is_the_share_of_a_vector_in_random_subspaces():
    k, d, n = 3, 40, 4000
    rng = np.random.default_rng(2)
    v = rng.standard_normal(d)
    draws = [al.subspace_fraction(v, np.linalg.qr(rng.standard_normal((d, k)))[0])
             for _ in range(n)]
    # Kolmogorov-Smirnov against Beta(k/2, (d-k)/2): no rejection at 0.1 %
    assert stats.kstest(draws, al.random_fraction(k, d).cdf).pvalue > 1e-3
    assert al.random_fraction(k, d).mean() == pytest.approx(k / d)
    with pytest.raises(ValueError, match="k < d"):
        al.random_fraction(4, 4)
