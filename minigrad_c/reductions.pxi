# Included by _kernels.pyx: the twin of minigrad/_kernels/reductions.py.

# ---------------------------------------------------------------------------------------------
# Reductions over one dimension of a contiguous buffer viewed as (outer, n, inner)
# ---------------------------------------------------------------------------------------------

SUM, MAX, MIN = range(3)

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
# issue 16 (tagops): the backward of a max/min along one dimension
# ---------------------------------------------------------------------------------------------

cdef void _arg_reduce_backward(const real_t* grad, const long long* idx, Py_ssize_t outer, Py_ssize_t n,
                               Py_ssize_t inner, real_t* out) noexcept:
    cdef Py_ssize_t o, i
    cdef real_t* block
    memset(out, 0, outer * n * inner * sizeof(real_t))
    for o in range(outer):
        block = out + o * n * inner
        for i in range(inner):
            block[idx[o * inner + i] * inner + i] = grad[o * inner + i]


def arg_reduce_dim_backward(grad, indices, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner, out) -> None:
    """out[o, k, i] = grad[o, i] where k == indices[o, i], else 0: the gradient of
    ``arg_reduce_dim``'s values (grad and indices hold outer * inner elements, out
    outer * n * inner). Every element of out is written."""
    cdef carray.array ga = _array(grad, "grad"), ia = _array(indices, "indices"), o = _array(out, "out")
    _floating(ga, "grad")
    _same_code(ga, "grad", o, "out")
    if _code(ia) != c'q':
        raise TypeError(f"indices must have typecode 'q', not {chr(_code(ia))!r}")
    _check_lines(outer, n, inner, o, "out", ga, _mul(outer, inner), "grad")
    _need(ia, Py_SIZE(ga), "indices")
    cdef const long long* idx = <const long long*>_data(ia)
    cdef Py_ssize_t k
    for k in range(Py_SIZE(ia)):
        if not 0 <= idx[k] < n:
            raise IndexError(f"index {idx[k]} is out of range for a dimension of size {n}")
    ga = _unaliased(ga, o)
    if _code(o) == c'f':
        _arg_reduce_backward(<float*>_data(ga), idx, outer, n, inner, <float*>_data(o))
    else:
        _arg_reduce_backward(<double*>_data(ga), idx, outer, n, inner, <double*>_data(o))
