/*
 * Separable blur and 8-bit alpha blend: the plain-C reference (bounds
 * checked per tap, sums in double) and the fast path (the window edge split
 * off so the inner loops are branch-free and vectorise; sums in float; on
 * AVX2 the outputs held in registers across the taps, the same bits).
 * tests/test_compose.c compares them.
 */
#include "compose/blend.h"
#include "scratch.h"
#include "compose/colour.h"
#include "compose/filter.h"
#include "compose/mask.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if (defined(__x86_64__) && defined(__GNUC__)) || defined(__SSE2__)
#include <immintrin.h>
#endif

int fs_compose_gauss_kernel(double sigma, float *k)
{
    if (!(sigma > 0.0)) {
        k[0] = 1.0f;
        return 0;
    }
    int r = (int)ceil(3.0 * sigma);
    if (r > FS_COMPOSE_MAX_RADIUS)
        r = FS_COMPOSE_MAX_RADIUS;
    double sum = 0.0, tmp[2 * FS_COMPOSE_MAX_RADIUS + 1];
    for (int i = -r; i <= r; i++) {
        tmp[i + r] = exp(-(double)i * i / (2.0 * sigma * sigma));
        sum += tmp[i + r];
    }
    for (int i = 0; i <= 2 * r; i++)
        k[i] = (float)(tmp[i] / sum);
    return r;
}

/* Zero beyond the edges: taps that fall outside are dropped. */
static fs_status blur_check(const fs_exec *ex, const float *src, int w, int h, const float *k,
                            int r, const float *tmp, const float *dst)
{
    if (!src || !k || !tmp || !dst || w < 0 || h < 0 || r < 0)
        return fs_fail(FS_EXEC_ERR(ex), FS_ERR_INVALID_ARGUMENT, "blur: bad arguments");
    return FS_OK;
}

fs_status fs_compose_blur_ref(const fs_exec *ex, const float *src, int w, int h, const float *k,
                              int r, float *tmp, float *dst)
{
    const fs_status st = blur_check(ex, src, w, h, k, r, tmp, dst);
    if (st != FS_OK)
        return st;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double s = 0.0;
            for (int i = -r; i <= r; i++)
                if (x + i >= 0 && x + i < w)
                    s += (double)k[i + r] * src[(size_t)y * w + x + i];
            tmp[(size_t)y * w + x] = (float)s;
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double s = 0.0;
            for (int i = -r; i <= r; i++)
                if (y + i >= 0 && y + i < h)
                    s += (double)k[i + r] * tmp[(size_t)(y + i) * w + x];
            dst[(size_t)y * w + x] = (float)s;
        }
    return FS_OK;
}

/* The fast blur's loops, inlined into a baseline and an AVX2 entry: the
 * same operations per element in the same order, so the two give the same
 * bits (no fused multiply-add: ISO C mode does not contract), eight lanes
 * instead of four. */
static inline void blur_fast_body(const float *src, int w, int h, const float *k, int r,
                                  float *tmp, float *dst)
{
    for (int y = 0; y < h; y++) {
        const float *s = src + (size_t)y * w;
        float *t = tmp + (size_t)y * w;
        const int lo = r < w ? r : w, hi = w - r > lo ? w - r : lo;
        for (int x = 0; x < lo; x++) {
            float a = 0.0f;
            for (int i = -r; i <= r; i++)
                if (x + i >= 0 && x + i < w)
                    a += k[i + r] * s[x + i];
            t[x] = a;
        }
        /* The interior tap by tap over the whole span, so the inner loop
         * runs along x and vectorises: each t[x] still adds its taps from
         * 0 in the order -r..r, the same sums bit for bit. */
        if (hi > lo)
            memset(t + lo, 0, sizeof(float) * (size_t)(hi - lo));
        for (int i = -r; i <= r; i++) {
            const float kk = k[i + r];
            const float *si = s + i;
            for (int x = lo; x < hi; x++)
                t[x] += kk * si[x];
        }
        for (int x = hi; x < w; x++) {
            float a = 0.0f;
            for (int i = -r; i <= r; i++)
                if (x + i >= 0 && x + i < w)
                    a += k[i + r] * s[x + i];
            t[x] = a;
        }
    }
    /* Columns: accumulate whole rows, so the inner loop runs along x. */
    for (int y = 0; y < h; y++) {
        float *d = dst + (size_t)y * w;
        memset(d, 0, sizeof(float) * (size_t)w);
        const int i0 = y - r < 0 ? -y : -r, i1 = y + r >= h ? h - 1 - y : r;
        for (int i = i0; i <= i1; i++) {
            const float kk = k[i + r];
            const float *t = tmp + (size_t)(y + i) * w;
            for (int x = 0; x < w; x++)
                d[x] += kk * t[x];
        }
    }
}

fs_status fs_compose_blur_fast_sse2(const fs_exec *ex, const float *src, int w, int h,
                                    const float *k, int r, float *tmp, float *dst)
{
    const fs_status st = blur_check(ex, src, w, h, k, r, tmp, dst);
    if (st == FS_OK)
        blur_fast_body(src, w, h, k, r, tmp, dst);
    return st;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The AVX2 blur keeps 32 outputs in four registers across all of a
 * kernel's taps, where the loops above load and store each output once a
 * tap (the stores bound them: one a cycle). Each output still adds its
 * taps from +0 in the order -r..r, as mul then add (no FMA in this
 * target), so the bits are blur_fast_body's. The row pass reads a copy of
 * the row with r zeros either side: a tap past the edge adds k * 0 = +0,
 * which leaves any sum as it was (a sum started at +0 is never -0), so the
 * edges need no branch and match the skipped taps bit for bit. Rows wider
 * than BLUR_PAD_MAX with their padding take blur_fast_body. */
#define BLUR_PAD_MAX 4096

/* out[x] = sum over j < taps of k[j] * src[j * step + x], for x < w: a
 * row's taps (step 1, on the padded row) or a column's (step w). */
__attribute__((target("avx2"))) static void blur_line_avx2(const float *src, ptrdiff_t step,
                                                           const float *k, int taps, int w,
                                                           float *out)
{
    int x = 0;
    for (; x + 32 <= w; x += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int j = 0; j < taps; j++) {
            const __m256 kk = _mm256_broadcast_ss(k + j);
            const float *p = src + (ptrdiff_t)j * step + x;
            a0 = _mm256_add_ps(a0, _mm256_mul_ps(kk, _mm256_loadu_ps(p)));
            a1 = _mm256_add_ps(a1, _mm256_mul_ps(kk, _mm256_loadu_ps(p + 8)));
            a2 = _mm256_add_ps(a2, _mm256_mul_ps(kk, _mm256_loadu_ps(p + 16)));
            a3 = _mm256_add_ps(a3, _mm256_mul_ps(kk, _mm256_loadu_ps(p + 24)));
        }
        _mm256_storeu_ps(out + x, a0);
        _mm256_storeu_ps(out + x + 8, a1);
        _mm256_storeu_ps(out + x + 16, a2);
        _mm256_storeu_ps(out + x + 24, a3);
    }
    for (; x + 8 <= w; x += 8) {
        __m256 a = _mm256_setzero_ps();
        for (int j = 0; j < taps; j++)
            a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_broadcast_ss(k + j),
                                               _mm256_loadu_ps(src + (ptrdiff_t)j * step + x)));
        _mm256_storeu_ps(out + x, a);
    }
    for (; x < w; x++) {
        float a = 0.0f;
        for (int j = 0; j < taps; j++)
            a += k[j] * src[(ptrdiff_t)j * step + x];
        out[x] = a;
    }
}

__attribute__((target("avx2"))) static void blur_fast_avx2(const float *src, int w, int h,
                                                           const float *k, int r, float *tmp,
                                                           float *dst)
{
    if (w + 2 * r > BLUR_PAD_MAX) {
        blur_fast_body(src, w, h, k, r, tmp, dst);
        return;
    }
    float pad[BLUR_PAD_MAX];
    memset(pad, 0, sizeof(float) * (size_t)r);
    memset(pad + r + w, 0, sizeof(float) * (size_t)r);
    for (int y = 0; y < h; y++) {
        memcpy(pad + r, src + (size_t)y * w, sizeof(float) * (size_t)w);
        blur_line_avx2(pad, 1, k, 2 * r + 1, w, tmp + (size_t)y * w);
    }
    for (int y = 0; y < h; y++) {
        const int i0 = y - r < 0 ? -y : -r, i1 = y + r >= h ? h - 1 - y : r;
        blur_line_avx2(tmp + (ptrdiff_t)(y + i0) * w, w, k + i0 + r, i1 - i0 + 1, w,
                       dst + (size_t)y * w);
    }
}
#endif

fs_status fs_compose_blur_fast(const fs_exec *ex, const float *src, int w, int h, const float *k,
                               int r, float *tmp, float *dst)
{
    const fs_status st = blur_check(ex, src, w, h, k, r, tmp, dst);
    if (st != FS_OK)
        return st;
#if defined(__x86_64__) && defined(__GNUC__)
    if (fs_cpu_has_avx2()) {
        blur_fast_avx2(src, w, h, k, r, tmp, dst);
        return FS_OK;
    }
#endif
    blur_fast_body(src, w, h, k, r, tmp, dst);
    return FS_OK;
}

void fs_compose_masked_quotient(const float *bmx, const float *bm, const float *x, size_t n,
                                float *out)
{
    size_t i = 0;
#ifdef __SSE2__
    /* Four at a time (the compiler keeps the branch and divides one by
     * one): the division of each lane is the scalar's, selected after. */
    const __m128 eps = _mm_set1_ps(1e-6f), one = _mm_set1_ps(1.0f);
    for (; i + 4 <= n; i += 4) {
        const __m128 b = _mm_loadu_ps(bm + i);
        const __m128 in = _mm_cmpgt_ps(b, eps);
        const __m128 q = _mm_div_ps(_mm_loadu_ps(bmx + i),
                                    _mm_or_ps(_mm_and_ps(in, b), _mm_andnot_ps(in, one)));
        _mm_storeu_ps(out + i, _mm_or_ps(_mm_and_ps(in, q), _mm_andnot_ps(in, _mm_loadu_ps(x + i))));
    }
#endif
    for (; i < n; i++) {
        const int in = bm[i] > 1e-6f;
        const float q = bmx[i] / (in ? bm[i] : 1.0f);
        out[i] = in ? q : x[i];
    }
}

/* out = t + a (s - t), rounded; a == 0 leaves the target byte untouched, so
 * pixels outside the mask stay bit-identical. */
static fs_status alpha_check(const fs_exec *ex, const uint8_t *src, const uint8_t *dst,
                             const float *alpha, int w, int h)
{
    if (!src || !dst || !alpha || w < 0 || h < 0)
        return fs_fail(FS_EXEC_ERR(ex), FS_ERR_INVALID_ARGUMENT, "alpha blend: bad arguments");
    return FS_OK;
}

fs_status fs_compose_alpha_u8_ref(const fs_exec *ex, const uint8_t *src, ptrdiff_t sstride,
                                  uint8_t *dst, ptrdiff_t dstride, const float *alpha,
                                  ptrdiff_t astride, int w, int h)
{
    const fs_status st = alpha_check(ex, src, dst, alpha, w, h);
    if (st != FS_OK)
        return st;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const float a = alpha[(size_t)y * astride + x];
            if (!(a > 0.0f))
                continue;
            const float aa = a < 1.0f ? a : 1.0f;
            for (int c = 0; c < 3; c++) {
                uint8_t *d = &dst[(size_t)y * dstride + 3 * x + c];
                const float s = src[(size_t)y * sstride + 3 * x + c];
                const float v = (float)*d + aa * (s - (float)*d);
                *d = (uint8_t)(v + 0.5f);
            }
        }
    return FS_OK;
}

/* Same arithmetic without the per-pixel skip: at a = 0 it computes
 * t + 0 * (s - t) = t exactly, so the bytes equal the reference's. */
fs_status fs_compose_alpha_u8_fast(const fs_exec *ex, const uint8_t *src, ptrdiff_t sstride,
                                   uint8_t *dst, ptrdiff_t dstride, const float *alpha,
                                   ptrdiff_t astride, int w, int h)
{
    const fs_status st = alpha_check(ex, src, dst, alpha, w, h);
    if (st != FS_OK)
        return st;
    for (int y = 0; y < h; y++) {
        const uint8_t *s = src + (size_t)y * sstride;
        uint8_t *d = dst + (size_t)y * dstride;
        const float *al = alpha + (size_t)y * astride;
        for (int x = 0; x < w; x++) {
            float a = al[x] > 0.0f ? al[x] : 0.0f; /* NaN gives 0 as in the reference */
            a = a < 1.0f ? a : 1.0f;
            for (int c = 0; c < 3; c++) {
                const float t = (float)d[3 * x + c];
                const float v = t + a * ((float)s[3 * x + c] - t);
                d[3 * x + c] = (uint8_t)(v + 0.5f);
            }
        }
    }
    return FS_OK;
}

void fs_compose_ops_init_reference(fs_compose_ops *ops)
{
    ops->blur = fs_compose_blur_ref;
    ops->alpha_u8 = fs_compose_alpha_u8_ref;
    /* The whole stages have one implementation each, plain C, whose inner
     * blur and alpha loops take the table's entries. */
    ops->mask_erode = fs_mask_erode;
    ops->mask_feather = fs_mask_feather;
    ops->colour_match = fs_colour_match_lab;
    ops->colour_lab_stats = fs_colour_lab_stats;
    ops->colour_match_to = fs_colour_match_lab_to;
    ops->colour_shading = fs_colour_shading_transfer;
    ops->colour_chroma = fs_colour_chroma_transfer;
    ops->colour_detail = fs_colour_match_sharpness;
    ops->blend_multiband_u8 = fs_blend_multiband_u8;
    ops->blend_poisson_u8 = fs_blend_poisson_u8;
}

void fs_compose_ops_init_fast(fs_compose_ops *ops)
{
    ops->blur = fs_compose_blur_fast;
    ops->alpha_u8 = fs_compose_alpha_u8_fast;
    /* Whole stages with float CIELAB from tables and a float noise
     * transform (lib/compose/colour.h: within an 8-bit level of the
     * references). */
    ops->colour_match_to = fs_colour_match_lab_to_fast;
    ops->colour_lab_stats = fs_colour_lab_stats_fast;
    ops->colour_detail = fs_colour_match_sharpness_fast;
}

fs_status fs_compose_masked_blur(const fs_exec *ex, const fs_compose_ops *ops, const float *x,
                                 const float *m, int w, int h, double sigma, float *out)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    fs_status st = fs_compose_check_size(err, w, h);
    if (st != FS_OK)
        return st;
    if (!ops || !x || !m || !out || !(sigma >= 0.0))
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_compose_masked_blur: bad arguments");
    const size_t n = (size_t)w * h;
    float *buf = fs_tmp_alloc(sizeof(float) * n * 4);
    if (!buf)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_compose_masked_blur: out of memory");
    float *mx = buf, *bm = buf + n, *bmx = buf + 2 * n, *tmp = buf + 3 * n;
    float k[2 * FS_COMPOSE_MAX_RADIUS + 1];
    const int r = fs_compose_gauss_kernel(sigma, k);
    for (size_t i = 0; i < n; i++)
        mx[i] = m[i] * x[i];
    st = ops->blur(ex, mx, w, h, k, r, tmp, bmx);
    if (st == FS_OK)
        st = ops->blur(ex, m, w, h, k, r, tmp, bm);
    if (st == FS_OK)
        fs_compose_masked_quotient(bmx, bm, x, n, out);
    fs_tmp_free(buf);
    return st;
}
