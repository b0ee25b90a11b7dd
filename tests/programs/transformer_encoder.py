"""A small Transformer encoder, written out by hand, learns to copy the largest token so far:
positional encodings (arange, exp, sin, cos, register_buffer), nn.MultiheadAttention with a
causal mask (triu) and a key padding mask, LayerNorm, GELU, dropout, AdamW and a LinearLR warm-up."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=64):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[: x.size(0)]


class Block(nn.Module):
    def __init__(self, d_model, heads, dropout):
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, heads, dropout=dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Dropout(dropout),
                                nn.Linear(4 * d_model, d_model))

    def forward(self, x, mask, padding):
        attended, weights = self.attn(x, x, x, attn_mask=mask, key_padding_mask=padding)
        x = self.norm1(x + attended)
        return self.norm2(x + self.ff(x)), weights


class Model(nn.Module):
    def __init__(self, vocab=10, d_model=16, heads=2, dropout=0.1):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = PositionalEncoding(d_model)
        self.block = Block(d_model, heads, dropout)
        self.out = nn.Linear(d_model, vocab)
        self.d_model = d_model

    def forward(self, src, padding):
        mask = torch.triu(torch.ones(src.size(0), src.size(0)), diagonal=1).bool()
        x = self.pos(self.embed(src) * math.sqrt(self.d_model))
        x, weights = self.block(x, mask, padding)
        return self.out(x), weights


torch.manual_seed(4)
model = Model()
optimizer = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=20)
for step in range(1, 61):
    src = torch.randint(1, 10, (8, 12))          # (length, batch)
    target = src.clone()
    for i in range(1, src.size(0)):
        target[i] = torch.maximum(target[i - 1], src[i])
    padding = torch.zeros(12, 8, dtype=torch.bool)
    padding[:3, 6:] = True
    logits, weights = model(src, padding)
    loss = F.cross_entropy(logits.view(-1, 10), target.view(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    if step % 20 == 0:
        print(step, f"{loss.item():.4f}", f"{scheduler.get_last_lr()[0]:.6f}")
model.eval()
with torch.no_grad():
    src = torch.tensor([[3], [1], [7], [2], [9], [4]])
    logits, weights = model(src, torch.zeros(1, 6, dtype=torch.bool))
print(logits.argmax(-1).flatten().tolist())
print([round(w, 4) for w in weights[0, -1].tolist()])
