# Included by _kernels.pyx: the twin of minigrad/_kernels/sampling.py (torch's CPU random streams:
# MT19937 words, uniform_, normal_ on the block and the serial path, bernoulli_(p)).

cdef extern from *:
    """
    /* torch 2.13.0's CPU generator and its AVX2 sampling kernels, one element at a time, with the
     * operations of the pure twin (minigrad/_kernels/sampling.py) in the same order: float32
     * arithmetic in float, each fused multiply-add an explicit fmaf/fma (the build has
     * -ffp-contract=off, so nothing else is fused), and glibc's log, log1p, sin, cos and sqrt
     * where the pure twin calls Python's math module (the same functions). */
    #include <math.h>
    #include <stdint.h>
    #include <string.h>

    #define MGR_MT_N 624
    #define MGR_MT_M 397

    static inline uint32_t mgr_bits(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }
    static inline float mgr_float(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }

    /* The state: the 624 words, then the read position (0..623; 624 or more: twist first). */
    static void mgr_twist(uint32_t* st) {
        int k;
        for (k = 0; k < MGR_MT_N; k++) {
            uint32_t y = (st[k] & 0x80000000u) | (st[(k + 1) % MGR_MT_N] & 0x7fffffffu);
            st[k] = st[(k + MGR_MT_M) % MGR_MT_N] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
        }
        st[MGR_MT_N] = 0;
    }

    static inline uint32_t mgr_word(uint32_t* st) {
        uint32_t y;
        if (st[MGR_MT_N] >= MGR_MT_N) mgr_twist(st);
        y = st[st[MGR_MT_N]++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        return y ^ (y >> 18);
    }

    static inline float mgr_u24(uint32_t* st) {  /* float32 uniform: the low 24 bits, exact */
        return (float)(mgr_word(st) & 0xffffffu) * 0x1p-24f;
    }

    static inline double mgr_u53(uint32_t* st) {  /* random64() & (2**53 - 1), the first word high */
        uint64_t hi = mgr_word(st), lo = mgr_word(st);
        return (double)(((hi << 32) | lo) & ((1ull << 53) - 1)) * 0x1p-53;
    }

    /* Spec 4b: the AVX2 kernel's Cephes logf and sincosf (avx_mathfun), step by step. */
    static float mgr_logf(float x) {  /* x in (0, 1] */
        uint32_t b = mgr_bits(x);
        float e = (float)((int32_t)((b >> 23) & 0xffu) - 126);
        float m = mgr_float((b & 0x807fffffu) | 0x3f000000u), t, z, y;
        if (m < mgr_float(0x3f3504f3u)) {
            t = (m - 1.0f) + m;
            e = e - 1.0f;
        } else {
            t = m - 1.0f;
        }
        z = t * t;
        y = mgr_float(0x3d9021bbu);
        y = fmaf(y, t, mgr_float(0xbdebd1b8u));
        y = fmaf(y, t, mgr_float(0x3def251au));
        y = fmaf(y, t, mgr_float(0xbdfe5d4fu));
        y = fmaf(y, t, mgr_float(0x3e11e9bfu));
        y = fmaf(y, t, mgr_float(0xbe2aae50u));
        y = fmaf(y, t, mgr_float(0x3e4cceacu));
        y = fmaf(y, t, mgr_float(0xbe7ffffcu));
        y = fmaf(y, t, mgr_float(0x3eaaaaaau));
        y = y * t;
        y = fmaf(y, z, e * mgr_float(0xb95e8083u));
        y = y - 0.5f * z;
        t = t + y;
        return fmaf(e, mgr_float(0x3f318000u), t);
    }

    static void mgr_sincosf(float theta, float* sine, float* cosine) {  /* theta >= 0 */
        int32_t j = ((int32_t)(theta * mgr_float(0x3fa2f983u)) + 1) & ~1;
        float y = (float)j, x, z, c, s, t;
        x = fmaf(y, mgr_float(0xbf490000u), theta);
        x = fmaf(y, mgr_float(0xb97da000u), x);
        x = fmaf(y, mgr_float(0xb3222169u), x);
        z = x * x;
        c = fmaf(mgr_float(0x37ccf5ceu), z, mgr_float(0xbab6061au));  /* cos x = 1 - z/2 + z**2 poly(z) */
        c = fmaf(c, z, mgr_float(0x3d2aaaa5u));
        c = z * c;
        c = fmaf(z, c, -(0.5f * z));
        c = c + 1.0f;
        s = fmaf(mgr_float(0xb94ca1f9u), z, mgr_float(0x3c08839eu));  /* sin x = x + x z poly(z) */
        s = fmaf(s, z, mgr_float(0xbe2aaaa3u));
        s = z * s;
        s = fmaf(x, s, x);
        if (j & 2) { t = s; s = c; c = t; }
        *sine = (j & 4) ? -s : s;
        *cosine = ((j - 2) & 4) ? c : -c;
    }

    /* One 16-element block: element j pairs with element j + 8. */
    static void mgr_block_f32(float* d, float mean, float std) {
        int j;
        for (j = 0; j < 8; j++) {
            float r = sqrtf(-2.0f * mgr_logf(1.0f - d[j]));
            float s, c;
            mgr_sincosf(mgr_float(0x40c90fdbu) * d[j + 8], &s, &c);
            d[j] = fmaf(r * c, std, mean);
            d[j + 8] = fmaf(r * s, std, mean);
        }
    }

    static void mgr_block_f64(double* d, double mean, double std) {  /* spec 4d */
        int j;
        for (j = 0; j < 8; j++) {
            double r = sqrt(-2.0 * log(1.0 - d[j])), theta = 6.283185307179586 * d[j + 8];
            d[j] = fma(r * cos(theta), std, mean);
            d[j + 8] = fma(r * sin(theta), std, mean);
        }
    }

    /* The block path: uniforms, every full block, then 16 fresh uniforms for a tail window. */
    static void mgr_normal_f32(uint32_t* st, float* d, Py_ssize_t n, float mean, float std) {
        Py_ssize_t i;
        for (i = 0; i < n; i++) d[i] = mgr_u24(st);
        for (i = 0; i + 16 <= n; i += 16) mgr_block_f32(d + i, mean, std);
        if (n % 16) {
            for (i = n - 16; i < n; i++) d[i] = mgr_u24(st);
            mgr_block_f32(d + n - 16, mean, std);
        }
    }

    static void mgr_normal_f64(uint32_t* st, double* d, Py_ssize_t n, double mean, double std) {
        Py_ssize_t i;
        for (i = 0; i < n; i++) d[i] = mgr_u53(st);
        for (i = 0; i + 16 <= n; i += 16) mgr_block_f64(d + i, mean, std);
        if (n % 16) {
            for (i = n - 16; i < n; i++) d[i] = mgr_u53(st);
            mgr_block_f64(d + n - 16, mean, std);
        }
    }

    /* Spec 4a: double Box-Muller, the second value of a pair cached for the next element.
     * Returns whether a value is cached (in *cached) after the last element. */
    static int mgr_normal_serial(uint32_t* st, double mean, double std, int has_cached, double* cached,
                                 float* out32, double* out64, Py_ssize_t n) {
        Py_ssize_t i;
        for (i = 0; i < n; i++) {
            double z, v;
            if (has_cached) {
                z = *cached;
                has_cached = 0;
            } else {
                double u1 = mgr_u53(st), u2 = mgr_u53(st);
                double r = sqrt(-2.0 * log1p(-u2)), theta = 6.283185307179586 * u1;
                *cached = r * sin(theta);
                has_cached = 1;
                z = r * cos(theta);
            }
            v = fma(z, std, mean);
            if (out32) out32[i] = (float)v; else out64[i] = v;
        }
        return has_cached;
    }
    """
    ctypedef unsigned int uint32_t
    uint32_t mgr_word(uint32_t* st) noexcept nogil
    float mgr_u24(uint32_t* st) noexcept nogil
    double mgr_u53(uint32_t* st) noexcept nogil
    void mgr_normal_f32(uint32_t* st, float* d, Py_ssize_t n, float mean, float std) noexcept nogil
    void mgr_normal_f64(uint32_t* st, double* d, Py_ssize_t n, double mean, double std) noexcept nogil
    int mgr_normal_serial(uint32_t* st, double mean, double std, int has_cached, double* cached,
                          float* out32, double* out64, Py_ssize_t n) noexcept nogil


cdef enum:
    MT_STATE_LENGTH = 625  # the 624 words and the read position


cdef carray.array _words_array(object obj, str name):
    """obj as an array.array of unsigned 32-bit words ('I', or 'L' where that is 32 bits), or TypeError."""
    if not isinstance(obj, carray.array):
        raise TypeError(f"{name} must be an array.array, not {type(obj).__name__}")
    cdef carray.array a = <carray.array>obj
    cdef char code = a.ob_descr.typecode
    if (code != c'I' and code != c'L') or a.ob_descr.itemsize != 4:
        raise TypeError(f"{name} has typecode {chr(code)!r}; expected 32-bit unsigned words ('I')")
    return a


cdef uint32_t* _state(object state) except NULL:
    """The generator state's words, checked: 625 of them, the last a read position up to 625."""
    cdef carray.array a = _words_array(state, "state")
    _need(a, MT_STATE_LENGTH, "state")
    cdef uint32_t* st = <uint32_t*>_data(a)
    if st[MT_STATE_LENGTH - 1] > MT_STATE_LENGTH:
        raise ValueError(f"the read position of the state is {st[MT_STATE_LENGTH - 1]}; expected 0 to 625")
    return st


def mt19937_words(state, out) -> None:
    """out = the next len(out) tempered 32-bit words of the stream; advances ``state``."""
    cdef carray.array oa = _words_array(out, "out")
    cdef uint32_t* st = _state(state)
    if oa is state:
        raise ValueError("out must not be the state")
    cdef uint32_t* dst = <uint32_t*>_data(oa)
    cdef Py_ssize_t i
    for i in range(Py_SIZE(oa)):
        dst[i] = mgr_word(st)


def uniform_fill(state, double low, double high, out) -> None:
    """out = ``uniform_(low, high)`` draws: ``fma(x, to - from, from)`` rounded once, ``to`` -> ``from``
    (float32: one word per value and float32 bounds; float64: two words per value)."""
    cdef carray.array oa = _array(out, "out")
    _floating(oa, "out")
    cdef uint32_t* st = _state(state)
    cdef Py_ssize_t i, n = Py_SIZE(oa)
    cdef float start32 = <float>low, end32 = <float>high, width32 = end32 - start32, v32
    cdef double width = high - low, v
    cdef float* d32 = <float*>_data(oa)
    cdef double* d64 = <double*>_data(oa)
    if _code(oa) == c'f':
        for i in range(n):
            v32 = fmaf(mgr_u24(st), width32, start32)
            d32[i] = start32 if v32 == end32 else v32
    else:
        for i in range(n):
            v = fma(mgr_u53(st), width, low)
            d64[i] = low if v == high else v


def normal_fill(state, double mean, double std, out) -> None:
    """out = ``normal_(mean, std)`` draws on the block path (len(out) >= 16, a contiguous tensor);
    float32 computes with mean and std rounded to float32."""
    cdef carray.array oa = _array(out, "out")
    _floating(oa, "out")
    cdef uint32_t* st = _state(state)
    cdef Py_ssize_t n = Py_SIZE(oa)
    if n < 16:
        raise ValueError(f"the block path of normal_ needs at least 16 elements, got {n}")
    if _code(oa) == c'f':
        mgr_normal_f32(st, <float*>_data(oa), n, <float>mean, <float>std)
    else:
        mgr_normal_f64(st, <double*>_data(oa), n, mean, std)


def normal_serial_fill(state, double mean, double std, cached, out):
    """out = ``normal_(mean, std)`` draws on the serial path; returns the new cached normal (None or
    the second value of the last pair)."""
    cdef int has_cached = cached is not None
    cdef double value = <double>cached if has_cached else 0.0
    cdef carray.array oa = _array(out, "out")
    _floating(oa, "out")
    cdef uint32_t* st = _state(state)
    cdef float* out32 = <float*>_data(oa) if _code(oa) == c'f' else NULL
    cdef double* out64 = <double*>_data(oa) if _code(oa) == c'd' else NULL
    has_cached = mgr_normal_serial(st, mean, std, has_cached, &value, out32, out64, Py_SIZE(oa))
    return value if has_cached else None


def bernoulli_fill(state, double p, out) -> None:
    """out[i] = 1 when the i-th 53-bit double uniform is ``< p``, else 0 (p in [0, 1]; out of any
    storage typecode)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    cdef carray.array oa = _array_any(out, "out")
    cdef uint32_t* st = _state(state)
    cdef Py_ssize_t i, n = Py_SIZE(oa)
    cdef char code = _code(oa)
    cdef bint keep
    for i in range(n):
        keep = mgr_u53(st) < p
        if code == c'f':
            (<float*>_data(oa))[i] = keep
        elif code == c'd':
            (<double*>_data(oa))[i] = keep
        elif code == c'q':
            (<int64*>_data(oa))[i] = keep
        elif code == c'i':
            (<int*>_data(oa))[i] = keep
        elif code == c'h':
            (<short*>_data(oa))[i] = keep
        elif code == c'b':
            (<signed char*>_data(oa))[i] = keep
        else:
            (<uint8*>_data(oa))[i] = keep
