/*
 * fs_scenecut: tells a cut (the video switches to another shot) from the
 * luma plane of each frame, in order.
 *
 * Each frame is reduced to a 32x32 thumbnail of block means and a 64-bin
 * histogram. Between consecutive frames it measures
 *  - the structure change: 1 - the best normalised cross-correlation of
 *    the two thumbnails over shifts of up to +-3 thumbnail pixels (about
 *    10 % of the frame), so a fast pan (the content moves) and a fade or
 *    a light change (brightness and contrast change) read as small, and a
 *    face moving changes only its share of the frame;
 *  - the histogram change: half the L1 distance of the normalised
 *    histograms, 0..1, blind to motion.
 * A cut is a frame whose structure change is above the threshold and
 * ratio times its recent average (an exponential average over about ten
 * frames, cuts left out), with either the histogram change above its
 * threshold and ratio times its average, or a structure change above
 * strong_threshold (two shots of one light and palette). No two cuts come
 * closer than min_gap frames, so a flash or a fade gives one cut at most.
 * A thumbnail with next to no contrast (a black or flat frame) has no
 * structure: its change to another flat frame is their mean difference,
 * to a textured frame 1.
 * The first frame, and the first after a reset, is not a cut; a change of
 * frame size is.
 *
 * Threading: one detector per video; not for two threads at once.
 */
#ifndef FS_TRACK_SCENECUT_H
#define FS_TRACK_SCENECUT_H

#include <stdint.h>

#include "internal.h"

typedef struct fs_scenecut fs_scenecut;

typedef struct fs_scenecut_params {
    double threshold;        /* 0..2 (0.35): structure change that may be a cut */
    double strong_threshold; /* 0..2 (0.7): structure change that is a cut on its own */
    double hist_threshold;   /* 0..1 (0.15): histogram change that may be a cut */
    double ratio;            /* 1..1000 (3): times the recent average, for both */
    int min_gap;             /* 0..100000 frames (5) between two cuts */
} fs_scenecut_params;

void fs_scenecut_params_default(fs_scenecut_params *p);

/* @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_OUT_OF_MEMORY; @p out
 * untouched on failure. */
fs_status fs_scenecut_create(const fs_scenecut_params *p, fs_scenecut **out, fs_error_buf *err);

/* Accepts NULL. */
void fs_scenecut_destroy(fs_scenecut *sc);

/* Forgets the frames seen (the next one is a first frame). */
void fs_scenecut_reset(fs_scenecut *sc);

/*
 * Takes the next frame's luma (8 bits, @p stride bytes per row) and says
 * whether it starts a new shot. @p structure and @p histogram (may be NULL)
 * receive the two changes from the previous frame (0 for a first frame).
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT (NULL, width or height outside
 *         1..65536, stride < width); *is_cut untouched on failure.
 */
fs_status fs_scenecut_push(fs_scenecut *sc, const uint8_t *luma, int width, int height,
                           int stride, int *is_cut, double *structure, double *histogram);

/* Detail of the last error, "" when none. */
const char *fs_scenecut_last_error(const fs_scenecut *sc);

#endif /* FS_TRACK_SCENECUT_H */
