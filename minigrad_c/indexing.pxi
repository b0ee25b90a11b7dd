# Included by _kernels.pyx: the twin of minigrad/_kernels/indexing.py.

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
    elif code == c'i':
        _gather_view(<int*>src, v, <int*>out)
    elif code == c'h':
        _gather_view(<short*>src, v, <short*>out)
    elif code == c'b':
        _gather_view(<signed char*>src, v, <signed char*>out)
    else:
        _gather_view(<unsigned char*>src, v, <unsigned char*>out)


cdef void _scatter_any(char code, void* dst, const View* v, void* src) noexcept:
    if code == c'f':
        _scatter_view(<float*>dst, v, <float*>src)
    elif code == c'd':
        _scatter_view(<double*>dst, v, <double*>src)
    elif code == c'q':
        _scatter_view(<long long*>dst, v, <long long*>src)
    elif code == c'i':
        _scatter_view(<int*>dst, v, <int*>src)
    elif code == c'h':
        _scatter_view(<short*>dst, v, <short*>src)
    elif code == c'b':
        _scatter_view(<signed char*>dst, v, <signed char*>src)
    else:
        _scatter_view(<unsigned char*>dst, v, <unsigned char*>src)


def gather(src, shape, strides, offset, out) -> None:
    """out[i] = the i-th element (row-major) of the view (shape, strides, offset) of src."""
    cdef View v
    _parse_view(&v, shape, strides, offset)
    cdef carray.array s = _array_any(src, "src"), o = _array_any(out, "out")
    _same_code(s, "src", o, "out")
    _need(o, v.n, "out")
    _check_view(&v, Py_SIZE(s), "src")
    _gather_any(_code(s), _data(s), &v, _data(o))


def scatter(dst, shape, strides, offset, src) -> None:
    """Write the row-major elements of src into the view (shape, strides, offset) of dst."""
    cdef View v
    _parse_view(&v, shape, strides, offset)
    cdef carray.array d = _array_any(dst, "dst"), s = _array_any(src, "src")
    _same_code(d, "dst", s, "src")
    _need(s, v.n, "src")
    _check_view(&v, Py_SIZE(d), "dst")
    _scatter_any(_code(d), _data(d), &v, _data(s))


cdef void _take(const elem_t* src, const long long* pos, elem_t* out, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = src[pos[i]]


def take(src, positions, out) -> None:
    """out[i] = src[positions[i]]."""
    cdef carray.array s = _array_any(src, "src"), p = _array_any(positions, "positions"), o = _array_any(out, "out")
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
    elif code == c'i':
        _take(<int*>_data(s), pos, <int*>_data(o), n)
    elif code == c'h':
        _take(<short*>_data(s), pos, <short*>_data(o), n)
    elif code == c'b':
        _take(<signed char*>_data(s), pos, <signed char*>_data(o), n)
    else:
        _take(<unsigned char*>_data(s), pos, <unsigned char*>_data(o), n)


cdef void _put(elem_t* dst, const long long* pos, const elem_t* src, Py_ssize_t n, bint accumulate) noexcept:
    cdef Py_ssize_t i
    if not accumulate:
        for i in range(n):
            dst[pos[i]] = src[i]
    elif elem_t is float or elem_t is double:
        for i in range(n):
            dst[pos[i]] = <elem_t>(<double>dst[pos[i]] + <double>src[i])
    else:  # integers wrap around, as torch's
        for i in range(n):
            dst[pos[i]] = <elem_t>(<unsigned long long>dst[pos[i]] + <unsigned long long>src[i])


def put(dst, positions, src, bint accumulate) -> None:
    """dst[positions[i]] = src[i], or += when accumulate (repeated positions then add up)."""
    cdef carray.array d = _array_any(dst, "dst"), p = _array_any(positions, "positions"), s = _array_any(src, "src")
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
    elif code == c'i':
        _put(<int*>_data(d), pos, <int*>_data(s), n, accumulate)
    elif code == c'h':
        _put(<short*>_data(d), pos, <short*>_data(s), n, accumulate)
    elif code == c'b':
        _put(<signed char*>_data(d), pos, <signed char*>_data(s), n, accumulate)
    else:
        _put(<unsigned char*>_data(d), pos, <unsigned char*>_data(s), n, accumulate)


cdef void _fill(elem_t* out, Py_ssize_t n, elem_t value) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = value


def zeros(like, Py_ssize_t n) -> carray.array:
    """A new buffer of n zeros of ``like``'s typecode, cleared with memset (every type's zero is
    all bits clear): half the memory traffic of repeating a one-element buffer."""
    cdef carray.array a = _array_any(like, "like")
    if n < 0:
        raise ValueError(f"zeros expects n >= 0, got {n}")
    cdef carray.array out = carray.clone(a, n, False)
    if n:
        mg_huge_pages(out.data.as_voidptr, n * a.ob_descr.itemsize)  # before the first write
        memset(out.data.as_voidptr, 0, n * a.ob_descr.itemsize)
    return out


def empty(like, Py_ssize_t n) -> carray.array:
    """A new buffer of n elements of ``like``'s typecode, not cleared: whatever the memory held
    (the pure twin's are zeros). Only for outputs a kernel writes in full."""
    cdef carray.array a = _array_any(like, "like")
    if n < 0:
        raise ValueError(f"empty expects n >= 0, got {n}")
    cdef carray.array out = carray.clone(a, n, False)
    if n:
        mg_huge_pages(out.data.as_voidptr, n * a.ob_descr.itemsize)
    return out


def fill(out, value) -> None:
    """Every element of out becomes value."""
    cdef carray.array o = _array_any(out, "out")
    cdef char code = _code(o)
    cdef double real
    cdef long long integer
    if code == c'f' or code == c'd':
        real = value
    else:
        integer = operator.index(value)
        if code == c'B' and not 0 <= integer <= 255:
            raise OverflowError(f"{integer} does not fit in an unsigned byte")
        if (code == c'b' and not -128 <= integer <= 127) or (code == c'h' and not -32768 <= integer <= 32767) or (
            code == c'i' and not -2147483648 <= integer <= 2147483647
        ):
            raise OverflowError(f"{integer} does not fit in typecode {chr(code)!r}")
    if code == c'f':
        _fill(<float*>_data(o), Py_SIZE(o), <float>real)
    elif code == c'd':
        _fill(<double*>_data(o), Py_SIZE(o), real)
    elif code == c'q':
        _fill(<long long*>_data(o), Py_SIZE(o), integer)
    elif code == c'i':
        _fill(<int*>_data(o), Py_SIZE(o), <int>integer)
    elif code == c'h':
        _fill(<short*>_data(o), Py_SIZE(o), <short>integer)
    elif code == c'b':
        _fill(<signed char*>_data(o), Py_SIZE(o), <signed char>integer)
    else:
        _fill(<unsigned char*>_data(o), Py_SIZE(o), <unsigned char>integer)


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
    cdef carray.array s = _array_any(src, "src"), ix = _array_any(indices, "indices"), o = _array_any(out, "out")
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


# ---------------------------------------------------------------------------------------------
# issue 16 (tagops): one strided view copied into another
# ---------------------------------------------------------------------------------------------

cdef void _copy_view(const elem_t* src, const View* vs, elem_t* dst, const View* vd) noexcept:
    """The views' elements, in row-major order, from src to dst, a row (the last dim, after
    merging dims) at a time."""
    cdef View a = vs[0], b = vd[0]
    cdef View* views[2]
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef Py_ssize_t pos[2]
    cdef Py_ssize_t i, j, width, sa, sb
    views[0], views[1] = &a, &b
    _coalesce(views, 2)
    width, sa, sb = a.shape[a.ndim - 1], a.strides[a.ndim - 1], b.strides[b.ndim - 1]
    pos[0], pos[1] = a.offset, b.offset
    memset(idx, 0, sizeof(idx))
    i = 0
    while i < a.n:
        if sa == 1 and sb == 1:
            memcpy(dst + pos[1], src + pos[0], width * sizeof(elem_t))
        else:
            for j in range(width):
                dst[pos[1] + j * sb] = src[pos[0] + j * sa]
        _next_row(views, 2, idx, pos)
        i += width


def copy_strided(src, shape, src_strides, Py_ssize_t src_offset, dst, dst_strides, Py_ssize_t dst_offset) -> None:
    """Write the elements of the view (shape, src_strides, src_offset) of src, in row-major order,
    into the view (shape, dst_strides, dst_offset) of dst: ``gather`` then ``scatter`` without
    the buffer between them (src is read before dst is written, even when they are one buffer)."""
    cdef View vs, vd
    _parse_view(&vs, shape, src_strides, src_offset)
    _parse_view(&vd, shape, dst_strides, dst_offset)
    cdef carray.array s = _array_any(src, "src"), d = _array_any(dst, "dst")
    _same_code(s, "src", d, "dst")
    _check_view(&vs, Py_SIZE(s), "src")
    _check_view(&vd, Py_SIZE(d), "dst")
    if vs.n == 0:
        return
    s = _unaliased(s, d)
    cdef char code = _code(d)
    if code == c'f':
        _copy_view(<float*>_data(s), &vs, <float*>_data(d), &vd)
    elif code == c'd':
        _copy_view(<double*>_data(s), &vs, <double*>_data(d), &vd)
    elif code == c'q':
        _copy_view(<long long*>_data(s), &vs, <long long*>_data(d), &vd)
    elif code == c'i':
        _copy_view(<int*>_data(s), &vs, <int*>_data(d), &vd)
    elif code == c'h':
        _copy_view(<short*>_data(s), &vs, <short*>_data(d), &vd)
    elif code == c'b':
        _copy_view(<signed char*>_data(s), &vs, <signed char*>_data(d), &vd)
    else:
        _copy_view(<unsigned char*>_data(s), &vs, <unsigned char*>_data(d), &vd)
