# The declarations every kernel family of minigrad_c._kernels shares: C types, op-code enums,
# limits, the strided-view and fsum structs, and the C-API names the families cimport. Cython
# reads this file as part of _kernels.pyx (a .pxd beside a .pyx of the same name is its
# declaration file); the families' code comes in through the include lines of _kernels.pyx.

from cpython cimport array as carray
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport Py_SIZE
from libc.math cimport (INFINITY, NAN, acos, acosh, asin, asinh, atan, atan2, atanh, ceil, copysign, cos, cosh, erf,
                        exp, exp2, expm1, fabs, floor, fma, fmaf, fmod, isfinite, isinf, isnan, log, log1p, log2,
                        log10, nearbyint, nextafter, pow, sin, sinh, sqrt, tan, tanh, trunc)
from libc.string cimport memcpy, memmove, memset


cdef extern from "Python.h":
    const Py_ssize_t PY_SSIZE_T_MAX


# ---------------------------------------------------------------------------------------------
# Op codes (the same values as minigrad._kernels; the Python names are in the families)
# ---------------------------------------------------------------------------------------------

cdef enum:
    U_NEG, U_EXP, U_LOG, U_SQRT, U_ABS, U_SIGMOID, U_TANH, U_RELU,
    U_SIN, U_COS, U_TAN, U_ASIN, U_ACOS, U_ATAN, U_SINH, U_COSH, U_ASINH, U_ACOSH, U_ATANH,
    U_LOG1P, U_EXPM1, U_LOG2, U_LOG10, U_EXP2, U_RSQRT, U_RECIPROCAL, U_ERF, U_ERFINV,
    U_FLOOR, U_CEIL, U_ROUND, U_TRUNC, U_FRAC, U_SIGN, U_COUNT

cdef enum:
    B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MAXIMUM, B_MINIMUM, B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE,
    B_FMOD, B_REMAINDER, B_ATAN2, B_HYPOT, B_COPYSIGN, B_BITAND, B_BITOR, B_BITXOR, B_LSHIFT, B_RSHIFT, B_COUNT

cdef enum:
    R_SUM, R_MAX, R_MIN

cdef enum:
    MAX_DIMS = 64      # the most dimensions a strided view may have
    FSUM_CAP = 2100    # > 2098: nonoverlapping partials of doubles occupy distinct bit positions
    MATMUL_BLOCKED_AT = 4096  # multiply-adds from which packing for the blocked product pays
    MATMUL_ROWS = 128  # rows of a the blocked product converts and multiplies at a time
    MATMUL_DEPTH = 512  # and columns of those rows (rows of b)
    MATMUL_TORCH_SUMS_AT = 12  # rows and columns from which a blocked float32 product sums as torch's

ctypedef long long int64
ctypedef unsigned char uint8

ctypedef fused num_t:
    float
    double
    int64
    uint8

ctypedef fused real_t:
    float
    double

ctypedef fused work_t:  # the arithmetic of a matrix product (_gemm): independent of real_t
    float
    double

ctypedef fused int_t:
    int64
    uint8

ctypedef fused elem_t:  # every storage type: what the layout kernels (pure data movement) accept
    float
    double
    int64
    int
    short
    signed char
    uint8


# ---------------------------------------------------------------------------------------------
# Strided views: see common.pxi
# ---------------------------------------------------------------------------------------------

cdef struct View:
    Py_ssize_t ndim
    Py_ssize_t n         # number of elements
    Py_ssize_t offset
    Py_ssize_t lo        # the smallest and largest position relative to offset
    Py_ssize_t hi
    bint dense           # row-major and gap-free: positions offset .. offset + n - 1
    Py_ssize_t shape[MAX_DIMS]
    Py_ssize_t strides[MAX_DIMS]


# ---------------------------------------------------------------------------------------------
# fsum's state: see common.pxi
# ---------------------------------------------------------------------------------------------

cdef struct FSum:
    double* p            # FSUM_CAP partials
    Py_ssize_t n
    double special       # the sum of the inf and nan summands
    double inf_sum
    bint overflow
    double plain         # the plain sum, in order from 0.0: what Python's sum() gives


# ---------------------------------------------------------------------------------------------
# optim.pxi (the optimizers' fused steps): float32 square roots in float32
# ---------------------------------------------------------------------------------------------

from libc.math cimport sqrtf
