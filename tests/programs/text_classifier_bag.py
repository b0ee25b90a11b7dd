"""Text classification as in PyTorch's AG_NEWS tutorial (EmbeddingBag with offsets, cumsum,
uniform_ init, SGD with StepLR and clipping), and a small Conv1d + max-pool classifier beside it."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(6)
VOCAB, CLASSES = 40, 3


def make_text(label, length):
    # each class favours its own third of the vocabulary
    low = 1 + label * 13
    return torch.randint(low, low + 13, (length,))


def collate(batch):
    labels, texts, offsets = [], [], [0]
    for label, text in batch:
        labels.append(label)
        texts.append(text)
        offsets.append(text.size(0))
    offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
    return torch.tensor(labels, dtype=torch.int64), torch.cat(texts), offsets


def make_batch(size):
    batch = []
    for _ in range(size):
        label = torch.randint(0, CLASSES, (1,)).item()
        batch.append((label, make_text(label, torch.randint(3, 9, (1,)).item())))
    return batch


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        initrange = 0.5
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.fc.weight.data.uniform_(-initrange, initrange)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        return self.fc(self.embedding(text, offsets))


model = TextClassificationModel(VOCAB, 8, CLASSES)
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=5.0)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
for epoch in range(1, 4):
    total_acc, total_count = 0, 0
    for _ in range(10):
        label, text, offsets = collate(make_batch(16))
        optimizer.zero_grad()
        predicted_label = model(text, offsets)
        loss = criterion(predicted_label, label)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        total_acc += (predicted_label.argmax(1) == label).sum().item()
        total_count += label.size(0)
    scheduler.step()
    print(epoch, total_acc / total_count, f"{loss.item():.4f}", scheduler.get_last_lr())


class TextCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 8, padding_idx=0)
        self.conv = nn.Conv1d(8, 6, kernel_size=3, padding=1)
        self.pool = nn.MaxPool1d(2)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(6, CLASSES)

    def forward(self, tokens):
        x = self.embed(tokens).transpose(1, 2)          # (batch, channels, length)
        x = self.pool(F.relu(self.conv(x)))
        x = F.max_pool1d(x, x.size(2)).squeeze(2)
        return self.fc(self.drop(x))


cnn = TextCNN()
optimizer = torch.optim.Adagrad(cnn.parameters(), lr=0.1)
for step in range(1, 41):
    labels = torch.randint(0, CLASSES, (16,))
    tokens = torch.stack([make_text(int(label), 8) for label in labels])
    loss = F.cross_entropy(cnn(tokens), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        print(step, f"{loss.item():.4f}")
cnn.eval()
labels = torch.randint(0, CLASSES, (64,))
with torch.no_grad():
    predictions = cnn(torch.stack([make_text(int(label), 8) for label in labels])).argmax(1)
print("accuracy", (predictions == labels).float().mean().item())
