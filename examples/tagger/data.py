"""From CoNLL-U sentences to padded tensor batches for the tagger.

Three vocabularies turn strings into ids (``minigrad.data.Vocab``):

* words, lower-cased, keeping those seen at least ``min_freq`` times in training; any other
  word maps to ``<unk>``, and the character features still see its spelling;
* characters of the original forms, plus ``<bow>``/``<eow>`` marking a word's two ends;
* the UPOS tags.

A ``Batch`` holds B sentences, time-major and padded at the end (see
``minigrad.nn.utils.rnn``): word ids ``(T, B)`` with ``<pad>`` after each sentence, gold tags
``(T, B)`` with ``IGNORE_INDEX`` after it, and the spelling of the distinct word forms of the
batch, whose character features are computed once per form (``Batch.form_index`` maps each
position to its form).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import minigrad as mg
from minigrad.data import Sentence, Vocab

IGNORE_INDEX = -100
BOW, EOW = "<bow>", "<eow>"
MAX_WORD_CHARS = 20  # longer words keep their first and last MAX_WORD_CHARS // 2 characters


@dataclass
class Vocabularies:
    words: Vocab
    chars: Vocab
    tags: Vocab

    @classmethod
    def build(cls, sentences: Sequence[Sentence], min_freq: int = 2) -> Vocabularies:
        words = Vocab.build(([w.lower() for w in s.words] for s in sentences), min_freq=min_freq)
        char_counts = Counter(c for s in sentences for w in s.words for c in w)
        chars = Vocab([BOW, EOW, *Vocab.from_counts(char_counts, pad=None, unk=None).tokens])
        tags = Vocab(sorted({t for s in sentences for t in s.upos}), pad=None, unk=None)
        return cls(words, chars, tags)

    def to_dict(self) -> dict:
        return {"words": self.words.to_dict(), "chars": self.chars.to_dict(), "tags": self.tags.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> Vocabularies:
        return cls(Vocab.from_dict(data["words"]), Vocab.from_dict(data["chars"]), Vocab.from_dict(data["tags"]))


@dataclass
class Batch:
    """B sentences ready for the model; ``tags`` is ``None`` for untagged text."""

    sentences: list[list[str]]
    lengths: list[int]
    words: mg.Tensor  # (T, B) int64 word ids, <pad> after each sentence
    chars: mg.Tensor  # (F, W + 2) int64: <bow> c_1 .. c_n <eow> <pad>... of distinct form f
    window_mask: mg.Tensor  # (F, W) bool: window w (centred on c_{w+1}) is made of real characters
    form_index: mg.Tensor  # (T * B,) int64: the distinct form at each position (0 on padding)
    tags: mg.Tensor | None  # (T, B) int64 tag ids, IGNORE_INDEX after each sentence

    @property
    def num_tokens(self) -> int:
        return sum(self.lengths)


def clip_word(word: str) -> str:
    if len(word) <= MAX_WORD_CHARS:
        return word
    half = MAX_WORD_CHARS // 2
    return word[:half] + word[-half:]


def spell(chars: Vocab, forms: Sequence[str]) -> tuple[list, list]:
    """Character ids of each form, ``<bow> c_1 .. c_n <eow>`` padded to a common length, and
    the mask of the n windows ``(c_{i-1}, c_i, c_{i+1})`` centred on real characters."""
    width = max(len(clip_word(form)) for form in forms)
    ids, mask = [], []
    for form in forms:
        spelled = [chars.lookup(BOW), *chars.encode(clip_word(form)), chars.lookup(EOW)]
        n = len(spelled) - 2
        ids.append(spelled + [chars.pad_id] * (width - n))
        mask.append([True] * n + [False] * (width - n))
    return ids, mask


def make_batch(vocabs: Vocabularies, sentences: Sequence[Sequence[str]],
               tags: Sequence[Sequence[str]] | None = None) -> Batch:
    """Pad B sentences (lists of word forms) into a ``Batch``; ``tags`` optional."""
    lengths = [len(s) for s in sentences]
    if not lengths or min(lengths) == 0:
        raise ValueError("a batch needs at least one sentence and every sentence at least one word")
    steps = max(lengths)
    form_ids: dict[str, int] = {}
    word_rows, form_rows, tag_rows = [], [], []
    for t in range(steps):
        present = [s[t] if t < len(s) else None for s in sentences]
        word_rows.append([vocabs.words.pad_id if w is None else vocabs.words.lookup(w.lower()) for w in present])
        form_rows.append([0 if w is None else form_ids.setdefault(w, len(form_ids)) for w in present])
        if tags is not None:
            tag_rows.append([vocabs.tags.lookup(seq[t]) if t < len(seq) else IGNORE_INDEX for seq in tags])
    chars, mask = spell(vocabs.chars, list(form_ids))
    return Batch(
        sentences=[list(s) for s in sentences],
        lengths=lengths,
        words=mg.tensor(word_rows, dtype=mg.int64),
        chars=mg.tensor(chars, dtype=mg.int64),
        window_mask=mg.tensor(mask, dtype=mg.bool),
        form_index=mg.tensor(form_rows, dtype=mg.int64).reshape(-1),
        tags=mg.tensor(tag_rows, dtype=mg.int64) if tags is not None else None,
    )


def training_batches(vocabs: Vocabularies, sentences: Sequence[Sentence], batch_size: int,
                     rng: random.Random, pool_batches: int = 50) -> Iterator[Batch]:
    """One epoch of shuffled batches of sentences of similar length (little padding).

    The sentences are shuffled, cut into pools of ``pool_batches * batch_size``, each pool is
    sorted by length and cut into batches, and the batches are shuffled."""
    order = list(range(len(sentences)))
    rng.shuffle(order)
    pool = pool_batches * batch_size
    groups = []
    for begin in range(0, len(order), pool):
        chunk = sorted(order[begin:begin + pool], key=lambda i: len(sentences[i]))
        groups += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(groups)
    for group in groups:
        chosen = [sentences[i] for i in group]
        yield make_batch(vocabs, [s.words for s in chosen], [s.upos for s in chosen])


def inference_batches(vocabs: Vocabularies, sentences: Sequence[Sequence[str]],
                      batch_size: int) -> Iterator[tuple[list[int], Batch]]:
    """Batches of sentences sorted by length, each with the positions of its sentences in
    ``sentences`` (to put the predictions back in order)."""
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    for begin in range(0, len(order), batch_size):
        group = order[begin:begin + batch_size]
        yield group, make_batch(vocabs, [sentences[i] for i in group])
