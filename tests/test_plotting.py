"""The book's figure style (``optlib.plotting``), checked against independent computations.

* contrast: WCAG 2.1 relative luminance and contrast ratio, computed here from the
  definition, for every optimizer colour against the contour fill and white (≥ 3:1,
  success criterion 1.4.11);
* colour-blind safety: the palette simulated for protanopia, deuteranopia and
  tritanopia (Machado, Oliveira and Fernandes 2009, severity 1) and compared in CIELAB;
* legibility: figures at most the column wide, no text below 11 pt, in the helpers and
  in every kind of exploration; :func:`optlib.plotting.show` refuses an illegible figure
  and displays a 2× PNG that carries its display size.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

import optlib
from optlib import plotting
from optlib.explore import ComparisonExplorer, EMAExplorer, MomentumRateExplorer, Slider
from optlib.explore import TrajectoryExplorer
from optlib.objectives import Quadratic, Rosenbrock

# --------------------------------------------------------------------------- independent colour maths
_MACHADO = {  # linear-RGB simulation matrices, severity 1.0 (Machado et al. 2009, table)
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}


def _linear(color) -> np.ndarray:
    c = np.asarray(to_rgb(color), dtype=float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _luminance(color) -> float:
    r, g, b = _linear(color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _lab(linear_rgb) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ np.clip(linear_rgb, 0.0, 1.0)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def closest_pair(colors: dict, vision: str | None):
    """The two colours that look most alike to ``vision`` (None: normal), and their ΔE."""
    m = np.eye(3) if vision is None else np.array(_MACHADO[vision])
    lab = {k: _lab(m @ _linear(c)) for k, c in colors.items()}
    return min((float(np.linalg.norm(lab[a] - lab[b])), a, b)
               for a, b in itertools.combinations(lab, 2))


OLD_PALETTE = {"GradientDescent": "#d62728", "Momentum": "#1f77b4", "Nesterov": "#17becf",
               "RMSprop": "#2ca02c", "Adagrad": "#8c564b", "Adam": "#9467bd",
               "AdamW": "#e377c2", "AMSGrad": "#7f7f7f"}


def test_the_contrast_formula_matches_known_values():
    assert contrast("black", "white") == pytest.approx(21.0)
    assert contrast("#767676", "white") == pytest.approx(4.54, abs=0.01)   # WebAIM's grey


@pytest.mark.parametrize("name", list(plotting.COLORS))
def test_every_optimizer_colour_contrasts_3_to_1_with_the_contour_fill_and_white(name):
    color = plotting.COLORS[name]
    for behind in (*plotting.CONTOUR_FILL, "white"):
        assert contrast(color, behind) >= 3.0, (name, color, behind, contrast(color, behind))


def test_neutral_colours_contrast_3_to_1_with_the_fill():
    for color in plotting.NEUTRAL:
        assert min(contrast(color, c) for c in (*plotting.CONTOUR_FILL, "white")) >= 3.0, color


def test_the_old_palette_fails_the_contrast_check():
    """The check can fail: the tab10 colours of the first edition (cyan, pink, grey)."""
    failing = [k for k, c in OLD_PALETTE.items() if contrast(c, plotting.CONTOUR_FILL[0]) < 3]
    assert {"Nesterov", "RMSprop", "AdamW"} <= set(failing)


@pytest.mark.parametrize("vision", [None, *_MACHADO])
def test_the_palette_stays_distinguishable_with_colour_blindness(vision):
    distance, a, b = closest_pair(plotting.COLORS, vision)
    assert distance > 25.0, f"{a} and {b} look alike to {vision}: ΔE {distance:.1f}"
    old = closest_pair(OLD_PALETTE, vision)[0]
    assert distance > old or vision is None   # and better than the first edition's


def test_colours_are_distinct_and_one_per_optimizer():
    assert len(set(plotting.COLORS.values())) == len(plotting.COLORS)
    assert not set(plotting.NEUTRAL) & set(plotting.COLORS.values())
    for name in ("GradientDescent", "Momentum", "RMSprop", "Adagrad", "Adam", "AdamW"):
        assert hasattr(optlib, name) and name in plotting.COLORS   # the classes' names
    assert {"Nesterov", "AMSGrad"} <= set(plotting.COLORS)   # Momentum's and Adam's variants
    assert plotting.color_of("Adam") == plotting.COLORS["Adam"]
    assert plotting.color_of("not an optimizer", 1) == list(plotting.COLORS.values())[1]


# --------------------------------------------------------------------------- legibility
def test_figure_is_column_wide_and_in_the_books_style():
    fig, axes = plotting.figure(1, 2, height=3.0)
    assert fig.get_figwidth() == plotting.COLUMN_WIDTH and len(axes) == 2
    axes[0].set_title("a title")
    axes[0].plot([0, 1], [1, 0], label="x")
    axes[0].legend()
    assert plotting.legibility_problems(fig) == []
    fig, axes = plotting.figure(mosaic=[["top", "top"], ["left", "right"]], height=5)
    assert set(axes) == {"top", "left", "right"}
    assert axes["top"].get_position().width > 1.8 * axes["left"].get_position().width
    with pytest.raises(ValueError, match="width"):
        plotting.figure(width=9.0)
    with pytest.raises(ValueError, match="height"):
        plotting.figure(height=0)


def test_legibility_problems_finds_small_text_and_wide_figures():
    fig, ax = plotting.figure()
    ax.set_title("tiny", fontsize=8)
    ax.annotate("note", (0.5, 0.5), fontsize=9)
    problems = plotting.legibility_problems(fig)
    assert len(problems) == 2 and "8 pt" in problems[0] and "'tiny'" in problems[0]
    fig, ax = plotting.figure()
    ax.plot([0, 1], [0, 1], label="a long label")
    fig.legend(loc="outside lower center", ncols=1, bbox_to_anchor=(1.2, 0))
    assert any("cut off" in p for p in plotting.legibility_problems(fig))
    wide = plotting.new_figure(width=12.0)
    wide.subplots()
    assert any("12 in wide" in p for p in plotting.legibility_problems(wide))


def test_show_refuses_an_illegible_figure_and_displays_a_2x_png(monkeypatch):
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display",
                        lambda data, raw, metadata: shown.append((data, metadata)))
    fig, ax = plotting.figure(height=2.5)
    ax.plot([0, 1], [0, 1])
    plotting.show(fig, alt="a rising line")
    (data, metadata), = shown
    assert data["text/plain"] == "a rising line"
    assert metadata == {"image/png": {"width": 672}}   # no height: it scales with the width
    image = Image.open(io.BytesIO(data["image/png"]))
    assert image.size == (1344, 480)

    ax.set_xlabel("small", fontsize=7)
    with pytest.raises(ValueError, match="not legible.*7 pt"):
        plotting.show(fig)
    assert len(shown) == 1


def _explorations():
    bowl = Quadratic()
    yield TrajectoryExplorer(bowl, optlib.GradientDescent, [Slider("lr", [0.01, 0.05])], steps=10)
    yield TrajectoryExplorer(Quadratic(curvatures=(1.0, 25.0), angle=np.pi / 6),
                             optlib.GradientDescent, [Slider("lr", [0.01, 0.05])], steps=10,
                             eigenbasis=True)
    yield TrajectoryExplorer(bowl, optlib.RMSprop, [Slider("lr", [0.01, 0.05])], steps=10,
                             panel="steps")
    yield MomentumRateExplorer(lrs=[0.01, 0.05], betas=[0.0, 0.5], steps=10, fine=20)
    yield EMAExplorer(betas=[0.5, 0.9], steps=20, lags=10)
    yield ComparisonExplorer({"bowl": bowl, "rosenbrock": Rosenbrock()},
                             {"GradientDescent": lambda f: optlib.GradientDescent(lr=0.01),
                              "Adam": lambda f: optlib.Adam(lr=0.05)}, steps=(0, 5, 10))


@pytest.fixture(scope="module")
def explorations():
    return list(_explorations())


def test_every_kind_of_exploration_is_legible_in_the_column(explorations):
    for ex in explorations:
        assert plotting.legibility_problems(ex.figure) == [], type(ex).__name__
        # the legend is HTML beside the picture, never drawn over the data
        assert all(ax.get_legend() is None for ax in ex.figure.axes), type(ex).__name__


def test_static_backgrounds_are_exact_colour_and_twice_the_resolution(explorations):
    for ex in explorations:
        w, h = ex.figure.canvas.get_width_height()
        for png in ex._background_pngs:
            image = Image.open(io.BytesIO(png))
            assert image.mode in ("RGB", "RGBA"), (type(ex).__name__, image.mode)  # no palette
            assert image.size == (2 * w, 2 * h)
        html = ex.static_html()
        assert f"max-width:{w}px" in html


def test_a_path_keeps_its_exact_colour_in_the_background_and_legend(explorations):
    """The first edition's 128-colour palettes shifted colours; now a legend key and the
    line it names have the same colour as plotting.COLORS."""
    cmp = explorations[-1]
    legend = {e["label"]: e["color"] for e in cmp.legend()}
    assert legend == {"GradientDescent": plotting.COLORS["GradientDescent"],
                      "Adam": plotting.COLORS["Adam"]}
    image = np.asarray(Image.open(io.BytesIO(cmp._background_pngs[0])).convert("RGB"))
    lowest = tuple(int(round(255 * v)) for v in to_rgb(plotting.CONTOUR_FILL[0]))
    colours = {tuple(int(v) for v in p) for p in image.reshape(-1, 3)}
    assert lowest in colours          # the fill around the minimum, unquantised
    assert len(colours) > 256         # anti-aliasing kept: not a palette image
