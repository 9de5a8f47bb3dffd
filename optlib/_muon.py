r"""Muon, and the Newton–Schulz iteration it orthogonalises with.

:class:`Muon` is part of :mod:`optlib.optimizers` (documented and imported there, as
``optlib.optimizers.Muon``); it lives in its own module because it is the one rule that is
not elementwise: its step is a function of each weight matrix as a whole. The iteration
itself, :func:`newton_schulz`, is also what :func:`optlib.analysis.orthogonalize` computes
(with its arguments checked), so the optimizer and the chapter's analysis run the same code.
"""

from __future__ import annotations

import math

import numpy as np

from . import _validate
from ._engine import work_array
from ._optimizer import Flag, Hyper, Optimizer, _param_name, _Validated
from ._validate import describe

__all__ = ["Muon", "newton_schulz", "DEFAULT_NS_COEFFICIENTS", "ADJUST_LR"]

#: Jordan et al.'s quintic coefficients :math:`(a, b, c)`, torch.optim.Muon's defaults.
DEFAULT_NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
#: The choices of Muon's ``adjust_lr``.
ADJUST_LR = ("original", "match_rms_adamw", None)


# --------------------------------------------------------------------------
# Checks shared with optlib.analysis.orthogonal
# --------------------------------------------------------------------------
def checked_steps(name: str, value) -> int:
    """A number of Newton–Schulz steps: a whole number ≥ 0 (0: only the normalisation)."""
    return _validate.whole(name, value, low=0)


def checked_coefficients(name: str, value) -> tuple:
    """The coefficients :math:`(a, b, c)`: three finite real numbers, as a tuple of floats."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be three real numbers (a, b, c), got {name}="
                        f"{describe(value)} of type {type(value).__name__}")
    arr = _validate.reals(name, value)
    if arr.shape != (3,):
        raise ValueError(f"{name} must be three real numbers (a, b, c), got {name}="
                         f"{describe(value)}")
    return tuple(float(x) for x in arr)


def checked_eps(name: str, value) -> float:
    """The floor :math:`\\varepsilon > 0` of the norm that the iteration divides by."""
    return _validate.real(name, value, low=0.0, low_inclusive=False)


# --------------------------------------------------------------------------
# The iteration
# --------------------------------------------------------------------------
def newton_schulz(u: np.ndarray, steps: int, coefficients: tuple, eps: float,
                  work=None) -> np.ndarray:
    r"""The Newton–Schulz orthogonalisation :math:`\operatorname{NS}(u)` of a 2-D float array,
    in ``u``'s dtype, without checks.

    :math:`X_0 = u / \max(\lVert u\rVert_F, \varepsilon)`, transposed first when ``u`` has
    more rows than columns; then ``steps`` times :math:`A = XX^\top`,
    :math:`X \leftarrow aX + (bA + cA^2)X`; transposed back.

    ``work(name, shape)`` supplies the temporaries (uninitialised arrays of ``u``'s dtype;
    default: new arrays): the result is a view of the one named ``"x"``. The arithmetic
    does not depend on ``u``'s memory layout (``u`` is copied into ``"x"`` first).
    """
    dtype = u.dtype
    if work is None:
        def work(name, shape):
            return np.empty(shape, dtype)
    tall = u.shape[0] > u.shape[1]
    source = u.T if tall else u
    x = work("x", source.shape)
    np.copyto(x, source)
    flat = x.reshape(-1)                     # a view: x is C-contiguous
    norm = math.sqrt(np.dot(flat, flat)) if flat.size else 0.0
    if not math.isfinite(norm):              # the squares overflowed: scale first
        scale = max(-float(flat.min()), float(flat.max()))
        x /= dtype.type(scale)
        norm = math.sqrt(np.dot(flat, flat))
    x /= max(dtype.type(norm), dtype.type(eps))
    a, b, c = coefficients
    if steps:
        k = x.shape[0]
        gram, gram_sq = work("gram", (k, k)), work("gram_sq", (k, k))
        product = work("product", x.shape)
        for _ in range(steps):
            np.matmul(x, x.T, out=gram)              # A = X X^T
            np.matmul(gram, gram, out=gram_sq)       # A^2
            gram *= b                                # b A + c A^2
            gram_sq *= c
            gram += gram_sq
            np.matmul(gram, x, out=product)          # (b A + c A^2) X
            x *= a
            x += product
    return x.T if tall else x


def lr_ratio(shape: tuple, adjust_lr) -> float:
    r"""The factor :math:`r` of Muon's step for a parameter of ``shape`` (m rows, n columns):
    :math:`\sqrt{\max(1, m/n)}` (``"original"``), :math:`0.2\sqrt{\max(m, n)}`
    (``"match_rms_adamw"``) or 1 (``None``)."""
    rows, cols = shape
    if adjust_lr == "original":
        return math.sqrt(max(1, rows / cols)) if cols else 1.0
    if adjust_lr == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, cols))
    return 1.0


# --------------------------------------------------------------------------
# Hyperparameter attributes
# --------------------------------------------------------------------------
_SCALAR_ONLY = ("Muon's hyperparameters are single numbers: its step is a function of each "
                "weight matrix as a whole, so a setting cannot vary across a matrix's entries "
                "(use one optimizer per setting)")


class _ScalarHyper(Hyper):
    """A hyperparameter that must be a single number (no arrays: see ``_SCALAR_ONLY``)."""

    def _check(self, value):
        if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray)
                                                and value.ndim > 0):
            raise TypeError(f"{self.name} must be a single real number; {_SCALAR_ONLY}; got "
                            f"{self.name}={describe(value)}")
        return _validate.real(self.name, value, **self.bounds)


class _Steps(_Validated):
    def _check(self, value):
        return checked_steps(self.name, value)


class _Coefficients(_Validated):
    def _check(self, value):
        return checked_coefficients(self.name, value)


class _AdjustLr(_Validated):
    def _check(self, value):
        return _validate.choice(self.name, value, ADJUST_LR)


# --------------------------------------------------------------------------
# The optimizer
# --------------------------------------------------------------------------
class Muon(Optimizer):
    r"""Muon (Jordan et al., 2024): momentum, orthogonalised per weight matrix.

    For a weight matrix :math:`W` of :math:`m` rows and :math:`n` columns (so :math:`w`,
    :math:`g_t`, :math:`v_t` below are :math:`m \times n` matrices):

    .. math::

        v_t = \beta\, v_{t-1} + (1-\beta)\, g_t, \qquad
        D_t = \beta\, v_t + (1-\beta)\, g_t \quad (D_t = v_t \text{ without Nesterov}),

    .. math::

        O_t = \operatorname{NS}(D_t), \qquad
        w_t = (1 - \alpha\delta)\, w_{t-1} - \alpha\, r\, O_t,

    with :math:`v_0 = 0` (the momentum and its look-ahead are those of :class:`Momentum`).
    :math:`\operatorname{NS}` is the Newton–Schulz iteration: with :math:`D` transposed first
    when :math:`m > n` (and the result transposed back),

    .. math::

        X_0 = \frac{D}{\max(\lVert D\rVert_F, \varepsilon)}, \qquad
        X_k = a X_{k-1} + \big(b A_{k-1} + c A_{k-1}^2\big) X_{k-1}, \quad
        A_{k-1} = X_{k-1} X_{k-1}^\top, \qquad \operatorname{NS}(D) = X_K

    for :math:`K` = ``ns_steps``. If :math:`X_0 = U\Sigma V^\top` (its singular value
    decomposition), then :math:`A = U\Sigma^2U^\top` and every step keeps :math:`U` and
    :math:`V` and maps each singular value through the odd polynomial
    :math:`\varphi(\sigma) = a\sigma + b\sigma^3 + c\sigma^5`: :math:`\operatorname{NS}(D) =
    U\varphi^{K}(\Sigma)V^\top` (:func:`optlib.analysis.newton_schulz_map`,
    :func:`optlib.analysis.orthogonalize`). The default coefficients push every singular
    value toward 1 without reaching it: for singular values from 1% of
    :math:`\lVert D\rVert_F` to all of it, five steps give values between 0.68 and 1.13. So
    :math:`O_t` is close to :math:`UV^\top`, the orthogonal matrix nearest to :math:`D_t`:
    every direction of the update gets about the same size, however differently the
    gradients scale along them.

    The factor :math:`r` evens out the size of the update across shapes:
    :math:`r = \sqrt{\max(1, m/n)}` (``adjust_lr="original"``, Jordan et al.),
    :math:`r = 0.2\sqrt{\max(m, n)}` (``"match_rms_adamw"``, Liu et al. 2025: the update's
    root mean square becomes about AdamW's, so AdamW's :math:`\alpha` and :math:`\delta` carry
    over) or :math:`r = 1` (``None``).

    This is torch.optim.Muon's update (its code, whose buffer is the average above), except
    that torch runs the iteration in bfloat16 and optlib in the parameter's dtype.

    **Only 2-D parameters.** A step with a parameter of another number of dimensions (a bias
    vector, a stack of matrices) raises ``ValueError`` naming it and changes nothing: give
    those parameters to another optimizer (:class:`AdamW`). Each matrix is one update (the
    parameter is not cut into blocks), and a step copies the matrices and their buffers
    before it changes them, to undo everything if anything raises: unlike the elementwise
    rules it allocates their size once per step (the update itself allocates nothing once
    the state exists), little beside the matrix products. **Scalar hyperparameters only**: an array ``lr`` of
    shape ``(K, 1)`` would not be K runs of Muon (a batch of runs is not one matrix), so every
    hyperparameter must be a single number (``TypeError`` otherwise).

    Args:
        lr: learning rate :math:`\alpha > 0` (default 1e-3).
        beta: momentum coefficient :math:`\beta \in [0, 1)` (default 0.95; torch's
            ``momentum``).
        nesterov: use the look-ahead :math:`D_t = \beta v_t + (1-\beta) g_t` (default True).
        weight_decay: decoupled decay :math:`\delta \ge 0` (default 0.1).
        ns_steps: the number :math:`K \ge 0` of Newton–Schulz steps (default 5; with 0 the
            update is the normalised :math:`D_t / \max(\lVert D_t\rVert_F, \varepsilon)`).
        ns_coefficients: :math:`(a, b, c)`, three finite numbers (default
            ``(3.4445, -4.7750, 2.0315)``, Jordan et al.'s).
        eps: :math:`\varepsilon > 0`, the floor of the norm (default 1e-7).
        adjust_lr: ``"original"`` (default), ``"match_rms_adamw"`` or ``None``: the factor
            :math:`r` above.
        schedule: ``None`` (default) or a learning-rate schedule :math:`\mu`
            (:mod:`optlib.schedules`): step :math:`t` uses :math:`\alpha_t = \alpha\mu_t`, in
            the step and in the decay :math:`(1 - \alpha_t\delta)`.

    State:
        ``momentum_buffer``: :math:`v`.

    .. warning::
        torch.optim.Muon calls :math:`\beta` ``momentum`` and the decay :math:`\lambda`, and
        its ``adjust_lr_fn=None`` means ``"original"``; here ``adjust_lr=None`` means
        :math:`r = 1`. torch's iteration in bfloat16 keeps about 3 significant digits: its
        :math:`O_t` differs from this one by 0.5 to 4% (relative Frobenius norm, on random
        matrices); with its iteration run in float64 the two agree to rounding. torch's docstring writes the buffer :math:`B_t = \beta B_{t-1} + g_t`, without
        :math:`1-\beta` (:math:`v_t = (1-\beta)B_t`): the normalisation by the norm makes the
        two the same update (while the norm exceeds :math:`\varepsilon`).

    Examples:
        >>> import numpy as np
        >>> w = np.zeros((2, 3))
        >>> opt = Muon(lr=0.1, weight_decay=0.0, ns_steps=0)    # NS(D) = D / ||D||_F
        >>> opt.step(w, np.array([[3.0, 0.0, 0.0], [0.0, 4.0, 0.0]]))
        array([[-0.06,  0.  ,  0.  ],
               [ 0.  , -0.08,  0.  ]])
        >>> Muon().step({"b": np.zeros(3)}, {"b": np.ones(3)})
        Traceback (most recent call last):
        ...
        ValueError: Muon updates 2-D weight matrices only: params['b'] has shape (3,); ...

    References:
        K. Jordan, Y. Jin, V. Boza, J. You, F. Cesista, L. Newhouse, J. Bernstein, "Muon: An
        optimizer for hidden layers in neural networks", 2024,
        https://kellerjordan.github.io/posts/muon/.
        J. Liu et al., "Muon is Scalable for LLM Training", arXiv:2502.16982, 2025.
    """

    _hyper_names = ("lr", "beta", "weight_decay", "ns_steps", "ns_coefficients", "eps",
                    "adjust_lr")
    _flag_names = ("nesterov",)
    _state_names = ("momentum_buffer",)
    _elementwise = False
    lr = _ScalarHyper(low=0.0)
    beta = _ScalarHyper(low=0.0, high=1.0, low_inclusive=True)
    weight_decay = _ScalarHyper(low=0.0, low_inclusive=True)
    ns_steps = _Steps()
    ns_coefficients = _Coefficients()
    eps = _ScalarHyper(low=0.0)
    adjust_lr = _AdjustLr()
    nesterov = Flag()

    def __init__(self, lr=1e-3, beta=0.95, nesterov=True, weight_decay=0.1, ns_steps=5,
                 ns_coefficients=DEFAULT_NS_COEFFICIENTS, eps=1e-7, adjust_lr="original",
                 schedule=None):
        self.lr = lr
        self.beta = beta
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.ns_steps = ns_steps
        self.ns_coefficients = ns_coefficients
        self.eps = eps
        self.adjust_lr = adjust_lr
        super().__init__(schedule)

    def _check_params(self, pairs):
        for key, p, _ in pairs:
            if p.ndim != 2:
                raise ValueError(
                    f"Muon updates 2-D weight matrices only: {_param_name(key)} has shape "
                    f"{p.shape}; give such parameters (biases, ...) to another optimizer, "
                    "such as AdamW")

    def _coefficients(self, t, lr, mu):
        return {"lr": lr, "beta": self.beta, "one_minus_beta": 1.0 - self.beta,
                "shrink": 1.0 - lr * self.weight_decay if self.weight_decay != 0 else None,
                "nesterov": self.nesterov, "steps": self.ns_steps,
                "ns_coefficients": self.ns_coefficients, "eps": self.eps,
                "adjust_lr": self.adjust_lr}

    def _update(self, p, g, state, c):
        dtype = p.dtype

        def work(name, shape):
            return work_array(f"muon:{name}", dtype, shape)

        v = state["momentum_buffer"]
        scaled = work("scaled_grad", p.shape)
        v *= c.beta                                  # v <- beta v + (1 - beta) g
        np.multiply(g, c.one_minus_beta, out=scaled)
        v += scaled
        if c.nesterov:                               # D = g + beta (v - g)
            direction = np.subtract(v, g, out=scaled)
            direction *= c.beta
            direction += g
        else:
            direction = v
        o = newton_schulz(direction, c.steps, c.ns_coefficients, c.eps, work)
        o *= c.lr * lr_ratio(p.shape, c.adjust_lr)   # alpha r O
        if c.shrink is not None:                     # w <- (1 - alpha delta) w
            p *= c.shrink
        p -= o
