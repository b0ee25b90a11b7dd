"""minigrad.viz.to_html: the page's data checked against the graph and the engine's trace, the
``python -m minigrad.viz`` runner, and the page itself in headless Chromium (skipped only when
Chromium is not installed): every node and edge drawn, the replay showing the gradients the
engine computed, the details of a clicked node, pan and zoom, no console errors, a screenshot
that is not blank, and a 2,000-node graph painted within 2 s."""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from chromium import CHROMIUM, Page, png_pixels

import minigrad
from minigrad import nn, viz
from minigrad._functions.pointwise import Mul
from minigrad.autograd import function
from minigrad.autograd.engine import _count_dependencies
from minigrad.autograd.function import gradient_edge
from minigrad.viz.__main__ import main
from minigrad.viz.graph import norm, walk

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def page_data(html):
    """The JSON the page's script reads."""
    return json.loads(re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', html, re.S)[1])


def diamond():
    """Page 3's diamond, x = (1, 2): a = 2x is used by b = a + 1 and by c = 3a; d = sum(b * c)."""
    with viz.record_forward() as forward:
        x = minigrad.tensor([1.0, 2.0], requires_grad=True)
        a = x * 2
        b = a + 1
        c = a * 3
        d = (b * c).sum()
    with viz.trace_backward() as trace:
        d.backward(retain_graph=True)
    return {"x": x, "a": a, "b": b, "c": c, "d": d, "trace": trace, "forward": forward}


def diamond_html(g):
    return viz.to_html({"d": g["d"]}, params={"x": g["x"]}, trace=g["trace"], forward=g["forward"])


def mlp():
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    loss = model(minigrad.randn(5, 3)).log_softmax(1).mean()
    with viz.trace_backward() as trace:
        loss.backward()
    return model, loss, trace


def g4_list(grad, count):
    """What an edge label shows of a gradient: its first elements as Python's "{:.4g}"."""
    values = grad.reshape(-1).tolist()
    return "[" + ", ".join(f"{v:.4g}" for v in values[:count]) + (", \u2026" if len(values) > count else "") + "]"


# -- the page's data --------------------------------------------------------------------------


def test_the_page_is_one_self_contained_file():
    html = diamond_html(diamond())
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "<style>" in html and "<script>" in html
    assert re.findall(r"https?://[^\"'\s)]*", html) == ["http://www.w3.org/2000/svg"] * 2  # namespaces only
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\((?!#)", html)


def test_the_data_has_every_node_edge_and_dependency_count_of_the_graph():
    model, loss, _ = mlp()
    data = page_data(viz.to_html(loss, params=model.named_parameters()))
    nodes, edges = walk([loss.grad_fn])
    names = {id(p): name for name, p in model.named_parameters()}
    assert [n["title"] for n in data["nodes"][: len(nodes)]] == [
        f"AccumulateGrad ({names[id(node.variable)]})" if node.name() == "AccumulateGrad" else node.name()
        for node in nodes
    ]
    assert data["nodes"][-1] == {"kind": "output", "title": "output", "lines": ["output", "()"]}
    index = {node: i for i, node in enumerate(nodes)}
    expected = Counter((index[e.producer], index[e.consumer], e.index, e.output_nr) for e in edges)
    assert Counter(map(tuple, data["edges"][:-1])) == expected
    assert data["edges"][-1] == [0, len(nodes), 0, 0]
    dependencies = _count_dependencies([loss.grad_fn])
    assert [n["deps"] for n in data["nodes"][: len(nodes)]] == [dependencies.get(node, 0) for node in nodes]
    leaves = {n["lines"][0]: n for n in data["nodes"] if n["kind"] == "leaf"}
    assert sorted(leaves) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert leaves["0.weight"]["lines"][1] == "(4, 3)"
    assert data["steps"] is None


def test_the_steps_are_the_engines_in_its_order_with_its_gradients():
    g = diamond()
    data = page_data(diamond_html(g))
    nodes, _ = walk([g["d"].grad_fn])
    trace = g["trace"]
    assert [nodes[s["node"]] for s in data["steps"]] == [step.node for step in trace.steps]
    for s, step in zip(data["steps"], trace.steps):
        assert len(s["in"] + s["out"]) == len(step.grads_in + step.grads_out)
        for shown, grad in zip(s["in"] + s["out"], step.grads_in + step.grads_out):
            if grad is None:  # an input that needs no gradient (the 2 of 2 * x)
                assert shown is None
                continue
            assert shown["values"] == grad.reshape(-1).tolist() and shown["shape"] == list(grad.shape)
            assert shown["norm"] == norm(grad) and shown["dtype"] == "float32"
    # by hand (page 3): the node that made a receives (6, 12) + (9, 15) and sends 2 * (15, 27)
    a_step = next(s for s in data["steps"] if nodes[s["node"]] is g["a"].grad_fn)
    assert a_step["in"][0]["values"] == [15.0, 27.0] and a_step["out"][0]["values"] == [30.0, 54.0]


def test_nodes_show_forward_values_saved_tensors_docstrings_and_next_functions():
    g = diamond()
    data = page_data(diamond_html(g))
    nodes, _ = walk([g["d"].grad_fn])
    by_node = dict(zip(nodes, data["nodes"]))
    product = by_node[g["d"].grad_fn.next_functions[0][0]]  # b * c
    assert product["value"][0]["values"] == [18.0, 60.0]  # (3, 5) * (6, 12)
    assert [t["values"] for t in product["saved"]] == [[3.0, 5.0], [6.0, 12.0]]
    assert product["doc"] == Mul.__doc__.strip() and "dz/da = b" in product["doc"]
    assert product["next"] == [[nodes.index(g["b"].grad_fn), 0], [nodes.index(g["c"].grad_fn), 0]]
    assert by_node[g["a"].grad_fn]["value"][0]["values"] == [2.0, 4.0]
    assert by_node[g["d"].grad_fn]["value"][0]["values"] == [78.0]
    leaf = by_node[gradient_edge(g["x"])[0]]
    assert leaf["kind"] == "leaf" and leaf["value"][0]["values"] == [1.0, 2.0]
    assert leaf["grad"]["values"] == [30.0, 54.0]
    assert function._link is not None and not hasattr(function._link, "__self__")  # the recording wrapper is gone


def test_without_a_record_only_leaves_and_outputs_have_values_and_freed_tensors_say_so():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).exp()
    loss = y.sum()
    loss.backward()
    data = page_data(viz.to_html(loss))
    ops = {n["lines"][0]: n for n in data["nodes"] if n["kind"] == "op"}
    assert "value" not in ops["ExpBackward"] and ops["SumBackward"]["value"][0]["values"] == [loss.item()]
    assert ops["MulBackward"]["saved"].startswith("freed by backward")


def test_only_the_last_backward_pass_of_a_trace_is_replayed():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).sum()
    with viz.trace_backward() as trace:
        y.backward(retain_graph=True)
        y.backward()
    assert len(trace.steps) == 6
    steps = page_data(viz.to_html(y, trace=trace))["steps"]
    assert len(steps) == 3 and steps[2]["in"][0]["values"] == [3.0, 3.0]


def test_non_finite_numbers_survive_json():
    x = minigrad.tensor([0.0, 1.0], requires_grad=True)
    y = x.log()  # -inf at 0
    data = page_data(viz.to_html(y.sum(), forward=None))
    assert data["nodes"][0]["value"][0]["values"] == ["-inf"]


def test_render_writes_the_page_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    g = diamond()
    path = viz.render(g["d"], tmp_path / "graph.html", params={"x": g["x"]}, trace=g["trace"])
    assert path.read_text().startswith("<!DOCTYPE html>")
    assert len(page_data(path.read_text())["steps"]) == 6


# -- python -m minigrad.viz -------------------------------------------------------------------

SCRIPT = """
import sys
import minigrad
from minigrad import nn

minigrad.manual_seed(0)
model = nn.Linear(3, 2)
x = minigrad.ones(4, 3)
for step in range(2):
    loss = model(x).pow(2).sum()
    model.zero_grad()
    loss.backward()
extra = (model.weight * 2).sum()
ARGS = sys.argv[1:]
"""


def run_main(tmp_path, *args, script=SCRIPT):
    path = tmp_path / "learner.py"
    path.write_text(script)
    out = tmp_path / "out.html"
    assert main([str(path), "--html", str(out), *args]) == 0
    return page_data(out.read_text())


def test_the_runner_draws_the_last_backward_with_the_scripts_names(tmp_path):
    data = run_main(tmp_path)
    assert data["nodes"][-1]["title"] == "loss"
    titles = {n["title"] for n in data["nodes"]}
    assert {"AccumulateGrad (model.weight)", "AccumulateGrad (model.bias)"} <= titles
    minigrad.manual_seed(0)  # the same program, here: the replay must show its gradients
    model = nn.Linear(3, 2)
    model(minigrad.ones(4, 3)).pow(2).sum().backward()
    weight_step = next(s for s in data["steps"] if data["nodes"][s["node"]]["title"].endswith("(model.weight)"))
    assert weight_step["in"][0]["values"] == model.weight.grad.reshape(-1).tolist()[:6]
    assert all("value" in n for n in data["nodes"] if n["kind"] == "op")  # forward values recorded


def test_the_runner_passes_arguments_and_draws_a_named_tensor(tmp_path):
    script = SCRIPT + "assert ARGS == ['--flag', '7'], ARGS\n"
    data = run_main(tmp_path, "--tensor", "extra", "--no-values", "--", "--flag", "7", script=script)
    assert data["nodes"][-1]["title"] == "extra" and data["steps"] is None
    assert [i for i, n in enumerate(data["nodes"]) if n["kind"] == "op" and "value" in n] == [0]  # the output
    data = run_main(tmp_path, "--tensor", "loss")
    assert data["steps"] is not None  # loss is the root of the last backward


def test_the_command_line(tmp_path):
    import sys
    from pathlib import Path

    (tmp_path / "learner.py").write_text(SCRIPT)
    repo = str(Path(__file__).resolve().parent.parent)
    environment = {**os.environ, "PYTHONPATH": repo}
    command = [sys.executable, "-m", "minigrad.viz", "learner.py", "--html", "page.html"]
    result = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # Sum, Pow, Addmm, T (of the weight), and the two leaves
    assert result.stderr.strip() == "wrote page.html, 6 steps of backward"
    assert page_data((tmp_path / "page.html").read_text())["nodes"][-1]["title"] == "loss"


def test_the_runner_explains_what_is_missing(tmp_path, capsys):
    with pytest.raises(SystemExit):
        run_main(tmp_path, script="import minigrad\ny = minigrad.ones(2, requires_grad=True) * 2\n")
    assert "made no backward() call: name a tensor to draw with --tensor NAME" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_main(tmp_path, "--tensor", "nothing")
    assert "has no global tensor named 'nothing'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path / "missing.py"), "--html", str(tmp_path / "out.html")])
    assert "no such script" in capsys.readouterr().err


# -- in the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    page = Page(1200, 800)
    yield page
    page.close()


def load(browser, tmp_path, html, fragment=""):
    path = tmp_path / "page.html"
    path.write_text(html)
    browser.errors.clear()
    browser.open(path, fragment)
    return page_data(html)


DRAWN = """(() => {
  const svg = document.getElementById("graph");
  const boxes = [...svg.querySelectorAll("g.node")].map((g) => {
    const r = g.querySelector("rect").getBBox();
    return [+g.dataset.node, r.x, r.y, r.width, r.height, g.querySelector("text").textContent];
  });
  const edges = [...svg.querySelectorAll("g.edge")].map((g) => {
    const path = g.querySelector("path");
    const length = path.getTotalLength();
    const start = path.getPointAtLength(0), end = path.getPointAtLength(length);
    return [+g.dataset.edge, +g.dataset.from, +g.dataset.to, length, start.x, start.y, end.x, end.y];
  });
  return {boxes, edges, visible: svg.getBoundingClientRect().width};
})()"""


@needs_chromium
@pytest.mark.parametrize("graph", ["diamond", "mlp", "tutorial-step"])
def test_every_node_and_edge_is_drawn(browser, tmp_path, graph):
    if graph == "diamond":
        data = load(browser, tmp_path, diamond_html(diamond()))
    elif graph == "tutorial-step":
        data = load(browser, tmp_path, make_pictures().tutorial_step_page())
    else:
        model, loss, trace = mlp()
        data = load(browser, tmp_path, viz.to_html(loss, params=model.named_parameters(), trace=trace))
    drawn = browser.evaluate(DRAWN)
    assert drawn["visible"] > 500
    assert [b[0] for b in drawn["boxes"]] == list(range(len(data["nodes"])))
    boxes = {}
    for i, x, y, width, height, first_line in drawn["boxes"]:
        assert width > 20 and height > 20 and first_line == data["nodes"][i]["lines"][0]
        boxes[i] = (x, y, width, height)
    assert len(drawn["edges"]) == len(data["edges"])
    for (_, tail, head, length, x0, y0, x1, y1), (tail_, head_, _, _) in zip(drawn["edges"], data["edges"]):
        assert (tail, head) == (tail_, head_) and length > 10
        tx, ty, tw, th = boxes[tail]
        hx, hy, hw, _ = boxes[head]
        assert tx <= x0 <= tx + tw and y0 == pytest.approx(ty + th, abs=0.06)  # leaves the tail's bottom
        assert hx <= x1 <= hx + hw and y1 == pytest.approx(hy, abs=0.06)  # enters the head's top
    assert browser.errors == []


STATE = """(() => ({
  status: document.getElementById("status").textContent,
  current: [...document.querySelectorAll("g.node.current")].map((g) => +g.dataset.node),
  ready: [...document.querySelectorAll("g.node.ready")].map((g) => +g.dataset.node),
  badges: [...document.querySelectorAll("g.node")].map((g) => g.querySelector(".badge").textContent),
  labels: [...document.querySelectorAll("g.edge")].map((g) =>
    [...g.querySelectorAll(".glabel tspan")].map((t) => t.textContent)),
  active: [...document.querySelectorAll("g.edge.active")].map((g) => +g.dataset.edge),
}))()"""


def expected_replay(data, trace, nodes):
    """What the page must show after each number of steps, worked out from the engine's trace."""
    index = {node: i for i, node in enumerate(nodes)}
    dependencies = _count_dependencies([nodes[0]])
    deps = [dependencies.get(node, 0) for node in nodes]
    arrived = [0] * len(nodes)
    states = []
    for k in range(len(trace.steps) + 1):
        if k:
            step = trace.steps[k - 1]
            for edge, grad in zip(step.node.next_functions, step.grads_out):
                if edge is not None:
                    deps[index[edge[0]]] -= 1
                    arrived[index[edge[0]]] += grad is not None
        ran = {index[s.node]: i for i, s in enumerate(trace.steps[:k])}
        badges = []
        for i, node in enumerate(nodes):
            if i in ran and node.name() == "AccumulateGrad":
                badges.append(f".grad norm {norm(trace.steps[ran[i]].grads_in[0]):.4g}")
            elif i in ran:
                badges.append(f"step {ran[i] + 1}")
            elif deps[i] == 0:
                badges.append("ready")
            else:
                badges.append(f"waits for {deps[i]}" + (f" ({arrived[i]} in)" if arrived[i] else ""))
        labels = []
        for tail, head, input_nr, output_nr in data["edges"]:
            if head == len(nodes):  # the output: its gradient is there from the start
                grad = trace.gradient_arrived(nodes[tail], output_nr)
            elif head in ran:
                grad = trace.steps[ran[head]].grads_out[input_nr]
            else:
                labels.append([])
                continue
            labels.append([g4_list(grad, 2), f"norm {norm(grad):.4g}"])
        states.append((badges + [""], labels))
    return states


@needs_chromium
def test_stepping_by_keyboard_shows_what_the_engine_computed(browser, tmp_path):
    g = diamond()
    data = load(browser, tmp_path, diamond_html(g))
    nodes, _ = walk([g["d"].grad_fn])
    trace = g["trace"]
    expected = expected_replay(data, trace, nodes)
    n = len(trace.steps)
    state = browser.evaluate(STATE)
    assert state["status"] == f"step 0 of {n}: before backward \u00b7 ready 1"
    assert (state["badges"], state["labels"]) == expected[0]
    assert state["badges"][nodes.index(g["a"].grad_fn)] == "waits for 2"  # b and c both use a
    for k in range(1, n + 1):
        browser.press("ArrowRight")
        state = browser.evaluate(STATE)
        node = nodes.index(trace.steps[k - 1].node)
        assert state["status"].startswith(f"step {k} of {n}: ran {data['nodes'][node]['title']}")
        assert state["current"] == [node]
        assert (state["badges"], state["labels"]) == expected[k], f"after step {k}"
        assert {data["edges"][e][1] for e in state["active"]} <= {node}
    # the node that made a waited for both deliveries: after step 3 one of two had arrived
    assert expected[3][0][nodes.index(g["a"].grad_fn)] == "waits for 1 (1 in)"
    # the leaf's .grad is what backward accumulated: x.grad = 24x + 6 = (30, 54)
    assert state["badges"][nodes.index(gradient_edge(g["x"])[0])] == f".grad norm {math.hypot(30, 54):.4g}"
    x_edge = next(e for e, edge in enumerate(data["edges"]) if data["nodes"][edge[0]]["title"] == "AccumulateGrad (x)")
    tooltip = browser.evaluate(f"document.querySelector('g.edge[data-edge=\"{x_edge}\"] title').textContent")
    gradient = f"(2,) float32 [30, 54]  norm {math.hypot(30, 54):.4g}"
    assert tooltip == f"AccumulateGrad (x) \u2192 MulBackward (input 0)\ngradient: {gradient}"
    browser.press("ArrowRight")  # past the end: stays
    assert browser.evaluate(STATE)["status"].startswith(f"step {n} of {n}")
    browser.press("ArrowLeft")
    assert (browser.evaluate(STATE)["badges"], browser.evaluate(STATE)["labels"]) == expected[n - 1]
    browser.press("Home")
    assert browser.evaluate(STATE)["labels"] == expected[0][1]
    browser.press("End")
    assert browser.evaluate(STATE)["badges"] == expected[n][0]
    assert browser.errors == []


@needs_chromium
def test_the_buttons_and_the_address_choose_the_step(browser, tmp_path):
    g = diamond()
    load(browser, tmp_path, diamond_html(g), fragment="step=4")
    assert browser.evaluate(STATE)["status"].startswith("step 4 of 6: ran AddBackward")
    browser.evaluate("document.getElementById('back').click()")
    assert browser.evaluate(STATE)["status"].startswith("step 3 of 6")
    browser.evaluate("document.getElementById('last').click()")
    assert browser.evaluate(STATE)["status"].startswith("step 6 of 6")
    assert browser.evaluate("document.getElementById('forward').disabled") is True
    assert browser.errors == []


def centre_of(browser, i):
    return browser.evaluate(
        f"(() => {{ const r = document.querySelector('g.node[data-node=\"{i}\"] rect').getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
    )


@needs_chromium
def test_clicking_a_node_shows_its_function_saved_tensors_values_and_gradients(browser, tmp_path):
    g = diamond()
    data = load(browser, tmp_path, diamond_html(g), fragment="step=6")
    nodes, _ = walk([g["d"].grad_fn])
    product = nodes.index(g["d"].grad_fn.next_functions[0][0])
    browser.click(*centre_of(browser, product))
    panel = browser.evaluate("document.getElementById('panel').innerText")
    assert "z = a * b;  dz/da = b,  dz/db = a." in panel  # Mul's docstring
    assert "(2,) float32 [18, 60] norm 62.64" in panel  # forward value b * c = (3, 5) * (6, 12)
    assert "(2,) float32 [3, 5] norm 5.831" in panel and "(2,) float32 [6, 12] norm 13.42" in panel  # saved
    assert "0: AddBackward, output 0" in panel and "1: MulBackward, output 0" in panel  # next_functions
    assert "ran at step 2" in panel
    assert "received: (2,) float32 [1, 1] norm 1.414" in panel
    assert "sent to AddBackward: (2,) float32 [6, 12] norm 13.42" in panel
    assert browser.evaluate(f"document.querySelector('g.node[data-node=\"{product}\"]').classList.contains('selected')")
    # a link in the panel selects that node
    browser.evaluate("document.querySelector('#panel a[data-goto]').click()")
    selected = browser.evaluate("document.querySelector('g.node.selected').dataset.node")
    assert selected == str(data["nodes"][product]["next"][0][0])
    browser.press("Escape")
    assert browser.evaluate("document.querySelectorAll('g.node.selected').length") == 0
    assert browser.errors == []


@needs_chromium
def test_a_page_without_a_trace_has_no_step_controls(browser, tmp_path):
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    load(browser, tmp_path, viz.to_html((x * 2).sum(), params={"x": x}))
    assert browser.evaluate("document.getElementById('controls').hidden") is True
    browser.press("ArrowRight")
    assert browser.evaluate("[...document.querySelectorAll('.badge')].map((b) => b.textContent).join('')") == ""
    browser.click(*centre_of(browser, 1))
    assert "z = a * b" in browser.evaluate("document.getElementById('panel').innerText")
    assert browser.errors == []


@needs_chromium
def test_wheel_zooms_and_dragging_pans(browser, tmp_path):
    load(browser, tmp_path, diamond_html(diamond()))
    transform = "document.getElementById('viewport').getAttribute('transform')"

    def parse():
        return [float(v) for v in re.findall(r"-?[\d.]+", browser.evaluate(transform))]

    x, y, k = parse()
    browser.call("Input.dispatchMouseEvent", {"type": "mouseWheel", "x": 100, "y": 100, "deltaX": 0, "deltaY": -200})
    x2, y2, k2 = parse()
    assert k2 == pytest.approx(k * math.exp(0.3), rel=1e-3)
    assert (100 - x2) / k2 == pytest.approx((100 - x) / k, abs=0.1)  # the point under the cursor stays
    for kind, at in (("mousePressed", 50), ("mouseMoved", 90), ("mouseReleased", 90)):
        browser.call("Input.dispatchMouseEvent", {"type": kind, "x": at, "y": 700, "button": "left", "buttons": 1})
    x3, y3, k3 = parse()
    assert (x3 - x2, y3 - y2, k3) == (pytest.approx(40), pytest.approx(0), k2)
    browser.press("0")
    assert parse() == [x, y, k]
    assert browser.errors == []


@needs_chromium
def test_console_errors_are_caught(browser, tmp_path):
    """The check every browser test ends with can fail: an error in the page is recorded."""
    load(browser, tmp_path, diamond_html(diamond()))
    browser.evaluate("setTimeout(() => { throw new Error('boom'); }, 0); console.error('oops'); 1")
    browser.evaluate("new Promise((done) => setTimeout(done, 50))")
    browser.evaluate("1")
    assert any("oops" in e for e in browser.errors) and any("boom" in e for e in browser.errors)


@needs_chromium
def test_the_screenshot_shows_the_graph(browser, tmp_path):
    load(browser, tmp_path, diamond_html(diamond()), fragment="step=5")
    width, height, pixels = png_pixels(browser.screenshot())
    assert (width, height) == tuple(browser.evaluate("[innerWidth, innerHeight]"))
    colours = Counter(p[:3] for p in pixels)
    background = colours.most_common(1)[0][1]
    assert len(pixels) - background > 0.02 * len(pixels)  # far from blank
    assert colours[(255, 213, 138)] > 1000  # the current node's orange fill
    assert colours[(231, 240, 255)] + colours[(207, 226, 255)] > 500  # the leaf's blue
    assert browser.errors == []


@needs_chromium
def test_a_graph_of_2000_nodes_paints_within_2_seconds(browser, tmp_path):
    minigrad.manual_seed(0)
    x = minigrad.randn(4, requires_grad=True)
    weights = [minigrad.randn(4, requires_grad=True) for _ in range(500)]
    y = x
    for w in weights:
        y = (y * w).tanh() + y
    loss = y.sum()
    with viz.trace_backward() as trace:
        loss.backward()
    started = time.perf_counter()
    html = viz.to_html(loss, params={f"w{i}": w for i, w in enumerate(weights)}, trace=trace)
    build = time.perf_counter() - started
    data = load(browser, tmp_path, html)
    assert len(data["nodes"]) == 2003 and len(data["steps"]) == 2002
    paint = browser.evaluate(
        "performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint').startTime"
    )
    print(f"2,003 nodes: to_html {build:.2f} s, first contentful paint {paint:.0f} ms")
    assert paint < 2000
    assert browser.evaluate("document.querySelectorAll('g.node').length") == 2003
    # too big to read whole: it opens at a readable scale on the output, where backward starts
    assert browser.evaluate("document.getElementById('viewport').getAttribute('transform')").endswith("scale(0.6000)")
    output = browser.evaluate(
        "(() => { const r = document.querySelector('g.node.output rect').getBoundingClientRect();"
        " const s = document.getElementById('graph').getBoundingClientRect();"
        " return r.top >= s.top && r.bottom <= s.bottom && r.left >= s.left && r.right <= s.right; })()"
    )
    assert output is True
    browser.press("End")
    assert browser.evaluate(STATE)["status"].startswith("step 2002 of 2002")
    assert browser.errors == []


# -- the docs' pages and the README's picture -------------------------------------------------


def make_pictures():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "docs" / "make_pictures.py"
    spec = importlib.util.spec_from_file_location("make_pictures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_docs_pages_are_what_make_pictures_writes_and_are_linked():
    # make_pictures draws with the pure kernels whichever core this suite runs on: in a process of its own
    docs = Path(__file__).resolve().parent.parent / "docs"
    script = "import json, runpy; print(json.dumps(runpy.run_path('make_pictures.py')['pages']()))"
    env = {k: v for k, v in os.environ.items() if k != "MINIGRAD_REQUIRE_EXTENSIONS"}
    env.update(PYTHONPATH=str(docs.parent), MINIGRAD_NO_EXTENSIONS="1")
    run = subprocess.run([sys.executable, "-c", script], cwd=docs, env=env, capture_output=True, text=True, check=True)
    for name, html in json.loads(run.stdout).items():
        assert (docs / "html" / f"{name}.html").read_text(encoding="utf-8") == html, "run docs/make_pictures.py"
    assert "html/diamond.html" in (docs / "03-the-engine.md").read_text()
    assert "html/tutorial-step.html" in (docs / "06-lstm.md").read_text()
    readme = (docs.parent / "README.md").read_text()
    assert "docs/html/diamond.html" in readme and "docs/images/backward-replay.png" in readme
    assert "python docs/make_pictures.py --screenshot" in readme


def test_the_tutorial_page_shows_the_fused_lstm_node():
    data = page_data(make_pictures().tutorial_step_page())
    titles = [n["title"] for n in data["nodes"]]
    assert titles.count("LSTMLayerBackward") == 1 and "AccumulateGrad (lstm.weight_hh_l0)" in titles
    assert len(data["steps"]) == len(data["nodes"]) - 1  # every node but the output box ran


def test_the_readme_screenshot_is_a_picture_of_the_page():
    pictures = make_pictures()
    width, height, pixels = png_pixels(pictures.SCREENSHOT.read_bytes())
    assert (width, height) == (1200, 760)
    colours = Counter(p[:3] for p in pixels)
    assert colours[(255, 213, 138)] > 1000  # the current node, as in the browser test above
    assert len(pixels) - colours.most_common(1)[0][1] > 0.05 * len(pixels)


FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")


@pytest.mark.skipif(FIREFOX is None, reason="firefox is not installed")
def test_firefox_draws_the_page_and_runs_its_script(tmp_path):
    """Firefox's own headless screenshot of the page at step 5: the script ran (the current
    node is orange only once it has replayed the steps) and the leaf is drawn, still blue
    (it runs at step 6)."""
    page = tmp_path / "page.html"
    page.write_text(diamond_html(diamond()))
    shot = tmp_path / "shot.png"
    command = [FIREFOX, "--headless", "--profile", str(tmp_path), "--window-size=1000,700",
               "--screenshot", str(shot), f"{page.as_uri()}#step=5"]  # fmt: skip
    environment = {"HOME": str(tmp_path), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    subprocess.run(command, check=True, capture_output=True, timeout=120, env=environment)
    width, height, pixels = png_pixels(shot.read_bytes())
    colours = Counter(p[:3] for p in pixels)
    assert width == 1000 and colours[(255, 213, 138)] > 1000 and colours[(207, 226, 255)] > 500


def test_a_function_without_a_docstring_says_so():
    class Twice(minigrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    y = Twice.apply(minigrad.tensor([1.0], requires_grad=True))
    assert page_data(viz.to_html(y))["nodes"][0]["doc"] == "Twice has no docstring."
