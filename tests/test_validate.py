"""The one rule of ``optlib._validate``: wrong kind -> TypeError, wrong value -> ValueError,
and every message names the argument and repeats the value."""

from __future__ import annotations

import numpy as np
import pytest

from optlib import AdamW, GradientDescent, Momentum, _validate, run
from optlib.objectives import Quadratic, Rosenbrock

CASES = [
    # (call, exception, words the message must contain)
    (lambda: _validate.real("lr", 10**400), ValueError, ["lr", "401 digits", "too large"]),
    (lambda: _validate.real("lr", "0.1"), TypeError, ["lr", "'0.1'"]),
    (lambda: _validate.real("lr", True), TypeError, ["lr", "True"]),
    (lambda: _validate.real("lr", float("nan")), ValueError, ["lr", "nan"]),
    (lambda: _validate.real("lr", -1.0, low=0.0), ValueError, ["lr", "-1.0", "[0, inf]"]),
    (lambda: _validate.whole("steps", 2.0, low=0), TypeError, ["steps", "2.0"]),
    (lambda: _validate.whole("steps", -3, low=0), ValueError, ["steps", "-3"]),
    (lambda: _validate.reals("lr", [[0.1, 0.2], [0.3]]), ValueError, ["lr", "ragged"]),
    (lambda: _validate.reals("lr", ["a", "b"]), TypeError, ["lr"]),
    (lambda: _validate.reals("lr", [10**400, 1]), ValueError, ["lr", "too large"]),
    (lambda: _validate.choice("mode", "fast", ("exact", "coarse")), ValueError, ["mode", "'fast'"]),
    (lambda: _validate.choice("mode", 3, ("exact", "coarse")), TypeError, ["mode", "3"]),
    (lambda: _validate.flag("nesterov", 1), TypeError, ["nesterov", "1"]),
    (lambda: Momentum(lr=10**400), ValueError, ["lr", "too large"]),
    (lambda: Momentum(lr=[[0.1, 0.2], [0.3]]), ValueError, ["lr", "ragged"]),
    (lambda: Momentum(lr=0.1, beta=1.0), ValueError, ["beta", "1.0"]),
    (lambda: run(GradientDescent(lr=0.1), Quadratic(), [1.0, 1.0], 10**12), ValueError,
     ["steps=1000000000000", "GiB"]),
    (lambda: run(GradientDescent(lr=0.1), Quadratic(), [1.0, 1.0], 5, max_loss=0.0), ValueError,
     ["max_loss", "0.0"]),
    (lambda: run(GradientDescent(lr=0.1), Quadratic(), [1.0, 1.0], 5, max_loss=-2), ValueError,
     ["max_loss", "-2"]),
    (lambda: run(GradientDescent(lr=0.1), None, [1.0, 1.0], 5), TypeError, ["objective", "None"]),
    (lambda: run(GradientDescent(lr=0.1), Quadratic(), [1.0, 1.0], 2.5), TypeError, ["steps"]),
]


@pytest.mark.parametrize("call, error, words", CASES)
def test_errors_follow_the_rule_and_name_the_value(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert not isinstance(info.value, OverflowError)
    for word in words:
        assert word in str(info.value)


def test_unknown_attributes_cannot_be_set():
    opt = Momentum(lr=0.1)
    with pytest.raises(AttributeError, match="momentum"):
        opt.momentum = 0                     # a typo for beta
    with pytest.raises(AttributeError, match="cannot be set"):
        opt.t = 5
    opt.beta = 0.5                           # hyperparameters stay settable, validated
    with pytest.raises(ValueError, match="beta"):
        opt.beta = 2.0
    assert opt.beta == 0.5


def test_adamw_stays_decoupled():
    opt = AdamW(weight_decay=0.1)
    with pytest.raises(AttributeError, match="decoupled"):
        opt.decoupled = False
    assert opt.decoupled is True
    w = np.ones(2)
    opt.step(w, np.zeros(2))
    assert np.allclose(w, 1 - 1e-3 * 0.1)    # decoupled decay with a zero gradient


@pytest.mark.parametrize("objective, name", [(Quadratic(), "curvatures"), (Quadratic(), "angle"),
                                             (Rosenbrock(), "b"), (Quadratic(), "bounds")])
def test_objectives_are_immutable(objective, name):
    before = objective.grad(np.array([0.3, -0.2]))
    with pytest.raises(AttributeError, match="immutable"):
        setattr(objective, name, 3.0)
    with pytest.raises(AttributeError, match="immutable"):
        delattr(objective, name)
    assert np.array_equal(objective.grad(np.array([0.3, -0.2])), before)
