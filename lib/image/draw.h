/*
 * Drawing for overlays (the CLI's --overlay): lines, filled circles and
 * rectangles in solid colours, on a host-memory 8-bit image of any
 * fs_pixel_format (colours given as RGB; gray images get the luma, alpha
 * channels are set opaque). Coordinates are in pixels, pixel centres at
 * integers; shapes are clipped to the image, and NaN or huge coordinates
 * draw nothing rather than loop, so landmarks from a failed fit are safe
 * to pass.
 */
#ifndef FS_IMAGE_DRAW_H
#define FS_IMAGE_DRAW_H

#include <stdint.h>

#include "faceswap/image.h"

typedef struct fs_rgb {
    uint8_t r, g, b;
} fs_rgb;

/* Every function returns 0, or -1 when the image is not a drawable host
 * image (NULL, no pixels, unknown format, device memory, bad stride). */

/* A segment from (x0, y0) to (x1, y1). thickness 1: one pixel per step
 * along the longer axis (Bresenham-like); thickness t > 1: the union of
 * discs of radius t / 2 along it (clamped to 1..4096). */
int fs_draw_line(fs_image *im, double x0, double y0, double x1, double y1, int thickness,
                 fs_rgb color);

/* A filled disc: every pixel centre within `radius` of (cx, cy); a radius
 * below 0.5 still sets the nearest pixel. */
int fs_draw_circle(fs_image *im, double cx, double cy, double radius, fs_rgb color);

/* The outline of the axis-aligned rectangle with corners (x0, y0) and
 * (x1, y1), `thickness` pixels wide, drawn inwards. */
int fs_draw_rect(fs_image *im, double x0, double y0, double x1, double y1, int thickness,
                 fs_rgb color);

/* The filled rectangle: every pixel centre in [x0, x1] x [y0, y1]. */
int fs_draw_fill_rect(fs_image *im, double x0, double y0, double x1, double y1, fs_rgb color);

#endif /* FS_IMAGE_DRAW_H */
