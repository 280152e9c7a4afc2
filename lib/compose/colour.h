/*
 * Colour correction of a rendered face to its target: CIELAB conversion,
 * masked statistics, mean/deviation matching, low-frequency shading transfer
 * and sharpness/noise matching. Images are float RGB, interleaved, sRGB
 * encoded in [0, 1], on a face window (w x h, stride in floats, >= 3 w);
 * masks/weights are float w*h planes with stride w (0 outside, 1 inside,
 * fractional weights allowed).
 */
#ifndef FS_COMPOSE_COLOUR_H
#define FS_COMPOSE_COLOUR_H

#include <stddef.h>
#include <stdint.h>

#include "compose/compose.h"
#include "internal.h"

/* sRGB (IEC 61966-2-1, [0, 1]) <-> CIELAB with the D65 white
 * (X, Y, Z) = (0.95047, 1, 1.08883), exact piecewise formulas, n pixels of 3
 * floats each. In-place (rgb == lab) allowed. */
void fs_colour_srgb_to_lab(const float *rgb, float *lab, size_t n);
void fs_colour_lab_to_srgb(const float *lab, float *rgb, size_t n);

/* Weighted per-channel mean and standard deviation (population) of a
 * 3-channel window. Errors: invalid argument, FS_ERR_OUT_OF_RANGE when the
 * weights sum to zero. */
fs_status fs_colour_masked_stats(fs_error_buf *err, const float *img, int w, int h,
                                 ptrdiff_t stride, const float *weight, double mean[3],
                                 double sd[3]);

/* x <- (x - from_mean) * to_sd / from_sd + to_mean per channel, where weight
 * > 0 (a channel with from_sd == 0 is only shifted). */
void fs_colour_transfer(float *img, int w, int h, ptrdiff_t stride, const float *weight,
                        const double from_mean[3], const double from_sd[3],
                        const double to_mean[3], const double to_sd[3]);

/* Mean/deviation matching in CIELAB: the render's Lab means over the mask
 * become the target's over the same mask, and its deviations the target's
 * within FS_COLOUR_SPREAD_MAX either way (below); result clamped to [0, 1]. */
fs_status fs_colour_match_lab(const fs_exec *ex, float *render, ptrdiff_t rstride,
                              const float *target, ptrdiff_t tstride, const float *mask, int w,
                              int h);

/* The two halves of fs_colour_match_lab, for a target whose statistics
 * were measured apart (lib/swap): the CIELAB mean and population deviation
 * of @p img over the mask (FS_ERR_OUT_OF_RANGE when it is empty), and the
 * render's statistics over the mask made @p to_mean / @p to_sd (finite, sd
 * >= 0; each channel's deviations scale by at most FS_COLOUR_SPREAD_MAX
 * either way), clamped to [0, 1].
 *
 * @p lightness FS_COLOUR_L_SHIFT moves L* by the difference of the means
 * (fs_colour_match_lab's way); FS_COLOUR_L_GAIN takes the difference as a
 * gain on the light, as a change of exposure makes it: L* + 16 (116 Y^1/3)
 * scales by (to_mean + 16) / (mean + 16), its deviations with it, and the
 * spread bound then holds the render's deviation relative to its
 * lightness. A shift of -27 L* (the astronaut's render onto faceapi_sample1's
 * made-up middle face, 66 -> 39) took a cheek at 0.70 of the face's
 * luminance to 0.49 of it, a brown blotch; a gain keeps it at 0.70. */
/* The swap puts the target's light on the source's albedo itself (its
 * shading, then FS_COLOR_FULL's face-scale ratio): a target's spread far
 * from the render's is then its features and make-up more than its skin,
 * and matched whole it stretched or flattened the source's features.
 * Measured (quality_swap --no-peer, doc/light-notes.md, tenth step):
 * identity +0.222 (min +0.143) matched whole, +0.225 (min +0.158) within
 * 1.25, +0.224 (min +0.153) means alone; leak and self-swap fidelity the
 * same within 1.25. Means alone let faceapi_sample3's two-coloured light
 * through as a blue/yellow split that the spread's match had damped. */
#define FS_COLOUR_SPREAD_MAX 1.25
fs_status fs_colour_lab_stats(const fs_exec *ex, const float *img, ptrdiff_t stride,
                              const float *mask, int w, int h, double mean[3], double sd[3]);
fs_status fs_colour_match_lab_to(const fs_exec *ex, float *render, ptrdiff_t rstride,
                                 const float *mask, int w, int h, const double to_mean[3],
                                 const double to_sd[3], fs_colour_lightness lightness);
/* The fast entries of the same contracts (compose entry colour_match_to): float
 * CIELAB from tables (fs_colour_srgb_to_lab_fast / _lab_to_srgb_fast, within
 * 1e-5 of the exact sRGB range and 2e-4 in Lab: tests/test_swap_fast.c), the
 * masked pixels converted as one packed batch. Results within an 8-bit level
 * of the reference's rounding. */
void fs_colour_srgb_to_lab_fast(const float *rgb, float *lab, size_t n);
void fs_colour_lab_to_srgb_fast(const float *lab, float *rgb, size_t n);
/* The same two without the AVX2 loops they take where the CPU has AVX2:
 * the same bits (tests/test_swap_fast.c compares them). */
void fs_colour_srgb_to_lab_fast_scalar(const float *rgb, float *lab, size_t n);
void fs_colour_lab_to_srgb_fast_scalar(const float *lab, float *rgb, size_t n);
/* fs_colour_lab_stats with the fast conversion: within 2e-4 of its means
 * and 4e-4 of its deviations (tests/test_swap_fast.c). */
fs_status fs_colour_lab_stats_fast(const fs_exec *ex, const float *img, ptrdiff_t stride,
                                   const float *mask, int w, int h, double mean[3], double sd[3]);
fs_status fs_colour_match_lab_to_fast(const fs_exec *ex, float *render, ptrdiff_t rstride,
                                      const float *mask, int w, int h, const double to_mean[3],
                                      const double to_sd[3], fs_colour_lightness lightness);

/* Low-frequency shading: multiplies the render by g = L(target) / L(render)
 * where L is the luminance low-passed by a masked Gaussian of sigma
 * (normalised convolution), g clamped to [1/max_gain, max_gain], inside the
 * mask; the result is clamped to [0, 1]. max_gain >= 1 (4 lets nearly any
 * light through; the swap's 1.5 keeps a dark source feature that the target
 * lacks from turning into a bright patch). */
fs_status fs_colour_shading_transfer(const fs_exec *ex, const fs_compose_ops *ops, float *render,
                                     ptrdiff_t rstride, const float *target, ptrdiff_t tstride,
                                     const float *mask, int w, int h, double sigma,
                                     double max_gain);

/* Low-frequency colour: multiplies each channel of the render by
 * g_c = (C_c(target) / L(target)) / (C_c(render) / L(render)), C_c the
 * channel and L the luminance low-passed as fs_colour_shading_transfer
 * does, each g_c clamped to [1/max_gain, max_gain], inside the mask: the
 * target's chromaticity at that scale, its luminance left as it is. */
fs_status fs_colour_chroma_transfer(const fs_exec *ex, const fs_compose_ops *ops, float *render,
                                    ptrdiff_t rstride, const float *target, ptrdiff_t tstride,
                                    const float *mask, int w, int h, double sigma,
                                    double max_gain);

/* High-pass energy of the luminance inside the mask, a robust one: with
 * d = Y - masked_blur_sigma1(Y), (m / 0.6745)^2, m the mask-weighted
 * median of |d| (for Gaussian detail, the variance of d; a few strong
 * edges, dark make-up on a cheek, do not move it). */
fs_status fs_colour_highpass_energy(const fs_exec *ex, const fs_compose_ops *ops, const float *img,
                                    ptrdiff_t stride, const float *mask, int w, int h,
                                    double *energy);

/* The most unsharp-masking fs_colour_match_sharpness applies: 1 + this
 * times the render's own sigma-1 high-pass. */
#define FS_DETAIL_MAX_SHARPEN 1.5

/* What fs_colour_match_sharpness applied: at most one of blur_sigma and
 * sharpen is non-zero; noise follows sharpening (or a render with no detail
 * of its own), or a blur that the band ratio asked for beyond the
 * energy's. */
typedef struct fs_detail_match {
    double blur_sigma; /* Gaussian blur of the render, px */
    double sharpen;    /* unsharp-mask amount, 0..FS_DETAIL_MAX_SHARPEN */
    double noise;      /* deviation of the added luminance noise, 0..1 units */
} fs_detail_match;

/* Sharpness/noise matching of the render to the target inside the mask, by
 * the sigma-1 high-pass energy of the luminance (fs_colour_highpass_energy)
 * and by a band ratio (the mean |detail| between the sigma-1 and sigma-3
 * low-passes over that between sigma 3 and 6, at half resolution), which
 * tells a soft face from a plain one whatever grain it carries:
 * - a render with at least 0.95 of the target's energy is blurred (masked
 *   Gaussian, sigma up to 4 px) by the larger of two sigmas: the one that
 *   brings its energy to within 1% of the target's (regula falsi on the
 *   energy's log over sigma^2; none unless it is over 1.05 of it, 4 px at
 *   most) and the one that brings its band ratio down to 1.05 times
 *   the target's (regula falsi; none unless it is above that); where the
 *   band's is the larger, the blur takes the grain below the target's and
 *   noise as below (its deviation searched on the measured energy) puts it
 *   back;
 * - less than 0.95 of it (whatever the ratio): unsharp masking of the
 *   render's own luminance, each pixel clamped to its 3x3 neighbourhood's
 *   range (no halos), its amount bisected up to FS_DETAIL_MAX_SHARPEN; what
 *   is still missing then comes as deterministic Gaussian luminance noise
 *   from @p seed.
 * Within 5% on both measures the render is left as it is. @p out (may be
 * NULL) reports what was applied. */
fs_status fs_colour_match_sharpness(const fs_exec *ex, const fs_compose_ops *ops, float *render,
                                    ptrdiff_t rstride, const float *target, ptrdiff_t tstride,
                                    const float *mask, int w, int h, uint64_t seed,
                                    fs_detail_match *out);

/* The fast entry of the same contract (compose entry colour_detail): the noise's
 * Gaussian transform in float (within 1e-6 of the double one:
 * tests/test_swap_fast.c), the rest as the reference. */
fs_status fs_colour_match_sharpness_fast(const fs_exec *ex, const fs_compose_ops *ops,
                                         float *render, ptrdiff_t rstride, const float *target,
                                         ptrdiff_t tstride, const float *mask, int w, int h,
                                         uint64_t seed, fs_detail_match *out);

#endif /* FS_COMPOSE_COLOUR_H */
