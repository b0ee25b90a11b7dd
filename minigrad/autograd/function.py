# With the Cython core this module also runs compiled; see minigrad/_backend.py (and MINIGRAD_NO_COMPILED_MODULES).
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
            return grad * y             # one gradient per input of forward (None: no gradient)

``Exp.apply(x)`` runs ``forward`` and, when grad mode is on and an input requires grad, makes
the ``ctx`` a node of the graph: ``ctx.next_functions`` holds one edge ``(node, output_nr)``
per input, pointing at the node that produced that input (or at the leaf's ``AccumulateGrad``),
and ``None`` for inputs that need no gradient. Every built-in op of minigrad is written this way.

The node class of ``Exp`` is ``ExpBackward``: that is the name ``grad_fn`` shows.
"""

from __future__ import annotations

import itertools
import sys
import weakref
from typing import Any

from minigrad.autograd import anomaly, grad_mode

_state = grad_mode.state
_sequence = itertools.count()  # numbers nodes in creation order; the engine runs newest first


class Node:
    """One node of the backward graph; also the ``ctx`` handed to forward and backward.

    The class attributes below are the defaults: ``Function.apply`` sets on each node only what
    it needs, which keeps recording an op cheap.
    """

    _function: type[Function] | None = None  # the Function whose backward this node runs
    next_functions: tuple = ()  # one edge (node, output_nr) or None per input of forward
    needs_input_grad: tuple[bool, ...] = ()
    materialize_grads = True
    _sequence_nr = 0  # creation order
    _input_meta: tuple = ()  # (shape, dtype) of each input that needs a gradient, else None
    _output_meta: tuple = ()  # (shape, dtype) of each tensor output, else None
    _saved: tuple | None = None  # ((value, version at save time), ...)
    _released = False  # saved values freed by a backward pass
    _dirty: tuple = ()
    _non_differentiable: tuple = ()
    _pre_hooks: dict[int, list] | None = None  # output_nr -> hooks registered on that tensor
    _retained: dict[int, weakref.ref] | None = None  # output_nr -> tensor that called retain_grad()
    _trace: str | None = None  # where the node was created (anomaly mode only)

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    # -- the ctx API --------------------------------------------------------------------------

    def save_for_backward(self, *values: Any) -> None:
        """Keep tensors for backward, noting their version to catch later in-place changes.

        (minigrad also accepts Python numbers and None here and returns them unchanged.)
        """
        self._saved = tuple([(v, v._storage.version) if hasattr(v, "_storage") else (v, None) for v in values])

    @property
    def saved_tensors(self) -> tuple:
        """The values given to ``save_for_backward``, checked to be unmodified since."""
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
        for value, version in self._saved:
            if version is not None and value._storage.version != version:
                self._raise_modified(value, version)
        return tuple([value for value, _ in self._saved])

    def _raise_modified(self, value: Any, version: int) -> None:
        producer = value.grad_fn
        which = f", which is output {value._output_nr} of {producer.name()}," if producer is not None else ""
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an inplace "
            f"operation: [{value.type()} {list(value.shape)}]{which} is at version "
            f"{value._storage.version}; expected version {version} instead. (It was saved by "
            f"{self.name()}.) Hint: enable anomaly detection to find the operation that failed to "
            "compute its gradient, with minigrad.autograd.set_detect_anomaly(True)."
        )

    def mark_dirty(self, *tensors: Any) -> None:
        """Declare inputs that forward modified in place; they must be returned as outputs."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """Declare outputs (e.g. argmax indices) that never carry a gradient."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """When False, backward receives None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = value

    # -- used by the tensor methods and the engine --------------------------------------------

    def _release(self) -> None:
        """Free the saved tensors after a backward pass that did not retain the graph."""
        self._saved = None
        self._released = True

    def _replace_saved(self, old: Any, new: Any) -> None:
        """Save ``new`` (at its current version) wherever ``old`` was saved."""
        if self._saved is not None:
            self._saved = tuple([(new, new._storage.version) if v is old else (v, k) for v, k in self._saved])

    def _keep_original(self, tensor: Any) -> None:
        """``tensor`` is about to be overwritten in place: if it was saved, save a copy instead.

        (Torch does the same: an in-place op whose derivative needs the original ``self`` saves
        a clone of it.)
        """
        if self._saved is not None and any(value is tensor for value, _ in self._saved):
            values = tensor._values()
            copy = values[:] if values is tensor._storage.data else values
            original = type(tensor)._make(copy, tensor._shape, tensor.dtype)
            self._replace_saved(tensor, original)

    def _register_tensor_hook(self, output_nr: int, hook: Any) -> list:
        """Run ``hook(grad)`` on the gradient of output ``output_nr`` before this node uses it."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        hooks = self._pre_hooks.setdefault(output_nr, [])
        hooks.append(hook)
        return hooks

    def _retain_grad(self, output_nr: int, tensor: Any) -> None:
        """Store the gradient of output ``output_nr`` in ``tensor.grad`` (after all hooks)."""
        if self._retained is None:
            self._retained = {}
        self._retained[output_nr] = weakref.ref(tensor)


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
        needs = tuple([getattr(a, "_requires_grad", False) is True for a in args])
        ctx.needs_input_grad = needs  # as in torch, whether or not grad mode is on
        if not _state.enabled:  # no_grad, or inside a backward: nothing is recorded
            return cls.forward(ctx, *args)
        if _view_gained_history(args, needs):  # (reading requires_grad refreshed it: ask again)
            needs = ctx.needs_input_grad = tuple([getattr(a, "_requires_grad", False) is True for a in args])
        _state.enabled = False
        try:
            outputs = cls.forward(ctx, *args)
        finally:
            _state.enabled = True
        if True in needs:
            return _link(ctx, args, needs, outputs)
        note_views(args, outputs)
        return outputs


def _view_gained_history(args: tuple, needs: tuple) -> bool:
    """Whether an input that seemed not to need a gradient is a view whose base got a history
    through an in-place write since the view was made (see ``views``)."""
    for a, need in zip(args, needs):
        if not need and getattr(a, "_base", None) is not None and a.requires_grad:
            return True
    return False


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


def _link(ctx: Node, args: tuple, needs: tuple, outputs: Any) -> Any:
    """Make ``ctx`` a node of the graph: edges to the inputs' nodes, outputs pointing at ctx.

    Returns the outputs, where an input returned unchanged (and not marked dirty) is replaced by
    an alias of it, so that the input itself keeps its own history.
    """
    ctx._sequence_nr = next(_sequence)
    edges, input_meta = [], []
    for a, need in zip(args, needs):
        edges.append(gradient_edge(a) if need else None)
        input_meta.append((a._shape, a.dtype) if need else None)
    ctx.next_functions, ctx._input_meta = tuple(edges), tuple(input_meta)

    several = isinstance(outputs, tuple)
    if several:
        outs = tuple([_link_output(ctx, args, out, i) for i, out in enumerate(outputs)])
    else:
        outs = (_link_output(ctx, args, outputs, 0),)
    ctx._output_meta = tuple([(out._shape, out.dtype) if hasattr(out, "_storage") else None for out in outs])

    if ctx._dirty:
        _check_dirty_returned(ctx._dirty, outs)
    saved = ctx._saved
    if saved:
        # A saved output would point back at ctx (ctx -> output -> ctx): keep a history-free alias
        # instead, so the graph holds no reference cycle and is freed as soon as it is unused. (The
        # alias is saved at the version the output has now: marking it dirty may have bumped it.)
        ctx._saved = tuple(
            [(_alias(v), v._storage.version) if getattr(v, "grad_fn", None) is ctx else (v, k) for v, k in saved]
        )
    if anomaly.state.enabled:
        ctx._trace = _creation_site()
    return outs if several else outs[0]


def note_views(args: tuple, outputs: Any) -> None:
    """Give every output that shares an input's storage (and is not that input) its base."""
    for out in outputs if isinstance(outputs, tuple) else (outputs,):
        storage = getattr(out, "_storage", None)
        if storage is None:
            continue
        for a in args:
            if getattr(a, "_storage", None) is storage and a is not out:
                mark_view(out, a)
                break


def mark_view(view: Any, of: Any) -> None:
    """``view`` shares ``of``'s storage: remember the base, and that its history is right now."""
    view._base = of if of._base is None else of._base
    view._view_version = view._storage.version


def _link_output(ctx: Node, args: tuple, out: Any, i: int) -> Any:
    """Make ``out`` output ``i`` of ``ctx`` (when it can carry a gradient); returns the output."""
    if not hasattr(out, "_storage") or not out.dtype.is_floating_point:
        return out
    if ctx._non_differentiable and _is_among(out, ctx._non_differentiable):
        return out
    for a in args:
        if getattr(a, "_storage", None) is out._storage:  # out is input a, or a view of it
            if out is a and _is_among(out, ctx._dirty):
                _check_dirty(out)
                break
            if out is a:  # returned unchanged: the output is a new view of it, as in torch
                out = _alias(out)
            mark_view(out, a)
            break
    out._requires_grad = True
    out._grad_fn = ctx
    out._output_nr = i
    return out


def _alias(tensor: Any) -> Any:
    """A tensor viewing the same storage with the same geometry, without history."""
    return tensor._view(tensor._shape, tensor._strides, tensor._offset)


def _is_among(value: Any, items: tuple) -> bool:
    """Whether ``value`` is one of ``items`` (by identity: tensors compare elementwise)."""
    for item in items:
        if item is value:
            return True
    return False


def _check_dirty_returned(dirty: tuple, outs: tuple) -> None:
    for d in dirty:
        if not _is_among(d, outs):
            raise RuntimeError(
                "Some elements marked as dirty during the forward method were not returned as output. "
                "The inputs that are modified inplace must all be outputs of the Function."
            )


def _creation_site() -> str:
    """The Python stack that is making a node, without minigrad's own frames (the caller's code).

    A frame is minigrad's when its module is (``__name__`` is ``minigrad`` or ``minigrad.*``).
    (Compiled with the Cython core, minigrad's modules make no Python frames at all.)
    """
    import traceback  # here, not at the top: only anomaly mode needs it, and it is slow to import

    # (from sys._getframe(), not walk_stack(None): compiled, this function has no frame of its own)
    stack = traceback.walk_stack(sys._getframe())
    frames = [(f, line) for f, line in stack if not _is_minigrad(f.f_globals.get("__name__"))]
    return "".join(traceback.StackSummary.extract(reversed(frames)).format())


def _is_minigrad(module: str | None) -> bool:
    return module is not None and (module == "minigrad" or module.startswith("minigrad."))


def _check_dirty(tensor: Any) -> None:
    """An input that forward modified in place becomes an output of the node (a new version)."""
    if tensor._grad_fn is None and tensor._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
    tensor._storage.version += 1


class AccumulateGrad(Node):
    """The sink of a leaf tensor: adds incoming gradients into ``leaf.grad``.

    Its sequence number is above every op's, so the engine runs it as soon as it is ready, as
    torch does.
    """

    _LEAF_PRIORITY = 2**62

    def __init__(self, leaf: Any) -> None:
        self.variable = leaf
        self._output_meta = ((leaf._shape, leaf.dtype),)
        self._sequence_nr = self._LEAF_PRIORITY + next(_sequence)

    @property
    def _pre_hooks(self) -> dict[int, list] | None:  # type: ignore[override]
        """The hooks registered on the leaf with ``register_hook``."""
        hooks = self.variable._hooks
        return {0: hooks} if hooks else None

    def accumulate(self, grad: Any, unshared: bool = False) -> None:
        """``leaf.grad = grad`` the first time, then ``leaf.grad += grad`` in place.

        The first time, ``leaf.grad`` is a copy that shares nothing with the graph or with other
        leaves, unless the engine says no one else holds the gradient (``unshared``) and it is
        laid out as the leaf: then the leaf takes it over, as torch's AccumulateGrad does, and
        the copy (of a large embedding's gradient, a tenth of a training step) is saved."""
        leaf = self.variable
        if leaf.grad is None:
            laid_out_as_leaf = grad.is_contiguous() and leaf.is_contiguous()
            leaf.grad = grad if unshared and laid_out_as_leaf else grad._copy()
        else:
            leaf.grad.add_(grad)
