"""Claims of chapter 2 (momentum) that its printed computations do not show, recomputed
independently: plain numpy loops and closed forms, not the optlib functions that print the
chapter's numbers.

Each test also checks that the chapter's earlier, false version of the claim is refuted by
the same computation (so the test would have failed against that version).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from notebook_outputs import output_text

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "02_momentum.ipynb"
BOWL_START = np.array([-8.0, 1.5])          # Quadratic().start: the book's start on the bowl
KAPPAS = (10, 25, 100, 1000, 10_000)


# --------------------------------------------------------------------------- helpers
def heavy_ball(a, beta, curvatures, w0, steps, nesterov=False):
    """Errors e_t = w_t − w* of heavy ball (or Nesterov) on a diagonal quadratic, from rest."""
    lam = np.asarray(curvatures, dtype=float)
    w = np.array(w0, dtype=float)
    prev = w.copy()
    out = [w.copy()]
    for _ in range(steps):
        if nesterov:
            y = w + beta * (w - prev)
            new = y - a * lam * y
        else:
            new = w - a * lam * w + beta * (w - prev)
        prev, w = w, new
        out.append(w.copy())
    return np.array(out)


def ema_momentum(alpha, beta, grad, w0, steps):
    """The EMA form: v ← βv + (1−β)g, w ← w − αv, from v = 0."""
    w = np.array(w0, dtype=float)
    v = np.zeros_like(w)
    out = [w.copy()]
    for _ in range(steps):
        v = beta * v + (1 - beta) * grad(w)
        w = w - alpha * v
        out.append(w.copy())
    return np.array(out)


def spectral_radius(a, beta, lam):
    """max |σ| over the roots of σ² − (1 + β − aλ)σ + β (broadcasts)."""
    T = 1 + beta - a * lam
    disc = np.sqrt(np.asarray(T * T - 4 * beta, dtype=complex))
    return np.maximum(np.abs((T + disc) / 2), np.abs((T - disc) / 2))


def optimum(kappa):
    """Polyak's (a*, β*, ρ*) for curvatures 1 and κ, by the closed form."""
    r = np.sqrt(kappa)
    beta = ((r - 1) / (r + 1)) ** 2
    return 4 / (r + 1) ** 2, beta, (r - 1) / (r + 1)


def settling(distances, fraction=1e-6):
    """First step from which the distance stays at or below fraction × the initial one."""
    d = np.asarray(distances) / distances[0]
    outside = np.nonzero(d > fraction)[0]
    assert outside[-1] + 1 < d.size, "the run is too short to settle"
    return int(outside[-1] + 1)


def momentum_settling(kappa):
    a, beta, _ = optimum(kappa)
    e = heavy_ball(a, beta, (1.0, kappa), BOWL_START, 40 * int(np.sqrt(kappa)) + 400)
    return settling(np.linalg.norm(e, axis=1))


def gd_settling(kappa):
    a = 2 / (1 + kappa)
    rho = (kappa - 1) / (kappa + 1)
    e = heavy_ball(a, 0.0, (1.0, kappa), BOWL_START, int(np.log(1e6) / -np.log(rho)) + 50)
    return settling(np.linalg.norm(e, axis=1))


def cell(cell_id):
    nb = json.loads(CHAPTER.read_text(encoding="utf-8"))
    return next(c for c in nb["cells"] if c.get("id") == cell_id)


def markdown():
    nb = json.loads(CHAPTER.read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


# --------------------------------------------------------------------------- heavy ball vs Nesterov
def test_ema_form_is_heavy_ball_but_nesterov_is_a_different_method():
    """The opening's claim: the EMA form equals heavy ball (step a = α(1−β)); Nesterov does
    not. (Old text: heavy ball and Nesterov 'the same method written differently'.)"""
    lam = np.array([1.0, 25.0])
    alpha, beta = 0.2, 4 / 9                          # heavy ball's optimum on the bowl
    ema = ema_momentum(alpha, beta, lambda w: lam * w, BOWL_START, 200)
    hb = heavy_ball(alpha * (1 - beta), beta, lam, BOWL_START, 200)
    assert np.max(np.abs(ema - hb)) < 1e-12
    nag = heavy_ball(alpha * (1 - beta), beta, lam, BOWL_START, 60, nesterov=True)
    assert np.linalg.norm(hb[60]) < 1e-8                          # heavy ball converges
    assert np.linalg.norm(nag[60]) > 1e6                           # Nesterov blows up
    # Nesterov's eigenvalue reaches −1 at aλ = 2(1+β)/(1+2β), far below heavy ball's 2(1+β)
    for b in (0.3, 4 / 9, 0.9):
        x = 2 * (1 + b) / (1 + 2 * b)
        roots = np.roots([1, -(1 - x) * (1 + b), (1 - x) * b])
        assert np.isclose(np.min(roots.real), -1.0) and np.max(np.abs(roots)) == pytest.approx(1.0)


# --------------------------------------------------------------------------- the two critical points
def test_lower_critical_point_returns_without_overshoot_and_is_the_fastest_that_does():
    beta, lam = 0.5, 25.0
    a_low = (1 - np.sqrt(beta)) ** 2 / lam
    e = heavy_ball(a_low, beta, (lam,), (1.5,), 80)[:, 0]
    assert np.all(e > 0) and np.all(np.diff(e) < 0)              # no overshoot, shrinks every step
    # a smaller step has a larger rate, a larger one ripples (overshoots)
    assert spectral_radius(0.9 * a_low, beta, lam) > np.sqrt(beta) + 1e-3
    e_more = heavy_ball(1.1 * a_low, beta, (lam,), (1.5,), 200)[:, 0]
    assert np.any(e_more < 0)


def test_upper_critical_point_flips_sign_every_step_and_grows_for_a_while():
    """β = 0.5, λ = 25, from rest at W₂ = 1.5: 1.5 → −2.87 → 3.31 → −3.25 → 2.94 → …
    (old text: both critical points are 'the fastest return without overshoot')."""
    beta, lam = 0.5, 25.0
    a_high = (1 + np.sqrt(beta)) ** 2 / lam
    T = 1 + beta - a_high * lam
    assert T / 2 == pytest.approx(-np.sqrt(beta))                   # double eigenvalue −√β
    e = heavy_ball(a_high, beta, (lam,), (1.5,), 200)[:, 0]
    assert np.all(np.sign(e[1:]) == -np.sign(e[:-1]))             # flips sign every step
    assert [round(x, 2) for x in e[:5]] == [1.5, -2.87, 3.31, -3.25, 2.94]
    assert np.max(np.abs(e)) > 2 * abs(e[0])                       # transient growth
    assert abs(e[-1]) < 1e-20                                      # ... before it decays
    # the old claim, "return without overshoot", is false here
    assert np.any(e < 0)


def test_regime_table_from_rest_monotone_and_oscillating():
    """The regime table's 'decays without oscillation' and 'flips sign every step', for runs
    started from rest as in the chapter (β = 0.5, λ = 25)."""
    beta, lam = 0.5, 25.0
    lo, hi, top = ((1 - np.sqrt(beta)) ** 2 / lam, (1 + np.sqrt(beta)) ** 2 / lam,
                   2 * (1 + beta) / lam)
    for a in np.linspace(0.05 * lo, 0.99 * lo, 7):
        e = heavy_ball(a, beta, (lam,), (1.5,), 300)[:, 0]
        assert np.all(e > 0) and np.all(np.diff(e) < 0)
    for a in np.linspace(hi + 0.01 * (top - hi), top - 0.01 * (top - hi), 7):
        e = heavy_ball(a, beta, (lam,), (1.5,), 300)[:, 0]
        nonzero = np.abs(e) > 1e-300
        e = e[nonzero]
        assert np.all(np.sign(e[1:]) == -np.sign(e[:-1]))


# --------------------------------------------------------------------------- envelope, not ratio
def test_complex_regime_envelope_shrinks_by_sqrt_beta_but_consecutive_ratios_do_not():
    """α = 0.15, β = 0.7, λ = 25 (a = 0.045): e_t = C (√β)ᵗ cos(θt + φ) exactly, while
    |e_{t+1}/e_t| = 0.125, 6.2, 0.46, 0.94, 1.32, … (old text: 'the error shrinks by exactly
    √β per step')."""
    alpha, beta, lam = 0.15, 0.7, 25.0
    a = alpha * (1 - beta)
    e = heavy_ball(a, beta, (lam,), (1.0,), 60)[:, 0]
    T = 1 + beta - a * lam
    theta = np.arccos(T / (2 * np.sqrt(beta)))                    # σ = √β e^{iθ}
    t = np.arange(e.size)
    scaled = e / np.sqrt(beta) ** t
    # fit C cos(θt + φ) = A cos θt + B sin θt on the first two points, check all the others
    A = scaled[0]
    B = (scaled[1] - A * np.cos(theta)) / np.sin(theta)
    assert np.max(np.abs(scaled - (A * np.cos(theta * t) + B * np.sin(theta * t)))) < 1e-10
    assert np.max(np.abs(scaled)) <= np.hypot(A, B) + 1e-12      # the envelope C (√β)ᵗ
    ratios = np.abs(e[1:] / e[:-1])
    assert [round(x, n) for x, n in zip(ratios, (3, 1, 2, 2, 2))] == [0.125, 6.2, 0.46, 0.94, 1.32]
    # the old claim: every ratio is √β
    assert np.max(np.abs(ratios - np.sqrt(beta))) > 1.0
    # over many steps the error shrinks like (√β)ᵗ: its largest size per ripple period
    period = int(np.ceil(2 * np.pi / theta))
    late, early = np.abs(e[-period:]).max(), np.abs(e[:period]).max()
    steps = e.size - period
    assert (late / early) ** (1 / steps) == pytest.approx(np.sqrt(beta), rel=0.01)


def test_complex_in_the_slow_direction_alone_does_not_give_sqrt_beta():
    """The rate is √β only when both directions are complex: slow direction rippling,
    steep direction in the oscillating regime (β = 0.8, α = 0.719) gives more."""
    beta, alpha = 0.8, 0.719
    a = alpha * (1 - beta)
    assert (1 - np.sqrt(beta)) ** 2 < a * 1.0 < (1 + np.sqrt(beta)) ** 2          # W1 ripples
    assert (1 + np.sqrt(beta)) ** 2 < a * 25.0 < 2 * (1 + beta)                     # W2 oscillates
    rho = max(spectral_radius(a, beta, 1.0), spectral_radius(a, beta, 25.0))
    assert rho > np.sqrt(beta) + 0.01


# --------------------------------------------------------------------------- optimality
@pytest.mark.parametrize("kappa", [4.0, 25.0, 89.4, 1000.0])
def test_no_setting_beats_polyak_rate_even_with_curvatures_outside_the_band(kappa):
    """ρ(a, β) over the curvatures 1 and κ is never below ρ* = (√κ−1)/(√κ+1), also for the
    settings with β < β* (some curvature outside the ripple band), which the bound ρ ≥ √β
    alone does not cover; and the grid's best comes close to ρ*."""
    a_star, beta_star, rho_star = optimum(kappa)
    a = np.geomspace(a_star / 30, 4 * (1 + 1) / kappa, 600)[:, None]
    beta = np.linspace(0.0, 0.999, 600)[None, :]
    rho = np.maximum(spectral_radius(a, beta, 1.0), spectral_radius(a, beta, kappa))
    assert rho.min() >= rho_star - 1e-12
    assert rho.min() == pytest.approx(rho_star, abs=3e-3)
    below = beta < beta_star                                   # where √β < ρ*: the gap
    gap = np.broadcast_to(below, rho.shape)
    assert gap.sum() > 1000
    assert np.all(rho[gap] > np.sqrt(np.broadcast_to(beta, rho.shape)[gap]))
    assert np.all(rho[gap] >= rho_star - 1e-12)
    # the steps of the proof: with r = ρ, p(r) ≥ 0, p(−r) ≥ 0 and β ≤ r²
    rng = np.random.default_rng(0)
    for aa, bb, lam in zip(rng.uniform(0, 4, 2000), rng.uniform(0, 0.999, 2000),
                           rng.uniform(0.01, 2, 2000)):
        r = spectral_radius(aa, bb, lam)
        p = lambda s: (s - 1) * (s - bb) + aa * lam * s            # noqa: E731
        assert p(r) >= -1e-9 and p(-r) >= -1e-9 and bb <= r * r + 1e-12


# --------------------------------------------------------------------------- the speed-up table
def test_speedup_table_counts_are_the_simulated_ones():
    """Momentum at (α*, β*) from the bowl's start needs 26/42/87/293/986 steps to settle
    within 10⁻⁶ of the initial distance (the old table's 21/34/69/218/691 come from the rate
    alone); the speed-up at κ = 10⁴ is about 70, not 100."""
    momentum = [momentum_settling(k) for k in KAPPAS]
    gd = [gd_settling(k) for k in KAPPAS]
    assert momentum == [26, 42, 87, 293, 986]
    assert gd == [69, 173, 691, 6908, 69078]
    from_rate = [round(np.log(1e6) / -np.log(optimum(k)[2])) for k in KAPPAS]
    assert from_rate == [21, 34, 69, 218, 691]
    assert all(m > r for m, r in zip(momentum, from_rate))      # the old counts are too few
    extra = [m / (np.log(1e6) / -np.log(optimum(k)[2])) - 1 for m, k in zip(momentum, KAPPAS)]
    assert 0.225 <= min(extra) and max(extra) < 0.435           # "23 to 43 % more"
    speedup = gd[-1] / momentum[-1]
    assert round(speedup) == 70 and abs(speedup - 100) > 25     # not "a hundred times"
    assert all(2.9 < gd[i + 1] / momentum[i + 1] / (gd[i] / momentum[i]) < 3.1 for i in (2, 3))

    # the chapter prints exactly these counts
    rows = [line.split() for line in output_text(cell("298f27a0")["outputs"][0]).splitlines()
            if re.match(r"\s+\d+\s+0\.", line)]
    assert [len(r) for r in rows] == [7] * len(KAPPAS)          # κ, GD rate, GD steps, ρ, from rate, simulated, speed-up
    assert [int(r[0]) for r in rows] == list(KAPPAS)
    assert [int(r[2]) for r in rows] == gd
    assert [int(r[4]) for r in rows] == from_rate
    assert [int(r[5]) for r in rows] == momentum
    assert [float(r[6]) for r in rows] == [round(g / m, 1) for g, m in zip(gd, momentum)]
    text = markdown()
    assert "26, 42, 87, 293 and 986 instead of 21, 34, 69, 218 and 691" in text
    assert "a hundred times fewer" not in text


def test_momentum_steps_grow_roughly_like_sqrt_kappa():
    """Simulated steps / √κ stay between 8 and 12 from κ = 10 to 10⁶ (a slowly growing,
    logarithmic factor from the double eigenvalue), while gradient descent's grow like κ."""
    per_root = [momentum_settling(k) / np.sqrt(k) for k in (10, 100, 1e4, 1e6)]
    assert all(8 < x < 12 for x in per_root)
    assert all(b > a for a, b in zip(per_root, per_root[1:]))
    assert [round(gd_settling(k) / k, 1) for k in (100, 1000)] == [6.9, 6.9]


def test_optimum_on_the_bowl_needs_more_steps_than_its_rate_because_of_the_double_eigenvalue():
    """At (α*, β*) = (0.2, 4/9) on the bowl each direction's error is exactly (A + B t) σᵗ with
    B ≠ 0 (σ = 2/3 along W₁, −2/3 along W₂); the loss gap reaches 1e-8 after 38 steps, against
    about 28 from the rate alone; gradient descent at α* = 1/13 after 141."""
    lam = np.array([1.0, 25.0])
    a, beta, rho = optimum(25.0)
    e = heavy_ball(a, beta, lam, BOWL_START, 200)
    t = np.arange(e.shape[0])
    for i, sigma in enumerate((rho, -rho)):
        scaled = e[:, i] / sigma ** t
        A, B = scaled[0], scaled[1] - scaled[0]
        assert np.max(np.abs(scaled[:60] - (A + B * t[:60]))) < 1e-8 * abs(A)
        assert abs(B) > 0.1 * abs(A)
    gap = 0.5 * (lam * e ** 2).sum(axis=1)
    assert np.argmax(gap <= 1e-8) == 38
    assert np.log(1e-8 / gap[0]) / (2 * np.log(rho)) == pytest.approx(27.8, abs=0.05)
    gd = heavy_ball(1 / 13, 0.0, lam, BOWL_START, 200)
    assert np.argmax(0.5 * (lam * gd ** 2).sum(axis=1) <= 1e-8) == 141


# --------------------------------------------------------------------------- the line fit
def test_line_fit_overshoot_peaks_at_step_four():
    """Momentum α = 0.5, β = 0.9 on the line fit from (W, b) = (−1, −1): of the lines drawn
    (steps 0, 3, 10, 150) step 3's is the steepest, but W keeps rising to ≈ 4.85 at step 4
    (old text: 'the overshoot of step 3 is the steepest one')."""
    from optlib.objectives import LinearRegression    # only its data points are used
    data = LinearRegression()
    x, y = np.asarray(data.x, dtype=float), np.asarray(data.y, dtype=float)

    def grad(w):
        r = w[0] * x + w[1] - y
        return np.array([np.mean(r * x), np.mean(r)])

    path = ema_momentum(0.5, 0.9, grad, (-1.0, -1.0), 150)
    W = path[:, 0]
    assert int(np.argmax(W)) == 4 and round(W[4], 2) == 4.85
    drawn = {t: W[t] for t in (0, 3, 10, 150)}
    assert max(drawn, key=drawn.get) == 3
    assert W[4] > W[3]                                           # the old claim fails


# --------------------------------------------------------------------------- the scalar recurrence
def test_scalar_recurrence_is_the_momentum_update_with_step_a():
    """e_{t+1} = (1+β−aλ)e_t − βe_{t−1}, a = α(1−β), from rest e_1 = (1−aλ)e_0, reproduces the EMA
    form run along one direction; written with α in place of a (a tempting slip) it does not."""
    for alpha, beta, lam in ((0.15, 0.7, 25.0), (0.5, 0.9, 3.0), (0.02, 0.3, 1.0), (0.236, 0.5, 25.0)):
        e = ema_momentum(alpha, beta, lambda w: lam * w, (1.5,), 60)[:, 0]
        a = alpha * (1 - beta)
        assert e[1] == pytest.approx((1 - a * lam) * e[0], rel=1e-14)
        scale = np.abs(e).max()
        rec = (1 + beta - a * lam) * e[1:-1] - beta * e[:-2]
        assert np.max(np.abs(e[2:] - rec)) < 1e-12 * scale
        wrong = (1 + beta - alpha * lam) * e[1:-1] - beta * e[:-2]
        assert np.max(np.abs(e[2:] - wrong)) > 1e-3 * scale


def test_friction_keeps_beta_of_the_velocity_and_the_spring_pulls_with_a_lambda():
    """The oscillator form: new velocity = β · old velocity − aλ e_t on a simulated run; the
    friction term is not (1−β) · old velocity, and the spring is not αλ e_t."""
    alpha, beta, lam = 0.15, 0.7, 25.0
    a = alpha * (1 - beta)
    e = ema_momentum(alpha, beta, lambda w: lam * w, (1.5,), 40)[:, 0]
    new_v, old_v = e[2:] - e[1:-1], e[1:-1] - e[:-2]
    assert np.max(np.abs(new_v - (beta * old_v - a * lam * e[1:-1]))) < 1e-12
    assert np.max(np.abs(new_v - ((1 - beta) * old_v - a * lam * e[1:-1]))) > 0.1
    assert np.max(np.abs(new_v - (beta * old_v - alpha * lam * e[1:-1]))) > 0.1
    # β = 0 is total friction: gradient descent, e_{t+1} = (1 − aλ) e_t
    gd = ema_momentum(0.03, 0.0, lambda w: lam * w, (1.5,), 10)[:, 0]
    assert np.allclose(gd[1:], (1 - 0.03 * lam) * gd[:-1], rtol=1e-14)


def test_roots_have_product_beta_and_complex_roots_have_modulus_sqrt_beta():
    rng = np.random.default_rng(1)
    for a_lam, beta in zip(rng.uniform(0.0, 4.0, 500), rng.uniform(0.0, 0.99, 500)):
        roots = np.roots([1.0, -(1 + beta - a_lam), beta])
        assert np.prod(roots).real == pytest.approx(beta, abs=1e-12)
        if (1 + beta - a_lam) ** 2 < 4 * beta:                     # complex pair
            assert np.all(np.abs(roots) == pytest.approx(np.sqrt(beta), rel=1e-9))
        else:                                                       # real, the same sign
            assert np.all(np.abs(roots.imag) < 1e-12)
            assert np.sign(roots[0].real) == np.sign(roots[1].real) or beta < 1e-12


# --------------------------------------------------------------------------- the stability limit
@pytest.mark.parametrize("beta", [0.0, 0.3, 0.5, 0.9, 0.95])
def test_stability_limit_is_gradient_descents_for_the_effective_learning_rate(beta):
    """At α = 2(1+β)/((1−β)λ) a root is −1 (the other −β), α_eff λ = 2 with
    α_eff = α(1−β)/(1+β), the error ends up flipping sign with constant size; just below
    the run converges, just above it diverges. The other candidate, α(1−β)λ = 2 (the
    effective rate without the factor 1/(1+β)), is not the limit for β > 0."""
    lam = 25.0
    limit = 2 * (1 + beta) / ((1 - beta) * lam)
    assert limit * (1 - beta) / (1 + beta) * lam == pytest.approx(2.0, rel=1e-14)
    a = limit * (1 - beta)
    roots = np.sort(np.roots([1.0, -(1 + beta - a * lam), beta]).real)
    assert roots == pytest.approx([-1.0, -beta], abs=1e-9)
    e = heavy_ball(a, beta, (lam,), (1.0,), 400)[:, 0]
    assert np.all(np.sign(e[1:]) == -np.sign(e[:-1]))
    assert abs(e[-1]) == pytest.approx(abs(e[-2]), rel=1e-6)              # constant size
    below = heavy_ball(0.99 * a, beta, (lam,), (1.0,), 4000)[:, 0]
    above = heavy_ball(1.01 * a, beta, (lam,), (1.0,), 4000)[:, 0]
    assert abs(below[-1]) < 1e-3 and abs(above[-1]) > 1e3
    if beta > 0:   # the false version of the bridge
        wrong = 2 / ((1 - beta) * lam)
        assert abs(wrong - limit) > 0.01 * limit
        assert abs(heavy_ball(1.01 * wrong * (1 - beta), beta, (lam,), (1.0,), 4000)[-1, 0]) < 1e-3


def test_t_sigma_t_solves_the_recurrence_at_both_critical_points():
    for beta in (0.1, 0.5, 0.9):
        for sigma in (np.sqrt(beta), -np.sqrt(beta)):
            s = 2 * sigma                                          # 1 + β − aλ at the double root
            t = np.arange(1, 40)
            e = t * sigma ** t
            residual = e[2:] - s * e[1:-1] + beta * e[:-2]
            assert np.max(np.abs(residual)) < 1e-13
            # away from a double root t σᵗ is not a solution
            assert np.max(np.abs(e[2:] - 1.1 * s * e[1:-1] + beta * e[:-2])) > 1e-3


# --------------------------------------------------------------------------- Nesterov on the quadratic
def nesterov_ema(alpha, beta, lam, e0, steps):
    """optlib's Nesterov written out (EMA form, stored look-ahead point) along one direction."""
    y, v, out = float(e0), 0.0, [float(e0)]
    for _ in range(steps):
        g = lam * y
        v = beta * v + (1 - beta) * g
        y = y - alpha * (beta * v + (1 - beta) * g)
        out.append(y)
    return np.array(out)


def nesterov_rho(a, beta, lam):
    q = 1 - a * lam
    tr = (1 + beta) * q
    d = np.sqrt(np.asarray(tr * tr - 4 * beta * q, dtype=complex))
    return np.maximum(np.abs((tr + d) / 2), np.abs((tr - d) / 2))


def test_nesterov_recurrence_and_its_extra_friction():
    """Nesterov's points obey e_{t+1} = (1+β)(1−aλ)e_t − β(1−aλ)e_{t−1}, i.e. the velocity
    keeps β(1−aλ), not β (heavy ball's recurrence does not fit); the points of optlib's
    Momentum(nesterov=True) are these."""
    import optlib
    for alpha, beta, lam in ((0.1, 0.6, 25.0), (0.2, 4 / 9, 1.0), (0.5, 0.9, 3.0)):
        a = alpha * (1 - beta)
        e = nesterov_ema(alpha, beta, lam, 1.5, 40)
        q = 1 - a * lam
        scale = np.abs(e).max()
        assert np.max(np.abs(e[2:] - ((1 + beta) * q * e[1:-1] - beta * q * e[:-2]))) < 1e-12 * scale
        new_v, old_v = e[2:] - e[1:-1], e[1:-1] - e[:-2]
        assert np.max(np.abs(new_v - (beta * q * old_v - a * lam * e[1:-1]))) < 1e-12 * scale
        assert np.max(np.abs(e[2:] - ((1 + beta - a * lam) * e[1:-1] - beta * e[:-2]))) > 1e-3 * scale
        opt, w = optlib.Momentum(lr=alpha, beta=beta, nesterov=True), np.array([1.5])
        for t in range(1, 41):
            opt.step(w, lam * w)
            assert w[0] == pytest.approx(e[t], rel=1e-12, abs=1e-14)


def test_nesterov_stability_limit_and_complex_modulus():
    """Nesterov diverges from aλ = 2(1+β)/(1+2β) (heavy ball's 2(1+β) divided by 1+2β);
    complex roots have modulus √(β(1−aλ)) < √β; at heavy ball's optimum on the bowl
    (β = 4/9, a = 1/9) a*λ_max = 25/9 ≈ 2.78 is far above Nesterov's 26/17 ≈ 1.53."""
    for beta in (0.2, 4 / 9, 0.9):
        x = 2 * (1 + beta) / (1 + 2 * beta)
        assert nesterov_rho(x / 25.0, beta, 25.0) == pytest.approx(1.0, abs=1e-9)
        e_below = nesterov_ema(0.99 * x / 25.0 / (1 - beta), beta, 25.0, 1.0, 5000)
        e_above = nesterov_ema(1.01 * x / 25.0 / (1 - beta), beta, 25.0, 1.0, 5000)
        assert abs(e_below[-1]) < 1e-3 and abs(e_above[-1]) > 1e3
        assert x < 2 * (1 + beta)                                    # below heavy ball's
        for a_lam in np.linspace(0.01, 0.99, 50):
            q = 1 - a_lam
            if ((1 + beta) * q) ** 2 < 4 * beta * q:
                roots = np.roots([1, -(1 + beta) * q, beta * q])
                assert np.abs(roots) == pytest.approx(np.sqrt(beta * q), rel=1e-9)
                assert np.sqrt(beta * q) < np.sqrt(beta)
    beta, a = 4 / 9, 1 / 9
    assert round(a * 25, 2) == 2.78 and round(2 * (1 + beta) / (1 + 2 * beta), 2) == 1.53


@pytest.mark.parametrize("kappa", [25.0, 100.0, 1000.0, 10_000.0])
def test_nesterov_best_parameters_by_grid_search_and_slower_than_heavy_ball(kappa):
    """Grid search over (a, β): nothing beats 1 − 2/√(3κ+1), attained at a = 4/(3κ+1),
    β = (√(3κ+1)−2)/(√(3κ+1)+2); heavy ball's best is faster; the flattest direction has a
    double root there; ln ρ_hb / ln ρ_nesterov climbs toward √3."""
    s = np.sqrt(3 * kappa + 1)
    a_star, beta_star, rho_star = 4 / (3 * kappa + 1), (s - 2) / (s + 2), 1 - 2 / s
    assert max(nesterov_rho(a_star, beta_star, 1.0), nesterov_rho(a_star, beta_star, kappa)) \
        == pytest.approx(rho_star, rel=1e-7)
    q = 1 - a_star
    assert ((1 + beta_star) * q) ** 2 - 4 * beta_star * q == pytest.approx(0.0, abs=1e-12)
    a = np.geomspace(a_star / 10, 10 * a_star, 800)[:, None]
    beta = np.linspace(0.0, 0.999, 800)[None, :]
    rho = np.maximum(nesterov_rho(a, beta, 1.0), nesterov_rho(a, beta, kappa))
    assert rho.min() >= rho_star - 1e-12
    assert rho.min() == pytest.approx(rho_star, abs=2e-3)
    hb = optimum(kappa)[2]
    assert hb < rho_star
    ratio = np.log(hb) / np.log(rho_star)
    assert 1.5 < ratio < np.sqrt(3)
    # the false claims "Nesterov's best equals heavy ball's" and "the same parameters"
    assert rho_star - hb > 0.005
    assert abs(beta_star - optimum(kappa)[1]) > 0.01


def test_nesterov_steps_grow_like_sqrt_kappa_about_sqrt3_times_heavy_balls():
    ratios = []
    for kappa in (1e2, 1e4, 1e6, 1e8):
        rho_n = 1 - 2 / np.sqrt(3 * kappa + 1)
        ratios.append(np.log(optimum(kappa)[2]) / np.log(rho_n))
        assert 1.1 < -np.log(rho_n) * np.sqrt(kappa) < 1.3           # −ln ρ ≈ (2/√3)/√κ
    assert all(b > a for a, b in zip(ratios, ratios[1:]))
    assert ratios[-1] == pytest.approx(np.sqrt(3), rel=1e-3) and round(np.sqrt(3), 1) == 1.7


def test_nesterov_runs_on_the_bowl_at_both_optima():
    """Loss gap 1e-8 after 38 (heavy ball at its optimum) and 52 steps (Nesterov at its own)."""
    lam = np.array([1.0, 25.0])
    a_h, beta_h, _ = optimum(25.0)
    hb = heavy_ball(a_h, beta_h, lam, BOWL_START, 200)
    s = np.sqrt(76.0)
    nag = heavy_ball(4 / 76, (s - 2) / (s + 2), lam, BOWL_START, 200, nesterov=True)
    gap = lambda e: 0.5 * (lam * e ** 2).sum(axis=1)              # noqa: E731
    assert int(np.argmax(gap(hb) <= 1e-8)) == 38
    # optlib visits the look-ahead points y_t = w_t + β(w_t − w_{t−1})
    beta_n = (s - 2) / (s + 2)
    y = nag + beta_n * (nag - np.concatenate([nag[:1], nag[:-1]]))
    assert int(np.argmax(gap(y) <= 1e-8)) == 52


def test_heavy_ball_best_rate_beats_nesterovs_for_every_condition_number():
    """'On a quadratic heavy ball is faster': (√κ−1)/(√κ+1) < 1 − 2/√(3κ+1) for all κ > 1."""
    kappa = np.geomspace(1.001, 1e12, 2000)
    hb = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    nag = 1 - 2 / np.sqrt(3 * kappa + 1)
    assert np.all(hb < nag)


def test_at_the_stability_limit_the_error_flips_at_a_constant_size():
    # Regime table, last row: at exactly aλ = 2(1 + β) the roots are −1 and −β, so the error
    # neither decays nor grows; only above the limit does it grow.
    beta = 0.5
    a_lam = 2 * (1 + beta)
    assert np.allclose(sorted(np.roots([1, -(1 + beta - a_lam), beta]).real), [-1.0, -beta])
    e = [1.5, (1 - a_lam) * 1.5]                   # from rest: a plain gradient step first
    for _ in range(200):
        e.append((1 + beta - a_lam) * e[-1] - beta * e[-2])
    tail = np.abs(e[-20:])
    assert np.allclose(tail, tail[0], rtol=1e-9) and 4 < tail[0] < 5          # ±4.5 for ever
    assert np.all(np.sign(e[-20:-1]) != np.sign(e[-19:]))
    above = [1.5, (1 - 1.01 * a_lam) * 1.5]
    for _ in range(200):
        above.append((1 + beta - 1.01 * a_lam) * above[-1] - beta * above[-2])
    assert abs(above[-1]) > 10 * tail[0]            # just above the limit it grows
