/*
 * Own SIMD kernels of the fast CPU path, for what XNNPACK does slowly or not
 * at all: depthwise convolution with a multiplier of 1 (XNNPACK's generic
 * depthwise kernel gathers every tap through an indirection buffer and runs
 * one pixel at a time, 3-4x slower here), BINARY with any fused activation
 * (XNNPACK's add cannot fuse PReLU: that would be a second pass over the
 * tensor), RELU/CLAMP/PRELU, and PAD. On AVX2 also the unpadded
 * convolutions on more than four input channels (XNNPACK's GEMM ran them at
 * a third of the core's rate there; doc/performance.md), alone or with the
 * residual Add that follows them (CONV2D_ADD, fused by the planner).
 *
 * One source (ops_simd_tmpl.h) compiled for AVX-512 and for AVX2+FMA; the
 * best level the CPU has is chosen when the table is filled. Every kernel
 * is compared with the reference in tests/test_ops.c at every level the
 * test machine has.
 *
 * PAD is plain C (memcpy and memset runs) and is registered at any level.
 */
#include "nn/ops_kernels.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pool.h"

typedef struct simd_state {
    fs_nn_op_desc d;
    int per_channel;  /* BINARY: needs per-channel slope or constant */
    int taps;         /* DEPTHWISE: kernel_h * kernel_w */
    int ox_lo, ox_hi; /* DEPTHWISE: output columns whose window needs no clipping */
    float *w;         /* DEPTHWISE: [cblocks][taps][VL], channels past c zero */
    float *bias;      /* [cblocks * VL], zero where absent */
    float *alpha;     /* [cblocks * VL], PReLU slopes or zero */
    float *cst;       /* BINARY: per-channel constant [cblocks * VL] */

    /* DEPTHWISE with stride_w 1 ("flat" form): an output row is W*C floats
     * and tap (ky, kx) of output float j reads float j + kx*dilation*C of a
     * zero-padded input row, for every lane alike. So the row is cut in full
     * vectors whatever C is (no masked channel tails), and lane l of vector v
     * is channel (v*VL + l) % C: the weights repeat every `period` vectors. */
    int flat;
    int period;        /* C / gcd(C, VL) */
    float *fw;         /* [taps][period * VL] */
    float *fbias;      /* [period * VL] */
    float *falpha;     /* [period * VL] */
    float *rows;       /* nslots padded input rows of rowlen floats, pads zero */
    long long *tags;   /* which (n, iy) each slot holds, -1 none */
    int nslots;
    size_t rowlen;

    /* CONV2D with few input channels: w is [kh*kw*ic][kstride], output
     * channels padded with zeros to whole vectors; rows as above. */
    size_t kstride;
    int pw24; /* CONV2D 1x1 to 24 channels (AVX-512): w, bias, alpha are [.][48] */
    /* CONV2D without padding, more than SIMD_CONV_MAX_IC input channels and
     * whole vectors of output channels (AVX2): GEMM_FLAT for 1x1 stride 1
     * (the tensor one long row of pixels), GEMM_ROWS otherwise; w is the
     * [kh][kw][ic][oc] weights as given, bias and alpha [oc]. */
    int gemm;
} simd_state;

/* CONV2D: the own kernel takes layers with at most this many input channels
 * (the models' first layers, RGB in): XNNPACK's IGEMM spends most of its time
 * on its indirection there, and cannot fuse their PReLU. */
#define SIMD_CONV_MAX_IC 4

#define GEMM_FLAT 1
#define GEMM_ROWS 2
/* Pixels a unit of work of a GEMM_FLAT layer holds (a multiple of every
 * tile height: 3, 4, 6, 12), and the fewest pixels worth a task of the pool. */
#define GEMM_FLAT_UNIT 96
#define GEMM_MIN_TASK_PIXELS 768

/* Rows the flat depthwise form keeps at once: kernel_h * dilation_h at most. */
#define SIMD_DW_MAX_KH 16

static void simd_destroy(void *state)
{
    simd_state *st = state;
    if (!st)
        return;
    free(st->w);
    free(st->bias);
    free(st->alpha);
    free(st->cst);
    free(st->fw);
    free(st->fbias);
    free(st->falpha);
    free(st->rows);
    free(st->tags);
    free(st);
}

/* A zero-padded copy of src[0..n) (src may be NULL: all zeros), length blocks * vl. */
static float *padded_copy(const float *src, int n, int vl)
{
    const size_t len = ((size_t)n + (size_t)vl - 1) / (size_t)vl * (size_t)vl;
    float *p = calloc(len, sizeof(float));
    if (p && src)
        memcpy(p, src, (size_t)n * sizeof(float));
    return p;
}

static fs_status simd_new(const fs_nn_op_desc *desc, fs_nn_op_type type, void **state,
                          simd_state **out)
{
    if (!state)
        return FS_ERR_INVALID_ARGUMENT;
    const fs_status s = fs_nn_desc_validate(desc);
    if (s != FS_OK)
        return s;
    if (desc->type != type)
        return FS_ERR_INVALID_ARGUMENT;
    if (desc->act == FS_NN_ACT_SIGMOID)
        return FS_ERR_UNSUPPORTED; /* no own exp(): XNNPACK or the reference */
    simd_state *st = calloc(1, sizeof(*st));
    if (!st)
        return FS_ERR_OUT_OF_MEMORY;
    st->d = *desc;
    *out = st;
    return FS_OK;
}

static fs_status simd_activation_create(const fs_nn_op_desc *desc, void **state, int vl)
{
    simd_state *st;
    const fs_status s = simd_new(desc, FS_NN_ACTIVATION, state, &st);
    if (s != FS_OK)
        return s;
    st->alpha = padded_copy(desc->act == FS_NN_ACT_PRELU ? desc->alpha : NULL, desc->out.c, vl);
    if (!st->alpha) {
        simd_destroy(st);
        return FS_ERR_OUT_OF_MEMORY;
    }
    *state = st;
    return FS_OK;
}

static fs_status simd_binary_create(const fs_nn_op_desc *desc, void **state, int vl)
{
    simd_state *st;
    fs_status s = simd_new(desc, FS_NN_BINARY, state, &st);
    if (s != FS_OK)
        return s;
    const fs_nn_shape a = desc->in[0], b = desc->in[1], o = desc->out;
    if (desc->num_inputs == 2 &&
        !(a.n == b.n && a.h == b.h && a.w == b.w && a.c == b.c && a.c == o.c)) {
        simd_destroy(st); /* general broadcasting: the reference does it */
        return FS_ERR_UNSUPPORTED;
    }
    st->per_channel = desc->act == FS_NN_ACT_PRELU ||
                      (desc->num_inputs == 1 && desc->constant_len > 1);
    st->alpha = padded_copy(desc->act == FS_NN_ACT_PRELU ? desc->alpha : NULL, o.c, vl);
    if (desc->num_inputs == 1) {
        if (desc->constant_len == 1) {
            /* a scalar read per lane as a per-channel constant when the slope forces
             * the per-channel loop */
            st->cst = malloc(((size_t)o.c + (size_t)vl) * sizeof(float));
            if (st->cst)
                for (size_t i = 0; i < (size_t)o.c + (size_t)vl; i++)
                    st->cst[i] = desc->constant[0];
        } else {
            st->cst = padded_copy(desc->constant, o.c, vl);
        }
    }
    if (!st->alpha || (desc->num_inputs == 1 && !st->cst)) {
        simd_destroy(st);
        return FS_ERR_OUT_OF_MEMORY;
    }
    *state = st;
    return FS_OK;
}

/* Zeroed scratch for span_h padded input rows of (pad_left + w + pad_right) * c
 * floats plus @p extra, each starting on a cache line. */
static fs_status simd_rows_setup(simd_state *st, int span_h, size_t extra)
{
    const fs_nn_op_desc *d = &st->d;
    size_t rowlen;
    if (!fs_mul_size((size_t)d->in[0].w + (size_t)d->pad_left + (size_t)d->pad_right,
                     (size_t)d->in[0].c, &rowlen))
        return FS_ERR_INVALID_ARGUMENT;
    rowlen = (rowlen + extra + 15) / 16 * 16;
    size_t bytes;
    if (!fs_mul_size(rowlen, (size_t)span_h, &bytes) || !fs_mul_size(bytes, sizeof(float), &bytes))
        return FS_ERR_INVALID_ARGUMENT;
    st->rows = aligned_alloc(64, (bytes + 63) / 64 * 64);
    st->tags = malloc((size_t)span_h * sizeof(long long));
    if (!st->rows || !st->tags)
        return FS_ERR_OUT_OF_MEMORY;
    memset(st->rows, 0, bytes);
    st->nslots = span_h;
    st->rowlen = rowlen;
    return FS_OK;
}

static int gcd_int(int a, int b)
{
    while (b) {
        const int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The flat form where it applies (stride_w 1, few rows, weights of a modest size). */
static fs_status simd_depthwise_flat_setup(simd_state *st, int vl)
{
    const fs_nn_op_desc *d = &st->d;
    const int c = d->in[0].c;
    const int span_h = (d->kernel_h - 1) * d->dilation_h + 1;
    const int period = c / gcd_int(c, vl);
    if (d->stride_w != 1 || span_h > SIMD_DW_MAX_KH || d->kernel_h > SIMD_DW_MAX_KH ||
        (long long)period * st->taps > 4096)
        return FS_OK; /* the per-pixel form runs it */
    const size_t pv = (size_t)period * (size_t)vl;
    /* The last, partial vector reads zeros past the row (vl extra floats);
     * rows start on cache lines (a load split over two lines costs two). */
    const fs_status s = simd_rows_setup(st, span_h, (size_t)vl);
    if (s != FS_OK)
        return s;
    st->fw = malloc(pv * (size_t)st->taps * sizeof(float));
    st->fbias = malloc(pv * sizeof(float));
    st->falpha = malloc(pv * sizeof(float));
    if (!st->fw || !st->fbias || !st->falpha)
        return FS_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < pv; i++) {
        const size_t ch = i % (size_t)c;
        for (int t = 0; t < st->taps; t++)
            st->fw[(size_t)t * pv + i] = d->weights[(size_t)t * (size_t)c + ch];
        st->fbias[i] = d->bias ? d->bias[ch] : 0.0f;
        st->falpha[i] = d->act == FS_NN_ACT_PRELU ? d->alpha[ch] : 0.0f;
    }
    st->flat = 1;
    st->period = period;
    return FS_OK;
}

static fs_status conv_create_typed(const fs_nn_op_desc *desc, void **state, int vl,
                                   fs_nn_op_type type)
{
    simd_state *st;
    fs_status s = simd_new(desc, type, state, &st);
    if (s != FS_OK)
        return s;
    const int ic = desc->in[0].c, oc = desc->out.c;
    if (type == FS_NN_CONV2D && vl == 16 && oc == 24 && desc->kernel_h == 1 &&
        desc->kernel_w == 1 &&
        desc->stride_h == 1 && desc->stride_w == 1 && !desc->pad_top && !desc->pad_left &&
        !desc->pad_bottom && !desc->pad_right) {
        /* A pixel pair's 48 outputs are three whole vectors; lane i of the
         * three is channel i % 24. */
        st->pw24 = 1;
        st->w = malloc((size_t)ic * 48 * sizeof(float));
        st->bias = malloc(48 * sizeof(float));
        st->alpha = malloc(48 * sizeof(float));
        if (!st->w || !st->bias || !st->alpha) {
            simd_destroy(st);
            return FS_ERR_OUT_OF_MEMORY;
        }
        for (int i = 0; i < 48; i++) {
            for (int k = 0; k < ic; k++)
                st->w[(size_t)k * 48 + (size_t)i] =
                    desc->weights[(size_t)k * 24 + (size_t)(i % 24)];
            st->bias[i] = desc->bias ? desc->bias[i % 24] : 0.0f;
            st->alpha[i] = desc->act == FS_NN_ACT_PRELU ? desc->alpha[i % 24] : 0.0f;
        }
        *state = st;
        return FS_OK;
    }
    const int unpadded = !desc->pad_top && !desc->pad_left && !desc->pad_bottom &&
                         !desc->pad_right && desc->dilation_h == 1 && desc->dilation_w == 1;
    if (vl == 8 && unpadded && ic > SIMD_CONV_MAX_IC && oc % vl == 0) {
        const size_t k = (size_t)desc->kernel_h * (size_t)desc->kernel_w * (size_t)ic;
        st->gemm = desc->kernel_h == 1 && desc->kernel_w == 1 && desc->stride_h == 1 &&
                           desc->stride_w == 1
                       ? GEMM_FLAT
                       : GEMM_ROWS;
        st->w = malloc(k * (size_t)oc * sizeof(float)); /* validated: no overflow */
        st->bias = padded_copy(desc->bias, oc, vl);
        st->alpha = padded_copy(desc->act == FS_NN_ACT_PRELU ? desc->alpha : NULL, oc, vl);
        if (!st->w || !st->bias || !st->alpha) {
            simd_destroy(st);
            return FS_ERR_OUT_OF_MEMORY;
        }
        memcpy(st->w, desc->weights, k * (size_t)oc * sizeof(float));
        *state = st;
        return FS_OK;
    }
    if (type == FS_NN_CONV2D_ADD) { /* only the GEMM adds in its output */
        simd_destroy(st);
        return FS_ERR_UNSUPPORTED;
    }
    const int span_h = (desc->kernel_h - 1) * desc->dilation_h + 1;
    if (ic > SIMD_CONV_MAX_IC || span_h > SIMD_DW_MAX_KH || desc->kernel_w > 64) {
        simd_destroy(st);
        return FS_ERR_UNSUPPORTED; /* XNNPACK (or the reference) runs it */
    }
    st->taps = desc->kernel_h * desc->kernel_w;
    const size_t k = (size_t)st->taps * (size_t)ic;
    st->kstride = ((size_t)oc + (size_t)vl - 1) / (size_t)vl * (size_t)vl;
    st->w = calloc(k * st->kstride, sizeof(float)); /* validated: no overflow */
    st->bias = padded_copy(desc->bias, oc, vl);
    st->alpha = padded_copy(desc->act == FS_NN_ACT_PRELU ? desc->alpha : NULL, oc, vl);
    if (!st->w || !st->bias || !st->alpha) {
        simd_destroy(st);
        return FS_ERR_OUT_OF_MEMORY;
    }
    /* TF's [kh][kw][ic][oc] is already [k][oc]: pad each row to kstride. */
    for (size_t i = 0; i < k; i++)
        memcpy(st->w + i * st->kstride, desc->weights + i * (size_t)oc, (size_t)oc * sizeof(float));
    s = simd_rows_setup(st, span_h, 0);
    if (s != FS_OK) {
        simd_destroy(st);
        return s;
    }
    *state = st;
    return FS_OK;
}

static fs_status simd_conv_create(const fs_nn_op_desc *desc, void **state, int vl)
{
    return conv_create_typed(desc, state, vl, FS_NN_CONV2D);
}

static fs_status simd_conv_add_create(const fs_nn_op_desc *desc, void **state, int vl)
{
    return conv_create_typed(desc, state, vl, FS_NN_CONV2D_ADD);
}

static fs_status simd_depthwise_create(const fs_nn_op_desc *desc, void **state, int vl)
{
    simd_state *st;
    fs_status s = simd_new(desc, FS_NN_DEPTHWISE_CONV2D, state, &st);
    if (s != FS_OK)
        return s;
    if (desc->depth_multiplier != 1) {
        simd_destroy(st);
        return FS_ERR_UNSUPPORTED;
    }
    const int c = desc->in[0].c;
    const size_t blocks = ((size_t)c + (size_t)vl - 1) / (size_t)vl;
    st->taps = desc->kernel_h * desc->kernel_w;
    size_t wlen;
    if (!fs_mul_size(blocks * (size_t)vl, (size_t)st->taps, &wlen)) {
        simd_destroy(st);
        return FS_ERR_INVALID_ARGUMENT;
    }
    st->w = calloc(wlen, sizeof(float));
    st->bias = padded_copy(desc->bias, c, vl);
    st->alpha = padded_copy(desc->act == FS_NN_ACT_PRELU ? desc->alpha : NULL, c, vl);
    if (!st->w || !st->bias || !st->alpha) {
        simd_destroy(st);
        return FS_ERR_OUT_OF_MEMORY;
    }
    /* [kh][kw][c] (multiplier 1) -> [block][tap][lane] */
    for (int t = 0; t < st->taps; t++)
        for (int ch = 0; ch < c; ch++)
            st->w[((size_t)(ch / vl) * (size_t)st->taps + (size_t)t) * (size_t)vl +
                  (size_t)(ch % vl)] = desc->weights[(size_t)t * (size_t)c + (size_t)ch];

    s = simd_depthwise_flat_setup(st, vl);
    if (s != FS_OK) {
        simd_destroy(st);
        return s;
    }

    /* Interior columns: ox * stride - pad_left >= 0 and the last tap inside. */
    const int ow = desc->out.w, sw = desc->stride_w;
    const long long span = (long long)(desc->kernel_w - 1) * desc->dilation_w;
    long long lo = (desc->pad_left + sw - 1) / sw;
    const long long last = (long long)desc->in[0].w - 1 + desc->pad_left - span;
    long long hi = last >= 0 ? last / sw + 1 : 0;
    if (lo > ow)
        lo = ow;
    if (hi > ow)
        hi = ow;
    if (hi < lo)
        hi = lo;
    st->ox_lo = (int)lo;
    st->ox_hi = (int)hi;
    *state = st;
    return FS_OK;
}

/* ---- PAD: runs of memcpy and memset, any ISA ---- */

static fs_status simd_pad_create(const fs_nn_op_desc *desc, void **state)
{
    simd_state *st;
    const fs_status s = simd_new(desc, FS_NN_PAD, state, &st);
    if (s == FS_OK)
        *state = st;
    return s;
}

static fs_status simd_pad_run(const fs_exec *ex, void *state, const float *const *inputs,
                              float *output)
{
    (void)ex;
    const simd_state *st = state;
    const fs_nn_op_desc *d = &st->d;
    const fs_nn_shape is = d->in[0], os = d->out;
    const size_t oc = (size_t)os.c, ic = (size_t)is.c;
    const size_t c_before = (size_t)d->pads[3][0], c_after = (size_t)d->pads[3][1];
    const size_t orow = (size_t)os.w * oc;
    const float *src = inputs[0];
    float *dst = output;

    for (int n = 0; n < os.n; n++)
        for (int y = 0; y < os.h; y++) {
            const int iy = y - d->pads[1][0];
            if (iy < 0 || iy >= is.h) {
                memset(dst, 0, orow * sizeof(float));
                dst += orow;
                continue;
            }
            const size_t left = (size_t)d->pads[2][0] * oc, right = (size_t)d->pads[2][1] * oc;
            memset(dst, 0, left * sizeof(float));
            dst += left;
            if (c_before == 0 && c_after == 0) {
                memcpy(dst, src, (size_t)is.w * ic * sizeof(float));
                dst += (size_t)is.w * ic;
                src += (size_t)is.w * ic;
            } else {
                for (int x = 0; x < is.w; x++) {
                    memset(dst, 0, c_before * sizeof(float));
                    memcpy(dst + c_before, src, ic * sizeof(float));
                    memset(dst + c_before + ic, 0, c_after * sizeof(float));
                    dst += oc;
                    src += ic;
                }
            }
            memset(dst, 0, right * sizeof(float));
            dst += right;
        }
    return FS_OK;
}

/* ---- the ISA instances ---- */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,fma")
#define FN(name) name##_avx512
#define V __m512
#define VL 16
#define CONV_TILE 8
#define VMASK_T __mmask16
#define VMASK(n) ((__mmask16)((1u << (n)) - 1u))
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VLOADM(p, m) _mm512_maskz_loadu_ps((m), (p))
#define VSTOREM(p, v, m) _mm512_mask_storeu_ps((p), (m), (v))
#define VSET1(x) _mm512_set1_ps(x)
#define VZERO() _mm512_setzero_ps()
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
#define VMIN(a, b) _mm512_min_ps((a), (b))
#define VMAX(a, b) _mm512_max_ps((a), (b))
#include "nn/ops_simd_tmpl.h"
#undef FN
#undef V
#undef VL
#undef CONV_TILE
#undef VMASK_T
#undef VMASK
#undef VLOAD
#undef VSTORE
#undef VLOADM
#undef VSTOREM
#undef VSET1
#undef VZERO
#undef VFMA
#undef VADD
#undef VMUL
#undef VMIN
#undef VMAX
#pragma GCC pop_options

/* maskload's lane mask: the first n of 8 lanes (all bits set) read. */
static const int32_t simd_mask8[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define FN(name) name##_avx2
#define V __m256
#define VL 8
#define CONV_TILE 4
#define VMASK_T __m256i
#define VMASK(n) _mm256_loadu_si256((const __m256i *)(simd_mask8 + 8 - (n)))
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VLOADM(p, m) _mm256_maskload_ps((p), (m))
#define VSTOREM(p, v, m) _mm256_maskstore_ps((p), (m), (v))
#define VSET1(x) _mm256_set1_ps(x)
#define VZERO() _mm256_setzero_ps()
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VMIN(a, b) _mm256_min_ps((a), (b))
#define VMAX(a, b) _mm256_max_ps((a), (b))
#include "nn/ops_simd_tmpl.h"
#undef FN
#undef V
#undef VL
#undef CONV_TILE
#undef VMASK_T
#undef VMASK
#undef VLOAD
#undef VSTORE
#undef VLOADM
#undef VSTOREM
#undef VSET1
#undef VZERO
#undef VFMA
#undef VADD
#undef VMUL
#undef VMIN
#undef VMAX
#pragma GCC pop_options

#define SIMD_CREATE(fn, inner, vl)                                  \
    static fs_status fn(const fs_nn_op_desc *desc, void **state)    \
    {                                                               \
        return inner(desc, state, vl);                              \
    }
SIMD_CREATE(activation_create_avx512, simd_activation_create, 16)
SIMD_CREATE(binary_create_avx512, simd_binary_create, 16)
SIMD_CREATE(depthwise_create_avx512, simd_depthwise_create, 16)
SIMD_CREATE(conv_create_avx512, simd_conv_create, 16)
SIMD_CREATE(conv_create_avx2, simd_conv_create, 8)
SIMD_CREATE(conv_add_create_avx2, simd_conv_add_create, 8)
SIMD_CREATE(activation_create_avx2, simd_activation_create, 8)
SIMD_CREATE(binary_create_avx2, simd_binary_create, 8)
SIMD_CREATE(depthwise_create_avx2, simd_depthwise_create, 8)
#undef SIMD_CREATE

int fs_nn_simd_level(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return FS_NN_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return FS_NN_SIMD_AVX2;
    return FS_NN_SIMD_NONE;
}

void fs_nn_ops_simd_register(fs_nn_ops *ops, int level)
{
    if (level > fs_nn_simd_level())
        return;
    if (level >= FS_NN_SIMD_NONE)
        ops->k[FS_NN_PAD] = (fs_nn_kernel){simd_pad_create, simd_pad_run, simd_destroy, "simd"};
    if (level == FS_NN_SIMD_AVX512) {
        ops->k[FS_NN_ACTIVATION] = (fs_nn_kernel){activation_create_avx512, activation_run_avx512,
                                                   simd_destroy, "avx512"};
        ops->k[FS_NN_BINARY] =
            (fs_nn_kernel){binary_create_avx512, binary_run_avx512, simd_destroy, "avx512"};
        ops->k[FS_NN_DEPTHWISE_CONV2D] = (fs_nn_kernel){
            depthwise_create_avx512, depthwise_run_avx512, simd_destroy, "avx512"};
        ops->k[FS_NN_CONV2D] =
            (fs_nn_kernel){conv_create_avx512, conv_run_avx512, simd_destroy, "avx512"};
    } else if (level == FS_NN_SIMD_AVX2) {
        ops->k[FS_NN_ACTIVATION] = (fs_nn_kernel){activation_create_avx2, activation_run_avx2,
                                                   simd_destroy, "avx2"};
        ops->k[FS_NN_BINARY] =
            (fs_nn_kernel){binary_create_avx2, binary_run_avx2, simd_destroy, "avx2"};
        ops->k[FS_NN_DEPTHWISE_CONV2D] =
            (fs_nn_kernel){depthwise_create_avx2, depthwise_run_avx2, simd_destroy, "avx2"};
        ops->k[FS_NN_CONV2D] =
            (fs_nn_kernel){conv_create_avx2, conv_run_avx2, simd_destroy, "avx2"};
        ops->k[FS_NN_CONV2D_ADD] =
            (fs_nn_kernel){conv_add_create_avx2, conv_run_avx2, simd_destroy, "avx2"};
    }
}

#else /* not x86-64 with GCC or Clang: PAD only */

int fs_nn_simd_level(void)
{
    return FS_NN_SIMD_NONE;
}

void fs_nn_ops_simd_register(fs_nn_ops *ops, int level)
{
    if (level == FS_NN_SIMD_NONE)
        ops->k[FS_NN_PAD] = (fs_nn_kernel){simd_pad_create, simd_pad_run, simd_destroy, "simd"};
}

#endif

#if !defined(FS_HAVE_XNNPACK)
int fs_nn_ops_xnnpack_alone_register(fs_nn_ops *ops)
{
    (void)ops;
    return 0; /* built without XNNPACK */
}
#endif
