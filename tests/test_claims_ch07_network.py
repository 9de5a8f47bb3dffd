"""Chapter 7's comparison of AdamW, Lion and Muon on chapter 5's network, recomputed without
optlib's network code and without optlib's optimizers.

The chapter (section "Muon, Lion and AdamW on the network") gives every optimizer the grid
α = 10^-3, 10^-2.5, …, 10^-1, tunes it on the validation split of chapter 6
(``load_digits_split(0.25, seed=0)``, then ``validation_split(fraction=0.2, seed=0)``: 1078
training images, 269 validation) with seeds 0, 1, 2 (the seed is both the start's and the
mini-batch order's), the mean over the seeds of the final validation loss, and chapter 6's
choice (the smallest rate within 2 % of the lowest mean; ``tune_learning_rate``); then trains
seeds 3, 4, 5 at the chosen rate on the training part and tests them once on the test set.
Batches of 64, 10 epochs (170 steps). AdamW with weight decay 0.01 on every parameter; Lion
with 0.1 on every parameter; Muon (decay 0.1) on the two weight matrices and AdamW (0.01) on
the biases at the rate chosen for AdamW (``Partition.by_ndim``).

Here the same runs are trained again with the tests' own numpy network
(``network_reference.forward_backward``, the start ``test_claims_ch05.start``), the mini-batch
order, the divergence rule and the tuning choice of ``test_claims_ch06_network`` (imported from
there), and the three optimizers written again below from their definitions:

* AdamW as torch.optim.AdamW (β = (0.9, 0.999), ε = 1e-8): w ← w(1 − αλ); m ← β₁m + (1−β₁)g;
  v ← β₂v + (1−β₂)g²; w ← w − (α/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε);
* Lion (Chen et al. 2023; β₁ = 0.9, β₂ = 0.99): c = β₁m + (1−β₁)g; w ← w(1 − αλ) − α·sign(c);
  m ← β₂m + (1−β₂)g;
* Muon (Jordan et al. 2024; issue 15's contract = torch.optim.Muon in float64; β = 0.95,
  Nesterov): b ← βb + (1−β)g; u = g + β(b − g); X = u (transposed if it has more rows than
  columns) / max(‖u‖_F, 1e-7); five times A = XXᵀ, X ← aX + (bA + cA²)X with (a, b, c) =
  (3.4445, −4.7750, 2.0315); O = X transposed back; w ← w(1 − αλ) − α·√max(1, rows/cols)·O.

optlib provides only the data. The reference's arithmetic differs from optlib's in the last
bits, so a printed number that survives it does not hang on the last bit.

Every printed number survives it: the 15 mean validation losses at three decimals, the three
chosen rates, and the test accuracies' means, standard deviations and ranges at one decimal.
The closest call is AdamW's mean at α = 0.032, 0.1194991 (printed 0.119), 9.5e-7 below the
rounding boundary; it is not erratic: the run is contracting (its shadow one ulp away ends
within 1e-16 of it, every seed) and optlib's own value agrees with the reference's to 1e-16.
The prose says the rate "with the lowest mean" is chosen, ``tune_learning_rate`` takes the
smallest within 2 % of the lowest; on this table the two are the same rate (tested).
"""

from __future__ import annotations

import functools
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from network_reference import forward_backward
from test_claims_ch05 import start
from test_claims_ch06_network import (accuracy_on_test, chosen, finite, one_blas_thread, split,
                                      val_loss)

CHAPTER = Path(__file__).resolve().parent.parent / "chapters" / "07_edge_and_beyond.ipynb"
GRID = 10.0 ** np.array([-3.0, -2.5, -2.0, -1.5, -1.0])
TUNE_SEEDS, TEST_SEEDS = (0, 1, 2), (3, 4, 5)
EPOCHS, BATCH = 10, 64
DECAY = {"AdamW": 0.01, "Lion": 0.1, "Muon": 0.1}
ROWS = {"AdamW": "AdamW", "Lion": "Lion", "Muon": "Muon + AdamW (biases)"}   # the table's labels
# the hyperparameters the cell leaves at their defaults (checked against optlib's signatures)
ADAMW_BETAS, ADAMW_EPS = (0.9, 0.999), 1e-8
LION_BETAS = (0.9, 0.99)
MUON_BETA, NS_STEPS, NS_COEFFICIENTS, MUON_EPS = 0.95, 5, (3.4445, -4.7750, 2.0315), 1e-7


# --------------------------------------------------------------------------- the optimizers

class AdamW:
    """torch.optim.AdamW on a dict of arrays (the keys given, or all)."""

    def __init__(self, lr, weight_decay, betas=ADAMW_BETAS, eps=ADAMW_EPS, keys=None):
        self.lr, self.wd, self.betas, self.eps, self.keys = lr, weight_decay, betas, eps, keys
        self.t, self.m, self.v = 0, {}, {}

    def step(self, p, g):
        b1, b2 = self.betas
        self.t += 1
        for k in (self.keys or p):
            if k not in self.m:
                self.m[k], self.v[k] = np.zeros_like(p[k]), np.zeros_like(p[k])
            p[k] = p[k] * (1 - self.lr * self.wd)
            self.m[k] = b1 * self.m[k] + (1 - b1) * g[k]
            self.v[k] = b2 * self.v[k] + (1 - b2) * g[k] * g[k]
            denom = np.sqrt(self.v[k]) / math.sqrt(1 - b2 ** self.t) + self.eps
            p[k] = p[k] - self.lr / (1 - b1 ** self.t) * self.m[k] / denom


class Lion:
    """Lion (Chen et al. 2023) on every array of the dict."""

    def __init__(self, lr, weight_decay, beta1=LION_BETAS[0], beta2=LION_BETAS[1]):
        self.lr, self.wd, self.beta1, self.beta2 = lr, weight_decay, beta1, beta2
        self.m = {}

    def step(self, p, g):
        for k in p:
            m = self.m.get(k, np.zeros_like(p[k]))
            c = self.beta1 * m + (1 - self.beta1) * g[k]
            p[k] = p[k] * (1 - self.lr * self.wd) - self.lr * np.sign(c)
            self.m[k] = self.beta2 * m + (1 - self.beta2) * g[k]


def newton_schulz(u, steps=NS_STEPS, coefficients=NS_COEFFICIENTS, eps=MUON_EPS):
    """The orthogonalised u: X = u (or uᵀ if taller than wide) / max(‖u‖_F, eps), then
    ``steps`` times A = XXᵀ, X ← aX + (bA + cA²)X; transposed back."""
    a, b, c = coefficients
    tall = u.shape[0] > u.shape[1]
    X = (u.T if tall else u) / max(np.sqrt(np.sum(u * u)), eps)
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if tall else X


class MuonAdamW:
    """Muon (Nesterov, β = 0.95) on the 2-D arrays, AdamW at ``bias_lr`` on the others."""

    def __init__(self, lr, weight_decay, bias_lr, bias_decay, beta=MUON_BETA,
                 coefficients=NS_COEFFICIENTS):
        self.lr, self.wd, self.beta, self.coefficients = lr, weight_decay, beta, coefficients
        self.b = {}
        self.bias_lr, self.bias_decay, self.others = bias_lr, bias_decay, None

    def step(self, p, g):
        if self.others is None:
            self.others = AdamW(self.bias_lr, self.bias_decay,
                                keys=[k for k in p if p[k].ndim != 2])
        for k in p:
            if p[k].ndim != 2:
                continue
            b = self.b.get(k, np.zeros_like(p[k]))
            b = self.b[k] = self.beta * b + (1 - self.beta) * g[k]
            u = g[k] + self.beta * (b - g[k])
            rows, cols = p[k].shape
            O = newton_schulz(u, coefficients=self.coefficients)
            p[k] = p[k] * (1 - self.lr * self.wd) - self.lr * math.sqrt(max(1, rows / cols)) * O
        self.others.step(p, g)


# --------------------------------------------------------------------------- the runs

def train(make, seed, shadow=False):
    """``make()``'s optimizer from start(seed), with optlib's mini-batch order for ``seed``
    (one ``default_rng(seed)``, one permutation per epoch, consecutive batches of 64); the
    parameters at the end, or None if the run diverged (chapter 6's rule). ``shadow``: start
    one ulp above every non-zero entry."""
    X, y = split()[:2]
    p = start(seed)
    if shadow:
        p = {k: np.where(v != 0, np.nextafter(v, np.inf), v) for k, v in p.items()}
    opt = make()
    rng = np.random.default_rng(seed)
    n = len(y)
    with np.errstate(all="ignore"), one_blas_thread():
        for _ in range(EPOCHS):
            order = rng.permutation(n)
            for i in range(0, n, BATCH):
                idx = order[i:i + BATCH]
                loss, grads = forward_backward(p, X[idx], y[idx])
                if not finite(loss, grads):
                    return None
                opt.step(p, grads)
            if not finite(forward_backward(p, X, y)[0]):
                return None
    return p


def factories(name, bias_lr=None, **defect):
    """lr -> a fresh optimizer, as the chapter's cell makes ``name``'s."""
    if name == "AdamW":
        return lambda a: AdamW(a, DECAY["AdamW"], **defect)
    if name == "Lion":
        return lambda a: Lion(a, DECAY["Lion"], **defect)
    return lambda a: MuonAdamW(a, DECAY["Muon"], bias_lr=bias_lr, bias_decay=DECAY["AdamW"],
                               **defect)


@functools.cache
def tuning(name, shadow=False):
    """(seeds × rates) final validation losses of ``name`` on the grid."""
    bias_lr = GRID[chosen(tuning("AdamW").mean(axis=0), GRID)] if name == "Muon" else None
    make = factories(name, bias_lr)
    return np.array([[val_loss(train(lambda: make(a), s, shadow)) for a in GRID]
                     for s in TUNE_SEEDS])


def best(name) -> float:
    return GRID[chosen(tuning(name).mean(axis=0), GRID)]


@functools.cache
def accuracies(name, shadow=False) -> np.ndarray:
    """Test accuracies (in %) of seeds 3, 4, 5 at the chosen rate."""
    bias_lr = best("AdamW") if name == "Muon" else None
    make = factories(name, bias_lr)
    return np.array([100 * accuracy_on_test(train(lambda: make(best(name)), s, shadow))
                     for s in TEST_SEEDS])


# --------------------------------------------------------------------------- the chapter's text

def cell():
    """(source, stored output) of the code cell that prints the table."""
    for c in json.loads(CHAPTER.read_text(encoding="utf-8"))["cells"]:
        text = "".join("".join(o.get("text", "")) for o in c.get("outputs", []))
        if c["cell_type"] == "code" and "Muon + AdamW (biases)" in text:
            return "".join(c["source"]), text
    raise AssertionError("no cell prints the comparison")


def row(name):
    """The printed row of ``name``: (5 loss cells, chosen α, mean, sd, low, high), as strings."""
    text = cell()[1]
    m = re.search(rf"^{re.escape(ROWS[name])}\s+((?:\S+\s+){{5}})(\S+)\s+(\S+) % ± (\S+) %\s+"
                  rf"(\S+)–(\S+) %$", text, re.M)
    assert m, name
    return (tuple(m.group(1).split()), *m.groups()[1:])


def test_the_cell_runs_what_this_file_recomputes():
    """The settings above are the cell's: the grid, seeds, batches, epochs and decays."""
    source, text = cell()
    flat = " ".join(source.split())
    for piece in ("load_digits_split(test_fraction=0.25, seed=0)",
                  "validation_split(data, fraction=0.2, seed=0)",
                  "Digits(part.X_train, part.y_train, data.X_test, data.y_test)",
                  f"EPOCHS, BATCH = {EPOCHS}, {BATCH}",
                  "GRID = 10.0 ** np.arange(-3, -0.9, 0.5)",
                  f"seeds={TUNE_SEEDS}", f"seeds={TEST_SEEDS}",
                  f"AdamW(lr=a, weight_decay={DECAY['AdamW']})",
                  f"Lion(lr=a, weight_decay={DECAY['Lion']})",
                  "bias_lr = net[\"AdamW\"][0].best_lr",
                  f"matrices=Muon(lr=a, weight_decay={DECAY['Muon']}), "
                  f"others=AdamW(lr=bias_lr, weight_decay={DECAY['AdamW']})"):
        assert piece in flat, piece
    assert np.array_equal(GRID, 10.0 ** np.arange(-3, -0.9, 0.5))
    # what the cell leaves at optlib's defaults (the signatures only; nothing of optlib runs)
    import inspect

    import optlib

    defaults = {c.__name__: {k: v.default for k, v in inspect.signature(c).parameters.items()}
                for c in (optlib.AdamW, optlib.Lion, optlib.Muon)}
    assert (defaults["AdamW"]["beta1"], defaults["AdamW"]["beta2"]) == ADAMW_BETAS
    assert defaults["AdamW"]["eps"] == ADAMW_EPS and defaults["AdamW"]["amsgrad"] is False
    assert (defaults["Lion"]["beta1"], defaults["Lion"]["beta2"]) == LION_BETAS
    muon = defaults["Muon"]
    assert (muon["beta"], muon["nesterov"], muon["ns_steps"], tuple(muon["ns_coefficients"]),
            muon["eps"], muon["adjust_lr"]) == (MUON_BETA, True, NS_STEPS, NS_COEFFICIENTS,
                                                MUON_EPS, "original")
    assert all(d["schedule"] is None for d in defaults.values())
    assert "batches of 64, 10 epochs = 170 steps" in text
    assert EPOCHS * -(-len(split()[1]) // BATCH) == 170


# --------------------------------------------------------------------------- the numbers

@pytest.mark.parametrize("name", ["AdamW", "Lion", "Muon"])
def test_chosen_rate_recomputed(name):
    """The chosen α as printed; it is also the grid's lowest mean (the prose's words)."""
    mean = tuning(name).mean(axis=0)
    assert f"{best(name):.2g}" == row(name)[1]
    assert best(name) == GRID[np.argmin(mean)]


@pytest.mark.parametrize("name", ["AdamW", "Lion", "Muon"])
def test_validation_losses_recomputed(name):
    """Every printed mean validation loss at three decimals; no cell printed *erratic* or —."""
    cells = row(name)[0]
    assert tuple(f"{v:.3f}" for v in tuning(name).mean(axis=0)) == cells


@pytest.mark.parametrize("name", ["AdamW", "Lion", "Muon"])
def test_test_accuracies_recomputed(name):
    """Mean ± sd (population, as ``np.std``) and range of seeds 3–5's test accuracies."""
    acc = accuracies(name)
    _, _, mean, sd, low, high = row(name)
    assert (f"{acc.mean():.1f}", f"{acc.std():.1f}", f"{acc.min():.1f}",
            f"{acc.max():.1f}") == (mean, sd, low, high)


def test_the_choices_do_not_hang_on_the_last_bit():
    """The chapter's last line: from a start one ulp away every chosen α is the same, and the
    test runs end with the same accuracies (here with the reference's own arithmetic)."""
    for name in ("AdamW", "Lion", "Muon"):
        assert GRID[chosen(tuning(name, shadow=True).mean(axis=0), GRID)] == best(name), name
        assert np.array_equal(accuracies(name, shadow=True), accuracies(name)), name


# --------------------------------------------------------------------------- the prose

def test_muon_highest_lion_lowest_and_the_ranges_do_not_overlap():
    """'Muon on the weight matrices gives the highest mean test accuracy … and Lion is lowest;
    the three seeds of each lie in ranges that do not overlap.'"""
    acc = {name: accuracies(name) for name in ("Lion", "AdamW", "Muon")}
    assert acc["Lion"].mean() < acc["AdamW"].mean() < acc["Muon"].mean()
    assert acc["Lion"].max() < acc["AdamW"].min() and acc["AdamW"].max() < acc["Muon"].min()


def test_lion_chose_a_rate_ten_times_smaller_with_steep_rises_on_both_sides():
    """'Lion chose an α ten times smaller than AdamW's … and Lion's validation loss rises
    steeply on both sides of its choice' (steeply: by more than half on each side)."""
    assert math.isclose(best("AdamW") / best("Lion"), 10.0, rel_tol=1e-12)
    mean = tuning("Lion").mean(axis=0)
    j = chosen(mean, GRID)
    assert 0 < j < len(GRID) - 1
    assert mean[j - 1] > 1.5 * mean[j] and mean[j + 1] > 1.5 * mean[j]
