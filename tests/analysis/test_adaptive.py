"""Tests for optlib.analysis.adaptive: Adagrad's and RMSprop's steps on a constant
gradient, RMSprop's step size with ε outside or inside the root, the two-cycle RMSprop
ends in on an axis-aligned bowl, and where Adam with L2 or decoupled weight decay comes
to rest.

Each closed form is checked against a hand computation and against optlib's own
optimizers (explicit ``step`` calls or ``optlib.run``), and bad input raises errors that
name the argument: TypeError for the wrong kind, ValueError for the wrong value.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optlib
from optlib import Adagrad, RMSprop, analysis, run
from optlib.objectives import LinearRegression, Quadratic, Rosenbrock

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
    """A rotated bowl or a non-quadratic is refused; bad lr, eps and curvatures name themselves."""
    with pytest.raises(ValueError, match="axis-aligned"):
        analysis.rmsprop_hover(0.1, Quadratic(angle=0.3))
    with pytest.raises(ValueError, match="axis-aligned"):
        analysis.rmsprop_hover(0.1, LinearRegression())
    with pytest.raises(ValueError, match="lr"):
        analysis.rmsprop_hover(-0.1, (1.0, 25.0))
    with pytest.raises(ValueError, match="eps"):
        analysis.rmsprop_hover(0.1, (1.0, 25.0), eps=-1.0)
    with pytest.raises(ValueError, match="curvatures"):
        analysis.rmsprop_hover(0.1, (1.0, -25.0))


@pytest.mark.parametrize("kwargs, name", [
    (dict(lr=np.array([0.1, 0.2])), "lr"), (dict(eps=np.array([0.0, 1e-8])), "eps"),
    (dict(lr="0.1"), "lr"), (dict(eps=True), "eps"),
])
def test_rmsprop_hover_takes_single_numbers(kwargs, name):
    """lr and eps must be single real numbers: an array, a string or a bool is a TypeError
    naming the argument (the message said "lr and eps must be scalars" before)."""
    args = dict(lr=0.1, curvatures=(1.0, 25.0), eps=1e-8)
    args.update(kwargs)
    with pytest.raises(TypeError, match=name):
        analysis.rmsprop_hover(**args)


# --------------------------------------------------------------------------- weight decay


def test_weight_decay_limits_hand_values():
    """(H + λI)⁻¹Hc and clip(c, ±1/λ) on axis-aligned bowls, inside and outside the box."""
    bowl = Quadratic(curvatures=(1.0, 100.0), center=(4.0, 4.0))
    lim = analysis.adam_weight_decay_limits(bowl, 0.5)
    np.testing.assert_allclose(lim.l2, [4 * 1 / 1.5, 4 * 100 / 100.5])
    np.testing.assert_allclose(lim.decoupled, [2.0, 2.0])
    # a minimum inside the box 1/λ is not moved by decoupled decay
    lim = analysis.adam_weight_decay_limits(Quadratic((2.0, 8.0), center=(-1.0, 0.5)), 0.25)
    np.testing.assert_allclose(lim.l2, [-2 / 2.25, 0.5 * 8 / 8.25])
    np.testing.assert_allclose(lim.decoupled, [-1.0, 0.5])
    # and one outside is clipped with its sign
    lim = analysis.adam_weight_decay_limits(Quadratic((1.0, 1.0), center=(-5.0, 5.0)), 1.0)
    np.testing.assert_allclose(lim.decoupled, [-1.0, 1.0])


def test_l2_limit_holds_for_a_rotated_quadratic_via_the_regularized_gradient():
    """(H + λI)w = Hc is where ∇f + λw vanishes; a rotated bowl is refused (no decoupled form)."""
    # (H + λI) w = H c is where the gradient of f + λ/2 |w|² vanishes; check it for a
    # rotated bowl by computing that gradient from the objective itself.
    bowl = Quadratic(curvatures=(1.0, 25.0), angle=0.3, center=(1.0, -2.0))
    h, c, lam = bowl.hessian, np.asarray(bowl.minimum), 0.7
    w = np.linalg.solve(h + lam * np.eye(2), h @ c)
    np.testing.assert_allclose(bowl.grad(w) + lam * w, 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="axis-aligned"):
        analysis.adam_weight_decay_limits(bowl, lam)


@pytest.mark.parametrize("lam", [0.5, 2.0])
def test_adam_with_l2_comes_to_rest_at_the_l2_limit(lam):
    """Adam(weight_decay=λ) ends at the L2 rest point."""
    bowl = Quadratic(curvatures=(1.0, 100.0), center=(1.0, 1.0))
    traj = optlib.run(optlib.Adam(lr=0.02, weight_decay=lam), bowl, [0.0, 0.0], 2000)
    np.testing.assert_allclose(traj.final, analysis.adam_weight_decay_limits(bowl, lam).l2,
                               rtol=1e-6)


def test_adamw_approaches_the_decoupled_limit_and_treats_both_coordinates_alike():
    """AdamW(weight_decay=λ) approaches clip(c, ±1/λ) steadily, both coordinates alike."""
    bowl = Quadratic(curvatures=(1.0, 100.0), center=(4.0, 4.0))
    limit = analysis.adam_weight_decay_limits(bowl, 0.5).decoupled
    traj = optlib.run(optlib.AdamW(lr=0.05, weight_decay=0.5), bowl, [0.0, 0.0], 6000)
    d = np.abs(traj.points - limit).max(axis=-1)
    assert d[-1] < 0.02                        # slowly, at the pace at which v̂ forgets
    assert np.all(np.diff(d[1000:]) <= 1e-12)  # and steadily
    # the two coordinates differ only in curvature: Adam's scale invariance makes them equal
    assert np.abs(traj.points[:, 0] - traj.points[:, 1]).max() < 1e-7


def test_weight_decay_limits_reject_bad_input():
    """λ ≤ 0 is a ValueError; a string or a list λ, or an objective that is not a constant
    quadratic, a TypeError (a list λ raised ValueError before: it is not a single number)."""
    bowl = Quadratic()
    with pytest.raises(ValueError, match="weight_decay"):
        analysis.adam_weight_decay_limits(bowl, 0.0)
    with pytest.raises(ValueError, match="weight_decay"):
        analysis.adam_weight_decay_limits(bowl, -1.0)
    with pytest.raises(TypeError, match="weight_decay"):
        analysis.adam_weight_decay_limits(bowl, "0.1")
    with pytest.raises(TypeError, match="weight_decay"):
        analysis.adam_weight_decay_limits(bowl, [0.1, 0.2])
    with pytest.raises(TypeError, match="objective"):
        analysis.adam_weight_decay_limits(Rosenbrock(), 0.1)
    with pytest.raises(TypeError, match="objective"):
        analysis.adam_weight_decay_limits("bowl", 0.1)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("call, name", [
    (lambda: analysis.adagrad_constant_gradient_step(0.0, 1), "lr"),
    (lambda: analysis.adagrad_constant_gradient_step(0.1, 0), "t"),
    (lambda: analysis.adagrad_constant_gradient_step(0.1, np.array([1, 0])), "t"),
    (lambda: analysis.adagrad_constant_gradient_step(0.1, 1, grad=float("inf")), "grad"),
    (lambda: analysis.adagrad_constant_gradient_step(0.1, 1, grad=[]), "grad"),
    (lambda: analysis.adagrad_constant_gradient_step(0.1, 1, eps=-1.0), "eps"),
    (lambda: analysis.rmsprop_constant_gradient_step(0.1, 1.0, 1), "beta"),
    (lambda: analysis.rmsprop_constant_gradient_step(0.1, 0.9, -2), "t"),
    (lambda: analysis.rmsprop_constant_gradient_step(0.1, 0.9, 1, grad=float("nan")), "grad"),
    (lambda: analysis.rmsprop_step_size(0.1, -1.0), "s"),
    (lambda: analysis.rmsprop_step_size(-0.1, 1.0), "lr"),
    (lambda: analysis.rmsprop_step_size(0.1, 1.0, eps=-1e-8), "eps"),
])
def test_bad_values_raise_value_error_naming_the_argument(call, name):
    """Values of the right kind out of range raise ValueError naming the argument."""
    with pytest.raises(ValueError, match=name):
        call()


@pytest.mark.parametrize("call, name", [
    (lambda: analysis.adagrad_constant_gradient_step("0.1", 1), "lr"),
    (lambda: analysis.adagrad_constant_gradient_step(0.1, 1.5), "t"),
    (lambda: analysis.adagrad_constant_gradient_step(0.1, True), "t"),
    (lambda: analysis.rmsprop_constant_gradient_step(0.1, 0.9, 2.0), "t"),
    (lambda: analysis.adagrad_constant_gradient_step(0.1, 1, grad="big"), "grad"),
    (lambda: analysis.adagrad_constant_gradient_step(0.1, 1, grad=True), "grad"),
    (lambda: analysis.rmsprop_constant_gradient_step(0.1, 0.9, 1, grad=None), "grad"),
    (lambda: analysis.rmsprop_constant_gradient_step(0.1, "0.9", 1), "beta"),
    (lambda: analysis.rmsprop_step_size(0.1, "s"), "s"),
    (lambda: analysis.rmsprop_step_size(0.1, 1.0, eps_inside=1), "eps_inside"),
])
def test_bad_types_raise_type_error_naming_the_argument(call, name):
    """Values of the wrong kind raise TypeError naming the argument. (A float or bool step
    count t raised ValueError before; it is the wrong kind for a whole number.)"""
    with pytest.raises(TypeError, match=name):
        call()
