"""Helpers for testing code against a reference, usually PyTorch.

* ``assert_close(actual, expected, rtol=, atol=)``: torch's default tolerances per dtype, and a
  report naming the worst element (index, both values, the difference).
* ``to_torch`` / ``from_torch``: copy a tensor across (values, dtype, shape, requires_grad).
* ``compare_with_torch(fn, *inputs)``: one function on both libraries, outputs and input
  gradients compared.
* ``golden.record`` / ``golden.check``: tensors saved once to a JSON file, checked later
  without torch.
* ``python -m minigrad.testing run SCRIPT.py``: a whole PyTorch script on both libraries, and
  the first output line whose numbers differ (``script_run``).

PyTorch is needed only by the torch helpers and the ``run`` command, and imported only by them.
"""

from minigrad.testing import golden
from minigrad.testing.comparison import DEFAULT_TOLERANCES, assert_close
from minigrad.testing.torch_bridge import compare_with_torch, from_torch, to_torch

__all__ = ["DEFAULT_TOLERANCES", "assert_close", "compare_with_torch", "from_torch", "golden", "to_torch"]
