/*
 * Blending a rendered face into its target on a face window: feathered
 * alpha, multi-band (Laplacian pyramid) and gradient-domain (Poisson).
 * Float images are RGB interleaved (stride in floats, >= 3 w), any value
 * scale; 8-bit images are RGB (stride in bytes). Every blend leaves the
 * pixels where the mask/alpha is 0 bit-identical to the target.
 *
 * Window edges: pass a window with a margin around the mask where the image
 * allows. Where the mask touches the window edge (a face clipped by the
 * image border), the missing pixels are never read: the Poisson solver puts
 * a zero-flux (Neumann) condition there, the pyramids replicate the edge.
 */
#ifndef FS_COMPOSE_BLEND_H
#define FS_COMPOSE_BLEND_H

#include <stddef.h>
#include <stdint.h>

#include "compose/compose.h"
#include "internal.h"

/* Feathered alpha blend of 8-bit RGB (through the compose family's alpha_u8):
 * dst = dst + alpha (src - dst), alpha a w*h float plane with stride astride. */
fs_status fs_blend_alpha_u8(const fs_exec *ex, const fs_compose_ops *ops, const uint8_t *src,
                            ptrdiff_t sstride, uint8_t *dst, ptrdiff_t dstride,
                            const float *alpha, ptrdiff_t astride, int w, int h);

/* Float alpha blend: out = (1 - a) tgt + a src; exactly tgt at a = 0 and
 * exactly src at a = 1. out may alias tgt. */
fs_status fs_blend_alpha_f32(fs_error_buf *err, const float *src, ptrdiff_t sstride,
                             const float *tgt, ptrdiff_t tstride, const float *alpha, int w,
                             int h, float *out, ptrdiff_t ostride);

/* Pyramid depth chosen from the window: the coarsest level stays >= 8
 * pixels on its short side; 1..8. */
int fs_blend_multiband_levels(int w, int h);

/*
 * Multi-band blend (Burt & Adelson 1983): Laplacian pyramids of src and tgt
 * blended level by level under the Gaussian pyramid of alpha (w*h, stride
 * w), collapsed, then cross-faded with tgt by alpha (the coarse bands
 * reach past the mask; the cross-fade returns to the target at its edge).
 * Computed as tgt plus the collapsed, alpha-weighted pyramid of src - tgt
 * (the same blend, one pyramid instead of two; float rounding apart).
 * levels <= 0 picks fs_blend_multiband_levels(). tgt, bit-identical, where
 * alpha <= 0. out may alias tgt.
 */
fs_status fs_blend_multiband_f32(fs_error_buf *err, const float *src, ptrdiff_t sstride,
                                 const float *tgt, ptrdiff_t tstride, const float *alpha, int w,
                                 int h, int levels, float *out, ptrdiff_t ostride);

typedef struct fs_poisson_opts {
    int max_cycles;   /* multigrid V-cycles at most (0: 8) */
    double tolerance; /* stop when max |residual| <= tolerance (value units; 0: run max_cycles) */
    int rim;          /* 0..16: the solution is cross-faded into the target over the
                       * `rim` pixels inside the domain edge (4-neighbour distance d,
                       * weight d / (rim + 1)); 0 keeps the pure Poisson solution */
    int band;         /* 0: V-cycles on the full grid. 1..16: the two-level solve: the
                       * correction to the source, harmonic inside D and tied to
                       * tgt - src along D's edge, is solved on the half-resolution
                       * grid (the cells holding edge pixels fixed to their mean
                       * tgt - src; started from the same problem solved one level
                       * further down; max_cycles V-cycles in all, tolerance
                       * unused), brought up bilinearly, and only the pixels within
                       * `band` (4-neighbour distance) of D's edge are smoothed on
                       * the full grid (band + 2 sweeps). Away from the edge the
                       * correction is smooth, so on face windows this lands closer
                       * to the converged solve than as many full V-cycles do, in
                       * about a third of their time */
} fs_poisson_opts;

typedef struct fs_poisson_info {
    int cycles;           /* V-cycles run */
    double max_residual;  /* max |b - A f| over the domain at the end */
    int unknowns;         /* pixels solved for */
} fs_poisson_info;

/*
 * Gradient-domain blend (Perez et al., "Poisson Image Editing", 2003): over
 * the domain D = {mask != 0}, solves the discrete Poisson equation
 *     sum_{q in N(p)} (f_p - f_q) = sum_{q in N(p)} g_pq,
 *     g_pq = s_p - s_q for q in D,  tgt_p - tgt_q for q not in D
 * (N(p): the 4-neighbours inside the window; the edges that cross the
 * boundary keep the target's own difference, so the seam has the target's
 * texture gradient), with f_q = tgt_q for q not in D (Dirichlet), by
 * multigrid V-cycles (red-black Gauss-Seidel smoothing,
 * bilinear prolongation, its transpose as restriction), or by the
 * two-level solve (opts->band > 0; see fs_poisson_opts). Outside D out =
 * tgt, bit-identical. A connected part of D with no pixel of the complement
 * around it (the mask covers the whole window) has no boundary data: f = s
 * there. opts and info may be NULL. out may alias tgt.
 */
fs_status fs_blend_poisson_f32(fs_error_buf *err, const float *src, ptrdiff_t sstride,
                               const float *tgt, ptrdiff_t tstride, const uint8_t *mask,
                               ptrdiff_t mstride, int w, int h, const fs_poisson_opts *opts,
                               float *out, ptrdiff_t ostride, fs_poisson_info *info);

/* 8-bit wrappers: dst (the target window, in place) is rewritten only where
 * the mask (Poisson) or alpha (multi-band) is non-zero, rounded and clamped. */
fs_status fs_blend_poisson_u8(const fs_exec *ex, const uint8_t *src, ptrdiff_t sstride,
                              uint8_t *dst, ptrdiff_t dstride, const uint8_t *mask,
                              ptrdiff_t mstride, int w, int h, const fs_poisson_opts *opts,
                              fs_poisson_info *info);
fs_status fs_blend_multiband_u8(const fs_exec *ex, const uint8_t *src, ptrdiff_t sstride,
                                uint8_t *dst, ptrdiff_t dstride, const float *alpha, int w,
                                int h, int levels);

#endif /* FS_COMPOSE_BLEND_H */
