/*
 * How good one swap is, by the measures of issue 3 item 4, in one place for
 * tests/test_swap.c and benchmarks/quality_swap.c:
 *   - the detector still finds the face on the result (score ratio),
 *   - landmarks fitted again from the target's detection stay put (pose and
 *     expression kept), as a fraction of the target's face diagonal,
 *   - the identity moves to the source: faceres cosine(source, result) minus
 *     cosine(source, target), the result cropped with the target's landmarks
 *     so that only the pixels differ,
 *   - no seam: gradient across the blend mask's border vs the target's own,
 *   - no holes: the face oval's pixels the mesh covers, and covered pixels
 *     that got atlas colour,
 *   - detail: high-pass energy of the result over the target's, inside the
 *     blend's full-weight region (1: as sharp and grainy as the target; a
 *     sharp source on a soft target reads well above 1).
 * Internal; not part of the public API.
 */
#ifndef FS_SWAP_QUALITY_H
#define FS_SWAP_QUALITY_H

#include "internal.h"
#include "embed/embed.h"
#include "swap/swap.h"

/* The "plain texture swap", the peer the library is measured
 * against: unwrap, render, CIELAB mean/deviation colour, feathered alpha
 * (0.05 of the face size) over the whole mesh (eyes, mouth interior and
 * forehead included), no erosion, shape transfer, skin guard or detail
 * matching. */
void fs_swap_params_plain(fs_swap_params *p);

typedef struct fs_swap_quality {
    double target_score, result_score; /* detector scores; result 0 when lost */
    double score_ratio;                /* result_score / target_score */
    double box_iou;                    /* result's matching box vs the target's */
    double lm_mean, lm_max;            /* re-fitted landmark drift / face diagonal */
    double cos_st, cos_sr, gain;       /* faceres cosines and gain (0 without embedder) */
    double seam_ratio;                 /* seam gradient, result / target */
    double covered_frac;               /* face oval pixels the mesh covers */
    double textured_frac;              /* covered pixels with atlas colour */
    double detail_ratio;               /* high-pass energy, result / target */
} fs_swap_quality;

/*
 * Measures the swap of the face (@p tbox, @p tlm) of @p target into
 * @p result. @p info comes from fs_swap_face_rgb8 with keep_debug = 1.
 * @p emb may be NULL (no identity figures); then @p source and @p slm are
 * unused. All images host RGB8; @p ops runs the high-pass filter. FS_ERR_INVALID_ARGUMENT, FS_ERR_OUT_OF_MEMORY
 * or the status of a detector / fitter / embedder run.
 */
/* Fraction of the face oval's pixels (MediaPipe's silhouette ring of @p lm,
 * eyes and mouth included) inside the window of @p info that its mesh mask
 * covers; 0 when the oval holds no window pixel. */
double fs_swap_oval_coverage(const fs_face_landmarks *lm, const fs_swap_info *info);

fs_status fs_swap_quality_measure(const struct fs_engine *ops, fs_detector *det, fs_fitter *fit, fs_embedder *emb,
                                  const fs_image *source, const fs_face_landmarks *slm,
                                  const fs_image *target, const fs_face_box *tbox,
                                  const fs_face_landmarks *tlm, const fs_image *result,
                                  const fs_swap_info *info, fs_swap_quality *q,
                                  fs_error_buf *err);

/*
 * Self-swap fidelity (issue 10, item 2) and the light leak's measures
 * (benchmarks/light_leak.c):
 * - the face pixels of a swap: its blend weight (@p info, from a swap with
 *   keep_debug = 1) at least 0.5, as a 0/1 mask the size of @p img, *n of
 *   them; NULL out of memory;
 * - the mean absolute difference per channel, 8-bit levels, of two RGB8
 *   images of one size over such a mask (0 for an empty mask);
 * - SSIM of @p a against @p b (RGB8, one size) per channel, Gaussian window
 *   of sigma 1.5, averaged over the mask's pixels (which lie in the window
 *   of @p info); -1 out of memory or for an empty mask.
 */
uint8_t *fs_swap_face_pixels(const fs_image *img, const fs_swap_info *info, long *n);
void fs_swap_mask_mae(const fs_image *a, const fs_image *b, const uint8_t *m, double out[3]);
double fs_swap_mask_ssim(const fs_image *a, const fs_image *b, const uint8_t *m,
                         const fs_swap_info *info);

#endif /* FS_SWAP_QUALITY_H */
