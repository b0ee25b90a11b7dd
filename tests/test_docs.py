"""The guided walkthrough in docs/ stays true.

* Every page's ```python blocks run in order in one namespace; the ```text block right after a
  python block (only blank lines between) is the output it must print, and a python block
  without one must print nothing. (```python norun blocks are shown, not run.)
* Links to source files point at files that exist, and a backticked name in the link text
  (``[`run_backward`](../minigrad/autograd/engine.py)``) is defined in that file.
* The pictures in docs/images are what docs/make_pictures.py draws now.
* examples/custom_function.py runs and its gradcheck verdicts are the documented ones.

To see what a page's blocks print now: ``PYTHONPATH=. python tests/test_docs.py docs/PAGE.md``.
"""

import contextlib
import importlib.util
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
PAGES = sorted(DOCS.glob("*.md"))
FENCE = re.compile(r"^```(.*)$")
LINK = re.compile(r"\[([^\]]*)\]\((\.\./[^)#\s]+)\)")
IMAGE = re.compile(r"!\[[^\]]*\]\((images/[^)\s]+)\)")


@dataclass
class Block:
    info: str  # the fence's info string: "python", "text", "python norun", ...
    code: str
    line: int  # where the code starts (1-based)
    end: int  # the line of the closing fence


def fenced_blocks(text: str) -> list[Block]:
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        start = i + 1
        i = start
        while i < len(lines) and lines[i] != "```":
            i += 1
        if i == len(lines):
            raise ValueError(f"unclosed code fence at line {start}")
        blocks.append(Block(m.group(1).strip(), "\n".join(lines[start:i]) + "\n", start + 1, i + 1))
        i += 1
    return blocks


def examples(text: str) -> list[tuple[Block, str]]:
    """(python block, the output it must print) for every runnable block of a page."""
    lines = text.splitlines()
    blocks = fenced_blocks(text)
    result = []
    for block, following in zip(blocks, blocks[1:] + [None]):
        if block.info != "python":
            continue
        expected = ""
        if following is not None and following.info == "text":
            between = lines[block.end : following.line - 2]
            if all(not line.strip() for line in between):
                expected = following.code
        result.append((block, expected))
    return result


def normalized(output: str) -> str:
    return "\n".join(line.rstrip() for line in output.rstrip().splitlines())


def run_page(page: Path) -> list[tuple[Block, str, str]]:
    """(block, expected, actual) for each runnable block, run in order in one namespace."""
    import minigrad

    minigrad.set_printoptions(profile="default")
    namespace = {"__name__": "__docs__"}
    results = []
    for block, expected in examples(page.read_text()):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(block.code, f"{page.name}:{block.line}", "exec"), namespace)
        results.append((block, expected, buffer.getvalue()))
    return results


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_snippet_prints_what_the_page_says(page):
    for block, expected, actual in run_page(page):
        assert normalized(actual) == normalized(expected), f"{page.name}, the block at line {block.line}"


def test_the_runner_pairs_blocks_with_their_output():
    page = "```python\nprint(1)\n```\n\n```text\n1\n```\nprose\n```python\nx = 2\n```\nprose\n```text\nnot mine\n```\n"
    pairs = [(block.code, expected) for block, expected in examples(page)]
    assert pairs == [("print(1)\n", "1\n"), ("x = 2\n", "")]
    assert [b.info for b in fenced_blocks("```python norun\nraise\n```\n")] == ["python norun"]


def test_there_are_pages_and_snippets():
    assert len(PAGES) >= 7
    assert all(examples(page.read_text()) for page in PAGES if page.name != "README.md")


def defines(source: str, name: str) -> bool:
    return re.search(rf"^\s*(def|class)\s+{re.escape(name)}\b|^\s*{re.escape(name)}\s*[:=]", source, re.M) is not None


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_source_links_point_at_real_files_and_names(page):
    for text, target in LINK.findall(page.read_text()):
        path = (page.parent / target).resolve()
        assert path.exists(), f"{page.name}: link to missing {target}"
        name = re.fullmatch(r"`([\w.]+)(?:\(\))?`", text)
        if name and path.suffix == ".py" and not name.group(1).endswith(".py"):
            last = name.group(1).split(".")[-1]
            module = path.parent.name if path.stem == "__init__" else path.stem
            assert last == module or defines(path.read_text(), last), f"{page.name}: {last} is not in {target}"


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pictures_are_up_to_date_and_linked():
    pictures = load_module(DOCS / "make_pictures.py", "make_pictures").pictures()
    for name, dot_text in pictures.items():
        assert (DOCS / "images" / f"{name}.dot").read_text() == dot_text, f"run python docs/make_pictures.py ({name})"
        assert (DOCS / "images" / f"{name}.svg").exists()
    linked = {m for page in PAGES for m in IMAGE.findall(page.read_text())}
    assert linked == {f"images/{name}.svg" for name in pictures}


def test_custom_function_example(capsys):
    example = load_module(REPO / "examples" / "custom_function.py", "custom_function")
    example.main()
    out = capsys.readouterr().out
    assert "gradcheck(Softplus): True" in out
    assert "gradcheck caught the forgetful backward: Jacobian mismatch" in out


def test_lstm_page_numbers_are_pytorchs():
    """Page 6 says torch.nn.LSTM prints the same digits and gradient norms; check that claim."""
    torch = pytest.importorskip("torch")
    from minigrad.testing import assert_close

    namespace = {"__name__": "__docs__"}
    with contextlib.redirect_stdout(io.StringIO()):
        for block, _ in examples((DOCS / "06-lstm.md").read_text()):
            exec(compile(block.code, "06-lstm.md", "exec"), namespace)
    lstm = torch.nn.LSTM(3, 4)
    with torch.no_grad():
        for name, weight in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), namespace["weights"]):
            getattr(lstm, name).copy_(torch.tensor(weight.tolist()))
    h1, c1 = lstm(torch.tensor(namespace["x0"].tolist()).view(1, 1, 3))[1]
    assert_close(namespace["h1"], h1[0])
    assert_close(namespace["c1"], c1[0])
    x = torch.tensor(namespace["x"].detach().tolist(), requires_grad=True)
    lstm(x)[0][-1].sum().backward()
    assert_close(namespace["x"].grad, x.grad, rtol=1e-5, atol=1e-6)


if __name__ == "__main__":
    for path in sys.argv[1:]:
        for block, _, actual in run_page(Path(path)):
            print(f"--- {path}:{block.line}\n{actual}", end="")
