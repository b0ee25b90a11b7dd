"""Writing a new differentiable op with ``Function``, and checking it with ``gradcheck``.

The op is softplus, a smooth relu::

    y = log(1 + e^x)          dy/dx = e^x / (1 + e^x) = sigmoid(x)

``forward`` may compute y any way it likes (it runs with grad mode off, so nothing it does is
recorded); here it uses the stable form relu(x) + log(1 + e^-|x|), which never overflows.
``backward`` receives dL/dy and returns dL/dx = dL/dy * sigmoid(x): one gradient per input of
``forward``.

``gradcheck`` then compares that backward with central finite differences in float64, and
catches a wrong one. With PyTorch installed, ``compare_with_torch`` also checks the op against
``torch.nn.functional.softplus``.

Run: python examples/custom_function.py (from a checkout without installing: PYTHONPATH=. python ...)
"""

import importlib.util

import minigrad
from minigrad.autograd import Function, GradcheckError, gradcheck


class Softplus(Function):
    """y = log(1 + e^x);  dy/dx = sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)  # backward needs x; saving records its version too
        return x.relu() + (1 + (-x.abs()).exp()).log()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()


class SoftplusForgetfulBackward(Function):
    """The same forward with a classic mistake in backward: the chain rule's dL/dy is dropped."""

    forward = Softplus.forward

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return x.sigmoid()


def softplus(x: minigrad.Tensor) -> minigrad.Tensor:
    return Softplus.apply(x)


def main() -> None:
    x = minigrad.tensor([-30.0, -1.0, 0.0, 2.0, 50.0], requires_grad=True)
    y = softplus(x)
    print("y      =", y)
    y.sum().backward()
    print("dy/dx  =", x.grad)
    print("sigmoid=", x.detach().sigmoid())

    minigrad.manual_seed(0)
    inputs = (minigrad.randn(4, 3, dtype=minigrad.float64, requires_grad=True),)
    print("gradcheck(Softplus):", gradcheck(Softplus.apply, inputs))
    # gradcheck runs backward once per output element with a one-hot dL/dy, so a backward that
    # ignores dL/dy sends gradient to every element and is caught at the first one that got none.
    try:
        gradcheck(SoftplusForgetfulBackward.apply, inputs)
    except GradcheckError as error:
        print("gradcheck caught the forgetful backward:", error)

    if importlib.util.find_spec("torch") is not None:
        import torch

        from minigrad.testing import compare_with_torch

        compare_with_torch(
            lambda x: softplus(x) if isinstance(x, minigrad.Tensor) else torch.nn.functional.softplus(x), *inputs
        )
        print("compare_with_torch: Softplus matches torch.nn.functional.softplus")


if __name__ == "__main__":
    main()
