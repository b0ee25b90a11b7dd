"""The training loop: mini-batches, an optimizer, dev accuracy per epoch, early stopping, and
durable progress.

After every epoch two files are written, each atomically:

* ``<model>.safetensors`` (+ ``.json`` sidecar) when the dev accuracy is the best so far: the
  checkpoint ``eval`` and ``tag`` use;
* ``<model>.resume.safetensors``: the latest model, its configuration and vocabularies, the
  optimizer's state, both random generators and the history, so that ``train --resume``
  continues after the last finished epoch as if it had never stopped.

Only one batch's graph is alive at a time: the loss is read with ``.item()`` and every tensor of
the step goes out of scope before the next batch is built.
"""

from __future__ import annotations

import base64
import json
import random
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import minigrad as mg
from minigrad.data import Sentence
from minigrad.optim import SGD, Adam, Optimizer
from minigrad.serialization import load_with_metadata
from tagger.checkpoint import save_checkpoint
from tagger.data import Vocabularies, training_batches
from tagger.evaluation import score, tag_sentences
from tagger.model import Tagger, TaggerConfig

RESUME_KEY = "minigrad_tagger_resume"


@dataclass
class TrainOptions:
    model_path: Path
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-2
    optimizer: str = "adam"
    seed: int = 1
    patience: int = 3
    log_every: int = 50


@dataclass
class Progress:
    """What survives an interrupted run (saved in the resume file)."""

    epoch: int = 0  # last finished epoch
    best_dev: float = -1.0
    best_epoch: int = 0
    bad_epochs: int = 0
    train_seconds: float = 0.0
    train_tokens: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


def make_optimizer(name: str, params: Any, lr: float) -> Optimizer:
    if name == "adam":
        return Adam(params, lr=lr, betas=(0.9, 0.9))
    if name == "sgd":
        return SGD(params, lr=lr, momentum=0.9)
    raise ValueError(f"unknown optimizer {name!r} (expected 'adam' or 'sgd')")


def peak_rss_mb() -> float:
    """The process's peak resident set size in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def train(model: Tagger, vocabs: Vocabularies, train_set: Sequence[Sentence], dev_set: Sequence[Sentence],
          options: TrainOptions, log: Callable[[str], None] = print, resumed: ResumeState | None = None) -> Progress:
    """Train ``model`` and keep the best-on-dev checkpoint at ``options.model_path``;
    ``resumed`` (from ``load_resume``) continues an interrupted run."""
    optimizer = make_optimizer(options.optimizer, model.parameters(), options.lr)
    Path(options.model_path).parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(options.seed)
    progress = Progress()
    if resumed is not None:
        optimizer.load_state_dict(resumed.optimizer_state)
        rng.setstate(resumed.python_rng)
        mg.set_rng_state(resumed.minigrad_rng)
        progress = resumed.progress
        log(f"resumed after epoch {progress.epoch} (best dev {progress.best_dev:.4f} at epoch {progress.best_epoch})")
    dev_words = [s.words for s in dev_set]
    dev_gold = [s.upos for s in dev_set]
    num_batches = -(-len(train_set) // options.batch_size)
    while progress.epoch < options.epochs and progress.bad_epochs < options.patience:
        epoch = progress.epoch + 1
        model.train()
        started = time.perf_counter()
        window_loss, window_tokens, window_start = 0.0, 0, started
        epoch_loss, epoch_tokens = 0.0, 0
        for index, batch in enumerate(training_batches(vocabs, train_set, options.batch_size, rng), start=1):
            optimizer.zero_grad()
            loss = model.loss(batch)
            loss.backward()
            optimizer.step()
            value = loss.item() * batch.num_tokens
            del loss
            window_loss += value
            epoch_loss += value
            window_tokens += batch.num_tokens
            epoch_tokens += batch.num_tokens
            if index % options.log_every == 0 or index == num_batches:
                now = time.perf_counter()
                log(f"epoch {epoch} batch {index}/{num_batches}  loss {window_loss / window_tokens:.4f}  "
                    f"{window_tokens / (now - window_start):.0f} tok/s  elapsed {now - started:.0f}s")
                window_loss, window_tokens, window_start = 0.0, 0, now
        seconds = time.perf_counter() - started
        dev_started = time.perf_counter()
        dev_accuracy = score(dev_gold, tag_sentences(model, vocabs, dev_words)).accuracy
        dev_seconds = time.perf_counter() - dev_started
        progress.epoch = epoch
        progress.train_seconds += seconds
        progress.train_tokens += epoch_tokens
        progress.history.append({"epoch": epoch, "train_loss": epoch_loss / epoch_tokens, "dev_accuracy": dev_accuracy,
                                 "train_seconds": round(seconds, 1), "tokens_per_second": round(epoch_tokens / seconds),
                                 "dev_seconds": round(dev_seconds, 1)})
        improved = dev_accuracy > progress.best_dev
        if improved:
            progress.best_dev, progress.best_epoch, progress.bad_epochs = dev_accuracy, epoch, 0
            save_checkpoint(options.model_path, model, vocabs, info=_summary(progress, options))
        else:
            progress.bad_epochs += 1
        log(f"epoch {epoch} done in {seconds:.0f}s ({epoch_tokens / seconds:.0f} tok/s)  train loss "
            f"{epoch_loss / epoch_tokens:.4f}  dev accuracy {dev_accuracy:.4f}"
            f"{'  (best, saved)' if improved else ''}  peak RSS {peak_rss_mb():.0f} MiB")
        save_resume(resume_path(options.model_path), model, vocabs, optimizer, rng, progress)
    if progress.bad_epochs >= options.patience:
        log(f"early stop: no dev improvement for {options.patience} epochs")
    speed = progress.train_tokens / max(progress.train_seconds, 1e-9)
    log(f"best dev accuracy {progress.best_dev:.4f} at epoch {progress.best_epoch}; training "
        f"{progress.train_seconds:.0f}s for {progress.train_tokens} tokens ({speed:.0f} tok/s); "
        f"peak RSS {peak_rss_mb():.0f} MiB")
    return progress


def _summary(progress: Progress, options: TrainOptions) -> dict[str, Any]:
    return {"best_dev_accuracy": progress.best_dev, "best_epoch": progress.best_epoch,
            "train_seconds": round(progress.train_seconds, 1), "train_tokens": progress.train_tokens,
            "optimizer": options.optimizer, "lr": options.lr, "batch_size": options.batch_size,
            "seed": options.seed, "backend": mg.backend, "history": progress.history}


@dataclass
class ResumeState:
    """Everything ``train`` needs to continue an interrupted run where it stopped."""

    progress: Progress
    optimizer_state: dict[str, Any]
    python_rng: tuple
    minigrad_rng: bytes


def resume_path(model_path: Path) -> Path:
    return model_path.with_suffix(".resume.safetensors")


def save_resume(path: Path, model: Tagger, vocabs: Vocabularies, optimizer: Optimizer, rng: random.Random,
                progress: Progress) -> None:
    """Model and optimizer tensors under ``model.`` / ``optimizer.<param>.<name>``; everything
    else (configuration, vocabularies, optimizer hyperparameters, generator states, progress)
    as JSON metadata."""
    tensors = {f"model.{name}": tensor for name, tensor in model.state_dict().items()}
    optimizer_state = optimizer.state_dict()
    plain_state: dict[str, dict[str, Any]] = {}
    for index, values in optimizer_state["state"].items():
        for name, value in values.items():
            if isinstance(value, mg.Tensor):
                tensors[f"optimizer.{index}.{name}"] = value
            else:
                plain_state.setdefault(str(index), {})[name] = value
    header = {
        "config": model.config.to_dict(),
        "vocabularies": vocabs.to_dict(),
        "progress": progress.__dict__,
        "param_groups": optimizer_state["param_groups"],
        "plain_state": plain_state,
        "python_rng": rng.getstate(),
        "minigrad_rng": base64.b64encode(mg.get_rng_state()).decode("ascii"),
    }
    mg.save(tensors, path, metadata={RESUME_KEY: json.dumps(header)})


def load_resume(path: Path) -> tuple[Tagger, Vocabularies, ResumeState]:
    """The model as it was after the last finished epoch, its vocabularies, and the rest of
    the training state."""
    tensors, metadata = load_with_metadata(path)
    if RESUME_KEY not in metadata:
        raise ValueError(f"{path}: not a tagger resume file (no {RESUME_KEY!r} metadata)")
    header = json.loads(metadata[RESUME_KEY])
    vocabs = Vocabularies.from_dict(header["vocabularies"])
    model = Tagger(vocabs, TaggerConfig(**header["config"]))
    model.load_state_dict({name[len("model."):]: t for name, t in tensors.items() if name.startswith("model.")})
    state: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = tensor
    for index, values in header["plain_state"].items():
        state.setdefault(int(index), {}).update(values)
    version, internal, gauss = header["python_rng"]
    return model, vocabs, ResumeState(
        progress=Progress(**header["progress"]),
        optimizer_state={"state": state, "param_groups": header["param_groups"]},
        python_rng=(version, tuple(internal), gauss),
        minigrad_rng=base64.b64decode(header["minigrad_rng"]),
    )
