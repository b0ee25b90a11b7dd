"""Hook bookkeeping, as ``torch.utils.hooks``: ``RemovableHandle`` (what every ``register_*_hook``
returns) and ``BackwardHook``, which runs a module's full backward hooks.

A module with backward hooks routes its tensor inputs and outputs through an identity Function,
``BackwardHookFunction``. In the backward pass the output's node sees the gradients of the
module's outputs first: the backward pre-hooks may replace them. Later the input's node sees the
gradients of the module's inputs: the full backward hooks receive them with the outputs'
gradients, and may replace them.
"""

from __future__ import annotations

import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from minigrad._tensor import Tensor
from minigrad.autograd.function import Function
from minigrad.autograd.grad_mode import is_grad_enabled


class RemovableHandle:
    """Removes the hook it was returned for, by id, from the dicts holding it (``remove()``, or
    at the end of a ``with`` block)."""

    id: int
    next_id: int = 0

    def __init__(self, hooks_dict: OrderedDict, *, extra_dict: OrderedDict | list[OrderedDict] | None = None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        extras = [] if extra_dict is None else extra_dict if isinstance(extra_dict, list) else [extra_dict]
        self.extra_dict_ref = tuple([weakref.ref(d) for d in extras])

    def remove(self) -> None:
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            hooks = ref()
            if hooks is not None and self.id in hooks:
                del hooks[self.id]

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class BackwardHookFunction(Function):
    """y_i = x_i for every tensor given (the gradients pass unchanged); ``on_backward(grads)``
    sees, and may replace, the gradients on their way back."""

    @staticmethod
    def forward(ctx, on_backward, *tensors):
        ctx.on_backward = on_backward
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.on_backward(grads))


def _pack_with_none(indices: list[int], values: tuple, size: int) -> tuple:
    """A tuple of ``size`` entries: values at the given indices, None elsewhere."""
    out = [None] * size
    for i, value in zip(indices, values):
        out[i] = value
    return tuple(out)


class BackwardHook:
    """The full backward (pre-)hooks of one call of a module."""

    def __init__(self, module: Any, user_hooks: list[Callable], user_pre_hooks: list[Callable]) -> None:
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs: tuple | None = None
        self.n_outputs = -1
        self.output_tensors_index: list[int] | None = None
        self.n_inputs = -1
        self.input_tensors_index: list[int] | None = None

    def _apply_on_tensors(self, on_backward: Callable, args: tuple) -> tuple[tuple, list[int] | None]:
        index = [i for i, arg in enumerate(args) if isinstance(arg, Tensor)]
        tensors = [args[i] for i in index]
        if not (any(t.requires_grad for t in tensors) and is_grad_enabled()):
            return args, None
        new_tensors = BackwardHookFunction.apply(on_backward, *tensors)
        out = list(args)
        for i, tensor in zip(index, new_tensors):
            out[i] = tensor
        return tuple(out), index

    def setup_input_hook(self, args: tuple) -> tuple:
        """Route the inputs through the identity whose backward calls the full backward hooks."""
        result, self.input_tensors_index = self._apply_on_tensors(self._input_grads, args)
        self.n_inputs = len(args)
        return result

    def setup_output_hook(self, result: Any) -> Any:
        """Route the outputs through the identity whose backward calls the backward pre-hooks."""
        is_tuple = isinstance(result, tuple)
        args = result if is_tuple else (result,)
        new_args, self.output_tensors_index = self._apply_on_tensors(self._output_grads, args)
        self.n_outputs = len(args)
        return new_args if is_tuple else new_args[0]

    def _output_grads(self, grads: tuple) -> tuple:
        self.grad_outputs = _pack_with_none(self.output_tensors_index, grads, self.n_outputs)
        expected = len(self.grad_outputs)
        for pre_hook in self.user_pre_hooks:
            replaced = pre_hook(self.module, self.grad_outputs)
            if replaced is None:
                continue
            if len(replaced) != expected:
                raise RuntimeError(
                    f"Backward pre hook returned an invalid number of grad_output, got {len(replaced)}, "
                    f"but expected {expected}"
                )
            self.grad_outputs = replaced
        local = self.grad_outputs
        if self.input_tensors_index is None:  # no input needs a gradient: the hooks run now
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to module outputs since no "
                "inputs require gradients. See "
                "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                "#torch.nn.Module.register_full_backward_hook for more details.",
                stacklevel=5,
            )
            grad_inputs = _pack_with_none([], [], self.n_inputs)
            for hook in self.user_hooks:
                res = hook(self.module, grad_inputs, self.grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should always return None "
                        "or None for all gradients."
                    )
            self.grad_outputs = None
        return tuple([local[i] for i in self.output_tensors_index])

    def _input_grads(self, grads: tuple) -> tuple:
        if self.grad_outputs is None:  # the gradient reached the inputs without passing the outputs
            return grads
        res = _pack_with_none(self.input_tensors_index, grads, self.n_inputs)
        for hook in self.user_hooks:
            out = hook(self.module, res, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(res):
                raise RuntimeError(
                    f"Backward hook returned an invalid number of grad_input, got {len(out)}, but expected {len(res)}"
                )
            res = out
        self.grad_outputs = None
        return tuple([res[i] for i in self.input_tensors_index])
