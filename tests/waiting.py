"""The one way tests wait: on a condition, with a timeout (never sleep-and-hope)."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")

#: Seconds between two looks at the condition.
POLL_SECONDS = 0.02


def wait_for(condition: Callable[[], T], timeout: float = 10.0, what: str = "the condition") -> T:
    """Return ``condition()``'s first truthy value; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(POLL_SECONDS)


def stays_false(condition: Callable[[], object], seconds: float) -> bool:
    """True when ``condition()`` stayed falsy for ``seconds`` (for "nothing arrives" checks,
    after a positive signal has shown the thing under test has already acted)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return False
        time.sleep(POLL_SECONDS)
    return not condition()
