# Included by _kernels.pyx: the twin of minigrad/_kernels/optim.py.

# ---------------------------------------------------------------------------------------------
# Optimizer kernels: one parameter's whole Adam or SGD step in one pass over its elements, each
# intermediate rounded to the buffers' type as torch's tensor op would round it. Arithmetic is
# done in real_t itself (float for float32: x86-64 evaluates float expressions in float), with
# fmaf/fma exactly where torch's kernels fuse (the build has -ffp-contract=off, so nothing else
# is fused); sqrt, division and the rest are IEEE operations, correctly rounded.
# ---------------------------------------------------------------------------------------------


cdef inline real_t _fma_t(real_t a, real_t b, real_t c) noexcept:
    if real_t is float:
        return fmaf(a, b, c)
    else:
        return fma(a, b, c)


cdef inline real_t _sqrt_t(real_t x) noexcept:
    if real_t is float:
        return sqrtf(x)
    else:
        return sqrt(x)


cdef void _adam_loop(real_t* p, const real_t* grad, real_t* m, real_t* v, real_t* vmax, Py_ssize_t n,
                     bint maximize, bint coupled, real_t weight_decay, real_t decay, real_t w1, real_t beta2, real_t w2,
                     real_t c2, real_t eps, real_t s) noexcept:
    """The pure kernel's passes fused into one loop: every element's steps in the same order
    (coupled: weight_decay != 0 before it was rounded to real_t, as torch tests it)."""
    cdef Py_ssize_t i
    cdef real_t g, x, gap, mi, vi, second
    cdef bint small = fabs(w1) < 0.5
    cdef real_t w1m1 = w1 - <real_t>1.0    # lerp's other form: end + (w - 1) * (end - start)
    if not maximize and decay == 1 and not coupled and vmax == NULL:
        _plain_adam_loop(p, grad, m, v, n, w1 if small else w1m1, small, beta2, w2, c2, eps, s)
        return
    for i in range(n):
        g = -grad[i] if maximize else grad[i]
        x = p[i]
        if decay != 1:
            x = x * decay
        if coupled:
            g = _fma_t(x, weight_decay, g)
        mi = m[i]
        gap = g - mi
        mi = _fma_t(w1, gap, mi) if small else _fma_t(w1m1, gap, g)
        vi = v[i] * beta2
        vi = _fma_t(w2 * g, g, vi)
        second = vi
        if vmax != NULL:
            second = <real_t>_maximum(vmax[i], vi)
            vmax[i] = second
        second = _sqrt_t(second) / c2
        second = second + eps
        x = x + (s * mi) / second
        p[i] = x
        m[i] = mi
        v[i] = vi


cdef void _plain_adam_loop(real_t* p, const real_t* grad, real_t* m, real_t* v, Py_ssize_t n, real_t w,
                           bint small, real_t beta2, real_t w2, real_t c2, real_t eps, real_t s) noexcept:
    """_adam_loop's steps for the common case (no maximize, weight decay or amsgrad), in a loop
    without branches that the compiler runs on vector lanes: each element's operations are the
    same IEEE operations in the same order, so the same bits. ``w``: lerp's weight, w1 when
    ``small`` and w1 - 1 otherwise."""
    cdef Py_ssize_t i
    cdef real_t g, mi, vi
    if small:
        for i in range(n):
            g = grad[i]
            mi = _fma_t(w, g - m[i], m[i])
            vi = _fma_t(w2 * g, g, v[i] * beta2)
            p[i] = p[i] + (s * mi) / (_sqrt_t(vi) / c2 + eps)
            m[i] = mi
            v[i] = vi
    else:
        for i in range(n):
            g = grad[i]
            mi = _fma_t(w, g - m[i], g)
            vi = _fma_t(w2 * g, g, v[i] * beta2)
            p[i] = p[i] + (s * mi) / (_sqrt_t(vi) / c2 + eps)
            m[i] = mi
            v[i] = vi


def adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, bint maximize, double weight_decay, double decay,
         double lerp_weight, double beta2, double square_weight, double bias_correction2_sqrt, double eps,
         double neg_step_size) -> None:
    """One Adam/AdamW step of one parameter, as torch's ``_single_tensor_adam`` (see the pure kernel)."""
    cdef carray.array pa = _array(param, "param"), ga = _array(grad, "grad")
    cdef carray.array ma = _array(exp_avg, "exp_avg"), va = _array(exp_avg_sq, "exp_avg_sq")
    cdef carray.array xa = None if max_exp_avg_sq is None else _array(max_exp_avg_sq, "max_exp_avg_sq")
    _floating(pa, "param")
    cdef Py_ssize_t n = Py_SIZE(pa)
    for a, name in ((ga, "grad"), (ma, "exp_avg"), (va, "exp_avg_sq"), (xa, "max_exp_avg_sq")):
        if a is not None:
            _same_code(pa, "param", a, name)
            _need(a, n, name)
    if _code(pa) == c'f':
        _adam_loop(<float*>_data(pa), <float*>_data(ga), <float*>_data(ma), <float*>_data(va),
                   NULL if xa is None else <float*>_data(xa), n, maximize, weight_decay != 0, <float>weight_decay, <float>decay,
                   <float>lerp_weight, <float>beta2, <float>square_weight, <float>bias_correction2_sqrt,
                   <float>eps, <float>neg_step_size)
    else:
        _adam_loop(<double*>_data(pa), <double*>_data(ga), <double*>_data(ma), <double*>_data(va),
                   NULL if xa is None else <double*>_data(xa), n, maximize, weight_decay != 0, weight_decay, decay, lerp_weight,
                   beta2, square_weight, bias_correction2_sqrt, eps, neg_step_size)


cdef void _sgd_loop(real_t* p, const real_t* grad, real_t* buf, Py_ssize_t n, bint first, real_t sign,
                    bint coupled, real_t weight_decay, real_t momentum, real_t damped, bint nesterov, real_t neg_lr) noexcept:
    """sign: -1 when maximizing (g * -1 is -g exactly), else 1; a multiply, not a branch, so
    that the compiler takes the other tests out of the loop and runs it on vector lanes."""
    cdef Py_ssize_t i
    cdef real_t g, b
    if not coupled and buf == NULL:  # plain SGD, the common case: a loop of its own runs on vector lanes
        for i in range(n):
            p[i] = _fma_t(grad[i] * sign, neg_lr, p[i])
        return
    for i in range(n):
        g = grad[i] * sign
        if coupled:
            g = _fma_t(p[i], weight_decay, g)
        if buf != NULL:
            b = g if first else _fma_t(g, damped, buf[i] * momentum)
            buf[i] = b
            g = _fma_t(b, momentum, g) if nesterov else b
        p[i] = _fma_t(g, neg_lr, p[i])


def sgd(param, grad, momentum_buffer, bint first, bint maximize, double weight_decay, double momentum,
        double damped, bint nesterov, double neg_lr) -> None:
    """One SGD step of one parameter, as torch's ``_single_tensor_sgd`` (see the pure kernel)."""
    cdef carray.array pa = _array(param, "param"), ga = _array(grad, "grad")
    cdef carray.array ba = None if momentum_buffer is None else _array(momentum_buffer, "momentum_buffer")
    _floating(pa, "param")
    cdef Py_ssize_t n = Py_SIZE(pa)
    for a, name in ((ga, "grad"), (ba, "momentum_buffer")):
        if a is not None:
            _same_code(pa, "param", a, name)
            _need(a, n, name)
    if _code(pa) == c'f':
        _sgd_loop(<float*>_data(pa), <float*>_data(ga), NULL if ba is None else <float*>_data(ba), n, first,
                  -1.0 if maximize else 1.0, weight_decay != 0, <float>weight_decay, <float>momentum, <float>damped, nesterov, <float>neg_lr)
    else:
        _sgd_loop(<double*>_data(pa), <double*>_data(ga), NULL if ba is None else <double*>_data(ba), n, first,
                  -1.0 if maximize else 1.0, weight_decay != 0, weight_decay, momentum, damped, nesterov, neg_lr)
