/*
 * Specular highlights: see shading.h (fs_light_highlights).
 */
#include "light/shading.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int fs_light_masked_box(const float *in, const uint8_t *m, int w, int h, int r, float *out,
                        uint8_t *held)
{
    const size_t w1 = (size_t)w + 1;
    double *I = calloc(w1 * ((size_t)h + 1) * 4, sizeof(double));
    if (!I)
        return 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t t = (size_t)y * (size_t)w + (size_t)x;
            for (int k = 0; k < 4; k++) {
                const double v = m[t] ? (k < 3 ? in[3 * t + (size_t)k] : 1.0) : 0.0;
                I[4 * ((size_t)(y + 1) * w1 + (size_t)(x + 1)) + (size_t)k] =
                    v + I[4 * ((size_t)y * w1 + (size_t)(x + 1)) + (size_t)k] +
                    I[4 * ((size_t)(y + 1) * w1 + (size_t)x) + (size_t)k] -
                    I[4 * ((size_t)y * w1 + (size_t)x) + (size_t)k];
            }
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const int xa = x - r < 0 ? 0 : x - r, xb = x + r + 1 > w ? w : x + r + 1;
            const int ya = y - r < 0 ? 0 : y - r, yb = y + r + 1 > h ? h : y + r + 1;
            double s[4];
            for (int k = 0; k < 4; k++)
                s[k] = I[4 * ((size_t)yb * w1 + (size_t)xb) + (size_t)k] -
                       I[4 * ((size_t)ya * w1 + (size_t)xb) + (size_t)k] -
                       I[4 * ((size_t)yb * w1 + (size_t)xa) + (size_t)k] +
                       I[4 * ((size_t)ya * w1 + (size_t)xa) + (size_t)k];
            const size_t t = (size_t)y * (size_t)w + (size_t)x;
            for (int k = 0; k < 3; k++)
                out[3 * t + (size_t)k] = s[3] > 0.5 ? (float)(s[k] / s[3]) : in[3 * t + (size_t)k];
            if (held)
                held[t] = s[3] > 0.5;
        }
    free(I);
    return 1;
}

int fs_light_highlights(const float *lin, const uint8_t *local_from, const uint8_t *may, int w,
                        int h, int fine_r, int wide_r, float margin, float *excess,
                        float *local)
{
    const size_t n = (size_t)w * (size_t)h;
    uint8_t *m = malloc(n);
    float *fine = malloc(n * 3 * sizeof(float));
    int ok = m && fine;
    if (ok) {
        memcpy(m, local_from, n);
        ok = fs_light_masked_box(lin, may, w, h, fine_r, fine, NULL);
    }
    for (int pass = 0; pass < 2 && ok; pass++) {
        ok = fs_light_masked_box(lin, m, w, h, wide_r, local, NULL);
        /* The second pass measures the local albedo without the first's
         * highlights, which would raise it. */
        for (size_t t = 0; t < n && ok; t++)
            if (m[t] && fs_luma709(fine + 3 * t) > margin * fs_luma709(local + 3 * t))
                m[t] = 0;
    }
    for (size_t t = 0; t < n && ok; t++) {
        const float ly = fs_luma709(local + 3 * t), e = fs_luma709(fine + 3 * t) - margin * ly;
        excess[t] = may[t] && ly > 0.0f && e > 0.0f ? e : 0.0f;
    }
    free(m);
    free(fine);
    return ok;
}
