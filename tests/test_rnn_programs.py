"""Whole PyTorch-style programs with recurrent networks print torch 2.13.0's digits on minigrad.

Each program below is written for torch. It runs once as written, on torch, and once with its
imports pointed at minigrad (``minigrad.testing.swap.rewrite_torch_imports``, as
``python -m minigrad.testing run`` does); the printed text must be equal, character for
character: losses to 4 decimals after training, predictions, shapes, lengths.
"""

from __future__ import annotations

import contextlib
import io

import pytest

from minigrad.testing.swap import rewrite_torch_imports

pytest.importorskip("torch")

GRU_CLASSIFIER = '''
import random

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

torch.manual_seed(0)
rng = random.Random(0)
VOCAB, EMB, HIDDEN, CLASSES = 20, 8, 12, 3
# label = (number of tokens above 10) mod 3, from sequences of 2..7 tokens
sequences = [[rng.randrange(1, VOCAB) for _ in range(rng.randint(2, 7))] for _ in range(24)]
labels = torch.tensor([sum(t > 10 for t in s) % CLASSES for s in sequences])
tokens = pad_sequence([torch.tensor(s) for s in sequences], batch_first=True)
lengths = torch.tensor([len(s) for s in sequences])


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, EMB, padding_idx=0)
        self.gru = nn.GRU(EMB, HIDDEN, num_layers=2, bidirectional=True, batch_first=True)
        self.out = nn.Linear(2 * HIDDEN, CLASSES)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.embed(tokens), lengths, batch_first=True, enforce_sorted=False)
        _, h_n = self.gru(packed)
        return self.out(torch.cat([h_n[-2], h_n[-1]], dim=1))


model = Classifier()
print(model)
optimizer = optim.Adam(model.parameters(), lr=0.02)
for epoch in range(40):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(tokens, lengths), labels)
    loss.backward()
    optimizer.step()
    if epoch % 8 == 0 or epoch == 39:
        print(f"epoch {epoch:2d} loss {loss.item():.4f}")
with torch.no_grad():
    predicted = model(tokens, lengths).argmax(dim=1)
print("accuracy", (predicted == labels).sum().item(), "/", len(sequences))
'''

RNN_TAGGER = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.nn.utils.rnn import pack_sequence, pad_packed_sequence

torch.manual_seed(3)
sentences = [torch.randn(n, 5) for n in (6, 3, 5, 2)]
targets = [torch.randint(0, 4, (n,)) for n in (6, 3, 5, 2)]


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(5, 7, num_layers=2, nonlinearity="relu", bidirectional=True)
        self.lstm = nn.LSTM(14, 6)
        self.cell = nn.GRUCell(6, 6)
        self.out = nn.Linear(6, 4)

    def forward(self, sentences):
        packed, _ = self.rnn(pack_sequence(sentences, enforce_sorted=False))
        packed, (h_n, c_n) = self.lstm(packed)
        hidden, lengths = pad_packed_sequence(packed)
        state = c_n[0]
        steps = []
        for t in range(hidden.shape[0]):
            state = self.cell(hidden[t], state)
            steps.append(state)
        return self.out(torch.stack(steps)), lengths


model = Tagger()
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
gold = torch.nn.utils.rnn.pad_sequence(targets, padding_value=-100)
for step in range(25):
    optimizer.zero_grad()
    scores, lengths = model(sentences)
    loss = F.cross_entropy(scores.reshape(-1, 4), gold.reshape(-1), ignore_index=-100)
    loss.backward()
    optimizer.step()
    if step % 6 == 0:
        print(f"step {step:2d} loss {loss.item():.4f}")
print(lengths.tolist(), tuple(scores.shape))
'''


def _printed(source: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<program>", "exec"), {"__name__": "__main__"})
    return out.getvalue()


@pytest.mark.parametrize("program", [GRU_CLASSIFIER, RNN_TAGGER], ids=["gru-classifier", "rnn-lstm-tagger"])
def test_program_prints_torchs_digits(program):
    expected = _printed(program)
    got = _printed(rewrite_torch_imports(program))
    assert "loss" in expected and got == expected
