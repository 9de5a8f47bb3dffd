"""optlib.network.training: mini-batches, the training loop, comparisons, sweeps, progress.

* **training**: same seed ⇒ identical History; the recorded curves are those of the final
  parameters; one epoch is the optimizer on the mini-batch gradients written out here;
  every optimizer of a comparison starts from the same parameters and sees the same
  mini-batches; gradient descent with a small learning rate lowers the loss; a too-large
  one diverges quietly (no warning at all);
* **data with nan or inf** is refused before training, naming the part of the split —
  before, it was reported as a divergence in epoch 0;
* **lr_sweep** runs every learning rate it is given, each under its own label: repeated
  rates are refused, naming them; rates that ``:g`` prints alike stay distinct runs —
  before, they were merged and the rates after them got the wrong runs;
* **shadows**: ``shadow=True`` attaches the run from a start one ulp away and changes
  nothing else;
* **progress bars**: quiet with OPTLIB_QUIET=1 and in the book build;
* bad input raises, naming the argument; the docstring examples run.
"""

from __future__ import annotations

import doctest
import re
import warnings

import numpy as np
import pytest

import optlib
import optlib.network.training
from optlib import _settings
from optlib.network import (
    QUIET_ENV, MLP, Digits, compare_optimizers, lr_sweep, minibatches, progress_enabled, train,
)


def test_minibatches_cover_an_epoch_once():
    batches = minibatches(10, 4, np.random.default_rng(0))
    assert [b.size for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))
    again = minibatches(10, 4, np.random.default_rng(0))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    assert len(minibatches(1347, 64, np.random.default_rng(1))) == 22
    assert [b.size for b in minibatches(5, 100, np.random.default_rng(0))] == [5]


# --------------------------------------------------------------------------- training
def test_same_seed_gives_an_identical_history(small_data, same_history):
    model = MLP(sizes=(64, 16, 10), seed=1)
    runs = [train(model, optlib.Adam(lr=1e-2), small_data, epochs=3, batch_size=32, seed=5,
                  progress=False) for _ in range(2)]
    assert same_history(*runs)
    h = runs[0]
    assert h.train_loss.shape == h.test_accuracy.shape == (4,)
    assert h.steps_per_epoch == 10 and h.step_loss.shape == (30,)
    assert not h.diverged and h.diverged_at_epoch == -1
    assert h.final_test_accuracy == h.test_accuracy[-1]
    other = train(model, optlib.Adam(lr=1e-2), small_data, epochs=3, batch_size=32, seed=6,
                  progress=False)
    assert not np.array_equal(other.step_loss, h.step_loss)
    # the training starts from the model's parameters and leaves them alone
    assert h.train_loss[0] == pytest.approx(
        model.loss(model.init_params(), small_data.X_train, small_data.y_train), rel=1e-13)


def test_recorded_accuracy_and_loss_are_those_of_the_final_parameters(small_data):
    model = MLP(sizes=(64, 16, 10))
    h = train(model, optlib.Momentum(lr=0.5), small_data, epochs=2, progress=False)
    assert h.final_train_loss == model.loss(h.params, small_data.X_train, small_data.y_train)
    assert h.final_test_accuracy == model.accuracy(h.params, small_data.X_test, small_data.y_test)
    assert h.final_train_accuracy == model.accuracy(h.params, small_data.X_train,
                                                    small_data.y_train)


def test_training_is_the_optimizer_on_the_minibatch_gradients(small_data):
    """One epoch of train() equals the loop written out here with minibatches()."""
    model = MLP(sizes=(64, 8, 10))
    h = train(model, optlib.Momentum(lr=0.3, beta=0.9), small_data, epochs=1, batch_size=50,
              seed=2, progress=False)
    params, opt = model.init_params(), optlib.Momentum(lr=0.3, beta=0.9)
    losses = []
    for idx in minibatches(300, 50, np.random.default_rng(2)):
        loss, grads = model.loss_and_grads(params, small_data.X_train[idx],
                                           small_data.y_train[idx])
        losses.append(loss)
        opt.step(params, grads)
    np.testing.assert_array_equal(h.step_loss, losses)
    assert all(np.array_equal(h.params[k], params[k]) for k in params)


def test_compare_optimizers_uses_the_same_start_and_batches(small_data, same_history):
    model = MLP(sizes=(64, 8, 10), seed=3)
    factories = {"GradientDescent": lambda: optlib.GradientDescent(lr=0.3),
                 "Adam": lambda: optlib.Adam(lr=1e-2),
                 "Nesterov": lambda: optlib.Momentum(lr=0.3, nesterov=True)}
    runs = compare_optimizers(model, factories, small_data, epochs=2, batch_size=40, seed=4,
                              progress=False)
    assert list(runs) == list(factories)
    assert len({h.train_loss[0] for h in runs.values()}) == 1
    for label, h in runs.items():
        assert h.label == label
        alone = train(model, factories[label](), small_data, epochs=2, batch_size=40, seed=4,
                      progress=False)
        assert same_history(h, alone), label
    # the first mini-batch loss is the same for all (same parameters, same batch)
    assert len({h.step_loss[0] for h in runs.values()}) == 1


def test_gradient_descent_with_a_small_learning_rate_lowers_the_loss(small_data):
    model = MLP(sizes=(64, 16, 10))
    n = small_data.X_train.shape[0]
    h = train(model, optlib.GradientDescent(lr=0.05), small_data, epochs=30, batch_size=n,
              progress=False)
    assert np.all(np.diff(h.train_loss) < 0)       # full batch, small steps: monotone
    assert h.final_train_loss < h.train_loss[0]


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_a_too_large_learning_rate_diverges_quietly(small_data, activation):
    model = MLP(sizes=(64, 16, 10), activation=activation)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = train(model, optlib.GradientDescent(lr=1e4), small_data, epochs=5, batch_size=50,
                  progress=False)
    assert h.diverged and 1 <= h.diverged_at_epoch <= 5
    e = h.diverged_at_epoch
    assert np.all(np.isfinite(h.train_loss[:e])) and np.all(np.isnan(h.train_loss[e:]))
    assert np.all(np.isnan(h.test_accuracy[e:])) and np.isnan(h.final_test_accuracy)
    assert np.all(np.isnan(h.step_loss[h.diverged_at_step:]))
    assert np.all(np.isfinite(h.step_loss[:h.diverged_at_step]))


def test_divergence_threshold(small_data):
    model = MLP(sizes=(64, 16, 10))
    h = train(model, optlib.GradientDescent(lr=0.1), small_data, epochs=2, max_loss=1.0,
              progress=False)
    assert h.diverged_at_epoch == 0 and np.all(np.isnan(h.train_loss))


# --------------------------------------------------------------------------- data with nan
@pytest.mark.parametrize("part, bad", [("X_train", np.nan), ("X_test", np.nan),
                                       ("X_train", np.inf), ("X_test", -np.inf)])
def test_non_finite_data_is_refused_before_training(small_data, part, bad):
    """Not a divergence: a ValueError naming the part of the split, for every entry point."""
    X = getattr(small_data, part).copy()
    X[10, 20] = bad
    data = small_data._replace(**{part: X})
    model = MLP(sizes=(64, 4, 10))
    message = f"{part} must hold finite numbers, got {bad} at row 10, column 20"
    calls = {
        "train": lambda: train(model, optlib.GradientDescent(lr=0.1), data, epochs=1,
                               progress=False),
        "compare_optimizers": lambda: compare_optimizers(
            model, {"gd": lambda: optlib.GradientDescent(lr=0.1)}, data, epochs=1,
            progress=False),
        "lr_sweep": lambda: lr_sweep(model, optlib.GradientDescent, [0.1], data, epochs=1,
                                     progress=False),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match=re.escape(message)):
            call()


def test_a_non_finite_start_is_refused(small_data):
    model = MLP(sizes=(64, 4, 10))
    start = model.init_params()
    start["W2"][1, 2] = np.inf
    with pytest.raises(ValueError, match=r"params\['W2'\] must hold finite numbers"):
        train(model, optlib.GradientDescent(lr=0.1), small_data, epochs=1, params=start,
              progress=False)


# --------------------------------------------------------------------------- lr_sweep
def test_lr_sweep(small_data, same_history):
    model = MLP(sizes=(64, 8, 10))
    runs = lr_sweep(model, optlib.Momentum, [0.1, 0.4], small_data, epochs=1, progress=False,
                    beta=0.5)
    assert list(runs) == [0.1, 0.4]
    assert [h.label for h in runs.values()] == ["α = 0.1", "α = 0.4"]
    alone = train(model, optlib.Momentum(lr=0.4, beta=0.5), small_data, epochs=1,
                  progress=False)
    assert same_history(runs[0.4], alone)
    assert "beta=0.5" in runs[0.4].optimizer
    single = lr_sweep(model, optlib.Momentum, 0.4, small_data, epochs=1, progress=False, beta=0.5)
    assert list(single) == [0.4] and same_history(single[0.4], alone)


def test_lr_sweep_refuses_repeated_rates_naming_them(small_data):
    model = MLP(sizes=(64, 4, 10))
    with pytest.raises(ValueError, match=r"lrs must be distinct.*repeated 0\.1 \(2 times\)"):
        lr_sweep(model, optlib.GradientDescent, [0.1, 0.5, 0.1], small_data, epochs=1,
                 progress=False)
    with pytest.raises(ValueError, match=r"repeated 0\.5 \(3 times\)"):
        lr_sweep(model, optlib.GradientDescent, np.array([0.5, 0.5, 0.5]), small_data,
                 epochs=1, progress=False)


def test_lr_sweep_keeps_near_equal_rates_apart_each_with_its_own_run(small_data, same_history):
    """0.1 and 0.1000001 print alike with :g: they used to share one label, one of them was
    dropped, and the rates after it were paired with the wrong runs."""
    model = MLP(sizes=(64, 8, 10))
    near = 0.1000001
    one_ulp = float(np.nextafter(0.5, 1.0))
    lrs = [0.1, near, 0.5, one_ulp]
    runs = lr_sweep(model, optlib.GradientDescent, lrs, small_data, epochs=1, progress=False)
    assert list(runs) == lrs
    assert [h.label for h in runs.values()] == [
        "α = 0.1", f"α = {near!r}", "α = 0.5", f"α = {one_ulp!r}"]
    for lr in lrs:
        alone = train(model, optlib.GradientDescent(lr=lr), small_data, epochs=1,
                      progress=False)
        assert same_history(runs[lr], alone), lr
        assert f"lr={lr!r}" in runs[lr].optimizer or f"lr={lr}" in runs[lr].optimizer


@pytest.mark.parametrize("lrs, error, words", [
    ([], ValueError, "lrs must not be empty"),
    ([0.1, -0.1], ValueError, "lrs must lie in (0, inf]"),
    ([0.1, np.nan], ValueError, "lrs must be finite"),
    ([[0.1, 0.2]], ValueError, "lrs must be a number or a 1-d sequence"),
    (["a"], TypeError, "lrs"),
])
def test_lr_sweep_bad_rates(small_data, lrs, error, words):
    with pytest.raises(error, match=re.escape(words)):
        lr_sweep(MLP(sizes=(64, 4, 10)), optlib.GradientDescent, lrs, small_data, epochs=1,
                 progress=False)


# --------------------------------------------------------------------------- shadows
def test_a_shadow_changes_nothing_else(small_data, same_history):
    model = MLP(sizes=(64, 8, 10))
    factories = {"gd": lambda: optlib.GradientDescent(lr=0.3), "adam": lambda: optlib.Adam()}
    plain = compare_optimizers(model, factories, small_data, epochs=2, progress=False)
    shadowed = compare_optimizers(model, factories, small_data, epochs=2, progress=False,
                                  shadow=True)
    for label in factories:
        h = shadowed[label]
        assert same_history(h, plain[label]) and plain[label].shadow is None
        assert h.shadow.label == f"{label} (shadow)" and h.shadow.shadow is None
        assert 0 < h.shadow_distance < 1e-12 and not h.erratic
    # the optimizer handed to train ends with the run's state, not the shadow's
    opt = optlib.Momentum(lr=0.3)
    h = train(model, opt, small_data, epochs=1, progress=False, shadow=True)
    alone = optlib.Momentum(lr=0.3)
    train(model, alone, small_data, epochs=1, progress=False)
    assert all(np.array_equal(opt.state[k]["momentum_buffer"], alone.state[k]["momentum_buffer"])
               for k in model.keys)
    sweep = lr_sweep(model, optlib.GradientDescent, [0.1, 0.2], small_data, epochs=1,
                     progress=False, shadow=True)
    assert all(h.shadow is not None and not h.erratic for h in sweep.values())


# --------------------------------------------------------------------------- progress bars
def test_progress_is_quiet_when_asked_or_in_the_book_build(monkeypatch, small_data, capsys,
                                                           same_history):
    assert QUIET_ENV == _settings.QUIET == "OPTLIB_QUIET"
    model = MLP(sizes=(64, 4, 10))
    monkeypatch.delenv(_settings.STATIC_EXPLORATIONS, raising=False)
    monkeypatch.setenv(QUIET_ENV, "1")
    assert progress_enabled(None) is False
    train(model, optlib.GradientDescent(lr=0.1), small_data, epochs=2, progress=None)
    compare_optimizers(model, {"a": lambda: optlib.Adam()}, small_data, epochs=1)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""

    monkeypatch.delenv(QUIET_ENV)
    monkeypatch.setenv(_settings.STATIC_EXPLORATIONS, "1")
    assert progress_enabled(None) is False
    train(model, optlib.GradientDescent(lr=0.1), small_data, epochs=2)
    assert capsys.readouterr().err == ""

    monkeypatch.delenv(_settings.STATIC_EXPLORATIONS)
    assert progress_enabled(None) is True
    assert progress_enabled(False) is False
    # an explicit request shows a bar (on stderr outside a notebook), and the result is the same
    quiet = train(model, optlib.GradientDescent(lr=0.1), small_data, epochs=2, progress=False)
    shown = train(model, optlib.GradientDescent(lr=0.1), small_data, epochs=2, progress=True,
                  label="gd")
    assert "gd" in capsys.readouterr().err
    assert same_history(quiet, shown)


# --------------------------------------------------------------------------- bad input
def test_bad_training_arguments_name_the_argument(small_data):
    model = MLP(sizes=(64, 4, 10))
    gd = optlib.GradientDescent(lr=0.1)
    for kwargs, error, words in [
        (dict(batch_size=0), ValueError, "batch_size=0"),
        (dict(batch_size=-5), ValueError, "batch_size=-5"),
        (dict(batch_size=2.0), TypeError, "batch_size"),
        (dict(epochs=0), ValueError, "epochs=0"),
        (dict(seed=-2), ValueError, "seed=-2"),
        (dict(max_loss=0.0), ValueError, "max_loss"),
        (dict(progress="yes"), TypeError, "progress='yes'"),
        (dict(shadow=1), TypeError, "shadow=1"),
    ]:
        with pytest.raises(error, match=re.escape(words)):
            train(model, gd, small_data, **{"epochs": 1, **kwargs})
    with pytest.raises(TypeError, match="optimizer must be an optlib optimizer"):
        train(model, "adam", small_data)
    with pytest.raises(TypeError, match="model must be an optlib.network.MLP"):
        train(None, gd, small_data)
    with pytest.raises(TypeError, match="data must be a Digits split"):
        train(model, gd, small_data.X_train)
    bad = Digits(small_data.X_train, small_data.y_train[:-1], small_data.X_test,
                 small_data.y_test)
    with pytest.raises(ValueError, match="y_train must have shape"):
        train(model, gd, bad)
    with pytest.raises(ValueError, match="X_train must have shape"):
        train(MLP(sizes=(10, 10)), gd, small_data)
    with pytest.raises(TypeError, match=r"optimizers\['a'\] must be a function"):
        compare_optimizers(model, {"a": gd}, small_data)
    with pytest.raises(TypeError, match=r"optimizers\['a'\]\(\) must return an optlib"):
        compare_optimizers(model, {"a": lambda: None}, small_data)
    with pytest.raises(TypeError, match="optimizers must be a non-empty dict"):
        compare_optimizers(model, {}, small_data)
    with pytest.raises(TypeError, match="optimizer must be an optimizer class"):
        lr_sweep(model, "sgd", [0.1], small_data)
    with pytest.raises(ValueError, match="batch_size=0"):
        minibatches(10, 0, np.random.default_rng())
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        minibatches(10, 2, 0)


def test_docstring_examples_run():
    result = doctest.testmod(optlib.network.training)
    assert result.attempted >= 8 and result.failed == 0


# --------------------------------------------------------------------------- gradient clipping
def test_clip_none_and_an_unreached_clip_leave_the_run_as_it_was(small_data, same_history):
    model = MLP(sizes=(64, 16, 10), seed=2)
    plain = train(model, optlib.Adam(lr=1e-2), small_data, epochs=2, batch_size=32,
                  progress=False)
    assert plain.clip is None and plain.grad_norm is None and plain.clipped_steps == 0
    assert same_history(plain, train(model, optlib.Adam(lr=1e-2), small_data, epochs=2,
                                     batch_size=32, progress=False, clip=None))
    never = train(model, optlib.Adam(lr=1e-2), small_data, epochs=2, batch_size=32,
                  progress=False, clip=1e300)
    assert same_history(plain, never) and never.clip == 1e300 and never.clipped_steps == 0


def test_clipping_is_the_optimizer_on_the_clipped_minibatch_gradients(small_data):
    """One epoch written out: the global norm of each batch gradient and the scaled gradient
    recomputed here, then the optimizer's step."""
    model = MLP(sizes=(64, 16, 10), seed=3)
    c = 0.05
    h = train(model, optlib.GradientDescent(lr=0.5), small_data, epochs=1, batch_size=50, seed=4,
              progress=False, clip=c)
    params = model.init_params()
    opt = optlib.GradientDescent(lr=0.5)
    norms = []
    for idx in minibatches(len(small_data.y_train), 50, np.random.default_rng(4)):
        _, grads = model.loss_and_grads(params, small_data.X_train[idx], small_data.y_train[idx])
        norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
        norms.append(norm)
        scale = min(1.0, c / norm)
        opt.step(params, {k: g * scale for k, g in grads.items()})
    np.testing.assert_allclose(h.grad_norm, norms, rtol=1e-12)
    assert h.clipped_steps == sum(n > c for n in norms) > 0
    for k in params:
        np.testing.assert_allclose(h.params[k], params[k], rtol=1e-10, atol=1e-13)
    # without the clip the run ends elsewhere: the clip was applied
    free = train(model, optlib.GradientDescent(lr=0.5), small_data, epochs=1, batch_size=50,
                 seed=4, progress=False)
    assert not np.allclose(free.params["W1"], h.params["W1"])


def test_every_runner_passes_clip_on(small_data, same_history):
    from optlib.network import repeat_runs, tune_learning_rate, validation_split

    model = MLP(sizes=(64, 8, 10), seed=0)
    kwargs = dict(epochs=1, batch_size=64, seed=0, progress=False, clip=0.1)
    one = train(model, optlib.GradientDescent(lr=0.3), small_data, **kwargs)
    assert one.clipped_steps > 0
    many = compare_optimizers(model, {"gd": lambda: optlib.GradientDescent(lr=0.3)}, small_data,
                              **kwargs)
    assert same_history(one, many["gd"]) and many["gd"].clip == 0.1
    swept = lr_sweep(model, optlib.GradientDescent, [0.3], small_data, **kwargs)
    assert same_history(one, swept[0.3]) and swept[0.3].clip == 0.1
    part = validation_split(small_data)
    tuned = tune_learning_rate(lambda lr: optlib.GradientDescent(lr=lr), [0.3], part, seeds=(0,),
                               sizes=(64, 8, 10), epochs=1, clip=0.1)
    by_hand = train(MLP(sizes=(64, 8, 10), seed=0), optlib.GradientDescent(lr=0.3), part,
                    **kwargs)
    assert tuned.val_loss[0, 0] == by_hand.test_loss[-1]
    repeated = repeat_runs(lambda: optlib.GradientDescent(lr=0.3), small_data, seeds=(0,),
                           sizes=(64, 8, 10), epochs=1, clip=0.1)
    assert same_history(one, repeated.histories[0]) and repeated.histories[0].clip == 0.1


def test_bad_clip_is_refused_before_training(small_data):
    from optlib.network import repeat_runs, tune_learning_rate

    model = MLP(sizes=(64, 4, 10))
    opt = optlib.GradientDescent(lr=0.1)
    for clip, error in [(0.0, ValueError), (-1.0, ValueError), (np.inf, ValueError),
                        ("1", TypeError)]:
        with pytest.raises(error, match=re.escape(f"clip={clip!r}")):
            train(model, opt, small_data, epochs=1, clip=clip)
        with pytest.raises(error, match="clip="):
            lr_sweep(model, optlib.GradientDescent, [0.1], small_data, epochs=1, clip=clip)
        with pytest.raises(error, match="clip="):
            tune_learning_rate(lambda lr: optlib.GradientDescent(lr=lr), [0.1], small_data,
                               epochs=1, clip=clip)
        with pytest.raises(error, match="clip="):
            repeat_runs(lambda: optlib.GradientDescent(lr=0.1), small_data, epochs=1, clip=clip)
    assert opt.t == 0
