# Included by _kernels.pyx: the twin of minigrad/_kernels/products.py. Float products of
# MATMUL_BLOCKED_AT multiply-adds or more run on _gemm, the blocked routine the LSTM uses too.

# ---------------------------------------------------------------------------------------------
# Linear algebra
# ---------------------------------------------------------------------------------------------

cdef int _matmul(const num_t* a, const num_t* b, Py_ssize_t batch, Py_ssize_t m, Py_ssize_t k, Py_ssize_t n,
                 num_t* out) except -1:
    """Row i of out[z] accumulates a[z, i, l] * b[z, l, :] over l in order, from 0. Floats in
    products of MATMUL_BLOCKED_AT multiply-adds or more take _matmul_blocked (same sums), except
    float32 products of MATMUL_TORCH_SUMS_AT rows and columns or more: _matmul_as_torch (torch's
    sums, not the pure kernel's)."""
    if num_t is float or num_t is double:
        if _mul(_mul(_mul(batch, m), k), n) >= MATMUL_BLOCKED_AT:
            if num_t is float and m >= MATMUL_TORCH_SUMS_AT and n >= MATMUL_TORCH_SUMS_AT:
                return _matmul_as_torch(a, b, batch, m, k, n, out)
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


# The matrix products (matmul's and the recurrent kernels') run through one C routine, _gemm,
# written with GCC/Clang vector extensions: a vector holds the lanes of neighbouring columns of
# the product, each lane its own sum. It is one template (MG_GEMM_FOR), instantiated for:
# - for doubles (mg_gemm_d): each sum runs over k in order, a * b rounded then added, as the pure
#   kernels' sum() does (vectorizing along the columns never reassociates a sum); matmul runs
#   here for float32 products of fewer than 12 rows or columns too (mg_gemm_x: float32 values in
#   double, whose products are exact, so fused multiply-adds give the same bits), so those keep
#   the pure kernels' results bit for bit;
# - for float32 (mg_gemm_f): float32 sums with fused multiply-adds, as torch's CPU products
#   (MKL's sgemm) accumulate: twice the lanes of a double vector and no conversions. The
#   recurrent kernels' float32 products run here, and matmul's of at least 12 rows and columns,
#   both in torch's runs of k (_sgemm_as_torch). Their sums round differently from the pure
#   kernels' double sums: each agrees within the float32 dot-product bound
#   |error| <= gamma_K * sum_k |a_k b_k| (gamma_K = K u / (1 - K u), u = 2^-24), not bit for
#   bit, and so do the layers' results within a bound tests/test_kernels_parity.py derives.
# Plain loops would leave the choice to the compiler, which may keep the accumulators in memory
# or vectorize along the sum with shuffles.
cdef extern from *:
    """
    #include <stdlib.h>
    #if !defined(__GNUC__)
    #error "minigrad_c's matrix products need GCC or Clang (vector extensions)"
    #endif
    /* the widest vector registers the build may use */
    #if defined(__AVX512F__)
    #define MG_VECTOR_BYTES 64
    #elif defined(__AVX__)
    #define MG_VECTOR_BYTES 32
    #else
    #define MG_VECTOR_BYTES 16
    #endif
    #define MG_L2_BYTES (2 * 1024 * 1024)     /* L2 per core (Intel Xeon): a larger b comes from L3 */
    #define MG_C_BLOCK (MG_L2_BYTES / 4)      /* bytes of c a block of rows may take (mg_gemm) */
    #define MG_LANES_d (MG_VECTOR_BYTES / 8)  /* doubles in a vector */
    #define MG_LANES_x MG_LANES_d
    #define MG_LANES_f (MG_VECTOR_BYTES / 4)  /* floats in a vector */
    #define MG_PANEL_d (8 * MG_LANES_d)       /* columns of a panel of b: the widest tile */
    #define MG_PANEL_x MG_PANEL_d
    #define MG_PANEL_f (8 * MG_LANES_f)
    #define MG_KC (4096 / MG_VECTOR_BYTES)    /* k per block: a panel's block of b is 32 KiB, to stay in L1 */
    #define MG_AHEAD 16                       /* how many k ahead mg_tile prefetches b's lines */
    /* Threads (set_num_threads; with OpenMP, where the build has it): the panels of a block of k
       are shared out among them when the block has MG_PARALLEL_AT multiply-adds or more. Each sum
       is still one thread's, over k in order: the same results on any number of threads. */
    #define MG_PARALLEL_AT 65536
    static int mg_threads = 1;
    /* The module is compiled with -ffp-contract=off, so that double arithmetic is exactly
       Python's. mg_gemm_f's float32 sums use fused multiply-adds (where the CPU has them), and so
       does mg_gemm_x, a double product of float32 numbers: their products are exact in double
       (24 + 24 bits), so fma(a, b, s) is the sum rounded once, as a * b + s is: the same bits,
       fewer instructions. */
    #if defined(__FMA__) || defined(__FMA4__) || defined(__aarch64__)
    #define MG_HAS_FMA 1    /* the target has fused multiply-add instructions (a portable x86-64 build has not) */
    #else
    #define MG_HAS_FMA 0
    #endif
    #define MG_FUSED_f __attribute__((optimize("fp-contract=fast")))
    #define MG_FUSED_x __attribute__((optimize("fp-contract=fast")))
    #define MG_FUSED_d

    /* MG_GEMM_FOR(T, S) defines, for elements of type T (suffix S, d or f):
     *
     * mg_tile_S: for i < R and j < V * MG_LANES_S, the sum over k < K, in order, of
     *   a[i * ars + k * acs] * b[k * ldb + j], started from 0 (MG_START: c[i, j] = the sum), from
     *   c[i, j] (MG_CONTINUE: c[i, j] = the sum) or from 0 and then added (MG_ADD: c[i, j] =
     *   c[i, j] + the sum, one more rounding): R x V vectors of sums, in registers while k runs.
     *   When b is larger than L2, the first row tile to read a block of it (fetch) also asks for
     *   b's lines MG_AHEAD k ahead; the later ones find the block in L1. Without, the lines came
     *   no faster than L3's latency allowed (the hidden-512 LSTM steps, whose packed w_hh is 4 MiB:
     *   110 GFLOP/s at batch 16, 125 with); where b fits in L2 it cost a few percent. The same sums;
     * mg_rows_S: R rows of c across a panel of width w: tiles of V vectors, then of one vector;
     * mg_gemm_S: c (M x N, row stride ldc) = a (M x K, strides ars and acs) b (K x N, packed by
     *   _pack), or with add, c += a b. Without torch_runs, blocks of MG_KC k, in order: each block
     *   adds its terms to the sums the earlier ones (or, with add, c) left in c (a sum stored and
     *   reloaded is the same number), so every sum runs over k in order. With torch_runs, each run
     *   of mg_torch_run(K, k0) k is a sum of its own from 0, added to c when it ends (the first
     *   replaces c, unless add): torch's float32 products (_sgemm_as_torch).
     *   Within a block, each panel of b is used by all the row tiles in turn. The rows go in
     *   blocks of as many as MG_C_BLOCK bytes of c hold, each block through every block of k
     *   before the next, so that its part of c stays in L2 between blocks of k; rows of a read
     *   down a column (acs != 1: the weight gradients' dz^T) are copied per block of k into the
     *   row tiles' order (mg_pack_a), one line and page for many k. Neither changes a sum: each
     *   still runs over k in order. */
    /* torch's float32 products (MKL's sgemm, as torch 2.13's CPU wheel calls it) sum each element
       in runs of k: each run a chain of fused multiply-adds from 0, added to the sum when it ends.
       How long the runs are depends on the kernels MKL picks for the CPU (measured: tests/
       test_ops_linalg.py): mg_torch_run(K, k0) is the length of the run that starts at k0. */
    enum { MG_RUNS_AMD, MG_RUNS_INTEL_AVX512 };
    static int mg_torch_runs = MG_RUNS_AMD;
    static int mg_detect_torch_runs(void) {
    #if defined(__x86_64__) || defined(__i386__)
        __builtin_cpu_init();
        if (__builtin_cpu_is("intel") && __builtin_cpu_supports("avx512f"))
            return MG_RUNS_INTEL_AVX512;
    #endif
        return MG_RUNS_AMD;
    }
    static inline Py_ssize_t mg_torch_run(Py_ssize_t K, Py_ssize_t k0) {
        const Py_ssize_t rest = K - k0;
        Py_ssize_t run;
        if (mg_torch_runs == MG_RUNS_INTEL_AVX512)  /* runs of 384; a rest of 385..768 in two halves, the first the longer */
            return rest <= 384 ? rest : rest <= 768 ? (rest + 1) / 2 : 384;
        run = K <= 192 ? K : K <= 384 ? K / 2 : 192;  /* AMD EPYC: runs of one length (193 k: 96, 96, 1) */
        return rest < run ? rest : run;
    }
    enum { MG_START, MG_CONTINUE, MG_ADD };
    #define MG_GEMM_FOR(T, S)                                                                        \\
    typedef T mg_vec_##S                                                                             \\
        __attribute__((vector_size(MG_VECTOR_BYTES), aligned(sizeof(T)), may_alias));                \\
                                                                                                     \\
    static inline __attribute__((always_inline)) MG_FUSED_##S void mg_tile_##S(                      \\
        const int R, const int V, int mode, Py_ssize_t K, const T* a, Py_ssize_t ars,                \\
        Py_ssize_t acs, const T* b, Py_ssize_t ldb, T* c, Py_ssize_t ldc, int fetch)                 \\
    {                                                                                                \\
        mg_vec_##S acc[8][8];                                                                        \\
        Py_ssize_t k;                                                                                \\
        int i, v;                                                                                    \\
        for (i = 0; i < R; i++)                                                                      \\
            for (v = 0; v < V; v++)                                                                  \\
                acc[i][v] = mode == MG_CONTINUE ? *(const mg_vec_##S*)(c + i * ldc + v * MG_LANES_##S)     \\
                                                : (mg_vec_##S){0};                                   \\
        for (k = 0; k < K; k++) {                                                                    \\
            const mg_vec_##S* bk = (const mg_vec_##S*)(b + k * ldb);                                 \\
            if (fetch)  /* (a hint: an address past the end of b is not read) */                     \\
                for (v = 0; v < V; v++)                                                              \\
                    __builtin_prefetch(b + (k + MG_AHEAD) * ldb + v * MG_LANES_##S, 0, 3);           \\
            for (i = 0; i < R; i++) {                                                                \\
                const T x = a[i * ars + k * acs];                                                    \\
                for (v = 0; v < V; v++)                                                              \\
                    acc[i][v] += x * bk[v];                                                          \\
            }                                                                                        \\
        }                                                                                            \\
        for (i = 0; i < R; i++)                                                                      \\
            for (v = 0; v < V; v++) {                                                                \\
                mg_vec_##S* out = (mg_vec_##S*)(c + i * ldc + v * MG_LANES_##S);                     \\
                if (mode == MG_ADD) *out += acc[i][v]; else *out = acc[i][v];                        \\
            }                                                                                        \\
    }                                                                                                \\
                                                                                                     \\
    static inline __attribute__((always_inline)) MG_FUSED_##S void mg_rows_##S(                      \\
        const int R, const int V, int mode, Py_ssize_t K, const T* a, Py_ssize_t ars,                \\
        Py_ssize_t acs, const T* panel, Py_ssize_t w, T* c, Py_ssize_t ldc, int fetch)               \\
    {                                                                                                \\
        Py_ssize_t j = 0;                                                                            \\
        for (; j + V * MG_LANES_##S <= w; j += V * MG_LANES_##S)                                     \\
            mg_tile_##S(R, V, mode, K, a, ars, acs, panel + j, w, c + j, ldc, fetch);                \\
        for (; j < w; j += MG_LANES_##S)                                                             \\
            mg_tile_##S(R, 1, mode, K, a, ars, acs, panel + j, w, c + j, ldc, fetch);                \\
    }                                                                                                \\
                                                                                                     \\
    static inline __attribute__((always_inline)) MG_FUSED_##S void mg_tile_rows_##S(                 \\
        const int R, const int V, int mode, Py_ssize_t kc, const T* a, Py_ssize_t ars,               \\
        Py_ssize_t acs, const T* ap, Py_ssize_t i, const T* panel, Py_ssize_t w, T* c,               \\
        Py_ssize_t ldc, int far)                                                                     \\
    {   /* the R rows from row i across a panel: rows of a in place, or packed at ap (mg_pack_a);    \\
           the first tile over a far b prefetches it (fetch a constant: no test in the k loop) */    \\
        const T* rows = ap ? ap + i * kc : a + i * ars;                                              \\
        const Py_ssize_t rs = ap ? 1 : ars, ks = ap ? R : acs;                                       \\
        if (far && i == 0)                                                                           \\
            mg_rows_##S(R, V, mode, kc, rows, rs, ks, panel, w, c + i * ldc, ldc, 1);                \\
        else                                                                                         \\
            mg_rows_##S(R, V, mode, kc, rows, rs, ks, panel, w, c + i * ldc, ldc, 0);                \\
    }                                                                                                \\
                                                                                                     \\
    static inline __attribute__((always_inline)) MG_FUSED_##S void mg_panel_##S(                     \\
        Py_ssize_t M, Py_ssize_t K, Py_ssize_t N, Py_ssize_t k0, Py_ssize_t kc, Py_ssize_t n0,       \\
        int mode, const T* a, Py_ssize_t ars, Py_ssize_t acs, const T* ap, const T* b, T* c,         \\
        Py_ssize_t ldc)                                                                              \\
    {   /* all M rows of c across the panel of b from column n0, for the block of kc k from k0 */    \\
        const Py_ssize_t w = N - n0 < MG_PANEL_##S ? N - n0 : MG_PANEL_##S;                          \\
        const T* panel = b + n0 * K + k0 * w;                                                        \\
        const int far = K * N * (Py_ssize_t)sizeof(T) > MG_L2_BYTES;  /* b is read from L3 */        \\
        Py_ssize_t i;                                                                                \\
        a += k0 * acs;                                                                               \\
        c += n0;                                                                                     \\
        for (i = 0; i + 8 <= M; i += 8)                                                              \\
            mg_tile_rows_##S(8, 2, mode, kc, a, ars, acs, ap, i, panel, w, c, ldc, far);             \\
        if (i + 4 <= M) {                                                                            \\
            mg_tile_rows_##S(4, 2, mode, kc, a, ars, acs, ap, i, panel, w, c, ldc, far);             \\
            i += 4;                                                                                  \\
        }                                                                                            \\
        if (i + 2 <= M) {                                                                            \\
            mg_tile_rows_##S(2, 4, mode, kc, a, ars, acs, ap, i, panel, w, c, ldc, far);             \\
            i += 2;                                                                                  \\
        }                                                                                            \\
        if (i < M)                                                                                   \\
            mg_tile_rows_##S(1, 8, mode, kc, a, ars, acs, ap, i, panel, w, c, ldc, far);             \\
    }                                                                                                \\
                                                                                                     \\
    /* Rows of a read down a column (acs > 1: a transpose, as the weight gradients' dz^T) are        \\
       copied per block of k into mg_panel's row tiles, each R x kc stored k-major (element          \\
       (r, k) of the tile from row i at ap[i * kc + k * R + r]): read in place, each k of a tile     \\
       is on another line and, for long rows, another page. */                                       \\
    static void mg_pack_a_##S(Py_ssize_t M, Py_ssize_t k0, Py_ssize_t kc, const T* a,                \\
                              Py_ssize_t ars, Py_ssize_t acs, T* ap)                                 \\
    {                                                                                                \\
        Py_ssize_t i = 0, R, r, k;                                                                   \\
        while (i < M) {                                                                              \\
            R = M - i >= 8 ? 8 : M - i >= 4 ? 4 : M - i >= 2 ? 2 : 1;                                \\
            for (k = 0; k < kc; k++)                                                                 \\
                for (r = 0; r < R; r++)                                                              \\
                    ap[i * kc + k * R + r] = a[(i + r) * ars + (k0 + k) * acs];                      \\
            i += R;                                                                                  \\
        }                                                                                            \\
    }                                                                                                \\
                                                                                                     \\
    static inline MG_FUSED_##S void mg_gemm_rows_##S(Py_ssize_t M, Py_ssize_t K, Py_ssize_t N,       \\
        const T* a, Py_ssize_t ars, Py_ssize_t acs, const T* b, T* c, Py_ssize_t ldc, int add,       \\
        int torch_runs, T* ap)                                                                       \\
    {   /* mg_gemm for one block of rows; ap: room for them packed (mg_pack_a), or NULL */           \\
        const int later = torch_runs ? MG_ADD : MG_CONTINUE;                                         \\
        Py_ssize_t k0 = 0, kc, n0;                                                                   \\
        int mode;                                                                                    \\
        do {    /* at least once: with K == 0 (and not add), c is all 0 */                           \\
            kc = torch_runs ? mg_torch_run(K, k0) : K - k0 < MG_KC ? K - k0 : MG_KC;                 \\
            mode = add || k0 > 0 ? later : MG_START;                                                 \\
            if (ap)                                                                                  \\
                mg_pack_a_##S(M, k0, kc, a, ars, acs, ap);                                           \\
            if (mg_threads > 1 && N > MG_PANEL_##S && M * kc * N >= MG_PARALLEL_AT) {                \\
                _Pragma("omp parallel for num_threads(mg_threads) schedule(static)")                 \\
                for (n0 = 0; n0 < N; n0 += MG_PANEL_##S)                                             \\
                    mg_panel_##S(M, K, N, k0, kc, n0, mode, a, ars, acs, ap, b, c, ldc);             \\
            } else {    /* even on one thread, a parallel region ends in a system call */            \\
                for (n0 = 0; n0 < N; n0 += MG_PANEL_##S)                                             \\
                    mg_panel_##S(M, K, N, k0, kc, n0, mode, a, ars, acs, ap, b, c, ldc);             \\
            }                                                                                        \\
            k0 += kc;                                                                                \\
        } while (k0 < K);                                                                            \\
    }                                                                                                \\
                                                                                                     \\
    static MG_FUSED_##S void mg_gemm_##S(Py_ssize_t M, Py_ssize_t K, Py_ssize_t N, const T* a,       \\
                                         Py_ssize_t ars, Py_ssize_t acs, const T* b, T* c,           \\
                                         Py_ssize_t ldc, int add, int torch_runs)                    \\
    {   /* the rows in blocks of mc, whose part of c stays in L2 while the blocks of k add to it */  \\
        const Py_ssize_t fit = MG_C_BLOCK / ((N > 0 ? N : 1) * (Py_ssize_t)sizeof(T)) / 8 * 8;       \\
        const Py_ssize_t mc = M < fit ? M : fit > 8 ? fit : 8;                                       \\
        const Py_ssize_t most = torch_runs ? mg_torch_run(K, 0) : K < MG_KC ? K : MG_KC;             \\
        T* ap = acs != 1 && M > 1 ? (T*)malloc(sizeof(T) * (mc > 0 ? mc : 1) * most) : NULL;         \\
        Py_ssize_t i0 = 0, rows;                                                                     \\
        do {                                                                                         \\
            rows = M - i0 < mc ? M - i0 : mc;                                                        \\
            mg_gemm_rows_##S(rows, K, N, a + i0 * ars, ars, acs, b, c + i0 * ldc, ldc, add,          \\
                             torch_runs, ap);                                                        \\
            i0 += rows;                                                                              \\
        } while (i0 < M);                                                                            \\
        free(ap);                                                                                    \\
    }

    MG_GEMM_FOR(double, d)
    MG_GEMM_FOR(double, x)
    MG_GEMM_FOR(float, f)
    """
    int mg_threads  # threads for a product (set_num_threads)
    enum:
        MG_HAS_FMA  # 1 when the build's target has fused multiply-adds
    enum:
        MG_LANES_f  # floats in a vector (twice the doubles)
        MG_PANEL_d  # columns in a panel of a packed b: the widest tile
        MG_PANEL_f
    enum:
        MG_RUNS_AMD  # mg_torch_runs: which CPU's MKL runs torch's float32 sums follow
        MG_RUNS_INTEL_AVX512
    int mg_torch_runs
    int mg_detect_torch_runs() noexcept
    Py_ssize_t mg_torch_run(Py_ssize_t K, Py_ssize_t k0) noexcept
    void mg_gemm_d(Py_ssize_t M, Py_ssize_t K, Py_ssize_t N, const double* a, Py_ssize_t ars,
                   Py_ssize_t acs, const double* b, double* c, Py_ssize_t ldc, bint add, bint torch_runs) noexcept
    void mg_gemm_x(Py_ssize_t M, Py_ssize_t K, Py_ssize_t N, const double* a, Py_ssize_t ars,
                   Py_ssize_t acs, const double* b, double* c, Py_ssize_t ldc, bint add, bint torch_runs) noexcept
    # mg_gemm_d for a and b that hold float32 values: the same results, with fused multiply-adds
    void mg_gemm_f(Py_ssize_t M, Py_ssize_t K, Py_ssize_t N, const float* a, Py_ssize_t ars,
                   Py_ssize_t acs, const float* b, float* c, Py_ssize_t ldc, bint add, bint torch_runs) noexcept


cdef inline void _gemm(Py_ssize_t M, Py_ssize_t K, Py_ssize_t N, const double* a, Py_ssize_t ars,
                       Py_ssize_t acs, const double* b, double* c, Py_ssize_t ldc, bint float32_values,
                       bint add=False) noexcept:
    """c[i, j] = sum over k < K, in order from 0.0, of a[i * ars + k * acs] * b[k, j], for i < M and
    j < N, b packed by _pack; c has row stride ldc. N and ldc are multiples of a vector's lanes
    (_padded), and c is best aligned to a cache line. Each product is rounded, then added, as in
    Python; ``float32_values``: a and b hold float32 values (exact products: mg_gemm_x); ``add``:
    c += a b, each sum continued from the one c holds. Tiles of
    8 rows x 2 vectors keep 16 vectors of sums in registers; the rows that remain take tiles of
    4 x 2, 2 x 4 and 1 x 8."""
    if float32_values:
        mg_gemm_x(M, K, N, a, ars, acs, b, c, ldc, add, 0)
    else:
        mg_gemm_d(M, K, N, a, ars, acs, b, c, ldc, add, 0)


cdef inline void _gemm_in_dtype(Py_ssize_t M, Py_ssize_t K, Py_ssize_t N, const real_t* a, Py_ssize_t ars,
                                Py_ssize_t acs, const real_t* b, real_t* c, Py_ssize_t ldc) noexcept:
    """_gemm's product in the inputs' own precision: float32 sums with fused multiply-adds
    (mg_gemm_f: twice the lanes, no conversions; not the pure kernels' sums bit for bit), or
    double sums as _gemm's. Its operands and c are of the inputs' type, b packed by _pack."""
    if real_t is float:
        mg_gemm_f(M, K, N, a, ars, acs, b, c, ldc, False, 0)
    else:
        mg_gemm_d(M, K, N, a, ars, acs, b, c, ldc, False, 0)


_HAS_FMA = bool(MG_HAS_FMA)  # whether float32 products fuse their multiply-adds (_sgemm_as_torch)


mg_torch_runs = mg_detect_torch_runs()
TORCH_RUNS = "intel-avx512" if mg_torch_runs == MG_RUNS_INTEL_AVX512 else "amd"
"""Which runs torch's float32 sums take on this CPU (mg_torch_run), as measured against torch 2.13.0:
'amd' on an AMD EPYC with AVX-512 (runs of up to 192 k: all K up to 192, then halves of K, so 193
-> 96, 96, 1, and from 385 on runs of 192), 'intel-avx512' on an Intel Xeon with AVX-512 and AMX
(runs of 384; the last 385..768 k in two halves, the first the longer: 1100 -> 384, 358, 358).
MKL picks its kernels by CPU; other CPUs take the 'amd' runs, unmeasured."""


cdef inline void _sgemm_as_torch(Py_ssize_t M, Py_ssize_t K, Py_ssize_t N, const float* a, Py_ssize_t ars,
                                 Py_ssize_t acs, const float* b, float* c, Py_ssize_t ldc, bint add) noexcept:
    """c = a b (or, with add, c + a b, as torch's addmm adds a bias) in float32, summed as the
    sgemm torch 2.13's CPU wheel calls (MKL 2024.2): each run of k (mg_torch_run, TORCH_RUNS) is a
    chain of fused multiply-adds from 0, in order, added to c when it ends. Bit for bit torch's
    products of at least 4 rows and 12 columns with b not transposed, as measured against torch
    2.13.0 on an AMD EPYC and an Intel Xeon (torch's AVX512 kernels; MKL picks its own):
    `tests/test_fused_gru_rnn.py`. MKL takes other kernels for fewer rows or columns; there the
    results are within the float32 bound of a K-term sum, not the same bits, and so they are on a
    build without fused multiply-adds (_HAS_FMA false: a MINIGRAD_PORTABLE_BUILD for x86-64),
    whose chains round each product."""
    mg_gemm_f(M, K, N, a, ars, acs, b, c, ldc, add, True)


cdef inline void _gemm_like_torch(Py_ssize_t M, Py_ssize_t K, Py_ssize_t N, const real_t* a, Py_ssize_t ars,
                                  Py_ssize_t acs, const real_t* b, real_t* c, Py_ssize_t ldc) noexcept:
    """c = a b in the inputs' own precision: float32 as torch sums it (_sgemm_as_torch), float64 as
    the pure kernels do (mg_gemm_d: in order from 0.0, the same bits)."""
    if real_t is float:
        _sgemm_as_torch(M, K, N, a, ars, acs, b, c, ldc, False)
    else:
        mg_gemm_d(M, K, N, a, ars, acs, b, c, ldc, False, 0)


cdef inline Py_ssize_t _spaced(Py_ssize_t n, Py_ssize_t itemsize) noexcept:
    """A row stride for a matrix of n columns that a product reads down its columns: n and one
    more cache line, so that a column's successive elements fall on different L1 sets (rows of
    4 KiB, as the LSTM's 4H = 1024 floats, put a whole column on one set of 8 lines)."""
    return n + 64 // itemsize


cdef inline Py_ssize_t _padded(Py_ssize_t n) noexcept:
    """n rounded up to a whole number of float vectors (the columns of a product buffer; also a
    whole number of double vectors)."""
    return (n + MG_LANES_f - 1) // MG_LANES_f * MG_LANES_f


cdef char* _spare = NULL  # the largest workspace released since, kept for the next one (_release)


cdef void* _workspace(const Py_ssize_t* counts, void** blocks, int n, Py_ssize_t itemsize) except NULL:
    """One allocation of n blocks of counts[k] items of itemsize bytes, each starting on a 64-byte
    line (so that vector loads never straddle two): blocks[k] is block k; give the returned
    pointer back with _release. One allocation, not n, and the last one kept for the next call
    (if large enough): the recurrent kernels' workspaces reach tens of MiB, and memory given back
    to the system comes back as fresh pages, a page fault per 4 KiB written (glibc maps blocks
    over 32 MiB on their own, and unmaps them when freed), which took longer than the arithmetic.
    The size is kept in the allocation's first bytes, before the first block."""
    global _spare
    cdef Py_ssize_t total = 64, k
    for k in range(n):
        if counts[k] > (PY_SSIZE_T_MAX - 64) // itemsize - total:
            raise MemoryError()
        total += (counts[k] * itemsize + 63) // 64 * 64
    cdef char* raw
    if _spare != NULL and (<Py_ssize_t*>_spare)[0] >= total:
        raw, _spare = _spare, NULL
    else:
        raw = <char*>_alloc(total, 1)
        mg_huge_pages(raw, total)
        (<Py_ssize_t*>raw)[0] = total
    cdef char* block = raw + 64 - <size_t>raw % 64  # (malloc's 16-byte alignment leaves room for the size)
    for k in range(n):
        blocks[k] = block
        block += (counts[k] * itemsize + 63) // 64 * 64
    return raw


cdef void _release(void* raw) noexcept:
    """Give back a _workspace: the larger of it and the spare is kept, the other freed."""
    global _spare
    cdef char* work = <char*>raw
    if _spare != NULL and (<Py_ssize_t*>_spare)[0] >= (<Py_ssize_t*>work)[0]:
        PyMem_Free(work)
    else:
        PyMem_Free(_spare)
        _spare = work


cdef void _pack(const real_t* src, Py_ssize_t rs, Py_ssize_t cs, Py_ssize_t rows, Py_ssize_t N, work_t* b,
                Py_ssize_t K, Py_ssize_t first) noexcept:
    """Write rows first .. first + rows - 1 of a (K x N) matrix b for _gemm on work_t:
    b[first + k, n] = src[k * rs + n * cs]. The layout: panels of MG_PANEL_d or MG_PANEL_f
    columns (the last one narrower), each K rows of its width, columns N .. _padded(N) zero; the
    panel from column n0, of width w, holds b[k, n0 + j] at b[n0 * K + k * w + j].

    The columns go in strips of MG_LANES_f, each strip down all the rows before the next: when
    src is a transpose (cs > 1, the forward products' w^T), a strip reads MG_LANES_f lines of
    src over and over, which stay in L1. Down all of a panel's 128 columns at once, a power-of-two
    cs would map them onto a few cache sets, evicting each line before its next element is read
    (this took half of an LSTM forward at hidden 128). When src's rows are contiguous (cs == 1),
    each panel's row is one run of src instead: a copy the compiler runs on vector lanes."""
    cdef Py_ssize_t panel = MG_PANEL_f if work_t is float else MG_PANEL_d
    cdef Py_ssize_t n_pad = _padded(N), n0, w, used, k, j, j0, width
    cdef work_t* dst
    cdef const real_t* column
    n0 = 0
    while n0 < n_pad:
        w = min(panel, n_pad - n0)
        used = min(w, N - n0)  # (n0 < N: n_pad is the first multiple of a vector's lanes from N)
        if cs == 1:
            for k in range(rows):
                dst = b + n0 * K + (first + k) * w
                column = src + k * rs + n0
                for j in range(used):
                    dst[j] = column[j]
                for j in range(used, w):
                    dst[j] = 0
        else:
            j0 = 0
            while j0 < w:
                width = max(0, min(MG_LANES_f, used - j0))
                for k in range(rows):
                    dst = b + n0 * K + (first + k) * w + j0
                    column = src + k * rs + (n0 + j0) * cs
                    for j in range(width):
                        dst[j] = column[j * cs]
                    for j in range(width, MG_LANES_f):  # (w is a whole number of vectors)
                        dst[j] = 0
                j0 += MG_LANES_f
        n0 += panel


cdef void _store(const real_t* src, Py_ssize_t ld, Py_ssize_t rows, Py_ssize_t cols, real_t* out) noexcept:
    """out (rows, cols) = src (rows, cols of a buffer with row stride ld)."""
    cdef Py_ssize_t r, l
    for r in range(rows):
        for l in range(cols):
            out[r * cols + l] = src[r * ld + l]


cdef void _store_rounded(const double* src, Py_ssize_t ld, Py_ssize_t rows, Py_ssize_t cols, real_t* out) noexcept:
    """out (rows, cols) = src (rows, cols of a buffer of doubles with row stride ld), rounded once."""
    cdef Py_ssize_t r, l
    for r in range(rows):
        for l in range(cols):
            out[r * cols + l] = <real_t>src[r * ld + l]


cdef int _matmul_blocked(const real_t* a, const real_t* b, Py_ssize_t batch, Py_ssize_t m, Py_ssize_t k,
                         Py_ssize_t n, real_t* out) except -1:
    """_matmul's products on the blocked routine in double, in pieces that stay in cache: up to
    MATMUL_ROWS rows of a[z] and MATMUL_DEPTH of its columns at a time are converted to double,
    the matching rows of b[z] packed, and their products added to the rows' sums, piece after
    piece in order of l; so each sum still runs over l in order from 0.0 and is rounded once:
    the same results, on vector lanes. (float32 products of fewer than MATMUL_TORCH_SUMS_AT rows
    or columns come here rather than to _matmul_as_torch: MKL sums those with other kernels, and
    a sum rounded once is what programs that print such products show, as torch does.)"""
    cdef Py_ssize_t n_pad = _padded(n), rows = min(m, <Py_ssize_t>MATMUL_ROWS)
    cdef Py_ssize_t depth = min(k, <Py_ssize_t>MATMUL_DEPTH), z, i0, l0, r, d, i, l
    cdef Py_ssize_t counts[3]
    cdef void* blocks[3]
    counts[:] = [_mul(rows, depth), _mul(depth, n_pad), _mul(rows, n_pad)]
    cdef void* work = _workspace(counts, blocks, 3, sizeof(double))
    cdef double* a_d = <double*>blocks[0]       # a piece of a[z] (r, d) in double
    cdef double* b_packed = <double*>blocks[1]  # the matching rows of b[z] (d, n) packed for _gemm
    cdef double* c = <double*>blocks[2]         # (r, n_pad) the sums of the rows so far
    cdef const real_t* a_piece
    for z in range(batch):
        i0 = 0
        while i0 < m:
            r = min(rows, m - i0)
            l0 = 0
            while True:  # at least once: with k == 0 the sums are 0.0
                d = min(depth, k - l0)
                a_piece = a + (z * m + i0) * k + l0
                for i in range(r):
                    for l in range(d):
                        a_d[i * d + l] = a_piece[i * k + l]
                _pack(b + (z * k + l0) * n, n, 1, d, n, b_packed, d, 0)
                _gemm(r, d, n_pad, a_d, d, 1, b_packed, c, n_pad, real_t is float, l0 > 0)
                l0 += d
                if l0 >= k:
                    break
            _store_rounded(c, n_pad, r, n, out + (z * m + i0) * n)
            i0 += rows
    _release(work)
    return 0


cdef int _matmul_as_torch(const float* a, const float* b, Py_ssize_t batch, Py_ssize_t m, Py_ssize_t k,
                          Py_ssize_t n, float* out) except -1:
    """out[z] = a[z] @ b[z] in float32, summed as torch 2.13's CPU sgemm sums it (_sgemm_as_torch:
    runs of k, mg_torch_run, each a chain of fused multiply-adds from 0, added to the sum when it
    ends). For products of at least MATMUL_TORCH_SUMS_AT rows and columns these are torch's bits
    (tests/test_ops_linalg.py says for which layouts of the factors on each CPU measured). The
    pure kernel sums each element in double and rounds once; the two agree within the float32
    bound of a k-term sum, k 2^-24 sum |a b| (tests/test_kernels_parity.py).

    Up to MATMUL_ROWS rows of a[z] at a time, read in place, against the rows of b[z] of one run
    packed at a time (the first run is the longest): each piece is the run it holds, so every sum
    is the one _sgemm_as_torch makes over all of k at once. Twice the lanes of the double
    product, and no conversions."""
    cdef Py_ssize_t n_pad = _padded(n), rows = min(m, <Py_ssize_t>MATMUL_ROWS), z, i0, l0, r, d, i, j
    cdef Py_ssize_t counts[2]
    cdef void* blocks[2]
    counts[:] = [_mul(mg_torch_run(k, 0), n_pad), _mul(rows, n_pad)]
    cdef void* work = _workspace(counts, blocks, 2, sizeof(float))
    cdef float* b_packed = <float*>blocks[0]  # rows l0 .. l0 + d - 1 of b[z], packed for mg_gemm_f
    cdef float* c = <float*>blocks[1]         # (r, n_pad) the sums of the rows so far
    for z in range(batch):
        i0 = 0
        while i0 < m:
            r = min(rows, m - i0)
            l0 = 0
            while l0 < k:  # (k >= 1: a blocked product has multiply-adds)
                d = mg_torch_run(k, l0)
                _pack(b + (z * k + l0) * n, n, 1, d, n, b_packed, d, 0)
                mg_gemm_f(r, d, n_pad, a + (z * m + i0) * k + l0, k, 1, b_packed, c, n_pad, l0 > 0, True)
                l0 += d
            for i in range(r):
                for j in range(n):
                    out[(z * m + i0 + i) * n + j] = c[i * n_pad + j]
            i0 += rows
    _release(work)
    return 0


def set_num_threads(Py_ssize_t n) -> None:
    """Share the blocked matrix products among n threads (with OpenMP: where the build has it,
    else one thread). Each sum is one thread's, in the same order: the same results."""
    if n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n}")
    global mg_threads
    mg_threads = <int>min(n, 1024)
