"""A part-of-speech tagger (UPOS) trained with minigrad: word + char-CNN BiLSTM, optional CRF.

    python examples/pos_tagger.py train --model /work/models/tagger.safetensors
    python examples/pos_tagger.py eval  --model /work/models/tagger.safetensors
    echo "The old man the boats ." | python examples/pos_tagger.py tag --model ...

Without ``--train``/``--dev``/``--data`` the UD English-EWT treebank is used (fetched once
into ``~/.cache/minigrad/ud-ewt`` from the ``decomp==0.3.2`` wheel); ``--data-dir`` takes any
UD treebank directory (``*train*.conllu``, ``*dev*.conllu``, ``*test*.conllu``), and the
file options take any CoNLL-U files. ``tag`` reads one whitespace-tokenised sentence per line
and prints each batch as soon as it is tagged.

Options are checked when parsed; a missing or damaged model, an unreadable file or undecodable
input ends with one line on stderr saying what is wrong (exit status 1), and a closed output pipe
(``| head -1``) ends quietly.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tagger.checkpoint import load_checkpoint
from tagger.data import Vocabularies
from tagger.evaluation import score, tag_sentences
from tagger.model import Tagger, TaggerConfig
from tagger.train import TrainOptions, load_resume, peak_rss_mb, resume_path, train

import minigrad as mg
from minigrad.data import fetch_ewt, find_conllu_splits, read_conllu
from minigrad.nn.utils.crf import DECODERS


def split_path(args: argparse.Namespace, split: str, explicit: str | None) -> Path:
    """The CoNLL-U file of a split: an explicit file, else ``--data-dir``, else EWT."""
    if explicit:
        return Path(explicit)
    if args.data_dir:
        return find_conllu_splits(args.data_dir)[split]
    return fetch_ewt()[split]


def command_train(args: argparse.Namespace) -> None:
    train_set = read_conllu(split_path(args, "train", args.train))
    dev_set = read_conllu(split_path(args, "dev", args.dev))
    if args.max_sentences:
        train_set = train_set[: args.max_sentences]
    mg.manual_seed(args.seed)
    config = TaggerConfig(word_dim=args.word_dim, char_dim=args.char_dim, char_features=args.char_features,
                          hidden=args.hidden, layers=args.layers, dropout=args.dropout, crf=args.crf,
                          token_loss=args.token_loss)
    resumed = None
    state_file = resume_path(Path(args.model))
    if args.resume and state_file.exists():
        model, vocabs, resumed = load_resume(state_file)
        if model.config != config:
            print(f"resuming with the saved configuration {model.config}, not the command line's {config}")
    else:
        if args.resume:
            print(f"no {state_file} to resume from: starting afresh")
        vocabs = Vocabularies.build(train_set, min_freq=args.min_freq)
        model = Tagger(vocabs, config)
    mg.set_num_threads(args.threads)
    print(f"minigrad backend {mg.backend}, {args.threads} thread(s); {len(train_set)} training sentences "
          f"({sum(len(s) for s in train_set)} tokens), {len(dev_set)} dev; vocabularies: {len(vocabs.words)} words, "
          f"{len(vocabs.chars)} chars, {len(vocabs.tags)} tags; {sum(p.numel() for p in model.parameters())} "
          f"parameters; {model.config}", flush=True)
    options = TrainOptions(model_path=Path(args.model), epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                           optimizer=args.optimizer, seed=args.seed, patience=args.patience,
                           log_every=args.log_every)
    # The corpus, the vocabularies and the model are some 270,000 Python objects that live to the
    # end: frozen, they are left out of the garbage collector's full passes, which the objects
    # each training step makes and frees set off now and then (one pass walked them all in 0.2 s).
    gc.freeze()
    train(model, vocabs, train_set, dev_set, options, log=lambda line: print(line, flush=True), resumed=resumed)


def command_eval(args: argparse.Namespace) -> None:
    model, vocabs = load_checkpoint(args.model)
    sentences = read_conllu(split_path(args, "test", args.data))
    started = time.perf_counter()
    predicted = tag_sentences(model, vocabs, [s.words for s in sentences], args.batch_size, args.decoder)
    seconds = time.perf_counter() - started
    report = score([s.upos for s in sentences], predicted)
    print(report.table())
    print(f"tagged {report.tokens} tokens in {seconds:.1f}s ({report.tokens / seconds:.0f} tok/s); "
          f"peak RSS {peak_rss_mb():.0f} MiB")


def command_tag(args: argparse.Namespace) -> None:
    model, vocabs = load_checkpoint(args.model)
    lines: list[list[str]] = []
    raw = getattr(sys.stdin, "buffer", None)  # UTF-8 whatever the locale, undecodable bytes refused
    stream = io.TextIOWrapper(raw, encoding="utf-8") if raw is not None else sys.stdin
    for line in stream:  # streamed: each batch of sentences is printed once it is tagged
        lines.append(line.split())
        if sum(1 for words in lines if words) == args.batch_size:
            _print_tagged(model, vocabs, lines, args)
            lines = []
    _print_tagged(model, vocabs, lines, args)


def _print_tagged(model: Tagger, vocabs: Vocabularies, lines: list[list[str]], args: argparse.Namespace) -> None:
    sentences = [words for words in lines if words]
    tags = iter(tag_sentences(model, vocabs, sentences, args.batch_size, args.decoder) if sentences else [])
    for words in lines:
        print(" ".join(f"{w}/{t}" for w, t in zip(words, next(tags))) if words else "")
    sys.stdout.flush()


def _checked(kind: type, minimum: float, inclusive: bool = True, maximum: float | None = None) -> Callable:
    """An argparse type: a number of ``kind`` at least (or above) ``minimum`` and below ``maximum``."""
    def convert(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        if value != value or (value < minimum if inclusive else value <= minimum) or (
                maximum is not None and value >= maximum):
            bound = f">= {minimum}" if inclusive else f"> {minimum}"
            upper = f" and < {maximum}" if maximum is not None else ""
            raise argparse.ArgumentTypeError(f"must be {bound}{upper}, got {text}")
        return value

    convert.__name__ = kind.__name__
    return convert


POSITIVE = _checked(int, 1)
NON_NEGATIVE = _checked(int, 0)


def parser() -> argparse.ArgumentParser:
    formatter = argparse.ArgumentDefaultsHelpFormatter
    main = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=formatter)
    commands = main.add_subparsers(dest="command", required=True)

    def data_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", help="a UD treebank directory with train/dev/test .conllu files")

    def decoder_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--decoder", choices=DECODERS, default="viterbi",
                       help="how a CRF model picks tags: the best sequence (viterbi) or each word's most probable "
                            "tag (posterior); a softmax model always takes each word's best tag")

    t = commands.add_parser("train", help="train a tagger, keeping the best model on dev", formatter_class=formatter)
    t.add_argument("--model", required=True, help="checkpoint path (.safetensors); a .json sidecar goes next to it")
    data_options(t)
    t.add_argument("--train", help="training CoNLL-U file")
    t.add_argument("--dev", help="development CoNLL-U file (early stopping)")
    t.add_argument("--crf", action="store_true", help="a linear-chain CRF on top of the BiLSTM")
    t.add_argument("--token-loss", type=_checked(float, 0.0), default=0.0,
                   help="with --crf: add this weight times the per-word cross-entropy of the emission scores to the "
                        "CRF's loss")
    t.add_argument("--epochs", type=POSITIVE, default=10, help="passes over the training set")
    t.add_argument("--batch-size", type=POSITIVE, default=64, help="sentences per training step")
    t.add_argument("--lr", type=_checked(float, 0.0, inclusive=False), default=1e-2, help="learning rate")
    t.add_argument("--optimizer", choices=["adam", "sgd"], default="adam", help="optimizer")
    t.add_argument("--seed", type=int, default=1, help="seed of the weights and of the batch order")
    t.add_argument("--patience", type=POSITIVE, default=3, help="stop after this many epochs without dev improvement")
    t.add_argument("--log-every", type=POSITIVE, default=50, help="a progress line every N batches")
    t.add_argument("--resume", action="store_true", help="continue from <model>.resume.safetensors")
    t.add_argument("--max-sentences", type=POSITIVE, help="train on the first N sentences only (quick runs)")
    t.add_argument("--threads", type=POSITIVE, default=1,
                   help="threads for the Cython core's matrix products (minigrad.set_num_threads)")
    defaults = TaggerConfig()
    t.add_argument("--word-dim", type=POSITIVE, default=defaults.word_dim, help="word embedding size")
    t.add_argument("--char-dim", type=POSITIVE, default=defaults.char_dim, help="character embedding size")
    t.add_argument("--char-features", type=POSITIVE, default=defaults.char_features,
                   help="character CNN filters")
    t.add_argument("--hidden", type=POSITIVE, default=defaults.hidden, help="LSTM units per direction")
    t.add_argument("--layers", type=POSITIVE, default=defaults.layers, help="stacked BiLSTM layers")
    t.add_argument("--dropout", type=_checked(float, 0.0, maximum=1.0), default=defaults.dropout,
                   help="dropout probability")
    t.add_argument("--min-freq", type=POSITIVE, default=2, help="rarer training words share the <unk> embedding")
    t.set_defaults(handler=command_train)

    e = commands.add_parser("eval", help="accuracy and per-tag precision/recall on a CoNLL-U file",
                            formatter_class=formatter)
    e.add_argument("--model", required=True, help="checkpoint written by train")
    data_options(e)
    e.add_argument("--data", help="CoNLL-U file to score (default: the test split)")
    e.add_argument("--batch-size", type=POSITIVE, default=64, help="sentences tagged at once")
    decoder_option(e)
    e.set_defaults(handler=command_eval)

    g = commands.add_parser("tag", help="tag sentences read from stdin, one per line, printing word/TAG",
                            formatter_class=formatter)
    g.add_argument("--model", required=True, help="checkpoint written by train")
    g.add_argument("--batch-size", type=POSITIVE, default=64, help="sentences tagged (and printed) at once")
    decoder_option(g)
    g.set_defaults(handler=command_tag)
    return main


def main(argv: list[str] | None = None) -> None:
    """Run a command; a problem with the user's files or input exits with one line on stderr."""
    args = parser().parse_args(argv)
    if args.command == "train" and args.token_loss and not args.crf:
        parser().error("--token-loss adds to a CRF's loss: use it with --crf")
    try:
        args.handler(args)
    except BrokenPipeError:  # the reader went away (| head): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # (nothing more to flush)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(_fail("interrupted"))
    except UnicodeDecodeError as exc:
        sys.exit(_fail(f"the input is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at position "
                       f"{exc.start}): convert it to UTF-8 first"))
    except (ValueError, OSError) as exc:
        sys.exit(_fail(_explain(exc, args)))


def _explain(exc: Exception, args: argparse.Namespace) -> str:
    """One line saying what went wrong and what to do."""
    model = getattr(args, "model", None)
    names_model = model is not None and getattr(exc, "filename", None) is not None and Path(exc.filename) == Path(model)
    if isinstance(exc, OSError) and names_model:
        what = "does not exist" if isinstance(exc, FileNotFoundError) else (
            "is a directory" if isinstance(exc, IsADirectoryError) else f"cannot be read ({exc.strerror})")
        todo = "give the path of a .safetensors checkpoint" if args.command != "train" else "choose another path"
        return f"the model {model} {what}: {todo} (train one with: pos_tagger.py train --model PATH)"
    if isinstance(exc, OSError):
        return f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")
    return f"{exc}".splitlines()[0]


def _fail(message: str) -> int:
    print(f"pos_tagger.py: error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    main()
