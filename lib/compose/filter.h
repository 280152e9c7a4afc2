/*
 * Filters shared by the compositing stage: a separable blur of one float
 * plane (compose family entry blur: plain-C reference and fast CPU path)
 * and the 8-bit alpha blend (entry alpha_u8). Both return
 * FS_ERR_INVALID_ARGUMENT for NULL pointers or negative sizes, else FS_OK.
 */
#ifndef FS_COMPOSE_FILTER_H
#define FS_COMPOSE_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "compose/compose.h"
#include "internal.h"

/* Largest blur radius (taps = 2r + 1). */
#define FS_COMPOSE_MAX_RADIUS 64

/* Fills k[0..2r] with a normalised Gaussian of the given sigma, r = ceil(3 sigma)
 * (at most FS_COMPOSE_MAX_RADIUS); returns r. sigma <= 0 gives r = 0, k = {1}. */
int fs_compose_gauss_kernel(double sigma, float *k);

/* Where full-size coordinate @p x falls between the samples of a plane
 * decimated by @p f (sample i's centre at i * f + (f - 1) / 2; @p n of
 * them): the sample before, the one after, and the weight of the one after.
 * At f = 1 it is x itself with weight 0. */
typedef struct fs_lerp_at {
    int i0, i1;
    float a;
} fs_lerp_at;

static inline fs_lerp_at fs_lerp_of(int x, int f, int n)
{
    float u = ((float)x - 0.5f * (float)(f - 1)) / (float)f;
    u = u < 0.0f ? 0.0f : u > (float)(n - 1) ? (float)(n - 1) : u;
    const int i0 = (int)u;
    return (fs_lerp_at){i0, i0 + 1 < n ? i0 + 1 : i0, u - (float)i0};
}

/* Reference and fast entries (see struct fs_compose_ops). */
fs_status fs_compose_blur_ref(const fs_exec *ex, const float *src, int w, int h, const float *k,
                              int r, float *tmp, float *dst);
fs_status fs_compose_blur_fast(const fs_exec *ex, const float *src, int w, int h, const float *k,
                               int r, float *tmp, float *dst);
/* The fast entry's baseline loops (SSE2 on x86-64); fs_compose_blur_fast
 * runs the same loops compiled for AVX2 where the CPU has it, with the same
 * bits (tests/test_compose.c). */
fs_status fs_compose_blur_fast_sse2(const fs_exec *ex, const float *src, int w, int h,
                                    const float *k, int r, float *tmp, float *dst);
fs_status fs_compose_alpha_u8_ref(const fs_exec *ex, const uint8_t *src, ptrdiff_t sstride,
                                  uint8_t *dst, ptrdiff_t dstride, const float *alpha,
                                  ptrdiff_t astride, int w, int h);
fs_status fs_compose_alpha_u8_fast(const fs_exec *ex, const uint8_t *src, ptrdiff_t sstride,
                                   uint8_t *dst, ptrdiff_t dstride, const float *alpha,
                                   ptrdiff_t astride, int w, int h);

/* out[i] = bmx[i] / bm[i] where bm[i] > 1e-6, else x[i]: a masked blur's
 * quotient (fs_compose_masked_blur's last step, shared by the detail
 * stage's). Written so that the loop vectorises, the quotient formed for
 * every pixel and then selected: the same bits as the branch. */
void fs_compose_masked_quotient(const float *bmx, const float *bm, const float *x, size_t n,
                                float *out);
/*
 * Normalised convolution of a float plane under a weight plane (all w*h,
 * stride w): out = blur(m * x) / blur(m) where blur(m) > 1e-6, x elsewhere.
 * Pixels outside the mask do not bleed in, and the window edge needs no
 * padding rule (the missing taps simply carry no weight).
 * Errors: invalid argument, out of memory.
 */
fs_status fs_compose_masked_blur(const fs_exec *ex, const fs_compose_ops *ops, const float *x,
                                 const float *m, int w, int h, double sigma, float *out);

#endif /* FS_COMPOSE_FILTER_H */
