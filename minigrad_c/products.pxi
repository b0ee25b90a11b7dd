# Included by _kernels.pyx: the twin of minigrad/_kernels/products.py. Float products of
# MATMUL_BLOCKED_AT multiply-adds or more run on _gemm, the blocked routine the LSTM uses too.

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
