#include "image/draw.h"

#include <math.h>
#include <stddef.h>

static int drawable(const fs_image *im)
{
    if (!im || !im->data || im->memory != FS_MEMORY_HOST || im->width <= 0 || im->height <= 0)
        return 0;
    const int nc = fs_pixel_format_channels((fs_pixel_format)im->format);
    return nc > 0 && (int64_t)im->stride >= (int64_t)im->width * nc;
}

static void put(fs_image *im, int x, int y, fs_rgb c)
{
    uint8_t *const p = (uint8_t *)im->data + (size_t)y * (size_t)im->stride +
                       (size_t)x * (size_t)fs_pixel_format_channels((fs_pixel_format)im->format);
    switch (im->format) {
    case FS_PIXEL_RGBA8:
        p[3] = 255;
        /* fall through */
    case FS_PIXEL_RGB8:
        p[0] = c.r;
        p[1] = c.g;
        p[2] = c.b;
        break;
    case FS_PIXEL_BGRA8:
        p[3] = 255;
        /* fall through */
    case FS_PIXEL_BGR8:
        p[0] = c.b;
        p[1] = c.g;
        p[2] = c.r;
        break;
    default: /* GRAY8: BT.601 luma */
        p[0] = (uint8_t)((77u * c.r + 150u * c.g + 29u * c.b + 128u) >> 8);
        break;
    }
}

/* Pixel range [*lo, *hi] whose centres lie in [a, b], clipped to
 * [0, size - 1]; 0 when empty (or a NaN bound). */
static int span(double a, double b, int size, int *lo, int *hi)
{
    if (!(a <= b))
        return 0;
    const double l = ceil(a), h = floor(b);
    if (l > size - 1 || h < 0)
        return 0;
    *lo = l < 0 ? 0 : (int)l;
    *hi = h > size - 1 ? size - 1 : (int)h;
    return *lo <= *hi;
}

static void fill(fs_image *im, double x0, double y0, double x1, double y1, fs_rgb c)
{
    int xa, xb, ya, yb;
    if (!span(fmin(x0, x1), fmax(x0, x1), im->width, &xa, &xb) ||
        !span(fmin(y0, y1), fmax(y0, y1), im->height, &ya, &yb))
        return;
    /* fmin/fmax drop a NaN operand: refuse those explicitly. */
    if (isnan(x0) || isnan(x1) || isnan(y0) || isnan(y1))
        return;
    for (int y = ya; y <= yb; y++)
        for (int x = xa; x <= xb; x++)
            put(im, x, y, c);
}

static void disc(fs_image *im, double cx, double cy, double r, fs_rgb c)
{
    if (!isfinite(cx) || !isfinite(cy) || !(r >= 0.0))
        return;
    if (r < 0.5) {
        const double x = floor(cx + 0.5), y = floor(cy + 0.5);
        if (x >= 0 && x < im->width && y >= 0 && y < im->height)
            put(im, (int)x, (int)y, c);
        return;
    }
    int xa, xb, ya, yb;
    if (!span(cx - r, cx + r, im->width, &xa, &xb) || !span(cy - r, cy + r, im->height, &ya, &yb))
        return;
    const double r2 = r * r;
    for (int y = ya; y <= yb; y++) {
        const double dy = y - cy;
        for (int x = xa; x <= xb; x++) {
            const double dx = x - cx;
            if (dx * dx + dy * dy <= r2)
                put(im, x, y, c);
        }
    }
}

int fs_draw_circle(fs_image *im, double cx, double cy, double radius, fs_rgb color)
{
    if (!drawable(im))
        return -1;
    disc(im, cx, cy, radius, color);
    return 0;
}

int fs_draw_fill_rect(fs_image *im, double x0, double y0, double x1, double y1, fs_rgb color)
{
    if (!drawable(im))
        return -1;
    fill(im, x0, y0, x1, y1, color);
    return 0;
}

int fs_draw_rect(fs_image *im, double x0, double y0, double x1, double y1, int thickness,
                 fs_rgb color)
{
    if (!drawable(im))
        return -1;
    if (thickness < 1)
        thickness = 1;
    const double l = fmin(x0, x1), r = fmax(x0, x1), t = fmin(y0, y1), b = fmax(y0, y1);
    const double k = thickness - 1;
    fill(im, l, t, r, fmin(t + k, b), color);     /* top */
    fill(im, l, fmax(b - k, t), r, b, color);     /* bottom */
    fill(im, l, t, fmin(l + k, r), b, color);     /* left */
    fill(im, fmax(r - k, l), t, r, b, color);     /* right */
    return 0;
}

/* Liang-Barsky: clips the segment p + s * d, s in [0, 1], to the box;
 * 0 when nothing is left. */
static int clip(double *x0, double *y0, double *x1, double *y1, double xmin, double ymin,
                double xmax, double ymax)
{
    const double dx = *x1 - *x0, dy = *y1 - *y0;
    const double p[4] = {-dx, dx, -dy, dy};
    const double q[4] = {*x0 - xmin, xmax - *x0, *y0 - ymin, ymax - *y0};
    double s0 = 0.0, s1 = 1.0;
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0.0) {
            if (q[i] < 0.0)
                return 0;
            continue;
        }
        const double s = q[i] / p[i];
        if (p[i] < 0.0) {
            if (s > s1)
                return 0;
            if (s > s0)
                s0 = s;
        } else {
            if (s < s0)
                return 0;
            if (s < s1)
                s1 = s;
        }
    }
    const double ax = *x0 + s0 * dx, ay = *y0 + s0 * dy;
    *x1 = *x0 + s1 * dx;
    *y1 = *y0 + s1 * dy;
    *x0 = ax;
    *y0 = ay;
    return 1;
}

int fs_draw_line(fs_image *im, double x0, double y0, double x1, double y1, int thickness,
                 fs_rgb color)
{
    if (!drawable(im))
        return -1;
    if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1))
        return 0;
    if (thickness < 1)
        thickness = 1;
    if (thickness > 4096)
        thickness = 4096;
    const double m = thickness; /* margin: a brush centred outside may still reach in */
    if (!clip(&x0, &y0, &x1, &y1, -m, -m, im->width - 1 + m, im->height - 1 + m))
        return 0;
    /* One step per pixel along the longer axis; the clip bounds the count. */
    const double len = fmax(fabs(x1 - x0), fabs(y1 - y0));
    const int steps = (int)ceil(len);
    const double r = thickness <= 1 ? 0.0 : thickness / 2.0;
    for (int i = 0; i <= steps; i++) {
        const double s = steps ? (double)i / steps : 0.0;
        disc(im, x0 + (x1 - x0) * s, y0 + (y1 - y0) * s, r, color);
    }
    return 0;
}
