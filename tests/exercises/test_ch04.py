"""Chapter 4's exercise checks: every expected answer equals an independent computation
written out here (Adam's equations by hand in numpy, closed forms solved by hand), the right
answer passes, and the typical wrong answers fail: the estimate where an exact value is asked,
the uncorrected value, a missing correction, the other order, the ε-free limit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optlib.exercises import ch04, check, exercises

IDS = ("4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7")


def expected(exercise_id):
    return exercises()[exercise_id].expected()


def passes(exercise_id, answer) -> bool:
    return check(exercise_id, answer).correct


def hand_adam(params, grads, lr, beta1=0.9, beta2=0.999, eps=1e-8, correct1=True,
              correct2=True, l2=0.0, decoupled=0.0):
    """Adam's update written out for a dict of float arrays (Kingma & Ba's algorithm, with
    switches for the usual mistakes). Returns the new parameters; ``grads`` is a list of dicts
    or a function of the parameters."""
    p = {k: np.array(x, dtype=float) for k, x in params.items()}
    v = {k: np.zeros_like(x) for k, x in p.items()}
    s = {k: np.zeros_like(x) for k, x in p.items()}
    steps = len(grads) if isinstance(grads, list) else grads[1]
    for t in range(1, steps + 1):
        g_all = grads[t - 1] if isinstance(grads, list) else grads[0](p)
        for k in p:
            g = np.asarray(g_all[k], dtype=float) + l2 * p[k]
            p[k] = p[k] * (1 - lr * decoupled)
            v[k] = beta1 * v[k] + (1 - beta1) * g
            s[k] = beta2 * s[k] + (1 - beta2) * g * g
            v_hat = v[k] / (1 - beta1 ** t) if correct1 else v[k]
            s_hat = s[k] / (1 - beta2 ** t) if correct2 else s[k]
            p[k] = p[k] - lr * v_hat / (np.sqrt(s_hat) + eps)
    return p


def test_the_seven_exercises_are_registered_in_order():
    assert sorted(k for k in exercises() if k.startswith("4.")) == list(IDS)


# --------------------------------------------------------------------------- 4.1


def test_4_1_is_the_first_step_whose_total_weight_reaches_99_percent():
    beta, t, total = ch04.WEIGHT_BETA, 0, 0.0
    while total < ch04.WEIGHT_SHARE:               # total weight of g₁..g_t: add (1 − β)βᵗ⁻ᵏ
        t += 1
        total = beta * total + (1 - beta)          # the EMA of a constant 1
    assert expected("4.1") == t == 90
    assert passes("4.1", 90) and passes("4.1", 90.0) and passes("4.1", np.int64(90))


@pytest.mark.parametrize("wrong", [89, 91, 89.78,
                                   round(math.log(100) / (1 - 0.95)),      # the estimate, 92
                                   math.ceil(math.log(100) / (1 - 0.95))])  # 93
def test_4_1_neighbours_the_real_root_and_the_estimate_fail(wrong):
    assert not passes("4.1", wrong)


# --------------------------------------------------------------------------- 4.2


def test_4_2_equals_the_hand_computed_step_factor():
    b1, b2, t = ch04.FACTOR_BETA1, ch04.FACTOR_BETA2, ch04.FACTOR_T
    c_t = math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    assert expected("4.2") == pytest.approx(c_t, rel=1e-12)
    # and it is the ratio corrected/uncorrected step of a hand-written Adam (ε = 0)
    corrected = hand_adam({"w": 0.0}, [{"w": 2.0}] * t, lr=1.0, beta1=b1, beta2=b2, eps=0.0)
    uncorrected = hand_adam({"w": 0.0}, [{"w": 2.0}] * t, lr=1.0, beta1=b1, beta2=b2, eps=0.0,
                            correct1=False, correct2=False)
    step = lambda p, q: float(p["w"] - q["w"])        # noqa: E731 -- last step from the totals
    before = hand_adam({"w": 0.0}, [{"w": 2.0}] * (t - 1), lr=1.0, beta1=b1, beta2=b2, eps=0.0)
    before_u = hand_adam({"w": 0.0}, [{"w": 2.0}] * (t - 1), lr=1.0, beta1=b1, beta2=b2, eps=0.0,
                         correct1=False, correct2=False)
    assert step(corrected, before) / step(uncorrected, before_u) == pytest.approx(c_t, rel=1e-12)
    assert passes("4.2", c_t) and passes("4.2", 0.3362)


@pytest.mark.parametrize("wrong", [
    (1 - 0.8 ** 4) / math.sqrt(1 - 0.99 ** 4),       # its inverse, the uncorrected step 1/c_t
    (1 - 0.99 ** 4) / (1 - 0.8 ** 4),                # the root forgotten
    math.sqrt(1 - 0.8 ** 4) / (1 - 0.99 ** 4),       # β₁ and β₂ swapped
    math.sqrt(1 - 0.99 ** 3) / (1 - 0.8 ** 3),       # t − 1
    0.34,                                            # two digits: not to rtol 1e-4
])
def test_4_2_typical_wrong_answers_fail(wrong):
    assert not passes("4.2", wrong)


# --------------------------------------------------------------------------- 4.3


def test_4_3_b_moves_less_by_a_hand_written_adam():
    grads = [{"W": g, "b": g * ch04.SCALE_FACTOR} for g in ch04.SCALE_GRADS]
    end = hand_adam({"W": 0.0, "b": 0.0}, grads, lr=ch04.SCALE_LR)
    moved_w, moved_b = abs(float(end["W"])), abs(float(end["b"]))
    assert moved_b < moved_w * (1 - 1e-3)            # not "same" to 4 significant digits
    np.testing.assert_allclose(ch04.scaled_displacements(), (moved_w, moved_b), rtol=1e-12)
    assert expected("4.3") == "W"
    assert passes("4.3", "W") and passes("4.3", " w ")
    assert not passes("4.3", "same") and not passes("4.3", "b")


def test_4_3_without_eps_the_two_would_move_the_same():
    """The answer comes from ε alone: with ε = 0 the hand-written steps are equal."""
    grads = [{"W": g, "b": g * ch04.SCALE_FACTOR} for g in ch04.SCALE_GRADS]
    end = hand_adam({"W": 0.0, "b": 0.0}, grads, lr=ch04.SCALE_LR, eps=0.0)
    assert float(end["b"]) == pytest.approx(float(end["W"]), rel=1e-12)


# --------------------------------------------------------------------------- 4.4


def _impl(**mistake):
    params = {"W": ch04.IMPL_W0, "b": ch04.IMPL_B0}
    grads = [{"W": g_w, "b": g_b} for g_w, g_b in ch04.IMPL_GRADS]
    h = ch04.IMPL_HYPER
    end = hand_adam(params, grads, lr=h["lr"], beta1=h["beta1"], beta2=h["beta2"], eps=h["eps"],
                    **mistake)
    return (float(end["W"][0]), float(end["W"][1]), float(end["b"]))


def test_4_4_equals_the_hand_written_update_on_the_dict():
    right = _impl()
    np.testing.assert_allclose(expected("4.4"), right, rtol=1e-12)
    assert passes("4.4", right) and passes("4.4", list(right)) and passes("4.4", np.array(right))


@pytest.mark.parametrize("mistake", [
    {"correct1": False, "correct2": False},          # no bias correction
    {"correct1": False},                             # only s corrected
    {"correct2": False},                             # only v corrected
    {"beta1": 0.99, "beta2": 0.8},                   # β₁ and β₂ swapped
])
def test_4_4_a_mistaken_update_fails(mistake):
    if "beta1" in mistake:
        params = {"W": ch04.IMPL_W0, "b": ch04.IMPL_B0}
        grads = [{"W": g_w, "b": g_b} for g_w, g_b in ch04.IMPL_GRADS]
        end = hand_adam(params, grads, lr=ch04.IMPL_HYPER["lr"], **mistake)
        answer = (end["W"][0], end["W"][1], end["b"])
    else:
        answer = _impl(**mistake)
    assert not passes("4.4", answer)


def test_4_4_other_order_two_steps_and_rounded_answers_fail():
    w1, w2, b = _impl()
    assert not passes("4.4", (b, w1, w2))            # the bias first
    assert not passes("4.4", (w2, w1, b))            # the weights swapped
    params = {"W": ch04.IMPL_W0, "b": ch04.IMPL_B0}
    two = hand_adam(params, [{"W": g_w, "b": g_b} for g_w, g_b in ch04.IMPL_GRADS[:2]],
                    lr=0.05, beta1=0.8, beta2=0.99)
    assert not passes("4.4", (two["W"][0], two["W"][1], two["b"]))   # one step short
    assert not passes("4.4", (round(w1, 3), round(w2, 3), round(b, 3)))


# --------------------------------------------------------------------------- 4.5


def test_4_5_rest_points_and_hand_written_runs_say_w2():
    curv, centre = np.array(ch04.DECAY_CURVATURES), np.array(ch04.DECAY_CENTER)
    delta = ch04.DECAY_DELTA
    l2_rest = curv * centre / (curv + delta)                 # minimum of f + δ/2 |w|²
    adamw_rest = np.clip(centre, -1 / delta, 1 / delta)
    assert adamw_rest[1] < l2_rest[1] and adamw_rest[0] > l2_rest[0]

    def grad(p):                                             # ∇f of the diagonal quadratic
        return {"w": curv * (p["w"] - centre)}
    l2 = hand_adam({"w": [0.0, 0.0]}, (grad, ch04.DECAY_STEPS), lr=ch04.DECAY_LR, l2=delta)["w"]
    adamw = hand_adam({"w": [0.0, 0.0]}, (grad, ch04.DECAY_STEPS), lr=ch04.DECAY_LR,
                      decoupled=delta)["w"]
    np.testing.assert_allclose(l2, l2_rest, rtol=1e-9)       # L2 has come to rest
    assert abs(adamw[1]) < abs(l2[1]) and abs(adamw[0]) > abs(l2[0])
    ends = ch04.decay_ends()
    np.testing.assert_allclose(ends[0], l2, rtol=1e-9)
    np.testing.assert_allclose(ends[1], adamw, rtol=1e-9)
    assert expected("4.5") == "W2"
    assert passes("4.5", "W2") and passes("4.5", "w2")
    for wrong in ("W1", "both", "neither"):
        assert not passes("4.5", wrong)


# --------------------------------------------------------------------------- 4.6


def test_4_6_equals_the_cauchy_schwarz_bound_and_no_sequence_exceeds_it():
    b1, b2 = ch04.LONG_BETA1, ch04.LONG_BETA2
    bound = (1 - b1) / math.sqrt((1 - b2) * (1 - b1 ** 2 / b2))
    assert expected("4.6") == pytest.approx(bound, rel=1e-8)

    def ratio(grads):                                         # raw |v_t|/√s_t, by hand
        v = s = 0.0
        for g in grads:
            v, s = b1 * v + (1 - b1) * g, b2 * s + (1 - b2) * g * g
        return abs(v) / math.sqrt(s)

    rng = np.random.default_rng(4)
    for _ in range(200):                                      # random, growing, sparse sequences
        grads = rng.normal(size=300) * rng.uniform(1.0, 1.4) ** np.arange(300) \
            * (rng.uniform(size=300) < rng.uniform(0.05, 1.0))
        if np.any(grads):
            assert ratio(grads) <= bound * (1 + 1e-12)
    assert ratio((b2 / b1) ** np.arange(200)) == pytest.approx(bound, rel=1e-9)
    assert passes("4.6", bound) and passes("4.6", 2.8857)


@pytest.mark.parametrize("wrong", [
    0.15 / math.sqrt(0.01),                                   # one gradient after silence: 1.5
    0.15 / math.sqrt(0.01 * (1 - 0.85 / 0.99)),               # β₁ instead of β₁²
    0.1 / math.sqrt(0.001 * (1 - 0.81 / 0.999)),              # the defaults' 7.27
    2.89,                                                     # three digits, not to rtol 1e-4
])
def test_4_6_the_sparse_step_and_slips_fail(wrong):
    assert not passes("4.6", wrong)


# --------------------------------------------------------------------------- 4.7


def test_4_7_equals_the_root_of_the_rest_point_equation():
    lam, c = ch04.REST_CURVATURE, ch04.REST_CENTER
    delta, eps = ch04.REST_HYPER["weight_decay"], ch04.REST_HYPER["eps"]
    k = lam / eps
    # δ(c − x) = kx/(kx + 1) for x = c − w > 0:  δk x² − (δkc − δ − k) x − δc = 0
    a, b, q = delta * k, -(delta * k * c - delta - k), -delta * c
    w_rest = c - (-b + math.sqrt(b * b - 4 * a * q)) / (2 * a)
    g = lam * (w_rest - c)
    assert delta * w_rest == pytest.approx(-g / (abs(g) + eps), rel=1e-12)   # it is a rest point
    assert expected("4.7") == pytest.approx(w_rest, rel=1e-9)
    # a hand-written AdamW loop ends there too
    end = hand_adam({"w": 0.0}, (lambda p: {"w": lam * (p["w"] - c)}, ch04.REST_STEPS),
                    lr=ch04.REST_HYPER["lr"], beta2=ch04.REST_HYPER["beta2"], eps=eps,
                    decoupled=delta)["w"]
    assert float(end) == pytest.approx(w_rest, rel=1e-9)
    assert passes("4.7", w_rest) and passes("4.7", 2.2314)


@pytest.mark.parametrize("wrong", [
    1 / 0.4,                       # ε dropped: clip(c, ±1/δ) = 2.5
    5.0,                           # the minimum
    5.0 - 2.0 / 2.6,               # the linear term alone (x² dropped)
    2.23,                          # three digits, not to rtol 1e-4
])
def test_4_7_the_eps_free_rest_point_and_slips_fail(wrong):
    assert not passes("4.7", wrong)


# --------------------------------------------------------------------------- all


@pytest.mark.parametrize("exercise_id", IDS)
def test_counts_are_exact_and_reals_are_tight(exercise_id):
    item = exercises()[exercise_id]
    if isinstance(item.expected(), str):
        assert item.choices
    elif isinstance(item.expected(), int):
        assert item.rtol == 0 and item.atol == 0
    else:
        assert 0 < item.rtol <= 1e-3 and item.atol == 0
