/*
 * YUV 4:2:0 <-> RGB8 windows, plain C. Integer 16.16 arithmetic: the same
 * bytes on every machine, and a byte-exact no-op where nothing changed
 * (unchanged pixels are never written).
 */
#include "video/video_io.h"

#include <math.h>
#include <string.h>

/* FFmpeg's AVColorSpace / AVColorRange values (libavutil/pixfmt.h), spelled
 * here so that this file needs no FFmpeg header; they are fixed by the
 * ITU-T H.273 code points FFmpeg uses. */
enum {
    SPC_BT709 = 1,
    SPC_BT470BG = 5,
    SPC_SMPTE170M = 6,
    SPC_BT2020_NCL = 9,
    RANGE_JPEG = 2,
};

static int32_t fx(double v)
{
    return (int32_t)lround(v * 65536.0);
}

fs_yuv_desc fs_yuv_desc_from(int color_space, int color_range, int height)
{
    fs_yuv_desc d;
    memset(&d, 0, sizeof(d));
    if (color_space == SPC_BT709)
        d.matrix = 709;
    else if (color_space == SPC_BT470BG || color_space == SPC_SMPTE170M)
        d.matrix = 601;
    else if (color_space == SPC_BT2020_NCL)
        d.matrix = 2020;
    else
        d.matrix = height < 720 ? 601 : 709;
    d.full_range = color_range == RANGE_JPEG;
    const double kr = d.matrix == 709 ? 0.2126 : d.matrix == 2020 ? 0.2627 : 0.299;
    const double kb = d.matrix == 709 ? 0.0722 : d.matrix == 2020 ? 0.0593 : 0.114;
    const double kg = 1.0 - kr - kb;
    /* Luma and chroma excursions in code values: 219 and 224 in limited range. */
    const double ly = d.full_range ? 255.0 : 219.0, lc = d.full_range ? 255.0 : 224.0;
    d.yo = d.full_range ? 0 : 16;
    d.ys = fx(255.0 / ly);
    d.rv = fx(2.0 * (1.0 - kr) * 255.0 / lc);
    d.bu = fx(2.0 * (1.0 - kb) * 255.0 / lc);
    d.gu = fx(-2.0 * kb * (1.0 - kb) / kg * 255.0 / lc);
    d.gv = fx(-2.0 * kr * (1.0 - kr) / kg * 255.0 / lc);
    d.yr = fx(kr * ly / 255.0);
    d.yg = fx(kg * ly / 255.0);
    d.yb = fx(kb * ly / 255.0);
    const double cu = lc / 255.0 / (2.0 * (1.0 - kb)), cv = lc / 255.0 / (2.0 * (1.0 - kr));
    d.ur = fx(-kr * cu);
    d.ug = fx(-kg * cu);
    d.ub = fx((1.0 - kb) * cu);
    d.vr = fx((1.0 - kr) * cv);
    d.vg = fx(-kg * cv);
    d.vb = fx(-kb * cv);
    return d;
}

/* In 32 bits: the coefficients are below 2^18 and the codes below 2^8, so
 * every sum stays under 2^27 (the same values as in 64 bits). */
static inline uint8_t clip8i(int32_t v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static inline void to_rgb(const fs_yuv_desc *d, int y, int u, int v, uint8_t *out)
{
    const int32_t yy = d->ys * (y - d->yo) + 32768;
    u -= 128;
    v -= 128;
    out[0] = clip8i((yy + d->rv * v) >> 16);
    out[1] = clip8i((yy + d->gu * u + d->gv * v) >> 16);
    out[2] = clip8i((yy + d->bu * u) >> 16);
}

static int window_ok(const fs_video_frame *f, const fs_yuv_desc *d, int x0, int y0, int w, int h,
                     const void *p, ptrdiff_t stride, fs_status *st)
{
    if (!f || !d || !p || !f->plane[0] || !f->plane[1] || !f->plane[2]) {
        *st = FS_ERR_INVALID_ARGUMENT;
        return 0;
    }
    if (w <= 0 || h <= 0 || x0 < 0 || y0 < 0 || x0 > f->width - w || y0 > f->height - h) {
        *st = FS_ERR_OUT_OF_RANGE;
        return 0;
    }
    if (stride < (ptrdiff_t)w * 3) {
        *st = FS_ERR_INVALID_ARGUMENT;
        return 0;
    }
    return 1;
}

fs_status fs_yuv420_to_rgb_window(const fs_video_frame *f, const fs_yuv_desc *d, int x0, int y0,
                                  int w, int h, uint8_t *rgb, ptrdiff_t rgb_stride)
{
    fs_status st;
    if (!window_ok(f, d, x0, y0, w, h, rgb, rgb_stride, &st))
        return st;
    for (int y = 0; y < h; y++) {
        const int fy = y0 + y;
        const uint8_t *const py = f->plane[0] + (ptrdiff_t)fy * f->stride[0];
        const uint8_t *const pu = f->plane[1] + (ptrdiff_t)(fy >> 1) * f->stride[1];
        const uint8_t *const pv = f->plane[2] + (ptrdiff_t)(fy >> 1) * f->stride[2];
        uint8_t *out = rgb + (ptrdiff_t)y * rgb_stride;
        for (int x = 0; x < w; x++, out += 3) {
            const int fx_ = x0 + x;
            to_rgb(d, py[fx_], pu[fx_ >> 1], pv[fx_ >> 1], out);
        }
    }
    return FS_OK;
}

fs_status fs_yuv420_to_rgb(const fs_video_frame *f, const fs_yuv_desc *d, uint8_t *rgb,
                           ptrdiff_t rgb_stride)
{
    if (!f)
        return FS_ERR_INVALID_ARGUMENT;
    return fs_yuv420_to_rgb_window(f, d, 0, 0, f->width, f->height, rgb, rgb_stride);
}

static inline int px_changed(const uint8_t *a, const uint8_t *b)
{
    return a[0] != b[0] || a[1] != b[1] || a[2] != b[2];
}

fs_status fs_rgb_window_to_yuv420(fs_video_frame *f, const fs_yuv_desc *d, int x0, int y0, int w,
                                  int h, const uint8_t *rgb, const uint8_t *before,
                                  ptrdiff_t stride)
{
    fs_status st;
    if (!window_ok(f, d, x0, y0, w, h, rgb, stride, &st))
        return st;
    if (!before)
        return FS_ERR_INVALID_ARGUMENT;
    /* Luma of the changed pixels. */
    for (int y = 0; y < h; y++) {
        uint8_t *const py = f->plane[0] + (ptrdiff_t)(y0 + y) * f->stride[0];
        const uint8_t *a = rgb + (ptrdiff_t)y * stride, *b = before + (ptrdiff_t)y * stride;
        for (int x = 0; x < w; x++, a += 3, b += 3) {
            if (!px_changed(a, b))
                continue;
            const int32_t v = d->yr * a[0] + d->yg * a[1] + d->yb * a[2] + 32768;
            py[x0 + x] = clip8i(d->yo + (v >> 16));
        }
    }
    /* Chroma of every 2x2 block with a changed pixel, from its pixels' RGB:
     * the window's new values where the block lies in it, the frame's
     * current colour elsewhere (a window edge on an odd coordinate), so the
     * block's colour stays right for the pixels the swap did not touch. */
    const int bx0 = x0 >> 1, bx1 = (x0 + w - 1) >> 1, by0 = y0 >> 1, by1 = (y0 + h - 1) >> 1;
    for (int by = by0; by <= by1; by++) {
        uint8_t *const pu = f->plane[1] + (ptrdiff_t)by * f->stride[1];
        uint8_t *const pv = f->plane[2] + (ptrdiff_t)by * f->stride[2];
        for (int bx = bx0; bx <= bx1; bx++) {
            int changed = 0, n = 0;
            int32_t sr = 0, sg = 0, sb = 0;
            const int whole =
                2 * bx >= x0 && 2 * bx + 2 <= x0 + w && 2 * by >= y0 && 2 * by + 2 <= y0 + h;
            if (whole) {
                /* The whole block in the window (and so in the frame): most blocks. */
                const uint8_t *a = rgb + (ptrdiff_t)(2 * by - y0) * stride + (ptrdiff_t)(2 * bx - x0) * 3;
                const uint8_t *b = before + (a - rgb);
                const uint8_t *a2 = a + stride, *b2 = b + stride;
                changed = px_changed(a, b) | px_changed(a + 3, b + 3) | px_changed(a2, b2) |
                          px_changed(a2 + 3, b2 + 3);
                if (!changed)
                    continue;
                sr = a[0] + a[3] + a2[0] + a2[3];
                sg = a[1] + a[4] + a2[1] + a2[4];
                sb = a[2] + a[5] + a2[2] + a2[5];
                n = 4;
            }
            for (int k = 0; k < 4 && !whole; k++) {
                const int fx_ = 2 * bx + (k & 1), fy = 2 * by + (k >> 1);
                if (fx_ >= f->width || fy >= f->height)
                    continue;
                uint8_t c[3];
                if (fx_ >= x0 && fx_ < x0 + w && fy >= y0 && fy < y0 + h) {
                    const ptrdiff_t o = (ptrdiff_t)(fy - y0) * stride + (ptrdiff_t)(fx_ - x0) * 3;
                    changed |= px_changed(rgb + o, before + o);
                    memcpy(c, rgb + o, 3);
                } else {
                    to_rgb(d, f->plane[0][(ptrdiff_t)fy * f->stride[0] + fx_], pu[bx], pv[bx], c);
                }
                sr += c[0];
                sg += c[1];
                sb += c[2];
                n++;
            }
            if (!changed)
                continue;
            /* n is 4 but at a frame edge: the constant division is a shift
             * with the same rounding toward zero. */
            const int32_t us = d->ur * sr + d->ug * sg + d->ub * sb;
            const int32_t vs = d->vr * sr + d->vg * sg + d->vb * sb;
            const int32_t u = n == 4 ? us / 4 : us / n, v = n == 4 ? vs / 4 : vs / n;
            pu[bx] = clip8i(128 + ((u + 32768) >> 16));
            pv[bx] = clip8i(128 + ((v + 32768) >> 16));
        }
    }
    /* The padding of an odd-sized frame repeats its last column / row. */
    if ((f->width & 1) && x0 + w == f->width)
        for (int y = y0; y < y0 + h; y++) {
            uint8_t *const py = f->plane[0] + (ptrdiff_t)y * f->stride[0];
            py[f->width] = py[f->width - 1];
        }
    if ((f->height & 1) && y0 + h == f->height) {
        const uint8_t *const src = f->plane[0] + (ptrdiff_t)(f->height - 1) * f->stride[0];
        uint8_t *const dst = f->plane[0] + (ptrdiff_t)f->height * f->stride[0];
        const int end = x0 + w + ((f->width & 1) && x0 + w == f->width);
        memcpy(dst + x0, src + x0, (size_t)(end - x0));
    }
    return FS_OK;
}
