"""``torch.nn.utils.skip_init``: build a module without drawing its initial weights."""

from __future__ import annotations

from typing import Any, TypeVar

from minigrad.nn import init
from minigrad.nn.module import Module

M = TypeVar("M", bound=Module)


def skip_init(module_cls: type[M], *args: Any, **kwargs: Any) -> M:
    """``module_cls(*args, **kwargs)`` with its parameters left as allocated (zeros here; torch
    leaves them uninitialised) and the generator untouched: the cheap way to build a module whose
    weights a ``load_state_dict`` will set. Unlike torch's, ``module_cls`` needs no ``device``
    argument; the skip covers every ``nn.init`` draw its constructor makes.
    """
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    with init.skipping_draws():
        return module_cls(*args, **kwargs)
