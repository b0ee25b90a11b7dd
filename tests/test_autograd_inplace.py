"""In-place operations and autograd, against torch 2.13.0: version counters, the "modified by an
inplace operation" error where a saved value changed, and the same situations allowed."""

import pytest
from conftest import check_raises
from test_autograd_engine import same_on_both

import minigrad as mg

torch = pytest.importorskip("torch")

IN_PLACE = {
    "add_": lambda t, lib: t.add_(1.0),
    "sub_": lambda t, lib: t.sub_(lib.ones(3), alpha=2),
    "mul_": lambda t, lib: t.mul_(2.0),
    "div_": lambda t, lib: t.div_(2.0),
    "zero_": lambda t, lib: t.zero_(),
    "fill_": lambda t, lib: t.fill_(7.0),
    "copy_": lambda t, lib: t.copy_(lib.tensor([4.0, 5.0, 6.0])),
    "uniform_": lambda t, lib: t.uniform_(),
    "normal_": lambda t, lib: t.normal_(),
    "setitem": lambda t, lib: t.__setitem__(0, 9.0),
    "setitem_slice": lambda t, lib: t.__setitem__(slice(1, None), lib.tensor([1.0, 2.0])),
}


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_ops_bump_the_version_shared_by_views_and_detached_aliases(name):
    def scenario(lib):
        t = lib.tensor([1.0, 2.0, 3.0])
        view, alias = t[1:], t.detach()
        IN_PLACE[name](t, lib)
        IN_PLACE[name](t, lib)
        return t._version, view._version, alias._version

    assert same_on_both(scenario) == [2, 2, 2]


# -- saved values modified in place: the same situations raise in both ----------------------

SAVED_MODIFIED = {
    # (op whose backward needs the value of x or of its output, in-place change of that value);
    # x holds data without a history of its own and w requires grad
    "mul_saves_x_for_w": lambda x, w, lib: (x * w, lambda: x.add_(1)),
    "div_saves_x_for_w": lambda x, w, lib: (w / x, lambda: x.mul_(2)),
    "matmul_saves_x_for_w": lambda x, w, lib: (x.reshape(1, 2) @ w.reshape(2, 1), lambda: x.zero_()),
    "log_saves_input": lambda x, w, lib: _log_then_change_its_input(x * w),
    "exp_saves_output": lambda x, w, lib: _then((x * w).exp(), lambda y: y.add_(1)),
    "tanh_saves_output": lambda x, w, lib: _then((x * w).tanh(), lambda y: y.mul_(2)),
    "sigmoid_saves_output": lambda x, w, lib: _then((x * w).sigmoid(), lambda y: y.sub_(1)),
    "through_a_view": lambda x, w, lib: (x * w, lambda: x[0:1].mul_(2)),
    "through_setitem": lambda x, w, lib: (x * w, lambda: x.__setitem__(1, 5.0)),
    "through_detach": lambda x, w, lib: (x * w, lambda: x.detach().add_(1)),
    "through_copy_": lambda x, w, lib: (x * w, lambda: x.copy_(lib.tensor([5.0, 6.0]))),
    "through_normal_": lambda x, w, lib: (x * w, lambda: x.normal_()),
}


def _then(y, change):
    return y, lambda: change(y)


def _log_then_change_its_input(h):
    return h.log(), lambda: h.add_(1)


@pytest.mark.parametrize("name", sorted(SAVED_MODIFIED))
def test_modified_saved_value_raises_in_both(name):
    def run(lib):
        x = lib.tensor([1.0, 2.0])
        w = lib.tensor([0.5, 1.5], requires_grad=True)
        out, change = SAVED_MODIFIED[name](x, w, lib)
        change()
        out.sum().backward()

    check_raises(
        lambda: run(torch),
        lambda: run(mg),
        "one of the variables needed for gradient computation has been modified by an inplace operation",
        "; expected version 0 instead",
    )


ALLOWED = {
    # in-place changes of values the op does not save
    "add_input": lambda x, lib: (x + lib.tensor([2.0, 3.0]), lambda: x.mul_(10)),
    "sub_input": lambda x, lib: (lib.tensor([2.0, 3.0]) - x, lambda: x.sub_(5)),
    "exp_input": lambda x, lib: (x.exp(), lambda: x.add_(1)),  # exp saves its output
    "neg_input": lambda x, lib: (-x, lambda: x.div_(2)),
    "mul_by_number": lambda x, lib: (x * 3.0, lambda: x.add_(1)),
    "sum_input": lambda x, lib: (x.sum(), lambda: x.mul_(0.5)),
    "setitem_after_add": lambda x, lib: (x + 1, lambda: x.__setitem__(0, 3.0)),
}


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_modifying_a_value_that_is_not_saved_is_allowed_in_both(name):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 1
        out, change = ALLOWED[name](h, lib)
        change()
        (out * lib.tensor([1.0, -2.0])).sum().backward()
        return x.grad

    same_on_both(scenario)


def test_in_place_after_backward_is_fine():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 1
        (h * h).sum().backward()
        h.add_(1)
        return x.grad, h

    assert same_on_both(scenario) == [[2.0, 4.0], [2.0, 3.0]]


# -- in-place ops on tensors with a history ---------------------------------------------------


def test_chain_of_in_place_ops_on_a_non_leaf():
    def scenario(lib):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        w = lib.tensor([0.5, 2.0, -1.0], requires_grad=True)
        h = x * 2
        h.mul_(w)  # mul_ needs the original h for w's gradient: both libraries keep it
        h.add_(x, alpha=3)
        h.sub_(1.0)
        h.div_(w)
        (h * h).sum().backward()
        return h, x.grad, w.grad, type(h.grad_fn).__name__.rstrip("0")

    assert same_on_both(scenario)[-1] == "DivBackward"


def test_retain_grad_follows_the_tensor_through_an_in_place_op():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        h.retain_grad()
        h.add_(1)
        (h * h).sum().backward()
        return h.grad, x.grad

    assert same_on_both(scenario) == [[6.0, 10.0], [12.0, 20.0]]  # 2h; 2 * 2h


def test_setitem_on_a_non_leaf_routes_gradients():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        v = lib.tensor(5.0, requires_grad=True)
        h = x * 2
        h[1] = v * 3
        (h * h).sum().backward()
        return h, x.grad, v.grad

    assert same_on_both(scenario) == [[2.0, 15.0, 6.0], [8.0, 0.0, 24.0], 90.0]


def test_in_place_on_a_leaf_that_requires_grad_raises_unless_no_grad():
    for name in ("add_", "mul_", "zero_", "fill_", "copy_", "uniform_", "normal_", "setitem"):

        def run(lib, name=name):
            IN_PLACE[name](lib.tensor([1.0, 2.0, 3.0], requires_grad=True), lib)

        check_raises(
            lambda: run(torch), lambda: run(mg), "a leaf Variable that requires grad is being used in an in-place"
        )

    def under_no_grad(lib):
        p = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with lib.no_grad():
            for name in sorted(IN_PLACE):
                if name not in ("uniform_", "normal_"):
                    IN_PLACE[name](p, lib)
        return p, p.requires_grad, p.is_leaf

    assert same_on_both(under_no_grad)[1:] == [True, True]


def test_in_place_on_a_view_of_a_leaf_raises():
    def run(lib):
        p = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        p[1:].mul_(2)

    check_raises(lambda: run(torch), lambda: run(mg), "a view of a leaf Variable that requires grad")


# -- where minigrad refuses what torch supports ---------------------------------------------


def test_fill_and_copy_on_a_non_leaf_are_recorded():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        src = lib.tensor([3.0, 4.0], requires_grad=True)
        zeroed, copied = x * 2, x * 3
        zeroed.zero_()
        copied.copy_(src * 5)
        (zeroed + copied + x).sum().backward()
        return x.grad, src.grad

    assert same_on_both(scenario) == [[1.0, 1.0], [5.0, 5.0]]


def test_minigrad_refuses_random_fills_of_a_tensor_with_history():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda h: h.uniform_(), lambda h: h.normal_()):
        with pytest.raises(RuntimeError, match=r"not recorded .* \(MulBackward\)"):
            change(x * 2)
    detached = (x * 2).detach()
    detached.normal_()  # no history: fine
    assert detached._version == 1


def test_mul_by_itself_in_place_gives_the_right_gradient():
    # torch refuses this one (the saved ``other`` is self, modified); minigrad keeps the original
    # of self for both operands: h <- h * h, so d/dx sum((2x)^2) = 8x.
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    h = x * 2
    h.mul_(h)
    h.sum().backward()
    assert h.tolist() == [4.0, 16.0]
    assert x.grad.tolist() == [8.0, -16.0]
