"""Viterbi decoding of the tutorial tagger's scores (the tutorial's "challenging exercise").

The tagger of ``sequence_models_tutorial.py`` (derived from Robert Guthrie's PyTorch tutorial,
BSD-3-Clause, see examples/LICENSE-sequence-models-tutorial.txt) picks each word's tag on its
own: the argmax of its row of log-probabilities. Viterbi instead picks the best *sequence* of
tags, adding tag-to-tag transition scores, here log P(next tag | tag) counted from the training
data (add-one smoothed), with start and end scores log P(first tag) and log P(end | last tag).

With emission scores e[t, j] (word t, tag j) and transitions a[i, j], the best score of a path
ending in tag j at word t obeys::

    delta[0, j] = start[j] + e[0, j]
    delta[t, j] = max_i (delta[t-1, i] + a[i, j]) + e[t, j]      back[t, j] = the argmax i

and the best path is read backwards from argmax_j (delta[T-1, j] + end[j]).

Run: ``python examples/viterbi.py``.
"""

from __future__ import annotations

import math

import minigrad as torch
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim


def viterbi_decode(
    emissions: torch.Tensor,
    transitions: torch.Tensor,
    start: torch.Tensor | None = None,
    end: torch.Tensor | None = None,
) -> tuple[float, list[int]]:
    """The highest-scoring tag sequence for ``emissions`` (T, K) under ``transitions`` (K, K),
    where transitions[i, j] scores tag j right after tag i. Returns (score, path)."""
    steps, tags = emissions.shape
    if tuple(transitions.shape) != (tags, tags):
        raise ValueError(f"transitions must be ({tags}, {tags}), got {tuple(transitions.shape)}")
    with torch.no_grad():
        delta = emissions[0] if start is None else emissions[0] + start
        backpointers = []
        for t in range(1, steps):
            # candidates[i, j]: come from tag i into tag j
            best, previous = (delta.unsqueeze(1) + transitions).max(0)
            backpointers.append(previous.tolist())
            delta = best + emissions[t]
        if end is not None:
            delta = delta + end
        score, last = delta.max(0)
    path = [int(last)]
    for previous in reversed(backpointers):
        path.append(previous[path[-1]])
    return score.item(), path[::-1]


def transition_scores(tag_sequences: list[list[int]], tags: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Add-one smoothed log P(tag j | tag i), log P(first tag j), log P(end | last tag i)."""
    pairs = [[1.0] * tags for _ in range(tags)]
    first = [1.0] * tags
    stop = [[1.0, 1.0] for _ in range(tags)]  # per tag: [continues, ends]
    for sequence in tag_sequences:
        first[sequence[0]] += 1
        for i, j in zip(sequence, sequence[1:]):
            pairs[i][j] += 1
            stop[i][0] += 1
        stop[sequence[-1]][1] += 1
    transitions = [[math.log(c / sum(row)) for c in row] for row in pairs]
    start = [math.log(c / sum(first)) for c in first]
    end = [math.log(ends / (goes + ends)) for goes, ends in stop]
    return torch.tensor(transitions), torch.tensor(start), torch.tensor(end)


class LSTMTagger(nn.Module):
    """The tutorial's tagger: Embedding -> LSTM -> Linear -> log_softmax."""

    def __init__(self, embedding_dim: int, hidden_dim: int, vocab_size: int, tagset_size: int) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

    def forward(self, sentence: torch.Tensor) -> torch.Tensor:
        embeds = self.word_embeddings(sentence)
        lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
        tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
        return F.log_softmax(tag_space, dim=1)


def main() -> None:
    torch.manual_seed(1)
    training_data = [
        ("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
        ("Everybody read that book".split(), ["NN", "V", "DET", "NN"]),
    ]
    word_to_ix: dict[str, int] = {}
    for sentence, _ in training_data:
        for word in sentence:
            word_to_ix.setdefault(word, len(word_to_ix))
    tag_names = ["DET", "NN", "V"]
    tag_to_ix = {tag: i for i, tag in enumerate(tag_names)}

    def prepare_sequence(seq: list[str], to_ix: dict[str, int]) -> torch.Tensor:
        return torch.tensor([to_ix[w] for w in seq], dtype=torch.long)

    model = LSTMTagger(6, 6, len(word_to_ix), len(tag_names))
    loss_function = nn.NLLLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    for _ in range(100):  # fewer epochs than the tutorial's 300: the greedy tags are less sure
        for sentence, tags in training_data:
            model.zero_grad()
            loss = loss_function(model(prepare_sequence(sentence, word_to_ix)), prepare_sequence(tags, tag_to_ix))
            loss.backward()
            optimizer.step()

    transitions, start, end = transition_scores([[tag_to_ix[t] for t in tags] for _, tags in training_data], 3)
    for text in ("The dog ate the apple", "Everybody read that book", "The dog read the book"):
        sentence = text.split()
        with torch.no_grad():
            scores = model(prepare_sequence(sentence, word_to_ix))
        greedy = scores.argmax(1).tolist()
        score, path = viterbi_decode(scores, transitions, start, end)
        print(" ".join(sentence))
        print("  greedy :", " ".join(tag_names[i] for i in greedy))
        print(f"  viterbi: {' '.join(tag_names[i] for i in path)}  (score {score:.4f})")


if __name__ == "__main__":
    main()
