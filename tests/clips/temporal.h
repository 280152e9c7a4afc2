/*
 * Test clips with known motion: the truth file make_clip writes, and the
 * temporal measures the video tests assert on (jitter, error against the
 * truth, steadiness in pauses, equality outside a mask). Test-side code,
 * not part of the library; see tests/clips/README.md.
 *
 * Coordinates are the library's "edge" coordinates (pixel k spans [k, k+1]),
 * so a truth matrix maps landmarks of the still photo straight onto the
 * canvas: x' = m0 x + m1 y + m2, y' = m3 x + m4 y + m5.
 */
#ifndef FS_CLIPS_TEMPORAL_H
#define FS_CLIPS_TEMPORAL_H

#include <stddef.h>
#include <stdint.h>

#include "faceswap/faceswap.h"

#define FS_CLIP_TRUTH_MAGIC "# make_clip truth v1"
#define FS_CLIP_MAX_PHOTOS 8
#define FS_CLIP_MAX_FRAMES 1000000

/* MediaPipe mesh indices of the outer eye corners (subject's right, left). */
#define FS_CLIP_EYE_RIGHT_OUTER 33
#define FS_CLIP_EYE_LEFT_OUTER 263

/* One frame of the truth: which photo it shows, in which shot (a cut starts
 * a new shot), and the map from photo pixels to canvas pixels. */
typedef struct fs_clip_frame {
    int photo;   /* 0-based index into fs_clip_truth.photos */
    int shot;    /* 0-based, increases by one at each cut */
    double m[6]; /* x' = m0 x + m1 y + m2, y' = m3 x + m4 y + m5 */
} fs_clip_frame;

typedef struct fs_clip_truth {
    int width, height;   /* canvas pixels */
    int fps_num, fps_den;
    int frame_count;
    int photo_count;
    char photos[FS_CLIP_MAX_PHOTOS][1024]; /* paths as make_clip was given them */
    fs_clip_frame *frames;                 /* frame_count entries, frame i at index i */
} fs_clip_truth;

/* Writes @p t as text (the format is in tests/clips/README.md). Returns 0,
 * or -1 with a message in @p err. */
int fs_clip_truth_write(const fs_clip_truth *t, const char *path, char *err, size_t err_size);

/* Reads a truth file; every line is checked (frame indices in order, photo
 * index in range, shots non-decreasing, finite invertible matrices). Returns
 * 0 and fills @p out (release with fs_clip_truth_free), or -1 with a message
 * in @p err and @p out untouched. */
int fs_clip_truth_read(const char *path, fs_clip_truth *out, char *err, size_t err_size);

/* Releases the frames and zeroes @p t; accepts NULL and zeroed truths. */
void fs_clip_truth_free(fs_clip_truth *t);

/* Landmarks of a run of frames of one track: frame f's point k at
 * xy[(f * points + k) * 2 + 0/1]; valid[f] is 0 where the track has no
 * landmarks (missed, not yet found). */
typedef struct fs_clip_series {
    int frames;
    int points;
    float *xy;
    uint8_t *valid;
} fs_clip_series;

/* Allocates a zeroed series (all frames invalid). Returns 0 or -1. */
int fs_clip_series_alloc(fs_clip_series *s, int frames, int points);
void fs_clip_series_free(fs_clip_series *s);

/* Stores the first s->points landmarks of @p lm as frame @p f, marked valid. */
void fs_clip_series_set(fs_clip_series *s, int f, const fs_face_landmarks *lm);

/* The true landmarks of every frame: @p photo_landmarks[p] are the
 * landmarks fitted once on photo p (fs_detector_run + fs_fitter_run on
 * the still), each frame's matrix applied to its photo's first
 * @p points of them (468 for the mesh, 478 with the irises). */
int fs_clip_truth_series(const fs_clip_truth *t, const fs_face_landmarks *photo_landmarks,
                         int points, fs_clip_series *out);

/* What the jitter is taken of. */
typedef enum fs_clip_jitter_mode {
    /* The second difference of the landmarks themselves: includes the true
     * motion's acceleration, so it is meaningful in pauses and in slow
     * motion only. */
    FS_CLIP_JITTER_RAW = 0,
    /* The second difference of (landmarks - truth): the true motion taken
     * out, what a smoother removes anywhere on the path. */
    FS_CLIP_JITTER_RESIDUAL = 1
} fs_clip_jitter_mode;

typedef struct fs_clip_stat {
    double value; /* the measure; 0 when samples is 0 */
    long samples; /* frames (triples for jitter) that counted */
} fs_clip_stat;

/* Jitter over frames [first, first + count): RMS over points and frames of
 * |p[i+1] - 2 p[i] + p[i-1]| divided by the true eye distance of frame i
 * (outer corners 33 and 263), only where all three frames are valid and in
 * the same shot. @p truth supplies the shots and the eye distance (and the
 * residual in FS_CLIP_JITTER_RESIDUAL). @p fit and @p truth must have the
 * same frames and points (points >= 264). */
fs_clip_stat fs_clip_jitter(const fs_clip_truth *t, const fs_clip_series *truth,
                            const fs_clip_series *fit, int first, int count,
                            fs_clip_jitter_mode mode);

/* Mean distance of the fit to the truth over valid frames of [first, first
 * + count) and their points, each frame's distances divided by its face
 * size: the larger side of the bounding box of the truth's first 468
 * points. @p max_error (may be NULL) gets the largest per-frame mean. */
fs_clip_stat fs_clip_error(const fs_clip_series *truth, const fs_clip_series *fit, int first,
                           int count, double *max_error);

/* Mean |b - a| per pixel and channel over the pixels where @p mask is
 * non-zero (RGB8 frames of one size; @p mask GRAY8 of that size, or NULL
 * for the whole frame). Returns -1 when the images do not match or the
 * mask is empty. */
double fs_clip_frame_change(const fs_image *a, const fs_image *b, const fs_image *mask);

/* Steadiness of a sequence: the mean over i in [1, count) of
 * fs_clip_frame_change(frames[i - 1], frames[i], mask), the mask of frame i
 * (masks[i]; or masks[0] for all when @p mask_count is 1; NULL for the whole
 * frame). Compare the template's own figure with the output's over the
 * same frames and masks. Returns -1 when no pair counted. */
double fs_clip_steadiness(const fs_image *frames, int count, const fs_image *masks,
                          int mask_count);

/* Number of pixels where @p mask is zero (everywhere when NULL) and some
 * channel of @p a and @p b differs by more than @p tolerance; @p max_diff
 * (may be NULL) gets the largest channel difference there. -1 when the
 * images do not match. */
long fs_clip_count_outside(const fs_image *a, const fs_image *b, const fs_image *mask,
                           int tolerance, int *max_diff);

/* Fills a GRAY8 mask (255 inside) with the convex hull of @p n points of
 * @p xy grown by @p grow pixels; zero elsewhere. The mask's size and stride
 * are the caller's; returns -1 on bad arguments. */
int fs_clip_mask_hull(fs_image *mask, const float *xy, int n, double grow);

#endif
