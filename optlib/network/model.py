r"""A multilayer perceptron in numpy: forward pass, softmax cross-entropy, gradients, curvature.

Notation (one row per example): the layer :math:`l = 1, \dots, L` computes

.. math::

    Z^{[l]} = A^{[l-1]} W^{[l]} + b^{[l]}, \qquad A^{[l]} = g\big(Z^{[l]}\big),

with :math:`A^{[0]} = X` (shape ``(n, d_0)``), :math:`W^{[l]}` of shape
``(d_{l-1}, d_l)``, :math:`b^{[l]}` of shape ``(d_l,)``, the activation
:math:`g` (ReLU or tanh) on the hidden layers and none on the last: its
:math:`Z^{[L]}` are the *logits*. Parameters live in a dict
``W1, b1, W2, b2, ...``, the structure every optlib optimizer updates in place.

Every computing method of :class:`MLP` checks its arguments first (``params``
with :meth:`MLP.check_params`, data with :meth:`MLP.check_data`). Loops that call
them thousands of times on data they have checked once — the training loop, the
gradient check, power iteration — pass ``validate=False``: the arithmetic is the
same, bit for bit, only the checks are skipped.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np

from .._validate import choice, describe, flag, real, whole
from .data import check_features, check_labels

__all__ = ["ACTIVATIONS", "MLP", "one_blas_thread"]

#: The hidden-layer activations :class:`MLP` offers.
ACTIVATIONS = ("relu", "tanh")


def one_blas_thread():
    """A context in which BLAS (numpy's matrix products) runs on a single thread.

    The matrices of this package are small (at most 1347 × 64): a second BLAS thread
    saves nothing there, and on a busy machine threads that wait for each other make
    the products several times slower. One thread also makes every result independent
    of the machine's thread count. Uses threadpoolctl (a dependency of scikit-learn)
    when it is installed; otherwise changes nothing.

    Examples:
        >>> import numpy as np
        >>> with one_blas_thread():
        ...     float((np.ones((2, 3)) @ np.ones(3))[0])
        3.0
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _log_softmax(Z: np.ndarray) -> np.ndarray:
    r"""Row-wise :math:`\log \operatorname{softmax}(Z) = Z - \max Z - \log\sum e^{Z - \max Z}`."""
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _widths(sizes) -> tuple[int, ...]:
    """``sizes`` as a tuple of at least two whole numbers ≥ 1."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be a sequence of layer widths such as (64, 32, 10), got "
                        f"sizes={describe(sizes)}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least the inputs and the classes, e.g. "
                         f"(64, 10), got sizes={describe(sizes)}")
    widths = []
    for s in sizes:
        try:
            widths.append(whole("sizes", s, low=1))
        except TypeError:
            raise TypeError(f"sizes must hold whole numbers, got sizes={describe(sizes)}"
                            ) from None
        except ValueError:
            raise ValueError(f"every layer width in sizes must be ≥ 1, got "
                             f"sizes={describe(sizes)}") from None
    return tuple(widths)


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
        + \frac{\delta}{2} \sum_l \lVert W^{[l]} \rVert^2,
        \qquad
        \log \operatorname{softmax}(z)_k = z_k - m - \log \sum_j e^{z_j - m},
        \; m = \max_j z_j

    (the shift by :math:`m` keeps :math:`e^{z}` from overflowing). The
    backward pass (:meth:`loss_and_grads`), with :math:`P` the softmax
    probabilities and :math:`Y` the one-hot labels:

    .. math::

        dZ^{[L]} = P - Y, \qquad
        dW^{[l]} = \tfrac1n A^{[l-1]\top} dZ^{[l]} + \delta W^{[l]}, \qquad
        db^{[l]} = \tfrac1n \textstyle\sum_i dZ^{[l]}_i,

        dA^{[l-1]} = dZ^{[l]} W^{[l]\top}, \qquad
        dZ^{[l-1]} = dA^{[l-1]} \odot g'\big(Z^{[l-1]}\big),

    with :math:`g'(z) = [z > 0]` for ReLU and :math:`1 - \tanh^2 z` for tanh.

    Args:
        sizes: layer widths :math:`(d_0, d_1, \dots, d_L)`: inputs, hidden
            layers, classes (at least two entries, each ≥ 1).
        activation: ``"relu"`` or ``"tanh"``.
        seed: seed of :meth:`init_params`.
        l2: L2 penalty :math:`\delta \ge 0` on the weights (not the biases);
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
        self.sizes = _widths(sizes)
        self.activation = choice("activation", activation, ACTIVATIONS)
        self.seed = whole("seed", seed, low=0)
        self.l2 = real("l2", l2, low=0.0)

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
        seed = self.seed if seed is None else whole("seed", seed, low=0)
        rng = np.random.default_rng(seed)
        params = {}
        for l in range(1, self.layers + 1):
            fan_in, fan_out = self.sizes[l - 1], self.sizes[l]
            hidden_relu = self.activation == "relu" and l < self.layers
            var = 2.0 / fan_in if hidden_relu else 2.0 / (fan_in + fan_out)
            params[f"W{l}"] = rng.normal(0.0, np.sqrt(var), size=(fan_in, fan_out))
            params[f"b{l}"] = np.zeros(fan_out)
        return params

    # -- checks ------------------------------------------------------------------
    def check_params(self, params, name: str = "params") -> None:
        """Raise ``TypeError``/``ValueError`` unless ``params`` fits this network.

        ``params`` must be a dict with exactly the keys :attr:`keys`, each a float
        ndarray of the shape :meth:`shapes` gives. ``name`` is the argument's name in
        the messages. Values are not checked (a diverged run's parameters may hold
        ``inf``; their loss is then ``nan``).
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

    def check_data(self, X, y=None, x_name: str = "X", y_name: str = "y"):
        """``X`` (and ``y``) checked for this network and converted.

        ``X`` must have ``sizes[0]`` columns and finite entries
        (:func:`~optlib.network.check_features`); ``y`` one whole-number label
        in ``[0, sizes[-1])`` per row of ``X``
        (:func:`~optlib.network.check_labels`). The names are used in the
        messages.

        Returns:
            ``X`` as float64 if ``y`` is None, else ``(X, y)`` with ``y`` as int64.
        """
        X = check_features(X, self.sizes[0], x_name)
        if y is None:
            return X
        return X, check_labels(y, X.shape[0], self.sizes[-1], y_name, x_name)

    def _checked(self, params, X, y, validate):
        if not flag("validate", validate):
            return X, y
        self.check_params(params)
        if y is None:
            return self.check_data(X), None
        return self.check_data(X, y)

    # -- the computation ------------------------------------------------------------
    def forward(self, params, X, *, validate: bool = True):
        r"""The logits :math:`Z^{[L]}` for the rows of ``X``, and the cache of the pass.

        Args:
            params: the parameters (see :meth:`check_params`).
            X: the inputs, one row per example.
            validate: check ``params`` and ``X`` first; pass False only for
                arguments already checked (:meth:`check_params`,
                :meth:`check_data`).

        Returns:
            ``(logits, (A, Z))``: logits of shape ``(n, d_L)``; ``A`` the list
            :math:`A^{[0]} = X, A^{[1]}, \dots, A^{[L-1]}` and ``Z`` the list
            :math:`Z^{[1]}, \dots, Z^{[L]}`.
        """
        X, _ = self._checked(params, X, None, validate)
        with np.errstate(all="ignore"):
            A, Zs, As = X, [], [X]
            for l in range(1, self.layers + 1):
                Z = A @ params[f"W{l}"] + params[f"b{l}"]
                Zs.append(Z)
                if l < self.layers:
                    A = np.maximum(Z, 0.0) if self.activation == "relu" else np.tanh(Z)
                    As.append(A)
            return Zs[-1], (As, Zs)

    def penalty(self, params) -> float:
        r"""The L2 term :math:`\frac{\delta}{2} \sum_l \lVert W^{[l]} \rVert^2` (0 when off)."""
        if self.l2 == 0.0:
            return 0.0
        return 0.5 * self.l2 * sum(float(np.sum(params[f"W{l}"] ** 2))
                                   for l in range(1, self.layers + 1))

    def loss(self, params, X, y, *, validate: bool = True) -> float:
        """Mean softmax cross-entropy of the batch ``(X, y)`` (plus the L2 term).

        ``validate``: as in :meth:`forward`.
        """
        X, y = self._checked(params, X, y, validate)
        with np.errstate(all="ignore"):
            logits, _ = self.forward(params, X, validate=False)
            logp = _log_softmax(logits)
            return float(-logp[np.arange(y.size), y].mean()) + self.penalty(params)

    def evaluate(self, params, X, y, *, validate: bool = True) -> tuple[float, float]:
        """The loss and the accuracy of ``(X, y)`` from one forward pass: ``(loss, accuracy)``.

        Equal to ``(loss(params, X, y), accuracy(params, X, y))``, bit for bit.
        ``validate``: as in :meth:`forward`.

        Examples:
            >>> import numpy as np
            >>> net = MLP(sizes=(2, 3))
            >>> zeros = {"W1": np.zeros((2, 3)), "b1": np.zeros(3)}
            >>> loss, acc = net.evaluate(zeros, np.ones((4, 2)), np.array([0, 1, 2, 0]))
            >>> round(loss, 6) == round(float(np.log(3)), 6), acc
            (True, 0.5)
        """
        X, y = self._checked(params, X, y, validate)
        with np.errstate(all="ignore"):
            logits, _ = self.forward(params, X, validate=False)
            logp = _log_softmax(logits)
            loss = float(-logp[np.arange(y.size), y].mean()) + self.penalty(params)
            return loss, float(np.mean(np.argmax(logits, axis=1) == y))

    def loss_and_grads(self, params, X, y, *, validate: bool = True):
        """The loss and its gradient: ``(loss, grads)``, ``grads`` with the keys and shapes of
        ``params`` (the backward pass written out in the class docstring).

        ``validate``: as in :meth:`forward`.
        """
        X, y = self._checked(params, X, y, validate)
        with np.errstate(all="ignore"):
            n = X.shape[0]
            logits, (As, Zs) = self.forward(params, X, validate=False)
            logp = _log_softmax(logits)
            rows = np.arange(n)
            loss = float(-logp[rows, y].mean()) + self.penalty(params)
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
        X, y = self._checked(params, X, y, True)
        logits, _ = self.forward(params, X, validate=False)
        return float(np.mean(np.argmax(logits, axis=1) == y))

    def hessian_vector_product(self, params, X, y, v, *,
                               validate: bool = True) -> dict[str, np.ndarray]:
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
            + A^{[l-1]\top} \mathcal R\, dZ^{[l]}\big) + \delta V_W^{[l]},

        (:math:`dZ` as in the class docstring), and so on down the layers, with
        :math:`\mathcal R\, dZ^{[l-1]} = \mathcal R\, dA^{[l-1]} \odot g'(Z^{[l-1]})
        + dA^{[l-1]} \odot g''(Z^{[l-1]}) \odot \mathcal R Z^{[l-1]}` and
        :math:`g'' = 0` for ReLU, whose kinks are ignored: this is the Hessian wherever
        it exists. Costs about two more passes through the network than the gradient.
        ``validate``: as in :meth:`forward` (``v`` is checked like ``params``).
        """
        X, y = self._checked(params, X, y, validate)
        if validate:
            self.check_params(v, "v")
        with np.errstate(all="ignore"):
            n, L = X.shape[0], self.layers
            logits, (As, Zs) = self.forward(params, X, validate=False)
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

    def dead_units(self, params, X, threshold: float = 0.01) -> tuple[int, ...]:
        r"""Hidden units that pass (almost) no gradient for any row of ``X``, per hidden layer.

        A unit is counted when :math:`g'(Z) <` ``threshold`` for every row: for ReLU
        that is :math:`Z \le 0` everywhere — the unit outputs 0 for all these inputs,
        its weights get zero gradient, and gradient descent cannot revive it; for
        tanh, :math:`1 - \tanh^2 Z <` ``threshold`` everywhere (saturated).

        Returns:
            One count per hidden layer (``()`` for a network without hidden layers).
        """
        threshold = real("threshold", threshold, low=0.0, high=1.0, low_inclusive=False,
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
