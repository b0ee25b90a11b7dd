"""minigrad's optional compiled core: Cython versions of ``minigrad._kernels``."""
