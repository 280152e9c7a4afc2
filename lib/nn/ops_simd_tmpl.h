/*
 * Body of the own SIMD kernels, included by ops_simd.c once per instruction
 * set with these macros defined (a C "template"; not a header of its own):
 *   FN(name)          name with the ISA suffix
 *   V, VL             vector type and its float lanes
 *   VMASK_T, VMASK(n) lane mask of the first n lanes (1 <= n <= VL)
 *   VLOAD, VSTORE, VLOADM, VSTOREM, VSET1, VZERO, VFMA, VADD, VMUL, VMIN, VMAX
 *   CONV_TILE         output pixels per register tile of the small-input conv
 * VMIN(a, b) / VMAX(a, b) are x86's minps / maxps: a < b ? a : b and
 * a > b ? a : b, the very expressions of the reference.
 */

/* Fused activation on one vector; alpha holds the lanes' PReLU slopes. */
static inline __attribute__((always_inline)) V FN(act_v)(const simd_state *st, V x, V alpha)
{
    switch (st->d.act) {
    case FS_NN_ACT_RELU:
        return VMAX(x, VZERO());
    case FS_NN_ACT_CLAMP:
        return VMIN(VMAX(x, VSET1(st->d.clamp_min)), VSET1(st->d.clamp_max));
    case FS_NN_ACT_PRELU:
        /* alpha * min(x, 0) + max(x, 0): for x < 0 the sum is exactly the one
         * rounding of alpha * x the reference makes, for x >= 0 it is x. */
        return VFMA(alpha, VMIN(x, VZERO()), VMAX(x, VZERO()));
    default:
        return x;
    }
}

static inline __attribute__((always_inline)) V FN(binop_v)(fs_nn_binary_op op, V a, V b)
{
    switch (op) {
    case FS_NN_ADD:
        return VADD(a, b);
    case FS_NN_MUL:
        return VMUL(a, b);
    case FS_NN_MIN:
        return VMIN(a, b);
    default:
        return VMAX(a, b);
    }
}

/* ---- ACTIVATION (RELU, CLAMP, PRELU, NONE) and the post pass of other backends ---- */

static void FN(act_rows)(const simd_state *st, const float *x, float *y, size_t pixels)
{
    const int c = st->d.out.c;
    if (st->d.act != FS_NN_ACT_PRELU) {
        /* Nothing per channel: one flat pass. */
        const size_t n = pixels * (size_t)c;
        size_t i = 0;
        for (; i + VL <= n; i += VL)
            VSTORE(y + i, FN(act_v)(st, VLOAD(x + i), VZERO()));
        if (i < n) {
            const VMASK_T m = VMASK((int)(n - i));
            VSTOREM(y + i, FN(act_v)(st, VLOADM(x + i, m), VZERO()), m);
        }
        return;
    }
    const int full = c / VL, rest = c % VL;
    for (size_t p = 0; p < pixels; p++) {
        const float *xp = x + p * (size_t)c;
        float *yp = y + p * (size_t)c;
        int b = 0;
        for (; b < full; b++)
            VSTORE(yp + b * VL, FN(act_v)(st, VLOAD(xp + b * VL), VLOAD(st->alpha + b * VL)));
        if (rest) {
            const VMASK_T m = VMASK(rest);
            VSTOREM(yp + b * VL,
                    FN(act_v)(st, VLOADM(xp + b * VL, m), VLOAD(st->alpha + b * VL)), m);
        }
    }
}

static fs_status FN(activation_run)(const fs_exec *ex, void *state, const float *const *inputs,
                                    float *output)
{
    (void)ex;
    const simd_state *st = state;
    FN(act_rows)(st, inputs[0], output, fs_nn_shape_size(st->d.out) / (size_t)st->d.out.c);
    return FS_OK;
}

/* ---- BINARY: equal shapes or a constant operand, fused activation ---- */

static fs_status FN(binary_run)(const fs_exec *ex, void *state, const float *const *inputs,
                                float *output)
{
    (void)ex;
    const simd_state *st = state;
    const fs_nn_op_desc *d = &st->d;
    const int c = d->out.c;
    const size_t pixels = fs_nn_shape_size(d->out) / (size_t)c;
    const float *a = inputs[0];
    const float *b = d->num_inputs == 2 ? inputs[1] : NULL;

    if (!st->per_channel) {
        /* Second tensor or a scalar, no per-channel slope: one flat pass. */
        const size_t n = pixels * (size_t)c;
        const V s = VSET1(b ? 0.0f : d->constant[0]);
        size_t i = 0;
        for (; i + VL <= n; i += VL) {
            const V r = FN(binop_v)(d->binop, VLOAD(a + i), b ? VLOAD(b + i) : s);
            VSTORE(output + i, FN(act_v)(st, r, VZERO()));
        }
        if (i < n) {
            const VMASK_T m = VMASK((int)(n - i));
            const V r = FN(binop_v)(d->binop, VLOADM(a + i, m), b ? VLOADM(b + i, m) : s);
            VSTOREM(output + i, FN(act_v)(st, r, VZERO()), m);
        }
        return FS_OK;
    }
    const int full = c / VL, rest = c % VL;
    for (size_t p = 0; p < pixels; p++) {
        const size_t o = p * (size_t)c;
        int k = 0;
        for (; k < full; k++) {
            const V bv = b ? VLOAD(b + o + k * VL) : VLOAD(st->cst + k * VL);
            const V r = FN(binop_v)(d->binop, VLOAD(a + o + k * VL), bv);
            VSTORE(output + o + k * VL, FN(act_v)(st, r, VLOAD(st->alpha + k * VL)));
        }
        if (rest) {
            const VMASK_T m = VMASK(rest);
            const V bv = b ? VLOADM(b + o + k * VL, m) : VLOAD(st->cst + k * VL);
            const V r = FN(binop_v)(d->binop, VLOADM(a + o + k * VL, m), bv);
            VSTOREM(output + o + k * VL, FN(act_v)(st, r, VLOAD(st->alpha + k * VL)), m);
        }
    }
    return FS_OK;
}

/* ---- DEPTHWISE_CONV2D, depth multiplier 1 ---- */

/*
 * One channel block of one output pixel anywhere (window clipped at the
 * borders): ky in [ky0, ky1), kx in [kx0, kx1).
 */
static inline __attribute__((always_inline)) void
FN(dw_pixel)(const simd_state *st, const float *in_img, float *out_px, int cb, int iy0, int ky0,
             int ky1, int ix0, int kx0, int kx1, int tail)
{
    const fs_nn_op_desc *d = &st->d;
    const int c = d->in[0].c, kw = d->kernel_w;
    const size_t row = (size_t)d->in[0].w * (size_t)c;
    const VMASK_T m = VMASK(tail ? c % VL : VL);
    const float *w = st->w + (size_t)cb * st->taps * VL;
    V acc = VLOAD(st->bias + cb * VL);
    for (int ky = ky0; ky < ky1; ky++) {
        const float *r = in_img + (size_t)(iy0 + ky * d->dilation_h) * row + (size_t)cb * VL;
        for (int kx = kx0; kx < kx1; kx++) {
            const float *p = r + (size_t)(ix0 + kx * d->dilation_w) * (size_t)c;
            acc = VFMA(tail ? VLOADM(p, m) : VLOAD(p), VLOAD(w + (ky * kw + kx) * VL), acc);
        }
    }
    acc = FN(act_v)(st, acc, VLOAD(st->alpha + cb * VL));
    if (tail)
        VSTOREM(out_px + cb * VL, acc, m);
    else
        VSTORE(out_px + cb * VL, acc);
}

/* Four horizontally adjacent interior output pixels (no column clipping):
 * four independent accumulators hide the FMA latency. */
static inline __attribute__((always_inline)) void
FN(dw_quad)(const simd_state *st, const float *in_img, float *out_px, int cb, int iy0, int ky0,
            int ky1, int ix0, int tail)
{
    const fs_nn_op_desc *d = &st->d;
    const int c = d->in[0].c, kw = d->kernel_w;
    const size_t row = (size_t)d->in[0].w * (size_t)c;
    const size_t step = (size_t)d->stride_w * (size_t)c; /* next output pixel's input */
    const size_t ostep = (size_t)d->out.c;
    const VMASK_T m = VMASK(tail ? c % VL : VL);
    const float *w = st->w + (size_t)cb * st->taps * VL;
    V a0 = VLOAD(st->bias + cb * VL), a1 = a0, a2 = a0, a3 = a0;
    for (int ky = ky0; ky < ky1; ky++) {
        const float *r = in_img + (size_t)(iy0 + ky * d->dilation_h) * row + (size_t)cb * VL +
                         (size_t)ix0 * (size_t)c;
        for (int kx = 0; kx < kw; kx++) {
            const float *p = r + (size_t)(kx * d->dilation_w) * (size_t)c;
            const V wv = VLOAD(w + (ky * kw + kx) * VL);
            if (tail) {
                a0 = VFMA(VLOADM(p, m), wv, a0);
                a1 = VFMA(VLOADM(p + step, m), wv, a1);
                a2 = VFMA(VLOADM(p + 2 * step, m), wv, a2);
                a3 = VFMA(VLOADM(p + 3 * step, m), wv, a3);
            } else {
                a0 = VFMA(VLOAD(p), wv, a0);
                a1 = VFMA(VLOAD(p + step), wv, a1);
                a2 = VFMA(VLOAD(p + 2 * step), wv, a2);
                a3 = VFMA(VLOAD(p + 3 * step), wv, a3);
            }
        }
    }
    const V al = VLOAD(st->alpha + cb * VL);
    a0 = FN(act_v)(st, a0, al);
    a1 = FN(act_v)(st, a1, al);
    a2 = FN(act_v)(st, a2, al);
    a3 = FN(act_v)(st, a3, al);
    float *o = out_px + cb * VL;
    if (tail) {
        VSTOREM(o, a0, m);
        VSTOREM(o + ostep, a1, m);
        VSTOREM(o + 2 * ostep, a2, m);
        VSTOREM(o + 3 * ostep, a3, m);
    } else {
        VSTORE(o, a0);
        VSTORE(o + ostep, a1);
        VSTORE(o + 2 * ostep, a2);
        VSTORE(o + 3 * ostep, a3);
    }
}

/* One output row: channel blocks innermost, so that each input cache line
 * is used by all its lanes while it is in L1. */
static void FN(dw_row)(const simd_state *st, const float *in_img, float *out_row, int iy0,
                       int ky0, int ky1)
{
    const fs_nn_op_desc *d = &st->d;
    const int ow = d->out.w, full = d->in[0].c / VL, rest = d->in[0].c % VL;
    const size_t oc = (size_t)d->out.c;
    int ox = 0;
    while (ox < ow) {
        const int ix0 = ox * d->stride_w - d->pad_left;
        float *o = out_row + (size_t)ox * oc;
        if (ox >= st->ox_lo && ox + 4 <= st->ox_hi) {
            for (int cb = 0; cb < full; cb++)
                FN(dw_quad)(st, in_img, o, cb, iy0, ky0, ky1, ix0, 0);
            if (rest)
                FN(dw_quad)(st, in_img, o, full, iy0, ky0, ky1, ix0, 1);
            ox += 4;
            continue;
        }
        int kx0 = 0, kx1 = d->kernel_w;
        while (kx0 < kx1 && ix0 + kx0 * d->dilation_w < 0)
            kx0++;
        while (kx1 > kx0 && ix0 + (kx1 - 1) * d->dilation_w >= d->in[0].w)
            kx1--;
        for (int cb = 0; cb < full; cb++)
            FN(dw_pixel)(st, in_img, o, cb, iy0, ky0, ky1, ix0, kx0, kx1, 0);
        if (rest)
            FN(dw_pixel)(st, in_img, o, full, iy0, ky0, ky1, ix0, kx0, kx1, 1);
        ox++;
    }
}

/* Input row iy of image n in its zero-padded scratch slot (copied on first use). */
static inline const float *FN(dw_flat_row)(simd_state *st, const float *input, int n, int iy)
{
    const fs_nn_shape is = st->d.in[0];
    const int slot = iy % st->nslots;
    const long long tag = (long long)n * is.h + iy;
    float *r = st->rows + (size_t)slot * st->rowlen;
    if (st->tags[slot] != tag) {
        const size_t len = (size_t)is.w * (size_t)is.c;
        memcpy(r + (size_t)st->d.pad_left * (size_t)is.c,
               input + ((size_t)n * (size_t)is.h + (size_t)iy) * len, len * sizeof(float));
        st->tags[slot] = tag;
    }
    return r;
}

static void FN(dw_flat_run)(simd_state *st, const float *input, float *output)
{
    const fs_nn_op_desc *d = &st->d;
    const fs_nn_shape is = d->in[0], os = d->out;
    const int kw = d->kernel_w, period = st->period;
    const size_t pv = (size_t)period * VL;                    /* floats per weight period */
    const size_t kx_step = (size_t)d->dilation_w * (size_t)is.c; /* next tap's offset */
    const size_t row_out = (size_t)os.w * (size_t)os.c;
    const size_t nfull = row_out / VL, nvec = (row_out + VL - 1) / VL;
    const VMASK_T last_mask = VMASK(row_out % VL ? (int)(row_out % VL) : VL);

    for (int s = 0; s < st->nslots; s++)
        st->tags[s] = -1; /* the input is new at every run */
    for (int n = 0; n < os.n; n++)
        for (int oy = 0; oy < os.h; oy++) {
            const float *rp[SIMD_DW_MAX_KH];
            const float *wr[SIMD_DW_MAX_KH];
            int nk = 0;
            for (int ky = 0; ky < d->kernel_h; ky++) {
                const int iy = oy * d->stride_h - d->pad_top + ky * d->dilation_h;
                if (iy < 0 || iy >= is.h)
                    continue; /* zero row */
                rp[nk] = FN(dw_flat_row)(st, input, n, iy);
                wr[nk] = st->fw + (size_t)ky * (size_t)kw * pv;
                nk++;
            }
            float *out_row = output + ((size_t)n * (size_t)os.h + (size_t)oy) * row_out;
            for (int p = 0; p < period; p++) {
                const V bias = VLOAD(st->fbias + (size_t)p * VL);
                const V alpha = VLOAD(st->falpha + (size_t)p * VL);
                size_t v = (size_t)p;
                /* eight, then four vectors of the same weight phase: independent
                 * sums hide the FMA latency */
                for (; v + 7 * (size_t)period < nfull; v += 8 * (size_t)period) {
                    V a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                    V a4 = bias, a5 = bias, a6 = bias, a7 = bias;
                    for (int i = 0; i < nk; i++) {
                        const float *q = rp[i] + v * VL;
                        const float *w = wr[i] + (size_t)p * VL;
                        for (int kx = 0; kx < kw; kx++) {
                            const V wv = VLOAD(w + (size_t)kx * pv);
                            const float *qk = q + (size_t)kx * kx_step;
                            a0 = VFMA(VLOAD(qk), wv, a0);
                            a1 = VFMA(VLOAD(qk + pv), wv, a1);
                            a2 = VFMA(VLOAD(qk + 2 * pv), wv, a2);
                            a3 = VFMA(VLOAD(qk + 3 * pv), wv, a3);
                            a4 = VFMA(VLOAD(qk + 4 * pv), wv, a4);
                            a5 = VFMA(VLOAD(qk + 5 * pv), wv, a5);
                            a6 = VFMA(VLOAD(qk + 6 * pv), wv, a6);
                            a7 = VFMA(VLOAD(qk + 7 * pv), wv, a7);
                        }
                    }
                    float *o = out_row + v * VL;
                    VSTORE(o, FN(act_v)(st, a0, alpha));
                    VSTORE(o + pv, FN(act_v)(st, a1, alpha));
                    VSTORE(o + 2 * pv, FN(act_v)(st, a2, alpha));
                    VSTORE(o + 3 * pv, FN(act_v)(st, a3, alpha));
                    VSTORE(o + 4 * pv, FN(act_v)(st, a4, alpha));
                    VSTORE(o + 5 * pv, FN(act_v)(st, a5, alpha));
                    VSTORE(o + 6 * pv, FN(act_v)(st, a6, alpha));
                    VSTORE(o + 7 * pv, FN(act_v)(st, a7, alpha));
                }
                for (; v + 3 * (size_t)period < nfull; v += 4 * (size_t)period) {
                    V a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                    for (int i = 0; i < nk; i++) {
                        const float *q = rp[i] + v * VL;
                        const float *w = wr[i] + (size_t)p * VL;
                        for (int kx = 0; kx < kw; kx++) {
                            const V wv = VLOAD(w + (size_t)kx * pv);
                            const float *qk = q + (size_t)kx * kx_step;
                            a0 = VFMA(VLOAD(qk), wv, a0);
                            a1 = VFMA(VLOAD(qk + pv), wv, a1);
                            a2 = VFMA(VLOAD(qk + 2 * pv), wv, a2);
                            a3 = VFMA(VLOAD(qk + 3 * pv), wv, a3);
                        }
                    }
                    float *o = out_row + v * VL;
                    VSTORE(o, FN(act_v)(st, a0, alpha));
                    VSTORE(o + pv, FN(act_v)(st, a1, alpha));
                    VSTORE(o + 2 * pv, FN(act_v)(st, a2, alpha));
                    VSTORE(o + 3 * pv, FN(act_v)(st, a3, alpha));
                }
                for (; v < nvec; v += (size_t)period) {
                    V a = bias;
                    for (int i = 0; i < nk; i++) {
                        const float *q = rp[i] + v * VL;
                        const float *w = wr[i] + (size_t)p * VL;
                        for (int kx = 0; kx < kw; kx++)
                            a = VFMA(VLOAD(q + (size_t)kx * kx_step), VLOAD(w + (size_t)kx * pv),
                                     a);
                    }
                    a = FN(act_v)(st, a, alpha);
                    if (v < nfull)
                        VSTORE(out_row + v * VL, a);
                    else
                        VSTOREM(out_row + v * VL, a, last_mask);
                }
            }
        }
}

static fs_status FN(depthwise_run)(const fs_exec *ex, void *state, const float *const *inputs,
                                   float *output)
{
    (void)ex;
    simd_state *st = state;
    if (st->flat) {
        FN(dw_flat_run)(st, inputs[0], output);
        return FS_OK;
    }
    const fs_nn_op_desc *d = &st->d;
    const fs_nn_shape is = d->in[0], os = d->out;

    for (int n = 0; n < os.n; n++) {
        const float *in_img = inputs[0] + (size_t)n * is.h * is.w * is.c;
        for (int oy = 0; oy < os.h; oy++) {
            const int iy0 = oy * d->stride_h - d->pad_top;
            int ky0 = 0, ky1 = d->kernel_h;
            while (ky0 < ky1 && iy0 + ky0 * d->dilation_h < 0)
                ky0++;
            while (ky1 > ky0 && iy0 + (ky1 - 1) * d->dilation_h >= is.h)
                ky1--;
            FN(dw_row)(st, in_img, output + (((size_t)n * os.h + oy) * os.w) * os.c, iy0, ky0,
                       ky1);
        }
    }
    return FS_OK;
}

/* ---- CONV2D with few input channels ---- */

/*
 * @p tile output pixels from ox on, output vectors ob and (nv == 2) ob + 1:
 * 2 * tile accumulators in registers, one broadcast input value and one or
 * two weight vectors per (tap, input channel).
 */
static inline __attribute__((always_inline)) void
FN(conv_small_tile)(const simd_state *st, const float *const *rp, const int *rk, int nk, int ox,
                    float *out_row, int ob, int nv, int tile)
{
    const fs_nn_op_desc *d = &st->d;
    const int ic = d->in[0].c, kw = d->kernel_w, oc = d->out.c;
    const size_t px_step = (size_t)d->stride_w * (size_t)ic; /* next output pixel's input */
    const size_t kx_step = (size_t)d->dilation_w * (size_t)ic;
    const size_t ks = st->kstride;
    V a0[CONV_TILE], a1[CONV_TILE];
    const V b0 = VLOAD(st->bias + (size_t)ob * VL);
    const V b1 = nv > 1 ? VLOAD(st->bias + (size_t)(ob + 1) * VL) : VZERO();
#pragma GCC unroll 8
    for (int p = 0; p < tile; p++) {
        a0[p] = b0;
        a1[p] = b1;
    }
    for (int i = 0; i < nk; i++) {
        const float *r = rp[i] + (size_t)ox * px_step;
        const float *wrow = st->w + (size_t)rk[i] * (size_t)kw * (size_t)ic * ks + (size_t)ob * VL;
        for (int kx = 0; kx < kw; kx++)
            for (int c = 0; c < ic; c++) {
                const float *x = r + (size_t)kx * kx_step + (size_t)c;
                const float *wv = wrow + ((size_t)kx * (size_t)ic + (size_t)c) * ks;
                const V w0 = VLOAD(wv);
                if (nv > 1) {
                    const V w1 = VLOAD(wv + VL);
#pragma GCC unroll 8
                    for (int p = 0; p < tile; p++) {
                        const V xv = VSET1(x[(size_t)p * px_step]);
                        a0[p] = VFMA(xv, w0, a0[p]);
                        a1[p] = VFMA(xv, w1, a1[p]);
                    }
                } else {
#pragma GCC unroll 8
                    for (int p = 0; p < tile; p++)
                        a0[p] = VFMA(VSET1(x[(size_t)p * px_step]), w0, a0[p]);
                }
            }
    }
    const V al0 = VLOAD(st->alpha + (size_t)ob * VL);
    const V al1 = nv > 1 ? VLOAD(st->alpha + (size_t)(ob + 1) * VL) : VZERO();
    const int last = (oc - 1) / VL, rest = oc % VL;
    const VMASK_T m = VMASK(rest ? rest : VL);
#pragma GCC unroll 8
    for (int p = 0; p < tile; p++) {
        float *o = out_row + (size_t)(ox + p) * (size_t)oc + (size_t)ob * VL;
        const V y0 = FN(act_v)(st, a0[p], al0);
        if (ob == last && rest)
            VSTOREM(o, y0, m);
        else
            VSTORE(o, y0);
        if (nv > 1) {
            const V y1 = FN(act_v)(st, a1[p], al1);
            if (ob + 1 == last && rest)
                VSTOREM(o + VL, y1, m);
            else
                VSTORE(o + VL, y1);
        }
    }
}

static fs_status FN(conv_small_run)(const fs_exec *ex, void *state, const float *const *inputs,
                                    float *output)
{
    (void)ex;
    simd_state *st = state;
    const fs_nn_op_desc *d = &st->d;
    const fs_nn_shape os = d->out;
    const int nvec = (os.c + VL - 1) / VL;
    const size_t row_out = (size_t)os.w * (size_t)os.c;

    for (int s = 0; s < st->nslots; s++)
        st->tags[s] = -1;
    for (int n = 0; n < os.n; n++)
        for (int oy = 0; oy < os.h; oy++) {
            const float *rp[SIMD_DW_MAX_KH];
            int rk[SIMD_DW_MAX_KH];
            int nk = 0;
            for (int ky = 0; ky < d->kernel_h; ky++) {
                const int iy = oy * d->stride_h - d->pad_top + ky * d->dilation_h;
                if (iy < 0 || iy >= d->in[0].h)
                    continue;
                rp[nk] = FN(dw_flat_row)(st, inputs[0], n, iy);
                rk[nk] = ky;
                nk++;
            }
            float *out_row = output + ((size_t)n * (size_t)os.h + (size_t)oy) * row_out;
            for (int ob = 0; ob < nvec; ob += 2) {
                const int nv = nvec - ob >= 2 ? 2 : 1;
                int ox = 0;
                if (nv == 2) {
                    for (; ox + CONV_TILE <= os.w; ox += CONV_TILE)
                        FN(conv_small_tile)(st, rp, rk, nk, ox, out_row, ob, 2, CONV_TILE);
                    for (; ox < os.w; ox++)
                        FN(conv_small_tile)(st, rp, rk, nk, ox, out_row, ob, 2, 1);
                } else {
                    for (; ox + CONV_TILE <= os.w; ox += CONV_TILE)
                        FN(conv_small_tile)(st, rp, rk, nk, ox, out_row, ob, 1, CONV_TILE);
                    for (; ox < os.w; ox++)
                        FN(conv_small_tile)(st, rp, rk, nk, ox, out_row, ob, 1, 1);
                }
            }
        }
    return FS_OK;
}

#if VL == 16
/* ---- CONV2D 1x1, 24 output channels (AVX-512) ---- */

/*
 * Two pixels' 48 outputs are three vectors: p0's channels 0-15, p0's 16-23
 * with p1's 0-7, p1's 8-23. The middle vector's input is p0's value in its
 * low half and p1's in its high half (one masked broadcast), so no lane is
 * wasted, where 16 + 8 lanes per pixel would leave a quarter idle.
 */
static inline __attribute__((always_inline)) void
FN(pw24_pairs)(const simd_state *st, const float *x, float *o, size_t kin, int pairs)
{
    V a[4][3];
#pragma GCC unroll 4
    for (int j = 0; j < pairs; j++) {
        a[j][0] = VLOAD(st->bias);
        a[j][1] = VLOAD(st->bias + 16);
        a[j][2] = VLOAD(st->bias + 32);
    }
    for (size_t k = 0; k < kin; k++) {
        const V w0 = VLOAD(st->w + k * 48), w1 = VLOAD(st->w + k * 48 + 16),
                w2 = VLOAD(st->w + k * 48 + 32);
#pragma GCC unroll 4
        for (int j = 0; j < pairs; j++) {
            const float *xa = x + (size_t)(2 * j) * kin + k;
            /* two broadcast loads and a blend: no shuffle-port work */
            const V va = VSET1(xa[0]), vb = VSET1(xa[kin]);
            a[j][0] = VFMA(va, w0, a[j][0]);
            a[j][1] = VFMA(_mm512_mask_mov_ps(va, (__mmask16)0xFF00, vb), w1, a[j][1]);
            a[j][2] = VFMA(vb, w2, a[j][2]);
        }
    }
    const V l0 = VLOAD(st->alpha), l1 = VLOAD(st->alpha + 16), l2 = VLOAD(st->alpha + 32);
#pragma GCC unroll 4
    for (int j = 0; j < pairs; j++) {
        VSTORE(o + j * 48, FN(act_v)(st, a[j][0], l0));
        VSTORE(o + j * 48 + 16, FN(act_v)(st, a[j][1], l1));
        VSTORE(o + j * 48 + 32, FN(act_v)(st, a[j][2], l2));
    }
}

static void FN(conv_pw24_run)(const simd_state *st, const float *input, float *output)
{
    const size_t kin = (size_t)st->d.in[0].c;
    const size_t pixels = fs_nn_shape_size(st->d.out) / 24;
    size_t p = 0;
    for (; p + 8 <= pixels; p += 8)
        FN(pw24_pairs)(st, input + p * kin, output + p * 24, kin, 4);
    for (; p + 2 <= pixels; p += 2)
        FN(pw24_pairs)(st, input + p * kin, output + p * 24, kin, 1);
    if (p < pixels) { /* a last lone pixel: the pair's first 24 lanes */
        const float *x = input + p * kin;
        V a0 = VLOAD(st->bias), a1 = VLOAD(st->bias + 16);
        for (size_t k = 0; k < kin; k++) {
            const V v = VSET1(x[k]);
            a0 = VFMA(v, VLOAD(st->w + k * 48), a0);
            a1 = VFMA(v, VLOAD(st->w + k * 48 + 16), a1);
        }
        VSTORE(output + p * 24, FN(act_v)(st, a0, VLOAD(st->alpha)));
        VSTOREM(output + p * 24 + 16, FN(act_v)(st, a1, VLOAD(st->alpha + 16)), VMASK(8));
    }
}
#endif

#if VL == 8
/* ---- CONV2D without padding on more input channels (AVX2): a register-tiled GEMM ---- */

/*
 * A tile of mr output pixels by nr vectors of output channels (mr * nr <= 12)
 * stays in registers while the kh * kw * ic products stream through it: per
 * product step, nr weight loads and mr broadcasts feed mr * nr FMAs. With no
 * padding, a pixel's window is kh runs of kw * ic contiguous floats, one per
 * input row, and the weights' [kh][kw][ic][oc] order is that same order, so
 * no indirection is needed. On a Zen 3 core (AVX2, one thread) XNNPACK ran
 * these layers (1x1 24->24 at 128x128, 64->128 at 16x16, 2x2/2) at 14-19
 * GMAC/s, this at 44-49 (doc/performance.md).
 */
static inline __attribute__((always_inline)) void
FN(gemm_tile)(const simd_state *st, const float *x, size_t xstep, int ob, float *y,
              const float *res, int mr, int nr)
{
    const fs_nn_op_desc *d = &st->d;
    const size_t oc = (size_t)d->out.c;
    const size_t seg = (size_t)d->kernel_w * (size_t)d->in[0].c;
    const size_t segstride = (size_t)d->in[0].w * (size_t)d->in[0].c;
    const float *w = st->w + (size_t)ob * VL;
    V acc[12];
#pragma GCC unroll 4
    for (int j = 0; j < nr; j++) {
        const V b = VLOAD(st->bias + (size_t)(ob + j) * VL);
#pragma GCC unroll 12
        for (int i = 0; i < mr; i++)
            acc[i * nr + j] = b;
    }
    for (int ky = 0; ky < d->kernel_h; ky++) {
        const float *xs = x + (size_t)ky * segstride;
        for (size_t t = 0; t < seg; t++, w += oc) {
            V wv[4];
#pragma GCC unroll 4
            for (int j = 0; j < nr; j++)
                wv[j] = VLOAD(w + (size_t)j * VL);
#pragma GCC unroll 12
            for (int i = 0; i < mr; i++) {
                const V xb = VSET1(xs[(size_t)i * xstep + t]);
#pragma GCC unroll 4
                for (int j = 0; j < nr; j++)
                    acc[i * nr + j] = VFMA(xb, wv[j], acc[i * nr + j]);
            }
        }
    }
    if (res) /* CONV2D_ADD: the addend, then the activation */
#pragma GCC unroll 4
        for (int j = 0; j < nr; j++)
#pragma GCC unroll 12
            for (int i = 0; i < mr; i++)
                acc[i * nr + j] =
                    VADD(acc[i * nr + j], VLOAD(res + (size_t)i * oc + (size_t)(ob + j) * VL));
#pragma GCC unroll 4
    for (int j = 0; j < nr; j++) {
        const V al = VLOAD(st->alpha + (size_t)(ob + j) * VL);
#pragma GCC unroll 12
        for (int i = 0; i < mr; i++)
            VSTORE(y + (size_t)i * oc + (size_t)(ob + j) * VL, FN(act_v)(st, acc[i * nr + j], al));
    }
}

/* One vector block's tiles over n pixels: mr at a time, then the rest one by one. */
static inline __attribute__((always_inline)) void
FN(gemm_block)(const simd_state *st, const float *x, size_t xstep, int ob, float *y,
               const float *res, size_t n, int mr, int nr)
{
    const size_t oc = (size_t)st->d.out.c;
    size_t p = 0;
    for (; p + (size_t)mr <= n; p += (size_t)mr)
        FN(gemm_tile)(st, x + p * xstep, xstep, ob, y + p * oc, res ? res + p * oc : NULL, mr, nr);
    for (; p < n; p++)
        FN(gemm_tile)(st, x + p * xstep, xstep, ob, y + p * oc, res ? res + p * oc : NULL, 1, nr);
}

/* n output pixels whose windows start xstep floats apart from x, written from y
 * (their addends, for CONV2D_ADD, from res). */
static void FN(gemm_span)(const simd_state *st, const float *x, size_t xstep, float *y,
                          const float *res, size_t n)
{
    const int nv = st->d.out.c / VL;
    for (int ob = 0; ob < nv;) {
        const int rest = nv - ob;
        /* 4 vectors x 3 pixels, else 3 x 4 (5 and 6 as 3 + 2 and 3 + 3) */
        const int nr = rest >= 4 ? (rest == 5 || rest == 6 ? 3 : 4) : rest;
        switch (nr) {
        case 4: FN(gemm_block)(st, x, xstep, ob, y, res, n, 3, 4); break;
        case 3: FN(gemm_block)(st, x, xstep, ob, y, res, n, 4, 3); break;
        case 2: FN(gemm_block)(st, x, xstep, ob, y, res, n, 6, 2); break;
        default: FN(gemm_block)(st, x, xstep, ob, y, res, n, 12, 1); break;
        }
        ob += nr;
    }
}

typedef struct FN(gemm_job) {
    const simd_state *st;
    const float *input;
    const float *res; /* CONV2D_ADD's addend, else NULL */
    float *output;
    size_t units, per_task;
} FN(gemm_job);

/* A task's units: GEMM_FLAT_UNIT pixels each for a 1x1 stride-1 layer (the
 * tensor is one long row), else output rows. */
static fs_status FN(gemm_task)(void *user, int task, int worker)
{
    (void)worker;
    const FN(gemm_job) *job = user;
    const simd_state *st = job->st;
    const fs_nn_op_desc *d = &st->d;
    const size_t ic = (size_t)d->in[0].c, oc = (size_t)d->out.c;
    const size_t u0 = (size_t)task * job->per_task;
    const size_t u1 = u0 + job->per_task < job->units ? u0 + job->per_task : job->units;
    if (st->gemm == GEMM_FLAT) {
        const size_t pixels = fs_nn_shape_size(d->out) / oc;
        const size_t p0 = u0 * GEMM_FLAT_UNIT;
        const size_t p1 = u1 * GEMM_FLAT_UNIT < pixels ? u1 * GEMM_FLAT_UNIT : pixels;
        if (p1 > p0)
            FN(gemm_span)(st, job->input + p0 * ic, ic, job->output + p0 * oc,
                          job->res ? job->res + p0 * oc : NULL, p1 - p0);
        return FS_OK;
    }
    for (size_t r = u0; r < u1; r++) {
        const size_t n = r / (size_t)d->out.h, oy = r % (size_t)d->out.h;
        const size_t iy = oy * (size_t)d->stride_h;
        const float *x = job->input + (n * (size_t)d->in[0].h + iy) * (size_t)d->in[0].w * ic;
        const size_t o = r * (size_t)d->out.w * oc;
        FN(gemm_span)(st, x, (size_t)d->stride_w * ic, job->output + o,
                      job->res ? job->res + o : NULL, (size_t)d->out.w);
    }
    return FS_OK;
}

static fs_status FN(conv_gemm_run)(const fs_exec *ex, const simd_state *st, const float *input,
                                   const float *res, float *output)
{
    const fs_nn_op_desc *d = &st->d;
    const size_t pixels = fs_nn_shape_size(d->out) / (size_t)d->out.c;
    FN(gemm_job) job = {st, input, res, output, 0, 0};
    size_t min_units;
    if (st->gemm == GEMM_FLAT) {
        job.units = (pixels + GEMM_FLAT_UNIT - 1) / GEMM_FLAT_UNIT;
        min_units = GEMM_MIN_TASK_PIXELS / GEMM_FLAT_UNIT;
    } else {
        job.units = (size_t)d->out.n * (size_t)d->out.h;
        min_units = (GEMM_MIN_TASK_PIXELS + (size_t)d->out.w - 1) / (size_t)d->out.w;
    }
    fs_pool *pool = ex ? ex->pool : NULL;
    const int tasks = fs_pool_bands(pool, job.units > INT_MAX ? INT_MAX : (int)job.units,
                                    (int)min_units);
    job.per_task = (job.units + (size_t)tasks - 1) / (size_t)tasks;
    return fs_pool_run(pool, tasks, FN(gemm_task), &job);
}
#endif

static fs_status FN(conv_run)(const fs_exec *ex, void *state, const float *const *inputs,
                              float *output)
{
#if VL == 16
    const simd_state *st = state;
    if (st->pw24) {
        FN(conv_pw24_run)(st, inputs[0], output);
        return FS_OK;
    }
#endif
#if VL == 8
    const simd_state *sg = state;
    if (sg->gemm)
        return FN(conv_gemm_run)(ex, sg, inputs[0],
                                 sg->d.type == FS_NN_CONV2D_ADD ? inputs[1] : NULL, output);
#endif
    return FN(conv_small_run)(ex, state, inputs, output);
}
