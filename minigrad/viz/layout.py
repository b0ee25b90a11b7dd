"""A layered drawing of a directed acyclic graph, computed in plain Python (Sugiyama's method).

1. Layers: every node goes to the layer of its longest path down to a sink (the outputs sit in
   the bottom layer, and a leaf sits right above the first op that uses it).
2. Dummy points: an edge spanning several layers is cut into one-layer pieces through a dummy
   point in each layer it crosses, so every piece joins adjacent layers.
3. Order within a layer: sweeps down and up that sort each layer by the barycentre (mean
   position) of its neighbours in the layer just swept, keeping the order with the fewest edge
   crossings seen.
4. Coordinates: each node wants to sit at the mean x of its neighbours; the closest positions
   that keep the layer's order and the gaps between boxes are an isotonic regression, solved
   exactly by pooling adjacent violators.

Everything is keyed by node index and sorted stably, so the same graph always gets the same
drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

NODE_GAP = 24.0  # horizontal space between two boxes of a layer
LAYER_GAP = 64.0  # vertical space between two layers (room for the labels of edges)
DUMMY_WIDTH = 16.0  # the horizontal room an edge passing through a layer takes
MARGIN = 20.0
SWEEPS = 8  # down-and-up passes of the barycentre ordering
COORDINATE_PASSES = 6


@dataclass(frozen=True)
class Box:
    """A node's rectangle: centre (x, y), width and height."""

    x: float
    y: float
    width: float
    height: float

    @property
    def left(self) -> float:
        return self.x - self.width / 2

    @property
    def right(self) -> float:
        return self.x + self.width / 2

    @property
    def top(self) -> float:
        return self.y - self.height / 2

    @property
    def bottom(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class Layout:
    """Where to draw each node and edge.

    ``routes[e]`` is the polyline of edge ``e``: from the bottom of its tail's box through one
    dummy point per layer it crosses to the top of its head's box. ``layers[v]`` is node ``v``'s
    layer (0 at the top).
    """

    boxes: list[Box]
    routes: list[list[tuple[float, float]]]
    layers: list[int]
    layer_y: list[float]
    width: float
    height: float


def layered_layout(
    sizes: Sequence[tuple[float, float]], edges: Sequence[tuple[int, int]], node_gap: float = NODE_GAP
) -> Layout:
    """Lay out nodes of the given (width, height) and edges (tail, head), tails drawn above heads.

    The graph must be acyclic (an autograd graph is); edges may repeat. ``node_gap`` is the least
    horizontal space between two boxes of a layer.
    """
    n = len(sizes)
    layer = _longest_path_layers(n, edges)
    depth = max(layer, default=-1) + 1
    # Vertices: the nodes, then the dummy points. chains[e] lists the vertices edge e runs through.
    widths = [float(w) for w, _ in sizes]
    vertex_layer = list(layer)
    chains = []
    for tail, head in edges:
        chain = [tail]
        for level in range(layer[tail] + 1, layer[head]):
            chain.append(len(widths))
            widths.append(DUMMY_WIDTH)
            vertex_layer.append(level)
        chain.append(head)
        chains.append(chain)
    above: list[list[int]] = [[] for _ in widths]  # neighbours one layer up, one entry per piece
    below: list[list[int]] = [[] for _ in widths]
    for chain in chains:
        for upper, lower in zip(chain, chain[1:]):
            below[upper].append(lower)
            above[lower].append(upper)
    rows: list[list[int]] = [[] for _ in range(depth)]
    for v, level in enumerate(vertex_layer):
        rows[level].append(v)
    rows = _order(rows, above, below)
    xs = _coordinates(rows, widths, above, below, node_gap)

    heights = [max((sizes[v][1] for v in row if v < n), default=0.0) for row in rows]
    layer_y, y = [], MARGIN
    for h in heights:
        layer_y.append(y + h / 2)
        y += h + LAYER_GAP
    boxes = [Box(xs[v], layer_y[layer[v]], float(sizes[v][0]), float(sizes[v][1])) for v in range(n)]
    routes = []
    for chain in chains:
        tail, head = boxes[chain[0]], boxes[chain[-1]]
        middle = [(xs[v], layer_y[vertex_layer[v]]) for v in chain[1:-1]]
        routes.append([(tail.x, tail.bottom), *middle, (head.x, head.top)])
    width = max((xs[v] + widths[v] / 2 for v in range(len(widths))), default=0.0) + MARGIN
    return Layout(boxes, routes, layer, layer_y, width, max(y - LAYER_GAP, 0.0) + MARGIN)


def _longest_path_layers(n: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """Layer of each node: (longest path of the graph) - (its longest path down to a sink)."""
    successors: list[list[int]] = [[] for _ in range(n)]
    pending = [0] * n  # edges out of each node whose head has no height yet
    for tail, head in edges:
        successors[head].append(tail)  # walked upwards: from the sinks
        pending[tail] += 1
    height = [0] * n
    stack = [v for v in range(n) if pending[v] == 0]
    done = 0
    while stack:
        v = stack.pop()
        done += 1
        for tail in successors[v]:
            height[tail] = max(height[tail], height[v] + 1)
            pending[tail] -= 1
            if pending[tail] == 0:
                stack.append(tail)
    if done != n:
        raise ValueError("layered_layout needs an acyclic graph")
    top = max(height, default=0)
    return [top - h for h in height]


def _order(rows: list[list[int]], above: list[list[int]], below: list[list[int]]) -> list[list[int]]:
    """Barycentre sweeps; the ordering with the fewest crossings found (the first, on ties)."""
    rows = [list(row) for row in rows]
    best, best_crossings = [list(row) for row in rows], _crossings(rows, below)
    for _ in range(SWEEPS):
        for i in range(1, len(rows)):
            rows[i] = _sorted_by_barycentre(rows[i], rows[i - 1], above)
        for i in range(len(rows) - 2, -1, -1):
            rows[i] = _sorted_by_barycentre(rows[i], rows[i + 1], below)
        crossings = _crossings(rows, below)
        if crossings < best_crossings:
            best, best_crossings = [list(row) for row in rows], crossings
        if best_crossings == 0:
            break
    return best


def _sorted_by_barycentre(row: list[int], fixed: list[int], neighbours: list[list[int]]) -> list[int]:
    """``row`` sorted by the mean position of each vertex's neighbours in ``fixed``.

    A vertex without neighbours there keeps its own position as its key.
    """
    position = {v: i for i, v in enumerate(fixed)}
    scale = len(fixed) / max(len(row), 1)

    def key(item: tuple[int, int]) -> float:
        i, v = item
        near = [position[u] for u in neighbours[v]]
        return sum(near) / len(near) if near else i * scale

    return [v for _, v in sorted(enumerate(row), key=key)]


def _crossings(rows: list[list[int]], below: list[list[int]]) -> int:
    """Pairs of edge pieces that cross, between every two adjacent layers."""
    total = 0
    for upper, lower in zip(rows, rows[1:]):
        position = {v: i for i, v in enumerate(lower)}
        ends = sorted((i, position[w]) for i, v in enumerate(upper) for w in below[v])
        tree = [0] * (len(lower) + 1)  # Fenwick tree counting the ends seen so far
        for seen, (_, j) in enumerate(ends):
            k, not_after = j + 1, 0
            while k > 0:
                not_after += tree[k]
                k -= k & -k
            total += seen - not_after  # earlier pieces that end to the right of j
            k = j + 1
            while k <= len(lower):
                tree[k] += 1
                k += k & -k
    return total


def _coordinates(
    rows: list[list[int]], widths: list[float], above: list[list[int]], below: list[list[int]], gap: float
) -> list[float]:
    """Centre x of every vertex: packed rows, then passes pulling each vertex towards its
    neighbours' mean x (alternately those above and those below)."""
    x = [0.0] * len(widths)
    for row in rows:
        _place(row, [0.0] * len(row), widths, gap, x)
    for sweep in range(COORDINATE_PASSES):
        down = sweep % 2 == 0
        order = rows if down else rows[::-1]
        for row in order:
            targets = []
            for v in row:
                near = above[v] if down else below[v]
                near = near or (below[v] if down else above[v])
                targets.append(sum(x[u] for u in near) / len(near) if near else x[v])
            _place(row, targets, widths, gap, x)
    left = min((x[v] - widths[v] / 2 for v in range(len(widths))), default=0.0)
    return [value - left + MARGIN for value in x]


def _place(row: list[int], targets: list[float], widths: list[float], gap: float, x: list[float]) -> None:
    """Set x for the vertices of ``row``: as close to ``targets`` as possible (least squares)
    with the row's order kept and boxes at least ``gap`` apart.

    With offsets o_i (the least distance from the first centre to centre i), y_i = x_i - o_i must
    not decrease: an isotonic regression of targets_i - o_i, solved by pooling adjacent
    violators into blocks that share their mean.
    """
    offsets, offset = [], 0.0
    for i, v in enumerate(row):
        if i:
            offset += (widths[row[i - 1]] + widths[v]) / 2 + gap
        offsets.append(offset)
    blocks: list[list[float]] = []  # [sum, count]
    for target, o in zip(targets, offsets):
        blocks.append([target - o, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    i = 0
    for total, count in blocks:
        for _ in range(int(count)):
            x[row[i]] = total / count + offsets[i]
            i += 1
