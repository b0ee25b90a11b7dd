"""The Tensor's own API against torch 2.13.0: properties, conversions, ``.data``/``detach``/
``clone``, in-place ops and their version counter, and the errors of bad calls."""

import pytest
from conftest import assert_same, check_op, check_raises

import minigrad as mg

torch = pytest.importorskip("torch")


def _both(values, dtype="float32", requires_grad=False):
    return (
        torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=requires_grad),
        mg.tensor(values, dtype=getattr(mg, dtype), requires_grad=requires_grad),
    )


def test_properties():
    t, m = torch.zeros(2, 3, 4)[:, 1:], mg.zeros(2, 3, 4)[:, 1:]
    assert tuple(m.shape) == tuple(t.shape) and tuple(m.size()) == tuple(t.size())
    assert m.size(1) == t.size(1) and m.size(-1) == t.size(-1)
    assert m.dim() == t.dim() == m.ndim
    assert m.numel() == t.numel() == m.nelement()
    assert m.stride() == t.stride() and m.stride(0) == t.stride(0)
    assert m.is_contiguous() == t.is_contiguous()
    assert isinstance(m.shape, tuple) and m.shape == (2, 2, 4)
    assert repr(m.shape) == "minigrad.Size([2, 2, 4])"
    assert m.element_size() == t.element_size()
    assert m.is_floating_point() and not mg.zeros(1, dtype=mg.int64).is_floating_point()
    s, n = torch.tensor(2.0), mg.tensor(2.0)
    assert n.dim() == s.dim() == 0 and n.numel() == 1 and tuple(n.shape) == () and n.size() == ()
    check_raises(lambda: t.size(3), lambda: m.size(3), "Dimension out of range", exact=True)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_item_and_tolist(dtype):
    values = {"bool": [[True, False]], "int64": [[3, -2]]}.get(dtype, [[0.1, -2.5]])
    t, m = _both(values, dtype)
    assert m.tolist() == t.tolist()
    assert m[0, 1].item() == t[0, 1].item() and type(m[0, 1].item()) is type(t[0, 1].item())
    assert m.t()[1].tolist() == t.t()[1].tolist()
    assert m[0, 0].tolist() == t[0, 0].tolist()
    assert float(m[0, 0]) == float(t[0, 0]) and int(m[0, 1]) == int(t[0, 1]) and bool(m[0, 0]) == bool(t[0, 0])


def test_item_of_a_view_reads_the_right_element():
    t, m = torch.arange(6.0).reshape(2, 3).t()[2:, 1:], mg.arange(6.0).reshape(2, 3).t()[2:, 1:]
    assert m.item() == t.item() == 5.0


def test_item_errors():
    t, m = torch.ones(2), mg.ones(2)
    check_raises(
        lambda: t.item(), lambda: m.item(), "a Tensor with 2 elements cannot be converted to Scalar", exact=True
    )
    check_raises(lambda: float(t), lambda: float(m), "only one element tensors can be converted to Python scalars")
    check_raises(lambda: int(t), lambda: int(m), exact=True)
    check_raises(lambda: bool(t), lambda: bool(m), "Boolean value of Tensor with more than one value is ambiguous")
    e, n = torch.ones(0), mg.ones(0)
    check_raises(lambda: e.item(), lambda: n.item(), "a Tensor with 0 elements cannot be converted to Scalar")


def test_index_dunder():
    t, m = torch.tensor(2), mg.tensor(2)
    assert [10, 20, 30][m] == [10, 20, 30][t] == 30
    check_raises(
        lambda: [1][torch.tensor(0.0)], lambda: [1][mg.tensor(0.0)], "only integer tensors of a single element"
    )


def test_data_and_detach_share_storage_without_history():
    t, m = _both([1.0, 2.0], requires_grad=True)
    for fn in [lambda x: x.data, lambda x: x.detach()]:
        t_d, m_d = fn(t * 2), fn(m * 2)
        assert not m_d.requires_grad and m_d.grad_fn is None and m_d.is_leaf
        assert m_d.requires_grad == t_d.requires_grad
    m.data.mul_(3)
    t.data.mul_(3)
    assert m.tolist() == t.tolist() and m.requires_grad
    m.detach().add_(1)
    t.detach().add_(1)
    assert m.tolist() == t.tolist()


def test_data_setter_replaces_the_values():
    t, m = _both([1.0, 2.0], requires_grad=True)
    t.data = torch.tensor([5.0, 6.0, 7.0])
    m.data = mg.tensor([5.0, 6.0, 7.0])
    assert m.tolist() == t.tolist() and tuple(m.shape) == tuple(t.shape) and m.requires_grad


def test_clone_keeps_history_and_copies():
    check_op([(2, 3)], lambda x: x.clone() * x)
    check_op([(2, 3)], lambda x: x.t().clone())
    t, m = _both([1.0, 2.0], requires_grad=True)
    assert m.clone().grad_fn is not None and m.clone().requires_grad == t.clone().requires_grad


def test_requires_grad_propagation():
    t, m = _both([1.0, 2.0], requires_grad=True)
    t_n, m_n = _both([3.0, 4.0])
    assert (m * m_n).requires_grad and not (m_n * 2).requires_grad
    assert (m * m_n).grad_fn is not None and (m * m_n).is_leaf is False
    with mg.no_grad():
        assert not (m * 2).requires_grad
    assert not m.detach().requires_grad
    assert (m > 1).requires_grad == (t > 1).requires_grad
    assert m.argmax().requires_grad == t.argmax().requires_grad
    assert m.long().requires_grad == t.long().requires_grad


def test_requires_grad_errors():
    t, m = _both([1.0, 2.0], requires_grad=True)
    check_raises(
        lambda: setattr(t * 2, "requires_grad", False),
        lambda: setattr(m * 2, "requires_grad", False),
        "you can only change requires_grad flags of leaf variables.",
    )


def test_backward_errors():
    t, m = _both([1.0, 2.0], requires_grad=True)
    check_raises(
        lambda: (t * 2).backward(),
        lambda: (m * 2).backward(),
        "grad can be implicitly created only for scalar outputs",
        exact=True,
    )
    t_n, m_n = _both([1.0, 2.0])
    check_raises(
        lambda: t_n.sum().backward(),
        lambda: m_n.sum().backward(),
        "element 0 of tensors does not require grad and does not have a grad_fn",
        exact=True,
    )
    check_raises(
        lambda: (t * 2).backward(torch.ones(3)),
        lambda: (m * 2).backward(mg.ones(3)),
        "Mismatch in shape: grad_output[0] has a shape of",
    )


def test_backward_with_explicit_gradient():
    check_op([(2, 3)], lambda x: x * 2)  # check_op itself passes weights; here, backward(gradient)
    t, m = _both([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (t * t).backward(torch.tensor([[1.0, -1.0], [0.5, 2.0]]))
    (m * m).backward(mg.tensor([[1.0, -1.0], [0.5, 2.0]]))
    assert_same(m.grad, t.grad)


def test_gradients_accumulate_across_backward_calls():
    t, m = _both([1.0, 2.0], requires_grad=True)
    for _ in range(2):
        (t * t).sum().backward()
        (m * m).sum().backward()
    assert_same(m.grad, t.grad)


def test_iteration_and_len():
    t, m = torch.arange(6.0).reshape(3, 2), mg.arange(6.0).reshape(3, 2)
    assert len(m) == len(t) == 3
    assert [row.tolist() for row in m] == [row.tolist() for row in t]
    check_op([(3, 2)], lambda x: sum(row * (i + 1) for i, row in enumerate(x)))


def test_type_and_casts():
    t, m = _both([1.5, -2.5])
    assert m.type() == "minigrad.FloatTensor"
    assert_same(m.type(mg.float64), t.type(torch.float64))
    assert_same(m.long(), t.long())
    assert_same(m.double(), t.double())
    assert_same(m.bool(), t.bool())
    assert_same(m.long().float(), t.long().float())
    assert_same(m.type_as(mg.ones(1, dtype=mg.int64)), t.type_as(torch.ones(1, dtype=torch.int64)))
    assert m.to(mg.float32) is m and m.float() is m


def test_equal_and_allclose():
    a, b, c = mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.0 + 1e-6]), mg.tensor([1.0, 2.1])
    assert a.equal(mg.tensor([1.0, 2.0])) and not a.equal(b) and not a.equal(mg.tensor([1.0]))
    t_a, t_b, t_c = torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 1e-6]), torch.tensor([1.0, 2.1])
    assert mg.allclose(a, b) == torch.allclose(t_a, t_b) is True
    assert mg.allclose(a, c) == torch.allclose(t_a, t_c) is False


# -- in-place ops ------------------------------------------------------------------------------------

INPLACE = {
    "add_": lambda x, y: x.add_(y),
    "add_alpha": lambda x, y: x.add_(y, alpha=-2),
    "add_scalar": lambda x, y: x.add_(1.5),
    "sub_": lambda x, y: x.sub_(y),
    "sub_alpha": lambda x, y: x.sub_(y, alpha=0.5),
    "mul_": lambda x, y: x.mul_(y),
    "mul_scalar": lambda x, y: x.mul_(-3),
    "div_": lambda x, y: x.div_(y),
    "iadd": lambda x, y: x.__iadd__(y),
    "isub": lambda x, y: x.__isub__(y),
    "imul": lambda x, y: x.__imul__(y),
    "itruediv": lambda x, y: x.__itruediv__(y),
    "broadcast": lambda x, y: x.add_(y[0]),
    "clamp_": lambda x, y: x.clamp_(-0.5, 0.5),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_values_and_gradients(name):
    def run(x, y):
        z = x * 1.0  # a non-leaf: in-place ops on it are recorded
        out = INPLACE[name](z, y)
        assert out is z
        return z

    check_op([(2, 3), (2, 3)], run, low=0.5, high=2.0)
    check_op([(2, 3), (2, 3)], run, low=0.5, high=2.0, layout="permuted")


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_bumps_the_version_once(name):
    t, m = torch.ones(2, 3), mg.ones(2, 3)
    t_y, m_y = torch.full((2, 3), 2.0), mg.full((2, 3), 2.0)
    INPLACE[name](t, t_y)
    INPLACE[name](m, m_y)
    assert m.tolist() == t.tolist()
    assert m._version == t._version == 1


def test_inplace_on_views_changes_the_base():
    t, m = torch.zeros(3, 4), mg.zeros(3, 4)
    for fn in [
        lambda x: x[1].add_(1),
        lambda x: x.t()[2].mul_(5).add_(2),
        lambda x: x[:, ::2].sub_(x[:, 1::2]),
        lambda x: x.view(12)[5:7].fill_(9),
        lambda x: x.select(1, 3).zero_(),
        lambda x: x[0].copy_(x[2]),
    ]:
        fn(t)
        fn(m)
        assert m.tolist() == t.tolist()
    assert m._version == t._version


def test_fill_zero_copy():
    t, m = torch.ones(2, 3), mg.ones(2, 3)
    t.fill_(2.5), m.fill_(2.5)
    assert m.tolist() == t.tolist()
    t.zero_(), m.zero_()
    assert m.tolist() == t.tolist()
    t.copy_(torch.tensor([1, 2, 3])), m.copy_(mg.tensor([1, 2, 3]))
    assert m.tolist() == t.tolist() and m.dtype is mg.float32
    t.t().copy_(torch.arange(6.0).reshape(3, 2)), m.t().copy_(mg.arange(6.0).reshape(3, 2))
    assert m.tolist() == t.tolist() and m._version == t._version
    i, n = torch.zeros(3, dtype=torch.int64), mg.zeros(3, dtype=mg.int64)
    i.fill_(2.7), n.fill_(2.7)
    assert n.tolist() == i.tolist()
    i.copy_(torch.tensor([1.9, -1.9, 0.5])), n.copy_(mg.tensor([1.9, -1.9, 0.5]))
    assert n.tolist() == i.tolist()
    b, c = torch.zeros(2, dtype=torch.bool), mg.zeros(2, dtype=mg.bool)
    b.fill_(2), c.fill_(2)
    assert c.tolist() == b.tolist()


def test_fill_with_a_0d_tensor():
    t, m = torch.ones(2), mg.ones(2)
    t.fill_(torch.tensor(4.0)), m.fill_(mg.tensor(4.0))
    assert m.tolist() == t.tolist()


def test_inplace_errors():
    t, m = torch.ones(3), mg.ones(3)
    check_raises(
        lambda: t.add_(torch.ones(2, 3)),
        lambda: m.add_(mg.ones(2, 3)),
        "output with shape [3] doesn't match the broadcast shape [2, 3]",
        exact=True,
    )
    i, n = torch.ones(3, dtype=torch.int64), mg.ones(3, dtype=mg.int64)
    check_raises(
        lambda: i.add_(0.5), lambda: n.add_(0.5), "result type Float can't be cast to the desired output type Long"
    )
    check_raises(
        lambda: i.div_(2), lambda: n.div_(2), "result type Float can't be cast to the desired output type Long"
    )
    check_raises(lambda: t.copy_(torch.ones(2)), lambda: m.copy_(mg.ones(2)), exact=True)
    check_raises(lambda: t.copy_(torch.ones(2, 3)), lambda: m.copy_(mg.ones(2, 3)), exact=True)
    check_raises(lambda: t.fill_(torch.ones(2)), lambda: m.fill_(mg.ones(2)), exact=True)


def test_inplace_on_leaf_requiring_grad():
    t, m = _both([1.0, 2.0], requires_grad=True)
    for fn in [lambda x: x.add_(1), lambda x: x.mul_(2), lambda x: x.zero_(), lambda x: x.fill_(1.0)]:
        check_raises(lambda fn=fn: fn(t), lambda fn=fn: fn(m), "a leaf Variable that requires grad", exact=True)
    with torch.no_grad():
        t.add_(1)
    with mg.no_grad():
        m.add_(1)
    assert m.tolist() == t.tolist() and m.grad_fn is None and m.requires_grad


def test_modified_saved_tensor_is_detected():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = y.sigmoid()  # saves its output z
        z.mul_(2)
        z.sum().backward()

    check_raises(lambda: run(torch), lambda: run(mg), "modified by an inplace operation")


def test_inplace_keeps_gradients_right_when_the_input_was_saved():
    # mul_ by w: w's gradient needs y's value from before the write; torch keeps a copy of it
    def run(lib):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        w = lib.tensor([0.5, 2.0, -1.0], requires_grad=True)
        y = x * 1
        y.mul_(w)
        (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return y, x.grad, w.grad

    for m, t in zip(run(mg), run(torch)):
        assert m.tolist() == t.tolist()


def test_fill_and_copy_are_recorded():
    def run(lib):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        s = lib.tensor([0.5, 2.0, -1.0], requires_grad=True)
        y, z = x * 2, x * 3
        y.zero_()
        z.copy_(s * 4)
        (y + z * lib.tensor([1.0, 2.0, 3.0]) + x).sum().backward()
        return y, z, x.grad, s.grad

    for m, t in zip(run(mg), run(torch)):
        assert m.tolist() == t.tolist()
    check_op([(2, 3), (3,)], lambda x, y: (x * 1).copy_(y))
    check_op([(2, 3)], lambda x: (x * 1).fill_(2.0) * x)


def test_operators_with_unsupported_operands():
    t, m = torch.tensor([1.0, 2.0]), mg.tensor([1.0, 2.0])
    assert (m == None) is (t == None) is False  # noqa: E711 - the operator itself is under test
    assert (m != "a") is (t != "a") is True
    assert (m in [None]) is (t in [None]) is False
    for fn in [lambda x: x < None, lambda x: x + None, lambda x: "a" * x, lambda x: None - x, lambda x: x @ 2]:
        check_raises(lambda fn=fn: fn(t), lambda fn=fn: fn(m), exact=True)
