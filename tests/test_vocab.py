"""Vocab: expected ids are worked out by hand in each test from the documented ordering
(reserved tokens first, then descending count, ties alphabetical)."""

import json
from collections import Counter

import pytest

from minigrad.data.vocab import PAD, UNK, Vocab, char_vocab

COUNTS = Counter({"the": 5, "cat": 2, "dog": 2, "sat": 1})


def test_reserved_tokens_come_first():
    vocab = Vocab(["a", "b"])
    assert vocab.tokens == [PAD, UNK, "a", "b"]
    assert (vocab.pad_id, vocab.unk_id) == (0, 1)
    assert len(vocab) == 4


def test_from_counts_orders_by_count_then_alphabetically():
    vocab = Vocab.from_counts(COUNTS)
    assert vocab.tokens == [PAD, UNK, "the", "cat", "dog", "sat"]


def test_min_freq_drops_rare_tokens():
    vocab = Vocab.from_counts(COUNTS, min_freq=2)
    assert vocab.tokens == [PAD, UNK, "the", "cat", "dog"]
    assert "sat" not in vocab


def test_max_size_counts_the_reserved_tokens():
    vocab = Vocab.from_counts(COUNTS, max_size=4)
    assert vocab.tokens == [PAD, UNK, "the", "cat"]


def test_build_counts_sequences():
    vocab = Vocab.build([["b", "a"], ["b", "c", "b"], ["a"]])
    # counts: b 3, a 2, c 1
    assert vocab.tokens == [PAD, UNK, "b", "a", "c"]


def test_lookup_and_unknown():
    vocab = Vocab.from_counts(COUNTS)
    assert vocab.lookup("cat") == 3
    assert vocab.lookup("zebra") == 1
    assert vocab.lookup(PAD) == 0


def test_encode_decode():
    vocab = Vocab.from_counts(COUNTS)
    assert vocab.encode(["the", "cat", "flew"]) == [2, 3, 1]
    assert vocab.decode([2, 3, 1, 0]) == ["the", "cat", UNK, PAD]


def test_decode_out_of_range():
    with pytest.raises(IndexError, match="id 6 is out of range for a vocabulary of size 6"):
        Vocab.from_counts(COUNTS).decode([6])
    with pytest.raises(IndexError, match="id -1"):
        Vocab.from_counts(COUNTS).token(-1)


def test_tag_vocabulary_without_pad_or_unk():
    tags = Vocab.from_counts(Counter({"NOUN": 3, "VERB": 2}), pad=None, unk=None)
    assert tags.tokens == ["NOUN", "VERB"]
    assert tags.pad_id is None and tags.unk_id is None
    assert tags.encode(["VERB", "NOUN"]) == [1, 0]
    with pytest.raises(KeyError, match="'ADJ' is not in the vocabulary"):
        tags.lookup("ADJ")


def test_only_unk():
    vocab = Vocab(["x"], pad=None)
    assert vocab.tokens == [UNK, "x"]
    assert vocab.unk_id == 0 and vocab.lookup("y") == 0


def test_contains_and_iter():
    vocab = Vocab(["a"])
    assert "a" in vocab and PAD in vocab and "b" not in vocab
    assert list(vocab) == [PAD, UNK, "a"]


def test_json_round_trip():
    vocab = Vocab.from_counts(COUNTS, pad=None)
    data = json.loads(json.dumps(vocab.to_dict()))
    assert data == {"pad": None, "unk": UNK, "tokens": ["the", "cat", "dog", "sat"]}
    restored = Vocab.from_dict(data)
    assert restored == vocab
    assert restored.tokens == vocab.tokens


def test_equality_depends_on_reserved_tokens():
    assert Vocab(["a"]) != Vocab(["a"], pad=None)
    assert Vocab(["a"]) == Vocab(["a"])


def test_from_dict_missing_keys():
    with pytest.raises(ValueError, match=r"missing the keys \['pad', 'unk'\]"):
        Vocab.from_dict({"tokens": []})


def test_duplicates_are_rejected():
    with pytest.raises(ValueError, match="duplicate token 'a'"):
        Vocab(["a", "a"])
    with pytest.raises(ValueError, match="duplicate token '<pad>'"):
        Vocab([PAD])


def test_non_string_token_is_rejected():
    with pytest.raises(TypeError, match="must be str, got int"):
        Vocab([1])


def test_reserved_tokens_in_counts_are_not_counted_twice():
    vocab = Vocab.from_counts(Counter({UNK: 9, "a": 1}))
    assert vocab.tokens == [PAD, UNK, "a"]


def test_bad_min_freq_and_max_size():
    with pytest.raises(ValueError, match="min_freq must be at least 1, got 0"):
        Vocab.from_counts(COUNTS, min_freq=0)
    with pytest.raises(ValueError, match="max_size=1 leaves no room for the 2 reserved tokens"):
        Vocab.from_counts(COUNTS, max_size=1)


def test_char_vocab_encodes_words_character_by_character():
    chars = char_vocab(["abba", "cab"])
    # counts: a 3, b 3, c 1
    assert chars.tokens == [PAD, UNK, "a", "b", "c"]
    assert chars.encode("cab") == [4, 2, 3]
    assert chars.encode("ax") == [2, 1]
