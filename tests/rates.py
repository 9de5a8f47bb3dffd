"""Measuring a convergence rate from a simulated run (shared by the closed-form tests)."""

from __future__ import annotations

import math

import numpy as np


def fitted_rate(distances, skip, floor):
    """Least-squares slope of log(distance) against t, for t >= skip and distance > floor·d0."""
    d = np.asarray(distances)
    t = np.arange(d.size)
    use = (t >= skip) & np.isfinite(d) & (d > floor * d[0])
    assert use.sum() >= 50, "too few points for a fit"
    slope = np.polyfit(t[use], np.log(d[use]), 1)[0]
    return math.exp(slope)
