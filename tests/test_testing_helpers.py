"""minigrad.testing: assert_close, the torch bridge, golden files and the script runner, each
on matching inputs and on deliberately mismatching ones (the report must name the right place).
"""

import json
import math
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import minigrad
from minigrad.autograd import Function
from minigrad.testing import assert_close, golden
from minigrad.testing.script_run import first_difference, numbers_in, run_both
from minigrad.testing.swap import rewrite_torch_imports

REPO = Path(__file__).resolve().parent.parent


def t(data, dtype=minigrad.float32, requires_grad=False):
    return minigrad.tensor(data, dtype=dtype, requires_grad=requires_grad)


def failure(actual, expected, **options):
    with pytest.raises(AssertionError) as info:
        assert_close(actual, expected, **options)
    return str(info.value)


# -- assert_close ---------------------------------------------------------------------------


def test_equal_and_nearly_equal_pass():
    assert_close(t([[1.0, 2.0], [3.0, 4.0]]), t([[1.0, 2.0], [3.0, 4.0]]))
    # float32 defaults (torch): rtol 1.3e-6, atol 1e-5 -> 1 + 1e-5 is within 1e-5 + 1.3e-6
    assert_close(t([1.0]), t([1.0 + 1e-5]))


def test_report_names_the_mismatched_element_with_both_values():
    message = failure(t([[1.0, 2.0], [3.0, 4.0]]), t([[1.0, 2.0], [3.5, 4.0]]))
    assert message.splitlines()[:4] == [
        "Tensor-likes are not close!",
        "",
        "Mismatched elements: 1 / 4 (25.0%)",
        "Greatest absolute difference: 0.5 at index (1, 0) (up to 1e-05 allowed)",
    ]
    # allowed = 1e-5 + 1.3e-6 * 3.5 = 1.4550e-05
    assert message.splitlines()[-1] == (
        "Worst element: index (1, 0): actual 3.0, expected 3.5, difference 0.5 (allowed 1.455e-05)"
    )


def test_worst_element_is_the_one_furthest_beyond_its_allowance():
    # element 0 misses by 0.02 where 1e-5 + 1e-5 * 1000 = 0.01001 is allowed (twice over);
    # element 1 misses by 0.001 where 1e-5 is allowed (a hundred times over): 1 is the worst.
    message = failure(t([1000.02, 0.001], minigrad.float64), t([1000.0, 0.0], minigrad.float64), rtol=1e-5, atol=1e-5)
    assert "Greatest absolute difference: 0.0199999999999" in message and "at index (0,)" in message
    assert "Worst element: index (1,): actual 0.001, expected 0.0, difference 0.001 (allowed 1e-05)" in message
    assert "Mismatched elements: 2 / 2 (100.0%)" in message


def test_default_tolerances_depend_on_the_dtype():
    # torch.testing.assert_close's documented defaults: float32 (1.3e-6, 1e-5), float64 (1e-7, 1e-7),
    # integers and bool exact.
    assert_close(t([1.0 + 1e-6], minigrad.float64), t([1.0], minigrad.float64), rtol=1e-5, atol=0.0)
    failure(t([1.0 + 1e-6], minigrad.float64), t([1.0], minigrad.float64))
    assert_close(t([1.0 + 1e-6]), t([1.0]))
    assert "Worst element: index (1,): actual 3, expected 4" in failure(
        t([1, 3], minigrad.int64), t([1, 4], minigrad.int64)
    )
    failure(t([True, False], minigrad.bool), t([True, True], minigrad.bool))


def test_huge_integers_compare_exactly():
    failure(t([2**60], minigrad.int64), t([2**60 + 1], minigrad.int64))


def test_nan_and_infinity():
    nan, inf = math.nan, math.inf
    assert "Greatest absolute difference: nan" in failure(t([nan]), t([nan]))
    assert_close(t([nan, 1.0]), t([nan, 1.0]), equal_nan=True)
    assert_close(t([inf, -inf]), t([inf, -inf]))
    assert "index (1,)" in failure(t([inf, inf]), t([inf, -inf]))
    assert "index (0,)" in failure(t([nan, 5.0]), t([1.0, 5.0]))


def test_shape_and_dtype_must_match():
    assert failure(t([1.0, 2.0]), t([1.0, 2.0, 3.0])) == "The values for attribute 'shape' do not match: (2,) != (3,)."
    assert (
        failure(t([1.0]), t([1.0], minigrad.float64))
        == "The values for attribute 'dtype' do not match: float32 != float64."
    )
    assert_close(t([1.0]), t([1.0], minigrad.float64), check_dtype=False)


def test_rtol_and_atol_come_together():
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol' must be either specified or omitted, but got no atol"):
        assert_close(t([1.0]), t([1.0]), rtol=1e-3)


def test_python_numbers_and_lists_take_the_tensors_dtype():
    assert_close(t([[1.0, 2.0]]), [[1.0, 2.0]])
    assert_close(t(0.5), 0.5)
    assert "index (0, 1)" in failure(t([[1.0, 2.0]]), [[1.0, 2.5]])
    assert "shape" in failure(t([1.0, 2.0]), [[1.0, 2.0]])
    assert_close(3, 3)
    failure(10**9, 10**9 + 1)  # Python ints compare exactly
    with pytest.raises(ValueError, match="ragged"):
        assert_close(t([1.0]), [[1.0], [1.0, 2.0]])


def test_containers_are_compared_item_by_item():
    assert_close((t([1.0]), t([2.0])), (t([1.0]), t([2.0])))
    assert failure((t([1.0]), t([2.0])), (t([1.0]), t([2.5]))).endswith("The failure occurred for item [1]")
    assert "length of the sequences mismatch: 1 != 2" in failure([t([1.0])], [t([1.0]), t([1.0])])
    assert failure({"a": t([1.0]), "b": [t([1.0])]}, {"a": t([1.0]), "b": [t([0.0])]}).endswith("item ['b'][0]")
    assert "keys of the mappings do not match" in failure({"a": t([1.0])}, {"b": t([1.0])})


def test_agrees_with_torch_on_which_pairs_are_close():
    torch = pytest.importorskip("torch")
    import random

    rng = random.Random(0)
    for _ in range(200):
        n = rng.randint(1, 4)
        dtype = rng.choice(["float32", "float64"])
        expected = [rng.uniform(-10, 10) for _ in range(n)]
        actual = [
            e + rng.choice([0.0, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4]) * rng.choice([-1, 1]) * (1 + abs(e)) for e in expected
        ]
        ours = (
            minigrad.tensor(actual, dtype=getattr(minigrad, dtype)),
            minigrad.tensor(expected, dtype=getattr(minigrad, dtype)),
        )
        theirs = torch.tensor(actual, dtype=getattr(torch, dtype)), torch.tensor(expected, dtype=getattr(torch, dtype))
        try:
            torch.testing.assert_close(*theirs)
            torch_ok = True
        except AssertionError:
            torch_ok = False
        try:
            assert_close(*ours)
            ours_ok = True
        except AssertionError:
            ours_ok = False
        assert ours_ok == torch_ok, (dtype, actual, expected)


# -- the torch bridge -----------------------------------------------------------------------


def test_to_torch_and_back_keep_values_dtype_shape_and_requires_grad():
    torch = pytest.importorskip("torch")
    from minigrad.testing import from_torch, to_torch

    cases = [
        t([[0.1, -2.5, 3.0], [4.0, 5.0, 6.0]], requires_grad=True),
        t([1e-30, 1e30], minigrad.float64),
        t(7, minigrad.int64),
        t([[True], [False]], minigrad.bool),
        minigrad.zeros(0, 3),
    ]
    for m in cases:
        x = to_torch(m)
        assert isinstance(x, torch.Tensor) and x.is_leaf
        assert str(x.dtype) == "torch." + m.dtype.name
        assert tuple(x.shape) == tuple(m.shape)
        assert x.requires_grad == m.requires_grad
        assert x.tolist() == m.tolist()
        back = from_torch(x)
        assert back.dtype is m.dtype and back.shape == m.shape and back.requires_grad == m.requires_grad
        assert back.tolist() == m.tolist()


def test_bridge_reads_views_and_non_leaves():
    torch = pytest.importorskip("torch")
    from minigrad.testing import from_torch, to_torch

    m = t([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).t()
    assert to_torch(m).tolist() == [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]
    x = torch.arange(6.0).reshape(2, 3).requires_grad_()
    y = x.t() * 2
    back = from_torch(y)
    assert back.tolist() == [[0.0, 6.0], [2.0, 8.0], [4.0, 10.0]] and back.requires_grad and back.is_leaf


def test_bridge_refuses_what_it_cannot_carry():
    torch = pytest.importorskip("torch")
    from minigrad.testing import from_torch, to_torch

    with pytest.raises(TypeError, match="minigrad has no dtype for torch.float16"):
        from_torch(torch.zeros(2, dtype=torch.float16))
    with pytest.raises(TypeError, match="expects a torch.Tensor"):
        from_torch([1.0])
    with pytest.raises(TypeError, match="expects a minigrad Tensor"):
        to_torch(torch.zeros(2))


def test_assert_close_compares_across_libraries():
    torch = pytest.importorskip("torch")
    assert_close(t([1.0, 2.0]), torch.tensor([1.0, 2.0]))
    assert "dtype" in failure(t([1.0, 2.0]), torch.tensor([1.0, 2.0], dtype=torch.float64))


def test_compare_with_torch_passes_when_both_libraries_agree():
    pytest.importorskip("torch")
    from minigrad.testing import compare_with_torch

    minigrad.manual_seed(0)
    x = minigrad.randn(3, 4, requires_grad=True)
    w = minigrad.randn(4, 2, requires_grad=True)
    unused = minigrad.randn(2, requires_grad=True)
    compare_with_torch(lambda x, w, u: ((x @ w).tanh(), (x * 2).sum(dim=1)), x, w, unused, rtol=1e-5, atol=1e-6)
    compare_with_torch(lambda x, dim: x.log_softmax(dim), x, 1)


def test_compare_with_torch_reports_a_different_output():
    pytest.importorskip("torch")
    from minigrad.testing import compare_with_torch

    x = t([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)

    def off_by_one_on_minigrad(x):
        y = x * 2
        return y + t([[0.0, 0.0], [0.0, 1.0]]) if isinstance(x, minigrad.Tensor) else y

    with pytest.raises(AssertionError) as info:
        compare_with_torch(off_by_one_on_minigrad, x)
    message = str(info.value)
    assert message.startswith("minigrad (actual) and torch (expected) differ in output 0")
    assert "Worst element: index (1, 1): actual 9.0, expected 8.0, difference 1.0" in message


class ExpWithWrongBackward(Function):
    """exp forward, but backward forgets the factor exp(x)."""

    @staticmethod
    def forward(ctx, x):
        return x.exp()

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_compare_with_torch_reports_a_wrong_gradient():
    pytest.importorskip("torch")
    from minigrad.testing import compare_with_torch

    x = t([0.0, 1.0], requires_grad=True)
    with pytest.raises(AssertionError) as info:
        compare_with_torch(lambda x: ExpWithWrongBackward.apply(x) if isinstance(x, minigrad.Tensor) else x.exp(), x)
    message = str(info.value)
    assert message.startswith("minigrad (actual) and torch (expected) differ in the gradient of input 0")
    # seeds sin(1), sin(2): minigrad returns them as they are, torch multiplies by exp(x) = (1, e).
    # Element 0 agrees; element 1 is sin(2) against sin(2) * e.
    worst = message.splitlines()[-1]
    assert worst.startswith("Worst element: index (1,): actual 0.909297")
    assert f"expected {math.sin(2) * math.e:.5f}"[:-1] in worst


# -- golden files ---------------------------------------------------------------------------


def test_golden_round_trip_is_exact(tmp_path):
    path = tmp_path / "golden.json"
    values = dict(
        w=t([[0.1, 0.2], [0.3, -1e-20]]),
        d=t([0.1], minigrad.float64),
        n=t([1, -(2**62)], minigrad.int64),
        b=t(True, minigrad.bool),
        special=t([math.nan, math.inf, -math.inf]),
        loss=1.25,
    )
    golden.record(path, **values)
    data = json.loads(path.read_text())
    assert data["format"] == "minigrad-golden" and data["version"] == 1
    assert data["tensors"]["w"] == {"dtype": "float32", "shape": [2, 2], "values": t([0.1, 0.2, 0.3, -1e-20]).tolist()}
    assert data["tensors"]["special"]["values"] == ["nan", "inf", "-inf"]
    loaded = golden.load(path)
    for name, value in values.items():
        assert_close(loaded[name], value, rtol=0.0, atol=0.0, equal_nan=True)
    assert loaded["w"].dtype is minigrad.float32 and loaded["n"].dtype is minigrad.int64


def test_golden_check_passes_and_names_a_differing_tensor(tmp_path):
    path = golden.record(tmp_path / "g.json", loss=t(0.5), grad=t([[1.0, 2.0], [3.0, 4.0]]))
    golden.check(path, loss=t(0.5), grad=t([[1.0, 2.0], [3.0, 4.0 + 1e-6]]))
    with pytest.raises(AssertionError) as info:
        golden.check(path, loss=t(0.5), grad=t([[1.0, 2.0], [3.1, 4.0]]))
    message = str(info.value)
    assert message.startswith(f"'grad' differs from golden file {str(path)!r}")
    assert "Worst element: index (1, 0): actual 3.0999999046325684, expected 3.0" in message


def test_golden_check_wants_the_same_names(tmp_path):
    path = golden.record(tmp_path / "g.json", a=t([1.0]), b=t([2.0]))
    with pytest.raises(AssertionError, match=r"has no tensor named 'c' \(it has 'a', 'b'\)"):
        golden.check(path, a=t([1.0]), b=t([2.0]), c=t([3.0]))
    with pytest.raises(AssertionError, match=r"no value for the recorded tensor\(s\) 'b'"):
        golden.check(path, a=t([1.0]))
    with pytest.raises(AssertionError, match="dtype"):
        golden.check(path, a=t([1.0], minigrad.float64), b=t([2.0]))


def test_golden_file_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; make it once with minigrad.testing.golden.record"):
        golden.check(tmp_path / "missing.json", a=t([1.0]))
    other = tmp_path / "other.json"
    other.write_text('{"tensors": {}}')
    with pytest.raises(ValueError, match="is not a minigrad golden file"):
        golden.load(other)
    with pytest.raises(ValueError, match="at least one tensor"):
        golden.record(tmp_path / "empty.json")


def test_golden_recorded_from_torch_is_checked_without_it(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    w = torch.randn(3, 2)
    path = golden.record(tmp_path / "torch.json", w=w, steps=torch.tensor([1, 2]))
    with pytest.raises(TypeError, match="minigrad has no dtype float16"):
        golden.record(tmp_path / "half.json", h=w.half())
    minigrad.manual_seed(0)  # minigrad's generator reproduces torch's stream
    golden.check(path, w=minigrad.randn(3, 2), steps=t([1, 2], minigrad.int64))


# -- the script runner ----------------------------------------------------------------------


def test_numbers_are_read_as_printed_and_names_are_skipped():
    line = "tensor([[-0.0187,  0.1713, -0.2944]]], grad_fn=<MkldnnRnnLayerBackward0>)"
    assert numbers_in(line) == [Decimal("-0.0187"), Decimal("0.1713"), Decimal("-0.2944")]
    numbers = numbers_in("{'The': 0, 'dog': 1} Size([2, 3]) 1.0000e-05 nan -inf x2 v1.5 info")
    assert [str(n) for n in numbers] == ["0", "1", "2", "3", "0.000010000", "NaN", "-Infinity"]


def test_first_difference_honours_the_tolerance_exactly():
    reference = ["tensor([0.1713, 2.0000])", "done"]
    assert first_difference(reference, ["tensor([0.1714, 2.0000])", "done"], atol=1e-4, rtol=0) is None
    difference = first_difference(reference, ["tensor([0.1713, 2.0002])", "done"], atol=1e-4, rtol=0)
    assert (difference.line, difference.detail) == (
        1,
        "number 2: torch 2.0000, minigrad 2.0002, difference 0.0002 > 0.0001 allowed",
    )
    assert first_difference(["1 nan inf"], ["1 nan inf"], atol=0, rtol=0) is None
    assert first_difference(["x 1"], ["y 1"], atol=0, rtol=0) is None  # text is not compared


def test_first_difference_on_counts_and_lengths():
    assert first_difference(["a", "1 2"], ["a", "1"], 1e-4, 0).detail == "torch printed 2 numbers here, minigrad 1"
    short = first_difference(["1", "2"], ["1"], 1e-4, 0)
    assert (short.line, short.candidate, short.detail) == (2, None, "minigrad's output ends before this line")
    assert first_difference(["1"], ["1", "3"], 1e-4, 0).detail == "torch's output ends before this line"


def test_torch_imports_are_rewritten_line_for_line():
    source = (
        "import torch\n"
        "import torch.nn as nn\n"
        "import torch.nn.functional as F  # the functional API\n"
        "import torch.optim as optim\n"
        "from torch import nn, optim\n"
        "    from torch.nn import functional as F\n"
        "import torch.nn\n"
        "import os, torch as th\n"
        "import torchvision\n"
        "important = 'import torch'\n"
    )
    assert rewrite_torch_imports(source) == (
        "import minigrad as torch\n"
        "import minigrad.nn as nn\n"
        "import minigrad.nn.functional as F  # the functional API\n"
        "import minigrad.optim as optim\n"
        "from minigrad import nn, optim\n"
        "    from minigrad.nn import functional as F\n"
        "import minigrad.nn; import minigrad as torch\n"
        "import os; import minigrad as th\n"
        "import torchvision\n"
        "important = 'import torch'\n"
    )


def run_cli(tmp_path, script_text, *options):
    script = tmp_path / "script.py"
    script.write_text(script_text)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "minigrad.testing", "run", *options, str(script)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def run_in_process(tmp_path, script_text):
    script = tmp_path / "script.py"
    script.write_text(script_text)
    return run_both(script)


def test_run_finds_the_first_line_whose_numbers_differ(tmp_path):
    pytest.importorskip("torch")
    # A real torch script; on minigrad (imported as torch, so torch.__name__ is 'minigrad') the
    # loss is off by 0.5. Lines 1-2 (randn's values) must agree, line 3 (the loss) must not.
    script = """\
import torch

torch.manual_seed(1)
x = torch.randn(2, 3, requires_grad=True)
print(x)
loss = (x * x).sum() + (0.5 if torch.__name__ == "minigrad" else 0.0)
loss.backward()
print(loss)
print(x.grad)
"""
    result = run_cli(tmp_path, script)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("script.py: first difference at line 3 of the output (atol=0.0001, rtol=0.0):")
    assert lines[1].startswith("  torch:    tensor(") and lines[2].startswith("  minigrad: tensor(")
    assert lines[3].startswith("  number 1: torch ") and lines[3].endswith("difference 0.5000 > 0.0001 allowed")
    assert len(lines) == 4


# The scripts below need no torch: they tell the two runs apart by whether minigrad is loaded
# (the minigrad run imports it to rewrite the script).


def test_run_summarises_agreement(tmp_path):
    pytest.importorskip("torch")
    result = run_in_process(tmp_path, "import sys\nprint('pi', 3.1416)\nprint([1, 2.00001])\n")
    assert result.ok and result.exit_code == 0
    assert result.report().endswith("same numbers on torch and minigrad (2 lines, 3 numbers, atol=0.0001, rtol=0.0)")


def test_run_reports_a_minigrad_failure_with_its_traceback(tmp_path):
    pytest.importorskip("torch")
    script = "import sys\nprint(1)\nif 'minigrad' in sys.modules:\n    raise ValueError('boom')\nprint(2)\n"
    result = run_in_process(tmp_path, script)
    assert result.exit_code == 1
    report = result.report()
    assert report.startswith("the minigrad run failed (exit 1) after 1 lines of output:")
    assert "ValueError: boom" in report and 'script.py", line 4' in report


def test_run_reports_a_failing_reference_run(tmp_path):
    pytest.importorskip("torch")
    result = run_in_process(tmp_path, "import sys\nif 'minigrad' not in sys.modules:\n    sys.exit('no reference')\n")
    assert result.exit_code == 2
    assert result.report() == "the reference run on torch failed (exit 1):\n  no reference"


def test_run_command_explains_a_missing_script(tmp_path, capsys):
    from minigrad.testing.__main__ import main

    with pytest.raises(SystemExit) as info:
        main(["run", str(tmp_path / "missing.py")])
    assert info.value.code == 2
    assert "python -m minigrad.testing run: no such script: " in capsys.readouterr().err


@pytest.mark.parametrize(
    "source",
    ["import minigrad as torch\nprint(torch.ones(2))\n", "from minigrad import nn\nprint(1)\n",
     "import minigrad.nn.functional as F\nprint(2)\n"],
)
def test_run_refuses_a_script_that_imports_minigrad_instead_of_torch(tmp_path, capsys, source):
    from minigrad.testing.__main__ import main

    pytest.importorskip("torch")
    script = tmp_path / "script.py"
    script.write_text(source)
    with pytest.raises(SystemExit) as info:
        main(["run", str(script)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "imports minigrad, not torch" in err and "agree with themselves" in err


def test_run_accepts_a_script_that_imports_both(tmp_path):
    pytest.importorskip("torch")
    result = run_in_process(tmp_path, "import torch\nimport minigrad\nprint(1.5)\n")
    assert result.exit_code == 0
