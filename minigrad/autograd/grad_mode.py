# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
"""Grad mode: whether operations record the graph (``no_grad``, ``enable_grad``, ...).

Each is a context manager and, like torch's, also a decorator: ``@no_grad()`` or ``@no_grad``.
Blocks nest: leaving one restores the mode that was on when it was entered. Grad mode belongs to
the thread that sets it, as torch's does: ``no_grad`` in one thread leaves every other thread
recording, and a new thread starts with recording on.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any


class _GradMode(threading.local):
    """The one switch ``Function.apply`` reads before recording a node, one per thread (the class
    attribute is each thread's starting value)."""

    enabled = True


state = _GradMode()


def is_grad_enabled() -> bool:
    return state.enabled


class _GradModeContext:
    """Sets grad mode on entry and restores the previous mode on exit."""

    _mode: bool

    def __new__(cls, *args: Any) -> Any:
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]):
            return cls()(args[0])  # used as a decorator without parentheses: @no_grad
        return super().__new__(cls)

    def __enter__(self) -> None:
        self._previous = state.enabled
        state.enabled = self._mode

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._previous

    def __call__(self, func: Callable) -> Callable:
        mode = self._mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = state.enabled
            state.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                state.enabled = previous

        return wrapper


class no_grad(_GradModeContext):
    """Operations inside do not record a graph; their results do not require grad."""

    _mode = False


class enable_grad(_GradModeContext):
    """Re-enables recording inside a ``no_grad`` block."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Sets grad mode to ``mode`` right away (as torch does) and restores it on exit."""

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._previous = state.enabled
        state.enabled = self._mode

    def __enter__(self) -> None:
        pass  # already switched in __init__

    def __call__(self, func: Callable) -> Callable:
        state.enabled = self._previous  # used as a decorator: undo the switch made in __init__
        return super().__call__(func)
