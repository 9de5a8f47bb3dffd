"""Tests for optlib.analysis.averages: the exponentially weighted average's weights, bias,
window and gain, and Adam's bias correction, against hand-computed numbers and against
the buffers of optlib's own optimizers (Momentum's buffer is the EMA of the gradients,
RMSprop's the EMA of their squares).
"""

import math

import numpy as np
import pytest

import optlib
from optlib import analysis

# --------------------------------------------------------------------------
# Weights, bias and window; Adam's bias correction
# --------------------------------------------------------------------------


@pytest.mark.parametrize("beta, t", [(0.9, 1), (0.9, 10), (0.5, 7), (0.99, 50), (0.0, 4)])
def test_ema_weights_sum_and_match_momentum_buffer(beta, t):
    """ema_weights sums to 1-βᵗ and equals the buffer of Momentum fed unit impulses."""
    w = analysis.ema_weights(beta, t)
    assert w.shape == (t,)
    assert w.sum() == pytest.approx(1.0 - beta ** t, rel=1e-12, abs=1e-15)
    # Component k of a t-vector gets gradient 1 at step k (oldest first), 0 otherwise:
    # the buffer after t steps holds the weight of each step's gradient.
    opt = optlib.Momentum(lr=1.0, beta=beta)
    params = np.zeros(t)
    for k in range(t):
        opt.step(params, np.eye(t)[k])
    np.testing.assert_allclose(opt.state["momentum_buffer"], w, rtol=1e-12, atol=1e-300)


def test_ema_weights_match_direct_loop():
    """ema_weights(0.8, 6) equals the coefficients of g_1..g_6 in v ← 0.8v + 0.2g from v = 0."""
    beta, t = 0.8, 6
    coeffs = np.zeros(t)  # v as a linear combination of g_1..g_t
    for k in range(t):
        coeffs *= beta
        coeffs[k] += 1.0 - beta
    np.testing.assert_allclose(analysis.ema_weights(beta, t), coeffs, rtol=1e-14)
    np.testing.assert_allclose(analysis.ema_weights(beta, t),
                               [0.2 * 0.8 ** 5, 0.2 * 0.8 ** 4, 0.2 * 0.8 ** 3,
                                0.2 * 0.8 ** 2, 0.2 * 0.8, 0.2], rtol=1e-14)
    assert analysis.ema_weights(beta, 0).shape == (0,)


def test_ema_bias_is_momentum_average_of_a_constant():
    """ema_bias(β, t) = 1-βᵗ is the buffer of Momentum after t steps of gradient 1."""
    assert analysis.ema_bias(0.9, 1) == pytest.approx(0.1, rel=1e-14)
    assert analysis.ema_bias(0.9, 2) == pytest.approx(0.19, rel=1e-14)
    assert analysis.ema_bias(0.5, 3) == pytest.approx(0.875, rel=1e-15)
    assert analysis.ema_bias(0.9, 0) == 0.0
    opt = optlib.Momentum(lr=1.0, beta=0.9)
    params = np.zeros(1)
    for t in range(1, 31):
        opt.step(params, np.ones(1))
        assert opt.state["momentum_buffer"][0] == pytest.approx(analysis.ema_bias(0.9, t),
                                                                rel=1e-13)
    arr = analysis.ema_bias(0.9, np.arange(4))
    np.testing.assert_allclose(arr, [0.0, 0.1, 0.19, 0.271], rtol=1e-13, atol=1e-16)


def test_ema_window():
    """ema_window(β) = 1/(1-β): 10 for 0.9, 1000 for 0.999, 1 for 0, elementwise on arrays."""
    assert analysis.ema_window(0.9) == pytest.approx(10.0, rel=1e-13)
    assert analysis.ema_window(0.999) == pytest.approx(1000.0, rel=1e-12)
    assert analysis.ema_window(0.0) == 1.0
    np.testing.assert_allclose(analysis.ema_window(np.array([0.5, 0.75])), [2.0, 4.0],
                               rtol=1e-15)


def test_adam_bias_correction_by_hand():
    """β1 = 0.9, β2 = 0.999, t = 1: first 0.1, second 0.001, step_scale √0.001/0.1 ≈ 0.316228."""
    bc = analysis.adam_bias_correction(0.9, 0.999, 1)
    assert bc.first == pytest.approx(0.1, rel=1e-12)
    assert bc.second == pytest.approx(0.001, rel=1e-12)
    assert bc.step_scale == pytest.approx(math.sqrt(0.001) / 0.1, rel=1e-12)
    assert bc.step_scale == pytest.approx(0.316228, abs=1e-6)
    bc = analysis.adam_bias_correction(0.9, 0.999, 10)
    assert bc.first == pytest.approx(1 - 0.9 ** 10, rel=1e-12)
    assert bc.second == pytest.approx(1 - 0.999 ** 10, rel=1e-12)
    assert bc.step_scale == pytest.approx(math.sqrt(1 - 0.999 ** 10) / (1 - 0.9 ** 10),
                                          rel=1e-12)


@pytest.mark.parametrize("t", [1, 2, 5, 30])
def test_bias_correction_recovers_a_constant_gradient(t):
    """After t steps of a constant g, the EMAs divided by first/second are exactly g and g²."""
    g = np.array([0.7, -3.0])
    beta1, beta2 = 0.9, 0.999
    bc = analysis.adam_bias_correction(beta1, beta2, t)
    mom = optlib.Momentum(lr=1.0, beta=beta1)
    rms = optlib.RMSprop(lr=1.0, beta=beta2)
    p1, p2 = np.zeros(2), np.zeros(2)
    for _ in range(t):
        mom.step(p1, g.copy())
        rms.step(p2, g.copy())
    np.testing.assert_allclose(mom.state["momentum_buffer"] / bc.first, g, rtol=1e-12)
    np.testing.assert_allclose(rms.state["square_avg"] / bc.second, g ** 2, rtol=1e-12)


def test_step_scale_is_adams_first_step_correction():
    """With ε = 0, Adam's first step is lr·sign(g): the uncorrected step times step_scale."""
    g = np.array([0.25, -4.0])
    beta1, beta2, lr = 0.9, 0.999, 0.01
    uncorrected = lr * (1 - beta1) * g / np.sqrt((1 - beta2) * g ** 2)
    bc = analysis.adam_bias_correction(beta1, beta2, 1)
    opt = optlib.Adam(lr=lr, beta1=beta1, beta2=beta2, eps=0.0)
    w = np.zeros(2)
    opt.step(w, g)
    np.testing.assert_allclose(-w, uncorrected * bc.step_scale, rtol=1e-12)
    np.testing.assert_allclose(-w, lr * np.sign(g), rtol=1e-12)



# --------------------------------------------------------------------------
# The gain at a frequency
# --------------------------------------------------------------------------


def test_ema_gain_hand_values():
    """|H(ω)| = (1-β)/√(1 - 2β cos ω + β²): 1 at ω = 0, (1-β)/(1+β) at ω = π."""
    assert analysis.ema_gain(0.9, 0.0) == pytest.approx(1.0)
    assert analysis.ema_gain(0.9, math.pi) == pytest.approx(0.1 / 1.9)
    assert analysis.ema_gain(0.0, 1.234) == pytest.approx(1.0)
    assert analysis.ema_gain(0.5, math.pi / 2) == pytest.approx(0.5 / math.sqrt(1.25))
    out = analysis.ema_gain(np.array([0.0, 0.5, 0.9]), math.pi)
    np.testing.assert_allclose(out, [1.0, 0.5 / 1.5, 0.1 / 1.9])


@pytest.mark.parametrize("beta", [0.5, 0.9])
@pytest.mark.parametrize("omega", [math.pi, 2 * math.pi / 3, math.pi / 5])
def test_ema_gain_matches_the_momentum_buffer_on_a_cosine(beta, omega):
    """Momentum's buffer fed cos(ωt) settles to an oscillation of amplitude |H(ω)|."""
    w = np.zeros(1)
    opt = optlib.Momentum(lr=1e-3, beta=beta)
    buffers = []
    for t in range(600):
        opt.step(w, np.array([math.cos(omega * t)]))
        buffers.append(opt.state["momentum_buffer"][0])
    tail = np.array(buffers[400:])
    t = np.arange(400, 600)
    # least-squares fit of A cos ωt + B sin ωt
    basis = np.column_stack([np.cos(omega * t), np.sin(omega * t)])
    coef, *_ = np.linalg.lstsq(basis, tail, rcond=None)
    assert np.hypot(*coef) == pytest.approx(analysis.ema_gain(beta, omega), rel=1e-6)


def test_ema_gain_rejects_bad_input():
    """β = 1 or a nan ω raise ValueError, a string ω TypeError, naming the argument."""
    with pytest.raises(ValueError, match="beta"):
        analysis.ema_gain(1.0, 0.5)
    with pytest.raises(ValueError, match="omega"):
        analysis.ema_gain(0.5, float("nan"))
    with pytest.raises(TypeError, match="omega"):
        analysis.ema_gain(0.5, "pi")


# --------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda b: analysis.ema_weights(b, 3),
    lambda b: analysis.ema_bias(b, 3),
    lambda b: analysis.ema_window(b),
    lambda b: analysis.ema_gain(b, 1.0),
], ids=["ema_weights", "ema_bias", "ema_window", "ema_gain"])
@pytest.mark.parametrize("beta", [1.0, 1.5, -0.1, np.nan, np.array([0.5, 1.0])])
def test_bad_beta_raises_value_error(call, beta):
    """beta outside [0, 1) (β = 1 included) raises ValueError naming `beta`."""
    with pytest.raises(ValueError, match="beta"):
        call(beta)


@pytest.mark.parametrize("call", [
    lambda b: analysis.ema_weights(b, 3),
    lambda b: analysis.ema_bias(b, 3),
    lambda b: analysis.ema_window(b),
    lambda b: analysis.adam_bias_correction(b, 0.999, 3),
], ids=["ema_weights", "ema_bias", "ema_window", "adam_bias_correction"])
@pytest.mark.parametrize("beta", ["0.9", True, None])
def test_beta_of_the_wrong_kind_raises_type_error(call, beta):
    """A string, bool or None β raises TypeError naming it."""
    with pytest.raises(TypeError, match="beta"):
        call(beta)


def test_bad_adam_betas_name_the_argument():
    """adam_bias_correction with β1 = 1 or β2 = 1 raises ValueError naming beta1/beta2."""
    with pytest.raises(ValueError, match="beta1"):
        analysis.adam_bias_correction(1.0, 0.999, 3)
    with pytest.raises(ValueError, match="beta2"):
        analysis.adam_bias_correction(0.9, 1.0, 3)


T_CALLS = [
    lambda t: analysis.ema_weights(0.9, t),
    lambda t: analysis.ema_bias(0.9, t),
    lambda t: analysis.adam_bias_correction(0.9, 0.999, t),
]
T_IDS = ["ema_weights", "ema_bias", "adam_bias_correction"]


@pytest.mark.parametrize("call", T_CALLS, ids=T_IDS)
@pytest.mark.parametrize("t", [2.5, 3.0, "3", True, None, np.array([1.0, 2.0])])
def test_step_count_of_the_wrong_kind_raises_type_error(call, t):
    """A float (even 3.0), string, bool or None step count t raises TypeError naming `t`.

    (It raised ValueError before; a float where a whole number belongs is the wrong kind.)"""
    with pytest.raises(TypeError, match=r"\bt\b"):
        call(t)


@pytest.mark.parametrize("call", T_CALLS, ids=T_IDS)
def test_negative_step_count_raises_value_error(call):
    """t = -1 raises ValueError naming `t`."""
    with pytest.raises(ValueError, match=r"\bt\b"):
        call(-1)


def test_ema_weights_takes_a_single_step_count():
    """An array of step counts is the wrong kind for ema_weights (one weight vector per call)."""
    with pytest.raises(TypeError, match=r"\bt\b"):
        analysis.ema_weights(0.9, np.array([1, 2]))
