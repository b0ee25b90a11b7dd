"""In-place writes and views, against torch 2.13.0: a view knows its base, so an in-place op on
the base, on the view, on a view of the view or on a sibling view rewrites the other tensors'
histories (torch's CopySlices and regenerated AsStrided nodes), for every kind of view.

Every scenario runs in float64 on inputs whose products are exact, so values and gradients are
compared bit for bit."""

import itertools

import pytest
from conftest import check_raises
from test_autograd_engine import same_on_both

import minigrad as mg

torch = pytest.importorskip("torch")

VIEWS = {  # views of a (2, 3) tensor
    "slice": lambda a: a[1:],
    "step_slice": lambda a: a[:, ::2],
    "select": lambda a: a[1],
    "select_dim1": lambda a: a.select(1, 2),
    "t": lambda a: a.t(),
    "transpose": lambda a: a.transpose(0, 1),
    "permute": lambda a: a.permute(1, 0),
    "view": lambda a: a.view(3, 2),
    "view_flat": lambda a: a.view(-1),
    "reshape": lambda a: a.reshape(6),
    "narrow": lambda a: a.narrow(1, 1, 2),
    "unsqueeze": lambda a: a.unsqueeze(0),
    "squeeze": lambda a: a.unsqueeze(1).squeeze(1),
    "T": lambda a: a.T,
    "view_as": lambda a: a.view_as(a.new_zeros(6)),
    # views of views
    "slice_of_t": lambda a: a[:, 1:].t(),
    "t_of_slice": lambda a: a.t()[1:],
    "slice_of_flat": lambda a: a.view(-1)[2:5],
    "unsqueeze_of_select": lambda a: a[1].unsqueeze(0),
    "narrow_of_t": lambda a: a.t().narrow(0, 1, 2),
}

EXPANDING = {"expand": lambda a: a[:1].expand(3, 3)}  # read-only: writing into it overlaps

OPS = {  # in-place ops on a tensor t; s is a 0-d tensor that requires grad
    "mul_scalar": lambda t, s: t.mul_(3.0),
    "mul_tensor": lambda t, s: t.mul_(s),
    "add_": lambda t, s: t.add_(s, alpha=2),
    "copy_": lambda t, s: t.copy_(s * 2),
    "zero_": lambda t, s: t.zero_(),
    "fill_": lambda t, s: t.fill_(s),
    "setitem": lambda t, s: t.__setitem__(..., s * 5) if t.dim() == 0 else t.__setitem__(0, s * 5),
}

WHERE = ("base", "view", "view_of_view", "sibling")
THROUGH = ("view", "base", "both")


def _scenario(view_fn, op, where, through):
    def run(lib):
        x = lib.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]], dtype=lib.float64, requires_grad=True)
        s = lib.tensor(1.5, dtype=lib.float64, requires_grad=True)
        a = x * x
        v = view_fn(a)
        target = {
            "base": a,
            "view": v,
            "view_of_view": v if v.dim() == 0 else v[0],
            "sibling": a[0],
        }[where]
        op(target, s)
        weights = lib.arange(float(v.numel()), dtype=lib.float64).reshape(v.shape) - 2
        loss = {
            "view": (v * weights).sum(),
            "base": (a * a).sum(),
            "both": (a * a).sum() + (v * weights).sum(),
        }[through]
        loss.backward()
        return loss, a, v, x.grad, s.grad

    return run


CASES = [
    (view, op, where, through)
    for view, op, where, through in itertools.product(VIEWS, OPS, WHERE, THROUGH)
    if not (op == "setitem" and where == "sibling")
]


@pytest.mark.parametrize("view,op,where,through", CASES)
def test_in_place_through_a_view_or_its_base_gives_torchs_values_and_gradients(view, op, where, through):
    same_on_both(_scenario(VIEWS[view], OPS[op], where, through))


@pytest.mark.parametrize("where", ["base", "sibling"])
@pytest.mark.parametrize("op", sorted(OPS))
def test_an_expanded_view_follows_an_in_place_change_of_its_base(op, where):
    same_on_both(_scenario(EXPANDING["expand"], OPS[op], where, "view"))


def test_the_issue_example():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a = x * 2
        v = a[1:]
        a.mul_(3)
        v.sum().backward()
        return x.grad

    assert same_on_both(run) == [0.0, 6.0, 6.0]


def test_a_view_of_a_tensor_without_history_gets_one_when_its_base_is_written():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        z = lib.zeros(2, 3)
        row, col = z[1], z[:, 2]
        before = (row.requires_grad, col.requires_grad)
        z[0] = x * 2  # z gains a history through a view; row and col see it
        z[1].copy_(x * x)
        after = (row.requires_grad, col.requires_grad, z.requires_grad, z.is_leaf)
        ((row * row).sum() + (col * 3).sum() + z.sum()).backward()
        return before, after, x.grad

    assert same_on_both(run)[:2] == [[False, False], [True, True, True, False]]


def test_two_in_place_ops_on_two_views_then_on_the_base():
    def run(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        s = lib.tensor(2.0, requires_grad=True)
        a = x + 0
        r0, c1 = a[0], a[:, 1]
        r0.mul_(s)
        c1.add_(s)
        a.mul_(s)
        loss = (r0 * 1).sum() + (c1 * 10).sum() + a.sum()
        loss.backward()
        return loss, a, x.grad, s.grad

    same_on_both(run)


def test_retain_grad_and_hooks_on_a_view_written_in_place():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a = x * 2
        v = a[:2]
        v.retain_grad()
        v.mul_(3)
        (v * lib.tensor([1.0, 5.0])).sum().backward()
        return x.grad, v.grad

    same_on_both(run)


def test_saved_base_modified_through_a_view_raises_torchs_error():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a = x * 2
        y = a.exp()  # saves its output
        y[1:].mul_(2)  # fine: y's own history is rewritten
        b = a * a  # saves a
        a[0].zero_()
        b.sum().backward()

    check_raises(lambda: run(torch), lambda: run(mg), "modified by an inplace operation")


def test_in_place_on_a_view_of_a_leaf_is_refused_for_every_view_kind():
    for view_fn in VIEWS.values():

        def run(lib, view_fn=view_fn):
            p = lib.ones(2, 3, requires_grad=True)
            view_fn(p).mul_(2)

        check_raises(lambda: run(torch), lambda: run(mg), "a view of a leaf Variable that requires grad")


def test_no_grad_write_into_a_view_keeps_the_gradients_of_the_base_history():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a = x * 2
        v = a[1:]
        with lib.no_grad():
            v.mul_(10)
        (a * a).sum().backward()
        return a, x.grad

    same_on_both(run)
