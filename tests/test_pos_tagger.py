"""The POS tagger example (examples/pos_tagger.py and examples/tagger/): batching by hand,
batched == one sentence at a time, checkpoint round trip and corrupt-file errors, metrics by
hand, and short training runs on the committed EWT fixture (tests/fixtures/ewt-sample.conllu,
CC BY-SA 4.0, see tests/fixtures/NOTICE)."""

import hashlib
import io
import json
import sys
import weakref
from pathlib import Path

import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.data import read_conllu
from minigrad.serialization import load_with_metadata

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

import pos_tagger  # noqa: E402
from tagger.checkpoint import load_checkpoint, save_checkpoint, sidecar_path  # noqa: E402
from tagger.data import IGNORE_INDEX, Vocabularies, make_batch  # noqa: E402
from tagger.evaluation import score, tag_sentences  # noqa: E402
from tagger.model import Tagger, TaggerConfig  # noqa: E402
from tagger.train import TrainOptions, load_resume, resume_path, train  # noqa: E402

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "ewt-sample.conllu"
SMALL = TaggerConfig(word_dim=8, char_dim=4, char_features=6, hidden=5, dropout=0.2)


@pytest.fixture(scope="module")
def sentences():
    return read_conllu(FIXTURE)


@pytest.fixture(scope="module")
def vocabs(sentences):
    return Vocabularies.build(sentences, min_freq=1)


def flat(values):
    return [v for row in values for v in (flat(row) if isinstance(row, list) else [row])]


# -- batching ------------------------------------------------------------------------------------


def test_make_batch_by_hand():
    vocabs = Vocabularies.build([], min_freq=1)
    vocabs.words = mg.data.Vocab(["the", "dog"])
    vocabs.chars = mg.data.Vocab(["<bow>", "<eow>", "a", "b"])  # ids: pad 0, unk 1, <bow> 2, <eow> 3, a 4, b 5
    vocabs.tags = mg.data.Vocab(["DET", "NOUN"], pad=None, unk=None)
    batch = make_batch(vocabs, [["The", "dog", "ab"], ["ab"]], [["DET", "NOUN", "NOUN"], ["NOUN"]])
    # word ids: pad 0, unk 1, the 2, dog 3; lower-cased; "ab" is unknown
    assert batch.words.tolist() == [[2, 1], [3, 0], [1, 0]]
    assert batch.lengths == [3, 1]
    assert batch.tags.tolist() == [[0, 1], [1, IGNORE_INDEX], [1, IGNORE_INDEX]]
    # distinct forms in order of appearance: The, ab, dog; padding positions point at form 0
    assert batch.form_index.tolist() == [0, 1, 2, 0, 1, 0]
    # "ab" = <bow> a b <eow> <pad>, two windows; "The" = <bow> T h e <eow>, T h e unknown
    assert batch.chars.tolist() == [[2, 1, 1, 1, 3], [2, 4, 5, 3, 0], [2, 1, 1, 1, 3]]
    assert batch.window_mask.tolist() == [[True, True, True], [True, True, False], [True, True, True]]
    with pytest.raises(KeyError, match="'VERB' is not in the vocabulary"):  # the tag set has no <unk>
        make_batch(vocabs, [["dog"]], [["VERB"]])


# -- the model: a padded batch == one sentence at a time ------------------------------------------


@pytest.mark.parametrize("crf", [False, True], ids=["softmax", "crf"])
def test_batch_equals_one_sentence_at_a_time(sentences, vocabs, crf):
    mg.manual_seed(0)
    model = Tagger(vocabs, TaggerConfig(**{**SMALL.to_dict(), "crf": crf}))
    model.eval()  # no dropout: the same function of the input every time
    chosen = sentences[:4]
    assert len({len(s) for s in chosen}) > 1, "the sentences must differ in length to exercise padding"
    batch = make_batch(vocabs, [s.words for s in chosen], [s.upos for s in chosen])
    tokens = batch.num_tokens
    batched_scores = model.emissions(batch)
    batched_loss = model.loss(batch)
    batched_loss.backward()
    batched_grads = {name: p.grad.reshape(-1).tolist() for name, p in model.named_parameters()}
    model.zero_grad()

    total_loss = 0.0
    for b, sentence in enumerate(chosen):
        alone = make_batch(vocabs, [sentence.words], [sentence.upos])
        scores = model.emissions(alone)
        assert flat(scores[:, 0].tolist()) == pytest.approx(flat(batched_scores[:len(sentence), b].tolist()),
                                                              abs=1e-6)
        loss = model.loss(alone) * (len(sentence) / tokens)  # per-token means, reweighted
        loss.backward()
        total_loss += loss.item()
    assert batched_loss.item() == pytest.approx(total_loss, rel=1e-5)
    for name, p in model.named_parameters():
        assert batched_grads[name] == pytest.approx(p.grad.reshape(-1).tolist(), rel=1e-4, abs=1e-6), name


def test_token_loss_adds_the_weighted_per_word_cross_entropy_to_the_crf_loss(sentences, vocabs):
    mg.manual_seed(0)
    model = Tagger(vocabs, TaggerConfig(**{**SMALL.to_dict(), "crf": True, "token_loss": 0.5}))
    model.eval()
    chosen = sentences[:4]
    batch = make_batch(vocabs, [s.words for s in chosen], [s.upos for s in chosen])
    scores = model.emissions(batch)
    crf_part = model.crf(scores, batch.tags, batch.lengths, reduction="token_mean").item()
    logp = F.log_softmax(scores, dim=2).tolist()
    tags = batch.tags.tolist()
    real = [(t, b) for b, length in enumerate(batch.lengths) for t in range(length)]
    cross_entropy = -sum(logp[t][b][tags[t][b]] for t, b in real) / len(real)  # by hand, over real words
    assert model.loss(batch).item() == pytest.approx(crf_part + 0.5 * cross_entropy, rel=1e-5)


@pytest.mark.parametrize("decoder", ["viterbi", "posterior"])
def test_crf_decoding_of_a_batch_equals_one_sentence_at_a_time(sentences, vocabs, decoder):
    mg.manual_seed(0)
    model = Tagger(vocabs, TaggerConfig(**{**SMALL.to_dict(), "crf": True}))
    model.eval()
    chosen = sentences[:4]
    with mg.no_grad():
        batched = model.predict(make_batch(vocabs, [s.words for s in chosen], [s.upos for s in chosen]), decoder)
        alone = [model.predict(make_batch(vocabs, [s.words], [s.upos]), decoder)[0] for s in chosen]
    assert batched == alone
    assert [len(tags) for tags in batched] == [len(s) for s in chosen]


def test_a_training_step_frees_its_graph(sentences, vocabs):
    """Only one batch's graph is alive: after backward and the step, nothing holds it."""
    mg.manual_seed(0)
    model = Tagger(vocabs, SMALL)
    batch = make_batch(vocabs, [s.words for s in sentences[:3]], [s.upos for s in sentences[:3]])
    loss = model.loss(batch)
    node = weakref.ref(loss.grad_fn)
    loss.backward()
    del loss
    assert node() is None


# -- metrics ---------------------------------------------------------------------------------------


def test_score_by_hand():
    gold = [["DET", "NOUN", "VERB"], ["NOUN"]]
    predicted = [["DET", "VERB", "VERB"], ["NOUN"]]
    report = score(gold, predicted)
    assert report.accuracy == 3 / 4 and report.tokens == 4
    rows = {row.tag: row for row in report.per_tag}
    # NOUN: gold 2, predicted 1, correct 1 -> precision 1, recall 1/2, F1 2/3
    assert (rows["NOUN"].precision, rows["NOUN"].recall, rows["NOUN"].support) == (1.0, 0.5, 2)
    assert rows["NOUN"].f1 == pytest.approx(2 / 3)
    # VERB: gold 1, predicted 2, correct 1 -> precision 1/2, recall 1
    assert (rows["VERB"].precision, rows["VERB"].recall) == (0.5, 1.0)
    assert "accuracy 0.7500 on 4 tokens" in report.table()


# -- checkpoints -----------------------------------------------------------------------------------


@pytest.fixture()
def saved(tmp_path, vocabs):
    mg.manual_seed(1)
    model = Tagger(vocabs, TaggerConfig(**{**SMALL.to_dict(), "crf": True}))
    path = tmp_path / "tagger.safetensors"
    save_checkpoint(path, model, vocabs, info={"note": "test"})
    return path, model


def test_checkpoint_round_trip_tags_identically(saved, sentences, vocabs):
    path, model = saved
    words = [s.words for s in sentences]
    loaded, loaded_vocabs = load_checkpoint(path)
    assert loaded_vocabs.words == vocabs.words and loaded_vocabs.tags == vocabs.tags
    assert loaded.config == model.config
    assert not loaded.training
    for name, tensor in model.state_dict().items():
        assert loaded.state_dict()[name].tolist() == tensor.tolist(), name
    assert tag_sentences(loaded, loaded_vocabs, words) == tag_sentences(model, vocabs, words)
    sidecar = json.loads(sidecar_path(path).read_text())
    assert sidecar["training"] == {"note": "test"} and sidecar["tags"] == vocabs.tags.tokens
    assert sidecar["weights_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_pytorch_opens_the_checkpoint(saved):
    st_torch = pytest.importorskip("safetensors.torch")
    pytest.importorskip("torch")
    path, model = saved
    tensors = st_torch.load_file(str(path))
    assert set(tensors) == set(model.state_dict())
    assert tensors["crf.transitions"].tolist() == model.crf.transitions.tolist()


def test_truncated_checkpoint_is_rejected(saved):
    path, _ = saved
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        load_checkpoint(path)


def test_foreign_safetensors_file_is_rejected(tmp_path):
    path = tmp_path / "other.safetensors"
    mg.save({"weight": mg.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a minigrad POS tagger checkpoint"):
        load_checkpoint(path)


def test_damaged_metadata_is_rejected(tmp_path):
    path = tmp_path / "bad.safetensors"
    mg.save({"weight": mg.zeros(2)}, path, metadata={"minigrad_tagger": "{not json"})
    with pytest.raises(ValueError, match="damaged tagger metadata"):
        load_checkpoint(path)


def test_weights_that_do_not_fit_the_configuration_are_rejected(saved, tmp_path):
    path, _ = saved
    state, metadata = load_with_metadata(path)
    del state["crf.transitions"]
    broken = tmp_path / "broken.safetensors"
    mg.save(state, broken, metadata=metadata)
    with pytest.raises(ValueError, match="(?s)do not fit the model.*crf.transitions"):
        load_checkpoint(broken)


# -- training --------------------------------------------------------------------------------------


def test_short_training_run_on_the_fixture_lowers_the_loss(tmp_path, sentences, vocabs):
    mg.manual_seed(0)
    model = Tagger(vocabs, SMALL)
    options = TrainOptions(model_path=tmp_path / "m.safetensors", epochs=4, batch_size=4, lr=0.02, log_every=3)
    lines = []
    progress = train(model, vocabs, sentences[:24], sentences[24:], options, log=lines.append)
    losses = [epoch["train_loss"] for epoch in progress.history]
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses
    assert losses[-1] < 0.85 * losses[0], losses
    assert any("loss" in line and "tok/s" in line for line in lines)
    assert options.model_path.exists() and resume_path(options.model_path).exists()


def test_resumed_training_matches_an_uninterrupted_run(tmp_path, sentences, vocabs):
    train_set, dev_set = sentences[:12], sentences[30:]

    def run(path, epochs, resumed=None):
        if resumed is None:
            mg.manual_seed(0)
            model = Tagger(vocabs, SMALL)
        else:
            model, _, resumed = load_resume(resume_path(path))
        options = TrainOptions(model_path=path, epochs=epochs, batch_size=4, lr=0.03, log_every=100)
        return train(model, vocabs, train_set, dev_set, options, log=lambda line: None, resumed=resumed)

    straight = run(tmp_path / "a.safetensors", 3)
    run(tmp_path / "b.safetensors", 2)
    resumed = run(tmp_path / "b.safetensors", 3, resumed=True)

    def strip_times(history):
        return [{k: v for k, v in h.items() if k in ("epoch", "train_loss", "dev_accuracy")} for h in history]

    assert strip_times(resumed.history) == strip_times(straight.history)


def test_command_line_train_eval_and_tag(tmp_path, capsys, monkeypatch):
    model = tmp_path / "cli.safetensors"
    sizes = ["--word-dim", "8", "--char-dim", "4", "--char-features", "6", "--hidden", "5"]
    pos_tagger.main(["train", "--model", str(model), "--train", str(FIXTURE), "--dev", str(FIXTURE),
                     "--epochs", "1", "--batch-size", "10", "--log-every", "2", "--crf", *sizes])
    out = capsys.readouterr().out
    assert "epoch 1 batch 2/4" in out and "dev accuracy" in out and "peak RSS" in out
    for decoder in ("viterbi", "posterior"):
        pos_tagger.main(["eval", "--model", str(model), "--data", str(FIXTURE), "--decoder", decoder])
        out = capsys.readouterr().out
        assert out.splitlines()[0].split() == ["tag", "precision", "recall", "f1", "support"]
        assert "accuracy" in out and "tok/s" in out
    monkeypatch.setattr(sys, "stdin", io.StringIO("The dog barks .\n\nHello\n"))
    pos_tagger.main(["tag", "--model", str(model)])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[1] == ""
    assert [pair.rsplit("/", 1)[0] for pair in lines[0].split()] == ["The", "dog", "barks", "."]
    assert all(pair.rsplit("/", 1)[1] in Vocabularies.build(read_conllu(FIXTURE)).tags for pair in lines[0].split())
