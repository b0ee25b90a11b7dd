# Included by _kernels.pyx: the twin of minigrad/_kernels/recurrent.py. Its matrix products
# run on the blocked routine of products.pxi:
# - LSTM: in the inputs' own precision (_gemm_in_dtype): float32 sums with fused multiply-adds
#   for float32, as torch's products; within a bound of the pure kernel's results, not bit for
#   bit (tests/test_kernels_parity.py), and as close to torch's as those (tests/test_lstm_fidelity.py);
# - GRU: float64 as the pure kernel, bit for bit; float32 as torch's GRU cell, each operation
#   rounded to float32 and the products summed as torch's (_sgemm_as_torch): within the same
#   bound of the pure kernel's results, and nearer torch's (tests/test_fused_gru_rnn.py);
# - RNN: double sums in the pure kernel's order (_gemm), bit for bit: the forward products, of
#   float32 values, with fused multiply-adds (exact products: the same bits), the backward
#   ones, of doubles (the gradients), without.

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


cdef bint _wanted(carray.array grad_x) noexcept:
    """Whether a backward kernel computes x's gradient: an empty grad_x says it is not wanted
    (x needs none), and the product that makes it is skipped."""
    return Py_SIZE(grad_x) != 0


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
     * magnitudes, with and without fused multiply-adds in the Horner steps: within 3 ulp (tanh)
     * and 2 ulp (sigmoid) of libm, and equal after rounding to float32 every time. NaN passes
     * through; +-inf give +-1 (tanh) and 1, 0 (sigmoid). */
    #include <stdint.h>
    #include <string.h>

    static inline double mg_pow2(int64_t n) {  /* 2^n, -1022 <= n <= 1023 */
        uint64_t bits = (uint64_t)(n + 1023) << 52;
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }

    static inline double mg_horner(double p, double r, double c) {  /* p r + c: one Horner step */
    #if MG_HAS_FMA
        return __builtin_fma(p, r, c);  /* rounded once: 13% faster, and no less accurate */
    #else
        return p * r + c;
    #endif
    }

    static inline double mg_expm1_reduced(double r) {  /* expm1(r), |r| <= ln2/2: Horner */
        double p = 1.0 / 6227020800.0;
        p = mg_horner(p, r, 1.0 / 479001600.0);
        p = mg_horner(p, r, 1.0 / 39916800.0);
        p = mg_horner(p, r, 1.0 / 3628800.0);
        p = mg_horner(p, r, 1.0 / 362880.0);
        p = mg_horner(p, r, 1.0 / 40320.0);
        p = mg_horner(p, r, 1.0 / 5040.0);
        p = mg_horner(p, r, 1.0 / 720.0);
        p = mg_horner(p, r, 1.0 / 120.0);
        p = mg_horner(p, r, 1.0 / 24.0);
        p = mg_horner(p, r, 1.0 / 6.0);
        p = mg_horner(p, r, 0.5);
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
        double s = (x >= 0 ? 1.0 : e) / (1.0 + e);  /* one division: the compiler would do both arms' */
        return x == x ? s : x;
    }

    static inline double mg_tanh(double x) {
        double u = mg_expm1_nonpos(-2.0 * fabs(x));
        return copysign(-u / (u + 2.0), x);
    }
    """
    double mg_sigmoid(double x) noexcept nogil
    double mg_tanh(double x) noexcept nogil


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


cdef inline void _add_row(double* totals, const work_t* row, Py_ssize_t n) noexcept:
    """totals[r] += row[r] in double, for r < n: the bias gradients, each walked row's gate
    gradients added as the walk writes them, so that each sum runs over the walked rows in
    order from 0.0 (the pure kernel's sum()) while the row is still in cache."""
    cdef Py_ssize_t r
    for r in range(n):
        totals[r] += row[r]


cdef int _lstm_forward(const real_t* x, const real_t* w_ih, const real_t* w_hh, const real_t* b_ih,
                       const real_t* b_hh, bint has_bias, const real_t* h0, const real_t* c0,
                       Py_ssize_t T, Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, bint reverse,
                       real_t* out, real_t* h_n, real_t* c_n, real_t* gates, real_t* cells) except -1:
    """The input sums x_t w_ih^T do not depend on the recurrence: they come first, for all T*B
    rows, as one matrix product. Each step then multiplies the B previous h by w_hh^T and applies
    the gates. The sums are _gemm's (float64: over l in order from 0.0, as the pure kernel's
    sum(); float32: fused multiply-adds in float32), each gate's pre-activation is
    (x sum + bias) + h sum in double, as in the pure kernel, and the activations run a row at a
    time over whole vectors (see _activate_gates for float32's)."""
    cdef Py_ssize_t G = 4 * H, G_pad = _padded(G), s, t, b, r, j, row, prev
    cdef Py_ssize_t counts[4]
    cdef void* blocks[4]
    counts[:] = [_mul(I, G_pad), _mul(H, G_pad), _mul(_mul(T, B), G_pad), _mul(B, G_pad)]
    cdef void* work = _workspace(counts, blocks, 4, sizeof(real_t))
    cdef real_t* w_ih_t = <real_t*>blocks[0]  # w_ih^T (I, 4H) and w_hh^T (H, 4H), packed for _gemm
    cdef real_t* w_hh_t = <real_t*>blocks[1]
    cdef real_t* z_x = <real_t*>blocks[2]     # (T*B, G_pad) x_t w_ih^T for every row
    cdef real_t* z_h = <real_t*>blocks[3]     # (B, G_pad) h w_hh^T for the current step
    cdef double* bias = <double*>_alloc(2 * G + H, sizeof(double))  # (4H,) b_ih + b_hh, or zeros
    cdef double* z = bias + G                 # (4H,) the row's pre-activations, then its gates
    cdef double* tanh_c = bias + 2 * G        # (H,) c', then tanh(c'), of the current row
    cdef bint vector_math = real_t is float
    cdef const real_t* c_p
    cdef const real_t* h_prev = h0
    cdef const real_t* zx_row
    cdef const real_t* zh_row
    cdef real_t* act
    cdef double c
    _pack(w_ih, 1, I, I, G, w_ih_t, I, 0)
    _pack(w_hh, 1, H, H, G, w_hh_t, H, 0)
    for r in range(G):
        bias[r] = <double>b_ih[r] + <double>b_hh[r] if has_bias else 0.0
    _gemm_in_dtype(T * B, I, G_pad, x, I, 1, w_ih_t, z_x, G_pad)
    for s in range(T):
        t = T - 1 - s if reverse else s
        prev = t + 1 if reverse else t - 1
        _gemm_in_dtype(B, H, G_pad, h_prev, H, 1, w_hh_t, z_h, G_pad)
        for b in range(B):
            row = t * B + b
            c_p = cells + (prev * B + b) * H if s else c0 + b * H
            zx_row = z_x + row * G_pad
            zh_row = z_h + b * G_pad
            for r in range(G):
                z[r] = (<double>zx_row[r] + bias[r]) + <double>zh_row[r]
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
                out[row * H + j] = <real_t>(z[3 * H + j] * tanh_c[j])
        h_prev = out + t * B * H
    t = 0 if reverse else T - 1
    for j in range(B * H):
        h_n[j] = out[t * B * H + j] if T else h0[j]
        c_n[j] = cells[t * B * H + j] if T else c0[j]
    PyMem_Free(bias)
    _release(work)
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


cdef extern from *:
    """
    /* One walked row of the LSTM backward, for j < H (minigrad._kernels.lstm_backward's loop
     * body): from the row's gates act = (i, f, g, o), the gradient reaching its h (dh plus
     * grad_out's row), tanh of its c, the c it started from and the carried dc, the row's gate
     * gradients dz (4H) and the next dc, in place. Written in C for its restrict pointers: the
     * compiler then runs it on vector lanes, where in Cython it stayed one element at a time
     * (it could not rule out that dz overlaps an input). The same operations in double in the
     * same order, elementwise (and no fused multiply-adds: -ffp-contract=off): the same bits. */
    #define MG_LSTM_DZ_FOR(T, S)                                                                      \\
    static void mg_lstm_dz_##S(Py_ssize_t H, const T* restrict act, const T* restrict dh,               \\
                               const T* restrict grad_out, const double* restrict tanh_c,              \\
                               const T* restrict c_prev, double* restrict dc, T* restrict dz)          \\
    {                                                                                                  \\
        Py_ssize_t j;                                                                                  \\
        for (j = 0; j < H; j++) {                                                                      \\
            const double i = act[j], f = act[H + j], g = act[2 * H + j], o = act[3 * H + j];           \\
            const double dhj = (double)dh[j] + (double)grad_out[j], tcj = tanh_c[j];                   \\
            const double d_o = dhj * tcj;                                                              \\
            const double dcj = dc[j] + dhj * o * (1.0 - tcj * tcj);                                    \\
            dz[j] = (T)(dcj * g * i * (1.0 - i));                                                      \\
            dz[H + j] = (T)(dcj * (double)c_prev[j] * f * (1.0 - f));                                  \\
            dz[2 * H + j] = (T)(dcj * i * (1.0 - g * g));                                              \\
            dz[3 * H + j] = (T)(d_o * o * (1.0 - o));                                                  \\
            dc[j] = dcj * f;                                                                           \\
        }                                                                                              \\
    }
    MG_LSTM_DZ_FOR(float, f)
    MG_LSTM_DZ_FOR(double, d)
    """
    void mg_lstm_dz_f(Py_ssize_t H, const float* act, const float* dh, const float* grad_out,
                      const double* tanh_c, const float* c_prev, double* dc, float* dz) noexcept
    void mg_lstm_dz_d(Py_ssize_t H, const double* act, const double* dh, const double* grad_out,
                      const double* tanh_c, const double* c_prev, double* dc, double* dz) noexcept


cdef int _lstm_backward(const real_t* x, const real_t* w_ih, const real_t* w_hh, const real_t* h0,
                        const real_t* c0, const real_t* out, const real_t* gates, const real_t* cells,
                        const real_t* grad_out, const real_t* grad_h_n, const real_t* grad_c_n,
                        Py_ssize_t T, Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, bint reverse,
                        real_t* grad_x, real_t* grad_w_ih, real_t* grad_w_hh, real_t* grad_bias,
                        real_t* grad_h0, real_t* grad_c0) except -1:
    """The steps are walked in reverse, carrying dh and dc; each walked row's dz is kept (a row
    of dz, in walk order, written as it is computed), and only dh <- dz w_hh runs inside the
    walk. grad_x = dz w_ih and the weight gradients dz^T x, dz^T h_prev, which do not feed the
    recurrence, are matrix products after it. The products are _gemm's: float64 sums in the
    pure kernel's order, from 0.0 (over r for dz w, over the walked rows for the weights);
    float32 sums with fused multiply-adds, of dz and dh as stored in float32. The gate
    arithmetic (mg_lstm_dz), dc and the bias sums are in double. grad_x NULL: not wanted
    (_wanted), no grad_x product."""
    cdef Py_ssize_t G = 4 * H, K = T * B, H_pad = _padded(H), I_pad = _padded(I), s, t, b, j, row, prev
    cdef Py_ssize_t ld = _spaced(G, sizeof(real_t))
    cdef Py_ssize_t counts[7]
    cdef void* blocks[7]
    counts[:] = [_mul(G, I_pad), _mul(G, H_pad), _mul(K, I_pad), _mul(K, H_pad), _mul(K, ld), _mul(B, H_pad),
                 max(_mul(K, I_pad), _mul(G, I_pad), _mul(G, H_pad))]
    cdef void* work = _workspace(counts, blocks, 7, sizeof(real_t))
    cdef real_t* w_ih_p = <real_t*>blocks[0]   # w_ih (4H, I) and w_hh (4H, H), packed for _gemm
    cdef real_t* w_hh_p = <real_t*>blocks[1]
    cdef real_t* x_walk = <real_t*>blocks[2]   # (K, I) packed: the x row of every walked row, in walk order
    cdef real_t* h_walk = <real_t*>blocks[3]   # (K, H) packed: the h each walked row started from
    cdef real_t* dz_rows = <real_t*>blocks[4]  # (K, 4H), row stride ld: the gate pre-activation gradients
    cdef real_t* dh = <real_t*>blocks[5]       # (B, H_pad): the gradient reaching each h, carried between steps
    cdef real_t* product = <real_t*>blocks[6]  # grad_x, grad_w_ih, grad_w_hh in turn
    cdef double* dc = <double*>_alloc(_mul(B, H) + H + G, sizeof(double))  # (B, H), carried between steps
    cdef double* tanh_c = dc + B * H           # (H,) tanh of the row's c' as stored
    cdef double* bias_sums = tanh_c + H        # (4H,) the sums of the dz rows so far
    cdef bint vector_math = real_t is float
    cdef const real_t* h_p
    cdef const real_t* c_p
    cdef const real_t* act
    cdef real_t* dz
    _pack(w_ih, I, 1, G, I, w_ih_p, G, 0)
    _pack(w_hh, H, 1, G, H, w_hh_p, G, 0)
    for b in range(B):
        for j in range(H):
            dh[b * H_pad + j] = grad_h_n[b * H + j]
            dc[b * H + j] = grad_c_n[b * H + j]
    for j in range(G):
        bias_sums[j] = 0.0
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
            dz = dz_rows + (s * B + b) * ld
            for j in range(H):
                tanh_c[j] = cells[row * H + j]
            _tanh_all(tanh_c, H, vector_math)
            if real_t is float:
                mg_lstm_dz_f(H, act, dh + b * H_pad, grad_out + row * H, tanh_c, c_p + b * H, dc + b * H, dz)
            else:
                mg_lstm_dz_d(H, act, dh + b * H_pad, grad_out + row * H, tanh_c, c_p + b * H, dc + b * H, dz)
            _add_row(bias_sums, dz, G)
        _gemm_in_dtype(B, G, H_pad, dz_rows + s * B * ld, ld, 1, w_hh_p, dh, H_pad)   # dh <- dz w_hh
    if grad_x != NULL:
        _gemm_in_dtype(K, G, I_pad, dz_rows, ld, 1, w_ih_p, product, I_pad)      # grad_x = dz w_ih
        for s in range(T):
            t = s if reverse else T - 1 - s
            _store(product + s * B * I_pad, I_pad, B, I, grad_x + t * B * I)
    _gemm_in_dtype(G, K, I_pad, dz_rows, 1, ld, x_walk, product, I_pad)          # grad_w_ih = dz^T x
    _store(product, I_pad, G, I, grad_w_ih)
    _gemm_in_dtype(G, K, H_pad, dz_rows, 1, ld, h_walk, product, H_pad)          # grad_w_hh = dz^T h_prev
    _store(product, H_pad, G, H, grad_w_hh)
    _store_rounded(bias_sums, G, 1, G, grad_bias)
    _store(dh, H_pad, B, H, grad_h0)
    _store_rounded(dc, H, B, H, grad_c0)
    PyMem_Free(dc)
    _release(work)
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
    An empty grad_x: x's gradient is not wanted, and is not computed.
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
    cdef bint want_x = _wanted(<carray.array>buffers[0])
    _need_all(buffers, names, (tbi if want_x else 0, tbi, _mul(G, I), _mul(G, H), bh, bh, tbh, _mul(_mul(T, B), G),
                               tbh, tbh, bh, bh, _mul(G, I), _mul(G, H), G, bh, bh))
    cdef void* p[17]
    cdef Py_ssize_t k
    for k in range(17):
        p[k] = _data(<carray.array>buffers[k])
    if not want_x:
        p[0] = NULL
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
# GRU and Elman RNN: one layer and one direction over a whole sequence (as the LSTM's above:
# the input sums of every step first as one product, then per step h w_hh^T and the gates;
# backward keeps each walked row's gate gradients and runs the weight products after the walk)
# ---------------------------------------------------------------------------------------------

cdef int _gru_forward(const real_t* x, const real_t* w_ih, const real_t* w_hh, const real_t* b_ih,
                      const real_t* b_hh, bint has_bias, const real_t* h0, Py_ssize_t T, Py_ssize_t B,
                      Py_ssize_t I, Py_ssize_t H, bint reverse, real_t* out, real_t* h_n, real_t* gates) except -1:
    """float64, the pure kernel's sums and rounding: r and z from (x sum + (b_i + b_h)) + h sum,
    then m = h sum + b_hn, n = tanh((x sum + b_in) + r m), h' = n + z (h - n), all in double.

    float32, torch's GRU cell op by op, each result rounded to float32: the x and h sums are
    torch's linear layers (_sgemm_as_torch, the bias first), r = sigmoid(h_r + x_r) and
    z = sigmoid(h_z + x_z) with torch's sigmoid kernel, m = h_n, n = tanh(x_n + m r),
    h' = (h - n) z + n."""
    cdef Py_ssize_t G = 3 * H, G_pad = _padded(G), s, t, b, r, j, row
    cdef Py_ssize_t counts[5]
    cdef void* blocks[5]
    counts[:] = [_mul(I, G_pad), _mul(H, G_pad), _mul(_mul(T, B), G_pad), _mul(B, G_pad), 3 * G]
    cdef void* work = _workspace(counts, blocks, 5, sizeof(double))
    cdef real_t* w_ih_t = <real_t*>blocks[0]   # w_ih^T (I, 3H) and w_hh^T (H, 3H), packed for _gemm
    cdef real_t* w_hh_t = <real_t*>blocks[1]
    cdef real_t* z_x = <real_t*>blocks[2]      # (T*B, G_pad) x_t w_ih^T for every row (float32: + b_ih)
    cdef real_t* z_h = <real_t*>blocks[3]      # (B, G_pad) h w_hh^T for the current step (float32: + b_hh)
    cdef double* bias_i = <double*>blocks[4]   # (3H,) b_ih, or zeros
    cdef double* bias_h = bias_i + G           # (3H,) b_hh, or zeros
    cdef double* z = bias_i + 2 * G            # (3H,) float64: r, z pre-activations, then r, z; n's in the first H
    cdef bint vector_math = real_t is float
    cdef const real_t* h_prev = h0
    cdef const real_t* zx
    cdef real_t* zh
    cdef real_t* act
    cdef real_t n
    cdef double m
    _pack(w_ih, 1, I, I, G, w_ih_t, I, 0)
    _pack(w_hh, 1, H, H, G, w_hh_t, H, 0)
    for r in range(G):
        bias_i[r] = b_ih[r] if has_bias else 0.0
        bias_h[r] = b_hh[r] if has_bias else 0.0
    if real_t is float:
        _rows_of(bias_i, G, G_pad, T * B, z_x)
        _sgemm_as_torch(T * B, I, G_pad, x, I, 1, w_ih_t, z_x, G_pad, True)
    else:
        mg_gemm_d(T * B, I, G_pad, x, I, 1, w_ih_t, z_x, G_pad, False, 0)
    for s in range(T):
        t = T - 1 - s if reverse else s
        if real_t is float:
            _rows_of(bias_h, G, G_pad, B, z_h)
            _sgemm_as_torch(B, H, G_pad, h_prev, H, 1, w_hh_t, z_h, G_pad, True)
        else:
            mg_gemm_d(B, H, G_pad, h_prev, H, 1, w_hh_t, z_h, G_pad, False, 0)
        for b in range(B):
            row = t * B + b
            zx = z_x + row * G_pad
            zh = z_h + b * G_pad
            act = gates + row * 4 * H
            if real_t is float:
                for r in range(2 * H):
                    zh[r] = zh[r] + zx[r]
                mg_sigmoid_f32(zh, act, H)              # r
                mg_sigmoid_f32(zh + H, act + H, H)      # z
                for j in range(H):
                    act[3 * H + j] = zh[2 * H + j]      # m
                    z[j] = zx[2 * H + j] + zh[2 * H + j] * act[j]
            else:
                for r in range(2 * H):
                    z[r] = (zx[r] + (bias_i[r] + bias_h[r])) + zh[r]
                _sigmoid_all(z, 2 * H, vector_math)    # r, z
                for j in range(H):
                    m = zh[2 * H + j] + bias_h[2 * H + j]
                    act[3 * H + j] = m
                    act[j] = z[j]
                    act[H + j] = z[H + j]
                    z[j] = (zx[2 * H + j] + bias_i[2 * H + j]) + z[j] * m
            _tanh_all(z, H, vector_math)               # n
            for j in range(H):
                n = <real_t>z[j]
                act[2 * H + j] = n
                if real_t is float:
                    out[row * H + j] = (h_prev[b * H + j] - n) * act[H + j] + n
                else:
                    out[row * H + j] = n + act[H + j] * (h_prev[b * H + j] - n)
        h_prev = out + t * B * H
    for j in range(B * H):
        h_n[j] = h_prev[j]
    _release(work)
    return 0


cdef void _rows_of(const double* v, Py_ssize_t n, Py_ssize_t ld, Py_ssize_t rows, float* c) noexcept:
    """Each of the rows of c (row stride ld) = v[0 .. n - 1] in float32, then zeros up to ld."""
    cdef Py_ssize_t i, j
    for i in range(rows):
        for j in range(n):
            c[i * ld + j] = <float>v[j]
        for j in range(n, ld):
            c[i * ld + j] = 0.0


def gru_forward(x, w_ih, w_hh, b_ih, b_hh, h0, shape, bint reverse, out, h_n, gates) -> None:
    """Run one GRU layer over a sequence, gates in torch's order (r, z, n).

    See ``minigrad._kernels.gru_forward`` for the math; the sums and the rounding are the same.
    """
    cdef Py_ssize_t dims[4]
    _lstm_dims(shape, dims)
    cdef Py_ssize_t T = dims[0], B = dims[1], I = dims[2], H = dims[3], G = 3 * dims[3]
    names = ("out", "x", "w_ih", "w_hh", "b_ih", "b_hh", "h0", "h_n", "gates")
    buffers = tuple(_array(buf, name) for buf, name in zip((out, x, w_ih, w_hh, b_ih, b_hh, h0, h_n, gates), names))
    cdef bint has_bias = Py_SIZE(<carray.array>buffers[4]) != 0
    cdef Py_ssize_t bias_len = G if has_bias else 0
    _need_all(buffers, names, (_mul(_mul(T, B), H), _mul(_mul(T, B), I), _mul(G, I), _mul(G, H), bias_len, bias_len,
                               _mul(B, H), _mul(B, H), _mul(_mul(T, B), 4 * H)))
    cdef void* p[9]
    cdef Py_ssize_t k
    for k in range(9):
        p[k] = _data(<carray.array>buffers[k])
    if _code(<carray.array>buffers[0]) == c'f':
        _gru_forward(<float*>p[1], <float*>p[2], <float*>p[3], <float*>p[4], <float*>p[5], has_bias, <float*>p[6],
                     T, B, I, H, reverse, <float*>p[0], <float*>p[7], <float*>p[8])
    else:
        _gru_forward(<double*>p[1], <double*>p[2], <double*>p[3], <double*>p[4], <double*>p[5], has_bias,
                     <double*>p[6], T, B, I, H, reverse, <double*>p[0], <double*>p[7], <double*>p[8])


cdef extern from *:
    """
    /* One walked row of the GRU backward, for j < H (minigrad._kernels.gru_backward's loop body):
     * from the row's saved gates act = (r, z, n, m), the gradient reaching its h (dh plus
     * grad_out's row) and the h it started from, the gradients of its x sums dxz = (dr, dz, dn),
     * of its h sums dhz = (dr, dz, dn r), and direct = dh z, the part of dh that skips the gates.
     * In C for its restrict pointers, so that it runs on vector lanes (as mg_lstm_dz): the same
     * operations in double in the same order, the same bits. */
    #define MG_GRU_DZ_FOR(T, S)                                                                       \\
    static void mg_gru_dz_##S(Py_ssize_t H, const T* restrict act, const T* restrict dh,                \\
                              const T* restrict grad_out, const T* restrict h_prev, T* restrict dxz,   \\
                              T* restrict dhz, T* restrict direct)                                      \\
    {                                                                                                  \\
        Py_ssize_t j;                                                                                  \\
        for (j = 0; j < H; j++) {                                                                      \\
            const double gr = act[j], gz = act[H + j], gn = act[2 * H + j], m = act[3 * H + j];        \\
            const double dhj = (double)dh[j] + (double)grad_out[j];                                    \\
            const double dn = dhj * (1.0 - gz) * (1.0 - gn * gn);                                      \\
            dxz[j] = (T)(dn * m * gr * (1.0 - gr));                                                    \\
            dxz[H + j] = (T)(dhj * ((double)h_prev[j] - gn) * gz * (1.0 - gz));                        \\
            dxz[2 * H + j] = (T)dn;                                                                    \\
            dhz[j] = dxz[j];                                                                           \\
            dhz[H + j] = dxz[H + j];                                                                   \\
            dhz[2 * H + j] = (T)(dn * gr);                                                             \\
            direct[j] = (T)(dhj * gz);                                                                 \\
        }                                                                                              \\
    }
    MG_GRU_DZ_FOR(float, f)
    MG_GRU_DZ_FOR(double, d)
    """
    void mg_gru_dz_f(Py_ssize_t H, const float* act, const float* dh, const float* grad_out, const float* h_prev,
                     float* dxz, float* dhz, float* direct) noexcept
    void mg_gru_dz_d(Py_ssize_t H, const double* act, const double* dh, const double* grad_out,
                     const double* h_prev, double* dxz, double* dhz, double* direct) noexcept


cdef int _gru_backward(const real_t* x, const real_t* w_ih, const real_t* w_hh, const real_t* h0,
                       const real_t* out, const real_t* gates, const real_t* grad_out, const real_t* grad_h_n,
                       Py_ssize_t T, Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, bint reverse,
                       real_t* grad_x, real_t* grad_w_ih, real_t* grad_w_hh, real_t* grad_b_ih,
                       real_t* grad_b_hh, real_t* grad_h0) except -1:
    """The walk keeps two rows per walked row: the gradients of the x sums (dr, dz, dn) and of
    the h sums (dr, dz, dn r); dh <- (h sums' gradients) w_hh, then + dh z, runs inside it, the
    rest after it. Each walked row's gradients are computed in double (mg_gru_dz) and kept in
    the buffers' precision; the products are float64's sums in the pure kernel's order from 0.0
    (the same bits), float32's torch's (_sgemm_as_torch). grad_x NULL: not wanted, no grad_x
    product."""
    cdef Py_ssize_t G = 3 * H, K = T * B, H_pad = _padded(H), I_pad = _padded(I), s, t, b, j, row, prev
    cdef Py_ssize_t ld = _spaced(G, sizeof(real_t))
    cdef Py_ssize_t counts[9]
    cdef void* blocks[9]
    counts[:] = [_mul(G, I_pad), _mul(G, H_pad), _mul(K, I_pad), _mul(K, H_pad), _mul(K, ld), _mul(K, ld),
                 _mul(B, H_pad), _mul(B, H), max(_mul(K, I_pad), _mul(G, I_pad), _mul(G, H_pad))]
    cdef void* work = _workspace(counts, blocks, 9, sizeof(real_t))
    cdef real_t* w_ih_p = <real_t*>blocks[0]   # w_ih (3H, I) and w_hh (3H, H), packed for _gemm
    cdef real_t* w_hh_p = <real_t*>blocks[1]
    cdef real_t* x_walk = <real_t*>blocks[2]   # (K, I) packed: the x row of every walked row, in walk order
    cdef real_t* h_walk = <real_t*>blocks[3]   # (K, H) packed: the h each walked row started from
    cdef real_t* dx_rows = <real_t*>blocks[4]  # (K, 3H), row stride ld: gradients of the x sums, a row per walked row
    cdef real_t* dh_rows = <real_t*>blocks[5]  # (K, 3H), row stride ld: gradients of the h sums
    cdef real_t* dh = <real_t*>blocks[6]       # (B, H_pad): the gradient reaching each h, carried between steps
    cdef real_t* direct = <real_t*>blocks[7]   # (B, H): dh z, the part of dh that skips the gates
    cdef real_t* product = <real_t*>blocks[8]  # grad_x, grad_w_ih, grad_w_hh in turn
    cdef const real_t* h_p
    cdef const real_t* act
    cdef real_t* dxz
    cdef real_t* dhz
    cdef double* bias_sums = <double*>_alloc(2 * G, sizeof(double))  # (3H,) twice: the sums of the dx, dh rows so far
    _pack(w_ih, I, 1, G, I, w_ih_p, G, 0)
    _pack(w_hh, H, 1, G, H, w_hh_p, G, 0)
    for b in range(B):
        for j in range(H):
            dh[b * H_pad + j] = grad_h_n[b * H + j]
    for j in range(2 * G):
        bias_sums[j] = 0.0
    for s in range(T):
        t = s if reverse else T - 1 - s
        prev = t + 1 if reverse else t - 1
        h_p = out + prev * B * H if s != T - 1 else h0
        _pack(x + t * B * I, I, 1, B, I, x_walk, K, s * B)
        _pack(h_p, H, 1, B, H, h_walk, K, s * B)
        for b in range(B):
            row = t * B + b
            act = gates + row * 4 * H
            dxz = dx_rows + (s * B + b) * ld
            dhz = dh_rows + (s * B + b) * ld
            if real_t is float:
                mg_gru_dz_f(H, act, dh + b * H_pad, grad_out + row * H, h_p + b * H, dxz, dhz, direct + b * H)
            else:
                mg_gru_dz_d(H, act, dh + b * H_pad, grad_out + row * H, h_p + b * H, dxz, dhz, direct + b * H)
            _add_row(bias_sums, dxz, G)
            _add_row(bias_sums + G, dhz, G)
        _gemm_like_torch(B, G, H_pad, dh_rows + s * B * ld, ld, 1, w_hh_p, dh, H_pad)   # dh <- dh_gates w_hh
        for b in range(B):
            for j in range(H):
                dh[b * H_pad + j] = dh[b * H_pad + j] + direct[b * H + j]
    if grad_x != NULL:
        _gemm_like_torch(K, G, I_pad, dx_rows, ld, 1, w_ih_p, product, I_pad)      # grad_x = dx_gates w_ih
        for s in range(T):
            t = s if reverse else T - 1 - s
            _store(product + s * B * I_pad, I_pad, B, I, grad_x + t * B * I)
    _gemm_like_torch(G, K, I_pad, dx_rows, 1, ld, x_walk, product, I_pad)          # grad_w_ih = dx_gates^T x
    _store(product, I_pad, G, I, grad_w_ih)
    _gemm_like_torch(G, K, H_pad, dh_rows, 1, ld, h_walk, product, H_pad)          # grad_w_hh = dh_gates^T h_prev
    _store(product, H_pad, G, H, grad_w_hh)
    _store_rounded(bias_sums, G, 1, G, grad_b_ih)
    _store_rounded(bias_sums + G, G, 1, G, grad_b_hh)
    _store(dh, H_pad, B, H, grad_h0)
    PyMem_Free(bias_sums)
    _release(work)
    return 0


def gru_backward(x, w_ih, w_hh, h0, out, gates, grad_out, grad_h_n, shape, bint reverse, grad_x, grad_w_ih,
                 grad_w_hh, grad_b_ih, grad_b_hh, grad_h0) -> None:
    """Backpropagation through time for ``gru_forward`` (same shape and direction).

    See ``minigrad._kernels.gru_backward`` for the math; the sums and their order are the same.
    An empty grad_x: x's gradient is not wanted, and is not computed.
    """
    cdef Py_ssize_t dims[4]
    _lstm_dims(shape, dims)
    cdef Py_ssize_t T = dims[0], B = dims[1], I = dims[2], H = dims[3], G = 3 * dims[3]
    names = ("grad_x", "x", "w_ih", "w_hh", "h0", "out", "gates", "grad_out", "grad_h_n", "grad_w_ih", "grad_w_hh",
             "grad_b_ih", "grad_b_hh", "grad_h0")
    buffers = tuple(_array(buf, name) for buf, name in zip(
        (grad_x, x, w_ih, w_hh, h0, out, gates, grad_out, grad_h_n, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh,
         grad_h0), names))
    cdef Py_ssize_t tbi = _mul(_mul(T, B), I), tbh = _mul(_mul(T, B), H), bh = _mul(B, H)
    cdef bint want_x = _wanted(<carray.array>buffers[0])
    _need_all(buffers, names, (tbi if want_x else 0, tbi, _mul(G, I), _mul(G, H), bh, tbh, _mul(_mul(T, B), 4 * H),
                               tbh, bh, _mul(G, I), _mul(G, H), G, G, bh))
    cdef void* p[14]
    cdef Py_ssize_t k
    for k in range(14):
        p[k] = _data(<carray.array>buffers[k])
    if not want_x:
        p[0] = NULL
    if _code(<carray.array>buffers[0]) == c'f':
        _gru_backward(<float*>p[1], <float*>p[2], <float*>p[3], <float*>p[4], <float*>p[5], <float*>p[6],
                      <float*>p[7], <float*>p[8], T, B, I, H, reverse, <float*>p[0], <float*>p[9], <float*>p[10],
                      <float*>p[11], <float*>p[12], <float*>p[13])
    else:
        _gru_backward(<double*>p[1], <double*>p[2], <double*>p[3], <double*>p[4], <double*>p[5], <double*>p[6],
                      <double*>p[7], <double*>p[8], T, B, I, H, reverse, <double*>p[0], <double*>p[9],
                      <double*>p[10], <double*>p[11], <double*>p[12], <double*>p[13])


cdef int _nonlinearity(Py_ssize_t code) except -1:
    if code != U_TANH and code != U_RELU:
        raise ValueError(f"nonlinearity must be TANH ({U_TANH}) or RELU ({U_RELU}), got {code}")
    return 0


cdef int _rnn_forward(const real_t* x, const real_t* w_ih, const real_t* w_hh, const real_t* b_ih,
                      const real_t* b_hh, bint has_bias, const real_t* h0, Py_ssize_t T, Py_ssize_t B,
                      Py_ssize_t I, Py_ssize_t H, bint relu, bint reverse, real_t* out, real_t* h_n) except -1:
    """h' = act((x sum + (b_ih + b_hh)) + h sum), sums in double as the pure kernel's."""
    cdef Py_ssize_t H_pad = _padded(H), s, t, b, j, row
    cdef Py_ssize_t counts[7]
    cdef void* blocks[7]
    counts[:] = [_mul(I, H_pad), _mul(H, H_pad), H, _mul(_mul(T, B), I), _mul(_mul(T, B), H_pad), _mul(B, H),
                 _mul(B, H_pad)]
    cdef void* work = _workspace(counts, blocks, 7, sizeof(double))
    cdef double* w_ih_t = <double*>blocks[0]   # w_ih^T (I, H) and w_hh^T (H, H), packed for _gemm
    cdef double* w_hh_t = <double*>blocks[1]
    cdef double* bias = <double*>blocks[2]     # (H,) b_ih + b_hh, or zeros
    cdef double* x_d = <double*>blocks[3]      # (T*B, I) x in double
    cdef double* z_x = <double*>blocks[4]      # (T*B, H_pad) x_t w_ih^T for every row
    cdef double* h_d = <double*>blocks[5]      # (B, H) the previous h, as stored, in double
    cdef double* z_h = <double*>blocks[6]      # (B, H_pad) h w_hh^T for the current step, then h'
    cdef bint vector_math = real_t is float
    cdef const double* zx_row
    cdef double* z
    cdef real_t h
    _pack(w_ih, 1, I, I, H, w_ih_t, I, 0)
    _pack(w_hh, 1, H, H, H, w_hh_t, H, 0)
    for j in range(H):
        bias[j] = <double>b_ih[j] + <double>b_hh[j] if has_bias else 0.0
    for j in range(T * B * I):
        x_d[j] = x[j]
    for j in range(B * H):
        h_d[j] = h0[j]
    _gemm(T * B, I, H_pad, x_d, I, 1, w_ih_t, z_x, H_pad, real_t is float)
    for s in range(T):
        t = T - 1 - s if reverse else s
        _gemm(B, H, H_pad, h_d, H, 1, w_hh_t, z_h, H_pad, real_t is float)
        for b in range(B):
            row = t * B + b
            zx_row = z_x + row * H_pad
            z = z_h + b * H_pad
            for j in range(H):
                z[j] = zx_row[j] + bias[j] + z[j]
            if relu:
                for j in range(H):
                    z[j] = 0.0 if z[j] <= 0 else z[j]
            else:
                _tanh_all(z, H, vector_math)
            for j in range(H):
                h = <real_t>z[j]
                out[row * H + j] = h
                h_d[b * H + j] = h
    for j in range(B * H):
        h_n[j] = <real_t>h_d[j]
    _release(work)
    return 0


def rnn_forward(x, w_ih, w_hh, b_ih, b_hh, h0, shape, Py_ssize_t nonlinearity, bint reverse, out, h_n) -> None:
    """Run one Elman RNN layer over a sequence: ``nonlinearity`` is TANH or RELU.

    See ``minigrad._kernels.rnn_forward`` for the math; the sums and the rounding are the same.
    """
    _nonlinearity(nonlinearity)
    cdef Py_ssize_t dims[4]
    _lstm_dims(shape, dims)
    cdef Py_ssize_t T = dims[0], B = dims[1], I = dims[2], H = dims[3]
    names = ("out", "x", "w_ih", "w_hh", "b_ih", "b_hh", "h0", "h_n")
    buffers = tuple(_array(buf, name) for buf, name in zip((out, x, w_ih, w_hh, b_ih, b_hh, h0, h_n), names))
    cdef bint has_bias = Py_SIZE(<carray.array>buffers[4]) != 0
    cdef Py_ssize_t bias_len = H if has_bias else 0
    _need_all(buffers, names, (_mul(_mul(T, B), H), _mul(_mul(T, B), I), _mul(H, I), _mul(H, H), bias_len, bias_len,
                               _mul(B, H), _mul(B, H)))
    cdef void* p[8]
    cdef Py_ssize_t k
    for k in range(8):
        p[k] = _data(<carray.array>buffers[k])
    cdef bint relu = nonlinearity == U_RELU
    if _code(<carray.array>buffers[0]) == c'f':
        _rnn_forward(<float*>p[1], <float*>p[2], <float*>p[3], <float*>p[4], <float*>p[5], has_bias, <float*>p[6],
                     T, B, I, H, relu, reverse, <float*>p[0], <float*>p[7])
    else:
        _rnn_forward(<double*>p[1], <double*>p[2], <double*>p[3], <double*>p[4], <double*>p[5], has_bias,
                     <double*>p[6], T, B, I, H, relu, reverse, <double*>p[0], <double*>p[7])


cdef int _rnn_backward(const real_t* x, const real_t* w_ih, const real_t* w_hh, const real_t* h0,
                       const real_t* out, const real_t* grad_out, const real_t* grad_h_n, Py_ssize_t T,
                       Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, bint relu, bint reverse, real_t* grad_x,
                       real_t* grad_w_ih, real_t* grad_w_hh, real_t* grad_bias, real_t* grad_h0) except -1:
    """The walk keeps da (the pre-activation's gradient) as a row per walked row and runs
    dh <- da w_hh; the rest after it, every sum in the pure kernel's order from 0.0. grad_x NULL:
    not wanted, no grad_x product."""
    cdef Py_ssize_t K = T * B, H_pad = _padded(H), I_pad = _padded(I), s, t, b, j, row, prev
    cdef Py_ssize_t ld = _spaced(H, sizeof(double))
    cdef Py_ssize_t counts[7]
    cdef void* blocks[7]
    counts[:] = [_mul(H, I_pad), _mul(H, H_pad), _mul(K, I_pad), _mul(K, H_pad), _mul(K, ld), _mul(B, H_pad),
                 max(_mul(K, I_pad), _mul(H, I_pad), _mul(H, H_pad))]
    cdef void* work = _workspace(counts, blocks, 7, sizeof(double))
    cdef double* w_ih_p = <double*>blocks[0]   # w_ih (H, I) and w_hh (H, H), packed for _gemm
    cdef double* w_hh_p = <double*>blocks[1]
    cdef double* x_walk = <double*>blocks[2]   # (K, I) packed: the x row of every walked row, in walk order
    cdef double* h_walk = <double*>blocks[3]   # (K, H) packed: the h each walked row started from
    cdef double* da = <double*>blocks[4]       # (K, H), row stride ld: the pre-activation gradients, a row per walked row
    cdef double* dh = <double*>blocks[5]       # (B, H_pad): the gradient reaching each h, carried between steps
    cdef double* product = <double*>blocks[6]  # grad_x, grad_w_ih, grad_w_hh in turn, before rounding
    cdef const real_t* h_p
    cdef double* da_row
    cdef double dhj, y
    cdef double* bias_sums = <double*>_alloc(H, sizeof(double))  # (H,) the sums of the da rows so far
    _pack(w_ih, I, 1, H, I, w_ih_p, H, 0)
    _pack(w_hh, H, 1, H, H, w_hh_p, H, 0)
    for b in range(B):
        for j in range(H):
            dh[b * H_pad + j] = grad_h_n[b * H + j]
    for j in range(H):
        bias_sums[j] = 0.0
    for s in range(T):
        t = s if reverse else T - 1 - s
        prev = t + 1 if reverse else t - 1
        h_p = out + prev * B * H if s != T - 1 else h0
        _pack(x + t * B * I, I, 1, B, I, x_walk, K, s * B)
        _pack(h_p, H, 1, B, H, h_walk, K, s * B)
        for b in range(B):
            row = t * B + b
            da_row = da + (s * B + b) * ld
            for j in range(H):
                dhj = dh[b * H_pad + j] + <double>grad_out[row * H + j]
                y = out[row * H + j]
                if relu:
                    da_row[j] = dhj if y > 0 else 0.0
                else:
                    da_row[j] = dhj * (1.0 - y * y)
            _add_row(bias_sums, da_row, H)
        _gemm(B, H, H_pad, da + s * B * ld, ld, 1, w_hh_p, dh, H_pad, False)   # dh <- da w_hh
    if grad_x != NULL:
        _gemm(K, H, I_pad, da, ld, 1, w_ih_p, product, I_pad, False)             # grad_x = da w_ih
        for s in range(T):
            t = s if reverse else T - 1 - s
            _store_rounded(product + s * B * I_pad, I_pad, B, I, grad_x + t * B * I)
    _gemm(H, K, I_pad, da, 1, ld, x_walk, product, I_pad, False)                 # grad_w_ih = da^T x
    _store_rounded(product, I_pad, H, I, grad_w_ih)
    _gemm(H, K, H_pad, da, 1, ld, h_walk, product, H_pad, False)                 # grad_w_hh = da^T h_prev
    _store_rounded(product, H_pad, H, H, grad_w_hh)
    _store_rounded(bias_sums, H, 1, H, grad_bias)
    _store_rounded(dh, H_pad, B, H, grad_h0)
    PyMem_Free(bias_sums)
    _release(work)
    return 0


def rnn_backward(x, w_ih, w_hh, h0, out, grad_out, grad_h_n, shape, Py_ssize_t nonlinearity, bint reverse, grad_x,
                 grad_w_ih, grad_w_hh, grad_bias, grad_h0) -> None:
    """Backpropagation through time for ``rnn_forward`` (same shape, nonlinearity and direction).

    See ``minigrad._kernels.rnn_backward`` for the math; the sums and their order are the same.
    An empty grad_x: x's gradient is not wanted, and is not computed.
    """
    _nonlinearity(nonlinearity)
    cdef Py_ssize_t dims[4]
    _lstm_dims(shape, dims)
    cdef Py_ssize_t T = dims[0], B = dims[1], I = dims[2], H = dims[3]
    names = ("grad_x", "x", "w_ih", "w_hh", "h0", "out", "grad_out", "grad_h_n", "grad_w_ih", "grad_w_hh",
             "grad_bias", "grad_h0")
    buffers = tuple(_array(buf, name) for buf, name in zip(
        (grad_x, x, w_ih, w_hh, h0, out, grad_out, grad_h_n, grad_w_ih, grad_w_hh, grad_bias, grad_h0), names))
    cdef Py_ssize_t tbi = _mul(_mul(T, B), I), tbh = _mul(_mul(T, B), H), bh = _mul(B, H)
    cdef bint want_x = _wanted(<carray.array>buffers[0])
    _need_all(buffers, names, (tbi if want_x else 0, tbi, _mul(H, I), _mul(H, H), bh, tbh, tbh, bh, _mul(H, I),
                               _mul(H, H), H, bh))
    cdef void* p[12]
    cdef Py_ssize_t k
    for k in range(12):
        p[k] = _data(<carray.array>buffers[k])
    if not want_x:
        p[0] = NULL
    cdef bint relu = nonlinearity == U_RELU
    if _code(<carray.array>buffers[0]) == c'f':
        _rnn_backward(<float*>p[1], <float*>p[2], <float*>p[3], <float*>p[4], <float*>p[5], <float*>p[6],
                      <float*>p[7], T, B, I, H, relu, reverse, <float*>p[0], <float*>p[8], <float*>p[9],
                      <float*>p[10], <float*>p[11])
    else:
        _rnn_backward(<double*>p[1], <double*>p[2], <double*>p[3], <double*>p[4], <double*>p[5], <double*>p[6],
                      <double*>p[7], T, B, I, H, relu, reverse, <double*>p[0], <double*>p[8], <double*>p[9],
                      <double*>p[10], <double*>p[11])
