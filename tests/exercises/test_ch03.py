"""Chapter 3's exercise checks: right answers pass, wrong and malformed ones fail politely,
and every expected answer agrees with an independent computation (explicit optimizer steps,
a simulation with ``optlib.run``, or a measurement written out here)."""

from __future__ import annotations

import math

import numpy as np

from optlib import Adagrad, GradientDescent, RMSprop, run
from optlib.exercises import check, exercises
from optlib.exercises import ch03
from optlib.objectives import Quadratic

IDS = ("3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7")

# Answers worked out by hand from the formulas of the chapter (not by optlib), except 3.7,
# a count that only a simulation gives (see test_3_7 for the measurement it is checked by).
RIGHT = {
    "3.1": (0.1 / math.sqrt(100), 0.1 / (math.sqrt(100) * 2.0)),     # (0.01, 0.005)
    "3.2": (0.01 / math.sqrt(1 - 0.99), 0.01 / math.sqrt(1 - 0.99 ** 100)),
    "3.3": (2 / 1.0, 2 / 25.0),                                      # 2/λᵢ
    "3.4": 1e-8 ** 2,
    "3.5": 50 / 1000,
    "3.6": "aligned",
    "3.7": 269,
}


def test_numeric_answers_accept_rounding_and_order_matters():
    assert check("3.1", (0.01, 0.005)).correct
    assert check("3.2", (0.1, 0.01256)).correct
    assert check("3.3", np.array([2.0, 0.08])).correct
    assert check("3.4", 1.0e-16).correct
    assert check("3.5", 0.05).correct
    assert check("3.7", 270).correct                       # within 1 %
    assert not check("3.3", (0.08, 2.0)).correct            # W1 first, then W2
    assert not check("3.1", (0.005, 0.01)).correct          # length first


# --------------------------------------------------------------------------- independent checks


def _step_lengths(opt, grad, steps):
    w = np.zeros(1)
    lengths = []
    for _ in range(steps):
        before = w.copy()
        opt.step(w, np.array([grad]))
        lengths.append(abs(w[0] - before[0]))
    return lengths


def test_3_1_adagrads_own_steps_agree():
    opt = Adagrad(lr=ch03.ADAGRAD_LR)
    length = _step_lengths(opt, ch03.ADAGRAD_GRAD, ch03.ADAGRAD_T)[-1]
    size = ch03.ADAGRAD_LR / (math.sqrt(opt.state["sum_sq"][0]) + opt.eps)
    np.testing.assert_allclose(exercises()["3.1"].expected(), (length, size), rtol=1e-9)


def test_3_2_rmsprops_own_steps_agree():
    lengths = _step_lengths(RMSprop(lr=ch03.BIAS_LR, beta=ch03.BIAS_BETA), -1.0, 100)
    np.testing.assert_allclose(exercises()["3.2"].expected(), (lengths[0], lengths[99]),
                               rtol=1e-9)


def test_3_3_a_long_run_ends_with_these_step_sizes():
    bowl = Quadratic()
    traj = run(RMSprop(lr=ch03.HOVER_LR), bowl, bowl.start, 3000)
    np.testing.assert_allclose(traj.effective_steps()[-1], exercises()["3.3"].expected(),
                               rtol=1e-6)
    # ... bouncing between ±α/2 in each coordinate
    np.testing.assert_allclose(np.abs(traj.points[-2:]), ch03.HOVER_LR / 2, rtol=1e-6)


def test_3_4_both_placements_cap_the_step_at_the_same_size():
    eps_inside = exercises()["3.4"].expected()
    assert math.isclose(1 / math.sqrt(0 + eps_inside), 1 / (0 + ch03.EPS_OUTSIDE), rel_tol=1e-9)


def test_3_5_rmsprop_with_a_huge_eps_follows_gradient_descent():
    bowl = Quadratic()
    lr = exercises()["3.5"].expected()
    a = run(RMSprop(lr=ch03.BIG_EPS_LR, eps=ch03.BIG_EPS), bowl, bowl.start, 200).points
    b = run(GradientDescent(lr=lr), bowl, bowl.start, 200).points
    assert np.abs(a - b).max() < 0.05 * np.abs(b).max()
    assert np.abs(a - b).max() > 0                         # close, not equal: √s is not 0


def _settle(angle):
    """Settling step measured here: the last step outside 1 %, plus one."""
    bowl = Quadratic(curvatures=ch03.SETTLE_CURVATURES, angle=angle)
    traj = run(RMSprop(lr=ch03.SETTLE_LR), bowl, bowl.start, ch03.SETTLE_STEPS)
    d = traj.distances()
    outside = np.flatnonzero(d > ch03.SETTLE_FRACTION * d[0])
    return outside[-1] + 1 if outside[-1] + 1 < d.size else math.inf


def test_3_6_aligned_settles_sooner_by_measurement():
    assert _settle(0.0) < _settle(ch03.SETTLE_ANGLE)
    assert exercises()["3.6"].expected() == "aligned"


def test_3_7_settling_count_is_independent_of_the_curvatures():
    expected = exercises()["3.7"].expected()
    assert expected == _settle(0.0)
    # The same count on the default bowl (1, 25) and on (4, 9): the path does not depend on λ.
    for curvatures in ((1.0, 25.0), (4.0, 9.0)):
        bowl = Quadratic(curvatures=curvatures)
        d = run(RMSprop(lr=ch03.SETTLE_LR), bowl, bowl.start, ch03.SETTLE_STEPS).distances()
        outside = np.flatnonzero(d > ch03.SETTLE_FRACTION * d[0])
        assert outside[-1] + 1 == expected


def test_hand_computed_answers_pass():
    """The answers worked out by hand above are accepted by the checks (computed by optlib)."""
    for exercise_id, answer in RIGHT.items():
        assert check(exercise_id, answer).correct, exercise_id
