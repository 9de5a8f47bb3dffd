"""The compiled one-pass loops (``optlib._kernels``, numba) against the numpy ufunc chain.

With numba installed (``make`` installs it), steps on large float32/float64
parameters of gradient descent and Momentum run a compiled loop, and the finite
check of every optimizer's gradients does too. These tests check that

* the loops give exactly the bits of the numpy chain (``OPTLIB_KERNELS=numpy``)
  and of the equations written plainly, for C-ordered, Fortran-ordered and
  transposed parameters, with overflow, subnormals and signed zeros;
* they really run where they should (a spy counts the calls) and step aside
  where they cannot: strided views, batched array hyperparameters, mixed
  dtypes, small arrays;
* the finite check and the count of non-finite values are exact;
* numba is not even imported for the small problems of the chapters.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from optlib import GradientDescent, Momentum, _kernels, _settings
from optlib import _engine

pytest.importorskip("numba", reason="numba is optional (pip install optlib[fast])")

N = 3 * 10**5 + 7          # several blocks of float32 and float64; not a multiple of anything
DTYPES = [np.float32, np.float64]
STEPS = 4

VARIANTS = {
    "gd": (lambda: GradientDescent(lr=0.3), "gradient_descent"),
    "momentum": (lambda: Momentum(lr=0.3, beta=0.8), "momentum"),
    "nesterov": (lambda: Momentum(lr=0.3, beta=0.8, nesterov=True), "momentum_nesterov"),
}


@pytest.fixture(autouse=True)
def two_threads_and_kernels(monkeypatch):
    monkeypatch.setenv("OPTLIB_NUM_THREADS", str(2))
    monkeypatch.delenv(_settings.KERNELS, raising=False)


@pytest.fixture
def spy(monkeypatch):
    """Counts the calls of every compiled loop (from any thread) by name."""
    kernels = _kernels.get()
    assert kernels is not None, "numba is installed but optlib._kernels did not load"
    calls = {}
    for name, loop in list(vars(kernels).items()):
        def counted(*args, _loop=loop, _name=name):
            calls[_name] = calls.get(_name, 0) + 1
            return _loop(*args)
        monkeypatch.setattr(kernels, name, counted)
    return calls


def reference(variant, w, gs):
    """The equations as plain whole-array expressions, in optlib's grouping."""
    w, v = w.copy(order="K"), np.zeros_like(w)
    for g in gs:
        if variant == "gd":
            w = w - 0.3 * g
            continue
        v = 0.8 * v + (1.0 - 0.8) * g
        if variant == "nesterov":
            w = w - 0.3 * ((1.0 - 0.8) * g)
            w = w - (0.3 * 0.8) * v
        else:
            w = w - 0.3 * v
    return w, v


def data(dtype, shape, order="C", seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape).astype(dtype)
    gs = [(rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3)).astype(dtype)
          for _ in range(STEPS)]
    # special values: signed zeros, subnormals, the largest floats
    flat = gs[0].reshape(-1)
    tiny = np.finfo(dtype).smallest_subnormal
    flat[:6] = [0.0, -0.0, tiny, -tiny, np.finfo(dtype).max, -np.finfo(dtype).max]
    w.reshape(-1)[:3] = [0.0, -0.0, np.finfo(dtype).max]
    if order == "F":
        w, gs = np.asfortranarray(w), [np.asfortranarray(g) for g in gs]
    elif order == "T":     # a transposed C array: neither C- nor F-contiguous in 3-D
        w = np.ascontiguousarray(w.transpose(2, 0, 1)).transpose(1, 2, 0)
        gs = [np.ascontiguousarray(g.transpose(2, 0, 1)).transpose(1, 2, 0) for g in gs]
    return w, gs


def same_bits(a, b):
    """Equal element by element as floats (nan equal to nan), and the same signed zeros."""
    return np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))


def run(variant, w, gs):
    opt, w = VARIANTS[variant][0](), w.copy(order="K")
    with np.errstate(all="ignore"):
        for g in gs:
            opt.step(w, g)
    return w, opt.state.get("momentum_buffer")


@pytest.mark.parametrize("order, shape", [("C", (N,)), ("F", (601, 503)), ("T", (67, 71, 73))],
                         ids=["C", "fortran", "transposed"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_compiled_loop_equals_numpy_chain_and_equations(variant, dtype, order, shape, spy,
                                                        monkeypatch):
    w0, gs = data(dtype, shape, order)
    compiled = run(variant, w0, gs)
    loop = VARIANTS[variant][1]
    assert spy.get(loop, 0) >= STEPS, f"the compiled {loop} did not run: {spy}"
    assert spy.get("all_finite", 0) >= STEPS

    monkeypatch.setenv(_settings.KERNELS, "numpy")
    spy.clear()
    chain = run(variant, w0, gs)
    assert spy == {}, "OPTLIB_KERNELS=numpy must turn the compiled loops off"

    with np.errstate(all="ignore"):
        expected = reference(variant, w0, gs)
    assert same_bits(compiled[0], chain[0]) and same_bits(compiled[0], expected[0])
    assert compiled[0].dtype == dtype and compiled[0].flags.f_contiguous == w0.flags.f_contiguous
    if variant != "gd":
        assert same_bits(compiled[1], chain[1]) and same_bits(compiled[1], expected[1])


def test_overflow_to_infinity_warns_once_in_optlibs_category(spy):
    """A float32 step that overflows in the compiled loop gives infinities and one
    NonFiniteWarning naming the parameter (as the ufunc chain does)."""
    w = np.full(N, 3e38, dtype=np.float32)
    g = np.full(N, -3e38, dtype=np.float32)
    with pytest.warns(_engine.NonFiniteWarning, match=r"params\b") as caught:
        Momentum(lr=10.0, beta=0.5).step(w, g)
    assert len(caught) == 1
    assert spy.get("momentum") and np.all(w == np.inf)


@pytest.mark.parametrize("case", ["strided", "batched", "mixed_dtype", "small"])
def test_the_numpy_chain_runs_where_the_loop_cannot(case, spy):
    """Strided views, (K, 1) hyperparameter arrays, float64 gradients of float32 parameters
    and small arrays take the numpy chain, with the same results as contiguous copies."""
    rng = np.random.default_rng(1)
    if case == "strided":
        base = rng.standard_normal((2 * 400, 1001)).astype(np.float32)
        w, w_copy = base[::2], base[::2].copy()
        gs = [rng.standard_normal(w.shape).astype(np.float32) for _ in range(3)]
        make = lambda: Momentum(lr=0.1, beta=0.9)                       # noqa: E731
    elif case == "batched":
        w = rng.standard_normal((8, 50_000)).astype(np.float32)
        w_copy = w.copy()
        gs = [rng.standard_normal(w.shape).astype(np.float32) for _ in range(3)]
        lrs = np.linspace(0.01, 0.1, 8).reshape(8, 1)
        make = lambda: Momentum(lr=lrs, beta=0.9)                       # noqa: E731
    elif case == "mixed_dtype":
        w = rng.standard_normal(N).astype(np.float32)
        w_copy = w.copy()
        gs = [rng.standard_normal(N) for _ in range(3)]                  # float64
        make = lambda: Momentum(lr=0.1, beta=0.9)                       # noqa: E731
    else:
        w = rng.standard_normal(_kernels.MIN_ELEMENTS - 1).astype(np.float32)
        w_copy = w.copy()
        gs = [rng.standard_normal(w.shape).astype(np.float32) for _ in range(3)]
        make = lambda: Momentum(lr=0.1, beta=0.9)                       # noqa: E731
    opt = make()
    for g in gs:
        opt.step(w, g)
    assert "momentum" not in spy, f"{case}: the compiled loop ran: {spy}"

    if case == "batched":                   # row k equals a scalar run with lr[k]
        for k in range(8):
            row, single = w_copy[k].copy(), Momentum(lr=float(lrs[k, 0]), beta=0.9)
            for g in gs:
                single.step(row, g[k].copy())
            assert np.array_equal(w[k], row)
        return
    expected = w_copy.copy()
    reference_opt = make()
    os.environ[_settings.KERNELS] = "numpy"
    try:
        for g in gs:
            reference_opt.step(expected, np.ascontiguousarray(g))
    finally:
        del os.environ[_settings.KERNELS]
    assert np.array_equal(w, expected)


def test_other_dtypes_take_the_numpy_chain(spy):
    """numba has no float16: a large float16 parameter steps by the numpy chain, exactly as
    with the loops turned off."""
    rng = np.random.default_rng(2)
    w0 = rng.standard_normal(N).astype(np.float16)
    gs = [rng.standard_normal(N).astype(np.float16) for _ in range(3)]
    results = []
    for kernels in ("", "numpy"):
        os.environ[_settings.KERNELS] = kernels
        try:
            opt, w = Momentum(lr=0.1, beta=0.9, nesterov=True), w0.copy()
            for g in gs:
                opt.step(w, g)
        finally:
            del os.environ[_settings.KERNELS]
        results.append(w)
    assert spy == {}
    assert results[0].dtype == np.float16 and np.array_equal(results[0], results[1])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_finite_check_and_count_are_exact(dtype, spy):
    big = np.finfo(dtype).max
    g = np.full(N, big, dtype=dtype)
    g[1::2] = -big
    g[::7] = np.finfo(dtype).smallest_subnormal
    assert _kernels.block_is_finite(g) is True          # huge values: no overflow to a false alarm
    assert _kernels.block_non_finite(g) == 0
    for bad in [(np.nan, 0), (np.inf, N // 3), (-np.inf, N - 1),
                (np.nan, 5, np.inf, 6, -np.inf, N // 2)]:
        h = g.copy()
        for value, where in zip(bad[::2], bad[1::2]):
            h[where] = value
        assert _kernels.block_is_finite(h) is False
        assert _kernels.block_non_finite(h) == len(bad) // 2 == np.count_nonzero(~np.isfinite(h))
        w = np.zeros(N, dtype=dtype)
        with pytest.raises(ValueError, match=f"grads has {len(bad) // 2} non-finite value"):
            Momentum(lr=0.1).step(w, h)
        assert not w.any()
    assert spy.get("all_finite") and spy.get("count_non_finite")
    # not applicable: small, strided or integer-like input
    assert _kernels.block_is_finite(g[: _kernels.MIN_ELEMENTS - 1]) is None
    assert _kernels.block_is_finite(g[::2]) is None
    assert _kernels.block_non_finite(np.ones(N, dtype=np.float16)) is None


def test_numba_is_not_imported_for_small_problems():
    """The chapters' 2-D problems never import numba (it takes a while); a large step does."""
    code = (
        "import sys, numpy as np, optlib\n"
        "w = np.ones(2); opt = optlib.Momentum(lr=0.1)\n"
        "[opt.step(w, np.array([1.0, 2.0])) for _ in range(3)]\n"
        "optlib.run(optlib.Adam(lr=0.1), optlib.objectives.Rosenbrock(), np.array([-1.0, 1.0]), 50)\n"
        "print('numba' in sys.modules)\n"
        "optlib.Momentum(lr=0.1).step(np.ones(10**6), np.ones(10**6))\n"
        "print('numba' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != _settings.KERNELS}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]
