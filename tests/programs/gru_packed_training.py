"""A GRU tagger over sentences of different lengths: packing, dropout, a schedule and clipping.

Each "sentence" is a random run of token ids; the target of each token is whether it is larger
than the token before it. The batch is padded, packed by length (unsorted, so the packing sorts
it), run through a two-layer bidirectional GRU with dropout between the layers, unpacked, and
scored; the loss ignores the padding. SGD with momentum, OneCycleLR and gradient clipping.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

torch.manual_seed(5)
VOCAB, PAD = 12, 0


def batch(size):
    lengths = torch.randint(2, 9, (size,))
    sentences = [torch.randint(1, VOCAB, (int(n),)) for n in lengths]
    labels = [torch.cat([torch.zeros(1, dtype=torch.long), (s[1:] > s[:-1]).long()]) for s in sentences]
    padded_labels = pad_sequence(labels, batch_first=True, padding_value=-100)
    return pad_sequence(sentences, batch_first=True), padded_labels, lengths


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 8, padding_idx=PAD)
        self.gru = nn.GRU(8, 16, num_layers=2, dropout=0.2, bidirectional=True, batch_first=True)
        self.drop = nn.Dropout(0.1)
        self.out = nn.Linear(32, 2)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.embed(tokens), lengths, batch_first=True, enforce_sorted=False)
        outputs, last = self.gru(packed)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=tokens.shape[1])
        return self.out(self.drop(outputs)), last


model = Tagger()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
steps = 60
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.5, total_steps=steps)
for step in range(1, steps + 1):
    tokens, labels, lengths = batch(8)
    scores, last = model(tokens, lengths)
    loss = F.cross_entropy(scores.reshape(-1, 2), labels.reshape(-1), ignore_index=-100)
    optimizer.zero_grad()
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    if step % 10 == 0 or step == 1:
        print(f"{step} loss {loss.item():.6f} norm {norm.item():.6f} lr {scheduler.get_last_lr()[0]:.6f}")
        print("  h_n[-1, 0, :4]", [round(v, 5) for v in last[-1, 0, :4].tolist()])

model.eval()
tokens, labels, lengths = batch(64)
with torch.no_grad():
    predicted = model(tokens, lengths)[0].argmax(dim=2)
mask = labels != -100
print("accuracy", round(((predicted == labels) & mask).sum().item() / mask.sum().item(), 4))
