"""Chapter 1's exercise checks.

Every expected answer (computed by optlib in ``optlib/exercises/ch01.py``) is compared
with an answer worked out here independently, with plain numpy loops and closed forms;
the right answer passes, and the typical wrong ones fail: the estimate where the exact
count is asked, the other sign, the swapped order, the coefficient taken for the
curvature, the diagonal taken for the eigenvalues, one step too few or too many.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from optlib.exercises import check, exercises
from optlib.exercises import ch01

IDS = ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7")


# --------------------------------------------------------------------------- by hand
def gd_loop(grad, w0, lr, steps):
    """Plain gradient descent, w_t = w_{t-1} − α ∇f(w_{t-1}), returning every point."""
    w = np.array(w0, dtype=float)
    points = [w.copy()]
    for _ in range(steps):
        w = w - lr * grad(w)
        points.append(w.copy())
    return np.array(points)


def line_data():
    """The default data of LinearRegression(), drawn again here (seed 0)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(1.0, 4.0, 40)
    y = 1.5 * x + 2.0 + rng.normal(0.0, 0.5, 40)
    return x, y


def line_fit_by_hand(steps, lr=0.1):
    x, y = line_data()
    W, b = -1.0, -1.0
    for _ in range(steps):
        r = W * x + b - y
        W, b = W - lr * np.mean(r * x), b - lr * np.mean(r)
    return W, b


def eig2(a, b, c):
    """Eigenvalues of the symmetric matrix [[a, b], [b, c]], smaller first."""
    mid, root = (a + c) / 2, math.sqrt(((a - c) / 2) ** 2 + b * b)
    return mid - root, mid + root


def steps_by_loop(rho, tol):
    """Smallest t with ρᵗ ≤ tol, by multiplying."""
    t, x = 0, 1.0
    while x > tol:
        x *= rho
        t += 1
    return t


def _stopping_step(lr, lam, w0, tol, steps=5000):
    lam = np.asarray(lam)
    pts = gd_loop(lambda w: lam * w, w0, lr, steps)
    d = np.linalg.norm(pts, axis=1)
    return int(np.argmax(d <= tol * d[0]))


X, Y = line_data()
_H = (np.mean(X * X), np.mean(X), 1.0)
_LO, _HI = eig2(*_H)
_VAR = float(np.mean((X - X.mean()) ** 2))

RIGHT = {
    "1.1": (1 - 0.11 * 2, 1 - 0.11 * 15),                      # (0.78, −0.65)
    "1.2": 2 / 44,                                             # λ = (4, 44): 2/λ_max
    "1.3": "a",                                                # rates 0.928 vs 0.98
    "1.4": (2 / 8.5, 7.5 / 8.5),                               # only λ_min, λ_max count
    "1.5": math.ceil(math.log(1e4) / -math.log(1 - 1 / 20)),   # ⌈179.56⌉ = 180
    "1.6": line_fit_by_hand(30),
    "1.7": (_HI / _LO, (_HI / _LO) / (max(_VAR, 1.0) / min(_VAR, 1.0))),
}

WRONG = {
    "1.1": [(0.78, 0.65),                                      # absolute values: the sign lost
            (-0.65, 0.78),                                     # swapped order
            (0.89, 0.175)],                                    # α·λ/2: curvature taken as coefficient
    "1.2": [2 / 22,                                            # the coefficient 22 taken for λ
            1 / 44,                                            # 1/λ_max: the step that lands in one
            2 / 4],                                            # the flat direction's limit
    "1.3": ["b", "same"],
    "1.4": [(7.5 / 8.5, 2 / 8.5),                              # swapped
            (2 / 10, 0.6),                                     # balancing the middle and the top
            (1 / 8, 1 - 0.5 / 8)],                             # α = 1/λ_max
    "1.5": [20 * math.log(1e4),                                # the estimate κ ln(1/tol) = 184.2
            184, 185,                                          # ... rounded either way
            10 * math.log(1e4), 93,                            # the estimate and count at α*
            179, 181, 179.56],                                 # off by one, not a whole number
    "1.6": [tuple(reversed(line_fit_by_hand(30))),             # (b, W)
            line_fit_by_hand(29), line_fit_by_hand(31),        # one step too few or too many
            (1.5777671, 1.9475885)],                           # the least-squares line itself
    "1.7": [(_H[0] / _H[2], (_H[0] / _H[2]) * _VAR),           # κ from the diagonal
            (_HI / _LO * _VAR, _HI / _LO),                     # swapped
            (_HI / _LO, 1 / _VAR),                             # κ centred instead of the factor
            (_HI / _LO, _HI / _LO / _VAR)],                    # κ centred taken as var(x)
}


# --------------------------------------------------------------------------- the checks
def test_every_exercise_of_chapter_1_is_tested_here():
    assert sorted(i for i in exercises() if i.startswith("1.")) == list(IDS)
    assert set(RIGHT) == set(WRONG) == set(IDS)


@pytest.mark.parametrize("exercise_id", IDS)
def test_expected_answer_agrees_with_the_hand_computation(exercise_id):
    want = exercises()[exercise_id].expected()
    if isinstance(want, str):
        assert want == RIGHT[exercise_id]
    else:
        np.testing.assert_allclose(want, RIGHT[exercise_id], rtol=1e-9)


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_hand_computed_answer_passes(exercise_id):
    feedback = check(exercise_id, RIGHT[exercise_id])
    assert feedback.correct, feedback.message


@pytest.mark.parametrize("exercise_id, wrong",
                         [(i, w) for i in IDS for w in WRONG[i]])
def test_typical_wrong_answers_fail(exercise_id, wrong):
    feedback = check(exercise_id, wrong)
    assert not feedback.correct, (exercise_id, wrong)


def test_tolerances_are_tight():
    """A whole number is checked exactly; real numbers to at most 1e-3 relative."""
    for i in IDS:
        ex = exercises()[i]
        assert ex.rtol <= 1e-3 and ex.atol == 0.0, i
    assert exercises()["1.5"].rtol == 0.0
    # the 3rd significant digit matters: 0.0454 is not 1/22 = 0.04545...
    assert not check("1.2", 0.0454).correct
    assert check("1.2", 0.04545).correct


# --------------------------------------------------------------------------- simulations
def test_1_1_one_step_from_each_axis_multiplies_by_the_signed_factors():
    lam = np.array(ch01.FACTORS_CURVATURES)
    w1 = gd_loop(lambda w: lam * w, [1.0, 0.0], ch01.FACTORS_LR, 1)[1]
    w2 = gd_loop(lambda w: lam * w, [0.0, 1.0], ch01.FACTORS_LR, 1)[1]
    np.testing.assert_allclose((w1[0], w2[1]), RIGHT["1.1"], rtol=1e-12)
    assert w2[1] < 0 < w1[0]                      # W2 oscillates, W1 does not


def test_1_2_the_bowl_is_the_loss_and_its_limit_separates_convergence_from_divergence():
    grad = lambda w: np.array([4.0 * w[0], 44.0 * w[1]])       # ∇(2W1² + 22W2²)
    limit = RIGHT["1.2"]
    below = gd_loop(grad, [1.0, 1.0], 0.99 * limit, 3000)[-1]
    above = gd_loop(grad, [1.0, 1.0], 1.01 * limit, 3000)[-1]
    assert np.linalg.norm(below) < 1e-6 and np.linalg.norm(above) > 1e6
    from optlib.objectives import Quadratic
    q = Quadratic(curvatures=ch01.LIMIT_CURVATURES)
    w = np.array([0.3, -0.7])
    assert math.isclose(float(q.value(w)), 2 * w[0] ** 2 + 22 * w[1] ** 2, rel_tol=1e-12)


def test_1_3_counted_steps_by_a_plain_loop():
    start = [-8.0, 1.5]
    a = _stopping_step(0.9 * 2 / 25, (1.0, 25.0), start, 1e-6)
    b = _stopping_step(0.99 * 2 / 25, (1.0, 25.0), start, 1e-6)
    assert 0 < a < b                       # (a) gets there first, by a wide margin
    assert b > 2 * a


def test_1_4_the_grid_minimum_of_the_rate_is_at_the_balanced_point():
    lam = np.array(ch01.THREE_CURVATURES)
    alphas = np.linspace(0.01, 0.3, 290001)
    rates = np.max(np.abs(1 - np.outer(alphas, lam)), axis=1)
    k = int(np.argmin(rates))
    assert abs(alphas[k] - RIGHT["1.4"][0]) < 2e-6
    assert abs(rates[k] - RIGHT["1.4"][1]) < 1e-5
    # the middle curvature's factor is below the rate at α*: it never decides
    assert abs(1 - RIGHT["1.4"][0] * 2.0) < RIGHT["1.4"][1]


def test_1_5_a_run_from_the_slow_axis_needs_exactly_the_count():
    count = steps_by_loop(1 - 1 / 20, 1e-4)
    assert count == RIGHT["1.5"] == 180
    assert _stopping_step(1 / 20, (1.0, 20.0), [1.0, 0.0], 1e-4) == count
    # the estimate is more than 4 steps off: no rounding of it passes
    assert 20 * math.log(1e4) - count > 4


def test_1_6_the_objective_gradient_is_the_hand_written_one():
    from optlib.objectives import LinearRegression
    line = LinearRegression()
    np.testing.assert_array_equal(line.x, X)
    np.testing.assert_array_equal(line.y, Y)
    w = np.array([0.4, -1.3])
    r = w[0] * X + w[1] - Y
    np.testing.assert_allclose(line.grad(w), [np.mean(r * X), np.mean(r)], rtol=1e-10)
    # 29 or 31 steps differ from 30 by far more than the tolerance
    assert abs(line_fit_by_hand(29)[1] / RIGHT["1.6"][1] - 1) > 1e-2


def test_1_7_eigenvalues_by_numpy_and_centring_keeps_the_slope():
    from optlib.objectives import LinearRegression
    H = np.array([[_H[0], _H[1]], [_H[1], 1.0]])
    lo, hi = np.linalg.eigvalsh(H)
    np.testing.assert_allclose(hi / lo, RIGHT["1.7"][0], rtol=1e-10)
    line = LinearRegression()
    centred = LinearRegression(x=X - X.mean(), y=Y)
    # the same line: the slope is unchanged, the intercept moves by W·mean(x)
    np.testing.assert_allclose(centred.minimum[0], line.minimum[0], rtol=1e-10)
    np.testing.assert_allclose(centred.minimum[1], line.minimum[1] + line.minimum[0] * X.mean(),
                               rtol=1e-10)
