"""optlib.Muon against an independent numpy loop (the contract's equations, written out once
with explicit matrix products), and every rule of the other optimizers: validation, 2-D
parameters only, scalar hyperparameters, schedules, all-or-nothing steps (also for large
matrices, which the engine must not cut into blocks), NonFiniteWarning, checkpoints.

No torch here (tests/test_torch_muon.py compares with torch.optim.Muon).
"""

from __future__ import annotations

import inspect
import math
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optlib
from optlib import NonFiniteWarning, analysis
from optlib import _muon
from optlib.optimizers import Muon
from optlib.schedules import Cosine

COEFFICIENTS = (3.4445, -4.7750, 2.0315)
SHAPES = {"tall": (7, 4), "wide": (4, 7), "square": (5, 5)}


def ns_reference(d, steps=5, coefficients=COEFFICIENTS, eps=1e-7):
    """NS(D) as the contract writes it, with plain numpy products."""
    a, b, c = coefficients
    tall = d.shape[0] > d.shape[1]
    x = d.T if tall else d
    x = x / max(np.sqrt(np.sum(x * x)), eps)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.T if tall else x


def ratio(shape, adjust_lr):
    m, n = shape
    return {"original": math.sqrt(max(1.0, m / n)), "match_rms_adamw": 0.2 * math.sqrt(max(m, n)),
            None: 1.0}[adjust_lr]


def muon_reference(w0, grads, lr=1e-3, beta=0.95, nesterov=True, weight_decay=0.1, ns_steps=5,
                   ns_coefficients=COEFFICIENTS, eps=1e-7, adjust_lr="original", multipliers=None):
    """The contract's Muon: the parameters and the buffer after each step."""
    w, v, out = w0.copy(), np.zeros_like(w0), []
    for t, g in enumerate(grads):
        alpha = lr * (1.0 if multipliers is None else multipliers[t])
        v = beta * v + (1 - beta) * g
        d = g + beta * (v - g) if nesterov else v
        o = ns_reference(d, ns_steps, ns_coefficients, eps)
        w = w * (1 - alpha * weight_decay) - alpha * ratio(w.shape, adjust_lr) * o
        out.append((w.copy(), v.copy()))
    return out


def run(opt, w0, grads):
    w, out = w0.copy(), []
    for g in grads:
        opt.step(w, g)
        out.append((w.copy(), opt.state["momentum_buffer"]))
    return out


def assert_runs_close(ours, reference, rtol=1e-13, atol=1e-15):
    """Parameters to rounding (the products are summed in other orders: measured 2e-16
    relative), buffers exactly (the same two roundings)."""
    for (w, v), (w_ref, v_ref) in zip(ours, reference, strict=True):
        np.testing.assert_allclose(w, w_ref, rtol=rtol, atol=atol)
        np.testing.assert_array_equal(v, v_ref)


def problem(shape, steps=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), rng.normal(size=(steps, *shape))


# --------------------------------------------------------------------------- the update
def test_the_signature_is_the_contracts():
    params = inspect.signature(Muon).parameters
    assert {n: p.default for n, p in params.items()} == {
        "lr": 1e-3, "beta": 0.95, "nesterov": True, "weight_decay": 0.1, "ns_steps": 5,
        "ns_coefficients": (3.4445, -4.7750, 2.0315), "eps": 1e-7, "adjust_lr": "original",
        "schedule": None}
    assert list(params) == ["lr", "beta", "nesterov", "weight_decay", "ns_steps",
                            "ns_coefficients", "eps", "adjust_lr", "schedule"]     # positional order
    assert optlib.optimizers.Muon is Muon and "Muon" in optlib.optimizers.__all__


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("nesterov", [True, False])
@pytest.mark.parametrize("adjust_lr", ["original", "match_rms_adamw", None])
def test_agrees_with_the_reference_loop(shape, nesterov, adjust_lr):
    w0, grads = problem(shape)
    settings = dict(lr=0.02, beta=0.9, nesterov=nesterov, weight_decay=0.3, adjust_lr=adjust_lr)
    assert_runs_close(run(Muon(**settings), w0, grads), muon_reference(w0, grads, **settings))


@pytest.mark.parametrize("settings", [dict(ns_steps=0), dict(ns_steps=1), dict(ns_steps=12),
                                      dict(ns_coefficients=(1.5, -0.5, 0.0), ns_steps=8),
                                      dict(eps=10.0), dict(beta=0.0), dict(weight_decay=0.0)])
def test_agrees_with_the_reference_for_other_settings(settings):
    w0, grads = problem((6, 3), seed=1)
    assert_runs_close(run(Muon(lr=0.05, **settings), w0, grads),
                      muon_reference(w0, grads, lr=0.05, **settings))


def test_the_first_step_from_a_diagonal_gradient():
    """D_1 = g (1 - beta^2) for Nesterov, a multiple of g: with ns_steps=0 the step is
    -alpha g/||g||_F exactly; with the SVD diag(3, 4) = I diag(3, 4) I, five steps give
    diag(phi^5(3/5), phi^5(4/5))."""
    g = np.array([[3.0, 0.0, 0.0], [0.0, 4.0, 0.0]])
    w = np.zeros((2, 3))
    Muon(lr=0.1, weight_decay=0.0, ns_steps=0).step(w, g)
    np.testing.assert_allclose(w, -0.1 * g / 5.0, rtol=1e-15)
    phi = [0.6, 0.8]
    for _ in range(5):
        phi = [3.4445 * s - 4.7750 * s ** 3 + 2.0315 * s ** 5 for s in phi]
    w = np.zeros((2, 3))
    Muon(lr=0.1, weight_decay=0.0).step(w, g)
    np.testing.assert_allclose(w, -0.1 * np.diag(phi, k=0) @ np.eye(2, 3), rtol=1e-13)


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_the_update_is_orthogonalize_of_the_direction(shape):
    """One step without decay is -alpha r NS(D_1), NS being optlib.analysis.orthogonalize
    (the same code: bit for bit), with D_1 = g + beta((1-beta) g - g)."""
    w0, (g,) = problem(shape, steps=1, seed=2)
    opt, w = Muon(lr=0.05, weight_decay=0.0), w0.copy()
    opt.step(w, g)
    d = g + 0.95 * ((1 - 0.95) * g - g)
    expected = w0 - (0.05 * ratio(shape, "original")) * analysis.orthogonalize(d)
    np.testing.assert_array_equal(w, expected)


def test_a_large_matrix_is_updated_whole():
    """A 600 x 300 matrix (1.4 MB, more than a block's worth of elements for threads and the
    journal threshold): the engine must hand it over whole, never in blocks of rows."""
    w0, grads = problem((600, 300), steps=3, seed=3)
    assert_runs_close(run(Muon(lr=0.02), w0, grads), muon_reference(w0, grads, lr=0.02))


def test_a_transposed_or_fortran_ordered_matrix_keeps_its_shape():
    """A tall matrix stored in Fortran order (or a transposed view) is still tall: its
    factor r = sqrt(m/n) and its iteration are those of the C-ordered copy, bit for bit."""
    w0, grads = problem((8, 2), seed=4)
    c_order, f_order = w0.copy(), np.asfortranarray(w0)
    view = np.ascontiguousarray(w0.T).T
    opts = [Muon(lr=0.1) for _ in range(3)]
    for g in grads:
        for opt, w in zip(opts, (c_order, f_order, view)):
            opt.step(w, g.copy())
    np.testing.assert_array_equal(f_order, c_order)
    np.testing.assert_array_equal(view, c_order)
    assert_runs_close([(c_order, opts[0].state["momentum_buffer"])],
                      [muon_reference(w0, grads, lr=0.1)[-1]])


def test_a_schedule_scales_the_step_and_the_decay():
    w0, grads = problem((5, 3), steps=8, seed=5)
    mus = [(1 + math.cos(math.pi * t / 8)) / 2 for t in range(8)]
    ours = run(Muon(lr=0.05, weight_decay=0.5, schedule=Cosine(8)), w0, grads)
    assert_runs_close(ours, muon_reference(w0, grads, lr=0.05, weight_decay=0.5, multipliers=mus))


def test_several_matrices_in_a_dict_and_float32():
    rng = np.random.default_rng(6)
    params = {"W1": rng.normal(size=(6, 4)), "W2": rng.normal(size=(4, 3))}
    grads = [{k: rng.normal(size=v.shape) for k, v in params.items()} for _ in range(5)]
    ours, p32 = {k: v.copy() for k, v in params.items()}, {k: v.astype(np.float32)
                                                           for k, v in params.items()}
    opt, opt32 = Muon(lr=0.05), Muon(lr=0.05)
    for g in grads:
        opt.step(ours, g)
        opt32.step(p32, {k: v.astype(np.float32) for k, v in g.items()})
    for k in params:
        w_ref, v_ref = muon_reference(params[k], [g[k] for g in grads], lr=0.05)[-1]
        np.testing.assert_allclose(ours[k], w_ref, rtol=1e-10, atol=1e-12)
        assert p32[k].dtype == np.float32 and opt32.state[k]["momentum_buffer"].dtype == np.float32
        np.testing.assert_allclose(p32[k], w_ref, rtol=1e-5, atol=1e-5)


def test_the_norm_of_a_huge_direction_is_taken_without_overflow():
    """Entries near 1e200: their squares overflow, yet NS(D) = NS(D / 1e200)."""
    _, (g,) = problem((3, 5), steps=1, seed=7)
    w, w_scaled = np.zeros((3, 5)), np.zeros((3, 5))
    Muon(lr=0.1).step(w, g * 1e200)
    Muon(lr=0.1).step(w_scaled, g)
    np.testing.assert_allclose(w, w_scaled, rtol=1e-12, atol=1e-15)
    assert np.abs(w).max() > 1e-3


@settings(max_examples=30, deadline=None)
@given(k=st.integers(-10, 40), seed=st.integers(0, 2**32 - 1), nesterov=st.booleans())
def test_the_step_does_not_depend_on_the_gradients_scale(k, seed, nesterov):
    """Gradients multiplied by 2^k (an exact scaling) give the same parameters, bit for bit:
    the momentum scales exactly and the division by its norm takes the scale out (while the
    norm stays well above eps: below 2^-20 or so it meets eps = 1e-7 here)."""
    w0, grads = problem((5, 3), steps=4, seed=seed % 1000)
    a, b, w1, w2 = Muon(lr=0.1, nesterov=nesterov), Muon(lr=0.1, nesterov=nesterov), w0.copy(), w0.copy()
    for g in grads:
        a.step(w1, g.copy())
        b.step(w2, g * 2.0 ** k)
    np.testing.assert_array_equal(w1, w2)


def test_a_zero_gradient_moves_nothing_but_the_decay():
    w = np.full((2, 2), 3.0)
    Muon(lr=0.1, weight_decay=0.5).step(w, np.zeros((2, 2)))
    np.testing.assert_array_equal(w, np.full((2, 2), 3.0 * (1 - 0.1 * 0.5)))


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("shape", [(3,), (2, 3, 4), ()])
def test_a_parameter_that_is_not_a_matrix_is_refused_naming_it(shape):
    good, bad = np.ones((3, 2)), np.ones(shape)
    params = {"W": good.copy(), "b": bad.copy()}
    opt = Muon(lr=0.1)
    with pytest.raises(ValueError, match=rf"params\['b'\] has shape {re_shape(shape)}.*AdamW"):
        opt.step(params, {"W": np.ones((3, 2)), "b": np.ones(shape)})
    np.testing.assert_array_equal(params["W"], good)
    assert opt.t == 0 and opt.state == {}
    with pytest.raises(ValueError, match=rf"params has shape {re_shape(shape)}"):
        opt.step(np.ones(shape), np.ones(shape))


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


@pytest.mark.parametrize("name, value, error", [
    ("lr", 0.0, ValueError), ("lr", -1.0, ValueError), ("lr", "0.1", TypeError),
    ("lr", np.array([[0.1], [0.2]]), TypeError), ("lr", [0.1, 0.2], TypeError),
    ("beta", 1.0, ValueError), ("beta", np.array([0.9, 0.5]), TypeError),
    ("weight_decay", -0.1, ValueError), ("weight_decay", np.ones((2, 1)), TypeError),
    ("eps", 0.0, ValueError), ("eps", -1e-7, ValueError), ("eps", float("nan"), ValueError),
    ("ns_steps", -1, ValueError), ("ns_steps", 2.0, TypeError), ("ns_steps", True, TypeError),
    ("ns_coefficients", (1.0, 2.0), ValueError), ("ns_coefficients", (1.0, 2.0, 3.0, 4.0), ValueError),
    ("ns_coefficients", (1.0, float("inf"), 0.0), ValueError),
    ("ns_coefficients", ("a", "b", "c"), TypeError), ("ns_coefficients", "abc", TypeError),
    ("ns_coefficients", 3.0, ValueError),
    ("adjust_lr", "Original", ValueError), ("adjust_lr", 1, TypeError),
    ("nesterov", 1, TypeError), ("nesterov", "yes", TypeError),
])
def test_bad_hyperparameters_are_rejected_naming_them(name, value, error):
    with pytest.raises(error, match=name):
        Muon(**{name: value})
    opt = Muon()
    before = getattr(opt, name)
    with pytest.raises(error, match=name):
        setattr(opt, name, value)
    assert getattr(opt, name) == before


def test_an_array_hyperparameter_is_refused_with_the_reason():
    with pytest.raises(TypeError, match="single number.*whole"):
        Muon(lr=np.array([[0.1], [0.2]]))


def test_good_hyperparameters_in_other_forms():
    opt = Muon(lr=np.float32(0.5), eps=np.array(1e-3), ns_coefficients=np.array([2, -1.5, 0.5]),
               ns_steps=np.int64(3), adjust_lr=None)
    assert opt.lr == 0.5 and type(opt.lr) is float and opt.eps == 1e-3
    assert opt.ns_coefficients == (2.0, -1.5, 0.5) and opt.ns_steps == 3 and opt.adjust_lr is None
    opt.adjust_lr = "match_rms_adamw"
    assert "adjust_lr='match_rms_adamw'" in repr(opt)


# --------------------------------------------------------------------------- all or nothing
def _snapshot(opt, params):
    return {k: v.copy() for k, v in params.items()}, opt.state_dict()


def _assert_unchanged(opt, params, snapshot):
    before, saved = snapshot
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
    now = opt.state_dict()
    assert now["t"] == saved["t"]
    for k in params:
        np.testing.assert_array_equal(now["state"][k]["momentum_buffer"],
                                      saved["state"][k]["momentum_buffer"])


@pytest.mark.parametrize("shape", [(4, 3), (600, 300)], ids=["small", "large"])
def test_a_step_that_fails_midway_changes_nothing(shape, monkeypatch):
    """The second matrix's update raises after the first matrix (and its buffer) changed:
    everything is restored, also for matrices above the journal threshold."""
    rng = np.random.default_rng(8)
    params = {"W1": rng.normal(size=shape), "W2": rng.normal(size=shape)}
    grads = {k: rng.normal(size=shape) for k in params}
    opt = Muon(lr=0.1)
    opt.step(params, grads)
    snapshot = _snapshot(opt, params)
    calls = []
    original = _muon.lr_ratio

    def failing(shape, adjust_lr):
        calls.append(shape)
        if len(calls) == 2:
            raise RuntimeError("injected failure")
        return original(shape, adjust_lr)

    monkeypatch.setattr(_muon, "lr_ratio", failing)
    with pytest.raises(RuntimeError, match="injected"):
        opt.step(params, grads)
    _assert_unchanged(opt, params, snapshot)
    monkeypatch.setattr(_muon, "lr_ratio", original)
    opt.step(params, grads)
    assert opt.t == 2


def test_an_overflow_under_errstate_raise_changes_nothing_and_otherwise_warns():
    rng = np.random.default_rng(9)
    params = {"W": rng.normal(size=(3, 4))}
    grads = {"W": rng.normal(size=(3, 4))}
    opt = Muon(lr=0.1, ns_coefficients=(1e300, 1.0, 1.0), ns_steps=3)
    snapshot = _snapshot(opt, params)
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        opt.step(params, grads)
    assert opt.t == 0 and opt.state == {}
    np.testing.assert_array_equal(params["W"], snapshot[0]["W"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonFiniteWarning)
        with pytest.raises(NonFiniteWarning):
            opt.step(params, grads)
    assert opt.t == 0 and opt.state == {}
    np.testing.assert_array_equal(params["W"], snapshot[0]["W"])
    with pytest.warns(NonFiniteWarning, match=r"Muon step 1 turned 12 value\(s\) of params\['W'\]"):
        opt.step(params, grads)
    assert opt.t == 1 and not np.isfinite(params["W"]).any()


def test_rejected_steps_change_nothing():
    rng = np.random.default_rng(10)
    params = {"W": rng.normal(size=(3, 4))}
    opt = Muon(lr=0.1)
    opt.step(params, {"W": rng.normal(size=(3, 4))})
    snapshot = _snapshot(opt, params)
    for grads in ({"W": np.full((3, 4), np.nan)}, {"W": np.ones((4, 3))}, {"V": np.ones((3, 4))}):
        with pytest.raises((ValueError, TypeError)):
            opt.step(params, grads)
        _assert_unchanged(opt, params, snapshot)
    with pytest.raises(ValueError, match="structure, shapes or dtypes"):
        opt.step({"W": np.ones((4, 3))}, {"W": np.ones((4, 3))})
    _assert_unchanged(opt, params, snapshot)


# --------------------------------------------------------------------------- checkpoints
def test_a_checkpoint_resumes_the_run_bit_for_bit():
    rng = np.random.default_rng(11)
    shapes = {"W1": (6, 4), "W2": (4, 9)}
    params = {k: rng.normal(size=s) for k, s in shapes.items()}
    grads = [{k: rng.normal(size=s) for k, s in shapes.items()} for _ in range(10)]
    settings = dict(lr=0.03, beta=0.8, nesterov=False, weight_decay=0.2, ns_steps=4,
                    ns_coefficients=(3.0, -3.2, 1.2), eps=1e-6, adjust_lr="match_rms_adamw",
                    schedule=Cosine(10))
    straight, opt = {k: v.copy() for k, v in params.items()}, Muon(**settings)
    for g in grads:
        opt.step(straight, g)
    first, halfway = Muon(**settings), {k: v.copy() for k, v in params.items()}
    for g in grads[:4]:
        first.step(halfway, g)
    saved = pickle.loads(pickle.dumps(first.state_dict()))
    assert saved["hyperparameters"] == {
        "lr": 0.03, "beta": 0.8, "weight_decay": 0.2, "ns_steps": 4,
        "ns_coefficients": (3.0, -3.2, 1.2), "eps": 1e-6, "adjust_lr": "match_rms_adamw"}
    assert saved["flags"] == {"nesterov": False}
    resumed = Muon()                                   # the defaults: everything restored
    resumed.load_state_dict(saved)
    for g in grads[4:]:
        resumed.step(halfway, g)
    for k in shapes:
        np.testing.assert_array_equal(halfway[k], straight[k])
        np.testing.assert_array_equal(resumed.state[k]["momentum_buffer"],
                                      opt.state[k]["momentum_buffer"])


@pytest.mark.parametrize("name, value", [("ns_coefficients", (1.0, 2.0)), ("ns_steps", -2),
                                         ("adjust_lr", "rms"), ("lr", np.ones(2)),
                                         ("eps", 0.0)])
def test_a_checkpoint_with_a_bad_hyperparameter_is_refused_and_changes_nothing(name, value):
    opt = Muon(lr=0.1)
    opt.step(np.ones((2, 3)), np.ones((2, 3)))
    bad = opt.state_dict()
    bad["hyperparameters"][name] = value
    other = Muon(lr=0.5)
    with pytest.raises((TypeError, ValueError), match=name):
        other.load_state_dict(bad)
    assert other.lr == 0.5 and other.t == 0 and other.state == {}
