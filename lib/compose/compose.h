/*
 * The compose family of the engine: the swap's compositing stages on a face
 * window, whole (so that a backend can take a stage, not only its inner
 * loops), and the two inner loops they share. Each entry has the contract
 * of the function named beside it, which is also its reference:
 *
 *   blur, alpha_u8            lib/compose/filter.h  (fs_compose_blur_ref, _alpha_u8_ref)
 *   mask_erode, mask_feather  lib/compose/mask.h
 *   colour_match, colour_lab_stats, colour_match_to,
 *   colour_shading, colour_chroma, colour_detail lib/compose/colour.h
 *   blend_multiband_u8, blend_poisson_u8          lib/compose/blend.h
 *
 * Stages that blur or blend take the family table itself (shading, chroma,
 * detail), so a backend that overrides only the blur speeds them up too.
 */
#ifndef FS_COMPOSE_COMPOSE_H
#define FS_COMPOSE_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "exec.h"
#include "faceswap/common.h"

struct fs_detail_match;
struct fs_poisson_opts;
struct fs_poisson_info;

/* How colour_match_to moves the render's lightness (lib/compose/colour.h). */
typedef enum fs_colour_lightness { FS_COLOUR_L_SHIFT = 0, FS_COLOUR_L_GAIN = 1 } fs_colour_lightness;

typedef struct fs_compose_ops fs_compose_ops;

struct fs_compose_ops {
    /* Separable filter of one float plane (w*h, stride w), zero beyond the
     * edges: tmp holds the row pass, dst = column pass of k[0..2r]. */
    fs_status (*blur)(const fs_exec *ex, const float *src, int w, int h, const float *k, int r,
                      float *tmp, float *dst);
    /* 8-bit RGB alpha blend, dst = dst + alpha (src - dst) rounded; alpha in
     * [0, 1] (clamped); where alpha <= 0 dst is left bit-identical. */
    fs_status (*alpha_u8)(const fs_exec *ex, const uint8_t *src, ptrdiff_t sstride,
                          uint8_t *dst, ptrdiff_t dstride, const float *alpha,
                          ptrdiff_t astride, int w, int h);
    fs_status (*mask_erode)(const fs_exec *ex, const uint8_t *mask, int w, int h,
                            ptrdiff_t stride, double radius, int border_is_background,
                            uint8_t *out, ptrdiff_t out_stride);
    fs_status (*mask_feather)(const fs_exec *ex, const uint8_t *mask, int w, int h,
                              ptrdiff_t stride, double feather, int border_is_background,
                              float *alpha, ptrdiff_t alpha_stride);
    fs_status (*colour_match)(const fs_exec *ex, float *render, ptrdiff_t rstride,
                              const float *target, ptrdiff_t tstride, const float *mask, int w,
                              int h);
    /* The two halves of colour_match, for a target whose statistics were
     * measured once (the swap's fs_swap_target, smoothed over time by the
     * video path): the CIELAB statistics of the masked pixels, and the
     * render's matched to given ones. */
    fs_status (*colour_lab_stats)(const fs_exec *ex, const float *img, ptrdiff_t stride,
                                  const float *mask, int w, int h, double mean[3],
                                  double sd[3]);
    fs_status (*colour_match_to)(const fs_exec *ex, float *render, ptrdiff_t rstride,
                                 const float *mask, int w, int h, const double to_mean[3],
                                 const double to_sd[3], fs_colour_lightness lightness);
    fs_status (*colour_shading)(const fs_exec *ex, const fs_compose_ops *ops, float *render,
                                ptrdiff_t rstride, const float *target, ptrdiff_t tstride,
                                const float *mask, int w, int h, double sigma, double max_gain);
    fs_status (*colour_chroma)(const fs_exec *ex, const fs_compose_ops *ops, float *render,
                               ptrdiff_t rstride, const float *target, ptrdiff_t tstride,
                               const float *mask, int w, int h, double sigma, double max_gain);
    fs_status (*colour_detail)(const fs_exec *ex, const fs_compose_ops *ops, float *render,
                               ptrdiff_t rstride, const float *target, ptrdiff_t tstride,
                               const float *mask, int w, int h, uint64_t seed,
                               struct fs_detail_match *out);
    fs_status (*blend_multiband_u8)(const fs_exec *ex, const uint8_t *src, ptrdiff_t sstride,
                                    uint8_t *dst, ptrdiff_t dstride, const float *alpha, int w,
                                    int h, int levels);
    fs_status (*blend_poisson_u8)(const fs_exec *ex, const uint8_t *src, ptrdiff_t sstride,
                                  uint8_t *dst, ptrdiff_t dstride, const uint8_t *mask,
                                  ptrdiff_t mstride, int w, int h,
                                  const struct fs_poisson_opts *opts,
                                  struct fs_poisson_info *info);
};

/* Every entry with its plain-C reference; then the fast paths on top: the
 * inner blur and alpha loops, and the colour match to given statistics and
 * the detail stage in float (fs_colour_match_lab_to_fast,
 * fs_colour_match_sharpness_fast). The other whole stages have one
 * implementation each, whose inner loops take whichever entries the table
 * holds. */
void fs_compose_ops_init_reference(fs_compose_ops *ops);
void fs_compose_ops_init_fast(fs_compose_ops *ops);

#endif /* FS_COMPOSE_COMPOSE_H */
