"""optlib.network.diagnostics: the gradient check, the sharpness, and shadow runs.

* ``gradient_check`` reports small errors for the backward pass and catches a wrong one;
* ``sharpness`` is the top eigenvalue of a Hessian built from second differences;
* ``perturb_ulps`` moves every non-zero entry by exactly one ulp (``numpy.nextafter``),
  both ways, reproducibly, and leaves its input alone;
* ``shadow_distance``/``erratic``: a contracting run and its shadow end 1e-15 apart and
  are not erratic; a run near divergence (RMSprop with a large rate) ends far from its
  shadow, with another test accuracy, and is erratic; diverged runs compare by when;
* bad input raises, naming the argument; the docstring examples run.
"""

from __future__ import annotations

import doctest
import math
from types import SimpleNamespace

import numpy as np
import pytest

import optlib
import optlib.network.diagnostics
from optlib.network import (
    ERRATIC_DISTANCE, MLP, erratic, gradient_check, perturb_ulps, shadow_distance, sharpness,
    train,
)

RTOL_GRAD = 1e-6


def _batch(rng, n=7, d=5, k=4):
    return rng.normal(size=(n, d)), rng.integers(0, k, size=n)


def _perturbed(params, rng, scale=0.3):
    return {k: v + scale * rng.normal(size=v.shape) for k, v in params.items()}


# --------------------------------------------------------------------------- gradient check
def test_gradient_check_reports_small_errors_and_catches_a_wrong_gradient(monkeypatch):
    rng = np.random.default_rng(2)
    model = MLP(sizes=(5, 6, 4), activation="tanh")
    params = _perturbed(model.init_params(), rng)
    X, y = _batch(rng, d=5, k=4)
    before = {k: v.copy() for k, v in params.items()}
    errors = gradient_check(model, params, X, y)
    assert list(errors) == model.keys
    assert max(errors.values()) < RTOL_GRAD
    assert all(np.array_equal(params[k], before[k]) for k in params)   # left as it was

    right = model.loss_and_grads

    def wrong(p, X_, y_, **kwargs):          # forgets the 1/n of the mean in dW1
        loss, grads = right(p, X_, y_, **kwargs)
        grads["W1"] = grads["W1"] * X_.shape[0]
        return loss, grads

    monkeypatch.setattr(model, "loss_and_grads", wrong)
    errors = gradient_check(model, params, X, y)
    assert errors["W1"] > 0.5 and errors["W2"] < RTOL_GRAD


def test_gradient_check_bad_input():
    model = MLP(sizes=(3, 2))
    p = model.init_params()
    X, y = np.ones((2, 3)), np.array([0, 1])
    with pytest.raises(ValueError, match="h=0"):
        gradient_check(model, p, X, y, h=0)
    with pytest.raises(TypeError, match="model must be an optlib.network.MLP"):
        gradient_check("net", p, X, y)
    with pytest.raises(ValueError, match="X must hold finite numbers"):
        gradient_check(model, p, np.full((2, 3), np.inf), y)


# --------------------------------------------------------------------------- sharpness
def test_sharpness_is_the_top_eigenvalue_of_the_hessian():
    """Against numpy's eigenvalues of a Hessian built from second differences of the loss."""
    rng = np.random.default_rng(6)
    model = MLP(sizes=(3, 3, 2), activation="tanh")
    params = _perturbed(model.init_params(), rng, scale=0.5)
    X, y = _batch(rng, n=10, d=3, k=2)
    keys = model.keys
    shapes = [params[k].shape for k in keys]
    w = np.concatenate([params[k].ravel() for k in keys])

    def loss(vec):
        out, i = {}, 0
        for k, s in zip(keys, shapes):
            n = int(np.prod(s))
            out[k] = vec[i:i + n].reshape(s)
            i += n
        return model.loss(out, X, y)

    h, m = 1e-4, w.size
    H = np.empty((m, m))
    E = np.eye(m) * h
    for i in range(m):
        for j in range(m):
            H[i, j] = (loss(w + E[i] + E[j]) - loss(w + E[i] - E[j]) - loss(w - E[i] + E[j])
                       + loss(w - E[i] - E[j])) / (4 * h * h)
    eig = np.linalg.eigvalsh((H + H.T) / 2)
    top = eig[np.argmax(np.abs(eig))]
    assert sharpness(model, params, X, y, iters=300) == pytest.approx(top, rel=1e-4)
    # the Hessian-vector products are the columns of that Hessian
    for i in (0, 5, m - 1):
        e = np.zeros(m)
        e[i] = 1.0
        parts = np.split(e, np.cumsum([int(np.prod(s)) for s in shapes])[:-1])
        hv = model.hessian_vector_product(params, X, y, {k: p.reshape(s) for k, p, s in
                                                         zip(keys, parts, shapes)})
        np.testing.assert_allclose(np.concatenate([hv[k].ravel() for k in keys]), H[:, i],
                                   rtol=1e-4, atol=1e-6)


def test_sharpness_bad_input():
    model = MLP(sizes=(3, 2))
    p = model.init_params()
    X, y = np.ones((2, 3)), np.array([0, 1])
    with pytest.raises(ValueError, match="iters=0"):
        sharpness(model, p, X, y, iters=0)
    with pytest.raises(TypeError, match="seed"):
        sharpness(model, p, X, y, seed=0.5)


# --------------------------------------------------------------------------- perturb_ulps
def test_perturb_ulps_moves_every_nonzero_entry_by_exactly_one_ulp():
    rng = np.random.default_rng(3)
    params = {"W": rng.normal(size=(40, 30)), "b": np.zeros(30), "v": np.array([1e-300, -5.0])}
    params["b"][:5] = rng.normal(size=5)
    before = {k: v.copy() for k, v in params.items()}
    moved = perturb_ulps(params)
    assert all(np.array_equal(params[k], before[k]) for k in params)        # input untouched
    for k, v in params.items():
        m = moved[k]
        assert m.dtype == v.dtype and m.shape == v.shape
        nonzero = v != 0
        up, down = np.nextafter(v, np.inf), np.nextafter(v, -np.inf)
        assert np.all((m == up) | (m == down) | ~nonzero), k
        assert np.all(m[~nonzero] == 0.0) and np.all(m[nonzero] != v[nonzero]), k
    # both directions occur; the same seed gives the same directions, another seed others
    signs = np.sign(moved["W"] - params["W"])
    assert 0.4 < np.mean(signs > 0) < 0.6
    assert np.array_equal(perturb_ulps(params)["W"], moved["W"])
    assert not np.array_equal(perturb_ulps(params, seed=1)["W"], moved["W"])
    # three ulps: three nextafter steps
    three = perturb_ulps({"w": np.array([1.0])}, ulps=3)["w"][0]
    assert abs(three - 1.0) in (3 * np.spacing(1.0), 3 * np.spacing(1.0) / 2)


def test_perturb_ulps_bad_input():
    with pytest.raises(TypeError, match="params must be a dict"):
        perturb_ulps([np.ones(2)])
    with pytest.raises(TypeError, match="params must be a dict"):
        perturb_ulps({"w": np.ones(2, dtype=int)})
    with pytest.raises(ValueError, match="ulps=0"):
        perturb_ulps({"w": np.ones(2)}, ulps=0)


# --------------------------------------------------------------------------- shadows
def _run(**kw):
    base = dict(params={"w": np.array([3.0, 4.0])}, diverged=False, diverged_at_step=-1,
                diverged_at_epoch=-1, final_train_accuracy=0.9, final_test_accuracy=0.8)
    return SimpleNamespace(**{**base, **kw})


def test_shadow_distance_and_erratic_on_made_up_runs():
    a = _run()
    assert shadow_distance(a, _run()) == 0.0 and not erratic(a, _run())
    near = _run(params={"w": np.array([3.0, 4.0 + 5e-4])})                  # 1e-4 apart
    assert shadow_distance(a, near) == pytest.approx(1e-4)
    assert not erratic(a, near) and erratic(a, near, far=1e-5)
    far = _run(params={"w": np.array([3.0, 4.0 + 5 * ERRATIC_DISTANCE * 1.01])})
    assert erratic(a, far)
    # an outcome a reader sees differs: erratic, however near the parameters
    assert erratic(a, _run(final_test_accuracy=0.81))
    assert erratic(a, _run(final_train_accuracy=0.91))
    # diverged runs compare by when
    gone = dict(diverged=True, diverged_at_epoch=2, diverged_at_step=30,
                final_train_accuracy=np.nan, final_test_accuracy=np.nan)
    assert shadow_distance(_run(**gone), _run(**gone)) == 0.0
    assert not erratic(_run(**gone), _run(**gone))
    assert shadow_distance(_run(**gone), _run(**{**gone, "diverged_at_step": 31})) == math.inf
    assert shadow_distance(a, _run(**gone)) == math.inf and erratic(a, _run(**gone))
    assert erratic(_run(**gone), _run(**{**gone, "diverged_at_epoch": 3, "diverged_at_step": 50}))


@pytest.fixture(scope="module")
def near_divergence(small_data):
    """RMSprop at a rate near its edge: one ulp in the start changes the outcome."""
    return train(MLP(sizes=(64, 32, 10)), optlib.RMSprop(lr=0.16), small_data, epochs=20,
                 batch_size=32, progress=False, shadow=True)


def test_a_run_near_divergence_is_erratic(near_divergence, small_data, same_history):
    h = near_divergence
    assert h.shadow is not None and h.shadow.label == "RMSprop (shadow)"
    assert h.shadow_distance > 100 * ERRATIC_DISTANCE
    assert h.erratic and erratic(h, h.shadow)
    assert abs(h.final_test_accuracy - h.shadow.final_test_accuracy) > 0.05
    # the shadow is the same run from perturb_ulps(start), and the run is the run without one
    model = MLP(sizes=(64, 32, 10))
    alone = train(model, optlib.RMSprop(lr=0.16), small_data, epochs=20, batch_size=32,
                  progress=False)
    assert alone.shadow is None and same_history(alone, h)
    twin = train(model, optlib.RMSprop(lr=0.16), small_data, epochs=20, batch_size=32,
                 params=perturb_ulps(model.init_params()), progress=False)
    assert same_history(twin, h.shadow)


def test_a_contracting_run_is_not_erratic(small_data):
    h = train(MLP(sizes=(64, 32, 10)), optlib.RMSprop(lr=0.04), small_data, epochs=20,
              batch_size=32, progress=False, shadow=True)
    assert h.shadow_distance < 1e-12
    assert not h.erratic
    assert h.final_test_accuracy == h.shadow.final_test_accuracy


def test_erratic_needs_a_shadow(small_data):
    h = train(MLP(sizes=(64, 4, 10)), optlib.GradientDescent(lr=0.1), small_data, epochs=1,
              progress=False)
    assert np.isnan(h.shadow_distance)
    with pytest.raises(ValueError, match="no shadow run.*shadow=True"):
        h.erratic


def test_docstring_examples_run():
    result = doctest.testmod(optlib.network.diagnostics)
    assert result.attempted >= 10 and result.failed == 0
