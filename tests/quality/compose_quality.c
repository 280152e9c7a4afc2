/* Border-gradient measure of a blend's seam (see compose_quality.h). */
#include "compose_quality.h"
#include "compose/mask.h"

#include <math.h>

/* One implementation for both pixel types: T is the element type. */
#define SEAM_BODY(T)                                                                          \
    fs_status st = fs_compose_check_size(err, w, h);                                          \
    if (st != FS_OK)                                                                          \
        return st;                                                                            \
    if (!result || !target || !mask || !out || rstride < 3 * (ptrdiff_t)w ||                  \
        tstride < 3 * (ptrdiff_t)w || mstride < w)                                            \
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_seam_gradient: bad arguments");      \
    double sr = 0.0, stg = 0.0;                                                               \
    long pairs = 0;                                                                           \
    for (int y = 0; y < h; y++)                                                               \
        for (int x = 0; x < w; x++) {                                                         \
            const int in = mask[(size_t)y * mstride + x] != 0;                                \
            for (int k = 0; k < 2; k++) {                                                     \
                const int qx = x + (k == 0), qy = y + (k == 1);                               \
                if (qx >= w || qy >= h || in == (mask[(size_t)qy * mstride + qx] != 0))       \
                    continue;                                                                 \
                const T *rp = &result[(size_t)y * rstride + 3 * x];                           \
                const T *rq = &result[(size_t)qy * rstride + 3 * qx];                         \
                const T *tp = &target[(size_t)y * tstride + 3 * x];                           \
                const T *tq = &target[(size_t)qy * tstride + 3 * qx];                         \
                for (int c = 0; c < 3; c++) {                                                 \
                    sr += fabs((double)rp[c] - (double)rq[c]) / 3.0;                          \
                    stg += fabs((double)tp[c] - (double)tq[c]) / 3.0;                         \
                }                                                                             \
                pairs++;                                                                      \
            }                                                                                 \
        }                                                                                     \
    out->pairs = pairs;                                                                       \
    out->result_grad = pairs ? sr / (double)pairs : 0.0;                                      \
    out->target_grad = pairs ? stg / (double)pairs : 0.0;                                     \
    out->ratio = out->target_grad > 0.0 ? out->result_grad / out->target_grad : 0.0;          \
    return FS_OK;

fs_status fs_seam_gradient_u8(fs_error_buf *err, const uint8_t *result, ptrdiff_t rstride,
                              const uint8_t *target, ptrdiff_t tstride, const uint8_t *mask,
                              ptrdiff_t mstride, int w, int h, fs_seam_measure *out)
{
    SEAM_BODY(uint8_t)
}

fs_status fs_seam_gradient_f32(fs_error_buf *err, const float *result, ptrdiff_t rstride,
                               const float *target, ptrdiff_t tstride, const uint8_t *mask,
                               ptrdiff_t mstride, int w, int h, fs_seam_measure *out)
{
    SEAM_BODY(float)
}
