"""optlib.network.exploration: the learning-rate exploration of chapter 5.

* every run of the exploration is an independent training run (and so is its shadow);
* the static frames draw exactly the curves of those runs, and the readout reports each
  run as it is: a test accuracy, a divergence, or — when its shadow ends elsewhere —
  erratic, never with the accuracy that one ulp would change;
* the live view shows the same frames; the static HTML is small and self-contained;
* scales must be positive and distinct as the slider shows them — before, scales that
  ``:g`` prints alike broke the exploration with a StopIteration.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import optlib
from optlib.network import MLP, History, LearningRateExplorer, perturb_ulps, train

from optlib.explore import decode
from optlib.explore.model import readout_text

SCALES = (0.5, 1.0, 4.0, 1e4)
FACTORIES = {"GradientDescent": lambda: optlib.GradientDescent(lr=0.5),
             "Adam": lambda: optlib.Adam(lr=1e-2)}
EPOCHS = 3


@pytest.fixture(scope="module")
def explorer(small_data):
    return LearningRateExplorer(MLP(sizes=(64, 8, 10)), FACTORIES, small_data, scales=SCALES,
                                epochs=EPOCHS, batch_size=50, seed=1, progress=False,
                                name="network_lr_test")


def _independent(small_data, label, scale, params=None) -> History:
    lr = FACTORIES[label]().lr * scale
    opt = optlib.GradientDescent(lr=lr) if label == "GradientDescent" else optlib.Adam(lr=lr)
    return train(MLP(sizes=(64, 8, 10)), opt, small_data, epochs=EPOCHS, batch_size=50, seed=1,
                 params=params, progress=False)


def test_exploration_runs_are_independent_training_runs(explorer, small_data, same_history):
    assert explorer.shape == (len(SCALES),)
    assert explorer.base_lrs == {"GradientDescent": 0.5, "Adam": 1e-2}
    start = MLP(sizes=(64, 8, 10)).init_params()
    for label in FACTORIES:
        for i, scale in enumerate(SCALES):
            h = explorer.histories[label][i]
            assert same_history(h, _independent(small_data, label, scale)), (label, scale)
            assert same_history(h.shadow, _independent(small_data, label, scale,
                                                       perturb_ulps(start))), (label, scale)
    assert explorer.histories["GradientDescent"][-1].diverged    # lr = 5000


def test_static_frames_draw_the_independent_curves(explorer, small_data):
    """Decode every static frame and map it back to data coordinates through the axes."""
    frames = explorer.static_frames()
    names = list(explorer._artists)
    # the static view draws in figure pixels; the canvas has device_pixel_ratio device pixels
    # per figure pixel (optlib.explore.model.PIXEL_RATIO)
    ratio = explorer.figure.canvas.device_pixel_ratio
    height = explorer.figure.canvas.get_width_height()[1]
    compared = 0
    for i, scale in enumerate(SCALES):
        for label in FACTORIES:
            h = _independent(small_data, label, scale)
            for kind, curve in (("loss", h.train_loss), ("acc", h.test_accuracy)):
                artist = explorer._artists[f"{kind}:{label}"]
                ax = artist.axes
                pieces = decode(frames[i]["lines"][names.index(f"{kind}:{label}")], data_only=True)
                got = np.concatenate(pieces) if pieces else np.zeros((0, 2))
                got[:, 1] = height - got[:, 1]
                want = ax.transData.transform(
                    np.column_stack([np.arange(EPOCHS + 1), curve])) / ratio
                lo, hi = ax.get_ylim()
                show = np.isfinite(curve) & (curve >= lo) & (curve <= hi)
                assert got.shape == (int(show.sum()), 2), (label, scale, kind)
                np.testing.assert_allclose(got, want[show], atol=0.051)
                compared += got.shape[0]
        readout = frames[i]["readout"]
        assert readout == explorer.frame((i,))[1]
        assert f"α/α₀ = {scale:g}" in readout
        for label in FACTORIES:
            h = _independent(small_data, label, scale)
            lr = FACTORIES[label]().lr * scale
            expect = (f"diverged in epoch {h.diverged_at_epoch}" if h.diverged
                      else f"test accuracy {h.final_test_accuracy:.3f}")
            assert f"| {label} | {lr:.3g} | {expect}" in readout_text(readout)
    assert compared >= 3 * len(SCALES) * len(FACTORIES)


def test_the_readout_calls_an_erratic_run_erratic(small_data):
    """RMSprop at 16× a good rate ends far from its shadow: no accuracy in the readout."""
    factories = {"RMSprop": lambda: optlib.RMSprop(lr=0.01)}
    explorer = LearningRateExplorer(MLP(sizes=(64, 32, 10)), factories, small_data,
                                    scales=(1.0, 16.0), epochs=20, batch_size=32,
                                    progress=False, name="network_erratic_test")
    steady, wild = explorer.histories["RMSprop"]
    assert not steady.erratic and wild.erratic
    assert explorer.status("RMSprop", 0) == f"test accuracy {steady.final_test_accuracy:.3f}"
    readout = explorer.frame((1,))[1]
    assert ("| RMSprop | 0.16 | erratic (a start one ulp away ends elsewhere)"
            in readout_text(readout))
    assert "test accuracy" not in readout
    # without shadows the exploration cannot tell, and says what it measured
    blind = LearningRateExplorer(MLP(sizes=(64, 32, 10)), factories, small_data,
                                 scales=(16.0,), epochs=20, batch_size=32, progress=False,
                                 shadow=False)
    assert blind.histories["RMSprop"][0].shadow is None
    assert blind.status("RMSprop", 0) == f"test accuracy {wild.final_test_accuracy:.3f}"


def test_live_view_shows_the_same_frames(explorer):
    w = explorer.widget()
    artist = explorer._artists["loss:Adam"]
    for k in (0, 2):
        w.controls[0].value = k
        x, y = artist.get_data()
        np.testing.assert_array_equal(y, explorer.histories["Adam"][k].train_loss)
        assert w.readout.value == explorer.frame((k,))[1]


def test_exploration_static_html_is_small_and_self_contained(explorer):
    page = explorer.static_html()
    assert page.startswith('<div class="optlib-exploration"')
    assert 'data-exploration="network_lr_test"' in page
    assert len(page.encode()) < 300_000
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page)


@pytest.mark.parametrize("scales, error, words", [
    ((), ValueError, "scales must not be empty"),
    ((1.0, -1.0), ValueError, "scales must lie in (0, inf]"),
    ((1.0, np.inf), ValueError, "scales must be finite"),
    ((1.0, 1.0), ValueError, "1.0, 1.0 all show as 1"),
    ((0.5, 1.0, 1.0000001), ValueError, "1.0, 1.0000001 all show as 1"),
    (("a",), TypeError, "scales"),
])
def test_exploration_bad_scales(small_data, scales, error, words):
    with pytest.raises(error, match=re.escape(words)):
        LearningRateExplorer(MLP(sizes=(64, 4, 10)), FACTORIES, small_data, scales=scales,
                             epochs=1, progress=False)
