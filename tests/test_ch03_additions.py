"""Tests for the chapter 3 additions to optlib.analysis: Adagrad's and RMSprop's steps on a
constant gradient, RMSprop's step size with ε outside or inside the root, the two-cycle
RMSprop ends in on an axis-aligned bowl, and the settling step of a run.

Each closed form is checked against a hand computation and against optlib's own
optimizers (explicit ``step`` calls or ``optlib.run``), and bad input raises errors that
name the argument.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optlib import Adagrad, GradientDescent, RMSprop, analysis, run
from optlib.objectives import LinearRegression, Quadratic

betas = st.floats(min_value=0.0, max_value=0.99)
lrs = st.floats(min_value=1e-3, max_value=10.0)
scales = st.floats(min_value=1e-3, max_value=1e3)


def _step_lengths(opt, grad, steps):
    """|Δw| of each of ``steps`` optimizer steps on the constant gradient ``grad``."""
    w = np.zeros(np.shape(grad))
    out = []
    for _ in range(steps):
        before = w.copy()
        opt.step(w, np.array(grad, dtype=float))
        out.append(np.abs(w - before))
    return np.array(out)


# --------------------------------------------------------------------------- Adagrad


def test_adagrad_constant_gradient_step_hand_values():
    assert analysis.adagrad_constant_gradient_step(0.1, 1, grad=2.0, eps=0.0) == pytest.approx(0.1)
    assert analysis.adagrad_constant_gradient_step(0.1, 100, grad=2.0, eps=0.0) == pytest.approx(0.01)
    assert analysis.adagrad_constant_gradient_step(0.1, 4, grad=-5.0, eps=0.0) == pytest.approx(0.05)
    # eps outside the root: 0.1 · 1 / (√4 · 1 + 1) = 1/30
    assert analysis.adagrad_constant_gradient_step(0.1, 4, grad=1.0, eps=1.0) == pytest.approx(1 / 30)
    out = analysis.adagrad_constant_gradient_step(1.0, np.array([1, 4, 16, 64]), eps=0.0)
    np.testing.assert_allclose(out, [1.0, 0.5, 0.25, 0.125])
    assert analysis.adagrad_constant_gradient_step(0.1, 3, grad=0.0) == 0.0


@settings(max_examples=30, deadline=None)
@given(lr=lrs, scale=scales)
def test_adagrad_constant_gradient_step_matches_the_optimizer(lr, scale):
    grads = np.array([scale, -scale / 7.0])
    measured = _step_lengths(Adagrad(lr=lr), grads, 50)
    t = np.arange(1, 51)[:, None]
    predicted = analysis.adagrad_constant_gradient_step(lr, t, grad=grads[None, :])
    np.testing.assert_allclose(measured, predicted, rtol=1e-9)


def test_adagrad_steps_shrink_like_one_over_root_t_and_sum_to_about_two_root_t():
    t = np.arange(1, 10_001)
    steps = analysis.adagrad_constant_gradient_step(0.1, t, grad=3.0, eps=0.0)
    np.testing.assert_allclose(steps * np.sqrt(t), 0.1)
    # Σ 1/√k = 2√t + ζ(1/2) + O(1/√t), ζ(1/2) ≈ −1.4604
    assert steps.sum() == pytest.approx(0.1 * (2 * math.sqrt(10_000) - 1.4604), rel=1e-4)


# --------------------------------------------------------------------------- RMSprop, constant g


def test_rmsprop_constant_gradient_step_hand_values():
    assert analysis.rmsprop_constant_gradient_step(0.01, 0.99, 1, eps=0.0) == pytest.approx(0.1)
    assert analysis.rmsprop_constant_gradient_step(0.1, 0.9, 1, eps=0.0) == pytest.approx(
        0.1 / math.sqrt(0.1))
    assert analysis.rmsprop_constant_gradient_step(0.1, 0.9, 2, eps=0.0) == pytest.approx(
        0.1 / math.sqrt(0.19))
    assert analysis.rmsprop_constant_gradient_step(0.1, 0.0, 5, grad=-3.0, eps=0.0) == pytest.approx(0.1)
    assert analysis.rmsprop_constant_gradient_step(0.1, 0.9, 10_000, eps=0.0) == pytest.approx(0.1)
    # eps outside: 0.1 · 2 / (√0.1 · 2 + 1)
    assert analysis.rmsprop_constant_gradient_step(0.1, 0.9, 1, grad=2.0, eps=1.0) == pytest.approx(
        0.2 / (2 * math.sqrt(0.1) + 1))
    assert analysis.rmsprop_constant_gradient_step(0.1, 0.9, 1, grad=0.0) == 0.0


@settings(max_examples=30, deadline=None)
@given(lr=lrs, beta=betas, scale=scales)
def test_rmsprop_constant_gradient_step_matches_the_optimizer(lr, beta, scale):
    grads = np.array([scale, -scale * 1e-2])
    measured = _step_lengths(RMSprop(lr=lr, beta=beta), grads, 40)
    t = np.arange(1, 41)[:, None]
    predicted = analysis.rmsprop_constant_gradient_step(lr, beta, t, grad=grads[None, :])
    np.testing.assert_allclose(measured, predicted, rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(beta=betas, scale=st.floats(min_value=1.0, max_value=1e6))
def test_rmsprop_step_is_scale_invariant_on_a_constant_gradient(beta, scale):
    # Up to ε/(√(1−βᵗ)|g|) ≤ 1e-8/(0.1 · 1) = 1e-7: the same steps for every gradient scale.
    one = analysis.rmsprop_constant_gradient_step(0.1, beta, np.arange(1, 30), grad=1.0)
    scaled = analysis.rmsprop_constant_gradient_step(0.1, beta, np.arange(1, 30), grad=scale)
    np.testing.assert_allclose(one, scaled, rtol=2e-7)
    assert np.all(scaled >= 0.1 * (1 - 2e-7))       # never shorter than α (bias → longer)


# --------------------------------------------------------------------------- ε inside / outside


def test_rmsprop_step_size_hand_values():
    assert analysis.rmsprop_step_size(0.1, 4.0, eps=0.0) == pytest.approx(0.05)
    assert analysis.rmsprop_step_size(0.1, 4.0, eps=1.0) == pytest.approx(0.1 / 3)
    assert analysis.rmsprop_step_size(0.1, 4.0, eps=1.0, eps_inside=True) == pytest.approx(
        0.1 / math.sqrt(5))
    assert analysis.rmsprop_step_size(0.1, 0.0, eps=1e-8) == pytest.approx(1e7)
    assert analysis.rmsprop_step_size(0.1, 0.0, eps=1e-8, eps_inside=True) == pytest.approx(1e3)
    assert analysis.rmsprop_step_size(0.1, 0.0, eps=0.0) == math.inf
    out = analysis.rmsprop_step_size(1.0, np.array([1.0, 1e-4]), eps=np.array([[0.0], [1e-2]]))
    np.testing.assert_allclose(out, [[1.0, 100.0], [1 / 1.01, 1 / 0.02]])


def test_eps_placements_agree_for_large_s_and_cap_differently_at_zero():
    s = np.array([1.0, 1e-2])
    out = analysis.rmsprop_step_size(0.1, s, eps=1e-8)
    inside = analysis.rmsprop_step_size(0.1, s, eps=1e-8, eps_inside=True)
    np.testing.assert_allclose(out, inside, rtol=1e-6)
    # eps_inside = eps_outside² gives the same cap α/ε at s = 0
    assert analysis.rmsprop_step_size(0.1, 0.0, eps=1e-4) == pytest.approx(
        analysis.rmsprop_step_size(0.1, 0.0, eps=1e-8, eps_inside=True))


def test_rmsprop_step_size_is_the_optimizers_effective_step():
    # The optimizer's own effective step −Δw/g equals α/(√s + ε) with its state s.
    opt, w = RMSprop(lr=0.05, beta=0.8, eps=1e-3), np.array([1.0, -2.0, 0.5])
    rng = np.random.default_rng(0)
    for _ in range(7):
        g = rng.normal(size=3) * np.array([1e-4, 1.0, 100.0])
        before = w.copy()
        opt.step(w, g)
        expected = analysis.rmsprop_step_size(0.05, opt.state["square_avg"], eps=1e-3)
        np.testing.assert_allclose((before - w) / g, expected, rtol=1e-9)


# --------------------------------------------------------------------------- the two-cycle


def test_rmsprop_hover_hand_values():
    hover = analysis.rmsprop_hover(0.1, (1.0, 25.0), eps=0.0)
    np.testing.assert_allclose(hover.amplitude, [0.05, 0.05])
    np.testing.assert_allclose(hover.effective_steps, [2.0, 0.08])
    assert hover.loss == pytest.approx(26 * 0.01 / 8)
    # ε = 1, α = 0.5: a = 0.25 − 1/λ: W1 converges (no cycle), W2 bounces at 0.21
    hover = analysis.rmsprop_hover(0.5, Quadratic(), eps=1.0)
    np.testing.assert_allclose(hover.amplitude, [0.0, 0.21])
    assert np.isnan(hover.effective_steps[0]) and hover.effective_steps[1] == pytest.approx(0.08)
    assert hover.loss == pytest.approx(0.5 * 25 * 0.21**2)
    # a bowl rotated by 90° is axis-aligned with its curvatures swapped
    swapped = analysis.rmsprop_hover(0.1, Quadratic(angle=math.pi / 2), eps=0.0)
    np.testing.assert_allclose(swapped.effective_steps, [0.08, 2.0])


@pytest.mark.parametrize("lr, beta, eps", [(0.1, 0.9, 1e-8), (0.3, 0.5, 0.5), (0.5, 0.9, 1.0),
                                           (0.05, 0.95, 0.0), (0.1, 0.99, 1e-8),
                                           (0.5, 0.9, 10.0)])
def test_rmsprop_hover_is_where_runs_end(lr, beta, eps):
    # (Centred at the origin: near a nonzero minimum a coordinate can round onto w* exactly,
    # where its gradient is 0 and it stays; see the docstring.)
    bowl = Quadratic(curvatures=(1.0, 25.0))
    traj = run(RMSprop(lr=lr, beta=beta, eps=eps), bowl, bowl.start, 20_000)
    hover = analysis.rmsprop_hover(lr, bowl, eps=eps)
    tail = np.abs(traj.points[-40:] - bowl.minimum).max(axis=0)
    np.testing.assert_allclose(tail, hover.amplitude, atol=1e-9)
    assert traj.losses[-1] == pytest.approx(hover.loss, abs=1e-12)
    measured = traj.effective_steps()[-1]
    bouncing = hover.amplitude > 0
    np.testing.assert_allclose(measured[bouncing], hover.effective_steps[bouncing], rtol=1e-6)


def test_rmsprop_hover_rejects_rotated_bowls_and_bad_input():
    with pytest.raises(ValueError, match="axis-aligned"):
        analysis.rmsprop_hover(0.1, Quadratic(angle=0.3))
    with pytest.raises(ValueError, match="axis-aligned"):
        analysis.rmsprop_hover(0.1, LinearRegression())
    with pytest.raises(ValueError, match="lr"):
        analysis.rmsprop_hover(-0.1, (1.0, 25.0))
    with pytest.raises(ValueError, match="eps"):
        analysis.rmsprop_hover(0.1, (1.0, 25.0), eps=-1.0)
    with pytest.raises(TypeError, match="scalars"):
        analysis.rmsprop_hover(np.array([0.1, 0.2]), (1.0, 25.0))
    with pytest.raises(ValueError, match="curvatures"):
        analysis.rmsprop_hover(0.1, (1.0, -25.0))


# --------------------------------------------------------------------------- settling


def test_settling_step_of_gradient_descent_is_the_first_step_below():
    # GD at α* shrinks the distance by exactly (κ−1)/(κ+1) every step: monotone, so settling
    # equals the first step with distance ≤ fraction · initial (chapter 1's count).
    bowl = Quadratic()
    best = analysis.gd_optimal(bowl)
    traj = run(GradientDescent(lr=best.lr), bowl, bowl.start, 300)
    assert analysis.settling_step(traj, 1e-6) == analysis.gd_steps_to_tolerance(best.lr, bowl, 1e-6)


def test_settling_step_ignores_a_pass_close_to_the_minimum():
    bowl = Quadratic()
    traj = run(RMSprop(lr=0.3), bowl, bowl.start, 2000)
    d = traj.distances()
    first = int(np.argmax(d <= 1e-3 * d[0]))
    assert first > 0 and d[-1] > 1e-3 * d[0]            # passes close, then hovers farther out
    assert analysis.settling_step(traj, 1e-3) == -1
    settle = analysis.settling_step(traj, 0.05)
    assert settle > 0 and np.all(d[settle:] <= 0.05 * d[0]) and d[settle - 1] > 0.05 * d[0]


def test_settling_step_batches_and_marks_diverged_runs():
    bowl = Quadratic()
    lrs = np.array([0.01, 0.07, 0.09])[:, None]         # slow, fast, diverges
    traj = run(GradientDescent(lr=lrs), bowl, bowl.start, 400)
    out = analysis.settling_step(traj, 0.01)
    assert out.shape == (3,)
    assert out[0] == -1                                  # too slow for 400 steps
    assert out[1] == analysis.gd_steps_to_tolerance(0.07, bowl, 0.01)
    assert out[2] == -1                                  # diverged


def test_settling_step_rejects_bad_input():
    traj = run(GradientDescent(lr=0.05), Quadratic(), Quadratic().start, 10)
    for bad in (0.0, 1.0, -0.5, float("nan")):
        with pytest.raises(ValueError, match="fraction"):
            analysis.settling_step(traj, bad)
    with pytest.raises(TypeError, match="fraction"):
        analysis.settling_step(traj, "0.1")
    with pytest.raises(TypeError, match="trajectory"):
        analysis.settling_step(np.zeros((3, 2)), 0.1)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("call, name", [
    (lambda: analysis.adagrad_constant_gradient_step(0.0, 1), "lr"),
    (lambda: analysis.adagrad_constant_gradient_step(0.1, 0), "t"),
    (lambda: analysis.adagrad_constant_gradient_step(0.1, 1.5), "t"),
    (lambda: analysis.adagrad_constant_gradient_step(0.1, True), "t"),
    (lambda: analysis.adagrad_constant_gradient_step(0.1, 1, grad=float("inf")), "grad"),
    (lambda: analysis.adagrad_constant_gradient_step(0.1, 1, eps=-1.0), "eps"),
    (lambda: analysis.rmsprop_constant_gradient_step(0.1, 1.0, 1), "beta"),
    (lambda: analysis.rmsprop_constant_gradient_step(0.1, 0.9, -2), "t"),
    (lambda: analysis.rmsprop_constant_gradient_step(0.1, 0.9, 1, grad=float("nan")), "grad"),
    (lambda: analysis.rmsprop_step_size(0.1, -1.0), "s"),
    (lambda: analysis.rmsprop_step_size(-0.1, 1.0), "lr"),
    (lambda: analysis.rmsprop_step_size(0.1, 1.0, eps=-1e-8), "eps"),
])
def test_bad_values_raise_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


@pytest.mark.parametrize("call, name", [
    (lambda: analysis.adagrad_constant_gradient_step("0.1", 1), "lr"),
    (lambda: analysis.adagrad_constant_gradient_step(0.1, 1, grad="big"), "grad"),
    (lambda: analysis.rmsprop_constant_gradient_step(0.1, 0.9, 1, grad=None), "grad"),
    (lambda: analysis.rmsprop_step_size(0.1, "s"), "s"),
    (lambda: analysis.rmsprop_step_size(0.1, 1.0, eps_inside=1), "eps_inside"),
])
def test_bad_types_raise_type_error_naming_the_argument(call, name):
    with pytest.raises(TypeError, match=name):
        call()


def test_new_names_are_exported():
    for name in ("adagrad_constant_gradient_step", "rmsprop_constant_gradient_step",
                 "rmsprop_step_size", "rmsprop_hover", "Hover", "settling_step"):
        assert name in analysis.__all__
