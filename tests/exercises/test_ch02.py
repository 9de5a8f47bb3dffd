"""Chapter 2's exercise checks: every expected answer (computed by optlib in
``optlib.exercises.ch02``) equals an independent computation written here in plain numpy —
the EMA, the momentum loop on the line fit's data, the scalar recurrence, the closed
forms — the right answers pass, and the typical wrong answers (the estimate where an
exact count is asked, a limit without its 1 + β, PyTorch's undamped buffer, swapped
order, another choice) fail."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optlib.exercises import ch02, check, exercises
from optlib.objectives import LinearRegression, Quadratic

IDS = ("2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7")


def _want(exercise_id):
    return exercises()[exercise_id].expected()


# --------------------------------------------------------------------------- independent answers


def hand_bias_steps(beta=ch02.BIAS_BETA, total=ch02.BIAS_TOTAL):
    """First t whose EMA weights (1 − β)βᵏ, k < t, summed term by term, reach ``total``."""
    weights = (1 - beta) * beta ** np.arange(10_000)
    return int(np.argmax(np.cumsum(weights) >= total)) + 1


def hand_flip_fraction(beta=ch02.FLIP_BETA, steps=4000):
    """|v_t| of the EMA recursion fed (−1)ᵗ, long after the start."""
    v = 0.0
    for t in range(1, steps + 1):
        v = beta * v + (1 - beta) * (-1.0) ** t
    return abs(v)


def hand_line_fit(lr=ch02.HAND_LR, beta=ch02.HAND_BETA, steps=ch02.HAND_STEPS, *,
                  damped=True, stale_buffer=False, sequential=False):
    """The (W, b) loop on the line fit's data, gradients from the formula of the chapter.

    Variants are the typical mistakes: ``damped=False`` is PyTorch's v = βv + g;
    ``stale_buffer`` steps with the previous buffer before updating it; ``sequential``
    computes db after W has already moved.
    """
    f = LinearRegression()
    x, y = np.asarray(f.x), np.asarray(f.y)
    W, b, vW, vb = -1.0, -1.0, 0.0, 0.0
    mix = (1 - beta) if damped else 1.0

    def step(w, v, g):
        """One parameter's momentum step; the stale variant moves before the buffer does."""
        if stale_buffer:
            return w - lr * v, beta * v + mix * g
        v = beta * v + mix * g
        return w - lr * v, v

    for _ in range(steps):
        r = W * x + b - y
        W, vW = step(W, vW, np.mean(r * x))
        b, vb = step(b, vb, np.mean((W * x + b - y) if sequential else r))
    return W, b


def recurrence(a_lam, beta, steps, e0=1.0):
    """e_{t+1} = (1 + β − aλ)e_t − βe_{t−1} from rest (e_{−1} = e_0); returns e_0 … e_steps."""
    e = [e0, (1 - a_lam) * e0]
    for _ in range(steps - 1):
        e.append((1 + beta - a_lam) * e[-1] - beta * e[-2])
    return np.array(e)


def race_steps(gap=ch02.RACE_GAP):
    """Steps to a loss gap below ``gap`` for the three settings of 2.5, by the heavy-ball loop
    on each eigen-coordinate of the axis-aligned quadratic (minimum at the origin)."""
    q = Quadratic(curvatures=ch02.RACE_CURVATURES)
    lam = np.array(ch02.RACE_CURVATURES)
    w0 = np.asarray(q.start, dtype=float) - np.asarray(q.minimum, dtype=float)
    counts = []
    for beta in ch02.RACE_BETAS:
        a = ch02.RACE_STEP
        prev, cur = w0.copy(), w0.copy()
        for t in range(1, 5000):
            prev, cur = cur, cur - a * lam * cur + beta * (cur - prev)
            if 0.5 * np.sum(lam * cur ** 2) <= gap:
                counts.append(t)
                break
    return counts


def hand_optimum(lam_min, lam_max):
    root_kappa = math.sqrt(lam_max / lam_min)
    beta = ((root_kappa - 1) / (root_kappa + 1)) ** 2
    step = 4 / (math.sqrt(lam_max) + math.sqrt(lam_min)) ** 2
    return step / (1 - beta), beta, step


def hand_critical_steps(beta=ch02.CRITICAL_BETA, lam=ch02.CRITICAL_CURVATURE,
                        threshold=ch02.CRITICAL_ERROR):
    s = math.sqrt(beta)
    lr = (1 - s) ** 2 / ((1 - beta) * lam)
    e = recurrence(lr * (1 - beta) * lam, beta, 2000)
    return int(np.argmax(np.abs(e) <= threshold)), e


RIGHT = {
    "2.1": hand_bias_steps(),
    "2.2": hand_flip_fraction(),
    "2.3": hand_line_fit(),
    "2.4": ((ch02.LIMIT_LR * max(ch02.LIMIT_CURVATURES) - 2)
            / (ch02.LIMIT_LR * max(ch02.LIMIT_CURVATURES) + 2)),   # β > (αλ − 2)/(αλ + 2)
    "2.5": ch02.RACE_CHOICES[int(np.argmin(race_steps()))],
    "2.6": hand_optimum(*ch02.OPTIMAL_CURVATURES)[:2],
    "2.7": hand_critical_steps()[0],
}


# --------------------------------------------------------------------------- the checks agree


@pytest.mark.parametrize("exercise_id", IDS)
def test_expected_answer_equals_the_independent_computation(exercise_id):
    want, mine = _want(exercise_id), RIGHT[exercise_id]
    if isinstance(mine, str) or isinstance(mine, int):
        assert want == mine
    else:
        np.testing.assert_allclose(np.asarray(want, float), np.asarray(mine, float), rtol=1e-9)


@pytest.mark.parametrize("exercise_id", IDS)
def test_hand_computed_answer_passes(exercise_id):
    assert check(exercise_id, RIGHT[exercise_id]).correct


def test_the_registered_ids_are_the_seven_in_order():
    assert sorted(i for i in exercises() if i.startswith("2.")) == list(IDS)


# --------------------------------------------------------------------------- per exercise


def test_2_1_the_count_is_exact_and_the_estimates_fail():
    beta = ch02.BIAS_BETA
    t = RIGHT["2.1"]
    assert 1 - beta ** (t - 1) < ch02.BIAS_TOTAL <= 1 - beta ** t
    assert check("2.1", t).correct and check("2.1", float(t)).correct
    window_estimate = math.log(100) / (1 - beta)                     # 36.8: the window estimate
    for wrong in (window_estimate, round(window_estimate), math.ceil(window_estimate),
                  math.log(0.01) / math.log(beta), t - 1, t + 1):    # unrounded bound, off by one
        assert not check("2.1", wrong).correct, wrong


def test_2_2_fraction_is_the_gain_at_a_flip_and_one_minus_beta_fails():
    beta = ch02.FLIP_BETA
    assert math.isclose(RIGHT["2.2"], (1 - beta) / (1 + beta), rel_tol=1e-12)
    assert check("2.2", 1 / 39).correct and check("2.2", 0.02564).correct
    for wrong in (1 - beta, (1 - beta) / (1 + beta) ** 2, 1 / 40, -1 / 39, 0.0256):
        assert not check("2.2", wrong).correct, wrong


def test_2_3_hand_loop_passes_and_the_usual_mistakes_fail():
    W, b = RIGHT["2.3"]
    assert check("2.3", (W, b)).correct and check("2.3", [round(W, 4), round(b, 4)]).correct
    assert not check("2.3", (b, W)).correct                                     # swapped
    assert check("2.3", (W * 1.0005, b * 0.9995)).correct                      # within rtol 1e-3
    assert not check("2.3", (W * 1.002, b)).correct                            # beyond it
    for mistake in (dict(damped=False), dict(stale_buffer=True), dict(sequential=True)):
        assert not check("2.3", hand_line_fit(**mistake)).correct, mistake
    assert not check("2.3", hand_line_fit(steps=ch02.HAND_STEPS - 1)).correct  # one step short
    assert not check("2.3", hand_line_fit(steps=ch02.HAND_STEPS + 1)).correct


def test_2_4_the_recurrence_is_on_the_edge_at_beta_min_and_wrong_answers_fail():
    lr, lam_max = ch02.LIMIT_LR, max(ch02.LIMIT_CURVATURES)
    beta = RIGHT["2.4"]
    a_lam = lr * (1 - beta) * lam_max
    # At β_min, σ = −1 is a root of σ² − (1 + β − aλ)σ + β: e_t = (−1)ᵗ solves the recurrence.
    assert math.isclose(1 + (1 + beta - a_lam) + beta, 0.0, abs_tol=1e-12)
    # A little more momentum converges, a little less diverges (the recurrence, no optlib).
    for d, decays in ((0.01, True), (-0.01, False)):
        b = beta + d
        e = recurrence(lr * (1 - b) * lam_max, b, 1000)
        assert (abs(e[-1]) < 1e-3) if decays else (abs(e[-1]) > 1e3)
    assert check("2.4", 7.6 / 11.6).correct and check("2.4", 0.655).correct
    x = lr * lam_max
    for wrong in (1 - 2 / x,                            # α(1 − β)λ < 2: the 1 + β forgotten
                  (x - 2) / x,                          # the same, written otherwise
                  (lr * min(ch02.LIMIT_CURVATURES) - 2) / (lr * min(ch02.LIMIT_CURVATURES) + 2),
                  -beta,                                # the other sign
                  0.66, 0.65):                          # rounded too coarsely
        assert not check("2.4", wrong).correct, wrong


def test_2_5_the_fastest_setting_by_simulation_and_by_the_rates():
    counts = race_steps()
    lam = np.array(ch02.RACE_CURVATURES)
    rates = []
    for beta in ch02.RACE_BETAS:
        per = [np.abs(np.roots([1, -(1 + beta - ch02.RACE_STEP * l), beta])).max() for l in lam]
        rates.append(max(per))
    assert np.argmin(counts) == np.argmin(rates) == ch02.RACE_CHOICES.index(RIGHT["2.5"])
    assert RIGHT["2.5"] == "B"                         # the middle β: more momentum is not faster
    assert counts[1] < counts[2] < counts[0]
    assert list(ch02._race_runs().steps_to(ch02.RACE_GAP)) == counts   # optlib's runs, same counts
    for wrong in (c for c in ch02.RACE_CHOICES if c != RIGHT["2.5"]):
        assert not check("2.5", wrong).correct
    assert check("2.5", RIGHT["2.5"].lower()).correct


def test_2_6_optimum_is_one_over_root_of_the_product_and_minimises_the_rate():
    lam_min, lam_max = ch02.OPTIMAL_CURVATURES
    alpha, beta, step = hand_optimum(lam_min, lam_max)
    assert math.isclose(alpha, 1 / math.sqrt(lam_min * lam_max), rel_tol=1e-12)
    # A grid over (α, β) finds no smaller spectral radius than at (α*, β*).
    lrs = np.linspace(0.3, 1.2, 361)[:, None, None]
    betas = np.linspace(0.3, 0.8, 201)[None, :, None]
    trace = 1 + betas - lrs * (1 - betas) * np.array([lam_min, lam_max])
    disc = np.sqrt((trace ** 2 - 4 * betas).astype(complex))
    radius = np.maximum(np.abs(trace + disc), np.abs(trace - disc)).max(axis=-1) / 2
    i, j = np.unravel_index(np.argmin(radius), radius.shape)
    assert abs(lrs[i, 0, 0] - alpha) < 0.01 and abs(betas[0, j, 0] - beta) < 0.01
    assert radius.min() >= math.sqrt(beta) - 1e-9
    assert check("2.6", (alpha, beta)).correct and check("2.6", (0.7143, 0.5625)).correct
    for wrong in ((beta, alpha),                        # swapped
                  (step, beta),                         # the heavy-ball step a* for α*
                  (alpha, math.sqrt(beta)),             # the rate for β*
                  (2 / (lam_min + lam_max), beta),      # gradient descent's α*
                  (0.71, 0.56)):                        # rounded too coarsely
        assert not check("2.6", wrong).correct, wrong


def test_2_7_closed_form_recurrence_and_count_agree_and_the_rate_estimate_fails():
    count, e = hand_critical_steps()
    s = math.sqrt(ch02.CRITICAL_BETA)
    t = np.arange(e.size)
    closed = (1 + (1 - s) * t) * s ** t
    np.testing.assert_allclose(e[:400], closed[:400], rtol=1e-9)
    assert np.all(e[:400] > 0) and np.all(np.diff(e[:400]) < 0)           # positive, decreasing
    assert closed[count] <= ch02.CRITICAL_ERROR < closed[count - 1]
    from_rate = math.log(1 / ch02.CRITICAL_ERROR) / -math.log(s)           # 131.1: too few
    assert count > math.ceil(from_rate)
    for wrong in (from_rate, math.ceil(from_rate), count - 1, count + 1):
        assert not check("2.7", wrong).correct, wrong


def test_parameters_are_not_the_chapters_old_ones():
    """The exercises use settings of their own (the chapter's text uses β = 0.9, 0.98, the bowl
    (1, 25) and the line fit's optimum); their answers are searched for in the chapter by
    tests/test_exercise_layout.py."""
    assert ch02.BIAS_BETA not in (0.5, 0.9, 0.98, 0.999)
    assert ch02.OPTIMAL_CURVATURES != (1.0, 25.0) and ch02.LIMIT_CURVATURES != (1.0, 25.0)


def test_2_5_hint_flat_direction_monotone_for_a_and_b_ripples_for_c():
    # The hint says: along λ = 1 the roots are real and positive for A and B (monotone) and
    # complex with |σ| = √β for C. The old hint ("monotone for one of the settings") was wrong.
    kinds = []
    for beta in ch02.RACE_BETAS:
        roots = np.roots([1, -(1 + beta - ch02.RACE_STEP * 1.0), beta])
        if np.all(np.isreal(roots)) and np.all(roots.real >= 0):
            kinds.append("monotone")
        elif np.iscomplexobj(roots) and np.allclose(np.abs(roots), np.sqrt(beta)):
            kinds.append("ripples")
        else:
            kinds.append("other")
    assert kinds == ["monotone", "monotone", "ripples"]
    assert "monotone for A and B" in exercises()["2.5"].hint and "for C" in exercises()["2.5"].hint
    assert kinds.count("monotone") != 1        # the old wording's "one of the settings"
