"""The tagger: word embeddings and a char-CNN word feature, a BiLSTM, then per-word tag scores
(a softmax classifier, or a linear-chain CRF with ``crf=True``).

For a sentence ``w_1 .. w_n``::

    x_i = [ embed(lower(w_i)) ; charcnn(w_i) ]                      (word_dim + char_features)
    h_i = [ LSTM->(x_1 .. x_i) ; LSTM<-(x_i .. x_n) ]               (2 * hidden)
    s_i = W h_i + b                                                 (num_tags scores)

The char-CNN embeds each character, reads every window of three characters with one linear
filter bank and a ReLU, and max-pools over the windows of the word:
``charcnn(w) = max_j relu(F [e(c_{j-1}); e(c_j); e(c_{j+1})] + f)``.

In training, dropout is applied to ``x_i`` and ``h_i`` with one mask per sentence shared by all
its words (variational dropout, Gal and Ghahramani 2016): it regularises as well as a fresh mask
per word and needs ``T`` times fewer random numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.nn.utils.crf import CRF, best_tags
from minigrad.nn.utils.rnn import lstm_padded
from tagger.data import IGNORE_INDEX, Batch, Vocabularies


@dataclass
class TaggerConfig:
    word_dim: int = 64
    char_dim: int = 24
    char_features: int = 32
    hidden: int = 64
    layers: int = 1
    dropout: float = 0.33
    crf: bool = False
    token_loss: float = 0.0  # with a CRF: the weight of a per-word cross-entropy added to its loss

    def to_dict(self) -> dict:
        return asdict(self)


def per_word_loss(scores: mg.Tensor, batch: Batch) -> mg.Tensor:
    """The cross-entropy of each real word's gold tag under its scores (T, B, C), averaged."""
    return F.cross_entropy(scores.reshape(-1, scores.shape[2]), batch.tags.reshape(-1), ignore_index=IGNORE_INDEX)


class CharCNN(nn.Module):
    """One feature vector per word form from its character windows."""

    WINDOW = 3  # characters per window: one either side of the centre

    def __init__(self, num_chars: int, char_dim: int, features: int, padding_idx: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_chars, char_dim, padding_idx=padding_idx)
        self.filters = nn.Linear(self.WINDOW * char_dim, features)

    def forward(self, chars: mg.Tensor, mask: mg.Tensor) -> mg.Tensor:
        """chars (F, W + 2) ids, mask (F, W) -> features (F, features)."""
        forms, width = mask.shape
        embedded = self.embed(chars)  # (F, W + 2, char_dim)
        # window j = the embeddings of characters j, j + 1, j + 2, side by side: (F, W, 3 * char_dim)
        windows = mg.cat([embedded[:, k:k + width] for k in range(self.WINDOW)], 2)
        scores = self.filters(windows.reshape(forms * width, -1)).relu().reshape(forms, width, -1)
        scores = scores.masked_fill(~mask.unsqueeze(2), float("-inf"))  # padding windows never win
        return scores.max(1).values


class SharedDropout(nn.Module):
    """Dropout of a time-major (T, B, D) batch with one mask per sequence:
    ``y[t, b, d] = x[t, b, d] * m[b, d] / (1 - p)``, ``m[b, d]`` ~ Bernoulli(1 - p)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        if not self.training or self.p == 0:
            return x
        return x * F.dropout(mg.ones(1, x.shape[1], x.shape[2], dtype=x.dtype), self.p, True)


WORD_INIT_STD = 0.1
"""Word embeddings start as N(0, 0.1^2) rather than nn.Embedding's N(0, 1): a rare word's
embedding only moves when it occurs, by about lr per occurrence with Adam, so a small start
lets a few occurrences outweigh the random initial vector (on EWT: 91.9% dev accuracy after
the first epoch instead of 88.0%)."""


class Tagger(nn.Module):
    def __init__(self, vocabs: Vocabularies, config: TaggerConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(len(vocabs.words), config.word_dim, padding_idx=vocabs.words.pad_id)
        with mg.no_grad():
            nn.init.normal_(self.embed.weight, 0.0, WORD_INIT_STD)
            self.embed.weight[vocabs.words.pad_id] = 0.0
        self.chars = CharCNN(len(vocabs.chars), config.char_dim, config.char_features, vocabs.chars.pad_id)
        self.lstm = nn.LSTM(config.word_dim + config.char_features, config.hidden, num_layers=config.layers,
                            dropout=config.dropout if config.layers > 1 else 0.0, bidirectional=True)
        self.dropout = SharedDropout(config.dropout)
        self.output = nn.Linear(2 * config.hidden, len(vocabs.tags))
        self.crf = CRF(len(vocabs.tags)) if config.crf else None

    def emissions(self, batch: Batch) -> mg.Tensor:
        """Tag scores (T, B, num_tags) of every position of the batch."""
        steps, size = batch.words.shape
        forms = self.chars(batch.chars, batch.window_mask)
        char_features = forms.index_select(0, batch.form_index).reshape(steps, size, -1)
        x = self.dropout(mg.cat([self.embed(batch.words), char_features], 2))
        hidden, _ = lstm_padded(self.lstm, x, batch.lengths)
        return self.output(self.dropout(hidden))

    def loss(self, batch: Batch) -> mg.Tensor:
        """Mean negative log-likelihood per word of the batch's gold tags: of each word's tag
        (softmax), or of the tag sequences (CRF), plus ``token_loss`` times the former."""
        scores = self.emissions(batch)
        if self.crf is None:
            return per_word_loss(scores, batch)
        loss = self.crf(scores, batch.tags, batch.lengths, reduction="token_mean")
        if self.config.token_loss:
            loss = loss + self.config.token_loss * per_word_loss(scores, batch)
        return loss

    def predict(self, batch: Batch, decoder: str = "viterbi") -> list[list[int]]:
        """The tag ids of each sentence (call under ``no_grad`` in eval mode). A CRF decodes
        with ``decoder`` ("viterbi" or "posterior"); a softmax layer takes each word's best tag."""
        scores = self.emissions(batch)
        if self.crf is not None:
            return self.crf.decode(scores, batch.lengths, decoder)
        return best_tags(scores, batch.lengths)
