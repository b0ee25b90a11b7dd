# Included by _kernels.pyx: the twin of minigrad/_kernels/softmax_loss.py.

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


cdef bint _sum_exp_certified(const real_t* line, Py_ssize_t n, Py_ssize_t stride, double m,
                             double* total) noexcept:
    """sum_k exp(line[k] - m) rounded once, as fsum rounds it, when that can be certified without
    fsum's partials (issue 16: the CRF's logsumexp, 20 times per sentence): the terms lie in
    [0, 1] and one of them (the max's) is 1, so the exact sum S is in [1, n]. A double-double sum
    (each add's error caught exactly by TwoSum) gives s + e with |e - E| <= n^3 u^2 <= 2^-70 for
    n <= 4096 (u = 2^-53, E the exact sum of the errors), while ulp(S) >= 2^-52. r = s + e is
    then the correctly rounded S unless s + e lies within 2^-66 of the midpoint between r and
    its neighbour on that side; False then (and for NaN terms), and the caller uses fsum."""
    cdef double s = 0.0, e = 0.0, t, r, b, rr, gap
    cdef Py_ssize_t k
    if n > 4096:
        return False
    for k in range(n):
        t = exp(<double>line[k * stride] - m)
        r = s + t
        b = r - s
        e += (s - (r - b)) + (t - b)
        s = r
    if not (isfinite(s) and isfinite(e)):
        return False
    r = s + e
    b = r - s
    rr = (s - (r - b)) + (e - b)   # s + e == r + rr exactly
    gap = nextafter(r, INFINITY) - r if rr > 0 else r - nextafter(r, -INFINITY)
    if gap * 0.5 - fabs(rr) <= 1.4e-20:  # 2^-66 (about 1.36e-20)
        return False
    total[0] = r
    return True


cdef double _logsumexp_line(const real_t* line, Py_ssize_t n, Py_ssize_t stride, FSum* s) noexcept:
    cdef double m = _line_max(line, n, stride), total
    cdef Py_ssize_t k
    if m == INFINITY or m == -INFINITY or m != m:
        return m
    if _sum_exp_certified(line, n, stride, m, &total):
        return m + _log(total)
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
    cdef Py_ssize_t row
    if _code(xa) == c'f' and inner == 1 and which != 4 and n > 0:
        for row in range(outer):   # torch's kernels over the last dimension, bit for bit
            mg_softmax_row_f32(which, <float*>_data(xa) + row * n, <float*>_data(g) + row * n,
                               <float*>_data(o) + row * n, n)
    elif _code(xa) == c'd' and inner == 1 and which != 4 and n > 0:
        for row in range(outer):
            mg_softmax_row_f64(which, <double*>_data(xa) + row * n, <double*>_data(g) + row * n,
                               <double*>_data(o) + row * n, n)
    elif _code(xa) == c'f':
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
# issue 16 (tagops): the backward of logsumexp in one pass (the CRF's forward algorithm)
# ---------------------------------------------------------------------------------------------

cdef void _logsumexp_backward(const real_t* x, const real_t* y, const real_t* grad, Py_ssize_t outer, Py_ssize_t n,
                              Py_ssize_t inner, real_t* out) noexcept:
    cdef Py_ssize_t o, k, i, at
    cdef real_t shifted, probability
    for o in range(outer):
        for k in range(n):
            for i in range(inner):
                at = (o * n + k) * inner + i
                shifted = <real_t>(<double>x[at] - <double>y[o * inner + i])
                probability = <real_t>exp(shifted)
                out[at] = <real_t>(<double>probability * <double>grad[o * inner + i])


def logsumexp_backward(x, y, grad, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner, out) -> None:
    """out[o, k, i] = exp(x[o, k, i] - y[o, i]) * grad[o, i], where y = logsumexp(x) along k:
    softmax(x) * grad, each of the three steps rounded to the buffers' precision (as the
    subtraction, exp and product done one by one)."""
    cdef carray.array xa = _array(x, "x"), ya = _array(y, "y"), ga = _array(grad, "grad"), o = _array(out, "out")
    _floating(xa, "x")
    _same_code(xa, "x", ya, "y")
    _same_code(xa, "x", ga, "grad")
    _same_code(xa, "x", o, "out")
    _check_lines(outer, n, inner, xa, "x", ya, _mul(outer, inner), "y")
    _need(ga, Py_SIZE(ya), "grad")
    _need(o, Py_SIZE(xa), "out")
    ya, ga = _unaliased(ya, o), _unaliased(ga, o)
    if _code(xa) == c'f':
        _logsumexp_backward(<float*>_data(xa), <float*>_data(ya), <float*>_data(ga), outer, n, inner, <float*>_data(o))
    else:
        _logsumexp_backward(<double*>_data(xa), <double*>_data(ya), <double*>_data(ga), outer, n, inner,
                            <double*>_data(o))
