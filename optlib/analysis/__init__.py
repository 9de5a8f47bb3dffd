r"""Closed forms the chapters print and the tests check, by family.

Gradient descent and momentum on a quadratic
:math:`f(w) = \tfrac12 (w - w^*)^\top H (w - w^*)` act on each eigendirection of
:math:`H` (curvature :math:`\lambda_i`) separately, so everything reduces to scalars.

* **Gradient descent** (``optlib.analysis.gd``, chapter 1): the error along direction
  :math:`i` is multiplied by :math:`1 - \alpha\lambda_i` per step; gradient descent
  converges iff :math:`\alpha < 2/\lambda_{\max}`, at the rate
  :math:`\max_i |1 - \alpha\lambda_i|`. :func:`condition_number`, :func:`gd_factors`,
  :func:`gd_rate`, :func:`gd_regime`, :func:`gd_stability_limit`, :func:`gd_optimal`
  (an :class:`Optimum`), :func:`gd_steps_to_tolerance`.
* **Momentum** (``optlib.analysis.momentum``, chapter 2): per direction the iteration
  matrix

  .. math::

      M = \begin{pmatrix} 1 - \alpha(1-\beta)\lambda & -\alpha\beta \\
                          (1-\beta)\lambda & \beta \end{pmatrix}
      \quad\text{acting on } (e_t, v_t) \mapsto (e_{t+1}, v_{t+1}),

  with trace :math:`1 + \beta - \alpha(1-\beta)\lambda` and determinant
  :math:`\beta`; its spectral radius is the convergence rate, and complex eigenvalues
  have modulus :math:`\sqrt\beta`. :func:`momentum_iteration_matrix`,
  :func:`momentum_eigenvalues`, :func:`momentum_spectral_radius`,
  :func:`momentum_regime`, :func:`momentum_critical_lr`,
  :func:`momentum_stability_limit`, :func:`momentum_optimal`,
  :func:`heavy_ball_iteration_matrix`; Nesterov's variant :func:`nesterov_spectral_radius`,
  :func:`nesterov_stability_limit`, :func:`nesterov_optimal`.
* **Averages** (``optlib.analysis.averages``, chapters 2 and 4): the exponentially
  weighted average :math:`v_t = \beta v_{t-1} + (1-\beta) g_t` from :math:`v_0 = 0`,
  its weights, bias :math:`1-\beta^t`, window :math:`1/(1-\beta)` and gain, and Adam's
  bias correction, which divides two such biases away. :func:`ema_weights`,
  :func:`ema_bias`, :func:`ema_window`, :func:`ema_gain`,
  :func:`adam_bias_correction` (a :class:`BiasCorrection`).
* **Adaptive steps** (``optlib.analysis.adaptive``, chapters 3 and 4): Adagrad's and
  RMSprop's steps on a steady gradient, RMSprop's step size with ε outside or inside
  the root, the two-cycle RMSprop ends in, and where Adam with L2 or decoupled weight
  decay comes to rest. :func:`adagrad_constant_gradient_step`,
  :func:`rmsprop_constant_gradient_step`, :func:`rmsprop_step_size`,
  :func:`rmsprop_hover` (a :class:`Hover`), :func:`adam_weight_decay_limits`
  (:class:`WeightDecayLimits`).
* **Noise** (``optlib.analysis.noise``, chapter 6): gradient descent and momentum on a
  quadratic whose gradients carry independent noise of standard deviation :math:`\sigma`.
  The state :math:`(w_t, v_t)` follows a linear recursion with additive noise; its
  stationary covariance solves a discrete Lyapunov equation, and the expected loss settles
  at the noise floor :math:`\mathbb E[f] = (1+\beta)\alpha\sigma^2 /
  \big(2(2(1+\beta) - \alpha(1-\beta)h)\big) \approx \alpha\sigma^2/4`.
  :func:`noise_floor`, :func:`noisy_expected_loss` (every step of a run, also under a
  schedule).
* **Orthogonalisation** (``optlib.analysis.orthogonal``, chapter 7): Muon's Newton–Schulz
  iteration :math:`X \leftarrow aX + (bXX^\top + c(XX^\top)^2)X` keeps a matrix's singular
  vectors and maps each normalised singular value through
  :math:`\varphi(\sigma) = a\sigma + b\sigma^3 + c\sigma^5`. :func:`newton_schulz_map`
  (singular value in → out), :func:`orthogonalize` (the matrix iteration Muon runs).

Every function broadcasts where it says so: ``lr`` and ``beta`` may be arrays (a grid
of configurations), and ``curvatures`` runs along the last axis of the result before it
is reduced. Where a quadratic's ``curvatures`` are asked for, an objective with a
``curvatures`` attribute (``optlib.objectives.Quadratic``) may stand in for them.
Reference experiments that are not closed forms (the heavy-ball loop, the settling step
of a run, Reddi et al.'s online problem) are in :mod:`optlib.experiments`.

Examples:
    >>> from optlib import analysis
    >>> analysis.gd_stability_limit((1.0, 25.0)), analysis.momentum_optimal((1.0, 25.0)).beta
    (0.08, 0.4444444444444444)
"""

from __future__ import annotations

from .adaptive import (
    Hover,
    WeightDecayLimits,
    adagrad_constant_gradient_step,
    adam_weight_decay_limits,
    rmsprop_constant_gradient_step,
    rmsprop_hover,
    rmsprop_step_size,
)
from .averages import (
    BiasCorrection,
    adam_bias_correction,
    ema_bias,
    ema_gain,
    ema_weights,
    ema_window,
)
from .gd import (
    Optimum,
    condition_number,
    gd_factors,
    gd_optimal,
    gd_rate,
    gd_regime,
    gd_stability_limit,
    gd_steps_to_tolerance,
)
from .momentum import (
    heavy_ball_iteration_matrix,
    momentum_critical_lr,
    momentum_eigenvalues,
    momentum_iteration_matrix,
    momentum_optimal,
    momentum_regime,
    momentum_spectral_radius,
    momentum_stability_limit,
    nesterov_optimal,
    nesterov_spectral_radius,
    nesterov_stability_limit,
)
from .noise import noise_floor, noisy_expected_loss
from .orthogonal import newton_schulz_map, orthogonalize

from . import adaptive, averages, gd, momentum, noise, orthogonal

# In reading order (the API reference lists them in this order).
__all__ = [*gd.__all__, *momentum.__all__, *averages.__all__, *adaptive.__all__,
           *noise.__all__, *orthogonal.__all__]
