r"""Exponentially weighted moving averages, and Adam's bias correction.

Momentum's buffer, RMSprop's and Adam's second moment and Adam's first moment are all
the same average started at zero,

.. math::

    v_t = \beta\, v_{t-1} + (1-\beta)\, g_t = \sum_{k=1}^{t} (1-\beta)\,\beta^{t-k}\, g_k ,
    \qquad v_0 = 0 .

Its weights sum to :math:`1 - \beta^t` (the bias toward the zero start), it remembers
about :math:`1/(1-\beta)` steps (the window), and it passes an oscillation of angular
frequency :math:`\omega` with the gain :math:`|G(\omega)|` (chapter 2). Adam divides
both of its averages by their total weights (chapter 4): its bias correction is two
EMA biases, so it lives here beside :func:`ema_bias`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import hyperparameter, whole
from . import _common

__all__ = [
    "ema_weights",
    "ema_bias",
    "ema_window",
    "ema_gain",
    "BiasCorrection",
    "adam_bias_correction",
]


class BiasCorrection(NamedTuple):
    r"""Adam's bias-correction terms at step t.

    Attributes:
        first: :math:`1 - \beta_1^t`, the total weight of the first-moment EMA.
        second: :math:`1 - \beta_2^t`, the total weight of the second-moment EMA.
        step_scale: :math:`c_t = \sqrt{1-\beta_2^t} / (1-\beta_1^t)`, the factor by
            which correction multiplies the uncorrected step (for
            :math:`\varepsilon = 0`).
    """

    first: np.ndarray | float
    second: np.ndarray | float
    step_scale: np.ndarray | float


def ema_weights(beta, t: int) -> np.ndarray:
    r"""Weights of :math:`g_1, \dots, g_t` in :math:`v_t` (with :math:`v_0 = 0`).

    .. math::

        v_t = \sum_{k=1}^{t} (1-\beta)\,\beta^{t-k}\, g_k

    Args:
        beta: :math:`\beta \in [0, 1)`, a single number.
        t: the number of steps, a whole number ≥ 0.

    Returns:
        Array of length t, oldest first; it sums to :math:`1 - \beta^t`.

    Examples:
        >>> ema_weights(0.5, 3)
        array([0.125, 0.25 , 0.5  ])
    """
    beta = _common.beta(beta)
    t = whole("t", t, low=0)
    return (1.0 - beta) * beta ** np.arange(t - 1, -1, -1, dtype=np.float64)


def ema_bias(beta, t):
    r"""Total weight of the EMA after t steps, :math:`1 - \beta^t`.

    The average of a constant gradient :math:`g` is :math:`(1-\beta^t)\,g`: biased
    toward 0 at the start, which bias correction divides away.

    Args:
        beta: :math:`\beta \in [0, 1)`, scalar or array.
        t: step count(s), whole numbers ≥ 0, broadcasting with ``beta``.

    Returns:
        float, or an array of the broadcast shape.

    Examples:
        >>> round(ema_bias(0.9, 2), 12)   # 1 − 0.81
        0.19
    """
    beta = _common.beta(beta)
    return _common.scalar_or_array(1.0 - np.power(beta, _common.steps(t, low=0)))


def ema_window(beta):
    r"""Effective averaging window :math:`1/(1-\beta)` in steps.

    Args:
        beta: :math:`\beta \in [0, 1)`, scalar or array.

    Returns:
        float, or an array shaped like ``beta``.

    Examples:
        >>> round(ema_window(0.9), 12), round(ema_window(0.999), 9)
        (10.0, 1000.0)
    """
    beta = _common.beta(beta)
    return _common.scalar_or_array(1.0 / (1.0 - np.asarray(beta)))


def ema_gain(beta, omega):
    r"""How much of an oscillation of angular frequency :math:`\omega` the EMA keeps.

    Feed :math:`g_t = e^{i\omega t}` into :math:`v_t = \beta v_{t-1} + (1-\beta) g_t`;
    once the start is forgotten :math:`v_t = G(\omega)\, g_t` with the response

    .. math::

        G(\omega) = \frac{1-\beta}{1 - \beta e^{-i\omega}}, \qquad
        |G(\omega)| = \frac{1-\beta}{\sqrt{1 - 2\beta\cos\omega + \beta^2}}

    (:math:`G`, not :math:`H`, which is the Hessian). A constant gradient
    (:math:`\omega = 0`) is kept whole, :math:`|G| = 1`; a gradient that flips sign every
    step (:math:`\omega = \pi`) is shrunk to :math:`|G| = (1-\beta)/(1+\beta)`.

    Args:
        beta: :math:`\beta \in [0, 1)`, scalar or array.
        omega: angular frequency(ies) in radians per step, broadcasting with ``beta``.

    Returns:
        float, or an array of the broadcast shape.

    Examples:
        >>> round(ema_gain(0.9, np.pi), 6)   # 0.1 / 1.9
        0.052632
    """
    beta = np.asarray(_common.beta(beta))
    omega = np.asarray(hyperparameter("omega", omega, low=-np.inf, low_inclusive=False))
    gain = (1.0 - beta) / np.sqrt(1.0 - 2.0 * beta * np.cos(omega) + beta**2)
    return _common.scalar_or_array(gain)


def adam_bias_correction(beta1, beta2, t) -> BiasCorrection:
    r"""Adam's bias-correction terms :math:`1-\beta_1^t`, :math:`1-\beta_2^t` and their step factor.

    Adam divides its first-moment average by :math:`1-\beta_1^t` and its second-moment
    average by :math:`1-\beta_2^t` (each the :func:`ema_bias` of its average), so for
    :math:`\varepsilon = 0` the corrected step is the uncorrected one times

    .. math::

        c_t = \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t} .

    Args:
        beta1: :math:`\beta_1 \in [0, 1)`, scalar or array.
        beta2: :math:`\beta_2 \in [0, 1)`, scalar or array.
        t: step count(s), whole numbers ≥ 0 (at :math:`t = 0` the step factor is ``nan``).

    Returns:
        A :class:`BiasCorrection`.

    Examples:
        >>> bc = adam_bias_correction(0.9, 0.999, 1)
        >>> round(bc.step_scale, 6)   # sqrt(0.001) / 0.1
        0.316228
    """
    beta1 = _common.beta(beta1, "beta1")
    beta2 = _common.beta(beta2, "beta2")
    first = ema_bias(beta1, t)
    second = ema_bias(beta2, t)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.sqrt(second) / first
    return BiasCorrection(first=first, second=second,
                          step_scale=_common.scalar_or_array(scale))
