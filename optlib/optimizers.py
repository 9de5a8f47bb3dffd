r"""First-order optimizers: gradient descent, momentum, RMSprop, Adagrad, Adam, AdamW, Lion,
Muon, and schedule-free SGD and AdamW.

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
* every optimizer takes ``schedule=`` (:mod:`optlib.schedules`): a multiplier
  :math:`\mu_t` of the learning rate, so that step :math:`t` uses
  :math:`\alpha_t = \alpha\mu_t` wherever its rule below has :math:`\alpha`
  (``schedule=None``: :math:`\mu_t = 1`, the rule exactly as written). The
  schedule's value is checked before the step changes anything, and the schedule
  and its position are part of ``state_dict``;
* ``step`` checks everything before it changes anything. When it rejects a
  step (structure or shapes that do not match, non-float arrays, non-finite
  gradients, a hyperparameter that does not broadcast) it raises ``TypeError`` or
  ``ValueError`` and the parameters, the state and ``t`` are exactly as before.

This module holds the update rules; the machinery they share -- the
:class:`Optimizer` base class with its checks, state and checkpoints -- is in
``optlib._optimizer``, and the blocks, threads and all-or-nothing execution in
``optlib._engine``.

In the equations below, :math:`t` is the step count starting at 1, :math:`g_t` the
gradient used by step :math:`t` (taken at the parameters before it,
:math:`g_t = \nabla f(w_{t-1})`), :math:`\alpha` the learning rate ``lr`` (with a
schedule, read :math:`\alpha_t = \alpha\mu_t` for it). The letters
are the book's: :math:`v` is always an average of gradients (a first moment), :math:`s`
an average or sum of squared gradients (a second moment), :math:`\delta` the weight
decay ``weight_decay``; every average starts at zero, :math:`v_0 = s_0 = 0`.

Large arrays. Once the state exists, ``step`` allocates no parameter-sized array:
every update runs in place through numpy's ``out=`` into small work arrays. A
large parameter is processed in blocks of about 2 MiB (whole rows where they
fit), each block going through the whole chain of ufuncs while it is in cache,
and the blocks are shared among a few threads (numpy releases the GIL inside
ufuncs; ``OPTLIB_NUM_THREADS`` sets their number, 1 turns threads off). Every
element still sees exactly the operations of the equations, in their order, so
the results do not depend on the blocks or the threads. Array hyperparameters
enter the arithmetic in the parameter's dtype, as a Python float does: a float32
batch with ``lr`` of shape ``(K, 1)`` takes bit for bit the steps of K float32
runs with scalar ``lr``. :class:`Muon` is the exception: its step is a function of each
weight matrix as a whole (see its notes).
"""

from __future__ import annotations

import numpy as np

from . import _kernels
from ._engine import work_array
from ._optimizer import Flag, Hyper, Optimizer

__all__ = [
    "Optimizer",
    "GradientDescent",
    "Momentum",
    "RMSprop",
    "Adagrad",
    "Adam",
    "AdamW",
    "Lion",
    "Muon",
    "ScheduleFreeSGD",
    "ScheduleFreeAdamW",
]


_LR = dict(low=0.0)                                  # lr > 0, finite
_BETA = dict(low=0.0, high=1.0, low_inclusive=True)  # beta in [0, 1)
_NONNEG = dict(low=0.0, low_inclusive=True)          # eps, weight_decay >= 0


def _scalars(c, dtype, names):
    """Coefficients ``names`` as scalars of ``dtype`` for a compiled loop, or ``None`` if
    one of them is an array (batched hyperparameters take the numpy path)."""
    values = [getattr(c, name) for name in names]
    if any(isinstance(value, np.ndarray) for value in values):
        return None
    return tuple(dtype.type(value) for value in values)


# --------------------------------------------------------------------------
# The optimizers
# --------------------------------------------------------------------------
class GradientDescent(Optimizer):
    r"""Plain gradient descent.

    .. math::

        w_t = w_{t-1} - \alpha\, g_t

    Args:
        lr: learning rate :math:`\alpha > 0` (scalar or array broadcasting
            against each parameter).
        schedule: ``None`` (default) or a learning-rate schedule :math:`\mu`
            (:mod:`optlib.schedules`): step :math:`t` uses :math:`\alpha\mu_t`.

    Examples:
        >>> import numpy as np
        >>> w = np.array([1.0, 1.0])
        >>> GradientDescent(lr=0.1).step(w, np.array([1.0, 25.0]))
        array([ 0.9, -1.5])
    """

    _hyper_names = ("lr",)
    lr = Hyper(**_LR)

    def __init__(self, lr, schedule=None):
        self.lr = lr
        super().__init__(schedule)

    def _coefficients(self, t, lr, mu):
        return {"lr": lr}

    def _fused(self, c, dtype):
        scalars = _scalars(c, dtype, ("lr",))
        return None if scalars is None else (_kernels.get().gradient_descent, scalars)

    def _update(self, p, g, state, c):
        scratch = work_array("scratch", p.dtype, p.shape)
        np.multiply(g, c.lr, out=scratch)
        p -= scratch


class Momentum(Optimizer):
    r"""Momentum as an exponentially weighted average of gradients.

    .. math::

        v_t = \beta\, v_{t-1} + (1-\beta)\, g_t, \qquad w_t = w_{t-1} - \alpha\, v_t

    with :math:`v_0 = 0` (chapter 2 writes it :math:`v_{dW} = \beta v_{dW} + (1-\beta)\,dW`,
    :math:`W = W - \alpha v_{dW}`). With ``nesterov=True`` the step looks ahead, using the
    new :math:`v_t`:

    .. math::

        w_t = w_{t-1} - \alpha\,\big(\beta\, v_t + (1-\beta)\, g_t\big)

    ``Momentum(lr=α, beta=β)`` is exactly Polyak's heavy ball
    :math:`w_t = w_{t-1} - \alpha(1-\beta)\, g_t + \beta\,(w_{t-1} - w_{t-2})` (with
    :math:`w_{-1} = w_0`); with :math:`\beta = 0` it is gradient descent.

    Args:
        lr: learning rate :math:`\alpha > 0`.
        beta: averaging coefficient :math:`\beta \in [0, 1)`; the average spans
            about :math:`1/(1-\beta)` steps.
        nesterov: use Nesterov's look-ahead form.
        schedule: ``None`` (default) or a learning-rate schedule :math:`\mu`
            (:mod:`optlib.schedules`): step :math:`t` uses :math:`\alpha\mu_t`.

    State:
        ``momentum_buffer``: :math:`v`.

    .. warning::
        ``torch.optim.SGD(momentum=β)`` accumulates :math:`b_t = \beta b_{t-1} + g_t`
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
    lr = Hyper(**_LR)
    beta = Hyper(**_BETA)
    nesterov = Flag()

    def __init__(self, lr, beta=0.9, nesterov=False, schedule=None):
        self.lr = lr
        self.beta = beta
        self.nesterov = nesterov
        super().__init__(schedule)

    def _coefficients(self, t, lr, mu):
        c = {"lr": lr, "beta": self.beta, "one_minus_beta": 1.0 - self.beta}
        if self.nesterov:
            c["lr_beta"] = lr * self.beta
        return c

    def _fused(self, c, dtype):
        if self.nesterov:
            scalars = _scalars(c, dtype, ("beta", "one_minus_beta", "lr", "lr_beta"))
            loop = _kernels.get().momentum_nesterov
        else:
            scalars = _scalars(c, dtype, ("beta", "one_minus_beta", "lr"))
            loop = _kernels.get().momentum
        return None if scalars is None else (loop, scalars)

    def _update(self, p, g, state, c):
        scratch = work_array("scratch", p.dtype, p.shape)
        v = state["momentum_buffer"]
        v *= c.beta
        np.multiply(g, c.one_minus_beta, out=scratch)     # (1 - beta) g
        v += scratch
        if self.nesterov:
            scratch *= c.lr                                # alpha (1 - beta) g
            p -= scratch
            np.multiply(v, c.lr_beta, out=scratch)         # alpha beta v
        else:
            np.multiply(v, c.lr, out=scratch)
        p -= scratch


def _divide_by_root(numerator, denominator, c, out):
    r"""``out = numerator / (denominator ** 0.5 + eps)``, with x/0 read as 0.

    The denominator can only be 0 when ``eps = 0`` and the second-moment estimate
    is exactly 0 there: every gradient so far was 0, or the estimate decayed or
    underflowed to 0 (``beta = 0``, or gradients below about 1e-154). The step
    is then 0 rather than an infinite or nan one; with any ``eps > 0`` this never
    happens (the denominator is at least eps), so no mask is needed then.
    """
    np.sqrt(denominator, out=out)
    out += c.eps
    if c.eps_positive:
        return np.divide(numerator, out, out=out)
    positive = np.greater(out, 0, out=work_array("positive", np.dtype(bool), out.shape))
    return np.divide(numerator, out, out=out, where=positive)


class RMSprop(Optimizer):
    r"""RMSprop: divide by a running average of squared gradients.

    .. math::

        s_t = \beta\, s_{t-1} + (1-\beta)\, g_t^2, \qquad
        w_t = w_{t-1} - \alpha\, \frac{g_t}{\sqrt{s_t} + \varepsilon}

    with :math:`s_0 = 0` (chapter 3 writes it :math:`s_{dW} = \beta s_{dW} + (1-\beta)\,dW^2`,
    :math:`W = W - \alpha\, dW/(\sqrt{s_{dW}} + \varepsilon)`); squares, roots and division
    act element by element, so every parameter gets its own step size
    :math:`\alpha / (\sqrt{s_t} + \varepsilon)`.

    Args:
        lr: learning rate :math:`\alpha > 0`.
        beta: averaging coefficient :math:`\beta \in [0, 1)`.
        eps: :math:`\varepsilon \ge 0`, added *outside* the square root.
        schedule: ``None`` (default) or a learning-rate schedule :math:`\mu`
            (:mod:`optlib.schedules`): step :math:`t` uses :math:`\alpha\mu_t`.

    State:
        ``square_avg``: :math:`s`.

    .. warning::
        Some libraries add :math:`\varepsilon` inside the root,
        :math:`\sqrt{s + \varepsilon}`; torch.optim.RMSprop uses ``alpha`` for
        :math:`\beta` and defaults to 0.99.
    """

    _hyper_names = ("lr", "beta", "eps")
    _state_names = ("square_avg",)
    _hidden_state = ("square_avg",)
    lr = Hyper(**_LR)
    beta = Hyper(**_BETA)
    eps = Hyper(**_NONNEG)

    def __init__(self, lr, beta=0.9, eps=1e-8, schedule=None):
        self.lr = lr
        self.beta = beta
        self.eps = eps
        super().__init__(schedule)

    def _coefficients(self, t, lr, mu):
        return {"lr": lr, "beta": self.beta, "one_minus_beta": 1.0 - self.beta,
                "eps": self.eps}

    def _update(self, p, g, state, c):
        scratch = work_array("scratch", p.dtype, p.shape)
        s = state["square_avg"]
        s *= c.beta
        np.square(g, out=scratch)
        scratch *= c.one_minus_beta
        s += scratch
        _divide_by_root(g, s, c, out=scratch)
        scratch *= c.lr
        p -= scratch


class Adagrad(Optimizer):
    r"""Adagrad: divide by the root of all squared gradients so far.

    .. math::

        s_t = s_{t-1} + g_t^2, \qquad
        w_t = w_{t-1} - \alpha\, \frac{g_t}{\sqrt{s_t} + \varepsilon}

    with :math:`s_0 = 0`. Since :math:`s_t` never decreases, the step sizes
    :math:`\alpha/(\sqrt{s_t} + \varepsilon)` never grow.

    Args:
        lr: learning rate :math:`\alpha > 0`.
        eps: :math:`\varepsilon \ge 0`, added outside the square root.
        schedule: ``None`` (default) or a learning-rate schedule :math:`\mu`
            (:mod:`optlib.schedules`): step :math:`t` uses :math:`\alpha\mu_t`.

    State:
        ``sum_sq``: :math:`s`.
    """

    _hyper_names = ("lr", "eps")
    _state_names = ("sum_sq",)
    _hidden_state = ("sum_sq",)
    lr = Hyper(**_LR)
    eps = Hyper(**_NONNEG)

    def __init__(self, lr, eps=1e-10, schedule=None):
        self.lr = lr
        self.eps = eps
        super().__init__(schedule)

    def _coefficients(self, t, lr, mu):
        return {"lr": lr, "eps": self.eps}

    def _update(self, p, g, state, c):
        scratch = work_array("scratch", p.dtype, p.shape)
        s = state["sum_sq"]
        np.square(g, out=scratch)
        s += scratch
        _divide_by_root(g, s, c, out=scratch)
        scratch *= c.lr
        p -= scratch


class Adam(Optimizer):
    r"""Adam: momentum on the gradient, RMSprop on its square, both bias-corrected.

    .. math::

        v_t = \beta_1 v_{t-1} + (1-\beta_1)\, g_t, \qquad
        s_t = \beta_2 s_{t-1} + (1-\beta_2)\, g_t^2,

        \hat v_t = \frac{v_t}{1-\beta_1^t}, \qquad \hat s_t = \frac{s_t}{1-\beta_2^t}, \qquad
        w_t = w_{t-1} - \alpha\, \frac{\hat v_t}{\sqrt{\hat s_t} + \varepsilon}

    with :math:`v_0 = s_0 = 0` (chapter 4 writes :math:`v_{dW}, s_{dW}` for a weight
    :math:`W`). Weight decay :math:`\delta`:

    * ``decoupled=False`` (L2 in the gradient): first :math:`g_t \leftarrow g_t + \delta\, w_{t-1}`,
      the gradient of the penalty :math:`\tfrac{\delta}{2}\lVert w\rVert^2`;
    * ``decoupled=True`` (AdamW): first :math:`w \leftarrow (1 - \alpha\delta)\, w`,
      and the gradient is used as it is.

    With ``amsgrad=True``, :math:`s_{\max,t} = \max(s_{\max,t-1}, s_t)` replaces
    :math:`s_t` in the step, bias-corrected like it:
    :math:`\hat s_t = s_{\max,t}/(1-\beta_2^t)`. So :math:`s_{\max}` never decreases, but
    the per-parameter step size :math:`\alpha\sqrt{1-\beta_2^t}/\sqrt{s_{\max,t}}` can still
    grow with :math:`t`, by up to a factor :math:`1/\sqrt{1-\beta_2}`; only in Reddi et al.'s
    AMSGrad, which has no bias correction, does it never grow (for a non-increasing
    :math:`\alpha`).

    Args:
        lr: learning rate :math:`\alpha > 0` (default 1e-3).
        beta1: first-moment coefficient :math:`\beta_1 \in [0, 1)` (default 0.9).
        beta2: second-moment coefficient :math:`\beta_2 \in [0, 1)` (default 0.999).
        eps: :math:`\varepsilon \ge 0`, outside the root (default 1e-8).
        weight_decay: :math:`\delta \ge 0` (default 0).
        decoupled: decoupled (AdamW) weight decay instead of L2.
        amsgrad: use the running maximum :math:`s_{\max}` of :math:`s`.
        schedule: ``None`` (default) or a learning-rate schedule :math:`\mu`
            (:mod:`optlib.schedules`): step :math:`t` uses :math:`\alpha_t = \alpha\mu_t`,
            in the step and in the decoupled decay :math:`(1 - \alpha_t\delta)`, as
            torch.optim does with a scheduler.

    State:
        ``exp_avg`` (:math:`v`), ``exp_avg_sq`` (:math:`s`) and, with amsgrad,
        ``max_exp_avg_sq`` (:math:`s_{\max}`).

    .. warning::
        Kingma & Ba (2015) and torch.optim.Adam call the two moments :math:`m` and
        :math:`v` (their :math:`v` is :math:`s` here) and the weight decay :math:`\lambda`;
        this book keeps :math:`\lambda` for curvatures. The bias correction of :math:`s`
        sits inside the root and :math:`\varepsilon` outside, as in Kingma & Ba and
        torch.optim.Adam; optax's ``eps_root`` is a different, inside-the-root term.
    """

    _hyper_names = ("lr", "beta1", "beta2", "eps", "weight_decay")
    _flag_names = ("decoupled", "amsgrad")
    _hidden_state = ("exp_avg_sq", "max_exp_avg_sq")
    lr = Hyper(**_LR)
    beta1 = Hyper(**_BETA)
    beta2 = Hyper(**_BETA)
    eps = Hyper(**_NONNEG)
    weight_decay = Hyper(**_NONNEG)
    decoupled = Flag()
    amsgrad = Flag()

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                 decoupled=False, amsgrad=False, schedule=None):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weight_decay = weight_decay
        if "decoupled" in self._flag_names:     # AdamW: always decoupled, not settable
            self.decoupled = decoupled
        self.amsgrad = amsgrad
        super().__init__(schedule)

    @property
    def _state_names(self):
        return self._state_names_for({"amsgrad": self.amsgrad})

    def _state_names_for(self, flags):
        names = ("exp_avg", "exp_avg_sq")
        return names + ("max_exp_avg_sq",) if flags["amsgrad"] else names

    def step(self, params, grads):
        # amsgrad decides which buffers exist: it may not change once they do.
        if self._state is not None and self.amsgrad != self._amsgrad_at_start:
            raise ValueError(
                f"amsgrad was changed to {self.amsgrad} after the first step; call reset() first"
            )
        return super().step(params, grads)

    def _after_step(self):
        self._amsgrad_at_start = self.amsgrad

    def _coefficients(self, t, lr, mu):
        wd = self.weight_decay
        c = {"beta1": self.beta1, "one_minus_beta1": 1.0 - self.beta1,
             "beta2": self.beta2, "one_minus_beta2": 1.0 - self.beta2,
             "correction2": 1.0 - self.beta2 ** t,
             "step_size": lr / (1.0 - self.beta1 ** t), "eps": self.eps,
             "shrink": None, "weight_decay": None}
        if (np.any(wd != 0) if isinstance(wd, np.ndarray) else wd != 0):
            if self.decoupled:
                c["shrink"] = 1.0 - lr * wd
            else:
                c["weight_decay"] = wd
        return c

    def _update(self, p, g, state, c):
        scratch = work_array("scratch", p.dtype, p.shape)
        if c.shrink is not None:                    # decoupled: w <- (1 - alpha delta) w
            p *= c.shrink
        elif c.weight_decay is not None:            # L2: g <- g + delta w enters the moments
            decayed = work_array("decayed_grad", np.result_type(g, p), g.shape)
            np.multiply(c.weight_decay, p, out=decayed)
            g = np.add(g, decayed, out=decayed)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= c.beta1
        np.multiply(g, c.one_minus_beta1, out=scratch)
        m += scratch
        v *= c.beta2
        np.square(g, out=scratch)
        scratch *= c.one_minus_beta2
        v += scratch
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        np.divide(v, c.correction2, out=scratch)    # v / (1 - beta2^t)
        _divide_by_root(m, scratch, c, out=scratch)
        scratch *= c.step_size                      # alpha / (1 - beta1^t)
        p -= scratch


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    ``AdamW(...)`` is ``Adam(..., decoupled=True)``:

    .. math::

        w \leftarrow (1 - \alpha\delta)\, w, \quad\text{then the Adam step with } g_t:
        \quad w_t = w - \alpha\, \frac{\hat v_t}{\sqrt{\hat s_t} + \varepsilon},

    with :math:`\hat v_t, \hat s_t` as in :class:`Adam`, from the loss gradient alone. This is
    torch.optim.AdamW. With a schedule :math:`\mu_t` both :math:`\alpha`'s are
    :math:`\alpha_t = \alpha\mu_t`: the decay is :math:`w \leftarrow (1 - \alpha\mu_t\delta)\, w`,
    as in torch.optim.AdamW under a scheduler. Loshchilov & Hutter write the decay
    :math:`w \leftarrow w - \mu_t\delta' w` (the schedule multiplier, not the learning
    rate); it is this one with :math:`\delta' = \alpha\delta`, with or without a schedule.

    Args:
        lr, beta1, beta2, eps, amsgrad, schedule: as in :class:`Adam`.
        weight_decay: :math:`\delta \ge 0` (default 1e-2; papers and torch write
            :math:`\lambda`).
    """

    _flag_names = ("amsgrad",)

    @property
    def decoupled(self) -> bool:
        """Always ``True``: AdamW's weight decay is decoupled (use :class:`Adam` for L2)."""
        return True

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, schedule=None):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                         decoupled=True, amsgrad=amsgrad, schedule=schedule)


def _nonzero_or_none(wd):
    return wd if (np.any(wd != 0) if isinstance(wd, np.ndarray) else wd != 0) else None


class Lion(Optimizer):
    r"""Lion (Chen et al., 2023): the sign of an interpolated momentum, with decoupled decay.

    .. math::

        w_t = w_{t-1} - \alpha\,\Big(\operatorname{sign}\big(\beta_1 v_{t-1} + (1-\beta_1)\, g_t\big)
        + \delta\, w_{t-1}\Big), \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t,

    with :math:`v_0 = 0` and :math:`\operatorname{sign}(0) = 0` (a coordinate whose
    interpolation is exactly 0 does not move, apart from the decay). Every coordinate moves by
    :math:`\pm\alpha` or 0 before the decay: the end of chapter 3's road, where RMSprop with
    :math:`\beta \to 0` became :math:`\alpha\operatorname{sign}(g)`. Two averages of the same
    gradients play two roles: the step takes the sign of a short one (:math:`\beta_1`, with
    more weight on :math:`g_t`), the buffer keeps a long one (:math:`\beta_2`).

    The decay is decoupled, as in :class:`AdamW`: computed as
    :math:`w \leftarrow (1 - \alpha\delta)\, w` first, then
    :math:`w \leftarrow w - \alpha\operatorname{sign}(\cdot)` (the same update, rounded as
    AdamW's). Since every coordinate of the sign step has size :math:`\alpha`, its norm is
    larger than AdamW's at the same :math:`\alpha`: Chen et al. take :math:`\alpha` 3 to 10 times
    smaller than AdamW's and :math:`\delta` as many times larger, so that the decay per step
    :math:`\alpha\delta` stays the same.

    Args:
        lr: learning rate :math:`\alpha > 0` (default 1e-4; scalar or array broadcasting
            against each parameter).
        beta1: interpolation :math:`\beta_1 \in [0, 1)` inside the sign (default 0.9).
        beta2: coefficient :math:`\beta_2 \in [0, 1)` of the average kept (default 0.99).
        weight_decay: :math:`\delta \ge 0`, decoupled (default 0).
        schedule: ``None`` (default) or a learning-rate schedule :math:`\mu`
            (:mod:`optlib.schedules`): step :math:`t` uses :math:`\alpha_t = \alpha\mu_t`, in
            the step and in the decay :math:`(1 - \alpha_t\delta)`.

    State:
        ``exp_avg``: :math:`v`.

    .. warning::
        Chen et al. and optax (``optax.lion``) call the buffer :math:`m`, the interpolation
        :math:`c_t` and the weight decay :math:`\lambda` (here :math:`\lambda` is a curvature);
        optax's ``b1``, ``b2`` are :math:`\beta_1, \beta_2`. torch.optim has no Lion.

    Examples:
        >>> import numpy as np
        >>> w = np.array([1.0, -2.0, 0.5])
        >>> opt = Lion(lr=0.1)
        >>> opt.step(w, np.array([0.3, -0.1, 0.0]))    # sign(0.1 g) = (1, -1, 0)
        array([ 0.9, -1.9,  0.5])
        >>> opt.state["exp_avg"]                        # (1 - 0.99) g
        array([ 0.003, -0.001,  0.   ])

    References:
        X. Chen, C. Liang, D. Huang, E. Real, K. Wang, H. Pham, X. Dong, T. Luong, C.-J. Hsieh,
        Y. Lu, Q. V. Le, "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023.
    """

    _hyper_names = ("lr", "beta1", "beta2", "weight_decay")
    _state_names = ("exp_avg",)
    lr = Hyper(**_LR)
    beta1 = Hyper(**_BETA)
    beta2 = Hyper(**_BETA)
    weight_decay = Hyper(**_NONNEG)

    def __init__(self, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0, schedule=None):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.weight_decay = weight_decay
        super().__init__(schedule)

    def _coefficients(self, t, lr, mu):
        wd = _nonzero_or_none(self.weight_decay)
        return {"lr": lr, "beta1": self.beta1, "one_minus_beta1": 1.0 - self.beta1,
                "beta2": self.beta2, "one_minus_beta2": 1.0 - self.beta2,
                "shrink": None if wd is None else 1.0 - lr * wd}

    def _update(self, p, g, state, c):
        scratch = work_array("scratch", p.dtype, p.shape)
        part = work_array("lion_part", p.dtype, p.shape)
        v = state["exp_avg"]
        np.multiply(v, c.beta1, out=scratch)        # beta1 v + (1 - beta1) g
        np.multiply(g, c.one_minus_beta1, out=part)
        scratch += part
        np.sign(scratch, out=scratch)               # sign(0) = 0
        scratch *= c.lr
        if c.shrink is not None:                    # decoupled: w <- (1 - alpha delta) w
            p *= c.shrink
        p -= scratch
        v *= c.beta2                                # v <- beta2 v + (1 - beta2) g
        np.multiply(g, c.one_minus_beta2, out=part)
        v += part


# The schedule-free rules (optlib/_schedule_free.py) and Muon (optlib/_muon.py), part of this
# module's API: imported last, since they are built on the base class and the helpers above.
from ._schedule_free import ScheduleFreeAdamW, ScheduleFreeSGD  # noqa: E402
from ._muon import Muon  # noqa: E402
