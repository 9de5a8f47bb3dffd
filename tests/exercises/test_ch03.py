"""Chapter 3's exercise checks: every expected answer (computed with optlib in
``optlib.exercises.ch03``) agrees with an answer worked out here independently — closed
forms and plain numpy loops, no optlib — the right answers pass, and the typical wrong
ones (the estimate where the exact value is asked, the other formula, swapped order) fail."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optlib.exercises import ch03, check, exercises

IDS = ("3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7")
LAM = np.array([1.0, 25.0])            # Quadratic(): curvatures along W1, W2
START = np.array([-8.0, 1.5])          # Quadratic()'s start


def rmsprop_loop(w0, lr, steps, beta=0.9, eps=1e-8, inside=False):
    """RMSprop on f = ½ Σ λᵢ wᵢ², written out with numpy; the points w_0 … w_steps."""
    w, s, points = np.array(w0, dtype=float), np.zeros(2), []
    points.append(w.copy())
    for _ in range(steps):
        g = LAM * w
        s = beta * s + (1 - beta) * g * g
        w = w - lr * g / (np.sqrt(s + eps) if inside else np.sqrt(s) + eps)
        points.append(w.copy())
    return np.array(points)


def loss(w):
    return 0.5 * float(np.sum(LAM * np.asarray(w) ** 2))


# --------------------------------------------------------------------------- independent answers
def answer_3_1():
    a, g, t = ch03.ADAGRAD_LR, abs(ch03.ADAGRAD_GRAD), ch03.ADAGRAD_T
    lengths = [a * g / (math.sqrt(k) * g + 1e-10) for k in range(1, t + 1)]   # s_k = k g²
    return lengths[-1], sum(lengths)


def answer_3_2(variant="right"):
    a, beta, eps = ch03.HAND_LR, ch03.HAND_BETA, ch03.HAND_EPS
    W, b = np.array(ch03.HAND_START["W"], dtype=float), float(ch03.HAND_START["b"])
    s_dW, s_db = np.zeros(2), 0.0
    for grads in ch03.HAND_GRADS:
        dW, db = np.array(grads["W"], dtype=float), float(grads["b"])
        if variant == "beta swapped":
            s_dW, s_db = (1 - beta) * s_dW + beta * dW ** 2, (1 - beta) * s_db + beta * db ** 2
        elif variant == "adagrad":
            s_dW, s_db = s_dW + dW ** 2, s_db + db ** 2
        else:
            s_dW, s_db = beta * s_dW + (1 - beta) * dW ** 2, beta * s_db + (1 - beta) * db ** 2
        if variant == "sign":
            W, b = W - a * np.sign(dW), b - a * np.sign(db)
        else:
            W, b = W - a * dW / (np.sqrt(s_dW) + eps), b - a * db / (math.sqrt(s_db) + eps)
    return W[0], W[1], b


def answer_3_3():
    a, beta, g = ch03.BIAS_LR, ch03.BIAS_BETA, ch03.BIAS_GRAD
    return tuple(a * g / (math.sqrt(1 - beta ** t) * g + 1e-8) for t in ch03.BIAS_STEPS)


def answer_3_4():
    """k ≥ ln((s_old − g²) / (g²(1/0.99² − 1))) / ln(1/β), from s_k = βᵏ s_old + (1 − βᵏ) g²."""
    beta, g = ch03.MEMORY_BETA, ch03.MEMORY_SMALL
    s_old = (1 - beta ** ch03.MEMORY_STEPS) * ch03.MEMORY_LARGE ** 2
    bound = math.log((s_old - g * g) / (g * g * (1 / ch03.MEMORY_FRACTION ** 2 - 1)))
    k = bound / math.log(1 / beta)
    assert abs(k - round(k)) > 0.05          # not borderline: ε (1e-8) cannot move it
    return math.ceil(k)


def answer_3_5():
    a = np.maximum(ch03.EPS_LR / 2 - ch03.EPS_EPS / LAM, 0.0)     # W1 converges, W2 bounces
    return 0.5 * float(np.sum(LAM * a ** 2))


def answer_3_6():
    # one step carries W across 2a: α λ a / √(λ²a² + ε) = 2a  ⇒  a = √(α²/4 − ε/λ²)
    return tuple(np.sqrt(ch03.INSIDE_LR ** 2 / 4 - ch03.INSIDE_EPS / LAM ** 2))


def answer_3_7():
    """Sign descent by hand: each coordinate walks by ±α toward 0 and then hops across it."""
    a = ch03.SIGN_LR
    w = START.copy()
    history = [w.copy()]
    for _ in range(max(ch03.SIGN_STEPS)):
        w = w - a * np.sign(w)               # sign(g) = sign(λ w)
        history.append(w.copy())
    return tuple(loss(history[t]) for t in ch03.SIGN_STEPS)


RIGHT = {"3.1": answer_3_1, "3.2": answer_3_2, "3.3": answer_3_3, "3.4": answer_3_4,
         "3.5": answer_3_5, "3.6": answer_3_6, "3.7": answer_3_7}


def test_every_exercise_is_registered_in_order():
    assert sorted(k for k in exercises() if k.startswith("3.")) == list(IDS)


@pytest.mark.parametrize("exercise_id", IDS)
def test_expected_answer_agrees_with_the_independent_one(exercise_id):
    want = np.atleast_1d(np.asarray(RIGHT[exercise_id](), dtype=float))
    got = np.atleast_1d(np.asarray(exercises()[exercise_id].expected(), dtype=float))
    # 1e-5: the hand answers of 3.7 ignore ε = 1e-8, which shifts sign descent's cycle by ~1e-6
    np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_independent_answer_passes(exercise_id):
    assert check(exercise_id, RIGHT[exercise_id]()).correct


def test_counts_are_exact_and_real_tolerances_tight():
    assert exercises()["3.4"].rtol == 0 and exercises()["3.4"].atol == 0
    assert all(exercises()[i].rtol <= 1e-3 for i in IDS)


# --------------------------------------------------------------------------- wrong answers fail
def test_3_1_the_estimates_fail():
    a, t = ch03.ADAGRAD_LR, ch03.ADAGRAD_T
    step, distance = answer_3_1()
    assert not check("3.1", (step, 2 * a * math.sqrt(t))).correct       # 2α√t
    assert not check("3.1", (distance, step)).correct                   # swapped
    assert not check("3.1", (step / abs(ch03.ADAGRAD_GRAD), distance)).correct   # step size


@pytest.mark.parametrize("variant", ["beta swapped", "adagrad", "sign"])
def test_3_2_wrong_updates_fail(variant):
    assert not check("3.2", answer_3_2(variant)).correct


def test_3_2_a_start_value_or_wrong_order_fails():
    W0, W1, b = answer_3_2()
    assert not check("3.2", (b, W0, W1)).correct
    assert not check("3.2", (*ch03.HAND_START["W"], ch03.HAND_START["b"])).correct


def test_3_3_the_steady_value_and_a_missing_root_fail():
    a, beta = ch03.BIAS_LR, ch03.BIAS_BETA
    assert not check("3.3", (a, a)).correct                                  # "≈ α"
    assert not check("3.3", tuple(a / (1 - beta ** t) for t in ch03.BIAS_STEPS)).correct
    assert not check("3.3", answer_3_3()[::-1]).correct


def test_3_4_the_equal_parts_estimate_and_neighbours_fail():
    beta = ch03.MEMORY_BETA
    equal = math.log(ch03.MEMORY_LARGE ** 2 / ch03.MEMORY_SMALL ** 2) / math.log(1 / beta)
    assert not check("3.4", round(equal)).correct
    k = answer_3_4()
    assert not check("3.4", k - 1).correct and not check("3.4", k + 1).correct
    assert not check("3.4", k + 0.4).correct


def test_3_5_the_default_eps_bounce_and_an_unclipped_formula_fail():
    assert not check("3.5", 0.5 * np.sum(LAM * (ch03.EPS_LR / 2 - 1e-8 / LAM) ** 2)).correct
    assert not check("3.5", 0.5 * np.sum(LAM * (ch03.EPS_LR / 2 - ch03.EPS_EPS / LAM) ** 2)).correct
    assert not check("3.5", 0.0).correct                                    # "ε = 1 converges"


def test_3_5_a_run_written_here_ends_there():
    points = rmsprop_loop(START, ch03.EPS_LR, ch03.EPS_STEPS, eps=ch03.EPS_EPS)
    assert math.isclose(loss(points[-1]), answer_3_5(), rel_tol=1e-9)
    assert abs(points[-1, 0]) < 1e-12 and math.isclose(abs(points[-1, 1]), 0.01, rel_tol=1e-9)


def test_3_6_the_outside_formula_and_half_alpha_fail():
    a = ch03.INSIDE_LR
    assert not check("3.6", tuple(a / 2 - ch03.INSIDE_EPS / LAM)).correct
    assert not check("3.6", (a / 2, a / 2)).correct
    assert not check("3.6", (answer_3_6()[0], a / 2)).correct               # a₂ ≈ α/2 only
    assert not check("3.6", answer_3_6()[::-1]).correct


def test_3_6_a_run_with_eps_inside_ends_there():
    points = rmsprop_loop(START, ch03.INSIDE_LR, 5000, eps=ch03.INSIDE_EPS, inside=True)
    np.testing.assert_allclose(np.abs(points[-2:]), np.tile(answer_3_6(), (2, 1)), rtol=1e-9)


def test_3_7_the_symmetric_bounce_and_swapped_order_fail():
    a = ch03.SIGN_LR
    symmetric = 0.5 * float(np.sum(LAM)) * (a / 2) ** 2
    assert not check("3.7", (symmetric, symmetric)).correct
    assert not check("3.7", answer_3_7()[::-1]).correct


def test_3_7_the_hand_walk_matches_rmsprop_with_beta_0():
    points = rmsprop_loop(START, ch03.SIGN_LR, 101, beta=0.0)
    np.testing.assert_allclose([loss(points[t]) for t in ch03.SIGN_STEPS], answer_3_7(),
                               rtol=1e-5)
