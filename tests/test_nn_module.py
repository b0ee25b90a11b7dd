"""``nn.Module`` mechanics: registration, attribute routing, traversal, modes, ``state_dict``."""

from __future__ import annotations

from collections import OrderedDict

import pytest

import minigrad as mg
import minigrad.nn as nn


class Tagger(nn.Module):
    """The tutorial's model shape, plus a buffer and a container, to exercise the registries."""

    def __init__(self) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(9, 6)
        self.lstm = nn.LSTM(6, 6)
        self.hidden2tag = nn.Linear(6, 3)
        self.register_buffer("counts", mg.zeros(3))
        self.register_buffer("scratch", mg.ones(2), persistent=False)
        self.hidden_dim = 6

    def forward(self, sentence):
        embeds = self.word_embeddings(sentence)
        out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
        return self.hidden2tag(out.view(len(sentence), -1))


TAGGER_KEYS = [
    "counts",
    "word_embeddings.weight",
    "lstm.weight_ih_l0",
    "lstm.weight_hh_l0",
    "lstm.bias_ih_l0",
    "lstm.bias_hh_l0",
    "hidden2tag.weight",
    "hidden2tag.bias",
]


# -- registration and attribute routing ---------------------------------------------------------


def test_assignment_routes_parameters_modules_and_plain_attributes():
    model = Tagger()
    assert list(model._modules) == ["word_embeddings", "lstm", "hidden2tag"]
    assert list(model._buffers) == ["counts", "scratch"]
    assert model.hidden_dim == 6 and "hidden_dim" in model.__dict__
    assert model.hidden2tag.weight is model.hidden2tag._parameters["weight"]
    assert isinstance(model.lstm.weight_ih_l0, nn.Parameter)


def test_getattr_raises_attribute_error_on_unknown_names():
    model = Tagger()
    with pytest.raises(AttributeError, match="'Tagger' object has no attribute 'hiden_dim'"):
        model.hiden_dim
    assert not hasattr(nn.Linear(2, 2), "weights")


def test_parameter_slot_rejects_plain_tensor_and_accepts_none():
    layer = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="cannot assign 'minigrad.FloatTensor' as parameter 'bias'"):
        layer.bias = mg.zeros(3)
    layer.bias = None
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    assert layer(mg.ones(1, 2)).shape == (1, 3)


def test_reassigning_a_name_moves_it_between_registries():
    model = nn.Module()
    model.thing = nn.Linear(1, 1)
    model.thing = nn.Parameter(mg.zeros(2))
    assert "thing" not in model._modules and "thing" in model._parameters
    del model.thing
    assert "thing" not in model._parameters
    with pytest.raises(AttributeError):
        model.thing


def test_assigning_before_init_raises():
    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.zeros(1))

    with pytest.raises(AttributeError, match="cannot assign parameters before Module.__init__\\(\\) call"):
        Early()


def test_register_parameter_rejects_bad_names_and_non_leaves():
    module = nn.Module()
    with pytest.raises(KeyError, match="parameter name can"):
        module.register_parameter("a.b", nn.Parameter(mg.zeros(1)))
    with pytest.raises(TypeError, match="cannot assign 'minigrad.FloatTensor' object to parameter 'w'"):
        module.register_parameter("w", mg.zeros(1))
    module.plain = 3
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        module.register_buffer("plain", mg.zeros(1))


def test_buffer_assignment_accepts_tensors_only():
    model = Tagger()
    model.counts = mg.ones(3)
    assert model.counts.tolist() == [1.0, 1.0, 1.0] and "counts" in model._buffers
    with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'counts'"):
        model.counts = 5


def test_forward_is_required():
    with pytest.raises(NotImplementedError, match='Module \\[Module\\] is missing the required "forward" function'):
        nn.Module()(mg.zeros(1))


def test_call_passes_positional_and_keyword_arguments_to_forward():
    class Affine(nn.Module):
        def forward(self, x, scale=1.0, *, shift=0.0):
            return x * scale + shift

    assert Affine()(mg.tensor([1.0, 2.0]), 3.0, shift=1.0).tolist() == [4.0, 7.0]


# -- traversal ------------------------------------------------------------------------------------


def test_parameters_in_registration_order_with_dotted_names():
    model = Tagger()
    names = [name for name, _ in model.named_parameters()]
    assert names == [k for k in TAGGER_KEYS if k != "counts"]
    assert [p for _, p in model.named_parameters()] == list(model.parameters())
    assert [name for name, _ in model.lstm.named_parameters(prefix="lstm")] == names[1:5]
    assert list(model.parameters(recurse=False)) == []


def test_shared_parameters_and_modules_are_listed_once():
    model = nn.Module()
    shared = nn.Linear(2, 2)
    model.a = shared
    model.b = shared
    assert len(list(model.parameters())) == 2
    assert [name for name, _ in model.named_modules()] == ["", "a"]
    assert len(list(model.children())) == 1
    assert [name for name, _ in model.named_parameters(remove_duplicate=False)] == [
        "a.weight",
        "a.bias",
        "b.weight",
        "b.bias",
    ]


def test_children_modules_and_buffers():
    model = Tagger()
    assert [type(m).__name__ for m in model.children()] == ["Embedding", "LSTM", "Linear"]
    assert [name for name, _ in model.named_modules()] == ["", "word_embeddings", "lstm", "hidden2tag"]
    assert list(model.modules())[0] is model
    assert [name for name, _ in model.named_buffers()] == ["counts", "scratch"]
    assert len(list(model.buffers())) == 2


def test_apply_visits_children_first():
    seen = []
    Tagger().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Embedding", "LSTM", "Linear", "Tagger"]


# -- modes and gradients ----------------------------------------------------------------------------


def test_train_and_eval_propagate_to_children():
    model = Tagger()
    assert model.training and model.lstm.training
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        model.train("yes")


def test_zero_grad_sets_none_or_zeros():
    model = Tagger()
    model(mg.tensor([0, 1, 2], dtype=mg.long)).sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    model.zero_grad(set_to_none=False)
    for p, g in zip(model.parameters(), grads):
        assert p.grad is g and all(v == 0 for v in p.grad.reshape(-1).tolist())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_requires_grad_freezes_parameters():
    model = Tagger()
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    out = model(mg.tensor([1, 2], dtype=mg.long))
    assert not out.requires_grad


def test_double_converts_parameters_in_place():
    layer = nn.Linear(2, 2)
    weight = layer.weight
    layer.double()
    assert layer.weight is weight and weight.dtype is mg.float64
    assert layer(mg.ones(1, 2, dtype=mg.float64)).dtype is mg.float64
    layer.to(mg.float32)
    assert weight.dtype is mg.float32


# -- state_dict -------------------------------------------------------------------------------------


def test_state_dict_keys_are_torchs_and_values_detached():
    model = Tagger()
    state = model.state_dict()
    assert list(state) == TAGGER_KEYS
    assert all(not v.requires_grad for v in state.values())
    # values share storage with the parameters, as in torch
    with mg.no_grad():
        model.hidden2tag.bias.fill_(0.5)
    assert state["hidden2tag.bias"].tolist() == [0.5, 0.5, 0.5]
    assert model.state_dict(keep_vars=True)["hidden2tag.bias"] is model.hidden2tag.bias


def test_state_dict_round_trip_restores_outputs():
    mg.manual_seed(0)
    source = Tagger()
    mg.manual_seed(1)
    target = Tagger()
    sentence = mg.tensor([3, 1, 4, 1, 5], dtype=mg.long)
    assert source(sentence).tolist() != target(sentence).tolist()
    saved = {k: v.clone() for k, v in source.state_dict().items()}
    result = target.load_state_dict(saved)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert source(sentence).tolist() == target(sentence).tolist()
    # loading copies values: changing the dict afterwards leaves the model alone
    with mg.no_grad():
        saved["hidden2tag.bias"].fill_(9.0)
    assert target.hidden2tag.bias.tolist() != [9.0] * 3


def test_load_state_dict_strict_reports_missing_and_unexpected_keys():
    model = Tagger()
    state = model.state_dict()
    del state["lstm.bias_hh_l0"]
    state["lstm.bias_hh_l9"] = mg.zeros(24)
    state["extra"] = mg.zeros(1)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    assert str(info.value) == (
        "Error(s) in loading state_dict for Tagger:\n"
        '\tMissing key(s) in state_dict: "lstm.bias_hh_l0". \n'
        '\tUnexpected key(s) in state_dict: "extra", "lstm.bias_hh_l9". '
    )  # torch 2.13.0's message for the same model and keys (each module reports its own keys)


def test_load_state_dict_non_strict_returns_the_keys():
    model = Tagger()
    state = model.state_dict()
    del state["counts"]
    state["unknown.weight"] = mg.zeros(1)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["counts"]
    assert result.unexpected_keys == ["unknown.weight"]


def test_load_state_dict_rejects_shape_mismatch_even_when_not_strict():
    model = Tagger()
    state = model.state_dict()
    state["hidden2tag.weight"] = mg.zeros(3, 7)
    state["hidden2tag.bias"] = [0.0, 0.0, 0.0]
    for strict in (True, False):
        with pytest.raises(RuntimeError) as info:
            model.load_state_dict(state, strict=strict)
        message = str(info.value)
        assert message.startswith("Error(s) in loading state_dict for Tagger:\n\t")
        assert (
            "size mismatch for hidden2tag.weight: copying a param with shape minigrad.Size([3, 7]) from "
            "checkpoint, the shape in current model is minigrad.Size([3, 6])."
        ) in message
        assert (
            'While copying the parameter named "hidden2tag.bias", expected torch.Tensor or Tensor-like object '
            "from checkpoint but received <class 'list'>"
        ) in message
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        model.load_state_dict([("counts", mg.zeros(3))])


def test_loads_a_torch_state_dict_converted_to_minigrad():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    t_lstm = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    converted = OrderedDict((k, mg.tensor(v.tolist())) for k, v in t_lstm.state_dict().items())
    m_lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    assert list(m_lstm.state_dict()) == list(converted)
    assert repr(m_lstm.load_state_dict(converted)) == "<All keys matched successfully>"
    for name, value in t_lstm.state_dict().items():
        assert m_lstm.state_dict()[name].tolist() == value.tolist()


def test_state_dict_keys_match_torch_for_nested_containers():
    torch = pytest.importorskip("torch")

    def build(lib):
        return lib.nn.Sequential(
            lib.nn.Embedding(5, 3, padding_idx=0),
            lib.nn.ModuleList([lib.nn.Linear(3, 3), lib.nn.LSTMCell(3, 2)]),
            lib.nn.Dropout(0.1),
            lib.nn.CrossEntropyLoss(weight=lib.ones(3)),
        )

    assert list(build(mg).state_dict()) == list(build(torch).state_dict())


# -- repr ---------------------------------------------------------------------------------------------


def test_repr_like_torch_without_torch():
    # expected strings are torch 2.13.0's reprs of the same modules
    assert repr(nn.LSTM(6, 6)) == "LSTM(6, 6)"
    assert repr(nn.Linear(6, 3)) == "Linear(in_features=6, out_features=3, bias=True)"
    assert repr(Tagger()) == (
        "Tagger(\n"
        "  (word_embeddings): Embedding(9, 6)\n"
        "  (lstm): LSTM(6, 6)\n"
        "  (hidden2tag): Linear(in_features=6, out_features=3, bias=True)\n"
        ")"
    )


@pytest.mark.parametrize(
    "build",
    [
        lambda lib: lib.nn.LSTM(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True),
        lambda lib: lib.nn.LSTMCell(3, 4, bias=False),
        lambda lib: lib.nn.Embedding(10, 3, padding_idx=2),
        lambda lib: lib.nn.Linear(2, 5, bias=False),
        lambda lib: lib.nn.Dropout(0.2),
        lambda lib: lib.nn.NLLLoss(),
        lambda lib: lib.nn.CrossEntropyLoss(label_smoothing=0.1),
        lambda lib: lib.nn.ModuleList([lib.nn.Linear(2, 2) for _ in range(3)] + [lib.nn.LSTM(2, 2)]),
        lambda lib: lib.nn.ModuleList(),
        lambda lib: lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.Sequential(lib.nn.Dropout(), lib.nn.Linear(3, 1))),
    ],
)
def test_repr_matches_torch(build):
    torch = pytest.importorskip("torch")
    assert repr(build(mg)) == repr(build(torch))


def test_parameter_repr_and_storage_sharing():
    data = mg.tensor([1.0, 2.0])
    param = nn.Parameter(data)
    assert repr(param) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    with mg.no_grad():
        param.mul_(2)
    assert data.tolist() == [2.0, 4.0]
    assert not nn.Parameter(mg.zeros(1), requires_grad=False).requires_grad
    with pytest.raises(TypeError, match="must be Tensor"):
        nn.Parameter([1.0])


# -- containers -------------------------------------------------------------------------------------


def test_sequential_chains_and_indexes():
    mg.manual_seed(0)
    first, second = nn.Linear(2, 3), nn.Linear(3, 1)
    seq = nn.Sequential(first, second)
    x = mg.ones(4, 2)
    assert seq(x).tolist() == second(first(x)).tolist()
    assert seq[0] is first and seq[-1] is second and len(seq) == 2
    assert list(seq[1:]) == [second]
    assert list(seq) == [first, second]
    with pytest.raises(IndexError, match="index 2 is out of range"):
        seq[2]
    named = nn.Sequential(OrderedDict([("enc", first), ("dec", second)]))
    assert [name for name, _ in named.named_children()] == ["enc", "dec"]
    seq.append(nn.Dropout(0.0))
    del seq[0]
    assert [name for name, _ in seq.named_children()] == ["0", "1"] and seq[0] is second


def test_module_list_registers_and_renumbers():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    layers.append(nn.Linear(2, 1))
    layers.insert(0, nn.Dropout())
    assert len(layers) == 4 and isinstance(layers[0], nn.Dropout)
    assert [name for name, _ in layers.named_parameters()] == [
        "1.weight",
        "1.bias",
        "2.weight",
        "2.bias",
        "3.weight",
        "3.bias",
    ]
    del layers[0]
    assert [name for name, _ in layers.named_children()] == ["0", "1", "2"]
    layers += [nn.Linear(1, 1)]
    assert len(layers) == 4 and isinstance(layers[1:], nn.ModuleList)
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        layers.extend(nn.Linear(1, 1))
