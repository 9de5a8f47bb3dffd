r"""First-order optimizers: gradient descent, momentum, RMSprop, Adagrad, Adam, AdamW.

Every optimizer follows one contract:

* it is constructed with keyword hyperparameters, validated at once;
* ``opt.step(params, grads)`` updates ``params`` **in place** and returns it.
  ``params`` is a float ndarray, a list (or tuple) of them, or a dict
  ``name -> ndarray`` (a network's ``W1, b1, W2, b2``); ``grads`` has the same
  structure and shapes;
* per-parameter state (named after the mathematics: ``momentum_buffer``,
  ``exp_avg``, ``exp_avg_sq``, ...) is created on the first step and can be read
  through ``opt.state``; ``opt.t`` counts the steps taken; ``opt.reset()`` forgets
  both;
* a hyperparameter may be a numpy array that broadcasts against every
  parameter's shape: parameters of shape ``(K, 2)`` with ``lr`` of shape
  ``(K, 1)`` are K independent two-dimensional runs advanced by one call;
* ``step`` checks everything before it changes anything. When it rejects a
  step (structure or shapes that do not match, non-float arrays, non-finite
  gradients, a hyperparameter that does not broadcast) it raises ``TypeError`` or
  ``ValueError`` and the parameters, the state and ``t`` are exactly as before.

In the equations below, :math:`g` is the gradient, :math:`t` the step count
starting at 1, :math:`\alpha` the learning rate ``lr``.
"""

from __future__ import annotations

import numpy as np

from ._checks import describe, flag, hyperparameter

__all__ = [
    "Optimizer",
    "GradientDescent",
    "Momentum",
    "RMSprop",
    "Adagrad",
    "Adam",
    "AdamW",
]


# --------------------------------------------------------------------------
# Hyperparameters as validated attributes
# --------------------------------------------------------------------------
class _Hyper:
    """A hyperparameter attribute, validated whenever it is set."""

    def __init__(self, low, high=np.inf, *, low_inclusive=False, high_inclusive=False):
        self.bounds = dict(low=low, high=high, low_inclusive=low_inclusive,
                           high_inclusive=high_inclusive)

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return obj.__dict__[self.name]

    def __set__(self, obj, value):
        obj.__dict__[self.name] = hyperparameter(self.name, value, **self.bounds)


class _Flag:
    """A boolean switch attribute (``nesterov``, ``decoupled``, ``amsgrad``)."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return obj.__dict__[self.name]

    def __set__(self, obj, value):
        obj.__dict__[self.name] = flag(self.name, value)


_LR = dict(low=0.0)                                  # lr > 0, finite
_BETA = dict(low=0.0, high=1.0, low_inclusive=True)  # beta in [0, 1)
_NONNEG = dict(low=0.0, low_inclusive=True)          # eps, weight_decay >= 0


# --------------------------------------------------------------------------
# Parameter structures
# --------------------------------------------------------------------------
def _leaves(params, grads):
    """Pair up parameters and gradients: a list of ``(key, param, grad)``.

    Raises ``TypeError``/``ValueError`` for anything :meth:`Optimizer.step`
    cannot apply; changes nothing.
    """
    if isinstance(params, np.ndarray):
        if not isinstance(grads, np.ndarray):
            raise TypeError(
                f"grads must have the same structure as params (an ndarray), got grads of type "
                f"{type(grads).__name__}"
            )
        pairs = [(None, params, grads)]
    elif isinstance(params, (list, tuple)):
        if not isinstance(grads, (list, tuple)):
            raise TypeError(
                f"grads must have the same structure as params (a {type(params).__name__} of "
                f"{len(params)} arrays), got grads of type {type(grads).__name__}"
            )
        if len(grads) != len(params):
            raise ValueError(
                f"grads must have one array per parameter: params has {len(params)}, "
                f"grads has {len(grads)}"
            )
        pairs = list(zip(range(len(params)), params, grads))
    elif isinstance(params, dict):
        if not isinstance(grads, dict):
            raise TypeError(
                f"grads must have the same structure as params (a dict with keys "
                f"{list(params)}), got grads of type {type(grads).__name__}"
            )
        if set(grads) != set(params):
            missing = [k for k in params if k not in grads]
            extra = [k for k in grads if k not in params]
            raise ValueError(
                f"grads must have the same keys as params: missing {missing}, unexpected {extra}"
            )
        pairs = [(k, params[k], grads[k]) for k in params]
    else:
        raise TypeError(
            "params must be a float ndarray, a list of them or a dict name -> ndarray, got "
            f"params={describe(params)} of type {type(params).__name__}"
        )
    if not pairs:
        raise ValueError("params must hold at least one array, got an empty "
                         f"{type(params).__name__}")

    seen = []
    for key, p, g in pairs:
        where = "" if key is None else f"[{key!r}]"
        if not isinstance(p, np.ndarray):
            raise TypeError(f"params{where} must be a numpy ndarray, got {describe(p)} of type "
                            f"{type(p).__name__}")
        if not isinstance(g, np.ndarray):
            raise TypeError(f"grads{where} must be a numpy ndarray, got {describe(g)} of type "
                            f"{type(g).__name__}")
        if p.dtype.kind != "f":
            raise TypeError(f"params{where} must be a floating-point array (updated in place), "
                            f"got dtype {p.dtype}")
        if g.dtype.kind != "f":
            raise TypeError(f"grads{where} must be a floating-point array, got dtype {g.dtype}")
        if g.shape != p.shape:
            raise ValueError(f"grads{where} must have the shape of params{where} {p.shape}, "
                             f"got shape {g.shape}")
        if not p.flags.writeable:
            raise ValueError(f"params{where} is read-only; the optimizer updates it in place")
        if any(np.may_share_memory(g, q) for _, q, _ in pairs):
            raise ValueError(f"grads{where} shares memory with a parameter, which the step "
                             "updates; pass a separate gradient array")
        if any(np.may_share_memory(p, q) for q in seen):
            raise ValueError(f"params{where} shares memory with another parameter; each would be "
                             "updated twice")
        seen.append(p)
        if not np.all(np.isfinite(g)):
            bad = int(np.size(g) - np.count_nonzero(np.isfinite(g)))
            raise ValueError(f"grads{where} has {bad} non-finite value(s) (nan or inf); "
                             "the step was not taken")
    return pairs


# --------------------------------------------------------------------------
# The base class
# --------------------------------------------------------------------------
class Optimizer:
    """Base class: structure handling, validation, state and step counting.

    Subclasses list their hyperparameters in ``_hyper_names``, the names of their
    per-parameter buffers in ``_state_names``, and implement
    ``_update(p, g, state, scratch, t)``, which may assume that every check has
    passed and must update ``p`` and the buffers in ``state`` in place.
    ``scratch`` is a parameter-sized work array reused from step to step.
    """

    _hyper_names: tuple[str, ...] = ()
    _flag_names: tuple[str, ...] = ()
    _state_names: tuple[str, ...] = ()

    def __init__(self):
        self.reset()

    # -- public ------------------------------------------------------------
    @property
    def t(self) -> int:
        """Number of steps taken since construction or the last :meth:`reset`."""
        return self._t

    @property
    def hyperparameters(self) -> dict:
        """The hyperparameters by name (scalars as floats, arrays as read-only arrays)."""
        return {name: getattr(self, name) for name in self._hyper_names}

    @property
    def state(self):
        """Per-parameter buffers, in the structure of ``params``.

        For an ndarray: a dict ``buffer name -> array``; for a list: a list of
        such dicts; for a dict of parameters: ``name -> dict``. Empty (``{}``)
        before the first step.
        """
        if self._state is None:
            return {}
        if self._kind == "array":
            return self._state[None]
        if self._kind == "list":
            return [self._state[i] for i in range(len(self._state))]
        return dict(self._state)

    def reset(self) -> None:
        """Forget all state and set the step count back to 0."""
        self._t = 0
        self._state = None
        self._scratch = None
        self._kind = None

    def step(self, params, grads):
        """Apply one update to ``params`` in place and return ``params``.

        Args:
            params: float ndarray, list of them, or dict name -> ndarray.
            grads: the gradients, in the same structure and shapes.

        Returns:
            ``params`` (the same object), updated.

        Raises:
            TypeError, ValueError: nothing is changed when the step is rejected.
        """
        pairs = _leaves(params, grads)
        self._check_hyper_shapes(pairs)
        kind = ("array" if isinstance(params, np.ndarray)
                else "list" if isinstance(params, (list, tuple)) else "dict")
        if self._state is None:
            state = {key: {name: np.zeros_like(p) for name in self._state_names}
                     for key, p, _ in pairs}
            scratch = {key: np.empty_like(p) for key, p, _ in pairs}
        else:
            self._check_state(kind, pairs)
            state, scratch = self._state, self._scratch
        # Every check has passed: from here on nothing raises.
        self._state, self._scratch, self._kind = state, scratch, kind
        self._t += 1
        for key, p, g in pairs:
            self._update(p, g, state[key], scratch[key], self._t)
        return params

    def __repr__(self) -> str:
        args = ", ".join(f"{n}={describe(getattr(self, n))}"
                         for n in self._hyper_names + self._flag_names)
        return f"{type(self).__name__}({args})"

    # -- checks ------------------------------------------------------------
    def _check_hyper_shapes(self, pairs) -> None:
        for name in self._hyper_names:
            value = getattr(self, name)
            if not isinstance(value, np.ndarray):
                continue
            for key, p, _ in pairs:
                try:
                    ok = np.broadcast_shapes(value.shape, p.shape) == p.shape
                except ValueError:
                    ok = False
                if not ok:
                    where = "params" if key is None else f"params[{key!r}]"
                    raise ValueError(
                        f"{name} of shape {value.shape} does not broadcast against {where} of "
                        f"shape {p.shape}"
                    )

    def _check_state(self, kind, pairs) -> None:
        same = kind == self._kind and len(pairs) == len(self._state) and all(
            key in self._state and self._scratch[key].shape == p.shape
            and self._scratch[key].dtype == p.dtype
            for key, p, _ in pairs
        )
        if not same:
            raise ValueError(
                "params do not match the structure, shapes or dtypes of the first step "
                f"(state holds {self._describe_state()}); call reset() to start over with new "
                "parameters"
            )

    def _describe_state(self) -> str:
        return ", ".join(f"{'array' if k is None else repr(k)}: {s.shape} {s.dtype}"
                         for k, s in self._scratch.items())

    def _update(self, p, g, state, scratch, t):  # pragma: no cover - abstract
        raise NotImplementedError


# --------------------------------------------------------------------------
# The optimizers
# --------------------------------------------------------------------------
class GradientDescent(Optimizer):
    r"""Plain gradient descent.

    .. math::

        w \leftarrow w - \alpha\, g

    Args:
        lr: learning rate :math:`\alpha > 0` (scalar or array broadcasting
            against each parameter).

    Examples:
        >>> import numpy as np
        >>> w = np.array([1.0, 1.0])
        >>> GradientDescent(lr=0.1).step(w, np.array([1.0, 25.0]))
        array([ 0.9, -1.5])
    """

    _hyper_names = ("lr",)
    lr = _Hyper(**_LR)

    def __init__(self, lr):
        self.lr = lr
        super().__init__()

    def _update(self, p, g, state, scratch, t):
        np.multiply(g, self.lr, out=scratch)
        p -= scratch


class Momentum(Optimizer):
    r"""Momentum as an exponentially weighted average of gradients.

    .. math::

        v \leftarrow \beta\, v + (1-\beta)\, g, \qquad w \leftarrow w - \alpha\, v

    with :math:`v_0 = 0`. With ``nesterov=True`` the step looks ahead, using the
    new :math:`v`:

    .. math::

        w \leftarrow w - \alpha\,\big(\beta\, v + (1-\beta)\, g\big)

    ``Momentum(lr=α, beta=β)`` is exactly Polyak's heavy ball
    :math:`w_{t+1} = w_t - \alpha(1-\beta)\, g_t + \beta\,(w_t - w_{t-1})`; with
    :math:`\beta = 0` it is gradient descent.

    Args:
        lr: learning rate :math:`\alpha > 0`.
        beta: averaging coefficient :math:`\beta \in [0, 1)`; the average spans
            about :math:`1/(1-\beta)` steps.
        nesterov: use Nesterov's look-ahead form.

    State:
        ``momentum_buffer``: :math:`v`.

    .. warning::
        ``torch.optim.SGD(momentum=β)`` accumulates :math:`b \leftarrow \beta b + g`
        (no :math:`1-\beta`; :math:`b_1 = g_1`). Since :math:`v_t = (1-\beta)\, b_t`,
        ``SGD(lr=α(1−β), momentum=β)`` (``dampening=0``) takes exactly the steps of
        ``Momentum(lr=α, beta=β)``; ``SGD(dampening=β)`` does not, because torch skips
        the dampening on its first step.

    Examples:
        >>> import numpy as np
        >>> w = np.array([1.0])
        >>> opt = Momentum(lr=0.5, beta=0.9)
        >>> opt.step(w, np.array([2.0]))   # v = 0.2, w = 1 - 0.5 * 0.2
        array([0.9])
    """

    _hyper_names = ("lr", "beta")
    _flag_names = ("nesterov",)
    _state_names = ("momentum_buffer",)
    lr = _Hyper(**_LR)
    beta = _Hyper(**_BETA)
    nesterov = _Flag()

    def __init__(self, lr, beta=0.9, nesterov=False):
        self.lr = lr
        self.beta = beta
        self.nesterov = nesterov
        super().__init__()

    def _update(self, p, g, state, scratch, t):
        v = state["momentum_buffer"]
        v *= self.beta
        np.multiply(g, 1.0 - self.beta, out=scratch)      # (1 - beta) g
        v += scratch
        if self.nesterov:
            scratch *= self.lr                             # alpha (1 - beta) g
            p -= scratch
            np.multiply(v, self.lr * self.beta, out=scratch)  # alpha beta v
        else:
            np.multiply(v, self.lr, out=scratch)
        p -= scratch


def _divide_by_root(numerator, denominator, eps, out):
    r"""``out = numerator / (denominator ** 0.5 + eps)``, with x/0 read as 0.

    The denominator can only be 0 when ``eps = 0`` and the second-moment estimate
    is exactly 0 there: every gradient so far was 0, or the estimate decayed or
    underflowed to 0 (``beta = 0``, or gradients below about 1e-154). The step
    is then 0 rather than an infinite or nan one; with any ``eps > 0`` this never
    happens.
    """
    np.sqrt(denominator, out=out)
    out += eps
    np.divide(numerator, out, out=out, where=out > 0)
    return out


class RMSprop(Optimizer):
    r"""RMSprop: divide by a running average of squared gradients.

    .. math::

        s \leftarrow \beta\, s + (1-\beta)\, g^2, \qquad
        w \leftarrow w - \alpha\, \frac{g}{\sqrt{s} + \varepsilon}

    with :math:`s_0 = 0`; squares, roots and division act element by element,
    so every parameter gets its own step size :math:`\alpha / (\sqrt{s} + \varepsilon)`.

    Args:
        lr: learning rate :math:`\alpha > 0`.
        beta: averaging coefficient :math:`\beta \in [0, 1)`.
        eps: :math:`\varepsilon \ge 0`, added *outside* the square root.

    State:
        ``square_avg``: :math:`s`.

    .. warning::
        Some libraries add :math:`\varepsilon` inside the root,
        :math:`\sqrt{s + \varepsilon}`; torch.optim.RMSprop uses ``alpha`` for
        :math:`\beta` and defaults to 0.99.
    """

    _hyper_names = ("lr", "beta", "eps")
    _state_names = ("square_avg",)
    lr = _Hyper(**_LR)
    beta = _Hyper(**_BETA)
    eps = _Hyper(**_NONNEG)

    def __init__(self, lr, beta=0.9, eps=1e-8):
        self.lr = lr
        self.beta = beta
        self.eps = eps
        super().__init__()

    def _update(self, p, g, state, scratch, t):
        s = state["square_avg"]
        s *= self.beta
        np.square(g, out=scratch)
        scratch *= 1.0 - self.beta
        s += scratch
        _divide_by_root(g, s, self.eps, out=scratch)
        scratch *= self.lr
        p -= scratch


class Adagrad(Optimizer):
    r"""Adagrad: divide by the root of all squared gradients so far.

    .. math::

        s \leftarrow s + g^2, \qquad
        w \leftarrow w - \alpha\, \frac{g}{\sqrt{s} + \varepsilon}

    with :math:`s_0 = 0`. Since :math:`s` only grows, the steps shrink forever.

    Args:
        lr: learning rate :math:`\alpha > 0`.
        eps: :math:`\varepsilon \ge 0`, added outside the square root.

    State:
        ``sum_sq``: :math:`s`.
    """

    _hyper_names = ("lr", "eps")
    _state_names = ("sum_sq",)
    lr = _Hyper(**_LR)
    eps = _Hyper(**_NONNEG)

    def __init__(self, lr, eps=1e-10):
        self.lr = lr
        self.eps = eps
        super().__init__()

    def _update(self, p, g, state, scratch, t):
        s = state["sum_sq"]
        np.square(g, out=scratch)
        s += scratch
        _divide_by_root(g, s, self.eps, out=scratch)
        scratch *= self.lr
        p -= scratch


class Adam(Optimizer):
    r"""Adam: momentum on the gradient, RMSprop on its square, both bias-corrected.

    .. math::

        m \leftarrow \beta_1 m + (1-\beta_1)\, g, \qquad
        v \leftarrow \beta_2 v + (1-\beta_2)\, g^2,

        w \leftarrow w - \alpha\, \frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \varepsilon}

    with :math:`m_0 = v_0 = 0`. Weight decay :math:`\lambda`:

    * ``decoupled=False`` (L2 in the gradient): first :math:`g \leftarrow g + \lambda w`;
    * ``decoupled=True`` (AdamW): first :math:`w \leftarrow w - \alpha\lambda\, w`,
      and the gradient is used as it is.

    With ``amsgrad=True``, :math:`\hat v \leftarrow \max(\hat v, v)` and :math:`\hat v`
    replaces :math:`v` in the step, so the per-parameter step size never grows.

    Args:
        lr: learning rate :math:`\alpha > 0` (default 1e-3).
        beta1: first-moment coefficient :math:`\beta_1 \in [0, 1)` (default 0.9).
        beta2: second-moment coefficient :math:`\beta_2 \in [0, 1)` (default 0.999).
        eps: :math:`\varepsilon \ge 0`, outside the root (default 1e-8).
        weight_decay: :math:`\lambda \ge 0` (default 0).
        decoupled: decoupled (AdamW) weight decay instead of L2.
        amsgrad: use the running maximum of :math:`v`.

    State:
        ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`) and, with amsgrad,
        ``max_exp_avg_sq`` (:math:`\hat v`).

    .. warning::
        The bias correction of :math:`v` sits inside the root and
        :math:`\varepsilon` outside, as in Kingma & Ba (2015) and torch.optim.Adam;
        optax's ``eps_root`` is a different, inside-the-root term.
    """

    _hyper_names = ("lr", "beta1", "beta2", "eps", "weight_decay")
    _flag_names = ("decoupled", "amsgrad")
    lr = _Hyper(**_LR)
    beta1 = _Hyper(**_BETA)
    beta2 = _Hyper(**_BETA)
    eps = _Hyper(**_NONNEG)
    weight_decay = _Hyper(**_NONNEG)
    decoupled = _Flag()
    amsgrad = _Flag()

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                 decoupled=False, amsgrad=False):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weight_decay = weight_decay
        self.decoupled = decoupled
        self.amsgrad = amsgrad
        super().__init__()

    @property
    def _state_names(self):
        names = ("exp_avg", "exp_avg_sq")
        return names + ("max_exp_avg_sq",) if self.amsgrad else names

    def step(self, params, grads):
        # amsgrad decides which buffers exist: it may not change once they do.
        if self._state is not None and self.amsgrad != self._amsgrad_at_start:
            raise ValueError(
                f"amsgrad was changed to {self.amsgrad} after the first step; call reset() first"
            )
        result = super().step(params, grads)
        self._amsgrad_at_start = self.amsgrad
        return result

    def _update(self, p, g, state, scratch, t):
        lr, wd = self.lr, self.weight_decay
        has_decay = np.any(wd != 0)
        if has_decay and self.decoupled:
            p *= 1.0 - lr * wd
        elif has_decay:
            g = g + wd * p          # L2: the decay enters the moments
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= self.beta1
        np.multiply(g, 1.0 - self.beta1, out=scratch)
        m += scratch
        v *= self.beta2
        np.square(g, out=scratch)
        scratch *= 1.0 - self.beta2
        v += scratch
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        correction1 = 1.0 - self.beta1 ** t
        correction2 = 1.0 - self.beta2 ** t
        np.divide(v, correction2, out=scratch)
        _divide_by_root(m, scratch, self.eps, out=scratch)
        scratch *= lr / correction1
        p -= scratch


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    ``AdamW(...)`` is ``Adam(..., decoupled=True)``:

    .. math::

        w \leftarrow w - \alpha\lambda\, w, \quad\text{then the Adam step with } g.

    Args:
        lr, beta1, beta2, eps, amsgrad: as in :class:`Adam`.
        weight_decay: :math:`\lambda \ge 0` (default 1e-2).
    """

    _flag_names = ("amsgrad",)

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                         decoupled=True, amsgrad=amsgrad)
