/*
 * The operations table: every per-stage operation the pipeline runs, as
 * function pointers. fs_ops_init_reference() fills every entry with the
 * plain-C reference (lib/ops/sample_ref.c, lib/nn/ops_ref.c); fs_ops_init_fast()
 * overrides entries with the fast CPU path; the CUDA module overrides entries
 * with its kernels. Tests compare each fast entry with the reference.
 */
#ifndef FS_OPS_H
#define FS_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "faceswap/common.h"
#include "nn/kernel.h"
#include "render/raster.h"

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

struct fs_error_buf;
struct fs_detail_match;
struct fs_poisson_opts;
struct fs_poisson_info;
struct fs_swap_lookup;
struct fs_swap_lookup_out;

typedef struct fs_ops {
    /* Neural-network kernels, indexed by fs_nn_op_type. */
    fs_nn_kernel nn[FS_NN_OP_COUNT];

    /* Sample an 8-bit image (any fs_pixel_format; gray replicated, alpha
     * ignored; BGR reordered to RGB) into dst[out_h][out_w][3]. */
    void (*sample_u8)(const uint8_t *src, int width, int height, int stride, int format,
                      const fs_sample_desc *d, float *dst);
    /* Sample a float HWC 3-channel tensor into dst[out_h][out_w][3]. */
    void (*sample_f32)(const float *src, int width, int height, const fs_sample_desc *d,
                       float *dst);
    /* Rasterise triangles into a window (lib/render/raster.h). */
    fs_raster_fn raster_triangles;
    /* Compositing (lib/compose/filter.h, engineer blend). Separable filter
     * of one float plane (w*h, stride w), zero beyond the edges: tmp holds the
     * row pass, dst = column pass of k[0..2r]. */
    void (*compose_blur)(const float *src, int w, int h, const float *k, int r, float *tmp,
                         float *dst);
    /* 8-bit RGB alpha blend, dst = dst + alpha (src - dst) rounded; alpha in
     * [0, 1] (clamped); where alpha <= 0 dst is left bit-identical. */
    void (*compose_alpha_u8)(const uint8_t *src, ptrdiff_t sstride, uint8_t *dst,
                             ptrdiff_t dstride, const float *alpha, ptrdiff_t astride, int w,
                             int h);
    /* The swap's compositing stages on a face window, whole (so that a
     * backend can take a stage, not only its inner loops): the mask's
     * erosion and feather (lib/compose/mask.h), colour matching, shading and
     * detail matching (lib/compose/colour.h), the multi-band and Poisson
     * blends (lib/compose/blend.h); same contracts as those functions, which
     * are the reference entries. */
    fs_status (*mask_erode)(struct fs_error_buf *err, const uint8_t *mask, int w, int h,
                            ptrdiff_t stride, double radius, int border_is_background,
                            uint8_t *out, ptrdiff_t out_stride);
    fs_status (*mask_feather)(struct fs_error_buf *err, const uint8_t *mask, int w, int h,
                              ptrdiff_t stride, double feather, int border_is_background,
                              float *alpha, ptrdiff_t alpha_stride);
    fs_status (*colour_match)(struct fs_error_buf *err, float *render, ptrdiff_t rstride,
                              const float *target, ptrdiff_t tstride, const float *mask, int w,
                              int h);
    fs_status (*colour_shading)(struct fs_error_buf *err, const struct fs_ops *ops, float *render,
                                ptrdiff_t rstride, const float *target, ptrdiff_t tstride,
                                const float *mask, int w, int h, double sigma, double max_gain);
    fs_status (*colour_detail)(struct fs_error_buf *err, const struct fs_ops *ops, float *render,
                               ptrdiff_t rstride, const float *target, ptrdiff_t tstride,
                               const float *mask, int w, int h, uint64_t seed,
                               struct fs_detail_match *out);
    fs_status (*blend_multiband_u8)(struct fs_error_buf *err, const uint8_t *src,
                                    ptrdiff_t sstride, uint8_t *dst, ptrdiff_t dstride,
                                    const float *alpha, int w, int h, int levels);
    fs_status (*blend_poisson_u8)(struct fs_error_buf *err, const uint8_t *src, ptrdiff_t sstride,
                                  uint8_t *dst, ptrdiff_t dstride, const uint8_t *mask,
                                  ptrdiff_t mstride, int w, int h,
                                  const struct fs_poisson_opts *opts,
                                  struct fs_poisson_info *info);

    /* The swap's per-pixel texture stage (lib/swap/lookup.h): atlas lookup,
     * the target's openings, the skin mask and its hair guard; and after the
     * colour stages, the openings mixed back in and the render made 8-bit. */
    fs_status (*swap_lookup)(struct fs_error_buf *err, const struct fs_swap_lookup *d,
                             struct fs_swap_lookup_out *out);
    fs_status (*swap_finish_u8)(struct fs_error_buf *err, float *render, const float *warp,
                                const float *alpha_in, const uint8_t *eroded,
                                const uint8_t *image, ptrdiff_t image_stride, int w, int h,
                                uint8_t *out);

    /* The swap's colour match to statistics measured once per target
     * (fs_colour_match_lab_to's contract, lib/compose/colour.h). */
    fs_status (*colour_match_to)(struct fs_error_buf *err, float *render, ptrdiff_t rstride,
                                 const float *mask, int w, int h, const double to_mean[3],
                                 const double to_sd[3]);
} fs_ops;

void fs_ops_init_reference(fs_ops *ops);
/* Overrides entries with the fast CPU path where the machine supports it. */
void fs_ops_init_fast(fs_ops *ops);

#endif /* FS_OPS_H */
