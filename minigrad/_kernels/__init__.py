"""The pure-Python kernels: loops over flat ``array.array`` buffers.

This is the bottom layer. A kernel knows buffers, shapes given as tuples of ints, and small
integer op codes; it knows nothing of tensors or autograd. Every kernel writes into an ``out``
buffer that the caller allocated with the right typecode and length, so storing a Python float
into an ``array('f')`` rounds it to float32 exactly as a float32 store would.

``minigrad_c._kernels`` (Cython) exports the same names with the same signatures. Callers
validate shapes and lengths before calling; the Cython kernels re-check whatever could make them
read or write out of bounds.

The kernels are grouped by op family, one module each; this package gathers their names, so
that ``K.<name>`` finds every kernel. Each family has a Cython twin of the same name in
``minigrad_c/`` (``pointwise.py`` here, ``pointwise.pxi`` there).
"""

from minigrad._kernels.indexing import *  # noqa: F403
from minigrad._kernels.optim import *  # noqa: F403
from minigrad._kernels.pointwise import *  # noqa: F403
from minigrad._kernels.products import *  # noqa: F403
from minigrad._kernels.recurrent import *  # noqa: F403
from minigrad._kernels.reductions import *  # noqa: F403
from minigrad._kernels.sampling import *  # noqa: F403
from minigrad._kernels.softmax_loss import *  # noqa: F403
