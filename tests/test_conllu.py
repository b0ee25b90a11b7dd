"""CoNLL-U reader/writer. Expected values are read off the hand-written fixture by eye."""

import io
from pathlib import Path

import pytest

from minigrad.data.conllu import (
    Sentence,
    Token,
    format_sentence,
    iter_conllu,
    read_conllu,
    write_conllu,
)

FIXTURES = Path(__file__).parent / "fixtures"
MULTIWORD = FIXTURES / "multiword.conllu"
EWT_SAMPLE = FIXTURES / "ewt-sample.conllu"

WORD_LINE = "1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_"


def test_multiword_tokens_are_skipped_and_their_words_kept():
    first = read_conllu(MULTIWORD)[0]
    assert first.words == ["I", "ca", "n't", "go", "."]
    assert first.upos == ["PRON", "AUX", "PART", "VERB", "PUNCT"]
    assert [token.id for token in first.tokens] == [1, 2, 3, 4, 5]


def test_all_columns_of_a_word_line():
    go = read_conllu(MULTIWORD)[0].tokens[3]
    assert go == Token(id=4, form="go", lemma="go", upos="VERB", xpos="VB", feats="VerbForm=Inf",
                       head=0, deprel="root", deps="_", misc="SpaceAfter=No")


def test_empty_nodes_are_skipped():
    second = read_conllu(MULTIWORD)[1]
    assert second.words == ["Sue", "likes", "coffee", "and", "Bill", "tea"]
    assert [token.head for token in second.tokens] == [2, 0, 2, 5, 2, 5]


def test_comments_and_metadata():
    first, second, third = read_conllu(MULTIWORD)
    assert first.comments == ["newdoc id = handwritten", "sent_id = mwt-1", "text = I can't go."]
    assert first.sent_id == "mwt-1"
    assert first.text == "I can't go."
    assert second.metadata == {"sent_id": "empty-1", "text": "Sue likes coffee and Bill tea"}
    assert third.comments == ["a comment without key-value form"]
    assert third.metadata == {}
    assert third.sent_id is None and third.text is None


def test_missing_final_blank_line_is_tolerated():
    assert not MULTIWORD.read_text().endswith("\n\n")  # the fixture really lacks it
    assert read_conllu(MULTIWORD)[-1].words == ["Hi"]


def test_iterator_yields_the_same_sentences_lazily():
    iterator = iter_conllu(MULTIWORD)
    assert next(iterator).sent_id == "mwt-1"
    assert [sentence.sent_id for sentence in iterator] == ["empty-1", None]


def test_reads_from_an_open_file_and_tolerates_crlf_bom_and_extra_blank_lines():
    text = "\ufeff# sent_id = a\r\n" + WORD_LINE + "\r\n\r\n\r\n" + WORD_LINE + "\r\n"
    sentences = read_conllu(io.StringIO(text))
    assert [sentence.sent_id for sentence in sentences] == ["a", None]
    assert sentences[0].tokens[0].misc == "_"


def test_underscore_head_is_none():
    line = "1\tHi\thi\tINTJ\tUH\t_\t_\t_\t_\t_"
    assert read_conllu(io.StringIO(line + "\n\n"))[0].tokens[0].head is None


def test_ewt_sample_fixture():
    sentences = read_conllu(EWT_SAMPLE)
    assert len(sentences) == 40
    assert sentences[0].sent_id == "ewt-train-506"
    assert sentences[0].words == ["Then", "Charles", "A.", "Briggs", "came", "to", "the", "rescue", "."]
    # The sample was chosen to contain every UD v1 UPOS tag.
    tags = {tag for sentence in sentences for tag in sentence.upos}
    assert tags == {"ADJ", "ADP", "ADV", "AUX", "CONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON",
                    "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"}


def test_write_then_read_round_trip(tmp_path):
    sentences = read_conllu(MULTIWORD) + read_conllu(EWT_SAMPLE)
    path = tmp_path / "out.conllu"
    write_conllu(sentences, path)
    assert read_conllu(path) == sentences
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_write_replaces_an_existing_file(tmp_path):
    path = tmp_path / "out.conllu"
    path.write_text("old contents")
    write_conllu([Sentence([Token(1, "Hi")])], path)
    assert path.read_text() == "1\tHi\t_\t_\t_\t_\t_\t_\t_\t_\n\n"


def test_format_sentence():
    sentence = Sentence([Token(1, "Hi", "hi", "INTJ", "UH", "_", 0, "root")], comments=["sent_id = x"])
    assert format_sentence(sentence) == "# sent_id = x\n" + WORD_LINE + "\n\n"


def _write(tmp_path, text):
    path = tmp_path / "bad.conllu"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("# c\n1\tHi\thi\tINTJ\n\n", 2, "expected 10 tab-separated columns, got 4"),
        (WORD_LINE + "\tX\n", 1, "expected 10 tab-separated columns, got 11"),
        ("# c\n" + WORD_LINE.replace("1", "x", 1) + "\n", 2, "bad ID 'x'"),
        (WORD_LINE.replace("1", "0", 1) + "\n", 1, "bad ID '0'"),
        (WORD_LINE + "\n" + WORD_LINE + "\n", 2, "expected 2, got 1"),
        (WORD_LINE + "\n" + WORD_LINE.replace("1", "3", 1) + "\n", 2, "expected 2, got 3"),
        (WORD_LINE + "\n2-2\tx\t_\t_\t_\t_\t_\t_\t_\t_\n", 2, "bad multiword token range '2-2'"),
        (WORD_LINE + "\n3-4\tx\t_\t_\t_\t_\t_\t_\t_\t_\n", 2, "bad multiword token range '3-4'"),
        (WORD_LINE + "\n2.1\tx\t_\t_\t_\t_\t_\t_\t_\t_\n", 2, "empty node '2.1' out of order"),
        (WORD_LINE.replace("\t0\t", "\tx\t") + "\n", 1, "bad HEAD 'x'"),
        (WORD_LINE + "\n" + WORD_LINE.replace("1", "2", 1).replace("\t0\t", "\t3\t") + "\n\n", 2,
         "HEAD 3 is beyond the last word (2)"),
        (WORD_LINE.replace("hi", "") + "\n", 1, "empty column"),
        (WORD_LINE + "\n# late comment\n", 2, "comment line inside a sentence"),
        ("\n# only a comment\n\n" + WORD_LINE + "\n", 2, "sentence has no word lines"),
        (WORD_LINE + "\n\n# trailing comment\n", 3, "sentence has no word lines"),
    ],
)
def test_malformed_input_names_file_and_line(tmp_path, text, line, message):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=f"^{path}:{line}: ") as info:
        read_conllu(path)
    assert message in str(info.value)


def test_malformed_stream_uses_its_name():
    with pytest.raises(ValueError, match=r"^<stream>:1: expected 10"):
        read_conllu(io.StringIO("1\tHi\n"))
