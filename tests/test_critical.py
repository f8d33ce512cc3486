import numpy as np
import pytest

from sgdlab.core.critical import classify, find_zeros, jacobian
from sgdlab.core.landscapes import double_well

BOX = [[-2.0, 2.0], [-2.0, 2.0]]


@pytest.mark.parametrize(
    ("matrix", "kind"),
    [
        ([[2.0, 0.0], [0.0, 1.0]], "minimum"),
        ([[-2.0, 0.5], [0.5, -1.0]], "maximum"),
        ([[1.0, 0.0], [0.0, -3.0]], "saddle"),
        ([[1.0, 2.0], [-2.0, 1.0]], "spiral"),
        ([[-1.0, 2.0], [-2.0, -1.0]], "spiral"),
        ([[0.0, 1.0], [-1.0, 0.0]], "centre"),
        ([[1.0, 0.0], [0.0, 0.0]], "degenerate"),
    ],
)
def test_classify_linear_fields(matrix, kind):
    a = np.array(matrix)
    assert classify(a) == kind
    zeros = find_zeros(lambda x: x @ a.T, BOX) if kind != "degenerate" else []
    if zeros:
        (z,) = zeros
        np.testing.assert_allclose(z.x, 0.0, atol=1e-12)
        assert z.kind == kind
        assert z.stable == bool(np.all(np.linalg.eigvals(a).real > 0) and kind != "centre")


def test_known_zeros_of_the_double_well():
    zeros = find_zeros(double_well(0.0).grad_f, BOX)
    np.testing.assert_allclose([z.x for z in zeros], [[-1, 0], [0, 0], [1, 0]], atol=1e-12)
    assert [z.kind for z in zeros] == ["minimum", "saddle", "minimum"]
    assert [z.stable for z in zeros] == [True, False, True]
    np.testing.assert_allclose(sorted(zeros[1].eigenvalues.real), [-1.0, 1.0], atol=1e-7)


def test_zeros_of_a_field_with_many_roots():
    """sin(pi x) sin(pi y)-type field: zeros on the integer lattice of the box."""
    field = lambda x: np.stack([np.sin(np.pi * x[..., 0]), np.sin(np.pi * x[..., 1])], axis=-1)  # noqa: E731
    zeros = find_zeros(field, [[-1.5, 1.5], [-1.5, 1.5]], n_starts=13)
    expected = [[i, k] for i in (-1, 0, 1) for k in (-1, 0, 1)]
    np.testing.assert_allclose([z.x for z in zeros], expected, atol=1e-12)
    kinds = {tuple(np.round(z.x).astype(int)): z.kind for z in zeros}
    assert kinds[(0, 0)] == "minimum" and kinds[(1, 1)] == "maximum" and kinds[(1, 0)] == "saddle"


def test_jacobian_by_central_differences():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(jacobian(lambda x: x @ a.T, np.array([0.3, -0.2])), a,
                               rtol=1e-8)


def test_zeros_outside_the_box_are_dropped():
    assert find_zeros(lambda x: x - 5.0, BOX) == []


@pytest.mark.parametrize(
    ("box", "match"),
    [([[1.0, -1.0], [0.0, 1.0]], "lo < hi"), ([0.0, 1.0], "shape"), ([[0, np.nan]], "finite")],
)
def test_bad_box_raises(box, match):
    with pytest.raises(ValueError, match=match):
        find_zeros(lambda x: x, box)


def test_bad_jacobian_raises():
    with pytest.raises(ValueError, match="jacobian"):
        classify(np.ones((2, 3)))
