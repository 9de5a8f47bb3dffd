"""The network of chapter 5 (``optlib.network``): gradients, loss, data, training, exploration.

* **gradients**: the backward pass agrees with central differences of the loss for every
  entry of every parameter (float64, small networks, ReLU and tanh, with and without L2)
  to 1e-6 relative; ``gradient_check`` agrees and catches a wrong gradient;
* **loss**: softmax cross-entropy against a direct computation and invariant to shifting
  the logits (no overflow for huge logits); the forward pass against matrices multiplied
  here; ``sharpness`` against the eigenvalues of a Hessian built from second differences;
* **data**: the digits split is deterministic, a partition of the data set, stratified,
  shuffled and scaled to [0, 1]; a missing scikit-learn gives a clear ImportError;
* **training**: same seed ⇒ identical History; every optimizer of a comparison starts
  from the same parameters and sees the same mini-batches; gradient descent with a small
  learning rate lowers the loss; a too-large one diverges quietly (no warning at all);
* **progress bars**: quiet with OPTLIB_QUIET=1 and in the book build;
* **exploration**: the static frames draw exactly the curves of independent training runs;
* bad input raises, naming the argument.
"""

from __future__ import annotations

import re
import sys
import warnings

import numpy as np
import pytest

import optlib
from optlib.explore import STATIC_ONLY_ENV, decode
from optlib.network import (
    QUIET_ENV,
    MLP,
    Digits,
    History,
    LearningRateExplorer,
    compare_optimizers,
    gradient_check,
    load_digits_split,
    lr_sweep,
    minibatches,
    one_hot,
    progress_enabled,
    sharpness,
    train,
)

RTOL_GRAD = 1e-6


@pytest.fixture(scope="module")
def digits() -> Digits:
    return load_digits_split()


@pytest.fixture(scope="module")
def small_data(digits) -> Digits:
    """A small slice of the digits, for fast training tests."""
    return Digits(digits.X_train[:300], digits.y_train[:300], digits.X_test[:100],
                  digits.y_test[:100])


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


def test_gradient_check_reports_small_errors_and_catches_a_wrong_gradient(monkeypatch):
    rng = np.random.default_rng(2)
    model = MLP(sizes=(5, 6, 4), activation="tanh")
    params = _perturbed(model.init_params(), rng)
    X, y = _batch(rng, d=5, k=4)
    errors = gradient_check(model, params, X, y)
    assert list(errors) == model.keys
    assert max(errors.values()) < RTOL_GRAD
    before = {k: v.copy() for k, v in params.items()}
    assert all(np.array_equal(params[k], before[k]) for k in params)   # left as it was

    right = model._loss_and_grads

    def wrong(p, X_, y_):          # forgets the 1/n of the mean in dW1
        loss, grads = right(p, X_, y_)
        grads["W1"] = grads["W1"] * X_.shape[0]
        return loss, grads

    monkeypatch.setattr(model, "_loss_and_grads", wrong)
    errors = gradient_check(model, params, X, y)
    assert errors["W1"] > 0.5 and errors["W2"] < RTOL_GRAD


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


def test_one_hot():
    np.testing.assert_array_equal(one_hot([2, 0, 1]), np.eye(3)[[2, 0, 1]])
    assert one_hot(np.array([1, 1]), n_classes=4).shape == (2, 4)
    with pytest.raises(ValueError, match="y must hold labels 0 ... 1"):
        one_hot([0, 2], n_classes=2)


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


# --------------------------------------------------------------------------- data
def test_digits_split_is_a_deterministic_stratified_partition(digits):
    from sklearn.datasets import load_digits

    full = load_digits()
    X, y = full.data / 16.0, full.target
    assert digits.X_train.shape == (1347, 64) and digits.X_test.shape == (450, 64)
    assert digits.X_train.dtype == np.float64 and digits.y_train.dtype == np.int64
    assert digits.X_train.min() == 0.0 and max(digits.X_train.max(), digits.X_test.max()) == 1.0
    assert digits.n_classes == 10 and digits.n_features == 64
    # a partition: the rows of train + test are the rows of the data set, each once
    both = np.column_stack([np.vstack([digits.X_train, digits.X_test]),
                            np.concatenate([digits.y_train, digits.y_test])])
    original = np.column_stack([X, y])
    key = lambda a: a[np.lexsort(a.T[::-1])]
    np.testing.assert_array_equal(key(both), key(original))
    # stratified: round(0.25 · n_c) test images of every class
    per_class = np.bincount(y, minlength=10)
    np.testing.assert_array_equal(np.bincount(digits.y_test, minlength=10),
                                  [round(0.25 * n) for n in per_class])
    # shuffled: the classes are mixed, not in blocks
    assert np.mean(np.diff(digits.y_train) == 0) < 0.3
    # deterministic, and the seed matters
    again = load_digits_split()
    assert all(np.array_equal(a, b) for a, b in zip(digits, again))
    other = load_digits_split(seed=1)
    assert not np.array_equal(digits.y_train, other.y_train)


def test_digits_split_without_stratification():
    split = load_digits_split(test_fraction=0.2, seed=3, stratify=False)
    assert split.X_test.shape[0] == round(0.2 * 1797)
    assert split.X_train.shape[0] + split.X_test.shape[0] == 1797
    again = load_digits_split(test_fraction=0.2, seed=3, stratify=False)
    assert np.array_equal(split.y_test, again.y_test)


def test_missing_scikit_learn_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="scikit-learn.*no download"):
        load_digits_split()


def test_minibatches_cover_an_epoch_once():
    batches = minibatches(10, 4, np.random.default_rng(0))
    assert [b.size for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))
    again = minibatches(10, 4, np.random.default_rng(0))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    assert len(minibatches(1347, 64, np.random.default_rng(1))) == 22
    assert [b.size for b in minibatches(5, 100, np.random.default_rng(0))] == [5]


# --------------------------------------------------------------------------- training
def _same_history(a: History, b: History) -> bool:
    curves = ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "step_loss")
    return all(np.array_equal(getattr(a, c), getattr(b, c), equal_nan=True) for c in curves) \
        and a.diverged_at_epoch == b.diverged_at_epoch \
        and all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


def test_same_seed_gives_an_identical_history(small_data):
    model = MLP(sizes=(64, 16, 10), seed=1)
    runs = [train(model, optlib.Adam(lr=1e-2), small_data, epochs=3, batch_size=32, seed=5,
                  progress=False) for _ in range(2)]
    assert _same_history(*runs)
    h = runs[0]
    assert h.train_loss.shape == h.test_accuracy.shape == (4,)
    assert h.steps_per_epoch == 10 and h.step_loss.shape == (30,)
    assert not h.diverged and h.diverged_at_epoch == -1
    assert h.final_test_accuracy == h.test_accuracy[-1]
    other = train(model, optlib.Adam(lr=1e-2), small_data, epochs=3, batch_size=32, seed=6,
                  progress=False)
    assert not np.array_equal(other.step_loss, h.step_loss)
    # the training starts from the model's parameters and leaves them alone
    assert h.train_loss[0] == pytest.approx(
        model.loss(model.init_params(), small_data.X_train, small_data.y_train), rel=1e-13)


def test_recorded_accuracy_and_loss_are_those_of_the_final_parameters(small_data):
    model = MLP(sizes=(64, 16, 10))
    h = train(model, optlib.Momentum(lr=0.5), small_data, epochs=2, progress=False)
    assert h.final_train_loss == pytest.approx(
        model.loss(h.params, small_data.X_train, small_data.y_train), rel=1e-13)
    assert h.final_test_accuracy == model.accuracy(h.params, small_data.X_test, small_data.y_test)
    assert h.final_train_accuracy == model.accuracy(h.params, small_data.X_train,
                                                    small_data.y_train)


def test_training_is_the_optimizer_on_the_minibatch_gradients(small_data):
    """One epoch of train() equals the loop written out here with minibatches()."""
    model = MLP(sizes=(64, 8, 10))
    h = train(model, optlib.Momentum(lr=0.3, beta=0.9), small_data, epochs=1, batch_size=50,
              seed=2, progress=False)
    params, opt = model.init_params(), optlib.Momentum(lr=0.3, beta=0.9)
    losses = []
    for idx in minibatches(300, 50, np.random.default_rng(2)):
        loss, grads = model.loss_and_grads(params, small_data.X_train[idx],
                                           small_data.y_train[idx])
        losses.append(loss)
        opt.step(params, grads)
    np.testing.assert_array_equal(h.step_loss, losses)
    assert all(np.array_equal(h.params[k], params[k]) for k in params)


def test_compare_optimizers_uses_the_same_start_and_batches(small_data):
    model = MLP(sizes=(64, 8, 10), seed=3)
    factories = {"GradientDescent": lambda: optlib.GradientDescent(lr=0.3),
                 "Adam": lambda: optlib.Adam(lr=1e-2),
                 "Nesterov": lambda: optlib.Momentum(lr=0.3, nesterov=True)}
    runs = compare_optimizers(model, factories, small_data, epochs=2, batch_size=40, seed=4,
                              progress=False)
    assert list(runs) == list(factories)
    assert len({h.train_loss[0] for h in runs.values()}) == 1
    for label, h in runs.items():
        assert h.label == label
        alone = train(model, factories[label](), small_data, epochs=2, batch_size=40, seed=4,
                      progress=False)
        assert _same_history(h, alone), label
    # the first mini-batch loss is the same for all (same parameters, same batch)
    assert len({h.step_loss[0] for h in runs.values()}) == 1


def test_lr_sweep(small_data):
    model = MLP(sizes=(64, 8, 10))
    runs = lr_sweep(model, optlib.Momentum, [0.1, 0.4], small_data, epochs=1, progress=False,
                    beta=0.5)
    assert list(runs) == [0.1, 0.4]
    alone = train(model, optlib.Momentum(lr=0.4, beta=0.5), small_data, epochs=1,
                  progress=False)
    assert _same_history(runs[0.4], alone)
    assert "beta=0.5" in runs[0.4].optimizer


def test_gradient_descent_with_a_small_learning_rate_lowers_the_loss(small_data):
    model = MLP(sizes=(64, 16, 10))
    n = small_data.X_train.shape[0]
    h = train(model, optlib.GradientDescent(lr=0.05), small_data, epochs=30, batch_size=n,
              progress=False)
    assert np.all(np.diff(h.train_loss) < 0)       # full batch, small steps: monotone
    assert h.final_train_loss < h.train_loss[0]


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_a_too_large_learning_rate_diverges_quietly(small_data, activation):
    model = MLP(sizes=(64, 16, 10), activation=activation)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = train(model, optlib.GradientDescent(lr=1e4), small_data, epochs=5, batch_size=50,
                  progress=False)
    assert h.diverged and 1 <= h.diverged_at_epoch <= 5
    e = h.diverged_at_epoch
    assert np.all(np.isfinite(h.train_loss[:e])) and np.all(np.isnan(h.train_loss[e:]))
    assert np.all(np.isnan(h.test_accuracy[e:])) and np.isnan(h.final_test_accuracy)
    assert np.all(np.isnan(h.step_loss[h.diverged_at_step:]))
    assert np.all(np.isfinite(h.step_loss[:h.diverged_at_step]))


def test_divergence_threshold(small_data):
    model = MLP(sizes=(64, 16, 10))
    h = train(model, optlib.GradientDescent(lr=0.1), small_data, epochs=2, max_loss=1.0,
              progress=False)
    assert h.diverged_at_epoch == 0 and np.all(np.isnan(h.train_loss))


# --------------------------------------------------------------------------- progress bars
def test_progress_is_quiet_when_asked_or_in_the_book_build(monkeypatch, small_data, capsys):
    model = MLP(sizes=(64, 4, 10))
    monkeypatch.delenv(STATIC_ONLY_ENV, raising=False)
    monkeypatch.setenv(QUIET_ENV, "1")
    assert progress_enabled(None) is False
    train(model, optlib.GradientDescent(lr=0.1), small_data, epochs=2, progress=None)
    compare_optimizers(model, {"a": lambda: optlib.Adam()}, small_data, epochs=1)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""

    monkeypatch.delenv(QUIET_ENV)
    monkeypatch.setenv(STATIC_ONLY_ENV, "1")
    assert progress_enabled(None) is False
    train(model, optlib.GradientDescent(lr=0.1), small_data, epochs=2)
    assert capsys.readouterr().err == ""

    monkeypatch.delenv(STATIC_ONLY_ENV)
    assert progress_enabled(None) is True
    assert progress_enabled(False) is False
    # an explicit request shows a bar (on stderr outside a notebook), and the result is the same
    quiet = train(model, optlib.GradientDescent(lr=0.1), small_data, epochs=2, progress=False)
    shown = train(model, optlib.GradientDescent(lr=0.1), small_data, epochs=2, progress=True,
                  label="gd")
    assert "gd" in capsys.readouterr().err
    assert _same_history(quiet, shown)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, error, words", [
    (dict(sizes=(64,)), ValueError, "sizes"),
    (dict(sizes=(64, 0, 10)), ValueError, "sizes"),
    (dict(sizes=(64, 2.5, 10)), TypeError, "sizes"),
    (dict(sizes="64-10"), TypeError, "sizes"),
    (dict(sizes=5), TypeError, "sizes"),
    (dict(activation="sigmoid"), ValueError, "activation='sigmoid'"),
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


def test_bad_training_arguments_name_the_argument(small_data):
    model = MLP(sizes=(64, 4, 10))
    gd = optlib.GradientDescent(lr=0.1)
    for kwargs, error, words in [
        (dict(batch_size=0), ValueError, "batch_size=0"),
        (dict(batch_size=-5), ValueError, "batch_size=-5"),
        (dict(batch_size=2.0), TypeError, "batch_size"),
        (dict(epochs=0), ValueError, "epochs=0"),
        (dict(seed=-2), ValueError, "seed=-2"),
        (dict(max_loss=0.0), ValueError, "max_loss"),
        (dict(progress="yes"), TypeError, "progress='yes'"),
    ]:
        with pytest.raises(error, match=re.escape(words)):
            train(model, gd, small_data, **{"epochs": 1, **kwargs})
    with pytest.raises(TypeError, match="optimizer must be an optlib optimizer"):
        train(model, "adam", small_data)
    with pytest.raises(TypeError, match="model must be an optlib.network.MLP"):
        train(None, gd, small_data)
    with pytest.raises(TypeError, match="data must be a Digits split"):
        train(model, gd, small_data.X_train)
    bad = Digits(small_data.X_train, small_data.y_train[:-1], small_data.X_test,
                 small_data.y_test)
    with pytest.raises(ValueError, match="y_train must have shape"):
        train(model, gd, bad)
    with pytest.raises(ValueError, match="X_train must have shape"):
        train(MLP(sizes=(10, 10)), gd, small_data)
    with pytest.raises(TypeError, match=r"optimizers\['a'\] must be a function"):
        compare_optimizers(model, {"a": gd}, small_data)
    with pytest.raises(TypeError, match=r"optimizers\['a'\]\(\) must return an optlib"):
        compare_optimizers(model, {"a": lambda: None}, small_data)
    with pytest.raises(TypeError, match="optimizers must be a non-empty dict"):
        compare_optimizers(model, {}, small_data)
    with pytest.raises(ValueError, match="batch_size=0"):
        minibatches(10, 0, np.random.default_rng())
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        minibatches(10, 2, 0)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(test_fraction=0.0), ValueError, "test_fraction=0.0"),
    (dict(test_fraction=1.0), ValueError, "test_fraction=1.0"),
    (dict(test_fraction="a"), TypeError, "test_fraction"),
    (dict(seed=-1), ValueError, "seed=-1"),
    (dict(stratify="yes"), TypeError, "stratify"),
])
def test_bad_split_arguments(kwargs, error, words):
    with pytest.raises(error, match=re.escape(words)):
        load_digits_split(**kwargs)


# --------------------------------------------------------------------------- exploration
SCALES = (0.5, 1.0, 4.0, 1e4)
FACTORIES = {"GradientDescent": lambda: optlib.GradientDescent(lr=0.5),
             "Adam": lambda: optlib.Adam(lr=1e-2)}
EPOCHS = 3


@pytest.fixture(scope="module")
def explorer(small_data):
    return LearningRateExplorer(MLP(sizes=(64, 8, 10)), FACTORIES, small_data, scales=SCALES,
                                epochs=EPOCHS, batch_size=50, seed=1, progress=False,
                                name="network_lr_test")


def _independent(small_data, label, scale) -> History:
    lr = FACTORIES[label]().lr * scale
    opt = optlib.GradientDescent(lr=lr) if label == "GradientDescent" else optlib.Adam(lr=lr)
    return train(MLP(sizes=(64, 8, 10)), opt, small_data, epochs=EPOCHS, batch_size=50, seed=1,
                 progress=False)


def test_exploration_runs_are_independent_training_runs(explorer, small_data):
    assert explorer.shape == (len(SCALES),)
    assert explorer.base_lrs == {"GradientDescent": 0.5, "Adam": 1e-2}
    for label in FACTORIES:
        for i, scale in enumerate(SCALES):
            assert _same_history(explorer.histories[label][i],
                                 _independent(small_data, label, scale)), (label, scale)
    assert explorer.histories["GradientDescent"][-1].diverged    # lr = 5000


def test_static_frames_draw_the_independent_curves(explorer, small_data):
    """Decode every static frame and map it back to data coordinates through the axes."""
    frames = explorer.static_frames()
    names = list(explorer._artists)
    height = explorer.figure.bbox.height
    compared = 0
    for i, scale in enumerate(SCALES):
        for label in FACTORIES:
            h = _independent(small_data, label, scale)
            for kind, curve in (("loss", h.train_loss), ("acc", h.test_accuracy)):
                artist = explorer._artists[f"{kind}:{label}"]
                ax = artist.axes
                pieces = decode(frames[i]["lines"][names.index(f"{kind}:{label}")], data_only=True)
                got = np.concatenate(pieces) if pieces else np.zeros((0, 2))
                got[:, 1] = height - got[:, 1]
                want = ax.transData.transform(np.column_stack([np.arange(EPOCHS + 1), curve]))
                lo, hi = ax.get_ylim()
                show = np.isfinite(curve) & (curve >= lo) & (curve <= hi)
                assert got.shape == (int(show.sum()), 2), (label, scale, kind)
                np.testing.assert_allclose(got, want[show], atol=0.051)
                compared += got.shape[0]
        readout = frames[i]["readout"]
        assert readout == explorer.frame((i,))[1]
        assert f"α/α₀ = {scale:g}" in readout
        for label in FACTORIES:
            h = _independent(small_data, label, scale)
            lr = FACTORIES[label]().lr * scale
            expect = (f"diverged in epoch {h.diverged_at_epoch}" if h.diverged
                      else f"test accuracy {h.final_test_accuracy:.3f}")
            assert f"<b>{label}</b> α = {lr:.3g}: {expect}" in readout
    assert compared >= 3 * len(SCALES) * len(FACTORIES)


def test_live_view_shows_the_same_frames(explorer):
    w = explorer.widget()
    artist = explorer._artists["loss:Adam"]
    for k in (0, 2):
        w.controls[0].value = k
        x, y = artist.get_data()
        np.testing.assert_array_equal(y, explorer.histories["Adam"][k].train_loss)
        assert w.readout.value == explorer.frame((k,))[1]


def test_exploration_static_html_is_small_and_self_contained(explorer):
    page = explorer.static_html()
    assert page.startswith('<div class="optlib-exploration"')
    assert 'data-exploration="network_lr_test"' in page
    assert len(page.encode()) < 300_000
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page)


def test_exploration_bad_scales(small_data):
    for scales in ((), (1.0, -1.0), (1.0, 1.0), ("a",)):
        with pytest.raises(ValueError, match="scales must be"):
            LearningRateExplorer(MLP(sizes=(64, 4, 10)), FACTORIES, small_data, scales=scales,
                                 epochs=1, progress=False)
