"""minigrad.viz: the DOT text parsed back on graphs whose shape is known by hand, the backward
trace checked against hand-derived gradients, and pictures made by Graphviz when it is installed.
"""

import json
import math
import re
import shutil
import subprocess
from collections import Counter

import pytest

import minigrad
from minigrad.autograd import Function, engine
from minigrad.viz import GraphvizNotFoundError, render, to_dot, to_svg, trace_backward

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")

NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"')
EDGE = re.compile(r'^\s*(\w+) -> (\w+)(?: \[label="((?:[^"\\]|\\.)*)"\])?;$')


def unescape(text):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def parse(dot_text):
    """A small DOT reader for what to_dot writes: {id: label} and a list of (tail, head, label)."""
    nodes, edges = {}, []
    for line in dot_text.splitlines():
        if m := EDGE.match(line):
            edges.append((m.group(1), m.group(2), unescape(m.group(3) or "")))
        elif m := NODE.match(line):
            nodes[m.group(1)] = unescape(m.group(2))
    return nodes, edges


def parse_with_graphviz(dot_text):
    """The same two things as Graphviz itself reads them (dot -Tjson)."""
    graph = json.loads(
        subprocess.run(["dot", "-Tjson"], input=dot_text, capture_output=True, text=True, check=True).stdout
    )
    objects = graph["objects"]
    nodes = {o["name"]: unescape(o["label"]) for o in objects}
    edges = [
        (objects[e["tail"]]["name"], objects[e["head"]]["name"], unescape(e.get("label", "")))
        for e in graph.get("edges", [])
    ]
    return nodes, edges


def graph_by_label(dot_text):
    """Edges as a multiset of (tail's first label line, head's first label line)."""
    nodes, edges = parse(dot_text)
    if HAS_DOT:
        by_graphviz = parse_with_graphviz(dot_text)
        assert (by_graphviz[0], sorted(by_graphviz[1])) == (nodes, sorted(edges))
    title = {name: label.split("\n")[0] for name, label in nodes.items()}
    return nodes, Counter((title[a], title[b]) for a, b, _ in edges)


def xw():
    x = minigrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    w = minigrad.tensor([1.0, 0.5, 2.0], requires_grad=True)
    return x, w


def test_mul_sum_graph_has_the_ops_the_named_leaves_and_the_output():
    x, w = xw()
    y = (x * w).sum()
    nodes, edges = graph_by_label(to_dot(y, params={"x": x, "w": w}))
    assert sorted(label.split("\n")[0] for label in nodes.values()) == sorted(
        ["SumBackward", "MulBackward", "x", "w", "output"]
    )
    assert edges == Counter({("x", "MulBackward"): 1, ("w", "MulBackward"): 1, ("MulBackward", "SumBackward"): 1,
                             ("SumBackward", "output"): 1})  # fmt: skip


def test_labels_show_saved_shapes_leaf_shapes_and_grad_presence():
    x, w = xw()
    y = (x * w).sum()
    nodes, _ = parse(to_dot(y, params={"x": x, "w": w}))
    labels = set(nodes.values())
    # Mul saves both operands for backward: x (2, 3) and w (3,).
    assert "MulBackward\nsaved: (2, 3), (3,)" in labels
    assert "x\n(2, 3)\n.grad: None" in labels
    assert "w\n(3,)\n.grad: None" in labels
    assert "output\n()" in labels
    y.backward()
    after = to_dot(y, params={"x": x, "w": w})
    labels = set(parse(after)[0].values())
    assert "MulBackward" in labels  # saved tensors freed by backward
    assert "x\n(2, 3)\n.grad: (2, 3)" in labels and "w\n(3,)\n.grad: (3,)" in labels
    assert 'label="backward freed the saved tensors' in after


def test_show_saved_false_leaves_only_the_names():
    x, w = xw()
    nodes, _ = parse(to_dot((x * w).sum(), show_saved=False))
    assert "MulBackward" in nodes.values()


def test_diamond_draws_both_edges_of_a_reused_tensor():
    a = minigrad.tensor([1.0, 2.0], requires_grad=True)
    b = a + a
    c = b * b
    _, edges = graph_by_label(to_dot(c, params={"a": a}))
    assert edges == Counter({("a", "AddBackward"): 2, ("AddBackward", "MulBackward"): 2, ("MulBackward", "output"): 1})


def test_inputs_without_grad_are_not_drawn_and_unnamed_leaves_say_leaf():
    x, _ = xw()
    constant = minigrad.tensor([1.0, 2.0, 3.0])
    nodes, edges = graph_by_label(to_dot((x * constant).sum()))
    assert edges == Counter(
        {("leaf", "MulBackward"): 1, ("MulBackward", "SumBackward"): 1, ("SumBackward", "output"): 1}
    )
    assert len(nodes) == 4


def test_params_may_be_pairs_like_named_parameters():
    x, w = xw()
    y = (x * w).sum()
    pairs = ((name, t) for name, t in [("layer.weight", w), ("input", x)])
    nodes, _ = parse(to_dot(y, params=pairs))
    assert {label.split("\n")[0] for label in nodes.values()} >= {"layer.weight", "input"}


def test_leaves_are_named_by_a_modules_named_parameters():
    from minigrad import nn

    layer = nn.Linear(3, 2)
    loss = layer(minigrad.ones(4, 3)).sum()
    nodes, edges = graph_by_label(to_dot(loss, params=layer.named_parameters()))
    assert "weight\n(2, 3)\n.grad: None" in nodes.values() and "bias\n(2,)\n.grad: None" in nodes.values()
    assert edges[("bias", "AddmmBackward")] == 1


def test_several_named_outputs_share_one_graph():
    x, w = xw()
    h = x * w
    nodes, edges = graph_by_label(to_dot({"total": h.sum(), "mean": h.mean()}, params={"x": x, "w": w}))
    assert edges[("MulBackward", "SumBackward")] == 1 and edges[("MulBackward", "MeanBackward")] == 1
    assert edges[("SumBackward", "total")] == 1 and edges[("MeanBackward", "mean")] == 1
    assert sum(label.startswith("MulBackward") for label in nodes.values()) == 1


class SplitSum(Function):
    """Two outputs: (sum of x, sum of x^2); gradients 1 and 2x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sum(), (x * x).sum()

    @staticmethod
    def backward(ctx, g_sum, g_squares):
        (x,) = ctx.saved_tensors
        return g_sum + 2 * x * g_squares


def test_edges_from_a_multi_output_node_name_the_output():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    s, q = SplitSum.apply(x)
    _, edges = parse(to_dot(s + q))
    labels = sorted(label for _, _, label in edges if label)
    assert labels == ["output 0", "output 1"]


def test_leaf_output_and_dtype_shown_when_not_float32():
    x = minigrad.tensor([1.0, 2.0], dtype=minigrad.float64, requires_grad=True)
    nodes, edges = parse(to_dot(x, params={"x": x}))
    assert sorted(nodes.values()) == ["output\n(2,)", "x\n(2,) float64\n.grad: None"]
    assert len(edges) == 1


def test_a_name_with_quotes_and_backslashes_survives_escaping():
    x, w = xw()
    name = 'w "quoted" \\ back'
    nodes, _ = graph_by_label(to_dot((x * w).sum(), params={name: w}))
    assert f"{name}\n(3,)\n.grad: None" in nodes.values()


def test_tensors_without_a_graph_are_refused():
    with pytest.raises(ValueError, match="does not require grad"):
        to_dot(minigrad.tensor([1.0]))
    with pytest.raises(TypeError, match="expected minigrad Tensors"):
        to_dot([[1.0]])


# -- the backward trace ---------------------------------------------------------------------


def test_trace_records_each_node_once_in_topological_order_with_hand_derived_gradients():
    x, w = xw()
    y = (x * w).sum()
    with trace_backward(params={"x": x, "w": w}) as trace:
        y.backward()
    names = [step.node.name() for step in trace.steps]
    assert names[:2] == ["SumBackward", "MulBackward"] and sorted(names[2:]) == ["AccumulateGrad"] * 2
    mul = trace.steps[1]
    # d(sum(x*w))/dx = w broadcast over the rows; d/dw = column sums of x = [5, 7, 9].
    assert mul.grads_in[0].tolist() == [[1.0] * 3] * 2
    assert mul.grads_out[0].tolist() == [[1.0, 0.5, 2.0]] * 2
    assert mul.grads_out[1].tolist() == [5.0, 7.0, 9.0]
    assert trace.gradient_into(y.grad_fn, 0).tolist() == [[1.0] * 3] * 2
    assert trace.gradient_arrived(y.grad_fn, 0).tolist() == 1.0
    assert engine.observers == []


def test_trace_table_lists_steps_norms_and_targets():
    x, w = xw()
    y = (x * w).sum()
    with trace_backward(params={"x": x, "w": w}) as trace:
        y.backward()
    rows = [re.split(r"\s{2,}", line.strip()) for line in str(trace).splitlines()]
    assert rows[0] == ["step", "node", "grad in (shape norm)", "grad out (shape norm)", "to"]
    # norms by hand: |ones(2,3)| = sqrt(6) = 2.449; |w broadcast| = sqrt(2 * 5.25) = 3.240;
    # |[5, 7, 9]| = sqrt(155) = 12.45
    assert rows[1] == ["1", "SumBackward", "() 1", "(2, 3) 2.449", "#2 MulBackward"]
    step_of = {row[1]: row[0] for row in rows[1:] if row[0].isdigit()}
    assert rows[2] == [
        "2",
        "MulBackward",
        "(2, 3) 2.449",
        "(2, 3) 3.24",
        f"#{step_of['AccumulateGrad (x)']} AccumulateGrad (x)",
    ]
    assert rows[3] == ["(3,) 12.45", f"#{step_of['AccumulateGrad (w)']} AccumulateGrad (w)"]
    leaf_rows = {row[1]: row[2:] for row in rows[4:]}
    assert leaf_rows == {"AccumulateGrad (x)": ["(2, 3) 3.24"], "AccumulateGrad (w)": ["(3,) 12.45"]}


def test_edge_labels_carry_the_traced_gradients():
    x, w = xw()
    y = (x * w).sum()
    with trace_backward() as trace:
        y.backward()
    nodes, edges = parse(to_dot(y, params={"x": x, "w": w}, trace=trace))
    by_tail = {nodes[a].split("\n")[0]: label for a, _, label in edges}
    assert by_tail["x"] == f"grad (2, 3)\nnorm {math.sqrt(10.5):.4g}"
    assert by_tail["w"] == f"grad (3,)\nnorm {math.sqrt(155):.4g}"
    assert by_tail["SumBackward"] == "grad ()\nnorm 1"


def test_trace_sees_gradients_after_tensor_hooks():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.register_hook(lambda g: g * 10)
    with trace_backward() as trace:
        h.sum().backward()
    mul = next(step for step in trace.steps if step.node is h.grad_fn)
    assert mul.grads_in[0].tolist() == [10.0, 10.0]
    assert mul.grads_out[0].tolist() == [30.0, 30.0]


def test_observer_is_removed_even_when_backward_fails():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        with trace_backward():
            (x * 2).backward()  # not a scalar
    assert engine.observers == []


# -- pictures -------------------------------------------------------------------------------


@needs_dot
def test_svg_and_png_are_made_by_graphviz(tmp_path):
    x, w = xw()
    y = (x * w).sum()
    svg = render(y, tmp_path / "graph.svg", params={"x": x, "w": w}).read_text()
    assert "<svg" in svg and "MulBackward" in svg and ">x<" in svg
    assert "SumBackward" in to_svg(y)
    png = render(y, tmp_path / "graph.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_missing_graphviz_is_explained(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    x, w = xw()
    with pytest.raises(GraphvizNotFoundError, match=r"`dot` program is not on PATH.*to_dot"):
        render((x * w).sum(), tmp_path / "graph.svg")
    assert not (tmp_path / "graph.svg").exists()


def test_render_needs_a_format(tmp_path):
    x, _ = xw()
    with pytest.raises(ValueError, match="picture format"):
        render(x.sum(), tmp_path / "graph")
