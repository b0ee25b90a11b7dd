"""``minigrad.linalg``: torch.linalg's norms (and its matmul)."""

from minigrad._functions.linalg import matmul
from minigrad._functions.reduction_more import linalg_norm as norm
from minigrad._functions.reduction_more import matrix_norm, vector_norm

__all__ = ["matmul", "matrix_norm", "norm", "vector_norm"]
