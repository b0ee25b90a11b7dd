"""``gradcheck`` (finite differences against backward) and anomaly detection."""

import re
import sys

import pytest

import minigrad as mg
from minigrad.autograd import Function, GradcheckError, detect_anomaly, gradcheck, set_detect_anomaly


def double(values, shape=None):
    t = mg.tensor(values, dtype=mg.float64)
    return (t.reshape(shape) if shape else t).requires_grad_()


CORRECT = {
    "arithmetic": (lambda x, y: (x * y - x / (y + 3)) ** 2, [(2, 3), (2, 3)]),
    "broadcasting": (lambda x, y: x * y + y, [(2, 3), (3,)]),
    "unary": (lambda x: x.exp() + x.tanh() * x.sigmoid() + (x * x + 1).log() + (x * x + 1).sqrt(), [(3, 2)]),
    "reductions": (lambda x: (x.sum(0) * x.mean(1, keepdim=True)).max(), [(3, 4)]),
    "matmul": (lambda x, y: (x @ y).relu(), [(2, 3), (3, 4)]),
    "softmax": (lambda x: x.softmax(1) * x.log_softmax(0), [(2, 3)]),
    "views": (lambda x: x.t().reshape(6)[1:5] * x.permute(1, 0).contiguous().view(6)[:4], [(2, 3)]),
    "two_outputs": (lambda x: (x.exp(), x * 3), [(2, 2)]),
}


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_gradcheck_passes_on_correct_ops(name):
    fn, shapes = CORRECT[name]
    mg.manual_seed(0)
    inputs = [(mg.rand(*shape, dtype=mg.float64) + 0.5).requires_grad_() for shape in shapes]
    assert gradcheck(fn, inputs)


class Cube(Function):
    """y = x^3;  dy/dx = 3 x^2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class WrongMul(Function):
    """z = x * y, with dz/dy deliberately wrong (doubled) at y[1][0] only."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        factor = mg.tensor([[1.0, 1.0], [2.0, 1.0]], dtype=mg.float64)
        return grad * y, grad * x * factor


def test_gradcheck_passes_on_a_correct_custom_function():
    assert gradcheck(Cube.apply, [double([0.5, -1.5, 2.0])])


def test_gradcheck_report_names_the_op_the_input_the_element_and_both_values():
    x = double([[1.0, 2.0], [3.0, 4.0]])
    y = double([[5.0, 6.0], [7.0, 8.0]])
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongMul.apply, [x, y])
    message = str(info.value)
    # By hand: d z[1][0] / d y[1][0] = x[1][0] = 3; the wrong backward says 2 * 3 = 6.
    # Flat element 2 of the output and of input 1 is [1, 0].
    assert "WrongMulBackward" in message
    assert "d output[2] / d input 1[2]" in message
    assert "element [1, 0] of input 1" in message
    analytic, numeric = map(float, re.search(r"analytic (\S+) but numeric (\S+)", message).groups())
    assert analytic == 6.0
    assert numeric == pytest.approx(3.0, abs=1e-6)


def test_gradcheck_without_raising_returns_false():
    x = double([[1.0, 2.0], [3.0, 4.0]])
    y = double([[5.0, 6.0], [7.0, 8.0]])
    assert gradcheck(WrongMul.apply, [x, y], raise_exception=False) is False
    assert x.grad is None and y.grad is None  # gradcheck does not accumulate


def test_gradcheck_input_errors():
    with pytest.raises(ValueError, match="float64"):
        gradcheck(Cube.apply, [mg.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(Cube.apply, [mg.tensor([1.0], dtype=mg.float64)])


# -- anomaly detection --------------------------------------------------------------------------


def nan_maker(lib):
    class NaNMaker(lib.autograd.Function):
        """y = 2 x, with a backward that produces NaN."""

        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * float("nan")

    return NaNMaker


NaNMaker = nan_maker(mg)


def test_anomaly_mode_names_the_function_and_where_it_was_created():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        line = sys._getframe().f_lineno + 1
        y = NaNMaker.apply(x)
        with pytest.raises(RuntimeError) as info:
            (y * 3).sum().backward()
    message = str(info.value)
    assert message.startswith("Function 'NaNMakerBackward' returned nan values in its 0th output.")
    test_name = "test_anomaly_mode_names_the_function_and_where_it_was_created"
    assert f'File "{__file__}", line {line}, in {test_name}' in message
    assert "y = NaNMaker.apply(x)" in message


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
def test_anomaly_message_matches_torch():
    torch = pytest.importorskip("torch")
    with pytest.warns(UserWarning, match="Error detected in NaNMakerBackward"), torch.autograd.detect_anomaly():
        with pytest.raises(RuntimeError) as t_info:
            nan_maker(torch).apply(torch.tensor([1.0], requires_grad=True)).sum().backward()
    with detect_anomaly():
        with pytest.raises(RuntimeError) as m_info:
            NaNMaker.apply(mg.tensor([1.0], requires_grad=True)).sum().backward()
    assert str(m_info.value).splitlines()[0] == str(t_info.value)


def test_without_anomaly_mode_nan_flows_silently_and_no_stack_is_kept():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = NaNMaker.apply(x)
    y.sum().backward()
    assert all(v != v for v in x.grad.tolist())
    assert y.grad_fn._trace is None


def test_anomaly_mode_adds_the_creation_site_to_errors_raised_in_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        h = x * 1
        y = h.log()
        h.add_(1)
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
    message = str(info.value)
    assert "modified by an inplace operation" in message
    assert "The error was raised in the backward of LogBackward" in message
    assert "y = h.log()" in message


def test_anomaly_switches_restore_and_decorate():
    assert not mg.autograd.is_anomaly_enabled()
    with set_detect_anomaly(True):
        assert mg.autograd.is_anomaly_enabled()
        with set_detect_anomaly(False):
            assert not mg.autograd.is_anomaly_enabled()
        assert mg.autograd.is_anomaly_enabled()
    assert not mg.autograd.is_anomaly_enabled()

    @detect_anomaly(check_nan=False)
    def inside():
        return mg.autograd.is_anomaly_enabled(), mg.autograd.is_anomaly_check_nan_enabled()

    assert inside() == (True, False)
    assert not mg.autograd.is_anomaly_enabled() and mg.autograd.is_anomaly_check_nan_enabled()
    set_detect_anomaly(True)  # a plain call switches it on until switched off
    assert mg.autograd.is_anomaly_enabled()
    set_detect_anomaly(False)
    assert not mg.autograd.is_anomaly_enabled()


def test_anomaly_mode_without_nan_check_lets_nan_through():
    x = mg.tensor([1.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        NaNMaker.apply(x).sum().backward()
    assert x.grad.tolist()[0] != x.grad.tolist()[0]
