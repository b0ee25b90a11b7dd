"""Vocabularies: a two-way mapping between strings (words, tags, characters) and integer ids.

Ids are assigned in order: the padding token (id 0) and the unknown token (id 1) first, when
present, then the ordinary tokens. ``Vocab.from_counts`` orders ordinary tokens by descending
count, ties broken alphabetically, so the same counts always give the same ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["PAD", "UNK", "Vocab", "char_vocab"]

PAD = "<pad>"
UNK = "<unk>"


class Vocab:
    """Strings <-> ids. ``pad``/``unk`` name the reserved tokens; pass ``None`` to leave one
    out (a tag set usually has neither: ``Vocab(tags, pad=None, unk=None)``)."""

    def __init__(self, tokens: Iterable[str] = (), *, pad: str | None = PAD, unk: str | None = UNK) -> None:
        self.pad = pad
        self.unk = unk
        self._tokens: list[str] = []
        self._ids: dict[str, int] = {}
        for token in [pad, unk]:
            if token is not None:
                self._add(token)
        for token in tokens:
            self._add(token)

    def _add(self, token: str) -> None:
        if not isinstance(token, str):
            raise TypeError(f"vocabulary tokens must be str, got {type(token).__name__}")
        if token in self._ids:
            raise ValueError(f"duplicate token {token!r} in vocabulary")
        self._ids[token] = len(self._tokens)
        self._tokens.append(token)

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], *, min_freq: int = 1, max_size: int | None = None,
                    pad: str | None = PAD, unk: str | None = UNK) -> Vocab:
        """Keep tokens seen at least ``min_freq`` times, most frequent first.

        ``max_size`` bounds the total size, reserved tokens included (as torchtext's
        ``max_tokens``); the least frequent tokens are dropped to meet it.
        """
        if min_freq < 1:
            raise ValueError(f"min_freq must be at least 1, got {min_freq}")
        reserved = {token for token in (pad, unk) if token is not None}
        if max_size is not None and max_size < len(reserved):
            raise ValueError(f"max_size={max_size} leaves no room for the {len(reserved)} reserved tokens")
        kept = sorted((token for token, count in counts.items() if count >= min_freq and token not in reserved),
                      key=lambda token: (-counts[token], token))
        if max_size is not None:
            kept = kept[: max_size - len(reserved)]
        return cls(kept, pad=pad, unk=unk)

    @classmethod
    def build(cls, sequences: Iterable[Iterable[str]], *, min_freq: int = 1, max_size: int | None = None,
              pad: str | None = PAD, unk: str | None = UNK) -> Vocab:
        """Count the tokens of every sequence (e.g. the words of every sentence), then
        ``from_counts``."""
        counts: Counter[str] = Counter()
        for sequence in sequences:
            counts.update(sequence)
        return cls.from_counts(counts, min_freq=min_freq, max_size=max_size, pad=pad, unk=unk)

    @property
    def pad_id(self) -> int | None:
        return None if self.pad is None else self._ids[self.pad]

    @property
    def unk_id(self) -> int | None:
        return None if self.unk is None else self._ids[self.unk]

    @property
    def tokens(self) -> list[str]:
        """Every token, in id order."""
        return list(self._tokens)

    def lookup(self, token: str) -> int:
        """The id of ``token``; the unknown id if it is not in the vocabulary."""
        token_id = self._ids.get(token)
        if token_id is not None:
            return token_id
        if self.unk is None:
            raise KeyError(f"token {token!r} is not in the vocabulary (which has no unknown token)")
        return self._ids[self.unk]

    def token(self, token_id: int) -> str:
        """The token with id ``token_id``."""
        if not 0 <= token_id < len(self._tokens):
            raise IndexError(f"id {token_id} is out of range for a vocabulary of size {len(self._tokens)}")
        return self._tokens[token_id]

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Ids of a sequence of tokens. A ``str`` is a sequence of characters, so a
        character vocabulary encodes a word with ``encode(word)``."""
        return [self.lookup(token) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.token(token_id) for token_id in ids]

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._ids

    def __iter__(self) -> Iterator[str]:
        return iter(self._tokens)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return (self._tokens, self.pad, self.unk) == (other._tokens, other.pad, other.unk)

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, pad={self.pad!r}, unk={self.unk!r})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description: ``{"pad": ..., "unk": ..., "tokens": [ordinary tokens]}``."""
        reserved = sum(token is not None for token in (self.pad, self.unk))
        return {"pad": self.pad, "unk": self.unk, "tokens": self._tokens[reserved:]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Vocab:
        """Inverse of ``to_dict``."""
        missing = {"pad", "unk", "tokens"} - data.keys()
        if missing:
            raise ValueError(f"vocabulary dict is missing the keys {sorted(missing)}")
        return cls(data["tokens"], pad=data["pad"], unk=data["unk"])


def char_vocab(words: Iterable[str], *, min_freq: int = 1, max_size: int | None = None,
               pad: str | None = PAD, unk: str | None = UNK) -> Vocab:
    """A vocabulary of the characters of ``words``, for character-level word features.
    Encode a word with ``vocab.encode(word)``."""
    return Vocab.build(words, min_freq=min_freq, max_size=max_size, pad=pad, unk=unk)
