"""Chapter 7's claims, recomputed independently of the optlib code that printed them.

The first half (the edge of stability, chaos at the edge, gradient clipping, and the
exploration of the edge) is recomputed without optlib's network, optimizers, clipping or
sharpness; the second half (sign methods, Lion, Muon, the Newton–Schulz exploration) with
sign descent, RMSprop, Adam, AdamW, Lion, the Newton–Schulz iteration and Muon written again
in plain numpy, and the network comparison's verdicts read from the stored outputs (the
computations printed them; nbval keeps the outputs equal to a fresh run).

First half.

optlib provides only the data (``load_digits_split(test_fraction=0.25, seed=0)``). The network is
the tests' own (``network_reference.forward_backward``: a softmax then a log, other sums than
optlib's, so its last bits differ), its starts are rebuilt from ``MLP``'s documented
initialisation (He for the first layer, Glorot for the second), gradient descent, EMA momentum,
Adam and global-norm clipping are written here from their equations, and every sharpness is
scipy's Lanczos solver (``eigsh``) on exact Hessian-vector products of the reference network,
derived here by differentiating its forward and backward pass (checked against central
differences of its gradient away from the ReLU kinks: finite differences across a kink give
spurious curvatures), for Adam on :math:`P^{-1/2} H P^{-1/2}` with
:math:`P_t = (1-\\beta_1^t)[\\operatorname{diag}(\\sqrt{\\hat s_t}) + \\varepsilon I]`.

What is checked:

* every sharpness ratio, loss and count the chapter prints for the edge-of-stability runs
  (chapter 5's network with α = 0.5; the 64-8-10 network with gradient descent α = 0.7,
  momentum α = 10, Adam α = 0.1) at the printed precision, read from the stored outputs, and
  the prose's qualitative words: the transient edge (at or above 0.9 only from step 20 to step
  70, a loss that never rises), "the loss stays far from 0" (above 0.1 for all 400 steps);
* clipping at the edge: the median gradient norm, the share of clipped steps, the rises, the
  ratios, "the final loss is a little lower" at twice the median, "every step" clipped and
  the sharpness "above 2/α" at half the median; a clipped step is a gradient step with the
  rate α·c/‖g‖; Adam's step does not change when every gradient is scaled alike (up to ε);
* chaos: from eight starts one ulp apart, made here with other random directions than the
  chapter's (so that the check is a stand-in for another CPU), α = 1.5 ends with one test
  accuracy and α = 1.7 with accuracies more than 30 points apart, every α = 1.7 run below
  α = 1.5's accuracy, with more than half of its 32 hidden units dead and the loss rising at
  more than a third of its steps; clipped at c = 1, every start ends with the same accuracy,
  the chapter's, after clipping the same number of steps.
* the exploration of the edge (``EdgeExplorer``, the chapter's "Things to look for"): each
  claim is checked on what its frames and readouts show, and recomputed with the tests' own
  network where it is about the loss, or about the runs at half the reference rates;
* the exploration of the Newton–Schulz polynomial: each claim recomputed with the tests' own
  polynomial, and checked on the explorer's readout ranges.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from network_reference import forward_backward

CHAPTER = Path(__file__).resolve().parent.parent / "chapters" / "07_edge_and_beyond.ipynb"
EVERY = 10


# ---------------------------------------------------------------------------
# The chapter's stored outputs
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def outputs():
    """The text output of every code cell, by the first line of its source."""
    nb = json.loads(CHAPTER.read_text(encoding="utf-8"))
    found = {}
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", [])
                       if o.get("output_type") == "stream")
        found["".join(cell["source"]).split("\n")[0]] = text
    return found


def output_of(outputs, first_line):
    return next(text for line, text in outputs.items() if line.startswith(first_line))


# ---------------------------------------------------------------------------
# The tests' own network, optimizers, clipping and sharpness
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    from optlib.network import load_digits_split

    return load_digits_split(test_fraction=0.25, seed=0)


def start(hidden, seed=0):
    """MLP(sizes=(64, hidden, 10), seed) as its docstring defines the start (He, then Glorot)."""
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0.0, math.sqrt(2 / 64), (64, hidden)), "b1": np.zeros(hidden),
            "W2": rng.normal(0.0, math.sqrt(2 / (hidden + 10)), (hidden, 10)), "b2": np.zeros(10)}


def one_ulp_away(params, seed):
    """Every non-zero entry moved to the next float up or down (directions of its own)."""
    rng = np.random.default_rng(1000 + seed)
    out = {}
    for k, v in params.items():
        towards = np.where(rng.random(v.shape) < 0.5, -np.inf, np.inf)
        out[k] = np.where(v != 0, np.nextafter(v, towards), v)
    return out


def flat(d):
    return np.concatenate([d[k].ravel() for k in ("W1", "b1", "W2", "b2")])


def unflat(vec, like):
    out, i = {}, 0
    for k in ("W1", "b1", "W2", "b2"):
        out[k] = vec[i:i + like[k].size].reshape(like[k].shape)
        i += like[k].size
    return out


def hessian_vector_product(params, X, y, V):
    """Hv of the 64-h-10 ReLU network's mean cross-entropy, exactly, by differentiating the
    reference's forward and backward pass along V (Pearlmutter's R-operator; ReLU'' = 0)."""
    n = len(y)
    Z1 = X @ params["W1"] + params["b1"]
    mask = Z1 > 0
    A1 = np.where(mask, Z1, 0.0)
    Z2 = A1 @ params["W2"] + params["b2"]
    P = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    dZ2 = P.copy()
    dZ2[np.arange(n), y] -= 1.0
    dZ2 /= n
    # along V: the forward pass ...
    RA1 = np.where(mask, X @ V["W1"] + V["b1"], 0.0)
    RZ2 = RA1 @ params["W2"] + A1 @ V["W2"] + V["b2"]
    RdZ2 = P * (RZ2 - np.sum(P * RZ2, axis=1, keepdims=True)) / n
    # ... and the backward pass
    RdZ1 = np.where(mask, RdZ2 @ params["W2"].T + dZ2 @ V["W2"].T, 0.0)
    return {"W1": X.T @ RdZ1, "b1": RdZ1.sum(axis=0),
            "W2": RA1.T @ dZ2 + A1.T @ RdZ2, "b2": RdZ2.sum(axis=0)}


def lam_max(params, X, y, scale=None):
    """λ_max of H (or of D H D with D = diag(scale)) by scipy's Lanczos solver."""
    from scipy.sparse.linalg import LinearOperator, eigsh

    size = flat(params).size
    d = np.ones(size) if scale is None else scale

    def product(v):
        return d * flat(hessian_vector_product(params, X, y, unflat(d * v, params)))

    op = LinearOperator((size, size), matvec=product, dtype=float)
    return float(eigsh(op, k=1, which="LA", tol=1e-8, v0=np.ones(size))[0][0])


def test_the_hessian_vector_product_is_the_gradients_derivative(digits):
    """Away from the ReLU kinks Hv is the derivative of the reference gradient along v."""
    p = start(8)
    X, y = digits.X_train[:200], digits.y_train[:200]
    v = unflat(np.random.default_rng(3).normal(size=flat(p).size), p)
    h = 1e-6
    plus = forward_backward({k: p[k] + h * v[k] for k in p}, X, y)[1]
    minus = forward_backward({k: p[k] - h * v[k] for k in p}, X, y)[1]
    by_difference = (flat(plus) - flat(minus)) / (2 * h)
    np.testing.assert_allclose(flat(hessian_vector_product(p, X, y, v)), by_difference,
                               rtol=1e-5, atol=1e-7)


def clip(grads, c):
    """Global-norm clipping written from its definition: (min(1, c/‖g‖)·g, ‖g‖)."""
    norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    factor = min(1.0, c / norm)
    return {k: factor * g for k, g in grads.items()}, norm


def edge_run(params, X, y, kind, lr, steps, c=None, measure=True):
    """Full-batch training from ``params`` with gradient descent, EMA momentum (β = 0.9) or
    Adam (0.9, 0.999, 1e-8); the losses, the ratio to the threshold every EVERY steps, the
    gradient norms before clipping and the final parameters."""
    p = {k: v.copy() for k, v in params.items()}
    v = {k: np.zeros_like(a) for k, a in p.items()}
    s = {k: np.zeros_like(a) for k, a in p.items()}
    b1, b2, eps = 0.9, 0.999, 1e-8
    threshold = 2 / lr if kind == "gd" else 2 * (1 + 0.9) / (lr * (1 - 0.9))
    losses, ratios, norms = [], [], []
    for t in range(steps + 1):
        loss, g = forward_backward(p, X, y)
        losses.append(loss)
        if measure and t % EVERY == 0:
            if kind == "adam":
                if t == 0:
                    ratios.append(np.nan)
                else:
                    P = (1 - b1 ** (t)) * (np.sqrt(flat(s) / (1 - b2 ** t)) + eps)
                    ratios.append(lam_max(p, X, y, 1 / np.sqrt(P)) / threshold)
            else:
                ratios.append(lam_max(p, X, y) / threshold)
        if t == steps:
            break
        if c is not None:
            g, norm = clip(g, c)
            norms.append(norm)
        for k in p:
            if kind == "gd":
                p[k] -= lr * g[k]
            elif kind == "momentum":
                v[k] = 0.9 * v[k] + 0.1 * g[k]
                p[k] -= lr * v[k]
            else:
                v[k] = b1 * v[k] + (1 - b1) * g[k]
                s[k] = b2 * s[k] + (1 - b2) * g[k] ** 2
                vh, sh = v[k] / (1 - b1 ** (t + 1)), s[k] / (1 - b2 ** (t + 1))
                p[k] -= lr * vh / (np.sqrt(sh) + eps)
    return np.array(losses), np.array(ratios), np.array(norms), p


def rises(losses):
    return int(np.sum(np.diff(losses) > 0))


def test_the_starts_are_the_chapters():
    from optlib.network import MLP

    for hidden in (32, 8, 16):
        ours = MLP(sizes=(64, hidden, 10), seed=0).init_params()
        assert all(np.array_equal(ours[k], v) for k, v in start(hidden).items())


# ---------------------------------------------------------------------------
# The edge of stability
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def wide_run(digits):
    return edge_run(start(32), digits.X_train, digits.y_train, "gd", 0.5, 200)


def test_chapter5_network_reaches_the_edge_and_leaves_it(wide_run, outputs, digits):
    losses, ratios, _, p = wide_run
    text = output_of(outputs, "def edge_run")
    printed = [float(x) for x in text.split("\n")[1].split()]
    assert np.array_equal(np.round(ratios, 2), printed)
    above = np.flatnonzero(ratios >= 0.9) * EVERY
    assert (above.min(), above.max()) == (20, 70)
    assert np.array_equal(above, np.arange(20, 71, EVERY))           # contiguous: one visit
    assert ratios.max() == pytest.approx(0.99, abs=0.005) and int(np.argmax(ratios)) * EVERY == 40
    assert ratios[-1] < 0.9 * ratios.max()                           # it falls
    assert rises(losses) == 0                                        # "the loss never rose"
    assert f"{losses[-1]:.3f}" == "0.085" and "→ 0.085" in text
    # the λ_max of 2.745 at the end, which chapter 5's sweep also printed
    assert f"{ratios[-1] * 4:.3f}" == "2.745" and "λ_max = 2.745" in text
    # "82 % of the training images get a probability above 0.9 for their digit"
    X, y = digits.X_train, digits.y_train
    Z = np.maximum(X @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    share = np.mean(P[np.arange(len(y)), y] > 0.9)
    assert share > 0.5 and f"{share:.0%} of the training images" in text


NARROW = {"GradientDescent": ("gd", 0.7), "Momentum": ("momentum", 10.0), "Adam": ("adam", 0.1)}


@pytest.fixture(scope="module")
def narrow_runs(digits):
    return {label: edge_run(start(8), digits.X_train, digits.y_train, kind, lr, 400)
            for label, (kind, lr) in NARROW.items()}


def test_narrow_network_sits_at_the_edge(narrow_runs, outputs):
    text = output_of(outputs, "narrow = MLP")
    for label, (losses, ratios, _, _) in narrow_runs.items():
        row = next(line for line in text.split("\n") if line.startswith(label))
        late = ratios[20:]                                  # steps 200, 210, ..., 400
        first = ratios[np.isfinite(ratios)][0]
        reached = int(np.flatnonzero(ratios >= 0.9)[0]) * EVERY
        ours = (f"{first:.2f} {reached} {np.median(late):.2f} [{late.min():.2f}, "
                f"{late.max():.2f}] {rises(losses)} {losses[-1]:.3f}")
        theirs = re.sub(r"\s+", " ", row.split(None, 3)[3].replace(" True", "")).strip()
        assert ours == theirs, label
        assert 0.9 <= np.median(late) < 1.0                # "hovers around", crossing 1
        assert late.max() > 1.0
        assert losses.min() > 0.1                           # "stays far from 0"


# ---------------------------------------------------------------------------
# Gradient clipping
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clipped_runs(digits, narrow_runs):
    X, y = digits.X_train, digits.y_train
    _, _, norms, _ = edge_run(start(8), X, y, "gd", 0.7, 400, c=1e9, measure=False)
    median = float(np.median(norms))
    runs = {f: edge_run(start(8), X, y, "gd", 0.7, 400, c=f * median) for f in (2.0, 0.5)}
    return median, norms, runs


def test_clipping_at_the_edge(clipped_runs, narrow_runs, outputs):
    median, norms, runs = clipped_runs
    assert f"median {median:.2f}, largest {norms.max():.1f}" in output_of(outputs, "# the unclipped")
    plain_losses = narrow_runs["GradientDescent"][0]
    text = output_of(outputs, "clipped = {}")
    for f, (losses, ratios, seen, _) in runs.items():
        late = ratios[20:]
        row = next(line for line in text.split("\n") if line.strip().startswith(f"{f:g} × median"))
        assert f"{np.mean(seen > f * median):.0%}" in row
        assert f"{np.median(late):.2f} [{late.min():.2f}, {late.max():.2f}]" in row
        assert row.split()[-3:-1] == [str(rises(losses)), f"{losses[-1]:.3f}"]
    twice, half = runs[2.0], runs[0.5]
    assert rises(twice[0]) <= 2 < rises(plain_losses)               # almost every rise gone
    assert 0.9 <= np.median(twice[1][20:]) < 1.05                   # still at the edge
    assert twice[0][-1] < plain_losses[-1]                          # "a little lower"
    assert np.all(half[2] > 0.5 * median)                           # every step clipped
    assert rises(half[0]) == 0 and half[1][20:].min() > 1.0         # above 2/α
    # against the threshold 2‖g_t‖/(αc) of the rate its steps really had: at the edge
    own = half[1][:-1] * np.minimum(1.0, 0.5 * median / half[2][::EVERY])
    late = own[20:]
    assert 0.97 < np.median(late) < 1.03
    line = next(l for l in text.split("\n") if "(αc)) over the last 200 steps" in l)
    assert f"median {np.median(late):.2f} [{late.min():.2f}, {late.max():.2f}]" in line


def test_a_clipped_step_is_a_gradient_step_with_a_smaller_rate():
    rng = np.random.default_rng(5)
    g = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    w = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    lr, c = 0.3, 0.5
    short, norm = clip(g, c)
    assert norm > c
    for k in w:
        np.testing.assert_allclose(w[k] - lr * short[k], w[k] - (lr * c / norm) * g[k],
                                   rtol=1e-15, atol=1e-15)
    # its limit on a quadratic of curvature λ: stable iff λ < 2‖g‖/(αc), above 2/α
    for lam, stable in ((0.99 * 2 * norm / (lr * c), True), (1.01 * 2 * norm / (lr * c), False)):
        assert (abs(1 - (lr * c / norm) * lam) < 1) == stable
    assert 2 * norm / (lr * c) > 2 / lr


def test_adams_step_ignores_a_common_scale_of_the_gradients():
    rng = np.random.default_rng(6)
    grads = [rng.normal(size=50) * 0.1 for _ in range(20)]

    def steps(scale, eps):
        v = s = np.zeros(50)
        out = []
        for t, g in enumerate(grads, start=1):
            v = 0.9 * v + 0.1 * scale * g
            s = 0.999 * s + 0.001 * (scale * g) ** 2
            out.append((v / (1 - 0.9 ** t)) / (np.sqrt(s / (1 - 0.999 ** t)) + eps))
        return np.array(out)

    np.testing.assert_allclose(steps(0.25, 0.0), steps(1.0, 0.0), rtol=1e-12)
    np.testing.assert_allclose(steps(0.25, 1e-8), steps(1.0, 1e-8), rtol=1e-4)
    # the false version: gradient descent's step scales with the gradient
    assert not np.allclose(0.25 * grads[0], grads[0])


# ---------------------------------------------------------------------------
# Chaos at the edge, and clipping against it
# ---------------------------------------------------------------------------
def full_batch_gd(params, digits, lr, steps=200, c=None):
    """optlib's train(..., batch_size=n) rewritten: the training loss before every step, the
    final test accuracy, the dead hidden units and the number of clipped steps."""
    X, y = digits.X_train, digits.y_train
    p = {k: v.copy() for k, v in params.items()}
    losses, clipped = [], 0
    for _ in range(steps):
        loss, g = forward_backward(p, X, y)
        losses.append(loss)
        if c is not None:
            g, norm = clip(g, c)
            clipped += norm > c
        for k in p:
            p[k] -= lr * g[k]
    hidden = np.maximum(digits.X_test @ p["W1"] + p["b1"], 0)
    accuracy = float(np.mean(np.argmax(hidden @ p["W2"] + p["b2"], axis=1) == digits.y_test))
    dead = int(np.sum(np.all(X @ p["W1"] + p["b1"] <= 0, axis=0)))
    return np.array(losses), accuracy, dead, clipped


@pytest.fixture(scope="module")
def chaos(digits):
    starts = [start(32)] + [one_ulp_away(start(32), s) for s in range(7)]
    return {lr: [full_batch_gd(p, digits, lr) for p in starts] for lr in (1.5, 1.7)}, starts


def test_one_ulp_moves_the_accuracy_at_1_7_but_not_at_1_5(chaos, outputs):
    runs, _ = chaos
    acc = {lr: np.array([r[1] for r in rs]) for lr, rs in runs.items()}
    assert np.all(acc[1.5] == acc[1.5][0]) and f"{acc[1.5][0]:.3f}" == "0.962"
    assert np.ptp(acc[1.7]) > 0.30                                  # tens of points apart
    text = output_of(outputs, "# the start and seven others")
    assert "all 8 starts end with the same test accuracy: True (0.962)" in text
    assert "span more than 30 points: True" in text


def test_what_survives_the_last_bit(chaos, outputs):
    runs, _ = chaos
    best = runs[1.5][0][1]
    assert all(r[1] < best for r in runs[1.7])                     # below α = 1.5's accuracy
    assert all(r[2] > 16 for r in runs[1.7])                       # more than half died
    assert runs[1.5][0][2] == 16                                   # "16 of 32 at α = 1.5"
    assert all(rises(r[0]) > 200 / 3 for r in runs[1.7])
    text = output_of(outputs, "# the start and seven others")
    assert text.count(": True") == 6 and "(α = 1.5: 16)" in text


def test_clipping_at_1_removes_the_chaos(chaos, digits, outputs):
    _, starts = chaos
    tamed = [full_batch_gd(p, digits, 1.7, c=1.0) for p in starts]
    assert len({r[1] for r in tamed}) == 1 and f"{tamed[0][1]:.3f}" == "0.962"
    assert {r[3] for r in tamed} == {15}
    first_norm = clip(forward_backward(starts[0], digits.X_train, digits.y_train)[1], 1.0)[1]
    assert first_norm < 1.0                                         # "above the norm at the start"
    text = output_of(outputs, "tamed = [")
    assert f"same test accuracy: True ({tamed[0][1]:.3f})" in text
    assert "steps clipped: 15 of 200" in text and f"at the start {first_norm:.2f}" in text


# ===========================================================================
# Second half: sign methods, Lion, Muon
# ===========================================================================
LAM = np.array([1.0, 25.0])                       # chapter 1's bowl, minimum at the origin
START = np.array([-8.0, 1.5])
MUON = (3.4445, -4.7750, 2.0315)
CUBIC = (1.5, -0.5, 0.0)


# --------------------------------------------------------------------------- plain numpy

def sign_descent(w, lam, alpha, steps):
    path = [np.array(w, dtype=float)]
    for _ in range(steps):
        path.append(path[-1] - alpha * np.sign(lam * path[-1]))
    return np.array(path)


def rmsprop_beta0(w, lam, alpha, steps, eps=1e-8):
    path = [np.array(w, dtype=float)]
    for _ in range(steps):
        g = lam * path[-1]
        s = g * g                                 # β = 0: the average is the last square
        path.append(path[-1] - alpha * g / (np.sqrt(s) + eps))
    return np.array(path)


def adam_steps(grads, alpha, b1=0.9, b2=0.999, eps=1e-8):
    """The steps Δw_t of Adam for a sequence of gradients (no objective: the gradients given)."""
    v = s = 0.0
    out = []
    for t, g in enumerate(grads, 1):
        v = b1 * v + (1 - b1) * g
        s = b2 * s + (1 - b2) * g * g
        out.append(-alpha * (v / (1 - b1**t)) / (np.sqrt(s / (1 - b2**t)) + eps))
    return out


def lion_steps(grads, alpha, b1=0.9, b2=0.99):
    v = 0.0
    out = []
    for g in grads:
        out.append(-alpha * np.sign(b1 * v + (1 - b1) * g))
        v = b2 * v + (1 - b2) * g
    return out


def lion_run(grad, w, alpha, delta, steps, b1=0.9, b2=0.99):
    w, v, path = np.array(w, dtype=float), 0.0, []
    path.append(w.copy())
    for _ in range(steps):
        g = grad(w)
        c = b1 * v + (1 - b1) * g
        w = w * (1 - alpha * delta) - alpha * np.sign(c)
        v = b2 * v + (1 - b2) * g
        path.append(w.copy())
    return np.array(path)


def adamw_run(grad, w, alpha, delta, steps, b1=0.9, b2=0.999, eps=1e-8):
    w, v, s, path = np.array(w, dtype=float), 0.0, 0.0, []
    path.append(w.copy())
    for t in range(1, steps + 1):
        g = grad(w)
        v = b1 * v + (1 - b1) * g
        s = b2 * s + (1 - b2) * g * g
        w = w * (1 - alpha * delta) - alpha * (v / (1 - b1**t)) / (np.sqrt(s / (1 - b2**t)) + eps)
        path.append(w.copy())
    return np.array(path)


def phi_k(sigma, k, coeffs=MUON):
    a, b, c = coeffs
    x = np.array(sigma, dtype=float)
    for _ in range(k):
        x = a * x + b * x**3 + c * x**5
    return x


def newton_schulz(d, steps=5, coeffs=MUON, eps=1e-7):
    a, b, c = coeffs
    tall = d.shape[0] > d.shape[1]
    x = (d.T if tall else d) / max(np.sqrt(np.sum(d * d)), eps)
    for _ in range(steps):
        A = x @ x.T
        x = a * x + (b * A + c * A @ A) @ x
    return x.T if tall else x


def muon_path(H, W, alpha, steps, beta=0.95, delta=0.0):
    """Muon (Nesterov, adjust "original") on f(W) = ½ tr(WᵀHW) written out."""
    r = np.sqrt(max(1.0, W.shape[0] / W.shape[1]))
    B, W, path = np.zeros_like(W), W.copy(), [W.copy()]
    for _ in range(steps):
        G = H @ W
        B = beta * B + (1 - beta) * G
        D = G + beta * (B - G)
        W = W * (1 - alpha * delta) - alpha * r * newton_schulz(D)
        path.append(W.copy())
    return np.array(path)


def matrix_path(kind, H, W, alpha, steps):
    """Gradient descent, Adam or Lion (per coordinate) on f(W) = ½ tr(WᵀHW)."""
    W, path = W.copy(), [W.copy()]
    v, s, m = np.zeros_like(W), np.zeros_like(W), np.zeros_like(W)
    for t in range(1, steps + 1):
        G = H @ W
        if kind == "gd":
            W = W - alpha * G
        elif kind == "adam":
            v = 0.9 * v + 0.1 * G
            s = 0.999 * s + 0.001 * G * G
            W = W - alpha * (v / (1 - 0.9**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
        else:                                      # Lion, no decay
            W = W - alpha * np.sign(0.9 * m + 0.1 * G)
            m = 0.99 * m + 0.01 * G
        path.append(W.copy())
    return np.array(path)


def stored_text(i):
    nb = json.loads(CHAPTER.read_text(encoding="utf-8"))
    return "".join("".join(o.get("text", "")) for o in nb["cells"][i]["outputs"])


def cell_printing(fragment):
    nb = json.loads(CHAPTER.read_text(encoding="utf-8"))
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] == "code" and fragment in stored_text(i):
            return stored_text(i)
    raise AssertionError(f"no cell prints {fragment!r}")


# --------------------------------------------------------------------------- sign descent

def test_rmsprop_at_beta_zero_is_sign_descent_and_ends_in_a_two_cycle():
    alpha = 0.35
    signs = sign_descent(START, LAM, alpha, 60)
    rms = rmsprop_beta0(START, LAM, alpha, 60)
    assert np.abs(rms - signs).max() < 1e-5                    # "within 1e-5"
    assert np.abs(rms - signs).max() > 0                       # ε makes them differ at all
    assert np.all(np.abs(np.abs(np.diff(signs, axis=0)) - alpha) < 1e-12)   # each coordinate by α
    loss = 0.5 * (LAM * signs**2).sum(axis=1)
    # the walk: W1 reaches its bounce at step 22 (8 = 22·0.35 + 0.3), W2 at step 4
    assert abs(signs[22, 0] + 0.3) < 1e-12 and abs(signs[23, 0] - 0.05) < 1e-12
    assert abs(signs[4, 1] - 0.1) < 1e-12 and abs(signs[5, 1] + 0.25) < 1e-12
    # "the loss then alternates between 0.17 and 0.7825 for ever" (here: to step 60, exactly)
    assert np.allclose(loss[22::2], 0.17, atol=1e-12) and np.allclose(loss[23::2], 0.7825, atol=1e-12)
    # gradient descent at α* converges instead (the figure)
    gd = START * (1 - 2 / 26 * LAM)[None, :] ** np.arange(61)[:, None]
    assert 0.5 * (LAM * gd[-1] ** 2).sum() < 0.17


def test_sign_descent_floor_is_at_least_lambda_alpha_squared_over_8():
    rng = np.random.default_rng(5)
    for _ in range(200):
        lam, alpha, d0 = rng.uniform(0.5, 50), rng.uniform(0.01, 1), rng.uniform(-20, 20)
        path = sign_descent([d0], np.array([lam]), alpha, int(abs(d0) / alpha) + 10)[:, 0]
        last_two = 0.5 * lam * path[-2:] ** 2
        assert abs(abs(path[-1] - path[-2]) - alpha) < 1e-9          # a zig-zag of size α
        assert last_two.mean() >= lam * alpha**2 / 8 * (1 - 1e-9)
    # and the bound is reached at f = 1/2
    path = sign_descent([2.5], np.array([1.0]), 1.0, 10)[:, 0]
    assert abs((0.5 * path[-2:] ** 2).mean() - 1 / 8) < 1e-12


# --------------------------------------------------------------------------- Lion

def test_lions_step_is_alpha_per_coordinate_and_adams_smaller_on_noise():
    rng = np.random.default_rng(11)                            # other noise than the chapter's
    grads = rng.normal(size=(300, 5000))
    adam = np.array(adam_steps(grads, 1e-3))
    lion = np.array(lion_steps(grads, 1e-3))
    adam_rms = np.sqrt((adam[200:] ** 2).mean(axis=1)).mean() / 1e-3
    lion_rms = np.sqrt((lion[200:] ** 2).mean(axis=1)).mean() / 1e-3
    predicted = np.sqrt(0.1 / 1.9)
    assert np.all(np.abs(lion) == 1e-3) and abs(lion_rms - 1) < 1e-12   # every coordinate ±α
    assert abs(adam_rms / predicted - 1) < 0.02                # 0.23
    assert round(adam_rms, 2) == 0.23 and round(lion_rms / adam_rms, 1) == 4.4
    # on a steady gradient Adam's step is α per coordinate too (ratio 1)
    steady = adam_steps(np.full((2000, 3), [0.5, -3.0, 1e-3]), 1e-3)[-1]
    assert np.allclose(np.abs(steady), 1e-3, rtol=1e-4)


def test_lion_decay_settles_at_one_over_delta_geometrically_and_adamw_creeps():
    lam, centre = np.array([1.0, 100.0]), np.array([4.0, 4.0])
    grad = lambda w: lam * (w - centre)
    lion = lion_run(grad, [0.0, 0.0], 0.05, 0.5, 2000)
    law = 2 * (1 - 0.975 ** np.arange(2001))
    assert np.allclose(lion, law[:, None], rtol=0, atol=1e-12)   # w_t = (1/δ)(1 − (1 − αδ)^t)
    assert round(lion[40, 0], 4) == 1.2735 and round(lion[-1, 0], 4) == 2.0
    small = lion_run(grad, [0.0, 0.0], 0.005, 5.0, 2000)
    assert np.allclose(small, law[:, None] / 10, rtol=0, atol=1e-12)   # same steps, bound 0.2
    adamw = adamw_run(grad, [0.0, 0.0], 0.05, 0.5, 2000)
    assert round(adamw[-1, 0], 4) == 1.9471 and np.all(np.diff(adamw[1000:, 0]) > 0)


# --------------------------------------------------------------------------- Newton–Schulz

def test_the_polynomial_map_and_its_band():
    sigma = np.linspace(0.01, 1.0, 100_001)
    after = phi_k(sigma, 5)
    assert round(after.min(), 2) == 0.68 and round(after.max(), 2) == 1.13
    assert round(float(phi_k(0.01, 5, CUBIC)), 3) == 0.076
    assert round(float(phi_k(1.0, 1)), 3) == 0.701
    a, b, c = CUBIC
    assert float(phi_k(1.0, 1, CUBIC)) == 1.0 and a + 3 * b + 5 * c == 0      # φ(1) = 1, φ'(1) = 0
    # the cubic brings 0.3 close to 1 in five steps but not 0.01
    assert abs(phi_k(0.3, 5, CUBIC) - 1) < 0.01 and phi_k(0.01, 5, CUBIC) < 0.1


def test_newton_schulz_is_the_map_on_the_singular_values():
    rng = np.random.default_rng(0)
    D = rng.normal(size=(64, 32))
    U, S, Vt = np.linalg.svd(D, full_matrices=False)
    O = newton_schulz(D)
    S_n = S / np.linalg.norm(D)
    assert np.abs(O - U @ np.diag(phi_k(S_n, 5)) @ Vt).max() < 1e-12
    S_O = np.linalg.svd(O, compute_uv=False)
    assert round(S_O.min(), 2) == 0.68 and round(S_O.max(), 2) == 1.11
    assert S_n.max() / S_n.min() > 4                            # "more than a factor of four"
    assert round(np.linalg.norm(O - U @ Vt) / np.linalg.norm(U @ Vt), 2) == 0.23


def test_orthogonalisation_commutes_with_rotations_and_the_sign_does_not():
    rng = np.random.default_rng(3)
    for shape in ((64, 32), (5, 9), (7, 7)):
        D = rng.normal(size=shape)
        Q, _ = np.linalg.qr(rng.normal(size=(shape[0], shape[0])))
        P, _ = np.linalg.qr(rng.normal(size=(shape[1], shape[1])))
        assert np.abs(newton_schulz(Q @ D) - Q @ newton_schulz(D)).max() < 1e-12
        assert np.abs(newton_schulz(D @ P) - newton_schulz(D) @ P).max() < 1e-12
        assert np.abs(np.sign(Q @ D) - Q @ np.sign(D)).max() > 1


def _rotation_problem(ulp=False):
    rng = np.random.default_rng(1)                             # the chapter's draws, in its order
    R, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    H = np.diag(np.geomspace(1.0, 25.0, 8))
    W0 = rng.normal(size=(8, 4))
    if ulp:
        W0 = W0.copy()
        W0[0, 0] = np.nextafter(W0[0, 0], np.inf)
    return R, H, W0


def test_muon_and_gradient_descent_are_rotation_invariant_adam_and_lion_are_not():
    R, H, W0 = _rotation_problem()
    Hr = R @ H @ R.T
    loss = lambda W, H: 0.5 * np.trace(W.T @ H @ W)
    table = cell_printing("max |Rᵀ W_rotated − W_aligned|")
    rows = dict(re.findall(r"\n(gradient descent|Muon|Adam|Lion)\s+(below 1e-12|above 0.5)", table))
    ends = {name: (a, b) for name, a, b in
            re.findall(r"\n(gradient descent|Muon|Adam|Lion)\s+(?:below 1e-12|above 0.5)\s+(\S+)\s+(\S+)", table)}
    paths = {"gradient descent": lambda H, W: matrix_path("gd", H, W, 0.05, 50),
             "Muon": lambda H, W: muon_path(H, W, 0.05, 50),
             "Adam": lambda H, W: matrix_path("adam", H, W, 0.05, 50),
             "Lion": lambda H, W: matrix_path("lion", H, W, 0.05, 50)}
    for name, go in paths.items():
        aligned, rotated = go(H, W0), go(Hr, R @ W0)
        gap = np.abs(np.einsum("ji,tjk->tik", R, rotated) - aligned).max()
        if name in ("gradient descent", "Muon"):
            assert gap < 1e-12 and rows[name] == "below 1e-12"
        else:
            assert gap > 0.5 and rows[name] == "above 0.5"
        # the printed losses, recomputed, and the same from a start one ulp away
        R2, H2, W1 = _rotation_problem(ulp=True)
        shadow = go(H, W1), go(Hr, R @ W1)
        for k, (path, HH) in enumerate(((aligned, H), (rotated, Hr))):
            printed = ends[name][k]
            digits = len(printed.replace(".", "").lstrip("0"))
            for p in (path, shadow[k]):
                assert float(f"{loss(p[-1], HH):.{digits}g}") == float(printed), (name, k)
    # invariance is not speed: Muon ends far above gradient descent here
    assert float(ends["Muon"][0]) > 100 * float(ends["gradient descent"][0])


# --------------------------------------------------------------------------- the network

def test_the_network_verdicts_printed_by_the_chapter():
    text = cell_printing("test accuracy, seeds 3–5")
    assert ("the chosen α is the same from a start one ulp away, and no chosen cell and no test "
            "run is erratic: True") in text
    grid = [float(a) for a in re.search(r"validation loss at α =([\s\d.e-]+)chosen", text).group(1).split()]
    rows = {}
    for name, cells, chosen, mean, lo, hi in re.findall(
            r"\n(AdamW|Lion|Muon \+ AdamW \(biases\))\s+((?:\s*(?:[\d.]+|erratic|—))+?)\s+([\d.]+)\s+"
            r"([\d.]+) % ± [\d.]+ %\s+([\d.]+)–([\d.]+) %", text):
        rows[name] = (cells.split(), float(chosen), float(mean), float(lo), float(hi))
    assert set(rows) == {"AdamW", "Lion", "Muon + AdamW (biases)"}
    muon, adamw, lion = rows["Muon + AdamW (biases)"], rows["AdamW"], rows["Lion"]
    # Muon highest mean, Lion lowest; the seed ranges do not overlap
    assert muon[2] > adamw[2] > lion[2]
    assert muon[3] > adamw[4] and adamw[3] > lion[4]
    # Lion chose α ten times smaller than AdamW's (two grid steps of √10)
    assert abs(adamw[1] / lion[1] - 10) < 0.5
    # every choice is inside the grid, and Lion's loss rises on both sides of its choice
    for cells, chosen, *_ in rows.values():
        k = min(range(len(grid)), key=lambda i: abs(grid[i] - chosen))
        assert 0 < k < len(grid) - 1
    k = min(range(len(grid)), key=lambda i: abs(grid[i] - lion[1]))
    assert float(lion[0][k - 1]) > float(lion[0][k]) < float(lion[0][k + 1])


# ===========================================================================
# The explorations' "Things to look for"
# ===========================================================================
def markdown_of(heading):
    nb = json.loads(CHAPTER.read_text(encoding="utf-8"))
    return next("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"
                and "".join(c["source"]).startswith(heading))


SCALES = (0.5, 1.0, 1.4, 2.0)
BASE = {"gradient descent": ("gd", 0.5), "momentum (β = 0.9)": ("momentum", 5.0),
        "Adam": ("adam", 0.1)}


@pytest.fixture(scope="module")
def edge_explorer(digits):
    """The chapter's EdgeExplorer (chapter 5's network narrowed to 8 hidden units)."""
    from optlib.explore import EdgeExplorer
    from optlib.network import MLP

    return EdgeExplorer(MLP(sizes=(64, 8, 10), activation="relu", seed=0), digits, name="edge")


def test_the_edge_exploration_is_the_one_the_chapter_describes(edge_explorer):
    text = markdown_of("## Exploration: the edge of stability")
    assert "$\\alpha/\\alpha_0 = 0.5$, 1, 1.4\nand 2" in text and "400 full-batch steps" in text
    assert edge_explorer.scales == SCALES and edge_explorer.steps == 400
    assert edge_explorer.every == EVERY
    assert {k: v for k, v in edge_explorer.base_lrs.items()} == {k: lr for k, (_, lr) in BASE.items()}
    # the table's three runs are among its settings (the chapter takes them from it)
    assert 0.5 * 1.4 == 0.7 and 5.0 * 2.0 == 10.0
    # no setting is erratic on this grid (optlib's claim; the chapter prints no erratic run)
    assert not any(any(v) for v in edge_explorer.erratic.values())


def test_at_half_the_reference_rate_gd_and_momentum_stay_stable(edge_explorer, digits):
    """"at α/α₀ = 0.5 gradient descent and momentum stay far below their threshold, never
    reach 0.9 of it, and their loss never rises" — on the frames, and recomputed."""
    for label in ("gradient descent", "momentum (β = 0.9)"):
        s = edge_explorer.summary(label, 0)
        assert s["first"] == -1 and s["high"] < 0.6 and s["rises"] == 0, (label, s)
        run = edge_explorer.runs[label][0]
        assert np.nanmax(run.ratio) < 0.9                      # never, not only the second half
        kind, lr = BASE[label]
        losses, ratios, _, _ = edge_run(start(8), digits.X_train, digits.y_train, kind, 0.5 * lr,
                                        400)
        assert np.nanmax(ratios) < 0.6 and rises(losses) == 0, label


def test_from_the_reference_rate_up_the_sharpness_follows_the_threshold(edge_explorer):
    """"from α₀ to 2α₀ the threshold halves, and the sharpness follows it down: for every
    optimizer the median ratio over the second half stays near 1"."""
    for label in BASE:
        runs = edge_explorer.runs[label]
        assert abs(runs[1].threshold / runs[3].threshold - 2) < 1e-12
        medians = [edge_explorer.summary(label, i)["median"] for i in (1, 2, 3)]
        assert all(0.85 < m < 1.05 for m in medians), (label, medians)
        # the sharpness itself falls with the threshold (not a ratio that stays by accident)
        late = [np.nanmedian(r.edge[r.measured_at >= 200]) for r in runs[1:]]
        assert late[0] > late[2] * 1.5, (label, late)


def test_gradient_descent_rises_more_and_ends_lower_as_alpha_grows(edge_explorer, digits):
    """"for gradient descent the loss rises at more steps the larger α is, and still ends
    lower" — on the frames, and recomputed with the tests' own network."""
    shown = [edge_explorer.summary("gradient descent", i) for i in range(4)]
    assert [s["rises"] for s in shown] == sorted(s["rises"] for s in shown)
    assert len({s["rises"] for s in shown}) == 4
    finals = [s["loss"] for s in shown]
    assert finals == sorted(finals, reverse=True) and len(set(finals)) == 4
    own = [edge_run(start(8), digits.X_train, digits.y_train, "gd", 0.5 * m, 400, measure=False)[0]
           for m in SCALES]
    counts = [rises(losses) for losses in own]
    assert counts[0] < counts[1] < counts[2] < counts[3], counts
    assert own[0][-1] > own[1][-1] > own[2][-1] > own[3][-1]


def test_adam_ends_far_lower_at_half_its_reference_rate(edge_explorer, digits):
    """"Adam ends with a far lower loss at α/α₀ = 0.5 than at any larger rate" (far: a third
    or less), on the frames and recomputed."""
    finals = [edge_explorer.summary("Adam", i)["loss"] for i in range(4)]
    assert all(finals[0] < f / 3 for f in finals[1:]), finals
    own = [edge_run(start(8), digits.X_train, digits.y_train, "adam", 0.1 * m, 400,
                    measure=False)[0][-1] for m in SCALES]
    assert all(own[0] < f / 3 for f in own[1:]), own


QUINTIC = (1.875, -1.25, 0.375)
GRID = np.unique(np.concatenate([np.geomspace(0.01, 1.0, 8001), [0.01, 1.0]]))


def test_the_newton_schulz_exploration_claims():
    from optlib.explore import NewtonSchulzExplorer

    text = markdown_of("## Exploration: the Newton–Schulz polynomial")
    ex = NewtonSchulzExplorer(name="newton_schulz")
    assert ex.steps == tuple(range(11)) and ex.s_min == 0.01
    sets = dict(zip(("muon", "cubic", "quintic"), ex.coefficients))
    assert ex.coefficients[sets["muon"]] == MUON and ex.coefficients[sets["cubic"]] == CUBIC
    assert ex.coefficients[sets["quintic"]] == QUINTIC
    # the readout's ranges are the tests' own polynomial's on the same grid
    for key, coeffs in zip(sets.values(), (MUON, CUBIC, QUINTIC)):
        own = np.array([[phi_k(GRID, k, coeffs).min(), phi_k(GRID, k, coeffs).max()]
                        for k in range(11)])
        assert np.allclose(ex.ranges[key], own, rtol=1e-12, atol=0)
    # Muon: the range stops changing after K = 5, in [0.68, 1.13], no closer to 1
    muon = np.array([[phi_k(GRID, k).min(), phi_k(GRID, k).max()] for k in range(11)])
    assert "[0.68, 1.13]" in text
    assert all(f"[{lo:.2f}, {hi:.2f}]" == "[0.68, 1.13]" for lo, hi in muon[5:])
    assert np.ptp(muon[5:], axis=0).max() < 1e-3
    far = np.maximum(1 - muon[:, 0], muon[:, 1] - 1)
    assert far[5:].min() > 0.3 and np.ptp(far[5:]) < 1e-3
    assert np.any(muon[:5] != muon[5])                     # it did change before K = 5
    # the cubic keeps 1 fixed; σ = 0.01 reaches only 0.53 after 10 steps
    assert all(phi_k(1.0, k, CUBIC) == 1.0 for k in range(11))
    assert "0.53" in text and f"{float(phi_k(0.01, 10, CUBIC)):.2f}" == "0.53"
    # Muon's slope lifts σ = 0.01 above 0.68 in 4 steps (not in 3)
    assert phi_k(0.01, 4) > 0.68 > phi_k(0.01, 3)
    # the quintic: every σ ≥ 0.01 within 0.001 of 1 after 9 steps, not after 8
    assert np.abs(phi_k(GRID, 9, QUINTIC) - 1).max() < 1e-3 < np.abs(phi_k(GRID, 8, QUINTIC) - 1).max()
    assert all(phi_k(1.0, k, QUINTIC) == 1.0 for k in range(11))
