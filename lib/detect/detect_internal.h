/*
 * Internal pieces of the detector (lib/detect) that the fitter (lib/fit) and
 * the tests share: checked model loading, image-view validation, JS-exact
 * rounding, and the BlazeFace post-processing split into pure functions so
 * that tests can feed them the reference's raw tensors.
 */
#ifndef FS_DETECT_INTERNAL_H
#define FS_DETECT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "nn/nn.h"

/* ---------------------------------------------------------------- geometry */

/* JavaScript's Math.round: nearest integer, halves towards +infinity. */
double fs_js_round(double x);

/* ---------------------------------------------------------------- BlazeFace */

#define FS_DET_SIZE 256    /* square input side */
#define FS_DET_ANCHORS 896 /* 16x16 x 2 (stride 16) then 8x8 x 6 (stride 32) */
#define FS_DET_COLS 17     /* logit, box dx dy w h, 6 keypoints x dx dy */

/* Anchor centres in detector pixels, in the model's row order: anchors[2 * i + {0, 1}]. */
void fs_det_anchors(double *anchors);

/*
 * Gathers the model's four outputs into rows[896][17] as the reference
 * does: stride-16 scores and regressors first, then stride-32.
 */
void fs_det_gather(const float *score16, const float *reg16, const float *score32,
                   const float *reg32, float *rows);

/* Boxes boxes[4 * i + {0..3}] = x1, y1, x2, y2 in detector pixels and sigmoid scores of every row. */
void fs_det_decode(const float *rows, const double *anchors, double *boxes, double *scores);

/* Intersection over union of two [x1, y1, x2, y2] boxes, as tfjs computes it. */
double fs_det_iou(const double a[4], const double b[4]);

/*
 * Greedy non-maximum suppression with tfjs semantics: candidates with
 * score > score_thr, by descending score (ties: lower index first); a
 * candidate is dropped when its IoU with a kept box is > iou_thr; at most
 * max_out kept. @p order is scratch of n ints. Returns the number kept,
 * their indices in @p selected (best first).
 */
int fs_det_nms(const double *boxes, const double *scores, int n, int max_out,
               double iou_thr, double score_thr, int *order, int *selected);

/*
 * Maps from detector pixels to image pixels: image = detector * scale + offset
 * (per axis).
 */
typedef struct fs_det_map {
    double scale_x, scale_y, offset_x, offset_y;
} fs_det_map;

/* Fills one result from row @p index. */
void fs_det_face(const float *rows, const double *anchors, const double *boxes,
                 const double *scores, int index, const fs_det_map *map, fs_face_box *out);

/*
 * The last run's tensors, for locating a disagreement with the reference:
 * "detector_input" [256][256][3] and "detector_output_896x17" (the gathered
 * rows). NULL for an unknown name.
 */
const float *fs_detector_tensor(const fs_detector *det, const char *name, size_t *count);

#endif /* FS_DETECT_INTERNAL_H */
