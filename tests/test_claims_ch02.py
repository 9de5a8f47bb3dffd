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
