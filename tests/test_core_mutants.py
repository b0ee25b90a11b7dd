"""Tests that kill mutants of the core that the rest of the suite let live (issue 15, items 13,
14 and 16), and cover public paths nothing else ran; each against torch 2.13.0 (bit for bit
where the arithmetic is exact) or a hand derivation."""

import warnings

import pytest
from conftest import assert_same, check_op

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.nn.utils.rnn import lstm_padded

torch = pytest.importorskip("torch")


def same(m, t, **kwargs):
    assert_same(m, t, str(t.dtype).removeprefix("torch."), **kwargs)


# -- autograd ---------------------------------------------------------------------------------------


def test_two_leaves_of_one_sum_get_their_own_grad_over_two_backward_passes():
    # a mutant that stored the incoming gradient in .grad without a copy made a.grad and b.grad
    # one tensor: the second pass then added b's share into a's grad too
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        for _ in range(2):
            (a + b).sum().backward()
        return a.grad.tolist(), b.grad.tolist()

    assert run(mg) == run(torch) == ([2.0, 2.0], [2.0, 2.0])


def test_exp_over_a_wide_range_elementwise():
    # per-element tolerances: a 1% error in exp for 10 < x < 80 passed under a max-scaled atol
    values = [[-80.0, -20.0, -1.5, 0.0, 0.7, 10.5, 20.0, 45.25, 79.0, 88.0]]
    check_op([(10,)], lambda x: x.exp(), values=values)
    check_op([(10,)], lambda x: x.exp(), values=values, dtype="float64")


# -- methods with torch's names ----------------------------------------------------------------------

METHODS = ["lt", "le", "gt", "ge", "ne", "eq", "mul", "div", "add", "sub"]


@pytest.mark.parametrize("name", METHODS)
def test_tensor_methods_match_torch_exactly(name):
    values = [1.0, -2.0, 3.0, 0.5, 3.0, -0.0]
    other = [1.0, 2.0, -3.0, 0.25, 4.0, 0.0]
    t = getattr(torch.tensor(values), name)(torch.tensor(other))
    m = getattr(mg.tensor(values), name)(mg.tensor(other))
    same(m, t, exact=True)
    same(getattr(mg.tensor(values), name)(2.0), getattr(torch.tensor(values), name)(2.0), exact=True)


def test_linspace_matches_torch():
    # within a rounding per element (torch's vectorised kernel orders the operations its own way)
    cases = [(0, 1, 0), (0, 1, 1), (0, 1, 2), (0, 1, 5), (0, 1, 6), (-3.5, 7.25, 11), (2, -2, 9), (0, 1, 100),
             (1e-3, 1e3, 7)]
    for start, end, steps in cases:
        for dtype in ("float32", "float64"):
            t = torch.linspace(start, end, steps, dtype=getattr(torch, dtype))
            m = mg.linspace(start, end, steps, dtype=getattr(mg, dtype))
            same(m, t)


def test_as_tensor_shares_or_converts_as_torch():
    data = [[1, 2], [3, 4]]
    same(mg.as_tensor(data), torch.as_tensor(data), exact=True)
    same(mg.as_tensor(data, dtype=mg.float64), torch.as_tensor(data, dtype=torch.float64), exact=True)
    x = mg.tensor([1.0, 2.0])
    assert mg.as_tensor(x) is x


def test_rand_like_and_randn_like_draw_torchs_numbers():
    for name in ("rand_like", "randn_like"):
        for dtype in ("float32", "float64"):
            torch.manual_seed(7)
            mg.manual_seed(7)
            t = getattr(torch, name)(torch.zeros(3, 5, dtype=getattr(torch, dtype)))
            m = getattr(mg, name)(mg.zeros(3, 5, dtype=getattr(mg, dtype)))
            same(m, t, exact=True)


def test_set_default_dtype_changes_new_float_tensors():
    previous = mg.get_default_dtype()
    try:
        mg.set_default_dtype(mg.float64)
        assert mg.tensor([1.5]).dtype is mg.float64 and mg.zeros(2).dtype is mg.float64
        assert mg.tensor([1]).dtype is mg.int64
    finally:
        mg.set_default_dtype(previous)
    assert mg.tensor([1.5]).dtype is mg.float32


def test_legacy_tensor_constructor():
    same(mg.Tensor(2, 3), torch.Tensor(2, 3).zero_(), exact=True)
    same(mg.Tensor([1, 2, 3]), torch.Tensor([1, 2, 3]), exact=True)
    same(mg.Tensor([[1.5], [2.5]]), torch.Tensor([[1.5], [2.5]]), exact=True)


def test_view_as_reshape_as_and_T():
    values = [float(v) for v in range(6)]
    for shape in [(6,), (2, 3), (3, 2)]:
        t, m = torch.tensor(values).reshape(shape), mg.tensor(values).reshape(shape)
        same(m.view_as(mg.zeros(3, 2)), t.view_as(torch.zeros(3, 2)), exact=True)
        same(m.reshape_as(mg.zeros(1, 6)), t.reshape_as(torch.zeros(1, 6)), exact=True)
        same(m.T, t.T, exact=True)
        assert m.T.stride() == t.T.stride()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates .T beyond 2-D
        t3 = torch.arange(24.0).reshape(2, 3, 4)
        same(mg.arange(24.0).reshape(2, 3, 4).T, t3.T, exact=True)


def test_rmatmul():
    a, b = [[1.0, 2.0], [3.0, 4.0]], [[0.5, -1.0], [2.0, 0.25]]
    same(mg.tensor(b).__rmatmul__(mg.tensor(a)), torch.tensor(b).__rmatmul__(torch.tensor(a)), exact=True)
    assert mg.tensor(b).__rmatmul__([[1.0]]) is NotImplemented


def test_repr_of_a_0d_tensor():
    for value in (3.5, -0.0, 1e-8, 123456.0):
        assert repr(mg.tensor(value)) == repr(torch.tensor(value))
    assert repr(mg.tensor(7)) == repr(torch.tensor(7))
    assert repr(mg.tensor(True)) == repr(torch.tensor(True))
    assert repr(mg.tensor(2.0, requires_grad=True)) == repr(torch.tensor(2.0, requires_grad=True))


def test_softmax_with_a_dtype():
    values = [[0.5, -1.25, 3.0], [2.0, 0.0, -0.5]]
    for dtype in ("float32", "float64"):
        t = torch.nn.functional.softmax(torch.tensor(values), dim=1, dtype=getattr(torch, dtype))
        m = F.softmax(mg.tensor(values), dim=1, dtype=getattr(mg, dtype))
        same(m, t)


def test_cross_entropy_with_soft_targets_and_no_reduction():
    logits = [[0.5, -1.25, 3.0], [2.0, 0.0, -0.5]]
    targets = [[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]
    t_x = torch.tensor(logits, requires_grad=True)
    m_x = mg.tensor(logits, requires_grad=True)
    t = torch.nn.functional.cross_entropy(t_x, torch.tensor(targets), reduction="none")
    m = F.cross_entropy(m_x, mg.tensor(targets), reduction="none")
    same(m, t)
    (t * torch.tensor([1.0, 3.0])).sum().backward()
    (m * mg.tensor([1.0, 3.0])).sum().backward()
    same(m_x.grad, t_x.grad)


def test_lstm_padded_batch_first_with_dropout_between_layers():
    # full lengths: the same numbers as the module's own forward, dropout draws included (and, in
    # eval mode, as torch's LSTM)
    torch.manual_seed(3)
    reference = torch.nn.LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.5)
    module = nn.LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.5)
    module.load_state_dict({k: mg.tensor(v.tolist()) for k, v in reference.state_dict().items()})
    x = [[[0.1 * (i + j + k) - 0.4 for k in range(3)] for j in range(5)] for i in range(2)]
    mg.manual_seed(11)
    expected, (expected_h, _) = module(mg.tensor(x))
    mg.manual_seed(11)
    out, h_n = lstm_padded(module, mg.tensor(x), [5, 5])
    assert out.tolist() == expected.tolist() and h_n.tolist() == expected_h.tolist()
    mg.manual_seed(12)
    assert lstm_padded(module, mg.tensor(x), [5, 5])[0].tolist() != out.tolist()  # dropout is drawn
    module.eval()
    reference.eval()
    t_out, (t_h, _) = reference(torch.tensor(x))
    m_out, m_h = lstm_padded(module, mg.tensor(x), [5, 5])
    same(m_out, t_out)
    same(m_h, t_h)


def test_module_float_and_cpu():
    layer = nn.Linear(2, 3).double()
    assert layer.weight.dtype is mg.float64
    same_object = layer.weight
    assert layer.float() is layer and layer.weight is same_object and layer.weight.dtype is mg.float32
    assert layer.cpu() is layer
    ref = torch.nn.Linear(2, 3).double().float()
    assert str(ref.weight.dtype) == "torch." + layer.weight.dtype.name


# -- survivors of the mutation run (autograd.grad, the modified-version error, overlap) ------------


def test_autograd_grad_errors_match_torch():
    def unused(lib):
        x, y = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
        lib.autograd.grad((x * 2).sum(), [x, y])

    def not_requiring(lib):
        x = lib.ones(2, requires_grad=True)
        lib.autograd.grad((x * 2).sum(), [lib.ones(2)])

    def bad_grad_output(lib):
        x = lib.ones(2, requires_grad=True)
        lib.autograd.grad((x * 2).sum(), [x], grad_outputs=[lib.ones(3)])

    from conftest import check_raises

    check_raises(lambda: unused(torch), lambda: unused(mg), exact=True)
    check_raises(lambda: not_requiring(torch), lambda: not_requiring(mg), exact=True)
    check_raises(lambda: bad_grad_output(torch), lambda: bad_grad_output(mg), "Mismatch in shape: grad_output[0]")
    x = mg.ones(2, requires_grad=True)
    with pytest.raises(NotImplementedError, match=r"create_graph=True"):
        mg.autograd.grad((x * 2).sum(), [x], create_graph=True)


def test_autograd_grad_retain_graph():
    for lib in (torch, mg):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * 3).sum()
        first = lib.autograd.grad(y, [x], retain_graph=True)[0]
        assert lib.autograd.grad(y, [x])[0].tolist() == first.tolist()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            lib.autograd.grad(y, [x])


def test_the_modified_by_an_inplace_operation_message_names_the_tensor_and_versions():
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        a = x * 2
        b = a * a
        a.add_(1)
        b.sum().backward()

    for lib in (torch, mg):
        with pytest.raises(RuntimeError) as info:
            run(lib)
        message = str(info.value)
        assert "FloatTensor [2]], which is output 0 of Add" in message
        assert "is at version 1; expected version 0 instead." in message and "Hint: enable anomaly detection" in message


def test_overlap_of_two_dense_layouts_of_one_span_and_of_empty_tensors():
    from conftest import check_raises

    def transposed(lib):
        x = lib.arange(6.0)
        x.view(2, 3).copy_(x.view(3, 2).t())  # same elements, other order: partial overlap

    def empty(lib):
        x = lib.arange(6.0)
        x.view(3, 2)[1:1].copy_(x[1:3])  # nothing is written: fine
        return x

    check_raises(lambda: transposed(torch), lambda: transposed(mg), "refer to a single memory location", exact=True)
    assert empty(mg).tolist() == empty(torch).tolist()
