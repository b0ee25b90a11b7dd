"""Word embeddings as in PyTorch's NLP tutorial: an N-gram language model and CBOW."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(1)
CONTEXT_SIZE, EMBEDDING_DIM = 2, 10
text = """When forty winters shall besiege thy brow, And dig deep trenches in thy beauty's field,
Thy youth's proud livery so gazed on now, Will be a totter'd weed of small worth held""".split()
ngrams = [([text[i - j - 1] for j in range(CONTEXT_SIZE)], text[i]) for i in range(CONTEXT_SIZE, len(text))]
vocab = sorted(set(text))
word_to_ix = {word: i for i, word in enumerate(vocab)}


class NGramLanguageModeler(nn.Module):
    def __init__(self, vocab_size, embedding_dim, context_size):
        super().__init__()
        self.embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.linear1 = nn.Linear(context_size * embedding_dim, 128)
        self.linear2 = nn.Linear(128, vocab_size)

    def forward(self, inputs):
        embeds = self.embeddings(inputs).view((1, -1))
        out = F.relu(self.linear1(embeds))
        return F.log_softmax(self.linear2(out), dim=1)


losses = []
loss_function = nn.NLLLoss()
model = NGramLanguageModeler(len(vocab), EMBEDDING_DIM, CONTEXT_SIZE)
optimizer = optim.SGD(model.parameters(), lr=0.001)
for _epoch in range(5):
    total_loss = 0
    for context, target in ngrams:
        context_idxs = torch.tensor([word_to_ix[w] for w in context], dtype=torch.long)
        model.zero_grad()
        log_probs = model(context_idxs)
        loss = loss_function(log_probs, torch.tensor([word_to_ix[target]], dtype=torch.long))
        loss.backward()
        optimizer.step()
        total_loss += loss.item()
    losses.append(total_loss)
print([round(v, 4) for v in losses])
print(model.embeddings.weight[word_to_ix["beauty's"]])


class CBOW(nn.Module):
    def __init__(self, vocab_size, embedding_dim):
        super().__init__()
        self.embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.linear = nn.Linear(embedding_dim, vocab_size)

    def forward(self, inputs):
        return F.log_softmax(self.linear(self.embeddings(inputs).sum(dim=0, keepdim=True)), dim=-1)


data = [([text[i - 2], text[i - 1], text[i + 1], text[i + 2]], text[i]) for i in range(2, len(text) - 2)]
cbow = CBOW(len(vocab), EMBEDDING_DIM)
optimizer = optim.Adam(cbow.parameters(), lr=0.01)
for epoch in range(10):
    total = 0.0
    for context, target in data:
        ids = torch.LongTensor([word_to_ix[w] for w in context])
        loss = F.nll_loss(cbow(ids), torch.LongTensor([word_to_ix[target]]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    if epoch % 3 == 0:
        print(epoch, round(total, 4))
with torch.no_grad():
    scores = cbow(torch.LongTensor([word_to_ix[w] for w in data[0][0]]))
    values, indices = scores.topk(3)
print([vocab[i] for i in indices[0].tolist()], values)
