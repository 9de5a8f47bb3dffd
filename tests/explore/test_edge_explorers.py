"""Chapter 7's explorations (``EdgeExplorer``, ``NewtonSchulzExplorer``): what they draw and
print equals an independent computation, in the frames, the static view and the live widget.

The independent computation for the edge of stability is the tests' own network
(``network_reference.forward_backward``, not optlib's), the update rules written out here
(gradient descent, EMA momentum, Adam as torch writes it), and the sharpness as the top
eigenvalue of a dense Hessian built from central differences of that gradient (for Adam, of
P⁻¹H with Cohen et al.'s P, rebuilt from the moments written out here). For the
Newton–Schulz polynomial it is the polynomial composed K times in plain numpy, the matrix
iteration X ← aX + (bA + cA²)X run here on matrices with chosen singular values, and a grid
of a million points for the range of the outputs.

The default edge exploration (12 full-batch runs of 400 steps, about 10 s, and as much again
for the shadows) is built once, with ``shadow=True``: its readouts are what the chapter
prints, and it is where reproducibility is checked.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pytest
from explore.test_static import check_static_frame, spec_of, strip_tags
from learner_settings import assert_raises_naming, strict
from network_reference import forward_backward

import optlib
from optlib import Adam, GradientDescent, Lion, Momentum
from optlib.explore import EdgeExplorer, NewtonSchulzExplorer, NS_COEFFICIENTS, edge_optimizers
from optlib.explore.model import readout_text
from optlib.network import MLP
from optlib.plotting import COLORS, NEUTRAL

MUON = "Muon (3.4445, −4.775, 2.0315)"
CUBIC = "cubic (1.5, −0.5, 0)"
QUINTIC = "quintic (1.875, −1.25, 0.375)"


# --------------------------------------------------------------------------- independent
def contrast(a, b) -> float:
    """WCAG 2.1 contrast ratio of two colours."""
    from matplotlib.colors import to_rgb

    def luminance(color):
        c = np.asarray(to_rgb(color), dtype=float)
        c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def flat(params, keys):
    return np.concatenate([params[k].ravel() for k in keys])


def own_hessian(params, X, y) -> np.ndarray:
    """The dense Hessian by central differences of the reference gradient."""
    keys = list(params)
    shapes = [params[k].shape for k in keys]
    cuts = np.cumsum([params[k].size for k in keys])[:-1]
    w = flat(params, keys)

    def grad(v):
        parts = np.split(v, cuts)
        g = forward_backward({k: p.reshape(s) for k, p, s in zip(keys, parts, shapes)}, X, y)[1]
        return flat(g, keys)

    h = 1e-5
    columns = [(grad(w + h * e) - grad(w - h * e)) / (2 * h) for e in np.eye(w.size)]
    H = np.array(columns).T
    return (H + H.T) / 2


def top(matrix) -> float:
    """The eigenvalue of largest magnitude (what power iteration finds)."""
    eig = np.linalg.eigvals(matrix)
    return float(eig[np.argmax(np.abs(eig))].real)


def own_run(kind, lr, params, X, y, steps, every):
    """Full-batch training written out: losses (steps + 1) and the sharpness at 0, every, ...
    (and at ``steps``); for Adam the preconditioned one (nan at step 0)."""
    params = {k: v.copy() for k, v in params.items()}
    keys = list(params)
    measured = sorted(set(range(0, steps + 1, every)) | {steps})
    m = {k: np.zeros_like(v) for k, v in params.items()}
    s = {k: np.zeros_like(v) for k, v in params.items()}
    losses, sharp = [], []
    for t in range(steps + 1):
        loss, grads = forward_backward(params, X, y)
        losses.append(loss)
        if t in measured:
            H = own_hessian(params, X, y)
            if kind == "adam":
                if t == 0:
                    sharp.append(np.nan)
                else:
                    P = (1 - 0.9 ** t) * (np.sqrt(flat(s, keys) / (1 - 0.999 ** t)) + 1e-8)
                    sharp.append(top(H / P[:, None]))
            else:
                sharp.append(top(H))
        if t == steps:
            break
        for k in keys:
            g = grads[k]
            if kind == "gd":
                params[k] = params[k] - lr * g
            elif kind == "momentum":
                m[k] = 0.9 * m[k] + 0.1 * g
                params[k] = params[k] - lr * m[k]
            else:
                m[k] = 0.9 * m[k] + 0.1 * g
                s[k] = 0.999 * s[k] + 0.001 * g * g
                n = t + 1
                params[k] = params[k] - lr * (m[k] / (1 - 0.9 ** n)) / (
                    np.sqrt(s[k] / (1 - 0.999 ** n)) + 1e-8)
    return np.array(losses), np.array(measured), np.array(sharp)


def own_threshold(kind, lr) -> float:
    return 2 / lr if kind == "gd" else 2 * 1.9 / (0.1 * lr)      # β = β₁ = 0.9: 38/α


def own_map(s, k, abc):
    """φ composed k times, φ(σ) = aσ + bσ³ + cσ⁵, written with powers."""
    a, b, c = abc
    out = np.array(s, dtype=float)
    for _ in range(k):
        out = a * out + b * out ** 3 + c * out ** 5
    return out


def own_matrix_iteration(x, k, abc):
    """X ← aX + (bA + cA²)X with A = XXᵀ, k times (X has no more rows than columns)."""
    a, b, c = abc
    for _ in range(k):
        A = x @ x.T
        x = a * x + (b * A + c * A @ A) @ x
    return x


# --------------------------------------------------------------------------- a small edge case
KINDS = {"GD": ("gd", 1.5), "momentum": ("momentum", 6.0), "Adam": ("adam", 0.05)}
SCALES = (0.5, 1.0, 2.0)
STEPS, EVERY = 24, 6


def small_data():
    rng = np.random.default_rng(3)
    X = rng.random((40, 4))
    y = rng.integers(0, 3, size=40)
    return X, y


def small_model():
    return MLP(sizes=(4, 6, 3), seed=1)


def small_factories():
    return {"GD": lambda: GradientDescent(lr=1.5),
            "momentum": lambda: Momentum(lr=6.0, beta=0.9),
            "Adam": lambda: Adam(lr=0.05)}


_built: dict = {}


def small_edge() -> EdgeExplorer:
    if "edge" not in _built:
        _built["edge"] = EdgeExplorer(small_model(), small_data(), scales=SCALES,
                                      optimizers=small_factories(), steps=STEPS, every=EVERY,
                                      iters=3000, tol=1e-12, name="edge_test")
    return _built["edge"]


def small_expected(values) -> dict:
    """What the small EdgeExplorer must draw for these slider values, computed without it."""
    labels = list(KINDS)
    chosen = labels[int(values["optimizer"])]
    X, y = small_data()
    out = {}
    for label in labels:
        if label != chosen:
            out[f"sharpness:{label}"] = ([], [])
            out[f"loss:{label}"] = ([], [])
            continue
        kind, base = KINDS[label]
        lr = base * values["scale"]
        losses, measured, sharp = own_run(kind, lr, small_model().init_params(), X, y,
                                          STEPS, EVERY)
        out[f"sharpness:{label}"] = (measured, sharp)
        out[f"loss:{label}"] = (np.arange(STEPS + 1), losses)
        out["threshold"] = ([0, STEPS], [own_threshold(kind, lr)] * 2)
    return out


_expected_cache: dict = {}


def expected_of(values) -> dict:
    key = tuple(sorted(values.items()))
    if key not in _expected_cache:
        _expected_cache[key] = small_expected(values)
    return _expected_cache[key]


def assert_close(data, expected, where, rtol):
    assert set(data) == set(expected), where
    for name, (x, y) in expected.items():
        for got, want in ((data[name][0], x), (data[name][1], y)):
            np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float),
                                       rtol=rtol, atol=1e-12, equal_nan=True,
                                       err_msg=f"{name} at {where}")


def test_edge_frames_equal_the_training_written_out_and_dense_hessians():
    ex = small_edge()
    assert ex.shape == (3, 3)
    for index in np.ndindex(*ex.shape):
        values = ex.values(index)
        data, _ = ex.frame(index)
        want = expected_of(values)
        # the losses to rounding, the sharpness to the power iteration's accuracy
        for name in data:
            rtol = 1e-5 if name.startswith("sharpness") else 1e-9
            assert_close({name: data[name]}, {name: want[name]}, str(values), rtol)


def test_edge_static_frames_draw_the_independent_values():
    ex = small_edge()
    frames = ex.static_frames()
    assert len(frames) == 9
    compared = 0
    for index in np.ndindex(*ex.shape):
        ex._use_background(index[0])          # the transforms of that optimizer's background
        compared += check_static_frame(ex, frames, index, expected_of(ex.values(index)))
        stored = frames[int(np.ravel_multi_index(index, ex.shape))]["readout"]
        assert stored == ex.frame(index)[1]
        for s, i in zip(ex.sliders, index):
            assert f"{s.label} = {s.text(i)}" in strip_tags(stored)
    assert compared >= 9 * (STEPS + 1)


def summary_text(kind, lr, steps, every) -> dict:
    """The readout's numbers from the independent run."""
    X, y = small_data()
    losses, measured, sharp = own_run(kind, lr, small_model().init_params(), X, y, steps, every)
    ratio = sharp / own_threshold(kind, lr)
    half = ratio[(measured >= steps / 2) & np.isfinite(ratio)]
    hits = np.flatnonzero(np.nan_to_num(ratio) >= 0.9)
    rises = int(sum(b > a * (1 + 1e-9) for a, b in zip(losses[:-1], losses[1:])))
    return {"median": np.median(half), "low": half.min(), "high": half.max(),
            "first": int(measured[hits[0]]) if hits.size else -1, "loss0": losses[0],
            "loss": losses[-1], "rises": rises, "threshold": own_threshold(kind, lr)}


def test_edge_readout_gives_the_ratio_over_the_second_half_the_first_edge_and_the_loss():
    ex = small_edge()
    pattern = re.compile(r"second half \| median ([\d.]+), from ([\d.]+) to ([\d.]+) "
                         r"\(steps (\d+)–(\d+)\)")
    for index in np.ndindex(*ex.shape):
        values = ex.values(index)
        label = list(KINDS)[index[0]]
        kind, base = KINDS[label]
        lr = base * values["scale"]
        want = summary_text(kind, lr, STEPS, EVERY)
        text = readout_text(ex.frame(index)[1])
        assert text.startswith(f"{ex.setting(index)}: α = {lr:.3g}, {STEPS} full-batch steps"),\
            text
        sharp = "λ_max(P⁻¹H)" if kind == "adam" else "λ_max(H)"
        formula = {"gd": "2/α", "momentum": "2(1+β)/((1−β)α)", "adam": "(2+2β₁)/((1−β₁)α)"}
        ex._use_background(index[0])
        above = want["threshold"] > ex.figure.axes[0].get_ylim()[1]
        assert (f"threshold {formula[kind]} | {want['threshold']:.3g}"
                + (" (above the top of the panel) |" if above else " |")) in text, text
        found = pattern.search(text)
        assert found, text
        for got, key in zip(found.groups()[:3], ("median", "low", "high")):
            assert abs(float(got) - want[key]) <= 0.006, (text, key, want[key])
        assert found.groups()[3:] == (str(STEPS - STEPS // 2), str(STEPS))
        first = f"step {want['first']}" if want["first"] >= 0 else "never"
        assert f"{sharp} / threshold first ≥ 0.9 | {first}" in text, (text, want)
        assert (f"loss | {want['loss0']:.3g} → {want['loss']:.3g}, rose at {want['rises']} of "
                f"{STEPS} steps") in text, (text, want)


def test_edge_readout_reports_a_divergence():
    X, y = small_data()
    ex = EdgeExplorer(small_model(), (X, y), scales=(1.0, 200.0),
                      optimizers={"GD": lambda: GradientDescent(lr=1.5)}, steps=12, every=4,
                      max_loss=50.0)
    # the tests' own loop: the step at which the loss first exceeds 50 or is not finite
    params = small_model().init_params()
    stop = -1
    with np.errstate(all="ignore"):
        for t in range(13):
            loss, grads = forward_backward(params, X, y)
            if not np.isfinite(loss) or loss > 50.0:
                stop = t
                break
            params = {k: params[k] - 300.0 * grads[k] for k in params}
    assert stop > 0
    text = readout_text(ex.frame((1,))[1])
    assert f"loss | diverged at step {stop} (loss above 50 or not finite)" in text, text
    assert ex.shape == (2,) and [s.name for s in ex.sliders] == ["scale"]   # no dropdown
    assert "loss | " in readout_text(ex.frame((0,))[1]) and "diverged" not in readout_text(
        ex.frame((0,))[1])


def test_edge_every_frame_shows_under_strict_float_settings():
    ex = small_edge()
    with strict():
        for index in np.ndindex(*ex.shape):
            ex.update(index)
            ex.render()


def test_edge_colours_legend_and_page():
    ex = small_edge()
    assert ex._artists["sharpness:GD"].get_color() == COLORS["GradientDescent"]
    assert ex._artists["loss:momentum"].get_color() == COLORS["Momentum"]
    assert ex._artists["sharpness:Adam"].get_color() == COLORS["Adam"]
    assert [e["label"] for e in ex.legend()] == ["stability threshold", "GD", "momentum",
                                                 "Adam"]
    for e in ex.legend():
        assert contrast(e["color"], "white") >= 3.0, e
    assert all(ax.get_legend() is None for ax in ex.figure.axes)
    assert optlib.plotting.legibility_problems(ex.figure) == []
    page = ex.static_html()
    spec = spec_of(page)
    assert spec["sizes"] == [3, 3] and spec["background"] == 0
    assert len(spec["images"]) == 3                  # one background per optimizer
    assert 'aria-valuetext="α/α₀ = 1"' in page and 'role="status"' in page
    assert '<select data-name="optimizer" aria-label="optimizer">' in page
    # each optimizer's background has its own axis label
    ylabels = []
    for k in range(3):
        ex._show_background(k)
        ylabels.append(ex.figure.axes[0].get_ylabel())
    ex._show_background(ex._shown_background)
    assert ylabels == [r"$\lambda_{\max}(H)$", r"$\lambda_{\max}(H)$",
                       r"$\lambda_{\max}(P^{-1}H)$"]


def test_the_first_path_is_drawn_and_moves_with_every_control():
    """The static view's first path (what the browser test watches) is the threshold: drawn
    at every rate ≥ α₀ of every optimizer, and moved by each slider and by the dropdown."""
    ex = small_edge()
    frames = ex.static_frames()
    assert list(ex._artists)[0] == "threshold"
    first = {index: frames[int(np.ravel_multi_index(index, ex.shape))]["lines"][0]
             for index in np.ndindex(*ex.shape)}
    for (k, i), text in first.items():
        if SCALES[i] >= 1.0:
            assert len(optlib.explore.decode(text)) == 1, (k, i)
    assert first[(0, 1)] != first[(0, 2)] and first[(0, 1)] != first[(1, 1)]


def test_edge_live_widget_updates_the_artists_to_the_independent_frames():
    pytest.importorskip("ipywidgets")
    ex = EdgeExplorer(small_model(), small_data(), scales=SCALES, optimizers=small_factories(),
                      steps=STEPS, every=EVERY, iters=3000, tol=1e-12)
    view = ex.widget()
    artists = dict(ex._artists)
    for name, value in (("scale", 2.0), ("optimizer", 2), ("scale", 0.5)):
        i = [s.name for s in ex.sliders].index(name)
        k = ex.sliders[i].values.index(value)
        assert view.controls[i].value != k, "the move must change the slider"
        png, readout = view.image.value, view.readout.value
        view.controls[i].value = k
        index = tuple(c.value for c in view.controls)
        want = expected_of(ex.values(index))
        for n, artist in artists.items():
            assert ex._artists[n] is artist
            rtol = 1e-5 if n.startswith("sharpness") else 1e-9
            assert_close({n: artist.get_data()}, {n: want[n]}, str(ex.values(index)), rtol)
        assert view.image.value != png
        assert view.readout.value == ex.frame(index)[1] != readout
        assert view.status.value == ""


# --------------------------------------------------------------------------- the default
@pytest.fixture(scope="module")
def default_edge():
    """The chapter's exploration, with every run's shadow (one ulp away)."""
    return EdgeExplorer(shadow=True)


def test_the_default_grid_is_the_chapters_setting(default_edge):
    ex = default_edge
    assert ex.labels == list(edge_optimizers()) and ex.scales == (0.5, 1.0, 1.4, 2.0)
    assert ex.base_lrs == {"gradient descent": 0.5, "momentum (β = 0.9)": 5.0, "Adam": 0.1}
    assert ex.steps == 400 and ex.every == 10
    assert [s.name for s in ex.sliders] == ["optimizer", "scale"]
    assert ex.sliders[1].text(ex.sliders[1].start_index) == "1"
    run = ex.runs["gradient descent"][1]
    assert run.loss.shape == (401,) and run.measured_at.tolist() == list(range(0, 401, 10))


def test_the_default_runs_do_not_depend_on_the_last_bit(default_edge):
    """Every run's shadow gives the same readout, and draws its curves within 0.01 pixels of
    the run's (the static page stores tenths of a pixel); loss and sharpness differ by less
    than 1e-4 (relative). Measured: at most 1.4e-3 px, 7.6e-6 and 1.7e-5 (Adam, α = 0.14);
    below 1e-6 everywhere else."""
    ex = default_edge
    for label in ex.labels:
        k = ex.labels.index(label)
        ex._use_background(k)
        ax_sharp, ax_loss = ex.figure.axes[:2]
        for i, (run, twin) in enumerate(zip(ex.runs[label], ex.shadows[label])):
            assert not ex.erratic[label][i]
            for ax, x, a, b in ((ax_loss, np.arange(ex.steps + 1), run.loss, twin.loss),
                                (ax_sharp, run.measured_at, run.edge, twin.edge)):
                ok = np.isfinite(a)
                assert np.array_equal(ok, np.isfinite(b))
                assert np.max(np.abs(a[ok] - b[ok]) / np.abs(a[ok])) < 1e-4, (label, i)
                pa = ax.transData.transform(np.column_stack([x[ok], a[ok]]))
                pb = ax.transData.transform(np.column_stack([x[ok], b[ok]]))
                ratio = ex.figure.canvas.device_pixel_ratio
                assert np.max(np.abs(pa - pb)) / ratio < 0.01, (label, i)
            index = (k, i)
            text = readout_text(ex.frame(index)[1])
            assert "erratic" not in text
            # the readout of the shadow, as the exploration would print it
            saved = ex.runs[label][i]
            ex.runs[label][i] = twin
            try:
                assert readout_text(ex.frame(index)[1]) == text, (label, i)
            finally:
                ex.runs[label][i] = saved


def test_the_default_runs_sit_at_their_edge(default_edge):
    """Cohen et al.'s edge on the chapter's network: at α₀ and above every optimizer reaches
    0.9 of its threshold and its median ratio over the second half lies in [0.85, 1.05]; at
    α₀/2 gradient descent and momentum stay well below (median < 0.6)."""
    ex = default_edge
    for label in ex.labels:
        for i, m in enumerate(ex.scales):
            s = ex.summary(label, i)
            assert s["diverged_at"] == -1
            assert s["loss"] < 0.3 * s["loss0"], (label, m)
            if m >= 1.0:
                assert s["first"] >= 0 and 0.85 <= s["median"] <= 1.05, (label, m, s)
                assert s["rises"] > 0, (label, m)
        if label != "Adam":
            assert ex.summary(label, 0)["median"] < 0.6, label


def test_the_chapters_numbers_are_the_records_summarised(default_edge):
    """The readout of every default setting, recomputed from the run's records with the
    thresholds written out (2/α; 2(1+β)/((1−β)α) and (2+2β₁)/((1−β₁)α), both 38/α here)."""
    ex = default_edge
    for k, label in enumerate(ex.labels):
        for i, m in enumerate(ex.scales):
            run = ex.runs[label][i]
            lr = ex.base_lrs[label] * m
            threshold = 2 / lr if k == 0 else 38 / lr
            ratio = run.edge / threshold
            late = ratio[(run.measured_at >= 200) & np.isfinite(ratio)]
            hits = np.flatnonzero(np.nan_to_num(ratio) >= 0.9)
            first = f"step {run.measured_at[hits[0]]}" if hits.size else "never"
            rises = sum(b > a * (1 + 1e-9) for a, b in zip(run.loss[:-1], run.loss[1:]))
            sharp = "λ_max(P⁻¹H)" if label == "Adam" else "λ_max(H)"
            text = readout_text(ex.frame((k, i))[1])
            assert (f"{sharp} / threshold, second half | median {np.median(late):.2f}, from "
                    f"{late.min():.2f} to {late.max():.2f} (steps 200–400)") in text, text
            assert f"{sharp} / threshold first ≥ 0.9 | {first} |" in text, text
            assert (f"loss | {run.loss[0]:.3g} → {run.loss[-1]:.3g}, rose at {rises} of 400 "
                    "steps") in text, text
            ex._use_background(k)
            above = threshold > ex.figure.axes[0].get_ylim()[1]
            assert (f" | {threshold:.3g}" + (" (above the top of the panel) | " if above
                                              else " | ")) in text, text
            assert above == (m < 1.0), (label, m)      # only α₀/2's threshold is off the panel


def test_a_chaotic_rate_is_reported_as_erratic():
    """Gradient descent at α = 1.4 (2.8 α₀): the shadow ends elsewhere; the readout says so
    instead of giving numbers, and the shadow's curves differ by more than 1 %."""
    ex = EdgeExplorer(scales=(2.8,), optimizers={"GD": lambda: GradientDescent(lr=0.5)},
                      shadow=True)
    run, twin = ex.runs["GD"][0], ex.shadows["GD"][0]
    assert np.nanmax(np.abs(run.loss - twin.loss) / run.loss) > 0.01
    assert ex.erratic["GD"] == [True]
    text = readout_text(ex.frame((0,))[1])
    assert "erratic: a start one ulp away gives another run" in text
    assert "median" not in text and "rose at" not in text


# --------------------------------------------------------------------------- Newton–Schulz
def ns() -> NewtonSchulzExplorer:
    if "ns" not in _built:
        _built["ns"] = NewtonSchulzExplorer()
    return _built["ns"]


def ns_expected(values) -> dict:
    ex = ns()
    key = list(NS_COEFFICIENTS)[int(values["coefficients"])]
    k = int(values["steps"])
    x_lin, _ = ex.frame((0, 0))[0]["map"]
    x_log, _ = ex.frame((0, 0))[0]["map_log"]
    # the grids: [0, 1] evenly plus the first thousandths, and 1e-6..1 evenly in log σ
    assert np.all(np.diff(x_lin) > 0) and x_lin[0] == 0 and x_lin[-1] == 1
    assert np.allclose(np.diff(np.log(x_log)), np.log(1e6) / (len(x_log) - 1))
    abc = NS_COEFFICIENTS[key]
    return {"map": (x_lin, own_map(x_lin, k, abc)), "map_log": (x_log, own_map(x_log, k, abc))}


def test_ns_frames_are_the_polynomial_composed_k_times():
    ex = ns()
    assert ex.shape == (3, 11)
    assert [ex.sliders[0].text(k) for k in range(3)] == [MUON, CUBIC, QUINTIC]
    assert ex.sliders[0].text(ex.sliders[0].start_index) == MUON
    assert ex.sliders[1].text(ex.sliders[1].start_index) == "5"
    for index in np.ndindex(*ex.shape):
        values = ex.values(index)
        assert_close(ex.frame(index)[0], ns_expected(values), str(values), 1e-12)


def test_ns_curve_is_what_the_matrix_iteration_does_to_singular_values():
    """A 6×9 matrix with singular values σ on the curve's grid and random singular vectors:
    after K steps of the matrix iteration its singular values are the curve at those σ."""
    ex = ns()
    rng = np.random.default_rng(0)
    x_lin = ex.frame((0, 0))[0]["map"][0]
    sigma = x_lin[[40, 80, 120, 160, 200, 230]]           # 6 grid values in (0, 1]
    U, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    V, _ = np.linalg.qr(rng.normal(size=(9, 9)))
    X0 = U @ np.diag(sigma) @ V[:, :6].T
    for j, key in enumerate(NS_COEFFICIENTS):
        for k in (1, 3, 5, 10):
            out = np.linalg.svd(own_matrix_iteration(X0, k, NS_COEFFICIENTS[key]),
                                compute_uv=False)
            curve = ex.frame((j, ex.steps.index(k)))[0]["map"][1]
            at = np.searchsorted(x_lin, sigma)
            np.testing.assert_allclose(np.sort(out), np.sort(np.abs(curve[at])), rtol=1e-9,
                                       atol=1e-12, err_msg=f"{key}, K = {k}")


def test_ns_readout_gives_the_range_over_s_min_to_1():
    """Against a grid of a million points (half even in σ, half even in log σ)."""
    ex = ns()
    s = np.unique(np.concatenate([np.linspace(0.01, 1, 500_000),
                                  np.geomspace(0.01, 1, 500_000)]))
    for index in np.ndindex(*ex.shape):
        key = list(NS_COEFFICIENTS)[index[0]]
        k = ex.steps[index[1]]
        abc = NS_COEFFICIENTS[key]
        out = own_map(s, k, abc)
        low, high = out.min(), out.max()
        np.testing.assert_allclose(ex.ranges[key][index[1]], [low, high], rtol=1e-6)
        text = html.unescape(readout_text(ex.frame(index)[1]))
        far = max(1 - low, high - 1)
        assert text == (f"coefficients = {key}, K = {k}: every σ in [0.01, 1] comes out in "
                        f"[{low:.3g}, {high:.3g}], at most {far:.3g} from 1; a small σ is "
                        f"multiplied by aᴷ = {abc[0] ** k:.3g}"), text


def test_ns_what_the_chapter_says_of_the_three_sets():
    """Muon's five steps leave the outputs in about [0.68, 1.13] however many steps follow;
    the cubic and quintic converge to exactly 1 (ten quintic steps: within 1e-9), but after
    five steps still map σ = 0.01 below 0.25."""
    ex = ns()
    k5, k10 = ex.steps.index(5), ex.steps.index(10)
    for k in (k5, k10):
        np.testing.assert_allclose(ex.ranges[MUON][k], [0.6818, 1.1344], atol=5e-5)
    assert ex.ranges[QUINTIC][k10][0] > 1 - 1e-9 and ex.ranges[QUINTIC][k10][1] <= 1 + 1e-12
    assert ex.ranges[CUBIC][k10][1] <= 1 + 1e-12 and ex.ranges[CUBIC][k10][0] > 0.5
    assert ex.ranges[CUBIC][k5][0] < 0.25 and ex.ranges[QUINTIC][k5][0] < 0.25


def test_ns_static_frames_draw_the_independent_values():
    ex = ns()
    frames = ex.static_frames()
    compared = 0
    for index in np.ndindex(*ex.shape):
        compared += check_static_frame(ex, frames, index, ns_expected(ex.values(index)))
        stored = frames[int(np.ravel_multi_index(index, ex.shape))]["readout"]
        assert stored == ex.frame(index)[1]
        for s, i in zip(ex.sliders, index):
            assert f"{s.label} = {s.text(i)}" in strip_tags(stored)
    assert compared >= 33 * 300


def test_ns_page_legend_and_colours():
    ex = ns()
    page = ex.static_html()
    assert 'aria-valuetext="K = 5"' in page and 'role="status"' in page
    assert '<select data-name="coefficients" aria-label="coefficients">' in page
    labels = [e["label"] for e in ex.legend()]
    assert labels == ["1 (orthogonal)", "σₘᵢₙ = 0.01", "input (K = 0)",
                      "φᴷ(σ) after K steps"], labels
    assert ex._artists["map"].get_color() == COLORS.get("Muon", NEUTRAL[0])
    for e in ex.legend():
        assert contrast(e["color"], "white") >= 3.0, e
    assert all(ax.get_legend() is None for ax in ex.figure.axes)
    assert optlib.plotting.legibility_problems(ex.figure) == []
    with strict():
        for index in np.ndindex(*ex.shape):
            ex.update(index)
            ex.render()


def test_ns_live_widget_updates_the_curves():
    ipywidgets = pytest.importorskip("ipywidgets")
    ex = NewtonSchulzExplorer(steps=(0, 1, 5, 10))
    view = ex.widget()
    assert isinstance(view.controls[0], ipywidgets.Dropdown)
    for name, value in (("steps", 10.0), ("coefficients", 2), ("steps", 1.0)):
        i = [s.name for s in ex.sliders].index(name)
        k = ex.sliders[i].values.index(value)
        assert view.controls[i].value != k
        png = view.image.value
        view.controls[i].value = k
        index = tuple(c.value for c in view.controls)
        values = ex.values(index)
        abc = list(NS_COEFFICIENTS.values())[int(values["coefficients"])]
        x, y = ex._artists["map"].get_data()
        np.testing.assert_allclose(y, own_map(x, int(values["steps"]), abc), rtol=1e-12)
        assert view.image.value != png
        assert view.readout.value == ex.frame(index)[1]


def test_ns_coefficients_of_ones_own():
    ex = NewtonSchulzExplorer({"halve": (0.5, 0.0, 0.0)}, steps=(0, 2), s_min=0.1)
    np.testing.assert_allclose(ex.ranges["halve"], [[0.1, 1.0], [0.025, 0.25]])
    assert "at most 0.975 from 1" in readout_text(ex.frame((0, 1))[1])


# --------------------------------------------------------------------------- arguments
BAD_ARGUMENTS = [
    ("edge: model", lambda: EdgeExplorer(model="mlp"), TypeError, ["model", "'mlp'"]),
    ("edge: scales 0", lambda: EdgeExplorer(scales=(0.0, 1.0)), ValueError, ["scales"]),
    ("edge: scales alike", lambda: EdgeExplorer(scales=(1.0, 1.0000001)), ValueError,
     ["scales", "distinct"]),
    ("edge: optimizers list", lambda: EdgeExplorer(optimizers=[GradientDescent]), TypeError,
     ["optimizers"]),
    ("edge: no threshold", lambda: EdgeExplorer(optimizers={"Lion": lambda: Lion(lr=0.01)}),
     TypeError, ["optimizers['Lion']()", "Lion"]),
    ("edge: schedule", lambda: EdgeExplorer(optimizers={"GD": lambda: GradientDescent(
        lr=0.5, schedule=optlib.schedules.Cosine(10))}), ValueError,
     ["optimizers['GD']()", "schedule"]),
    ("edge: steps 0", lambda: EdgeExplorer(steps=0), ValueError, ["steps=0"]),
    ("edge: every 0", lambda: EdgeExplorer(every=0), ValueError, ["every=0"]),
    ("edge: tol -1", lambda: EdgeExplorer(tol=-1.0), ValueError, ["tol=-1.0"]),
    ("edge: shadow", lambda: EdgeExplorer(shadow="yes"), TypeError, ["shadow", "'yes'"]),
    ("edge: name", lambda: EdgeExplorer(name=""), ValueError, ["name=''"]),
    ("edge: dpi", lambda: EdgeExplorer(dpi=0), ValueError, ["dpi=0"]),
    ("ns: coefficients list", lambda: NewtonSchulzExplorer([(1.5, -0.5, 0.0)]), TypeError,
     ["coefficients"]),
    ("ns: two numbers", lambda: NewtonSchulzExplorer({"two": (1.5, -0.5)}), ValueError,
     ["coefficients['two']"]),
    ("ns: not finite", lambda: NewtonSchulzExplorer({"nan": (np.nan, 0, 0)}), ValueError,
     ["coefficients['nan']"]),
    ("ns: steps -1", lambda: NewtonSchulzExplorer(steps=(-1, 2)), ValueError, ["steps"]),
    ("ns: steps twice", lambda: NewtonSchulzExplorer(steps=(1, 1)), ValueError,
     ["steps", "distinct"]),
    ("ns: steps 1.5", lambda: NewtonSchulzExplorer(steps=(1.5,)), TypeError, ["steps"]),
    ("ns: s_min 0", lambda: NewtonSchulzExplorer(s_min=0.0), ValueError, ["s_min=0.0"]),
    ("ns: s_min 1", lambda: NewtonSchulzExplorer(s_min=1.0), ValueError, ["s_min=1.0"]),
    ("ns: name", lambda: NewtonSchulzExplorer(name=""), ValueError, ["name=''"]),
]


@pytest.mark.parametrize("call, error, words", [b[1:] for b in BAD_ARGUMENTS],
                         ids=[b[0] for b in BAD_ARGUMENTS])
def test_bad_arguments_raise_up_front_naming_the_argument_and_value(call, error, words,
                                                                    monkeypatch):
    import optlib.network.edge as edge_module

    def no_training(*args, **kwargs):
        raise AssertionError("trained before the arguments were checked")

    monkeypatch.setattr(edge_module, "sharpness_run", no_training)
    monkeypatch.setattr(optlib.network, "sharpness_run", no_training)
    assert_raises_naming(call, error, words)
