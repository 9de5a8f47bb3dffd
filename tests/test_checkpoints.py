"""Checkpoints: ``Optimizer.state_dict()`` and ``Optimizer.load_state_dict()``.

* a checkpoint is plain data (dicts, lists, Python scalars and numpy arrays),
  pickles, and is independent of the optimizer afterwards (both ways);
* loading it into an optimizer of the same class -- even one built with other
  hyperparameters -- resumes bit for bit the uninterrupted run, for every
  optimizer and variant, an array, a list and a dict of parameters;
* a checkpoint that does not fit (class, keys, hyperparameters, structure,
  buffer names, shapes, dtypes, non-finite values) is rejected with an error
  naming what does not fit, and the optimizer is unchanged.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from optlib import Adagrad, Adam, AdamW, GradientDescent, Momentum, RMSprop

VARIANTS = {
    "gd": (lambda: GradientDescent(lr=0.05), lambda: GradientDescent(lr=9.0)),
    "momentum": (lambda: Momentum(lr=0.05, beta=0.8), lambda: Momentum(lr=1.0)),
    "nesterov": (lambda: Momentum(lr=0.05, beta=0.8, nesterov=True), lambda: Momentum(lr=1.0)),
    "rmsprop": (lambda: RMSprop(lr=0.01, beta=0.7), lambda: RMSprop(lr=1.0)),
    "adagrad": (lambda: Adagrad(lr=0.1), lambda: Adagrad(lr=2.0, eps=0.5)),
    "adam": (lambda: Adam(lr=0.01, weight_decay=0.1), lambda: Adam()),
    "adam_amsgrad": (lambda: Adam(lr=0.01, amsgrad=True), lambda: Adam(lr=0.3)),
    "adamw": (lambda: AdamW(lr=0.01, weight_decay=0.2, amsgrad=True), lambda: AdamW()),
    "batched": (lambda: Momentum(lr=np.array([[0.01], [0.02], [0.03]]), beta=0.5),
                lambda: Momentum(lr=0.1)),
}


def params_of(structure, rng):
    if structure == "array":
        return rng.standard_normal((3, 4))
    if structure == "list":
        return [rng.standard_normal((3, 4)), rng.standard_normal(4).astype(np.float32)]
    return {"W1": rng.standard_normal((3, 4)), "b1": rng.standard_normal(4)}


def grads_like(params, rng):
    if isinstance(params, np.ndarray):
        return rng.standard_normal(params.shape).astype(params.dtype)
    if isinstance(params, list):
        return [grads_like(p, rng) for p in params]
    return {k: grads_like(p, rng) for k, p in params.items()}


def same(a, b) -> bool:
    """Equal plain data, arrays compared bit for bit with their dtype."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and np.array_equal(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


def arrays(params):
    if isinstance(params, np.ndarray):
        return [params]
    return list(params) if isinstance(params, list) else list(params.values())


@pytest.mark.parametrize("variant, structure", [
    (variant, structure) for variant in VARIANTS for structure in ("array", "list", "dict")
    if variant != "batched" or structure == "array"])   # (3, 1) rows broadcast against (3, 4)
def test_resumed_run_is_bit_identical(variant, structure):
    make, make_other = VARIANTS[variant]
    rng = np.random.default_rng(1)
    start = params_of(structure, rng)
    grads = [grads_like(start, rng) for _ in range(8)]

    straight, p1 = make(), copy.deepcopy(start)
    for g in grads:
        straight.step(p1, g)

    first, p2 = make(), copy.deepcopy(start)
    for g in grads[:3]:
        first.step(p2, g)
    checkpoint = pickle.loads(pickle.dumps(first.state_dict()))
    first.step(copy.deepcopy(p2), grads[3])         # the original moves on
    resumed = make_other()
    resumed.load_state_dict(checkpoint)
    assert resumed.t == 3
    for g in grads[3:]:
        resumed.step(p2, g)
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(arrays(p1), arrays(p2)))
    assert same(resumed.state_dict(), straight.state_dict())
    assert repr(resumed) == repr(straight)


def test_checkpoint_is_plain_data_and_independent():
    w = np.ones(3)
    opt = Adam(lr=0.1)
    opt.step(w, np.ones(3))
    d = opt.state_dict()
    assert set(d) == {"optimizer", "format", "hyperparameters", "flags", "t", "structure",
                      "params", "state"}
    assert d["optimizer"] == "Adam" and d["t"] == 1 and d["structure"] == "array"
    assert d["params"] == {"shape": (3,), "dtype": "float64"}
    assert all(type(v) is float for v in d["hyperparameters"].values())
    saved = d["state"]["exp_avg"].copy()
    opt.step(w, np.ones(3))                                        # optimizer moves on ...
    assert np.array_equal(d["state"]["exp_avg"], saved)            # ... checkpoint does not
    d["state"]["exp_avg"][...] = 7.0                               # checkpoint changes ...
    assert not np.any(opt.state["exp_avg"] == 7.0)                 # ... optimizer does not


def test_checkpoint_before_the_first_step():
    opt = Momentum(lr=0.3, beta=0.5)
    d = opt.state_dict()
    assert d["t"] == 0 and d["structure"] is None and d["state"] is None
    other = Momentum(lr=0.1)
    w = np.ones(2)
    other.step(w, np.ones(2))
    other.load_state_dict(d)
    assert other.t == 0 and other.state == {} and other.lr == 0.3 and other.beta == 0.5


def good_checkpoint():
    opt = Adam(lr=0.01)
    params = {"W": np.ones((2, 3)), "b": np.zeros(3)}
    opt.step(params, {"W": np.ones((2, 3)), "b": np.ones(3)})
    return opt.state_dict()


def broken(change):
    d = good_checkpoint()
    change(d)
    return d


BAD = {
    "not a dict": (lambda: [1, 2], TypeError, "state_dict must be a dict"),
    "other class": (lambda: Momentum(lr=0.1).state_dict(), ValueError, "checkpoint of 'Momentum'"),
    "missing key": (lambda: broken(lambda d: d.pop("t")), ValueError, r"missing \['t'\]"),
    "extra key": (lambda: broken(lambda d: d.update(extra=1)), ValueError, r"unexpected \['extra'\]"),
    "bad lr": (lambda: broken(lambda d: d["hyperparameters"].update(lr=-1.0)), ValueError, "lr"),
    "missing hyper": (lambda: broken(lambda d: d["hyperparameters"].pop("beta2")), ValueError,
                      "hyperparameters"),
    "flag not bool": (lambda: broken(lambda d: d["flags"].update(amsgrad=1)), TypeError, "amsgrad"),
    "amsgrad without buffer": (lambda: broken(lambda d: d["flags"].update(amsgrad=True)),
                               ValueError, "max_exp_avg_sq"),
    "negative t": (lambda: broken(lambda d: d.update(t=-1)), ValueError, r"state_dict\['t'\]"),
    "float t": (lambda: broken(lambda d: d.update(t=1.5)), TypeError, r"state_dict\['t'\]"),
    "structure": (lambda: broken(lambda d: d.update(structure="tuple")), ValueError, "structure"),
    "missing param": (lambda: broken(lambda d: d["state"].pop("b")), ValueError, "different"),
    "buffer name": (lambda: broken(lambda d: d["state"]["W"].update(
        momentum_buffer=d["state"]["W"].pop("exp_avg"))), ValueError, "buffers"),
    "shape": (lambda: broken(lambda d: d["state"]["W"].update(exp_avg=np.ones((3, 2)))),
              ValueError, r"state_dict\['state'\]\['W'\]\['exp_avg'\] must have shape \(2, 3\)"),
    "dtype": (lambda: broken(lambda d: d["state"]["W"].update(
        exp_avg=np.ones((2, 3), np.float32))), ValueError, "dtype float64"),
    "not an array": (lambda: broken(lambda d: d["state"]["b"].update(exp_avg=[0.0, 0.0, 0.0])),
                     TypeError, "numpy array"),
    "nan": (lambda: broken(lambda d: d["state"]["b"]["exp_avg_sq"].__setitem__(0, np.nan)),
            ValueError, "non-finite"),
    "param dtype": (lambda: broken(lambda d: d["params"]["b"].update(dtype="int64")),
                    ValueError, "floating-point"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_checkpoint_is_rejected_and_changes_nothing(case):
    make_bad, error, match = BAD[case]
    opt = Adam(lr=0.5, beta1=0.5)
    w = np.ones(3)
    opt.step(w, np.full(3, 2.0))
    before = opt.state_dict()
    with pytest.raises(error, match=match):
        opt.load_state_dict(make_bad())
    assert same(opt.state_dict(), before)
    opt.step(w, np.ones(3))                         # and it still works
    assert opt.t == 2
