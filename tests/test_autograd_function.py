"""Custom ``autograd.Function``s: the ctx API, several outputs, non-tensor arguments, mark_dirty,
and the errors a wrong backward gets. Scenarios run on torch 2.13.0 and on minigrad alike."""

import pytest
from conftest import check_raises
from test_autograd_engine import same_on_both

import minigrad as mg

torch = pytest.importorskip("torch")


def functions(lib):
    """The same custom Functions written against ``lib`` (torch or minigrad)."""

    class ProdAndSum(lib.autograd.Function):
        """Two outputs: p = x * y, s = x + y;  dx = gp * y + gs,  dy = gp * x + gs."""

        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y, x + y

        @staticmethod
        def backward(ctx, grad_p, grad_s):
            x, y = ctx.saved_tensors
            return grad_p * y + grad_s, grad_p * x + grad_s

    class ScaleShift(lib.autograd.Function):
        """Non-tensor arguments: y = k * x + shift (k, shift floats; mode a string)."""

        @staticmethod
        def forward(ctx, x, k, shift, mode):
            assert mode == "affine"
            ctx.k = k
            return x * k + shift

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.k, None, None, None

    class AddOneInPlace(lib.autograd.Function):
        """x += 1 in place, declared with mark_dirty;  dx = grad."""

        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    class Cube(lib.autograd.Function):
        """y = x^3 saving its input;  dy/dx = 3 x^2."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    return ProdAndSum, ScaleShift, AddOneInPlace, Cube


def test_two_outputs_get_their_own_gradients_and_a_missing_one_is_zeros():
    def scenario(lib):
        ProdAndSum = functions(lib)[0]
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0, -1.0], requires_grad=True)
        p, s = ProdAndSum.apply(x, y)
        (p * 2 + s * s).sum().backward()
        both = [x.grad.clone(), y.grad.clone()]
        x.grad = y.grad = None
        p, s = ProdAndSum.apply(x, y)
        p.sum().backward()  # s gets no gradient: backward receives zeros for it
        return both, x.grad, y.grad, p.grad_fn is s.grad_fn, type(p.grad_fn).__name__

    got = same_on_both(scenario)
    assert got[0] == [[2 * 3 + 2 * 4, 2 * -1 + 2 * 1], [2 * 1 + 2 * 4, 2 * 2 + 2 * 1]]  # 2y + 2s, 2x + 2s
    assert got[-1] == "ProdAndSumBackward"


def test_non_tensor_arguments_and_needs_input_grad():
    def scenario(lib):
        ScaleShift = functions(lib)[1]
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = ScaleShift.apply(x, 2.5, 1.0, "affine")
        y.sum().backward()
        return y, x.grad, y.grad_fn.needs_input_grad

    assert same_on_both(scenario) == [[3.5, 6.0], [2.5, 2.5], [True, False, False, False]]


def test_needs_input_grad_seen_in_forward():
    def scenario(lib):
        seen = []

        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                seen.append(tuple(ctx.needs_input_grad))
                return a * b

            @staticmethod
            def backward(ctx, grad):
                return grad, grad

        a = lib.tensor([1.0], requires_grad=True)
        b = lib.tensor([2.0])
        Probe.apply(a, b)
        Probe.apply(b, a)
        with lib.no_grad():
            Probe.apply(a, b)
        return seen

    # needs_input_grad reflects requires_grad even under no_grad (torch's rule)
    assert same_on_both(scenario) == [[True, False], [False, True], [True, False]]


def test_mark_dirty_makes_the_modified_input_the_output():
    def scenario(lib):
        AddOneInPlace = functions(lib)[2]
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        x = a * 2
        y = AddOneInPlace.apply(x)
        (y * y).sum().backward()
        return y is x, x, x._version, type(x.grad_fn).__name__, a.grad

    got = same_on_both(scenario)
    assert got[:3] == [True, [3.0, 5.0], 2]  # add_ bumps the version once, mark_dirty once more
    assert got[4] == [12.0, 20.0]  # d/da (2a + 1)^2 = 4 (2a + 1)


def test_a_dirty_output_saved_for_backward_is_usable_in_backward():
    def scenario(lib):
        class SquareInPlace(lib.autograd.Function):
            """x <- x^2 in place, saving the new x;  dx = 2 sqrt(x_new) grad (x > 0 here)."""

            @staticmethod
            def forward(ctx, x):
                x.mul_(x)
                ctx.mark_dirty(x)
                ctx.save_for_backward(x)  # mark_dirty's version bump comes after, when apply returns
                return x

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 2 * x.sqrt() * grad

        a = lib.tensor([1.0, 3.0], requires_grad=True)
        y = SquareInPlace.apply(a * 1)
        y.sum().backward()
        return y, a.grad

    assert same_on_both(scenario) == [[1.0, 9.0], [2.0, 6.0]]  # d(a^2)/da = 2a


def test_mark_dirty_of_a_leaf_that_requires_grad_raises():
    def run(lib):
        AddOneInPlace = functions(lib)[2]
        AddOneInPlace.apply(lib.tensor([1.0], requires_grad=True))

    check_raises(lambda: run(torch), lambda: run(mg), "a leaf Variable that requires grad has been used in an in-place")


def test_mark_dirty_of_a_leaf_without_grad_gives_it_a_history():
    def scenario(lib):
        class AddInPlace(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                x.add_(y)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad, grad

        buffer = lib.tensor([1.0, 2.0])
        w = lib.tensor([5.0, 5.0], requires_grad=True)
        out = AddInPlace.apply(buffer, w)
        (out * 3).sum().backward()
        return out is buffer, buffer.requires_grad, buffer.is_leaf, w.grad

    assert same_on_both(scenario) == [True, True, False, [3.0, 3.0]]


def test_dirty_tensor_not_returned_raises():
    def run(lib):
        class Forgets(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        Forgets.apply(lib.tensor([1.0], requires_grad=True) * 1)

    check_raises(lambda: run(torch), lambda: run(mg), "Some elements marked as dirty during the forward method")


def test_an_input_returned_unchanged_keeps_its_own_history():
    def scenario(lib):
        class Identity(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        a = lib.tensor([1.0, 2.0], requires_grad=True)
        y = Identity.apply(a)
        y.sum().backward()
        return y is a, a.is_leaf, a.grad_fn is None, y.is_leaf, a.grad

    assert same_on_both(scenario) == [False, True, True, False, [2.0, 2.0]]


def test_an_input_returned_unchanged_is_a_view_of_it():
    def run(lib):
        class Identity(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad

        a = lib.tensor([1.0, 2.0], requires_grad=True)
        Identity.apply(a).mul_(2)

    # torch: "Output 0 of Identity is a view and is being modified inplace. ..."; minigrad: "a view
    # of a leaf Variable that requires grad is being used in an in-place operation."
    check_raises(lambda: run(torch), lambda: run(mg), "view")


def test_non_differentiable_outputs_and_materialize_grads_off():
    def scenario(lib):
        received = []

        class ValueAndIndex(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                index = x.argmax()
                doubled = x * 2
                mask = x > 0
                ctx.mark_non_differentiable(mask)
                ctx.set_materialize_grads(False)
                return doubled, index, mask

            @staticmethod
            def backward(ctx, grad_doubled, grad_index, grad_mask):
                received.append((grad_index is None, grad_mask is None))
                return grad_doubled * 2

        x = lib.tensor([1.0, 3.0, -2.0], requires_grad=True)
        doubled, index, mask = ValueAndIndex.apply(x)
        doubled.sum().backward()
        return doubled.requires_grad, index.requires_grad, mask.requires_grad, received, x.grad

    assert same_on_both(scenario) == [True, False, False, [[True, True]], [2.0, 2.0, 2.0]]


def test_saved_tensors_after_backward_raise_torchs_error():
    def run(lib):
        Cube = functions(lib)[3]
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = Cube.apply(x).sum()
        y.backward()
        y.backward()

    check_raises(lambda: run(torch), lambda: run(mg), "Trying to backward through the graph a second time", exact=True)


def test_retain_graph_keeps_saved_tensors():
    def scenario(lib):
        Cube = functions(lib)[3]
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = Cube.apply(x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad

    assert same_on_both(scenario) == [6.0, 24.0]  # twice 3 x^2


def test_saved_input_modified_in_place_raises():
    def run(lib):
        Cube = functions(lib)[3]
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 1
        y = Cube.apply(h)
        h.mul_(2)
        y.sum().backward()

    check_raises(lambda: run(torch), lambda: run(mg), "modified by an inplace operation")


# -- a wrong backward is named ----------------------------------------------------------------


def wrong_backwards(lib):
    class TooFew(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return grad

    class WrongShape(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return lib.ones(3)

    class TooMany(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    return TooFew, WrongShape, TooMany


def test_wrong_number_of_gradients_raises_naming_the_function():
    def too_few(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        wrong_backwards(lib)[0].apply(x, x).sum().backward()

    check_raises(
        lambda: too_few(torch),
        lambda: too_few(mg),
        "function TooFewBackward returned an incorrect number of gradients (expected 2, got 1)",
        exact=True,
    )

    def too_many(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        wrong_backwards(lib)[2].apply(x).sum().backward()

    check_raises(
        lambda: too_many(torch),
        lambda: too_many(mg),
        "function TooManyBackward returned an incorrect number of gradients (expected 1, got 2)",
        exact=True,
    )


def test_wrong_shape_gradient_raises_naming_the_function():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        wrong_backwards(lib)[1].apply(x).sum().backward()

    check_raises(
        lambda: run(torch),
        lambda: run(mg),
        "Function WrongShapeBackward returned an invalid gradient at index 0 - got [3] but expected shape "
        "compatible with [2]",
        exact=True,
    )


def test_broadcast_shaped_gradient_is_summed_back_and_cast_to_the_input_dtype():
    def scenario(lib):
        class Broadcasting(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, grad):
                return lib.ones(4, 2, dtype=lib.float32)  # float32, broadcast shape of x's (2,)

        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        Broadcasting.apply(x).sum().backward()
        return x.grad, str(x.grad.dtype).split(".")[-1]

    assert same_on_both(scenario) == [[4.0, 4.0], "float64"]


def test_function_without_backward_raises_not_implemented():
    class NoBackward(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="backward"):
        NoBackward.apply(x).sum().backward()
