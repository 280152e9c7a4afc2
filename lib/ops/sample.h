/*
 * Bilinear samplers of the ops table (ops->sample_u8, ops->sample_f32) and
 * the descriptor builders that reproduce TensorFlow.js' coordinates.
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
#ifndef FS_OPS_SAMPLE_H
#define FS_OPS_SAMPLE_H

#include "ops/ops.h"

/* Fills ops->sample_u8 and ops->sample_f32 with the plain-C reference. */
void fs_sample_init_reference(fs_ops *ops);

/* The reference entries themselves (for tests comparing a faster path). */
void fs_sample_u8_ref(const uint8_t *src, int width, int height, int stride, int format,
                      const fs_sample_desc *d, float *dst);
void fs_sample_f32_ref(const float *src, int width, int height, const fs_sample_desc *d,
                       float *dst);

/* Overrides them with the table-driven version (lib/ops/sample_fast.c):
 * bit-identical to the reference, several times faster on axis-aligned
 * descriptors; rotated ones go to the reference. */
void fs_sample_init_fast(fs_ops *ops);
void fs_sample_u8_fast(const uint8_t *src, int width, int height, int stride, int format,
                       const fs_sample_desc *d, float *dst);
void fs_sample_f32_fast(const float *src, int width, int height, const fs_sample_desc *d,
                        float *dst);

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

#endif /* FS_OPS_SAMPLE_H */
