"""Anomaly detection: remember where each node was made; stop at the first NaN in backward."""

from __future__ import annotations


class _AnomalyMode:
    enabled = False


state = _AnomalyMode()


def is_anomaly_enabled() -> bool:
    return state.enabled


class set_detect_anomaly:
    """Turn anomaly detection on or off (right away, and restored on exit when used with ``with``)."""

    def __init__(self, mode: bool) -> None:
        self._previous = state.enabled
        state.enabled = bool(mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._previous


class detect_anomaly:
    """Inside this block every node records the stack where it was created, and a backward
    that produces NaN raises ``RuntimeError`` naming the node and that place."""

    def __enter__(self) -> None:
        self._previous = state.enabled
        state.enabled = True

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._previous
