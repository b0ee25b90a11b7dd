"""A GRU encoder-decoder with attention learns to reverse strings of digits.

Written as a plain PyTorch program; with minigrad it runs with only the imports changed and
prints the same digits:

    python examples/seq2seq_attention.py
    python -m minigrad.testing run examples/seq2seq_attention.py   # torch and minigrad, compared

The encoder reads the digits with a bidirectional GRU. At each output step the decoder (a
``GRUCell``) scores every encoder state against its own state with a batched product (``bmm``),
turns the scores into attention weights with a softmax, and reads a weighted sum of the
encoder states; the next digit is predicted from that context and the decoder state. Training
uses teacher forcing (the true previous digit as input, half of the time) and dropout.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

DIGITS = 10
START = DIGITS  # the decoder's first input


class Encoder(nn.Module):
    def __init__(self, embed_dim: int, hidden: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(DIGITS, embed_dim)
        self.gru = nn.GRU(embed_dim, hidden, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * hidden, hidden)

    def forward(self, digits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        states, last = self.gru(self.embed(digits))  # states: (batch, length, 2 * hidden)
        first_state = torch.tanh(self.bridge(torch.cat([last[0], last[1]], dim=1)))
        return states, first_state


class AttentionDecoder(nn.Module):
    def __init__(self, embed_dim: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.embed = nn.Embedding(DIGITS + 1, embed_dim)
        self.drop = nn.Dropout(dropout)
        self.keys = nn.Linear(2 * hidden, hidden, bias=False)
        self.cell = nn.GRUCell(embed_dim + 2 * hidden, hidden)
        self.out = nn.Linear(hidden + 2 * hidden, DIGITS)

    def step(self, previous: torch.Tensor, state: torch.Tensor, encoded: torch.Tensor,
             keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        scores = torch.bmm(keys, state.unsqueeze(2)).squeeze(2)          # (batch, length)
        weights = F.softmax(scores, dim=1)
        context = torch.bmm(weights.unsqueeze(1), encoded).squeeze(1)    # (batch, 2 * hidden)
        state = self.cell(torch.cat([self.drop(self.embed(previous)), context], dim=1), state)
        return self.out(torch.cat([state, context], dim=1)), state, weights


class Reverser(nn.Module):
    def __init__(self, embed_dim: int = 16, hidden: int = 48, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = Encoder(embed_dim, hidden)
        self.decoder = AttentionDecoder(embed_dim, hidden, dropout)

    def forward(self, digits: torch.Tensor, targets: torch.Tensor | None = None,
                teacher_forcing: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
        encoded, state = self.encoder(digits)
        keys = self.decoder.keys(encoded)
        previous = torch.full((digits.shape[0],), START, dtype=torch.long)
        logits, attention = [], []
        for t in range(digits.shape[1]):
            step_logits, state, weights = self.decoder.step(previous, state, encoded, keys)
            logits.append(step_logits)
            attention.append(weights)
            use_truth = targets is not None and torch.rand(1).item() < teacher_forcing
            previous = targets[:, t] if use_truth else step_logits.argmax(dim=1)
        return torch.stack(logits, dim=1), torch.stack(attention, dim=1)


def digit_strings(count: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    digits = torch.randint(0, DIGITS, (count, length))
    return digits, digits.flip(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--length", type=int, default=6)
    args = parser.parse_args()

    torch.manual_seed(3)
    model = Reverser()
    optimizer = optim.Adam(model.parameters(), lr=0.005)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.steps)
    for step in range(1, args.steps + 1):
        model.train()
        digits, targets = digit_strings(32, args.length)
        logits, _ = model(digits, targets, teacher_forcing=0.5)
        loss = F.cross_entropy(logits.reshape(-1, DIGITS), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=2.0)
        optimizer.step()
        scheduler.step()
        if step % 50 == 0 or step == 1:
            print(f"step {step:4d}  loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        digits, targets = digit_strings(200, args.length)
        logits, attention = model(digits)
        predicted = logits.argmax(dim=2)
        per_digit = (predicted == targets).float().mean().item()
        whole = (predicted == targets).all(dim=1).float().mean().item()
    print(f"held-out strings: {per_digit:.4f} of digits and {whole:.4f} of whole strings reversed correctly")
    for row in range(3):
        source = "".join(str(d) for d in digits[row].tolist())
        output = "".join(str(d) for d in predicted[row].tolist())
        print(f"{source} -> {output}   attention of the first output step: "
              f"{[round(w, 3) for w in attention[row, 0].tolist()]}")


if __name__ == "__main__":
    main()
