"""optlib.network.edge: stability thresholds and full-batch runs that measure the sharpness.

* ``stability_threshold``: 2/α, 2(1+β)/(α(1−β)) (EMA momentum; Nesterov's with 1+2β), and
  (2+2β₁)/((1−β₁)α) for Adam, checked against chapter 1's and chapter 2's iteration on a
  quadratic — optlib.analysis's spectral radius just below and above the threshold, and the
  optimizers themselves run on a one-dimensional quadratic (Adam with its preconditioner held
  fixed is EMA momentum on P⁻¹H);
* ``sharpness_run`` is the full-batch loop written out here: the same losses, bit for bit, and
  at every measurement the top eigenvalue of the dense Hessian of the parameters at that step
  (and, for Adam, of P⁻¹H with P recomputed from a replica's state);
* the warm start: a measurement where the parameters barely moved needs a few products, where
  the first one, from a random vector, needed many;
* the edge of stability itself, on a 64-8-10 network: the sharpness of gradient descent,
  momentum and Adam rises from below to the optimizer's threshold and hovers near it
  (median over the second half within 20 %), while the loss falls, not monotonically;
* divergence stops quietly; clipping is applied and recorded; progress bars follow
  OPTLIB_QUIET; bad input raises, naming the argument; the docstring examples run.
"""

from __future__ import annotations

import doctest
import re
import warnings

import numpy as np
import pytest

import optlib
import optlib.network.edge
from optlib import _settings
from optlib.analysis import momentum_spectral_radius, nesterov_spectral_radius
from optlib.network import (
    MLP, Digits, load_digits_split, one_blas_thread, sharpness_run, stability_threshold,
)


# --------------------------------------------------------------------------- thresholds
def test_the_thresholds_are_the_formulas():
    assert stability_threshold(optlib.GradientDescent(lr=0.25)) == 8.0
    assert stability_threshold(optlib.RMSprop(lr=0.5)) == 4.0
    assert stability_threshold(optlib.Momentum(lr=0.5, beta=0.9)) == pytest.approx(76.0)
    assert stability_threshold(optlib.Momentum(lr=0.5, beta=0.5, nesterov=True)) == \
        pytest.approx(2 * 1.5 / (2.0 * 0.5 * 0.5))
    assert stability_threshold(optlib.Adam(lr=0.01)) == pytest.approx(38 / 0.01)
    assert stability_threshold(optlib.AdamW(lr=0.002, beta1=0.5)) == pytest.approx(
        3.0 / (0.5 * 0.002))


@pytest.mark.parametrize("lr, beta", [(0.1, 0.0), (0.3, 0.5), (0.05, 0.9), (1.0, 0.99)])
def test_the_thresholds_are_where_the_quadratic_iteration_stops_contracting(lr, beta):
    """Chapter 2's spectral radius (optlib.analysis) crosses 1 at the threshold."""
    for nesterov, radius in ((False, momentum_spectral_radius),
                             (True, nesterov_spectral_radius)):
        lam = stability_threshold(optlib.Momentum(lr=lr, beta=beta, nesterov=nesterov))
        assert radius(lr, beta, [lam * (1 - 1e-6)]) < 1 < radius(lr, beta, [lam * (1 + 1e-6)])
    lam = stability_threshold(optlib.GradientDescent(lr=lr))
    assert abs(1 - lr * lam * (1 - 1e-9)) < 1 < abs(1 - lr * lam * (1 + 1e-9))


def _final(optimizer, lam, steps=3000):
    w = np.array([1.0])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(steps):
            optimizer.step(w, lam * w)
            if not abs(w[0]) < 1e6:
                break
    return abs(float(w[0]))


@pytest.mark.parametrize("make", [
    lambda: optlib.GradientDescent(lr=0.1),
    lambda: optlib.Momentum(lr=0.1, beta=0.9),
    lambda: optlib.Momentum(lr=0.1, beta=0.7, nesterov=True),
])
def test_the_optimizers_on_a_quadratic_converge_below_the_threshold_and_diverge_above(make):
    lam = stability_threshold(make())
    assert _final(make(), 0.98 * lam) < 1e-3
    assert not _final(make(), 1.02 * lam) < 1e3


@pytest.mark.parametrize("beta1", [0.0, 0.5, 0.9])
def test_adam_with_its_preconditioner_held_fixed_is_ema_momentum_on_p_inverse_h(beta1):
    """Frozen Adam, w ← w − α P⁻¹ m with EMA momentum m, on f = (λ/2) w²: the curvature that
    counts is λ/P, and the limit on it is (2+2β₁)/((1−β₁)α)."""
    lr, P = 0.01, 0.25
    lam = stability_threshold(optlib.Adam(lr=lr, beta1=beta1))
    for factor, converges in ((0.98, True), (1.02, False)):
        frozen = optlib.Momentum(lr=lr / P, beta=beta1)        # α P⁻¹ m with P fixed
        end = _final(frozen, factor * lam * P)                 # λ_max(P⁻¹H) = factor · threshold
        assert (end < 1e-3) if converges else not (end < 1e3)


def test_thresholds_refuse_what_they_cannot_know():
    with pytest.raises(TypeError, match="GradientDescent, Momentum, Adam, AdamW or RMSprop"):
        stability_threshold(optlib.Adagrad(lr=0.1))
    with pytest.raises(TypeError, match="optimizer="):
        stability_threshold("gd")
    with pytest.raises(ValueError, match="no schedule"):
        stability_threshold(optlib.GradientDescent(lr=0.1, schedule=optlib.schedules.Cosine(10)))
    with pytest.raises(ValueError, match="lr must be a single number"):
        stability_threshold(optlib.GradientDescent(lr=np.array([0.1, 0.2])))


# --------------------------------------------------------------------------- the run
@pytest.fixture(scope="module")
def data():
    d = load_digits_split()
    return Digits(d.X_train[:200], d.y_train[:200], d.X_test[:10], d.y_test[:10])


def _hessian(model, params, X, y):
    """The dense Hessian, column by column from Hessian-vector products of unit vectors."""
    keys, shapes = model.keys, model.shapes()
    cuts = np.cumsum([int(np.prod(shapes[k])) for k in keys])[:-1]
    columns = []
    for e in np.eye(model.n_params):
        v = {k: p.reshape(shapes[k]) for k, p in zip(keys, np.split(e, cuts))}
        hv = model.hessian_vector_product(params, X, y, v)
        columns.append(np.concatenate([hv[k].ravel() for k in keys]))
    H = np.array(columns).T
    return (H + H.T) / 2


def _top(matrix) -> float:
    eig = np.linalg.eigvals(matrix)
    return float(eig[np.argmax(np.abs(eig))].real)


def test_the_run_is_the_full_batch_loop_with_its_measurements(data):
    """The losses of the loop written out here, bit for bit; at every measurement the top
    eigenvalue of the dense Hessian (and of P⁻¹H, with P recomputed from a replica Adam)."""
    model = MLP(sizes=(64, 6, 10), seed=1)
    X, y = data.X_train, data.y_train
    for make in (lambda: optlib.GradientDescent(lr=0.8), lambda: optlib.Adam(lr=0.05)):
        run = sharpness_run(model, make(), data, steps=30, every=7, seed=2, tol=1e-7, iters=2000,
                            progress=False)
        assert run.measured_at.tolist() == [0, 7, 14, 21, 28, 30]
        params, opt = model.init_params(), make()
        losses = []
        with one_blas_thread():
            for t in range(31):
                loss, grads = model.loss_and_grads(params, X, y)
                losses.append(loss)
                if t in run.measured_at:
                    i = run.measured_at.tolist().index(t)
                    H = _hessian(model, params, X, y)
                    assert run.sharpness[i] == pytest.approx(_top(H), rel=1e-4), t
                    if isinstance(opt, optlib.Adam):
                        if t == 0:
                            assert np.isnan(run.preconditioned_sharpness[i])
                        else:
                            st = opt.state
                            P = np.concatenate([(1 - 0.9 ** t) * (np.sqrt(
                                st[k]["exp_avg_sq"].ravel() / (1 - 0.999 ** t)) + 1e-8)
                                for k in model.keys])
                            assert run.preconditioned_sharpness[i] == pytest.approx(
                                _top(H / P[:, None]), rel=1e-4), t
                if t < 30:
                    opt.step(params, grads)
        assert np.array_equal(run.loss, losses)
        assert all(np.array_equal(run.params[k], params[k]) for k in params)
        assert run.preconditioned is isinstance(opt, optlib.Adam)
        assert run.threshold == stability_threshold(make())
        np.testing.assert_array_equal(run.ratio, run.edge / run.threshold)


def test_a_warm_start_needs_few_products_where_the_first_measurement_needed_many(data):
    model = MLP(sizes=(64, 6, 10), seed=1)
    run = sharpness_run(model, optlib.GradientDescent(lr=1e-9), data, steps=4, every=1,
                        tol=1e-6, iters=500, progress=False)
    first, later = run.iterations[0, 0], run.iterations[1:, 0]
    assert first >= 10 and np.all(later <= 3), run.iterations[:, 0]


def test_the_sharpness_rises_to_the_threshold_and_hovers_there():
    """Cohen et al. (2021, 2022) on a small network: the ratio starts below 0.8, reaches 0.9,
    and its median over the second half of the run lies within 20 % of 1; the loss falls
    overall but rises at some steps."""
    d = load_digits_split()
    model = MLP(sizes=(64, 8, 10), seed=0)
    for make in (lambda: optlib.GradientDescent(lr=0.7),
                 lambda: optlib.Momentum(lr=10.0, beta=0.9),
                 lambda: optlib.Adam(lr=0.2)):
        run = sharpness_run(model, make(), d, steps=400, every=10, progress=False)
        start = run.ratio[1] if run.preconditioned else run.ratio[0]
        assert start < 0.8 and run.steps_to(0.9) > 0, run.optimizer
        assert 0.8 < np.median(run.ratio_after(0.5)) < 1.2, (run.optimizer, run.ratio)
        assert run.loss[-1] < 0.5 * run.loss[0] and np.any(np.diff(run.loss) > 0)
    # far from the edge: a small learning rate keeps the sharpness well below its threshold
    calm = sharpness_run(model, optlib.GradientDescent(lr=0.05), d, steps=100, every=20,
                         progress=False)
    assert np.nanmax(calm.ratio) < 0.2


def test_divergence_stops_quietly(data):
    model = MLP(sizes=(64, 6, 10), seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = sharpness_run(model, optlib.GradientDescent(lr=500.0), data, steps=50, every=5,
                            progress=False)
        wild = sharpness_run(model, optlib.GradientDescent(lr=1e307),   # a step that overflows
                             (1000 * data.X_train, data.y_train), steps=50, every=5,
                             max_loss=1e300, progress=False)
    assert wild.diverged and np.all(np.isnan(wild.loss[wild.diverged_at_step:]))
    assert run.diverged and 0 < run.diverged_at_step <= 50
    assert np.all(np.isnan(run.loss[run.diverged_at_step:]))
    assert np.all(np.isfinite(run.loss[:run.diverged_at_step]))
    late = run.measured_at >= run.diverged_at_step
    assert np.all(np.isnan(run.sharpness[late])) and np.all(run.iterations[late] == 0)
    assert np.all(np.isfinite(run.sharpness[~late]))
    # a loss above max_loss counts as divergence: ln 10 ≈ 2.3 > 1 at the start
    capped = sharpness_run(model, optlib.GradientDescent(lr=0.1), data, steps=5, every=5,
                           max_loss=1.0, progress=False)
    assert capped.diverged_at_step == 0 and np.all(np.isnan(capped.loss))


def test_clipping_in_the_run(data):
    model = MLP(sizes=(64, 6, 10), seed=1)
    free = sharpness_run(model, optlib.GradientDescent(lr=0.5), data, steps=20, every=10,
                         progress=False)
    never = sharpness_run(model, optlib.GradientDescent(lr=0.5), data, steps=20, every=10,
                          progress=False, clip=1e300)
    assert np.array_equal(free.loss, never.loss) and free.grad_norm is None
    clipped = sharpness_run(model, optlib.GradientDescent(lr=0.5), data, steps=20, every=10,
                            progress=False, clip=0.05)
    assert clipped.clip == 0.05 and clipped.grad_norm.shape == (20,)
    X, y = data.X_train, data.y_train
    _, g = model.loss_and_grads(model.init_params(), X, y)
    assert clipped.grad_norm[0] == pytest.approx(
        np.sqrt(sum(np.sum(v ** 2) for v in g.values())), rel=1e-12)
    assert np.all(clipped.grad_norm > 0.05)          # every step clipped: steps of length 0.025
    assert not np.array_equal(clipped.loss, free.loss)


def test_progress_follows_quiet(monkeypatch, capsys, data):
    model = MLP(sizes=(64, 4, 10))
    monkeypatch.delenv(_settings.STATIC_EXPLORATIONS, raising=False)
    monkeypatch.setenv(_settings.QUIET, "1")
    quiet = sharpness_run(model, optlib.GradientDescent(lr=0.1), data, steps=5, every=5)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    shown = sharpness_run(model, optlib.GradientDescent(lr=0.1), data, steps=5, every=5,
                          progress=True, label="edge")
    assert "edge" in capsys.readouterr().err
    assert np.array_equal(quiet.loss, shown.loss)


def test_bad_input_names_the_argument(data):
    model = MLP(sizes=(64, 4, 10))
    gd = optlib.GradientDescent(lr=0.1)
    for kwargs, error, words in [
        (dict(steps=0), ValueError, "steps=0"),
        (dict(every=0), ValueError, "every=0"),
        (dict(iters=0), ValueError, "iters=0"),
        (dict(tol=-1.0), ValueError, "tol=-1.0"),
        (dict(seed=-1), ValueError, "seed=-1"),
        (dict(max_loss=0.0), ValueError, "max_loss"),
        (dict(clip=0.0), ValueError, "clip=0.0"),
        (dict(progress="yes"), TypeError, "progress='yes'"),
        (dict(steps=2.0), TypeError, "steps"),
    ]:
        with pytest.raises(error, match=re.escape(words)):
            sharpness_run(model, gd, data, **{"steps": 5, **kwargs})
    assert gd.t == 0
    with pytest.raises(TypeError, match="model must be an optlib.network.MLP"):
        sharpness_run(None, gd, data, steps=5)
    with pytest.raises(TypeError, match="optimizer must be an optlib optimizer"):
        sharpness_run(model, "gd", data, steps=5)
    with pytest.raises(TypeError, match="Adam, AdamW or RMSprop"):
        sharpness_run(model, optlib.Adagrad(lr=0.1), data, steps=5)
    with pytest.raises(ValueError, match="data\\[0\\] must hold finite numbers"):
        sharpness_run(model, gd, (np.full((3, 64), np.nan), np.zeros(3, dtype=int)), steps=5)
    with pytest.raises(ValueError, match="X_train must have shape"):
        sharpness_run(MLP(sizes=(10, 10)), gd, data, steps=5)


def test_docstring_examples_run():
    result = doctest.testmod(optlib.network.edge)
    assert result.attempted >= 5 and result.failed == 0
