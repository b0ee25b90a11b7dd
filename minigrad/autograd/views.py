"""Views and in-place writes: a view knows its base, so a write through either rewrites the other's
history (torch's rules).

Every view made by an op in grad mode records ``_base`` (the tensor that is not itself a view and
whose storage it shares) and ``_view_version`` (the storage's version when its history was last
right). Then:

* **in-place on a view** (``v = a[1:]; v.mul_(3)``): the base's new history is a ``CopySlices``
  node: the gradient of the base's region that ``v`` covers goes to the in-place op's node, the
  rest to the base's previous history;
* **a view whose storage changed since its history was set** (``v = a[1:]; a.mul_(3)``, or ``v``
  after the write above): the next time its ``grad_fn`` is read it is regenerated as an
  ``AsStrided`` node over the base's current history: dv goes into a zero base-shaped gradient at
  the view's positions (added where the view repeats an element).

Both map gradients through storage positions: a scratch buffer as long as the storage, written
and read with the base's and the view's geometry (shape, strides, offset).
"""

from __future__ import annotations

from array import array
from math import prod
from typing import Any

from minigrad._backend import kernels as K
from minigrad.autograd.function import Function, Node, _link


def _geometry(t: Any) -> tuple:
    return t._shape, t._strides, t._offset


def _positions(geometry: tuple) -> array:
    shape, strides, offset = geometry
    return array("q", K.strided_positions(shape, strides, offset))


def _read(buffer: array, geometry: tuple, dt: Any, tensor_class: type) -> Any:
    shape = geometry[0]
    out = _zeros(dt, prod(shape))
    if len(out):
        K.gather(buffer, *geometry, out)
    return tensor_class._make(out, shape, dt)


def _zeros(dt: Any, n: int) -> array:
    return array(dt.typecode, bytes(n * dt.itemsize))


class AsStrided(Function):
    """A view regenerated over its base's current history: y = base's elements at the view's
    storage positions;  dbase = zeros with dy added at those positions."""

    @staticmethod
    def forward(ctx, base, view):  # (never run: the node is linked to an existing view)
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        buffer = _zeros(grad.dtype, ctx.storage_size)
        K.put(buffer, _positions(ctx.view), grad._values(), True)
        return _read(buffer, ctx.base, grad.dtype, type(grad)), None


class CopySlices(Function):
    """The base after an in-place op on one of its views: y = base with the view's region replaced
    by the op's result;  dbase = dy with that region zeroed, dresult = dy's region."""

    @staticmethod
    def forward(ctx, base, result):  # (never run: the node is linked to the written base)
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        buffer = _zeros(grad.dtype, ctx.storage_size)
        K.scatter(buffer, *ctx.base, grad._values())
        grad_result = _read(buffer, ctx.view, grad.dtype, type(grad))
        grad_base = None
        if ctx.needs_input_grad[0]:
            if grad_result.numel():
                K.scatter(buffer, *ctx.view, _zeros(grad.dtype, grad_result.numel()))
            grad_base = _read(buffer, ctx.base, grad.dtype, type(grad))
        return grad_base, grad_result


def _node(function: type[Function], base: Any, view: Any) -> Node:
    ctx = function._node_class()
    ctx.base, ctx.view, ctx.storage_size = _geometry(base), _geometry(view), len(base._storage.data)
    return ctx


def refresh(view: Any) -> None:
    """The storage changed since the view's history was set: regenerate it over the base's."""
    view._view_version = view._storage.version
    base = view._base
    if not base._requires_grad:
        return
    node = _node(AsStrided, base, view)
    _link(node, (base, view), (True, False), view)
    if view._retains_grad:
        node._retain_grad(0, view)


def write_through_view(view: Any, result: Any) -> None:
    """``view`` now holds ``result`` (already written): the base's history becomes CopySlices."""
    base = view._base
    if base._requires_grad and base._grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    node = _node(CopySlices, base, view)
    needs = (base._requires_grad, True)
    node.needs_input_grad = needs
    node.mark_dirty(base)
    _link(node, (base, result), needs, base)
