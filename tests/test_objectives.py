"""Tests for optlib.objectives: analytic derivatives, batching, validation."""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optlib import objectives
from optlib.objectives import OBJECTIVES, Beale, Objective, Quadratic, Rosenbrock, Saddle

KEYS = sorted(OBJECTIVES)
STEP = 1e-6  # central-difference step


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def central_differences(f, w):
    """Central differences of a batched function f along each coordinate of w.

    The step is relative to |w_j| and the exactly represented step
    (w + h) - (w - h) is used, so that far-out points stay accurate.
    Returns the derivative along coordinate j in [..., j] (after f's own axes).
    """
    w = np.asarray(w, dtype=np.float64)
    cols = []
    for j, e in enumerate(np.eye(2)):
        h = (STEP * (1.0 + np.abs(w[..., j])))[..., None] * e
        up, down = w + h, w - h
        width = (up - down)[..., j]
        f_up, f_down = f(up), f(down)
        if np.ndim(f_up) > width.ndim:  # vector-valued f, e.g. the gradient
            width = width[..., None]
        cols.append((f_up - f_down) / width)
    return np.stack(cols, axis=-1)


def fd_grad(f, w):
    """Finite-difference gradient of a batched scalar function, shape (..., 2)."""
    return central_differences(f, w)


def fd_hessian(objective, w):
    """Finite differences of the gradient, shape (..., 2, 2): [..., i, j] = d_j g_i."""
    return central_differences(objective.grad, w)


def assert_grad_matches_fd(objective, w):
    """Analytic gradient within the central-difference error bound.

    Round-off is about eps*|f|/h (~2e-10 |f|), truncation h^2 f'''/6, so the
    tolerance scales with the magnitude of f and of the gradient. Over the
    tested regions the observed error stays below a tenth of the tolerance.
    """
    g = objective.grad(w)
    fd = fd_grad(objective.value, w)
    scale = 1.0 + np.abs(objective.value(w))[..., None] + np.abs(g)
    np.testing.assert_array_less(np.abs(g - fd), 1e-7 * scale)


def assert_hessian_matches_fd(objective, w):
    hess = objective.hessian_at(w)
    fd = fd_hessian(objective, w)
    scale = 1.0 + np.linalg.norm(objective.grad(w), axis=-1)[..., None, None] + np.abs(hess)
    np.testing.assert_array_less(np.abs(hess - fd), 1e-8 * scale)


def lattice(objective, n=9):
    """An (n, n, 2) lattice of points strictly inside the objective's bounds."""
    (x0, x1), (y0, y1) = objective.bounds
    xs = np.linspace(x0, x1, n + 2)[1:-1]
    ys = np.linspace(y0, y1, n + 2)[1:-1]
    return np.stack(np.meshgrid(xs, ys), axis=-1)


def rotation(theta):
    return np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])


@st.composite
def objective_and_point(draw, keys=KEYS):
    """A default objective and a point inside its bounds."""
    objective = OBJECTIVES[draw(st.sampled_from(keys))]()
    (x0, x1), (y0, y1) = objective.bounds
    x = draw(st.floats(x0, x1))
    y = draw(st.floats(y0, y1))
    return objective, np.array([x, y])


finite = st.floats(-5.0, 5.0)
positive = st.floats(1e-2, 1e2)
quadratics = st.builds(
    Quadratic,
    curvatures=st.tuples(positive, positive),
    angle=st.floats(-2 * math.pi, 2 * math.pi),
    center=st.tuples(finite, finite),
)
parametrised = st.one_of(
    quadratics,
    st.builds(Rosenbrock, a=st.floats(-2.0, 2.0), b=st.floats(1.0, 200.0)),
    st.builds(Saddle, a=positive, b=positive),
)


# --------------------------------------------------------------------------
# Derivatives
# --------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(objective_and_point())
def test_grad_matches_finite_differences_in_bounds(case):
    objective, w = case
    assert_grad_matches_fd(objective, w)


@settings(max_examples=200, deadline=None)
@given(parametrised, st.tuples(finite, finite))
def test_grad_matches_finite_differences_for_parameters(objective, w):
    assert_grad_matches_fd(objective, np.array(w))


@pytest.mark.parametrize("key", KEYS)
def test_grad_matches_finite_differences_on_lattice(key):
    objective = OBJECTIVES[key]()
    assert_grad_matches_fd(objective, lattice(objective))


@settings(max_examples=200, deadline=None)
@given(objective_and_point())
def test_hessian_matches_finite_differences_of_grad(case):
    objective, w = case
    assert_hessian_matches_fd(objective, w)


@settings(max_examples=100, deadline=None)
@given(parametrised, st.tuples(finite, finite))
def test_hessian_matches_finite_differences_for_parameters(objective, w):
    assert_hessian_matches_fd(objective, np.array(w))


@pytest.mark.parametrize("key", KEYS)
def test_hessian_on_lattice_matches_fd_and_is_symmetric(key):
    objective = OBJECTIVES[key]()
    points = lattice(objective)
    assert_hessian_matches_fd(objective, points)
    hess = objective.hessian_at(points)
    assert hess.shape == (9, 9, 2, 2)
    np.testing.assert_array_equal(hess, np.swapaxes(hess, -1, -2))


def test_finite_difference_check_detects_a_wrong_gradient():
    class Wrong(Rosenbrock):
        def _grad(self, p):
            return super()._grad(p) * 1.001

    wrong = Wrong()
    with pytest.raises(AssertionError):
        assert_grad_matches_fd(wrong, lattice(wrong))


# --------------------------------------------------------------------------
# Minima and stationary points
# --------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_grad_vanishes_and_value_is_min_value_at_minimum(key):
    objective = OBJECTIVES[key]()
    np.testing.assert_allclose(objective.grad(objective.minimum), 0.0, atol=1e-12)
    assert objective.value(objective.minimum) == pytest.approx(objective.min_value, abs=1e-12)
    assert isinstance(objective.min_value, float)


@pytest.mark.parametrize("key", KEYS)
def test_minimum_is_below_every_lattice_value(key):
    objective = OBJECTIVES[key]()
    assert np.min(objective.value(lattice(objective, 41))) >= objective.min_value


@pytest.mark.parametrize("key", KEYS)
def test_hessian_is_positive_definite_at_minimum(key):
    objective = OBJECTIVES[key]()
    assert np.all(np.linalg.eigvalsh(objective.hessian_at(objective.minimum)) > 0)


@pytest.mark.parametrize("a, b", [(1.0, 1.0), (0.5, 3.0), (4.0, 0.25)])
def test_saddle_stationary_points(a, b):
    saddle = Saddle(a=a, b=b)
    np.testing.assert_array_equal(saddle.saddle_point, [0.0, 0.0])
    np.testing.assert_array_equal(saddle.minima, [[0.0, 1.0], [0.0, -1.0]])
    np.testing.assert_array_equal(saddle.minimum, [0.0, 1.0])
    np.testing.assert_allclose(saddle.grad(saddle.minima), 0.0, atol=1e-12)
    np.testing.assert_allclose(saddle.grad(saddle.saddle_point), 0.0, atol=1e-12)
    np.testing.assert_allclose(saddle.value(saddle.minima), [-b / 4, -b / 4])
    assert saddle.min_value == -b / 4
    assert saddle.value(saddle.saddle_point) == 0.0
    np.testing.assert_allclose(np.linalg.eigvalsh(saddle.hessian_at([0.0, 0.0])), [-b, a])
    minima_curvatures = np.linalg.eigvalsh(saddle.hessian_at(saddle.minima))
    np.testing.assert_allclose(minima_curvatures, [sorted([a, 2 * b])] * 2)


def test_quadratic_minimum_is_smallest_over_dense_grid():
    quadratic = Quadratic(curvatures=(2.0, 7.0), angle=0.4, center=(0.3, -1.2))
    X, Y, Z = quadratic.grid(301)
    assert quadratic.value(quadratic.minimum) == 0.0
    assert np.all(Z >= quadratic.value(quadratic.minimum))
    # The smallest grid value sits at the grid node closest to the centre.
    i, j = np.unravel_index(np.argmin(Z), Z.shape)
    spacing = np.hypot(X[0, 1] - X[0, 0], Y[1, 0] - Y[0, 0])
    assert np.hypot(X[i, j] - 0.3, Y[i, j] + 1.2) <= spacing


def test_rosenbrock_minimum_follows_a():
    rosenbrock = Rosenbrock(a=-1.5, b=10.0)
    np.testing.assert_array_equal(rosenbrock.minimum, [-1.5, 2.25])
    np.testing.assert_allclose(rosenbrock.grad(rosenbrock.minimum), 0.0, atol=1e-12)
    assert rosenbrock.value(rosenbrock.minimum) == 0.0


# --------------------------------------------------------------------------
# Known values (by hand)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "objective, w, value, grad",
    [
        (Rosenbrock(), (0.0, 0.0), 1.0, (-2.0, 0.0)),
        (Rosenbrock(), (1.0, 1.0), 0.0, (0.0, 0.0)),
        # (1 - (-1))^2 + 100 (2 - 1)^2 = 104; grad = (-2*2 - 400*(-1)*1, 200*1)
        (Rosenbrock(), (-1.0, 2.0), 104.0, (396.0, 200.0)),
        (Rosenbrock(a=2.0, b=10.0), (0.0, 0.0), 4.0, (-4.0, 0.0)),
        # residuals (1.5, 2.25, 2.625), d/dx = y^k - 1 = -1, d/dy = k x y^(k-1) = 0
        (Beale(), (0.0, 0.0), 14.203125, (-12.75, 0.0)),
        # residuals again (1.5, 2.25, 2.625); d/dx = 0, d/dy = k: 2 (1.5 + 4.5 + 7.875)
        (Beale(), (1.0, 1.0), 14.203125, (0.0, 27.75)),
        (Beale(), (3.0, 0.5), 0.0, (0.0, 0.0)),
        (Quadratic((1.0, 25.0)), (1.0, 1.0), 13.0, (1.0, 25.0)),
        (Quadratic((1.0, 25.0), center=(1.0, 2.0)), (2.0, 1.0), 13.0, (1.0, -25.0)),
        # rotation by pi/2 swaps the axes: H = diag(25, 1)
        (Quadratic((1.0, 25.0), angle=math.pi / 2), (1.0, 1.0), 13.0, (25.0, 1.0)),
        # 1/2 + (4 - 2) and (x, y^3 - y)
        (Saddle(), (1.0, 2.0), 2.5, (1.0, 6.0)),
        (Saddle(a=2.0, b=3.0), (1.0, 2.0), 7.0, (2.0, 18.0)),
    ],
    ids=repr,
)
def test_known_values(objective, w, value, grad):
    assert objective.value(w) == pytest.approx(value, rel=1e-14, abs=1e-14)
    np.testing.assert_allclose(objective.grad(w), grad, rtol=1e-14, atol=1e-14)


def test_known_hessians():
    rosenbrock = Rosenbrock()
    np.testing.assert_allclose(rosenbrock.hessian_at([0.0, 0.0]), [[2.0, 0.0], [0.0, 200.0]])
    np.testing.assert_allclose(rosenbrock.hessian_at([1.0, 1.0]), [[802.0, -400.0], [-400.0, 200.0]])
    np.testing.assert_allclose(Saddle().hessian_at([0.5, 2.0]), [[1.0, 0.0], [0.0, 11.0]])
    np.testing.assert_allclose(
        Quadratic((1.0, 25.0)).hessian_at([[5.0, -3.0], [0.0, 0.0]]), [np.diag([1.0, 25.0])] * 2
    )


# --------------------------------------------------------------------------
# Batching and dtypes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_batched_calls_equal_stacked_single_calls(key):
    objective = OBJECTIVES[key]()
    w = np.random.default_rng(0).uniform(-2.0, 2.0, size=(3, 4, 2))
    singles = [objective.value(p) for p in w.reshape(-1, 2)]
    grads = [objective.grad(p) for p in w.reshape(-1, 2)]
    hessians = [objective.hessian_at(p) for p in w.reshape(-1, 2)]
    value, grad = objective.value_and_grad(w)
    assert value.shape == (3, 4) and grad.shape == (3, 4, 2)
    np.testing.assert_allclose(objective.value(w), np.reshape(singles, (3, 4)), rtol=1e-15)
    np.testing.assert_allclose(objective.grad(w), np.reshape(grads, (3, 4, 2)), rtol=1e-15)
    np.testing.assert_allclose(
        objective.hessian_at(w), np.reshape(hessians, (3, 4, 2, 2)), rtol=1e-15
    )
    np.testing.assert_array_equal(value, objective.value(w))
    np.testing.assert_array_equal(grad, objective.grad(w))
    np.testing.assert_array_equal(objective(w), objective.value(w))


@pytest.mark.parametrize("key", KEYS)
def test_single_point_gives_zero_dim_value(key):
    objective = OBJECTIVES[key]()
    value, grad = objective.value_and_grad([0.5, -0.5])
    assert np.shape(objective.value([0.5, -0.5])) == ()
    assert np.shape(value) == ()
    assert grad.shape == (2,)
    assert objective.hessian_at([0.5, -0.5]).shape == (2, 2)
    assert objective.value(np.empty((0, 2))).shape == (0,)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize(
    "dtype, expected", [(np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64)]
)
def test_dtype_is_preserved_for_float32_and_float64_for_integers(key, dtype, expected):
    objective = OBJECTIVES[key]()
    w = np.array([[1, 2], [-1, 0]], dtype=dtype)
    value, grad = objective.value_and_grad(w)
    assert objective.value(w).dtype == expected
    assert objective.grad(w).dtype == expected
    assert value.dtype == expected and grad.dtype == expected
    assert objective.hessian_at(w).dtype == expected
    assert objective.value(w[0]).dtype == expected
    np.testing.assert_allclose(objective.grad(w), objective.grad(w.astype(np.float64)), rtol=1e-5)


def test_integer_list_input_matches_float_input():
    rosenbrock = Rosenbrock()
    np.testing.assert_array_equal(
        rosenbrock.grad([[0, 0], [1, 2]]), rosenbrock.grad([[0.0, 0.0], [1.0, 2.0]])
    )


# --------------------------------------------------------------------------
# Quadratic specifics
# --------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.tuples(positive, positive), st.floats(-2 * math.pi, 2 * math.pi))
def test_quadratic_hessian_is_rotated_diagonal(curvatures, angle):
    quadratic = Quadratic(curvatures=curvatures, angle=angle)
    R = rotation(angle)
    H = quadratic.hessian
    atol = 1e-12 * max(curvatures)
    np.testing.assert_allclose(H, R @ np.diag(curvatures) @ R.T, rtol=1e-12, atol=atol)
    np.testing.assert_allclose(quadratic.eigenvectors, R, atol=1e-15)
    np.testing.assert_allclose(np.linalg.eigvalsh(H), sorted(curvatures), rtol=1e-10)
    # Columns of R are eigenvectors: H R = R diag(curvatures).
    np.testing.assert_allclose(H @ R, R * np.array(curvatures), rtol=1e-10, atol=100 * atol)
    assert quadratic.condition_number == pytest.approx(max(curvatures) / min(curvatures))
    assert quadratic.lambda_max == max(curvatures) and quadratic.lambda_min == min(curvatures)


@settings(max_examples=100, deadline=None)
@given(quadratics, st.lists(st.tuples(finite, finite), min_size=1, max_size=5))
def test_quadratic_value_is_half_wHw(quadratic, points):
    w = np.array(points)
    d = w - np.array(quadratic.center)
    R = rotation(quadratic.angle)
    H = R @ np.diag(quadratic.curvatures) @ R.T
    expected = 0.5 * np.einsum("ni,ij,nj->n", d, H, d)
    scale = 1.0 + quadratic.lambda_max * np.sum(d**2, axis=-1)
    np.testing.assert_allclose(quadratic.value(w), expected, rtol=0, atol=1e-12 * scale.max())
    np.testing.assert_allclose(quadratic.grad(w), d @ H, rtol=0, atol=1e-12 * scale.max())


def test_a_rotated_quadratic_says_so_in_its_name():
    assert Quadratic().name == "Elongated quadratic"
    assert Quadratic(angle=np.pi / 6).name == "Elongated quadratic, rotated 30°"
    assert Quadratic(angle=-np.pi / 4).name == "Elongated quadratic, rotated -45°"
    assert Quadratic(angle=2 * np.pi).name == "Elongated quadratic"


def test_quadratic_condition_number_and_defaults():
    quadratic = Quadratic()
    assert quadratic.curvatures == (1.0, 25.0)
    assert quadratic.angle == 0.0 and quadratic.center == (0.0, 0.0)
    assert quadratic.condition_number == 25.0
    assert Quadratic(curvatures=(9, 3)).condition_number == 3.0
    np.testing.assert_array_equal(quadratic.hessian, np.diag([1.0, 25.0]))
    np.testing.assert_array_equal(quadratic.start, [-8.0, 1.5])


@settings(max_examples=100, deadline=None)
@given(quadratics)
def test_quadratic_bounds_enclose_the_level_set_of_the_start(quadratic):
    # Sample the ellipse f(w) = f(start) in the eigenbasis: w = c + R diag(a) (cos t, sin t).
    level = quadratic.value(quadratic.start)
    semi_axes = np.sqrt(2 * level / np.array(quadratic.curvatures))
    t = np.linspace(0, 2 * np.pi, 2001)
    circle = np.stack([np.cos(t), np.sin(t)], axis=-1)
    ellipse = np.array(quadratic.center) + (circle * semi_axes) @ quadratic.eigenvectors.T
    np.testing.assert_allclose(quadratic.value(ellipse), level, rtol=1e-9)
    (x0, x1), (y0, y1) = quadratic.bounds
    assert np.all((x0 < ellipse[:, 0]) & (ellipse[:, 0] < x1))
    assert np.all((y0 < ellipse[:, 1]) & (ellipse[:, 1] < y1))
    # ...with a 10 % margin, so not much more than that.
    assert np.ptp(ellipse[:, 0]) * 1.1 == pytest.approx(x1 - x0, rel=1e-4)
    assert np.ptp(ellipse[:, 1]) * 1.1 == pytest.approx(y1 - y0, rel=1e-4)


def test_quadratic_attributes_are_copies():
    quadratic = Quadratic()
    quadratic.hessian[0, 0] = 99.0
    quadratic.minimum[0] = 99.0
    quadratic.start[0] = 99.0
    np.testing.assert_array_equal(quadratic.hessian, np.diag([1.0, 25.0]))
    np.testing.assert_array_equal(quadratic.minimum, [0.0, 0.0])
    np.testing.assert_array_equal(quadratic.start, [-8.0, 1.5])
    assert quadratic.value([1.0, 1.0]) == 13.0


# --------------------------------------------------------------------------
# Bounds, start, grid, repr, registry
# --------------------------------------------------------------------------


def inside(point, bounds):
    (x0, x1), (y0, y1) = bounds
    return x0 < point[0] < x1 and y0 < point[1] < y1


@pytest.mark.parametrize("key", KEYS)
def test_bounds_contain_minimum_and_start(key):
    objective = OBJECTIVES[key]()
    assert all(isinstance(v, float) for pair in objective.bounds for v in pair)
    assert inside(objective.minimum, objective.bounds)
    assert inside(objective.start, objective.bounds)
    assert objective.start.shape == (2,) and objective.minimum.shape == (2,)
    assert objective.value(objective.start) > objective.min_value


@settings(max_examples=50, deadline=None)
@given(st.floats(-10.0, 10.0), st.floats(0.1, 500.0))
def test_rosenbrock_bounds_contain_minimum_and_start_for_any_a(a, b):
    rosenbrock = Rosenbrock(a=a, b=b)
    assert inside(rosenbrock.start, rosenbrock.bounds)
    assert inside(rosenbrock.minimum, rosenbrock.bounds)


def test_default_starts_and_bounds():
    np.testing.assert_array_equal(Rosenbrock().start, [-1.5, 2.0])
    assert Rosenbrock().bounds == ((-2.0, 2.0), (-1.0, 3.0))
    np.testing.assert_array_equal(Beale().start, [1.0, 1.5])
    assert Beale().bounds == ((-4.5, 4.5), (-4.5, 4.5))
    np.testing.assert_array_equal(Saddle().start, [1.5, 1e-3])
    assert Saddle().bounds == ((-2.0, 2.0), (-2.0, 2.0))


@pytest.mark.parametrize("key", KEYS)
def test_grid_shapes_and_values(key):
    objective = OBJECTIVES[key]()
    X, Y, Z = objective.grid(n=31)
    assert X.shape == Y.shape == Z.shape == (31, 31)
    (x0, x1), (y0, y1) = objective.bounds
    np.testing.assert_allclose(X[0], np.linspace(x0, x1, 31))
    np.testing.assert_allclose(Y[:, 0], np.linspace(y0, y1, 31))
    for i, j in [(0, 0), (3, 17), (30, 30), (12, 5)]:
        assert Z[i, j] == pytest.approx(objective.value([X[i, j], Y[i, j]]), rel=1e-14, abs=1e-14)
    assert objective.grid()[2].shape == (200, 200)


def test_grid_rejects_bad_n():
    with pytest.raises(ValueError, match="n=1"):
        Saddle().grid(1)
    with pytest.raises(TypeError, match="n=2.5"):
        Saddle().grid(2.5)


@pytest.mark.parametrize(
    "objective, text",
    [
        (Quadratic(), "Quadratic(curvatures=(1.0, 25.0), angle=0.0)"),
        (
            Quadratic(curvatures=(2, 3), angle=1, center=(1, -1)),
            "Quadratic(curvatures=(2.0, 3.0), angle=1.0, center=(1.0, -1.0))",
        ),
        (Rosenbrock(), "Rosenbrock(a=1.0, b=100.0)"),
        (Beale(), "Beale()"),
        (Saddle(a=2, b=0.5), "Saddle(a=2.0, b=0.5)"),
    ],
)
def test_repr_shows_constructor_arguments(objective, text):
    assert repr(objective) == text


def test_registry_factories_and_names():
    assert set(OBJECTIVES) == {"quadratic", "rotated_quadratic", "rosenbrock", "beale", "saddle",
                               "line_fit"}
    made = {key: factory() for key, factory in OBJECTIVES.items()}
    assert all(isinstance(obj, Objective) for obj in made.values())
    assert made["rotated_quadratic"].angle == pytest.approx(math.pi / 6)
    assert made["quadratic"].angle == 0.0
    assert made["quadratic"].name == "Elongated quadratic"
    names = [made[key].name for key in ("rosenbrock", "beale", "saddle", "line_fit")]
    assert names == ["Rosenbrock", "Beale", "Saddle", "Line fit (least squares)"]
    assert made["quadratic"] is not OBJECTIVES["quadratic"]()


def test_public_names():
    expected = {"OBJECTIVES", "Beale", "LinearRegression", "Noisy", "Objective", "Quadratic",
                "Rosenbrock", "Saddle", "minibatch_noise"}
    assert set(objectives.__all__) == expected
    assert all(hasattr(objectives, name) for name in expected)
    with pytest.raises(TypeError):
        Objective()


# --------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["value", "grad", "value_and_grad", "hessian_at", "__call__"])
@pytest.mark.parametrize(
    "w, error, match",
    [
        (np.zeros((4, 3)), ValueError, r"w .*shape \(4, 3\)"),
        ([1.0, 2.0, 3.0], ValueError, r"w .*shape \(3,\)"),
        (1.0, ValueError, r"w .*shape \(\)"),
        ([[1.0, 2.0], [3.0]], ValueError, "w"),
        ("ab", TypeError, "w='ab'"),
        (["1", "2"], TypeError, "w="),
        (None, TypeError, "w=None"),
        ([1 + 1j, 2.0], TypeError, "w="),
        ([True, False], TypeError, "w="),
    ],
)
def test_bad_points_are_rejected(method, w, error, match):
    objective = Rosenbrock()
    with pytest.raises(error, match=match):
        getattr(objective, method)(w)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: Quadratic(curvatures=(1.0, -2.0)), ValueError, r"curvatures=\(1.0, -2.0\)"),
        (lambda: Quadratic(curvatures=(0.0, 1.0)), ValueError, r"curvatures=\(0.0, 1.0\)"),
        (lambda: Quadratic(curvatures=(1.0, math.inf)), ValueError, "curvatures="),
        (lambda: Quadratic(curvatures=(1.0, 2.0, 3.0)), ValueError, "curvatures="),
        (lambda: Quadratic(curvatures="ab"), TypeError, "curvatures='ab'"),
        (lambda: Quadratic(angle=math.nan), ValueError, "angle=nan"),
        (lambda: Quadratic(angle=math.inf), ValueError, "angle=inf"),
        (lambda: Quadratic(angle="0.5"), TypeError, "angle='0.5'"),
        (lambda: Quadratic(angle=(0.1, 0.2)), TypeError, "angle="),
        (lambda: Quadratic(center=(1.0, 2.0, 3.0)), ValueError, r"center=\(1.0, 2.0, 3.0\)"),
        (lambda: Quadratic(center=(1.0,)), ValueError, "center="),
        (lambda: Quadratic(center=(0.0, math.nan)), ValueError, "center="),
        (lambda: Rosenbrock(b=0.0), ValueError, "b=0.0"),
        (lambda: Rosenbrock(a=math.inf), ValueError, "a=inf"),
        (lambda: Rosenbrock(a=None), TypeError, "a=None"),
        (lambda: Saddle(a=0.0), ValueError, "a=0.0"),
        (lambda: Saddle(a=-1.0), ValueError, "a=-1.0"),
        (lambda: Saddle(b=-0.5), ValueError, "b=-0.5"),
        (lambda: Saddle(b=math.nan), ValueError, "b=nan"),
        (lambda: Saddle(a="1"), TypeError, "a='1'"),
    ],
)
def test_bad_parameters_are_rejected(make, error, match):
    with pytest.raises(error, match=match):
        make()


# --------------------------------------------------------------------------
# LinearRegression: the (W, b) bowl of a least-squares line fit
# --------------------------------------------------------------------------


def test_line_fit_value_and_gradient_equal_the_data_formulas():
    """f(W, b) = ½ mean((W x + b − y)²), dW = mean(r x), db = mean(r), computed from the data."""
    from optlib.objectives import LinearRegression

    f = LinearRegression()
    rng = np.random.default_rng(3)
    for w in rng.uniform(-3, 3, size=(20, 2)):
        r = w[0] * f.x + w[1] - f.y
        assert float(f.value(w)) == pytest.approx(0.5 * np.mean(r**2), rel=1e-12)
        np.testing.assert_allclose(f.grad(w), [np.mean(r * f.x), np.mean(r)], rtol=1e-10,
                                   atol=1e-12)


def test_line_fit_minimum_is_the_least_squares_line():
    """The minimum equals numpy's polyfit line; min_value is the half mean squared residual."""
    from optlib.objectives import LinearRegression

    x = np.array([1.0, 2.0, 3.0, 4.0, 6.0])
    y = np.array([2.9, 5.2, 6.8, 9.1, 13.0])
    f = LinearRegression(x, y)
    slope, intercept = np.polyfit(x, y, 1)
    np.testing.assert_allclose(f.minimum, [slope, intercept], rtol=1e-10)
    residual = slope * x + intercept - y
    assert f.min_value == pytest.approx(0.5 * np.mean(residual**2), rel=1e-10)
    assert float(f.value(f.minimum)) == pytest.approx(f.min_value, rel=1e-10)
    np.testing.assert_allclose(f.grad(f.minimum), [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(f.hessian, [[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]],
                               rtol=1e-12)
    assert f.condition_number > 10  # uncentred inputs: an elongated bowl
    assert f.labels == ("$W$", "$b$")


@pytest.mark.parametrize("x, y, error", [
    ([1.0, 1.0, 1.0], [1.0, 2.0, 3.0], ValueError),     # one distinct x
    ([1.0, 2.0], [1.0, 2.0, 3.0], ValueError),          # lengths differ
    ([1.0, np.nan], [1.0, 2.0], ValueError),
    (["a", "b"], [1.0, 2.0], TypeError),
])
def test_line_fit_rejects_bad_data(x, y, error):
    """Bad data raise with a message naming x and y."""
    from optlib.objectives import LinearRegression

    with pytest.raises(error, match="x and y"):
        LinearRegression(x, y)



# --------------------------------------------------------------------------
# Noisy: reproducible gradient noise g = grad f(w) + sigma * xi_t
# --------------------------------------------------------------------------


def reference_xi(seed, step, shape):
    """The documented draw of step t, recomputed with plain numpy."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(step,))).standard_normal(
        shape)


def test_noisy_gradient_is_the_exact_gradient_plus_sigma_times_the_documented_draw():
    """grad(w, step=t) = grad f(w) + sigma * xi_t, xi_t from SeedSequence(seed, spawn_key=(t,));
    per-coordinate sigma; the value, Hessian, minimum and the rest are the wrapped objective's."""
    inner = Quadratic(curvatures=(2.0, 9.0), angle=0.4, center=(1.0, -2.0))
    sigma = np.array([0.5, 3.0])
    f = objectives.Noisy(inner, noise=sigma, seed=11)
    w = np.array([[0.3, -1.0], [2.0, 5.0], [-4.0, 0.5]])
    for step in (1, 2, 17):
        expected = inner.grad(w) + sigma * reference_xi(11, step, w.shape)
        np.testing.assert_array_equal(f.grad(w, step=step), expected)
        value, grad = f.value_and_grad(w, step=step)
        np.testing.assert_array_equal(grad, expected)
        np.testing.assert_array_equal(value, inner.value(w))
    np.testing.assert_array_equal(f.value(w), inner.value(w))
    np.testing.assert_array_equal(f(w), inner.value(w))
    np.testing.assert_array_equal(f.hessian_at(w), inner.hessian_at(w))
    np.testing.assert_array_equal(f.minimum, inner.minimum)
    np.testing.assert_array_equal(f.start, inner.start)
    assert (f.min_value, f.bounds, f.labels) == (inner.min_value, inner.bounds, inner.labels)
    # public attributes of the wrapped objective read through
    np.testing.assert_array_equal(f.hessian, inner.hessian)
    np.testing.assert_array_equal(f.eigenvectors, inner.eigenvectors)
    assert f.curvatures == (2.0, 9.0) and f.condition_number == 4.5
    assert f.objective is inner
    with pytest.raises(AttributeError, match="_hessian_matrix"):
        _ = f._hessian_matrix          # private names are not delegated
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = f.no_such_thing


def test_noisy_float32_points_give_float32_gradients():
    f = objectives.Noisy(Rosenbrock(), noise=0.1, seed=0)
    w = np.array([0.5, 0.5], dtype=np.float32)
    g = f.grad(w, step=3)
    assert g.dtype == np.float32
    expected = Rosenbrock().grad(w).astype(np.float64) + 0.1 * reference_xi(0, 3, (2,))
    np.testing.assert_allclose(g, expected, rtol=1e-6)


def test_noisy_draw_shapes_independent_common_and_replicas():
    """common=False: every point its own noise; common=True: one draw (2,) shared by all points;
    replicas=R: one draw (R, 2) shared along the axes before the last batch axis."""
    inner = Quadratic()
    w = np.zeros((3, 4, 2))          # the minimum: the gradient is the noise alone
    own = objectives.Noisy(inner, 1.0, seed=5).grad(w, step=2)
    np.testing.assert_array_equal(own, reference_xi(5, 2, (3, 4, 2)))
    assert len({tuple(row) for row in own.reshape(-1, 2)}) == 12
    shared = objectives.Noisy(inner, 1.0, seed=5, common=True).grad(w, step=2)
    np.testing.assert_array_equal(shared, np.broadcast_to(reference_xi(5, 2, (2,)), (3, 4, 2)))
    reps = objectives.Noisy(inner, 1.0, seed=5, common=True, replicas=4).grad(w, step=2)
    np.testing.assert_array_equal(reps, np.broadcast_to(reference_xi(5, 2, (4, 2)), (3, 4, 2)))
    # a per-configuration sigma (K, 1) scales each row's noise
    sigma = np.array([[0.0], [1.0], [2.5]])
    g = objectives.Noisy(inner, sigma, seed=5, common=True).grad(np.zeros((3, 2)), step=4)
    np.testing.assert_array_equal(g, sigma * reference_xi(5, 4, (2,)))


def test_noisy_is_reproducible_by_its_seed():
    w = np.zeros((50, 2))
    a = objectives.Noisy(Quadratic(), 0.7, seed=3)
    b = objectives.Noisy(Quadratic(), 0.7, seed=3)
    np.testing.assert_array_equal(a.grad(w, step=9), b.grad(w, step=9))
    np.testing.assert_array_equal(a.grad(w, step=9), a.grad(w, step=9))
    assert not np.any(a.grad(w, step=9) == objectives.Noisy(Quadratic(), 0.7, seed=4).grad(
        w, step=9))
    assert not np.any(a.grad(w, step=9) == a.grad(w, step=10))


def test_noisy_stream_counts_steps_from_one_and_restarts():
    f = objectives.Noisy(Saddle(), noise=(0.2, 1.5), seed=8)
    w = np.array([[0.1, 0.2], [1.0, -0.3]])
    oracle = f.stream(w.shape)
    for step in range(1, 6):
        value, grad = oracle(w)
        np.testing.assert_array_equal(grad, f.grad(w, step=step))
        np.testing.assert_array_equal(value, Saddle().value(w))
    np.testing.assert_array_equal(f.stream(w.shape)(w)[1], f.grad(w, step=1))
    with pytest.raises(ValueError, match=r"shape \(2, 2\).*shape \(2,\)"):
        oracle(np.zeros(2))


def test_noisy_noise_has_mean_zero_variance_sigma_squared_and_no_correlation():
    """Over many draws each coordinate of (g - grad f)/sigma has mean 0 and variance 1 within
    4 standard errors; neighbouring steps, neighbouring runs and the two coordinates are
    uncorrelated within 4/sqrt(n)."""
    sigma = np.array([0.5, 2.0])
    f = objectives.Noisy(Quadratic(curvatures=(1.0, 4.0)), noise=sigma, seed=2024)
    runs, steps = 4000, 12
    w = np.zeros((runs, 2))
    noise = np.stack([f.grad(w, step=t) for t in range(1, steps + 1)])   # (steps, runs, 2)
    z = noise / sigma
    n = z[..., 0].size
    mean = z.mean(axis=(0, 1))
    var = z.var(axis=(0, 1), ddof=1)
    assert np.all(np.abs(mean) < 4 / math.sqrt(n)), mean
    assert np.all(np.abs(var - 1.0) < 4 * math.sqrt(2 / (n - 1))), var
    # the raw noise has standard deviation sigma per coordinate
    np.testing.assert_allclose(noise.std(axis=(0, 1)), sigma, rtol=4 * math.sqrt(0.5 / n))

    def corr(a, b):
        a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
        return float(a @ b / math.sqrt((a @ a) * (b @ b)))

    lag_steps = corr(z[1:], z[:-1])
    lag_runs = corr(z[:, 1:], z[:, :-1])
    coordinates = corr(z[..., 0], z[..., 1])
    for r, m in ((lag_steps, z[1:].size), (lag_runs, z[:, 1:].size), (coordinates, n)):
        assert abs(r) < 4 / math.sqrt(m), (lag_steps, lag_runs, coordinates)


def test_noisy_one_run_in_time_has_independent_steps():
    """One run (common=True, a single point) over 5000 steps: lag-1 and lag-2 autocorrelation of
    the noise within 4/sqrt(n), variance sigma^2 within 4 standard errors."""
    f = objectives.Noisy(Quadratic(), noise=1.5, seed=1, common=True)
    oracle = f.stream((2,))
    noise = np.stack([oracle(np.zeros(2))[1] for _ in range(5000)])
    z = noise / 1.5
    n = z.size
    assert abs(z.var(ddof=1) - 1.0) < 4 * math.sqrt(2 / (n - 1))
    for lag in (1, 2):
        a, b = z[lag:] - z.mean(), z[:-lag] - z.mean()
        r = float(np.sum(a * b) / math.sqrt(np.sum(a * a) * np.sum(b * b)))
        assert abs(r) < 4 / math.sqrt(a.size), (lag, r)


def test_noisy_zero_noise_is_the_exact_gradient():
    w = lattice(Beale(), 5)
    np.testing.assert_array_equal(objectives.Noisy(Beale(), 0.0, seed=1).grad(w, step=3),
                                  Beale().grad(w))


def test_noisy_is_immutable_and_keeps_its_own_copy_of_noise():
    sigma = np.array([1.0, 2.0])
    f = objectives.Noisy(Quadratic(), sigma, seed=1)
    sigma[0] = 100.0
    np.testing.assert_array_equal(f.noise, [1.0, 2.0])
    for name, value in (("noise", 3.0), ("seed", 2), ("objective", Beale()), ("common", True),
                        ("curvatures", (1.0, 2.0)), ("new_attribute", 1)):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(f, name, value)
    with pytest.raises(AttributeError, match="immutable"):
        del f.seed
    with pytest.raises(ValueError, match="read-only"):
        f.noise[0] = 5.0
    assert f.seed == 1 and f.noise.tolist() == [1.0, 2.0] and not f.common


def test_noisy_repr_and_name():
    f = objectives.Noisy(Quadratic(), 0.5, seed=3)
    assert repr(f) == ("Noisy(objective=Quadratic(curvatures=(1.0, 25.0), angle=0.0), noise=0.5, "
                       "seed=3)")
    assert f.name == "Elongated quadratic, noisy gradients (σ = 0.5)"
    g = objectives.Noisy(Rosenbrock(), (0.5, 2), seed=0, common=True, replicas=7)
    assert repr(g) == ("Noisy(objective=Rosenbrock(a=1.0, b=100.0), noise=[0.5, 2.0], seed=0, "
                       "common=True, replicas=7)")
    assert g.name == "Rosenbrock, noisy gradients (σ = (0.5, 2))"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"noise": -0.1}, ValueError, r"noise=-0\.1"),
        ({"noise": math.nan}, ValueError, "noise=nan"),
        ({"noise": math.inf}, ValueError, "noise=inf"),
        ({"noise": (1.0, -1.0)}, ValueError, r"noise=\(1\.0, -1\.0\)"),
        ({"noise": (1.0, 2.0, 3.0)}, ValueError, r"noise=\(1\.0, 2\.0, 3\.0\)"),
        ({"noise": "0.5"}, TypeError, "noise='0.5'"),
        ({"noise": True}, TypeError, "noise=True"),
        ({"noise": None}, TypeError, "noise=None"),
        ({"noise": 1.0, "seed": -1}, ValueError, "seed=-1"),
        ({"noise": 1.0, "seed": 1.5}, TypeError, "seed=1.5"),
        ({"noise": 1.0, "seed": True}, TypeError, "seed=True"),
        ({"noise": 1.0, "seed": "0"}, TypeError, "seed='0'"),
        ({"noise": 1.0, "common": 1}, TypeError, "common=1"),
        ({"noise": 1.0, "common": True, "replicas": 0}, ValueError, "replicas=0"),
        ({"noise": 1.0, "common": True, "replicas": 2.0}, TypeError, "replicas=2.0"),
        ({"noise": 1.0, "replicas": 3}, ValueError, "replicas=3.*common=False"),
    ],
)
def test_noisy_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        objectives.Noisy(Quadratic(), **kwargs)


def test_noisy_rejects_an_objective_that_is_not_one():
    with pytest.raises(TypeError, match="objective=None"):
        objectives.Noisy(None, 1.0)
    with pytest.raises(TypeError, match="noise-free objective, got objective=Noisy"):
        objectives.Noisy(objectives.Noisy(Quadratic(), 1.0), 1.0)


def re_shape(shape):
    """A shape as a regular expression (its parentheses escaped)."""
    return re.escape(str(shape))


def test_noisy_gradient_needs_a_valid_step_and_fitting_points():
    f = objectives.Noisy(Quadratic(), noise=[[1.0], [2.0], [3.0]], seed=0)
    w = np.zeros((3, 2))
    with pytest.raises(TypeError, match=r"step=t.*stream\(shape\)"):
        f.grad(w)
    with pytest.raises(TypeError, match="step=t"):
        f.value_and_grad(w)
    with pytest.raises(ValueError, match="step=0"):
        f.grad(w, step=0)
    with pytest.raises(TypeError, match="step=1.0"):
        f.grad(w, step=1.0)
    # noise (3, 1) must broadcast to the points' shape without enlarging it
    for shape in ((2,), (2, 2), (1, 2)):
        with pytest.raises(ValueError, match=rf"noise of shape \(3, 1\).*points of shape "
                                             rf"{re_shape(shape)}"):
            f.grad(np.zeros(shape), step=1)
        with pytest.raises(ValueError, match="noise of shape"):
            f.stream(shape)
    reps = objectives.Noisy(Quadratic(), 1.0, common=True, replicas=4)
    with pytest.raises(ValueError, match=r"replicas=4 .*length 4.*shape \(3, 2\)"):
        reps.grad(np.zeros((3, 2)), step=1)
    with pytest.raises(ValueError, match=r"replicas=4"):
        reps.grad(np.zeros(2), step=1)
    with pytest.raises(TypeError, match="shape="):
        f.stream([3, 2])
    with pytest.raises(ValueError, match=r"shape=\(3, 3\)"):
        f.stream((3, 3))
    with pytest.raises(ValueError, match=r"w .*shape \(3, 3\)"):
        f.grad(np.zeros((3, 3)), step=1)
    assert f.grad(w, step=1).shape == (3, 2)


def test_minibatch_noise_is_sigma_over_root_batch_size():
    assert objectives.minibatch_noise(3.0, 9) == 1.0
    assert isinstance(objectives.minibatch_noise(3.0, 9), float)
    sizes = np.array([[1], [2], [32], [1000]])
    np.testing.assert_allclose(objectives.minibatch_noise(2.0, sizes),
                               2.0 / np.sqrt(sizes.astype(float)), rtol=1e-15)
    np.testing.assert_allclose(objectives.minibatch_noise([1.0, 4.0], 4), [0.5, 2.0])
    # the mean of B independent draws of standard deviation sigma: checked by simulation
    rng = np.random.default_rng(0)
    means = rng.normal(0.0, 2.0, size=(20000, 16)).mean(axis=1)
    assert abs(means.std(ddof=1) / objectives.minibatch_noise(2.0, 16) - 1) < 4 / math.sqrt(
        2 * 20000)


@pytest.mark.parametrize(
    "noise, batch_size, error, match",
    [
        (1.0, 0, ValueError, "batch_size"),
        (1.0, 2.0, TypeError, "batch_size=2.0"),
        (1.0, True, TypeError, "batch_size=True"),
        (-1.0, 4, ValueError, "noise=-1.0"),
        ("1", 4, TypeError, "noise='1'"),
        ((1.0, 2.0, 3.0), (1, 2), ValueError, "do not broadcast"),
    ],
)
def test_minibatch_noise_rejects_bad_arguments(noise, batch_size, error, match):
    with pytest.raises(error, match=match):
        objectives.minibatch_noise(noise, batch_size)
