r"""Measurements on the network: the gradient check, the sharpness, and shadow runs.

* :func:`gradient_check` — the backward pass against central differences;
* :func:`sharpness` — the largest Hessian eigenvalue of the loss (chapter 1's
  :math:`\lambda_{\max}`), by power iteration on Hessian-vector products;
* :func:`diagonal_preconditioner`, :func:`preconditioned_sharpness` — the same for
  an adaptive optimizer's preconditioned Hessian :math:`P^{-1}H` (Adam's edge of
  stability, chapter 7);
* :func:`perturb_ulps`, :func:`shadow_distance`, :func:`erratic` — whether a
  training run is *erratic*: whether a change of one unit in the last place
  (ulp) of its starting parameters changes its outcome.

Why shadow runs: a contracting run forgets a tiny change of its start, and ends
where its *shadow* (the same run from a start one ulp away) ends, to about
:math:`10^{-15}` (relative). A run near divergence amplifies it instead, up to a different
outcome. Another CPU (AVX-512 rather than AVX2) picks other BLAS kernels and
exp/log loops, whose last bits differ: such a run then prints other numbers on
another machine. Whether a run is erratic is decided by evidence — its shadow —
and an erratic run must be reported qualitatively, not with three digits.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import describe, real, whole
from ..optimizers import Adam, Optimizer, RMSprop
from .model import MLP, one_blas_thread

__all__ = [
    "gradient_check", "sharpness", "diagonal_preconditioner", "preconditioned_sharpness",
    "ERRATIC_DISTANCE", "perturb_ulps", "shadow_distance", "erratic",
]

#: A shadow run that ends farther than this from its run (relative distance of the final
#: parameters, :func:`shadow_distance`) makes the run erratic. Contracting runs end about
#: 1e-15 apart, the other runs of chapter 5's exploration less than 1e-4 apart, and its
#: erratic runs more than 0.1 apart.
ERRATIC_DISTANCE = 1e-3


def _model(model) -> MLP:
    if not isinstance(model, MLP):
        raise TypeError(f"model must be an optlib.network.MLP, got model={describe(model)}")
    return model


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

    Examples:
        >>> import numpy as np
        >>> net = MLP(sizes=(3, 4, 2), activation="tanh")
        >>> X, y = np.random.default_rng(0).normal(size=(5, 3)), np.array([0, 1, 1, 0, 1])
        >>> errors = gradient_check(net, net.init_params(), X, y)
        >>> list(errors), max(errors.values()) < 1e-7
        (['W1', 'b1', 'W2', 'b2'], True)
    """
    model = _model(model)
    model.check_params(params)
    X, y = model.check_data(X, y)
    h = real("h", h, low=0.0, low_inclusive=False)
    with one_blas_thread():
        _, grads = model.loss_and_grads(params, X, y, validate=False)
        work = {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}
        errors = {}
        for key in model.keys:
            p, numeric = work[key], np.empty(work[key].shape)
            for i in np.ndindex(p.shape):
                saved = p[i]
                p[i] = saved + h
                up = model.loss(work, X, y, validate=False)
                p[i] = saved - h
                down = model.loss(work, X, y, validate=False)
                p[i] = saved
                numeric[i] = (up - down) / (2 * h)
            scale = np.linalg.norm(numeric) + np.linalg.norm(grads[key])
            errors[key] = (float(np.linalg.norm(numeric - grads[key]) / scale) if scale > 0
                           else 0.0)
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

    Examples:
        >>> import numpy as np
        >>> net = MLP(sizes=(2, 2))
        >>> zeros = {"W1": np.zeros((2, 2)), "b1": np.zeros(2)}
        >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> # H = (1/n) Σᵢ x̃ᵢx̃ᵢᵀ ⊗ (diag P − PPᵀ), x̃ = (x, 1), P = (½, ½): (1/2) · 3 · ½
        >>> round(sharpness(net, zeros, X, np.array([0, 1])), 6)
        0.75
    """
    model = _model(model)
    model.check_params(params)
    X, y = model.check_data(X, y)
    iters = whole("iters", iters, low=1)
    seed = whole("seed", seed, low=0)
    v = np.random.default_rng(seed).normal(size=model.n_params)
    v /= np.linalg.norm(v)
    with np.errstate(all="ignore"), one_blas_thread():
        estimate, _, _ = _power_iteration(_products(model, params, X, y), v, iters, 0.0)
    return estimate


# --------------------------------------------------------------------------
# Curvature seen through an adaptive optimizer: λ_max(P⁻¹H)
# --------------------------------------------------------------------------
def _scalar_hyper(optimizer, name) -> float:
    value = getattr(optimizer, name)
    if isinstance(value, np.ndarray):
        raise ValueError(f"{type(optimizer).__name__}.{name} must be a single number to define "
                         f"one preconditioner, got {name}={describe(value)}")
    return float(value)


def diagonal_preconditioner(optimizer) -> dict:
    r"""The diagonal preconditioner :math:`P_t` of an adaptive optimizer after its last step.

    An adaptive step is a gradient (or momentum) step divided coordinate by coordinate,
    :math:`w_{t+1} = w_t - \alpha P_t^{-1} m_t`. Cohen et al. (2022, "Adaptive Gradient
    Methods at the Edge of Stability", arXiv:2207.14484, §2) write Adam with the EMA
    momentum :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t` (chapter 2's form, unbiased
    only after the correction) and put both bias corrections into the preconditioner:

    .. math::

        P_t = \big(1 - \beta_1^{\,t}\big)\Big[\operatorname{diag}\Big(\sqrt{\tfrac{s_t}
        {1 - \beta_2^{\,t}}}\Big) + \varepsilon I\Big],

    so that :math:`\alpha P_t^{-1} m_t = \alpha\,\hat v_t/(\sqrt{\hat s_t} + \varepsilon)` is
    exactly Adam's step (:class:`~optlib.optimizers.Adam`, with :math:`v_t = m_t`). With
    ``amsgrad`` the running maximum :math:`s_{\max,t}` takes the place of :math:`s_t`.
    For :class:`~optlib.optimizers.RMSprop`, :math:`P_t = \operatorname{diag}(\sqrt{s_t}) + \varepsilon I`
    (no momentum, no correction). The factor :math:`1 - \beta_1^t` tends to 1 within a few
    dozen steps; init2winit's implementation of the paper's measurement leaves it out.

    Args:
        optimizer: an :class:`~optlib.optimizers.Adam`, :class:`~optlib.optimizers.AdamW` or
            :class:`~optlib.optimizers.RMSprop` that has taken at least one step, with single-number
            hyperparameters.

    Returns:
        The diagonal of :math:`P_t` as new float64 arrays in the structure of the
        optimizer's parameters (a dict ``W1, b1, ...`` for a network).

    Examples:
        >>> import numpy as np
        >>> from optlib import Adam
        >>> opt = Adam(lr=0.1, eps=0.0)
        >>> _ = opt.step(np.array([1.0]), np.array([2.0]))   # s₁ = 0.001·4; ŝ₁ = 4
        >>> diagonal_preconditioner(opt)                      # (1 − 0.9)·√4
        array([0.2])
    """
    if not isinstance(optimizer, (Adam, RMSprop)):
        raise TypeError(f"optimizer must be an optlib Adam, AdamW or RMSprop (an optimizer "
                        f"with a diagonal preconditioner), got optimizer={describe(optimizer)}")
    if optimizer.t == 0:
        raise ValueError(f"optimizer has taken no step yet, so it has no preconditioner: "
                         f"optimizer={describe(optimizer)}")
    eps = _scalar_hyper(optimizer, "eps")
    t = optimizer.t
    if isinstance(optimizer, Adam):
        beta1, beta2 = _scalar_hyper(optimizer, "beta1"), _scalar_hyper(optimizer, "beta2")
        name = "max_exp_avg_sq" if optimizer.amsgrad else "exp_avg_sq"
        first, second = 1.0 - beta1 ** t, 1.0 - beta2 ** t
        build = lambda s: first * (np.sqrt(s / second) + eps)          # noqa: E731
    else:
        name = "square_avg"
        build = lambda s: np.sqrt(s) + eps                              # noqa: E731
    state = optimizer.state
    if isinstance(state, dict) and name in state and isinstance(state[name], np.ndarray):
        return build(np.asarray(state[name], dtype=np.float64))       # a single array
    if isinstance(state, list):
        return [build(np.asarray(b[name], dtype=np.float64)) for b in state]
    return {key: build(np.asarray(b[name], dtype=np.float64)) for key, b in state.items()}


def _flat(model: MLP):
    """``(flatten, unflatten)`` between a network's dict and one vector, in ``model.keys``
    order."""
    keys, shapes = model.keys, model.shapes()
    cuts = np.cumsum([int(np.prod(shapes[k])) for k in keys])[:-1]

    def flatten(d):
        return np.concatenate([np.asarray(d[k], dtype=np.float64).ravel() for k in keys])

    def unflatten(vec):
        return {k: part.reshape(shapes[k]) for k, part in zip(keys, np.split(vec, cuts))}

    return flatten, unflatten


def _checked_preconditioner(model: MLP, preconditioner):
    """The diagonal of P as one vector, and the coupled weight decay δ of the optimizer
    (0 for a dict): ``(diag, delta)``."""
    delta = 0.0
    if isinstance(preconditioner, Optimizer):
        diag = diagonal_preconditioner(preconditioner)
        if isinstance(preconditioner, Adam) and not preconditioner.decoupled:
            delta = _scalar_hyper(preconditioner, "weight_decay")
        name = "the preconditioner of optimizer"
    else:
        diag, name = preconditioner, "preconditioner"
    try:
        model.check_params(diag, name)
    except (TypeError, ValueError) as error:
        if isinstance(preconditioner, Optimizer):
            raise ValueError(f"optimizer must have been stepped on this network's parameters "
                             f"({error})") from None
        raise
    flatten, _ = _flat(model)
    vec = flatten(diag)
    if not np.all(np.isfinite(vec) & (vec > 0)):
        raise ValueError(f"{name} must hold finite numbers > 0 on its diagonal, got "
                         f"{describe(vec)} (an Adam with eps=0 and a zero second moment has "
                         f"no inverse)")
    return vec, delta


def _power_iteration(product, v, iters: int, tol: float):
    r"""Power iteration :math:`v \leftarrow Av/\lVert Av\rVert` from the unit vector ``v``
    with the Rayleigh quotient :math:`v^\top A v` as the estimate: ``(estimate, v, used)``.

    Stops after ``iters`` products, or earlier when two successive estimates differ by
    at most ``tol`` (relative), or when :math:`Av` is 0 or not finite."""
    estimate = math.nan
    for used in range(1, iters + 1):
        w = product(v)
        new = float(v @ w)
        norm = float(np.linalg.norm(w))
        if not math.isfinite(norm) or norm == 0.0:
            return new, v, used
        v = w / norm
        if tol > 0 and abs(new - estimate) <= tol * abs(new):
            return new, v, used
        estimate = new
    return estimate, v, iters


def _products(model: MLP, params, X, y, scale=None, delta: float = 0.0):
    """``v -> S v`` on flat vectors: :math:`Hv` (``scale`` None), or
    :math:`D(H + \\delta I)Dv` with :math:`D` = diag(``scale``)."""
    flatten, unflatten = _flat(model)

    def hv(vec):
        return flatten(model.hessian_vector_product(params, X, y, unflatten(vec),
                                                    validate=False))

    if scale is None:
        return hv

    def shv(vec):
        inner = scale * vec
        out = hv(inner)
        if delta:
            out = out + delta * inner
        return scale * out

    return shv


def preconditioned_sharpness(model: MLP, params, X, y, preconditioner, iters: int = 100,
                             seed: int = 0) -> float:
    r"""The largest-magnitude eigenvalue of :math:`P^{-1}H`, the preconditioned sharpness.

    :math:`H` is the Hessian of the loss at ``params`` and :math:`P` a diagonal
    preconditioner with positive entries — an adaptive optimizer's
    (:func:`diagonal_preconditioner`), or given directly. An adaptive method
    :math:`w \leftarrow w - \alpha P^{-1} m` is gradient descent (or momentum) in the
    coordinates :math:`u = P^{1/2} w`, where the Hessian is
    :math:`S = P^{-1/2} H P^{-1/2}`: its stability is chapter 1's and chapter 2's with
    :math:`\lambda_{\max}(S)` in place of :math:`\lambda_{\max}(H)`. For Adam with
    :math:`\beta_1` the threshold is :math:`(2 + 2\beta_1)/((1-\beta_1)\alpha)`,
    :math:`38/\alpha` at :math:`\beta_1 = 0.9` (Cohen et al. 2022, "Adaptive Gradient
    Methods at the Edge of Stability", arXiv:2207.14484).

    :math:`S` and :math:`P^{-1}H = P^{-1/2}\,S\,P^{1/2}` are similar matrices, so they have
    the same eigenvalues (:math:`P^{-1}Hx = \lambda x` ⇔ :math:`S(P^{1/2}x) = \lambda
    P^{1/2}x`). :math:`S` is symmetric, so its eigenvalues are real, its eigenvectors
    orthogonal, and power iteration with the Rayleigh quotient :math:`u^\top S u`
    converges as on :func:`sharpness` (the error of the estimate is the square of the
    error of the vector); this function iterates :math:`u \leftarrow Su/\lVert Su\rVert`
    with :math:`Su = P^{-1/2} H (P^{-1/2} u)`, one Hessian-vector product per iteration.

    For an :class:`~optlib.optimizers.Adam` with L2 weight decay :math:`\delta` (``decoupled=False``)
    the step sees the Hessian :math:`H + \delta I` of the penalised loss, and that is
    used; AdamW's decoupled decay, which shrinks the weights outside the gradient, is
    not part of :math:`H`.

    Args:
        model, params, X, y: as in :func:`sharpness`.
        preconditioner: an :class:`~optlib.optimizers.Adam`, :class:`~optlib.optimizers.AdamW` or
            :class:`~optlib.optimizers.RMSprop` that has been stepped on ``params``' structure
            (its :func:`diagonal_preconditioner` is used; the optimizer is not changed),
            or a dict with the keys and shapes of ``params`` holding the diagonal of
            :math:`P` (finite, > 0).
        iters: power iterations, ≥ 1.
        seed: seed of the random start vector.

    Examples:
        >>> import numpy as np
        >>> net = MLP(sizes=(2, 2))
        >>> zeros = {"W1": np.zeros((2, 2)), "b1": np.zeros(2)}
        >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])
        >>> P = {"W1": np.full((2, 2), 0.5), "b1": np.full(2, 0.5)}   # P = I/2: twice λ_max
        >>> round(sharpness(net, zeros, X, y), 6)
        0.75
        >>> round(preconditioned_sharpness(net, zeros, X, y, P), 6)
        1.5
    """
    model = _model(model)
    model.check_params(params)
    X, y = model.check_data(X, y)
    iters = whole("iters", iters, low=1)
    seed = whole("seed", seed, low=0)
    diag, delta = _checked_preconditioner(model, preconditioner)
    v = np.random.default_rng(seed).normal(size=model.n_params)
    v /= np.linalg.norm(v)
    with np.errstate(all="ignore"), one_blas_thread():
        product = _products(model, params, X, y, 1.0 / np.sqrt(diag), delta)
        estimate, _, _ = _power_iteration(product, v, iters, 0.0)
    return estimate


# --------------------------------------------------------------------------
# Shadow runs: is a run's outcome a property of the run, or of the last bit?
# --------------------------------------------------------------------------
def perturb_ulps(params, ulps: int = 1, seed: int = 0) -> dict[str, np.ndarray]:
    r"""A copy of ``params`` with every non-zero entry moved by ``ulps`` units in the last place.

    Each entry :math:`\theta \ne 0` becomes the ``ulps``-th float64 after or before it
    (``numpy.nextafter``), up or down at random — the directions drawn from
    ``numpy.random.default_rng(seed)`` — so that the relative change is about
    :math:`2^{-52} \approx 2.2 \cdot 10^{-16}` per ulp. Zeros (the biases at the
    start) stay zero: a zero has no last place at the scale of the computation.
    ``params`` is not changed.

    Args:
        params: a dict name → float ndarray (a network's ``W1, b1, ...``).
        ulps: how many units in the last place, ≥ 1.
        seed: seed of the directions.

    Examples:
        >>> import numpy as np
        >>> moved = perturb_ulps({"w": np.array([1.0, 0.0, -3.0])}, seed=1)
        >>> np.abs(moved["w"] - [1.0, 0.0, -3.0]) / np.spacing([1.0, 1.0, 3.0])
        array([1., 0., 1.])
    """
    if not isinstance(params, dict) or not all(
            isinstance(v, np.ndarray) and v.dtype.kind == "f" for v in params.values()):
        raise TypeError(f"params must be a dict name -> float ndarray, got "
                        f"params={describe(params)}")
    ulps = whole("ulps", ulps, low=1)
    seed = whole("seed", seed, low=0)
    rng = np.random.default_rng(seed)
    out = {}
    for key, value in params.items():
        towards = np.where(rng.random(value.shape) < 0.5, -np.inf, np.inf).astype(value.dtype)
        moved = value.copy()
        for _ in range(ulps):
            moved = np.nextafter(moved, towards)
        out[key] = np.where(value != 0, moved, value)
    return out


def shadow_distance(run, shadow) -> float:
    r"""How far apart a run and its shadow end: :math:`\lVert\theta - \theta'\rVert / \lVert\theta\rVert`.

    :math:`\theta` and :math:`\theta'` are all final parameters of the two
    :class:`~optlib.network.History` objects, as one vector. Runs that diverged
    are compared by when: two runs that diverged in the same step are 0 apart;
    a run that diverged and one that did not, or that diverged in another step,
    are infinitely far apart.

    Examples:
        >>> import numpy as np
        >>> from types import SimpleNamespace as Run
        >>> a = Run(params={"w": np.array([3.0, 4.0])}, diverged=False, diverged_at_step=-1)
        >>> b = Run(params={"w": np.array([3.0, 4.5])}, diverged=False, diverged_at_step=-1)
        >>> shadow_distance(a, b)
        0.1
    """
    if run.diverged or shadow.diverged:
        same = run.diverged and shadow.diverged and run.diverged_at_step == shadow.diverged_at_step
        return 0.0 if same else math.inf
    diff = math.sqrt(sum(float(np.sum((run.params[k] - shadow.params[k]) ** 2))
                         for k in run.params))
    size = math.sqrt(sum(float(np.sum(run.params[k] ** 2)) for k in run.params))
    if size == 0.0:
        return 0.0 if diff == 0.0 else math.inf
    return diff / size


def erratic(run, shadow, far: float = ERRATIC_DISTANCE) -> bool:
    """True when the run's outcome depends on the last bit of its start.

    That is, when its shadow (the same run from :func:`perturb_ulps` of its start)
    ends farther than ``far`` from it (:func:`shadow_distance`), or reports
    something else: divergence in another epoch, or another final training or test
    accuracy. A run that is not erratic reports what its shadow reports.

    Examples:
        >>> import numpy as np
        >>> from types import SimpleNamespace as Run
        >>> def run(w, acc):
        ...     return Run(params={"w": np.array(w)}, diverged=False, diverged_at_step=-1,
        ...                diverged_at_epoch=-1, final_train_accuracy=acc,
        ...                final_test_accuracy=acc)
        >>> erratic(run([1.0, 2.0], 0.9), run([1.0, 2.0 + 1e-12], 0.9))
        False
        >>> erratic(run([1.0, 2.0], 0.9), run([1.5, 2.0], 0.7))
        True
    """
    far = real("far", far, low=0.0)
    if shadow_distance(run, shadow) > far or run.diverged_at_epoch != shadow.diverged_at_epoch:
        return True
    return not all(np.array_equal(getattr(run, name), getattr(shadow, name), equal_nan=True)
                   for name in ("final_train_accuracy", "final_test_accuracy"))
