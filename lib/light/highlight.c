/*
 * Specular highlights: see shading.h (fs_light_highlights).
 */
#include "light/shading.h"
#include "scratch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

/* The column pass of fs_light_masked_box: @p acc (4 doubles a pixel)
 * holds the sums of the first r rows' window sums in @p row; each output
 * row adds the row entering the window and takes off the one leaving it,
 * then divides by the count. */
static void box_columns(const float *row, double *acc, int w, int h, int r, const float *in,
                        float *out, uint8_t *held)
{
    for (int y = 0; y < h; y++) {
        const int ya = y + r, yd = y - r - 1;
        for (size_t i = 0; ya < h && i < (size_t)w * 4; i++)
            acc[i] += row[(size_t)ya * (size_t)w * 4 + i];
        for (size_t i = 0; yd >= 0 && i < (size_t)w * 4; i++)
            acc[i] -= row[(size_t)yd * (size_t)w * 4 + i];
        for (int x = 0; x < w; x++) {
            const size_t t = (size_t)y * (size_t)w + (size_t)x;
            const double *a = acc + 4 * (size_t)x;
            const int any = a[3] > 0.5;
            for (int k = 0; k < 3; k++)
                out[3 * t + (size_t)k] = any ? (float)(a[k] / a[3]) : in[3 * t + (size_t)k];
            if (held)
                held[t] = (uint8_t)any;
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same pass with a pixel's four sums in one register: the same double
 * additions and divisions, lane by lane, so the same bits (the scalar
 * loops stored each sum back on every step; they were two thirds of the
 * filter's time). */
__attribute__((target("avx2"))) static void box_columns_avx2(const float *row, double *acc, int w,
                                                             int h, int r, const float *in,
                                                             float *out, uint8_t *held)
{
    for (int y = 0; y < h; y++) {
        const int ya = y + r, yd = y - r - 1;
        const float *ra = ya < h ? row + (size_t)ya * (size_t)w * 4 : NULL;
        const float *rd = yd >= 0 ? row + (size_t)yd * (size_t)w * 4 : NULL;
        for (int x = 0; x < w; x++) {
            const size_t t = (size_t)y * (size_t)w + (size_t)x;
            double *a = acc + 4 * (size_t)x;
            __m256d v = _mm256_loadu_pd(a);
            if (ra)
                v = _mm256_add_pd(v, _mm256_cvtps_pd(_mm_loadu_ps(ra + 4 * (size_t)x)));
            if (rd)
                v = _mm256_sub_pd(v, _mm256_cvtps_pd(_mm_loadu_ps(rd + 4 * (size_t)x)));
            _mm256_storeu_pd(a, v);
            const int any = a[3] > 0.5;
            if (any) {
                float q[4];
                _mm_storeu_ps(q, _mm256_cvtpd_ps(_mm256_div_pd(v, _mm256_permute4x64_pd(v, 0xff))));
                out[3 * t] = q[0];
                out[3 * t + 1] = q[1];
                out[3 * t + 2] = q[2];
            } else {
                out[3 * t] = in[3 * t];
                out[3 * t + 1] = in[3 * t + 1];
                out[3 * t + 2] = in[3 * t + 2];
            }
            if (held)
                held[t] = (uint8_t)any;
        }
    }
}
#endif

static int masked_box(const float *in, const uint8_t *m, int w, int h, int r, float *out,
                      uint8_t *held, int simd)
{
    /* Separable running sums: each row's window sums (three channels and the
     * mask's count), then a running sum of those down each column; the sums
     * in double, so that adding and taking off along a line loses nothing
     * that matters. */
    const size_t n = (size_t)w * (size_t)h;
    float *row = fs_tmp_alloc(n * 4 * sizeof(float));
    double *acc = fs_tmp_calloc((size_t)w * 4, sizeof(double));
    if (!row || !acc) {
        fs_tmp_free(acc);
        fs_tmp_free(row);
        return 0;
    }
    for (int y = 0; y < h; y++) {
        const size_t o = (size_t)y * (size_t)w;
        const float *ir = in + 3 * o;
        const uint8_t *mr = m + o;
        float *rr = row + 4 * o;
        /* Four scalars, not an array: kept in registers, where an array's
         * stores and reloads stalled every pixel (the same sums, in the same
         * order). */
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        /* The window of x = 0 without its last column, which the loop adds. */
        for (int x = 0; x < r && x < w; x++)
            if (mr[x]) {
                s0 += ir[3 * x];
                s1 += ir[3 * x + 1];
                s2 += ir[3 * x + 2];
                s3 += 1.0;
            }
        for (int x = 0; x < w; x++) {
            const int xa = x + r, xd = x - r - 1;
            if (xa < w && mr[xa]) {
                s0 += ir[3 * xa];
                s1 += ir[3 * xa + 1];
                s2 += ir[3 * xa + 2];
                s3 += 1.0;
            }
            if (xd >= 0 && mr[xd]) {
                s0 -= ir[3 * xd];
                s1 -= ir[3 * xd + 1];
                s2 -= ir[3 * xd + 2];
                s3 -= 1.0;
            }
            rr[4 * x] = (float)s0;
            rr[4 * x + 1] = (float)s1;
            rr[4 * x + 2] = (float)s2;
            rr[4 * x + 3] = (float)s3;
        }
    }
    for (int y = 0; y < r && y < h; y++)
        for (size_t i = 0; i < (size_t)w * 4; i++)
            acc[i] += row[(size_t)y * (size_t)w * 4 + i];
#if defined(__x86_64__) && defined(__GNUC__)
    if (simd && fs_cpu_has_avx2())
        box_columns_avx2(row, acc, w, h, r, in, out, held);
    else
#endif
        box_columns(row, acc, w, h, r, in, out, held);
    fs_tmp_free(acc);
    fs_tmp_free(row);
    return 1;
}

int fs_light_masked_box(const float *in, const uint8_t *m, int w, int h, int r, float *out,
                        uint8_t *held)
{
    return masked_box(in, m, w, h, r, out, held, 1);
}

int fs_light_masked_box_scalar(const float *in, const uint8_t *m, int w, int h, int r,
                               float *out, uint8_t *held)
{
    return masked_box(in, m, w, h, r, out, held, 0);
}

int fs_light_highlights(const float *lin, const uint8_t *local_from, const uint8_t *may, int w,
                        int h, int fine_r, int wide_r, float margin, float *excess,
                        float *local)
{
    const size_t n = (size_t)w * (size_t)h;
    uint8_t *m = fs_tmp_alloc(n);
    float *fine = fs_tmp_alloc(n * 3 * sizeof(float));
    int ok = m && fine;
    if (ok) {
        memcpy(m, local_from, n);
        ok = fs_light_masked_box(lin, may, w, h, fine_r, fine, NULL);
    }
    for (int pass = 0; pass < 2 && ok; pass++) {
        ok = fs_light_masked_box(lin, m, w, h, wide_r, local, NULL);
        /* The second pass measures the local albedo without the first's
         * highlights, which would raise it. */
        for (size_t t = 0; t < n && ok; t++)
            if (m[t] && fs_luma709(fine + 3 * t) > margin * fs_luma709(local + 3 * t))
                m[t] = 0;
    }
    for (size_t t = 0; t < n && ok; t++) {
        const float ly = fs_luma709(local + 3 * t), e = fs_luma709(fine + 3 * t) - margin * ly;
        excess[t] = may[t] && ly > 0.0f && e > 0.0f ? e : 0.0f;
    }
    fs_tmp_free(fine);
    fs_tmp_free(m);
    return ok;
}
