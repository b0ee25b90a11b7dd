"""``optim.lr_scheduler`` against torch 2.13.0: every rate (and cycled momentum) is the same
double as torch's at every step, for every scheduler and its options; ``get_last_lr``,
``last_epoch``, ``state_dict``/``load_state_dict`` (resuming mid-schedule), ``step(epoch)``'s
closed forms, warnings and errors."""

from __future__ import annotations

import warnings

import pytest

import minigrad as mg
import minigrad.optim as optim

torch = pytest.importorskip("torch")


def _optimizer(lib, kind: str = "sgd"):
    """An optimizer with two parameter groups of different rates (the second with momentum)."""
    w, b = lib.zeros(2, requires_grad=True), lib.zeros(1, requires_grad=True)
    groups = [{"params": [w]}, {"params": [b], "lr": 0.037}]
    if kind == "adam":
        return lib.optim.Adam(groups, lr=0.01)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


def _scheduler(lib, name: str, optimizer, kwargs):
    module = lib.optim.lr_scheduler
    if name == "LambdaLR":
        return module.LambdaLR(optimizer, **kwargs, lr_lambda=lambda epoch: 0.95**epoch / (1 + epoch % 3))
    if name == "MultiplicativeLR":
        return module.MultiplicativeLR(optimizer, **kwargs, lr_lambda=lambda epoch: 0.9 if epoch % 2 else 0.97)
    return getattr(module, name)(optimizer, **kwargs)


CASES = [
    ("StepLR", {"step_size": 3}),
    ("StepLR", {"step_size": 2, "gamma": 0.7}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.93}),
    ("LambdaLR", {}),
    ("MultiplicativeLR", {}),
    ("ConstantLR", {}),
    ("ConstantLR", {"factor": 0.7, "total_iters": 4}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.1, "end_factor": 0.9, "total_iters": 7}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.05, "total_iters": 11}),
    ("PolynomialLR", {"total_iters": 8, "power": 2.0}),
    ("CosineAnnealingLR", {"T_max": 7}),
    ("CosineAnnealingLR", {"T_max": 5, "eta_min": 0.003}),
    ("CosineAnnealingWarmRestarts", {"T_0": 4}),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.001}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 30}),
    ("OneCycleLR", {"max_lr": [0.4, 0.2], "epochs": 3, "steps_per_epoch": 9, "anneal_strategy": "linear"}),
    ("OneCycleLR", {"max_lr": 0.3, "total_steps": 29, "three_phase": True, "pct_start": 0.25}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4}),
    (
        "CyclicLR",
        {"base_lr": 0.01, "max_lr": [0.2, 0.1], "step_size_up": 3, "step_size_down": 5, "mode": "triangular2"},
    ),
    ("CyclicLR", {"base_lr": 0.02, "max_lr": 0.1, "step_size_up": 3, "mode": "exp_range", "gamma": 0.97}),
]


def _snapshot(optimizer, scheduler) -> list:
    groups = [
        (group["lr"], group.get("initial_lr"), group.get("momentum"), group.get("betas"))
        for group in optimizer.param_groups
    ]
    return [groups, list(scheduler.get_last_lr()), scheduler.last_epoch]


def _run(lib, name, kwargs, steps, kind="sgd"):
    optimizer = _optimizer(lib, kind)
    scheduler = _scheduler(lib, name, optimizer, kwargs)
    history = [_snapshot(optimizer, scheduler)]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        history.append(_snapshot(optimizer, scheduler))
    return history, optimizer, scheduler


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_rates_equal_torch_at_every_step(name, kwargs):
    steps = 25
    if name == "OneCycleLR":  # to the last step of the schedule
        steps = kwargs.get("total_steps") or kwargs["epochs"] * kwargs["steps_per_epoch"]
    for kind in ("sgd", "adam"):
        ours, _, _ = _run(mg, name, kwargs, steps, kind)
        theirs, _, _ = _run(torch, name, kwargs, steps, kind)
        for step, (a, b) in enumerate(zip(ours, theirs)):
            assert a == b, f"step {step}: {a} != torch {b}"


STATE_CASES = [c for c in CASES if c[0] not in ("LambdaLR", "MultiplicativeLR")]


@pytest.mark.parametrize("name, kwargs", STATE_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(STATE_CASES)])
def test_state_dict_and_resume(name, kwargs):
    """The state equals torch's; a new scheduler loaded from it continues exactly as torch's."""
    _, m_opt, m_sched = _run(mg, name, kwargs, 7)
    _, t_opt, t_sched = _run(torch, name, kwargs, 7)
    m_state, t_state = m_sched.state_dict(), t_sched.state_dict()
    t_state.pop("_scale_fn_ref", None)  # torch keeps a bound method there; minigrad picks the function by mode
    assert list(m_state) == list(t_state)
    assert m_state == t_state
    for lib, opt, state in ((mg, m_opt, m_state), (torch, t_opt, t_state)):
        new = _scheduler(lib, name, opt, kwargs)
        new.load_state_dict(state)
    m_new, t_new = _scheduler(mg, name, m_opt, kwargs), _scheduler(torch, name, t_opt, kwargs)
    m_new.load_state_dict(m_state)
    t_new.load_state_dict(t_sched.state_dict())
    for _ in range(12):
        m_new.step()
        t_new.step()
        assert _snapshot(m_opt, m_new) == _snapshot(t_opt, t_new)


def test_lambda_state_dict_keeps_callable_objects_state():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate**epoch

    for lib in (mg, torch):
        optimizer = _optimizer(lib)
        scheduler = lib.optim.lr_scheduler.LambdaLR(optimizer, [Decay(0.5), lambda e: 1.0])
        state = scheduler.state_dict()
        assert state["lr_lambdas"] == [{"rate": 0.5}, None]
        state["lr_lambdas"][0]["rate"] = 0.25
        scheduler.load_state_dict(state)
        assert scheduler.lr_lambdas[0].rate == 0.25


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("StepLR", {"step_size": 3, "gamma": 0.5}),
        ("MultiStepLR", {"milestones": [2, 4, 4]}),
        ("ExponentialLR", {"gamma": 0.9}),
        ("ConstantLR", {"factor": 0.5, "total_iters": 3}),
        ("LinearLR", {"start_factor": 0.2, "total_iters": 4}),
        ("PolynomialLR", {"total_iters": 6, "power": 1.5}),
        ("CosineAnnealingLR", {"T_max": 6, "eta_min": 0.01}),
    ],
)
def test_step_with_epoch_uses_the_closed_form(name, kwargs):
    results = []
    for lib in (mg, torch):
        optimizer = _optimizer(lib)
        scheduler = _scheduler(lib, name, optimizer, kwargs)
        rates = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for epoch in (3, 1, 7, 4, 10):
                optimizer.step()
                scheduler.step(epoch)
                rates.append(scheduler.get_last_lr())
        assert any("epoch parameter in `scheduler.step()` was not necessary" in str(w.message) for w in caught)
        results.append(rates)
    assert results[0] == results[1]


def test_resume_with_last_epoch_and_warm_restarts_with_float_epochs():
    results = []
    for lib in (mg, torch):
        optimizer = _optimizer(lib)
        for group in optimizer.param_groups:
            group["initial_lr"] = group["lr"] * 2
        cosine = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10, last_epoch=4)
        rates = [cosine.get_last_lr()]
        for _ in range(4):
            optimizer.step()
            cosine.step()
            rates.append(cosine.get_last_lr())
        restarts = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(_optimizer(lib), T_0=3, T_mult=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (0.5, 1.25, 3.0, 7.5, 20.0, 2.0):
                restarts.step(epoch)
                rates.append((restarts.get_last_lr(), restarts.T_i, restarts.T_cur, restarts.last_epoch))
        results.append(rates)
    assert results[0] == results[1]
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
        optim.lr_scheduler.StepLR(_optimizer(mg), 2, last_epoch=3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"mode": "max", "patience": 2, "factor": 0.5},
        {"threshold_mode": "abs", "threshold": 0.05, "patience": 1, "cooldown": 2},
        {"mode": "max", "threshold_mode": "abs", "patience": 0, "min_lr": [0.01, 0.02]},
        {"patience": 1, "factor": 0.3, "min_lr": 0.005, "eps": 1e-3},
    ],
)
def test_reduce_lr_on_plateau(kwargs):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.89, 0.9, 0.9, 0.9, 0.9, 0.91, 0.5, 0.6, 0.7] * 3
    results, states = [], []
    for lib in (mg, torch):
        optimizer = _optimizer(lib)
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)
        rates = []
        for metric in metrics:
            optimizer.step()
            scheduler.step(lib.tensor(metric) if metric < 0.7 else metric)
            rates.append(
                (scheduler.get_last_lr(), scheduler.num_bad_epochs, scheduler.best, scheduler.cooldown_counter)
            )
        results.append(rates)
        states.append(scheduler.state_dict())
    assert results[0] == results[1]
    assert states[0] == states[1]


ERROR_CASES = [
    (lambda m, o: m.StepLR("not an optimizer", 2), TypeError, "str is not an Optimizer"),
    (lambda m, o: m.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0."),
    (lambda m, o: m.ReduceLROnPlateau(o, mode="mean"), ValueError, "mode mean is unknown!"),
    (lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
    (lambda m, o: m.LinearLR(o, start_factor=0), ValueError, "Starting multiplicative factor"),
    (lambda m, o: m.ConstantLR(o, factor=2), ValueError, "Constant multiplicative factor"),
    (lambda m, o: m.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda m, o: m.OneCycleLR(o, 0.1), ValueError, "You must define either total_steps OR"),
    (lambda m, o: m.OneCycleLR(o, 0.1, total_steps=10, pct_start=1), ValueError, "pct_start"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "Expected positive integer T_0"),
    (lambda m, o: m.CyclicLR(o, 0.1, [0.2], 3), ValueError, "max_lr must have the same length"),
]


def test_errors_and_warnings():
    for lib in (mg, torch):
        module = lib.optim.lr_scheduler
        optimizer = _optimizer(lib)
        for call, kind, message in ERROR_CASES:
            with pytest.raises(kind, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
                call(module, optimizer)
        one_cycle = module.OneCycleLR(_optimizer(lib), 0.1, total_steps=2)
        with pytest.warns(
            UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)`"
        ):
            one_cycle.step()
        one_cycle.step()
        with pytest.raises(ValueError, match="Tried to step 3 times. The specified number of total steps is 2"):
            one_cycle.step()
        with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
            module.StepLR(_optimizer(lib), 2).get_lr()


def test_sequential_and_chained():
    results = []
    for lib in (mg, torch):
        module = lib.optim.lr_scheduler
        optimizer = _optimizer(lib)
        warm = module.LinearLR(optimizer, start_factor=0.1, total_iters=4)
        decay = module.ExponentialLR(optimizer, gamma=0.9)
        cosine = module.CosineAnnealingLR(optimizer, T_max=5)
        sequential = module.SequentialLR(optimizer, [warm, decay, cosine], milestones=[4, 9])
        rates = [sequential.get_last_lr()]
        for _ in range(15):
            optimizer.step()
            sequential.step()
            rates.append((sequential.get_last_lr(), sequential.last_epoch))
        state = sequential.state_dict()
        rates.append([s["last_epoch"] for s in state["_schedulers"]])
        optimizer = _optimizer(lib)
        chained = module.ChainedScheduler([module.StepLR(optimizer, 3, 0.5), module.ExponentialLR(optimizer, 0.95)])
        for _ in range(10):
            optimizer.step()
            chained.step()
            rates.append(chained.get_last_lr())
        results.append(rates)
    assert results[0] == results[1]
    with pytest.raises(ValueError, match="SequentialLR does not support `ReduceLROnPlateau`"):
        opt = _optimizer(mg)
        optim.lr_scheduler.SequentialLR(opt, [optim.lr_scheduler.ReduceLROnPlateau(opt)], milestones=[])


def test_old_base_class_name_can_be_subclassed():
    for lib in (mg, torch):

        class Halving(lib.optim.lr_scheduler._LRScheduler):
            def get_lr(self):
                return [base_lr * 0.5**self.last_epoch for base_lr in self.base_lrs]

        optimizer = _optimizer(lib)
        scheduler = Halving(optimizer)
        for _ in range(3):
            optimizer.step()
            scheduler.step()
        assert scheduler.get_last_lr() == [0.1 * 0.125, 0.037 * 0.125]
