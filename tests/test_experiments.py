"""Tests for optlib.experiments: the heavy-ball / Nesterov loop written with positions only,
the settling step of a run, and Reddi et al.'s online problem (Adam fails, AMSGrad does
not), against hand computations and against optlib's own optimizers and runs; bad input
raises TypeError (wrong kind) or ValueError (wrong value) naming the argument, before
anything is run.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optlib
from optlib import GradientDescent, RMSprop, analysis, run
from optlib.experiments import heavy_ball_points, reddi_online_problem, settling_step
from optlib.objectives import LinearRegression, Quadratic, Rosenbrock


# --------------------------------------------------------------------------- heavy ball


@pytest.mark.parametrize("objective, lr, beta", [
    (Quadratic(), 0.2, 4 / 9),
    (Quadratic(angle=0.5), 0.1, 0.9),
    (LinearRegression(), 0.5, 0.9),
    (Rosenbrock(), 2e-3, 0.9),
])
def test_momentum_visits_the_heavy_ball_points(objective, lr, beta):
    """Momentum(lr=α, beta=β) visits the heavy-ball points with a = α(1-β)."""
    traj = optlib.run(optlib.Momentum(lr=lr, beta=beta), objective, objective.start, 200)
    hb = heavy_ball_points(objective, lr * (1 - beta), beta, objective.start, 200)
    scale = np.abs(hb).max()
    np.testing.assert_allclose(traj.points, hb, rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("objective, lr, beta", [
    (Quadratic(), 0.1, 0.6),
    (LinearRegression(), 0.5, 0.9),
    (Rosenbrock(), 2e-3, 0.9),
])
def test_nesterov_momentum_visits_the_look_ahead_points(objective, lr, beta):
    """Momentum(nesterov=True) visits Nesterov's look-ahead points y_t, not w_t."""
    traj = optlib.run(optlib.Momentum(lr=lr, beta=beta, nesterov=True), objective,
                      objective.start, 200)
    w = heavy_ball_points(objective, lr * (1 - beta), beta, objective.start, 200,
                          nesterov=True)
    previous = np.concatenate([w[:1], w[:-1]])
    ahead = w + beta * (w - previous)
    np.testing.assert_allclose(traj.points, ahead, rtol=0, atol=1e-12 * np.abs(ahead).max())
    assert np.abs(traj.points - w).max() > 1e-6     # it is the look-ahead, not w itself


def test_heavy_ball_by_hand():
    """Two steps on the bowl (λ = 1, 25) from (1, 1) with a = 0.01, β = 0.5, by hand."""
    pts = heavy_ball_points(Quadratic(), 0.01, 0.5, [1.0, 1.0], 2)
    # w1 = w0 - aλw0; w2 = w1 - aλw1 + β(w1 - w0)
    np.testing.assert_allclose(pts, [[1.0, 1.0], [0.99, 0.75],
                                     [0.99 - 0.0099 - 0.005, 0.75 - 0.1875 - 0.125]],
                               rtol=1e-14)


def test_heavy_ball_with_beta_zero_is_gradient_descent_and_batches():
    """β = 0 is gradient descent; an array of steps (K, 1) gives K runs."""
    bowl = Quadratic()
    gd = optlib.run(optlib.GradientDescent(lr=0.05), bowl, bowl.start, 50)
    np.testing.assert_allclose(heavy_ball_points(bowl, 0.05, 0.0, bowl.start, 50),
                               gd.points, rtol=0, atol=1e-12)
    steps = np.array([0.01, 0.05])[:, None]
    batch = heavy_ball_points(bowl, steps, 0.5, bowl.start, 10)
    assert batch.shape == (11, 2, 2)
    single = heavy_ball_points(bowl, 0.05, 0.5, bowl.start, 10)
    np.testing.assert_allclose(batch[:, 1], single, rtol=0, atol=0)


def test_heavy_ball_points_divergence_is_silent():
    """A diverging loop overflows to inf/nan without a warning."""
    bowl = Quadratic()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pts = heavy_ball_points(bowl, 1.0, 0.5, bowl.start, 2000)
    assert not np.all(np.isfinite(pts[-1]))


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(step=0.0), ValueError, "step"),
    (dict(beta=1.0), ValueError, "beta"),
    (dict(steps=-1), ValueError, "steps"),
    (dict(steps=2.5), TypeError, "steps"),
    (dict(steps=True), TypeError, "steps"),
    (dict(w0=[1.0, 2.0, 3.0]), ValueError, "w0"),
    (dict(w0=[1.0, float("nan")]), ValueError, "w0"),
    (dict(w0="start"), TypeError, "w0"),
    (dict(nesterov="yes"), TypeError, "nesterov"),
    (dict(objective="bowl"), TypeError, "objective"),
    (dict(objective=Quadratic(), steps=0, w0=None), TypeError, "w0"),
])
def test_heavy_ball_points_rejects_bad_input(kwargs, error, name):
    """Wrong kind -> TypeError, wrong value -> ValueError, naming the argument. (A float
    step count raised ValueError before, and an objective without grad an AttributeError
    from inside the loop.)"""
    args = dict(objective=Quadratic(), step=0.05, beta=0.5, w0=[1.0, 1.0], steps=5)
    args.update(kwargs)
    with pytest.raises(error, match=name):
        heavy_ball_points(**args)


# --------------------------------------------------------------------------- settling


def test_settling_step_of_gradient_descent_is_the_first_step_below():
    """GD at α* shrinks the distance by exactly (κ−1)/(κ+1) every step: monotone, so settling
    equals the first step with distance ≤ fraction · initial (chapter 1's count)."""
    bowl = Quadratic()
    best = analysis.gd_optimal(bowl)
    traj = run(GradientDescent(lr=best.lr), bowl, bowl.start, 300)
    assert settling_step(traj, 1e-6) == analysis.gd_steps_to_tolerance(best.lr, bowl, 1e-6)


def test_settling_step_ignores_a_pass_close_to_the_minimum():
    """RMSprop passes within 1e-3 of the start distance and leaves again: not settled."""
    bowl = Quadratic()
    traj = run(RMSprop(lr=0.3), bowl, bowl.start, 2000)
    d = traj.distances()
    first = int(np.argmax(d <= 1e-3 * d[0]))
    assert first > 0 and d[-1] > 1e-3 * d[0]            # passes close, then hovers farther out
    assert settling_step(traj, 1e-3) == -1
    settle = settling_step(traj, 0.05)
    assert settle > 0 and np.all(d[settle:] <= 0.05 * d[0]) and d[settle - 1] > 0.05 * d[0]


def test_settling_step_batches_and_marks_diverged_runs():
    """A batch gives one step per run: -1 for a run too slow to settle and for one that diverged."""
    bowl = Quadratic()
    lrs = np.array([0.01, 0.07, 0.09])[:, None]         # slow, fast, diverges
    traj = run(GradientDescent(lr=lrs), bowl, bowl.start, 400)
    out = settling_step(traj, 0.01)
    assert out.shape == (3,)
    assert out[0] == -1                                  # too slow for 400 steps
    assert out[1] == analysis.gd_steps_to_tolerance(0.07, bowl, 0.01)
    assert out[2] == -1                                  # diverged


def test_settling_step_rejects_bad_input():
    """fraction outside (0, 1) -> ValueError; a string fraction or a non-trajectory -> TypeError."""
    traj = run(GradientDescent(lr=0.05), Quadratic(), Quadratic().start, 10)
    for bad in (0.0, 1.0, -0.5, float("nan")):
        with pytest.raises(ValueError, match="fraction"):
            settling_step(traj, bad)
    with pytest.raises(TypeError, match="fraction"):
        settling_step(traj, "0.1")
    with pytest.raises(TypeError, match="trajectory"):
        settling_step(np.zeros((3, 2)), 0.1)


# --------------------------------------------------------------------------- Reddi's problem


def _adam(C, amsgrad, lr=0.5):
    return optlib.Adam(lr=lr, beta1=0.0, beta2=1.0 / (1.0 + C * C), amsgrad=amsgrad)


@pytest.mark.parametrize("C", [2.5, 3.0, 5.0, 10.0])
def test_adam_drifts_to_plus_one_and_amsgrad_to_minus_one(C):
    """Adam ends at the worst point +1 with regret ~2(C-2)/3 per step; AMSGrad at -1."""
    adam = reddi_online_problem(_adam(C, False), 3000, C=C)
    ams = reddi_online_problem(_adam(C, True), 3000, C=C)
    assert adam.x[-1] > 0.99
    assert ams.x[-1] < -0.99
    # one period of normalized steps: Adam's sum pushes x up, AMSGrad's down
    assert adam.moves[-3:].sum() < 0 < ams.moves[-3:].sum()
    # Adam's average regret stays near 2(C − 2)/3 per step, AMSGrad's goes to 0
    assert adam.average_regret[-1] == pytest.approx(2 * (C - 2) / 3, rel=0.05)
    assert ams.average_regret[-1] < 0.05 * adam.average_regret[-1]


def test_gradients_period_and_hand_computed_first_steps():
    """Gradients C, -1, -1, ...; gradient descent's projected iterates by hand."""
    C = 3.0
    res = reddi_online_problem(optlib.GradientDescent(lr=0.1), 7, C=C, x0=0.5,
                               schedule="constant")
    np.testing.assert_array_equal(res.grads, [C, -1, -1, C, -1, -1, C])
    np.testing.assert_allclose(res.moves, res.grads)            # GD: u_t = g_t
    x = [0.5]
    for g in res.grads:
        x.append(min(1.0, max(-1.0, x[-1] - 0.1 * g)))
    np.testing.assert_allclose(res.x, x)


def test_adam_moves_are_the_bias_corrected_normalized_steps():
    """Adam's moves are g/√v̂ (β1 = 0, ε = 0), computed by hand; the first is 1."""
    C, beta2 = 3.0, 0.1
    res = reddi_online_problem(optlib.Adam(lr=0.5, beta1=0.0, beta2=beta2, eps=0.0),
                               6, C=C)
    v, expected = 0.0, []
    for t, g in enumerate(res.grads, start=1):
        v = beta2 * v + (1 - beta2) * g * g
        expected.append(g / math.sqrt(v / (1 - beta2 ** t)))
    np.testing.assert_allclose(res.moves, expected, rtol=1e-12)
    assert res.moves[0] == pytest.approx(1.0)                  # the first step is ±α


def test_regret_against_a_direct_computation():
    """The average regret is (Σ c_t x_t − min over ±1 of Σ c_t x)/t."""
    res = reddi_online_problem(_adam(3.0, False), 50, C=3.0, x0=-0.3)
    t = np.arange(1, 51)
    losses = res.grads * res.x[:-1]                             # f_t(x_t) = c_t x_t
    best = min(np.cumsum(res.grads)[-1] * x for x in (-1.0, 1.0))
    assert res.average_regret[-1] == pytest.approx((losses.sum() - best) / 50)
    assert res.average_regret.shape == t.shape


@settings(max_examples=25, deadline=None)
@given(x0=st.floats(min_value=-1.0, max_value=1.0), lr=st.floats(min_value=0.01, max_value=5.0),
       amsgrad=st.booleans(), schedule=st.sampled_from(["sqrt", "constant"]))
def test_iterates_stay_in_the_interval_and_lr_is_restored(x0, lr, amsgrad, schedule):
    """Iterates stay in [-1, 1]; the optimizer's lr is restored and it took every step."""
    opt = optlib.Adam(lr=lr, beta1=0.0, beta2=0.1, amsgrad=amsgrad)
    res = reddi_online_problem(opt, 60, x0=x0, schedule=schedule)
    assert res.x[0] == x0
    assert np.all(np.abs(res.x) <= 1.0)
    assert opt.lr == lr and opt.t == 60
    assert np.all(np.isfinite(res.moves)) and np.all(np.isfinite(res.average_regret))


def test_every_period_pushes_amsgrad_down_and_adam_up():
    # From the second period on (once the averages have seen C²), the normalized steps of
    # each period t = 3k+1, 3k+2, 3k+3 sum to a positive number for AMSGrad (x decreases)
    # and a negative one for Adam (x increases).
    for amsgrad, sign in ((True, 1.0), (False, -1.0)):
        res = reddi_online_problem(_adam(3.0, amsgrad), 60, C=3.0)
        periods = res.moves.reshape(-1, 3).sum(axis=1)
        assert np.all(sign * periods[1:] > 0.1)


def test_reddi_rejects_bad_input():
    """Wrong kind -> TypeError, wrong value -> ValueError, naming the argument; nothing is run.
    (A float step count, an array C or x0 and a non-string schedule raised ValueError before.)"""
    adam = _adam(3.0, False)
    with pytest.raises(TypeError, match="optimizer"):
        reddi_online_problem("adam", 10)
    with pytest.raises(ValueError, match="lr"):
        reddi_online_problem(optlib.Adam(lr=np.array([0.1, 0.2])), 10)
    with pytest.raises(ValueError, match="steps"):
        reddi_online_problem(adam, -1)
    with pytest.raises(TypeError, match="steps"):
        reddi_online_problem(adam, 2.5)
    with pytest.raises(ValueError, match="C"):
        reddi_online_problem(adam, 10, C=2.0)
    with pytest.raises(TypeError, match="C"):
        reddi_online_problem(adam, 10, C=np.array([3.0, 4.0]))
    with pytest.raises(ValueError, match="x0"):
        reddi_online_problem(adam, 10, x0=1.5)
    with pytest.raises(TypeError, match="x0"):
        reddi_online_problem(adam, 10, x0="0")
    with pytest.raises(ValueError, match="schedule"):
        reddi_online_problem(adam, 10, schedule="cosine")
    with pytest.raises(TypeError, match="schedule"):
        reddi_online_problem(adam, 10, schedule=3)
    assert adam.t == 0                                           # nothing was run
