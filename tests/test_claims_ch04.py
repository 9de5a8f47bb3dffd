"""Qualitative claims of chapter 4 (Adam), recomputed independently with plain numpy.

Each test states the claim of the chapter it checks. The updates are written out here
(not taken from optlib), except where a test checks that optlib does what the text says.
"""

from __future__ import annotations

import numpy as np
import pytest

from optlib import Adam, AdamW

B1, B2, EPS = 0.9, 0.999, 1e-8
BOWL = np.array([1.0, 25.0])              # the chapter's bowl: curvatures 1 and 25
BOWL_START = np.array([-8.0, 1.5])


# --- plain numpy optimizers -------------------------------------------------------------
def adam_path(grad, w0, steps, lr, b1=B1, b2=B2, eps=EPS, decay=0.0, form="optlib"):
    """Adam's iterates; decay: decoupled weight decay, w -= lr*decay*w ("optlib", as torch)
    or w -= decay*w (Loshchilov & Hutter with the schedule multiplier eta_t = 1)."""
    w = np.array(w0, float)
    v, s, path = np.zeros_like(w), np.zeros_like(w), [w.copy()]
    for t in range(1, steps + 1):
        g = grad(w)
        w = w - (lr * decay if form == "optlib" else decay) * w
        v, s = b1 * v + (1 - b1) * g, b2 * s + (1 - b2) * g * g
        w = w - lr * (v / (1 - b1 ** t)) / (np.sqrt(s / (1 - b2 ** t)) + eps)
        path.append(w.copy())
    return np.array(path)


def rmsprop_path(grad, w0, steps, lr, beta, eps=EPS):
    w = np.array(w0, float)
    s, path = np.zeros_like(w), [w.copy()]
    for _ in range(steps):
        g = grad(w)
        s = beta * s + (1 - beta) * g * g
        w = w - lr * g / (np.sqrt(s) + eps)
        path.append(w.copy())
    return np.array(path)


def gd_path(grad, w0, steps, lr):
    w = np.array(w0, float)
    path = [w.copy()]
    for _ in range(steps):
        w = w - lr * grad(w)
        path.append(w.copy())
    return np.array(path)


def bowl_loss(path, center=0.0):
    return 0.5 * np.sum(BOWL * (path - center) ** 2, axis=-1)


def first(mask):
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else -1


def raw_ratio(grads, b1=B1, b2=B2):
    """Adam's uncorrected ratio v_t/sqrt(s_t) after the last gradient."""
    v = s = 0.0
    for g in grads:
        v, s = b1 * v + (1 - b1) * g, b2 * s + (1 - b2) * g * g
    return v / np.sqrt(s)


# --- how long a step can be ---------------------------------------------------------------
LONGEST = (1 - B1) / np.sqrt((1 - B2) * (1 - B1 ** 2 / B2))


def test_longest_step_is_7_27_alpha_not_3_16():
    """'... approached by gradients growing by β₂/β₁ (11 % a step): ≈ 7.27' (without the bias
    correction). The old text: 'the step is up to α(1 − β₁)/√(1 − β₂) ≈ 3.16α'."""
    assert LONGEST == pytest.approx(7.2703, abs=1e-4)
    assert B2 / B1 == pytest.approx(1.11)
    growing = (B2 / B1) ** np.arange(300)
    assert raw_ratio(growing) == pytest.approx(LONGEST, rel=1e-9)
    assert raw_ratio(growing[:30]) > 7.26 > (1 - B1) / np.sqrt(1 - B2)
    # Cauchy–Schwarz: no sequence beats the bound
    rng = np.random.default_rng(4)
    for _ in range(300):
        grads = rng.normal(size=150) * np.exp(rng.normal(0, 0.1) * np.arange(150))
        assert abs(raw_ratio(grads)) <= LONGEST * (1 + 1e-12)


def test_a_single_gradient_after_silence_gives_3_16_alpha():
    """'One that appears after a long silence ... α(1 − β₁)/√(1 − β₂) ≈ 3.16α'."""
    assert raw_ratio(np.r_[np.zeros(20_000), 1.0]) == pytest.approx(0.1 / np.sqrt(0.001), rel=1e-8)


def test_with_the_correction_the_bound_rises_from_alpha_to_the_limit():
    """'with the corrections, the longest possible step at step t rises from α at t = 1 towards
    that limit', and Adam itself comes close to 7.27α after many steps."""
    t = np.arange(1, 30_001)
    r = B1 ** 2 / B2
    bound = (1 - B1) / (1 - B1 ** t) * np.sqrt((1 - B2 ** t) / (1 - B2) * (1 - r ** t) / (1 - r))
    assert bound[0] == pytest.approx(1.0)
    assert np.all(np.diff(bound) >= -1e-15) and bound[-1] == pytest.approx(LONGEST, rel=1e-6)
    grads = np.r_[np.zeros(10_000), (B2 / B1) ** np.arange(100)]
    v = s = 0.0
    for k, g in enumerate(grads, start=1):
        v, s = B1 * v + (1 - B1) * g, B2 * s + (1 - B2) * g * g
        step = (v / (1 - B1 ** k)) / np.sqrt(s / (1 - B2 ** k)) if s else 0.0
        assert step <= bound[k - 1] * (1 + 1e-12)
    assert step > 7.26


# --- AMSGrad ------------------------------------------------------------------------------
def amsgrad_sizes(grads, b2=B2):
    """Bias-corrected AMSGrad step sizes 1/sqrt(s_max/(1 − β₂ᵗ)) (ε = 0) and s_max."""
    s = smax = 0.0
    sizes, smaxes = [], []
    for t, g in enumerate(grads, start=1):
        s = b2 * s + (1 - b2) * g * g
        smax = max(smax, s)
        sizes.append(1 / np.sqrt(smax / (1 - b2 ** t)))
        smaxes.append(smax)
    return np.array(sizes), np.array(smaxes)


def test_amsgrad_step_size_can_grow_while_s_max_never_decreases():
    """'s_max never decreases' — but 'the per-parameter step size never grows' (the old text
    and the old Adam docstring) is false with the bias correction: one gradient of 10, then
    0.1s, and the step size grows 25-fold by t = 1000."""
    grads = np.r_[10.0, np.full(999, 0.1)]
    sizes, smax = amsgrad_sizes(grads)
    assert np.all(np.diff(smax) >= 0) and np.all(np.diff(sizes) > 0)
    assert sizes[-1] / sizes[0] == pytest.approx(25.1, abs=0.05)
    assert sizes[-1] / sizes[0] < 1 / np.sqrt(1 - B2)          # 'by up to 1/√(1 − β₂)'
    # optlib's Adam(amsgrad=True) is this rule (the docstring describes optlib)
    w, opt = np.zeros(1), Adam(lr=1.0, beta1=0.0, eps=0.0, amsgrad=True)
    for t, g in enumerate(grads):
        before = w[0]
        opt.step(w, np.array([g]))
        assert (before - w[0]) / g == pytest.approx(sizes[t], rel=1e-12)
    # random gradients: s_max never decreases
    _, smax = amsgrad_sizes(np.random.default_rng(0).normal(size=3000) * np.linspace(3, 0.1, 3000))
    assert np.all(np.diff(smax) >= 0)


def test_amsgrad_without_correction_never_grows():
    """'Reddi et al.'s AMSGrad has no bias correction; there α_t/√s_max never grows.'"""
    grads = np.random.default_rng(1).normal(size=2000) * np.linspace(0.1, 3, 2000)
    s = smax = 0.0
    sizes = []
    for t, g in enumerate(grads, start=1):
        s = B2 * s + (1 - B2) * g * g
        smax = max(smax, s)
        sizes.append((1 / np.sqrt(t)) / np.sqrt(smax))
    assert np.all(np.diff(sizes) <= 0)


# --- AdamW --------------------------------------------------------------------------------
def test_optlib_adamw_is_loshchilov_hutter_with_delta_prime_alpha_delta():
    """'optlib's AdamW ... decays by αδ per step: it is their form with δ′ = αδ. Here changing α
    changes the decay too' (the old text: 'makes the best λ nearly independent of α', λ then the decay)."""
    rng = np.random.default_rng(2)
    w0 = rng.normal(size=5)
    grad = lambda w: np.linspace(0.5, 3.0, 5) * (w - 1.0)
    for lr, delta in ((0.01, 0.1), (0.05, 0.5)):
        w, opt = w0.copy(), AdamW(lr=lr, weight_decay=delta)
        for _ in range(50):
            opt.step(w, grad(w))
        lh = adam_path(grad, w0, 50, lr, decay=lr * delta, form="L&H")[-1]
        assert np.allclose(w, lh, rtol=0, atol=1e-12)
    # the decay per step of optlib's AdamW, for a zero gradient, depends on α; L&H's does not
    decays = []
    for lr in (1e-3, 1e-2):
        w = np.ones(1)
        AdamW(lr=lr, weight_decay=0.1).step(w, np.zeros(1))
        decays.append(1 - w[0])
    assert decays[1] == pytest.approx(10 * decays[0])
    assert adam_path(lambda w: 0 * w, [1.0], 1, 1e-3, decay=0.1, form="L&H")[-1, 0] == \
        adam_path(lambda w: 0 * w, [1.0], 1, 1e-2, decay=0.1, form="L&H")[-1, 0]


def test_adamw_rest_point_is_one_over_delta_in_optlib_form_alpha_over_delta_in_lh():
    """'in optlib's [form] ... |W_i| = 1/δ whatever α is; in theirs ... |W_i| = α/δ′'."""
    center = np.array([4.0, 4.0])
    grad = lambda w: np.array([1.0, 100.0]) * (w - center)
    for lr in (0.05, 0.1):
        rest = adam_path(grad, [0.0, 0.0], 30_000, lr, b2=0.99, decay=0.5)[-1]
        assert np.allclose(rest, 1 / 0.5, atol=1e-3)
        rest_lh = adam_path(grad, [0.0, 0.0], 30_000, lr, b2=0.99, decay=0.5, form="L&H")[-1]
        assert np.allclose(rest_lh, lr / 0.5, atol=1e-3)


def test_adamw_approaches_its_rest_point_slowly_because_s_forgets_slowly():
    """'approached slowly because ŝ forgets the early, larger gradients only over about
    1/(1 − β₂) = 1000 steps': with a shorter memory the approach is much faster."""
    center = np.array([4.0, 4.0])
    grad = lambda w: np.array([1.0, 100.0]) * (w - center)
    gap = {b2: abs(adam_path(grad, [0.0, 0.0], 1000, 0.05, b2=b2, decay=0.5)[-1, 0] - 2.0)
           for b2 in (0.999, 0.99)}
    assert gap[0.999] > 0.05 and gap[0.99] < gap[0.999] / 10


# --- settling on the bowl -----------------------------------------------------------------
def test_rmsprop_rattles_because_of_its_short_memory_not_for_lack_of_averaging():
    """'What keeps RMSprop from settling here is the short memory of its scale, not a missing
    average of the direction: RMSprop with β = 0.999 settles too, and so does Adam with
    β₁ = 0' (the old text: 'with nothing averaging the direction it never settles')."""
    grad = lambda w: BOWL * w
    short = bowl_loss(rmsprop_path(grad, BOWL_START, 150, 0.1, beta=0.9))
    long = bowl_loss(rmsprop_path(grad, BOWL_START, 150, 0.1, beta=0.999))
    adam0 = bowl_loss(adam_path(grad, BOWL_START, 150, 0.2, b1=0.0))
    assert first(short <= 1e-4) == -1 and short[-1] > 1e-2
    assert first(long <= 1e-4) == 17 and first(adam0 <= 1e-4) == 128


def test_with_a_constant_alpha_none_converges_adam_included():
    """'with a constant α none of them converges, Adam included ... the loss climbs back'; for
    Adam the turn comes where α/(√ŝ₂ + ε) passes momentum's limit 2(1 + β₁)/((1 − β₁)·25)."""
    grad = lambda w: BOWL * w
    back = {}
    for name, path in (("RMSprop .999", rmsprop_path(grad, BOWL_START, 8000, 0.1, beta=0.999)),
                       ("Adam b1=0", adam_path(grad, BOWL_START, 8000, 0.2, b1=0.0)),
                       ("Adam", adam_path(grad, BOWL_START, 8000, 0.2))):
        loss = bowl_loss(path)
        low = first(loss <= 1e-4)
        back[name] = low + first(loss[low:] > 1e-2)
        assert low > 0 and back[name] > low
    assert back == {"RMSprop .999": 1720, "Adam b1=0": 1510, "Adam": 6323}
    # Adam's turn: its effective learning rate in W2 at the lowest point
    path = adam_path(grad, BOWL_START, 7000, 0.2)
    turn = int(np.argmin(bowl_loss(path)))
    s = 0.0
    for g in (BOWL * path[:turn])[:, 1]:
        s = B2 * s + (1 - B2) * g * g
    rate = 0.2 / (np.sqrt(s / (1 - B2 ** turn)) + EPS)
    assert rate == pytest.approx(2 * (1 + B1) / ((1 - B1) * 25), rel=0.01)


# --- the exploration's bullets ------------------------------------------------------------
def swings(x):
    """Widths of the excursions of x between sign changes (the first one is the start)."""
    cuts = np.flatnonzero(np.diff(np.sign(x)) != 0) + 1
    return np.array([np.abs(part).max() for part in np.split(x, cuts)])


def test_beta1_0_9_swings_across_the_floor_each_swing_about_half_the_last():
    """'β₁ = 0.9 swings across the floor, each swing about half as wide as the one before'
    (the old text: 'once or twice'); 'β₁ = 0 ... no overshoot'."""
    path = adam_path(lambda w: BOWL * w, BOWL_START, 100, 0.2)
    widths = swings(path[:, 1])[1:]
    assert len(widths) > 2                                   # more than 'once or twice'
    assert np.all((widths[1:] / widths[:-1] > 0.4) & (widths[1:] / widths[:-1] < 0.6))
    assert len(swings(adam_path(lambda w: BOWL * w, BOWL_START, 100, 0.2, b1=0.0)[:, 1])) == 1


def test_beta2_0_999_gives_a_smoother_loss_than_0_9():
    """'with β₂ = 0.9 ... the loss curve is jagged; with β₂ = 0.999 ... smoother' (the old text:
    'the descent is smooth', but the loss still rises in 13 of the 100 steps)."""
    rises = {}
    for b2 in (0.9, 0.999):
        d = np.diff(bowl_loss(adam_path(lambda w: BOWL * w, BOWL_START, 100, 0.2, b2=b2)))
        rises[b2] = d[d > 0]
    assert 0 < len(rises[0.999]) < len(rises[0.9]) and rises[0.999].max() < rises[0.9].max() / 10


# --- the race -----------------------------------------------------------------------------
def saddle_steps(path_fn, degrees, tol=1e-2):
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    R = np.array([[c, -s], [s, c]])
    def grad(w):
        x, y = w @ R
        return np.array([x, y ** 3 - y]) @ R.T
    path = path_fn(grad, R @ np.array([1.5, 1e-3])) @ R
    x, y = path[:, 0], path[:, 1]
    gap = 0.5 * x ** 2 + 0.25 * y ** 4 - 0.5 * y ** 2 + 0.25
    return first(gap <= tol)


def test_the_adaptive_lead_at_the_saddle_comes_from_axis_alignment():
    """'Turn the saddle by 45° ... most of the lead is gone, while gradient descent ... needs
    the same steps' (the old text: the adaptive methods win 'by a wide margin' because they
    divide the tiny component by its own size, with no mention of the axes)."""
    gd = [saddle_steps(lambda g, w0: gd_path(g, w0, 200, 0.1), d) for d in (0, 45)]
    adam = [saddle_steps(lambda g, w0: adam_path(g, w0, 200, 0.1), d) for d in (0, 45)]
    assert gd == [79, 79] and adam == [19, 67]
    assert adam[1] > 3 * adam[0] and gd[1] - adam[1] < (gd[0] - adam[0]) / 4   # most of the lead gone


def test_adamw_head_start_on_the_bowl_comes_from_the_minimum_at_the_origin():
    """'AdamW's head start on the bowls is an artefact: the minimum is at the origin.'"""
    def steps(center, decay):
        grad = lambda w: BOWL * (w - center)
        path = adam_path(grad, BOWL_START + center, 200, 0.2, decay=decay)
        return first(bowl_loss(path, center) <= 1e-2)
    origin = np.zeros(2)
    assert steps(origin, 1e-2) < 0.7 * steps(origin, 0.0)
    for center in ([4.0, 0.0], [8.0, 0.0], [-4.0, 2.0]):
        assert steps(np.array(center), 1e-2) > 0.7 * steps(np.array(center), 0.0)


def beale_loss(w):
    x, y = w[..., 0], w[..., 1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def beale_grad(w):
    x, y = w
    a, b, c = 1.5 - x + x * y, 2.25 - x + x * y ** 2, 2.625 - x + x * y ** 3
    return np.array([2 * a * (y - 1) + 2 * b * (y ** 2 - 1) + 2 * c * (y ** 3 - 1),
                     2 * a * x + 4 * b * x * y + 6 * c * x * y ** 2])


def test_adamw_on_beale_is_slower_but_does_not_level_off():
    """'AdamW is slower ... after 200 steps it is still just above 1e-2, and it keeps creeping
    down only slowly' (the old text: 'AdamW levels off near 1e-2')."""
    adamw = beale_loss(adam_path(beale_grad, [1.0, 1.5], 1000, 0.2, decay=1e-2))
    adam = beale_loss(adam_path(beale_grad, [1.0, 1.5], 200, 0.2))
    assert 1e-2 < adamw[200] < 2e-2 and adam[200] < 1e-3
    assert adamw[1000] < adamw[200] / 3 and adamw[500] < adamw[300] < adamw[200]


# --- the first step -----------------------------------------------------------------------
def test_the_first_step_is_alpha_up_to_eps():
    """'the first step is ±α (up to ε)': exactly α|g|/(|g| + ε)."""
    for g in (0.5, -2.0, 3e-7, 1e-9):
        w = np.zeros(1)
        Adam(lr=1.0).step(w, np.array([g]))
        assert -w[0] == pytest.approx(np.sign(g) * abs(g) / (abs(g) + EPS), rel=1e-12)


# --- claims added or reworded with the notation of chapter 4 (v, s, c_t, q_t, δ) ---------
def test_rmsprop_moves_about_alpha_only_once_its_average_has_filled():
    """'Adam, like RMSprop once its average of squares has filled up, moves each parameter by
    about α per step' (the old text: 'like RMSprop', but RMSprop(β = 0.9)'s first step on the
    line fit is 1/√(1 − β) ≈ 3.16α, while Adam's is α)."""
    grad = lambda w: np.array([27.3536, 9.6757]) + 0 * w          # the line fit's first gradients
    rms = rmsprop_path(grad, [-1.0, -1.0], 60, 0.1, beta=0.9)
    steps = np.abs(np.diff(rms, axis=0)) / 0.1
    assert np.allclose(steps[0], 1 / np.sqrt(0.1), rtol=1e-6)    # 3.16α: not 'about α'
    assert not np.allclose(steps[0], 1.0, rtol=0.5)
    assert np.allclose(steps[-1], 1.0, rtol=1e-2)                  # filled up: about α
    adam = np.abs(np.diff(adam_path(grad, [-1.0, -1.0], 1, 0.1), axis=0)) / 0.1
    assert np.allclose(adam[0], 1.0, rtol=1e-8)


def test_below_eps_adam_is_momentum_on_v_hat_with_learning_rate_alpha_over_eps():
    """'ε sets a gradient scale below which Adam ... behaves like momentum (on the
    bias-corrected average v̂) with learning rate α/ε' (the old text: 'like gradient descent
    with learning rate α/ε', which holds for the first step only)."""
    rng = np.random.default_rng(3)
    grads = 1e-11 * (1 + rng.normal(size=60))
    lr, v, s = 1e-3, 0.0, 0.0
    adam, momentum, gd = [], [], []
    for t, g in enumerate(grads, start=1):
        v, s = B1 * v + (1 - B1) * g, B2 * s + (1 - B2) * g * g
        v_hat, s_hat = v / (1 - B1 ** t), s / (1 - B2 ** t)
        adam.append(lr * v_hat / (np.sqrt(s_hat) + EPS))
        momentum.append(lr / EPS * v_hat)
        gd.append(lr / EPS * g)
    adam, momentum, gd = map(np.array, (adam, momentum, gd))
    assert np.allclose(adam, momentum, rtol=1e-2, atol=0)
    assert adam[0] == pytest.approx(gd[0], rel=1e-2)                # the first step: like GD
    assert np.max(np.abs(adam / gd - 1)) > 0.5                      # later: not gradient descent


def test_beta1_0_99_sails_far_past_in_one_slow_swing():
    """'β₁ = 0.99 (a window of 100 steps) sails far past the minimum in one long, slow swing and
    is still on its way back after 100 steps' (the old text: 'in long, slow swings')."""
    w1 = adam_path(lambda w: BOWL * w, BOWL_START, 100, 0.2, b1=0.99)[:, 0]
    crossings = np.count_nonzero(np.diff(np.sign(w1)) != 0)
    assert crossings == 1                                           # one swing, not 'swings'
    assert w1.max() > 3 and 0 < w1[-1] < w1.max() and w1[-1] < w1[-2]
    # at β₁ = 0.9 the same run crosses several times: the claim is specific to 0.99
    w1 = adam_path(lambda w: BOWL * w, BOWL_START, 100, 0.2, b1=0.9)[:, 0]
    assert np.count_nonzero(np.diff(np.sign(w1)) != 0) != 1 or w1.max() < 3


def test_c_t_is_the_factor_the_correction_multiplies_the_raw_step_by():
    """'c_t = √(1 − β₂ᵗ)/(1 − β₁ᵗ) is the factor by which the correction multiplies the raw
    step': for a constant gradient, corrected step = c_t · uncorrected step; 1/c_1 ≈ 3.2 and
    1/c_t > 6 around t = 10."""
    t = np.arange(1, 101)
    c = np.sqrt(1 - B2 ** t) / (1 - B1 ** t)
    v = (1 - B1 ** t) * 1.0
    s = (1 - B2 ** t) * 1.0
    raw, corrected = v / np.sqrt(s), (v / (1 - B1 ** t)) / np.sqrt(s / (1 - B2 ** t))
    assert np.allclose(corrected, c * raw, rtol=1e-12)
    assert round(1 / c[0], 1) == 3.2 and np.all(1 / c[5:23] > 6)          # t = 6 ... 23


def test_adagrad_step_sizes_never_grow_but_its_steps_can():
    """The Adagrad docstring: 'since s_t never decreases, the step sizes α/(√s_t + ε) never
    grow' (it said 'the steps shrink forever', false for growing gradients: g = 1, 1, 1000
    gives steps α, 0.71α, ≈ α)."""
    from optlib import Adagrad
    w, opt, steps, sizes = np.zeros(1), Adagrad(lr=1.0, eps=0.0), [], []
    for g in (1.0, 1.0, 1000.0):
        before = w[0]
        opt.step(w, np.array([g]))
        steps.append(before - w[0])
        sizes.append(steps[-1] / g)
    assert steps[2] > steps[1]                                      # a step grew
    assert np.all(np.diff(sizes) < 0)                               # step sizes did not


def _adam_vs_momentum_on_v_hat(g0_over_eps, steps=300, lr=1e-3, eps=1e-8, b1=0.9, b2=0.999,
                               lam=1e-7):
    """Largest gap, relative to the start, between Adam and momentum on the bias-corrected
    average v̂ with learning rate α/ε, on f = λw²/2 (λα/ε = 0.01, so that momentum is stable)
    started where the gradient is g0."""
    w_adam = w_mom = g0_over_eps * eps / lam
    start = w_adam
    v1 = s1 = v2 = 0.0
    worst = 0.0
    for t in range(1, steps + 1):
        g = lam * w_adam
        v1 = b1 * v1 + (1 - b1) * g
        s1 = b2 * s1 + (1 - b2) * g * g
        w_adam -= lr * (v1 / (1 - b1 ** t)) / (np.sqrt(s1 / (1 - b2 ** t)) + eps)
        g = lam * w_mom
        v2 = b1 * v2 + (1 - b1) * g
        w_mom -= lr / eps * v2 / (1 - b1 ** t)
        worst = max(worst, abs(w_adam - w_mom) / abs(start))
    return worst


def test_adam_is_momentum_with_lr_over_eps_only_for_gradients_much_smaller_than_eps():
    # Chapter 4, "Where ε sits": "for gradients much smaller than ε it behaves like momentum
    # (on v̂) with learning rate α/ε". The old sentence said so for every gradient below ε.
    assert _adam_vs_momentum_on_v_hat(1e-4) < 1e-3
    assert _adam_vs_momentum_on_v_hat(0.3) > 0.05          # "below ε" is not enough
    assert _adam_vs_momentum_on_v_hat(1.0) > 0.2
