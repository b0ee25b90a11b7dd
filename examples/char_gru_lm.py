"""A character-level language model: a GRU learns a short text, then writes some of its own.

Written as a plain PyTorch program; with minigrad it runs with only the imports changed and
prints the same digits (and the same sampled text):

    python examples/char_gru_lm.py                     # on minigrad
    python -m minigrad.testing run examples/char_gru_lm.py   # torch and minigrad, compared

The text (``examples/data/lighthouse.txt``) was written for this project. Training draws random
windows of it, embeds each character, runs a two-layer GRU (dropout between the layers) and
predicts the next character with a linear layer and cross-entropy; Adam with a step schedule
and gradient clipping. Sampling feeds the model its own output one character at a time and
draws the next from the softmax with ``torch.multinomial``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

TEXT = Path(__file__).with_name("data") / "lighthouse.txt"


class CharGRU(nn.Module):
    def __init__(self, vocab_size: int, embed_dim: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.gru = nn.GRU(embed_dim, hidden, num_layers=layers, dropout=dropout, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, vocab_size)

    def forward(self, chars: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        outputs, state = self.gru(self.embed(chars), state)
        return self.out(self.drop(outputs)), state


def batches(data: torch.Tensor, length: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``size`` random windows of ``length + 1`` characters: inputs and next-character targets."""
    starts = torch.randint(0, len(data) - length - 1, (size,))
    windows = torch.stack([data[s : s + length + 1] for s in starts.tolist()])
    return windows[:, :-1], windows[:, 1:]


@torch.no_grad()
def sample(model: CharGRU, chars: list[str], prompt: str, length: int, temperature: float) -> str:
    model.eval()
    index = {c: i for i, c in enumerate(chars)}
    inputs = torch.tensor([[index[c] for c in prompt]])
    logits, state = model(inputs)
    text = prompt
    for _ in range(length):
        probs = F.softmax(logits[0, -1] / temperature, dim=0)
        nxt = torch.multinomial(probs, 1)
        text += chars[nxt.item()]
        logits, state = model(nxt.view(1, 1), state)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--sample", type=int, default=200, help="characters to generate")
    args = parser.parse_args()

    torch.manual_seed(1)
    text = TEXT.read_text(encoding="utf-8")
    chars = sorted(set(text))
    data = torch.tensor([chars.index(c) for c in text])
    print(f"{len(text)} characters, {len(chars)} distinct")

    model = CharGRU(len(chars), embed_dim=16, hidden=64, layers=2, dropout=0.1)
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=100, gamma=0.5)
    loss_function = nn.CrossEntropyLoss()
    for step in range(1, args.steps + 1):
        model.train()
        inputs, targets = batches(data, length=32, size=16)
        logits, _ = model(inputs)
        loss = loss_function(logits.reshape(-1, len(chars)), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.35)
        optimizer.step()
        scheduler.step()
        if step % 25 == 0 or step == 1:
            print(f"step {step:4d}  loss {loss.item():.4f}  grad norm {norm.item():.4f}  "
                  f"lr {scheduler.get_last_lr()[0]:.5f}")
    print(sample(model, chars, prompt="The keeper ", length=args.sample, temperature=0.8))


if __name__ == "__main__":
    main()
