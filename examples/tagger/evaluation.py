"""Tagging many sentences with a trained model, and scoring the result against gold tags."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import minigrad as mg
from tagger.data import Vocabularies, inference_batches
from tagger.model import Tagger


def tag_sentences(model: Tagger, vocabs: Vocabularies, sentences: Sequence[Sequence[str]],
                  batch_size: int = 64, decoder: str = "viterbi") -> list[list[str]]:
    """The predicted tags of each sentence (a list of word forms), in input order, a CRF model
    decoding with ``decoder``. The model is left in eval mode."""
    model.eval()
    predicted: list[list[str]] = [[] for _ in sentences]
    with mg.no_grad():
        for positions, batch in inference_batches(vocabs, sentences, batch_size):
            for position, tag_ids in zip(positions, model.predict(batch, decoder)):
                predicted[position] = vocabs.tags.decode(tag_ids)
    return predicted


@dataclass
class TagScore:
    tag: str
    precision: float
    recall: float
    f1: float
    support: int  # gold occurrences


@dataclass
class Report:
    accuracy: float
    tokens: int
    per_tag: list[TagScore]

    def table(self) -> str:
        lines = [f"{'tag':<6} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}"]
        for row in self.per_tag:
            lines.append(f"{row.tag:<6} {row.precision:>9.4f} {row.recall:>9.4f} {row.f1:>9.4f} {row.support:>8}")
        lines.append(f"accuracy {self.accuracy:.4f} on {self.tokens} tokens")
        return "\n".join(lines)


def score(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> Report:
    """Token accuracy and per-tag precision (correct / predicted as the tag), recall
    (correct / gold tag) and F1 (their harmonic mean); 0 where a denominator is 0."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted ones")
    correct: Counter[str] = Counter()
    gold_counts: Counter[str] = Counter()
    predicted_counts: Counter[str] = Counter()
    for gold_tags, predicted_tags in zip(gold, predicted):
        if len(gold_tags) != len(predicted_tags):
            raise ValueError(f"a sentence has {len(gold_tags)} gold tags but {len(predicted_tags)} predicted")
        for g, p in zip(gold_tags, predicted_tags):
            gold_counts[g] += 1
            predicted_counts[p] += 1
            correct[g] += g == p
    tokens = sum(gold_counts.values())
    rows = []
    for tag in sorted(gold_counts | predicted_counts):
        precision = correct[tag] / predicted_counts[tag] if predicted_counts[tag] else 0.0
        recall = correct[tag] / gold_counts[tag] if gold_counts[tag] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(TagScore(tag, precision, recall, f1, gold_counts[tag]))
    accuracy = sum(correct.values()) / tokens if tokens else 0.0
    return Report(accuracy, tokens, rows)
