"""optlib.Lion (Chen et al. 2023) against an independent numpy loop, and every rule of the
other optimizers: validation, schedules, batched hyperparameters, all-or-nothing steps,
NonFiniteWarning and checkpoints. No torch (torch.optim has no Lion).

The reference is the contract's equations written out once, in the contract's own form
w <- w - alpha (sign(c) + delta w), which rounds differently from optlib's
w <- (1 - alpha delta) w - alpha sign(c): the two agree to rounding (rtol 1e-13), and exactly
where there is no decay.
"""

from __future__ import annotations

import inspect
import math
import pickle
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optlib
from optlib import NonFiniteWarning
from optlib.optimizers import Lion
from optlib.schedules import Cosine

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


def reference(w0, grads, lr, beta1, beta2, wd, multipliers=None):
    """The contract's Lion, step by step: returns the parameters and the buffer after each."""
    w, m = np.array(w0, dtype=float), np.zeros_like(w0, dtype=float)
    out = []
    for t, g in enumerate(grads):
        a = lr * (1.0 if multipliers is None else multipliers[t])
        c = beta1 * m + (1 - beta1) * g
        w = w - a * (np.sign(c) + wd * w)
        m = beta2 * m + (1 - beta2) * g
        out.append((w.copy(), m.copy()))
    return out


def test_the_signature_is_the_contracts():
    params = inspect.signature(Lion).parameters
    assert {n: p.default for n, p in params.items()} == {
        "lr": 1e-4, "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0, "schedule": None}
    assert list(params) == ["lr", "beta1", "beta2", "weight_decay", "schedule"]
    assert optlib.optimizers.Lion is Lion and "Lion" in optlib.optimizers.__all__


def test_the_first_step_is_minus_alpha_sign_g_and_sign_0_is_0():
    w = np.array([1.0, -2.0, 0.5, 3.0])
    g = np.array([0.3, -0.1, 0.0, -1e-300])
    Lion(lr=0.1).step(w, g)
    np.testing.assert_array_equal(w, [1.0 - 0.1, -2.0 + 0.1, 0.5, 3.0 + 0.1])


@pytest.mark.parametrize("wd", [0.0, 0.3])
@pytest.mark.parametrize("betas", [(0.9, 0.99), (0.0, 0.0), (0.5, 0.9)])
def test_agrees_with_the_reference_loop(wd, betas):
    rng = np.random.default_rng(1)
    w0, grads = rng.normal(size=(4, 5)), rng.normal(size=(25, 4, 5))
    opt, w = Lion(lr=0.01, beta1=betas[0], beta2=betas[1], weight_decay=wd), w0.copy()
    for g, (w_ref, m_ref) in zip(grads, reference(w0, grads, 0.01, *betas, wd)):
        opt.step(w, g)
        if wd == 0:
            np.testing.assert_array_equal(w, w_ref)
        else:
            np.testing.assert_allclose(w, w_ref, rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(opt.state["exp_avg"], m_ref)
    assert opt.t == len(grads)


def test_a_large_parameter_cut_into_blocks_agrees_with_the_reference():
    """3 x 400 000 float64 (about 9.6 MB: several blocks and threads, the guarded head)."""
    rng = np.random.default_rng(2)
    w0, grads = rng.normal(size=(3, 400_000)), rng.normal(size=(3, 3, 400_000))
    opt, w = Lion(lr=0.01, weight_decay=0.1), w0.copy()
    for g in grads:
        opt.step(w, g)
    w_ref, m_ref = reference(w0, grads, 0.01, 0.9, 0.99, 0.1)[-1]
    np.testing.assert_allclose(w, w_ref, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(opt.state["exp_avg"], m_ref)


@settings(max_examples=40, deadline=None)
@given(w=hnp.arrays(np.float64, (3, 4), elements=finite),
       grads=hnp.arrays(np.float64, (3, 3, 4), elements=finite),
       lr=st.sampled_from([1e-4, 0.01, 0.5, 2.0]))
def test_every_step_is_minus_alpha_times_a_sign(w, grads, lr):
    """Without decay, w_t = w_{t-1} - alpha sign(c) with sign(c) in {-1, 0, 1}: each entry
    moves by exactly -alpha, 0 or alpha (before rounding of w -+ alpha)."""
    opt = Lion(lr=lr)
    for g in grads:
        v = opt.state["exp_avg"] if opt.t else np.zeros_like(w)
        direction = np.sign(0.9 * v + (1 - 0.9) * g)
        assert set(np.unique(direction)) <= {-1.0, 0.0, 1.0}
        before = w.copy()
        opt.step(w, g)
        np.testing.assert_array_equal(w, before - lr * direction)


magnitudes = st.one_of(st.just(0.0), st.floats(1e-3, 10.0), st.floats(-10.0, -1e-3))


@settings(max_examples=30, deadline=None)
@given(k=st.integers(-30, 30), grads=hnp.arrays(np.float64, (4, 6), elements=magnitudes))
def test_the_step_does_not_depend_on_the_gradients_scale(k, grads):
    """sign(c) is scale-invariant: gradients multiplied by 2^k (an exact scaling) give
    exactly the same parameters."""
    w1, w2 = np.ones(6), np.ones(6)
    a, b = Lion(lr=0.1), Lion(lr=0.1)
    for g in grads:
        a.step(w1, g.copy())
        b.step(w2, g * 2.0 ** k)
    np.testing.assert_array_equal(w1, w2)


def test_weight_decay_is_decoupled_and_uses_the_scheduled_rate():
    """With a zero gradient only the decay acts: w_t = (1 - alpha mu_t delta) w_{t-1}, with
    Cosine's mu_t = (1 + cos(pi (t-1)/T))/2 (torch's CosineAnnealingLR)."""
    total, lr, wd = 6, 0.1, 0.5
    opt, w = Lion(lr=lr, weight_decay=wd, schedule=Cosine(total)), np.array([2.0, -4.0])
    expected = w.copy()
    for t in range(1, total + 1):
        mu = (1 + math.cos(math.pi * (t - 1) / total)) / 2
        expected = (1 - lr * mu * wd) * expected
        opt.step(w, np.zeros(2))
        np.testing.assert_allclose(w, expected, rtol=1e-15)
    assert opt.schedule_t == total


def test_a_schedule_scales_the_sign_step():
    rng = np.random.default_rng(3)
    w0, grads = rng.normal(size=5), rng.normal(size=(8, 5))
    mus = [(1 + math.cos(math.pi * t / 8)) / 2 for t in range(8)]
    opt, w = Lion(lr=0.05, weight_decay=0.2, schedule=Cosine(8)), w0.copy()
    for g, (w_ref, _) in zip(grads, reference(w0, grads, 0.05, 0.9, 0.99, 0.2, mus)):
        opt.step(w, g)
        np.testing.assert_allclose(w, w_ref, rtol=1e-13, atol=1e-15)


def test_batched_hyperparameters_are_independent_runs():
    """params (K, 2) with lr, beta1, weight_decay of shape (K, 1): K runs, bit for bit."""
    rng = np.random.default_rng(4)
    lr = np.array([[0.01], [0.1], [0.3]])
    beta1 = np.array([[0.0], [0.5], [0.9]])
    wd = np.array([[0.0], [0.1], [1.0]])
    w0, grads = rng.normal(size=(3, 2)), rng.normal(size=(10, 3, 2))
    batched, w = Lion(lr=lr, beta1=beta1, weight_decay=wd), w0.copy()
    for g in grads:
        batched.step(w, g)
    for k in range(3):
        single = Lion(lr=float(lr[k, 0]), beta1=float(beta1[k, 0]), weight_decay=float(wd[k, 0]))
        wk = w0[k].copy()
        for g in grads:
            single.step(wk, g[k].copy())
        np.testing.assert_array_equal(w[k], wk)
        np.testing.assert_array_equal(batched.state["exp_avg"][k], single.state["exp_avg"])


def test_structures_agree_and_float32_stays_float32():
    rng = np.random.default_rng(5)
    w, grads = rng.normal(size=9), rng.normal(size=(4, 9))
    as_dict, single = {"W": w[:6].reshape(2, 3).copy(), "b": w[6:].copy()}, w.copy()
    a, b = Lion(lr=0.1, weight_decay=0.1), Lion(lr=0.1, weight_decay=0.1)
    w32, c = w.astype(np.float32), Lion(lr=0.1, weight_decay=0.1)
    for g in grads:
        a.step(as_dict, {"W": g[:6].reshape(2, 3).copy(), "b": g[6:].copy()})
        b.step(single, g.copy())
        c.step(w32, g.astype(np.float32))
    np.testing.assert_array_equal(as_dict["W"].ravel(), single[:6])
    np.testing.assert_array_equal(as_dict["b"], single[6:])
    assert w32.dtype == np.float32 and c.state["exp_avg"].dtype == np.float32
    np.testing.assert_allclose(w32, single, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, value, error", [
    ("lr", 0.0, ValueError), ("lr", -1.0, ValueError), ("lr", float("nan"), ValueError),
    ("lr", "0.1", TypeError), ("lr", True, TypeError),
    ("beta1", 1.0, ValueError), ("beta1", -0.1, ValueError), ("beta2", 1.0, ValueError),
    ("beta2", [0.9, 1.5], ValueError), ("weight_decay", -0.1, ValueError),
    ("weight_decay", float("inf"), ValueError), ("weight_decay", None, TypeError),
])
def test_bad_hyperparameters_are_rejected_naming_them(name, value, error):
    with pytest.raises(error, match=name):
        Lion(**{name: value})
    opt = Lion()
    with pytest.raises(error, match=name):
        setattr(opt, name, value)
    assert getattr(opt, name) == inspect.signature(Lion).parameters[name].default
    with pytest.raises(AttributeError, match="beta"):
        opt.beta = 0.5                      # a typo for beta1: not an attribute


def _snapshot(opt, w):
    return w.copy(), opt.state_dict()


def _assert_unchanged(opt, w, snapshot):
    w_before, saved = snapshot
    np.testing.assert_array_equal(w, w_before)
    now = opt.state_dict()
    assert now["t"] == saved["t"]
    np.testing.assert_array_equal(now["state"]["exp_avg"], saved["state"]["exp_avg"])


def test_a_rejected_or_failing_step_changes_nothing():
    opt, w = Lion(lr=0.1, weight_decay=0.1), np.array([1.0, -1.0, 2.0])
    opt.step(w, np.array([1.0, 2.0, -3.0]))
    snapshot = _snapshot(opt, w)
    with pytest.raises(ValueError, match="non-finite"):
        opt.step(w, np.array([1.0, np.nan, 0.0]))
    _assert_unchanged(opt, w, snapshot)
    with pytest.raises(ValueError, match="shape"):
        opt.step(w, np.ones(4))
    _assert_unchanged(opt, w, snapshot)
    opt.lr = np.array([0.1, 0.2])           # does not broadcast against (3,)
    with pytest.raises(ValueError, match="lr of shape"):
        opt.step(w, np.ones(3))
    _assert_unchanged(opt, w, snapshot)
    # An overflow under np.errstate(all="raise"): w - alpha sign(c) overflows in one entry.
    big = np.array([1.0, -1.7e308, 2.0])
    opt2 = Lion(lr=1e308)
    opt2.step(np.array([0.0, 0.0, 0.0]), np.array([1.0, 1.0, 1.0]))
    snap2 = _snapshot(opt2, big)
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        opt2.step(big, np.array([1.0, 1.0, 1.0]))
    _assert_unchanged(opt2, big, snap2)


def test_a_step_that_overflows_warns_and_with_warnings_as_errors_changes_nothing():
    opt = Lion(lr=1e308)
    w = np.array([-1.7e308, 0.0])
    with pytest.warns(NonFiniteWarning, match=r"Lion step 1 turned 1 value\(s\) of params"):
        opt.step(w, np.array([1.0, 1.0]))
    assert np.isinf(w[0]) and w[1] == -1e308
    opt, w = Lion(lr=1e308), np.array([-1.7e308, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonFiniteWarning)
        with pytest.raises(NonFiniteWarning):
            opt.step(w, np.array([1.0, 1.0]))
    np.testing.assert_array_equal(w, [-1.7e308, 0.0])
    assert opt.t == 0 and opt.state == {}


def test_a_checkpoint_resumes_the_run_bit_for_bit():
    rng = np.random.default_rng(6)
    grads = rng.normal(size=(12, 3, 4))
    params = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    straight = {k: v.copy() for k, v in params.items()}
    opt = Lion(lr=0.01, weight_decay=0.2, schedule=Cosine(12))
    for g in grads:
        opt.step(straight, {"W": g.copy(), "b": g[0].copy()})
    first = Lion(lr=0.01, weight_decay=0.2, schedule=Cosine(12))
    resumed_params = {k: v.copy() for k, v in params.items()}
    for g in grads[:5]:
        first.step(resumed_params, {"W": g.copy(), "b": g[0].copy()})
    saved = pickle.loads(pickle.dumps(first.state_dict()))
    resumed = Lion(lr=1.0, beta1=0.0)            # other hyperparameters: all restored
    resumed.load_state_dict(saved)
    assert (resumed.lr, resumed.beta1, resumed.weight_decay, resumed.t) == (0.01, 0.9, 0.2, 5)
    for g in grads[5:]:
        resumed.step(resumed_params, {"W": g.copy(), "b": g[0].copy()})
    for k in params:
        np.testing.assert_array_equal(resumed_params[k], straight[k])
        np.testing.assert_array_equal(resumed.state[k]["exp_avg"], opt.state[k]["exp_avg"])
    bad = opt.state_dict()
    bad["state"]["W"] = {"momentum_buffer": bad["state"]["W"]["exp_avg"]}
    with pytest.raises(ValueError, match="exp_avg"):
        resumed.load_state_dict(bad)
    assert resumed.t == 12
