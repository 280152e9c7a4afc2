/*
 * Seam quality of a blend: the gradient across the mask contour. For every
 * pair of 4-neighbours (p, q) inside the window with exactly one of them in
 * the mask, |result_p - result_q| (mean over the 3 channels) is averaged;
 * the same is done on the target. A visible seam raises the result's value
 * above the target's own; ratio = result / target (1 = as smooth as the
 * target there).
 */
#ifndef FS_COMPOSE_QUALITY_H
#define FS_COMPOSE_QUALITY_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

typedef struct fs_seam_measure {
    double result_grad; /* mean |gradient| of the result across the contour */
    double target_grad; /* the target's own, at the same pairs */
    double ratio;       /* result_grad / target_grad (0 when target_grad is 0) */
    long pairs;         /* contour pairs measured */
} fs_seam_measure;

/* 8-bit RGB result and target windows (strides in bytes), mask w*h. */
fs_status fs_seam_gradient_u8(fs_error_buf *err, const uint8_t *result, ptrdiff_t rstride,
                              const uint8_t *target, ptrdiff_t tstride, const uint8_t *mask,
                              ptrdiff_t mstride, int w, int h, fs_seam_measure *out);
/* Float RGB (strides in floats). */
fs_status fs_seam_gradient_f32(fs_error_buf *err, const float *result, ptrdiff_t rstride,
                               const float *target, ptrdiff_t tstride, const uint8_t *mask,
                               ptrdiff_t mstride, int w, int h, fs_seam_measure *out);

#endif /* FS_COMPOSE_QUALITY_H */
