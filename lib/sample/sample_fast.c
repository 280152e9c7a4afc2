/*
 * Faster bilinear samplers for axis-aligned descriptors (every tfjs resize
 * and crop): the per-column and per-row coordinates, indices and weights
 * are computed once per call instead of once per pixel, and the pixel loop
 * reads the source rows directly. The float operations per sample are the
 * reference's, in the same order, so results are bit-identical (the test
 * compares with tolerance 0). Rotated descriptors (the fitter's crops turned
 * by the face's roll) keep the reference's per-pixel double coordinates
 * (m[1] * y and m[4] * y once per row: the same values, added in the same
 * order), with the descriptor in locals and the four taps read inline: the
 * reference's per-tap calls and its floor() and ceil() made those crops
 * 1.3 ms each, two a fit, on one core of a poster's 70.
 */
#include "sample/sample.h"

#include <math.h>
#include <stdlib.h>

#include "faceswap/image.h"

typedef struct axis_entry {
    size_t o0, o1; /* element offsets of the two neighbours (row or column) */
    float a;       /* weight of the second */
    int inside;    /* 0: ZERO border, outside the image */
} axis_entry;

/* As axis_f32 in sample_ref.c, for output indices 0 .. n-1. */
static void axis_table(axis_entry *t, int n, int flip, float m, float o, int size,
                       fs_border border, size_t unit)
{
    const float last = (float)(size - 1);
    for (int i = 0; i < n; i++) {
        const int is = flip ? n - 1 - i : i;
        float s = o + (float)is * m;
        int i0, i1;
        float lo;
        if (border == FS_BORDER_ZERO) {
            if (!(s >= 0.0f && s <= last)) {
                t[i] = (axis_entry){0, 0, 0.0f, 0};
                continue;
            }
            lo = floorf(s);
            i0 = (int)lo;
            i1 = (int)ceilf(s);
        } else {
            if (!(s >= 0.0f))
                s = 0.0f;
            else if (s > last)
                s = last;
            lo = floorf(s);
            i0 = (int)lo;
            i1 = i0 + 1 < size ? i0 + 1 : size - 1;
        }
        t[i] = (axis_entry){(size_t)i0 * unit, (size_t)i1 * unit, s - lo, 1};
    }
}

typedef struct tables {
    axis_entry *cols, *rows;
    axis_entry stack[2 * 512];
} tables;

static int make_tables(tables *tb, const fs_sample_desc *d, int width, int height,
                       size_t col_unit, size_t row_unit)
{
    const size_t n = (size_t)d->out_w + (size_t)d->out_h;
    tb->cols = n <= sizeof(tb->stack) / sizeof(tb->stack[0]) ? tb->stack
                                                            : malloc(n * sizeof(axis_entry));
    if (!tb->cols)
        return 0;
    tb->rows = tb->cols + d->out_w;
    axis_table(tb->cols, d->out_w, d->flip_x, (float)d->m[0], (float)d->m[2], width, d->border,
               col_unit);
    axis_table(tb->rows, d->out_h, 0, (float)d->m[4], (float)d->m[5], height, d->border,
               row_unit);
    return 1;
}

static void free_tables(tables *tb)
{
    if (tb->cols != tb->stack)
        free(tb->cols);
}

static int fast_applies(const fs_sample_desc *d, int width, int height)
{
    return d && d->m[1] == 0.0 && d->m[3] == 0.0 && width > 0 && height > 0 && d->out_w > 0 &&
           d->out_h > 0;
}

static int rotated_applies(const fs_sample_desc *d, int width, int height)
{
    return d && !(d->m[1] == 0.0 && d->m[3] == 0.0) && width > 0 && height > 0 &&
           d->out_w > 0 && d->out_h > 0;
}

/* The reference's axis_f64 (sample_ref.c), inline. On [0, size - 1] the
 * truncation is the floor, and ceil(s) is floor(s) + (s > floor(s)): the
 * same indices without the two libm calls a pixel that made the rotated
 * crop cost 36 ns a pixel. */
static inline int axis_d(double s, int size, fs_border border, int *i0, int *i1, float *a)
{
    const double last = (double)(size - 1);
    if (border == FS_BORDER_ZERO) {
        if (!(s >= 0.0 && s <= last))
            return 0;
        const int k = (int)s;
        const double lo = (double)k;
        *i0 = k;
        *i1 = k + (s > lo);
        *a = (float)(s - lo);
        return 1;
    }
    if (!(s >= 0.0))
        s = 0.0;
    else if (s > last)
        s = last;
    const int k = (int)s;
    *i0 = k;
    *i1 = k + 1 < size ? k + 1 : size - 1;
    *a = (float)(s - (double)k);
    return 1;
}

#define LERP_STORE(tl, tr, bl, br)                                   \
    do {                                                             \
        const float top = (tl) + ((tr) - (tl)) * ax;                 \
        const float bottom = (bl) + ((br) - (bl)) * ax;              \
        const float v = top + (bottom - top) * ay;                   \
        *out++ = v * scale + offset;                                 \
    } while (0)

/* The rotated loop for a source of element type T with @p step elements per
 * pixel, @p row elements per row and channels at c0, c1, c2; each sample
 * as LERP_STORE takes it. */
#define ROTATED_LOOP(T, src, step, row, c0, c1, c2)                                        \
    do {                                                                                   \
        /* locals: the stores through out could alias the descriptor */                    \
        const float scale = d->scale, offset = d->offset;                                  \
        const float border_v = 0.0f * scale + offset;                                      \
        const double m0 = d->m[0], m1 = d->m[1], m2 = d->m[2];                             \
        const double m3 = d->m[3], m4 = d->m[4], m5 = d->m[5];                             \
        const int flip = d->flip_x;                                                        \
        const fs_border bd = d->border;                                                    \
        const int ow = d->out_w, oh = d->out_h;                                            \
        float *out = dst;                                                                  \
        for (int y = 0; y < oh; y++) {                                                     \
            const double ry = m1 * y, ry2 = m4 * y;                                        \
            for (int x = 0; x < ow; x++) {                                                 \
                const int xs = flip ? ow - 1 - x : x;                                      \
                const double sx = m0 * xs + ry + m2;                                       \
                const double sy = m3 * xs + ry2 + m5;                                      \
                int x0, x1, y0, y1;                                                        \
                float ax, ay;                                                              \
                int inside = axis_d(sx, width, bd, &x0, &x1, &ax);                         \
                inside = axis_d(sy, height, bd, &y0, &y1, &ay) && inside;                  \
                if (!inside) {                                                             \
                    out[0] = out[1] = out[2] = border_v;                                   \
                    out += 3;                                                              \
                    continue;                                                              \
                }                                                                          \
                const T *const r0 = (src) + (size_t)y0 * (row), *const r1 = (src) + (size_t)y1 * (row); \
                const T *const tl = r0 + (size_t)x0 * (step), *const tr = r0 + (size_t)x1 * (step); \
                const T *const bl = r1 + (size_t)x0 * (step), *const br = r1 + (size_t)x1 * (step); \
                LERP_STORE((float)tl[c0], (float)tr[c0], (float)bl[c0], (float)br[c0]);   \
                LERP_STORE((float)tl[c1], (float)tr[c1], (float)bl[c1], (float)br[c1]);   \
                LERP_STORE((float)tl[c2], (float)tr[c2], (float)bl[c2], (float)br[c2]);   \
            }                                                                              \
        }                                                                                  \
    } while (0)


fs_status fs_sample_u8_fast(const fs_exec *ex, const uint8_t *src, int width, int height,
                            int stride, int format, const fs_sample_desc *d, float *dst)
{
    int step, c0, c1, c2;
    switch (format) {
    case FS_PIXEL_RGB8:  step = 3; c0 = 0; c1 = 1; c2 = 2; break;
    case FS_PIXEL_RGBA8: step = 4; c0 = 0; c1 = 1; c2 = 2; break;
    case FS_PIXEL_BGR8:  step = 3; c0 = 2; c1 = 1; c2 = 0; break;
    case FS_PIXEL_BGRA8: step = 4; c0 = 2; c1 = 1; c2 = 0; break;
    case FS_PIXEL_GRAY8: step = 1; c0 = 0; c1 = 0; c2 = 0; break;
    default: step = 0; c0 = c1 = c2 = 0; break;
    }
    if (src && dst && step && stride >= width * step && rotated_applies(d, width, height)) {
        const size_t row = (size_t)stride;
        if (step == 3 && c0 == 0)
            ROTATED_LOOP(uint8_t, src, 3, row, 0, 1, 2);
        else
            ROTATED_LOOP(uint8_t, src, (size_t)step, row, c0, c1, c2);
        return FS_OK;
    }
    tables tb;
    if (!src || !dst || !step || stride < width * step || !fast_applies(d, width, height) ||
        !make_tables(&tb, d, width, height, (size_t)step, (size_t)stride)) {
        return fs_sample_u8_ref(ex, src, width, height, stride, format, d, dst);
    }
    const float scale = d->scale, offset = d->offset, border = 0.0f * scale + offset;
    float *out = dst;
    for (int y = 0; y < d->out_h; y++) {
        const axis_entry *ry = &tb.rows[y];
        if (!ry->inside) {
            for (int i = 0; i < d->out_w * 3; i++)
                *out++ = border;
            continue;
        }
        const uint8_t *const r0 = src + ry->o0, *const r1 = src + ry->o1;
        const float ay = ry->a;
        for (int x = 0; x < d->out_w; x++) {
            const axis_entry *cx = &tb.cols[x];
            if (!cx->inside) {
                out[0] = out[1] = out[2] = border;
                out += 3;
                continue;
            }
            const float ax = cx->a;
            const uint8_t *const tl = r0 + cx->o0, *const tr = r0 + cx->o1;
            const uint8_t *const bl = r1 + cx->o0, *const br = r1 + cx->o1;
            LERP_STORE((float)tl[c0], (float)tr[c0], (float)bl[c0], (float)br[c0]);
            LERP_STORE((float)tl[c1], (float)tr[c1], (float)bl[c1], (float)br[c1]);
            LERP_STORE((float)tl[c2], (float)tr[c2], (float)bl[c2], (float)br[c2]);
        }
    }
    free_tables(&tb);
    return FS_OK;
}

fs_status fs_sample_f32_fast(const fs_exec *ex, const float *src, int width, int height,
                             const fs_sample_desc *d, float *dst)
{
    if (src && dst && rotated_applies(d, width, height)) {
        ROTATED_LOOP(float, src, 3, (size_t)width * 3, 0, 1, 2);
        return FS_OK;
    }
    tables tb;
    if (!src || !dst || !fast_applies(d, width, height) ||
        !make_tables(&tb, d, width, height, 3, (size_t)width * 3)) {
        return fs_sample_f32_ref(ex, src, width, height, d, dst);
    }
    const float scale = d->scale, offset = d->offset, border = 0.0f * scale + offset;
    float *out = dst;
    for (int y = 0; y < d->out_h; y++) {
        const axis_entry *ry = &tb.rows[y];
        if (!ry->inside) {
            for (int i = 0; i < d->out_w * 3; i++)
                *out++ = border;
            continue;
        }
        const float *const r0 = src + ry->o0, *const r1 = src + ry->o1;
        const float ay = ry->a;
        for (int x = 0; x < d->out_w; x++) {
            const axis_entry *cx = &tb.cols[x];
            if (!cx->inside) {
                out[0] = out[1] = out[2] = border;
                out += 3;
                continue;
            }
            const float ax = cx->a;
            const float *const tl = r0 + cx->o0, *const tr = r0 + cx->o1;
            const float *const bl = r1 + cx->o0, *const br = r1 + cx->o1;
            for (int c = 0; c < 3; c++)
                LERP_STORE(tl[c], tr[c], bl[c], br[c]);
        }
    }
    free_tables(&tb);
    return FS_OK;
}

void fs_sample_ops_init_fast(fs_sample_ops *ops)
{
    ops->u8 = fs_sample_u8_fast;
    ops->f32 = fs_sample_f32_fast;
}
