"""An independent numpy reference for the network of chapter 5 (the tests' own, not optlib's):
the loss and gradient of a ReLU network with softmax cross-entropy, layer by layer, and its
sharpness by scipy's Lanczos solver on finite-difference Hessian-vector products."""

from __future__ import annotations

import numpy as np


def forward_backward(params, X, y):
    """Softmax cross-entropy of a ReLU network and its gradient, layer by layer."""
    L = len(params) // 2
    A, cache = X, []
    for l in range(1, L + 1):
        Z = A @ params[f"W{l}"] + params[f"b{l}"]
        cache.append((A, Z))
        A = np.maximum(Z, 0.0) if l < L else Z
    Z = A - A.max(axis=1, keepdims=True)
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.mean(np.log(P[np.arange(n), y]))
    dZ = P.copy()
    dZ[np.arange(n), y] -= 1.0                       # P − Y
    grads = {}
    for l in range(L, 0, -1):
        A_in, _ = cache[l - 1]
        grads[f"W{l}"] = A_in.T @ dZ / n
        grads[f"b{l}"] = dZ.mean(axis=0)
        if l > 1:
            dZ = (dZ @ params[f"W{l}"].T) * (cache[l - 2][1] > 0)
    return loss, grads


def sharpness_by_lanczos(params, X, y):
    """λ_max by scipy's Lanczos solver on Hessian-vector products taken as central
    differences of the gradient above (independent of optlib's exact products)."""
    from scipy.sparse.linalg import LinearOperator, eigsh

    keys = list(params)
    shapes = [params[k].shape for k in keys]
    cuts = np.cumsum([params[k].size for k in keys])[:-1]
    flat = np.concatenate([params[k].ravel() for k in keys])

    def grad(w):
        parts = np.split(w, cuts)
        g = forward_backward({k: p.reshape(s) for k, p, s in zip(keys, parts, shapes)}, X, y)[1]
        return np.concatenate([g[k].ravel() for k in keys])

    def hv(v):
        eps = 1e-5 / max(np.linalg.norm(v), 1e-300)
        return (grad(flat + eps * v) - grad(flat - eps * v)) / (2 * eps)

    op = LinearOperator((flat.size, flat.size), matvec=hv, dtype=float)
    return eigsh(op, k=1, which="LA", tol=1e-6, v0=np.ones(flat.size))[0][0]
