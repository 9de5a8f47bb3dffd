"""All-or-nothing steps and the step machinery (``optlib._engine``).

Whatever raises during a step -- ``FloatingPointError`` under
``np.errstate(all="raise")``, a warning turned into an error, an array subclass
with arithmetic of its own, a compiled loop that fails -- the parameters, the
state and ``t`` must be exactly as before, so that retrying does not apply the
change twice. A step that turns finite values into non-finite ones warns once
with :class:`optlib.NonFiniteWarning`, naming the parameter, on every path
(small arrays, blocks and threads, compiled loops).
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import optlib
from optlib import Adagrad, Adam, AdamW, GradientDescent, Momentum, RMSprop, _engine, _kernels

SMALL = 64                  # a journaled step
LARGE = 3 * 10**5 + 7       # float64 with a buffer: several MiB, blocks, guarded first block

MAKERS = {
    "gd": lambda: GradientDescent(lr=1e300),
    "momentum": lambda: Momentum(lr=1e300, beta=0.5),
    "nesterov": lambda: Momentum(lr=1e300, beta=0.5, nesterov=True),
    "rmsprop": lambda: RMSprop(lr=1e300),
    "adagrad": lambda: Adagrad(lr=1e300),
    "adam": lambda: Adam(lr=1e300),
    "adamw": lambda: AdamW(lr=0.5, weight_decay=1.0),
}


def snapshot(opt, params):
    return ([p.copy() for p in params], opt.t, pickle.dumps(opt.state_dict()))


def assert_unchanged(opt, params, before):
    arrays, t, state = before
    assert all(np.array_equal(p, q) for p, q in zip(params, arrays)), "params changed"
    assert opt.t == t, "t changed"
    assert pickle.dumps(opt.state_dict()) == state, "state changed"


def overflowing_pair(n, dtype=np.float64):
    """Two parameters: the first steps normally, the second overflows."""
    big = np.finfo(dtype).max / 2
    params = [np.ones(n, dtype), np.full(n, big, dtype)]
    grads = [np.ones(n, dtype), np.full(n, -big, dtype)]
    return params, grads


def primed(name, params):
    """An optimizer that has taken one harmless step on params-shaped arrays (state exists)."""
    opt = MAKERS[name]()
    opt.step([p.copy() for p in params], [np.zeros_like(p) for p in params])
    return opt


@pytest.mark.parametrize("n", [SMALL, LARGE], ids=["small", "large"])
@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov", "rmsprop", "adam"])
def test_floating_point_error_changes_nothing(name, n):
    params, grads = overflowing_pair(n)
    opt = primed(name, params)
    before = snapshot(opt, params)
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        opt.step(params, grads)
    assert_unchanged(opt, params, before)


@pytest.mark.parametrize("n", [SMALL, LARGE], ids=["small", "large"])
@pytest.mark.parametrize("name", ["gd", "momentum", "rmsprop", "adam"])
def test_warnings_as_errors_change_nothing(name, n):
    params, grads = overflowing_pair(n)
    opt = primed(name, params)
    before = snapshot(opt, params)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(optlib.NonFiniteWarning, match=r"params\[1\]"):
            opt.step(params, grads)
    assert_unchanged(opt, params, before)


@pytest.mark.parametrize("n", [SMALL, LARGE], ids=["small", "large"])
def test_overflow_warns_once_naming_the_parameter_and_takes_the_step(n):
    params, grads = overflowing_pair(n)
    opt = primed("momentum", params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt.step(params, grads)
    assert [type(c.message) for c in caught] == [optlib.NonFiniteWarning]
    message = str(caught[0].message)
    assert "params[1]" in message and "params[0]" not in message
    assert caught[0].filename == __file__          # attributed to the caller's line
    assert opt.t == 2 and np.isinf(params[1]).all() and np.isfinite(params[0]).all()


def test_no_warning_when_values_were_already_non_finite():
    """A parameter that was inf before the step is not 'turned' non-finite by it."""
    w = np.array([np.inf, 1.0])
    opt = GradientDescent(lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step(w, np.array([1.0, 1.0]))
    assert w[0] == np.inf and w[1] == 0.9


def test_run_records_divergence_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trajectory = optlib.run(GradientDescent(lr=1e3), optlib.objectives.Quadratic(),
                                [1.0, 1.0], 50)
    assert trajectory.diverged


class Exploding(np.ndarray):
    """An array subclass whose own arithmetic fails after a few operations."""
    calls = 0

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        Exploding.calls += 1
        if Exploding.calls > 2:
            raise RuntimeError("this subclass's arithmetic failed")
        inputs = [x.view(np.ndarray) if isinstance(x, Exploding) else x for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(x.view(np.ndarray) if isinstance(x, Exploding) else x
                                  for x in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)


@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_array_subclasses_step_as_plain_arrays(name):
    """Parameters and gradients of an ndarray subclass are stepped through plain views:
    the subclass's own ufunc handling never runs, and the result is the plain one."""
    make = {"momentum": lambda: Momentum(lr=0.1), "adam": lambda: Adam(lr=0.1)}[name]
    plain = [np.linspace(-1, 1, 10), np.linspace(2, 3, 10)]
    grads = [np.linspace(0.5, 1.5, 10), np.linspace(-1, 1, 10)]
    odd = [p.copy().view(Exploding) for p in plain]
    odd_grads = [g.copy().view(Exploding) for g in grads]
    Exploding.calls = 0
    a, b = make(), make()
    for _ in range(3):
        a.step(plain, grads)
        b.step(odd, odd_grads)
    assert Exploding.calls == 0
    assert all(np.array_equal(p, q.view(np.ndarray)) for p, q in zip(plain, odd))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_matrix_parameters_are_stepped_elementwise():
    w = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    g = np.matrix([[1.0, 1.0], [1.0, 1.0]])
    GradientDescent(lr=0.5).step(w, g)
    assert np.array_equal(np.asarray(w), [[0.5, 1.5], [2.5, 3.5]])


def break_kernels(monkeypatch):
    """Compiled loops that write half their block and then fail."""
    real = _kernels.get()
    if real is None:
        pytest.skip("numba is optional (pip install optlib-textbook[fast])")

    def broken(p, g, *rest):
        p[: p.shape[0] // 2] = 12345.0
        raise RuntimeError("compiled loop failed")

    fake = type(real)(**{**vars(real), "momentum": broken, "gradient_descent": broken,
                         "momentum_nesterov": broken})
    monkeypatch.setattr(_kernels, "get", lambda: fake)


@pytest.mark.parametrize("shape", [(_kernels.MIN_ELEMENTS,), (LARGE,), (3001, 103)],
                         ids=["journaled", "large", "large-2d"])
@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov"])
def test_a_failing_compiled_loop_changes_nothing(monkeypatch, name, shape):
    make = {"gd": lambda: GradientDescent(lr=0.1), "momentum": lambda: Momentum(lr=0.1),
            "nesterov": lambda: Momentum(lr=0.1, nesterov=True)}[name]
    n = int(np.prod(shape))
    params = [np.linspace(0, 1, n).reshape(shape), np.linspace(1, 2, n).reshape(shape)]
    grads = [np.ones(shape), np.ones(shape)]
    opt = make()
    opt.step(params, grads)
    break_kernels(monkeypatch)
    before = snapshot(opt, params)
    with pytest.raises(RuntimeError, match="compiled loop failed"):
        opt.step(params, grads)
    assert_unchanged(opt, params, before)


@pytest.mark.parametrize("shape, index", [
    ((10**6,), _engine.WHOLE), ((10**6,), (slice(0, 500000),)), ((2000, 700), (slice(0, 700),)),
    ((3, 2000, 700), (1, slice(0, 700))), ((5, 4), _engine.WHOLE), ((10**6,), (7,))])
def test_the_guarded_head_and_the_tail_cover_the_block_exactly(shape, index):
    p = np.zeros(shape)
    job = (None, p, p, {}, None, index)
    head, tail = _engine.split_head(job, _kernels.MIN_ELEMENTS)
    marks = np.zeros(shape, dtype=int)
    marks[head[5]] += 1
    if tail is not None:
        marks[tail[5]] += 1
        assert marks[head[5]].size >= _kernels.MIN_ELEMENTS
        assert marks[head[5]].size < marks[tail[5]].size
    expected = np.zeros(shape, dtype=int)
    expected[index] = 1
    assert np.array_equal(marks, expected)


def test_interleaved_views_do_not_overlap():
    """x[::2] and x[1::2] share a buffer but no element: both may be parameters."""
    x = np.arange(10.0)
    g = np.ones(10)
    Momentum(lr=0.5, beta=0.0).step([x[::2], x[1::2]], [g[::2], g[1::2]])
    assert np.array_equal(x, np.arange(10.0) - 0.5)


def test_truly_overlapping_views_are_rejected():
    x = np.arange(10.0)
    with pytest.raises(ValueError, match=r"params\[1\] shares memory with another parameter"):
        GradientDescent(lr=0.1).step([x[:6], x[4:]], [np.ones(6), np.ones(6)])
    assert np.array_equal(x, np.arange(10.0))


def test_gradients_aliasing_the_optimizers_state_are_rejected():
    """A gradient that is a view of the optimizer's own buffer (reached through its
    internals) would be read while the step rewrites it: rejected, nothing changed."""
    w = np.ones(4)
    opt = Momentum(lr=0.1)
    opt.step(w, np.ones(4))
    buffer = opt._state[None]["momentum_buffer"]
    before = snapshot(opt, [w])
    with pytest.raises(ValueError, match="grads shares memory with the optimizer's state "
                                         "momentum_buffer"):
        opt.step(w, buffer)
    assert_unchanged(opt, [w], before)


def test_state_is_a_read_only_copy():
    w = np.ones(3)
    opt = Momentum(lr=0.1)
    opt.step(w, np.ones(3))
    state = opt.state
    with pytest.raises(ValueError):
        state["momentum_buffer"][0] = 99.0
    copy = state["momentum_buffer"]
    copy.setflags(write=True)                  # a copy owns its data: it may be made writable ...
    copy[...] = 99.0
    assert np.all(opt.state["momentum_buffer"] == 1 - 0.9)     # ... and changes nothing


def test_warning_filters_are_read_like_the_warnings_module():
    assert not _engine.warning_may_raise(optlib.NonFiniteWarning, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert _engine.warning_may_raise(optlib.NonFiniteWarning, 1)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=RuntimeWarning, module="somewhere_else")
        assert not _engine.warning_may_raise(optlib.NonFiniteWarning, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", optlib.NonFiniteWarning)
        assert not _engine.warning_may_raise(optlib.NonFiniteWarning, 1)


def test_a_diverged_run_warns_once_then_only_for_new_non_finite_values():
    w = np.array([1e308, 1.0, 1.0])
    opt = GradientDescent(lr=1.0)
    with pytest.warns(optlib.NonFiniteWarning, match="1 value"):
        opt.step(w, np.array([-1e308, 0.0, 0.0]))          # w[0] overflows
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step(w, np.array([1.0, 1.0, 1.0]))             # inf stays inf: nothing new
    with pytest.warns(optlib.NonFiniteWarning, match="1 value"):
        opt.step(w, np.array([0.0, -1e308, 0.0]))          # w[1] overflows
        opt.step(w, np.array([0.0, -1e308, 0.0]))
    assert np.isinf(w[:2]).all() and np.isfinite(w[2])


@pytest.mark.parametrize("make, buffer", [(lambda: RMSprop(lr=0.1), "square_avg"),
                                          (lambda: Adagrad(lr=0.1), "sum_sq"),
                                          (lambda: Adam(lr=0.1), "exp_avg_sq")])
def test_a_sum_of_squares_that_overflows_warns_although_the_parameter_stays_finite(make,
                                                                                  buffer):
    """g² = inf makes the step g/√inf = 0: the parameter stays finite, the state does not."""
    w = np.ones(3)
    opt = make()
    with pytest.warns(optlib.NonFiniteWarning):
        opt.step(w, np.array([1e200, 0.0, 0.0]))
    assert np.isfinite(w).all() and np.isinf(opt.state[buffer][0])
