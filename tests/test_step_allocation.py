"""Steps on large arrays: no parameter-sized allocation, and results exactly those of the equations.

Once an optimizer's state exists, ``step`` must not allocate any array of a
parameter's size: it updates in place and keeps its temporaries in small,
reused work arrays, processing large parameters block by block and sharing the
blocks among threads. This file checks

1. allocation, with :mod:`tracemalloc` (numpy reports its data allocations to
   it): after two steps, the peak traced memory during a third is below 5 % of
   the largest parameter's ``nbytes``, for every optimizer and variant, float32
   and float64, a single array, a list, a dict, and (K, N) parameters with (K, 1)
   hyperparameters;
2. exactness: the parameters and every state buffer equal, bit for bit
   (``np.array_equal``), a reference written plainly below with whole-array
   numpy expressions. The reference groups each equation as optlib evaluates
   it (for Adam, ``m / (√(v / (1 − β₂ᵗ)) + ε) · (α / (1 − β₁ᵗ))``, the same real
   number as DESIGN.md's ``α·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)`` but not the same
   float); cutting the arrays into blocks or threads must not change a bit;
3. the pieces: the blocks cover an array exactly once; a float32 batch with
   (K, 1) hyperparameter arrays takes bit for bit the steps of K scalar runs;
   ``np.errstate`` reaches the helper threads; the finite check is exact where a
   sum would overflow.

The threaded path is forced (``OPTLIB_NUM_THREADS=2``) so that it is tested
on a one-CPU machine too.
"""

from __future__ import annotations

import math
import os
import tracemalloc
import warnings

import numpy as np
import pytest

from optlib import Adagrad, Adam, AdamW, GradientDescent, Momentum, RMSprop
from optlib import _engine

N = 10**6          # elements of a large parameter (4 MB in float32: several blocks, threads)
K = 16             # rows of the batched parameters (K, N // K)
BUDGET = 0.05      # peak allocation during a step, as a fraction of the largest parameter
DTYPES = [np.float32, np.float64]


@pytest.fixture(autouse=True)
def two_threads(monkeypatch):
    """Share large steps between two threads even on a one-CPU machine."""
    monkeypatch.setenv("OPTLIB_NUM_THREADS", str(2))


# ==========================================================================
# The reference: the equations as whole-array expressions, in optlib's grouping
# ==========================================================================
def as_dtype(value, dtype):
    """A hyperparameter as it enters the arithmetic: a float stays a Python float (numpy
    rounds it to the array's dtype); an array is rounded to that dtype."""
    return value.astype(dtype) if isinstance(value, np.ndarray) else value


def reference_step(kind, hyper, w, g, state, t):
    """One step of optimizer ``kind`` on arrays w, g; returns the new w and state (fresh arrays)."""
    d = w.dtype
    h = lambda value: as_dtype(value, d)          # noqa: E731
    if kind == "gd":
        return w - h(hyper["lr"]) * g, {}
    if kind in ("momentum", "nesterov"):
        lr, beta = hyper["lr"], hyper["beta"]
        v = h(beta) * state["momentum_buffer"] + h(1.0 - beta) * g
        if kind == "nesterov":
            w = w - h(lr) * (h(1.0 - beta) * g)
            w = w - h(lr * beta) * v
        else:
            w = w - h(lr) * v
        return w, {"momentum_buffer": v}
    if kind in ("rmsprop", "adagrad"):
        if kind == "rmsprop":
            beta = hyper["beta"]
            s = h(beta) * state["square_avg"] + h(1.0 - beta) * g**2
            name = "square_avg"
        else:
            s = state["sum_sq"] + g**2
            name = "sum_sq"
        w = w - divide_by_root(g, s, h(hyper["eps"])) * h(hyper["lr"])
        return w, {name: s}
    # Adam
    lr, beta1, beta2, wd = hyper["lr"], hyper["beta1"], hyper["beta2"], hyper["weight_decay"]
    if np.any(wd != 0) and hyper["decoupled"]:
        w = w * h(1.0 - lr * wd)
    elif np.any(wd != 0):
        g = g + h(wd) * w
    m = h(beta1) * state["exp_avg"] + h(1.0 - beta1) * g
    v = h(beta2) * state["exp_avg_sq"] + h(1.0 - beta2) * g**2
    new = {"exp_avg": m, "exp_avg_sq": v}
    if hyper["amsgrad"]:
        v = new["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], v)
    step = divide_by_root(m, v / h(1.0 - beta2**t), h(hyper["eps"])) * h(lr / (1.0 - beta1**t))
    return w - step, new


def divide_by_root(numerator, denominator, eps):
    """numerator / (√denominator + eps), and 0 where that denominator is 0 (eps = 0)."""
    root = np.sqrt(denominator) + eps
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(root > 0, numerator / root, 0.0).astype(root.dtype)


# id -> (constructor, reference kind, keyword hyperparameters; make() turns them into arrays)
VARIANTS = {
    "gradient_descent": (GradientDescent, "gd", dict(lr=0.05)),
    "momentum": (Momentum, "momentum", dict(lr=0.05, beta=0.8)),
    "nesterov": (Momentum, "nesterov", dict(lr=0.05, beta=0.8, nesterov=True)),
    "rmsprop": (RMSprop, "rmsprop", dict(lr=0.01, beta=0.9, eps=1e-8)),
    "rmsprop_eps0": (RMSprop, "rmsprop", dict(lr=0.01, beta=0.9, eps=0.0)),
    "adagrad": (Adagrad, "adagrad", dict(lr=0.1, eps=1e-10)),
    "adagrad_eps0": (Adagrad, "adagrad", dict(lr=0.1, eps=0.0)),
    "adam": (Adam, "adam", dict()),
    "adam_eps0": (Adam, "adam", dict(lr=0.01, eps=0.0)),
    "adam_l2": (Adam, "adam", dict(lr=0.01, weight_decay=0.1)),
    "adam_decoupled": (Adam, "adam", dict(lr=0.01, weight_decay=0.1, decoupled=True)),
    "adam_amsgrad": (Adam, "adam", dict(lr=0.01, amsgrad=True)),
    "adam_amsgrad_l2": (Adam, "adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    "adamw": (AdamW, "adam", dict(lr=0.01)),
    "adamw_amsgrad": (AdamW, "adam", dict(lr=0.01, amsgrad=True)),
}
ADAM_DEFAULTS = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                     decoupled=False, amsgrad=False)
ADAMW_DEFAULTS = dict(ADAM_DEFAULTS, weight_decay=1e-2, decoupled=True)


def make(variant, batched=False):
    """(optimizer, reference kind, every hyperparameter by name). batched: each nonzero
    hyperparameter becomes a (K, 1) array whose rows differ (row k scaled by 1 − k/(4K))."""
    cls, kind, kwargs = VARIANTS[variant]
    defaults = ADAMW_DEFAULTS if cls is AdamW else ADAM_DEFAULTS if cls is Adam else {}
    hyper = {**defaults, **kwargs}
    if batched:
        column = 1.0 - np.arange(K).reshape(K, 1) / (4 * K)
        hyper = {name: value * column if type(value) is float and value else value
                 for name, value in hyper.items()}
    names = cls._hyper_names + cls._flag_names
    return cls(**{name: hyper[name] for name in names if name in hyper}), kind, hyper


def structures(dtype):
    """id -> params: large parameters (N elements) in every supported structure."""
    rng = np.random.default_rng(0)
    r = lambda *shape: rng.standard_normal(shape).astype(dtype)   # noqa: E731
    return {
        "array": r(N),
        "list": [r(N // 2000, 1000), r(7), r(N // 2)],
        "dict": {"W": r(1000, N // 1000), "b": r(N // 1000)},
        "batched": r(K, N // K),
    }


def leaves(params):
    if isinstance(params, np.ndarray):
        return [(None, params)]
    if isinstance(params, dict):
        return list(params.items())
    return list(enumerate(params))


def gradients(params, seed):
    """Gradients with zeros sprinkled in (so that eps = 0 meets zero denominators)."""
    rng = np.random.default_rng(seed)

    def one(p):
        g = rng.standard_normal(p.shape).astype(p.dtype)
        g.reshape(-1)[::5] = 0.0
        return g
    if isinstance(params, np.ndarray):
        return one(params)
    if isinstance(params, dict):
        return {k: one(v) for k, v in params.items()}
    return [one(p) for p in params]


def peak_allocation(fn) -> int:
    """Bytes of the traced peak above the memory traced when ``fn`` starts."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


# ==========================================================================
# 1. No parameter-sized allocation once the state exists
# ==========================================================================
def test_tracemalloc_sees_numpy_allocations():
    """The probe works: numpy's temporaries are traced (np.isfinite(g) is one byte per element)."""
    g = np.ones(N, dtype=np.float32)
    assert peak_allocation(lambda: np.all(np.isfinite(g))) >= N
    assert peak_allocation(lambda: g + 1.0) >= g.nbytes


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("structure", ["array", "list", "dict", "batched"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_step_allocates_no_parameter_sized_array(variant, structure, dtype):
    """Third step: peak traced allocation < 5 % of the largest parameter; results = reference."""
    params = structures(dtype)[structure]
    opt, kind, hyper = make(variant, batched=structure == "batched")
    largest = max(p.nbytes for _, p in leaves(params))
    expected = {key: (p.astype(dtype), {name: np.zeros_like(p) for name in opt._state_names})
                for key, p in leaves(params)}
    for t in (1, 2, 3):
        grads = gradients(params, seed=t)
        if t < 3:
            opt.step(params, grads)
        else:
            peak = peak_allocation(lambda: opt.step(params, grads))
            assert peak < BUDGET * largest, (
                f"a step allocated {peak} bytes at its peak; the largest parameter has "
                f"{largest} bytes")
        g_leaves = dict(leaves(grads))
        for key, (w, state) in expected.items():
            expected[key] = reference_step(kind, hyper, w, g_leaves[key], state, t)
    state = opt.state
    for key, p in leaves(params):
        w, ref_state = expected[key]
        assert p.dtype == dtype
        assert np.array_equal(p, w), f"params[{key!r}] differ from the reference"
        buffers = state if key is None else state[key]
        assert set(buffers) == set(ref_state)
        for name, value in ref_state.items():
            assert buffers[name].dtype == dtype
            assert np.array_equal(buffers[name], value), f"{name} of params[{key!r}] differs"


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_rejected_step_allocates_no_parameter_sized_array(dtype):
    """The finite-gradient check is blockwise too: a step rejected for a nan in the last
    element allocates (almost) nothing, and changes nothing."""
    params = structures(dtype)["array"]
    opt = Adam(lr=0.01)
    opt.step(params, gradients(params, 1))
    grads = gradients(params, 2)
    grads[-1] = np.nan
    with pytest.raises(ValueError):     # the first rejection compiles optlib._kernels' count
        opt.step(params, grads)
    before = params.copy(), {k: v.copy() for k, v in opt.state.items()}
    caught = []

    def bad_step():
        with pytest.raises(ValueError, match="1 non-finite value") as info:
            opt.step(params, grads)
        caught.append(info)
    assert peak_allocation(bad_step) < BUDGET * params.nbytes
    assert caught and opt.t == 1
    assert np.array_equal(params, before[0])
    assert all(np.array_equal(opt.state[k], v) for k, v in before[1].items())


# ==========================================================================
# 2. Exactness of the pieces
# ==========================================================================
@pytest.mark.parametrize("shape, size", [((10,), 3), ((10,), 10), ((3, 5, 7), 4),
                                         ((3, 5, 7), 35), ((3, 5, 7), 36), ((4, 1000), 999),
                                         ((2, 3, 4), 1), ((0, 5), 2), ((), 1), ((1,), 1)])
def test_blocks_cover_the_array_exactly_once(shape, size):
    """Every element is in exactly one block; blocks are views of at most `size` elements."""
    blocks = _engine.blocks(shape, size)
    a = np.zeros(shape, dtype=np.int64)
    for index in blocks:
        view = a[index]
        assert np.shares_memory(view, a) or a.size == 0
        assert view.size <= max(size, 1)
        view += 1
    assert np.all(a == 1)
    if math.prod(shape) <= size:
        assert blocks == (_engine.WHOLE,)


@pytest.mark.parametrize("variant", ["momentum", "nesterov", "rmsprop", "adam_l2",
                                     "adamw_amsgrad"])
def test_float32_batch_equals_scalar_runs_bit_for_bit(variant):
    """Float32 params (K, M) with (K, 1) hyperparameters step exactly as K runs with floats."""
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((K, 300)).astype(np.float32)
    grads = [rng.standard_normal((K, 300)).astype(np.float32) for _ in range(4)]
    batch, _, hyper = make(variant, batched=True)
    w = w0.copy()
    for g in grads:
        batch.step(w, g)
    for k in range(K):
        row = {name: float(value[k, 0]) if isinstance(value, np.ndarray) else value
               for name, value in hyper.items()}
        cls = VARIANTS[variant][0]
        names = cls._hyper_names + cls._flag_names
        single, wk = cls(**{name: row[name] for name in names if name in row}), w0[k].copy()
        for g in grads:
            single.step(wk, g[k].copy())
        assert np.array_equal(w[k], wk), f"row {k}"


def test_threads_and_blocks_do_not_change_a_bit(monkeypatch):
    """A large Adam (L2, AMSGrad) run is the same with 1 or 2 threads and 1 MiB or 64 KiB blocks."""
    rng = np.random.default_rng(4)
    w0 = rng.standard_normal((37, 30011)).astype(np.float32)
    grads = [rng.standard_normal(w0.shape).astype(np.float32) for _ in range(3)]
    results = []
    for threads, block_bytes in [(1, 1 << 40), (2, 1 << 20), (2, 1 << 16), (1, 1 << 16)]:
        monkeypatch.setenv("OPTLIB_NUM_THREADS", str(threads))
        monkeypatch.setattr(_engine, "BLOCK_BYTES", block_bytes)
        opt, w = Adam(lr=0.01, weight_decay=0.1, amsgrad=True), w0.copy()
        for g in grads:
            opt.step(w, g)
        results.append((w, opt.state))
    for w, state in results[1:]:
        assert np.array_equal(w, results[0][0])
        for name, value in state.items():
            assert np.array_equal(value, results[0][1][name])


def test_overflow_warns_once_with_optlibs_category_in_every_thread():
    """A large float32 step that overflows (threads, blocks) gives exactly one
    NonFiniteWarning -- never numpy's RuntimeWarnings from a helper thread -- and
    takes the step."""
    w = np.full(N, 3e38, dtype=np.float32)
    g = np.full(N, -3e38, dtype=np.float32)
    opt = Momentum(lr=10.0, beta=0.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt.step(w, g)
    assert [type(c.message) for c in caught] == [_engine.NonFiniteWarning]
    assert "params" in str(caught[0].message)
    assert np.all(np.isinf(w)) and opt.t == 1


def test_errstate_raise_reaches_the_helper_threads_and_changes_nothing():
    """Under np.errstate(all="raise") the same step raises FloatingPointError (in
    whichever thread overflows first) and every array is as before."""
    w = np.full(N, 3e38, dtype=np.float32)
    g = np.full(N, -3e38, dtype=np.float32)
    opt = Momentum(lr=10.0, beta=0.5)
    opt.step(np.ones(N, dtype=np.float32), np.ones(N, dtype=np.float32))  # state exists
    before_w, before_state = w.copy(), opt.state_dict()
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        opt.step(w, g)
    assert np.array_equal(w, before_w) and opt.t == 1
    after = opt.state_dict()
    assert np.array_equal(after["state"]["momentum_buffer"],
                          before_state["state"]["momentum_buffer"])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_finite_check_is_exact_where_a_sum_overflows(dtype):
    """Huge finite gradients (whose sum overflows) are accepted; one inf or nan is rejected."""
    big = np.finfo(dtype).max
    g = np.full(N, big, dtype=dtype)
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.sum(g))
    w = np.zeros(N, dtype=dtype)
    GradientDescent(lr=1e-3).step(w, g)
    assert np.all(np.isfinite(w)) and np.all(w < 0)
    for bad, where in [(np.inf, 0), (-np.inf, N // 2), (np.nan, N - 1)]:
        h = g.copy()
        h[where] = bad
        with pytest.raises(ValueError, match="grads has 1 non-finite value"):
            GradientDescent(lr=1e-3).step(np.zeros(N, dtype=dtype), h)


def test_non_contiguous_parameters_and_gradients():
    """A strided parameter view and a Fortran-ordered gradient step exactly as contiguous copies."""
    rng = np.random.default_rng(5)
    base = rng.standard_normal((2 * 700, 3001)).astype(np.float32)
    strided = base[::2]                                   # every other row: a strided view
    contiguous = strided.copy()
    grads = [np.asfortranarray(rng.standard_normal(contiguous.shape).astype(np.float32))
             for _ in range(3)]
    a, b = RMSprop(lr=0.01, eps=0.0), RMSprop(lr=0.01, eps=0.0)
    for g in grads:
        a.step(strided, g)
        b.step(contiguous, np.ascontiguousarray(g))
    assert np.array_equal(strided, contiguous)
    assert np.array_equal(base[::2], contiguous)
    assert np.array_equal(a.state["square_avg"], b.state["square_avg"])


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_threads_work_in_a_forked_child():
    """After a fork (multiprocessing's default on Linux) a large threaded step still completes."""
    import multiprocessing

    w = np.ones(N, dtype=np.float32)
    Momentum(lr=0.1).step(w, np.ones(N, dtype=np.float32))      # the parent's pool exists
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        result = pool.apply_async(_large_step_in_child).get(timeout=60)
    assert result == pytest.approx(1.0 - 0.1 * 0.1 - 0.1 * 0.09, rel=1e-6)   # v = 0.1, then 0.09


def _large_step_in_child():
    os.environ["OPTLIB_NUM_THREADS"] = "2"
    w = np.ones(N, dtype=np.float32)
    opt = Momentum(lr=0.1, beta=0.9)
    opt.step(w, np.ones(N, dtype=np.float32))
    opt.step(w, np.zeros(N, dtype=np.float32))
    return float(w[-1])
