"""Chapter 7's exercise checks: answers worked out independently here pass, and the usual
mistakes fail. The first half's (7.1, 7.2, 7.4, 7.5): the thresholds solved by hand, a clipped
gradient scaled by hand, λ_max by a dense eigendecomposition of a Hessian built from finite
differences of the tests' own network gradient, the clipped run recomputed with
test_claims_ch07's own network; gradient descent's limit in place of momentum's, the
unclipped rate, an unconverged power iteration fail. The second half's (7.3, 7.6, 7.7, 7.8):
Lion's first step, the polynomial on the singular values, the Newton–Schulz iteration and
sign descent in plain numpy. What every exercise must do for a learner (malformed answers,
messages) is tested for all chapters in tests/exercises/test_registry.py."""

from __future__ import annotations

import numpy as np

from network_reference import forward_backward
from optlib.exercises import check, exercises

IDS = ("7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "7.7", "7.8")


def test_the_chapter_registers_exactly_its_exercises():
    assert sorted(k for k in exercises() if k.startswith("7.")) == list(IDS)


def test_7_1_momentums_threshold_passes_and_gradient_descents_fails():
    alpha, beta = 2.0, 0.8
    assert check("7.1", 2 * (1 + beta) / (alpha * (1 - beta)))      # 9
    assert not check("7.1", 2 / alpha)                              # gradient descent's limit
    assert not check("7.1", 2 * (1 + beta) / alpha)                 # the heavy-ball form's, a = α


def test_7_2_clipped_rate_passes_and_the_unclipped_fails():
    alpha, c, norm = 0.4, 0.3, 0.8
    lr = alpha * min(1.0, c / norm)
    assert check("7.2", (lr, 2 / lr))                               # (0.15, 13.33)
    assert not check("7.2", (alpha, 2 / alpha))                     # as if not clipped
    assert not check("7.2", (lr, 2 / alpha))
    assert not check("7.2", (2 / lr, lr))                           # swapped


def test_7_4_lambda_max_by_a_dense_hessian_passes_and_a_rough_one_fails():
    from optlib.network import load_digits_split

    data = load_digits_split(test_fraction=0.25, seed=0)
    X, y = data.X_train[:300], data.y_train[:300]
    rng = np.random.default_rng(0)                                  # MLP(64, 16, 10) seed 0
    p = {"W1": rng.normal(0.0, np.sqrt(2 / 64), (64, 16)), "b1": np.zeros(16),
         "W2": rng.normal(0.0, np.sqrt(2 / 26), (16, 10)), "b2": np.zeros(10)}
    keys = ("W1", "b1", "W2", "b2")
    cuts = np.cumsum([p[k].size for k in keys])[:-1]
    w = np.concatenate([p[k].ravel() for k in keys])

    def grad(vec):
        parts = {k: part.reshape(p[k].shape) for k, part in zip(keys, np.split(vec, cuts))}
        g = forward_backward(parts, X, y)[1]
        return np.concatenate([g[k].ravel() for k in keys])

    h = 1e-6
    H = np.array([(grad(w + h * e) - grad(w - h * e)) / (2 * h) for e in np.eye(w.size)])
    lam = np.linalg.eigvalsh((H + H.T) / 2)
    assert check("7.4", lam[-1])
    assert not check("7.4", lam[-2])                                # the second eigenvalue
    assert not check("7.4", lam[-1] * 1.01)                         # 1 % off
    assert not check("7.4", np.trace(H) / w.size)                   # the mean curvature


def test_7_5_above_passes_and_the_others_fail():
    """The run recomputed with the tests' own network, gradient descent, clipping and Lanczos
    sharpness (test_claims_ch07's): the median ratio over the last 200 steps is above 1.1."""
    from optlib.network import load_digits_split
    from test_claims_ch07 import edge_run, start

    data = load_digits_split(test_fraction=0.25, seed=0)
    losses, ratios, norms, _ = edge_run(start(8), data.X_train, data.y_train, "gd", 0.7, 400,
                                        c=0.05)
    assert np.all(norms > 0.05)                                     # every step clipped
    assert np.median(ratios[20:]) > 1.1
    assert check("7.5", "above")
    assert not check("7.5", "at") and not check("7.5", "below")


# the second half's exercises
MUON = (3.4445, -4.7750, 2.0315)


def phi(s, coeffs=MUON):
    a, b, c = coeffs
    return a * s + b * s**3 + c * s**5


def test_7_3_lions_first_step():
    # c = (1 − β₁)g has the signs of g; each coordinate moves by −α(sign + δw)
    step = -0.003 * (np.array([1.0, 1.0, 0.0, -1.0]) + 0.4 * np.array([1.0, -2.5, 0.5, 3.0]))
    assert np.allclose(step, [-0.0042, 0.0, -0.0006, -0.0006], atol=1e-15)
    length = float(np.sqrt(np.sum(step**2)))
    assert abs(length - 0.003 * np.sqrt(2.04)) < 1e-15
    assert check("7.3", length)
    assert not check("7.3", 0.003 * np.sqrt(3))          # forgot the decay
    assert not check("7.3", 0.003 * 2)                   # sign(0) taken as 1, no decay
    assert not check("7.3", np.sqrt(0.0042**2 + 0.0006**2))   # dropped a coordinate
    no_tiny = -0.003 * (np.array([1.0, 0.0, 0.0, -1.0]) + 0.4 * np.array([1.0, -2.5, 0.5, 3.0]))
    assert not check("7.3", float(np.linalg.norm(no_tiny)))    # sign(1e-6) taken as 0


def test_7_6_singular_values_after_one_step():
    D = np.array([[9.0, -6.4], [12.0, 4.8]])
    assert np.allclose(np.linalg.svd(D, compute_uv=False), [15.0, 8.0])
    assert np.isclose(np.linalg.norm(D), 17.0)
    answer = (phi(15 / 17), phi(8 / 17))
    assert check("7.6", answer)
    assert not check("7.6", answer[::-1])                # swapped order
    assert not check("7.6", (phi(15.0), phi(8.0)))       # not normalised
    assert not check("7.6", (phi(15 / 23), phi(8 / 23)))  # divided by the sum, not ‖D‖_F
    assert not check("7.6", (1.0, 1.0))                  # the exact orthogonal factor
    assert not check("7.6", (phi(15 / 17, (1.5, -0.5, 0.0)), phi(8 / 17, (1.5, -0.5, 0.0))))   # the cubic


def test_7_7_newton_schulz_by_hand():
    D = np.array([[2.0, 0.0, 0.0, 3.0, 1.0], [1.0, 4.0, -2.0, 0.0, 0.0], [0.0, 1.0, -4.0, -1.0, 5.0]])
    a, b, c = MUON
    X = D / np.linalg.norm(D)
    for _ in range(3):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    # the same through the SVD: U φ³(Σ/‖D‖_F) Vᵀ
    U, S, Vt = np.linalg.svd(D, full_matrices=False)
    s = S / np.linalg.norm(D)
    for _ in range(3):
        s = phi(s)
    assert np.allclose(X, U @ np.diag(s) @ Vt, atol=1e-12)
    assert check("7.7", X[0])
    assert not check("7.7", (U @ Vt)[0])                 # the exact orthogonal factor
    Y = D / np.linalg.norm(D)                              # five steps instead of three
    for _ in range(5):
        A = Y @ Y.T
        Y = a * Y + (b * A + c * A @ A) @ Y
    assert not check("7.7", Y[0])
    Z = D / np.abs(D).max()                                # another normalisation
    for _ in range(3):
        A = Z @ Z.T
        Z = a * Z + (b * A + c * A @ A) @ Z
    assert not check("7.7", Z[0])


def test_7_8_the_bounce_of_sign_descent():
    lam, w = np.array([1.0, 25.0]), np.array([-6.4, 1.7])
    losses = []
    for _ in range(60):
        w = w - 0.45 * np.sign(lam * w)                   # sign descent (ε of RMSprop aside)
        losses.append(0.5 * np.sum(lam * w * w))
    lower, higher = min(losses[-2:]), max(losses[-2:])
    assert np.allclose(losses[40::2], losses[40]) and np.allclose(losses[41::2], losses[41])
    # 6.4 = 14·0.45 + 0.1 and 1.7 = 3·0.45 + 0.35: W1 bounces between 0.1 and 0.35, W2 between
    # 0.35 and 0.1, and (14 and 3 of different parity) W1 is near when W2 is far
    assert abs(lower - 0.5 * (0.1**2 + 25 * 0.1**2)) < 1e-9
    assert abs(higher - 0.5 * (0.35**2 + 25 * 0.35**2)) < 1e-9
    assert check("7.8", (lower, higher))
    assert not check("7.8", (higher, lower))             # swapped
    both_near = 0.5 * (0.1**2 + 25 * 0.35**2)             # parity ignored: both at the near point
    both_far = 0.5 * (0.35**2 + 25 * 0.1**2)
    assert not check("7.8", (both_near, both_far))
    assert not check("7.8", (0.17, 0.7825))              # the chapter's α = 0.35 from (−8, 1.5)
