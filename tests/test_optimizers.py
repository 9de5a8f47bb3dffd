"""Tests for optlib.optimizers: the update equations, their mathematical facts, bad input.

Layout:

1. reference implementations: each equation of DESIGN.md written as a plain loop
   over fresh arrays (never calling optlib), and the unit tests that compare
   optlib with them step by step, state buffer by state buffer;
2. literal values worked out by hand for the first steps;
3. property tests (hypothesis) of the facts the book teaches;
4. bad input: constructor and attribute rejections, and step rejections that
   must leave parameters, state and ``t`` exactly as they were;
5. schedule-free SGD: its three sequences against a plain re-implementation, by
   hand, its limits and the read-out of the average.

Learning-rate schedules in the optimizers are tested in ``test_optimizer_schedules.py``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from optlib import (Adagrad, Adam, AdamW, GradientDescent, Lion, Momentum, RMSprop,
                    ScheduleFreeAdamW, ScheduleFreeSGD)

# ==========================================================================
# 1. Reference implementations (the equations of DESIGN.md, written plainly)
# ==========================================================================
# Each returns one record per step: the parameters after the step ("w") and
# every state buffer under optlib's name for it.


def reference_gradient_descent(w0, grads, lr):
    """w <- w - lr g."""
    w = np.array(w0, dtype=np.float64)
    records = []
    for g in grads:
        w = w - lr * g
        records.append({"w": w})
    return records


def reference_momentum(w0, grads, lr, beta=0.9, nesterov=False):
    """v <- beta v + (1 - beta) g; w <- w - lr v (Nesterov: w - lr (beta v + (1 - beta) g))."""
    w = np.array(w0, dtype=np.float64)
    v = np.zeros_like(w)
    records = []
    for g in grads:
        v = beta * v + (1 - beta) * g
        if nesterov:
            w = w - lr * (beta * v + (1 - beta) * g)
        else:
            w = w - lr * v
        records.append({"w": w, "momentum_buffer": v})
    return records


def reference_rmsprop(w0, grads, lr, beta=0.9, eps=1e-8):
    """s <- beta s + (1 - beta) g^2; w <- w - lr g / (sqrt(s) + eps)."""
    w = np.array(w0, dtype=np.float64)
    s = np.zeros_like(w)
    records = []
    for g in grads:
        s = beta * s + (1 - beta) * g**2
        w = w - lr * g / (np.sqrt(s) + eps)
        records.append({"w": w, "square_avg": s})
    return records


def reference_adagrad(w0, grads, lr, eps=1e-10):
    """s <- s + g^2; w <- w - lr g / (sqrt(s) + eps)."""
    w = np.array(w0, dtype=np.float64)
    s = np.zeros_like(w)
    records = []
    for g in grads:
        s = s + g**2
        w = w - lr * g / (np.sqrt(s) + eps)
        records.append({"w": w, "sum_sq": s})
    return records


def reference_adam(w0, grads, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                   decoupled=False, amsgrad=False):
    """Adam with L2 or decoupled weight decay and optional AMSGrad, as in DESIGN.md."""
    w = np.array(w0, dtype=np.float64)
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    v_max = np.zeros_like(w)
    records = []
    for t, g in enumerate(grads, start=1):
        if weight_decay and decoupled:
            w = w - lr * weight_decay * w
        elif weight_decay:
            g = g + weight_decay * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        record = {"exp_avg": m, "exp_avg_sq": v}
        if amsgrad:
            v_max = np.maximum(v_max, v)
            record["max_exp_avg_sq"] = v_max
            v_used = v_max
        else:
            v_used = v
        m_hat = m / (1 - beta1**t)
        v_hat = v_used / (1 - beta2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        record["w"] = w
        records.append(record)
    return records


# A gradient sequence that changes from step to step: sign flips, a zero
# coordinate, a coordinate whose gradient shrinks (so AMSGrad's max matters).
W0 = np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -0.25]])
GRADS = [
    np.array([[3.0, -1.0, 0.5], [0.0, 2.0, -4.0]]),
    np.array([[-1.0, 0.2, 0.5], [1.0, -2.0, 1e-3]]),
    np.array([[0.1, 0.1, -2.0], [0.0, 0.0, 0.0]]),
    np.array([[2.0, -0.5, 0.3], [-1.0, 5.0, 0.01]]),
]

# id -> (optimizer factory, reference for W0/GRADS, state buffer names)
UNIT_CASES = {
    "gradient_descent": (lambda: GradientDescent(lr=0.1),
                         lambda: reference_gradient_descent(W0, GRADS, lr=0.1), ()),
    "momentum": (lambda: Momentum(lr=0.1, beta=0.8),
                 lambda: reference_momentum(W0, GRADS, lr=0.1, beta=0.8), ("momentum_buffer",)),
    "momentum_default_beta": (lambda: Momentum(lr=0.3),
                              lambda: reference_momentum(W0, GRADS, lr=0.3, beta=0.9),
                              ("momentum_buffer",)),
    "nesterov": (lambda: Momentum(lr=0.1, beta=0.8, nesterov=True),
                 lambda: reference_momentum(W0, GRADS, lr=0.1, beta=0.8, nesterov=True),
                 ("momentum_buffer",)),
    "rmsprop": (lambda: RMSprop(lr=0.01, beta=0.7, eps=1e-3),
                lambda: reference_rmsprop(W0, GRADS, lr=0.01, beta=0.7, eps=1e-3),
                ("square_avg",)),
    "rmsprop_defaults": (lambda: RMSprop(lr=0.01),
                         lambda: reference_rmsprop(W0, GRADS, lr=0.01, beta=0.9, eps=1e-8),
                         ("square_avg",)),
    "adagrad": (lambda: Adagrad(lr=0.5, eps=1e-6),
                lambda: reference_adagrad(W0, GRADS, lr=0.5, eps=1e-6), ("sum_sq",)),
    "adagrad_defaults": (lambda: Adagrad(lr=0.5),
                         lambda: reference_adagrad(W0, GRADS, lr=0.5, eps=1e-10), ("sum_sq",)),
    "adam_defaults": (lambda: Adam(),
                      lambda: reference_adam(W0, GRADS), ("exp_avg", "exp_avg_sq")),
    "adam": (lambda: Adam(lr=0.05, beta1=0.8, beta2=0.9, eps=1e-4),
             lambda: reference_adam(W0, GRADS, lr=0.05, beta1=0.8, beta2=0.9, eps=1e-4),
             ("exp_avg", "exp_avg_sq")),
    "adam_l2": (lambda: Adam(lr=0.05, weight_decay=0.3),
                lambda: reference_adam(W0, GRADS, lr=0.05, weight_decay=0.3),
                ("exp_avg", "exp_avg_sq")),
    "adam_decoupled": (lambda: Adam(lr=0.05, weight_decay=0.3, decoupled=True),
                       lambda: reference_adam(W0, GRADS, lr=0.05, weight_decay=0.3,
                                              decoupled=True),
                       ("exp_avg", "exp_avg_sq")),
    "adam_amsgrad": (lambda: Adam(lr=0.05, beta1=0.5, beta2=0.6, amsgrad=True),
                     lambda: reference_adam(W0, GRADS, lr=0.05, beta1=0.5, beta2=0.6,
                                            amsgrad=True),
                     ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
    "adam_amsgrad_l2": (lambda: Adam(lr=0.05, beta1=0.5, beta2=0.6, weight_decay=0.2,
                                     amsgrad=True),
                        lambda: reference_adam(W0, GRADS, lr=0.05, beta1=0.5, beta2=0.6,
                                               weight_decay=0.2, amsgrad=True),
                        ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
    "adamw": (lambda: AdamW(lr=0.05, weight_decay=0.3),
              lambda: reference_adam(W0, GRADS, lr=0.05, weight_decay=0.3, decoupled=True),
              ("exp_avg", "exp_avg_sq")),
    "adamw_default_decay": (lambda: AdamW(lr=0.05),
                            lambda: reference_adam(W0, GRADS, lr=0.05, weight_decay=1e-2,
                                                   decoupled=True),
                            ("exp_avg", "exp_avg_sq")),
    "adamw_amsgrad": (lambda: AdamW(lr=0.05, beta1=0.5, beta2=0.6, weight_decay=0.3,
                                    amsgrad=True),
                      lambda: reference_adam(W0, GRADS, lr=0.05, beta1=0.5, beta2=0.6,
                                             weight_decay=0.3, decoupled=True, amsgrad=True),
                      ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
}


@pytest.mark.parametrize("case", list(UNIT_CASES))
def test_matches_reference_step_by_step(case):
    """Each step's parameters, every named state buffer and t match the written equations."""
    make, reference, buffers = UNIT_CASES[case]
    expected = reference()
    opt = make()
    w = W0.copy()
    assert opt.t == 0 and opt.state == {}
    for t, (g, record) in enumerate(zip(GRADS, expected), start=1):
        returned = opt.step(w, g.copy())
        assert returned is w
        assert opt.t == t
        np.testing.assert_allclose(w, record["w"], rtol=1e-12, atol=1e-15)
        state = opt.state
        assert set(state) == set(buffers)
        for name in buffers:
            assert state[name].dtype == np.float64 and state[name].shape == W0.shape
            np.testing.assert_allclose(state[name], record[name], rtol=1e-12, atol=1e-15)


def test_amsgrad_reference_case_exercises_the_maximum():
    """The AMSGrad unit case really has steps where max(v) differs from v (else it tests nothing)."""
    records = UNIT_CASES["adam_amsgrad"][1]()
    differs = [not np.array_equal(r["max_exp_avg_sq"], r["exp_avg_sq"]) for r in records]
    assert not differs[0] and any(differs[1:])
    plain = reference_adam(W0, GRADS, lr=0.05, beta1=0.5, beta2=0.6)
    assert not np.allclose(plain[-1]["w"], records[-1]["w"])


# ==========================================================================
# 2. Values worked out by hand
# ==========================================================================


def test_gradient_descent_by_hand():
    """GD(lr=0.1) from [1, 1] with g=[1, 25] gives [0.9, -1.5], then g=[-1, 0.5] gives [1.0, -1.55]."""
    opt = GradientDescent(lr=0.1)
    w = np.array([1.0, 1.0])
    opt.step(w, np.array([1.0, 25.0]))
    np.testing.assert_allclose(w, [0.9, -1.5], rtol=1e-15)
    opt.step(w, np.array([-1.0, 0.5]))
    np.testing.assert_allclose(w, [1.0, -1.55], rtol=1e-15)
    assert opt.t == 2 and opt.state == {}


def test_momentum_by_hand():
    """Momentum(lr=0.5, beta=0.9): g=2 gives v=0.2 and a move of 0.1; then g=-1 gives v=0.08, w=0.86."""
    opt = Momentum(lr=0.5, beta=0.9)
    w = np.array([1.0])
    opt.step(w, np.array([2.0]))
    np.testing.assert_allclose(opt.state["momentum_buffer"], [0.2], rtol=1e-15)
    np.testing.assert_allclose(w, [0.9], rtol=1e-15)
    opt.step(w, np.array([-1.0]))
    np.testing.assert_allclose(opt.state["momentum_buffer"], [0.08], rtol=1e-14)
    np.testing.assert_allclose(w, [0.86], rtol=1e-15)


def test_nesterov_by_hand():
    """Nesterov(lr=0.5, beta=0.9): g=2 moves by 0.5(0.9*0.2 + 0.1*2) = 0.19; then g=-1 moves by -0.014."""
    opt = Momentum(lr=0.5, beta=0.9, nesterov=True)
    w = np.array([1.0])
    opt.step(w, np.array([2.0]))
    np.testing.assert_allclose(opt.state["momentum_buffer"], [0.2], rtol=1e-15)
    np.testing.assert_allclose(w, [0.81], rtol=1e-15)
    opt.step(w, np.array([-1.0]))
    np.testing.assert_allclose(w, [0.824], rtol=1e-14)


def test_rmsprop_by_hand():
    """RMSprop(lr=0.01, beta=0.9, eps=0) first moves every coordinate by lr/sqrt(1-beta) = 0.0316..."""
    opt = RMSprop(lr=0.01, beta=0.9, eps=0.0)
    w = np.array([1.0, 1.0])
    opt.step(w, np.array([3.0, -0.5]))
    np.testing.assert_allclose(opt.state["square_avg"], [0.9, 0.025], rtol=1e-15)
    np.testing.assert_allclose(w, [1 - 0.03162277660168379, 1 + 0.03162277660168379],
                               rtol=1e-15)
    # second step, g = [3, 0]: s = [0.81 + 0.9, 0.0225]; moves 0.03 / sqrt(1.71) and 0
    opt.step(w, np.array([3.0, 0.0]))
    np.testing.assert_allclose(opt.state["square_avg"], [1.71, 0.0225], rtol=1e-15)
    np.testing.assert_allclose(w, [1 - 0.03162277660168379 - 0.022941573387056175,
                                   1 + 0.03162277660168379], rtol=1e-15)


def test_adagrad_by_hand():
    """Adagrad(lr=0.5, eps=0): first step moves lr*sign(g): [1,1] -> [0.5, 1.5]; then g=[3,0] moves 0.3."""
    opt = Adagrad(lr=0.5, eps=0.0)
    w = np.array([1.0, 1.0])
    opt.step(w, np.array([4.0, -0.25]))
    np.testing.assert_allclose(w, [0.5, 1.5], rtol=1e-15)
    opt.step(w, np.array([3.0, 0.0]))      # s = [25, 0.0625]
    np.testing.assert_allclose(opt.state["sum_sq"], [25.0, 0.0625], rtol=1e-15)
    np.testing.assert_allclose(w, [0.2, 1.5], rtol=1e-14)


def test_adam_by_hand():
    """Adam's first step moves each coordinate by lr*sign(g); with a constant gradient every step does."""
    opt = Adam(lr=0.1, eps=0.0)
    w = np.array([0.0, 0.0])
    opt.step(w, np.array([2.0, -3.0]))
    np.testing.assert_allclose(w, [-0.1, 0.1], rtol=1e-15)
    np.testing.assert_allclose(opt.state["exp_avg"], [0.2, -0.3], rtol=1e-15)
    np.testing.assert_allclose(opt.state["exp_avg_sq"], [0.004, 0.009], rtol=1e-13)
    opt.step(w, np.array([2.0, -3.0]))     # m_hat = g, v_hat = g^2 exactly in real arithmetic
    np.testing.assert_allclose(w, [-0.2, 0.2], rtol=1e-13)
    # with the default eps the first move is lr * |g| / (|g| + 1e-8)
    w = np.array([0.0, 0.0])
    Adam(lr=0.1).step(w, np.array([2.0, -3.0]))
    np.testing.assert_allclose(w, [-0.1 * 2 / (2 + 1e-8), 0.1 * 3 / (3 + 1e-8)], rtol=1e-15)
    assert abs(w[0] + 0.1) > 1e-10    # eps is really there


def test_adam_l2_by_hand():
    """Adam(lr=0.1, weight_decay=0.5): w=2, g=-0.5 becomes g=-0.5+0.5*2=0.5, so w moves DOWN to 1.9."""
    opt = Adam(lr=0.1, weight_decay=0.5, eps=0.0)
    w = np.array([2.0])
    opt.step(w, np.array([-0.5]))
    np.testing.assert_allclose(w, [1.9], rtol=1e-15)
    np.testing.assert_allclose(opt.state["exp_avg"], [0.05], rtol=1e-15)
    np.testing.assert_allclose(opt.state["exp_avg_sq"], [0.00025], rtol=1e-13)


def test_adam_decoupled_and_adamw_by_hand():
    """Decoupled decay: w=2 shrinks to 2(1-0.1*0.5)=1.9, then g=-0.5 moves it up by lr: 2.0."""
    for opt in (Adam(lr=0.1, weight_decay=0.5, decoupled=True, eps=0.0),
                AdamW(lr=0.1, weight_decay=0.5, eps=0.0)):
        w = np.array([2.0])
        opt.step(w, np.array([-0.5]))
        np.testing.assert_allclose(w, [2.0], rtol=1e-15)
        np.testing.assert_allclose(opt.state["exp_avg"], [-0.05], rtol=1e-15)


def test_amsgrad_by_hand():
    """betas 0.5, lr 1, eps 0: g=2 then g=0 moves 1 then 1/sqrt(3) (plain) or 1/sqrt(6) (AMSGrad)."""
    plain = Adam(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0)
    ams = Adam(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0, amsgrad=True)
    w_plain, w_ams = np.array([0.0]), np.array([0.0])
    for g in (2.0, 0.0):
        plain.step(w_plain, np.array([g]))
        ams.step(w_ams, np.array([g]))
        if g == 2.0:
            np.testing.assert_allclose(w_plain, [-1.0], rtol=1e-15)
            np.testing.assert_allclose(w_ams, [-1.0], rtol=1e-15)
    np.testing.assert_allclose(w_plain, [-1 - 1 / math.sqrt(3)], rtol=1e-14)
    np.testing.assert_allclose(w_ams, [-1 - 1 / math.sqrt(6)], rtol=1e-14)
    np.testing.assert_allclose(ams.state["exp_avg_sq"], [1.0], rtol=1e-15)
    np.testing.assert_allclose(ams.state["max_exp_avg_sq"], [2.0], rtol=1e-15)
    assert "max_exp_avg_sq" not in plain.state


def test_defaults_are_the_documented_ones():
    """The defaults are those of the DESIGN.md table (AdamW: weight_decay 1e-2, decoupled)."""
    m = Momentum(lr=0.1)
    assert (m.beta, m.nesterov) == (0.9, False)
    r = RMSprop(lr=0.1)
    assert (r.beta, r.eps) == (0.9, 1e-8)
    assert Adagrad(lr=0.1).eps == 1e-10
    a = Adam()
    assert (a.lr, a.beta1, a.beta2, a.eps, a.weight_decay, a.decoupled, a.amsgrad) == (
        1e-3, 0.9, 0.999, 1e-8, 0.0, False, False)
    aw = AdamW()
    assert (aw.lr, aw.beta1, aw.beta2, aw.eps, aw.weight_decay, aw.decoupled, aw.amsgrad) == (
        1e-3, 0.9, 0.999, 1e-8, 1e-2, True, False)


def test_momentum_ema_bias_with_a_constant_gradient():
    """With a constant gradient g, v_t = (1 - beta^t) g: the EMA starts biased toward 0."""
    opt = Momentum(lr=0.1, beta=0.9)
    w = np.zeros(2)
    g = np.array([1.0, -4.0])
    for t in range(1, 8):
        opt.step(w, g)
        np.testing.assert_allclose(opt.state["momentum_buffer"], (1 - 0.9**t) * g, rtol=1e-14)


@pytest.mark.parametrize("case", list(UNIT_CASES))
def test_reset_forgets_state_and_count(case):
    """reset() sets t to 0, empties state, and the next run equals a fresh optimizer's, even on new shapes."""
    make = UNIT_CASES[case][0]
    opt = make()
    w = W0.copy()
    for g in GRADS[:3]:
        opt.step(w, g)
    assert opt.t == 3
    opt.reset()
    assert opt.t == 0 and opt.state == {}
    # a different shape and structure is fine after reset
    rng = np.random.default_rng(1)
    params = {"W": rng.normal(size=(4, 2)), "b": rng.normal(size=2)}
    fresh_params = copy.deepcopy(params)
    fresh = make()
    for _ in range(3):
        grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
        opt.step(params, grads)
        fresh.step(fresh_params, grads)
    assert opt.t == fresh.t == 3
    for k in params:
        np.testing.assert_array_equal(params[k], fresh_params[k])
        for name in opt.state[k]:
            np.testing.assert_array_equal(opt.state[k][name], fresh.state[k][name])


def test_state_structure_follows_params():
    """opt.state is a dict of buffers for an array, a list of them for a list, name -> dict for a dict."""
    a = np.zeros(3)
    opt = Adam()
    opt.step(a, np.ones(3))
    assert set(opt.state) == {"exp_avg", "exp_avg_sq"}
    opt = Adam(amsgrad=True)
    opt.step([np.zeros(3), np.zeros(2)], [np.ones(3), np.ones(2)])
    assert isinstance(opt.state, list) and len(opt.state) == 2
    assert opt.state[1]["max_exp_avg_sq"].shape == (2,)
    opt = Momentum(lr=0.1)
    opt.step({"W": np.zeros((2, 2)), "b": np.zeros(2)}, {"W": np.ones((2, 2)), "b": np.ones(2)})
    assert set(opt.state) == {"W", "b"}
    np.testing.assert_allclose(opt.state["b"]["momentum_buffer"], [0.1, 0.1], rtol=1e-15)


def test_array_hyperparameter_is_a_frozen_copy():
    """An array lr is copied (mutating the caller's array later changes nothing) and is read-only."""
    lr = np.array([[0.1], [0.2]])
    opt = GradientDescent(lr=lr)
    lr[0, 0] = 100.0
    assert lr.flags.writeable
    np.testing.assert_array_equal(opt.lr, [[0.1], [0.2]])
    assert not opt.lr.flags.writeable
    w = np.ones((2, 2))
    opt.step(w, np.ones((2, 2)))
    np.testing.assert_allclose(w, [[0.9, 0.9], [0.8, 0.8]], rtol=1e-15)


def test_integer_and_list_hyperparameters_are_accepted():
    """lr=1 (an int) and lr=[[0.1], [0.2]] (a list) are valid and act as 1.0 and a (2, 1) array."""
    w = np.ones(2)
    GradientDescent(lr=1).step(w, np.array([0.5, -0.5]))
    np.testing.assert_array_equal(w, [0.5, 1.5])
    w = np.ones((2, 2))
    GradientDescent(lr=[[0.1], [0.2]]).step(w, np.ones((2, 2)))
    np.testing.assert_allclose(w, [[0.9, 0.9], [0.8, 0.8]], rtol=1e-15)


# ==========================================================================
# 3. Properties (hypothesis)
# ==========================================================================
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
small = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False)
# Gradients whose squares neither underflow nor overflow: exact 0 or 1e-3 <= |g| <= 1e3.
# (|g| < 1e-154 would make g**2 underflow to 0; with eps=0 optlib then skips that
# coordinate's step, so invariances that hold in real arithmetic would not hold.)
magnitudes = st.one_of(st.just(0.0), st.floats(1e-3, 1e3), st.floats(-1e3, -1e-3))
shapes = hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4)
lrs = st.floats(1e-3, 1.0)
betas = st.floats(0.0, 0.99)

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def gradient_runs(draw, elements=finite, max_steps=6, w_elements=finite):
    """(w0, grads): an initial point and a (steps, *shape) array of gradients."""
    shape = draw(shapes)
    steps = draw(st.integers(1, max_steps))
    w0 = draw(hnp.arrays(np.float64, shape, elements=w_elements))
    grads = draw(hnp.arrays(np.float64, (steps, *shape), elements=elements))
    return w0, grads


@st.composite
def quadratics(draw, max_steps=12):
    """(H, w0, noise): a PSD Hessian (n x n, n <= 4, ||H|| <= 16), a start and per-step noise."""
    n = draw(st.integers(1, 4))
    a = draw(hnp.arrays(np.float64, (n, n), elements=st.floats(-1.0, 1.0)))
    steps = draw(st.integers(1, max_steps))
    w0 = draw(hnp.arrays(np.float64, (n,), elements=small))
    noise = draw(hnp.arrays(np.float64, (steps, n), elements=small))
    return a.T @ a, w0, noise


def run_optimizer(opt, w0, grads):
    """Trajectory (steps + 1, *shape) of opt from w0 over a fixed gradient sequence."""
    w = np.array(w0, dtype=np.float64)
    points = [w.copy()]
    for g in grads:
        opt.step(w, g.copy())
        points.append(w.copy())
    return np.array(points)


def steps_taken(opt, grads):
    """The moves -Δw per step, exactly: each step is applied to fresh zeros (valid without decay)."""
    moves = []
    for g in grads:
        w = np.zeros_like(g)
        opt.step(w, g.copy())
        moves.append(-w)
    return np.array(moves)


def assert_trajectories_close(a, b, rtol=1e-9):
    scale = 1.0 + max(np.max(np.abs(a)), np.max(np.abs(b)))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale)


@SETTINGS
@given(run=gradient_runs(), lr=lrs)
def test_momentum_with_beta_zero_is_gradient_descent(run, lr):
    """Momentum(lr, beta=0) takes exactly (bit for bit) the steps of GradientDescent(lr)."""
    w0, grads = run
    np.testing.assert_array_equal(run_optimizer(Momentum(lr=lr, beta=0.0), w0, grads),
                                  run_optimizer(GradientDescent(lr=lr), w0, grads))


@SETTINGS
@given(problem=quadratics(), lr=st.floats(1e-3, 1 / 16), beta=betas)
def test_momentum_is_heavy_ball(problem, lr, beta):
    """Momentum(α, β) ≡ w_{t+1} = w_t − α(1−β) g_t + β(w_t − w_{t−1}), w_0 = w_{−1}, g = H w + noise."""
    H, w0, noise = problem
    opt = Momentum(lr=lr, beta=beta)
    w = w0.copy()
    ours = [w.copy()]
    for n in noise:
        opt.step(w, H @ w + n)
        ours.append(w.copy())
    prev, cur = w0.copy(), w0.copy()
    heavy = [cur]
    for n in noise:
        prev, cur = cur, cur - lr * (1 - beta) * (H @ cur + n) + beta * (cur - prev)
        heavy.append(cur)
    assert_trajectories_close(np.array(ours), np.array(heavy))


@SETTINGS
@given(problem=quadratics(), lr=st.floats(1e-3, 1 / 16), beta=betas)
def test_nesterov_is_heavy_ball_with_gradient_correction(problem, lr, beta):
    """Nesterov ≡ w_{t+1} = w_t + β(w_t − w_{t−1}) − α(1−β)((1+β) g_t − β g_{t−1}), g_0 = 0.

    Derived from u_t = α v_t: w_{t+1} = w_t − β u_t − α(1−β) g_t and
    β u_{t−1} = −(w_t − w_{t−1}) − α(1−β) g_{t−1}.
    """
    H, w0, noise = problem
    opt = Momentum(lr=lr, beta=beta, nesterov=True)
    w = w0.copy()
    ours = [w.copy()]
    for n in noise:
        opt.step(w, H @ w + n)
        ours.append(w.copy())
    prev, cur, g_prev = w0.copy(), w0.copy(), np.zeros_like(w0)
    written = [cur]
    for n in noise:
        g = H @ cur + n
        prev, cur = cur, (cur + beta * (cur - prev)
                          - lr * (1 - beta) * ((1 + beta) * g - beta * g_prev))
        g_prev = g
        written.append(cur)
    assert_trajectories_close(np.array(ours), np.array(written))


@SETTINGS
@given(run=gradient_runs(elements=magnitudes), lr=lrs, beta=betas)
def test_nesterov_matches_its_written_equation(run, lr, beta):
    """Nesterov moves by α(β v_t + (1−β) g_t) with the new v_t, on any gradient sequence."""
    _, grads = run
    v = np.zeros_like(grads[0])
    expected = []
    for g in grads:
        v = beta * v + (1 - beta) * g
        expected.append(lr * (beta * v + (1 - beta) * g))
    moves = steps_taken(Momentum(lr=lr, beta=beta, nesterov=True), grads)
    np.testing.assert_allclose(moves, expected, rtol=1e-12, atol=1e-12 * lr)


SCALE_INVARIANT = {
    "adam": lambda lr, b1, b2: Adam(lr=lr, beta1=b1, beta2=b2, eps=0.0),
    "adam_amsgrad": lambda lr, b1, b2: Adam(lr=lr, beta1=b1, beta2=b2, eps=0.0, amsgrad=True),
    "rmsprop": lambda lr, b1, b2: RMSprop(lr=lr, beta=b2, eps=0.0),
    "adagrad": lambda lr, b1, b2: Adagrad(lr=lr, eps=0.0),
}


@pytest.mark.parametrize("name", list(SCALE_INVARIANT))
@SETTINGS
@given(run=gradient_runs(elements=magnitudes), lr=lrs, beta1=betas,
       beta2=st.floats(0.01, 0.99), c=st.floats(1e-3, 1e3))
def test_invariant_to_gradient_scale_with_eps_zero(name, run, lr, beta1, beta2, c):
    """With eps=0, multiplying every gradient by c > 0 leaves every step unchanged.

    Tolerance: m can cancel (sign changes), so its rounding error is relative to
    Σβ1^k|g|, not to m; by the Cauchy–Schwarz argument of adam_step_bound that
    error, divided by √v̂, is at most a few ulps of the step bound B_t.
    """
    _, grads = run
    make = SCALE_INVARIANT[name]
    base = steps_taken(make(lr, beta1, beta2), grads)
    scaled = steps_taken(make(lr, beta1, beta2), c * grads)
    bound = max(adam_step_bound(lr, beta1, beta2, t) for t in range(1, len(grads) + 1))
    np.testing.assert_allclose(scaled, base, rtol=1e-12, atol=1e-13 * max(bound, lr))


@pytest.mark.parametrize("name", list(SCALE_INVARIANT))
@SETTINGS
@given(run=gradient_runs(elements=magnitudes), lr=lrs,
       beta1=st.one_of(st.just(0.0), st.floats(0.01, 0.99)), beta2=st.floats(0.01, 0.99),
       k=st.integers(-10, 10))
def test_invariant_to_power_of_two_gradient_scale_bit_for_bit(name, run, lr, beta1, beta2, k):
    """With eps=0, scaling every gradient by 2^k scales m by 2^k and v by 4^k exactly: same steps, bitwise.

    The betas stay away from subnormal numbers (found by hypothesis): with
    beta2 = 5e-324, v is subnormal after a zero gradient and v/4 underflows to 0
    while m does not; with beta1 = 1e-308, m is subnormal and m/2^k loses bits.
    """
    _, grads = run
    make = SCALE_INVARIANT[name]
    base = steps_taken(make(lr, beta1, beta2), grads)
    scaled = steps_taken(make(lr, beta1, beta2), 2.0**k * grads)
    np.testing.assert_array_equal(scaled, base)


def test_eps_breaks_scale_invariance_for_small_gradients():
    """With eps > 0 the invariance is only approximate: tiny gradients take smaller steps."""
    g = np.array([[1e-6]])
    small_step = steps_taken(Adam(lr=0.1, eps=1e-6), g)[0, 0]
    big_step = steps_taken(Adam(lr=0.1, eps=1e-6), 1e6 * g)[0, 0]
    np.testing.assert_allclose(small_step, 0.05, rtol=1e-12)   # 0.1 * 1e-6 / (1e-6 + 1e-6)
    np.testing.assert_allclose(big_step, 0.1 / (1 + 1e-6), rtol=1e-12)


def adam_step_bound(lr, beta1, beta2, t):
    r"""The largest possible |Δw| at step t of bias-corrected Adam (eps = 0, any gradients).

    |m_t| ≤ (1−β1) Σ_k β1^k |g_{t−k}| ≤ (1−β1) √(Σ_k (β1²/β2)^k) √(Σ_k β2^k g²_{t−k})
    (Cauchy–Schwarz) and v_t = (1−β2) Σ_k β2^k g²_{t−k}, so

        |Δ_t| ≤ α (1−β1)/(1−β1^t) · √((1−β2^t)/(1−β2)) · √(Σ_{k<t} (β1²/β2)^k),

    with equality for |g_i| ∝ (β2/β1)^i of one sign. At t = 1 this is exactly α.
    Kingma & Ba's α(1−β1)/√(1−β2) is NOT a bound: as t → ∞ the supremum is
    α(1−β1)/√((1−β2)(1−β1²/β2)) when β1² < β2 (see the tightness test).
    """
    k = np.arange(t)
    geometric = np.sum((beta1**2 / beta2) ** k)
    return (lr * (1 - beta1) / (1 - beta1**t) * math.sqrt((1 - beta2**t) / (1 - beta2))
            * math.sqrt(geometric))


ADAM_VARIANTS = {
    "plain": dict(),
    "eps": dict(eps=1e-3),
    "amsgrad": dict(amsgrad=True),
    "l2": dict(weight_decay=0.3),
    "decoupled": dict(weight_decay=0.3, decoupled=True),
}


@pytest.mark.parametrize("variant", list(ADAM_VARIANTS))
@SETTINGS
@given(run=gradient_runs(elements=magnitudes, max_steps=8, w_elements=magnitudes), lr=lrs,
       beta1=betas, beta2=st.floats(0.5, 0.9999))
def test_adam_step_is_bounded(variant, run, lr, beta1, beta2):
    """Every Adam step satisfies |Δ_t| ≤ adam_step_bound(t) (decoupled: after the decay); step 1 ≤ α.

    w0 avoids tiny magnitudes too: with L2 decay the effective gradient λw would
    otherwise have a subnormal square, whose rounding is not Adam's.
    """
    w0, grads = run
    kwargs = {"eps": 0.0, **ADAM_VARIANTS[variant]}
    opt = Adam(lr=lr, beta1=beta1, beta2=beta2, **kwargs)
    shrink = 1 - lr * kwargs.get("weight_decay", 0.0) if kwargs.get("decoupled") else 1.0
    w = w0.copy()
    for t, g in enumerate(grads, start=1):
        before = w.copy()
        opt.step(w, g.copy())
        move = np.abs(w - shrink * before)
        slack = 1e-12 * (1 + np.abs(before))          # rounding of w itself
        bound = adam_step_bound(lr, beta1, beta2, t)
        assert np.all(move <= bound * (1 + 1e-9) + slack)
        if t == 1:
            assert bound == pytest.approx(lr, rel=1e-15)
            assert np.all(move <= lr * (1 + 1e-12) + slack)


def test_adam_step_bound_is_attained_and_kingma_ba_is_exceeded():
    """Gradients growing like (β2/β1)^i of one sign reach the bound; by t=1000 (defaults) a step
    exceeds Kingma & Ba's α(1−β1)/√(1−β2) ≈ 3.16α, so that quantity is not a worst-case bound."""
    beta1, beta2, lr = 0.9, 0.999, 1.0
    opt = Adam(lr=lr, beta1=beta1, beta2=beta2, eps=0.0)
    grads = (beta2 / beta1) ** np.arange(1000.0)
    for t, g in enumerate(grads, start=1):
        move = steps_taken(opt, np.array([[g]]))[0, 0]
        if t in (1, 10, 100, 1000):
            assert move == pytest.approx(adam_step_bound(lr, beta1, beta2, t), rel=1e-9)
    kingma_ba = lr * (1 - beta1) / math.sqrt(1 - beta2)
    assert move > 1.8 * kingma_ba
    limit = kingma_ba / math.sqrt(1 - beta1**2 / beta2)
    assert move < limit


@SETTINGS
@given(run=gradient_runs(elements=magnitudes, max_steps=8), lr=lrs, beta=betas,
       eps=st.sampled_from([0.0, 1e-8, 1e-3]))
def test_rmsprop_step_is_bounded(run, lr, beta, eps):
    """RMSprop: s_t ≥ (1−β) g_t², hence |Δ| ≤ α/√(1−β); with eps=0 the first step attains it."""
    _, grads = run
    moves = steps_taken(RMSprop(lr=lr, beta=beta, eps=eps), grads)
    bound = lr / math.sqrt(1 - beta)
    assert np.all(np.abs(moves) <= bound * (1 + 1e-12))
    if eps == 0.0:
        first = np.abs(moves[0])
        nonzero = grads[0] != 0
        np.testing.assert_allclose(first[nonzero], bound, rtol=1e-12)
        assert np.all(first[~nonzero] == 0)


@SETTINGS
@given(run=gradient_runs(elements=magnitudes, max_steps=8), lr=lrs)
def test_adagrad_step_is_bounded(run, lr):
    """Adagrad: s_t ≥ g_t², hence |Δ| ≤ α, and the steps on a constant gradient shrink like 1/√t."""
    _, grads = run
    moves = steps_taken(Adagrad(lr=lr, eps=0.0), grads)
    assert np.all(np.abs(moves) <= lr * (1 + 1e-12))
    constant = np.repeat(grads[:1], len(grads), axis=0)
    moves = steps_taken(Adagrad(lr=lr, eps=0.0), constant)
    t = np.arange(1, len(grads) + 1).reshape((-1,) + (1,) * grads[0].ndim)
    np.testing.assert_allclose(np.abs(moves), np.where(constant != 0, lr / np.sqrt(t), 0.0),
                               rtol=1e-12)


@SETTINGS
@given(run=gradient_runs(elements=magnitudes), lr=lrs, beta1=betas, beta2=betas)
def test_adam_moves_lr_per_step_on_a_constant_gradient(run, lr, beta1, beta2):
    """Bias correction removes the EMA start-up bias: a constant g moves lr·sign(g) every step (eps=0)."""
    _, grads = run
    constant = np.repeat(grads[:1], len(grads), axis=0)
    moves = steps_taken(Adam(lr=lr, beta1=beta1, beta2=beta2, eps=0.0), constant)
    np.testing.assert_allclose(moves, lr * np.sign(constant), rtol=1e-12, atol=0)


@SETTINGS
@given(run=gradient_runs(elements=magnitudes), lr=lrs, beta2=betas)
def test_adam_without_first_moment_is_bias_corrected_rmsprop(run, lr, beta2):
    """Adam(β1=0, eps=0) ≡ RMSprop(β=β2, eps=0) with its step scaled by √(1−β2^t); same second moment."""
    _, grads = run
    adam = Adam(lr=lr, beta1=0.0, beta2=beta2, eps=0.0)
    rms = RMSprop(lr=lr, beta=beta2, eps=0.0)
    for t, g in enumerate(grads, start=1):
        adam_move = steps_taken(adam, g[None])[0]
        rms_move = steps_taken(rms, g[None])[0]
        np.testing.assert_array_equal(adam.state["exp_avg_sq"], rms.state["square_avg"])
        np.testing.assert_allclose(adam_move, math.sqrt(1 - beta2**t) * rms_move,
                                   rtol=1e-12, atol=0)


# Batched runs: params (K, 2), hyperparameters (K, 1).
BATCHABLE = {
    "gradient_descent": lambda lr, beta: GradientDescent(lr=lr),
    "momentum": lambda lr, beta: Momentum(lr=lr, beta=beta),
    "nesterov": lambda lr, beta: Momentum(lr=lr, beta=beta, nesterov=True),
    "rmsprop": lambda lr, beta: RMSprop(lr=lr, beta=beta, eps=beta * 1e-3),
    "adagrad": lambda lr, beta: Adagrad(lr=lr, eps=beta * 1e-3),
    "adam": lambda lr, beta: Adam(lr=lr, beta1=beta, beta2=0.5 + beta / 2, eps=beta * 1e-3),
    "adam_l2_amsgrad": lambda lr, beta: Adam(lr=lr, beta1=beta, weight_decay=beta / 10,
                                             amsgrad=True),
    "adamw": lambda lr, beta: AdamW(lr=lr, beta1=beta, weight_decay=beta / 10),
}
H2 = np.array([[1.0, 0.5], [0.5, 5.0]])


@pytest.mark.parametrize("name", list(BATCHABLE))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_batched_step_equals_separate_runs(name, data):
    """Params (K, 2) with lr, beta of shape (K, 1) ≡ K separate optimizers with scalar values."""
    k = data.draw(st.integers(1, 4), label="K")
    steps = data.draw(st.integers(1, 8), label="steps")
    lr = data.draw(hnp.arrays(np.float64, (k, 1), elements=st.floats(1e-3, 0.3)), label="lr")
    beta = data.draw(hnp.arrays(np.float64, (k, 1), elements=betas), label="beta")
    w0 = data.draw(hnp.arrays(np.float64, (k, 2), elements=small), label="w0")
    noise = data.draw(hnp.arrays(np.float64, (steps, k, 2), elements=small), label="noise")
    make = BATCHABLE[name]

    batched = make(lr, beta)
    w = w0.copy()
    for n in noise:
        batched.step(w, w @ H2 + n)
    for i in range(k):
        single = make(float(lr[i, 0]), float(beta[i, 0]))
        wi = w0[i].copy()
        for n in noise:
            single.step(wi, wi @ H2 + n[i])
        assert_trajectories_close(w[i], wi, rtol=1e-12)
        for buffer in single.state:
            assert_trajectories_close(batched.state[buffer][i], single.state[buffer], rtol=1e-12)
    assert batched.t == steps


ALL_OPTIMIZERS = {
    "gradient_descent": lambda: GradientDescent(lr=0.05),
    "momentum": lambda: Momentum(lr=0.05, beta=0.8),
    "nesterov": lambda: Momentum(lr=0.05, beta=0.8, nesterov=True),
    "rmsprop": lambda: RMSprop(lr=0.01),
    "adagrad": lambda: Adagrad(lr=0.1),
    "adam": lambda: Adam(lr=0.01),
    "adam_l2": lambda: Adam(lr=0.01, weight_decay=0.1),
    "adam_amsgrad": lambda: Adam(lr=0.01, amsgrad=True),
    "adamw": lambda: AdamW(lr=0.01, weight_decay=0.1),
    "lion": lambda: Lion(lr=0.05, weight_decay=0.1),
    "schedule_free": lambda: ScheduleFreeSGD(lr=0.05, beta=0.8, weight_decay=0.1),
    "schedule_free_adamw": lambda: ScheduleFreeAdamW(lr=0.01, weight_decay=0.1),
}


@pytest.mark.parametrize("name", list(ALL_OPTIMIZERS))
@settings(max_examples=20, deadline=None)
@given(w=hnp.arrays(np.float64, (9,), elements=finite),
       grads=hnp.arrays(np.float64, (4, 9), elements=finite))
def test_dict_list_and_single_array_params_agree(name, w, grads):
    """{"W": (2, 3), "b": (3,)}, [W, b] and the concatenated (9,) array get bit-identical updates."""
    make = ALL_OPTIMIZERS[name]
    as_dict = {"W": w[:6].reshape(2, 3).copy(), "b": w[6:].copy()}
    as_list = [w[:6].reshape(2, 3).copy(), w[6:].copy()]
    single = w.copy()
    opts = make(), make(), make()
    for g in grads:
        gW, gb = g[:6].reshape(2, 3), g[6:]
        opts[0].step(as_dict, {"b": gb.copy(), "W": gW.copy()})   # key order does not matter
        opts[1].step(as_list, [gW.copy(), gb.copy()])
        opts[2].step(single, g.copy())
    np.testing.assert_array_equal(as_dict["W"].ravel(), single[:6])
    np.testing.assert_array_equal(as_dict["b"], single[6:])
    np.testing.assert_array_equal(as_list[0].ravel(), single[:6])
    np.testing.assert_array_equal(as_list[1], single[6:])
    for buffer, value in opts[2].state.items():
        np.testing.assert_array_equal(opts[0].state["W"][buffer].ravel(), value[:6])
        np.testing.assert_array_equal(opts[0].state["b"][buffer], value[6:])
        np.testing.assert_array_equal(opts[1].state[0][buffer].ravel(), value[:6])
        np.testing.assert_array_equal(opts[1].state[1][buffer], value[6:])
    assert opts[0].t == opts[1].t == opts[2].t == len(grads)


@pytest.mark.parametrize("name", list(ALL_OPTIMIZERS))
def test_float32_params_stay_float32_and_track_float64(name):
    """float32 params and every state buffer stay float32, within float32 rounding of a float64 run."""
    make = ALL_OPTIMIZERS[name]
    rng = np.random.default_rng(0)
    w32 = rng.normal(size=(3, 4)).astype(np.float32)
    w64 = w32.astype(np.float64)
    opt32, opt64 = make(), make()
    for _ in range(6):
        g32 = rng.normal(size=(3, 4)).astype(np.float32)
        opt32.step(w32, g32)
        opt64.step(w64, g32.astype(np.float64))
        assert w32.dtype == np.float32
        for buffer, value in opt32.state.items():
            assert value.dtype == np.float32
            np.testing.assert_allclose(value, opt64.state[buffer], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(w32, w64, rtol=1e-5, atol=1e-6)


def test_float32_batched_with_float64_hyperparameter_arrays():
    """float32 params (K, 2) with float64 (K, 1) lr/beta/weight_decay arrays stay float32."""
    lr = np.array([[0.01], [0.1]])
    beta = np.array([[0.0], [0.9]])
    makers = (lambda: Momentum(lr=lr, beta=beta, nesterov=True),
              lambda: RMSprop(lr=lr, beta=beta),
              lambda: AdamW(lr=lr, beta1=beta, weight_decay=lr),
              lambda: Adam(lr=lr, weight_decay=lr, amsgrad=True))
    for make in makers:
        opt, twin = make(), make()
        w = np.ones((2, 2), dtype=np.float32)
        ref = np.ones((2, 2))
        for _ in range(3):
            g = np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32)
            opt.step(w, g)
            twin.step(ref, g.astype(np.float64))
        assert w.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state.values())
        np.testing.assert_allclose(w, ref, rtol=1e-6)


# ==========================================================================
# 4. Bad input
# ==========================================================================
VALID = {
    GradientDescent: dict(lr=0.1),
    Momentum: dict(lr=0.1),
    RMSprop: dict(lr=0.1),
    Adagrad: dict(lr=0.1),
    Adam: dict(),
    AdamW: dict(),
    ScheduleFreeSGD: dict(lr=0.1),
    ScheduleFreeAdamW: dict(),
}


@dataclass(frozen=True)
class BadArg:
    cls: type
    arg: str
    value: Any
    exc: type
    shows: str  # how the message must render the value given


# Each case: (id, BadArg). The ids are the distinct bad inputs.
CONSTRUCTOR_CASES = [
    ("lr=0", BadArg(GradientDescent, "lr", 0.0, ValueError, "0.0")),
    ("lr=-0.1", BadArg(GradientDescent, "lr", -0.1, ValueError, "-0.1")),
    ("lr=-1(int)", BadArg(Momentum, "lr", -1, ValueError, "-1")),
    ("lr=nan", BadArg(GradientDescent, "lr", float("nan"), ValueError, "nan")),
    ("lr=inf", BadArg(Momentum, "lr", float("inf"), ValueError, "inf")),
    ("lr=-inf", BadArg(RMSprop, "lr", -float("inf"), ValueError, "-inf")),
    ("lr=str", BadArg(GradientDescent, "lr", "0.1", TypeError, "'0.1'")),
    ("lr=True", BadArg(GradientDescent, "lr", True, TypeError, "True")),
    ("lr=np.bool_", BadArg(Adagrad, "lr", np.bool_(True), TypeError, "True")),
    ("lr=None", BadArg(Adam, "lr", None, TypeError, "None")),
    ("lr=complex", BadArg(Adam, "lr", 1e-3 + 0j, TypeError, "(0.001+0j)")),
    ("lr=np.complex128", BadArg(AdamW, "lr", np.complex128(0.1), TypeError, "0.1")),
    ("lr=dict", BadArg(GradientDescent, "lr", {"lr": 0.1}, TypeError, "{'lr': 0.1}")),
    ("lr=array-with-0", BadArg(GradientDescent, "lr", np.array([[0.1], [0.0]]), ValueError,
                               "[[0.1], [0.0]]")),
    ("lr=array-with-negative", BadArg(Momentum, "lr", np.array([0.1, -0.2]), ValueError,
                                      "[0.1, -0.2]")),
    ("lr=array-with-nan", BadArg(Adam, "lr", np.array([0.1, np.nan]), ValueError, "nan")),
    ("lr=list-with-inf", BadArg(RMSprop, "lr", [0.1, float("inf")], ValueError, "inf")),
    ("lr=empty-array", BadArg(GradientDescent, "lr", np.array([]), ValueError, "[]")),
    ("lr=object-array", BadArg(GradientDescent, "lr", np.array([0.1], dtype=object),
                               TypeError, "object")),
    ("lr=bool-array", BadArg(Momentum, "lr", np.array([True, True]), TypeError, "bool")),
    ("lr=complex-array", BadArg(Adagrad, "lr", np.array([0.1 + 0j]), TypeError, "complex")),
    ("lr=list-with-str", BadArg(GradientDescent, "lr", [0.1, "a"], TypeError, "'a'")),
    ("beta=1", BadArg(Momentum, "beta", 1.0, ValueError, "1.0")),
    ("beta=1(int)", BadArg(RMSprop, "beta", 1, ValueError, "beta=1")),
    ("beta=-0.1", BadArg(Momentum, "beta", -0.1, ValueError, "-0.1")),
    ("beta=1.5", BadArg(RMSprop, "beta", 1.5, ValueError, "1.5")),
    ("beta=nan", BadArg(Momentum, "beta", float("nan"), ValueError, "nan")),
    ("beta=array-with-1", BadArg(Momentum, "beta", np.array([[0.5], [1.0]]), ValueError,
                                 "[[0.5], [1.0]]")),
    ("beta=str", BadArg(RMSprop, "beta", "0.9", TypeError, "'0.9'")),
    ("nesterov='yes'", BadArg(Momentum, "nesterov", "yes", TypeError, "'yes'")),
    ("nesterov=1", BadArg(Momentum, "nesterov", 1, TypeError, "nesterov=1")),
    ("nesterov=None", BadArg(Momentum, "nesterov", None, TypeError, "None")),
    ("eps=-1e-8", BadArg(RMSprop, "eps", -1e-8, ValueError, "-1e-08")),
    ("eps=inf", BadArg(Adagrad, "eps", float("inf"), ValueError, "inf")),
    ("eps=array-with-negative", BadArg(Adam, "eps", np.array([1e-8, -1e-8]), ValueError,
                                       "-1e-08")),
    ("adagrad-eps=-1", BadArg(Adagrad, "eps", -1.0, ValueError, "-1.0")),
    ("beta1=1", BadArg(Adam, "beta1", 1.0, ValueError, "1.0")),
    ("beta1=-0.5", BadArg(Adam, "beta1", -0.5, ValueError, "-0.5")),
    ("beta2=1", BadArg(Adam, "beta2", 1.0, ValueError, "1.0")),
    ("beta2=2", BadArg(AdamW, "beta2", 2.0, ValueError, "2.0")),
    ("beta2=-1e-9", BadArg(Adam, "beta2", -1e-9, ValueError, "-1e-09")),
    ("weight_decay=-0.01", BadArg(Adam, "weight_decay", -0.01, ValueError, "-0.01")),
    ("adamw-weight_decay=-1", BadArg(AdamW, "weight_decay", -1.0, ValueError, "-1.0")),
    ("weight_decay=nan", BadArg(AdamW, "weight_decay", float("nan"), ValueError, "nan")),
    ("amsgrad=1", BadArg(Adam, "amsgrad", 1, TypeError, "amsgrad=1")),
    ("amsgrad=None", BadArg(AdamW, "amsgrad", None, TypeError, "None")),
    ("decoupled='False'", BadArg(Adam, "decoupled", "False", TypeError, "'False'")),
    ("adamw-lr=0", BadArg(AdamW, "lr", 0, ValueError, "lr=0")),
    ("schedule-free-beta=1", BadArg(ScheduleFreeSGD, "beta", 1.0, ValueError, "1.0")),
    ("schedule-free-weight_decay=-1", BadArg(ScheduleFreeSGD, "weight_decay", -1.0, ValueError,
                                             "-1.0")),
    ("schedule-free-lr=str", BadArg(ScheduleFreeSGD, "lr", "1", TypeError, "'1'")),
    ("schedule-free-adamw-beta2=1", BadArg(ScheduleFreeAdamW, "beta2", 1.0, ValueError, "1.0")),
    ("schedule-free-adamw-eps=-1", BadArg(ScheduleFreeAdamW, "eps", -1.0, ValueError, "-1.0")),
]


@pytest.mark.parametrize("case", [c for _, c in CONSTRUCTOR_CASES],
                         ids=[i for i, _ in CONSTRUCTOR_CASES])
def test_constructor_rejects(case):
    """The constructor raises the right exception, naming the argument and showing the value."""
    kwargs = {**VALID[case.cls], case.arg: case.value}
    with pytest.raises(case.exc, match=rf"\b{case.arg}\b") as info:
        case.cls(**kwargs)
    assert case.shows in str(info.value)


@pytest.mark.parametrize("case", [c for _, c in CONSTRUCTOR_CASES],
                         ids=[i for i, _ in CONSTRUCTOR_CASES])
def test_attribute_assignment_rejects_and_keeps_value(case):
    """Assigning the same bad value to the attribute later raises too, and the old value stays."""
    opt = case.cls(**VALID[case.cls])
    before = copy.deepcopy(getattr(opt, case.arg))
    with pytest.raises(case.exc, match=rf"\b{case.arg}\b"):
        setattr(opt, case.arg, case.value)
    after = getattr(opt, case.arg)
    assert type(after) is type(before) and after == before


def test_constructor_case_ids_are_distinct():
    """The constructor bad inputs are distinct (the count in the report is honest)."""
    ids = [i for i, _ in CONSTRUCTOR_CASES]
    assert len(ids) == len(set(ids)) >= 40


# --------------------------------------------------------------------------
# Step rejections: nothing may change
# --------------------------------------------------------------------------
def array_params():
    return np.linspace(-1.0, 1.0, 6).reshape(2, 3)


def square_params():
    return np.array([[1.0, -2.0], [0.5, 3.0]])


def list_params():
    return [np.linspace(-1.0, 1.0, 6).reshape(2, 3), np.array([0.5, -0.5, 2.0])]


def dict_params():
    return {"W": np.linspace(-1.0, 1.0, 6).reshape(2, 3), "b": np.array([0.5, -0.5, 2.0])}


def gradients_like(params, seed):
    """Random float64 gradients with the structure and shapes of params."""
    rng = np.random.default_rng(seed)
    if isinstance(params, np.ndarray):
        return rng.normal(size=params.shape)
    if isinstance(params, dict):
        return {k: rng.normal(size=v.shape) for k, v in params.items()}
    return [rng.normal(size=p.shape) for p in params]


def good(p):
    """Valid gradients for p (used as the 'other half' of a bad call)."""
    return gradients_like(p, 99)


def with_value(grads, where, index, value):
    grads = copy.deepcopy(grads)
    grads[where][index] = value
    return grads


def replace_key(d, key, value):
    d = dict(d)
    d[key] = value
    return d


def drop_key(d, key):
    return {k: v for k, v in d.items() if k != key}


def adam():
    return Adam(lr=0.1, amsgrad=True, weight_decay=0.01)


def make_read_only(opt, p):
    p.flags.writeable = False
    return p, good(p)


def set_attr(name, value):
    def bad(opt, p):
        setattr(opt, name, value)
        return p, good(p)
    return bad


@dataclass
class StepCase:
    """A step that must be rejected after two good steps.

    ``bad(opt, params)`` returns the (params, grads) of the bad call; it may
    prepare the optimizer or the params first (``prepares=True``), which is
    then part of the snapshot.
    """
    bad: Callable
    exc: type
    match: str
    params: Callable = array_params
    opt: Callable = adam
    prepares: bool = False
    extra: dict = field(default_factory=dict)


STEP_CASES = {
    # -- gradients that do not match the parameters ------------------------
    "grads-wrong-shape": StepCase(lambda o, p: (p, np.ones((3, 2))), ValueError,
                                  r"grads must have the shape of params \(2, 3\), got shape \(3, 2\)"),
    "grads-broadcastable-shape": StepCase(lambda o, p: (p, np.ones((1, 3))), ValueError,
                                          r"grads must have the shape of params"),
    "grads-extra-dimension": StepCase(lambda o, p: (p, np.ones((1, 2, 3))), ValueError,
                                      r"grads must have the shape"),
    "grads-list-for-array-params": StepCase(lambda o, p: (p, [good(p)]), TypeError,
                                            r"grads must have the same structure as params"),
    "grads-python-floats-for-array": StepCase(lambda o, p: (p, good(p).tolist()), TypeError,
                                              r"grads .*got grads of type list"),
    "grads-float-for-array": StepCase(lambda o, p: (p, 0.5), TypeError, r"got grads of type float"),
    "grads-None": StepCase(lambda o, p: (p, None), TypeError, r"got grads of type NoneType"),
    "grads-dict-for-list-params": StepCase(lambda o, p: (p, dict(enumerate(good(p)))), TypeError,
                                           r"grads must have the same structure", list_params),
    "grads-array-for-dict-params": StepCase(lambda o, p: (p, np.ones(3)), TypeError,
                                            r"grads must have the same structure", dict_params),
    "dict-missing-key": StepCase(lambda o, p: (p, drop_key(good(p), "b")), ValueError,
                                 r"grads must have the same keys as params: missing \['b'\], "
                                 r"unexpected \[\]", dict_params),
    "dict-extra-key": StepCase(lambda o, p: (p, replace_key(good(p), "c", np.ones(3))),
                               ValueError, r"missing \[\], unexpected \['c'\]", dict_params),
    "dict-renamed-key": StepCase(lambda o, p: (p, replace_key(drop_key(good(p), "b"), "B",
                                                             np.ones(3))),
                                 ValueError, r"missing \['b'\], unexpected \['B'\]", dict_params),
    "list-too-few-grads": StepCase(lambda o, p: (p, good(p)[:1]), ValueError,
                                   r"grads must have one array per parameter: params has 2, "
                                   r"grads has 1", list_params),
    "list-too-many-grads": StepCase(lambda o, p: (p, good(p) + [np.ones(3)]), ValueError,
                                    r"params has 2, grads has 3", list_params),
    "list-grad-not-an-array": StepCase(lambda o, p: (p, [good(p)[0], [0.1, 0.2, 0.3]]),
                                       TypeError, r"grads\[1\] must be a numpy ndarray",
                                       list_params),
    "dict-grad-wrong-shape": StepCase(lambda o, p: (p, replace_key(good(p), "b", np.ones(4))),
                                      ValueError,
                                      r"grads\['b'\] must have the shape of params\['b'\] \(3,\)",
                                      dict_params),
    # -- dtypes -------------------------------------------------------------
    "integer-params": StepCase(lambda o, p: (np.ones((2, 3), dtype=np.int64), good(p)),
                               TypeError, r"params must be a floating-point array"),
    "integer-grads": StepCase(lambda o, p: (p, np.ones((2, 3), dtype=np.int64)), TypeError,
                              r"grads must be a floating-point array, got dtype int64"),
    "bool-grads": StepCase(lambda o, p: (p, np.ones((2, 3), dtype=bool)), TypeError,
                           r"grads must be a floating-point array, got dtype bool"),
    "complex-grads": StepCase(lambda o, p: (p, np.ones((2, 3), dtype=complex)), TypeError,
                              r"grads must be a floating-point array, got dtype complex128"),
    "complex-params": StepCase(lambda o, p: (np.ones((2, 3), dtype=complex), good(p)),
                               TypeError, r"params must be a floating-point array"),
    "object-grads": StepCase(lambda o, p: (p, good(p).astype(object)), TypeError,
                             r"grads must be a floating-point array, got dtype object"),
    "integer-param-in-dict": StepCase(lambda o, p: (replace_key(p, "b", np.arange(3)), good(p)),
                                      TypeError, r"params\['b'\] must be a floating-point array",
                                      dict_params),
    # -- non-finite gradients ----------------------------------------------
    "nan-in-grads": StepCase(lambda o, p: (p, with_value(good(p), 0, 1, np.nan)), ValueError,
                             r"grads has 1 non-finite value"),
    "inf-in-grads": StepCase(lambda o, p: (p, np.full((2, 3), np.inf)), ValueError,
                             r"grads has 6 non-finite value"),
    "-inf-in-last-dict-entry": StepCase(lambda o, p: (p, with_value(good(p), "b", 2, -np.inf)),
                                        ValueError, r"grads\['b'\] has 1 non-finite",
                                        dict_params),
    "nan-in-last-list-entry": StepCase(lambda o, p: (p, with_value(good(p), 1, 0, np.nan)),
                                       ValueError, r"grads\[1\] has 1 non-finite", list_params,
                                       opt=lambda: Momentum(lr=0.1, nesterov=True)),
    # -- parameters that cannot be updated ---------------------------------
    "params-tuple-of-floats": StepCase(lambda o, p: ((1.0, 2.0), (0.1, 0.2)), TypeError,
                                       r"params\[0\] must be a numpy ndarray"),
    "params-string": StepCase(lambda o, p: ("w", "g"), TypeError,
                              r"params must be a float ndarray, a list of them or a dict"),
    "params-None": StepCase(lambda o, p: (None, good(p)), TypeError, r"params must be a float"),
    "params-float": StepCase(lambda o, p: (1.0, 0.5), TypeError, r"params must be a float"),
    "params-empty-list": StepCase(lambda o, p: ([], []), ValueError,
                                  r"params must hold at least one array"),
    "params-empty-dict": StepCase(lambda o, p: ({}, {}), ValueError,
                                  r"params must hold at least one array", dict_params),
    "params-list-with-non-array": StepCase(lambda o, p: ([p[0], [0.5, -0.5, 2.0]], good(p)),
                                           TypeError, r"params\[1\] must be a numpy ndarray",
                                           list_params),
    "params-read-only": StepCase(make_read_only, ValueError, r"params is read-only",
                                 prepares=True),
    "grads-is-params": StepCase(lambda o, p: (p, p), ValueError,
                                r"grads shares memory with a parameter"),
    "grads-view-of-params": StepCase(lambda o, p: (p, p[::-1]), ValueError,
                                     r"grads shares memory with a parameter"),
    "same-array-twice-in-list": StepCase(lambda o, p: ([p[0], p[0]], [np.ones((2, 3))] * 2),
                                         ValueError,
                                         r"params\[1\] shares memory with another parameter",
                                         list_params),
    "overlapping-views-in-dict": StepCase(lambda o, p: ({"W": p["W"], "b": p["W"][0]}, good(p)),
                                          ValueError,
                                          r"params\['b'\] shares memory with another parameter",
                                          dict_params),
    # -- hyperparameters that do not broadcast -------------------------------
    "lr-(3,1)-vs-params-(2,2)": StepCase(set_attr("lr", np.full((3, 1), 0.1)), ValueError,
                                         r"lr of shape \(3, 1\) does not broadcast against "
                                         r"params of shape \(2, 2\)", square_params,
                                         opt=lambda: Momentum(lr=0.1), prepares=True),
    "lr-broadcasts-to-a-larger-shape": StepCase(set_attr("lr", np.full((1, 2, 3), 0.1)),
                                                ValueError, r"lr of shape \(1, 2, 3\)",
                                                prepares=True),
    "beta-does-not-broadcast": StepCase(set_attr("beta", np.full(4, 0.5)), ValueError,
                                        r"beta of shape \(4,\)",
                                        opt=lambda: Momentum(lr=0.1), prepares=True),
    "eps-does-not-broadcast": StepCase(set_attr("eps", np.full((2, 2), 1e-8)), ValueError,
                                       r"eps of shape \(2, 2\)",
                                       opt=lambda: RMSprop(lr=0.1), prepares=True),
    "weight_decay-fits-W-not-b": StepCase(set_attr("weight_decay", np.full((2, 1), 0.1)),
                                          ValueError,
                                          r"weight_decay of shape \(2, 1\) does not broadcast "
                                          r"against params\['b'\] of shape \(3,\)",
                                          dict_params, prepares=True),
    # -- params that differ from the first step -----------------------------
    "shape-changed": StepCase(lambda o, p: (np.zeros((3, 2)), np.ones((3, 2))), ValueError,
                              r"do not match the structure, shapes or dtypes of the first step"),
    "dtype-changed": StepCase(lambda o, p: (p.astype(np.float32), good(p)), ValueError,
                              r"do not match the structure, shapes or dtypes"),
    "dict-keys-changed": StepCase(lambda o, p: ({"W": p["W"], "c": p["b"]},
                                                {"W": np.ones((2, 3)), "c": np.ones(3)}),
                                  ValueError, r"call reset\(\)", dict_params),
    "array-became-list": StepCase(lambda o, p: ([p], [good(p)]), ValueError, r"call reset\(\)"),
    "list-grew": StepCase(lambda o, p: (p + [np.zeros(2)], good(p) + [np.ones(2)]), ValueError,
                          r"call reset\(\)", list_params),
    "list-shrank": StepCase(lambda o, p: (p[:1], good(p)[:1]), ValueError, r"call reset\(\)",
                            list_params),
    "list-became-dict": StepCase(lambda o, p: (dict(enumerate(p)), dict(enumerate(good(p)))),
                                 ValueError, r"call reset\(\)", list_params),
    "amsgrad-toggled-on": StepCase(set_attr("amsgrad", True), ValueError,
                                   r"amsgrad was changed to True after the first step",
                                   opt=lambda: Adam(lr=0.1), prepares=True),
    "amsgrad-toggled-off": StepCase(set_attr("amsgrad", False), ValueError,
                                    r"amsgrad was changed to False", opt=lambda: AdamW(amsgrad=True),
                                    prepares=True),
}


def assert_identical(a, b, path="x"):
    """Recursively: same structure, and arrays byte-identical with the same dtype and shape."""
    assert type(a) is type(b), f"{path}: {type(a)} vs {type(b)}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert a.tobytes() == b.tobytes(), f"{path} changed"
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            assert_identical(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


def two_good_steps(case):
    opt = case.opt()
    params = case.params()
    for seed in (1, 2):
        opt.step(params, gradients_like(params, seed))
    return opt, params


@pytest.mark.parametrize("name", list(STEP_CASES))
def test_step_rejects_and_changes_nothing(name):
    """After two good steps a bad step raises (message as expected) and params, state, t are intact."""
    case = STEP_CASES[name]
    opt, params = two_good_steps(case)
    bad_params, bad_grads = case.bad(opt, params)
    before = copy.deepcopy((params, bad_params, bad_grads, opt.state, opt.t,
                            opt.hyperparameters))
    assert opt.t == 2 and opt.state != {}
    with pytest.raises(case.exc, match=case.match):
        opt.step(bad_params, bad_grads)
    after = (params, bad_params, bad_grads, opt.state, opt.t, opt.hyperparameters)
    assert_identical(after, before)
    if not case.prepares:
        # nothing lost: the next good step equals that of a twin that never saw the bad one
        twin, twin_params = two_good_steps(case)
        opt.step(params, gradients_like(params, 3))
        twin.step(twin_params, gradients_like(twin_params, 3))
        assert_identical((params, opt.state, opt.t), (twin_params, twin.state, twin.t))


def test_step_case_ids_are_distinct():
    """The step bad inputs are distinct and at least 30."""
    assert len(STEP_CASES) >= 30


def test_rejected_first_step_creates_no_state():
    """A bad first step leaves t = 0 and no state; a later good step works normally."""
    opt = Adam(lr=0.1)
    w = np.ones(3)
    with pytest.raises(ValueError, match="non-finite"):
        opt.step(w, np.array([1.0, np.nan, 0.0]))
    assert opt.t == 0 and opt.state == {}
    np.testing.assert_array_equal(w, np.ones(3))
    opt.step(w, np.array([1.0, -1.0, 0.0]))
    np.testing.assert_allclose(w, [0.9, 1.1, 1.0], rtol=1e-8)
    assert opt.t == 1


@pytest.mark.parametrize("structure", ["list", "dict"])
def test_grads_aliasing_another_parameter(structure):
    """A gradient that shares memory with ANOTHER parameter is rejected or read before any update.

    GradientDescent(lr=1) on params (a=[1, 2], b=[10, 20]) with grads (ga=[1, 1], gb=a):
    the step must either raise ValueError (as it does when grads alias their own
    parameter) or use the gradient values given at call time, b = [9, 18].
    """
    a, b = np.array([1.0, 2.0]), np.array([10.0, 20.0])
    ga = np.array([1.0, 1.0])
    if structure == "list":
        params, grads = [a, b], [ga, a]
    else:
        params, grads = {"a": a, "b": b}, {"a": ga, "b": a}
    try:
        GradientDescent(lr=1.0).step(params, grads)
    except ValueError as error:
        assert "grads" in str(error)
        np.testing.assert_array_equal(a, [1.0, 2.0])
        np.testing.assert_array_equal(b, [10.0, 20.0])
    else:
        np.testing.assert_array_equal(a, [0.0, 1.0])
        np.testing.assert_array_equal(b, [9.0, 18.0])



# ==========================================================================
# 5. Schedule-free SGD (Defazio et al., 2024)
# ==========================================================================
def reference_schedule_free(w0, grads, lrs, mus, beta, weight_decay=0.0):
    """The paper's three sequences written plainly: z SGD steps, x their weighted average
    (weights: the running maximum of the multiplier, squared), y = (1 - beta) z + beta x."""
    z = np.array(w0, dtype=np.float64)
    x, y = z.copy(), z.copy()
    weights, records = [], []
    for g, lr, mu in zip(grads, lrs, mus):
        g = g + weight_decay * y
        z = z - lr * g
        weights.append(max([mu] + [w ** 0.5 for w in weights]) ** 2)
        c = weights[-1] / sum(weights)
        x = (1 - c) * x + c * z
        y = (1 - beta) * z + beta * x
        records.append({"w": y, "z": z, "x": x})
    return records


@pytest.mark.parametrize("beta, weight_decay, schedule", [
    (0.9, 0.0, None), (0.5, 0.2, None), (0.0, 0.0, None),
    (0.9, 0.0, "warmup"), (0.8, 0.1, "warmup_then_decay")])
def test_schedule_free_matches_reference(beta, weight_decay, schedule):
    from optlib.schedules import Linear, Warmup
    sched = {None: None, "warmup": Warmup(3),
             "warmup_then_decay": Warmup(2, then=Linear(total=4, end=0.25))}[schedule]
    mus = [1.0 if sched is None else sched(t) for t in range(1, len(GRADS) + 1)]
    lr = 0.1
    expected = reference_schedule_free(W0, GRADS, [lr * m for m in mus], mus, beta, weight_decay)
    opt, w = ScheduleFreeSGD(lr=lr, beta=beta, weight_decay=weight_decay, schedule=sched), W0.copy()
    for t, (g, record) in enumerate(zip(GRADS, expected), start=1):
        opt.step(w, g.copy())
        np.testing.assert_allclose(w, record["w"], rtol=1e-12, atol=1e-15, err_msg=f"y, step {t}")
        np.testing.assert_allclose(opt.state["z"], record["z"], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(opt.state["x"], record["x"], rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(opt.eval_params(), opt.state["x"])


def test_schedule_free_by_hand():
    """Constant gradient 1 from w = 1, alpha = 0.5, beta = 0.5: z = 1 - t/2, x the mean of
    z_1..z_t = 1 - (t+1)/4, y = (z + x)/2."""
    w, opt = np.array([1.0]), ScheduleFreeSGD(lr=0.5, beta=0.5)
    for t in range(1, 6):
        opt.step(w, np.array([1.0]))
        z, x = 1 - t / 2, 1 - (t + 1) / 4
        assert opt.state["z"][0] == z
        assert opt.eval_params()[0] == pytest.approx(x, abs=1e-15)
        assert w[0] == pytest.approx((z + x) / 2, abs=1e-15)
    assert opt.state_dict()["scalars"] == {"mu_max": 1.0, "weight_sum": 5.0}


def test_schedule_free_with_beta_zero_is_gradient_descent_with_its_average():
    rng = np.random.default_rng(7)
    grads = [rng.standard_normal(4) for _ in range(9)]
    w, gd_w = np.ones(4), np.ones(4)
    opt, gd = ScheduleFreeSGD(lr=0.1, beta=0.0), GradientDescent(lr=0.1)
    iterates = []
    for g in grads:
        opt.step(w, g.copy())
        gd.step(gd_w, g.copy())
        iterates.append(gd_w.copy())
        np.testing.assert_allclose(w, gd_w, rtol=1e-15)
    np.testing.assert_allclose(opt.eval_params(), np.mean(iterates, axis=0), rtol=1e-13)


def test_schedule_free_average_beats_the_last_iterate_under_noise():
    """On a noisy bowl (200 runs, the same noise for both) the average x ends far closer to the
    minimum than gradient descent with the same alpha (about 0.1-0.14 of its loss over seeds
    0-3), and closer than the iterate y: the point of reading out x for evaluation."""
    rng = np.random.default_rng(0)
    curvature = np.array([1.0, 4.0])
    w, opt = np.full((200, 2), 3.0), ScheduleFreeSGD(lr=0.1, beta=0.9)
    gd_w, gd = w.copy(), GradientDescent(lr=0.1)
    for _ in range(400):
        noise = rng.standard_normal(w.shape)
        opt.step(w, w * curvature + noise)
        gd.step(gd_w, gd_w * curvature + noise)

    def loss(v):
        return np.mean(v ** 2 @ curvature) / 2

    assert loss(opt.eval_params()) < 0.3 * loss(gd_w)
    assert loss(opt.eval_params()) < loss(w)


def test_schedule_free_eval_params_structure_and_copies():
    params = {"W": np.ones((2, 3)), "b": np.zeros(3)}
    opt = ScheduleFreeSGD(lr=0.1)
    with pytest.raises(ValueError, match="no step has been taken"):
        opt.eval_params()
    opt.step(params, {"W": np.ones((2, 3)), "b": np.ones(3)})
    x = opt.eval_params()
    assert set(x) == {"W", "b"} and x["W"].shape == (2, 3)
    x["W"][...] = 99.0
    assert not np.any(opt.eval_params()["W"] == 99.0)
    lst = ScheduleFreeSGD(lr=0.1)
    lst.step([np.ones(2), np.ones(3)], [np.ones(2), np.ones(3)])
    assert [a.shape for a in lst.eval_params()] == [(2,), (3,)]


def test_schedule_free_rejected_step_changes_its_scalars_neither():
    from optlib.schedules import Warmup
    opt, w = ScheduleFreeSGD(lr=0.1, schedule=Warmup(4)), np.ones(3)
    opt.step(w, np.ones(3))
    before = opt.state_dict()
    with pytest.raises(ValueError):
        opt.step(w, np.array([1.0, np.nan, 1.0]))
    after = opt.state_dict()
    assert after["scalars"] == before["scalars"] == {"mu_max": 0.25, "weight_sum": 0.0625}
    assert after["t"] == 1 and np.array_equal(after["state"]["x"], before["state"]["x"])
    # a step that fails inside the update (overflow under errstate "raise"), after the
    # coefficients and the next scalars were computed: the scalars stay too
    opt.lr, w_before = 1e300, w.copy()
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        opt.step(w, np.full(3, 1e300))
    failed = opt.state_dict()
    assert failed["scalars"] == before["scalars"] and failed["t"] == opt.schedule_t == 1
    assert np.array_equal(w, w_before)
    assert all(np.array_equal(failed["state"][k], before["state"][k]) for k in ("x", "z"))



def reference_schedule_free_adamw(w0, grads, lrs, mus, beta1, beta2, eps, weight_decay=0.0):
    """Schedule-free AdamW written plainly (the paper's Algorithm 1 with decoupled decay at y)."""
    z = np.array(w0, dtype=np.float64)
    x, y, s = z.copy(), z.copy(), np.zeros_like(z)
    weights, records = [], []
    for t, (g, lr, mu) in enumerate(zip(grads, lrs, mus), start=1):
        s = beta2 * s + (1 - beta2) * g**2
        denominator = np.sqrt(s / (1 - beta2**t)) + eps
        # optlib reads 0/0 as a step of 0 (eps = 0 and every gradient so far 0 there)
        step = np.divide(g, denominator, out=np.zeros_like(g), where=denominator > 0)
        z = z - lr * (step + weight_decay * y)
        weights.append(max([mu] + [w ** 0.5 for w in weights]) ** 2)
        c = weights[-1] / sum(weights)
        x = (1 - c) * x + c * z
        y = (1 - beta1) * z + beta1 * x
        records.append({"w": y, "z": z, "x": x, "exp_avg_sq": s})
    return records


@pytest.mark.parametrize("beta1, beta2, eps, weight_decay, warmup", [
    (0.9, 0.999, 1e-8, 0.0, 0), (0.5, 0.9, 1e-3, 0.3, 0), (0.9, 0.99, 1e-8, 0.1, 4),
    (0.0, 0.0, 0.0, 0.0, 0)])
def test_schedule_free_adamw_matches_reference(beta1, beta2, eps, weight_decay, warmup):
    from optlib.schedules import Warmup
    sched = Warmup(warmup) if warmup else None
    mus = [1.0 if sched is None else sched(t) for t in range(1, len(GRADS) + 1)]
    lr = 0.05
    expected = reference_schedule_free_adamw(W0, GRADS, [lr * m for m in mus], mus, beta1,
                                             beta2, eps, weight_decay)
    opt = ScheduleFreeAdamW(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                            schedule=sched)
    w = W0.copy()
    for t, (g, record) in enumerate(zip(GRADS, expected), start=1):
        opt.step(w, g.copy())
        np.testing.assert_allclose(w, record["w"], rtol=1e-12, atol=1e-15, err_msg=f"y, step {t}")
        for buffer in ("z", "x", "exp_avg_sq"):
            np.testing.assert_allclose(opt.state[buffer], record[buffer], rtol=1e-12, atol=1e-15,
                                       err_msg=f"{buffer}, step {t}")
    np.testing.assert_array_equal(opt.eval_params(), opt.state["x"])
