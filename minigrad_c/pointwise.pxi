# Included by _kernels.pyx: the twin of minigrad/_kernels/pointwise.py.

# ---------------------------------------------------------------------------------------------
# Pointwise
# ---------------------------------------------------------------------------------------------

NEG, EXP, LOG, SQRT, ABS, SIGMOID, TANH, RELU = range(8)
ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, EQ, NE, LT, LE, GT, GE = range(13)
# more pointwise math (issue 14)
SIN, COS, TAN, ASIN, ACOS, ATAN, SINH, COSH, ASINH, ACOSH, ATANH = range(8, 19)
LOG1P, EXPM1, LOG2, LOG10, EXP2, RSQRT, RECIPROCAL, ERF, ERFINV = range(19, 28)
FLOOR, CEIL, ROUND, TRUNC, FRAC, SIGN = range(28, 34)
FMOD, REMAINDER, ATAN2, HYPOT, COPYSIGN, BITAND, BITOR, BITXOR, LSHIFT, RSHIFT = range(13, 23)

cdef void _unary(Py_ssize_t op, const num_t* x, num_t* out, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    if num_t is float:
        if op == U_RELU:           # the tagger's char-CNN: a loop of its own, without the op switch
            for i in range(n):
                out[i] = 0 if x[i] < 0 else x[i]
        elif op == U_RSQRT:          # 1 / sqrt(x) with sqrt rounded to float32 first, as torch
            for i in range(n):
                out[i] = <float>_unary_value(U_RECIPROCAL, <float>sqrt(x[i]) if x[i] >= 0 else NAN)
        else:
            for i in range(n):
                out[i] = <float>_unary_value(op, x[i])
    elif num_t is double:
        for i in range(n):
            out[i] = _unary_value(op, x[i])
    elif num_t is int64:
        for i in range(n):
            if op == U_NEG:
                out[i] = <long long>(0ULL - <unsigned long long>x[i])
            elif op == U_ABS:
                out[i] = <long long>(0ULL - <unsigned long long>x[i]) if x[i] < 0 else x[i]
            else:
                out[i] = 0 if x[i] < 0 else x[i]
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
    if code == c'f' and op == U_SIGMOID:
        mg_sigmoid_f32(<float*>_data(xa), <float*>_data(o), n)  # torch's kernel, bit for bit
    elif code == c'd' and op == U_SIGMOID:
        mg_sigmoid_f64(<double*>_data(xa), <double*>_data(o), n)
    elif code == c'f' and (op == U_EXPM1 or op == U_LOG1P or op == U_EXP2):
        mg_torch_unary_f32(0 if op == U_EXPM1 else (1 if op == U_LOG1P else 2), <float*>_data(xa), <float*>_data(o), n)
    elif code == c'f':
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
        elif op == U_SIGMOID:        # in the buffers' precision, in torch's order
            out[i] = (grad[i] * (<real_t>1 - y[i])) * y[i]
        elif op == U_TANH:           # torch's compiler contracts 1 - y*y to a fused multiply-add
            if real_t is float:
                out[i] = grad[i] * fmaf(-y[i], y[i], 1.0)
            else:
                out[i] = grad[i] * fma(-y[i], y[i], 1.0)
        else:
            out[i] = <real_t>(g if x[i] > 0 else 0.0)


def unary_backward(Py_ssize_t op, x, y, grad, out) -> None:
    """out = grad * f'(x), written with the input x or the output y, whichever is simpler.

    neg: -g   exp: g*y   log: g/x   sqrt: g/(2y)   abs: g*sign(x)
    sigmoid: (g*(1-y))*y   tanh: g*fma(-y, y, 1)   relu: g*[x>0]

    sigmoid and tanh round each step to the buffers' precision, in torch's order (its kernels
    contract 1 - y*y to one fused multiply-add).
    """
    if not 0 <= op <= U_RELU:
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
    if B_EQ <= op <= B_GE:
        if _code(out) != c'B':
            raise TypeError(f"a comparison writes bools: out must have typecode 'B', not {chr(_code(out))!r}")
        return 0
    _same_code(a, "a", out, "out")
    if (op == B_DIV or op == B_ATAN2 or op == B_HYPOT or op == B_COPYSIGN) and _code(a) != c'f' and _code(a) != c'd':
        raise TypeError(f"binary op code {op} needs floats, got typecode {chr(_code(a))!r}")
    if B_BITAND <= op <= B_RSHIFT and (_code(a) == c'f' or _code(a) == c'd'):
        raise TypeError(f"binary op code {op} needs integers or bools, got typecode {chr(_code(a))!r}")
    return 0


cdef int _binary_run(Py_ssize_t op, const num_t* a, Py_ssize_t a_step, const num_t* b, Py_ssize_t b_step,
                     void* out, Py_ssize_t n) except -1:
    cdef Py_ssize_t i
    if (num_t is int64 or num_t is uint8) and (op == B_FMOD or op == B_REMAINDER):
        for i in range(n):
            if b[i * b_step] == 0:
                raise ZeroDivisionError("integer modulo by zero")
    if B_EQ <= op <= B_GE:
        _compare(op, a, a_step, b, b_step, <unsigned char*>out, n)
    else:
        _arith(op, a, a_step, b, b_step, <num_t*>out, n)
    return 0


cdef int _binary_views(Py_ssize_t op, const num_t* a, const View* va, const num_t* b, const View* vb,
                       void* out, Py_ssize_t n) except -1:
    """out = a (op) b over views of one shape with elements: a row (the last dim, after merging
    dims) at a time when rows are long, broadcast inputs then read in place; else through
    contiguous copies."""
    cdef View x = va[0], y = vb[0]
    cdef View* views[2]
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef Py_ssize_t pos[2]
    cdef Py_ssize_t i, width, out_size = 1 if B_EQ <= op <= B_GE else sizeof(num_t)
    cdef num_t* a_scratch = NULL
    cdef num_t* b_scratch = NULL
    views[0], views[1] = &x, &y
    _coalesce(views, 2)
    width = x.shape[x.ndim - 1]
    if width >= 16 or width == n:
        pos[0], pos[1] = x.offset, y.offset
        memset(idx, 0, sizeof(idx))
        i = 0
        while i < n:
            _binary_run(op, a + pos[0], x.strides[x.ndim - 1], b + pos[1], y.strides[y.ndim - 1],
                        <char*>out + i * out_size, width)
            _next_row(views, 2, idx, pos)
            i += width
        return 0
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
    aa, ba = _unaliased_view(aa, &va, o), _unaliased_view(ba, &vb, o)
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
        if B_EQ <= op <= B_GE:
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
    """out = a where cond else b over views of one shape with elements, a row (the last dim,
    after merging dims) at a time: broadcast inputs are read in place, not copied."""
    cdef View c = vc[0], x = va[0], y = vb[0]
    cdef View* views[3]
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef Py_ssize_t pos[3]
    cdef Py_ssize_t i, j, width, sc, sa, sb
    cdef const unsigned char* cr
    cdef const num_t* ar
    cdef const num_t* br
    views[0], views[1], views[2] = &c, &x, &y
    _coalesce(views, 3)
    width = c.shape[c.ndim - 1]
    sc, sa, sb = c.strides[c.ndim - 1], x.strides[c.ndim - 1], y.strides[c.ndim - 1]
    pos[0], pos[1], pos[2] = c.offset, x.offset, y.offset
    memset(idx, 0, sizeof(idx))
    i = 0
    while i < c.n:
        cr, ar, br = cond + pos[0], a + pos[1], b + pos[2]
        if sc == 1 and sa == 1 and sb == 1:
            for j in range(width):
                out[i + j] = ar[j] if cr[j] else br[j]
        else:
            for j in range(width):
                out[i + j] = ar[j * sa] if cr[j * sc] else br[j * sb]
        _next_row(views, 3, idx, pos)
        i += width
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
    ca, aa, ba = _unaliased_view(ca, &vc, o), _unaliased_view(aa, &va, o), _unaliased_view(ba, &vb, o)
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
