"""Whole PyTorch programs that train with dropout, a learning-rate schedule, gradient clipping,
Adagrad/RMSprop and legacy constructors, then sample (multinomial, topk): run on torch and, with
their imports swapped, on minigrad; the printed numbers must agree line by line (to one unit
of the last printed digit; the sampled indices exactly).

Every random draw (init, dropout masks, samples) is torch's bit for bit; the arithmetic of
softmax/cross_entropy is not yet (a last-bit difference now and then), which the runs here keep
far below the printed digits. (A run with a much larger step, such as Adagrad at lr 0.3 here,
amplifies those last bits into the fourth decimal within a few epochs.)"""

from __future__ import annotations

import pytest

from minigrad.testing.script_run import run_both

PROGRAM = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(0)
data = torch.LongTensor([[0, 1, 2], [1, 2, 3], [2, 3, 0], [3, 0, 1]] * 4)
targets = torch.LongTensor([3, 0, 1, 2] * 4)
embed = nn.Embedding(4, 8)
model = nn.Sequential(nn.Linear(24, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 4))
params = list(embed.parameters()) + list(model.parameters())
optimizer = optim.{optimizer}
scheduler = optim.lr_scheduler.{scheduler}
for epoch in range(12):
    model.train()
    optimizer.zero_grad()
    logits = model(F.dropout(embed(data).reshape(16, 24), 0.1, training=True))
    loss = F.cross_entropy(logits, targets)
    loss.backward()
    norm = nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    scheduler.step()
    print(f"epoch {{epoch}} loss {{loss.item():.4f}} norm {{norm.item():.4f}} lr {{scheduler.get_last_lr()[0]:.6f}}")
model.eval()
with torch.no_grad():
    probs = F.softmax(model(embed(data).reshape(16, 24)), dim=1)
print("top", probs[0].topk(2).indices.tolist(), probs[0].sort(descending=True).values)
print("samples", torch.multinomial(probs, 3, replacement=True).tolist())
print("without", torch.multinomial(probs[:2], 2).tolist())
print("bernoulli", torch.bernoulli(probs[:2]).tolist())
print("after", torch.rand(3))
"""

CONFIGS = [
    ("SGD(params, lr=0.5, momentum=0.9)", "StepLR(optimizer, step_size=4, gamma=0.5)"),
    ("Adagrad(params, lr=0.1)", "CosineAnnealingLR(optimizer, T_max=20)"),
    ("RMSprop(params, lr=0.003, momentum=0.5)", "OneCycleLR(optimizer, max_lr=0.005, total_steps=12)"),
]


@pytest.mark.parametrize("optimizer, scheduler", CONFIGS)
def test_training_program_prints_torchs_digits(tmp_path, optimizer, scheduler):
    pytest.importorskip("torch")
    script = tmp_path / "train.py"
    script.write_text(PROGRAM.format(optimizer=optimizer, scheduler=scheduler))
    result = run_both(script, timeout=600)
    assert result.reference.returncode == 0, result.reference.stderr
    assert result.candidate.returncode == 0, result.candidate.stderr
    assert result.difference is None, result.difference
    assert len(result.candidate.stdout.splitlines()) == 17
