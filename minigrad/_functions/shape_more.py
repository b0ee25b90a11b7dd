"""More shape and linear-algebra operations: diagonals, triangles, einsum, rolls, tiles, grids.

Most are compositions of existing differentiable ops (``permute``, ``reshape``, ``expand``,
``cat``, ``where``, ``bmm``, ``gather``), so their gradients come from those; ``diagonal`` is a
strided view with its own backward, and ``diag`` of a vector writes into such a view.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from math import prod
from typing import Any

from minigrad._dtype import bool_, int32, int64, scalar_type_name
from minigrad._functions.indexing import gather
from minigrad._functions.linalg import bmm
from minigrad._functions.pointwise import Where
from minigrad._functions.views import as_shape, cat, permute, reshape
from minigrad._shape import broadcast_shapes, normalize_dim
from minigrad._tensor import Tensor, zeros_for
from minigrad.autograd.function import Function

# -- diagonals -----------------------------------------------------------------------------------


def _diagonal_view(x: Tensor, offset: int, dim1: int, dim2: int) -> Tensor:
    """The view of x's diagonal (dims dim1 and dim2 removed, the diagonal appended last)."""
    n1, n2 = x._shape[dim1], x._shape[dim2]
    length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    start = x._offset
    if length:
        start += offset * x._strides[dim2] if offset >= 0 else -offset * x._strides[dim1]
    keep = [d for d in range(x.dim()) if d not in (dim1, dim2)]
    shape = tuple([x._shape[d] for d in keep]) + (length,)
    strides = tuple([x._strides[d] for d in keep]) + (x._strides[dim1] + x._strides[dim2],)
    return x._view(shape, strides, start)


class Diagonal(Function):
    """y = the diagonal of x over (dim1, dim2), a view;  dx = zeros with dy written on that diagonal."""

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.shape, ctx.args = x._shape, (offset, dim1, dim2)
        return _diagonal_view(x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, grad):
        out = zeros_for(ctx.shape, grad.dtype)
        _diagonal_view(out, *ctx.args)._write(grad._values())
        return out, None, None, None


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal ``offset`` above (below, when negative) the main one of the (dim1, dim2) planes."""
    n = input.dim()
    d1, d2 = normalize_dim(dim1, n), normalize_dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset, d1, d2)


class DiagEmbed(Function):
    """y = a square matrix with x on diagonal ``offset`` and zeros elsewhere;  dx = that diagonal of dy."""

    @staticmethod
    def forward(ctx, x, offset):
        size = x._shape[0] + abs(offset)
        out = zeros_for((size, size), x.dtype)
        _diagonal_view(out, offset, 0, 1)._write(x._values())
        ctx.offset = offset
        return out

    @staticmethod
    def backward(ctx, grad):
        return _diagonal_view(grad, ctx.offset, 0, 1)._copy(), None


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A vector's square matrix (the vector on diagonal ``diagonal``), or a matrix's diagonal."""
    if input.dim() == 1:
        return DiagEmbed.apply(input, diagonal)
    if input.dim() == 2:
        return Diagonal.apply(input, diagonal, 0, 1)
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{input.dim()}D")


def trace(input: Tensor) -> Tensor:
    """The sum of a matrix's main diagonal (integers sum as int64)."""
    if input.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    return Diagonal.apply(input, 0, 0, 1).sum()


def _triangle(input: Tensor, diagonal: int, upper: bool, name: str) -> Tensor:
    if input.dim() < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    rows, cols = input._shape[-2:]
    keep = [(j - i >= diagonal) if upper else (j - i <= diagonal) for i in range(rows) for j in range(cols)]
    mask = Tensor._make(array("B", keep), (rows, cols), bool_)
    return Where.apply(mask, input, False if input.dtype is bool_ else 0)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (on and below ``diagonal``); the rest is zero."""
    return _triangle(input, diagonal, False, "tril")


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (on and above ``diagonal``); the rest is zero."""
    return _triangle(input, diagonal, True, "triu")


# -- products ------------------------------------------------------------------------------------


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """The inner product of two 1-d tensors of one dtype and length."""
    if input.dim() != 1 or tensor.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {tensor.dim()}D tensors")
    if input.dtype is not tensor.dtype:
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{scalar_type_name(input.dtype)} and {scalar_type_name(tensor.dtype)}"
        )
    if input._shape != tensor._shape:
        raise RuntimeError(
            "inconsistent tensor size, expected tensor [{}] and src [{}] to have the same number of elements, but "
            "got {} and {} elements respectively".format(input.numel(), tensor.numel(), input.numel(), tensor.numel())
        )
    return bmm(input.reshape(1, 1, -1), tensor.reshape(1, -1, 1)).reshape(())


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The matrix input[i] * vec2[j] of two 1-d tensors."""
    if input.dim() != 1 or vec2.dim() != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.dim()}-D")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation: ``einsum("ij,jk->ik", a, b)``; without ``->`` the output is the
    indices seen once, in alphabetical order. Repeated indices in one operand take its diagonal;
    ``...`` stands for the dims no letter names. Pairs contract through ``bmm`` (as torch's)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise RuntimeError(
            "einsum(): more operands were provided than specified in the equation"
            if len(operands) > len(terms)
            else "einsum(): fewer operands were provided than specified in the equation"
        )
    ellipsis_dims = max(
        [t.dim() - len(term.replace("...", "")) for t, term in zip(operands, terms) if "..." in term] or [0]
    )
    spare = "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in equation)[:ellipsis_dims]
    subs = []
    for t, term in zip(operands, terms):
        if "..." in term:
            own = t.dim() - len(term.replace("...", ""))
            term = term.replace("...", spare[ellipsis_dims - own :])
        if len(term) != t.dim():
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(term)}) does not match the number of "
                f"dimensions ({t.dim()}) for operand {len(subs)}"
                + ("" if "..." in lhs else " and no ellipsis was given")
            )
        subs.append(term)
    if arrow:
        out = rhs.replace("...", spare)
    else:
        counts = {c: "".join(subs).count(c) for c in "".join(subs)}
        out = spare + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in spare))
    for c in out:
        if out.count(c) > 1:
            raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
        if not any(c in term for term in subs):
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input operand")
    sizes: dict = {}
    for k, (t, term) in enumerate(zip(operands, subs)):
        for c, s in zip(term, t._shape):
            if sizes.setdefault(c, s) != s and 1 not in (s, sizes[c]):
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {s} for operand {k} which does not broadcast with "
                    f"previously seen size {sizes[c]}"
                )
            sizes[c] = max(sizes[c], s)
    # a letter of size 1 in one operand broadcasts to its size in the others
    operands = [t.expand(*[sizes[c] for c in term]) if t.dim() else t for t, term in zip(operands, subs)]
    pieces = [_own_diagonal(t, term) for t, term in zip(operands, subs)]
    tensor, term = pieces[0]
    for k in range(1, len(pieces)):
        needed = set(out).union(*[set(p[1]) for p in pieces[k + 1 :]])
        tensor, term = _contract(tensor, term, *pieces[k], needed)
    tensor, term = _sum_out(tensor, term, set(out))
    return permute(tensor, tuple(term.index(c) for c in out))  # a view even when nothing moves, as torch's


def _own_diagonal(t: Tensor, term: str) -> tuple[Tensor, str]:
    """Take the diagonal over every letter repeated within one operand ('ii->i')."""
    while len(set(term)) < len(term):
        c = next(c for c in term if term.count(c) > 1)
        i, j = term.index(c), term.index(c, term.index(c) + 1)
        t = diagonal(t, 0, i, j)
        term = term[:i] + term[i + 1 : j] + term[j + 1 :] + c
    return t, term


def _sum_out(t: Tensor, term: str, keep: set) -> tuple[Tensor, str]:
    gone = [i for i, c in enumerate(term) if c not in keep]
    if not gone:
        return t, term
    return t.sum(tuple(gone)), "".join(c for c in term if c in keep)


def _contract(a: Tensor, a_term: str, b: Tensor, b_term: str, needed: set) -> tuple[Tensor, str]:
    """a and b multiplied and summed over the letters they share that are not ``needed`` later:
    a as (batch, left, summed), b as (batch, summed, right), one bmm."""
    a, a_term = _sum_out(a, a_term, needed | set(b_term))
    b, b_term = _sum_out(b, b_term, needed | set(a_term))
    batch = [c for c in a_term if c in b_term and c in needed]
    summed = [c for c in a_term if c in b_term and c not in needed]
    left = [c for c in a_term if c not in b_term]
    right = [c for c in b_term if c not in a_term]

    def size(t: Tensor, term: str, letters: list) -> list:
        return [t._shape[term.index(c)] for c in letters]

    shape_batch = [max(x, y) for x, y in zip(size(a, a_term, batch), size(b, b_term, batch))]
    a3 = permute(a, tuple(a_term.index(c) for c in batch + left + summed))
    a3 = a3.expand(*shape_batch, *size(a, a_term, left), *size(a, a_term, summed))
    b3 = permute(b, tuple(b_term.index(c) for c in batch + summed + right))
    b3 = b3.expand(*shape_batch, *size(b, b_term, summed), *size(b, b_term, right))
    nb, nl, ns, nr = (
        prod(shape_batch),
        prod(size(a, a_term, left)),
        prod(size(a, a_term, summed)),
        prod(size(b, b_term, right)),
    )
    product = bmm(reshape(a3, (nb, nl, ns)), reshape(b3, (nb, ns, nr)))
    shape = tuple(shape_batch + size(a, a_term, left) + size(b, b_term, right))
    return reshape(product, shape), "".join(batch + left + right)


# -- rearranging ---------------------------------------------------------------------------------


def roll(input: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
    """Elements shifted cyclically along dims (the flattened tensor when dims is None)."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"`shifts` required to be of size 1 if `dims` is None, but got {len(shifts)}")
        return roll(input.flatten(), shifts, 0).reshape(input._shape)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    x = input
    for shift, dim in zip(shifts, dims):
        d = normalize_dim(dim, x.dim())
        n = x._shape[d] if x._shape else 1
        s = shift % n if n else 0
        if s:
            x = cat([x.narrow(d, n - s, s), x.narrow(d, 0, n - s)], d)
    return x if x is not input else input.clone()


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    """input repeated dims[i] times along each dim (dims padded with 1s on the left, or the input
    given leading dims of size 1, to the longer length)."""
    reps = as_shape((dims,)) if isinstance(dims, int) else tuple(dims)
    n = max(len(reps), input.dim())
    reps = (1,) * (n - len(reps)) + reps
    shape = (1,) * (n - input.dim()) + input._shape
    if any(r < 0 for r in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(reps)}: {list(reps)}")
    interleaved = tuple(v for s in shape for v in (1, s))
    grown = tuple(v for r, s in zip(reps, shape) for v in (r, s))
    return reshape(input.reshape(interleaved).expand(*grown), tuple(r * s for r, s in zip(reps, shape)))


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:
    return input.expand(*size)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids of 1-d (or 0-d) tensors; 'xy' swaps the first two dims (matrix vs Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in tensors:
        if t.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    sizes = [t.numel() for t in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        order[0], order[1] = 1, 0
    full = tuple(sizes[i] for i in order)
    grids = []
    for k, t in enumerate(tensors):
        shape = [1] * len(tensors)
        shape[order.index(k)] = sizes[k]
        grids.append(t.reshape(shape).expand(*full))
    return tuple(grids)


def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """The dims at ``source`` moved to ``destination``; the others keep their order."""
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    n = input.dim()
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain the same number "
            f"of dims as destination ({list(dst)} dims)"
        )
    src = tuple(normalize_dim(d, n) for d in src)
    dst = tuple(normalize_dim(d, n) for d in dst)
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError("movedim: repeated dim in `source` or `destination`")
    if n == 0:  # a 0-d tensor: only dim 0 (-1) to itself, which leaves it as it is
        return permute(input, ())
    order = [-1] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(n) if d not in src)
    order = [o if o >= 0 else next(rest) for o in order]
    return permute(input, tuple(order))


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    return input.transpose(axis0, axis1)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Dim ``dim`` split into ``sizes`` (one of them may be -1)."""
    d = normalize_dim(dim, input.dim())
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if sizes.count(-1) == 0 and prod(sizes) != input._shape[d]:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({input._shape[d]}) in the input tensor"
        )
    return input.reshape(input._shape[:d] + sizes + input._shape[d + 1 :])


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """input's values at ``indices`` along dim (the flattened input when dim is None); the other
    dims broadcast between input and indices."""
    if indices.dtype not in (int64, int32):
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    indices = indices.long()
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    if input.dim() != indices.dim():
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of dimensions, but got "
            f"{input.dim()} dimensions for input, and {indices.dim()} dimensions for indices"
        )
    d = normalize_dim(dim, input.dim())
    shape_in, shape_ix = list(input._shape), list(indices._shape)
    shape_in[d], shape_ix[d] = 1, 1
    common = list(broadcast_shapes(tuple(shape_in), tuple(shape_ix)))
    x_shape, i_shape = common[:], common[:]
    x_shape[d], i_shape[d] = input._shape[d], indices._shape[d]
    return gather(input.expand(*x_shape), d, indices.expand(*i_shape))


def nonzero_tuple(condition: Tensor) -> tuple[Tensor, ...]:
    """``where(condition)``: the coordinates of the nonzero elements, one int64 tensor per dim."""
    values = condition._values()
    shape = condition._shape or (1,)
    hits = [k for k, v in enumerate(values) if v]
    coords = []
    for d in range(len(shape)):
        step = prod(shape[d + 1 :])
        coords.append(Tensor._make(array("q", [(k // step) % shape[d] for k in hits]), (len(hits),), int64))
    return tuple(coords)
