"""Tensor-independent data utilities: CoNLL-U files, vocabularies and the UD English-EWT corpus."""

from minigrad.data.conllu import Sentence, Token, iter_conllu, read_conllu, write_conllu
from minigrad.data.ewt import fetch_ewt, find_conllu_splits
from minigrad.data.vocab import Vocab, char_vocab

__all__ = [
    "Sentence",
    "Token",
    "Vocab",
    "char_vocab",
    "fetch_ewt",
    "find_conllu_splits",
    "iter_conllu",
    "read_conllu",
    "write_conllu",
]
