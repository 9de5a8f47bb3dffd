"""optlib.network.model: the MLP's forward pass, loss, gradients and Hessian-vector products.

* **gradients**: the backward pass agrees with central differences of the loss for every
  entry of every parameter (float64, small networks, ReLU and tanh, with and without L2)
  to 1e-6 relative; by hand for a single softmax layer; at zero parameters only b_L moves;
* **loss**: softmax cross-entropy against a direct computation and invariant to shifting
  the logits (no overflow for huge logits); the forward pass against matrices multiplied
  here; ``evaluate`` is ``loss`` and ``accuracy`` bit for bit;
* **curvature**: Hessian-vector products against differences of gradients;
* **the interface for loops**: ``validate=False`` skips the checks and changes no bit;
* bad input raises, naming the argument (nan in the data too); the docstring examples run.
"""

from __future__ import annotations

import doctest
import re
import warnings

import numpy as np
import pytest

import optlib.network.model
from optlib.network import MLP

RTOL_GRAD = 1e-6


def _batch(rng, n=7, d=5, k=4):
    X = rng.normal(size=(n, d))
    y = rng.integers(0, k, size=n)
    return X, y


def _perturbed(params, rng, scale=0.3):
    """Parameters with non-zero biases too, so that every gradient entry is exercised."""
    return {k: v + scale * rng.normal(size=v.shape) for k, v in params.items()}


# --------------------------------------------------------------------------- gradients
def _central_differences(model, params, X, y, h=1e-6):
    """d loss / d θ for every entry, by (L(θ + h) − L(θ − h)) / 2h, written out here."""
    out = {}
    for key, p in params.items():
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            moved = {k: v.copy() for k, v in params.items()}
            moved[key][i] = p[i] + h
            up = model.loss(moved, X, y)
            moved[key][i] = p[i] - h
            down = model.loss(moved, X, y)
            g[i] = (up - down) / (2 * h)
        out[key] = g
    return out


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("l2", [0.0, 0.3])
@pytest.mark.parametrize("sizes", [(5, 4), (5, 6, 4), (5, 6, 3, 4)])
def test_backward_pass_matches_central_differences(activation, l2, sizes):
    rng = np.random.default_rng(sum(sizes) + int(10 * l2))
    model = MLP(sizes=sizes, activation=activation, seed=3, l2=l2)
    params = _perturbed(model.init_params(), rng)
    X, y = _batch(rng, d=sizes[0], k=sizes[-1])
    loss, grads = model.loss_and_grads(params, X, y)
    assert loss == pytest.approx(model.loss(params, X, y), rel=1e-15)
    numeric = _central_differences(model, params, X, y)
    assert list(grads) == model.keys
    for key in model.keys:
        assert grads[key].shape == params[key].shape and grads[key].dtype == np.float64
        err = np.linalg.norm(grads[key] - numeric[key]) / (
            np.linalg.norm(grads[key]) + np.linalg.norm(numeric[key]))
        assert err < RTOL_GRAD, f"{key}: relative error {err:.2e}"
        np.testing.assert_allclose(grads[key], numeric[key], rtol=1e-5, atol=1e-8, err_msg=key)


def test_gradients_by_hand_for_a_single_softmax_layer():
    """No hidden layer: dW = Xᵀ(P − Y)/n, db = mean(P − Y), P and Y computed here."""
    rng = np.random.default_rng(1)
    model = MLP(sizes=(3, 4))
    params = _perturbed(model.init_params(), rng)
    X, y = _batch(rng, n=6, d=3, k=4)
    Z = X @ params["W1"] + params["b1"]
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    Y = np.eye(4)[y]
    _, grads = model.loss_and_grads(params, X, y)
    np.testing.assert_allclose(grads["W1"], X.T @ (P - Y) / 6, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads["b1"], (P - Y).mean(axis=0), rtol=1e-12, atol=1e-15)


def test_zero_parameters_only_move_the_output_bias(digits):
    """All weights 0: every hidden unit outputs 0, so only b_L gets a gradient, 1/k − share."""
    model = MLP()
    zeros = {k: np.zeros(s) for k, s in model.shapes().items()}
    loss, grads = model.loss_and_grads(zeros, digits.X_train, digits.y_train)
    assert loss == pytest.approx(np.log(10), rel=1e-12)
    for key in ("W1", "b1", "W2"):
        assert not np.any(grads[key])
    share = np.bincount(digits.y_train, minlength=10) / digits.y_train.size
    np.testing.assert_allclose(grads["b2"], 0.1 - share, rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- loss and forward
def test_forward_pass_against_matrices_multiplied_here():
    rng = np.random.default_rng(4)
    for activation, g in (("relu", lambda z: np.maximum(z, 0)), ("tanh", np.tanh)):
        model = MLP(sizes=(5, 6, 3, 4), activation=activation)
        p = _perturbed(model.init_params(), rng)
        X, _ = _batch(rng, d=5)
        A1 = g(X @ p["W1"] + p["b1"])
        A2 = g(A1 @ p["W2"] + p["b2"])
        logits, (As, Zs) = model.forward(p, X)
        np.testing.assert_allclose(logits, A2 @ p["W3"] + p["b3"], rtol=1e-13)
        assert len(As) == 3 and len(Zs) == 3 and As[0] is not None
        np.testing.assert_allclose(As[1], A1, rtol=1e-13)
        np.testing.assert_array_equal(model.predict(p, X), np.argmax(logits, axis=1))
        probs = model.probabilities(p, X)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-13)


def test_cross_entropy_against_a_direct_computation():
    rng = np.random.default_rng(5)
    model = MLP(sizes=(5, 4), l2=0.0)
    p = _perturbed(model.init_params(), rng)
    X, y = _batch(rng, n=9, d=5, k=4)
    Z = X @ p["W1"] + p["b1"]
    direct = -np.mean([np.log(np.exp(Z[i, y[i]]) / np.exp(Z[i]).sum()) for i in range(9)])
    assert model.loss(p, X, y) == pytest.approx(direct, rel=1e-13)
    # with L2: plus λ/2 Σ‖W‖² over the weights only
    model_l2 = MLP(sizes=(5, 4), l2=0.7)
    assert model_l2.loss(p, X, y) == pytest.approx(direct + 0.35 * np.sum(p["W1"] ** 2),
                                                   rel=1e-13)
    assert model_l2.penalty(p) == pytest.approx(0.35 * np.sum(p["W1"] ** 2), rel=1e-13)
    assert model.penalty(p) == 0.0


def test_cross_entropy_is_stable_for_huge_logits():
    """Shifting every logit of a row by c changes nothing; 1000 does not overflow."""
    model = MLP(sizes=(2, 3))
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([0, 2])
    base = {"W1": np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]]), "b1": np.zeros(3)}
    shifted = {"W1": base["W1"], "b1": np.full(3, 1000.0)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a, b = model.loss(base, X, y), model.loss(shifted, X, y)
        huge = {"W1": base["W1"] * 1000.0, "b1": np.zeros(3)}
        c = model.loss(huge, X, y)
    assert a == pytest.approx(b, rel=1e-12)
    # row 1: logits (1000, 2000, 3000), label 0 → 2000 + log(1 + e^-1000 + ...) ≈ 2000
    # row 2: logits (500, -1000, 0), label 2 → 500
    assert c == pytest.approx((2000.0 + 500.0) / 2, rel=1e-12)


@pytest.mark.parametrize("l2", [0.0, 0.2])
def test_evaluate_is_loss_and_accuracy_bit_for_bit(l2):
    rng = np.random.default_rng(8)
    model = MLP(sizes=(5, 6, 4), l2=l2)
    p = _perturbed(model.init_params(), rng)
    X, y = _batch(rng, n=30, d=5, k=4)
    loss, acc = model.evaluate(p, X, y)
    assert loss == model.loss(p, X, y) and acc == model.accuracy(p, X, y)
    assert acc == np.mean(model.predict(p, X) == y)


def test_validate_false_skips_the_checks_and_changes_no_bit():
    """What the training loop and the diagnostics call per mini-batch: same bits, no checks."""
    rng = np.random.default_rng(9)
    model = MLP(sizes=(5, 6, 4), activation="tanh", l2=0.1)
    p = _perturbed(model.init_params(), rng)
    X, y = _batch(rng, d=5, k=4)
    v = {k: rng.normal(size=s) for k, s in model.shapes().items()}
    checked, fast = model.loss_and_grads(p, X, y), model.loss_and_grads(p, X, y, validate=False)
    assert checked[0] == fast[0]
    assert all(np.array_equal(checked[1][k], fast[1][k]) for k in model.keys)
    assert model.loss(p, X, y) == model.loss(p, X, y, validate=False)
    assert model.evaluate(p, X, y) == model.evaluate(p, X, y, validate=False)
    np.testing.assert_array_equal(model.forward(p, X)[0], model.forward(p, X, validate=False)[0])
    hv = model.hessian_vector_product(p, X, y, v)
    hv_fast = model.hessian_vector_product(p, X, y, v, validate=False)
    assert all(np.array_equal(hv[k], hv_fast[k]) for k in model.keys)
    # the checks are really skipped: nan in the data is computed with, not refused
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    assert np.isnan(model.loss(p, X_nan, y, validate=False))
    with pytest.raises(ValueError, match="X must hold finite numbers"):
        model.loss(p, X_nan, y)
    with pytest.raises(TypeError, match="validate must be True or False"):
        model.loss(p, X, y, validate=1)


# --------------------------------------------------------------------------- parameters
def test_init_params_shapes_dtypes_and_scales():
    model = MLP(sizes=(64, 400, 10), activation="relu", seed=7)
    p = model.init_params()
    assert list(p) == ["W1", "b1", "W2", "b2"] == model.keys
    assert {k: v.shape for k, v in p.items()} == model.shapes() == {
        "W1": (64, 400), "b1": (400,), "W2": (400, 10), "b2": (10,)}
    assert all(v.dtype == np.float64 for v in p.values())
    assert not p["b1"].any() and not p["b2"].any()
    assert model.n_params == 64 * 400 + 400 + 400 * 10 + 10
    # He for the ReLU layer, Glorot for the output layer
    assert p["W1"].std() == pytest.approx(np.sqrt(2 / 64), rel=0.03)
    assert p["W2"].std() == pytest.approx(np.sqrt(2 / 410), rel=0.05)
    tanh = MLP(sizes=(64, 400, 10), activation="tanh", seed=7).init_params()
    assert tanh["W1"].std() == pytest.approx(np.sqrt(2 / 464), rel=0.03)
    # seeded: same seed, same draws; another seed, other draws
    again = MLP(sizes=(64, 400, 10), seed=7).init_params()
    assert all(np.array_equal(p[k], again[k]) for k in p)
    assert not np.array_equal(p["W1"], model.init_params(seed=8)["W1"])


def test_dead_units():
    model = MLP(sizes=(4, 5, 3))
    p = model.init_params()
    X = np.random.default_rng(0).normal(size=(50, 4))
    p["b1"][:] = [-100.0, -100.0, 0.0, 0.0, 0.0]      # two units can never fire
    assert model.dead_units(p, X) == (2,)
    tanh = MLP(sizes=(4, 5, 3), activation="tanh")
    q = tanh.init_params()
    q["b1"][:] = [50.0, 0.0, 0.0, -50.0, 0.0]         # two saturated units
    assert tanh.dead_units(q, X) == (2,)
    assert MLP(sizes=(4, 3)).dead_units(MLP(sizes=(4, 3)).init_params(), X) == ()
    with pytest.raises(ValueError, match="threshold=0"):
        model.dead_units(p, X, threshold=0)


# --------------------------------------------------------------------------- curvature
@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("l2", [0.0, 0.4])
@pytest.mark.parametrize("sizes", [(5, 4), (5, 6, 4), (5, 6, 3, 4)])
def test_hessian_vector_product_matches_differences_of_gradients(activation, l2, sizes):
    """(∇L(w + hv) − ∇L(w − hv)) / 2h, away from ReLU kinks (fixed seeds, tiny h)."""
    rng = np.random.default_rng(len(sizes) + int(10 * l2))
    model = MLP(sizes=sizes, activation=activation, l2=l2)
    params = _perturbed(model.init_params(), rng)
    X, y = _batch(rng, d=sizes[0], k=sizes[-1])
    v = {k: rng.normal(size=s) for k, s in model.shapes().items()}
    hv = model.hessian_vector_product(params, X, y, v)
    h = 1e-6
    up = model.loss_and_grads({k: params[k] + h * v[k] for k in params}, X, y)[1]
    down = model.loss_and_grads({k: params[k] - h * v[k] for k in params}, X, y)[1]
    assert list(hv) == model.keys
    for key in model.keys:
        numeric = (up[key] - down[key]) / (2 * h)
        err = np.linalg.norm(hv[key] - numeric) / np.linalg.norm(hv[key])
        assert err < 1e-6, f"{key}: relative error {err:.2e}"


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, error, words", [
    (dict(sizes=(64,)), ValueError, "sizes"),
    (dict(sizes=(64, 0, 10)), ValueError, "sizes"),
    (dict(sizes=(64, 2.5, 10)), TypeError, "sizes"),
    (dict(sizes="64-10"), TypeError, "sizes"),
    (dict(sizes=5), TypeError, "sizes"),
    (dict(activation="sigmoid"), ValueError, "activation='sigmoid'"),
    (dict(activation=None), TypeError, "activation=None"),
    (dict(seed=-1), ValueError, "seed=-1"),
    (dict(seed=1.5), TypeError, "seed"),
    (dict(l2=-0.1), ValueError, "l2=-0.1"),
    (dict(l2=float("nan")), ValueError, "l2"),
])
def test_bad_network_arguments(kwargs, error, words):
    with pytest.raises(error, match=re.escape(words)):
        MLP(**kwargs)


def test_bad_data_and_parameters_name_the_argument():
    model = MLP(sizes=(4, 3, 2))
    p = model.init_params()
    X, y = np.ones((5, 4)), np.array([0, 1, 0, 1, 1])
    with pytest.raises(ValueError, match=r"y must have shape \(5,\)"):
        model.loss(p, X, y[:4])
    with pytest.raises(ValueError, match=r"X must have shape \(n, 4\)"):
        model.loss(p, np.ones((5, 3)), y)
    with pytest.raises(TypeError, match="y must be an array of whole-number"):
        model.loss(p, X, y.astype(float))
    with pytest.raises(ValueError, match="y must hold labels 0 ... 1"):
        model.loss(p, X, np.array([0, 1, 2, 0, 1]))
    with pytest.raises(TypeError, match="X must be an array of numbers"):
        model.loss(p, np.array([["a"] * 4] * 5), y)
    with pytest.raises(ValueError, match=r"missing \['b2'\]"):
        model.loss({k: v for k, v in p.items() if k != "b2"}, X, y)
    with pytest.raises(ValueError, match=r"params\['W1'\] must have shape \(4, 3\)"):
        model.loss({**p, "W1": np.ones((3, 4))}, X, y)
    with pytest.raises(TypeError, match="params must be a dict"):
        model.loss([p["W1"]], X, y)
    with pytest.raises(TypeError, match=r"params\['b1'\] must be a float ndarray"):
        model.loss({**p, "b1": np.zeros(3, dtype=int)}, X, y)
    with pytest.raises(ValueError, match=r"v\['W2'\] must have shape \(3, 2\)"):
        model.hessian_vector_product(p, X, y, {**p, "W2": np.ones((2, 3))})


def test_nan_in_the_data_is_an_error_not_a_nan_loss():
    """Before, a nan feature gave a loss of nan (and a training run that 'diverged')."""
    model = MLP(sizes=(4, 3, 2))
    p = model.init_params()
    X, y = np.ones((5, 4)), np.array([0, 1, 0, 1, 1])
    X[3, 2] = np.nan
    for call in (lambda: model.loss(p, X, y), lambda: model.loss_and_grads(p, X, y),
                 lambda: model.evaluate(p, X, y), lambda: model.accuracy(p, X, y),
                 lambda: model.predict(p, X), lambda: model.forward(p, X)):
        with pytest.raises(ValueError, match="X must hold finite numbers, got nan at row 3, "
                                             "column 2"):
            call()


def test_docstring_examples_run():
    result = doctest.testmod(optlib.network.model)
    assert result.attempted >= 6 and result.failed == 0
