/*
 * Image transforms with exact point maps for the perception tests
 * (test_detect.c, test_fit.c): rotations (exact for multiples of 90 degrees,
 * bilinear through the ops table's sampler otherwise), crops, padding.
 * Header-only: each test program includes it once.
 *
 * Coordinates: landmarks use "edge" coordinates (pixel k covers [k, k+1]);
 * a rotation by a degrees turns the content clockwise as seen (image y
 * points down): q = c' + R(a) (p - c), c and c' the image centres.
 */
#ifndef FS_TEST_PERCEPTION_UTIL_H
#define FS_TEST_PERCEPTION_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "faceswap/faceswap.h"
#include "engine.h"
#include "internal.h"

#define PU_PI 3.14159265358979323846

/* A transformed copy of an RGB8 image and the map of its points. */
typedef struct pu_image {
    fs_image img;      /* RGB8, owns data (free with pu_free) */
    double m[6];       /* new point = (m0 x + m1 y + m2, m3 x + m4 y + m5) */
} pu_image;

static void pu_free(pu_image *p)
{
    free(p->img.data);
    memset(p, 0, sizeof(*p));
}

static int pu_alloc(pu_image *p, int w, int h)
{
    memset(p, 0, sizeof(*p));
    p->img.width = w;
    p->img.height = h;
    p->img.stride = w * 3;
    p->img.format = FS_PIXEL_RGB8;
    p->img.memory = FS_MEMORY_HOST;
    p->img.data = calloc((size_t)w * (size_t)h, 3);
    return p->img.data != NULL;
}

static void pu_map(const pu_image *p, double x, double y, double *ox, double *oy)
{
    *ox = p->m[0] * x + p->m[1] * y + p->m[2];
    *oy = p->m[3] * x + p->m[4] * y + p->m[5];
}

/* Inverse of the point map (the maps here are rotations + translations). */
static void pu_unmap(const pu_image *p, double x, double y, double *ox, double *oy)
{
    const double det = p->m[0] * p->m[4] - p->m[1] * p->m[3];
    const double dx = x - p->m[2], dy = y - p->m[5];
    *ox = (p->m[4] * dx - p->m[1] * dy) / det;
    *oy = (-p->m[3] * dx + p->m[0] * dy) / det;
}

/* Rotation by a multiple of 90 degrees (quarter turns clockwise), pixel exact. */
static int pu_rotate90(const fs_image *src, int quarters, pu_image *out)
{
    quarters = ((quarters % 4) + 4) % 4;
    const int w = src->width, h = src->height;
    const int ow = quarters % 2 ? h : w, oh = quarters % 2 ? w : h;
    if (!pu_alloc(out, ow, oh))
        return 0;
    const uint8_t *s = src->data;
    uint8_t *d = out->img.data;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int X, Y;
            switch (quarters) {
            case 0: X = x; Y = y; break;
            case 1: X = h - 1 - y; Y = x; break;
            case 2: X = w - 1 - x; Y = h - 1 - y; break;
            default: X = y; Y = w - 1 - x; break;
            }
            memcpy(d + (size_t)Y * out->img.stride + (size_t)X * 3,
                   s + (size_t)y * src->stride + (size_t)x * 3, 3);
        }
    static const double cs[4][2] = {{1, 0}, {0, 1}, {-1, 0}, {0, -1}};
    const double c = cs[quarters][0], sn = cs[quarters][1];
    out->m[0] = c;
    out->m[1] = -sn;
    out->m[3] = sn;
    out->m[4] = c;
    out->m[2] = ow / 2.0 - (c * w / 2.0 - sn * h / 2.0);
    out->m[5] = oh / 2.0 - (sn * w / 2.0 + c * h / 2.0);
    return 1;
}

/* Rotation by any angle through the sampler; the canvas holds the whole
 * turned image, black outside it. */
static int pu_rotate(const fs_engine *ops, const fs_image *src, double degrees, pu_image *out)
{
    const double a = degrees * PU_PI / 180.0, c = cos(a), sn = sin(a);
    const int w = src->width, h = src->height;
    const int ow = (int)ceil(fabs(w * c) + fabs(h * sn) - 1e-9);
    const int oh = (int)ceil(fabs(w * sn) + fabs(h * c) - 1e-9);
    if (!pu_alloc(out, ow, oh))
        return 0;
    float *f = malloc(sizeof(float) * (size_t)ow * (size_t)oh * 3);
    if (!f) {
        pu_free(out);
        return 0;
    }
    /* source (edge) = c + R(-a) (q + 0.5 - c'); sampler index = source - 0.5 */
    const double cx = w / 2.0, cy = h / 2.0, ocx = ow / 2.0, ocy = oh / 2.0;
    fs_sample_desc d;
    memset(&d, 0, sizeof(d));
    d.out_w = ow;
    d.out_h = oh;
    d.border = FS_BORDER_ZERO;
    d.scale = 1.0f;
    d.m[0] = c;
    d.m[1] = sn;
    d.m[2] = c * (0.5 - ocx) + sn * (0.5 - ocy) + cx - 0.5;
    d.m[3] = -sn;
    d.m[4] = c;
    d.m[5] = -sn * (0.5 - ocx) + c * (0.5 - ocy) + cy - 0.5;
    if (ops->sample.u8(FS_EXEC_SERIAL(NULL), src->data, w, h, src->stride, src->format, &d, f) !=
        FS_OK) {
        free(f);
        pu_free(out);
        return 0;
    }
    uint8_t *dst = out->img.data;
    for (size_t i = 0; i < (size_t)ow * (size_t)oh * 3; i++) {
        const float v = f[i] + 0.5f;
        dst[i] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
    free(f);
    out->m[0] = c;
    out->m[1] = -sn;
    out->m[3] = sn;
    out->m[4] = c;
    out->m[2] = ocx - (c * cx - sn * cy);
    out->m[5] = ocy - (sn * cx + c * cy);
    return 1;
}

/* A window of the image: (x0, y0) its top-left in the source (may be
 * outside: black there), w x h its size. */
static int pu_window(const fs_image *src, int x0, int y0, int w, int h, pu_image *out)
{
    if (!pu_alloc(out, w, h))
        return 0;
    const int ch = fs_pixel_format_channels((fs_pixel_format)src->format);
    for (int y = 0; y < h; y++) {
        const int sy = y + y0;
        if (sy < 0 || sy >= src->height)
            continue;
        for (int x = 0; x < w; x++) {
            const int sx = x + x0;
            if (sx < 0 || sx >= src->width)
                continue;
            memcpy((uint8_t *)out->img.data + (size_t)y * out->img.stride + (size_t)x * 3,
                   (const uint8_t *)src->data + (size_t)sy * src->stride + (size_t)sx * ch, 3);
        }
    }
    out->m[0] = 1;
    out->m[4] = 1;
    out->m[2] = -x0;
    out->m[5] = -y0;
    return 1;
}

#endif /* FS_TEST_PERCEPTION_UTIL_H */
