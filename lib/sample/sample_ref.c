/*
 * Plain-C reference of the bilinear samplers (see sample/sample.h for the exact
 * coordinate rules). Written for clarity: one output pixel at a time.
 *
 * Every float expression below is meant to round after each operation, as
 * the tfjs WASM kernels do; the build uses -std=c11, where GCC does not
 * contract a * b + c into a fused multiply-add.
 */
#include "sample/sample.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "faceswap/image.h"
#include "internal.h"

/* Where to read the three RGB channels of one source pixel. */
typedef struct src_view {
    const uint8_t *u8;  /* one of u8 / f32 is set */
    const float *f32;
    int width, height;
    size_t stride;      /* elements per row */
    int step;           /* elements per pixel */
    int ch[3];          /* element offsets of R, G, B inside a pixel */
} src_view;

static void fetch(const src_view *s, int x, int y, float px[3])
{
    const size_t at = (size_t)y * s->stride + (size_t)x * (size_t)s->step;
    if (s->u8) {
        for (int c = 0; c < 3; c++)
            px[c] = (float)s->u8[at + (size_t)s->ch[c]];
    } else {
        for (int c = 0; c < 3; c++)
            px[c] = s->f32[at + (size_t)s->ch[c]];
    }
}

/* One axis, float32 coordinate (the tfjs path). Returns 0 when a ZERO
 * border puts the sample outside. */
static int axis_f32(float s, int size, fs_border border, int *i0, int *i1, float *a)
{
    const float last = (float)(size - 1);
    if (border == FS_BORDER_ZERO) {
        if (!(s >= 0.0f && s <= last))
            return 0;
        const float lo = floorf(s);
        *i0 = (int)lo;
        *i1 = (int)ceilf(s);
        *a = s - lo;
        return 1;
    }
    if (!(s >= 0.0f))
        s = 0.0f;
    else if (s > last)
        s = last;
    const float lo = floorf(s);
    *i0 = (int)lo;
    *i1 = *i0 + 1 < size ? *i0 + 1 : size - 1;
    *a = s - lo;
    return 1;
}

/* One axis, double coordinate (rotated descriptors). */
static int axis_f64(double s, int size, fs_border border, int *i0, int *i1, float *a)
{
    const double last = (double)(size - 1);
    if (border == FS_BORDER_ZERO) {
        if (!(s >= 0.0 && s <= last))
            return 0;
        const double lo = floor(s);
        *i0 = (int)lo;
        *i1 = (int)ceil(s);
        *a = (float)(s - lo);
        return 1;
    }
    if (!(s >= 0.0))
        s = 0.0;
    else if (s > last)
        s = last;
    const double lo = floor(s);
    *i0 = (int)lo;
    *i1 = *i0 + 1 < size ? *i0 + 1 : size - 1;
    *a = (float)(s - lo);
    return 1;
}

static void sample(const src_view *s, const fs_sample_desc *d, float *dst)
{
    if (!d || !dst || d->out_w <= 0 || d->out_h <= 0)
        return;
    const size_t n = (size_t)d->out_w * (size_t)d->out_h * 3;
    if (s->width <= 0 || s->height <= 0 || (!s->u8 && !s->f32)) {
        /* Nothing to read: every sample is "outside". */
        for (size_t i = 0; i < n; i++)
            dst[i] = 0.0f * d->scale + d->offset;
        return;
    }
    const int axis_aligned = d->m[1] == 0.0 && d->m[3] == 0.0;
    const float mx = (float)d->m[0], ox = (float)d->m[2];
    const float my = (float)d->m[4], oy = (float)d->m[5];

    for (int y = 0; y < d->out_h; y++) {
        for (int x = 0; x < d->out_w; x++) {
            const int xs = d->flip_x ? d->out_w - 1 - x : x;
            int x0, x1, y0, y1;
            float ax, ay;
            int inside;
            if (axis_aligned) {
                const float sx = ox + (float)xs * mx;
                const float sy = oy + (float)y * my;
                inside = axis_f32(sx, s->width, d->border, &x0, &x1, &ax);
                inside = axis_f32(sy, s->height, d->border, &y0, &y1, &ay) && inside;
            } else {
                const double sx = d->m[0] * xs + d->m[1] * y + d->m[2];
                const double sy = d->m[3] * xs + d->m[4] * y + d->m[5];
                inside = axis_f64(sx, s->width, d->border, &x0, &x1, &ax);
                inside = axis_f64(sy, s->height, d->border, &y0, &y1, &ay) && inside;
            }
            float *const out = dst + ((size_t)y * (size_t)d->out_w + (size_t)x) * 3;
            if (!inside) {
                for (int c = 0; c < 3; c++)
                    out[c] = 0.0f * d->scale + d->offset;
                continue;
            }
            float tl[3], tr[3], bl[3], br[3];
            fetch(s, x0, y0, tl);
            fetch(s, x1, y0, tr);
            fetch(s, x0, y1, bl);
            fetch(s, x1, y1, br);
            for (int c = 0; c < 3; c++) {
                const float top = tl[c] + (tr[c] - tl[c]) * ax;
                const float bottom = bl[c] + (br[c] - bl[c]) * ax;
                const float v = top + (bottom - top) * ay;
                out[c] = v * d->scale + d->offset;
            }
        }
    }
}

static fs_status check_out(const fs_exec *ex, const fs_sample_desc *d, const float *dst)
{
    if (!d || !dst)
        return fs_fail(ex ? ex->err : NULL, FS_ERR_INVALID_ARGUMENT, "sampler: NULL %s",
                       d ? "output" : "descriptor");
    return FS_OK;
}

fs_status fs_sample_u8_ref(const fs_exec *ex, const uint8_t *src, int width, int height,
                           int stride, int format, const fs_sample_desc *d, float *dst)
{
    const fs_status st = check_out(ex, d, dst);
    if (st != FS_OK)
        return st;
    src_view s = {.u8 = src, .width = width, .height = height, .stride = 0};
    switch (format) {
    case FS_PIXEL_RGB8:  s.step = 3; s.ch[0] = 0; s.ch[1] = 1; s.ch[2] = 2; break;
    case FS_PIXEL_RGBA8: s.step = 4; s.ch[0] = 0; s.ch[1] = 1; s.ch[2] = 2; break;
    case FS_PIXEL_BGR8:  s.step = 3; s.ch[0] = 2; s.ch[1] = 1; s.ch[2] = 0; break;
    case FS_PIXEL_BGRA8: s.step = 4; s.ch[0] = 2; s.ch[1] = 1; s.ch[2] = 0; break;
    case FS_PIXEL_GRAY8: s.step = 1; s.ch[0] = 0; s.ch[1] = 0; s.ch[2] = 0; break;
    default:
        s.u8 = NULL; /* unknown layout: read nothing */
        break;
    }
    if (stride < width * s.step)
        s.u8 = NULL; /* rows would overlap: callers validate, never read them */
    s.stride = stride > 0 ? (size_t)stride : 0;
    sample(&s, d, dst);
    return FS_OK;
}

fs_status fs_sample_f32_ref(const fs_exec *ex, const float *src, int width, int height,
                            const fs_sample_desc *d, float *dst)
{
    const fs_status st = check_out(ex, d, dst);
    if (st != FS_OK)
        return st;
    const src_view s = {.f32 = src, .width = width, .height = height,
                        .stride = width > 0 ? (size_t)width * 3 : 0, .step = 3,
                        .ch = {0, 1, 2}};
    sample(&s, d, dst);
    return FS_OK;
}

void fs_sample_ops_init_reference(fs_sample_ops *ops)
{
    ops->u8 = fs_sample_u8_ref;
    ops->f32 = fs_sample_f32_ref;
}

static void desc_defaults(fs_sample_desc *d, int out_w, int out_h, fs_border border)
{
    memset(d, 0, sizeof(*d));
    d->out_w = out_w;
    d->out_h = out_h;
    d->border = border;
    d->scale = 1.0f;
    d->offset = 0.0f;
}

void fs_sample_desc_resize(fs_sample_desc *d, int in_w, int in_h, int out_w, int out_h)
{
    desc_defaults(d, out_w, out_h, FS_BORDER_CLAMP);
    if (out_w > 0 && out_h > 0) {
        /* XNNPACK (tfjs wasm) divides in float32: (float)in / (float)out. */
        d->m[0] = (float)in_w / (float)out_w;
        d->m[4] = (float)in_h / (float)out_h;
    }
}

/* tfjs wasm CropAndResize, one axis: returns the float32 step and sets the
 * float32 start coordinate, in the kernel's order of operations. */
static float crop_axis(float lo, float hi, int in_size, int out_size, float *start)
{
    const float last = (float)(in_size - 1);
    if (out_size > 1) {
        *start = lo * last;
        const float span = (hi - lo) * last;
        return span / (float)(out_size - 1);
    }
    const float mid = 0.5f * (lo + hi);
    *start = mid * last;
    return 0.0f;
}

void fs_sample_desc_crop(fs_sample_desc *d, int in_w, int in_h, float y1, float x1, float y2,
                         float x2, int out_w, int out_h)
{
    desc_defaults(d, out_w, out_h, FS_BORDER_ZERO);
    float sx0, sy0;
    d->m[0] = crop_axis(x1, x2, in_w, out_w, &sx0);
    d->m[4] = crop_axis(y1, y2, in_h, out_h, &sy0);
    d->m[2] = sx0;
    d->m[5] = sy0;
}
