r"""A small fully connected network in numpy, the digits data, and mini-batch training.

Chapter 5 (``chapters/05_training.ipynb``) trains this network with every
optimizer of the book. Everything is plain numpy, float64. One idea per module:

* ``optlib.network.data`` — :func:`load_digits_split`: scikit-learn's
  bundled 8×8 handwritten digits (nothing is downloaded), scaled to [0, 1] and
  split deterministically into a :class:`Digits` tuple; the checks of features
  and labels (:func:`check_features`, :func:`check_labels`, :func:`check_split`:
  finite features, labels in range);
* ``optlib.network.model`` — :class:`MLP`: a multilayer perceptron with
  parameters in a dict ``W1, b1, W2, b2, ...`` (the structure every optlib
  optimizer updates in place), its forward pass, softmax cross-entropy loss,
  backward pass and Hessian-vector products;
* ``optlib.network.training`` — :func:`minibatches`, :func:`train`,
  :func:`compare_optimizers`, :func:`lr_sweep`: mini-batch training that records
  a :class:`History`, optionally with a *shadow* run one ulp away and with
  gradient clipping (``clip=``, :func:`optlib.clipping.clip_by_global_norm`);
* ``optlib.network.diagnostics`` — :func:`gradient_check`,
  :func:`sharpness` (chapter 1's :math:`\lambda_{\max}`), the preconditioned
  sharpness of an adaptive optimizer (:func:`diagonal_preconditioner`,
  :func:`preconditioned_sharpness`), and whether a run is erratic
  (:func:`perturb_ulps`, :func:`shadow_distance`, :func:`erratic`);
* ``optlib.network.edge`` — the edge of stability (chapter 7):
  :func:`stability_threshold` and :func:`sharpness_run`, full-batch training that
  records the loss and the sharpness, in a :class:`SharpnessRun`;
* ``optlib.network.exploration`` — :class:`LearningRateExplorer`: a
  learning-rate slider over precomputed training curves of several optimizers;
* ``optlib.network.selection`` — a fair comparison: :func:`validation_split`,
  :func:`tune_learning_rate` (the same budget for every optimizer, judged on
  validation data), :func:`repeat_runs` (several seeds, the test set once).

The library never prints. Training runs that diverge stop quietly and say so in
their :class:`History`. Bad input raises ``TypeError`` or ``ValueError`` naming
the argument and the value given; data holding ``nan`` or ``inf`` among them.
"""

from .data import (
    DIGITS_MAX, Digits, check_features, check_labels, check_split, load_digits_split, one_hot,
)
from .diagnostics import (
    ERRATIC_DISTANCE, diagonal_preconditioner, erratic, gradient_check, perturb_ulps,
    preconditioned_sharpness, shadow_distance, sharpness,
)
from .edge import SharpnessRun, sharpness_run, stability_threshold
from .exploration import LearningRateExplorer
from .selection import (
    TOLERANCE, Repeats, Tuning, repeat_runs, tune_learning_rate, validation_split,
)
from .model import ACTIVATIONS, MLP, one_blas_thread
from .training import (
    QUIET_ENV, History, check_factories, compare_optimizers, lr_sweep, minibatches,
    progress_enabled, train,
)

__all__ = [
    # data
    "Digits",
    "load_digits_split",
    "one_hot",
    "check_features",
    "check_labels",
    "check_split",
    "DIGITS_MAX",
    # model
    "MLP",
    "ACTIVATIONS",
    "one_blas_thread",
    # training
    "minibatches",
    "History",
    "train",
    "compare_optimizers",
    "lr_sweep",
    "check_factories",
    "progress_enabled",
    "QUIET_ENV",
    # diagnostics
    "gradient_check",
    "sharpness",
    "diagonal_preconditioner",
    "preconditioned_sharpness",
    "perturb_ulps",
    "shadow_distance",
    "erratic",
    "ERRATIC_DISTANCE",
    # the edge of stability
    "stability_threshold",
    "sharpness_run",
    "SharpnessRun",
    # exploration
    "LearningRateExplorer",
    # a fair comparison
    "validation_split",
    "tune_learning_rate",
    "Tuning",
    "repeat_runs",
    "Repeats",
    "TOLERANCE",
]
