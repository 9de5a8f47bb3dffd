r"""The schedule-free rules (Defazio et al. 2024): :class:`ScheduleFreeSGD` and
:class:`ScheduleFreeAdamW`.

They are part of :mod:`optlib.optimizers` (documented and imported there, as
``optlib.ScheduleFreeSGD``); this module holds what the two share -- the buffers z and x, the
weights of the average, the read-out of x -- and the two rules themselves.
"""

from __future__ import annotations

import numpy as np

from ._engine import work_array
from ._optimizer import Hyper, Optimizer
from .optimizers import _BETA, _LR, _NONNEG, _divide_by_root, _nonzero_or_none, _scalars


# What the two schedule-free rules share: the buffers z and x start at the parameters, the
# weights of the average (the scalars mu_max and weight_sum), the read-out of x.
_SCHEDULE_FREE_SCALARS = ("mu_max", "weight_sum")


def _schedule_free_eval_params(opt):
    if opt._state is None:
        raise ValueError("no step has been taken: the average x is the starting point, which "
                         "params still hold")
    return opt._structured({key: buffers["x"].copy() for key, buffers in opt._state.items()})


def _schedule_free_initial(name, p):
    return p.copy() if name in ("z", "x") else np.zeros_like(p)     # z_0 = x_0 = w_0, s_0 = 0


def _schedule_free_weights(opt, mu: float) -> dict:
    """c_t (as the coefficients ``c``, ``one_minus_c``) and the scalars after the step, for
    the step's multiplier ``mu``."""
    mu_max = max(opt._scalars["mu_max"], mu)
    weight_sum = opt._scalars["weight_sum"] + mu_max * mu_max
    c = mu_max * mu_max / weight_sum if weight_sum > 0 else 0.0     # all mu so far 0: keep x
    return {"c": c, "one_minus_c": 1.0 - c,
            "scalars": {"mu_max": mu_max, "weight_sum": weight_sum}}


def _average_and_interpolate(p, state, c, beta, one_minus_beta, scratch):
    """x <- (1 - c) x + c z, then p = y = (1 - beta) z + beta x."""
    z, x = state["z"], state["x"]
    x *= c.one_minus_c
    np.multiply(z, c.c, out=scratch)
    x += scratch
    np.multiply(z, one_minus_beta, out=p)
    np.multiply(x, beta, out=scratch)
    p += scratch


_EVAL_PARAMS_DOC = """The average :math:`x_t`, the point to evaluate: copies, in the structure of
        the parameters (an array, a list or a dict of arrays).

        Raises:
            ValueError: before the first step (then :math:`x_0` is the starting point,
                which ``params`` still hold).
        """


class ScheduleFreeSGD(Optimizer):
    r"""Schedule-free SGD (Defazio et al., 2024): gradient descent whose iterates are averaged.

    Three sequences, all starting at :math:`w_0` (:math:`z_0 = x_0 = y_0 = w_0`): :math:`z` takes
    plain gradient steps, :math:`x` is a weighted running average of the :math:`z`'s, and the
    gradient is taken at :math:`y`, a point between them. At step :math:`t`, with
    :math:`g_t = \nabla f(y_{t-1})`:

    .. math::

        z_t = z_{t-1} - \alpha_t\, g_t, \qquad
        x_t = (1 - c_t)\, x_{t-1} + c_t\, z_t, \qquad
        y_t = (1 - \beta)\, z_t + \beta\, x_t,

    .. math::

        c_t = \frac{\hat\mu_t^2}{\sum_{i=1}^{t} \hat\mu_i^2}, \qquad
        \hat\mu_t = \max(\mu_1, \dots, \mu_t),

    where :math:`\alpha_t = \alpha\mu_t` with the multiplier :math:`\mu_t` of ``schedule``
    (:math:`\mu_t = 1` without one: then :math:`c_t = 1/t` and :math:`x_t` is the plain mean of
    :math:`z_1, \dots, z_t`). Weight decay :math:`\delta` adds :math:`\delta\, y_{t-1}` to
    :math:`g_t`. With :math:`\beta = 0` the gradient is taken at :math:`z` itself: plain gradient
    descent, with its iterates averaged on the side (Polyak–Ruppert averaging); with
    :math:`\beta` near 1 it is taken near the average.

    **What the parameters hold.** During training ``params`` hold :math:`y_t` (where the next
    gradient must be taken); the point to evaluate and to keep is the average :math:`x_t`, read
    out with :meth:`eval_params`. No decay schedule is needed (the averaging does its work); a
    warmup is ``schedule=Warmup(n)``.

    The weights :math:`\hat\mu_t^2` are those of the paper and of the ``schedulefree`` package
    (learning rate squared, its running maximum, which matters only for a schedule that
    decreases); here they use the multiplier :math:`\mu_t`, not :math:`\alpha\mu_t`, which is
    the same for a fixed :math:`\alpha` and lets :math:`\alpha` be an array of runs.
    ``ScheduleFreeSGD(lr=α, beta=β, weight_decay=δ, schedule=Warmup(n))`` is
    ``schedulefree.SGDScheduleFree(lr=α, momentum=β, weight_decay=δ, warmup_steps=n)`` in train
    mode, whose parameters hold :math:`y`, and whose ``eval()`` puts :math:`x` in them.

    Args:
        lr: learning rate :math:`\alpha > 0`.
        beta: interpolation :math:`\beta \in [0, 1)` (default 0.9; the package's ``momentum``).
        weight_decay: :math:`\delta \ge 0` (default 0), an L2 term taken at :math:`y`.
        schedule: ``None`` or a schedule :math:`\mu` (:mod:`optlib.schedules`); a warmup is the
            only one the method needs.

    State:
        ``z`` (:math:`z`) and ``x`` (:math:`x`), per parameter; the numbers ``mu_max``
        (:math:`\hat\mu_t`) and ``weight_sum`` (:math:`\sum_i \hat\mu_i^2`) in the checkpoint's
        ``scalars``.

    Examples:
        >>> import numpy as np
        >>> w = np.array([1.0])
        >>> opt = ScheduleFreeSGD(lr=0.5, beta=0.5)
        >>> opt.step(w, np.array([1.0]))      # z = 0.5, x = z (c_1 = 1), y = 0.5
        array([0.5])
        >>> opt.step(w, np.array([1.0]))      # z = 0, x = (0.5 + 0)/2, y = 0.125
        array([0.125])
        >>> opt.eval_params()
        array([0.25])

    References:
        A. Defazio, X. Yang, H. Mehta, K. Mishchenko, A. Khaled, A. Cutkosky, "The Road Less
        Scheduled", NeurIPS 2024.
    """

    _hyper_names = ("lr", "beta", "weight_decay")
    _state_names = ("z", "x")
    _hidden_state = ("x",)
    _scalar_names = _SCHEDULE_FREE_SCALARS
    lr = Hyper(**_LR)
    beta = Hyper(**_BETA)
    weight_decay = Hyper(**_NONNEG)

    def __init__(self, lr, beta=0.9, weight_decay=0.0, schedule=None):
        self.lr = lr
        self.beta = beta
        self.weight_decay = weight_decay
        super().__init__(schedule)

    def eval_params(self):
        return _schedule_free_eval_params(self)

    eval_params.__doc__ = _EVAL_PARAMS_DOC

    def _initial_buffer(self, name, p):
        return _schedule_free_initial(name, p)

    def _coefficients(self, t, lr, mu):
        return {"lr": lr, "beta": self.beta, "one_minus_beta": 1.0 - self.beta,
                "weight_decay": _nonzero_or_none(self.weight_decay), **_schedule_free_weights(self, mu)}

    def _update(self, p, g, state, c):
        scratch = work_array("scratch", p.dtype, p.shape)
        if c.weight_decay is not None:              # g <- g + delta y
            decayed = work_array("decayed_grad", np.result_type(g, p), g.shape)
            np.multiply(c.weight_decay, p, out=decayed)
            g = np.add(g, decayed, out=decayed)
        np.multiply(g, c.lr, out=scratch)           # z <- z - alpha_t g
        state["z"] -= scratch
        _average_and_interpolate(p, state, c, c.beta, c.one_minus_beta, scratch)


class ScheduleFreeAdamW(Optimizer):
    r"""Schedule-free AdamW (Defazio et al., 2024): :class:`ScheduleFreeSGD` with Adam's
    per-coordinate step (no first moment: the averaging takes its place).

    .. math::

        s_t = \beta_2 s_{t-1} + (1-\beta_2)\, g_t^2, \qquad
        z_t = z_{t-1} - \alpha_t \Big(\frac{g_t}{\sqrt{s_t/(1-\beta_2^t)} + \varepsilon}
        + \delta\, y_{t-1}\Big),

    .. math::

        x_t = (1 - c_t)\, x_{t-1} + c_t\, z_t, \qquad
        y_t = (1 - \beta_1)\, z_t + \beta_1 x_t,

    with :math:`g_t = \nabla f(y_{t-1})`, :math:`z_0 = x_0 = y_0 = w_0`, :math:`s_0 = 0`,
    :math:`\alpha_t = \alpha\mu_t` and the weights :math:`c_t` of :class:`ScheduleFreeSGD`.
    The weight decay :math:`\delta` is decoupled (it does not enter :math:`s`) and taken at
    :math:`y`. ``params`` hold :math:`y`; :meth:`eval_params` gives :math:`x`.

    This is ``schedulefree.AdamWScheduleFree(lr=α, betas=(β₁, β₂), eps=ε, weight_decay=δ,
    warmup_steps=n)`` with ``schedule=Warmup(n)`` (in train mode; its ``eval()`` puts
    :math:`x` in the parameters).

    Args:
        lr: learning rate :math:`\alpha > 0` (default 0.0025, the package's).
        beta1: interpolation :math:`\beta_1 \in [0, 1)` between :math:`z` and :math:`x`
            (default 0.9).
        beta2: second-moment coefficient :math:`\beta_2 \in [0, 1)` (default 0.999).
        eps: :math:`\varepsilon \ge 0`, outside the root (default 1e-8).
        weight_decay: :math:`\delta \ge 0` (default 0).
        schedule: ``None`` or a schedule :math:`\mu` (:mod:`optlib.schedules`); a warmup is
            the only one the method needs.

    State:
        ``z``, ``x`` and ``exp_avg_sq`` (:math:`s`), per parameter; ``mu_max`` and
        ``weight_sum`` in the checkpoint's ``scalars``.

    References:
        A. Defazio, X. Yang, H. Mehta, K. Mishchenko, A. Khaled, A. Cutkosky, "The Road Less
        Scheduled", NeurIPS 2024.
    """

    _hyper_names = ("lr", "beta1", "beta2", "eps", "weight_decay")
    _state_names = ("z", "x", "exp_avg_sq")
    _hidden_state = ("x", "exp_avg_sq")
    _scalar_names = _SCHEDULE_FREE_SCALARS
    lr = Hyper(**_LR)
    beta1 = Hyper(**_BETA)
    beta2 = Hyper(**_BETA)
    eps = Hyper(**_NONNEG)
    weight_decay = Hyper(**_NONNEG)

    def __init__(self, lr=0.0025, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                 schedule=None):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weight_decay = weight_decay
        super().__init__(schedule)

    def eval_params(self):
        return _schedule_free_eval_params(self)

    eval_params.__doc__ = _EVAL_PARAMS_DOC

    def _initial_buffer(self, name, p):
        return _schedule_free_initial(name, p)

    def _coefficients(self, t, lr, mu):
        return {"lr": lr, "beta1": self.beta1, "one_minus_beta1": 1.0 - self.beta1,
                "beta2": self.beta2, "one_minus_beta2": 1.0 - self.beta2,
                "correction2": 1.0 - self.beta2 ** t, "eps": self.eps,
                "weight_decay": _nonzero_or_none(self.weight_decay),
                **_schedule_free_weights(self, mu)}

    def _update(self, p, g, state, c):
        scratch = work_array("scratch", p.dtype, p.shape)
        s = state["exp_avg_sq"]
        s *= c.beta2                                # s <- beta2 s + (1 - beta2) g^2
        np.square(g, out=scratch)
        scratch *= c.one_minus_beta2
        s += scratch
        np.divide(s, c.correction2, out=scratch)    # g / (sqrt(s / (1 - beta2^t)) + eps)
        _divide_by_root(g, scratch, c, out=scratch)
        if c.weight_decay is not None:              # + delta y
            decayed = work_array("decayed_grad", p.dtype, p.shape)
            np.multiply(c.weight_decay, p, out=decayed)
            scratch += decayed
        scratch *= c.lr                             # z <- z - alpha_t (...)
        state["z"] -= scratch
        _average_and_interpolate(p, state, c, c.beta1, c.one_minus_beta1, scratch)
