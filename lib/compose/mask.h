/*
 * Mask operations of the compositing stage, on a face window (a rectangle of
 * the target image). Masks are 8-bit (0 = outside, anything else = inside)
 * or float alpha in [0, 1], row-major with an explicit stride (in elements).
 *
 * "border_is_background": when the window is an interior part of the image,
 * pixels beyond its edges are treated as background (the face ends there);
 * when the window was clipped by the image border (a face at the edge of the
 * photo), pass 0: the missing pixels are unknown and must not erode the mask.
 */
#ifndef FS_COMPOSE_MASK_H
#define FS_COMPOSE_MASK_H

#include <stddef.h>
#include <stdint.h>

#include "compose/compose.h"
#include "internal.h"

/* Largest window side accepted by the compose functions (bounds every
 * allocation; the public image limit is far below it). */
#define FS_COMPOSE_MAX_SIDE 16384

/* Checks a window size; returns FS_OK or FS_ERR_INVALID_ARGUMENT. */
fs_status fs_compose_check_size(fs_error_buf *err, int w, int h);

/*
 * Exact squared Euclidean distance from every pixel to the nearest
 * background pixel (0 for background pixels), by Felzenszwalb and
 * Huttenlocher's lower-envelope 1D transform run over columns then rows.
 * d2 is w*h floats (row-major, stride w). Pixels with no background
 * anywhere get FS_MASK_FAR. Errors: invalid argument, out of memory.
 */
#define FS_MASK_FAR 1e20f
fs_status fs_mask_distance2(fs_error_buf *err, const uint8_t *mask, int w, int h,
                            ptrdiff_t stride, int border_is_background, float *d2);

/* Erosion by a Euclidean radius: out = 1 where every pixel within distance
 * <= radius is inside the mask, else 0. out may alias mask (same stride). */
fs_status fs_mask_erode(const fs_exec *ex, const uint8_t *mask, int w, int h, ptrdiff_t stride,
                        double radius, int border_is_background, uint8_t *out,
                        ptrdiff_t out_stride);

/* Dilation by a Euclidean radius (erosion of the complement; beyond the
 * window counts as background, so dilation never grows from outside). */
fs_status fs_mask_dilate(fs_error_buf *err, const uint8_t *mask, int w, int h, ptrdiff_t stride,
                         double radius, uint8_t *out, ptrdiff_t out_stride);

/*
 * Feathering: alpha = min(1, d / feather) with d the Euclidean distance to
 * the nearest background pixel (so 0 outside, rising linearly inward, 1
 * from `feather` pixels in). feather <= 0 gives the hard 0/1 mask.
 * alpha is w*h floats with stride alpha_stride.
 */
fs_status fs_mask_feather(const fs_exec *ex, const uint8_t *mask, int w, int h, ptrdiff_t stride,
                          double feather, int border_is_background, float *alpha,
                          ptrdiff_t alpha_stride);

#endif /* FS_COMPOSE_MASK_H */
