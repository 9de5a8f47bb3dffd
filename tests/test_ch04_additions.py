"""Tests for the chapter 4 additions to optlib.analysis: the rest points of Adam with L2 and
with decoupled weight decay, and Reddi et al.'s online problem (Adam fails, AMSGrad does not).

Each closed form is checked against a hand computation and against a simulation with
optlib's own optimizers, and bad input raises errors that name the argument.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optlib
from optlib import analysis
from optlib.objectives import Quadratic, Rosenbrock


# --------------------------------------------------------------------------- weight decay


def test_weight_decay_limits_hand_values():
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
    bowl = Quadratic(curvatures=(1.0, 100.0), center=(1.0, 1.0))
    traj = optlib.run(optlib.Adam(lr=0.02, weight_decay=lam), bowl, [0.0, 0.0], 2000)
    np.testing.assert_allclose(traj.final, analysis.adam_weight_decay_limits(bowl, lam).l2,
                               rtol=1e-6)


def test_adamw_approaches_the_decoupled_limit_and_treats_both_coordinates_alike():
    bowl = Quadratic(curvatures=(1.0, 100.0), center=(4.0, 4.0))
    limit = analysis.adam_weight_decay_limits(bowl, 0.5).decoupled
    traj = optlib.run(optlib.AdamW(lr=0.05, weight_decay=0.5), bowl, [0.0, 0.0], 6000)
    d = np.abs(traj.points - limit).max(axis=-1)
    assert d[-1] < 0.02                        # slowly, at the pace at which v̂ forgets
    assert np.all(np.diff(d[1000:]) <= 1e-12)  # and steadily
    # the two coordinates differ only in curvature: Adam's scale invariance makes them equal
    assert np.abs(traj.points[:, 0] - traj.points[:, 1]).max() < 1e-7


def test_weight_decay_limits_reject_bad_input():
    bowl = Quadratic()
    with pytest.raises(ValueError, match="weight_decay"):
        analysis.adam_weight_decay_limits(bowl, 0.0)
    with pytest.raises(ValueError, match="weight_decay"):
        analysis.adam_weight_decay_limits(bowl, -1.0)
    with pytest.raises(TypeError, match="weight_decay"):
        analysis.adam_weight_decay_limits(bowl, "0.1")
    with pytest.raises(ValueError, match="weight_decay"):
        analysis.adam_weight_decay_limits(bowl, [0.1, 0.2])
    with pytest.raises(TypeError, match="objective"):
        analysis.adam_weight_decay_limits(Rosenbrock(), 0.1)
    with pytest.raises(TypeError, match="objective"):
        analysis.adam_weight_decay_limits("bowl", 0.1)


# --------------------------------------------------------------------------- Reddi's problem


def _adam(C, amsgrad, lr=0.5):
    return optlib.Adam(lr=lr, beta1=0.0, beta2=1.0 / (1.0 + C * C), amsgrad=amsgrad)


@pytest.mark.parametrize("C", [2.5, 3.0, 5.0, 10.0])
def test_adam_drifts_to_plus_one_and_amsgrad_to_minus_one(C):
    adam = analysis.reddi_online_problem(_adam(C, False), 3000, C=C)
    ams = analysis.reddi_online_problem(_adam(C, True), 3000, C=C)
    assert adam.x[-1] > 0.99
    assert ams.x[-1] < -0.99
    # one period of normalized steps: Adam's sum pushes x up, AMSGrad's down
    assert adam.moves[-3:].sum() < 0 < ams.moves[-3:].sum()
    # Adam's average regret stays near 2(C − 2)/3 per step, AMSGrad's goes to 0
    assert adam.average_regret[-1] == pytest.approx(2 * (C - 2) / 3, rel=0.05)
    assert ams.average_regret[-1] < 0.05 * adam.average_regret[-1]


def test_gradients_period_and_hand_computed_first_steps():
    C = 3.0
    res = analysis.reddi_online_problem(optlib.GradientDescent(lr=0.1), 7, C=C, x0=0.5,
                                        schedule="constant")
    np.testing.assert_array_equal(res.grads, [C, -1, -1, C, -1, -1, C])
    np.testing.assert_allclose(res.moves, res.grads)            # GD: u_t = g_t
    x = [0.5]
    for g in res.grads:
        x.append(min(1.0, max(-1.0, x[-1] - 0.1 * g)))
    np.testing.assert_allclose(res.x, x)


def test_adam_moves_are_the_bias_corrected_normalized_steps():
    C, beta2 = 3.0, 0.1
    res = analysis.reddi_online_problem(optlib.Adam(lr=0.5, beta1=0.0, beta2=beta2, eps=0.0),
                                        6, C=C)
    v, expected = 0.0, []
    for t, g in enumerate(res.grads, start=1):
        v = beta2 * v + (1 - beta2) * g * g
        expected.append(g / math.sqrt(v / (1 - beta2 ** t)))
    np.testing.assert_allclose(res.moves, expected, rtol=1e-12)
    assert res.moves[0] == pytest.approx(1.0)                  # the first step is ±α


def test_regret_against_a_direct_computation():
    res = analysis.reddi_online_problem(_adam(3.0, False), 50, C=3.0, x0=-0.3)
    t = np.arange(1, 51)
    losses = res.grads * res.x[:-1]                             # f_t(x_t) = c_t x_t
    best = min(np.cumsum(res.grads)[-1] * x for x in (-1.0, 1.0))
    assert res.average_regret[-1] == pytest.approx((losses.sum() - best) / 50)
    assert res.average_regret.shape == t.shape


@settings(max_examples=25, deadline=None)
@given(x0=st.floats(min_value=-1.0, max_value=1.0), lr=st.floats(min_value=0.01, max_value=5.0),
       amsgrad=st.booleans(), schedule=st.sampled_from(["sqrt", "constant"]))
def test_iterates_stay_in_the_interval_and_lr_is_restored(x0, lr, amsgrad, schedule):
    opt = optlib.Adam(lr=lr, beta1=0.0, beta2=0.1, amsgrad=amsgrad)
    res = analysis.reddi_online_problem(opt, 60, x0=x0, schedule=schedule)
    assert res.x[0] == x0
    assert np.all(np.abs(res.x) <= 1.0)
    assert opt.lr == lr and opt.t == 60
    assert np.all(np.isfinite(res.moves)) and np.all(np.isfinite(res.average_regret))


def test_every_period_pushes_amsgrad_down_and_adam_up():
    # From the second period on (once the averages have seen C²), the normalized steps of
    # each period t = 3k+1, 3k+2, 3k+3 sum to a positive number for AMSGrad (x decreases)
    # and a negative one for Adam (x increases).
    for amsgrad, sign in ((True, 1.0), (False, -1.0)):
        res = analysis.reddi_online_problem(_adam(3.0, amsgrad), 60, C=3.0)
        periods = res.moves.reshape(-1, 3).sum(axis=1)
        assert np.all(sign * periods[1:] > 0.1)


def test_reddi_rejects_bad_input():
    adam = _adam(3.0, False)
    with pytest.raises(TypeError, match="optimizer"):
        analysis.reddi_online_problem("adam", 10)
    with pytest.raises(ValueError, match="lr"):
        analysis.reddi_online_problem(optlib.Adam(lr=np.array([0.1, 0.2])), 10)
    with pytest.raises(ValueError, match="steps"):
        analysis.reddi_online_problem(adam, -1)
    with pytest.raises(ValueError, match="steps"):
        analysis.reddi_online_problem(adam, 2.5)
    with pytest.raises(ValueError, match="C"):
        analysis.reddi_online_problem(adam, 10, C=2.0)
    with pytest.raises(ValueError, match="x0"):
        analysis.reddi_online_problem(adam, 10, x0=1.5)
    with pytest.raises(ValueError, match="schedule"):
        analysis.reddi_online_problem(adam, 10, schedule="cosine")
    assert adam.t == 0                                           # nothing was run
