"""Tests for optlib.schedules: the multipliers, their arguments, their objects.

* each schedule's values against its formula written out here with numpy (a
  different cosine than the library's ``math.cos``), and against values worked
  out by hand at the points the chapter names (start, end of the ramp, after it);
* an array of steps gives element by element the bits of single steps;
* bad arguments (constructor and ``t``) raise ``TypeError``/``ValueError`` naming
  the argument and its value;
* schedules are immutable, compare and hash by value, print as they are built,
  pickle, and survive ``config`` -> ``from_config``;
* ``multiplier``: what an optimizer accepts from a schedule, and what it refuses.

The optimizers' use of schedules is in ``test_optimizer_schedules.py``; the
equality with torch's schedulers in ``test_torch_crosscheck.py``.
"""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest

from optlib import schedules
from optlib.schedules import Cosine, Linear, StepDecay, Warmup, from_config, multiplier

T = np.arange(1, 61)


# --------------------------------------------------------------------------
# The formulas
# --------------------------------------------------------------------------
@pytest.mark.parametrize("total, final", [(1, 0.0), (7, 0.0), (20, 0.1), (33, 0.5), (5, 2.0)])
def test_cosine_is_its_formula(total, final):
    k = np.minimum(T - 1, total)
    expected = final + (1 - final) * 0.5 * (1 + np.cos(np.pi * k / total))
    np.testing.assert_allclose(Cosine(total, final)(T), expected, rtol=1e-15, atol=1e-16)


def test_cosine_by_hand():
    c = Cosine(total=4, final=0.2)
    assert c(1) == 1.0                                   # starts at 1
    assert c(3) == pytest.approx(0.6, abs=1e-15)         # halfway: (1 + 0.2) / 2
    assert c(5) == 0.2 and c(6) == 0.2 and c(10**6) == 0.2   # reaches final, stays
    assert c(2) == pytest.approx(0.2 + 0.8 * (1 + math.sqrt(0.5)) / 2, abs=1e-15)
    values = Cosine(total=50, final=0.05)(T)
    assert np.all(np.diff(values) <= 0)                   # never rises again (torch's does)


@pytest.mark.parametrize("total, start, end", [(1, 1.0, 0.0), (10, 1.0, 0.0), (13, 0.25, 1.0),
                                               (8, 2.0, 0.5), (30, 0.0, 0.0)])
def test_linear_is_its_formula(total, start, end):
    k = np.minimum(T - 1, total)
    expected = start + (end - start) * k / total
    np.testing.assert_allclose(Linear(total, start, end)(T), expected, rtol=1e-15, atol=1e-16)


def test_linear_by_hand():
    lin = Linear(total=4, start=0.5, end=1.0)
    assert [lin(t) for t in range(1, 8)] == [0.5, 0.625, 0.75, 0.875, 1.0, 1.0, 1.0]
    assert Linear(total=10)(11) == 0.0 and Linear(total=10)(1) == 1.0


@pytest.mark.parametrize("every, factor", [(1, 0.5), (3, 0.1), (7, 0.9), (4, 1.5)])
def test_step_decay_is_its_formula(every, factor):
    expected = np.array([factor ** ((t - 1) // every) for t in T.tolist()])
    assert np.array_equal(StepDecay(every, factor)(T), expected)
    # the same from a repeated product, as torch's StepLR updates it
    lr, products = 1.0, []
    for t in T.tolist():
        if t > 1 and (t - 1) % every == 0:
            lr *= factor
        products.append(lr)
    np.testing.assert_allclose(StepDecay(every, factor)(T), products, rtol=1e-13)


def test_step_decay_by_hand_and_its_overflow():
    s = StepDecay(every=3, factor=0.1)
    assert [s(t) for t in range(1, 8)] == [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1 ** 2]
    assert StepDecay(every=1, factor=10.0)(400) == math.inf     # 10**399 is not a float
    assert StepDecay(every=1, factor=0.1)(400) == 0.0           # underflows to 0


def test_warmup_by_hand():
    w = Warmup(steps=4)
    assert [w(t) for t in range(1, 8)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0]
    assert Warmup(steps=1)(1) == 1.0 and Warmup(steps=1)(9) == 1.0


@pytest.mark.parametrize("then", [Cosine(total=10, final=0.1), Linear(total=5, start=1.0),
                                  StepDecay(every=2, factor=0.5)], ids=repr)
def test_warmup_then_starts_the_next_schedule_at_its_step_one(then):
    n = 6
    w = Warmup(steps=n, then=then)
    expected = [t / n if t <= n else then(t - n) for t in T.tolist()]
    assert w(T).tolist() == expected
    assert w(n + 1) == then(1) and w(n) == 1.0


def test_a_users_function_after_warmup():
    w = Warmup(2, then=lambda k: 1.0 / math.sqrt(k))
    assert w(1) == 0.5 and w(2) == 1.0 and w(3) == 1.0 and w(6) == 0.5


# --------------------------------------------------------------------------
# Evaluation at arrays
# --------------------------------------------------------------------------
ALL = [Cosine(17, 0.1), Linear(9, 0.3, 1.2), StepDecay(4, 0.7), Warmup(5),
       Warmup(3, then=Cosine(11))]


@pytest.mark.parametrize("schedule", ALL, ids=repr)
def test_an_array_of_steps_gives_the_bits_of_single_steps(schedule):
    t = np.array([[1, 2, 3], [50, 4, 12]], dtype=np.int32)
    values = schedule(t)
    assert values.shape == (2, 3) and values.dtype == np.float64
    for index, k in np.ndenumerate(t):
        single = schedule(int(k))
        assert type(single) is float and values[index] == single
    assert schedule(np.int64(4)) == schedule(4)
    assert schedule([1, 2]).tolist() == [schedule(1), schedule(2)]
    assert schedule(np.array([], dtype=int)).shape == (0,)


# --------------------------------------------------------------------------
# Bad arguments
# --------------------------------------------------------------------------
BAD_ARGS = [
    (lambda: Cosine(0), ValueError, "total.*total=0"),
    (lambda: Cosine(2.0), TypeError, "total.*total=2.0"),
    (lambda: Cosine(True), TypeError, "total.*total=True"),
    (lambda: Cosine("10"), TypeError, "total.*'10'"),
    (lambda: Cosine(10, final=-0.1), ValueError, "final.*final=-0.1"),
    (lambda: Cosine(10, final=math.nan), ValueError, "final.*nan"),
    (lambda: Cosine(10, final=None), TypeError, "final.*None"),
    (lambda: Linear(-3), ValueError, "total.*total=-3"),
    (lambda: Linear(3, start=math.inf), ValueError, "start.*inf"),
    (lambda: Linear(3, end=-1), ValueError, "end.*end=-1"),
    (lambda: Linear(3, start="1"), TypeError, "start"),
    (lambda: StepDecay(0, 0.5), ValueError, "every.*every=0"),
    (lambda: StepDecay(1.5, 0.5), TypeError, "every.*1.5"),
    (lambda: StepDecay(2, 0.0), ValueError, "factor.*factor=0.0"),
    (lambda: StepDecay(2, -0.5), ValueError, "factor.*factor=-0.5"),
    (lambda: StepDecay(2, np.array([0.5, 0.1])), TypeError, "factor"),
    (lambda: Warmup(0), ValueError, "steps.*steps=0"),
    (lambda: Warmup(3, then=0.5), TypeError, "then.*then=0.5"),
    (lambda: Warmup(3, then="cosine"), TypeError, "then.*'cosine'"),
]


@pytest.mark.parametrize("make, error, match", BAD_ARGS)
def test_bad_arguments_are_named(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("t, error", [(0, ValueError), (-2, ValueError), (1.0, TypeError),
                                      (True, TypeError), ("3", TypeError),
                                      (np.array([1, 0]), ValueError),
                                      (np.array([1.0, 2.0]), TypeError), (None, TypeError)])
def test_t_is_a_whole_number_from_one(t, error):
    with pytest.raises(error, match="t"):
        Cosine(10)(t)


# --------------------------------------------------------------------------
# The objects
# --------------------------------------------------------------------------
def test_immutable():
    c = Cosine(10)
    with pytest.raises(AttributeError, match="immutable"):
        c.total = 5
    with pytest.raises(AttributeError, match="immutable"):
        del c.final
    with pytest.raises(AttributeError):
        c.other = 1
    assert c.total == 10


def test_equality_hash_and_repr():
    assert Cosine(10) == Cosine(10, 0.0) and Cosine(10) != Cosine(10, 0.1)
    assert Cosine(10) != Linear(10) and Cosine(1) != 1
    assert len({Cosine(10), Cosine(10), Warmup(2, Cosine(10)), Warmup(2, Cosine(10))}) == 2
    assert Warmup(2, then=Cosine(3)) != Warmup(2, then=Cosine(4))
    assert repr(Cosine(100, final=0.1)) == "Cosine(total=100, final=0.1)"
    assert repr(Linear(5)) == "Linear(total=5, start=1.0, end=0.0)"
    assert repr(StepDecay(every=30, factor=0.1)) == "StepDecay(every=30, factor=0.1)"
    assert repr(Warmup(10, then=StepDecay(5, 0.5))) == \
        "Warmup(steps=10, then=StepDecay(every=5, factor=0.5))"
    assert repr(Warmup(10)) == "Warmup(steps=10, then=None)"
    assert type(Cosine(np.int64(10)).total) is int and type(Linear(3, start=1).start) is float


@pytest.mark.parametrize("schedule", ALL, ids=repr)
def test_pickle_copy_and_config_round_trips(schedule):
    for again in (pickle.loads(pickle.dumps(schedule)), copy.deepcopy(schedule),
                  from_config(schedule.config())):
        assert again == schedule and type(again) is type(schedule)
        assert np.array_equal(again(T), schedule(T))


def test_config_is_plain_data():
    assert Warmup(3, then=Cosine(7, final=0.05)).config() == {
        "name": "Warmup", "steps": 3, "then": {"name": "Cosine", "total": 7, "final": 0.05}}
    assert StepDecay(2, 0.5).config() == {"name": "StepDecay", "every": 2, "factor": 0.5}
    own = math.sqrt
    assert Warmup(3, then=own).config()["then"] is own         # any other callable: as it is
    assert from_config(Warmup(3, then=own).config()) == Warmup(3, then=own)


@pytest.mark.parametrize("config, error, match", [
    ([1], TypeError, "config must be a dict"),
    ({"name": "Exponential"}, ValueError, "'Exponential'"),
    ({"total": 3}, ValueError, r"config\['name'\]"),
    ({"name": "Linear", "total": 3}, ValueError, r"must have the keys \['name', 'total', "
                                                 r"'start', 'end'\]"),
    ({"name": "Cosine", "total": 3, "final": 0.0, "extra": 1}, ValueError, "keys"),
    ({"name": "StepDecay", "every": 2, "factor": -1.0}, ValueError,
     "not a valid StepDecay.*factor=-1.0"),
    ({"name": "Warmup", "steps": 2, "then": {"name": "Cosine", "total": 1.5, "final": 0.0}},
     TypeError, r"config\['then'\] is not a valid Cosine.*total=1.5"),
])
def test_from_config_rejects(config, error, match):
    with pytest.raises(error, match=match):
        from_config(config)


# --------------------------------------------------------------------------
# What an optimizer accepts from a schedule
# --------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0.5, 0, 3, np.float32(0.25), np.float64(2.0), np.int64(1),
                                   np.array(0.75), 0.0])
def test_multiplier_accepts_finite_numbers_from_zero(value):
    m = multiplier(lambda t: value, 1)
    assert type(m) is float and m == float(value)


@pytest.mark.parametrize("value, error", [
    (math.nan, ValueError), (math.inf, ValueError), (-0.5, ValueError), (-1, ValueError),
    (np.float32("nan"), ValueError), (10**400, ValueError),
    (True, TypeError), (np.True_, TypeError), ("0.5", TypeError), (None, TypeError),
    (np.array([0.5, 0.5]), TypeError), (np.array([0.5]), TypeError), (1 + 0j, TypeError)])
def test_multiplier_refuses_and_names_schedule_value_and_step(value, error):
    def mu(t):
        return value
    with pytest.raises(error, match=r"schedule=.*mu.* at t=7"):
        multiplier(mu, 7)


def test_multiplier_lets_the_schedules_own_error_through():
    def broken(t):
        raise KeyError("mine")
    with pytest.raises(KeyError, match="mine"):
        multiplier(broken, 1)


def test_checked_accepts_callables_and_none_only():
    assert schedules.checked(None) is None and schedules.checked(abs) is abs
    with pytest.raises(TypeError, match="schedule must be a schedule.*schedule='cosine'"):
        schedules.checked("cosine")
