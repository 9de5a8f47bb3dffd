"""Tests for optlib.run and Trajectory: shapes, batching, divergence, measurements, validation."""

import math
import warnings

import numpy as np
import pytest

import optlib
from optlib.objectives import Beale, Noisy, Quadratic, Rosenbrock, Saddle


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


class CountingObjective:
    """Wraps an objective and counts every evaluation, to show that nothing was run."""

    def __init__(self, inner):
        self.inner = inner
        self.calls = 0
        self.minimum = inner.minimum
        self.min_value = inner.min_value

    def value(self, w):
        self.calls += 1
        return self.inner.value(w)

    def grad(self, w):
        self.calls += 1
        return self.inner.grad(w)

    def value_and_grad(self, w):
        self.calls += 1
        return self.inner.value_and_grad(w)


def gd_loss_path(curvatures, lr, w0, steps):
    """Losses of GD on an unrotated, centred quadratic by the closed form w_t = (1-αλ)^t w_0."""
    lam = np.asarray(curvatures)
    t = np.arange(steps + 1)[:, None]
    w = np.asarray(w0) * (1.0 - lr * lam) ** t
    return 0.5 * (w ** 2 * lam).sum(axis=-1)


def first_above(losses, limit):
    """First index whose loss exceeds limit (by an independent scan), or -1."""
    for t, loss in enumerate(losses):
        if not loss <= limit:
            return t
    return -1


# --------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------


def test_single_run_shapes_and_types():
    """One run: points (steps+1, 2), losses (steps+1,), diverged a bool, diverged_at an int."""
    q = Quadratic()
    tr = optlib.run(optlib.GradientDescent(lr=0.05), q, q.start, 25)
    assert tr.points.shape == (26, 2)
    assert tr.losses.shape == (26,)
    assert type(tr.diverged) is bool and tr.diverged is False
    assert type(tr.diverged_at) is int and tr.diverged_at == -1
    assert tr.steps == 25
    assert tr.batch_shape == ()
    assert isinstance(tr.steps_to(1e-3), int)


def test_zero_steps_run():
    """steps = 0 records only the start point and its loss."""
    q = Quadratic()
    tr = optlib.run(optlib.GradientDescent(lr=0.05), q, [1.0, 2.0], 0)
    np.testing.assert_array_equal(tr.points, [[1.0, 2.0]])
    np.testing.assert_allclose(tr.losses, [0.5 * (1.0 + 25.0 * 4.0)], rtol=1e-15)
    assert tr.diverged is False


def test_batched_start_points_shape():
    """w0 of shape (K, 2) with scalar hyperparameters gives points (steps+1, K, 2)."""
    q = Quadratic()
    w0 = np.array([[1.0, 1.0], [-3.0, 0.5], [0.0, 0.0]])
    tr = optlib.run(optlib.Momentum(lr=0.1, beta=0.9), q, w0, 12)
    assert tr.points.shape == (13, 3, 2)
    assert tr.losses.shape == (13, 3)
    assert tr.diverged.shape == (3,) and tr.diverged.dtype == bool
    assert tr.diverged_at.shape == (3,)
    assert tr.batch_shape == (3,)
    np.testing.assert_array_equal(tr.points[0], w0)


def test_lr_column_broadcasts_single_start_point():
    """lr of shape (K, 1) with w0 of shape (2,) gives K runs from the same start."""
    q = Quadratic()
    lr = np.array([[0.01], [0.03], [0.05], [0.07]])
    tr = optlib.run(optlib.GradientDescent(lr=lr), q, q.start, 10)
    assert tr.points.shape == (11, 4, 2)
    assert tr.losses.shape == (11, 4)
    np.testing.assert_array_equal(tr.points[0], np.broadcast_to(q.start, (4, 2)))
    # each row follows its own learning rate: x_1 = (1 - α) x_0
    np.testing.assert_allclose(tr.points[1, :, 0], (1.0 - lr[:, 0]) * q.start[0], rtol=1e-14)


def test_lr_beta_grid_shape():
    """lr (A, 1, 1) × beta (1, B, 1) gives points (steps+1, A, B, 2) and losses (steps+1, A, B)."""
    q = Quadratic()
    lr = np.array([0.01, 0.05, 0.1]).reshape(3, 1, 1)
    beta = np.array([0.0, 0.5, 0.8, 0.95]).reshape(1, 4, 1)
    tr = optlib.run(optlib.Momentum(lr=lr, beta=beta), q, q.start, 15)
    assert tr.points.shape == (16, 3, 4, 2)
    assert tr.losses.shape == (16, 3, 4)
    assert tr.diverged.shape == (3, 4)
    assert tr.batch_shape == (3, 4)
    assert tr.distances().shape == (16, 3, 4)
    assert tr.steps_to(1e-2).shape == (3, 4)
    assert tr.rate().shape == (3, 4)


# --------------------------------------------------------------------------
# Batched runs are individual runs
# --------------------------------------------------------------------------


def assert_same_runs(batched, singles, index_shape):
    """Every configuration of a batched trajectory equals its individual run."""
    for idx in np.ndindex(*index_shape):
        single = singles[idx]
        np.testing.assert_allclose(batched.points[(slice(None),) + idx], single.points,
                                   rtol=1e-12, atol=1e-12, equal_nan=True)
        np.testing.assert_allclose(batched.losses[(slice(None),) + idx], single.losses,
                                   rtol=1e-12, atol=1e-12, equal_nan=True)
        assert bool(batched.diverged[idx]) is single.diverged
        assert int(batched.diverged_at[idx]) == single.diverged_at


def test_batched_gd_equals_individual_runs_some_diverging():
    """GD with lr (5, 1) straddling 2/λ_max: each row equals its own run; divergers are nan afterwards."""
    q = Quadratic(angle=0.3)
    lrs = [0.03, 0.07, 0.079, 0.081, 0.12]
    batched = optlib.run(optlib.GradientDescent(lr=np.array(lrs)[:, None]), q, q.start, 400)
    singles = {(i,): optlib.run(optlib.GradientDescent(lr=a), q, q.start, 400)
               for i, a in enumerate(lrs)}
    assert_same_runs(batched, singles, (5,))
    np.testing.assert_array_equal(batched.diverged, [False, False, False, True, True])
    for i in (3, 4):
        at = batched.diverged_at[i]
        assert 0 < at < 400
        assert np.isfinite(batched.points[:at, i]).all()
        assert np.isfinite(batched.losses[:at, i]).all()
        assert np.isnan(batched.points[at:, i]).all()
        assert np.isnan(batched.losses[at:, i]).all()
    assert np.isfinite(batched.points[:, :3]).all()


def test_batched_momentum_grid_equals_individual_runs():
    """A 3×3 (lr, beta) Momentum grid, some configurations divergent, equals 9 separate runs."""
    q = Quadratic()
    lrs = [0.05, 0.2, 0.5]
    betas = [0.0, 0.5, 0.9]
    opt = optlib.Momentum(lr=np.array(lrs).reshape(3, 1, 1), beta=np.array(betas).reshape(1, 3, 1))
    batched = optlib.run(opt, q, q.start, 300)
    singles = {(i, j): optlib.run(optlib.Momentum(lr=a, beta=b), q, q.start, 300)
               for i, a in enumerate(lrs) for j, b in enumerate(betas)}
    assert_same_runs(batched, singles, (3, 3))
    assert batched.diverged.any() and not batched.diverged.all()


@pytest.mark.parametrize("make", [
    lambda lr: optlib.Adam(lr=lr),
    lambda lr: optlib.RMSprop(lr=lr, beta=0.99),
    lambda lr: optlib.Adagrad(lr=lr),
    lambda lr: optlib.AdamW(lr=lr, weight_decay=0.1),
], ids=["Adam", "RMSprop", "Adagrad", "AdamW"])
def test_batched_adaptive_runs_on_rosenbrock_equal_individual_runs(make):
    """Adaptive optimizers with lr (3, 1) on Rosenbrock, one lr absurdly large, equal separate runs."""
    f = Rosenbrock()
    lrs = [1e-3, 1e-2, 1e4]
    batched = optlib.run(make(np.array(lrs)[:, None]), f, f.start, 200)
    singles = {(i,): optlib.run(make(a), f, f.start, 200) for i, a in enumerate(lrs)}
    assert_same_runs(batched, singles, (3,))
    assert batched.diverged[2] and not batched.diverged[:2].any()


def test_batched_start_points_equal_individual_runs():
    """w0 of shape (4, 2) equals four runs from each start (Beale, GD)."""
    f = Beale()
    w0 = np.array([[1.0, 1.5], [2.0, 0.0], [0.0, 1.0], [4.0, 4.0]])
    batched = optlib.run(optlib.GradientDescent(lr=5e-3), f, w0, 150)
    singles = {(i,): optlib.run(optlib.GradientDescent(lr=5e-3), f, w0[i], 150)
               for i in range(4)}
    assert_same_runs(batched, singles, (4,))


# --------------------------------------------------------------------------
# What a run records
# --------------------------------------------------------------------------


@pytest.mark.parametrize("objective", [Quadratic(angle=0.7, center=(1.0, -1.0)), Rosenbrock(),
                                       Beale(), Saddle()], ids=lambda o: type(o).__name__)
def test_points_start_at_w0_and_losses_are_values(objective):
    """points[0] = w0 and losses = objective.value(points), batch included."""
    w0 = np.stack([objective.start, objective.start + 0.1])
    tr = optlib.run(optlib.Momentum(lr=1e-3, beta=0.9), objective, w0, 50)
    np.testing.assert_array_equal(tr.points[0], w0)
    np.testing.assert_array_equal(tr.losses, objective.value(tr.points))


def test_points_follow_the_update_rule():
    """Each recorded point is the previous one minus α·grad (GD on Rosenbrock)."""
    f = Rosenbrock()
    tr = optlib.run(optlib.GradientDescent(lr=1e-3), f, f.start, 30)
    expected = tr.points[:-1] - 1e-3 * f.grad(tr.points[:-1])
    np.testing.assert_allclose(tr.points[1:], expected, rtol=1e-14, atol=1e-15)


def test_run_does_not_mutate_w0():
    """The caller's w0 array is left untouched (single and batched)."""
    q = Quadratic()
    w0 = np.array([3.0, -2.0])
    keep = w0.copy()
    tr = optlib.run(optlib.GradientDescent(lr=0.05), q, w0, 20)
    np.testing.assert_array_equal(w0, keep)
    assert not np.shares_memory(tr.points, w0)
    wb = np.array([[3.0, -2.0], [1.0, 1.0]])
    keepb = wb.copy()
    optlib.run(optlib.Adam(lr=0.1), q, wb, 20)
    np.testing.assert_array_equal(wb, keepb)


def test_run_resets_the_optimizer():
    """A second run with the same optimizer (already stepped) gives identical results."""
    f = Rosenbrock()
    opt = optlib.Adam(lr=0.02)
    first = optlib.run(opt, f, f.start, 100)
    second = optlib.run(opt, f, f.start, 100)
    np.testing.assert_array_equal(first.points, second.points)
    # state left over from unrelated steps does not leak in either
    opt.reset()
    opt.step(np.ones(2), np.full(2, 7.0))
    third = optlib.run(opt, f, f.start, 100)
    np.testing.assert_array_equal(first.points, third.points)
    fresh = optlib.run(optlib.Adam(lr=0.02), f, f.start, 100)
    np.testing.assert_array_equal(first.points, fresh.points)


def test_trajectory_records_optimizer_and_objective():
    """The trajectory keeps the optimizer's repr and the objective itself."""
    q = Quadratic()
    opt = optlib.Momentum(lr=0.1, beta=0.5)
    tr = optlib.run(opt, q, q.start, 3)
    assert tr.optimizer == repr(opt)
    assert tr.objective is q
    np.testing.assert_array_equal(tr.final, tr.points[-1])


# --------------------------------------------------------------------------
# Divergence is quiet
# --------------------------------------------------------------------------


def test_gd_ten_times_the_limit_diverges_quietly():
    """GD with α = 10·(2/25) = 0.8 raises no warning and stops at the first loss above 1e6·f(w0)."""
    q = Quadratic()
    w0 = q.start  # (-8, 1.5): f(w0) = 32 + 28.125
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = optlib.run(optlib.GradientDescent(lr=0.8), q, w0, 500)
        tr.distances(), tr.rate(), tr.steps_to(1e-3)
    # by hand: x_t = -8·0.2^t, y_t = 1.5·(-19)^t; the loss passes 6.0125e7 at t = 3
    losses = gd_loss_path((1.0, 25.0), 0.8, w0, 10)
    assert first_above(losses, 1e6 * 60.125) == 3
    assert tr.diverged is True
    assert tr.diverged_at == 3
    np.testing.assert_allclose(tr.losses[:3], losses[:3], rtol=1e-13)
    assert np.isfinite(tr.points[:3]).all()
    assert np.isnan(tr.points[3:]).all() and np.isnan(tr.losses[3:]).all()


def test_default_max_loss_uses_one_for_small_start_losses():
    """Default max_loss is 1e6·max(1, |f(w0)|): from f(w0) = 1.25e-5 the limit is 1e6, reached at t = 5."""
    q = Quadratic()
    w0 = np.array([0.0, 1e-3])
    losses = gd_loss_path((1.0, 25.0), 0.8, w0, 10)
    assert first_above(losses, 1e6) == 5           # 12.5e-6 · 361^t > 1e6
    assert first_above(losses, 1e6 * losses[0]) == 3
    tr = optlib.run(optlib.GradientDescent(lr=0.8), q, w0, 50)
    assert tr.diverged_at == 5


@pytest.mark.parametrize("make, max_loss", [
    (lambda: optlib.GradientDescent(lr=10.0), None),
    (lambda: optlib.Momentum(lr=50.0, beta=0.9), None),
    (lambda: optlib.Adam(lr=1e4), None),
    (lambda: optlib.RMSprop(lr=1e4), None),
    # max_loss out of the way: GD and Momentum overflow to inf/nan before they are stopped.
    # (Adam's and RMSprop's steps are bounded by ~lr, so they cannot overflow.)
    (lambda: optlib.GradientDescent(lr=10.0), 1e300),
    (lambda: optlib.Momentum(lr=50.0, beta=0.9), 1e300),
], ids=["GD", "Momentum", "Adam", "RMSprop", "GD-overflow", "Momentum-overflow"])
def test_rosenbrock_huge_lr_diverges_quietly(make, max_loss):
    """Huge lr on Rosenbrock: no warning (even through overflow to inf), diverged, finite before."""
    f = Rosenbrock()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = optlib.run(make(), f, f.start, 200, max_loss=max_loss)
        tr.distances(), tr.rate(), tr.steps_to(1e-3)
    assert tr.diverged is True
    assert 1 <= tr.diverged_at < 200
    at = tr.diverged_at
    assert np.isfinite(tr.points[:at]).all() and np.isfinite(tr.losses[:at]).all()
    assert np.isnan(tr.points[at:]).all() and np.isnan(tr.losses[at:]).all()
    limit = 1e6 * f.value(f.start) if max_loss is None else max_loss
    assert (tr.losses[:at] <= limit).all()
    # the point that tripped the check, recomputed by hand from the last good point
    opt = make()
    w = tr.points[:at].copy()
    replay = [w[0].copy()]
    p = w[0].copy()
    with np.errstate(all="ignore"):
        for _ in range(at):
            opt.step(p, f.grad(p))
            replay.append(p.copy())
        bad = f.value(replay[at])
    np.testing.assert_allclose(replay[:at], tr.points[:at], rtol=1e-12)
    assert not bad <= limit
    if max_loss is not None:
        assert not np.isfinite(bad)  # the overflow path was exercised


def test_batched_divergence_is_quiet_and_partial():
    """A batch where only some runs overflow raises no warning; the others finish normally."""
    f = Rosenbrock()
    lr = np.array([[1e-4], [1e-3], [10.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = optlib.run(optlib.GradientDescent(lr=lr), f, f.start, 300, max_loss=1e300)
        rates = tr.rate()
    np.testing.assert_array_equal(tr.diverged, [False, False, True])
    np.testing.assert_array_equal(tr.diverged_at[:2], [-1, -1])
    assert np.isfinite(tr.points[:, :2]).all()
    assert rates.shape == (3,)


# --------------------------------------------------------------------------
# max_loss
# --------------------------------------------------------------------------


def test_max_loss_sets_the_divergence_threshold():
    """max_loss = 1e3 stops GD (α = 0.8) at the first loss above 1e3: t = 1 by hand."""
    q = Quadratic()
    losses = gd_loss_path((1.0, 25.0), 0.8, q.start, 10)
    # w_1 = (-1.6, -28.5): f = (2.56 + 25·812.25)/2 = 10154.405 > 1e3
    assert losses[1] == pytest.approx(10154.405, rel=1e-12)
    expected = first_above(losses, 1e3)
    assert expected == 1
    tr = optlib.run(optlib.GradientDescent(lr=0.8), q, q.start, 50, max_loss=1e3)
    assert tr.diverged_at == expected
    tr_default = optlib.run(optlib.GradientDescent(lr=0.8), q, q.start, 50)
    assert tr_default.diverged_at > tr.diverged_at


def test_max_loss_equal_to_a_loss_is_not_divergence():
    """A loss exactly equal to max_loss does not count as exceeding it (converging GD, max_loss = f(w0))."""
    q = Quadratic()
    f0 = float(q.value(q.start))
    tr = optlib.run(optlib.GradientDescent(lr=0.05), q, q.start, 100, max_loss=f0)
    assert tr.diverged is False
    tr2 = optlib.run(optlib.GradientDescent(lr=0.05), q, q.start, 100,
                     max_loss=math.nextafter(f0, -math.inf))
    assert tr2.diverged is True and tr2.diverged_at == 0


def test_max_loss_huge_lets_a_run_grow():
    """With max_loss = 1e300 a mildly unstable GD run (α = 0.081) is not stopped within 500 steps."""
    q = Quadratic()
    tr = optlib.run(optlib.GradientDescent(lr=0.081), q, q.start, 500, max_loss=1e300)
    assert tr.diverged is False
    # y_t = 1.5·(1 - 0.081·25)^t = 1.5·(-1.025)^t
    assert tr.points[500, 1] == pytest.approx(1.5 * (-1.025) ** 500, rel=1e-9)


# --------------------------------------------------------------------------
# Measurements on a trajectory
# --------------------------------------------------------------------------


def test_distances_rate_and_steps_to_on_gd_with_known_rate():
    """Curvatures (1, 1), α = 0.5: w_t = w_0/2^t exactly, so rate 0.5 and steps_to(1e-6) = 13."""
    q = Quadratic(curvatures=(1.0, 1.0))
    w0 = q.start  # (-8, 1.5): |w0|² = 66.25, f(w0) = 33.125
    tr = optlib.run(optlib.GradientDescent(lr=0.5), q, w0, 60)
    t = np.arange(61)
    np.testing.assert_allclose(tr.distances(), math.sqrt(66.25) * 0.5 ** t, rtol=1e-14)
    np.testing.assert_allclose(tr.losses, 33.125 * 0.25 ** t, rtol=1e-14)
    assert tr.rate() == pytest.approx(0.5, rel=1e-12)
    assert tr.rate(skip=10) == pytest.approx(0.5, rel=1e-12)
    # 33.125/4^12 ≈ 1.97e-6 > 1e-6 ≥ 33.125/4^13 ≈ 4.94e-7
    assert tr.steps_to(1e-6) == 13
    assert tr.steps_to(33.125 / 4 ** 5) == 5  # ≤, not <
    assert tr.steps_to(100.0) == 0
    assert tr.steps_to(1e-300) == -1


def test_distances_measure_from_the_minimum():
    """distances() is |w_t - w*| for an off-centre minimum and for Rosenbrock's (1, 1)."""
    q = Quadratic(curvatures=(1.0, 1.0), center=(3.0, -4.0))
    tr = optlib.run(optlib.GradientDescent(lr=0.5), q, [0.0, 0.0], 5)
    np.testing.assert_allclose(tr.distances(), 5.0 * 0.5 ** np.arange(6), rtol=1e-14)
    f = Rosenbrock()
    tr = optlib.run(optlib.GradientDescent(lr=1e-3), f, [1.0, 3.0], 0)
    assert tr.distances()[0] == pytest.approx(2.0)


def test_steps_to_uses_min_value():
    """steps_to measures the gap f - f*: Saddle's min_value -1/4 is subtracted."""
    f = Saddle()
    tr = optlib.run(optlib.GradientDescent(lr=0.1), f, [0.0, 1.0 + 1e-2], 50)
    gap = tr.losses - (-0.25)
    expected = int(np.argmax(gap <= 1e-8))
    assert gap[expected] <= 1e-8 and gap[expected - 1] > 1e-8
    assert tr.steps_to(1e-8) == expected


def test_batched_measurements():
    """For a batch, steps_to and rate give one value per run; steps_to is -1 for a diverged run."""
    q = Quadratic(curvatures=(1.0, 1.0))
    lr = np.array([[0.5], [0.75], [2.5]])  # rates 0.5, 0.25, divergent (|1 - 2.5| = 1.5)
    tr = optlib.run(optlib.GradientDescent(lr=lr), q, q.start, 40)
    # f_t = 33.125·r^(2t): r = 0.5 → 13 (above); r = 0.25 → 33.125/16^t ≤ 1e-6 at t = 7
    np.testing.assert_array_equal(tr.steps_to(1e-6), [13, 7, -1])
    rates = tr.rate()
    assert rates[0] == pytest.approx(0.5, rel=1e-12)
    assert rates[1] == pytest.approx(0.25, rel=1e-12)
    np.testing.assert_array_equal(tr.diverged, [False, False, True])


def test_rate_is_nan_for_a_diverged_run():
    """Trajectory.rate documents nan for diverged runs (GD α = 0.081 diverges at step 296)."""
    q = Quadratic()
    tr = optlib.run(optlib.GradientDescent(lr=0.081), q, q.start, 1000)
    assert tr.diverged is True
    assert math.isnan(tr.rate())


def test_rate_matches_own_fit_on_momentum_ripples():
    """Trajectory.rate equals a plain least-squares fit of log-distance (Momentum, ripples)."""
    q = Quadratic(angle=0.4)
    tr = optlib.run(optlib.Momentum(lr=0.15, beta=0.6), q, q.start, 2000)
    d = tr.distances()
    t = np.arange(d.size)
    use = (t >= 20) & (d > 1e-200 * d[0])
    own = math.exp(np.polyfit(t[use], np.log(d[use]), 1)[0])
    assert tr.rate(skip=20, floor=1e-200) == pytest.approx(own, rel=1e-10)
    assert own == pytest.approx(math.sqrt(0.6), abs=1e-4)  # complex regime: √β


def test_steps_to_rejects_bad_tol():
    """steps_to(tol): tol ≤ 0 or nan → ValueError; a string or bool → TypeError; both name tol."""
    q = Quadratic()
    tr = optlib.run(optlib.GradientDescent(lr=0.05), q, q.start, 5)
    for bad in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="tol"):
            tr.steps_to(bad)
    for bad in ("small", True):
        with pytest.raises(TypeError, match="tol"):
            tr.steps_to(bad)


# --------------------------------------------------------------------------
# Bad inputs: the error names the argument and nothing is run
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, name", [
    (dict(steps=-1), "steps"),
    (dict(steps=2.5), "steps"),
    (dict(steps=True), "steps"),
    (dict(steps="10"), "steps"),
    (dict(w0=np.array([1.0, 2.0, 3.0])), "w0"),
    (dict(w0=np.array([1.0, np.nan])), "w0"),
    (dict(w0=np.array([np.inf, 0.0])), "w0"),
    (dict(w0="start"), "w0"),
    (dict(w0=np.zeros((4, 2))), "w0"),        # does not broadcast against lr (3, 1)
    (dict(max_loss="x"), "max_loss"),
    (dict(max_loss=math.nan), "max_loss"),
    (dict(optimizer="sgd"), "optimizer"),
    (dict(optimizer=object()), "optimizer"),
], ids=lambda v: repr(v) if isinstance(v, str) else None)
def test_bad_inputs_raise_and_run_nothing(kwargs, name):
    """Each bad argument raises TypeError/ValueError naming it; no evaluation, optimizer untouched."""
    opt = optlib.Momentum(lr=np.array([[0.01], [0.02], [0.03]]), beta=0.5)
    p = np.ones((3, 2))
    opt.step(p, np.ones((3, 2)))  # give it state that a run would reset
    objective = CountingObjective(Quadratic())
    args = dict(optimizer=opt, objective=objective, w0=np.zeros(2), steps=10)
    args.update(kwargs)
    with pytest.raises((TypeError, ValueError), match=name):
        optlib.run(args.pop("optimizer"), args.pop("objective"), args.pop("w0"),
                   args.pop("steps"), **args)
    assert objective.calls == 0
    assert opt.t == 1
    np.testing.assert_array_equal(opt.state["momentum_buffer"], np.full((3, 2), 0.5))


def test_good_inputs_to_counting_objective_do_run():
    """The same set-up with valid arguments runs and resets the optimizer (the control case)."""
    opt = optlib.GradientDescent(lr=np.array([[0.01], [0.02], [0.03]]))
    opt.step(np.ones((3, 2)), np.ones((3, 2)))
    objective = CountingObjective(Quadratic())
    tr = optlib.run(opt, objective, np.array([1.0, 1.0]), 10)
    assert objective.calls > 0
    assert opt.t == 10
    assert tr.points.shape == (11, 3, 2)


def test_integer_like_steps_and_lists_are_accepted():
    """steps may be a numpy integer and w0 a list of ints."""
    q = Quadratic()
    tr = optlib.run(optlib.GradientDescent(lr=0.05), q, [1, 2], np.int64(4))
    assert tr.points.shape == (5, 2)
    assert tr.points.dtype == np.float64
    np.testing.assert_array_equal(tr.points[0], [1.0, 2.0])


# --------------------------------------------------------------------------
# Every optimizer reaches the minimum of the default quadratic
# --------------------------------------------------------------------------

# Hyperparameters, chosen so that each optimizer gets the loss gap below 1e-6 from
# the default start (-8, 1.5) and keeps it there:
# * GD at its optimal lr 2/26 (rate 12/13: 1e-6 after ~112 steps);
# * Momentum at Polyak's optimum α = 0.2, β = 4/9 (rate 2/3);
# * RMSprop with lr 0.01 and a long memory β = 0.999 (with β = 0.9 it hovers at a
#   loss ~ lr² instead of converging);
# * Adagrad with lr 1; Adam and AdamW with lr 0.1 (AdamW's decay pulls toward the
#   minimum at the origin, so it does not bias it).
REACHES = [
    ("GradientDescent", lambda: optlib.GradientDescent(lr=2.0 / 26.0), 300),
    ("Momentum", lambda: optlib.Momentum(lr=0.2, beta=4.0 / 9.0), 200),
    ("RMSprop", lambda: optlib.RMSprop(lr=0.01, beta=0.999), 2000),
    ("Adagrad", lambda: optlib.Adagrad(lr=1.0), 500),
    ("Adam", lambda: optlib.Adam(lr=0.1), 1000),
    ("AdamW", lambda: optlib.AdamW(lr=0.1, weight_decay=0.01), 1000),
]


@pytest.mark.parametrize("name, make, steps", REACHES, ids=[r[0] for r in REACHES])
def test_every_optimizer_reaches_the_minimum(name, make, steps):
    """With the hyperparameters above, the loss gap ends (and stays over the last 50 steps) below 1e-6."""
    q = Quadratic()
    tr = optlib.run(make(), q, q.start, steps)
    assert tr.diverged is False
    gap = tr.losses - q.min_value
    assert gap[0] > 10.0
    assert np.all(gap[-50:] < 1e-6)
    assert 0 < tr.steps_to(1e-6) <= steps - 50
    assert np.linalg.norm(tr.final - q.minimum) < 1e-3


# --------------------------------------------------------------------------
# run's inner loop skips step's checks after the first step: same bits, same errors
# --------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: optlib.GradientDescent(lr=np.array([[0.01], [0.05], [0.3]])),
    lambda: optlib.Momentum(lr=0.05, beta=np.array([[0.0], [0.9], [0.99]]), nesterov=True),
    lambda: optlib.RMSprop(lr=0.1, eps=0.0),
    lambda: optlib.Adagrad(lr=0.5),
    lambda: optlib.Adam(lr=np.array([[0.01], [0.5], [3.0]]), weight_decay=0.1, amsgrad=True),
    lambda: optlib.AdamW(lr=0.2, weight_decay=0.05),
], ids=["gd", "nesterov", "rmsprop", "adagrad", "adam", "adamw"])
@pytest.mark.parametrize("objective", [Quadratic(angle=0.3), Rosenbrock(), Beale()],
                         ids=["quadratic", "rosenbrock", "beale"])
def test_run_equals_a_loop_of_checked_steps_bit_for_bit(make, objective):
    """run (which skips step's checks after its first step) gives exactly the points of a
    plain loop of checked `step` calls, diverging runs included."""
    traj = optlib.run(make(), objective, objective.start, 60)
    opt = make()
    w = np.array(np.broadcast_to(objective.start, traj.points.shape[1:]))
    expected = [w.copy()]
    with np.errstate(all="ignore"):
        for _ in range(60):
            g = objective.grad(w)
            dead = ~np.isfinite(g).all(axis=-1) | ~np.isfinite(objective.value(w))
            if dead.all():
                break
            g[dead] = 0.0
            opt.step(w, g)
            expected.append(w.copy())
    alive = ~np.isnan(traj.points[: len(expected)])
    assert np.array_equal(traj.points[: len(expected)][alive], np.array(expected)[alive])


def test_an_objective_of_another_kind_is_checked_at_every_step():
    """A gradient of the wrong shape from a user's objective is caught at a later step too."""
    bowl = Quadratic()

    class Sloppy:
        calls = 0

        def value_and_grad(self, w):
            self.calls += 1
            value, grad = bowl.value_and_grad(w)
            return value, (grad if self.calls < 5 else grad[..., :1])     # breaks at step 4

    with pytest.raises(ValueError, match=r"gradient at step 4 has shape \(1,\); it must have "
                                         r"the shape of the points, \(2,\)"):
        optlib.run(optlib.Adam(lr=0.1), Sloppy(), bowl.start, 10)


# --------------------------------------------------------------------------
# Runs on a noisy objective (optlib.objectives.Noisy)
# --------------------------------------------------------------------------


def seeded_xi(seed, step, shape):
    """The documented noise draw of step t, recomputed with plain numpy."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(step,))).standard_normal(
        shape)


def test_noisy_run_is_gradient_descent_with_the_documented_noise_of_each_step():
    """w_t = w_{t-1} - lr (H w_{t-1} + sigma xi_t), xi_t drawn for t = 1, 2, ... by the test's own
    recursion; the losses are the noise-free f(w_t)."""
    inner = Quadratic(curvatures=(1.0, 10.0), angle=0.3)
    f = Noisy(inner, noise=0.4, seed=21)
    lr, steps = 0.05, 60
    traj = optlib.run(optlib.GradientDescent(lr=lr), f, inner.start, steps)
    h = inner.hessian
    w = inner.start
    expected = [w]
    for t in range(1, steps + 1):
        w = w - lr * (h @ w + 0.4 * seeded_xi(21, t, (2,)))
        expected.append(w)
    expected = np.array(expected)
    np.testing.assert_allclose(traj.points, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(traj.losses, 0.5 * np.einsum("ti,ij,tj->t", expected, h, expected),
                               rtol=1e-11, atol=1e-15)


def test_noisy_runs_are_reproducible_and_the_seed_matters():
    f = Noisy(Quadratic(), noise=1.0, seed=4)
    opt = optlib.Momentum(lr=0.03, beta=0.9)
    a = optlib.run(opt, f, f.start, 200)
    b = optlib.run(opt, f, f.start, 200)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.losses, b.losses)
    c = optlib.run(opt, Noisy(Quadratic(), noise=1.0, seed=4), f.start, 200)   # an equal object
    np.testing.assert_array_equal(a.points, c.points)
    d = optlib.run(opt, Noisy(Quadratic(), noise=1.0, seed=5), f.start, 200)
    assert not np.any(a.points[1:] == d.points[1:])


def test_noise_free_noisy_run_equals_the_plain_run():
    for objective in (Quadratic(angle=0.5), Rosenbrock(), Beale(), Saddle()):
        opt = optlib.Adam(lr=0.01)
        plain = optlib.run(opt, objective, objective.start, 80)
        noisy = optlib.run(opt, Noisy(objective, 0.0, seed=1), objective.start, 80)
        np.testing.assert_array_equal(noisy.points, plain.points)
        np.testing.assert_array_equal(noisy.losses, plain.losses)


def recovered_noise_gd(traj, lr, hessian):
    """The noise gradient descent received: g_t = (w_{t-1} - w_t)/lr, minus H w_{t-1}."""
    p = traj.points
    return (p[:-1] - p[1:]) / lr - p[:-1] @ hessian.T


def recovered_noise_momentum(traj, lr, beta, hessian):
    """The noise EMA momentum received: v_t = (w_{t-1} - w_t)/lr and
    g_t = (v_t - beta v_{t-1})/(1 - beta), minus H w_{t-1}."""
    p = traj.points
    v = (p[:-1] - p[1:]) / lr
    v_prev = np.concatenate([np.zeros_like(v[:1]), v[:-1]])
    return (v - beta * v_prev) / (1 - beta) - p[:-1] @ hessian.T


def test_two_optimizers_on_the_same_noisy_objective_see_the_same_noise():
    """Common random numbers across optimizers: the noise recovered from a gradient-descent run and
    from a momentum run on one Noisy is the same sequence (the documented draws); another seed's
    is not."""
    inner = Quadratic(curvatures=(1.0, 5.0))
    f = Noisy(inner, noise=0.8, seed=13)
    h = inner.hessian
    gd = optlib.run(optlib.GradientDescent(lr=0.1), f, inner.start, 100)
    mom = optlib.run(optlib.Momentum(lr=0.1, beta=0.5), f, inner.start, 100)
    noise_gd = recovered_noise_gd(gd, 0.1, h)
    noise_mom = recovered_noise_momentum(mom, 0.1, 0.5, h)
    np.testing.assert_allclose(noise_gd, noise_mom, atol=1e-9)
    expected = 0.8 * np.array([seeded_xi(13, t, (2,)) for t in range(1, 101)])
    np.testing.assert_allclose(noise_gd, expected, atol=1e-9)
    other = optlib.run(optlib.GradientDescent(lr=0.1), Noisy(inner, 0.8, seed=14), inner.start,
                       100)
    assert np.all(np.abs(recovered_noise_gd(other, 0.1, h) - noise_gd) > 1e-9)


def test_common_noise_batched_run_equals_the_single_runs_row_by_row():
    """common=True: K learning rates (and K noise levels) in one (K, 2) run give, row by row, the K
    single runs."""
    inner = Quadratic(curvatures=(1.0, 25.0))
    lrs = np.array([0.005, 0.02, 0.05, 0.075])
    sigmas = np.array([0.1, 0.5, 1.0, 2.0])
    batch = optlib.run(optlib.Momentum(lr=lrs[:, None], beta=0.8),
                       Noisy(inner, sigmas[:, None], seed=2, common=True), inner.start, 150)
    assert batch.points.shape == (151, 4, 2)
    for k, (lr, sigma) in enumerate(zip(lrs, sigmas)):
        single = optlib.run(optlib.Momentum(lr=lr, beta=0.8),
                            Noisy(inner, sigma, seed=2, common=True), inner.start, 150)
        np.testing.assert_array_equal(batch.points[:, k], single.points)
        np.testing.assert_array_equal(batch.losses[:, k], single.losses)


def test_independent_noise_batched_run_has_a_different_path_per_row():
    """common=False (the default): K runs from one start with one learning rate are K different
    paths, reproducible as a batch; each row's noise is the documented draw of its position."""
    inner = Quadratic(curvatures=(1.0, 4.0))
    f = Noisy(inner, noise=1.0, seed=9)
    start = np.tile(inner.start, (6, 1))
    a = optlib.run(optlib.GradientDescent(lr=0.1), f, start, 40)
    b = optlib.run(optlib.GradientDescent(lr=0.1), f, start, 40)
    np.testing.assert_array_equal(a.points, b.points)
    finals = {tuple(row) for row in a.points[-1]}
    assert len(finals) == 6
    noise = recovered_noise_gd(a, 0.1, inner.hessian)
    expected = np.array([seeded_xi(9, t, (6, 2)) for t in range(1, 41)])
    np.testing.assert_allclose(noise, expected, atol=1e-9)


def test_replicas_share_noise_across_configurations():
    """common=True, replicas=R: hyperparameters (A, 1, 1) and a start (R, 2) make (A, R, 2) runs;
    configuration a is the run of its learning rate alone on R independent replicas
    (common=False), and every configuration sees the same R noise paths."""
    inner = Quadratic(curvatures=(1.0, 25.0))
    lrs = np.array([0.01, 0.03, 0.06])
    start = np.tile(inner.start, (5, 1))
    grid = optlib.run(optlib.GradientDescent(lr=lrs[:, None, None]),
                      Noisy(inner, 0.5, seed=6, common=True, replicas=5), start, 60)
    assert grid.points.shape == (61, 3, 5, 2)
    noises = []
    for a, lr in enumerate(lrs):
        alone = optlib.run(optlib.GradientDescent(lr=lr), Noisy(inner, 0.5, seed=6), start, 60)
        np.testing.assert_array_equal(grid.points[:, a], alone.points)
        noises.append(recovered_noise_gd(alone, lr, inner.hessian))
    np.testing.assert_allclose(noises[0], noises[1], atol=1e-9)
    np.testing.assert_allclose(noises[0], noises[2], atol=1e-9)
    assert len({tuple(row) for row in noises[0][0]}) == 5     # the replicas differ


def stationary_gd_loss(lr, curvatures, sigmas):
    r"""E[f] of gradient descent at stationarity on f = sum_i lambda_i u_i^2 / 2 with gradient
    noise of standard deviation sigma_i along eigenvector i.

    u_{t+1} = (1 - lr lambda) u_t - lr sigma xi_t has stationary variance
    v = lr^2 sigma^2 / (1 - (1 - lr lambda)^2) = lr sigma^2 / (lambda (2 - lr lambda)), and
    E[lambda u^2 / 2] = lr sigma^2 / (2 (2 - lr lambda)).
    """
    lam, sig = np.asarray(curvatures, float), np.asarray(sigmas, float)
    return float(np.sum(lr * sig**2 / (2 * (2 - lr * lam))))


@pytest.mark.parametrize(
    "curvatures, angle, noise, lr",
    [
        ((18.0, 1.0), 0.0, (1.0, 0.0), 0.1),     # one dimension (no noise along y), lr λ = 1.8
        ((1.0, 25.0), 0.0, (0.5, 2.0), 0.05),    # per-coordinate noise
        ((1.0, 25.0), 0.7, 1.0, 0.07),           # rotated bowl, isotropic noise, near 2/lambda_max
    ],
)
def test_stationary_loss_of_gradient_descent_matches_the_closed_form(curvatures, angle, noise,
                                                                        lr):
    """Mean loss over R independent runs (after a burn-in that removes the start's influence to
    1e-12) equals sum_i lr sigma_i^2 / (2 (2 - lr lambda_i)) within 4 standard errors of the
    per-run time averages (the runs are independent; their time averages are i.i.d.)."""
    inner = Quadratic(curvatures=curvatures, angle=angle)
    runs, burn, window = 2000, 400, 400
    f = Noisy(inner, noise, seed=31)
    traj = optlib.run(optlib.GradientDescent(lr=lr), f, np.zeros((runs, 2)), burn + window)
    assert not np.any(traj.diverged)
    per_run = traj.losses[burn + 1:].mean(axis=0)          # (runs,)
    estimate = per_run.mean()
    band = 4 * per_run.std(ddof=1) / math.sqrt(runs)
    expected = stationary_gd_loss(lr, curvatures, np.broadcast_to(noise, (2,)))
    assert abs(estimate - expected) < band, (estimate, expected, band)
    # the band is tight enough to tell a 10 % error in sigma (21 % in E[f]) apart
    assert band < 0.1 * expected


def test_noisy_effective_steps_replay_the_noise_the_run_used():
    """Gradient descent's effective step is its learning rate also under noise: the gradients are
    replayed with the run's noise, not drawn afresh."""
    f = Noisy(Quadratic(), noise=0.5, seed=3)
    traj = optlib.run(optlib.GradientDescent(lr=0.02), f, np.tile(f.start, (3, 1)), 50)
    eff = traj.effective_steps()
    assert eff.shape == (50, 3, 2)
    np.testing.assert_allclose(eff[np.isfinite(eff)], 0.02, rtol=1e-9)
    assert np.isfinite(eff).mean() > 0.99
    assert optlib.run(optlib.GradientDescent(lr=0.02), f, f.start, 0).effective_steps().shape == (
        0, 2)


def test_noisy_run_that_does_not_fit_is_rejected_and_changes_nothing():
    """noise of shape (3, 1) with a single start: ValueError before the optimizer is reset."""
    f = Noisy(Quadratic(), noise=[[0.1], [0.2], [0.3]], seed=0)
    opt = optlib.GradientDescent(lr=0.01)
    opt.step(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match=r"noise of shape \(3, 1\)"):
        optlib.run(opt, f, f.start, 10)
    assert opt.t == 1
    reps = Noisy(Quadratic(), 1.0, seed=0, common=True, replicas=4)
    with pytest.raises(ValueError, match="replicas=4"):
        optlib.run(opt, reps, np.zeros((3, 2)), 10)
    assert opt.t == 1
    ok = optlib.run(opt, f, np.zeros((3, 2)), 10)
    assert ok.points.shape == (11, 3, 2)
