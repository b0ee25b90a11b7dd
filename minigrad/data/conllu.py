"""Read and write CoNLL-U, the Universal Dependencies file format.

Format (https://universaldependencies.org/format.html), as far as a tagger needs it:

* A file is a sequence of sentences; each sentence ends with one blank line.
* A sentence opens with zero or more comment lines starting with ``#``; by convention
  ``# sent_id = ...`` and ``# text = ...`` carry its identifier and raw text.
* Every other line is a token line of 10 tab-separated fields:
  ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC (``_`` means "unspecified").
* ID is a word index 1, 2, 3, ...; a range ``3-4`` marks a multiword token (the surface
  form of the words 3 and 4) and a decimal ``5.1`` marks an empty node of enhanced syntax.
  A tagger labels words, so this reader checks those two kinds of line and then skips them.

Malformed input raises ``ValueError`` starting with ``<file>:<line>:``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from minigrad._atomic import atomic_write

__all__ = ["Sentence", "Token", "format_sentence", "iter_conllu", "read_conllu", "write_conllu"]

NUM_COLUMNS = 10
_WORD_ID = re.compile(r"[1-9][0-9]*")
_RANGE_ID = re.compile(r"([1-9][0-9]*)-([1-9][0-9]*)")
_EMPTY_NODE_ID = re.compile(r"(0|[1-9][0-9]*)\.([1-9][0-9]*)")
_HEAD = re.compile(r"0|[1-9][0-9]*")


@dataclass
class Token:
    """One syntactic word of a sentence; ``head`` is ``None`` when the file says ``_``."""

    id: int
    form: str
    lemma: str = "_"
    upos: str = "_"
    xpos: str = "_"
    feats: str = "_"
    head: int | None = None
    deprel: str = "_"
    deps: str = "_"
    misc: str = "_"


@dataclass
class Sentence:
    """The words of one sentence plus its comment lines (without the leading ``# ``)."""

    tokens: list[Token]
    comments: list[str] = field(default_factory=list)

    @property
    def words(self) -> list[str]:
        return [token.form for token in self.tokens]

    @property
    def upos(self) -> list[str]:
        return [token.upos for token in self.tokens]

    @property
    def metadata(self) -> dict[str, str]:
        """The ``key = value`` comments, e.g. ``{"sent_id": "...", "text": "..."}``."""
        pairs = {}
        for comment in self.comments:
            key, sep, value = comment.partition("=")
            if sep and key.strip():
                pairs[key.strip()] = value.strip()
        return pairs

    @property
    def sent_id(self) -> str | None:
        return self.metadata.get("sent_id")

    @property
    def text(self) -> str | None:
        return self.metadata.get("text")

    def __len__(self) -> int:
        return len(self.tokens)


class _SentenceBuilder:
    """Collects the lines of one sentence and checks their IDs as they arrive."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.comments: list[str] = []
        self.tokens: list[Token] = []
        self.head_lines: list[int] = []  # line number of each token, to report bad heads
        self.first_line = 0

    def is_empty(self) -> bool:
        return not self.comments and not self.tokens

    def error(self, lineno: int, message: str) -> ValueError:
        return ValueError(f"{self.source}:{lineno}: {message}")

    def add_comment(self, lineno: int, line: str) -> None:
        if self.tokens:
            raise self.error(lineno, "comment line inside a sentence (comments must precede the words)")
        self.first_line = self.first_line or lineno
        self.comments.append(line[1:].removeprefix(" "))

    def add_token_line(self, lineno: int, line: str) -> None:
        self.first_line = self.first_line or lineno
        columns = line.split("\t")
        if len(columns) != NUM_COLUMNS:
            raise self.error(lineno, f"expected {NUM_COLUMNS} tab-separated columns, got {len(columns)}")
        raw_id = columns[0]
        if _RANGE_ID.fullmatch(raw_id):
            self._check_range(lineno, raw_id)
        elif _EMPTY_NODE_ID.fullmatch(raw_id):
            self._check_empty_node(lineno, raw_id)
        elif _WORD_ID.fullmatch(raw_id):
            self.tokens.append(self._parse_word(lineno, columns))
            self.head_lines.append(lineno)
        else:
            raise self.error(lineno, f"bad ID {raw_id!r} (expected N, N-M or N.M)")

    def _check_range(self, lineno: int, raw_id: str) -> None:
        start, end = (int(part) for part in raw_id.split("-"))
        expected = len(self.tokens) + 1
        if start != expected or end <= start:
            raise self.error(lineno, f"bad multiword token range {raw_id!r} (next word ID is {expected})")

    def _check_empty_node(self, lineno: int, raw_id: str) -> None:
        after_word = int(raw_id.split(".")[0])
        if after_word != len(self.tokens):
            raise self.error(lineno, f"empty node {raw_id!r} out of order (last word ID is {len(self.tokens)})")

    def _parse_word(self, lineno: int, columns: list[str]) -> Token:
        word_id = int(columns[0])
        expected = len(self.tokens) + 1
        if word_id != expected:
            raise self.error(lineno, f"word IDs must increase by one: expected {expected}, got {word_id}")
        if any(column == "" for column in columns):
            raise self.error(lineno, "empty column (use '_' for an unspecified value)")
        raw_head = columns[6]
        if raw_head == "_":
            head = None
        elif _HEAD.fullmatch(raw_head):
            head = int(raw_head)
        else:
            raise self.error(lineno, f"bad HEAD {raw_head!r} (expected a word ID, 0 or '_')")
        form, lemma, upos, xpos, feats = columns[1:6]
        deprel, deps, misc = columns[7:]
        return Token(word_id, form, lemma, upos, xpos, feats, head, deprel, deps, misc)

    def finish(self, lineno: int) -> Sentence:
        """Close the sentence; ``lineno`` is the blank line (or end of file) that ends it."""
        if not self.tokens:
            raise self.error(self.first_line or lineno, "sentence has no word lines")
        for token, token_line in zip(self.tokens, self.head_lines):
            if token.head is not None and token.head > len(self.tokens):
                raise self.error(token_line, f"HEAD {token.head} is beyond the last word ({len(self.tokens)})")
        return Sentence(self.tokens, self.comments)


def _source_name(file: TextIO) -> str:
    return str(getattr(file, "name", "<stream>"))


def _iter_lines(file: TextIO) -> Iterator[tuple[int, str]]:
    for lineno, line in enumerate(file, start=1):
        if lineno == 1:
            line = line.removeprefix("\ufeff")
        yield lineno, line.rstrip("\r\n")


def _iter_sentences(file: TextIO) -> Iterator[Sentence]:
    source = _source_name(file)
    builder = _SentenceBuilder(source)
    lineno = 0
    for lineno, line in _iter_lines(file):
        if not line.strip():
            if not builder.is_empty():
                yield builder.finish(lineno)
                builder = _SentenceBuilder(source)
        elif line.startswith("#"):
            builder.add_comment(lineno, line)
        else:
            builder.add_token_line(lineno, line)
    if not builder.is_empty():  # the final blank line is missing: tolerated
        yield builder.finish(lineno + 1)


def iter_conllu(path_or_file: str | os.PathLike[str] | TextIO) -> Iterator[Sentence]:
    """Yield the sentences of a CoNLL-U file one at a time (a path or an open text file)."""
    if isinstance(path_or_file, (str, os.PathLike)):
        with open(path_or_file, encoding="utf-8") as file:
            yield from _iter_sentences(file)
    else:
        yield from _iter_sentences(path_or_file)


def read_conllu(path_or_file: str | os.PathLike[str] | TextIO) -> list[Sentence]:
    """All sentences of a CoNLL-U file (multiword tokens and empty nodes left out)."""
    return list(iter_conllu(path_or_file))


def format_sentence(sentence: Sentence) -> str:
    """One sentence as CoNLL-U text, ending with the blank line that closes it."""
    lines = [f"# {comment}" for comment in sentence.comments]
    for token in sentence.tokens:
        head = "_" if token.head is None else str(token.head)
        columns = [str(token.id), token.form, token.lemma, token.upos, token.xpos, token.feats,
                   head, token.deprel, token.deps, token.misc]
        lines.append("\t".join(columns))
    return "\n".join(lines) + "\n\n"


def write_conllu(sentences: Iterable[Sentence], path: str | os.PathLike[str]) -> None:
    """Write sentences as CoNLL-U (word lines only), atomically: readers of ``path`` see
    either the old file or the complete new one, never a partial write."""
    with atomic_write(path, "w", encoding="utf-8", newline="\n") as file:
        for sentence in sentences:
            file.write(format_sentence(sentence))
