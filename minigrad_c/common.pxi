# Included by _kernels.pyx: what the kernel families share (the twin of minigrad/_kernels/common.py):
# argument checks, strided views, math.fsum, and scalar math as the pure kernels write it.

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


cdef carray.array _array_any(object obj, str name):
    """obj as an array.array of any storage typecode (the layout kernels also move the int32,
    int16 and int8 buffers, 'i', 'h', 'b'; arithmetic sees those widened to int64), or TypeError."""
    if not isinstance(obj, carray.array):
        raise TypeError(f"{name} must be an array.array, not {type(obj).__name__}")
    cdef carray.array a = <carray.array>obj
    cdef char code = a.ob_descr.typecode
    if code not in b'fdqBihb':
        raise TypeError(f"{name} has typecode {chr(code)!r}; expected 'f', 'd', 'q', 'i', 'h', 'b' or 'B'")
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


cdef extern from *:
    """
    #include <stdint.h>
    #if defined(__linux__)
    #include <sys/mman.h>
    #endif
    /* Ask Linux to back the whole 2 MiB pages inside p .. p + n with huge pages when first
       written (transparent huge pages in "madvise" mode; a hint, ignored elsewhere): the large
       buffers of a recurrent step (gates, packed weights, the products' rows) then take one TLB
       entry per 2 MiB, and a row that crosses into the next 4 KiB page does not start a new
       stream for the hardware prefetcher. LSTM 256/64 training step 2-4% faster on the Intel
       Xeon; torch's allocator has the same, behind THP_MEM_ALLOC_ENABLE. */
    static void mg_huge_pages(void* p, size_t n) {
    #if defined(__linux__) && defined(MADV_HUGEPAGE)
        const uintptr_t huge = (uintptr_t)2 << 20;
        uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1), end = ((uintptr_t)p + n) & ~(huge - 1);
        if (end > start)
            madvise((void*)start, end - start, MADV_HUGEPAGE);
    #endif
    }
    """
    void mg_huge_pages(void* p, size_t n) noexcept nogil


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


cdef carray.array _unaliased_view(carray.array a, const View* v, carray.array out):
    """a, or a copy of it when it is out and the view of it is not out's own row-major order: a
    loop over rows that writes out must not read what it already wrote."""
    return carray.copy(a) if a is out and not (v.dense and v.offset == 0) else a


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


cdef void _coalesce(View** views, Py_ssize_t count) noexcept:
    """Merge neighbouring dims of views of one shape wherever, in every view, the outer dim steps
    over the whole inner one (stride[d - 1] == shape[d] * stride[d]) and drop dims of size 1:
    the same positions in the same order, in fewer and longer rows. (Views with elements only.)"""
    cdef Py_ssize_t d, k, kept = 0
    cdef View* first = views[0]
    cdef bint joins
    for d in range(first.ndim):
        if first.shape[d] == 1:
            continue
        joins = kept > 0
        for k in range(count):
            if joins and views[k].strides[kept - 1] != views[k].shape[d] * views[k].strides[d]:
                joins = False
        for k in range(count):
            if joins:
                views[k].shape[kept - 1] *= views[k].shape[d]
                views[k].strides[kept - 1] = views[k].strides[d]
            else:
                views[k].shape[kept] = views[k].shape[d]
                views[k].strides[kept] = views[k].strides[d]
        if not joins:
            kept += 1
    if kept == 0:  # one element
        for k in range(count):
            views[k].shape[0], views[k].strides[0] = 1, 0
        kept = 1
    for k in range(count):
        views[k].ndim = kept


cdef inline void _next_row(View** views, Py_ssize_t count, Py_ssize_t* idx, Py_ssize_t* pos) noexcept:
    """Advance the row-major counter idx over all dims but the last of views of one shape, and
    move each view's position pos[k] to the start of its next row."""
    cdef Py_ssize_t d = views[0].ndim - 2, k
    while d >= 0:
        idx[d] += 1
        if idx[d] < views[0].shape[d]:
            for k in range(count):
                pos[k] += views[k].strides[d]
            return
        for k in range(count):
            pos[k] -= views[k].strides[d] * (views[0].shape[d] - 1)
        idx[d] = 0
        d -= 1


cdef void _gather_view(const elem_t* src, const View* v, elem_t* dst) noexcept:
    """dst[i] = the i-th element (row-major) of the view of src, a row (the last dim, after
    merging dims) at a time."""
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef Py_ssize_t i, j, p = v.offset, width, step
    cdef View c
    cdef View* merged = &c
    if v.dense:
        memcpy(dst, src + v.offset, v.n * sizeof(elem_t))
        return
    if v.n == 0:
        return
    c = v[0]
    _coalesce(&merged, 1)
    width, step = c.shape[c.ndim - 1], c.strides[c.ndim - 1]
    memset(idx, 0, sizeof(idx))
    i = 0
    while i < c.n:
        if step == 1:
            memmove(dst + i, src + p, width * sizeof(elem_t))
        else:
            for j in range(width):
                dst[i + j] = src[p + j * step]
        p = _advance(&c, idx, p, c.ndim - 2)
        i += width


cdef void _scatter_view(elem_t* dst, const View* v, const elem_t* src) noexcept:
    """The i-th element (row-major) of the view of dst = src[i], a row (the last dim, after
    merging dims) at a time."""
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef Py_ssize_t i, j, p = v.offset, width, step
    cdef View c
    cdef View* merged = &c
    if v.dense:
        memcpy(dst + v.offset, src, v.n * sizeof(elem_t))
        return
    if v.n == 0:
        return
    c = v[0]
    _coalesce(&merged, 1)
    width, step = c.shape[c.ndim - 1], c.strides[c.ndim - 1]
    memset(idx, 0, sizeof(idx))
    i = 0
    while i < c.n:
        if step == 1:
            memmove(dst + p, src + i, width * sizeof(elem_t))
        else:
            for j in range(width):
                dst[p + j * step] = src[i + j]
        p = _advance(&c, idx, p, c.ndim - 2)
        i += width


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
    return 0.0 if x < 0 else x     # NaN and -0.0 pass through, as in torch


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
    if op == U_RELU:
        return _relu(x)
    return _math_value(op, x)


cdef double _erfinv(double y) noexcept:
    """The inverse of erf, as the pure kernel (torch's calc_erfinv in double): a rational guess,
    then two Newton steps."""
    cdef double y_abs = fabs(y), z, num, dem, x
    if not y_abs <= 1.0:
        return NAN
    if y_abs == 1.0:
        return copysign(INFINITY, y)
    if y_abs <= 0.7:
        z = y * y
        num = ((-0.140543331 * z + 0.914624893) * z + -1.645349621) * z + 0.886226899
        dem = (((0.012229801 * z + -0.329097515) * z + 1.442710462) * z + -2.118377725) * z + 1.0
        x = y * num / dem
    else:
        z = sqrt(-log((1.0 - y_abs) / 2.0))
        num = ((1.641345311 * z + 3.429567803) * z + -1.624906493) * z + -1.970840454
        dem = (1.637067800 * z + 3.543889200) * z + 1.0
        x = copysign(num, y) / dem
    cdef double two_over_sqrt_pi = 2.0 / sqrt(3.141592653589793)
    x = x - (erf(x) - y) / (two_over_sqrt_pi * exp(-x * x))
    x = x - (erf(x) - y) / (two_over_sqrt_pi * exp(-x * x))
    return x


cdef double _math_value(Py_ssize_t op, double x) noexcept:
    """The op codes of issue 14, with libm as the pure kernels' math module."""
    if op == U_SIN:
        return sin(x)
    if op == U_COS:
        return cos(x)
    if op == U_TAN:
        return tan(x)
    if op == U_ASIN:
        return asin(x)
    if op == U_ACOS:
        return acos(x)
    if op == U_ATAN:
        return atan(x)
    if op == U_SINH:
        return sinh(x)
    if op == U_COSH:
        return cosh(x)
    if op == U_ASINH:
        return asinh(x)
    if op == U_ACOSH:
        return acosh(x)
    if op == U_ATANH:
        return atanh(x)
    if op == U_LOG1P:
        return log1p(x)
    if op == U_EXPM1:
        return expm1(x)
    if op == U_LOG2:
        return log2(x)
    if op == U_LOG10:
        return log10(x)
    if op == U_EXP2:
        return exp2(x)
    if op == U_RSQRT:
        return 1.0 / sqrt(x) if x >= 0 else NAN
    if op == U_RECIPROCAL:
        return 1.0 / x
    if op == U_ERF:
        return erf(x)
    if op == U_ERFINV:
        return _erfinv(x)
    if op == U_FLOOR:
        return floor(x)
    if op == U_CEIL:
        return ceil(x)
    if op == U_ROUND:
        return nearbyint(x)        # half to even in the default rounding mode
    if op == U_TRUNC:
        return trunc(x)
    if op == U_FRAC:
        return x - trunc(x)
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)   # sign: NaN and -0 give 0


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
    if op == B_MINIMUM:
        return _minimum(a, b)
    return _float_math_value(op, a, b)


cdef double _hypot(double a, double b) noexcept:
    """As the pure kernel: big * sqrt(1 + (small/big)^2); inf wins over NaN."""
    cdef double big, small, r
    a = fabs(a)
    b = fabs(b)
    if a == INFINITY or b == INFINITY:
        return INFINITY
    if a != a or b != b:
        return NAN
    big, small = (a, b) if a >= b else (b, a)
    if big == 0:
        return 0.0
    r = small / big
    return big * sqrt(1.0 + r * r)


cdef double _float_math_value(Py_ssize_t op, double a, double b) noexcept:
    """fmod (sign of a), remainder (sign of b), atan2, hypot, copysign of doubles."""
    cdef double r
    if op == B_FMOD or op == B_REMAINDER:
        r = fmod(a, b)
        if op == B_REMAINDER and r != 0 and (b < 0) != (r < 0):
            r = r + b
        return r
    if op == B_ATAN2:
        return atan2(a, b)
    if op == B_HYPOT:
        return _hypot(a, b)
    return copysign(a, b)


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
    if op == B_MINIMUM:
        return a if a <= b else b
    return _int_math_value(op, a, b)


cdef inline long long _int_math_value(Py_ssize_t op, long long a, long long b) noexcept:
    """fmod, remainder (b != 0: checked before the loop), bitwise and, or, xor, and the shifts
    (outside [0, 64) a left shift gives 0, a right shift the sign), as the pure kernels."""
    cdef long long r
    if op == B_FMOD or op == B_REMAINDER:
        if b == -1:
            return 0               # (LLONG_MIN % -1 would trap)
        r = a % b                  # C: the sign of a
        if op == B_REMAINDER and r != 0 and (r < 0) != (b < 0):
            r += b
        return r
    if op == B_BITAND:
        return a & b
    if op == B_BITOR:
        return a | b
    if op == B_BITXOR:
        return a ^ b
    if op == B_LSHIFT:
        return <long long>(<unsigned long long>a << b) if 0 <= b < 64 else 0
    if b < 0:
        return 0
    return a >> (b if b < 63 else 63)


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


# torch's float32/float64 kernels for sigmoid, the softmax family and exp2 (shared by pointwise.pxi and
# softmax_loss.pxi)
cdef extern from *:
    """
    /* torch's float32 kernels for sigmoid and the softmax family (ATEN_CPU_CAPABILITY=avx2), bit
     * for bit: SLEEF's expf (xexpf) and logf (xlogf_u1) as in sleefsimdsp.c / df.h with every
     * vmla a fused multiply-add, vec::reduce_all's lane order, and the loops of torch's kernels.
     * The pure twins, with the same steps in the same order, are minigrad/_sleef.py and
     * minigrad/_vec.py. The build has -ffp-contract=off, so fmaf is the only fused operation. */
    #include <float.h>
    #include <math.h>
    #include <stdint.h>
    #include <string.h>

    static inline uint32_t mg_bits(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }
    static inline float mg_float(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }

    static inline int32_t mg_rint(float v) {  /* cvtps2dq: nearest even; NaN and overflow give INT32_MIN */
        if (!(v >= -2147483648.0f && v < 2147483648.0f)) return INT32_MIN;
        return (int32_t)nearbyintf(v);
    }
    static inline float mg_pow2i(int32_t q) { return mg_float(((uint32_t)q + 0x7fu) << 23); }
    static inline float mg_ldexp2(float d, int32_t e) {
        return (d * mg_pow2i(e >> 1)) * mg_pow2i(e - (e >> 1));
    }

    static inline __attribute__((always_inline)) float mg_sleef_expf(float d) {  /* Sleef_expf8_u10 */
        int32_t q = mg_rint(d * (float)1.442695040888963407359924681001892137426645954152985934135449406931);
        float qf = (float)q, s, u;
        s = fmaf(qf, -(float)0.693145751953125, d);
        s = fmaf(qf, -(float)1.428606765330187045e-06, s);
        u = (float)0.000198527617612853646278381;
        u = fmaf(u, s, (float)0.00139304355252534151077271);
        u = fmaf(u, s, (float)0.00833336077630519866943359);
        u = fmaf(u, s, (float)0.0416664853692054748535156);
        u = fmaf(u, s, (float)0.166666671633720397949219);
        u = fmaf(u, s, (float)0.5);
        u = 1.0f + fmaf(s * s, u, s);
        u = mg_ldexp2(u, q);
        if (100 < d) return INFINITY;
        if (d < -104) return 0.0f;
        return u;
    }

    typedef struct { float x, y; } mg_df;  /* hi + lo */

    static inline mg_df mg_df_add2_ff(float x, float y) {
        mg_df r; float v;
        r.x = x + y; v = r.x - x;
        r.y = (x - (r.x - v)) + (y - v);
        return r;
    }
    static inline mg_df mg_df_add_pp(mg_df x, mg_df y) {
        mg_df r;
        r.x = x.x + y.x;
        r.y = (((x.x - r.x) + y.x) + x.y) + y.y;
        return r;
    }
    static inline mg_df mg_df_add_pf(mg_df x, float y) {
        mg_df r;
        r.x = x.x + y;
        r.y = ((x.x - r.x) + y) + x.y;
        return r;
    }
    static inline mg_df mg_df_mul_pf(mg_df x, float y) {
        mg_df r;
        r.x = x.x * y;
        r.y = fmaf(x.y, y, fmaf(x.x, y, -r.x));
        return r;
    }
    static inline mg_df mg_df_div(mg_df n, mg_df d) {
        mg_df q; float t = 1.0f / d.x, u, lo;
        q.x = n.x * t;
        u = fmaf(t, n.x, -q.x);
        lo = fmaf(-d.y, t, fmaf(-d.x, t, 1.0f));
        q.y = fmaf(q.x, lo, fmaf(n.y, t, u));
        return q;
    }

    static float mg_sleef_logf(float d) {  /* Sleef_logf8_u10 (xlogf_u1) */
        int small = d < FLT_MIN;
        float dd = small ? d * (float)18446744073709551616.0 : d, m, x2, t, r;
        int32_t e = (int32_t)((mg_bits(dd * (float)(1.0 / 0.75)) >> 23) & 0xff) - 0x7f;
        mg_df s, x, ln2, twice;
        m = mg_float(mg_bits(dd) + ((uint32_t)(-e) << 23));
        if (small) e -= 64;
        ln2.x = (float)0.69314718246459960938; ln2.y = (float)-1.904654323148236017e-09;
        s = mg_df_mul_pf(ln2, (float)e);
        x = mg_df_div(mg_df_add2_ff(-1.0f, m), mg_df_add2_ff(1.0f, m));
        x2 = x.x * x.x;
        t = fmaf((float)0.3027294874, x2, (float)0.3996108174);
        t = fmaf(t, x2, (float)0.6666694880);
        twice.x = x.x * 2.0f; twice.y = x.y * 2.0f;
        s = mg_df_add_pp(s, twice);
        s = mg_df_add_pf(s, (x2 * x.x) * t);
        r = s.x + s.y;
        if (d == INFINITY) r = INFINITY;
        if (d < 0 || d != d) r = NAN;
        if (d == 0) r = -INFINITY;
        return r;
    }

    /* expm1f, log1pf, exp2f: Sleef_expm1f8_u10, Sleef_log1pf8_u10, Sleef_exp2f8_u10 */
    static inline mg_df mg_df_add2_pf(mg_df x, float y) {
        mg_df r; float v;
        r.x = x.x + y; v = r.x - x.x;
        r.y = ((x.x - (r.x - v)) + (y - v)) + x.y;
        return r;
    }
    static inline mg_df mg_df_add2_pp(mg_df x, mg_df y) {
        mg_df r; float v;
        r.x = x.x + y.x; v = r.x - x.x;
        r.y = ((x.x - (r.x - v)) + (y.x - v)) + (x.y + y.y);
        return r;
    }
    static inline mg_df mg_df_add_fp(float x, mg_df y) {
        mg_df r;
        r.x = x + y.x;
        r.y = ((x - r.x) + y.x) + y.y;
        return r;
    }
    static inline mg_df mg_df_add_ff(float x, float y) {
        mg_df r;
        r.x = x + y;
        r.y = (x - r.x) + y;
        return r;
    }
    static inline mg_df mg_df_mul_pp(mg_df x, mg_df y) {
        mg_df r;
        r.x = x.x * y.x;
        r.y = fmaf(x.x, y.y, fmaf(x.y, y.x, fmaf(x.x, y.x, -r.x)));
        return r;
    }
    static inline mg_df mg_df_squ(mg_df x) {
        mg_df r;
        r.x = x.x * x.x;
        r.y = fmaf(x.x + x.x, x.y, fmaf(x.x, x.x, -r.x));
        return r;
    }

    static mg_df mg_expk2f(float d) {  /* e**d as a double-float (expk2f of (d, 0)) */
        mg_df s, t; float u, qf; int32_t q;
        q = mg_rint(d * (float)1.442695040888963407359924681001892137426645954152985934135449406931);
        qf = (float)q;
        s.x = d; s.y = 0.0f;
        s = mg_df_add2_pf(s, qf * -(float)0.693145751953125);
        s = mg_df_add2_pf(s, qf * -(float)1.428606765330187045e-06);
        u = (float)0.1980960224e-3;
        u = fmaf(u, s.x, (float)0.1394256484e-2);
        u = fmaf(u, s.x, (float)0.8333456703e-2);
        u = fmaf(u, s.x, (float)0.4166637361e-1);
        t = mg_df_add2_pf(mg_df_mul_pf(s, u), (float)0.166666659414234244790680580464);
        t = mg_df_add2_pf(mg_df_mul_pp(s, t), 0.5f);
        t = mg_df_add2_pp(s, mg_df_mul_pp(mg_df_squ(s), t));
        t = mg_df_add_fp(1.0f, t);
        t.x = mg_ldexp2(t.x, q);
        t.y = mg_ldexp2(t.y, q);
        if (d < -104) { t.x = 0.0f; t.y = 0.0f; }
        return t;
    }

    static float mg_sleef_expm1f(float a) {
        mg_df d = mg_df_add2_pf(mg_expk2f(a), -1.0f);
        float x = d.x + d.y;
        if (a > (float)88.72283172607421875) x = INFINITY;
        if (a < (float)-16.635532333438687426013570) x = -1.0f;
        if (a == 0 && signbit(a)) x = -0.0f;
        return x;
    }

    static float mg_sleef_log1pf(float d) {
        float dp1 = d + 1.0f, t, m, x2, r;
        int small = dp1 < FLT_MIN;
        int32_t e;
        mg_df s, x, ln2, twice, den;
        if (small) dp1 = dp1 * (float)18446744073709551616.0;
        e = (int32_t)((mg_bits(dp1 * (float)(1.0 / 0.75)) >> 23) & 0xff) - 0x7f;
        t = mg_float(mg_bits(1.0f) + ((uint32_t)(-e) << 23));
        m = fmaf(d, t, t - 1.0f);
        if (small) e -= 64;
        ln2.x = (float)0.69314718246459960938; ln2.y = (float)-1.904654323148236017e-09;
        s = mg_df_mul_pf(ln2, (float)e);
        x.x = m; x.y = 0.0f;
        den = mg_df_add_ff(2.0f, m);
        x = mg_df_div(x, den);
        x2 = x.x * x.x;
        t = fmaf((float)0.3027294874, x2, (float)0.3996108174);
        t = fmaf(t, x2, (float)0.6666694880);
        twice.x = x.x * 2.0f; twice.y = x.y * 2.0f;
        s = mg_df_add_pp(s, twice);
        s = mg_df_add_pf(s, (x2 * x.x) * t);
        r = s.x + s.y;
        if (d > (float)1e38) r = mg_sleef_logf(d);  /* where 1 + d is d, torch's SLEEF gives ln d */
        if (d == INFINITY) r = INFINITY;
        if (-1.0f > d) r = mg_float(0xffffffffu);
        if (d == -1.0f) r = -INFINITY;
        if (d == 0 && signbit(d)) r = -0.0f;
        return r;
    }

    static float mg_sleef_exp2f(float d) {
        float u = nearbyintf(d), s;
        int32_t q = mg_rint(u);
        s = d - u;
        u = (float)0.1535920892e-3;
        u = fmaf(u, s, (float)0.1339262701e-2);
        u = fmaf(u, s, (float)0.9618384764e-2);
        u = fmaf(u, s, (float)0.5550347269e-1);
        u = fmaf(u, s, (float)0.2402264476e+0);
        u = fmaf(u, s, (float)0.6931471825e+0);
        u = fmaf(u, s, 1.0f);
        u = mg_ldexp2(u, q);
        if (d >= 128) return INFINITY;
        if (d < -150) return 0.0f;
        return u;
    }

    static void mg_torch_unary_f32(int which, const float* x, float* out, Py_ssize_t n) {
        /* which: 0 expm1, 1 log1p (SLEEF on every element), 2 exp2 (SLEEF on whole blocks of 16,
         * the C library's exp2 on the rest) */
        Py_ssize_t cut = n - n % 16, i;
        for (i = 0; i < n; i++) {
            if (which == 0) out[i] = mg_sleef_expm1f(x[i]);
            else if (which == 1) out[i] = mg_sleef_log1pf(x[i]);
            else out[i] = i < cut ? mg_sleef_exp2f(x[i]) : (float)exp2((double)x[i]);
        }
    }

    static inline float mg_fadd(float a, float b) { return a + b; }
    static inline float mg_fmaximum(float a, float b) {  /* vec::maximum: all-ones NaN if either is NaN */
        if (a != a || b != b) return mg_float(0xffffffffu);
        return a > b ? a : b;
    }

    static float mg_reduce_all(float (*op)(float, float), const float* data, Py_ssize_t n) {
        /* vec::reduce_all over 8 lanes: blocks lane-wise (a short last block updates only its
         * lanes), then lanes (i, i^4), (i, i^2), (0, 1); fewer than 8 elements left to right. */
        float acc[8], v[8], w[8], a;
        Py_ssize_t d, j, k;
        if (n < 8) {
            a = data[0];
            for (j = 1; j < n; j++) a = op(a, data[j]);
            return a;
        }
        memcpy(acc, data, sizeof acc);
        for (d = 8; d < n; d += 8) {
            k = n - d < 8 ? n - d : 8;
            for (j = 0; j < k; j++) acc[j] = op(acc[j], data[d + j]);
        }
        for (j = 0; j < 8; j++) v[j] = op(acc[j], acc[j ^ 4]);
        for (j = 0; j < 8; j++) w[j] = op(v[j], v[j ^ 2]);
        return op(w[0], w[1]);
    }

    static void mg_sigmoid_f32(const float* x, float* out, Py_ssize_t n) {
        /* cpu_kernel_vec: SLEEF's exp on whole blocks of 16, the C library's expf on the rest
           (two loops, so that the compiler can run the first on vector lanes) */
        Py_ssize_t cut = n - n % 16, i;
        for (i = 0; i < cut; i++) {  /* a NaN comes out as torch's: -x, quieted (the compiler may
                                        move the negation, and with it a NaN's sign, elsewhere) */
            float s = 1.0f / (mg_sleef_expf(-x[i]) + 1.0f);
            out[i] = x[i] != x[i] ? mg_float((mg_bits(x[i]) ^ 0x80000000u) | 0x00400000u) : s;
        }
        for (; i < n; i++)
            out[i] = 1.0f / ((float)exp(-(double)x[i]) + 1.0f);
    }

    /* one row of n of the softmax family over the last dimension; which: 0 log_softmax,
     * 1 its backward, 2 softmax, 3 its backward (x is then y, the forward's output) */
    static void mg_softmax_row_f32(int which, const float* x, const float* g, float* out, Py_ssize_t n) {
        Py_ssize_t k;
        float m, s;
        if (which == 0 || which == 2) {
            m = mg_reduce_all(mg_fmaximum, x, n);
            for (k = 0; k < n; k++) out[k] = mg_sleef_expf(x[k] - m);
            s = mg_reduce_all(mg_fadd, out, n);
            if (which == 0) {
                s = mg_sleef_logf(s);
                for (k = 0; k < n; k++) out[k] = (x[k] - m) - s;
            } else {
                s = 1.0f / s;
                for (k = 0; k < n; k++) out[k] = out[k] * s;
            }
        } else if (which == 1) {
            s = mg_reduce_all(mg_fadd, g, n);
            for (k = 0; k < n; k++) out[k] = fmaf(-mg_sleef_expf(x[k]), s, g[k]);
        } else {
            for (k = 0; k < n; k++) out[k] = g[k] * x[k];
            s = mg_reduce_all(mg_fadd, out, n);
            for (k = 0; k < n; k++) out[k] = (g[k] - s) * x[k];
        }
    }

    /* float64: Sleef_expd4_u10 (xexp) and Sleef_logd4_u10 (xlog_u1), 4 lanes, and the generic
     * vec_reduce_all (its lanes left to right): the pure twins are _sleef.expd, _sleef.logd and
     * _vec._Float64. */
    static inline uint64_t mg_bits_d(double f) { uint64_t u; memcpy(&u, &f, sizeof u); return u; }
    static inline double mg_double(uint64_t u) { double f; memcpy(&f, &u, sizeof f); return f; }
    static inline double mg_pow2i_d(int32_t q) {
        return mg_double((uint64_t)(((uint32_t)q + 0x3ffu) << 20) << 32);
    }
    static inline int32_t mg_rint_d(double v) {
        if (!(v >= -2147483648.0 && v < 2147483648.0)) return INT32_MIN;
        return (int32_t)v;   /* v is already an integer */
    }

    static double mg_sleef_exp(double d) {
        double u = nearbyint(d * 1.442695040888963407359924681001892137426645954152985934135449406931);
        int32_t q = mg_rint_d(u);
        double s, s2, s4, s8, high, low;
        s = fma(u, -0.69314718055966295651160180568695068359375, d);
        s = fma(u, -0.28235290563031577122588448175013436025525412068e-12, s);
        s2 = s * s; s4 = s2 * s2; s8 = s4 * s4;
        high = fma(s2, fma(s, 0.2755762628169491192e-6, 0.2755723402025388239e-5),
                   fma(s, 0.2480158687479686264e-4, 0.1984126989855865850e-3));
        low = fma(s4, high, fma(s2, fma(s, 0.1388888888914497797e-2, 0.8333333333314938210e-2),
                                fma(s, 0.4166666666666602598e-1, 0.1666666666666669072e+0)));
        u = fma(s8, fma(s, 0.2081276378237164457e-8, 0.2511210703042288022e-7), low);
        u = fma(u, s, 0.5);
        u = fma(u, s, 1.0);
        u = fma(u, s, 1.0);
        u = (u * mg_pow2i_d(q >> 1)) * mg_pow2i_d(q - (q >> 1));
        if (d > 709.78271114955742909217217426) return INFINITY;
        if (d < -1000) return 0.0;
        return u;
    }

    static double mg_sleef_log(double d) {
        int small = d < DBL_MIN;
        double dd = small ? d * 18446744073709551616.0 : d, m, t, nx, ny, dx, dy, v, xx, xy, u, lo;
        double x2, x4, x8, ef, sx, sy, hi, r;
        int32_t e = (int32_t)((mg_bits_d(dd * (1.0 / 0.75)) >> 52) & 0x7ff) - 0x3ff;
        m = mg_double(mg_bits_d(dd) + ((uint64_t)(int64_t)(-e) << 52));
        if (small) e -= 64;
        nx = -1.0 + m; v = nx - -1.0; ny = (-1.0 - (nx - v)) + (m - v);
        dx = 1.0 + m; v = dx - 1.0; dy = (1.0 - (dx - v)) + (m - v);
        t = 1.0 / dx;
        xx = nx * t;
        u = fma(t, nx, -xx);
        lo = fma(-dy, t, fma(-dx, t, 1.0));
        xy = fma(xx, lo, fma(ny, t, u));
        x2 = xx * xx; x4 = x2 * x2; x8 = x4 * x4;
        t = fma(x8, fma(x4, 0.1532076988502701353, fma(x2, 0.1525629051003428716, 0.1818605932937785996)),
                fma(x4, fma(x2, 0.2222214519839380009, 0.2857142932794299317),
                    fma(x2, 0.3999999999635251990, 0.6666666666667333541)));
        ef = (double)e;
        sx = 0.693147180559945286226764 * ef;
        sy = fma(2.319046813846299558417771e-17, ef, fma(0.693147180559945286226764, ef, -sx));
        hi = sx + 2.0 * xx;
        sy = (((sx - hi) + 2.0 * xx) + sy) + 2.0 * xy;
        sx = hi;
        v = (x2 * xx) * t;
        hi = sx + v;
        sy = ((sx - hi) + v) + sy;
        r = hi + sy;
        if (d == INFINITY) r = INFINITY;
        if (d < 0 || d != d) r = NAN;
        if (d == 0) r = -INFINITY;
        return r;
    }

    static inline double mg_dadd(double a, double b) { return a + b; }
    static inline double mg_dmaximum(double a, double b) {
        if (a != a || b != b) return mg_double(0xffffffffffffffffull);
        return a > b ? a : b;
    }

    static double mg_reduce_all_d(double (*op)(double, double), const double* data, Py_ssize_t n) {
        double acc[4], a;
        Py_ssize_t d, j, k;
        if (n < 4) {
            a = data[0];
            for (j = 1; j < n; j++) a = op(a, data[j]);
            return a;
        }
        memcpy(acc, data, sizeof acc);
        for (d = 4; d < n; d += 4) {
            k = n - d < 4 ? n - d : 4;
            for (j = 0; j < k; j++) acc[j] = op(acc[j], data[d + j]);
        }
        return op(op(op(acc[0], acc[1]), acc[2]), acc[3]);
    }

    static void mg_sigmoid_f64(const double* x, double* out, Py_ssize_t n) {
        Py_ssize_t cut = n - n % 8, i;
        for (i = 0; i < n; i++) {
            double e = i < cut ? mg_sleef_exp(-x[i]) : exp(-x[i]);
            out[i] = 1.0 / (e + 1.0);
        }
    }

    static void mg_softmax_row_f64(int which, const double* x, const double* g, double* out, Py_ssize_t n) {
        Py_ssize_t k;
        double m, s;
        if (which == 0 || which == 2) {
            m = mg_reduce_all_d(mg_dmaximum, x, n);
            for (k = 0; k < n; k++) out[k] = mg_sleef_exp(x[k] - m);
            s = mg_reduce_all_d(mg_dadd, out, n);
            if (which == 0) {
                s = mg_sleef_log(s);
                for (k = 0; k < n; k++) out[k] = (x[k] - m) - s;
            } else {
                s = 1.0 / s;
                for (k = 0; k < n; k++) out[k] = out[k] * s;
            }
        } else if (which == 1) {
            s = mg_reduce_all_d(mg_dadd, g, n);
            for (k = 0; k < n; k++) out[k] = fma(-mg_sleef_exp(x[k]), s, g[k]);
        } else {
            for (k = 0; k < n; k++) out[k] = g[k] * x[k];
            s = mg_reduce_all_d(mg_dadd, out, n);
            for (k = 0; k < n; k++) out[k] = (g[k] - s) * x[k];
        }
    }
    """
    void mg_sigmoid_f32(const float* x, float* out, Py_ssize_t n) noexcept nogil
    void mg_softmax_row_f32(int which, const float* x, const float* g, float* out, Py_ssize_t n) noexcept nogil
    void mg_sigmoid_f64(const double* x, double* out, Py_ssize_t n) noexcept nogil
    void mg_torch_unary_f32(int which, const float* x, float* out, Py_ssize_t n) noexcept nogil
    void mg_softmax_row_f64(int which, const double* x, const double* g, double* out, Py_ssize_t n) noexcept nogil
