"""Classify names by language with a character-level RNN, as in PyTorch's "NLP From Scratch"
tutorial: a hand-written RNN cell of Linear layers, one-hot letters, topk, manual SGD updates."""

import string

import torch
import torch.nn as nn

all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)
names = {
    "English": ["Smith", "Taylor", "Brown", "Walker", "Wright", "Hughes", "Edwards", "Green"],
    "Italian": ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci"],
    "Japanese": ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura"],
    "Polish": ["Nowak", "Kowalski", "Wisniewski", "Wojcik", "Kowalczyk", "Kaminski", "Lewandowski", "Zielinski"],
}
all_categories = list(names)


def line_to_tensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][all_letters.find(letter)] = 1
    return tensor


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size, hidden_size)
        self.h2h = nn.Linear(hidden_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        hidden = torch.tanh(self.i2h(input) + self.h2h(hidden))
        return self.softmax(self.h2o(hidden)), hidden

    def init_hidden(self):
        return torch.zeros(1, self.hidden_size)


torch.manual_seed(2)
rnn = RNN(n_letters, 32, len(all_categories))
criterion = nn.NLLLoss()
learning_rate = 0.005
current_loss = 0.0
for it in range(1, 801):
    category = all_categories[torch.randint(0, len(all_categories), (1,)).item()]
    line = names[category][torch.randint(0, 8, (1,)).item()]
    category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
    line_tensor = line_to_tensor(line)
    hidden = rnn.init_hidden()
    rnn.zero_grad()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    loss = criterion(output, category_tensor)
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    current_loss += loss.item()
    if it % 200 == 0:
        top_n, top_i = output.topk(1)
        print(it, round(current_loss / 200, 4), line, all_categories[top_i[0].item()], round(top_n.item(), 4))
        current_loss = 0.0

with torch.no_grad():
    for line in ["Satoshi", "Kowal", "Bianco"]:
        hidden = rnn.init_hidden()
        t = line_to_tensor(line)
        for i in range(t.size(0)):
            output, hidden = rnn(t[i], hidden)
        values, indices = output.topk(2, 1, True)
        print(line, [(all_categories[i], round(v, 4)) for v, i in zip(values[0].tolist(), indices[0].tolist())])
