"""optlib.network.diagnostics: Adam's preconditioner and the preconditioned sharpness λ_max(P⁻¹H).

* ``diagonal_preconditioner`` is Cohen et al.'s (2022) P_t: Adam's step is exactly
  ``-α P_t⁻¹ m_t`` with the EMA momentum m_t (also with amsgrad, and RMSprop's with
  P = √s + ε), and its entries are recomputed here from the gradients by hand;
* ``preconditioned_sharpness`` against closed forms: softmax regression at zero weights has
  the Hessian (1/n) Σ x̃x̃ᵀ ⊗ (I/k − 11ᵀ/k²), whose P⁻¹H eigenvalues numpy computes; and against
  a dense Hessian from second differences of the loss of a small tanh network, with an Adam
  after a few steps (and with Adam's L2 weight decay, which adds δ to H);
* the measurement changes neither the optimizer nor the parameters;
* bad input raises, naming the argument; the docstring examples run.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import optlib
import optlib.network.diagnostics
from optlib.network import MLP, diagonal_preconditioner, preconditioned_sharpness, sharpness


def _top(matrix) -> float:
    """The eigenvalue of largest magnitude (numpy, on the full matrix)."""
    eig = np.linalg.eigvals(matrix)
    top = eig[np.argmax(np.abs(eig))]
    assert abs(top.imag) < 1e-9 * abs(top)
    return float(top.real)


def _flat(model, d):
    return np.concatenate([np.asarray(d[k], dtype=float).ravel() for k in model.keys])


def _dense_hessian(model, params, X, y, h=1e-4):
    """The Hessian of the loss from second differences (no Hessian-vector product)."""
    keys, shapes = model.keys, [params[k].shape for k in model.keys]
    w = _flat(model, params)

    def loss(vec):
        out, i = {}, 0
        for k, s in zip(keys, shapes):
            n = int(np.prod(s))
            out[k] = vec[i:i + n].reshape(s)
            i += n
        return model.loss(out, X, y)

    m = w.size
    H, E = np.empty((m, m)), np.eye(m) * h
    for i in range(m):
        for j in range(i, m):
            H[i, j] = H[j, i] = (loss(w + E[i] + E[j]) - loss(w + E[i] - E[j])
                                 - loss(w - E[i] + E[j]) + loss(w - E[i] - E[j])) / (4 * h * h)
    return H


# --------------------------------------------------------------------------- the preconditioner
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adams_step_is_minus_alpha_p_inverse_times_the_ema_momentum(amsgrad):
    """Cohen et al.'s P_t, with both bias corrections, makes Adam's step -α P_t⁻¹ m_t."""
    rng = np.random.default_rng(0)
    params = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    opt = optlib.Adam(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-3, amsgrad=amsgrad)
    for t in range(1, 6):
        grads = {k: rng.normal(size=v.shape) * (3.0 if t == 2 else 1.0) for k, v in params.items()}
        before = {k: v.copy() for k, v in params.items()}
        opt.step(params, grads)
        P = diagonal_preconditioner(opt)
        m = opt.state
        for k in params:
            np.testing.assert_allclose(params[k] - before[k], -0.05 * m[k]["exp_avg"] / P[k],
                                       rtol=1e-12, atol=1e-15)


def test_the_preconditioner_recomputed_by_hand():
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    g = [np.array([2.0, -1.0, 0.5]), np.array([1.0, 3.0, -0.5]), np.array([0.0, 1.0, 1.0])]
    opt = optlib.Adam(lr=0.1, beta1=beta1, beta2=beta2, eps=eps)
    w = np.zeros(3)
    s = np.zeros(3)
    for t, grad in enumerate(g, start=1):
        opt.step(w, grad)
        s = [beta2 * s[i] + (1 - beta2) * grad[i] ** 2 for i in range(3)]
        by_hand = [(1 - beta1 ** t) * (math.sqrt(s[i] / (1 - beta2 ** t)) + eps) for i in range(3)]
        np.testing.assert_allclose(diagonal_preconditioner(opt), by_hand, rtol=1e-13)
    # RMSprop: P = √s + ε, without corrections; a list of parameters gives a list
    rms = optlib.RMSprop(lr=0.1, beta=0.5, eps=1e-3)
    ws = [np.zeros(2), np.zeros(1)]
    rms.step(ws, [np.array([2.0, 4.0]), np.array([-6.0])])
    out = diagonal_preconditioner(rms)
    np.testing.assert_allclose(out[0], [math.sqrt(0.5 * 4) + 1e-3, math.sqrt(0.5 * 16) + 1e-3])
    np.testing.assert_allclose(out[1], [math.sqrt(0.5 * 36) + 1e-3])


# --------------------------------------------------------------------------- λ_max(P⁻¹H)
def test_softmax_regression_at_zero_against_its_closed_form_hessian():
    """At W = 0, b = 0: P = 1/k for every class, so H = (1/n) Σᵢ x̃ᵢx̃ᵢᵀ ⊗ (I/k − 11ᵀ/k²) with
    x̃ = (x, 1), in the order W (row by row), then b."""
    rng = np.random.default_rng(5)
    n, d, k = 12, 3, 4
    X, y = rng.normal(size=(n, d)), rng.integers(0, k, size=n)
    model = MLP(sizes=(d, k))
    zeros = {"W1": np.zeros((d, k)), "b1": np.zeros(k)}
    Xt = np.hstack([X, np.ones((n, 1))])
    H = np.kron(Xt.T @ Xt / n, np.eye(k) / k - np.ones((k, k)) / k ** 2)
    P = {"W1": rng.uniform(0.1, 2.0, size=(d, k)), "b1": rng.uniform(0.1, 2.0, size=k)}
    expected = _top(np.diag(1.0 / _flat(model, P)) @ H)
    assert preconditioned_sharpness(model, zeros, X, y, P, iters=3000) == pytest.approx(
        expected, rel=1e-8)
    # P = I gives the sharpness; P = c·I divides it by c
    ones = {key: np.ones_like(v) for key, v in P.items()}
    assert preconditioned_sharpness(model, zeros, X, y, ones, iters=3000) == pytest.approx(
        _top(H), rel=1e-8)
    assert sharpness(model, zeros, X, y, iters=3000) == pytest.approx(_top(H), rel=1e-8)
    half = {key: np.full_like(v, 4.0) for key, v in P.items()}
    assert preconditioned_sharpness(model, zeros, X, y, half, iters=3000) == pytest.approx(
        _top(H) / 4, rel=1e-8)


@pytest.mark.parametrize("weight_decay", [0.0, 0.3])
def test_a_small_network_after_some_adam_steps_against_a_dense_hessian(weight_decay):
    rng = np.random.default_rng(6)
    model = MLP(sizes=(3, 3, 2), activation="tanh")
    params = {k: v + 0.4 * rng.normal(size=v.shape) for k, v in model.init_params().items()}
    X, y = rng.normal(size=(10, 3)), rng.integers(0, 2, size=10)
    opt = optlib.Adam(lr=0.05, weight_decay=weight_decay)
    for _ in range(4):
        _, grads = model.loss_and_grads(params, X, y)
        opt.step(params, grads)
    state, t = opt.state, opt.t
    P = np.concatenate([(1 - 0.9 ** t) * (np.sqrt(state[key]["exp_avg_sq"].ravel()
                                                  / (1 - 0.999 ** t)) + 1e-8)
                        for key in model.keys])
    H = _dense_hessian(model, params, X, y) + weight_decay * np.eye(P.size)
    expected = _top(np.diag(1.0 / P) @ H)
    saved_params = {k: v.copy() for k, v in params.items()}
    saved_state = opt.state_dict()
    got = preconditioned_sharpness(model, params, X, y, opt, iters=2000)
    assert got == pytest.approx(expected, rel=1e-4)
    # the optimizer's own eigenvalue problem differs from H's: the preconditioner matters
    assert abs(got - _top(H)) > 0.1 * abs(got)
    # nothing was changed
    assert all(np.array_equal(params[k], saved_params[k]) for k in params)
    after = opt.state_dict()
    assert after["t"] == saved_state["t"]
    assert all(np.array_equal(after["state"][k][b], saved_state["state"][k][b])
               for k in after["state"] for b in after["state"][k])


def test_adamws_decoupled_decay_is_not_part_of_the_hessian():
    rng = np.random.default_rng(8)
    model = MLP(sizes=(3, 2))
    params = model.init_params()
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6)
    adamw = optlib.AdamW(lr=0.01, weight_decay=0.5)
    _, grads = model.loss_and_grads(params, X, y)
    adamw.step(params, grads)
    P = diagonal_preconditioner(adamw)
    assert preconditioned_sharpness(model, params, X, y, adamw, iters=500) == pytest.approx(
        preconditioned_sharpness(model, params, X, y, P, iters=500), rel=1e-12)


# --------------------------------------------------------------------------- bad input
def test_bad_input_names_the_argument():
    model = MLP(sizes=(3, 2))
    p = model.init_params()
    X, y = np.ones((2, 3)), np.array([0, 1])
    good = {k: np.ones_like(v) for k, v in p.items()}
    with pytest.raises(ValueError, match="no step yet"):
        preconditioned_sharpness(model, p, X, y, optlib.Adam())
    with pytest.raises(TypeError, match="optimizer must be an optlib Adam, AdamW or RMSprop"):
        diagonal_preconditioner(optlib.Momentum(lr=0.1))
    sgd = optlib.GradientDescent(lr=0.1)
    sgd.step({k: v.copy() for k, v in p.items()}, good)
    with pytest.raises(TypeError, match="Adam, AdamW or RMSprop"):
        preconditioned_sharpness(model, p, X, y, sgd)
    other = optlib.Adam()
    other.step(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="stepped on this network's parameters"):
        preconditioned_sharpness(model, p, X, y, other)
    batched = optlib.Adam(lr=np.array([[0.1], [0.2]]), beta1=np.array([[0.9], [0.8]]))
    batched.step(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="beta1 must be a single number"):
        diagonal_preconditioner(batched)
    for bad in (0.0, -1.0, np.inf, np.nan):
        P = {k: v.copy() for k, v in good.items()}
        P["b1"][0] = bad
        with pytest.raises(ValueError, match="finite numbers > 0"):
            preconditioned_sharpness(model, p, X, y, P)
    with pytest.raises(ValueError, match="preconditioner must have the keys"):
        preconditioned_sharpness(model, p, X, y, {"W1": good["W1"]})
    with pytest.raises(ValueError, match="iters=0"):
        preconditioned_sharpness(model, p, X, y, good, iters=0)
    with pytest.raises(TypeError, match="seed"):
        preconditioned_sharpness(model, p, X, y, good, seed=0.5)
    no_eps = optlib.Adam(eps=0.0)
    no_eps.step({k: v.copy() for k, v in p.items()}, {k: np.zeros_like(v) for k, v in p.items()})
    with pytest.raises(ValueError, match="no inverse"):
        preconditioned_sharpness(model, p, X, y, no_eps)


def test_docstring_examples_run():
    result = doctest.testmod(optlib.network.diagnostics)
    assert result.failed == 0
    names = [t.name for t in doctest.DocTestFinder().find(optlib.network.diagnostics)
             if t.examples]
    assert any(n.endswith("preconditioned_sharpness") for n in names)
    assert any(n.endswith("diagonal_preconditioner") for n in names)
