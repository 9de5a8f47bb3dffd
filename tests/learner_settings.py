"""Helpers shared by the tests of what a learner sees: strict settings and readable messages."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np


@contextlib.contextmanager
def strict():
    """What a learner may have set in the notebook: every float problem and warning raises."""
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def assert_readable(message: str, *words: str) -> None:
    """One short line, no traceback, and the given words in it."""
    assert message, "empty message"
    assert "\n" not in message, message
    assert "Traceback" not in message and 'File "' not in message, message
    assert len(message) < 500, message
    for word in words:
        assert word in message, (word, message)


def assert_raises_naming(call, error: type, words) -> None:
    """``call()`` raises ``error`` up front, in one line under 400 characters that holds
    every one of ``words`` (the argument's name and its value)."""
    import pytest

    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, (word, message)
    assert "\n" not in message and len(message) < 400, message
