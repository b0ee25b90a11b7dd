"""The backward engine's semantics against torch 2.13.0.

Each scenario is written once against a library ``lib`` (``torch`` or ``minigrad``: the same
names) and returns plain Python values (tensors turned into lists); the test runs it on both
and requires equal results. Values are chosen to be exact in float32.
"""

import weakref

import pytest
from conftest import check_raises

import minigrad as mg
from minigrad.autograd.function import AccumulateGrad
from minigrad.viz import trace_backward

torch = pytest.importorskip("torch")


def plain(value):
    """Tensors as nested lists (None stays None), recursively through tuples and lists."""
    if isinstance(value, (torch.Tensor, mg.Tensor)):
        return value.tolist()
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return value


def same_on_both(scenario):
    """Run ``scenario(lib)`` on torch and on minigrad; both must give the same plain result."""
    expected = plain(scenario(torch))
    got = plain(scenario(mg))
    assert got == expected, f"\nminigrad {got}\ntorch    {expected}"
    return got


# -- gradient values --------------------------------------------------------------------------


def test_diamond_sums_both_paths():
    def scenario(lib):
        a = lib.tensor([1.0, -2.0], requires_grad=True)
        b = a + a
        c = b + b
        c.sum().backward()
        return a.grad

    assert same_on_both(scenario) == [4.0, 4.0]  # c = 4a


def test_shared_subexpression_used_by_several_consumers():
    def scenario(lib):
        x = lib.tensor([0.5, 1.5, -1.0], requires_grad=True)
        w = lib.tensor([2.0, -1.0, 0.25], requires_grad=True)
        h = x * w  # used three times below
        y = (h * h + h * x - h / 2).sum()
        y.backward()
        return x.grad, w.grad

    same_on_both(scenario)


def test_wide_fan_in_and_fan_out():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        parts = [x * float(k) for k in range(1, 9)]
        total = parts[0]
        for p in parts[1:]:
            total = total + p * p
        total.sum().backward()
        return x.grad

    same_on_both(scenario)


def test_backward_with_an_explicit_gradient_is_a_vector_jacobian_product():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * x
        y.backward(lib.tensor([1.0, 0.5, -1.0]))
        return x.grad

    assert same_on_both(scenario) == [2.0, 2.0, -6.0]  # 2x * v


def test_backward_from_several_roots():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        z = y * y
        lib.autograd.backward([y.sum(), z.sum()])
        return x.grad

    same_on_both(scenario)


def test_gradient_accumulates_across_backward_calls_and_retain_graph():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward(retain_graph=True)
        first = x.grad.clone()
        y.backward()
        return first, x.grad

    assert same_on_both(scenario) == [[2.0, 4.0], [4.0, 8.0]]


def test_grad_is_updated_in_place_so_a_held_reference_sees_the_sum():
    def scenario(lib):
        p = lib.tensor([1.0, -1.0], requires_grad=True)
        (p * 2).sum().backward()
        held = p.grad
        (p * 3).sum().backward()
        return held is p.grad, held

    assert same_on_both(scenario) == [True, [5.0, 5.0]]


# A leaf takes over a gradient no one else holds instead of copying it, as torch's AccumulateGrad
# does: a reference to the gradient anywhere else means a copy; a tensor sharing its storage
# does not. The scenarios show, as in torch, whether the leaf's .grad changes with the other.


def test_a_gradient_the_caller_holds_is_copied_into_grad():
    def scenario(lib):
        w = lib.zeros(3, requires_grad=True)
        g = lib.tensor([1.0, 2.0, 3.0])
        w.backward(g)
        g.mul_(10)
        return w.grad

    assert same_on_both(scenario) == [1.0, 2.0, 3.0]


def test_a_view_of_the_callers_gradient_is_taken_over_as_in_torch():
    def scenario(lib):
        w = lib.zeros(3, requires_grad=True)
        g = lib.tensor([1.0, 2.0, 3.0])
        w.view(3).backward(g)  # the view's backward sends a new view of g, held by no one else
        g.mul_(10)
        return w.grad

    assert same_on_both(scenario) == [10.0, 20.0, 30.0]


def test_a_gradient_a_hook_keeps_is_copied_into_grad():
    def scenario(lib):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        kept = []
        w.register_hook(kept.append)
        (w * 2).sum().backward()
        kept[0].add_(100)
        return w.grad

    assert same_on_both(scenario) == [2.0, 2.0, 2.0]


def test_one_gradient_sent_to_two_leaves_becomes_two_grads():
    def scenario(lib):
        class Both(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                return a + b

            @staticmethod
            def backward(ctx, grad):
                shared = grad * 1  # a fresh tensor, sent to both inputs
                return shared, shared

        a = lib.zeros(2, requires_grad=True)
        b = lib.zeros(2, requires_grad=True)
        Both.apply(a, b).sum().backward()
        a.grad.add_(10)
        return a.grad, b.grad

    assert same_on_both(scenario) == [[11.0, 11.0], [1.0, 1.0]]


def fresh_function(lib, keep=None):
    """A Function of ``lib``: forward x * 1; backward sends a new tensor, grad * 2, after handing
    it to ``keep`` (if given)."""

    class Fresh(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            fresh = grad * 2
            if keep is not None:
                keep(fresh)
            return fresh

    return Fresh


def test_a_gradient_whose_storage_another_tensor_shares_is_taken_over_as_in_torch():
    def scenario(lib):
        kept = []
        w = lib.zeros(3, requires_grad=True)
        keep_storage = fresh_function(lib, keep=lambda fresh: kept.append(fresh.detach()))  # same storage
        keep_storage.apply(w).sum().backward()
        kept[0].add_(100)
        return w.grad

    assert same_on_both(scenario) == [102.0, 102.0, 102.0]


def fresh_gradient_of(x, keep=None):
    """Backward through a ``fresh_function`` from x; returns the gradient its node sent (held
    only weakly here, so that the engine sees no other reference)."""
    made = []

    def remember(fresh):
        made.append(weakref.ref(fresh))
        if keep is not None:
            keep(fresh)

    fresh_function(mg, keep=remember).apply(x).sum().backward()
    return made[0]()


def test_a_leaf_takes_over_a_gradient_no_one_else_holds():
    w = mg.zeros(4, requires_grad=True)
    sent = fresh_gradient_of(w)
    assert w.grad is sent  # not a copy (torch's AccumulateGrad also steals it)
    assert w.grad.tolist() == [2.0] * 4


def test_a_gradient_kept_by_the_function_that_sent_it_is_copied_into_grad():
    kept = []
    w = mg.zeros(4, requires_grad=True)
    sent = fresh_gradient_of(w, keep=kept.append)
    assert w.grad is not sent
    sent.add_(100)
    assert w.grad.tolist() == [2.0] * 4


def test_a_gradient_not_laid_out_as_the_leaf_is_copied_contiguous():
    w = mg.zeros(2, 3, requires_grad=True)
    assert fresh_gradient_of(w) is w.grad
    w.grad = None
    fresh_gradient_of(w.t())  # the gradient sent to w is the transpose of a fresh one
    assert w.grad.is_contiguous() and w.grad.tolist() == [[2.0] * 3] * 2


def test_a_traced_backward_copies_so_that_the_trace_keeps_what_was_sent():
    w = mg.zeros(2, requires_grad=True)
    with trace_backward():
        sent = fresh_gradient_of(w)  # the trace keeps what the node sent
        (w * 3).sum().backward()  # adds into w.grad in place
    assert w.grad is not sent and w.grad.tolist() == [5.0, 5.0]
    assert sent.tolist() == [2.0, 2.0]


def test_gradients_have_no_history_and_backward_leaves_grad_mode_as_it_was():
    def scenario(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        (a * b).sum().backward()
        (a * b).sum().backward()
        return a.grad, a.grad.requires_grad, a.grad.grad_fn is None, lib.is_grad_enabled()

    same_on_both(scenario)


def test_leaf_grad_has_the_leaf_shape_and_dtype_after_broadcasting():
    def scenario(lib):
        b = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        x = lib.ones(3, 2)
        (x * b).sum().backward()
        return b.grad, str(b.grad.dtype).split(".")[-1], list(b.grad.shape)

    same_on_both(scenario)


# -- what is kept and what is freed ----------------------------------------------------------


def test_second_backward_through_a_freed_graph_raises_torchs_error():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()

    check_raises(lambda: run(torch), lambda: run(mg), "Trying to backward through the graph a second time", exact=True)


def test_second_backward_without_saved_tensors_works_in_both():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x + x).sum()  # add saves nothing, so nothing is freed
        y.backward()
        y.backward()
        return x.grad

    assert same_on_both(scenario) == [4.0, 4.0]


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_non_leaf_grad_is_none_unless_retain_grad():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        kept = x * 2
        kept.retain_grad()
        (h * kept).sum().backward()
        return h.grad, kept.grad, kept.retains_grad, h.retains_grad, x.grad

    got = same_on_both(scenario)
    assert got[0] is None and got[1] == [3.0, 6.0]


def test_retain_grad_accumulates_across_passes_and_runs_after_hooks():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        h.retain_grad()
        h.register_hook(lambda g: g * 10)  # registered after retain_grad, still runs before it
        y = (h * h).sum()
        y.backward(retain_graph=True)
        once = h.grad.clone()
        y.backward()
        return once, h.grad, x.grad

    same_on_both(scenario)


def test_backward_on_non_scalar_without_gradient_raises():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).backward()

    check_raises(lambda: run(torch), lambda: run(mg), "grad can be implicitly created only for scalar outputs")


def test_backward_errors_match_torch():
    def no_grad_fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        lib.autograd.backward([x.sum(), lib.tensor(1.0)])

    check_raises(
        lambda: no_grad_fn(torch), lambda: no_grad_fn(mg), "element 1 of tensors does not require grad", exact=True
    )

    def wrong_shape(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).backward(lib.ones(3))

    check_raises(lambda: wrong_shape(torch), lambda: wrong_shape(mg), "Mismatch in shape: grad_output[0] has a shape")


# -- hooks ------------------------------------------------------------------------------------


def test_hooks_fire_in_torchs_order_and_their_results_replace_the_gradient():
    def scenario(lib):
        log = []
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        y = a * 2
        z = a * 3
        y.register_hook(lambda g: log.append(("y", g.tolist())))
        z.register_hook(lambda g: log.append(("z", g.tolist())) or g * 100)
        a.register_hook(lambda g: log.append(("a", g.tolist())))
        a.register_hook(lambda g: g + 1)  # the second hook of a leaf sees the first's result
        a.register_hook(lambda g: log.append(("a2", g.tolist())))
        (z + y).sum().backward()
        return log, a.grad

    got = same_on_both(scenario)
    assert [name for name, _ in got[0]] == ["z", "y", "a", "a2"]


def test_hooks_registered_before_an_in_place_op_see_the_gradient_of_the_old_value():
    def scenario(lib):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        h.register_hook(lambda g: log.append(("before", g.tolist())))
        h.mul_(3)
        h.register_hook(lambda g: log.append(("after", g.tolist())))
        (h * h).sum().backward()
        return log, x.grad

    assert same_on_both(scenario) == [[["after", [12.0, 24.0]], ["before", [36.0, 72.0]]], [72.0, 144.0]]


def test_hook_removal():
    def scenario(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        h = a * 1
        leaf_handle = a.register_hook(lambda g: g * 2)
        inner_handle = h.register_hook(lambda g: g * 3)
        (h * 1).sum().backward()
        first = a.grad.clone()
        a.grad = None
        leaf_handle.remove()
        inner_handle.remove()
        h2 = a * 1
        h2.sum().backward()
        return first, a.grad

    assert same_on_both(scenario) == [[6.0, 6.0], [1.0, 1.0]]


def test_hook_on_tensor_without_grad_raises():
    check_raises(
        lambda: torch.ones(2).register_hook(lambda g: g),
        lambda: mg.ones(2).register_hook(lambda g: g),
        "cannot register a hook on a tensor that doesn't require gradient",
    )


# -- autograd.grad ------------------------------------------------------------------------------


def test_grad_returns_without_accumulating():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, -1.0], requires_grad=True)
        y = (x * w * x).sum()
        gx, gw = lib.autograd.grad(y, [x, w])
        return gx, gw, x.grad, w.grad, gx.requires_grad

    same_on_both(scenario)


def test_grad_with_grad_outputs_and_non_leaf_inputs():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        h = x * x
        y = h * 3
        (gh,) = lib.autograd.grad(y, h, grad_outputs=lib.tensor([1.0, -1.0, 0.5]))
        return gh

    assert same_on_both(scenario) == [3.0, -3.0, 1.5]


def test_grad_stops_at_the_inputs():
    def scenario(lib):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: log.append("x"))
        h = x * 1
        h.register_hook(lambda g: log.append("h") or g * 10)  # applies to the returned gradient
        (gh,) = lib.autograd.grad((h * h).sum(), h)
        return gh, log, x.grad

    assert same_on_both(scenario) == [[20.0, 40.0], ["h"], None]


def test_grad_runs_no_hook_off_the_paths_to_its_inputs():
    def scenario(lib):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        side = w * 2
        side.register_hook(lambda g: log.append("side"))
        w.register_hook(lambda g: log.append("w"))
        h = x * 1
        h.register_hook(lambda g: log.append("h"))
        (gx,) = lib.autograd.grad((h * side).sum(), x)
        return gx, log

    assert same_on_both(scenario) == [[6.0, 8.0], ["h"]]


def test_grad_allow_unused():
    def scenario(lib):
        x = lib.tensor([1.0], requires_grad=True)
        unused = lib.tensor([2.0], requires_grad=True)
        return lib.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)

    assert same_on_both(scenario) == [[2.0], None]

    def unused_raises(lib):
        x = lib.tensor([1.0], requires_grad=True)
        lib.autograd.grad((x * 2).sum(), [x, lib.tensor([2.0], requires_grad=True)])

    check_raises(lambda: unused_raises(torch), lambda: unused_raises(mg), "appears to not have been used in the graph")


def test_grad_materialize_grads():
    def scenario(lib):
        x = lib.tensor([1.0], requires_grad=True)
        unused = lib.tensor([2.0, 3.0], requires_grad=True)
        return lib.autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)

    assert same_on_both(scenario) == [[2.0], [0.0, 0.0]]


def test_grad_of_input_without_requires_grad_raises():
    def run(lib):
        x = lib.tensor([1.0], requires_grad=True)
        lib.autograd.grad((x * 2).sum(), [x, lib.tensor([2.0])])

    check_raises(lambda: run(torch), lambda: run(mg), "One of the differentiated Tensors does not require grad")


# -- grad mode and requires_grad ----------------------------------------------------------------


def test_no_grad_results_do_not_require_grad():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.no_grad():
            y = x * 2
            inner = lib.is_grad_enabled()
        return y.requires_grad, y.grad_fn is None, inner, lib.is_grad_enabled(), y

    assert same_on_both(scenario) == [False, True, False, True, [2.0, 4.0]]


def test_grad_modes_nest_and_work_as_decorators():
    def scenario(lib):
        x = lib.tensor([1.0], requires_grad=True)
        seen = []
        with lib.no_grad():
            seen.append((x * 1).requires_grad)
            with lib.enable_grad():
                seen.append((x * 1).requires_grad)
                with lib.set_grad_enabled(False):
                    seen.append((x * 1).requires_grad)
                seen.append((x * 1).requires_grad)
            seen.append((x * 1).requires_grad)

        @lib.no_grad()
        def off():
            return (x * 1).requires_grad

        @lib.no_grad
        def off_bare():
            return (x * 1).requires_grad

        @lib.enable_grad()
        def on():
            return (x * 1).requires_grad

        @lib.set_grad_enabled(False)
        def off_by_setting():
            return (x * 1).requires_grad

        with lib.no_grad():
            seen.append(on())
        seen += [off(), off_bare(), off_by_setting(), lib.is_grad_enabled()]
        lib.set_grad_enabled(False)  # also works as a plain call
        seen.append(lib.is_grad_enabled())
        lib.set_grad_enabled(True)
        seen.append(lib.is_grad_enabled())
        return seen

    assert same_on_both(scenario) == [False, True, False, True, False, True, False, False, False, True, False, True]


def test_grad_mode_is_restored_when_the_block_raises():
    def scenario(lib):
        with pytest.raises(ValueError):
            with lib.no_grad():
                raise ValueError("boom")
        return lib.is_grad_enabled()

    assert same_on_both(scenario) is True


def test_requires_grad_propagation():
    def scenario(lib):
        a = lib.tensor([1.0], requires_grad=True)
        b = lib.tensor([2.0])
        c = lib.tensor([3, 4])
        results = [(a * b).requires_grad, (b * b).requires_grad, (b + c).requires_grad, (a * c).requires_grad]
        results.append((a > 0).requires_grad)  # comparisons are not differentiable
        results.append(a.argmax().requires_grad)
        results.append(b.requires_grad_().is_leaf)
        results.append((b * 2).requires_grad)
        results.append(a.detach().requires_grad)
        return results

    same_on_both(scenario)


def test_requires_grad_errors_match_torch():
    def on_int(lib):
        lib.tensor([1, 2]).requires_grad_()

    check_raises(lambda: on_int(torch), lambda: on_int(mg), "only Tensors of floating point")

    def off_on_non_leaf(lib):
        x = lib.tensor([1.0], requires_grad=True)
        (x * 2).requires_grad_(False)

    check_raises(
        lambda: off_on_non_leaf(torch), lambda: off_on_non_leaf(mg), "you can only change requires_grad flags of leaf"
    )


def test_detach_shares_storage_and_version_but_not_history():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        d = h.detach()
        d[0] = 10.0  # visible through h
        return h, d.requires_grad, d.grad_fn is None, d.is_leaf, h._version, d._version

    assert same_on_both(scenario) == [[10.0, 4.0], False, True, True, 1, 1]


def test_detach_in_place_makes_a_leaf():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        h.detach_()
        return h.requires_grad, h.is_leaf, h.grad_fn is None

    assert same_on_both(scenario) == [False, True, True]


def test_data_is_detached_and_shares_storage():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        d = x.data
        d.mul_(3)
        x.data = lib.tensor([7.0, 8.0])
        return d.requires_grad, x.requires_grad, x.is_leaf, x.detach()

    assert same_on_both(scenario) == [False, True, True, [7.0, 8.0]]


# -- the graph's nodes ------------------------------------------------------------------------


def test_grad_fn_names_and_next_functions():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = mg.tensor([3.0, 4.0])
    y = (x * c).exp().sum()
    assert y.grad_fn.name() == "SumBackward"
    assert repr(y.grad_fn).startswith("<SumBackward object at 0x")
    exp_node, nr = y.grad_fn.next_functions[0]
    assert exp_node.name() == "ExpBackward" and nr == 0
    mul_node, _ = exp_node.next_functions[0]
    assert mul_node.name() == "MulBackward"
    leaf_edge, const_edge = mul_node.next_functions
    assert isinstance(leaf_edge[0], AccumulateGrad) and leaf_edge[0].variable is x
    assert const_edge is None  # c needs no gradient
    assert x.grad_fn is None and x.is_leaf and not y.is_leaf
    # torch names the same graph SumBackward0 / ExpBackward0 / MulBackward0 / AccumulateGrad
    t = (torch.tensor([1.0, 2.0], requires_grad=True) * torch.tensor([3.0, 4.0])).exp().sum()
    assert t.grad_fn.name().rstrip("0") == y.grad_fn.name()


def test_the_same_leaf_has_one_accumulate_node_across_ops():
    x = mg.tensor([1.0], requires_grad=True)
    y, z = x * 2, x * 3
    assert y.grad_fn.next_functions[0][0] is z.grad_fn.next_functions[0][0]
