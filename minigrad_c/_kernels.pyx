# cython: language_level=3, binding=True, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""The Cython twins of ``minigrad._kernels``: the same names and signatures, as C loops.

The buffers are the caller's ``array.array`` objects themselves (typecodes 'f' float32, 'd'
float64, 'q' int64, 'B' bool bytes): a kernel takes the array's data pointer, so nothing is
copied in or out. (A typed memoryview would do the same with ~0.15 us more per buffer, which at
batch size 1 is a real share of a training step.)

Every kernel checks its arguments before its loops: buffer types and typecodes (TypeError),
sizes and lengths (ValueError), positions, targets and strided views against the buffer they
index (IndexError). Only then does it run its loops, which never read or write outside a buffer.

Arithmetic follows the pure kernels, which compute in Python floats (C doubles) and round on
store: floats are read as double, combined in double in the same order, and rounded once when
stored, with the same libm functions (exp, log, tanh, pow). Sums run in the same order from
0.0; ``math.fsum`` is reproduced exactly (Shewchuk's partials, as CPython), with the pure
kernels' fallback to the plain sum where fsum raises. So results agree bit for bit, except where
documented:

- NaN sign and payload bits may differ (a NaN is a NaN);
- integer arithmetic wraps around on overflow (as torch does), where the pure kernels raise
  OverflowError on store; integer ops that would store a float (DIV, a non-integral clamp
  bound or fill value) raise before the loop;
- on Python 3.12+ the built-in ``sum`` of the pure kernels is compensated (Neumaier), so the
  pure sums in ``reduce_dim``, ``matmul`` and the LSTM may differ in the last bits;
- the LSTM's float32 gates use branch-free sigmoid and tanh (``mg_sigmoid``, ``mg_tanh`` below),
  which run on vector lanes: within 3 ulp of libm's in double, so the stored float32 values
  equal the pure kernel's unless a double lands that close to a float32 rounding boundary
  (which 2e7 sampled arguments never did); float64 keeps libm;
- strided views have at most 64 dimensions (as torch);
- bad arguments that the pure kernels would silently accept (negative sizes, negative or
  out-of-range positions, mismatched lengths) raise here.
"""

import operator

from cpython cimport array as carray
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport Py_SIZE
from libc.math cimport INFINITY, NAN, exp, fabs, floor, isfinite, isinf, isnan, log, pow, sqrt, tanh
from libc.string cimport memcpy, memset


cdef extern from "Python.h":
    const Py_ssize_t PY_SSIZE_T_MAX


cdef extern from *:
    """
    /* sigmoid and tanh in double without branches, so that a loop of them runs on vector lanes
     * (the LSTM's float32 gates; libm's scalar calls were half of its forward pass).
     *
     * Both need exp only at x <= 0: sigmoid(x) from e = exp(-|x|), as 1 / (1 + e) for x >= 0 and
     * e / (1 + e) below (the scalar _sigmoid's two branches); tanh(x) = sign(x) * -u / (u + 2)
     * with u = expm1(-2|x|), exact in relative terms for small |x| too. x = n ln2 + r, |r| <= ln2/2
     * (n by rounding x / ln2, r by Cody-Waite with a two-part ln2); expm1(r) by its Taylor series
     * to r^13 / 13! (the rest is below 5e-18); exp(x) = 2^n (1 + expm1(r)) and
     * expm1(x) = 2^n expm1(r) + (2^n - 1). Measured against glibc over 2e7 arguments of four
     * magnitudes: within 3 ulp (tanh) and 2 ulp (sigmoid) of libm, and equal after rounding to
     * float32 every time. NaN passes through; +-inf give +-1 (tanh) and 1, 0 (sigmoid). */
    #include <stdint.h>
    #include <string.h>

    static inline double mg_pow2(int64_t n) {  /* 2^n, -1022 <= n <= 1023 */
        uint64_t bits = (uint64_t)(n + 1023) << 52;
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }

    static inline double mg_expm1_reduced(double r) {  /* expm1(r), |r| <= ln2/2: Horner */
        double p = 1.0 / 6227020800.0;
        p = p * r + 1.0 / 479001600.0;
        p = p * r + 1.0 / 39916800.0;
        p = p * r + 1.0 / 3628800.0;
        p = p * r + 1.0 / 362880.0;
        p = p * r + 1.0 / 40320.0;
        p = p * r + 1.0 / 5040.0;
        p = p * r + 1.0 / 720.0;
        p = p * r + 1.0 / 120.0;
        p = p * r + 1.0 / 24.0;
        p = p * r + 1.0 / 6.0;
        p = p * r + 0.5;
        return r + (r * r) * p;
    }

    static inline double mg_reduce(double x, int64_t* n) {  /* x <= 0: r = x - n ln2 */
        const double shifter = 6755399441055744.0;  /* 1.5 * 2^52: t rounds x / ln2 to n */
        double t, k;
        uint64_t bits;
        x = x < -745.5 ? -745.5 : x;  /* exp(x) is 0 in double below (NaN passes) */
        t = x * 1.4426950408889634 + shifter;
        k = t - shifter;
        memcpy(&bits, &t, sizeof bits);
        *n = (int64_t)(bits - 0x4338000000000000ULL);
        return (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
    }

    static inline double mg_exp_nonpos(double x) {
        int64_t n, half;
        double r = mg_reduce(x, &n);
        half = n / 2;  /* two factors: 2^n stays normal down to n = -1076 */
        return ((1.0 + mg_expm1_reduced(r)) * mg_pow2(half)) * mg_pow2(n - half);
    }

    static inline double mg_expm1_nonpos(double x) {
        int64_t n;
        double r, scale;
        x = x < -60.0 ? -60.0 : x;  /* expm1(x) is -1 in double below -38 */
        r = mg_reduce(x, &n);
        scale = mg_pow2(n);
        return scale * mg_expm1_reduced(r) + (scale - 1.0);
    }

    static inline double mg_sigmoid(double x) {
        double e = mg_exp_nonpos(-fabs(x));
        double s = x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        return x == x ? s : x;
    }

    static inline double mg_tanh(double x) {
        double u = mg_expm1_nonpos(-2.0 * fabs(x));
        return copysign(-u / (u + 2.0), x);
    }
    """
    double mg_sigmoid(double x) noexcept nogil
    double mg_tanh(double x) noexcept nogil


# ---------------------------------------------------------------------------------------------
# Op codes (the same values as minigrad._kernels)
# ---------------------------------------------------------------------------------------------

NEG, EXP, LOG, SQRT, ABS, SIGMOID, TANH, RELU = range(8)
ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, EQ, NE, LT, LE, GT, GE = range(13)
SUM, MAX, MIN = range(3)

cdef enum:
    U_NEG, U_EXP, U_LOG, U_SQRT, U_ABS, U_SIGMOID, U_TANH, U_RELU, U_COUNT

cdef enum:
    B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MAXIMUM, B_MINIMUM, B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE, B_COUNT

cdef enum:
    R_SUM, R_MAX, R_MIN

cdef enum:
    MAX_DIMS = 64      # the most dimensions a strided view may have
    FSUM_CAP = 2100    # > 2098: nonoverlapping partials of doubles occupy distinct bit positions
    MATMUL_BLOCKED_AT = 4096  # multiply-adds from which packing for the blocked product pays

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

ctypedef fused int_t:
    int64
    uint8


# ---------------------------------------------------------------------------------------------
# Checking arguments
# ---------------------------------------------------------------------------------------------

cdef carray.array _array(object obj, str name):
    """obj as an array.array of a supported typecode, or TypeError."""
    if not isinstance(obj, carray.array):  # the object's real type, whatever its __class__ says
        raise TypeError(f"{name} must be an array.array, not {type(obj).__name__}")
    cdef carray.array a = <carray.array>obj
    cdef char code = a.ob_descr.typecode
    if code != c'f' and code != c'd' and code != c'q' and code != c'B':
        raise TypeError(f"{name} has typecode {chr(code)!r}; expected 'f', 'd', 'q' or 'B'")
    return a


cdef inline char _code(carray.array a) noexcept:
    return a.ob_descr.typecode


cdef inline void* _data(carray.array a) noexcept:
    return a.data.as_voidptr


cdef int _same_code(carray.array a, str a_name, carray.array b, str b_name) except -1:
    if _code(a) != _code(b):
        raise TypeError(f"{b_name} has typecode {chr(_code(b))!r} but {a_name} has {chr(_code(a))!r}")
    return 0


cdef int _floating(carray.array a, str name) except -1:
    if _code(a) != c'f' and _code(a) != c'd':
        raise TypeError(f"{name} must hold floats (typecode 'f' or 'd'), not {chr(_code(a))!r}")
    return 0


cdef int _need(carray.array a, Py_ssize_t n, str name) except -1:
    """a must hold exactly n elements."""
    if Py_SIZE(a) != n:
        raise ValueError(f"{name} holds {Py_SIZE(a)} elements but {n} are expected")
    return 0


cdef int _nonneg(Py_ssize_t value, str name) except -1:
    if value < 0:
        raise ValueError(f"{name} must be non-negative, got {value}")
    return 0


cdef Py_ssize_t _mul(Py_ssize_t a, Py_ssize_t b) except -1:
    """a * b for non-negative sizes, or OverflowError."""
    if a != 0 and b > PY_SSIZE_T_MAX // a:
        raise OverflowError(f"{a} * {b} elements is too many")
    return a * b


cdef void* _alloc(Py_ssize_t count, size_t size) except NULL:
    """Scratch memory for count items (at least one byte), freed with PyMem_Free."""
    if count < 0 or <size_t>count > (<size_t>PY_SSIZE_T_MAX) // size:
        raise MemoryError()
    cdef void* p = PyMem_Malloc(count * size if count else 1)
    if p == NULL:
        raise MemoryError()
    return p


cdef carray.array _unaliased(carray.array a, carray.array out):
    """a, or a copy of it when it is out: a loop that writes out must not change the positions
    (or values) it was checked against, or read what it already wrote (the pure kernels read
    every input before writing)."""
    return carray.copy(a) if a is out else a


cdef int _check_positions(carray.array positions, Py_ssize_t length, str name) except -1:
    """Every position must index a buffer of `length` elements."""
    cdef const long long* pos = <const long long*>_data(positions)
    cdef Py_ssize_t i
    for i in range(Py_SIZE(positions)):
        if pos[i] < 0 or pos[i] >= length:
            raise IndexError(f"position {pos[i]} is out of range for {name} of {length} elements")
    return 0


# ---------------------------------------------------------------------------------------------
# Strided views
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


cdef int _parse_view(View* v, object shape, object strides, Py_ssize_t offset) except -1:
    """Read (shape, strides, offset); check sizes and that no position overflows."""
    shape = tuple(shape)
    strides = tuple(strides)
    cdef Py_ssize_t ndim = len(shape)
    if ndim > MAX_DIMS:
        raise ValueError(f"a strided view has at most {MAX_DIMS} dimensions, got {ndim}")
    if len(strides) != ndim:
        raise ValueError(f"{len(strides)} strides given for {ndim} dimensions")
    cdef Py_ssize_t d, size, stride, expected = 1, n = 1, step
    v.ndim = ndim
    v.offset = offset
    v.dense = True
    for d in range(ndim):
        size = shape[d]
        stride = strides[d]
        if size < 0:
            raise ValueError(f"negative dimension {size} in shape {shape}")
        n = _mul(n, size)
        v.shape[d] = size
        v.strides[d] = stride if size > 1 else 0
    v.n = n
    v.lo = 0
    v.hi = 0
    if n == 0:
        return 0
    for d in range(ndim - 1, -1, -1):
        size, stride = v.shape[d], v.strides[d]
        if size != 1 and stride != expected:
            v.dense = False
        expected *= size
        if size < 2:
            continue
        if stride == -PY_SSIZE_T_MAX - 1 or fabs(<double>stride) * (size - 1) > 9.0e18:
            raise OverflowError(f"stride {stride} of a dimension of size {size} is too large")
        step = (size - 1) * stride
        if step > 0:
            if v.hi > PY_SSIZE_T_MAX - step:
                raise OverflowError("the strided view spans too many positions")
            v.hi += step
        else:
            if v.lo < -PY_SSIZE_T_MAX - step:
                raise OverflowError("the strided view spans too many positions")
            v.lo += step
    return 0


cdef int _check_view(View* v, Py_ssize_t length, str name) except -1:
    """Every position of the view must index a buffer of `length` elements."""
    if v.n == 0:
        return 0
    if v.offset < 0 or v.offset >= length or v.lo < -v.offset or v.hi > length - 1 - v.offset:
        raise IndexError(
            f"the strided view of {name} (offset {v.offset}, positions {v.offset + v.lo} to "
            f"{v.offset + v.hi}) does not fit in its {length} elements"
        )
    return 0


cdef inline Py_ssize_t _next_position(const View* v, Py_ssize_t* idx, Py_ssize_t p) noexcept:
    """Advance the row-major counter idx and return the next position after p."""
    return _advance(v, idx, p, v.ndim - 1)


cdef inline Py_ssize_t _advance(const View* v, Py_ssize_t* idx, Py_ssize_t p, Py_ssize_t d) noexcept:
    """Advance the row-major counter idx over dims 0 .. d (the dims after d stay at 0) and return
    where p moves: to the next element when d is the last dim, to the start of the next row when
    d is the one before it."""
    while d >= 0:
        idx[d] += 1
        p += v.strides[d]
        if idx[d] < v.shape[d]:
            return p
        p -= v.strides[d] * v.shape[d]
        idx[d] = 0
        d -= 1
    return p


cdef void _gather_view(const num_t* src, const View* v, num_t* dst) noexcept:
    """dst[i] = the i-th element (row-major) of the view of src, a row (the last dim) at a time."""
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef Py_ssize_t i, j, p = v.offset, width, step
    if v.dense:
        memcpy(dst, src + v.offset, v.n * sizeof(num_t))
        return
    if v.n == 0:
        return
    width, step = v.shape[v.ndim - 1], v.strides[v.ndim - 1]
    memset(idx, 0, sizeof(idx))
    for i in range(0, v.n, width):
        for j in range(width):
            dst[i + j] = src[p + j * step]
        p = _advance(v, idx, p, v.ndim - 2)


cdef void _scatter_view(num_t* dst, const View* v, const num_t* src) noexcept:
    """The i-th element (row-major) of the view of dst = src[i], a row (the last dim) at a time."""
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef Py_ssize_t i, j, p = v.offset, width, step
    if v.dense:
        memcpy(dst + v.offset, src, v.n * sizeof(num_t))
        return
    if v.n == 0:
        return
    width, step = v.shape[v.ndim - 1], v.strides[v.ndim - 1]
    memset(idx, 0, sizeof(idx))
    for i in range(0, v.n, width):
        for j in range(width):
            dst[p + j * step] = src[i + j]
        p = _advance(v, idx, p, v.ndim - 2)


cdef const num_t* _readable(const num_t* base, const View* v, num_t** scratch) except NULL:
    """The view's elements as a contiguous run: in place when dense, else copied to *scratch."""
    if v.dense:
        return base + v.offset
    scratch[0] = <num_t*>_alloc(v.n, sizeof(num_t))
    _gather_view(base, v, scratch[0])
    return scratch[0]


# ---------------------------------------------------------------------------------------------
# The pure kernels' _fsum: math.fsum exactly (Shewchuk's nonoverlapping partials with CPython's
# special cases), and where fsum would raise (inf - inf, an overflowing partial), the plain sum
# ---------------------------------------------------------------------------------------------

cdef struct FSum:
    double* p            # FSUM_CAP partials
    Py_ssize_t n
    double special       # the sum of the inf and nan summands
    double inf_sum
    bint overflow
    double plain         # the plain sum, in order from 0.0: what Python's sum() gives


cdef inline void _fsum_reset(FSum* s) noexcept:
    s.n = 0
    s.special = 0.0
    s.inf_sum = 0.0
    s.overflow = False
    s.plain = 0.0


cdef void _fsum_add(FSum* s, double x) noexcept:
    cdef double xsave = x, y, t, hi, yr, lo
    cdef Py_ssize_t i = 0, j
    s.plain += x
    if s.overflow:
        return
    for j in range(s.n):
        y = s.p[j]
        if fabs(x) < fabs(y):
            t = x
            x = y
            y = t
        hi = x + y
        yr = hi - x
        lo = y - yr
        if lo != 0.0:
            s.p[i] = lo
            i += 1
        x = hi
    s.n = i
    if x != 0.0:
        if not isfinite(x):
            if isfinite(xsave):
                s.overflow = True
            else:
                if isinf(xsave):
                    s.inf_sum += xsave
                s.special += xsave
            s.n = 0
        elif s.n < FSUM_CAP:
            s.p[s.n] = x
            s.n += 1
        else:  # cannot happen for nonoverlapping partials; never write past the array
            s.overflow = True


cdef double _fsum_result(FSum* s) noexcept:
    cdef double hi = 0.0, x, y, yr, lo = 0.0
    cdef Py_ssize_t n = s.n
    if s.overflow or (s.special != 0.0 and isnan(s.inf_sum)):
        return s.plain           # fsum raises OverflowError or ValueError here
    if s.special != 0.0:
        return s.special
    if n > 0:
        n -= 1
        hi = s.p[n]
        while n > 0:
            x = hi
            n -= 1
            y = s.p[n]
            hi = x + y
            yr = hi - x
            lo = y - yr
            if lo != 0.0:
                break
        # round half-even across partials, as CPython does
        if n > 0 and ((lo < 0.0 and s.p[n - 1] < 0.0) or (lo > 0.0 and s.p[n - 1] > 0.0)):
            y = lo * 2.0
            x = hi + y
            yr = x - hi
            if y == yr:
                hi = x
    return hi


cdef double* _fsum_partials() except NULL:
    return <double*>_alloc(FSUM_CAP, sizeof(double))


# ---------------------------------------------------------------------------------------------
# Scalar math, as the pure kernels write it
# ---------------------------------------------------------------------------------------------

cdef inline double _log(double x) noexcept:
    if x > 0:
        return log(x)
    return -INFINITY if x == 0 else NAN


cdef inline double _sqrt(double x) noexcept:
    return sqrt(x) if x >= 0 else NAN


cdef inline double _sigmoid(double x) noexcept:
    """1 / (1 + e^-x), written so that neither branch overflows."""
    cdef double e
    if x >= 0:
        return 1.0 / (1.0 + exp(-x))
    e = exp(x)
    return e / (1.0 + e)


cdef inline double _relu(double x) noexcept:
    return 0.0 if x <= 0 else x


cdef inline double _pow(double a, double b) noexcept:
    """Python's float ** float, with the pure kernel's answers where Python raises or goes
    complex: C's pow gives the same signed infinities for 0 ** negative and for overflow."""
    if a < 0.0 and isfinite(a) and isfinite(b) and b != floor(b):
        return NAN                 # a complex number in Python
    return pow(a, b)


cdef inline double _maximum(double a, double b) noexcept:
    if a != a or b != b:
        return NAN
    return a if a >= b else b


cdef inline double _minimum(double a, double b) noexcept:
    if a != a or b != b:
        return NAN
    return a if a <= b else b


cdef inline double _unary_value(Py_ssize_t op, double x) noexcept:
    if op == U_NEG:
        return -x
    if op == U_EXP:
        return exp(x)
    if op == U_LOG:
        return _log(x)
    if op == U_SQRT:
        return _sqrt(x)
    if op == U_ABS:
        return fabs(x)
    if op == U_SIGMOID:
        return _sigmoid(x)
    if op == U_TANH:
        return tanh(x)
    return _relu(x)


cdef inline double _arith_value(Py_ssize_t op, double a, double b) noexcept:
    if op == B_ADD:
        return a + b
    if op == B_SUB:
        return a - b
    if op == B_MUL:
        return a * b
    if op == B_DIV:
        return a / b               # IEEE: x/0 is +-inf, 0/0 is nan
    if op == B_POW:
        return _pow(a, b)
    if op == B_MAXIMUM:
        return _maximum(a, b)
    return _minimum(a, b)


cdef inline long long _int_pow(long long a, long long b) noexcept:
    """a ** b by squaring (wrapping around on overflow); for b < 0, C's integer answer
    (only 1 and -1 have integer reciprocals; anything else gives 0)."""
    cdef unsigned long long r = 1, base = <unsigned long long>a
    if b < 0:
        return 1 if a == 1 else ((-1 if b % 2 else 1) if a == -1 else 0)
    while b > 0:
        if b & 1:
            r *= base
        base *= base
        b >>= 1
    return <long long>r


cdef inline long long _int_arith_value(Py_ssize_t op, long long a, long long b) noexcept:
    if op == B_ADD:
        return <long long>(<unsigned long long>a + <unsigned long long>b)
    if op == B_SUB:
        return <long long>(<unsigned long long>a - <unsigned long long>b)
    if op == B_MUL:
        return <long long>(<unsigned long long>a * <unsigned long long>b)
    if op == B_POW:
        return _int_pow(a, b)
    if op == B_MAXIMUM:
        return a if a >= b else b
    return a if a <= b else b


cdef inline bint _compare_value(Py_ssize_t op, num_t a, num_t b) noexcept:
    if op == B_EQ:
        return a == b
    if op == B_NE:
        return a != b
    if op == B_LT:
        return a < b
    if op == B_LE:
        return a <= b
    if op == B_GT:
        return a > b
    return a >= b


# ---------------------------------------------------------------------------------------------
# Layout: strided reads and writes
# ---------------------------------------------------------------------------------------------

def strided_positions(shape, strides, offset) -> list:
    """The storage position of every element of a strided view, in row-major order."""
    cdef View v
    _parse_view(&v, shape, strides, offset)
    if v.n and (v.offset > PY_SSIZE_T_MAX - v.hi or v.offset < -PY_SSIZE_T_MAX - 1 - v.lo):
        raise OverflowError("the strided view's positions overflow")
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef Py_ssize_t i, p = v.offset
    memset(idx, 0, sizeof(idx))
    positions = [0] * v.n
    for i in range(v.n):
        positions[i] = p
        p = _next_position(&v, idx, p)
    return positions


cdef void _gather_any(char code, void* src, const View* v, void* out) noexcept:
    if code == c'f':
        _gather_view(<float*>src, v, <float*>out)
    elif code == c'd':
        _gather_view(<double*>src, v, <double*>out)
    elif code == c'q':
        _gather_view(<long long*>src, v, <long long*>out)
    else:
        _gather_view(<unsigned char*>src, v, <unsigned char*>out)


cdef void _scatter_any(char code, void* dst, const View* v, void* src) noexcept:
    if code == c'f':
        _scatter_view(<float*>dst, v, <float*>src)
    elif code == c'd':
        _scatter_view(<double*>dst, v, <double*>src)
    elif code == c'q':
        _scatter_view(<long long*>dst, v, <long long*>src)
    else:
        _scatter_view(<unsigned char*>dst, v, <unsigned char*>src)


def gather(src, shape, strides, offset, out) -> None:
    """out[i] = the i-th element (row-major) of the view (shape, strides, offset) of src."""
    cdef View v
    _parse_view(&v, shape, strides, offset)
    cdef carray.array s = _array(src, "src"), o = _array(out, "out")
    _same_code(s, "src", o, "out")
    _need(o, v.n, "out")
    _check_view(&v, Py_SIZE(s), "src")
    _gather_any(_code(s), _data(s), &v, _data(o))


def scatter(dst, shape, strides, offset, src) -> None:
    """Write the row-major elements of src into the view (shape, strides, offset) of dst."""
    cdef View v
    _parse_view(&v, shape, strides, offset)
    cdef carray.array d = _array(dst, "dst"), s = _array(src, "src")
    _same_code(d, "dst", s, "src")
    _need(s, v.n, "src")
    _check_view(&v, Py_SIZE(d), "dst")
    _scatter_any(_code(d), _data(d), &v, _data(s))


cdef void _take(const num_t* src, const long long* pos, num_t* out, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = src[pos[i]]


def take(src, positions, out) -> None:
    """out[i] = src[positions[i]]."""
    cdef carray.array s = _array(src, "src"), p = _array(positions, "positions"), o = _array(out, "out")
    if _code(p) != c'q':
        raise TypeError(f"positions must have typecode 'q', not {chr(_code(p))!r}")
    _same_code(s, "src", o, "out")
    s, p = _unaliased(s, o), _unaliased(p, o)
    _need(o, Py_SIZE(p), "out")
    _check_positions(p, Py_SIZE(s), "src")
    cdef const long long* pos = <const long long*>_data(p)
    cdef Py_ssize_t n = Py_SIZE(p)
    cdef char code = _code(s)
    if code == c'f':
        _take(<float*>_data(s), pos, <float*>_data(o), n)
    elif code == c'd':
        _take(<double*>_data(s), pos, <double*>_data(o), n)
    elif code == c'q':
        _take(<long long*>_data(s), pos, <long long*>_data(o), n)
    else:
        _take(<unsigned char*>_data(s), pos, <unsigned char*>_data(o), n)


cdef void _put(num_t* dst, const long long* pos, const num_t* src, Py_ssize_t n, bint accumulate) noexcept:
    cdef Py_ssize_t i
    if not accumulate:
        for i in range(n):
            dst[pos[i]] = src[i]
    elif num_t is float or num_t is double:
        for i in range(n):
            dst[pos[i]] = <num_t>(<double>dst[pos[i]] + <double>src[i])
    else:
        for i in range(n):
            dst[pos[i]] = <num_t>(<unsigned long long>dst[pos[i]] + <unsigned long long>src[i])


def put(dst, positions, src, bint accumulate) -> None:
    """dst[positions[i]] = src[i], or += when accumulate (repeated positions then add up)."""
    cdef carray.array d = _array(dst, "dst"), p = _array(positions, "positions"), s = _array(src, "src")
    if _code(p) != c'q':
        raise TypeError(f"positions must have typecode 'q', not {chr(_code(p))!r}")
    _same_code(d, "dst", s, "src")
    p = _unaliased(p, d)
    _need(s, Py_SIZE(p), "src")
    _check_positions(p, Py_SIZE(d), "dst")
    cdef const long long* pos = <const long long*>_data(p)
    cdef Py_ssize_t n = Py_SIZE(p)
    cdef char code = _code(d)
    if code == c'f':
        _put(<float*>_data(d), pos, <float*>_data(s), n, accumulate)
    elif code == c'd':
        _put(<double*>_data(d), pos, <double*>_data(s), n, accumulate)
    elif code == c'q':
        _put(<long long*>_data(d), pos, <long long*>_data(s), n, accumulate)
    else:
        _put(<unsigned char*>_data(d), pos, <unsigned char*>_data(s), n, accumulate)


cdef void _fill(num_t* out, Py_ssize_t n, num_t value) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = value


def fill(out, value) -> None:
    """Every element of out becomes value."""
    cdef carray.array o = _array(out, "out")
    cdef char code = _code(o)
    cdef double real
    cdef long long integer
    if code == c'f' or code == c'd':
        real = value
    else:
        integer = operator.index(value)
        if code == c'B' and not 0 <= integer <= 255:
            raise OverflowError(f"{integer} does not fit in an unsigned byte")
    if code == c'f':
        _fill(<float*>_data(o), Py_SIZE(o), <float>real)
    elif code == c'd':
        _fill(<double*>_data(o), Py_SIZE(o), real)
    elif code == c'q':
        _fill(<long long*>_data(o), Py_SIZE(o), integer)
    else:
        _fill(<unsigned char*>_data(o), Py_SIZE(o), <unsigned char>integer)


# ---------------------------------------------------------------------------------------------
# Pointwise
# ---------------------------------------------------------------------------------------------

cdef void _unary(Py_ssize_t op, const num_t* x, num_t* out, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    if num_t is float or num_t is double:
        for i in range(n):
            out[i] = <num_t>_unary_value(op, x[i])
    elif num_t is int64:
        for i in range(n):
            if op == U_NEG:
                out[i] = <long long>(0ULL - <unsigned long long>x[i])
            elif op == U_ABS:
                out[i] = <long long>(0ULL - <unsigned long long>x[i]) if x[i] < 0 else x[i]
            else:
                out[i] = 0 if x[i] <= 0 else x[i]
    else:
        for i in range(n):
            out[i] = <unsigned char>(0U - x[i]) if op == U_NEG else x[i]


def unary(Py_ssize_t op, x, out) -> None:
    """out[i] = f(x[i]) for the unary op code."""
    if not 0 <= op < U_COUNT:
        raise ValueError(f"unknown unary op code {op}")
    cdef carray.array xa = _array(x, "x"), o = _array(out, "out")
    _same_code(xa, "x", o, "out")
    _need(o, Py_SIZE(xa), "out")
    cdef char code = _code(xa)
    if (code == c'q' or code == c'B') and op != U_NEG and op != U_ABS and op != U_RELU:
        raise TypeError(f"unary op code {op} needs floats, got typecode {chr(code)!r}")
    cdef Py_ssize_t n = Py_SIZE(xa)
    if code == c'f':
        _unary(op, <float*>_data(xa), <float*>_data(o), n)
    elif code == c'd':
        _unary(op, <double*>_data(xa), <double*>_data(o), n)
    elif code == c'q':
        _unary(op, <long long*>_data(xa), <long long*>_data(o), n)
    else:
        _unary(op, <unsigned char*>_data(xa), <unsigned char*>_data(o), n)


cdef void _unary_backward(Py_ssize_t op, const real_t* x, const real_t* y, const real_t* grad, real_t* out,
                          Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    cdef double g, v
    for i in range(n):
        g = grad[i]
        if op == U_NEG:
            out[i] = <real_t>(-g)
        elif op == U_EXP:
            out[i] = <real_t>(g * y[i])
        elif op == U_LOG:
            out[i] = <real_t>(g / <double>x[i])
        elif op == U_SQRT:
            out[i] = <real_t>(g / (2.0 * y[i]))
        elif op == U_ABS:
            v = x[i]
            out[i] = <real_t>(g * <double>((v > 0) - (v < 0)))
        elif op == U_SIGMOID:
            v = y[i]
            out[i] = <real_t>(g * v * (1.0 - v))
        elif op == U_TANH:
            v = y[i]
            out[i] = <real_t>(g * (1.0 - v * v))
        else:
            out[i] = <real_t>(g if x[i] > 0 else 0.0)


def unary_backward(Py_ssize_t op, x, y, grad, out) -> None:
    """out = grad * f'(x), written with the input x or the output y, whichever is simpler.

    neg: -g   exp: g*y   log: g/x   sqrt: g/(2y)   abs: g*sign(x)
    sigmoid: g*y*(1-y)   tanh: g*(1-y^2)   relu: g*[x>0]
    """
    if not 0 <= op < U_COUNT:
        raise ValueError(f"unknown unary op code {op}")
    cdef carray.array xa = _array(x, "x"), ya = _array(y, "y"), g = _array(grad, "grad"), o = _array(out, "out")
    _floating(o, "out")
    for other, name in ((xa, "x"), (ya, "y"), (g, "grad")):
        _same_code(o, "out", other, name)
    cdef Py_ssize_t n = Py_SIZE(o)
    _need(g, n, "grad")
    if op == U_LOG or op == U_ABS or op == U_RELU:
        _need(xa, n, "x")
    elif op != U_NEG:
        _need(ya, n, "y")
    if _code(o) == c'f':
        _unary_backward(op, <float*>_data(xa), <float*>_data(ya), <float*>_data(g), <float*>_data(o), n)
    else:
        _unary_backward(op, <double*>_data(xa), <double*>_data(ya), <double*>_data(g), <double*>_data(o), n)


cdef int _arith(Py_ssize_t op, const num_t* a, Py_ssize_t a_step, const num_t* b, Py_ssize_t b_step,
                num_t* out, Py_ssize_t n) except -1:
    """out[i] = a[i * a_step] (op) b[i * b_step] for an arithmetic op (step 0 repeats a scalar)."""
    cdef Py_ssize_t i
    if num_t is float or num_t is double:
        if a_step == 1 and b_step == 1 and op == B_ADD:
            for i in range(n):
                out[i] = <num_t>(<double>a[i] + <double>b[i])
        elif a_step == 1 and b_step == 1 and op == B_MUL:
            for i in range(n):
                out[i] = <num_t>(<double>a[i] * <double>b[i])
        else:
            for i in range(n):
                out[i] = <num_t>_arith_value(op, a[i * a_step], b[i * b_step])
    else:
        for i in range(n):
            out[i] = <num_t>_int_arith_value(op, a[i * a_step], b[i * b_step])
    return 0


cdef void _compare(Py_ssize_t op, const num_t* a, Py_ssize_t a_step, const num_t* b, Py_ssize_t b_step,
                   unsigned char* out, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = _compare_value(op, a[i * a_step], b[i * b_step])


cdef int _check_binary_op(Py_ssize_t op, carray.array a, carray.array out) except -1:
    """The op code is known and out's typecode fits it (bool bytes for a comparison)."""
    if not 0 <= op < B_COUNT:
        raise ValueError(f"unknown binary op code {op}")
    if op >= B_EQ:
        if _code(out) != c'B':
            raise TypeError(f"a comparison writes bools: out must have typecode 'B', not {chr(_code(out))!r}")
        return 0
    _same_code(a, "a", out, "out")
    if op == B_DIV and _code(a) != c'f' and _code(a) != c'd':
        raise TypeError(f"DIV needs floats, got typecode {chr(_code(a))!r}")
    return 0


cdef int _binary_run(Py_ssize_t op, const num_t* a, Py_ssize_t a_step, const num_t* b, Py_ssize_t b_step,
                     void* out, Py_ssize_t n) except -1:
    if op >= B_EQ:
        _compare(op, a, a_step, b, b_step, <unsigned char*>out, n)
    else:
        _arith(op, a, a_step, b, b_step, <num_t*>out, n)
    return 0


cdef int _binary_views(Py_ssize_t op, const num_t* a, const View* va, const num_t* b, const View* vb,
                       void* out, Py_ssize_t n) except -1:
    cdef num_t* a_scratch = NULL
    cdef num_t* b_scratch = NULL
    try:
        _binary_run(op, _readable(a, va, &a_scratch), 1, _readable(b, vb, &b_scratch), 1, out, n)
    finally:
        PyMem_Free(a_scratch)
        PyMem_Free(b_scratch)
    return 0


def binary(
    Py_ssize_t op,
    a,
    a_strides,
    Py_ssize_t a_offset,
    b,
    b_strides,
    Py_ssize_t b_offset,
    shape,
    out,
) -> None:
    """out = a (op) b elementwise over ``shape``; broadcast inputs have stride 0."""
    cdef View va, vb
    _parse_view(&va, shape, a_strides, a_offset)
    _parse_view(&vb, shape, b_strides, b_offset)
    cdef carray.array aa = _array(a, "a"), ba = _array(b, "b"), o = _array(out, "out")
    _same_code(aa, "a", ba, "b")
    _check_binary_op(op, aa, o)
    _need(o, va.n, "out")
    _check_view(&va, Py_SIZE(aa), "a")
    _check_view(&vb, Py_SIZE(ba), "b")
    cdef Py_ssize_t n = va.n
    if n == 0:
        return
    cdef char code = _code(aa)
    if code == c'f':
        _binary_views(op, <float*>_data(aa), &va, <float*>_data(ba), &vb, _data(o), n)
    elif code == c'd':
        _binary_views(op, <double*>_data(aa), &va, <double*>_data(ba), &vb, _data(o), n)
    elif code == c'q':
        _binary_views(op, <long long*>_data(aa), &va, <long long*>_data(ba), &vb, _data(o), n)
    else:
        _binary_views(op, <unsigned char*>_data(aa), &va, <unsigned char*>_data(ba), &vb, _data(o), n)


cdef void _binary_scalar_real(Py_ssize_t op, const real_t* a, double scalar, bint reverse, void* out,
                              Py_ssize_t n) noexcept:
    """Floats meet the scalar in double, unrounded, as in the pure kernel."""
    cdef Py_ssize_t i
    cdef double v
    cdef real_t* values = <real_t*>out
    cdef unsigned char* flags = <unsigned char*>out
    for i in range(n):
        v = a[i]
        if op >= B_EQ:
            flags[i] = _compare_value(op, scalar, v) if reverse else _compare_value(op, v, scalar)
        else:
            values[i] = <real_t>(_arith_value(op, scalar, v) if reverse else _arith_value(op, v, scalar))


cdef int _binary_scalar(Py_ssize_t op, const num_t* a, num_t scalar, bint reverse, void* out,
                        Py_ssize_t n) except -1:
    if reverse:
        _binary_run(op, &scalar, 0, a, 1, out, n)
    else:
        _binary_run(op, a, 1, &scalar, 0, out, n)
    return 0


def binary_scalar(Py_ssize_t op, a, scalar, bint reverse, out) -> None:
    """out[i] = a[i] (op) scalar, or scalar (op) a[i] when reverse."""
    cdef carray.array aa = _array(a, "a")
    cdef char code = _code(aa)
    cdef double real = 0.0
    cdef long long integer = 0
    # convert the scalar first: converting runs Python code, and no length is checked yet
    if code == c'f' or code == c'd':
        real = scalar
    else:
        integer = operator.index(scalar)
        if code == c'B' and not 0 <= integer <= 255:
            raise OverflowError(f"{integer} does not fit in an unsigned byte")
    cdef carray.array o = _array(out, "out")
    _check_binary_op(op, aa, o)
    _need(o, Py_SIZE(aa), "out")
    cdef Py_ssize_t n = Py_SIZE(aa)
    if code == c'f':
        _binary_scalar_real(op, <float*>_data(aa), real, reverse, _data(o), n)
    elif code == c'd':
        _binary_scalar_real(op, <double*>_data(aa), real, reverse, _data(o), n)
    elif code == c'q':
        _binary_scalar(op, <long long*>_data(aa), integer, reverse, _data(o), n)
    else:
        _binary_scalar(op, <unsigned char*>_data(aa), <unsigned char>integer, reverse, _data(o), n)


cdef int _where(const unsigned char* cond, const View* vc, const num_t* a, const View* va, const num_t* b,
                const View* vb, num_t* out) except -1:
    cdef unsigned char* c_scratch = NULL
    cdef num_t* a_scratch = NULL
    cdef num_t* b_scratch = NULL
    cdef const unsigned char* c
    cdef const num_t* x
    cdef const num_t* y
    cdef Py_ssize_t i
    try:
        c = _readable(cond, vc, &c_scratch)
        x = _readable(a, va, &a_scratch)
        y = _readable(b, vb, &b_scratch)
        for i in range(va.n):
            out[i] = x[i] if c[i] else y[i]
    finally:
        PyMem_Free(c_scratch)
        PyMem_Free(a_scratch)
        PyMem_Free(b_scratch)
    return 0


def where(
    cond,
    c_strides,
    Py_ssize_t c_offset,
    a,
    a_strides,
    Py_ssize_t a_offset,
    b,
    b_strides,
    Py_ssize_t b_offset,
    shape,
    out,
) -> None:
    """out = a where cond else b, elementwise over ``shape`` (inputs broadcast by stride 0)."""
    cdef View vc, va, vb
    _parse_view(&vc, shape, c_strides, c_offset)
    _parse_view(&va, shape, a_strides, a_offset)
    _parse_view(&vb, shape, b_strides, b_offset)
    cdef carray.array ca = _array(cond, "cond"), aa = _array(a, "a"), ba = _array(b, "b"), o = _array(out, "out")
    if _code(ca) != c'B':
        raise TypeError(f"cond must hold bools (typecode 'B'), not {chr(_code(ca))!r}")
    _same_code(aa, "a", ba, "b")
    _same_code(aa, "a", o, "out")
    _need(o, va.n, "out")
    _check_view(&vc, Py_SIZE(ca), "cond")
    _check_view(&va, Py_SIZE(aa), "a")
    _check_view(&vb, Py_SIZE(ba), "b")
    if va.n == 0:
        return
    cdef const unsigned char* c = <const unsigned char*>_data(ca)
    cdef char code = _code(aa)
    if code == c'f':
        _where(c, &vc, <float*>_data(aa), &va, <float*>_data(ba), &vb, <float*>_data(o))
    elif code == c'd':
        _where(c, &vc, <double*>_data(aa), &va, <double*>_data(ba), &vb, <double*>_data(o))
    elif code == c'q':
        _where(c, &vc, <long long*>_data(aa), &va, <long long*>_data(ba), &vb, <long long*>_data(o))
    else:
        _where(c, &vc, <unsigned char*>_data(aa), &va, <unsigned char*>_data(ba), &vb, <unsigned char*>_data(o))


cdef void _clamp_real(const real_t* x, double low, double high, real_t* out, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    cdef double v, m
    for i in range(n):
        v = x[i]
        if v != v:
            out[i] = x[i]
            continue
        m = low if low > v else v         # Python's max(v, low)
        out[i] = <real_t>(high if high < m else m)   # Python's min(m, high)


cdef void _clamp_int(const int_t* x, bint has_low, long long low, bint has_high, long long high, int_t* out,
                     Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    cdef long long v
    for i in range(n):
        v = x[i]
        if has_low and low > v:
            v = low
        if has_high and high < v:
            v = high
        out[i] = <int_t>v


cdef long long _int_bound(double bound, str name) except? -1:
    if bound != floor(bound) or not -9.2e18 < bound < 9.2e18:
        raise TypeError(f"the {name} bound {bound!r} of an integer clamp must be an integer")
    return <long long>bound


def clamp(x, double low, double high, out) -> None:
    """out = min(max(x, low), high); pass -inf/inf for a missing bound. NaN stays NaN."""
    cdef carray.array xa = _array(x, "x"), o = _array(out, "out")
    _same_code(xa, "x", o, "out")
    _need(o, Py_SIZE(xa), "out")
    cdef Py_ssize_t n = Py_SIZE(xa)
    cdef char code = _code(xa)
    cdef bint has_low = not (isinf(low) or isnan(low)), has_high = not (isinf(high) or isnan(high))
    cdef long long int_low = 0, int_high = 0
    if code == c'f':
        _clamp_real(<float*>_data(xa), low, high, <float*>_data(o), n)
        return
    if code == c'd':
        _clamp_real(<double*>_data(xa), low, high, <double*>_data(o), n)
        return
    # integers: an infinite bound is no bound; a bound below every value (or above) clamps all
    if has_low:
        int_low = _int_bound(low, "low")
    if has_high:
        int_high = _int_bound(high, "high")
    if code == c'B' and ((has_low and not 0 <= int_low <= 255) or (has_high and not 0 <= int_high <= 255)):
        raise OverflowError("a clamp bound of a bool buffer must be 0..255")
    if isinf(low) and low > 0:
        raise TypeError("an integer clamp cannot have an infinite lower bound of +inf")
    if isinf(high) and high < 0:
        raise TypeError("an integer clamp cannot have an infinite upper bound of -inf")
    if code == c'q':
        _clamp_int(<long long*>_data(xa), has_low, int_low, has_high, int_high, <long long*>_data(o), n)
    else:
        _clamp_int(<unsigned char*>_data(xa), has_low, int_low, has_high, int_high, <unsigned char*>_data(o), n)


cdef void _clamp_backward(const real_t* x, double low, double high, const real_t* grad, real_t* out,
                          Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    cdef double v
    for i in range(n):
        v = x[i]
        out[i] = grad[i] if low <= v <= high else 0


def clamp_backward(x, double low, double high, grad, out) -> None:
    """out = grad where low <= x <= high, else 0."""
    cdef carray.array xa = _array(x, "x"), g = _array(grad, "grad"), o = _array(out, "out")
    _floating(o, "out")
    _same_code(o, "out", xa, "x")
    _same_code(o, "out", g, "grad")
    cdef Py_ssize_t n = Py_SIZE(o)
    _need(xa, n, "x")
    _need(g, n, "grad")
    if _code(o) == c'f':
        _clamp_backward(<float*>_data(xa), low, high, <float*>_data(g), <float*>_data(o), n)
    else:
        _clamp_backward(<double*>_data(xa), low, high, <double*>_data(g), <double*>_data(o), n)


cdef void _pow_scalar_backward(const real_t* x, double exponent, const real_t* grad, real_t* out,
                               Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    cdef double e1 = exponent - 1.0
    for i in range(n):
        out[i] = 0 if exponent == 0 else <real_t>(<double>grad[i] * exponent * _pow(x[i], e1))


def pow_scalar_backward(x, double exponent, grad, out) -> None:
    """d/dx x^e = e * x^(e-1); the derivative is 0 where e == 0."""
    cdef carray.array xa = _array(x, "x"), g = _array(grad, "grad"), o = _array(out, "out")
    _floating(o, "out")
    _same_code(o, "out", xa, "x")
    _same_code(o, "out", g, "grad")
    cdef Py_ssize_t n = Py_SIZE(o)
    if exponent != 0:
        _need(xa, n, "x")
        _need(g, n, "grad")
    if _code(o) == c'f':
        _pow_scalar_backward(<float*>_data(xa), exponent, <float*>_data(g), <float*>_data(o), n)
    else:
        _pow_scalar_backward(<double*>_data(xa), exponent, <double*>_data(g), <double*>_data(o), n)


# ---------------------------------------------------------------------------------------------
# Reductions over one dimension of a contiguous buffer viewed as (outer, n, inner)
# ---------------------------------------------------------------------------------------------

cdef int _check_lines(Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner, carray.array x, str x_name,
                      carray.array out, Py_ssize_t out_len, str out_name) except -1:
    """x holds outer * n * inner elements and out holds out_len."""
    _nonneg(outer, "outer")
    _nonneg(n, "n")
    _nonneg(inner, "inner")
    _need(x, _mul(_mul(outer, n), inner), x_name)
    _need(out, out_len, out_name)
    return 0


cdef int _need_nonempty_lines(Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner, str what) except -1:
    if n == 0 and outer and inner:
        raise ValueError(f"{what} of an empty sequence (n == 0)")
    return 0


cdef int _reduce_sum(const num_t* x, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner, num_t* out) except -1:
    """Sum along k, each line from 0 in order of k (the inner loop runs over i for the cache)."""
    cdef double* acc = NULL
    cdef long long* iacc = NULL
    cdef Py_ssize_t o, k, i
    cdef const num_t* row
    try:
        if num_t is float or num_t is double:
            acc = <double*>_alloc(inner, sizeof(double))
        else:
            iacc = <long long*>_alloc(inner, sizeof(long long))
        for o in range(outer):
            for i in range(inner):
                if num_t is float or num_t is double:
                    acc[i] = 0.0
                else:
                    iacc[i] = 0
            for k in range(n):
                row = x + (o * n + k) * inner
                for i in range(inner):
                    if num_t is float or num_t is double:
                        acc[i] += row[i]
                    else:
                        iacc[i] = <long long>(<unsigned long long>iacc[i] + <unsigned long long>row[i])
            for i in range(inner):
                if num_t is float or num_t is double:
                    out[o * inner + i] = <num_t>acc[i]
                else:
                    out[o * inner + i] = <num_t>iacc[i]
    finally:
        PyMem_Free(acc)
        PyMem_Free(iacc)
    return 0


cdef void _reduce_extreme(Py_ssize_t op, const num_t* x, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner,
                          num_t* out) noexcept:
    """MAX or MIN along k; NaN wins (as the pure kernel: any NaN in the line gives NaN)."""
    cdef Py_ssize_t o, k, i
    cdef num_t best, v
    cdef bint nan
    for o in range(outer):
        for i in range(inner):
            best = x[o * n * inner + i]
            nan = False
            for k in range(n):
                v = x[(o * n + k) * inner + i]
                if v != v:
                    nan = True
                    break
                if (op == R_MAX and v > best) or (op == R_MIN and v < best):
                    best = v
            if num_t is float or num_t is double:
                out[o * inner + i] = <num_t>NAN if nan else best
            else:
                out[o * inner + i] = best


def reduce_dim(Py_ssize_t op, x, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner, out) -> None:
    """out[o, i] = reduce_k x[o, k, i] for SUM, MAX or MIN (NaN wins MAX and MIN)."""
    if op != R_SUM and op != R_MAX and op != R_MIN:
        raise ValueError(f"unknown reduction op code {op}")
    cdef carray.array xa = _array(x, "x"), o = _array(out, "out")
    _same_code(xa, "x", o, "out")
    _check_lines(outer, n, inner, xa, "x", o, _mul(outer, inner), "out")
    if op != R_SUM:
        _need_nonempty_lines(outer, n, inner, "max/min")
    cdef char code = _code(xa)
    if op == R_SUM:
        if code == c'f':
            _reduce_sum(<float*>_data(xa), outer, n, inner, <float*>_data(o))
        elif code == c'd':
            _reduce_sum(<double*>_data(xa), outer, n, inner, <double*>_data(o))
        elif code == c'q':
            _reduce_sum(<long long*>_data(xa), outer, n, inner, <long long*>_data(o))
        else:
            _reduce_sum(<unsigned char*>_data(xa), outer, n, inner, <unsigned char*>_data(o))
    elif code == c'f':
        _reduce_extreme(op, <float*>_data(xa), outer, n, inner, <float*>_data(o))
    elif code == c'd':
        _reduce_extreme(op, <double*>_data(xa), outer, n, inner, <double*>_data(o))
    elif code == c'q':
        _reduce_extreme(op, <long long*>_data(xa), outer, n, inner, <long long*>_data(o))
    else:
        _reduce_extreme(op, <unsigned char*>_data(xa), outer, n, inner, <unsigned char*>_data(o))


cdef void _arg_reduce(Py_ssize_t op, const num_t* x, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner,
                      num_t* values, long long* indices) noexcept:
    cdef Py_ssize_t o, k, i, best_k
    cdef num_t best, v
    for o in range(outer):
        for i in range(inner):
            best = x[o * n * inner + i]
            best_k = 0
            for k in range(1, n):
                v = x[(o * n + k) * inner + i]
                if best != best:
                    break
                if v != v or (op == R_MAX and v > best) or (op == R_MIN and v < best):
                    best = v
                    best_k = k
            values[o * inner + i] = best
            indices[o * inner + i] = best_k


def arg_reduce_dim(Py_ssize_t op, x, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner, values, indices) -> None:
    """values/indices of the MAX or MIN along k of x[o, k, i]; first occurrence; NaN wins."""
    if op != R_MAX and op != R_MIN:
        raise ValueError(f"arg_reduce_dim needs MAX or MIN, got op code {op}")
    cdef carray.array xa = _array(x, "x"), va = _array(values, "values"), ia = _array(indices, "indices")
    _same_code(xa, "x", va, "values")
    if _code(ia) != c'q':
        raise TypeError(f"indices must have typecode 'q', not {chr(_code(ia))!r}")
    _check_lines(outer, n, inner, xa, "x", va, _mul(outer, inner), "values")
    _need(ia, Py_SIZE(va), "indices")
    _need_nonempty_lines(outer, n, inner, "argmax/argmin")
    cdef long long* idx = <long long*>_data(ia)
    cdef char code = _code(xa)
    if code == c'f':
        _arg_reduce(op, <float*>_data(xa), outer, n, inner, <float*>_data(va), idx)
    elif code == c'd':
        _arg_reduce(op, <double*>_data(xa), outer, n, inner, <double*>_data(va), idx)
    elif code == c'q':
        _arg_reduce(op, <long long*>_data(xa), outer, n, inner, <long long*>_data(va), idx)
    else:
        _arg_reduce(op, <unsigned char*>_data(xa), outer, n, inner, <unsigned char*>_data(va), idx)


cdef double _fsum_run(const real_t* x, Py_ssize_t n) except? -1.0:  # -1.0: MemoryError
    cdef FSum s
    cdef Py_ssize_t i
    s.p = _fsum_partials()
    try:
        _fsum_reset(&s)
        for i in range(n):
            _fsum_add(&s, x[i])
        return _fsum_result(&s)
    finally:
        PyMem_Free(s.p)


cdef long long _int_sum(const int_t* x, Py_ssize_t n) noexcept:
    cdef unsigned long long total = 0
    cdef Py_ssize_t i
    for i in range(n):
        total += <unsigned long long>x[i]
    return <long long>total


def sum_all(x):
    """The sum of every element, accumulated in double precision."""
    cdef carray.array xa = _array(x, "x")
    cdef char code = _code(xa)
    if code == c'f':
        return _fsum_run(<float*>_data(xa), Py_SIZE(xa))
    if code == c'd':
        return _fsum_run(<double*>_data(xa), Py_SIZE(xa))
    if code == c'q':
        return _int_sum(<long long*>_data(xa), Py_SIZE(xa))
    return _int_sum(<unsigned char*>_data(xa), Py_SIZE(xa))


# ---------------------------------------------------------------------------------------------
# Linear algebra
# ---------------------------------------------------------------------------------------------

cdef int _matmul(const num_t* a, const num_t* b, Py_ssize_t batch, Py_ssize_t m, Py_ssize_t k, Py_ssize_t n,
                 num_t* out) except -1:
    """Row i of out[z] accumulates a[z, i, l] * b[z, l, :] over l in order, from 0. Floats in
    products of MATMUL_BLOCKED_AT multiply-adds or more take _matmul_blocked (same sums)."""
    if num_t is float or num_t is double:
        if _mul(_mul(_mul(batch, m), k), n) >= MATMUL_BLOCKED_AT:
            return _matmul_blocked(a, b, batch, m, k, n, out)
    cdef double* acc = NULL
    cdef long long* iacc = NULL
    cdef Py_ssize_t z, i, l, j
    cdef double av
    cdef unsigned long long ai
    cdef const num_t* brow
    try:
        if num_t is float or num_t is double:
            acc = <double*>_alloc(n, sizeof(double))
        else:
            iacc = <long long*>_alloc(n, sizeof(long long))
        for z in range(batch):
            for i in range(m):
                if num_t is float or num_t is double:
                    for j in range(n):
                        acc[j] = 0.0
                    for l in range(k):
                        av = a[(z * m + i) * k + l]
                        brow = b + (z * k + l) * n
                        for j in range(n):
                            acc[j] += av * brow[j]
                    for j in range(n):
                        out[(z * m + i) * n + j] = <num_t>acc[j]
                else:
                    for j in range(n):
                        iacc[j] = 0
                    for l in range(k):
                        ai = <unsigned long long>a[(z * m + i) * k + l]
                        brow = b + (z * k + l) * n
                        for j in range(n):
                            iacc[j] = <long long>(<unsigned long long>iacc[j] + ai * <unsigned long long>brow[j])
                    for j in range(n):
                        out[(z * m + i) * n + j] = <num_t>iacc[j]
    finally:
        PyMem_Free(acc)
        PyMem_Free(iacc)
    return 0


def matmul(a, b, Py_ssize_t batch, Py_ssize_t m, Py_ssize_t k, Py_ssize_t n, out) -> None:
    """out[z] = a[z] @ b[z] for z < batch, with a[z] (m, k), b[z] (k, n), all row-major."""
    for value, name in ((batch, "batch"), (m, "m"), (k, "k"), (n, "n")):
        _nonneg(value, name)
    cdef carray.array aa = _array(a, "a"), ba = _array(b, "b"), o = _array(out, "out")
    _same_code(aa, "a", ba, "b")
    _same_code(aa, "a", o, "out")
    if _code(aa) == c'B':
        raise TypeError("matmul does not multiply bools (typecode 'B')")
    _need(aa, _mul(_mul(batch, m), k), "a")
    _need(ba, _mul(_mul(batch, k), n), "b")
    _need(o, _mul(_mul(batch, m), n), "out")
    cdef char code = _code(aa)
    if code == c'f':
        _matmul(<float*>_data(aa), <float*>_data(ba), batch, m, k, n, <float*>_data(o))
    elif code == c'd':
        _matmul(<double*>_data(aa), <double*>_data(ba), batch, m, k, n, <double*>_data(o))
    else:
        _matmul(<long long*>_data(aa), <long long*>_data(ba), batch, m, k, n, <long long*>_data(o))


# ---------------------------------------------------------------------------------------------
# Softmax family over one dimension of a contiguous buffer viewed as (outer, n, inner)
# ---------------------------------------------------------------------------------------------

cdef inline double _line_max(const real_t* line, Py_ssize_t n, Py_ssize_t stride) noexcept:
    """Python's max() of the line: the first element no later element is greater than."""
    cdef double m = line[0], v
    cdef Py_ssize_t k
    for k in range(1, n):
        v = line[k * stride]
        if v > m:
            m = v
    return m


cdef double _logsumexp_line(const real_t* line, Py_ssize_t n, Py_ssize_t stride, FSum* s) noexcept:
    cdef double m = _line_max(line, n, stride)
    cdef Py_ssize_t k
    if m == INFINITY or m == -INFINITY or m != m:
        return m
    _fsum_reset(s)
    for k in range(n):
        _fsum_add(s, exp(<double>line[k * stride] - m))
    return m + _log(_fsum_result(s))


cdef int _softmax_family(int which, const real_t* x, const real_t* grad, Py_ssize_t outer, Py_ssize_t n,
                         Py_ssize_t inner, real_t* out) except -1:
    """One of the five line kernels below, over every (o, i) line along k."""
    cdef FSum s
    cdef Py_ssize_t o, i, k
    cdef const real_t* line
    cdef const real_t* g
    cdef real_t* dst
    cdef double m, total, e, v
    s.p = _fsum_partials()
    try:
        for o in range(outer):
            for i in range(inner):
                line = x + o * n * inner + i
                g = grad + o * n * inner + i
                dst = out + o * n * inner + i
                if which == 0:      # log_softmax: NaN throughout a line whose max is infinite
                    m = _logsumexp_line(line, n, inner, &s)
                    for k in range(n):
                        dst[k * inner] = <real_t>(NAN if isinf(m) else <double>line[k * inner] - m)
                elif which == 1:    # log_softmax_backward (x is y)
                    _fsum_reset(&s)
                    for k in range(n):
                        _fsum_add(&s, g[k * inner])
                    total = _fsum_result(&s)
                    for k in range(n):
                        v = line[k * inner]
                        e = exp(v)
                        if isinf(e) and isfinite(v):
                            raise OverflowError("math range error")
                        dst[k * inner] = <real_t>(<double>g[k * inner] - e * total)
                elif which == 2:    # softmax
                    m = _line_max(line, n, inner)
                    _fsum_reset(&s)
                    for k in range(n):
                        _fsum_add(&s, exp(<double>line[k * inner] - m))
                    total = _fsum_result(&s)
                    for k in range(n):
                        dst[k * inner] = <real_t>(exp(<double>line[k * inner] - m) / total)
                elif which == 3:    # softmax_backward (x is y)
                    _fsum_reset(&s)
                    for k in range(n):
                        _fsum_add(&s, <double>g[k * inner] * <double>line[k * inner])
                    total = _fsum_result(&s)
                    for k in range(n):
                        v = line[k * inner]
                        dst[k * inner] = <real_t>(v * (<double>g[k * inner] - total))
                else:               # logsumexp: one value per line
                    out[o * inner + i] = <real_t>_logsumexp_line(line, n, inner, &s)
    finally:
        PyMem_Free(s.p)
    return 0


cdef int _run_softmax_family(int which, x, grad, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner, out,
                             str x_name) except -1:
    cdef carray.array xa = _array(x, x_name), o = _array(out, "out")
    cdef carray.array g = _array(grad, "grad") if grad is not None else xa
    _floating(xa, x_name)
    _same_code(xa, x_name, o, "out")
    _same_code(xa, x_name, g, "grad")
    _check_lines(outer, n, inner, xa, x_name, o, _mul(outer, inner) if which == 4 else Py_SIZE(xa), "out")
    _need(g, Py_SIZE(xa), "grad")
    if which == 0 or which == 2 or which == 4:
        _need_nonempty_lines(outer, n, inner, "max()")
    if _code(xa) == c'f':
        _softmax_family(which, <float*>_data(xa), <float*>_data(g), outer, n, inner, <float*>_data(o))
    else:
        _softmax_family(which, <double*>_data(xa), <double*>_data(g), outer, n, inner, <double*>_data(o))
    return 0


def log_softmax(x, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner, out) -> None:
    """out = x - logsumexp(x) along the middle dimension, computed stably."""
    _run_softmax_family(0, x, None, outer, n, inner, out, "x")


def log_softmax_backward(y, grad, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner, out) -> None:
    """out = g - exp(y) * sum(g) along the line, where y = log_softmax(x)."""
    if grad is None:
        raise TypeError("grad must be an array.array, not NoneType")
    _run_softmax_family(1, y, grad, outer, n, inner, out, "y")


def softmax(x, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner, out) -> None:
    """out = exp(x - max) / sum(exp(x - max)) along the middle dimension."""
    _run_softmax_family(2, x, None, outer, n, inner, out, "x")


def softmax_backward(y, grad, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner, out) -> None:
    """out = y * (g - sum(g * y)) along the line, where y = softmax(x)."""
    if grad is None:
        raise TypeError("grad must be an array.array, not NoneType")
    _run_softmax_family(3, y, grad, outer, n, inner, out, "y")


def logsumexp(x, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner, out) -> None:
    """out[o, i] = log sum_k exp(x[o, k, i]), computed stably."""
    _run_softmax_family(4, x, None, outer, n, inner, out, "x")


# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------

cdef int _check_nll(carray.array values, str values_name, carray.array target, carray.array weight,
                    Py_ssize_t n, Py_ssize_t c, Py_ssize_t ignore_index) except -1:
    """target is n int64 class indices in [0, c) or ignore_index; weight is empty or c floats."""
    _nonneg(n, "n")
    _nonneg(c, "c")
    _floating(values, values_name)
    _same_code(values, values_name, weight, "weight")
    if _code(target) != c'q':
        raise TypeError(f"target must have typecode 'q', not {chr(_code(target))!r}")
    _need(target, n, "target")
    if Py_SIZE(weight) != 0:
        _need(weight, c, "weight")
    cdef const long long* t = <const long long*>_data(target)
    cdef Py_ssize_t i
    for i in range(n):
        if t[i] != ignore_index and not 0 <= t[i] < c:
            raise IndexError(f"Target {t[i]} is out of bounds.")
    return 0


cdef double _nll_loss(const real_t* logp, const long long* target, const real_t* weight, bint weighted,
                      Py_ssize_t n, Py_ssize_t c, Py_ssize_t ignore_index, real_t* losses) noexcept:
    cdef double total_weight = 0.0, w
    cdef Py_ssize_t i
    cdef long long t
    for i in range(n):
        t = target[i]
        if t == ignore_index:
            losses[i] = 0
            continue
        w = weight[t] if weighted else 1.0
        total_weight += w
        losses[i] = <real_t>(-w * <double>logp[i * c + t])
    return total_weight


def nll_loss(logp, target, weight, Py_ssize_t n, Py_ssize_t c, Py_ssize_t ignore_index, losses) -> float:
    """losses[i] = -weight[t] * logp[i, t] with t = target[i] (0 where t == ignore_index).

    Returns the total weight of the counted rows (the denominator of the 'mean' reduction).
    An empty ``weight`` buffer means weight 1 for every class.
    """
    cdef carray.array lp = _array(logp, "logp"), t = _array(target, "target"), w = _array(weight, "weight")
    cdef carray.array out = _array(losses, "losses")
    _check_nll(lp, "logp", t, w, n, c, ignore_index)
    _same_code(lp, "logp", out, "losses")
    _need(lp, _mul(n, c), "logp")
    _need(out, n, "losses")
    cdef const long long* tp = <const long long*>_data(t)
    if _code(lp) == c'f':
        return _nll_loss(<float*>_data(lp), tp, <float*>_data(w), Py_SIZE(w) != 0, n, c, ignore_index,
                         <float*>_data(out))
    return _nll_loss(<double*>_data(lp), tp, <double*>_data(w), Py_SIZE(w) != 0, n, c, ignore_index,
                     <double*>_data(out))


cdef void _nll_loss_backward(const real_t* grad, const long long* target, const real_t* weight, bint weighted,
                             Py_ssize_t n, Py_ssize_t c, Py_ssize_t ignore_index, real_t* out) noexcept:
    cdef Py_ssize_t i
    cdef long long t
    cdef double w
    memset(out, 0, n * c * sizeof(real_t))
    for i in range(n):
        t = target[i]
        if t != ignore_index:
            w = weight[t] if weighted else 1.0
            out[i * c + t] = <real_t>(-w * <double>grad[i])


def nll_loss_backward(grad, target, weight, Py_ssize_t n, Py_ssize_t c, Py_ssize_t ignore_index, out) -> None:
    """out[i, t] = -weight[t] * grad[i] for t = target[i]; every other entry is 0."""
    cdef carray.array g = _array(grad, "grad"), t = _array(target, "target"), w = _array(weight, "weight")
    cdef carray.array o = _array(out, "out")
    _check_nll(g, "grad", t, w, n, c, ignore_index)
    _same_code(g, "grad", o, "out")
    _need(g, n, "grad")
    _need(o, _mul(n, c), "out")
    cdef const long long* tp = <const long long*>_data(t)
    if _code(g) == c'f':
        _nll_loss_backward(<float*>_data(g), tp, <float*>_data(w), Py_SIZE(w) != 0, n, c, ignore_index,
                           <float*>_data(o))
    else:
        _nll_loss_backward(<double*>_data(g), tp, <double*>_data(w), Py_SIZE(w) != 0, n, c, ignore_index,
                           <double*>_data(o))


# ---------------------------------------------------------------------------------------------
# LSTM: one layer and one direction over a whole sequence
# ---------------------------------------------------------------------------------------------

cdef int _lstm_dims(object shape, Py_ssize_t* dims) except -1:
    """shape = (steps, batch, input size, hidden size), non-negative."""
    shape = tuple(shape)
    if len(shape) != 4:
        raise ValueError(f"shape must be (steps, batch, input_size, hidden_size), got {shape}")
    cdef Py_ssize_t d
    for d in range(4):
        dims[d] = shape[d]
        _nonneg(dims[d], ("steps", "batch", "input_size", "hidden_size")[d])
    _mul(4, dims[3])
    return 0


cdef int _need_all(tuple buffers, tuple names, tuple sizes) except -1:
    """Every buffer is a float array of out's typecode (the first) with its size."""
    cdef carray.array first = buffers[0]
    _floating(first, names[0])
    cdef Py_ssize_t k
    for k in range(len(buffers)):
        _same_code(first, names[0], buffers[k], names[k])
        _need(buffers[k], sizes[k], names[k])
    return 0


# The LSTM's matrix products run through one C routine, _gemm, written with GCC/Clang vector
# extensions: a vector holds MG_LANES neighbouring columns of the product, each lane its own sum,
# so vectorizing never reassociates a sum. (Plain loops leave the choice to the compiler, which
# may keep the accumulators in memory or vectorize along the sum with shuffles.)
cdef extern from *:
    """
    #if !defined(__GNUC__)
    #error "minigrad_c's LSTM kernels need GCC or Clang (vector extensions)"
    #endif
    /* as many doubles as the widest vector registers the build may use hold */
    #if defined(__AVX512F__)
    #define MG_LANES 8
    #elif defined(__AVX__)
    #define MG_LANES 4
    #else
    #define MG_LANES 2
    #endif
    #define MG_PANEL (8 * MG_LANES)   /* columns of a panel of b: the widest tile */
    #define MG_KC (512 / MG_LANES)    /* k per block: a panel's block of b is 32 KiB, to stay in L1 */
    /* may_alias: it reads and writes arrays of doubles; aligned: to a double only */
    typedef double mg_vec
        __attribute__((vector_size(MG_LANES * sizeof(double)), aligned(sizeof(double)), may_alias));

    /* c[i, j] = (first ? 0.0 : c[i, j]) + the sum over k < K, in order, of
       a[i * ars + k * acs] * b[k * ldb + j], for i < R and j < V * MG_LANES: R x V vectors of
       sums, held in registers while k runs. */
    static inline __attribute__((always_inline)) void mg_tile(
        const int R, const int V, int first, Py_ssize_t K, const double* a, Py_ssize_t ars,
        Py_ssize_t acs, const double* b, Py_ssize_t ldb, double* c, Py_ssize_t ldc)
    {
        mg_vec acc[4][8];
        Py_ssize_t k;
        int i, v;
        for (i = 0; i < R; i++)
            for (v = 0; v < V; v++)
                acc[i][v] = first ? (mg_vec){0.0} : *(const mg_vec*)(c + i * ldc + v * MG_LANES);
        for (k = 0; k < K; k++) {
            const mg_vec* bk = (const mg_vec*)(b + k * ldb);
            for (i = 0; i < R; i++) {
                const double x = a[i * ars + k * acs];
                for (v = 0; v < V; v++)
                    acc[i][v] += x * bk[v];
            }
        }
        for (i = 0; i < R; i++)
            for (v = 0; v < V; v++)
                *(mg_vec*)(c + i * ldc + v * MG_LANES) = acc[i][v];
    }

    /* R rows of c across a panel of width w: tiles of V vectors, then of one vector. */
    static inline __attribute__((always_inline)) void mg_rows(
        const int R, const int V, int first, Py_ssize_t K, const double* a, Py_ssize_t ars,
        Py_ssize_t acs, const double* panel, Py_ssize_t w, double* c, Py_ssize_t ldc)
    {
        Py_ssize_t j = 0;
        for (; j + V * MG_LANES <= w; j += V * MG_LANES)
            mg_tile(R, V, first, K, a, ars, acs, panel + j, w, c + j, ldc);
        for (; j < w; j += MG_LANES)
            mg_tile(R, 1, first, K, a, ars, acs, panel + j, w, c + j, ldc);
    }

    /* c (M x N, row stride ldc) = a (M x K, strides ars and acs) b (K x N, packed by _pack).
       Blocks of MG_KC k, in order: each block adds its terms to the sums the earlier ones left
       in c (a sum stored and reloaded is the same double), so every sum still runs over k in
       order. Within a block, each panel of b is used by all the row tiles in turn. */
    static void mg_gemm(Py_ssize_t M, Py_ssize_t K, Py_ssize_t N, const double* a, Py_ssize_t ars,
                        Py_ssize_t acs, const double* b, double* c, Py_ssize_t ldc)
    {
        Py_ssize_t k0 = 0, kc, n0, w, i;
        const double* panel;
        do {    /* at least once: with K == 0, c is all 0.0 */
            kc = K - k0 < MG_KC ? K - k0 : MG_KC;
            for (n0 = 0; n0 < N; n0 += MG_PANEL) {
                w = N - n0 < MG_PANEL ? N - n0 : MG_PANEL;
                panel = b + n0 * K + k0 * w;
                for (i = 0; i + 4 <= M; i += 4)
                    mg_rows(4, 2, k0 == 0, kc, a + i * ars + k0 * acs, ars, acs, panel, w, c + i * ldc + n0, ldc);
                if (i + 2 <= M) {
                    mg_rows(2, 4, k0 == 0, kc, a + i * ars + k0 * acs, ars, acs, panel, w, c + i * ldc + n0, ldc);
                    i += 2;
                }
                if (i < M)
                    mg_rows(1, 8, k0 == 0, kc, a + i * ars + k0 * acs, ars, acs, panel, w, c + i * ldc + n0, ldc);
            }
            k0 += kc;
        } while (k0 < K);
    }
    """
    enum:
        MG_LANES    # doubles in a vector
        MG_PANEL    # columns in a panel of a packed b: the widest tile
    void _gemm "mg_gemm"(Py_ssize_t M, Py_ssize_t K, Py_ssize_t N, const double* a, Py_ssize_t ars,
                         Py_ssize_t acs, const double* b, double* c, Py_ssize_t ldc) noexcept
    # c[i, j] = sum over k < K, in order from 0.0, of a[i * ars + k * acs] * b[k, j], for i < M and
    # j < N, b packed by _pack; c has row stride ldc. N and ldc are multiples of MG_LANES (and c is
    # best aligned to a cache line). Tiles of 4 rows x 2 vectors, 2 x 4 or 1 x 8 (whatever rows
    # remain) keep 8 vectors of sums in registers.


cdef inline Py_ssize_t _padded(Py_ssize_t n) noexcept:
    """n rounded up to a whole number of vectors (the columns of a product buffer)."""
    return (n + MG_LANES - 1) // MG_LANES * MG_LANES


cdef void* _workspace(const Py_ssize_t* counts, double** blocks, int n) except NULL:
    """One allocation of n blocks of counts[k] doubles, each starting on a 64-byte line (so that
    vector loads never straddle two): blocks[k] is block k; free the returned pointer with
    PyMem_Free. One allocation, not n: glibc gives a large free block back to the system, and
    faulting its pages in again took longer than the arithmetic."""
    cdef Py_ssize_t total = 8, k
    for k in range(n):
        if counts[k] > PY_SSIZE_T_MAX // <Py_ssize_t>sizeof(double) - total:
            raise MemoryError()
        total += (counts[k] + 7) // 8 * 8
    cdef char* raw = <char*>_alloc(total, sizeof(double))
    cdef double* block = <double*>(raw + 64 - <size_t>raw % 64)
    for k in range(n):
        blocks[k] = block
        block += (counts[k] + 7) // 8 * 8
    return raw


cdef void _pack(const real_t* src, Py_ssize_t rs, Py_ssize_t cs, Py_ssize_t rows, Py_ssize_t N, double* b,
                Py_ssize_t K, Py_ssize_t first) noexcept:
    """Write rows first .. first + rows - 1 of a (K x N) matrix b for _gemm, as doubles:
    b[first + k, n] = src[k * rs + n * cs]. The layout: panels of MG_PANEL columns (the last one
    narrower), each K rows of its width, columns N .. _padded(N) zero; the panel from column n0,
    of width w, holds b[k, n0 + j] at b[n0 * K + k * w + j]."""
    cdef Py_ssize_t n_pad = _padded(N), n0, w, used, k, j
    cdef double* dst
    cdef const real_t* row
    for n0 in range(0, n_pad, MG_PANEL):
        w = min(<Py_ssize_t>MG_PANEL, n_pad - n0)
        used = min(w, N - n0)
        for k in range(rows):
            dst = b + n0 * K + (first + k) * w
            row = src + k * rs + n0 * cs
            for j in range(used):
                dst[j] = row[j * cs]
            for j in range(used, w):
                dst[j] = 0.0


cdef void _activate_gates(double* z, Py_ssize_t H, bint vector_math) noexcept:
    """In place: the 4H pre-activations (i, f, g, o) -> (sigmoid, sigmoid, tanh, sigmoid).

    ``vector_math``: the branch-free mg_sigmoid and mg_tanh, which run on vector lanes (float32
    gates, whose rounding hides their last-bit differences); else libm's, as the pure kernel."""
    _sigmoid_all(z, 2 * H, vector_math)      # i, f
    _tanh_all(z + 2 * H, H, vector_math)     # g
    _sigmoid_all(z + 3 * H, H, vector_math)  # o


cdef void _sigmoid_all(double* v, Py_ssize_t n, bint vector_math) noexcept:
    """In place: v[j] = sigmoid(v[j]); ``vector_math`` as in _activate_gates."""
    cdef Py_ssize_t j
    if vector_math:
        for j in range(n):
            v[j] = mg_sigmoid(v[j])
    else:
        for j in range(n):
            v[j] = _sigmoid(v[j])


cdef void _tanh_all(double* v, Py_ssize_t n, bint vector_math) noexcept:
    """In place: v[j] = tanh(v[j]); ``vector_math`` as in _activate_gates."""
    cdef Py_ssize_t j
    if vector_math:
        for j in range(n):
            v[j] = mg_tanh(v[j])
    else:
        for j in range(n):
            v[j] = tanh(v[j])


cdef int _lstm_forward(const real_t* x, const real_t* w_ih, const real_t* w_hh, const real_t* b_ih,
                       const real_t* b_hh, bint has_bias, const real_t* h0, const real_t* c0,
                       Py_ssize_t T, Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, bint reverse,
                       real_t* out, real_t* h_n, real_t* c_n, real_t* gates, real_t* cells) except -1:
    """The input sums x_t w_ih^T do not depend on the recurrence: they come first, for all T*B
    rows, as one matrix product. Each step then multiplies the B previous h by w_hh^T and applies
    the gates. Every sum runs over l in order from 0.0, as the pure kernel's sum(), and each gate's
    pre-activation is (x sum + bias) + h sum, as there. The activations run a row at a time over
    whole vectors (see _activate_gates for float32's)."""
    cdef Py_ssize_t G = 4 * H, G_pad = _padded(G), s, t, b, r, j, row, prev
    cdef Py_ssize_t counts[8]
    cdef double* blocks[8]
    counts[:] = [_mul(I, G_pad), _mul(H, G_pad), G, _mul(_mul(T, B), I), _mul(_mul(T, B), G_pad), _mul(B, H),
                 _mul(B, G_pad), H]
    cdef void* work = _workspace(counts, blocks, 8)
    cdef double* w_ih_t = blocks[0]   # w_ih^T (I, 4H) and w_hh^T (H, 4H), packed for _gemm
    cdef double* w_hh_t = blocks[1]
    cdef double* bias = blocks[2]     # (4H,) b_ih + b_hh, or zeros
    cdef double* x_d = blocks[3]      # (T*B, I) x in double
    cdef double* z_x = blocks[4]      # (T*B, G_pad) x_t w_ih^T for every row
    cdef double* h_d = blocks[5]      # (B, H) the previous h, as stored, in double
    cdef double* z_h = blocks[6]      # (B, G_pad) h w_hh^T for the current step, then the gates
    cdef double* tanh_c = blocks[7]   # (H,) c', then tanh(c'), of the current row
    cdef bint vector_math = real_t is float
    cdef const real_t* c_p
    cdef const double* zx_row
    cdef double* z
    cdef real_t* act
    cdef real_t h
    cdef double c
    _pack(w_ih, 1, I, I, G, w_ih_t, I, 0)
    _pack(w_hh, 1, H, H, G, w_hh_t, H, 0)
    for r in range(G):
        bias[r] = <double>b_ih[r] + <double>b_hh[r] if has_bias else 0.0
    for j in range(T * B * I):
        x_d[j] = x[j]
    for j in range(B * H):
        h_d[j] = h0[j]
    _gemm(T * B, I, G_pad, x_d, I, 1, w_ih_t, z_x, G_pad)
    for s in range(T):
        t = T - 1 - s if reverse else s
        prev = t + 1 if reverse else t - 1
        _gemm(B, H, G_pad, h_d, H, 1, w_hh_t, z_h, G_pad)
        for b in range(B):
            row = t * B + b
            c_p = cells + (prev * B + b) * H if s else c0 + b * H
            zx_row = z_x + row * G_pad
            z = z_h + b * G_pad
            for r in range(G):
                z[r] = zx_row[r] + bias[r] + z[r]
            _activate_gates(z, H, vector_math)    # z = (i, f, g, o)
            act = gates + row * G
            for r in range(G):
                act[r] = <real_t>z[r]
            for j in range(H):
                c = z[H + j] * <double>c_p[j] + z[j] * z[2 * H + j]
                cells[row * H + j] = <real_t>c
                tanh_c[j] = c
            _tanh_all(tanh_c, H, vector_math)
            for j in range(H):
                h = <real_t>(z[3 * H + j] * tanh_c[j])
                out[row * H + j] = h
                h_d[b * H + j] = h
    t = 0 if reverse else T - 1
    for j in range(B * H):
        h_n[j] = out[t * B * H + j] if T else h0[j]
        c_n[j] = cells[t * B * H + j] if T else c0[j]
    PyMem_Free(work)
    return 0


def lstm_forward(
    x,
    w_ih,
    w_hh,
    b_ih,
    b_hh,
    h0,
    c0,
    shape,
    bint reverse,
    out,
    h_n,
    c_n,
    gates,
    cells,
) -> None:
    """Run one LSTM layer over a sequence, gates in torch's order (i, f, g, o).

    See ``minigrad._kernels.lstm_forward`` for the math; the sums and the rounding are the same.
    """
    cdef Py_ssize_t dims[4]
    _lstm_dims(shape, dims)
    cdef Py_ssize_t T = dims[0], B = dims[1], I = dims[2], H = dims[3], G = 4 * dims[3]
    buffers = tuple(_array(buf, name) for buf, name in (
        (out, "out"), (x, "x"), (w_ih, "w_ih"), (w_hh, "w_hh"), (b_ih, "b_ih"), (b_hh, "b_hh"), (h0, "h0"),
        (c0, "c0"), (h_n, "h_n"), (c_n, "c_n"), (gates, "gates"), (cells, "cells")))
    cdef bint has_bias = Py_SIZE(<carray.array>buffers[4]) != 0
    cdef Py_ssize_t bias_len = G if has_bias else 0
    _need_all(
        buffers,
        ("out", "x", "w_ih", "w_hh", "b_ih", "b_hh", "h0", "c0", "h_n", "c_n", "gates", "cells"),
        (_mul(_mul(T, B), H), _mul(_mul(T, B), I), _mul(G, I), _mul(G, H), bias_len, bias_len, _mul(B, H),
         _mul(B, H), _mul(B, H), _mul(B, H), _mul(_mul(T, B), G), _mul(_mul(T, B), H)),
    )
    cdef void* p[12]
    cdef Py_ssize_t k
    for k in range(12):
        p[k] = _data(<carray.array>buffers[k])
    if _code(<carray.array>buffers[0]) == c'f':
        _lstm_forward(<float*>p[1], <float*>p[2], <float*>p[3], <float*>p[4], <float*>p[5], has_bias,
                      <float*>p[6], <float*>p[7], T, B, I, H, reverse,
                      <float*>p[0], <float*>p[8], <float*>p[9], <float*>p[10], <float*>p[11])
    else:
        _lstm_forward(<double*>p[1], <double*>p[2], <double*>p[3], <double*>p[4], <double*>p[5], has_bias,
                      <double*>p[6], <double*>p[7], T, B, I, H, reverse,
                      <double*>p[0], <double*>p[8], <double*>p[9], <double*>p[10], <double*>p[11])


cdef void _store_rounded(const double* src, Py_ssize_t ld, Py_ssize_t rows, Py_ssize_t cols, real_t* out) noexcept:
    """out (rows, cols) = src (rows, cols of a buffer with row stride ld), rounded once."""
    cdef Py_ssize_t r, l
    for r in range(rows):
        for l in range(cols):
            out[r * cols + l] = <real_t>src[r * ld + l]


cdef int _matmul_blocked(const real_t* a, const real_t* b, Py_ssize_t batch, Py_ssize_t m, Py_ssize_t k,
                         Py_ssize_t n, real_t* out) except -1:
    """_matmul's products on the blocked _gemm: a in double, b packed, each sum over l in order
    from 0.0 in double and rounded once, so the same results, on vector lanes."""
    cdef Py_ssize_t n_pad = _padded(n), z, j
    cdef Py_ssize_t counts[3]
    cdef double* blocks[3]
    counts[:] = [_mul(m, k), _mul(k, n_pad), _mul(m, n_pad)]
    cdef void* work = _workspace(counts, blocks, 3)
    cdef double* a_d = blocks[0]      # a[z] (m, k) in double
    cdef double* b_packed = blocks[1] # b[z] (k, n) packed for _gemm
    cdef double* c = blocks[2]        # (m, n_pad) the sums before rounding
    for z in range(batch):
        for j in range(m * k):
            a_d[j] = a[z * m * k + j]
        _pack(b + z * k * n, n, 1, k, n, b_packed, k, 0)
        _gemm(m, k, n_pad, a_d, k, 1, b_packed, c, n_pad)
        _store_rounded(c, n_pad, m, n, out + z * m * n)
    PyMem_Free(work)
    return 0


cdef int _lstm_backward(const real_t* x, const real_t* w_ih, const real_t* w_hh, const real_t* h0,
                        const real_t* c0, const real_t* out, const real_t* gates, const real_t* cells,
                        const real_t* grad_out, const real_t* grad_h_n, const real_t* grad_c_n,
                        Py_ssize_t T, Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, bint reverse,
                        real_t* grad_x, real_t* grad_w_ih, real_t* grad_w_hh, real_t* grad_bias,
                        real_t* grad_h0, real_t* grad_c0) except -1:
    """The steps are walked in reverse, carrying dh and dc; each walked row's dz is kept (a column
    of dz_t, in walk order), and only dh <- dz w_hh runs inside the walk. grad_x = dz w_ih and the
    weight gradients dz^T x, dz^T h_prev, which do not feed the recurrence, are matrix products
    after it. Every sum runs in the pure kernel's order, from 0.0: over r for dz w, over the
    walked rows for the weights and the bias."""
    cdef Py_ssize_t G = 4 * H, K = T * B, H_pad = _padded(H), I_pad = _padded(I), s, t, b, r, j, k, row, prev
    cdef Py_ssize_t counts[9]
    cdef double* blocks[9]
    counts[:] = [_mul(G, I_pad), _mul(G, H_pad), _mul(K, I_pad), _mul(K, H_pad), _mul(K, G), _mul(B, H_pad),
                 _mul(B, H), max(_mul(K, I_pad), _mul(G, I_pad), _mul(G, H_pad), G), H]
    cdef void* work = _workspace(counts, blocks, 9)
    cdef double* w_ih_p = blocks[0]   # w_ih (4H, I) and w_hh (4H, H), packed for _gemm
    cdef double* w_hh_p = blocks[1]
    cdef double* x_walk = blocks[2]   # (K, I) packed: the x row of every walked row, in walk order
    cdef double* h_walk = blocks[3]   # (K, H) packed: the h each walked row started from
    cdef double* dz_t = blocks[4]     # (4H, K): the gate pre-activation gradients, a column per walked row
    cdef double* dh = blocks[5]       # (B, H_pad): the gradient reaching each h, carried between steps
    cdef double* dc = blocks[6]       # (B, H)
    cdef double* product = blocks[7]  # a sum before rounding: grad_x, grad_w_ih, grad_w_hh, grad_bias in turn
    cdef double* tanh_c = blocks[8]   # (H,) tanh of the row's c' as stored
    cdef bint vector_math = real_t is float
    cdef const real_t* h_p
    cdef const real_t* c_p
    cdef const real_t* act
    cdef double* dz
    cdef double i, f, g, o, dhj, dcj, tcj, d_o
    _pack(w_ih, I, 1, G, I, w_ih_p, G, 0)
    _pack(w_hh, H, 1, G, H, w_hh_p, G, 0)
    for b in range(B):
        for j in range(H):
            dh[b * H_pad + j] = grad_h_n[b * H + j]
            dc[b * H + j] = grad_c_n[b * H + j]
    for s in range(T):
        t = s if reverse else T - 1 - s
        prev = t + 1 if reverse else t - 1
        h_p = out + prev * B * H if s != T - 1 else h0
        c_p = cells + prev * B * H if s != T - 1 else c0
        _pack(x + t * B * I, I, 1, B, I, x_walk, K, s * B)
        _pack(h_p, H, 1, B, H, h_walk, K, s * B)
        for b in range(B):
            row = t * B + b
            act = gates + row * G
            dz = dz_t + s * B + b
            for j in range(H):
                tanh_c[j] = cells[row * H + j]
            _tanh_all(tanh_c, H, vector_math)
            for j in range(H):
                i = act[j]
                f = act[H + j]
                g = act[2 * H + j]
                o = act[3 * H + j]
                dhj = dh[b * H_pad + j] + <double>grad_out[row * H + j]
                tcj = tanh_c[j]
                d_o = dhj * tcj
                dcj = dc[b * H + j] + dhj * o * (1.0 - tcj * tcj)
                dz[j * K] = dcj * g * i * (1.0 - i)
                dz[(H + j) * K] = dcj * <double>c_p[b * H + j] * f * (1.0 - f)
                dz[(2 * H + j) * K] = dcj * i * (1.0 - g * g)
                dz[(3 * H + j) * K] = d_o * o * (1.0 - o)
                dc[b * H + j] = dcj * f
        _gemm(B, G, H_pad, dz_t + s * B, 1, K, w_hh_p, dh, H_pad)   # dh <- dz w_hh
    _gemm(K, G, I_pad, dz_t, 1, K, w_ih_p, product, I_pad)             # grad_x = dz w_ih
    for s in range(T):
        t = s if reverse else T - 1 - s
        _store_rounded(product + s * B * I_pad, I_pad, B, I, grad_x + t * B * I)
    _gemm(G, K, I_pad, dz_t, K, 1, x_walk, product, I_pad)             # grad_w_ih = dz^T x
    _store_rounded(product, I_pad, G, I, grad_w_ih)
    _gemm(G, K, H_pad, dz_t, K, 1, h_walk, product, H_pad)             # grad_w_hh = dz^T h_prev
    _store_rounded(product, H_pad, G, H, grad_w_hh)
    for r in range(G):
        product[r] = 0.0
        for k in range(K):
            product[r] += dz_t[r * K + k]
    _store_rounded(product, G, 1, G, grad_bias)
    _store_rounded(dh, H_pad, B, H, grad_h0)
    _store_rounded(dc, H, B, H, grad_c0)
    PyMem_Free(work)
    return 0


def lstm_backward(
    x,
    w_ih,
    w_hh,
    h0,
    c0,
    out,
    gates,
    cells,
    grad_out,
    grad_h_n,
    grad_c_n,
    shape,
    bint reverse,
    grad_x,
    grad_w_ih,
    grad_w_hh,
    grad_bias,
    grad_h0,
    grad_c0,
) -> None:
    """Backpropagation through time for ``lstm_forward`` (same shape and direction).

    See ``minigrad._kernels.lstm_backward`` for the math; the sums and their order are the same.
    """
    cdef Py_ssize_t dims[4]
    _lstm_dims(shape, dims)
    cdef Py_ssize_t T = dims[0], B = dims[1], I = dims[2], H = dims[3], G = 4 * dims[3]
    names = ("grad_x", "x", "w_ih", "w_hh", "h0", "c0", "out", "gates", "cells", "grad_out", "grad_h_n",
             "grad_c_n", "grad_w_ih", "grad_w_hh", "grad_bias", "grad_h0", "grad_c0")
    buffers = tuple(_array(buf, name) for buf, name in zip(
        (grad_x, x, w_ih, w_hh, h0, c0, out, gates, cells, grad_out, grad_h_n, grad_c_n, grad_w_ih, grad_w_hh,
         grad_bias, grad_h0, grad_c0), names))
    cdef Py_ssize_t tbi = _mul(_mul(T, B), I), tbh = _mul(_mul(T, B), H), bh = _mul(B, H)
    _need_all(buffers, names, (tbi, tbi, _mul(G, I), _mul(G, H), bh, bh, tbh, _mul(_mul(T, B), G), tbh, tbh, bh,
                               bh, _mul(G, I), _mul(G, H), G, bh, bh))
    cdef void* p[17]
    cdef Py_ssize_t k
    for k in range(17):
        p[k] = _data(<carray.array>buffers[k])
    if _code(<carray.array>buffers[0]) == c'f':
        _lstm_backward(<float*>p[1], <float*>p[2], <float*>p[3], <float*>p[4], <float*>p[5], <float*>p[6],
                       <float*>p[7], <float*>p[8], <float*>p[9], <float*>p[10], <float*>p[11], T, B, I, H, reverse,
                       <float*>p[0], <float*>p[12], <float*>p[13], <float*>p[14], <float*>p[15], <float*>p[16])
    else:
        _lstm_backward(<double*>p[1], <double*>p[2], <double*>p[3], <double*>p[4], <double*>p[5], <double*>p[6],
                       <double*>p[7], <double*>p[8], <double*>p[9], <double*>p[10], <double*>p[11], T, B, I, H,
                       reverse, <double*>p[0], <double*>p[12], <double*>p[13], <double*>p[14], <double*>p[15],
                       <double*>p[16])


# ---------------------------------------------------------------------------------------------
# Fused training-step kernels: embedding rows and the optimizer's update
# ---------------------------------------------------------------------------------------------

cdef Py_ssize_t _row_count(carray.array buf, Py_ssize_t width, str name) except -1:
    """How many rows of `width` elements buf holds (it must hold a whole number)."""
    _nonneg(width, "width")
    if width == 0:
        return 0
    if Py_SIZE(buf) % width:
        raise ValueError(f"{name} holds {Py_SIZE(buf)} elements, not a whole number of rows of {width}")
    return Py_SIZE(buf) // width


cdef int _check_rows(carray.array indices, Py_ssize_t rows, Py_ssize_t width, bint skipping,
                     Py_ssize_t skip) except -1:
    """Every index (but skip, when skipping) picks one of `rows` rows."""
    if _code(indices) != c'q':
        raise TypeError(f"indices must have typecode 'q', not {chr(_code(indices))!r}")
    if width == 0:
        return 0
    cdef const long long* idx = <const long long*>_data(indices)
    cdef Py_ssize_t k
    for k in range(Py_SIZE(indices)):
        if not (skipping and idx[k] == skip) and not 0 <= idx[k] < rows:
            raise IndexError(f"index {idx[k]} is out of range for {rows} rows")
    return 0


def gather_rows(src, Py_ssize_t width, indices, out) -> None:
    """out[k, :] = src[indices[k], :] for rows of ``width`` elements (an embedding lookup)."""
    cdef carray.array s = _array(src, "src"), ix = _array(indices, "indices"), o = _array(out, "out")
    _same_code(s, "src", o, "out")
    s, ix = _unaliased(s, o), _unaliased(ix, o)
    cdef Py_ssize_t rows = _row_count(s, width, "src"), n = Py_SIZE(ix), k
    _need(o, _mul(n, width), "out")
    _check_rows(ix, rows, width, False, 0)
    cdef const long long* idx = <const long long*>_data(ix)
    cdef size_t row_bytes = width * s.ob_descr.itemsize
    cdef const char* base = <const char*>_data(s)
    cdef char* dst = <char*>_data(o)
    for k in range(n if width else 0):
        memcpy(dst + k * row_bytes, base + idx[k] * row_bytes, row_bytes)


cdef void _scatter_add_rows(real_t* dst, Py_ssize_t width, const long long* idx, Py_ssize_t n, const real_t* src,
                            Py_ssize_t skip) noexcept:
    cdef Py_ssize_t k, j
    cdef real_t* row
    for k in range(n):
        if idx[k] == skip:
            continue
        row = dst + idx[k] * width
        for j in range(width):
            row[j] = <real_t>(<double>row[j] + <double>src[k * width + j])


def scatter_add_rows(dst, Py_ssize_t width, indices, src, Py_ssize_t skip) -> None:
    """dst[indices[k], :] += src[k, :] for k in order, except where indices[k] == skip.

    The gradient of an embedding (``skip`` is its padding index, or -1 for none). Every add is
    rounded on store, so a row picked twice gets (dst + src_a) + src_b, as ``put`` accumulates.
    """
    cdef carray.array d = _array(dst, "dst"), ix = _array(indices, "indices"), s = _array(src, "src")
    _floating(d, "dst")
    _same_code(d, "dst", s, "src")
    cdef Py_ssize_t rows = _row_count(d, width, "dst"), n = Py_SIZE(ix)
    _need(s, _mul(n, width), "src")
    _check_rows(ix, rows, width, True, skip)
    if width == 0:
        return
    cdef const long long* idx = <const long long*>_data(ix)
    if _code(d) == c'f':
        _scatter_add_rows(<float*>_data(d), width, idx, n, <float*>_data(s), skip)
    else:
        _scatter_add_rows(<double*>_data(d), width, idx, n, <double*>_data(s), skip)


cdef void _axpy_store(real_t* y, double alpha, const real_t* x, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        y[i] = <real_t>(<double>y[i] + alpha * <double>x[i])


def axpy(y, double alpha, x) -> None:
    """y[i] = y[i] + alpha * x[i] in place (an optimizer's update), in double, rounded once."""
    cdef carray.array ya = _array(y, "y"), xa = _array(x, "x")
    _floating(ya, "y")
    _same_code(ya, "y", xa, "x")
    _need(xa, Py_SIZE(ya), "x")
    if _code(ya) == c'f':
        _axpy_store(<float*>_data(ya), alpha, <float*>_data(xa), Py_SIZE(ya))
    else:
        _axpy_store(<double*>_data(ya), alpha, <double*>_data(xa), Py_SIZE(ya))
