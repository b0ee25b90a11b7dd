"""Universal Dependencies English-EWT (release 1.2), fetched at run time into a cache.

The gold-tagged treebank ships inside the PyPI wheel ``decomp==0.3.2`` (the Universal
Decompositional Semantics toolkit) as one JSON file of graphs per split. ``fetch_ewt``
downloads the wheel with pip, checks its sha256, converts the three splits to CoNLL-U and
caches them; later calls just return the cached paths.

A UDS graph (networkx "adjacency data") has parallel lists ``nodes`` and ``adjacency``:
``adjacency[i]`` lists the edges leaving ``nodes[i]``. The sentence's words are the nodes with
``domain == "syntax"`` and ``type == "token"``, ordered by their 1-based ``position``; each
carries ``form``, ``lemma``, ``upos``, ``xpos`` and its UD features as extra keys
(``"Number": "Sing"``). A syntax edge ``head -> dependent`` carries the ``deprel``; edges from
the ``root`` node (position 0) mark the sentence's root.

The annotations are CC BY-SA 4.0: Silveira et al. (2014), "A Gold Standard Dependency Corpus
for English", LREC; the texts come from the LDC English Web Treebank.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from minigrad.data.conllu import Sentence, Token, write_conllu

__all__ = [
    "SPLITS",
    "convert_wheel",
    "default_cache_dir",
    "download_wheel",
    "fetch_ewt",
    "find_conllu_splits",
    "iter_uds_graphs",
    "uds_document_to_sentences",
    "uds_graph_to_sentence",
    "verify_sha256",
]

SPLITS = ("train", "dev", "test")
WHEEL_REQUIREMENT = "decomp==0.3.2"
WHEEL_NAME = "decomp-0.3.2-py3-none-any.whl"
WHEEL_SHA256 = "f93dd0e893d4e726ce71da12e8793170a525184766acb34bd749dbac1a073079"
MEMBER_TEMPLATE = "decomp/data/2.0/normalized/sentence/uds-ewt-sentences-{split}-normalized.json"
CONLLU_TEMPLATE = "en_ewt-ud-{split}.conllu"

_GRAPH_NAME = re.compile(r"ewt-(train|dev|test)-([0-9]+)")
_NODE_FIELDS = {"domain", "type", "position", "form", "lemma", "upos", "xpos", "id"}


def default_cache_dir() -> Path:
    """``$MINIGRAD_DATA/ud-ewt`` if that variable is set, else ``~/.cache/minigrad/ud-ewt``."""
    root = os.environ.get("MINIGRAD_DATA")
    base = Path(root) if root else Path.home() / ".cache" / "minigrad"
    return base / "ud-ewt"


def _tell(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fetch_ewt(cache_dir: str | os.PathLike[str] | None = None,
              log: Callable[[str], None] | None = _tell) -> dict[str, Path]:
    """Paths of the train/dev/test CoNLL-U files, downloading and converting them on the first
    call (about 80 MB from PyPI; needs pip and network access). ``log`` (stderr by default;
    ``None`` for silence) hears what is being fetched and converted."""
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    paths = {split: cache / CONLLU_TEMPLATE.format(split=split) for split in SPLITS}
    if all(path.is_file() for path in paths.values()):
        return paths
    log = log or (lambda message: None)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="decomp-wheel-") as download_dir:
        log(f"UD English-EWT is not in {cache} yet: downloading the {WHEEL_REQUIREMENT} wheel "
            "(about 80 MB) from PyPI with pip, which carries it")
        wheel = download_wheel(Path(download_dir))
        return convert_wheel(wheel, cache, log)


def download_wheel(directory: Path) -> Path:
    """``pip download`` the decomp wheel (it requires Python 3.12, so it is downloaded for that
    version without being installed) into ``directory``."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--python-version", "3.12",
               "--only-binary=:all:", "-d", str(directory), WHEEL_REQUIREMENT]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    wheel = directory / WHEEL_NAME
    if result.returncode != 0 or not wheel.is_file():
        raise RuntimeError(f"could not download {WHEEL_REQUIREMENT} with pip "
                           f"(exit code {result.returncode}):\n{result.stderr.strip()[-2000:]}")
    return wheel


def verify_sha256(path: Path, expected: str) -> None:
    """Raise ``ValueError`` unless the file's sha256 is ``expected``."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise ValueError(f"{path}: sha256 mismatch: expected {expected}, got {digest.hexdigest()} "
                         "(corrupted download or a different file)")


def convert_wheel(wheel: Path, cache: Path, log: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Check the wheel's sha256, then write each split's CoNLL-U file into ``cache``.

    The splits' JSON (the train split is 221 MB, some 1.5 GB as Python objects) is read one
    sentence graph at a time (``iter_uds_graphs``), so only the converted sentences stay in memory.
    """
    log = log or (lambda message: None)
    verify_sha256(wheel, WHEEL_SHA256)
    paths = {}
    with zipfile.ZipFile(wheel) as archive:
        for split in SPLITS:
            with archive.open(MEMBER_TEMPLATE.format(split=split)) as member:
                sentences = _sentences_in_order(iter_uds_graphs(member), split)
            paths[split] = cache / CONLLU_TEMPLATE.format(split=split)
            write_conllu(sentences, paths[split])
            log(f"converted the {split} split: {len(sentences)} sentences -> {paths[split]}")
    return paths


def iter_uds_graphs(stream: IO[bytes], chunk_size: int = 1 << 20) -> Iterator[tuple[str, Any]]:
    """The ``(name, graph)`` pairs of a UDS JSON file (``{"metadata": ..., "data": {name: graph}}``),
    decoded one graph at a time from ``stream`` (UTF-8 bytes) rather than as one document."""
    reader = _JsonReader(stream, chunk_size)
    reader.expect("{")
    while not reader.next_is("}"):
        key = reader.value()
        reader.expect(":")
        if key == "data":
            reader.expect("{")
            while not reader.next_is("}"):
                name = reader.value()
                reader.expect(":")
                yield name, reader.value()
                reader.next_is(",")
        else:
            reader.value()  # the metadata: small, and not needed
        reader.next_is(",")


class _JsonReader:
    """Just enough of an incremental JSON reader for ``iter_uds_graphs``: punctuation and whole
    values, from a text buffer refilled in chunks as a value needs more."""

    _decoder = json.JSONDecoder()

    def __init__(self, stream: IO[bytes], chunk_size: int) -> None:
        self._chunks = iter(lambda: stream.read(chunk_size), b"")
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._text = ""
        self._at = 0

    def _more(self) -> bool:
        chunk = next(self._chunks, None)
        if chunk is None:
            return False
        self._text = self._text[self._at :] + self._utf8.decode(chunk)
        self._at = 0
        return True

    def _skip_space(self) -> None:
        while True:
            while self._at < len(self._text) and self._text[self._at] in " \t\r\n":
                self._at += 1
            if self._at < len(self._text) or not self._more():
                return

    def next_is(self, char: str) -> bool:
        """Consume ``char`` if it comes next (after whitespace)."""
        self._skip_space()
        if self._text.startswith(char, self._at):
            self._at += 1
            return True
        return False

    def expect(self, char: str) -> None:
        if not self.next_is(char):
            raise ValueError(f"malformed UDS JSON: expected {char!r} at {self._text[self._at : self._at + 40]!r}")

    def value(self) -> Any:
        self._skip_space()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._text, self._at)
            except json.JSONDecodeError:
                if not self._more():
                    raise ValueError("malformed UDS JSON: the file ends inside a value") from None
                continue
            if end == len(self._text) and self._more():  # a number may go on in the next chunk
                continue
            self._at = end
            return value


def uds_document_to_sentences(document: Mapping[str, Any], split: str) -> list[Sentence]:
    """The sentences of a UDS JSON document (``{"data": {name: graph}}``), in corpus order:
    graph ``ewt-<split>-<n>`` comes at place ``n``."""
    return _sentences_in_order(document["data"].items(), split)


def _sentences_in_order(graphs: Iterator[tuple[str, Any]] | Any, split: str) -> list[Sentence]:
    numbered = []
    for name, graph in graphs:
        match = _GRAPH_NAME.fullmatch(name)
        if match is None or match.group(1) != split:
            raise ValueError(f"unexpected graph name {name!r} in the {split} split")
        numbered.append((int(match.group(2)), uds_graph_to_sentence(name, graph)))
    numbered.sort(key=lambda item: item[0])
    return [sentence for _, sentence in numbered]


def uds_graph_to_sentence(name: str, graph: Mapping[str, Any]) -> Sentence:
    """One UDS sentence graph as a CoNLL-U sentence (``# sent_id = <name>``).

    FEATS joins the UD feature keys of a token node as ``Key=Value|...`` sorted
    case-insensitively (the UD convention). HEAD and DEPREL come from the syntax edge that
    enters the token, ``_`` if there is none. The raw text (``# text``) is not recoverable:
    the graphs do not record where the spaces were.
    """
    nodes = graph["nodes"]
    word_nodes = sorted((node for node in nodes if node.get("domain") == "syntax" and node.get("type") == "token"),
                        key=lambda node: node["position"])
    positions = [node["position"] for node in word_nodes]
    if positions != list(range(1, len(word_nodes) + 1)):
        raise ValueError(f"graph {name!r}: token positions are not 1..{len(word_nodes)}: {positions}")
    heads = _syntax_heads(name, nodes, graph["adjacency"])
    tokens = []
    for node in word_nodes:
        head, deprel = heads.get(node["id"], (None, "_"))
        tokens.append(Token(id=node["position"], form=node["form"], lemma=node["lemma"], upos=node["upos"],
                            xpos=node["xpos"], feats=_feats(node), head=head, deprel=deprel))
    return Sentence(tokens, comments=[f"sent_id = {name}"])


def _feats(node: Mapping[str, Any]) -> str:
    features = {key: value for key, value in node.items()
                if key not in _NODE_FIELDS and key[:1].isupper() and isinstance(value, str)}
    if not features:
        return "_"
    return "|".join(f"{key}={features[key]}" for key in sorted(features, key=str.lower))


def _syntax_heads(name: str, nodes: list[Mapping[str, Any]],
                  adjacency: list[list[Mapping[str, Any]]]) -> dict[str, tuple[int, str]]:
    """Map each dependent's node id to (head position, deprel), the root node being 0."""
    heads: dict[str, tuple[int, str]] = {}
    for source, edges in zip(nodes, adjacency):
        if source.get("domain") not in ("syntax", "root"):
            continue
        for edge in edges:
            if edge.get("domain") != "syntax" or "deprel" not in edge:
                continue
            if edge["id"] in heads:
                raise ValueError(f"graph {name!r}: token {edge['id']!r} has two syntactic heads")
            heads[edge["id"]] = (source["position"], edge["deprel"])
    return heads


def find_conllu_splits(directory: str | os.PathLike[str]) -> dict[str, Path]:
    """The train/dev/test ``.conllu`` files of a directory, found by name (a file whose name
    contains ``train``, ``dev`` or ``test``), e.g. a UD release's ``en_ewt-ud-train.conllu``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} is not a directory")
    files = sorted(directory.glob("*.conllu"))
    paths = {}
    for split in SPLITS:
        matches = [path for path in files if split in path.name]
        if not matches:
            raise FileNotFoundError(f"{directory}: no .conllu file with {split!r} in its name")
        if len(matches) > 1:
            raise ValueError(f"{directory}: several .conllu files match {split!r}: "
                             f"{', '.join(path.name for path in matches)}")
        paths[split] = matches[0]
    return paths
