"""minigrad.viz.layout: the layered drawing has no overlapping boxes, every edge joins adjacent
layers or is routed through one point per layer it crosses, and the same graph always gets the
same drawing. Graphs: hand-made ones whose layers are known, random DAGs, and real autograd
graphs (an MLP, the composed LSTM)."""

import random

import pytest

import minigrad
from minigrad import nn
from minigrad._functions.recurrent import lstm_layer_composed
from minigrad.autograd.function import gradient_edge
from minigrad.viz.graph import walk
from minigrad.viz.layout import LAYER_GAP, NODE_GAP, _crossings, layered_layout


def random_dag(n, seed, extra=0.4):
    """Node v > 0 feeds a random earlier node (so node 0 is the only sink), sometimes two."""
    rng = random.Random(seed)
    edges = []
    for v in range(1, n):
        edges.append((v, rng.randrange(max(0, v - 8), v)))
        if rng.random() < extra:
            edges.append((v, rng.randrange(0, v)))
    sizes = [(rng.choice([40, 90, 150]), rng.choice([30, 44])) for _ in range(n)]
    return sizes, edges


def autograd_graph(tensor):
    """(sizes, edges) of the graph behind a tensor, tails (producers) above heads."""
    nodes, edges = walk([gradient_edge(tensor)[0]])
    index = {node: i for i, node in enumerate(nodes)}
    return [(len(node.name()) * 7 + 16, 36) for node in nodes], [(index[e.producer], index[e.consumer]) for e in edges]


def mlp_graph():
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
    return autograd_graph(model(minigrad.randn(5, 4)).log_softmax(1).sum())


def lstm_graph():
    minigrad.manual_seed(0)
    weights = [minigrad.randn(*shape, requires_grad=True) for shape in ((8, 2), (8, 2), (8,), (8,))]
    out, _, _ = lstm_layer_composed(minigrad.randn(4, 1, 2), minigrad.zeros(1, 2), minigrad.zeros(1, 2), *weights)
    return autograd_graph(out.sum())


GRAPHS = {
    "random-30": random_dag(30, 1),
    "random-200": random_dag(200, 2),
    "random-dense": random_dag(60, 3, extra=1.0),
    "mlp": mlp_graph(),
    "lstm": lstm_graph(),
}


def check_layout(sizes, edges, layout, gap=NODE_GAP):
    boxes = layout.boxes
    assert len(boxes) == len(sizes) and len(layout.routes) == len(edges)
    for box, (width, height) in zip(boxes, sizes):
        assert (box.width, box.height) == (width, height)
        assert box.left >= 0 and box.top >= 0 and box.right <= layout.width and box.bottom <= layout.height
    # no two boxes overlap: in one layer they keep the gap, in different layers they are apart vertically
    by_layer = {}
    for v, box in enumerate(boxes):
        by_layer.setdefault(layout.layers[v], []).append(box)
    for row in by_layer.values():
        row.sort(key=lambda b: b.x)
        for left, right in zip(row, row[1:]):
            assert right.left - left.right >= gap - 1e-9
    for level in range(1, len(layout.layer_y)):
        upper = max(b.bottom for b in by_layer[level - 1])
        lower = min(b.top for b in by_layer[level])
        assert lower - upper >= LAYER_GAP - 1e-9
    # every edge points down and goes through one point in each layer it crosses
    for (tail, head), route in zip(edges, layout.routes):
        assert layout.layers[tail] < layout.layers[head]
        assert route[0] == (boxes[tail].x, boxes[tail].bottom)
        assert route[-1] == (boxes[head].x, boxes[head].top)
        middle = route[1:-1]
        assert len(middle) == layout.layers[head] - layout.layers[tail] - 1
        assert [y for _, y in middle] == layout.layer_y[layout.layers[tail] + 1 : layout.layers[head]]
    return by_layer


@pytest.mark.parametrize("name", GRAPHS)
def test_no_overlaps_and_every_edge_joins_adjacent_layers_or_is_routed(name):
    sizes, edges = GRAPHS[name]
    check_layout(sizes, edges, layered_layout(sizes, edges))


@pytest.mark.parametrize("name", GRAPHS)
def test_the_same_graph_gets_the_same_drawing(name):
    sizes, edges = GRAPHS[name]
    assert layered_layout(sizes, edges) == layered_layout(list(sizes), list(edges))


def test_the_same_autograd_graph_built_twice_gets_the_same_drawing():
    assert mlp_graph() == mlp_graph()
    sizes, edges = mlp_graph()
    assert layered_layout(sizes, edges) == layered_layout(*mlp_graph())


def test_a_wider_gap_is_kept():
    sizes, edges = GRAPHS["random-30"]
    check_layout(sizes, edges, layered_layout(sizes, edges, node_gap=60.0), gap=60.0)


def test_layers_are_longest_paths_down_to_the_sink():
    # 0 <- 1 <- 2 <- 3 and a leaf 4 used by 1 and by 3: 4 sits right above 3, the deepest user
    edges = [(1, 0), (2, 1), (3, 2), (4, 1), (4, 3)]
    layout = layered_layout([(50, 30)] * 5, edges)
    assert layout.layers == [4, 3, 2, 1, 0]
    # a leaf used only by the sink's producer sits one layer above it, not at the top
    layout = layered_layout([(50, 30)] * 4, [(1, 0), (2, 1), (3, 1)])
    assert layout.layers == [2, 1, 0, 0]
    # the edge 4 -> 1 crosses layers 1 and 2: two dummy points
    layout = layered_layout([(50, 30)] * 5, edges)
    assert len(layout.routes[3]) == 4


def test_a_tree_is_drawn_without_crossings():
    # a binary tree of depth 5, children listed in an order that crosses if left as is
    edges, n = [], 1
    for parent in range(31):
        for _ in range(2):
            if n < 63:
                edges.append((n, parent))
                n += 1
    rng = random.Random(0)
    rng.shuffle(edges)
    layout = layered_layout([(40, 30)] * n, edges)
    rows = {}
    for v in range(n):
        rows.setdefault(layout.layers[v], []).append(v)
    ordered = [sorted(rows[level], key=lambda v: layout.boxes[v].x) for level in sorted(rows)]
    below = [[] for _ in range(n)]
    for tail, head in edges:
        below[tail].append(head)
    assert _crossings(ordered, below) == 0


def test_crossings_are_counted():
    # layer 0: a b; layer 1: c d; edges a-d and b-c cross once, a-c and b-d do not
    assert _crossings([[0, 1], [2, 3]], [[3], [2], [], []]) == 1
    assert _crossings([[0, 1], [2, 3]], [[2], [3], [], []]) == 0
    assert _crossings([[0, 1], [2, 3]], [[2, 3], [2, 3], [], []]) == 1


def test_barycentre_ordering_removes_crossings_of_a_crossed_input():
    # two chains 0 <- 2 <- 4 and 1 <- 3 <- 5, numbered so that the first ordering crosses
    edges = [(2, 1), (3, 0), (4, 3), (5, 2)]
    layout = layered_layout([(40, 30)] * 6, edges)
    for tail, head in edges:
        assert layout.boxes[tail].x == pytest.approx(layout.boxes[head].x)


def test_a_cycle_is_refused():
    with pytest.raises(ValueError, match="acyclic"):
        layered_layout([(10, 10)] * 2, [(0, 1), (1, 0)])


def test_an_empty_graph_and_a_single_node():
    assert layered_layout([], []).boxes == []
    layout = layered_layout([(30, 20)], [])
    assert layout.layers == [0] and layout.boxes[0].left >= 0
