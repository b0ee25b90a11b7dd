"""Draw the pictures of docs/images with minigrad.viz: ``python docs/make_pictures.py``.

Writes NAME.dot (the DOT text, checked by tests/test_docs.py against what this script makes
now) and NAME.svg (needs Graphviz's ``dot``). Inputs are small integers wherever gradients are
printed, so that every number on a picture is exact.

Also writes the interactive pages of docs/html (``to_html``, checked by tests/test_viz_html.py)
and, with ``--screenshot`` (needs Chromium), docs/images/backward-replay.png, the README's
picture of the diamond's page in the middle of its backward pass:

    PYTHONPATH=. python docs/make_pictures.py --screenshot
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# The pictures show the pure kernels' numbers, the reference, whichever core is built (the
# Cython core's float32 LSTM sums agree with them within a bound, not bit for bit). Only when run
# as the script: a program that imports this module keeps its own backend and environment.
if __name__ == "__main__":
    os.environ["MINIGRAD_NO_EXTENSIONS"] = "1"
    os.environ.pop("MINIGRAD_REQUIRE_EXTENSIONS", None)

import minigrad  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
from minigrad import nn, viz  # noqa: E402
from minigrad._functions.recurrent import lstm_layer_composed  # noqa: E402

IMAGES = Path(__file__).resolve().parent / "images"
PAGES = Path(__file__).resolve().parent / "html"
SCREENSHOT = IMAGES / "backward-replay.png"
SCREENSHOT_STATE = "step=4"  # the diamond after 4 of 6 steps: a waits for its second gradient


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


def diamond_page() -> str:
    """Page 3's diamond as an interactive page: forward values, saved tensors, the replay."""
    with viz.record_forward() as forward:
        x = minigrad.tensor([1.0, 2.0], requires_grad=True)
        a = x * 2
        b = a + 1
        c = a * 3
        d = (b * c).sum()
    with viz.trace_backward() as trace:
        d.backward(retain_graph=True)  # keep the saved tensors, to show them
    return viz.to_html({"d": d}, params={"x": x}, trace=trace, forward=forward, title="the diamond of page 3")


class LSTMTagger(nn.Module):
    """The tagger of examples/sequence_models_tutorial.py."""

    def __init__(self, embedding_dim: int, hidden_dim: int, vocab_size: int, tagset_size: int) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

    def forward(self, sentence: minigrad.Tensor) -> minigrad.Tensor:
        embeds = self.word_embeddings(sentence)
        lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
        return F.log_softmax(self.hidden2tag(lstm_out.view(len(sentence), -1)), dim=1)


def tutorial_step_page() -> str:
    """Page 6: one training step of the tutorial's tagger; the LSTM runs as one fused node."""
    minigrad.manual_seed(1)
    sentence = "The dog ate the apple".split()
    words = {w: i for i, w in enumerate(dict.fromkeys(sentence + "Everybody read that book".split()))}
    model = LSTMTagger(6, 6, len(words), 3)
    with viz.record_forward() as forward:
        tag_scores = model(minigrad.tensor([words[w] for w in sentence]))
        loss = nn.NLLLoss()(tag_scores, minigrad.tensor([0, 1, 2, 0, 1]))
    with viz.trace_backward() as trace:
        loss.backward(retain_graph=True)
    title = "one step of the tutorial's tagger"
    return viz.to_html({"loss": loss}, params=model.named_parameters(), trace=trace, forward=forward, title=title)


def pages() -> dict[str, str]:
    """Every interactive page's name and HTML."""
    return {"diamond": diamond_page(), "tutorial-step": tutorial_step_page()}


def screenshot(html: str, path: Path, state: str = SCREENSHOT_STATE) -> None:
    """A PNG of the page in the given state, taken by headless Chromium."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        raise SystemExit("--screenshot needs Chromium (e.g. apt-get install chromium)")
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "page.html"
        page.write_text(html)
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                   f"--user-data-dir={folder}/profile", "--window-size=1200,760", f"--screenshot={path}",
                   f"{page.as_uri()}#{state}"]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True)


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    for name, dot_text in pictures().items():
        (IMAGES / f"{name}.dot").write_text(dot_text)
        (IMAGES / f"{name}.svg").write_bytes(viz.run_dot(dot_text, "svg"))
        print(f"wrote {IMAGES / name}.dot and .svg", file=sys.stderr)
    PAGES.mkdir(exist_ok=True)
    for name, html in pages().items():
        (PAGES / f"{name}.html").write_text(html, encoding="utf-8")
        print(f"wrote {PAGES / name}.html", file=sys.stderr)
    if "--screenshot" in sys.argv[1:]:
        screenshot(pages()["diamond"], SCREENSHOT)
        print(f"wrote {SCREENSHOT}", file=sys.stderr)


if __name__ == "__main__":
    main()
