"""`make bench`'s static-redraw figure: it times real redraws in headless Chromium.

Without Chromium the test is skipped, except under CI (``CI=true``), where it is required
(like tests/test_browser.py).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from optlib import Momentum
from optlib.explore import EMAExplorer, Slider, TrajectoryExplorer
from optlib.objectives import Quadratic

explore_bench = pytest.importorskip("bench.explore")


def _require_chromium():
    if not Path(explore_bench.CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{explore_bench.CHROMIUM} is required under CI")
        pytest.skip("no Chromium (apt-get install chromium; .ci/run does this in CI)")


def test_static_redraw_is_timed_for_every_slider_step(capsys):
    _require_chromium()
    small = [EMAExplorer(betas=(0.5, 0.9), steps=20, lags=10),
             TrajectoryExplorer(Quadratic(), Momentum,
                                [Slider("lr", np.round(np.linspace(0.01, 0.3, 8), 3), initial=0.1),
                                 Slider("beta", (0.0, 0.5, 0.9), initial=0.5)],
                                steps=40, name="bench_test")]
    results = explore_bench.redraw_ms(small)
    assert set(results) == {e.name for e in small}
    for name, (ms, n) in results.items():
        assert n == explore_bench.CHANGES, name
        assert math.isfinite(ms) and 0 <= ms < 1000, (name, ms)


def test_redraw_figures_are_json_lines(capsys):
    explore_bench.emit("static_redraw_x", 0.5, "ms", repeats=60)
    line = capsys.readouterr().out.strip()
    assert json.loads(line) == {"name": "static_redraw_x", "value": 0.5, "unit": "ms",
                                "repeats": 60}
