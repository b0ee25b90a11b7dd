"""Views, copies and joins against torch 2.13.0: values, gradients, and the view geometry
(strides, storage offset, contiguity, shared storage)."""

import random
from math import prod

import pytest
from conftest import check_op, check_raises

import minigrad as mg

torch = pytest.importorskip("torch")

LAYOUTS = ["contiguous", "permuted", "strided"]

VIEWS = {
    "view": lambda x: x.view(4, 6),
    "view_infer": lambda x: x.view(-1, 3),
    "view_tuple": lambda x: x.view((2, 12)),
    "view_flat": lambda x: x.view(-1),
    "reshape": lambda x: x.reshape(6, 4),
    "reshape_list": lambda x: x.reshape([3, -1]),
    "reshape_same": lambda x: x.reshape(2, 3, 4),
    "transpose": lambda x: x.transpose(0, 2),
    "transpose_neg": lambda x: x.transpose(-1, -2),
    "permute": lambda x: x.permute(2, 0, 1),
    "permute_tuple": lambda x: x.permute((1, 2, 0)),
    "permute_neg": lambda x: x.permute(-1, 0, 1),
    "T": lambda x: x.T if x.dim() == 2 else x.permute(2, 1, 0),
    "movedim": lambda x: x.movedim(0, -1),
    "unsqueeze0": lambda x: x.unsqueeze(0),
    "unsqueeze_last": lambda x: x.unsqueeze(-1),
    "unsqueeze_mid": lambda x: x.unsqueeze(2),
    "expand": lambda x: x.unsqueeze(1).expand(2, 5, 3, 4),
    "expand_minus1": lambda x: x.unsqueeze(0).expand(3, -1, -1, -1),
    "expand_as": lambda x: x[:, :1].expand_as(x),
    "flatten": lambda x: x.flatten(),
    "flatten_part": lambda x: x.flatten(1),
    "flatten_range": lambda x: x.flatten(0, 1),
    "int_index": lambda x: x[1],
    "neg_int_index": lambda x: x[-1, 2],
    "slice": lambda x: x[:, 1:],
    "slice_step": lambda x: x[:, ::2, 1:3],
    "slice_neg": lambda x: x[-1:, -2:, :-1],
    "ellipsis": lambda x: x[..., 1],
    "none": lambda x: x[None, :, None],
    "mixed": lambda x: x[1, None, ::2, -1],
    "empty_slice": lambda x: x[:, 3:],
    "select": lambda x: x.select(1, 2),
    "select_neg": lambda x: x.select(-1, -1),
    "narrow": lambda x: x.narrow(2, 1, 2),
    "narrow_neg_start": lambda x: x.narrow(1, -2, 2),
    "chunk": lambda x: x.chunk(2, 2),
    "chunk_uneven": lambda x: x.chunk(2, 1),
    "chunk_more_than_size": lambda x: x.chunk(5, 0),
    "split": lambda x: x.split(2, dim=2),
    "split_uneven": lambda x: x.split(2, 1),
    "split_sizes": lambda x: x.split([1, 3], -1),
    "unbind": lambda x: x.unbind(1),
    "iteration": lambda x: list(x),
    "squeeze_none": lambda x: x[:, :1].squeeze(),
    "squeeze_dim": lambda x: x[:, :1].squeeze(1),
    "squeeze_not_one": lambda x: x.squeeze(0),
    "squeeze_tuple": lambda x: x[:1, :1].squeeze((0, 1)),
    "contiguous": lambda x: x.contiguous(),
    "clone": lambda x: x.clone(),
    "detach_then_mul": lambda x: x * x.detach(),
    "data_then_mul": lambda x: x * x.data,
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(VIEWS))
def test_values_and_gradients(name, layout):
    fn = VIEWS[name]
    if layout != "contiguous" and name.startswith("view"):  # views of these layouts raise, see below

        def fn(x, view=VIEWS[name]):
            return view(x.contiguous())

    check_op([(2, 3, 4)], fn, layout=layout)


def _geometry(t):
    return tuple(t.shape), tuple(t.stride()), t.storage_offset(), t.is_contiguous()


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_geometry_matches_torch(name):
    """The same strides and offsets as torch: a view reads the same storage positions."""
    values = list(range(24))
    t_base, m_base = torch.tensor(values).reshape(2, 3, 4), mg.tensor(values).reshape(2, 3, 4)
    t_out, m_out = VIEWS[name](t_base), VIEWS[name](m_base)
    t_outs = t_out if isinstance(t_out, (tuple, list)) else [t_out]
    m_outs = m_out if isinstance(m_out, (tuple, list)) else [m_out]
    for t, m in zip(t_outs, m_outs, strict=True):
        assert _geometry(m) == _geometry(t)
        shares = t.untyped_storage().data_ptr() == t_base.untyped_storage().data_ptr()
        assert (m._storage is m_base._storage) == shares


@pytest.mark.parametrize("layout", ["permuted", "strided"])
@pytest.mark.parametrize("name", ["transpose", "slice_step", "select", "expand", "unsqueeze_mid", "int_index"])
def test_view_geometry_of_non_contiguous_inputs(name, layout):
    values = list(range(48))
    if layout == "permuted":
        t_base, m_base = torch.tensor(values[:24]).reshape(3, 2, 4), mg.tensor(values[:24]).reshape(3, 2, 4)
        t_base, m_base = t_base.permute(1, 0, 2), m_base.permute(1, 0, 2)
    else:
        t_base, m_base = torch.tensor(values).reshape(4, 3, 4)[::2], mg.tensor(values).reshape(4, 3, 4)[::2]
    t, m = VIEWS[name](t_base), VIEWS[name](m_base)
    assert _geometry(m) == _geometry(t)
    assert m.tolist() == t.tolist()


def test_reshape_copies_only_when_it_must():
    t, m = torch.arange(6.0).reshape(2, 3).t(), mg.arange(6.0).reshape(2, 3).t()
    t_r, m_r = t.reshape(6), m.reshape(6)
    assert m_r._storage is not m._storage
    assert m_r.tolist() == t_r.tolist()
    t_v, m_v = t.reshape(3, 2), m.reshape(3, 2)
    assert m_v._storage is m._storage and _geometry(m_v) == _geometry(t_v)


def test_view_of_size_one_dims_with_odd_strides():
    t = torch.arange(24.0).reshape(2, 3, 4)[:, 1:2].permute(2, 1, 0)
    m = mg.arange(24.0).reshape(2, 3, 4)[:, 1:2].permute(2, 1, 0)
    assert _geometry(m) == _geometry(t)
    for shape in [(4, 2), (4, 1, 2, 1), (2, 2, 2), (8,), (2, 4), (1, 4, 2)]:
        try:
            expected = _geometry(t.view(*shape))
        except RuntimeError:
            check_raises(lambda s=shape: t.view(*s), lambda s=shape: m.view(*s), exact=True)
        else:
            assert _geometry(m.view(*shape)) == expected


def test_views_share_storage_and_version():
    t_base = torch.zeros(2, 3)
    m_base = mg.zeros(2, 3)
    for t_view, m_view in [
        (t_base[1], m_base[1]),
        (t_base.t(), m_base.t()),
        (t_base.view(6), m_base.view(6)),
        (t_base[:, 1:], m_base[:, 1:]),
        (t_base.select(1, 0), m_base.select(1, 0)),
        (t_base.narrow(0, 1, 1), m_base.narrow(0, 1, 1)),
        (t_base.unsqueeze(0), m_base.unsqueeze(0)),
        (t_base.detach(), m_base.detach()),
        (t_base.data, m_base.data),
    ]:
        version = m_base._version
        t_view.add_(1)
        m_view.add_(1)
        assert m_base.tolist() == t_base.tolist()
        assert m_base._version == version + 1 and m_view._version == m_base._version
    t_base.chunk(2, 1)[1].mul_(3)
    m_base.chunk(2, 1)[1].mul_(3)
    next(iter(t_base)).sub_(1)
    next(iter(m_base)).sub_(1)
    assert m_base.tolist() == t_base.tolist()


def test_contiguous_returns_self_when_contiguous():
    m = mg.ones(2, 3)
    assert m.contiguous() is m
    assert m.t().contiguous() is not m and m.t().contiguous().is_contiguous()


def test_clone_does_not_share_storage():
    m = mg.ones(2, 3)
    c = m.clone()
    c.add_(1)
    assert m.tolist() == [[1.0] * 3] * 2 and c.tolist() == [[2.0] * 3] * 2


def test_0d():
    check_op([()], lambda x: x.view(1, 1))
    check_op([()], lambda x: x.reshape(-1))
    check_op([()], lambda x: x.unsqueeze(0))
    check_op([()], lambda x: x.expand(3, 2))
    check_op([()], lambda x: x.squeeze())
    check_op([()], lambda x: x.t())
    check_op([()], lambda x: x.flatten())
    check_op([()], lambda x: x[None])
    check_op([()], lambda x: x[...])
    check_op([(1,)], lambda x: x.view(()))
    check_op([(1, 1)], lambda x: x.squeeze())


def test_empty():
    check_op([(0, 3)], lambda x: x.view(3, 0))
    check_op([(0, 3)], lambda x: x.reshape(3, 0, 1))
    check_op([(0, 3)], lambda x: x.t())
    check_op([(0, 3)], lambda x: x.unbind(1))
    check_op([(2, 0)], lambda x: x.split(1))


# -- cat and stack -----------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_cat(layout):
    check_op([(2, 3), (4, 3)], lambda x, y: torch.cat([x, y]), lambda x, y: mg.cat([x, y]), layout=layout)
    check_op([(2, 3), (2, 1)], lambda x, y: torch.cat((x, y), 1), lambda x, y: mg.cat((x, y), 1), layout=layout)
    check_op([(2, 3), (2, 3)], lambda x, y: torch.cat([x, y, x], -1), lambda x, y: mg.cat([x, y, x], -1))
    check_op([(2, 3, 2), (2, 1, 2)], lambda x, y: torch.cat([y, x], dim=1), lambda x, y: mg.cat([y, x], dim=1))
    check_op([(2, 3)], lambda x: torch.cat([x]), lambda x: mg.cat([x]))


def test_cat_with_empty_and_mixed_dtypes():
    check_op([(0, 3), (2, 3)], lambda x, y: torch.cat([x, y]), lambda x, y: mg.cat([x, y]))
    t_i, m_i = torch.tensor([[1, 2, 3]]), mg.tensor([[1, 2, 3]])
    check_op([(2, 3)], lambda x: torch.cat([x, t_i]), lambda x: mg.cat([x, m_i]))
    t_d, m_d = torch.ones(1, 3, dtype=torch.float64), mg.ones(1, 3, dtype=mg.float64)
    check_op([(2, 3)], lambda x: torch.cat([x, t_d]), lambda x: mg.cat([x, m_d]))
    check_op([], lambda: torch.cat([t_i, t_i], 1), lambda: mg.cat([m_i, m_i], 1), grad=False)


def test_cat_legacy_empty_1d_is_skipped():
    # torch skips 1-D empty tensors of shape (0,) whatever the other shapes are
    check_op([(2, 3)], lambda x: torch.cat([torch.ones(0), x]), lambda x: mg.cat([mg.ones(0), x]))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_stack(layout):
    check_op([(2, 3), (2, 3)], lambda x, y: torch.stack([x, y]), lambda x, y: mg.stack([x, y]), layout=layout)
    check_op([(2, 3), (2, 3)], lambda x, y: torch.stack((x, y), 1), lambda x, y: mg.stack((x, y), 1))
    check_op([(2, 3), (2, 3)], lambda x, y: torch.stack([x, y, x], -1), lambda x, y: mg.stack([x, y, x], -1))
    check_op([(), ()], lambda x, y: torch.stack([x, y]), lambda x, y: mg.stack([x, y]))
    check_op([(3,)], lambda x: torch.stack(list(x)), lambda x: mg.stack(list(x)))


def test_module_level_shape_functions():
    for name, args in [
        ("reshape", ((6, 4),)),
        ("permute", ((2, 0, 1),)),
        ("transpose", (0, 1)),
        ("squeeze", ()),
        ("unsqueeze", (1,)),
        ("flatten", ()),
        ("narrow", (1, 0, 2)),
        ("select", (2, 1)),
        ("chunk", (2,)),
        ("split", (1,)),
        ("unbind", ()),
        ("clone", ()),
    ]:
        check_op(
            [(2, 3, 4)],
            lambda x, name=name, args=args: getattr(torch, name)(x, *args),
            lambda x, name=name, args=args: getattr(mg, name)(x, *args),
        )
    check_op([(2, 3)], lambda x: torch.t(x), lambda x: mg.t(x))


# -- bad input ---------------------------------------------------------------------------------------


def _pair(*shape):
    return torch.ones(*shape), mg.ones(*shape)


SHAPE_ERRORS = {
    "view size": (lambda x: x.view(5, 5), "shape '[5, 5]' is invalid for input of size 24"),
    "view two -1": (lambda x: x.view(-1, -1), "only one dimension can be inferred"),
    "view negative": (lambda x: x.view(-2, 12), "invalid shape dimension -2"),
    "reshape size": (lambda x: x.reshape(7, -1), "shape '[7, -1]' is invalid for input of size 24"),
    "view non-contiguous": (lambda x: x.transpose(0, 1).view(24), "view size is not compatible with input tensor's"),
    "permute length": (lambda x: x.permute(0, 1), "number of dimensions in the tensor input does not match"),
    "permute repeat": (lambda x: x.permute(0, 1, 1), "duplicate dims are not allowed."),
    "transpose dim": (lambda x: x.transpose(0, 3), "Dimension out of range"),
    "expand mismatch": (
        lambda x: x.expand(2, 5, 4),
        "The expanded size of the tensor (5) must match the existing size",
    ),
    "expand fewer": (lambda x: x.expand(3, 4), "the number of sizes provided (2) must be greater or equal"),
    "reshape empty ambiguous": (lambda x: x[:0].reshape(0, -1), "cannot reshape tensor of 0 elements"),
    "narrow negative length": (lambda x: x.narrow(1, 0, -1), "narrow(): length must be non-negative."),
    "split negative": (lambda x: x.split(-1), "split expects split_size be non-negative, but got split_size=-1"),
    "split zero": (lambda x: x.split(0), "split_size can only be 0 if dimension size is 0"),
    "split negative sizes": (lambda x: x.split([3, -1], 2), "expects split_sizes have only non-negative entries"),
    "unbind dim": (lambda x: x.unbind(3), "Dimension out of range"),
    "t 3-d": (lambda x: x.t(), "t() expects a tensor with <= 2 dimensions, but self is 3D"),
    "unsqueeze dim": (
        lambda x: x.unsqueeze(4),
        "Dimension out of range (expected to be in range of [-4, 3], but got 4)",
    ),
    "squeeze dim": (lambda x: x.squeeze(3), "Dimension out of range"),
    "select index": (
        lambda x: x.select(1, 3),
        "select(): index 3 out of range for tensor of size [2, 3, 4] at dimension 1",
    ),
    "int index": (lambda x: x[2], "index 2 is out of bounds for dimension 0 with size 2"),
    "neg int index": (lambda x: x[:, -4], "index -4 is out of bounds for dimension 1 with size 3"),
    "too many indices": (lambda x: x[0, 0, 0, 0], "too many indices for tensor of dimension 3"),
    "narrow length": (lambda x: x.narrow(2, 3, 2), "start (3) + length (2) exceeds dimension size (4)."),
    "narrow start": (lambda x: x.narrow(0, 5, 0), "start out of range (expected to be in range of [-2, 2], but got 5)"),
    "split sizes": (lambda x: x.split([1, 1], 2), "split_with_sizes expects split_sizes to sum exactly to 4"),
    "chunk zero": (lambda x: x.chunk(0), "chunk expects `chunks` to be greater than 0, got: 0"),
    "flatten order": (lambda x: x.flatten(2, 1), "flatten() has invalid args: start_dim cannot come after end_dim"),
    "step zero": (lambda x: x[::0], "slice step cannot be zero"),
    "negative step": (lambda x: x[::-1], "step must be greater than zero"),
}


@pytest.mark.parametrize("name", sorted(SHAPE_ERRORS))
def test_shape_errors(name):
    fn, fragment = SHAPE_ERRORS[name]
    t, m = _pair(2, 3, 4)
    check_raises(lambda: fn(t), lambda: fn(m), fragment)


def test_cat_errors():
    (ta, ma), (tb, mb) = _pair(2, 3), _pair(2, 4)
    check_raises(
        lambda: torch.cat([ta, tb]),
        lambda: mg.cat([ma, mb]),
        "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1",
        exact=True,
    )
    (tc, mc) = _pair(2, 3, 1)
    check_raises(lambda: torch.cat([ta, tc]), lambda: mg.cat([ma, mc]), "Tensors must have same number of dimensions")
    check_raises(lambda: torch.cat([]), lambda: mg.cat([]), "expected a non-empty list of Tensors")
    (td, md) = torch.tensor(1.0), mg.tensor(1.0)
    check_raises(lambda: torch.cat([td, td]), lambda: mg.cat([md, md]), "zero-dimensional tensor (at position 0)")
    check_raises(lambda: torch.cat([ta, ta], 2), lambda: mg.cat([ma, ma], 2), "Dimension out of range")


def test_stack_errors():
    (ta, ma), (tb, mb) = _pair(2, 3), _pair(3, 2)
    check_raises(
        lambda: torch.stack([ta, tb]),
        lambda: mg.stack([ma, mb]),
        "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [3, 2] at entry 1",
        exact=True,
    )
    check_raises(lambda: torch.stack([]), lambda: mg.stack([]), "stack expects a non-empty TensorList", exact=True)
    check_raises(lambda: torch.stack([ta, ta], 3), lambda: mg.stack([ma, ma], 3), "Dimension out of range")


def test_len_and_iteration_of_0d_raise():
    t, m = torch.tensor(1.0), mg.tensor(1.0)
    check_raises(lambda: len(t), lambda: len(m), "len() of a 0-d tensor", exact=True)
    check_raises(lambda: iter(t), lambda: iter(m), "iteration over a 0-d tensor", exact=True)


def test_view_rules_on_random_layouts():
    """torch's computeStride: a view exists exactly when torch has one, with the same strides."""
    rng = random.Random(7)
    for _ in range(150):
        shape = tuple(rng.choice([1, 2, 3, 4]) for _ in range(rng.randint(1, 4)))
        order = list(range(len(shape)))
        rng.shuffle(order)
        values = list(range(prod(shape)))
        t, m = torch.tensor(values).reshape(shape).permute(*order), mg.tensor(values).reshape(shape).permute(*order)
        if rng.random() < 0.5:
            d = rng.randrange(len(shape))
            t, m = t.narrow(d, 0, max(1, t.shape[d] - 1)), m.narrow(d, 0, max(1, m.shape[d] - 1))
        target = _random_factorization(t.numel(), rng)
        try:
            expected = _geometry(t.view(*target))
        except RuntimeError:
            check_raises(lambda t=t, s=target: t.view(*s), lambda m=m, s=target: m.view(*s), exact=True)
        else:
            assert _geometry(m.view(*target)) == expected, (t.shape, t.stride(), target)


def _random_factorization(n, rng):
    """A random shape with n elements, sometimes with extra size-1 dims."""
    target, rest = [], n
    while rest > 1:
        factor = rng.choice([d for d in range(2, rest + 1) if rest % d == 0])
        target.append(factor)
        rest //= factor
    for _ in range(rng.randint(0, 2)):
        target.insert(rng.randrange(len(target) + 1), 1)
    return target or [1]


ZERO_D_ERRORS = {
    "unbind": lambda x: x.unbind(0),
    "chunk": lambda x: x.chunk(2),
    "split": lambda x: x.split(1),
    "narrow": lambda x: x.narrow(0, 0, 1),
    "select": lambda x: x.select(0, 0),
    "int index": lambda x: x[0],
    "permute": lambda x: x.permute(0),
    "unsqueeze": lambda x: x.unsqueeze(1),
}


@pytest.mark.parametrize("name", sorted(ZERO_D_ERRORS))
def test_0d_errors(name):
    fn = ZERO_D_ERRORS[name]
    check_raises(lambda: fn(torch.tensor(1.0)), lambda: fn(mg.tensor(1.0)), exact=True)


def test_transpose_nodes_are_named_as_torchs():
    t_x, m_x = torch.ones(2, 3, requires_grad=True), mg.ones(2, 3, requires_grad=True)
    for op in (lambda x: x.t(), lambda x: x.transpose(0, 1), lambda x: x.transpose(-1, 0)):
        assert op(m_x).grad_fn.name() + "0" == op(t_x).grad_fn.name()
