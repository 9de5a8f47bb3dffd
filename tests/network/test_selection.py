"""optlib.network.selection: a validation split, the same tuning budget, several seeds."""

from __future__ import annotations

import numpy as np
import pytest

from optlib import Adam, GradientDescent
from optlib.network import (MLP, Digits, Tuning, load_digits_split, repeat_runs, train,
                            tune_learning_rate, validation_split)

SMALL = dict(sizes=(64, 8, 10), epochs=2, batch_size=64)


def test_validation_is_carved_from_the_training_data_only(small_data):
    part = validation_split(small_data, fraction=0.25, seed=3)
    assert part.X_test.shape[0] == 75 and part.X_train.shape[0] == 225
    rows = {row.tobytes() for row in small_data.X_train}
    assert all(r.tobytes() in rows for r in np.concatenate([part.X_train, part.X_test]))
    test_rows = {row.tobytes() for row in small_data.X_test} - rows
    assert not any(r.tobytes() in test_rows for r in part.X_test)
    together = np.concatenate([part.y_train, part.y_test])
    assert sorted(together.tolist()) == sorted(small_data.y_train.tolist())
    again = validation_split(small_data, fraction=0.25, seed=3)
    assert np.array_equal(again.X_test, part.X_test)
    assert not np.array_equal(validation_split(small_data, 0.25, seed=4).y_test, part.y_test)


@pytest.mark.parametrize("kwargs, error", [
    (dict(fraction=0.0), ValueError), (dict(fraction=1.0), ValueError),
    (dict(fraction="0.2"), TypeError), (dict(seed=-1), ValueError), (dict(seed=0.5), TypeError),
])
def test_validation_split_rejects_bad_arguments(small_data, kwargs, error):
    with pytest.raises(error):
        validation_split(small_data, **kwargs)


def test_tuning_never_sees_the_test_set(small_data):
    """The choice is the same whatever the real test set holds."""
    other = Digits(small_data.X_train, small_data.y_train, small_data.X_test[::-1] * 0.5,
                   small_data.y_test[::-1])
    a = tune_learning_rate(lambda lr: Adam(lr=lr), [0.003, 0.03], validation_split(small_data),
                           seeds=(0, 1), **SMALL)
    b = tune_learning_rate(lambda lr: Adam(lr=lr), [0.003, 0.03], validation_split(other),
                           seeds=(0, 1), **SMALL)
    assert np.array_equal(a.val_loss, b.val_loss)


def test_tuning_is_the_mean_final_validation_loss_of_independent_runs(small_data):
    part = validation_split(small_data, seed=1)
    lrs = [0.01, 0.1, 1e6]
    tuning = tune_learning_rate(lambda lr: GradientDescent(lr=lr), lrs, part, seeds=(0, 2),
                                **SMALL)
    assert tuning.val_loss.shape == (2, 3)            # the budget: seeds x rates, all run
    assert np.isinf(tuning.val_loss[:, 2]).all()      # diverged: an infinite loss
    for i, seed in enumerate((0, 2)):                 # recomputed run by run
        for j, lr in enumerate(lrs[:2]):
            h = train(MLP(sizes=(64, 8, 10), seed=seed), GradientDescent(lr=lr), part,
                      epochs=2, batch_size=64, seed=seed, progress=False)
            assert tuning.val_loss[i, j] == h.test_loss[-1]
    mean = tuning.val_loss.mean(axis=0)
    assert tuning.best_lr == lrs[int(np.argmin(mean))]


def test_tuning_rejects_repeated_rates_and_bad_factories(small_data):
    with pytest.raises(ValueError, match="distinct"):
        tune_learning_rate(lambda lr: Adam(lr=lr), [0.1, 0.1], small_data, **SMALL)
    with pytest.raises(TypeError, match="make"):
        tune_learning_rate("Adam", [0.1], small_data, **SMALL)
    with pytest.raises(TypeError, match="optimizer"):
        tune_learning_rate(lambda lr: lr, [0.1], small_data, **SMALL)
    with pytest.raises(ValueError, match="seeds"):
        tune_learning_rate(lambda lr: Adam(lr=lr), [0.1], small_data, seeds=(1, 1), **SMALL)


def test_every_rate_diverging_is_an_error_not_a_choice(small_data):
    tuning = tune_learning_rate(lambda lr: GradientDescent(lr=lr), [1e6, 1e7], small_data,
                                seeds=(0,), **SMALL)
    with pytest.raises(ValueError, match="every learning rate diverged"):
        tuning.best_lr


def test_repeats_report_the_mean_and_spread_of_the_final_test_accuracy(small_data):
    repeats = repeat_runs(lambda: Adam(lr=0.01), small_data, seeds=(0, 1, 2), **SMALL)
    accuracy = [h.test_accuracy[-1] for h in repeats.histories]
    assert repeats.test_accuracy.tolist() == accuracy
    assert repeats.mean == pytest.approx(np.mean(accuracy))
    assert repeats.std == pytest.approx(np.std(accuracy, ddof=1))
    assert len({h.seed for h in repeats.histories}) == 3


def test_a_near_tie_goes_to_the_smaller_rate():
    """Mean losses within TOLERANCE of the best are a tie, won by the smallest rate."""
    from optlib.network import TOLERANCE, Tuning

    losses = np.array([[0.30, 0.1081, 0.1080, 0.5], [0.30, 0.1083, 0.1082, 0.5]])
    tuning = Tuning("x", np.array([0.5, 1.0, 2.0, 4.0]), (0, 1), losses)
    assert tuning.best_lr == 1.0                          # not 2.0, 0.1 % better
    far = Tuning("x", np.array([0.5, 1.0, 2.0]), (0,), np.array([[0.2, 0.13, 0.12]]))
    assert (0.13 / 0.12 - 1) > TOLERANCE and far.best_lr == 2.0


def test_repeats_count_erratic_runs(small_data):
    repeats = repeat_runs(lambda: Adam(lr=0.01), small_data, seeds=(0, 1), shadow=True, **SMALL)
    assert repeats.erratic == 0
    with pytest.raises(ValueError, match="shadow"):
        repeat_runs(lambda: Adam(lr=0.01), small_data, seeds=(0,), **SMALL).erratic


def test_a_tuning_with_shadows_says_whether_its_choice_reproduces(small_data):
    tuning = tune_learning_rate(lambda lr: Adam(lr=lr), [0.003, 0.03], small_data, seeds=(0,),
                                shadow=True, **SMALL)
    assert tuning.shadow_val_loss.shape == tuning.val_loss.shape
    assert tuning.reproducible
    with pytest.raises(ValueError, match="shadow"):
        tune_learning_rate(lambda lr: Adam(lr=lr), [0.003], small_data, seeds=(0,),
                           **SMALL).reproducible


def test_a_tuning_cell_is_erratic_when_a_run_there_is(small_data):
    """Tuning.erratic marks a rate where any seed's run is erratic (History.erratic), the
    cells a chapter prints as "erratic" instead of a mean that hangs on the last bit."""
    part = validation_split(small_data, seed=1)
    lrs = [0.01, 2.0]
    tuning = tune_learning_rate(lambda lr: GradientDescent(lr=lr), lrs, part, seeds=(0, 2),
                                shadow=True, **SMALL)
    assert tuning.erratic_runs.shape == (2, 2)
    for i, seed in enumerate((0, 2)):                 # run by run, as History says
        for j, lr in enumerate(lrs):
            h = train(MLP(sizes=(64, 8, 10), seed=seed), GradientDescent(lr=lr), part,
                      epochs=2, batch_size=64, seed=seed, progress=False, shadow=True)
            assert tuning.erratic_runs[i, j] == h.erratic
    # a cell that is erratic: chapter 6's batches of 16 at α = 1 (seed 0's run ends elsewhere
    # from a start one ulp away)
    chapter = validation_split(load_digits_split(test_fraction=0.25, seed=0), 0.2, seed=0)
    wild = tune_learning_rate(lambda lr: GradientDescent(lr=lr), [1.0], chapter, seeds=(0,),
                              epochs=10, batch_size=16, shadow=True)
    assert wild.erratic.tolist() == [True] and wild.val_loss[0, 0] != wild.shadow_val_loss[0, 0]
    marked = Tuning(label="x", lrs=np.array([0.1, 1.0]), seeds=(0, 1), val_loss=np.ones((2, 2)),
                    shadow_val_loss=np.ones((2, 2)),
                    erratic_runs=np.array([[False, False], [False, True]]))
    assert marked.erratic.tolist() == [False, True]   # any seed makes the cell erratic
    with pytest.raises(ValueError, match="shadow=True"):
        tune_learning_rate(lambda lr: GradientDescent(lr=lr), lrs, part, seeds=(0,),
                           **SMALL).erratic
