"""The POS tagger of examples/pos_tagger.py trained with PyTorch 2.13.0 instead, for comparison.

Same data, vocabularies and batches (built by ``examples/tagger/data.py`` with the same seed),
same architecture (word embedding + char-CNN, BiLSTM over ``pack_padded_sequence``, dropout
with one mask per sentence, linear layer, optional CRF with the same forward algorithm and Viterbi), same initial-weight
distributions (torch's defaults, which minigrad's modules reproduce), same optimizer and
hyperparameters, same early stopping on dev accuracy. Prints per-epoch dev accuracy, training
time and tokens/s, then the test accuracy of the best epoch.

    python benchmarks/tagger_vs_torch.py [--crf] [--threads 1] [--epochs 10] ...

``--threads`` sets ``torch.set_num_threads`` (default 1: minigrad's kernels use one core).
"""

from __future__ import annotations

import argparse
import copy
import gc
import random
import resource
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

from tagger.data import IGNORE_INDEX, Batch, Vocabularies, inference_batches, training_batches  # noqa: E402
from tagger.evaluation import score  # noqa: E402
from tagger.model import WORD_INIT_STD, TaggerConfig  # noqa: E402

from minigrad.data import fetch_ewt, find_conllu_splits, read_conllu  # noqa: E402


def to_torch(t):  # a minigrad tensor
    return torch.tensor(t.tolist())


class CRF(nn.Module):
    """The linear-chain CRF of minigrad.nn.utils.crf, in torch (time-major, lengths)."""

    def __init__(self, num_tags: int) -> None:
        super().__init__()
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags).uniform_(-0.1, 0.1))
        self.start_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        self.end_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))

    def forward(self, emissions, tags, lengths):
        """Summed negative log-likelihood over the batch."""
        steps = emissions.shape[0]
        mask = torch.arange(steps).unsqueeze(1) < lengths.unsqueeze(0)  # (T, B)
        alpha = self.start_transitions + emissions[0]
        for t in range(1, steps):
            scores = alpha.unsqueeze(2) + self.transitions + emissions[t].unsqueeze(1)
            alpha = torch.where(mask[t].unsqueeze(1), scores.logsumexp(1), alpha)
        log_z = (alpha + self.end_transitions).logsumexp(1)
        tags = tags.masked_fill(~mask, 0)
        weight = mask.to(emissions.dtype)
        gold = self.start_transitions[tags[0]] + (emissions.gather(2, tags.unsqueeze(2)).squeeze(2) * weight).sum(0)
        gold = gold + (self.transitions[tags[:-1], tags[1:]] * weight[1:]).sum(0)
        last = tags.gather(0, (lengths - 1).unsqueeze(0)).squeeze(0)
        return (log_z - gold - self.end_transitions[last]).sum()

    def decode(self, emissions, lengths):
        steps = emissions.shape[0]
        mask = torch.arange(steps).unsqueeze(1) < lengths.unsqueeze(0)
        best = self.start_transitions + emissions[0]
        winners = []
        for t in range(1, steps):
            top, previous = (best.unsqueeze(2) + self.transitions).max(1)
            best = torch.where(mask[t].unsqueeze(1), top + emissions[t], best)
            winners.append(previous)
        final = (best + self.end_transitions).argmax(1).tolist()
        table = torch.stack(winners).tolist() if winners else []
        paths = []
        for b, length in enumerate(lengths.tolist()):
            path = [final[b]]
            for t in range(length - 1, 0, -1):
                path.append(table[t - 1][b][path[-1]])
            paths.append(path[::-1])
        return paths


class SharedDropout(nn.Module):
    """Dropout with one mask per sequence of a (T, B, D) batch, as in examples/tagger/model.py."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        return x * nn.functional.dropout(x.new_ones(1, x.shape[1], x.shape[2]), self.p, True)


class TorchTagger(nn.Module):
    def __init__(self, vocabs: Vocabularies, config: TaggerConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(len(vocabs.words), config.word_dim, padding_idx=vocabs.words.pad_id)
        with torch.no_grad():
            nn.init.normal_(self.embed.weight, 0.0, WORD_INIT_STD)
            self.embed.weight[vocabs.words.pad_id] = 0.0
        self.char_embed = nn.Embedding(len(vocabs.chars), config.char_dim, padding_idx=vocabs.chars.pad_id)
        self.filters = nn.Linear(3 * config.char_dim, config.char_features)
        self.lstm = nn.LSTM(config.word_dim + config.char_features, config.hidden, num_layers=config.layers,
                            dropout=config.dropout if config.layers > 1 else 0.0, bidirectional=True)
        self.dropout = SharedDropout(config.dropout)
        self.output = nn.Linear(2 * config.hidden, len(vocabs.tags))
        self.crf = CRF(len(vocabs.tags)) if config.crf else None

    def emissions(self, batch: Batch, lengths):
        words = to_torch(batch.words)
        spelled, mask = to_torch(batch.chars), to_torch(batch.window_mask)
        forms, width = mask.shape
        embedded = self.char_embed(spelled)
        windows = torch.cat([embedded[:, k:k + width] for k in range(3)], 2).reshape(forms * width, -1)
        scores = torch.relu(self.filters(windows)).reshape(forms, width, -1)
        features = scores.masked_fill(~mask.unsqueeze(2), float("-inf")).max(1).values
        steps, size = words.shape
        char_features = features.index_select(0, to_torch(batch.form_index)).reshape(steps, size, -1)
        x = self.dropout(torch.cat([self.embed(words), char_features], 2))
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        hidden, _ = nn.utils.rnn.pad_packed_sequence(self.lstm(packed)[0], total_length=steps)
        return self.output(self.dropout(hidden))

    def loss(self, batch: Batch):
        lengths = torch.tensor(batch.lengths)
        scores = self.emissions(batch, lengths)
        tags = to_torch(batch.tags)
        if self.crf is not None:
            return self.crf(scores, tags, lengths) / batch.num_tokens
        return nn.functional.cross_entropy(scores.reshape(-1, scores.shape[2]), tags.reshape(-1),
                                           ignore_index=IGNORE_INDEX)

    def predict(self, batch: Batch):
        lengths = torch.tensor(batch.lengths)
        scores = self.emissions(batch, lengths)
        if self.crf is not None:
            return self.crf.decode(scores, lengths)
        best = scores.argmax(2).tolist()
        return [[best[t][b] for t in range(length)] for b, length in enumerate(batch.lengths)]


def accuracy(model: TorchTagger, vocabs: Vocabularies, sentences, batch_size: int = 64) -> float:
    model.eval()
    predicted = [[] for _ in sentences]
    with torch.no_grad():
        for positions, batch in inference_batches(vocabs, [s.words for s in sentences], batch_size):
            for position, ids in zip(positions, model.predict(batch)):
                predicted[position] = vocabs.tags.decode(ids)
    return score([s.upos for s in sentences], predicted).accuracy


def main() -> None:
    defaults = TaggerConfig()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", help="UD treebank directory (default: UD English-EWT via fetch_ewt)")
    p.add_argument("--crf", action="store_true")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--patience", type=int, default=3)
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--word-dim", type=int, default=defaults.word_dim)
    p.add_argument("--char-dim", type=int, default=defaults.char_dim)
    p.add_argument("--char-features", type=int, default=defaults.char_features)
    p.add_argument("--hidden", type=int, default=defaults.hidden)
    p.add_argument("--layers", type=int, default=defaults.layers)
    p.add_argument("--dropout", type=float, default=defaults.dropout)
    p.add_argument("--min-freq", type=int, default=2)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    paths = find_conllu_splits(args.data_dir) if args.data_dir else fetch_ewt()
    train_set, dev_set, test_set = (read_conllu(paths[split]) for split in ("train", "dev", "test"))
    vocabs = Vocabularies.build(train_set, min_freq=args.min_freq)
    config = TaggerConfig(word_dim=args.word_dim, char_dim=args.char_dim, char_features=args.char_features,
                          hidden=args.hidden, layers=args.layers, dropout=args.dropout, crf=args.crf)
    model = TorchTagger(vocabs, config)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.9))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); {config}", flush=True)
    rng = random.Random(args.seed)
    gc.freeze()  # the corpus and vocabularies out of the collector's full passes, as examples/pos_tagger.py does
    best, best_state, best_epoch, bad, total_seconds, total_tokens = -1.0, None, 0, 0, 0.0, 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        started, tokens = time.perf_counter(), 0
        for index, batch in enumerate(training_batches(vocabs, train_set, args.batch_size, rng), start=1):
            optimizer.zero_grad()
            loss = model.loss(batch)
            loss.backward()
            optimizer.step()
            tokens += batch.num_tokens
            if index % args.log_every == 0:
                print(f"epoch {epoch} batch {index}  loss {loss.item():.4f}  "
                      f"{tokens / (time.perf_counter() - started):.0f} tok/s", flush=True)
        seconds = time.perf_counter() - started
        total_seconds += seconds
        total_tokens += tokens
        dev = accuracy(model, vocabs, dev_set)
        improved = dev > best
        if improved:
            best, best_state, best_epoch, bad = dev, copy.deepcopy(model.state_dict()), epoch, 0
        else:
            bad += 1
        print(f"epoch {epoch} done in {seconds:.0f}s ({tokens / seconds:.0f} tok/s)  dev accuracy {dev:.4f}"
              f"{'  (best)' if improved else ''}", flush=True)
        if bad >= args.patience:
            print(f"early stop: no dev improvement for {args.patience} epochs")
            break
    model.load_state_dict(best_state)
    test = accuracy(model, vocabs, test_set)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch: best dev {best:.4f} (epoch {best_epoch}); test accuracy {test:.4f}; training {total_seconds:.0f}s "
          f"for {total_tokens} tokens ({total_tokens / total_seconds:.0f} tok/s); peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
