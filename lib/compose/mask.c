/*
 * Mask erosion, dilation and feathering from an exact Euclidean distance
 * transform (Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled
 * Functions", 2012: the squared distance is a lower envelope of parabolas,
 * computed in linear time per row and column).
 */
#include "compose/mask.h"
#include "scratch.h"

#include <math.h>
#include <stdlib.h>

fs_status fs_compose_check_size(fs_error_buf *err, int w, int h)
{
    if (w <= 0 || h <= 0 || w > FS_COMPOSE_MAX_SIDE || h > FS_COMPOSE_MAX_SIDE)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "compose: window %dx%d outside 1..%d", w, h,
                       FS_COMPOSE_MAX_SIDE);
    return FS_OK;
}

/* Each pixel's distance along its column to the nearest background pixel
 * (0 on background), capped at @p cap: a sweep down and one up over whole
 * rows, which vectorise. Integer values, exact in float. */
FS_AVX2_CLONE static void column_sweeps(const uint8_t *mask, int w, int h, ptrdiff_t stride,
                                        float cap, float *out)
{
    for (int y = 0; y < h; y++) {
        const uint8_t *m = mask + (size_t)y * stride;
        float *row = out + (size_t)y * w;
        const float *up = y > 0 ? row - w : NULL;
        for (int x = 0; x < w; x++) {
            const float above = up ? up[x] + 1.0f : cap;
            row[x] = m[x] ? (above < cap ? above : cap) : 0.0f;
        }
    }
    for (int y = h - 2; y >= 0; y--) {
        float *row = out + (size_t)y * w;
        const float *down = row + w;
        for (int x = 0; x < w; x++) {
            const float below = down[x] + 1.0f;
            row[x] = below < row[x] ? below : row[x];
        }
    }
}

/* One 1D pass: d[i] = min_j (f[j] + (i - j)^2) over n samples. v (n ints)
 * and z (n + 1 floats) are scratch. Samples with f = FAR take no part, so a
 * line with no finite sample stays FAR (the envelope is empty). */
static void edt_1d(const float *f, int n, float *d, int *v, float *z)
{
    int k = -1;
    for (int q = 0; q < n; q++) {
        if (f[q] >= FS_MASK_FAR)
            continue;
        float s = 0.0f;
        while (k >= 0) {
            const int p = v[k];
            /* Intersection of the parabolas rooted at p and q. Exact in
             * double for any side up to FS_COMPOSE_MAX_SIDE. */
            s = (float)(((double)f[q] + (double)q * q - ((double)f[p] + (double)p * p)) /
                        (2.0 * (q - p)));
            if (s <= z[k])
                k--;
            else
                break;
        }
        k++;
        v[k] = q;
        z[k] = k == 0 ? -INFINITY : s;
        z[k + 1] = INFINITY;
    }
    if (k < 0) {
        for (int q = 0; q < n; q++)
            d[q] = FS_MASK_FAR;
        return;
    }
    int j = 0;
    for (int q = 0; q < n; q++) {
        while (z[j + 1] < (float)q)
            j++;
        const double dq = (double)q - v[j];
        d[q] = (float)(dq * dq + f[v[j]]);
    }
}

fs_status fs_mask_distance2(fs_error_buf *err, const uint8_t *mask, int w, int h,
                            ptrdiff_t stride, int border_is_background, float *d2)
{
    fs_status st = fs_compose_check_size(err, w, h);
    if (st != FS_OK)
        return st;
    if (!mask || !d2 || stride < w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_mask_distance2: bad arguments");
    const int n = w > h ? w : h;
    float *f = fs_tmp_calloc((size_t)n, sizeof(float)); /* calloc: gcc cannot see h > 0 */
    float *z = fs_tmp_alloc(sizeof(float) * (size_t)(n + 1));
    int *v = fs_tmp_alloc(sizeof(int) * (size_t)n);
    if (!f || !z || !v) {
        fs_tmp_free(f), fs_tmp_free(z), fs_tmp_free(v);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_mask_distance2: out of memory");
    }
    /* Columns: distance along y to the nearest background pixel of the
     * column. For a 0 / FAR input the envelope of parabolas is that
     * distance squared, so two sweeps over whole rows (cache-friendly, and
     * they vectorise) give edt_1d's values exactly: integer distances, FAR
     * for a column without background. The sweeps count in d2 itself. */
    const float none = (float)FS_COMPOSE_MAX_SIDE * 4.0f; /* beyond any real distance */
    column_sweeps(mask, w, h, stride, none, d2);
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
        d2[i] = d2[i] >= none ? FS_MASK_FAR : d2[i] * d2[i];
    /* Rows: combine the column distances. */
    for (int y = 0; y < h; y++) {
        float *row = d2 + (size_t)y * w;
        for (int x = 0; x < w; x++)
            f[x] = row[x];
        edt_1d(f, w, row, v, z);
    }
    if (border_is_background) {
        /* The nearest pixel beyond the window is straight across an edge:
         * at axis distance x + 1, w - x, y + 1 or h - y. */
        for (int y = 0; y < h; y++) {
            const int dy = (y + 1 < h - y ? y + 1 : h - y);
            for (int x = 0; x < w; x++) {
                const int dx = (x + 1 < w - x ? x + 1 : w - x);
                const int e = dx < dy ? dx : dy;
                float *p = &d2[(size_t)y * w + x];
                if ((float)e * (float)e < *p)
                    *p = (float)e * (float)e;
            }
        }
    }
    fs_tmp_free(f), fs_tmp_free(z), fs_tmp_free(v);
    return FS_OK;
}

/*
 * Squared distances to the nearest background pixel, exact wherever they
 * are at most r2 = radius^2 and above r2 elsewhere: what erosion and
 * feathering by a small radius need (their results then equal those of the
 * full transform bit for bit). The column distances come from two sweeps,
 * capped at R + 1 (R = floor(radius)); the row pass is a minimum of dx^2 +
 * col^2 over |dx| <= R only, since a nearer point farther than R along the
 * row would be farther than the radius. 2R + 1 taps of branch-free,
 * vectorised work per pixel beat the envelope's divisions for small R.
 * All values are integers below 2^24, exact in float.
 */
FS_AVX2_CLONE static fs_status distance2_near(fs_error_buf *err, const uint8_t *mask, int w,
                                              int h, ptrdiff_t stride, int border_is_background,
                                              int R, float *d2)
{
    float *col = fs_tmp_alloc(sizeof(float) * (size_t)w * (size_t)h);
    if (!col)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "compose mask: out of memory");
    column_sweeps(mask, w, h, stride, (float)(R + 1), col);
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
        col[i] *= col[i];
    for (int y = 0; y < h; y++) {
        const float *c = col + (size_t)y * w;
        float *o = d2 + (size_t)y * w;
        for (int x = 0; x < w; x++)
            o[x] = c[x];
        /* Taps beyond the window's edge do not exist (not background):
         * the left taps start at x = dx, the right ones stop at w - dx. */
        for (int dx = 1; dx <= R && dx < w; dx++) {
            const float q = (float)(dx * dx);
            for (int x = dx; x < w; x++) {
                const float v = c[x - dx] + q;
                o[x] = v < o[x] ? v : o[x];
            }
            for (int x = 0; x < w - dx; x++) {
                const float v = c[x + dx] + q;
                o[x] = v < o[x] ? v : o[x];
            }
        }
    }
    fs_tmp_free(col);
    if (border_is_background)
        for (int y = 0; y < h; y++) {
            const int dy = (y + 1 < h - y ? y + 1 : h - y);
            for (int x = 0; x < w; x++) {
                const int dx = (x + 1 < w - x ? x + 1 : w - x);
                const int e = dx < dy ? dx : dy;
                float *p = &d2[(size_t)y * w + x];
                if ((float)e * (float)e < *p)
                    *p = (float)e * (float)e;
            }
        }
    return FS_OK;
}

/* Radii up to this take distance2_near; beyond, its taps cost more than
 * the full transform. */
#define NEAR_MAX_R 16

static fs_status alloc_d2(fs_error_buf *err, int w, int h, float **out)
{
    *out = fs_tmp_alloc(sizeof(float) * (size_t)w * (size_t)h);
    if (!*out)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "compose mask: out of memory");
    return FS_OK;
}

fs_status fs_mask_erode(const fs_exec *ex, const uint8_t *mask, int w, int h, ptrdiff_t stride,
                        double radius, int border_is_background, uint8_t *out,
                        ptrdiff_t out_stride)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    fs_status st = fs_compose_check_size(err, w, h);
    if (st != FS_OK)
        return st;
    if (!out || out_stride < w || !(radius >= 0.0) || radius > FS_COMPOSE_MAX_SIDE)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_mask_erode: bad arguments");
    if (!mask || stride < w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_mask_erode: bad arguments");
    float *d2;
    if ((st = alloc_d2(err, w, h, &d2)) != FS_OK)
        return st;
    if (radius < NEAR_MAX_R + 1)
        st = distance2_near(err, mask, w, h, stride, border_is_background, (int)radius, d2);
    else
        st = fs_mask_distance2(err, mask, w, h, stride, border_is_background, d2);
    if (st != FS_OK) {
        fs_tmp_free(d2);
        return st;
    }
    /* A pixel survives when the nearest background pixel is farther than
     * the radius; squared distances are exact integers, so compare in double. */
    const double r2 = radius * radius;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            out[(size_t)y * out_stride + x] = (double)d2[(size_t)y * w + x] > r2;
    fs_tmp_free(d2);
    return FS_OK;
}

fs_status fs_mask_dilate(fs_error_buf *err, const uint8_t *mask, int w, int h, ptrdiff_t stride,
                         double radius, uint8_t *out, ptrdiff_t out_stride)
{
    fs_status st = fs_compose_check_size(err, w, h);
    if (st != FS_OK)
        return st;
    if (!mask || stride < w || !out || out_stride < w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_mask_dilate: bad arguments");
    uint8_t *inv = fs_tmp_calloc((size_t)w * (size_t)h, 1);
    if (!inv)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_mask_dilate: out of memory");
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            inv[(size_t)y * w + x] = mask[(size_t)y * stride + x] == 0;
    st = fs_mask_erode(FS_EXEC_SERIAL(err), inv, w, h, w, radius, 0, inv, w);
    if (st == FS_OK)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                out[(size_t)y * out_stride + x] = inv[(size_t)y * w + x] == 0;
    fs_tmp_free(inv);
    return st;
}

fs_status fs_mask_feather(const fs_exec *ex, const uint8_t *mask, int w, int h, ptrdiff_t stride,
                          double feather, int border_is_background, float *alpha,
                          ptrdiff_t alpha_stride)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    fs_status st = fs_compose_check_size(err, w, h);
    if (st != FS_OK)
        return st;
    if (!alpha || alpha_stride < w || !(feather >= -1e300) || feather > FS_COMPOSE_MAX_SIDE)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_mask_feather: bad arguments");
    if (!mask || stride < w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_mask_feather: bad arguments");
    float *d2;
    if ((st = alloc_d2(err, w, h, &d2)) != FS_OK)
        return st;
    /* Beyond the feather alpha is 1: only nearer distances need be exact. */
    if (feather > 0.0 && feather < NEAR_MAX_R + 1)
        st = distance2_near(err, mask, w, h, stride, border_is_background, (int)feather, d2);
    else
        st = fs_mask_distance2(err, mask, w, h, stride, border_is_background, d2);
    if (st != FS_OK) {
        fs_tmp_free(d2);
        return st;
    }
    /* Well beyond the feather (q above its square with a margin far wider
     * than any rounding) sqrt(q) / feather is above 1: alpha is 1 without
     * the square root. */
    const double full = feather > 0.0 ? feather * feather * (1.0 + 1e-9) : 0.0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const float q = d2[(size_t)y * w + x];
            float a;
            if (q <= 0.0f)
                a = 0.0f;
            else if (feather <= 0.0 || q >= FS_MASK_FAR || (double)q > full)
                a = 1.0f;
            else {
                const double r = sqrt((double)q) / feather;
                a = (float)(r < 1.0 ? r : 1.0); /* fmin's value: r is never NaN */
            }
            alpha[(size_t)y * alpha_stride + x] = a;
        }
    fs_tmp_free(d2);
    return FS_OK;
}
