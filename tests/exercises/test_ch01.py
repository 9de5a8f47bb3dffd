"""Chapter 1's exercise checks: right answers pass, wrong and malformed ones fail politely,
and every expected answer agrees with an independent computation (mostly a simulation
with ``optlib.run``)."""

from __future__ import annotations

import math

import numpy as np

from optlib import GradientDescent, run
from optlib.exercises import check, exercises
from optlib.exercises import ch01
from optlib.objectives import Quadratic

IDS = ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6")

# Answers worked out by hand from the formulas of the chapter (not by optlib).
RIGHT = {
    "1.1": 2 / 25,                                   # 2 / λ_max
    "1.2": (abs(1 - 0.07 * 1), abs(1 - 0.07 * 25)),  # (0.93, 0.75)
    "1.3": (2 / 26, 24 / 26),                        # 2/(λmin+λmax), (κ−1)/(κ+1)
    "1.4": math.ceil(math.log(1e6) / math.log(101 / 99)),   # 691
    "1.5": "oscillating",                            # 1 − 0.05·25 = −0.25
    "1.6": "same",                                   # a rotation keeps the eigenvalues
}


def test_first_exercise_is_the_stability_limit_of_the_default_bowl():
    assert check("1.1", 0.08).correct
    assert str(check("1.1", 0.08)) == "✔ Exercise 1.1: correct."


def test_numeric_answers_accept_small_rounding():
    assert check("1.1", 0.0800).correct
    assert check("1.2", [0.93, 0.75]).correct
    assert check("1.2", np.array([0.93, 0.75])).correct
    assert check("1.3", (0.0769, 0.9231)).correct
    # 1.4 accepts the estimate κ/2 · ln(1/tol) as well as the exact count.
    assert check("1.4", 100 / 2 * math.log(1e6)).correct
    assert not check("1.2", (0.75, 0.93)).correct      # order matters: W1 first


# --------------------------------------------------------------------------- independent checks


def test_1_1_simulation_just_below_the_limit_converges_just_above_diverges():
    bowl = Quadratic()
    limit = exercises()["1.1"].expected()
    lrs = np.array([0.99 * limit, 1.01 * limit])[:, None]
    traj = run(GradientDescent(lr=lrs), bowl, bowl.start, 2000)
    d = traj.distances()
    assert not traj.diverged[0] and d[-1, 0] < 1e-6 * d[0, 0]
    assert traj.diverged[1]


def test_1_2_one_step_from_each_axis_shrinks_by_the_factors():
    bowl = Quadratic()
    w0 = np.array([[1.0, 0.0], [0.0, 1.0]])            # on the W1 axis, on the W2 axis
    traj = run(GradientDescent(lr=ch01.FACTORS_LR), bowl, w0, 1)
    measured = (abs(traj.points[1, 0, 0]), abs(traj.points[1, 1, 1]))
    np.testing.assert_allclose(exercises()["1.2"].expected(), measured, rtol=1e-12)


def test_1_3_best_learning_rate_minimises_the_simulated_rate():
    bowl = Quadratic()
    lrs = np.linspace(0.060, 0.079, 191)                 # step 1e-4
    traj = run(GradientDescent(lr=lrs[:, None]), bowl, bowl.start, 400)
    measured = traj.rate(skip=50)
    best_lr, best_rate = exercises()["1.3"].expected()
    assert abs(lrs[np.nanargmin(measured)] - best_lr) <= 2e-4
    assert abs(np.nanmin(measured) - best_rate) <= 2e-3


def test_1_4_counted_steps_of_a_simulation_agree():
    curvatures, tol = ch01.STEPS_CURVATURES, ch01.STEPS_TOL
    bowl = Quadratic(curvatures=curvatures)
    lr = 2 / (curvatures[0] + curvatures[1])
    expected = exercises()["1.4"].expected()
    traj = run(GradientDescent(lr=lr), bowl, bowl.start, int(expected) + 20)
    d = traj.distances()
    assert int(np.argmax(d <= tol * d[0])) == expected


def test_1_5_simulated_w2_flips_sign_and_shrinks():
    bowl = Quadratic()
    traj = run(GradientDescent(lr=ch01.REGIME_LR), bowl, [0.0, 1.5], 10)
    w2 = traj.points[:, 1]
    assert np.all(np.sign(w2[1:]) == -np.sign(w2[:-1]))
    assert np.all(np.abs(w2[1:]) < np.abs(w2[:-1]))
    assert exercises()["1.5"].expected() == "oscillating"


def test_1_6_rotated_bowl_has_the_same_limit_by_simulation():
    rotated = Quadratic(angle=ch01.ROTATION)
    lrs = np.array([0.99 * 0.08, 1.01 * 0.08])[:, None]
    traj = run(GradientDescent(lr=lrs), rotated, rotated.start, 2000)
    assert not traj.diverged[0] and traj.diverged[1]
    # ... and the closed form for the eigenvalues of a symmetric 2x2 matrix agrees.
    (a, b), (_, c) = rotated.hessian
    top = (a + c) / 2 + math.sqrt(((a - c) / 2) ** 2 + b * b)
    assert math.isclose(2 / top, 0.08, rel_tol=1e-12)
    assert exercises()["1.6"].expected() == "same"


def test_hand_computed_answers_pass():
    """The answers worked out by hand above are accepted by the checks (computed by optlib)."""
    for exercise_id, answer in RIGHT.items():
        assert check(exercise_id, answer).correct, exercise_id
