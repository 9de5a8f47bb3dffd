r"""A small fully connected network in numpy, the digits data, and mini-batch training.

Chapter 5 (``chapters/05_training.ipynb``) trains this network with every
optimizer of the book. Everything is plain numpy, float64:

* :func:`load_digits_split` — scikit-learn's bundled 8×8 handwritten digits
  (shipped inside the package: nothing is downloaded), scaled to [0, 1] and
  split into training and test sets, deterministically;
* :class:`MLP` — a multilayer perceptron with parameters in a dict
  ``W1, b1, W2, b2, ...`` (the structure every optlib optimizer updates in
  place), its forward pass, softmax cross-entropy loss and the backward pass;
* :func:`minibatches`, :func:`train`, :func:`compare_optimizers`,
  :func:`lr_sweep` — mini-batch training that records a :class:`History`;
* :func:`gradient_check` — the backward pass against central differences;
* :func:`sharpness` — the largest Hessian eigenvalue of the loss (chapter 1's
  :math:`\lambda_{\max}`), by power iteration on Hessian-vector products;
* :class:`LearningRateExplorer` — an exploration: a learning-rate slider over
  precomputed training curves of several optimizers.

Notation (one row per example): the layer :math:`l = 1, \dots, L` computes

.. math::

    Z^{[l]} = A^{[l-1]} W^{[l]} + b^{[l]}, \qquad A^{[l]} = g\big(Z^{[l]}\big),

with :math:`A^{[0]} = X` (shape ``(n, d_0)``), :math:`W^{[l]}` of shape
``(d_{l-1}, d_l)``, :math:`b^{[l]}` of shape ``(d_l,)``, the activation
:math:`g` (ReLU or tanh) on the hidden layers and none on the last: its
:math:`Z^{[L]}` are the *logits*.

The library never prints. Training runs that diverge (a non-finite or
exploding loss) stop quietly and say so in their :class:`History`; no
``RuntimeWarning`` reaches the reader. Bad input raises ``TypeError`` or
``ValueError`` naming the argument and the value given.
"""

from __future__ import annotations

import numbers
import os
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from ._validate import describe
from .explore import STATIC_ONLY_ENV, Exploration, Slider, _fmt
from .optimizers import Optimizer
from .plotting import COLORS

__all__ = [
    "Digits",
    "load_digits_split",
    "one_hot",
    "MLP",
    "minibatches",
    "History",
    "train",
    "compare_optimizers",
    "lr_sweep",
    "sharpness",
    "gradient_check",
    "progress_enabled",
    "LearningRateExplorer",
    "QUIET_ENV",
    "ACTIVATIONS",
]

#: Set to "1" to switch off every progress bar (``scripts/execute_notebooks.py`` runs
#: with it, so that stored notebooks hold no bars).
QUIET_ENV = "OPTLIB_QUIET"
#: The hidden-layer activations :class:`MLP` offers.
ACTIVATIONS = ("relu", "tanh")
#: The pixel values of scikit-learn's digits are whole numbers from 0 to this.
DIGITS_MAX = 16.0


def _one_blas_thread():
    """A context in which BLAS (numpy's matrix products) runs on a single thread.

    The matrices of this module are small (at most 1347 × 64): a second BLAS thread
    saves nothing there, and on a busy machine threads that wait for each other make
    the products several times slower. One thread also makes every result independent
    of the machine's thread count. Uses threadpoolctl (a dependency of scikit-learn)
    when it is installed; otherwise changes nothing.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# --------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------
def _whole(name: str, value, low: int) -> int:
    """A whole number ≥ ``low`` (bools refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral,)):
        raise TypeError(f"{name} must be a whole number ≥ {low}, got {name}={describe(value)}")
    if value < low:
        raise ValueError(f"{name} must be a whole number ≥ {low}, got {name}={describe(value)}")
    return int(value)


def _real(name: str, value, low: float, high: float = np.inf, low_inclusive: bool = True,
          high_inclusive: bool = False) -> float:
    """A finite real number in the given interval."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {name}={describe(value)}")
    value = float(value)
    ok = np.isfinite(value) and (value >= low if low_inclusive else value > low) and (
        value <= high if high_inclusive else value < high)
    if not ok:
        lo, hi = "[" if low_inclusive else "(", "]" if high_inclusive else ")"
        raise ValueError(f"{name} must be a finite number in {lo}{low:g}, {high:g}{hi}, got "
                         f"{name}={describe(value)}")
    return value


def _features(name: str, X, width: int) -> np.ndarray:
    """A 2-d float64 array with ``width`` columns (integers are converted)."""
    if not isinstance(X, np.ndarray):
        try:
            X = np.asarray(X)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be an array of numbers, got {name}={describe(X)}"
                            ) from None
    if X.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be an array of numbers, got {name}={describe(X)} "
                        f"(dtype {X.dtype})")
    if X.ndim != 2 or X.shape[1] != width:
        raise ValueError(f"{name} must have shape (n, {width}) (one row per example, "
                         f"{width} features), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one example, got shape {X.shape}")
    return np.asarray(X, dtype=np.float64)


def _labels(name: str, y, n: int, classes: int, x_name: str = "X") -> np.ndarray:
    """A 1-d int64 array of ``n`` class labels in ``[0, classes)``."""
    if not isinstance(y, np.ndarray):
        try:
            y = np.asarray(y)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be an array of whole-number labels, got "
                            f"{name}={describe(y)}") from None
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an array of whole-number class labels, got "
                        f"{name}={describe(y)} (dtype {y.dtype})")
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},), one label per row of {x_name}, got "
                         f"shape {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= classes):
        raise ValueError(f"{name} must hold labels 0 ... {classes - 1}, got values from "
                         f"{y.min()} to {y.max()}")
    return y.astype(np.int64, copy=False)


# --------------------------------------------------------------------------
# The data
# --------------------------------------------------------------------------
class Digits(NamedTuple):
    """A training/test split of the digits: features in [0, 1], labels 0–9.

    Attributes:
        X_train: ``(n_train, 64)`` float64, the 8×8 images row by row.
        y_train: ``(n_train,)`` int64 labels.
        X_test: ``(n_test, 64)`` float64.
        y_test: ``(n_test,)`` int64.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_classes(self) -> int:
        """Number of classes (10 for the digits)."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def n_features(self) -> int:
        """Number of input features (64 for the digits)."""
        return int(self.X_train.shape[1])


def load_digits_split(test_fraction: float = 0.25, seed: int = 0,
                      stratify: bool = True) -> Digits:
    r"""scikit-learn's handwritten digits, scaled to [0, 1] and split deterministically.

    The data (1797 grey-scale 8×8 images of the digits 0–9, pixel values
    0…16) ship inside scikit-learn: nothing is downloaded. Features are the
    pixels divided by 16. With ``stratify`` each class is split separately —
    ``round(test_fraction · n_c)`` of the :math:`n_c` images of class :math:`c`
    go to the test set — so both sets have the class proportions of the whole;
    otherwise one random permutation is cut. Both sets are then shuffled. All
    randomness comes from ``numpy.random.default_rng(seed)``: the same seed
    gives the same split.

    Args:
        test_fraction: share of the images held out for testing, in (0, 1).
        seed: seed of the split.
        stratify: split class by class.

    Returns:
        A :class:`Digits` tuple ``(X_train, y_train, X_test, y_test)``.

    Raises:
        ImportError: if scikit-learn is not installed.
    """
    test_fraction = _real("test_fraction", test_fraction, 0.0, 1.0, low_inclusive=False)
    seed = _whole("seed", seed, 0)
    if not isinstance(stratify, (bool, np.bool_)):
        raise TypeError(f"stratify must be True or False, got stratify={describe(stratify)}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError(
            "load_digits_split needs scikit-learn, which ships the digits data set inside the "
            "package (no download): pip install scikit-learn") from exc
    bunch = load_digits()
    X = np.asarray(bunch.data, dtype=np.float64) / DIGITS_MAX
    y = np.asarray(bunch.target, dtype=np.int64)
    rng = np.random.default_rng(seed)
    if stratify:
        test, rest = [], []
        for c in np.unique(y):
            members = rng.permutation(np.flatnonzero(y == c))
            k = int(round(test_fraction * members.size))
            test.append(members[:k])
            rest.append(members[k:])
        test, rest = np.concatenate(test), np.concatenate(rest)
    else:
        order = rng.permutation(y.size)
        k = int(round(test_fraction * y.size))
        test, rest = order[:k], order[k:]
    if test.size == 0 or rest.size == 0:
        raise ValueError(f"test_fraction={test_fraction!r} leaves an empty training or test set")
    rest, test = rng.permutation(rest), rng.permutation(test)
    return Digits(X[rest], y[rest], X[test], y[test])


def one_hot(y, n_classes: int | None = None) -> np.ndarray:
    r"""One-hot rows: :math:`Y_{ik} = 1` if :math:`y_i = k`, else 0.

    Args:
        y: 1-d array of whole-number labels ≥ 0.
        n_classes: number of columns (default ``max(y) + 1``).

    Returns:
        float64 array of shape ``(len(y), n_classes)``.
    """
    y_arr = np.asarray(y) if not isinstance(y, np.ndarray) else y
    if y_arr.ndim != 1:
        raise ValueError(f"y must be a 1-d array of labels, got shape {y_arr.shape}")
    if n_classes is None:
        if y_arr.dtype.kind not in "iu" or y_arr.size == 0:
            raise ValueError(f"y must be a non-empty array of whole-number labels when n_classes "
                             f"is not given, got y={describe(y)}")
        n_classes = int(y_arr.max()) + 1
    n_classes = _whole("n_classes", n_classes, 1)
    labels = _labels("y", y_arr, y_arr.shape[0], n_classes)
    out = np.zeros((labels.size, n_classes))
    out[np.arange(labels.size), labels] = 1.0
    return out


# --------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------
def _log_softmax(Z: np.ndarray) -> np.ndarray:
    r"""Row-wise :math:`\log \operatorname{softmax}(Z) = Z - \max Z - \log\sum e^{Z - \max Z}`."""
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class MLP:
    r"""A multilayer perceptron with softmax cross-entropy, written out in numpy.

    Layers :math:`l = 1, \dots, L` (``L = len(sizes) - 1``) compute
    :math:`Z^{[l]} = A^{[l-1]} W^{[l]} + b^{[l]}` and, except the last,
    :math:`A^{[l]} = g(Z^{[l]})` with :math:`g(z) = \max(z, 0)` (``"relu"``) or
    :math:`\tanh z`. The loss of a batch of :math:`n` examples with labels
    :math:`y_i` is the mean cross-entropy of the softmax of the logits
    :math:`Z = Z^{[L]}`, plus an optional L2 penalty on the weights:

    .. math::

        \mathcal{L} = -\frac1n \sum_{i=1}^n \log \operatorname{softmax}(Z_i)_{y_i}
        + \frac{\lambda}{2} \sum_l \lVert W^{[l]} \rVert^2,
        \qquad
        \log \operatorname{softmax}(z)_k = z_k - m - \log \sum_j e^{z_j - m},
        \; m = \max_j z_j

    (the shift by :math:`m` keeps :math:`e^{z}` from overflowing). The
    backward pass (:meth:`loss_and_grads`), with :math:`P` the softmax
    probabilities and :math:`Y` the one-hot labels:

    .. math::

        dZ^{[L]} = P - Y, \qquad
        dW^{[l]} = \tfrac1n A^{[l-1]\top} dZ^{[l]} + \lambda W^{[l]}, \qquad
        db^{[l]} = \tfrac1n \textstyle\sum_i dZ^{[l]}_i,

        dA^{[l-1]} = dZ^{[l]} W^{[l]\top}, \qquad
        dZ^{[l-1]} = dA^{[l-1]} \odot g'\big(Z^{[l-1]}\big),

    with :math:`g'(z) = [z > 0]` for ReLU and :math:`1 - \tanh^2 z` for tanh.

    Args:
        sizes: layer widths :math:`(d_0, d_1, \dots, d_L)`: inputs, hidden
            layers, classes (at least two entries, each ≥ 1).
        activation: ``"relu"`` or ``"tanh"``.
        seed: seed of :meth:`init_params`.
        l2: L2 penalty :math:`\lambda \ge 0` on the weights (not the biases);
            0 (off) by default.

    Examples:
        >>> import numpy as np
        >>> net = MLP(sizes=(4, 3, 2), seed=0)
        >>> params = net.init_params()
        >>> sorted(params), params["W1"].shape, params["b2"].shape
        (['W1', 'W2', 'b1', 'b2'], (4, 3), (2,))
        >>> loss, grads = net.loss_and_grads(params, np.ones((5, 4)), np.array([0, 1, 0, 1, 1]))
        >>> grads["W1"].shape == params["W1"].shape
        True
    """

    def __init__(self, sizes=(64, 32, 10), activation: str = "relu", seed: int = 0,
                 l2: float = 0.0):
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
            raise TypeError(f"sizes must be a sequence of layer widths such as (64, 32, 10), got "
                            f"sizes={describe(sizes)}")
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least the inputs and the classes, e.g. "
                             f"(64, 10), got sizes={describe(sizes)}")
        for s in sizes:
            if isinstance(s, (bool, np.bool_)) or not isinstance(s, numbers.Integral):
                raise TypeError(f"sizes must hold whole numbers, got sizes={describe(sizes)}")
            if s < 1:
                raise ValueError(f"every layer width in sizes must be ≥ 1, got "
                                 f"sizes={describe(sizes)}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, got "
                             f"activation={activation!r}")
        self.sizes = tuple(int(s) for s in sizes)
        self.activation = activation
        self.seed = _whole("seed", seed, 0)
        self.l2 = _real("l2", l2, 0.0)

    # -- structure -------------------------------------------------------------
    @property
    def layers(self) -> int:
        """Number of layers with parameters, :math:`L`."""
        return len(self.sizes) - 1

    @property
    def keys(self) -> list[str]:
        """Parameter names in layer order, ``["W1", "b1", "W2", "b2", ...]``."""
        return [f"{p}{l}" for l in range(1, self.layers + 1) for p in ("W", "b")]

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """The shape of every parameter: ``W{l}`` is ``(d_{l-1}, d_l)``, ``b{l}`` is ``(d_l,)``."""
        out = {}
        for l in range(1, self.layers + 1):
            out[f"W{l}"] = (self.sizes[l - 1], self.sizes[l])
            out[f"b{l}"] = (self.sizes[l],)
        return out

    @property
    def n_params(self) -> int:
        """Total number of parameters."""
        return int(sum(np.prod(s) for s in self.shapes().values()))

    def init_params(self, seed: int | None = None) -> dict[str, np.ndarray]:
        r"""Fresh parameters: random weights, zero biases, float64.

        ReLU layers use He initialisation, :math:`W_{jk} \sim \mathcal N(0, 2/d_{l-1})`;
        tanh layers and the output layer use Glorot (Xavier),
        :math:`\mathcal N\big(0, 2/(d_{l-1} + d_l)\big)`. The draws come from
        ``numpy.random.default_rng(seed)`` (default: the model's ``seed``), layer
        by layer, so the same seed gives the same parameters.
        """
        seed = self.seed if seed is None else _whole("seed", seed, 0)
        rng = np.random.default_rng(seed)
        params = {}
        for l in range(1, self.layers + 1):
            fan_in, fan_out = self.sizes[l - 1], self.sizes[l]
            hidden_relu = self.activation == "relu" and l < self.layers
            var = 2.0 / fan_in if hidden_relu else 2.0 / (fan_in + fan_out)
            params[f"W{l}"] = rng.normal(0.0, np.sqrt(var), size=(fan_in, fan_out))
            params[f"b{l}"] = np.zeros(fan_out)
        return params

    def check_params(self, params, name: str = "params") -> None:
        """Raise ``TypeError``/``ValueError`` unless ``params`` fits this network.

        ``name`` is the argument's name in the messages.
        """
        if not isinstance(params, dict):
            raise TypeError(f"{name} must be a dict name -> ndarray with keys {self.keys}, got "
                            f"{name} of type {type(params).__name__}")
        if set(params) != set(self.keys):
            missing = [k for k in self.keys if k not in params]
            extra = [k for k in params if k not in self.keys]
            raise ValueError(f"{name} must have the keys {self.keys}: missing {missing}, "
                             f"unexpected {extra}")
        for key, shape in self.shapes().items():
            p = params[key]
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(f"{name}[{key!r}] must be a float ndarray, got {describe(p)}")
            if p.shape != shape:
                raise ValueError(f"{name}[{key!r}] must have shape {shape} for sizes "
                                 f"{self.sizes}, got shape {p.shape}")

    # -- computation (unchecked cores) -------------------------------------------
    def _forward(self, params, X):
        A, Zs, As = X, [], [X]
        for l in range(1, self.layers + 1):
            Z = A @ params[f"W{l}"] + params[f"b{l}"]
            Zs.append(Z)
            if l < self.layers:
                A = np.maximum(Z, 0.0) if self.activation == "relu" else np.tanh(Z)
                As.append(A)
        return Zs[-1], (As, Zs)

    def _penalty(self, params) -> float:
        if self.l2 == 0.0:
            return 0.0
        return 0.5 * self.l2 * sum(float(np.sum(params[f"W{l}"] ** 2))
                                   for l in range(1, self.layers + 1))

    def _loss(self, params, X, y) -> float:
        with np.errstate(all="ignore"):
            logits, _ = self._forward(params, X)
            logp = _log_softmax(logits)
            return float(-logp[np.arange(y.size), y].mean()) + self._penalty(params)

    def _loss_and_grads(self, params, X, y):
        with np.errstate(all="ignore"):
            n = X.shape[0]
            logits, (As, Zs) = self._forward(params, X)
            logp = _log_softmax(logits)
            rows = np.arange(n)
            loss = float(-logp[rows, y].mean()) + self._penalty(params)
            dZ = np.exp(logp)                         # P
            dZ[rows, y] -= 1.0                        # P - Y
            dZ /= n                                   # the 1/n of the mean, once
            grads = {}
            for l in range(self.layers, 0, -1):
                W = params[f"W{l}"]
                dW = As[l - 1].T @ dZ
                if self.l2:
                    dW += self.l2 * W
                grads[f"W{l}"] = dW
                grads[f"b{l}"] = dZ.sum(axis=0)
                if l > 1:
                    dA = dZ @ W.T
                    if self.activation == "relu":
                        dZ = dA * (Zs[l - 2] > 0)
                    else:
                        dZ = dA * (1.0 - As[l - 1] ** 2)
            return loss, {k: grads[k] for k in self.keys}

    def _check_data(self, X, y, x_name="X", y_name="y"):
        X = _features(x_name, X, self.sizes[0])
        y = _labels(y_name, y, X.shape[0], self.sizes[-1], x_name)
        return X, y

    # -- public ----------------------------------------------------------------
    def forward(self, params, X):
        r"""The logits :math:`Z^{[L]}` for the rows of ``X``, and the cache of the pass.

        Returns:
            ``(logits, (A, Z))``: logits of shape ``(n, d_L)``; ``A`` the list
            :math:`A^{[0]} = X, A^{[1]}, \dots, A^{[L-1]}` and ``Z`` the list
            :math:`Z^{[1]}, \dots, Z^{[L]}`.
        """
        self.check_params(params)
        X = _features("X", X, self.sizes[0])
        with np.errstate(all="ignore"):
            return self._forward(params, X)

    def loss(self, params, X, y) -> float:
        """Mean softmax cross-entropy of the batch ``(X, y)`` (plus the L2 term)."""
        self.check_params(params)
        X, y = self._check_data(X, y)
        return self._loss(params, X, y)

    def loss_and_grads(self, params, X, y):
        """The loss and its gradient: ``(loss, grads)``, ``grads`` with the keys and shapes of
        ``params`` (the backward pass written out in the class docstring)."""
        self.check_params(params)
        X, y = self._check_data(X, y)
        return self._loss_and_grads(params, X, y)

    def probabilities(self, params, X) -> np.ndarray:
        """Softmax probabilities, shape ``(n, d_L)``; each row sums to 1."""
        logits, _ = self.forward(params, X)
        with np.errstate(all="ignore"):
            return np.exp(_log_softmax(logits))

    def predict(self, params, X) -> np.ndarray:
        """Predicted class of each row: the index of its largest logit."""
        logits, _ = self.forward(params, X)
        return np.argmax(logits, axis=1)

    def accuracy(self, params, X, y) -> float:
        """Share of rows whose predicted class is the label."""
        self.check_params(params)
        X, y = self._check_data(X, y)
        with np.errstate(all="ignore"):
            logits, _ = self._forward(params, X)
        return float(np.mean(np.argmax(logits, axis=1) == y))

    def _hessian_vector_product(self, params, X, y, v):
        # Pearlmutter's R-operator: the directional derivative R(·) = d/dε (·)(params + εv)
        # at ε = 0, pushed through the forward pass and then through the backward pass.
        with np.errstate(all="ignore"):
            n, L = X.shape[0], self.layers
            logits, (As, Zs) = self._forward(params, X)
            rows = np.arange(n)
            relu = self.activation == "relu"
            slopes, curvs = [], []                     # g'(Z), g''(Z) of the hidden layers
            for l in range(1, L):
                if relu:
                    slopes.append((Zs[l - 1] > 0).astype(float))
                    curvs.append(None)                 # g'' = 0 almost everywhere
                else:
                    slopes.append(1.0 - As[l] ** 2)
                    curvs.append(-2.0 * As[l] * slopes[-1])
            RA, RZs = np.zeros_like(X), []
            for l in range(1, L + 1):
                RZ = RA @ params[f"W{l}"] + As[l - 1] @ v[f"W{l}"] + v[f"b{l}"]
                RZs.append(RZ)
                if l < L:
                    RA = slopes[l - 1] * RZ
            P = np.exp(_log_softmax(logits))
            dZ = P.copy()
            dZ[rows, y] -= 1.0
            dZ /= n
            RdZ = P * (RZs[-1] - np.sum(P * RZs[-1], axis=1, keepdims=True)) / n
            out = {}
            for l in range(L, 0, -1):
                W, VW = params[f"W{l}"], v[f"W{l}"]
                RA_prev = slopes[l - 2] * RZs[l - 2] if l > 1 else np.zeros_like(X)
                out[f"W{l}"] = RA_prev.T @ dZ + As[l - 1].T @ RdZ + self.l2 * VW
                out[f"b{l}"] = RdZ.sum(axis=0)
                if l > 1:
                    dA = dZ @ W.T
                    RdA = RdZ @ W.T + dZ @ VW.T
                    RdZ_prev = RdA * slopes[l - 2]
                    if curvs[l - 2] is not None:
                        RdZ_prev += dA * curvs[l - 2] * RZs[l - 2]
                    dZ, RdZ = dA * slopes[l - 2], RdZ_prev
            return {k: out[k] for k in self.keys}

    def hessian_vector_product(self, params, X, y, v) -> dict[str, np.ndarray]:
        r"""The Hessian of :meth:`loss` at ``params`` applied to the direction ``v``.

        ``v`` is a dict with the keys and shapes of ``params``; the result too. Computed
        exactly (no finite differences) by Pearlmutter's :math:`\mathcal R`-operator,
        :math:`\mathcal R\{f\} = \tfrac{d}{d\varepsilon} f(w + \varepsilon v)\big|_{\varepsilon=0}`,
        applied to the forward pass and then to the backward pass:

        .. math::

            \mathcal R Z^{[l]} = \mathcal R A^{[l-1]}\, W^{[l]} + A^{[l-1]} V_W^{[l]} + V_b^{[l]},
            \qquad \mathcal R A^{[l]} = g'(Z^{[l]}) \odot \mathcal R Z^{[l]},

            \mathcal R\, dZ^{[L]} = P \odot \big(\mathcal R Z^{[L]} -
            \textstyle\sum_k P_k\, \mathcal R Z^{[L]}_k\big), \qquad
            Hv\big|_{W^{[l]}} = \tfrac1n \big(\mathcal R A^{[l-1]\top} dZ^{[l]}
            + A^{[l-1]\top} \mathcal R\, dZ^{[l]}\big) + \lambda V_W^{[l]},

        (:math:`dZ` as in the class docstring), and so on down the layers, with
        :math:`\mathcal R\, dZ^{[l-1]} = \mathcal R\, dA^{[l-1]} \odot g'(Z^{[l-1]})
        + dA^{[l-1]} \odot g''(Z^{[l-1]}) \odot \mathcal R Z^{[l-1]}` and
        :math:`g'' = 0` for ReLU, whose kinks are ignored: this is the Hessian wherever
        it exists. Costs about two more passes through the network than the gradient.
        """
        self.check_params(params)
        X, y = self._check_data(X, y)
        self.check_params(v, "v")
        return self._hessian_vector_product(params, X, y, v)

    def dead_units(self, params, X, threshold: float = 0.01) -> tuple[int, ...]:
        r"""Hidden units that pass (almost) no gradient for any row of ``X``, per hidden layer.

        A unit is counted when :math:`g'(Z) <` ``threshold`` for every row: for ReLU
        that is :math:`Z \le 0` everywhere — the unit outputs 0 for all these inputs,
        its weights get zero gradient, and gradient descent cannot revive it; for
        tanh, :math:`1 - \tanh^2 Z <` ``threshold`` everywhere (saturated).

        Returns:
            One count per hidden layer (``()`` for a network without hidden layers).
        """
        threshold = _real("threshold", threshold, 0.0, 1.0, low_inclusive=False,
                          high_inclusive=True)
        _, (As, Zs) = self.forward(params, X)
        counts = []
        for l in range(1, self.layers):
            with np.errstate(all="ignore"):
                slope = (Zs[l - 1] > 0).astype(float) if self.activation == "relu" else (
                    1.0 - As[l] ** 2)
            counts.append(int(np.sum(np.all(~(slope >= threshold), axis=0))))
        return tuple(counts)

    def __repr__(self) -> str:
        extra = f", l2={self.l2:g}" if self.l2 else ""
        return (f"MLP(sizes={self.sizes}, activation={self.activation!r}, seed={self.seed}"
                f"{extra})")


# --------------------------------------------------------------------------
# Mini-batches and training
# --------------------------------------------------------------------------
def minibatches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The index batches of one epoch: a random permutation of ``range(n)`` cut into pieces.

    Every index appears exactly once; all batches have ``batch_size`` rows except
    possibly the last, which holds the remainder (``ceil(n / batch_size)`` batches).

    Args:
        n: number of examples, ≥ 1.
        batch_size: rows per batch, ≥ 1.
        rng: a ``numpy.random.Generator``; one permutation is drawn from it.
    """
    n = _whole("n", n, 1)
    batch_size = _whole("batch_size", batch_size, 1)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (numpy.random.default_rng(seed)), "
                        f"got rng={describe(rng)}")
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


@dataclass(frozen=True, eq=False)
class History:
    """What :func:`train` records.

    Per epoch (index 0 is before the first step, index ``e`` after epoch ``e``),
    on the *whole* training and test sets:

    Attributes:
        label: the run's name (e.g. the optimizer's).
        optimizer: ``repr`` of the optimizer.
        train_loss: the loss on the training set, an array of shape
            ``(epochs + 1,)``; ``nan`` from the epoch in which the run diverged.
        train_accuracy: the accuracy on the training set, likewise.
        test_loss: the loss on the test set, likewise.
        test_accuracy: the accuracy on the test set, likewise.
        step_loss: the loss of every mini-batch before its step, shape
            ``(epochs · steps_per_epoch,)``; ``nan`` from the divergence on.
        diverged_at_epoch: the epoch (1, 2, ...) in which the loss became
            non-finite or exceeded ``max_loss``; ``-1`` if it never did.
        diverged_at_step: the same as a step count (0-based index into ``step_loss``); -1.
        params: the parameters at the end (after a divergence: as they were
            when it was detected).
        epochs: the number of epochs of the run (a setting, as given to :func:`train`).
        batch_size: the run's mini-batch size (a setting).
        seed: the seed of the run's mini-batch order (a setting).
    """

    label: str
    optimizer: str
    train_loss: np.ndarray
    train_accuracy: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    step_loss: np.ndarray
    diverged_at_epoch: int
    diverged_at_step: int
    params: dict
    epochs: int
    batch_size: int
    seed: int

    @property
    def diverged(self) -> bool:
        """True if the run was stopped because its loss blew up."""
        return self.diverged_at_epoch >= 0

    @property
    def steps_per_epoch(self) -> int:
        """Mini-batches (optimizer steps) per epoch."""
        return self.step_loss.size // max(self.epochs, 1)

    @property
    def final_train_accuracy(self) -> float:
        """Training accuracy after the last epoch (``nan`` if the run diverged)."""
        return float(self.train_accuracy[-1])

    @property
    def final_test_accuracy(self) -> float:
        """Test accuracy after the last epoch (``nan`` if the run diverged)."""
        return float(self.test_accuracy[-1])

    @property
    def final_train_loss(self) -> float:
        """Training loss after the last epoch (``nan`` if the run diverged)."""
        return float(self.train_loss[-1])


def progress_enabled(progress=None) -> bool:
    """Whether to show a progress bar: ``progress`` if it is True or False.

    ``None`` means "when someone is watching": on, unless the environment variable
    :data:`QUIET_ENV` (``OPTLIB_QUIET``) is ``"1"`` or the book is being built
    (:data:`optlib.explore.STATIC_ONLY_ENV` is ``"1"``).
    """
    if progress is None:
        return not (os.environ.get(QUIET_ENV) == "1" or os.environ.get(STATIC_ONLY_ENV) == "1")
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True, False or None, got progress={describe(progress)}")
    return bool(progress)


def _bar(total: int, desc: str, progress):
    """A tqdm bar (a widget in a notebook, text on stderr elsewhere), or None."""
    if not progress_enabled(progress):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="epoch", leave=True)


def _data(data) -> Digits:
    if isinstance(data, Digits):
        return data
    if isinstance(data, tuple) and len(data) == 4:
        return Digits(*data)
    raise TypeError(f"data must be a Digits split (load_digits_split()) or a tuple (X_train, "
                    f"y_train, X_test, y_test), got data={describe(data)}")


def _check_training(model, optimizer, data, epochs, batch_size, seed, max_loss):
    if not isinstance(model, MLP):
        raise TypeError(f"model must be an optlib.network.MLP, got model={describe(model)}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an optlib optimizer, got "
                        f"optimizer={describe(optimizer)}")
    data = _data(data)
    X_train, y_train = model._check_data(data.X_train, data.y_train, "X_train", "y_train")
    X_test, y_test = model._check_data(data.X_test, data.y_test, "X_test", "y_test")
    epochs = _whole("epochs", epochs, 1)
    batch_size = _whole("batch_size", batch_size, 1)
    seed = _whole("seed", seed, 0)
    max_loss = _real("max_loss", max_loss, 0.0, low_inclusive=False)
    return Digits(X_train, y_train, X_test, y_test), epochs, batch_size, seed, max_loss


def _copy_params(model: MLP, params) -> dict:
    if params is None:
        return model.init_params()
    model.check_params(params)
    return {k: np.array(params[k], dtype=np.float64, copy=True) for k in model.keys}


def _train(model, optimizer, data: Digits, epochs, batch_size, seed, params, max_loss, label,
           bar) -> History:
    """The training loop; arguments already checked."""
    rng = np.random.default_rng(seed)
    n = data.X_train.shape[0]
    per_epoch = -(-n // batch_size)
    curves = np.full((4, epochs + 1), np.nan)       # train loss/acc, test loss/acc
    step_loss = np.full(epochs * per_epoch, np.nan)
    diverged_epoch = diverged_step = -1

    def evaluate(e):
        for row, (X, y) in enumerate(((data.X_train, data.y_train), (data.X_test, data.y_test))):
            logits, _ = model._forward(params, X)
            logp = _log_softmax(logits)
            curves[2 * row, e] = -logp[np.arange(y.size), y].mean() + model._penalty(params)
            curves[2 * row + 1, e] = np.mean(np.argmax(logits, axis=1) == y)
        return bool(np.isfinite(curves[0, e]) and curves[0, e] <= max_loss)

    # Overflow on the way to a divergence is expected, and detected below (a non-finite
    # or too large loss): it must not reach the reader as a RuntimeWarning.
    def quiet():
        return np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore")

    optimizer.reset()
    with quiet():
        ok = evaluate(0)
    if not ok:
        curves[:, 0] = np.nan
        diverged_epoch, diverged_step = 0, 0
    step = 0
    for epoch in range(1, epochs + 1) if ok else ():
        with quiet():
            for idx in minibatches(n, batch_size, rng):
                loss, grads = model._loss_and_grads(params, data.X_train[idx],
                                                    data.y_train[idx])
                finite = np.isfinite(loss) and loss <= max_loss and all(
                    np.all(np.isfinite(g)) for g in grads.values())
                if not finite:
                    diverged_epoch, diverged_step = epoch, step
                    break
                step_loss[step] = loss
                optimizer.step(params, grads)
                step += 1
            evaluated = diverged_epoch < 0 and evaluate(epoch)
        if diverged_epoch < 0 and not evaluated:
            diverged_epoch, diverged_step = epoch, step
        if diverged_epoch >= 0:
            curves[:, epoch:] = np.nan
            step_loss[diverged_step:] = np.nan
            if bar is not None:
                bar.set_postfix_str("diverged")
                bar.update(epochs - epoch + 1)
            break
        if bar is not None:
            bar.set_postfix(loss=f"{curves[0, epoch]:.4f}", test_acc=f"{curves[3, epoch]:.4f}",
                            refresh=False)
            bar.update(1)
    return History(label=label, optimizer=repr(optimizer), train_loss=curves[0],
                   train_accuracy=curves[1], test_loss=curves[2], test_accuracy=curves[3],
                   step_loss=step_loss, diverged_at_epoch=diverged_epoch,
                   diverged_at_step=diverged_step, params=params, epochs=epochs,
                   batch_size=batch_size, seed=seed)


def train(model: MLP, optimizer: Optimizer, data, epochs: int = 20, batch_size: int = 64,
          seed: int = 0, params=None, progress=None, label: str | None = None,
          max_loss: float = 1e3) -> History:
    r"""Train ``model`` with mini-batches: one ``optimizer.step(params, grads)`` per batch.

    Each epoch visits the training set once in a fresh random order
    (:func:`minibatches`, drawn from ``numpy.random.default_rng(seed)``); after each
    epoch the loss and accuracy on the whole training and test sets are recorded.
    The optimizer is :meth:`~optlib.optimizers.Optimizer.reset` first and the
    starting parameters are copied, so the same arguments give the same
    :class:`History`, bit for bit.

    A run *diverges* when a mini-batch loss or gradient is not finite, or a loss
    exceeds ``max_loss`` (the loss of guessing is :math:`\ln 10 \approx 2.3`): it
    stops there quietly, its curves are ``nan`` from that epoch on, and
    ``diverged_at_epoch`` says when.

    Args:
        model: the :class:`MLP`.
        optimizer: any optlib optimizer (hyperparameters are used as they are).
        data: a :class:`Digits` split, or ``(X_train, y_train, X_test, y_test)``.
        epochs: passes over the training set, ≥ 1.
        batch_size: examples per step, ≥ 1 (``len(X_train)`` for full-batch
            gradient descent).
        seed: seed of the mini-batch order.
        params: starting parameters (copied); default ``model.init_params()``.
        progress: show a progress bar over the epochs: True, False, or None (the
            default) for "unless quiet" (see :func:`progress_enabled`).
        label: the run's name in the History and on the bar.
        max_loss: a loss above this counts as divergence.

    Returns:
        A :class:`History`.
    """
    data, epochs, batch_size, seed, max_loss = _check_training(
        model, optimizer, data, epochs, batch_size, seed, max_loss)
    start = _copy_params(model, params)
    label = type(optimizer).__name__ if label is None else str(label)
    bar = _bar(epochs, label, progress)
    try:
        with _one_blas_thread():
            return _train(model, optimizer, data, epochs, batch_size, seed, start, max_loss,
                          label, bar)
    finally:
        if bar is not None:
            bar.close()


def _factories(name: str, optimizers) -> dict:
    if not isinstance(optimizers, dict) or not optimizers:
        raise TypeError(f"{name} must be a non-empty dict label -> factory (a function returning "
                        f"a fresh optimizer), got {name}={describe(optimizers)}")
    for label, make in optimizers.items():
        if not callable(make):
            raise TypeError(f"{name}[{label!r}] must be a function returning a fresh optimizer, "
                            f"got {describe(make)}")
    return dict(optimizers)


def compare_optimizers(model: MLP, optimizers: dict, data, epochs: int = 20,
                       batch_size: int = 64, seed: int = 0, params=None, progress=None,
                       max_loss: float = 1e3) -> dict[str, History]:
    """Train one run per optimizer from the same start, in the same mini-batch order.

    Every run starts from a copy of the same parameters (``params``, default
    ``model.init_params()``) and uses the same ``seed``, hence the same sequence of
    mini-batches: the optimizers are the only difference.

    Args:
        model, data, epochs, batch_size, seed, max_loss: as in :func:`train`.
        optimizers: ``{label: factory}``; ``factory()`` returns a fresh optimizer,
            e.g. ``{"Adam": lambda: Adam(lr=1e-3)}``.
        params: the common start (default ``model.init_params()``).
        progress: one bar over all runs' epochs (see :func:`train`).

    Returns:
        ``{label: History}`` in the order of ``optimizers``.
    """
    optimizers = _factories("optimizers", optimizers)
    made = {}
    for label, make in optimizers.items():
        opt = make()
        if not isinstance(opt, Optimizer):
            raise TypeError(f"optimizers[{label!r}]() must return an optlib optimizer, got "
                            f"{describe(opt)}")
        made[label] = opt
    data, epochs, batch_size, seed, max_loss = _check_training(
        model, next(iter(made.values())), data, epochs, batch_size, seed, max_loss)
    start = _copy_params(model, params)
    bar = _bar(epochs * len(made), "training", progress)
    out = {}
    try:
        with _one_blas_thread():
            for label, opt in made.items():
                if bar is not None:
                    bar.set_description(str(label), refresh=False)
                out[label] = _train(model, opt, data, epochs, batch_size, seed,
                                    {k: v.copy() for k, v in start.items()}, max_loss,
                                    str(label), bar)
    finally:
        if bar is not None:
            bar.close()
    return out


def lr_sweep(model: MLP, optimizer: Callable[..., Optimizer], lrs, data, epochs: int = 20,
             batch_size: int = 64, seed: int = 0, params=None, progress=None,
             max_loss: float = 1e3, **hyperparameters) -> dict[float, History]:
    """Train with each learning rate in ``lrs``, from the same start and mini-batch order.

    Args:
        optimizer: an optimizer class (or factory) called as
            ``optimizer(lr=lr, **hyperparameters)``.
        lrs: the learning rates (positive numbers).
        model, data, epochs, batch_size, seed, params, progress, max_loss: as in
            :func:`compare_optimizers`.

    Returns:
        ``{lr: History}`` in the order of ``lrs``.
    """
    values = np.atleast_1d(np.asarray(lrs))
    if values.dtype.kind not in "iuf" or values.ndim != 1 or values.size == 0:
        raise TypeError(f"lrs must be a non-empty 1-d sequence of learning rates, got "
                        f"lrs={describe(lrs)}")
    makers = {f"α = {float(lr):g}": (lambda lr=float(lr): optimizer(lr=lr, **hyperparameters))
              for lr in values}
    runs = compare_optimizers(model, makers, data, epochs, batch_size, seed, params, progress,
                              max_loss)
    return dict(zip((float(lr) for lr in values), runs.values()))


# --------------------------------------------------------------------------
# Checking the backward pass
# --------------------------------------------------------------------------
def gradient_check(model: MLP, params, X, y, h: float = 1e-6) -> dict[str, float]:
    r"""Relative error of :meth:`MLP.loss_and_grads` against central differences, per parameter.

    Every entry :math:`\theta` of every parameter is moved by :math:`\pm h` in turn:

    .. math::

        \tilde g_\theta = \frac{\mathcal L(\theta + h) - \mathcal L(\theta - h)}{2h},
        \qquad
        \text{error} = \frac{\lVert \tilde g - g \rVert}{\lVert \tilde g \rVert + \lVert g \rVert},

    where :math:`g` is the backward pass's gradient of that parameter (the norms
    over all its entries). In float64 with :math:`h \approx 10^{-6}` a correct
    gradient gives errors around :math:`10^{-9}`; a wrong one, errors near 1.
    Costs two loss evaluations per parameter entry: use a small batch.

    Returns:
        ``{name: relative error}`` in the order of ``model.keys`` (0 where both
        gradients are exactly 0).
    """
    model.check_params(params)
    X, y = model._check_data(X, y)
    h = _real("h", h, 0.0, low_inclusive=False)
    with _one_blas_thread():
        return _gradient_check(model, params, X, y, h)


def _gradient_check(model, params, X, y, h):
    _, grads = model._loss_and_grads(params, X, y)
    work = {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}
    errors = {}
    for key in model.keys:
        p, numeric = work[key], np.empty(work[key].shape)
        for i in np.ndindex(p.shape):
            saved = p[i]
            p[i] = saved + h
            up = model._loss(work, X, y)
            p[i] = saved - h
            down = model._loss(work, X, y)
            p[i] = saved
            numeric[i] = (up - down) / (2 * h)
        scale = np.linalg.norm(numeric) + np.linalg.norm(grads[key])
        errors[key] = float(np.linalg.norm(numeric - grads[key]) / scale) if scale > 0 else 0.0
    return errors


# --------------------------------------------------------------------------
# Curvature: chapter 1's λ_max for the network
# --------------------------------------------------------------------------
def sharpness(model: MLP, params, X, y, iters: int = 100, seed: int = 0) -> float:
    r"""The largest-magnitude eigenvalue :math:`\lambda_{\max}` of the Hessian of the loss.

    Power iteration :math:`v \leftarrow Hv / \lVert Hv \rVert` on the parameters
    flattened into one vector, with exact Hessian-vector products
    (:meth:`MLP.hessian_vector_product`), and the Rayleigh quotient
    :math:`v^\top H v` as the estimate. On a quadratic this is chapter 1's
    :math:`\lambda_{\max}`, and full-batch gradient descent is stable near
    ``params`` only for :math:`\alpha < 2/\lambda_{\max}`.

    Args:
        model, params: the network and the point at which to measure.
        X, y: the data of the loss (e.g. the whole training set).
        iters: power iterations, ≥ 1.
        seed: seed of the random start vector.
    """
    model.check_params(params)
    X, y = model._check_data(X, y)
    iters = _whole("iters", iters, 1)
    seed = _whole("seed", seed, 0)
    keys, shapes = model.keys, model.shapes()
    cuts = np.cumsum([int(np.prod(shapes[k])) for k in keys])[:-1]

    def hv(vec):
        parts = np.split(vec, cuts)
        out = model._hessian_vector_product(
            params, X, y, {k: part.reshape(shapes[k]) for k, part in zip(keys, parts)})
        return np.concatenate([out[k].ravel() for k in keys])

    v = np.random.default_rng(seed).normal(size=model.n_params)
    v /= np.linalg.norm(v)
    estimate = 0.0
    with np.errstate(all="ignore"), _one_blas_thread():
        for _ in range(iters):
            w = hv(v)
            estimate = float(v @ w)
            norm = np.linalg.norm(w)
            if not np.isfinite(norm) or norm == 0.0:
                break
            v = w / norm
    return estimate


# --------------------------------------------------------------------------
# The exploration: a learning-rate slider over precomputed training curves
# --------------------------------------------------------------------------
class LearningRateExplorer(Exploration):
    r"""Training curves of several optimizers, with their learning rates scaled by a slider.

    For each optimizer and each slider value :math:`m` the network is trained
    with the learning rate :math:`m \cdot \alpha_0` (:math:`\alpha_0`: the one its
    factory sets), from the same start and in the same mini-batch order. The
    left panel shows the training loss per epoch (log scale), the right one the
    test accuracy; the readout gives every optimizer's learning rate and its
    final test accuracy, or the epoch in which it diverged.

    Args:
        model: the :class:`MLP`.
        optimizers: ``{label: factory}`` as for :func:`compare_optimizers`.
        data: the :class:`Digits` split.
        scales: the slider's multipliers :math:`m` of each learning rate.
        epochs, batch_size, seed, max_loss: as in :func:`train`.
        progress: one bar over all the training (see :func:`train`).
        name: short name for benchmarks and the HTML.

    Attributes:
        histories: ``{label: [History per scale]}``.
        max_loss: the loss above which a run counts as diverged (the readout quotes it).
    """

    def __init__(self, model: MLP, optimizers: dict, data, scales=(0.25, 0.5, 1.0, 2.0, 4.0),
                 epochs: int = 10, batch_size: int = 64, seed: int = 0, max_loss: float = 1e3,
                 progress=None, name: str = "network_lr", dpi: int = 80):
        optimizers = _factories("optimizers", optimizers)
        values = np.asarray(scales)
        if values.dtype.kind not in "iuf" or values.ndim != 1 or values.size == 0 or not np.all(
                np.isfinite(values) & (values > 0)) or np.unique(values).size != values.size:
            raise ValueError(f"scales must be a non-empty 1-d sequence of distinct positive "
                             f"numbers, got scales={describe(scales)}")
        self.name, self.labels, self.epochs = name, list(optimizers), epochs
        self.max_loss = max_loss
        self.base_lrs = {}
        makers = {}
        for label, make in optimizers.items():
            base = make()
            if not isinstance(base, Optimizer) or not hasattr(base, "lr"):
                raise TypeError(f"optimizers[{label!r}]() must return an optlib optimizer with "
                                f"a learning rate, got {describe(base)}")
            self.base_lrs[label] = float(base.lr)
            for i, m in enumerate(values):
                makers[f"{label} ×{m:g}"] = (lambda make=make, m=float(m): _scaled(make(), m))
        start = model.init_params()
        with_bar = compare_optimizers(model, makers, data, epochs, batch_size, seed, start,
                                      progress, max_loss)
        in_order = iter(with_bar.values())
        self.histories = {label: [next(in_order) for _ in range(values.size)]
                          for label in self.labels}
        losses = np.concatenate([h.train_loss for runs in self.histories.values() for h in runs])
        losses = losses[np.isfinite(losses)]
        low, top = (losses.min(), losses.max()) if losses.size else (1e-3, 3.0)
        # Runs that blow up are cut at the top of the axes (their readout says so).
        self._loss_limits = (max(low, 1e-6) / 2, min(max(top, 3.0), 30.0) * 1.5)
        slider = Slider("scale", values, initial=1.0, label="α/α₀", fmt="{:g}")
        super().__init__([slider], width=10.0, height=3.8, dpi=dpi)

    def _color(self, label: str, k: int) -> str:
        palette = ["#d62728", "#1f77b4", "#17becf", "#2ca02c", "#8c564b", "#9467bd", "#e377c2",
                   "#7f7f7f", "#bcbd22"]
        return COLORS.get(label, palette[k % len(palette)])

    def _draw(self, fig):
        from matplotlib.ticker import MaxNLocator

        ax_loss, ax_acc = fig.subplots(1, 2)
        ax_loss.set_yscale("log")
        ax_loss.set_xlim(0, self.epochs)
        ax_loss.set_ylim(*self._loss_limits)
        ax_loss.set(xlabel="epoch", ylabel="training loss", title="training loss (log scale)")
        ax_acc.set_xlim(0, self.epochs)
        ax_acc.set_ylim(0.0, 1.02)
        ax_acc.set(xlabel="epoch", ylabel="test accuracy", title="test accuracy")
        for ax in (ax_loss, ax_acc):
            ax.grid(True, which="major", alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        artists = {}
        for k, label in enumerate(self.labels):
            style = dict(color=self._color(label, k), lw=1.6, label=label,
                         ls="--" if label in _DASHED else "-")
            artists[f"loss:{label}"] = ax_loss.plot([], [], **style)[0]
            artists[f"acc:{label}"] = ax_acc.plot([], [], **style)[0]
        # between the curves that learn (near 1) and those that do not (near 0.1)
        ax_acc.legend(loc="center right", fontsize=7, ncol=2)
        return artists

    def frame(self, index):
        (i,) = index
        m = self.sliders[0].values[i]
        epochs = np.arange(self.epochs + 1)
        data, parts = {}, []
        for label in self.labels:
            h = self.histories[label][i]
            data[f"loss:{label}"] = (epochs, h.train_loss)
            data[f"acc:{label}"] = (epochs, h.test_accuracy)
            status = (f"diverged in epoch {h.diverged_at_epoch} (loss > {self.max_loss:g})"
                      if h.diverged else f"test accuracy {h.final_test_accuracy:.3f}")
            parts.append(f"<b>{label}</b> α = {_fmt(m * self.base_lrs[label])}: {status}")
        readout = f"{self.sliders[0].label} = {self.sliders[0].text(i)}: " + " · ".join(parts)
        return data, readout


#: labels drawn dashed, to tell them from a curve of a similar colour they often cover
_DASHED = ("AdamW",)


def _scaled(optimizer: Optimizer, m: float) -> Optimizer:
    """``optimizer`` with its learning rate multiplied by ``m``."""
    optimizer.lr = optimizer.lr * m
    return optimizer
