"""Tests for the chapter 2 additions to optlib.analysis: the EMA's gain, critical damping,
momentum's stability limit, and the classical heavy-ball / Nesterov forms.

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
from optlib.objectives import LinearRegression, Quadratic, Rosenbrock

betas = st.floats(min_value=0.0, max_value=0.97)
curvatures = st.floats(min_value=0.1, max_value=50.0)


# --------------------------------------------------------------------------- ema_gain


def test_ema_gain_hand_values():
    assert analysis.ema_gain(0.9, 0.0) == pytest.approx(1.0)
    assert analysis.ema_gain(0.9, math.pi) == pytest.approx(0.1 / 1.9)
    assert analysis.ema_gain(0.0, 1.234) == pytest.approx(1.0)
    assert analysis.ema_gain(0.5, math.pi / 2) == pytest.approx(0.5 / math.sqrt(1.25))
    out = analysis.ema_gain(np.array([0.0, 0.5, 0.9]), math.pi)
    np.testing.assert_allclose(out, [1.0, 0.5 / 1.5, 0.1 / 1.9])


@pytest.mark.parametrize("beta", [0.5, 0.9])
@pytest.mark.parametrize("omega", [math.pi, 2 * math.pi / 3, math.pi / 5])
def test_ema_gain_matches_the_momentum_buffer_on_a_cosine(beta, omega):
    # Feed g_t = cos(ωt) into Momentum's buffer; after the start is forgotten its amplitude
    # is the gain times the input's.
    w = np.zeros(1)
    opt = optlib.Momentum(lr=1e-3, beta=beta)
    buffers = []
    for t in range(600):
        opt.step(w, np.array([math.cos(omega * t)]))
        buffers.append(opt.state["momentum_buffer"][0])
    tail = np.array(buffers[400:])
    t = np.arange(400, 600)
    # least-squares fit of A cos ωt + B sin ωt
    basis = np.column_stack([np.cos(omega * t), np.sin(omega * t)])
    coef, *_ = np.linalg.lstsq(basis, tail, rcond=None)
    assert np.hypot(*coef) == pytest.approx(analysis.ema_gain(beta, omega), rel=1e-6)


def test_ema_gain_rejects_bad_input():
    with pytest.raises(ValueError, match="beta"):
        analysis.ema_gain(1.0, 0.5)
    with pytest.raises(ValueError, match="omega"):
        analysis.ema_gain(0.5, float("nan"))
    with pytest.raises(TypeError, match="omega"):
        analysis.ema_gain(0.5, "pi")


# --------------------------------------------------------------------------- critical damping


def test_critical_lr_hand_values():
    low, high = analysis.momentum_critical_lr(0.25, 25.0)
    assert low == pytest.approx(0.25 / 18.75)
    assert high == pytest.approx(2.25 / 18.75)
    low0, high0 = analysis.momentum_critical_lr(0.0, 4.0)
    assert low0 == pytest.approx(0.25) and high0 == pytest.approx(0.25)   # GD: αλ = 1


@settings(max_examples=60, deadline=None)
@given(beta=st.floats(min_value=0.05, max_value=0.95), lam=curvatures)
def test_discriminant_vanishes_at_the_critical_learning_rates(beta, lam):
    for lr in analysis.momentum_critical_lr(beta, lam):
        m = analysis.momentum_iteration_matrix(lr, beta, lam)
        trace, det = np.trace(m), np.linalg.det(m)
        assert trace ** 2 - 4 * det == pytest.approx(0.0, abs=1e-9 * max(1.0, trace ** 2))


@settings(max_examples=60, deadline=None)
@given(beta=st.floats(min_value=0.05, max_value=0.95), lam=curvatures,
       where=st.floats(min_value=0.05, max_value=0.95))
def test_between_the_critical_rates_the_regime_is_ripples_with_modulus_sqrt_beta(beta, lam,
                                                                               where):
    low, high = analysis.momentum_critical_lr(beta, lam)
    lr = low + where * (high - low)
    assert analysis.momentum_regime(lr, beta, lam) == "ripples"
    sig = np.linalg.eigvals(analysis.momentum_iteration_matrix(lr, beta, lam))
    np.testing.assert_allclose(np.abs(sig), math.sqrt(beta), rtol=1e-9)


@pytest.mark.parametrize("beta", [0.25, 0.5, 0.9])
def test_regimes_on_either_side_of_the_critical_rates(beta):
    low, high = analysis.momentum_critical_lr(beta, 25.0)
    assert analysis.momentum_regime(0.9 * low, beta, 25.0) == "monotone"
    limit = analysis.momentum_stability_limit(beta, (25.0,))
    assert high < limit
    assert analysis.momentum_regime(0.5 * (high + limit), beta, 25.0) == "oscillating"


def test_critical_lr_rejects_bad_input():
    with pytest.raises(ValueError, match="curvature"):
        analysis.momentum_critical_lr(0.5, 0.0)
    with pytest.raises(ValueError, match="beta"):
        analysis.momentum_critical_lr(-0.1, 1.0)


# --------------------------------------------------------------------------- stability limit


def test_stability_limit_hand_values():
    assert analysis.momentum_stability_limit(0.9, (1.0, 25.0)) == pytest.approx(1.52)
    assert analysis.momentum_stability_limit(0.0, Quadratic()) == pytest.approx(
        analysis.gd_stability_limit(Quadratic()))
    np.testing.assert_allclose(analysis.momentum_stability_limit(np.array([0.0, 0.5]), (2.0,)),
                               [1.0, 3.0])


@settings(max_examples=40, deadline=None)
@given(beta=betas, lam=curvatures)
def test_spectral_radius_is_one_at_the_stability_limit(beta, lam):
    limit = analysis.momentum_stability_limit(beta, (lam,))
    assert analysis.momentum_spectral_radius(limit, beta, (lam,)) == pytest.approx(1.0, abs=1e-6)
    assert analysis.momentum_spectral_radius(0.999 * limit, beta, (lam,)) < 1.0
    assert analysis.momentum_spectral_radius(1.001 * limit, beta, (lam,)) > 1.0


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_runs_just_below_the_limit_converge_and_just_above_diverge(beta):
    bowl = Quadratic()
    limit = analysis.momentum_stability_limit(beta, bowl)
    lrs = np.array([0.98 * limit, 1.02 * limit])[:, None]
    traj = optlib.run(optlib.Momentum(lr=lrs, beta=beta), bowl, bowl.start, 3000)
    assert not traj.diverged[0] and traj.diverged[1]


# --------------------------------------------------------------------------- heavy ball


@settings(max_examples=40, deadline=None)
@given(lr=st.floats(min_value=0.01, max_value=2.0), beta=betas, lam=curvatures)
def test_heavy_ball_matrix_has_the_eigenvalues_of_the_momentum_matrix(lr, beta, lam):
    hb = analysis.heavy_ball_iteration_matrix(lr * (1 - beta), beta, lam)
    ema = analysis.momentum_iteration_matrix(lr, beta, lam)
    assert np.trace(hb) == pytest.approx(np.trace(ema), abs=1e-9)
    assert np.linalg.det(hb) == pytest.approx(beta, abs=1e-9)
    # the change of variables (w, v) -> (w, w + αv) conjugates one into the other
    change = np.array([[1.0, 0.0], [1.0, lr]])
    np.testing.assert_allclose(change @ ema, hb @ change, atol=1e-9 * max(1.0, lr * lam))


def test_heavy_ball_matrix_reproduces_heavy_ball_points_on_a_quadratic():
    bowl = Quadratic()
    step, beta = 0.05, 0.6
    pts = analysis.heavy_ball_points(bowl, step, beta, bowl.start, 30)
    for k, lam in enumerate(bowl.curvatures):   # axis-aligned: coordinate k has curvature λ_k
        m = analysis.heavy_ball_iteration_matrix(step, beta, lam)
        state = np.array([bowl.start[k], bowl.start[k]])
        for t in range(30):
            state = m @ state
            assert state[0] == pytest.approx(pts[t + 1, k], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("objective, lr, beta", [
    (Quadratic(), 0.2, 4 / 9),
    (Quadratic(angle=0.5), 0.1, 0.9),
    (LinearRegression(), 0.5, 0.9),
    (Rosenbrock(), 2e-3, 0.9),
])
def test_momentum_visits_the_heavy_ball_points(objective, lr, beta):
    traj = optlib.run(optlib.Momentum(lr=lr, beta=beta), objective, objective.start, 200)
    hb = analysis.heavy_ball_points(objective, lr * (1 - beta), beta, objective.start, 200)
    scale = np.abs(hb).max()
    np.testing.assert_allclose(traj.points, hb, rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("objective, lr, beta", [
    (Quadratic(), 0.1, 0.6),
    (LinearRegression(), 0.5, 0.9),
    (Rosenbrock(), 2e-3, 0.9),
])
def test_nesterov_momentum_visits_the_look_ahead_points(objective, lr, beta):
    traj = optlib.run(optlib.Momentum(lr=lr, beta=beta, nesterov=True), objective,
                      objective.start, 200)
    w = analysis.heavy_ball_points(objective, lr * (1 - beta), beta, objective.start, 200,
                                   nesterov=True)
    previous = np.concatenate([w[:1], w[:-1]])
    ahead = w + beta * (w - previous)
    np.testing.assert_allclose(traj.points, ahead, rtol=0, atol=1e-12 * np.abs(ahead).max())
    assert np.abs(traj.points - w).max() > 1e-6     # it is the look-ahead, not w itself


def test_heavy_ball_with_beta_zero_is_gradient_descent_and_batches():
    bowl = Quadratic()
    gd = optlib.run(optlib.GradientDescent(lr=0.05), bowl, bowl.start, 50)
    np.testing.assert_allclose(analysis.heavy_ball_points(bowl, 0.05, 0.0, bowl.start, 50),
                               gd.points, rtol=0, atol=1e-12)
    steps = np.array([0.01, 0.05])[:, None]
    batch = analysis.heavy_ball_points(bowl, steps, 0.5, bowl.start, 10)
    assert batch.shape == (11, 2, 2)
    single = analysis.heavy_ball_points(bowl, 0.05, 0.5, bowl.start, 10)
    np.testing.assert_allclose(batch[:, 1], single, rtol=0, atol=0)


def test_heavy_ball_points_divergence_is_silent():
    import warnings

    bowl = Quadratic()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pts = analysis.heavy_ball_points(bowl, 1.0, 0.5, bowl.start, 2000)
    assert not np.all(np.isfinite(pts[-1]))


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(step=0.0), ValueError, "step"),
    (dict(beta=1.0), ValueError, "beta"),
    (dict(steps=-1), ValueError, "steps"),
    (dict(steps=2.5), ValueError, "steps"),
    (dict(w0=[1.0, 2.0, 3.0]), ValueError, "w0"),
    (dict(w0=[1.0, float("nan")]), ValueError, "w0"),
    (dict(w0="start"), TypeError, "w0"),
    (dict(nesterov="yes"), TypeError, "nesterov"),
])
def test_heavy_ball_points_rejects_bad_input(kwargs, error, name):
    args = dict(step=0.05, beta=0.5, w0=[1.0, 1.0], steps=5)
    args.update(kwargs)
    with pytest.raises(error, match=name):
        analysis.heavy_ball_points(Quadratic(), **args)
