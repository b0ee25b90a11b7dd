"""Module hooks against torch 2.13.0: each scenario runs on both libraries and records what the
hooks saw (names, in call order, with the values of the tensors they received); the records and
the final gradients must be equal. Also removal handles and torch's errors."""

from __future__ import annotations

import pytest

import minigrad as mg
import minigrad.nn as nn

torch = pytest.importorskip("torch")

from conftest import check_raises  # noqa: E402 - needs torch


def _values(x):
    """Tensors (in nested tuples) as rounded lists, so torch's and minigrad's records compare."""
    if isinstance(x, (tuple, list)):
        return tuple(_values(v) for v in x)
    if x is None or isinstance(x, (int, float, str)):
        return x
    return [round(v, 5) for v in x.detach().reshape(-1).tolist()]


def _model(lib):
    """Linear(3, 2) -> Tanh -> Linear(2, 1) with fixed weights."""
    lib.manual_seed(0)
    torch_nn = torch.nn if lib is torch else nn
    model = torch_nn.Sequential(torch_nn.Linear(3, 2), torch_nn.Tanh(), torch_nn.Linear(2, 1))
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(lib.arange(p.numel()).to(p.dtype).reshape(p.shape) * 0.1 - 0.2 * i)
    return model


def _x(lib):
    return lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], requires_grad=True)


def _run(lib, scenario):
    log = []
    model = _model(lib)
    x = _x(lib)
    out = scenario(lib, model, x, log)
    if out is not None and out.requires_grad:
        out.sum().backward()
    grads = [_values(p.grad) for p in model.parameters()]
    return log, _values(x.grad), grads


def _same(scenario):
    t_log, t_xgrad, t_grads = _run(torch, scenario)
    m_log, m_xgrad, m_grads = _run(mg, scenario)
    assert m_log == t_log
    assert m_xgrad == t_xgrad
    assert m_grads == t_grads
    return m_log


def test_forward_hooks_order_and_replacement():
    def scenario(lib, model, x, log):
        first = model[0]
        first.register_forward_pre_hook(lambda m, args: log.append(("pre", _values(args))))
        first.register_forward_pre_hook(lambda m, args: args[0] * 2)  # a bare tensor is wrapped in a tuple
        first.register_forward_pre_hook(lambda m, args: log.append(("pre-first", _values(args))), prepend=True)
        first.register_forward_hook(lambda m, args, out: log.append(("fwd", _values(args), _values(out))))
        first.register_forward_hook(lambda m, args, out: out + 1)
        first.register_forward_hook(lambda m, args, out: log.append(("fwd-first", _values(out))), prepend=True)
        model.register_forward_hook(lambda m, args, out: log.append(("model", _values(out))))
        return model(x)

    log = _same(scenario)
    assert [entry[0] for entry in log] == ["pre-first", "pre", "fwd-first", "fwd", "model"]


def test_forward_hooks_with_kwargs():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    class TorchScale(torch.nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    def scenario(lib, model, x, log):
        module = TorchScale() if lib is torch else Scale()

        def pre(m, args, kwargs):
            log.append(("pre", _values(args), sorted(kwargs.items())))
            return args, {"factor": kwargs["factor"] * 3}

        def post(m, args, kwargs, out):
            log.append(("post", sorted(kwargs.items()), _values(out)))
            return out - 1

        module.register_forward_pre_hook(pre, with_kwargs=True)
        module.register_forward_hook(post, with_kwargs=True)
        return module(x, factor=2.0)

    _same(scenario)


def test_always_call_hook_runs_when_forward_raises():
    def scenario(lib, model, x, log):
        model[0].register_forward_hook(lambda m, a, o: log.append("normal"))
        model[0].register_forward_hook(lambda m, a, o: log.append(("always", o)), always_call=True)
        try:
            model[0](lib.ones(2, 4))  # wrong width: forward raises
        except RuntimeError:
            log.append("raised")
        return None

    assert _same(scenario) == [("always", None), "raised"]


def test_full_backward_hooks():
    def scenario(lib, model, x, log):
        for name, module in [("lin0", model[0]), ("tanh", model[1]), ("lin2", model[2])]:
            module.register_full_backward_pre_hook(
                lambda m, g, name=name: log.append(("bpre-" + name, _values(g)))
            )
            module.register_full_backward_hook(
                lambda m, gi, go, name=name: log.append(("bwd-" + name, _values(gi), _values(go)))
            )
        return model(x)

    log = _same(scenario)
    assert [entry[0] for entry in log] == ["bpre-lin2", "bwd-lin2", "bpre-tanh", "bwd-tanh", "bpre-lin0", "bwd-lin0"]


def test_backward_hooks_replace_gradients():
    def scenario(lib, model, x, log):
        model[1].register_full_backward_pre_hook(lambda m, g: (g[0] * 10,))
        model[1].register_full_backward_hook(lambda m, gi, go: (gi[0] + 1,))
        model[0].register_full_backward_hook(lambda m, gi, go: log.append(("seen", _values(gi), _values(go))))
        return model(x)

    _same(scenario)


def test_backward_hook_when_no_input_requires_grad():
    def scenario(lib, model, x, log):
        model[0].register_full_backward_hook(lambda m, gi, go: log.append(("bwd", gi, _values(go))))
        return model(x.detach())

    with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are computed") as record:
        assert _same(scenario)[0][1] == (None,)
    assert len(record) == 2  # torch's warning and minigrad's


def test_handles_remove_and_context_manager():
    def scenario(lib, model, x, log):
        handle = model[0].register_forward_hook(lambda m, a, o: log.append("a"))
        with model[0].register_forward_pre_hook(lambda m, a: log.append("b")):
            model(x)
        model(x)
        handle.remove()
        handle.remove()  # removing twice is harmless
        out = model(x)
        back = model[2].register_full_backward_hook(lambda m, gi, go: log.append("c"))
        back.remove()
        return out

    assert _same(scenario) == ["b", "a", "a"]


def test_handle_ids_and_dicts():
    module = nn.Linear(2, 2)
    h1 = module.register_forward_hook(lambda *a: None, with_kwargs=True, always_call=True)
    h2 = module.register_forward_hook(lambda *a: None)
    assert h2.id == h1.id + 1
    assert list(module._forward_hooks) == [h1.id, h2.id]
    assert list(module._forward_hooks_with_kwargs) == [h1.id]
    h1.remove()
    assert list(module._forward_hooks) == [h2.id]
    assert not module._forward_hooks_with_kwargs and not module._forward_hooks_always_called
    from minigrad.utils.hooks import RemovableHandle

    assert isinstance(h1, RemovableHandle)


def test_errors_match_torch():
    def bad_pre(m, args, kwargs):
        return args

    t_mod, m_mod = torch.nn.Linear(2, 2), nn.Linear(2, 2)
    t_mod.register_forward_pre_hook(bad_pre, with_kwargs=True)
    m_mod.register_forward_pre_hook(bad_pre, with_kwargs=True)
    check_raises(lambda: t_mod(torch.ones(2)), lambda: m_mod(mg.ones(2)), "forward pre-hook must return None")

    def run_backward(lib, module, hook_kind):
        x = lib.ones(1, 2, requires_grad=True)
        if hook_kind == "pre":
            module.register_full_backward_pre_hook(lambda m, g: (g[0], g[0]))
        else:
            module.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
        module(x).sum().backward()

    for kind, fragment in [("pre", "invalid number of grad_output"), ("full", "invalid number of grad_input")]:
        check_raises(
            lambda kind=kind: run_backward(torch, torch.nn.Linear(2, 2), kind),
            lambda kind=kind: run_backward(mg, nn.Linear(2, 2), kind),
            fragment,
        )


def test_module_utilities():
    model = _model(mg)
    reference = _model(torch)
    assert [n for n, _ in model.named_modules()] == [n for n, _ in reference.named_modules()]
    assert [n for n, _ in model.named_modules(prefix="net")] == [n for n, _ in reference.named_modules(prefix="net")]
    assert len(list(model.modules())) == 4 and len(list(model.children())) == 3
    visited = []
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "Tanh", "Linear", "Sequential"]
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    assert model.get_submodule("2") is model[2]
    assert model.get_parameter("0.bias") is model[0].bias
    check_raises(lambda: reference.get_submodule("0.x"), lambda: model.get_submodule("0.x"), exact=True)
    check_raises(lambda: reference.get_submodule("7"), lambda: model.get_submodule("7"), exact=True)
    check_raises(lambda: reference.get_parameter("0.x"), lambda: model.get_parameter("0.x"), exact=True)
    shared = nn.Linear(2, 2)
    pair = nn.Sequential(shared, shared)
    assert len(list(pair.named_modules())) == 2
    assert len(list(pair.named_modules(remove_duplicate=False))) == 3
    pair.register_buffer("scratch", mg.zeros(1), persistent=False)
    assert "scratch" not in pair.state_dict() and [n for n, _ in pair.named_buffers()] == ["scratch"]
