"""A trained tagger on disk: one safetensors file plus a JSON sidecar.

``model.safetensors`` is the whole checkpoint: the weights (``model.state_dict()``) and, in its
``__metadata__`` under ``"minigrad_tagger"``, a JSON string with the format version, the model
configuration and the three vocabularies. It is written atomically by ``minigrad.save``, so a
crash mid-save leaves the previous checkpoint; PyTorch opens it with
``safetensors.torch.load_file``.

``model.json`` (the same name, ``.json``) is for people and tools: the configuration, the tag set,
the vocabulary sizes, the training history and the sha256 of the weights file it describes.
Loading needs only the safetensors file; when the sidecar is there, loading checks the weights
file against its sha256 and refuses a file that does not match (corrupt, or replaced without its
sidecar).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import minigrad as mg
from minigrad._atomic import atomic_write
from minigrad.nn.utils import skip_init
from minigrad.serialization import load_with_metadata
from tagger.data import Vocabularies
from tagger.model import Tagger, TaggerConfig

FORMAT = "minigrad-pos-tagger/1"
METADATA_KEY = "minigrad_tagger"


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    return Path(path).with_suffix(".json")


def save_checkpoint(path: str | os.PathLike[str], model: Tagger, vocabs: Vocabularies,
                    info: dict[str, Any] | None = None) -> None:
    """Write the model and its vocabularies to ``path`` and the sidecar next to it."""
    path = Path(path)
    header = {"format": FORMAT, "config": model.config.to_dict(), "vocabularies": vocabs.to_dict()}
    mg.save(model.state_dict(), path, metadata={METADATA_KEY: json.dumps(header, ensure_ascii=False)})
    sidecar = {
        "format": FORMAT,
        "weights": path.name,
        "weights_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "config": model.config.to_dict(),
        "tags": vocabs.tags.tokens,
        "vocabulary_sizes": {"words": len(vocabs.words), "chars": len(vocabs.chars), "tags": len(vocabs.tags)},
        "training": info or {},
    }
    with atomic_write(sidecar_path(path), "w", encoding="utf-8") as file:
        file.write(json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n")


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[Tagger, Vocabularies]:
    """The model (in eval mode) and vocabularies saved at ``path``. A file that is not a
    tagger checkpoint, or one that does not match its sidecar's sha256, raises ``ValueError``
    saying why."""
    state, metadata = load_with_metadata(path)
    _check_sidecar_sha256(Path(path))
    if METADATA_KEY not in metadata:
        raise ValueError(f"{path}: a safetensors file, but not a minigrad POS tagger checkpoint "
                         f"(its metadata has no {METADATA_KEY!r} entry)")
    try:
        header = json.loads(metadata[METADATA_KEY])
        if header["format"] != FORMAT:
            raise ValueError(f"{path}: checkpoint format {header['format']!r}, this tagger reads {FORMAT!r}")
        config = TaggerConfig(**header["config"])
        vocabs = Vocabularies.from_dict(header["vocabularies"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: damaged tagger metadata ({type(exc).__name__}: {exc})") from None
    model = skip_init(Tagger, vocabs, config)  # no initial weights drawn: the state sets them all
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{path}: the weights do not fit the model the metadata describes: {exc}") from None
    model.eval()
    return model, vocabs


def _check_sidecar_sha256(path: Path) -> None:
    """The weights file must have the sha256 its sidecar records (when there is a sidecar)."""
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        return
    try:
        expected = json.loads(sidecar.read_text(encoding="utf-8"))["weights_sha256"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{sidecar}: damaged sidecar ({type(exc).__name__}: {exc}); delete it to load "
                         f"{path.name} unchecked") from None
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        raise ValueError(f"{path}: the file's sha256 does not match the one recorded in {sidecar.name}: the "
                         "checkpoint is corrupt or was replaced; restore it or train again")
