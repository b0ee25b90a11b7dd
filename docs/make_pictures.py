"""Draw the pictures of docs/images with minigrad.viz: ``python docs/make_pictures.py``.

Writes NAME.dot (the DOT text, checked by tests/test_docs.py against what this script makes
now) and NAME.svg (needs Graphviz's ``dot``). Inputs are small integers wherever gradients are
printed, so that every number on a picture is exact.
"""

from __future__ import annotations

import sys
from pathlib import Path

import minigrad
from minigrad import viz
from minigrad._functions.recurrent import lstm_layer_composed

IMAGES = Path(__file__).resolve().parent / "images"


def mul_sum() -> str:
    """Page 2: z = (x * w).sum(), before backward, so the saved tensors show."""
    x = minigrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    w = minigrad.tensor([1.0, 0.5, 2.0], requires_grad=True)
    z = (x * w).sum()
    return viz.to_dot({"z": z}, params={"x": x, "w": w})


def diamond() -> str:
    """Page 3: a is used twice; the edges carry the gradients of the traced backward pass."""
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = a + 1
    c = a * 3
    d = (b * c).sum()
    with viz.trace_backward() as trace:
        d.backward()
    return viz.to_dot({"d": d}, params={"x": x}, trace=trace)


def broadcast() -> str:
    """Page 4: the bias b of shape (3,) is broadcast over two rows; its gradient is summed back."""
    x = minigrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    b = minigrad.tensor([1.0, 1.0, 1.0], requires_grad=True)
    loss = (x + b).sum()
    with viz.trace_backward() as trace:
        loss.backward()
    return viz.to_dot({"loss": loss}, params={"x": x, "b": b}, trace=trace)


def lstm_two_steps() -> str:
    """Page 6: the composed (reference) LSTM over two time steps (batch 1, input 2, hidden 2)."""
    minigrad.manual_seed(0)
    params = {
        "w_ih": minigrad.randn(8, 2, requires_grad=True),
        "w_hh": minigrad.randn(8, 2, requires_grad=True),
        "b_ih": minigrad.randn(8, requires_grad=True),
        "b_hh": minigrad.randn(8, requires_grad=True),
    }
    x = minigrad.randn(2, 1, 2, requires_grad=True)
    h0, c0 = minigrad.zeros(1, 2), minigrad.zeros(1, 2)
    out, _, _ = lstm_layer_composed(x, h0, c0, *params.values())
    return viz.to_dot({"loss": out[-1].sum()}, params={"x": x, **params})


def pictures() -> dict[str, str]:
    """Every picture's name and DOT text."""
    return {
        "mul-sum": mul_sum(),
        "diamond": diamond(),
        "broadcast": broadcast(),
        "lstm-two-steps": lstm_two_steps(),
    }


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    for name, dot_text in pictures().items():
        (IMAGES / f"{name}.dot").write_text(dot_text)
        (IMAGES / f"{name}.svg").write_bytes(viz.run_dot(dot_text, "svg"))
        print(f"wrote {IMAGES / name}.dot and .svg", file=sys.stderr)


if __name__ == "__main__":
    main()
