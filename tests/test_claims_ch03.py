"""The qualitative claims of chapter 3 (RMSprop) that no printed output shows.

Every check recomputes the claim with plain numpy (its own Adagrad / RMSprop / gradient
descent loops, no optlib) and, next to the claim, states the false version it replaced or
rules out: each ``assert not claim(...)`` line is that false version failing. The loops use
element-wise arithmetic only (no BLAS), so every machine computes the same bits.
"""

from __future__ import annotations

import numpy as np
import pytest

START = np.array([-8.0, 1.5])          # Quadratic()'s start in its eigenbasis
SLIDER_LRS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5)   # the contour exploration's α


def bowl(curvatures=(1.0, 25.0), angle=0.0):
    """Hessian and start of optlib's Quadratic (rotation R(θ), start R(θ)(−8, 1.5))."""
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    hess = rot @ np.diag(curvatures) @ rot.T
    return 0.5 * (hess + hess.T), rot @ START, rot


def grad(hess, w):
    """H w for a batch of points (..., 2), element-wise."""
    return np.stack([hess[0, 0] * w[..., 0] + hess[0, 1] * w[..., 1],
                     hess[1, 0] * w[..., 0] + hess[1, 1] * w[..., 1]], axis=-1)


def rmsprop(hess, w0, lr, steps, beta=0.9, eps=1e-8):
    """Points (steps+1, K, 2) and step sizes (steps, K, 2) for K learning rates at once."""
    lr = np.atleast_1d(np.asarray(lr, dtype=float))[:, None]
    w = np.broadcast_to(np.asarray(w0, dtype=float), lr.shape[:1] + (2,)).copy()
    s = np.zeros_like(w)
    points, sizes = [w.copy()], []
    for _ in range(steps):
        g = grad(hess, w)
        s = beta * s + (1 - beta) * g * g
        size = lr / (np.sqrt(s) + eps)
        w = w - size * g
        points.append(w.copy())
        sizes.append(size)
    return np.array(points), np.array(sizes)


def gradient_descent(hess, w0, lr, steps):
    w, points = np.asarray(w0, dtype=float).copy(), []
    points.append(w.copy())
    for _ in range(steps):
        w = w - lr * grad(hess, w)
        points.append(w.copy())
    return np.array(points)


def settling_step(points, fraction=0.01):
    """First step from which every later point stays within fraction of the initial distance."""
    d = np.sqrt(points[..., 0] ** 2 + points[..., 1] ** 2)
    outside = ~(d <= fraction * d[0])
    last = outside.shape[0] - 1 - np.argmax(outside[::-1], axis=0)    # last step outside
    return np.where(outside[-1], -1, np.where(outside.any(axis=0), last + 1, 0))


# ---------------------------------------------------------------------------------------------
# Adagrad
# ---------------------------------------------------------------------------------------------
def test_adagrad_on_the_bowl_freezes_its_step_sizes_not_its_steps():
    """Learning goal 1 and the summary: the step *sizes* freeze on the noise-free bowl (the old
    text said the steps freeze; the step lengths go on shrinking with the gradient)."""
    hess, w, _ = bowl()
    s, sizes, lengths = np.zeros(2), [], []
    for _ in range(400):
        g = grad(hess, w)
        s = s + g * g
        size = 1.0 / (np.sqrt(s) + 1e-10)
        lengths.append(np.abs(size * g))
        sizes.append(size)
        w = w - size * g
    sizes, lengths = np.array(sizes), np.array(lengths)

    def frozen(x):                      # the same from step 200 to 400, to 1e-6 relative
        return bool(np.all(np.abs(x[399] - x[199]) <= 1e-6 * np.abs(x[199])))

    assert frozen(sizes)
    assert not frozen(lengths)          # false version: "the steps freeze"
    assert np.all(lengths[399] < 1e-6 * lengths[0])


def test_adagrad_sum_is_dominated_by_the_large_gradients_for_a_million_steps_not_for_ever():
    """"Adagrad's sum is then dominated by the first phase for a very long time ... it takes a
    million [small gradients] to double it" (the old text: "for ever")."""
    old = 100 * 10.0 ** 2
    small = np.cumsum(np.full(2_000_000, 0.1 ** 2))       # the small gradients' part of s
    first_not_dominated = int(np.argmax(small >= old)) + 1
    assert 0.99e6 <= first_not_dominated <= 1.01e6
    assert not bool(np.all(small < old))                    # false version: "for ever"


# ---------------------------------------------------------------------------------------------
# RMSprop forgets
# ---------------------------------------------------------------------------------------------
def test_rmsprop_after_87_small_gradients_steps_0_7_alpha_and_alpha_only_later():
    """87 = ln(1e4)/ln(1/0.9) steps after the switch the old and new parts of s are equal and the
    step is about 0.7 α; it is within 1 % of α from the 125th small gradient on. The old text
    said RMSprop steps by α again after those 87 steps."""
    beta, alpha = 0.9, 0.1
    s, lengths = 0.0, []
    for gt in np.where(np.arange(1, 301) <= 100, 10.0, 0.1):
        s = beta * s + (1 - beta) * gt * gt
        lengths.append(alpha * gt / (np.sqrt(s) + 1e-8))
    after = np.array(lengths[100:])                      # after[k - 1]: k-th small gradient
    k = np.log(1e4) / np.log(1 / beta)
    assert round(k) == 87
    assert abs(after[86] / alpha - 0.7) < 0.01
    assert not after[86] >= 0.99 * alpha                 # false version: "steps by α again"
    assert int(np.argmax(after >= 0.99 * alpha)) + 1 == 125
    assert np.all(np.diff(after) > 0)                    # and stays within 1 % from then on


# ---------------------------------------------------------------------------------------------
# The bounce
# ---------------------------------------------------------------------------------------------
def test_the_step_size_drops_back_some_thirty_steps_after_passing_its_limit():
    """"Once it has grown past 2/λᵢ ... some thirty steps later (α = 0.1, β = 0.9) it has been
    thrown out far enough to rebuild sᵢ, and the step size drops back (the jumps ... at t ≈ 90 for
    W2 and t ≈ 180 for W1)". The old text said "a few steps later"."""
    hess, w0, _ = bowl()
    _, sizes = rmsprop(hess, w0, 0.1, 300)
    sizes = sizes[:, 0]
    for i, (lam, jump_near) in enumerate(((1.0, 180), (25.0, 90))):
        passed = int(np.argmax(sizes[:, i] > 2 / lam)) + 1               # step t
        ratio = sizes[1:, i] / sizes[:-1, i]
        jump = int(np.argmin(ratio)) + 2                                  # biggest drop, step t
        assert abs(jump - jump_near) <= 5, (i, jump)
        assert 25 <= jump - passed <= 40, (i, passed, jump)
        assert not jump - passed <= 5                                    # false: "a few steps"


# ---------------------------------------------------------------------------------------------
# The contour exploration's "things to try"
# ---------------------------------------------------------------------------------------------
def test_beta_0_9_path_does_not_zigzag_on_the_way_except_the_first_step_at_alpha_0_5():
    """ε = 1e-8, β = 0.9: no zig-zag on the way down the valley (W2 does not cross its floor by
    more than round-off while W1 is still far away), except at α = 0.5, whose first step,
    3.16 α = 1.58, overshoots W2's floor once by 0.08. The old text: "no zig-zag at any α"."""
    hess, w0, _ = bowl()
    points, _ = rmsprop(hess, w0, SLIDER_LRS, 80)
    on_the_way = np.abs(points[..., 0]) > 0.5                # W1 has not arrived yet
    overshoot = np.where(on_the_way, -points[..., 1], -np.inf).max(axis=0)   # W2 starts > 0
    by_lr = dict(zip(SLIDER_LRS, overshoot))
    assert all(by_lr[lr] < 1e-3 for lr in SLIDER_LRS if lr != 0.5)
    assert 0.07 < by_lr[0.5] < 0.09 and points[1, -1, 1] < 0 < points[2, -1, 1] + 0.07
    assert not all(v < 1e-3 for v in by_lr.values())      # false version: "at any α"


def test_beta_0_99_first_step_overshoots_only_from_alpha_0_2_on():
    """β = 0.99: the first step is 10 α long and takes W2 to 1.5 − 10 α (−3.5 at α = 0.5); at
    α = 0.15 it lands on the floor and below it stops short. The old text said the first steps
    "overshoot wildly" — not at the default α = 0.1."""
    hess, w0, _ = bowl()
    points, _ = rmsprop(hess, w0, SLIDER_LRS, 80, beta=0.99)
    first = dict(zip(SLIDER_LRS, points[1, :, 1]))
    for lr, w2 in first.items():
        assert abs(w2 - (1.5 - 10 * lr)) < 1e-6
    lowest = dict(zip(SLIDER_LRS, points[..., 1].min(axis=0)))
    assert all(lowest[lr] > -1e-6 for lr in (0.02, 0.05, 0.1, 0.15))
    assert all(lowest[lr] < -0.4 for lr in (0.2, 0.3, 0.5))
    assert not lowest[0.1] < -0.1                           # false version at the default α


def test_eps_10_is_gradient_descent_with_a_step_between_a_quarter_of_and_alpha_over_eps():
    """ε = 10: √s reaches about 30, so the step sizes α/(√s + ε) lie between about a quarter of
    α/ε and α/ε, and the loss falls at every step. The old text: "nearly become gradient descent
    with step α/ε" — the sizes are far from α/ε at first."""
    hess, w0, _ = bowl()
    points, sizes = rmsprop(hess, w0, SLIDER_LRS, 80, eps=10.0)
    relative = sizes / (np.array(SLIDER_LRS)[:, None] / 10.0)
    root_s = 10.0 * (1 / relative - 1)
    assert 25 < root_s.max() < 32
    assert 0.25 < relative.min() < 0.3 and relative.max() <= 1.0
    assert not relative.min() > 0.9                          # false version: "nearly" α/ε
    loss = 0.5 * (points[..., 0] ** 2 + 25 * points[..., 1] ** 2)
    assert np.all(np.diff(loss, axis=0) < 0)


# ---------------------------------------------------------------------------------------------
# Scaling the bowl
# ---------------------------------------------------------------------------------------------
def test_at_c_1e_8_the_gradient_of_w2_is_below_eps_within_20_steps():
    hess, w0, _ = bowl((1e-8, 25e-8))
    points, _ = rmsprop(hess, w0, 0.1, 30)
    g2 = np.abs(grad(hess, points[:, 0])[:, 1])
    first = int(np.argmax(g2 < 1e-8))                       # after this many steps
    assert first <= 20
    assert not first <= 10                                  # a tighter claim would be false


# ---------------------------------------------------------------------------------------------
# The rotated bowl
# ---------------------------------------------------------------------------------------------
def test_rotated_step_sizes_differ_by_a_factor_of_order_one_aligned_ones_do_not():
    hess, w0, _ = bowl(angle=np.pi / 4)
    _, sizes = rmsprop(hess, w0, 0.1, 300)
    rotated = sizes[:, 0, 0] / sizes[:, 0, 1]
    hess, w0, _ = bowl()
    _, sizes = rmsprop(hess, w0, 0.1, 300)
    aligned = sizes[:, 0, 0] / sizes[:, 0, 1]
    assert 1 / 3 < rotated.min() and rotated.max() < 3
    assert not (1 / 3 < aligned.min() and aligned.max() < 3)
    assert aligned.max() / aligned.min() > 100


def test_gradient_descent_counts_are_rotation_invariant_rmsprop_counts_are_not():
    """"Gradient descent's count ... is the same on the rotated bowl" (the same predicate is
    false for RMSprop)."""
    for kappa in (10, 25, 100, 1000):
        counts = [settling_step(gradient_descent(*bowl((1.0, kappa), angle)[:2],
                                                 2 / (1 + kappa), 5000))
                  for angle in (0.0, np.pi / 4)]
        assert counts[0] == counts[1] > 0, kappa
    counts = [int(settling_step(rmsprop(*bowl((1.0, 1000.0), angle)[:2], 0.05, 4000)[0])[0])
              for angle in (0.0, np.pi / 4)]
    assert counts[0] != counts[1]


def test_aligned_path_is_the_same_for_every_kappa_up_to_eps_not_exactly():
    """The rotated exploration: on the aligned (1, 1000) bowl the path "would be the one of the
    first exploration [the (1, 25) bowl] (up to the tiny ε: the paths differ by less than 1e-5)".
    The old text: "exactly"."""
    lrs = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5)
    a, _ = rmsprop(bowl((1.0, 1000.0))[0], START, lrs, 200)
    b, _ = rmsprop(bowl((1.0, 25.0))[0], START, lrs, 200)
    gap = np.abs(a - b).max()
    assert gap < 1e-5
    assert not gap == 0.0                                    # false version: "exactly"
    a, _ = rmsprop(bowl((1.0, 1000.0))[0], START, lrs, 200, eps=0.0)
    b, _ = rmsprop(bowl((1.0, 25.0))[0], START, lrs, 200, eps=0.0)
    assert np.abs(a - b).max() < 1e-12                       # without ε only round-off is left


def test_rotated_step_size_bounces_around_2_over_lambda_max_and_u1_creeps_a_third_of_the_way():
    """The rotated (1, 1000) exploration: the shared step size is held at 2/λ_max = 0.002 (it
    bounces around it, more than half the time above: the old text said "keeps below"), and in
    200 steps u1 goes from −8 to about −5.3 at α = 0.1 (the old text: "barely moves")."""
    hess, w0, rot = bowl((1.0, 1000.0), np.pi / 4)
    lrs = (0.05, 0.1, 0.3)
    points, sizes = rmsprop(hess, w0, lrs, 200)
    u1 = points[..., 0] * rot[0, 0] + points[..., 1] * rot[1, 0]      # u = Rᵀ w
    late = sizes[50:]
    assert np.all(np.abs(np.median(late, axis=0) - 0.002) < 0.0001)
    assert not np.all(late <= 0.002)                        # false version: "keeps below"
    assert abs(u1[-1, 1] - (-5.3)) < 0.05
    assert np.all((u1[-1] > -5.7) & (u1[-1] < -5.1))       # about a third of the way from −8
    assert not np.all(np.abs(u1[-1] - u1[0]) < 0.5)         # false version: "barely moves"


LRS = np.geomspace(1e-3, 1.0, 61)


def shadows(w0):
    """The start and one-, three-ulp shadows of each coordinate, both ways; and α ± one ulp."""
    out = [(w0, LRS)]
    for c in (0, 1):
        for to in (np.inf, -np.inf):
            for n in (1, 3):
                w = w0.copy()
                for _ in range(n):
                    w[c] = np.nextafter(w[c], to)
                out.append((w, LRS))
    out += [(w0, np.nextafter(LRS, np.inf)), (w0, np.nextafter(LRS, -np.inf))]
    return out


def counts(points):
    c = settling_step(points).astype(float)
    c[c < 0] = np.inf
    return c


@pytest.fixture(scope="module")
def settling_shadows():
    result = {}
    for kappa in (10, 25, 100, 1000):
        for name, angle in (("aligned", 0.0), ("rotated", np.pi / 4)):
            hess, w0, _ = bowl((1.0, kappa), angle)
            runs = [rmsprop(hess, w, lr, 5000)[0] for w, lr in shadows(w0)]
            result[kappa, name] = runs
    return result


def test_aligned_shadows_drift_to_about_1e_10_at_most_and_keep_their_counts(settling_shadows):
    """"a difference in the last bit grows at most to about 1e-10, briefly ... and dies out again
    ... so their counts are exact". The old text: "stays in the last bits"."""
    for kappa in (10, 25, 100, 1000):
        base, *rest = settling_shadows[kappa, "aligned"]
        drift = max(np.abs(run - base).max() for run in rest)
        final = max(np.abs(run[-1] - base[-1]).max() for run in rest)
        assert 1e-11 < drift < 1e-9, kappa
        assert not drift < 1e-14                             # false version: "in the last bits"
        assert final < 1e-13, kappa                          # round-off of the final bounce
        assert all(np.array_equal(counts(run), counts(base)) for run in rest), kappa


def test_rotated_shadows_move_the_best_count_by_up_to_about_ten_steps(settling_shadows):
    """"the best counts differ by up to about ten steps (the count of a single α by more) and
    another α of the grid can become the best"; many α drift more than 0.01 apart."""
    spreads, single, best_alphas = [], [], set()
    for kappa in (10, 25, 100, 1000):
        base, *rest = settling_shadows[kappa, "rotated"]
        c0 = counts(base)
        best = [c0.min()] + [counts(run).min() for run in rest]
        spreads.append(max(best) - min(best))
        for run in rest:
            c = counts(run)
            both = np.isfinite(c) & np.isfinite(c0)
            single.append(np.abs(c[both] - c0[both]).max())
            best_alphas.add((kappa, int(np.argmin(c))))
        best_alphas.add((kappa, int(np.argmin(c0))))
        apart = np.sqrt(((rest[0] - base) ** 2).sum(axis=-1)).max(axis=0) > 0.01
        assert apart.sum() >= 10, kappa
    assert 3 <= max(spreads) <= 12
    assert max(single) > max(spreads)
    assert not max(single) <= 10                           # false version: every count within ten
    assert len(best_alphas) > 4                              # another α becomes the best


# ---------------------------------------------------------------------------------------------
# The notation page
# ---------------------------------------------------------------------------------------------
def test_notation_gd_factors_are_the_absolute_values_of_r():
    """notation.md: rᵢ = 1 − αλᵢ, and gd_factors returns |rᵢ| (the page said it returns rᵢ)."""
    from optlib import analysis

    r = 1 - 0.05 * np.array([1.0, 25.0])
    factors = analysis.gd_factors(0.05, (1.0, 25.0))
    assert np.allclose(factors, np.abs(r))
    assert not np.allclose(factors, r)


def test_notation_steps_to_takes_an_absolute_loss_gap_not_a_factor():
    """notation.md: Trajectory.steps_to(gap) is the first t with f(w_t) − f* ≤ gap, an absolute
    bound on the loss gap; gd_steps_to_tolerance's tol is only a factor, the one by which the
    distance must shrink (the book calls nothing else tol)."""
    import optlib
    from optlib.objectives import Quadratic

    hess, w0, _ = bowl()
    points = gradient_descent(hess, w0, 0.05, 400)
    gap = 0.5 * (points[:, 0] ** 2 + 25 * points[:, 1] ** 2)
    absolute = int(np.argmax(gap <= 1e-6))
    relative = int(np.argmax(gap <= 1e-6 * gap[0]))
    steps_to = optlib.run(optlib.GradientDescent(lr=0.05), Quadratic(), w0, 400).steps_to(1e-6)
    assert steps_to == absolute != relative
    dist = np.sqrt((points ** 2).sum(axis=1))
    shrink = optlib.analysis.gd_steps_to_tolerance(0.05, (1.0, 25.0), 1e-6)
    assert 0.95 ** shrink <= 1e-6 < 0.95 ** (shrink - 1)              # ρ^t ≤ tol, ρ = 0.95
    assert int(np.argmax(dist <= 1e-6 * dist[0])) <= shrink


def test_w1_travels_at_about_alpha_while_its_distance_more_than_halves():
    """"W1 meanwhile travels at about α = 0.1 per step: between 0.08 and 0.11 from t = 10 to
    t = 50, while its distance falls from 6.3 to 2.8" (the old text: "a constant speed")."""
    hess, w0, _ = bowl()
    points, _ = rmsprop(hess, w0, 0.1, 120)
    w1 = points[:, 0, 0]
    lengths = np.abs(np.diff(w1))                          # lengths[t - 1]: step t
    assert 0.075 <= lengths[9:50].min() and lengths[9:50].max() < 0.115
    assert round(abs(w1[10]), 1) == 6.3 and round(abs(w1[50]), 1) == 2.8
    assert not lengths[9:50].max() / lengths[9:50].min() < 1.1     # false version: "constant"
    assert int(np.argmax(np.abs(w1) < 0.05)) in range(95, 106)     # arrives near t = 100


# ---------------------------------------------------------------------------------------------
# β > 0 ends in the bounce; β = 0 (sign descent) does not
# ---------------------------------------------------------------------------------------------
def test_every_beta_above_0_ends_in_the_bounce_beta_0_does_not():
    """"With a constant α and β > 0 RMSprop ends bouncing with amplitude α/2 − ε/λᵢ ... β only
    shapes the way there" (summary, learning goal 4, the bounce section). The old text said it
    of every β; with β = 0 (sign descent) the run ends hopping between the last two points of
    its walk, which depend on the start (exercise 3.7)."""
    hess, w0, _ = bowl()
    betas = (0.1, 0.5, 0.9, 0.99)
    for beta in betas:
        points, _ = rmsprop(hess, w0, 0.1, 20_000, beta=beta)
        assert np.allclose(np.abs(points[-2:, 0]), 0.05, rtol=1e-6), beta
    points, _ = rmsprop(hess, w0, 0.1, 20_000, beta=0.0)
    ends = np.abs(points[-2:, 0])
    assert not np.allclose(ends, 0.05, rtol=1e-3)           # false version: "every β"
    # ... yet it is a two-cycle too: its points repeat every second step
    assert np.allclose(np.sort(np.abs(points[-2:, 0, 0])), np.sort(np.abs(points[-4:-2, 0, 0])))


def test_sign_descent_steps_are_alpha_up_to_eps_not_exactly():
    """The exploration: "β = 0: s = g², every step is α·sign(g) up to ε" (the old text:
    "exactly α·sign(g)"; the length is α|g|/(|g| + ε))."""
    hess, w0, _ = bowl()
    lr, eps = 0.1, 1e-8
    points, _ = rmsprop(hess, w0, lr, 200, beta=0.0, eps=eps)
    lengths = np.abs(np.diff(points[:, 0], axis=0))
    g = np.abs(grad(hess, points[:-1, 0]))
    assert np.allclose(lengths, lr * g / (g + eps), rtol=1e-12, atol=1e-15)
    assert np.all(np.abs(lengths - lr) <= lr * eps / g + 1e-15)
    assert not np.all(lengths == lr)                         # false version: "exactly"


def test_the_line_fits_first_step_moves_w_and_b_equally_up_to_eps_not_exactly():
    """"yet W and b both moved by 0.3162 (the same length up to the tiny ε)" (the old text:
    "by exactly 0.3162"). The line fit's gradient at (−1, −1) is recomputed from its data."""
    from optlib.objectives import LinearRegression

    f = LinearRegression()
    x, y = np.asarray(f.x, dtype=float), np.asarray(f.y, dtype=float)
    residual = -1.0 * x - 1.0 - y
    dW, db = np.mean(residual * x), np.mean(residual)   # f = mean(residual²)/2
    lengths = [0.1 * abs(d) / (np.sqrt(0.1 * d * d) + 1e-8) for d in (dW, db)]
    assert abs(dW) > 2.5 * abs(db)                        # "dW is almost three times db"
    assert all(round(length, 4) == 0.3162 for length in lengths)
    assert abs(lengths[0] - lengths[1]) < 1e-8
    assert lengths[0] != lengths[1]                       # false version: "exactly"
