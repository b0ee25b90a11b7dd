"""The engine at scale: deep graphs without recursion, each node run once (so the work grows
linearly with the graph), and graphs freed after use (no growth over many training steps)."""

import gc
import sys
import time
import weakref

import pytest

import minigrad as mg
from minigrad.autograd import engine


def test_a_100000_op_chain_backpropagates_at_the_default_recursion_limit():
    assert sys.getrecursionlimit() < 100_000  # a recursive engine would overflow here
    start = mg.tensor([1.0], requires_grad=True)
    x = start
    for _ in range(100_000):
        x = x + 1.0
    x.backward(mg.tensor([3.0]))
    assert x.tolist() == [100_001.0]
    assert start.grad.tolist() == [3.0]  # d x / d start = 1 through every op
    del x  # freeing the 100,000-deep chain must not overflow the C stack either


def ladder(layers):
    """x_{k+1} = x_k * 0.5 + x_k * 0.5: three nodes per layer, x_k shared by two of them.

    Every x_k equals x_0, and d x_n / d x_0 = 1.
    """
    x0 = mg.tensor([2.0, -3.0], requires_grad=True)
    x = x0
    for _ in range(layers):
        x = x * 0.5 + x * 0.5
    return x0, x.sum()


def test_each_node_runs_exactly_once_and_each_edge_delivers_once(monkeypatch):
    runs, deliveries = {}, []
    real_call, real_deliver = engine._call_backward, engine._deliver

    def counting_call(node, grads):
        runs[node] = runs.get(node, 0) + 1
        return real_call(node, grads)

    def counting_deliver(buffers, node, output_nr, grad):
        deliveries.append(node)
        real_deliver(buffers, node, output_nr, grad)

    monkeypatch.setattr(engine, "_call_backward", counting_call)
    monkeypatch.setattr(engine, "_deliver", counting_deliver)
    for layers in (10, 40, 160):
        runs.clear()
        deliveries.clear()
        x0, loss = ladder(layers)
        loss.backward()
        assert x0.grad.tolist() == [1.0, 1.0]
        assert set(runs.values()) == {1}  # no node runs twice, however many consumers it has
        assert len(runs) == 3 * layers + 1  # every Mul, Add and the Sum (AccumulateGrad only sums)
        # the root's gradient, 1 from each Mul (0.5 gets none), 2 from each Add, 1 from the Sum
        assert len(deliveries) == 1 + 4 * layers + 1


def test_backward_work_grows_linearly_with_graph_size():
    """A complexity check, not a speed test: 4x the nodes may cost at most 8x the time
    (a quadratic engine would take 16x). Best of 3, with the garbage collector paused."""

    def backward_seconds(layers):
        best = float("inf")
        for _ in range(3):
            _, loss = ladder(layers)
            gc.disable()
            try:
                began = time.process_time()
                loss.backward()
                best = min(best, time.process_time() - began)
            finally:
                gc.enable()
        return best

    small, large = backward_seconds(500), backward_seconds(2_000)
    assert large / small < 8, f"backward took {large / small:.1f}x longer on a 4x larger graph"


def test_saved_tensors_are_released_after_backward_and_kept_with_retain_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    z = (y * x).sum()
    mul_node = z.grad_fn.next_functions[0][0]
    z.backward(retain_graph=True)
    assert len(mul_node.saved_tensors) == 2
    z.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        mul_node.saved_tensors


def test_a_graph_is_freed_by_reference_counting_alone():
    """No reference cycles: nodes die as soon as nothing uses them, even without a backward
    pass and with the cycle collector off (tanh and pow save their own output)."""
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    gc.disable()
    try:
        y = (x * 3).tanh().pow(2)
        nodes = [weakref.ref(y.grad_fn), weakref.ref(y.grad_fn.next_functions[0][0])]
        del y
        assert [ref() for ref in nodes] == [None, None]
        loss = (x.tanh() * 2).sum()
        loss.backward()
        node = weakref.ref(loss.grad_fn)
        del loss
        assert node() is None
    finally:
        gc.enable()


def test_no_memory_growth_over_10000_training_steps():
    """Fit w in tanh(x * w) ~ t by gradient descent; between step 1,000 and step 10,000 neither
    the objects tracked by the garbage collector nor the allocated memory blocks may grow (a
    leak of one tensor or node per step would add thousands)."""
    x = mg.tensor([0.5, -1.0, 2.0, 0.25])
    t = mg.tensor([0.1, 0.2, -0.3, 0.4])
    w = mg.tensor([0.3, -0.2, 0.1, 0.5], requires_grad=True)

    def train_step():
        loss = ((x * w).tanh() - t).pow(2).sum()
        loss.backward()
        with mg.no_grad():
            w.sub_(w.grad, alpha=0.1)
        w.grad = None
        return loss.item()

    gc.collect()
    gc.disable()  # the graph must be freed without the cycle collector's help
    try:
        for _ in range(1_000):
            first = train_step()
        objects, blocks = len(gc.get_objects()), sys.getallocatedblocks()
        for _ in range(9_000):
            last = train_step()
        object_growth = len(gc.get_objects()) - objects
        block_growth = sys.getallocatedblocks() - blocks
    finally:
        gc.enable()
    assert last < first  # it trained
    assert object_growth <= 50, f"{object_growth} more tracked objects after 9,000 more steps"
    assert block_growth <= 500, f"{block_growth} more memory blocks after 9,000 more steps"
