"""``Function``: a differentiable operation, and ``Node``: its record in the backward graph.

A Function subclass defines two static methods::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):            # runs without recording a graph
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):        # d exp(x)/dx = exp(x)
            (y,) = ctx.saved_tensors
            return grad * y

``Exp.apply(x)`` runs ``forward`` and, when grad mode is on and an input requires grad, makes
the ``ctx`` a node of the graph: ``ctx.next_functions`` holds one edge ``(node, output_nr)``
per input, pointing at the node that produced that input (or at the leaf's ``AccumulateGrad``).
Every built-in op of minigrad is written this way.

The node class of ``Exp`` is ``ExpBackward``: that is the name ``grad_fn`` shows.
"""

from __future__ import annotations

import traceback
import weakref
from typing import Any

from minigrad.autograd import grad_mode

_state = grad_mode.state


class Node:
    """One node of the backward graph; also the ``ctx`` handed to forward and backward."""

    _function: type[Function] | None = None

    def __init__(self) -> None:
        self.next_functions: tuple = ()
        self.needs_input_grad: tuple[bool, ...] = ()
        self._saved: tuple | None = None
        self._released = False
        self._dirty: tuple = ()
        self._non_differentiable: tuple = ()
        self._input_meta: tuple = ()
        self._output_meta: tuple = ()
        self._pre_hooks: dict[int, list] | None = None
        self._trace: str | None = None
        self.materialize_grads = True

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    # -- the ctx API --------------------------------------------------------------------------

    def save_for_backward(self, *values: Any) -> None:
        """Keep tensors for backward, noting their version to catch later in-place changes.

        (minigrad also accepts Python numbers and None here and returns them unchanged.)
        """
        self._saved = tuple((v, v._storage.version) if hasattr(v, "_storage") else (v, None) for v in values)

    @property
    def saved_tensors(self) -> tuple:
        if self._released:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or if "
                "you need to access saved tensors after calling backward."
            )
        if self._saved is None:
            return ()
        values = []
        for value, version in self._saved:
            if version is not None and value._storage.version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: [{value.type()} {list(value.shape)}], which is an input or "
                    f"output of {self.name()}, is at version {value._storage.version}; expected "
                    f"version {version} instead. Hint: enable anomaly detection to find the "
                    "operation that failed to compute its gradient, with "
                    "minigrad.autograd.set_detect_anomaly(True)."
                )
            values.append(value)
        return tuple(values)

    def mark_dirty(self, *tensors: Any) -> None:
        """Declare inputs that forward modified in place; they become outputs of this node."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """Declare outputs (e.g. argmax indices) that never carry a gradient."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """When False, backward receives None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = value

    # -- used by the engine -------------------------------------------------------------------

    def _release(self) -> None:
        """Free the saved tensors after a backward pass that did not retain the graph."""
        self._saved = None
        self._released = True

    def register_prehook(self, output_nr: int, hook: Any) -> None:
        if self._pre_hooks is None:
            self._pre_hooks = {}
        self._pre_hooks.setdefault(output_nr, []).append(hook)


class Function:
    """Base class of differentiable operations; subclass it and call ``YourOp.apply``."""

    _node_class: type[Node] = Node

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._node_class = type(cls.__name__ + "Backward", (Node,), {"_function": cls, "__module__": cls.__module__})

    @staticmethod
    def forward(ctx: Node, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: Node, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement the backward function for custom autograd.Function.")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run forward without recording, then link the outputs into the graph if needed."""
        ctx = cls._node_class()
        enabled = _state.enabled
        if enabled:
            needs = tuple([getattr(a, "requires_grad", False) is True for a in args])
            tracking = True in needs
        else:
            needs = (False,) * len(args)
            tracking = False
        ctx.needs_input_grad = needs
        _state.enabled = False
        try:
            outputs = cls.forward(ctx, *args)
        finally:
            _state.enabled = enabled
        if tracking:
            _link(ctx, args, needs, outputs)
        return outputs


def gradient_edge(tensor: Any) -> tuple[Node, int]:
    """The (node, output_nr) that receives this tensor's gradient."""
    if tensor.grad_fn is not None:
        return tensor.grad_fn, tensor._output_nr
    return accumulator_for(tensor), 0


def accumulator_for(leaf: Any) -> AccumulateGrad:
    """The leaf's one ``AccumulateGrad`` node (kept alive by the graphs that use it)."""
    ref = leaf._accumulator
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(leaf)
        leaf._accumulator = weakref.ref(node)
    return node


def _link(ctx: Node, args: tuple, needs: tuple, outputs: Any) -> None:
    from minigrad.autograd import anomaly

    edges = []
    metas = []
    for a, need in zip(args, needs):
        if need:
            edges.append(gradient_edge(a))
            metas.append((a._shape, a.dtype))
        else:
            edges.append(None)
            metas.append(None)
    ctx.next_functions = tuple(edges)
    ctx._input_meta = tuple(metas)
    outs = outputs if isinstance(outputs, tuple) else (outputs,)
    ctx._output_meta = tuple((o._shape, o.dtype) if hasattr(o, "_shape") else None for o in outs)
    dirty = ctx._dirty
    skip = ctx._non_differentiable
    for i, out in enumerate(outs):
        if not hasattr(out, "_shape") or not out.dtype.is_floating_point or any(out is s for s in skip):
            continue
        if dirty and any(out is d for d in dirty) and out.grad_fn is None and out.requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        out._requires_grad = True
        out.grad_fn = ctx
        out._output_nr = i
    if anomaly.state.enabled:
        ctx._trace = "".join(traceback.format_stack()[:-3])


class AccumulateGrad(Node):
    """The sink of a leaf tensor: adds incoming gradients into ``leaf.grad``."""

    def __init__(self, leaf: Any) -> None:
        super().__init__()
        self.variable = leaf
        self._output_meta = ((leaf._shape, leaf.dtype),)

    def accumulate(self, grad: Any) -> None:
        leaf = self.variable
        for hook in leaf._hooks or ():
            result = hook(grad)
            if result is not None:
                grad = result
        if leaf.grad is None:
            leaf.grad = grad.detach().clone()
        else:
            leaf.grad.add_(grad)
