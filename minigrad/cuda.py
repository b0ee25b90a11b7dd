"""``minigrad.cuda``: what a program asks before choosing a device. There is no CUDA here, so
``is_available()`` is False and the seeding functions do nothing (as torch's do without a GPU)."""

from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Seed the (absent) GPUs' generators: nothing to do."""


def manual_seed_all(seed: int) -> None:
    """Seed every (absent) GPU's generator: nothing to do."""
