r"""Gradient clipping by the global norm (chapter 7).

One function, :func:`clip_by_global_norm`: all gradients of a model are treated
as one long vector :math:`g`; when its length exceeds a threshold :math:`c` the
whole vector is shrunk to length :math:`c`, keeping its direction:

.. math::

    \lVert g \rVert = \sqrt{\textstyle\sum_{\text{arrays } k} \sum_i g_{k,i}^2},
    \qquad
    g \leftarrow \min\!\Big(1, \frac{c}{\lVert g \rVert}\Big)\, g .

Near the edge of stability a step along the sharpest direction overshoots and
the gradient grows; clipping caps the length of the step :math:`\alpha\, g`
at :math:`\alpha c` and leaves small gradients alone. The training loop applies
it with ``train(..., clip=c)`` (:func:`optlib.network.train`).

References: Pascanu, Mikolov & Bengio (2013), "On the difficulty of training
recurrent neural networks" (the rule); ``torch.nn.utils.clip_grad_norm_`` and
``optax.clip_by_global_norm`` (the two common implementations, compared in the
function's docstring).
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import describe, real

__all__ = ["clip_by_global_norm", "global_norm"]


def _arrays(grads):
    """``grads`` as a list of ``(key, array)`` (key None for one array), checked."""
    if isinstance(grads, np.ndarray):
        pairs = [(None, grads)]
    elif isinstance(grads, (list, tuple)):
        pairs = list(enumerate(grads))
    elif isinstance(grads, dict):
        pairs = list(grads.items())
    else:
        raise TypeError(f"grads must be a float ndarray, a list or tuple of them, or a dict "
                        f"name -> float ndarray, got grads={describe(grads)} of type "
                        f"{type(grads).__name__}")
    if not pairs:
        raise ValueError(f"grads must hold at least one array, got grads={describe(grads)}")
    for key, g in pairs:
        if not isinstance(g, np.ndarray) or g.dtype.kind != "f":
            where = "grads" if key is None else f"grads[{key!r}]"
            raise TypeError(f"{where} must be a float ndarray, got {describe(g)}")
    return pairs


def _norm(pairs) -> float:
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for _, g in pairs:
            flat = g.ravel().astype(np.float64, copy=False)
            total += float(np.dot(flat, flat))
    return math.sqrt(total) if total >= 0.0 else math.nan    # nan stays nan, inf stays inf


def global_norm(grads) -> float:
    r"""The length of all gradients taken as one vector,
    :math:`\sqrt{\sum_k \sum_i g_{k,i}^2}` (in float64, whatever the arrays' dtype).

    ``grads``: as in :func:`clip_by_global_norm`. ``inf`` when an entry is infinite or
    the sum of squares overflows (entries beyond about :math:`10^{154}`), ``nan`` when
    an entry is ``nan``.

    Examples:
        >>> import numpy as np
        >>> global_norm({"W": np.array([[3.0]]), "b": np.array([4.0])})
        5.0
    """
    return _norm(_arrays(grads))


def clip_by_global_norm(grads, max_norm):
    r"""Scale all gradients together so that their global norm is at most ``max_norm``.

    .. math::

        \lVert g \rVert = \sqrt{\textstyle\sum_k \sum_i g_{k,i}^2}, \qquad
        \tilde g_k = \min\!\Big(1, \frac{c}{\lVert g \rVert}\Big)\, g_k
        \quad\text{for every array } k,

    with :math:`c` = ``max_norm``. Every array is scaled by the same factor, so the
    direction of the whole gradient is kept; a gradient no longer than :math:`c` is
    returned unchanged (as a copy).

    Args:
        grads: a float ndarray, a list or tuple of them, or a dict name → float
            ndarray (a network's ``W1, b1, ...``). Not changed.
        max_norm: the threshold :math:`c`, a finite number > 0.

    Returns:
        ``(clipped, norm)``: ``clipped`` new arrays in the structure of ``grads``
        (same keys or order, shapes and dtypes), ``norm`` the global norm *before*
        clipping, a float (:func:`global_norm`), as ``torch.nn.utils.clip_grad_norm_``
        returns it.

    **Non-finite gradients.** When the norm is not finite (an entry is ``nan`` or
    ``inf``, or the sum of squares overflows) no factor can make the gradient
    finite and short: the arrays are returned unchanged (copies) with that
    non-finite ``norm``, and it is the caller's to stop — the training loop treats
    it as a divergence. Nothing is warned or raised. (torch, with its default
    ``error_if_nonfinite=False``, and optax multiply by a factor computed from the
    non-finite norm, which turns the finite entries into 0 or ``nan``: the damage is
    then hidden in the result.)

    .. note::
        **torch and optax.** ``torch.nn.utils.clip_grad_norm_`` scales by
        :math:`\min(1, c/(\lVert g\rVert + 10^{-6}))`: the :math:`10^{-6}` makes its
        clipped norm :math:`c\,\lVert g\rVert/(\lVert g\rVert + 10^{-6})`, slightly
        below :math:`c`, and it also shrinks gradients whose norm lies in
        :math:`(c - 10^{-6}, c]`, which this function keeps: a relative difference of
        about :math:`10^{-6}/\lVert g\rVert`, which matters only for tiny gradients.
        ``optax.clip_by_global_norm`` has no such term: it keeps the gradient where
        :math:`\lVert g\rVert < c` and returns :math:`(g/\lVert g\rVert)\,c` otherwise.
        This function follows optax's rule (no :math:`10^{-6}`: the result does not
        depend on the units of the loss) and torch's return value (the norm before
        clipping); clipped, the global norm is :math:`c` up to rounding.

    Raises:
        TypeError: if ``grads`` is not such a structure of float arrays, or
            ``max_norm`` not a real number.
        ValueError: if ``max_norm`` is not finite and > 0, or ``grads`` is empty.

    Examples:
        >>> import numpy as np
        >>> grads = {"W": np.array([[3.0, 0.0]]), "b": np.array([4.0])}     # norm 5
        >>> clipped, norm = clip_by_global_norm(grads, max_norm=1.0)
        >>> norm, clipped["W"], clipped["b"]
        (5.0, array([[0.6, 0. ]]), array([0.8]))
        >>> clip_by_global_norm(np.array([0.3, 0.4]), max_norm=1.0)      # short: kept
        (array([0.3, 0.4]), 0.5)
    """
    pairs = _arrays(grads)
    max_norm = real("max_norm", max_norm, low=0.0, low_inclusive=False)
    norm = _norm(pairs)
    if math.isfinite(norm) and norm > max_norm:
        factor = max_norm / norm
        out = [(key, g * g.dtype.type(factor)) for key, g in pairs]
    else:
        out = [(key, g.copy()) for key, g in pairs]
    if isinstance(grads, np.ndarray):
        return out[0][1], norm
    if isinstance(grads, dict):
        return {key: g for key, g in out}, norm
    arrays = [g for _, g in out]
    return (arrays if isinstance(grads, list) else tuple(arrays)), norm
