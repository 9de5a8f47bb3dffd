"""Chapter 5's exercise checks: answers worked out independently here — counted from the
data set's class sizes, closed forms, and a network, its backward pass, Adam and the
training loop written again in plain numpy below (not optlib's) — pass; estimates, swapped
orders and other likely mistakes fail with a hint. What every exercise must do for a
learner (malformed answers, messages) is tested for all chapters in
tests/exercises/test_registry.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optlib.exercises import Feedback, check
from optlib.exercises import ch05
from network_reference import forward_backward, sharpness_by_lanczos

IDS = ("5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7")


# --------------------------------------------------------------------------- plain numpy


@pytest.fixture(scope="module")
def digits():
    """The chapter's split, rebuilt from scikit-learn: round(0.25 · n_c) of every class held
    out, drawn with numpy's default_rng(0) as the chapter describes; the test compares it
    with optlib's split only through the class counts, which the answers need."""
    from sklearn.datasets import load_digits

    d = load_digits()
    X, y = d.data / 16.0, d.target
    from optlib.network import load_digits_split

    split = load_digits_split(test_fraction=0.25, seed=0)
    # the counts follow from the class sizes alone
    sizes = np.bincount(y)
    train_counts = np.array([n - round(0.25 * n) for n in sizes])
    assert np.array_equal(np.bincount(split.y_train), train_counts)
    # every training image is one of the data set's images, with its label
    rows = {tuple(r): lab for r, lab in zip(X, y)}
    assert all(rows[tuple(r)] == lab for r, lab in zip(split.X_train[:50], split.y_train[:50]))
    return split, train_counts


def he_glorot(sizes, seed):
    """The initial parameters as MLP.init_params documents them (He for hidden ReLU layers,
    Glorot for the output layer, zero biases, one default_rng(seed) layer by layer)."""
    rng, params = np.random.default_rng(seed), {}
    for l in range(1, len(sizes)):
        fan_in, fan_out = sizes[l - 1], sizes[l]
        var = 2.0 / fan_in if l < len(sizes) - 1 else 2.0 / (fan_in + fan_out)
        params[f"W{l}"] = rng.normal(0.0, np.sqrt(var), size=(fan_in, fan_out))
        params[f"b{l}"] = np.zeros(fan_out)
    return params


def gd_full_batch(params, X, y, lr, steps):
    """Full-batch gradient descent; the loss at every point a step is taken from."""
    p = {k: v.copy() for k, v in params.items()}
    losses = []
    with np.errstate(all="ignore"):
        for _ in range(steps):
            loss, g = forward_backward(p, X, y)
            if not np.isfinite(loss) or loss > 1e3:
                return np.array(losses), True
            losses.append(loss)
            for k in p:
                p[k] -= lr * g[k]
    return np.array(losses), False


# --------------------------------------------------------------------------- the answers


@pytest.fixture(scope="module")
def right(digits):
    split, counts = digits
    X, y = split.X_train, split.y_train
    n = int(counts.sum())
    f8 = counts[8] / n
    answers = {
        # 5.1: ⌈1347/100⌉ batches, the last holds what is left, 15 epochs
        "5.1": (math.ceil(n / 100), n - 100 * (math.ceil(n / 100) - 1), 15 * math.ceil(n / 100)),
        # 5.2: P = (1, ..., 9, 1)/18 for every image: 8s cost ln 2, the others ln 18
        "5.2": f8 * math.log(2) + (1 - f8) * math.log(18),
        # 5.3: db2 = mean(P − Y): P_8 = 1/2, P_0 = 1/18, minus the shares of 8s and of 0s
        "5.3": (0.5 - f8, 1 / 18 - counts[0] / n),
    }
    # 5.4: Adam by hand on the dict, own gradients, the chapter's first three batches
    p = he_glorot((64, 32, 10), 0)
    order = np.random.default_rng(0).permutation(n)
    v = {k: np.zeros_like(a) for k, a in p.items()}
    s = {k: np.zeros_like(a) for k, a in p.items()}
    lr, b1, b2, eps = 0.005, 0.8, 0.99, 1e-8
    for t in (1, 2, 3):
        idx = order[64 * (t - 1):64 * t]
        _, g = forward_backward(p, X[idx], y[idx])
        for k in p:
            v[k] = b1 * v[k] + (1 - b1) * g[k]
            s[k] = b2 * s[k] + (1 - b2) * g[k] ** 2
            p[k] -= lr * (v[k] / (1 - b1 ** t)) / (np.sqrt(s[k] / (1 - b2 ** t)) + eps)
    answers["5.4"] = tuple(p["b2"])
    # 5.5: one epoch of mini-batch gradient descent with each batch size
    finals = []
    for size in (16, 256):
        q = he_glorot((64, 32, 10), 0)
        order = np.random.default_rng(0).permutation(n)
        for start in range(0, n, size):
            idx = order[start:start + size]
            _, g = forward_backward(q, X[idx], y[idx])
            for k in q:
                q[k] -= 0.5 * g[k]
        finals.append(forward_backward(q, X, y)[0])
    answers["5.5"] = "smaller" if finals[0] < finals[1] else "larger"
    # 5.6: the deeper network's backward pass
    _, g = forward_backward(he_glorot((64, 16, 16, 10), 5), X[:8], y[:8])
    answers["5.6"] = tuple(np.linalg.norm(g[f"W{l}"]) for l in (1, 2, 3))
    # 5.7: full-batch gradient descent at 2.5/λ_max
    start = he_glorot((64, 32, 10), 0)
    lam = sharpness_by_lanczos(start, X, y)
    losses, diverged = gd_full_batch(start, X, y, 2.5 / lam, 100)
    answers["5.7"] = ch05.edge_outcome(losses, diverged)
    answers["_lam"], answers["_losses"] = lam, losses
    return answers


WRONG = {
    "5.1": (13, 47, 195),                   # forgot the last, partial batch
    "5.2": 0.1 * math.log(2) + 0.9 * math.log(18),   # estimate: a tenth of the images are 8s
    "5.3": (0.5 - 0.1, 1 / 18 - 0.1),       # estimate: a tenth of the images per digit
    "5.4": None,                            # without bias correction: filled in below
    "5.5": "larger",
    "5.6": None,                            # the sum over the 8 images, not the mean
    "5.7": "diverges",                      # chapter 1 read as a wall
}


@pytest.fixture(scope="module")
def wrong(right):
    answers = dict(WRONG)
    answers["5.6"] = tuple(8 * x for x in right["5.6"])
    # Adam without bias correction: its first step is 2α·sign(g), not α·sign(g)
    split = ch05._setting()[0]
    X, y = split.X_train, split.y_train
    p = he_glorot((64, 32, 10), 0)
    order = np.random.default_rng(0).permutation(len(y))
    v = {k: np.zeros_like(a) for k, a in p.items()}
    s = {k: np.zeros_like(a) for k, a in p.items()}
    for t in (1, 2, 3):
        idx = order[64 * (t - 1):64 * t]
        _, g = forward_backward(p, X[idx], y[idx])
        for k in p:
            v[k] = 0.8 * v[k] + 0.2 * g[k]
            s[k] = 0.99 * s[k] + 0.01 * g[k] ** 2
            p[k] -= 0.005 * v[k] / (np.sqrt(s[k]) + 1e-8)
    answers["5.4"] = tuple(p["b2"])
    return answers


@pytest.mark.parametrize("exercise_id", IDS)
def test_answers_worked_out_independently_pass(exercise_id, right):
    feedback = check(exercise_id, right[exercise_id])
    assert isinstance(feedback, Feedback)
    assert feedback.correct, feedback.message


@pytest.mark.parametrize("exercise_id", IDS)
def test_likely_mistakes_fail_with_a_hint(exercise_id, wrong):
    feedback = check(exercise_id, wrong[exercise_id])
    assert not feedback.correct
    assert "Hint:" in feedback.message


def test_counts_are_exact_and_ordered(right):
    per_epoch, last, total = right["5.1"]
    assert check("5.1", [per_epoch, last, total]).correct
    assert not check("5.1", (per_epoch, last, total + 1)).correct       # rtol = 0
    assert not check("5.1", (last, per_epoch, total)).correct           # order matters
    assert not check("5.1", (per_epoch, 100, total)).correct            # a full last batch


def test_four_digits_pass_and_the_uniform_estimate_fails(right):
    assert check("5.2", round(right["5.2"], 3)).correct                  # 4 significant digits
    assert not check("5.2", math.log(10)).correct                        # a blank network's ln 10
    assert not check("5.2", WRONG["5.2"]).correct


def test_the_gradient_has_the_sign_of_p_minus_y(right):
    a, b = right["5.3"]
    assert check("5.3", (round(a, 4), round(b, 5))).correct
    assert not check("5.3", (-a, -b)).correct                            # Y − P
    assert not check("5.3", (b, a)).correct                              # swapped


def test_only_b2_moves_at_the_blank_network(digits):
    split, _ = digits
    params = {k: np.zeros(s) for k, s in ch05._setting()[1].shapes().items()}
    params["b2"][8] = math.log(9)
    _, g = forward_backward(params, split.X_train, split.y_train)
    assert all(not np.any(g[k]) for k in ("W1", "b1", "W2"))
    assert np.any(g["b2"])


def test_momentum_instead_of_adam_fails(right):
    """A common slip: momentum's v_dW step instead of Adam's v̂/√ŝ."""
    split = ch05._setting()[0]
    X, y = split.X_train, split.y_train
    p = he_glorot((64, 32, 10), 0)
    order = np.random.default_rng(0).permutation(len(y))
    v = {k: np.zeros_like(a) for k, a in p.items()}
    for t in (1, 2, 3):
        idx = order[64 * (t - 1):64 * t]
        _, g = forward_backward(p, X[idx], y[idx])
        for k in p:
            v[k] = 0.8 * v[k] + 0.2 * g[k]
            p[k] -= 0.005 * v[k]
    assert not check("5.4", tuple(p["b2"])).correct


def test_the_edge_run_is_bumpy_and_steady(right, digits):
    """5.7's outcome is not a property of the last bit: the loss rises at several steps, ends
    far below ln 10 and far from divergence, and a start one ulp away gives the same."""
    split, _ = digits
    losses = right["_losses"]
    assert right["5.7"] == "bumpy"
    assert np.sum(np.diff(losses) > 0) >= 5
    assert losses[-1] < 0.5 * ch05.DEAD_LOSS
    assert right["_lam"] == pytest.approx(2.5 / ch05._edge_run()[0], rel=1e-3)
    start = he_glorot((64, 32, 10), 0)
    nudged = {k: np.nextafter(a, np.inf) for k, a in start.items()}
    shadow, diverged = gd_full_batch(nudged, split.X_train, split.y_train,
                                     2.5 / right["_lam"], 100)
    assert ch05.edge_outcome(shadow, diverged) == "bumpy"


def test_the_smaller_batches_win_by_a_margin(right):
    """5.5's answer is not a near tie: 16-image batches take 16 times the steps."""
    small, large = ch05._batch_losses()
    assert small < 0.5 * large
    assert right["5.5"] == "smaller"


def test_the_deeper_network_is_what_its_question_says():
    from optlib.network import MLP

    net = MLP(sizes=(64, 16, 16, 10), seed=5)
    assert net.layers == 3
    for k, a in he_glorot((64, 16, 16, 10), 5).items():
        assert np.array_equal(net.init_params()[k], a)
