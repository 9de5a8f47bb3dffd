"""Checkpoints: ``Optimizer.state_dict()`` and ``Optimizer.load_state_dict()``.

* a checkpoint is plain data (dicts, lists, Python scalars and numpy arrays),
  pickles, and is independent of the optimizer afterwards (both ways);
* loading it into an optimizer of the same class -- even one built with other
  hyperparameters -- resumes bit for bit the uninterrupted run, for every
  optimizer and variant, an array, a list and a dict of parameters;
* the learning-rate schedule and its position are part of the checkpoint: a
  resumed scheduled run (an optlib schedule, a nested one, a function of the
  user's, a schedule set in the middle of a run) is bit-identical too, resumed
  into an optimizer built without the schedule;
* a checkpoint that does not fit (class, keys, hyperparameters, schedule,
  structure, buffer names, shapes, dtypes, non-finite values) is rejected with
  an error naming what does not fit, and the optimizer is unchanged;
* a checkpoint of format 1 (before schedules) still loads, as one without a
  schedule;
* ScheduleFreeSGD's running numbers (``scalars``) are saved, restored and checked.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from optlib import (Adagrad, Adam, AdamW, GradientDescent, Momentum, RMSprop, ScheduleFreeAdamW,
                    ScheduleFreeSGD)
from optlib.schedules import Cosine, Linear, StepDecay, Warmup


def halving_every_third_step(t):
    """A user's schedule (a module-level function, so that checkpoints holding it pickle)."""
    return 0.5 ** ((t - 1) // 3)

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
    "gd_cosine": (lambda: GradientDescent(lr=0.05, schedule=Cosine(total=5, final=0.1)),
                  lambda: GradientDescent(lr=9.0)),
    "adamw_warmup_linear": (lambda: AdamW(lr=0.01, weight_decay=0.2,
                                          schedule=Warmup(2, then=Linear(total=4, end=0.2))),
                            lambda: AdamW(schedule=StepDecay(every=1, factor=0.5))),
    "rmsprop_user_schedule": (lambda: RMSprop(lr=0.01, schedule=halving_every_third_step),
                              lambda: RMSprop(lr=1.0)),
    "batched_step_decay": (lambda: Adam(lr=np.array([[0.01], [0.02], [0.03]]),
                                        schedule=StepDecay(every=2, factor=0.3)),
                           lambda: Adam(lr=0.1)),
    "schedule_free": (lambda: ScheduleFreeSGD(lr=0.05, beta=0.8, weight_decay=0.1,
                                              schedule=Warmup(3, then=Linear(4, end=0.5))),
                      lambda: ScheduleFreeSGD(lr=1.0)),
    "schedule_free_adamw": (lambda: ScheduleFreeAdamW(lr=0.01, weight_decay=0.1,
                                                      schedule=Warmup(2)),
                            lambda: ScheduleFreeAdamW(lr=1.0, beta1=0.0)),
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
    if not variant.startswith("batched") or structure == "array"])   # (3, 1) rows: (3, 4) only
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
    assert resumed.t == 3 and resumed.schedule == straight.schedule
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
    assert set(d) == {"optimizer", "format", "hyperparameters", "flags", "t", "schedule",
                      "schedule_t", "scalars", "structure", "params", "state"}
    assert d["optimizer"] == "Adam" and d["t"] == 1 and d["structure"] == "array"
    assert d["format"] == 2 and d["schedule"] is None and d["schedule_t"] == 1
    assert d["scalars"] == {}
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


def test_schedule_is_stored_as_plain_data():
    """An optlib schedule is stored as its config (nested dicts of numbers and names)."""
    opt = AdamW(lr=0.1, schedule=Warmup(3, then=Cosine(total=7, final=0.05)))
    opt.step(np.ones(2), np.ones(2))
    d = opt.state_dict()
    assert d["schedule"] == {"name": "Warmup", "steps": 3,
                             "then": {"name": "Cosine", "total": 7, "final": 0.05}}
    assert type(d["schedule"]["then"]["total"]) is int and d["schedule_t"] == 1
    other = GradientDescent(lr=1.0)
    other.step(np.ones(2), np.ones(2))
    assert other.state_dict()["schedule"] is None
    user = GradientDescent(lr=1.0, schedule=halving_every_third_step)
    assert user.state_dict()["schedule"] is halving_every_third_step


def test_schedule_set_in_the_middle_of_a_run_resumes_bit_for_bit():
    """A schedule assigned after 3 steps is at its own step 4 when t = 6; a checkpoint keeps
    both counts, and the resumed run goes on at the schedule's step 5, not 7."""
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal(5) for _ in range(10)]

    def first_part(w):
        opt = Momentum(lr=0.05, beta=0.8)
        for g in grads[:3]:
            opt.step(w, g)
        opt.schedule = Linear(total=4, start=2.0, end=0.1)
        for g in grads[3:6]:
            opt.step(w, g)
        return opt

    w1 = np.zeros(5)
    straight = first_part(w1)
    for g in grads[6:]:
        straight.step(w1, g)

    w2 = np.zeros(5)
    checkpoint = pickle.loads(pickle.dumps(first_part(w2).state_dict()))
    assert checkpoint["t"] == 6 and checkpoint["schedule_t"] == 3
    resumed = Momentum(lr=1.0)
    resumed.load_state_dict(checkpoint)
    assert (resumed.t, resumed.schedule_t) == (6, 3)
    for g in grads[6:]:
        resumed.step(w2, g)
    assert np.array_equal(w1, w2) and (resumed.t, resumed.schedule_t) == (10, 7)
    assert same(resumed.state_dict(), straight.state_dict())


def test_a_loaded_checkpoint_replaces_the_schedule():
    """Loading a checkpoint without a schedule removes the optimizer's schedule (it is
    restored like a hyperparameter), and one with a schedule installs it."""
    plain = GradientDescent(lr=0.5)
    plain.step(np.ones(2), np.ones(2))
    scheduled = GradientDescent(lr=0.5, schedule=StepDecay(every=1, factor=0.5))
    scheduled.load_state_dict(plain.state_dict())
    assert scheduled.schedule is None and scheduled.schedule_t == 1
    w = np.zeros(2)
    scheduled.step(w, np.ones(2))
    assert np.all(w == -0.5)                        # lr 0.5 unscheduled
    plain.load_state_dict(GradientDescent(lr=0.5, schedule=Cosine(total=3)).state_dict())
    assert plain.schedule == Cosine(total=3) and plain.t == plain.schedule_t == 0


def test_a_format_1_checkpoint_loads_without_a_schedule():
    """Checkpoints made before schedules (format 1: no schedule, schedule_t or scalars) still
    load."""
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal(3) for _ in range(6)]
    w1, straight = np.ones(3), Adam(lr=0.1)
    for g in grads:
        straight.step(w1, g)
    w2, first = np.ones(3), Adam(lr=0.1)
    for g in grads[:2]:
        first.step(w2, g)
    old = first.state_dict()
    del old["schedule"], old["schedule_t"], old["scalars"]
    old["format"] = 1
    resumed = Adam(lr=7.0, schedule=Cosine(total=2))
    resumed.load_state_dict(old)
    assert resumed.schedule is None and (resumed.t, resumed.schedule_t) == (2, 2)
    for g in grads[2:]:
        resumed.step(w2, g)
    assert np.array_equal(w1, w2)
    assert same(resumed.state_dict(), straight.state_dict())


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
    "format 3": (lambda: broken(lambda d: d.update(format=3)), ValueError, "format 3"),
    "format 1 with schedule keys": (lambda: broken(lambda d: d.update(format=1)), ValueError,
                                    r"unexpected \['schedule', 'schedule_t', 'scalars'\]"),
    "missing schedule_t": (lambda: broken(lambda d: d.pop("schedule_t")), ValueError,
                           r"missing \['schedule_t'\]"),
    "schedule not callable": (lambda: broken(lambda d: d.update(schedule=0.5)), TypeError,
                              r"state_dict\['schedule'\]=0.5"),
    "schedule name": (lambda: broken(lambda d: d.update(schedule={"name": "Exponential",
                                                                  "rate": 0.5})),
                      ValueError, r"state_dict\['schedule'\]\['name'\].*'Exponential'"),
    "schedule keys": (lambda: broken(lambda d: d.update(schedule={"name": "Cosine",
                                                                  "total": 3})),
                      ValueError, "must have the keys"),
    "schedule value": (lambda: broken(lambda d: d.update(schedule={"name": "Cosine", "total": 0,
                                                                   "final": 0.0})),
                       ValueError, r"state_dict\['schedule'\] is not a valid Cosine.*total=0"),
    "nested schedule": (lambda: broken(lambda d: d.update(schedule={
        "name": "Warmup", "steps": 2,
        "then": {"name": "Linear", "total": 2, "start": -1.0, "end": 0.0}})),
        ValueError, r"state_dict\['schedule'\]\['then'\] is not a valid Linear.*start=-1.0"),
    "schedule_t above t": (lambda: broken(lambda d: d.update(schedule_t=2)), ValueError,
                           "schedule_t"),
    "negative schedule_t": (lambda: broken(lambda d: d.update(schedule_t=-1)), ValueError,
                            r"state_dict\['schedule_t'\]"),
    "float schedule_t": (lambda: broken(lambda d: d.update(schedule_t=1.0)), TypeError,
                         r"state_dict\['schedule_t'\]"),
    "scalars for Adam": (lambda: broken(lambda d: d.update(scalars={"mu_max": 1.0})),
                         ValueError, r"state_dict\['scalars'\] must have the keys \[\]"),
    "scalars not a dict": (lambda: broken(lambda d: d.update(scalars=None)), TypeError,
                           r"state_dict\['scalars'\]"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_checkpoint_is_rejected_and_changes_nothing(case):
    make_bad, error, match = BAD[case]
    opt = Adam(lr=0.5, beta1=0.5, schedule=Linear(total=3))
    w = np.ones(3)
    opt.step(w, np.full(3, 2.0))
    before = opt.state_dict()
    with pytest.raises(error, match=match):
        opt.load_state_dict(make_bad())
    assert same(opt.state_dict(), before)
    opt.step(w, np.ones(3))                         # and it still works
    assert opt.t == opt.schedule_t == 2


@pytest.mark.parametrize("scalars, error, match", [
    ({"mu_max": 1.0}, ValueError, r"must have the keys \['mu_max', 'weight_sum'\]"),
    ({"mu_max": 1.0, "weight_sum": -2.0}, ValueError, r"\['weight_sum'\].*-2.0"),
    ({"mu_max": float("nan"), "weight_sum": 2.0}, ValueError, r"\['mu_max'\].*nan"),
    ({"mu_max": "1", "weight_sum": 2.0}, TypeError, r"\['mu_max'\]"),
])
def test_schedule_free_scalars_are_checked(scalars, error, match):
    """ScheduleFreeSGD's running numbers (the weights of its average) are checked on load."""
    opt, w = ScheduleFreeSGD(lr=0.1), np.ones(2)
    opt.step(w, np.ones(2))
    before = opt.state_dict()
    bad = copy.deepcopy(before)
    bad["scalars"] = scalars
    with pytest.raises(error, match=match):
        opt.load_state_dict(bad)
    assert same(opt.state_dict(), before)
