"""Chapter 4's exercise checks: right answers pass, wrong and malformed ones fail politely,
and every expected answer agrees with an independent computation (Adam's equations written
out by hand here, or a simulation with ``optlib.run``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optlib import Adam, run
from optlib.exercises import check, exercises
from optlib.exercises import ch04
from optlib.objectives import Quadratic

IDS = ("4.1", "4.2", "4.3", "4.4", "4.5", "4.6")


def _hand_adam_steps(grads, lr=1.0, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam's steps −Δw for a sequence of scalar gradients, from the equations of the chapter."""
    m = v = 0.0
    steps = []
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        steps.append(lr * m_hat / (math.sqrt(v_hat) + eps))
    return steps


# Answers worked out by hand from the formulas of the chapter (not by optlib).
RIGHT = {
    "4.1": (1 - 0.01 * 0.003 / (0.003 + 1e-8), 1 + 0.01 * 40 / (40 + 1e-8)),   # ≈ (0.99, 1.01)
    "4.2": (1 - 0.9 ** 10) / math.sqrt(1 - 0.999 ** 10),                      # ≈ 6.528
    "4.3": 1e-9 / (1e-9 + 1e-8),                                              # 1/11
    "4.4": (3 * 1 / 1.2, 3 * 100 / 100.2),                                    # λᵢcᵢ/(λᵢ + λ)
    "4.5": "amsgrad",
    "4.6": 0.1 / math.sqrt(0.001 / (1 - 0.999 ** 1001)),                      # ≈ 2.515
}


def test_rounded_answers_pass():
    assert check("4.1", (0.99, 1.01)).correct
    assert check("4.2", 6.528).correct
    assert check("4.3", 1 / 11).correct
    assert check("4.4", [2.5, 2.994]).correct
    assert check("4.6", 2.515).correct
    assert not check("4.4", (2.994, 2.5)).correct        # order matters: W1 first


# --------------------------------------------------------------------------- independent checks


def test_4_1_equals_the_hand_written_first_step():
    w0, g = np.array(ch04.FIRST_W), np.array(ch04.FIRST_GRAD)
    hand = [w0[i] - _hand_adam_steps([g[i]], lr=ch04.FIRST_LR)[0] for i in range(2)]
    np.testing.assert_allclose(exercises()["4.1"].expected(), hand, rtol=1e-12)


def test_4_2_ratio_of_hand_written_uncorrected_and_corrected_steps():
    t = ch04.UNCORRECTED_T
    corrected = _hand_adam_steps([1.0] * t, eps=0.0)[-1]
    m, v = 1 - 0.9 ** t, 1 - 0.999 ** t                 # the raw EMAs of a constant 1
    uncorrected = m / math.sqrt(v)
    assert exercises()["4.2"].expected() == pytest.approx(uncorrected / corrected, rel=1e-10)


def test_4_3_and_4_6_agree_with_the_hand_written_adam():
    assert exercises()["4.3"].expected() == pytest.approx(
        _hand_adam_steps([ch04.TINY_GRAD])[0], rel=1e-10)
    silent = [0.0] * ch04.SILENT_STEPS + [1.0]
    assert exercises()["4.6"].expected() == pytest.approx(_hand_adam_steps(silent)[-1],
                                                          rel=1e-10)


def test_4_4_a_long_adam_run_with_l2_ends_at_the_answer():
    bowl = Quadratic(curvatures=ch04.DECAY_CURVATURES, center=ch04.DECAY_CENTER)
    traj = run(Adam(lr=0.02, weight_decay=ch04.DECAY_LAMBDA), bowl, [0.0, 0.0], 3000)
    np.testing.assert_allclose(traj.final, exercises()["4.4"].expected(), rtol=1e-6)


def test_4_5_adam_ends_at_plus_one_with_a_hand_written_projected_loop():
    C = ch04.REDDI_C
    beta2 = 1 / (1 + C * C)
    x, v = 0.0, 0.0
    for t in range(1, 3001):
        g = C if t % 3 == 1 else -1.0
        v = beta2 * v + (1 - beta2) * g * g
        step = g / (math.sqrt(v / (1 - beta2 ** t)) + 1e-8)    # β₁ = 0: m̂ = g
        x = min(1.0, max(-1.0, x - 0.5 / math.sqrt(t) * step))
    assert x > 0.99
    assert exercises()["4.5"].expected() == "amsgrad"


def test_hand_computed_answers_pass():
    """The answers worked out by hand above are accepted by the checks (computed by optlib)."""
    for exercise_id, answer in RIGHT.items():
        assert check(exercise_id, answer).correct, exercise_id
