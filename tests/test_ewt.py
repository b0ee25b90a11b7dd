"""UD English-EWT fetching and the UDS-graph -> CoNLL-U conversion.

The conversion is tested on small hand-written graphs shaped like the real ones (no network).
The full-corpus test checks the published counts and runs only when the converted corpus is
cached or MINIGRAD_FETCH_EWT is set.
"""

import copy
import hashlib
import io
import json
import os
import subprocess
import zipfile

import pytest

from minigrad.data import ewt
from minigrad.data.conllu import Token, read_conllu

# A graph in the shape of decomp's uds-ewt-sentences-*.json ("The cat sleeps ."), with
# a semantics node and interface edges that the conversion must ignore, token nodes listed
# out of order, and UD features as extra keys.
GRAPH = {
    "directed": True,
    "multigraph": False,
    "graph": [["name", "ewt-dev-10"]],
    "nodes": [
        {"domain": "syntax", "type": "token", "position": 3, "form": "sleeps", "lemma": "sleep",
         "upos": "VERB", "xpos": "VBZ", "VerbForm": "Fin", "Tense": "Pres", "Mood": "Ind",
         "id": "ewt-dev-10-syntax-3"},
        {"domain": "syntax", "type": "token", "position": 1, "form": "The", "lemma": "the",
         "upos": "DET", "xpos": "DT", "PronType": "Art", "Definite": "Def", "id": "ewt-dev-10-syntax-1"},
        {"domain": "syntax", "type": "token", "position": 2, "form": "cat", "lemma": "cat",
         "upos": "NOUN", "xpos": "NN", "Number": "Sing", "id": "ewt-dev-10-syntax-2"},
        {"domain": "syntax", "type": "token", "position": 4, "form": ".", "lemma": ".",
         "upos": "PUNCT", "xpos": ".", "id": "ewt-dev-10-syntax-4"},
        {"position": 0, "domain": "root", "type": "root", "id": "ewt-dev-10-root-0"},
        {"domain": "semantics", "type": "predicate", "frompredpatt": True,
         "factuality": {"factual": {"confidence": 1.0, "value": 0.9}}, "id": "ewt-dev-10-semantics-pred-3"},
    ],
    "adjacency": [
        [{"deprel": "nsubj", "domain": "syntax", "type": "dependency", "id": "ewt-dev-10-syntax-2"},
         {"deprel": "punct", "domain": "syntax", "type": "dependency", "id": "ewt-dev-10-syntax-4"}],
        [],
        [{"deprel": "det", "domain": "syntax", "type": "dependency", "id": "ewt-dev-10-syntax-1"}],
        [],
        [{"deprel": "root", "domain": "syntax", "type": "dependency", "id": "ewt-dev-10-syntax-3"}],
        [{"domain": "interface", "type": "head", "id": "ewt-dev-10-syntax-3"},
         {"domain": "interface", "type": "nonhead", "id": "ewt-dev-10-syntax-2"}],
    ],
}

# The CoNLL-U lines a UD annotator would write for GRAPH (FEATS sorted case-insensitively).
EXPECTED_TOKENS = [
    Token(1, "The", "the", "DET", "DT", "Definite=Def|PronType=Art", 2, "det"),
    Token(2, "cat", "cat", "NOUN", "NN", "Number=Sing", 3, "nsubj"),
    Token(3, "sleeps", "sleep", "VERB", "VBZ", "Mood=Ind|Tense=Pres|VerbForm=Fin", 0, "root"),
    Token(4, ".", ".", "PUNCT", ".", "_", 3, "punct"),
]


def one_word_graph(name, form):
    return {"nodes": [{"domain": "syntax", "type": "token", "position": 1, "form": form, "lemma": form,
                       "upos": "X", "xpos": "FW", "id": f"{name}-syntax-1"},
                      {"position": 0, "domain": "root", "type": "root", "id": f"{name}-root-0"}],
            "adjacency": [[], [{"deprel": "root", "domain": "syntax", "type": "dependency",
                                "id": f"{name}-syntax-1"}]]}


def test_graph_to_sentence():
    sentence = ewt.uds_graph_to_sentence("ewt-dev-10", GRAPH)
    assert sentence.tokens == EXPECTED_TOKENS
    assert sentence.comments == ["sent_id = ewt-dev-10"]


def test_missing_syntax_edge_gives_underscores():
    graph = copy.deepcopy(GRAPH)
    graph["adjacency"][2] = []  # drop "cat -det-> The"
    first = ewt.uds_graph_to_sentence("ewt-dev-10", graph).tokens[0]
    assert (first.head, first.deprel) == (None, "_")


def test_positions_must_be_one_to_n():
    graph = copy.deepcopy(GRAPH)
    graph["nodes"][3]["position"] = 5
    with pytest.raises(ValueError, match=r"graph 'ewt-dev-10': token positions are not 1..4: \[1, 2, 3, 5\]"):
        ewt.uds_graph_to_sentence("ewt-dev-10", graph)


def test_two_heads_are_rejected():
    graph = copy.deepcopy(GRAPH)
    graph["adjacency"][3] = [{"deprel": "dep", "domain": "syntax", "type": "dependency",
                              "id": "ewt-dev-10-syntax-1"}]
    with pytest.raises(ValueError, match="token 'ewt-dev-10-syntax-1' has two syntactic heads"):
        ewt.uds_graph_to_sentence("ewt-dev-10", graph)


def test_document_is_sorted_by_number_not_by_name():
    document = {"metadata": {}, "data": {"ewt-dev-10": GRAPH, "ewt-dev-9": one_word_graph("ewt-dev-9", "Hi"),
                                         "ewt-dev-1": one_word_graph("ewt-dev-1", "Yo")}}
    sentences = ewt.uds_document_to_sentences(document, "dev")
    assert [sentence.sent_id for sentence in sentences] == ["ewt-dev-1", "ewt-dev-9", "ewt-dev-10"]
    assert sentences[0].words == ["Yo"]


def test_document_with_foreign_graph_name():
    with pytest.raises(ValueError, match="unexpected graph name 'ewt-train-1' in the dev split"):
        ewt.uds_document_to_sentences({"data": {"ewt-train-1": GRAPH}}, "dev")


# Metadata before the graphs, a non-ASCII word (split across chunk boundaries by small chunks),
# numbers and nested lists: what the streaming reader must get through.
STREAMED_DOCUMENT = {
    "metadata": {"factuality": {"factual": {"value": {"datatype": "float"}}}, "sizes": [1, 2.5, -3e-4]},
    "data": {"ewt-dev-2": one_word_graph("ewt-dev-2", "caf\u00e9\u2014\U0001f600"), "ewt-dev-10": GRAPH,
             "ewt-dev-1": one_word_graph("ewt-dev-1", "Yo")},
}


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("indent", [None, 2])
def test_iter_uds_graphs_streams_what_json_loads(chunk_size, indent):
    raw = json.dumps(STREAMED_DOCUMENT, indent=indent, ensure_ascii=False).encode("utf-8")
    graphs = list(ewt.iter_uds_graphs(io.BytesIO(raw), chunk_size))
    assert graphs == list(json.loads(raw)["data"].items())


def test_iter_uds_graphs_rejects_malformed_json():
    with pytest.raises(ValueError, match="malformed UDS JSON: expected '{'"):
        list(ewt.iter_uds_graphs(io.BytesIO(b'["data"]')))
    with pytest.raises(ValueError, match="malformed UDS JSON: expected ':'"):
        list(ewt.iter_uds_graphs(io.BytesIO(b'{"data" {}}')))
    with pytest.raises(ValueError, match="the file ends inside a value"):
        list(ewt.iter_uds_graphs(io.BytesIO(b'{"data": {"ewt-dev-1": {"nodes": [1, 2'), 4))


def make_fake_wheel(path):
    """A zip with the three members fetch_ewt reads; returns its sha256."""
    with zipfile.ZipFile(path, "w") as archive:
        for split in ewt.SPLITS:
            name = f"ewt-{split}-1"
            document = {"data": {name: one_word_graph(name, split.capitalize())}}
            archive.writestr(ewt.MEMBER_TEMPLATE.format(split=split), json.dumps(document))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_convert_wheel(tmp_path, monkeypatch):
    wheel = tmp_path / ewt.WHEEL_NAME
    monkeypatch.setattr(ewt, "WHEEL_SHA256", make_fake_wheel(wheel))
    cache = tmp_path / "cache"
    cache.mkdir()
    said = []
    paths = ewt.convert_wheel(wheel, cache, said.append)
    assert said == [f"converted the {split} split: 1 sentences -> {paths[split]}" for split in ewt.SPLITS]
    assert paths == {split: cache / f"en_ewt-ud-{split}.conllu" for split in ewt.SPLITS}
    assert [read_conllu(paths[split])[0].words for split in ewt.SPLITS] == [["Train"], ["Dev"], ["Test"]]
    assert sorted(os.listdir(cache)) == sorted(path.name for path in paths.values())


def test_convert_wheel_rejects_a_wrong_checksum(tmp_path):
    wheel = tmp_path / ewt.WHEEL_NAME
    make_fake_wheel(wheel)
    with pytest.raises(ValueError, match=f"sha256 mismatch: expected {ewt.WHEEL_SHA256}"):
        ewt.convert_wheel(wheel, tmp_path)
    assert not list(tmp_path.glob("*.conllu"))


def test_fetch_downloads_converts_then_uses_the_cache(tmp_path, monkeypatch):
    downloads = []

    def fake_download(directory):
        downloads.append(directory)
        wheel = directory / ewt.WHEEL_NAME
        monkeypatch.setattr(ewt, "WHEEL_SHA256", make_fake_wheel(wheel))
        return wheel

    monkeypatch.setattr(ewt, "download_wheel", fake_download)
    cache = tmp_path / "new" / "cache"
    said = []
    first = ewt.fetch_ewt(cache, log=said.append)
    assert said[0].startswith(f"UD English-EWT is not in {cache} yet: downloading the decomp==0.3.2 wheel")
    assert said[1:] == [f"converted the {split} split: 1 sentences -> {first[split]}" for split in ewt.SPLITS]
    assert read_conllu(first["dev"])[0].words == ["Dev"]
    assert not downloads[0].exists()  # the downloaded wheel is not kept
    assert ewt.fetch_ewt(str(cache), log=said.append) == first
    assert len(downloads) == 1 and len(said) == 4  # the cached files are used without a word


def test_default_cache_dir_follows_minigrad_data(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path))
    assert ewt.default_cache_dir() == tmp_path / "ud-ewt"
    monkeypatch.delenv("MINIGRAD_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert ewt.default_cache_dir() == tmp_path / "home" / ".cache" / "minigrad" / "ud-ewt"


def test_download_failure_reports_pip_output(tmp_path, monkeypatch):
    def failing_run(command, **kwargs):
        assert command[1:4] == ["-m", "pip", "download"] and command[-1] == "decomp==0.3.2"
        return subprocess.CompletedProcess(command, 1, stdout="", stderr="ERROR: network is unreachable")

    monkeypatch.setattr(ewt.subprocess, "run", failing_run)
    with pytest.raises(RuntimeError, match="(?s)exit code 1.*network is unreachable"):
        ewt.download_wheel(tmp_path)


def test_find_conllu_splits(tmp_path):
    for name in ["en_ewt-ud-train.conllu", "en_ewt-ud-dev.conllu", "en_ewt-ud-test.conllu", "README.txt"]:
        (tmp_path / name).write_text("")
    assert ewt.find_conllu_splits(tmp_path) == {
        "train": tmp_path / "en_ewt-ud-train.conllu",
        "dev": tmp_path / "en_ewt-ud-dev.conllu",
        "test": tmp_path / "en_ewt-ud-test.conllu",
    }


def test_find_conllu_splits_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        ewt.find_conllu_splits(tmp_path / "nope")
    (tmp_path / "a-train.conllu").write_text("")
    (tmp_path / "a-dev.conllu").write_text("")
    with pytest.raises(FileNotFoundError, match="no .conllu file with 'test' in its name"):
        ewt.find_conllu_splits(tmp_path)
    (tmp_path / "a-test.conllu").write_text("")
    (tmp_path / "b-train.conllu").write_text("")
    with pytest.raises(ValueError, match="several .conllu files match 'train': a-train.conllu, b-train.conllu"):
        ewt.find_conllu_splits(tmp_path)


# Counts and tag set of UD English-EWT 1.2 as published with the treebank and recorded in
# the project's data notes (sentences, words).
EWT_COUNTS = {"train": (12_543, 204_586), "dev": (2_002, 25_148), "test": (2_077, 25_096)}
UD1_UPOS = {"ADJ", "ADP", "ADV", "AUX", "CONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN",
            "PUNCT", "SCONJ", "SYM", "VERB", "X"}


def test_full_corpus_counts():
    cache = ewt.default_cache_dir()
    cached = all((cache / ewt.CONLLU_TEMPLATE.format(split=split)).is_file() for split in ewt.SPLITS)
    if not cached and not os.environ.get("MINIGRAD_FETCH_EWT"):
        pytest.skip(f"EWT is not cached in {cache}; set MINIGRAD_FETCH_EWT=1 to download it "
                    "(~80 MB from PyPI, under a minute)")
    paths = ewt.fetch_ewt()
    for split, (num_sentences, num_words) in EWT_COUNTS.items():
        sentences = read_conllu(paths[split])
        assert len(sentences) == num_sentences, split
        assert sum(len(sentence) for sentence in sentences) == num_words, split
        assert {tag for sentence in sentences for tag in sentence.upos} == UD1_UPOS, split
        # A UD basic tree has exactly one word attached to the root.
        assert all([token.head for token in sentence.tokens].count(0) == 1 for sentence in sentences), split
