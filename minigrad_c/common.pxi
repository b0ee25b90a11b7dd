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


cdef void* _alloc(Py_ssize_t count, size_t size) except NULL:
    """Scratch memory for count items (at least one byte), freed with PyMem_Free."""
    if count < 0 or <size_t>count > (<size_t>PY_SSIZE_T_MAX) // size:
        raise MemoryError()
    cdef void* p = PyMem_Malloc(count * size if count else 1)
    if p == NULL:
        raise MemoryError()
    return p


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


cdef void _gather_view(const elem_t* src, const View* v, elem_t* dst) noexcept:
    """dst[i] = the i-th element (row-major) of the view of src, a row (the last dim) at a time."""
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef Py_ssize_t i, j, p = v.offset, width, step
    if v.dense:
        memcpy(dst, src + v.offset, v.n * sizeof(elem_t))
        return
    if v.n == 0:
        return
    width, step = v.shape[v.ndim - 1], v.strides[v.ndim - 1]
    memset(idx, 0, sizeof(idx))
    for i in range(0, v.n, width):
        for j in range(width):
            dst[i + j] = src[p + j * step]
        p = _advance(v, idx, p, v.ndim - 2)


cdef void _scatter_view(elem_t* dst, const View* v, const elem_t* src) noexcept:
    """The i-th element (row-major) of the view of dst = src[i], a row (the last dim) at a time."""
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef Py_ssize_t i, j, p = v.offset, width, step
    if v.dense:
        memcpy(dst + v.offset, src, v.n * sizeof(elem_t))
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
