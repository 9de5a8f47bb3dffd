"""Fixtures of the network tests: the digits split and a small slice of it, and a comparison
of two training histories."""

from __future__ import annotations

import numpy as np
import pytest

from optlib.network import Digits, History, load_digits_split


@pytest.fixture(scope="session")
def digits() -> Digits:
    return load_digits_split()


@pytest.fixture(scope="session")
def small_data(digits) -> Digits:
    """A small slice of the digits, for fast training tests."""
    return Digits(digits.X_train[:300], digits.y_train[:300], digits.X_test[:100],
                  digits.y_test[:100])


def _same_history(a: History, b: History) -> bool:
    """Every curve, the divergence and the final parameters equal, bit for bit."""
    curves = ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "step_loss")
    return all(np.array_equal(getattr(a, c), getattr(b, c), equal_nan=True) for c in curves) \
        and a.diverged_at_epoch == b.diverged_at_epoch \
        and all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


@pytest.fixture(scope="session")
def same_history():
    """``same_history(a, b)``: two Histories equal, bit for bit."""
    return _same_history
