"""Anomaly detection: remember where each node was made; stop at the first NaN in backward.

While it is on, ``Function.apply`` stores the Python stack of every node it records, and the
engine checks every gradient a backward returns: a NaN raises ``RuntimeError`` naming the node
and the place in your code where it was created. An error raised inside a backward also gets
that place appended. It makes every op slower; turn it on to debug, not to train. As in torch, the mode is one switch
for the whole process (grad mode, by contrast, is per thread).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


class _AnomalyMode:
    enabled = False
    check_nan = True


state = _AnomalyMode()


def is_anomaly_enabled() -> bool:
    return state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return state.check_nan


class _AnomalyContext:
    """Sets the mode on entry, restores the previous one on exit; also a decorator."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._mode = (bool(mode), bool(check_nan))

    def __enter__(self) -> None:
        self._previous = (state.enabled, state.check_nan)
        state.enabled, state.check_nan = self._mode

    def __exit__(self, *exc: object) -> None:
        state.enabled, state.check_nan = self._previous

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _AnomalyContext(*self._mode):
                return func(*args, **kwargs)

        return wrapper


class detect_anomaly(_AnomalyContext):
    """Inside this block (or decorated function) every node records the stack where it was
    created, and a backward that produces NaN raises ``RuntimeError`` naming the node and that
    place (``check_nan=False`` keeps the stacks but skips the NaN check)."""

    def __init__(self, check_nan: bool = True) -> None:
        super().__init__(True, check_nan)


class set_detect_anomaly(_AnomalyContext):
    """Turn anomaly detection on or off right away; used with ``with``, restored on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        super().__init__(mode, check_nan)
        super().__enter__()

    def __enter__(self) -> None:
        pass  # already switched in __init__

    def __call__(self, func: Callable) -> Callable:
        self.__exit__()  # used as a decorator: undo the switch made in __init__
        return super().__call__(func)
