/*
 * The sampling family of the engine (fs_sample_ops: u8, f32),
 * its plain-C reference and fast entries, and the descriptor builders that
 * reproduce TensorFlow.js' coordinates.
 *
 * Coordinate rules (what the plain-C reference computes, and what every
 * faster entry must reproduce):
 *
 * For output pixel (x, y), let xs = flip_x ? out_w - 1 - x : x.
 *
 * Axis-aligned descriptors (m[1] == 0 and m[3] == 0) follow the tfjs WASM
 * backend, which computes in float32 in this order (checked bit for bit
 * against tfjs 4.22.0's wasm kernels):
 *     sx = (float)m[2] + (float)xs * (float)m[0]
 *     sy = (float)m[5] + (float)y  * (float)m[4]
 * Any other descriptor (a rotation) computes sx, sy in double.
 *
 * Then, per axis (size = width or height):
 *   FS_BORDER_ZERO  (cropAndResize): if s < 0 or s > size - 1 (or NaN) in x
 *                   or in y, the sample is 0; else i0 = floor(s),
 *                   i1 = ceil(s), a = s - i0.
 *   FS_BORDER_CLAMP (resizeBilinear): s is clamped to [0, size - 1] (NaN to
 *                   0); i0 = floor(s), i1 = min(i0 + 1, size - 1), a = s - i0.
 * and, in float32, per channel:
 *     top = tl + (tr - tl) * ax;  bottom = bl + (br - bl) * ax;
 *     v = top + (bottom - top) * ay;    dst = v * scale + offset
 * (a ZERO-border sample outside the image writes 0 * scale + offset).
 *
 * Note: tfjs' "x / 127.5 - 1" and "x / 255" divide; scale = 1/127.5f
 * multiplies, so results may differ from tfjs by 1 ulp (< 1.2e-7 on [-1, 1]).
 */
#ifndef FS_SAMPLE_SAMPLE_H
#define FS_SAMPLE_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "exec.h"
#include "faceswap/common.h"

/* How a sampler treats source coordinates outside the image. */
typedef enum fs_border {
    FS_BORDER_CLAMP = 0, /* tf.image.resizeBilinear: indices clamped to the edge */
    FS_BORDER_ZERO = 1   /* tf.image.cropAndResize: outside [0, size-1] gives 0 */
} fs_border;

/*
 * Bilinear sampling into a float NHWC tensor (one image, 3 channels, RGB):
 * for output pixel (x, y) the source point is
 *     sx = m[0] * x + m[1] * y + m[2],  sy = m[3] * x + m[4] * y + m[5]
 * (source pixel centres at integer coordinates, as tfjs' kernels use them),
 * and the value written is sample * scale + offset.
 */
typedef struct fs_sample_desc {
    double m[6];
    int out_w, out_h;
    fs_border border;
    float scale, offset;
    int flip_x; /* 1 mirrors the output left-right (iris crops) */
} fs_sample_desc;

/* Sample an 8-bit image (any fs_pixel_format; gray replicated, alpha
 * ignored; BGR reordered to RGB) into dst[out_h][out_w][3]. An unknown
 * format or overlapping rows read nothing (every sample is "outside").
 * FS_ERR_INVALID_ARGUMENT for a NULL desc or dst (nothing written). */
typedef fs_status (*fs_sample_u8_fn)(const fs_exec *ex, const uint8_t *src, int width,
                                     int height, int stride, int format,
                                     const fs_sample_desc *d, float *dst);
/* Sample a float HWC 3-channel tensor into dst[out_h][out_w][3]. */
typedef fs_status (*fs_sample_f32_fn)(const fs_exec *ex, const float *src, int width,
                                      int height, const fs_sample_desc *d, float *dst);

/* The sampling family: what the detector, the fitter and the embedder take. */
typedef struct fs_sample_ops {
    fs_sample_u8_fn u8;
    fs_sample_f32_fn f32;
} fs_sample_ops;

/* Fills every entry with the plain-C reference. */
void fs_sample_ops_init_reference(fs_sample_ops *ops);

/* The reference entries themselves (for tests comparing a faster path). */
fs_status fs_sample_u8_ref(const fs_exec *ex, const uint8_t *src, int width, int height,
                           int stride, int format, const fs_sample_desc *d, float *dst);
fs_status fs_sample_f32_ref(const fs_exec *ex, const float *src, int width, int height,
                            const fs_sample_desc *d, float *dst);

/* Overrides them with the table-driven version (lib/sample/sample_fast.c):
 * bit-identical to the reference, several times faster on axis-aligned
 * descriptors; rotated ones go to the reference. */
void fs_sample_ops_init_fast(fs_sample_ops *ops);
fs_status fs_sample_u8_fast(const fs_exec *ex, const uint8_t *src, int width, int height,
                            int stride, int format, const fs_sample_desc *d, float *dst);
fs_status fs_sample_f32_fast(const fs_exec *ex, const float *src, int width, int height,
                             const fs_sample_desc *d, float *dst);

/*
 * tf.image.resizeBilinear(img[in_h][in_w], [out_h, out_w]) with
 * alignCorners = false, halfPixelCenters = false: m[0] = in_w / out_w and
 * m[4] = in_h / out_h as float32 quotients, no offset, CLAMP border,
 * scale 1, offset 0, no flip.
 */
void fs_sample_desc_resize(fs_sample_desc *d, int in_w, int in_h, int out_w, int out_h);

/*
 * tf.image.cropAndResize(img[in_h][in_w], [[y1, x1, y2, x2]], [0],
 * [out_h, out_w], 'bilinear', 0): the box is normalised ([0, 1] spans the
 * image, pixel centres 0 .. size-1) and float32, as tfjs stores its boxes
 * tensor: pass (float)(y_px / in_h) etc. computed in double, as a JS
 * Float32Array would round them. ZERO border, scale 1, offset 0, no flip.
 * m[0], m[2], m[4], m[5] hold tfjs' float32 width_scale, x1 * (W - 1),
 * height_scale, y1 * (H - 1) (a 1-pixel crop side samples the box centre).
 */
void fs_sample_desc_crop(fs_sample_desc *d, int in_w, int in_h, float y1, float x1, float y2,
                         float x2, int out_w, int out_h);

#endif /* FS_SAMPLE_SAMPLE_H */
